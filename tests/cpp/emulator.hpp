// Test support for the C++ suite: the emulator's seed line (MSSTORE_EMU_SEED) and its admin
// HTTP API on 127.0.0.1, over the C suite's socket helpers (tests/c/common.h).
#ifndef MSSTORE_TEST_EMULATOR_HPP
#define MSSTORE_TEST_EMULATOR_HPP

#include <atomic>
#include <cstdlib>
#include <string>

#include "common.h"

namespace emu {

/// A string field of the flat seed JSON ("" when absent).
inline std::string field(const char *json, const char *name) {
  char *v = json_field(json, name);
  std::string out = v ? v : "";
  free(v);
  return out;
}

/// The demo seed of the emulator this process runs against.
struct Seed {
  std::string base, tenant, client_id, secret, ckey, pkey, durable, consumable, unmanaged, free_pid,
      free_sku, free_avail, recurrence, store_user;
  int port = 0;
  bool loaded = false;

  static const Seed &get() {
    static const Seed s = load();
    return s;
  }

 private:
  static Seed load() {
    Seed s;
    const char *j = std::getenv("MSSTORE_EMU_SEED");
    if (!j) return s;
    s.base = field(j, "base_url");
    s.tenant = field(j, "tenant_id");
    s.client_id = field(j, "client_id");
    s.secret = field(j, "client_secret");
    s.ckey = field(j, "collections_key");
    s.pkey = field(j, "purchase_key");
    s.durable = field(j, "durable_product_id");
    s.consumable = field(j, "consumable_product_id");
    s.unmanaged = field(j, "unmanaged_consumable_product_id");
    s.free_pid = field(j, "free_product_id");
    s.free_sku = field(j, "free_sku_id");
    s.free_avail = field(j, "free_availability_id");
    s.recurrence = field(j, "recurrence_id");
    s.store_user = field(j, "store_user_id");
    s.port = url_port(s.base.c_str());
    s.loaded = !s.base.empty();
    return s;
  }
};

/// One admin call; returns the HTTP status (-1 on a socket error), body in *out.
inline int admin(const char *method, const std::string &path, const std::string &body = "",
                 std::string *out = nullptr) {
  char *resp = nullptr;
  const int status = http_request(Seed::get().port, method, path.c_str(),
                                  body.empty() ? nullptr : body.c_str(), &resp);
  if (out) *out = resp ? resp : "";
  free(resp);
  return status;
}

inline int add_fault(const std::string &json) { return admin("POST", "/admin/faults", json); }
inline int clear_faults() { return admin("DELETE", "/admin/faults"); }

/// A store user name no other test (nor another run against the same emulator) uses.
inline std::string fresh_user(const char *prefix) {
  static std::atomic<int> n{0};
  return std::string("cpp-") + std::to_string(static_cast<long>(getpid())) + "-" + prefix + "-" +
         std::to_string(++n);
}

/// Creates the user (if new) and mints a key of `kind` ("collections"/"purchase") for it.
inline std::string mint_key(const char *kind, const std::string &user,
                            const std::string &client_id = Seed::get().client_id) {
  const Seed &s = Seed::get();
  admin("POST", "/admin/users", "{\"store_user_id\":\"" + user + "\"}");
  std::string body;
  const int st = admin("POST", "/admin/keys/mint",
                       std::string("{\"kind\":\"") + kind + "\",\"publisher_user_id\":\"pub-" + user +
                           "\",\"store_user_id\":\"" + user + "\",\"tenant_id\":\"" + s.tenant +
                           "\",\"client_id\":\"" + client_id + "\"}",
                       &body);
  return st == 200 ? field(body.c_str(), "key") : std::string();
}

/// Gives `user` `quantity` units of `product` (a purchase order).
inline int purchase(const std::string &user, const std::string &product, int quantity) {
  return admin("POST", "/admin/purchases",
               "{\"store_user_id\":\"" + user + "\",\"product_id\":\"" + product +
                   "\",\"quantity\":" + std::to_string(quantity) + "}");
}

/// Buys `quantity` of `product` for `user`; returns the new order's id ("" on failure).
inline std::string purchase_order(const std::string &user, const std::string &product, int quantity) {
  std::string body;
  const int st = admin("POST", "/admin/purchases",
                       "{\"store_user_id\":\"" + user + "\",\"product_id\":\"" + product +
                           "\",\"quantity\":" + std::to_string(quantity) + "}",
                       &body);
  return st == 200 ? field(body.c_str(), "order_id") : std::string();
}

/// Claws an order back ("refund", "return", "chargeback", "chargeback_reversal"); HTTP status.
inline int clawback(const char *action, const std::string &user, const std::string &order_id) {
  return admin("POST", "/admin/clawback",
               std::string("{\"action\":\"") + action + "\",\"store_user_id\":\"" + user +
                   "\",\"order_id\":\"" + order_id + "\"}");
}

/// The Store's remaining units of `product` for `user` (-1 when unknown).
inline long long balance(const std::string &user, const std::string &product) {
  std::string body;
  if (admin("GET", "/admin/balance?user=" + user + "&product=" + product, "", &body) != 200) return -1;
  const std::string::size_type at = body.find("\"balance\":");
  return at == std::string::npos ? -1 : std::atoll(body.c_str() + at + 10);
}

/// Empties the clawback queue (each test that reads it starts from nothing).
inline int clear_queue() { return admin("DELETE", "/admin/queue"); }

/// Moves the emulator's virtual clock forward.
inline int advance_clock(int seconds) {
  return admin("POST", "/admin/clock/advance", "{\"seconds\":" + std::to_string(seconds) + "}");
}

}  // namespace emu

#endif
