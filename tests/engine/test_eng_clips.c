/* test_eng_clips.c: the clip player (audio tracks), with numbers: a clip
 * starts on its frame and ends after its length, offsets and loops read the
 * right source frames, equal-power fades reach their gains on the expected
 * frames, a source at another rate is resampled, Rubber Band stretches keep
 * the pitch, renders repeat bit for bit, bad clips are refused.
 *
 * Tracks are panned hard left: the left channel is the clip player's output
 * times exactly 1. */
#include <string.h>

#include "eng_test_util.h"
#include "engine/eng_plan.h"

#define C0 1000 /* clip start: mid-block for blocks of 128 */

static float ramp_data[4000]; /* k / 4000, but frame 0 is 0.75 */
static float const_data[48000];

static void fill_data(void) {
  for (int k = 0; k < 4000; k++)
    ramp_data[k] = (float) k / 4000.0f;
  ramp_data[0] = 0.75f;
  for (int k = 0; k < 48000; k++)
    const_data[k] = 0.5f;
}

static eng_clip_desc clip(const float *data, uint64_t n, uint64_t start, uint64_t len) {
  eng_clip_desc c = {.start_frame = start,
                     .length_frames = len,
                     .sample = {.frames = data, .n_frames = n, .n_channels = 1, .sample_rate = SR},
                     .gain = 1.0f};
  return c;
}

static eng_track_desc audio_track(uint64_t id, const eng_clip_desc *clips, uint32_t n) {
  eng_track_desc t = track(id, 1.0f, -1.0f);
  t.audio = true;
  t.clips = clips;
  t.n_clips = n;
  return t;
}

/* Left channel of `frames` frames of one audio track; malloc'd. */
static float *play(const eng_clip_desc *clips, uint32_t n, uint32_t frames) {
  eng_track_desc t = audio_track(1, clips, n);
  eng_plan_desc d = desc_with(&t, 1, false);
  eng_engine *e = engine_with(&d, true);
  float *st = render(e, frames, 128);
  eng_engine_destroy(e);
  float *left = malloc(frames * sizeof(float));
  for (uint32_t i = 0; i < frames; i++)
    left[i] = st[2 * i];
  free(st);
  return left;
}

Test(eng_clips, a_clip_starts_on_its_frame_and_ends_after_its_length) {
  fill_data();
  eng_clip_desc c = clip(ramp_data, 4000, C0, 500);
  float *L = play(&c, 1, 2000);
  for (uint32_t i = 0; i < C0; i++)
    cr_assert_eq(L[i], 0.0f, "frame %u before the clip", i);
  cr_expect_eq(L[C0], 0.75f, "source frame 0 on frame %d", C0);
  for (uint32_t k = 1; k < 500; k++)
    cr_assert_eq(L[C0 + k], ramp_data[k], "frame %u", C0 + k);
  cr_expect_eq(L[C0 + 500], 0.0f, "the clip is over");
  free(L);
}

Test(eng_clips, the_offset_picks_the_first_source_frame) {
  fill_data();
  eng_clip_desc c = clip(ramp_data, 4000, C0, 500);
  c.offset_frames = 100;
  float *L = play(&c, 1, 1600);
  cr_expect_eq(L[C0], ramp_data[100]);
  cr_expect_eq(L[C0 + 399], ramp_data[499]);
  free(L);
}

Test(eng_clips, a_clip_longer_than_its_source_is_silent_after_the_source) {
  fill_data();
  eng_clip_desc c = clip(ramp_data, 4000, C0, 8000);
  float *L = play(&c, 1, 6000);
  cr_expect_eq(L[C0 + 3999], ramp_data[3999]);
  cr_expect_eq(L[C0 + 4000], 0.0f);
  free(L);
}

Test(eng_clips, fades_are_equal_power_and_reach_their_gains_on_time) {
  fill_data();
  eng_clip_desc c = clip(const_data, 48000, C0, 2000);
  c.fade_in_frames = 480;
  c.fade_out_frames = 480;
  float *L = play(&c, 1, 3200);
  uint32_t last = C0 + 1999;
  cr_expect_eq(L[C0], 0.0f, "fade-in starts at 0");
  cr_expect_float_eq(L[C0 + 240], 0.5f * (float) M_SQRT1_2, 1e-6, "-3 dB half way in");
  cr_expect_float_eq(L[C0 + 160], 0.5f * 0.5f, 1e-6, "sin(30 degrees) a third of the way");
  cr_expect_eq(L[C0 + 480], 0.5f, "full gain after fade_in_frames");
  cr_expect_eq(L[last - 480], 0.5f, "full gain before the fade-out");
  cr_expect_float_eq(L[last - 240], 0.5f * (float) M_SQRT1_2, 1e-6, "-3 dB half way out");
  cr_expect_eq(L[last], 0.0f, "the last frame is 0");
  cr_expect_gt(L[last - 1], 0.0f);
  free(L);
}

Test(eng_clips, a_looping_clip_repeats_its_region) {
  fill_data();
  eng_clip_desc c = clip(ramp_data, 4000, C0, 1000);
  c.offset_frames = 10;
  c.loop = true;
  c.loop_frames = 100;
  float *L = play(&c, 1, 2200);
  cr_expect_eq(L[C0 + 99], ramp_data[109]);
  cr_expect_eq(L[C0 + 100], ramp_data[10], "back to the offset");
  cr_expect_eq(L[C0 + 950], ramp_data[60]);
  free(L);
}

Test(eng_clips, gain_scales_and_overlapping_clips_add) {
  fill_data();
  eng_clip_desc c[2] = {clip(const_data, 48000, C0, 1000), clip(const_data, 48000, C0 + 500, 1000)};
  c[0].gain = 0.5f;
  float *L = play(c, 2, 2800);
  cr_expect_eq(L[C0 + 100], 0.25f);
  cr_expect_eq(L[C0 + 600], 0.75f, "both clips");
  cr_expect_eq(L[C0 + 1200], 0.5f, "the second alone");
  free(L);
}

Test(eng_clips, a_source_at_half_the_rate_is_played_at_its_own_speed) {
  fill_data();
  eng_clip_desc c = clip(ramp_data, 4000, C0, 1000);
  c.sample.sample_rate = SR / 2;
  float *L = play(&c, 1, 2200);
  cr_expect_float_eq(L[C0 + 20], 10.0f / 4000.0f, 1e-6);
  cr_expect_float_eq(L[C0 + 21], 10.5f / 4000.0f, 1e-6, "Hermite: a line stays a line");
  free(L);
}

Test(eng_clips, a_render_is_a_pure_function_of_the_position) {
  fill_data();
  eng_clip_desc c[2] = {clip(ramp_data, 4000, C0, 3000), clip(const_data, 48000, 2500, 900)};
  c[0].fade_in_frames = 300, c[1].fade_out_frames = 200;
  c[0].loop = true, c[0].loop_frames = 333;
  eng_track_desc t = audio_track(1, c, 2);
  eng_plan_desc d = desc_with(&t, 1, false);
  eng_engine *e = engine_with(&d, true);
  float *whole = render(e, 4000, 128);
  cr_assert_eq(eng_engine_locate(e, 2000), ENG_OK);
  float *from_2000 = render(e, 2000, 77);
  cr_expect_eq(memcmp(whole + 2 * 2000, from_2000, 2000 * 2 * sizeof(float)), 0,
               "locate and odd blocks give the same samples");
  eng_engine_destroy(e);
  free(whole);
  free(from_2000);
}

/* Zero crossings of the left channel in [a, b). */
static uint32_t crossings(const float *st, uint32_t a, uint32_t b) {
  uint32_t n = 0;
  for (uint32_t i = a + 1; i < b; i++)
    n += (st[2 * i - 2] < 0.0f) != (st[2 * i] < 0.0f);
  return n;
}

Test(eng_clips, a_stretched_clip_lasts_longer_at_the_same_pitch_and_renders_the_same_twice) {
  static float sine[SR]; /* 1 s of 440 Hz */
  for (int k = 0; k < SR; k++)
    sine[k] = 0.5f * sinf((float) (2.0 * M_PI * 440.0 * k / SR));
  eng_clip_desc c = clip(sine, SR, 0, 2 * SR);
  c.stretch = 2.0;
  eng_track_desc t = audio_track(1, &c, 1);
  eng_plan_desc d = desc_with(&t, 1, false);
  float *a[2];
  for (int run = 0; run < 2; run++) {
    eng_engine *e = engine_with(&d, true);
    a[run] = render(e, 2 * SR + 4800, 128);
    eng_engine_destroy(e);
  }
  cr_expect_eq(memcmp(a[0], a[1], (2 * SR + 4800) * 2 * sizeof(float)), 0, "deterministic");
  uint32_t z = crossings(a[0], SR / 2, 3 * SR / 2); /* one second in the middle */
  cr_expect(z >= 870 && z <= 890, "440 Hz kept: %u zero crossings in 1 s (880 expected)", z);
  cr_expect_gt(peak(a[0], 0, 3 * SR / 2, 3 * SR / 2 + 4800), 0.2f, "sounding after 1.5 s");
  cr_expect_eq(peak(a[0], 0, 2 * SR, 2 * SR + 4800), 0.0f, "silent after the clip");
  free(a[0]);
  free(a[1]);
}

/* The stretch cache: a second plan from the same audio and ratio takes the
 * first's stretched copy (a hit, the same bits heard), also from a copy of
 * the audio at another address; another ratio or other audio is a miss; an
 * entry no plan holds is dropped once the cache holds more than it keeps. */
Test(eng_clips, the_stretch_cache_shares_a_stretched_clip_across_plans) {
  static float sine[SR / 2], copy[SR / 2], other[SR / 2];
  for (int k = 0; k < SR / 2; k++) {
    sine[k] = 0.5f * sinf((float) (2.0 * M_PI * 440.0 * k / SR));
    other[k] = 0.5f * sinf((float) (2.0 * M_PI * 330.0 * k / SR));
  }
  memcpy(copy, sine, sizeof copy);
  eng_stretch_cache *cache;
  cr_assert_eq(eng_stretch_cache_create(1 << 30, &cache), ENG_OK);
  eng_clip_desc c = clip(sine, SR / 2, 0, SR);
  c.stretch = 2.0;
  eng_track_desc t = audio_track(1, &c, 1);
  eng_plan_desc d = desc_with(&t, 1, false);
  float *heard[2];
  eng_plan *plans[5];
  for (int run = 0; run < 2; run++) {
    d.stretch_cache = run ? cache : NULL;
    eng_engine *e = engine_with(&d, true);
    heard[run] = render(e, SR + 4800, 128);
    eng_engine_destroy(e);
  }
  cr_expect_eq(memcmp(heard[0], heard[1], (SR + 4800) * 2 * sizeof(float)), 0,
               "a cached stretch sounds as a fresh one");
  eng_stretch_stats st;
  eng_stretch_cache_stats(cache, &st);
  cr_expect_eq(st.misses, 1);
  cr_expect_eq(st.hits, 0);
  cr_expect_eq(st.entries, 1, "kept after its plan was freed");
  cr_assert_eq(eng_plan_create(&d, &plans[0]), ENG_OK);
  c.sample.frames = copy; /* the same audio elsewhere */
  cr_assert_eq(eng_plan_create(&d, &plans[1]), ENG_OK);
  eng_stretch_cache_stats(cache, &st);
  cr_expect_eq(st.hits, 2, "the same content hits wherever it lies");
  cr_expect_eq(st.misses, 1);
  c.stretch = 1.5;
  cr_assert_eq(eng_plan_create(&d, &plans[2]), ENG_OK);
  c.stretch = 2.0, c.sample.frames = other;
  cr_assert_eq(eng_plan_create(&d, &plans[3]), ENG_OK);
  c.sample.frames = sine, c.offset_frames = 100;
  cr_assert_eq(eng_plan_create(&d, &plans[4]), ENG_OK);
  eng_stretch_cache_stats(cache, &st);
  cr_expect_eq(st.misses, 4, "another ratio, other audio, another offset: each stretched");
  cr_expect_eq(st.entries, 4);
  for (int i = 0; i < 5; i++)
    eng_plan_destroy(plans[i]);
  eng_stretch_cache_destroy(cache);
  /* A cache that keeps nothing drops each entry once no plan holds it. */
  cr_assert_eq(eng_stretch_cache_create(0, &cache), ENG_OK);
  d.stretch_cache = cache;
  cr_assert_eq(eng_plan_create(&d, &plans[0]), ENG_OK);
  cr_assert_eq(eng_plan_create(&d, &plans[1]), ENG_OK);
  eng_stretch_cache_stats(cache, &st);
  cr_expect_eq(st.entries, 1, "held by two plans");
  cr_expect_eq(st.hits, 1);
  eng_plan_destroy(plans[0]);
  eng_stretch_cache_stats(cache, &st);
  cr_expect_eq(st.entries, 1, "still held by one");
  eng_plan_destroy(plans[1]);
  eng_stretch_cache_stats(cache, &st);
  cr_expect_eq(st.entries, 0);
  cr_expect_eq(st.bytes, 0);
  eng_stretch_cache_destroy(cache);
  free(heard[0]);
  free(heard[1]);
}

Test(eng_clips, a_clip_without_data_is_silent_and_named_in_the_message) {
  eng_clip_desc c = clip(NULL, 0, C0, 500);
  eng_track_desc t = audio_track(9, &c, 1);
  eng_plan_desc d = desc_with(&t, 1, false);
  eng_plan *p = NULL;
  char why[256];
  cr_assert_eq(eng_plan_compile(&d, &p, why, sizeof why), ENG_OK);
  cr_expect_str_eq(why, "track 9 clip 0 has no sample data: it stays silent");
  eng_plan_destroy(p);
  float *L = play(&c, 1, 1600);
  cr_expect_eq(peak(L, 0, 0, 800), 0.0f);
  free(L);
}

Test(eng_clips, bad_clips_are_refused_with_a_sentence) {
  fill_data();
  eng_clip_desc c = clip(ramp_data, 4000, C0, 500);
  eng_track_desc t = audio_track(4, &c, 1);
  eng_plan_desc d = desc_with(&t, 1, false);
  eng_plan *p = NULL;
  char why[256];
  c.fade_in_frames = 300, c.fade_out_frames = 300;
  cr_expect_eq(eng_plan_compile(&d, &p, why, sizeof why), ENG_ERR_INVALID);
  cr_expect_str_eq(why, "track 4 clip 0 has fades longer than the clip");
  c = clip(ramp_data, 4000, C0, 500);
  c.offset_frames = 4000;
  cr_expect_eq(eng_plan_compile(&d, &p, why, sizeof why), ENG_ERR_INVALID);
  cr_expect_str_eq(why, "track 4 clip 0 starts past the end of its sample");
  c = clip(ramp_data, 4000, C0, 500);
  c.stretch = 9.0;
  cr_expect_eq(eng_plan_compile(&d, &p, why, sizeof why), ENG_ERR_INVALID);
  cr_expect_str_eq(why, "track 4 clip 0 has a stretch out of range");
  c = clip(ramp_data, 4000, C0, 500);
  eng_device_desc synth = {.kind = ENG_NODE_SYNTH};
  t.instrument = &synth;
  cr_expect_eq(eng_plan_compile(&d, &p, why, sizeof why), ENG_ERR_INVALID);
  cr_expect_str_eq(why,
                   "track 4 is an audio track: it takes no instrument, notes, live input or bus");
  cr_expect_null(p);
}

Test(eng_clips, an_audio_track_is_silent_while_stopped) {
  fill_data();
  eng_clip_desc c = clip(const_data, 48000, 0, 48000);
  eng_track_desc t = audio_track(1, &c, 1);
  eng_plan_desc d = desc_with(&t, 1, false);
  eng_engine *e = engine_with(&d, false);
  float *st = render(e, 1000, 128);
  cr_expect_eq(peak(st, 0, 0, 1000), 0.0f);
  eng_engine_destroy(e);
  free(st);
}
