/* eng_synth.c: ENG_NODE_SYNTH, a polyphonic subtractive synth (RT process,
 * state pre-sized for ENG_SYNTH_VOICES voices).
 *
 * Per voice: two oscillators (saw, square: PolyBLEP; triangle; sine) with up
 * to 4 unison copies each (detuned and spread across the stereo field), white
 * noise, a resonant 2-pole state-variable low-pass with its own ADSR (amount
 * in octaves) and key tracking, an amp ADSR and velocity. One LFO per synth
 * modulates pitch and cutoff. Control values (pitch, cutoff, LFO) update
 * every ENG_CONTROL_FRAMES frames and at every event; the level is smoothed
 * per sample. Events are sample-accurate: a note-on at offset N of a chunk
 * starts its envelope on frame N.
 *
 * Voice allocation: a note-on for a key already sounding retriggers that
 * voice; otherwise a free voice among the first `polyphony`; otherwise it
 * steals the quietest releasing voice, else the oldest. A stolen or
 * retriggered voice keeps its oscillator phases and its envelope restarts
 * from its current level, so stealing does not click. */
#include "engine/eng_node_int.h"

#include <string.h>

enum {
  P_OSC1_WAVE,
  P_OSC2_WAVE,
  P_OSC2_SEMI,
  P_OSC2_DETUNE,
  P_OSC1_LEVEL,
  P_OSC2_LEVEL,
  P_NOISE,
  P_CUTOFF,
  P_RESO,
  P_FENV_AMT,
  P_KEYTRACK,
  P_F_A,
  P_F_D,
  P_F_S,
  P_F_R,
  P_A_A,
  P_A_D,
  P_A_S,
  P_A_R,
  P_LFO_RATE,
  P_LFO_WAVE,
  P_LFO_PITCH,
  P_LFO_CUTOFF,
  P_UNISON,
  P_UNI_DETUNE,
  P_UNI_SPREAD,
  P_POLY,
  P_LEVEL,
  N_PARAMS
};

#define B ENG_SMOOTH_BLOCK
#define S ENG_SMOOTH_SAMPLE
#define N ENG_SMOOTH_NONE
static const eng_param_info params[N_PARAMS] = {
    {P_OSC1_WAVE, "osc1_wave:saw|square|triangle|sine", 0, 3, 0, ENG_UNIT_CHOICE, N, 0},
    {P_OSC2_WAVE, "osc2_wave:saw|square|triangle|sine", 0, 3, 1, ENG_UNIT_CHOICE, N, 0},
    {P_OSC2_SEMI, "osc2_semitones", -24, 24, 0, ENG_UNIT_SEMITONES, B, 20},
    {P_OSC2_DETUNE, "osc2_detune", -100, 100, 7, ENG_UNIT_CENTS, B, 20},
    {P_OSC1_LEVEL, "osc1_level", 0, 1, 0.8f, ENG_UNIT_LINEAR, B, 20},
    {P_OSC2_LEVEL, "osc2_level", 0, 1, 0.0f, ENG_UNIT_LINEAR, B, 20},
    {P_NOISE, "noise_level", 0, 1, 0.0f, ENG_UNIT_LINEAR, B, 20},
    {P_CUTOFF, "cutoff", 20, 20000, 2000, ENG_UNIT_HZ, B, 20},
    {P_RESO, "resonance", 0, 1, 0.2f, ENG_UNIT_NONE, B, 20},
    {P_FENV_AMT, "filter_env_amount", -8, 8, 2, ENG_UNIT_OCTAVES, B, 20},
    {P_KEYTRACK, "key_tracking", 0, 1, 0.5f, ENG_UNIT_NONE, B, 20},
    {P_F_A, "filter_attack", 0.1f, 10000, 5, ENG_UNIT_MS, N, 0},
    {P_F_D, "filter_decay", 0.1f, 10000, 300, ENG_UNIT_MS, N, 0},
    {P_F_S, "filter_sustain", 0, 1, 0.3f, ENG_UNIT_NONE, N, 0},
    {P_F_R, "filter_release", 0.1f, 10000, 300, ENG_UNIT_MS, N, 0},
    {P_A_A, "amp_attack", 0.1f, 10000, 5, ENG_UNIT_MS, N, 0},
    {P_A_D, "amp_decay", 0.1f, 10000, 200, ENG_UNIT_MS, N, 0},
    {P_A_S, "amp_sustain", 0, 1, 0.7f, ENG_UNIT_NONE, N, 0},
    {P_A_R, "amp_release", 0.1f, 10000, 200, ENG_UNIT_MS, N, 0},
    {P_LFO_RATE, "lfo_rate", 0.01f, 50, 5, ENG_UNIT_HZ, B, 20},
    {P_LFO_WAVE, "lfo_wave:sine|triangle|saw|square", 0, 3, 0, ENG_UNIT_CHOICE, N, 0},
    {P_LFO_PITCH, "lfo_to_pitch", 0, 12, 0, ENG_UNIT_SEMITONES, B, 20},
    {P_LFO_CUTOFF, "lfo_to_cutoff", 0, 4, 0, ENG_UNIT_OCTAVES, B, 20},
    {P_UNISON, "unison", 1, 4, 1, ENG_UNIT_COUNT, N, 0},
    {P_UNI_DETUNE, "unison_detune", 0, 100, 15, ENG_UNIT_CENTS, B, 20},
    {P_UNI_SPREAD, "unison_spread", 0, 1, 0.5f, ENG_UNIT_NONE, B, 20},
    {P_POLY, "polyphony", 1, ENG_SYNTH_VOICES, 16, ENG_UNIT_COUNT, N, 0},
    {P_LEVEL, "level", 0, 2, 0.5f, ENG_UNIT_LINEAR, S, 20},
};
#undef B
#undef S
#undef N

#define MAX_UNISON 4

typedef struct voice {
  bool active;
  uint8_t key;
  float velocity; /* 0..1 */
  uint32_t age;   /* note-on order, for stealing the oldest */
  eng_adsr amp, fenv;
  eng_svf fl, fr; /* left/right filters (right used only with stereo unison) */
  float ph1[MAX_UNISON], ph2[MAX_UNISON];
  uint32_t rng;
  /* Control-rate cache: exp2f and tanf are the costly part of a control
   * block, and their inputs rarely change between blocks. Each cached value
   * is the same function of the same inputs, so the output is unchanged. */
  bool f0_ok, fl_ok;          /* false after memset: nothing cached */
  float f0_key, f0;           /* f0 = 440 * exp2f(f0_key / 12) */
  float fl_oct, fl_cut, fl_q; /* v->fl = eng_svf_tune(fl_cut * exp2f(fl_oct), fl_q) */
} voice;

typedef struct synth {
  eng_pstate ps; /* must be first */
  float sr;
  uint32_t clock; /* note-on counter */
  float lfo_phase;
  voice voices[ENG_SYNTH_VOICES];
} synth;

static size_t synth_size(uint32_t sr) {
  (void) sr;
  return sizeof(synth);
}

static void synth_init(void *state, uint32_t sr, double beat_frames) {
  (void) beat_frames;
  synth *s = state;
  s->sr = (float) sr;
}

static float pv(synth *s, int id) {
  return s->ps.p[id].cur;
}

static void set_times(synth *s, voice *v) {
  uint32_t sr = (uint32_t) s->sr;
  eng_adsr_times(&v->amp, eng_ms_to_frames(pv(s, P_A_A), sr), eng_ms_to_frames(pv(s, P_A_D), sr),
                 pv(s, P_A_S), eng_ms_to_frames(pv(s, P_A_R), sr));
  eng_adsr_times(&v->fenv, eng_ms_to_frames(pv(s, P_F_A), sr), eng_ms_to_frames(pv(s, P_F_D), sr),
                 pv(s, P_F_S), eng_ms_to_frames(pv(s, P_F_R), sr));
}

static void note_on(synth *s, uint8_t key, uint8_t vel) {
  uint32_t poly = (uint32_t) pv(s, P_POLY);
  voice *v = NULL;
  for (uint32_t i = 0; i < poly && !v; i++)
    if (s->voices[i].active && s->voices[i].key == key) v = &s->voices[i];
  bool fresh = false;
  for (uint32_t i = 0; i < poly && !v; i++)
    if (!s->voices[i].active) v = &s->voices[i], fresh = true;
  if (!v) { /* steal: the quietest releasing voice, else the oldest */
    for (uint32_t i = 0; i < poly; i++) {
      voice *c = &s->voices[i];
      if (c->amp.stage == ENG_ADSR_RELEASE && (!v || c->amp.level < v->amp.level)) v = c;
    }
    if (!v) {
      v = &s->voices[0];
      for (uint32_t i = 1; i < poly; i++)
        if (s->voices[i].age < v->age) v = &s->voices[i];
    }
  }
  if (fresh) {
    memset(v, 0, sizeof *v);
    for (int j = 0; j < MAX_UNISON; j++) /* spread unison phases, deterministically */
      v->ph1[j] = v->ph2[j] = 0.25f * (float) j;
    v->rng = 0x9e3779b9u ^ ((uint32_t) key << 16) ^ s->clock;
    if (!v->rng) v->rng = 1;
  }
  v->active = true;
  v->key = key;
  v->velocity = (float) vel / 127.0f;
  v->age = ++s->clock;
  set_times(s, v);
  eng_adsr_gate(&v->amp, true);
  eng_adsr_gate(&v->fenv, true);
}

static void note_off(synth *s, int key) {
  for (uint32_t i = 0; i < ENG_SYNTH_VOICES; i++) {
    voice *v = &s->voices[i];
    if (v->active && (key < 0 || v->key == key) && v->amp.stage != ENG_ADSR_RELEASE) {
      set_times(s, v);
      eng_adsr_gate(&v->amp, false);
      eng_adsr_gate(&v->fenv, false);
    }
  }
}

static float lfo_value(int wave, float ph) {
  switch (wave) {
    case 1:
      return 4.0f * fabsf(ph - 0.5f) - 1.0f;
    case 2:
      return 2.0f * ph - 1.0f;
    case 3:
      return ph < 0.5f ? 1.0f : -1.0f;
    default:
      return sinf((float) ENG_TWO_PI * ph);
  }
}

/* Control values of one control block, shared by all voices. */
typedef struct ctl {
  int w1, w2, uni;
  float lvl1, lvl2, noise, semi2, ratio2, cutoff, q, fenv_amt, keytrack, lfo, lfo_pitch, lfo_cut;
  float uni_ratio[MAX_UNISON], uni_gl[MAX_UNISON], uni_gr[MAX_UNISON];
  bool stereo;
} ctl;

static inline float wrap(float p) {
  return p >= 1.0f ? p - 1.0f : p;
}

/* Control-rate tuning of voice v: oscillator increments and filter
 * coefficients (cached, see voice). */
static inline void voice_tune(synth *s, voice *v, const ctl *c, float *dt1, float *dt2) {
  float key = (float) v->key - 69.0f + c->lfo * c->lfo_pitch;
  if (!v->f0_ok || key != v->f0_key) {
    v->f0 = 440.0f * exp2f(key / 12.0f);
    v->f0_key = key;
    v->f0_ok = true;
  }
  float f0 = v->f0;
  float f2 = f0 * c->ratio2;
  for (int j = 0; j < c->uni; j++) {
    /* fminf without the libm call (it is not inlined at -O2): the same value,
     * NaN included */
    float d1 = f0 * c->uni_ratio[j] / s->sr, d2 = f2 * c->uni_ratio[j] / s->sr;
    dt1[j] = d1 < 0.45f ? d1 : 0.45f;
    dt2[j] = d2 < 0.45f ? d2 : 0.45f;
  }
  float oct = c->fenv_amt * v->fenv.level + c->lfo * c->lfo_cut +
              c->keytrack * ((float) v->key - 60.0f) / 12.0f;
  if (!v->fl_ok || oct != v->fl_oct || c->cutoff != v->fl_cut || c->q != v->fl_q) {
    eng_svf_tune(&v->fl, c->cutoff * exp2f(oct), c->q, s->sr);
    v->fl_oct = oct, v->fl_cut = c->cutoff, v->fl_q = c->q, v->fl_ok = true;
  }
}

/* Renders frames [a, b) of voice v into L/R (added). Wave selectors are
 * constants in the callers so the compiler can specialise the loop. */
static inline void voice_block(synth *s, voice *v, const ctl *c, float *L, float *R, uint32_t a,
                               uint32_t b, const int w1, const int w2) {
  float dt1[MAX_UNISON], dt2[MAX_UNISON];
  voice_tune(s, v, c, dt1, dt2);
  float g1 = c->lvl1 / (float) c->uni, g2 = c->lvl2 / (float) c->uni;
  float vel = v->velocity;
  if (!c->stereo) {
    /* Sustaining voices (the common case) skip the per-sample envelopes. */
    bool steady = v->amp.stage == ENG_ADSR_SUSTAIN &&
                  (v->fenv.stage == ENG_ADSR_SUSTAIN || v->fenv.stage == ENG_ADSR_IDLE);
    if (steady && c->uni == 1 && g2 == 0.0f && c->noise == 0.0f) {
      float gain = v->amp.level * vel * g1, ph = v->ph1[0], dt = dt1[0];
      for (uint32_t n = a; n < b; n++) {
        float y = eng_svf_lowpass(&v->fl, eng_osc(w1, ph, dt)) * gain;
        ph = wrap(ph + dt);
        L[n] += y;
        R[n] += y;
      }
      v->ph1[0] = ph;
      return;
    }
    for (uint32_t n = a; n < b; n++) {
      float x = 0.0f;
      for (int j = 0; j < c->uni; j++) {
        x += eng_osc(w1, v->ph1[j], dt1[j]);
        v->ph1[j] = wrap(v->ph1[j] + dt1[j]);
      }
      x *= g1;
      if (g2 > 0.0f) {
        float x2 = 0.0f;
        for (int j = 0; j < c->uni; j++) {
          x2 += eng_osc(w2, v->ph2[j], dt2[j]);
          v->ph2[j] = wrap(v->ph2[j] + dt2[j]);
        }
        x += g2 * x2;
      }
      if (c->noise > 0.0f) x += c->noise * eng_noise(&v->rng);
      float y = eng_svf_lowpass(&v->fl, x) * eng_adsr_next(&v->amp) * vel;
      eng_adsr_next(&v->fenv);
      L[n] += y;
      R[n] += y;
    }
  } else {
    v->fr.a1 = v->fl.a1, v->fr.a2 = v->fl.a2, v->fr.a3 = v->fl.a3, v->fr.k = v->fl.k;
    for (uint32_t n = a; n < b; n++) {
      float xl = 0.0f, xr = 0.0f;
      for (int j = 0; j < c->uni; j++) {
        float o = g1 * eng_osc(w1, v->ph1[j], dt1[j]);
        v->ph1[j] = wrap(v->ph1[j] + dt1[j]);
        if (g2 > 0.0f) {
          o += g2 * eng_osc(w2, v->ph2[j], dt2[j]);
          v->ph2[j] = wrap(v->ph2[j] + dt2[j]);
        }
        xl += o * c->uni_gl[j];
        xr += o * c->uni_gr[j];
      }
      if (c->noise > 0.0f) {
        float nz = c->noise * eng_noise(&v->rng);
        xl += nz, xr += nz;
      }
      float env = eng_adsr_next(&v->amp) * vel;
      eng_adsr_next(&v->fenv);
      L[n] += eng_svf_lowpass(&v->fl, xl) * env;
      R[n] += eng_svf_lowpass(&v->fr, xr) * env;
    }
  }
  if (v->amp.stage == ENG_ADSR_IDLE) v->active = false;
}

/* ------------------------------------------------------------------------ */
/* steady saw voices, eight at a time                                       */
/* ------------------------------------------------------------------------ */

/* The common case (one saw per voice, no unison, no osc 2, no noise, mono,
 * envelopes holding) runs across voices instead of along time: the voices'
 * phases, increments, filter states and coefficients are gathered into
 * structure-of-arrays lanes, eight voices per vector, and the control block
 * is rendered sample by sample for all of them at once. Each voice's own
 * arithmetic is a serial recursion (the filter), so one voice at a time is
 * bound by latency; eight lanes times several vectors keep the FPU busy.
 *
 * GCC vector extensions: each operation is the same IEEE single operation per
 * lane whatever the target, so the AVX2 and the SSE2 (baseline) clones of the
 * kernel give bit-identical output (no FMA contraction: ISO C mode). The
 * PolyBLEP correction is computed for every lane and selected with masks (a
 * lane is near its wrap 1-5% of the time: a branch would mispredict). */
typedef float v4f __attribute__((vector_size(16), may_alias));
typedef int32_t v4i __attribute__((vector_size(16), may_alias));
typedef float v8f __attribute__((vector_size(32), may_alias));
typedef int32_t v8i __attribute__((vector_size(32), may_alias));
#define LANES 8 /* lanes per group; the SSE2 kernel runs a group as two halves */

typedef struct saw_lanes {
  _Alignas(32) float ph[ENG_SYNTH_VOICES];  /* phase 0..1 */
  _Alignas(32) float dt[ENG_SYNTH_VOICES];  /* phase increment */
  _Alignas(32) float idt[ENG_SYNTH_VOICES]; /* 1 / increment (0 in unused lanes) */
  _Alignas(32) float ic1[ENG_SYNTH_VOICES]; /* SVF integrator states */
  _Alignas(32) float ic2[ENG_SYNTH_VOICES];
  _Alignas(32) float a1[ENG_SYNTH_VOICES]; /* SVF coefficients */
  _Alignas(32) float a2[ENG_SYNTH_VOICES];
  _Alignas(32) float a3[ENG_SYNTH_VOICES];
  _Alignas(32) float lvl[ENG_SYNTH_VOICES];          /* amp envelope level, per frame += stp */
  _Alignas(32) float stp[ENG_SYNTH_VOICES];          /* amp envelope step (0 when holding) */
  _Alignas(32) float vel[ENG_SYNTH_VOICES];          /* velocity */
  _Alignas(32) float sum[ENG_CONTROL_FRAMES][LANES]; /* per frame, per lane of a group: sums */
  voice *v[ENG_SYNTH_VOICES];                        /* lane -> voice */
  uint32_t n;                                        /* lanes in use */
  float g1;                                          /* osc 1 level, all lanes */
} saw_lanes;

/* One frame for the lanes at `o` (as many as VT holds), added to `acc`: the
 * same operations in the same order as voice_block's general loop with one
 * saw (eng_osc * g1, eng_svf_lowpass, * eng_adsr_next level * velocity),
 * except the PolyBLEP's t / dt, which is t * (1 / dt) here. So a voice moving
 * between the lanes and voice_block keeps its filter state's scale. */
#define SAW_STEP(VT, VI, sl, o, acc)                                                               \
  do {                                                                                             \
    VT t = *(VT *) &(sl)->ph[o], dt = *(VT *) &(sl)->dt[o], idt = *(VT *) &(sl)->idt[o];           \
    VT u1 = t * idt, u2 = (t - 1.0f) * idt;                                                        \
    VT b1 = u1 + u1 - u1 * u1 - 1.0f; /* t < dt */                                                 \
    VT b2 = u2 * u2 + u2 + u2 + 1.0f; /* t > 1 - dt */                                             \
    VI m1 = t < dt, m2 = (t > 1.0f - dt) & ~m1;                                                    \
    VT blep = (VT) (((VI) b1 & m1) | ((VI) b2 & m2));                                              \
    VT x = ((t + t) - 1.0f - blep) * (sl)->g1;                                                     \
    VT ic1 = *(VT *) &(sl)->ic1[o], ic2 = *(VT *) &(sl)->ic2[o], a2 = *(VT *) &(sl)->a2[o];        \
    VT v3 = x - ic2;                                                                               \
    VT v1 = *(VT *) &(sl)->a1[o] * ic1 + a2 * v3;                                                  \
    VT v2 = ic2 + a2 * ic1 + *(VT *) &(sl)->a3[o] * v3;                                            \
    *(VT *) &(sl)->ic1[o] = (v1 + v1) - ic1;                                                       \
    *(VT *) &(sl)->ic2[o] = (v2 + v2) - ic2;                                                       \
    VT lvl = *(VT *) &(sl)->lvl[o] + *(VT *) &(sl)->stp[o];                                        \
    *(VT *) &(sl)->lvl[o] = lvl;                                                                   \
    (acc) += v2 * lvl * *(VT *) &(sl)->vel[o];                                                     \
    t += dt;                                                                                       \
    *(VT *) &(sl)->ph[o] = t - (VT) ((VI) ((VT){0} + 1.0f) & (t >= 1.0f));                         \
  } while (0)

/* Renders `frames` (<= ENG_CONTROL_FRAMES) for groups [0, ng) into sl->sum.
 * Two builds of one step: SSE2 (the x86-64 baseline, a group as two 4-lane
 * halves) and AVX2 (one 8-lane vector), picked per call by the CPU. Lane for
 * lane they do the same IEEE single operations (no FMA: ISO C mode, no
 * contraction), and both sum a group's lanes in 8 per-lane accumulators, so
 * their output is bit-identical. */
static void saw_lanes_run_sse2(saw_lanes *sl, uint32_t ng, uint32_t frames) {
  for (uint32_t i = 0; i < frames; i++) {
    v4f lo = {0}, hi = {0};
    for (uint32_t k = 0; k < ng; k++) {
      SAW_STEP(v4f, v4i, sl, LANES * k, lo);
      SAW_STEP(v4f, v4i, sl, LANES * k + 4, hi);
    }
    *(v4f *) &sl->sum[i][0] = lo;
    *(v4f *) &sl->sum[i][4] = hi;
  }
}
#if defined(__x86_64__) && defined(__GNUC__)
#define HAVE_AVX2_KERNEL 1
__attribute__((target("avx2"))) static void saw_lanes_run_avx2(saw_lanes *sl, uint32_t ng,
                                                               uint32_t frames) {
  for (uint32_t i = 0; i < frames; i++) {
    v8f acc = {0};
    for (uint32_t k = 0; k < ng; k++)
      SAW_STEP(v8f, v8i, sl, LANES * k, acc);
    *(v8f *) &sl->sum[i][0] = acc;
  }
}
#endif

bool eng__synth_baseline_only = false;

/* Adds voice v (tuned, increment dt) to the lanes. */
static void saw_lanes_add(saw_lanes *sl, voice *v, float dt) {
  uint32_t l = sl->n++;
  sl->v[l] = v;
  sl->ph[l] = v->ph1[0], sl->dt[l] = dt, sl->idt[l] = 1.0f / dt;
  sl->ic1[l] = v->fl.ic1, sl->ic2[l] = v->fl.ic2;
  sl->a1[l] = v->fl.a1, sl->a2[l] = v->fl.a2, sl->a3[l] = v->fl.a3;
  /* Like eng_adsr_next: each frame adds the step, then uses the level. */
  sl->lvl[l] = v->amp.level;
  sl->stp[l] = v->amp.stage == ENG_ADSR_SUSTAIN ? 0.0f : v->amp.step;
  sl->vel[l] = v->velocity;
}

/* Renders frames [a, b) of the gathered voices into L/R (added) and hands
 * their states back. Unused lanes of the last group are silent. */
static void saw_lanes_flush(saw_lanes *sl, float *L, float *R, uint32_t a, uint32_t b) {
  if (!sl->n) return;
  uint32_t ng = (sl->n + LANES - 1) / LANES;
  for (uint32_t l = sl->n; l < ng * LANES; l++) {
    sl->ph[l] = 0.5f, sl->dt[l] = sl->idt[l] = 0.0f;
    sl->ic1[l] = sl->ic2[l] = 0.0f;
    sl->a1[l] = sl->a2[l] = sl->a3[l] = 0.0f;
    sl->lvl[l] = sl->stp[l] = sl->vel[l] = 0.0f;
  }
  for (uint32_t p = a; p < b; p += ENG_CONTROL_FRAMES) { /* sl->sum holds a control block */
    uint32_t q = b - p < ENG_CONTROL_FRAMES ? b : p + ENG_CONTROL_FRAMES;
#ifdef HAVE_AVX2_KERNEL
    if (!eng__synth_baseline_only && __builtin_cpu_supports("avx2"))
      saw_lanes_run_avx2(sl, ng, q - p);
    else
#endif
      saw_lanes_run_sse2(sl, ng, q - p);
    for (uint32_t i = p; i < q; i++) {
      const float *x = sl->sum[i - p];
      float y = ((x[0] + x[4]) + (x[1] + x[5])) + ((x[2] + x[6]) + (x[3] + x[7]));
      L[i] += y;
      R[i] += y;
    }
  }
  uint32_t frames = b - a;
  for (uint32_t l = 0; l < sl->n; l++) {
    voice *v = sl->v[l];
    v->ph1[0] = sl->ph[l];
    v->fl.ic1 = sl->ic1[l], v->fl.ic2 = sl->ic2[l];
    /* Envelopes: no segment ends inside the block (saw_lanes_takes), so
     * eng_adsr_next would only have added the step `frames` times. */
    if (v->amp.stage != ENG_ADSR_SUSTAIN) {
      v->amp.level = sl->lvl[l];
      v->amp.left -= frames;
    }
    if (v->fenv.stage != ENG_ADSR_SUSTAIN && v->fenv.stage != ENG_ADSR_IDLE) {
      float lv = v->fenv.level, st = v->fenv.step;
      for (uint32_t i = 0; i < frames; i++)
        lv += st;
      v->fenv.level = lv;
      v->fenv.left -= frames;
    }
  }
  sl->n = 0;
}

/* Whether envelope e runs `frames` frames without reaching the end of a
 * segment (eng_adsr_next ends one when `left` counts down to 0). */
static inline bool adsr_plain(const eng_adsr *e, uint32_t frames) {
  return e->stage == ENG_ADSR_SUSTAIN || (e->stage != ENG_ADSR_IDLE && e->left > frames);
}

/* Whether the lanes can render voice v for `frames` frames (the synth-wide
 * conditions aside): its envelopes hold or ramp without a segment change. */
static inline bool saw_lanes_takes(const voice *v, uint32_t frames) {
  return adsr_plain(&v->amp, frames) &&
         (v->fenv.stage == ENG_ADSR_IDLE || adsr_plain(&v->fenv, frames));
}

static void render(synth *s, const ctl *c, float *L, float *R, uint32_t a, uint32_t b) {
  /* Voices the lanes can take: see saw_lanes. */
  bool lanes =
      c->w1 == ENG_WAVE_SAW && !c->stereo && c->uni == 1 && c->lvl2 == 0.0f && c->noise == 0.0f;
  saw_lanes sl;
  sl.n = 0;
  sl.g1 = c->lvl1; /* / c->uni, which is 1 here */
  for (uint32_t i = 0; i < ENG_SYNTH_VOICES; i++) {
    voice *v = &s->voices[i];
    if (!v->active) continue;
    if (lanes && saw_lanes_takes(v, b - a)) {
      float dt1[MAX_UNISON], dt2[MAX_UNISON];
      voice_tune(s, v, c, dt1, dt2);
      saw_lanes_add(&sl, v, dt1[0]);
      continue;
    }
    /* Specialise the common single-wave cases; others take the generic path. */
    if (c->w1 == ENG_WAVE_SAW && c->w2 == ENG_WAVE_SQUARE)
      voice_block(s, v, c, L, R, a, b, ENG_WAVE_SAW, ENG_WAVE_SQUARE);
    else if (c->w1 == ENG_WAVE_SAW)
      voice_block(s, v, c, L, R, a, b, ENG_WAVE_SAW, c->w2);
    else
      voice_block(s, v, c, L, R, a, b, c->w1, c->w2);
  }
  saw_lanes_flush(&sl, L, R, a, b);
}

static void control(synth *s, ctl *c, uint32_t frames) {
  for (int i = 0; i < N_PARAMS; i++)
    if (params[i].smoothing == ENG_SMOOTH_BLOCK) eng_smooth_skip(&s->ps.p[i], frames);
  c->w1 = (int) pv(s, P_OSC1_WAVE);
  c->w2 = (int) pv(s, P_OSC2_WAVE);
  c->uni = (int) pv(s, P_UNISON);
  c->lvl1 = pv(s, P_OSC1_LEVEL);
  c->lvl2 = pv(s, P_OSC2_LEVEL);
  c->noise = pv(s, P_NOISE);
  c->semi2 = pv(s, P_OSC2_SEMI) + pv(s, P_OSC2_DETUNE) / 100.0f;
  c->ratio2 = exp2f(c->semi2 / 12.0f);
  c->cutoff = pv(s, P_CUTOFF);
  float res = pv(s, P_RESO);
  c->q = 0.5f + res * res * 19.5f;
  c->fenv_amt = pv(s, P_FENV_AMT);
  c->keytrack = pv(s, P_KEYTRACK);
  c->lfo_pitch = pv(s, P_LFO_PITCH);
  c->lfo_cut = pv(s, P_LFO_CUTOFF);
  c->lfo = lfo_value((int) pv(s, P_LFO_WAVE), s->lfo_phase);
  s->lfo_phase += pv(s, P_LFO_RATE) * (float) frames / s->sr;
  s->lfo_phase -= floorf(s->lfo_phase);
  float det = pv(s, P_UNI_DETUNE), spread = pv(s, P_UNI_SPREAD);
  c->stereo = c->uni > 1 && spread > 0.0f;
  for (int j = 0; j < c->uni; j++) {
    float x = c->uni > 1 ? 2.0f * (float) j / (float) (c->uni - 1) - 1.0f : 0.0f; /* -1..1 */
    c->uni_ratio[j] = exp2f(det * x / 1200.0f);
    float pan = spread * x;
    c->uni_gl[j] = sqrtf(1.0f - pan);
    c->uni_gr[j] = sqrtf(1.0f + pan);
  }
}

/* Whether control blocks until the next event would all compute the same
 * values as this one: no block-rate parameter gliding, no LFO routed, and
 * the filter envelope either not routed or holding in every voice. Then a
 * span of several blocks renders as one (the per-voice control work, and
 * gathering the saw lanes, happen once), which gives the same samples but
 * for rounding (the LFO phase then advances in one step: it is unheard until
 * routed, and only its rounding differs). */
static bool steady_control(const synth *s) {
  for (int i = 0; i < N_PARAMS; i++)
    if (params[i].smoothing == ENG_SMOOTH_BLOCK && eng_smooth_moving(&s->ps.p[i])) return false;
  if (s->ps.p[P_LFO_PITCH].cur != 0.0f || s->ps.p[P_LFO_CUTOFF].cur != 0.0f) return false;
  if (s->ps.p[P_FENV_AMT].cur != 0.0f)
    for (uint32_t i = 0; i < ENG_SYNTH_VOICES; i++) {
      const voice *v = &s->voices[i];
      if (v->active && v->fenv.stage != ENG_ADSR_SUSTAIN && v->fenv.stage != ENG_ADSR_IDLE)
        return false;
    }
  return true;
}

static void synth_process(eng_plan_node *node, eng_run *r) {
  synth *s = node->state;
  float *L = eng__buf(r, node->out), *R = L + ENG_CHUNK;
  memset(L, 0, r->n * sizeof(float));
  memset(R, 0, r->n * sizeof(float));
  ctl c;
  uint32_t a = 0, e = 0;
  while (a < r->n) {
    while (e < r->n_events && r->events[e].offset <= a) {
      const eng_event *ev = &r->events[e++];
      if (ev->kind == ENG_EV_NOTE_ON)
        note_on(s, ev->key, ev->velocity);
      else if (ev->kind == ENG_EV_NOTE_OFF)
        note_off(s, ev->key);
      else
        note_off(s, -1);
    }
    uint32_t b = a + ENG_CONTROL_FRAMES - a % ENG_CONTROL_FRAMES;
    if (b > r->n) b = r->n;
    uint32_t next = e < r->n_events ? r->events[e].offset : r->n;
    if (next < b)
      b = next;
    else if (steady_control(s))
      b = next; /* nothing would change at the control-block boundaries: run on */
    control(s, &c, b - a);
    render(s, &c, L, R, a, b);
    a = b;
  }
  eng_smooth *lv = &s->ps.p[P_LEVEL];
  for (uint32_t n = 0; n < r->n; n++) {
    float g = eng_smooth_next(lv);
    L[n] *= g;
    R[n] *= g;
  }
}

const eng_node_class eng__synth_class = {.kind = ENG_NODE_SYNTH,
                                         .name = "synth",
                                         .params = params,
                                         .n_params = N_PARAMS,
                                         .instrument = true,
                                         .deterministic = true,
                                         .state_size = synth_size,
                                         .init = synth_init,
                                         .process = synth_process};
