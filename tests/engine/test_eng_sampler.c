/* test_eng_sampler.c: ENG_NODE_SAMPLER in a plan, with numbers: notes start
 * on their frame, pitch is the rate a key asks for, one-shots ignore
 * note-off, releases end on time, loops repeat, layers follow velocity,
 * polyphony is a hard limit, empty zones are silent with a message.
 *
 * The track is panned hard left, so the left channel carries the sampler's
 * output times exactly 1 (constant-power pan at -1: cos 0). */
#include <string.h>

#include "eng_test_util.h"
#include "engine/eng_plan.h"

#define N0 1000 /* frame of the first note: mid-block for blocks of 128 */

static float ramp_data[4000]; /* ramp_data[k] = k / 4000 */
static float const_data[48000];

static void fill_data(void) {
  for (int k = 0; k < 4000; k++)
    ramp_data[k] = (float) k / 4000.0f;
  for (int k = 0; k < 48000; k++)
    const_data[k] = 0.5f;
}

static eng_zone_desc zone(const float *data, uint64_t n, uint8_t root) {
  eng_zone_desc z = {.sample = {.frames = data, .n_frames = n, .n_channels = 1, .sample_rate = SR},
                     .key_lo = 0,
                     .key_hi = 127,
                     .root_key = root,
                     .gain = 1.0f};
  return z;
}

/* Renders `frames` of one sampler track (zones, params, notes); returns the
 * left channel as a malloc'd array. */
static float *play(const eng_zone_desc *zones, uint32_t n_zones, const eng_param_value *params,
                   uint32_t n_params, const eng_note_desc *notes, uint32_t n_notes,
                   uint32_t frames) {
  eng_device_desc dev = {.kind = ENG_NODE_SAMPLER,
                         .n_zones = n_zones,
                         .zones = zones,
                         .n_params = n_params,
                         .params = params};
  eng_track_desc t = track(1, 1.0f, -1.0f);
  t.instrument = &dev;
  t.notes = notes;
  t.n_notes = n_notes;
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

static eng_note_desc note(uint64_t at, uint64_t len, uint8_t key, uint8_t vel) {
  eng_note_desc n = {.start_frame = at, .length_frames = len, .key = key, .velocity = vel};
  return n;
}

Test(eng_sampler, a_note_at_frame_n_starts_on_frame_n) {
  fill_data();
  eng_zone_desc z = zone(ramp_data, 4000, 60);
  ramp_data[0] = 0.75f; /* a first frame that is not 0 */
  eng_note_desc nt = note(N0, 2000, 60, 127);
  float *L = play(&z, 1, NULL, 0, &nt, 1, 3000);
  for (uint32_t i = 0; i < N0; i++)
    cr_assert_eq(L[i], 0.0f, "frame %u before the note: %g", i, (double) L[i]);
  cr_expect_eq(L[N0], 0.75f, "first frame of the sample on frame %d: %g", N0, (double) L[N0]);
  for (uint32_t k = 1; k < 200; k++)
    cr_assert_eq(L[N0 + k], ramp_data[k], "frame %u plays source frame %u", N0 + k, k);
  free(L);
}

Test(eng_sampler, an_octave_up_reads_twice_as_fast_and_down_half_as_fast) {
  fill_data();
  eng_zone_desc z = zone(ramp_data, 4000, 60);
  eng_note_desc up = note(N0, 500, 72, 127), down = note(N0, 500, 48, 127);
  float *L = play(&z, 1, NULL, 0, &up, 1, 1600);
  for (uint32_t k = 0; k < 100; k++)
    cr_assert_float_eq(L[N0 + k], (float) (2 * k) / 4000.0f, 1e-6, "up: frame %u", k);
  free(L);
  L = play(&z, 1, NULL, 0, &down, 1, 1600);
  /* Hermite reproduces a straight line: half frames are exact midpoints
   * (from frame 2 on, where all four taps are inside the sample). */
  for (uint32_t k = 2; k < 100; k++)
    cr_assert_float_eq(L[N0 + k], (float) k * 0.5f / 4000.0f, 1e-6, "down: frame %u", k);
  free(L);
}

Test(eng_sampler, a_sample_at_half_the_rate_is_played_at_its_own_pitch) {
  fill_data();
  eng_zone_desc z = zone(ramp_data, 4000, 60);
  z.sample.sample_rate = SR / 2;
  eng_note_desc nt = note(N0, 500, 60, 127);
  float *L = play(&z, 1, NULL, 0, &nt, 1, 1600);
  cr_expect_float_eq(L[N0 + 10], 5.0f / 4000.0f, 1e-6);
  cr_expect_float_eq(L[N0 + 11], 5.5f / 4000.0f, 1e-6);
  free(L);
}

Test(eng_sampler, tune_shifts_the_rate_by_semitones) {
  fill_data();
  eng_zone_desc z = zone(ramp_data, 4000, 60);
  eng_param_value tune = {5, 12.0f}; /* tune +12 semitones */
  eng_note_desc nt = note(N0, 500, 60, 127);
  float *L = play(&z, 1, &tune, 1, &nt, 1, 1600);
  cr_expect_float_eq(L[N0 + 50], 100.0f / 4000.0f, 1e-6);
  free(L);
}

Test(eng_sampler, a_one_shot_ignores_note_off_and_stops_at_the_sample_end) {
  fill_data();
  eng_zone_desc z = zone(const_data, 1000, 60);
  z.mode = ENG_ZONE_ONE_SHOT;
  eng_note_desc nt = note(N0, 10, 64, 127); /* any key: same pitch */
  float *L = play(&z, 1, NULL, 0, &nt, 1, 2600);
  cr_expect_eq(L[N0], 0.5f);
  cr_expect_eq(L[N0 + 500], 0.5f, "still playing after the note-off");
  cr_expect_eq(L[N0 + 999], 0.5f, "last frame of the sample");
  cr_expect_eq(L[N0 + 1000], 0.0f, "ended with the sample");
  free(L);
}

Test(eng_sampler, a_pitched_release_reaches_zero_after_the_release_time) {
  fill_data();
  eng_zone_desc z = zone(const_data, 48000, 60);
  eng_param_value rel = {4, 10.0f}; /* 10 ms = 480 frames */
  eng_note_desc nt = note(N0, 1000, 60, 127);
  float *L = play(&z, 1, &rel, 1, &nt, 1, 3000);
  uint32_t off = N0 + 1000;
  cr_expect_eq(L[off - 1], 0.5f, "sustain before the note-off");
  cr_expect_float_eq(L[off + 239], 0.25f, 1e-3, "half way: %g", (double) L[off + 239]);
  cr_expect_eq(L[off + 479], 0.0f, "zero after 480 frames: %g", (double) L[off + 479]);
  cr_expect_eq(L[off + 600], 0.0f);
  free(L);
}

Test(eng_sampler, attack_rises_linearly_over_its_frames) {
  fill_data();
  eng_zone_desc z = zone(const_data, 48000, 60);
  eng_param_value att = {1, 10.0f}; /* 480 frames */
  eng_note_desc nt = note(N0, 2000, 60, 127);
  float *L = play(&z, 1, &att, 1, &nt, 1, 3000);
  cr_expect_float_eq(L[N0], 0.5f / 480.0f, 1e-6);
  cr_expect_float_eq(L[N0 + 239], 0.25f, 1e-4);
  cr_expect_eq(L[N0 + 479], 0.5f, "full level on frame 480 of the note");
  free(L);
}

Test(eng_sampler, a_loop_repeats_its_region_while_the_note_sounds) {
  fill_data();
  eng_zone_desc z = zone(ramp_data, 100, 60);
  z.loop = true;
  z.loop_start = 50;
  z.loop_end = 100;
  eng_note_desc nt = note(N0, 1000, 60, 127);
  float *L = play(&z, 1, NULL, 0, &nt, 1, 2200);
  cr_expect_eq(L[N0 + 99], ramp_data[99]);
  cr_expect_eq(L[N0 + 100], ramp_data[50], "back to the loop start");
  cr_expect_eq(L[N0 + 175], ramp_data[75]);
  cr_expect_eq(L[N0 + 950], ramp_data[50]);
  free(L);
}

Test(eng_sampler, velocity_ranges_choose_the_layer) {
  fill_data();
  static float soft[1000], hard[1000];
  for (int k = 0; k < 1000; k++)
    soft[k] = 0.1f, hard[k] = 0.9f;
  eng_zone_desc z[2] = {zone(soft, 1000, 60), zone(hard, 1000, 60)};
  z[0].vel_lo = 1, z[0].vel_hi = 63;
  z[1].vel_lo = 64, z[1].vel_hi = 127;
  /* velocity sensitivity 0: level independent of velocity; release 0 ms */
  eng_param_value flat[2] = {{7, 0.0f}, {4, 0.0f}};
  eng_note_desc notes[2] = {note(N0, 100, 60, 30), note(N0 + 500, 100, 60, 100)};
  float *L = play(z, 2, flat, 2, notes, 2, 1800);
  cr_expect_eq(L[N0 + 10], 0.1f, "velocity 30 plays the soft layer");
  cr_expect_eq(L[N0 + 510], 0.9f, "velocity 100 plays the hard layer");
  free(L);
}

Test(eng_sampler, velocity_scales_the_level_linearly) {
  fill_data();
  eng_zone_desc z = zone(const_data, 48000, 60);
  eng_note_desc nt = note(N0, 500, 60, 64);
  float *L = play(&z, 1, NULL, 0, &nt, 1, 1600);
  cr_expect_float_eq(L[N0 + 10], 0.5f * 64.0f / 127.0f, 1e-6);
  free(L);
}

Test(eng_sampler, polyphony_caps_the_voices_and_steals_the_oldest) {
  fill_data();
  eng_zone_desc z = zone(const_data, 48000, 60);
  eng_param_value poly = {8, 2.0f};
  eng_note_desc notes[3] = {note(N0, 2000, 60, 127), note(N0 + 10, 2000, 62, 127),
                            note(N0 + 20, 2000, 64, 127)};
  float *L = play(&z, 1, &poly, 1, notes, 3, 1600);
  cr_expect_eq(L[N0 + 15], 1.0f, "two voices");
  cr_expect_eq(L[N0 + 25], 1.0f, "the third note took the first voice: still two");
  free(L);
}

Test(eng_sampler, an_empty_zone_is_silent_and_named_in_the_message) {
  eng_zone_desc z = zone(NULL, 0, 60);
  eng_device_desc dev = {.kind = ENG_NODE_SAMPLER, .n_zones = 1, .zones = &z};
  eng_track_desc t = track(7, 1.0f, 0.0f);
  t.instrument = &dev;
  eng_plan_desc d = desc_with(&t, 1, false);
  eng_plan *p = NULL;
  char why[256];
  cr_assert_eq(eng_plan_compile(&d, &p, why, sizeof why), ENG_OK);
  cr_expect(strstr(why, "track 7 sampler zone 0 has no sample data") != NULL, "why: %s", why);
  eng_plan_destroy(p);
  eng_note_desc nt = note(N0, 100, 60, 127);
  float *L = play(&z, 1, NULL, 0, &nt, 1, 1600);
  for (uint32_t i = 0; i < 1600; i++)
    cr_assert_eq(L[i], 0.0f);
  free(L);
}

Test(eng_sampler, bad_zones_are_refused_with_a_sentence) {
  fill_data();
  eng_zone_desc z = zone(ramp_data, 4000, 60);
  z.key_lo = 70, z.key_hi = 60;
  eng_device_desc dev = {.kind = ENG_NODE_SAMPLER, .n_zones = 1, .zones = &z};
  eng_track_desc t = track(3, 1.0f, 0.0f);
  t.instrument = &dev;
  eng_plan_desc d = desc_with(&t, 1, false);
  eng_plan *p = NULL;
  char why[256];
  cr_expect_eq(eng_plan_compile(&d, &p, why, sizeof why), ENG_ERR_INVALID);
  cr_expect_str_eq(why, "track 3 sampler zone 0 has a bad key range");
  z = zone(ramp_data, 4000, 60);
  z.mode = ENG_ZONE_ONE_SHOT, z.loop = true;
  cr_expect_eq(eng_plan_compile(&d, &p, why, sizeof why), ENG_ERR_INVALID);
  cr_expect_str_eq(why, "track 3 sampler zone 0 loops, but one-shot zones play once");
  z = zone(ramp_data, 4000, 60);
  z.loop = true, z.loop_start = 10, z.loop_end = 5000;
  cr_expect_eq(eng_plan_compile(&d, &p, why, sizeof why), ENG_ERR_INVALID);
  cr_expect_str_eq(why, "track 3 sampler zone 0 has loop points outside its sample");
  z = zone(ramp_data, 4000, 60);
  dev.kind = ENG_NODE_SYNTH;
  cr_expect_eq(eng_plan_compile(&d, &p, why, sizeof why), ENG_ERR_INVALID);
  cr_expect_str_eq(why, "track 3 instrument 0 (synth): only a sampler takes zones");
  cr_expect_null(p);
}

static int freed;
static void count_free(void *ud) {
  cr_assert_eq(ud, &freed);
  freed++;
}

Test(eng_sampler, on_free_runs_once_when_the_plan_is_freed_or_refused) {
  fill_data();
  eng_zone_desc z = zone(ramp_data, 4000, 60);
  eng_device_desc dev = {.kind = ENG_NODE_SAMPLER, .n_zones = 1, .zones = &z};
  eng_track_desc t = track(3, 1.0f, 0.0f);
  t.instrument = &dev;
  eng_plan_desc d = desc_with(&t, 1, false);
  d.on_free = count_free;
  d.on_free_ud = &freed;
  freed = 0;
  eng_plan *p = NULL;
  cr_assert_eq(eng_plan_create(&d, &p), ENG_OK);
  cr_expect_eq(freed, 0, "not while the plan lives");
  eng_plan_destroy(p);
  cr_expect_eq(freed, 1);
  /* handed to an engine: freed by the engine, after a swap or at destroy */
  eng_engine *e = engine_with(&d, true);
  float buf[256];
  eng_engine_process(e, buf, 128);
  cr_expect_eq(freed, 1);
  eng_plan *p2 = NULL;
  cr_assert_eq(eng_plan_create(&d, &p2), ENG_OK);
  cr_assert_eq(eng_engine_set_plan(e, p2), ENG_OK);
  eng_engine_process(e, buf, 128); /* swap: the first plan is retired */
  eng_engine_collect(e);
  cr_expect_eq(freed, 2, "the retired plan was freed by collect");
  eng_engine_destroy(e);
  cr_expect_eq(freed, 3);
  z.key_lo = 100, z.key_hi = 10;
  cr_expect_eq(eng_plan_create(&d, &p), ENG_ERR_INVALID);
  cr_expect_eq(freed, 4, "a refused description is released too");
}

Test(eng_sampler, a_swap_to_other_sample_data_ends_the_voices_that_read_the_old) {
  fill_data();
  eng_zone_desc z = zone(const_data, 48000, 60);
  eng_device_desc dev = {.kind = ENG_NODE_SAMPLER, .n_zones = 1, .zones = &z};
  eng_note_desc nt = note(0, 20000, 60, 127);
  eng_track_desc t = track(1, 1.0f, -1.0f);
  t.instrument = &dev;
  t.notes = &nt;
  t.n_notes = 1;
  eng_plan_desc d = desc_with(&t, 1, false);
  eng_engine *e = engine_with(&d, true);
  float *a = render(e, 256, 128);
  cr_expect_eq(a[2 * 200], 0.5f);
  z.sample.frames = ramp_data, z.sample.n_frames = 4000; /* the asset changed */
  eng_plan *p = NULL;
  cr_assert_eq(eng_plan_create(&d, &p), ENG_OK);
  cr_assert_eq(eng_engine_set_plan(e, p), ENG_OK);
  float *b = render(e, 256, 128);
  for (int i = 0; i < 256; i++)
    cr_assert_eq(b[2 * i], 0.0f, "the old voice ended at the swap (frame %d)", i);
  eng_engine_destroy(e);
  free(a);
  free(b);
}
