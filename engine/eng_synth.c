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
  float lvl1, lvl2, noise, semi2, cutoff, q, fenv_amt, keytrack, lfo, lfo_pitch, lfo_cut;
  float uni_ratio[MAX_UNISON], uni_gl[MAX_UNISON], uni_gr[MAX_UNISON];
  bool stereo;
} ctl;

static inline float wrap(float p) {
  return p >= 1.0f ? p - 1.0f : p;
}

/* Renders frames [a, b) of voice v into L/R (added). Wave selectors are
 * constants in the callers so the compiler can specialise the loop. */
static inline void voice_block(synth *s, voice *v, const ctl *c, float *L, float *R, uint32_t a,
                               uint32_t b, const int w1, const int w2) {
  float key = (float) v->key - 69.0f + c->lfo * c->lfo_pitch;
  float f0 = 440.0f * exp2f(key / 12.0f);
  float dt1[MAX_UNISON], dt2[MAX_UNISON];
  float f2 = f0 * exp2f(c->semi2 / 12.0f);
  for (int j = 0; j < c->uni; j++) {
    dt1[j] = fminf(f0 * c->uni_ratio[j] / s->sr, 0.45f);
    dt2[j] = fminf(f2 * c->uni_ratio[j] / s->sr, 0.45f);
  }
  float oct = c->fenv_amt * v->fenv.level + c->lfo * c->lfo_cut +
              c->keytrack * ((float) v->key - 60.0f) / 12.0f;
  float fc = c->cutoff * exp2f(oct);
  eng_svf_tune(&v->fl, fc, c->q, s->sr);
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

static void render(synth *s, const ctl *c, float *L, float *R, uint32_t a, uint32_t b) {
  for (uint32_t i = 0; i < ENG_SYNTH_VOICES; i++) {
    voice *v = &s->voices[i];
    if (!v->active) continue;
    /* Specialise the common single-wave cases; others take the generic path. */
    if (c->w1 == ENG_WAVE_SAW && c->w2 == ENG_WAVE_SQUARE)
      voice_block(s, v, c, L, R, a, b, ENG_WAVE_SAW, ENG_WAVE_SQUARE);
    else if (c->w1 == ENG_WAVE_SAW)
      voice_block(s, v, c, L, R, a, b, ENG_WAVE_SAW, c->w2);
    else
      voice_block(s, v, c, L, R, a, b, c->w1, c->w2);
  }
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
    if (e < r->n_events && r->events[e].offset < b) b = r->events[e].offset;
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
