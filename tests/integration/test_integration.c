/* Integration: the real server (a child process) and C clients over loopback.
 *
 * Every test starts `backline` on a free port with a fresh data folder and
 * stops it at the end (teardown also runs when an assertion fails). */
#include "protocol/proto_err.h"
#include "protocol/proto_msg.h"
#include "shared/mdl_err.h"
#include "tools/client/cli_client.h"
#include "tools/client/cli_http.h"
#include "tools/client/cli_server.h"
#include "tools/client/cli_txn.h"

#include <cjson/cJSON.h>
#include <criterion/criterion.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define WAIT_MS 20000 /* generous: the server may run under ASan */

/* What a test observed, on stderr (cr_log_info leaks in Criterion 2.4.1's runner). */
#define note(...) (fprintf(stderr, "[note] " __VA_ARGS__), fputc('\n', stderr))

/* ---- Fixture ---------------------------------------------------------------------- */

static struct {
  char root[512], data[600];
  cli_server *srv;
  int port;
  char project[PROTO_PROJECT_ID_MAX + 1];
  cli_client *clients[8];
  int n_clients;
} fx;

static void fx_start_server(void) {
  char err[1024];
  int rc =
      cli_server_start(cli_server_bin(BACKLINE_BIN_DEFAULT), fx.data, &fx.srv, err, sizeof err);
  cr_assert_eq(rc, 0, "server start: %s (%s)", err, cli_strerror(rc));
  fx.port = cli_server_port(fx.srv);
}

static void setup(void) {
  memset(&fx, 0, sizeof fx);
  cr_assert_eq(cli_tempdir("backline-it", fx.root, sizeof fx.root), 0);
  snprintf(fx.data, sizeof fx.data, "%s/data", fx.root);
  fx_start_server();
  int rc = cli_rest_create_project(fx.port, "Integration", fx.project);
  cr_assert_eq(rc, 0, "create project: %s", cli_strerror(rc));
}

static void teardown(void) {
  for (int i = 0; i < fx.n_clients; i++)
    cli_client_close(fx.clients[i]);
  fx.n_clients = 0;
  cli_server_stop(fx.srv, SIGTERM, 5000, NULL, NULL);
  fx.srv = NULL;
  cli_rmtree(fx.root);
}

static void rest_state(uint64_t *seq, char hash[17]);

/* Connects a client to the fixture's project and waits until it has caught
 * up with the server's seq (the WELCOME snapshot may be older: BROADCASTs
 * follow it); closed by teardown. */
static cli_client *join(const char *name) {
  cli_client *c;
  char err[512];
  int rc = cli_client_connect(fx.port, fx.project, name, &c, err, sizeof err);
  cr_assert_eq(rc, 0, "connect %s: %s (%s)", name, err, cli_strerror(rc));
  cr_assert(fx.n_clients < 8);
  fx.clients[fx.n_clients++] = c;
  uint64_t seq;
  char hash[17];
  rest_state(&seq, hash);
  rc = cli_client_wait_seq(c, seq, WAIT_MS);
  cr_assert_eq(rc, 0, "%s catching up to %llu: %s", name, (unsigned long long) seq,
               cli_strerror(rc));
  return c;
}

static void leave(cli_client *c) {
  for (int i = 0; i < fx.n_clients; i++)
    if (fx.clients[i] == c) {
      fx.clients[i] = fx.clients[--fx.n_clients];
      cli_client_close(c);
      return;
    }
}

static void rest_state(uint64_t *seq, char hash[17]) {
  int rc = cli_rest_state(fx.port, fx.project, seq, hash);
  cr_assert_eq(rc, 0, "GET state: %s", cli_strerror(rc));
}

/* The client has everything up to the server's seq and agrees on the hash. */
static void assert_converged(cli_client *c, const char *who) {
  uint64_t seq, cseq;
  char hash[17], chash[17];
  rest_state(&seq, hash);
  int rc = cli_client_wait_seq(c, seq, WAIT_MS);
  cr_assert_eq(rc, 0, "%s wait_seq %llu: %s", who, (unsigned long long) seq, cli_strerror(rc));
  cli_client_hash_hex(c, chash, &cseq);
  cr_assert_eq(cseq, seq, "%s seq %llu, server %llu", who, (unsigned long long) cseq,
               (unsigned long long) seq);
  cr_assert_str_eq(chash, hash, "%s hash %s, server %s", who, chash, hash);
}

static void assert_clean_stats(cli_client *c, const char *who) {
  cli_stats s = cli_client_stats(c);
  cr_assert_eq(s.out_of_step, 0, "%s out of step: %d", who, s.out_of_step);
  cr_assert_eq(s.n_seq_gaps, 0, "%s saw %llu seq gaps", who, (unsigned long long) s.n_seq_gaps);
  cr_assert_eq(s.n_undecodable, 0, "%s got %llu undecodable messages", who,
               (unsigned long long) s.n_undecodable);
  cr_assert_eq(s.n_unexpected, 0, "%s got %llu unexpected messages", who,
               (unsigned long long) s.n_unexpected);
}

static bool exited_zero(int status) {
  return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

/* ---- Concurrent edits, convergence, restart ------------------------------------------ */

typedef struct editor {
  cli_client *c;
  unsigned seed;
  int n_txns;
  mdl_id shared;         /* a track both editors hammer */
  const mdl_id *victims; /* tracks both edit and one of them deletes */
  int n_victims;
  bool deletes_victims;
  int n_sent, n_local_refused;
} editor;

static double frand(unsigned *seed, double lo, double hi) {
  return lo + (hi - lo) * (rand_r(seed) % 10001) / 10000.0;
}

static void *edit_loop(void *arg) {
  editor *e = arg;
  mdl_project *v = mdl_project_create(&cli_heap, NULL);
  char name[32];
  mdl_id tracks[64];
  for (int i = 0; i < e->n_txns; i++) {
    cr_assert_eq(cli_client_view(e->c, v), 0);
    uint32_t n_tracks = mdl_tracks(v, tracks, 64);
    cli_txn t;
    cli_txn_init(&t);
    int r = rand_r(&e->seed) % 100;
    if (n_tracks < 3 || (r < 12 && n_tracks < 40)) {
      mdl_id id = cli_client_new_id(e->c);
      snprintf(name, sizeof name, "T%u-%d", e->seed % 1000, i);
      cli_txn_create_track(&t, id, name);
      if (r % 2) cli_txn_set_real(&t, id, MDL_PROP_GAIN, frand(&e->seed, 0, 4));
    } else {
      mdl_id id = tracks[rand_r(&e->seed) % n_tracks];
      int pick = rand_r(&e->seed) % 4;
      if (pick == 0 && mdl_type_of(v, e->shared)) id = e->shared;
      if (pick == 1) {
        mdl_id victim = e->victims[rand_r(&e->seed) % e->n_victims];
        if (mdl_type_of(v, victim)) id = victim;
        if (e->deletes_victims && r >= 85 && mdl_type_of(v, victim)) r = 86;
      }
      if (r < 30) {
        cli_txn_set_real(&t, id, MDL_PROP_GAIN, frand(&e->seed, 0, 4));
      } else if (r < 45) {
        cli_txn_set_real(&t, id, MDL_PROP_PAN, frand(&e->seed, -1, 1));
      } else if (r < 55) {
        snprintf(name, sizeof name, "N%d-%u", i, e->seed % 97);
        cli_txn_set_str(&t, id, MDL_PROP_NAME, name);
      } else if (r < 65) {
        cli_txn_set_bool(&t, id, MDL_PROP_MUTE, rand_r(&e->seed) % 2);
      } else if (r < 72) {
        cli_txn_set_bool(&t, id, MDL_PROP_SOLO, rand_r(&e->seed) % 2);
      } else if (r < 85) {
        uint32_t a = rand_r(&e->seed) % (n_tracks + 1);
        mdl_id after = a == n_tracks ? MDL_ID_NONE : tracks[a];
        if (after == id) after = MDL_ID_NONE;
        cli_txn_move(&t, id, after);
      } else if (r < 91 && id != e->shared) {
        cli_txn_delete(&t, id);
      } else {
        cli_txn_set_real(&t, id, MDL_PROP_GAIN, frand(&e->seed, 0, 4));
        cli_txn_set_real(&t, id, MDL_PROP_PAN, frand(&e->seed, -1, 1));
        cli_txn_set_bool(&t, id, MDL_PROP_MUTE, rand_r(&e->seed) % 2);
        cli_txn_set_int(&t, id, MDL_PROP_COLOUR, rand_r(&e->seed) % 0x1000000);
      }
    }
    /* The view may have moved on since it was copied (a rebase): a local
     * refusal is then legitimate, and nothing is sent. */
    if (cli_client_submit(e->c, cli_txn_get(&t), NULL, NULL) == 0)
      e->n_sent++;
    else
      e->n_local_refused++;
  }
  mdl_project_destroy(v);
  return NULL;
}

Test(integration, concurrent_edits_converge_and_survive_restart, .init = setup, .fini = teardown) {
  cli_client *a = join("alice"), *b = join("bob");
  mdl_id shared;
  cr_assert_eq(cli_client_create_track(a, "Shared", &shared, NULL), 0);
  cr_assert_eq(cli_client_wait_idle(a, WAIT_MS), 0);
  assert_converged(b, "bob");

  /* Tracks that alice keeps editing while bob deletes them: alice's edits
   * that the server orders after a delete are rejected and her view rebased. */
  mdl_id victims[8];
  for (int i = 0; i < 8; i++)
    cr_assert_eq(cli_client_create_track(a, "Victim", &victims[i], NULL), 0);
  cr_assert_eq(cli_client_wait_idle(a, WAIT_MS), 0);
  assert_converged(b, "bob");
  uint64_t base_acks = cli_client_stats(a).n_acks;
  uint64_t seq_start;
  char hash_start[17];
  rest_state(&seq_start, hash_start);
  editor ea = {a, 12345, 200, shared, victims, 8, false, 0, 0};
  editor eb = {b, 54321, 200, shared, victims, 8, true, 0, 0};
  pthread_t ta, tb;
  pthread_create(&ta, NULL, edit_loop, &ea);
  pthread_create(&tb, NULL, edit_loop, &eb);
  pthread_join(ta, NULL);
  pthread_join(tb, NULL);
  cr_assert_gt(ea.n_sent, 150, "alice sent only %d (%d refused locally)", ea.n_sent,
               ea.n_local_refused);
  cr_assert_gt(eb.n_sent, 150, "bob sent only %d (%d refused locally)", eb.n_sent,
               eb.n_local_refused);
  cr_assert_eq(cli_client_wait_idle(a, WAIT_MS), 0);
  cr_assert_eq(cli_client_wait_idle(b, WAIT_MS), 0);
  assert_converged(a, "alice");
  assert_converged(b, "bob");
  assert_clean_stats(a, "alice");
  assert_clean_stats(b, "bob");

  /* The random run usually orders some of alice's edits after bob's delete
   * of the same track. If the scheduler kept them apart this time, make
   * that conflict on purpose: bob deletes a track and alice edits it at
   * once, before bob's delete (sent after its group commit) reaches her. */
  for (int k = 0; k < 20 && cli_client_stats(a).n_rejects + cli_client_stats(b).n_rejects == 0;
       k++) {
    mdl_id x;
    cr_assert_eq(cli_client_create_track(b, "Contested", &x, NULL), 0);
    cr_assert_eq(cli_client_wait_idle(b, WAIT_MS), 0);
    cr_assert_eq(cli_client_wait_seq(a, cli_client_stats(b).seq, WAIT_MS), 0);
    cr_assert_eq(cli_client_delete(b, x, NULL), 0);
    cr_assert_eq(cli_client_set_real(a, x, MDL_PROP_GAIN, 0.5, NULL), 0);
    cr_assert_eq(cli_client_wait_idle(a, WAIT_MS), 0);
    cr_assert_eq(cli_client_wait_idle(b, WAIT_MS), 0);
  }
  cr_assert_eq(cli_client_wait_seq(a, cli_client_stats(b).seq, WAIT_MS), 0);
  cr_assert_eq(cli_client_wait_seq(b, cli_client_stats(a).seq, WAIT_MS), 0);
  assert_converged(a, "alice");
  assert_converged(b, "bob");

  /* Every submit was answered once; acks plus the initial create are the seq. */
  cli_stats sa = cli_client_stats(a), sb = cli_client_stats(b);
  cr_assert_eq(sa.n_acks + sa.n_rejects, sa.n_submitted);
  cr_assert_eq(sb.n_acks + sb.n_rejects, sb.n_submitted);
  uint64_t seq0;
  char hash0[17];
  rest_state(&seq0, hash0);
  uint64_t acks = sa.n_acks + sb.n_acks - base_acks; /* minus the set-up creates */
  cr_assert_eq(seq0, seq_start + acks, "server seq %llu, %llu before + %llu acks",
               (unsigned long long) seq0, (unsigned long long) seq_start,
               (unsigned long long) acks);
  cr_assert_gt(sa.n_broadcasts, 0);
  cr_assert_gt(sa.n_rejects + sb.n_rejects, 0, "no conflict happened: the test lost its teeth");
  cr_assert_gt(sb.n_broadcasts, 0);
  /* No pending: the view is the confirmed state. */
  mdl_project *v = mdl_project_create(&cli_heap, NULL), *cf = mdl_project_create(&cli_heap, NULL);
  cr_assert_eq(cli_client_view(a, v), 0);
  cr_assert_eq(cli_client_confirmed(a, cf, NULL), 0);
  cr_assert_eq(mdl_project_hash(v), mdl_project_hash(cf));
  mdl_project_destroy(v);
  mdl_project_destroy(cf);
  note("concurrent: seq %llu, alice %llu acks %llu rejects, bob %llu acks %llu rejects",
       (unsigned long long) seq0, (unsigned long long) sa.n_acks, (unsigned long long) sa.n_rejects,
       (unsigned long long) sb.n_acks, (unsigned long long) sb.n_rejects);

  cli_reject ka, kb;
  if (cli_client_last_reject(a, &ka)) note("alice's last REJECT: %d \"%s\"", ka.code, ka.reason);
  if (cli_client_last_reject(b, &kb)) note("bob's last REJECT: %d \"%s\"", kb.code, kb.reason);

  /* Restart on the same folder: same seq and hash, over REST and to a new client. */
  leave(a);
  leave(b);
  int status = 0;
  cr_assert_eq(cli_server_stop(fx.srv, SIGTERM, 10000, &status, NULL), 0, "SIGTERM ignored");
  fx.srv = NULL;
  cr_assert(exited_zero(status), "server exit status 0x%x", (unsigned) status);
  fx_start_server();
  uint64_t seq1;
  char hash1[17];
  rest_state(&seq1, hash1);
  cr_assert_eq(seq1, seq0, "seq after restart %llu, before %llu", (unsigned long long) seq1,
               (unsigned long long) seq0);
  cr_assert_str_eq(hash1, hash0);
  cli_client *c = join("carol");
  char hc[17];
  uint64_t sc;
  cli_client_hash_hex(c, hc, &sc);
  cr_assert_eq(sc, seq0);
  cr_assert_str_eq(hc, hash0);
}

/* ---- Clean shutdown -------------------------------------------------------------------- */

static void shutdown_with(int sig) {
  cli_client *c = join("watcher");
  int status = 0, ms = 0;
  int rc = cli_server_stop(fx.srv, sig, 5000, &status, &ms);
  fx.srv = NULL;
  cr_assert_eq(rc, 0, "server still running 5 s after signal %d", sig);
  cr_assert(exited_zero(status), "exit status 0x%x after signal %d", (unsigned) status, sig);
  cr_assert_eq(cli_client_wait_closed(c, 5000), 0, "the client was not disconnected");
  note("signal %d: exit 0 after %d ms", sig, ms);
}

Test(integration, sigterm_exits_cleanly, .init = setup, .fini = teardown) {
  shutdown_with(SIGTERM);
}

Test(integration, sigint_exits_cleanly, .init = setup, .fini = teardown) {
  shutdown_with(SIGINT);
}

/* ---- Bad input over the WebSocket ------------------------------------------------------- */

typedef struct bad_ctx {
  cli_client *bad, *obs;
  mdl_id track;
  uint64_t seq0;
  char hash0[17];
  cli_stats obs0;
} bad_ctx;

/* A project with one track, a client that misbehaves and one that watches. */
static void bad_setup(bad_ctx *x) {
  x->bad = join("mallory");
  x->obs = join("watcher");
  cr_assert_eq(cli_client_create_track(x->bad, "Victim", &x->track, NULL), 0);
  cr_assert_eq(cli_client_wait_idle(x->bad, WAIT_MS), 0);
  assert_converged(x->obs, "watcher");
  rest_state(&x->seq0, x->hash0);
  x->obs0 = cli_client_stats(x->obs);
}

/* The server is up, the state is unchanged, and the watcher got nothing for
 * the bad input: a later good edit is the next thing it sees. */
static void bad_check(bad_ctx *x) {
  cr_assert(cli_server_alive(fx.srv), "the server died");
  uint64_t seq;
  char hash[17];
  rest_state(&seq, hash);
  cr_assert_eq(seq, x->seq0, "seq moved: %llu -> %llu", (unsigned long long) x->seq0,
               (unsigned long long) seq);
  cr_assert_str_eq(hash, x->hash0);
  cli_client *fence = join("fence");
  cr_assert_eq(cli_client_set_real(fence, x->track, MDL_PROP_GAIN, 0.25, NULL), 0);
  cr_assert_eq(cli_client_wait_idle(fence, WAIT_MS), 0);
  cr_assert_eq(cli_client_wait_seq(x->obs, x->seq0 + 1, WAIT_MS), 0);
  cli_stats s = cli_client_stats(x->obs);
  cr_assert_eq(s.n_broadcasts, x->obs0.n_broadcasts + 1, "watcher got %llu broadcasts, not 1",
               (unsigned long long) (s.n_broadcasts - x->obs0.n_broadcasts));
  cr_assert_eq(s.n_rejects, x->obs0.n_rejects, "watcher got a REJECT");
  cr_assert_eq(s.closed, false, "watcher was disconnected");
  assert_clean_stats(x->obs, "watcher");
  assert_converged(x->obs, "watcher");
}

/* Sends BYTES raw and expects one REJECT; returns it. */
static cli_reject send_expect_reject(bad_ctx *x, const void *bytes, size_t len) {
  uint64_t n0 = cli_client_stats(x->bad).n_rejects;
  cr_assert_eq(cli_client_send_raw(x->bad, bytes, len), 0);
  int rc = cli_client_wait_rejects(x->bad, n0 + 1, WAIT_MS);
  cli_stats s = cli_client_stats(x->bad);
  cr_assert_eq(rc, 0, "no REJECT (%s; closed %d code %d \"%s\")", cli_strerror(rc), s.closed,
               s.close_code, s.close_reason);
  cli_reject k;
  cr_assert(cli_client_last_reject(x->bad, &k));
  cr_assert_gt(strlen(k.reason), 0, "REJECT %d without a reason", k.code);
  return k;
}

Test(integration, garbage_frame_is_rejected, .init = setup, .fini = teardown) {
  bad_ctx x;
  bad_setup(&x);
  /* A SUBMIT whose body is junk, then pure noise. */
  const uint8_t junk[] = {PROTO_SUBMIT, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f, 0x01};
  cli_reject k = send_expect_reject(&x, junk, sizeof junk);
  cr_assert(k.code <= -301 && k.code >= -399, "code %d is not a proto_err", k.code);
  note("garbage: REJECT local %u code %d \"%s\"", k.local_id, k.code, k.reason);
  bad_check(&x);
}

Test(integration, unknown_message_type_is_rejected, .init = setup, .fini = teardown) {
  bad_ctx x;
  bad_setup(&x);
  const uint8_t msg[] = {0x7f, 1, 2, 3, 4};
  cli_reject k = send_expect_reject(&x, msg, sizeof msg);
  cr_assert_eq(k.code, PROTO_ERR_UNKNOWN_TYPE, "code %d \"%s\"", k.code, k.reason);
  bad_check(&x);
}

Test(integration, oversize_message_is_refused, .init = setup, .fini = teardown) {
  bad_ctx x;
  bad_setup(&x);
  size_t len = 70000;
  uint8_t *big = calloc(1, len);
  big[0] = PROTO_SUBMIT;
  cr_assert_eq(cli_client_send_raw(x.bad, big, len), 0);
  free(big);
  /* Either a REJECT (PROTO_ERR_TOO_BIG) or a close with 1009 is acceptable. */
  uint64_t t0 = cli_now_ns();
  cli_stats s;
  for (;;) {
    s = cli_client_stats(x.bad);
    if (s.n_rejects || s.closed || cli_now_ns() - t0 > 10000000000ull) break;
    usleep(2000);
  }
  cli_reject k;
  if (s.n_rejects) {
    cr_assert(cli_client_last_reject(x.bad, &k));
    cr_assert_eq(k.code, PROTO_ERR_TOO_BIG, "code %d \"%s\"", k.code, k.reason);
    note("oversize: REJECT %d \"%s\"; connection %s", k.code, k.reason,
         s.closed ? "closed" : "kept open");
  } else {
    cr_assert(s.closed, "neither a REJECT nor a close within 10 s");
    cr_assert_eq(s.close_code, 1009, "closed with code %d \"%s\"", s.close_code, s.close_reason);
    note("oversize: closed with %d \"%s\"", s.close_code, s.close_reason);
  }
  bad_check(&x);
}

/* Submits TXN without the replica's checks and expects REJECT with CODE. */
static void expect_model_reject(bad_ctx *x, const mdl_txn *txn, int code) {
  uint32_t lid;
  uint64_t n0 = cli_client_stats(x->bad).n_rejects;
  cr_assert_eq(cli_client_submit_unchecked(x->bad, txn, &lid), 0);
  cr_assert_eq(cli_client_wait_rejects(x->bad, n0 + 1, WAIT_MS), 0, "no REJECT");
  cli_reject k;
  cr_assert(cli_client_find_reject(x->bad, lid, &k), "no REJECT carries local id %u", lid);
  cr_assert_eq(k.code, code, "code %d (%s), wanted %d; reason \"%s\"", k.code,
               proto_strerror(k.code), code, k.reason);
  cr_assert_gt(strlen(k.reason), 0);
  note("REJECT %d \"%s\"", k.code, k.reason);
  cr_assert_eq(cli_client_stats(x->bad).out_of_step, 0);
}

Test(integration, op_on_missing_object_is_rejected, .init = setup, .fini = teardown) {
  bad_ctx x;
  bad_setup(&x);
  cli_txn t;
  cli_txn_init(&t);
  cli_txn_set_real(&t, MDL_ID_MAKE(cli_client_stats(x.bad).client_id, 999999), MDL_PROP_GAIN, 1);
  expect_model_reject(&x, cli_txn_get(&t), MDL_ERR_NOT_FOUND);
  bad_check(&x);
}

Test(integration, value_out_of_range_is_rejected, .init = setup, .fini = teardown) {
  bad_ctx x;
  bad_setup(&x);
  cli_txn t;
  cli_txn_init(&t);
  cli_txn_set_real(&t, x.track, MDL_PROP_GAIN, 7.0);
  expect_model_reject(&x, cli_txn_get(&t), MDL_ERR_RANGE);
  bad_check(&x);
}

Test(integration, create_outside_id_space_is_rejected, .init = setup, .fini = teardown) {
  bad_ctx x;
  bad_setup(&x);
  cli_txn t;
  cli_txn_init(&t);
  cli_txn_create_track(&t, MDL_ID_MAKE(cli_client_stats(x.bad).client_id + 77, 1), "Forged");
  expect_model_reject(&x, cli_txn_get(&t), MDL_ERR_ID_SPACE);
  bad_check(&x);
}

/* ---- Bad input over REST ------------------------------------------------------------------ */

/* The body is {"code": N, "reason": "..."}; returns the code. */
static int error_body(const char *body) {
  cJSON *j = cJSON_Parse(body);
  cr_assert(j, "error body is not JSON: %s", body);
  const cJSON *code = cJSON_GetObjectItemCaseSensitive(j, "code");
  const cJSON *reason = cJSON_GetObjectItemCaseSensitive(j, "reason");
  cr_assert(cJSON_IsNumber(code), "no numeric code in %s", body);
  cr_assert(cJSON_IsString(reason) && reason->valuestring[0], "no reason in %s", body);
  int n = code->valueint;
  cJSON_Delete(j);
  return n;
}

static void rest_unchanged(uint64_t seq0, const char *hash0) {
  uint64_t seq;
  char hash[17];
  cr_assert(cli_server_alive(fx.srv), "the server died");
  rest_state(&seq, hash);
  cr_assert_eq(seq, seq0);
  cr_assert_str_eq(hash, hash0);
}

Test(integration, rest_invalid_json_is_400, .init = setup, .fini = teardown) {
  uint64_t seq0;
  char hash0[17], *resp;
  int status;
  rest_state(&seq0, hash0);
  cr_assert_eq(cli_rest_ops(fx.port, fx.project, "{\"ops\": [ {\"op\": ", &status, NULL, &resp), 0);
  cr_assert_eq(status, 400, "status %d: %s", status, resp);
  cr_assert_eq(error_body(resp), PROTO_ERR_BAD_JSON, "body %s", resp);
  free(resp);
  rest_unchanged(seq0, hash0);
}

Test(integration, rest_out_of_range_is_4xx, .init = setup, .fini = teardown) {
  uint64_t seq0;
  char hash0[17], *resp;
  int status;
  rest_state(&seq0, hash0);
  const char *json =
      "{\"ops\":[{\"op\":\"set\",\"id\":\"project\",\"prop\":\"tempo\",\"value\":5000}]}";
  cr_assert_eq(cli_rest_ops(fx.port, fx.project, json, &status, NULL, &resp), 0);
  cr_assert(status >= 400 && status < 500, "status %d: %s", status, resp);
  cr_assert_eq(error_body(resp), MDL_ERR_RANGE, "body %s", resp);
  note("REST out of range: %d %s", status, resp);
  free(resp);
  rest_unchanged(seq0, hash0);
}

Test(integration, rest_unknown_project_is_404, .init = setup, .fini = teardown) {
  int status;
  char *resp;
  cr_assert_eq(
      cli_http(fx.port, "GET", "/api/projects/no-such-project/state", NULL, &status, &resp), 0);
  cr_assert_eq(status, 404, "GET state: %d %s", status, resp);
  free(resp);
  const char *json = "{\"ops\":[{\"op\":\"create\",\"type\":\"track\"}]}";
  cr_assert_eq(cli_rest_ops(fx.port, "no-such-project", json, &status, NULL, &resp), 0);
  cr_assert_eq(status, 404, "POST ops: %d %s", status, resp);
  free(resp);
}

Test(integration, rest_oversize_body_is_413, .init = setup, .fini = teardown) {
  uint64_t seq0;
  char hash0[17], path[256];
  rest_state(&seq0, hash0);
  size_t len = 2u << 20;
  char *body = malloc(len);
  memset(body, ' ', len);
  body[0] = '{';
  body[len - 1] = '}';
  snprintf(path, sizeof path, "/api/projects/%s/ops", fx.project);
  int status;
  char *resp;
  int rc = cli_http_ex(fx.port, "POST", path, body, len, 10000, &status, &resp, NULL);
  free(body);
  cr_assert_eq(rc, 0, "request failed: %s", cli_strerror(rc));
  cr_assert_eq(status, 413, "status %d: %s", status, resp);
  free(resp);
  cr_assert_eq(cli_http(fx.port, "GET", "/api/health", NULL, &status, NULL), 0);
  cr_assert_eq(status, 200);
  rest_unchanged(seq0, hash0);
}

/* ---- REST edits reach WebSocket clients ---------------------------------------------------- */

Test(integration, rest_edit_is_broadcast_to_ws_client, .init = setup, .fini = teardown) {
  cli_client *c = join("listener");
  uint64_t b0 = cli_client_stats(c).n_broadcasts;
  int status;
  uint64_t seq;
  char *resp;
  const char *json =
      "{\"ops\":[{\"op\":\"create\",\"type\":\"track\",\"props\":{\"name\":\"FromRest\","
      "\"gain\":0.5}},{\"op\":\"set\",\"id\":\"project\",\"prop\":\"tempo\",\"value\":97}]}";
  cr_assert_eq(cli_rest_ops(fx.port, fx.project, json, &status, &seq, &resp), 0);
  cr_assert_eq(status, 200, "status %d: %s", status, resp);
  cJSON *j = cJSON_Parse(resp);
  cr_assert(cJSON_IsArray(cJSON_GetObjectItemCaseSensitive(j, "ids")), "no ids in %s", resp);
  cJSON_Delete(j);
  free(resp);
  cr_assert_gt(seq, 0);
  cr_assert_eq(cli_client_wait_seq(c, seq, WAIT_MS), 0);
  cr_assert_eq(cli_client_stats(c).n_broadcasts, b0 + 1);
  assert_converged(c, "listener");
  assert_clean_stats(c, "listener");
  mdl_project *p = mdl_project_create(&cli_heap, NULL);
  cr_assert_eq(cli_client_confirmed(c, p, NULL), 0);
  mdl_id t;
  cr_assert_eq(mdl_tracks(p, &t, 1), 1);
  cr_assert_str_eq(mdl_get_str(p, t, MDL_PROP_NAME, NULL), "FromRest");
  cr_assert_eq(mdl_get_real(p, t, MDL_PROP_GAIN), 0.5);
  cr_assert_eq(mdl_get_real(p, MDL_ID_PROJECT, MDL_PROP_TEMPO), 97.0);
  mdl_project_destroy(p);
}
