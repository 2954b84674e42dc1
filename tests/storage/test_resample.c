/* The import resampler: exact sines in the passband, rejection above the
 * lower Nyquist, no delay, and the same output whatever the block sizes. */
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

/* Largest difference from the ideal sine at the output rate, over the
 * middle of the output (the edges see the zeros around the input). */
static double sine_error(const float *y, size_t n, uint32_t out, uint32_t ch, double freq,
                         double amp) {
  double worst = 0;
  for (size_t k = n / 10; k < n - n / 10; k++)
    for (uint32_t c = 0; c < ch; c++) {
      double want = amp * sin(2 * M_PI * freq * (double) k / out + c);
      worst = fmax(worst, fabs(y[k * ch + c] - want));
    }
  return worst;
}

Test(sto_resample, passband_sines_come_out_exact_and_in_time) {
  static const struct {
    uint32_t in, out;
    double freq;
  } cases[] = {{44100, 48000, 1000},  {44100, 48000, 19000}, {48000, 44100, 997},
               {48000, 44100, 19500}, {96000, 48000, 15000}, {22050, 48000, 9000},
               {8000, 48000, 3000},   {48000, 32000, 14000}};
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    size_t n;
    float *y = convert(cases[i].in, cases[i].out, 2, cases[i].freq, 0.5, cases[i].in / 2, 8192, &n);
    size_t want = (size_t) ((uint64_t) (cases[i].in / 2) * cases[i].out / cases[i].in);
    cr_assert_geq(n, want, "%u -> %u: %zu frames, want %zu", cases[i].in, cases[i].out, n, want);
    double err = sine_error(y, want, cases[i].out, 2, cases[i].freq, 0.5);
    cr_assert_lt(err, 3e-5, "%u -> %u at %.0f Hz: error %.2g (%.1f dB)", cases[i].in, cases[i].out,
                 cases[i].freq, err, 20 * log10(err));
    free(y);
  }
}

Test(sto_resample, tones_above_the_lower_nyquist_are_removed) {
  static const struct {
    uint32_t in, out;
    double freq;
  } cases[] = {
      {48000, 44100, 22600}, {48000, 44100, 23900}, {96000, 48000, 30000}, {96000, 44100, 40000}};
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    size_t n;
    float *y = convert(cases[i].in, cases[i].out, 1, cases[i].freq, 1.0, cases[i].in / 2, 5000, &n);
    double peak = 0;
    for (size_t k = n / 10; k < n - n / 10; k++)
      peak = fmax(peak, fabs(y[k]));
    cr_assert_lt(peak, 1e-4, "%u -> %u at %.0f Hz: %.1f dB left", cases[i].in, cases[i].out,
                 cases[i].freq, 20 * log10(peak));
    free(y);
  }
}

Test(sto_resample, block_sizes_do_not_change_the_output) {
  size_t n1, n2;
  float *a = convert(44100, 48000, 3, 440, 0.7, 30011, 8192, &n1);
  float *b = convert(44100, 48000, 3, 440, 0.7, 30011, 97, &n2);
  cr_assert_eq(n1, n2);
  for (size_t i = 0; i < n1 * 3; i++)
    cr_assert_eq(a[i], b[i], "sample %zu", i);
  free(a);
  free(b);
}

Test(sto_resample, dc_stays_exact_and_bad_settings_are_refused) {
  sto_resampler *r;
  cr_assert_eq(sto_resample_create(44100, 48000, 1, &r), 0);
  float x[4000], y[8000];
  for (int i = 0; i < 4000; i++)
    x[i] = 0.25f;
  size_t n = sto_resample_process(r, x, 4000, 1, y);
  for (size_t k = 200; k < n - 200; k++)
    cr_assert_float_eq(y[k], 0.25f, 1e-6, "frame %zu: %.9f", k, y[k]);
  sto_resample_destroy(r);
  cr_assert_eq(sto_resample_create(0, 48000, 1, &r), STO_ERR_INVALID);
  cr_assert_null(r);
  cr_assert_eq(sto_resample_create(44100, 48000, 0, &r), STO_ERR_INVALID);
  cr_assert_eq(sto_resample_create(48000, 44101, 2, &r), STO_ERR_INVALID,
               "44101/48000 would need a table of 44101 phases");
}
