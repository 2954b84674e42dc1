/* eng_auto.c: parameter automation (eng_automation in eng_plan.h).
 *
 * Control thread: which lanes of a description are usable (eng_plan_compile
 * ignores the others with a warning). RT thread: the curve over a chunk's
 * time range, fed to the parameter's smoother (eng_smooth_follow in
 * eng_dsp_int.h) so that a continuous curve is followed exactly and a jump
 * glides over the parameter's ramp. No allocation, no lock: the points live
 * in the plan's arena and the chunk's values in the engine's scratch. */
#include "engine/eng_plan_int.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

/* ------------------------------------------------------------------------ */
/* checks (control thread)                                                  */
/* ------------------------------------------------------------------------ */

/* The device `slot` of t (0 = instrument, 1 + i = effect i), or NULL. */
static const eng_device_desc *device_of(const eng_track_desc *t, uint32_t slot) {
  if (slot == 0) return t->instrument;
  return slot - 1 < t->n_effects && t->effects ? &t->effects[slot - 1] : NULL;
}

/* Names lane a's target ("gain", "effect 1 (eq) parameter 3 (mid1_freq)")
 * and gives its range; false if the target does not exist. */
static bool target_of(const eng_track_desc *t, const eng_automation *a, char *name, size_t len,
                      float *lo, float *hi) {
  if (a->target == ENG_AUTO_GAIN) {
    snprintf(name, len, "gain");
    *lo = 0.0f, *hi = ENG_MAX_GAIN;
    return true;
  }
  if (a->target == ENG_AUTO_PAN) {
    snprintf(name, len, "pan");
    *lo = -1.0f, *hi = 1.0f;
    return true;
  }
  if (a->target == ENG_AUTO_SEND) {
    if (a->device >= t->n_sends) {
      snprintf(name, len, "send %u", a->device);
      return false;
    }
    snprintf(name, len, "send %u (to bus %llu) level", a->device,
             (unsigned long long) t->sends[a->device].bus_track_id);
    *lo = 0.0f, *hi = ENG_MAX_GAIN;
    return true;
  }
  if (a->target != ENG_AUTO_PARAM) {
    snprintf(name, len, "target %u", a->target);
    return false;
  }
  const eng_device_desc *dv = device_of(t, a->device);
  const eng_node_class *cls = dv ? eng__node_class(dv->kind) : NULL;
  char dev[48];
  if (a->device == 0)
    snprintf(dev, sizeof dev, "instrument");
  else
    snprintf(dev, sizeof dev, "effect %u", a->device - 1);
  if (!cls) {
    snprintf(name, len, "%s parameter %u", dev, a->param_id);
    return false;
  }
  if (a->param_id >= cls->n_params) {
    snprintf(name, len, "%s (%s) parameter %u", dev, cls->name, a->param_id);
    return false;
  }
  const eng_param_info *pi = &cls->params[a->param_id];
  snprintf(name, len, "%s (%s) parameter %u (%s)", dev, cls->name, a->param_id, pi->name);
  *lo = pi->min, *hi = pi->max;
  return true;
}

static bool same_target(const eng_automation *a, const eng_automation *b) {
  if (a->target != b->target) return false;
  if (a->target == ENG_AUTO_SEND) return a->device == b->device;
  return a->target != ENG_AUTO_PARAM || (a->device == b->device && a->param_id == b->param_id);
}

/* Checks lane k of t alone; on a problem writes the sentence to why. */
static bool lane_ok(const eng_track_desc *t, uint32_t k, char *why, size_t len) {
  const eng_automation *a = &t->automations[k];
  unsigned long long tid = (unsigned long long) t->track_id;
  char name[128];
  float lo = 0.0f, hi = 0.0f;
  if (!target_of(t, a, name, sizeof name, &lo, &hi)) {
    snprintf(why, len, "track %llu automation %u (%s): no such target on this track", tid, k, name);
    return false;
  }
  if (a->n_points == 0 || !a->points || a->n_points > ENG_MAX_AUTO_POINTS) {
    if (a->n_points && !a->points)
      snprintf(why, len, "track %llu automation %u (%s): points is NULL", tid, k, name);
    else
      snprintf(why, len, "track %llu automation %u (%s): %u points (1..%u)", tid, k, name,
               a->n_points, (unsigned) ENG_MAX_AUTO_POINTS);
    return false;
  }
  for (uint32_t i = 0; i < a->n_points; i++) {
    const eng_auto_point *p = &a->points[i];
    if (!(isfinite(p->value) && p->value >= lo && p->value <= hi)) {
      snprintf(why, len, "track %llu automation %u (%s): point %u = %g is outside %g..%g", tid, k,
               name, i, (double) p->value, (double) lo, (double) hi);
      return false;
    }
    if (p->curve > ENG_CURVE_S) {
      snprintf(why, len, "track %llu automation %u (%s): point %u has unknown curve %u", tid, k,
               name, i, p->curve);
      return false;
    }
    if (!(isfinite(p->tension) && p->tension >= -1.0f && p->tension <= 1.0f)) {
      snprintf(why, len, "track %llu automation %u (%s): point %u tension %g is outside -1..1", tid,
               k, name, i, (double) p->tension);
      return false;
    }
    if (p->frame > UINT64_MAX / 2 || (i > 0 && p->frame < a->points[i - 1].frame)) {
      snprintf(why, len,
               "track %llu automation %u (%s): point %u at frame %llu is before point %u "
               "(points must be sorted)",
               tid, k, name, i, (unsigned long long) p->frame, i ? i - 1 : 0);
      return false;
    }
  }
  return true;
}

uint32_t eng__auto_select(const eng_track_desc *t, bool *use, char *first, size_t len) {
  uint32_t bad = 0;
  char msg[256];
  for (uint32_t k = 0; k < t->n_automations; k++) {
    use[k] = lane_ok(t, k, msg, sizeof msg);
    for (uint32_t j = 0; use[k] && j < k; j++)
      if (use[j] && same_target(&t->automations[j], &t->automations[k])) {
        snprintf(msg, sizeof msg,
                 "track %llu automation %u drives the same target as automation %u",
                 (unsigned long long) t->track_id, k, j);
        use[k] = false;
      }
    if (!use[k] && bad++ == 0 && first && len) snprintf(first, len, "%s", msg);
  }
  return bad;
}

/* ------------------------------------------------------------------------ */
/* the curve (pure; RT-safe)                                                */
/* ------------------------------------------------------------------------ */

/* Between a and b (a->frame <= f < b->frame), shaped by a's curve. */
static float segment(const eng_auto_point *a, const eng_auto_point *b, uint64_t f) {
  if (a->curve == ENG_CURVE_HOLD) return a->value;
  double t = (double) (f - a->frame) / (double) (b->frame - a->frame), s = t;
  if (a->curve == ENG_CURVE_EXP) {
    double k = 4.0 + 4.0 * a->tension;
    if (k > 1e-9) s = expm1(k * t) / expm1(k);
  } else if (a->curve == ENG_CURVE_S) {
    double e = exp2(1.0 + a->tension), x = pow(t, e), y = pow(1.0 - t, e);
    s = x / (x + y);
  }
  return (float) ((double) a->value + ((double) b->value - (double) a->value) * s);
}

/* Points with frame <= f. */
static uint32_t count_upto(const eng_auto_point *p, uint32_t n, uint64_t f) {
  uint32_t lo = 0, hi = n;
  while (lo < hi) {
    uint32_t mid = lo + (hi - lo) / 2;
    if (p[mid].frame <= f)
      lo = mid + 1;
    else
      hi = mid;
  }
  return lo;
}

/* The value at f, given i = count_upto(f). */
static float value_at(const eng_auto_point *p, uint32_t n, uint32_t i, uint64_t f) {
  if (i == 0) return p[0].value;
  if (i == n) return p[n - 1].value;
  return segment(&p[i - 1], &p[i], f);
}

float eng__auto_value(const eng_auto_point *pts, uint32_t n, uint64_t f) {
  return value_at(pts, n, count_upto(pts, n, f), f);
}

void eng__auto_eval(const eng_plan_auto *a, const eng_run *r, float *vals,
                    uint64_t jumps[ENG_CHUNK / 64], float *prev) {
  const eng_auto_point *p = a->points;
  uint32_t n = a->n_points;
  memset(jumps, 0, ENG_CHUNK / 64 * sizeof(uint64_t));
  uint64_t pos = r->start;
  uint32_t i = count_upto(p, n, pos);
  float v = value_at(p, n, i, pos);
  *prev = r->t_frames && pos > 0 ? eng__auto_value(p, n, pos - 1) : v;
  vals[0] = v;
  for (uint32_t k = 1; k < r->n; k++) {
    if (k >= r->t_frames) { /* the transport does not drive this frame: hold */
      vals[k] = v;
      continue;
    }
    pos++;
    if (i < n && p[i].frame <= pos) { /* crossing points at this frame */
      float left = i == 0                             ? p[0].value
                   : p[i - 1].curve == ENG_CURVE_HOLD ? p[i - 1].value
                                                      : p[i].value;
      while (i < n && p[i].frame <= pos)
        i++;
      v = value_at(p, n, i, pos);
      if (v != left) jumps[k >> 6] |= 1ull << (k & 63);
    } else if (i > 0 && i < n && p[i - 1].curve != ENG_CURVE_HOLD) {
      v = segment(&p[i - 1], &p[i], pos);
    }
    vals[k] = v;
  }
}

/* ------------------------------------------------------------------------ */
/* device parameters (RT thread)                                            */
/* ------------------------------------------------------------------------ */

void eng__auto_begin(eng_plan_node *nd, const eng_run *r, float (*scratch)[ENG_CHUNK]) {
  eng_pstate *ps = nd->state;
  uint64_t jumps[ENG_CHUNK / 64];
  for (uint32_t j = 0; j < nd->n_autos; j++) {
    const eng_plan_auto *a = &nd->autos[j];
    eng_smooth *s = &ps->p[a->param];
    float *vals = scratch[j], prev;
    eng__auto_eval(a, r, vals, jumps, &prev);
    if (a->smoothing == ENG_SMOOTH_NONE) { /* choices, counts: the chunk's first value */
      s->cur = s->target = vals[0];
      s->left = 0;
      continue;
    }
    float first = s->cur;
    bool changes = false;
    for (uint32_t k = 0; k < r->n; k++) {
      bool jump = k ? (jumps[k >> 6] >> (k & 63)) & 1 : s->target != prev;
      vals[k] = eng_smooth_follow(s, vals[k], jump);
      changes |= vals[k] != first;
    }
    /* A still value needs no lane: the node sees a parameter at rest. */
    if (changes) eng_smooth_lane_begin(s, vals, r->n);
  }
}

void eng__auto_end(eng_plan_node *nd) {
  eng_pstate *ps = nd->state;
  for (uint32_t j = 0; j < nd->n_autos; j++) {
    eng_smooth *s = &ps->p[nd->autos[j].param];
    if (s->lane) eng_smooth_lane_end(s);
  }
}
