//! `repr(C)` types shared with C: result codes, enums (passed as `int32_t` on input so that an
//! out-of-range value from C is an error, not UB), versioned option structs and item views.

use super::credential::msstore_credential;
use std::ffi::{c_char, c_void};

/// Result codes. `MSSTORE_OK` is 0; every error lives in the private range 7100..7199 so that it
/// cannot be confused with errno or HRESULT values. `msstore_result_name` and
/// `msstore_result_description` give static strings for each.
///
/// The names, descriptions, error kinds and the list of all codes come from the one table in
/// `error.rs` (`result_codes!`), whose exhaustive matches do not compile when it and this enum
/// differ. cbindgen reads this enum as written, so it stays literal here.
#[repr(i32)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum msstore_result {
    /// Success.
    MSSTORE_OK = 0,
    /// An argument is invalid (empty id, bad enum value, a `struct_size` that is not the size of a
    /// published version of the struct, wrong result type for a take, a request the service
    /// answered 400). Fix the call; do not retry as is.
    MSSTORE_E_INVALID_ARGUMENT = 7101,
    /// A required pointer argument is NULL. Fix the call.
    MSSTORE_E_NULL_POINTER = 7102,
    /// A string argument is not valid UTF-8. Convert the string to UTF-8.
    MSSTORE_E_INVALID_UTF8 = 7103,
    /// A string or array argument is longer than the library accepts (strings: 64 KiB, JSON
    /// configuration: 1 MiB, product lists: 1000). Shorten it.
    MSSTORE_E_TOO_LONG = 7104,
    /// The handle is not a live object of the expected type (already freed, never created, or
    /// another kind of handle). A bug in the caller: stop using the handle.
    MSSTORE_E_INVALID_HANDLE = 7105,
    /// The caller's buffer is too small; the needed size was written to the size out-parameter.
    MSSTORE_E_BUFFER_TOO_SMALL = 7106,
    /// The operation has not completed yet (`msstore_op_wait` timed out, or a take on a pending
    /// operation). Wait longer or poll.
    MSSTORE_E_PENDING = 7107,
    /// The result was already taken from this operation, or the operation succeeded without the
    /// requested object (e.g. taking an error from a successful operation).
    MSSTORE_E_NO_RESULT = 7108,
    /// The handle is borrowed: owned by another object that frees it (e.g. the error
    /// `msstore_op_error` returns, owned by its operation). A `_free` of it frees nothing and
    /// returns this code; the handle stays valid. To own it, take it instead
    /// (`msstore_op_take_error`).
    MSSTORE_E_BORROWED_HANDLE = 7109,
    /// The client configuration is unusable (missing tenant/client id/secret, bad URL, plain http
    /// to a non-loopback host, invalid JSON). Fix the configuration.
    MSSTORE_E_CONFIGURATION = 7110,
    /// The Store ID key is not a decodable key JWT. Ask the game client for a fresh key.
    MSSTORE_E_INVALID_KEY = 7111,
    /// Entra ID refused to issue a service token (bad secret, unknown app or tenant). Check the
    /// credentials; the error's service code carries Entra's `error`.
    MSSTORE_E_ENTRA_AUTH = 7120,
    /// The Store rejected the service token or the Store ID key. Renew the key; if renewal fails
    /// the game client must mint a new one.
    MSSTORE_E_UNAUTHORIZED = 7121,
    /// Key renewal was refused (expired, revoked or past its signing window). The game client
    /// must mint a new Store ID key and send it to the server.
    MSSTORE_E_KEY_MUST_BE_REMINTED = 7122,
    /// The key was minted for another Entra app (401 InconsistentClientId). A configuration
    /// error: the game client must use this server's app id when minting. Never retry.
    MSSTORE_E_CLIENT_ID_MISMATCH = 7123,
    /// No Entra token reached the service (401 PartnerAadTicketRequired). A bug; report it.
    MSSTORE_E_MISSING_SERVICE_TOKEN = 7124,
    /// Rate limited (429) and retries ran out. Wait the error's `retry_after_ms` and retry.
    MSSTORE_E_THROTTLED = 7130,
    /// Connection failure or 5xx after retries. Transient: retry later with backoff.
    MSSTORE_E_NETWORK = 7131,
    /// The request or the operation (call option `timeout_ms`) timed out. Transient: retry later.
    MSSTORE_E_TIMEOUT = 7132,
    /// The service answered 404 or the referenced object does not exist. Do not retry as is.
    MSSTORE_E_NOT_FOUND = 7140,
    /// The service refused the request for a business reason (e.g. insufficient quantity, too
    /// many pages). Read the error's codes and message.
    MSSTORE_E_SERVICE = 7141,
    /// A consume, grant or subscription change may or may not have been applied (an attempt
    /// may have reached the Store and no verdict came back). Never grant on it, never treat it
    /// as failed: resend with the id in the error's `tracking_id` (the consume's tracking id
    /// or v6 transaction id, the grant's order id, the subscription's recurrence id) until it
    /// resolves; that is safe (for an Extend, look at the expiration time first).
    MSSTORE_E_CONSUME_OUTCOME_UNKNOWN = 7142,
    /// The service answered something the library could not understand. Retry later; report it
    /// if it persists.
    MSSTORE_E_MALFORMED_RESPONSE = 7143,
    /// The operation was canceled with `msstore_op_cancel`. Nothing to do.
    MSSTORE_E_CANCELED = 7150,
    /// The client is shutting down (`msstore_client_shutdown`/`_free`), or the operation was in
    /// flight when it did. Do not start new operations on this client.
    MSSTORE_E_SHUTTING_DOWN = 7151,
    /// The handle was made in the parent process before `fork()` and is used in the child. The
    /// child has none of the parent's threads, and its client shares the parent's epoll
    /// instance, so the library never touches an inherited object: every call with it returns
    /// this code, and freeing it leaks it on purpose (freeing would disturb the parent's
    /// sockets). Create a new client in the child; the parent is unaffected. Detected with
    /// `pthread_atfork`, so `fork()` must be libc's (a raw `clone` system call is not seen).
    MSSTORE_E_FORKED = 7152,
    /// Clawback delete: the pop receipt was superseded by a later receive (400
    /// PopReceiptMismatch). The message will be delivered again; skip it and carry on.
    MSSTORE_E_POP_RECEIPT_MISMATCH = 7160,
    /// Clawback delete: the message no longer exists (already deleted or expired). Nothing to do.
    MSSTORE_E_MESSAGE_NOT_FOUND = 7161,
    /// A clawback queue message is not a decodable clawback event. Log it and delete it.
    MSSTORE_E_INVALID_CLAWBACK_EVENT = 7162,
    /// The consume ledger's database failed (cannot open, write or read it; PostgreSQL
    /// unreachable). What was recorded is kept; retry later.
    MSSTORE_E_STORAGE = 7170,
    /// The ledger backend named by the options was not compiled into this build (Cargo
    /// features `sqlite` / `postgres`). Use a build with that backend, or the other backend.
    MSSTORE_E_BACKEND_NOT_COMPILED = 7171,
    /// A panic inside msstore was caught at the boundary. The call failed; the process is fine.
    /// Please report it.
    MSSTORE_E_PANIC = 7190,
    /// An internal error (a bug in msstore). Please report it.
    MSSTORE_E_INTERNAL = 7191,
}

/// How an operation delivers its completion (`msstore_call_options.completion_mode`,
/// `msstore_client_options.completion_mode`).
#[repr(i32)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum msstore_completion_mode {
    /// Per call: the client's mode. Per client: `MSSTORE_COMPLETION_QUEUED`.
    MSSTORE_COMPLETION_DEFAULT = 0,
    /// The callback runs on whichever thread calls `msstore_client_poll` (a game thread).
    MSSTORE_COMPLETION_QUEUED = 1,
    /// The callback runs on a library thread as soon as the operation completes. A client's
    /// callbacks run one after another on as few threads as keep up; one that blocks may hold
    /// the next back for about 10 ms, then another thread takes over.
    MSSTORE_COMPLETION_IMMEDIATE = 2,
    /// The start function blocks until completion (or `timeout_ms`), runs the callback (if any)
    /// on the calling thread and returns the operation's result code.
    MSSTORE_COMPLETION_BLOCKING = 3,
    /// The callback runs on the library worker thread that completed the operation, at once:
    /// no hand-off to another thread, so no wake-up of one (the lowest latency and CPU per
    /// call). The callback must return quickly and must not block: while it runs, that worker
    /// drives no other operation. Starting further operations from it is fine (QUEUED,
    /// IMMEDIATE or INLINE); waiting is refused with `MSSTORE_E_INVALID_ARGUMENT`
    /// (`msstore_op_wait` and `msstore_client_wait` with a timeout, and BLOCKING starts).
    /// Only an operation that its own task ends on a worker (a result, an error, its
    /// `timeout_ms`) is delivered there; one ended by a cancel, a shutdown or a deadline that
    /// passed while it waited for a connection slot, or inside its start call, is delivered as
    /// IMMEDIATE, so a callback never runs inside the start or cancel call that caused it.
    MSSTORE_COMPLETION_INLINE = 4,
}

/// Token audiences for `msstore_client_get_token`.
#[repr(i32)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum msstore_audience {
    /// The service token (`https://onestore.microsoft.com`). Never hand it to a game client.
    MSSTORE_AUDIENCE_SERVICE = 0,
    /// Key-create token a game client uses to mint a UserCollectionsId.
    MSSTORE_AUDIENCE_COLLECTIONS_KEY_CREATE = 1,
    /// Key-create token a game client uses to mint a UserPurchaseId.
    MSSTORE_AUDIENCE_PURCHASE_KEY_CREATE = 2,
}

/// Which service a Store ID key belongs to.
#[repr(i32)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum msstore_key_kind {
    /// UserCollectionsId: entitlement queries and consume.
    MSSTORE_KEY_COLLECTIONS = 1,
    /// UserPurchaseId: grants and subscriptions.
    MSSTORE_KEY_PURCHASE = 2,
}

/// Subscription changes for `msstore_client_change_subscription`.
#[repr(i32)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum msstore_change_type {
    /// No further renewals.
    MSSTORE_CHANGE_CANCEL = 1,
    /// Move the expiration by `extension_days`.
    MSSTORE_CHANGE_EXTEND = 2,
    /// Cancel and refund the remaining time.
    MSSTORE_CHANGE_REFUND = 3,
    /// Turn auto-renew off.
    MSSTORE_CHANGE_TOGGLE_AUTO_RENEW = 4,
}

/// Log levels for `msstore_log_set_callback`.
#[repr(i32)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
// Declared for the header only: C passes the level as an `int32_t`.
#[allow(dead_code)]
pub enum msstore_log_level {
    MSSTORE_LOG_ERROR = 1,
    MSSTORE_LOG_WARN = 2,
    MSSTORE_LOG_INFO = 3,
    MSSTORE_LOG_DEBUG = 4,
    MSSTORE_LOG_TRACE = 5,
}

/// An in-flight (or completed) operation. Thread-safe: any function taking a `msstore_op*` may
/// be called from any thread.
pub struct msstore_op {
    _private: [u8; 0],
}

/// A client. Thread-safe: share one client between any number of threads.
pub struct msstore_client {
    _private: [u8; 0],
}

/// An error object. Immutable; its accessors may be called from any thread.
pub struct msstore_error {
    _private: [u8; 0],
}

/// A service or key-create token. Immutable; thread-safe.
pub struct msstore_token {
    _private: [u8; 0],
}

/// A decoded Store ID key. Immutable; thread-safe.
pub struct msstore_key {
    _private: [u8; 0],
}

/// The entitlements of a query (all pages, or one page). Immutable; thread-safe.
pub struct msstore_entitlements {
    _private: [u8; 0],
}

/// The result of a consume. Immutable; thread-safe.
pub struct msstore_consume_result {
    _private: [u8; 0],
}

/// The order a free-product grant created. Immutable; thread-safe.
pub struct msstore_order {
    _private: [u8; 0],
}

/// Subscriptions (a query's, or the one a change returned). Immutable; thread-safe.
pub struct msstore_subscriptions {
    _private: [u8; 0],
}

/// Completion callback of every network operation. Called exactly once per started operation
/// (also on cancel, timeout and shutdown). `op` is valid during the call: take results with the
/// `msstore_op_take_*` functions; whatever is not taken is freed with the operation.
pub type msstore_completion_cb =
    Option<unsafe extern "C" fn(user_data: *mut c_void, code: msstore_result, op: *mut msstore_op)>;

/// Log callback: `target` and `message` are valid during the call only; secrets are redacted.
/// Called from any thread, possibly concurrently.
pub type msstore_log_cb = Option<
    unsafe extern "C" fn(
        user_data: *mut c_void,
        level: i32,
        target: *const c_char,
        message: *const c_char,
    ),
>;

/// Types that C passes in by pointer with a `uint32_t struct_size` first field. All-zero bytes
/// must be a valid value meaning "defaults".
///
/// # Safety
/// The type must be `repr(C)`, start with a `u32` size field and contain only integers, floats
/// and raw pointers (so that any zeroed or C-written bytes are a valid value).
pub(crate) unsafe trait Versioned: Sized {}

/// Client options for `msstore_client_new`. Set `struct_size = sizeof(msstore_client_options)`
/// (`msstore_client_options_init` does it); fields a caller's older header lacks take their
/// defaults. As with every struct that has a `struct_size`, a size that is not `sizeof` the
/// struct in some published header (one that ends inside a field, or one larger than this
/// library's struct) is `MSSTORE_E_INVALID_ARGUMENT`, and the message says which sizes this
/// library accepts. Strings are NUL-terminated UTF-8, copied during the call; NULL means "default".
#[repr(C)]
#[derive(Clone, Copy)]
pub struct msstore_client_options {
    pub struct_size: u32,
    /// Entra tenant (directory) id. Required.
    pub tenant_id: *const c_char,
    /// Entra application (client) id. Required.
    pub client_id: *const c_char,
    /// Entra client secret. Required. Never logged.
    pub client_secret: *const c_char,
    /// Points login, collections and purchase at one emulator (`{url}/login` …).
    pub emulator_base_url: *const c_char,
    /// Overrides (applied after `emulator_base_url`).
    pub login_base_url: *const c_char,
    pub collections_base_url: *const c_char,
    pub purchase_base_url: *const c_char,
    /// Sent as User-Agent. Default `msstore/<version>`.
    pub service_identity: *const c_char,
    /// 1 or 2 (default 2: `/oauth2/v2.0/token`).
    pub entra_version: u32,
    /// 0 = default (10 000).
    pub connect_timeout_ms: u32,
    /// One HTTP attempt. 0 = default (30 000).
    pub request_timeout_ms: u32,
    /// Attempts in total including the first; 0 = default (4); 1 disables retries.
    pub max_attempts: u32,
    /// Runtime worker threads; 0 = default (2).
    pub worker_threads: u32,
    /// Most pages an all-pages query follows; 0 = default (100).
    pub max_pages: u32,
    /// A `msstore_completion_mode` value: the mode of calls that do not choose one.
    pub completion_mode: i32,
    /// Deadline of every operation that does not set its own; 0 = none.
    pub operation_timeout_ms: u32,
    /// Requests in flight at once per host; further operations wait in a queue (the wait
    /// counts against `operation_timeout_ms`, not `request_timeout_ms`). 0 = default (512).
    /// Added in 0.1 after `operation_timeout_ms`: callers built with an older header (smaller
    /// `struct_size`) get the default.
    pub max_connections_per_host: u32,
    /// Largest response body read from any service, however it is framed; a longer one fails
    /// with `MSSTORE_E_MALFORMED_RESPONSE` naming the cap. 0 = default (8 MiB); else
    /// 65536..=1073741824. Added in 0.1 after `max_connections_per_host`. A u64, so it starts
    /// exactly at the older struct's end on every ABI (never in its tail padding, which an older
    /// caller may leave uninitialised): callers built with an older header get the default.
    pub max_response_bytes: u64,
    /// Extra trusted root certificate(s), PEM text, added to the built-in roots (a
    /// TLS-inspecting proxy, the emulator's TLS mode). NULL = none. Added in 0.1 after
    /// `max_response_bytes`, like every field below: callers built with an older header get
    /// the defaults.
    pub extra_root_cert_pem: *const c_char,
    /// The same, read from a PEM file when the client is created. NULL = none.
    pub extra_root_cert_path: *const c_char,
    /// Refresh a cached service token when less than this remains; 0 = default (300 000).
    pub token_refresh_margin_ms: u32,
    /// Renew a Store ID key at least this long before it expires; 0 = default (86 400 000).
    pub key_renew_margin_ms: u32,
    /// First retry delay (doubled on each retry, with jitter); 0 = default (200).
    pub retry_base_delay_ms: u32,
    /// Longest retry delay; 0 = default (5 000).
    pub retry_max_delay_ms: u32,
    /// Longest `Retry-After` honoured; 0 = default (30 000).
    pub max_retry_after_ms: u32,
    /// Idle keep-alive connections kept per host, at least `max_connections_per_host`; 0 = default (256).
    pub max_idle_connections_per_host: u32,
    // Added after max_idle_connections_per_host (the credential forms; the older struct ends
    // 8-aligned, so `credential` starts exactly at its end): older callers get the defaults.
    /// The credential (`msstore_credential_new_*`); non-NULL wins over `client_secret`, which
    /// may then be NULL. The client keeps its own reference (free the handle whenever).
    pub credential: *const msstore_credential,
    /// During a rotation, the credential being replaced: the new one (`credential`, or
    /// `client_secret`) is tried first, this one while Entra refuses the new one as wrong
    /// (AADSTS7000215, AADSTS700027). NULL = none. Cannot be a provider.
    pub previous_credential: *const msstore_credential,
    /// Warn (log) this many days before the credential expires (a certificate's notAfter);
    /// 0 = default (14).
    pub credential_expiry_warning_days: u32,
}
// SAFETY: repr(C), u32 first, only integers and raw pointers.
unsafe impl Versioned for msstore_client_options {}

/// Per-call options (every network operation takes one; NULL = client defaults).
#[repr(C)]
#[derive(Clone, Copy)]
pub struct msstore_call_options {
    pub struct_size: u32,
    /// A `msstore_completion_mode` value; 0 = the client's mode.
    pub completion_mode: i32,
    /// Deadline of this operation in ms (it completes with `MSSTORE_E_TIMEOUT`); 0 = the
    /// client's `operation_timeout_ms`.
    pub timeout_ms: u32,
}
// SAFETY: repr(C), u32 first, only integers.
unsafe impl Versioned for msstore_call_options {}

/// An entitlement query (`msstore_client_query_entitlements`).
#[repr(C)]
#[derive(Clone, Copy)]
pub struct msstore_query_options {
    pub struct_size: u32,
    /// 9 (default when 0; publisherQuery, needs product ids), 8 (b2bLicensePreview) or 6.
    pub api_version: u32,
    /// The UserCollectionsId. Required.
    pub collections_key: *const c_char,
    /// `product_count` product ids (required for v9, optional filters for v6/v8).
    pub product_ids: *const *const c_char,
    /// Optional parallel array of sku ids (entries may be NULL).
    pub sku_ids: *const *const c_char,
    pub product_count: usize,
    /// Non-zero: fetch one page only (see `continuation_token`); 0: follow all pages.
    pub single_page: u32,
    /// Continue a single-page query (`msstore_entitlements_info.continuation_token`).
    pub continuation_token: *const c_char,
    /// 0 = default (100).
    pub max_page_size: u32,
    /// Non-zero: keep duplicates (v8/v9 `excludeDuplicates=false`).
    pub include_duplicates: u32,
    /// `"All"`, `"Valid"`, `"Invalid"`; NULL = service default.
    pub validity_type: *const c_char,
    /// Sandbox id; NULL = none.
    pub sbx: *const c_char,
}
// SAFETY: repr(C), u32 first, only integers and raw pointers.
unsafe impl Versioned for msstore_query_options {}

/// A consume (`msstore_client_consume`).
#[repr(C)]
#[derive(Clone, Copy)]
pub struct msstore_consume_options {
    pub struct_size: u32,
    /// The UserCollectionsId. Required.
    pub collections_key: *const c_char,
    /// Required.
    pub product_id: *const c_char,
    /// Store-managed: units to remove (>= 1). 0 = developer-managed consumable (whole item).
    pub quantity: u32,
    /// A GUID; NULL = generated. Resend with the same id after `MSSTORE_E_CONSUME_OUTCOME_UNKNOWN`.
    pub tracking_id: *const c_char,
    pub sbx: *const c_char,
}
// SAFETY: repr(C), u32 first, only integers and raw pointers.
unsafe impl Versioned for msstore_consume_options {}

/// A legacy v6 consume (`msstore_client_consume_v6`), in one of two forms: A = `item_id` (from a v6
/// query) + `tracking_id`; B = `product_id` + `transaction_id` (from the purchase or a query).
/// Set the fields of exactly one form.
#[repr(C)]
#[derive(Clone, Copy)]
pub struct msstore_consume_v6_options {
    pub struct_size: u32,
    /// The UserCollectionsId. Required.
    pub collections_key: *const c_char,
    /// Form A: the collection item id.
    pub item_id: *const c_char,
    /// Form A: a GUID; NULL = generated. Resend with the same id after
    /// `MSSTORE_E_CONSUME_OUTCOME_UNKNOWN`. Must be NULL in form B.
    pub tracking_id: *const c_char,
    /// Form B: the product id.
    pub product_id: *const c_char,
    /// Form B: the purchase's transaction id.
    pub transaction_id: *const c_char,
}
// SAFETY: repr(C), u32 first, only raw pointers.
unsafe impl Versioned for msstore_consume_v6_options {}

/// A free-product grant (`msstore_client_grant_free_product`).
#[repr(C)]
#[derive(Clone, Copy)]
pub struct msstore_grant_options {
    pub struct_size: u32,
    /// The UserPurchaseId. Required.
    pub purchase_key: *const c_char,
    pub product_id: *const c_char,
    pub sku_id: *const c_char,
    pub availability_id: *const c_char,
    /// NULL = "en-us".
    pub language: *const c_char,
    /// NULL = "us".
    pub market: *const c_char,
    /// A GUID; NULL = generated (and reused on retries).
    pub order_id: *const c_char,
    pub dev_offer_id: *const c_char,
}
// SAFETY: repr(C), u32 first, only integers and raw pointers.
unsafe impl Versioned for msstore_grant_options {}

/// A subscription query (`msstore_client_query_subscriptions`).
#[repr(C)]
#[derive(Clone, Copy)]
pub struct msstore_subscription_query_options {
    pub struct_size: u32,
    /// The UserPurchaseId. Required.
    pub purchase_key: *const c_char,
    /// Non-zero: one page only.
    pub single_page: u32,
    pub continuation_token: *const c_char,
    /// 0 = service default.
    pub page_size: u32,
    pub sbx: *const c_char,
}
// SAFETY: repr(C), u32 first, only integers and raw pointers.
unsafe impl Versioned for msstore_subscription_query_options {}

/// A subscription change (`msstore_client_change_subscription`).
#[repr(C)]
#[derive(Clone, Copy)]
pub struct msstore_subscription_change_options {
    pub struct_size: u32,
    /// The UserPurchaseId. Required.
    pub purchase_key: *const c_char,
    /// Required (`msstore_subscription.id` / `msstore_entitlement.recurrence_id`).
    pub recurrence_id: *const c_char,
    /// A `msstore_change_type` value.
    pub change_type: i32,
    /// Days for `MSSTORE_CHANGE_EXTEND`.
    pub extension_days: i32,
    pub sbx: *const c_char,
}
// SAFETY: repr(C), u32 first, only integers and raw pointers.
unsafe impl Versioned for msstore_subscription_change_options {}

/// One entitlement, filled by `msstore_entitlements_item_at`. String pointers are owned by the
/// `msstore_entitlements` handle and valid until it is freed; NULL means absent. Dates are
/// ISO 8601 strings and Unix milliseconds (0 when absent).
#[repr(C)]
#[derive(Clone, Copy)]
pub struct msstore_entitlement {
    /// Set by the caller to `sizeof(msstore_entitlement)`; the library writes at most that much.
    pub struct_size: u32,
    pub id: *const c_char,
    pub product_id: *const c_char,
    pub sku_id: *const c_char,
    /// "Durable", "Consumable", "UnmanagedConsumable", "Game", "Pass", …
    pub product_kind: *const c_char,
    /// "Active", "Expired", "Revoked", "Banned", "Suspended", …
    pub status: *const c_char,
    /// Non-zero when the status is Active and the end date (if any) is in the future.
    pub is_active: u32,
    pub quantity: i64,
    pub acquisition_type: *const c_char,
    pub acquired_date: *const c_char,
    pub start_date: *const c_char,
    pub end_date: *const c_char,
    pub modified_date: *const c_char,
    pub start_date_unix_ms: i64,
    pub end_date_unix_ms: i64,
    pub transaction_id: *const c_char,
    /// Subscription recurrence id (pass to `msstore_client_change_subscription`), or NULL.
    pub recurrence_id: *const c_char,
    pub order_id: *const c_char,
    /// Non-zero when the item carries trial data.
    pub has_trial_data: u32,
    pub is_trial: u32,
    pub is_in_trial_period: u32,
    /// .NET TimeSpan string as sent, or NULL.
    pub trial_time_remaining: *const c_char,
    /// Parsed `trial_time_remaining` in seconds, or -1.
    pub trial_seconds_remaining: i64,
}

/// Summary of a consume, filled by `msstore_consume_result_get_info`. Strings owned by the handle.
#[repr(C)]
#[derive(Clone, Copy)]
pub struct msstore_consume_result_info {
    pub struct_size: u32,
    pub item_id: *const c_char,
    pub product_id: *const c_char,
    pub tracking_id: *const c_char,
    /// Remaining balance (0 for developer-managed consumables).
    pub new_quantity: i64,
    /// Number of order transactions (`msstore_consume_result_transaction_at`).
    pub transaction_count: usize,
}

/// One order line a consume drew from. Strings owned by the consume result handle.
#[repr(C)]
#[derive(Clone, Copy)]
pub struct msstore_order_transaction {
    pub struct_size: u32,
    pub order_id: *const c_char,
    pub order_line_item_id: *const c_char,
    pub quantity_consumed: i64,
}

/// Summary of an order, filled by `msstore_order_get_info`. Strings owned by the handle.
#[repr(C)]
#[derive(Clone, Copy)]
pub struct msstore_order_info {
    pub struct_size: u32,
    pub order_id: *const c_char,
    pub order_state: *const c_char,
    pub created_time: *const c_char,
    pub currency_code: *const c_char,
    pub market: *const c_char,
    pub total_amount: f64,
    pub line_item_count: usize,
}

/// One order line, filled by `msstore_order_line_item`. Strings owned by the order handle.
#[repr(C)]
#[derive(Clone, Copy)]
pub struct msstore_order_line_item {
    pub struct_size: u32,
    pub line_item_id: *const c_char,
    pub product_id: *const c_char,
    pub sku_id: *const c_char,
    pub availability_id: *const c_char,
    pub product_type: *const c_char,
    pub quantity: i64,
    pub billing_state: *const c_char,
    pub fulfillment_state: *const c_char,
    pub title: *const c_char,
}

/// One subscription, filled by `msstore_subscriptions_item_at`. Strings owned by the handle; dates
/// ISO 8601 (NULL when absent) plus Unix milliseconds (0 when absent).
#[repr(C)]
#[derive(Clone, Copy)]
pub struct msstore_subscription {
    pub struct_size: u32,
    /// The recurrence id.
    pub id: *const c_char,
    pub product_id: *const c_char,
    pub sku_id: *const c_char,
    /// "None", "Active", "Inactive", "Canceled", "InDunning", "Failed", "Revoked" (as sent).
    pub recurrence_state: *const c_char,
    pub auto_renew: u32,
    pub is_trial: u32,
    pub beneficiary: *const c_char,
    pub start_time: *const c_char,
    pub expiration_time: *const c_char,
    pub expiration_time_with_grace: *const c_char,
    pub cancellation_date: *const c_char,
    pub expiration_time_unix_ms: i64,
    pub expiration_time_with_grace_unix_ms: i64,
    pub market: *const c_char,
}

/// A decoded Store ID key, filled by `msstore_key_get_info`. Strings owned by the key handle.
#[repr(C)]
#[derive(Clone, Copy)]
pub struct msstore_key_info {
    pub struct_size: u32,
    /// A `msstore_key_kind` value.
    pub kind: i32,
    pub audience: *const c_char,
    /// Entra client id the key was minted for.
    pub client_id: *const c_char,
    /// The publisherUserId the game passed when minting, or NULL.
    pub user_id: *const c_char,
    /// Informational only: renewal never goes there.
    pub refresh_uri: *const c_char,
    pub issued_at_unix_ms: i64,
    /// 0 when absent.
    pub not_before_unix_ms: i64,
    pub expires_at_unix_ms: i64,
    /// When to renew: min(iat + 14 days, exp - margin).
    pub renew_after_unix_ms: i64,
    pub is_expired: u32,
    pub needs_renewal: u32,
    /// The key itself (for a renewed key: the new key, which replaces the old one; persist it).
    /// A secret: never log it. Added in 0.1 after `needs_renewal`.
    pub value: *const c_char,
}

/// `Default` as all-zero bytes, for C structs (options: "every default"; views: empty).
/// Only for `repr(C)` structs of integers, floats and raw pointers.
/// An error's details, filled by `msstore_error_get_info`. Strings owned by the error (valid
/// until `msstore_error_free`); NULL means absent. Never holds a secret.
#[repr(C)]
#[derive(Clone, Copy)]
pub struct msstore_error_info {
    pub struct_size: u32,
    /// The result code (a `msstore_result` value).
    pub code: i32,
    /// The error kind as a stable snake_case name (`"throttled"`).
    pub kind: *const c_char,
    /// A sentence for logs.
    pub message: *const c_char,
    /// HTTP status of the failing response, or 0 when no response arrived.
    pub http_status: u32,
    /// How long the service asked us to wait, in milliseconds; -1 when it did not say.
    pub retry_after_ms: i64,
    /// The service's error code (ServiceError `code`, or Entra's `error`).
    pub service_code: *const c_char,
    /// The service's inner error code (e.g. `"InconsistentClientId"`).
    pub inner_code: *const c_char,
    /// The MS-CV correlation vector of the failing exchange.
    pub ms_cv: *const c_char,
    /// MS-CorrelationId / MS-RequestId (or Entra's correlation id).
    pub correlation_id: *const c_char,
    /// For a consume, grant or subscription change: the id to resend with.
    pub tracking_id: *const c_char,
}

/// A token, filled by `msstore_token_get_info`. Strings owned by the token handle.
#[repr(C)]
#[derive(Clone, Copy)]
pub struct msstore_token_info {
    pub struct_size: u32,
    /// A `msstore_audience` value.
    pub audience: i32,
    /// The bearer token (a JWT). A secret: never log it; hand key-create tokens only to your own
    /// game clients, never the service token.
    pub value: *const c_char,
    /// When the token expires (local clock), Unix milliseconds.
    pub expires_at_unix_ms: i64,
}

/// The summary of an entitlements result, filled by `msstore_entitlements_get_info`.
#[repr(C)]
#[derive(Clone, Copy)]
pub struct msstore_entitlements_info {
    pub struct_size: u32,
    /// Pages fetched (1 for a single-page query).
    pub pages: u32,
    /// Number of entitlements (`msstore_entitlements_item_at`).
    pub count: usize,
    /// Items dropped as duplicates across pages (all-pages queries).
    pub duplicates_removed: u32,
    /// The continuation token of a single-page query (pass it back for the next page); NULL on
    /// the last page and for all-pages queries. Owned by the handle.
    pub continuation_token: *const c_char,
}

/// The summary of a subscriptions result, filled by `msstore_subscriptions_get_info`.
#[repr(C)]
#[derive(Clone, Copy)]
pub struct msstore_subscriptions_info {
    pub struct_size: u32,
    /// Number of subscriptions (`msstore_subscriptions_item_at`).
    pub count: usize,
    /// Continuation token of a single-page query, or NULL. Owned by the handle.
    pub continuation_token: *const c_char,
}

macro_rules! zeroed_default {
    ($($t:ty),*) => {$(
        impl Default for $t {
            fn default() -> Self {
                // SAFETY: the type holds only integers, floats and raw pointers, for which all-zero
                // bytes (0, 0.0, NULL) are valid values.
                unsafe { std::mem::zeroed() }
            }
        }
    )*};
}
pub(crate) use zeroed_default;
zeroed_default!(
    msstore_client_options,
    msstore_call_options,
    msstore_query_options,
    msstore_consume_options,
    msstore_consume_v6_options,
    msstore_grant_options,
    msstore_subscription_query_options,
    msstore_subscription_change_options,
    msstore_entitlement,
    msstore_consume_result_info,
    msstore_order_transaction,
    msstore_order_info,
    msstore_order_line_item,
    msstore_subscription,
    msstore_key_info,
    msstore_error_info,
    msstore_token_info,
    msstore_entitlements_info,
    msstore_subscriptions_info
);
