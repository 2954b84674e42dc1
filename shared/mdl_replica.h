/* mdl_replica: a client's copy of a project that the server owns.
 *
 * The server's order is the truth. A replica keeps one project and shows
 * it in two states:
 *   confirmed: the server's state after the last sequence number seen;
 *   view:      confirmed + this client's pending transactions, applied
 *              optimistically, which is what the user sees and edits.
 * Each pending transaction keeps the journal of what it changed, so going
 * from view to confirmed takes them off newest first and going back
 * re-applies them: a rebase costs the pending edits, not the project size.
 * A local edit applies to the view at once and waits in the pending queue
 * until the server acknowledges it (then it applies to confirmed) or rejects
 * it (then it is dropped and the view rebuilt). A remote transaction applies
 * to confirmed and the view is rebuilt by replaying the pending queue on top
 * (a rebase); a pending transaction that no longer applies is left out of the
 * view and will be rejected by the server. Property-level last-writer-wins
 * falls out of this: the server applies sets in its order.
 *
 * Used by the browser (through wasm) and by the C test and bench clients.
 * Not thread-safe; one owner. */
#ifndef MDL_REPLICA_H
#define MDL_REPLICA_H

#include "shared/mdl_op.h"

typedef struct mdl_replica mdl_replica;

/* Creates an empty replica (both projects "Untitled", seq 0) owned by A.
 * Allocates; returns NULL when out of memory. */
mdl_replica *mdl_replica_create(const mdl_alloc *a);
void mdl_replica_destroy(mdl_replica *r); /* NULL ok */

/* The server said hello: sets the id space for new ids, replaces confirmed
 * with SNAPSHOT at SEQ, and rebuilds the view with the pending queue on top
 * (so edits made while disconnected survive a reconnect). When the server
 * gave back this replica's own id space, the pending transactions its log
 * already holds (local ids up to LAST_LOCAL, whose acks were lost with the
 * connection) are dropped instead of being sent twice. Allocates (the copy);
 * returns MDL_OK or MDL_ERR_NOMEM. */
int mdl_replica_reset(mdl_replica *r, uint32_t client_id, const mdl_project *snapshot, uint64_t seq,
                      uint32_t last_local);

/* Applies TXN to the view and queues a copy; *local_id gets its number,
 * used in the submit message and matched by the ack. On failure nothing
 * changes and *fail says why. Allocates the queued copy.
 * Possible errors: any mdl_err from apply, MDL_ERR_NOMEM, MDL_ERR_FULL. */
int mdl_replica_submit(mdl_replica *r, const mdl_txn *txn, uint32_t *local_id, mdl_fail *fail);

/* Like mdl_replica_submit, for an edit the user made: it also goes on this
 * user's undo stack (and clears the redo stack). Allocates.
 * Possible errors: as mdl_replica_submit. */
int mdl_replica_edit(mdl_replica *r, const mdl_txn *txn, uint32_t *local_id, mdl_fail *fail);

/* Undo: takes back this user's newest own transaction that still has
 * something of theirs to take back, as a new transaction submitted like any
 * edit (*local_id), skipping properties someone else has changed since and
 * objects that are gone. Redo takes back an undo. Others' edits are never
 * undone. A server refusal drops the step. Allocates.
 * Possible errors: MDL_ERR_NOT_FOUND (nothing to undo or redo),
 * MDL_ERR_NOMEM, and those of mdl_replica_submit. */
int mdl_replica_undo(mdl_replica *r, uint32_t *local_id, mdl_fail *fail);
int mdl_replica_redo(mdl_replica *r, uint32_t *local_id, mdl_fail *fail);
uint32_t mdl_replica_n_undo(const mdl_replica *r);
uint32_t mdl_replica_n_redo(const mdl_replica *r);

/* After a page reload: the numbering goes on where the page left off.
 * Sets the next local transaction number and the next id counter (call
 * after mdl_replica_reset and before submitting the saved pending
 * transactions again, in order, so that they get their old local ids).
 * Does not allocate. */
void mdl_replica_resume(mdl_replica *r, uint32_t next_local, uint32_t next_counter);
uint32_t mdl_replica_next_local(const mdl_replica *r);
uint32_t mdl_replica_next_counter(const mdl_replica *r);

/* A fresh id in this replica's id space (0 before the first reset). */
mdl_id mdl_replica_new_id(mdl_replica *r);

/* The server acknowledged pending transaction LOCAL_ID at SEQ. Acks arrive
 * in submit order. Possible errors: MDL_ERR_NOT_FOUND if LOCAL_ID is not the
 * oldest pending one (the replica is then out of step: reconnect). */
int mdl_replica_on_ack(mdl_replica *r, uint32_t local_id, uint64_t seq);

/* The server refused LOCAL_ID: it is dropped and the view rebuilt. */
int mdl_replica_on_reject(mdl_replica *r, uint32_t local_id);

/* Another client's transaction at SEQ: applied to confirmed (origin 0: the
 * server already checked it), then the view is rebuilt. A transaction that
 * does not apply means the replica is out of step: returns its error. */
int mdl_replica_on_remote(mdl_replica *r, uint64_t seq, const mdl_txn *txn, mdl_fail *fail);

/* ---- Queries (borrowed pointers, valid until the next call that changes r) */
/* The view may be rebuilt here (pending replayed on confirmed) when remote
 * edits arrived since the last look. */
const mdl_project *mdl_replica_view(mdl_replica *r);
const mdl_project *mdl_replica_confirmed(mdl_replica *r);
uint64_t mdl_replica_seq(const mdl_replica *r);
uint32_t mdl_replica_client_id(const mdl_replica *r);
uint32_t mdl_replica_n_pending(const mdl_replica *r);
/* The I-th pending transaction (0 = oldest) and its local id. */
const mdl_txn *mdl_replica_pending(const mdl_replica *r, uint32_t i, uint32_t *local_id);

#endif
