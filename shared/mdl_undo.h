/* mdl_undo: what it takes to take a transaction back.
 *
 * Right after a transaction applied, mdl_undo_record reads its journal and
 * notes what it changed: the old and new value of each property it set, the
 * objects it made, every object it deleted (whole, with its properties),
 * the old parent of each object it moved. Later, mdl_undo_build turns the
 * record into a new transaction against the state of that moment, and skips
 * whatever someone else has changed since (a property whose value is no
 * longer the one this transaction set, an object that is gone): undo takes
 * back only one's own work, as multiplayer editors do. Deleted objects come
 * back with their old ids when those are in the undoer's id space, else with
 * new ids (and what refers to them among the restored objects follows).
 * The inverse is an ordinary transaction: it goes through the log like any
 * edit.
 *
 * Used by mdl_replica (per-user undo/redo). Pure; not thread-safe. */
#ifndef MDL_UNDO_H
#define MDL_UNDO_H

#include "shared/mdl_int.h"
#include "shared/mdl_op.h"

typedef struct mdl_undo_rec mdl_undo_rec;

/* Records how to take back the transaction journaled in J (applied to P and
 * not yet committed). Returns NULL when out of memory. Allocates; free with
 * mdl_undo_free. */
mdl_undo_rec *mdl_undo_record(const mdl_alloc *a, const mdl_project *p, const mdl_journal *j);
void mdl_undo_free(const mdl_alloc *a, mdl_undo_rec *rec); /* NULL ok */

/* The local transaction number the record belongs to (set by the owner). */
void mdl_undo_set_tag(mdl_undo_rec *rec, uint32_t tag);
uint32_t mdl_undo_tag(const mdl_undo_rec *rec);

/* Builds the transaction that takes REC back on P, skipping what others
 * changed since. New ids come from CLIENT's space, counters from *COUNTER
 * (advanced). On success *out is a transaction allocated from A (free with
 * mdl_txn_free; strings borrow from REC), or NULL when nothing of REC is
 * left to take back. Returns MDL_OK or MDL_ERR_NOMEM. */
int mdl_undo_build(const mdl_undo_rec *rec, const mdl_project *p, uint32_t client,
                   uint32_t *counter, const mdl_alloc *a, mdl_txn **out);

#endif
