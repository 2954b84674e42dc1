/* bench_open: how long opening a project with a long history takes.
 *
 * Writes a project of N transactions (default 1,000,000: 64 tracks made,
 * then edits of every property), then times opening it and rebuilding the
 * model three ways, each several times:
 *   scan      the reference: SQLite reading every row of the log, nothing else;
 *   replay    sto_project_load_model with no snapshot: decode + apply every op;
 *   snapshot  the same file after the server's policy ran: a stored snapshot
 *             at the last multiple of 1,000 and the log behind it compacted.
 * Prints p50/p99 per way and ratios, then `bench: NAME VALUE UNIT` lines. */
#include "protocol/proto_msg.h"
#include "shared/mdl_op.h"
#include "shared/mdl_alloc.h"
#include "storage/sto_int.h"
#include "storage/sto_project.h"

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static double now_ms(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *) a, y = *(const double *) b;
  return x < y ? -1 : x > y;
}

static double pct(double *v, int n, double p) {
  qsort(v, (size_t) n, sizeof *v, cmp_double);
  int i = (int) (p * (n - 1) + 0.5);
  return v[i];
}

static void die(const char *what, const char *err) {
  fprintf(stderr, "bench_open: %s: %s\n", what, err);
  exit(1);
}

/* The I-th transaction of the synthetic history. */
static mdl_txn make_txn(uint64_t i, mdl_op *op, char *name) {
  const uint32_t n_tracks = 64;
  mdl_id id = MDL_ID_MAKE(2, 1 + i % n_tracks);
  if (i < n_tracks) {
    *op = (mdl_op){.kind = MDL_OP_CREATE, .type = MDL_TYPE_TRACK, .id = id};
  } else {
    *op = (mdl_op){.kind = MDL_OP_SET, .id = id};
    switch (i % 5) {
      case 0:
        op->prop = MDL_PROP_GAIN, op->value.kind = MDL_VAL_REAL,
        op->value.u.r = (double) (i % 400) / 100;
        break;
      case 1:
        op->prop = MDL_PROP_PAN, op->value.kind = MDL_VAL_REAL,
        op->value.u.r = (double) (i % 200) / 100 - 1;
        break;
      case 2:
        op->prop = MDL_PROP_MUTE, op->value.kind = MDL_VAL_BOOL, op->value.u.b = i & 1;
        break;
      case 3:
        snprintf(name, 24, "Track %llu", (unsigned long long) (i % 1000));
        op->prop = MDL_PROP_NAME, op->value.kind = MDL_VAL_STR;
        op->value.u.s.ptr = name, op->value.u.s.len = (uint32_t) strlen(name);
        break;
      default:
        op->id = MDL_ID_PROJECT, op->prop = MDL_PROP_TEMPO, op->value.kind = MDL_VAL_REAL;
        op->value.u.r = 60 + (double) (i % 120);
        break;
    }
  }
  return (mdl_txn){1, op};
}

int main(int argc, char **argv) {
  uint64_t n = argc > 1 ? strtoull(argv[1], NULL, 10) : 1000000;
  int runs = argc > 2 ? atoi(argv[2]) : 5;
  if (n < 100 || runs < 1) die("usage", "bench_open [N_OPS >= 100] [RUNS]");
  char dir[] = "/tmp/backline-bench-open-XXXXXX", path[128], err[600];
  if (!mkdtemp(dir)) die("mkdtemp", "failed");
  snprintf(path, sizeof path, "%s/p.backline", dir);

  /* Write the history (one group per 10,000: this part is not measured). */
  double t0 = now_ms();
  sto_project *sp;
  if (sto_project_open(path, STO_OPEN_CREATE, &sp, err, sizeof err)) die("create", err);
  mdl_project *live = mdl_project_create(&sto__alloc, NULL),
              *m = mdl_project_create(&sto__alloc, NULL);
  uint8_t buf[512];
  for (uint64_t i = 0; i < n; i++) {
    mdl_op op;
    char name[24];
    mdl_txn t = make_txn(i, &op, name);
    if (mdl_txn_apply(live, &t, 2, NULL)) die("apply", "synthetic op refused");
    int len = proto_encode_txn(&t, buf, sizeof buf);
    if (i % 10000 == 0 && sto_project_begin(sp)) die("begin", sto_project_last_error(sp));
    if (sto_project_append(sp, i + 1, 2, buf, (size_t) len))
      die("append", sto_project_last_error(sp));
    if (i % 10000 == 9999 && sto_project_commit(sp)) die("commit", sto_project_last_error(sp));
  }
  if (sto_project_commit(sp)) die("commit", sto_project_last_error(sp));
  sto_project_close(sp);
  uint64_t want = mdl_project_hash(live);
  printf("bench_open: %llu ops written in %.1f s to %s\n", (unsigned long long) n,
         (now_ms() - t0) / 1e3, path);

  double *scan = calloc((size_t) runs, sizeof(double)),
         *replay = calloc((size_t) runs, sizeof(double)),
         *snap = calloc((size_t) runs, sizeof(double));
  uint64_t seq;
  for (int r = 0; r < runs; r++) {
    /* Reference: SQLite reading every row. */
    double a = now_ms();
    sqlite3 *db;
    sqlite3_stmt *st;
    sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL);
    sqlite3_prepare_v2(db, "SELECT seq, origin, txn FROM ops ORDER BY seq", -1, &st, NULL);
    size_t bytes = 0;
    while (sqlite3_step(st) == SQLITE_ROW)
      bytes += (size_t) sqlite3_column_bytes(st, 2);
    sqlite3_finalize(st);
    sqlite3_close(db);
    scan[r] = now_ms() - a;
    if (!bytes) die("scan", "no rows");
    /* Ours, whole log. */
    a = now_ms();
    if (sto_project_open(path, STO_OPEN_EXISTING, &sp, err, sizeof err)) die("open", err);
    if (sto_project_load_model(sp, m, &seq, err, sizeof err)) die("load", err);
    sto_project_close(sp);
    replay[r] = now_ms() - a;
    if (seq != n || mdl_project_hash(m) != want) die("replay", "wrong state");
  }

  /* The server's policy: a snapshot at the last multiple of 1,000, the log
   * older than the newest 10,000 ops deleted. */
  uint64_t at = n / 1000 * 1000 == n ? n - 1000 : n / 1000 * 1000;
  if (sto_project_open(path, STO_OPEN_EXISTING, &sp, err, sizeof err)) die("open", err);
  mdl_project_reset(m, NULL);
  for (uint64_t i = 0; i < at; i++) {
    mdl_op op;
    char name[24];
    mdl_txn t = make_txn(i, &op, name);
    mdl_txn_apply(m, &t, 2, NULL);
  }
  size_t cap = proto_project_size(m);
  uint8_t *state = malloc(cap);
  int len = state ? proto_encode_project(m, state, cap) : -1;
  if (len < 0 || sto_project_put_snapshot(sp, at, MDL_SCHEMA_VERSION, state, (size_t) len))
    die("snapshot", sto_project_last_error(sp));
  free(state);
  if (n > 10000 && sto_project_compact(sp, n - 10000)) die("compact", sto_project_last_error(sp));
  sto_project_close(sp);
  for (int r = 0; r < runs; r++) {
    double a = now_ms();
    if (sto_project_open(path, STO_OPEN_EXISTING, &sp, err, sizeof err)) die("open", err);
    if (sto_project_load_model(sp, m, &seq, err, sizeof err)) die("load", err);
    sto_project_close(sp);
    snap[r] = now_ms() - a;
    if (seq != n || mdl_project_hash(m) != want) die("snapshot load", "wrong state");
  }

  double s50 = pct(scan, runs, .5), s99 = pct(scan, runs, .99);
  double r50 = pct(replay, runs, .5), r99 = pct(replay, runs, .99);
  double p50 = pct(snap, runs, .5), p99 = pct(snap, runs, .99);
  printf("\n  open %llu-op project (%d runs)      p50 ms     p99 ms\n", (unsigned long long) n,
         runs);
  printf("  sqlite scan of the log (reference) %9.1f  %9.1f\n", s50, s99);
  printf("  ours, replay of the whole log      %9.1f  %9.1f   %.2fx the scan\n", r50, r99,
         r50 / s50);
  printf("  ours, snapshot + log after it      %9.2f  %9.2f   %.4fx the scan\n\n", p50, p99,
         p50 / s50);
  printf("bench: open_scan_p50 %.1f ms\n", s50);
  printf("bench: open_replay_p50 %.1f ms\n", r50);
  printf("bench: open_replay_p99 %.1f ms\n", r99);
  printf("bench: open_replay_vs_scan %.2f x\n", r50 / s50);
  printf("bench: open_snapshot_p50 %.2f ms\n", p50);
  printf("bench: open_snapshot_p99 %.2f ms\n", p99);
  printf("bench: open_snapshot_vs_scan %.4f x\n", p50 / s50);
  unlink(path);
  char side[160];
  snprintf(side, sizeof side, "%s-wal", path), unlink(side);
  snprintf(side, sizeof side, "%s-shm", path), unlink(side);
  rmdir(dir);
  mdl_project_destroy(live), mdl_project_destroy(m);
  free(scan), free(replay), free(snap);
  return 0;
}
