/* mdl_op: operations and transactions, the only way a project changes.
 *
 * An op is plain data: create, set property, delete or move. Ops are grouped
 * in a transaction that applies atomically: either every op applies, or the
 * project is left exactly as it was and the failure says which op and why.
 * Applying is a pure function of (project, transaction, origin): the server,
 * every client and a replay of the stored log reach the same state.
 *
 * Not thread-safe; same owner rules as mdl_project. */
#ifndef MDL_OP_H
#define MDL_OP_H

#include "shared/mdl_alloc.h"
#include "shared/mdl_project.h"

#define MDL_TXN_MAX_OPS      256 /* ops in one transaction */
#define MDL_CREATE_MAX_PROPS 48  /* initial properties in one create */
#define MDL_REASON_MAX       160 /* bytes of a refusal reason, with its NUL */

/* Op kinds. On the wire: frozen. */
typedef enum { MDL_OP_CREATE = 1, MDL_OP_SET = 2, MDL_OP_DELETE = 3, MDL_OP_MOVE = 4 } mdl_op_kind;

typedef struct mdl_prop_value {
  uint8_t prop; /* mdl_prop */
  mdl_value value;
} mdl_prop_value;

/* CREATE makes object ID of TYPE under PARENT (MDL_ID_NONE = the project)
 * with the given properties, the rest at their defaults; an ordered object
 * (track, device, scene) without an order key goes after its last sibling.
 * SET changes one property. DELETE removes an object with everything under
 * it (and what refers to it, see shared/README.md). MOVE puts an object
 * under PARENT (MDL_ID_NONE = where it is) and, for ordered types, right
 * after sibling AFTER (MDL_ID_NONE = first): the model picks the order key
 * between AFTER and the next sibling, so everyone applying the move in the
 * server's order picks the same key. A client may also SET an order key it
 * made with mdl_key_between. */
typedef struct mdl_op {
  uint8_t kind;                /* mdl_op_kind */
  uint8_t type;                /* create: mdl_type of the new object */
  uint8_t prop;                /* set: the property */
  mdl_id id;                   /* create: the new id; others: the target */
  mdl_id parent;               /* create, move: see above */
  mdl_id after;                /* move: place after this sibling, MDL_ID_NONE = first */
  mdl_value value;             /* set: the new value (strings borrowed) */
  uint16_t n_props;            /* create: initial properties */
  const mdl_prop_value *props; /* create: borrowed */
} mdl_op;

typedef struct mdl_txn {
  uint32_t n_ops;
  const mdl_op *ops; /* borrowed */
} mdl_txn;

/* Why a transaction was refused. */
typedef struct mdl_fail {
  int code;                    /* mdl_err */
  uint32_t op_index;           /* which op failed */
  char reason[MDL_REASON_MAX]; /* one sentence, e.g. "op 1: gain 7 is out of range (0 to 4)" */
} mdl_fail;

/* Applies TXN to P atomically. ORIGIN is the id space of the sender: new ids
 * must carry it (MDL_ID_CLIENT(id) == origin) so that ids never collide;
 * origin 0 skips that check (trusted input such as a replay of the log).
 * Every op is checked as it applies (types, ranges, parents); references
 * between objects and routing cycles are checked once the last op has
 * applied, so one transaction may make a bus and the send to it in any
 * order. On failure P is exactly as before (same objects, same hash) and
 * *fail (if not NULL) says why. Allocates from P's allocator as objects
 * are made. Possible errors: every MDL_ERR_*. */
int mdl_txn_apply(mdl_project *p, const mdl_txn *txn, uint32_t origin, mdl_fail *fail);

/* Two-step apply, for a caller that must do something (store the
 * transaction) before it decides: mdl_txn_try applies as mdl_txn_apply
 * does but keeps the way back; then exactly one of mdl_txn_keep (the
 * change stays) or mdl_txn_drop (P returns to what it was) must follow
 * before P is changed again. */
int mdl_txn_try(mdl_project *p, const mdl_txn *txn, uint32_t origin, mdl_fail *fail);
void mdl_txn_keep(mdl_project *p);
void mdl_txn_drop(mdl_project *p);

/* Checks a single value against property PROP of an object of TYPE (the
 * type's range; device parameters and point values depend on the object and
 * are checked by apply), writing a reason on failure. Does not allocate. */
int mdl_value_check(int type, int prop, const mdl_value *v, char *reason, size_t reason_len);
/* The same for property PROP of object ID of P, ranges of device parameters
 * and point values included (as a set would be checked, without applying
 * it): MDL_ERR_NOT_FOUND when there is no such object. Does not allocate. */
int mdl_value_check_on(const mdl_project *p, mdl_id id, int prop, const mdl_value *v, char *reason,
                       size_t reason_len);

/* Checks every invariant of P (parents, references, ranges, no cycles,
 * hash equal to a recount), for tests and fuzzers. Returns MDL_OK or
 * MDL_ERR_INVALID with a reason. */
int mdl_project_check(const mdl_project *p, char *reason, size_t reason_len);

/* ---- Saving and loading whole states (snapshots) -------------------------- */

/* Calls FN for every object, each parent before its children (project,
 * master, then the rest); VALS are its properties in schema order (N of
 * them, strings borrowed). Does not allocate. */
typedef void (*mdl_walk_fn)(void *ud, int type, mdl_id id, mdl_id parent, const mdl_value *vals,
                            uint32_t n);
void mdl_walk(const mdl_project *p, mdl_walk_fn fn, void *ud);

/* The properties of TYPE in schema order: writes at most CAP, returns the count. */
uint32_t mdl_fields(int type, uint8_t *props, uint32_t cap);

/* Rebuilds P from objects as mdl_walk gives them: begin empties P (project
 * and master keep their ids and take the values given), each object is
 * checked like a create, end checks references and cycles over the whole
 * project. A refused state leaves P reset ("Untitled") and *fail says why.
 * Possible errors: as mdl_txn_apply. */
void mdl_load_begin(mdl_project *p);
int mdl_load_object(mdl_project *p, int type, mdl_id id, mdl_id parent, const mdl_value *vals,
                    uint32_t n, mdl_fail *fail);
int mdl_load_end(mdl_project *p, mdl_fail *fail);

/* Deep-copies TXN (ops, create props, strings) into one allocation from A.
 * Returns NULL if out of memory. Free with mdl_txn_free(A, copy). */
mdl_txn *mdl_txn_clone(const mdl_alloc *a, const mdl_txn *txn);
void mdl_txn_free(const mdl_alloc *a, mdl_txn *copy);

#endif
