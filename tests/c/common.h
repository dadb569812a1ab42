/* Shared helpers of the C example and tests: a tiny JSON field reader for the emulator's seed
 * line and a minimal HTTP/1.1 client over POSIX sockets for the emulator's admin API
 * (127.0.0.1 only). Header-only; C11 + POSIX. */
#ifndef MSSTORE_TEST_COMMON_H
#define MSSTORE_TEST_COMMON_H

#include "msstore.h"
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

/* One-call reads of the info structs (msstore_<handle>_get_info), for terse checks: on a NULL
 * or stale handle every field but struct_size is zero / NULL. */
#define MSSTORE_TEST_INFO(fn, handle, info)                                                      \
  static inline info fn(const handle *h) {                                                       \
    info i;                                                                                      \
    memset(&i, 0, sizeof i);                                                                     \
    i.struct_size = sizeof i;                                                                    \
    (void)handle##_get_info(h, &i);                                                              \
    return i;                                                                                    \
  }
MSSTORE_TEST_INFO(error_info, msstore_error, msstore_error_info)
MSSTORE_TEST_INFO(token_info, msstore_token, msstore_token_info)
MSSTORE_TEST_INFO(key_info, msstore_key, msstore_key_info)
MSSTORE_TEST_INFO(entitlements_info, msstore_entitlements, msstore_entitlements_info)
MSSTORE_TEST_INFO(subscriptions_info, msstore_subscriptions, msstore_subscriptions_info)
MSSTORE_TEST_INFO(clawback_orders_info, msstore_clawback_orders, msstore_clawback_orders_info)
MSSTORE_TEST_INFO(clawback_messages_info, msstore_clawback_messages,
                  msstore_clawback_messages_info)
MSSTORE_TEST_INFO(ledger_items_info, msstore_ledger_items, msstore_ledger_items_info)

/* Copies the string value of "field" from a flat JSON object into a new malloc'd string
 * (NULL if absent). Good enough for the emulator's seed line (no escapes in values). */
static inline char *json_field(const char *json, const char *field) {
  char pat[128];
  const char *p, *end;
  char *out;
  snprintf(pat, sizeof pat, "\"%s\":\"", field);
  p = strstr(json, pat);
  if (!p) return NULL;
  p += strlen(pat);
  end = strchr(p, '"');
  if (!end) return NULL;
  out = (char *)malloc((size_t)(end - p) + 1);
  if (!out) return NULL;
  memcpy(out, p, (size_t)(end - p));
  out[end - p] = '\0';
  return out;
}

/* The port of "http://127.0.0.1:PORT". */
static inline int url_port(const char *base_url) {
  const char *p = strrchr(base_url, ':');
  return p ? atoi(p + 1) : 0;
}

/* Sends one request to 127.0.0.1:port and returns the HTTP status; the body (malloc'd, NUL
 * terminated) goes to *body_out when not NULL. -1 on a socket error. */
static inline int http_request(int port, const char *method, const char *path, const char *body,
                        char **body_out) {
  struct sockaddr_in addr;
  struct timeval tv;
  char head[512];
  char *resp = NULL;
  size_t len = 0, cap = 0;
  int fd, status = -1;
  const char *b;
  if (body_out) *body_out = NULL;
  fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return -1;
  tv.tv_sec = 10;
  tv.tv_usec = 0;
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  memset(&addr, 0, sizeof addr);
  addr.sin_family = AF_INET;
  addr.sin_port = htons((unsigned short)port);
  inet_pton(AF_INET, "127.0.0.1", &addr.sin_addr);
  if (connect(fd, (struct sockaddr *)&addr, sizeof addr) != 0) {
    close(fd);
    return -1;
  }
  snprintf(head, sizeof head,
           "%s %s HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
           "Content-Length: %zu\r\nConnection: close\r\n\r\n",
           method, path, body ? strlen(body) : (size_t)0);
  if (write(fd, head, strlen(head)) < 0 || (body && write(fd, body, strlen(body)) < 0)) {
    close(fd);
    return -1;
  }
  for (;;) {
    ssize_t n;
    if (cap - len < 4096) {
      char *grown;
      cap = cap ? cap * 2 : 8192;
      grown = (char *)realloc(resp, cap);
      if (!grown) break;
      resp = grown;
    }
    n = read(fd, resp + len, cap - len - 1);
    if (n <= 0) break;
    len += (size_t)n;
  }
  close(fd);
  if (!resp) return -1;
  resp[len] = '\0';
  if (sscanf(resp, "HTTP/1.1 %d", &status) != 1) status = -1;
  b = strstr(resp, "\r\n\r\n");
  if (body_out && b) {
    size_t blen = strlen(b + 4);
    *body_out = (char *)malloc(blen + 1);
    if (*body_out) memcpy(*body_out, b + 4, blen + 1);
  }
  free(resp);
  return status;
}

#endif
