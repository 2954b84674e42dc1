/* sim_converge: see sim_converge.h. */
#include "tests/sim/sim_converge.h"
#include "shared/mdl_libc.h"
#include "protocol/proto_msg.h"
#include "shared/mdl_err.h"
#include "shared/mdl_replica.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_CLIENTS 16

/* A queue of encoded messages. */
typedef struct msg {
  struct msg *next;
  size_t len;
  uint8_t data[];
} msg;

typedef struct queue {
  msg *head, *tail;
  size_t n;
} queue;

typedef struct client {
  mdl_replica *r;
  uint32_t id;
  int connected; /* 0 offline, 1 said HELLO (the server sends to it), 2 welcomed */
  queue out;     /* client -> server, in flight */
  queue in;      /* server -> client, in flight */
} client;

typedef struct sim {
  uint32_t seed, rng;
  client c[MAX_CLIENTS];
  int n;
  mdl_project *server;
  uint64_t seq;
  uint32_t last_local[MAX_CLIENTS + 2];
  uint8_t *log;
  size_t log_len, log_cap;
  proto_scratch *s;
  uint8_t *buf;
  sim_result *res;
} sim;

static uint32_t rnd(sim *m, uint32_t n) {
  m->rng ^= m->rng << 13, m->rng ^= m->rng >> 17, m->rng ^= m->rng << 5; /* xorshift32 */
  return n ? m->rng % n : 0;
}

static void push(queue *q, const void *data, size_t len) {
  msg *x = malloc(sizeof *x + len);
  if (!x) abort();
  x->next = NULL;
  x->len = len;
  memcpy(x->data, data, len);
  if (q->tail)
    q->tail->next = x;
  else
    q->head = x;
  q->tail = x;
  q->n++;
}

static msg *pop(queue *q) {
  msg *x = q->head;
  if (!x) return NULL;
  q->head = x->next;
  if (!q->head) q->tail = NULL;
  q->n--;
  return x;
}

static void clear(queue *q) {
  msg *x;
  while ((x = pop(q)))
    free(x);
}

static int fail(sim *m, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  int n = snprintf(m->res->error, sizeof m->res->error, "seed %u: ", m->seed);
  vsnprintf(m->res->error + n, sizeof m->res->error - (size_t) n, fmt, ap);
  va_end(ap);
  return 1;
}

static void send_msg(sim *m, queue *q, const proto_msg *pm) {
  int n = proto_encode(pm, m->buf, PROTO_MAX_MSG);
  if (n <= 0) abort();
  push(q, m->buf, (size_t) n);
}

/* ---- Client side ------------------------------------------------------------ */

static const char *names[] = {"Drums", "Bass", "Keys", "Vox", "Pad", "Lead", "Ünïcode", "Gtr"};

/* The parent type an object of TYPE lives under (tracks: the project or a
 * group; lanes: a track or a device); 0 = the project. */
static int parent_type(sim *m, int type) {
  switch (type) {
    case MDL_TYPE_TRACK:
      return rnd(m, 4) ? 0 : MDL_TYPE_TRACK;
    case MDL_TYPE_CLIP:
    case MDL_TYPE_DEVICE:
    case MDL_TYPE_SEND:
      return MDL_TYPE_TRACK;
    case MDL_TYPE_NOTE:
    case MDL_TYPE_EVENT:
      return MDL_TYPE_CLIP;
    case MDL_TYPE_LANE:
      return rnd(m, 2) ? MDL_TYPE_TRACK : MDL_TYPE_DEVICE;
    case MDL_TYPE_POINT:
      return MDL_TYPE_LANE;
    case MDL_TYPE_ZONE:
      return MDL_TYPE_DEVICE;
    default:
      return 0;
  }
}

/* A random existing object of TYPE in V (0 if none). */
static mdl_id pick(sim *m, const mdl_project *v, int type) {
  static mdl_id ids[1 << 16];
  uint32_t n = mdl_all(v, type, ids, 1 << 16);
  if (n > (1 << 16)) n = 1 << 16;
  return n ? ids[rnd(m, n)] : MDL_ID_NONE;
}

/* A random value for PROP on an object of TYPE: mostly in range, sometimes
 * not (the model must refuse those everywhere alike). */
static mdl_value random_value(sim *m, const mdl_project *v, int type, int prop) {
  const mdl_prop_info *info = mdl_prop_describe(prop);
  mdl_value val = {0};
  double lo = info->min, hi = info->max;
  if (prop == MDL_PROP_START || prop == MDL_PROP_LENGTH || prop == MDL_PROP_LOOP_START ||
      prop == MDL_PROP_LOOP_END || prop == MDL_PROP_FADE_IN || prop == MDL_PROP_FADE_OUT ||
      prop == MDL_PROP_FOLLOW_AFTER || prop == MDL_PROP_OFFSET || prop == MDL_PROP_BAR)
    hi = lo + 64 * MDL_PPQ;
  if (prop >= MDL_PROP_PARAM0 && prop < MDL_PROP_PARAM0 + MDL_DEVICE_PARAMS) lo = 0, hi = 1000;
  if (prop == MDL_PROP_VALUE) lo = -1, hi = 1000;
  if (rnd(m, 50) == 0) lo -= 10, hi += 10; /* out of range now and then */
  switch (info->kind) {
    case MDL_VAL_STR:
      val.kind = MDL_VAL_STR;
      if (prop == MDL_PROP_ORDER) {
        static const char *keys[] = {"V", "k", "1", "zz", "V5", "x"};
        val.u.s.ptr = keys[rnd(m, 6)];
      } else if (prop == MDL_PROP_ASSET) {
        val.u.s.ptr =
            rnd(m, 2) ? "" : "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
      } else {
        val.u.s.ptr = names[rnd(m, 8)];
      }
      val.u.s.len = (uint32_t) strlen(val.u.s.ptr);
      break;
    case MDL_VAL_BOOL:
      val.kind = MDL_VAL_BOOL, val.u.b = rnd(m, 2);
      break;
    case MDL_VAL_ID: {
      static const uint8_t target[][2] = {{MDL_PROP_OUTPUT, MDL_TYPE_TRACK},
                                          {MDL_PROP_SIDECHAIN, MDL_TYPE_TRACK},
                                          {MDL_PROP_TARGET, MDL_TYPE_TRACK},
                                          {MDL_PROP_SCENE, MDL_TYPE_SCENE},
                                          {MDL_PROP_GROOVE, MDL_TYPE_GROOVE}};
      val.kind = MDL_VAL_INT;
      for (size_t i = 0; i < 5; i++)
        if (target[i][0] == prop && rnd(m, 4)) val.u.i = (int64_t) pick(m, v, target[i][1]);
      break;
    }
    case MDL_VAL_INT:
      val.kind = MDL_VAL_INT;
      if (prop == MDL_PROP_TS_DEN) {
        val.u.i = 1 << rnd(m, 6);
      } else if (prop == MDL_PROP_KIND) {
        static const int tracks[] = {1, 2, 3, 4},
                         devices[] = {1, 2, 3, 16, 17, 18, 19, 20, 21, 22, 23, 24};
        val.u.i = type == MDL_TYPE_TRACK ? tracks[rnd(m, 4)] : devices[rnd(m, 12)];
      } else {
        val.u.i =
            (int64_t) lo + (int64_t) rnd(m, (uint32_t) (hi - lo + 1 > 1e9 ? 1e9 : hi - lo + 1));
      }
      break;
    default:
      val.kind = MDL_VAL_REAL;
      val.u.r = lo + (hi - lo) * rnd(m, 10001) / 10000.0;
      break;
  }
  (void) type;
  return val;
}

/* A random property of TYPE other than the ones fixed at creation. */
static int random_prop(sim *m, int type) {
  uint8_t props[64];
  uint32_t n = mdl_fields(type, props, 64);
  int prop = props[rnd(m, n)];
  if (type == MDL_TYPE_DEVICE && prop >= MDL_PROP_PARAM0) prop = MDL_PROP_PARAM0 + (int) rnd(m, 12);
  return prop;
}

/* One random op of any kind on any type; PV has room for 4 create props. */
static void random_op(sim *m, client *c, const mdl_project *v, mdl_op *op, mdl_prop_value *pv) {
  memset(op, 0, sizeof *op);
  static const uint8_t weights[] = {
      MDL_TYPE_TRACK,  MDL_TYPE_TRACK,  MDL_TYPE_CLIP,   MDL_TYPE_CLIP,   MDL_TYPE_NOTE,
      MDL_TYPE_NOTE,   MDL_TYPE_NOTE,   MDL_TYPE_EVENT,  MDL_TYPE_LANE,   MDL_TYPE_POINT,
      MDL_TYPE_POINT,  MDL_TYPE_DEVICE, MDL_TYPE_DEVICE, MDL_TYPE_SEND,   MDL_TYPE_SCENE,
      MDL_TYPE_MARKER, MDL_TYPE_TEMPO,  MDL_TYPE_METER,  MDL_TYPE_GROOVE, MDL_TYPE_USER,
      MDL_TYPE_ZONE,   MDL_TYPE_PROJECT};
  int type = weights[rnd(m, sizeof weights)];
  uint32_t r = rnd(m, 100);
  mdl_id target = type == MDL_TYPE_PROJECT ? MDL_ID_PROJECT : pick(m, v, type);
  if (type == MDL_TYPE_PROJECT && r < 40) r = 60;
  if (!target || r < 40) { /* create */
    int pt = parent_type(m, type);
    mdl_id parent = pt ? pick(m, v, pt) : MDL_ID_PROJECT;
    if (!parent) parent = MDL_ID_PROJECT; /* refused, unless it is a project-level type */
    op->kind = MDL_OP_CREATE, op->type = (uint8_t) type, op->id = mdl_replica_new_id(c->r);
    op->parent = parent;
    uint16_t n = 0;
    if (type == MDL_TYPE_TRACK || type == MDL_TYPE_DEVICE)
      pv[n].prop = MDL_PROP_KIND, pv[n].value = random_value(m, v, type, MDL_PROP_KIND), n++;
    if (type == MDL_TYPE_SEND)
      pv[n].prop = MDL_PROP_TARGET, pv[n].value = random_value(m, v, type, MDL_PROP_TARGET), n++;
    for (uint32_t extra = rnd(m, 3); extra > 0; extra--, n++) {
      pv[n].prop = (uint8_t) random_prop(m, type);
      if (pv[n].prop == MDL_PROP_KIND) pv[n].prop = MDL_PROP_NAME;
      if (!mdl_type_has(type, pv[n].prop)) pv[n].prop = (uint8_t) random_prop(m, type);
      pv[n].value = random_value(m, v, type, pv[n].prop);
    }
    op->n_props = n, op->props = pv;
  } else if (r < 52 && type != MDL_TYPE_PROJECT) {
    op->kind = MDL_OP_DELETE, op->id = target;
  } else if (r < 62 && type != MDL_TYPE_PROJECT) {
    op->kind = MDL_OP_MOVE, op->id = target;
    int pt = parent_type(m, type);
    if (rnd(m, 3) == 0) op->parent = pt ? pick(m, v, pt) : MDL_ID_PROJECT;
    if (type == MDL_TYPE_TRACK || type == MDL_TYPE_DEVICE || type == MDL_TYPE_SCENE)
      op->after = rnd(m, 3) ? pick(m, v, type) : MDL_ID_NONE;
    if (op->after == op->id) op->after = MDL_ID_NONE;
  } else {
    op->kind = MDL_OP_SET, op->id = target;
    op->prop = (uint8_t) random_prop(m, type);
    op->value = random_value(m, v, type, op->prop);
  }
}

/* A random edit: one op, sometimes a few. */
static uint32_t random_edit(sim *m, client *c, mdl_op *ops, mdl_prop_value pv[][4]) {
  const mdl_project *v = mdl_replica_view(c->r);
  uint32_t n = 1 + (rnd(m, 10) == 0 ? rnd(m, 3) : 0);
  for (uint32_t k = 0; k < n; k++)
    random_op(m, c, v, &ops[k], pv[k]);
  return n;
}

static void submit_pending(sim *m, client *c, uint32_t i) {
  uint32_t local;
  const mdl_txn *t = mdl_replica_pending(c->r, i, &local);
  proto_msg pm = {.type = PROTO_SUBMIT};
  pm.u.submit.local_id = local;
  pm.u.submit.txn = *t;
  send_msg(m, &c->out, &pm);
}

static void client_edit(sim *m, client *c) {
  mdl_op ops[4];
  mdl_prop_value pv[4][4];
  uint32_t n = random_edit(m, c, ops, pv);
  mdl_txn t = {n, ops};
  uint32_t local;
  if (mdl_replica_submit(c->r, &t, &local, NULL)) return; /* refused locally: fine */
  m->res->ops_submitted += n;
  /* Like the page: nothing is sent between HELLO and WELCOME; the pending
   * queue goes out in order once welcomed. */
  if (c->connected == 2) submit_pending(m, c, mdl_replica_n_pending(c->r) - 1);
}

/* Delivers the oldest message waiting for C. */
static int client_receive(sim *m, client *c) {
  msg *x = pop(&c->in);
  if (!x) return 0;
  proto_msg pm;
  int rc = proto_decode(x->data, x->len, m->s, &pm, NULL);
  if (rc) return free(x), fail(m, "client cannot decode a server message: %d", rc);
  switch (pm.type) {
    case PROTO_WELCOME: {
      uint32_t before = mdl_replica_n_pending(c->r);
      mdl_replica_reset(c->r, pm.u.welcome.client_id, pm.u.welcome.snapshot, pm.u.welcome.seq,
                        pm.u.welcome.last_local);
      m->res->deduped += before - mdl_replica_n_pending(c->r);
      c->connected = 2;
      for (uint32_t i = 0; i < mdl_replica_n_pending(c->r); i++)
        submit_pending(m, c, i);
      break;
    }
    case PROTO_ACK:
      rc = mdl_replica_on_ack(c->r, pm.u.ack.local_id, pm.u.ack.seq);
      break;
    case PROTO_REJECT:
      rc = mdl_replica_on_reject(c->r, pm.u.reject.local_id);
      break;
    case PROTO_BROADCAST:
      rc = mdl_replica_on_remote(c->r, pm.u.broadcast.seq, &pm.u.broadcast.txn, NULL);
      break;
    default:
      rc = MDL_ERR_INVALID;
      break;
  }
  free(x);
  return rc ? fail(m, "client %u out of step on message type %u: %d", c->id, pm.type, rc) : 0;
}

/* ---- Server side ------------------------------------------------------------ */

static void log_append(sim *m, uint32_t origin, const uint8_t *txn, size_t len) {
  if (m->log_len + len + 8 > m->log_cap) {
    m->log_cap = (m->log_cap + len + 8) * 2;
    m->log = realloc(m->log, m->log_cap);
    if (!m->log) abort();
  }
  uint32_t hdr[2] = {(uint32_t) len, origin};
  memcpy(m->log + m->log_len, hdr, 8);
  memcpy(m->log + m->log_len + 8, txn, len);
  m->log_len += len + 8;
}

/* The server takes the oldest message from C. */
static int server_receive(sim *m, client *c) {
  msg *x = pop(&c->out);
  if (!x) return 0;
  proto_msg pm;
  int rc = proto_decode(x->data, x->len, m->s, &pm, NULL);
  if (rc || pm.type != PROTO_SUBMIT)
    return free(x), fail(m, "server cannot decode a submit: %d", rc);
  /* The point of WELCOME's last local id: an edit is never applied twice. */
  if (pm.u.submit.local_id <= m->last_local[c->id])
    return free(x), fail(m, "client %u sent edit %u twice (the log holds up to %u)", c->id,
                         pm.u.submit.local_id, m->last_local[c->id]);
  rc = mdl_txn_apply(m->server, &pm.u.submit.txn, c->id, NULL);
  if (rc) {
    m->res->rejects++;
    proto_msg rj = {.type = PROTO_REJECT};
    rj.u.reject = (proto_reject){pm.u.submit.local_id, (int16_t) rc, "refused", 7};
    send_msg(m, &c->in, &rj);
    free(x);
    return 0;
  }
  m->seq++;
  m->last_local[c->id] = pm.u.submit.local_id;
  int n = proto_encode_txn(&pm.u.submit.txn, m->buf, PROTO_MAX_MSG);
  log_append(m, c->id, m->buf, (size_t) n);
  proto_msg ack = {.type = PROTO_ACK};
  ack.u.ack = (proto_ack){pm.u.submit.local_id, m->seq};
  send_msg(m, &c->in, &ack);
  proto_msg bc = {.type = PROTO_BROADCAST};
  bc.u.broadcast = (proto_broadcast){m->seq, c->id, pm.u.submit.txn};
  for (int i = 0; i < m->n; i++)
    if (&m->c[i] != c && m->c[i].connected) send_msg(m, &m->c[i].in, &bc);
  free(x);
  return 0;
}

/* A new connection asking for its old id space. */
static void reconnect(sim *m, client *c) {
  c->connected = 1;
  proto_msg w = {.type = PROTO_WELCOME};
  w.u.welcome = (proto_welcome){PROTO_VERSION, c->id, m->last_local[c->id], m->seq, m->server};
  size_t cap = 32 + proto_project_size(m->server);
  uint8_t *buf = malloc(cap);
  int n = buf ? proto_encode(&w, buf, cap) : -1;
  if (n <= 0) abort();
  push(&c->in, buf, (size_t) n);
  free(buf);
}

/* ---- The run ----------------------------------------------------------------- */

int sim_converge(uint32_t seed, int n_clients, uint64_t n_ops, sim_result *out, uint8_t **log_out) {
  memset(out, 0, sizeof *out);
  if (n_clients < 1 || n_clients > MAX_CLIENTS) {
    snprintf(out->error, sizeof out->error, "1 to %d clients", MAX_CLIENTS);
    return 1;
  }
  sim *m = calloc(1, sizeof *m);
  m->s = malloc(sizeof *m->s);
  m->buf = malloc(PROTO_MAX_MSG);
  m->res = out;
  m->seed = seed;
  m->rng = seed ? seed : 1;
  m->n = n_clients;
  mdl_alloc a = MDL_LIBC_ALLOC;
  m->server = mdl_project_create(&a, "Sim");
  m->s->project = mdl_project_create(&a, NULL);
  int rc = 0;
  for (int i = 0; i < n_clients; i++) {
    m->c[i].r = mdl_replica_create(&a);
    m->c[i].id = (uint32_t) i + 2;
    reconnect(m, &m->c[i]);
  }
  while (!rc && out->ops_submitted < n_ops) {
    client *c = &m->c[rnd(m, (uint32_t) n_clients)];
    uint32_t r = rnd(m, 1000);
    if (r < 400) {
      client_edit(m, c);
    } else if (r < 650) {
      if (c->connected) rc = server_receive(m, c);
    } else if (r < 995) {
      rc = client_receive(m, c);
    } else if (c->connected) { /* the connection drops: whatever is in flight is lost */
      c->connected = 0;
      if (c->in.n || c->out.n) out->disconnects++;
      clear(&c->in);
      clear(&c->out);
    } else {
      reconnect(m, c);
    }
  }
  /* Everyone comes back and everything is delivered. */
  for (int i = 0; i < n_clients && !rc; i++)
    if (!m->c[i].connected) reconnect(m, &m->c[i]);
  for (int busy = 1; busy && !rc;) {
    busy = 0;
    for (int i = 0; i < n_clients && !rc; i++) {
      if (m->c[i].out.n) busy = 1, rc = server_receive(m, &m->c[i]);
      if (!rc && m->c[i].in.n) busy = 1, rc = client_receive(m, &m->c[i]);
    }
  }
  uint64_t h = mdl_project_hash(m->server);
  char why[MDL_REASON_MAX];
  if (!rc && mdl_project_check(m->server, why, sizeof why))
    rc = fail(m, "the server's project breaks an invariant: %s", why);
  out->objects = mdl_count(m->server, 0);
  out->server_hash = h;
  out->txns_applied = m->seq;
  out->log_bytes = m->log_len;
  for (int i = 0; i < n_clients && !rc; i++) {
    client *c = &m->c[i];
    if (mdl_replica_n_pending(c->r))
      rc = fail(m, "client %u still has %u pending", c->id, mdl_replica_n_pending(c->r));
    else if (mdl_project_hash(mdl_replica_confirmed(c->r)) != h)
      rc = fail(m, "client %u diverged from the server", c->id);
    else if (mdl_project_hash(mdl_replica_view(c->r)) != h)
      rc = fail(m, "client %u's view differs", c->id);
  }
  /* A replay of the log from nothing reaches the server's state. */
  if (!rc) {
    mdl_project *p = mdl_project_create(&a, "Sim");
    for (size_t at = 0; at < m->log_len && !rc;) {
      uint32_t hdr[2];
      memcpy(hdr, m->log + at, 8);
      mdl_txn t;
      int e = proto_decode_txn(m->log + at + 8, hdr[0], m->s, &t);
      if (!e) e = mdl_txn_apply(p, &t, hdr[1], NULL);
      if (e) rc = fail(m, "the log does not replay at byte %zu: %d", at, e);
      at += 8 + hdr[0];
    }
    if (!rc && mdl_project_hash(p) != h)
      rc = fail(m, "the replay of the log differs from the server");
    mdl_project_destroy(p);
  }
  for (int i = 0; i < n_clients; i++) {
    clear(&m->c[i].in);
    clear(&m->c[i].out);
    mdl_replica_destroy(m->c[i].r);
  }
  if (log_out)
    *log_out = m->log;
  else
    free(m->log);
  mdl_project_destroy(m->s->project);
  mdl_project_destroy(m->server);
  free(m->s);
  free(m->buf);
  free(m);
  return rc;
}
