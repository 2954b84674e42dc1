/* test_eng_dsp.c: DSP with numbers: filter responses against their formulas,
 * envelope timings, sample-accurate notes, smoothing without zipper,
 * compressor and limiter levels, bad device descriptions, graph order. */
#include <criterion/criterion.h>
#include <math.h>
#include <string.h>

#include "eng_test_util.h"
#include "engine/eng_dsp_int.h"
#include "engine/eng_node_int.h"
#include "engine/eng_plan_int.h"

/* Amplitude of the f Hz component of x[0..n) (n * f / SR whole cycles). */
static double tone_amp(const float *x, uint32_t n, double f) {
  double re = 0, im = 0;
  for (uint32_t i = 0; i < n; i++) {
    double w = ENG_TWO_PI * f * i / SR;
    re += x[i] * cos(w);
    im -= x[i] * sin(w);
  }
  return 2.0 * sqrt(re * re + im * im) / n;
}

/* |H| in dB of the analog prototypes the RBJ cookbook maps through the
 * bilinear transform, at the digital frequency f (prewarped). */
static double analog_db(int type, double f, double f0, double q, double gain_db) {
  double W = tan(ENG_PI * f / SR) / tan(ENG_PI * f0 / SR); /* warped, normalised to f0 */
  double A = pow(10.0, gain_db / 40.0);
  double re_d = 1 - W * W, num2;
  switch (type) {
    case ENG_BQ_LOWPASS:
      num2 = 1;
      return 10 * log10(num2 / (re_d * re_d + W * W / (q * q)));
    case ENG_BQ_HIGHPASS:
      num2 = W * W * W * W;
      return 10 * log10(num2 / (re_d * re_d + W * W / (q * q)));
    default: { /* peak: (s^2 + s A/Q + 1) / (s^2 + s/(A Q) + 1) */
      double n2 = re_d * re_d + W * W * A * A / (q * q);
      double d2 = re_d * re_d + W * W / (A * A * q * q);
      return 10 * log10(n2 / d2);
    }
  }
}

Test(eng_dsp, biquads_match_the_analytic_response_within_a_tenth_of_a_db) {
  static const double freqs[] = {50, 200, 500, 1000, 2000, 5000, 10000, 16000};
  struct {
    int type;
    double f0, q, g;
  } cases[] = {{ENG_BQ_LOWPASS, 1000, 0.707, 0},
               {ENG_BQ_LOWPASS, 3000, 4.0, 0},
               {ENG_BQ_HIGHPASS, 500, 1.0, 0},
               {ENG_BQ_PEAK, 1000, 1.0, 9.0},
               {ENG_BQ_PEAK, 5000, 3.0, -12.0}};
  enum { LEN = 48000, SKIP = 9600 };
  float *x = malloc(LEN * sizeof(float));
  for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
    eng_biquad bq;
    eng_biquad_design(&bq, cases[c].type, cases[c].f0, cases[c].q, cases[c].g, SR);
    for (size_t k = 0; k < sizeof freqs / sizeof freqs[0]; k++) {
      double f = freqs[k];
      eng_bq_state st = {0};
      for (uint32_t i = 0; i < LEN; i++) /* run a unit sine through the real filter code */
        x[i] = eng_biquad_run(&bq, &st, (float) sin(ENG_TWO_PI * f * i / SR));
      double measured = 20 * log10(tone_amp(x + SKIP, LEN - SKIP, f));
      double want = analog_db(cases[c].type, f, cases[c].f0, cases[c].q, cases[c].g);
      if (want < -60) continue; /* deep in the stop band the float noise floor dominates */
      cr_expect(fabs(measured - want) < 0.1, "type %d f0 %g at %g Hz: %.3f dB, formula %.3f dB",
                cases[c].type, cases[c].f0, f, measured, want);
      cr_expect(fabs(eng_biquad_mag_db(&bq, f, SR) - want) < 0.1);
    }
  }
  free(x);
}

Test(eng_dsp, svf_lowpass_matches_the_2_pole_formula) {
  eng_svf f = {0};
  eng_svf_tune(&f, 1000.0f, 2.0f, SR);
  enum { LEN = 48000, SKIP = 9600 };
  float *x = malloc(LEN * sizeof(float));
  for (double fr = 250; fr <= 8000; fr *= 2) {
    memset(&f.ic1, 0, 2 * sizeof(float));
    for (uint32_t i = 0; i < LEN; i++)
      x[i] = eng_svf_lowpass(&f, (float) sin(ENG_TWO_PI * fr * i / SR));
    double m = 20 * log10(tone_amp(x + SKIP, LEN - SKIP, fr));
    double w = analog_db(ENG_BQ_LOWPASS, fr, 1000, 2.0, 0);
    cr_expect(fabs(m - w) < 0.1, "%g Hz: %.3f vs %.3f", fr, m, w);
  }
  free(x);
}

Test(eng_dsp, adsr_segments_take_their_frames_exactly) {
  eng_adsr a = {0};
  eng_adsr_times(&a, 480, 960, 0.5f, 2400); /* 10 ms, 20 ms, 50 ms at 48 kHz */
  eng_adsr_gate(&a, true);
  uint32_t n = 0;
  float v;
  while ((v = eng_adsr_next(&a)) < 1.0f)
    n++;
  cr_expect_eq(n + 1, 480, "attack reaches 1.0 on frame %u", n + 1);
  n = 0;
  while (eng_adsr_next(&a) > 0.5f)
    n++;
  cr_expect(abs((int) n + 1 - 960) <= 1, "decay %u frames", n + 1);
  cr_expect_float_eq(eng_adsr_next(&a), 0.5f, 1e-6, "sustain holds");
  eng_adsr_gate(&a, false);
  n = 0;
  while (eng_adsr_next(&a) > 0.0f)
    n++;
  cr_expect_eq(n + 1, 2400, "release reaches 0 on frame %u", n + 1);
  cr_expect_eq(a.stage, ENG_ADSR_IDLE);
}

/* An engine at 48 kHz playing one track with `instrument` and notes. */
static eng_engine *instrument_engine(eng_device_desc *inst, eng_note_desc *notes, uint32_t n_notes,
                                     eng_track_desc *t, eng_plan_desc *d) {
  *t = track(1, 1.0f, 0.0f);
  t->instrument = inst;
  t->notes = notes;
  t->n_notes = n_notes;
  *d = desc_with(t, 1, false);
  return engine_with(d, true);
}

static uint32_t first_nonzero(const float *buf, uint32_t frames) {
  for (uint32_t i = 0; i < frames; i++)
    if (buf[2 * i] != 0.0f) return i;
  return UINT32_MAX;
}

Test(eng_dsp, a_synth_note_scheduled_at_frame_n_starts_at_frame_n) {
  static const uint32_t starts[] = {0, 1, 127, 128, 129, 1000, 4097};
  eng_param_value pv[] = {{6, 1.0f} /* noise: non-zero on the first frame */};
  eng_device_desc syn = {.kind = ENG_NODE_SYNTH, .n_params = 1, .params = pv};
  for (size_t k = 0; k < sizeof starts / sizeof starts[0]; k++) {
    eng_note_desc note = {
        .start_frame = starts[k], .length_frames = 500, .key = 60, .velocity = 100};
    eng_track_desc t;
    eng_plan_desc d;
    eng_engine *e = instrument_engine(&syn, &note, 1, &t, &d);
    float *out = render(e, 6000, 128);
    cr_expect_eq(first_nonzero(out, 6000), starts[k], "note at %u starts at %u", starts[k],
                 first_nonzero(out, 6000));
    free(out);
    eng_engine_destroy(e);
  }
}

Test(eng_dsp, every_drum_hit_starts_on_its_frame) {
  static const uint8_t keys[] = {ENG_DRUM_KICK,    ENG_DRUM_SNARE,    ENG_DRUM_CLAP,
                                 ENG_DRUM_HAT,     ENG_DRUM_OPEN_HAT, ENG_DRUM_TOM_LOW,
                                 ENG_DRUM_TOM_MID, ENG_DRUM_TOM_HIGH};
  eng_device_desc dr = {.kind = ENG_NODE_DRUMS};
  for (size_t k = 0; k < sizeof keys / sizeof keys[0]; k++) {
    uint32_t at = 300 + 77 * (uint32_t) k;
    eng_note_desc note = {.start_frame = at, .length_frames = 10, .key = keys[k], .velocity = 127};
    eng_track_desc t;
    eng_plan_desc d;
    eng_engine *e = instrument_engine(&dr, &note, 1, &t, &d);
    float *out = render(e, 24000, 64);
    cr_expect_eq(first_nonzero(out, 24000), at, "key %u at %u", keys[k], at);
    cr_expect_gt(peak(out, 0, at, 24000), 0.05f, "key %u is audible", keys[k]);
    free(out);
    eng_engine_destroy(e);
  }
}

Test(eng_dsp, synth_with_more_notes_than_voices_steals_and_keeps_sounding) {
  eng_param_value pv[] = {{26, 2.0f} /* polyphony 2 */, {6, 0.0f}};
  eng_device_desc syn = {.kind = ENG_NODE_SYNTH, .n_params = 2, .params = pv};
  eng_note_desc notes[5];
  for (int i = 0; i < 5; i++)
    notes[i] = (eng_note_desc){.start_frame = 100 * (uint64_t) i,
                               .length_frames = 20000,
                               .key = (uint8_t) (48 + 5 * i),
                               .velocity = 127};
  eng_track_desc t;
  eng_plan_desc d;
  eng_engine *e = instrument_engine(&syn, notes, 5, &t, &d);
  float *out = render(e, 12000, 128);
  cr_expect_gt(peak(out, 0, 6000, 12000), 0.05f, "the newest notes sound");
  /* two voices at most: each is at most level (0.5) * osc level (0.8) * filter peak */
  cr_expect_lt(peak(out, 0, 0, 12000), 2.0f);
  free(out);
  eng_engine_destroy(e);
}

Test(eng_dsp, parameter_changes_ramp_with_no_step_larger_than_the_smoothing_allows) {
  eng_device_desc g = {.kind = ENG_NODE_GAIN};
  eng_solo_node *s;
  cr_assert_eq(eng__solo_create(&g, SR, 120, &s), ENG_OK);
  uint32_t ramp = eng_ms_to_frames(eng__gain_class.params[0].smooth_ms, SR); /* 960 */
  float prev = 1.0f, max_step = 0.0f, last = 0.0f;
  eng__param_set(s->node.state, 0, 3.0f); /* 1 -> 3 */
  for (int blk = 0; blk < 10; blk++) {
    for (int i = 0; i < 2 * ENG_CHUNK; i++)
      s->buf[i] = 1.0f;
    eng__solo_process(s, 128, NULL, 0, false);
    for (int i = 0; i < 128; i++) {
      max_step = fmaxf(max_step, fabsf(s->buf[i] - prev));
      prev = s->buf[i];
    }
    last = s->buf[127];
  }
  float allowed = 2.0f / (float) ramp;
  cr_expect_leq(max_step, allowed * 1.001f, "step %g > %g", max_step, allowed);
  cr_expect_gt(max_step, allowed * 0.99f, "it does ramp");
  cr_expect_eq(last, 3.0f, "lands exactly on the target");
  eng__solo_destroy(s);
}

Test(eng_dsp, set_param_reaches_a_running_engine_and_is_checked) {
  eng_device_desc fx = {.kind = ENG_NODE_GAIN};
  eng_track_desc t = track(5, 1.0f, 0.0f);
  t.effects = &fx;
  t.n_effects = 1;
  eng_plan_desc d = desc_with(&t, 1, false);
  eng_engine *e = engine_with(&d, true);
  float *a = render(e, 2400, 128);
  cr_expect_eq(eng_engine_set_param(e, 5, 1, 0, 0.0f), ENG_OK);
  cr_expect_eq(eng_engine_set_param(e, 5, 1, 0, 9.0f), ENG_ERR_PARAM, "out of range");
  cr_expect_eq(eng_engine_set_param(e, 5, 1, 7, 1.0f), ENG_ERR_PARAM, "unknown id");
  cr_expect_eq(eng_engine_set_param(e, 6, 1, 0, 1.0f), ENG_ERR_INVALID, "unknown track");
  cr_expect_eq(eng_engine_set_param(e, 5, 0, 0, 1.0f), ENG_ERR_INVALID, "tone has no params");
  free(render(e, 2400, 128)); /* the 20 ms ramp to 0 */
  float *b = render(e, 24000, 128);
  cr_expect_gt(peak(a, 0, 0, 2400), 0.1f);
  cr_expect_eq(peak(b, 0, 0, 24000), 0.0f, "gain 0 reached");
  free(a), free(b);
  eng_engine_destroy(e);
}

Test(eng_dsp, compressor_steady_state_matches_threshold_and_ratio) {
  static const float ratios[] = {2, 4, 10};
  static const float levels[] = {0.5f, 0.25f, 0.9f};
  for (int i = 0; i < 3; i++) {
    eng_param_value pv[] = {{0, -20.0f}, {1, ratios[i]}, {2, 1.0f}, {3, 50.0f}};
    eng_device_desc c = {.kind = ENG_NODE_COMPRESSOR, .n_params = 4, .params = pv};
    eng_solo_node *s;
    cr_assert_eq(eng__solo_create(&c, SR, 120, &s), ENG_OK);
    for (int blk = 0; blk < 200; blk++) {
      for (int k = 0; k < 2 * ENG_CHUNK; k++)
        s->buf[k] = levels[i];
      eng__solo_process(s, ENG_CHUNK, NULL, 0, false);
    }
    float in_db = eng_lin_to_db(levels[i]);
    float want = -20.0f + (in_db + 20.0f) / ratios[i];
    float got = eng_lin_to_db(s->buf[ENG_CHUNK - 1]);
    cr_expect(fabsf(got - want) < 0.1f, "ratio %g, in %.2f dB: out %.3f dB, want %.3f dB",
              ratios[i], in_db, got, want);
    eng__solo_destroy(s);
  }
}

Test(eng_dsp, compressor_sidechain_ducks_by_the_key_not_the_input) {
  eng_param_value pv[] = {{0, -30.0f}, {1, 10.0f}, {2, 0.1f}};
  eng_device_desc c = {.kind = ENG_NODE_COMPRESSOR, .n_params = 3, .params = pv};
  eng_solo_node *s;
  cr_assert_eq(eng__solo_create(&c, SR, 120, &s), ENG_OK);
  for (int blk = 0; blk < 100; blk++) {
    for (int k = 0; k < 2 * ENG_CHUNK; k++)
      s->buf[k] = 0.01f, s->side[k] = 1.0f; /* quiet input (-40 dB), loud key (0 dB) */
    eng__solo_process(s, ENG_CHUNK, NULL, 0, true);
  }
  float gr = eng_lin_to_db(0.01f) - eng_lin_to_db(s->buf[10]);
  cr_expect(fabsf(gr - 27.0f) < 0.1f, "key 30 dB over at 10:1 -> 27 dB reduction, got %g", gr);
  eng__solo_destroy(s);
}

Test(eng_dsp, limiter_never_exceeds_its_ceiling) {
  eng_param_value pv[] = {{0, -1.0f}, {1, 30.0f}, {2, 12.0f}};
  eng_device_desc l = {.kind = ENG_NODE_LIMITER, .n_params = 3, .params = pv};
  eng_solo_node *s;
  cr_assert_eq(eng__solo_create(&l, SR, 120, &s), ENG_OK);
  float ceiling = eng_db_to_lin(-1.0f), top = 0.0f;
  uint32_t rng = 12345;
  float loud_in = 0.0f;
  for (int blk = 0; blk < 2000; blk++) {
    for (int k = 0; k < ENG_CHUNK; k++) {
      uint32_t t = (uint32_t) (blk * ENG_CHUNK + k);
      float burst = (t / 3000) % 3 == 0 ? 4.0f : 0.3f; /* loud bursts, quiet gaps */
      float x = burst * (0.7f * sinf(0.05f * (float) t) + 0.3f * eng_noise(&rng));
      if (t % 9973 == 0) x = 8.0f; /* single-sample spikes */
      s->buf[k] = x;
      s->buf[ENG_CHUNK + k] = -0.8f * x;
      loud_in = fmaxf(loud_in, fabsf(x));
    }
    eng__solo_process(s, ENG_CHUNK, NULL, 0, false);
    for (int k = 0; k < 2 * ENG_CHUNK; k++)
      top = fmaxf(top, fabsf(s->buf[k]));
  }
  cr_expect_leq(top, ceiling, "peak %g above ceiling %g", top, ceiling);
  cr_expect_gt(top, 0.9f * ceiling, "it does reach the ceiling");
  cr_expect_gt(loud_in * eng_db_to_lin(12.0f), 10.0f * ceiling);
  eng__solo_destroy(s);
}

static int compile(const eng_plan_desc *d, char *why, size_t len) {
  eng_plan *p = (eng_plan *) 1;
  int rc = eng_plan_compile(d, &p, why, len);
  if (rc != ENG_OK) cr_expect_null(p);
  eng_plan_destroy(p);
  return rc;
}

Test(eng_dsp, bad_devices_are_refused_at_plan_creation_with_a_message) {
  char why[256];
  eng_track_desc t[2] = {track(1, 1.0f, 0.0f), track(2, 1.0f, 0.0f)};
  eng_plan_desc d = desc_with(t, 2, false);
  eng_device_desc bad = {.kind = 999};
  t[0].instrument = &bad;
  cr_expect_eq(compile(&d, why, sizeof why), ENG_ERR_UNKNOWN_NODE);
  cr_expect(strstr(why, "unknown node kind 999") != NULL, "%s", why);
  t[0].instrument = NULL;
  t[0].effects = &bad;
  t[0].n_effects = 1;
  cr_expect_eq(compile(&d, why, sizeof why), ENG_ERR_UNKNOWN_NODE);
  eng_param_value pv = {1, 50.0f};
  eng_device_desc comp = {.kind = ENG_NODE_COMPRESSOR, .n_params = 1, .params = &pv};
  t[0].effects = &comp;
  cr_expect_eq(compile(&d, why, sizeof why), ENG_ERR_PARAM);
  cr_expect(strstr(why, "ratio") && strstr(why, "50"), "%s", why);
  pv = (eng_param_value){1, NAN};
  cr_expect_eq(compile(&d, why, sizeof why), ENG_ERR_PARAM);
  pv = (eng_param_value){77, 1.0f};
  cr_expect_eq(compile(&d, why, sizeof why), ENG_ERR_PARAM);
  cr_expect(strstr(why, "unknown parameter id 77") != NULL, "%s", why);
  pv = (eng_param_value){1, 8.0f};
  cr_expect_eq(compile(&d, why, sizeof why), ENG_OK);
  cr_expect_str_eq(why, "");
  eng_device_desc syn = {.kind = ENG_NODE_SYNTH};
  t[0].effects = &syn; /* an instrument as an effect */
  cr_expect_eq(compile(&d, why, sizeof why), ENG_ERR_INVALID);
  eng_device_desc eq = {.kind = ENG_NODE_EQ};
  t[0].effects = NULL, t[0].n_effects = 0, t[0].instrument = &eq; /* an effect as instrument */
  cr_expect_eq(compile(&d, why, sizeof why), ENG_ERR_INVALID);
  t[0].instrument = NULL;
  eng_note_desc note = {.start_frame = 0, .length_frames = 0, .key = 60, .velocity = 100};
  t[0].instrument = &syn, t[0].notes = &note, t[0].n_notes = 1;
  cr_expect_eq(compile(&d, why, sizeof why), ENG_ERR_INVALID, "zero-length note");
  note.length_frames = 10, note.key = 128;
  cr_expect_eq(compile(&d, why, sizeof why), ENG_ERR_INVALID, "key 128");
  t[0].instrument = NULL;
  note.key = 60;
  cr_expect_eq(compile(&d, why, sizeof why), ENG_ERR_INVALID, "notes without instrument");
  t[0].notes = NULL, t[0].n_notes = 0;
  /* sidechains: unknown track, self, kind without one, cycle */
  eng_device_desc sc = {.kind = ENG_NODE_COMPRESSOR, .sidechain_track_id = 9};
  t[0].effects = &sc, t[0].n_effects = 1;
  cr_expect_eq(compile(&d, why, sizeof why), ENG_ERR_GRAPH);
  cr_expect(strstr(why, "not in the plan") != NULL, "%s", why);
  sc.sidechain_track_id = 1;
  cr_expect_eq(compile(&d, why, sizeof why), ENG_ERR_GRAPH);
  eng_device_desc eq_sc = {.kind = ENG_NODE_EQ, .sidechain_track_id = 2};
  t[0].effects = &eq_sc;
  cr_expect_eq(compile(&d, why, sizeof why), ENG_ERR_GRAPH);
  eng_device_desc sc1 = {.kind = ENG_NODE_COMPRESSOR, .sidechain_track_id = 2};
  eng_device_desc sc2 = {.kind = ENG_NODE_GATE, .sidechain_track_id = 1};
  t[0].effects = &sc1, t[1].effects = &sc2, t[1].n_effects = 1;
  cr_expect_eq(compile(&d, why, sizeof why), ENG_ERR_GRAPH);
  cr_expect(strstr(why, "cycle") != NULL, "%s", why);
  cr_expect_str_eq(eng_strerror(ENG_ERR_UNKNOWN_NODE), "unknown node kind");
}

Test(eng_dsp, sidechain_puts_the_key_track_first_and_live_tracks_are_not_deterministic) {
  eng_device_desc comp = {.kind = ENG_NODE_COMPRESSOR, .sidechain_track_id = 2};
  eng_device_desc syn = {.kind = ENG_NODE_SYNTH};
  eng_track_desc t[2] = {track(1, 1.0f, 0.0f), track(2, 1.0f, 0.0f)};
  t[0].effects = &comp, t[0].n_effects = 1;
  t[1].instrument = &syn, t[1].live = true;
  eng_plan_desc d = desc_with(t, 2, true);
  eng_plan *p = NULL;
  cr_assert_eq(eng_plan_create(&d, &p), ENG_OK);
  static const char *want[] = {"tone", "synth", "fader", "compressor", "fader", "click", "master"};
  eng_plan_info info;
  eng_plan_get_info(p, &info);
  cr_assert_eq(info.n_nodes, 7);
  for (uint32_t i = 0; i < 7; i++)
    cr_expect_str_eq(eng_plan_node_name(p, i), want[i], "node %u", i);
  cr_expect_null(eng_plan_node_name(p, 7));
  for (uint32_t i = 0; i < p->n_nodes; i++) /* every dependency runs earlier */
    for (uint32_t k = 0; k < p->nodes[i].n_deps; k++)
      cr_expect_lt(p->nodes[i].deps[k], i);
  cr_expect(p->nodes[0].deterministic, "tone");
  cr_expect(!p->nodes[1].deterministic, "live synth");
  cr_expect(!p->nodes[3].deterministic, "keyed by a live track");
  cr_expect(!p->nodes[6].deterministic, "master");
  cr_expect_eq(info.n_deterministic, 2, "tone and click");
  eng_plan_destroy(p);
}

Test(eng_dsp, live_notes_play_while_stopped_and_stop_releases_plan_notes) {
  eng_param_value pv[] = {{18, 5.0f} /* amp release 5 ms */};
  eng_device_desc syn = {.kind = ENG_NODE_SYNTH, .n_params = 1, .params = pv};
  eng_track_desc t = track(3, 1.0f, 0.0f);
  t.instrument = &syn;
  t.live = true;
  eng_plan_desc d = desc_with(&t, 1, false);
  eng_engine *e = engine_with(&d, false);
  cr_expect_eq(eng_engine_note(e, 3, 60, 100), ENG_OK);
  cr_expect_eq(eng_engine_note(e, 4, 60, 100), ENG_ERR_INVALID);
  float *a = render(e, 4800, 128);
  cr_expect_gt(peak(a, 0, 0, 4800), 0.05f, "live note sounds while stopped");
  cr_expect_eq(eng_engine_note(e, 3, 60, 0), ENG_OK);
  free(render(e, 4800, 128));
  float *b = render(e, 4800, 128);
  cr_expect_eq(peak(b, 0, 0, 4800), 0.0f, "released");
  free(a), free(b);
  eng_engine_destroy(e);
}

/* The synth's plain voices (one saw, no osc 2, noise or unison) run eight at
 * a time across voices (eng_synth.c, saw_lanes). Checked here against a
 * one-voice-at-a-time model built from the eng_dsp_int.h primitives, with
 * notes starting and ending mid-block, envelopes ramping, holding and ending,
 * and, with a filter envelope, the cutoff moving every control block. */
typedef struct ref_voice {
  uint32_t on, off;
  uint8_t key, vel;
  float ph;
  eng_adsr amp, fenv;
  eng_svf f;
} ref_voice;

enum { REF_VOICES = 48, REF_FRAMES = 12000, REF_CHUNK = 100 };

static void ref_notes(ref_voice *v, eng_event *on, eng_event *off) {
  for (uint32_t i = 0; i < REF_VOICES; i++) {
    memset(&v[i], 0, sizeof v[i]);
    v[i].on = 37 * i + (i % 5) * 11;
    v[i].off = v[i].on + 3000 + 53 * i;
    v[i].key = (uint8_t) (30 + i);
    v[i].vel = (uint8_t) (40 + 2 * i);
    on[i] = (eng_event){.kind = ENG_EV_NOTE_ON, .key = v[i].key, .velocity = v[i].vel};
    off[i] = (eng_event){.kind = ENG_EV_NOTE_OFF, .key = v[i].key};
  }
}

/* Model of eng_synth.c for these parameters: osc 1 saw at level g1, filter
 * envelope of `famt` octaves, no key tracking, no LFO, level 0.5. Fills
 * out[REF_FRAMES] (left = right). */
static void ref_render(float famt, float *out) {
  ref_voice v[REF_VOICES];
  eng_event on[REF_VOICES], off[REF_VOICES];
  ref_notes(v, on, off);
  const float sr = SR, g1 = 0.8f, res = 0.2f, q = 0.5f + res * res * 19.5f;
  for (uint32_t c0 = 0; c0 < REF_FRAMES; c0 += REF_CHUNK) {
    for (uint32_t a = 0; a < REF_CHUNK;) {
      uint32_t f = c0 + a, b = a + ENG_CONTROL_FRAMES - a % ENG_CONTROL_FRAMES;
      for (uint32_t i = 0; i < REF_VOICES; i++) {
        if (v[i].on == f || v[i].off == f) {
          bool gate = v[i].on == f;
          eng_adsr_times(&v[i].amp, eng_ms_to_frames(5, SR), eng_ms_to_frames(20, SR), 0.7f,
                         eng_ms_to_frames(30, SR));
          eng_adsr_times(&v[i].fenv, eng_ms_to_frames(5, SR), eng_ms_to_frames(50, SR), 0.3f,
                         eng_ms_to_frames(30, SR));
          eng_adsr_gate(&v[i].amp, gate), eng_adsr_gate(&v[i].fenv, gate);
        }
        /* the next event ends the control block */
        if (v[i].on > f && v[i].on - c0 < b) b = v[i].on - c0;
        if (v[i].off > f && v[i].off - c0 < b) b = v[i].off - c0;
      }
      if (b > REF_CHUNK) b = REF_CHUNK;
      for (uint32_t n = a; n < b; n++)
        out[c0 + n] = 0.0f;
      for (uint32_t i = 0; i < REF_VOICES; i++) {
        if (f < v[i].on) continue;
        float dt = 440.0f * exp2f(((float) v[i].key - 69.0f) / 12.0f) / sr;
        dt = dt < 0.45f ? dt : 0.45f;
        eng_svf_tune(&v[i].f, 2000.0f * exp2f(famt * v[i].fenv.level), q, sr);
        for (uint32_t n = a; n < b; n++) {
          float x = eng_osc(ENG_WAVE_SAW, v[i].ph, dt) * g1;
          out[c0 + n] +=
              eng_svf_lowpass(&v[i].f, x) * eng_adsr_next(&v[i].amp) * ((float) v[i].vel / 127.0f);
          eng_adsr_next(&v[i].fenv);
          v[i].ph += dt;
          if (v[i].ph >= 1.0f) v[i].ph -= 1.0f;
        }
      }
      for (uint32_t n = a; n < b; n++)
        out[c0 + n] *= 0.5f;
      a = b;
    }
  }
}

/* The synth itself, as a stand-alone node, in chunks of REF_CHUNK frames. */
static void synth_render(float famt, float *l, float *r) {
  eng_param_value pv[] = {{0, 0},   {5, 0},     {6, 0},     {9, famt}, {10, 0},
                          {11, 5},  {12, 50},   {13, 0.3f}, {14, 30},  {15, 5},
                          {16, 20}, {17, 0.7f}, {18, 30},   {26, 64},  {27, 0.5f}};
  eng_device_desc syn = {.kind = ENG_NODE_SYNTH, .n_params = 15, .params = pv};
  eng_solo_node *s;
  cr_assert_eq(eng__solo_create(&syn, SR, 120, &s), ENG_OK);
  ref_voice v[REF_VOICES];
  eng_event on[REF_VOICES], off[REF_VOICES];
  ref_notes(v, on, off);
  for (uint32_t c0 = 0; c0 < REF_FRAMES; c0 += REF_CHUNK) {
    eng_event ev[2 * REF_VOICES];
    uint32_t n_ev = 0;
    for (uint32_t o = 0; o < REF_CHUNK; o++) /* offsets ascending */
      for (uint32_t i = 0; i < REF_VOICES; i++) {
        if (v[i].on == c0 + o) ev[n_ev] = on[i], ev[n_ev++].offset = o;
        if (v[i].off == c0 + o) ev[n_ev] = off[i], ev[n_ev++].offset = o;
      }
    eng__solo_process(s, REF_CHUNK, ev, n_ev, false);
    memcpy(l + c0, s->buf, REF_CHUNK * sizeof(float));
    memcpy(r + c0, s->buf + ENG_CHUNK, REF_CHUNK * sizeof(float));
  }
  eng__solo_destroy(s);
}

Test(eng_dsp, synth_saw_voices_match_a_one_voice_at_a_time_model) {
  static const float famts[] = {0.0f, 2.0f};
  float *want = malloc(REF_FRAMES * sizeof(float)), *l = malloc(REF_FRAMES * sizeof(float)),
        *r = malloc(REF_FRAMES * sizeof(float));
  for (size_t k = 0; k < 2; k++) {
    ref_render(famts[k], want);
    synth_render(famts[k], l, r);
    float worst = 0.0f, top = 0.0f;
    uint32_t at = 0;
    for (uint32_t i = 0; i < REF_FRAMES; i++) {
      float d = fabsf(l[i] - want[i]);
      if (d > worst) worst = d, at = i;
      top = fmaxf(top, fabsf(want[i]));
      cr_assert_eq(l[i], r[i], "mono: left = right at %u", i);
    }
    /* Rounding only: PolyBLEP's t / dt is t * (1 / dt) there, and the voices
     * are summed in another order. */
    cr_expect_lt(worst, 2e-6f * top, "filter env %g oct: off by %g at frame %u (peak %g)", famts[k],
                 worst, at, top);
    cr_expect_gt(top, 0.5f, "the test plays something");
    cr_expect_eq(want[REF_FRAMES - 1], 0.0f, "and everything has ended");
  }
  free(want), free(l), free(r);
}

Test(eng_dsp, synth_sse2_and_avx2_kernels_render_the_same_bits) {
  float *l1 = malloc(REF_FRAMES * sizeof(float)), *r1 = malloc(REF_FRAMES * sizeof(float));
  float *l2 = malloc(REF_FRAMES * sizeof(float)), *r2 = malloc(REF_FRAMES * sizeof(float));
  synth_render(2.0f, l1, r1);
  eng__synth_baseline_only = true;
  synth_render(2.0f, l2, r2);
  eng__synth_baseline_only = false;
  cr_expect_eq(memcmp(l1, l2, REF_FRAMES * sizeof(float)), 0);
  free(l1), free(r1), free(l2), free(r2);
}
