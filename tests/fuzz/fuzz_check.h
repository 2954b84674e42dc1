/* fuzz_check: what the fuzz targets (tests/fuzz/fuzz_*.c) check, in one place.
 *
 * An independent checker of the model's invariants (it walks the objects
 * with mdl_walk and re-derives UTF-8, ranges, parents, references and
 * routing loops instead of calling the code it checks; the model's own
 * mdl_project_check runs as one extra check), a fixed seed project with
 * objects of every type, and the checked apply that the apply, JSON and
 * project-file targets share. A broken rule prints one sentence to stderr
 * and aborts, which libFuzzer reports as a crash and saves the input. Test
 * code: single-threaded, keeps static state between calls. */
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

/* The allocator every fuzz project uses (malloc and free). */
const mdl_alloc *fuzz_alloc(void);

/* mdl_project_create(fuzz_alloc(), NAME), aborting when it fails. Free
 * with mdl_project_destroy. */
mdl_project *fuzz_project_new(const char *name);

/* Returns NULL if P satisfies every model invariant, else a sentence naming
 * the first one broken (static storage). Checked over mdl_walk, which must
 * visit every object once, parents first: strings are fuzz_utf8_ok text
 * within their property's byte length (order keys base-62 without a
 * trailing '0', asset ids 64 lowercase hex digits); numbers within
 * mdl_prop_describe's range (device parameters within their kind's
 * mdl_device_describe table and 0 past it, a point's value within the
 * range of the parameter its lane automates), ts_den a power of two; ids
 * unique, project and master where they belong, every other id carrying a
 * client id; every parent present, visited earlier and of a type that may
 * hold the object; references (outputs, sends, sidechains, scenes,
 * grooves) naming objects of the right kind, one instrument per track, one
 * send per target, one clip per slot; no routing loop. Then
 * mdl_project_check must pass, a copy (mdl_project_copy) hash the same,
 * and a snapshot (proto_encode_project into proto_project_size bytes,
 * proto_decode_project into another project) give the same hash and
 * object count. */
const char *fuzz_project_check(const mdl_project *p);

/* FUZZ_REQUIRE(fuzz_project_check(p) == NULL), naming WHAT in the message. */
void fuzz_require_valid(const mdl_project *p, const char *what);

/* Resets P and builds the fixed starting point in it: "Fuzz seed", with
 * objects of every type in the id spaces of clients 1, 2 and 3 (see the
 * FUZZ_SEED_* ids): tracks of each kind (a group with a nested track, a
 * return fed by a send), devices (a synth, a compressor keyed by another
 * track, a reverb), MIDI clips with notes and events, an audio clip,
 * automation lanes with points on a track and on a device, a scene with a
 * clip in its slot, a groove, a marker, tempo and meter changes and a user. */
void fuzz_seed_project(mdl_project *p);

/* The transaction that makes the seed from a new project (origin 0);
 * borrowed static data. */
mdl_txn fuzz_seed_txn(void);

/* Ids in the seed project, for gen_corpus and the targets. */
#define FUZZ_SEED_AUDIO      MDL_ID_MAKE(1, 1) /* audio track "Bass été", gain 0.5, muted */
#define FUZZ_SEED_INST       MDL_ID_MAKE(1, 2) /* instrument track "Keys" */
#define FUZZ_SEED_GROUP      MDL_ID_MAKE(2, 1) /* group track "Drums" */
#define FUZZ_SEED_NESTED     MDL_ID_MAKE(2, 2) /* audio track in the group */
#define FUZZ_SEED_RETURN     MDL_ID_MAKE(3, 3) /* return track "Reverb" */
#define FUZZ_SEED_SEND       MDL_ID_MAKE(1, 3) /* Keys -> Reverb */
#define FUZZ_SEED_SYNTH      MDL_ID_MAKE(1, 4) /* on Keys */
#define FUZZ_SEED_COMP       MDL_ID_MAKE(2, 3) /* compressor on Drums, keyed by Keys */
#define FUZZ_SEED_REVERB     MDL_ID_MAKE(3, 1) /* on Reverb */
#define FUZZ_SEED_MIDI_CLIP  MDL_ID_MAKE(1, 5) /* on Keys */
#define FUZZ_SEED_NOTE       MDL_ID_MAKE(1, 6) /* in the MIDI clip */
#define FUZZ_SEED_NOTE2      MDL_ID_MAKE(2, 4)
#define FUZZ_SEED_EVENT      MDL_ID_MAKE(1, 7) /* CC 1 */
#define FUZZ_SEED_BEND       MDL_ID_MAKE(3, 2) /* pitch bend */
#define FUZZ_SEED_AUDIO_CLIP MDL_ID_MAKE(2, 5) /* on the nested track */
#define FUZZ_SEED_LANE       MDL_ID_MAKE(1, 8) /* gain of the audio track */
#define FUZZ_SEED_POINT      MDL_ID_MAKE(1, 9)
#define FUZZ_SEED_POINT2     MDL_ID_MAKE(2, 6)
#define FUZZ_SEED_DEV_LANE   MDL_ID_MAKE(3, 4) /* the synth's cutoff */
#define FUZZ_SEED_DEV_POINT  MDL_ID_MAKE(3, 5)
#define FUZZ_SEED_SCENE      MDL_ID_MAKE(1, 10) /* "Verse" */
#define FUZZ_SEED_SLOT_CLIP  MDL_ID_MAKE(3, 6)  /* on Keys, in the scene's slot */
#define FUZZ_SEED_GROOVE     MDL_ID_MAKE(2, 7)
#define FUZZ_SEED_MARKER     MDL_ID_MAKE(1, 11)
#define FUZZ_SEED_TEMPO      MDL_ID_MAKE(2, 8)
#define FUZZ_SEED_METER      MDL_ID_MAKE(3, 7)
#define FUZZ_SEED_USER       MDL_ID_MAKE(1, 12)

/* Applies TXN to P with ORIGIN and checks the outcome: on success P passes
 * fuzz_project_check; on refusal the code is a known mdl_err, the reason
 * is a non-empty sentence, P has the hash and object count it had before
 * and passes mdl_project_check. Either way a deep copy of TXN
 * (mdl_txn_clone, applied with mdl_txn_try and then dropped), and TXN
 * after a wire round trip (proto_encode_txn, proto_decode_txn; applied
 * with mdl_txn_try and kept) when it fits PROTO_MAX_MSG, applied to a copy
 * of the state before give the same code and hash. Returns mdl_txn_apply's
 * code. */
int fuzz_apply_checked(mdl_project *p, const mdl_txn *txn, uint32_t origin);

#endif
