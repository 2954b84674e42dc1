/* eng_dsp_int.h: DSP building blocks shared by the engine's nodes and tested
 * directly by tests/engine/test_eng_dsp.c. Implementation details which may
 * change; the public API is in eng_node.h.
 *
 * All of it is plain inline arithmetic on caller-owned structs: RT-safe, no
 * allocation, no state outside the structs. */
#ifndef ENG_DSP_INT_H
#define ENG_DSP_INT_H

#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#if defined(__SSE2__)
#include <xmmintrin.h>
#endif

#define ENG_PI     3.14159265358979323846
#define ENG_TWO_PI 6.283185307179586

static inline float eng_db_to_lin(float db) {
  return powf(10.0f, db * 0.05f);
}
static inline float eng_lin_to_db(float x) {
  return 20.0f * log10f(x > 1e-12f ? x : 1e-12f);
}
static inline uint32_t eng_ms_to_frames(float ms, uint32_t sr) {
  return (uint32_t) lrintf(ms * 0.001f * (float) sr);
}

/* ------------------------------------------------------------------------ */
/* parameter smoothing: a linear ramp                                       */
/* ------------------------------------------------------------------------ */

/* Moves from the current value to a new target in `ramp` equal steps, so no
 * step is larger than |target - start| / ramp. ramp 0 = jump. Invariant:
 * cur == target - step * left (cur == target when left is 0).
 *
 * Automation (eng_smooth_follow) moves the target along a curve frame by
 * frame while the offset step * left keeps shrinking: a continuous curve is
 * followed exactly, a jump glides over `ramp` frames. The engine computes a
 * chunk's values that way before running the node, and lends them to the
 * smoother as its `lane` for that one process call: eng_smooth_next and
 * eng_smooth_skip then read the lane (so nodes need no change), and the
 * engine takes the lane back after the call (eng_smooth_lane_end). */
typedef struct eng_smooth {
  float cur;         /* value now */
  float target;      /* value at the end of the ramp */
  float step;        /* per frame */
  uint32_t left;     /* frames of ramp remaining */
  uint32_t ramp;     /* ramp length in frames for the next set */
  uint32_t at;       /* lane: next frame to read */
  uint32_t lane_n;   /* lane: frames in it */
  const float *lane; /* values of this chunk, one per frame, or NULL (lent by the engine) */
} eng_smooth;

static inline void eng_smooth_init(eng_smooth *s, float v, uint32_t ramp) {
  s->cur = s->target = v;
  s->step = 0.0f;
  s->left = 0;
  s->ramp = ramp;
  s->at = s->lane_n = 0;
  s->lane = NULL;
}
static inline void eng_smooth_set(eng_smooth *s, float v) {
  s->target = v;
  if (s->ramp == 0 || v == s->cur) {
    s->cur = v;
    s->left = 0;
  } else {
    s->step = (v - s->cur) / (float) s->ramp;
    s->left = s->ramp;
  }
}
/* The value is computed from the target (target - step * left), not
 * accumulated, so rounding never piles up into a larger last step. */
static inline float eng_smooth_next(eng_smooth *s) {
  if (s->lane) return s->cur = s->lane[s->at < s->lane_n - 1 ? s->at++ : s->at];
  if (s->left) {
    --s->left;
    s->cur = s->target - s->step * (float) s->left;
  }
  return s->cur;
}
/* Advances n frames at once (per-block smoothing). */
static inline float eng_smooth_skip(eng_smooth *s, uint32_t n) {
  if (s->lane) {
    s->at = n < s->lane_n - s->at ? s->at + n : s->lane_n;
    return s->cur = s->lane[s->at ? s->at - 1 : 0];
  }
  if (!s->left) return s->cur;
  if (n >= s->left) {
    s->left = 0;
    s->cur = s->target;
  } else {
    s->left -= n;
    s->cur = s->target - s->step * (float) s->left;
  }
  return s->cur;
}
static inline bool eng_smooth_moving(const eng_smooth *s) {
  return s->left != 0 || s->lane != NULL;
}

/* One frame of automation: the target moves to v. jump false: the move is
 * part of a continuous curve and passes on as is (the glide offset still
 * left keeps shrinking); jump true: a new glide from the current value to v
 * over `ramp` frames starts here (its first step lands on this frame).
 * Returns the value for this frame. */
static inline float eng_smooth_follow(eng_smooth *s, float v, bool jump) {
  if (jump && s->ramp && v != s->cur) {
    s->step = (v - s->cur) / (float) s->ramp;
    s->left = s->ramp;
  } else if (jump) {
    s->left = 0; /* already there (or no ramp): nothing to glide */
  }
  s->target = v;
  if (s->left) {
    --s->left;
    s->cur = v - s->step * (float) s->left;
  } else {
    s->cur = v;
  }
  return s->cur;
}

/* Lends `lane` (n >= 1 values from eng_smooth_follow) to the smoother for one
 * process call, and takes it back: cur returns to the value the invariant
 * gives (the lane's last value). */
static inline void eng_smooth_lane_begin(eng_smooth *s, const float *lane, uint32_t n) {
  s->lane = lane;
  s->lane_n = n;
  s->at = 0;
}
static inline void eng_smooth_lane_end(eng_smooth *s) {
  s->lane = NULL;
  s->cur = s->left ? s->target - s->step * (float) s->left : s->target;
}

/* ------------------------------------------------------------------------ */
/* biquad, RBJ Audio EQ Cookbook, transposed direct form II                 */
/* ------------------------------------------------------------------------ */

typedef enum {
  ENG_BQ_LOWPASS = 0,
  ENG_BQ_HIGHPASS,
  ENG_BQ_BANDPASS,
  ENG_BQ_PEAK,
  ENG_BQ_LOWSHELF,
  ENG_BQ_HIGHSHELF,
} eng_bq_type;

typedef struct eng_biquad {
  float b0, b1, b2, a1, a2; /* normalised by a0 */
} eng_biquad;

typedef struct eng_bq_state {
  float z1, z2;
} eng_bq_state;

/* Coefficients for type at f0 Hz, quality q (shelves: q is the cookbook's Q
 * too), gain_db (peak and shelves only), sample rate sr. Computed in double. */
static inline void eng_biquad_design(eng_biquad *c, int type, double f0, double q, double gain_db,
                                     double sr) {
  double A = pow(10.0, gain_db / 40.0);
  double w0 = ENG_TWO_PI * f0 / sr, cw = cos(w0), sw = sin(w0);
  double alpha = sw / (2.0 * q);
  double b0 = 1, b1 = 0, b2 = 0, a0 = 1, a1 = 0, a2 = 0;
  switch (type) {
    case ENG_BQ_LOWPASS:
      b0 = (1 - cw) / 2, b1 = 1 - cw, b2 = (1 - cw) / 2;
      a0 = 1 + alpha, a1 = -2 * cw, a2 = 1 - alpha;
      break;
    case ENG_BQ_HIGHPASS:
      b0 = (1 + cw) / 2, b1 = -(1 + cw), b2 = (1 + cw) / 2;
      a0 = 1 + alpha, a1 = -2 * cw, a2 = 1 - alpha;
      break;
    case ENG_BQ_BANDPASS: /* constant 0 dB peak gain */
      b0 = alpha, b1 = 0, b2 = -alpha;
      a0 = 1 + alpha, a1 = -2 * cw, a2 = 1 - alpha;
      break;
    case ENG_BQ_PEAK:
      b0 = 1 + alpha * A, b1 = -2 * cw, b2 = 1 - alpha * A;
      a0 = 1 + alpha / A, a1 = -2 * cw, a2 = 1 - alpha / A;
      break;
    case ENG_BQ_LOWSHELF: {
      double s = 2 * sqrt(A) * alpha;
      b0 = A * ((A + 1) - (A - 1) * cw + s), b1 = 2 * A * ((A - 1) - (A + 1) * cw);
      b2 = A * ((A + 1) - (A - 1) * cw - s);
      a0 = (A + 1) + (A - 1) * cw + s, a1 = -2 * ((A - 1) + (A + 1) * cw);
      a2 = (A + 1) + (A - 1) * cw - s;
      break;
    }
    case ENG_BQ_HIGHSHELF: {
      double s = 2 * sqrt(A) * alpha;
      b0 = A * ((A + 1) + (A - 1) * cw + s), b1 = -2 * A * ((A - 1) + (A + 1) * cw);
      b2 = A * ((A + 1) + (A - 1) * cw - s);
      a0 = (A + 1) - (A - 1) * cw + s, a1 = 2 * ((A - 1) - (A + 1) * cw);
      a2 = (A + 1) - (A - 1) * cw - s;
      break;
    }
  }
  c->b0 = (float) (b0 / a0), c->b1 = (float) (b1 / a0), c->b2 = (float) (b2 / a0);
  c->a1 = (float) (a1 / a0), c->a2 = (float) (a2 / a0);
}

static inline float eng_biquad_run(const eng_biquad *c, eng_bq_state *s, float x) {
  float y = c->b0 * x + s->z1;
  s->z1 = c->b1 * x - c->a1 * y + s->z2;
  s->z2 = c->b2 * x - c->a2 * y;
  return y;
}

/* |H(e^jw)| in dB of a designed biquad at f Hz (for tests and UIs). */
static inline double eng_biquad_mag_db(const eng_biquad *c, double f, double sr) {
  double w = ENG_TWO_PI * f / sr;
  double cr = c->b0 + c->b1 * cos(w) + c->b2 * cos(2 * w);
  double ci = -c->b1 * sin(w) - c->b2 * sin(2 * w);
  double dr = 1 + c->a1 * cos(w) + c->a2 * cos(2 * w);
  double di = -c->a1 * sin(w) - c->a2 * sin(2 * w);
  return 10.0 * log10((cr * cr + ci * ci) / (dr * dr + di * di));
}

/* ------------------------------------------------------------------------ */
/* state-variable filter (trapezoidal, Zavalishin / Simper): the synth's    */
/* resonant filter. Same 2-pole low-pass response as the RBJ biquad, but    */
/* cheap to retune every control block and stable under modulation.         */
/* ------------------------------------------------------------------------ */

typedef struct eng_svf {
  float a1, a2, a3, k; /* coefficients */
  float ic1, ic2;      /* integrator states */
} eng_svf;

/* q >= 0.5; fc clamped below Nyquist. */
static inline void eng_svf_tune(eng_svf *f, float fc, float q, float sr) {
  float lim = 0.49f * sr;
  if (fc > lim) fc = lim;
  if (fc < 10.0f) fc = 10.0f;
  float g = tanf((float) ENG_PI * fc / sr);
  f->k = 1.0f / q;
  f->a1 = 1.0f / (1.0f + g * (g + f->k));
  f->a2 = g * f->a1;
  f->a3 = g * f->a2;
}
static inline float eng_svf_lowpass(eng_svf *f, float v0) {
  float v3 = v0 - f->ic2;
  float v1 = f->a1 * f->ic1 + f->a2 * v3;
  float v2 = f->ic2 + f->a2 * f->ic1 + f->a3 * v3;
  f->ic1 = 2.0f * v1 - f->ic1;
  f->ic2 = 2.0f * v2 - f->ic2;
  return v2;
}

/* ------------------------------------------------------------------------ */
/* ADSR: linear segments, timed in whole frames                             */
/* ------------------------------------------------------------------------ */

typedef enum {
  ENG_ADSR_IDLE = 0,
  ENG_ADSR_ATTACK,
  ENG_ADSR_DECAY,
  ENG_ADSR_SUSTAIN,
  ENG_ADSR_RELEASE
} eng_adsr_stage;

/* From a gate-on the level rises by 1/attack per frame and reaches 1.0 on
 * frame `attack` (counting the gate frame as frame 1), falls linearly to
 * `sustain` over `decay` frames, holds; from a gate-off it falls linearly
 * from wherever it is to 0 over `release` frames. A retrigger continues from
 * the current level (no click). */
typedef struct eng_adsr {
  uint32_t stage;                  /* eng_adsr_stage */
  float level;                     /* output now */
  float step;                      /* per-frame change of the current segment */
  uint32_t left;                   /* frames left in the current segment */
  uint32_t attack, decay, release; /* frames, >= 1 */
  float sustain;                   /* 0..1 */
} eng_adsr;

static inline void eng_adsr_times(eng_adsr *a, uint32_t attack, uint32_t decay, float sustain,
                                  uint32_t release) {
  a->attack = attack ? attack : 1;
  a->decay = decay ? decay : 1;
  a->release = release ? release : 1;
  a->sustain = sustain;
}
static inline void eng_adsr_gate(eng_adsr *a, bool on) {
  if (on) {
    a->stage = ENG_ADSR_ATTACK;
    a->step = 1.0f / (float) a->attack;
    a->left = (uint32_t) ceilf((1.0f - a->level) * (float) a->attack);
    if (a->left == 0) a->left = 1;
  } else if (a->stage != ENG_ADSR_IDLE) {
    a->stage = ENG_ADSR_RELEASE;
    a->left = a->release;
    a->step = -a->level / (float) a->release;
  }
}
static inline float eng_adsr_next(eng_adsr *a) {
  switch (a->stage) {
    case ENG_ADSR_IDLE:
    case ENG_ADSR_SUSTAIN:
      return a->level;
    case ENG_ADSR_ATTACK:
      if (--a->left == 0) {
        a->level = 1.0f;
        a->stage = ENG_ADSR_DECAY;
        a->left = a->decay;
        a->step = (a->sustain - 1.0f) / (float) a->decay;
      } else {
        a->level += a->step;
      }
      return a->level;
    case ENG_ADSR_DECAY:
      if (--a->left == 0) {
        a->level = a->sustain;
        a->stage = ENG_ADSR_SUSTAIN;
      } else {
        a->level += a->step;
      }
      return a->level;
    case ENG_ADSR_RELEASE:
      if (--a->left == 0) {
        a->level = 0.0f;
        a->stage = ENG_ADSR_IDLE;
      } else {
        a->level += a->step;
      }
      return a->level;
  }
  return a->level;
}

/* ------------------------------------------------------------------------ */
/* oscillators and noise                                                    */
/* ------------------------------------------------------------------------ */

/* PolyBLEP residual at phase t (0..1) for phase increment dt. */
static inline float eng_polyblep(float t, float dt) {
  if (t < dt) {
    t /= dt;
    return t + t - t * t - 1.0f;
  }
  if (t > 1.0f - dt) {
    t = (t - 1.0f) / dt;
    return t * t + t + t + 1.0f;
  }
  return 0.0f;
}

typedef enum { ENG_WAVE_SAW = 0, ENG_WAVE_SQUARE, ENG_WAVE_TRIANGLE, ENG_WAVE_SINE } eng_wave;

/* One sample of `wave` at phase t in [0, 1), band-limited with PolyBLEP for
 * saw and square. */
static inline float eng_osc(int wave, float t, float dt) {
  switch (wave) {
    case ENG_WAVE_SAW:
      return 2.0f * t - 1.0f - eng_polyblep(t, dt);
    case ENG_WAVE_SQUARE: {
      float t2 = t + 0.5f;
      if (t2 >= 1.0f) t2 -= 1.0f;
      return (t < 0.5f ? 1.0f : -1.0f) + eng_polyblep(t, dt) - eng_polyblep(t2, dt);
    }
    case ENG_WAVE_TRIANGLE:
      return 4.0f * fabsf(t - 0.5f) - 1.0f;
    default:
      return sinf((float) ENG_TWO_PI * t);
  }
}

/* ------------------------------------------------------------------------ */
/* interpolation: reading recorded audio at a fractional position           */
/* ------------------------------------------------------------------------ */

/* 4-point, 3rd-order Hermite (Catmull-Rom) between y1 (t = 0) and y2
 * (t = 1), from y0..y3 at -1, 0, 1, 2. Exact at t = 0: a sample played at
 * its own rate from a whole frame comes out bit for bit. Used by the
 * sampler and the clip player for pitch and rate changes. */
static inline float eng_hermite(float y0, float y1, float y2, float y3, float t) {
  float c1 = 0.5f * (y2 - y0);
  float c2 = y0 - 2.5f * y1 + 2.0f * y2 - 0.5f * y3;
  float c3 = 0.5f * (y3 - y0) + 1.5f * (y1 - y2);
  return ((c3 * t + c2) * t + c1) * t + y1;
}

/* xorshift32: deterministic noise, seeded per node. Returns -1..1. */
static inline float eng_noise(uint32_t *s) {
  uint32_t x = *s;
  x ^= x << 13;
  x ^= x >> 17;
  x ^= x << 5;
  *s = x;
  return (float) (int32_t) x * (1.0f / 2147483648.0f);
}

/* Subnormal floats: decaying tails (reverb, filters, envelopes) sink into
 * them after the music stops, and x86 computes them ~100x slower (a stopped
 * 16-track project with reverbs took a whole core). Every thread that runs
 * nodes flushes them to zero (FTZ + DAZ): inaudible (< 1e-38), and the same
 * mode on the RT thread, the cohort's workers and offline renders keeps
 * their outputs bit-identical. Returns the mode to restore. */
static inline unsigned int eng__flush_subnormals(void) {
#if defined(__SSE2__)
  unsigned int csr = _mm_getcsr();
  _mm_setcsr(csr | _MM_FLUSH_ZERO_ON | 0x0040u /* DAZ (_MM_DENORMALS_ZERO_ON, pmmintrin.h) */);
  return csr;
#else
  return 0;
#endif
}
static inline void eng__restore_fp(unsigned int mode) {
#if defined(__SSE2__)
  _mm_setcsr(mode);
#else
  (void) mode;
#endif
}

#endif /* ENG_DSP_INT_H */
