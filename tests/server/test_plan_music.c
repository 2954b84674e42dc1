/* The musical side of srv_plan, from a model built with ops: the metronome
 * on the tempo map (ramps, meter changes), checked on the engine's output
 * at the frames mdl_time gives. */
#include "engine/eng_engine.h"
#include "server/srv_control.h"
#include "server/srv_plan.h"
#include "shared/mdl_device.h"
#include "shared/mdl_err.h"
#include "shared/mdl_op.h"
#include "shared/mdl_time.h"

#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define RATE         48000
#define CLICK_FRAMES 1440 /* the click lasts 30 ms */

static mdl_project *proj;
static uint32_t next_id = 100;

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

static void setup(void) {
  proj = mdl_project_create(&srv__alloc, "Music");
  cr_assert_not_null(proj);
}

static void teardown(void) {
  mdl_project_destroy(proj);
}

TestSuite(srv_plan_music, .init = setup, .fini = teardown);

/* Compiles the project, plays it from frame 0 for `frames` frames in blocks
 * of 100 (beats fall mid-block); returns the interleaved output (free it). */
static float *play(uint32_t frames) {
  srv_plan_ctx *ctx = srv_plan_ctx_create(NULL);
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
