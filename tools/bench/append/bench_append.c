/* bench_append: op append with a durable acknowledgement, in ops per second.
 *
 * Storage level, on a project file in a fresh folder (--dir, default
 * $TMPDIR or /tmp; a tmpfs there makes fsync free and the figures
 * meaningless, so the bench says when it is one):
 *   sqlite   the reference: one thread, a plain SQLite insert loop with the
 *            same durability as the op log (WAL, synchronous=FULL, a commit
 *            per insert), same table shape and payload;
 *   single   16 writers, one committer thread that stores each queued op
 *            with its own sto_project_append (one durable commit per op);
 *   group    16 writers, one committer thread that takes everything queued
 *            when it wakes and stores it as one group
 *            (sto_project_begin, append..., sto_project_commit: one fsync).
 * A writer submits one op (a one-op transaction setting a track's gain, in
 * its wire encoding), waits until the committer says it is durable (the
 * acknowledgement), and submits the next. Latency is submit -> ack.
 * End to end (unless --no-server): the real server (build/backline or
 * $BACKLINE_BIN) with 16 WebSocket clients, each closed-loop: SUBMIT, wait
 * for the ACK, next.
 *
 * Figures: a table, then `bench: NAME VALUE UNIT` lines, with the ratios to
 * the sqlite reference. Usage: bench_append [--seconds S] [--writers N]
 * [--dir DIR] [--no-server] (defaults 2, 16). */
#include "protocol/proto_msg.h"
#include "storage/sto_err.h"
#include "storage/sto_project.h"
#include "tools/client/cli_client.h"
#include "tools/client/cli_http.h"
#include "tools/client/cli_server.h"
#include "tools/client/cli_txn.h"

#include <pthread.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#define MAX_WRITERS 64
#define TMPFS_MAGIC 0x01021994 /* statfs f_type of a tmpfs (linux/magic.h) */
#define WAIT_MS     20000

static struct {
  double seconds;
  int writers;
  char dir[512];
  bool server;
} opt = {2.0, 16, "", true};

static unsigned char payload[64]; /* one encoded transaction */
static size_t payload_len;

static void die(const char *what, const char *why) {
  fprintf(stderr, "bench_append: %s: %s\n", what, why);
  exit(1);
}

/* ---- Statistics --------------------------------------------------------------------------- */

typedef struct lat {
  uint64_t *v; /* nanoseconds */
  size_t n, cap;
} lat;

static void lat_add(lat *l, uint64_t ns) {
  if (l->n == l->cap) {
    l->cap = l->cap ? l->cap * 2 : 65536;
    l->v = realloc(l->v, l->cap * sizeof *l->v);
    if (!l->v) die("latencies", "out of memory");
  }
  l->v[l->n++] = ns;
}

static void lat_merge(lat *into, const lat *from) {
  for (size_t i = 0; i < from->n; i++)
    lat_add(into, from->v[i]);
}

static int cmp_u64(const void *a, const void *b) {
  uint64_t x = *(const uint64_t *) a, y = *(const uint64_t *) b;
  return x < y ? -1 : x > y;
}

typedef struct result {
  const char *name;
  uint64_t ops;
  double secs, ops_s;
  double p50_us, p99_us;
  double per_commit; /* ops per durable commit */
} result;

static void finish(result *r, lat *l, uint64_t commits) {
  r->ops = l->n;
  r->ops_s = r->secs > 0 ? l->n / r->secs : 0;
  r->per_commit = commits ? (double) l->n / commits : 0;
  if (l->n) {
    qsort(l->v, l->n, sizeof *l->v, cmp_u64);
    r->p50_us = l->v[(l->n - 1) / 2] / 1e3;
    r->p99_us = l->v[(size_t) ((l->n - 1) * 0.99)] / 1e3;
  }
  free(l->v);
  memset(l, 0, sizeof *l);
}

/* ---- The reference: plain SQLite ----------------------------------------------------------- */

static void check(int rc, sqlite3 *db, const char *what) {
  if (rc != SQLITE_OK && rc != SQLITE_DONE) die(what, sqlite3_errmsg(db));
}

static result run_sqlite(const char *path) {
  sqlite3 *db;
  sqlite3_stmt *st;
  check(sqlite3_open(path, &db), db, path);
  check(sqlite3_exec(db,
                     "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;"
                     "CREATE TABLE ops(seq INTEGER PRIMARY KEY, origin INTEGER NOT NULL,"
                     " txn BLOB NOT NULL) STRICT;",
                     0, 0, 0),
        db, "schema");
  check(
      sqlite3_prepare_v2(db, "INSERT INTO ops(seq, origin, txn) VALUES(?1, ?2, ?3)", -1, &st, NULL),
      db, "prepare");
  lat l = {0};
  result r = {"sqlite", 0, 0, 0, 0, 0, 0};
  uint64_t t0 = cli_now_ns(), end = t0 + (uint64_t) (opt.seconds * 1e9), seq = 0;
  for (uint64_t now = t0; now < end;) {
    sqlite3_bind_int64(st, 1, (sqlite3_int64) ++seq);
    sqlite3_bind_int64(st, 2, 2);
    sqlite3_bind_blob(st, 3, payload, (int) payload_len, SQLITE_STATIC);
    check(sqlite3_step(st), db, "insert");
    sqlite3_reset(st);
    uint64_t t = cli_now_ns();
    lat_add(&l, t - now);
    now = t;
  }
  r.secs = (cli_now_ns() - t0) / 1e9;
  sqlite3_finalize(st);
  sqlite3_close(db);
  finish(&r, &l, l.n);
  return r;
}

/* ---- Writers and a committer over sto_project ----------------------------------------------- */

typedef struct queue {
  pthread_mutex_t mu;
  pthread_cond_t work, done;
  uint64_t next_ticket; /* the last ticket handed out */
  uint64_t done_ticket; /* every ticket up to this one is durable */
  uint32_t origins[MAX_WRITERS];
  uint64_t tickets[MAX_WRITERS];
  int n; /* queued, not yet taken */
  bool stop, group;
  sto_project *sp;
  uint64_t n_commits;
  uint64_t end_ns;
} queue;

typedef struct writer {
  queue *q;
  uint32_t origin;
  lat l;
  pthread_t thread;
} writer;

static void *committer_main(void *arg) {
  queue *q = arg;
  uint32_t origins[MAX_WRITERS];
  uint64_t tickets[MAX_WRITERS];
  pthread_mutex_lock(&q->mu);
  for (;;) {
    while (!q->n && !q->stop)
      pthread_cond_wait(&q->work, &q->mu);
    if (!q->n && q->stop) break;
    int n = q->n;
    memcpy(origins, q->origins, n * sizeof *origins);
    memcpy(tickets, q->tickets, n * sizeof *tickets);
    q->n = 0;
    pthread_mutex_unlock(&q->mu);
    int rc = q->group ? sto_project_begin(q->sp) : 0;
    uint64_t commits = q->group ? 1 : (uint64_t) n;
    for (int i = 0; i < n && !rc; i++)
      rc = sto_project_append(q->sp, sto_project_last_seq(q->sp) + 1, origins[i], payload,
                              payload_len);
    if (!rc && q->group) rc = sto_project_commit(q->sp);
    if (rc) die("append", sto_project_last_error(q->sp));
    pthread_mutex_lock(&q->mu);
    q->n_commits += commits;
    q->done_ticket = tickets[n - 1]; /* tickets are queued in order */
    pthread_cond_broadcast(&q->done);
  }
  pthread_mutex_unlock(&q->mu);
  return NULL;
}

static void *writer_main(void *arg) {
  writer *w = arg;
  queue *q = w->q;
  for (;;) {
    uint64_t t0 = cli_now_ns();
    if (t0 >= q->end_ns) break;
    pthread_mutex_lock(&q->mu);
    uint64_t ticket = ++q->next_ticket;
    q->origins[q->n] = w->origin;
    q->tickets[q->n++] = ticket;
    pthread_cond_signal(&q->work);
    while (q->done_ticket < ticket)
      pthread_cond_wait(&q->done, &q->mu);
    pthread_mutex_unlock(&q->mu);
    lat_add(&w->l, cli_now_ns() - t0);
  }
  return NULL;
}

static result run_sto(const char *path, bool group) {
  queue q;
  memset(&q, 0, sizeof q);
  pthread_mutex_init(&q.mu, NULL);
  pthread_cond_init(&q.work, NULL);
  pthread_cond_init(&q.done, NULL);
  q.group = group;
  char err[600];
  if (sto_project_open(path, STO_OPEN_CREATE, &q.sp, err, sizeof err)) die("open", err);
  writer ws[MAX_WRITERS];
  memset(ws, 0, sizeof ws);
  pthread_t committer;
  pthread_create(&committer, NULL, committer_main, &q);
  uint64_t t0 = cli_now_ns();
  q.end_ns = t0 + (uint64_t) (opt.seconds * 1e9);
  for (int i = 0; i < opt.writers; i++) {
    ws[i].q = &q;
    ws[i].origin = (uint32_t) (2 + i);
    pthread_create(&ws[i].thread, NULL, writer_main, &ws[i]);
  }
  lat all = {0};
  for (int i = 0; i < opt.writers; i++) {
    pthread_join(ws[i].thread, NULL);
    lat_merge(&all, &ws[i].l);
    free(ws[i].l.v);
  }
  result r = {group ? "group" : "single", 0, (cli_now_ns() - t0) / 1e9, 0, 0, 0, 0};
  pthread_mutex_lock(&q.mu);
  q.stop = true;
  pthread_cond_signal(&q.work);
  pthread_mutex_unlock(&q.mu);
  pthread_join(committer, NULL);
  if (sto_project_last_seq(q.sp) != all.n) die("count", "stored ops differ from acknowledged");
  sto_project_close(q.sp);
  finish(&r, &all, q.n_commits);
  return r;
}

/* ---- End to end: the real server and 16 WebSocket clients ------------------------------------ */

typedef struct client_run {
  cli_client *c;
  mdl_id track;
  uint64_t end_ns;
  lat l;
  int failed;
  pthread_t thread;
} client_run;

static void *client_main(void *arg) {
  client_run *k = arg;
  unsigned seed = (unsigned) (k->track & 0xffff);
  while (cli_now_ns() < k->end_ns) {
    uint64_t t0 = cli_now_ns();
    int rc =
        cli_client_set_real(k->c, k->track, MDL_PROP_GAIN, (rand_r(&seed) % 400) / 100.0, NULL);
    if (!rc) rc = cli_client_wait_idle(k->c, WAIT_MS);
    if (rc) {
      k->failed = rc;
      break;
    }
    lat_add(&k->l, cli_now_ns() - t0);
  }
  return NULL;
}

static result run_server(const char *data) {
  char err[1024], project[PROTO_PROJECT_ID_MAX + 1];
  cli_server *srv;
  int rc = cli_server_start(cli_server_bin(BACKLINE_BIN_DEFAULT), data, &srv, err, sizeof err);
  if (rc) die("server", err);
  int port = cli_server_port(srv);
  if (cli_rest_create_project(port, "Bench", project)) die("server", "cannot create a project");
  client_run ks[MAX_WRITERS];
  memset(ks, 0, sizeof ks);
  for (int i = 0; i < opt.writers; i++) {
    char name[32];
    snprintf(name, sizeof name, "w%d", i);
    rc = cli_client_connect(port, project, name, &ks[i].c, err, sizeof err);
    if (rc) die("connect", err);
    if (cli_client_create_track(ks[i].c, name, &ks[i].track, NULL) ||
        cli_client_wait_idle(ks[i].c, WAIT_MS))
      die("connect", "cannot create a track");
  }
  uint64_t t0 = cli_now_ns();
  for (int i = 0; i < opt.writers; i++) {
    ks[i].end_ns = t0 + (uint64_t) (opt.seconds * 1e9);
    pthread_create(&ks[i].thread, NULL, client_main, &ks[i]);
  }
  lat all = {0};
  for (int i = 0; i < opt.writers; i++) {
    pthread_join(ks[i].thread, NULL);
    if (ks[i].failed) die("client", cli_strerror(ks[i].failed));
    lat_merge(&all, &ks[i].l);
    free(ks[i].l.v);
  }
  result r = {"server", 0, (cli_now_ns() - t0) / 1e9, 0, 0, 0, 0};
  for (int i = 0; i < opt.writers; i++)
    cli_client_close(ks[i].c);
  cli_server_stop(srv, SIGTERM, 5000, NULL, NULL);
  finish(&r, &all, 0);
  return r;
}

/* ---- Main --------------------------------------------------------------------------------------
 */

static void parse(int argc, char **argv) {
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
    if (strcmp(a, "--seconds") == 0 && v)
      opt.seconds = atof(v), i++;
    else if (strcmp(a, "--writers") == 0 && v)
      opt.writers = atoi(v), i++;
    else if (strcmp(a, "--dir") == 0 && v)
      snprintf(opt.dir, sizeof opt.dir, "%s", v), i++;
    else if (strcmp(a, "--no-server") == 0)
      opt.server = false;
    else
      die("usage", "bench_append [--seconds S] [--writers N] [--dir DIR] [--no-server]");
  }
  if (opt.writers < 1 || opt.writers > MAX_WRITERS) die("--writers", "1 to 64");
  if (opt.seconds <= 0) die("--seconds", "must be positive");
}

int main(int argc, char **argv) {
  parse(argc, argv);
  char root[600], path[700];
  if (opt.dir[0]) {
    snprintf(root, sizeof root, "%s/bench-append-%d", opt.dir, (int) getpid());
    if (mkdir(root, 0755)) die(root, "cannot create");
  } else if (cli_tempdir("backline-bench-append", root, sizeof root)) {
    die("tempdir", "cannot create");
  }
  struct statfs fs;
  bool tmpfs = statfs(root, &fs) == 0 && fs.f_type == TMPFS_MAGIC;
  printf("bench_append: %d writers, %.1f s per run, files in %s%s\n", opt.writers, opt.seconds,
         root, tmpfs ? " (a tmpfs: fsync costs nothing there, use --dir on a disk)" : "");

  cli_txn t;
  cli_txn_init(&t);
  cli_txn_set_real(&t, MDL_ID_MAKE(2, 1), MDL_PROP_GAIN, 0.5);
  int n = proto_encode_txn(cli_txn_get(&t), payload, sizeof payload);
  if (n <= 0) die("encode", "cannot encode the payload");
  payload_len = (size_t) n;

  result rs[4];
  int nr = 0;
  snprintf(path, sizeof path, "%s/sqlite.db", root);
  rs[nr++] = run_sqlite(path);
  snprintf(path, sizeof path, "%s/single.backline", root);
  rs[nr++] = run_sto(path, false);
  snprintf(path, sizeof path, "%s/group.backline", root);
  rs[nr++] = run_sto(path, true);
  if (opt.server) {
    snprintf(path, sizeof path, "%s/data", root);
    rs[nr++] = run_server(path);
  }
  cli_rmtree(root);

  printf("\n%-8s %10s %12s %10s %10s %12s %10s\n", "run", "ops", "ops/s", "p50 us", "p99 us",
         "ops/commit", "vs sqlite");
  for (int i = 0; i < nr; i++)
    printf("%-8s %10llu %12.0f %10.1f %10.1f %12.1f %9.2fx\n", rs[i].name,
           (unsigned long long) rs[i].ops, rs[i].ops_s, rs[i].p50_us, rs[i].p99_us,
           rs[i].per_commit, rs[0].ops_s > 0 ? rs[i].ops_s / rs[0].ops_s : 0);
  printf("(%s: %d writer%s; server: %d WebSocket clients, closed loop)\n\n", "single/group",
         opt.writers, opt.writers == 1 ? "" : "s", opt.writers);
  for (int i = 0; i < nr; i++) {
    printf("bench: append_%s_ops_per_s %.0f ops/s\n", rs[i].name, rs[i].ops_s);
    printf("bench: append_%s_ack_p50 %.1f us\n", rs[i].name, rs[i].p50_us);
    printf("bench: append_%s_ack_p99 %.1f us\n", rs[i].name, rs[i].p99_us);
    if (i > 0 && rs[0].ops_s > 0)
      printf("bench: append_%s_vs_sqlite %.2f x\n", rs[i].name, rs[i].ops_s / rs[0].ops_s);
  }
  printf("bench: append_group_target_met %d bool\n", rs[2].ops_s >= 20000);
  return 0;
}
