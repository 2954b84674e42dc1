/* eng_nodes_core.c: the built-in nodes of every plan (test tone, click,
 * fader, master), the class registry and stand-alone nodes for tests.
 *
 * The test tone and the click are the walking skeleton's sounds, moved here
 * unchanged: their arithmetic is kept operation for operation so that plans
 * without devices render bit-identically (tests/engine/test_eng_golden.c). */
#include "engine/eng_err.h"
#include "engine/eng_node_int.h"
#include "engine/eng_plan_int.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define TWO_PI     6.283185307179586
#define VOICE_AMP  0.3f   /* peak of a track's tone before gain and pan */
#define CLICK_HZ   1000.0 /* click pitch */
#define ACCENT_HZ  1500.0 /* pitch of the accented click (beat 1 of a bar) */
#define CLICK_AMP  0.25f  /* click peak */
#define ACCENT_AMP 0.5f   /* accented click peak */

/* ------------------------------------------------------------------------ */
/* beat clock (pure functions of the position)                              */
/* ------------------------------------------------------------------------ */

/* First frame of beat k. Without a grid: ceil(k * beat_frames), so beats
 * land on the exact sample even when a beat is not a whole number of
 * frames. With one: the listed frame, then the tail's constant spacing. */
static uint64_t beat_onset(const eng_plan *p, uint64_t k) {
  if (!p->n_beats) return (uint64_t) ceil((double) k * p->beat_frames);
  if (k < p->n_beats) return p->beats[k].frame;
  return (uint64_t) llround(p->tail_frame + (double) (k - (p->n_beats - 1)) * p->tail_beat_frames);
}

/* Index of the beat that contains frame `pos`. */
static uint64_t beat_at(const eng_plan *p, uint64_t pos) {
  uint64_t k;
  if (p->n_beats && pos < p->beats[p->n_beats - 1].frame) { /* binary search in the list */
    uint32_t lo = 0, hi = p->n_beats - 1;                   /* beats[lo].frame <= pos */
    while (hi - lo > 1) {
      uint32_t mid = lo + (hi - lo) / 2;
      if (p->beats[mid].frame <= pos)
        lo = mid;
      else
        hi = mid;
    }
    return lo;
  }
  if (p->n_beats) { /* the tail: tail_frame may lie up to half a frame after pos */
    double q = floor(((double) pos - p->tail_frame) / p->tail_beat_frames);
    k = p->n_beats - 1 + (q > 0.0 ? (uint64_t) q : 0);
  } else
    k = (uint64_t) floor((double) pos / p->beat_frames);
  uint64_t first = p->n_beats ? p->n_beats - 1 : 0;
  while (beat_onset(p, k + 1) <= pos)
    k++;
  while (k > first && beat_onset(p, k) > pos)
    k--;
  return k;
}

/* Beat k is the first of its bar (the click's accent). */
static bool bar_start(const eng_plan *p, uint64_t k) {
  if (!p->n_beats) return k % p->beats_per_bar == 0;
  if (k < p->n_beats) return p->beats[k].in_bar == 0;
  const eng_beat *last = &p->beats[p->n_beats - 1];
  return (last->in_bar + (k - (p->n_beats - 1))) % last->bar_beats == 0;
}

/* Pluck envelope at `t` frames after the onset, `to_next` (>= 1) frames
 * before the next onset: 0 at the onset, linear attack, exponential decay,
 * and a linear release reaching exactly 0 on the frame before the next
 * onset, so the retrigger never clicks. */
static float pluck_env(const eng_plan *p, uint64_t t, uint64_t to_next) {
  if (t >= p->note_frames) return 0.0f;
  float a = t < p->attack_frames ? (float) t / (float) p->attack_frames : 1.0f;
  float r = to_next <= p->release_frames ? (float) (to_next - 1) / (float) p->release_frames : 1.0f;
  return a * r * expf(-(float) t * p->decay_per_frame);
}

static float click_sample(const eng_plan *p, uint64_t t, bool accent) {
  if (t >= p->click_frames) return 0.0f;
  double cycles = (double) t * (accent ? ACCENT_HZ : CLICK_HZ) / p->sample_rate;
  float amp = accent ? ACCENT_AMP : CLICK_AMP;
  return amp * expf(-(float) t * p->click_decay_per_frame) *
         sinf((float) (TWO_PI * (cycles - floor(cycles))));
}

/* ------------------------------------------------------------------------ */
/* tone: the test-tone voice of a track without an instrument               */
/* ------------------------------------------------------------------------ */

static void tone_process(eng_plan_node *node, eng_run *r) {
  const eng_plan *p = r->plan;
  const eng_plan_track *tr = &p->tracks[node->track];
  float *L = eng__buf(r, node->out), *R = L + ENG_CHUNK;
  uint32_t n = 0;
  /* Rendered even at gain 0: the fader may still be gliding down, and a
   * pre-fader send may tap it. */
  if (r->t_frames > 0) {
    uint64_t pos = r->start;
    uint64_t k = beat_at(p, pos);
    uint64_t onset = beat_onset(p, k), next = beat_onset(p, k + 1);
    float ramp = r->ramp;
    for (; n < r->t_frames; n++, pos++, ramp += r->ramp_step) {
      if (pos == next) { /* a beat boundary, possibly mid-block: retrigger here */
        k++;
        onset = next;
        next = beat_onset(p, k + 1);
      }
      uint64_t t = pos - onset;
      float env = pluck_env(p, t, next - pos);
      float v = 0.0f;
      if (env > 0.0f) {
        double cycles = (double) t * tr->cycles_per_frame;
        float ph = (float) (TWO_PI * (cycles - floor(cycles)));
        v = ramp * VOICE_AMP * env * (sinf(ph) + 0.3f * env * sinf(2.0f * ph));
      }
      L[n] = R[n] = v;
    }
  }
  for (; n < r->n; n++)
    L[n] = R[n] = 0.0f;
}

const eng_node_class eng__tone_class = {
    .name = "tone", .deterministic = true, .process = tone_process};

/* ------------------------------------------------------------------------ */
/* click: the metronome                                                     */
/* ------------------------------------------------------------------------ */

/* The click is delayed by the master's latency (latency compensation):
 * being a function of the position, it is simply rendered that much later,
 * silent before frame 0. */
static void click_process(eng_plan_node *node, eng_run *r) {
  const eng_plan *p = r->plan;
  float *L = eng__buf(r, node->out);
  uint32_t n = 0;
  uint64_t pos = r->start;
  float ramp = r->ramp;
  if (p->latency) {
    uint64_t early = pos < p->latency ? p->latency - pos : 0;
    for (; n < r->t_frames && n < early; n++, ramp += r->ramp_step)
      L[n] = 0.0f;
    pos = pos + n - p->latency;
  }
  if (r->t_frames > n) {
    uint64_t k = beat_at(p, pos);
    uint64_t onset = beat_onset(p, k), next = beat_onset(p, k + 1);
    for (; n < r->t_frames; n++, pos++, ramp += r->ramp_step) {
      if (pos == next) {
        k++;
        onset = next;
        next = beat_onset(p, k + 1);
      }
      L[n] = ramp * click_sample(p, pos - onset, bar_start(p, k));
    }
  }
  for (; n < r->n; n++)
    L[n] = 0.0f;
}

const eng_node_class eng__click_class = {
    .name = "click", .deterministic = true, .process = click_process};

/* Beat k's place in its bar and its bar's number (from 0). */
static void beat_place(const eng_plan *p, uint64_t k, uint32_t *in_bar, uint64_t *bar) {
  if (!p->n_beats) {
    *in_bar = (uint32_t) (k % p->beats_per_bar), *bar = k / p->beats_per_bar;
  } else if (k < p->n_beats) {
    *in_bar = p->beats[k].in_bar, *bar = p->bar_of[k];
  } else {
    const eng_beat *last = &p->beats[p->n_beats - 1];
    uint64_t t = last->in_bar + (k - (p->n_beats - 1));
    *in_bar = (uint32_t) (t % last->bar_beats),
    *bar = p->bar_of[p->n_beats - 1] + t / last->bar_beats;
  }
}

uint64_t eng__grid_next(const eng_plan *p, uint64_t pos, uint32_t beats, uint32_t bars) {
  uint64_t k = beat_at(p, pos);
  if (beat_onset(p, k) < pos) k++;
  /* At most 8 bars of at most ENG_MAX_BEATS_PER_BAR beats, and the rest of this one. */
  for (uint32_t i = 0; i < 9 * ENG_MAX_BEATS_PER_BAR; i++, k++) {
    uint32_t in_bar;
    uint64_t bar;
    beat_place(p, k, &in_bar, &bar);
    if (bars ? in_bar == 0 && bar % bars == 0 : in_bar % beats == 0) break;
  }
  return beat_onset(p, k);
}

/* The count-in's meter and beat length: those in force at transport frame
 * pos (no grid: the plan's). */
static void count_grid(const eng_plan *p, uint64_t pos, uint32_t *bar_beats, double *beat) {
  if (!p->n_beats) {
    *bar_beats = p->beats_per_bar, *beat = p->beat_frames;
    return;
  }
  uint64_t k = beat_at(p, pos);
  const eng_beat *b = &p->beats[k < p->n_beats ? k : p->n_beats - 1];
  *bar_beats = b->bar_beats;
  *beat = k + 1 < p->n_beats ? (double) (p->beats[k + 1].frame - b->frame) : p->tail_beat_frames;
}

uint64_t eng__count_in_frames(const eng_plan *p, uint64_t pos, uint32_t bars) {
  uint32_t bb;
  double beat;
  count_grid(p, pos, &bb, &beat);
  return (uint64_t) ceil((double) bars * bb * beat);
}

/* The count-in: the same click as the metronome's, on a count of its own
 * (beat k of the count at ceil(k * beat), as a plan without a grid). */
void eng__click_add(const eng_plan *p, uint64_t at, uint64_t from, uint32_t n, float gain,
                    float *out) {
  uint32_t bb;
  double beat;
  count_grid(p, at, &bb, &beat);
  uint64_t pos = from;
  uint64_t k = (uint64_t) floor((double) pos / beat);
  while ((uint64_t) ceil((double) (k + 1) * beat) <= pos)
    k++;
  while (k > 0 && (uint64_t) ceil((double) k * beat) > pos)
    k--;
  uint64_t onset = (uint64_t) ceil((double) k * beat),
           next = (uint64_t) ceil((double) (k + 1) * beat);
  for (uint32_t i = 0; i < n; i++, pos++) {
    if (pos == next) {
      k++;
      onset = next;
      next = (uint64_t) ceil((double) (k + 1) * beat);
    }
    float v = gain * click_sample(p, pos - onset, k % bb == 0);
    out[2 * i] += v;
    out[2 * i + 1] += v;
  }
}

/* ------------------------------------------------------------------------ */
/* fader: gain, pan, mute/solo (folded into gain_l/gain_r), track meter     */
/* ------------------------------------------------------------------------ */

/* Gains glide over GAIN_SMOOTH_MS when a plan swap changes them (gain, pan,
 * mute, solo: the state survives the swap, eng_plan_int.h). A fresh state
 * starts at the plan's gains, and a gain that does not move is applied with
 * the skeleton's exact arithmetic (tests/engine/test_eng_golden.c). */
#define GAIN_SMOOTH_MS 20.0f

typedef struct gain_state {
  bool primed;     /* cur/target set from the plan at the first process */
  eng_smooth l, r; /* left and right gain */
  eng_smooth pre;  /* fader: gain of the pre-fader copy (mute/solo only) */
} gain_state;

static size_t gain_state_size(uint32_t sr) {
  (void) sr;
  return sizeof(gain_state);
}

/* The fader keeps the last HISTORY frames of its output and of its
 * pre-fader copy, so that a bus or master can read them delayed (latency
 * compensation, eng__add_delayed). Written every chunk, so a plan swap that
 * changes delays finds the recent past in place (the state carries over). */
#define HISTORY (ENG_MAX_LATENCY + ENG_CHUNK)

typedef struct fader_state {
  gain_state g;           /* must be first: gains_follow takes it */
  uint32_t w;             /* next write index in the rings */
  float hist[4][HISTORY]; /* post L, post R, pre L, pre R */
} fader_state;

static size_t fader_state_size(uint32_t sr) {
  (void) sr;
  return sizeof(fader_state);
}

static void history_write(fader_state *f, const float *L, const float *R, const float *pl,
                          const float *pr, uint32_t n) {
  const float *src[4] = {L, R, pl, pr};
  uint32_t first = HISTORY - f->w < n ? HISTORY - f->w : n;
  for (int c = 0; c < 4; c++) {
    if (!src[c]) continue;
    memcpy(&f->hist[c][f->w], src[c], first * sizeof(float));
    memcpy(&f->hist[c][0], src[c] + first, (n - first) * sizeof(float));
  }
  f->w = (f->w + n) % HISTORY;
}

void eng__add_delayed(const eng_run *r, uint32_t t, bool pre, uint32_t delay, const float *gc,
                      const float *gn, float *L, float *R) {
  const fader_state *f = r->plan->nodes[r->plan->tracks[t].fader].state;
  const float *hl = f->hist[pre ? 2 : 0], *hr = f->hist[pre ? 3 : 1];
  uint32_t at = (f->w + 2 * HISTORY - r->n - delay) % HISTORY; /* the fader wrote this chunk */
  for (uint32_t n = 0; n < r->n; n++) {
    float g = gn ? gn[n] : *gc;
    L[n] += g * hl[at];
    R[n] += g * hr[at];
    if (++at == HISTORY) at = 0;
  }
}

/* Points the glides at (gl, gr), a fresh state at (gl, gr, pre) at once;
 * false if both gains are still (apply them as is). */
static bool gains_follow(gain_state *g, float gl, float gr, float pre, uint32_t sr) {
  if (!g->primed) {
    uint32_t ramp = eng_ms_to_frames(GAIN_SMOOTH_MS, sr);
    eng_smooth_init(&g->l, gl, ramp);
    eng_smooth_init(&g->r, gr, ramp);
    eng_smooth_init(&g->pre, pre, ramp);
    g->primed = true;
  }
  if (g->l.target != gl) eng_smooth_set(&g->l, gl);
  if (g->r.target != gr) eng_smooth_set(&g->r, gr);
  return eng_smooth_moving(&g->l) || eng_smooth_moving(&g->r);
}

/* Gain and pan automation: the fader's left and right gains follow the
 * curves frame by frame (eng_smooth_follow: exact on a continuous curve, a
 * jump glides over GAIN_SMOOTH_MS). Writes the chunk's gains to gl, gr. */
static void fader_automation(const eng_plan_node *node, const eng_run *r, gain_state *g, float *gl,
                             float *gr) {
  const eng_plan_track *tr = &r->plan->tracks[node->track];
  float gain[ENG_CHUNK], pan[ENG_CHUNK], g_prev = tr->gain, p_prev = tr->pan;
  uint64_t jg[ENG_CHUNK / 64] = {0}, jp[ENG_CHUNK / 64] = {0};
  bool has_gain = false, has_pan = false;
  for (uint32_t j = 0; j < node->n_autos; j++) {
    const eng_plan_auto *a = &node->autos[j];
    if (a->target == ENG_AUTO_GAIN) eng__auto_eval(a, r, gain, jg, &g_prev), has_gain = true;
    if (a->target == ENG_AUTO_PAN) eng__auto_eval(a, r, pan, jp, &p_prev), has_pan = true;
  }
  double pl, pr, at = p_prev; /* pan law, recomputed only when the pan moves */
  eng__pan_law(p_prev, tr->bus, &pl, &pr);
  float on = tr->audible ? 1.0f : 0.0f;
  float want_l = on * (float) (g_prev * pl), want_r = on * (float) (g_prev * pr);
  bool jump = g->l.target != want_l || g->r.target != want_r; /* off the curve: glide back */
  for (uint32_t n = 0; n < r->n; n++) {
    float gv = has_gain ? gain[n] : tr->gain, pv = has_pan ? pan[n] : tr->pan;
    if (pv != at) eng__pan_law(pv, tr->bus, &pl, &pr), at = pv;
    if (n) jump = ((jg[n >> 6] | jp[n >> 6]) >> (n & 63)) & 1;
    gl[n] = eng_smooth_follow(&g->l, on * (float) (gv * pl), jump);
    gr[n] = eng_smooth_follow(&g->r, on * (float) (gv * pr), jump);
  }
}

static void fader_process(eng_plan_node *node, eng_run *r) {
  const eng_plan_track *tr = &r->plan->tracks[node->track];
  fader_state *fs = node->state;
  gain_state *g = &fs->g;
  float *L = eng__buf(r, node->out), *R = L + ENG_CHUNK;
  float *pl = NULL, *pr = NULL;
  float gl = tr->gain_l, gr = tr->gain_r;
  float auto_l[ENG_CHUNK], auto_r[ENG_CHUNK];
  bool automated = node->n_autos > 0, moving = false;
  if (!automated || !g->primed) /* automated: a fresh state starts at the curve's frame 0 */
    moving = gains_follow(g, gl, gr, tr->pre_gain, r->plan->sample_rate);
  if (automated) fader_automation(node, r, g, auto_l, auto_r);
  if (tr->pre_buf != ENG_NO_BUF) { /* pre-fader sends tap here: before gain and pan */
    pl = eng__buf(r, tr->pre_buf), pr = pl + ENG_CHUNK;
    if (g->pre.target != tr->pre_gain) eng_smooth_set(&g->pre, tr->pre_gain);
    for (uint32_t n = 0; n < r->n; n++) {
      float pg = eng_smooth_next(&g->pre);
      pl[n] = L[n] * pg;
      pr[n] = R[n] * pg;
    }
  }
  float pk = r->acc_peak[1 + node->track];
  double sumsq = r->acc_sumsq[1 + node->track];
  for (uint32_t n = 0; n < r->n; n++) {
    if (automated)
      gl = auto_l[n], gr = auto_r[n];
    else if (moving)
      gl = eng_smooth_next(&g->l), gr = eng_smooth_next(&g->r);
    float tl = L[n] * gl, trr = R[n] * gr;
    L[n] = tl;
    R[n] = trr;
    float a = fmaxf(fabsf(tl), fabsf(trr));
    if (a > pk) pk = a;
    sumsq += (double) tl * tl + (double) trr * trr;
  }
  r->acc_peak[1 + node->track] = pk;
  r->acc_sumsq[1 + node->track] = sumsq;
  history_write(fs, L, R, pl, pr, r->n);
}

const eng_node_class eng__fader_class = {.name = "fader",
                                         .deterministic = true,
                                         .state_size = fader_state_size,
                                         .process = fader_process};

/* ------------------------------------------------------------------------ */
/* bus: the source of a bus track, the sum of its inputs                    */
/* ------------------------------------------------------------------------ */

/* Input levels glide over GAIN_SMOOTH_MS when a plan swap changes them and
 * follow their send's automation frame by frame. The state survives swaps
 * (the bus is its track's source); inputs are matched to their smoothers by
 * source track id and kind, since a new plan may order them differently. */
#define BUS_INPUTS (2 * ENG_MAX_TRACKS) /* a track routed here and sending here */

typedef struct bus_state {
  uint64_t key[BUS_INPUTS];     /* input's source: track id << 2 | send << 1 | pre; 0 = free */
  eng_smooth level[BUS_INPUTS]; /* its level */
} bus_state;

static size_t bus_state_size(uint32_t sr) {
  (void) sr;
  return sizeof(bus_state);
}

/* The smoother of input i (key k): found where a previous plan left it
 * (moved to index i), else started at `level`. */
static eng_smooth *input_level(bus_state *bs, uint32_t i, uint64_t k, float level, uint32_t sr) {
  if (bs->key[i] != k) {
    uint32_t j = i + 1;
    while (j < BUS_INPUTS && bs->key[j] != k)
      j++;
    if (j < BUS_INPUTS) { /* swap it into place */
      uint64_t tk = bs->key[i];
      eng_smooth ts = bs->level[i];
      bs->key[i] = k, bs->level[i] = bs->level[j];
      bs->key[j] = tk, bs->level[j] = ts;
    } else {
      bs->key[i] = k;
      eng_smooth_init(&bs->level[i], level, eng_ms_to_frames(GAIN_SMOOTH_MS, sr));
    }
  }
  return &bs->level[i];
}

/* The chunk's per-frame levels of input `in` into g; false if the level is
 * still (then it is in->level, applied as before smoothing existed). */
static bool input_gains(const eng_plan_input *in, eng_smooth *s, const eng_run *r, float *g) {
  if (in->lane) {
    uint64_t jumps[ENG_CHUNK / 64];
    float prev;
    eng__auto_eval(in->lane, r, g, jumps, &prev);
    for (uint32_t n = 0; n < r->n; n++) {
      bool jump = n ? (jumps[n >> 6] >> (n & 63)) & 1 : s->target != prev;
      g[n] = eng_smooth_follow(s, g[n], jump);
    }
    return true;
  }
  if (s->target != in->level) eng_smooth_set(s, in->level);
  if (!eng_smooth_moving(s)) return false;
  for (uint32_t n = 0; n < r->n; n++)
    g[n] = eng_smooth_next(s);
  return true;
}

static void bus_process(eng_plan_node *node, eng_run *r) {
  const eng_plan *p = r->plan;
  const eng_plan_track *tr = &p->tracks[node->track];
  bus_state *bs = node->state;
  float *L = eng__buf(r, node->out), *R = L + ENG_CHUNK;
  float g[ENG_CHUNK];
  memset(L, 0, r->n * sizeof(float));
  memset(R, 0, r->n * sizeof(float));
  for (uint32_t i = 0; i < tr->n_inputs && i < BUS_INPUTS; i++) {
    const eng_plan_input *in = &tr->inputs[i];
    uint64_t k = p->tracks[in->track].track_id << 2 | (uint64_t) in->send << 1 | in->pre;
    eng_smooth *s = input_level(bs, i, k, in->level, p->sample_rate);
    bool moving = input_gains(in, s, r, g);
    if (in->delay) {
      eng__add_delayed(r, in->track, in->pre, in->delay, moving ? NULL : &in->level,
                       moving ? g : NULL, L, R);
      continue;
    }
    const float *il = eng__buf(r, in->buf), *ir = il + ENG_CHUNK;
    if (moving) {
      for (uint32_t n = 0; n < r->n; n++) {
        L[n] += g[n] * il[n];
        R[n] += g[n] * ir[n];
      }
      continue;
    }
    float gc = in->level;
    for (uint32_t n = 0; n < r->n; n++) {
      L[n] += gc * il[n];
      R[n] += gc * ir[n];
    }
  }
}

const eng_node_class eng__bus_class = {
    .name = "bus", .deterministic = true, .state_size = bus_state_size, .process = bus_process};

/* ------------------------------------------------------------------------ */
/* master: click + tracks in plan order, times master gain, interleaved     */
/* ------------------------------------------------------------------------ */

static void master_process(eng_plan_node *node, eng_run *r) {
  const eng_plan *p = r->plan;
  gain_state *gs = node->state;
  float accl[ENG_CHUNK], accr[ENG_CHUNK];
  const float unity = 1.0f;
  uint32_t n_frames = r->n;
  if (p->click_buf != ENG_NO_BUF) {
    const float *c = eng__buf(r, p->click_buf);
    memcpy(accl, c, n_frames * sizeof(float));
    memcpy(accr, c, n_frames * sizeof(float));
  } else {
    memset(accl, 0, n_frames * sizeof(float));
    memset(accr, 0, n_frames * sizeof(float));
  }
  /* Same order of additions per frame as the skeleton: click, track 0, 1...
   * Tracks routed to a bus reach master through that bus. */
  for (uint32_t i = 0; i < p->n_tracks; i++) {
    if (!p->tracks[i].to_master) continue;
    if (p->tracks[i].master_delay) {
      eng__add_delayed(r, i, false, p->tracks[i].master_delay, &unity, NULL, accl, accr);
      continue;
    }
    const float *L = eng__buf(r, p->tracks[i].buf), *R = L + ENG_CHUNK;
    for (uint32_t n = 0; n < n_frames; n++) {
      accl[n] += L[n];
      accr[n] += R[n];
    }
  }
  float g = p->master_gain;
  if (gains_follow(gs, g, g, 1.0f, p->sample_rate)) {
    for (uint32_t n = 0; n < n_frames; n++) {
      g = eng_smooth_next(&gs->l);
      (void) eng_smooth_next(&gs->r);
      r->out[2 * n] = accl[n] * g;
      r->out[2 * n + 1] = accr[n] * g;
    }
    return;
  }
  for (uint32_t n = 0; n < n_frames; n++) {
    r->out[2 * n] = accl[n] * g;
    r->out[2 * n + 1] = accr[n] * g;
  }
}

const eng_node_class eng__master_class = {.name = "master",
                                          .deterministic = true,
                                          .state_size = gain_state_size,
                                          .process = master_process};

/* ------------------------------------------------------------------------ */
/* registry                                                                 */
/* ------------------------------------------------------------------------ */

const eng_node_class *eng__node_class(uint32_t kind) {
  switch ((eng_node_kind) kind) {
    case ENG_NODE_SYNTH:
      return &eng__synth_class;
    case ENG_NODE_DRUMS:
      return &eng__drums_class;
    case ENG_NODE_SAMPLER:
      return &eng__sampler_class;
    case ENG_NODE_GAIN:
      return &eng__gain_class;
    case ENG_NODE_EQ:
      return &eng__eq_class;
    case ENG_NODE_COMPRESSOR:
      return &eng__comp_class;
    case ENG_NODE_GATE:
      return &eng__gate_class;
    case ENG_NODE_SATURATOR:
      return &eng__sat_class;
    case ENG_NODE_DELAY:
      return &eng__delay_class;
    case ENG_NODE_REVERB:
      return &eng__reverb_class;
    case ENG_NODE_CHORUS:
      return &eng__chorus_class;
    case ENG_NODE_LIMITER:
      return &eng__limiter_class;
  }
  return NULL;
}

int eng_node_params(uint32_t kind, const eng_param_info **out, uint32_t *n) {
  const eng_node_class *c = eng__node_class(kind);
  if (out) *out = c ? c->params : NULL;
  if (n) *n = c ? c->n_params : 0;
  return c ? ENG_OK : ENG_ERR_UNKNOWN_NODE;
}

const char *eng_node_kind_name(uint32_t kind) {
  const eng_node_class *c = eng__node_class(kind);
  return c ? c->name : NULL;
}

bool eng_node_is_instrument(uint32_t kind) {
  const eng_node_class *c = eng__node_class(kind);
  return c && c->instrument;
}

/* ------------------------------------------------------------------------ */
/* stand-alone nodes (tests, benchmark)                                     */
/* ------------------------------------------------------------------------ */

int eng__solo_create(const eng_device_desc *d, uint32_t sample_rate, double tempo_bpm,
                     eng_solo_node **out) {
  *out = NULL;
  const eng_node_class *cls = d ? eng__node_class(d->kind) : NULL;
  if (!cls) return ENG_ERR_UNKNOWN_NODE;
  for (uint32_t k = 0; k < d->n_params; k++) {
    if (d->params[k].id >= cls->n_params) return ENG_ERR_PARAM;
    const eng_param_info *pi = &cls->params[d->params[k].id];
    if (!(d->params[k].value >= pi->min && d->params[k].value <= pi->max)) return ENG_ERR_PARAM;
  }
  eng_solo_node *s = calloc(1, sizeof *s);
  size_t sz = cls->state_size(sample_rate);
  void *state = sz ? aligned_alloc(64, (sz + 63) / 64 * 64) : NULL;
  if (!s || (sz && !state)) {
    free(s);
    free(state);
    return ENG_ERR_NOMEM;
  }
  if (state) memset(state, 0, sz);
  float vals[ENG_MAX_PARAMS];
  for (uint32_t i = 0; i < cls->n_params; i++)
    vals[i] = cls->params[i].def;
  for (uint32_t k = 0; k < d->n_params; k++)
    vals[d->params[k].id] = d->params[k].value;
  eng__params_init(state, cls, vals, sample_rate);
  if (cls->init) cls->init(state, sample_rate, 60.0 / tempo_bpm * sample_rate);
  s->node.cls = cls;
  s->node.state = state;
  s->node.in = s->node.out = 0;
  s->node.side = ENG_NO_BUF;
  s->node.track = ENG_NO_TRACK;
  s->node.bypass = d->bypass;
  *out = s;
  return ENG_OK;
}

void eng__solo_destroy(eng_solo_node *s) {
  if (!s) return;
  free(s->node.state);
  free(s);
}

void eng__solo_process(eng_solo_node *s, uint32_t n, const eng_event *ev, uint32_t n_ev,
                       bool use_side) {
  eng_run r = {.buffers = s->buf,
               .out = s->scratch_out,
               .n = n,
               .t_frames = n,
               .ramp = 1.0f,
               .events = ev,
               .n_events = n_ev};
  s->node.side = use_side ? 1 : ENG_NO_BUF;
  if (s->node.bypass) return;
  s->node.cls->process(&s->node, &r);
}
