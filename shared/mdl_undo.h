/* mdl_undo: what it takes to take a transaction back.
 *
 * Before a transaction is applied, mdl_undo_record notes, op by op, what it
 * changes: the old value of each property it sets, the whole track it
 * deletes and where it stood, where a track it moves stood. Later,
 * mdl_undo_build turns the record into a new transaction against the state
 * of that moment, in reverse order, and skips whatever someone else has
 * changed since (a property whose value is no longer the one this
 * transaction set, an object that is gone): undo takes back only one's
 * own work, as multiplayer editors do. The inverse is an ordinary
 * transaction: it goes through the log like any edit.
 *
 * Used by mdl_replica (per-user undo/redo). Pure; not thread-safe. */
#ifndef MDL_UNDO_H
#define MDL_UNDO_H

#include "shared/mdl_op.h"

typedef struct mdl_undo_rec mdl_undo_rec;

/* Records how to take back TXN as it would apply to P (P is not changed;
 * WORK and SCRATCH are project-sized buffers the function may overwrite).
 * Returns NULL when out of memory or when TXN does not apply to P.
 * Allocates; free with mdl_undo_free. */
mdl_undo_rec *mdl_undo_record(const mdl_alloc *a, const mdl_project *p, const mdl_txn *txn,
                              mdl_project *work, mdl_project *scratch);
void mdl_undo_free(const mdl_alloc *a, mdl_undo_rec *rec); /* NULL ok */

/* The local transaction number the record belongs to (set by the owner). */
void mdl_undo_set_tag(mdl_undo_rec *rec, uint32_t tag);
uint32_t mdl_undo_tag(const mdl_undo_rec *rec);

/* How many ops and create properties mdl_undo_build may need at most. */
void mdl_undo_size(const mdl_undo_rec *rec, uint32_t *max_ops, uint32_t *max_props);

/* Builds into OPS/PROPS (sized by mdl_undo_size) the transaction that takes
 * REC back on P, skipping what others changed since; *n_ops may be 0 (then
 * nothing of REC is left to take back). A track deleted by REC comes back
 * with its old id when it was made in CLIENT's id space, else with NEW_ID.
 * WORK and SCRATCH as above. Strings in the ops borrow from REC. */
void mdl_undo_build(const mdl_undo_rec *rec, const mdl_project *p, uint32_t client, mdl_id new_id,
                    mdl_project *work, mdl_project *scratch, mdl_op *ops, mdl_prop_value *props,
                    uint32_t *n_ops);

#endif
