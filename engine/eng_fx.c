/* eng_fx.c: the effect nodes (RT process; all state pre-sized in the plan's
 * arena): gain, parametric EQ, compressor, gate, saturator, tempo-synced
 * delay, reverb, chorus, limiter. Effects process their track's stereo
 * buffer in place. Parameters are smoothed as their tables say. */
#include "engine/eng_node_int.h"

#include <string.h>

#define S ENG_SMOOTH_SAMPLE
#define B ENG_SMOOTH_BLOCK
#define N ENG_SMOOTH_NONE

static float pv(void *state, int id) {
  return ((eng_pstate *) state)->p[id].cur;
}
static float pnext(void *state, int id) {
  return eng_smooth_next(&((eng_pstate *) state)->p[id]);
}
static float pskip(void *state, int id, uint32_t n) {
  return eng_smooth_skip(&((eng_pstate *) state)->p[id], n);
}
static size_t pstate_size(uint32_t sr) {
  (void) sr;
  return sizeof(eng_pstate);
}

/* Frame-to-frame one-pole coefficient for a time constant in ms. */
static float tc_coef(float ms, float sr) {
  return expf(-1.0f / (fmaxf(ms, 0.001f) * 0.001f * sr));
}

/* ======================================================================== */
/* gain                                                                     */
/* ======================================================================== */

static const eng_param_info gain_params[] = {
    {0, "gain", 0, 4, 1, ENG_UNIT_LINEAR, S, 20},
};

static void gain_process(eng_plan_node *node, eng_run *r) {
  float *L = eng__buf(r, node->out), *R = L + ENG_CHUNK;
  for (uint32_t n = 0; n < r->n; n++) {
    float g = pnext(node->state, 0);
    L[n] *= g;
    R[n] *= g;
  }
}

const eng_node_class eng__gain_class = {.kind = ENG_NODE_GAIN,
                                        .name = "gain",
                                        .params = gain_params,
                                        .n_params = 1,
                                        .deterministic = true,
                                        .state_size = pstate_size,
                                        .process = gain_process};

/* ======================================================================== */
/* EQ: low shelf, two peaks, high shelf (RBJ cookbook)                      */
/* ======================================================================== */

static const eng_param_info eq_params[] = {
    {0, "low_freq", 20, 2000, 100, ENG_UNIT_HZ, B, 30},
    {1, "low_gain", -24, 24, 0, ENG_UNIT_DB, B, 30},
    {2, "low_q", 0.1f, 4, 0.707f, ENG_UNIT_NONE, B, 30},
    {3, "mid1_freq", 20, 20000, 500, ENG_UNIT_HZ, B, 30},
    {4, "mid1_gain", -24, 24, 0, ENG_UNIT_DB, B, 30},
    {5, "mid1_q", 0.1f, 18, 1, ENG_UNIT_NONE, B, 30},
    {6, "mid2_freq", 20, 20000, 2500, ENG_UNIT_HZ, B, 30},
    {7, "mid2_gain", -24, 24, 0, ENG_UNIT_DB, B, 30},
    {8, "mid2_q", 0.1f, 18, 1, ENG_UNIT_NONE, B, 30},
    {9, "high_freq", 1000, 20000, 8000, ENG_UNIT_HZ, B, 30},
    {10, "high_gain", -24, 24, 0, ENG_UNIT_DB, B, 30},
    {11, "high_q", 0.1f, 4, 0.707f, ENG_UNIT_NONE, B, 30},
};

typedef struct eq {
  eng_pstate ps;
  float sr;
  bool dirty;
  eng_biquad c[4];
  bool on[4]; /* a band at 0 dB is the identity: skipped */
  eng_bq_state z[4][2];
} eq;

static size_t eq_size(uint32_t sr) {
  (void) sr;
  return sizeof(eq);
}

static void eq_design(eq *q) {
  static const int type[4] = {ENG_BQ_LOWSHELF, ENG_BQ_PEAK, ENG_BQ_PEAK, ENG_BQ_HIGHSHELF};
  for (int b = 0; b < 4; b++) {
    float f = pv(q, 3 * b), g = pv(q, 3 * b + 1), qq = pv(q, 3 * b + 2);
    q->on[b] = g != 0.0f;
    f = fminf(f, 0.49f * q->sr);
    if (q->on[b]) eng_biquad_design(&q->c[b], type[b], f, qq, g, q->sr);
  }
}

static void eq_init(void *state, uint32_t sr, double beat_frames) {
  (void) beat_frames;
  eq *q = state;
  q->sr = (float) sr;
  eq_design(q);
}

static void eq_adopt(void *state, const void *fresh) {
  (void) fresh;
  eq_design(state); /* targets changed without a ramp (equal values) keep on[] right too */
}

static void eq_process(eng_plan_node *node, eng_run *r) {
  eq *q = node->state;
  float *L = eng__buf(r, node->out), *R = L + ENG_CHUNK;
  for (uint32_t a = 0; a < r->n; a += ENG_CONTROL_FRAMES) {
    uint32_t b = a + ENG_CONTROL_FRAMES < r->n ? a + ENG_CONTROL_FRAMES : r->n;
    bool moving = false;
    for (int i = 0; i < 12; i++)
      if (eng_smooth_moving(&q->ps.p[i])) moving = true, pskip(q, i, b - a);
    if (moving) eq_design(q);
    for (int k = 0; k < 4; k++) {
      if (!q->on[k]) continue;
      for (uint32_t n = a; n < b; n++) {
        L[n] = eng_biquad_run(&q->c[k], &q->z[k][0], L[n]);
        R[n] = eng_biquad_run(&q->c[k], &q->z[k][1], R[n]);
      }
    }
  }
}

const eng_node_class eng__eq_class = {.kind = ENG_NODE_EQ,
                                      .name = "eq",
                                      .params = eq_params,
                                      .n_params = 12,
                                      .deterministic = true,
                                      .state_size = eq_size,
                                      .init = eq_init,
                                      .process = eq_process,
                                      .adopt = eq_adopt};

/* ======================================================================== */
/* compressor: feed-forward, peak detector, gain smoothing in dB            */
/* ======================================================================== */

enum { C_THRESH, C_RATIO, C_ATTACK, C_RELEASE, C_KNEE, C_MAKEUP, C_N };
static const eng_param_info comp_params[] = {
    {C_THRESH, "threshold", -60, 0, -20, ENG_UNIT_DB, S, 20},
    {C_RATIO, "ratio", 1, 30, 4, ENG_UNIT_RATIO, S, 20},
    {C_ATTACK, "attack", 0.01f, 500, 10, ENG_UNIT_MS, N, 0},
    {C_RELEASE, "release", 1, 5000, 100, ENG_UNIT_MS, N, 0},
    {C_KNEE, "knee", 0, 24, 0, ENG_UNIT_DB, N, 0},
    {C_MAKEUP, "makeup", -24, 24, 0, ENG_UNIT_DB, S, 20},
};

typedef struct comp {
  eng_pstate ps;
  float sr;
  float gr_db; /* smoothed gain reduction, dB >= 0 */
} comp;

static size_t comp_size(uint32_t sr) {
  (void) sr;
  return sizeof(comp);
}
static void comp_init(void *state, uint32_t sr, double beat_frames) {
  (void) beat_frames;
  ((comp *) state)->sr = (float) sr;
}

/* Static gain computer: dB of reduction for a level over the threshold. */
static float comp_curve(float over, float ratio, float knee) {
  float slope = 1.0f - 1.0f / ratio;
  if (knee > 0.0f && over > -knee / 2 && over < knee / 2) {
    float x = over + knee / 2;
    return slope * x * x / (2.0f * knee);
  }
  return over > 0.0f ? slope * over : 0.0f;
}

static void comp_process(eng_plan_node *node, eng_run *r) {
  comp *c = node->state;
  float *L = eng__buf(r, node->out), *R = L + ENG_CHUNK;
  const float *KL = node->side != ENG_NO_BUF ? eng__buf(r, node->side) : L;
  const float *KR = KL + ENG_CHUNK;
  float att = tc_coef(pv(c, C_ATTACK), c->sr), rel = tc_coef(pv(c, C_RELEASE), c->sr);
  float knee = pv(c, C_KNEE);
  for (uint32_t n = 0; n < r->n; n++) {
    float thr = pnext(c, C_THRESH), ratio = pnext(c, C_RATIO), mk = pnext(c, C_MAKEUP);
    float lvl = fmaxf(fabsf(KL[n]), fabsf(KR[n]));
    float want = comp_curve(eng_lin_to_db(lvl) - thr, ratio, knee);
    float k = want > c->gr_db ? att : rel;
    c->gr_db = want + k * (c->gr_db - want);
    float g = eng_db_to_lin(mk - c->gr_db);
    L[n] *= g;
    R[n] *= g;
  }
}

const eng_node_class eng__comp_class = {.kind = ENG_NODE_COMPRESSOR,
                                        .name = "compressor",
                                        .params = comp_params,
                                        .n_params = C_N,
                                        .sidechain = true,
                                        .deterministic = true,
                                        .state_size = comp_size,
                                        .init = comp_init,
                                        .process = comp_process};

/* ======================================================================== */
/* gate                                                                     */
/* ======================================================================== */

enum { G_THRESH, G_ATTACK, G_HOLD, G_RELEASE, G_RANGE, G_N };
static const eng_param_info gate_params[] = {
    {G_THRESH, "threshold", -80, 0, -40, ENG_UNIT_DB, S, 20},
    {G_ATTACK, "attack", 0.01f, 100, 1, ENG_UNIT_MS, N, 0},
    {G_HOLD, "hold", 0, 1000, 20, ENG_UNIT_MS, N, 0},
    {G_RELEASE, "release", 1, 5000, 100, ENG_UNIT_MS, N, 0},
    {G_RANGE, "range", -80, 0, -80, ENG_UNIT_DB, S, 20},
};

typedef struct gate {
  eng_pstate ps;
  float sr;
  float gain;    /* current linear gain */
  uint32_t held; /* frames since the key was last above the threshold */
} gate;

static size_t gate_size(uint32_t sr) {
  (void) sr;
  return sizeof(gate);
}
static void gate_init(void *state, uint32_t sr, double beat_frames) {
  (void) beat_frames;
  gate *g = state;
  g->sr = (float) sr;
  g->held = UINT32_MAX / 2;
  g->gain = eng_db_to_lin(pv(g, G_RANGE));
}

static void gate_process(eng_plan_node *node, eng_run *r) {
  gate *g = node->state;
  float *L = eng__buf(r, node->out), *R = L + ENG_CHUNK;
  const float *KL = node->side != ENG_NO_BUF ? eng__buf(r, node->side) : L;
  const float *KR = KL + ENG_CHUNK;
  float att = tc_coef(pv(g, G_ATTACK), g->sr), rel = tc_coef(pv(g, G_RELEASE), g->sr);
  uint32_t hold = eng_ms_to_frames(pv(g, G_HOLD), (uint32_t) g->sr);
  for (uint32_t n = 0; n < r->n; n++) {
    float thr = eng_db_to_lin(pnext(g, G_THRESH)), floor_g = eng_db_to_lin(pnext(g, G_RANGE));
    if (fmaxf(fabsf(KL[n]), fabsf(KR[n])) >= thr)
      g->held = 0;
    else if (g->held < UINT32_MAX / 2)
      g->held++;
    float target = g->held <= hold ? 1.0f : floor_g;
    float k = target > g->gain ? att : rel;
    g->gain = target + k * (g->gain - target);
    L[n] *= g->gain;
    R[n] *= g->gain;
  }
}

const eng_node_class eng__gate_class = {.kind = ENG_NODE_GATE,
                                        .name = "gate",
                                        .params = gate_params,
                                        .n_params = G_N,
                                        .sidechain = true,
                                        .deterministic = true,
                                        .state_size = gate_size,
                                        .init = gate_init,
                                        .process = gate_process};

/* ======================================================================== */
/* saturator: tanh waveshaper with dry/wet and output gain                  */
/* ======================================================================== */

static const eng_param_info sat_params[] = {
    {0, "drive", 0, 36, 6, ENG_UNIT_DB, S, 20},
    {1, "mix", 0, 1, 1, ENG_UNIT_NONE, S, 20},
    {2, "output", -24, 12, 0, ENG_UNIT_DB, S, 20},
};

static void sat_process(eng_plan_node *node, eng_run *r) {
  float *L = eng__buf(r, node->out), *R = L + ENG_CHUNK;
  eng_pstate *ps = node->state;
  bool still = !eng_smooth_moving(&ps->p[0]) && !eng_smooth_moving(&ps->p[2]);
  float drive = eng_db_to_lin(pv(ps, 0)), out = eng_db_to_lin(pv(ps, 2));
  for (uint32_t n = 0; n < r->n; n++) {
    if (!still) {
      drive = eng_db_to_lin(pnext(ps, 0));
      out = eng_db_to_lin(pnext(ps, 2));
    }
    float mix = pnext(ps, 1);
    float yl = tanhf(L[n] * drive), yr = tanhf(R[n] * drive);
    L[n] = out * (mix * yl + (1.0f - mix) * L[n]);
    R[n] = out * (mix * yr + (1.0f - mix) * R[n]);
  }
}

const eng_node_class eng__sat_class = {.kind = ENG_NODE_SATURATOR,
                                       .name = "saturator",
                                       .params = sat_params,
                                       .n_params = 3,
                                       .deterministic = true,
                                       .state_size = pstate_size,
                                       .process = sat_process};

/* ======================================================================== */
/* delay: tempo-synced, feedback with damping, optional ping-pong           */
/* ======================================================================== */

#define DELAY_MAX_S 4.0f /* longest delay; longer beat values are capped */

enum { D_TIME, D_FEEDBACK, D_MIX, D_DAMP, D_PINGPONG, D_N };
static const eng_param_info delay_params[] = {
    {D_TIME, "time", 0.0625f, 4, 0.75f, ENG_UNIT_BEATS, S, 100},
    {D_FEEDBACK, "feedback", 0, 0.95f, 0.35f, ENG_UNIT_NONE, S, 20},
    {D_MIX, "mix", 0, 1, 0.3f, ENG_UNIT_NONE, S, 20},
    {D_DAMP, "damping", 1000, 20000, 8000, ENG_UNIT_HZ, B, 20},
    {D_PINGPONG, "ping_pong:off|on", 0, 1, 0, ENG_UNIT_CHOICE, N, 0},
};

typedef struct delay {
  eng_pstate ps;
  float sr;
  float beat_frames;
  uint32_t len, pos; /* ring length (frames) and write position */
  float lp[2];       /* damping one-pole states */
  float buf[];       /* 2 * len: L then R */
} delay;

static size_t delay_size(uint32_t sr) {
  return sizeof(delay) + 2 * sizeof(float) * ((size_t) (DELAY_MAX_S * (float) sr) + 4);
}
static void delay_init(void *state, uint32_t sr, double beat_frames) {
  delay *d = state;
  d->sr = (float) sr;
  d->beat_frames = (float) beat_frames;
  d->len = (uint32_t) (DELAY_MAX_S * (float) sr) + 4;
}

static void delay_adopt(void *state, const void *fresh) {
  ((delay *) state)->beat_frames = ((const delay *) fresh)->beat_frames; /* tempo change */
}

static inline float delay_read(const float *line, uint32_t len, uint32_t pos, float dl) {
  float rp = (float) pos - dl;
  while (rp < 0.0f)
    rp += (float) len;
  uint32_t i0 = (uint32_t) rp;
  float fr = rp - (float) i0;
  uint32_t i1 = i0 + 1 == len ? 0 : i0 + 1;
  if (i0 >= len) i0 -= len;
  return line[i0] + fr * (line[i1] - line[i0]);
}

static void delay_process(eng_plan_node *node, eng_run *r) {
  delay *d = node->state;
  float *L = eng__buf(r, node->out), *R = L + ENG_CHUNK;
  float *bl = d->buf, *br = d->buf + d->len;
  float damp = pskip(d, D_DAMP, r->n);
  float a = expf(-(float) ENG_TWO_PI * damp / d->sr);
  bool ping = pv(d, D_PINGPONG) >= 0.5f;
  float maxd = (float) (d->len - 3);
  for (uint32_t n = 0; n < r->n; n++) {
    float dl = fminf(fmaxf(pnext(d, D_TIME) * d->beat_frames, 1.0f), maxd);
    float fb = pnext(d, D_FEEDBACK), mix = pnext(d, D_MIX);
    float wl = delay_read(bl, d->len, d->pos, dl), wr = delay_read(br, d->len, d->pos, dl);
    d->lp[0] = wl + a * (d->lp[0] - wl);
    d->lp[1] = wr + a * (d->lp[1] - wr);
    float inl = L[n], inr = R[n];
    if (ping) { /* input enters left; the echoes alternate sides */
      bl[d->pos] = 0.5f * (inl + inr) + fb * d->lp[1];
      br[d->pos] = fb * d->lp[0];
    } else {
      bl[d->pos] = inl + fb * d->lp[0];
      br[d->pos] = inr + fb * d->lp[1];
    }
    if (++d->pos == d->len) d->pos = 0;
    L[n] = (1.0f - mix) * inl + mix * wl;
    R[n] = (1.0f - mix) * inr + mix * wr;
  }
}

const eng_node_class eng__delay_class = {.kind = ENG_NODE_DELAY,
                                         .name = "delay",
                                         .params = delay_params,
                                         .n_params = D_N,
                                         .deterministic = true,
                                         .hidden_ms = (uint32_t) (DELAY_MAX_S * 1000.0f),
                                         .state_size = delay_size,
                                         .init = delay_init,
                                         .process = delay_process,
                                         .adopt = delay_adopt};

/* ======================================================================== */
/* reverb: Freeverb (Jezar's public-domain design, written here): 8 damped  */
/* comb filters and 4 all-passes per channel, lengths scaled by sr/44100     */
/* ======================================================================== */

#define RV_COMBS  8
#define RV_APS    4
#define RV_SPREAD 23
static const int rv_comb_len[RV_COMBS] = {1116, 1188, 1277, 1356, 1422, 1491, 1557, 1617};
static const int rv_ap_len[RV_APS] = {556, 441, 341, 225};

enum { R_ROOM, R_DAMP, R_WIDTH, R_MIX, R_N };
static const eng_param_info reverb_params[] = {
    {R_ROOM, "room_size", 0, 1, 0.6f, ENG_UNIT_NONE, B, 50},
    {R_DAMP, "damping", 0, 1, 0.5f, ENG_UNIT_NONE, B, 50},
    {R_WIDTH, "width", 0, 1, 1, ENG_UNIT_NONE, B, 50},
    {R_MIX, "mix", 0, 1, 0.25f, ENG_UNIT_NONE, S, 20},
};

typedef struct rv_line {
  uint32_t len, pos;
  float store; /* comb damping state */
  float *buf;
} rv_line;

typedef struct reverb {
  eng_pstate ps;
  rv_line comb[2][RV_COMBS], ap[2][RV_APS];
  float mem[]; /* all lines */
} reverb;

static uint32_t rv_scale(int len, uint32_t sr) {
  return (uint32_t) ((double) len * sr / 44100.0) + 1;
}

static size_t reverb_size(uint32_t sr) {
  size_t n = 0;
  for (int ch = 0; ch < 2; ch++) {
    for (int i = 0; i < RV_COMBS; i++)
      n += rv_scale(rv_comb_len[i] + ch * RV_SPREAD, sr);
    for (int i = 0; i < RV_APS; i++)
      n += rv_scale(rv_ap_len[i] + ch * RV_SPREAD, sr);
  }
  return sizeof(reverb) + n * sizeof(float);
}

static void reverb_init(void *state, uint32_t sr, double beat_frames) {
  (void) beat_frames;
  reverb *rv = state;
  float *m = rv->mem;
  for (int ch = 0; ch < 2; ch++) {
    for (int i = 0; i < RV_COMBS; i++) {
      rv->comb[ch][i].len = rv_scale(rv_comb_len[i] + ch * RV_SPREAD, sr);
      rv->comb[ch][i].buf = m;
      m += rv->comb[ch][i].len;
    }
    for (int i = 0; i < RV_APS; i++) {
      rv->ap[ch][i].len = rv_scale(rv_ap_len[i] + ch * RV_SPREAD, sr);
      rv->ap[ch][i].buf = m;
      m += rv->ap[ch][i].len;
    }
  }
}

static void reverb_process(eng_plan_node *node, eng_run *r) {
  reverb *rv = node->state;
  float *L = eng__buf(r, node->out), *R = L + ENG_CHUNK;
  float fb = pskip(rv, R_ROOM, r->n) * 0.28f + 0.7f;
  float damp = pskip(rv, R_DAMP, r->n) * 0.4f;
  float width = pskip(rv, R_WIDTH, r->n);
  float w1 = (width / 2 + 0.5f), w2 = (1 - width) / 2;
  float out[2][ENG_CHUNK];
  for (int ch = 0; ch < 2; ch++) {
    float *o = out[ch];
    for (uint32_t n = 0; n < r->n; n++)
      o[n] = 0.0f;
    for (int i = 0; i < RV_COMBS; i++) { /* one comb at a time: the loop stays in cache */
      rv_line *c = &rv->comb[ch][i];
      uint32_t pos = c->pos, len = c->len;
      float store = c->store;
      for (uint32_t n = 0; n < r->n; n++) {
        float in = (L[n] + R[n]) * 0.015f;
        float y = c->buf[pos];
        store = y * (1 - damp) + store * damp;
        c->buf[pos] = in + store * fb;
        if (++pos == len) pos = 0;
        o[n] += y;
      }
      c->pos = pos;
      c->store = store + 1e-18f - 1e-18f; /* flush denormals */
    }
    for (int i = 0; i < RV_APS; i++) {
      rv_line *a = &rv->ap[ch][i];
      uint32_t pos = a->pos, len = a->len;
      for (uint32_t n = 0; n < r->n; n++) {
        float b = a->buf[pos];
        a->buf[pos] = o[n] + b * 0.5f;
        o[n] = b - o[n];
        if (++pos == len) pos = 0;
      }
      a->pos = pos;
    }
  }
  for (uint32_t n = 0; n < r->n; n++) {
    float mix = pnext(rv, R_MIX);
    float wl = out[0][n] * w1 + out[1][n] * w2, wr = out[1][n] * w1 + out[0][n] * w2;
    L[n] = (1 - mix) * L[n] + mix * 3.0f * wl;
    R[n] = (1 - mix) * R[n] + mix * 3.0f * wr;
  }
}

const eng_node_class eng__reverb_class = {.kind = ENG_NODE_REVERB,
                                          .name = "reverb",
                                          .params = reverb_params,
                                          .n_params = R_N,
                                          .deterministic = true,
                                          .state_size = reverb_size,
                                          .init = reverb_init,
                                          .process = reverb_process};

/* ======================================================================== */
/* chorus: one modulated delay per channel, LFOs 90 degrees apart           */
/* ======================================================================== */

#define CHORUS_MAX_MS 50.0f

enum { CH_RATE, CH_DEPTH, CH_DELAY, CH_MIX, CH_N };
static const eng_param_info chorus_params[] = {
    {CH_RATE, "rate", 0.05f, 5, 0.8f, ENG_UNIT_HZ, B, 20},
    {CH_DEPTH, "depth", 0, 10, 3, ENG_UNIT_MS, S, 50},
    {CH_DELAY, "delay", 1, 30, 12, ENG_UNIT_MS, S, 50},
    {CH_MIX, "mix", 0, 1, 0.5f, ENG_UNIT_NONE, S, 20},
};

typedef struct chorus {
  eng_pstate ps;
  float sr, phase;
  uint32_t len, pos;
  float buf[]; /* 2 * len */
} chorus;

static size_t chorus_size(uint32_t sr) {
  return sizeof(chorus) + 2 * sizeof(float) * ((size_t) (CHORUS_MAX_MS * 0.001f * sr) + 4);
}
static void chorus_init(void *state, uint32_t sr, double beat_frames) {
  (void) beat_frames;
  chorus *c = state;
  c->sr = (float) sr;
  c->len = (uint32_t) (CHORUS_MAX_MS * 0.001f * (float) sr) + 4;
}

static void chorus_process(eng_plan_node *node, eng_run *r) {
  chorus *c = node->state;
  float *L = eng__buf(r, node->out), *R = L + ENG_CHUNK;
  float *bl = c->buf, *br = c->buf + c->len;
  float inc = pskip(c, CH_RATE, r->n) / c->sr;
  float ms = 0.001f * c->sr;
  for (uint32_t n = 0; n < r->n; n++) {
    float depth = pnext(c, CH_DEPTH) * ms, base = pnext(c, CH_DELAY) * ms, mix = pnext(c, CH_MIX);
    float sl = sinf((float) ENG_TWO_PI * c->phase), sr = cosf((float) ENG_TWO_PI * c->phase);
    c->phase += inc;
    if (c->phase >= 1.0f) c->phase -= 1.0f;
    bl[c->pos] = L[n];
    br[c->pos] = R[n];
    float wl = delay_read(bl, c->len, c->pos, base + depth * 0.5f * (1 + sl));
    float wr = delay_read(br, c->len, c->pos, base + depth * 0.5f * (1 + sr));
    if (++c->pos == c->len) c->pos = 0;
    L[n] = (1 - mix) * L[n] + mix * wl;
    R[n] = (1 - mix) * R[n] + mix * wr;
  }
}

const eng_node_class eng__chorus_class = {.kind = ENG_NODE_CHORUS,
                                          .name = "chorus",
                                          .params = chorus_params,
                                          .n_params = CH_N,
                                          .deterministic = true,
                                          .state_size = chorus_size,
                                          .init = chorus_init,
                                          .process = chorus_process};

/* ======================================================================== */
/* limiter: 1 ms look-ahead; never exceeds the ceiling                      */
/* ======================================================================== */
/*
 * req[n] = min(1, ceiling / peak(n)). h = sliding minimum of req over the
 * look-ahead window W = L + 1 (monotonic deque), rel = h with a release
 * glide (rel <= h always), g = boxcar mean of rel over W. The audio is
 * delayed by L, so the sample x[n - L] leaving now is scaled by an average
 * of W values each <= req[n - L] (each window [k - L, k], k in [n - L, n],
 * contains n - L): the output stays under the ceiling without
 * clipping. A final clamp only absorbs float rounding of the running sum. */

#define LIM_LOOKAHEAD_MS 1.0f
#define LIM_MAX_W        200 /* window at ENG_MAX_SAMPLE_RATE: 192 + 1 */

enum { LM_CEIL, LM_RELEASE, LM_INPUT, LM_N };
static const eng_param_info limiter_params[] = {
    {LM_CEIL, "ceiling", -24, 0, -0.3f, ENG_UNIT_DB, B, 20},
    {LM_RELEASE, "release", 1, 2000, 50, ENG_UNIT_MS, N, 0},
    {LM_INPUT, "input_gain", 0, 24, 0, ENG_UNIT_DB, S, 20},
};

typedef struct limiter {
  eng_pstate ps;
  float sr;
  uint32_t w;             /* window = look-ahead + 1 */
  uint32_t t;             /* frame counter (mod 2^32 is fine: only differences) */
  uint32_t dq_head, dq_n; /* deque over a ring of w entries */
  double sum;             /* boxcar running sum */
  float rel;              /* released gain */
  uint32_t pos;           /* ring position of delay and boxcar */
  float *dq_v, *box, *dl, *dr;
  uint32_t dq_t[LIM_MAX_W + 1]; /* deque frame stamps */
  float mem[];
} limiter;

static uint32_t lim_w(uint32_t sr) {
  return eng_ms_to_frames(LIM_LOOKAHEAD_MS, sr) + 1;
}
static size_t limiter_size(uint32_t sr) {
  return sizeof(limiter) + ((size_t) lim_w(sr) * 5 + 4) * sizeof(float);
}
static uint32_t limiter_latency(uint32_t sr) {
  return lim_w(sr) - 1; /* the delay line: L = w - 1 frames */
}
static void limiter_init(void *state, uint32_t sr, double beat_frames) {
  (void) beat_frames;
  limiter *l = state;
  l->sr = (float) sr;
  l->w = lim_w(sr);
  l->dq_v = l->mem; /* deque rings hold w + 1 entries */
  l->box = l->dq_v + l->w + 1;
  l->dl = l->box + l->w;
  l->dr = l->dl + l->w;
  l->rel = 1.0f;
  for (uint32_t i = 0; i < l->w; i++)
    l->box[i] = 1.0f;
  l->sum = l->w;
}

static void limiter_process(eng_plan_node *node, eng_run *r) {
  limiter *l = node->state;
  float *L = eng__buf(r, node->out), *R = L + ENG_CHUNK;
  float ceil_lin = eng_db_to_lin(pskip(l, LM_CEIL, r->n));
  float relc = 1.0f - tc_coef(pv(l, LM_RELEASE), l->sr);
  uint32_t w = l->w;
  for (uint32_t n = 0; n < r->n; n++) {
    float gin = eng_db_to_lin(pnext(l, LM_INPUT));
    float xl = L[n] * gin, xr = R[n] * gin;
    float pk = fmaxf(fabsf(xl), fabsf(xr));
    float req = pk > ceil_lin ? ceil_lin / pk : 1.0f;
    /* sliding minimum */
    uint32_t cap = w + 1;
    while (l->dq_n && l->dq_v[(l->dq_head + l->dq_n - 1) % cap] >= req)
      l->dq_n--;
    uint32_t slot = (l->dq_head + l->dq_n) % cap;
    l->dq_v[slot] = req;
    l->dq_t[slot] = l->t;
    l->dq_n++;
    if (l->t - l->dq_t[l->dq_head] >= w) {
      l->dq_head = (l->dq_head + 1) % cap;
      l->dq_n--;
    }
    float h = l->dq_v[l->dq_head];
    l->rel += (1.0f - l->rel) * relc;
    if (h < l->rel) l->rel = h;
    l->sum += (double) l->rel - l->box[l->pos];
    l->box[l->pos] = l->rel;
    float g = (float) (l->sum / w);
    /* delay line of w entries: write now, read the one written L = w - 1
     * frames ago, so the boxcar over the last w gains covers it */
    l->dl[l->pos] = xl;
    l->dr[l->pos] = xr;
    uint32_t rd = l->pos + 1 == w ? 0 : l->pos + 1;
    float ol = l->dl[rd], orr = l->dr[rd];
    if (++l->pos == w) l->pos = 0;
    l->t++;
    ol *= g, orr *= g;
    L[n] = fminf(fmaxf(ol, -ceil_lin), ceil_lin);
    R[n] = fminf(fmaxf(orr, -ceil_lin), ceil_lin);
  }
}

const eng_node_class eng__limiter_class = {.kind = ENG_NODE_LIMITER,
                                           .name = "limiter",
                                           .params = limiter_params,
                                           .n_params = LM_N,
                                           .deterministic = true,
                                           .state_size = limiter_size,
                                           .init = limiter_init,
                                           .latency = limiter_latency,
                                           .process = limiter_process};
