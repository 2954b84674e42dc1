/* eng_plan_media.c: the recorded-audio part of plan compilation (control
 * thread): validating sampler zones and audio clips, copying them into the
 * plan, stretching clips with Rubber Band, and the warnings about silent
 * zones and clips that eng_plan_compile returns on success.
 *
 * Called by eng_plan.c only (prototypes in eng_plan_int.h). Sample data is
 * never copied here: the plan borrows it (eng_sample, eng_node.h), except a
 * stretched clip, whose stretched copy the plan owns, or shares with other
 * plans through an eng_stretch_cache. */
#include "engine/eng_err.h"
#include "engine/eng_plan_int.h"

#include <math.h>
#include <rubberband/rubberband-c.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define WARP_BLOCK 4096 /* frames per Rubber Band call */

static int say(char *why, size_t len, int rc, const char *fmt, ...) {
  if (why && len) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, len, fmt, ap);
    va_end(ap);
  }
  return rc;
}

static bool has_data(const eng_sample *s) {
  return s->frames && s->n_frames > 0;
}

/* The format fields of a sample with data; "" if they are fine. */
static const char *sample_problem(const eng_sample *s) {
  if (!has_data(s)) return "";
  if (s->n_channels != 1 && s->n_channels != 2) return "has a channel count other than 1 or 2";
  if (s->sample_rate < ENG_MIN_SAMPLE_RATE || s->sample_rate > ENG_MAX_SAMPLE_RATE)
    return "has a sample rate out of range";
  if (s->n_frames > UINT64_MAX / 4) return "is too long";
  return "";
}

/* ------------------------------------------------------------------------ */
/* sampler zones                                                            */
/* ------------------------------------------------------------------------ */

static const char *zone_problem(const eng_zone_desc *z) {
  const char *sp = sample_problem(&z->sample);
  uint8_t vlo = z->vel_lo ? z->vel_lo : 1, vhi = z->vel_hi ? z->vel_hi : 127;
  uint64_t lend = z->loop_end ? z->loop_end : z->sample.n_frames;
  if (sp[0]) return sp;
  if (z->key_lo > z->key_hi || z->key_hi > 127 || z->root_key > 127) return "has a bad key range";
  if (vlo > vhi || vhi > 127) return "has a bad velocity range";
  if (z->mode != ENG_ZONE_PITCHED && z->mode != ENG_ZONE_ONE_SHOT) return "has an unknown mode";
  if (!(isfinite(z->gain) && z->gain >= 0.0f && z->gain <= ENG_MAX_GAIN))
    return "has a gain out of range";
  if (z->loop && z->mode == ENG_ZONE_ONE_SHOT) return "loops, but one-shot zones play once";
  if (z->loop && has_data(&z->sample) && (z->loop_start >= lend || lend > z->sample.n_frames))
    return "has loop points outside its sample";
  return "";
}

int eng__validate_zones(const eng_device_desc *dv, uint64_t tid, char *why, size_t len) {
  if (dv->n_zones == 0) return ENG_OK;
  if (dv->kind != ENG_NODE_SAMPLER)
    return say(why, len, ENG_ERR_INVALID, "track %llu instrument: only a sampler takes zones",
               (unsigned long long) tid);
  if (dv->n_zones > ENG_MAX_ZONES)
    return say(why, len, ENG_ERR_INVALID, "track %llu sampler: %u zones (at most %u)",
               (unsigned long long) tid, dv->n_zones, ENG_MAX_ZONES);
  if (!dv->zones)
    return say(why, len, ENG_ERR_INVALID, "track %llu sampler: zones is NULL",
               (unsigned long long) tid);
  for (uint32_t k = 0; k < dv->n_zones; k++) {
    const char *bad = zone_problem(&dv->zones[k]);
    if (bad[0])
      return say(why, len, ENG_ERR_INVALID, "track %llu sampler zone %u %s",
                 (unsigned long long) tid, k, bad);
  }
  return ENG_OK;
}

void eng__copy_zones(const eng_device_desc *dv, eng_zone_desc *out) {
  for (uint32_t k = 0; k < dv->n_zones; k++) {
    eng_zone_desc z = dv->zones[k];
    if (!has_data(&z.sample)) z.sample.frames = NULL, z.sample.n_frames = 0;
    if (!z.vel_lo) z.vel_lo = 1;
    if (!z.vel_hi) z.vel_hi = 127;
    if (!z.loop_end) z.loop_end = z.sample.n_frames;
    out[k] = z;
  }
}

/* ------------------------------------------------------------------------ */
/* audio clips                                                              */
/* ------------------------------------------------------------------------ */

static bool stretched(const eng_clip_desc *c) {
  return c->stretch != 0.0 && c->stretch != 1.0;
}

static const char *clip_problem(const eng_clip_desc *c) {
  const char *sp = sample_problem(&c->sample);
  if (sp[0]) return sp;
  if (c->length_frames == 0) return "has length 0";
  if (c->start_frame > UINT64_MAX / 4 || c->length_frames > UINT64_MAX / 4) return "is too long";
  if (c->fade_in_frames > c->length_frames || c->fade_out_frames > c->length_frames ||
      c->fade_in_frames + c->fade_out_frames > c->length_frames)
    return "has fades longer than the clip";
  if (!(isfinite(c->gain) && c->gain >= 0.0f && c->gain <= ENG_MAX_GAIN))
    return "has a gain out of range";
  if (stretched(c) &&
      !(isfinite(c->stretch) && c->stretch >= ENG_MIN_STRETCH && c->stretch <= ENG_MAX_STRETCH))
    return "has a stretch out of range";
  if (!has_data(&c->sample)) return "";
  if (c->offset_frames >= c->sample.n_frames) return "starts past the end of its sample";
  if (c->loop && (c->loop_frames == 0 || c->loop_frames > c->sample.n_frames - c->offset_frames))
    return "has a loop outside its sample";
  return "";
}

int eng__validate_clips(const eng_track_desc *t, char *why, size_t len) {
  unsigned long long tid = (unsigned long long) t->track_id;
  if (!t->audio && t->n_clips == 0) return ENG_OK;
  if (t->instrument || t->n_notes || t->live || t->bus)
    return say(why, len, ENG_ERR_INVALID,
               "track %llu is an audio track: it takes no instrument, notes, live input or bus",
               tid);
  if (t->n_clips > ENG_MAX_CLIPS)
    return say(why, len, ENG_ERR_INVALID, "track %llu: %u clips (at most %u)", tid, t->n_clips,
               ENG_MAX_CLIPS);
  if (t->n_clips > 0 && !t->clips)
    return say(why, len, ENG_ERR_INVALID, "track %llu: clips is NULL", tid);
  for (uint32_t k = 0; k < t->n_clips; k++) {
    const char *bad = clip_problem(&t->clips[k]);
    if (bad[0]) return say(why, len, ENG_ERR_INVALID, "track %llu clip %u %s", tid, k, bad);
  }
  return ENG_OK;
}

/* Stretches n frames of interleaved `in` by `ratio` in time (pitch kept)
 * with Rubber Band's offline engine, single-threaded (same output every
 * run). *out: malloc'd, *n_out frames. */
static int warp(const float *in, uint64_t n, uint32_t ch, uint32_t sr, double ratio, float **out,
                uint64_t *n_out) {
  *out = NULL;
  *n_out = 0;
  uint64_t cap = (uint64_t) ceil((double) n * ratio) + WARP_BLOCK;
  float *res = malloc((size_t) cap * ch * sizeof(float));
  float *planar = malloc((size_t) WARP_BLOCK * ch * sizeof(float));
  RubberBandState rb = rubberband_new(
      sr, ch, RubberBandOptionProcessOffline | RubberBandOptionThreadingNever, ratio, 1.0);
  if (!res || !planar || !rb) {
    free(res);
    free(planar);
    if (rb) rubberband_delete(rb);
    return ENG_ERR_NOMEM;
  }
  float *chans[2] = {planar, planar + WARP_BLOCK};
  rubberband_set_expected_input_duration(rb, (unsigned) n);
  rubberband_set_max_process_size(rb, WARP_BLOCK);
  uint64_t got = 0;
  for (int pass = 0; pass < 2; pass++) { /* study, then process */
    for (uint64_t at = 0; at < n; at += WARP_BLOCK) {
      uint32_t m = (uint32_t) (n - at < WARP_BLOCK ? n - at : WARP_BLOCK);
      for (uint32_t i = 0; i < m; i++)
        for (uint32_t c = 0; c < ch; c++)
          chans[c][i] = in[(size_t) (at + i) * ch + c];
      int final = at + m == n;
      if (pass == 0) {
        rubberband_study(rb, (const float *const *) chans, m, final);
        continue;
      }
      rubberband_process(rb, (const float *const *) chans, m, final);
      for (int avail; (avail = rubberband_available(rb)) > 0 && got < cap;) {
        uint32_t k = (uint32_t) avail < WARP_BLOCK ? (uint32_t) avail : WARP_BLOCK;
        if (k > cap - got) k = (uint32_t) (cap - got);
        k = (uint32_t) rubberband_retrieve(rb, chans, k);
        for (uint32_t i = 0; i < k; i++)
          for (uint32_t c = 0; c < ch; c++)
            res[(size_t) (got + i) * ch + c] = chans[c][i];
        got += k;
      }
    }
  }
  rubberband_delete(rb);
  free(planar);
  *out = res;
  *n_out = got;
  return ENG_OK;
}

/* Source frames clip c reads from its offset (before stretching). */
static uint64_t source_span(const eng_clip_desc *c, double rate) {
  uint64_t left = c->sample.n_frames - c->offset_frames;
  if (c->loop) return c->loop_frames;
  double want = ceil((double) c->length_frames * rate / c->stretch) + 8.0;
  return want < (double) left ? (uint64_t) want : left;
}

/* ---- Stretched clips shared across plans (eng_stretch_cache) ---------------- */

typedef struct eng_stretch_entry {
  uint64_t hash, n_in; /* the source: content hash and frames */
  uint32_t channels, rate;
  double ratio;
  float *frames; /* the stretched copy, n_out frames */
  uint64_t n_out;
  uint32_t refs; /* plans holding it */
  uint64_t used; /* cache clock at the last lookup that found or made it */
} eng_stretch_entry;

struct eng_stretch_cache {
  size_t keep_bytes;
  eng_stretch_entry **e;
  uint32_t n, cap;
  uint64_t clock, hits, misses, bytes;
};

int eng_stretch_cache_create(size_t keep_bytes, eng_stretch_cache **out) {
  if (!out) return ENG_ERR_INVALID;
  *out = calloc(1, sizeof **out);
  if (!*out) return ENG_ERR_NOMEM;
  (*out)->keep_bytes = keep_bytes;
  return ENG_OK;
}

void eng_stretch_cache_destroy(eng_stretch_cache *c) {
  if (!c) return;
  for (uint32_t i = 0; i < c->n; i++) {
    free(c->e[i]->frames);
    free(c->e[i]);
  }
  free(c->e);
  free(c);
}

void eng_stretch_cache_stats(const eng_stretch_cache *c, eng_stretch_stats *out) {
  if (!out) return;
  *out = c ? (eng_stretch_stats){c->hits, c->misses, c->bytes, c->n} : (eng_stretch_stats){0};
}

static uint64_t entry_bytes(const eng_stretch_entry *x) {
  return x->n_out * x->channels * sizeof(float);
}

/* Drops entries no plan holds, least recently used first, while the cache
 * holds more than it should keep. */
static void stretch_trim(eng_stretch_cache *c) {
  while (c->bytes > c->keep_bytes) {
    uint32_t old = UINT32_MAX;
    for (uint32_t i = 0; i < c->n; i++)
      if (!c->e[i]->refs && (old == UINT32_MAX || c->e[i]->used < c->e[old]->used)) old = i;
    if (old == UINT32_MAX) return;
    c->bytes -= entry_bytes(c->e[old]);
    free(c->e[old]->frames);
    free(c->e[old]);
    c->e[old] = c->e[--c->n];
  }
}

/* A 64-bit hash of n floats' bits (multiply-xorshift over 32-bit words):
 * equal content, equal hash, wherever it lies. */
static uint64_t content_hash(const float *f, size_t n) {
  uint64_t h = 0x9e3779b97f4a7c15ull ^ n;
  for (size_t i = 0; i < n; i++) {
    uint32_t w;
    memcpy(&w, &f[i], sizeof w);
    h = (h ^ w) * 0xff51afd7ed558ccdull;
    h ^= h >> 29;
  }
  return h;
}

void eng__release_stretched(eng_plan *p) {
  for (uint32_t i = 0; i < p->n_shared; i++)
    p->shared[i]->refs--;
  if (p->stretch_cache) stretch_trim(p->stretch_cache);
  free(p->shared);
  p->shared = NULL, p->n_shared = 0;
}

/* The stretched copy of N frames at IN for plan p: from p's cache if one
 * was stretched from the same content, else stretched now (and kept in the
 * cache if p has one, else owned by p). */
static int stretch_for(eng_plan *p, const float *in, uint64_t n, uint32_t ch, uint32_t sr,
                       double ratio, float **out, uint64_t *n_out) {
  eng_stretch_cache *c = p->stretch_cache;
  if (!c) {
    int rc = warp(in, n, ch, sr, ratio, out, n_out);
    if (rc == ENG_OK) p->owned[p->n_owned++] = *out;
    return rc;
  }
  uint64_t h = content_hash(in, (size_t) n * ch);
  c->clock++;
  for (uint32_t i = 0; i < c->n; i++) {
    eng_stretch_entry *x = c->e[i];
    if (x->hash == h && x->n_in == n && x->channels == ch && x->rate == sr && x->ratio == ratio) {
      x->refs++, x->used = c->clock, c->hits++;
      p->shared[p->n_shared++] = x;
      *out = x->frames, *n_out = x->n_out;
      return ENG_OK;
    }
  }
  if (c->n == c->cap) {
    uint32_t cap = c->cap ? c->cap * 2 : 8;
    eng_stretch_entry **e = realloc(c->e, cap * sizeof *e);
    if (!e) return ENG_ERR_NOMEM;
    c->e = e, c->cap = cap;
  }
  eng_stretch_entry *x = calloc(1, sizeof *x);
  if (!x) return ENG_ERR_NOMEM;
  int rc = warp(in, n, ch, sr, ratio, &x->frames, &x->n_out);
  if (rc != ENG_OK) {
    free(x);
    return rc;
  }
  *x = (eng_stretch_entry){h, n, ch, sr, ratio, x->frames, x->n_out, 1, c->clock};
  c->e[c->n++] = x;
  c->misses++, c->bytes += entry_bytes(x);
  p->shared[p->n_shared++] = x;
  *out = x->frames, *n_out = x->n_out;
  stretch_trim(c);
  return ENG_OK;
}

/* Fills *pc from c; a stretched clip gets its stretched copy (stretch_for). */
static int compile_clip(eng_plan *p, const eng_clip_desc *c, eng_plan_clip *pc) {
  memset(pc, 0, sizeof *pc);
  pc->start = c->start_frame;
  pc->end = c->start_frame + c->length_frames;
  pc->gain = c->gain;
  pc->fade_in = c->fade_in_frames;
  pc->fade_out = c->fade_out_frames;
  if (!has_data(&c->sample)) return ENG_OK; /* silent */
  pc->rate = (double) c->sample.sample_rate / (double) p->sample_rate;
  pc->frames = c->sample.frames;
  pc->n_frames = c->sample.n_frames;
  pc->n_channels = c->sample.n_channels;
  pc->offset = c->offset_frames;
  pc->loop_len = c->loop ? c->loop_frames : 0;
  if (!stretched(c)) return ENG_OK;
  uint64_t span = source_span(c, pc->rate);
  float *buf;
  uint64_t n;
  int rc = stretch_for(p, c->sample.frames + (size_t) c->offset_frames * c->sample.n_channels, span,
                       c->sample.n_channels, c->sample.sample_rate, c->stretch, &buf, &n);
  if (rc != ENG_OK) return rc;
  pc->frames = n ? buf : NULL;
  pc->n_frames = n;
  pc->offset = 0;
  if (c->loop) {
    uint64_t l = (uint64_t) llround((double) c->loop_frames * c->stretch);
    pc->loop_len = l < 1 ? 1 : l > n ? n : l;
  }
  return ENG_OK;
}

static int clip_cmp(const void *a, const void *b) {
  const eng_plan_clip *x = a, *y = b;
  return x->start < y->start ? -1 : x->start > y->start;
}

uint32_t eng__stretched_clips(const eng_track_desc *t) {
  uint32_t n = 0;
  for (uint32_t k = 0; k < t->n_clips; k++)
    n += stretched(&t->clips[k]) && has_data(&t->clips[k].sample);
  return n;
}

int eng__compile_clips(eng_plan *p, const eng_track_desc *t, eng_plan_clip *out) {
  for (uint32_t k = 0; k < t->n_clips; k++) {
    int rc = compile_clip(p, &t->clips[k], &out[k]);
    if (rc != ENG_OK) return rc;
  }
  qsort(out, t->n_clips, sizeof *out, clip_cmp);
  uint64_t m = 0;
  for (uint32_t k = 0; k < t->n_clips; k++) {
    if (out[k].end > m) m = out[k].end;
    out[k].end_max = m;
  }
  return ENG_OK;
}

/* ------------------------------------------------------------------------ */
/* warnings (on success)                                                    */
/* ------------------------------------------------------------------------ */

void eng__media_warnings(const eng_plan_desc *d, char *why, size_t len) {
  uint32_t silent = 0;
  char first[160] = "";
  for (uint32_t i = 0; i < d->n_tracks; i++) {
    const eng_track_desc *t = &d->tracks[i];
    unsigned long long tid = (unsigned long long) t->track_id;
    const eng_device_desc *dv = t->instrument;
    for (uint32_t k = 0; dv && k < dv->n_zones; k++)
      if (!has_data(&dv->zones[k].sample) && silent++ == 0)
        snprintf(first, sizeof first, "track %llu sampler zone %u has no sample data", tid, k);
    for (uint32_t k = 0; k < t->n_clips; k++)
      if (!has_data(&t->clips[k].sample) && silent++ == 0)
        snprintf(first, sizeof first, "track %llu clip %u has no sample data", tid, k);
  }
  if (silent == 1) say(why, len, 0, "%s: it stays silent", first);
  if (silent > 1)
    say(why, len, 0, "%s, and %u more zones or clips have none: they stay silent", first,
        silent - 1);
}
