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
#define MDL_CREATE_MAX_PROPS 16  /* initial properties in one create */
#define MDL_REASON_MAX       160 /* bytes of a refusal reason, with its NUL */

/* Op kinds. On the wire: frozen. */
typedef enum { MDL_OP_CREATE = 1, MDL_OP_SET = 2, MDL_OP_DELETE = 3, MDL_OP_MOVE = 4 } mdl_op_kind;

typedef struct mdl_prop_value {
  uint8_t prop; /* mdl_prop */
  mdl_value value;
} mdl_prop_value;

typedef struct mdl_op {
  uint8_t kind;                /* mdl_op_kind */
  uint8_t type;                /* create: mdl_type of the new object */
  uint8_t prop;                /* set: the property */
  mdl_id id;                   /* create: the new id; others: the target */
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
 * SCRATCH must point to a project-sized buffer the function may overwrite
 * (it holds the rollback copy); it is not read afterwards.
 * On failure P is unchanged and *fail (if not NULL) says why.
 * Does not allocate. Possible errors: every MDL_ERR_* except NOMEM. */
int mdl_txn_apply(mdl_project *p, const mdl_txn *txn, uint32_t origin, mdl_project *scratch,
                  mdl_fail *fail);

/* Checks a single value against property PROP for an object of TYPE,
 * writing a reason on failure. Does not allocate. */
int mdl_value_check(int type, int prop, const mdl_value *v, char *reason, size_t reason_len);

/* Deep-copies TXN (ops, create props, strings) into one allocation from A.
 * Returns NULL if out of memory. Free with mdl_txn_free(A, copy). */
mdl_txn *mdl_txn_clone(const mdl_alloc *a, const mdl_txn *txn);
void mdl_txn_free(const mdl_alloc *a, mdl_txn *copy);

#endif
