/* eng_test_util.h: helpers shared by the engine tests (test-only). */
#ifndef ENG_TEST_UTIL_H
#define ENG_TEST_UTIL_H

#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>

#include "engine/eng_engine.h"
#include "engine/eng_err.h"

#ifdef __SANITIZE_ADDRESS__
#include <sanitizer/lsan_interface.h>
#endif

#define SR 48000

/* A 120 bpm 4/4 description at 48 kHz with the given tracks. */
static inline eng_plan_desc desc_with(const eng_track_desc *tracks, uint32_t n, bool metronome) {
  eng_plan_desc d = {.sample_rate = SR,
                     .tempo_bpm = 120.0,
                     .beats_per_bar = 4,
                     .master_gain = 1.0f,
                     .metronome = metronome,
                     .n_tracks = n,
                     .tracks = tracks};
  return d;
}

static inline eng_track_desc track(uint64_t id, float gain, float pan) {
  eng_track_desc t = {.track_id = id, .gain = gain, .pan = pan};
  return t;
}

/* Engine at 48 kHz / 128 frames with a plan compiled from d; optionally playing. */
static inline eng_engine *engine_with(const eng_plan_desc *d, bool play) {
  eng_config cfg = eng_config_default();
  eng_engine *e = NULL;
  cr_assert_eq(eng_engine_create(&cfg, &e), ENG_OK);
  eng_plan *p = NULL;
  cr_assert_eq(eng_plan_create(d, &p), ENG_OK);
  cr_assert_eq(eng_engine_set_plan(e, p), ENG_OK);
  if (play) cr_assert_eq(eng_engine_set_playing(e, true), ENG_OK);
  return e;
}

/* Renders `frames` frames in blocks of `block`; returns a malloc'd
 * interleaved stereo buffer (free it). */
static inline float *render(eng_engine *e, uint32_t frames, uint32_t block) {
  float *buf = calloc((size_t) frames * 2, sizeof(float));
  cr_assert_not_null(buf);
  for (uint32_t done = 0; done < frames; done += block) {
    uint32_t n = frames - done < block ? frames - done : block;
    eng_engine_process(e, buf + 2 * done, n);
  }
  return buf;
}

/* Largest |sample| of channel ch (0 left, 1 right) in frames [from, to). */
static inline float peak(const float *buf, int ch, uint32_t from, uint32_t to) {
  float p = 0.0f;
  for (uint32_t i = from; i < to; i++)
    p = fmaxf(p, fabsf(buf[2 * i + ch]));
  return p;
}

/* Fails the test if LeakSanitizer finds unreachable memory now. Criterion
 * does not fail a test on an at-exit leak report (FACTS.md), so tests about
 * ownership call this at their end. No-op without ASan. */
static inline void expect_no_leaks(void) {
#ifdef __SANITIZE_ADDRESS__
  cr_expect_eq(__lsan_do_recoverable_leak_check(), 0, "LeakSanitizer found leaks (see above)");
#endif
}

#endif /* ENG_TEST_UTIL_H */
