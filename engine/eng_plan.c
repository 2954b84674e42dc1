/* eng_plan.c: compiles an eng_plan_desc into an immutable eng_plan
 * (control thread). */
#include "engine/eng_plan.h"
#include "engine/eng_plan_int.h"
#include "engine/eng_err.h"

#include <math.h>
#include <stdlib.h>

#define PI 3.14159265358979323846

static bool in_range_f(float x, float lo, float hi) {
  return isfinite(x) && x >= lo && x <= hi;
}

static int validate(const eng_plan_desc *d) {
  if (d->sample_rate < ENG_MIN_SAMPLE_RATE || d->sample_rate > ENG_MAX_SAMPLE_RATE)
    return ENG_ERR_INVALID;
  if (!isfinite(d->tempo_bpm) || d->tempo_bpm < ENG_MIN_TEMPO || d->tempo_bpm > ENG_MAX_TEMPO)
    return ENG_ERR_INVALID;
  if (d->beats_per_bar < 1 || d->beats_per_bar > ENG_MAX_BEATS_PER_BAR) return ENG_ERR_INVALID;
  if (!in_range_f(d->master_gain, 0.0f, ENG_MAX_GAIN)) return ENG_ERR_INVALID;
  if (d->n_tracks > ENG_MAX_TRACKS) return ENG_ERR_INVALID;
  if (d->n_tracks > 0 && !d->tracks) return ENG_ERR_INVALID;
  for (uint32_t i = 0; i < d->n_tracks; i++) {
    const eng_track_desc *t = &d->tracks[i];
    if (t->track_id == 0) return ENG_ERR_INVALID; /* 0 is the master meter's id */
    if (!in_range_f(t->gain, 0.0f, ENG_MAX_GAIN)) return ENG_ERR_INVALID;
    if (!in_range_f(t->pan, -1.0f, 1.0f)) return ENG_ERR_INVALID;
    for (uint32_t j = 0; j < i; j++)
      if (d->tracks[j].track_id == t->track_id) return ENG_ERR_INVALID;
  }
  return ENG_OK;
}

double eng_plan_track_frequency(uint32_t index) {
  static const int steps[5] = {0, 2, 4, 7, 9}; /* major pentatonic, semitones */
  int semis = 12 * (int) ((index / 5) % 3) + steps[index % 5];
  return 220.0 * pow(2.0, semis / 12.0);
}

int eng_plan_create(const eng_plan_desc *d, eng_plan **out) {
  if (!out) return ENG_ERR_INVALID;
  *out = NULL;
  if (!d) return ENG_ERR_INVALID;
  int rc = validate(d);
  if (rc != ENG_OK) return rc;

  eng_plan *p = calloc(1, sizeof *p + d->n_tracks * sizeof p->tracks[0]);
  if (!p) return ENG_ERR_NOMEM;
  p->sample_rate = d->sample_rate;
  p->beat_frames = 60.0 / d->tempo_bpm * (double) d->sample_rate;
  p->beats_per_bar = d->beats_per_bar;
  p->master_gain = d->master_gain;
  p->metronome = d->metronome;
  p->n_tracks = d->n_tracks;

  bool any_solo = false;
  for (uint32_t i = 0; i < d->n_tracks; i++)
    if (d->tracks[i].solo) any_solo = true;

  for (uint32_t i = 0; i < d->n_tracks; i++) {
    const eng_track_desc *t = &d->tracks[i];
    eng_plan_track *pt = &p->tracks[i];
    bool audible = !t->mute && (!any_solo || t->solo);
    /* Constant-power pan. Computed in double and snapped so that hard left
     * or right gives an exact 0 on the other side (cos(pi/2) is not 0 in
     * floating point). */
    double theta = ((double) t->pan + 1.0) * PI / 4.0;
    double l = cos(theta), r = sin(theta);
    if (fabs(l) < 1e-9) l = 0.0;
    if (fabs(r) < 1e-9) r = 0.0;
    pt->track_id = t->track_id;
    pt->cycles_per_frame = eng_plan_track_frequency(i) / (double) d->sample_rate;
    pt->gain_l = audible ? (float) (t->gain * l) : 0.0f;
    pt->gain_r = audible ? (float) (t->gain * r) : 0.0f;
  }
  *out = p;
  return ENG_OK;
}

void eng_plan_destroy(eng_plan *p) {
  free(p);
}
