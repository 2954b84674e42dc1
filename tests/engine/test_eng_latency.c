/* test_eng_latency.c: latency compensation across paths. The limiter delays
 * its track by its 1 ms look-ahead (48 frames at 48 kHz); the plan delays
 * every parallel path into master and into buses by what they lack, so an
 * impulse sent down several paths arrives on one frame, sample-exactly. */
#include <string.h>

#include "eng_test_util.h"
#include "engine/eng_plan.h"

#define C0  1000 /* impulse frame: mid-block for blocks of 128 */
#define LIM 48   /* limiter look-ahead at 48 kHz */

static const float impulse[1] = {0.5f}; /* under the limiter's ceiling: passes unchanged */
static const eng_clip_desc impulse_clip = {
    .start_frame = C0,
    .length_frames = 1,
    .sample = {.frames = impulse, .n_frames = 1, .n_channels = 1, .sample_rate = SR},
    .gain = 1.0f};
static const eng_device_desc limiter = {.kind = ENG_NODE_LIMITER};

/* A hard-left audio track playing the impulse (or nothing). */
static eng_track_desc impulse_track(uint64_t id, bool with_impulse) {
  eng_track_desc t = track(id, 1.0f, -1.0f);
  t.audio = true;
  t.clips = with_impulse ? &impulse_clip : NULL;
  t.n_clips = with_impulse ? 1 : 0;
  return t;
}

static eng_track_desc bus(uint64_t id) {
  eng_track_desc t = track(id, 1.0f, 0.0f);
  t.bus = true;
  return t;
}

/* Renders d for 2000 frames; returns the left channel (malloc'd) and the
 * plan's latency. */
static float *run(const eng_plan_desc *d, uint32_t *latency) {
  eng_plan *p = NULL;
  cr_assert_eq(eng_plan_create(d, &p), ENG_OK);
  eng_plan_info info;
  eng_plan_get_info(p, &info);
  *latency = info.latency_frames;
  eng_plan_destroy(p);
  eng_engine *e = engine_with(d, true);
  float *st = render(e, 2000, 128);
  eng_engine_destroy(e);
  float *left = malloc(2000 * sizeof(float));
  for (int i = 0; i < 2000; i++)
    left[i] = st[2 * i];
  free(st);
  return left;
}

/* Asserts that L is `value` on frame `at` and 0 everywhere else. */
static void only_at(const float *L, uint32_t at, float value) {
  for (uint32_t i = 0; i < 2000; i++)
    cr_assert_eq(L[i], i == at ? value : 0.0f, "frame %u: %g", i, (double) L[i]);
}

Test(eng_latency, an_impulse_through_and_around_a_limiter_arrives_on_one_frame) {
  eng_track_desc t[2] = {impulse_track(1, true), impulse_track(2, true)};
  t[0].effects = &limiter, t[0].n_effects = 1;
  eng_plan_desc d = desc_with(t, 2, false);
  uint32_t latency;
  float *L = run(&d, &latency);
  cr_expect_eq(latency, LIM);
  only_at(L, C0 + LIM, 1.0f); /* 0.5 + 0.5 on one frame */
  free(L);
}

Test(eng_latency, a_bypassed_limiter_adds_no_latency) {
  eng_device_desc off = limiter;
  off.bypass = true;
  eng_track_desc t[2] = {impulse_track(1, true), impulse_track(2, true)};
  t[0].effects = &off, t[0].n_effects = 1;
  eng_plan_desc d = desc_with(t, 2, false);
  uint32_t latency;
  float *L = run(&d, &latency);
  cr_expect_eq(latency, 0);
  only_at(L, C0, 1.0f);
  free(L);
}

Test(eng_latency, a_path_through_a_bus_with_a_limiter_lines_up_with_a_direct_one) {
  eng_track_desc t[3] = {impulse_track(1, true), impulse_track(2, true), bus(3)};
  t[0].output_track_id = 3;
  t[2].effects = &limiter, t[2].n_effects = 1;
  eng_plan_desc d = desc_with(t, 3, false);
  uint32_t latency;
  float *L = run(&d, &latency);
  cr_expect_eq(latency, LIM);
  only_at(L, C0 + LIM, 1.0f);
  free(L);
}

Test(eng_latency, inputs_of_a_bus_are_aligned_before_it_and_latencies_add_up) {
  /* 1 (limiter) and 2 into bus 3 (limiter), 4 direct: 96 frames in all */
  eng_track_desc t[4] = {impulse_track(1, true), impulse_track(2, true), bus(3),
                         impulse_track(4, true)};
  t[0].effects = &limiter, t[0].n_effects = 1;
  t[0].output_track_id = t[1].output_track_id = 3;
  t[0].gain = t[1].gain = 0.5f; /* 0.25 + 0.25 into the bus: under its limiter's ceiling */
  t[2].effects = &limiter, t[2].n_effects = 1;
  eng_plan_desc d = desc_with(t, 4, false);
  uint32_t latency;
  float *L = run(&d, &latency);
  cr_expect_eq(latency, 2 * LIM);
  only_at(L, C0 + 2 * LIM, 1.0f);
  free(L);
}

Test(eng_latency, a_send_to_a_limited_return_lines_up_with_the_dry_track) {
  eng_send_desc send = {.bus_track_id = 2, .level = 1.0f};
  eng_track_desc t[2] = {impulse_track(1, true), bus(2)};
  t[0].sends = &send, t[0].n_sends = 1;
  t[1].effects = &limiter, t[1].n_effects = 1;
  for (int pre = 0; pre < 2; pre++) {
    send.pre_fader = pre;
    eng_plan_desc d = desc_with(t, 2, false);
    uint32_t latency;
    float *L = run(&d, &latency);
    only_at(L, C0 + LIM, 1.0f); /* dry 0.5 + return 0.5 */
    free(L);
  }
}

/* First frame of the left channel that is not 0, or UINT32_MAX. */
static uint32_t first_sound(const float *L) {
  for (uint32_t i = 0; i < 2000; i++)
    if (L[i] != 0.0f) return i;
  return UINT32_MAX;
}

Test(eng_latency, the_click_is_delayed_by_the_master_latency) {
  eng_track_desc t = impulse_track(1, false);
  eng_plan_desc d = desc_with(&t, 1, true);
  uint32_t latency;
  float *L = run(&d, &latency);
  uint32_t dry = first_sound(L); /* the click's sine starts at 0: frame 1 */
  free(L);
  t.effects = &limiter, t.n_effects = 1;
  L = run(&d, &latency);
  cr_expect_eq(first_sound(L), dry + LIM, "click at %u, not %u", first_sound(L), dry + LIM);
  free(L);
}

Test(eng_latency, a_plan_swap_keeps_the_delayed_path_continuous) {
  /* Rebuilding the same plan mid-way (a recompile after an edit) must not
   * lose what the delay lines hold: the faders' history carries over. */
  eng_track_desc t[2] = {impulse_track(1, true), impulse_track(2, true)};
  t[0].effects = &limiter, t[0].n_effects = 1;
  eng_plan_desc d = desc_with(t, 2, false);
  eng_engine *e = engine_with(&d, true);
  float *a = render(e, C0 + 10, 128); /* the impulse is inside the delay lines */
  eng_plan *p = NULL;
  cr_assert_eq(eng_plan_create(&d, &p), ENG_OK);
  cr_assert_eq(eng_engine_set_plan(e, p), ENG_OK);
  float *b = render(e, 200, 128);
  cr_expect_eq(b[2 * (LIM - 10)], 1.0f, "both paths still arrive on frame %d", C0 + LIM);
  eng_engine_destroy(e);
  free(a);
  free(b);
}
