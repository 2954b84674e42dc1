/* Model: ops, validation, atomic transactions, hash. */
#include "shared/mdl_err.h"
#include "shared/mdl_op.h"
#include "test_util.h"

#include <criterion/criterion.h>

static mdl_project p, scratch;
static const mdl_id A = MDL_ID_MAKE(2, 1), B = MDL_ID_MAKE(2, 2), C = MDL_ID_MAKE(2, 3);

static void setup(void) {
  mdl_project_init(&p, "Song");
}
TestSuite(mdl_op, .init = setup);

static int apply(mdl_txn t, mdl_fail *f) {
  return mdl_txn_apply(&p, &t, 2, &scratch, f);
}

Test(mdl_op, create_appends_track_with_defaults_and_props) {
  mdl_prop_value pv[] = {{MDL_PROP_NAME, v_str("Bass")}, {MDL_PROP_GAIN, v_real(0.5)}};
  mdl_op c = op_create(A);
  c.n_props = 2, c.props = pv;
  cr_assert_eq(apply(TXN(c), NULL), MDL_OK);
  cr_assert_eq(p.n_tracks, 1);
  cr_assert_str_eq(p.tracks[0].name, "Bass");
  cr_assert_float_eq(p.tracks[0].gain, 0.5, 1e-12);
  cr_assert_float_eq(p.tracks[0].pan, 0.0, 1e-12);
}

Test(mdl_op, set_changes_project_and_track_properties) {
  cr_assert_eq(apply(TXN(op_create(A), op_set(A, MDL_PROP_PAN, v_real(-1)),
                         op_set(A, MDL_PROP_MUTE, v_bool(true)),
                         op_set(MDL_ID_PROJECT, MDL_PROP_TEMPO, v_real(96.5)),
                         op_set(MDL_ID_PROJECT, MDL_PROP_TS_NUM, v_int(7))),
                     NULL),
               MDL_OK);
  cr_assert_eq(p.tracks[0].pan, -1.0);
  cr_assert(p.tracks[0].mute);
  cr_assert_eq(p.tempo, 96.5);
  cr_assert_eq(p.ts_num, 7);
}

Test(mdl_op, move_reorders_and_delete_removes) {
  cr_assert_eq(apply(TXN(op_create(A), op_create(B), op_create(C)), NULL), MDL_OK);
  cr_assert_eq(apply(TXN(op_move(C, MDL_ID_NONE)), NULL), MDL_OK);
  cr_assert(p.tracks[0].id == C && p.tracks[1].id == A && p.tracks[2].id == B);
  cr_assert_eq(apply(TXN(op_move(C, B)), NULL), MDL_OK);
  cr_assert(p.tracks[0].id == A && p.tracks[1].id == B && p.tracks[2].id == C);
  cr_assert_eq(apply(TXN(op_delete(B)), NULL), MDL_OK);
  cr_assert(p.n_tracks == 2 && p.tracks[1].id == C);
}

Test(mdl_op, failed_transaction_leaves_project_byte_identical) {
  cr_assert_eq(apply(TXN(op_create(A)), NULL), MDL_OK);
  mdl_project before = p;
  mdl_fail f;
  int rc = apply(TXN(op_create(B), op_set(B, MDL_PROP_GAIN, v_real(0.25)), op_delete(A),
                     op_create(C), op_set(C, MDL_PROP_GAIN, v_real(7))),
                 &f);
  cr_assert_eq(rc, MDL_ERR_RANGE);
  cr_assert_eq(f.op_index, 4);
  cr_assert_str_eq(f.reason, "op 4: gain 7 is out of range (0 to 4)");
  cr_assert_eq(memcmp(&before, &p, sizeof p), 0);
}

Test(mdl_op, refusals_name_what_was_wrong) {
  mdl_fail f;
  cr_assert_eq(apply(TXN(op_set(A, MDL_PROP_GAIN, v_real(1))), &f), MDL_ERR_NOT_FOUND);
  cr_assert_eq(apply(TXN(op_set(MDL_ID_PROJECT, MDL_PROP_GAIN, v_real(1))), &f), MDL_ERR_BAD_PROP);
  cr_assert_eq(apply(TXN(op_set(MDL_ID_PROJECT, MDL_PROP_TEMPO, v_str("fast"))), &f),
               MDL_ERR_BAD_VALUE);
  cr_assert_str_eq(f.reason, "op 0: tempo must be a number");
  cr_assert_eq(apply(TXN(op_set(MDL_ID_PROJECT, MDL_PROP_TS_DEN, v_int(3))), &f), MDL_ERR_RANGE);
  cr_assert_eq(apply(TXN(op_set(MDL_ID_PROJECT, MDL_PROP_NAME, v_str(""))), &f), MDL_ERR_RANGE);
  cr_assert_eq(apply(TXN(op_set(MDL_ID_PROJECT, MDL_PROP_NAME, v_str("bad\x01name"))), &f),
               MDL_ERR_BAD_VALUE);
  cr_assert_eq(apply(TXN(op_set(MDL_ID_PROJECT, MDL_PROP_NAME, v_str("\xc0\xaf"))), &f),
               MDL_ERR_BAD_VALUE);
  cr_assert_eq(apply(TXN(op_set(MDL_ID_PROJECT, MDL_PROP_TEMPO, v_real(0.0 / 0.0))), &f),
               MDL_ERR_RANGE);
  cr_assert_eq(apply(TXN(op_create(MDL_ID_MAKE(3, 1))), &f), MDL_ERR_ID_SPACE);
  cr_assert_eq(apply(TXN(op_create(A), op_create(A)), &f), MDL_ERR_EXISTS);
  cr_assert_eq(apply(TXN(op_delete(MDL_ID_PROJECT)), &f), MDL_ERR_FORBIDDEN);
  cr_assert_eq(apply(TXN(op_create(A), op_move(A, A)), &f), MDL_ERR_INVALID);
  mdl_op bad = {.kind = 99, .id = A};
  cr_assert_eq(apply(TXN(bad), &f), MDL_ERR_BAD_OP);
  mdl_txn empty = {0, NULL};
  cr_assert_eq(mdl_txn_apply(&p, &empty, 2, &scratch, &f), MDL_ERR_INVALID);
  cr_assert_eq(p.n_tracks, 0);
}

Test(mdl_op, track_limit_is_enforced) {
  for (uint32_t i = 1; i <= MDL_TRACKS_MAX; i++)
    cr_assert_eq(apply(TXN(op_create(MDL_ID_MAKE(2, i))), NULL), MDL_OK);
  cr_assert_eq(apply(TXN(op_create(MDL_ID_MAKE(2, 999))), NULL), MDL_ERR_FULL);
}

Test(mdl_op, hash_depends_on_every_field_and_order) {
  cr_assert_eq(apply(TXN(op_create(A), op_create(B)), NULL), MDL_OK);
  uint64_t h0 = mdl_project_hash(&p);
  mdl_project q = p;
  cr_assert_eq(mdl_project_hash(&q), h0);
  cr_assert_eq(apply(TXN(op_set(A, MDL_PROP_SOLO, v_bool(true))), NULL), MDL_OK);
  cr_assert_neq(mdl_project_hash(&p), h0);
  p = q;
  cr_assert_eq(apply(TXN(op_move(B, MDL_ID_NONE)), NULL), MDL_OK);
  cr_assert_neq(mdl_project_hash(&p), h0);
  p = q;
  cr_assert_eq(apply(TXN(op_set(A, MDL_PROP_PAN, v_real(-0.0))), NULL), MDL_OK);
  cr_assert_eq(mdl_project_hash(&p), h0, "-0 and +0 hash the same");
  char hex[17];
  mdl_hash_hex(0x0123456789abcdefULL, hex);
  cr_assert_str_eq(hex, "0123456789abcdef");
}

Test(mdl_op, txn_clone_is_deep_and_survives_oom) {
  mdl_prop_value pv[] = {{MDL_PROP_NAME, v_str("Keys")}};
  mdl_op c = op_create(A);
  c.n_props = 1, c.props = pv;
  char name[] = "Lead";
  mdl_txn t = TXN(c, op_set(A, MDL_PROP_NAME, v_str(name)));
  test_heap h = {0, 0, 0};
  mdl_alloc a = th_make(&h);
  cr_assert_null(mdl_txn_clone(&a, &t));
  cr_assert_eq(h.live, 0);
  h.fail_at = -1;
  mdl_txn *copy = mdl_txn_clone(&a, &t);
  cr_assert_not_null(copy);
  name[0] = 'X';
  cr_assert_eq(mdl_txn_apply(&p, copy, 2, &scratch, NULL), MDL_OK);
  cr_assert_str_eq(p.tracks[0].name, "Lead");
  mdl_txn_free(&a, copy);
  cr_assert_eq(h.live, 0);
}
