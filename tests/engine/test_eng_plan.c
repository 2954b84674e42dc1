/* test_eng_plan.c: plan validation and the error table. */
#include <criterion/criterion.h>
#include <math.h>
#include <string.h>

#include "eng_test_util.h"
#include "engine/eng_plan.h"

static int create(const eng_plan_desc *d) {
  eng_plan *p = (eng_plan *) 1;
  int rc = eng_plan_create(d, &p);
  if (rc != ENG_OK) cr_expect_null(p, "failed create zeroes *out");
  eng_plan_destroy(p);
  return rc;
}

Test(eng_plan, accepts_a_valid_description_and_64_tracks) {
  eng_track_desc t[ENG_MAX_TRACKS];
  for (uint32_t i = 0; i < ENG_MAX_TRACKS; i++)
    t[i] = track(i + 1, 1.0f, 0.0f);
  eng_plan_desc d = desc_with(t, ENG_MAX_TRACKS, true);
  cr_expect_eq(create(&d), ENG_OK);
  d.n_tracks = 0;
  d.tracks = NULL;
  cr_expect_eq(create(&d), ENG_OK);
}

Test(eng_plan, refuses_out_of_range_fields) {
  eng_track_desc t[ENG_MAX_TRACKS + 1];
  for (uint32_t i = 0; i <= ENG_MAX_TRACKS; i++)
    t[i] = track(i + 1, 1.0f, 0.0f);
  eng_plan_desc ok = desc_with(t, 2, false), d;
#define REFUSED(stmt)                                                                              \
  do {                                                                                             \
    d = ok;                                                                                        \
    stmt;                                                                                          \
    cr_expect_eq(create(&d), ENG_ERR_INVALID, "accepted: %s", #stmt);                              \
  } while (0)
  REFUSED(d.tempo_bpm = 19.9);
  REFUSED(d.tempo_bpm = 1000.0);
  REFUSED(d.tempo_bpm = NAN);
  REFUSED(d.beats_per_bar = 0);
  REFUSED(d.beats_per_bar = 33);
  REFUSED(d.sample_rate = 0);
  REFUSED(d.master_gain = -0.1f);
  REFUSED(d.master_gain = INFINITY);
  REFUSED(d.n_tracks = ENG_MAX_TRACKS + 1);
  REFUSED(d.tracks = NULL);
  REFUSED(t[1].track_id = 0; d.tracks = t);
  t[1].track_id = 2;
  REFUSED(t[1].track_id = 1);
  t[1].track_id = 2;
  REFUSED(t[0].gain = 4.5f);
  t[0].gain = 1.0f;
  REFUSED(t[0].pan = 1.01f);
  t[0].pan = 0.0f;
  REFUSED(t[0].pan = NAN);
  t[0].pan = 0.0f;
  cr_expect_eq(eng_plan_create(NULL, &(eng_plan *){NULL}), ENG_ERR_INVALID);
  cr_expect_eq(eng_plan_create(&ok, NULL), ENG_ERR_INVALID);
#undef REFUSED
}

Test(eng_plan, track_pitches_follow_a_pentatonic_scale_from_a3) {
  cr_expect_float_eq(eng_plan_track_frequency(0), 220.0, 1e-9);
  cr_expect_float_eq(eng_plan_track_frequency(3), 220.0 * pow(2.0, 7.0 / 12.0), 1e-9);
  cr_expect_float_eq(eng_plan_track_frequency(5), 440.0, 1e-9);
  cr_expect_float_eq(eng_plan_track_frequency(15), 220.0, 1e-9, "wraps after three octaves");
}

Test(eng_err, strerror_covers_every_code_and_unknowns) {
  cr_expect_str_eq(eng_strerror(ENG_OK), "no error");
  cr_expect_str_eq(eng_strerror(ENG_ERR_FULL), "queue full");
  cr_expect_str_eq(eng_strerror(ENG_ERR_IO), "file input/output error");
  cr_expect_str_eq(eng_strerror(-199), "unknown engine error");
  cr_expect_str_eq(eng_strerror(5), "unknown engine error");
}
