/* test_eng_golden.c: today's test-tone plans must render bit-identically
 * across engine refactors. The hashes below were recorded from the walking
 * skeleton (before the plan became a node graph); any change to the sound of
 * a plan without devices shows up here as a different FNV-1a hash of the raw
 * float output and of the meter frames. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "eng_test_util.h"

#define GOLDEN_A 0x29af47d260fb9851ull
#define GOLDEN_B 0x1f30c0822b7817d5ull
#define GOLDEN_C 0x1e3f1d376e3e9dbdull

static uint64_t fnv(uint64_t h, const void *data, size_t n) {
  const unsigned char *p = data;
  for (size_t i = 0; i < n; i++)
    h = (h ^ p[i]) * 0x100000001b3ull;
  return h;
}

/* Renders a scripted session (odd block sizes, stop fade, locate, resume) and
 * hashes every output sample and every meter value. */
static uint64_t session_hash(const eng_plan_desc *d) {
  eng_engine *e = engine_with(d, true);
  uint64_t h = 0xcbf29ce484222325ull;
  static const uint32_t blocks[] = {128, 61, 1, 1024, 333, 4096, 64};
  float buf[2 * 4096];
  eng_meter_frame f;
  for (int i = 0; i < 400; i++) {
    if (i == 150) cr_assert_eq(eng_engine_set_playing(e, false), ENG_OK);
    if (i == 170) cr_assert_eq(eng_engine_locate(e, 77777), ENG_OK);
    if (i == 180) cr_assert_eq(eng_engine_set_playing(e, true), ENG_OK);
    uint32_t n = blocks[i % 7];
    eng_engine_process(e, buf, n);
    h = fnv(h, buf, (size_t) n * 2 * sizeof(float));
    while (eng_engine_read_meters(e, &f) == 1)
      for (uint32_t k = 0; k < f.n; k++) {
        h = fnv(h, &f.meters[k].peak, sizeof(float));
        h = fnv(h, &f.meters[k].rms, sizeof(float));
      }
  }
  eng_engine_destroy(e);
  return h;
}

Test(eng_golden, test_tone_plans_render_bit_identically_to_the_skeleton) {
  eng_track_desc t[12];
  for (uint32_t i = 0; i < 12; i++)
    t[i] = track(i + 1, 0.2f + 0.05f * (float) i, -1.0f + (float) i / 6.0f);
  t[3].mute = true;
  eng_plan_desc a = desc_with(t, 12, true);
  a.tempo_bpm = 137.0;
  a.master_gain = 0.8f;
  eng_plan_desc b = desc_with(t, 5, false);
  b.beats_per_bar = 3;
  eng_track_desc s[3] = {track(1, 1.0f, 0.0f), track(2, 0.5f, -0.3f), track(3, 2.0f, 1.0f)};
  s[1].solo = true;
  eng_plan_desc c = desc_with(s, 3, true);
  uint64_t ha = session_hash(&a), hb = session_hash(&b), hc = session_hash(&c);
  fprintf(stderr, "golden: 0x%016llxull 0x%016llxull 0x%016llxull\n", (unsigned long long) ha,
          (unsigned long long) hb, (unsigned long long) hc);
  cr_expect_eq(ha, GOLDEN_A);
  cr_expect_eq(hb, GOLDEN_B);
  cr_expect_eq(hc, GOLDEN_C);
}
