/* eng_kmeter.c: live loudness of the master (ITU-R BS.1770-4 / EBU R128):
 * momentary (400 ms) and short-term (3 s), on the RT thread.
 *
 * Each channel goes through the K-weighting filter (a high shelf of about
 * +4 dB above 1.5 kHz, then a high-pass at 38 Hz), designed for the
 * engine's rate from the standard's analog prototypes (so 44.1 kHz gets
 * the same curve as the standard's 48 kHz table). The weighted mean square
 * of both channels is summed into 100 ms blocks; a ring of the last 30
 * blocks gives the momentary (last 4) and short-term (all 30) loudness,
 * L = -0.691 + 10 log10(mean square). No allocation, no lock: plain
 * arithmetic on a struct inside the engine. Integrated (gated) loudness is
 * the offline renderer's (eng_loudness.c, libebur128); the test checks
 * these figures against libebur128 on the same signals. */
#include "engine/eng_engine_int.h"

#include <math.h>
#include <string.h>

/* One biquad's coefficients (a0 = 1). */
static void design(double out[5], double b0, double b1, double b2, double a1, double a2) {
  out[0] = b0, out[1] = b1, out[2] = b2, out[3] = a1, out[4] = a2;
}

void eng__kmeter_init(eng_kmeter *k, uint32_t sample_rate) {
  memset(k, 0, sizeof *k);
  const double pi = 3.14159265358979323846;
  /* Stage 1: the head's high shelf. */
  double f0 = 1681.974450955533, gain_db = 3.999843853973347, q = 0.7071752369554196;
  double K = tan(pi * f0 / sample_rate);
  double vh = pow(10.0, gain_db / 20.0), vb = pow(vh, 0.4996667741545416);
  double a0 = 1.0 + K / q + K * K;
  design(k->shelf, (vh + vb * K / q + K * K) / a0, 2.0 * (K * K - vh) / a0,
         (vh - vb * K / q + K * K) / a0, 2.0 * (K * K - 1.0) / a0, (1.0 - K / q + K * K) / a0);
  /* Stage 2: the RLB high-pass. */
  f0 = 38.13547087602444, q = 0.5003270373238773;
  K = tan(pi * f0 / sample_rate);
  a0 = 1.0 + K / q + K * K;
  design(k->hp, 1.0, -2.0, 1.0, 2.0 * (K * K - 1.0) / a0, (1.0 - K / q + K * K) / a0);
  k->block_len = sample_rate / 10;
}

/* Direct form II transposed; s[2] is the state. */
static inline double run(const double c[5], double s[2], double x) {
  double y = c[0] * x + s[0];
  s[0] = c[1] * x - c[3] * y + s[1];
  s[1] = c[2] * x - c[4] * y;
  return y;
}

void eng__kmeter_add(eng_kmeter *k, const float *lr, uint32_t frames) {
  for (uint32_t i = 0; i < frames; i++) {
    for (int ch = 0; ch < 2; ch++) {
      double y = run(k->hp, k->s_hp[ch], run(k->shelf, k->s_shelf[ch], lr[2 * i + ch]));
      k->sum += y * y;
    }
    if (++k->in_block == k->block_len) {
      k->blocks[k->at] = k->sum / k->block_len;
      k->at = (k->at + 1) % ENG_KMETER_BLOCKS;
      if (k->n_blocks < ENG_KMETER_BLOCKS) k->n_blocks++;
      k->sum = 0.0, k->in_block = 0;
    }
  }
}

/* LUFS of the mean of the last N complete blocks; ENG_LUFS_FLOOR when
 * silent or when there are none yet. */
static float lufs_of(const eng_kmeter *k, uint32_t n) {
  if (k->n_blocks < n) n = k->n_blocks;
  double ms = 0.0;
  for (uint32_t i = 0; i < n; i++)
    ms += k->blocks[(k->at + ENG_KMETER_BLOCKS - 1 - i) % ENG_KMETER_BLOCKS];
  if (n == 0 || ms <= 0.0) return ENG_LUFS_FLOOR;
  double l = -0.691 + 10.0 * log10(ms / n);
  return l < ENG_LUFS_FLOOR ? ENG_LUFS_FLOOR : (float) l;
}

float eng__kmeter_momentary(const eng_kmeter *k) {
  return lufs_of(k, 4);
}

float eng__kmeter_short_term(const eng_kmeter *k) {
  return lufs_of(k, ENG_KMETER_BLOCKS);
}
