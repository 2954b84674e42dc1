/* sto_resample: polyphase windowed-sinc sample-rate conversion. See sto_resample.h. */
#include "storage/sto_resample.h"
#include "storage/sto_err.h"
#include "storage/sto_int.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define STOP_DB       100.0 /* stopband attenuation the kernel is designed for */
#define PASS          0.45  /* passband edge, of min(in, out) */
#define STOP          0.50  /* stopband edge, of min(in, out) */
#define TAPS_MULTIPLE 16    /* taps are padded to this (two 8-float vectors) */

typedef float v8 __attribute__((vector_size(32)));

struct sto_resampler {
  uint32_t up, down; /* OUT/IN = up/down, reduced: up phases, step down */
  uint32_t channels;
  uint32_t taps, half; /* taps = 2 * half */
  float *table;        /* up rows of taps coefficients */
  float *hist;         /* channels planar rows of cap input samples */
  size_t cap;
  int64_t base; /* input index of each row's first sample */
  size_t have;  /* samples held per row */
  int64_t n;    /* input index at or before the next output */
  uint32_t p;   /* its phase: the output sits at n + p / up */
  int ended;    /* the input has ended (zeros appended) */
};

/* ---- Kernel ---------------------------------------------------------------------- */

static uint32_t gcd(uint32_t a, uint32_t b) {
  while (b) {
    uint32_t t = a % b;
    a = b, b = t;
  }
  return a;
}

/* The zeroth-order modified Bessel function of the first kind. */
static double bessel_i0(double x) {
  double sum = 1, term = 1;
  for (int k = 1; k < 64 && term > sum * 1e-17; k++) {
    term *= (x / (2 * k)) * (x / (2 * k));
    sum += term;
  }
  return sum;
}

/* Fills row P: the kernel at t = j - (half - 1) - p / up, scaled to sum to 1. */
static void build_row(sto_resampler *r, uint32_t p, double fc, double beta) {
  float *row = r->table + (size_t) p * r->taps;
  double sum = 0, i0b = bessel_i0(beta);
  for (uint32_t j = 0; j < r->taps; j++) {
    double t = (double) j - (r->half - 1) - (double) p / r->up, u = t / r->half;
    double x = 2 * fc * t, sinc = fabs(x) < 1e-12 ? 1 : sin(M_PI * x) / (M_PI * x);
    double v = fabs(u) < 1 ? 2 * fc * sinc * bessel_i0(beta * sqrt(1 - u * u)) / i0b : 0;
    row[j] = (float) v;
    sum += v;
  }
  for (uint32_t j = 0; j < r->taps; j++)
    row[j] = (float) (row[j] / sum);
}

/* Kaiser's estimate of the window length for STOP_DB over the transition
 * band, in input samples, rounded up to TAPS_MULTIPLE. */
static uint32_t taps_for(uint32_t in_rate, uint32_t out_rate) {
  double lo = in_rate < out_rate ? in_rate : out_rate;
  double width = 2 * M_PI * (STOP - PASS) * lo / in_rate; /* radians per input sample */
  double n = (STOP_DB - 7.95) / (2.285 * width) + 1;
  uint32_t taps = (uint32_t) ceil(n / TAPS_MULTIPLE) * TAPS_MULTIPLE;
  return taps < TAPS_MULTIPLE ? TAPS_MULTIPLE : taps;
}

/* ---- Create ------------------------------------------------------------------------ */

int sto_resample_create(uint32_t in_rate, uint32_t out_rate, uint32_t channels,
                        sto_resampler **out) {
  *out = NULL;
  if (!in_rate || !out_rate || !channels) return STO_ERR_INVALID;
  uint32_t g = gcd(in_rate, out_rate), taps = taps_for(in_rate, out_rate);
  uint32_t up = out_rate / g, down = in_rate / g;
  if ((uint64_t) up * taps > STO_RESAMPLE_MAX_TABLE || taps > STO_RESAMPLE_MAX_TABLE)
    return STO_ERR_INVALID;
  sto_resampler *r = sto__fault() ? NULL : calloc(1, sizeof *r);
  if (!r) return STO_ERR_NOMEM;
  r->up = up, r->down = down, r->channels = channels;
  r->taps = taps, r->half = taps / 2;
  r->cap = 2 * (size_t) taps + STO_RESAMPLE_BLOCK;
  r->table = malloc(sizeof(float) * up * taps);
  r->hist = calloc(r->cap * channels, sizeof(float));
  if (!r->table || !r->hist) {
    sto_resample_destroy(r);
    return STO_ERR_NOMEM;
  }
  double lo = in_rate < out_rate ? in_rate : out_rate;
  double fc = (PASS + STOP) / 2 * lo / in_rate; /* cutoff, cycles per input sample */
  double beta = 0.1102 * (STOP_DB - 8.7);
  for (uint32_t p = 0; p < up; p++)
    build_row(r, p, fc, beta);
  /* Zeros before the input, so that the first outputs have their history. */
  r->have = r->half - 1;
  r->base = -(int64_t) r->have;
  *out = r;
  return STO_OK;
}

void sto_resample_destroy(sto_resampler *r) {
  if (!r) return;
  free(r->table);
  free(r->hist);
  free(r);
}

size_t sto_resample_out_max(const sto_resampler *r, size_t n_in) {
  return (size_t) (((uint64_t) n_in + r->half + 1) * r->up / r->down) + 2;
}

/* ---- Process ---------------------------------------------------------------------- */

/* Two 8-float vectors per step: two SSE registers each on any x86-64, one
 * AVX register in the avx2 clone of produce. No FMA, and the same order of
 * additions in both, so every machine computes the same bits. */
static inline float dot(const float *x, const float *h, uint32_t n) {
  v8 a = {0}, b = {0};
  for (uint32_t j = 0; j < n; j += 16) {
    v8 x0, x1, h0, h1;
    memcpy(&x0, x + j, sizeof x0);
    memcpy(&x1, x + j + 8, sizeof x1);
    memcpy(&h0, h + j, sizeof h0);
    memcpy(&h1, h + j + 8, sizeof h1);
    a += x0 * h0;
    b += x1 * h1;
  }
  a += b;
  return ((a[0] + a[4]) + (a[1] + a[5])) + ((a[2] + a[6]) + (a[3] + a[7]));
}

/* Drops the samples no output needs any more (before n - half + 1). */
static void compact(sto_resampler *r) {
  int64_t drop = r->n - r->half + 1 - r->base;
  if (drop <= 0) return;
  if ((size_t) drop > r->have) drop = (int64_t) r->have;
  for (uint32_t c = 0; c < r->channels; c++) {
    float *row = r->hist + c * r->cap;
    memmove(row, row + drop, (r->have - (size_t) drop) * sizeof(float));
  }
  r->base += drop;
  r->have -= (size_t) drop;
}

/* Appends N frames of IN (interleaved; NULL: zeros) to the rows. */
static void append(sto_resampler *r, const float *in, size_t n) {
  for (uint32_t c = 0; c < r->channels; c++) {
    float *row = r->hist + c * r->cap + r->have;
    if (!in)
      memset(row, 0, n * sizeof(float));
    else
      for (size_t i = 0; i < n; i++)
        row[i] = in[i * r->channels + c];
  }
  r->have += n;
}

/* Writes the outputs whose inputs are all held, while their position is
 * before LIMIT (an input index). */
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
__attribute__((target_clones("avx2", "default")))
#endif
static size_t
produce(sto_resampler *r, int64_t limit, float *out) {
  size_t k = 0;
  int64_t held_end = r->base + (int64_t) r->have;
  while (r->n + r->half < held_end && r->n < limit) {
    const float *h = r->table + (size_t) r->p * r->taps;
    size_t at = (size_t) (r->n - r->half + 1 - r->base);
    for (uint32_t c = 0; c < r->channels; c++)
      out[k * r->channels + c] = dot(r->hist + c * r->cap + at, h, r->taps);
    k++;
    r->p += r->down;
    r->n += r->p / r->up;
    r->p %= r->up;
  }
  return k;
}

size_t sto_resample_process(sto_resampler *r, const float *in, size_t n_in, int end, float *out) {
  if (r->ended) return 0;
  if (n_in > STO_RESAMPLE_BLOCK) n_in = STO_RESAMPLE_BLOCK;
  compact(r);
  append(r, in, n_in);
  if (!end) return produce(r, INT64_MAX, out);
  int64_t input_end = r->base + (int64_t) r->have;
  append(r, NULL, r->half + 1);
  r->ended = 1;
  return produce(r, input_end, out);
}
