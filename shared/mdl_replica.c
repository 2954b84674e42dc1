/* mdl_replica: confirmed state + pending queue, rebased on the server's order. */
#include "shared/mdl_replica.h"
#include "shared/mdl_err.h"

#include <string.h>

#define PENDING_MAX 4096 /* unacknowledged transactions kept while offline */

typedef struct pending {
  uint32_t local_id;
  mdl_txn *txn; /* owned clone */
} pending;

struct mdl_replica {
  mdl_alloc alloc;
  uint32_t client_id;
  uint32_t next_counter; /* low half of new ids */
  uint32_t next_local;   /* next local transaction number */
  uint64_t seq;          /* last server sequence applied to confirmed */
  mdl_project confirmed;
  mdl_project view;
  mdl_project scratch;
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
  mdl_project_init(&r->confirmed, NULL);
  mdl_project_init(&r->view, NULL);
  return r;
}

void mdl_replica_destroy(mdl_replica *r) {
  if (!r) return;
  for (uint32_t i = 0; i < r->n_pending; i++)
    mdl_txn_free(&r->alloc, r->queue[(r->head + i) % PENDING_MAX].txn);
  mdl_alloc a = r->alloc;
  a.free(a.ud, r, sizeof *r);
}

static pending *at(mdl_replica *r, uint32_t i) {
  return &r->queue[(r->head + i) % PENDING_MAX];
}

/* view = confirmed + every pending transaction that still applies. */
static void rebuild(mdl_replica *r) {
  memcpy(&r->view, &r->confirmed, sizeof r->view);
  for (uint32_t i = 0; i < r->n_pending; i++)
    (void) mdl_txn_apply(&r->view, at(r, i)->txn, 0, &r->scratch, NULL);
}

static void pop(mdl_replica *r);

void mdl_replica_reset(mdl_replica *r, uint32_t client_id, const mdl_project *snapshot,
                       uint64_t seq, uint32_t last_local) {
  if (client_id != r->client_id) {
    r->next_counter = 1;
  } else {
    /* Local ids grow in submit order: what the log holds is a prefix. */
    while (r->n_pending && at(r, 0)->local_id <= last_local)
      pop(r);
  }
  r->client_id = client_id;
  r->seq = seq;
  memcpy(&r->confirmed, snapshot, sizeof r->confirmed);
  rebuild(r);
}

mdl_id mdl_replica_new_id(mdl_replica *r) {
  if (r->client_id == 0) return MDL_ID_NONE;
  return MDL_ID_MAKE(r->client_id, r->next_counter++);
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
  int rc = mdl_txn_apply(&r->view, txn, 0, &r->scratch, fail);
  if (rc) return rc;
  mdl_txn *copy = mdl_txn_clone(&r->alloc, txn);
  if (!copy) {
    rebuild(r);
    if (fail)
      fail->code = MDL_ERR_NOMEM, fail->op_index = 0, memcpy(fail->reason, "out of memory", 14);
    return MDL_ERR_NOMEM;
  }
  pending *p = at(r, r->n_pending++);
  p->local_id = r->next_local++;
  p->txn = copy;
  *local_id = p->local_id;
  return MDL_OK;
}

/* Removes the oldest pending transaction. */
static void pop(mdl_replica *r) {
  mdl_txn_free(&r->alloc, at(r, 0)->txn);
  r->head = (r->head + 1) % PENDING_MAX;
  r->n_pending--;
}

int mdl_replica_on_ack(mdl_replica *r, uint32_t local_id, uint64_t seq) {
  if (r->n_pending == 0 || at(r, 0)->local_id != local_id) return MDL_ERR_NOT_FOUND;
  int rc = mdl_txn_apply(&r->confirmed, at(r, 0)->txn, 0, &r->scratch, NULL);
  pop(r);
  r->seq = seq;
  /* The view already holds this edit; only a failure (a bug) needs a rebuild. */
  if (rc) rebuild(r);
  return rc;
}

int mdl_replica_on_reject(mdl_replica *r, uint32_t local_id) {
  for (uint32_t i = 0; i < r->n_pending; i++) {
    if (at(r, i)->local_id != local_id) continue;
    mdl_txn_free(&r->alloc, at(r, i)->txn);
    for (uint32_t k = i; k + 1 < r->n_pending; k++)
      *at(r, k) = *at(r, k + 1);
    r->n_pending--;
    rebuild(r);
    return MDL_OK;
  }
  return MDL_ERR_NOT_FOUND;
}

int mdl_replica_on_remote(mdl_replica *r, uint64_t seq, const mdl_txn *txn, mdl_fail *fail) {
  int rc = mdl_txn_apply(&r->confirmed, txn, 0, &r->scratch, fail);
  if (rc) return rc;
  r->seq = seq;
  rebuild(r);
  return MDL_OK;
}

const mdl_project *mdl_replica_view(const mdl_replica *r) {
  return &r->view;
}
const mdl_project *mdl_replica_confirmed(const mdl_replica *r) {
  return &r->confirmed;
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
