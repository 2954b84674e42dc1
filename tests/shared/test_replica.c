/* Replica: optimistic apply, ack, reject, rebase on remote transactions. */
#include "shared/mdl_err.h"
#include "shared/mdl_replica.h"
#include "test_util.h"

#include <criterion/criterion.h>

/* A tiny in-memory "server": applies in arrival order and numbers. */
typedef struct server {
  mdl_project *p;
  uint64_t seq;
} server;

static uint32_t n_tracks(const mdl_project *p) {
  return mdl_tracks(p, NULL, 0);
}

/* The I-th track in display order. */
static mdl_id track_at(const mdl_project *p, uint32_t i) {
  mdl_id ids[256];
  uint32_t n = mdl_tracks(p, ids, 256);
  return i < n ? ids[i] : MDL_ID_NONE;
}

Test(mdl_replica, local_edit_shows_at_once_and_ack_confirms_it) {
  test_heap h = {0, 0, -1};
  mdl_alloc a = th_make(&h);
  mdl_replica *r = mdl_replica_create(&a);
  mdl_project *snap = mdl_project_create(&a, "S");
  mdl_replica_reset(r, 5, snap, 10, 0);
  mdl_project_destroy(snap);
  mdl_id id = mdl_replica_new_id(r);
  cr_assert_eq(MDL_ID_CLIENT(id), 5);
  uint32_t lid;
  mdl_txn t = TXN(op_create(id));
  cr_assert_eq(mdl_replica_submit(r, &t, &lid, NULL), MDL_OK);
  cr_assert_eq(n_tracks(mdl_replica_view(r)), 1);
  cr_assert_eq(n_tracks(mdl_replica_confirmed(r)), 0);
  cr_assert_eq(mdl_replica_on_ack(r, lid, 11), MDL_OK);
  cr_assert_eq(n_tracks(mdl_replica_confirmed(r)), 1);
  cr_assert_eq(mdl_replica_seq(r), 11);
  cr_assert_eq(mdl_replica_n_pending(r), 0);
  mdl_replica_destroy(r);
  cr_assert_eq(h.live, 0);
}

Test(mdl_replica, remote_edit_rebases_pending_and_reject_drops) {
  test_heap h = {0, 0, -1};
  mdl_alloc a = th_make(&h);
  mdl_replica *r = mdl_replica_create(&a);
  server s = {mdl_project_create(&a, "S"), 0};
  mdl_id t1 = MDL_ID_MAKE(9, 1);
  mdl_txn mk = TXN(op_create(t1));
  cr_assert_eq(mdl_txn_apply(s.p, &mk, 0, NULL), 0);
  mdl_replica_reset(r, 5, s.p, 1, 0);
  uint32_t l1, l2;
  mdl_txn g = TXN(op_set(t1, MDL_PROP_GAIN, v_real(0.5)));
  mdl_txn n = TXN(op_set(t1, MDL_PROP_NAME, v_str("Mine")));
  cr_assert_eq(mdl_replica_submit(r, &g, &l1, NULL), 0);
  cr_assert_eq(mdl_replica_submit(r, &n, &l2, NULL), 0);
  /* Someone else renamed it first (server order): our pending rename wins in the view. */
  mdl_txn other =
      TXN(op_set(t1, MDL_PROP_NAME, v_str("Theirs")), op_set(t1, MDL_PROP_PAN, v_real(1)));
  cr_assert_eq(mdl_replica_on_remote(r, 2, &other, NULL), 0);
  cr_assert_str_eq(mdl_get_str(mdl_replica_view(r), t1, MDL_PROP_NAME, NULL), "Mine");
  cr_assert_eq(mdl_get_real(mdl_replica_view(r), t1, MDL_PROP_PAN), 1.0);
  cr_assert_eq(mdl_get_real(mdl_replica_view(r), t1, MDL_PROP_GAIN), 0.5);
  cr_assert_str_eq(mdl_get_str(mdl_replica_confirmed(r), t1, MDL_PROP_NAME, NULL), "Theirs");
  /* The server rejects the gain: view drops it. */
  cr_assert_eq(mdl_replica_on_reject(r, l1), 0);
  cr_assert_eq(mdl_get_real(mdl_replica_view(r), t1, MDL_PROP_GAIN), 1.0);
  cr_assert_eq(mdl_replica_on_ack(r, l2, 3), 0);
  uint64_t view = mdl_project_hash(mdl_replica_view(r));
  cr_assert_eq(view, mdl_project_hash(mdl_replica_confirmed(r)));
  mdl_replica_destroy(r);
  mdl_project_destroy(s.p);
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
    mdl_project *snap = mdl_project_create(&a, "S");
    if (!snap) {
      mdl_replica_destroy(r);
      cr_assert_eq(h.live, 0);
      continue;
    }
    int reset = mdl_replica_reset(r, 1, snap, 0, 0);
    mdl_project_destroy(snap);
    if (reset) {
      mdl_replica_destroy(r);
      cr_assert_eq(h.live, 0);
      continue;
    }
    uint32_t lid;
    mdl_txn t = TXN(op_create(mdl_replica_new_id(r)));
    int rc = mdl_replica_submit(r, &t, &lid, NULL);
    if (rc == MDL_ERR_NOMEM) {
      cr_assert_eq(n_tracks(mdl_replica_view(r)), 0, "no half state after OOM");
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
  server s = {mdl_project_create(&a, "S"), 0};
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
    mdl_replica_reset(c[i], (uint32_t) i + 1, s.p, 0, 0);
  }
  unsigned seed = 12345;
#define RND(n) ((seed = seed * 1103515245u + 12345u) >> 16) % (n)
  for (int step = 0; step < STEPS; step++) {
    int i = (int) RND(N);
    int what = (int) RND(3);
    if (what == 0 && qn[i] < 64) { /* local edit */
      const mdl_project *v = mdl_replica_view(c[i]);
      mdl_op op;
      if (n_tracks(v) == 0 || RND(5) == 0) {
        op = op_create(mdl_replica_new_id(c[i]));
      } else {
        mdl_id target = track_at(v, RND(n_tracks(v)));
        switch (RND(4)) {
          case 0:
            op = op_set(target, MDL_PROP_GAIN, v_real(RND(400) / 100.0));
            break;
          case 1:
            op = op_move(target, RND(2) ? MDL_ID_NONE : track_at(v, RND(n_tracks(v))));
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
      if (mdl_txn_apply(s.p, f.txn, (uint32_t) i + 1, NULL) == 0) {
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
      if (mdl_txn_apply(s.p, f.txn, (uint32_t) i + 1, NULL) == 0) {
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
    cr_assert_eq(mdl_project_hash(mdl_replica_view(c[i])), mdl_project_hash(s.p),
                 "client %d diverged", i);
    mdl_replica_destroy(c[i]);
  }
  cr_assert_gt(s.seq, 500);
  for (uint64_t k = 0; k < s.seq; k++)
    mdl_txn_free(&a, log[k]);
  mdl_project_destroy(s.p);
  cr_assert_eq(h.live, 0);
}

/* ---- Undo / redo ------------------------------------------------------------ */

typedef struct world {
  mdl_project *server;
  uint64_t seq;
  mdl_replica *r[2];
  test_heap heap;
  mdl_alloc a;
} world;

/* Sends every pending transaction of every replica to the server in turn,
 * acks or rejects it, and broadcasts it to the other replica. */
static void sync_all(world *w) {
  for (int busy = 1; busy;) {
    busy = 0;
    for (int i = 0; i < 2; i++) {
      uint32_t lid;
      const mdl_txn *t = mdl_replica_pending(w->r[i], 0, &lid);
      if (!t) continue;
      busy = 1;
      mdl_txn *copy = mdl_txn_clone(&w->a, t);
      if (mdl_txn_apply(w->server, copy, mdl_replica_client_id(w->r[i]), NULL)) {
        cr_assert_eq(mdl_replica_on_reject(w->r[i], lid), 0);
      } else {
        w->seq++;
        cr_assert_eq(mdl_replica_on_ack(w->r[i], lid, w->seq), 0);
        cr_assert_eq(mdl_replica_on_remote(w->r[1 - i], w->seq, copy, NULL), 0);
      }
      mdl_txn_free(&w->a, copy);
    }
  }
  for (int i = 0; i < 2; i++)
    cr_assert_eq(mdl_project_hash(mdl_replica_view(w->r[i])), mdl_project_hash(w->server));
}

static void world_init(world *w) {
  memset(w, 0, sizeof *w);
  w->heap.fail_at = -1;
  w->a = th_make(&w->heap);
  w->server = mdl_project_create(&w->a, "W");
  for (int i = 0; i < 2; i++) {
    w->r[i] = mdl_replica_create(&w->a);
    mdl_replica_reset(w->r[i], (uint32_t) i + 2, w->server, 0, 0);
  }
}

static void world_fini(world *w) {
  for (int i = 0; i < 2; i++)
    mdl_replica_destroy(w->r[i]);
  mdl_project_destroy(w->server);
  cr_assert_eq(w->heap.live, 0, "every undo record freed");
}

static uint32_t edit(world *w, int who, mdl_txn t) {
  uint32_t lid;
  cr_assert_eq(mdl_replica_edit(w->r[who], &t, &lid, NULL), 0);
  return lid;
}

/* Property PROP of the I-th track as WHO sees it. */
static double track_prop(world *w, int who, int i, int prop) {
  const mdl_project *v = mdl_replica_view(w->r[who]);
  return mdl_get_real(v, track_at(v, (uint32_t) i), prop);
}

static mdl_id track_id(world *w, int who, int i) {
  return track_at(mdl_replica_view(w->r[who]), (uint32_t) i);
}

Test(mdl_undo, undo_and_redo_take_back_own_edits_only) {
  world w;
  world_init(&w);
  mdl_id a = MDL_ID_MAKE(2, 1);
  edit(&w, 0, TXN(op_create(a)));
  sync_all(&w);
  edit(&w, 0, TXN(op_set(a, MDL_PROP_GAIN, v_real(0.5))));
  edit(&w, 1, TXN(op_set(a, MDL_PROP_PAN, v_real(-1))));
  sync_all(&w);
  uint32_t lid;
  cr_assert_eq(mdl_replica_undo(w.r[0], &lid, NULL), 0);
  sync_all(&w);
  cr_assert_eq(track_prop(&w, 1, 0, MDL_PROP_GAIN), 1.0, "alice's gain is taken back");
  cr_assert_eq(track_prop(&w, 1, 0, MDL_PROP_PAN), -1.0, "bob's pan stays");
  cr_assert_eq(mdl_replica_redo(w.r[0], &lid, NULL), 0);
  sync_all(&w);
  cr_assert_eq(track_prop(&w, 1, 0, MDL_PROP_GAIN), 0.5);
  /* Bob's undo takes back bob's pan only. */
  cr_assert_eq(mdl_replica_undo(w.r[1], &lid, NULL), 0);
  sync_all(&w);
  cr_assert_eq(track_prop(&w, 0, 0, MDL_PROP_PAN), 0.0);
  cr_assert_eq(track_prop(&w, 0, 0, MDL_PROP_GAIN), 0.5);
  cr_assert_eq(mdl_replica_undo(w.r[1], &lid, NULL), MDL_ERR_NOT_FOUND, "bob made nothing else");
  world_fini(&w);
}

Test(mdl_undo, a_property_someone_else_changed_since_is_skipped) {
  world w;
  world_init(&w);
  mdl_id a = MDL_ID_MAKE(2, 1);
  edit(&w, 0, TXN(op_create(a)));
  edit(&w, 0, TXN(op_set(a, MDL_PROP_GAIN, v_real(0.5)), op_set(a, MDL_PROP_MUTE, v_bool(true))));
  sync_all(&w);
  edit(&w, 1, TXN(op_set(a, MDL_PROP_GAIN, v_real(0.7))));
  sync_all(&w);
  uint32_t lid;
  mdl_fail f;
  cr_assert_eq(mdl_replica_undo(w.r[0], &lid, &f), 0);
  sync_all(&w);
  cr_assert_eq(track_prop(&w, 0, 0, MDL_PROP_GAIN), 0.7, "bob's later gain is not alice's to undo");
  cr_assert_eq(track_prop(&w, 0, 0, MDL_PROP_MUTE), 0, "alice's mute is");
  /* The next undo takes back the create: the track goes, with bob's gain. */
  cr_assert_eq(mdl_replica_undo(w.r[0], &lid, &f), 0);
  sync_all(&w);
  cr_assert_eq(n_tracks(mdl_replica_view(w.r[0])), 0);
  cr_assert_eq(mdl_replica_undo(w.r[0], &lid, &f), MDL_ERR_NOT_FOUND);
  cr_assert_str_eq(f.reason, "nothing to undo");
  /* Redo brings it back under its own id. */
  cr_assert_eq(mdl_replica_redo(w.r[0], &lid, NULL), 0);
  sync_all(&w);
  cr_assert_eq(track_id(&w, 1, 0), a);
  world_fini(&w);
}

Test(mdl_undo, deleted_and_moved_tracks_come_back_where_they_stood) {
  world w;
  world_init(&w);
  mdl_id a = MDL_ID_MAKE(2, 1), b = MDL_ID_MAKE(2, 2), c = MDL_ID_MAKE(2, 3);
  mdl_prop_value pv[] = {{MDL_PROP_NAME, v_str("Bass")}, {MDL_PROP_GAIN, v_real(0.25)}};
  mdl_op cb = op_create(b);
  cb.n_props = 2, cb.props = pv;
  edit(&w, 0, TXN(op_create(a), cb, op_create(c)));
  sync_all(&w);
  /* Bob deletes alice's Bass, then moves C first; bob undoes both. */
  edit(&w, 1, TXN(op_delete(b)));
  edit(&w, 1, TXN(op_move(c, MDL_ID_NONE)));
  sync_all(&w);
  cr_assert_eq(track_id(&w, 0, 0), c);
  uint32_t lid;
  cr_assert_eq(mdl_replica_undo(w.r[1], &lid, NULL), 0);
  sync_all(&w);
  cr_assert(track_id(&w, 0, 0) == a && track_id(&w, 0, 1) == c, "C back after A");
  cr_assert_eq(mdl_replica_undo(w.r[1], &lid, NULL), 0);
  sync_all(&w);
  const mdl_project *v = mdl_replica_view(w.r[0]);
  cr_assert_eq(n_tracks(v), 3);
  cr_assert_str_eq(mdl_get_str(v, track_at(v, 1), MDL_PROP_NAME, NULL), "Bass",
                   "Bass back between A and C");
  cr_assert_eq(mdl_get_real(v, track_at(v, 1), MDL_PROP_GAIN), 0.25);
  cr_assert_eq(MDL_ID_CLIENT(track_at(v, 1)), 3, "re-made in bob's id space: ids never collide");
  world_fini(&w);
}

Test(mdl_undo, a_refused_undo_is_forgotten_and_oom_leaves_no_half_state) {
  for (long n = 0;; n++) {
    world w;
    world_init(&w);
    mdl_id a = MDL_ID_MAKE(2, 1);
    edit(&w, 0, TXN(op_create(a), op_set(a, MDL_PROP_GAIN, v_real(2))));
    sync_all(&w);
    uint64_t before = mdl_project_hash(mdl_replica_view(w.r[0]));
    w.heap.fail_at = w.heap.n_allocs + n;
    uint32_t lid;
    int rc = mdl_replica_undo(w.r[0], &lid, NULL);
    w.heap.fail_at = -1;
    if (rc == MDL_ERR_NOMEM) {
      cr_assert_eq(mdl_project_hash(mdl_replica_view(w.r[0])), before, "no half undo");
      cr_assert_eq(mdl_replica_n_pending(w.r[0]), 0);
      cr_assert_eq(mdl_replica_n_undo(w.r[0]), 1, "the step can be tried again");
      world_fini(&w);
      continue;
    }
    cr_assert_eq(rc, 0);
    /* The server refuses it: the step is gone from both stacks. */
    cr_assert_eq(mdl_replica_on_reject(w.r[0], lid), 0);
    cr_assert_eq(mdl_replica_n_undo(w.r[0]) + mdl_replica_n_redo(w.r[0]), 0);
    cr_assert_eq(mdl_project_hash(mdl_replica_view(w.r[0])), before);
    world_fini(&w);
    break;
  }
}

/* One edit that makes a clip and moves a note into it (a split) is undone
 * in one step: the note goes back first, then the new clip goes. */
Test(mdl_undo, an_edit_that_makes_and_moves_into_is_undone_whole) {
  world w;
  world_init(&w);
  mdl_id t = MDL_ID_MAKE(2, 1), c1 = MDL_ID_MAKE(2, 2), c2 = MDL_ID_MAKE(2, 3),
         n = MDL_ID_MAKE(2, 4);
  edit(&w, 0,
       TXN(op_make(MDL_TYPE_TRACK, t, 0, 0, NULL), op_make(MDL_TYPE_CLIP, c1, t, 0, NULL),
           op_make(MDL_TYPE_NOTE, n, c1, 0, NULL)));
  sync_all(&w);
  uint64_t before = mdl_project_hash(mdl_replica_view(w.r[0]));
  edit(&w, 0, TXN(op_make(MDL_TYPE_CLIP, c2, t, 0, NULL), op_move_to(n, c2, 0)));
  sync_all(&w);
  cr_assert_eq(mdl_parent_of(mdl_replica_view(w.r[1]), n), c2);
  uint32_t lid;
  mdl_fail f;
  cr_assert_eq(mdl_replica_undo(w.r[0], &lid, &f), 0, "%s", f.reason);
  sync_all(&w);
  cr_assert_eq(mdl_parent_of(mdl_replica_view(w.r[1]), n), c1);
  cr_assert_eq(mdl_type_of(mdl_replica_view(w.r[1]), c2), 0);
  cr_assert_eq(mdl_project_hash(mdl_replica_view(w.r[0])), before);
  world_fini(&w);
}
