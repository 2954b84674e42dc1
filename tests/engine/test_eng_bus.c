/* test_eng_bus.c: buses, sends (pre/post fader), routing, solo-safe buses,
 * cycles. Signals are read per track through the stem tap
 * (eng_engine_int.h): each track's post-fader output, sample by sample. */
#include <criterion/criterion.h>
#include <string.h>

#include "eng_test_util.h"
#include "engine/eng_engine_int.h"

#define FRAMES 4800 /* 100 ms */
#define MAXT   4

/* A steady sine synth (sustain 1), one long note. */
static const eng_param_value sine_params[] = {{0, 3},  {7, 20000}, {8, 0},  {9, 0},
                                              {10, 0}, {15, 0.1f}, {17, 1}, {27, 1}};
static const eng_device_desc sine_synth = {
    .kind = ENG_NODE_SYNTH, .n_params = 8, .params = sine_params};
static const eng_note_desc held[] = {
    {.start_frame = 0, .length_frames = 10 * SR, .key = 69, .velocity = 127}};

static eng_track_desc sine_track(uint64_t id, float gain, float pan) {
  eng_track_desc t = track(id, gain, pan);
  t.instrument = &sine_synth;
  t.notes = held, t.n_notes = 1;
  return t;
}

static eng_track_desc bus_track(uint64_t id) {
  eng_track_desc t = track(id, 1.0f, 0.0f);
  t.bus = true;
  return t;
}

typedef struct run_out {
  float master[2 * FRAMES];
  float stems[MAXT][2 * FRAMES];
} run_out;

/* Renders FRAMES frames of plan d, in one block, with the tap on. */
static run_out *run(const eng_track_desc *t, uint32_t n) {
  eng_plan_desc d = desc_with(t, n, false);
  eng_engine *e = engine_with(&d, true);
  run_out *o = calloc(1, sizeof *o);
  eng__engine_set_tap(e, &o->stems[0][0], MAXT, FRAMES);
  eng_engine_process(e, o->master, FRAMES);
  eng_engine_destroy(e);
  return o;
}

static float stem_peak(const run_out *o, uint32_t t) {
  return fmaxf(peak(o->stems[t], 0, 0, FRAMES), peak(o->stems[t], 1, 0, FRAMES));
}

Test(eng_bus, a_post_fader_send_at_minus_6_db_delivers_half_amplitude) {
  eng_send_desc send = {.bus_track_id = 2, .level = powf(10.0f, -6.0206f / 20.0f)};
  eng_track_desc t[2] = {sine_track(1, 0.8f, 0.3f), bus_track(2)};
  t[0].sends = &send, t[0].n_sends = 1;
  run_out *o = run(t, 2);
  cr_assert_gt(stem_peak(o, 0), 0.3f);
  for (uint32_t i = 0; i < 2 * FRAMES; i++)
    cr_assert(fabsf(o->stems[1][i] - 0.5f * o->stems[0][i]) <=
                  1e-4f * fabsf(o->stems[0][i]) + 1e-9f,
              "%u: bus %g, track %g", i, o->stems[1][i], o->stems[0][i]);
  /* Both reach master: track + bus = 1.5 x track. */
  for (uint32_t i = 0; i < 2 * FRAMES; i++)
    cr_assert(fabsf(o->master[i] - (o->stems[0][i] + o->stems[1][i])) < 1e-6f);
  free(o);
}

Test(eng_bus, a_pre_fader_send_ignores_the_fader_but_obeys_mute) {
  eng_send_desc send = {.bus_track_id = 2, .level = 1.0f, .pre_fader = true};
  eng_track_desc t[2] = {sine_track(1, 1.0f, 0.0f), bus_track(2)};
  t[0].sends = &send, t[0].n_sends = 1;
  run_out *loud = run(t, 2);
  t[0].gain = 0.1f, t[0].pan = -0.7f;
  run_out *quiet = run(t, 2);
  cr_expect_gt(stem_peak(loud, 0), 5.0f * stem_peak(quiet, 0), "the fader did its work");
  cr_expect_gt(stem_peak(loud, 1), 0.5f);
  cr_expect(memcmp(loud->stems[1], quiet->stems[1], sizeof loud->stems[1]) == 0,
            "the bus heard the fader");
  /* The bus gets the source itself: the track's centre-panned output / cos(pi/4). */
  cr_expect(fabsf(stem_peak(loud, 1) - stem_peak(loud, 0) / 0.70710678f) < 1e-4f, "%g vs %g",
            stem_peak(loud, 1), stem_peak(loud, 0));
  t[0].mute = true;
  run_out *muted = run(t, 2);
  cr_expect_eq(stem_peak(muted, 1), 0.0f, "a muted track sends nothing, pre-fader either");
  free(loud), free(quiet), free(muted);
}

Test(eng_bus, routing_a_track_to_a_bus_takes_it_off_master) {
  eng_track_desc t[3] = {sine_track(1, 0.7f, 0.0f), bus_track(2), sine_track(3, 0.2f, 0.5f)};
  t[0].output_track_id = 2;
  run_out *o = run(t, 3);
  /* Master = bus + track 3, and the bus = track 1 (balance at centre is unity). */
  for (uint32_t i = 0; i < 2 * FRAMES; i++) {
    cr_assert_eq(o->stems[1][i], o->stems[0][i]);
    cr_assert(fabsf(o->master[i] - (o->stems[1][i] + o->stems[2][i])) < 1e-6f);
  }
  t[1].mute = true; /* mute the bus: track 1 is gone from master */
  run_out *m = run(t, 3);
  cr_expect_gt(stem_peak(m, 0), 0.3f, "track 1 still plays, into the bus");
  for (uint32_t i = 0; i < 2 * FRAMES; i++)
    cr_assert(fabsf(m->master[i] - m->stems[2][i]) < 1e-6f);
  free(o), free(m);
}

Test(eng_bus, soloing_a_track_keeps_its_buses_audible) {
  /* 1 -> send to return 3 (post), 1 -> output bus 4; 2 plain; 4 -> master. */
  eng_send_desc send = {.bus_track_id = 3, .level = 0.5f};
  eng_track_desc t[4] = {sine_track(1, 0.5f, 0.0f), sine_track(2, 0.5f, 0.0f), bus_track(3),
                         bus_track(4)};
  t[0].sends = &send, t[0].n_sends = 1;
  t[0].output_track_id = 4;
  t[0].solo = true;
  run_out *o = run(t, 4);
  cr_expect_gt(stem_peak(o, 0), 0.1f);
  cr_expect_eq(stem_peak(o, 1), 0.0f, "track 2 is not soloed");
  cr_expect_gt(stem_peak(o, 2), 0.1f, "the return stays audible");
  cr_expect_gt(stem_peak(o, 3), 0.1f, "the output bus stays audible");
  /* Solo track 2 instead: the buses fed only by track 1 fall silent. */
  t[0].solo = false, t[1].solo = true;
  run_out *p = run(t, 4);
  cr_expect_eq(stem_peak(p, 0), 0.0f);
  cr_expect_gt(stem_peak(p, 1), 0.1f);
  cr_expect_eq(stem_peak(p, 2), 0.0f);
  cr_expect_eq(stem_peak(p, 3), 0.0f);
  /* Solo bus 4: what is routed into it (track 1) sounds; its send feeds a
   * return that is neither soloed nor fed by a soloed track... but track 1
   * now sounds, so the return it feeds does too (solo-safe). Track 2 does not. */
  t[1].solo = false, t[3].solo = true;
  run_out *q = run(t, 4);
  cr_expect_gt(stem_peak(q, 0), 0.1f);
  cr_expect_eq(stem_peak(q, 1), 0.0f);
  cr_expect_gt(stem_peak(q, 3), 0.1f);
  free(o), free(p), free(q);
}

Test(eng_bus, cycles_and_bad_targets_are_refused_with_a_message) {
  eng_send_desc to_y = {.bus_track_id = 11, .level = 1.0f};
  eng_track_desc t[3] = {sine_track(1, 1.0f, 0.0f), bus_track(10), bus_track(11)};
  t[0].output_track_id = 10;
  t[1].sends = &to_y, t[1].n_sends = 1; /* 1 -> 10 -> 11 -> master */
  eng_plan_desc d = desc_with(t, 3, false);
  eng_plan *p = NULL;
  char why[256];
  cr_assert_eq(eng_plan_compile(&d, &p, why, sizeof why), ENG_OK, "%s", why); /* no cycle yet */
  eng_plan_destroy(p);
  eng_send_desc back = {.bus_track_id = 10, .level = 1.0f};
  t[2].sends = &back, t[2].n_sends = 1; /* 10 -> 11 -> 10 */
  cr_expect_eq(eng_plan_compile(&d, &p, why, sizeof why), ENG_ERR_GRAPH);
  cr_expect_null(p);
  cr_expect_str_eq(why, "routing, sends and sidechains form a cycle: bus 10 -> bus 11 -> bus 10");
  t[2].n_sends = 0;
  t[0].output_track_id = 1; /* to itself */
  cr_expect_eq(eng_plan_compile(&d, &p, why, sizeof why), ENG_ERR_GRAPH);
  cr_expect(strstr(why, "the track itself") != NULL, "%s", why);
  t[0].output_track_id = 0;
  eng_send_desc to_track = {.bus_track_id = 1, .level = 1.0f};
  t[2].sends = &to_track, t[2].n_sends = 1;
  cr_expect_eq(eng_plan_compile(&d, &p, why, sizeof why), ENG_ERR_GRAPH);
  cr_expect(strstr(why, "not a bus") != NULL, "%s", why);
  t[2].n_sends = 0;
  t[1].instrument = &sine_synth;
  cr_expect_eq(eng_plan_compile(&d, &p, why, sizeof why), ENG_ERR_INVALID);
  cr_expect(strstr(why, "is a bus") != NULL, "%s", why);
  t[1].instrument = NULL;
  to_y.level = 5.0f;
  cr_expect_eq(eng_plan_compile(&d, &p, why, sizeof why), ENG_ERR_INVALID);
  /* A sidechain closes a cycle too: bus 10 keys a compressor on track 1,
   * which is routed into bus 10. */
  to_y.level = 1.0f;
  t[0].output_track_id = 10;
  eng_device_desc keyed = {.kind = ENG_NODE_COMPRESSOR, .sidechain_track_id = 10};
  t[0].effects = &keyed, t[0].n_effects = 1;
  cr_expect_eq(eng_plan_compile(&d, &p, why, sizeof why), ENG_ERR_GRAPH);
  cr_expect(strstr(why, "cycle: track 1 -> bus 10 -> track 1") != NULL, "%s", why);
}
