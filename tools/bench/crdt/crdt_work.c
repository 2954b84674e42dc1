/* crdt_work: scripts and our side of the CRDT comparison (see crdt_work.h). */
#include "tools/bench/crdt/crdt_work.h"
#include "shared/mdl_libc.h"
#include "protocol/proto_msg.h"
#include "shared/mdl_err.h"
#include "shared/mdl_key.h"
#include "shared/mdl_replica.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NAME_LEN 16
#define WIRE_MAX 64 /* bytes of one encoded transaction in these scripts */

/* ---- State ---------------------------------------------------------------- */

typedef struct built {
  mdl_txn txn[CRDT_MAX_STEPS];
  mdl_op ops[CRDT_MAX_STEPS];
  mdl_prop_value props[3 * CRDT_MAX_STEPS];
  char names[CRDT_MAX_STEPS][NAME_LEN];
  uint8_t wire[CRDT_MAX_STEPS][WIRE_MAX];
  uint16_t wire_len[CRDT_MAX_STEPS];
} built;

static crdt_script scripts[CRDT_N_SCRIPTS];
static built builds[CRDT_N_SCRIPTS];
static mdl_project *base;    /* the 16 tracks the set workloads start from */
static mdl_project *project; /* what the local rows apply to */
static mdl_project *server;  /* the server's project in the merges */
static mdl_project *expect;  /* the server order's result, to check against */
static mdl_project *tmp;
static proto_scratch pscratch;
static mdl_replica *replica;
static uint64_t seq;
static uint8_t snapshot_buf[PROTO_MAX_MSG];
static int snapshot_len;
static const uint32_t client_of[CRDT_N_SCRIPTS] = {2, 2, 2, 2, 3};

#define SPLIT (CRDT_MERGE_OPS - CRDT_REBASE_PENDING) /* A's ops the server has before B's */

static const mdl_alloc heap = MDL_LIBC_ALLOC;

static void die(const char *what, int rc) {
  fprintf(stderr, "bench_crdt: %s failed (%s)\n", what, mdl_strerror(rc));
  exit(1);
}

/* ---- Scripts -------------------------------------------------------------- */

static uint32_t rng_state;
static uint32_t rnd(void) {
  uint32_t x = rng_state;
  x ^= x << 13, x ^= x >> 17, x ^= x << 5;
  return rng_state = x;
}

uint32_t crdt_colour_of(double num) {
  return ((uint32_t) num * 2654435761u) & 0xFFFFFFu;
}

static const uint8_t set_props[6] = {MDL_PROP_GAIN, MDL_PROP_PAN,    MDL_PROP_MUTE,
                                     MDL_PROP_SOLO, MDL_PROP_COLOUR, MDL_PROP_NAME};

static double value_for(int prop, uint32_t r) {
  switch (prop) {
    case MDL_PROP_GAIN:
      return (double) (r % 4001) / 1000.0;
    case MDL_PROP_PAN:
      return ((double) (r % 2001) - 1000.0) / 1000.0;
    case MDL_PROP_MUTE:
    case MDL_PROP_SOLO:
      return (double) (r & 1);
    case MDL_PROP_COLOUR:
      return (double) (r & 0xFFFFFF);
    default:
      return (double) (r % 10000); /* name number: "Take N" */
  }
}

static void step(crdt_script *s, int kind, int prop, uint32_t index, mdl_id id, double num) {
  uint32_t i = s->n++;
  s->kind[i] = (uint8_t) kind, s->prop[i] = (uint8_t) prop, s->index[i] = index;
  s->id_hi[i] = (uint32_t) (id >> 32), s->id_lo[i] = (uint32_t) id, s->num[i] = num;
}

static void gen_set(crdt_script *s, uint32_t n) {
  for (uint32_t i = 0; i < n; i++) {
    uint32_t t = rnd() % CRDT_BASE_TRACKS, prop = set_props[rnd() % 6];
    step(s, CRDT_SET, (int) prop, t, MDL_ID_MAKE(1, t + 1), value_for((int) prop, rnd()));
  }
}

static void gen_create(crdt_script *s, uint32_t n, int kind) {
  for (uint32_t i = 0; i < n; i++)
    step(s, kind, 0, i % CRDT_BATCH, MDL_ID_MAKE(2, i + 1), (double) (rnd() % 10000));
}

/* A merging client's history: sets on any track it sees (the 16 base tracks
 * and its own), creates and deletes of its own tracks (at most 16 alive). */
static void gen_client(crdt_script *s, uint32_t client, uint32_t n) {
  mdl_id list[CRDT_BASE_TRACKS + CRDT_OWN_MAX];
  uint32_t n_list = CRDT_BASE_TRACKS, counter = 1;
  for (uint32_t k = 0; k < CRDT_BASE_TRACKS; k++)
    list[k] = MDL_ID_MAKE(1, k + 1);
  for (uint32_t i = 0; i < n; i++) {
    uint32_t choice = rnd() % 20, own = n_list - CRDT_BASE_TRACKS;
    bool create = (choice == 0 && own < CRDT_OWN_MAX) || (choice == 1 && own == 0);
    bool del = (choice == 0 && own == CRDT_OWN_MAX) || (choice == 1 && own > 0);
    if (create) {
      mdl_id id = MDL_ID_MAKE(client, counter++);
      step(s, CRDT_CREATE, 0, n_list, id, (double) (rnd() % 10000));
      list[n_list++] = id;
    } else if (del) {
      uint32_t at = CRDT_BASE_TRACKS + rnd() % own;
      step(s, CRDT_DELETE, 0, at, list[at], 0);
      memmove(&list[at], &list[at + 1], (n_list - at - 1) * sizeof list[0]);
      n_list--;
    } else {
      uint32_t at = rnd() % n_list, prop = set_props[rnd() % 6];
      step(s, CRDT_SET, (int) prop, at, list[at], value_for((int) prop, rnd()));
    }
  }
}

static mdl_value make_value(int prop, double num, char *name) {
  mdl_value v = {0};
  const mdl_prop_info *info = mdl_prop_describe(prop);
  v.kind = info->kind;
  switch (info->kind) {
    case MDL_VAL_REAL:
      v.u.r = num;
      break;
    case MDL_VAL_INT:
      v.u.i = (int64_t) num;
      break;
    case MDL_VAL_BOOL:
      v.u.b = num != 0;
      break;
    default:
      v.u.s.len = (uint32_t) snprintf(name, NAME_LEN, "Take %u", (unsigned) num);
      v.u.s.ptr = name;
      break;
  }
  return v;
}

/* The key of the I-th of a chain of inserts at the front of a list: each
 * sorts before the one before it. */
static const char *front_key(uint32_t i, uint32_t *len) {
  static char keys[CRDT_BATCH][MDL_KEY_MAX];
  static uint32_t lens[CRDT_BATCH];
  if (!lens[0])
    for (uint32_t k = 0; k < CRDT_BATCH; k++)
      lens[k] = mdl_key_between("", 0, k ? keys[k - 1] : "", k ? lens[k - 1] : 0, keys[k]);
  *len = lens[i % CRDT_BATCH];
  return keys[i % CRDT_BATCH];
}

/* Fills OPS/PROPS for step I; returns the number of ops. */
static uint32_t build_op(const crdt_script *s, uint32_t i, mdl_op *ops, mdl_prop_value *props,
                         char *name) {
  mdl_id id = MDL_ID_MAKE(s->id_hi[i], s->id_lo[i]);
  memset(ops, 0, sizeof *ops);
  ops[0].id = id;
  switch (s->kind[i]) {
    case CRDT_SET:
      ops[0].kind = MDL_OP_SET, ops[0].prop = s->prop[i];
      ops[0].value = make_value(s->prop[i], s->num[i], name);
      return 1;
    case CRDT_DELETE:
      ops[0].kind = MDL_OP_DELETE;
      return 1;
    default:
      ops[0].kind = MDL_OP_CREATE, ops[0].type = MDL_TYPE_TRACK;
      props[0].prop = MDL_PROP_NAME, props[0].value.kind = MDL_VAL_STR;
      props[0].value.u.s.len =
          (uint32_t) snprintf(name, NAME_LEN, "Track %u", (unsigned) s->num[i]);
      props[0].value.u.s.ptr = name;
      props[1].prop = MDL_PROP_COLOUR, props[1].value.kind = MDL_VAL_INT;
      props[1].value.u.i = crdt_colour_of(s->num[i]);
      ops[0].n_props = 2, ops[0].props = props;
      if (s->kind[i] != CRDT_CREATE_FRONT) return 1;
      /* At the front: the client picks the order key before the first one's
       * (the I-th front insert of a batch has the I-th key of that chain). */
      props[2].prop = MDL_PROP_ORDER, props[2].value.kind = MDL_VAL_STR;
      props[2].value.u.s.ptr = front_key(s->index[i], &props[2].value.u.s.len);
      ops[0].n_props = 3;
      return 1;
  }
}

static void build(int which) {
  const crdt_script *s = &scripts[which];
  built *b = &builds[which];
  for (uint32_t i = 0; i < s->n; i++) {
    uint32_t n = build_op(s, i, &b->ops[i], &b->props[3 * i], b->names[i]);
    b->txn[i].n_ops = n, b->txn[i].ops = &b->ops[i];
    int len = proto_encode_txn(&b->txn[i], b->wire[i], WIRE_MAX);
    if (len < 0) die("encode", len);
    b->wire_len[i] = (uint16_t) len;
  }
}

static void copy_or_die(mdl_project *dst, const mdl_project *src) {
  int rc = mdl_project_copy(dst, src);
  if (rc) die("copy", rc);
}

static void apply_or_die(mdl_project *p, const mdl_txn *t, uint32_t origin) {
  int rc = mdl_txn_apply(p, t, origin, NULL);
  if (rc) die("apply", rc);
}

void crdt_init(void) {
  rng_state = 0x9e3779b9u;
  gen_set(&scripts[CRDT_SCRIPT_SET], CRDT_MAX_STEPS);
  gen_create(&scripts[CRDT_SCRIPT_APPEND], CRDT_MAX_STEPS, CRDT_CREATE);
  gen_create(&scripts[CRDT_SCRIPT_FRONT], CRDT_MAX_STEPS, CRDT_CREATE_FRONT);
  gen_client(&scripts[CRDT_SCRIPT_A], 2, CRDT_MERGE_OPS);
  gen_client(&scripts[CRDT_SCRIPT_B], 3, CRDT_MERGE_OPS);
  for (int w = 0; w < CRDT_N_SCRIPTS; w++)
    build(w);
  /* The base: 16 tracks "Track k" made by client 1. */
  base = mdl_project_create(&heap, "Bench");
  project = mdl_project_create(&heap, "Bench");
  server = mdl_project_create(&heap, "Bench");
  expect = mdl_project_create(&heap, "Bench");
  tmp = mdl_project_create(&heap, "Bench");
  pscratch.project = mdl_project_create(&heap, NULL);
  if (!base || !project || !server || !expect || !tmp || !pscratch.project)
    die("mdl_project_create", MDL_ERR_NOMEM);
  for (uint32_t k = 1; k <= CRDT_BASE_TRACKS; k++) {
    char name[NAME_LEN];
    mdl_prop_value pv[2] = {{MDL_PROP_NAME, {.kind = MDL_VAL_STR}},
                            {MDL_PROP_COLOUR, {.kind = MDL_VAL_INT}}};
    pv[0].value.u.s.len = (uint32_t) snprintf(name, sizeof name, "Track %u", (unsigned) k);
    pv[0].value.u.s.ptr = name;
    pv[1].value.u.i = crdt_colour_of(k);
    mdl_op op = {.kind = MDL_OP_CREATE,
                 .type = MDL_TYPE_TRACK,
                 .id = MDL_ID_MAKE(1, k),
                 .n_props = 2,
                 .props = pv};
    mdl_txn t = {1, &op};
    apply_or_die(base, &t, 1);
  }
  replica = mdl_replica_create(&heap);
  if (!replica) die("mdl_replica_create", MDL_ERR_NOMEM);
}

const crdt_script *crdt_script_get(int which) {
  return &scripts[which];
}

/* ---- Rows ----------------------------------------------------------------- */

static int row_script(int row) {
  switch (row) {
    case CRDT_ROW_SET_LOCAL:
    case CRDT_ROW_SET_REMOTE:
      return CRDT_SCRIPT_SET;
    case CRDT_ROW_FRONT_LOCAL:
      return CRDT_SCRIPT_FRONT;
    default:
      return CRDT_SCRIPT_APPEND;
  }
}

uint32_t crdt_row_batches(int row) {
  return scripts[row_script(row)].n / CRDT_BATCH;
}

static void replica_reset_to(const mdl_project *p) {
  /* A fresh replica: reset alone would keep the pending queue. */
  mdl_replica_destroy(replica);
  replica = mdl_replica_create(&heap);
  if (!replica) die("mdl_replica_create", MDL_ERR_NOMEM);
  seq = 1;
  mdl_replica_reset(replica, 9, p, seq, 0);
}

void crdt_row_setup(int row, uint32_t batch) {
  switch (row) {
    case CRDT_ROW_SET_LOCAL:
      if (batch == 0) copy_or_die(project, base);
      break;
    case CRDT_ROW_SET_REMOTE:
      if (batch == 0) replica_reset_to(base);
      break;
    case CRDT_ROW_APPEND_LOCAL:
    case CRDT_ROW_FRONT_LOCAL:
      mdl_project_reset(project, "Bench");
      break;
    case CRDT_ROW_APPEND_REMOTE:
      mdl_project_reset(tmp, "Bench");
      replica_reset_to(tmp);
      break;
    default:
      break;
  }
}

int crdt_row_run(int row, uint32_t batch) {
  const built *b = &builds[row_script(row)];
  uint32_t first = batch * CRDT_BATCH;
  int rc = 0;
  if (row == CRDT_ROW_SET_REMOTE || row == CRDT_ROW_APPEND_REMOTE) {
    for (uint32_t i = first; i < first + CRDT_BATCH; i++) {
      mdl_txn t;
      rc |= proto_decode_txn(b->wire[i], b->wire_len[i], &pscratch, &t);
      rc |= mdl_replica_on_remote(replica, ++seq, &t, NULL);
    }
  } else {
    for (uint32_t i = first; i < first + CRDT_BATCH; i++)
      rc |= mdl_txn_apply(project, &b->txn[i], 0, NULL);
  }
  return rc;
}

/* ---- One op from plain arguments (the per-op JS->wasm call) --------------- */

static char arg_name[NAME_LEN];

int crdt_apply_set(uint32_t hi, uint32_t lo, int prop, double num) {
  mdl_op op = {.kind = MDL_OP_SET, .prop = (uint8_t) prop, .id = MDL_ID_MAKE(hi, lo)};
  op.value = make_value(prop, num, arg_name);
  mdl_txn t = {1, &op};
  return mdl_txn_apply(project, &t, 0, NULL);
}

int crdt_apply_set_str(uint32_t hi, uint32_t lo, int prop, const char *s, uint32_t len) {
  mdl_op op = {.kind = MDL_OP_SET, .prop = (uint8_t) prop, .id = MDL_ID_MAKE(hi, lo)};
  op.value.kind = MDL_VAL_STR, op.value.u.s.ptr = s, op.value.u.s.len = len;
  mdl_txn t = {1, &op};
  return mdl_txn_apply(project, &t, 0, NULL);
}

int crdt_apply_create_str(uint32_t hi, uint32_t lo, const char *name, uint32_t len,
                          uint32_t colour) {
  mdl_prop_value pv[2] = {{MDL_PROP_NAME, {.kind = MDL_VAL_STR}},
                          {MDL_PROP_COLOUR, {.kind = MDL_VAL_INT}}};
  pv[0].value.u.s.ptr = name, pv[0].value.u.s.len = len;
  pv[1].value.u.i = colour;
  mdl_op op = {.kind = MDL_OP_CREATE,
               .type = MDL_TYPE_TRACK,
               .id = MDL_ID_MAKE(hi, lo),
               .n_props = 2,
               .props = pv};
  mdl_txn t = {1, &op};
  return mdl_txn_apply(project, &t, 0, NULL);
}

int crdt_apply_create(uint32_t hi, uint32_t lo, double num) {
  int len = snprintf(arg_name, sizeof arg_name, "Track %u", (unsigned) num);
  return crdt_apply_create_str(hi, lo, arg_name, (uint32_t) len, crdt_colour_of(num));
}

/* ---- Merges --------------------------------------------------------------- */

static void apply_range(mdl_project *p, int which, uint32_t from, uint32_t to) {
  for (uint32_t i = from; i < to; i++)
    apply_or_die(p, &builds[which].txn[i], client_of[which]);
}

void crdt_merge_setup(int merge) {
  copy_or_die(expect, base);
  if (merge == CRDT_MERGE_SERVER || merge == CRDT_MERGE_AFTER) {
    apply_range(expect, CRDT_SCRIPT_A, 0, CRDT_MERGE_OPS);
    copy_or_die(server, expect);
    apply_range(expect, CRDT_SCRIPT_B, 0, CRDT_MERGE_OPS);
    if (merge == CRDT_MERGE_AFTER) {
      replica_reset_to(server);
      mdl_replica_reset(replica, 2, server, seq, 0);
    }
    return;
  }
  /* A's last 4,096 ops are still pending when B's 10,000 reach it. */
  apply_range(expect, CRDT_SCRIPT_A, 0, SPLIT);
  copy_or_die(tmp, expect);
  apply_range(expect, CRDT_SCRIPT_B, 0, CRDT_MERGE_OPS);
  copy_or_die(server, expect); /* the server before A's late ops */
  apply_range(expect, CRDT_SCRIPT_A, SPLIT, CRDT_MERGE_OPS);
  replica_reset_to(tmp);
  mdl_replica_reset(replica, 2, tmp, seq, 0);
  for (uint32_t i = SPLIT; i < CRDT_MERGE_OPS; i++) {
    uint32_t local;
    int rc = mdl_replica_submit(replica, &builds[CRDT_SCRIPT_A].txn[i], &local, NULL);
    if (rc) die("submit", rc);
  }
  if (merge == CRDT_MERGE_RECONNECT) {
    snapshot_len = proto_encode_project(server, snapshot_buf, sizeof snapshot_buf);
    if (snapshot_len < 0) die("encode snapshot", snapshot_len);
  }
}

int crdt_merge_run(int merge) {
  const built *a = &builds[CRDT_SCRIPT_A], *b = &builds[CRDT_SCRIPT_B];
  int rc = 0;
  mdl_txn t;
  switch (merge) {
    case CRDT_MERGE_SERVER:
      for (uint32_t i = 0; i < CRDT_MERGE_OPS; i++) {
        rc |= proto_decode_txn(b->wire[i], b->wire_len[i], &pscratch, &t);
        rc |= mdl_txn_apply(server, &t, 3, NULL);
      }
      break;
    case CRDT_MERGE_AFTER:
    case CRDT_MERGE_REBASE:
      for (uint32_t i = 0; i < CRDT_MERGE_OPS; i++) {
        rc |= proto_decode_txn(b->wire[i], b->wire_len[i], &pscratch, &t);
        rc |= mdl_replica_on_remote(replica, ++seq, &t, NULL);
      }
      for (uint32_t local = 1; merge == CRDT_MERGE_REBASE && local <= CRDT_REBASE_PENDING; local++)
        rc |= mdl_replica_on_ack(replica, local, ++seq);
      break;
    case CRDT_MERGE_RECONNECT:
      /* Client: WELCOME's snapshot, reset = one rebase of the pending queue. */
      rc |= proto_decode_project(snapshot_buf, (size_t) snapshot_len, tmp);
      seq += CRDT_MERGE_OPS;
      mdl_replica_reset(replica, 2, tmp, seq, 0);
      /* Server: the pending ops arrive as SUBMITs; client: their acks. */
      for (uint32_t i = SPLIT; i < CRDT_MERGE_OPS; i++) {
        rc |= proto_decode_txn(a->wire[i], a->wire_len[i], &pscratch, &t);
        rc |= mdl_txn_apply(server, &t, 2, NULL);
      }
      for (uint32_t local = 1; local <= CRDT_REBASE_PENDING; local++)
        rc |= mdl_replica_on_ack(replica, local, ++seq);
      break;
    default:
      break;
  }
  return rc;
}

int crdt_merge_check(int merge) {
  uint64_t want = mdl_project_hash(expect);
  if (merge == CRDT_MERGE_SERVER) return mdl_project_hash(server) == want ? 0 : 1;
  if (mdl_project_hash(mdl_replica_view(replica)) != want) return 1;
  if (mdl_project_hash(mdl_replica_confirmed(replica)) != want) return 2;
  if (mdl_replica_n_pending(replica) != 0) return 3;
  if (merge == CRDT_MERGE_RECONNECT && mdl_project_hash(server) != want) return 4;
  return 0;
}

uint32_t crdt_merge_tracks(int merge) {
  (void) merge;
  return mdl_tracks(expect, NULL, 0);
}

/* ---- Bytes ---------------------------------------------------------------- */

int crdt_bytes_set(int prop, double num) {
  char name[NAME_LEN];
  uint8_t buf[WIRE_MAX];
  mdl_op op = {.kind = MDL_OP_SET, .prop = (uint8_t) prop, .id = MDL_ID_MAKE(1, 1)};
  op.value = make_value(prop, num, name);
  mdl_txn t = {1, &op};
  return proto_encode_txn(&t, buf, sizeof buf);
}

int crdt_bytes_create(int front) {
  crdt_script s = {0};
  step(&s, front ? CRDT_CREATE_FRONT : CRDT_CREATE, 0, 0, MDL_ID_MAKE(2, 1), 1);
  mdl_op ops[1];
  mdl_prop_value props[3];
  char name[NAME_LEN];
  uint8_t buf[WIRE_MAX];
  mdl_txn t = {build_op(&s, 0, ops, props, name), ops};
  return proto_encode_txn(&t, buf, sizeof buf);
}

static int overhead(int type) {
  mdl_op op = {.kind = MDL_OP_SET, .prop = MDL_PROP_MUTE, .id = MDL_ID_MAKE(1, 1)};
  op.value.kind = MDL_VAL_BOOL;
  mdl_txn t = {1, &op};
  proto_msg m = {.type = (uint8_t) type};
  if (type == PROTO_SUBMIT)
    m.u.submit.local_id = 1, m.u.submit.txn = t;
  else
    m.u.broadcast.seq = 1, m.u.broadcast.origin = 2, m.u.broadcast.txn = t;
  uint8_t buf[WIRE_MAX];
  return proto_encode(&m, buf, sizeof buf) - proto_encode_txn(&t, buf, sizeof buf);
}

int crdt_bytes_submit_overhead(void) {
  return overhead(PROTO_SUBMIT);
}
int crdt_bytes_broadcast_overhead(void) {
  return overhead(PROTO_BROADCAST);
}

double crdt_bytes_script(int which) {
  double sum = 0;
  for (uint32_t i = 0; i < scripts[which].n; i++)
    sum += builds[which].wire_len[i];
  return sum;
}
