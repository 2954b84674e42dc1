/* eng_plan_int.h: implementation details of eng_plan which may change; the
 * public API is in eng_plan.h. Shared by eng_plan.c and eng_engine.c. */
#ifndef ENG_PLAN_INT_H
#define ENG_PLAN_INT_H

#include "engine/eng_plan.h"

typedef struct eng_plan_track {
  uint64_t track_id;       /* from the description */
  double cycles_per_frame; /* tone frequency / sample rate */
  float gain_l;            /* gain * pan law * audible (0 if muted or not soloed) */
  float gain_r;            /* idem, right channel */
} eng_plan_track;

struct eng_plan {
  uint32_t sample_rate;    /* Hz */
  double beat_frames;      /* frames per beat = 60 / bpm * sample_rate (not rounded) */
  uint32_t beats_per_bar;  /* accent period of the click */
  float master_gain;       /* linear */
  bool metronome;          /* click on/off */
  uint32_t n_tracks;       /* entries in tracks */
  eng_plan_track tracks[]; /* n_tracks, in description order */
};

#endif /* ENG_PLAN_INT_H */
