/* test_eng_idle.c: a stopped plan idles once everything is silent
 * (eng_engine.h "Idle"): blocks are exact zeros and counted in
 * eng_stats.blocks_idle, tails ring out first, a delay line's echo is not
 * cut, and a note, parameter or plan wakes the graph. Counted, not timed. */
#include <criterion/criterion.h>
#include <string.h>

#include "eng_test_util.h"

#define BLOCK 128

static const eng_device_desc pad = {.kind = ENG_NODE_SYNTH};
static const eng_device_desc verb[1] = {
    {.kind = ENG_NODE_REVERB, .n_params = 1, .params = (const eng_param_value[]){{0, 0.8f}}}};

static eng_engine *live_verb(bool no_idle_skip) {
  eng_track_desc t = track(1, 1.0f, 0.0f);
  t.instrument = &pad;
  t.live = true;
  t.effects = verb, t.n_effects = 1;
  eng_plan_desc d = desc_with(&t, 1, false);
  eng_config cfg = eng_config_default();
  cfg.no_idle_skip = no_idle_skip;
  eng_engine *e = NULL;
  cr_assert_eq(eng_engine_create(&cfg, &e), ENG_OK);
  eng_plan *p = NULL;
  cr_assert_eq(eng_plan_create(&d, &p), ENG_OK);
  cr_assert_eq(eng_engine_set_plan(e, p), ENG_OK);
  return e;
}

static uint64_t idle_blocks(const eng_engine *e) {
  eng_stats s;
  eng_engine_stats(e, &s);
  return s.blocks_idle;
}

/* Plays a live note for 0.25 s, then stops; returns the frame of the stop. */
static uint32_t note_then_stop(eng_engine *e, float *out) {
  cr_assert_eq(eng_engine_set_playing(e, true), ENG_OK);
  cr_assert_eq(eng_engine_note(e, 1, 60, 120), ENG_OK);
  uint32_t f = 0;
  for (; f < SR / 4; f += BLOCK)
    eng_engine_process(e, out + 2 * f, BLOCK);
  cr_assert_eq(eng_engine_note(e, 1, 60, 0), ENG_OK);
  cr_assert_eq(eng_engine_set_playing(e, false), ENG_OK);
  return f;
}

Test(eng_idle, stopped_plan_idles_after_the_tail_and_a_note_wakes_it) {
  eng_engine *e = live_verb(false);
  uint32_t total = 20 * SR / BLOCK * BLOCK;
  float *out = calloc(2 * (size_t) total, sizeof(float));
  uint32_t stop = note_then_stop(e, out), first_idle = 0;
  for (uint32_t f = stop; f < total; f += BLOCK) {
    uint64_t before = idle_blocks(e);
    eng_engine_process(e, out + 2 * f, BLOCK);
    bool idle = idle_blocks(e) > before;
    if (idle && !first_idle) first_idle = f;
    if (first_idle) cr_assert(idle, "woke at frame %u with nothing sent", f);
  }
  cr_assert_gt(first_idle, 0, "never idled");
  /* The tail rang after the stop, and decayed below -120 dBFS for the whole
   * quiet window before the engine stopped running the graph. */
  cr_expect_gt(peak(out, 0, stop, stop + SR / 10), 1e-3f);
  uint32_t window = ENG_QUIET_MS * SR / 1000;
  cr_expect_gt(peak(out, 0, stop + SR, first_idle - window), ENG_QUIET_LEVEL);
  cr_expect_lt(peak(out, 0, first_idle - window, first_idle), ENG_QUIET_LEVEL);
  cr_expect_lt(peak(out, 1, first_idle - window, first_idle), ENG_QUIET_LEVEL);
  for (uint32_t i = 2 * first_idle; i < 2 * total; i++)
    cr_assert_eq(out[i], 0.0f, "idle output must be exact zeros");
  cr_expect_eq(idle_blocks(e), (total - first_idle) / BLOCK);

  /* A live note wakes it: the next block runs the graph and sounds. */
  cr_assert_eq(eng_engine_note(e, 1, 64, 120), ENG_OK);
  float blk[2 * BLOCK];
  uint64_t idle = idle_blocks(e);
  float loud = 0.0f;
  for (int b = 0; b < 8; b++) {
    eng_engine_process(e, blk, BLOCK);
    loud = fmaxf(loud, peak(blk, 0, 0, BLOCK));
  }
  cr_expect_eq(idle_blocks(e), idle, "a note must wake the graph");
  cr_expect_gt(loud, 1e-2f);
  free(out);
  eng_engine_destroy(e);
}

Test(eng_idle, a_parameter_or_a_plan_wakes_it_for_a_quiet_window) {
  eng_engine *e = live_verb(false);
  float *out = calloc(2 * (size_t) 20 * SR, sizeof(float));
  uint32_t f = note_then_stop(e, out);
  for (; f < 20 * SR - BLOCK; f += BLOCK)
    eng_engine_process(e, out + 2 * f, BLOCK);
  uint64_t idle = idle_blocks(e);
  cr_assert_gt(idle, 0);
  cr_assert_eq(eng_engine_set_param(e, 1, 1, 0, 0.5f), ENG_OK);
  float blk[2 * BLOCK];
  uint32_t window_blocks = ENG_QUIET_MS * SR / 1000 / BLOCK;
  for (uint32_t b = 0; b < window_blocks; b++)
    eng_engine_process(e, blk, BLOCK);
  cr_expect_eq(idle_blocks(e), idle, "the parameter must run the graph for a quiet window");
  for (uint32_t b = 0; b < 4; b++)
    eng_engine_process(e, blk, BLOCK);
  cr_expect_gt(idle_blocks(e), idle, "and then idle again");
  idle = idle_blocks(e);
  eng_track_desc t = track(1, 0.5f, 0.0f);
  t.instrument = &pad;
  eng_plan_desc d = desc_with(&t, 1, false);
  eng_plan *p = NULL;
  cr_assert_eq(eng_plan_create(&d, &p), ENG_OK);
  cr_assert_eq(eng_engine_set_plan(e, p), ENG_OK);
  eng_engine_process(e, blk, BLOCK);
  cr_expect_eq(idle_blocks(e), idle, "a new plan must run the graph");
  free(out);
  eng_engine_destroy(e);
}

Test(eng_idle, no_idle_skip_keeps_running_the_graph) {
  eng_engine *e = live_verb(true);
  float *out = calloc(2 * (size_t) 20 * SR, sizeof(float));
  uint32_t f = note_then_stop(e, out);
  for (; f < 20 * SR - BLOCK; f += BLOCK)
    eng_engine_process(e, out + 2 * f, BLOCK);
  cr_expect_eq(idle_blocks(e), 0);
  free(out);
  eng_engine_destroy(e);
}

/* A 3 s delay with no dry signal: its output is silent for 3 s after the
 * note, then the echo comes. The idle window covers the longest delay, so
 * the echo is heard, and the engine idles only after it. */
static const eng_param_value echo_params[] = {{0, 3.0f}, {1, 0.0f}, {2, 1.0f}};
static const eng_device_desc echo[1] = {
    {.kind = ENG_NODE_DELAY, .n_params = 3, .params = echo_params}};

Test(eng_idle, a_delay_echo_behind_seconds_of_silence_is_not_cut) {
  eng_track_desc t = track(1, 1.0f, 0.0f);
  t.instrument = &pad;
  t.live = true;
  t.effects = echo, t.n_effects = 1;
  eng_plan_desc d = desc_with(&t, 1, false);
  d.tempo_bpm = 60.0; /* 3 beats = 3 s */
  eng_engine *e = engine_with(&d, false);
  uint32_t total = 12 * SR / BLOCK * BLOCK;
  float *out = calloc(2 * (size_t) total, sizeof(float));
  uint32_t stop = note_then_stop(e, out);
  for (uint32_t f = stop; f < total; f += BLOCK)
    eng_engine_process(e, out + 2 * f, BLOCK);
  cr_expect_lt(peak(out, 0, SR / 2, 3 * SR - BLOCK), ENG_QUIET_LEVEL, "silence before the echo");
  cr_expect_gt(peak(out, 0, 3 * SR, 3 * SR + SR / 4), 1e-3f, "the echo");
  cr_expect_gt(idle_blocks(e), 0, "idles after the echo");
  free(out);
  eng_engine_destroy(e);
}

/* Subnormals are flushed on the thread that runs the graph: a reverb tail
 * left running (no idle skip) decays to exact zeros instead of lingering
 * in subnormal floats (which x86 computes ~100x slower). The tail must get
 * below the normal range for this to say anything; the test checks it does,
 * and that the thread's floating-point mode is given back after each block. */
Test(eng_idle, a_tail_left_running_flushes_to_zero_not_subnormals) {
  eng_engine *e = live_verb(true);
  uint32_t total = 120 * SR / BLOCK * BLOCK;
  float *out = calloc(2 * (size_t) total, sizeof(float));
  uint32_t stop = note_then_stop(e, out);
  float before = 1e-30f;
  before *= 1e-9f; /* a subnormal made on this thread: the mode is ours again */
  cr_assert_eq(fpclassify(before), FP_SUBNORMAL, "the test thread keeps subnormals");
  uint32_t subnormal = 0, zero_from = 0;
  for (uint32_t f = stop; f < total; f += BLOCK) {
    eng_engine_process(e, out + 2 * f, BLOCK);
    for (uint32_t i = 2 * f; i < 2 * (f + BLOCK); i++) {
      subnormal += fpclassify(out[i]) == FP_SUBNORMAL;
      if (out[i] != 0.0f)
        zero_from = 0;
      else if (!zero_from)
        zero_from = f;
    }
  }
  float after = 1e-30f;
  after *= 1e-9f;
  cr_assert_eq(fpclassify(after), FP_SUBNORMAL, "the engine restored the caller's mode");
  cr_expect_gt(peak(out, 0, stop, stop + SR / 10), 1e-3f, "the tail rang");
  cr_expect_eq(subnormal, 0, "%u subnormal samples in the output", subnormal);
  cr_expect(zero_from > stop && zero_from < total - SR, "the tail reached exact zero at %u",
            zero_from);
  free(out);
  eng_engine_destroy(e);
}
