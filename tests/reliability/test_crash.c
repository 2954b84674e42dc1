/* Crash test: SIGKILL under load, at least 50 times, on one data folder.
 *
 * Each cycle: the server runs on the same data folder; four WebSocket
 * clients (up to 8 transactions in flight each) and one REST writer edit one
 * project; after a random 20-200 ms of load the server gets SIGKILL. Then,
 * before anything reopens the file:
 *   - PRAGMA integrity_check on the project file (read-only) says ok;
 *   - a copy of the file (database + WAL) is replayed: every transaction
 *     ever acknowledged, in any cycle, is at its seq byte for byte, the log
 *     has no gap and replays, and every client's last confirmed state (ACKs
 *     and BROADCASTs it had) is no further than the log and hashes the same
 *     as the replay at that seq;
 * and after the restart the server's state (REST) is exactly the replay's
 * end: same seq (>= the highest acknowledged) and same hash. Transactions
 * that were stored but not acknowledged may or may not be there.
 *
 * The seed is printed; BACKLINE_CRASH_SEED=N repeats a run and
 * BACKLINE_CRASH_CYCLES=N changes the number of cycles. */
#include "tests/reliability/rel_util.h"
#include "tools/client/cli_client.h"
#include "tools/crash/crash_check.h"
#include "tools/crash/crash_load.h"

#include <criterion/criterion.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define N_CLIENTS   4
#define MIN_LOAD_MS 20
#define MAX_LOAD_MS 200

static rel_fixture fx;

static void teardown(void) {
  rel_deinit(&fx);
}

static unsigned env_uint(const char *name, unsigned fallback) {
  const char *s = getenv(name);
  return s && *s ? (unsigned) strtoul(s, NULL, 10) : fallback;
}

static void sleep_ms(int ms) {
  struct timespec ts = {ms / 1000, (long) (ms % 1000) * 1000000L};
  nanosleep(&ts, NULL);
}

Test(reliability, acknowledged_edits_survive_sigkill, .fini = teardown) {
  unsigned seed = env_uint("BACKLINE_CRASH_SEED", (unsigned) time(NULL) ^ (unsigned) getpid());
  unsigned cycles = env_uint("BACKLINE_CRASH_CYCLES", 50);
  rel_note("crash test: seed %u, %u cycles (BACKLINE_CRASH_SEED=%u repeats it)", seed, cycles,
           seed);
  uint64_t t_start = cli_now_ns();
  rel_init(&fx, "backline-crash");
  rel_start(&fx);
  rel_create_project(&fx, "Crash");
  char copy[700];
  snprintf(copy, sizeof copy, "%s/copy.backline", fx.root);

  crash_ledger ledger;
  crash_ledger_init(&ledger);
  crash_client_end ends[N_CLIENTS];
  crash_verdict v = {0};
  crash_verifier *verifier = crash_verifier_create();
  cr_assert(verifier);
  uint64_t n_ends_checked = 0, n_verifications = 0, last_n_acks = 0, kill_ms_total = 0,
           max_acks_cycle = 0, min_acks_cycle = UINT64_MAX;
  unsigned rng = seed;
  char err[1024];
  for (unsigned cycle = 0; cycle < cycles; cycle++) {
    crash_load_config cfg = crash_load_config_default();
    cfg.port = fx.port;
    snprintf(cfg.project, sizeof cfg.project, "%s", fx.project);
    cfg.n_clients = N_CLIENTS;
    cfg.rest = true;
    cfg.max_pending = 8;
    cfg.seed = seed + cycle;
    crash_load *load;
    int rc = crash_load_start(&cfg, &ledger, &load, err, sizeof err);
    cr_assert_eq(rc, 0, "cycle %u: load: %s (%s)", cycle, err, cli_strerror(rc));
    int load_ms = MIN_LOAD_MS + (int) (rand_r(&rng) % (MAX_LOAD_MS - MIN_LOAD_MS + 1));
    kill_ms_total += (uint64_t) load_ms;
    sleep_ms(load_ms);
    rel_stop(&fx, SIGKILL);
    crash_load_stop(load, REL_WAIT_MS, ends); /* every ACK that reached a client is ledgered */

    /* The file as the kill left it, before anyone reopens it. */
    cr_assert_eq(crash_integrity(fx.path, err, sizeof err), 0, "cycle %u: integrity_check: %s",
                 cycle, err);
    crash_ledger_sort(&ledger);
    cr_assert_eq(crash_copy(fx.path, copy, err, sizeof err), 0, "cycle %u: %s", cycle, err);
    rc = crash_verifier_check(verifier, copy, &ledger, ends, N_CLIENTS, &v, err, sizeof err);
    cr_assert_eq(rc, 0, "cycle %u (seed %u, load %d ms): %s", cycle, seed, load_ms, err);
    cr_assert_geq(v.last_seq, ledger.max_seq);
    n_ends_checked += v.n_ends_seen;
    n_verifications += v.n_verified;
    for (int i = 0; i < N_CLIENTS; i++)
      cr_assert(!ends[i].out_of_step, "cycle %u: client %u out of step", cycle, ends[i].client_id);

    /* Restart on the same folder: the server must come back to the replay's end. */
    rel_start(&fx);
    uint64_t seq, hash;
    rel_state(&fx, &seq, &hash);
    cr_assert_eq(seq, v.last_seq, "cycle %u: server at seq %llu, the log ends at %llu", cycle,
                 (unsigned long long) seq, (unsigned long long) v.last_seq);
    cr_assert_eq(hash, v.hash, "cycle %u: server hash %016llx, replay %016llx", cycle,
                 (unsigned long long) hash, (unsigned long long) v.hash);
    uint64_t in_cycle = ledger.n_acks - last_n_acks;
    last_n_acks = ledger.n_acks;
    if (in_cycle > max_acks_cycle) max_acks_cycle = in_cycle;
    if (in_cycle < min_acks_cycle) min_acks_cycle = in_cycle;
  }
  double secs = (double) (cli_now_ns() - t_start) / 1e9;
  rel_note("crash test: %u cycles in %.1f s (%.1f s of load before the kills); %zu "
           "acknowledged transactions (%llu..%llu per cycle); after the last kill %llu found "
           "stored byte for byte and %llu compacted into snapshots after an earlier check; "
           "%llu ack checks over all cycles; log rows %llu..%llu; %llu client end states hashed; "
           "%llu rejects, %llu local refusals, %llu REST errors (kills); seed %u",
           cycles, secs, kill_ms_total / 1000.0, ledger.n_acks, (unsigned long long) min_acks_cycle,
           (unsigned long long) max_acks_cycle, (unsigned long long) v.n_verified,
           (unsigned long long) v.n_compacted, (unsigned long long) n_verifications,
           (unsigned long long) v.first_seq, (unsigned long long) v.last_seq,
           (unsigned long long) n_ends_checked, (unsigned long long) ledger.n_rejects,
           (unsigned long long) ledger.n_local_refused, (unsigned long long) ledger.n_rest_errors,
           seed);
  cr_assert_eq(v.n_verified + v.n_compacted, ledger.n_acks);
  cr_assert_gt(ledger.n_acks, (uint64_t) cycles, "too little load to prove anything");

  /* The checks have teeth: a lost acknowledged row, and a changed one, are caught. */
  const char *mutations[] = {"DELETE FROM ops WHERE seq = %llu",
                             "UPDATE ops SET txn = zeroblob(length(txn)) WHERE seq = %llu"};
  for (int i = 0; i < 2; i++) {
    cr_assert_eq(crash_copy(fx.path, copy, err, sizeof err), 0, "%s", err);
    char sql[128];
    snprintf(sql, sizeof sql, mutations[i], (unsigned long long) ledger.max_seq);
    sqlite3 *db;
    cr_assert_eq(sqlite3_open(copy, &db), SQLITE_OK);
    cr_assert_eq(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK, "%s", sqlite3_errmsg(db));
    cr_assert_eq(sqlite3_changes(db), 1, "%s", sql);
    sqlite3_close(db);
    crash_verdict bad;
    cr_assert_neq(crash_verifier_check(verifier, copy, &ledger, NULL, 0, &bad, err, sizeof err), 0,
                  "not caught: %s", sql);
    rel_note("self-check, %s: caught: %s", sql, err);
  }
  crash_ledger_deinit(&ledger);
  crash_verifier_destroy(verifier);
}
