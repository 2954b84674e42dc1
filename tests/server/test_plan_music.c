/* The musical side of srv_plan, from a model built with ops, checked on the
 * engine's output: the metronome on the tempo map (ramps, meter changes) at
 * the frames mdl_time gives; send-level and master lanes heard. */
#include "engine/eng_engine.h"
#include "server/srv_control.h"
#include "server/srv_plan.h"
#include "shared/mdl_device.h"
#include "shared/mdl_err.h"
#include "shared/mdl_op.h"
#include "shared/mdl_time.h"
#include "storage/sto_asset.h"

#include <criterion/criterion.h>
#include <math.h>
#include <sndfile.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define RATE         48000
#define CLICK_FRAMES 1440 /* the click lasts 30 ms */

static mdl_project *proj;
static uint32_t next_id = 100;
static char dir[] = "/tmp/backline-music-XXXXXX";
static char assets[80];
static char tone_id[STO_ASSET_ID_LEN + 1];

static mdl_id new_id(void) {
  return MDL_ID_MAKE(1, next_id++);
}

static void apply(mdl_op *ops, uint32_t n) {
  mdl_fail fail;
  cr_assert_eq(mdl_txn_apply(proj, &(mdl_txn){n, ops}, 1, &fail), 0, "%s", fail.reason);
}

static mdl_value vint(int64_t i) {
  return (mdl_value){.kind = MDL_VAL_INT, .u.i = i};
}
static mdl_value vreal(double r) {
  return (mdl_value){.kind = MDL_VAL_REAL, .u.r = r};
}
static mdl_value vbool(bool b) {
  return (mdl_value){.kind = MDL_VAL_BOOL, .u.b = b};
}

static void set(mdl_id id, int prop, mdl_value v) {
  mdl_op op = {.kind = MDL_OP_SET, .id = id, .prop = (uint8_t) prop, .value = v};
  apply(&op, 1);
}

static mdl_id create(int type, mdl_id parent, mdl_prop_value *props, uint32_t n) {
  mdl_id id = new_id();
  mdl_op op = {.kind = MDL_OP_CREATE,
               .type = (uint8_t) type,
               .id = id,
               .parent = parent,
               .n_props = n,
               .props = props};
  apply(&op, 1);
  return id;
}

/* A second of 440 Hz at 48 kHz, amplitude 0.5, imported as an asset. */
static void import_tone(void) {
  char wav[120], err[300];
  snprintf(wav, sizeof wav, "%s/tone.wav", dir);
  SF_INFO info = {.samplerate = RATE, .channels = 1, .format = SF_FORMAT_WAV | SF_FORMAT_FLOAT};
  SNDFILE *f = sf_open(wav, SFM_WRITE, &info);
  cr_assert_not_null(f);
  static float buf[RATE];
  for (int i = 0; i < RATE; i++)
    buf[i] = 0.5f * (float) sin(2 * M_PI * 440 * i / RATE);
  cr_assert_eq(sf_writef_float(f, buf, RATE), RATE);
  sf_close(f);
  sto_asset_store *st;
  cr_assert_eq(sto_asset_store_open(assets, &st, err, sizeof err), 0, "%s", err);
  sto_asset_info ai;
  cr_assert_eq(sto_asset_import(st, wav, "tone.wav", RATE, &ai, err, sizeof err), 0, "%s", err);
  snprintf(tone_id, sizeof tone_id, "%s", ai.id);
  sto_asset_close(st);
}

static void setup(void) {
  proj = mdl_project_create(&srv__alloc, "Music");
  cr_assert_not_null(proj);
  cr_assert_not_null(mkdtemp(dir));
  snprintf(assets, sizeof assets, "%s/assets", dir);
  import_tone();
}

static void teardown(void) {
  mdl_project_destroy(proj);
  char cmd[120];
  snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
  cr_assert_eq(system(cmd), 0);
}

TestSuite(srv_plan_music, .init = setup, .fini = teardown);

/* Compiles the project, plays it from frame 0 for `frames` frames in blocks
 * of 100 (beats fall mid-block); returns the interleaved output (free it). */
static float *play(uint32_t frames) {
  srv_plan_ctx *ctx = srv_plan_ctx_create(assets);
  eng_plan *plan;
  char why[300];
  cr_assert_eq(srv_plan_build(ctx, proj, RATE, NULL, 0, &plan, why, sizeof why), 0, "%s", why);
  eng_config cfg = eng_config_default();
  eng_engine *e;
  cr_assert_eq(eng_engine_create(&cfg, &e), 0);
  cr_assert_eq(eng_engine_set_plan(e, plan), 0);
  cr_assert_eq(eng_engine_set_playing(e, true), 0);
  float *out = calloc((size_t) frames * 2, sizeof *out);
  for (uint32_t at = 0; at < frames; at += 100)
    eng_engine_process(e, out + 2 * (size_t) at, frames - at < 100 ? frames - at : 100);
  eng_engine_destroy(e);
  srv_plan_ctx_destroy(ctx);
  return out;
}

static float peak(const float *buf, uint32_t from, uint32_t to) {
  float p = 0;
  for (uint32_t i = from; i < to; i++)
    p = fmaxf(p, fabsf(buf[2 * i]));
  return p;
}

/* 3/4 at 100 BPM; a change at bar 2 to 100 BPM ramping to 140 at bar 4;
 * 7/8 from bar 5. The clicks land on every beat's frame from mdl_time
 * (eighth notes in 7/8), accented on each bar's first beat, and nothing
 * sounds between them. */
Test(srv_plan_music, the_click_follows_tempo_ramps_and_meter_changes_at_mdl_times_frames) {
  set(MDL_ID_PROJECT, MDL_PROP_TEMPO, vreal(100));
  set(MDL_ID_PROJECT, MDL_PROP_TS_NUM, vint(3));
  set(MDL_ID_PROJECT, MDL_PROP_METRONOME, vbool(true));
  int64_t bar34 = 3 * MDL_PPQ;
  mdl_prop_value ramp[] = {{MDL_PROP_START, vint(2 * bar34)},
                           {MDL_PROP_TEMPO, vreal(100)},
                           {MDL_PROP_RAMP, vbool(true)}};
  mdl_prop_value fast[] = {{MDL_PROP_START, vint(4 * bar34)}, {MDL_PROP_TEMPO, vreal(140)}};
  mdl_prop_value meter[] = {
      {MDL_PROP_BAR, vint(5)}, {MDL_PROP_TS_NUM, vint(7)}, {MDL_PROP_TS_DEN, vint(8)}};
  create(MDL_TYPE_TEMPO, MDL_ID_PROJECT, ramp, 3);
  create(MDL_TYPE_TEMPO, MDL_ID_PROJECT, fast, 2);
  create(MDL_TYPE_METER, MDL_ID_PROJECT, meter, 3);

  mdl_time_map map;
  mdl_time_map_build(proj, &map);
  /* Every beat to bar 8: 15 quarter notes of 3/4, then 21 eighths of 7/8. */
  uint64_t at[64];
  bool accent[64];
  uint32_t n = 0;
  for (int64_t t = 0; t < 5 * bar34; t += MDL_PPQ, n++)
    at[n] = (uint64_t) llround(mdl_time_seconds(&map, t) * RATE), accent[n] = t % bar34 == 0;
  for (int64_t t = 0; t < 3 * 7 * MDL_PPQ / 2; t += MDL_PPQ / 2, n++) {
    at[n] = (uint64_t) llround(mdl_time_seconds(&map, 5 * bar34 + t) * RATE);
    accent[n] = t % (7 * MDL_PPQ / 2) == 0;
  }
  /* The ramp makes the beats shorter one by one: not a constant tempo. */
  cr_assert_gt(at[7] - at[6], at[8] - at[7] + 100);
  cr_assert_gt(at[15] - at[14], (at[16] - at[15]) * 2 - 2);

  uint32_t frames = (uint32_t) at[n - 1] + 5000;
  float *out = play(frames);
  uint32_t from = 0;
  for (uint32_t k = 0; k < n; k++) {
    uint32_t f = (uint32_t) at[k];
    cr_expect_eq(peak(out, from, f + 1), 0.0f, "beat %u: silence before frame %u", k, f);
    cr_expect_neq(out[2 * (f + 1)], 0.0f, "beat %u: the click starts on frame %u", k, f);
    float pk = peak(out, f, f + CLICK_FRAMES);
    if (accent[k])
      cr_expect(pk > 0.4f, "beat %u (frame %u) starts a bar: accented, peak %g", k, f, (double) pk);
    else
      cr_expect(pk > 0.1f && pk < 0.3f, "beat %u (frame %u): plain click, peak %g", k, f,
                (double) pk);
    from = f + CLICK_FRAMES;
  }
  cr_expect_eq(peak(out, from, frames), 0.0f, "nothing after the last click");
  free(out);
}

/* ---- Lanes on sends and on the master --------------------------------------------- */

#define BEAT (RATE / 2)    /* frames per beat at the default 120 BPM */
#define TONE 0.5 / M_SQRT2 /* RMS of the tone */

static mdl_value vstr(const char *str) {
  return (mdl_value){.kind = MDL_VAL_STR, .u.s = {str, (uint32_t) strlen(str)}};
}

/* An audio track playing the tone without a break for 8 bars (a clip
 * looping the whole second). */
static mdl_id tone_track(double gain) {
  set(MDL_ID_PROJECT, MDL_PROP_METRONOME, vbool(false));
  mdl_prop_value tp[] = {{MDL_PROP_KIND, vint(MDL_TRACK_AUDIO)}, {MDL_PROP_GAIN, vreal(gain)}};
  mdl_id t = create(MDL_TYPE_TRACK, MDL_ID_PROJECT, tp, 2);
  mdl_prop_value cp[] = {{MDL_PROP_ASSET, vstr(tone_id)},
                         {MDL_PROP_LENGTH, vint(32 * MDL_PPQ)},
                         {MDL_PROP_LOOP, vbool(true)},
                         {MDL_PROP_LOOP_END, vint(2 * MDL_PPQ)}};
  create(MDL_TYPE_CLIP, t, cp, 4);
  return t;
}

/* A lane on OWNER's PARAM with points (tick, value, curve). */
static void lane_on(mdl_id owner, int param, const int64_t *ticks, const double *values,
                    const int *curves, uint32_t n) {
  mdl_prop_value lp[] = {{MDL_PROP_PARAM, vint(param)}};
  mdl_id l = create(MDL_TYPE_LANE, owner, lp, 1);
  for (uint32_t i = 0; i < n; i++) {
    mdl_prop_value pp[] = {{MDL_PROP_START, vint(ticks[i])},
                           {MDL_PROP_VALUE, vreal(values[i])},
                           {MDL_PROP_CURVE, vint(curves[i])}};
    create(MDL_TYPE_POINT, l, pp, 3);
  }
}

/* RMS of channel ch over 4800 frames (44 cycles of the tone) centred on c. */
static double rms_at(const float *out, uint32_t c, int ch) {
  double sum = 0;
  for (uint32_t i = c - 2400; i < c + 2400; i++)
    sum += (double) out[2 * i + ch] * out[2 * i + ch];
  return sqrt(sum / 4800);
}

/* The tone at gain 0 sends pre-fader to a return; the send's level lane
 * rises from 0 to 1 over four beats: the return (all that is heard)
 * follows it. */
Test(srv_plan_music, a_send_level_lane_shapes_the_return) {
  mdl_id t = tone_track(0.0);
  mdl_prop_value rp[] = {{MDL_PROP_KIND, vint(MDL_TRACK_RETURN)}};
  mdl_id ret = create(MDL_TYPE_TRACK, MDL_ID_PROJECT, rp, 1);
  mdl_prop_value sp[] = {{MDL_PROP_TARGET, vint((int64_t) ret)},
                         {MDL_PROP_LEVEL, vreal(1.0)},
                         {MDL_PROP_PRE, vbool(true)}};
  mdl_id send = create(MDL_TYPE_SEND, t, sp, 3);
  lane_on(send, MDL_PROP_LEVEL, (int64_t[]){0, 4 * MDL_PPQ}, (double[]){0, 1},
          (int[]){MDL_CURVE_LINEAR, MDL_CURVE_LINEAR}, 2);
  float *out = play(6 * BEAT);
  double full = rms_at(out, 5 * BEAT, 0); /* level 1 after the lane's end */
  cr_expect(fabs(full - TONE) < 1e-3 * TONE, "the tone through the return: %.4f", full);
  for (int q = 1; q <= 7; q += 2) {
    uint32_t c = (uint32_t) (4 * BEAT * q / 8);
    double want = full * q / 8.0;
    for (int ch = 0; ch < 2; ch++)
      cr_expect(fabs(rms_at(out, c, ch) - want) < 0.01 * want, "%d/8 of the rise: %.4f, want %.4f",
                q, rms_at(out, c, ch), want);
  }
  cr_expect_lt(rms_at(out, 2400, 0), 0.07 * full, "near 0 as the lane starts at 0: %.4f",
               rms_at(out, 2400, 0) / full);
  free(out);
}

/* The master: a gain lane falling from 1 to 0.5 over two bars, a pan lane
 * at -0.5 (a balance: the right side at 0.5), and a gain effect on it whose
 * lane steps from 1 to 2 at bar 1. */
Test(srv_plan_music, master_lanes_drive_its_gain_pan_and_effects) {
  tone_track(1.0);
  float *plain = play(9 * BEAT);
  cr_expect(fabs(rms_at(plain, 2 * BEAT, 0) - TONE * M_SQRT1_2) < 1e-3 * TONE,
            "centre: -3 dB each side: %.5f", rms_at(plain, 2 * BEAT, 0));
  mdl_prop_value gp[] = {{MDL_PROP_KIND, vint(MDL_DEV_GAIN)}};
  mdl_id fx = create(MDL_TYPE_DEVICE, MDL_ID_MASTER, gp, 1);
  lane_on(MDL_ID_MASTER, MDL_PROP_GAIN, (int64_t[]){0, 8 * MDL_PPQ}, (double[]){1, 0.5},
          (int[]){MDL_CURVE_LINEAR, MDL_CURVE_LINEAR}, 2);
  lane_on(MDL_ID_MASTER, MDL_PROP_PAN, (int64_t[]){0}, (double[]){-0.5}, (int[]){0}, 1);
  lane_on(fx, 0, (int64_t[]){0, 4 * MDL_PPQ}, (double[]){1, 2},
          (int[]){MDL_CURVE_HOLD, MDL_CURVE_HOLD}, 2);
  float *out = play(9 * BEAT);
  for (int q = 1; q <= 15; q += 2) {
    uint32_t c = (uint32_t) (8 * BEAT * q / 16);
    double g = 1.0 - 0.5 * q / 16.0, fxg = c < 4 * BEAT ? 1.0 : 2.0;
    double left = rms_at(plain, c, 0) * g * fxg, right = left * 0.5;
    cr_expect(fabs(rms_at(out, c, 0) - left) < 0.01 * left, "%d/16: left %.4f, want %.4f", q,
              rms_at(out, c, 0), left);
    cr_expect(fabs(rms_at(out, c, 1) - right) < 0.01 * right, "%d/16: right %.4f, want %.4f", q,
              rms_at(out, c, 1), right);
  }
  free(plain);
  free(out);
}

/* ---- Session slots ------------------------------------------------------------------ */

/* Builds the project's plan and plays FRAMES frames from the start in
 * blocks of 100, launching slot 0 of track T (on the next bar) at frame
 * 1000. Returns the stereo output, malloc'd. */
static float *play_launching(mdl_id t, uint32_t frames) {
  srv_plan_ctx *ctx = srv_plan_ctx_create(assets);
  eng_plan *plan;
  char why[300];
  cr_assert_eq(srv_plan_build(ctx, proj, RATE, NULL, 0, &plan, why, sizeof why), 0, "%s", why);
  eng_config cfg = eng_config_default();
  eng_engine *e;
  cr_assert_eq(eng_engine_create(&cfg, &e), 0);
  cr_assert_eq(eng_engine_set_plan(e, plan), 0);
  cr_assert_eq(eng_engine_set_playing(e, true), 0);
  float *out = calloc((size_t) frames * 2, sizeof *out);
  for (uint32_t at = 0; at < frames; at += 100) {
    if (at == 1000) cr_assert_eq(eng_engine_launch(e, t, 0, 4 * BEAT), 0);
    eng_engine_process(e, out + 2 * (size_t) at, 100);
  }
  eng_engine_destroy(e);
  srv_plan_ctx_destroy(ctx); /* after the engine: its plans borrowed the samples */
  return out;
}

/* A scene (slot 0) with an audio clip of the tone: half a second of it at
 * gain 0.5. Launched with a bar's quantum a little after the start, it
 * starts on the bar's frame exactly, sample for sample the asset, and
 * repeats every half second. */
Test(srv_plan_music, an_audio_clip_in_a_slot_plays_its_asset_from_the_quantized_frame) {
  set(MDL_ID_PROJECT, MDL_PROP_METRONOME, vbool(false));
  mdl_prop_value sc[] = {{MDL_PROP_NAME, vstr("Verse")}};
  mdl_id scene = create(MDL_TYPE_SCENE, MDL_ID_PROJECT, sc, 1);
  mdl_prop_value tp[] = {{MDL_PROP_KIND, vint(MDL_TRACK_AUDIO)}};
  mdl_id t = create(MDL_TYPE_TRACK, MDL_ID_PROJECT, tp, 1);
  mdl_prop_value cp[] = {{MDL_PROP_ASSET, vstr(tone_id)},
                         {MDL_PROP_SCENE, vint((int64_t) scene)},
                         {MDL_PROP_LENGTH, vint(MDL_PPQ)},
                         {MDL_PROP_GAIN, vreal(0.5)}};
  create(MDL_TYPE_CLIP, t, cp, 4);

  uint32_t frames = 4 * BEAT + 3 * BEAT;
  float *out = play_launching(t, frames);
  cr_expect_eq(peak(out, 0, 4 * BEAT), 0.0f, "silent until the bar");
  for (uint32_t pass = 0; pass < 3; pass++)
    for (uint32_t i = 0; i < (uint32_t) BEAT; i += 7) {
      uint32_t f = 4 * BEAT + pass * BEAT + i;
      double want = 0.5 * 0.5 * sin(2 * M_PI * 440 * i / RATE) * M_SQRT1_2;
      cr_assert(fabs(out[2 * f] - want) < 1e-5 && fabs(out[2 * f + 1] - want) < 1e-5,
                "pass %u, frame %u of the clip: %g, want %g", pass, i, (double) out[2 * f], want);
    }
  free(out);
}

/* Two scenes; the audio track's clip in the first (gain 0.5) follows with
 * NEXT after one beat to the clip in the second (gain 0.25), whose follow
 * time 0 means one pass of it (half a beat) before STOP. */
Test(srv_plan_music, follow_actions_of_the_model_switch_slots_on_the_exact_frame) {
  set(MDL_ID_PROJECT, MDL_PROP_METRONOME, vbool(false));
  mdl_prop_value sa[] = {{MDL_PROP_NAME, vstr("A")}}, sb[] = {{MDL_PROP_NAME, vstr("B")}};
  mdl_id a = create(MDL_TYPE_SCENE, MDL_ID_PROJECT, sa, 1);
  mdl_id b = create(MDL_TYPE_SCENE, MDL_ID_PROJECT, sb, 1);
  mdl_prop_value tp[] = {{MDL_PROP_KIND, vint(MDL_TRACK_AUDIO)}};
  mdl_id t = create(MDL_TYPE_TRACK, MDL_ID_PROJECT, tp, 1);
  mdl_prop_value ca[] = {
      {MDL_PROP_ASSET, vstr(tone_id)},          {MDL_PROP_SCENE, vint((int64_t) a)},
      {MDL_PROP_LENGTH, vint(2 * MDL_PPQ)},     {MDL_PROP_GAIN, vreal(0.5)},
      {MDL_PROP_FOLLOW, vint(MDL_FOLLOW_NEXT)}, {MDL_PROP_FOLLOW_AFTER, vint(MDL_PPQ)}};
  mdl_prop_value cb[] = {{MDL_PROP_ASSET, vstr(tone_id)},
                         {MDL_PROP_SCENE, vint((int64_t) b)},
                         {MDL_PROP_LENGTH, vint(MDL_PPQ / 2)},
                         {MDL_PROP_GAIN, vreal(0.25)},
                         {MDL_PROP_FOLLOW, vint(MDL_FOLLOW_STOP)}};
  create(MDL_TYPE_CLIP, t, ca, 6);
  create(MDL_TYPE_CLIP, t, cb, 5);

  uint32_t frames = 8 * BEAT;
  float *out = play_launching(t, frames);
  uint32_t s = 4 * BEAT, f = s + BEAT; /* launched on the bar; the follow a beat later */
  double k = 0.5 * M_SQRT1_2;
  cr_expect(fabs(out[2 * (f - 1)] - 0.5 * k * sin(2 * M_PI * 440 * (BEAT - 1) / RATE)) < 1e-5,
            "scene A's clip up to the follow frame");
  for (uint32_t i = 0; i < (uint32_t) BEAT / 2; i += 11)
    cr_assert(fabs(out[2 * (f + i)] - 0.25 * k * sin(2 * M_PI * 440 * i / RATE)) < 1e-5,
              "scene B's clip from frame %u: %g at %u", f, (double) out[2 * (f + i)], i);
  cr_expect_eq(peak(out, f + BEAT / 2, frames), 0.0f, "B stops after one pass");
  free(out);
}
