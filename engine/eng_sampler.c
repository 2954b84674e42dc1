/* eng_sampler.c: ENG_NODE_SAMPLER, an instrument that plays recorded samples
 * from multi-sample zones (RT process; voices pre-sized).
 *
 * The zones are compiled into the plan (eng_plan_node.items, copies of the
 * description's eng_zone_desc with loop_end and velocity ranges resolved);
 * their sample data is borrowed from the server until the plan is freed
 * (eng_sample in eng_node.h). A note-on starts one voice per zone whose key
 * and velocity ranges contain the note, on the exact frame of the event.
 *
 * Pitch: a voice reads its sample at `rate` source frames per output frame,
 * rate = 2^((key - root_key + tune + fine / 100) / 12) * sample_rate /
 * plan_rate (one-shot zones leave out the key term), with 4-point Hermite
 * interpolation (eng_hermite), exact when the rate is 1. Tune and fine
 * glide per control block and apply to sounding voices too.
 *
 * Envelope: linear ADSR timed in whole frames (eng_adsr). Attack 0 means
 * full level on the note's first frame. One-shot zones hold at full level
 * until the sample ends and ignore note-off; transport stop or locate
 * releases them over the release time like any voice.
 *
 * Voices: ENG_SAMPLER_VOICES pre-sized, `polyphony` of them used. A note on
 * a key and zone that is already sounding retriggers that voice; else a free
 * voice, else the quietest releasing voice, else the oldest is taken (a
 * steal restarts the sample, which may click).
 *
 * Plan swaps hand the running voices on (eng_plan_int.h). A voice whose zone
 * no longer exists, or now points at other sample data, ends at the swap:
 * its old data is only guaranteed until the old plan is freed. */
#include "engine/eng_node_int.h"
#include "engine/eng_plan.h"

#include <string.h>

enum {
  P_LEVEL,
  P_ATTACK,
  P_DECAY,
  P_SUSTAIN,
  P_RELEASE,
  P_TUNE,
  P_FINE,
  P_VEL_SENS,
  P_POLY,
  N_PARAMS
};

#define S ENG_SMOOTH_SAMPLE
#define B ENG_SMOOTH_BLOCK
#define N ENG_SMOOTH_NONE
static const eng_param_info params[N_PARAMS] = {
    {P_LEVEL, "level", -60, 12, 0, ENG_UNIT_DB, S, 20},
    {P_ATTACK, "attack", 0, 10000, 0, ENG_UNIT_MS, N, 0},
    {P_DECAY, "decay", 0, 10000, 100, ENG_UNIT_MS, N, 0},
    {P_SUSTAIN, "sustain", 0, 1, 1, ENG_UNIT_LINEAR, N, 0},
    {P_RELEASE, "release", 0, 10000, 50, ENG_UNIT_MS, N, 0},
    {P_TUNE, "tune", -48, 48, 0, ENG_UNIT_SEMITONES, B, 20},
    {P_FINE, "fine", -100, 100, 0, ENG_UNIT_CENTS, B, 20},
    {P_VEL_SENS, "velocity_sensitivity", 0, 100, 100, ENG_UNIT_PERCENT, N, 0},
    {P_POLY, "polyphony", 1, ENG_SAMPLER_VOICES, ENG_SAMPLER_VOICES, ENG_UNIT_COUNT, N, 0},
};
#undef S
#undef B
#undef N

typedef struct svoice {
  bool active;
  uint8_t key;
  uint32_t zone;       /* index into the plan's zones */
  const float *frames; /* the zone's data when the voice started (checked at swaps) */
  double pos;          /* source frame being read */
  double rate_base;    /* source frames per output frame, before tune */
  float amp;           /* zone gain times the velocity curve */
  eng_adsr env;
  uint64_t age; /* start order, for stealing */
} svoice;

typedef struct sampler {
  eng_pstate ps; /* must be first */
  float sr;
  uint64_t clock;
  svoice v[ENG_SAMPLER_VOICES];
} sampler;

static size_t sampler_size(uint32_t sr) {
  (void) sr;
  return sizeof(sampler);
}

static void sampler_init(void *state, uint32_t sr, double beat_frames) {
  (void) beat_frames;
  sampler *s = state;
  s->sr = (float) sr;
}

static float pv(const sampler *s, int id) {
  return s->ps.p[id].cur;
}

/* ------------------------------------------------------------------------ */
/* reading a zone's sample                                                  */
/* ------------------------------------------------------------------------ */

/* Frame i of channel ch, seen through the loop: past loop_end a looping
 * zone reads on from loop_start (so interpolation across the seam is
 * smooth); outside the data, 0. */
static inline float tap(const eng_zone_desc *z, int64_t i, uint32_t ch) {
  if (z->loop && i >= (int64_t) z->loop_end) i -= (int64_t) (z->loop_end - z->loop_start);
  if (i < 0 || i >= (int64_t) z->sample.n_frames) return 0.0f;
  uint32_t nc = z->sample.n_channels;
  return z->sample.frames[(size_t) i * nc + (ch < nc ? ch : 0)];
}

static inline float read_at(const eng_zone_desc *z, double pos, uint32_t ch) {
  int64_t i = (int64_t) pos;
  float t = (float) (pos - (double) i);
  if (t == 0.0f) return tap(z, i, ch);
  return eng_hermite(tap(z, i - 1, ch), tap(z, i, ch), tap(z, i + 1, ch), tap(z, i + 2, ch), t);
}

/* ------------------------------------------------------------------------ */
/* notes                                                                    */
/* ------------------------------------------------------------------------ */

static void set_times(const sampler *s, svoice *v, bool one_shot) {
  uint32_t sr = (uint32_t) s->sr;
  eng_adsr_times(&v->env, eng_ms_to_frames(pv(s, P_ATTACK), sr),
                 one_shot ? 1 : eng_ms_to_frames(pv(s, P_DECAY), sr),
                 one_shot ? 1.0f : pv(s, P_SUSTAIN), eng_ms_to_frames(pv(s, P_RELEASE), sr));
}

/* The voice for (key, zone): the one already playing it, a free one, the
 * quietest releasing one, or the oldest, among the first `polyphony`. */
static svoice *pick_voice(sampler *s, uint8_t key, uint32_t zone) {
  uint32_t poly = (uint32_t) pv(s, P_POLY);
  svoice *v = NULL;
  for (uint32_t i = 0; i < poly && !v; i++)
    if (s->v[i].active && s->v[i].key == key && s->v[i].zone == zone) v = &s->v[i];
  for (uint32_t i = 0; i < poly && !v; i++)
    if (!s->v[i].active) v = &s->v[i];
  svoice *quiet = NULL; /* steal: the quietest releasing voice */
  for (uint32_t i = 0; i < poly && !v; i++)
    if (s->v[i].env.stage == ENG_ADSR_RELEASE && (!quiet || s->v[i].env.level < quiet->env.level))
      quiet = &s->v[i];
  if (!v) v = quiet;
  if (!v) { /* else the oldest */
    v = &s->v[0];
    for (uint32_t i = 1; i < poly; i++)
      if (s->v[i].age < v->age) v = &s->v[i];
  }
  return v;
}

static void start_voice(sampler *s, const eng_zone_desc *z, uint32_t zi, uint8_t key, uint8_t vel) {
  svoice *v = pick_voice(s, key, zi);
  bool one_shot = z->mode == ENG_ZONE_ONE_SHOT;
  double semis = one_shot ? 0.0 : (double) key - (double) z->root_key;
  float vs = pv(s, P_VEL_SENS) * 0.01f;
  v->active = true;
  v->key = key;
  v->zone = zi;
  v->frames = z->sample.frames;
  v->pos = 0.0;
  v->rate_base = exp2(semis / 12.0) * (double) z->sample.sample_rate / (double) s->sr;
  v->amp = z->gain * (1.0f - vs + vs * (float) vel / 127.0f);
  v->age = ++s->clock;
  v->env.level = 0.0f; /* the sample restarts: so does its envelope */
  set_times(s, v, one_shot);
  eng_adsr_gate(&v->env, true);
}

static void note_on(sampler *s, const eng_zone_desc *zones, uint32_t n_zones, uint8_t key,
                    uint8_t vel) {
  for (uint32_t i = 0; i < n_zones; i++) {
    const eng_zone_desc *z = &zones[i];
    if (z->sample.frames && key >= z->key_lo && key <= z->key_hi && vel >= z->vel_lo &&
        vel <= z->vel_hi)
      start_voice(s, z, i, key, vel);
  }
}

/* Releases the voices of `key` (one-shots only when `all`), or of every key
 * when key < 0. */
static void note_off(sampler *s, const eng_zone_desc *zones, int key, bool all) {
  for (uint32_t i = 0; i < ENG_SAMPLER_VOICES; i++) {
    svoice *v = &s->v[i];
    if (!v->active || (key >= 0 && v->key != key) || v->env.stage == ENG_ADSR_RELEASE) continue;
    bool one_shot = zones[v->zone].mode == ENG_ZONE_ONE_SHOT;
    if (one_shot && !all) continue;
    set_times(s, v, one_shot);
    eng_adsr_gate(&v->env, false);
  }
}

/* A swap may have changed the zones: voices reading data that is not the
 * current plan's any more end now. */
static void drop_stale_voices(sampler *s, const eng_zone_desc *zones, uint32_t n_zones) {
  for (uint32_t i = 0; i < ENG_SAMPLER_VOICES; i++) {
    svoice *v = &s->v[i];
    if (v->active && (v->zone >= n_zones || zones[v->zone].sample.frames != v->frames))
      v->active = false;
  }
}

/* ------------------------------------------------------------------------ */
/* rendering                                                                */
/* ------------------------------------------------------------------------ */

/* Adds voice v into L, R over frames [a, b) at `tune` (a rate factor). */
static void render_voice(svoice *v, const eng_zone_desc *z, double tune, float *L, float *R,
                         uint32_t a, uint32_t b) {
  double rate = v->rate_base * tune;
  double end = (double) z->sample.n_frames;
  double loop_len = (double) (z->loop_end - z->loop_start);
  for (uint32_t n = a; n < b; n++) {
    if (!z->loop && v->pos >= end) {
      v->active = false;
      return;
    }
    float e = eng_adsr_next(&v->env) * v->amp;
    L[n] += e * read_at(z, v->pos, 0);
    R[n] += e * read_at(z, v->pos, 1);
    v->pos += rate;
    while (z->loop && v->pos >= (double) z->loop_end) /* a rate above the loop length */
      v->pos -= loop_len;
    if (v->env.stage == ENG_ADSR_IDLE) {
      v->active = false;
      return;
    }
  }
}

static void render(sampler *s, const eng_zone_desc *zones, float *L, float *R, uint32_t a,
                   uint32_t b) {
  if (a == b) return;
  float semis =
      eng_smooth_skip(&s->ps.p[P_TUNE], b - a) + eng_smooth_skip(&s->ps.p[P_FINE], b - a) * 0.01f;
  double tune = semis == 0.0f ? 1.0 : exp2((double) semis / 12.0);
  for (uint32_t i = 0; i < ENG_SAMPLER_VOICES; i++)
    if (s->v[i].active) render_voice(&s->v[i], &zones[s->v[i].zone], tune, L, R, a, b);
}

static void sampler_process(eng_plan_node *node, eng_run *r) {
  sampler *s = node->state;
  const eng_zone_desc *zones = node->items;
  float *L = eng__buf(r, node->out), *R = L + ENG_CHUNK;
  memset(L, 0, r->n * sizeof(float));
  memset(R, 0, r->n * sizeof(float));
  drop_stale_voices(s, zones, node->n_items);
  uint32_t a = 0;
  for (uint32_t e = 0; e <= r->n_events; e++) {
    uint32_t b = e < r->n_events ? r->events[e].offset : r->n;
    /* control blocks of ENG_CONTROL_FRAMES, cut at events */
    while (a < b) {
      uint32_t c = a + ENG_CONTROL_FRAMES - a % ENG_CONTROL_FRAMES;
      if (c > b) c = b;
      render(s, zones, L, R, a, c);
      a = c;
    }
    if (e == r->n_events) break;
    const eng_event *ev = &r->events[e];
    if (ev->kind == ENG_EV_NOTE_ON)
      note_on(s, zones, node->n_items, ev->key, ev->velocity);
    else
      note_off(s, zones, ev->kind == ENG_EV_NOTE_OFF ? ev->key : -1, ev->kind == ENG_EV_ALL_OFF);
  }
  eng_smooth *lv = &s->ps.p[P_LEVEL];
  bool moving = eng_smooth_moving(lv);
  float g = eng_db_to_lin(lv->cur);
  for (uint32_t n = 0; n < r->n; n++) {
    if (moving) g = eng_db_to_lin(eng_smooth_next(lv));
    L[n] *= g;
    R[n] *= g;
  }
}

const eng_node_class eng__sampler_class = {.kind = ENG_NODE_SAMPLER,
                                           .name = "sampler",
                                           .params = params,
                                           .n_params = N_PARAMS,
                                           .instrument = true,
                                           .deterministic = true,
                                           .state_size = sampler_size,
                                           .init = sampler_init,
                                           .process = sampler_process};
