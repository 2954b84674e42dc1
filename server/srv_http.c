/* srv_http: libwebsockets service thread, static files, REST and /ws. */
#include "server/srv_http.h"
#include "protocol/proto_err.h"
#include "protocol/proto_msg.h"
#include "server/srv_assets.h"
#include "server/srv_err.h"
#include "server/srv_response.h"

#include <libwebsockets.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

_Static_assert(LWS_PRE <= SRV_OUT_PRE, "SRV_OUT_PRE must leave room for LWS_PRE");

#define MAX_CONNS      1024
#define QUEUE_SOFT     512  /* beyond this many queued messages, meters are dropped */
#define QUEUE_HARD     8192 /* beyond this, the client is too slow: close it */
#define QUEUE_REALTIME 40   /* beyond this many queued messages, AUDIO (2.5 ms each) is dropped */
#define WRITE_CHUNK                                                                                \
  (64 * 1024) /* HTTP bodies larger than this go out one piece per WRITEABLE (write_more) */

/* Per-connection state, lws-thread only. */
typedef struct conn {
  uint64_t id;
  struct lws *wsi;
  bool is_ws;
  srv_out *head, *tail; /* messages waiting to be written */
  size_t n_queued;
  /* WebSocket: the message being assembled. */
  unsigned char *rx;
  size_t rx_len;
  bool rx_refused;
  /* HTTP: the request being read. */
  char method[8];
  char path[256]; /* for srv_assets: with "?query" (assets_path) */
  unsigned char *body;
  size_t body_len, body_expected;
  bool to_assets;   /* the request goes to srv_assets, not the control thread */
  srv_out *sending; /* an HTTP answer whose body is being written in pieces */
  size_t sent;      /* bytes of its body written so far */
} conn;

struct srv_http {
  srv_http_config cfg;
  char web_dir[512], wasm_dir[512];
  struct lws_context *ctx;
  srv_control *control;
  srv_assets *assets; /* NULL: asset routes go to the control thread (404) */
  pthread_t thread;
  bool started;
  atomic_bool stop;
  uint64_t next_id; /* lws thread */
  conn *conns[MAX_CONNS];

  pthread_mutex_t out_lock; /* guards the outbox */
  srv_out *out_head, *out_tail;
};

/* ---- Outbox: control thread → lws thread -------------------------------------- */

static void sink_send(void *ud, srv_out *o) {
  srv_http *h = ud;
  o->next = NULL;
  pthread_mutex_lock(&h->out_lock);
  if (h->out_tail)
    h->out_tail->next = o;
  else
    h->out_head = o;
  h->out_tail = o;
  pthread_mutex_unlock(&h->out_lock);
  lws_cancel_service(h->ctx);
}

srv_sink srv_http_sink(srv_http *h) {
  return (srv_sink){sink_send, h};
}

static conn *find_conn(srv_http *h, uint64_t id) {
  for (size_t i = 0; i < MAX_CONNS; i++)
    if (h->conns[i] && h->conns[i]->id == id) return h->conns[i];
  return NULL;
}

static void free_queue(conn *c) {
  while (c->head) {
    srv_out *next = c->head->next;
    free(c->head);
    c->head = next;
  }
  c->tail = NULL;
  c->n_queued = 0;
}

static void enqueue(conn *c, srv_out *o) {
  if (o->droppable && c->n_queued >= (o->realtime ? QUEUE_REALTIME : QUEUE_SOFT)) {
    free(o);
    return;
  }
  o->next = NULL;
  if (c->tail)
    c->tail->next = o;
  else
    c->head = o;
  c->tail = o;
  c->n_queued++;
  lws_callback_on_writable(c->wsi);
}

/* Moves every answer to its connection's queue; drops answers to closed ones. */
static void drain_outbox(srv_http *h) {
  pthread_mutex_lock(&h->out_lock);
  srv_out *o = h->out_head;
  h->out_head = h->out_tail = NULL;
  pthread_mutex_unlock(&h->out_lock);
  while (o) {
    srv_out *next = o->next;
    conn *c = find_conn(h, o->conn);
    if (c && c->n_queued >= QUEUE_HARD && c->is_ws) {
      /* A client this far behind would only fall further: close it; it
       * reconnects and catches up from a snapshot. */
      free(o);
      free_queue(c);
      lws_set_timeout(c->wsi, PENDING_TIMEOUT_CLOSE_SEND, LWS_TO_KILL_ASYNC);
    } else if (c) {
      enqueue(c, o);
    } else {
      free(o);
    }
    o = next;
  }
}

static conn *add_conn(srv_http *h, struct lws *wsi, bool is_ws) {
  for (size_t i = 0; i < MAX_CONNS; i++) {
    if (h->conns[i]) continue;
    conn *c = calloc(1, sizeof *c);
    if (!c) return NULL;
    c->id = ++h->next_id;
    c->wsi = wsi;
    c->is_ws = is_ws;
    h->conns[i] = c;
    return c;
  }
  return NULL;
}

static void remove_conn(srv_http *h, conn *c) {
  for (size_t i = 0; i < MAX_CONNS; i++)
    if (h->conns[i] == c) h->conns[i] = NULL;
  free_queue(c);
  free(c->sending);
  free(c->rx);
  free(c->body);
  free(c);
}

/* ---- HTTP ------------------------------------------------------------------------ */

static const char *mime_for(const char *path) {
  static const struct {
    const char *ext, *mime;
  } types[] = {{".html", "text/html; charset=utf-8"},
               {".js", "text/javascript"},
               {".mjs", "text/javascript"},
               {".css", "text/css"},
               {".wasm", "application/wasm"},
               {".png", "image/png"},
               {".svg", "image/svg+xml"},
               {".json", "application/json"},
               {".ico", "image/x-icon"},
               {".txt", "text/plain; charset=utf-8"}};
  const char *dot = strrchr(path, '.');
  for (size_t i = 0; dot && i < sizeof types / sizeof types[0]; i++)
    if (strcmp(dot, types[i].ext) == 0) return types[i].mime;
  return NULL;
}

/* Only plain relative names: letters, digits, '-', '_', '.', '/' and no "..". */
static bool safe_path(const char *p) {
  if (strstr(p, "..") || strstr(p, "//")) return false;
  for (; *p; p++) {
    char ch = *p;
    if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
          ch == '-' || ch == '_' || ch == '.' || ch == '/'))
      return false;
  }
  return true;
}

/* Writes the headers of a response whose body of LEN bytes follows;
 * DISPOSITION (or NULL) becomes a Content-Disposition header. */
static int write_head(struct lws *wsi, int status, const char *ctype, size_t len,
                      const char *disposition) {
  unsigned char hdr[LWS_PRE + 1024], *start = hdr + LWS_PRE, *p = start,
                                     *end = hdr + sizeof hdr - 1;
  if (lws_add_http_common_headers(wsi, (unsigned int) status,
                                  ctype ? ctype : "text/plain; charset=utf-8", (lws_filepos_t) len,
                                  &p, end) ||
      lws_add_http_header_by_name(wsi, (const unsigned char *) "cache-control:",
                                  (const unsigned char *) "no-store", 8, &p, end) ||
      (disposition &&
       lws_add_http_header_by_name(
           wsi, (const unsigned char *) "content-disposition:", (const unsigned char *) disposition,
           (int) strlen(disposition), &p, end)) ||
      lws_finalize_write_http_header(wsi, start, &p, end))
    return -1;
  return 0;
}

/* Writes a complete response now (headers + body). BODY must have LWS_PRE
 * writable bytes before it (an srv_out's payload has them). Returns the
 * lws verdict. */
static int write_response_in_place(struct lws *wsi, int status, const char *ctype,
                                   unsigned char *body, size_t len) {
  if (write_head(wsi, status, ctype, len, NULL)) return -1;
  if (len && lws_write(wsi, body, len, LWS_WRITE_HTTP_FINAL) < (int) len) return -1;
  return lws_http_transaction_completed(wsi) ? -1 : 0;
}

/* The same for a body without headroom: copied once behind LWS_PRE. */
static int write_response(struct lws *wsi, int status, const char *ctype, const void *body,
                          size_t len) {
  unsigned char *buf = malloc(LWS_PRE + len + 1);
  if (!buf) return -1;
  if (len) memcpy(buf + LWS_PRE, body, len);
  int rc = write_response_in_place(wsi, status, ctype, buf + LWS_PRE, len);
  free(buf);
  return rc;
}

/* Queues a locally made response (an error) for the writable callback. */
static void local_reply(conn *c, int status, int code, const char *reason) {
  char body[512];
  int n = snprintf(body, sizeof body, "{\"code\":%d,\"reason\":\"%s\"}", code, reason);
  srv_out *o = srv_out_new(SRV_OUT_HTTP, c->id, body, (size_t) n);
  if (!o) return;
  o->status = status;
  o->content_type = "application/json";
  enqueue(c, o);
}

static int serve_static(srv_http *h, struct lws *wsi, const char *uri) {
  char path[1100];
  const char *rel = strcmp(uri, "/") == 0 ? "/index.html" : uri;
  if (!safe_path(rel)) return write_response(wsi, 400, NULL, "bad path\n", 9);
  if (strncmp(rel, "/wasm/", 6) == 0)
    snprintf(path, sizeof path, "%s/%s", h->wasm_dir, rel + 6);
  else
    snprintf(path, sizeof path, "%s%s", h->web_dir, rel);
  const char *mime = mime_for(path);
  if (!mime) return write_response(wsi, 404, NULL, "not found\n", 10);
  static const char extra[] = "cache-control: no-cache\x0d\x0a";
  int n = lws_serve_http_file(wsi, path, mime, extra, (int) sizeof extra - 1);
  if (n < 0 || (n > 0 && lws_http_transaction_completed(wsi))) return -1;
  return 0;
}

static void post_http(srv_http *h, conn *c) {
  srv_in *in = srv_in_new(SRV_IN_HTTP, c->id, c->body, c->body_len);
  if (!in) {
    local_reply(c, 500, SRV_ERR_NOMEM, "out of memory");
    return;
  }
  snprintf(in->method, sizeof in->method, "%s", c->method);
  snprintf(in->path, sizeof in->path, "%s", c->path);
  free(c->body);
  c->body = NULL;
  c->body_len = 0;
  if (c->to_assets)
    srv_assets_post(h->assets, in);
  else
    srv_control_post(h->control, in);
}

/* Appends "?" and the query string to c->path for srv_assets. lws gives the
 * arguments url-decoded, one "name=value" fragment each, so each name and
 * value is percent-encoded again (all but [A-Za-z0-9._~-]) and srv_assets
 * decodes them: a value holding '&' or '=' stays one value. Returns false
 * when the result does not fit c->path. */
static bool assets_path(struct lws *wsi, conn *c) {
  size_t at = strlen(c->path);
  char frag[256];
  if (lws_hdr_total_length(wsi, WSI_TOKEN_HTTP_URI_ARGS) >= (int) sizeof frag) return false;
  for (int i = 0; lws_hdr_copy_fragment(wsi, frag, sizeof frag, WSI_TOKEN_HTTP_URI_ARGS, i) >= 0;
       i++) {
    if (at + 1 >= sizeof c->path) return false;
    c->path[at++] = i ? '&' : '?';
    bool seen_eq = false;
    for (const char *f = frag; *f; f++) {
      unsigned char ch = (unsigned char) *f;
      bool plain = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
                   (ch >= '0' && ch <= '9') || ch == '.' || ch == '_' || ch == '~' || ch == '-';
      if (ch == '=' && !seen_eq) plain = seen_eq = true;
      if (at + (plain ? 1 : 3) >= sizeof c->path) return false;
      if (plain)
        c->path[at++] = (char) ch;
      else
        at += (size_t) snprintf(c->path + at, 4, "%%%02X", ch);
    }
    c->path[at] = 0;
  }
  return true;
}

static int on_http(srv_http *h, struct lws *wsi, conn *c, const char *uri) {
  char *u;
  int ulen, method = lws_http_get_uri_and_method(wsi, &u, &ulen);
  static const char *names[] = {"GET",   "POST",   "OPTIONS", "PUT",
                                "PATCH", "DELETE", "CONNECT", "HEAD"};
  c->body_len = 0;
  c->body_expected = 0;
  snprintf(c->method, sizeof c->method, "%s", method >= 0 && method < 8 ? names[method] : "?");
  if (strlen(uri) >= sizeof c->path) return write_response(wsi, 414, NULL, "path too long\n", 14);
  snprintf(c->path, sizeof c->path, "%s", uri);
  c->to_assets = h->assets && srv_assets_routes(uri);
  if (c->to_assets && !assets_path(wsi, c))
    return write_response(wsi, 414, NULL, "query too long\n", 15);

  if (strncmp(uri, "/api/", 5) != 0 && strcmp(uri, "/metrics") != 0) {
    if (method != LWSHUMETH_GET && method != LWSHUMETH_HEAD)
      return write_response(wsi, 405, NULL, "method not allowed\n", 19);
    return serve_static(h, wsi, uri);
  }
  srv_response r;
  if ((method == LWSHUMETH_GET || method == LWSHUMETH_HEAD) &&
      srv_control_readonly(h->control, c->method, uri, &r) == 0) {
    int rc = write_response(wsi, r.status, r.content_type, r.body, r.len);
    free(r.body);
    return rc;
  }
  if (method == LWSHUMETH_POST || method == LWSHUMETH_PUT) {
    char len_s[32];
    if (lws_hdr_copy(wsi, len_s, sizeof len_s, WSI_TOKEN_HTTP_CONTENT_LENGTH) <= 0) {
      local_reply(c, 411, SRV_ERR_BAD_REQUEST, "a request body needs a Content-Length");
      return 0;
    }
    char *end;
    unsigned long long n = strtoull(len_s, &end, 10);
    if (*end || n > SRV_MAX_BODY) {
      char why[96];
      snprintf(why, sizeof why, "request body of %s bytes is larger than the limit of %d", len_s,
               SRV_MAX_BODY);
      local_reply(c, 413, SRV_ERR_TOO_BIG, why);
      c->body_expected = (size_t) -1; /* ignore whatever body follows */
      return 0;
    }
    c->body_expected = (size_t) n;
    if (n == 0) post_http(h, c);
    return 0; /* the body arrives in LWS_CALLBACK_HTTP_BODY */
  }
  c->body_expected = (size_t) -1; /* a body on other methods is ignored */
  post_http(h, c);
  return 0;
}

/* ---- Callbacks ------------------------------------------------------------------ */

/* Writes the next piece of c->sending's body; the last one completes the
 * transaction (which may free C). The piece is written in place: lws needs
 * LWS_PRE writable bytes before it, which are SRV_OUT_PRE's headroom for the
 * first piece and bytes already handed to lws for the others. */
static int write_more(conn *c) {
  srv_out *o = c->sending;
  size_t n = o->len - c->sent < WRITE_CHUNK ? o->len - c->sent : WRITE_CHUNK;
  bool last = c->sent + n == o->len;
  if (lws_write(c->wsi, o->buf + SRV_OUT_PRE + c->sent, n,
                last ? LWS_WRITE_HTTP_FINAL : LWS_WRITE_HTTP) < (int) n)
    return -1; /* remove_conn frees c->sending */
  c->sent += n;
  if (!last) {
    lws_callback_on_writable(c->wsi);
    return 0;
  }
  c->sending = NULL;
  free(o);
  return lws_http_transaction_completed(c->wsi) ? -1 : 0;
}

/* An export (GET /api/projects/ID/export, answered 200 by srv_assets) is
 * sent as a download named ID.backline-archive; fills DISP or returns NULL. */
static const char *disposition_for(const conn *c, const srv_out *o, char disp[128]) {
  static const char prefix[] = "/api/projects/";
  if (o->status != 200 || strncmp(c->path, prefix, sizeof prefix - 1) != 0) return NULL;
  const char *id = c->path + sizeof prefix - 1, *slash = strchr(id, '/');
  if (!slash || slash - id > 64 || strncmp(slash, "/export", 7) != 0 ||
      (slash[7] && slash[7] != '?'))
    return NULL;
  for (const char *q = id; q < slash; q++)
    if (!((*q >= 'a' && *q <= 'z') || (*q >= '0' && *q <= '9') || *q == '-' || *q == '_'))
      return NULL;
  snprintf(disp, 128, "attachment; filename=\"%.*s.backline-archive\"", (int) (slash - id), id);
  return disp;
}

static int write_next(conn *c) {
  if (c->sending) return write_more(c);
  srv_out *o = c->head;
  if (!o) return 0;
  c->head = o->next;
  if (!c->head) c->tail = NULL;
  c->n_queued--;
  int rc = 0;
  if (o->kind == SRV_OUT_WS) {
    int n = lws_write(c->wsi, o->buf + SRV_OUT_PRE, o->len, LWS_WRITE_BINARY);
    if (n < (int) o->len) rc = -1;
  } else if (o->kind == SRV_OUT_CLOSE) {
    lws_close_reason(c->wsi, (enum lws_close_status) o->status, o->buf + SRV_OUT_PRE, o->len);
    rc = -1;
  } else if (o->kind == SRV_OUT_HTTP) {
    char disp[128];
    const char *d = disposition_for(c, o, disp);
    if (o->len > WRITE_CHUNK || d) {
      /* A large body (an export, peaks) goes out in pieces, so that one
       * answer never needs a second copy or blocks the service thread. */
      if (write_head(c->wsi, o->status, o->content_type, o->len, d)) {
        free(o);
        return -1;
      }
      c->sending = o, c->sent = 0;
      if (!o->len) return write_more(c);
      lws_callback_on_writable(c->wsi);
      return 0;
    }
    /* Completing the transaction drops the protocol, which frees C: do not
     * touch it afterwards. */
    rc = write_response_in_place(c->wsi, o->status, o->content_type, o->buf + SRV_OUT_PRE, o->len);
    free(o);
    return rc;
  }
  free(o);
  if (!rc && c->head) lws_callback_on_writable(c->wsi);
  return rc;
}

static int callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
                    size_t len) {
  srv_http *h = lws_context_user(lws_get_context(wsi));
  conn **pc = user, *c = pc ? *pc : NULL;
  switch (reason) {
    case LWS_CALLBACK_EVENT_WAIT_CANCELLED:
      drain_outbox(h);
      return 0;

    case LWS_CALLBACK_HTTP:
      if (!c && !(c = *pc = add_conn(h, wsi, false)))
        return write_response(wsi, 503, NULL, "busy\n", 5);
      return on_http(h, wsi, c, in);
    case LWS_CALLBACK_HTTP_BODY:
      if (!c || !len || c->body_expected == (size_t) -1) return 0;
      if (len > c->body_expected - c->body_len) {
        local_reply(c, 400, SRV_ERR_BAD_REQUEST, "more body than Content-Length announced");
        c->body_expected = (size_t) -1;
        return 0;
      }
      if (!c->body && !(c->body = malloc(c->body_expected)))
        return -1; /* announced size, checked above */
      memcpy(c->body + c->body_len, in, len);
      c->body_len += len;
      return 0;
    case LWS_CALLBACK_HTTP_BODY_COMPLETION:
      if (c && c->body_expected != (size_t) -1 && c->body_expected) post_http(h, c);
      return 0;
    case LWS_CALLBACK_HTTP_WRITEABLE:
      return c ? write_next(c) : 0;
    case LWS_CALLBACK_HTTP_FILE_COMPLETION:
      return lws_http_transaction_completed(wsi) ? -1 : 0;
    case LWS_CALLBACK_HTTP_DROP_PROTOCOL: /* end of a transaction: lws frees our slot pointer */
    case LWS_CALLBACK_CLOSED_HTTP:
      if (c) remove_conn(h, c), *pc = NULL;
      return 0;

    case LWS_CALLBACK_ESTABLISHED:
      if (!(c = *pc = add_conn(h, wsi, true))) return -1;
      srv_control_post(h->control, srv_in_new(SRV_IN_WS_OPEN, c->id, NULL, 0));
      return 0;
    case LWS_CALLBACK_RECEIVE: {
      if (!c) return -1;
      size_t remaining = lws_remaining_packet_payload(wsi);
      if (lws_is_first_fragment(wsi)) c->rx_len = 0, c->rx_refused = false;
      if (!c->rx_refused && c->rx_len + len + remaining > PROTO_MAX_MSG) {
        c->rx_refused = true; /* refused before allocating anything for it */
        free(c->rx);
        c->rx = NULL;
        char why[128];
        int n = snprintf(why, sizeof why, "message of more than %d bytes refused", PROTO_MAX_MSG);
        proto_msg m = {.type = PROTO_REJECT};
        m.u.reject = (proto_reject){0, PROTO_ERR_TOO_BIG, why, (uint32_t) n};
        unsigned char buf[256];
        int k = proto_encode(&m, buf, sizeof buf);
        srv_out *o = k > 0 ? srv_out_new(SRV_OUT_WS, c->id, buf, (size_t) k) : NULL;
        if (o) enqueue(c, o);
      }
      if (c->rx_refused) return 0;
      if (!c->rx && !(c->rx = malloc(PROTO_MAX_MSG))) return -1;
      memcpy(c->rx + c->rx_len, in, len);
      c->rx_len += len;
      if (lws_is_final_fragment(wsi) && remaining == 0) {
        srv_control_post(h->control, srv_in_new(SRV_IN_WS_MSG, c->id, c->rx, c->rx_len));
        c->rx_len = 0;
      }
      return 0;
    }
    case LWS_CALLBACK_SERVER_WRITEABLE:
      return c ? write_next(c) : 0;
    case LWS_CALLBACK_CLOSED:
      if (c) {
        srv_control_post(h->control, srv_in_new(SRV_IN_WS_CLOSE, c->id, NULL, 0));
        remove_conn(h, c);
        *pc = NULL;
      }
      return 0;
    default:
      break;
  }
  return lws_callback_http_dummy(wsi, reason, user, in, len);
}

static const struct lws_protocols protocols[] = {
    {"http", callback, sizeof(conn *), 0, 0, NULL, 0},
    {"backline", callback, sizeof(conn *), 16384, 0, NULL, 0},
    {NULL, NULL, 0, 0, 0, NULL, 0},
};

/* ---- Lifecycle ------------------------------------------------------------------ */

static void *service_main(void *arg) {
  srv_http *h = arg;
  while (!atomic_load(&h->stop))
    if (lws_service(h->ctx, 0) < 0) break;
  return NULL;
}

static bool add_vhost(srv_http *h, const char *name, int port, bool tls, char *err,
                      size_t err_len) {
  struct lws_context_creation_info info;
  memset(&info, 0, sizeof info);
  info.vhost_name = name;
  info.port = port;
  info.iface = h->cfg.bind;
  info.protocols = protocols;
  if (tls) {
    info.options =
        LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT; /* without it the vhost speaks plain HTTP */
    info.ssl_cert_filepath = h->cfg.cert;
    info.ssl_private_key_filepath = h->cfg.key;
  }
  if (!lws_create_vhost(h->ctx, &info)) {
    snprintf(err, err_len, "cannot listen on %s port %d (in use, or not permitted)",
             tls ? "HTTPS" : "HTTP", port);
    return false;
  }
  return true;
}

int srv_http_create(const srv_http_config *cfg, srv_http **out, char *err, size_t err_len) {
  *out = NULL;
  srv_http *h = calloc(1, sizeof *h);
  if (!h) return snprintf(err, err_len, "out of memory"), SRV_ERR_NOMEM;
  h->cfg = *cfg;
  snprintf(h->web_dir, sizeof h->web_dir, "%s", cfg->web_dir);
  snprintf(h->wasm_dir, sizeof h->wasm_dir, "%s", cfg->wasm_dir);
  pthread_mutex_init(&h->out_lock, NULL);
  lws_set_log_level(LLL_ERR, NULL);
  struct lws_context_creation_info info;
  memset(&info, 0, sizeof info);
  info.options = LWS_SERVER_OPTION_EXPLICIT_VHOSTS | LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT;
  info.user = h;
  info.alpn = "http/1.1";
  info.pt_serv_buf_size = 32 * 1024;
  h->ctx = lws_create_context(&info);
  bool ok = h->ctx != NULL;
  if (!ok) snprintf(err, err_len, "cannot create the libwebsockets context");
  if (ok && cfg->port) ok = add_vhost(h, "http", cfg->port, false, err, err_len);
  if (ok && cfg->https_port) ok = add_vhost(h, "https", cfg->https_port, true, err, err_len);
  if (!ok) {
    srv_http_destroy(h);
    return SRV_ERR_START;
  }
  *out = h;
  return 0;
}

void srv_http_set_assets(srv_http *h, srv_assets *assets) {
  h->assets = assets;
}

int srv_http_start(srv_http *h, srv_control *control) {
  h->control = control;
  if (pthread_create(&h->thread, NULL, service_main, h) != 0) return SRV_ERR_START;
  h->started = true;
  return 0;
}

void srv_http_destroy(srv_http *h) {
  if (!h) return;
  if (h->started) {
    atomic_store(&h->stop, true);
    lws_cancel_service(h->ctx);
    pthread_join(h->thread, NULL);
  }
  if (h->ctx) lws_context_destroy(h->ctx); /* closes connections: CLOSED callbacks free them */
  for (size_t i = 0; i < MAX_CONNS; i++)
    if (h->conns[i]) remove_conn(h, h->conns[i]);
  drain_outbox(h);
  while (h->out_head) {
    srv_out *next = h->out_head->next;
    free(h->out_head);
    h->out_head = next;
  }
  pthread_mutex_destroy(&h->out_lock);
  free(h);
}
