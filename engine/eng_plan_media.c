/* eng_plan_media.c: the recorded-audio part of plan compilation (control
 * thread): validating sampler zones, copying them into the plan, and the
 * warnings about silent zones that eng_plan_compile returns on success.
 *
 * Called by eng_plan.c only (prototypes in eng_plan_int.h). Sample data is
 * never copied here: the plan borrows it (eng_sample, eng_node.h). */
#include "engine/eng_err.h"
#include "engine/eng_plan_int.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
  }
  if (silent == 1) say(why, len, 0, "%s: it stays silent", first);
  if (silent > 1)
    say(why, len, 0, "%s, and %u more zones have none: they stay silent", first, silent - 1);
}
