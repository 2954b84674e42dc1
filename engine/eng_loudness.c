/* eng_loudness.c: libebur128 behind the eng_loudness API (see eng_loudness.h). */
#include "engine/eng_loudness.h"
#include "engine/eng_err.h"
#include "engine/eng_plan.h"

#include <ebur128.h>
#include <math.h>
#include <stdlib.h>

struct eng_loudness {
  ebur128_state *st;
};

int eng_loudness_create(uint32_t sample_rate, eng_loudness **out) {
  if (!out) return ENG_ERR_INVALID;
  *out = NULL;
  if (sample_rate < ENG_MIN_SAMPLE_RATE || sample_rate > ENG_MAX_SAMPLE_RATE)
    return ENG_ERR_INVALID;
  eng_loudness *l = calloc(1, sizeof *l);
  if (!l) return ENG_ERR_NOMEM;
  l->st = ebur128_init(2, sample_rate, EBUR128_MODE_I | EBUR128_MODE_TRUE_PEAK);
  if (!l->st) {
    free(l);
    return ENG_ERR_NOMEM;
  }
  *out = l;
  return ENG_OK;
}

int eng_loudness_add(eng_loudness *l, const float *frames_lr, size_t frames) {
  if (!l || (!frames_lr && frames)) return ENG_ERR_INVALID;
  if (frames == 0) return ENG_OK;
  return ebur128_add_frames_float(l->st, frames_lr, frames) == EBUR128_SUCCESS ? ENG_OK
                                                                               : ENG_ERR_NOMEM;
}

static double to_db(double linear) {
  return linear > 0.0 ? 20.0 * log10(linear) : -HUGE_VAL;
}

int eng_loudness_get(eng_loudness *l, eng_loudness_result *out) {
  if (!l || !out) return ENG_ERR_INVALID;
  double lufs = -HUGE_VAL, tp = 0.0, sp = 0.0;
  if (ebur128_loudness_global(l->st, &lufs) != EBUR128_SUCCESS) lufs = -HUGE_VAL;
  for (unsigned ch = 0; ch < 2; ch++) {
    double t = 0.0, s = 0.0;
    if (ebur128_true_peak(l->st, ch, &t) == EBUR128_SUCCESS && t > tp) tp = t;
    if (ebur128_sample_peak(l->st, ch, &s) == EBUR128_SUCCESS && s > sp) sp = s;
  }
  out->integrated_lufs = lufs;
  out->true_peak_dbtp = to_db(tp);
  out->sample_peak_dbfs = to_db(sp);
  return ENG_OK;
}

void eng_loudness_destroy(eng_loudness *l) {
  if (!l) return;
  ebur128_destroy(&l->st);
  free(l);
}
