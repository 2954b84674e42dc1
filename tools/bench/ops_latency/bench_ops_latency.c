/* bench_ops_latency: how long an edit takes to be acknowledged, and to reach
 * another client, through the real server over loopback.
 *
 * Starts build/backline (or $BACKLINE_BIN) on a fresh data folder and runs:
 *   echo  the reference: a raw WebSocket round trip to a minimal
 *         libwebsockets echo server started in this process, same client
 *         code (cli_client raw mode), same message size as a one-op SUBMIT;
 *   1c    one client edits, one observer watches;
 *   Nc    N clients (default 16) edit at once, one observer watches.
 * Every client is closed-loop: it submits one transaction (a set of gain on
 * its own track), waits for the ACK and, in 1c, for the observer to see it,
 * then submits the next. Latencies: submit->ACK at the submitter, and
 * submit->BROADCAST arrival at the observer, both stamped on arrival in the
 * clients' service threads (CLOCK_MONOTONIC). Figures are printed as a table
 * and as `bench: NAME VALUE UNIT` lines, with ours/echo ratios of the p50s.
 *
 * Usage: bench_ops_latency [--ops N] [--clients K] [--ops-per-client M]
 *        (defaults 2000, 16, 500). */
#include "protocol/proto_msg.h"
#include "tools/client/cli_client.h"
#include "tools/client/cli_http.h"
#include "tools/client/cli_server.h"
#include "tools/client/cli_txn.h"

#include <libwebsockets.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#define WAIT_MS      10000
#define MAX_CLIENTS  32
#define SUBMIT_BYTES 26 /* a one-op SUBMIT setting a real: 1+4+2 + 1+8+1 + 1+8 */

static void die(const char *what, int rc) {
  fprintf(stderr, "bench_ops_latency: %s: %s\n", what, cli_strerror(rc));
  exit(1);
}

/* ---- Statistics ------------------------------------------------------------------------ */

typedef struct summary {
  size_t n;
  double p50, p99, max; /* microseconds */
} summary;

static int cmp_u64(const void *a, const void *b) {
  uint64_t x = *(const uint64_t *) a, y = *(const uint64_t *) b;
  return x < y ? -1 : x > y;
}

/* Sorts V (nanoseconds) and summarises it. */
static summary summarise(uint64_t *v, size_t n) {
  summary s = {n, 0, 0, 0};
  if (!n) return s;
  qsort(v, n, sizeof *v, cmp_u64);
  s.p50 = v[(n - 1) / 2] / 1e3;
  s.p99 = v[(size_t) ((n - 1) * 0.99)] / 1e3;
  s.max = v[n - 1] / 1e3;
  return s;
}

/* ---- The reference: a minimal libwebsockets echo server ---------------------------------- */

typedef struct echo_session {
  unsigned char buf[LWS_PRE + 4096];
  size_t len;
  bool full;
} echo_session;

static int echo_cb(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
                   size_t len) {
  echo_session *s = user;
  switch (reason) {
    case LWS_CALLBACK_RECEIVE:
      if (len > sizeof s->buf - LWS_PRE || s->full) return -1; /* one message in flight */
      memcpy(s->buf + LWS_PRE, in, len);
      s->len = len;
      s->full = true;
      lws_callback_on_writable(wsi);
      break;
    case LWS_CALLBACK_SERVER_WRITEABLE:
      if (!s->full) break;
      s->full = false;
      if (lws_write(wsi, s->buf + LWS_PRE, s->len, LWS_WRITE_BINARY) < (int) s->len) return -1;
      break;
    default:
      break;
  }
  return 0;
}

static const struct lws_protocols echo_protocols[] = {
    {"echo", echo_cb, sizeof(echo_session), 4096, 0, NULL, 0},
    {NULL, NULL, 0, 0, 0, NULL, 0},
};

typedef struct echo_server {
  struct lws_context *ctx;
  pthread_t thread;
  atomic_bool stop;
  int port;
} echo_server;

static void *echo_service(void *arg) {
  echo_server *e = arg;
  while (!atomic_load(&e->stop))
    if (lws_service(e->ctx, 0) < 0) break;
  return NULL;
}

static void echo_start(echo_server *e) {
  struct lws_context_creation_info info;
  memset(&info, 0, sizeof info);
  info.port = 0; /* any free port; read back below */
  info.iface = "127.0.0.1";
  info.protocols = echo_protocols;
  info.gid = -1;
  info.uid = -1;
  info.fd_limit_per_thread = 64;
  e->ctx = lws_create_context(&info);
  if (!e->ctx) die("echo server", CLI_ERR_SPAWN);
  e->port = lws_get_vhost_listen_port(lws_get_vhost_by_name(e->ctx, "default"));
  if (e->port <= 0) die("echo server port", CLI_ERR_SPAWN);
  pthread_create(&e->thread, NULL, echo_service, e);
}

static void echo_stop(echo_server *e) {
  atomic_store(&e->stop, true);
  lws_cancel_service(e->ctx);
  pthread_join(e->thread, NULL);
  lws_context_destroy(e->ctx);
}

typedef struct echo_probe {
  uint64_t t_back; /* written by the client's service thread */
} echo_probe;

static void echo_on_message(void *ud, cli_client *c, const void *data, size_t len, uint64_t t) {
  (void) c, (void) data, (void) len;
  ((echo_probe *) ud)->t_back = t;
}

static summary run_echo(int n, uint64_t *lat) {
  echo_server e;
  memset(&e, 0, sizeof e);
  echo_start(&e);
  echo_probe probe = {0};
  cli_config cfg = cli_config_default();
  cfg.port = e.port;
  cfg.subprotocol = "echo";
  cfg.raw = true;
  cfg.events.ud = &probe;
  cfg.events.on_message = echo_on_message;
  cli_client *c;
  char err[256];
  int rc = cli_client_connect_cfg(&cfg, &c, err, sizeof err);
  if (rc) die(err, rc);
  uint8_t msg[SUBMIT_BYTES];
  memset(msg, 0xab, sizeof msg);
  for (int i = 0; i < n + n / 10; i++) { /* the first tenth warms up */
    uint64_t t0 = cli_now_ns();
    if ((rc = cli_client_send_raw(c, msg, sizeof msg))) die("echo send", rc);
    if ((rc = cli_client_wait_messages(c, (uint64_t) i + 1, WAIT_MS))) die("echo wait", rc);
    if (i >= n / 10) lat[i - n / 10] = probe.t_back - t0;
  }
  cli_client_close(c);
  echo_stop(&e);
  return summarise(lat, (size_t) n);
}

/* ---- Backline clients ------------------------------------------------------------------- */

typedef struct editor {
  cli_client *c;
  mdl_id track;
  int n_ops;
  uint64_t *t_submit, *t_ack, *seq_of; /* indexed by local id (1-based) */
  pthread_t thread;
} editor;

typedef struct observer {
  cli_client *c;
  uint64_t base; /* seq before the run */
  size_t cap;
  uint64_t *t_seen; /* indexed by seq - base */
} observer;

static void on_ack(void *ud, cli_client *c, uint32_t local_id, uint64_t seq, uint64_t t) {
  (void) c;
  editor *e = ud;
  if (local_id >= 1 && local_id <= (uint32_t) e->n_ops + 8) {
    e->t_ack[local_id] = t;
    e->seq_of[local_id] = seq;
  }
}

static void on_broadcast(void *ud, cli_client *c, uint64_t seq, uint32_t origin, uint64_t t) {
  (void) c, (void) origin;
  observer *o = ud;
  if (seq > o->base && seq - o->base < o->cap) o->t_seen[seq - o->base] = t;
}

static cli_client *connect_with(int port, const char *project, const char *name, void *ud,
                                bool is_observer) {
  cli_config cfg = cli_config_default();
  cfg.port = port;
  cfg.project = project;
  cfg.user = name;
  cfg.events.ud = ud;
  if (is_observer)
    cfg.events.on_broadcast = on_broadcast;
  else
    cfg.events.on_ack = on_ack;
  cli_client *c;
  char err[512];
  int rc = cli_client_connect_cfg(&cfg, &c, err, sizeof err);
  if (rc) die(err, rc);
  return c;
}

static void editor_alloc(editor *e, int n_ops) {
  e->n_ops = n_ops;
  size_t n = (size_t) n_ops + 9;
  e->t_submit = calloc(n, sizeof(uint64_t));
  e->t_ack = calloc(n, sizeof(uint64_t));
  e->seq_of = calloc(n, sizeof(uint64_t));
  if (!e->t_submit || !e->t_ack || !e->seq_of) die("alloc", CLI_ERR_NOMEM);
}

static void editor_free(editor *e) {
  free(e->t_submit);
  free(e->t_ack);
  free(e->seq_of);
}

/* One closed-loop edit: submit, then wait for the ack. */
static void edit_once(editor *e, int i) {
  cli_txn t;
  cli_txn_init(&t);
  cli_txn_set_real(&t, e->track, MDL_PROP_GAIN, 0.5 + (i % 100) / 100.0);
  uint32_t lid;
  uint64_t t0 = cli_now_ns();
  int rc = cli_client_submit(e->c, cli_txn_get(&t), &lid, NULL);
  if (rc) die("submit", rc);
  if (lid <= (uint32_t) e->n_ops + 8) e->t_submit[lid] = t0;
  if ((rc = cli_client_wait_idle(e->c, WAIT_MS))) die("wait for ack", rc);
}

static void *editor_loop(void *arg) {
  editor *e = arg;
  for (int i = 0; i < e->n_ops; i++)
    edit_once(e, i);
  return NULL;
}

typedef struct result {
  summary ack, seen;
  double seconds;
  size_t n_ops; /* including the warm-up */
} result;

/* Collects the latencies of E[0..n) (the warm-up, local ids 1..warm, skipped). */
static result collect(editor *es, int n, observer *o, int warm, double seconds) {
  /* cap counts every op run, warm-up included (for the throughput). */
  size_t cap = 0;
  for (int k = 0; k < n; k++)
    cap += (size_t) es[k].n_ops;
  uint64_t *ack = malloc(cap * sizeof *ack), *seen = malloc(cap * sizeof *seen);
  size_t na = 0, ns = 0, missing = 0;
  for (int k = 0; k < n; k++) {
    for (uint32_t lid = (uint32_t) warm + 1; lid <= (uint32_t) es[k].n_ops; lid++) {
      editor *e = &es[k];
      if (!e->t_ack[lid] || !e->t_submit[lid]) {
        missing++;
        continue;
      }
      ack[na++] = e->t_ack[lid] - e->t_submit[lid];
      uint64_t seq = e->seq_of[lid];
      if (seq > o->base && seq - o->base < o->cap && o->t_seen[seq - o->base])
        seen[ns++] = o->t_seen[seq - o->base] - e->t_submit[lid];
      else
        missing++;
    }
  }
  if (missing) fprintf(stderr, "bench_ops_latency: %zu samples missing\n", missing);
  result r = {summarise(ack, na), summarise(seen, ns), seconds, cap};
  free(ack);
  free(seen);
  return r;
}

static result run_clients(int port, const char *project, int n_clients, int ops_per_client,
                          const mdl_id *tracks) {
  editor es[MAX_CLIENTS];
  observer o = {0};
  memset(es, 0, sizeof es);
  int warm = ops_per_client / 10;
  for (int k = 0; k < n_clients; k++) {
    char name[32];
    snprintf(name, sizeof name, "editor%d", k);
    editor_alloc(&es[k], ops_per_client + warm);
    es[k].track = tracks[k];
    es[k].c = connect_with(port, project, name, &es[k], false);
  }
  o.c = connect_with(port, project, "observer", &o, true);
  uint64_t seq0;
  char hash[17];
  int rc = cli_rest_state(port, project, &seq0, hash);
  if (rc) die("state", rc);
  for (int k = 0; k < n_clients; k++)
    if ((rc = cli_client_wait_seq(es[k].c, seq0, WAIT_MS))) die("catch up", rc);
  if ((rc = cli_client_wait_seq(o.c, seq0, WAIT_MS))) die("catch up", rc);
  o.base = seq0;
  o.cap = (size_t) n_clients * (size_t) (ops_per_client + warm) + 16;
  o.t_seen = calloc(o.cap, sizeof(uint64_t));

  uint64_t t0 = cli_now_ns();
  if (n_clients == 1) {
    /* Strictly one edit in flight: the next waits until the observer saw it. */
    for (int i = 0; i < es[0].n_ops; i++) {
      edit_once(&es[0], i);
      if ((rc = cli_client_wait_seq(o.c, cli_client_stats(es[0].c).seq, WAIT_MS)))
        die("observer", rc);
    }
  } else {
    for (int k = 0; k < n_clients; k++)
      pthread_create(&es[k].thread, NULL, editor_loop, &es[k]);
    for (int k = 0; k < n_clients; k++)
      pthread_join(es[k].thread, NULL);
  }
  double seconds = (cli_now_ns() - t0) / 1e9;
  if ((rc = cli_rest_state(port, project, &seq0, hash))) die("state", rc);
  if ((rc = cli_client_wait_seq(o.c, seq0, WAIT_MS))) die("observer catch up", rc);
  result r = collect(es, n_clients, &o, warm, seconds);
  for (int k = 0; k < n_clients; k++) {
    cli_stats s = cli_client_stats(es[k].c);
    if (s.n_rejects || s.out_of_step || s.n_seq_gaps)
      fprintf(stderr, "bench_ops_latency: editor%d: %llu rejects, out of step %d, %llu gaps\n", k,
              (unsigned long long) s.n_rejects, s.out_of_step, (unsigned long long) s.n_seq_gaps);
    cli_client_close(es[k].c);
    editor_free(&es[k]);
  }
  cli_client_close(o.c);
  free(o.t_seen);
  return r;
}

/* ---- Main ---------------------------------------------------------------------------------- */

static void row(const char *name, const summary *s, double ref_p50) {
  printf("  %-28s %7zu %10.1f %10.1f %10.1f", name, s->n, s->p50, s->p99, s->max);
  if (ref_p50 > 0)
    printf(" %9.1fx\n", s->p50 / ref_p50);
  else
    printf(" %10s\n", "-");
}

static void line(const char *name, double v, const char *unit) {
  printf("bench: ops_latency_%s %.1f %s\n", name, v, unit);
}

static void lines(const char *prefix, const summary *s) {
  char n[64];
  snprintf(n, sizeof n, "%s_p50", prefix), line(n, s->p50, "us");
  snprintf(n, sizeof n, "%s_p99", prefix), line(n, s->p99, "us");
  snprintf(n, sizeof n, "%s_max", prefix), line(n, s->max, "us");
}

int main(int argc, char **argv) {
  int ops = 2000, n_clients = 16, ops_per_client = 500;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (strcmp(argv[i], "--ops") == 0)
      ops = atoi(argv[i + 1]);
    else if (strcmp(argv[i], "--clients") == 0)
      n_clients = atoi(argv[i + 1]);
    else if (strcmp(argv[i], "--ops-per-client") == 0)
      ops_per_client = atoi(argv[i + 1]);
  }
  if (ops < 10 || n_clients < 2 || n_clients > MAX_CLIENTS || ops_per_client < 10) {
    fprintf(stderr,
            "usage: bench_ops_latency [--ops N>=10] [--clients 2..%d] "
            "[--ops-per-client M>=10]\n",
            MAX_CLIENTS);
    return 2;
  }
  signal(SIGPIPE, SIG_IGN);
  lws_set_log_level(LLL_ERR, NULL);

  uint64_t *echo_lat = malloc((size_t) ops * sizeof *echo_lat);
  summary echo = run_echo(ops, echo_lat);
  free(echo_lat);

  char root[512], data[600], err[1024], project[PROTO_PROJECT_ID_MAX + 1];
  int rc = cli_tempdir("backline-bench", root, sizeof root);
  if (rc) die("tempdir", rc);
  snprintf(data, sizeof data, "%s/data", root);
  cli_server *srv;
  const char *bin = cli_server_bin(BACKLINE_BIN_DEFAULT);
  if ((rc = cli_server_start(bin, data, &srv, err, sizeof err))) die(err, rc);
  int port = cli_server_port(srv);
  if ((rc = cli_rest_create_project(port, "Bench", project))) die("create project", rc);

  /* One track per editor, made by a set-up client. */
  mdl_id tracks[MAX_CLIENTS];
  cli_client *setup;
  if ((rc = cli_client_connect(port, project, "setup", &setup, err, sizeof err))) die(err, rc);
  for (int k = 0; k < n_clients; k++) {
    char name[16];
    snprintf(name, sizeof name, "Track %d", k);
    if ((rc = cli_client_create_track(setup, name, &tracks[k], NULL))) die("create track", rc);
  }
  if ((rc = cli_client_wait_idle(setup, WAIT_MS))) die("set-up", rc);
  cli_client_close(setup);

  result one = run_clients(port, project, 1, ops, tracks);
  result many = run_clients(port, project, n_clients, ops_per_client, tracks);
  int status = 0;
  cli_server_stop(srv, SIGTERM, 5000, &status, NULL);
  cli_rmtree(root);

  char nc[32];
  snprintf(nc, sizeof nc, "%dc", n_clients);
  printf("\nops_latency: closed loop over loopback, server %s\n", bin);
  printf("  echo: raw WebSocket round trip (%d-byte message) to an in-process lws echo server\n",
         SUBMIT_BYTES);
  printf("  1c: 1 editor + 1 observer, %d ops, one in flight (next after the observer saw it)\n",
         ops);
  printf("  %s: %d editors each waiting for its ack, %d ops each, + 1 observer (%.0f ops/s)\n\n",
         nc, n_clients, ops_per_client, (double) many.n_ops / many.seconds);
  printf("  %-28s %7s %10s %10s %10s %10s\n", "measure (us)", "n", "p50", "p99", "max", "p50/echo");
  row("echo round trip", &echo, 0);
  row("1c submit->ack", &one.ack, echo.p50);
  row("1c submit->seen by other", &one.seen, echo.p50);
  char name[64];
  snprintf(name, sizeof name, "%s submit->ack", nc);
  row(name, &many.ack, echo.p50);
  snprintf(name, sizeof name, "%s submit->seen by other", nc);
  row(name, &many.seen, echo.p50);
  printf("\n");
  lines("echo", &echo);
  lines("1c_ack", &one.ack);
  lines("1c_seen", &one.seen);
  char p[64];
  snprintf(p, sizeof p, "%s_ack", nc), lines(p, &many.ack);
  snprintf(p, sizeof p, "%s_seen", nc), lines(p, &many.seen);
  snprintf(p, sizeof p, "%s_throughput", nc), line(p, (double) many.n_ops / many.seconds, "ops/s");
  line("1c_ack_p50_vs_echo", one.ack.p50 / echo.p50, "x");
  line("1c_seen_p50_vs_echo", one.seen.p50 / echo.p50, "x");
  snprintf(p, sizeof p, "%s_ack_p50_vs_echo", nc), line(p, many.ack.p50 / echo.p50, "x");
  snprintf(p, sizeof p, "%s_seen_p50_vs_echo", nc), line(p, many.seen.p50 / echo.p50, "x");
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
    fprintf(stderr, "bench_ops_latency: server exit status 0x%x\n", (unsigned) status);
  return 0;
}
