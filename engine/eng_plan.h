/* eng_plan.h: the engine's input. A plain description compiled into an
 * immutable plan.
 *
 * The engine never sees the project model. The server's control thread
 * fills an eng_plan_desc from its model, compiles it with eng_plan_create and
 * hands the plan to the engine with eng_engine_set_plan (eng_engine.h). Once
 * compiled a plan is never modified, so the RT thread reads it without locks.
 *
 * Walking-skeleton content: each track is ONE test-tone voice. Its pitch comes
 * from the track's index in the plan (major pentatonic upward from A3, 220 Hz,
 * wrapping after three octaves); a soft pluck is retriggered on every beat while
 * the transport plays. Signal path per track: voice -> gain -> pan -> mute/solo
 * -> master bus; the metronome click is added to the master bus; then master
 * gain. Pan law: constant power, L = cos(theta), R = sin(theta) with
 * theta = (pan + 1) * pi / 4, so each side is -3 dB at centre and the far side
 * is exactly 0 at hard left/right.
 *
 * Threads: create/destroy on the control thread (they allocate/free). */
#ifndef ENG_PLAN_H
#define ENG_PLAN_H

#include <stdbool.h>
#include <stdint.h>

#define ENG_MAX_TRACKS        64                   /* tracks per plan; more is ENG_ERR_INVALID */
#define ENG_MAX_METERS        (ENG_MAX_TRACKS + 1) /* one meter per track plus master */
#define ENG_MAX_GAIN          4.0f                 /* largest linear gain (about +12 dB) */
#define ENG_MIN_TEMPO         20.0                 /* beats per minute */
#define ENG_MAX_TEMPO         999.0                /* beats per minute */
#define ENG_MAX_BEATS_PER_BAR 32                   /* time-signature numerator */
#define ENG_MIN_SAMPLE_RATE   8000                 /* Hz */
#define ENG_MAX_SAMPLE_RATE   192000               /* Hz */

typedef struct eng_track_desc {
  uint64_t track_id; /* opaque non-zero id, unique in the plan; echoed in meters */
  float gain;        /* linear amplitude, 0..ENG_MAX_GAIN */
  float pan;         /* -1 (left) .. +1 (right); constant power, -3 dB at centre */
  bool mute;         /* silences the track (its meter reads 0) */
  bool solo;         /* if any track is soloed, only soloed tracks sound (mute still wins) */
} eng_track_desc;

typedef struct eng_plan_desc {
  uint32_t sample_rate;         /* Hz, must equal the engine's (usually 48000) */
  double tempo_bpm;             /* ENG_MIN_TEMPO..ENG_MAX_TEMPO */
  uint32_t beats_per_bar;       /* 1..ENG_MAX_BEATS_PER_BAR; beat 1 of each bar is accented */
  float master_gain;            /* linear, 0..ENG_MAX_GAIN */
  bool metronome;               /* click on every beat, accented on beat 1 */
  uint32_t n_tracks;            /* 0..ENG_MAX_TRACKS */
  const eng_track_desc *tracks; /* n_tracks items; borrowed during eng_plan_create only */
} eng_plan_desc;

typedef struct eng_plan eng_plan; /* opaque, immutable once created */

/* Validates `d` and compiles it into a new immutable plan (pitches, pan gains
 * and mute/solo are resolved here, not on the RT thread). `d` and its tracks
 * are only read during the call. On success *out is owned by the caller until
 * handed to eng_engine_set_plan; otherwise free it with eng_plan_destroy. On
 * failure *out is NULL.
 * RT-safe: no (allocates).
 * Possible errors: ENG_ERR_INVALID (NULL argument, any field out of range or
 * not finite, more than ENG_MAX_TRACKS tracks, tracks NULL with n_tracks > 0,
 * a track_id of 0 or a duplicate track_id), ENG_ERR_NOMEM. */
int eng_plan_create(const eng_plan_desc *d, eng_plan **out);

/* Frees a plan the caller still owns. NULL is a no-op. Never call it on a plan
 * given to an engine: the engine frees those itself.
 * RT-safe: no (frees). */
void eng_plan_destroy(eng_plan *p);

/* Frequency in Hz of the test tone of the track at `index` in a plan.
 * Pure function, exposed for tests and UIs. RT-safe: yes. */
double eng_plan_track_frequency(uint32_t index);

#endif /* ENG_PLAN_H */
