/* crdt_work: the workloads of the CRDT comparison bench and our side of them.
 *
 * One generator makes every workload (a deterministic xorshift32 script of
 * steps), so that the native program, the bench wasm module and the peers
 * (Yjs, Automerge in bench.mjs, which read the script out of the wasm
 * module) replay exactly the same logical edits. A step names its target
 * both by our id and by its position in the editing client's own list,
 * which is how Yjs and Automerge address a list element.
 *
 * Rows are timed in batches of CRDT_BATCH ops: crdt_row_setup (untimed)
 * prepares batch B, crdt_row_run (timed by the caller) runs it. Merges are
 * timed as one call. Compiled natively (bench_crdt_native.c) and with emcc
 * (crdt_wasm.c). Single-threaded; all state is static. */
#ifndef CRDT_WORK_H
#define CRDT_WORK_H

#include "shared/mdl_op.h"

#include <stdint.h>

#define CRDT_BATCH          64 /* ops per timed batch; also the most creates a fresh project takes */
#define CRDT_BASE_TRACKS    16                 /* tracks every set workload starts from */
#define CRDT_OWN_MAX        16                 /* tracks one merging client keeps alive at most */
#define CRDT_MERGE_OPS      10000              /* ops per client in the merge */
#define CRDT_MAX_STEPS      (256 * CRDT_BATCH) /* longest script */
#define CRDT_REBASE_PENDING 4096 /* mdl_replica's PENDING_MAX (must match mdl_replica.c) */

/* Step kinds (the peers use the same numbers). */
enum { CRDT_SET = 1, CRDT_CREATE = 2, CRDT_DELETE = 3, CRDT_CREATE_FRONT = 4 };

/* Scripts. */
enum {
  CRDT_SCRIPT_SET,
  CRDT_SCRIPT_APPEND,
  CRDT_SCRIPT_FRONT,
  CRDT_SCRIPT_A,
  CRDT_SCRIPT_B,
  CRDT_N_SCRIPTS
};

/* Timed rows. */
enum {
  CRDT_ROW_SET_LOCAL,     /* mdl_txn_apply of a one-op set, 16 tracks */
  CRDT_ROW_SET_REMOTE,    /* proto_decode_txn + mdl_replica_on_remote of the same */
  CRDT_ROW_APPEND_LOCAL,  /* mdl_txn_apply of a create (name, colour), 64 per fresh project */
  CRDT_ROW_APPEND_REMOTE, /* proto_decode_txn + mdl_replica_on_remote of the same */
  CRDT_ROW_FRONT_LOCAL,   /* mdl_txn_apply of [create, move to the front] */
  CRDT_N_ROWS
};

/* Merges (one timed call each). */
enum {
  CRDT_MERGE_SERVER, /* server: decode + apply B's 10,000 onto base + A's 10,000 */
  CRDT_MERGE_AFTER,  /* client A, nothing pending: decode + on_remote for each of B's */
  CRDT_MERGE_REBASE, /* client A with 4,096 pending: on_remote for each of B's (each rebases), then
                        acks */
  CRDT_MERGE_RECONNECT, /* client A offline with 4,096 pending: WELCOME snapshot, reset (one
                           rebase), acks */
  CRDT_N_MERGES
};

/* A script as struct-of-arrays (bench.mjs reads them from wasm memory). */
typedef struct crdt_script {
  uint32_t n;
  uint8_t kind[CRDT_MAX_STEPS];   /* CRDT_SET ... */
  uint8_t prop[CRDT_MAX_STEPS];   /* set: mdl_prop */
  uint32_t index[CRDT_MAX_STEPS]; /* position of the target (set, delete) or of the new element */
  uint32_t id_hi[CRDT_MAX_STEPS]; /* our id of the target or of the new track */
  uint32_t id_lo[CRDT_MAX_STEPS];
  double
      num[CRDT_MAX_STEPS]; /* set: the value (bool 0/1, colour, name number); create: name number */
} crdt_script;

/* Builds every script (deterministic). Call once. */
void crdt_init(void);
const crdt_script *crdt_script_get(int which);

/* The name and colour a step carries (the peers compute the same). */
uint32_t crdt_colour_of(double num); /* create's colour */

/* Rows: number of batches, setup (untimed), run one batch (timed). */
uint32_t crdt_row_batches(int row);
void crdt_row_setup(int row, uint32_t batch);
int crdt_row_run(int row, uint32_t batch); /* 0, or the first failure */

/* One set applied from plain arguments, as a JS call would give them:
 * the bench's "per-op JS->wasm call" (also used natively for parity). */
int crdt_apply_set(uint32_t hi, uint32_t lo, int prop, double num);
int crdt_apply_create(uint32_t hi, uint32_t lo, double num);
/* The same with the string already in wasm memory (JS encodes it). */
int crdt_apply_set_str(uint32_t hi, uint32_t lo, int prop, const char *s, uint32_t len);
int crdt_apply_create_str(uint32_t hi, uint32_t lo, const char *name, uint32_t len,
                          uint32_t colour);

/* Merges: setup (untimed), run (timed), and a check of the result against
 * the server's order (returns 0 if every replica reached the same hash). */
void crdt_merge_setup(int merge);
int crdt_merge_run(int merge);
int crdt_merge_check(int merge);
uint32_t crdt_merge_tracks(int merge); /* tracks in the merged project */

/* Wire sizes (proto_encode_txn) of single ops, and totals over a script. */
int crdt_bytes_set(int prop, double num); /* a one-op set of track 1 */
int crdt_bytes_create(int front);         /* create "Track 1" (+ move to the front) */
int crdt_bytes_submit_overhead(void);     /* SUBMIT bytes minus the transaction */
int crdt_bytes_broadcast_overhead(void);  /* BROADCAST bytes minus the transaction */
double crdt_bytes_script(int which);      /* sum of proto_encode_txn sizes */

#endif
