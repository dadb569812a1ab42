// GoogleTest suite of the C++ wrapper (bindings/cpp/include/msstore.hpp), run by
// scripts/test-cpp.sh against a fresh emulator (MSSTORE_EMU_SEED = its seed line).
// Compiled with -std=c++17 -Wall -Wextra -Werror -fno-exceptions -fno-rtti. Prints
// "N passed, M failed" (tests) as its last line.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstring>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>
#include <type_traits>
#include <vector>

#include "emulator.hpp"
#include "msstore.hpp"

using namespace std::chrono_literals;
using msstore::CallOptions;
using msstore::Client;
using msstore::Code;
using msstore::CompletionMode;
using msstore::Operation;
using msstore::Result;

namespace {

const emu::Seed &S() { return emu::Seed::get(); }

msstore::ClientOptions options(uint32_t max_attempts = 0, CompletionMode mode = CompletionMode::Queued) {
  msstore::ClientOptions o;
  o.tenant_id = S().tenant;
  o.client_id = S().client_id;
  o.client_secret = S().secret;
  o.emulator_base_url = S().base;
  o.max_attempts = max_attempts;
  o.worker_threads = 2;
  o.completion_mode = mode;
  return o;
}

Client make_client(uint32_t max_attempts = 0, CompletionMode mode = CompletionMode::Queued) {
  Result<Client> c = Client::create(options(max_attempts, mode));
  EXPECT_TRUE(c.ok()) << c.error().message;
  return std::move(c).value();
}

// Polls `c` (when given) until `done()` or ~20 s pass.
template <class F>
bool wait_until(F done, Client *c = nullptr, std::chrono::milliseconds limit = 20000ms) {
  const auto end = std::chrono::steady_clock::now() + limit;
  while (!done()) {
    if (std::chrono::steady_clock::now() > end) return false;
    if (c) c->poll();
    std::this_thread::sleep_for(2ms);
  }
  return true;
}

const char *mode_name(CompletionMode m) {
  switch (m) {
    case CompletionMode::Queued: return "Queued";
    case CompletionMode::Immediate: return "Immediate";
    case CompletionMode::Blocking: return "Blocking";
    default: return "Default";
  }
}

// Runs one operation with a callback in `mode` and checks the completion contract: exactly one
// call; QUEUED only inside poll() on the polling thread, IMMEDIATE on a library thread,
// BLOCKING on the caller before the start returns. Returns what the callback received.
template <class T, class Start>
Result<T> run_with_callback(Client &c, CompletionMode mode, Start start) {
  struct Seen {
    std::mutex m;
    std::atomic<int> calls{0};
    std::thread::id thread;
    std::optional<Result<T>> got;
  };
  auto seen = std::make_shared<Seen>();  // shared: an IMMEDIATE callback may outlive a failed EXPECT
  msstore::Callback<T> cb = [seen](Result<T> r) {
    std::lock_guard<std::mutex> g(seen->m);
    seen->thread = std::this_thread::get_id();
    seen->got.emplace(std::move(r));
    seen->calls.fetch_add(1);
  };
  Operation<T> op = start(std::move(cb), CallOptions{mode, 20000ms});
  EXPECT_TRUE(op.started()) << msstore::code_name(op.status());
  if (!op.started()) return op.take();
  if (mode == CompletionMode::Blocking) {
    EXPECT_EQ(seen->calls.load(), 1);
    EXPECT_TRUE(op.ready());
  } else {
    EXPECT_NE(op.wait(20000ms), Code::Pending);
    if (mode == CompletionMode::Queued) {
      EXPECT_EQ(seen->calls.load(), 0) << "queued callbacks run only inside poll()";
      EXPECT_TRUE(wait_until([&] { return seen->calls.load() == 1; }, &c));
    } else {
      EXPECT_TRUE(wait_until([&] { return seen->calls.load() == 1; }));
    }
  }
  c.poll();
  std::lock_guard<std::mutex> g(seen->m);
  EXPECT_EQ(seen->calls.load(), 1);
  if (mode == CompletionMode::Immediate) {
    EXPECT_NE(seen->thread, std::this_thread::get_id());
  } else {
    EXPECT_EQ(seen->thread, std::this_thread::get_id());
  }
  if (!seen->got) return msstore::Error::from_code(Code::Internal, "callback did not run");
  EXPECT_EQ(op.status(), seen->got->code());
  // The callback took the value: the handle has nothing left to give.
  if (seen->got->ok()) {
    EXPECT_EQ(op.take().code(), Code::NoResult);
  }
  return std::move(*seen->got);
}

// The same operation without a callback, as a future: get() waits and takes.
template <class T, class Start>
Result<T> run_as_future(Client &c, CompletionMode mode, Start start) {
  Operation<T> op = start(msstore::Callback<T>(), CallOptions{mode, 20000ms});
  EXPECT_TRUE(op.started());
  Result<T> r = op.get();
  EXPECT_EQ(op.take().code(), r.ok() ? Code::NoResult : r.code());
  op.reset();
  EXPECT_TRUE(wait_until([&] { return c.pending() == 0; }, &c));  // drain the queued delivery
  return r;
}

}  // namespace

// ---- no network ---------------------------------------------------------------------------

TEST(Basics, VersionMatchesHeader) {
  EXPECT_EQ(msstore::version(), MSSTORE_VERSION_STRING);
  EXPECT_STREQ(msstore::code_name(Code::Throttled), "MSSTORE_E_THROTTLED");
  EXPECT_STREQ(msstore::code_name(static_cast<Code>(12345)), "MSSTORE_UNKNOWN");
}

TEST(Basics, EveryCodeHasANameKindAndDescription) {
  const Code all[] = {Code::Ok, Code::InvalidArgument, Code::NullPointer, Code::InvalidUtf8, Code::TooLong,
                      Code::InvalidHandle, Code::BufferTooSmall, Code::Pending, Code::NoResult,
                      Code::BorrowedHandle, Code::Configuration, Code::InvalidKey, Code::EntraAuth, Code::Unauthorized,
                      Code::KeyMustBeReminted, Code::ClientIdMismatch, Code::MissingServiceToken,
                      Code::Throttled, Code::Network, Code::Timeout, Code::NotFound, Code::Service,
                      Code::ConsumeOutcomeUnknown, Code::MalformedResponse, Code::Canceled,
                      Code::ShuttingDown, Code::Forked, Code::PopReceiptMismatch, Code::MessageNotFound,
                      Code::InvalidClawbackEvent, Code::Storage, Code::BackendNotCompiled,
                      Code::Panic, Code::Internal};
  for (Code c : all) {
    EXPECT_STRNE(msstore::code_name(c), "MSSTORE_UNKNOWN") << static_cast<int>(c);
    EXPECT_GT(std::strlen(msstore::code_description(c)), 5u);
    if (c == Code::Ok) continue;
    msstore::Error e = msstore::Error::from_code(c);
    EXPECT_EQ(e.code, c);
    EXPECT_FALSE(e.kind.empty());
    EXPECT_EQ(e.message, msstore::code_description(c));
    EXPECT_FALSE(e.ok());
  }
  EXPECT_EQ(msstore::Error::from_code(Code::MissingServiceToken).kind, "missing_service_token");
  EXPECT_EQ(msstore::Error::from_code(Code::Storage).kind, "storage");
  EXPECT_EQ(msstore::Error::from_code(Code::BackendNotCompiled).kind, "backend_not_compiled");
  EXPECT_EQ(msstore::Error::from_code(Code::PopReceiptMismatch).kind, "pop_receipt_mismatch");
  EXPECT_TRUE(msstore::is_transient(Code::Throttled));
  EXPECT_FALSE(msstore::is_transient(Code::ClientIdMismatch));
#ifdef MSSTORE_TEST_HOOKS
  // A panic inside the library is a code, not a dead process (the hook is in test builds only;
  // scripts/test-package.sh runs this suite against the shipped library, which lacks it).
  EXPECT_EQ(static_cast<Code>(msstore_debug_trigger_panic()), Code::Panic);
#endif
}

TEST(Basics, ResultNeverCrashesOnMisuse) {
  Result<msstore::Entitlements> r = msstore::Error::from_code(Code::Network);
  EXPECT_FALSE(r);
  EXPECT_EQ(r.code(), Code::Network);
  EXPECT_FALSE(r.value());  // an empty owner, not a crash
  EXPECT_EQ(r->size(), 0u);
  Result<msstore::Entitlements> ok = msstore::Entitlements();
  EXPECT_TRUE(ok.ok());
  EXPECT_EQ(ok.error().code, Code::Ok);
  // An "error" without a code is still an error.
  Result<int> bad = msstore::Error();
  EXPECT_EQ(bad.code(), Code::Internal);
  msstore::Status st = msstore::Status::from_code(Code::Ok);
  EXPECT_TRUE(st.ok());
  EXPECT_EQ(msstore::Status::from_code(Code::Timeout).code(), Code::Timeout);
}

TEST(Keys, DecodeGivesTypedClaims) {
  Result<msstore::Key> k = msstore::Key::decode(S().ckey);
  ASSERT_TRUE(k.ok()) << k.error().message;
  Result<msstore::KeyInfo> info = k->info();
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->kind, msstore::KeyKind::Collections);
  EXPECT_EQ(info->client_id, S().client_id);
  EXPECT_EQ(info->user_id, "player-004512");
  EXPECT_EQ(info->expires_at - info->issued_at, std::chrono::hours(24 * 30));
  EXPECT_LE(info->renew_after, info->expires_at);
  EXPECT_EQ(k->value(), S().ckey);
  EXPECT_EQ(k->json().find("eyJ"), std::string::npos);  // no secret in the description
  Result<msstore::Key> pk = msstore::Key::decode(S().pkey);
  ASSERT_TRUE(pk.ok());
  EXPECT_EQ(pk->info()->kind, msstore::KeyKind::Purchase);
}

TEST(Keys, BadKeysGiveClearErrors) {
  Result<msstore::Key> k = msstore::Key::decode("not-a-key");
  EXPECT_EQ(k.code(), Code::InvalidKey);
  EXPECT_EQ(k.error().kind, "invalid_key");
  EXPECT_FALSE(k.error().message.empty());
  EXPECT_FALSE(k->get());
  EXPECT_EQ(msstore::Key::decode("\xff\xfe").code(), Code::InvalidUtf8);
  EXPECT_EQ(msstore::Key::decode(std::string(70000, 'a')).code(), Code::TooLong);
  Result<msstore::Key> nul = msstore::Key::decode(std::string("ab\0cd", 5));
  EXPECT_EQ(nul.code(), Code::InvalidArgument);
  EXPECT_NE(nul.error().message.find("NUL"), std::string::npos);
}

TEST(Clients, ConfigurationErrors) {
  msstore::ClientOptions o = options();
  o.tenant_id.clear();
  Result<Client> c = Client::create(o);
  EXPECT_EQ(c.code(), Code::Configuration);
  EXPECT_FALSE(c.error().message.empty());
  EXPECT_FALSE(c.value());
  o = options();
  o.emulator_base_url = "http://10.1.2.3:80";  // plain http to a non-loopback host
  EXPECT_EQ(Client::create(o).code(), Code::Configuration);
  o = options();
  o.completion_mode = static_cast<CompletionMode>(42);
  EXPECT_EQ(Client::create(o).code(), Code::InvalidArgument);
  o = options();
  o.client_secret = std::string("xyzzy\0plugh", 11);
  Result<Client> nul = Client::create(o);
  EXPECT_EQ(nul.code(), Code::InvalidArgument);
  EXPECT_NE(nul.error().message.find("client_secret"), std::string::npos);
  EXPECT_EQ(nul.error().message.find("xyzzy"), std::string::npos);  // never echoes the secret
  Result<Client> j = Client::from_json("{not json");
  EXPECT_EQ(j.code(), Code::Configuration);
  EXPECT_NE(j.error().message.find("JSON"), std::string::npos);
  EXPECT_EQ(Client::from_json("\xc3\x28").code(), Code::InvalidUtf8);
}

TEST(Clients, FromJsonWithBlockingDefault) {
  const std::string json = "{\"tenant_id\":\"" + S().tenant + "\",\"client_id\":\"" + S().client_id +
                           "\",\"client_secret\":\"" + S().secret + "\",\"emulator_base_url\":\"" + S().base +
                           "\",\"completion_mode\":\"blocking\"}";
  Result<Client> c = Client::from_json(json);
  ASSERT_TRUE(c.ok()) << c.error().message;
  Operation<msstore::Token> op = c->get_token(msstore::Audience::Service);
  EXPECT_TRUE(op.ready());  // the client's default mode is blocking
  Result<msstore::Token> t = op.take();
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(t->value().substr(0, 3), "eyJ");
  EXPECT_GT(t->expires_at(), std::chrono::system_clock::time_point{});
}

// ---- every operation in every completion mode -----------------------------------------------

class Modes : public ::testing::TestWithParam<CompletionMode> {
 protected:
  void SetUp() override { client = make_client(); }
  void TearDown() override { client.reset(); }
  Client client;
};

TEST_P(Modes, GetTokenEveryAudience) {
  for (auto aud : {msstore::Audience::Service, msstore::Audience::CollectionsKeyCreate,
                   msstore::Audience::PurchaseKeyCreate}) {
    auto start = [&](msstore::Callback<msstore::Token> cb, CallOptions co) { return client.get_token(aud, std::move(cb), co); };
    Result<msstore::Token> t = run_with_callback<msstore::Token>(client, GetParam(), start);
    ASSERT_TRUE(t.ok()) << t.error().json;
    EXPECT_EQ(t->audience(), aud);
    EXPECT_EQ(t->value().substr(0, 3), "eyJ");
    Result<msstore::Token> f = run_as_future<msstore::Token>(client, GetParam(), start);
    ASSERT_TRUE(f.ok());
    EXPECT_EQ(f->audience(), aud);
  }
}

TEST_P(Modes, RenewKey) {
  const std::string key = emu::mint_key("collections", emu::fresh_user("renew"));
  ASSERT_FALSE(key.empty());
  auto start = [&](msstore::Callback<msstore::Key> cb, CallOptions co) { return client.renew_key(key, std::move(cb), co); };
  for (int form = 0; form < 2; ++form) {
    Result<msstore::Key> k = form == 0 ? run_with_callback<msstore::Key>(client, GetParam(), start)
                                       : run_as_future<msstore::Key>(client, GetParam(), start);
    ASSERT_TRUE(k.ok()) << k.error().json;
    EXPECT_EQ(k->info()->kind, msstore::KeyKind::Collections);
    EXPECT_EQ(k->value().substr(0, 3), "eyJ");
    EXPECT_FALSE(k->info()->is_expired);
  }
}

TEST_P(Modes, QueryEntitlementsV9V8V6) {
  for (uint32_t v : {9u, 8u, 6u}) {
    msstore::QueryRequest q;
    q.api_version = v;
    q.collections_key = S().ckey;
    if (v == 9) q.product_ids = {S().durable, S().consumable};
    q.single_page = v == 8;
    auto start = [&](msstore::Callback<msstore::Entitlements> cb, CallOptions co) {
      return client.query_entitlements(q, std::move(cb), co);
    };
    Result<msstore::Entitlements> r = run_with_callback<msstore::Entitlements>(client, GetParam(), start);
    ASSERT_TRUE(r.ok()) << "v" << v << ": " << r.error().json;
    std::vector<msstore::Entitlement> items = r->items();
    EXPECT_EQ(items.size(), r->size());
    auto durable = std::find_if(items.begin(), items.end(), [](const msstore::Entitlement &e) { return e.product_id == S().durable; });
    ASSERT_NE(durable, items.end()) << "v" << v;
    EXPECT_EQ(durable->status, msstore::EntitlementStatus::Active);
    EXPECT_EQ(durable->status_name, "Active");
    EXPECT_EQ(durable->product_kind, msstore::ProductKind::Durable);
    EXPECT_TRUE(durable->is_active);
    if (v == 9) {
      EXPECT_EQ(items.size(), 2u);
      auto cons = std::find_if(items.begin(), items.end(), [](const msstore::Entitlement &e) { return e.product_id == S().consumable; });
      ASSERT_NE(cons, items.end());
      EXPECT_EQ(cons->product_kind, msstore::ProductKind::Consumable);
      EXPECT_GT(cons->quantity, 0);
    }
    EXPECT_EQ(r->at(r->size()).code(), Code::InvalidArgument);  // out of range: an error, not UB
    EXPECT_EQ(r->raw_json().substr(0, 1), "{");
    EXPECT_GE(r->pages(), 1u);
    Result<msstore::Entitlements> f = run_as_future<msstore::Entitlements>(client, GetParam(), start);
    ASSERT_TRUE(f.ok());
    EXPECT_EQ(f->size(), r->size());
  }
}

TEST_P(Modes, ConsumeStoreManaged) {
  const std::string user = emu::fresh_user("consume");
  const std::string key = emu::mint_key("collections", user);
  ASSERT_EQ(emu::purchase(user, S().consumable, 5), 200);
  msstore::ConsumeRequest req;
  req.collections_key = key;
  req.product_id = S().consumable;
  req.quantity = 1;
  auto start = [&](msstore::Callback<msstore::ConsumeResult> cb, CallOptions co) {
    return client.consume(req, std::move(cb), co);
  };
  Result<msstore::ConsumeResult> r = run_with_callback<msstore::ConsumeResult>(client, GetParam(), start);
  ASSERT_TRUE(r.ok()) << r.error().json;
  Result<msstore::ConsumeInfo> info = r->info();
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->new_quantity, 4);
  EXPECT_EQ(info->tracking_id.size(), 36u);
  EXPECT_EQ(info->product_id, S().consumable);
  ASSERT_EQ(info->transactions.size(), 1u);
  EXPECT_EQ(info->transactions[0].quantity_consumed, 1);
  EXPECT_FALSE(info->transactions[0].order_id.empty());
  Result<msstore::ConsumeResult> f = run_as_future<msstore::ConsumeResult>(client, GetParam(), start);
  ASSERT_TRUE(f.ok()) << f.error().json;
  EXPECT_EQ(f->info()->new_quantity, 3);
}

TEST_P(Modes, ConsumeV6BothForms) {
  const std::string user = emu::fresh_user("v6");
  const std::string key = emu::mint_key("collections", user);
  std::string item;
  {
    std::string body;
    ASSERT_EQ(emu::admin("POST", "/admin/purchases",
                         "{\"store_user_id\":\"" + user + "\",\"product_id\":\"" + S().unmanaged + "\"}", &body),
              200);
    item = emu::field(body.c_str(), "entitlement_id");
  }
  const std::string order = emu::purchase_order(user, S().unmanaged, 1);
  ASSERT_FALSE(item.empty());
  ASSERT_FALSE(order.empty());
  ASSERT_EQ(emu::balance(user, S().unmanaged), 2);

  // Form A, generated tracking id: one unit; resending that id consumes nothing more.
  msstore::ConsumeV6Request a = msstore::ConsumeV6Request::by_item(key, item);
  auto start_a = [&](msstore::Callback<msstore::ConsumeResult> cb, CallOptions co) {
    return client.consume_v6(a, std::move(cb), co);
  };
  Result<msstore::ConsumeResult> r = run_with_callback<msstore::ConsumeResult>(client, GetParam(), start_a);
  ASSERT_TRUE(r.ok()) << r.error().json;
  Result<msstore::ConsumeInfo> info = r->info();
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->tracking_id.size(), 36u);
  EXPECT_EQ(info->item_id, item);
  EXPECT_EQ(info->new_quantity, 0);
  EXPECT_TRUE(info->transactions.empty());
  EXPECT_EQ(emu::balance(user, S().unmanaged), 1);
  a.tracking_id = info->tracking_id;
  Result<msstore::ConsumeResult> again = run_as_future<msstore::ConsumeResult>(client, GetParam(), start_a);
  ASSERT_TRUE(again.ok()) << again.error().json;
  EXPECT_EQ(again->info()->tracking_id, a.tracking_id);
  EXPECT_EQ(emu::balance(user, S().unmanaged), 1);

  // Form B: the transaction id comes back as the tracking id.
  Result<msstore::ConsumeResult> b =
      client.consume_v6(msstore::ConsumeV6Request::by_transaction(key, S().unmanaged, order), CallOptions::blocking()).take();
  ASSERT_TRUE(b.ok()) << b.error().json;
  EXPECT_EQ(b->info()->tracking_id, order);
  EXPECT_EQ(b->info()->product_id, S().unmanaged);
  EXPECT_EQ(emu::balance(user, S().unmanaged), 0);

  // Both forms, a tracking id in form B, an empty key: refused, nothing consumed.
  msstore::ConsumeV6Request both = msstore::ConsumeV6Request::by_item(key, item);
  both.product_id = S().unmanaged;
  both.transaction_id = order;
  EXPECT_EQ(client.consume_v6(both, CallOptions::blocking()).take().code(), Code::InvalidArgument);
  msstore::ConsumeV6Request tracked_b = msstore::ConsumeV6Request::by_transaction(key, S().unmanaged, order);
  tracked_b.tracking_id = a.tracking_id;
  EXPECT_EQ(client.consume_v6(tracked_b, CallOptions::blocking()).status(), Code::InvalidArgument);
  EXPECT_EQ(client.consume_v6(msstore::ConsumeV6Request::by_item("", item), CallOptions::blocking()).take().code(),
            Code::InvalidArgument);
  EXPECT_EQ(emu::balance(user, S().unmanaged), 0);
}

TEST_P(Modes, GrantFreeProduct) {
  for (int form = 0; form < 2; ++form) {
    msstore::GrantRequest g;
    g.purchase_key = emu::mint_key("purchase", emu::fresh_user("grant"));
    g.product_id = S().free_pid;
    g.sku_id = S().free_sku;
    g.availability_id = S().free_avail;
    auto start = [&](msstore::Callback<msstore::Order> cb, CallOptions co) { return client.grant_free_product(g, std::move(cb), co); };
    Result<msstore::Order> o = form == 0 ? run_with_callback<msstore::Order>(client, GetParam(), start)
                                         : run_as_future<msstore::Order>(client, GetParam(), start);
    ASSERT_TRUE(o.ok()) << o.error().json;
    Result<msstore::OrderInfo> info = o->info();
    ASSERT_TRUE(info.ok());
    EXPECT_FALSE(info->order_id.empty());
    ASSERT_EQ(info->line_items.size(), 1u);
    EXPECT_EQ(info->line_items[0].product_id, S().free_pid);
    EXPECT_FALSE(o->raw_json().empty());
  }
}

TEST_P(Modes, QueryAndExtendSubscription) {
  msstore::SubscriptionQuery q;
  q.purchase_key = S().pkey;
  q.single_page = GetParam() == CompletionMode::Immediate;
  auto qstart = [&](msstore::Callback<msstore::Subscriptions> cb, CallOptions co) {
    return client.query_subscriptions(q, std::move(cb), co);
  };
  Result<msstore::Subscriptions> subs = run_with_callback<msstore::Subscriptions>(client, GetParam(), qstart);
  ASSERT_TRUE(subs.ok()) << subs.error().json;
  ASSERT_GE(subs->size(), 1u);
  msstore::Subscription before = subs->at(0).value();
  EXPECT_EQ(before.id, S().recurrence);
  EXPECT_EQ(before.state, msstore::RecurrenceState::Active);
  ASSERT_TRUE(before.expires_at.has_value());
  EXPECT_EQ(run_as_future<msstore::Subscriptions>(client, GetParam(), qstart)->size(), subs->size());

  msstore::SubscriptionChange ch;
  ch.purchase_key = S().pkey;
  ch.recurrence_id = S().recurrence;
  ch.change = msstore::ChangeType::Extend;
  ch.extension_days = 1;
  auto cstart = [&](msstore::Callback<msstore::Subscriptions> cb, CallOptions co) {
    return client.change_subscription(ch, std::move(cb), co);
  };
  Result<msstore::Subscriptions> changed = run_with_callback<msstore::Subscriptions>(client, GetParam(), cstart);
  ASSERT_TRUE(changed.ok()) << changed.error().json;
  ASSERT_EQ(changed->size(), 1u);
  msstore::Subscription after = changed->items().at(0);
  ASSERT_TRUE(after.expires_at.has_value());
  EXPECT_EQ(*after.expires_at - *before.expires_at, std::chrono::hours(24));
  Result<msstore::Subscriptions> again = run_as_future<msstore::Subscriptions>(client, GetParam(), cstart);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(*again->items().at(0).expires_at - *before.expires_at, std::chrono::hours(48));
}

INSTANTIATE_TEST_SUITE_P(AllModes, Modes,
                         ::testing::Values(CompletionMode::Queued, CompletionMode::Immediate, CompletionMode::Blocking),
                         [](const ::testing::TestParamInfo<CompletionMode> &i) { return std::string(mode_name(i.param)); });

// ---- every error family ---------------------------------------------------------------------

class Errors : public ::testing::Test {
 protected:
  void SetUp() override {
    emu::clear_faults();
    client = make_client();
    noretry = make_client(1);
  }
  void TearDown() override {
    emu::clear_faults();
    client.reset();
    noretry.reset();
  }
  Result<msstore::Entitlements> query(Client &c, const std::string &key, CallOptions co = CallOptions::blocking()) {
    msstore::QueryRequest q;
    q.collections_key = key;
    q.product_ids = {S().durable};
    Operation<msstore::Entitlements> op = c.query_entitlements(q, co);
    Result<msstore::Entitlements> r = op.get();
    op.reset();
    wait_until([&] { return c.pending() == 0; }, &c);
    return r;
  }
  Client client, noretry;
};

TEST_F(Errors, RefusedStartsNeverRunTheCallback) {
  std::atomic<int> calls{0};
  msstore::QueryRequest q;
  q.collections_key = S().ckey;
  q.api_version = 7;
  Operation<msstore::Entitlements> op = client.query_entitlements(q, [&](Result<msstore::Entitlements>) { calls++; });
  EXPECT_FALSE(op.started());
  EXPECT_EQ(op.status(), Code::InvalidArgument);
  EXPECT_EQ(op.take().code(), Code::InvalidArgument);
  EXPECT_EQ(op.cancel(), Code::InvalidArgument);
  q.api_version = 9;
  q.collections_key = "\xff";
  EXPECT_EQ(client.query_entitlements(q, [&](Result<msstore::Entitlements>) { calls++; }).status(), Code::InvalidUtf8);
  q.collections_key = S().ckey;
  q.product_ids.assign(5000, S().durable);
  EXPECT_EQ(client.query_entitlements(q).status(), Code::TooLong);
  q.product_ids = {S().durable};
  q.sku_ids = {"a", "b"};
  EXPECT_EQ(client.query_entitlements(q).status(), Code::InvalidArgument);
  EXPECT_EQ(client.get_token(static_cast<msstore::Audience>(99)).status(), Code::InvalidArgument);
  msstore::ConsumeRequest c;
  c.collections_key = S().ckey;
  c.product_id = std::string("9\0X", 3);
  Operation<msstore::ConsumeResult> nul = client.consume(c, [&](Result<msstore::ConsumeResult>) { calls++; });
  EXPECT_EQ(nul.status(), Code::InvalidArgument);
  EXPECT_NE(nul.take().error().message.find("product_id"), std::string::npos);
  Client none;  // an empty client: a code, not a crash
  EXPECT_EQ(none.get_token(msstore::Audience::Service).status(), Code::NullPointer);
  EXPECT_EQ(none.poll(), 0u);
  client.poll();
  EXPECT_EQ(calls.load(), 0);
  EXPECT_EQ(Operation<msstore::Token>().status(), Code::InvalidHandle);
  EXPECT_EQ(Operation<msstore::Token>().take().code(), Code::InvalidHandle);
}

TEST_F(Errors, InvalidArgumentFromTheCore) {
  msstore::QueryRequest q;  // v9 without products: refused by the core, in the callback
  q.collections_key = S().ckey;
  Result<msstore::Entitlements> r = client.query_entitlements(q, CallOptions::immediate()).get();
  EXPECT_EQ(r.code(), Code::InvalidArgument);
  EXPECT_EQ(r.error().kind, "invalid_argument");
  msstore::SubscriptionChange ch;
  ch.purchase_key = S().pkey;
  ch.recurrence_id = S().recurrence;
  ch.change = static_cast<msstore::ChangeType>(77);
  EXPECT_EQ(client.change_subscription(ch, CallOptions::blocking()).status(), Code::InvalidArgument);
}

TEST_F(Errors, EntraAuth) {
  msstore::ClientOptions o = options();
  o.client_secret = "wrong-secret";
  Result<Client> bad = Client::create(o);
  ASSERT_TRUE(bad.ok());
  Result<msstore::Token> t = bad->get_token(msstore::Audience::Service, CallOptions::blocking()).take();
  EXPECT_EQ(t.code(), Code::EntraAuth);
  EXPECT_EQ(t.error().kind, "entra_auth");
  EXPECT_FALSE(t.error().service_code.empty());
  EXPECT_EQ(t.error().json.find("wrong-secret"), std::string::npos);
  EXPECT_EQ(t.error().message.find("wrong-secret"), std::string::npos);
}

TEST_F(Errors, NetworkWhenNothingListens) {
  msstore::ClientOptions o = options(1);
  o.emulator_base_url = "http://127.0.0.1:1";
  Result<Client> bad = Client::create(o);
  ASSERT_TRUE(bad.ok());
  Result<msstore::Token> t = bad->get_token(msstore::Audience::Service, CallOptions::blocking()).take();
  EXPECT_EQ(t.code(), Code::Network);
  EXPECT_EQ(t.error().http_status, 0);
  EXPECT_TRUE(msstore::is_transient(t.code()));
}

TEST_F(Errors, ThrottledCarriesRetryAfterAndMsCv) {
  ASSERT_EQ(emu::add_fault(R"({"route":"collections_v9_query","kind":"throttle","retry_after_secs":120,"times":1})"), 200);
  Result<msstore::Entitlements> r = query(client, S().ckey);
  EXPECT_EQ(r.code(), Code::Throttled);
  EXPECT_EQ(r.error().http_status, 429);
  ASSERT_TRUE(r.error().retry_after.has_value());
  EXPECT_EQ(*r.error().retry_after, 120000ms);
  EXPECT_FALSE(r.error().ms_cv.empty());
}

TEST_F(Errors, ServerErrorAfterRetriesIsNetwork) {
  ASSERT_EQ(emu::add_fault(R"({"route":"collections_v9_query","kind":"status","status":503})"), 200);
  Result<msstore::Entitlements> r = query(noretry, S().ckey, CallOptions::immediate());
  EXPECT_EQ(r.code(), Code::Network);
  EXPECT_EQ(r.error().http_status, 503);
}

TEST_F(Errors, Unauthorized) {
  ASSERT_EQ(emu::add_fault(R"({"route":"collections_v9_query","kind":"status","status":403})"), 200);
  Result<msstore::Entitlements> r = query(noretry, S().ckey);
  EXPECT_EQ(r.code(), Code::Unauthorized);
  EXPECT_EQ(r.error().http_status, 403);
}

TEST_F(Errors, MalformedResponse) {
  ASSERT_EQ(emu::add_fault(R"({"route":"collections_v9_query","kind":"malformed_json"})"), 200);
  Result<msstore::Entitlements> r = query(noretry, S().ckey);
  EXPECT_EQ(r.code(), Code::MalformedResponse);
  EXPECT_EQ(r.error().kind, "malformed_response");
}

TEST_F(Errors, OperationTimeout) {
  ASSERT_EQ(emu::add_fault(R"({"route":"collections_v9_query","kind":"delay","ms":3000,"times":1})"), 200);
  Result<msstore::Entitlements> r = query(client, S().ckey, CallOptions::queued(100ms));
  EXPECT_EQ(r.code(), Code::Timeout);
}

TEST_F(Errors, KeyMustBeRemintedAfterRevocation) {
  const std::string key = emu::mint_key("collections", emu::fresh_user("revoked"));
  ASSERT_EQ(emu::admin("POST", "/admin/keys/revoke", "{\"key\":\"" + key + "\"}"), 200);
  Result<msstore::Key> k = client.renew_key(key, CallOptions::blocking()).take();
  EXPECT_EQ(k.code(), Code::KeyMustBeReminted);
  EXPECT_EQ(k.error().http_status, 401);
  EXPECT_EQ(k.error().json.find(key), std::string::npos);  // the key is a secret
}

TEST_F(Errors, ClientIdMismatch) {
  const std::string other = "11111111-2222-3333-4444-555555555555";
  ASSERT_EQ(emu::admin("POST", "/admin/apps",
                       "{\"tenant_id\":\"" + S().tenant + "\",\"client_id\":\"" + other + "\",\"client_secret\":\"other\"}"),
            200);
  const std::string key = emu::mint_key("collections", emu::fresh_user("mismatch"), other);
  Result<msstore::Entitlements> r = query(client, key);
  EXPECT_EQ(r.code(), Code::ClientIdMismatch);
  EXPECT_EQ(r.error().inner_code, "InconsistentClientId");
}

TEST_F(Errors, ConsumeOutcomeUnknownThenResolvedWithTheSameTrackingId) {
  const std::string user = emu::fresh_user("unknown");
  const std::string key = emu::mint_key("collections", user);
  ASSERT_EQ(emu::purchase(user, S().consumable, 3), 200);
  ASSERT_EQ(emu::add_fault(R"({"route":"collections_v8_consume","kind":"drop_after_apply","times":1})"), 200);
  msstore::ConsumeRequest req;
  req.collections_key = key;
  req.product_id = S().consumable;
  req.quantity = 1;
  Result<msstore::ConsumeResult> r = noretry.consume(req, CallOptions::blocking()).take();
  ASSERT_EQ(r.code(), Code::ConsumeOutcomeUnknown);
  ASSERT_EQ(r.error().tracking_id.size(), 36u);
  req.tracking_id = r.error().tracking_id;  // resending is safe: it resolves, not double-consumes
  Result<msstore::ConsumeResult> again = noretry.consume(req, CallOptions::blocking()).take();
  ASSERT_TRUE(again.ok()) << again.error().json;
  EXPECT_EQ(again->info()->new_quantity, 2);
  EXPECT_EQ(again->info()->tracking_id, req.tracking_id);
}

TEST_F(Errors, ServiceRefusalForInsufficientQuantity) {
  const std::string user = emu::fresh_user("poor");
  const std::string key = emu::mint_key("collections", user);
  ASSERT_EQ(emu::purchase(user, S().consumable, 1), 200);
  msstore::ConsumeRequest req;
  req.collections_key = key;
  req.product_id = S().consumable;
  req.quantity = 5;
  Result<msstore::ConsumeResult> r = client.consume(req, CallOptions::blocking()).take();
  EXPECT_EQ(r.code(), Code::Service) << r.error().json;
  EXPECT_FALSE(r.error().message.empty());
}

TEST_F(Errors, NotFoundForAnUnknownRecurrence) {
  msstore::SubscriptionChange ch;
  ch.purchase_key = S().pkey;
  ch.recurrence_id = "mdr:0:nope:nope";
  ch.change = msstore::ChangeType::Cancel;
  Result<msstore::Subscriptions> r = client.change_subscription(ch, CallOptions::blocking()).take();
  EXPECT_EQ(r.code(), Code::NotFound);
  EXPECT_EQ(r.error().http_status, 404);
}

TEST_F(Errors, CanceledInQueuedAndImmediateModes) {
  ASSERT_EQ(emu::add_fault(R"({"route":"collections_v9_query","kind":"delay","ms":2000})"), 200);
  for (CompletionMode mode : {CompletionMode::Queued, CompletionMode::Immediate}) {
    std::atomic<int> calls{0};
    std::atomic<int> code{0};
    msstore::QueryRequest q;
    q.collections_key = S().ckey;
    q.product_ids = {S().durable};
    Operation<msstore::Entitlements> op = client.query_entitlements(
        q, [&](Result<msstore::Entitlements> r) { code = static_cast<int>(r.code()); calls++; }, CallOptions{mode, 0ms});
    ASSERT_TRUE(op.started());
    EXPECT_EQ(op.status(), Code::Pending);
    EXPECT_EQ(op.take().code(), Code::Pending);
    EXPECT_EQ(op.wait(10ms), Code::Pending);
    EXPECT_EQ(op.cancel(), Code::Ok);
    if (mode == CompletionMode::Queued) {
      EXPECT_EQ(calls.load(), 0);  // never inline
    }
    EXPECT_EQ(op.wait(5000ms), Code::Canceled);
    EXPECT_TRUE(wait_until([&] { return calls.load() == 1; }, &client));
    EXPECT_EQ(static_cast<Code>(code.load()), Code::Canceled);
    EXPECT_EQ(op.cancel(), Code::Ok);  // no effect after completion
    client.poll();
    EXPECT_EQ(calls.load(), 1);
    EXPECT_EQ(op.take().code(), Code::Canceled);
  }
}

TEST_F(Errors, ShuttingDownCompletesEverythingInFlight) {
  Client c = make_client(1);
  ASSERT_TRUE(c.get_token(msstore::Audience::Service, CallOptions::blocking()).take().ok());  // warm token
  ASSERT_EQ(emu::add_fault(R"({"route":"collections_v9_query","kind":"delay","ms":20000})"), 200);
  constexpr int kOps = 20;
  std::atomic<int> calls{0}, shutting{0};
  std::vector<Operation<msstore::Entitlements>> kept;
  msstore::QueryRequest q;
  q.collections_key = S().ckey;
  q.product_ids = {S().durable};
  for (int i = 0; i < kOps; ++i) {
    Operation<msstore::Entitlements> op = c.query_entitlements(
        q,
        [&](Result<msstore::Entitlements> r) {
          if (r.code() == Code::ShuttingDown) shutting++;
          calls++;
        },
        i % 2 ? CallOptions::immediate() : CallOptions::queued());
    ASSERT_TRUE(op.started());
    if (i % 4 < 2) kept.push_back(std::move(op));  // the others release their handle at once
  }
  EXPECT_TRUE(wait_until([&] { return c.pending() == static_cast<std::size_t>(kOps); }));
  EXPECT_EQ(c.shutdown(), Code::Ok);
  EXPECT_EQ(calls.load(), kOps);  // all ran, exactly once, before shutdown returned
  EXPECT_EQ(shutting.load(), kOps);
  for (auto &op : kept) EXPECT_EQ(op.status(), Code::ShuttingDown);
  EXPECT_EQ(c.get_token(msstore::Audience::Service).status(), Code::ShuttingDown);
  kept.clear();
  EXPECT_EQ(c.reset(), Code::Ok);
  EXPECT_EQ(c.reset(), Code::Ok);  // double release is a no-op
  EXPECT_EQ(calls.load(), kOps);
}

TEST_F(Errors, DestroyingTheClientRunsPendingCallbacks) {
  std::atomic<int> calls{0};
  ASSERT_EQ(emu::add_fault(R"({"route":"collections_v9_query","kind":"delay","ms":20000})"), 200);
  {
    Client c = make_client(1);
    msstore::QueryRequest q;
    q.collections_key = S().ckey;
    q.product_ids = {S().durable};
    c.query_entitlements(q, [&](Result<msstore::Entitlements> r) { calls += r.code() == Code::ShuttingDown ? 1 : 100; });
  }
  EXPECT_EQ(calls.load(), 1);
}

TEST(Requests, FactoriesAndDeveloperManagedConsume) {
  Client c = make_client();
  const std::string user = emu::fresh_user("unmanaged");
  const std::string key = emu::mint_key("collections", user);
  ASSERT_EQ(emu::purchase(user, S().unmanaged, 1), 200);
  Result<msstore::Entitlements> owned =
      c.query_entitlements(msstore::QueryRequest::v9(key, {S().unmanaged}), CallOptions::blocking()).take();
  ASSERT_TRUE(owned.ok()) << owned.error().json;
  ASSERT_EQ(owned->size(), 1u);
  EXPECT_EQ(owned->at(0)->product_kind, msstore::ProductKind::UnmanagedConsumable);
  msstore::ConsumeRequest req = msstore::ConsumeRequest::developer_managed(key, S().unmanaged);
  EXPECT_EQ(req.quantity, 0u);
  Result<msstore::ConsumeResult> r = c.consume(req, CallOptions::blocking()).take();
  ASSERT_TRUE(r.ok()) << r.error().json;
  EXPECT_EQ(r->info()->new_quantity, 0);
  EXPECT_EQ(msstore::ConsumeRequest::store_managed("k", "p", 3).quantity, 3u);
}

// ---- move semantics and double release ------------------------------------------------------

TEST(Ownership, OwnersAreMoveOnly) {
  static_assert(!std::is_copy_constructible_v<Client>);
  static_assert(!std::is_copy_assignable_v<msstore::Key>);
  static_assert(!std::is_copy_constructible_v<Operation<msstore::Token>>);
  static_assert(!std::is_copy_constructible_v<msstore::Entitlements>);
  static_assert(std::is_nothrow_move_constructible_v<Client>);
  static_assert(std::is_nothrow_move_constructible_v<msstore::Subscriptions>);
  static_assert(std::is_nothrow_move_assignable_v<Operation<msstore::Order>>);
  static_assert(std::is_nothrow_move_assignable_v<msstore::ConsumeResult>);
  SUCCEED();
}

TEST(Ownership, MoveAndDoubleRelease) {
  const std::size_t before = msstore::live_objects();
  Result<msstore::Key> k = msstore::Key::decode(S().ckey);
  ASSERT_TRUE(k.ok());
  EXPECT_EQ(msstore::live_objects(), before + 1);
  msstore::Key a = std::move(k).value();
  EXPECT_FALSE(k.value());  // moved from: empty
  EXPECT_TRUE(a);
  msstore::Key b;
  b = std::move(a);
  EXPECT_FALSE(a);
  EXPECT_EQ(b.info()->kind, msstore::KeyKind::Collections);
  EXPECT_EQ(a.value(), "");  // an empty owner answers, it does not crash
  EXPECT_EQ(a.info().code(), Code::NullPointer);
  b = msstore::Key::decode(S().pkey).value();  // move-assign frees the previous key
  EXPECT_EQ(msstore::live_objects(), before + 1);
  EXPECT_EQ(b.reset(), Code::Ok);
  EXPECT_EQ(b.reset(), Code::Ok);  // twice: no-op
  EXPECT_EQ(msstore::live_objects(), before);

  // release() hands the handle over; the library detects a second free.
  msstore::Key c = msstore::Key::decode(S().ckey).value();
  msstore_key *raw = c.release();
  EXPECT_FALSE(c);
  EXPECT_EQ(c.reset(), Code::Ok);
  EXPECT_EQ(static_cast<Code>(msstore_key_free(raw)), Code::Ok);
  EXPECT_EQ(static_cast<Code>(msstore_key_free(raw)), Code::InvalidHandle);
  EXPECT_EQ(msstore::live_objects(), before);

  std::vector<msstore::Key> many;
  for (int i = 0; i < 50; ++i) many.push_back(msstore::Key::decode(S().ckey).value());  // moves on growth
  EXPECT_EQ(msstore::live_objects(), before + 50);
  many.clear();
  EXPECT_EQ(msstore::live_objects(), before);
}

TEST(Ownership, MovedClientAndOperationKeepWorking) {
  Client a = make_client();
  Client b = std::move(a);
  EXPECT_FALSE(a);
  EXPECT_EQ(a.poll(), 0u);
  EXPECT_EQ(a.reset(), Code::Ok);
  EXPECT_EQ(a.get_token(msstore::Audience::Service).status(), Code::NullPointer);
  Operation<msstore::Token> op1 = b.get_token(msstore::Audience::Service, CallOptions::immediate());
  Operation<msstore::Token> op2 = std::move(op1);
  EXPECT_FALSE(op1.started());
  EXPECT_EQ(op1.reset(), Code::Ok);
  Operation<msstore::Token> op3;
  op3 = std::move(op2);
  Result<msstore::Token> t = op3.get();
  ASSERT_TRUE(t.ok());
  msstore::Token owned = std::move(t).value();
  EXPECT_EQ(owned.value().substr(0, 3), "eyJ");
  EXPECT_EQ(op3.reset(), Code::Ok);
  EXPECT_EQ(op3.reset(), Code::Ok);
  EXPECT_EQ(owned.value().substr(0, 3), "eyJ");  // the taken result outlives its operation
  Client c = std::move(b);  // moving a client with nothing in flight
  EXPECT_TRUE(wait_until([&] { return c.pending() == 0; }, &c));
}

// ---- threads and polling --------------------------------------------------------------------

TEST(Threads, InlineCallbackRunsOnALibraryWorkerAndCanStartTheNextCall) {
  Client c = make_client();
  msstore::QueryRequest q;
  q.collections_key = S().ckey;
  q.product_ids = {S().durable};
  const std::thread::id caller = std::this_thread::get_id();
  std::atomic<int> first{0}, second{0}, on_caller{0};
  c.query_entitlements(q, [&](Result<msstore::Entitlements> e) {
    if (std::this_thread::get_id() == caller) on_caller++;
    if (e.ok() && e->size() == 1) first++;
    // The next call, started from the worker, completes there too.
    c.query_entitlements(q, [&](Result<msstore::Entitlements> e2) { if (e2.ok()) second++; },
                         CallOptions::on_worker());
  }, CallOptions::on_worker());
  EXPECT_TRUE(wait_until([&] { return second.load() == 1 && c.pending() == 0; }, &c));
  EXPECT_EQ(first.load(), 1);
  EXPECT_EQ(on_caller.load(), 0);
  Result<msstore::Entitlements> r = c.query_entitlements(q, CallOptions::on_worker()).get();
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->size(), 1u);
}

TEST(Threads, EightThreadsShareOneClient) {
  Client c = make_client();
  std::atomic<int> tokens{0}, futures{0}, callbacks{0}, failures{0};
  std::vector<std::thread> th;
  for (int t = 0; t < 8; ++t) {
    th.emplace_back([&, t] {
      msstore::QueryRequest q;
      q.collections_key = S().ckey;
      q.product_ids = {S().durable};
      for (int i = 0; i < 10; ++i) {
        const auto aud = static_cast<msstore::Audience>((t + i) % 3);
        if (c.get_token(aud, CallOptions::blocking()).take().ok()) tokens++; else failures++;
        Result<msstore::Entitlements> r = c.query_entitlements(q, CallOptions::immediate()).get();
        if (r.ok() && r->size() == 1 && r->at(0)->product_id == S().durable) futures++; else failures++;
        c.query_entitlements(q, [&](Result<msstore::Entitlements> e) { e.ok() ? callbacks++ : failures++; },
                             (i % 2) ? CallOptions::immediate() : CallOptions::queued());
        c.poll();  // any thread may poll
      }
    });
  }
  for (auto &x : th) x.join();
  EXPECT_TRUE(wait_until([&] { return callbacks.load() + failures.load() >= 80 + 0 && c.pending() == 0; }, &c, 60000ms));
  EXPECT_EQ(tokens.load(), 80);
  EXPECT_EQ(futures.load(), 80);
  EXPECT_EQ(callbacks.load(), 80);
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(c.pending(), 0u);
}

TEST(Polling, QueuedCallbacksRunOnlyOnThePollingThread) {
  Client c = make_client();
  constexpr int kOps = 12;
  std::mutex m;
  std::vector<std::thread::id> ran_on;
  std::vector<Operation<msstore::Token>> ops;
  for (int i = 0; i < kOps; ++i) {
    ops.push_back(c.get_token(static_cast<msstore::Audience>(i % 3), [&](Result<msstore::Token> r) {
      std::lock_guard<std::mutex> g(m);
      if (r.ok()) ran_on.push_back(std::this_thread::get_id());
    }));
  }
  for (auto &op : ops) EXPECT_EQ(op.wait(20000ms), Code::Ok);
  {
    std::lock_guard<std::mutex> g(m);
    EXPECT_TRUE(ran_on.empty()) << "completion must not run queued callbacks";
  }
  EXPECT_EQ(c.pending(), static_cast<std::size_t>(kOps));
  std::thread::id game_thread;
  std::size_t first = 0, rest = 0;
  std::thread game([&] {  // a game thread: the only one that polls, once per "frame"
    game_thread = std::this_thread::get_id();
    first = c.poll(1);  // a budget of one callback this frame
    // op.wait() returns at completion; the delivery may reach the queue a moment later.
    for (int frame = 0; frame < 2000 && first + rest < static_cast<std::size_t>(kOps); ++frame) {
      rest += c.poll();
      std::this_thread::sleep_for(2ms);
    }
  });
  game.join();
  EXPECT_EQ(first, 1u);
  EXPECT_EQ(rest, static_cast<std::size_t>(kOps - 1));
  std::lock_guard<std::mutex> g(m);
  ASSERT_EQ(ran_on.size(), static_cast<std::size_t>(kOps));
  for (auto id : ran_on) EXPECT_EQ(id, game_thread);
  EXPECT_EQ(c.pending(), 0u);
  EXPECT_EQ(c.poll(), 0u);
}

TEST(Polling, CallbacksMayCallBackIntoTheLibrary) {
  Client c = make_client();
  std::atomic<int> outer{0}, inner{0};
  c.get_token(msstore::Audience::Service, [&](Result<msstore::Token> r) {
    EXPECT_TRUE(r.ok());
    c.poll();  // nested poll
    c.get_token(msstore::Audience::Service, [&](Result<msstore::Token> r2) {
      EXPECT_TRUE(r2.ok());
      inner++;
    });
    outer++;
  });
  EXPECT_TRUE(wait_until([&] { return inner.load() == 1; }, &c));
  EXPECT_EQ(outer.load(), 1);
}

TEST(Polling, ClientDestroyedInsideItsOwnCallback) {
  for (CompletionMode mode : {CompletionMode::Queued, CompletionMode::Immediate}) {
    auto c = std::make_unique<Client>(make_client(1, mode));
    std::atomic<int> calls{0};
    Client *raw = c.get();
    raw->get_token(msstore::Audience::Service, [&](Result<msstore::Token>) {
      EXPECT_EQ(raw->reset(), Code::Ok);
      calls++;
    });
    EXPECT_TRUE(wait_until([&] { return calls.load() == 1; }, mode == CompletionMode::Queued ? raw : nullptr));
    std::this_thread::sleep_for(20ms);
    EXPECT_FALSE(*raw);
    c.reset();
  }
}

// ---- logging --------------------------------------------------------------------------------

namespace {
std::atomic<int> g_logs{0}, g_log_leaks{0};
void on_log(msstore::LogLevel level, std::string_view, std::string_view message) {
  if (level < msstore::LogLevel::Error || level > msstore::LogLevel::Trace) g_log_leaks++;
  g_logs++;
  if (message.find(S().secret) != std::string_view::npos || message.find(S().ckey) != std::string_view::npos) g_log_leaks++;
}
}  // namespace

TEST(Logging, RecordsArriveWithoutSecrets) {
  EXPECT_EQ(msstore::set_log_handler(on_log, static_cast<msstore::LogLevel>(7)).code(), Code::InvalidArgument);
  ASSERT_TRUE(msstore::set_log_handler(on_log, msstore::LogLevel::Trace).ok());
  {
    Client c = make_client();
    msstore::QueryRequest q;
    q.collections_key = S().ckey;
    q.product_ids = {S().durable};
    EXPECT_TRUE(c.query_entitlements(q, CallOptions::blocking()).take().ok());
  }
  EXPECT_TRUE(msstore::set_log_handler(nullptr).ok());
  EXPECT_GT(g_logs.load(), 0);
  EXPECT_EQ(g_log_leaks.load(), 0);
}

// ---- refunds (clawback) and the consume ledger ------------------------------------------------

// A second part of this suite in its own file, compiled in this translation unit so that it
// shares the helpers above (scripts/test-cpp.sh builds this one file).
#include "test_refunds_ledger.inc"

// ---- credentials (certificates, files, managed identity, providers, rotation, doctor) ----------

#include "test_credentials.inc"

int main(int argc, char **argv) {
  ::testing::InitGoogleTest(&argc, argv);
  if (!S().loaded) {
    std::fprintf(stderr, "MSSTORE_EMU_SEED is not set (run scripts/test-cpp.sh)\n");
    return 2;
  }
  const int rc = RUN_ALL_TESTS();
  // Last check, after every test (parameterized suites run after the plain ones): every native
  // object the wrapper created has been released.
  const std::size_t live = msstore::live_objects();
  if (live != 0) std::fprintf(stderr, "FAIL: %zu native objects still alive\n", live);
  const ::testing::UnitTest &u = *::testing::UnitTest::GetInstance();
  std::printf("no live native objects: %s\n", live == 0 ? "ok" : "FAILED");
  std::printf("%d passed, %d failed\n", u.successful_test_count() + (live == 0 ? 1 : 0),
              u.failed_test_count() + (live == 0 ? 0 : 1));
  return rc != 0 || live != 0 ? 1 : 0;
}
