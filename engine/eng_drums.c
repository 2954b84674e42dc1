/* eng_drums.c: ENG_NODE_DRUMS, a synthesised drum kit (RT process; one
 * voice per piece, pre-sized).
 *
 * Keys (General MIDI): 36 kick, 38 snare, 39 clap, 42 closed hat, 46 open
 * hat, 45/47/50 low/mid/high tom; others are ignored. A hit restarts its
 * piece on the exact frame of the event; the closed hat chokes the open hat.
 * Kick and toms: a cosine (so the hit is non-zero on its first frame) with a
 * falling pitch envelope. Snare: tone plus high-passed noise. Hats:
 * high-passed noise. Clap: three 10 ms band-passed noise bursts and a tail.
 * Decay times are to -60 dB. Noise is a seeded xorshift: renders repeat. */
#include "engine/eng_node_int.h"

#include <string.h>

enum {
  P_LEVEL,
  P_KICK_TUNE,
  P_KICK_DECAY,
  P_KICK_PUNCH,
  P_SNARE_TUNE,
  P_SNARE_DECAY,
  P_SNARE_NOISE,
  P_CLAP_DECAY,
  P_HAT_DECAY,
  P_OHAT_DECAY,
  P_HAT_TONE,
  P_TOM_TUNE,
  P_TOM_DECAY,
  N_PARAMS
};

#define N ENG_SMOOTH_NONE
static const eng_param_info params[N_PARAMS] = {
    {P_LEVEL, "level", 0, 2, 0.8f, ENG_UNIT_LINEAR, ENG_SMOOTH_SAMPLE, 20},
    {P_KICK_TUNE, "kick_tune", 30, 120, 50, ENG_UNIT_HZ, N, 0},
    {P_KICK_DECAY, "kick_decay", 50, 2000, 450, ENG_UNIT_MS, N, 0},
    {P_KICK_PUNCH, "kick_punch", 0, 1, 0.6f, ENG_UNIT_NONE, N, 0},
    {P_SNARE_TUNE, "snare_tune", 100, 400, 185, ENG_UNIT_HZ, N, 0},
    {P_SNARE_DECAY, "snare_decay", 50, 1000, 220, ENG_UNIT_MS, N, 0},
    {P_SNARE_NOISE, "snare_noise", 0, 1, 0.6f, ENG_UNIT_NONE, N, 0},
    {P_CLAP_DECAY, "clap_decay", 50, 1000, 250, ENG_UNIT_MS, N, 0},
    {P_HAT_DECAY, "hat_decay", 10, 500, 60, ENG_UNIT_MS, N, 0},
    {P_OHAT_DECAY, "open_hat_decay", 50, 2000, 450, ENG_UNIT_MS, N, 0},
    {P_HAT_TONE, "hat_tone", 3000, 14000, 7000, ENG_UNIT_HZ, N, 0},
    {P_TOM_TUNE, "tom_tune", 0.5f, 2, 1, ENG_UNIT_RATIO, N, 0},
    {P_TOM_DECAY, "tom_decay", 50, 2000, 380, ENG_UNIT_MS, N, 0},
};
#undef N

typedef enum { KICK, SNARE, CLAP, HAT, OHAT, TOM_L, TOM_M, TOM_H, N_PIECES } piece;

typedef struct dvoice {
  bool active;
  uint32_t t;        /* frames since the hit */
  float vel;         /* 0..1 */
  float env, dec;    /* amplitude and per-frame decay factor */
  float env2, dec2;  /* second envelope (snare tone, pitch drop) */
  float freq, phase; /* oscillator */
  eng_biquad bq;     /* noise shaping */
  eng_bq_state z;
} dvoice;

typedef struct drums {
  eng_pstate ps; /* must be first */
  float sr;
  uint32_t rng;
  dvoice v[N_PIECES];
} drums;

static size_t drums_size(uint32_t sr) {
  (void) sr;
  return sizeof(drums);
}

static void drums_init(void *state, uint32_t sr, double beat_frames) {
  (void) beat_frames;
  drums *d = state;
  d->sr = (float) sr;
  d->rng = 0x2545f491u;
}

/* Per-frame factor that decays to -60 dB in ms milliseconds. */
static float decay_factor(float ms, float sr) {
  return expf(-6.907755f / (ms * 0.001f * sr));
}

static int piece_of(uint8_t key) {
  switch (key) {
    case ENG_DRUM_KICK:
      return KICK;
    case ENG_DRUM_SNARE:
      return SNARE;
    case ENG_DRUM_CLAP:
      return CLAP;
    case ENG_DRUM_HAT:
      return HAT;
    case ENG_DRUM_OPEN_HAT:
      return OHAT;
    case ENG_DRUM_TOM_LOW:
      return TOM_L;
    case ENG_DRUM_TOM_MID:
      return TOM_M;
    case ENG_DRUM_TOM_HIGH:
      return TOM_H;
  }
  return -1;
}

static void hit(drums *d, uint8_t key, uint8_t vel) {
  int pc = piece_of(key);
  if (pc < 0) return;
  float sr = d->sr;
  const eng_smooth *p = d->ps.p;
  dvoice *v = &d->v[pc];
  memset(v, 0, sizeof *v);
  v->active = true;
  v->vel = (float) vel / 127.0f;
  v->env = 1.0f;
  switch (pc) {
    case KICK:
      v->dec = decay_factor(p[P_KICK_DECAY].cur, sr);
      v->freq = p[P_KICK_TUNE].cur;
      v->env2 = p[P_KICK_PUNCH].cur * 4.0f; /* pitch multiplier above the base */
      v->dec2 = decay_factor(60.0f, sr);
      break;
    case SNARE:
      v->dec = decay_factor(p[P_SNARE_DECAY].cur, sr);
      v->freq = p[P_SNARE_TUNE].cur;
      v->env2 = 1.0f;
      v->dec2 = decay_factor(p[P_SNARE_DECAY].cur * 0.5f, sr);
      eng_biquad_design(&v->bq, ENG_BQ_HIGHPASS, 1200.0, 0.7, 0.0, sr);
      break;
    case CLAP:
      v->dec = decay_factor(p[P_CLAP_DECAY].cur, sr);
      eng_biquad_design(&v->bq, ENG_BQ_BANDPASS, 1200.0, 1.5, 0.0, sr);
      break;
    case HAT:
    case OHAT:
      if (pc == HAT) d->v[OHAT].active = false; /* choke */
      v->dec = decay_factor(pc == HAT ? p[P_HAT_DECAY].cur : p[P_OHAT_DECAY].cur, sr);
      eng_biquad_design(&v->bq, ENG_BQ_HIGHPASS, p[P_HAT_TONE].cur, 0.9, 0.0, sr);
      break;
    default: { /* toms */
      static const float base[3] = {90.0f, 130.0f, 180.0f};
      v->dec = decay_factor(p[P_TOM_DECAY].cur, sr);
      v->freq = base[pc - TOM_L] * p[P_TOM_TUNE].cur;
      v->env2 = 0.6f;
      v->dec2 = decay_factor(150.0f, sr);
      break;
    }
  }
}

/* One frame of piece pc. */
static float voice_tick(drums *d, int pc, dvoice *v) {
  float sr = d->sr, y;
  switch (pc) {
    case KICK:
    case TOM_L:
    case TOM_M:
    case TOM_H: {
      y = cosf((float) ENG_TWO_PI * v->phase) * v->env;
      v->phase += v->freq * (1.0f + v->env2) / sr;
      v->phase -= floorf(v->phase);
      v->env2 *= v->dec2;
      break;
    }
    case SNARE: {
      float tone = cosf((float) ENG_TWO_PI * v->phase) * v->env2;
      v->phase += v->freq / sr;
      v->phase -= floorf(v->phase);
      v->env2 *= v->dec2;
      float mix = d->ps.p[P_SNARE_NOISE].cur;
      float nz = eng_biquad_run(&v->bq, &v->z, eng_noise(&d->rng)) * v->env;
      y = (1.0f - mix) * tone + mix * 1.5f * nz;
      break;
    }
    case CLAP: {
      uint32_t burst = (uint32_t) (0.010f * sr);
      float e = v->t < 3 * burst ? expf(-(float) (v->t % burst) / (0.002f * sr)) : v->env;
      if (v->t >= 3 * burst) v->env *= v->dec;
      y = 2.0f * eng_biquad_run(&v->bq, &v->z, eng_noise(&d->rng)) * e;
      if (v->t < 3 * burst) return y * v->vel; /* the tail starts after the bursts */
      break;
    }
    default: /* hats */
      y = eng_biquad_run(&v->bq, &v->z, eng_noise(&d->rng)) * v->env;
      break;
  }
  if (pc != CLAP) v->env *= v->dec;
  if (v->env < 1e-4f) v->active = false;
  return y * v->vel;
}

static void drums_process(eng_plan_node *node, eng_run *r) {
  drums *d = node->state;
  float *L = eng__buf(r, node->out), *R = L + ENG_CHUNK;
  uint32_t e = 0;
  for (uint32_t n = 0; n < r->n; n++) {
    while (e < r->n_events && r->events[e].offset <= n) {
      const eng_event *ev = &r->events[e++];
      if (ev->kind == ENG_EV_NOTE_ON) hit(d, ev->key, ev->velocity);
      /* note-offs and all-off: drums ring out (one-shots) */
    }
    float y = 0.0f;
    for (int pc = 0; pc < N_PIECES; pc++)
      if (d->v[pc].active) {
        y += voice_tick(d, pc, &d->v[pc]);
        d->v[pc].t++;
      }
    y *= eng_smooth_next(&d->ps.p[P_LEVEL]);
    L[n] = R[n] = y;
  }
}

const eng_node_class eng__drums_class = {.kind = ENG_NODE_DRUMS,
                                         .name = "drums",
                                         .params = params,
                                         .n_params = N_PARAMS,
                                         .instrument = true,
                                         .deterministic = true,
                                         .state_size = drums_size,
                                         .init = drums_init,
                                         .process = drums_process};
