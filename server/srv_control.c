/* srv_control: projects, the op log path, engine plans and meters.
 *
 * Everything in this file after srv_control_post runs on the control
 * thread, except the atomics read by srv_control_stats/readonly. */
#include "server/srv_control.h"
#include "engine/eng_plan.h"
#include "protocol/proto_err.h"
#include "protocol/proto_json.h"
#include "protocol/proto_msg.h"
#include "server/srv_err.h"
#include "server/srv_listen.h"
#include "server/srv_response.h"
#include "shared/mdl_err.h"
#include "storage/sto_project.h"

#include <cjson/cJSON.h>
#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define MAX_PROJECTS         256
#define MAX_CLIENTS          1024
#define SNAPSHOT_EVERY       256   /* ops between welcome snapshots (in memory) */
#define STORE_SNAPSHOT_EVERY 1000  /* ops between snapshots stored in the project file */
#define KEEP_OPS             10000 /* ops kept in the file behind the newest snapshot */
#define METER_PERIOD_MS      50    /* meters to clients at 20 Hz */
#define SERVER_ORIGIN        1     /* id space of objects the server makes itself */
#define FIRST_CLIENT         2

typedef struct project {
  char id[PROTO_PROJECT_ID_MAX + 1];
  sto_project *sto;
  uint64_t seq;
  mdl_project model;
  mdl_project next;     /* where a transaction is tried before it is kept */
  mdl_project scratch;  /* rollback space for mdl_txn_apply */
  mdl_project snapshot; /* state at snap_seq, sent to joining clients */
  mdl_project live;     /* model + values being dragged right now: what the engine plays */
  uint64_t snap_seq;
  uint32_t next_client; /* next id space to hand out (persisted) */
  int64_t created;      /* unix time, for listing newest first */
  bool in_group;        /* appends of this batch wait for one commit */
  uint64_t stored_snap; /* seq of the newest snapshot in the file (or at open) */
} project;

/* What an answer is about, so that a failed group commit can take it back:
 * an ACK becomes a REJECT, a BROADCAST is dropped, a REST success becomes an
 * error, and a WELCOME (whose catch-up may hold the lost transactions)
 * becomes a close that makes the client reconnect. */
enum { ROLE_NONE, ROLE_ACK, ROLE_BROADCAST, ROLE_HTTP_OPS, ROLE_WELCOME };

typedef struct deferred {
  srv_out *out;
  project *p;   /* the project the answer depends on, or NULL */
  uint64_t seq; /* the transaction it reports */
  uint32_t local_id;
  uint8_t role;
} deferred;

typedef struct client {
  uint64_t conn; /* 0 = free slot */
  project *proj; /* NULL until HELLO */
  uint32_t client_id;
  uint32_t colour;
  uint64_t selection;
  char name[65];
  bool listening; /* said LISTEN{1}: hears the master while its project plays */
} client;

struct srv_control {
  char data_dir[512];
  srv_sink sink;
  eng_engine *engine;
  pthread_t thread;
  bool running;

  pthread_mutex_t lock; /* guards the inbox only */
  pthread_cond_t wake;
  srv_in *in_head, *in_tail;
  bool stop;

  project *projects[MAX_PROJECTS];
  size_t n_projects;
  client clients[MAX_CLIENTS];
  project *playing; /* the project whose plan the engine runs */
  proto_scratch *scratch;
  unsigned char *msg; /* encode buffer, PROTO_MAX_MSG */
  struct timespec last_meters;

  /* Answers of the batch being handled: sent only after its group commit. */
  deferred *deferred;
  size_t n_deferred, cap_deferred;
  deferred tag; /* applied to answers emitted now (out unused) */

  /* Listen here: the set last handed to srv_listen (sync_listeners). */
  struct srv_listen *listen;
  uint64_t listeners[MAX_CLIENTS];
  size_t n_listeners;

  /* Figures for health/metrics, read from other threads. */
  time_t started;
  atomic_uint_fast64_t n_clients, n_projects_pub, ops, rejects, xruns, meters_dropped;
  char audio[96];
};

/* ---- Small helpers ---------------------------------------------------------- */

srv_in *srv_in_new(srv_in_kind kind, uint64_t conn, const void *data, size_t len) {
  srv_in *in = malloc(sizeof *in + len + 1);
  if (!in) return NULL;
  memset(in, 0, sizeof *in);
  in->kind = (uint8_t) kind;
  in->conn = conn;
  in->len = len;
  if (data && len) memcpy(in->data, data, len);
  in->data[len] = 0; /* bodies are handed to JSON parsers as text too */
  return in;
}

srv_out *srv_out_new(srv_out_kind kind, uint64_t conn, const void *data, size_t len) {
  srv_out *o = malloc(sizeof *o + SRV_OUT_PRE + len);
  if (!o) return NULL;
  memset(o, 0, sizeof *o);
  o->kind = (uint8_t) kind;
  o->conn = conn;
  o->len = len;
  if (data && len) memcpy(o->buf + SRV_OUT_PRE, data, len);
  return o;
}

/* Queues an answer until the batch's group commit is durable. */
static void emit(srv_control *c, srv_out *o) {
  if (!o) return;
  if (c->n_deferred == c->cap_deferred) {
    size_t cap = c->cap_deferred ? c->cap_deferred * 2 : 256;
    deferred *d = realloc(c->deferred, cap * sizeof *d);
    if (!d) {
      free(o); /* out of memory: the client resynchronises on reconnect */
      return;
    }
    c->deferred = d, c->cap_deferred = cap;
  }
  deferred *d = &c->deferred[c->n_deferred++];
  *d = c->tag;
  d->out = o;
}

static void send_ws(srv_control *c, uint64_t conn, const void *data, size_t len, bool droppable) {
  srv_out *o = srv_out_new(SRV_OUT_WS, conn, data, len);
  if (!o) return;
  o->droppable = droppable;
  emit(c, o);
}

/* Encodes M into c->msg; returns its length or 0 (logged: a bug). */
static size_t encode(srv_control *c, const proto_msg *m) {
  int n = proto_encode(m, c->msg, PROTO_MAX_MSG);
  if (n < 0) {
    fprintf(stderr, "backline: cannot encode message type %d: %s\n", m->type, proto_strerror(n));
    return 0;
  }
  return (size_t) n;
}

static void send_msg(srv_control *c, uint64_t conn, const proto_msg *m) {
  size_t n = encode(c, m);
  if (n) send_ws(c, conn, c->msg, n, m->type == PROTO_METERS);
}

static void send_reject(srv_control *c, uint64_t conn, uint32_t local_id, int code,
                        const char *reason) {
  proto_msg m = {.type = PROTO_REJECT};
  m.u.reject.local_id = local_id;
  m.u.reject.code = (int16_t) code;
  m.u.reject.reason = reason;
  m.u.reject.reason_len = (uint32_t) strlen(reason);
  atomic_fetch_add(&c->rejects, 1);
  send_msg(c, conn, &m);
}

static void http_reply(srv_control *c, uint64_t conn, int status, char *json) {
  const char *body = json ? json : "{\"code\":-509,\"reason\":\"out of memory\"}";
  srv_out *o = srv_out_new(SRV_OUT_HTTP, conn, body, strlen(body));
  if (o) {
    o->status = json ? status : 500;
    o->content_type = "application/json";
    emit(c, o);
  }
  free(json);
}

static char *json_error(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static char *json_error(int code, const char *fmt, ...) {
  char reason[512];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(reason, sizeof reason, fmt, ap);
  va_end(ap);
  cJSON *o = cJSON_CreateObject();
  cJSON_AddNumberToObject(o, "code", code);
  cJSON_AddStringToObject(o, "reason", reason);
  char *s = cJSON_PrintUnformatted(o);
  cJSON_Delete(o);
  return s;
}

static client *find_client(srv_control *c, uint64_t conn) {
  for (size_t i = 0; i < MAX_CLIENTS; i++)
    if (c->clients[i].conn == conn) return &c->clients[i];
  return NULL;
}

/* ---- Projects ----------------------------------------------------------------- */

static bool valid_project_id(const char *id, size_t len) {
  if (len == 0 || len > PROTO_PROJECT_ID_MAX) return false;
  for (size_t i = 0; i < len; i++) {
    char ch = id[i];
    if (!((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '-' || ch == '_'))
      return false;
  }
  return true;
}

static project *find_project(srv_control *c, const char *id, size_t len) {
  for (size_t i = 0; i < c->n_projects; i++)
    if (strlen(c->projects[i]->id) == len && memcmp(c->projects[i]->id, id, len) == 0)
      return c->projects[i];
  return NULL;
}

static void project_free(project *p) {
  if (!p) return;
  sto_project_close(p->sto);
  free(p);
}

/* Opens DATA/projects/ID.backline and replays its log. */
static int project_open(srv_control *c, const char *id, bool create, project **out, char *err,
                        size_t err_len) {
  char path[700];
  *out = NULL;
  project *p = calloc(1, sizeof *p);
  if (!p) return snprintf(err, err_len, "out of memory"), SRV_ERR_NOMEM;
  snprintf(p->id, sizeof p->id, "%s", id);
  snprintf(path, sizeof path, "%s/projects/%s.backline", c->data_dir, id);
  int rc =
      sto_project_open(path, create ? STO_OPEN_CREATE : STO_OPEN_EXISTING, &p->sto, err, err_len);
  if (rc) {
    free(p);
    return rc;
  }
  rc = sto_project_load_model(p->sto, &p->model, &p->seq, err, err_len);
  if (rc) {
    project_free(p);
    return rc;
  }
  p->snapshot = p->model;
  p->live = p->model;
  p->snap_seq = p->seq;
  p->stored_snap = p->seq;
  p->next_client = (uint32_t) sto_project_meta_int(p->sto, "next_client", FIRST_CLIENT);
  p->created = sto_project_meta_int(p->sto, "created", 0);
  *out = p;
  return 0;
}

/* Gives out a fresh id space, persisted before use so it is never reused. */
static uint32_t take_client_id(project *p) {
  if (sto_project_set_meta_int(p->sto, "next_client", p->next_client + 1)) return 0;
  return p->next_client++;
}

static void update_plan(srv_control *c);

/* Applies TXN from ORIGIN to P, persists it and numbers it. On success the
 * transaction is durable and *seq is its number. */
static int commit(srv_control *c, project *p, const mdl_txn *txn, uint32_t origin, mdl_fail *fail,
                  uint64_t *seq) {
  memcpy(&p->next, &p->model, sizeof p->next);
  int rc = mdl_txn_apply(&p->next, txn, origin, &p->scratch, fail);
  if (rc) return rc;
  int n = proto_encode_txn(txn, c->msg, PROTO_MAX_TXN);
  if (n < 0) {
    snprintf(fail->reason, sizeof fail->reason,
             "the transaction is too large to store (over %d bytes)", PROTO_MAX_TXN);
    return fail->code = PROTO_ERR_TOO_BIG;
  }
  if (!p->in_group) {
    rc = sto_project_begin(p->sto);
    if (rc) {
      snprintf(fail->reason, sizeof fail->reason, "the server could not save the edit (%s)",
               sto_project_last_error(p->sto));
      return fail->code = SRV_ERR_STORAGE;
    }
    p->in_group = true;
  }
  rc = sto_project_append(p->sto, p->seq + 1, origin, c->msg, (size_t) n);
  if (rc) {
    fprintf(stderr, "backline: project %s: cannot save: %s\n", p->id,
            sto_project_last_error(p->sto));
    snprintf(fail->reason, sizeof fail->reason,
             "the server could not save the edit (%s); nothing changed",
             sto_project_last_error(p->sto));
    return fail->code = SRV_ERR_STORAGE;
  }
  memcpy(&p->model, &p->next, sizeof p->model);
  memcpy(&p->live, &p->model, sizeof p->live); /* a stored value ends any drag */
  *seq = ++p->seq;
  atomic_fetch_add(&c->ops, 1);
  if (p == c->playing) update_plan(c);
  return 0;
}

/* The group commit failed: the project returns to what is on disk, and
 * every answer that reported one of the lost transactions is taken back. */
static void fail_group(srv_control *c, project *p) {
  char err[600], why[MDL_REASON_MAX];
  fprintf(stderr, "backline: project %s: cannot save %llu edits: %s\n", p->id,
          (unsigned long long) (p->seq - sto_project_last_seq(p->sto)),
          sto_project_last_error(p->sto));
  snprintf(why, sizeof why, "the server could not save the edit (%s); nothing changed",
           sto_project_last_error(p->sto));
  int rc = sto_project_load_model(p->sto, &p->model, &p->seq, err, sizeof err);
  p->live = p->model;
  if (rc) fprintf(stderr, "backline: %s\n", err);
  if (p->snap_seq > p->seq) p->snapshot = p->model, p->snap_seq = p->seq;
  sto_project_set_meta_int(p->sto, "next_client", p->next_client);
  if (p == c->playing) update_plan(c);
  for (size_t i = 0; i < c->n_deferred; i++) {
    deferred *d = &c->deferred[i];
    if (d->p != p || d->role == ROLE_NONE || (d->role != ROLE_WELCOME && d->seq <= p->seq))
      continue;
    uint64_t conn = d->out->conn;
    free(d->out);
    d->out = NULL;
    if (d->role == ROLE_ACK) {
      proto_msg m = {.type = PROTO_REJECT};
      m.u.reject = (proto_reject){d->local_id, SRV_ERR_STORAGE, why, (uint32_t) strlen(why)};
      size_t n = encode(c, &m);
      d->out = n ? srv_out_new(SRV_OUT_WS, conn, c->msg, n) : NULL;
      atomic_fetch_add(&c->rejects, 1);
    } else if (d->role == ROLE_HTTP_OPS) {
      char *body = json_error(SRV_ERR_STORAGE, "%s", why);
      d->out = body ? srv_out_new(SRV_OUT_HTTP, conn, body, strlen(body)) : NULL;
      if (d->out) d->out->status = 507, d->out->content_type = "application/json";
      free(body);
    } else if (d->role == ROLE_WELCOME) {
      static const char bye[] = "the server could not save; reconnect";
      bool first = true;
      for (size_t k = 0; k < i; k++)
        if (c->deferred[k].out && c->deferred[k].out->conn == conn &&
            c->deferred[k].role == ROLE_WELCOME)
          first = false;
      if (first && (d->out = srv_out_new(SRV_OUT_CLOSE, conn, bye, sizeof bye - 1)))
        d->out->status = 1011;
    }
  }
}

/* Stores the model as a snapshot, so that opening the project replays at
 * most STORE_SNAPSHOT_EVERY ops, and lets the log behind it go. A failure
 * costs only speed: it is logged, and the log still holds everything. */
static void store_snapshot(srv_control *c, project *p) {
  int n = proto_encode_project(&p->model, c->msg, PROTO_MAX_MSG);
  if (n < 0 || sto_project_put_snapshot(p->sto, p->seq, MDL_SCHEMA_VERSION, c->msg, (size_t) n)) {
    fprintf(stderr, "backline: project %s: cannot store a snapshot: %s\n", p->id,
            sto_project_last_error(p->sto));
    return;
  }
  p->stored_snap = p->seq;
  /* Keep enough history for catch-up after the welcome snapshot (and more). */
  if (p->seq > KEEP_OPS && sto_project_compact(p->sto, p->seq - KEEP_OPS))
    fprintf(stderr, "backline: project %s: cannot compact its log: %s\n", p->id,
            sto_project_last_error(p->sto));
}

/* Commits P's open group now (before its file is copied or moved). */
static void commit_now(srv_control *c, project *p) {
  if (!p->in_group) return;
  p->in_group = false;
  if (sto_project_commit(p->sto)) {
    fail_group(c, p);
    return;
  }
  if (p->seq - p->snap_seq >= SNAPSHOT_EVERY) p->snapshot = p->model, p->snap_seq = p->seq;
  if (p->seq - p->stored_snap >= STORE_SNAPSHOT_EVERY) store_snapshot(c, p);
}

/* Ends the batch: commits every open group, then sends its answers in order. */
static void finish_batch(srv_control *c) {
  for (size_t i = 0; i < c->n_projects; i++)
    commit_now(c, c->projects[i]);
  for (size_t i = 0; i < c->n_deferred; i++)
    if (c->deferred[i].out) c->sink.send(c->sink.ud, c->deferred[i].out);
  c->n_deferred = 0;
}

/* Sends the accepted transaction to every client of P but ORIGIN_CONN. */
static void broadcast(srv_control *c, project *p, uint64_t origin_conn, uint32_t origin,
                      uint64_t seq, const mdl_txn *txn) {
  proto_msg m = {.type = PROTO_BROADCAST};
  m.u.broadcast.seq = seq;
  m.u.broadcast.origin = origin;
  m.u.broadcast.txn = *txn;
  size_t n = encode(c, &m);
  if (!n) return;
  for (size_t i = 0; i < MAX_CLIENTS; i++) {
    client *cl = &c->clients[i];
    if (cl->conn && cl->proj == p && cl->conn != origin_conn)
      send_ws(c, cl->conn, c->msg, n, false);
  }
}

/* Makes a new project called NAME: empty, or a copy of SOURCE's file. */
static int create_project(srv_control *c, const char *name, project *source, project **out,
                          char *err, size_t err_len) {
  char id[16];
  static const char alphabet[] = "abcdefghijkmnpqrstuvwxyz23456789";
  unsigned char rnd[10];
  *out = NULL;
  if (c->n_projects >= MAX_PROJECTS)
    return snprintf(err, err_len, "this studio holds at most %d projects", MAX_PROJECTS),
           SRV_ERR_BUSY;
  do {
    if (getrandom(rnd, sizeof rnd, 0) != (ssize_t) sizeof rnd)
      return snprintf(err, err_len, "no randomness"), SRV_ERR_START;
    for (size_t i = 0; i < sizeof rnd; i++)
      id[i] = alphabet[rnd[i] % 32];
    id[sizeof rnd] = 0;
  } while (find_project(c, id, strlen(id)));
  project *p;
  int rc;
  if (source) {
    char copy[700];
    snprintf(copy, sizeof copy, "%s/projects/%s.backline", c->data_dir, id);
    commit_now(c, source);
    rc = sto_project_copy(source->sto, copy, err, err_len);
    if (!rc) rc = project_open(c, id, false, &p, err, err_len);
    if (rc) return unlink(copy), rc;
  } else {
    rc = project_open(c, id, true, &p, err, err_len);
    if (rc) return rc;
    sto_project_set_meta_int(p->sto, "next_client", FIRST_CLIENT);
  }
  p->created = (int64_t) time(NULL);
  sto_project_set_meta_int(p->sto, "created", p->created);
  /* The name is the first op of the log, so a replay restores it. */
  mdl_op op = {.kind = MDL_OP_SET, .id = MDL_ID_PROJECT, .prop = MDL_PROP_NAME};
  op.value.kind = MDL_VAL_STR;
  op.value.u.s.ptr = name;
  op.value.u.s.len = (uint32_t) strlen(name);
  mdl_txn txn = {1, &op};
  mdl_fail fail;
  uint64_t seq;
  rc = commit(c, p, &txn, 0, &fail, &seq);
  if (!rc && (p->in_group = false, sto_project_commit(p->sto))) {
    rc = SRV_ERR_STORAGE;
    snprintf(fail.reason, sizeof fail.reason, "cannot save the new project: %s",
             sto_project_last_error(p->sto));
  }
  if (rc) {
    snprintf(err, err_len, "%s", fail.reason);
    char path[700];
    snprintf(path, sizeof path, "%s/projects/%s.backline", c->data_dir, id);
    project_free(p);
    unlink(path);
    return rc;
  }
  memmove(&c->projects[1], &c->projects[0],
          c->n_projects * sizeof c->projects[0]); /* newest first */
  c->projects[0] = p;
  c->n_projects++;
  atomic_store(&c->n_projects_pub, c->n_projects);
  *out = p;
  return 0;
}

/* The first start: a project with three tracks, so play makes music. */
static int create_default_project(srv_control *c, char *err, size_t err_len) {
  project *p;
  int rc = create_project(c, "First session", NULL, &p, err, err_len);
  if (rc) return rc;
  static const char *names[] = {"Drums", "Bass", "Keys"};
  static const double gains[] = {0.8, 0.7, 0.5};
  static const double pans[] = {0, -0.3, 0.3};
  mdl_op ops[12];
  for (int i = 0; i < 3; i++) {
    mdl_id id = MDL_ID_MAKE(SERVER_ORIGIN, i + 1);
    mdl_op *op = &ops[i * 4];
    op[0] = (mdl_op){.kind = MDL_OP_CREATE, .type = MDL_TYPE_TRACK, .id = id};
    op[1] = (mdl_op){.kind = MDL_OP_SET, .id = id, .prop = MDL_PROP_NAME};
    op[1].value.kind = MDL_VAL_STR;
    op[1].value.u.s.ptr = names[i];
    op[1].value.u.s.len = (uint32_t) strlen(names[i]);
    op[2] = (mdl_op){.kind = MDL_OP_SET, .id = id, .prop = MDL_PROP_GAIN};
    op[2].value.kind = MDL_VAL_REAL;
    op[2].value.u.r = gains[i];
    op[3] = (mdl_op){.kind = MDL_OP_SET, .id = id, .prop = MDL_PROP_PAN};
    op[3].value.kind = MDL_VAL_REAL;
    op[3].value.u.r = pans[i];
  }
  mdl_txn txn = {12, ops};
  mdl_fail fail;
  uint64_t seq;
  rc = commit(c, p, &txn, SERVER_ORIGIN, &fail, &seq);
  if (rc) snprintf(err, err_len, "default project: %s", fail.reason);
  finish_batch(c);
  return rc;
}

static int newest_first(const void *a, const void *b) {
  const project *x = *(project *const *) a, *y = *(project *const *) b;
  if (x->created != y->created) return x->created < y->created ? 1 : -1;
  return strcmp(x->id, y->id);
}

static int load_projects(srv_control *c, char *err, size_t err_len) {
  char dir[600];
  snprintf(dir, sizeof dir, "%s/projects", c->data_dir);
  if (mkdir(c->data_dir, 0755) && errno != EEXIST)
    return snprintf(err, err_len, "cannot create data folder %s: %s", c->data_dir, strerror(errno)),
           SRV_ERR_START;
  if (mkdir(dir, 0755) && errno != EEXIST)
    return snprintf(err, err_len, "cannot create %s: %s", dir, strerror(errno)), SRV_ERR_START;
  DIR *d = opendir(dir);
  if (!d) return snprintf(err, err_len, "cannot read %s: %s", dir, strerror(errno)), SRV_ERR_START;
  struct dirent *e;
  int rc = 0;
  while (!rc && (e = readdir(d))) {
    size_t n = strlen(e->d_name);
    if (n <= 9 || strcmp(e->d_name + n - 9, ".backline") != 0) continue;
    if (!valid_project_id(e->d_name, n - 9)) continue;
    if (c->n_projects >= MAX_PROJECTS) break;
    char id[PROTO_PROJECT_ID_MAX + 1];
    snprintf(id, sizeof id, "%.*s", (int) (n - 9), e->d_name);
    project *p;
    char why[600];
    /* One bad file must not keep the studio from starting: say which file
     * and why, leave it untouched for the operator, and go on. */
    if (project_open(c, id, false, &p, why, sizeof why) == 0)
      c->projects[c->n_projects++] = p;
    else
      fprintf(stderr, "backline: skipping project %s: %s\n", id, why);
  }
  closedir(d);
  qsort(c->projects, c->n_projects, sizeof c->projects[0], newest_first);
  if (!rc && c->n_projects == 0) rc = create_default_project(c, err, err_len);
  atomic_store(&c->n_projects_pub, c->n_projects);
  return rc;
}

/* ---- Engine ------------------------------------------------------------------- */

void srv_plan_describe(const mdl_project *m, uint32_t sample_rate, eng_track_desc *tracks,
                       eng_plan_desc *out) {
  for (uint32_t i = 0; i < m->n_tracks; i++) {
    const mdl_track *t = &m->tracks[i];
    tracks[i] = (eng_track_desc){.track_id = t->id,
                                 .gain = (float) t->gain,
                                 .pan = (float) t->pan,
                                 .mute = t->mute,
                                 .solo = t->solo};
  }
  *out = (eng_plan_desc){.sample_rate = sample_rate,
                         .tempo_bpm = m->tempo,
                         .beats_per_bar = m->ts_num,
                         .master_gain = 1.0f,
                         .metronome = m->metronome,
                         .n_tracks = m->n_tracks,
                         .tracks = tracks};
}

static void update_plan(srv_control *c) {
  if (!c->engine || !c->playing) return;
  eng_track_desc tracks[MDL_TRACKS_MAX];
  eng_plan_desc d;
  srv_plan_describe(&c->playing->live, eng_engine_config(c->engine).sample_rate, tracks, &d);
  eng_plan *plan;
  int rc = eng_plan_create(&d, &plan);
  if (rc) {
    fprintf(stderr, "backline: cannot compile the engine plan: %s\n", srv_strerror(rc));
    return;
  }
  eng_engine_set_plan(c->engine, plan);
}

static void relay_meters(srv_control *c) {
  if (!c->engine) return;
  eng_meter_frame f;
  bool have = false;
  static eng_meter_frame latest;
  while (eng_engine_read_meters(c->engine, &f) == 1)
    latest = f, have = true;
  eng_engine_collect(c->engine);
  eng_stats st;
  eng_engine_stats(c->engine, &st);
  atomic_store(&c->xruns, st.xruns);
  atomic_store(&c->meters_dropped, st.meters_dropped);
  struct timespec now;
  clock_gettime(CLOCK_MONOTONIC, &now);
  long ms = (now.tv_sec - c->last_meters.tv_sec) * 1000 +
            (now.tv_nsec - c->last_meters.tv_nsec) / 1000000;
  if (!have || ms < METER_PERIOD_MS || !c->playing) return;
  c->last_meters = now;
  proto_msg m = {.type = PROTO_METERS};
  m.u.meters.position = latest.position;
  m.u.meters.playing = latest.playing;
  m.u.meters.n = (uint8_t) (latest.n > PROTO_MAX_METERS ? PROTO_MAX_METERS : latest.n);
  for (uint32_t i = 0; i < m.u.meters.n; i++)
    m.u.meters.m[i] =
        (proto_meter){latest.meters[i].track_id, latest.meters[i].peak, latest.meters[i].rms};
  size_t n = encode(c, &m);
  for (size_t i = 0; n && i < MAX_CLIENTS; i++)
    if (c->clients[i].conn && c->clients[i].proj == c->playing)
      send_ws(c, c->clients[i].conn, c->msg, n, true);
}

static void transport(srv_control *c, project *p, bool play) {
  if (!c->engine) return;
  if (play && p != c->playing) {
    eng_engine_set_playing(c->engine, false);
    eng_engine_locate(c->engine, 0);
    c->playing = p;
    update_plan(c);
  }
  if (p == c->playing) eng_engine_set_playing(c->engine, play);
}

/* ---- WebSocket messages --------------------------------------------------------- */

static void presence_to(srv_control *c, uint64_t conn, const client *about, bool online) {
  proto_msg m = {.type = PROTO_PRESENCE};
  m.u.presence =
      (proto_presence){about->client_id, about->name,      (uint32_t) strlen(about->name),
                       about->colour,    about->selection, online};
  send_msg(c, conn, &m);
}

static void presence_all(srv_control *c, const client *about, bool online) {
  for (size_t i = 0; i < MAX_CLIENTS; i++) {
    client *o = &c->clients[i];
    if (o->conn && o->proj == about->proj && o != about) presence_to(c, o->conn, about, online);
  }
}

typedef struct catchup_ctx {
  srv_control *c;
  uint64_t conn;
} catchup_ctx;

static int send_catchup(void *ud, uint64_t seq, uint32_t origin, const void *data, size_t len) {
  catchup_ctx *k = ud;
  /* A BROADCAST is its header followed by the stored transaction bytes. */
  unsigned char buf[16];
  if (len > PROTO_MAX_MSG - 13) return 0;
  srv_out *o = srv_out_new(SRV_OUT_WS, k->conn, NULL, 13 + len);
  if (!o) return SRV_ERR_NOMEM;
  buf[0] = PROTO_BROADCAST;
  for (int i = 0; i < 8; i++)
    buf[1 + i] = (unsigned char) (seq >> (8 * i));
  for (int i = 0; i < 4; i++)
    buf[9 + i] = (unsigned char) (origin >> (8 * i));
  memcpy(o->buf + SRV_OUT_PRE, buf, 13);
  memcpy(o->buf + SRV_OUT_PRE + 13, data, len);
  emit(k->c, o);
  return 0;
}

/* A HELLO that cannot be welcomed: the reason, then the connection closes
 * (1008 policy, or 1011 when the server is at fault), so the client does not
 * wait for a WELCOME that will never come. */
static void refuse_hello(srv_control *c, client *cl, int code, const char *why) {
  send_reject(c, cl->conn, 0, code, why);
  srv_out *o = srv_out_new(SRV_OUT_CLOSE, cl->conn, why, strlen(why) > 120 ? 120 : strlen(why));
  if (o) o->status = code == SRV_ERR_STORAGE ? 1011 : 1008, emit(c, o);
}

static void on_hello(srv_control *c, client *cl, const proto_hello *h) {
  if (h->version != PROTO_VERSION) {
    char why[96];
    snprintf(why, sizeof why, "protocol version %u is not supported; this server speaks %d",
             h->version, PROTO_VERSION);
    refuse_hello(c, cl, PROTO_ERR_VERSION, why);
    return;
  }
  project *p = find_project(c, h->project, h->project_len);
  if (!p) {
    refuse_hello(c, cl, SRV_ERR_NO_PROJECT, "no project with that id in this studio");
    return;
  }
  uint32_t id = 0;
  if (h->want_client >= FIRST_CLIENT && h->want_client < p->next_client) {
    id = h->want_client; /* a reconnecting replica keeps its id space */
    for (size_t i = 0; i < MAX_CLIENTS; i++)
      if (c->clients[i].conn && c->clients[i].proj == p && c->clients[i].client_id == id) id = 0;
  }
  if (!id) id = take_client_id(p);
  if (!id) {
    refuse_hello(c, cl, SRV_ERR_STORAGE, "the server could not save a new client id (disk full?)");
    return;
  }
  cl->proj = p;
  cl->client_id = id;
  cl->colour = h->colour;
  snprintf(cl->name, sizeof cl->name, "%.*s", (int) (h->user_len > 64 ? 64 : h->user_len), h->user);
  if (!cl->name[0]) snprintf(cl->name, sizeof cl->name, "Guest %u", id);

  proto_msg m = {.type = PROTO_WELCOME};
  uint32_t last_local = id == h->want_client ? sto_project_last_local(p->sto, id) : 0;
  m.u.welcome = (proto_welcome){PROTO_VERSION, id, last_local, p->snap_seq, &p->snapshot};
  c->tag = (deferred){.role = ROLE_WELCOME, .p = p};
  send_msg(c, cl->conn, &m);
  catchup_ctx k = {c, cl->conn};
  if (p->seq > p->snap_seq) sto_project_replay(p->sto, p->snap_seq, send_catchup, &k);
  c->tag = (deferred){0};
  for (size_t i = 0; i < MAX_CLIENTS; i++) {
    client *o = &c->clients[i];
    if (o->conn && o->proj == p && o != cl) presence_to(c, cl->conn, o, true);
  }
  presence_all(c, cl, true);
}

/* A value in motion: checked like an op, heard at once, shown to the others,
 * never stored. The final value arrives as an ordinary op. */
static void on_live(srv_control *c, client *cl, const proto_live *lv) {
  project *p = cl->proj;
  mdl_op op = {.kind = MDL_OP_SET, .id = lv->id, .prop = lv->prop, .value = lv->value};
  mdl_txn t = {1, &op};
  mdl_fail fail;
  if (mdl_txn_apply(&p->live, &t, 0, &p->scratch, &fail)) {
    send_reject(c, cl->conn, 0, fail.code, fail.reason);
    return;
  }
  if (p == c->playing) update_plan(c);
  proto_msg m = {.type = PROTO_LIVE};
  m.u.live = *lv;
  m.u.live.client_id = cl->client_id;
  size_t n = encode(c, &m);
  for (size_t i = 0; n && i < MAX_CLIENTS; i++) {
    client *o = &c->clients[i];
    if (o->conn && o->proj == p && o != cl) send_ws(c, o->conn, c->msg, n, true);
  }
}

static void on_ws_message(srv_control *c, srv_in *in) {
  client *cl = find_client(c, in->conn);
  if (!cl) return;
  size_t at = 0;
  proto_msg m;
  int rc = proto_decode(in->data, in->len, c->scratch, &m, &at);
  if (rc) {
    char why[160];
    snprintf(why, sizeof why, "malformed message (type %u, %zu bytes): %s at byte %zu",
             in->len ? (unsigned) in->data[0] : 0u, in->len, proto_strerror(rc), at);
    send_reject(c, in->conn,
                m.type == PROTO_SUBMIT && in->len >= 5
                    ? (uint32_t) in->data[1] | (uint32_t) in->data[2] << 8 |
                          (uint32_t) in->data[3] << 16 | (uint32_t) in->data[4] << 24
                    : 0,
                rc, why);
    return;
  }
  if (!cl->proj && m.type != PROTO_HELLO) {
    send_reject(c, in->conn, 0, PROTO_ERR_UNEXPECTED, "say HELLO first");
    return;
  }
  switch (m.type) {
    case PROTO_HELLO:
      if (cl->proj)
        send_reject(c, in->conn, 0, PROTO_ERR_UNEXPECTED,
                    "HELLO was already said on this connection");
      else
        on_hello(c, cl, &m.u.hello);
      break;
    case PROTO_SUBMIT: {
      mdl_fail fail;
      uint64_t seq;
      rc = commit(c, cl->proj, &m.u.submit.txn, cl->client_id, &fail, &seq);
      if (rc) {
        send_reject(c, in->conn, m.u.submit.local_id, rc, fail.reason);
        break;
      }
      /* In the same group as the edit: a reconnecting client learns from
       * WELCOME which of its edits the log already holds. */
      if (sto_project_note_local(cl->proj->sto, cl->client_id, m.u.submit.local_id))
        fprintf(stderr, "backline: project %s: cannot note client %u's edit: %s\n", cl->proj->id,
                cl->client_id, sto_project_last_error(cl->proj->sto));
      proto_msg ack = {.type = PROTO_ACK};
      ack.u.ack = (proto_ack){m.u.submit.local_id, seq};
      c->tag =
          (deferred){.role = ROLE_ACK, .p = cl->proj, .seq = seq, .local_id = m.u.submit.local_id};
      send_msg(c, in->conn, &ack);
      c->tag.role = ROLE_BROADCAST;
      broadcast(c, cl->proj, in->conn, cl->client_id, seq, &m.u.submit.txn);
      c->tag = (deferred){0};
      break;
    }
    case PROTO_TRANSPORT:
      transport(c, cl->proj, m.u.transport.command == 1);
      break;
    case PROTO_LIVE:
      on_live(c, cl, &m.u.live);
      break;
    case PROTO_PRESENCE:
      cl->selection = m.u.presence.selection;
      presence_all(c, cl, true);
      break;
    case PROTO_LISTEN: /* the set reaches srv_listen at the end of the batch */
      if (m.u.listen.on && !c->listen)
        send_reject(c, in->conn, 0, SRV_ERR_START, "this server runs without audio");
      else
        cl->listening = m.u.listen.on;
      break;
    default: {
      char why[64];
      snprintf(why, sizeof why, "a client may not send message type %u", m.type);
      send_reject(c, in->conn, 0, PROTO_ERR_UNEXPECTED, why);
    }
  }
}

/* ---- REST --------------------------------------------------------------------- */

static int status_for(int code) {
  if (code == SRV_ERR_NO_PROJECT || code == SRV_ERR_NO_ROUTE) return 404;
  if (code == SRV_ERR_METHOD) return 405;
  if (code == SRV_ERR_TOO_BIG || code == PROTO_ERR_TOO_BIG) return 413;
  if (code == SRV_ERR_STORAGE) return 507;
  if (code <= -200 && code > -300) return 422; /* the model refused it */
  return 400;
}

static char *project_list_json(srv_control *c) {
  cJSON *o = cJSON_CreateObject(), *arr = cJSON_AddArrayToObject(o, "projects");
  for (size_t i = 0; i < c->n_projects; i++) {
    project *p = c->projects[i];
    char hex[17];
    mdl_hash_hex(mdl_project_hash(&p->model), hex);
    cJSON *j = cJSON_CreateObject();
    cJSON_AddStringToObject(j, "id", p->id);
    cJSON_AddStringToObject(j, "name", p->model.name);
    cJSON_AddNumberToObject(j, "seq", (double) p->seq);
    cJSON_AddStringToObject(j, "hash", hex);
    cJSON_AddNumberToObject(j, "tracks", p->model.n_tracks);
    cJSON_AddItemToArray(arr, j);
  }
  char *s = cJSON_PrintUnformatted(o);
  cJSON_Delete(o);
  return s;
}

static char *rest_ops(srv_control *c, project *p, srv_in *in, int *status, uint64_t *seq_out) {
  char err[300];
  void *tree = NULL;
  mdl_txn txn;
  uint32_t origin = take_client_id(p), counter = 1;
  if (!origin)
    return *status = 507,
           json_error(SRV_ERR_STORAGE, "the server could not save the edit (%s); nothing changed",
                      sto_project_last_error(p->sto));
  int rc = proto_json_parse_txn((const char *) in->data, in->len, origin, &counter, c->scratch,
                                &tree, &txn, err, sizeof err);
  if (rc) {
    proto_json_free(tree);
    atomic_fetch_add(&c->rejects, 1);
    return *status = status_for(rc), json_error(rc, "%s", err);
  }
  mdl_fail fail;
  uint64_t seq;
  rc = commit(c, p, &txn, origin, &fail, &seq);
  char *out;
  if (rc) {
    atomic_fetch_add(&c->rejects, 1);
    *status = status_for(rc);
    out = json_error(rc, "%s", fail.reason);
  } else {
    *seq_out = seq;
    c->tag = (deferred){.role = ROLE_BROADCAST, .p = p, .seq = seq};
    broadcast(c, p, 0, origin, seq, &txn);
    c->tag = (deferred){0};
    cJSON *o = cJSON_CreateObject(), *ids = cJSON_AddArrayToObject(o, "ids");
    cJSON_AddNumberToObject(o, "seq", (double) seq);
    for (uint32_t i = 0; i < txn.n_ops; i++) {
      if (txn.ops[i].kind != MDL_OP_CREATE) continue;
      char id[17];
      proto_json_id(txn.ops[i].id, id);
      cJSON_AddItemToArray(ids, cJSON_CreateString(id));
    }
    out = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    *status = 200;
  }
  proto_json_free(tree);
  return out;
}

/* ---- Project lifecycle: duplicate, trash, restore, delete -------------------- */

static char *id_json(const char *key, const char *value) {
  cJSON *o = cJSON_CreateObject();
  cJSON_AddStringToObject(o, key, value);
  char *s = cJSON_PrintUnformatted(o);
  cJSON_Delete(o);
  return s;
}

static void file_paths(srv_control *c, const char *folder, const char *id, char path[700]) {
  snprintf(path, 700, "%s/%s/%s.backline", c->data_dir, folder, id);
}

/* Moves P to DATA/trash: its clients are closed, the engine lets go of it,
 * and the file keeps everything, so it can be restored. */
static int trash_project(srv_control *c, project *p, char *err, size_t err_len) {
  char from[700], to[700], dir[600];
  snprintf(dir, sizeof dir, "%s/trash", c->data_dir);
  if (mkdir(dir, 0755) && errno != EEXIST)
    return srv_set_err(err, err_len, "cannot create %s: %s", dir, strerror(errno)), SRV_ERR_STORAGE;
  commit_now(c, p);
  sto_project_set_meta_int(p->sto, "trashed", (int64_t) time(NULL));
  file_paths(c, "projects", p->id, from);
  file_paths(c, "trash", p->id, to);
  for (size_t i = 0; i < MAX_CLIENTS; i++) {
    client *cl = &c->clients[i];
    if (!cl->conn || cl->proj != p) continue;
    static const char why[] = "the project was moved to the trash";
    srv_out *o = srv_out_new(SRV_OUT_CLOSE, cl->conn, why, sizeof why - 1);
    if (o) o->status = 1001, emit(c, o);
    cl->proj = NULL; /* no more traffic for it; the close frees the slot */
  }
  if (c->playing == p) {
    if (c->engine) eng_engine_set_playing(c->engine, false);
    c->playing = NULL;
  }
  size_t k = 0;
  while (c->projects[k] != p)
    k++;
  memmove(&c->projects[k], &c->projects[k + 1], (c->n_projects - k - 1) * sizeof c->projects[0]);
  c->n_projects--;
  atomic_store(&c->n_projects_pub, c->n_projects);
  for (size_t i = 0; i < c->n_deferred; i++) /* committed above: nothing to take back */
    if (c->deferred[i].p == p) c->deferred[i].p = NULL;
  sto_project_close(p->sto); /* checkpoints the WAL into the file */
  p->sto = NULL;
  project_free(p);
  if (rename(from, to) != 0)
    return srv_set_err(err, err_len, "cannot move %s to the trash: %s", from, strerror(errno)),
           SRV_ERR_STORAGE;
  if (!c->playing && c->n_projects) c->playing = c->projects[0], update_plan(c);
  return 0;
}

static char *trash_list_json(srv_control *c) {
  char dir[600];
  snprintf(dir, sizeof dir, "%s/trash", c->data_dir);
  cJSON *o = cJSON_CreateObject(), *arr = cJSON_AddArrayToObject(o, "trash");
  DIR *d = opendir(dir);
  struct dirent *e;
  mdl_project *m = malloc(sizeof *m);
  while (d && m && (e = readdir(d))) {
    size_t n = strlen(e->d_name);
    if (n <= 9 || strcmp(e->d_name + n - 9, ".backline") != 0 ||
        !valid_project_id(e->d_name, n - 9))
      continue;
    char path[700], err[600], id[PROTO_PROJECT_ID_MAX + 1];
    snprintf(id, sizeof id, "%.*s", (int) (n - 9), e->d_name);
    file_paths(c, "trash", id, path);
    sto_project *sp;
    uint64_t seq;
    if (sto_project_open(path, STO_OPEN_EXISTING, &sp, err, sizeof err)) continue;
    if (sto_project_load_model(sp, m, &seq, err, sizeof err) == 0) {
      cJSON *j = cJSON_CreateObject();
      cJSON_AddStringToObject(j, "id", id);
      cJSON_AddStringToObject(j, "name", m->name);
      cJSON_AddNumberToObject(j, "trashed", (double) sto_project_meta_int(sp, "trashed", 0));
      cJSON_AddItemToArray(arr, j);
    }
    sto_project_close(sp);
  }
  if (d) closedir(d);
  free(m);
  char *s = cJSON_PrintUnformatted(o);
  cJSON_Delete(o);
  return s;
}

/* /api/trash/ID/restore (POST) and /api/trash/ID (DELETE). */
static void on_trash(srv_control *c, srv_in *in, const char *rest) {
  const char *slash = strchr(rest, '/');
  size_t id_len = slash ? (size_t) (slash - rest) : strlen(rest);
  char id[PROTO_PROJECT_ID_MAX + 1], from[700], to[700], err[600];
  if (!valid_project_id(rest, id_len)) {
    http_reply(c, in->conn, 404, json_error(SRV_ERR_NO_PROJECT, "no such project in the trash"));
    return;
  }
  snprintf(id, sizeof id, "%.*s", (int) id_len, rest);
  file_paths(c, "trash", id, from);
  file_paths(c, "projects", id, to);
  if (access(from, F_OK) != 0) {
    http_reply(c, in->conn, 404,
               json_error(SRV_ERR_NO_PROJECT, "no project \"%s\" in the trash", id));
    return;
  }
  bool restore = slash && strcmp(slash, "/restore") == 0 && strcmp(in->method, "POST") == 0;
  if (!slash && strcmp(in->method, "DELETE") == 0) {
    char side[720];
    int rc = unlink(from);
    snprintf(side, sizeof side, "%s-wal", from), unlink(side);
    snprintf(side, sizeof side, "%s-shm", from), unlink(side);
    http_reply(c, in->conn, rc ? 507 : 200,
               rc ? json_error(SRV_ERR_STORAGE, "cannot delete %s: %s", from, strerror(errno))
                  : id_json("deleted", id));
    return;
  }
  if (!restore) {
    http_reply(c, in->conn, 405, json_error(SRV_ERR_METHOD, "use POST .../restore or DELETE"));
    return;
  }
  project *p;
  if (c->n_projects >= MAX_PROJECTS || find_project(c, id, strlen(id)) || access(to, F_OK) == 0) {
    http_reply(c, in->conn, 409, json_error(SRV_ERR_BUSY, "a project \"%s\" is already open", id));
    return;
  }
  if (rename(from, to) != 0 || project_open(c, id, false, &p, err, sizeof err)) {
    if (access(to, F_OK) == 0) rename(to, from);
    http_reply(c, in->conn, 507, json_error(SRV_ERR_STORAGE, "cannot restore %s", id));
    return;
  }
  memmove(&c->projects[1], &c->projects[0], c->n_projects * sizeof c->projects[0]);
  c->projects[0] = p;
  c->n_projects++;
  atomic_store(&c->n_projects_pub, c->n_projects);
  http_reply(c, in->conn, 200, id_json("id", id));
}

static void on_http(srv_control *c, srv_in *in) {
  const char *path = in->path;
  bool get = strcmp(in->method, "GET") == 0, post = strcmp(in->method, "POST") == 0;
  int status = 200;
  char *out = NULL;
  if (strcmp(path, "/api/projects") == 0) {
    if (get) {
      out = project_list_json(c);
    } else if (post) {
      cJSON *body = cJSON_ParseWithLength((const char *) in->data, in->len);
      const cJSON *name = cJSON_GetObjectItemCaseSensitive(body, "name");
      char err[300];
      project *p;
      int rc = SRV_ERR_BAD_REQUEST;
      if (!cJSON_IsString(name))
        snprintf(err, sizeof err, "expected {\"name\": \"...\"}");
      else if (!mdl_utf8_valid(name->valuestring, strlen(name->valuestring)) ||
               !name->valuestring[0] || strlen(name->valuestring) > MDL_NAME_MAX)
        snprintf(err, sizeof err, "a project name must be 1 to %d bytes of text", MDL_NAME_MAX),
            rc = MDL_ERR_RANGE;
      else
        rc = create_project(c, name->valuestring, NULL, &p, err, sizeof err);
      cJSON_Delete(body);
      if (rc) {
        status = status_for(rc);
        out = json_error(rc, "%s", err);
      } else {
        status = 201;
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "id", p->id);
        out = cJSON_PrintUnformatted(o);
        cJSON_Delete(o);
      }
    } else {
      status = 405, out = json_error(SRV_ERR_METHOD, "use GET or POST on /api/projects");
    }
    http_reply(c, in->conn, status, out);
    return;
  }
  const char *prefix = "/api/projects/";
  if (strncmp(path, prefix, strlen(prefix)) == 0) {
    const char *id = path + strlen(prefix);
    const char *rest = strchr(id, '/');
    size_t id_len = rest ? (size_t) (rest - id) : strlen(id);
    rest = rest ? rest : "";
    project *p = valid_project_id(id, id_len) ? find_project(c, id, id_len) : NULL;
    if (!p) {
      http_reply(c, in->conn, 404,
                 json_error(SRV_ERR_NO_PROJECT, "no project \"%.*s\" in this studio",
                            (int) (id_len > 64 ? 64 : id_len), id));
      return;
    }
    if (!*rest && get) {
      out = proto_json_project(&p->model, p->id, p->seq);
    } else if (strcmp(rest, "/state") == 0 && get) {
      char hex[17];
      mdl_hash_hex(mdl_project_hash(&p->model), hex);
      cJSON *o = cJSON_CreateObject();
      cJSON_AddNumberToObject(o, "seq", (double) p->seq);
      cJSON_AddStringToObject(o, "hash", hex);
      out = cJSON_PrintUnformatted(o);
      cJSON_Delete(o);
    } else if (strcmp(rest, "/ops") == 0 && post) {
      uint64_t seq = 0;
      out = rest_ops(c, p, in, &status, &seq);
      if (seq) c->tag = (deferred){.role = ROLE_HTTP_OPS, .p = p, .seq = seq};
    } else if (strcmp(rest, "/duplicate") == 0 && post) {
      char name[MDL_NAME_MAX + 1], err[600];
      project *copy;
      snprintf(name, sizeof name, "%.57s (copy)", p->model.name);
      while (!mdl_utf8_valid(name, strlen(name)))
        name[strlen(name) - 8] = 0; /* cut mid-character */
      int rc = create_project(c, name, p, &copy, err, sizeof err);
      status = rc ? status_for(rc) : 201;
      out = rc ? json_error(rc, "%s", err) : id_json("id", copy->id);
    } else if (strcmp(rest, "/trash") == 0 && post) {
      char err[600];
      char id_copy[PROTO_PROJECT_ID_MAX + 1];
      snprintf(id_copy, sizeof id_copy, "%s", p->id);
      int rc = trash_project(c, p, err, sizeof err);
      status = rc ? status_for(rc) : 200;
      out = rc ? json_error(rc, "%s", err) : id_json("trashed", id_copy);
    } else if (strcmp(rest, "/transport") == 0 && post) {
      cJSON *body = cJSON_ParseWithLength((const char *) in->data, in->len);
      const char *cmd = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(body, "command"));
      if (cmd && (strcmp(cmd, "play") == 0 || strcmp(cmd, "stop") == 0)) {
        transport(c, p, cmd[1] == 'l');
        out = c->engine ? strdup("{\"ok\":true}")
                        : json_error(SRV_ERR_START, "this server runs without audio");
        status = c->engine ? 200 : 503;
      } else {
        status = 400,
        out = json_error(SRV_ERR_BAD_REQUEST, "expected {\"command\": \"play\" or \"stop\"}");
      }
      cJSON_Delete(body);
    } else if (!*rest || strcmp(rest, "/state") == 0 || strcmp(rest, "/ops") == 0 ||
               strcmp(rest, "/transport") == 0 || strcmp(rest, "/duplicate") == 0 ||
               strcmp(rest, "/trash") == 0) {
      status = 405,
      out = json_error(SRV_ERR_METHOD, "method %s is not allowed on %s", in->method, path);
    } else {
      status = 404, out = json_error(SRV_ERR_NO_ROUTE, "no route %s", path);
    }
    http_reply(c, in->conn, status, out);
    c->tag = (deferred){0};
    return;
  }
  if (strcmp(path, "/api/trash") == 0) {
    if (get)
      http_reply(c, in->conn, 200, trash_list_json(c));
    else
      http_reply(c, in->conn, 405, json_error(SRV_ERR_METHOD, "use GET on /api/trash"));
    return;
  }
  if (strncmp(path, "/api/trash/", 11) == 0) {
    on_trash(c, in, path + 11);
    return;
  }
  http_reply(c, in->conn, 404, json_error(SRV_ERR_NO_ROUTE, "no route %s", path));
}

/* ---- Imported projects (from srv_assets) ------------------------------------- */

/* srv_assets wrote DATA/projects/ID.backline from an archive (ID in
 * in->path) and posted SRV_IN_OPEN_PROJECT: open it, list it first, and
 * answer the import request 201 {"id","seq","hash"}. A file that cannot be
 * opened is removed, so that an import never leaves a project the list
 * does not show. */
static void open_imported(srv_control *c, srv_in *in) {
  const char *id = in->path;
  size_t id_len = strlen(id);
  char err[600];
  project *p = NULL;
  int rc;
  if (!valid_project_id(id, id_len) || find_project(c, id, id_len)) {
    http_reply(c, in->conn, 409,
               json_error(SRV_ERR_BAD_REQUEST, "project id \"%.64s\" is in use", id));
    return;
  }
  if (c->n_projects >= MAX_PROJECTS)
    rc = SRV_ERR_BUSY,
    snprintf(err, sizeof err, "this studio holds at most %d projects", MAX_PROJECTS);
  else
    rc = project_open(c, id, false, &p, err, sizeof err);
  if (rc) {
    char path[700], side[720];
    file_paths(c, "projects", id, path);
    unlink(path);
    snprintf(side, sizeof side, "%s-wal", path), unlink(side);
    snprintf(side, sizeof side, "%s-shm", path), unlink(side);
    http_reply(c, in->conn, rc == SRV_ERR_BUSY ? 409 : 422, json_error(rc, "%s", err));
    return;
  }
  p->created = (int64_t) time(NULL);
  sto_project_set_meta_int(p->sto, "created", p->created);
  memmove(&c->projects[1], &c->projects[0], c->n_projects * sizeof c->projects[0]);
  c->projects[0] = p;
  c->n_projects++;
  atomic_store(&c->n_projects_pub, c->n_projects);
  if (!c->playing) c->playing = p, update_plan(c);
  char hex[17];
  mdl_hash_hex(mdl_project_hash(&p->model), hex);
  cJSON *o = cJSON_CreateObject();
  cJSON_AddStringToObject(o, "id", p->id);
  cJSON_AddNumberToObject(o, "seq", (double) p->seq);
  cJSON_AddStringToObject(o, "hash", hex);
  http_reply(c, in->conn, 201, cJSON_PrintUnformatted(o));
  cJSON_Delete(o);
}

/* ---- Listen here ---------------------------------------------------------------- */

/* Hands srv_listen the connections that said LISTEN{1} and whose project is
 * the one the engine plays, when that set changed (a LISTEN, a close, a
 * HELLO, another project pressing play, a trash). Cheap: one pass over the
 * client table per batch, a lock only on change. */
static void sync_listeners(srv_control *c) {
  if (!c->listen) return;
  size_t n = 0;
  bool changed = false;
  for (size_t i = 0; i < MAX_CLIENTS; i++) {
    const client *cl = &c->clients[i];
    if (!cl->conn || !cl->listening || !cl->proj || cl->proj != c->playing) continue;
    if (n >= c->n_listeners || c->listeners[n] != cl->conn) changed = true;
    c->listeners[n++] = cl->conn;
  }
  if (!changed && n == c->n_listeners) return;
  c->n_listeners = n;
  srv_listen_set(c->listen, c->listeners, n);
}

/* ---- The thread ---------------------------------------------------------------- */

static void handle(srv_control *c, srv_in *in) {
  client *cl;
  switch (in->kind) {
    case SRV_IN_WS_OPEN:
      cl = find_client(c, 0);
      if (!cl) {
        srv_out *o = srv_out_new(SRV_OUT_CLOSE, in->conn, "too many clients", 16);
        if (o) o->status = 1013, emit(c, o);
        break;
      }
      memset(cl, 0, sizeof *cl);
      cl->conn = in->conn;
      atomic_fetch_add(&c->n_clients, 1);
      break;
    case SRV_IN_WS_CLOSE:
      cl = find_client(c, in->conn);
      if (!cl) break;
      if (cl->proj) presence_all(c, cl, false);
      memset(cl, 0, sizeof *cl);
      atomic_fetch_sub(&c->n_clients, 1);
      break;
    case SRV_IN_WS_MSG:
      on_ws_message(c, in);
      break;
    case SRV_IN_HTTP:
      on_http(c, in);
      break;
    case SRV_IN_OPEN_PROJECT:
      open_imported(c, in);
      break;
    default:
      break;
  }
}

static void *control_main(void *arg) {
  srv_control *c = arg;
  pthread_mutex_lock(&c->lock);
  while (!c->stop) {
    if (!c->in_head) {
      struct timespec until;
      clock_gettime(CLOCK_REALTIME, &until);
      until.tv_nsec += 20 * 1000000L;
      if (until.tv_nsec >= 1000000000L) until.tv_sec++, until.tv_nsec -= 1000000000L;
      pthread_cond_timedwait(&c->wake, &c->lock, &until);
    }
    srv_in *batch = c->in_head;
    c->in_head = c->in_tail = NULL;
    pthread_mutex_unlock(&c->lock);
    while (batch) {
      srv_in *next = batch->next;
      handle(c, batch);
      free(batch);
      batch = next;
    }
    relay_meters(c);
    sync_listeners(c);
    finish_batch(c);
    pthread_mutex_lock(&c->lock);
  }
  pthread_mutex_unlock(&c->lock);
  return NULL;
}

void srv_control_post(srv_control *c, srv_in *in) {
  if (!in) return;
  in->next = NULL;
  pthread_mutex_lock(&c->lock);
  if (c->in_tail)
    c->in_tail->next = in;
  else
    c->in_head = in;
  c->in_tail = in;
  pthread_cond_signal(&c->wake);
  pthread_mutex_unlock(&c->lock);
}

int srv_control_create(const srv_control_config *cfg, srv_sink sink, srv_control **out, char *err,
                       size_t err_len) {
  *out = NULL;
  srv_control *c = calloc(1, sizeof *c);
  if (!c) return snprintf(err, err_len, "out of memory"), SRV_ERR_NOMEM;
  snprintf(c->data_dir, sizeof c->data_dir, "%s", cfg->data_dir);
  snprintf(c->audio, sizeof c->audio, "%s", cfg->audio_name ? cfg->audio_name : "none");
  c->sink = sink;
  c->engine = cfg->engine;
  c->listen = cfg->engine ? cfg->listen : NULL;
  c->started = time(NULL);
  pthread_mutex_init(&c->lock, NULL);
  pthread_cond_init(&c->wake, NULL);
  c->scratch = calloc(1, sizeof *c->scratch);
  c->msg = malloc(PROTO_MAX_MSG);
  int rc = c->scratch && c->msg ? load_projects(c, err, err_len)
                                : (snprintf(err, err_len, "out of memory"), SRV_ERR_NOMEM);
  if (!rc) {
    c->playing = c->projects[0];
    update_plan(c);
    if (pthread_create(&c->thread, NULL, control_main, c) != 0) {
      snprintf(err, err_len, "cannot start the control thread");
      rc = SRV_ERR_START;
    } else {
      c->running = true;
    }
  }
  if (rc) {
    srv_control_destroy(c);
    return rc;
  }
  *out = c;
  return 0;
}

void srv_control_stop(srv_control *c) {
  if (!c || !c->running) return;
  pthread_mutex_lock(&c->lock);
  c->stop = true;
  pthread_cond_signal(&c->wake);
  pthread_mutex_unlock(&c->lock);
  pthread_join(c->thread, NULL);
  c->running = false;
}

void srv_control_destroy(srv_control *c) {
  if (!c) return;
  srv_control_stop(c);
  while (c->in_head) {
    srv_in *next = c->in_head->next;
    free(c->in_head);
    c->in_head = next;
  }
  for (size_t i = 0; i < c->n_projects; i++)
    project_free(c->projects[i]);
  pthread_mutex_destroy(&c->lock);
  pthread_cond_destroy(&c->wake);
  for (size_t i = 0; i < c->n_deferred; i++)
    free(c->deferred[i].out);
  free(c->deferred);
  free(c->scratch);
  free(c->msg);
  free(c);
}

/* ---- Read-only routes (any thread) --------------------------------------------- */

void srv_control_stats(srv_control *c, srv_stats *out) {
  out->uptime_s = (uint64_t) (time(NULL) - c->started);
  out->clients = atomic_load(&c->n_clients);
  out->projects = atomic_load(&c->n_projects_pub);
  out->ops = atomic_load(&c->ops);
  out->rejects = atomic_load(&c->rejects);
  out->xruns = atomic_load(&c->xruns);
  out->meters_dropped = atomic_load(&c->meters_dropped);
  snprintf(out->audio, sizeof out->audio, "%s", c->audio);
}

int srv_control_readonly(void *ud, const char *method, const char *path, srv_response *out) {
  srv_control *c = ud;
  srv_stats s;
  memset(out, 0, sizeof *out);
  if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0) return -1;
  srv_control_stats(c, &s);
  char buf[1024];
  int n;
  if (strcmp(path, "/api/health") == 0) {
    n = snprintf(
        buf, sizeof buf,
        "{\"status\":\"ok\",\"version\":\"%s\",\"protocol\":%d,\"audio\":\"%s\",\"uptime_s\":%llu,"
        "\"projects\":%llu,\"clients\":%llu}",
        BACKLINE_VERSION, PROTO_VERSION, s.audio, (unsigned long long) s.uptime_s,
        (unsigned long long) s.projects, (unsigned long long) s.clients);
    out->content_type = "application/json";
  } else if (strcmp(path, "/metrics") == 0) {
    n = snprintf(buf, sizeof buf,
                 "# HELP backline_uptime_seconds Seconds since the server started.\n"
                 "# TYPE backline_uptime_seconds gauge\nbackline_uptime_seconds %llu\n"
                 "# HELP backline_clients Open WebSocket connections.\n"
                 "# TYPE backline_clients gauge\nbackline_clients %llu\n"
                 "# HELP backline_projects Projects in the data folder.\n"
                 "# TYPE backline_projects gauge\nbackline_projects %llu\n"
                 "# HELP backline_ops_total Transactions accepted and stored.\n"
                 "# TYPE backline_ops_total counter\nbackline_ops_total %llu\n"
                 "# HELP backline_rejects_total Requests refused with a reason.\n"
                 "# TYPE backline_rejects_total counter\nbackline_rejects_total %llu\n"
                 "# HELP backline_engine_xruns_total Audio blocks not delivered in time.\n"
                 "# TYPE backline_engine_xruns_total counter\nbackline_engine_xruns_total %llu\n"
                 "# HELP backline_engine_meters_dropped_total Meter frames dropped (queue full).\n"
                 "# TYPE backline_engine_meters_dropped_total "
                 "counter\nbackline_engine_meters_dropped_total %llu\n",
                 (unsigned long long) s.uptime_s, (unsigned long long) s.clients,
                 (unsigned long long) s.projects, (unsigned long long) s.ops,
                 (unsigned long long) s.rejects, (unsigned long long) s.xruns,
                 (unsigned long long) s.meters_dropped);
    out->content_type = "text/plain; version=0.0.4";
  } else {
    return -1;
  }
  out->status = 200;
  out->body = strndup(buf, (size_t) n);
  out->len = out->body ? (size_t) n : 0;
  return 0;
}
