/* cli_client: libwebsockets client, one context + service thread each. */
#include "tools/client/cli_client.h"
#include "shared/mdl_libc.h"
#include "tools/client/cli_txn.h"
#include "protocol/proto_err.h"
#include "protocol/proto_msg.h"
#include "shared/mdl_err.h"
#include "shared/mdl_replica.h"

#include <libwebsockets.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* A queued outgoing message; LWS_PRE bytes of headroom precede the payload. */
typedef struct outmsg {
  struct outmsg *next;
  size_t len;
  unsigned char buf[]; /* LWS_PRE + len */
} outmsg;

struct cli_client {
  /* Fixed after connect. */
  cli_config cfg; /* strings point at the copies below */
  char host[64], path[128], subprotocol[64], project[PROTO_PROJECT_ID_MAX + 1];
  char user[MDL_NAME_MAX + 1];
  struct lws_context *ctx;
  pthread_t thread;
  bool thread_started;
  atomic_bool stop;  /* the service thread leaves its loop */
  atomic_bool quiet; /* no more user callbacks (closing) */
  struct lws *wsi;   /* service thread only */
  uint8_t *in;       /* service thread only: the message being assembled */
  size_t in_len, in_cap;
  bool in_overflow;
  proto_scratch *scratch; /* service thread only */

  /* Guarded by mu. */
  pthread_mutex_t mu;
  pthread_cond_t cv;
  mdl_replica *replica;
  outmsg *head, *tail; /* outgoing queue */
  bool want_close;     /* the service thread should close the connection */
  bool open;           /* the WebSocket is established */
  bool in_callback;    /* user callbacks for the last state change are running */
  uint64_t last_seq;   /* for gap detection */
  uint32_t next_unchecked;
  uint8_t *enc; /* PROTO_MAX_MSG bytes for encoding */
  cli_stats st;
  cli_reject rejects[CLI_REJECTS_KEPT]; /* ring, st.n_rejects % CLI_REJECTS_KEPT is next */
};

uint64_t cli_now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t) ts.tv_sec * 1000000000u + (uint64_t) ts.tv_nsec;
}

const mdl_alloc cli_heap = MDL_LIBC_ALLOC;
#define heap cli_heap

static void copy_str(char *dst, size_t cap, const char *src) {
  snprintf(dst, cap, "%s", src ? src : "");
}

cli_config cli_config_default(void) {
  cli_config cfg;
  memset(&cfg, 0, sizeof cfg);
  cfg.host = "127.0.0.1";
  cfg.path = "/ws";
  cfg.subprotocol = "backline";
  cfg.user = "cli";
  cfg.colour = 0x3080c0;
  cfg.timeout_ms = CLI_CONNECT_MS;
  return cfg;
}

/* ---- Outgoing queue (mu held) ---------------------------------------------- */

static int enqueue(cli_client *c, const void *data, size_t len, bool front) {
  outmsg *m = malloc(sizeof *m + LWS_PRE + len);
  if (!m) return CLI_ERR_NOMEM;
  m->len = len;
  if (len) memcpy(m->buf + LWS_PRE, data, len);
  if (front) {
    m->next = c->head;
    c->head = m;
    if (!c->tail) c->tail = m;
  } else {
    m->next = NULL;
    if (c->tail)
      c->tail->next = m;
    else
      c->head = m;
    c->tail = m;
  }
  return 0;
}

static outmsg *dequeue(cli_client *c) {
  outmsg *m = c->head;
  if (m) {
    c->head = m->next;
    if (!c->head) c->tail = NULL;
  }
  return m;
}

static void free_queue(cli_client *c) {
  outmsg *m;
  while ((m = dequeue(c)))
    free(m);
}

/* ---- Incoming messages (service thread) ------------------------------------ */

static void set_closed(cli_client *c, int code, const char *reason, size_t reason_len) {
  pthread_mutex_lock(&c->mu);
  if (!c->st.closed) {
    c->st.closed = true;
    if (code) c->st.close_code = code;
    if (reason && !c->st.close_reason[0]) {
      size_t n =
          reason_len < sizeof c->st.close_reason ? reason_len : sizeof c->st.close_reason - 1;
      memcpy(c->st.close_reason, reason, n);
      c->st.close_reason[n] = 0;
    }
  }
  c->open = false;
  pthread_cond_broadcast(&c->cv);
  pthread_mutex_unlock(&c->mu);
}

static void note_seq(cli_client *c, uint64_t seq) {
  if (seq != c->last_seq + 1) c->st.n_seq_gaps++;
  c->last_seq = seq;
}

static void handle(cli_client *c, const uint8_t *data, size_t len, uint64_t t) {
  const cli_events *ev = &c->cfg.events;
  bool cb = !atomic_load(&c->quiet);
  if (cb && ev->on_message) ev->on_message(ev->ud, c, data, len, t);
  if (c->cfg.raw) {
    pthread_mutex_lock(&c->mu);
    c->st.n_messages++;
    pthread_cond_broadcast(&c->cv);
    pthread_mutex_unlock(&c->mu);
    return;
  }
  proto_msg m;
  int rc = proto_decode(data, len, c->scratch, &m, NULL);
  pthread_mutex_lock(&c->mu);
  c->st.n_messages++;
  if (rc) {
    c->st.n_undecodable++;
    pthread_cond_broadcast(&c->cv);
    pthread_mutex_unlock(&c->mu);
    return;
  }
  switch (m.type) {
    case PROTO_WELCOME:
      c->st.n_welcome++;
      if (m.u.welcome.version != PROTO_VERSION) c->st.n_unexpected++;
      mdl_replica_reset(c->replica, m.u.welcome.client_id, m.u.welcome.snapshot, m.u.welcome.seq,
                        m.u.welcome.last_local);
      c->st.client_id = m.u.welcome.client_id;
      c->st.welcome_seq = m.u.welcome.seq;
      c->st.welcomed = true;
      c->last_seq = m.u.welcome.seq;
      break;
    case PROTO_ACK: {
      c->st.n_acks++;
      note_seq(c, m.u.ack.seq);
      int e = m.u.ack.local_id >= CLI_LOCAL_ID_UNCHECKED
                  ? CLI_ERR_OUT_OF_STEP
                  : mdl_replica_on_ack(c->replica, m.u.ack.local_id, m.u.ack.seq);
      if (e && !c->st.out_of_step) c->st.out_of_step = e;
      break;
    }
    case PROTO_REJECT: {
      const proto_reject *rj = &m.u.reject;
      cli_reject *k = &c->rejects[c->st.n_rejects % CLI_REJECTS_KEPT];
      c->st.n_rejects++;
      k->local_id = rj->local_id;
      k->code = rj->code;
      k->t_ns = t;
      size_t n = rj->reason_len < CLI_REASON_MAX ? rj->reason_len : CLI_REASON_MAX - 1;
      memcpy(k->reason, rj->reason, n);
      k->reason[n] = 0;
      if (rj->local_id && rj->local_id < CLI_LOCAL_ID_UNCHECKED) {
        int e = mdl_replica_on_reject(c->replica, rj->local_id);
        if (e && !c->st.out_of_step) c->st.out_of_step = e;
      }
      break;
    }
    case PROTO_BROADCAST: {
      c->st.n_broadcasts++;
      note_seq(c, m.u.broadcast.seq);
      mdl_fail fail;
      int e = mdl_replica_on_remote(c->replica, m.u.broadcast.seq, &m.u.broadcast.txn, &fail);
      if (e && !c->st.out_of_step) c->st.out_of_step = e;
      break;
    }
    case PROTO_PRESENCE:
      c->st.n_presence++;
      break;
    case PROTO_METERS:
      c->st.n_meters++;
      break;
    default:
      c->st.n_unexpected++;
      break;
  }
  /* Waiters see this change only once the callbacks below have run, so that
   * what a callback recorded is there when a wait returns. */
  c->in_callback = cb;
  if (!cb) pthread_cond_broadcast(&c->cv);
  pthread_mutex_unlock(&c->mu);
  if (!cb) return;
  if (m.type == PROTO_ACK && ev->on_ack) ev->on_ack(ev->ud, c, m.u.ack.local_id, m.u.ack.seq, t);
  if (m.type == PROTO_REJECT && ev->on_reject) {
    char reason[CLI_REASON_MAX];
    size_t n = m.u.reject.reason_len < sizeof reason ? m.u.reject.reason_len : sizeof reason - 1;
    memcpy(reason, m.u.reject.reason, n);
    reason[n] = 0;
    ev->on_reject(ev->ud, c, m.u.reject.local_id, m.u.reject.code, reason, t);
  }
  if (m.type == PROTO_BROADCAST && ev->on_broadcast)
    ev->on_broadcast(ev->ud, c, m.u.broadcast.seq, m.u.broadcast.origin, t);
  pthread_mutex_lock(&c->mu);
  c->in_callback = false;
  pthread_cond_broadcast(&c->cv);
  pthread_mutex_unlock(&c->mu);
}

static void receive(cli_client *c, struct lws *wsi, const void *in, size_t len) {
  uint64_t t = cli_now_ns();
  if (lws_is_first_fragment(wsi) && c->in_len == 0) c->in_overflow = false;
  if (!c->in_overflow) {
    if (len > c->in_cap - c->in_len)
      c->in_overflow = true;
    else if (len)
      memcpy(c->in + c->in_len, in, len), c->in_len += len;
  }
  if (!lws_is_final_fragment(wsi) || lws_remaining_packet_payload(wsi)) return;
  if (c->in_overflow) {
    pthread_mutex_lock(&c->mu);
    c->st.n_messages++;
    c->st.n_undecodable++;
    pthread_cond_broadcast(&c->cv);
    pthread_mutex_unlock(&c->mu);
  } else {
    handle(c, c->in, c->in_len, t);
  }
  c->in_len = 0;
  c->in_overflow = false;
}

/* ---- libwebsockets callback (service thread) ------------------------------- */

static int callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
                    size_t len) {
  (void) user;
  cli_client *c = lws_context_user(lws_get_context(wsi));
  if (!c) return 0;
  switch (reason) {
    case LWS_CALLBACK_CLIENT_ESTABLISHED: {
      c->wsi = wsi;
      pthread_mutex_lock(&c->mu);
      c->open = true;
      int rc = 0;
      if (!c->cfg.raw) {
        proto_msg m;
        memset(&m, 0, sizeof m);
        m.type = PROTO_HELLO;
        m.u.hello.version = PROTO_VERSION;
        m.u.hello.project = c->project;
        m.u.hello.project_len = (uint32_t) strlen(c->project);
        m.u.hello.user = c->user;
        m.u.hello.user_len = (uint32_t) strlen(c->user);
        m.u.hello.colour = c->cfg.colour;
        m.u.hello.want_client = 0;
        int n = proto_encode(&m, c->enc, PROTO_MAX_MSG);
        rc = n < 0 ? n : enqueue(c, c->enc, (size_t) n, true);
      }
      pthread_cond_broadcast(&c->cv);
      pthread_mutex_unlock(&c->mu);
      if (rc) return -1;
      lws_callback_on_writable(wsi);
      break;
    }
    case LWS_CALLBACK_CLIENT_CONNECTION_ERROR:
      c->wsi = NULL;
      set_closed(c, 0, in ? (const char *) in : "connection error",
                 in ? strlen((const char *) in) : 16);
      break;
    case LWS_CALLBACK_WS_PEER_INITIATED_CLOSE: {
      const uint8_t *b = in;
      int code = len >= 2 ? (b[0] << 8) | b[1] : 0;
      pthread_mutex_lock(&c->mu);
      c->st.close_code = code;
      size_t n = len > 2 ? len - 2 : 0;
      if (n >= sizeof c->st.close_reason) n = sizeof c->st.close_reason - 1;
      if (n) memcpy(c->st.close_reason, b + 2, n);
      c->st.close_reason[n] = 0;
      pthread_mutex_unlock(&c->mu);
      break;
    }
    case LWS_CALLBACK_CLIENT_CLOSED:
      c->wsi = NULL;
      set_closed(c, 0, NULL, 0);
      break;
    case LWS_CALLBACK_CLIENT_RECEIVE:
      receive(c, wsi, in, len);
      break;
    case LWS_CALLBACK_CLIENT_WRITEABLE: {
      pthread_mutex_lock(&c->mu);
      outmsg *m = dequeue(c);
      bool more = c->head != NULL, closing = c->want_close;
      pthread_mutex_unlock(&c->mu);
      if (!m && closing) {
        lws_close_reason(wsi, LWS_CLOSE_STATUS_NORMAL, (unsigned char *) "bye", 3);
        return -1;
      }
      if (!m) break;
      int n = lws_write(wsi, m->buf + LWS_PRE, m->len, LWS_WRITE_BINARY);
      free(m);
      if (n < 0) return -1;
      if (more || closing) lws_callback_on_writable(wsi);
      break;
    }
    case LWS_CALLBACK_EVENT_WAIT_CANCELLED: {
      pthread_mutex_lock(&c->mu);
      bool wake = c->open && (c->head || c->want_close);
      pthread_mutex_unlock(&c->mu);
      if (wake && c->wsi) lws_callback_on_writable(c->wsi);
      break;
    }
    default:
      break;
  }
  return 0;
}

static const struct lws_protocols protocols[] = {
    {"cli", callback, 0, 0, 0, NULL, 0},
    {NULL, NULL, 0, 0, 0, NULL, 0},
};

static void *service(void *arg) {
  cli_client *c = arg;
  while (!atomic_load(&c->stop))
    if (lws_service(c->ctx, 0) < 0) break;
  return NULL;
}

static pthread_once_t log_once = PTHREAD_ONCE_INIT;
static void quiet_logs(void) {
  lws_set_log_level(LLL_ERR, NULL);
}

/* ---- Lifecycle ------------------------------------------------------------- */

static void destroy(cli_client *c) {
  if (c->thread_started) {
    atomic_store(&c->stop, true);
    lws_cancel_service(c->ctx);
    pthread_join(c->thread, NULL);
  }
  if (c->ctx) lws_context_destroy(c->ctx);
  free_queue(c);
  mdl_replica_destroy(c->replica);
  if (c->scratch) mdl_project_destroy(c->scratch->project);
  free(c->scratch);
  free(c->in);
  free(c->enc);
  pthread_cond_destroy(&c->cv);
  pthread_mutex_destroy(&c->mu);
  free(c);
}

/* Waits on c->cv until PRED(c, arg) or DEADLINE (cli_now_ns); mu held. */
static bool wait_until(cli_client *c, bool (*pred)(cli_client *, uint64_t), uint64_t arg,
                       uint64_t deadline) {
  while (!pred(c, arg)) {
    if (cli_now_ns() >= deadline) return false;
    struct timespec ts;
    ts.tv_sec = (time_t) (deadline / 1000000000u);
    ts.tv_nsec = (long) (deadline % 1000000000u);
    pthread_cond_timedwait(&c->cv, &c->mu, &ts);
  }
  return true;
}

static uint64_t deadline_after(int timeout_ms) {
  return cli_now_ns() + (uint64_t) (timeout_ms < 0 ? 0 : timeout_ms) * 1000000u;
}

static bool connected_or_closed(cli_client *c, uint64_t arg) {
  (void) arg;
  return c->st.closed || (c->cfg.raw ? c->open : c->st.welcomed);
}

int cli_client_connect_cfg(const cli_config *cfg, cli_client **out, char *err, size_t err_len) {
  char dummy[8];
  if (!err) err = dummy, err_len = sizeof dummy;
  err[0] = 0;
  *out = NULL;
  if (!cfg || cfg->port <= 0 || cfg->port > 65535 || (!cfg->raw && !cfg->project)) {
    snprintf(err, err_len, "a port%s is required", cfg && cfg->raw ? "" : " and a project id");
    return CLI_ERR_INVALID;
  }
  pthread_once(&log_once, quiet_logs);
  cli_client *c = calloc(1, sizeof *c);
  if (!c) return CLI_ERR_NOMEM;
  pthread_mutex_init(&c->mu, NULL);
  pthread_condattr_t ca;
  pthread_condattr_init(&ca);
  pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
  pthread_cond_init(&c->cv, &ca);
  pthread_condattr_destroy(&ca);
  c->cfg = *cfg;
  copy_str(c->host, sizeof c->host, cfg->host ? cfg->host : "127.0.0.1");
  copy_str(c->path, sizeof c->path, cfg->path ? cfg->path : "/ws");
  copy_str(c->subprotocol, sizeof c->subprotocol, cfg->subprotocol ? cfg->subprotocol : "backline");
  copy_str(c->project, sizeof c->project, cfg->project);
  copy_str(c->user, sizeof c->user, cfg->user ? cfg->user : "cli");
  c->cfg.host = c->host, c->cfg.path = c->path, c->cfg.subprotocol = c->subprotocol;
  c->cfg.project = c->project, c->cfg.user = c->user;
  if (c->cfg.timeout_ms <= 0) c->cfg.timeout_ms = CLI_CONNECT_MS;
  c->next_unchecked = CLI_LOCAL_ID_UNCHECKED;
  c->in_cap = c->cfg.raw ? CLI_RAW_MAX_IN : PROTO_MAX_MSG;
  c->in = malloc(c->in_cap);
  c->enc = malloc(PROTO_MAX_MSG);
  c->scratch = malloc(sizeof *c->scratch);
  if (c->scratch) c->scratch->project = mdl_project_create(&heap, NULL);
  c->replica = mdl_replica_create(&heap);
  if (!c->in || !c->enc || !c->scratch || !c->scratch->project || !c->replica) {
    destroy(c);
    return CLI_ERR_NOMEM;
  }

  struct lws_context_creation_info info;
  memset(&info, 0, sizeof info);
  info.port = CONTEXT_PORT_NO_LISTEN;
  info.protocols = protocols;
  info.gid = -1;
  info.uid = -1;
  info.user = c;
  info.fd_limit_per_thread = 16; /* a client needs few; keeps the context small */
  c->ctx = lws_create_context(&info);
  if (!c->ctx) {
    snprintf(err, err_len, "lws_create_context failed");
    destroy(c);
    return CLI_ERR_NOMEM;
  }
  struct lws_client_connect_info ci;
  memset(&ci, 0, sizeof ci);
  ci.context = c->ctx;
  ci.address = c->host;
  ci.port = c->cfg.port;
  ci.path = c->path;
  ci.host = c->host;
  ci.origin = c->host;
  ci.protocol = c->subprotocol;
  ci.local_protocol_name = "cli";
  if (!lws_client_connect_via_info(&ci)) {
    snprintf(err, err_len, "could not start connecting to %s:%d", c->host, c->cfg.port);
    destroy(c);
    return CLI_ERR_CONNECT;
  }
  if (pthread_create(&c->thread, NULL, service, c)) {
    snprintf(err, err_len, "could not start the service thread");
    destroy(c);
    return CLI_ERR_NOMEM;
  }
  c->thread_started = true;

  pthread_mutex_lock(&c->mu);
  bool done = wait_until(c, connected_or_closed, 0, deadline_after(c->cfg.timeout_ms));
  int rc = 0;
  if (!done) {
    snprintf(err, err_len, "no %s from %s:%d within %d ms", c->cfg.raw ? "connection" : "WELCOME",
             c->host, c->cfg.port, c->cfg.timeout_ms);
    rc = CLI_ERR_TIMEOUT;
  } else if (c->st.closed) {
    if (c->st.n_rejects) {
      const cli_reject *k = &c->rejects[(c->st.n_rejects - 1) % CLI_REJECTS_KEPT];
      snprintf(err, err_len, "refused with REJECT %d: %s", k->code, k->reason);
    } else {
      snprintf(err, err_len, "connection closed before %s (code %d: %s)",
               c->cfg.raw ? "opening" : "WELCOME", c->st.close_code, c->st.close_reason);
    }
    rc = CLI_ERR_CONNECT;
  } else if (!c->cfg.raw && c->st.n_undecodable) {
    snprintf(err, err_len, "the server sent a message that does not decode");
    rc = CLI_ERR_PROTOCOL;
  }
  pthread_mutex_unlock(&c->mu);
  if (rc) {
    atomic_store(&c->quiet, true);
    destroy(c);
    return rc;
  }
  *out = c;
  return 0;
}

int cli_client_connect(int port, const char *project, const char *name, cli_client **out, char *err,
                       size_t err_len) {
  cli_config cfg = cli_config_default();
  cfg.port = port;
  cfg.project = project;
  if (name) cfg.user = name;
  return cli_client_connect_cfg(&cfg, out, err, err_len);
}

static bool is_closed(cli_client *c, uint64_t arg) {
  (void) arg;
  return c->st.closed;
}

void cli_client_close(cli_client *c) {
  if (!c) return;
  atomic_store(&c->quiet, true);
  /* Ask the service thread for a normal close after the queue drains; give
   * it a moment, then tear down regardless. */
  pthread_mutex_lock(&c->mu);
  c->want_close = true;
  pthread_mutex_unlock(&c->mu);
  lws_cancel_service(c->ctx);
  pthread_mutex_lock(&c->mu);
  (void) wait_until(c, is_closed, 0, deadline_after(1000));
  pthread_mutex_unlock(&c->mu);
  destroy(c);
}

/* ---- Editing ----------------------------------------------------------------- */

mdl_id cli_client_new_id(cli_client *c) {
  if (c->cfg.raw) return MDL_ID_NONE;
  pthread_mutex_lock(&c->mu);
  mdl_id id = mdl_replica_new_id(c->replica);
  pthread_mutex_unlock(&c->mu);
  return id;
}

/* Encodes SUBMIT{local_id, txn} and queues it; mu held. */
static int send_submit(cli_client *c, uint32_t local_id, const mdl_txn *txn) {
  proto_msg m;
  memset(&m, 0, sizeof m);
  m.type = PROTO_SUBMIT;
  m.u.submit.local_id = local_id;
  m.u.submit.txn = *txn;
  int n = proto_encode(&m, c->enc, PROTO_MAX_MSG);
  if (n < 0) return n;
  return enqueue(c, c->enc, (size_t) n, false);
}

int cli_client_submit(cli_client *c, const mdl_txn *txn, uint32_t *local_id, mdl_fail *fail) {
  uint32_t dummy;
  if (!local_id) local_id = &dummy;
  *local_id = 0;
  if (c->cfg.raw || !txn) return CLI_ERR_INVALID;
  pthread_mutex_lock(&c->mu);
  int rc = c->st.closed || !c->open ? CLI_ERR_CLOSED : 0;
  if (!rc) rc = mdl_replica_submit(c->replica, txn, local_id, fail);
  if (!rc) {
    rc = send_submit(c, *local_id, txn);
    if (rc) {
      (void) mdl_replica_on_reject(c->replica, *local_id); /* never sent: forget it */
      *local_id = 0;
    } else {
      c->st.n_submitted++;
    }
  }
  pthread_mutex_unlock(&c->mu);
  if (!rc) lws_cancel_service(c->ctx);
  return rc;
}

int cli_client_submit_unchecked(cli_client *c, const mdl_txn *txn, uint32_t *local_id) {
  uint32_t dummy;
  if (!local_id) local_id = &dummy;
  *local_id = 0;
  if (c->cfg.raw || !txn) return CLI_ERR_INVALID;
  pthread_mutex_lock(&c->mu);
  int rc = c->st.closed || !c->open ? CLI_ERR_CLOSED : 0;
  if (!rc) {
    uint32_t id = c->next_unchecked;
    rc = send_submit(c, id, txn);
    if (!rc) c->next_unchecked++, *local_id = id;
  }
  pthread_mutex_unlock(&c->mu);
  if (!rc) lws_cancel_service(c->ctx);
  return rc;
}

int cli_client_send_raw(cli_client *c, const void *data, size_t len) {
  if (!data && len) return CLI_ERR_INVALID;
  pthread_mutex_lock(&c->mu);
  int rc = c->st.closed || !c->open ? CLI_ERR_CLOSED : enqueue(c, data, len, false);
  pthread_mutex_unlock(&c->mu);
  if (!rc) lws_cancel_service(c->ctx);
  return rc;
}

int cli_client_create_track(cli_client *c, const char *name, mdl_id *id, uint32_t *local_id) {
  cli_txn t;
  mdl_id nid = cli_client_new_id(c);
  if (id) *id = MDL_ID_NONE;
  cli_txn_init(&t);
  cli_txn_create_track(&t, nid, name);
  int rc = cli_client_submit(c, cli_txn_get(&t), local_id, NULL);
  if (!rc && id) *id = nid;
  return rc;
}

int cli_client_set_real(cli_client *c, mdl_id id, int prop, double v, uint32_t *local_id) {
  cli_txn t;
  cli_txn_init(&t);
  cli_txn_set_real(&t, id, prop, v);
  return cli_client_submit(c, cli_txn_get(&t), local_id, NULL);
}

int cli_client_set_bool(cli_client *c, mdl_id id, int prop, bool v, uint32_t *local_id) {
  cli_txn t;
  cli_txn_init(&t);
  cli_txn_set_bool(&t, id, prop, v);
  return cli_client_submit(c, cli_txn_get(&t), local_id, NULL);
}

int cli_client_set_name(cli_client *c, mdl_id id, const char *name, uint32_t *local_id) {
  cli_txn t;
  cli_txn_init(&t);
  cli_txn_set_str(&t, id, MDL_PROP_NAME, name);
  return cli_client_submit(c, cli_txn_get(&t), local_id, NULL);
}

int cli_client_delete(cli_client *c, mdl_id id, uint32_t *local_id) {
  cli_txn t;
  cli_txn_init(&t);
  cli_txn_delete(&t, id);
  return cli_client_submit(c, cli_txn_get(&t), local_id, NULL);
}

int cli_client_move(cli_client *c, mdl_id id, mdl_id after, uint32_t *local_id) {
  cli_txn t;
  cli_txn_init(&t);
  cli_txn_move(&t, id, after);
  return cli_client_submit(c, cli_txn_get(&t), local_id, NULL);
}

/* ---- Waiting ----------------------------------------------------------------- */

static bool idle_or_done(cli_client *c, uint64_t arg) {
  (void) arg;
  if (c->in_callback) return false;
  return mdl_replica_n_pending(c->replica) == 0 || c->st.closed || c->st.out_of_step;
}

static bool seq_or_done(cli_client *c, uint64_t seq) {
  if (c->in_callback) return false;
  return mdl_replica_seq(c->replica) >= seq || c->st.closed || c->st.out_of_step;
}

static bool rejects_or_closed(cli_client *c, uint64_t n) {
  if (c->in_callback) return false;
  return c->st.n_rejects >= n || c->st.closed;
}

int cli_client_wait_idle(cli_client *c, int timeout_ms) {
  if (c->cfg.raw) return CLI_ERR_INVALID;
  pthread_mutex_lock(&c->mu);
  bool ok = wait_until(c, idle_or_done, 0, deadline_after(timeout_ms));
  int rc = !ok                                      ? CLI_ERR_TIMEOUT
           : mdl_replica_n_pending(c->replica) == 0 ? 0
           : c->st.out_of_step                      ? CLI_ERR_OUT_OF_STEP
                                                    : CLI_ERR_CLOSED;
  if (!rc && c->st.out_of_step) rc = CLI_ERR_OUT_OF_STEP;
  pthread_mutex_unlock(&c->mu);
  return rc;
}

int cli_client_wait_seq(cli_client *c, uint64_t seq, int timeout_ms) {
  if (c->cfg.raw) return CLI_ERR_INVALID;
  pthread_mutex_lock(&c->mu);
  bool ok = wait_until(c, seq_or_done, seq, deadline_after(timeout_ms));
  int rc = !ok                                  ? CLI_ERR_TIMEOUT
           : c->st.out_of_step                  ? CLI_ERR_OUT_OF_STEP
           : mdl_replica_seq(c->replica) >= seq ? 0
                                                : CLI_ERR_CLOSED;
  pthread_mutex_unlock(&c->mu);
  return rc;
}

int cli_client_wait_rejects(cli_client *c, uint64_t n, int timeout_ms) {
  pthread_mutex_lock(&c->mu);
  bool ok = wait_until(c, rejects_or_closed, n, deadline_after(timeout_ms));
  int rc = !ok ? CLI_ERR_TIMEOUT : c->st.n_rejects >= n ? 0 : CLI_ERR_CLOSED;
  pthread_mutex_unlock(&c->mu);
  return rc;
}

static bool messages_or_closed(cli_client *c, uint64_t n) {
  return c->st.n_messages >= n || c->st.closed;
}

int cli_client_wait_messages(cli_client *c, uint64_t n, int timeout_ms) {
  pthread_mutex_lock(&c->mu);
  bool ok = wait_until(c, messages_or_closed, n, deadline_after(timeout_ms));
  int rc = !ok ? CLI_ERR_TIMEOUT : c->st.n_messages >= n ? 0 : CLI_ERR_CLOSED;
  pthread_mutex_unlock(&c->mu);
  return rc;
}

int cli_client_wait_closed(cli_client *c, int timeout_ms) {
  pthread_mutex_lock(&c->mu);
  bool ok = wait_until(c, is_closed, 0, deadline_after(timeout_ms));
  pthread_mutex_unlock(&c->mu);
  return ok ? 0 : CLI_ERR_TIMEOUT;
}

/* ---- Queries ------------------------------------------------------------------- */

cli_stats cli_client_stats(cli_client *c) {
  pthread_mutex_lock(&c->mu);
  cli_stats s = c->st;
  s.seq = mdl_replica_seq(c->replica);
  s.n_pending = mdl_replica_n_pending(c->replica);
  pthread_mutex_unlock(&c->mu);
  return s;
}

bool cli_client_last_reject(cli_client *c, cli_reject *out) {
  pthread_mutex_lock(&c->mu);
  bool any = c->st.n_rejects > 0;
  if (any) *out = c->rejects[(c->st.n_rejects - 1) % CLI_REJECTS_KEPT];
  pthread_mutex_unlock(&c->mu);
  return any;
}

bool cli_client_find_reject(cli_client *c, uint32_t local_id, cli_reject *out) {
  bool found = false;
  pthread_mutex_lock(&c->mu);
  uint64_t n = c->st.n_rejects < CLI_REJECTS_KEPT ? c->st.n_rejects : CLI_REJECTS_KEPT;
  for (uint64_t i = 0; i < n && !found; i++) {
    const cli_reject *k = &c->rejects[(c->st.n_rejects - 1 - i) % CLI_REJECTS_KEPT];
    if (k->local_id == local_id) *out = *k, found = true;
  }
  pthread_mutex_unlock(&c->mu);
  return found;
}

int cli_client_confirmed(cli_client *c, mdl_project *out, uint64_t *seq) {
  pthread_mutex_lock(&c->mu);
  int rc = mdl_project_copy(out, mdl_replica_confirmed(c->replica));
  if (seq) *seq = mdl_replica_seq(c->replica);
  pthread_mutex_unlock(&c->mu);
  return rc;
}

int cli_client_view(cli_client *c, mdl_project *out) {
  pthread_mutex_lock(&c->mu);
  int rc = mdl_project_copy(out, mdl_replica_view(c->replica));
  pthread_mutex_unlock(&c->mu);
  return rc;
}

uint64_t cli_client_hash(cli_client *c, uint64_t *seq) {
  pthread_mutex_lock(&c->mu);
  uint64_t h = mdl_project_hash(mdl_replica_confirmed(c->replica));
  if (seq) *seq = mdl_replica_seq(c->replica);
  pthread_mutex_unlock(&c->mu);
  return h;
}

void cli_client_hash_hex(cli_client *c, char out[17], uint64_t *seq) {
  mdl_hash_hex(cli_client_hash(c, seq), out);
}
