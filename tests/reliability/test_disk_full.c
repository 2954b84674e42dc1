/* Disk full: the project file cannot grow, then can again.
 *
 * Emulated without root: the running server gets a small RLIMIT_FSIZE soft
 * limit through prlimit(2) (hard limit unlimited), so a write past the limit
 * fails with EFBIG as it would with ENOSPC on a full disk. That needs the
 * server to ignore SIGXFSZ (it does, in srv_main.c; the test checks it in
 * /proc). Raising the soft limit again is "space returns". This works the
 * same as root (RLIMIT_FSIZE binds root too) and needs no tmpfs or mount
 * namespace.
 *
 * Checked: refused edits get REJECT -504 / REST 507 with a sentence saying
 * the edit could not be saved; the server stays up and keeps serving; no
 * seq is spent on a refused edit and none of them is in the log later;
 * everything acknowledged before, during and after is stored byte for
 * byte (proved after a SIGKILL); after space returns new edits are accepted
 * and the state hash equals a replay of the log. */
#include "server/srv_err.h"
#include "tests/reliability/rel_util.h"
#include "tools/client/cli_client.h"
#include "tools/client/cli_http.h"
#include "tools/client/cli_txn.h"
#include "tools/crash/crash_check.h"
#include "tools/crash/crash_load.h"

#include <cjson/cJSON.h>
#include <criterion/criterion.h>
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

static rel_fixture fx;
static crash_ledger ledger;
static cli_client *writer;

static struct {
  pthread_mutex_t mu;
  uint32_t local_id; /* the answer awaited */
  bool acked, rejected;
  uint64_t seq;
  int code;
  char reason[CLI_REASON_MAX];
} ans = {.mu = PTHREAD_MUTEX_INITIALIZER};

static void on_ack(void *ud, cli_client *c, uint32_t local_id, uint64_t seq, uint64_t t_ns) {
  (void) ud, (void) c, (void) t_ns;
  pthread_mutex_lock(&ans.mu);
  if (local_id == ans.local_id) ans.acked = true, ans.seq = seq;
  pthread_mutex_unlock(&ans.mu);
}

static void on_reject(void *ud, cli_client *c, uint32_t local_id, int code, const char *reason,
                      uint64_t t_ns) {
  (void) ud, (void) c, (void) t_ns;
  pthread_mutex_lock(&ans.mu);
  if (local_id == ans.local_id) {
    ans.rejected = true, ans.code = code;
    snprintf(ans.reason, sizeof ans.reason, "%s", reason);
  }
  pthread_mutex_unlock(&ans.mu);
}

static int late_code;
static char late_reason[CLI_REASON_MAX];

static void on_reject_late(void *ud, cli_client *c, uint32_t local_id, int code, const char *reason,
                           uint64_t t_ns) {
  (void) ud, (void) c, (void) local_id, (void) t_ns;
  late_code = code;
  snprintf(late_reason, sizeof late_reason, "%s", reason);
}

static void teardown(void) {
  cli_client_close(writer);
  writer = NULL;
  rel_deinit(&fx);
  crash_ledger_deinit(&ledger);
}

/* Submits TXN over WebSocket and waits for its answer: true if acknowledged
 * (then ledgered with its wire encoding), false if refused (ans holds why). */
static bool submit(const mdl_txn *txn) {
  unsigned char buf[1024];
  int n = proto_encode_txn(txn, buf, sizeof buf);
  cr_assert_gt(n, 0);
  pthread_mutex_lock(&ans.mu);
  ans.acked = ans.rejected = false;
  uint32_t local_id;
  int rc = cli_client_submit(writer, txn, &local_id, NULL);
  ans.local_id = local_id;
  pthread_mutex_unlock(&ans.mu);
  cr_assert_eq(rc, 0, "submit: %s", cli_strerror(rc));
  cr_assert_eq(cli_client_wait_idle(writer, REL_WAIT_MS), 0);
  pthread_mutex_lock(&ans.mu);
  bool acked = ans.acked, rejected = ans.rejected;
  pthread_mutex_unlock(&ans.mu);
  cr_assert(acked != rejected, "local id %u: acked %d, rejected %d", local_id, acked, rejected);
  if (acked) {
    crash_ack a = {ans.seq, cli_client_stats(writer).client_id, false, (uint32_t) n, NULL, 0};
    cr_assert(crash_ledger_add(&ledger, &a, buf));
  }
  return acked;
}

static bool set_gain(mdl_id track, double gain) {
  cli_txn t;
  cli_txn_init(&t);
  cli_txn_set_real(&t, track, MDL_PROP_GAIN, gain);
  cli_txn_set_int(&t, track, MDL_PROP_COLOUR, (int64_t) (gain * 1000));
  return submit(cli_txn_get(&t));
}

/* POSTs one REST edit; returns the status, ledgering it on 200. *code gets
 * the body's "code" on an error. */
static int rest_edit(double tempo, int *code) {
  char json[160], *resp = NULL;
  snprintf(json, sizeof json,
           "{\"ops\":[{\"op\":\"set\",\"id\":\"project\",\"prop\":\"tempo\",\"value\":%.1f}]}",
           tempo);
  int status = 0;
  uint64_t seq = 0;
  int rc = cli_rest_ops(fx.port, fx.project, json, &status, &seq, &resp);
  cr_assert_eq(rc, 0, "POST ops: %s", cli_strerror(rc));
  *code = 0;
  if (status == 200) {
    crash_ack a = {seq, 0, true, (uint32_t) strlen(json), NULL, 0};
    cr_assert(crash_ledger_add(&ledger, &a, json));
  } else {
    cJSON *j = cJSON_Parse(resp);
    const cJSON *c = cJSON_GetObjectItemCaseSensitive(j, "code");
    const char *why = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(j, "reason"));
    *code = cJSON_IsNumber(c) ? (int) c->valuedouble : 0;
    rel_note("REST while full: %d %s", status, resp);
    cr_assert(why && strstr(why, "could not save"), "REST %d reason: %s", status, resp);
    cJSON_Delete(j);
  }
  free(resp);
  return status;
}

static void set_fsize(pid_t pid, rlim_t soft) {
  struct rlimit lim = {soft, RLIM_INFINITY};
  cr_assert_eq(prlimit(pid, RLIMIT_FSIZE, &lim, NULL), 0, "prlimit: %s", strerror(errno));
}

/* True if PID ignores SIGNO (the SigIgn mask in /proc/PID/status). */
static bool ignores(pid_t pid, int signo) {
  char path[64];
  snprintf(path, sizeof path, "/proc/%d/status", (int) pid);
  char *status = rel_slurp(path, NULL);
  cr_assert(status, "cannot read %s", path);
  const char *line = strstr(status, "SigIgn:");
  unsigned long long mask = line ? strtoull(line + 7, NULL, 16) : 0;
  free(status);
  return (mask >> (signo - 1)) & 1;
}

Test(reliability, disk_full_refuses_clearly_and_recovers, .fini = teardown) {
  crash_ledger_init(&ledger);
  rel_init(&fx, "backline-full");
  rel_start(&fx);
  rel_create_project(&fx, "Disk full");
  pid_t pid = cli_server_pid(fx.srv);
  cr_assert(ignores(pid, SIGXFSZ),
            "the server does not ignore SIGXFSZ: a file size limit would kill it");

  cli_config cc = cli_config_default();
  cc.port = fx.port;
  cc.project = fx.project;
  cc.user = "writer";
  cc.events.on_ack = on_ack;
  cc.events.on_reject = on_reject;
  char err[1024];
  int rc = cli_client_connect_cfg(&cc, &writer, err, sizeof err);
  cr_assert_eq(rc, 0, "connect: %s", err);
  cr_assert_eq(cli_client_wait_seq(writer, 1, REL_WAIT_MS), 0);

  /* Before: normal work. */
  mdl_id track = cli_client_new_id(writer);
  cli_txn t;
  cli_txn_init(&t);
  cli_txn_create_track(&t, track, "Vocals");
  cr_assert(submit(cli_txn_get(&t)));
  for (int i = 0; i < 20; i++)
    cr_assert(set_gain(track, 0.1 + i * 0.01));
  int code;
  cr_assert_eq(rest_edit(100, &code), 200);

  /* The disk fills: the files may not grow past a little more than now. */
  char wal[900], log[700];
  snprintf(wal, sizeof wal, "%s-wal", fx.path);
  snprintf(log, sizeof log, "%s.log", fx.data);
  long long limit = rel_file_size(fx.path);
  if (rel_file_size(wal) > limit) limit = rel_file_size(wal);
  if (rel_file_size(log) > limit) limit = rel_file_size(log);
  limit += 16384;
  set_fsize(pid, (rlim_t) limit);
  int n_until_full = 0;
  while (set_gain(track, 1.0 + (n_until_full % 100) * 0.01))
    cr_assert_lt(++n_until_full, 5000, "the limit of %lld bytes never bit", limit);
  rel_note("disk full after %d more edits (file size limit %lld bytes): REJECT %d \"%s\"",
           n_until_full, limit, ans.code, ans.reason);
  cr_assert_eq(ans.code, SRV_ERR_STORAGE, "code %d: %s", ans.code, ans.reason);
  cr_assert(strstr(ans.reason, "could not save"), "reason: %s", ans.reason);
  uint64_t seq_full, hash_full, seq_c;
  rel_state(&fx, &seq_full, &hash_full);

  /* While full: every edit is refused the same way, the server stays up and
   * serves reads, and no seq is spent. */
  for (int i = 0; i < 5; i++) {
    cr_assert(!set_gain(track, 2.0 + i * 0.1), "an edit was accepted while the disk is full");
    cr_assert_eq(ans.code, SRV_ERR_STORAGE);
  }
  cr_assert_eq(rest_edit(150, &code), 507);
  cr_assert_eq(code, SRV_ERR_STORAGE);
  /* A newcomer needs an id space saved before its WELCOME: it is refused
   * with the same code. (The server keeps the socket open after refusing
   * HELLO, so cli_client_connect only gives up at its timeout.) */
  cli_client *late = NULL;
  cc.user = "late";
  cc.timeout_ms = 1500;
  cc.events.on_reject = on_reject_late;
  rc = cli_client_connect_cfg(&cc, &late, err, sizeof err);
  rel_note("a new client while full: %s; REJECT %d \"%s\"", rc ? err : "connected", late_code,
           late_reason);
  cr_assert(rc == 0 || (late_code == SRV_ERR_STORAGE && strstr(late_reason, "could not save")),
            "new client refused unclearly: %s", err);
  cli_client_close(late);
  cr_assert(cli_server_alive(fx.srv), "the server died on a full disk");
  int status;
  char *body = NULL;
  cr_assert_eq(cli_http(fx.port, "GET", "/api/health", NULL, &status, &body), 0);
  cr_assert_eq(status, 200);
  free(body);
  uint64_t seq, hash;
  rel_state(&fx, &seq, &hash);
  cr_assert_eq(seq, seq_full, "refused edits moved the seq from %llu to %llu",
               (unsigned long long) seq_full, (unsigned long long) seq);
  cr_assert_eq(hash, hash_full);
  cr_assert_eq(cli_client_hash(writer, &seq_c), hash);
  cr_assert_eq(seq_c, seq);
  char *text = rel_slurp(log, NULL);
  cr_assert(text && rel_count_lines(text, "cannot save") >= 1, "no log line about saving: %s",
            text ? text : "(no log)");
  free(text);

  /* Space returns: work resumes at once. */
  set_fsize(pid, RLIM_INFINITY);
  for (int i = 0; i < 20; i++)
    cr_assert(set_gain(track, 3.0 + i * 0.01), "edit %d after space returned: %d %s", i, ans.code,
              ans.reason);
  cr_assert_eq(rest_edit(120, &code), 200);
  rel_state(&fx, &seq, &hash);
  cr_assert_eq(cli_client_hash(writer, &seq_c), hash);
  cr_assert_eq(seq_c, seq);

  /* Proof on disk, after a crash: every acknowledged edit and nothing else
   * (seq 1, the project's name from its creation, is the only other row). */
  cli_client_close(writer);
  writer = NULL;
  rel_stop(&fx, SIGKILL);
  cr_assert_eq(crash_integrity(fx.path, err, sizeof err), 0, "integrity_check: %s", err);
  char copy[700];
  snprintf(copy, sizeof copy, "%s/copy.backline", fx.root);
  cr_assert_eq(crash_copy(fx.path, copy, err, sizeof err), 0, "%s", err);
  crash_ledger_sort(&ledger);
  crash_verifier *v = crash_verifier_create();
  crash_verdict verdict;
  rc = crash_verifier_check(v, copy, &ledger, NULL, 0, &verdict, err, sizeof err);
  crash_verifier_destroy(v);
  cr_assert_eq(rc, 0, "%s", err);
  cr_assert_eq(verdict.n_verified, ledger.n_acks);
  cr_assert_eq(verdict.first_seq, 1);
  cr_assert_eq(verdict.n_rows, ledger.n_acks + 1, "%llu rows for %zu acknowledged edits",
               (unsigned long long) verdict.n_rows, ledger.n_acks);
  rel_start(&fx);
  rel_state(&fx, &seq, &hash);
  cr_assert_eq(seq, verdict.last_seq);
  cr_assert_eq(hash, verdict.hash);
  rel_note("disk full: %zu edits acknowledged and stored, %d refused while full, none stored",
           ledger.n_acks, 5 + 1 + 1);
}
