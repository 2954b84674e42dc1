/* Replica: optimistic apply, ack, reject, rebase on remote transactions. */
#include "shared/mdl_err.h"
#include "shared/mdl_replica.h"
#include "test_util.h"

#include <criterion/criterion.h>

/* A tiny in-memory "server": applies in arrival order and numbers. */
typedef struct server {
  mdl_project p, scratch;
  uint64_t seq;
} server;

Test(mdl_replica, local_edit_shows_at_once_and_ack_confirms_it) {
  test_heap h = {0, 0, -1};
  mdl_alloc a = th_make(&h);
  mdl_replica *r = mdl_replica_create(&a);
  mdl_project snap;
  mdl_project_init(&snap, "S");
  mdl_replica_reset(r, 5, &snap, 10, 0);
  mdl_id id = mdl_replica_new_id(r);
  cr_assert_eq(MDL_ID_CLIENT(id), 5);
  uint32_t lid;
  mdl_txn t = TXN(op_create(id));
  cr_assert_eq(mdl_replica_submit(r, &t, &lid, NULL), MDL_OK);
  cr_assert_eq(mdl_replica_view(r)->n_tracks, 1);
  cr_assert_eq(mdl_replica_confirmed(r)->n_tracks, 0);
  cr_assert_eq(mdl_replica_on_ack(r, lid, 11), MDL_OK);
  cr_assert_eq(mdl_replica_confirmed(r)->n_tracks, 1);
  cr_assert_eq(mdl_replica_seq(r), 11);
  cr_assert_eq(mdl_replica_n_pending(r), 0);
  mdl_replica_destroy(r);
  cr_assert_eq(h.live, 0);
}

Test(mdl_replica, remote_edit_rebases_pending_and_reject_drops) {
  test_heap h = {0, 0, -1};
  mdl_alloc a = th_make(&h);
  mdl_replica *r = mdl_replica_create(&a);
  server s = {0};
  mdl_project_init(&s.p, "S");
  mdl_id t1 = MDL_ID_MAKE(9, 1);
  mdl_txn mk = TXN(op_create(t1));
  cr_assert_eq(mdl_txn_apply(&s.p, &mk, 0, &s.scratch, NULL), 0);
  mdl_replica_reset(r, 5, &s.p, 1, 0);
  uint32_t l1, l2;
  mdl_txn g = TXN(op_set(t1, MDL_PROP_GAIN, v_real(0.5)));
  mdl_txn n = TXN(op_set(t1, MDL_PROP_NAME, v_str("Mine")));
  cr_assert_eq(mdl_replica_submit(r, &g, &l1, NULL), 0);
  cr_assert_eq(mdl_replica_submit(r, &n, &l2, NULL), 0);
  /* Someone else renamed it first (server order): our pending rename wins in the view. */
  mdl_txn other =
      TXN(op_set(t1, MDL_PROP_NAME, v_str("Theirs")), op_set(t1, MDL_PROP_PAN, v_real(1)));
  cr_assert_eq(mdl_replica_on_remote(r, 2, &other, NULL), 0);
  cr_assert_str_eq(mdl_replica_view(r)->tracks[0].name, "Mine");
  cr_assert_eq(mdl_replica_view(r)->tracks[0].pan, 1.0);
  cr_assert_eq(mdl_replica_view(r)->tracks[0].gain, 0.5);
  cr_assert_str_eq(mdl_replica_confirmed(r)->tracks[0].name, "Theirs");
  /* The server rejects the gain: view drops it. */
  cr_assert_eq(mdl_replica_on_reject(r, l1), 0);
  cr_assert_eq(mdl_replica_view(r)->tracks[0].gain, 1.0);
  cr_assert_eq(mdl_replica_on_ack(r, l2, 3), 0);
  cr_assert_eq(mdl_project_hash(mdl_replica_view(r)), mdl_project_hash(mdl_replica_confirmed(r)));
  mdl_replica_destroy(r);
  cr_assert_eq(h.live, 0);
}

Test(mdl_replica, submit_fails_cleanly_at_every_allocation) {
  for (long n = 0;; n++) {
    test_heap h = {0, 0, n};
    mdl_alloc a = th_make(&h);
    mdl_replica *r = mdl_replica_create(&a);
    if (!r) {
      cr_assert_eq(h.live, 0);
      continue;
    }
    mdl_project snap;
    mdl_project_init(&snap, "S");
    mdl_replica_reset(r, 1, &snap, 0, 0);
    uint32_t lid;
    mdl_txn t = TXN(op_create(mdl_replica_new_id(r)));
    int rc = mdl_replica_submit(r, &t, &lid, NULL);
    if (rc == MDL_ERR_NOMEM) {
      cr_assert_eq(mdl_replica_view(r)->n_tracks, 0, "no half state after OOM");
      cr_assert_eq(mdl_replica_n_pending(r), 0);
    }
    mdl_replica_destroy(r);
    cr_assert_eq(h.live, 0);
    if (rc == MDL_OK) break;
  }
}

Test(mdl_replica, random_clients_converge_with_server) {
  enum { N = 4, STEPS = 3000 };
  test_heap h = {0, 0, -1};
  mdl_alloc a = th_make(&h);
  server s = {0};
  mdl_project_init(&s.p, "S");
  mdl_replica *c[N];
  /* In-flight submits per client, delivered to the server in random order
   * across clients but in order per client. */
  typedef struct {
    uint32_t lid;
    mdl_txn *txn;
  } flight;
  flight q[N][64];
  int qn[N] = {0};
  /* Log of server-accepted transactions for delivering broadcasts. */
  static mdl_txn *log[STEPS * 2];
  static uint32_t origin[STEPS * 2];
  uint64_t delivered[N] = {0};
  for (int i = 0; i < N; i++) {
    c[i] = mdl_replica_create(&a);
    mdl_replica_reset(c[i], (uint32_t) i + 1, &s.p, 0, 0);
  }
  unsigned seed = 12345;
#define RND(n) ((seed = seed * 1103515245u + 12345u) >> 16) % (n)
  for (int step = 0; step < STEPS; step++) {
    int i = (int) RND(N);
    int what = (int) RND(3);
    if (what == 0 && qn[i] < 64) { /* local edit */
      const mdl_project *v = mdl_replica_view(c[i]);
      mdl_op op;
      if (v->n_tracks == 0 || RND(5) == 0) {
        op = op_create(mdl_replica_new_id(c[i]));
      } else {
        mdl_id target = v->tracks[RND(v->n_tracks)].id;
        switch (RND(4)) {
          case 0:
            op = op_set(target, MDL_PROP_GAIN, v_real(RND(400) / 100.0));
            break;
          case 1:
            op = op_move(target, RND(2) ? MDL_ID_NONE : v->tracks[RND(v->n_tracks)].id);
            break;
          case 2:
            op = op_delete(target);
            break;
          default:
            op = op_set(target, MDL_PROP_NAME, v_str(RND(2) ? "a" : "b"));
            break;
        }
      }
      mdl_txn t = {1, &op};
      uint32_t lid;
      if (mdl_replica_submit(c[i], &t, &lid, NULL) == 0) {
        q[i][qn[i]].lid = lid;
        q[i][qn[i]].txn = mdl_txn_clone(&a, &t);
        qn[i]++;
      }
    } else if (what == 1 && qn[i] > 0) { /* server receives the oldest submit */
      flight f = q[i][0];
      memmove(&q[i][0], &q[i][1], (size_t) (qn[i] - 1) * sizeof q[i][0]);
      qn[i]--;
      if (mdl_txn_apply(&s.p, f.txn, (uint32_t) i + 1, &s.scratch, NULL) == 0) {
        log[s.seq] = f.txn;
        origin[s.seq] = (uint32_t) i + 1;
        s.seq++;
        /* Everything before this seq must reach the client first (FIFO socket). */
        while (delivered[i] < s.seq - 1) {
          if (origin[delivered[i]] != (uint32_t) i + 1)
            cr_assert_eq(mdl_replica_on_remote(c[i], delivered[i] + 1, log[delivered[i]], NULL), 0);
          delivered[i]++;
        }
        cr_assert_eq(mdl_replica_on_ack(c[i], f.lid, s.seq), 0);
        delivered[i]++;
      } else {
        cr_assert_eq(mdl_replica_on_reject(c[i], f.lid), 0);
        mdl_txn_free(&a, f.txn);
      }
    } else { /* broadcasts reach client i */
      while (delivered[i] < s.seq) {
        if (origin[delivered[i]] != (uint32_t) i + 1)
          cr_assert_eq(mdl_replica_on_remote(c[i], delivered[i] + 1, log[delivered[i]], NULL), 0);
        delivered[i]++;
      }
    }
  }
  /* Drain: deliver every submit, then every broadcast. */
  for (int i = 0; i < N; i++)
    while (qn[i] > 0) {
      flight f = q[i][0];
      memmove(&q[i][0], &q[i][1], (size_t) (qn[i] - 1) * sizeof q[i][0]);
      qn[i]--;
      if (mdl_txn_apply(&s.p, f.txn, (uint32_t) i + 1, &s.scratch, NULL) == 0) {
        log[s.seq] = f.txn, origin[s.seq] = (uint32_t) i + 1, s.seq++;
        while (delivered[i] < s.seq - 1) {
          if (origin[delivered[i]] != (uint32_t) i + 1)
            mdl_replica_on_remote(c[i], delivered[i] + 1, log[delivered[i]], NULL);
          delivered[i]++;
        }
        mdl_replica_on_ack(c[i], f.lid, s.seq);
        delivered[i]++;
      } else {
        mdl_replica_on_reject(c[i], f.lid);
        mdl_txn_free(&a, f.txn);
      }
    }
  for (int i = 0; i < N; i++) {
    while (delivered[i] < s.seq) {
      if (origin[delivered[i]] != (uint32_t) i + 1)
        cr_assert_eq(mdl_replica_on_remote(c[i], delivered[i] + 1, log[delivered[i]], NULL), 0);
      delivered[i]++;
    }
    cr_assert_eq(mdl_replica_n_pending(c[i]), 0);
    cr_assert_eq(mdl_project_hash(mdl_replica_view(c[i])), mdl_project_hash(&s.p),
                 "client %d diverged", i);
    mdl_replica_destroy(c[i]);
  }
  cr_assert_gt(s.seq, 500);
  for (uint64_t k = 0; k < s.seq; k++)
    mdl_txn_free(&a, log[k]);
  cr_assert_eq(h.live, 0);
}
