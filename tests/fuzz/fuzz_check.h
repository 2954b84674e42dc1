/* fuzz_check: what the fuzz targets (tests/fuzz/fuzz_*.c) check, in one place.
 *
 * An independent checker of the model's invariants (it re-derives UTF-8 and
 * the ranges instead of calling the code it checks), a fixed seed project,
 * and the checked apply that the apply, JSON and project-file targets share.
 * A broken rule prints one sentence to stderr and aborts, which libFuzzer
 * reports as a crash and saves the input. Test code: single-threaded, uses
 * static buffers. */
#ifndef FUZZ_CHECK_H
#define FUZZ_CHECK_H

#include "shared/mdl_op.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Aborts with the printf-style message unless COND holds. */
#define FUZZ_REQUIRE(cond, ...)                                                                    \
  do {                                                                                             \
    if (!(cond)) fuzz_fail(__FILE__, __LINE__, #cond, __VA_ARGS__);                                \
  } while (0)
_Noreturn void fuzz_fail(const char *file, int line, const char *cond, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* True if S (LEN bytes) is UTF-8 (RFC 3629: no overlong forms, surrogates
 * or code points past U+10FFFF) without C0, DEL or C1 control characters,
 * which is what the model accepts as text. Written apart from
 * mdl_utf8_valid so the two can be compared. */
bool fuzz_utf8_ok(const void *s, size_t len);

/* Returns NULL if P satisfies every model invariant, else a sentence naming
 * the first one broken (static storage). The invariants: n_tracks <=
 * MDL_TRACKS_MAX; names NUL-terminated, 1..MDL_NAME_MAX bytes, UTF-8 as
 * above; every value within its mdl_prop_describe range (ts_den a power of
 * two, bools 0 or 1); track ids carry a client id and are unique; the slots
 * past n_tracks are all zero bytes; the hash is the same for a copy and
 * after a snapshot round trip (proto_encode_project, proto_decode_project),
 * which must succeed and re-encode to the same bytes. */
const char *fuzz_project_check(const mdl_project *p);

/* FUZZ_REQUIRE(fuzz_project_check(p) == NULL), naming WHAT in the message. */
void fuzz_require_valid(const mdl_project *p, const char *what);

/* The fixed starting point: a project with a few tracks in the id spaces
 * of clients 1, 2 and 3 (ids 0x100000001, 0x100000002, 0x200000001,
 * 0x300000003) and non-default values. */
void fuzz_seed_project(mdl_project *p);

/* Applies TXN to P with ORIGIN and checks the outcome: on success P is
 * valid; on refusal the code is a known mdl_err, the reason is a non-empty
 * sentence and P is byte-identical to before. Either way a deep copy of TXN
 * (mdl_txn_clone), and TXN after a wire round trip (proto_encode_txn,
 * proto_decode_txn) when it fits PROTO_MAX_MSG, applied to the state
 * before give the same code and the same bytes. Returns mdl_txn_apply's code. */
int fuzz_apply_checked(mdl_project *p, const mdl_txn *txn, uint32_t origin);

#endif
