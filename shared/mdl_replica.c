/* mdl_replica: confirmed state + pending queue, rebased on the server's order. */
#include "shared/mdl_replica.h"
#include "shared/mdl_err.h"
#include "shared/mdl_undo.h"

#include <string.h>

#define PENDING_MAX 4096 /* unacknowledged transactions kept while offline */
#define UNDO_MAX    256  /* undo steps kept (the oldest goes first) */

enum { AS_EDIT, AS_UNDO, AS_REDO };

typedef struct stack {
  mdl_undo_rec *recs[UNDO_MAX];
  uint32_t n;
} stack;

typedef struct pending {
  uint32_t local_id;
  bool applied;  /* it applied on top of the confirmed state (j holds how) */
  mdl_txn *txn;  /* owned clone */
  mdl_journal j; /* its changes to the project while the view is shown */
} pending;

struct mdl_replica {
  mdl_alloc alloc;
  uint32_t client_id;
  uint32_t next_counter;    /* low half of new ids */
  uint32_t next_local;      /* next local transaction number */
  uint64_t seq;             /* last server sequence applied to confirmed */
  mdl_project *p;           /* the view, or the confirmed state while 'confirmed' */
  bool confirmed;           /* pending transactions are taken off p (lazily put back) */
  stack undo, redo;         /* this user's own transactions, newest last */
  uint32_t head, n_pending; /* ring of pending transactions */
  pending queue[PENDING_MAX];
};

mdl_replica *mdl_replica_create(const mdl_alloc *a) {
  mdl_replica *r = a->alloc(a->ud, sizeof *r);
  if (!r) return NULL;
  memset(r, 0, sizeof *r);
  r->alloc = *a;
  r->next_local = 1;
  r->next_counter = 1;
  r->p = mdl_project_create(a, NULL);
  if (!r->p) {
    a->free(a->ud, r, sizeof *r);
    return NULL;
  }
  return r;
}

static void stack_clear(mdl_replica *r, stack *s) {
  for (uint32_t i = 0; i < s->n; i++)
    mdl_undo_free(&r->alloc, s->recs[i]);
  s->n = 0;
}

static void stack_push(mdl_replica *r, stack *s, mdl_undo_rec *rec) {
  if (s->n == UNDO_MAX) {
    mdl_undo_free(&r->alloc, s->recs[0]);
    memmove(&s->recs[0], &s->recs[1], (UNDO_MAX - 1) * sizeof s->recs[0]);
    s->n--;
  }
  s->recs[s->n++] = rec;
}

/* Forgets the record of a transaction the server refused. */
static void stack_drop(mdl_replica *r, stack *s, uint32_t local_id) {
  for (uint32_t i = 0; i < s->n; i++) {
    if (mdl_undo_tag(s->recs[i]) != local_id) continue;
    mdl_undo_free(&r->alloc, s->recs[i]);
    memmove(&s->recs[i], &s->recs[i + 1], (s->n - i - 1) * sizeof s->recs[0]);
    s->n--;
    return;
  }
}

static void set_fail(mdl_fail *fail, int code, const char *reason) {
  if (!fail) return;
  fail->code = code, fail->op_index = 0;
  size_t n = strlen(reason);
  memcpy(fail->reason, reason, n + 1 < sizeof fail->reason ? n + 1 : sizeof fail->reason);
}

static void to_confirmed(mdl_replica *r);

void mdl_replica_destroy(mdl_replica *r) {
  if (!r) return;
  stack_clear(r, &r->undo);
  stack_clear(r, &r->redo);
  to_confirmed(r);
  for (uint32_t i = 0; i < r->n_pending; i++) {
    pending *q = &r->queue[(r->head + i) % PENDING_MAX];
    mdl__j_free(r->p, &q->j);
    mdl_txn_free(&r->alloc, q->txn);
  }
  mdl_project_destroy(r->p);
  mdl_alloc a = r->alloc;
  a.free(a.ud, r, sizeof *r);
}

static pending *at(mdl_replica *r, uint32_t i) {
  return &r->queue[(r->head + i) % PENDING_MAX];
}

/* Takes every pending transaction off the project, newest first, so that it
 * holds the confirmed state. */
static void to_confirmed(mdl_replica *r) {
  if (r->confirmed) return;
  for (uint32_t i = r->n_pending; i-- > 0;)
    if (at(r, i)->applied) mdl__j_undo(r->p, &at(r, i)->j);
  r->confirmed = true;
}

/* Puts the pending transactions back on top of the confirmed state (a
 * rebase); one that no longer applies stays out of the view. Done when
 * someone looks, not after each of a thousand catch-up broadcasts. */
static mdl_project *view_of(mdl_replica *r) {
  if (!r->confirmed) return r->p;
  for (uint32_t i = 0; i < r->n_pending; i++) {
    pending *q = at(r, i);
    q->applied = mdl__txn_apply_keep(r->p, q->txn, 0, &q->j, NULL) == MDL_OK;
  }
  r->confirmed = false;
  return r->p;
}

static void pop(mdl_replica *r);

int mdl_replica_reset(mdl_replica *r, uint32_t client_id, const mdl_project *snapshot, uint64_t seq,
                      uint32_t last_local) {
  to_confirmed(r);
  if (client_id != r->client_id) {
    r->next_counter = 1;
  } else {
    /* Local ids grow in submit order: what the log holds is a prefix. */
    while (r->n_pending && at(r, 0)->local_id <= last_local)
      pop(r);
  }
  r->client_id = client_id;
  r->seq = seq;
  to_confirmed(r);
  return mdl_project_copy(r->p, snapshot);
}

void mdl_replica_resume(mdl_replica *r, uint32_t next_local, uint32_t next_counter) {
  if (next_local) r->next_local = next_local;
  if (next_counter) r->next_counter = next_counter;
}

uint32_t mdl_replica_next_local(const mdl_replica *r) {
  return r->next_local;
}

uint32_t mdl_replica_next_counter(const mdl_replica *r) {
  return r->next_counter;
}

mdl_id mdl_replica_new_id(mdl_replica *r) {
  if (r->client_id == 0) return MDL_ID_NONE;
  return MDL_ID_MAKE(r->client_id, r->next_counter++);
}

/* Submits TXN, noting how to take it back: an edit goes on the undo stack
 * (and clears redo), an undo on the redo stack, a redo on the undo stack. */
static int submit_as(mdl_replica *r, const mdl_txn *txn, int as, uint32_t *local_id,
                     mdl_fail *fail) {
  int rc = mdl_replica_submit(r, txn, local_id, fail);
  if (rc) return rc;
  pending *q = at(r, r->n_pending - 1);
  mdl_undo_rec *rec = mdl_undo_record(&r->alloc, r->p, &q->j);
  if (!rec) { /* applied, but no memory to remember how to undo it: take it back */
    mdl__j_undo(r->p, &q->j);
    mdl__j_free(r->p, &q->j);
    mdl_txn_free(&r->alloc, q->txn);
    r->n_pending--;
    r->next_local--;
    *local_id = 0;
    set_fail(fail, MDL_ERR_NOMEM, "out of memory");
    return MDL_ERR_NOMEM;
  }
  mdl_undo_set_tag(rec, *local_id);
  if (as == AS_EDIT) stack_clear(r, &r->redo);
  stack_push(r, as == AS_UNDO ? &r->redo : &r->undo, rec);
  return MDL_OK;
}

int mdl_replica_edit(mdl_replica *r, const mdl_txn *txn, uint32_t *local_id, mdl_fail *fail) {
  return submit_as(r, txn, AS_EDIT, local_id, fail);
}

/* Takes back the newest record of FROM that still has something of this
 * user's to take back; records that have nothing left are dropped. */
static int take_back(mdl_replica *r, stack *from, int as, uint32_t *local_id, mdl_fail *fail) {
  *local_id = 0;
  while (from->n) {
    mdl_undo_rec *rec = from->recs[from->n - 1];
    mdl_txn *t;
    uint32_t counter = r->next_counter;
    if (mdl_undo_build(rec, view_of(r), r->client_id, &counter, &r->alloc, &t))
      return set_fail(fail, MDL_ERR_NOMEM, "out of memory"), MDL_ERR_NOMEM;
    int rc = MDL_OK;
    if (t) {
      r->next_counter = counter;
      rc = submit_as(r, t, as, local_id, fail);
      mdl_txn_free(&r->alloc, t);
    }
    if (rc) return rc; /* the record stays: it can be tried again */
    from->n--;
    mdl_undo_free(&r->alloc, rec);
    if (t) return MDL_OK;
  }
  set_fail(fail, MDL_ERR_NOT_FOUND, as == AS_UNDO ? "nothing to undo" : "nothing to redo");
  return MDL_ERR_NOT_FOUND;
}

int mdl_replica_undo(mdl_replica *r, uint32_t *local_id, mdl_fail *fail) {
  return take_back(r, &r->undo, AS_UNDO, local_id, fail);
}

int mdl_replica_redo(mdl_replica *r, uint32_t *local_id, mdl_fail *fail) {
  return take_back(r, &r->redo, AS_REDO, local_id, fail);
}

uint32_t mdl_replica_n_undo(const mdl_replica *r) {
  return r->undo.n;
}
uint32_t mdl_replica_n_redo(const mdl_replica *r) {
  return r->redo.n;
}

int mdl_replica_submit(mdl_replica *r, const mdl_txn *txn, uint32_t *local_id, mdl_fail *fail) {
  *local_id = 0;
  if (r->n_pending == PENDING_MAX) {
    if (fail) {
      fail->code = MDL_ERR_FULL, fail->op_index = 0;
      memcpy(fail->reason, "too many edits waiting for the server", 38);
    }
    return MDL_ERR_FULL;
  }
  mdl_txn *copy = mdl_txn_clone(&r->alloc, txn);
  if (!copy) return set_fail(fail, MDL_ERR_NOMEM, "out of memory"), MDL_ERR_NOMEM;
  pending *q = at(r, r->n_pending);
  memset(&q->j, 0, sizeof q->j);
  int rc = mdl__txn_apply_keep(view_of(r), copy, 0, &q->j, fail);
  if (rc) {
    mdl__j_free(r->p, &q->j);
    mdl_txn_free(&r->alloc, copy);
    return rc;
  }
  r->n_pending++;
  q->applied = true;
  q->local_id = r->next_local++;
  q->txn = copy;
  *local_id = q->local_id;
  return MDL_OK;
}

/* Removes the oldest pending transaction. */
static void pop(mdl_replica *r) {
  mdl__j_free(r->p, &at(r, 0)->j);
  mdl_txn_free(&r->alloc, at(r, 0)->txn);
  r->head = (r->head + 1) % PENDING_MAX;
  r->n_pending--;
}

int mdl_replica_on_ack(mdl_replica *r, uint32_t local_id, uint64_t seq) {
  if (r->n_pending == 0 || at(r, 0)->local_id != local_id) return MDL_ERR_NOT_FOUND;
  pending *q = at(r, 0);
  int rc = MDL_OK;
  if (r->confirmed) {
    rc = mdl_txn_apply(r->p, q->txn, 0, NULL);
  } else if (q->applied) {
    mdl__j_commit(r->p, &q->j); /* the oldest journal: the view already holds it */
  } else {
    rc = MDL_ERR_INVALID; /* acknowledged, yet it did not apply here: out of step */
  }
  pop(r);
  r->seq = seq;
  return rc;
}

int mdl_replica_on_reject(mdl_replica *r, uint32_t local_id) {
  stack_drop(r, &r->undo, local_id);
  stack_drop(r, &r->redo, local_id);
  for (uint32_t i = 0; i < r->n_pending; i++) {
    if (at(r, i)->local_id != local_id) continue;
    to_confirmed(r);
    mdl__j_free(r->p, &at(r, i)->j);
    mdl_txn_free(&r->alloc, at(r, i)->txn);
    for (uint32_t k = i; k + 1 < r->n_pending; k++)
      *at(r, k) = *at(r, k + 1);
    r->n_pending--;
    return MDL_OK;
  }
  return MDL_ERR_NOT_FOUND;
}

int mdl_replica_on_remote(mdl_replica *r, uint64_t seq, const mdl_txn *txn, mdl_fail *fail) {
  to_confirmed(r);
  int rc = mdl_txn_apply(r->p, txn, 0, fail);
  if (rc) return rc;
  r->seq = seq;
  return MDL_OK;
}

const mdl_project *mdl_replica_view(mdl_replica *r) {
  return view_of(r);
}
const mdl_project *mdl_replica_confirmed(mdl_replica *r) {
  to_confirmed(r);
  return r->p;
}
uint64_t mdl_replica_seq(const mdl_replica *r) {
  return r->seq;
}
uint32_t mdl_replica_client_id(const mdl_replica *r) {
  return r->client_id;
}
uint32_t mdl_replica_n_pending(const mdl_replica *r) {
  return r->n_pending;
}

const mdl_txn *mdl_replica_pending(const mdl_replica *r, uint32_t i, uint32_t *local_id) {
  if (i >= r->n_pending) return NULL;
  const pending *p = &r->queue[(r->head + i) % PENDING_MAX];
  if (local_id) *local_id = p->local_id;
  return p->txn;
}
