/* test_eng_carry.c: node state survives plan swaps (eng_plan_int.h). Track A
 * (hard left) holds a live synth note; track B (hard right) plays a short
 * note into a reverb, whose tail rings on. The same script runs twice, once
 * with a plan swap that only changes A's gain: B's channel must be
 * bit-identical to the run without the swap, and A's must glide to the new
 * gain with no step. */
#include <criterion/criterion.h>
#include <string.h>

#include "eng_test_util.h"

static const eng_param_value sine_params[] = {{0, 3},  {7, 20000}, {8, 0}, {9, 0},
                                              {10, 0}, {17, 1},    {27, 1}};
static const eng_device_desc sine_synth = {
    .kind = ENG_NODE_SYNTH, .n_params = 7, .params = sine_params};
static const eng_device_desc verb[1] = {{.kind = ENG_NODE_REVERB,
                                         .n_params = 2,
                                         .params = (const eng_param_value[]){{0, 0.9f}, {3, 1}}}};
static const eng_device_desc other[1] = {{.kind = ENG_NODE_DELAY}};
static const eng_note_desc blip[] = {
    {.start_frame = 0, .length_frames = 2400, .key = 72, .velocity = 120}};

static eng_plan *two_tracks(float gain_a, const eng_device_desc *b_fx) {
  eng_track_desc t[2] = {track(1, gain_a, -1.0f), track(2, 0.8f, 1.0f)};
  t[0].instrument = &sine_synth;
  t[0].live = true;
  t[1].instrument = &sine_synth;
  t[1].notes = blip, t[1].n_notes = 1;
  t[1].effects = b_fx, t[1].n_effects = 1;
  eng_plan_desc d = desc_with(t, 2, false);
  eng_plan *p = NULL;
  cr_assert_eq(eng_plan_create(&d, &p), ENG_OK);
  return p;
}

#define BLOCK   128
#define SWAP_AT (187 * BLOCK) /* about 0.5 s, on a block boundary */
#define TOTAL   SR

/* Runs the script; swaps in `second` (may be NULL) at SWAP_AT. */
static float *run(eng_plan *second) {
  eng_config cfg = eng_config_default();
  eng_engine *e = NULL;
  cr_assert_eq(eng_engine_create(&cfg, &e), ENG_OK);
  cr_assert_eq(eng_engine_set_plan(e, two_tracks(0.5f, verb)), ENG_OK);
  cr_assert_eq(eng_engine_set_playing(e, true), ENG_OK);
  cr_assert_eq(eng_engine_note(e, 1, 69, 127), ENG_OK); /* held for the whole run */
  float *out = calloc(2 * TOTAL, sizeof(float));
  for (uint32_t f = 0; f < TOTAL; f += BLOCK) {
    if (f == SWAP_AT && second) cr_assert_eq(eng_engine_set_plan(e, second), ENG_OK);
    eng_engine_process(e, out + 2 * f, BLOCK);
  }
  eng_stats s;
  eng_engine_stats(e, &s);
  cr_expect_eq(s.plan_swaps, second ? 2 : 1);
  eng_engine_destroy(e);
  return out;
}

Test(eng_carry, held_note_and_reverb_tail_continue_across_a_gain_only_swap) {
  float *ref = run(NULL), *got = run(two_tracks(0.6f, verb));
  /* B (right): the reverb tail, long after its dry note ended, unchanged to the bit. */
  cr_expect_gt(peak(ref, 1, SWAP_AT, SWAP_AT + 4800), 1e-3f, "the tail rings at the swap");
  uint32_t first_diff = TOTAL;
  for (uint32_t i = 0; i < TOTAL && first_diff == TOTAL; i++)
    if (got[2 * i + 1] != ref[2 * i + 1]) first_diff = i;
  cr_expect_eq(first_diff, TOTAL, "the right channel changed at frame %u", first_diff);
  /* A (left): the held 440 Hz note, same waveform, gain gliding 0.5 -> 0.6 over 20 ms. */
  for (uint32_t i = 0; i < SWAP_AT; i++)
    cr_assert_eq(got[2 * i], ref[2 * i]);
  float prev_ratio = 1.0f;
  uint32_t glide = 960; /* 20 ms */
  for (uint32_t i = SWAP_AT; i < SWAP_AT + 4800; i++) {
    if (fabsf(ref[2 * i]) < 0.05f) continue; /* ratio is noisy near zero crossings */
    float ratio = got[2 * i] / ref[2 * i];
    cr_assert_geq(ratio, prev_ratio - 1e-4f, "gain went down at frame %u", i);
    cr_assert_leq(ratio - prev_ratio, 0.2f / glide * 40 + 1e-4f, "gain step at frame %u", i);
    prev_ratio = ratio;
    if (i >= SWAP_AT + glide) cr_assert(fabsf(ratio - 1.2f) < 1e-4f, "%u: %f", i, ratio);
  }
  /* No discontinuity: the largest sample-to-sample change across the swap is
   * no larger than the sine's own (2 pi 440 / 48000 * peak, with the new gain). */
  float max_step = 0.0f;
  for (uint32_t i = SWAP_AT - 64; i < SWAP_AT + 64; i++)
    max_step = fmaxf(max_step, fabsf(got[2 * i + 2] - got[2 * i]));
  float sine_step = 2.0f * 3.14159265f * 440.0f / SR * peak(got, 0, SWAP_AT, SWAP_AT + 4800);
  cr_expect_leq(max_step, sine_step * 1.05f, "step %g vs %g", max_step, sine_step);
  free(ref), free(got);
  expect_no_leaks();
}

Test(eng_carry, a_different_device_kind_at_the_same_index_starts_fresh) {
  /* Replacing B's reverb by a delay: the reverb's tail cannot carry over, so
   * right after the swap B's channel holds only the delay's (silent) input. */
  float *got = run(two_tracks(0.5f, other));
  cr_expect_lt(peak(got, 1, SWAP_AT + 256, TOTAL), 1e-6f, "tail %g",
               peak(got, 1, SWAP_AT + 256, TOTAL));
  /* The held note on A did carry (same synth at device 0). */
  cr_expect_gt(peak(got, 0, TOTAL - 4800, TOTAL), 0.2f);
  free(got);
  expect_no_leaks();
}
