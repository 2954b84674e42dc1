/* cli_http: blocking HTTP over a nonblocking socket and poll. */
#include "tools/client/cli_http.h"

#include <arpa/inet.h>
#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static int64_t now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

typedef struct buf {
  char *p;
  size_t len, cap;
} buf;

static bool grow(buf *b, size_t need) {
  if (b->cap - b->len >= need) return true;
  size_t cap = b->cap ? b->cap : 4096;
  while (cap - b->len < need)
    cap *= 2;
  char *p = realloc(b->p, cap);
  if (!p) return false;
  b->p = p;
  b->cap = cap;
  return true;
}

/* Finds header NAME (with its colon) in the head; returns its value or NULL. */
static const char *header(const char *head, size_t head_len, const char *name) {
  size_t n = strlen(name);
  for (const char *p = head; p && p < head + head_len;) {
    const char *eol = memchr(p, '\n', (size_t) (head + head_len - p));
    if (!eol) break;
    if ((size_t) (eol - p) > n && strncasecmp(p, name, n) == 0) {
      const char *v = p + n;
      while (*v == ' ' || *v == '\t')
        v++;
      return v;
    }
    p = eol + 1;
  }
  return NULL;
}

/* Decodes a chunked body in place; returns its length or -1 if incomplete. */
static long dechunk(char *body, size_t len) {
  size_t in = 0, out = 0;
  for (;;) {
    char *eol = memmem(body + in, len - in, "\r\n", 2);
    if (!eol) return -1;
    unsigned long n = strtoul(body + in, NULL, 16);
    in = (size_t) (eol - body) + 2;
    if (n == 0) return (long) out;
    if (len - in < n + 2) return -1;
    memmove(body + out, body + in, n);
    out += n;
    in += n + 2;
  }
}

/* If R holds a complete response, fills the outputs and returns true. */
static bool complete(buf *r, bool eof, int *status, size_t *body_at, size_t *body_len) {
  char *end = r->len ? memmem(r->p, r->len, "\r\n\r\n", 4) : NULL;
  if (!end) return false;
  size_t head_len = (size_t) (end - r->p) + 4;
  if (sscanf(r->p, "HTTP/1.%*d %d", status) != 1) return false;
  const char *cl = header(r->p, head_len, "content-length:");
  const char *te = header(r->p, head_len, "transfer-encoding:");
  size_t have = r->len - head_len;
  *body_at = head_len;
  if (te && strncasecmp(te, "chunked", 7) == 0) {
    long n = dechunk(r->p + head_len, have);
    if (n < 0) return false;
    *body_len = (size_t) n;
    return true;
  }
  if (cl) {
    size_t want = strtoul(cl, NULL, 10);
    if (have < want) return false;
    *body_len = want;
    return true;
  }
  if (*status == 204 || *status == 304 || (*status >= 100 && *status < 200)) {
    *body_len = 0;
    return true;
  }
  *body_len = have;
  return eof;
}

int cli_http_ex(int port, const char *method, const char *path, const void *body, size_t body_len,
                int timeout_ms, int *status, char **resp, size_t *resp_len) {
  *status = 0;
  if (resp) *resp = NULL;
  if (resp_len) *resp_len = 0;
  if (port <= 0 || port > 65535 || !method || !path || (!body && body_len)) return CLI_ERR_INVALID;
  int64_t deadline = now_ms() + (timeout_ms > 0 ? timeout_ms : CLI_HTTP_TIMEOUT_MS);
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return CLI_ERR_CONNECT;
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  struct sockaddr_in sa;
  memset(&sa, 0, sizeof sa);
  sa.sin_family = AF_INET;
  sa.sin_port = htons((uint16_t) port);
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, (struct sockaddr *) &sa, sizeof sa) < 0) {
    close(fd);
    return CLI_ERR_CONNECT;
  }
  fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);

  buf req = {0}, r = {0};
  char head[1024];
  int hn = snprintf(head, sizeof head,
                    "%s %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nConnection: close\r\n"
                    "Accept: application/json\r\n",
                    method, path, port);
  if (hn < 0 || (size_t) hn >= sizeof head) {
    close(fd);
    return CLI_ERR_INVALID;
  }
  if (body || strcmp(method, "POST") == 0 || strcmp(method, "PUT") == 0)
    hn += snprintf(head + hn, sizeof head - (size_t) hn,
                   "Content-Type: application/json\r\nContent-Length: %zu\r\n", body_len);
  hn += snprintf(head + hn, sizeof head - (size_t) hn, "\r\n");
  int rc = 0;
  if (!grow(&req, (size_t) hn + body_len)) rc = CLI_ERR_NOMEM;
  if (!rc) {
    memcpy(req.p, head, (size_t) hn);
    if (body_len) memcpy(req.p + hn, body, body_len);
    req.len = (size_t) hn + body_len;
  }
  size_t sent = 0, body_at = 0, blen = 0;
  bool eof = false, done = false, send_dead = false;
  while (!rc && !done) {
    int64_t left = deadline - now_ms();
    if (left <= 0) {
      rc = CLI_ERR_TIMEOUT;
      break;
    }
    struct pollfd pfd = {fd, POLLIN, 0};
    if (sent < req.len && !send_dead) pfd.events |= POLLOUT;
    int n = poll(&pfd, 1, (int) (left < 100 ? left : 100));
    if (n < 0 && errno != EINTR) rc = CLI_ERR_HTTP;
    if (n <= 0) continue;
    if ((pfd.revents & POLLOUT) && sent < req.len) {
      ssize_t w = send(fd, req.p + sent, req.len - sent, MSG_NOSIGNAL);
      if (w > 0)
        sent += (size_t) w;
      else if (w < 0 && errno != EAGAIN && errno != EINTR)
        send_dead = true; /* the server stopped reading: its answer may still be there */
    }
    if (pfd.revents & (POLLIN | POLLHUP | POLLERR)) {
      if (!grow(&r, 65536)) {
        rc = CLI_ERR_NOMEM;
        break;
      }
      ssize_t k = recv(fd, r.p + r.len, r.cap - r.len - 1, 0);
      if (k > 0) {
        r.len += (size_t) k;
      } else if (k == 0 || (errno != EAGAIN && errno != EINTR)) {
        eof = true;
      }
      r.p[r.len] = 0;
      done = complete(&r, eof, status, &body_at, &blen);
      if (eof && !done) rc = CLI_ERR_HTTP;
    }
  }
  close(fd);
  free(req.p);
  if (rc) {
    *status = 0;
    free(r.p);
    return rc;
  }
  if (resp) {
    char *out = malloc(blen + 1);
    if (!out) {
      free(r.p);
      *status = 0;
      return CLI_ERR_NOMEM;
    }
    memcpy(out, r.p + body_at, blen);
    out[blen] = 0;
    *resp = out;
  }
  if (resp_len) *resp_len = blen;
  free(r.p);
  return 0;
}

int cli_http(int port, const char *method, const char *path, const char *body, int *status,
             char **resp) {
  return cli_http_ex(port, method, path, body, body ? strlen(body) : 0, 0, status, resp, NULL);
}

/* ---- REST conveniences ------------------------------------------------------------ */

int cli_rest_create_project(int port, const char *name, char id[PROTO_PROJECT_ID_MAX + 1]) {
  id[0] = 0;
  cJSON *o = cJSON_CreateObject();
  if (!o || !cJSON_AddStringToObject(o, "name", name ? name : "")) {
    cJSON_Delete(o);
    return CLI_ERR_NOMEM;
  }
  char *body = cJSON_PrintUnformatted(o);
  cJSON_Delete(o);
  if (!body) return CLI_ERR_NOMEM;
  int status;
  char *resp;
  int rc = cli_http(port, "POST", "/api/projects", body, &status, &resp);
  free(body);
  if (rc) return rc;
  cJSON *j = status == 201 ? cJSON_Parse(resp) : NULL;
  const cJSON *jid = cJSON_GetObjectItemCaseSensitive(j, "id");
  rc = CLI_ERR_PROTOCOL;
  if (cJSON_IsString(jid) && strlen(jid->valuestring) <= PROTO_PROJECT_ID_MAX &&
      jid->valuestring[0]) {
    strcpy(id, jid->valuestring);
    rc = 0;
  }
  cJSON_Delete(j);
  free(resp);
  return rc;
}

int cli_rest_state(int port, const char *id, uint64_t *seq, char hash[17]) {
  *seq = 0;
  hash[0] = 0;
  char path[256];
  snprintf(path, sizeof path, "/api/projects/%s/state", id);
  int status;
  char *resp;
  int rc = cli_http(port, "GET", path, NULL, &status, &resp);
  if (rc) return rc;
  cJSON *j = status == 200 ? cJSON_Parse(resp) : NULL;
  const cJSON *js = cJSON_GetObjectItemCaseSensitive(j, "seq");
  const cJSON *jh = cJSON_GetObjectItemCaseSensitive(j, "hash");
  rc = CLI_ERR_PROTOCOL;
  if (cJSON_IsNumber(js) && js->valuedouble >= 0 && cJSON_IsString(jh) &&
      strlen(jh->valuestring) == 16) {
    *seq = (uint64_t) js->valuedouble;
    memcpy(hash, jh->valuestring, 17);
    rc = 0;
  }
  cJSON_Delete(j);
  free(resp);
  return rc;
}

int cli_rest_ops(int port, const char *id, const char *json, int *status, uint64_t *seq,
                 char **resp) {
  if (seq) *seq = 0;
  char path[256];
  snprintf(path, sizeof path, "/api/projects/%s/ops", id);
  char *body;
  int rc = cli_http(port, "POST", path, json, status, &body);
  if (rc) {
    if (resp) *resp = NULL;
    return rc;
  }
  if (*status == 200 && seq) {
    cJSON *j = cJSON_Parse(body);
    const cJSON *js = cJSON_GetObjectItemCaseSensitive(j, "seq");
    if (cJSON_IsNumber(js)) *seq = (uint64_t) js->valuedouble;
    cJSON_Delete(j);
  }
  if (resp)
    *resp = body;
  else
    free(body);
  return 0;
}
