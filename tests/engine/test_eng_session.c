/* test_eng_session.c: loop playback, count-in and quantized launch of
 * session clips, checked on exact frames. */
#include <criterion/criterion.h>
#include <string.h>

#include "eng_test_util.h"

/* Id of parameter `name` of kind `kind`. */
static uint32_t param_id(uint32_t kind, const char *name) {
  const eng_param_info *tab;
  uint32_t n;
  cr_assert_eq(eng_node_params(kind, &tab, &n), ENG_OK);
  for (uint32_t i = 0; i < n; i++)
    if (strcmp(tab[i].name, name) == 0) return tab[i].id;
  cr_assert_fail("no parameter %s", name);
  return 0;
}

/* A synth whose notes are non-zero on their first frame (noise) and silent
 * a few frames after their note-off (0.1 ms release). */
static eng_param_value sharp_pv[3];
static eng_device_desc sharp_synth(void) {
  sharp_pv[0] = (eng_param_value){param_id(ENG_NODE_SYNTH, "noise_level"), 1.0f};
  sharp_pv[1] = (eng_param_value){param_id(ENG_NODE_SYNTH, "amp_attack"), 0.1f};
  sharp_pv[2] = (eng_param_value){param_id(ENG_NODE_SYNTH, "amp_release"), 0.1f};
  return (eng_device_desc){.kind = ENG_NODE_SYNTH, .n_params = 3, .params = sharp_pv};
}

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

static eng_meter_frame latest; /* the last meter frame render_into read */

/* Renders into buf + 2 * from, frames [from, to) of a run, in blocks,
 * reading the meters as it goes. */
static void render_into(eng_engine *e, float *buf, uint32_t from, uint32_t to, uint32_t block) {
  for (uint32_t at = from; at < to; at += block) {
    eng_engine_process(e, buf + 2 * (size_t) at, to - at < block ? to - at : block);
    while (eng_engine_read_meters(e, &latest) == 1) {
    }
  }
}

static bool silent(const float *buf, uint32_t from, uint32_t to) {
  return peak(buf, 0, from, to) == 0.0f && peak(buf, 1, from, to) == 0.0f;
}

/* Sound starts exactly at frame `at`: silence over the `quiet` frames before it. */
static void expect_onset(const float *buf, uint32_t at, uint32_t quiet, const char *what) {
  cr_expect(silent(buf, at - quiet, at), "%s: silent before frame %u", what, at);
  cr_expect_neq(buf[2 * (size_t) at], 0.0f, "%s: sound on frame %u", what, at);
}

/* ------------------------------------------------------------------------ */
/* loop                                                                     */
/* ------------------------------------------------------------------------ */

Test(eng_session, a_note_at_loop_start_sounds_on_every_pass_at_the_exact_frame) {
  eng_device_desc syn = sharp_synth();
  eng_note_desc note = {.start_frame = 1000, .length_frames = 500, .key = 60, .velocity = 100};
  eng_track_desc t = track(1, 1.0f, 0.0f);
  t.instrument = &syn, t.notes = &note, t.n_notes = 1;
  eng_plan_desc d = desc_with(&t, 1, false);
  d.loop = true, d.loop_start_frame = 1000, d.loop_end_frame = 5000;
  eng_engine *e = new_engine(&d);
  cr_assert_eq(eng_engine_set_playing(e, true), ENG_OK);
  float *out = calloc(2 * 21000, sizeof(float));
  render_into(e, out, 0, 21000, 128); /* 5000 = 39 * 128 + 8: the wrap is mid-block */
  expect_onset(out, 1000, 1000, "first pass");
  for (uint32_t k = 1; k <= 4; k++) {
    uint32_t at = 1000 + 4000 * k;
    expect_onset(out, at, 3000, "a later pass");
  }
  cr_expect_eq(eng_engine_position(e), 1000 + (21000 - 1000) % 4000);
  free(out);
  eng_engine_destroy(e);
}

Test(eng_session, a_note_sounding_at_loop_end_gets_its_note_off_on_the_wrap) {
  eng_device_desc syn = sharp_synth();
  eng_note_desc note = {.start_frame = 4000, .length_frames = 3000, .key = 60, .velocity = 100};
  eng_track_desc t = track(1, 1.0f, 0.0f);
  t.instrument = &syn, t.notes = &note, t.n_notes = 1;
  eng_plan_desc d = desc_with(&t, 1, false);
  d.loop = true, d.loop_start_frame = 1000, d.loop_end_frame = 5000;
  eng_engine *e = new_engine(&d);
  cr_assert_eq(eng_engine_set_playing(e, true), ENG_OK);
  float *out = calloc(2 * 12000, sizeof(float));
  render_into(e, out, 0, 12000, 100);
  cr_expect_gt(peak(out, 0, 4900, 5000), 0.01f, "the note sounds up to the loop end");
  cr_expect(silent(out, 5050, 8000), "released on the wrap (the off at 7000 is never reached)");
  expect_onset(out, 8000, 2900, "next pass");
  free(out);
  eng_engine_destroy(e);
}

Test(eng_session, clips_and_the_beat_play_again_from_loop_start_bit_for_bit) {
  static float pcm[3000];
  for (int k = 0; k < 3000; k++)
    pcm[k] = (float) ((k * 7919) % 2000 - 1000) / 1000.0f;
  eng_clip_desc clip = {
      .start_frame = 2000, .length_frames = 3000, .sample = {pcm, 3000, 1, SR}, .gain = 1.0f};
  eng_track_desc t[2] = {track(1, 1.0f, 0.0f), track(2, 0.5f, 0.0f)}; /* clip, test tone */
  t[0].audio = true, t[0].clips = &clip, t[0].n_clips = 1;
  eng_plan_desc d = desc_with(t, 2, true);
  d.loop = true, d.loop_start_frame = 2000, d.loop_end_frame = 3000;
  eng_engine *e = new_engine(&d);
  cr_assert_eq(eng_engine_locate(e, 2000), ENG_OK);
  cr_assert_eq(eng_engine_set_playing(e, true), ENG_OK);
  float *out = calloc(2 * 4000, sizeof(float));
  render_into(e, out, 0, 4000, 333);
  cr_expect_gt(peak(out, 0, 0, 1000), 0.1f);
  for (uint32_t k = 0; k < 1000; k++)
    for (uint32_t pass = 1; pass < 4; pass++)
      cr_assert_eq(out[2 * (k + 1000 * pass)], out[2 * k], "frame %u of pass %u", k, pass);
  free(out);
  eng_engine_destroy(e);
}

Test(eng_session, a_transport_past_loop_end_plays_on_and_a_bad_region_is_refused) {
  eng_track_desc t = track(1, 1.0f, 0.0f);
  eng_plan_desc d = desc_with(&t, 1, false);
  d.loop = true, d.loop_start_frame = 1000, d.loop_end_frame = 5000;
  eng_engine *e = new_engine(&d);
  cr_assert_eq(eng_engine_locate(e, 6000), ENG_OK);
  cr_assert_eq(eng_engine_set_playing(e, true), ENG_OK);
  free(render(e, 4000, 128));
  cr_expect_eq(eng_engine_position(e), 10000);
  eng_engine_destroy(e);

  d.loop_end_frame = 1000;
  eng_plan *p = NULL;
  char why[128];
  cr_expect_eq(eng_plan_compile(&d, &p, why, sizeof why), ENG_ERR_INVALID);
  cr_expect_str_eq(why, "loop region 1000..1000 is empty");
  cr_expect_null(p);
}

/* ------------------------------------------------------------------------ */
/* count-in                                                                 */
/* ------------------------------------------------------------------------ */

Test(eng_session, count_in_clicks_one_bar_then_the_transport_starts_on_the_exact_frame) {
  eng_device_desc syn = sharp_synth();
  eng_note_desc note = {.start_frame = 0, .length_frames = 500, .key = 60, .velocity = 100};
  eng_track_desc t = track(1, 1.0f, 0.0f);
  t.instrument = &syn, t.notes = &note, t.n_notes = 1;
  eng_plan_desc d = desc_with(&t, 1, false); /* metronome off: the count-in clicks anyway */
  eng_engine *e = new_engine(&d);
  cr_assert_eq(eng_engine_play_count_in(e, 1), ENG_OK);
  const uint32_t bar = 96000, beat = 24000, click = 1440, total = bar + 4000;
  float *out = calloc(2 * (size_t) total, sizeof(float));
  render_into(e, out, 0, 50038, 127); /* 96000 = 755 * 127 + 115: starts mid-block */
  cr_expect_eq(eng_engine_position(e), 0, "the transport holds during the count-in");
  cr_expect(latest.counting_in && !latest.playing, "meters say counting in");
  render_into(e, out, 50038, total, 127);
  float beat_peak[4];
  for (uint32_t k = 0; k < 4; k++) {
    beat_peak[k] = peak(out, 0, k * beat, k * beat + click);
    cr_expect_gt(beat_peak[k], 0.1f, "click on beat %u", k);
    cr_expect_eq(out[2 * (k * beat + 1)] != 0.0f, true, "beat %u starts on frame %u", k, k * beat);
    cr_expect(silent(out, k * beat + click, (k + 1) * beat), "nothing after beat %u's click", k);
  }
  cr_expect_gt(beat_peak[0], 1.5f * beat_peak[1], "beat 1 is accented");
  cr_expect_float_eq(beat_peak[1], beat_peak[2], 1e-6f);
  expect_onset(out, bar, beat - click, "the note at position 0");
  cr_expect_eq(eng_engine_position(e), total - bar, "then the transport plays");
  free(out);
  eng_engine_destroy(e);
}

Test(eng_session, count_in_is_refused_above_the_limit_and_stop_cancels_it) {
  eng_track_desc t = track(1, 1.0f, 0.0f);
  eng_plan_desc d = desc_with(&t, 1, false);
  eng_engine *e = new_engine(&d);
  cr_expect_eq(eng_engine_play_count_in(e, ENG_MAX_COUNT_IN_BARS + 1), ENG_ERR_INVALID);
  cr_expect_eq(eng_engine_play_count_in(NULL, 1), ENG_ERR_INVALID);
  cr_assert_eq(eng_engine_play_count_in(e, 2), ENG_OK);
  free(render(e, 1000, 128));
  cr_assert_eq(eng_engine_set_playing(e, false), ENG_OK);
  float *out = render(e, 30000, 128);
  cr_expect(silent(out, 0, 30000), "no click after the stop");
  cr_expect_eq(eng_engine_position(e), 0);
  free(out);
  eng_engine_destroy(e);
}

/* ------------------------------------------------------------------------ */
/* quantized launch                                                         */
/* ------------------------------------------------------------------------ */

#define BAR 96000u /* 120 bpm, 4/4, 48 kHz */

static eng_note_desc slot0_notes[2] = {{0, 500, 60, 100}, {48000, 500, 64, 100}};
static eng_note_desc slot1_notes[1] = {{12000, 500, 67, 100}};
static eng_note_desc slot2_notes[1] = {{0, 90000, 72, 100}}; /* held */

static eng_engine *session_engine(eng_device_desc *syn, eng_track_desc *t, eng_slot_desc *slots) {
  *syn = sharp_synth();
  slots[0] = (eng_slot_desc){.slot = 0, .length_frames = BAR, .n_notes = 2, .notes = slot0_notes};
  slots[1] = (eng_slot_desc){.slot = 1, .length_frames = BAR, .n_notes = 1, .notes = slot1_notes};
  slots[2] = (eng_slot_desc){.slot = 2, .length_frames = BAR, .n_notes = 1, .notes = slot2_notes};
  *t = track(7, 1.0f, 0.0f);
  t->instrument = syn, t->slots = slots, t->n_slots = 3;
  eng_plan_desc d = desc_with(t, 1, false);
  return new_engine(&d);
}

/* The last meter frame, for track 7 (meters[1]). */
static eng_meter last_meter(eng_engine *e) {
  eng_meter_frame f = latest;
  while (eng_engine_read_meters(e, &f) == 1) {
  }
  cr_assert_eq(f.n, 2);
  cr_assert_eq(f.meters[1].track_id, 7);
  return f.meters[1];
}

Test(eng_session, a_launch_at_frame_1000_with_a_bar_quantum_starts_on_frame_96000_and_loops) {
  eng_device_desc syn;
  eng_track_desc t;
  eng_slot_desc slots[3];
  eng_engine *e = session_engine(&syn, &t, slots);
  cr_assert_eq(eng_engine_locate(e, 1000), ENG_OK);
  cr_assert_eq(eng_engine_set_playing(e, true), ENG_OK);
  cr_assert_eq(eng_engine_launch(e, 7, 0, BAR), ENG_OK);
  /* out[i] is transport frame 1000 + i */
  const uint32_t n = 2 * BAR + 10000 - 1000;
  float *out = calloc(2 * (size_t) n, sizeof(float));
  render_into(e, out, 0, 4992, 128);
  eng_meter m = last_meter(e);
  cr_expect_eq(m.slot, ENG_NO_SLOT);
  cr_expect_eq(m.queued, 0, "queued until the bar");
  render_into(e, out, 4992, n, 128);
  cr_expect(silent(out, 0, BAR - 1000), "nothing before the bar");
  expect_onset(out, BAR - 1000, 1000, "launch on frame 96000");
  expect_onset(out, BAR + 48000 - 1000, 40000, "the clip's second note");
  expect_onset(out, 2 * BAR - 1000, 40000, "the clip loops at its length");
  m = last_meter(e);
  cr_expect_eq(m.slot, 0);
  cr_expect_eq(m.queued, ENG_NO_SLOT);
  free(out);
  eng_engine_destroy(e);
}

Test(eng_session, launching_another_slot_switches_exactly_at_the_boundary) {
  eng_device_desc syn;
  eng_track_desc t;
  eng_slot_desc slots[3];
  eng_engine *e = session_engine(&syn, &t, slots);
  cr_assert_eq(eng_engine_set_playing(e, true), ENG_OK);
  cr_assert_eq(eng_engine_launch(e, 7, 0, 0), ENG_OK); /* at once: frame 0 */
  const uint32_t n = 3 * BAR + 20000;
  float *out = calloc(2 * (size_t) n, sizeof(float));
  render_into(e, out, 0, 100096, 128);
  cr_assert_eq(eng_engine_launch(e, 7, 1, BAR), ENG_OK); /* at 100096: switch at 192000 */
  render_into(e, out, 100096, n, 128);
  expect_onset(out, 0, 0 + 0, "slot 0 at once");
  expect_onset(out, BAR, 40000, "slot 0 second pass");
  expect_onset(out, BAR + 48000, 40000, "slot 0's second note before the switch");
  cr_expect(silent(out, 2 * BAR - 40000, 2 * BAR + 12000), "slot 0 no longer plays from 192000");
  expect_onset(out, 2 * BAR + 12000, 12000, "slot 1 from the boundary");
  cr_expect(silent(out, 2 * BAR + 13000, 3 * BAR + 12000), "slot 0's note at 240000 is gone");
  expect_onset(out, 3 * BAR + 12000, 12000, "slot 1 loops");
  eng_meter m = last_meter(e);
  cr_expect_eq(m.slot, 1);
  free(out);
  eng_engine_destroy(e);
}

Test(eng_session, stop_slot_ends_a_held_note_on_the_quantum) {
  eng_device_desc syn;
  eng_track_desc t;
  eng_slot_desc slots[3];
  eng_engine *e = session_engine(&syn, &t, slots);
  cr_assert_eq(eng_engine_set_playing(e, true), ENG_OK);
  cr_assert_eq(eng_engine_launch(e, 7, 2, BAR), ENG_OK);
  float *out = calloc(2 * 100000, sizeof(float));
  render_into(e, out, 0, 30080, 128);
  cr_assert_eq(eng_engine_stop_slot(e, 7, 24000), ENG_OK); /* at 30080: stop at 48000 */
  render_into(e, out, 30080, 100000, 128);
  eng_meter m = last_meter(e);
  cr_expect_eq(m.slot, ENG_NO_SLOT);
  cr_expect_eq(m.queued, ENG_NO_SLOT);
  cr_expect_gt(peak(out, 0, 47900, 48000), 0.01f, "held up to the stop");
  cr_expect(silent(out, 48050, 100000), "released on frame 48000, and not relaunched");
  free(out);
  eng_engine_destroy(e);
}

Test(eng_session, transport_stop_stops_session_clips_and_bad_launches_are_refused) {
  eng_device_desc syn;
  eng_track_desc t;
  eng_slot_desc slots[3];
  eng_engine *e = session_engine(&syn, &t, slots);
  cr_expect_eq(eng_engine_launch(e, 7, 3, 0), ENG_ERR_INVALID, "no slot 3");
  cr_expect_eq(eng_engine_launch(e, 8, 0, 0), ENG_ERR_INVALID, "no track 8");
  cr_expect_eq(eng_engine_stop_slot(e, 8, 0), ENG_ERR_INVALID);
  cr_expect_eq(eng_engine_launch(NULL, 7, 0, 0), ENG_ERR_INVALID);
  cr_assert_eq(eng_engine_set_playing(e, true), ENG_OK);
  cr_assert_eq(eng_engine_launch(e, 7, 0, 0), ENG_OK);
  float out[2 * 4096];
  render_into(e, out, 0, 2048, 128);
  cr_expect_eq(last_meter(e).slot, 0);
  cr_assert_eq(eng_engine_set_playing(e, false), ENG_OK);
  render_into(e, out, 2048, 4096, 128);
  cr_expect_eq(last_meter(e).slot, ENG_NO_SLOT);
  eng_engine_destroy(e);
}

Test(eng_session, slots_are_validated) {
  eng_device_desc syn = sharp_synth();
  eng_slot_desc slots[2] = {{.slot = 4, .length_frames = 10, .n_notes = 1, .notes = slot0_notes},
                            {.slot = 4, .length_frames = 10}};
  eng_track_desc t = track(1, 1.0f, 0.0f);
  t.instrument = &syn, t.slots = slots, t.n_slots = 2;
  eng_plan_desc d = desc_with(&t, 1, false);
  eng_plan *p = NULL;
  char why[128];
  cr_expect_eq(eng_plan_compile(&d, &p, why, sizeof why), ENG_ERR_INVALID);
  cr_expect_str_eq(why, "track 1: slot 4 appears twice");
  slots[1].slot = 5, slots[1].length_frames = 0;
  cr_expect_eq(eng_plan_compile(&d, &p, why, sizeof why), ENG_ERR_INVALID);
  cr_expect_str_eq(why, "track 1 slot 5: length 0 is invalid");
  slots[1].length_frames = 10;
  t.instrument = NULL;
  cr_expect_eq(eng_plan_compile(&d, &p, why, sizeof why), ENG_ERR_INVALID);
  cr_expect_str_eq(why, "track 1 slot 4: notes but no instrument");
  t.instrument = &syn;
  cr_expect_eq(eng_plan_compile(&d, &p, why, sizeof why), ENG_OK, "%s", why);
  eng_plan_destroy(p);
}
