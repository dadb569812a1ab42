/* C test program of the msstore C ABI, run by scripts/test-c.sh against the emulator.
 * Environment: MSSTORE_EMU_SEED = the emulator's seed JSON line.
 * Compiled with -std=c11 -Wall -Wextra -Werror -pedantic. Prints "N passed, M failed". */
#define _POSIX_C_SOURCE 200809L
#include "msstore.h"
#include "common.h"

#include <pthread.h>
#include <stddef.h>
#include <stdatomic.h>
#include <stdint.h>
#include <time.h>

static atomic_int g_pass, g_fail;

#define CHECK(cond)                                                                    \
  do {                                                                                 \
    if (cond) {                                                                        \
      atomic_fetch_add(&g_pass, 1);                                                    \
    } else {                                                                           \
      atomic_fetch_add(&g_fail, 1);                                                    \
      fprintf(stderr, "FAIL %s:%d: %s\n", __FILE__, __LINE__, #cond);                 \
    }                                                                                  \
  } while (0)

#define CHECK_CODE(expr, want)                                                         \
  do {                                                                                 \
    msstore_result r_ = (expr);                                                        \
    if (r_ == (want)) {                                                                \
      atomic_fetch_add(&g_pass, 1);                                                    \
    } else {                                                                           \
      atomic_fetch_add(&g_fail, 1);                                                    \
      fprintf(stderr, "FAIL %s:%d: %s = %s, want %s\n", __FILE__, __LINE__, #expr,    \
              msstore_result_name(r_), msstore_result_name(want));                     \
    }                                                                                  \
  } while (0)

/* ---- seed and admin ------------------------------------------------------------------ */

static const char *SEED;
static char *BASE, *TENANT, *CLIENT_ID, *SECRET, *CKEY, *PKEY, *DURABLE, *CONSUMABLE,
    *FREE_PID, *FREE_SKU, *FREE_AVAIL, *RECURRENCE, *STORE_USER, *UNMANAGED;
static int PORT;

static void sleep_ms(long ms) {
  struct timespec ts;
  ts.tv_sec = ms / 1000;
  ts.tv_nsec = (ms % 1000) * 1000000L;
  nanosleep(&ts, NULL);
}

static int admin(const char *method, const char *path, const char *body, char **out) {
  return http_request(PORT, method, path, body, out);
}

static void clear_faults(void) { CHECK(admin("DELETE", "/admin/faults", NULL, NULL) == 200); }

static void add_fault(const char *json) { CHECK(admin("POST", "/admin/faults", json, NULL) == 200); }

/* Mints a key of `kind` for a (new) store user via the admin API; caller frees. */
static char *mint_key(const char *kind, const char *store_user, const char *client_id) {
  char body[1024], *resp = NULL, *key;
  snprintf(body, sizeof body, "{\"store_user_id\":\"%s\"}", store_user);
  admin("POST", "/admin/users", body, NULL);
  snprintf(body, sizeof body,
           "{\"kind\":\"%s\",\"publisher_user_id\":\"pub-%s\",\"store_user_id\":\"%s\","
           "\"tenant_id\":\"%s\",\"client_id\":\"%s\"}",
           kind, store_user, store_user, TENANT, client_id);
  CHECK(admin("POST", "/admin/keys/mint", body, &resp) == 200);
  key = resp ? json_field(resp, "key") : NULL;
  free(resp);
  CHECK(key != NULL);
  return key;
}

/* ---- completion plumbing -------------------------------------------------------------- */

typedef struct {
  atomic_int calls;
  atomic_int code;
  pthread_t thread;
  msstore_op *op_in_cb;
} cb_state;

static void on_done(void *ud, msstore_result code, msstore_op *op) {
  cb_state *s = (cb_state *)ud;
  s->thread = pthread_self();
  s->op_in_cb = op;
  atomic_store(&s->code, (int)code);
  atomic_fetch_add(&s->calls, 1);
}

typedef msstore_result (*starter)(msstore_client *c, const msstore_call_options *call,
                                  msstore_completion_cb cb, void *ud, msstore_op **out_op,
                                  const void *arg);

#define N_MODES 4
static const int MODES[N_MODES] = {MSSTORE_COMPLETION_QUEUED, MSSTORE_COMPLETION_IMMEDIATE,
                                   MSSTORE_COMPLETION_BLOCKING, MSSTORE_COMPLETION_INLINE};
static const char *MODE_NAMES[N_MODES] = {"queued", "immediate", "blocking", "inline"};

/* Runs one operation in `mode`, checks the completion contract, returns the op's code and
 * (in *out_op) the op handle for taking results; the caller frees it. */
static msstore_result run_op(msstore_client *c, int mode, starter st, const void *arg,
                             msstore_op **out_op) {
  cb_state s;
  msstore_call_options call;
  msstore_result r;
  int i;
  memset(&s, 0, sizeof s);
  msstore_call_options_init(&call);
  call.completion_mode = mode;
  call.timeout_ms = 20000;
  *out_op = NULL;
  r = st(c, &call, on_done, &s, out_op, arg);
  if (mode == MSSTORE_COMPLETION_BLOCKING) {
    CHECK(atomic_load(&s.calls) == 1);
    CHECK(r == (msstore_result)atomic_load(&s.code));
    CHECK(pthread_equal(s.thread, pthread_self()));
  } else {
    CHECK_CODE(r, MSSTORE_OK);
    if (r != MSSTORE_OK) return r;
    if (mode == MSSTORE_COMPLETION_QUEUED) {
      CHECK(atomic_load(&s.calls) == 0); /* never inline */
      for (i = 0; i < 2000 && atomic_load(&s.calls) == 0; i++) {
        msstore_client_poll(c, 0);
        if (atomic_load(&s.calls) == 0) sleep_ms(5);
      }
      CHECK(pthread_equal(s.thread, pthread_self()));
    } else {
      for (i = 0; i < 2000 && atomic_load(&s.calls) == 0; i++) sleep_ms(5);
      sleep_ms(5);
      CHECK(!pthread_equal(s.thread, pthread_self()));
    }
    msstore_client_poll(c, 0);
    CHECK(atomic_load(&s.calls) == 1);
  }
  CHECK(s.op_in_cb == *out_op);
  CHECK(msstore_op_status(*out_op) == (msstore_result)atomic_load(&s.code));
  return (msstore_result)atomic_load(&s.code);
}

static void print_error(msstore_op *op) {
  const msstore_error *e = msstore_op_error(op);
  if (e) fprintf(stderr, "  error: %s\n", msstore_error_json(e));
}

/* ---- starters ------------------------------------------------------------------------ */

static msstore_result st_token(msstore_client *c, const msstore_call_options *call,
                               msstore_completion_cb cb, void *ud, msstore_op **op,
                               const void *arg) {
  return msstore_client_get_token(c, *(const int *)arg, call, cb, ud, op);
}

static msstore_result st_renew(msstore_client *c, const msstore_call_options *call,
                               msstore_completion_cb cb, void *ud, msstore_op **op,
                               const void *arg) {
  return msstore_client_renew_key(c, (const char *)arg, call, cb, ud, op);
}

static msstore_result st_query(msstore_client *c, const msstore_call_options *call,
                               msstore_completion_cb cb, void *ud, msstore_op **op,
                               const void *arg) {
  return msstore_client_query_entitlements(c, (const msstore_query_options *)arg, call, cb, ud, op);
}

static msstore_result st_consume(msstore_client *c, const msstore_call_options *call,
                                 msstore_completion_cb cb, void *ud, msstore_op **op,
                                 const void *arg) {
  return msstore_client_consume(c, (const msstore_consume_options *)arg, call, cb, ud, op);
}

static msstore_result st_consume_v6(msstore_client *c, const msstore_call_options *call,
                                    msstore_completion_cb cb, void *ud, msstore_op **op,
                                    const void *arg) {
  return msstore_client_consume_v6(c, (const msstore_consume_v6_options *)arg, call, cb, ud, op);
}

static msstore_result st_grant(msstore_client *c, const msstore_call_options *call,
                               msstore_completion_cb cb, void *ud, msstore_op **op,
                               const void *arg) {
  return msstore_client_grant_free_product(c, (const msstore_grant_options *)arg, call, cb, ud, op);
}

static msstore_result st_subs(msstore_client *c, const msstore_call_options *call,
                              msstore_completion_cb cb, void *ud, msstore_op **op,
                              const void *arg) {
  return msstore_client_query_subscriptions(c, (const msstore_subscription_query_options *)arg, call,
                                     cb, ud, op);
}

static msstore_result st_change(msstore_client *c, const msstore_call_options *call,
                                msstore_completion_cb cb, void *ud, msstore_op **op,
                                const void *arg) {
  return msstore_client_change_subscription(c, (const msstore_subscription_change_options *)arg, call,
                                     cb, ud, op);
}

static msstore_client *new_client(int max_attempts, int mode) {
  msstore_client_options o;
  msstore_client *c = NULL;
  msstore_error *err = NULL;
  msstore_client_options_init(&o);
  o.tenant_id = TENANT;
  o.client_id = CLIENT_ID;
  o.client_secret = SECRET;
  o.emulator_base_url = BASE;
  o.max_attempts = (uint32_t)max_attempts;
  o.completion_mode = mode;
  o.worker_threads = 2;
  CHECK_CODE(msstore_client_new(&o, &c, &err), MSSTORE_OK);
  if (err) {
    fprintf(stderr, "client: %s\n", msstore_error_json(err));
    msstore_error_free(err);
  }
  return c;
}

/* ---- tests: no network ---------------------------------------------------------------- */

static void test_version_and_codes(void) {
  char v[64];
  snprintf(v, sizeof v, "%d.%d.%d", MSSTORE_VERSION_MAJOR, MSSTORE_VERSION_MINOR,
           MSSTORE_VERSION_PATCH);
  CHECK(strcmp(v, msstore_version()) == 0);
  CHECK(strcmp(MSSTORE_VERSION_STRING, msstore_version()) == 0);
  CHECK(strcmp(msstore_result_name(MSSTORE_OK), "MSSTORE_OK") == 0);
  CHECK(strcmp(msstore_result_name(MSSTORE_E_THROTTLED), "MSSTORE_E_THROTTLED") == 0);
  CHECK(strcmp(msstore_result_name(12345), "MSSTORE_UNKNOWN") == 0);
  CHECK(strlen(msstore_result_description(MSSTORE_E_CONSUME_OUTCOME_UNKNOWN)) > 10);
  CHECK(MSSTORE_E_INVALID_ARGUMENT >= 7100 && MSSTORE_E_INTERNAL < 7200);
  CHECK_CODE(msstore_debug_trigger_panic(), MSSTORE_E_PANIC);
}

static void test_sync_errors(void) {
  msstore_key *k = NULL;
  msstore_error *err = NULL;
  msstore_client *c = NULL;
  msstore_key_info info;
  char *big;
  char buf[8];
  size_t need = 0;
  msstore_client_options o;

  /* _free(NULL) is a no-op everywhere */
  CHECK_CODE(msstore_client_free(NULL), MSSTORE_OK);
  CHECK_CODE(msstore_op_free(NULL), MSSTORE_OK);
  CHECK_CODE(msstore_error_free(NULL), MSSTORE_OK);
  CHECK_CODE(msstore_key_free(NULL), MSSTORE_OK);
  CHECK_CODE(msstore_token_free(NULL), MSSTORE_OK);
  CHECK_CODE(msstore_entitlements_free(NULL), MSSTORE_OK);
  CHECK_CODE(msstore_consume_result_free(NULL), MSSTORE_OK);
  CHECK_CODE(msstore_order_free(NULL), MSSTORE_OK);
  CHECK_CODE(msstore_subscriptions_free(NULL), MSSTORE_OK);

  /* NULL pointers */
  CHECK_CODE(msstore_key_decode(NULL, &k, &err), MSSTORE_E_NULL_POINTER);
  CHECK(k == NULL);
  CHECK(err != NULL && error_info(err).code == MSSTORE_E_NULL_POINTER);
  msstore_error_free(err);
  err = NULL;
  CHECK_CODE(msstore_key_decode(CKEY, NULL, NULL), MSSTORE_E_NULL_POINTER);
  CHECK_CODE(msstore_client_new(NULL, &c, NULL), MSSTORE_E_NULL_POINTER);
  CHECK_CODE(msstore_client_options_init(NULL), MSSTORE_E_NULL_POINTER);
  CHECK_CODE(msstore_client_get_token(NULL, 0, NULL, NULL, NULL, NULL), MSSTORE_E_NULL_POINTER);
  CHECK(error_info(NULL).message == NULL);
  CHECK(entitlements_info(NULL).count == 0);

  /* invalid UTF-8 and oversized strings */
  CHECK_CODE(msstore_key_decode("\xff\xfe bad", &k, NULL), MSSTORE_E_INVALID_UTF8);
  big = (char *)malloc(70000);
  memset(big, 'a', 69999);
  big[69999] = '\0';
  CHECK_CODE(msstore_key_decode(big, &k, NULL), MSSTORE_E_TOO_LONG);
  free(big);

  /* invalid key */
  CHECK_CODE(msstore_key_decode("not-a-key", &k, &err), MSSTORE_E_INVALID_KEY);
  CHECK(err != NULL && strcmp(error_info(err).kind, "invalid_key") == 0);
  CHECK_CODE(msstore_error_copy_message(err, buf, sizeof buf, &need), MSSTORE_E_BUFFER_TOO_SMALL);
  CHECK(need > sizeof buf);
  msstore_error_free(err);
  /* freed handle: an error code, not a crash */
  CHECK_CODE(msstore_error_free(err), MSSTORE_E_INVALID_HANDLE);
  {
    msstore_error_info ei = error_info(NULL);
    CHECK_CODE(msstore_error_get_info(err, &ei), MSSTORE_E_INVALID_HANDLE);
  }
  err = NULL;

  /* decode a real key (no network) */
  CHECK_CODE(msstore_key_decode(CKEY, &k, NULL), MSSTORE_OK);
  memset(&info, 0, sizeof info);
  info.struct_size = sizeof info;
  CHECK_CODE(msstore_key_get_info(k, &info), MSSTORE_OK);
  CHECK(info.kind == MSSTORE_KEY_COLLECTIONS);
  CHECK(strcmp(info.client_id, CLIENT_ID) == 0);
  CHECK(info.user_id && strcmp(info.user_id, "player-004512") == 0);
  CHECK(info.expires_at_unix_ms > info.issued_at_unix_ms);
  CHECK(strcmp(key_info(k).value, CKEY) == 0);
  CHECK(strstr(msstore_key_json(k), "eyJ") == NULL); /* no secret in the description */
  /* a shorter struct that no header ever published is refused and not written (the older
   * published one, without `value`, is accepted: test_struct_sizes) */
  {
    struct { uint32_t struct_size; int32_t kind; } small = {8, -1};
    CHECK_CODE(msstore_key_get_info(k, (msstore_key_info *)(void *)&small), MSSTORE_E_INVALID_ARGUMENT);
    CHECK(small.kind == -1 && small.struct_size == 8);
  }
  /* wrong handle type */
  CHECK_CODE(msstore_token_free((msstore_token *)(void *)k), MSSTORE_E_INVALID_HANDLE);
  CHECK_CODE(msstore_key_free(k), MSSTORE_OK);
  CHECK_CODE(msstore_key_free(k), MSSTORE_E_INVALID_HANDLE);

  /* configuration errors */
  msstore_client_options_init(&o);
  o.client_id = CLIENT_ID;
  o.client_secret = SECRET;
  CHECK_CODE(msstore_client_new(&o, &c, &err), MSSTORE_E_CONFIGURATION);
  CHECK(c == NULL && err && error_info(err).code == MSSTORE_E_CONFIGURATION);
  msstore_error_free(err);
  err = NULL;
  o.tenant_id = TENANT;
  o.emulator_base_url = "http://10.1.2.3:80"; /* plain http to a remote host */
  CHECK_CODE(msstore_client_new(&o, &c, NULL), MSSTORE_E_CONFIGURATION);
  o.emulator_base_url = BASE;
  o.completion_mode = 42;
  CHECK_CODE(msstore_client_new(&o, &c, NULL), MSSTORE_E_INVALID_ARGUMENT);
  o.completion_mode = 0;
  o.struct_size = 2;
  CHECK_CODE(msstore_client_new(&o, &c, NULL), MSSTORE_E_INVALID_ARGUMENT);
  CHECK_CODE(msstore_client_new_from_json("{not json", &c, &err), MSSTORE_E_CONFIGURATION);
  CHECK(err && strstr(error_info(err).message, "JSON") != NULL);
  msstore_error_free(err);
  err = NULL;
  CHECK_CODE(msstore_client_new_from_json("\xc3\x28", &c, NULL), MSSTORE_E_INVALID_UTF8);
  CHECK(c == NULL);
}

static void test_client_from_json(void) {
  char json[2048];
  msstore_client *c = NULL;
  msstore_op *op = NULL;
  int aud = MSSTORE_AUDIENCE_SERVICE;
  msstore_token *t = NULL;
  snprintf(json, sizeof json,
           "{\"tenant_id\":\"%s\",\"client_id\":\"%s\",\"client_secret\":\"%s\","
           "\"emulator_base_url\":\"%s\",\"completion_mode\":\"blocking\"}",
           TENANT, CLIENT_ID, SECRET, BASE);
  CHECK_CODE(msstore_client_new_from_json(json, &c, NULL), MSSTORE_OK);
  /* client default mode = blocking: returns the result */
  CHECK_CODE(msstore_client_get_token(c, aud, NULL, NULL, NULL, &op), MSSTORE_OK);
  CHECK_CODE(msstore_op_take_token(op, &t), MSSTORE_OK);
  CHECK_CODE(msstore_op_take_token(op, &t), MSSTORE_E_NO_RESULT);
  CHECK(t && strlen(token_info(t).value) > 20);
  CHECK(token_info(t).expires_at_unix_ms > 0);
  msstore_token_free(t);
  msstore_op_free(op);
  CHECK_CODE(msstore_op_free(op), MSSTORE_E_INVALID_HANDLE);
  msstore_client_free(c);
  /* use after free */
  CHECK_CODE(msstore_client_get_token(c, aud, NULL, NULL, NULL, NULL), MSSTORE_E_INVALID_HANDLE);
  CHECK(msstore_client_poll(c, 0) == -1); /* a freed client says so */
  CHECK_CODE(msstore_client_free(c), MSSTORE_E_INVALID_HANDLE);
}

/* ---- tests: every operation in every mode ---------------------------------------------- */

static void test_all_operations(msstore_client *c) {
  int m;
  for (m = 0; m < N_MODES; m++) {
    int mode = MODES[m];
    msstore_op *op;
    msstore_result r;
    int aud;
    fprintf(stderr, "-- operations, %s mode\n", MODE_NAMES[m]);

    for (aud = 0; aud < 3; aud++) {
      msstore_token *t = NULL;
      r = run_op(c, mode, st_token, &aud, &op);
      CHECK_CODE(r, MSSTORE_OK);
      CHECK_CODE(msstore_op_take_token(op, &t), MSSTORE_OK);
      CHECK(token_info(t).audience == aud);
      CHECK(t && strncmp(token_info(t).value, "eyJ", 3) == 0);
      /* wrong result type */
      {
        msstore_key *k = NULL;
        CHECK_CODE(msstore_op_take_key(op, &k), MSSTORE_E_NO_RESULT);
      }
      msstore_token_free(t);
      msstore_op_free(op);
    }

    { /* renew a key */
      msstore_key *k = NULL;
      msstore_key_info info;
      char user[64];
      char *key;
      snprintf(user, sizeof user, "renew-user-%d", m);
      key = mint_key("collections", user, CLIENT_ID);
      r = run_op(c, mode, st_renew, key, &op);
      CHECK_CODE(r, MSSTORE_OK);
      if (r != MSSTORE_OK) print_error(op);
      CHECK_CODE(msstore_op_take_key(op, &k), MSSTORE_OK);
      memset(&info, 0, sizeof info);
      info.struct_size = sizeof info;
      CHECK_CODE(msstore_key_get_info(k, &info), MSSTORE_OK);
      CHECK(info.kind == MSSTORE_KEY_COLLECTIONS);
      CHECK(key_info(k).value && strncmp(key_info(k).value, "eyJ", 3) == 0);
      msstore_key_free(k);
      msstore_op_free(op);
      free(key);
    }

    { /* query v9 all pages, v8 one page, v6 all pages */
      const char *ids[2];
      int v;
      const unsigned versions[3] = {9, 8, 6};
      ids[0] = DURABLE;
      ids[1] = CONSUMABLE;
      for (v = 0; v < 3; v++) {
        msstore_query_options q;
        msstore_entitlements *e = NULL;
        msstore_entitlement it;
        size_t i, n;
        int found = 0;
        memset(&q, 0, sizeof q);
        q.struct_size = sizeof q;
        q.api_version = versions[v];
        q.collections_key = CKEY;
        if (versions[v] == 9) {
          q.product_ids = ids;
          q.product_count = 2;
        }
        q.single_page = versions[v] == 8;
        r = run_op(c, mode, st_query, &q, &op);
        CHECK_CODE(r, MSSTORE_OK);
        if (r != MSSTORE_OK) print_error(op);
        CHECK_CODE(msstore_op_take_entitlements(op, &e), MSSTORE_OK);
        n = entitlements_info(e).count;
        CHECK(n >= 1);
        for (i = 0; i < n; i++) {
          memset(&it, 0, sizeof it);
          it.struct_size = sizeof it;
          CHECK_CODE(msstore_entitlements_item_at(e, i, &it), MSSTORE_OK);
          CHECK(it.product_id != NULL && it.status != NULL);
          if (strcmp(it.product_id, DURABLE) == 0) {
            found = 1;
            CHECK(it.is_active == 1);
            CHECK(strcmp(it.status, "Active") == 0);
          }
        }
        CHECK(found);
        CHECK_CODE(msstore_entitlements_item_at(e, n, &it), MSSTORE_E_INVALID_ARGUMENT);
        CHECK(msstore_entitlements_json(e) && msstore_entitlements_json(e)[0] == '{');
        CHECK(entitlements_info(e).pages >= 1);
        msstore_entitlements_free(e);
        msstore_op_free(op);
      }
    }

    { /* consume one unit of the store-managed consumable */
      msstore_consume_options co;
      msstore_consume_result *cr = NULL;
      msstore_consume_result_info ci;
      memset(&co, 0, sizeof co);
      co.struct_size = sizeof co;
      co.collections_key = CKEY;
      co.product_id = CONSUMABLE;
      co.quantity = 1;
      r = run_op(c, mode, st_consume, &co, &op);
      CHECK_CODE(r, MSSTORE_OK);
      if (r != MSSTORE_OK) print_error(op);
      CHECK_CODE(msstore_op_take_consume_result(op, &cr), MSSTORE_OK);
      memset(&ci, 0, sizeof ci);
      ci.struct_size = sizeof ci;
      CHECK_CODE(msstore_consume_result_get_info(cr, &ci), MSSTORE_OK);
      CHECK(ci.new_quantity == 9 - m);
      CHECK(ci.tracking_id && strlen(ci.tracking_id) == 36);
      CHECK(ci.transaction_count >= 1);
      if (ci.transaction_count >= 1) {
        msstore_order_transaction tx;
        memset(&tx, 0, sizeof tx);
        tx.struct_size = sizeof tx;
        CHECK_CODE(msstore_consume_result_transaction_at(cr, 0, &tx), MSSTORE_OK);
        CHECK(tx.order_id != NULL && tx.quantity_consumed == 1);
      }
      msstore_consume_result_free(cr);
      msstore_op_free(op);
    }

    { /* grant the free product to a fresh user */
      msstore_grant_options g;
      msstore_order *o = NULL;
      msstore_order_info oi;
      char user[64];
      char *pk;
      snprintf(user, sizeof user, "grant-user-%d", m);
      pk = mint_key("purchase", user, CLIENT_ID);
      memset(&g, 0, sizeof g);
      g.struct_size = sizeof g;
      g.purchase_key = pk;
      g.product_id = FREE_PID;
      g.sku_id = FREE_SKU;
      g.availability_id = FREE_AVAIL;
      r = run_op(c, mode, st_grant, &g, &op);
      CHECK_CODE(r, MSSTORE_OK);
      if (r != MSSTORE_OK) print_error(op);
      CHECK_CODE(msstore_op_take_order(op, &o), MSSTORE_OK);
      memset(&oi, 0, sizeof oi);
      oi.struct_size = sizeof oi;
      CHECK_CODE(msstore_order_get_info(o, &oi), MSSTORE_OK);
      CHECK(oi.order_id && strlen(oi.order_id) > 0);
      CHECK(oi.line_item_count == 1);
      if (oi.line_item_count == 1) {
        msstore_order_line_item li;
        memset(&li, 0, sizeof li);
        li.struct_size = sizeof li;
        CHECK_CODE(msstore_order_line_item_at(o, 0, &li), MSSTORE_OK);
        CHECK(li.product_id && strcmp(li.product_id, FREE_PID) == 0);
      }
      CHECK(msstore_order_json(o) != NULL);
      msstore_order_free(o);
      msstore_op_free(op);
      free(pk);
    }

    { /* subscriptions: query, then extend */
      msstore_subscription_query_options sq;
      msstore_subscription_change_options sc;
      msstore_subscriptions *s = NULL;
      msstore_subscription it;
      memset(&sq, 0, sizeof sq);
      sq.struct_size = sizeof sq;
      sq.purchase_key = PKEY;
      sq.single_page = (unsigned)(m == 1);
      r = run_op(c, mode, st_subs, &sq, &op);
      CHECK_CODE(r, MSSTORE_OK);
      if (r != MSSTORE_OK) print_error(op);
      CHECK_CODE(msstore_op_take_subscriptions(op, &s), MSSTORE_OK);
      CHECK(subscriptions_info(s).count >= 1);
      memset(&it, 0, sizeof it);
      it.struct_size = sizeof it;
      CHECK_CODE(msstore_subscriptions_item_at(s, 0, &it), MSSTORE_OK);
      CHECK(it.id && strcmp(it.id, RECURRENCE) == 0);
      CHECK(it.expiration_time_unix_ms > 0);
      msstore_subscriptions_free(s);
      msstore_op_free(op);

      memset(&sc, 0, sizeof sc);
      sc.struct_size = sizeof sc;
      sc.purchase_key = PKEY;
      sc.recurrence_id = RECURRENCE;
      sc.change_type = MSSTORE_CHANGE_EXTEND;
      sc.extension_days = 1;
      r = run_op(c, mode, st_change, &sc, &op);
      CHECK_CODE(r, MSSTORE_OK);
      if (r != MSSTORE_OK) print_error(op);
      s = NULL;
      CHECK_CODE(msstore_op_take_subscriptions(op, &s), MSSTORE_OK);
      CHECK(subscriptions_info(s).count == 1);
      msstore_subscriptions_free(s);
      msstore_op_free(op);
    }
  }
}

/* ---- tests: errors through the network path -------------------------------------------- */

/* ---- tests: clawback (refunds) --------------------------------------------------------- */

static msstore_result st_cb_orders(msstore_client *c, const msstore_call_options *call,
                                   msstore_completion_cb cb, void *ud, msstore_op **op,
                                   const void *arg) {
  return msstore_client_query_clawback_orders(c, (const msstore_clawback_orders_options *)arg, call, cb,
                                       ud, op);
}

static msstore_result st_cb_receive(msstore_client *c, const msstore_call_options *call,
                                    msstore_completion_cb cb, void *ud, msstore_op **op,
                                    const void *arg) {
  return msstore_client_receive_clawback_messages(c, (const msstore_clawback_queue_options *)arg, call, cb, ud,
                                  op);
}

static msstore_result st_cb_peek(msstore_client *c, const msstore_call_options *call,
                                 msstore_completion_cb cb, void *ud, msstore_op **op,
                                 const void *arg) {
  return msstore_client_peek_clawback_messages(c, (const msstore_clawback_queue_options *)arg, call, cb,
                                               ud, op);
}

typedef struct {
  const char *id, *receipt;
} cb_delete_arg;

static msstore_result st_cb_delete(msstore_client *c, const msstore_call_options *call,
                                   msstore_completion_cb cb, void *ud, msstore_op **op,
                                   const void *arg) {
  const cb_delete_arg *a = (const cb_delete_arg *)arg;
  return msstore_client_delete_clawback_message(c, a->id, a->receipt, call, cb, ud, op);
}

/* Buys `qty` of `product` for `user` and claws it back with `action`; returns the order id. */
static char *buy_and_claw(const char *user, const char *product, int qty, const char *action) {
  char body[512], *resp = NULL, *order;
  snprintf(body, sizeof body, "{\"store_user_id\":\"%s\",\"product_id\":\"%s\",\"quantity\":%d}",
           user, product, qty);
  CHECK(admin("POST", "/admin/purchases", body, &resp) == 200);
  order = resp ? json_field(resp, "order_id") : NULL;
  free(resp);
  CHECK(order != NULL);
  if (!order) return NULL;
  snprintf(body, sizeof body,
           "{\"action\":\"%s\",\"store_user_id\":\"%s\",\"order_id\":\"%s\"}", action, user,
           order);
  CHECK(admin("POST", "/admin/clawback", body, NULL) == 200);
  return order;
}

/* Receives (or peeks) in `mode`; returns the messages handle (caller frees) or NULL. */
static msstore_clawback_messages *cb_fetch(msstore_client *c, int mode, int peek,
                                           uint32_t visibility) {
  msstore_op *op = NULL;
  msstore_clawback_messages *m = NULL;
  msstore_clawback_queue_options ro;
  msstore_result r;
  memset(&ro, 0, sizeof ro);
  ro.struct_size = sizeof ro;
  ro.visibility_timeout_secs = visibility;
  ro.max_messages = 32;
  r = run_op(c, mode, peek ? st_cb_peek : st_cb_receive, &ro, &op);
  CHECK_CODE(r, MSSTORE_OK);
  if (r != MSSTORE_OK) print_error(op);
  if (r == MSSTORE_OK) CHECK_CODE(msstore_op_take_clawback_messages(op, &m), MSSTORE_OK);
  msstore_op_free(op);
  return m;
}

static msstore_result cb_delete(msstore_client *c, const char *id, const char *receipt) {
  msstore_op *op = NULL;
  cb_delete_arg a;
  msstore_result r;
  a.id = id;
  a.receipt = receipt;
  r = run_op(c, MSSTORE_COMPLETION_BLOCKING, st_cb_delete, &a, &op);
  msstore_op_free(op);
  return r;
}

static char *dup_str(const char *s) {
  char *d;
  if (!s) return NULL;
  d = (char *)malloc(strlen(s) + 1);
  if (d) memcpy(d, s, strlen(s) + 1);
  return d;
}

static void test_clawback(msstore_client *c) {
  const char *user = "claw-user-c";
  char *pkey, *returned, *refunded, *old_receipt, *new_receipt, *msg_id;
  msstore_clawback_orders_options oo;
  msstore_clawback_order_line line;
  msstore_clawback_message msg;
  msstore_clawback_orders *orders = NULL;
  msstore_clawback_messages *m;
  msstore_op *op = NULL;
  const char *purchased[1] = {"Purchased"};
  int mode;
  msstore_clawback_queue_options qo;

  clear_faults();
  admin("DELETE", "/admin/queue", NULL, NULL);
  pkey = mint_key("purchase", user, CLIENT_ID);
  returned = buy_and_claw(user, CONSUMABLE, 3, "return");

  /* v1: default filter (Revoked + Refunded), in every completion mode. */
  for (mode = 0; mode < N_MODES; mode++) {
    memset(&oo, 0, sizeof oo);
    oo.struct_size = sizeof oo;
    oo.purchase_key = pkey;
    CHECK_CODE(run_op(c, MODES[mode], st_cb_orders, &oo, &op), MSSTORE_OK);
    CHECK_CODE(msstore_op_take_clawback_orders(op, &orders), MSSTORE_OK);
    msstore_op_free(op);
    CHECK(clawback_orders_info(orders).count == 1);
    memset(&line, 0, sizeof line);
    line.struct_size = sizeof line;
    CHECK_CODE(msstore_clawback_orders_line_at(orders, 0, &line), MSSTORE_OK);
    CHECK(returned && line.order_id && strcmp(line.order_id, returned) == 0);
    CHECK(line.line_item_state && strcmp(line.line_item_state, "Refunded") == 0);
    CHECK(line.was_consumable_quantity_revoked == 1);
    CHECK(line.quantity == 3);
    CHECK(line.order_refunded_date != NULL && line.order_refunded_date_unix_ms > 0);
    CHECK(msstore_clawback_orders_json(orders) != NULL);
    CHECK_CODE(msstore_clawback_orders_line_at(orders, 1, &line), MSSTORE_E_INVALID_ARGUMENT);
    CHECK_CODE(msstore_clawback_orders_free(orders), MSSTORE_OK);
  }
  /* v1: a filter and a single page. */
  memset(&oo, 0, sizeof oo);
  oo.struct_size = sizeof oo;
  oo.purchase_key = pkey;
  oo.line_item_states = purchased;
  oo.line_item_state_count = 1;
  oo.single_page = 1;
  CHECK_CODE(run_op(c, MSSTORE_COMPLETION_BLOCKING, st_cb_orders, &oo, &op), MSSTORE_OK);
  CHECK_CODE(msstore_op_take_clawback_orders(op, &orders), MSSTORE_OK);
  msstore_op_free(op);
  CHECK(clawback_orders_info(orders).count == 0);
  CHECK(clawback_orders_info(orders).continuation_token == NULL);
  msstore_clawback_orders_free(orders);

  /* v2: peek shows the event without a pop receipt. */
  m = cb_fetch(c, MSSTORE_COMPLETION_QUEUED, 1, 0);
  CHECK(clawback_messages_info(m).count == 1);
  memset(&msg, 0, sizeof msg);
  msg.struct_size = sizeof msg;
  CHECK_CODE(msstore_clawback_messages_item_at(m, 0, &msg), MSSTORE_OK);
  CHECK(msg.pop_receipt == NULL && msg.dequeue_count == 0);
  CHECK(msg.event_decoded == 1 && msg.event_state == MSSTORE_CLAWBACK_RETURNED);
  CHECK_CODE(msstore_clawback_messages_item_at(m, 5, &msg), MSSTORE_E_INVALID_ARGUMENT);
  msstore_clawback_messages_free(m);

  /* v2: receive, let the visibility lapse, receive again; the old receipt is stale. */
  m = cb_fetch(c, MSSTORE_COMPLETION_IMMEDIATE, 0, 30);
  CHECK(clawback_messages_info(m).count == 1);
  CHECK_CODE(msstore_clawback_messages_item_at(m, 0, &msg), MSSTORE_OK);
  CHECK(msg.dequeue_count == 1 && msg.pop_receipt != NULL);
  CHECK(msg.order_id && returned && strcmp(msg.order_id, returned) == 0);
  CHECK(msg.event_state_name && strcmp(msg.event_state_name, "Returned") == 0);
  CHECK(msg.requires_revocation == 0);
  CHECK(msg.event_source && strcmp(msg.event_source, "/Purchase/Refund") == 0);
  CHECK(msg.product_type && strcmp(msg.product_type, "Consumable") == 0);
  CHECK(msg.sandbox_id && strcmp(msg.sandbox_id, "RETAIL") == 0);
  CHECK(msg.event_json != NULL && msg.has_recurrence_data == 0);
  CHECK(strstr(msstore_clawback_messages_json(m), "\"event\"") != NULL);
  msg_id = dup_str(msg.message_id);
  old_receipt = dup_str(msg.pop_receipt);
  msstore_clawback_messages_free(m);
  m = cb_fetch(c, MSSTORE_COMPLETION_BLOCKING, 0, 30);
  CHECK(clawback_messages_info(m).count == 0); /* hidden */
  msstore_clawback_messages_free(m);
  CHECK(admin("POST", "/admin/clock/advance", "{\"seconds\":31}", NULL) == 200);
  m = cb_fetch(c, MSSTORE_COMPLETION_BLOCKING, 0, 30);
  CHECK(clawback_messages_info(m).count == 1);
  CHECK_CODE(msstore_clawback_messages_item_at(m, 0, &msg), MSSTORE_OK);
  CHECK(msg.dequeue_count == 2);
  new_receipt = dup_str(msg.pop_receipt);
  msstore_clawback_messages_free(m);
  CHECK(old_receipt && new_receipt && strcmp(old_receipt, new_receipt) != 0);
  CHECK_CODE(cb_delete(c, msg_id, old_receipt), MSSTORE_E_POP_RECEIPT_MISMATCH);
  CHECK_CODE(cb_delete(c, msg_id, new_receipt), MSSTORE_OK);
  CHECK_CODE(cb_delete(c, msg_id, new_receipt), MSSTORE_E_MESSAGE_NOT_FOUND);
  free(msg_id);
  free(old_receipt);
  free(new_receipt);

  /* Refunded: the customer keeps the item; not a revocation. */
  refunded = buy_and_claw(user, DURABLE, 1, "refund");
  m = cb_fetch(c, MSSTORE_COMPLETION_BLOCKING, 0, 30);
  CHECK(clawback_messages_info(m).count == 1);
  CHECK_CODE(msstore_clawback_messages_item_at(m, 0, &msg), MSSTORE_OK);
  CHECK(msg.event_state == MSSTORE_CLAWBACK_REFUNDED && msg.requires_revocation == 0);
  CHECK(msg.order_id && refunded && strcmp(msg.order_id, refunded) == 0);
  CHECK_CODE(cb_delete(c, msg.message_id, msg.pop_receipt), MSSTORE_OK);
  msstore_clawback_messages_free(m);

  /* An undecodable message is reported, not fatal. */
  CHECK(admin("POST", "/admin/queue", "{\"text\":\"!! not base64\"}", NULL) == 200);
  m = cb_fetch(c, MSSTORE_COMPLETION_BLOCKING, 0, 30);
  CHECK(clawback_messages_info(m).count == 1);
  CHECK_CODE(msstore_clawback_messages_item_at(m, 0, &msg), MSSTORE_OK);
  CHECK(msg.event_decoded == 0 && msg.event_error != NULL && msg.order_id == NULL);
  CHECK(msg.event_state == MSSTORE_CLAWBACK_OTHER);
  CHECK_CODE(cb_delete(c, msg.message_id, msg.pop_receipt), MSSTORE_OK);
  msstore_clawback_messages_free(m);

  /* Synchronous argument errors: nothing starts, no callback. */
  memset(&qo, 0, sizeof qo);
  qo.struct_size = sizeof qo;
  qo.max_messages = 33;
  CHECK_CODE(msstore_client_peek_clawback_messages(c, &qo, NULL, NULL, NULL, NULL), MSSTORE_E_INVALID_ARGUMENT);
  CHECK_CODE(msstore_client_receive_clawback_messages(c, &qo, NULL, NULL, NULL, NULL),
             MSSTORE_E_INVALID_ARGUMENT);
  qo.max_messages = 0;
  qo.visibility_timeout_secs = 604801;
  CHECK_CODE(msstore_client_receive_clawback_messages(c, &qo, NULL, NULL, NULL, NULL),
             MSSTORE_E_INVALID_ARGUMENT);
  qo.struct_size = 2; /* not a versioned struct */
  CHECK_CODE(msstore_client_peek_clawback_messages(c, &qo, NULL, NULL, NULL, NULL), MSSTORE_E_INVALID_ARGUMENT);
  CHECK_CODE(msstore_client_delete_clawback_message(c, NULL, "r", NULL, NULL, NULL, NULL),
             MSSTORE_E_NULL_POINTER);
  CHECK_CODE(msstore_client_query_clawback_orders(c, NULL, NULL, NULL, NULL, NULL),
             MSSTORE_E_NULL_POINTER);
  memset(&oo, 0, sizeof oo);
  oo.struct_size = sizeof oo;
  oo.purchase_key = pkey;
  oo.line_item_state_count = 1; /* with a NULL array */
  CHECK_CODE(msstore_client_query_clawback_orders(c, &oo, NULL, NULL, NULL, NULL),
             MSSTORE_E_NULL_POINTER);
  CHECK_CODE(msstore_clawback_messages_item_at(NULL, 0, &msg), MSSTORE_E_NULL_POINTER);
  CHECK(clawback_messages_info(NULL).count == 0);
  CHECK_CODE(msstore_clawback_orders_free(NULL), MSSTORE_OK);
  free(pkey);
  free(returned);
  free(refunded);
}

static msstore_result query_code(msstore_client *c, const char *key, int mode, uint32_t timeout,
                                 msstore_error **err_out) {
  const char *ids[1];
  msstore_query_options q;
  msstore_call_options call;
  msstore_op *op = NULL;
  msstore_result r;
  ids[0] = DURABLE;
  memset(&q, 0, sizeof q);
  q.struct_size = sizeof q;
  q.collections_key = key;
  q.product_ids = ids;
  q.product_count = 1;
  msstore_call_options_init(&call);
  call.completion_mode = mode;
  call.timeout_ms = timeout;
  r = msstore_client_query_entitlements(c, &q, &call, NULL, NULL, &op);
  if (mode != MSSTORE_COMPLETION_BLOCKING) r = msstore_op_wait(op, 30000);
  if (err_out) {
    *err_out = NULL;
    msstore_op_take_error(op, err_out);
  }
  msstore_op_free(op);
  return r;
}

static void test_error_codes(msstore_client *c, msstore_client *noretry) {
  msstore_error *err = NULL;
  msstore_client *bad = NULL;
  msstore_client_options o;
  msstore_op *op = NULL;
  msstore_result r;
  int aud = 0;
  fprintf(stderr, "-- error codes\n");

  /* synchronous argument errors of a start function: no callback, no op */
  {
    msstore_query_options q;
    cb_state s;
    memset(&s, 0, sizeof s);
    memset(&q, 0, sizeof q);
    q.struct_size = sizeof q;
    q.api_version = 7;
    q.collections_key = CKEY;
    CHECK_CODE(msstore_client_query_entitlements(c, &q, NULL, on_done, &s, &op), MSSTORE_E_INVALID_ARGUMENT);
    CHECK(op == NULL);
    q.api_version = 9;
    q.collections_key = NULL;
    CHECK_CODE(msstore_client_query_entitlements(c, &q, NULL, on_done, &s, &op), MSSTORE_E_NULL_POINTER);
    q.collections_key = "\xff";
    CHECK_CODE(msstore_client_query_entitlements(c, &q, NULL, on_done, &s, &op), MSSTORE_E_INVALID_UTF8);
    q.collections_key = CKEY;
    q.product_count = 5000;
    q.product_ids = NULL;
    CHECK_CODE(msstore_client_query_entitlements(c, &q, NULL, on_done, &s, &op), MSSTORE_E_TOO_LONG);
    CHECK_CODE(msstore_client_get_token(c, 99, NULL, on_done, &s, &op), MSSTORE_E_INVALID_ARGUMENT);
    msstore_client_poll(c, 0);
    CHECK(atomic_load(&s.calls) == 0);
    /* a request the core rejects (v9 without products) completes with INVALID_ARGUMENT */
    q.product_count = 0;
    CHECK_CODE(msstore_client_query_entitlements(c, &q, NULL, NULL, NULL, &op), MSSTORE_OK);
    CHECK_CODE(msstore_op_wait(op, 10000), MSSTORE_E_INVALID_ARGUMENT);
    msstore_op_free(op);
  }

  /* Entra authentication failure */
  msstore_client_options_init(&o);
  o.tenant_id = TENANT;
  o.client_id = CLIENT_ID;
  o.client_secret = "wrong-secret";
  o.emulator_base_url = BASE;
  o.completion_mode = MSSTORE_COMPLETION_BLOCKING;
  CHECK_CODE(msstore_client_new(&o, &bad, NULL), MSSTORE_OK);
  CHECK_CODE(msstore_client_get_token(bad, aud, NULL, NULL, NULL, &op), MSSTORE_E_ENTRA_AUTH);
  CHECK(msstore_op_error(op) != NULL);
  CHECK(error_info(msstore_op_error(op)).service_code != NULL);
  CHECK(strstr(msstore_error_json(msstore_op_error(op)), "wrong-secret") == NULL);
  msstore_op_free(op);
  msstore_client_free(bad);

  /* network failure: nothing listens on port 1 */
  o.client_secret = SECRET;
  o.emulator_base_url = "http://127.0.0.1:1";
  o.max_attempts = 1;
  CHECK_CODE(msstore_client_new(&o, &bad, NULL), MSSTORE_OK);
  CHECK_CODE(msstore_client_get_token(bad, aud, NULL, NULL, NULL, NULL), MSSTORE_E_NETWORK);
  msstore_client_free(bad);

  /* throttled, with Retry-After longer than the library waits */
  add_fault("{\"route\":\"collections_v9_query\",\"kind\":\"throttle\",\"retry_after_secs\":120,\"times\":1}");
  CHECK_CODE(query_code(c, CKEY, MSSTORE_COMPLETION_BLOCKING, 0, &err), MSSTORE_E_THROTTLED);
  CHECK(err && error_info(err).http_status == 429);
  CHECK(err && error_info(err).retry_after_ms == 120000);
  CHECK(err && error_info(err).ms_cv != NULL);
  msstore_error_free(err);
  clear_faults();

  /* 5xx after retries: network */
  add_fault("{\"route\":\"collections_v9_query\",\"kind\":\"status\",\"status\":503}");
  CHECK_CODE(query_code(noretry, CKEY, MSSTORE_COMPLETION_IMMEDIATE, 0, &err), MSSTORE_E_NETWORK);
  CHECK(err && error_info(err).http_status == 503);
  msstore_error_free(err);
  clear_faults();

  /* operation timeout */
  add_fault("{\"route\":\"collections_v9_query\",\"kind\":\"delay\",\"ms\":3000,\"times\":1}");
  CHECK_CODE(query_code(c, CKEY, MSSTORE_COMPLETION_QUEUED, 100, NULL), MSSTORE_E_TIMEOUT);
  msstore_client_poll(c, 0);
  clear_faults();

  /* key must be re-minted: renewing a revoked key */
  {
    char *key = mint_key("collections", "revoked-user", CLIENT_ID);
    char body[4096];
    msstore_call_options call;
    msstore_call_options_init(&call);
    call.completion_mode = MSSTORE_COMPLETION_BLOCKING;
    snprintf(body, sizeof body, "{\"key\":\"%s\"}", key);
    CHECK(admin("POST", "/admin/keys/revoke", body, NULL) == 200);
    CHECK_CODE(msstore_client_renew_key(c, key, &call, NULL, NULL, &op), MSSTORE_E_KEY_MUST_BE_REMINTED);
    CHECK(error_info(msstore_op_error(op)).http_status == 401);
    msstore_op_free(op);
    free(key);
  }

  /* client id mismatch: a key minted for another app */
  {
    char *key;
    char body[512];
    const msstore_error *e;
    snprintf(body, sizeof body,
             "{\"tenant_id\":\"%s\",\"client_id\":\"11111111-2222-3333-4444-555555555555\","
             "\"client_secret\":\"other\"}",
             TENANT);
    CHECK(admin("POST", "/admin/apps", body, NULL) == 200);
    key = mint_key("collections", STORE_USER, "11111111-2222-3333-4444-555555555555");
    CHECK_CODE(query_code(c, key, MSSTORE_COMPLETION_BLOCKING, 0, &err), MSSTORE_E_CLIENT_ID_MISMATCH);
    e = err;
    CHECK(e && error_info(e).inner_code && strcmp(error_info(e).inner_code, "InconsistentClientId") == 0);
    msstore_error_free(err);
    free(key);
  }

  /* consume outcome unknown: applied, then the connection dropped, no retries */
  {
    msstore_consume_options co;
    msstore_call_options call;
    memset(&co, 0, sizeof co);
    co.struct_size = sizeof co;
    co.collections_key = CKEY;
    co.product_id = CONSUMABLE;
    co.quantity = 1;
    msstore_call_options_init(&call);
    call.completion_mode = MSSTORE_COMPLETION_BLOCKING;
    add_fault("{\"route\":\"collections_v8_consume\",\"kind\":\"drop_after_apply\",\"times\":1}");
    r = msstore_client_consume(noretry, &co, &call, NULL, NULL, &op);
    CHECK_CODE(r, MSSTORE_E_CONSUME_OUTCOME_UNKNOWN);
    CHECK(error_info(msstore_op_error(op)).tracking_id != NULL);
    if (error_info(msstore_op_error(op)).tracking_id) {
      /* resending with the same tracking id resolves it without consuming twice */
      char tracking[64];
      msstore_consume_result *cr = NULL;
      msstore_consume_result_info ci;
      snprintf(tracking, sizeof tracking, "%s", error_info(msstore_op_error(op)).tracking_id);
      msstore_op_free(op);
      co.tracking_id = tracking;
      CHECK_CODE(msstore_client_consume(noretry, &co, &call, NULL, NULL, &op), MSSTORE_OK);
      CHECK_CODE(msstore_op_take_consume_result(op, &cr), MSSTORE_OK);
      memset(&ci, 0, sizeof ci);
      ci.struct_size = sizeof ci;
      msstore_consume_result_get_info(cr, &ci);
      CHECK(ci.new_quantity == 10 - N_MODES - 1); /* one consumed per mode, then this one */
      msstore_consume_result_free(cr);
    }
    msstore_op_free(op);
    clear_faults();
  }

  /* not found: an unknown recurrence */
  {
    msstore_subscription_change_options sc;
    msstore_call_options call;
    memset(&sc, 0, sizeof sc);
    sc.struct_size = sizeof sc;
    sc.purchase_key = PKEY;
    sc.recurrence_id = "mdr:0:nope:nope";
    sc.change_type = MSSTORE_CHANGE_CANCEL;
    msstore_call_options_init(&call);
    call.completion_mode = MSSTORE_COMPLETION_BLOCKING;
    CHECK_CODE(msstore_client_change_subscription(c, &sc, &call, NULL, NULL, NULL), MSSTORE_E_NOT_FOUND);
    sc.change_type = 77;
    CHECK_CODE(msstore_client_change_subscription(c, &sc, &call, NULL, NULL, NULL), MSSTORE_E_INVALID_ARGUMENT);
  }

  /* canceled, in each non-blocking mode; the callback still fires exactly once */
  {
    int m;
    add_fault("{\"route\":\"collections_v9_query\",\"kind\":\"delay\",\"ms\":2000}");
    for (m = 0; m < N_MODES; m++) {
      const char *ids[1];
      msstore_query_options q;
      msstore_call_options call;
      cb_state s;
      int i;
      if (MODES[m] == MSSTORE_COMPLETION_BLOCKING) continue;
      ids[0] = DURABLE;
      memset(&q, 0, sizeof q);
      q.struct_size = sizeof q;
      q.collections_key = CKEY;
      q.product_ids = ids;
      q.product_count = 1;
      memset(&s, 0, sizeof s);
      msstore_call_options_init(&call);
      call.completion_mode = MODES[m];
      CHECK_CODE(msstore_client_query_entitlements(c, &q, &call, on_done, &s, &op), MSSTORE_OK);
      CHECK_CODE(msstore_op_status(op), MSSTORE_E_PENDING);
      CHECK_CODE(msstore_op_wait(op, 10), MSSTORE_E_PENDING);
      CHECK_CODE(msstore_op_cancel(op), MSSTORE_OK);
      /* not inside the cancel: queued waits for a poll; immediate and inline run on a library
       * thread */
      if (MODES[m] == MSSTORE_COMPLETION_QUEUED) CHECK(atomic_load(&s.calls) == 0);
      CHECK_CODE(msstore_op_wait(op, 5000), MSSTORE_E_CANCELED);
      for (i = 0; i < 1000 && atomic_load(&s.calls) == 0; i++) {
        msstore_client_poll(c, 0);
        sleep_ms(2);
      }
      CHECK(atomic_load(&s.calls) == 1);
      CHECK(atomic_load(&s.code) == MSSTORE_E_CANCELED);
      CHECK(pthread_equal(s.thread, pthread_self()) == (MODES[m] == MSSTORE_COMPLETION_QUEUED));
      CHECK_CODE(msstore_op_cancel(op), MSSTORE_OK); /* no effect after completion */
      msstore_client_poll(c, 0);
      CHECK(atomic_load(&s.calls) == 1);
      CHECK_CODE(msstore_op_take_error(op, &err), MSSTORE_OK);
      CHECK(error_info(err).code == MSSTORE_E_CANCELED);
      msstore_error_free(err);
      err = NULL;
      msstore_op_free(op);
    }
    clear_faults();
  }
}

/* ---- callbacks that call back into the library ---------------------------------------- */

typedef struct {
  msstore_client *c;
  atomic_int outer, inner;
  atomic_int inner_code;
} reentry_state;

static void on_inner(void *ud, msstore_result code, msstore_op *op) {
  reentry_state *s = (reentry_state *)ud;
  (void)op;
  atomic_store(&s->inner_code, (int)code);
  atomic_fetch_add(&s->inner, 1);
}

static void on_outer(void *ud, msstore_result code, msstore_op *op) {
  reentry_state *s = (reentry_state *)ud;
  msstore_token *t = NULL;
  msstore_key *k = NULL;
  int aud = MSSTORE_AUDIENCE_SERVICE;
  CHECK_CODE(code, MSSTORE_OK);
  CHECK_CODE(msstore_op_take_token(op, &t), MSSTORE_OK);
  msstore_token_free(t);
  CHECK_CODE(msstore_op_free(op), MSSTORE_OK); /* freeing the op inside its own callback */
  CHECK_CODE(msstore_key_decode(CKEY, &k, NULL), MSSTORE_OK);
  msstore_key_free(k);
  msstore_client_poll(s->c, 0); /* nested poll */
  CHECK_CODE(msstore_client_get_token(s->c, aud, NULL, on_inner, s, NULL), MSSTORE_OK);
  atomic_fetch_add(&s->outer, 1);
}

static void test_reentrancy(msstore_client *c) {
  reentry_state s;
  msstore_op *op = NULL;
  int aud = MSSTORE_AUDIENCE_SERVICE, i;
  fprintf(stderr, "-- reentrancy\n");
  memset(&s, 0, sizeof s);
  s.c = c;
  CHECK_CODE(msstore_client_get_token(c, aud, NULL, on_outer, &s, &op), MSSTORE_OK);
  for (i = 0; i < 2000 && atomic_load(&s.inner) == 0; i++) {
    msstore_client_poll(c, 0);
    sleep_ms(2);
  }
  CHECK(atomic_load(&s.outer) == 1);
  CHECK(atomic_load(&s.inner) == 1);
  CHECK(atomic_load(&s.inner_code) == MSSTORE_OK);
}

/* ---- INLINE: the callback runs on the worker that completed the op, and may not wait ---- */

typedef struct {
  msstore_client *c;
  pthread_t starter;
  atomic_int calls, inner_calls, on_starter, wait_code, client_wait, blocking_code, inner_start,
      no_wait_code;
} inline_state;

static void on_inline_inner(void *ud, msstore_result code, msstore_op *op) {
  inline_state *s = (inline_state *)ud;
  (void)op;
  if (code == MSSTORE_OK) atomic_fetch_add(&s->inner_calls, 1);
}

static void on_inline(void *ud, msstore_result code, msstore_op *op) {
  inline_state *s = (inline_state *)ud;
  msstore_call_options call;
  (void)code;
  atomic_store(&s->on_starter, pthread_equal(pthread_self(), s->starter) ? 1 : 0);
  /* Waiting would hold the worker: refused, whatever it waits for. */
  atomic_store(&s->wait_code, (int)msstore_op_wait(op, 1000));
  atomic_store(&s->no_wait_code, (int)msstore_op_wait(op, 0));
  atomic_store(&s->client_wait, (int)msstore_client_wait(s->c, 50));
  msstore_call_options_init(&call);
  call.completion_mode = MSSTORE_COMPLETION_BLOCKING;
  atomic_store(&s->blocking_code, (int)msstore_client_get_token(s->c, 0, &call, NULL, NULL, NULL));
  /* Starting the next call is what INLINE is for. */
  call.completion_mode = MSSTORE_COMPLETION_INLINE;
  atomic_store(&s->inner_start,
               (int)msstore_client_get_token(s->c, 0, &call, on_inline_inner, s, NULL));
  atomic_fetch_add(&s->calls, 1);
}

static void test_inline_callbacks(msstore_client *c) {
  inline_state s;
  msstore_call_options call;
  msstore_op *op = NULL;
  int i;
  fprintf(stderr, "-- inline callbacks\n");
  memset(&s, 0, sizeof s);
  s.c = c;
  s.starter = pthread_self();
  msstore_call_options_init(&call);
  call.completion_mode = MSSTORE_COMPLETION_INLINE;
  CHECK_CODE(msstore_client_get_token(c, 0, &call, on_inline, &s, &op), MSSTORE_OK);
  for (i = 0; i < 2000 && (atomic_load(&s.calls) == 0 || atomic_load(&s.inner_calls) == 0); i++)
    sleep_ms(5);
  CHECK(atomic_load(&s.calls) == 1);
  CHECK(atomic_load(&s.on_starter) == 0);
  CHECK_CODE((msstore_result)atomic_load(&s.wait_code), MSSTORE_E_INVALID_ARGUMENT);
  CHECK_CODE((msstore_result)atomic_load(&s.no_wait_code), MSSTORE_OK);
  CHECK(atomic_load(&s.client_wait) == -1);
  CHECK_CODE((msstore_result)atomic_load(&s.blocking_code), MSSTORE_E_INVALID_ARGUMENT);
  CHECK_CODE((msstore_result)atomic_load(&s.inner_start), MSSTORE_OK);
  CHECK(atomic_load(&s.inner_calls) == 1);
  /* Outside the callback the same calls wait as usual. */
  CHECK_CODE(msstore_op_wait(op, 1000), MSSTORE_OK);
  CHECK(msstore_client_wait(c, 0) >= 0);
  msstore_op_free(op);
}

/* ---- 8 threads sharing one client ------------------------------------------------------ */

typedef struct {
  msstore_client *c;
  int id;
} thread_arg;

static void *worker(void *p) {
  thread_arg *a = (thread_arg *)p;
  int i;
  for (i = 0; i < 10; i++) {
    int aud = i % 3;
    msstore_op *op = NULL;
    msstore_call_options call;
    const char *ids[1];
    msstore_query_options q;
    msstore_entitlements *e = NULL;
    msstore_call_options_init(&call);
    call.completion_mode = MSSTORE_COMPLETION_BLOCKING;
    CHECK_CODE(msstore_client_get_token(a->c, aud, &call, NULL, NULL, NULL), MSSTORE_OK);
    ids[0] = DURABLE;
    memset(&q, 0, sizeof q);
    q.struct_size = sizeof q;
    q.collections_key = CKEY;
    q.product_ids = ids;
    q.product_count = 1;
    call.completion_mode = (i % 2) ? MSSTORE_COMPLETION_IMMEDIATE : MSSTORE_COMPLETION_QUEUED;
    CHECK_CODE(msstore_client_query_entitlements(a->c, &q, &call, NULL, NULL, &op), MSSTORE_OK);
    CHECK_CODE(msstore_op_wait(op, 30000), MSSTORE_OK);
    CHECK_CODE(msstore_op_take_entitlements(op, &e), MSSTORE_OK);
    CHECK(entitlements_info(e).count == 1);
    msstore_entitlements_free(e);
    msstore_op_free(op);
    msstore_client_poll(a->c, 0);
  }
  return NULL;
}

static void test_threads(msstore_client *c) {
  pthread_t th[8];
  thread_arg args[8];
  int i;
  fprintf(stderr, "-- 8 threads\n");
  for (i = 0; i < 8; i++) {
    args[i].c = c;
    args[i].id = i;
    pthread_create(&th[i], NULL, worker, &args[i]);
  }
  for (i = 0; i < 8; i++) pthread_join(th[i], NULL);
  /* op_wait returns at completion; IMMEDIATE deliveries may still be finishing */
  for (i = 0; i < 1000 && msstore_client_pending(c) > 0; i++) {
    msstore_client_poll(c, 0);
    sleep_ms(5);
  }
  CHECK(msstore_client_pending(c) == 0);
}

/* ---- msstore_client_wait: a service thread sleeps until a completion is ready --------- */

static double mono_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1000.0 + ts.tv_nsec / 1e6;
}

static void test_client_wait(msstore_client *c) {
  cb_state s;
  msstore_call_options call;
  msstore_query_options q;
  const char *ids[1];
  double t0;
  intptr_t ready;
  fprintf(stderr, "-- client_wait\n");
  /* an invalid client is -1, not "nothing ran" */
  CHECK(msstore_client_wait(NULL, 10) == -1);
  CHECK(msstore_client_poll(NULL, 0) == -1);
  while (msstore_client_poll(c, 0) > 0) {
  }
  /* nothing queued: a 0 timeout returns at once, a 50 ms one waits it out */
  CHECK(msstore_client_wait(c, 0) == 0);
  t0 = mono_ms();
  CHECK(msstore_client_wait(c, 50) == 0);
  CHECK(mono_ms() - t0 >= 45.0);
  /* a queued completion wakes the waiter; the callback runs only at poll */
  memset(&s, 0, sizeof s);
  msstore_call_options_init(&call);
  call.completion_mode = MSSTORE_COMPLETION_QUEUED;
  memset(&q, 0, sizeof q);
  q.struct_size = sizeof q;
  q.collections_key = CKEY;
  ids[0] = DURABLE;
  q.product_ids = ids;
  q.product_count = 1;
  CHECK_CODE(msstore_client_query_entitlements(c, &q, &call, on_done, &s, NULL), MSSTORE_OK);
  t0 = mono_ms();
  ready = msstore_client_wait(c, 20000);
  CHECK(ready == 1);
  CHECK(mono_ms() - t0 < 15000.0);
  CHECK(atomic_load(&s.calls) == 0);
  CHECK(msstore_client_wait(c, 1000) == 1); /* still ready: wait consumes nothing */
  CHECK(msstore_client_poll(c, 0) == 1);
  CHECK(atomic_load(&s.calls) == 1);
  CHECK_CODE((msstore_result)atomic_load(&s.code), MSSTORE_OK);
  CHECK(msstore_client_wait(c, 0) == 0);
}

/* ---- shutdown with 100 operations in flight -------------------------------------------- */

#define IN_FLIGHT 100

static atomic_int g_shutdown_calls, g_shutdown_codes_ok;

static void on_shutdown_cb(void *ud, msstore_result code, msstore_op *op) {
  atomic_int *slot = (atomic_int *)ud;
  (void)op;
  atomic_fetch_add(slot, 1);
  atomic_fetch_add(&g_shutdown_calls, 1);
  if (code == MSSTORE_E_SHUTTING_DOWN) atomic_fetch_add(&g_shutdown_codes_ok, 1);
}

typedef struct {
  msstore_client *c;
  msstore_result code;
} blocked_arg;

static void *blocked_call(void *p) {
  blocked_arg *a = (blocked_arg *)p;
  const char *ids[1];
  msstore_query_options q;
  msstore_call_options call;
  ids[0] = DURABLE;
  memset(&q, 0, sizeof q);
  q.struct_size = sizeof q;
  q.collections_key = CKEY;
  q.product_ids = ids;
  q.product_count = 1;
  msstore_call_options_init(&call);
  call.completion_mode = MSSTORE_COMPLETION_BLOCKING;
  a->code = msstore_client_query_entitlements(a->c, &q, &call, NULL, NULL, NULL);
  return NULL;
}

static void test_shutdown(void) {
  msstore_client *c = new_client(1, MSSTORE_COMPLETION_QUEUED);
  static atomic_int slots[IN_FLIGHT];
  msstore_op *ops[IN_FLIGHT];
  const char *ids[1];
  msstore_query_options q;
  msstore_call_options call;
  pthread_t th;
  blocked_arg ba;
  int i, exactly_once = 1;
  fprintf(stderr, "-- shutdown with %d operations in flight\n", IN_FLIGHT);
  add_fault("{\"route\":\"collections_v9_query\",\"kind\":\"delay\",\"ms\":20000}");
  /* warm the token so all 100 reach the delayed route */
  CHECK_CODE(msstore_client_get_token(c, 0, NULL, NULL, NULL, &ops[0]), MSSTORE_OK);
  CHECK_CODE(msstore_op_wait(ops[0], 10000), MSSTORE_OK);
  msstore_op_free(ops[0]);
  /* deliver the warm-up completion (it may reach the queue just after op_wait returns) */
  for (i = 0; i < 200 && msstore_client_pending(c) != 0; i++) {
    msstore_client_poll(c, 0);
    sleep_ms(5);
  }
  CHECK(msstore_client_pending(c) == 0);
  ids[0] = DURABLE;
  memset(&q, 0, sizeof q);
  q.struct_size = sizeof q;
  q.collections_key = CKEY;
  q.product_ids = ids;
  q.product_count = 1;
  msstore_call_options_init(&call);
  g_shutdown_calls = 0;
  g_shutdown_codes_ok = 0;
  for (i = 0; i < IN_FLIGHT; i++) {
    atomic_store(&slots[i], 0);
    call.completion_mode = (i % 2) ? MSSTORE_COMPLETION_IMMEDIATE : MSSTORE_COMPLETION_QUEUED;
    ops[i] = NULL;
    CHECK_CODE(msstore_client_query_entitlements(c, &q, &call, on_shutdown_cb, &slots[i],
                                          (i % 4 < 2) ? &ops[i] : NULL),
               MSSTORE_OK);
  }
  ba.c = c;
  ba.code = MSSTORE_OK;
  pthread_create(&th, NULL, blocked_call, &ba);
  /* wait (bounded) until the blocked caller's operation is registered too: under valgrind the
     thread can take a while to start */
  for (i = 0; i < 200 && msstore_client_pending(c) != IN_FLIGHT + 1; i++) sleep_ms(50);
  CHECK(msstore_client_pending(c) == IN_FLIGHT + 1);
  CHECK_CODE(msstore_client_shutdown(c), MSSTORE_OK);
  /* every callback fired exactly once, before shutdown returned */
  CHECK(atomic_load(&g_shutdown_calls) == IN_FLIGHT);
  CHECK(atomic_load(&g_shutdown_codes_ok) == IN_FLIGHT);
  for (i = 0; i < IN_FLIGHT; i++)
    if (atomic_load(&slots[i]) != 1) exactly_once = 0;
  CHECK(exactly_once);
  pthread_join(th, NULL);
  CHECK_CODE(ba.code, MSSTORE_E_SHUTTING_DOWN);
  /* new operations are refused synchronously */
  CHECK_CODE(msstore_client_get_token(c, 0, NULL, on_shutdown_cb, &slots[0], NULL), MSSTORE_E_SHUTTING_DOWN);
  for (i = 0; i < IN_FLIGHT; i++) {
    if (ops[i]) {
      CHECK_CODE(msstore_op_status(ops[i]), MSSTORE_E_SHUTTING_DOWN);
      msstore_op_free(ops[i]);
    }
  }
  CHECK_CODE(msstore_client_free(c), MSSTORE_OK);
  CHECK(atomic_load(&g_shutdown_calls) == IN_FLIGHT);
  clear_faults();
}

/* free from inside a callback must not deadlock */
static void on_free_inside(void *ud, msstore_result code, msstore_op *op) {
  msstore_client **c = (msstore_client **)ud;
  (void)code;
  (void)op;
  CHECK_CODE(msstore_client_free(*c), MSSTORE_OK);
}

static void test_free_inside_callback(void) {
  int m;
  for (m = 0; m < 2; m++) {
    msstore_client *c = new_client(1, MODES[m]);
    int i;
    CHECK_CODE(msstore_client_get_token(c, 0, NULL, on_free_inside, &c, NULL), MSSTORE_OK);
    for (i = 0; i < 2000 && msstore_client_pending(c) > 0; i++) {
      msstore_client_poll(c, 0);
      sleep_ms(2);
    }
    sleep_ms(20);
    CHECK_CODE(msstore_client_free(c), MSSTORE_E_INVALID_HANDLE); /* already freed in the cb */
  }
}

/* ---- logging ---------------------------------------------------------------------------- */

static atomic_int g_logs, g_log_leaks, g_previous_used_logs;

/* Secret texts the tests use besides the seed's (other secrets, assertions, key lines): none
 * may appear in a log line or an error message. Copies; appended from any thread. */
static char *g_secret_texts[64];
static atomic_int g_secret_count;

static void note_secret(const char *s) {
  int i = atomic_fetch_add(&g_secret_count, 1);
  if (i < 64 && s) g_secret_texts[i] = dup_str(s);
}

static int leaks_secret(const char *text) {
  int i, n = atomic_load(&g_secret_count);
  if (strstr(text, SECRET) || strstr(text, CKEY)) return 1;
  for (i = 0; i < n && i < 64; i++)
    if (g_secret_texts[i] && strstr(text, g_secret_texts[i])) return 1;
  return 0;
}

static void on_log(void *ud, int32_t level, const char *target, const char *message) {
  (void)ud;
  (void)target;
  CHECK(level >= MSSTORE_LOG_ERROR && level <= MSSTORE_LOG_TRACE);
  atomic_fetch_add(&g_logs, 1);
  if (leaks_secret(message)) atomic_fetch_add(&g_log_leaks, 1);
  if (strstr(message, "using the previous one")) atomic_fetch_add(&g_previous_used_logs, 1);
}

/* ---- the consume ledger --------------------------------------------------------------- */

typedef struct {
  msstore_ledger *ledger;
  msstore_ledger_consume_options opts;
} ledger_consume_arg;

static msstore_result st_ledger_consume(msstore_client *c, const msstore_call_options *call,
                                        msstore_completion_cb cb, void *ud, msstore_op **op,
                                        const void *arg) {
  const ledger_consume_arg *a = (const ledger_consume_arg *)arg;
  return msstore_ledger_consume(c, a->ledger, &a->opts, call, cb, ud, op);
}

static msstore_result st_ledger_reconcile(msstore_client *c, const msstore_call_options *call,
                                          msstore_completion_cb cb, void *ud, msstore_op **op,
                                          const void *arg) {
  return msstore_ledger_reconcile(c, (msstore_ledger *)arg, call, cb, ud, op);
}

static long long ledger_balance(const char *user) {
  char path[256], *resp = NULL;
  const char *p;
  long long b = -1;
  snprintf(path, sizeof path, "/admin/balance?user=%s&product=%s", user, CONSUMABLE);
  if (admin("GET", path, NULL, &resp) == 200 && resp && (p = strstr(resp, "\"balance\":")))
    b = atoll(p + strlen("\"balance\":"));
  free(resp);
  return b;
}

static msstore_ledger *open_ledger(const char *path) {
  msstore_ledger_options o;
  msstore_ledger *l = NULL;
  msstore_error *err = NULL;
  CHECK_CODE(msstore_ledger_options_init(&o), MSSTORE_OK);
  o.sqlite_path = path;
  o.send_rounds = 1;
  o.resend_delay_ms = 5;
  CHECK_CODE(msstore_ledger_open(&o, &l, &err), MSSTORE_OK);
  if (err) {
    fprintf(stderr, "ledger: %s\n", msstore_error_json(err));
    msstore_error_free(err);
  }
  return l;
}

/* Runs one consume through the ledger; returns the entry's state (-1 on failure) and copies
 * its id into id_out. */
static int ledger_consume(msstore_client *c, int mode, ledger_consume_arg *a, char *id_out,
                          size_t id_cap, msstore_ledger_entry *e_out) {
  msstore_op *op = NULL;
  msstore_ledger_items *items = NULL;
  int state = -1;
  msstore_result r = run_op(c, mode, st_ledger_consume, a, &op);
  CHECK_CODE(r, MSSTORE_OK);
  if (r != MSSTORE_OK) print_error(op);
  if (r == MSSTORE_OK && msstore_op_take_ledger_items(op, &items) == MSSTORE_OK) {
    msstore_ledger_entry e;
    memset(&e, 0, sizeof e);
    e.struct_size = sizeof e;
    CHECK(ledger_items_info(items).entry_count == 1);
    CHECK(ledger_items_info(items).revocation_count == 0);
    CHECK_CODE(msstore_ledger_items_entry_at(items, 0, &e), MSSTORE_OK);
    CHECK_CODE(msstore_ledger_items_entry_at(items, 1, &e), MSSTORE_E_INVALID_ARGUMENT);
    CHECK(strcmp(e.player_ref, "c-player") == 0);
    CHECK(strcmp(e.product_id, CONSUMABLE) == 0);
    CHECK(strstr(msstore_ledger_items_json(items), CKEY) == NULL);
    snprintf(id_out, id_cap, "%s", e.id);
    state = e.state;
    if (e_out) {
      *e_out = e;
      e_out->id = e_out->player_ref = e_out->product_id = e_out->last_error = NULL;
    }
    CHECK_CODE(msstore_ledger_items_free(items), MSSTORE_OK);
  }
  CHECK_CODE(msstore_op_free(op), MSSTORE_OK);
  return state;
}

static void test_ledger(msstore_client *c, msstore_client *noretry) {
  char path[256], id[64], pending_id[64], body[512], sidecar[300];
  const char *user = "c-ledger-user";
  char *key;
  msstore_ledger *l;
  msstore_ledger_options lo;
  msstore_ledger *none = NULL;
  msstore_error *err = NULL;
  msstore_ledger_items *items = NULL;
  msstore_ledger_entry e;
  msstore_op *op = NULL;
  ledger_consume_arg a;
  long long before;
  int m;

  snprintf(path, sizeof path, "/tmp/msstore-c-ledger-%ld.sqlite", (long)getpid());
  unlink(path);
  key = mint_key("collections", user, CLIENT_ID);
  snprintf(body, sizeof body, "{\"store_user_id\":\"%s\",\"product_id\":\"%s\",\"quantity\":20}",
           user, CONSUMABLE);
  CHECK(admin("POST", "/admin/purchases", body, NULL) == 200);
  before = ledger_balance(user);
  CHECK(before == 20);

  /* Open errors: NULL out, PostgreSQL without an instance id (a configuration error). */
  msstore_ledger_options_init(&lo);
  CHECK_CODE(msstore_ledger_open(&lo, NULL, NULL), MSSTORE_E_NULL_POINTER);
  lo.postgres_url = "postgres://u:secret-pw@127.0.0.1:1/db";
  CHECK_CODE(msstore_ledger_open(&lo, &none, &err), MSSTORE_E_CONFIGURATION);
  CHECK(none == NULL);
  CHECK(err != NULL && strstr(msstore_error_json(err), "secret-pw") == NULL);
  msstore_error_free(err);
  err = NULL;
  /* TLS this build cannot honour is refused; the appended timeout fields are read. */
  lo.instance_id = "s1";
  lo.postgres_url = "postgres://u@127.0.0.1:1/db?sslmode=require";
  CHECK_CODE(msstore_ledger_open(&lo, &none, &err), MSSTORE_E_CONFIGURATION);
  msstore_error_free(err);
  err = NULL;
  lo.postgres_url = "postgres://u@127.0.0.1:1/db";
  lo.pg_statement_timeout_ms = 50; /* below the 100 ms minimum */
  CHECK_CODE(msstore_ledger_open(&lo, &none, &err), MSSTORE_E_CONFIGURATION);
  msstore_error_free(err);
  err = NULL;
  /* A caller built before the four fields were appended: defaults, SQLite opens. */
  msstore_ledger_options_init(&lo);
  lo.struct_size = (uint32_t)offsetof(msstore_ledger_options, retention_days);
  lo.sqlite_path = path;
  lo.pg_statement_timeout_ms = 50; /* beyond struct_size: not read */
  CHECK_CODE(msstore_ledger_open(&lo, &none, &err), MSSTORE_OK);
  msstore_ledger_free(none);
  none = NULL;

  l = open_ledger(path);
  memset(&a, 0, sizeof a);
  a.ledger = l;
  a.opts.struct_size = sizeof a.opts;
  a.opts.player_ref = "c-player";
  a.opts.collections_key = key;
  a.opts.product_id = CONSUMABLE;
  a.opts.quantity = 1;

  /* Applied in the first three completion modes (the balances below count three; INLINE
   * delivers as IMMEDIATE does, on a library thread); grant, acknowledge (twice: idempotent). */
  for (m = 0; m < 3; m++) {
    memset(&e, 0, sizeof e);
    CHECK(ledger_consume(c, MODES[m], &a, id, sizeof id, &e) == MSSTORE_LEDGER_APPLIED);
    CHECK(e.transaction_count == 1 && e.attempts == 1 && e.new_quantity == 19 - m);
    CHECK_CODE(msstore_ledger_acknowledge_entry(l, id, NULL), MSSTORE_OK);
    CHECK_CODE(msstore_ledger_acknowledge_entry(l, id, NULL), MSSTORE_OK);
  }
  CHECK(ledger_balance(user) == before - 3);

  /* The response is dropped after the Store applied it: PENDING, not granted. */
  add_fault("{\"route\":\"collections_v8_consume\",\"kind\":\"drop_after_apply\",\"times\":1}");
  a.opts.quantity = 2;
  CHECK(ledger_consume(noretry, MSSTORE_COMPLETION_QUEUED, &a, pending_id, sizeof pending_id,
                       NULL) == MSSTORE_LEDGER_PENDING);
  CHECK(ledger_balance(user) == before - 5);
  CHECK_CODE(msstore_ledger_acknowledge_entry(l, pending_id, &err), MSSTORE_E_INVALID_ARGUMENT);
  CHECK(err != NULL && error_info(err).code == MSSTORE_E_INVALID_ARGUMENT);
  msstore_error_free(err);
  err = NULL;
  CHECK_CODE(msstore_ledger_acknowledge_entry(l, "no-such-entry", NULL), MSSTORE_E_NOT_FOUND);

  /* "Restart": a new ledger handle over the same file lists and replays it, once. */
  CHECK_CODE(msstore_ledger_free(l), MSSTORE_OK);
  CHECK_CODE(msstore_ledger_list_pending(l, &items, NULL), MSSTORE_E_INVALID_HANDLE);
  l = open_ledger(path);
  a.ledger = l;
  CHECK_CODE(msstore_ledger_list_pending(l, &items, NULL), MSSTORE_OK);
  CHECK(ledger_items_info(items).entry_count == 1);
  memset(&e, 0, sizeof e);
  e.struct_size = sizeof e;
  CHECK_CODE(msstore_ledger_items_entry_at(items, 0, &e), MSSTORE_OK);
  CHECK(e.state == MSSTORE_LEDGER_PENDING && strcmp(e.id, pending_id) == 0);
  CHECK(e.last_error != NULL && e.new_quantity == -1);
  msstore_ledger_items_free(items);
  items = NULL;
  CHECK_CODE(run_op(c, MSSTORE_COMPLETION_QUEUED, st_ledger_reconcile, l, &op), MSSTORE_OK);
  CHECK_CODE(msstore_op_take_ledger_items(op, &items), MSSTORE_OK);
  CHECK_CODE(msstore_op_take_ledger_items(op, &items), MSSTORE_E_NO_RESULT);
  CHECK(ledger_items_info(items).entry_count == 1);
  CHECK_CODE(msstore_ledger_items_entry_at(items, 0, &e), MSSTORE_OK);
  CHECK(e.state == MSSTORE_LEDGER_APPLIED && strcmp(e.id, pending_id) == 0 && e.attempts == 2);
  CHECK(ledger_balance(user) == before - 5); /* applied exactly once */
  {
    /* Clawback: Revoked on the order line this consume drew from. */
    msstore_order_transaction t;
    msstore_clawback_match_options cm;
    msstore_ledger_items *revs = NULL;
    msstore_ledger_revocation rv;
    uint32_t dup = 7;
    memset(&t, 0, sizeof t);
    t.struct_size = sizeof t;
    CHECK_CODE(msstore_ledger_items_entry_transaction_at(items, 0, 0, &t), MSSTORE_OK);
    CHECK_CODE(msstore_ledger_items_entry_transaction_at(items, 0, 9, &t),
               MSSTORE_E_INVALID_ARGUMENT);
    CHECK_CODE(msstore_ledger_acknowledge_entry(l, pending_id, NULL), MSSTORE_OK);
    memset(&cm, 0, sizeof cm);
    cm.struct_size = sizeof cm;
    cm.event_id = "c-event-1";
    cm.order_id = t.order_id;
    cm.line_item_id = t.order_line_item_id;
    cm.product_id = CONSUMABLE;
    cm.state = MSSTORE_CLAWBACK_REVOKED;
    CHECK_CODE(msstore_ledger_apply_clawback(l, &cm, &revs, &dup, NULL), MSSTORE_OK);
    CHECK(dup == 0);
    /* One revocation per consume that drew from the line: 1 + 1 + 1 + 2 units. */
    CHECK(ledger_items_info(revs).revocation_count == 4);
    memset(&rv, 0, sizeof rv);
    rv.struct_size = sizeof rv;
    {
      long long units = 0;
      size_t i;
      for (i = 0; i < ledger_items_info(revs).revocation_count; i++) {
        CHECK_CODE(msstore_ledger_items_revocation_at(revs, i, &rv), MSSTORE_OK);
        CHECK(rv.kind == MSSTORE_REVOCATION_REVOKE && rv.reverses == NULL);
        CHECK(strcmp(rv.player_ref, "c-player") == 0 && rv.acknowledged == 0);
        units += rv.quantity;
      }
      CHECK(units == 5);
    }
    msstore_ledger_items_free(revs);
    revs = NULL;
    CHECK_CODE(msstore_ledger_apply_clawback(l, &cm, NULL, &dup, NULL), MSSTORE_OK);
    CHECK(dup == 1);
    cm.state = 99;
    CHECK_CODE(msstore_ledger_apply_clawback(l, &cm, NULL, NULL, NULL),
               MSSTORE_E_INVALID_ARGUMENT);
    cm.state = MSSTORE_CLAWBACK_REFUNDED;
    cm.event_id = "c-event-2";
    CHECK_CODE(msstore_ledger_apply_clawback(l, &cm, &revs, &dup, NULL), MSSTORE_OK);
    CHECK(dup == 0 && ledger_items_info(revs).revocation_count == 0);
    msstore_ledger_items_free(revs);
    revs = NULL;
    CHECK_CODE(msstore_ledger_claim_revocations(l, &revs, NULL), MSSTORE_OK);
    CHECK(ledger_items_info(revs).revocation_count == 4);
    {
      size_t i;
      for (i = 0; i < ledger_items_info(revs).revocation_count; i++) {
        CHECK_CODE(msstore_ledger_items_revocation_at(revs, i, &rv), MSSTORE_OK);
        CHECK_CODE(msstore_ledger_acknowledge_revocation(l, rv.id, NULL), MSSTORE_OK);
      }
    }
    CHECK_CODE(msstore_ledger_acknowledge_revocation(l, "nope", NULL), MSSTORE_E_NOT_FOUND);
    msstore_ledger_items_free(revs);
  }
  msstore_ledger_items_free(items);
  CHECK_CODE(msstore_op_free(op), MSSTORE_OK);

  /* Bad input fails at start; nothing is recorded. */
  a.opts.player_ref = NULL;
  CHECK_CODE(msstore_ledger_consume(c, l, &a.opts, NULL, NULL, NULL, NULL),
             MSSTORE_E_NULL_POINTER);
  CHECK_CODE(msstore_ledger_consume(c, NULL, &a.opts, NULL, NULL, NULL, NULL),
             MSSTORE_E_NULL_POINTER);
  CHECK_CODE(msstore_ledger_list_pending(l, &items, NULL), MSSTORE_OK);
  CHECK(ledger_items_info(items).entry_count == 0);
  CHECK(ledger_items_info(items).revocation_count == 0);
  msstore_ledger_items_free(items);
  CHECK(ledger_balance(user) == before - 5);

  CHECK_CODE(msstore_ledger_free(l), MSSTORE_OK);
  CHECK_CODE(msstore_ledger_free(NULL), MSSTORE_OK);
  free(key);
  unlink(path);
  snprintf(sidecar, sizeof sidecar, "%s-wal", path);
  unlink(sidecar);
  snprintf(sidecar, sizeof sidecar, "%s-shm", path);
  unlink(sidecar);
}

/* ---- clawback ingestion into the ledger ------------------------------------------------ */

typedef struct {
  msstore_ledger *ledger;
  const msstore_clawback_ingest_options *opts;
  const char *purchase_key; /* non-NULL: the v1 variant */
} ingest_arg;

static msstore_result st_ledger_ingest(msstore_client *c, const msstore_call_options *call,
                                       msstore_completion_cb cb, void *ud, msstore_op **op,
                                       const void *arg) {
  const ingest_arg *a = (const ingest_arg *)arg;
  if (a->purchase_key)
    return msstore_ledger_ingest_clawback_orders(c, a->ledger, a->purchase_key, NULL, call, cb,
                                                 ud, op);
  return msstore_ledger_ingest_clawback(c, a->ledger, a->opts, call, cb, ud, op);
}

/* Runs one ingestion; fills *sum and returns the items (caller frees) or NULL. */
static msstore_ledger_items *ingest(msstore_client *c, int mode, const ingest_arg *a,
                                    msstore_ledger_items_info *sum) {
  msstore_op *op = NULL;
  msstore_ledger_items *items = NULL;
  msstore_result r = run_op(c, mode, st_ledger_ingest, a, &op);
  CHECK_CODE(r, MSSTORE_OK);
  if (r != MSSTORE_OK) print_error(op);
  memset(sum, 0, sizeof *sum);
  sum->struct_size = sizeof *sum;
  if (r == MSSTORE_OK && msstore_op_take_ledger_items(op, &items) == MSSTORE_OK)
    CHECK_CODE(msstore_ledger_items_get_info(items, sum), MSSTORE_OK);
  CHECK(items == NULL || sum->is_ingest_summary == 1);
  msstore_op_free(op);
  return items;
}

static void test_ledger_ingest(msstore_client *c) {
  char path[256], id[64], body[512], sidecar[300], *resp = NULL, *order, *key, *pkey;
  const char *user = "c-ingest-user";
  msstore_ledger *l;
  msstore_ledger_items *items, *other = NULL;
  msstore_ledger_items_info sum;
  msstore_clawback_ingest_options io;
  msstore_ledger_revocation rv;
  ledger_consume_arg a;
  ingest_arg ia;

  snprintf(path, sizeof path, "/tmp/msstore-c-ingest-%ld.sqlite", (long)getpid());
  unlink(path);
  CHECK(admin("DELETE", "/admin/queue", NULL, NULL) == 200);
  key = mint_key("collections", user, CLIENT_ID);
  pkey = mint_key("purchase", user, CLIENT_ID);
  snprintf(body, sizeof body, "{\"store_user_id\":\"%s\",\"product_id\":\"%s\",\"quantity\":3}",
           user, CONSUMABLE);
  CHECK(admin("POST", "/admin/purchases", body, &resp) == 200);
  order = resp ? json_field(resp, "order_id") : NULL;
  free(resp);
  resp = NULL;
  CHECK(order != NULL);

  /* Consume all 3 through the ledger, then the order is returned: Revoked (consumed). */
  l = open_ledger(path);
  memset(&a, 0, sizeof a);
  a.ledger = l;
  a.opts.struct_size = sizeof a.opts;
  a.opts.player_ref = "c-player";
  a.opts.collections_key = key;
  a.opts.product_id = CONSUMABLE;
  a.opts.quantity = 3;
  CHECK(ledger_consume(c, MSSTORE_COMPLETION_BLOCKING, &a, id, sizeof id, NULL) ==
        MSSTORE_LEDGER_APPLIED);
  CHECK_CODE(msstore_ledger_acknowledge_entry(l, id, NULL), MSSTORE_OK);
  snprintf(body, sizeof body,
           "{\"action\":\"return\",\"store_user_id\":\"%s\",\"order_id\":\"%s\"}", user,
           order ? order : "");
  CHECK(admin("POST", "/admin/clawback", body, &resp) == 200);
  CHECK(resp && strstr(resp, "\"Revoked\"") != NULL);
  free(resp);
  /* And one message that is not an event at all. */
  CHECK(admin("POST", "/admin/queue", "{\"text\":\"%%% not an event\"}", NULL) == 200);

  /* v2: one revocation for the player, the junk dead-lettered, both messages deleted. */
  memset(&ia, 0, sizeof ia);
  ia.ledger = l;
  items = ingest(c, MSSTORE_COMPLETION_QUEUED, &ia, &sum);
  CHECK(items != NULL);
  CHECK(sum.received == 2 && sum.applied == 1 && sum.dead_lettered == 1);
  CHECK(sum.deleted == 2 && sum.duplicates == 0 && sum.ignored == 0 && sum.delete_errors == 0);
  CHECK(ledger_items_info(items).entry_count == 0);
  CHECK(ledger_items_info(items).revocation_count == 1);
  memset(&rv, 0, sizeof rv);
  rv.struct_size = sizeof rv;
  CHECK_CODE(msstore_ledger_items_revocation_at(items, 0, &rv), MSSTORE_OK);
  CHECK(rv.kind == MSSTORE_REVOCATION_REVOKE && rv.quantity == 3);
  CHECK(strcmp(rv.player_ref, "c-player") == 0 && strcmp(rv.entry_id, id) == 0);
  CHECK(order && strcmp(rv.order_id, order) == 0);
  CHECK(strstr(msstore_ledger_items_json(items), "\"summary\"") != NULL);
  CHECK_CODE(msstore_ledger_acknowledge_revocation(l, rv.id, NULL), MSSTORE_OK);
  msstore_ledger_items_free(items);

  /* Handed out already; the queue is empty now. */
  CHECK_CODE(msstore_ledger_claim_revocations(l, &other, NULL), MSSTORE_OK);
  CHECK(ledger_items_info(other).revocation_count == 0);
  CHECK_CODE(msstore_ledger_items_get_info(other, &sum), MSSTORE_OK);
  CHECK(sum.is_ingest_summary == 0 && sum.received == 0);
  msstore_ledger_items_free(other);
  items = ingest(c, MSSTORE_COMPLETION_IMMEDIATE, &ia, &sum);
  CHECK(sum.received == 0 && ledger_items_info(items).revocation_count == 0);
  msstore_ledger_items_free(items);

  /* v1 reports the same line: recorded under its own id, but no second revocation. */
  ia.purchase_key = pkey;
  items = ingest(c, MSSTORE_COMPLETION_BLOCKING, &ia, &sum);
  CHECK(sum.applied == 1 && ledger_items_info(items).revocation_count == 0);
  msstore_ledger_items_free(items);
  ia.purchase_key = NULL;

  /* Bad input fails at start. */
  memset(&io, 0, sizeof io);
  io.struct_size = sizeof io;
  io.max_messages = 33;
  CHECK_CODE(msstore_ledger_ingest_clawback(c, l, &io, NULL, NULL, NULL, NULL),
             MSSTORE_E_INVALID_ARGUMENT);
  io.max_messages = 0;
  io.expected_sandbox = "  ";
  CHECK_CODE(msstore_ledger_ingest_clawback(c, l, &io, NULL, NULL, NULL, NULL),
             MSSTORE_E_INVALID_ARGUMENT);
  CHECK_CODE(msstore_ledger_ingest_clawback(c, NULL, NULL, NULL, NULL, NULL, NULL),
             MSSTORE_E_NULL_POINTER);
  CHECK_CODE(msstore_ledger_ingest_clawback_orders(c, l, NULL, NULL, NULL, NULL, NULL, NULL),
             MSSTORE_E_NULL_POINTER);
  CHECK_CODE(msstore_ledger_items_get_info(NULL, &sum), MSSTORE_E_NULL_POINTER);

  CHECK_CODE(msstore_ledger_free(l), MSSTORE_OK);
  free(order);
  free(key);
  free(pkey);
  unlink(path);
  snprintf(sidecar, sizeof sidecar, "%s-wal", path);
  unlink(sidecar);
  snprintf(sidecar, sizeof sidecar, "%s-shm", path);
  unlink(sidecar);
}

#include "test_consume_outcomes.inc"
#include "test_interrupted_money.inc"
#include "test_lifecycle.inc"
#include "test_credentials.inc"
#include "test_abi_misuse.inc"

int main(void) {
  msstore_client *c, *noretry;
  SEED = getenv("MSSTORE_EMU_SEED");
  if (!SEED) {
    fprintf(stderr, "MSSTORE_EMU_SEED is not set (run scripts/test-c.sh)\n");
    return 2;
  }
  BASE = json_field(SEED, "base_url");
  TENANT = json_field(SEED, "tenant_id");
  CLIENT_ID = json_field(SEED, "client_id");
  SECRET = json_field(SEED, "client_secret");
  CKEY = json_field(SEED, "collections_key");
  PKEY = json_field(SEED, "purchase_key");
  DURABLE = json_field(SEED, "durable_product_id");
  CONSUMABLE = json_field(SEED, "consumable_product_id");
  FREE_PID = json_field(SEED, "free_product_id");
  FREE_SKU = json_field(SEED, "free_sku_id");
  FREE_AVAIL = json_field(SEED, "free_availability_id");
  RECURRENCE = json_field(SEED, "recurrence_id");
  STORE_USER = json_field(SEED, "store_user_id");
  UNMANAGED = json_field(SEED, "unmanaged_consumable_product_id");
  PORT = url_port(BASE);

  CHECK_CODE(msstore_log_set_callback(on_log, NULL, 7), MSSTORE_E_INVALID_ARGUMENT);
  CHECK_CODE(msstore_log_set_callback(on_log, NULL, MSSTORE_LOG_TRACE), MSSTORE_OK);

  test_version_and_codes();
  test_sync_errors();
  test_client_from_json();
  c = new_client(0, MSSTORE_COMPLETION_QUEUED);
  noretry = new_client(1, MSSTORE_COMPLETION_QUEUED);
  test_all_operations(c);
  test_clawback(c);
  test_error_codes(c, noretry);
  test_reentrancy(c);
  test_inline_callbacks(c);
  test_threads(c);
  test_client_wait(c);
  test_shutdown();
  test_free_inside_callback();
  test_ledger(c, noretry);
  test_ledger_ingest(c);
  test_consume_v6(c, noretry);
  test_maybe_applied_matrix();
  test_interrupted_money();
  test_log_callback_removal();
  test_shutdown_bound();
  test_fork();
  test_credentials();
  test_borrowed_error_cannot_be_freed(c);
  test_freed_op_is_dead(c);
  test_struct_sizes(c);
  CHECK_CODE(msstore_client_free(noretry), MSSTORE_OK);
  CHECK_CODE(msstore_client_free(c), MSSTORE_OK);

  CHECK(atomic_load(&g_log_leaks) == 0);
  CHECK_CODE(msstore_log_set_callback(NULL, NULL, 0), MSSTORE_OK);
  CHECK(msstore_live_objects() == 0);
  if (msstore_live_objects() != 0) fprintf(stderr, "live objects: %zu\n", msstore_live_objects());

  free(BASE); free(TENANT); free(CLIENT_ID); free(SECRET); free(CKEY); free(PKEY);
  free(DURABLE); free(CONSUMABLE); free(FREE_PID); free(FREE_SKU); free(FREE_AVAIL);
  free(RECURRENCE); free(STORE_USER); free(UNMANAGED);
  {
    int i;
    for (i = 0; i < atomic_load(&g_secret_count) && i < 64; i++) free(g_secret_texts[i]);
  }
  printf("%d passed, %d failed (%d log records)\n", atomic_load(&g_pass), atomic_load(&g_fail),
         atomic_load(&g_logs));
  return atomic_load(&g_fail) == 0 ? 0 : 1;
}
