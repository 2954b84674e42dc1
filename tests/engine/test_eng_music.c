/* test_eng_music.c: the musical features of the engine checked on exact
 * frames: the metronome on a beat grid (tempo ramps, meter changes,
 * count-in), send level automation and glides. */
#include <criterion/criterion.h>
#include <string.h>

#include "eng_test_util.h"

#define CLICK_FRAMES 1440 /* 30 ms at 48 kHz: the click's length */

static eng_engine *new_engine(const eng_plan_desc *d) {
  eng_config cfg = eng_config_default();
  eng_engine *e = NULL;
  cr_assert_eq(eng_engine_create(&cfg, &e), ENG_OK);
  eng_plan *p = NULL;
  char why[256];
  cr_assert_eq(eng_plan_compile(d, &p, why, sizeof why), ENG_OK, "%s", why);
  cr_assert_eq(eng_engine_set_plan(e, p), ENG_OK);
  return e;
}

/* The clicks of buf over [0, frames) start exactly on the frames of `at`
 * (the click's first sample is sin 0 = 0, the second is not, and nothing
 * sounds between clicks), accented (peak 0.5) where `accent` says, else
 * peak 0.25. */
static void expect_clicks(const float *buf, uint32_t frames, const uint64_t *at, const bool *accent,
                          uint32_t n) {
  uint32_t from = 0;
  for (uint32_t k = 0; k < n; k++) {
    uint32_t f = (uint32_t) at[k];
    cr_assert_lt(f + CLICK_FRAMES, frames);
    cr_expect_eq(peak(buf, 0, from, f + 1), 0.0f, "click %u: silent before frame %u", k, f);
    cr_expect_neq(buf[2 * (f + 1)], 0.0f, "click %u starts on frame %u", k, f);
    float pk = peak(buf, 0, f, f + CLICK_FRAMES);
    if (accent[k])
      cr_expect(pk > 0.4f, "click %u (frame %u) is accented: peak %g", k, f, (double) pk);
    else
      cr_expect(pk > 0.1f && pk < 0.3f, "click %u (frame %u) is not: peak %g", k, f, (double) pk);
    from = f + CLICK_FRAMES;
  }
}

/* A 3/4 bar of uneven beats (a ramp), then 7/8 bars: listed beats, then
 * the tail at 9000.4 frames a beat. */
static const eng_beat grid[] = {
    {0, 0, 3},     {24000, 1, 3}, {46000, 2, 3},  {66500, 0, 7},  {77000, 1, 7},
    {87200, 2, 7}, {97300, 3, 7}, {107300, 4, 7}, {117300, 5, 7},
};
#define TAIL_FRAME 117300.2
#define TAIL_BEAT  9000.4

static eng_plan_desc grid_desc(void) {
  eng_plan_desc d = desc_with(NULL, 0, true);
  d.n_beats = sizeof grid / sizeof grid[0];
  d.beats = grid;
  d.tail_frame = TAIL_FRAME;
  d.tail_beat_frames = TAIL_BEAT;
  return d;
}

Test(eng_music, the_click_follows_the_beat_grid_and_its_tail_accenting_bar_starts) {
  eng_plan_desc d = grid_desc();
  eng_engine *e = new_engine(&d);
  cr_assert_eq(eng_engine_set_playing(e, true), ENG_OK);
  uint32_t frames = 250000;
  float *out = render(e, frames, 100); /* odd blocks: beats fall mid-block */
  uint64_t at[24];
  bool acc[24];
  uint32_t n = 0;
  for (; n < d.n_beats; n++)
    at[n] = grid[n].frame, acc[n] = grid[n].in_bar == 0;
  /* The tail: beat 8 was the 6th of 7, so beat 9 is the 7th, beat 10 a bar start. */
  for (uint32_t j = 1; n < 24 && TAIL_FRAME + j * TAIL_BEAT + CLICK_FRAMES < frames; j++, n++)
    at[n] = (uint64_t) llround(TAIL_FRAME + j * TAIL_BEAT), acc[n] = (5 + j) % 7 == 0;
  cr_assert_gt(n, 20);
  expect_clicks(out, frames, at, acc, n);
  free(out);
  eng_engine_destroy(e);
}

Test(eng_music, a_locate_into_the_grid_clicks_on_the_same_frames) {
  eng_plan_desc d = grid_desc();
  eng_engine *e = new_engine(&d);
  float *whole = render(e, 1, 1); /* the plan is in */
  free(whole);
  cr_assert_eq(eng_engine_locate(e, 80000), ENG_OK);
  cr_assert_eq(eng_engine_set_playing(e, true), ENG_OK);
  float *out = render(e, 60000, 128);
  /* Beats 5.. of the grid, 80000 frames earlier. */
  uint64_t at[] = {87200 - 80000, 97300 - 80000, 107300 - 80000, 117300 - 80000,
                   (uint64_t) llround(TAIL_FRAME + TAIL_BEAT) - 80000};
  bool acc[] = {false, false, false, false, false};
  expect_clicks(out, 60000, at, acc, 5);
  free(out);
  eng_engine_destroy(e);
}

/* A count-in from inside the 7/8 tail: one bar of seven beats at the tail's
 * beat length, the first accented; the transport starts after it. */
Test(eng_music, the_count_in_takes_the_meter_and_tempo_at_the_play_position) {
  eng_plan_desc d = grid_desc();
  eng_engine *e = new_engine(&d);
  free(render(e, 1, 1));
  uint64_t from = (uint64_t) llround(TAIL_FRAME + 3 * TAIL_BEAT) + 2000; /* in the tail */
  cr_assert_eq(eng_engine_locate(e, from), ENG_OK);
  cr_assert_eq(eng_engine_play_count_in(e, 1), ENG_OK);
  uint32_t frames = 90000;
  float *out = render(e, frames, 128);
  uint64_t at[7];
  bool acc[7];
  for (uint32_t k = 0; k < 7; k++)
    at[k] = (uint64_t) ceil(k * TAIL_BEAT), acc[k] = k == 0;
  expect_clicks(out, frames, at, acc, 7);
  uint64_t count = (uint64_t) ceil(7 * TAIL_BEAT);
  /* Then the metronome of the grid, from the position: its next beat. */
  uint64_t next = (uint64_t) llround(TAIL_FRAME + 4 * TAIL_BEAT);
  uint64_t first = count + (next - from);
  cr_expect_eq(peak(out, 0, (uint32_t) (at[6] + CLICK_FRAMES), (uint32_t) first + 1), 0.0f,
               "silent from the count's last click to the grid's next beat");
  cr_expect_neq(out[2 * (first + 1)], 0.0f, "the grid's beat after the count-in");
  free(out);
  eng_engine_destroy(e);
}

Test(eng_music, a_bad_beat_grid_is_refused_with_a_sentence) {
  eng_beat bad[] = {{0, 0, 3}, {100, 1, 3}, {100, 2, 3}};
  eng_plan_desc d = desc_with(NULL, 0, true);
  d.n_beats = 3, d.beats = bad, d.tail_frame = 100, d.tail_beat_frames = 100;
  eng_plan *p = NULL;
  char why[200];
  cr_expect_eq(eng_plan_compile(&d, &p, why, sizeof why), ENG_ERR_INVALID);
  cr_expect_str_eq(why, "beat 2 is not after beat 1");
  bad[2] = (eng_beat){200, 3, 3};
  cr_expect_eq(eng_plan_compile(&d, &p, why, sizeof why), ENG_ERR_INVALID);
  cr_expect_str_eq(why, "beat 2: beat 3 of a bar of 3");
  bad[2] = (eng_beat){200, 2, 3};
  cr_expect_eq(eng_plan_compile(&d, &p, why, sizeof why), ENG_ERR_INVALID, "%s", why);
  cr_expect_str_eq(why, "tail frame 100 does not round to the last beat's");
  d.tail_frame = 200.3;
  cr_expect_eq(eng_plan_compile(&d, &p, why, sizeof why), ENG_OK, "%s", why);
  eng_plan_destroy(p);
}

/* ------------------------------------------------------------------------ */
/* send levels                                                              */
/* ------------------------------------------------------------------------ */

#define DC_FRAMES 200000
static float dc[DC_FRAMES]; /* a constant 0.5, mono */

/* Track 1 plays a constant 0.5 at gain 0, sending pre-fader to bus 2: the
 * master is exactly the send, 0.5 * level. */
static eng_track_desc dc_tracks[2];
static eng_clip_desc dc_clip;
static eng_send_desc dc_send;
static eng_plan_desc send_desc(float level, const eng_automation *lanes, uint32_t n_lanes) {
  for (uint32_t i = 0; i < DC_FRAMES; i++)
    dc[i] = 0.5f;
  dc_clip =
      (eng_clip_desc){.length_frames = DC_FRAMES, .sample = {dc, DC_FRAMES, 1, SR}, .gain = 1.0f};
  dc_send = (eng_send_desc){.bus_track_id = 2, .level = level, .pre_fader = true};
  dc_tracks[0] = track(1, 0.0f, 0.0f);
  dc_tracks[0].audio = true, dc_tracks[0].n_clips = 1, dc_tracks[0].clips = &dc_clip;
  dc_tracks[0].n_sends = 1, dc_tracks[0].sends = &dc_send;
  dc_tracks[0].n_automations = n_lanes, dc_tracks[0].automations = lanes;
  dc_tracks[1] = track(2, 1.0f, 0.0f);
  dc_tracks[1].bus = true;
  return desc_with(dc_tracks, 2, false);
}

/* A lane from 0 at frame 10000 to 2 at 58000 (linear), holding 2 after. */
Test(eng_music, a_send_level_lane_shapes_what_the_bus_hears_frame_by_frame) {
  eng_auto_point pts[] = {{10000, 0.0f, ENG_CURVE_LINEAR, 0}, {58000, 2.0f, ENG_CURVE_LINEAR, 0}};
  eng_automation lane = {.target = ENG_AUTO_SEND, .device = 0, .n_points = 2, .points = pts};
  eng_plan_desc d = send_desc(0.5f, &lane, 1);
  eng_engine *e = new_engine(&d);
  cr_assert_eq(eng_engine_set_playing(e, true), ENG_OK);
  float *out = render(e, 80000, 100);
  cr_expect_eq(peak(out, 0, 0, 10001), 0.0f, "silent while the lane is at 0 (no glide from 0.5)");
  for (uint32_t f = 10000; f < 80000; f += 1234) {
    double level = f >= 58000 ? 2.0 : 2.0 * (f - 10000) / 48000.0;
    cr_expect(fabs(out[2 * f] - 0.5 * level) < 1e-4 && fabs(out[2 * f + 1] - 0.5 * level) < 1e-4,
              "frame %u: %g, want %g", f, (double) out[2 * f], 0.5 * level);
  }
  free(out);
  eng_engine_destroy(e);
}

/* A new plan with another send level glides to it over 20 ms (960 frames)
 * instead of jumping. */
Test(eng_music, a_send_level_change_glides_across_a_plan_swap) {
  eng_plan_desc d = send_desc(0.5f, NULL, 0);
  eng_engine *e = new_engine(&d);
  cr_assert_eq(eng_engine_set_playing(e, true), ENG_OK);
  float *a = render(e, 1000, 100);
  cr_expect_float_eq(a[2 * 999], 0.25f, 1e-6);
  free(a);
  eng_plan_desc d2 = send_desc(1.0f, NULL, 0);
  eng_plan *p;
  cr_assert_eq(eng_plan_create(&d2, &p), ENG_OK);
  cr_assert_eq(eng_engine_set_plan(e, p), ENG_OK);
  float *b = render(e, 2000, 100);
  cr_expect(b[0] > 0.25f && b[0] < 0.2505f, "the first frame moves a step: %g", (double) b[0]);
  for (uint32_t f = 1; f < 960; f++)
    cr_assert(b[2 * f] > b[2 * f - 2], "rising at frame %u", f);
  cr_expect_float_eq(b[2 * 1000], 0.5f, 1e-6, "there after the glide");
  free(b);
  eng_engine_destroy(e);
}

Test(eng_music, a_lane_on_a_send_the_track_does_not_have_is_ignored_with_a_warning) {
  eng_auto_point pt = {0, 1.0f, ENG_CURVE_LINEAR, 0};
  eng_automation lane = {.target = ENG_AUTO_SEND, .device = 3, .n_points = 1, .points = &pt};
  eng_plan_desc d = send_desc(0.5f, &lane, 1);
  eng_plan *p;
  char why[300];
  cr_assert_eq(eng_plan_compile(&d, &p, why, sizeof why), ENG_OK, "%s", why);
  cr_expect_str_eq(why,
                   "track 1 automation 0 (send 3): no such target on this track: this automation "
                   "is ignored");
  eng_plan_destroy(p);
}

/* ------------------------------------------------------------------------ */
/* audio clips in session slots                                             */
/* ------------------------------------------------------------------------ */

static float ramp[1000]; /* r[i] = i / 1000 */

/* Slot 0: a constant 0.5 (dc) for 6000 frames of a 10000-frame loop, at
 * gain 0.8. Slot 1: the first 500 frames of the ramp looped, fading in
 * over 2400 frames, 9000 frames long. */
static eng_clip_desc slot_clip[2];
static eng_slot_desc audio_slots[2];
static eng_track_desc audio_track;
static eng_plan_desc slots_desc(void) {
  for (uint32_t i = 0; i < DC_FRAMES; i++)
    dc[i] = 0.5f;
  for (uint32_t i = 0; i < 1000; i++)
    ramp[i] = (float) i / 1000.0f;
  slot_clip[0] =
      (eng_clip_desc){.length_frames = 6000, .sample = {dc, DC_FRAMES, 1, SR}, .gain = 0.8f};
  slot_clip[1] = (eng_clip_desc){.length_frames = 9000,
                                 .sample = {ramp, 1000, 1, SR},
                                 .gain = 1.0f,
                                 .fade_in_frames = 2400,
                                 .loop = true,
                                 .loop_frames = 500};
  audio_slots[0] =
      (eng_slot_desc){.slot = 0, .length_frames = 10000, .n_clips = 1, .clips = &slot_clip[0]};
  audio_slots[1] =
      (eng_slot_desc){.slot = 1, .length_frames = 9000, .n_clips = 1, .clips = &slot_clip[1]};
  audio_track = track(1, 1.0f, 0.0f);
  audio_track.audio = true, audio_track.n_slots = 2, audio_track.slots = audio_slots;
  return desc_with(&audio_track, 1, false);
}

Test(eng_music, audio_slots_launch_on_the_quantum_loop_and_switch_on_the_exact_frame) {
  eng_plan_desc d = slots_desc();
  eng_engine *e = new_engine(&d);
  cr_assert_eq(eng_engine_set_playing(e, true), ENG_OK);
  float *out = calloc(2 * 80000, sizeof(float));
  for (uint32_t at = 0; at < 80000; at += 100) {
    if (at == 5000) cr_assert_eq(eng_engine_launch(e, 1, 0, 24000), ENG_OK);
    if (at == 30000) cr_assert_eq(eng_engine_launch(e, 1, 1, 24000), ENG_OK);
    eng_engine_process(e, out + 2 * at, 100);
  }
  const float a = 0.5f * 0.8f * (float) M_SQRT1_2; /* centre pan: -3 dB */
  cr_expect_eq(peak(out, 0, 0, 24000), 0.0f, "silent until the quantum");
  for (uint32_t pass = 0; pass < 3; pass++) {
    uint32_t s = 24000 + 10000 * pass;
    for (uint32_t f = s; f < s + 6000 && f < 48000; f += 97)
      cr_assert(fabsf(out[2 * f] - a) < 1e-6f && fabsf(out[2 * f + 1] - a) < 1e-6f,
                "pass %u frame %u: %g", pass, f, (double) out[2 * f]);
    cr_expect_float_eq(out[2 * s], a, 1e-6, "pass %u starts on frame %u", pass, s);
    if (s + 10000 <= 48000)
      cr_expect_eq(peak(out, 0, s + 6000, s + 10000), 0.0f, "pass %u: silent after the clip", pass);
  }
  /* Slot 1 from 48000 (cutting slot 0's third pass at its frame 4000). */
  cr_expect_float_eq(out[2 * 47999], a, 1e-6, "slot 0 up to the switch");
  for (uint32_t t = 0; t < 9000; t += 37) {
    double fade = t < 2400 ? sin(M_PI / 2 * t / 2400.0) : 1.0;
    double want = (t % 500) / 1000.0 * fade * M_SQRT1_2;
    cr_assert(fabs(out[2 * (48000 + t)] - want) < 1e-5, "slot 1 frame %u: %g, want %g", t,
              (double) out[2 * (48000 + t)], want);
  }
  cr_expect_eq(out[2 * 57000], 0.0f, "slot 1's second pass starts again from its fade: 0");
  free(out);
  eng_engine_destroy(e);
}

Test(eng_music, audio_clips_in_a_slot_of_an_instrument_track_are_refused) {
  eng_plan_desc d = slots_desc();
  audio_track.audio = false;
  eng_plan *p;
  char why[200];
  cr_expect_eq(eng_plan_compile(&d, &p, why, sizeof why), ENG_ERR_INVALID);
  cr_expect_str_eq(why, "track 1 slot 0: audio clips need an audio track");
}

/* ------------------------------------------------------------------------ */
/* follow actions                                                           */
/* ------------------------------------------------------------------------ */

/* Three audio slots (numbers 0, 2, 5: gaps as in a scene list with empty
 * slots) of the constant 0.5 at gains 0.2, 0.4, 0.6, each looping every
 * 10000 frames; the output's level says which one plays. */
static eng_clip_desc f_clip[3];
static eng_slot_desc f_slots[3];
static eng_track_desc f_track;
static const uint32_t f_numbers[3] = {0, 2, 5};

static eng_plan_desc follow_desc(const uint32_t *actions, const uint64_t *after) {
  for (uint32_t i = 0; i < DC_FRAMES; i++)
    dc[i] = 0.5f;
  for (uint32_t k = 0; k < 3; k++) {
    f_clip[k] = (eng_clip_desc){
        .length_frames = 10000, .sample = {dc, DC_FRAMES, 1, SR}, .gain = 0.2f * (float) (k + 1)};
    f_slots[k] = (eng_slot_desc){.slot = f_numbers[k],
                                 .length_frames = 10000,
                                 .n_clips = 1,
                                 .clips = &f_clip[k],
                                 .follow = actions[k],
                                 .follow_frames = after[k]};
  }
  f_track = track(1, 1.0f, 0.0f);
  f_track.audio = true, f_track.n_slots = 3, f_track.slots = f_slots;
  return desc_with(&f_track, 1, false);
}

/* Which slot index (0..2) the level at frame f says plays; -1 silence. */
static int playing_at(const float *out, uint32_t f) {
  for (int k = 0; k < 3; k++)
    if (fabsf(out[2 * f] - 0.5f * 0.2f * (float) (k + 1) * (float) M_SQRT1_2) < 1e-6f) return k;
  return out[2 * f] == 0.0f ? -1 : -2;
}

/* Runs the engine playing, launching slot number `first` at frame 1000 (a
 * quantum of 1000 from frame 500). */
static float *run_follow(const eng_plan_desc *d, uint32_t first, uint32_t frames) {
  eng_engine *e = new_engine(d);
  cr_assert_eq(eng_engine_set_playing(e, true), ENG_OK);
  float *out = calloc(2 * (size_t) frames, sizeof(float));
  for (uint32_t at = 0; at < frames; at += 100) {
    if (at == 500) cr_assert_eq(eng_engine_launch(e, 1, first, 1000), ENG_OK);
    eng_engine_process(e, out + 2 * at, frames - at < 100 ? frames - at : 100);
  }
  eng_engine_destroy(e);
  return out;
}

/* Switch k lands on frame at[k] exactly: slot idx[k - 1] on the frame
 * before, idx[k] on it. */
static void expect_chain(const float *out, const uint64_t *at, const int *idx, uint32_t n) {
  for (uint32_t k = 0; k < n; k++) {
    uint32_t f = (uint32_t) at[k];
    cr_expect_eq(playing_at(out, f - 1), k ? idx[k - 1] : -1, "before switch %u (frame %u)", k, f);
    cr_expect_eq(playing_at(out, f), idx[k], "switch %u lands on frame %u", k, f);
  }
}

Test(eng_music, follow_actions_next_last_first_prev_switch_on_their_exact_frames) {
  /* 0 -NEXT after 15000-> 2 -LAST after 12345-> 5 -FIRST after 7777-> 0 ... */
  uint32_t actions[3] = {ENG_FOLLOW_NEXT, ENG_FOLLOW_LAST, ENG_FOLLOW_FIRST};
  uint64_t after[3] = {15000, 12345, 7777};
  eng_plan_desc d = follow_desc(actions, after);
  float *out = run_follow(&d, 0, 80000);
  uint64_t at[] = {1000, 16000, 28345, 36122, 51122, 63467};
  int idx[] = {0, 1, 2, 0, 1, 2};
  expect_chain(out, at, idx, 6);
  free(out);
  /* PREV wraps from the first slot to the last; AGAIN restarts the pass. */
  actions[0] = ENG_FOLLOW_PREV, actions[2] = ENG_FOLLOW_AGAIN, after[2] = 4000;
  d = follow_desc(actions, after);
  out = run_follow(&d, 0, 40000);
  uint64_t at2[] = {1000, 16000, 20000, 24000};
  int idx2[] = {0, 2, 2, 2};
  expect_chain(out, at2, idx2, 2);
  for (uint32_t k = 2; k < 4; k++)
    cr_expect_eq(playing_at(out, (uint32_t) at2[k]), idx2[k], "again: frame %u", (unsigned) at2[k]);
  free(out);
}

Test(eng_music, a_stop_follow_action_silences_the_track_on_its_frame) {
  uint32_t actions[3] = {ENG_FOLLOW_STOP, 0, 0};
  uint64_t after[3] = {5000, 0, 0};
  eng_plan_desc d = follow_desc(actions, after);
  float *out = run_follow(&d, 0, 20000);
  cr_expect_eq(playing_at(out, 5999), 0);
  cr_expect_eq(peak(out, 0, 6000, 20000), 0.0f, "silent from frame 6000 on");
  free(out);
}

/* OTHER never picks the slot itself; ANY and OTHER are a function of the
 * track and the frame: two runs give the same bits. */
Test(eng_music, random_follow_actions_repeat_and_other_never_repeats_itself) {
  uint32_t actions[3] = {ENG_FOLLOW_OTHER, ENG_FOLLOW_OTHER, ENG_FOLLOW_OTHER};
  uint64_t after[3] = {3000, 3000, 3000};
  eng_plan_desc d = follow_desc(actions, after);
  float *a = run_follow(&d, 2, 100000);
  float *b = run_follow(&d, 2, 100000);
  cr_expect_eq(memcmp(a, b, 2 * 100000 * sizeof(float)), 0, "the same picks every run");
  int seen[3] = {0};
  for (uint32_t k = 0; k < 33; k++) {
    uint32_t f = 1000 + 3000 * k;
    int before = playing_at(a, f - 1), now = playing_at(a, f);
    cr_assert(now >= 0, "a slot plays from frame %u", f);
    if (k) cr_expect_neq(now, before, "other: frame %u switches to another slot", f);
    seen[now]++;
  }
  cr_expect(seen[0] && seen[1] && seen[2], "every slot comes up: %d %d %d", seen[0], seen[1],
            seen[2]);
  free(a);
  free(b);
  actions[0] = actions[1] = actions[2] = ENG_FOLLOW_ANY;
  d = follow_desc(actions, after);
  a = run_follow(&d, 0, 100000);
  int again = 0;
  for (uint32_t k = 1; k < 33; k++)
    again += playing_at(a, 1000 + 3000 * k - 1) == playing_at(a, 1000 + 3000 * k);
  cr_expect_gt(again, 0, "any may pick the slot itself");
  free(a);
}

/* ------------------------------------------------------------------------ */
/* launches quantized on the beat grid                                      */
/* ------------------------------------------------------------------------ */

/* The 3/4 then 7/8 grid above with the follow test's audio slots (no
 * follow actions): a launch on the next bar lands on bar 1's first beat, one
 * on the next even bar on bar 2's (in the tail), a stop on the next beat on
 * the tail's next beat. */
Test(eng_music, launches_quantized_on_the_grid_land_on_its_bars_and_beats) {
  uint32_t none[3] = {0, 0, 0};
  uint64_t zero[3] = {0, 0, 0};
  eng_plan_desc d = follow_desc(none, zero);
  eng_plan_desc g = grid_desc();
  d.metronome = false;
  d.n_beats = g.n_beats, d.beats = g.beats, d.tail_frame = g.tail_frame;
  d.tail_beat_frames = g.tail_beat_frames;
  eng_engine *e = new_engine(&d);
  cr_assert_eq(eng_engine_set_playing(e, true), ENG_OK);
  uint32_t frames = 160000;
  float *out = calloc(2 * (size_t) frames, sizeof(float));
  for (uint32_t at = 0; at < frames; at += 100) {
    if (at == 30000) cr_assert_eq(eng_engine_launch_grid(e, 1, 0, 0, 1), ENG_OK);
    if (at == 70000) cr_assert_eq(eng_engine_launch_grid(e, 1, 2, 0, 2), ENG_OK);
    if (at == 140000) cr_assert_eq(eng_engine_launch_grid(e, 1, ENG_NO_SLOT, 1, 0), ENG_OK);
    eng_engine_process(e, out + 2 * at, 100);
  }
  uint64_t bar2 = (uint64_t) llround(TAIL_FRAME + 2 * TAIL_BEAT);
  uint64_t next_beat = (uint64_t) llround(TAIL_FRAME + 3 * TAIL_BEAT);
  uint64_t at[] = {66500, bar2};
  int idx[] = {0, 1};
  expect_chain(out, at, idx, 2);
  cr_expect_eq(playing_at(out, (uint32_t) next_beat - 1), 1, "slot 2 up to the beat");
  cr_expect_eq(peak(out, 0, (uint32_t) next_beat, frames), 0.0f, "stopped on the tail's beat");
  free(out);
  cr_expect_eq(eng_engine_launch_grid(e, 1, 0, 0, 0), ENG_ERR_INVALID, "no quantum");
  cr_expect_eq(eng_engine_launch_grid(e, 1, 7, 1, 0), ENG_ERR_INVALID, "no slot 7");
  eng_engine_destroy(e);
}
