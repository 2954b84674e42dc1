/* Model: the object store, ops, validation, atomic transactions, hash. */
#include "shared/mdl_device.h"
#include "shared/mdl_err.h"
#include "shared/mdl_int.h"
#include "shared/mdl_key.h"
#include "shared/mdl_op.h"
#include "test_util.h"

#include <criterion/criterion.h>
#include <stdio.h>

static test_heap heap = {0, 0, -1};
static mdl_alloc al;
static mdl_project *p;
static const mdl_id A = MDL_ID_MAKE(2, 1), B = MDL_ID_MAKE(2, 2), C = MDL_ID_MAKE(2, 3),
                    D = MDL_ID_MAKE(2, 4), E = MDL_ID_MAKE(2, 5), F = MDL_ID_MAKE(2, 6);

static void setup(void) {
  heap = (test_heap){0, 0, -1};
  al = th_make(&heap);
  p = mdl_project_create(&al, "Song");
  cr_assert_not_null(p);
}
static void teardown(void) {
  mdl_project_destroy(p);
  cr_assert_eq(heap.live, 0, "%ld bytes leaked", heap.live);
}
TestSuite(mdl_op, .init = setup, .fini = teardown);

static int apply(mdl_txn t, mdl_fail *f) {
  int rc = mdl_txn_apply(p, &t, 2, f);
  char why[MDL_REASON_MAX];
  cr_assert_eq(mdl_project_check(p, why, sizeof why), MDL_OK, "%s", why);
  return rc;
}

static mdl_prop_value pv(int prop, mdl_value v) {
  return (mdl_prop_value){(uint8_t) prop, v};
}

Test(mdl_op, a_new_project_has_its_defaults_and_a_master) {
  cr_assert_str_eq(mdl_get_str(p, MDL_ID_PROJECT, MDL_PROP_NAME, NULL), "Song");
  cr_assert_eq(mdl_get_real(p, MDL_ID_PROJECT, MDL_PROP_TEMPO), 120.0);
  cr_assert_eq(mdl_get_int(p, MDL_ID_PROJECT, MDL_PROP_SAMPLE_RATE), 48000);
  cr_assert_eq(mdl_get_int(p, MDL_ID_MASTER, MDL_PROP_KIND), MDL_TRACK_MASTER);
  cr_assert_eq(mdl_count(p, 0), 2);
  cr_assert_eq(mdl_tracks(p, NULL, 0), 0, "master is not among the tracks");
}

Test(mdl_op, create_with_props_and_defaults) {
  mdl_prop_value t[] = {pv(MDL_PROP_NAME, v_str("Bass")), pv(MDL_PROP_GAIN, v_real(0.5))};
  cr_assert_eq(apply(TXN(op_make(MDL_TYPE_TRACK, A, 0, 2, t)), NULL), MDL_OK);
  cr_assert_str_eq(mdl_get_str(p, A, MDL_PROP_NAME, NULL), "Bass");
  cr_assert_eq(mdl_get_real(p, A, MDL_PROP_GAIN), 0.5);
  cr_assert_eq(mdl_get_int(p, A, MDL_PROP_KIND), MDL_TRACK_INSTRUMENT);
  cr_assert_eq(mdl_parent_of(p, A), MDL_ID_PROJECT);
}

/* A whole song's worth of objects, nested as a DAW nests them. */
static void song(void) {
  mdl_prop_value ret[] = {pv(MDL_PROP_KIND, v_int(MDL_TRACK_RETURN))};
  mdl_prop_value synth[] = {pv(MDL_PROP_KIND, v_int(MDL_DEV_SYNTH)),
                            pv(MDL_PROP_PARAM0 + 7, v_real(800))};
  mdl_prop_value send[] = {pv(MDL_PROP_TARGET, v_int((int64_t) B))};
  mdl_prop_value clip[] = {pv(MDL_PROP_START, v_int(3840)), pv(MDL_PROP_LENGTH, v_int(3840))};
  mdl_prop_value note[] = {pv(MDL_PROP_PITCH, v_int(64)), pv(MDL_PROP_START, v_int(480))};
  cr_assert_eq(
      apply(TXN(op_make(MDL_TYPE_TRACK, A, 0, 0, NULL),
                op_make(MDL_TYPE_SEND, E, A, 1, send), /* before its target: fine */
                op_make(MDL_TYPE_TRACK, B, 0, 1, ret), op_make(MDL_TYPE_DEVICE, C, A, 2, synth),
                op_make(MDL_TYPE_CLIP, D, A, 2, clip), op_make(MDL_TYPE_NOTE, F, D, 2, note)),
            NULL),
      MDL_OK);
}

Test(mdl_op, a_song_nests_tracks_devices_clips_notes_and_sends) {
  song();
  cr_assert_eq(mdl_count(p, 0), 8);
  cr_assert_eq(mdl_get_real(p, C, MDL_PROP_PARAM0 + 7), 800);
  cr_assert_eq(mdl_get_real(p, C, MDL_PROP_PARAM0 + 8), 0.2, "other params take their default");
  cr_assert_eq(mdl_get_int(p, F, MDL_PROP_VELOCITY), 100);
  mdl_id kids[8];
  cr_assert_eq(mdl_children(p, A, 0, kids, 8), 3);
  cr_assert_eq(mdl_children(p, D, MDL_TYPE_NOTE, kids, 8), 1);
  cr_assert_eq(kids[0], F);
}

Test(mdl_op, deleting_a_track_takes_its_clips_notes_devices_and_sends_to_it) {
  song();
  cr_assert_eq(apply(TXN(op_delete(B)), NULL), MDL_OK);
  cr_assert_eq(mdl_type_of(p, E), 0, "a send to a deleted track goes with it");
  cr_assert_eq(mdl_type_of(p, F), MDL_TYPE_NOTE);
  cr_assert_eq(apply(TXN(op_delete(A)), NULL), MDL_OK);
  cr_assert_eq(mdl_count(p, 0), 2, "project and master stay");
}

Test(mdl_op, references_and_parents_are_checked) {
  song();
  mdl_fail f;
  mdl_prop_value bad_send[] = {pv(MDL_PROP_TARGET, v_int((int64_t) MDL_ID_MAKE(2, 99)))};
  cr_assert_eq(apply(TXN(op_make(MDL_TYPE_SEND, MDL_ID_MAKE(2, 20), D, 0, NULL)), &f),
               MDL_ERR_INVALID, "a send on a clip");
  cr_assert_eq(apply(TXN(op_make(MDL_TYPE_SEND, MDL_ID_MAKE(2, 20), A, 1, bad_send)), &f),
               MDL_ERR_INVALID);
  cr_assert(strstr(f.reason, "return or group"), "%s", f.reason);
  mdl_prop_value synth[] = {pv(MDL_PROP_KIND, v_int(MDL_DEV_SYNTH))};
  cr_assert_eq(apply(TXN(op_make(MDL_TYPE_DEVICE, MDL_ID_MAKE(2, 21), A, 1, synth)), &f),
               MDL_ERR_EXISTS, "one instrument per track");
  cr_assert_eq(apply(TXN(op_set(C, MDL_PROP_PARAM0 + 7, v_real(5))), &f), MDL_ERR_RANGE);
  cr_assert(strstr(f.reason, "out of range (20 to 20000)"), "%s", f.reason);
  cr_assert_eq(apply(TXN(op_set(C, MDL_PROP_KIND, v_int(MDL_DEV_DRUMS))), &f), MDL_ERR_FORBIDDEN);
  cr_assert_eq(apply(TXN(op_set(F, MDL_PROP_PITCH, v_int(128))), &f), MDL_ERR_RANGE);
}

Test(mdl_op, routing_cycles_are_refused) {
  mdl_prop_value grp[] = {pv(MDL_PROP_KIND, v_int(MDL_TRACK_GROUP))};
  mdl_prop_value to_b[] = {pv(MDL_PROP_TARGET, v_int((int64_t) B))};
  cr_assert_eq(
      apply(TXN(op_make(MDL_TYPE_TRACK, A, 0, 1, grp), op_make(MDL_TYPE_TRACK, B, 0, 1, grp),
                op_set(A, MDL_PROP_OUTPUT, v_int((int64_t) B))),
            NULL),
      MDL_OK);
  mdl_fail f;
  uint64_t h = mdl_project_hash(p);
  cr_assert_eq(apply(TXN(op_make(MDL_TYPE_SEND, C, B, 1,
                                 (mdl_prop_value[]){pv(MDL_PROP_TARGET, v_int((int64_t) A))})),
                     &f),
               MDL_ERR_INVALID);
  cr_assert(strstr(f.reason, "loop"), "%s", f.reason);
  cr_assert_eq(mdl_project_hash(p), h);
  (void) to_b;
  /* B inside A while A outputs to B: a loop too. */
  cr_assert_eq(apply(TXN(op_move_to(B, A, 0)), &f), MDL_ERR_INVALID);
  cr_assert_eq(apply(TXN(op_move_to(A, A, 0)), &f), MDL_ERR_INVALID);
  cr_assert(strstr(f.reason, "inside itself"), "%s", f.reason);
  cr_assert_eq(mdl_project_hash(p), h);
}

Test(mdl_op, a_refused_transaction_leaves_no_trace) {
  song();
  uint64_t h = mdl_project_hash(p);
  uint32_t n = mdl_count(p, 0);
  mdl_fail f;
  mdl_prop_value name[] = {pv(MDL_PROP_NAME, v_str("Gone"))};
  cr_assert_eq(apply(TXN(op_set(A, MDL_PROP_NAME, v_str("Renamed")), op_delete(D),
                         op_make(MDL_TYPE_TRACK, MDL_ID_MAKE(2, 30), 0, 1, name),
                         op_move_to(MDL_ID_MAKE(2, 30), 0, 0), op_set(B, MDL_PROP_GAIN, v_real(9))),
                     &f),
               MDL_ERR_RANGE);
  cr_assert_eq(f.op_index, 4);
  cr_assert_str_eq(f.reason, "op 4: gain 9 is out of range (0 to 4)");
  cr_assert_eq(mdl_project_hash(p), h);
  cr_assert_eq(mdl_count(p, 0), n);
  cr_assert_eq(mdl_type_of(p, F), MDL_TYPE_NOTE, "the note under the deleted clip is back");
  cr_assert_str_eq(mdl_get_str(p, A, MDL_PROP_NAME, NULL), "");
}

Test(mdl_op, out_of_memory_anywhere_in_a_transaction_changes_nothing) {
  song();
  uint64_t h = mdl_project_hash(p);
  mdl_prop_value clip[] = {pv(MDL_PROP_NAME, v_str("Verse"))};
  for (long k = 0; k < 40; k++) {
    heap.fail_at = heap.n_allocs + k;
    mdl_fail f;
    int rc = apply(TXN(op_make(MDL_TYPE_CLIP, MDL_ID_MAKE(2, 40), A, 1, clip),
                       op_make(MDL_TYPE_NOTE, MDL_ID_MAKE(2, 41), MDL_ID_MAKE(2, 40), 0, NULL),
                       op_set(A, MDL_PROP_NAME, v_str("Lead")), op_delete(D)),
                   &f);
    heap.fail_at = -1;
    if (rc == MDL_OK) {
      cr_assert_neq(mdl_project_hash(p), h);
      return;
    }
    cr_assert_eq(rc, MDL_ERR_NOMEM, "%s", f.reason);
    cr_assert_eq(mdl_project_hash(p), h, "after a failure at allocation %ld", k);
  }
  cr_assert_fail("never succeeded");
}

Test(mdl_op, the_hash_does_not_depend_on_the_order_objects_were_made) {
  mdl_project *q = mdl_project_create(&al, "Song");
  mdl_op ab[] = {op_make(MDL_TYPE_TRACK, A, 0, 0, NULL), op_make(MDL_TYPE_TRACK, B, 0, 0, NULL),
                 op_set(A, MDL_PROP_ORDER, v_str("V")), op_set(B, MDL_PROP_ORDER, v_str("k"))};
  mdl_op ba[] = {ab[1], ab[0], ab[2], ab[3]};
  cr_assert_eq(mdl_txn_apply(p, &(mdl_txn){4, ab}, 2, NULL), MDL_OK);
  cr_assert_eq(mdl_txn_apply(q, &(mdl_txn){4, ba}, 2, NULL), MDL_OK);
  cr_assert_eq(mdl_project_hash(p), mdl_project_hash(q));
  cr_assert_eq(apply(TXN(op_set(A, MDL_PROP_GAIN, v_real(0.25))), NULL), MDL_OK);
  cr_assert_neq(mdl_project_hash(p), mdl_project_hash(q));
  mdl_project_destroy(q);
}

Test(mdl_op, moves_order_siblings_by_key_and_never_collide) {
  cr_assert_eq(
      apply(TXN(op_make(MDL_TYPE_TRACK, A, 0, 0, NULL), op_make(MDL_TYPE_TRACK, B, 0, 0, NULL),
                op_make(MDL_TYPE_TRACK, C, 0, 0, NULL)),
            NULL),
      MDL_OK);
  mdl_id t[4];
  cr_assert_eq(apply(TXN(op_move(C, MDL_ID_NONE)), NULL), MDL_OK);
  mdl_tracks(p, t, 4);
  cr_assert(t[0] == C && t[1] == A && t[2] == B);
  /* A thousand moves into the same gap: keys grow, then the siblings are re-keyed. */
  for (int i = 0; i < 1000; i++)
    cr_assert_eq(apply(TXN(op_move(i % 2 ? A : B, C)), NULL), MDL_OK);
  mdl_tracks(p, t, 4);
  cr_assert_eq(t[0], C);
  /* Equal keys from two clients fall back to the ids. */
  cr_assert_eq(
      apply(TXN(op_set(A, MDL_PROP_ORDER, v_str("x")), op_set(B, MDL_PROP_ORDER, v_str("x"))),
            NULL),
      MDL_OK);
  mdl_tracks(p, t, 4);
  cr_assert(t[1] == A && t[2] == B);
  cr_assert_eq(apply(TXN(op_move(C, A)), NULL), MDL_OK, "room is made between equal keys");
  mdl_tracks(p, t, 4);
  cr_assert(t[0] == A && t[1] == C && t[2] == B);
}

Test(mdl_key, between_is_strictly_between_and_valid) {
  char k[MDL_KEY_MAX + 1];
  const char *pairs[][2] = {{"", ""},   {"", "1"},  {"1", ""},       {"1", "11"},
                            {"V", "W"}, {"zz", ""}, {"0001", "0002"}};
  for (size_t i = 0; i < sizeof pairs / sizeof pairs[0]; i++) {
    const char *a = pairs[i][0], *b = pairs[i][1];
    uint32_t n = mdl_key_between(a, (uint32_t) strlen(a), b, (uint32_t) strlen(b), k);
    cr_assert_gt(n, 0);
    k[n] = 0;
    cr_assert(mdl_key_valid(k, n), "%s", k);
    cr_assert(strcmp(a, k) < 0 && (!*b || strcmp(k, b) < 0), "%s < %s < %s", a, k, b);
  }
}

Test(mdl_op, notes_cost_little_memory) {
  mdl_prop_value synth[] = {pv(MDL_PROP_KIND, v_int(MDL_DEV_SYNTH))};
  cr_assert_eq(
      apply(TXN(op_make(MDL_TYPE_TRACK, A, 0, 0, NULL), op_make(MDL_TYPE_DEVICE, B, A, 1, synth),
                op_make(MDL_TYPE_CLIP, C, A, 0, NULL)),
            NULL),
      MDL_OK);
  size_t before = mdl_project_bytes(p);
  mdl_op ops[200];
  mdl_prop_value np[200][2];
  for (int batch = 0; batch < 50; batch++) {
    for (int i = 0; i < 200; i++) {
      int k = batch * 200 + i;
      np[i][0] = pv(MDL_PROP_PITCH, v_int(36 + k % 48));
      np[i][1] = pv(MDL_PROP_START, v_int(k * 120));
      ops[i] = op_make(MDL_TYPE_NOTE, MDL_ID_MAKE(2, 100 + k), C, 2, np[i]);
    }
    cr_assert_eq(mdl_txn_apply(p, &(mdl_txn){200, ops}, 2, NULL), MDL_OK);
  }
  double per_note = (double) (mdl_project_bytes(p) - before) / 10000;
  cr_assert_lt(per_note, 160, "%.1f bytes per note", per_note);
  mdl_id kids[10000];
  cr_assert_eq(mdl_children(p, C, MDL_TYPE_NOTE, kids, 10000), 10000);
  for (int i = 1; i < 10000; i++)
    cr_assert_lt(mdl_get_int(p, kids[i - 1], MDL_PROP_START),
                 mdl_get_int(p, kids[i], MDL_PROP_START));
}

Test(mdl_schema, the_order_and_time_cells_named_by_index_are_right) {
  for (int t = 1; t < MDL_TYPE_COUNT_; t++) {
    const mdl_schema *s = mdl__schema(t);
    cr_assert_eq(s->order_cell, mdl__cell(t, MDL_PROP_ORDER), "%s", s->name);
    int time = mdl__cell(t, t == MDL_TYPE_METER ? MDL_PROP_BAR : MDL_PROP_START);
    cr_assert_eq(s->time_cell, time, "%s", s->name);
  }
}

Test(mdl_op, lanes_automate_sends_too) {
  mdl_prop_value ret[] = {{MDL_PROP_KIND, v_int(MDL_TRACK_RETURN)}};
  mdl_prop_value send[] = {{MDL_PROP_TARGET, v_int((int64_t) B)}};
  mdl_prop_value level[] = {{MDL_PROP_PARAM, v_int(MDL_PROP_LEVEL)}};
  mdl_prop_value pt[] = {{MDL_PROP_VALUE, v_real(0.75)}};
  cr_assert_eq(
      apply(TXN(op_make(MDL_TYPE_TRACK, A, 0, 0, NULL), op_make(MDL_TYPE_TRACK, B, 0, 1, ret),
                op_make(MDL_TYPE_SEND, C, A, 1, send), op_make(MDL_TYPE_LANE, D, C, 1, level),
                op_make(MDL_TYPE_POINT, E, D, 1, pt)),
            NULL),
      MDL_OK);
  mdl_fail f;
  cr_assert_eq(apply(TXN(op_set(E, MDL_PROP_VALUE, v_real(5))), &f), MDL_ERR_RANGE,
               "a send level is 0..4");
  cr_assert_eq(apply(TXN(op_make(MDL_TYPE_LANE, F, C, 0, NULL)), &f), MDL_ERR_BAD_PROP,
               "a send has no gain to automate");
}

/* A value in motion is checked as a set of it would be, without applying it:
 * a device parameter against its kind's range. */
Test(mdl_op, a_value_is_checked_on_its_object_without_changing_anything) {
  song();
  uint64_t h0 = mdl_project_hash(p);
  char why[MDL_REASON_MAX];
  mdl_value ok = v_real(1200), high = v_real(30000);
  cr_assert_eq(mdl_value_check_on(p, C, MDL_PROP_PARAM0 + 7, &ok, why, sizeof why), MDL_OK);
  cr_assert_eq(mdl_value_check_on(p, C, MDL_PROP_PARAM0 + 7, &high, why, sizeof why),
               MDL_ERR_RANGE);
  cr_assert(strstr(why, "20000"), "the reason gives the range: %s", why);
  cr_assert_eq(mdl_value_check_on(p, C, MDL_PROP_PARAM0 + 60, &ok, why, sizeof why),
               MDL_ERR_BAD_PROP, "%s", why);
  cr_assert_eq(mdl_value_check_on(p, MDL_ID_MAKE(9, 9), MDL_PROP_GAIN, &ok, why, sizeof why),
               MDL_ERR_NOT_FOUND);
  cr_assert_eq(mdl_value_check_on(p, A, MDL_PROP_GAIN, &high, why, sizeof why), MDL_ERR_RANGE);
  cr_assert_eq(mdl_project_hash(p), h0, "nothing changed");
  cr_assert_eq(mdl_get_real(p, C, MDL_PROP_PARAM0 + 7), 800);
}
