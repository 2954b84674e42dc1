/* test_eng_auto.c: parameter automation (eng_automation, eng_plan.h), with
 * numbers: a linear gain ramp measured at known frames, a hold step landing
 * on its frame and gliding over exactly the smoother's ramp, the S-curve's
 * midpoint, the exponential's shape, a synth cutoff lane brightening the
 * sound over time, no frame-to-frame step larger than the smoothing allows,
 * renders independent of the block size, bad lanes ignored with a sentence.
 *
 * The source is an audio clip of constant 1.0 panned hard left (the left
 * channel is the gain chain's product times exactly 1), so the left channel
 * reads the automated gain directly. */
#include <string.h>

#include "eng_test_util.h"
#include "engine/eng_plan.h"
#include "engine/eng_plan_int.h"

#define LEN   (3 * SR) /* frames of DC in the clip */
#define RAMP  960      /* 20 ms at 48 kHz: the gain effect's and the fader's ramp */
#define BLOCK 128

static float dc[LEN];

static const eng_clip_desc *dc_clip(void) {
  static eng_clip_desc c;
  for (uint32_t k = 0; k < LEN; k++)
    dc[k] = 1.0f;
  c = (eng_clip_desc){.start_frame = 0,
                      .length_frames = LEN,
                      .sample = {.frames = dc, .n_frames = LEN, .n_channels = 1, .sample_rate = SR},
                      .gain = 1.0f};
  return &c;
}

/* An audio track of DC, hard left, with the given lanes and effects. */
static eng_track_desc dc_track(const eng_automation *a, uint32_t n_a, const eng_device_desc *fx,
                               uint32_t n_fx) {
  eng_track_desc t = track(1, 1.0f, -1.0f);
  t.audio = true;
  t.clips = dc_clip();
  t.n_clips = 1;
  t.automations = a;
  t.n_automations = n_a;
  t.effects = fx;
  t.n_effects = n_fx;
  return t;
}

/* Left channel of `frames` frames of track t, rendered in blocks of `block`; malloc'd. */
static float *left_of(const eng_track_desc *t, uint32_t frames, uint32_t block) {
  eng_plan_desc d = desc_with(t, 1, false);
  eng_engine *e = engine_with(&d, true);
  float *st = render(e, frames, block);
  eng_engine_destroy(e);
  float *left = malloc(frames * sizeof(float));
  cr_assert_not_null(left);
  for (uint32_t i = 0; i < frames; i++)
    left[i] = st[2 * i];
  free(st);
  return left;
}

static eng_automation gain_lane(const eng_auto_point *p, uint32_t n) {
  return (eng_automation){.target = ENG_AUTO_GAIN, .n_points = n, .points = p};
}

/* ------------------------------------------------------------------------ */

Test(eng_auto, a_gain_ramp_from_0_to_1_over_a_second_is_linear) {
  const eng_auto_point pts[] = {{0, 0.0f, ENG_CURVE_LINEAR, 0}, {SR, 1.0f, ENG_CURVE_LINEAR, 0}};
  eng_automation a = gain_lane(pts, 2);
  eng_track_desc t = dc_track(&a, 1, NULL, 0);
  float *L = left_of(&t, SR + 4800, BLOCK);
  static const uint32_t at[] = {0, 1, 4800, 12000, 24000, 24001, 36000, 40037, 47999};
  for (size_t i = 0; i < sizeof at / sizeof at[0]; i++)
    cr_expect(fabsf(L[at[i]] - (float) at[i] / SR) < 1e-3f, "frame %u: %g, want %g", at[i],
              (double) L[at[i]], (double) at[i] / SR);
  double worst = 0.0;
  for (uint32_t f = 0; f < SR; f++)
    worst = fmax(worst, fabs(L[f] - (double) f / SR));
  cr_expect(worst < 1e-3, "largest error along the ramp %g", worst);
  cr_expect(worst < 1e-6, "a continuous curve is followed exactly, not lagged: %g", worst);
  for (uint32_t f = SR; f < SR + 4800; f++)
    cr_assert_eq(L[f], 1.0f, "after the last point its value holds (frame %u)", f);
  free(L);
}

Test(eng_auto, before_the_first_point_its_value_holds_and_a_fresh_plan_starts_there) {
  const eng_auto_point pts[] = {{10000, 0.3f, ENG_CURVE_LINEAR, 0},
                                {20000, 0.6f, ENG_CURVE_LINEAR, 0}};
  eng_automation a = gain_lane(pts, 2);
  eng_track_desc t = dc_track(&a, 1, NULL, 0); /* static gain 1: overridden from frame 0 */
  float *L = left_of(&t, 10001, BLOCK);
  for (uint32_t f = 0; f <= 10000; f++)
    cr_assert_eq(L[f], 0.3f, "frame %u: %g", f, (double) L[f]);
  free(L);
}

Test(eng_auto, a_hold_curve_steps_exactly_at_its_frame) {
  const uint32_t F = 30001; /* mid-chunk, odd */
  const eng_auto_point pts[] = {{0, 0.25f, ENG_CURVE_HOLD, 0}, {F, 0.75f, ENG_CURVE_HOLD, 0}};
  eng_automation a = gain_lane(pts, 2);
  eng_track_desc t = dc_track(&a, 1, NULL, 0);
  float *L = left_of(&t, F + 2 * RAMP, BLOCK);
  for (uint32_t f = 0; f < F; f++)
    cr_assert_eq(L[f], 0.25f, "frame %u holds the first value", f);
  cr_expect_gt(L[F], 0.25f, "the step starts on frame %u", F);
  cr_expect(fabsf(L[F] - (0.25f + 0.5f / RAMP)) < 1e-6f, "first glide step %g", (double) L[F]);
  for (uint32_t f = F + 1; f < F + RAMP; f++)
    cr_assert_gt(L[f], L[f - 1], "rising through the glide (frame %u)", f);
  cr_expect_lt(L[F + RAMP - 2], 0.75f, "still gliding one frame before the end");
  for (uint32_t f = F + RAMP - 1; f < F + 2 * RAMP; f++)
    cr_assert_eq(L[f], 0.75f, "the glide lasts exactly %u frames (frame %u)", RAMP, f);
  free(L);
}

Test(eng_auto, an_s_curve_passes_its_midpoint_value_at_the_midpoint) {
  static const float tensions[] = {0.0f, 0.7f, -0.5f, 1.0f, -1.0f};
  for (size_t i = 0; i < sizeof tensions / sizeof tensions[0]; i++) {
    const eng_auto_point pts[] = {{10000, 0.2f, ENG_CURVE_S, tensions[i]},
                                  {20000, 0.8f, ENG_CURVE_LINEAR, 0}};
    eng_automation a = gain_lane(pts, 2);
    eng_track_desc t = dc_track(&a, 1, NULL, 0);
    float *L = left_of(&t, 20001, BLOCK);
    cr_expect(fabsf(L[15000] - 0.5f) < 1e-6f, "tension %g: midpoint %.9g, want 0.5",
              (double) tensions[i], (double) L[15000]);
    cr_expect_eq(L[10000], 0.2f);
    cr_expect_eq(L[20000], 0.8f);
    /* An S: slower than a line at a quarter, symmetric about the midpoint. */
    double lin = 0.2 + 0.6 * 0.25;
    if (tensions[i] > -1.0f)
      cr_expect_lt(L[12500], lin - 1e-3, "tension %g: %g at a quarter", (double) tensions[i],
                   (double) L[12500]);
    else
      cr_expect(fabs(L[12500] - lin) < 1e-6, "tension -1 is a line");
    cr_expect(fabsf((L[12500] - 0.2f) - (0.8f - L[17500])) < 1e-6f, "symmetric");
    free(L);
  }
}

Test(eng_auto, an_exponential_curve_follows_its_formula) {
  static const float tensions[] = {0.0f, 0.5f, -1.0f};
  for (size_t i = 0; i < sizeof tensions / sizeof tensions[0]; i++) {
    const eng_auto_point pts[] = {{0, 0.1f, ENG_CURVE_EXP, tensions[i]},
                                  {48000, 2.1f, ENG_CURVE_HOLD, 0}};
    eng_automation a = gain_lane(pts, 2);
    eng_track_desc t = dc_track(&a, 1, NULL, 0);
    float *L = left_of(&t, 48001, BLOCK);
    double k = 4.0 + 4.0 * tensions[i];
    for (uint32_t f = 0; f <= 48000; f += 6000) {
      double x = f / 48000.0, s = k > 1e-9 ? expm1(k * x) / expm1(k) : x;
      double want = 0.1 + 2.0 * s;
      cr_expect(fabs(L[f] - want) < 1e-5, "tension %g frame %u: %g, want %g", (double) tensions[i],
                f, (double) L[f], want);
    }
    free(L);
  }
}

/* Brightness of a window: energy of the first difference over the energy. */
static double brightness(const float *st, uint32_t from, uint32_t to) {
  double d = 0.0, x = 0.0;
  for (uint32_t f = from + 1; f < to; f++) {
    double a = st[2 * f], b = st[2 * (f - 1)];
    d += (a - b) * (a - b);
    x += a * a;
  }
  return d / (x > 0.0 ? x : 1e-30);
}

/* A held saw note through the synth's filter, cutoff automated or not. */
static void synth_brightness(bool automate, double *early, double *late) {
  static const eng_param_value params[] = {{8, 0.0f}, {9, 0.0f}, {10, 0.0f}, {7, 1000.0f}};
  const eng_device_desc synth = {.kind = ENG_NODE_SYNTH, .n_params = 4, .params = params};
  const eng_note_desc note = {
      .start_frame = 0, .length_frames = 4 * SR, .key = 45, .velocity = 100};
  const eng_auto_point pts[] = {{4800, 150.0f, ENG_CURVE_EXP, 0.0f},
                                {2 * SR, 8000.0f, ENG_CURVE_LINEAR, 0}};
  const eng_automation a = {
      .target = ENG_AUTO_PARAM, .device = 0, .param_id = 7, .n_points = 2, .points = pts};
  eng_track_desc t = track(1, 1.0f, 0.0f);
  t.instrument = &synth;
  t.notes = &note;
  t.n_notes = 1;
  t.automations = automate ? &a : NULL;
  t.n_automations = automate ? 1 : 0;
  eng_plan_desc d = desc_with(&t, 1, false);
  char why[256];
  eng_plan *p = NULL;
  cr_assert_eq(eng_plan_compile(&d, &p, why, sizeof why), ENG_OK, "%s", why);
  cr_expect_str_empty(why);
  eng_plan_destroy(p);
  eng_engine *e = engine_with(&d, true);
  float *st = render(e, 2 * SR + 4800, BLOCK);
  eng_engine_destroy(e);
  *early = brightness(st, 4800, 9600);
  *late = brightness(st, 2 * SR, 2 * SR + 4800);
  float pk = peak(st, 0, 4800, 9600);
  cr_expect_gt(pk, 0.01f, "the note sounds early (peak %g)", (double) pk);
  free(st);
}

Test(eng_auto, automating_a_synth_cutoff_changes_the_spectrum_over_time) {
  double early, late, s_early, s_late;
  synth_brightness(true, &early, &late);
  synth_brightness(false, &s_early, &s_late);
  /* 150 Hz lets through the fundamental only (110 Hz); 8 kHz dozens of harmonics. */
  cr_expect_gt(late, 20.0 * early, "brightness early %g, late %g", early, late);
  cr_expect(fabs(s_late / s_early - 1.0) < 0.2, "a static cutoff stays as bright: %g then %g",
            s_early, s_late);
  cr_expect_lt(early, s_early, "150 Hz is darker than 1 kHz");
  cr_expect_gt(late, s_late, "8 kHz is brighter than 1 kHz");
}

/* Largest |L[k] - L[k-1]| over frames [from, to). */
static double largest_step(const float *L, uint32_t from, uint32_t to) {
  double m = 0.0;
  for (uint32_t f = from + 1; f < to; f++)
    m = fmax(m, fabs((double) L[f] - L[f - 1]));
  return m;
}

Test(eng_auto, no_step_larger_than_the_smoothing_allows) {
  /* The gain effect's gain: SAMPLE-smoothed over 20 ms (960 frames). Hold
   * steps of different sizes, far apart, then one landing mid-glide. */
  const eng_param_info *pi;
  uint32_t n_pi;
  cr_assert_eq(eng_node_params(ENG_NODE_GAIN, &pi, &n_pi), ENG_OK);
  cr_assert_eq(pi[0].smoothing, ENG_SMOOTH_SAMPLE);
  const uint32_t ramp = eng_ms_to_frames(pi[0].smooth_ms, SR);
  cr_assert_eq(ramp, RAMP);
  const eng_auto_point pts[] = {
      {0, 1.0f, ENG_CURVE_HOLD, 0},     {5000, 3.0f, ENG_CURVE_HOLD, 0},
      {10037, 0.0f, ENG_CURVE_HOLD, 0}, {15100, 0.5f, ENG_CURVE_HOLD, 0},
      {20000, 4.0f, ENG_CURVE_HOLD, 0}, {20300, 0.25f, ENG_CURVE_HOLD, 0}, /* mid-glide */
      {20301, 2.0f, ENG_CURVE_HOLD, 0},                                    /* the next frame */
  };
  const eng_automation a = {
      .target = ENG_AUTO_PARAM, .device = 1, .param_id = 0, .n_points = 7, .points = pts};
  const eng_device_desc gain = {.kind = ENG_NODE_GAIN};
  eng_track_desc t = dc_track(&a, 1, &gain, 1);
  float *L = left_of(&t, 24000, BLOCK);
  /* Isolated steps: the largest change is |jump| / ramp, and the glide uses it. */
  static const struct {
    uint32_t at;
    double jump;
  } steps[] = {{5000, 2.0}, {10037, 3.0}, {15100, 0.5}};
  for (size_t i = 0; i < 3; i++) {
    double allowed = steps[i].jump / ramp;
    double m = largest_step(L, steps[i].at - 100, steps[i].at + 2 * ramp);
    cr_expect_leq(m, allowed * (1 + 1e-3), "step at %u: %g > %g allowed", steps[i].at, m, allowed);
    cr_expect_geq(m, allowed * (1 - 1e-3), "step at %u: the glide takes the whole ramp",
                  steps[i].at);
    cr_expect_eq(L[steps[i].at - 1], (float) pts[i].value, "nothing moves before the step");
    cr_expect_eq(L[steps[i].at + ramp - 1], (float) pts[i + 1].value, "there after the ramp");
  }
  /* Jumps on top of a glide restart it from where it is: still never more than
   * the largest jump (the range) over the ramp. */
  double m = largest_step(L, 0, 24000);
  cr_expect_leq(m, 4.0 / ramp * (1 + 1e-3), "largest step %g, allowed %g", m, 4.0 / ramp);
  cr_expect_eq(L[20301 + ramp - 1], 2.0f);
  free(L);
}

Test(eng_auto, automation_is_a_function_of_the_position_whatever_the_block_size) {
  const eng_auto_point gp[] = {{0, 0.5f, ENG_CURVE_S, 0.3f},
                               {7000, 1.5f, ENG_CURVE_HOLD, 0},
                               {9001, 0.2f, ENG_CURVE_EXP, -0.4f},
                               {20000, 2.0f, ENG_CURVE_LINEAR, 0}};
  const eng_auto_point pp[] = {{0, -1.0f, ENG_CURVE_LINEAR, 0}, {20000, 0.5f, ENG_CURVE_LINEAR, 0}};
  const eng_automation a[] = {gain_lane(gp, 4),
                              {.target = ENG_AUTO_PAN, .n_points = 2, .points = pp},
                              {.target = ENG_AUTO_PARAM, .device = 1, .n_points = 4, .points = gp}};
  const eng_device_desc gain = {.kind = ENG_NODE_GAIN};
  eng_track_desc t = dc_track(a, 3, &gain, 1);
  eng_plan_desc d = desc_with(&t, 1, false);
  eng_engine *e1 = engine_with(&d, true), *e2 = engine_with(&d, true);
  float *x = render(e1, 24000, 128), *y = render(e2, 24000, 61);
  cr_expect_eq(memcmp(x, y, 24000 * 2 * sizeof(float)), 0, "same bits in blocks of 128 and 61");
  /* Pan moves from hard left towards the right: the right channel opens. */
  cr_expect_eq(x[1], 0.0f, "hard left at frame 0");
  cr_expect_gt(fabsf(x[2 * 19999 + 1]), 0.1f, "the right channel opens");
  eng_engine_destroy(e1);
  eng_engine_destroy(e2);
  free(x);
  free(y);
}

Test(eng_auto, a_locate_glides_to_the_curve_instead_of_jumping) {
  const eng_auto_point pts[] = {{0, 0.0f, ENG_CURVE_LINEAR, 0}, {SR, 1.0f, ENG_CURVE_LINEAR, 0}};
  eng_automation a = gain_lane(pts, 2);
  eng_track_desc t = dc_track(&a, 1, NULL, 0);
  eng_plan_desc d = desc_with(&t, 1, false);
  eng_engine *e = engine_with(&d, true);
  float *x = render(e, 4800, BLOCK); /* gain 0.1 at the end */
  cr_assert_eq(eng_engine_locate(e, 36000), ENG_OK);
  float *y = render(e, 4800, BLOCK);
  for (uint32_t f = 0; f < 4800; f++) /* left channels */
    x[f] = x[2 * f], y[f] = y[2 * f];
  double m = fmax(largest_step(y, 0, 4800), fabs(y[0] - x[4799]));
  cr_expect_leq(m, (0.75 - 0.1) / RAMP + 1.0 / SR + 1e-6, "largest step %g", m);
  cr_expect_gt(m, 0.5 / RAMP, "it glides over the ramp, not slower");
  cr_expect(fabsf(y[2000] - (36000 + 2000) / 48000.0f) < 1e-5f, "on the curve after the glide");
  eng_engine_destroy(e);
  free(x);
  free(y);
}

Test(eng_auto, when_stopped_the_value_at_the_position_holds) {
  const eng_auto_point pts[] = {{1000, 0.0f, ENG_CURVE_LINEAR, 0}, {SR, 1.0f, ENG_CURVE_HOLD, 0}};
  eng_plan_auto pa = {.target = ENG_AUTO_GAIN, .n_points = 2, .points = pts};
  float vals[ENG_CHUNK], prev;
  uint64_t jumps[ENG_CHUNK / 64];
  eng_run r = {.start = 24500, .n = ENG_CHUNK, .t_frames = 0};
  eng__auto_eval(&pa, &r, vals, jumps, &prev);
  for (uint32_t k = 0; k < ENG_CHUNK; k++)
    cr_assert_eq(vals[k], 0.5f, "frame %u", k);
  cr_expect_eq(prev, 0.5f, "no motion: nothing to glide");
  r.start = 500; /* before the first point */
  eng__auto_eval(&pa, &r, vals, jumps, &prev);
  cr_expect_eq(vals[0], 0.0f);
  /* The stop fade: the transport drives 10 frames, then the value holds. */
  r.start = 24500, r.t_frames = 10;
  eng__auto_eval(&pa, &r, vals, jumps, &prev);
  cr_expect_eq(vals[9], eng__auto_value(pts, 2, 24509));
  cr_expect_eq(vals[200], vals[9]);
  cr_expect_eq(prev, eng__auto_value(pts, 2, 24499));
}

Test(eng_auto, bad_lanes_are_ignored_with_a_sentence_and_the_plan_still_compiles) {
  const eng_auto_point unsorted[] = {{100, 0.5f, 0, 0}, {50, 0.6f, 0, 0}};
  const eng_auto_point too_loud[] = {{0, 500.0f, 0, 0}, {10, 30000.0f, 0, 0}};
  const eng_auto_point nan_pt[] = {{0, NAN, 0, 0}};
  const eng_auto_point bad_curve[] = {{0, 0.5f, 7, 0}};
  const eng_auto_point bad_tension[] = {{0, 0.5f, ENG_CURVE_S, 2.0f}};
  const eng_auto_point ok[] = {{0, 0.5f, 0, 0}};
  const eng_device_desc fx[] = {{.kind = ENG_NODE_EQ}};
  const struct {
    eng_automation a;
    const char *want;
  } cases[] = {
      {{ENG_AUTO_GAIN, 0, 0, 2, unsorted}, "track 1 automation 0 (gain): point 1 at frame 50"},
      {{ENG_AUTO_PARAM, 1, 3, 2, too_loud},
       "track 1 automation 0 (effect 0 (eq) parameter 3 (mid1_freq)): point 1 = 30000 is outside "
       "20..20000: this automation is ignored"},
      {{ENG_AUTO_PAN, 0, 0, 1, nan_pt}, "(pan): point 0 = nan is outside -1..1"},
      {{ENG_AUTO_GAIN, 0, 0, 1, bad_curve}, "unknown curve 7"},
      {{ENG_AUTO_GAIN, 0, 0, 1, bad_tension}, "tension 2 is outside -1..1"},
      {{ENG_AUTO_GAIN, 0, 0, 0, ok}, "(gain): 0 points"},
      {{ENG_AUTO_GAIN, 0, 0, 1, NULL}, "points is NULL"},
      {{ENG_AUTO_PARAM, 0, 0, 1, ok}, "(instrument parameter 0): no such target"},
      {{ENG_AUTO_PARAM, 2, 0, 1, ok}, "(effect 1 parameter 0): no such target"},
      {{ENG_AUTO_PARAM, 1, 40, 1, ok}, "(effect 0 (eq) parameter 40): no such target"},
      {{9, 0, 0, 1, ok}, "(target 9): no such target"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    eng_track_desc t = dc_track(&cases[i].a, 1, fx, 1);
    eng_plan_desc d = desc_with(&t, 1, false);
    char why[320];
    eng_plan *p = NULL;
    cr_expect_eq(eng_plan_compile(&d, &p, why, sizeof why), ENG_OK, "case %zu: %s", i, why);
    cr_expect_not_null(strstr(why, cases[i].want), "case %zu: \"%s\" lacks \"%s\"", i, why,
                       cases[i].want);
    cr_expect_not_null(strstr(why, "ignored"), "case %zu: %s", i, why);
    eng_plan_destroy(p);
  }
  /* The static value applies, and a second lane on one target is ignored. */
  const eng_auto_point half[] = {{0, 0.5f, 0, 0}}, quarter[] = {{0, 0.25f, 0, 0}};
  const eng_automation two[] = {
      {ENG_AUTO_GAIN, 0, 0, 2, unsorted}, gain_lane(half, 1), gain_lane(quarter, 1)};
  eng_track_desc t = dc_track(two, 3, NULL, 0);
  eng_plan_desc d = desc_with(&t, 1, false);
  char why[320];
  eng_plan *p = NULL;
  cr_assert_eq(eng_plan_compile(&d, &p, why, sizeof why), ENG_OK);
  cr_expect_not_null(strstr(why, "this automation and 1 more are ignored"), "%s", why);
  eng_plan_destroy(p);
  float *L = left_of(&t, 1000, BLOCK);
  cr_expect_eq(L[500], 0.5f, "the first good lane drives the gain");
  free(L);
  /* Malformed descriptions still fail the plan. */
  t.automations = NULL;
  cr_expect_eq(eng_plan_compile(&d, &p, why, sizeof why), ENG_ERR_INVALID);
  cr_expect_not_null(strstr(why, "automations is NULL"), "%s", why);
}
