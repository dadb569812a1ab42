/* msstore quickstart in C: queued completion and a poll loop, the way a game thread uses it.
 *
 *   cargo run -p msstore-emulator -- --port 0 --seed demo   # prints a JSON seed line
 *   MSSTORE_EMU_SEED='<that line>' ./quickstart
 *
 * scripts/test-c.sh builds and runs it against a fresh emulator. */
#define _POSIX_C_SOURCE 200809L
#include "msstore.h"
#include "common.h"

#include <time.h>

typedef struct {
  int done;
  msstore_result code;
  msstore_entitlements *owned; /* taken from the op: ours to free */
} query_state;

static void on_query(void *user_data, msstore_result code, msstore_op *op) {
  query_state *s = (query_state *)user_data;
  s->code = code;
  s->done = 1;
  if (code == MSSTORE_OK) {
    msstore_op_take_entitlements(op, &s->owned);
  } else {
    const msstore_error *e = msstore_op_error(op); /* borrowed: valid during the callback */
    fprintf(stderr, "query failed: %s (%s)\n", msstore_result_name(code),
            error_info(e).message);
  }
  /* the op was started without out_op: it frees itself after this callback */
}

static void on_log(void *ud, int32_t level, const char *target, const char *message) {
  (void)ud;
  if (level <= MSSTORE_LOG_WARN) fprintf(stderr, "[msstore %d %s] %s\n", level, target, message);
}

int main(void) {
  const char *seed = getenv("MSSTORE_EMU_SEED");
  char *base, *tenant, *client_id, *secret, *key, *durable, *consumable;
  msstore_client_options opts;
  msstore_client *client = NULL;
  msstore_error *err = NULL;
  msstore_query_options q;
  query_state st = {0, MSSTORE_OK, NULL};
  const char *products[2];
  int frames, passed = 0, failed = 0;
  size_t i;

  if (!seed) {
    fprintf(stderr, "set MSSTORE_EMU_SEED to the emulator's seed line\n");
    return 2;
  }
  base = json_field(seed, "base_url");
  tenant = json_field(seed, "tenant_id");
  client_id = json_field(seed, "client_id");
  secret = json_field(seed, "client_secret");
  key = json_field(seed, "collections_key");
  durable = json_field(seed, "durable_product_id");
  consumable = json_field(seed, "consumable_product_id");
  printf("msstore %s\n", msstore_version());
  msstore_log_set_callback(on_log, NULL, MSSTORE_LOG_INFO);

  /* 1. a client (queued completion is the default) */
  msstore_client_options_init(&opts);
  opts.tenant_id = tenant;
  opts.client_id = client_id;
  opts.client_secret = secret;
  opts.emulator_base_url = base;
  if (msstore_client_new(&opts, &client, &err) != MSSTORE_OK) {
    fprintf(stderr, "cannot create the client: %s\n", error_info(err).message);
    msstore_error_free(err);
    return 1;
  }

  /* 2. what does this player own? (the key comes from the game client) */
  products[0] = durable;
  products[1] = consumable;
  memset(&q, 0, sizeof q);
  q.struct_size = sizeof q;
  q.collections_key = key;
  q.product_ids = products;
  q.product_count = 2;
  if (msstore_client_query_entitlements(client, &q, NULL, on_query, &st, NULL) != MSSTORE_OK) return 1;

  /* 3. the game loop: poll once per frame; the callback runs here, on this thread */
  for (frames = 0; !st.done && frames < 1000; frames++) {
    struct timespec frame = {0, 16 * 1000000L};
    msstore_client_poll(client, 0);
    nanosleep(&frame, NULL);
  }
  printf("completed after %d frames: %s\n", frames, msstore_result_name(st.code));
  st.code == MSSTORE_OK ? passed++ : failed++;

  for (i = 0; st.owned && i < entitlements_info(st.owned).count; i++) {
    msstore_entitlement e;
    memset(&e, 0, sizeof e);
    e.struct_size = sizeof e;
    msstore_entitlements_item_at(st.owned, i, &e);
    printf("  %s  %-20s  %-8s  quantity %lld\n", e.product_id, e.product_kind, e.status,
           (long long)e.quantity);
  }
  (st.owned && entitlements_info(st.owned).count == 2) ? passed++ : failed++;

  msstore_entitlements_free(st.owned);
  msstore_client_free(client);
  msstore_log_set_callback(NULL, NULL, 0);
  msstore_live_objects() == 0 ? passed++ : failed++;
  free(base); free(tenant); free(client_id); free(secret); free(key); free(durable);
  free(consumable);
  printf("%d passed, %d failed\n", passed, failed);
  return failed == 0 ? 0 : 1;
}
