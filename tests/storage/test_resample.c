/* The import resampler (speexdsp behind sto_resample): flat passband, tones
 * above the lower Nyquist and images removed, no delay, exact length, DC,
 * and the same output whatever the block sizes. The limits are what a
 * studio needs, with a little room over what level STO_RESAMPLE_QUALITY
 * measures (storage/README.md): speexdsp level 6, or libsamplerate's
 * SRC_SINC_MEDIUM_QUALITY, fail them. */
#include "storage/sto_err.h"
#include "storage/sto_resample.h"

#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>

/* Converts N_IN frames of a sine at FREQ (amplitude AMP, channel c at phase
 * c) from IN to OUT in blocks of BLOCK; returns the output (*n_out frames). */
static float *convert(uint32_t in, uint32_t out, uint32_t ch, double freq, double amp, size_t n_in,
                      size_t block, size_t *n_out) {
  sto_resampler *r;
  cr_assert_eq(sto_resample_create(in, out, ch, &r), 0);
  float *x = malloc(sizeof(float) * n_in * ch);
  for (size_t i = 0; i < n_in; i++)
    for (uint32_t c = 0; c < ch; c++)
      x[i * ch + c] = (float) (amp * sin(2 * M_PI * freq * (double) i / in + c));
  size_t cap = sto_resample_out_max(r, n_in) + sto_resample_out_max(r, block) * 2;
  float *y = malloc(sizeof(float) * cap * ch);
  size_t made = 0;
  for (size_t at = 0; at < n_in; at += block) {
    size_t n = n_in - at < block ? n_in - at : block;
    cr_assert_leq(made + sto_resample_out_max(r, n), cap);
    made += sto_resample_process(r, x + at * ch, n, at + n == n_in, y + made * ch);
  }
  sto_resample_destroy(r);
  free(x);
  *n_out = made;
  return y;
}

/* Frames the resampler must make of N_IN: those before the input's end. */
static size_t want_frames(uint32_t in, uint32_t out, size_t n_in) {
  return (size_t) (((uint64_t) n_in * out + in - 1) / in);
}

/* Fits a sine at FREQ to channel 0 of the middle of Y (the edges see the
 * zeros around the input): returns its amplitude, and in *rest the peak of
 * what is left (aliases, images, noise). */
static double fit(const float *y, size_t n, uint32_t ch, uint32_t rate, double freq, double *rest) {
  double ss = 0, cc = 0, sc = 0, ys = 0, yc = 0;
  for (size_t k = n / 10; k < n - n / 10; k++) {
    double w = 2 * M_PI * freq * (double) k / rate, s = sin(w), c = cos(w);
    ss += s * s, cc += c * c, sc += s * c, ys += y[k * ch] * s, yc += y[k * ch] * c;
  }
  double det = ss * cc - sc * sc, a = (ys * cc - yc * sc) / det, b = (yc * ss - ys * sc) / det;
  *rest = 0;
  for (size_t k = n / 10; k < n - n / 10; k++) {
    double w = 2 * M_PI * freq * (double) k / rate;
    *rest = fmax(*rest, fabs(y[k * ch] - (a * sin(w) + b * cos(w))));
  }
  return hypot(a, b);
}

static double db(double x) {
  return 20 * log10(x);
}

Test(sto_resample, passband_sines_come_out_exact_in_time_and_at_length) {
  static const struct {
    uint32_t in, out;
    double freq;
  } cases[] = {{44100, 48000, 1000},  {44100, 48000, 19000}, {48000, 44100, 997},
               {48000, 44100, 19500}, {96000, 48000, 15000}, {22050, 48000, 9000},
               {8000, 48000, 3000},   {48000, 32000, 14000}, {48000, 44101, 19000}};
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    uint32_t in = cases[i].in, out = cases[i].out;
    size_t n, n_in = in / 2 + 7;
    float *y = convert(in, out, 2, cases[i].freq, 0.5, n_in, 8192, &n);
    cr_assert_eq(n, want_frames(in, out, n_in), "%u -> %u: %zu frames", in, out, n);
    /* Against the ideal sine at the output rate: gain, phase and residue in one. */
    double worst = 0;
    for (size_t k = n / 10; k < n - n / 10; k++)
      for (uint32_t c = 0; c < 2; c++) {
        double want = 0.5 * sin(2 * M_PI * cases[i].freq * (double) k / out + c);
        worst = fmax(worst, fabs(y[k * 2 + c] - want));
      }
    cr_assert_lt(worst, 2e-5, "%u -> %u at %.0f Hz: error %.2g (%.1f dB)", in, out, cases[i].freq,
                 worst, db(worst));
    free(y);
  }
}

Test(sto_resample, twenty_khz_is_flat_and_clean) {
  /* 20 kHz is 91% of the Nyquist at 44.1 kHz: SRC_SINC_MEDIUM is 3 dB down
   * there, speexdsp level 6 0.3 dB. 44.1 -> 48 also checks the images. */
  static const uint32_t rates[][2] = {{44100, 48000}, {48000, 44100}, {88200, 44100}};
  for (size_t i = 0; i < sizeof rates / sizeof rates[0]; i++) {
    size_t n;
    float *y = convert(rates[i][0], rates[i][1], 1, 20000, 0.5, rates[i][0] / 2, 4096, &n);
    double rest, gain = db(fit(y, n, 1, rates[i][1], 20000, &rest) / 0.5);
    cr_assert_lt(fabs(gain), 0.02, "%u -> %u: %+.4f dB at 20 kHz", rates[i][0], rates[i][1], gain);
    cr_assert_lt(db(rest / 0.5), -94, "%u -> %u: residue %.1f dB", rates[i][0], rates[i][1],
                 db(rest / 0.5));
    free(y);
  }
}

Test(sto_resample, tones_above_the_lower_nyquist_are_removed) {
  /* From just above the Nyquist (aliased just below it: speexdsp level 6
   * leaves 66 dB there) to far above it. */
  static const struct {
    uint32_t in, out;
    double freq;
  } cases[] = {{48000, 44100, 22100}, {48000, 44100, 22600}, {48000, 44100, 23900},
               {96000, 48000, 24050}, {96000, 48000, 30000}, {96000, 44100, 40000},
               {48000, 32000, 16050}, {44100, 22050, 11100}};
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    size_t n;
    float *y = convert(cases[i].in, cases[i].out, 1, cases[i].freq, 1.0, cases[i].in / 2, 5000, &n);
    double peak = 0;
    for (size_t k = n / 10; k < n - n / 10; k++)
      peak = fmax(peak, fabs(y[k]));
    cr_assert_lt(db(peak), -96, "%u -> %u at %.0f Hz: %.1f dB left", cases[i].in, cases[i].out,
                 cases[i].freq, db(peak));
    free(y);
  }
}

Test(sto_resample, block_sizes_do_not_change_the_output) {
  size_t n1, n2, n3;
  float *a = convert(44100, 48000, 3, 440, 0.7, 30011, 8192, &n1);
  float *b = convert(44100, 48000, 3, 440, 0.7, 30011, 97, &n2);
  float *c = convert(44100, 48000, 3, 440, 0.7, 30011, 1, &n3);
  cr_assert_eq(n1, n2);
  cr_assert_eq(n1, n3);
  for (size_t i = 0; i < n1 * 3; i++) {
    cr_assert_eq(a[i], b[i], "sample %zu", i);
    cr_assert_eq(a[i], c[i], "sample %zu", i);
  }
  free(a);
  free(b);
  free(c);
}

Test(sto_resample, dc_and_short_inputs_and_bad_settings) {
  static const uint32_t rates[][2] = {{44100, 48000}, {48000, 44100}, {96000, 48000}};
  for (size_t i = 0; i < sizeof rates / sizeof rates[0]; i++) {
    sto_resampler *r;
    cr_assert_eq(sto_resample_create(rates[i][0], rates[i][1], 1, &r), 0);
    float x[4000], y[8000];
    for (int k = 0; k < 4000; k++)
      x[k] = 0.25f;
    size_t n = sto_resample_process(r, x, 4000, 1, y);
    cr_assert_eq(n, want_frames(rates[i][0], rates[i][1], 4000));
    for (size_t k = 300; k < n - 300; k++)
      cr_assert_float_eq(y[k], 0.25f, 0.25 * 1e-5, "%u -> %u frame %zu: %.9f", rates[i][0],
                         rates[i][1], k, y[k]);
    cr_assert_eq(sto_resample_process(r, x, 4000, 1, y), 0, "nothing after the end");
    sto_resample_destroy(r);
  }
  /* One frame in: the outputs before its end; none in, none out. */
  sto_resampler *r;
  float one = 1, y[64];
  cr_assert_eq(sto_resample_create(44100, 48000, 1, &r), 0);
  cr_assert_eq(sto_resample_process(r, &one, 1, 1, y), 2);
  sto_resample_destroy(r);
  cr_assert_eq(sto_resample_create(48000, 8000, 1, &r), 0);
  cr_assert_eq(sto_resample_process(r, NULL, 0, 1, y), 0);
  sto_resample_destroy(r);

  cr_assert_eq(sto_resample_create(0, 48000, 1, &r), STO_ERR_INVALID);
  cr_assert_null(r);
  cr_assert_eq(sto_resample_create(44100, 0, 1, &r), STO_ERR_INVALID);
  cr_assert_eq(sto_resample_create(44100, 48000, 0, &r), STO_ERR_INVALID);
}
