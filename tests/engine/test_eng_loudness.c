/* test_eng_loudness.c: loudness and true peak against the BS.1770 formula,
 * and the render outputs (stems, FLAC, report).
 *
 * Expected values, from ITU-R BS.1770-4: L = -0.691 + 10 log10(sum_ch G_ch z_ch)
 * with z_ch the mean square of the K-weighted channel and G = 1 for L and R.
 * A sine of peak A has mean square A^2/2; the K-weighting's gain at 1 kHz is
 * +0.698 dB (computed below from the standard's 48 kHz coefficients), which
 * the -0.691 cancels to 0.007 dB. So a
 * 1 kHz sine of peak A on both channels gives 10 log10(2 * A^2/2) = 20 log10 A
 * (+0.007): at -3.01 dBFS peak (A = 1/sqrt 2) that is -3.003 LUFS; a full-scale sine in
 * one channel also gives -3.01 LUFS (the standard's calibration example). */
#include <criterion/criterion.h>
#include <complex.h>
#include <sndfile.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "eng_test_util.h"
#include "engine/eng_loudness.h"
#include "engine/eng_render.h"

#define PI_D 3.14159265358979323846

/* |K(f)|^2 in dB at 48 kHz: the two biquads of BS.1770-4 Table 1 and 2. */
static double k_weight_db(double f) {
  double complex z = cexp(-I * 2.0 * PI_D * f / 48000.0); /* z^-1 */
  double complex h1 = (1.53512485958697 - 2.69169618940638 * z + 1.19839281085285 * z * z) /
                      (1.0 - 1.69065929318241 * z + 0.73248077421585 * z * z);
  double complex h2 =
      (1.0 - 2.0 * z + z * z) / (1.0 - 1.99004745483398 * z + 0.99007225036621 * z * z);
  return 20.0 * log10(cabs(h1 * h2));
}

static float *sine(uint32_t frames, double hz, double amp_l, double amp_r, double phase) {
  float *b = malloc((size_t) frames * 2 * sizeof(float));
  cr_assert_not_null(b);
  for (uint32_t i = 0; i < frames; i++) {
    double s = sin(2.0 * PI_D * hz * i / SR + phase);
    b[2 * i] = (float) (amp_l * s);
    b[2 * i + 1] = (float) (amp_r * s);
  }
  return b;
}

static eng_loudness_result measure(const float *b, uint32_t frames) {
  eng_loudness *l = NULL;
  cr_assert_eq(eng_loudness_create(SR, &l), ENG_OK);
  cr_assert_eq(eng_loudness_add(l, b, frames), ENG_OK);
  eng_loudness_result r;
  cr_assert_eq(eng_loudness_get(l, &r), ENG_OK);
  eng_loudness_destroy(l);
  return r;
}

Test(eng_loudness, k_weighting_at_1khz_is_about_the_0691_db_the_formula_removes) {
  cr_expect(fabs(k_weight_db(1000.0) - 0.6976) < 0.001, "K(1 kHz) = %.4f dB", k_weight_db(1000.0));
}

Test(eng_loudness, stereo_1khz_sine_at_minus_3_01_dbfs_peak_reads_minus_3_01_lufs) {
  float *b = sine(5 * SR, 1000.0, M_SQRT1_2, M_SQRT1_2, 0.0);
  eng_loudness_result r = measure(b, 5 * SR);
  double expected = -0.691 + 10.0 * log10(2 * 0.5 * 0.5) + k_weight_db(1000.0); /* -3.003 */
  cr_expect(fabs(expected - -3.0037) < 0.001, "formula %.4f", expected);
  cr_expect(fabs(r.integrated_lufs - expected) < 0.1, "%.3f LUFS, expected %.3f", r.integrated_lufs,
            expected);
  cr_expect(fabs(r.sample_peak_dbfs - -3.0103) < 0.01, "%.3f dBFS", r.sample_peak_dbfs);
  free(b);
  /* Full scale in the left channel only: the standard's own -3.01 LKFS. */
  b = sine(5 * SR, 1000.0, 1.0, 0.0, 0.0);
  r = measure(b, 5 * SR);
  cr_expect(fabs(r.integrated_lufs - -3.01) < 0.1, "%.3f LUFS", r.integrated_lufs);
  free(b);
}

Test(eng_loudness, true_peak_of_an_intersample_peak_exceeds_the_sample_peak) {
  /* fs/4 at 45 degrees: every sample is +-A/sqrt 2, the waveform peaks at A
   * between samples, 3.01 dB above the sample peak. */
  float *b = sine(SR, 12000.0, 0.5, 0.5, PI_D / 4.0);
  eng_loudness_result r = measure(b, SR);
  cr_expect(fabs(r.sample_peak_dbfs - -9.03) < 0.01, "sample peak %.3f", r.sample_peak_dbfs);
  cr_expect_gt(r.true_peak_dbtp, r.sample_peak_dbfs + 2.5, "true peak %.3f, sample peak %.3f",
               r.true_peak_dbtp, r.sample_peak_dbfs);
  cr_expect(fabs(r.true_peak_dbtp - -6.02) < 0.5, "true peak %.3f dBTP", r.true_peak_dbtp);
  free(b);
}

Test(eng_loudness, silence_reads_minus_infinity) {
  float z[2 * 4800] = {0};
  eng_loudness_result r = measure(z, 4800);
  cr_expect(isinf(r.integrated_lufs) && r.integrated_lufs < 0);
  cr_expect(isinf(r.true_peak_dbtp) && r.true_peak_dbtp < 0);
  cr_expect_eq(eng_loudness_create(100, NULL), ENG_ERR_INVALID);
}

/* ---- render outputs -------------------------------------------------------- */

/* A 1 kHz sine from the synth: key 83 (987.77 Hz) with osc 2 detuned
 * +21.3079 cents, sustain 1, filter wide open. Centre pan: each side is
 * -3.01 dB of the synth's unit peak. */
static const eng_param_value sine_params[] = {{0, 3},        {1, 3},     {4, 0},  {5, 1},
                                              {3, 21.3079f}, {7, 20000}, {8, 0},  {9, 0},
                                              {10, 0},       {15, 0.1f}, {17, 1}, {27, 1}};
static const eng_device_desc sine_synth = {.kind = ENG_NODE_SYNTH,
                                           .n_params = sizeof sine_params / sizeof sine_params[0],
                                           .params = sine_params};
static const eng_note_desc long_note[] = {
    {.start_frame = 0, .length_frames = 10 * SR, .key = 83, .velocity = 127}};

static float *read_all(const char *path, SF_INFO *info) {
  memset(info, 0, sizeof *info);
  SNDFILE *sf = sf_open(path, SFM_READ, info);
  cr_assert_not_null(sf, "%s: %s", path, sf_strerror(NULL));
  float *b = malloc((size_t) info->frames * 2 * sizeof(float));
  cr_assert_eq(sf_readf_float(sf, b, info->frames), info->frames);
  sf_close(sf);
  return b;
}

Test(eng_render, reports_the_loudness_of_a_1khz_synth_sine_by_the_formula) {
  eng_track_desc t = track(1, 1.0f, 0.0f);
  t.instrument = &sine_synth;
  t.notes = long_note;
  t.n_notes = 1;
  eng_plan_desc d = desc_with(&t, 1, false);
  char path[64], msg[256];
  snprintf(path, sizeof path, "/tmp/eng_lufs_%d.wav", (int) getpid());
  eng_render_opts o = eng_render_opts_default();
  o.seconds = 4.0;
  eng_render_report rep;
  cr_assert_eq(eng_render(&d, path, &o, &rep, msg, sizeof msg), ENG_OK, "%s", msg);
  cr_expect_eq(rep.frames, 4 * SR);
  SF_INFO info;
  float *b = read_all(path, &info);
  /* The formula on the rendered samples (steady part: after the attack). */
  double ms[2] = {0, 0}, pk = 0;
  for (uint32_t i = SR / 10; i < 4 * SR; i++)
    for (int c = 0; c < 2; c++) {
      ms[c] += (double) b[2 * i + c] * b[2 * i + c];
      pk = fmax(pk, fabs(b[2 * i + c]));
    }
  ms[0] /= 3.9 * SR, ms[1] /= 3.9 * SR;
  double expected = -0.691 + 10.0 * log10(ms[0] + ms[1]) + k_weight_db(1000.0);
  cr_expect(fabs(20.0 * log10(pk) - -3.01) < 0.1, "sine peak %.3f dBFS", 20.0 * log10(pk));
  cr_expect(fabs(rep.loudness_lufs - expected) < 0.1, "%.3f LUFS, formula %.3f", rep.loudness_lufs,
            expected);
  cr_expect(fabs(rep.loudness_lufs - -3.01) < 0.1, "%.3f LUFS", rep.loudness_lufs);
  cr_expect(fabs(rep.sample_peak_dbfs - 20.0 * log10(pk)) < 0.01);
  cr_expect_geq(rep.true_peak_dbtp, rep.sample_peak_dbfs - 1e-9);
  free(b);
  unlink(path);
  expect_no_leaks();
}

/* Three tracks with instruments and effects, routed to master, no click. */
static const eng_device_desc drums = {.kind = ENG_NODE_DRUMS};
static const eng_device_desc synth_plain = {.kind = ENG_NODE_SYNTH};
static const eng_device_desc fx[2] = {{.kind = ENG_NODE_EQ}, {.kind = ENG_NODE_REVERB}};
static eng_note_desc beat[16];

static eng_plan_desc three_tracks(eng_track_desc *t) {
  for (uint32_t k = 0; k < 16; k++)
    beat[k] = (eng_note_desc){.start_frame = k * (SR / 4),
                              .length_frames = SR / 8,
                              .key = (uint8_t) (k % 2 ? ENG_DRUM_SNARE : ENG_DRUM_KICK),
                              .velocity = 110};
  t[0] = track(11, 0.9f, -0.3f);
  t[0].instrument = &drums;
  t[0].notes = beat, t[0].n_notes = 16;
  t[1] = track(12, 0.6f, 0.4f);
  t[1].instrument = &synth_plain;
  t[1].notes = beat, t[1].n_notes = 16; /* keys 36/38 on a synth: a bass line */
  t[1].effects = fx, t[1].n_effects = 2;
  t[2] = track(13, 0.5f, 0.0f); /* test tone */
  return desc_with(t, 3, false);
}

Test(eng_render, stems_sum_to_the_master_and_flac_reads_back_byte_identically) {
  eng_track_desc t[3];
  eng_plan_desc d = three_tracks(t);
  char dir[64], path[96], flac[96], flac2[96], msg[256];
  snprintf(dir, sizeof dir, "/tmp/eng_stems_%d", (int) getpid());
  snprintf(path, sizeof path, "%s/master.wav", dir);
  snprintf(flac, sizeof flac, "/tmp/eng_stems_%d_a.flac", (int) getpid());
  snprintf(flac2, sizeof flac2, "/tmp/eng_stems_%d_b.FLAC", (int) getpid());
  mkdir(dir, 0777);
  eng_render_opts o = eng_render_opts_default();
  o.seconds = 3.0;
  o.stems_dir = dir;
  eng_render_report rep;
  cr_assert_eq(eng_render(&d, path, &o, &rep, msg, sizeof msg), ENG_OK, "%s", msg);
  cr_expect_eq(rep.n_stems, 3);
  cr_expect(rep.loudness_lufs > -40.0 && rep.loudness_lufs < 0.0, "%.2f", rep.loudness_lufs);

  SF_INFO mi, si[3];
  float *m = read_all(path, &mi), *s[3];
  for (int k = 0; k < 3; k++) {
    char sp[128];
    snprintf(sp, sizeof sp, "%s/track-%d.wav", dir, 11 + k);
    s[k] = read_all(sp, &si[k]);
    cr_expect_eq(si[k].frames, mi.frames);
    cr_expect_eq(si[k].format, SF_FORMAT_WAV | SF_FORMAT_PCM_24);
    cr_expect_gt(peak(s[k], 0, 0, (uint32_t) mi.frames), 0.01f, "stem %d is silent", k);
    unlink(sp);
  }
  /* Each file is rounded to 24 bits: 4 roundings of 2^-24 at most. */
  double worst = 0.0;
  for (sf_count_t i = 0; i < 2 * mi.frames; i++)
    worst = fmax(worst, fabs((double) s[0][i] + s[1][i] + s[2][i] - m[i]));
  cr_expect_lt(worst, 4.0 / 8388608.0, "stems differ from the master by %g", worst);

  /* FLAC: same samples (to one 24-bit step), and byte-identical twice. */
  o.stems_dir = NULL;
  cr_assert_eq(eng_render(&d, flac, &o, NULL, msg, sizeof msg), ENG_OK, "%s", msg);
  cr_assert_eq(eng_render(&d, flac2, &o, NULL, msg, sizeof msg), ENG_OK, "%s", msg);
  SF_INFO fi;
  float *f = read_all(flac, &fi);
  cr_expect_eq(fi.format, SF_FORMAT_FLAC | SF_FORMAT_PCM_24);
  cr_expect_eq(fi.frames, mi.frames);
  double diff = 0.0;
  for (sf_count_t i = 0; i < 2 * mi.frames; i++)
    diff = fmax(diff, fabs((double) f[i] - m[i]));
  cr_expect_leq(diff, 1.0 / 8388608.0 + 1e-12, "FLAC differs from WAV by %g", diff);
  FILE *fa = fopen(flac, "rb"), *fb = fopen(flac2, "rb");
  cr_assert(fa && fb);
  int ca, cb;
  long pos = 0;
  do {
    ca = fgetc(fa), cb = fgetc(fb), pos++;
  } while (ca == cb && ca != EOF);
  cr_expect_eq(ca, cb, "FLAC renders differ at byte %ld", pos);
  fclose(fa), fclose(fb);
  free(m), free(f);
  for (int k = 0; k < 3; k++)
    free(s[k]);
  unlink(path), unlink(flac), unlink(flac2), rmdir(dir);
  expect_no_leaks();
}

Test(eng_render, refuses_an_unknown_extension_and_a_stems_dir_it_cannot_create) {
  eng_track_desc t[3];
  eng_plan_desc d = three_tracks(t);
  char msg[256];
  eng_render_opts o = eng_render_opts_default();
  o.seconds = 0.1;
  eng_render_report rep;
  cr_expect_eq(eng_render(&d, "/tmp/x.mp3", &o, &rep, msg, sizeof msg), ENG_ERR_INVALID);
  cr_expect(strstr(msg, ".flac") != NULL, "%s", msg);
  cr_expect_eq(rep.frames, 0);
  o.stems_dir = "/nonexistent-dir/stems";
  char path[64];
  snprintf(path, sizeof path, "/tmp/eng_nostems_%d.wav", (int) getpid());
  cr_expect_eq(eng_render(&d, path, &o, &rep, msg, sizeof msg), ENG_ERR_IO);
  cr_expect(strstr(msg, "stems") != NULL, "%s", msg);
  unlink(path);
  o.stems_dir = NULL;
  o.format = 7;
  cr_expect_eq(eng_render(&d, path, &o, &rep, msg, sizeof msg), ENG_ERR_INVALID);
  expect_no_leaks();
}

/* ---- The master's live loudness (eng_kmeter.c) against libebur128 ------------------ */

#include <ebur128.h>

#include "engine/eng_engine_int.h"

typedef void (*signal_fn)(float *lr, uint32_t n, uint32_t sr);

static void sine_1k_both(float *lr, uint32_t n, uint32_t sr) {
  float a = powf(10.0f, -23.0f / 20.0f);
  for (uint32_t i = 0; i < n; i++)
    lr[2 * i] = lr[2 * i + 1] = a * sinf((float) (2.0 * PI_D * 1000.0 * i / sr));
}
static void sine_100_left(float *lr, uint32_t n, uint32_t sr) {
  for (uint32_t i = 0; i < n; i++)
    lr[2 * i] = 0.3f * sinf((float) (2.0 * PI_D * 100.0 * i / sr)), lr[2 * i + 1] = 0.0f;
}
static void noise_then_quiet(float *lr, uint32_t n, uint32_t sr) {
  uint32_t x = 12345;
  for (uint32_t i = 0; i < n; i++) {
    x = x * 1664525u + 1013904223u;
    float v = ((float) (x >> 8) / 16777216.0f - 0.5f) * (i < n / 2 ? 0.4f : 0.02f);
    lr[2 * i] = v, lr[2 * i + 1] = -0.5f * v;
  }
  (void) sr;
}
static void sine_10k_right(float *lr, uint32_t n, uint32_t sr) {
  for (uint32_t i = 0; i < n; i++)
    lr[2 * i] = 0.0f, lr[2 * i + 1] = 0.5f * sinf((float) (2.0 * PI_D * 10000.0 * i / sr));
}

Test(eng_loudness, the_live_master_loudness_matches_libebur128) {
  const signal_fn gens[] = {sine_1k_both, sine_100_left, noise_then_quiet, sine_10k_right};
  const char *names[] = {"1 kHz both at -23 dBFS", "100 Hz left", "noise, then quieter",
                         "10 kHz right"};
  const uint32_t rates[] = {48000, 44100};
  for (int r = 0; r < 2; r++)
    for (int g = 0; g < 4; g++) {
      uint32_t sr = rates[r], n = sr / 10 * 32; /* 3.2 s: whole 100 ms blocks */
      float *lr = malloc(2 * (size_t) n * sizeof(float));
      gens[g](lr, n, sr);
      eng_kmeter k;
      eng__kmeter_init(&k, sr);
      for (uint32_t at = 0; at < n; at += 97) /* odd blocks: the meter keeps its own */
        eng__kmeter_add(&k, lr + 2 * at, at + 97 <= n ? 97 : n - at);
      ebur128_state *st = ebur128_init(2, sr, EBUR128_MODE_M | EBUR128_MODE_S);
      cr_assert_not_null(st);
      cr_assert_eq(ebur128_add_frames_float(st, lr, n), EBUR128_SUCCESS);
      double m, s;
      cr_assert_eq(ebur128_loudness_momentary(st, &m), EBUR128_SUCCESS);
      cr_assert_eq(ebur128_loudness_shortterm(st, &s), EBUR128_SUCCESS);
      ebur128_destroy(&st);
      float om = eng__kmeter_momentary(&k), os = eng__kmeter_short_term(&k);
      cr_expect(fabs(om - m) < 0.05, "%s at %u Hz: momentary %.3f, libebur128 %.3f", names[g], sr,
                (double) om, m);
      cr_expect(fabs(os - s) < 0.05, "%s at %u Hz: short-term %.3f, libebur128 %.3f", names[g], sr,
                (double) os, s);
      if (g == 0) cr_expect(fabs(om + 23.0) < 0.05, "the 1 kHz sine reads -23 LUFS: %.3f", om);
      free(lr);
    }
  /* Silence reads the floor. */
  eng_kmeter k;
  eng__kmeter_init(&k, 48000);
  float zero[2 * 480] = {0};
  for (int i = 0; i < 40; i++)
    eng__kmeter_add(&k, zero, 480);
  cr_expect_eq(eng__kmeter_momentary(&k), ENG_LUFS_FLOOR);
}

/* The engine reports it with the meters: a playing test tone is loud, and
 * the meter frame's loudness follows it. */
Test(eng_loudness, meter_frames_carry_the_master_loudness) {
  eng_track_desc t = track(1, 1.0f, 0.0f);
  eng_plan_desc d = desc_with(&t, 1, false);
  eng_engine *e = engine_with(&d, true);
  float *out = render(e, SR, 128);
  eng_meter_frame f, last = {0};
  int n = 0;
  while (eng_engine_read_meters(e, &f) == 1)
    last = f, n++;
  cr_assert_gt(n, 5);
  cr_expect(last.lufs_momentary > -40.0f && last.lufs_momentary < 0.0f, "momentary %.2f",
            (double) last.lufs_momentary);
  cr_expect(last.lufs_short_term > -40.0f && last.lufs_short_term <= 0.0f, "short-term %.2f",
            (double) last.lufs_short_term);
  free(out);
  eng_engine_destroy(e);
}
