/* crash_check: proofs about a project file after a crash, for the
 * reliability tests.
 *
 *   crash_integrity  PRAGMA integrity_check through a read-only connection
 *                    (changes nothing: no checkpoint, no recovery written);
 *   crash_copy       copies the database and its -wal aside, so that the
 *                    checks below never touch the file the server will reopen;
 *   crash_verifier   replays the copy's op log and proves that every
 *                    acknowledged transaction of a crash_ledger is stored at
 *                    its seq, byte for byte, and that the state at each
 *                    client's last confirmed seq hashes as that client saw it.
 *
 * Any thread (a verifier: one at a time); allocates. Tests only. */
#ifndef CRASH_CHECK_H
#define CRASH_CHECK_H

#include "tools/crash/crash_load.h"

#include <stddef.h>
#include <stdint.h>

/* 0 if PRAGMA integrity_check on PATH answers exactly "ok"; otherwise -1 and
 * err gets what it answered (or why it could not run). */
int crash_integrity(const char *path, char *err, size_t err_len);

/* Copies PATH and PATH-wal (if present) to DEST and DEST-wal, replacing
 * them. 0 on success, -1 with err set. */
int crash_copy(const char *path, const char *dest, char *err, size_t err_len);

typedef struct crash_verdict {
  uint64_t first_seq;   /* seq of the first stored transaction (compaction moves it) */
  uint64_t last_seq;    /* seq of the last stored transaction */
  uint64_t hash;        /* mdl_project_hash of the state after last_seq */
  uint64_t n_rows;      /* stored transactions */
  uint64_t n_verified;  /* acknowledged transactions found stored, identical */
  uint64_t n_compacted; /* acknowledged transactions before first_seq (checked earlier) */
  uint64_t n_ends_seen; /* client end states whose hash was compared */
} crash_verdict;

/* A verifier follows one project file across crashes. It remembers the
 * state at the end of the log it last verified and a fingerprint of every
 * transaction it has seen, so that the log may be compacted between checks
 * (the server keeps snapshots) and still be proved: rows still stored must
 * be what they were, new rows must follow on, and everything acknowledged
 * must be there unless compaction legitimately removed it after an earlier
 * check saw it. Create one per project file; not thread-safe. */
typedef struct crash_verifier crash_verifier;

crash_verifier *crash_verifier_create(void);    /* NULL if out of memory */
void crash_verifier_destroy(crash_verifier *v); /* NULL ok */

/* Opens PATH (a copy: it is opened read-write, as the server would) and
 * checks its log against LEDGER (sorted by crash_ledger_sort) and
 * ENDS[N_ENDS] (may be NULL). Returns 0 if every check holds; otherwise -1
 * and err names the first that failed: an acknowledged transaction missing
 * or different, a gap, a row that changed since an earlier check, a client
 * state ahead of the log or hashing differently, a transaction that does not
 * replay. *out gets the figures either way. On success the verifier moves
 * its base to the end of this log. */
int crash_verifier_check(crash_verifier *v, const char *path, const crash_ledger *ledger,
                         const crash_client_end *ends, size_t n_ends, crash_verdict *out, char *err,
                         size_t err_len);

#endif
