/* test_eng_engine.c: rendering known plans block by block, transport and
 * meters (no backend: the test is the RT thread). */
#include <criterion/criterion.h>

#include "eng_test_util.h"

#define BEAT (SR / 2) /* frames per beat at 120 bpm */

Test(eng_engine, create_refuses_bad_config) {
  eng_engine *e = (eng_engine *) 1;
  eng_config cfg = eng_config_default();
  cr_expect_eq(cfg.sample_rate, 48000);
  cr_expect_eq(cfg.block_frames, 128);
  cfg.block_frames = 0;
  cr_expect_eq(eng_engine_create(&cfg, &e), ENG_ERR_INVALID);
  cr_expect_null(e);
  cfg = eng_config_default();
  cfg.sample_rate = 1000;
  cr_expect_eq(eng_engine_create(&cfg, &e), ENG_ERR_INVALID);
  cr_expect_eq(eng_engine_create(NULL, &e), ENG_ERR_INVALID);
  eng_engine_destroy(NULL);
}

Test(eng_engine, outputs_silence_and_holds_position_when_stopped) {
  eng_track_desc t = track(1, 1.0f, 0.0f);
  eng_plan_desc d = desc_with(&t, 1, true);
  eng_engine *e = engine_with(&d, false);
  float *out = render(e, SR, 128);
  cr_expect_eq(peak(out, 0, 0, SR), 0.0f);
  cr_expect_eq(peak(out, 1, 0, SR), 0.0f);
  cr_expect_eq(eng_engine_position(e), 0);
  free(out);
  eng_engine_destroy(e);
}

Test(eng_engine, outputs_silence_without_a_plan_and_counts_it) {
  eng_config cfg = eng_config_default();
  eng_engine *e = NULL;
  cr_assert_eq(eng_engine_create(&cfg, &e), ENG_OK);
  cr_assert_eq(eng_engine_set_playing(e, true), ENG_OK);
  float *out = render(e, 1280, 128);
  cr_expect_eq(peak(out, 0, 0, 1280), 0.0f);
  eng_stats s;
  eng_engine_stats(e, &s);
  cr_expect_eq(s.blocks_without_plan, 10);
  cr_expect_eq(eng_engine_position(e), 1280, "the transport runs without a plan");
  free(out);
  eng_engine_destroy(e);
}

Test(eng_engine, set_plan_refuses_other_sample_rate_and_frees_the_plan) {
  eng_track_desc t = track(1, 1.0f, 0.0f);
  eng_plan_desc d = desc_with(&t, 1, false);
  d.sample_rate = 44100;
  eng_plan *p = NULL;
  cr_assert_eq(eng_plan_create(&d, &p), ENG_OK);
  eng_config cfg = eng_config_default();
  eng_engine *e = NULL;
  cr_assert_eq(eng_engine_create(&cfg, &e), ENG_OK);
  cr_expect_eq(eng_engine_set_plan(e, p), ENG_ERR_INVALID); /* ASan: p must not leak */
  cr_expect_eq(eng_engine_set_plan(e, NULL), ENG_ERR_INVALID);
  eng_engine_destroy(e);
  expect_no_leaks();
}

/* Beat onsets: the pluck is exactly 0 on the frame before an onset (end of
 * the release) and on the onset frame itself (start of the attack), and
 * sounds right after. */
static void expect_onset(const float *out, uint32_t at) {
  if (at > 0) cr_expect_eq(out[2 * (at - 1)], 0.0f, "frame %u before onset %u", at - 1, at);
  cr_expect_eq(out[2 * at], 0.0f, "onset frame %u", at);
  for (uint32_t i = at + 1; i < at + 10; i++)
    cr_expect_neq(out[2 * i], 0.0f, "frame %u after onset %u", i, at);
  cr_expect_gt(peak(out, 0, at, at + 2400), 0.1f);
}

Test(eng_engine, beats_start_at_frame_0_and_exactly_every_60_over_bpm_seconds) {
  eng_track_desc t = track(1, 1.0f, 0.0f);
  eng_plan_desc d = desc_with(&t, 1, false);
  eng_engine *e = engine_with(&d, true);
  float *out = render(e, 2 * BEAT + 4800, 128); /* 24000 / 128 = 187.5: onsets fall mid-block */
  expect_onset(out, 0);
  expect_onset(out, BEAT);
  expect_onset(out, 2 * BEAT);
  cr_expect_lt(peak(out, 0, BEAT - 96, BEAT), 0.01f, "release before the onset");
  free(out);
  eng_engine_destroy(e);
}

Test(eng_engine, beats_land_on_the_exact_sample_at_fractional_beat_lengths) {
  eng_track_desc t = track(1, 1.0f, 0.0f);
  eng_plan_desc d = desc_with(&t, 1, false);
  d.tempo_bpm = 137.0; /* 21021.897... frames per beat */
  eng_engine *e = engine_with(&d, true);
  float *out = render(e, 70000, 100);
  double beat = 60.0 / 137.0 * SR;
  for (int k = 1; k <= 3; k++)
    expect_onset(out, (uint32_t) ceil(k * beat));
  free(out);
  eng_engine_destroy(e);
}

Test(eng_engine, hard_left_pan_leaves_right_channel_silent) {
  eng_track_desc t = track(1, 1.0f, -1.0f);
  eng_plan_desc d = desc_with(&t, 1, false);
  eng_engine *e = engine_with(&d, true);
  float *out = render(e, SR, 128);
  cr_expect_gt(peak(out, 0, 0, SR), 0.1f);
  cr_expect_eq(peak(out, 1, 0, SR), 0.0f);
  free(out);
  eng_engine_destroy(e);
}

Test(eng_engine, centre_pan_is_minus_3_db_on_each_side) {
  eng_track_desc tl = track(1, 1.0f, -1.0f), tc = track(1, 1.0f, 0.0f);
  eng_plan_desc dl = desc_with(&tl, 1, false), dc = desc_with(&tc, 1, false);
  eng_engine *el = engine_with(&dl, true), *ec = engine_with(&dc, true);
  float *ol = render(el, BEAT, 128), *oc = render(ec, BEAT, 128);
  float full = peak(ol, 0, 0, BEAT);
  cr_expect_float_eq(peak(oc, 0, 0, BEAT), full * (float) M_SQRT1_2, 1e-5);
  cr_expect_float_eq(peak(oc, 1, 0, BEAT), full * (float) M_SQRT1_2, 1e-5);
  free(ol), free(oc);
  eng_engine_destroy(el), eng_engine_destroy(ec);
}

Test(eng_engine, mute_silences_the_track) {
  eng_track_desc t = track(1, 1.0f, 0.0f);
  t.mute = true;
  eng_plan_desc d = desc_with(&t, 1, false);
  eng_engine *e = engine_with(&d, true);
  float *out = render(e, SR, 128);
  cr_expect_eq(peak(out, 0, 0, SR) + peak(out, 1, 0, SR), 0.0f);
  free(out);
  eng_engine_destroy(e);
}

Test(eng_engine, solo_silences_the_other_tracks) {
  eng_track_desc t[3] = {track(1, 1.0f, -1.0f), track(2, 1.0f, 1.0f), track(3, 1.0f, 1.0f)};
  t[0].solo = true; /* the soloed track is hard left, the others hard right */
  eng_plan_desc d = desc_with(t, 3, false);
  eng_engine *e = engine_with(&d, true);
  float *out = render(e, SR, 128);
  cr_expect_gt(peak(out, 0, 0, SR), 0.1f);
  cr_expect_eq(peak(out, 1, 0, SR), 0.0f);
  free(out);
  eng_engine_destroy(e);
}

Test(eng_engine, metronome_clicks_on_every_beat_accenting_beat_one) {
  eng_plan_desc d = desc_with(NULL, 0, true);
  eng_engine *e = engine_with(&d, true);
  float *out = render(e, 5 * BEAT, 128);
  float p[5];
  for (int k = 0; k < 5; k++) {
    p[k] = peak(out, 0, k * BEAT, k * BEAT + 1440);
    cr_expect_gt(p[k], 0.1f, "click on beat %d", k);
    cr_expect_eq(out[2 * (k * BEAT + 1)], out[2 * (k * BEAT + 1) + 1], "centred");
    cr_expect_eq(peak(out, 0, k * BEAT + 1440, (k + 1) * BEAT), 0.0f, "silent between clicks");
  }
  cr_expect_gt(p[0], 1.5f * p[1], "beat 1 accented");
  cr_expect_float_eq(p[1], p[2], 1e-6);
  cr_expect_float_eq(p[0], p[4], 1e-6, "beat 1 of bar 2 accented again");
  free(out);
  eng_engine_destroy(e);
}

Test(eng_engine, metronome_off_means_no_click) {
  eng_plan_desc d = desc_with(NULL, 0, false);
  eng_engine *e = engine_with(&d, true);
  float *out = render(e, SR, 128);
  cr_expect_eq(peak(out, 0, 0, SR), 0.0f);
  free(out);
  eng_engine_destroy(e);
}

Test(eng_engine, half_gain_halves_the_peak) {
  eng_track_desc t1 = track(1, 1.0f, 0.3f), th = track(1, 0.5f, 0.3f);
  eng_plan_desc d1 = desc_with(&t1, 1, false), dh = desc_with(&th, 1, false);
  eng_engine *e1 = engine_with(&d1, true), *eh = engine_with(&dh, true);
  float *o1 = render(e1, SR, 128), *oh = render(eh, SR, 128);
  for (int ch = 0; ch < 2; ch++)
    cr_expect_float_eq(peak(oh, ch, 0, SR), 0.5f * peak(o1, ch, 0, SR), 1e-6);
  free(o1), free(oh);
  eng_engine_destroy(e1), eng_engine_destroy(eh);
}

Test(eng_engine, master_gain_scales_everything) {
  eng_track_desc t = track(1, 1.0f, 0.0f);
  eng_plan_desc d = desc_with(&t, 1, true);
  d.master_gain = 0.0f;
  eng_engine *e = engine_with(&d, true);
  float *out = render(e, SR, 128);
  cr_expect_eq(peak(out, 0, 0, SR) + peak(out, 1, 0, SR), 0.0f);
  free(out);
  eng_engine_destroy(e);
}

Test(eng_engine, stop_keeps_position_fades_out_and_play_resumes_there) {
  eng_track_desc t = track(1, 1.0f, 0.0f);
  eng_plan_desc d = desc_with(&t, 1, false);
  eng_engine *e = engine_with(&d, true);
  free(render(e, 1280, 128));
  cr_expect_eq(eng_engine_position(e), 1280);
  cr_assert_eq(eng_engine_set_playing(e, false), ENG_OK);
  float *out = render(e, 1280, 128);
  cr_expect_eq(eng_engine_position(e), 1280, "stop keeps the position");
  cr_expect_gt(peak(out, 0, 0, 8), 0.0f, "the ringing note fades rather than cuts");
  cr_expect_eq(peak(out, 0, ENG_STOP_FADE_FRAMES, 1280), 0.0f, "silent after the fade");
  free(out);
  cr_assert_eq(eng_engine_set_playing(e, true), ENG_OK);
  free(render(e, 128, 128));
  cr_expect_eq(eng_engine_position(e), 1280 + 128, "play resumes from the position");
  eng_engine_destroy(e);
}

Test(eng_engine, locate_moves_the_transport_to_a_beat_sample_accurately) {
  eng_track_desc t = track(1, 1.0f, 0.0f);
  eng_plan_desc d = desc_with(&t, 1, false);
  eng_engine *e = engine_with(&d, false);
  cr_assert_eq(eng_engine_locate(e, 3 * BEAT - 200), ENG_OK);
  cr_assert_eq(eng_engine_set_playing(e, true), ENG_OK);
  float *out = render(e, 3000, 128);
  cr_expect_eq(eng_engine_position(e), 3 * BEAT - 200 + 3000);
  expect_onset(out, 200);
  free(out);
  eng_engine_destroy(e);
}

Test(eng_engine, meters_report_track_and_master_with_rms_not_above_peak) {
  eng_track_desc t[2] = {track(11, 1.0f, 0.0f), track(22, 1.0f, 0.0f)};
  t[1].mute = true;
  eng_plan_desc d = desc_with(t, 2, false);
  eng_engine *e = engine_with(&d, true);
  free(render(e, SR, 128)); /* 1 s: ~37 windows of 1280 frames */
  eng_meter_frame f;
  int frames = 0;
  float track_peak = 0.0f, master_peak = 0.0f, muted_peak = 0.0f;
  uint64_t last_pos = 0;
  while (eng_engine_read_meters(e, &f) == 1) {
    frames++;
    cr_assert_eq(f.n, 3);
    cr_expect_eq(f.meters[0].track_id, 0);
    cr_expect_eq(f.meters[1].track_id, 11);
    cr_expect_eq(f.meters[2].track_id, 22);
    cr_expect(f.playing);
    cr_expect_gt(f.position, last_pos);
    last_pos = f.position;
    for (uint32_t i = 0; i < f.n; i++)
      cr_expect_leq(f.meters[i].rms, f.meters[i].peak);
    master_peak = fmaxf(master_peak, f.meters[0].peak);
    track_peak = fmaxf(track_peak, f.meters[1].peak);
    muted_peak = fmaxf(muted_peak, f.meters[2].peak);
    if (f.meters[1].peak > 0.0f) cr_expect_gt(f.meters[1].rms, 0.0f);
  }
  cr_expect_geq(frames, 20);
  cr_expect_leq(frames, 50);
  cr_expect_gt(track_peak, 0.1f);
  cr_expect_float_eq(master_peak, track_peak, 1e-6, "the master is the only audible track");
  cr_expect_eq(muted_peak, 0.0f);
  cr_expect_eq(eng_engine_read_meters(e, &f), 0, "drained");
  eng_stats s;
  eng_engine_stats(e, &s);
  cr_expect_eq(s.meters_pushed, (uint64_t) frames);
  cr_expect_eq(s.meters_dropped, 0);
  eng_engine_destroy(e);
}

Test(eng_engine, meters_are_dropped_and_counted_when_nobody_reads) {
  eng_plan_desc d = desc_with(NULL, 0, true);
  eng_engine *e = engine_with(&d, true);
  free(render(e, 5 * SR, 128));
  eng_stats s;
  eng_engine_stats(e, &s);
  cr_expect_gt(s.meters_dropped, 0);
  cr_expect_eq(s.meters_pushed, 64, "the queue holds 64 frames");
  cr_expect_eq(s.blocks, (uint64_t) (5 * SR + 127) / 128);
  cr_expect_eq(s.frames, 5 * SR);
  eng_engine_destroy(e);
}

Test(eng_engine, command_queue_full_is_reported_not_blocked) {
  eng_config cfg = eng_config_default();
  eng_engine *e = NULL;
  cr_assert_eq(eng_engine_create(&cfg, &e), ENG_OK);
  int rc = ENG_OK, n = 0;
  while ((rc = eng_engine_locate(e, (uint64_t) n)) == ENG_OK)
    n++;
  cr_expect_eq(rc, ENG_ERR_FULL);
  cr_expect_eq(n, 256);
  free(render(e, 128, 128));
  cr_expect_eq(eng_engine_position(e), 255, "commands apply in order");
  cr_expect_eq(eng_engine_locate(e, 0), ENG_OK, "room again after a block");
  eng_engine_destroy(e);
}
