/* crash_check: integrity check, copy aside, and replay against the ledger. */
#include "tools/crash/crash_check.h"
#include "protocol/proto_json.h"
#include "protocol/proto_msg.h"
#include "shared/mdl_op.h"
#include "tools/client/cli_client.h"
#include "storage/sto_project.h"

#include <sqlite3.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int crash_integrity(const char *path, char *err, size_t err_len) {
  sqlite3 *db = NULL;
  sqlite3_stmt *st = NULL;
  int rc = sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL);
  if (rc == SQLITE_OK) rc = sqlite3_prepare_v2(db, "PRAGMA integrity_check", -1, &st, NULL);
  if (rc != SQLITE_OK) {
    snprintf(err, err_len, "%s: %s", path, db ? sqlite3_errmsg(db) : "cannot open");
    sqlite3_finalize(st);
    sqlite3_close(db);
    return -1;
  }
  int result = -1;
  err[0] = 0;
  int n_rows = 0;
  while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
    const char *line = (const char *) sqlite3_column_text(st, 0);
    if (n_rows++ == 0 && line && strcmp(line, "ok") == 0) result = 0;
    size_t used = strlen(err);
    if (used + 1 < err_len)
      snprintf(err + used, err_len - used, "%s%s", used ? "; " : "", line ? line : "(null)");
  }
  if (rc != SQLITE_DONE) {
    result = -1;
    snprintf(err, err_len, "%s: integrity_check failed to run: %s", path, sqlite3_errmsg(db));
  }
  if (n_rows != 1) result = -1;
  sqlite3_finalize(st);
  sqlite3_close(db);
  return result;
}

static int copy_file(const char *from, const char *to, bool optional, char *err, size_t err_len) {
  FILE *in = fopen(from, "rb");
  if (!in) {
    unlink(to);
    if (optional) return 0;
    return snprintf(err, err_len, "cannot read %s", from), -1;
  }
  FILE *out = fopen(to, "wb");
  if (!out) {
    fclose(in);
    return snprintf(err, err_len, "cannot write %s", to), -1;
  }
  char buf[65536];
  size_t n;
  int rc = 0;
  while ((n = fread(buf, 1, sizeof buf, in)) > 0)
    if (fwrite(buf, 1, n, out) != n) rc = -1;
  if (ferror(in)) rc = -1;
  fclose(in);
  if (fclose(out)) rc = -1;
  if (rc) snprintf(err, err_len, "copying %s to %s failed", from, to);
  return rc;
}

int crash_copy(const char *path, const char *dest, char *err, size_t err_len) {
  char from[1100], to[1100];
  snprintf(to, sizeof to, "%s-shm", dest);
  unlink(to); /* a stale index from an earlier copy would be trusted */
  if (copy_file(path, dest, false, err, err_len)) return -1;
  snprintf(from, sizeof from, "%s-wal", path);
  snprintf(to, sizeof to, "%s-wal", dest);
  return copy_file(from, to, true, err, err_len);
}

/* ---- Replay against the ledger ---------------------------------------------------------- */

struct crash_verifier {
  mdl_project *base; /* the state after base_seq, as the last successful check left it */
  uint64_t base_seq; /* 0 before the first check */
  uint64_t *fps;     /* fingerprint of every row seen, by seq (0 = never seen) */
  size_t n_fps;
  mdl_project *model;
  proto_scratch ps, ps2;
  unsigned char enc[PROTO_MAX_MSG]; /* re-encoding of a REST transaction */
};

crash_verifier *crash_verifier_create(void) {
  crash_verifier *v = calloc(1, sizeof *v);
  if (!v) return NULL;
  v->base = mdl_project_create(&cli_heap, NULL);
  v->model = mdl_project_create(&cli_heap, NULL);
  if (!v->base || !v->model) {
    crash_verifier_destroy(v);
    return NULL;
  }
  return v;
}

void crash_verifier_destroy(crash_verifier *v) {
  if (!v) return;
  mdl_project_destroy(v->base);
  mdl_project_destroy(v->model);
  free(v->fps);
  free(v);
}

typedef struct verify_ctx {
  crash_verifier *v;
  const crash_ledger *ledger;
  size_t next; /* first ledger entry not yet accounted for */
  const crash_client_end *ends;
  size_t n_ends;
  uint64_t seq; /* the state in v->model is after this seq */
  crash_verdict *out;
  char *err;
  size_t err_len;
} verify_ctx;

static int fail(verify_ctx *k, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int fail(verify_ctx *k, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(k->err, k->err_len, fmt, ap);
  va_end(ap);
  return -1;
}

static uint64_t fingerprint(uint32_t origin, const void *data, size_t len) {
  uint64_t h = 1469598103934665603ull;
  for (int i = 0; i < 4; i++)
    h = (h ^ ((origin >> (8 * i)) & 0xff)) * 1099511628211ull;
  for (size_t i = 0; i < len; i++)
    h = (h ^ ((const unsigned char *) data)[i]) * 1099511628211ull;
  return h | 1; /* never 0, which means "not seen" */
}

static bool remember(crash_verifier *v, uint64_t seq, uint64_t fp) {
  if (seq >= v->n_fps) {
    size_t n = v->n_fps ? v->n_fps : 4096;
    while (n <= seq)
      n *= 2;
    uint64_t *fps = realloc(v->fps, n * sizeof *fps);
    if (!fps) return false;
    memset(fps + v->n_fps, 0, (n - v->n_fps) * sizeof *fps);
    v->fps = fps, v->n_fps = n;
  }
  v->fps[seq] = fp;
  return true;
}

static uint64_t seen(const crash_verifier *v, uint64_t seq) {
  return seq < v->n_fps ? v->fps[seq] : 0;
}

/* Does the stored transaction at SEQ match the acknowledged entry A? */
static int match(verify_ctx *k, const crash_ack *a, uint32_t origin, const void *data, size_t len) {
  unsigned long long s = (unsigned long long) a->seq;
  if (!a->rest) {
    if (origin != a->origin)
      return fail(k, "seq %llu: stored with origin %u, acknowledged to client %u", s, origin,
                  a->origin);
    if (len != a->len || memcmp(data, a->data, len) != 0)
      return fail(k,
                  "seq %llu: the stored transaction (%zu bytes) is not the acknowledged one "
                  "(%u bytes)",
                  s, len, a->len);
    return 0;
  }
  /* REST: parse the posted JSON as the server did (same id space) and encode it. */
  void *tree = NULL;
  mdl_txn txn;
  uint32_t counter = 1;
  char why[200] = "";
  int rc = proto_json_parse_txn((const char *) a->data, a->len, origin, &counter, &k->v->ps2, &tree,
                                &txn, why, sizeof why);
  int n = rc ? rc : proto_encode_txn(&txn, k->v->enc, PROTO_MAX_MSG);
  proto_json_free(tree);
  if (n < 0) return fail(k, "seq %llu: the acknowledged REST body does not parse: %s", s, why);
  if ((size_t) n != len || memcmp(data, k->v->enc, len) != 0)
    return fail(k, "seq %llu: the stored transaction is not the REST body acknowledged (%.*s)", s,
                (int) a->len, (const char *) a->data);
  return 0;
}

/* Ledger entries before SEQ: compacted away after an earlier check saw
 * them, or missing. */
static int account_before(verify_ctx *k, uint64_t seq) {
  const crash_ledger *l = k->ledger;
  for (; k->next < l->n_acks && l->acks[k->next].seq < seq; k->next++) {
    uint64_t s = l->acks[k->next].seq;
    if (k->out->n_rows > 0 || s > k->v->base_seq || !seen(k->v, s))
      return fail(k, "acknowledged seq %llu is missing from the log", (unsigned long long) s);
    k->out->n_compacted++;
  }
  return 0;
}

static int check_ends(verify_ctx *k, uint64_t seq, const mdl_project *m) {
  uint64_t hash = 0;
  bool hashed = false;
  for (size_t i = 0; i < k->n_ends; i++) {
    if (k->ends[i].seq != seq) continue;
    if (!hashed) hash = mdl_project_hash(m), hashed = true;
    if (hash != k->ends[i].hash) {
      char a[17], b[17];
      mdl_hash_hex(hash, a);
      mdl_hash_hex(k->ends[i].hash, b);
      return fail(k, "client %u saw hash %s at seq %llu; the replay gives %s", k->ends[i].client_id,
                  b, (unsigned long long) seq, a);
    }
    k->out->n_ends_seen++;
  }
  return 0;
}

static int verify_one(void *ud, uint64_t seq, uint32_t origin, const void *data, size_t len) {
  verify_ctx *k = ud;
  crash_verifier *v = k->v;
  crash_verdict *out = k->out;
  if (account_before(k, seq)) return -1;
  if (out->n_rows++ == 0) out->first_seq = seq;
  uint64_t fp = fingerprint(origin, data, len);
  if (seq <= v->base_seq) {
    /* Checked before: it must not have changed. */
    if (seen(v, seq) && seen(v, seq) != fp)
      return fail(k, "seq %llu changed since an earlier check", (unsigned long long) seq);
  } else {
    if (seq != k->seq + 1)
      return fail(k, "the log jumps from seq %llu to %llu (verified up to %llu before)",
                  (unsigned long long) k->seq, (unsigned long long) seq,
                  (unsigned long long) v->base_seq);
    mdl_txn txn;
    mdl_fail why;
    int rc = proto_decode_txn(data, len, &v->ps, &txn);
    if (rc) return fail(k, "seq %llu does not decode (error %d)", (unsigned long long) seq, rc);
    rc = mdl_txn_apply(v->model, &txn, origin, &why);
    if (rc) return fail(k, "seq %llu does not replay: %s", (unsigned long long) seq, why.reason);
    k->seq = seq;
    if (!remember(v, seq, fp)) return fail(k, "out of memory");
    if (check_ends(k, seq, v->model)) return -1;
  }
  const crash_ledger *l = k->ledger;
  if (k->next < l->n_acks && l->acks[k->next].seq == seq) {
    if (k->next + 1 < l->n_acks && l->acks[k->next + 1].seq == seq)
      return fail(k, "seq %llu was acknowledged twice", (unsigned long long) seq);
    if (match(k, &l->acks[k->next], origin, data, len)) return -1;
    k->next++;
    out->n_verified++;
  }
  return 0;
}

int crash_verifier_check(crash_verifier *v, const char *path, const crash_ledger *ledger,
                         const crash_client_end *ends, size_t n_ends, crash_verdict *out, char *err,
                         size_t err_len) {
  memset(out, 0, sizeof *out);
  err[0] = 0;
  verify_ctx k = {v, ledger, 0, ends, n_ends, v->base_seq, out, err, err_len};
  if (mdl_project_copy(v->model, v->base)) return snprintf(err, err_len, "out of memory"), -1;
  sto_project *sp = NULL;
  int rc = -1;
  if (check_ends(&k, v->base_seq, v->base)) goto done;
  if (sto_project_open(path, STO_OPEN_EXISTING, &sp, err, err_len)) goto done;
  rc = sto_project_replay(sp, 0, verify_one, &k);
  if (rc && !err[0]) snprintf(err, err_len, "replay: %s", sto_project_last_error(sp));
  if (rc) goto done;
  out->last_seq = k.seq;
  if (k.seq < v->base_seq)
    rc = fail(&k, "the log ends at seq %llu, before %llu seen earlier", (unsigned long long) k.seq,
              (unsigned long long) v->base_seq);
  else if (k.seq != sto_project_last_seq(sp))
    rc = fail(&k, "replay ended at seq %llu, the store says %llu", (unsigned long long) k.seq,
              (unsigned long long) sto_project_last_seq(sp));
  else if (account_before(&k, k.seq + 1) || k.next < ledger->n_acks)
    rc = fail(&k, "acknowledged seq %llu is missing (the log ends at %llu)",
              (unsigned long long) ledger->acks[k.next].seq, (unsigned long long) k.seq);
  for (size_t i = 0; !rc && i < n_ends; i++)
    if (ends[i].seq > k.seq)
      rc = fail(&k, "client %u confirmed seq %llu, beyond the log's end %llu", ends[i].client_id,
                (unsigned long long) ends[i].seq, (unsigned long long) k.seq);
  out->hash = mdl_project_hash(v->model);
  if (!rc) {
    mdl_project *t = v->base; /* the checked state becomes the new base */
    v->base = v->model, v->model = t, v->base_seq = k.seq;
  }
done:
  sto_project_close(sp);
  return rc ? -1 : 0;
}
