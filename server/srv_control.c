/* srv_control: the control thread: projects, the op log path with group
 * commit, WebSocket messages, engine plans, meters and listeners. The REST
 * routes are in srv_rest.c; what the two share is in srv_control_int.h.
 *
 * Everything here runs on the control thread, except srv_control_post and
 * the atomics read by srv_control_stats/readonly. */
#include "server/srv_control_int.h"
#include "server/srv_render.h"
#include "shared/mdl_libc.h"
#include "engine/eng_err.h"
#include "engine/eng_plan.h"
#include "protocol/proto_err.h"
#include "protocol/proto_json.h"
#include "protocol/proto_msg.h"
#include "server/srv_demo.h"
#include "server/srv_err.h"
#include "server/srv_listen.h"
#include "server/srv_response.h"
#include "shared/mdl_device.h"
#include "shared/mdl_err.h"
#include "storage/sto_project.h"

#include <cjson/cJSON.h>
#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

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
void srv__emit(srv_control *c, srv_out *o) {
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
  srv__emit(c, o);
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

void srv__http_reply(srv_control *c, uint64_t conn, int status, char *json) {
  const char *body = json ? json : "{\"code\":-509,\"reason\":\"out of memory\"}";
  srv_out *o = srv_out_new(SRV_OUT_HTTP, conn, body, strlen(body));
  if (o) {
    o->status = json ? status : 500;
    o->content_type = "application/json";
    srv__emit(c, o);
  }
  free(json);
}

char *srv__json_error(int code, const char *fmt, ...) {
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

bool srv__valid_project_id(const char *id, size_t len) {
  if (len == 0 || len > PROTO_PROJECT_ID_MAX) return false;
  for (size_t i = 0; i < len; i++) {
    char ch = id[i];
    if (!((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '-' || ch == '_'))
      return false;
  }
  return true;
}

project *srv__find_project(srv_control *c, const char *id, size_t len) {
  for (size_t i = 0; i < c->n_projects; i++)
    if (strlen(c->projects[i]->id) == len && memcmp(c->projects[i]->id, id, len) == 0)
      return c->projects[i];
  return NULL;
}

const mdl_alloc srv__alloc = MDL_LIBC_ALLOC;

void srv__project_free(project *p) {
  if (!p) return;
  sto_project_close(p->sto);
  mdl_project_destroy(p->model);
  free(p);
}

/* Opens DATA/projects/ID.backline and replays its log. */
int srv__project_open(srv_control *c, const char *id, bool create, project **out, char *err,
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
  p->model = mdl_project_create(&srv__alloc, NULL);
  rc = p->model ? sto_project_load_model(p->sto, p->model, &p->seq, err, err_len) : SRV_ERR_NOMEM;
  if (rc) {
    if (!p->model) snprintf(err, err_len, "out of memory");
    srv__project_free(p);
    return rc;
  }
  p->stored_snap = p->seq;
  p->next_client = (uint32_t) sto_project_meta_int(p->sto, "next_client", FIRST_CLIENT);
  p->created = sto_project_meta_int(p->sto, "created", 0);
  *out = p;
  return 0;
}

/* Gives out a fresh id space, persisted before use so it is never reused. */
uint32_t srv__take_client_id(project *p) {
  if (sto_project_set_meta_int(p->sto, "next_client", p->next_client + 1)) return 0;
  return p->next_client++;
}

/* Applies TXN from ORIGIN to P, persists it and numbers it. On success the
 * transaction is durable and *seq is its number. */
int srv__commit(srv_control *c, project *p, const mdl_txn *txn, uint32_t origin, mdl_fail *fail,
                uint64_t *seq) {
  int rc = mdl_txn_try(p->model, txn, origin, fail);
  if (rc) return rc;
  int n = proto_encode_txn(txn, c->msg, PROTO_MAX_TXN);
  if (n < 0) {
    mdl_txn_drop(p->model);
    snprintf(fail->reason, sizeof fail->reason,
             "the transaction is too large to store (over %d bytes)", PROTO_MAX_TXN);
    return fail->code = PROTO_ERR_TOO_BIG;
  }
  if (!p->in_group) {
    rc = sto_project_begin(p->sto);
    if (rc) {
      mdl_txn_drop(p->model);
      snprintf(fail->reason, sizeof fail->reason, "the server could not save the edit (%s)",
               sto_project_last_error(p->sto));
      return fail->code = SRV_ERR_STORAGE;
    }
    p->in_group = true;
  }
  rc = sto_project_append(p->sto, p->seq + 1, origin, c->msg, (size_t) n);
  if (rc) {
    mdl_txn_drop(p->model);
    fprintf(stderr, "backline: project %s: cannot save: %s\n", p->id,
            sto_project_last_error(p->sto));
    snprintf(fail->reason, sizeof fail->reason,
             "the server could not save the edit (%s); nothing changed",
             sto_project_last_error(p->sto));
    return fail->code = SRV_ERR_STORAGE;
  }
  mdl_txn_keep(p->model);
  p->n_live = 0; /* a stored value ends any drag */
  *seq = ++p->seq;
  atomic_fetch_add(&c->ops, 1);
  if (p == c->playing) srv__update_plan(c);
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
  int rc = sto_project_load_model(p->sto, p->model, &p->seq, err, sizeof err);
  p->n_live = 0;
  if (rc) fprintf(stderr, "backline: %s\n", err);
  sto_project_set_meta_int(p->sto, "next_client", p->next_client);
  if (p == c->playing) srv__update_plan(c);
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
      char *body = srv__json_error(SRV_ERR_STORAGE, "%s", why);
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
static void store_snapshot(project *p) {
  size_t size = proto_project_size(p->model);
  void *buf = malloc(size);
  int n = buf ? proto_encode_project(p->model, buf, size) : -1;
  int rc = n < 0 || sto_project_put_snapshot(p->sto, p->seq, MDL_SCHEMA_VERSION, buf, (size_t) n);
  free(buf);
  if (rc) {
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
void srv__commit_now(srv_control *c, project *p) {
  if (!p->in_group) return;
  p->in_group = false;
  if (sto_project_commit(p->sto)) {
    fail_group(c, p);
    return;
  }
  if (p->seq - p->stored_snap >= STORE_SNAPSHOT_EVERY) store_snapshot(p);
}

/* Ends the batch: commits every open group, then sends its answers in order. */
static void finish_batch(srv_control *c) {
  for (size_t i = 0; i < c->n_projects; i++)
    srv__commit_now(c, c->projects[i]);
  for (size_t i = 0; i < c->n_deferred; i++)
    if (c->deferred[i].out) c->sink.send(c->sink.ud, c->deferred[i].out);
  c->n_deferred = 0;
}

/* Sends the accepted transaction to every client of P but ORIGIN_CONN. */
void srv__broadcast(srv_control *c, project *p, uint64_t origin_conn, uint32_t origin, uint64_t seq,
                    const mdl_txn *txn) {
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
int srv__create_project(srv_control *c, const char *name, project *source, project **out, char *err,
                        size_t err_len) {
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
  } while (srv__find_project(c, id, strlen(id)));
  project *p;
  int rc;
  if (source) {
    char copy[700];
    snprintf(copy, sizeof copy, "%s/projects/%s.backline", c->data_dir, id);
    srv__commit_now(c, source);
    rc = sto_project_copy(source->sto, copy, err, err_len);
    if (!rc) rc = srv__project_open(c, id, false, &p, err, err_len);
    if (rc) return unlink(copy), rc;
  } else {
    rc = srv__project_open(c, id, true, &p, err, err_len);
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
  rc = srv__commit(c, p, &txn, 0, &fail, &seq);
  if (!rc && (p->in_group = false, sto_project_commit(p->sto))) {
    rc = SRV_ERR_STORAGE;
    snprintf(fail.reason, sizeof fail.reason, "cannot save the new project: %s",
             sto_project_last_error(p->sto));
  }
  if (rc) {
    snprintf(err, err_len, "%s", fail.reason);
    char path[700];
    snprintf(path, sizeof path, "%s/projects/%s.backline", c->data_dir, id);
    srv__project_free(p);
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

typedef struct demo_ctx {
  srv_control *c;
  project *p;
} demo_ctx;

static int demo_apply(void *ud, const mdl_txn *txn, char *err, size_t err_len) {
  demo_ctx *d = ud;
  mdl_fail fail;
  uint64_t seq;
  int rc = srv__commit(d->c, d->p, txn, SERVER_ORIGIN, &fail, &seq);
  if (rc) snprintf(err, err_len, "default project: %s", fail.reason);
  return rc;
}

/* The first start: the demo song (srv_demo.h), so play makes music. */
static int create_default_project(srv_control *c, char *err, size_t err_len) {
  project *p;
  int rc = srv__create_project(c, "First session", NULL, &p, err, err_len);
  if (rc) return rc;
  demo_ctx d = {c, p};
  rc = srv_demo_build(SERVER_ORIGIN, demo_apply, &d, err, err_len);
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
    if (!srv__valid_project_id(e->d_name, n - 9)) continue;
    if (c->n_projects >= MAX_PROJECTS) break;
    char id[PROTO_PROJECT_ID_MAX + 1];
    snprintf(id, sizeof id, "%.*s", (int) (n - 9), e->d_name);
    project *p;
    char why[600];
    /* One bad file must not keep the studio from starting: say which file
     * and why, leave it untouched for the operator, and go on. */
    if (srv__project_open(c, id, false, &p, why, sizeof why) == 0)
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

void srv__update_plan(srv_control *c) {
  if (!c->engine || !c->playing || !c->plans) return;
  eng_plan *plan;
  char why[300] = "";
  project *p = c->playing;
  int rc = srv_plan_build(c->plans, p->model, eng_engine_config(c->engine).sample_rate, p->live,
                          p->n_live, &plan, why, sizeof why);
  if (rc) {
    fprintf(stderr, "backline: cannot compile the engine plan: %s\n",
            why[0] ? why : srv_strerror(rc));
    return;
  }
  if (why[0] && strcmp(why, c->plan_warning) != 0) fprintf(stderr, "backline: %s\n", why);
  snprintf(c->plan_warning, sizeof c->plan_warning, "%s", why);
  eng_engine_set_plan(c->engine, plan);
  atomic_fetch_add(&c->plans_made, 1);
}

/* ENGINE to every client in a project: DSP load, xruns, the device. */
static void send_engine_status(srv_control *c, const eng_stats *st) {
  proto_msg m = {.type = PROTO_ENGINE};
  uint64_t load = atomic_load(&c->dsp_permille);
  size_t alen = strlen(c->audio);
  m.u.engine = (proto_engine){(uint16_t) (load > UINT16_MAX ? UINT16_MAX : load),
                              (uint32_t) st->xruns, c->audio, (uint32_t) (alen > 255 ? 255 : alen)};
  size_t n = encode(c, &m);
  for (size_t i = 0; n && i < MAX_CLIENTS; i++)
    if (c->clients[i].conn && c->clients[i].proj) send_ws(c, c->clients[i].conn, c->msg, n, true);
}

static void relay_meters(srv_control *c) {
  if (!c->engine) return;
  eng_meter_frame f;
  bool have = false;
  static eng_meter_frame latest;
  while (eng_engine_read_meters(c->engine, &f) == 1)
    latest = f, have = true;
  if (have) c->engine_playing = latest.playing;
  eng_engine_collect(c->engine);
  eng_stats st;
  eng_engine_stats(c->engine, &st);
  atomic_store(&c->xruns, st.xruns);
  atomic_store(&c->meters_dropped, st.meters_dropped);
  atomic_store(&c->monitor_dropped, st.monitor_dropped);
  atomic_store(&c->blocks_idle, st.blocks_idle);
  atomic_store(&c->ahead_blocks, st.ahead_blocks);
  atomic_store(&c->cohort_misses, st.cohort_misses);
  atomic_store(&c->cohort_gap_frames, st.cohort_gap_frames);
  uint64_t frames = st.frames - c->load_frames;
  if (frames >= eng_engine_config(c->engine).sample_rate / 2) { /* every half second */
    double real_ns = (double) frames * 1e9 / eng_engine_config(c->engine).sample_rate;
    atomic_store(&c->dsp_permille,
                 (uint64_t) llround(1000.0 * (double) (st.busy_ns - c->load_busy_ns) / real_ns));
    c->load_busy_ns = st.busy_ns, c->load_frames = st.frames;
    send_engine_status(c, &st);
  }
  struct timespec now;
  clock_gettime(CLOCK_MONOTONIC, &now);
  long ms = (now.tv_sec - c->last_meters.tv_sec) * 1000 +
            (now.tv_nsec - c->last_meters.tv_nsec) / 1000000;
  if (!have || ms < METER_PERIOD_MS || !c->playing) return;
  c->last_meters = now;
  proto_msg m = {.type = PROTO_METERS};
  m.u.meters.position = latest.position;
  m.u.meters.playing = latest.playing;
  m.u.meters.lufs_momentary = latest.lufs_momentary;
  m.u.meters.lufs_short_term = latest.lufs_short_term;
  m.u.meters.n = (uint8_t) (latest.n > PROTO_MAX_METERS ? PROTO_MAX_METERS : latest.n);
  for (uint32_t i = 0; i < m.u.meters.n; i++) {
    const eng_meter *em = &latest.meters[i];
    m.u.meters.m[i] =
        (proto_meter){em->track_id, em->peak, em->rms, (int16_t) (em->slot < 0 ? -1 : em->slot),
                      (int16_t) (em->queued < -2 ? -1 : em->queued)};
  }
  size_t n = encode(c, &m);
  /* A stopped, silent studio sends the same frame over and over: send it
   * once, then once a second, so idle pages have nothing to redraw. */
  long since = (now.tv_sec - c->meters_sent.tv_sec) * 1000 +
               (now.tv_nsec - c->meters_sent.tv_nsec) / 1000000;
  if (n && n == c->meters_len && memcmp(c->msg, c->meters_last, n) == 0 && since < 1000) return;
  if (n <= sizeof c->meters_last) memcpy(c->meters_last, c->msg, n), c->meters_len = n;
  c->meters_sent = now;
  for (size_t i = 0; n && i < MAX_CLIENTS; i++)
    if (c->clients[i].conn && c->clients[i].proj == c->playing)
      send_ws(c, c->clients[i].conn, c->msg, n, true);
}

void srv__transport(srv_control *c, project *p, bool play) {
  srv__transport_count_in(c, p, play, 0);
}

void srv__transport_count_in(srv_control *c, project *p, bool play, uint32_t bars) {
  if (!c->engine) return;
  if (play && p != c->playing) {
    eng_engine_set_playing(c->engine, false);
    eng_engine_locate(c->engine, 0);
    c->playing = p;
    srv__update_plan(c);
  }
  if (p != c->playing) return;
  if (play && bars)
    eng_engine_play_count_in(c->engine, bars);
  else
    eng_engine_set_playing(c->engine, play);
}

/* The frames of a launch quantization (mdl_quant) at the project's tempo
 * and time signature. */
static uint64_t quant_frames(const mdl_project *m, int quant, uint32_t rate) {
  int64_t num = mdl_get_int(m, MDL_ID_PROJECT, MDL_PROP_TS_NUM);
  int64_t den = mdl_get_int(m, MDL_ID_PROJECT, MDL_PROP_TS_DEN);
  int64_t bar = num * 4 * MDL_PPQ / den, ticks;
  switch (quant) {
    case MDL_QUANT_16TH:
      ticks = MDL_PPQ / 4;
      break;
    case MDL_QUANT_8TH:
      ticks = MDL_PPQ / 2;
      break;
    case MDL_QUANT_BEAT:
      ticks = 4 * MDL_PPQ / den;
      break;
    case MDL_QUANT_HALF:
      ticks = 2 * MDL_PPQ;
      break;
    case MDL_QUANT_BAR:
      ticks = bar;
      break;
    case MDL_QUANT_2BARS:
      ticks = 2 * bar;
      break;
    case MDL_QUANT_4BARS:
      ticks = 4 * bar;
      break;
    case MDL_QUANT_8BARS:
      ticks = 8 * bar;
      break;
    default:
      return 0;
  }
  return (uint64_t) llround(60.0 * (double) ticks * rate /
                            (mdl_get_real(m, MDL_ID_PROJECT, MDL_PROP_TEMPO) * MDL_PPQ));
}

/* Queues the launch of SLOT (ENG_NO_SLOT: a stop) on TRACK at launch
 * quantization QUANT: a beat and whole bars on the plan's beat grid (the
 * tempo map's beats and bars, ramps and meter changes included), shorter
 * values and a half note as a frame quantum at the project's tempo. */
static int launch_slot(srv_control *c, const mdl_project *m, mdl_id track, int32_t slot,
                       int quant) {
  uint32_t bars = quant == MDL_QUANT_BAR     ? 1
                  : quant == MDL_QUANT_2BARS ? 2
                  : quant == MDL_QUANT_4BARS ? 4
                  : quant == MDL_QUANT_8BARS ? 8
                                             : 0;
  if (bars || quant == MDL_QUANT_BEAT)
    return eng_engine_launch_grid(c->engine, track, slot, bars ? 0 : 1, bars);
  uint64_t q = quant_frames(m, quant, eng_engine_config(c->engine).sample_rate);
  return slot == ENG_NO_SLOT ? eng_engine_stop_slot(c->engine, track, q)
                             : eng_engine_launch(c->engine, track, (uint32_t) slot, q);
}

/* A scene's tempo (when it has one) becomes the project's: an edit by the
 * server, stored and broadcast like any other, so every client shows it and
 * the plan is recompiled at once. As in Ableton's session view, the tempo
 * changes with the launch (here when the launch arrives, not at the
 * quantized boundary: the engine plays one plan's tempo map). */
static void scene_tempo(srv_control *c, project *p, mdl_id scene) {
  double bpm = mdl_get_real(p->model, scene, MDL_PROP_TEMPO);
  if (bpm < 20 || bpm == mdl_get_real(p->model, MDL_ID_PROJECT, MDL_PROP_TEMPO)) return;
  mdl_op op = {.kind = MDL_OP_SET,
               .id = MDL_ID_PROJECT,
               .prop = MDL_PROP_TEMPO,
               .value = {.kind = MDL_VAL_REAL, .u.r = bpm}};
  mdl_txn txn = {1, &op};
  mdl_fail fail;
  uint64_t seq;
  if (srv__commit(c, p, &txn, SERVER_ORIGIN, &fail, &seq)) {
    fprintf(stderr, "backline: project %s: the scene's tempo was not set: %s\n", p->id,
            fail.reason);
    return;
  }
  c->tag = (deferred){.role = ROLE_BROADCAST, .p = p, .seq = seq};
  srv__broadcast(c, p, 0, SERVER_ORIGIN, seq, &txn);
  c->tag = (deferred){0};
}

/* LAUNCH of scene SCENE (slot SLOT): its tempo first, then, at the scene's
 * quantization, every track's clip in the scene launches and every track
 * with nothing playable in it stops (the session view's scene button).
 * False if the engine's command queue was full. */
static bool launch_scene(srv_control *c, project *p, mdl_id scene, uint32_t slot) {
  scene_tempo(c, p, scene);
  const mdl_project *m = p->model;
  int quant = (int) mdl_get_int(m, scene, MDL_PROP_QUANT);
  mdl_id tracks[256];
  uint32_t n = mdl_tracks(m, tracks, 256);
  bool ok = true;
  for (uint32_t i = 0; i < n && i < 256; i++) {
    int kind = (int) mdl_get_int(m, tracks[i], MDL_PROP_KIND);
    if (kind != MDL_TRACK_AUDIO && kind != MDL_TRACK_INSTRUMENT) continue;
    mdl_id clips[256];
    uint32_t k = mdl_children(m, tracks[i], MDL_TYPE_CLIP, clips, 256), j = 0;
    while (j < k && j < 256 && (mdl_id) mdl_get_int(m, clips[j], MDL_PROP_SCENE) != scene)
      j++;
    /* A clip the plan has no slot for (muted, empty) is refused: stop instead. */
    int rc =
        j < k && j < 256 ? launch_slot(c, m, tracks[i], (int32_t) slot, quant) : ENG_ERR_INVALID;
    if (rc == ENG_ERR_INVALID) rc = launch_slot(c, m, tracks[i], ENG_NO_SLOT, quant);
    if (rc == ENG_ERR_FULL) ok = false;
  }
  return ok;
}

/* LAUNCH: the session view starts a clip in a scene's slot (or stops what
 * a track plays) at the next boundary of the scene's quantization; with a
 * scene's id in place of the clip's, the whole scene (launch_scene). */
static void on_launch(srv_control *c, client *cl, const proto_launch *l) {
  project *p = cl->proj;
  const mdl_project *m = p->model;
  char why[160] = "";
  mdl_id track = l->track, scene = 0;
  bool whole = l->clip && mdl_type_of(m, l->clip) == MDL_TYPE_SCENE;
  if (whole) {
    scene = l->clip;
  } else if (l->clip) {
    scene = (mdl_id) mdl_get_int(m, l->clip, MDL_PROP_SCENE);
    if (mdl_type_of(m, l->clip) != MDL_TYPE_CLIP || !scene)
      snprintf(why, sizeof why, "that is not a clip in a scene's slot");
    track = mdl_parent_of(m, l->clip);
  }
  if (!why[0] && (!c->engine || p != c->playing))
    snprintf(why, sizeof why, "the engine is not playing this project: press play first");
  if (why[0]) {
    send_reject(c, cl->conn, 0, SRV_ERR_BAD_REQUEST, why);
    return;
  }
  mdl_id scenes[256];
  uint32_t n = mdl_children(m, MDL_ID_PROJECT, MDL_TYPE_SCENE, scenes, 256), slot = 0;
  while (slot < n && slot < 256 && scenes[slot] != scene)
    slot++;
  if (whole) {
    if (!launch_scene(c, p, scene, slot))
      send_reject(c, cl->conn, 0, SRV_ERR_BUSY, "the engine could not take the launch now");
    return;
  }
  int quant = scene ? (int) mdl_get_int(m, scene, MDL_PROP_QUANT) : MDL_QUANT_BAR;
  int rc = launch_slot(c, m, track, l->clip ? (int32_t) slot : ENG_NO_SLOT, quant);
  if (rc) send_reject(c, cl->conn, 0, SRV_ERR_BUSY, "the engine could not take the launch now");
}

/* ---- WebSocket messages --------------------------------------------------------- */

static void presence_to(srv_control *c, uint64_t conn, const client *about, bool online) {
  proto_msg m = {.type = PROTO_PRESENCE};
  m.u.presence = (proto_presence){about->client_id,
                                  about->name,
                                  (uint32_t) strlen(about->name),
                                  about->colour,
                                  about->selection,
                                  about->view,
                                  online};
  send_msg(c, conn, &m);
}

static void presence_all(srv_control *c, const client *about, bool online) {
  for (size_t i = 0; i < MAX_CLIENTS; i++) {
    client *o = &c->clients[i];
    if (o->conn && o->proj == about->proj && o != about) presence_to(c, o->conn, about, online);
  }
}

/* WELCOME carries the whole project, so it is encoded straight into an
 * output buffer of its own size rather than into c->msg. */
static void send_welcome(srv_control *c, uint64_t conn, const proto_msg *m) {
  size_t cap = 32 + proto_project_size(m->u.welcome.snapshot);
  srv_out *o = srv_out_new(SRV_OUT_WS, conn, NULL, cap);
  if (!o) return;
  int n = proto_encode(m, o->buf + SRV_OUT_PRE, cap);
  if (n < 0) {
    fprintf(stderr, "backline: cannot encode a welcome: %s\n", proto_strerror(n));
    free(o);
    return;
  }
  o->len = (size_t) n;
  srv__emit(c, o);
}

/* A HELLO that cannot be welcomed: the reason, then the connection closes
 * (1008 policy, or 1011 when the server is at fault), so the client does not
 * wait for a WELCOME that will never come. */
static void refuse_hello(srv_control *c, client *cl, int code, const char *why) {
  send_reject(c, cl->conn, 0, code, why);
  srv_out *o = srv_out_new(SRV_OUT_CLOSE, cl->conn, why, strlen(why) > 120 ? 120 : strlen(why));
  if (o) o->status = code == SRV_ERR_STORAGE ? 1011 : 1008, srv__emit(c, o);
}

static void on_hello(srv_control *c, client *cl, const proto_hello *h) {
  if (h->version != PROTO_VERSION) {
    char why[96];
    snprintf(why, sizeof why, "protocol version %u is not supported; this server speaks %d",
             h->version, PROTO_VERSION);
    refuse_hello(c, cl, PROTO_ERR_VERSION, why);
    return;
  }
  project *p = srv__find_project(c, h->project, h->project_len);
  if (!p) {
    refuse_hello(c, cl, SRV_ERR_NO_PROJECT, "no project with that id in this studio");
    return;
  }
  uint32_t id = 0;
  if (h->want_client >= FIRST_CLIENT && h->want_client < p->next_client) {
    id = h->want_client; /* a reconnecting replica keeps its id space */
    /* A connection still holding it is the same page's old one, left open
     * by a network that died under it: it gives way, silently. */
    for (size_t i = 0; i < MAX_CLIENTS; i++) {
      client *old = &c->clients[i];
      if (!old->conn || old == cl || old->proj != p || old->client_id != id) continue;
      static const char bye[] = "the same client connected again";
      srv_out *o = srv_out_new(SRV_OUT_CLOSE, old->conn, bye, sizeof bye - 1);
      if (o) o->status = 1001, srv__emit(c, o);
      old->proj = NULL, old->client_id = 0; /* its close announces nothing */
    }
  }
  if (!id) id = srv__take_client_id(p);
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
  m.u.welcome = (proto_welcome){PROTO_VERSION, id, last_local, p->seq, p->model};
  c->tag = (deferred){.role = ROLE_WELCOME, .p = p};
  send_welcome(c, cl->conn, &m);
  c->tag = (deferred){0};
  for (size_t i = 0; i < MAX_CLIENTS; i++) {
    client *o = &c->clients[i];
    if (o->conn && o->proj == p && o != cl) presence_to(c, cl->conn, o, true);
  }
  presence_all(c, cl, true);
}

static void live_set(project *p, mdl_id id, uint8_t prop, double value) {
  uint32_t i = 0;
  while (i < p->n_live && !(p->live[i].id == id && p->live[i].prop == prop))
    i++;
  if (i == LIVE_MAX) i = 0; /* the oldest drag gives way */
  if (i == p->n_live) p->n_live++;
  p->live[i] = (srv_live_value){id, prop, value};
}

/* A device parameter in motion goes straight to the engine's parameter slot
 * (smoothed there) when the running plan plays that device: no plan is
 * compiled for it. False when it must go through a new plan. */
static bool live_param(srv_control *c, mdl_id id, int type, int prop, double v) {
  if (type != MDL_TYPE_DEVICE || prop < MDL_PROP_PARAM0 || !c->engine) return false;
  const mdl_device_desc *dd =
      mdl_device_describe((int) mdl_get_int(c->playing->model, id, MDL_PROP_KIND));
  uint32_t i = (uint32_t) (prop - MDL_PROP_PARAM0), slot;
  mdl_id track;
  if (!dd || i >= dd->n_params || !srv_plan_device_slot(c->plans, id, &track, &slot)) return false;
  if (v < dd->params[i].min) v = dd->params[i].min;
  if (v > dd->params[i].max) v = dd->params[i].max;
  if (eng_engine_set_param(c->engine, track, slot, i, (float) v)) return false;
  atomic_fetch_add(&c->live_params, 1);
  return true;
}

/* A value in motion: checked like an op, heard at once, shown to the others,
 * never stored. The final value arrives as an ordinary op. */
static void on_live(srv_control *c, client *cl, const proto_live *lv) {
  project *p = cl->proj;
  char why[MDL_REASON_MAX];
  int type = mdl_type_of(p->model, lv->id);
  int rc = mdl_value_check_on(p->model, lv->id, lv->prop, &lv->value, why, sizeof why);
  if (!rc && lv->value.kind != MDL_VAL_REAL && lv->value.kind != MDL_VAL_INT)
    rc = MDL_ERR_BAD_VALUE, snprintf(why, sizeof why, "only numbers move live");
  if (rc) {
    send_reject(c, cl->conn, 0, rc, why);
    return;
  }
  double v = lv->value.kind == MDL_VAL_INT ? (double) lv->value.u.i : lv->value.u.r;
  live_set(p, lv->id, lv->prop, v);
  if (p == c->playing && !live_param(c, lv->id, type, lv->prop, v)) srv__update_plan(c);
  proto_msg m = {.type = PROTO_LIVE};
  m.u.live = *lv;
  m.u.live.client_id = cl->client_id;
  size_t n = encode(c, &m);
  for (size_t i = 0; n && i < MAX_CLIENTS; i++) {
    client *o = &c->clients[i];
    if (o->conn && o->proj == p && o != cl) send_ws(c, o->conn, c->msg, n, true);
  }
}

/* ---- Notes played by hand (NOTE) ------------------------------------------------ */

/* Hands the tracks being played by hand to the plan builder. */
static void audition_publish(srv_control *c) {
  mdl_id ids[AUDITION_MAX];
  for (uint32_t i = 0; i < c->n_auditions; i++)
    ids[i] = c->auditions[i].track;
  srv_plan_live_tracks(c->plans, ids, c->n_auditions);
}

/* Makes TRACK live in the plan (one new plan the first time); false when
 * AUDITION_MAX tracks are already being played. */
static bool audition_start(srv_control *c, mdl_id track) {
  for (uint32_t i = 0; i < c->n_auditions; i++)
    if (c->auditions[i].track == track) return c->auditions[i].last = time(NULL), true;
  if (c->n_auditions == AUDITION_MAX) return false;
  c->auditions[c->n_auditions++] = (audition){track, time(NULL)};
  audition_publish(c);
  srv__update_plan(c);
  return true;
}

static bool holds_any(const client *cl) {
  return cl->held[0] || cl->held[1];
}

/* Tracks nobody holds a key on, AUDITION_LINGER_S after their last note,
 * go back to the plan's deterministic part (one new plan). */
static void audition_expire(srv_control *c) {
  time_t now = time(NULL);
  uint32_t kept = 0;
  for (uint32_t i = 0; i < c->n_auditions; i++) {
    bool held = false;
    for (size_t k = 0; k < MAX_CLIENTS && !held; k++)
      held = c->clients[k].conn && c->clients[k].note_track == c->auditions[i].track &&
             holds_any(&c->clients[k]);
    if (held || now - c->auditions[i].last < AUDITION_LINGER_S)
      c->auditions[kept++] = c->auditions[i];
  }
  if (kept == c->n_auditions) return;
  c->n_auditions = kept;
  audition_publish(c);
  srv__update_plan(c);
}

/* Releases every key CL holds (it left, or moved to another track). */
static void notes_release(srv_control *c, client *cl) {
  for (int k = 0; k < 128 && holds_any(cl); k++)
    if (cl->held[k / 64] >> (k % 64) & 1) {
      if (c->engine) eng_engine_note(c->engine, cl->note_track, (uint8_t) k, 0);
      cl->held[k / 64] &= ~(1ull << (k % 64));
    }
}

/* NOTE: a key played on a track's instrument now (the piano roll's
 * audition, a keyboard). The track becomes live in the plan while it is
 * played; nothing is stored. */
static void on_note(srv_control *c, client *cl, const proto_note *n) {
  project *p = cl->proj;
  const mdl_project *m = p->model;
  char why[160] = "";
  bool instrument = false;
  mdl_id devs[64];
  uint32_t nd = mdl_type_of(m, n->track) == MDL_TYPE_TRACK
                    ? mdl_children(m, n->track, MDL_TYPE_DEVICE, devs, 64)
                    : 0;
  for (uint32_t i = 0; i < nd && i < 64 && !instrument; i++) {
    const mdl_device_desc *dd = mdl_device_describe((int) mdl_get_int(m, devs[i], MDL_PROP_KIND));
    instrument = dd && dd->instrument;
  }
  if (mdl_type_of(m, n->track) != MDL_TYPE_TRACK)
    snprintf(why, sizeof why, "no track with that id");
  else if (mdl_get_int(m, n->track, MDL_PROP_KIND) != MDL_TRACK_INSTRUMENT || !instrument)
    snprintf(why, sizeof why, "that track has no instrument to play");
  else if (!c->engine)
    snprintf(why, sizeof why, "this server runs without audio");
  else if (p != c->playing && c->engine_playing)
    snprintf(why, sizeof why, "the engine is playing another project: stop it or press play");
  if (why[0]) {
    send_reject(c, cl->conn, 0, SRV_ERR_BAD_REQUEST, why);
    return;
  }
  if (p != c->playing) { /* a stopped engine takes this project */
    c->playing = p, c->n_auditions = 0;
    audition_publish(c);
    eng_engine_locate(c->engine, 0);
    if (!n->velocity) srv__update_plan(c);
  }
  if (n->velocity && !audition_start(c, n->track)) {
    snprintf(why, sizeof why, "%d tracks are being played by hand already", AUDITION_MAX);
    send_reject(c, cl->conn, 0, SRV_ERR_BAD_REQUEST, why);
    return;
  }
  if (cl->note_track != n->track) notes_release(c, cl), cl->note_track = n->track;
  if (eng_engine_note(c->engine, n->track, n->key, n->velocity)) {
    send_reject(c, cl->conn, 0, SRV_ERR_BUSY, "the engine could not take the note now");
    return;
  }
  uint64_t bit = 1ull << (n->key % 64);
  if (n->velocity)
    cl->held[n->key / 64] |= bit;
  else
    cl->held[n->key / 64] &= ~bit;
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
      rc = srv__commit(c, cl->proj, &m.u.submit.txn, cl->client_id, &fail, &seq);
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
      srv__broadcast(c, cl->proj, in->conn, cl->client_id, seq, &m.u.submit.txn);
      c->tag = (deferred){0};
      break;
    }
    case PROTO_TRANSPORT: /* 3: play after the project's count-in */
      srv__transport_count_in(
          c, cl->proj, m.u.transport.command != 2,
          m.u.transport.command == 3
              ? (uint32_t) mdl_get_int(cl->proj->model, MDL_ID_PROJECT, MDL_PROP_COUNT_IN)
              : 0);
      break;
    case PROTO_LIVE:
      on_live(c, cl, &m.u.live);
      break;
    case PROTO_PRESENCE:
      cl->selection = m.u.presence.selection;
      cl->view = m.u.presence.view;
      presence_all(c, cl, true);
      break;
    case PROTO_NOTE:
      on_note(c, cl, &m.u.note);
      break;
    case PROTO_LAUNCH:
      on_launch(c, cl, &m.u.launch);
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
        if (o) o->status = 1013, srv__emit(c, o);
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
      notes_release(c, cl);
      memset(cl, 0, sizeof *cl);
      atomic_fetch_sub(&c->n_clients, 1);
      break;
    case SRV_IN_WS_MSG:
      on_ws_message(c, in);
      break;
    case SRV_IN_HTTP:
      srv__on_http(c, in);
      break;
    case SRV_IN_OPEN_PROJECT:
      srv__open_imported(c, in);
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
    audition_expire(c);
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
  c->plans = cfg->plans;
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
    srv__update_plan(c);
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
  srv_render_destroy(c->render); /* it sends to the front too */
  c->render = NULL;
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
    srv__project_free(c->projects[i]);
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
  out->monitor_dropped = atomic_load(&c->monitor_dropped);
  out->plans = atomic_load(&c->plans_made);
  out->live_params = atomic_load(&c->live_params);
  out->blocks_idle = atomic_load(&c->blocks_idle);
  out->dsp_permille = atomic_load(&c->dsp_permille);
  out->ahead_blocks = atomic_load(&c->ahead_blocks);
  out->cohort_misses = atomic_load(&c->cohort_misses);
  out->cohort_gap_frames = atomic_load(&c->cohort_gap_frames);
  srv_listen_stats ls = {0};
  if (c->listen) srv_listen_stats_get(c->listen, &ls);
  out->listeners = ls.listeners, out->listen_packets = ls.packets, out->listen_bytes = ls.bytes;
  snprintf(out->audio, sizeof out->audio, "%s", c->audio);
}

int srv_control_readonly(void *ud, const char *method, const char *path, srv_response *out) {
  srv_control *c = ud;
  srv_stats s;
  memset(out, 0, sizeof *out);
  if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0) return -1;
  srv_control_stats(c, &s);
  char buf[8192];
  int n;
  if (strcmp(path, "/api/health") == 0) {
    n = snprintf(
        buf, sizeof buf,
        "{\"status\":\"ok\",\"version\":\"%s\",\"protocol\":%d,\"audio\":\"%s\",\"uptime_s\":%llu,"
        "\"projects\":%llu,\"clients\":%llu,\"dsp_load\":%.3f,\"xruns\":%llu}",
        BACKLINE_VERSION, PROTO_VERSION, s.audio, (unsigned long long) s.uptime_s,
        (unsigned long long) s.projects, (unsigned long long) s.clients, s.dsp_permille / 1000.0,
        (unsigned long long) s.xruns);
    out->content_type = "application/json";
  } else if (strcmp(path, "/metrics") == 0) {
    const struct {
      const char *name, *type, *help;
      uint64_t value;
    } metrics[] = {
        {"backline_uptime_seconds", "gauge", "Seconds since the server started.", s.uptime_s},
        {"backline_clients", "gauge", "Open WebSocket connections.", s.clients},
        {"backline_projects", "gauge", "Projects in the data folder.", s.projects},
        {"backline_ops_total", "counter", "Transactions accepted and stored.", s.ops},
        {"backline_rejects_total", "counter", "Requests refused with a reason.", s.rejects},
        {"backline_engine_xruns_total", "counter", "Audio blocks not delivered in time.", s.xruns},
        {"backline_engine_meters_dropped_total", "counter", "Meter frames dropped (queue full).",
         s.meters_dropped},
        {"backline_engine_monitor_dropped_total", "counter",
         "Frames the monitor tap dropped (its encoder fell behind).", s.monitor_dropped},
        {"backline_listen_listeners", "gauge", "Connections hearing the master (Listen here).",
         s.listeners},
        {"backline_listen_packets_total", "counter", "Opus packets encoded for listeners.",
         s.listen_packets},
        {"backline_listen_bytes_total", "counter", "Opus bytes encoded for listeners.",
         s.listen_bytes},
        {"backline_engine_plans_total", "counter", "Engine plans compiled from the model.",
         s.plans},
        {"backline_engine_dsp_load_permille", "gauge",
         "Time the audio thread spends rendering, per mille of real time (last half second).",
         s.dsp_permille},
        {"backline_engine_idle_blocks_total", "counter",
         "Blocks the stopped, silent engine output as zeros without running the plan.",
         s.blocks_idle},
        {"backline_engine_ahead_blocks_total", "counter",
         "Track blocks the audio thread took ready-made from the anticipative cohort.",
         s.ahead_blocks},
        {"backline_engine_cohort_misses_total", "counter",
         "Track blocks the cohort had not rendered in time (rendered inline, or a gap).",
         s.cohort_misses},
        {"backline_engine_cohort_gap_frames_total", "counter",
         "Frames output as silence because a worker still held them.", s.cohort_gap_frames},
        {"backline_live_params_total", "counter",
         "Values in motion sent straight to an engine parameter (no plan compiled).",
         s.live_params},
    };
    n = 0;
    for (size_t i = 0; i < sizeof metrics / sizeof metrics[0] && n < (int) sizeof buf; i++)
      n += snprintf(buf + n, sizeof buf - (size_t) n, "# HELP %s %s\n# TYPE %s %s\n%s %llu\n",
                    metrics[i].name, metrics[i].help, metrics[i].name, metrics[i].type,
                    metrics[i].name, (unsigned long long) metrics[i].value);
    if (n >= (int) sizeof buf) n = (int) sizeof buf - 1;
    out->content_type = "text/plain; version=0.0.4";
  } else {
    return -1;
  }
  out->status = 200;
  out->body = strndup(buf, (size_t) n);
  out->len = out->body ? (size_t) n : 0;
  return 0;
}
