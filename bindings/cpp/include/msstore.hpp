// msstore.hpp: header-only C++17 wrapper over the msstore C ABI (msstore.h).
//
// Built for Unreal modules and C++ services alike: no exceptions, no RTTI (compiles warning-free
// with -fno-exceptions -fno-rtti -Wall -Wextra -Werror on g++ and clang++). Every fallible call
// returns a Result<T> carrying either the value or an Error (code, HTTP status, service codes,
// MS-CV, Retry-After, message). Every native handle has a move-only RAII owner.
//
// Completion: each network call returns an Operation<T> (future-like: wait/status/take/get,
// cancel) and optionally takes a callback Callback<T> = std::function<void(Result<T>)>, which
// runs exactly once: on the thread calling Client::poll() (QUEUED, for game threads), on a
// library thread (IMMEDIATE, for services) or on the calling thread before the call returns
// (BLOCKING). Callbacks must not throw.
//
// Names deliberately avoid identifiers that engines define as macros (check, verify, ensure,
// min, max) so the header can be included from an Unreal module.
#ifndef MSSTORE_HPP
#define MSSTORE_HPP

#include "msstore.h"

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <new>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace msstore {

// ---------------------------------------------------------------------------------------------
// Result codes
// ---------------------------------------------------------------------------------------------

/// The C result codes as a scoped enum. `msstore_result_description` says what to do for each.
enum class Code : int32_t {
  Ok = MSSTORE_OK,
  InvalidArgument = MSSTORE_E_INVALID_ARGUMENT,
  NullPointer = MSSTORE_E_NULL_POINTER,
  InvalidUtf8 = MSSTORE_E_INVALID_UTF8,
  TooLong = MSSTORE_E_TOO_LONG,
  InvalidHandle = MSSTORE_E_INVALID_HANDLE,
  BufferTooSmall = MSSTORE_E_BUFFER_TOO_SMALL,
  Pending = MSSTORE_E_PENDING,
  NoResult = MSSTORE_E_NO_RESULT,
  BorrowedHandle = MSSTORE_E_BORROWED_HANDLE,
  Configuration = MSSTORE_E_CONFIGURATION,
  InvalidKey = MSSTORE_E_INVALID_KEY,
  EntraAuth = MSSTORE_E_ENTRA_AUTH,
  Unauthorized = MSSTORE_E_UNAUTHORIZED,
  KeyMustBeReminted = MSSTORE_E_KEY_MUST_BE_REMINTED,
  ClientIdMismatch = MSSTORE_E_CLIENT_ID_MISMATCH,
  MissingServiceToken = MSSTORE_E_MISSING_SERVICE_TOKEN,
  Throttled = MSSTORE_E_THROTTLED,
  Network = MSSTORE_E_NETWORK,
  Timeout = MSSTORE_E_TIMEOUT,
  NotFound = MSSTORE_E_NOT_FOUND,
  Service = MSSTORE_E_SERVICE,
  ConsumeOutcomeUnknown = MSSTORE_E_CONSUME_OUTCOME_UNKNOWN,
  MalformedResponse = MSSTORE_E_MALFORMED_RESPONSE,
  Canceled = MSSTORE_E_CANCELED,
  ShuttingDown = MSSTORE_E_SHUTTING_DOWN,
  Forked = MSSTORE_E_FORKED,  // a handle made before fork(), used in the child: make a new client
  PopReceiptMismatch = MSSTORE_E_POP_RECEIPT_MISMATCH,  // clawback delete: receipt superseded
  MessageNotFound = MSSTORE_E_MESSAGE_NOT_FOUND,        // clawback delete: already gone
  InvalidClawbackEvent = MSSTORE_E_INVALID_CLAWBACK_EVENT,
  Storage = MSSTORE_E_STORAGE,  // the ledger's database failed; what was recorded is kept
  BackendNotCompiled = MSSTORE_E_BACKEND_NOT_COMPILED,  // ledger backend not in this build
  Panic = MSSTORE_E_PANIC,
  Internal = MSSTORE_E_INTERNAL,
};

/// "MSSTORE_E_THROTTLED"; "MSSTORE_UNKNOWN" for a value that is not a code. Static string.
inline const char *code_name(Code c) noexcept { return msstore_result_name(static_cast<int32_t>(c)); }

/// One line saying what the caller should do. Static string.
inline const char *code_description(Code c) noexcept {
  return msstore_result_description(static_cast<int32_t>(c));
}

/// Worth retrying later with backoff (after `Error::retry_after` when it is set).
inline bool is_transient(Code c) noexcept {
  return c == Code::Throttled || c == Code::Network || c == Code::Timeout ||
         c == Code::MalformedResponse;
}

/// The library version ("MAJOR.MINOR.PATCH"); compare with MSSTORE_VERSION_STRING.
inline std::string_view version() noexcept { return msstore_version(); }

/// Live native objects in the process (a leak check for tests: 0 once everything is released).
inline std::size_t live_objects() noexcept { return msstore_live_objects(); }

// ---------------------------------------------------------------------------------------------
// Errors and results
// ---------------------------------------------------------------------------------------------

namespace detail {
inline std::string str(const char *p) { return p ? std::string(p) : std::string(); }

// The info struct of a handle (msstore_<handle>_get_info); all zero for a NULL or stale handle.
template <class V, class H>
V info(msstore_result (*get_info)(const H *, V *), const H *h) noexcept {
  V v{};
  v.struct_size = sizeof v;
  if (get_info(h, &v) != MSSTORE_OK) {
    v = V{};
    v.struct_size = sizeof v;
  }
  return v;
}

// The error kind the library reports for codes this wrapper (or a synchronous start) produces.
inline const char *kind_of(Code c) noexcept {
  switch (c) {
    case Code::Ok: return "";
    case Code::InvalidArgument:
    case Code::NullPointer:
    case Code::InvalidUtf8:
    case Code::TooLong: return "invalid_argument";
    case Code::InvalidKey: return "invalid_key";
    case Code::Configuration: return "configuration";
    case Code::EntraAuth: return "entra_auth";
    case Code::Unauthorized: return "unauthorized";
    case Code::KeyMustBeReminted: return "key_must_be_reminted";
    case Code::ClientIdMismatch: return "client_id_mismatch";
    case Code::MissingServiceToken: return "missing_service_token";
    case Code::Throttled: return "throttled";
    case Code::Network: return "network";
    case Code::Timeout: return "timeout";
    case Code::NotFound: return "not_found";
    case Code::Service: return "service";
    case Code::ConsumeOutcomeUnknown: return "consume_outcome_unknown";
    case Code::MalformedResponse: return "malformed_response";
    case Code::Canceled: return "canceled";
    case Code::ShuttingDown: return "shutting_down";
    case Code::PopReceiptMismatch: return "pop_receipt_mismatch";
    case Code::MessageNotFound: return "message_not_found";
    case Code::InvalidClawbackEvent: return "invalid_clawback_event";
    case Code::Storage: return "storage";
    case Code::BackendNotCompiled: return "backend_not_compiled";
    default: return "internal";
  }
}
}  // namespace detail

/// A failure, copied out of the native error object (so it outlives the operation). Never
/// contains a secret. `code == Code::Ok` only in the Error of a successful Result.
struct Error {
  Code code = Code::Ok;
  std::string kind;            // stable snake_case name ("throttled")
  std::string message;         // a sentence for logs
  uint16_t http_status = 0;    // 0 when no response arrived
  std::string service_code;    // ServiceError `code` or Entra's `error`; empty when absent
  std::string inner_code;      // e.g. "InconsistentClientId"
  std::string ms_cv;           // MS-CV of the failing exchange
  std::string correlation_id;  // MS-CorrelationId / Entra correlation id
  std::string tracking_id;     // after ConsumeOutcomeUnknown: the tracking / order / recurrence id to resend with
  std::optional<std::chrono::milliseconds> retry_after;  // when the service said how long
  std::string json;            // the whole error as JSON (empty for wrapper-made errors)

  /// An error made from a bare code (synchronous failures that carry no native object).
  static Error from_code(Code c, std::string message = std::string()) {
    Error e;
    e.code = c;
    e.kind = detail::kind_of(c);
    e.message = message.empty() ? std::string(code_description(c)) : std::move(message);
    return e;
  }

  /// Copies a native error (borrowed; not freed here). `fallback` is used when `e` is NULL.
  static Error from_native(const msstore_error *e, Code fallback) {
    if (e == nullptr) return from_code(fallback);
    Error out;
    msstore_error_info i{};
    i.struct_size = sizeof i;
    if (msstore_error_get_info(e, &i) != MSSTORE_OK) return from_code(fallback);
    out.code = static_cast<Code>(i.code);
    out.kind = detail::str(i.kind);
    out.message = detail::str(i.message);
    out.http_status = static_cast<uint16_t>(i.http_status);
    out.service_code = detail::str(i.service_code);
    out.inner_code = detail::str(i.inner_code);
    out.ms_cv = detail::str(i.ms_cv);
    out.correlation_id = detail::str(i.correlation_id);
    out.tracking_id = detail::str(i.tracking_id);
    const int64_t ra = i.retry_after_ms;
    if (ra >= 0) out.retry_after = std::chrono::milliseconds(ra);
    out.json = detail::str(msstore_error_json(e));
    return out;
  }

  bool ok() const noexcept { return code == Code::Ok; }
  const char *name() const noexcept { return code_name(code); }
};

/// A value or an Error (expected-style, no exceptions). `value()` of a failed Result is a
/// default-constructed T (never a crash); check `ok()` first.
template <class T>
class Result {
 public:
  Result(T value) : value_(std::move(value)) {}  // NOLINT: implicit by design
  Result(Error error) : error_(std::move(error)) {  // NOLINT: implicit by design
    if (error_.code == Code::Ok) error_ = Error::from_code(Code::Internal, "error without a code");
  }

  bool ok() const noexcept { return error_.code == Code::Ok; }
  explicit operator bool() const noexcept { return ok(); }
  Code code() const noexcept { return error_.code; }
  const Error &error() const noexcept { return error_; }

  T &value() & noexcept { return value_; }
  const T &value() const & noexcept { return value_; }
  T &&value() && noexcept { return std::move(value_); }
  T *operator->() noexcept { return &value_; }
  const T *operator->() const noexcept { return &value_; }
  T &operator*() & noexcept { return value_; }
  const T &operator*() const & noexcept { return value_; }

 private:
  T value_{};
  Error error_;
};

/// Success or an Error.
template <>
class Result<void> {
 public:
  Result() = default;
  Result(Error error) : error_(std::move(error)) {}  // NOLINT: implicit by design
  static Result from_code(Code c) { return c == Code::Ok ? Result() : Result(Error::from_code(c)); }

  bool ok() const noexcept { return error_.code == Code::Ok; }
  explicit operator bool() const noexcept { return ok(); }
  Code code() const noexcept { return error_.code; }
  const Error &error() const noexcept { return error_; }

 private:
  Error error_;
};

using Status = Result<void>;

// ---------------------------------------------------------------------------------------------
// Enums and typed views
// ---------------------------------------------------------------------------------------------

using Timestamp = std::chrono::system_clock::time_point;

enum class Audience : int32_t {
  Service = MSSTORE_AUDIENCE_SERVICE,
  CollectionsKeyCreate = MSSTORE_AUDIENCE_COLLECTIONS_KEY_CREATE,
  PurchaseKeyCreate = MSSTORE_AUDIENCE_PURCHASE_KEY_CREATE,
};

enum class CompletionMode : int32_t {
  Default = MSSTORE_COMPLETION_DEFAULT,
  Queued = MSSTORE_COMPLETION_QUEUED,
  Immediate = MSSTORE_COMPLETION_IMMEDIATE,
  Blocking = MSSTORE_COMPLETION_BLOCKING,
  /// On the library worker that completed the call: no thread hand-off; the callback must not
  /// block or wait (waits are refused inside it). See MSSTORE_COMPLETION_INLINE.
  Inline = MSSTORE_COMPLETION_INLINE,
};

enum class KeyKind : int32_t { Unknown = 0, Collections = MSSTORE_KEY_COLLECTIONS, Purchase = MSSTORE_KEY_PURCHASE };

enum class ChangeType : int32_t {
  Cancel = MSSTORE_CHANGE_CANCEL,
  Extend = MSSTORE_CHANGE_EXTEND,
  Refund = MSSTORE_CHANGE_REFUND,
  ToggleAutoRenew = MSSTORE_CHANGE_TOGGLE_AUTO_RENEW,
};

enum class LogLevel : int32_t {
  Error = MSSTORE_LOG_ERROR,
  Warn = MSSTORE_LOG_WARN,
  Info = MSSTORE_LOG_INFO,
  Debug = MSSTORE_LOG_DEBUG,
  Trace = MSSTORE_LOG_TRACE,
};

enum class ProductKind { Unknown, Game, Application, Durable, Consumable, UnmanagedConsumable, Pass };
enum class EntitlementStatus { Unknown, Active, Expired, Revoked, Banned, Suspended };
enum class AcquisitionType { Unknown, Single, Recurring, Conditional };
enum class RecurrenceState { Unknown, None, Active, Inactive, Canceled, InDunning, Failed, Revoked };

namespace detail {
inline bool iequals(std::string_view a, std::string_view b) noexcept {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    char x = a[i], y = b[i];
    if (x >= 'A' && x <= 'Z') x = static_cast<char>(x - 'A' + 'a');
    if (y >= 'A' && y <= 'Z') y = static_cast<char>(y - 'A' + 'a');
    if (x != y) return false;
  }
  return true;
}

inline std::optional<Timestamp> time_from_ms(int64_t unix_ms) {
  if (unix_ms == 0) return std::nullopt;
  return Timestamp(std::chrono::duration_cast<Timestamp::duration>(std::chrono::milliseconds(unix_ms)));
}
}  // namespace detail

inline ProductKind parse_product_kind(std::string_view s) noexcept {
  using detail::iequals;
  if (iequals(s, "Game")) return ProductKind::Game;
  if (iequals(s, "Application")) return ProductKind::Application;
  if (iequals(s, "Durable")) return ProductKind::Durable;
  if (iequals(s, "Consumable")) return ProductKind::Consumable;
  if (iequals(s, "UnmanagedConsumable")) return ProductKind::UnmanagedConsumable;
  if (iequals(s, "Pass")) return ProductKind::Pass;
  return ProductKind::Unknown;
}

inline EntitlementStatus parse_entitlement_status(std::string_view s) noexcept {
  using detail::iequals;
  if (iequals(s, "Active")) return EntitlementStatus::Active;
  if (iequals(s, "Expired")) return EntitlementStatus::Expired;
  if (iequals(s, "Revoked")) return EntitlementStatus::Revoked;
  if (iequals(s, "Banned")) return EntitlementStatus::Banned;
  if (iequals(s, "Suspended")) return EntitlementStatus::Suspended;
  return EntitlementStatus::Unknown;
}

inline AcquisitionType parse_acquisition_type(std::string_view s) noexcept {
  using detail::iequals;
  if (iequals(s, "Single")) return AcquisitionType::Single;
  if (iequals(s, "Recurring")) return AcquisitionType::Recurring;
  if (iequals(s, "Conditional")) return AcquisitionType::Conditional;
  return AcquisitionType::Unknown;
}

inline RecurrenceState parse_recurrence_state(std::string_view s) noexcept {
  using detail::iequals;
  if (iequals(s, "None")) return RecurrenceState::None;
  if (iequals(s, "Active")) return RecurrenceState::Active;
  if (iequals(s, "Inactive")) return RecurrenceState::Inactive;
  if (iequals(s, "Canceled") || iequals(s, "Cancelled")) return RecurrenceState::Canceled;
  if (iequals(s, "InDunning")) return RecurrenceState::InDunning;
  if (iequals(s, "Failed")) return RecurrenceState::Failed;
  if (iequals(s, "Revoked")) return RecurrenceState::Revoked;
  return RecurrenceState::Unknown;
}

/// Decoded claims of a Store ID key.
struct KeyInfo {
  KeyKind kind = KeyKind::Unknown;
  std::string audience;
  std::string client_id;    // Entra app the key was minted for
  std::string user_id;      // publisherUserId; empty when absent
  std::string refresh_uri;  // informational only: renewal never goes there
  Timestamp issued_at{};
  std::optional<Timestamp> not_before;
  Timestamp expires_at{};
  Timestamp renew_after{};  // min(iat + 14 days, exp - margin)
  bool is_expired = false;
  bool needs_renewal = false;
};

/// One entitlement. Raw strings are kept next to the parsed enums and times.
struct Entitlement {
  std::string id, product_id, sku_id;
  ProductKind product_kind = ProductKind::Unknown;
  std::string product_kind_name;
  EntitlementStatus status = EntitlementStatus::Unknown;
  std::string status_name;
  bool is_active = false;
  int64_t quantity = 0;
  AcquisitionType acquisition_type = AcquisitionType::Unknown;
  std::string acquired_date, start_date, end_date, modified_date;  // ISO 8601 as sent
  std::optional<Timestamp> start_time, end_time;
  std::string transaction_id;
  std::string recurrence_id;  // pass to Client::change_subscription; empty when absent
  std::string order_id;
  bool has_trial_data = false, is_trial = false, is_in_trial_period = false;
  std::optional<std::chrono::seconds> trial_time_remaining;

  static Entitlement from(const msstore_entitlement &e) {
    Entitlement o;
    o.id = detail::str(e.id);
    o.product_id = detail::str(e.product_id);
    o.sku_id = detail::str(e.sku_id);
    o.product_kind_name = detail::str(e.product_kind);
    o.product_kind = parse_product_kind(o.product_kind_name);
    o.status_name = detail::str(e.status);
    o.status = parse_entitlement_status(o.status_name);
    o.is_active = e.is_active != 0;
    o.quantity = e.quantity;
    o.acquisition_type = parse_acquisition_type(detail::str(e.acquisition_type));
    o.acquired_date = detail::str(e.acquired_date);
    o.start_date = detail::str(e.start_date);
    o.end_date = detail::str(e.end_date);
    o.modified_date = detail::str(e.modified_date);
    o.start_time = detail::time_from_ms(e.start_date_unix_ms);
    o.end_time = detail::time_from_ms(e.end_date_unix_ms);
    o.transaction_id = detail::str(e.transaction_id);
    o.recurrence_id = detail::str(e.recurrence_id);
    o.order_id = detail::str(e.order_id);
    o.has_trial_data = e.has_trial_data != 0;
    o.is_trial = e.is_trial != 0;
    o.is_in_trial_period = e.is_in_trial_period != 0;
    if (e.trial_seconds_remaining >= 0) o.trial_time_remaining = std::chrono::seconds(e.trial_seconds_remaining);
    return o;
  }
};

struct OrderTransaction {
  std::string order_id, order_line_item_id;
  int64_t quantity_consumed = 0;
};

/// What a consume did.
struct ConsumeInfo {
  std::string item_id, product_id, tracking_id;
  int64_t new_quantity = 0;  // remaining balance (0 for developer-managed consumables)
  std::vector<OrderTransaction> transactions;
};

struct OrderLineItem {
  std::string line_item_id, product_id, sku_id, availability_id, product_type;
  int64_t quantity = 0;
  std::string billing_state, fulfillment_state, title;
};

/// The order a free-product grant created.
struct OrderInfo {
  std::string order_id, order_state, created_time, currency_code, market;
  double total_amount = 0.0;
  std::vector<OrderLineItem> line_items;
};

/// One subscription (recurrence).
struct Subscription {
  std::string id;  // the recurrence id
  std::string product_id, sku_id;
  RecurrenceState state = RecurrenceState::Unknown;
  std::string state_name;
  bool auto_renew = false, is_trial = false;
  std::string beneficiary, start_date, expiration_date, expiration_date_with_grace, cancellation_date, market;
  std::optional<Timestamp> expires_at, expires_at_with_grace;

  static Subscription from(const msstore_subscription &s) {
    Subscription o;
    o.id = detail::str(s.id);
    o.product_id = detail::str(s.product_id);
    o.sku_id = detail::str(s.sku_id);
    o.state_name = detail::str(s.recurrence_state);
    o.state = parse_recurrence_state(o.state_name);
    o.auto_renew = s.auto_renew != 0;
    o.is_trial = s.is_trial != 0;
    o.beneficiary = detail::str(s.beneficiary);
    o.start_date = detail::str(s.start_time);
    o.expiration_date = detail::str(s.expiration_time);
    o.expiration_date_with_grace = detail::str(s.expiration_time_with_grace);
    o.cancellation_date = detail::str(s.cancellation_date);
    o.market = detail::str(s.market);
    o.expires_at = detail::time_from_ms(s.expiration_time_unix_ms);
    o.expires_at_with_grace = detail::time_from_ms(s.expiration_time_with_grace_unix_ms);
    return o;
  }
};

// ---------------------------------------------------------------------------------------------
// Refunds (clawback) and the consume ledger: enums and typed views
// ---------------------------------------------------------------------------------------------

/// State of a clawback v2 event. `Other` = a state this library does not know (see
/// ClawbackEvent::state_name).
enum class ClawbackEventState : int32_t {
  Other = MSSTORE_CLAWBACK_OTHER,
  Returned = MSSTORE_CLAWBACK_RETURNED,     // item removed by the Store: nothing to take back
  Revoked = MSSTORE_CLAWBACK_REVOKED,       // already consumed: take its in-game value back
  Refunded = MSSTORE_CLAWBACK_REFUNDED,     // the customer keeps the item: log only
  ChargebackReversal = MSSTORE_CLAWBACK_CHARGEBACK_REVERSAL,  // restore an earlier revocation
};

/// State of a clawback v1 order line.
enum class LineItemState { Unknown, Purchased, Revoked, Refunded };

inline LineItemState parse_line_item_state(std::string_view s) noexcept {
  using detail::iequals;
  if (iequals(s, "Purchased")) return LineItemState::Purchased;
  if (iequals(s, "Revoked")) return LineItemState::Revoked;
  if (iequals(s, "Refunded")) return LineItemState::Refunded;
  return LineItemState::Unknown;
}

/// The wire name of a line state ("" for Unknown).
inline const char *line_item_state_name(LineItemState s) noexcept {
  switch (s) {
    case LineItemState::Purchased: return "Purchased";
    case LineItemState::Revoked: return "Revoked";
    case LineItemState::Refunded: return "Refunded";
    default: return "";
  }
}

/// One order line of a clawback v1 query, with its order's fields.
struct ClawbackOrderLine {
  std::string order_id, short_order_id;
  std::string order_purchased_date, order_refunded_date;  // ISO 8601 as sent
  std::optional<Timestamp> refunded_at;
  std::string line_item_id;
  LineItemState line_item_state = LineItemState::Unknown;
  std::string line_item_state_name;
  std::string product_id, sku_id;
  int64_t quantity = 0;
  bool was_consumable_quantity_revoked = false;

  static ClawbackOrderLine from(const msstore_clawback_order_line &l) {
    ClawbackOrderLine o;
    o.order_id = detail::str(l.order_id);
    o.short_order_id = detail::str(l.short_order_id);
    o.order_purchased_date = detail::str(l.order_purchased_date);
    o.order_refunded_date = detail::str(l.order_refunded_date);
    o.refunded_at = detail::time_from_ms(l.order_refunded_date_unix_ms);
    o.line_item_id = detail::str(l.line_item_id);
    o.line_item_state_name = detail::str(l.line_item_state);
    o.line_item_state = parse_line_item_state(o.line_item_state_name);
    o.product_id = detail::str(l.product_id);
    o.sku_id = detail::str(l.sku_id);
    o.quantity = l.quantity;
    o.was_consumable_quantity_revoked = l.was_consumable_quantity_revoked != 0;
    return o;
  }
};

/// A decoded clawback v2 event.
struct ClawbackEvent {
  std::string id;      // the event id (idempotency key of Ledger::apply_clawback)
  std::string source;  // "/Purchase/Refund" or "/Purchase/Chargeback"
  ClawbackEventState state = ClawbackEventState::Other;
  std::string state_name;
  bool requires_revocation = false;  // true only for Revoked
  std::string order_id, line_item_id, product_id, product_type, sku_id, sandbox_id;
  std::string purchased_date, event_date;  // ISO 8601 as sent
  bool has_recurrence_data = false;
  std::string recurrence_id, refund_type;  // refund_type: "Full" or "Partial"
  int64_t duration_in_days = 0, consumed_duration_in_days = 0;
  std::string json;  // the decoded event JSON
};

/// One clawback queue message and (when its text decoded) its event.
struct ClawbackMessage {
  std::string message_id;
  std::string pop_receipt;  // pass to Client::delete_clawback; empty for peeked messages
  uint32_t dequeue_count = 0;
  std::string insertion_time, expiration_time, time_next_visible;
  std::string text;                    // MessageText as received (base64 of the event JSON)
  std::optional<ClawbackEvent> event;  // empty: not an event (see event_error); delete it
  std::string event_error;

  static ClawbackMessage from(const msstore_clawback_message &m) {
    ClawbackMessage o;
    o.message_id = detail::str(m.message_id);
    o.pop_receipt = detail::str(m.pop_receipt);
    o.dequeue_count = m.dequeue_count;
    o.insertion_time = detail::str(m.insertion_time);
    o.expiration_time = detail::str(m.expiration_time);
    o.time_next_visible = detail::str(m.time_next_visible);
    o.text = detail::str(m.text);
    o.event_error = detail::str(m.event_error);
    if (m.event_decoded == 0) return o;
    ClawbackEvent e;
    e.id = detail::str(m.event_id);
    e.source = detail::str(m.event_source);
    const int32_t st = m.event_state;
    e.state = (st >= MSSTORE_CLAWBACK_RETURNED && st <= MSSTORE_CLAWBACK_CHARGEBACK_REVERSAL)
                  ? static_cast<ClawbackEventState>(st)
                  : ClawbackEventState::Other;
    e.state_name = detail::str(m.event_state_name);
    e.requires_revocation = m.requires_revocation != 0;
    e.order_id = detail::str(m.order_id);
    e.line_item_id = detail::str(m.line_item_id);
    e.product_id = detail::str(m.product_id);
    e.product_type = detail::str(m.product_type);
    e.sku_id = detail::str(m.sku_id);
    e.sandbox_id = detail::str(m.sandbox_id);
    e.purchased_date = detail::str(m.purchased_date);
    e.event_date = detail::str(m.event_date);
    e.has_recurrence_data = m.has_recurrence_data != 0;
    e.recurrence_id = detail::str(m.recurrence_id);
    e.refund_type = detail::str(m.refund_type);
    e.duration_in_days = m.duration_in_days;
    e.consumed_duration_in_days = m.consumed_duration_in_days;
    e.json = detail::str(m.event_json);
    o.event = std::move(e);
    return o;
  }
};

/// State of a ledger entry. `Unknown` only for a value this header does not know.
enum class LedgerState : int32_t {
  Unknown = 0,
  Pending = MSSTORE_LEDGER_PENDING,      // outcome unknown: do not grant; reconcile resends it
  Applied = MSSTORE_LEDGER_APPLIED,      // grant the value, then Ledger::acknowledge
  Completed = MSSTORE_LEDGER_COMPLETED,  // granted and acknowledged. Final
  Failed = MSSTORE_LEDGER_FAILED,        // refused, nothing applied (last_error). Final
};

/// What a revocation asks the game to do.
enum class RevocationKind : int32_t {
  Unknown = 0,
  Revoke = MSSTORE_REVOCATION_REVOKE,    // take `quantity` of `product_id` from `player_ref`
  Restore = MSSTORE_REVOCATION_RESTORE,  // give it back (undoes revocation `reverses`)
};

/// The state of a clawback event handed to Ledger::apply_clawback.
enum class LedgerClawbackState : int32_t {
  Returned = MSSTORE_CLAWBACK_RETURNED,
  Revoked = MSSTORE_CLAWBACK_REVOKED,
  Refunded = MSSTORE_CLAWBACK_REFUNDED,
  ChargebackReversal = MSSTORE_CLAWBACK_CHARGEBACK_REVERSAL,
};

/// One consume recorded in the ledger.
struct LedgerEntry {
  std::string id;  // also the consume's tracking id
  std::string player_ref, product_id;
  uint32_t quantity = 0;  // 0 = developer-managed
  LedgerState state = LedgerState::Unknown;
  uint32_t attempts = 0;
  std::optional<int64_t> new_quantity;  // the Store's balance once applied
  std::vector<OrderTransaction> transactions;  // order lines drawn from
  std::string last_error;  // why it is pending or failed; empty when none
  Timestamp created_at{};
  // Applied, and this process was handed it before (an earlier consume with the same tracking
  // id, or a reconcile) without acknowledging it: whoever got it first grants it. Do NOT grant
  // it again. A restart hands it out again with this false.
  bool already_handed_out = false;
};

/// One revocation (or restore) the game must apply, then acknowledge.
struct Revocation {
  std::string id;
  RevocationKind kind = RevocationKind::Unknown;
  std::string player_ref, product_id;
  int64_t quantity = 0;
  std::string entry_id;  // the consume entry whose value is taken back
  std::string order_id, line_item_id, event_id;
  std::string reverses;  // for a restore: the revocation it undoes
  bool acknowledged = false;
  Timestamp created_at{};

  static Revocation from(const msstore_ledger_revocation &r) {
    Revocation o;
    o.id = detail::str(r.id);
    o.kind = (r.kind == MSSTORE_REVOCATION_REVOKE || r.kind == MSSTORE_REVOCATION_RESTORE)
                 ? static_cast<RevocationKind>(r.kind)
                 : RevocationKind::Unknown;
    o.player_ref = detail::str(r.player_ref);
    o.product_id = detail::str(r.product_id);
    o.quantity = r.quantity;
    o.entry_id = detail::str(r.entry_id);
    o.order_id = detail::str(r.order_id);
    o.line_item_id = detail::str(r.line_item_id);
    o.event_id = detail::str(r.event_id);
    o.reverses = detail::str(r.reverses);
    o.acknowledged = r.acknowledged != 0;
    o.created_at = detail::time_from_ms(r.created_unix_ms).value_or(Timestamp{});
    return o;
  }
};

// ---------------------------------------------------------------------------------------------
// RAII owners
// ---------------------------------------------------------------------------------------------

namespace detail {
/// Move-only owner of one native handle, freed with `Free`. Releasing twice is safe: after
/// reset() or a move the owner holds nothing, and freeing nothing is a no-op.
template <class H, msstore_result (*Free)(H *)>
class Owner {
 public:
  Owner() noexcept = default;
  explicit Owner(H *h) noexcept : h_(h) {}
  Owner(const Owner &) = delete;
  Owner &operator=(const Owner &) = delete;
  Owner(Owner &&o) noexcept : h_(std::exchange(o.h_, nullptr)) {}
  Owner &operator=(Owner &&o) noexcept {
    if (this != &o) {
      reset();
      h_ = std::exchange(o.h_, nullptr);
    }
    return *this;
  }
  ~Owner() { reset(); }

  /// Frees the handle now (no-op when empty). Returns the library's code.
  Code reset() noexcept {
    H *h = std::exchange(h_, nullptr);
    return h ? static_cast<Code>(Free(h)) : Code::Ok;
  }
  /// Gives up ownership: the caller frees the returned handle.
  H *release() noexcept { return std::exchange(h_, nullptr); }
  H *get() const noexcept { return h_; }
  explicit operator bool() const noexcept { return h_ != nullptr; }

 private:
  H *h_ = nullptr;
};
}  // namespace detail

/// An owned native error (rarely needed: Error copies everything out).
using ErrorHandle = detail::Owner<msstore_error, msstore_error_free>;

/// A service or key-create token. The value is a secret: never log it.
class Token : public detail::Owner<msstore_token, msstore_token_free> {
 public:
  using Native = msstore_token;
  using Owner::Owner;
  std::string_view value() const noexcept {
    const char *v = info().value;
    return v ? std::string_view(v) : std::string_view();
  }
  Audience audience() const noexcept { return static_cast<Audience>(info().audience); }
  Timestamp expires_at() const { return detail::time_from_ms(info().expires_at_unix_ms).value_or(Timestamp{}); }

 private:
  msstore_token_info info() const noexcept { return detail::info(msstore_token_get_info, get()); }
};

/// A decoded (or renewed) Store ID key. The value is a secret: never log it.
class Key : public detail::Owner<msstore_key, msstore_key_free> {
 public:
  using Native = msstore_key;
  using Owner::Owner;

  /// Decodes (does not verify) a key offline.
  static Result<Key> decode(std::string_view key);

  /// The key itself (for a renewed key: the new one; persist it).
  std::string_view value() const noexcept {
    const char *v = detail::info(msstore_key_get_info, get()).value;
    return v ? std::string_view(v) : std::string_view();
  }
  /// The claims as JSON with renewal advice (no secret).
  std::string json() const { return detail::str(msstore_key_json(get())); }
  Result<KeyInfo> info() const {
    msstore_key_info k{};
    k.struct_size = sizeof k;
    const Code c = static_cast<Code>(msstore_key_get_info(get(), &k));
    if (c != Code::Ok) return Error::from_code(c);
    KeyInfo o;
    o.kind = (k.kind == MSSTORE_KEY_COLLECTIONS || k.kind == MSSTORE_KEY_PURCHASE) ? static_cast<KeyKind>(k.kind) : KeyKind::Unknown;
    o.audience = detail::str(k.audience);
    o.client_id = detail::str(k.client_id);
    o.user_id = detail::str(k.user_id);
    o.refresh_uri = detail::str(k.refresh_uri);
    o.issued_at = detail::time_from_ms(k.issued_at_unix_ms).value_or(Timestamp{});
    o.not_before = detail::time_from_ms(k.not_before_unix_ms);
    o.expires_at = detail::time_from_ms(k.expires_at_unix_ms).value_or(Timestamp{});
    o.renew_after = detail::time_from_ms(k.renew_after_unix_ms).value_or(Timestamp{});
    o.is_expired = k.is_expired != 0;
    o.needs_renewal = k.needs_renewal != 0;
    return o;
  }
};

/// The entitlements of a query (all pages, or one page).
class Entitlements : public detail::Owner<msstore_entitlements, msstore_entitlements_free> {
 public:
  using Native = msstore_entitlements;
  using Owner::Owner;
  std::size_t size() const noexcept { return info().count; }
  bool empty() const noexcept { return size() == 0; }
  Result<Entitlement> at(std::size_t index) const {
    msstore_entitlement e{};
    e.struct_size = sizeof e;
    const Code c = static_cast<Code>(msstore_entitlements_item_at(get(), index, &e));
    if (c != Code::Ok) return Error::from_code(c);
    return Entitlement::from(e);
  }
  std::vector<Entitlement> items() const {
    std::vector<Entitlement> out;
    const std::size_t n = size();
    out.reserve(n);
    for (std::size_t i = 0; i < n; ++i) {
      Result<Entitlement> e = at(i);
      if (e.ok()) out.push_back(std::move(e).value());
    }
    return out;
  }
  /// Continue a single-page query with this token; empty on the last page.
  std::string continuation_token() const { return detail::str(info().continuation_token); }
  uint32_t pages() const noexcept { return info().pages; }
  uint32_t duplicates_removed() const noexcept { return info().duplicates_removed; }
  std::string raw_json() const { return detail::str(msstore_entitlements_json(get())); }

 private:
  msstore_entitlements_info info() const noexcept { return detail::info(msstore_entitlements_get_info, get()); }
};

/// The result of a consume.
class ConsumeResult : public detail::Owner<msstore_consume_result, msstore_consume_result_free> {
 public:
  using Native = msstore_consume_result;
  using Owner::Owner;
  Result<ConsumeInfo> info() const {
    msstore_consume_result_info ci{};
    ci.struct_size = sizeof ci;
    const Code c = static_cast<Code>(msstore_consume_result_get_info(get(), &ci));
    if (c != Code::Ok) return Error::from_code(c);
    ConsumeInfo o;
    o.item_id = detail::str(ci.item_id);
    o.product_id = detail::str(ci.product_id);
    o.tracking_id = detail::str(ci.tracking_id);
    o.new_quantity = ci.new_quantity;
    for (std::size_t i = 0; i < ci.transaction_count; ++i) {
      msstore_order_transaction t{};
      t.struct_size = sizeof t;
      if (msstore_consume_result_transaction_at(get(), i, &t) != MSSTORE_OK) continue;
      o.transactions.push_back({detail::str(t.order_id), detail::str(t.order_line_item_id), t.quantity_consumed});
    }
    return o;
  }
  std::string json() const { return detail::str(msstore_consume_result_json(get())); }
};

/// The order of a free-product grant.
class Order : public detail::Owner<msstore_order, msstore_order_free> {
 public:
  using Native = msstore_order;
  using Owner::Owner;
  Result<OrderInfo> info() const {
    msstore_order_info oi{};
    oi.struct_size = sizeof oi;
    const Code c = static_cast<Code>(msstore_order_get_info(get(), &oi));
    if (c != Code::Ok) return Error::from_code(c);
    OrderInfo o;
    o.order_id = detail::str(oi.order_id);
    o.order_state = detail::str(oi.order_state);
    o.created_time = detail::str(oi.created_time);
    o.currency_code = detail::str(oi.currency_code);
    o.market = detail::str(oi.market);
    o.total_amount = oi.total_amount;
    for (std::size_t i = 0; i < oi.line_item_count; ++i) {
      msstore_order_line_item li{};
      li.struct_size = sizeof li;
      if (msstore_order_line_item_at(get(), i, &li) != MSSTORE_OK) continue;
      OrderLineItem l;
      l.line_item_id = detail::str(li.line_item_id);
      l.product_id = detail::str(li.product_id);
      l.sku_id = detail::str(li.sku_id);
      l.availability_id = detail::str(li.availability_id);
      l.product_type = detail::str(li.product_type);
      l.quantity = li.quantity;
      l.billing_state = detail::str(li.billing_state);
      l.fulfillment_state = detail::str(li.fulfillment_state);
      l.title = detail::str(li.title);
      o.line_items.push_back(std::move(l));
    }
    return o;
  }
  std::string raw_json() const { return detail::str(msstore_order_json(get())); }
};

/// Subscriptions: a query's, or the single one a change returned.
class Subscriptions : public detail::Owner<msstore_subscriptions, msstore_subscriptions_free> {
 public:
  using Native = msstore_subscriptions;
  using Owner::Owner;
  std::size_t size() const noexcept { return info().count; }
  bool empty() const noexcept { return size() == 0; }
  Result<Subscription> at(std::size_t index) const {
    msstore_subscription s{};
    s.struct_size = sizeof s;
    const Code c = static_cast<Code>(msstore_subscriptions_item_at(get(), index, &s));
    if (c != Code::Ok) return Error::from_code(c);
    return Subscription::from(s);
  }
  std::vector<Subscription> items() const {
    std::vector<Subscription> out;
    const std::size_t n = size();
    out.reserve(n);
    for (std::size_t i = 0; i < n; ++i) {
      Result<Subscription> s = at(i);
      if (s.ok()) out.push_back(std::move(s).value());
    }
    return out;
  }
  std::string continuation_token() const { return detail::str(info().continuation_token); }
  std::string raw_json() const { return detail::str(msstore_subscriptions_json(get())); }

 private:
  msstore_subscriptions_info info() const noexcept { return detail::info(msstore_subscriptions_get_info, get()); }
};

/// The order lines of a clawback v1 query (all pages, or one page).
class ClawbackOrders : public detail::Owner<msstore_clawback_orders, msstore_clawback_orders_free> {
 public:
  using Native = msstore_clawback_orders;
  using Owner::Owner;
  std::size_t size() const noexcept { return info().count; }
  bool empty() const noexcept { return size() == 0; }
  Result<ClawbackOrderLine> at(std::size_t index) const {
    msstore_clawback_order_line l{};
    l.struct_size = sizeof l;
    const Code c = static_cast<Code>(msstore_clawback_orders_line_at(get(), index, &l));
    if (c != Code::Ok) return Error::from_code(c);
    return ClawbackOrderLine::from(l);
  }
  std::vector<ClawbackOrderLine> items() const {
    std::vector<ClawbackOrderLine> out;
    const std::size_t n = size();
    out.reserve(n);
    for (std::size_t i = 0; i < n; ++i) {
      Result<ClawbackOrderLine> l = at(i);
      if (l.ok()) out.push_back(std::move(l).value());
    }
    return out;
  }
  /// Continue a single-page query with this token; empty on the last page.
  std::string continuation_token() const { return detail::str(info().continuation_token); }
  std::string raw_json() const { return detail::str(msstore_clawback_orders_json(get())); }

 private:
  msstore_clawback_orders_info info() const noexcept { return detail::info(msstore_clawback_orders_get_info, get()); }
};

/// Clawback queue messages (received or peeked).
class ClawbackMessages : public detail::Owner<msstore_clawback_messages, msstore_clawback_messages_free> {
 public:
  using Native = msstore_clawback_messages;
  using Owner::Owner;
  std::size_t size() const noexcept { return detail::info(msstore_clawback_messages_get_info, get()).count; }
  bool empty() const noexcept { return size() == 0; }
  Result<ClawbackMessage> at(std::size_t index) const {
    msstore_clawback_message m{};
    m.struct_size = sizeof m;
    const Code c = static_cast<Code>(msstore_clawback_messages_item_at(get(), index, &m));
    if (c != Code::Ok) return Error::from_code(c);
    return ClawbackMessage::from(m);
  }
  std::vector<ClawbackMessage> items() const {
    std::vector<ClawbackMessage> out;
    const std::size_t n = size();
    out.reserve(n);
    for (std::size_t i = 0; i < n; ++i) {
      Result<ClawbackMessage> m = at(i);
      if (m.ok()) out.push_back(std::move(m).value());
    }
    return out;
  }
  /// JSON array of the messages, each with its decoded `event` (or `event_error`).
  std::string raw_json() const { return detail::str(msstore_clawback_messages_json(get())); }
};

/// A pass of the clawback queue into the ledger (Ledger::ingest_clawback). Zero/empty = default.
struct ClawbackIngestOptions {
  std::string expected_sandbox;              // other sandboxes' events stay queued; default RETAIL
  uint32_t max_messages = 0;                 // per receive, 1..32; default 32
  std::chrono::seconds visibility_timeout{0};  // while being recorded; default 30 s
  uint32_t max_batches = 0;                  // receives per pass; default 16
};

/// What an ingestion pass did (LedgerItems::ingest_summary).
struct ClawbackIngestSummary {
  uint32_t received = 0;          // messages received (v1: order lines examined)
  uint32_t applied = 0;           // events recorded for the first time
  uint32_t duplicates = 0;        // redeliveries: nothing new
  uint32_t unmatched = 0;         // of applied: no recorded consume drew from the line yet
  uint32_t ignored = 0;           // another sandbox: left in the queue
  uint32_t dead_lettered = 0;     // undecodable: recorded as dead letters and deleted
  uint32_t deleted = 0;           // messages deleted after recording
  uint32_t delete_conflicts = 0;  // stale pop receipt or already gone: they come back as duplicates
  uint32_t delete_errors = 0;     // other delete failures: they come back as duplicates
};

/// Ledger entries and/or revocations: a consume's entry, a reconcile's or a listing's items.
class LedgerItems : public detail::Owner<msstore_ledger_items, msstore_ledger_items_free> {
 public:
  using Native = msstore_ledger_items;
  using Owner::Owner;
  std::size_t entry_count() const noexcept { return detail::info(msstore_ledger_items_get_info, get()).entry_count; }
  std::size_t revocation_count() const noexcept { return detail::info(msstore_ledger_items_get_info, get()).revocation_count; }
  bool empty() const noexcept { return entry_count() == 0 && revocation_count() == 0; }

  Result<LedgerEntry> entry(std::size_t index) const {
    msstore_ledger_entry e{};
    e.struct_size = sizeof e;
    const Code c = static_cast<Code>(msstore_ledger_items_entry_at(get(), index, &e));
    if (c != Code::Ok) return Error::from_code(c);
    LedgerEntry o;
    o.id = detail::str(e.id);
    o.player_ref = detail::str(e.player_ref);
    o.product_id = detail::str(e.product_id);
    o.quantity = e.quantity;
    o.state = (e.state >= MSSTORE_LEDGER_PENDING && e.state <= MSSTORE_LEDGER_FAILED) ? static_cast<LedgerState>(e.state)
                                                                                      : LedgerState::Unknown;
    o.attempts = e.attempts;
    if (e.new_quantity >= 0) o.new_quantity = e.new_quantity;
    for (std::size_t i = 0; i < e.transaction_count; ++i) {
      msstore_order_transaction t{};
      t.struct_size = sizeof t;
      if (msstore_ledger_items_entry_transaction_at(get(), index, i, &t) != MSSTORE_OK) continue;
      o.transactions.push_back({detail::str(t.order_id), detail::str(t.order_line_item_id), t.quantity_consumed});
    }
    o.last_error = detail::str(e.last_error);
    o.created_at = detail::time_from_ms(e.created_unix_ms).value_or(Timestamp{});
    o.already_handed_out = e.already_handed_out != 0;
    return o;
  }
  std::vector<LedgerEntry> entries() const {
    std::vector<LedgerEntry> out;
    const std::size_t n = entry_count();
    out.reserve(n);
    for (std::size_t i = 0; i < n; ++i) {
      Result<LedgerEntry> e = entry(i);
      if (e.ok()) out.push_back(std::move(e).value());
    }
    return out;
  }

  Result<Revocation> revocation(std::size_t index) const {
    msstore_ledger_revocation r{};
    r.struct_size = sizeof r;
    const Code c = static_cast<Code>(msstore_ledger_items_revocation_at(get(), index, &r));
    if (c != Code::Ok) return Error::from_code(c);
    return Revocation::from(r);
  }
  std::vector<Revocation> revocations() const {
    std::vector<Revocation> out;
    const std::size_t n = revocation_count();
    out.reserve(n);
    for (std::size_t i = 0; i < n; ++i) {
      Result<Revocation> r = revocation(i);
      if (r.ok()) out.push_back(std::move(r).value());
    }
    return out;
  }
  /// The counts of an ingestion result (InvalidArgument for other ledger results).
  Result<ClawbackIngestSummary> ingest_summary() const {
    msstore_ledger_items_info n{};
    n.struct_size = sizeof n;
    const Code c = static_cast<Code>(msstore_ledger_items_get_info(get(), &n));
    if (c != Code::Ok) return Error::from_code(c);
    if (!n.is_ingest_summary) return Error::from_code(Code::InvalidArgument, "not the result of an ingestion");
    ClawbackIngestSummary o;
    o.received = n.received;
    o.applied = n.applied;
    o.duplicates = n.duplicates;
    o.unmatched = n.unmatched;
    o.ignored = n.ignored;
    o.dead_lettered = n.dead_lettered;
    o.deleted = n.deleted;
    o.delete_conflicts = n.delete_conflicts;
    o.delete_errors = n.delete_errors;
    return o;
  }
  /// `{"entries":[…],"revocations":[…]}` (plus "summary" for an ingestion; no keys).
  std::string json() const { return detail::str(msstore_ledger_items_json(get())); }
};

// ---------------------------------------------------------------------------------------------
// Strings in: std::string_view -> NUL-terminated copies, refusing embedded NULs
// ---------------------------------------------------------------------------------------------

namespace detail {
/// Copies of the caller's strings for one C call. The first bad string is remembered so the
/// call fails with InvalidArgument instead of silently truncating at an embedded NUL.
class CStrings {
 public:
  /// A required string (empty stays "", and the library reports it).
  const char *req(std::string_view s, const char *what) {
    return keep(s, what);
  }
  /// An optional string: empty means "not set" (NULL).
  const char *opt(std::string_view s, const char *what) { return s.empty() ? nullptr : keep(s, what); }
  /// std::string is already NUL-terminated and outlives the call: no copy (nor of secrets).
  const char *req(const std::string &s, const char *what) {
    note_nul(s, what);
    return s.c_str();
  }
  const char *opt(const std::string &s, const char *what) {
    note_nul(s, what);
    return s.empty() ? nullptr : s.c_str();
  }
  bool ok() const noexcept { return bad_ == nullptr; }
  Error error() const {
    return Error::from_code(Code::InvalidArgument, std::string(bad_ ? bad_ : "a string") + " contains a NUL character");
  }

 private:
  void note_nul(std::string_view s, const char *what) noexcept {
    if (bad_ == nullptr && s.find('\0') != std::string_view::npos) bad_ = what;
  }
  const char *keep(std::string_view s, const char *what) {
    note_nul(s, what);
    store_.push_back(std::make_unique<std::string>(s));
    return store_.back()->c_str();
  }
  std::vector<std::unique_ptr<std::string>> store_;  // stable addresses
  const char *bad_ = nullptr;
};
}  // namespace detail

inline Result<Key> Key::decode(std::string_view key) {
  detail::CStrings s;
  const char *k = s.req(key, "key");
  if (!s.ok()) return s.error();
  msstore_key *out = nullptr;
  msstore_error *err = nullptr;
  const Code c = static_cast<Code>(msstore_key_decode(k, &out, &err));
  ErrorHandle owned_err(err);
  if (c != Code::Ok) return Error::from_native(owned_err.get(), c);
  return Key(out);
}

// ---------------------------------------------------------------------------------------------
// Credentials: how the client proves itself to Entra ID
// ---------------------------------------------------------------------------------------------

/// A certificate for signed client assertions (RS256 with the x5t#S256 thumbprint). The
/// certificate and the key each come from PEM text or a file (a file is re-read when it
/// changes, so a rotated mount needs no restart). Empty = not set.
/// https://learn.microsoft.com/entra/identity-platform/certificate-credentials
struct CertificateOptions {
  std::string certificate_pem;   // the app certificate first, then its chain
  std::string certificate_path;  // or a PEM file
  std::string private_key_pem;   // a secret (PKCS#8 or PKCS#1); empty = in the certificate source
  std::string private_key_path;
  bool send_x5c = false;  // also send the chain as x5c (subject name / issuer trust)
};

/// A managed identity whose token is the client assertion of the Store app (federated).
/// https://learn.microsoft.com/entra/identity/managed-identities-azure-resources/how-to-use-vm-token
struct ManagedIdentityOptions {
  std::string client_id;        // a user-assigned identity; empty = the system-assigned one
  std::string endpoint;         // empty = IMDS (or IDENTITY_ENDPOINT's protocol with identity_header)
  std::string identity_header;  // App Service / Container Apps IDENTITY_HEADER (a secret)
};

/// What a caller-supplied token provider answers for one audience: a token and when it
/// expires, or a failure (an EntraAuth error; Network when `retryable`).
struct ProviderResult {
  std::string access_token;  // a secret: never logged by the library
  Timestamp expires_at{};
  bool failed = false;
  bool retryable = false;
  std::string message;  // why it failed; must not hold a secret

  static ProviderResult token(std::string access_token, Timestamp expires_at) {
    ProviderResult r;
    r.access_token = std::move(access_token);
    r.expires_at = expires_at;
    return r;
  }
  static ProviderResult failure(std::string message, bool retryable = false) {
    ProviderResult r;
    r.failed = true;
    r.retryable = retryable;
    r.message = std::move(message);
    return r;
  }
};

/// Called on a library thread, at most once per audience at a time (the token cache keeps
/// single-flight and refresh-ahead), possibly concurrently for different audiences.
using TokenProvider = std::function<ProviderResult(Audience)>;

namespace detail {
/// A NUL-terminated copy of a secret, overwritten with zeros when it goes away.
class SecretCopy {
 public:
  explicit SecretCopy(std::string_view s) : s_(s) {}
  SecretCopy(const SecretCopy &) = delete;
  SecretCopy &operator=(const SecretCopy &) = delete;
  ~SecretCopy() {
    volatile char *p = s_.data();  // volatile: the compiler may not drop the wipe
    for (std::size_t i = 0; i < s_.size(); ++i) p[i] = '\0';
  }
  const char *c_str() const noexcept { return s_.c_str(); }
  bool has_nul() const noexcept { return s_.find('\0') != std::string::npos; }

 private:
  std::string s_;
};

inline int64_t unix_secs(Timestamp t) noexcept {
  return static_cast<int64_t>(std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()).count());
}

/// The provider's callable, owned on the heap until the library calls provider_release.
struct ProviderBox {
  TokenProvider fn;
};

// Returns an msstore_result as int32_t, the callback type's return (any value is defined).
inline int32_t provider_call(void *user_data, int32_t audience, msstore_token_sink *sink) noexcept {
  const ProviderBox *box = static_cast<const ProviderBox *>(user_data);
  if (box == nullptr || !box->fn) return MSSTORE_E_INTERNAL;
  const ProviderResult r = box->fn(static_cast<Audience>(audience));
  if (r.failed) {
    const bool clean = r.message.find('\0') == std::string::npos;
    msstore_token_sink_fail(sink, r.retryable ? 1 : 0, clean ? r.message.c_str() : "the token provider failed");
    return MSSTORE_E_ENTRA_AUTH;
  }
  if (r.access_token.empty() || r.access_token.find('\0') != std::string::npos) {
    msstore_token_sink_fail(sink, 0, "the token provider returned an empty token or one with a NUL character");
    return MSSTORE_E_ENTRA_AUTH;
  }
  return msstore_token_sink_set(sink, r.access_token.c_str(), unix_secs(r.expires_at));
}

inline void provider_release(void *user_data) noexcept { delete static_cast<ProviderBox *>(user_data); }
}  // namespace detail

/// A credential (refcounted and thread-safe inside): pass it in ClientOptions::credential.
/// The client keeps its own reference, so the owner may be released once the client exists.
class Credential : public detail::Owner<msstore_credential, msstore_credential_free> {
 public:
  using Native = msstore_credential;
  using Owner::Owner;

  /// A client secret (a secret: the copy made here is wiped after the call).
  static Result<Credential> secret(std::string_view secret) {
    const detail::SecretCopy s(secret);
    if (s.has_nul()) return nul_in("secret");
    msstore_credential *out = nullptr;
    const msstore_result c = msstore_credential_new_secret(s.c_str(), &out);
    return made(c, out);
  }
  /// A client secret read from a file (a Kubernetes secret mount, the Key Vault CSI driver),
  /// re-read when it changes.
  static Result<Credential> secret_file(std::string_view path) {
    return from_path(msstore_credential_new_secret_file, path);
  }
  /// Workload identity federation: the assertion is the file's content (AKS writes it at
  /// AZURE_FEDERATED_TOKEN_FILE and refreshes it), re-read at each token fetch.
  /// https://learn.microsoft.com/azure/aks/workload-identity-overview
  static Result<Credential> federated_token_file(std::string_view path) {
    return from_path(msstore_credential_new_federated_token_file, path);
  }
  static Result<Credential> certificate(const CertificateOptions &o) {
    detail::CStrings s;
    msstore_certificate_options n;
    msstore_certificate_options_init(&n);
    n.certificate_pem = s.opt(o.certificate_pem, "certificate_pem");
    n.certificate_path = s.opt(o.certificate_path, "certificate_path");
    n.private_key_pem = s.opt(o.private_key_pem, "private_key_pem");
    n.private_key_path = s.opt(o.private_key_path, "private_key_path");
    n.send_x5c = o.send_x5c ? 1u : 0u;
    if (!s.ok()) return s.error();
    msstore_credential *out = nullptr;
    const msstore_result c = msstore_credential_new_certificate(&n, &out);
    return made(c, out);
  }
  static Result<Credential> managed_identity(const ManagedIdentityOptions &o = {}) {
    detail::CStrings s;
    msstore_managed_identity_options n;
    msstore_managed_identity_options_init(&n);
    n.client_id = s.opt(o.client_id, "client_id");
    n.endpoint = s.opt(o.endpoint, "endpoint");
    n.identity_header = s.opt(o.identity_header, "identity_header");
    if (!s.ok()) return s.error();
    msstore_credential *out = nullptr;
    const msstore_result c = msstore_credential_new_managed_identity(&n, &out);
    return made(c, out);
  }
  /// Tokens from the caller (an engine's own vault); no Entra request is made. The callable is
  /// kept until the last client using it is gone.
  static Result<Credential> provider(TokenProvider fn) {
    if (!fn) return Error::from_code(Code::InvalidArgument, "the token provider is empty");
    detail::ProviderBox *box = new (std::nothrow) detail::ProviderBox{std::move(fn)};
    if (box == nullptr) return Error::from_code(Code::Internal, "out of memory");
    msstore_credential *out = nullptr;
    const msstore_result c = msstore_credential_new_provider(&detail::provider_call, box, &detail::provider_release, &out);
    if (c != MSSTORE_OK) detail::provider_release(box);  // refused: the library kept no reference
    return made(c, out);
  }

 private:
  static Error nul_in(const char *what) {
    return Error::from_code(Code::InvalidArgument, std::string(what) + " contains a NUL character");
  }
  // `out` as written by a call that returned `code` (read after the call, not as its sibling argument).
  static Result<Credential> made(msstore_result code, msstore_credential *out) {
    if (code != MSSTORE_OK) return Error::from_code(static_cast<Code>(code));
    return Credential(out);
  }
  static Result<Credential> from_path(msstore_result (*make)(const char *, msstore_credential **), std::string_view path) {
    detail::CStrings s;
    const char *p = s.req(path, "path");
    if (!s.ok()) return s.error();
    msstore_credential *out = nullptr;
    const msstore_result c = make(p, &out);
    return made(c, out);
  }
};

// ---------------------------------------------------------------------------------------------
// Requests
// ---------------------------------------------------------------------------------------------

/// Per-call options: completion mode (Default = the client's) and deadline (0 = the client's).
struct CallOptions {
  CompletionMode mode = CompletionMode::Default;
  std::chrono::milliseconds timeout{0};

  static CallOptions queued(std::chrono::milliseconds t = std::chrono::milliseconds(0)) { return {CompletionMode::Queued, t}; }
  static CallOptions immediate(std::chrono::milliseconds t = std::chrono::milliseconds(0)) { return {CompletionMode::Immediate, t}; }
  static CallOptions blocking(std::chrono::milliseconds t = std::chrono::milliseconds(0)) { return {CompletionMode::Blocking, t}; }
  static CallOptions on_worker(std::chrono::milliseconds t = std::chrono::milliseconds(0)) { return {CompletionMode::Inline, t}; }
};

/// An entitlement query. v9 (default) needs product ids; v8 and v6 take them as filters.
struct QueryRequest {
  std::string collections_key;
  std::vector<std::string> product_ids;
  std::vector<std::string> sku_ids;  // empty, or parallel to product_ids ("" = any sku)
  uint32_t api_version = 9;
  bool single_page = false;        // one page (continue with continuation_token)
  std::string continuation_token;
  uint32_t max_page_size = 0;      // 0 = default
  bool include_duplicates = false;
  std::string validity_type;       // "All", "Valid", "Invalid"; empty = service default
  std::string sbx;

  /// A v9 publisherQuery for these products, all pages.
  static QueryRequest v9(std::string_view collections_key, std::vector<std::string> product_ids) {
    QueryRequest q;
    q.collections_key = std::string(collections_key);
    q.product_ids = std::move(product_ids);
    return q;
  }
};

/// A consume: store-managed (quantity >= 1) or developer-managed (quantity == 0).
struct ConsumeRequest {
  std::string collections_key;
  std::string product_id;
  uint32_t quantity = 1;
  std::string tracking_id;  // empty = generated; resend with Error::tracking_id when unknown
  std::string sbx;

  /// Removes `quantity` (>= 1) units of a store-managed consumable.
  static ConsumeRequest store_managed(std::string_view collections_key, std::string_view product_id, uint32_t quantity) {
    ConsumeRequest r;
    r.collections_key = std::string(collections_key);
    r.product_id = std::string(product_id);
    r.quantity = quantity;
    return r;
  }
  /// Fulfils a developer-managed consumable (the whole item).
  static ConsumeRequest developer_managed(std::string_view collections_key, std::string_view product_id) {
    return store_managed(collections_key, product_id, 0);
  }
};

/// A legacy v6 consume, in one of two forms: A = `item_id` (from a v6 query) + `tracking_id`;
/// B = `product_id` + `transaction_id` (from the purchase or a v6 query). Set one form only.
struct ConsumeV6Request {
  std::string collections_key;
  std::string item_id, tracking_id;        // form A; tracking_id empty = generated
  std::string product_id, transaction_id;  // form B

  /// Form A. Resend with the same tracking id after ConsumeOutcomeUnknown.
  static ConsumeV6Request by_item(std::string_view collections_key, std::string_view item_id,
                                  std::string_view tracking_id = {}) {
    ConsumeV6Request r;
    r.collections_key = std::string(collections_key);
    r.item_id = std::string(item_id);
    r.tracking_id = std::string(tracking_id);
    return r;
  }
  /// Form B.
  static ConsumeV6Request by_transaction(std::string_view collections_key, std::string_view product_id,
                                         std::string_view transaction_id) {
    ConsumeV6Request r;
    r.collections_key = std::string(collections_key);
    r.product_id = std::string(product_id);
    r.transaction_id = std::string(transaction_id);
    return r;
  }
};

/// A free-product grant.
struct GrantRequest {
  std::string purchase_key, product_id, sku_id, availability_id;
  std::string language, market, order_id, dev_offer_id;  // empty = defaults
};

struct SubscriptionQuery {
  std::string purchase_key;
  bool single_page = false;
  std::string continuation_token;
  uint32_t page_size = 0;
  std::string sbx;
};

struct SubscriptionChange {
  std::string purchase_key;
  std::string recurrence_id;
  ChangeType change = ChangeType::Cancel;
  int32_t extension_days = 0;  // for Extend
  std::string sbx;
};

/// A clawback v1 query: the user's consumable orders of the last 90 days in these line states.
struct ClawbackOrdersQuery {
  std::string purchase_key;  // the UserPurchaseId
  std::vector<LineItemState> states;  // empty = Revoked + Refunded
  bool single_page = false;
  std::string continuation_token;
  std::string sbx;
};

/// What to receive from the clawback queue. Zero = the defaults (32 messages, hidden 30 s).
struct ClawbackReceive {
  uint32_t max_messages = 0;  // 1..32
  std::chrono::seconds visibility_timeout{0};  // up to 7 days; delete before it lapses
};

/// Where the ledger lives. Empty strings and zero numbers take the library defaults.
struct LedgerOptions {
  std::string sqlite_path;   // created if missing (default "msstore-ledger.sqlite")
  std::string postgres_url;  // a secret (it holds the password): never logged by the library
  std::string instance_id;   // this server's stable name; required with PostgreSQL
  std::chrono::milliseconds claim_lease{0};   // default 5 min
  uint32_t send_rounds = 0;                   // sends per consume call; default 3
  std::chrono::milliseconds resend_delay{0};  // before the second send (doubles); default 500 ms
  // Closed entries older than this many days are deleted, except those that drew from order
  // lines (kept, without keys, for clawback matching); 0 = keep them.
  uint32_t retention_days = 0;
  // PostgreSQL only. A stalled server gives a Timeout error after pg_statement_timeout.
  std::chrono::milliseconds pg_connect_timeout{0};    // opening a connection; default 5 s
  std::chrono::milliseconds pg_statement_timeout{0};  // bound on each call; default 5 s
  std::chrono::milliseconds pg_keepalive_idle{0};     // TCP keepalive idle; default 10 s
};

/// A consume through the ledger (store-managed: quantity >= 1; developer-managed: 0).
struct LedgerConsumeRequest {
  std::string player_ref;  // the game's reference of the player who gets the value
  std::string collections_key;
  std::string product_id;
  uint32_t quantity = 1;
  std::string tracking_id;  // empty = generated; an earlier entry's id returns that entry
  std::string sbx;

  /// Removes `quantity` (>= 1) units of a store-managed consumable for `player_ref`.
  static LedgerConsumeRequest store_managed(std::string_view player_ref, std::string_view collections_key,
                                            std::string_view product_id, uint32_t quantity) {
    LedgerConsumeRequest r;
    r.player_ref = std::string(player_ref);
    r.collections_key = std::string(collections_key);
    r.product_id = std::string(product_id);
    r.quantity = quantity;
    return r;
  }
  /// Fulfils a developer-managed consumable (the whole item) for `player_ref`.
  static LedgerConsumeRequest developer_managed(std::string_view player_ref, std::string_view collections_key,
                                                std::string_view product_id) {
    return store_managed(player_ref, collections_key, product_id, 0);
  }
};

/// A clawback event to match against the consumes the ledger recorded.
struct ClawbackMatch {
  std::string event_id;  // idempotency key
  std::string order_id, line_item_id, product_id;
  LedgerClawbackState state = LedgerClawbackState::Revoked;

  /// The match for a decoded queue event; InvalidArgument for a state the ledger cannot match.
  static Result<ClawbackMatch> from_event(const ClawbackEvent &e) {
    if (e.state == ClawbackEventState::Other)
      return Error::from_code(Code::InvalidArgument, "clawback event state '" + e.state_name + "' cannot be matched");
    ClawbackMatch m;
    m.event_id = e.id;
    m.order_id = e.order_id;
    m.line_item_id = e.line_item_id;
    m.product_id = e.product_id;
    m.state = static_cast<LedgerClawbackState>(static_cast<int32_t>(e.state));  // same numbering 1..4
    return m;
  }
};

/// What Ledger::apply_clawback recorded.
struct ClawbackApplied {
  LedgerItems revocations;  // this event's (for a duplicate: the earlier ones)
  bool duplicate = false;   // the event had been applied before
};

// ---------------------------------------------------------------------------------------------
// Operations
// ---------------------------------------------------------------------------------------------

/// Runs exactly once with the operation's result (see the file comment for the thread).
template <class T>
using Callback = std::function<void(Result<T>)>;

namespace detail {
template <class T> struct Take;
template <> struct Take<Token> { static msstore_result take(msstore_op *o, msstore_token **p) { return msstore_op_take_token(o, p); } };
template <> struct Take<Key> { static msstore_result take(msstore_op *o, msstore_key **p) { return msstore_op_take_key(o, p); } };
template <> struct Take<Entitlements> { static msstore_result take(msstore_op *o, msstore_entitlements **p) { return msstore_op_take_entitlements(o, p); } };
template <> struct Take<ConsumeResult> { static msstore_result take(msstore_op *o, msstore_consume_result **p) { return msstore_op_take_consume_result(o, p); } };
template <> struct Take<Order> { static msstore_result take(msstore_op *o, msstore_order **p) { return msstore_op_take_order(o, p); } };
template <> struct Take<Subscriptions> { static msstore_result take(msstore_op *o, msstore_subscriptions **p) { return msstore_op_take_subscriptions(o, p); } };
template <> struct Take<ClawbackOrders> { static msstore_result take(msstore_op *o, msstore_clawback_orders **p) { return msstore_op_take_clawback_orders(o, p); } };
template <> struct Take<ClawbackMessages> { static msstore_result take(msstore_op *o, msstore_clawback_messages **p) { return msstore_op_take_clawback_messages(o, p); } };
template <> struct Take<LedgerItems> { static msstore_result take(msstore_op *o, msstore_ledger_items **p) { return msstore_op_take_ledger_items(o, p); } };

/// The result of a completed operation whose code is `code`: its value (taken out of the op)
/// or its error (copied; the op keeps the native one).
template <class T>
Result<T> result_of(Code code, msstore_op *op) {
  if (code != Code::Ok) return Error::from_native(msstore_op_error(op), code);
  typename T::Native *out = nullptr;
  const Code c = static_cast<Code>(Take<T>::take(op, &out));
  if (c != Code::Ok) return Error::from_code(c);
  return T(out);
}

/// Operations without a value (clawback delete): only the outcome.
template <>
inline Result<void> result_of<void>(Code code, msstore_op *op) {
  if (code != Code::Ok) return Error::from_native(msstore_op_error(op), code);
  return Result<void>();
}

template <class T>
struct CallbackBox {
  Callback<T> fn;
};

// The C callback: runs the C++ callable once, then frees its box.
template <class T>
void trampoline(void *user_data, msstore_result code, msstore_op *op) noexcept {
  std::unique_ptr<CallbackBox<T>> box(static_cast<CallbackBox<T> *>(user_data));
  if (box && box->fn) box->fn(result_of<T>(static_cast<Code>(code), op));
}
}  // namespace detail

/// A started (or refused) operation: a move-only owner of the native op handle, used like a
/// future. Releasing it does not cancel the operation (its callback still runs). When a
/// callback was given, the result goes to the callback and take() gives NoResult.
template <class T>
class Operation {
 public:
  Operation() noexcept = default;
  explicit Operation(msstore_op *op) noexcept : op_(op) {}
  /// An operation that never started (synchronous failure): status() and take() report it.
  explicit Operation(Error refused) : refused_(std::move(refused)) {}
  Operation(const Operation &) = delete;
  Operation &operator=(const Operation &) = delete;
  Operation(Operation &&o) noexcept : op_(std::exchange(o.op_, nullptr)), refused_(std::move(o.refused_)) {}
  Operation &operator=(Operation &&o) noexcept {
    if (this != &o) {
      reset();
      op_ = std::exchange(o.op_, nullptr);
      refused_ = std::move(o.refused_);
    }
    return *this;
  }
  ~Operation() { reset(); }

  /// False when the start was refused (bad argument, client shutting down, ...).
  bool started() const noexcept { return op_ != nullptr; }
  /// Code::Pending while running; the result code once complete; the refusal code if refused.
  Code status() const noexcept {
    if (op_ == nullptr) return refused_ ? refused_->code : Code::InvalidHandle;
    return static_cast<Code>(msstore_op_status(op_));
  }
  bool ready() const noexcept { return status() != Code::Pending; }
  /// Waits up to `timeout` for completion; returns status() (Code::Pending on timeout). In
  /// QUEUED mode the callback still needs a poll(): completion does not run it.
  Code wait(std::chrono::milliseconds timeout) const noexcept {
    if (op_ == nullptr) return status();
    const long long ms = timeout.count() < 0 ? 0 : timeout.count();
    const uint32_t t = ms >= static_cast<long long>(UINT32_MAX) ? UINT32_MAX - 1 : static_cast<uint32_t>(ms);
    return static_cast<Code>(msstore_op_wait(op_, t));
  }
  /// Waits without a limit.
  Code wait() const noexcept { return op_ ? static_cast<Code>(msstore_op_wait(op_, UINT32_MAX)) : status(); }
  /// Requests cancellation; the callback still runs once (with Canceled, or the real result
  /// when it completed first).
  Code cancel() noexcept { return op_ ? static_cast<Code>(msstore_op_cancel(op_)) : status(); }
  /// The result without waiting: Pending while running; NoResult once taken. An
  /// Operation<void> has no value to take out and reports its outcome every time.
  Result<T> take() {
    if (op_ == nullptr) return refused_ ? *refused_ : Error::from_code(Code::InvalidHandle, "no operation");
    const Code c = status();
    if (c == Code::Pending) return Error::from_code(Code::Pending);
    return detail::result_of<T>(c, op_);
  }
  /// Waits for completion, then take().
  Result<T> get() {
    wait();
    return take();
  }
  /// Releases the handle now (does not cancel). Safe to call twice.
  Code reset() noexcept {
    msstore_op *op = std::exchange(op_, nullptr);
    return op ? static_cast<Code>(msstore_op_free(op)) : Code::Ok;
  }
  msstore_op *native() const noexcept { return op_; }

 private:
  msstore_op *op_ = nullptr;
  std::optional<Error> refused_;
};

// ---------------------------------------------------------------------------------------------
// Client
// ---------------------------------------------------------------------------------------------

/// Client configuration. Empty strings and zero numbers take the library defaults.
struct ClientOptions {
  std::string tenant_id, client_id;
  std::string client_secret;  // a secret: never logged by the library; or set `credential`
  std::string emulator_base_url;  // points login/collections/purchase at one emulator
  std::string login_base_url, collections_base_url, purchase_base_url;
  std::string service_identity;  // User-Agent
  uint32_t entra_version = 0;    // 1 or 2 (default)
  std::chrono::milliseconds connect_timeout{0}, request_timeout{0};
  std::chrono::milliseconds operation_timeout{0};  // default deadline of every operation
  uint32_t max_attempts = 0, worker_threads = 0, max_pages = 0;
  // Requests in flight at once per host; further operations queue (0 = default, 128).
  uint32_t max_connections_per_host = 0;
  // Largest response body read from any service, however framed (0 = default, 8 MiB).
  uint64_t max_response_bytes = 0;
  CompletionMode completion_mode = CompletionMode::Default;  // Default = Queued
  // Extra trusted root certificate(s): PEM text and/or a PEM file (empty = none).
  std::string extra_root_cert_pem, extra_root_cert_path;
  // 0 = the library's defaults (5 min, 24 h, 200 ms, 5 s, 30 s).
  std::chrono::milliseconds token_refresh_margin{0}, key_renew_margin{0};
  std::chrono::milliseconds retry_base_delay{0}, retry_max_delay{0}, max_retry_after{0};
  uint32_t max_idle_connections_per_host = 0;  // 0 = default (256)
  // The credential instead of client_secret and, during a rotation, the one it replaces (kept
  // while Entra refuses the new one as a wrong credential). Borrowed by create() and doctor()
  // only: the client keeps its own reference. nullptr = none.
  const Credential *credential = nullptr;
  const Credential *previous_credential = nullptr;
  // Warn (log) this many days before the credential expires; empty (or 0) = the default (14).
  std::optional<uint32_t> credential_expiry_warning_days;
};

class DoctorReport;

class Ledger;

/// A library client: thread-safe, share one between any number of threads. Move-only;
/// destroying it shuts it down (pending callbacks run with Code::ShuttingDown on the
/// destroying thread) and frees it.
class Client {
 public:
  Client() noexcept = default;
  explicit Client(msstore_client *c) noexcept : c_(c) {}

  static Result<Client> create(const ClientOptions &o) {
    detail::CStrings s;
    msstore_client_options n;
    if (!native_options(o, s, n)) return s.error();
    return finish_create(&n, nullptr);
  }

  /// From a JSON configuration (the Rust ClientConfig field names; see msstore.h).
  static Result<Client> from_json(std::string_view json) {
    detail::CStrings s;
    const char *j = s.req(json, "json");
    if (!s.ok()) return s.error();
    return finish_create(nullptr, j);
  }

  /// When the credential expires (a certificate's notAfter); empty when unknown or none does.
  std::optional<Timestamp> credential_expires_at() const {
    const int64_t secs = msstore_client_credential_expires_at(c_.get());
    if (secs <= 0) return std::nullopt;
    return Timestamp(std::chrono::duration_cast<Timestamp::duration>(std::chrono::seconds(secs)));
  }

  /// Runs completed QUEUED callbacks on this thread (at most `max_callbacks`; 0 = all queued).
  /// 0 for a moved-from client.
  std::size_t poll(std::size_t max_callbacks = 0) noexcept { return count(msstore_client_poll(c_.get(), max_callbacks)); }
  /// Blocks until a QUEUED completion is ready for poll() or `timeout` passes; returns how many
  /// are ready and runs no callback. For a service thread owning completions:
  /// `while (running) { client.wait(100ms); client.poll(); }`. Games just poll() per frame.
  std::size_t wait(std::chrono::milliseconds timeout) noexcept { return count(msstore_client_wait(c_.get(), ms32(timeout))); }
  /// Operations whose callback has not returned yet.
  std::size_t pending() const noexcept { return msstore_client_pending(c_.get()); }
  /// Completes every operation in flight with ShuttingDown (callbacks run here) and refuses new
  /// ones. The destructor does it too.
  Code shutdown() noexcept { return static_cast<Code>(msstore_client_shutdown(c_.get())); }
  /// Bounds how long shutdown() and the destructor wait for callbacks running on other threads.
  /// Zero, the default, waits as long as they run (no callback runs after they return); with a
  /// bound they return Code::Timeout when it passes, and those callbacks finish later.
  Code set_shutdown_timeout(std::chrono::milliseconds timeout) noexcept {
    return static_cast<Code>(msstore_client_set_shutdown_timeout(c_.get(), ms32(timeout)));
  }
  /// Shuts down and frees now. Safe to call twice, and from inside a callback.
  Code reset() noexcept { return c_.reset(); }
  msstore_client *native() const noexcept { return c_.get(); }
  explicit operator bool() const noexcept { return static_cast<bool>(c_); }

  // Every operation exists in two forms: returning a future-like Operation<T>, or running a
  // callback (and still returning the Operation, for cancel/wait). `call` picks the mode.

  Operation<Token> get_token(Audience aud, const CallOptions &call = {}) { return get_token(aud, nullptr, call); }
  Operation<Token> get_token(Audience aud, Callback<Token> cb, const CallOptions &call = {}) {
    return start<Token>(std::move(cb), call, [&](const msstore_call_options *co, msstore_completion_cb f, void *ud, msstore_op **op) {
      return msstore_client_get_token(c_.get(), static_cast<int32_t>(aud), co, f, ud, op);
    });
  }

  Operation<Key> renew_key(std::string_view key, const CallOptions &call = {}) { return renew_key(key, nullptr, call); }
  Operation<Key> renew_key(std::string_view key, Callback<Key> cb, const CallOptions &call = {}) {
    detail::CStrings s;
    const char *k = s.req(key, "key");
    if (!s.ok()) return Operation<Key>(s.error());
    return start<Key>(std::move(cb), call, [&](const msstore_call_options *co, msstore_completion_cb f, void *ud, msstore_op **op) {
      return msstore_client_renew_key(c_.get(), k, co, f, ud, op);
    });
  }

  Operation<Entitlements> query_entitlements(const QueryRequest &q, const CallOptions &call = {}) {
    return query_entitlements(q, nullptr, call);
  }
  Operation<Entitlements> query_entitlements(const QueryRequest &q, Callback<Entitlements> cb, const CallOptions &call = {}) {
    if (!q.sku_ids.empty() && q.sku_ids.size() != q.product_ids.size())
      return Operation<Entitlements>(Error::from_code(Code::InvalidArgument, "sku_ids must be empty or parallel to product_ids"));
    detail::CStrings s;
    std::vector<const char *> ids, skus;
    for (const std::string &p : q.product_ids) ids.push_back(s.req(p, "product_ids"));
    for (const std::string &k : q.sku_ids) skus.push_back(s.opt(k, "sku_ids"));
    msstore_query_options n{};
    n.struct_size = sizeof n;
    n.api_version = q.api_version;
    n.collections_key = s.req(q.collections_key, "collections_key");
    n.product_ids = ids.empty() ? nullptr : ids.data();
    n.sku_ids = skus.empty() ? nullptr : skus.data();
    n.product_count = ids.size();
    n.single_page = q.single_page ? 1u : 0u;
    n.continuation_token = s.opt(q.continuation_token, "continuation_token");
    n.max_page_size = q.max_page_size;
    n.include_duplicates = q.include_duplicates ? 1u : 0u;
    n.validity_type = s.opt(q.validity_type, "validity_type");
    n.sbx = s.opt(q.sbx, "sbx");
    if (!s.ok()) return Operation<Entitlements>(s.error());
    return start<Entitlements>(std::move(cb), call, [&](const msstore_call_options *co, msstore_completion_cb f, void *ud, msstore_op **op) {
      return msstore_client_query_entitlements(c_.get(), &n, co, f, ud, op);
    });
  }

  Operation<ConsumeResult> consume(const ConsumeRequest &r, const CallOptions &call = {}) { return consume(r, nullptr, call); }
  Operation<ConsumeResult> consume(const ConsumeRequest &r, Callback<ConsumeResult> cb, const CallOptions &call = {}) {
    detail::CStrings s;
    msstore_consume_options n{};
    n.struct_size = sizeof n;
    n.collections_key = s.req(r.collections_key, "collections_key");
    n.product_id = s.req(r.product_id, "product_id");
    n.quantity = r.quantity;
    n.tracking_id = s.opt(r.tracking_id, "tracking_id");
    n.sbx = s.opt(r.sbx, "sbx");
    if (!s.ok()) return Operation<ConsumeResult>(s.error());
    return start<ConsumeResult>(std::move(cb), call, [&](const msstore_call_options *co, msstore_completion_cb f, void *ud, msstore_op **op) {
      return msstore_client_consume(c_.get(), &n, co, f, ud, op);
    });
  }

  /// The legacy v6 consume (204). Completes like `consume`: a ConsumeResult whose tracking_id is
  /// the id sent (form B: the transaction id) and whose new_quantity is 0, or an Error (on
  /// ConsumeOutcomeUnknown, resend with Error::tracking_id).
  Operation<ConsumeResult> consume_v6(const ConsumeV6Request &r, const CallOptions &call = {}) { return consume_v6(r, nullptr, call); }
  Operation<ConsumeResult> consume_v6(const ConsumeV6Request &r, Callback<ConsumeResult> cb, const CallOptions &call = {}) {
    detail::CStrings s;
    msstore_consume_v6_options n{};
    n.struct_size = sizeof n;
    n.collections_key = s.req(r.collections_key, "collections_key");
    n.item_id = s.opt(r.item_id, "item_id");
    n.tracking_id = s.opt(r.tracking_id, "tracking_id");
    n.product_id = s.opt(r.product_id, "product_id");
    n.transaction_id = s.opt(r.transaction_id, "transaction_id");
    if (!s.ok()) return Operation<ConsumeResult>(s.error());
    return start<ConsumeResult>(std::move(cb), call, [&](const msstore_call_options *co, msstore_completion_cb f, void *ud, msstore_op **op) {
      return msstore_client_consume_v6(c_.get(), &n, co, f, ud, op);
    });
  }

  Operation<Order> grant_free_product(const GrantRequest &r, const CallOptions &call = {}) { return grant_free_product(r, nullptr, call); }
  Operation<Order> grant_free_product(const GrantRequest &r, Callback<Order> cb, const CallOptions &call = {}) {
    detail::CStrings s;
    msstore_grant_options n{};
    n.struct_size = sizeof n;
    n.purchase_key = s.req(r.purchase_key, "purchase_key");
    n.product_id = s.req(r.product_id, "product_id");
    n.sku_id = s.req(r.sku_id, "sku_id");
    n.availability_id = s.req(r.availability_id, "availability_id");
    n.language = s.opt(r.language, "language");
    n.market = s.opt(r.market, "market");
    n.order_id = s.opt(r.order_id, "order_id");
    n.dev_offer_id = s.opt(r.dev_offer_id, "dev_offer_id");
    if (!s.ok()) return Operation<Order>(s.error());
    return start<Order>(std::move(cb), call, [&](const msstore_call_options *co, msstore_completion_cb f, void *ud, msstore_op **op) {
      return msstore_client_grant_free_product(c_.get(), &n, co, f, ud, op);
    });
  }

  Operation<Subscriptions> query_subscriptions(const SubscriptionQuery &q, const CallOptions &call = {}) {
    return query_subscriptions(q, nullptr, call);
  }
  Operation<Subscriptions> query_subscriptions(const SubscriptionQuery &q, Callback<Subscriptions> cb, const CallOptions &call = {}) {
    detail::CStrings s;
    msstore_subscription_query_options n{};
    n.struct_size = sizeof n;
    n.purchase_key = s.req(q.purchase_key, "purchase_key");
    n.single_page = q.single_page ? 1u : 0u;
    n.continuation_token = s.opt(q.continuation_token, "continuation_token");
    n.page_size = q.page_size;
    n.sbx = s.opt(q.sbx, "sbx");
    if (!s.ok()) return Operation<Subscriptions>(s.error());
    return start<Subscriptions>(std::move(cb), call, [&](const msstore_call_options *co, msstore_completion_cb f, void *ud, msstore_op **op) {
      return msstore_client_query_subscriptions(c_.get(), &n, co, f, ud, op);
    });
  }

  Operation<Subscriptions> change_subscription(const SubscriptionChange &r, const CallOptions &call = {}) {
    return change_subscription(r, nullptr, call);
  }
  Operation<Subscriptions> change_subscription(const SubscriptionChange &r, Callback<Subscriptions> cb, const CallOptions &call = {}) {
    detail::CStrings s;
    msstore_subscription_change_options n{};
    n.struct_size = sizeof n;
    n.purchase_key = s.req(r.purchase_key, "purchase_key");
    n.recurrence_id = s.req(r.recurrence_id, "recurrence_id");
    n.change_type = static_cast<int32_t>(r.change);
    n.extension_days = r.extension_days;
    n.sbx = s.opt(r.sbx, "sbx");
    if (!s.ok()) return Operation<Subscriptions>(s.error());
    return start<Subscriptions>(std::move(cb), call, [&](const msstore_call_options *co, msstore_completion_cb f, void *ud, msstore_op **op) {
      return msstore_client_change_subscription(c_.get(), &n, co, f, ud, op);
    });
  }

  // ---- refunds (clawback) ----

  /// Clawback v1: the user's consumable orders of the last 90 days in the requested states.
  Operation<ClawbackOrders> query_clawback_orders(const ClawbackOrdersQuery &q, const CallOptions &call = {}) {
    return query_clawback_orders(q, nullptr, call);
  }
  Operation<ClawbackOrders> query_clawback_orders(const ClawbackOrdersQuery &q, Callback<ClawbackOrders> cb,
                                                  const CallOptions &call = {}) {
    std::vector<const char *> states;
    for (LineItemState st : q.states) {
      if (st == LineItemState::Unknown)
        return Operation<ClawbackOrders>(Error::from_code(Code::InvalidArgument, "states holds LineItemState::Unknown"));
      states.push_back(line_item_state_name(st));
    }
    detail::CStrings s;
    msstore_clawback_orders_options n{};
    n.struct_size = sizeof n;
    n.purchase_key = s.req(q.purchase_key, "purchase_key");
    n.line_item_states = states.empty() ? nullptr : states.data();
    n.line_item_state_count = states.size();
    n.single_page = q.single_page ? 1u : 0u;
    n.continuation_token = s.opt(q.continuation_token, "continuation_token");
    n.sbx = s.opt(q.sbx, "sbx");
    if (!s.ok()) return Operation<ClawbackOrders>(s.error());
    return start<ClawbackOrders>(std::move(cb), call, [&](const msstore_call_options *co, msstore_completion_cb f, void *ud, msstore_op **op) {
      return msstore_client_query_clawback_orders(c_.get(), &n, co, f, ud, op);
    });
  }

  /// Clawback v2: receives queue messages and hides them for the visibility timeout. Delete
  /// each (delete_clawback) once its event is recorded durably.
  Operation<ClawbackMessages> receive_clawback(const ClawbackReceive &r = {}, const CallOptions &call = {}) {
    return receive_clawback(r, nullptr, call);
  }
  Operation<ClawbackMessages> receive_clawback(const ClawbackReceive &r, Callback<ClawbackMessages> cb, const CallOptions &call = {}) {
    const long long secs = r.visibility_timeout.count();
    if (secs < 0) return Operation<ClawbackMessages>(Error::from_code(Code::InvalidArgument, "visibility_timeout is negative"));
    msstore_clawback_queue_options n{};
    n.struct_size = sizeof n;
    n.max_messages = r.max_messages;
    // Too long is passed on saturated so the library refuses it with its own message.
    n.visibility_timeout_secs = secs >= static_cast<long long>(UINT32_MAX) ? UINT32_MAX : static_cast<uint32_t>(secs);
    return start<ClawbackMessages>(std::move(cb), call, [&](const msstore_call_options *co, msstore_completion_cb f, void *ud, msstore_op **op) {
      return msstore_client_receive_clawback_messages(c_.get(), &n, co, f, ud, op);
    });
  }

  /// Clawback v2: looks at up to `max_messages` (1..32) visible messages; nothing changes and
  /// the messages carry no pop receipt.
  Operation<ClawbackMessages> peek_clawback(uint32_t max_messages, const CallOptions &call = {}) {
    return peek_clawback(max_messages, nullptr, call);
  }
  Operation<ClawbackMessages> peek_clawback(uint32_t max_messages, Callback<ClawbackMessages> cb, const CallOptions &call = {}) {
    // The library reads 0 as "the default"; here the count is explicit (1..32).
    if (max_messages == 0) return Operation<ClawbackMessages>(Error::from_code(Code::InvalidArgument, "max_messages is 0"));
    msstore_clawback_queue_options n{};
    n.struct_size = sizeof n;
    n.max_messages = max_messages;
    return start<ClawbackMessages>(std::move(cb), call, [&](const msstore_call_options *co, msstore_completion_cb f, void *ud, msstore_op **op) {
      return msstore_client_peek_clawback_messages(c_.get(), &n, co, f, ud, op);
    });
  }

  /// Clawback v2: deletes a received message. Completes with PopReceiptMismatch when a later
  /// receive superseded the receipt (the message comes back: skip it) or MessageNotFound.
  Operation<void> delete_clawback(std::string_view message_id, std::string_view pop_receipt, const CallOptions &call = {}) {
    return delete_clawback(message_id, pop_receipt, nullptr, call);
  }
  Operation<void> delete_clawback(std::string_view message_id, std::string_view pop_receipt, Callback<void> cb,
                                  const CallOptions &call = {}) {
    detail::CStrings s;
    const char *id = s.req(message_id, "message_id");
    const char *receipt = s.req(pop_receipt, "pop_receipt");
    if (!s.ok()) return Operation<void>(s.error());
    return start<void>(std::move(cb), call, [&](const msstore_call_options *co, msstore_completion_cb f, void *ud, msstore_op **op) {
      return msstore_client_delete_clawback_message(c_.get(), id, receipt, co, f, ud, op);
    });
  }
  /// Deletes a received message (its id and pop receipt).
  Operation<void> delete_clawback(const ClawbackMessage &m, const CallOptions &call = {}) {
    return delete_clawback(m.message_id, m.pop_receipt, nullptr, call);
  }

 private:
  friend class Ledger;  // starts its operations through start() and converts with ms32()
  friend Result<DoctorReport> doctor(const ClientOptions &o, const std::vector<std::string> &store_id_keys);

  // The C options of `o`, its strings kept in `s`. False (s.error() says why) for a bad string.
  static bool native_options(const ClientOptions &o, detail::CStrings &s, msstore_client_options &n) {
    msstore_client_options_init(&n);
    n.tenant_id = s.req(o.tenant_id, "tenant_id");
    n.client_id = s.req(o.client_id, "client_id");
    // With a credential the secret is optional (NULL when empty).
    n.client_secret = o.credential ? s.opt(o.client_secret, "client_secret") : s.req(o.client_secret, "client_secret");
    n.emulator_base_url = s.opt(o.emulator_base_url, "emulator_base_url");
    n.login_base_url = s.opt(o.login_base_url, "login_base_url");
    n.collections_base_url = s.opt(o.collections_base_url, "collections_base_url");
    n.purchase_base_url = s.opt(o.purchase_base_url, "purchase_base_url");
    n.service_identity = s.opt(o.service_identity, "service_identity");
    n.extra_root_cert_pem = s.opt(o.extra_root_cert_pem, "extra_root_cert_pem");
    n.extra_root_cert_path = s.opt(o.extra_root_cert_path, "extra_root_cert_path");
    if (!s.ok()) return false;
    n.entra_version = o.entra_version;
    n.token_refresh_margin_ms = ms32(o.token_refresh_margin);
    n.key_renew_margin_ms = ms32(o.key_renew_margin);
    n.retry_base_delay_ms = ms32(o.retry_base_delay);
    n.retry_max_delay_ms = ms32(o.retry_max_delay);
    n.max_retry_after_ms = ms32(o.max_retry_after);
    n.max_idle_connections_per_host = o.max_idle_connections_per_host;
    n.connect_timeout_ms = ms32(o.connect_timeout);
    n.request_timeout_ms = ms32(o.request_timeout);
    n.operation_timeout_ms = ms32(o.operation_timeout);
    n.max_attempts = o.max_attempts;
    n.worker_threads = o.worker_threads;
    n.max_pages = o.max_pages;
    n.max_connections_per_host = o.max_connections_per_host;
    n.max_response_bytes = o.max_response_bytes;
    n.completion_mode = static_cast<int32_t>(o.completion_mode);
    n.credential = o.credential ? o.credential->get() : nullptr;
    n.previous_credential = o.previous_credential ? o.previous_credential->get() : nullptr;
    if (o.credential_expiry_warning_days) n.credential_expiry_warning_days = *o.credential_expiry_warning_days;
    return true;
  }

  // poll()/wait() counts: the library's -1 (not a live client) is 0 here (a moved-from Client).
  static std::size_t count(intptr_t n) noexcept { return n < 0 ? 0 : static_cast<std::size_t>(n); }

  static uint32_t ms32(std::chrono::milliseconds d) noexcept {
    const long long v = d.count();
    if (v <= 0) return 0;
    return v >= static_cast<long long>(UINT32_MAX) ? UINT32_MAX : static_cast<uint32_t>(v);
  }

  // Creates from options or (when `json` is set) JSON, keeping the library's error object.
  static Result<Client> finish_create(const msstore_client_options *opts, const char *json) {
    msstore_client *c = nullptr;
    msstore_error *err = nullptr;
    const Code code = static_cast<Code>(json ? msstore_client_new_from_json(json, &c, &err) : msstore_client_new(opts, &c, &err));
    ErrorHandle owned_err(err);
    if (code != Code::Ok) return Error::from_native(owned_err.get(), code);
    return Client(c);
  }

  // Starts one operation. The op handle is always requested: when the start writes it, the
  // operation exists and its callback (if any) will run exactly once and free the box; when it
  // does not, nothing started and the box is freed here.
  template <class T, class StartFn>
  Operation<T> start(Callback<T> cb, const CallOptions &call, StartFn &&fn) {
    msstore_call_options co;
    msstore_call_options_init(&co);
    co.completion_mode = static_cast<int32_t>(call.mode);
    co.timeout_ms = ms32(call.timeout);
    detail::CallbackBox<T> *box = nullptr;
    if (cb) {
      box = new (std::nothrow) detail::CallbackBox<T>{std::move(cb)};
      if (box == nullptr) return Operation<T>(Error::from_code(Code::Internal, "out of memory"));
    }
    msstore_op *op = nullptr;
    const Code code = static_cast<Code>(fn(&co, box ? &detail::trampoline<T> : nullptr, box, &op));
    if (op == nullptr) {
      delete box;
      return Operation<T>(Error::from_code(code == Code::Ok ? Code::Internal : code));
    }
    return Operation<T>(op);
  }

  detail::Owner<msstore_client, msstore_client_free> c_;
};

// ---------------------------------------------------------------------------------------------
// Doctor: the setup checks of `msstore doctor`
// ---------------------------------------------------------------------------------------------

enum class DoctorStatus : int32_t { Pass = 0, Warn = 1, Fail = 2 };

/// One check: what it found and, when it did not pass, what to do.
struct DoctorCheck {
  std::string name;    // "configuration", "credential expiry", "token service", ...
  DoctorStatus status = DoctorStatus::Pass;
  std::string detail;  // never holds a secret, token or key
  std::string hint;    // empty when passed
  Code result = Code::Ok;  // the failure's code (Ok when it passed or only warns)
};

/// The checks of one doctor run, in order.
class DoctorReport : public detail::Owner<msstore_doctor_report, msstore_doctor_report_free> {
 public:
  using Native = msstore_doctor_report;
  using Owner::Owner;
  std::size_t size() const noexcept { return msstore_doctor_report_count(get()); }
  Result<DoctorCheck> at(std::size_t index) const {
    msstore_doctor_check_info i{};
    i.struct_size = sizeof i;
    const Code c = static_cast<Code>(msstore_doctor_report_get_check(get(), index, &i));
    if (c != Code::Ok) return Error::from_code(c);
    DoctorCheck o;
    o.name = detail::str(i.name);
    o.status = (i.status >= 0 && i.status <= 2) ? static_cast<DoctorStatus>(i.status) : DoctorStatus::Fail;
    o.detail = detail::str(i.detail);
    o.hint = detail::str(i.hint);
    o.result = static_cast<Code>(i.result);
    return o;
  }
  std::vector<DoctorCheck> checks() const {
    std::vector<DoctorCheck> out;
    const std::size_t n = size();
    out.reserve(n);
    for (std::size_t i = 0; i < n; ++i) {
      Result<DoctorCheck> c = at(i);
      if (c.ok()) out.push_back(std::move(c).value());
    }
    return out;
  }
  /// No check failed (warnings allowed).
  bool healthy() const noexcept { return msstore_doctor_report_healthy(get()) == 1; }
  /// The lines as `msstore doctor` prints them.
  std::string text() const { return detail::str(msstore_doctor_report_text(get())); }
};

namespace detail {
// The keys as C strings (kept in `s`); false for a key with a NUL.
inline bool key_array(const std::vector<std::string> &keys, CStrings &s, std::vector<const char *> &out) {
  out.reserve(keys.size());
  for (const std::string &k : keys) out.push_back(s.req(k, "store_id_keys"));
  return s.ok();
}
inline Result<DoctorReport> doctor_result(msstore_result code, msstore_doctor_report *out) {
  if (code != MSSTORE_OK) return Error::from_code(static_cast<Code>(code));
  return DoctorReport(out);
}
}  // namespace detail

/// Runs the checks (blocking: it makes network calls): the configuration, the credential's
/// expiry, a token per audience and its app/tenant, a Store call; per key: decode, query, renew.
inline Result<DoctorReport> doctor(const ClientOptions &o, const std::vector<std::string> &store_id_keys = {}) {
  detail::CStrings s;
  msstore_client_options n;
  std::vector<const char *> keys;
  if (!Client::native_options(o, s, n) || !detail::key_array(store_id_keys, s, keys)) return s.error();
  msstore_doctor_report *out = nullptr;
  const msstore_result c = msstore_doctor_run(&n, keys.data(), keys.size(), &out);
  return detail::doctor_result(c, out);
}

/// The same from a JSON configuration (the Rust ClientConfig field names).
inline Result<DoctorReport> doctor_json(std::string_view config_json, const std::vector<std::string> &store_id_keys = {}) {
  detail::CStrings s;
  const char *j = s.req(config_json, "config_json");
  std::vector<const char *> keys;
  if (!detail::key_array(store_id_keys, s, keys)) return s.error();
  msstore_doctor_report *out = nullptr;
  const msstore_result c = msstore_doctor_run_json(j, keys.data(), keys.size(), &out);
  return detail::doctor_result(c, out);
}

// ---------------------------------------------------------------------------------------------
// The consume ledger (exactly-once fulfilment)
// ---------------------------------------------------------------------------------------------

namespace detail {
// The outcome of a synchronous ledger call that reports through an optional native error.
inline Error sync_error(Code c, msstore_error *err) {
  ErrorHandle owned(err);
  return Error::from_native(owned.get(), c);
}
}  // namespace detail

/// A durable consume ledger (SQLite file or PostgreSQL): consumes are recorded before they are
/// sent, so a crash or a lost response never grants twice nor loses a purchase. Thread-safe;
/// move-only. Releasing it while operations use it is safe (they keep the connection).
class Ledger : public detail::Owner<msstore_ledger, msstore_ledger_free> {
 public:
  using Native = msstore_ledger;
  using Owner::Owner;

  /// Opens (creating its tables if needed). Storage when the file or server is unusable,
  /// Configuration for a bad PostgreSQL URL or a missing instance_id.
  static Result<Ledger> open(const LedgerOptions &o) {
    detail::CStrings s;
    msstore_ledger_options n;
    msstore_ledger_options_init(&n);
    n.sqlite_path = s.opt(o.sqlite_path, "sqlite_path");
    n.postgres_url = s.opt(o.postgres_url, "postgres_url");
    n.instance_id = s.opt(o.instance_id, "instance_id");
    if (!s.ok()) return s.error();
    n.claim_lease_ms = Client::ms32(o.claim_lease);
    n.send_rounds = o.send_rounds;
    n.resend_delay_ms = Client::ms32(o.resend_delay);
    n.retention_days = o.retention_days;
    n.pg_connect_timeout_ms = Client::ms32(o.pg_connect_timeout);
    n.pg_statement_timeout_ms = Client::ms32(o.pg_statement_timeout);
    n.pg_keepalive_idle_ms = Client::ms32(o.pg_keepalive_idle);
    msstore_ledger *l = nullptr;
    msstore_error *err = nullptr;
    const Code c = static_cast<Code>(msstore_ledger_open(&n, &l, &err));
    if (c != Code::Ok) return detail::sync_error(c, err);
    ErrorHandle stray(err);  // none on success; freed if the library ever sets one
    return Ledger(l);
  }

  /// Consumes through the ledger on `client`. The result holds one entry: Applied (grant, then
  /// acknowledge; but if `already_handed_out`, this process was handed it before, e.g. the game
  /// repeated its own call with the same tracking id, and has not acknowledged it: do not grant
  /// it again), Failed (the Store's verdict refused it, or no send could have reached the Store;
  /// nothing applied), Pending (it may have been applied: do not grant; reconcile resends it)
  /// or Completed (granted and acknowledged before).
  Operation<LedgerItems> consume(Client &client, const LedgerConsumeRequest &r, const CallOptions &call = {}) {
    return consume(client, r, nullptr, call);
  }
  Operation<LedgerItems> consume(Client &client, const LedgerConsumeRequest &r, Callback<LedgerItems> cb,
                                 const CallOptions &call = {}) {
    detail::CStrings s;
    msstore_ledger_consume_options n{};
    n.struct_size = sizeof n;
    n.player_ref = s.req(r.player_ref, "player_ref");
    n.collections_key = s.req(r.collections_key, "collections_key");
    n.product_id = s.req(r.product_id, "product_id");
    n.quantity = r.quantity;
    n.tracking_id = s.opt(r.tracking_id, "tracking_id");
    n.sbx = s.opt(r.sbx, "sbx");
    if (!s.ok()) return Operation<LedgerItems>(s.error());
    msstore_ledger *l = get();
    return client.start<LedgerItems>(std::move(cb), call, [&](const msstore_call_options *co, msstore_completion_cb f, void *ud, msstore_op **op) {
      return msstore_ledger_consume(client.native(), l, &n, co, f, ud, op);
    });
  }

  /// The start-up (and periodic) pass: resends pending consumes and hands back what the game
  /// must act on: entries Applied (grant, acknowledge), Failed or still Pending, and
  /// revocations (apply, acknowledge_revocation). Each item is handed out once per process.
  Operation<LedgerItems> reconcile(Client &client, const CallOptions &call = {}) { return reconcile(client, nullptr, call); }
  Operation<LedgerItems> reconcile(Client &client, Callback<LedgerItems> cb, const CallOptions &call = {}) {
    msstore_ledger *l = get();
    return client.start<LedgerItems>(std::move(cb), call, [&](const msstore_call_options *co, msstore_completion_cb f, void *ud, msstore_op **op) {
      return msstore_ledger_reconcile(client.native(), l, co, f, ud, op);
    });
  }

  /// Clawback v2 into the ledger: receives the refund queue, records each event durably
  /// (matched against recorded consumes, idempotent by event id), then deletes the message.
  /// The result's revocations are the ones this pass created (apply, acknowledge_revocation);
  /// its ingest_summary() gives the counts.
  Operation<LedgerItems> ingest_clawback(Client &client, const ClawbackIngestOptions &o = {}, const CallOptions &call = {}) {
    return ingest_clawback(client, o, nullptr, call);
  }
  Operation<LedgerItems> ingest_clawback(Client &client, const ClawbackIngestOptions &o, Callback<LedgerItems> cb,
                                         const CallOptions &call = {}) {
    detail::CStrings s;
    msstore_clawback_ingest_options n{};
    n.struct_size = sizeof n;
    n.expected_sandbox = s.opt(o.expected_sandbox, "expected_sandbox");
    if (!s.ok()) return Operation<LedgerItems>(s.error());
    n.max_messages = o.max_messages;
    const auto secs = o.visibility_timeout.count();
    n.visibility_timeout_secs = secs <= 0 ? 0u : secs > 0xFFFFFFFF ? 0xFFFFFFFFu : static_cast<uint32_t>(secs);
    n.max_batches = o.max_batches;
    msstore_ledger *l = get();
    return client.start<LedgerItems>(std::move(cb), call, [&](const msstore_call_options *co, msstore_completion_cb f, void *ud, msstore_op **op) {
      return msstore_ledger_ingest_clawback(client.native(), l, &n, co, f, ud, op);
    });
  }

  /// Clawback v1 into the ledger: polls the orders of the user of `purchase_key` (Revoked and
  /// Refunded lines under stable ids; a line back to Purchased is a chargeback reversal).
  Operation<LedgerItems> ingest_clawback_orders(Client &client, std::string_view purchase_key, std::string_view sbx = {},
                                                const CallOptions &call = {}) {
    return ingest_clawback_orders(client, purchase_key, sbx, nullptr, call);
  }
  Operation<LedgerItems> ingest_clawback_orders(Client &client, std::string_view purchase_key, std::string_view sbx,
                                                Callback<LedgerItems> cb, const CallOptions &call = {}) {
    detail::CStrings s;
    const char *key = s.req(purchase_key, "purchase_key");
    const char *sb = s.opt(sbx, "sbx");
    if (!s.ok()) return Operation<LedgerItems>(s.error());
    msstore_ledger *l = get();
    return client.start<LedgerItems>(std::move(cb), call, [&](const msstore_call_options *co, msstore_completion_cb f, void *ud, msstore_op **op) {
      return msstore_ledger_ingest_clawback_orders(client.native(), l, key, sb, co, f, ud, op);
    });
  }

  /// Lists (without claiming) every pending or applied-but-unacknowledged entry and every
  /// unacknowledged revocation.
  Result<LedgerItems> pending() const {
    msstore_ledger_items *out = nullptr;
    msstore_error *err = nullptr;
    const Code c = static_cast<Code>(msstore_ledger_list_pending(get(), &out, &err));
    if (c != Code::Ok) return detail::sync_error(c, err);
    return LedgerItems(out);
  }

  /// The game granted an Applied entry: completes it. Idempotent. NotFound for an unknown id,
  /// InvalidArgument for an entry that is pending or failed (nothing to grant).
  Status acknowledge(std::string_view entry_id) {
    detail::CStrings s;
    const char *id = s.req(entry_id, "entry_id");
    if (!s.ok()) return s.error();
    msstore_error *err = nullptr;
    const Code c = static_cast<Code>(msstore_ledger_acknowledge_entry(get(), id, &err));
    if (c != Code::Ok) return detail::sync_error(c, err);
    return Status();
  }

  /// Matches a clawback event against the recorded consumes and records the revocations the
  /// game must apply. Idempotent by event id (`duplicate` says it had been applied before).
  Result<ClawbackApplied> apply_clawback(const ClawbackMatch &m) {
    detail::CStrings s;
    msstore_clawback_match_options n{};
    n.struct_size = sizeof n;
    n.event_id = s.req(m.event_id, "event_id");
    n.order_id = s.req(m.order_id, "order_id");
    n.line_item_id = s.req(m.line_item_id, "line_item_id");
    n.product_id = s.req(m.product_id, "product_id");
    n.state = static_cast<int32_t>(m.state);
    if (!s.ok()) return s.error();
    msstore_ledger_items *out = nullptr;
    uint32_t duplicate = 0;
    msstore_error *err = nullptr;
    const Code c = static_cast<Code>(msstore_ledger_apply_clawback(get(), &n, &out, &duplicate, &err));
    if (c != Code::Ok) return detail::sync_error(c, err);
    ClawbackApplied a;
    a.revocations = LedgerItems(out);
    a.duplicate = duplicate != 0;
    return a;
  }

  /// Unacknowledged revocations not yet handed to this process's game, claimed for this
  /// instance: apply each, then acknowledge_revocation.
  Result<LedgerItems> revocations_to_apply() {
    msstore_ledger_items *out = nullptr;
    msstore_error *err = nullptr;
    const Code c = static_cast<Code>(msstore_ledger_claim_revocations(get(), &out, &err));
    if (c != Code::Ok) return detail::sync_error(c, err);
    return LedgerItems(out);
  }

  /// The game applied a revocation. Idempotent; NotFound for an unknown id.
  Status acknowledge_revocation(std::string_view revocation_id) {
    detail::CStrings s;
    const char *id = s.req(revocation_id, "revocation_id");
    if (!s.ok()) return s.error();
    msstore_error *err = nullptr;
    const Code c = static_cast<Code>(msstore_ledger_acknowledge_revocation(get(), id, &err));
    if (c != Code::Ok) return detail::sync_error(c, err);
    return Status();
  }
};

// ---------------------------------------------------------------------------------------------
// Logging
// ---------------------------------------------------------------------------------------------

/// Receives library log records (secrets redacted) on any thread, possibly concurrently.
using LogHandler = void (*)(LogLevel level, std::string_view target, std::string_view message);

namespace detail {
inline std::atomic<LogHandler> &log_handler() noexcept {
  static std::atomic<LogHandler> h{nullptr};
  return h;
}
inline void log_trampoline(void *, int32_t level, const char *target, const char *message) noexcept {
  LogHandler h = log_handler().load(std::memory_order_acquire);
  if (h) h(static_cast<LogLevel>(level), target ? target : "", message ? message : "");
}
}  // namespace detail

/// Installs a process-wide log handler for records at `max_level` and below; nullptr removes it.
inline Status set_log_handler(LogHandler handler, LogLevel max_level = LogLevel::Info) {
  detail::log_handler().store(handler, std::memory_order_release);
  const Code c = static_cast<Code>(handler ? msstore_log_set_callback(&detail::log_trampoline, nullptr, static_cast<int32_t>(max_level))
                                           : msstore_log_set_callback(nullptr, nullptr, 0));
  return Status::from_code(c);
}

}  // namespace msstore

#endif  // MSSTORE_HPP
