/*
 * The libcurl variant of msstore-bench: what a hand-written Unreal/C++ integration does. Each
 * caller thread reuses one curl easy handle (keep-alive connection), the service token is
 * fetched once under a mutex, and the request bodies are the ones msstore sends (written by
 * the benchmark into --bodies DIR; placeholders @CONT@, @TRACKING@ and @TOKEN@ are filled in
 * per request). Prints one JSON line: the same summary the Rust variants print.
 *
 * Usage: curl_client --base URL --tenant T --client-id C --user-agent UA --workload W
 *        --concurrency N --warmup-ms X --measure-ms Y --cold-callers K --bodies DIR
 * The client secret comes from the environment variable MSSTORE_BENCH_SECRET.
 */
#define _GNU_SOURCE
#include <curl/curl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef struct { char *p; size_t n, cap; } buf;

static void buf_add(buf *b, const char *s, size_t n) {
  if (b->n + n + 1 > b->cap) {
    size_t cap = b->cap ? b->cap * 2 : 4096;
    while (cap < b->n + n + 1) cap *= 2;
    char *p = realloc(b->p, cap);
    if (!p) { fprintf(stderr, "out of memory\n"); exit(2); }
    b->p = p; b->cap = cap;
  }
  memcpy(b->p + b->n, s, n);
  b->n += n;
  b->p[b->n] = 0;
}

static size_t on_body(char *data, size_t size, size_t nmemb, void *ud) {
  buf_add((buf *)ud, data, size * nmemb);
  return size * nmemb;
}

/* ---- configuration ---- */
static const char *base, *tenant, *client_id, *user_agent, *workload, *bodies, *secret;
static int concurrency = 1, cold_callers = 1000;
static long warmup_ms = 300, measure_ms = 1500;

/* query bodies: first page and next-page template, per product chunk */
static char *first[8], *next_tmpl[8];
static int chunks;
static char *consume_tmpl, *renew_tmpl;

static char *read_file(const char *name) {
  char path[4096];
  snprintf(path, sizeof path, "%s/%s", bodies, name);
  FILE *f = fopen(path, "rb");
  if (!f) return NULL;
  buf b = {0};
  char tmp[8192];
  size_t n;
  while ((n = fread(tmp, 1, sizeof tmp, f)) > 0) buf_add(&b, tmp, n);
  fclose(f);
  if (!b.p) buf_add(&b, "", 0);
  return b.p;
}

/* Replaces the first `ph` in `tmpl` with `val`. */
static void fill(buf *out, const char *tmpl, const char *ph, const char *val, size_t val_n) {
  out->n = 0;
  const char *at = strstr(tmpl, ph);
  if (!at) { buf_add(out, tmpl, strlen(tmpl)); return; }
  buf_add(out, tmpl, (size_t)(at - tmpl));
  buf_add(out, val, val_n);
  const char *rest = at + strlen(ph);
  buf_add(out, rest, strlen(rest));
}

static double now_s(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* ---- token (fetched once; the mutex makes concurrent first callers wait for it) ---- */
static pthread_mutex_t token_lock = PTHREAD_MUTEX_INITIALIZER;
static char *token;

static void random_cv(char *out) {
  static const char A[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  unsigned s = (unsigned)(now_s() * 1e9) ^ (unsigned)(uintptr_t)out;
  for (int i = 0; i < 16; i++) { s = s * 1103515245u + 12345u; out[i] = A[(s >> 16) % 64]; }
  strcpy(out + 16, ".0");
}

/* POSTs `body`; returns the HTTP status (0 on a transport error) and fills `resp`. */
static long post(CURL *h, const char *url, const char *ctype, const char *body, size_t n,
                 const char *bearer, buf *resp, char *err, size_t errn) {
  struct curl_slist *hd = NULL;
  char line[8192], cv[32];
  random_cv(cv);
  snprintf(line, sizeof line, "MS-CV: %s", cv);
  hd = curl_slist_append(hd, line);
  snprintf(line, sizeof line, "Content-Type: %s", ctype);
  hd = curl_slist_append(hd, line);
  if (bearer) {
    snprintf(line, sizeof line, "Authorization: Bearer %s", bearer);
    hd = curl_slist_append(hd, line);
  }
  hd = curl_slist_append(hd, "Expect:"); /* no 100-continue round trip for larger bodies */
  resp->n = 0;
  curl_easy_setopt(h, CURLOPT_URL, url);
  curl_easy_setopt(h, CURLOPT_HTTPHEADER, hd);
  curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
  curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, (long)n);
  curl_easy_setopt(h, CURLOPT_WRITEDATA, resp);
  CURLcode rc = curl_easy_perform(h);
  curl_slist_free_all(hd);
  if (rc != CURLE_OK) {
    snprintf(err, errn, "curl: %s", curl_easy_strerror(rc));
    return 0;
  }
  long status = 0;
  curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
  if (status < 200 || status > 299)
    snprintf(err, errn, "HTTP %ld: %.200s", status, resp->p ? resp->p : "");
  return status;
}

static CURL *new_handle(void) {
  CURL *h = curl_easy_init();
  curl_easy_setopt(h, CURLOPT_USERAGENT, user_agent);
  curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
  curl_easy_setopt(h, CURLOPT_TCP_NODELAY, 1L);
  curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, 10000L);
  curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, 30000L);
  /* --tls runs: trust the emulator's test certificate (a PEM file path). */
  const char *ca = getenv("MSSTORE_BENCH_CAINFO");
  if (ca && *ca) curl_easy_setopt(h, CURLOPT_CAINFO, ca);
  return h;
}

static const char *get_token(CURL *h, char *err, size_t errn) {
  pthread_mutex_lock(&token_lock);
  if (!token) {
    char *cid = curl_easy_escape(h, client_id, 0), *sec = curl_easy_escape(h, secret, 0);
    char *scope = curl_easy_escape(h, "https://onestore.microsoft.com/.default", 0);
    char form[4096], url[2048];
    int n = snprintf(form, sizeof form, "grant_type=client_credentials&client_id=%s&client_secret=%s&scope=%s",
                     cid, sec, scope);
    curl_free(cid); curl_free(sec); curl_free(scope);
    snprintf(url, sizeof url, "%s/login/%s/oauth2/v2.0/token", base, tenant);
    buf resp = {0};
    long st = post(h, url, "application/x-www-form-urlencoded; charset=utf-8", form, (size_t)n, NULL,
                   &resp, err, errn);
    const char *k = resp.p ? strstr(resp.p, "\"access_token\":\"") : NULL;
    if (st == 200 && k) {
      k += strlen("\"access_token\":\"");
      const char *e = strchr(k, '"');
      if (e) token = strndup(k, (size_t)(e - k));
    } else if (st == 200) {
      snprintf(err, errn, "token reply without access_token");
    }
    free(resp.p);
  }
  pthread_mutex_unlock(&token_lock);
  return token;
}

/* The raw (still JSON-escaped) continuation token of a page, or NULL on the last page. */
static const char *find_cont(const char *body, size_t *len) {
  const char *k = body ? strstr(body, "\"continuationToken\":\"") : NULL;
  if (!k) return NULL;
  k += strlen("\"continuationToken\":\"");
  const char *e = k;
  while (*e && *e != '"') e += (*e == '\\' && e[1]) ? 2 : 1;
  if (e == k) return NULL;
  *len = (size_t)(e - k);
  return k;
}

static void new_guid(char *out) {
  unsigned char b[16];
  static _Atomic uint64_t ctr;
  uint64_t x = atomic_fetch_add(&ctr, 1) * 0x9E3779B97F4A7C15ull ^ (uint64_t)(now_s() * 1e9);
  for (int i = 0; i < 16; i++) { x ^= x << 13; x ^= x >> 7; x ^= x << 17; b[i] = (unsigned char)x; }
  b[6] = (b[6] & 0x0f) | 0x40; b[8] = (b[8] & 0x3f) | 0x80;
  sprintf(out, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0], b[1], b[2],
          b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14], b[15]);
}

/* One operation; returns 0 on success. */
static int one_op(CURL *h, uint64_t n, buf *body, buf *resp, char *err, size_t errn) {
  const char *tok = get_token(h, err, errn);
  if (!tok) return 1;
  char url[2048];
  if (!strcmp(workload, "consume")) {
    char g[40];
    new_guid(g);
    fill(body, consume_tmpl, "@TRACKING@", g, strlen(g));
    snprintf(url, sizeof url, "%s/collections/v8.0/collections/consume", base);
    return post(h, url, "application/json; charset=utf-8", body->p, body->n, tok, resp, err, errn) != 200;
  }
  if (!strcmp(workload, "renew")) {
    fill(body, renew_tmpl, "@TOKEN@", tok, strlen(tok));
    snprintf(url, sizeof url, "%s/collections/v6.0/b2b/keys/renew", base);
    return post(h, url, "application/json; charset=utf-8", body->p, body->n, NULL, resp, err, errn) != 200;
  }
  int c = (int)(n % (uint64_t)chunks);
  snprintf(url, sizeof url, "%s/collections/v9.0/collections/PublisherQuery", base);
  const char *b = first[c];
  size_t bn = strlen(b);
  for (;;) {
    if (post(h, url, "application/json; charset=utf-8", b, bn, tok, resp, err, errn) != 200) return 1;
    size_t cl = 0;
    const char *cont = find_cont(resp->p, &cl);
    if (!cont) return 0;
    char *copy = strndup(cont, cl); /* resp is reused by the next request */
    fill(body, next_tmpl[c], "@CONT@", copy, cl);
    free(copy);
    b = body->p;
    bn = body->n;
  }
}

/* ---- load ---- */
static double t_measure_from, t_end, t_burst;
static int burst_mode;
static _Atomic uint64_t op_counter;

typedef struct {
  uint64_t *lat; size_t n, cap;
  uint64_t errors;
  char first_error[512];
} thread_stats;

static void record(thread_stats *s, double started) {
  if (s->n == s->cap) {
    s->cap = s->cap ? s->cap * 2 : 1024;
    s->lat = realloc(s->lat, s->cap * sizeof *s->lat);
    if (!s->lat) { fprintf(stderr, "out of memory\n"); exit(2); }
  }
  s->lat[s->n++] = (uint64_t)((now_s() - started) * 1e9);
}

static pthread_barrier_t go;

static void *caller(void *arg) {
  thread_stats *s = arg;
  CURL *h = new_handle();
  buf body = {0}, resp = {0};
  char err[512] = "";
  pthread_barrier_wait(&go);
  if (burst_mode) {
    err[0] = 0;
    if (one_op(h, atomic_fetch_add(&op_counter, 1), &body, &resp, err, sizeof err) == 0)
      record(s, t_burst);
    else { s->errors++; if (!s->first_error[0]) snprintf(s->first_error, sizeof s->first_error, "%s", err); }
  } else {
    while (now_s() < t_end) {
      double started = now_s();
      err[0] = 0;
      int rc = one_op(h, atomic_fetch_add(&op_counter, 1), &body, &resp, err, sizeof err);
      if (rc == 0) {
        double done = now_s();
        if (done >= t_measure_from && done <= t_end) record(s, started);
      } else {
        s->errors++;
        if (!s->first_error[0]) snprintf(s->first_error, sizeof s->first_error, "%s", err);
      }
    }
  }
  free(body.p); free(resp.p);
  curl_easy_cleanup(h);
  return NULL;
}

static int cmp_u64(const void *a, const void *b) {
  uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
  return x < y ? -1 : x > y;
}

static long peak_rss_kb(void) {
  FILE *f = fopen("/proc/self/status", "r");
  char line[256];
  long kb = 0;
  while (f && fgets(line, sizeof line, f))
    if (!strncmp(line, "VmHWM:", 6)) kb = atol(line + 6);
  if (f) fclose(f);
  return kb;
}

static void json_str(const char *s) {
  putchar('"');
  for (; *s; s++) {
    if (*s == '"' || *s == '\\') printf("\\%c", *s);
    else if ((unsigned char)*s < 0x20) printf("\\u%04x", *s);
    else putchar(*s);
  }
  putchar('"');
}

int main(int argc, char **argv) {
  for (int i = 1; i + 1 < argc; i += 2) {
    const char *k = argv[i], *v = argv[i + 1];
    if (!strcmp(k, "--base")) base = v;
    else if (!strcmp(k, "--tenant")) tenant = v;
    else if (!strcmp(k, "--client-id")) client_id = v;
    else if (!strcmp(k, "--user-agent")) user_agent = v;
    else if (!strcmp(k, "--workload")) workload = v;
    else if (!strcmp(k, "--bodies")) bodies = v;
    else if (!strcmp(k, "--concurrency")) concurrency = atoi(v);
    else if (!strcmp(k, "--cold-callers")) cold_callers = atoi(v);
    else if (!strcmp(k, "--warmup-ms")) warmup_ms = atol(v);
    else if (!strcmp(k, "--measure-ms")) measure_ms = atol(v);
    else { fprintf(stderr, "unknown option %s\n", k); return 2; }
  }
  secret = getenv("MSSTORE_BENCH_SECRET");
  if (!base || !tenant || !client_id || !user_agent || !workload || !bodies || !secret || concurrency < 1 ||
      cold_callers < 1) {
    fprintf(stderr, "missing or invalid options (and MSSTORE_BENCH_SECRET)\n");
    return 2;
  }
  const char *q = !strcmp(workload, "query500") ? "query500" : "query10";
  for (chunks = 0; chunks < 8; chunks++) {
    char name[64];
    snprintf(name, sizeof name, "%s.%d.first", q, chunks);
    if (!(first[chunks] = read_file(name))) break;
    snprintf(name, sizeof name, "%s.%d.next", q, chunks);
    if (!(next_tmpl[chunks] = read_file(name))) { fprintf(stderr, "missing %s\n", name); return 2; }
  }
  consume_tmpl = read_file("consume.tmpl");
  renew_tmpl = read_file("renew.tmpl");
  if (!chunks || !consume_tmpl || !renew_tmpl) { fprintf(stderr, "missing bodies in %s\n", bodies); return 2; }
  curl_global_init(CURL_GLOBAL_DEFAULT);

  burst_mode = !strcmp(workload, "cold1000");
  int n = burst_mode ? cold_callers : concurrency;
  thread_stats *st = calloc((size_t)n, sizeof *st);
  pthread_t *th = calloc((size_t)n, sizeof *th);
  pthread_attr_t attr;
  pthread_attr_init(&attr);
  pthread_attr_setstacksize(&attr, 256 * 1024);
  pthread_barrier_init(&go, NULL, (unsigned)n + 1);
  for (int i = 0; i < n; i++)
    if (pthread_create(&th[i], &attr, caller, &st[i])) { fprintf(stderr, "pthread_create failed at %d\n", i); return 2; }
  double t0 = now_s();
  t_burst = t0;
  t_measure_from = t0 + warmup_ms / 1000.0;
  t_end = t_measure_from + measure_ms / 1000.0;
  pthread_barrier_wait(&go);
  for (int i = 0; i < n; i++) pthread_join(th[i], NULL);
  double elapsed = burst_mode ? now_s() - t0 : measure_ms / 1000.0;

  size_t total = 0;
  uint64_t errors = 0;
  const char *first_error = NULL;
  for (int i = 0; i < n; i++) {
    total += st[i].n;
    errors += st[i].errors;
    if (!first_error && st[i].first_error[0]) first_error = st[i].first_error;
  }
  uint64_t *all = malloc((total ? total : 1) * sizeof *all);
  size_t k = 0;
  for (int i = 0; i < n; i++) { memcpy(all + k, st[i].lat, st[i].n * sizeof *all); k += st[i].n; }
  qsort(all, total, sizeof *all, cmp_u64);
#define PCT(p) (total ? all[(size_t)((p) / 100.0 * total + 0.999999) - 1 < total ? (size_t)((p) / 100.0 * total + 0.999999) - 1 : total - 1] / 1000.0 : 0.0)
  printf("{\"ops\":%zu,\"errors\":%llu,\"first_error\":", total, (unsigned long long)errors);
  if (first_error) json_str(first_error); else printf("null");
  printf(",\"seconds\":%.6f,\"throughput\":%.3f,\"p50_us\":%.3f,\"p99_us\":%.3f,\"p999_us\":%.3f,\"rss_kb\":%ld}\n",
         elapsed, total / elapsed, PCT(50.0), PCT(99.0), PCT(99.9), peak_rss_kb());
  curl_global_cleanup();
  return 0;
}
