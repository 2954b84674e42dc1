/* mdl_time: musical time (ticks) to seconds and back, through the tempo map.
 *
 * The project's tempo holds from tick 0; each tempo change (MDL_TYPE_TEMPO)
 * sets a new tempo from its tick on, held until the next change, or, with
 * its ramp flag, gliding linearly in BPM (over ticks) to the next change's
 * tempo. Time signatures (MDL_TYPE_METER) change at bars and give bar and
 * beat numbers. Built once per project state; pure and cheap to query. */
#ifndef MDL_TIME_H
#define MDL_TIME_H

#include "shared/mdl_project.h"

#define MDL_TEMPO_MAX 256 /* tempo segments kept; later changes are ignored */
#define MDL_METER_MAX 256 /* time-signature segments kept */

typedef struct mdl_time_map {
  uint32_t n;                    /* tempo segments, n >= 1; segment 0 starts at tick 0 */
  int64_t at[MDL_TEMPO_MAX];     /* first tick of each segment */
  double bpm[MDL_TEMPO_MAX];     /* tempo at its first tick */
  double end_bpm[MDL_TEMPO_MAX]; /* tempo at its last tick (== bpm unless it ramps) */
  double sec[MDL_TEMPO_MAX];     /* seconds at its first tick */
  uint32_t n_meters;             /* signature segments, >= 1; segment 0 starts at bar 0 */
  int64_t bar[MDL_METER_MAX];    /* first bar */
  int64_t bar_tick[MDL_METER_MAX];
  uint8_t num[MDL_METER_MAX], den[MDL_METER_MAX];
} mdl_time_map;

/* Builds the map of P (its tempo and meter changes). Does not allocate. */
void mdl_time_map_build(const mdl_project *p, mdl_time_map *m);

/* Seconds from tick 0 to TICK (TICK >= 0). */
double mdl_time_seconds(const mdl_time_map *m, int64_t tick);

/* The tick at SECONDS (the inverse of mdl_time_seconds, rounded down). */
int64_t mdl_time_tick(const mdl_time_map *m, double seconds);

/* The tempo at TICK, in BPM. */
double mdl_time_bpm(const mdl_time_map *m, int64_t tick);

/* Bar (0-based), beat in the bar (0-based) and ticks into the beat at TICK. */
void mdl_time_bbt(const mdl_time_map *m, int64_t tick, int64_t *bar, int *beat, int *ticks);

/* The tick where bar BAR (0-based) starts. */
int64_t mdl_time_bar_tick(const mdl_time_map *m, int64_t bar);

#endif
