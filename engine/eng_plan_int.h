/* eng_plan_int.h: implementation details of eng_plan which may change; the
 * public API is in eng_plan.h. Shared by eng_plan.c, eng_engine.c and the
 * node files.
 *
 * A plan is immutable in structure once compiled. Its node states (voices,
 * delay lines) are mutated by the RT thread that runs the plan, and only by
 * it: a plan belongs to one engine at a time. */
#ifndef ENG_PLAN_INT_H
#define ENG_PLAN_INT_H

#include "engine/eng_node_int.h"
#include "engine/eng_plan.h"

/* A note event in transport frames, sorted by frame (note-offs before
 * note-ons at the same frame). */
typedef struct eng_plan_event {
  uint64_t frame;
  uint8_t kind; /* ENG_EV_NOTE_ON / ENG_EV_NOTE_OFF */
  uint8_t key;
  uint8_t velocity;
} eng_plan_event;

typedef struct eng_plan_track {
  uint64_t track_id;                     /* from the description */
  double cycles_per_frame;               /* tone frequency / sample rate */
  float gain_l;                          /* gain * pan law * audible (0 if muted or not soloed) */
  float gain_r;                          /* idem, right channel */
  uint32_t buf;                          /* the track's stereo buffer */
  uint32_t source;                       /* node index of the source (tone or instrument) */
  uint32_t fader;                        /* node index of the fader */
  uint32_t devices[1 + ENG_MAX_EFFECTS]; /* node index of device 0 (source) and effects */
  uint32_t n_devices;                    /* 1 + n_effects */
  bool has_instrument;                   /* source is an instrument */
  bool live;                             /* accepts live notes */
  uint32_t n_events;                     /* plan note events */
  eng_plan_event *events;                /* n_events, sorted; in the arena */
} eng_plan_track;

struct eng_plan {
  uint32_t sample_rate;   /* Hz */
  double beat_frames;     /* frames per beat = 60 / bpm * sample_rate (not rounded) */
  uint32_t beats_per_bar; /* accent period of the click */
  float master_gain;      /* linear */
  bool metronome;         /* click on/off */
  bool has_devices;       /* any instrument or effect: run the graph even when stopped */

  /* Test-tone constants, in frames, derived from sample_rate. */
  uint32_t attack_frames;      /* > 0 */
  uint32_t release_frames;     /* > 0 */
  uint64_t note_frames;        /* note length before the hard cut */
  float decay_per_frame;       /* 1 / (tau in frames) */
  uint32_t click_frames;       /* click length */
  float click_decay_per_frame; /* 1 / (click tau in frames) */

  uint32_t n_nodes;        /* nodes, in execution (topological) order */
  eng_plan_node *nodes;    /* in the arena */
  uint32_t n_buffers;      /* stereo buffers of ENG_CHUNK frames */
  float *buffers;          /* n_buffers * 2 * ENG_CHUNK floats, in the arena */
  uint32_t click_buf;      /* click buffer, ENG_NO_BUF without metronome */
  uint32_t master_buf;     /* master bus buffer */
  size_t arena_bytes;      /* size of the arena */
  void *arena;             /* one allocation: nodes, deps, states, buffers, events */
  uint32_t n_tracks;       /* entries in tracks */
  eng_plan_track tracks[]; /* n_tracks, in description order */
};

#endif /* ENG_PLAN_INT_H */
