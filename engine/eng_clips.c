/* eng_clips.c: the clip player, the source of an audio track (RT process).
 *
 * Plays the track's audio clips (eng_clip_desc in eng_plan.h, compiled to
 * eng_plan_clip in the plan's arena, sorted by start) while the transport
 * runs. Stateless: every output frame is a pure function of the transport
 * position, so locate, plan swaps and offline renders need no clip state and
 * renders repeat bit for bit. Clip frame t (t = position - start) reads
 * source position offset + t * rate (modulo the loop length when looping)
 * with 4-point Hermite interpolation, which is exact on whole frames (rate
 * 1, no stretch: the source comes out unchanged), times gain and the
 * equal-power fades. Overlapping clips add. Session clips (a launched
 * slot's audio) are read on the session clock from the slot state the
 * engine keeps (eng_slot_play), the same way. */
#include "engine/eng_engine.h"
#include "engine/eng_plan_int.h"

#include <math.h>
#include <string.h>

#define HALF_PI 1.5707963267948966

/* Source frame i of clip c on channel ch, through the loop; 0 outside. */
static inline float tap(const eng_plan_clip *c, int64_t i, uint32_t ch) {
  if (c->loop_len && i >= (int64_t) (c->offset + c->loop_len)) i -= (int64_t) c->loop_len;
  if (i < 0 || i >= (int64_t) c->n_frames) return 0.0f;
  return c->frames[(size_t) i * c->n_channels + (ch < c->n_channels ? ch : 0)];
}

static inline float read_at(const eng_plan_clip *c, double pos, uint32_t ch) {
  int64_t i = (int64_t) pos;
  float t = (float) (pos - (double) i);
  if (t == 0.0f) return tap(c, i, ch);
  return eng_hermite(tap(c, i - 1, ch), tap(c, i, ch), tap(c, i + 1, ch), tap(c, i + 2, ch), t);
}

/* Equal-power fade gain at clip frame t (eng_plan.h, eng_clip_desc). */
static inline float fade(const eng_plan_clip *c, uint64_t t) {
  float g = 1.0f;
  if (t < c->fade_in) g = (float) sin(HALF_PI * (double) t / (double) c->fade_in);
  uint64_t left = c->end - c->start - 1 - t;
  if (left < c->fade_out) g *= (float) sin(HALF_PI * (double) left / (double) c->fade_out);
  return g;
}

/* Source position of clip frame t. */
static inline double source_pos(const eng_plan_clip *c, uint64_t t) {
  double s = (double) t * c->rate;
  if (c->loop_len) s = fmod(s, (double) c->loop_len);
  return (double) c->offset + s;
}

/* Adds clip c over transport frames [a, b) into L, R (frame a at index 0). */
static void add_clip(const eng_plan_clip *c, uint64_t a, uint64_t b, float *L, float *R) {
  uint64_t from = c->start > a ? c->start : a, to = c->end < b ? c->end : b;
  for (uint64_t pos = from; pos < to; pos++) {
    uint64_t t = pos - c->start;
    double s = source_pos(c, t);
    if (!c->loop_len && s >= (double) c->n_frames) break; /* past the source's end */
    float g = c->gain * fade(c, t);
    L[pos - a] += g * read_at(c, s, 0);
    R[pos - a] += g * read_at(c, s, 1);
  }
}

const eng_plan_slot *eng__find_slot(const eng_plan *p, uint32_t t, int32_t slot) {
  const eng_plan_track *tr = &p->tracks[t];
  for (uint32_t k = 0; slot >= 0 && k < tr->n_slots; k++)
    if (tr->slots[k].slot == (uint32_t) slot) return &tr->slots[k];
  return NULL;
}

static uint64_t mix(uint64_t x) { /* splitmix64's finaliser */
  x ^= x >> 30;
  x *= 0xbf58476d1ce4e5b9ull;
  x ^= x >> 27;
  x *= 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}

/* The slot a follow action of slot `cur` on track tr leads to, at clock
 * frame `at` (the random picks' seed), or ENG_NO_SLOT. */
static int32_t follow_target(const eng_plan_track *tr, uint32_t action, int32_t cur, uint64_t at) {
  int64_t lo = INT64_MAX, hi = -1, above = INT64_MAX, below = -1;
  for (uint32_t k = 0; k < tr->n_slots; k++) {
    int64_t s = tr->slots[k].slot;
    lo = s < lo ? s : lo, hi = s > hi ? s : hi;
    if (s > cur && s < above) above = s;
    if (s < cur && s > below) below = s;
  }
  uint64_t r = mix(at ^ mix(tr->track_id));
  switch ((eng_follow) action) {
    case ENG_FOLLOW_NONE:
    case ENG_FOLLOW_STOP:
      return ENG_NO_SLOT;
    case ENG_FOLLOW_AGAIN:
      return cur;
    case ENG_FOLLOW_NEXT:
      return (int32_t) (above != INT64_MAX ? above : lo);
    case ENG_FOLLOW_PREV:
      return (int32_t) (below >= 0 ? below : hi);
    case ENG_FOLLOW_FIRST:
      return (int32_t) lo;
    case ENG_FOLLOW_LAST:
      return (int32_t) hi;
    case ENG_FOLLOW_ANY:
      return (int32_t) tr->slots[r % tr->n_slots].slot;
    case ENG_FOLLOW_OTHER: {
      if (tr->n_slots < 2) return cur;
      uint32_t k = (uint32_t) (r % (tr->n_slots - 1)); /* the k-th slot that is not cur */
      for (uint32_t i = 0; i < tr->n_slots; i++)
        if ((int32_t) tr->slots[i].slot != cur && k-- == 0) return (int32_t) tr->slots[i].slot;
      return cur;
    }
  }
  return ENG_NO_SLOT;
}

void eng__follow(const eng_plan *p, uint32_t t, eng_slot_play *st) {
  const eng_plan_slot *sl = eng__find_slot(p, t, st->cur);
  if (!sl || !sl->follow || st->pending) return;
  st->pending = true;
  st->at = st->anchor + sl->follow_frames;
  st->next = follow_target(&p->tracks[t], sl->follow, st->cur, st->at);
}

/* Adds session clip sl, started at clock frame A, over clock frames
 * [lo, hi) into L, R (clock frame a at index 0): pass k of the loop covers
 * [A + k * length, A + (k + 1) * length), its clips in frames from there. */
static void add_slot(const eng_plan_slot *sl, uint64_t A, uint64_t lo, uint64_t hi, uint64_t a,
                     float *L, float *R) {
  if (lo < A) lo = A;
  if (!sl || lo >= hi) return;
  uint64_t len = sl->length;
  for (uint64_t k = (lo - A) / len; A + k * len < hi; k++) {
    uint64_t ps = A + k * len, from = lo > ps ? lo : ps, to = hi < ps + len ? hi : ps + len;
    for (uint32_t i = 0; i < sl->n_clips; i++) {
      const eng_plan_clip *c = &sl->clips[i];
      if (c->frames && c->start < to - ps && c->end > from - ps)
        add_clip(c, from - ps, to - ps, L + (from - a), R + (from - a));
    }
  }
}

/* The track's session clip over the chunk's clock frames [a, b): the one
 * playing until a queued switch, then the next one from the switch. */
static void session_clips(const eng_run *r, uint32_t t, uint64_t a, uint64_t b, float *L,
                          float *R) {
  const eng_slot_play *st = &r->slots[t];
  bool switching = st->pending && st->at < b;
  add_slot(eng__find_slot(r->plan, t, st->cur), st->anchor, a, switching ? st->at : b, a, L, R);
  if (switching) add_slot(eng__find_slot(r->plan, t, st->next), st->at, a, b, a, L, R);
}

static void clips_process(eng_plan_node *node, eng_run *r) {
  float *L = eng__buf(r, node->out), *R = L + ENG_CHUNK;
  memset(L, 0, r->n * sizeof(float));
  memset(R, 0, r->n * sizeof(float));
  if (r->t_frames == 0) return;
  const eng_plan_clip *c = node->items;
  uint64_t a = r->start, b = a + r->t_frames;
  /* hi: first clip starting at or after b; earlier ones may reach into [a, b) */
  uint32_t lo = 0, hi = node->n_items;
  while (lo < hi) {
    uint32_t mid = lo + (hi - lo) / 2;
    if (c[mid].start < b)
      lo = mid + 1;
    else
      hi = mid;
  }
  for (uint32_t i = hi; i-- > 0 && c[i].end_max > a;)
    if (c[i].frames && c[i].end > a) add_clip(&c[i], a, b, L, R);
  if (r->slots && r->plan->tracks[node->track].n_slots)
    session_clips(r, node->track, r->clock, r->clock + r->t_frames, L, R);
  if (r->ramp == 1.0f && r->ramp_step == 0.0f) return;
  float ramp = r->ramp;
  for (uint32_t n = 0; n < r->t_frames; n++, ramp += r->ramp_step) {
    L[n] *= ramp;
    R[n] *= ramp;
  }
}

const eng_node_class eng__clips_class = {
    .name = "clips", .deterministic = true, .process = clips_process};
