/* eng_plan_int.h: implementation details of eng_plan which may change; the
 * public API is in eng_plan.h. Shared by eng_plan.c, eng_engine.c and the
 * node files.
 *
 * A plan is immutable in structure once compiled. Its node states (voices,
 * delay lines) are mutated by the RT thread that runs the plan, and only by
 * it: a plan belongs to one engine at a time.
 *
 * State carry-over: each node state is its own allocation, owned by whichever
 * node points at it. When the RT thread swaps plan `old` for `np` it EXCHANGES
 * the state pointers of matching nodes (same track id, same device index,
 * same class, hence same kind, parameter table and state size at the one
 * sample rate of the engine; faders by track id; the master node): `np`'s
 * node takes the running state, `old`'s node takes `np`'s fresh one, and the
 * new description's parameter values become targets that the kept state
 * glides to. No copy, no allocation, no lock; O(tracks^2 + nodes) pointer
 * work. Then `old` is retired and the control thread frees it with the
 * fresh states it now holds. Nothing off the RT thread reads node->state of a
 * plan an engine owns, so the exchange needs no synchronisation beyond the
 * handover of the plans themselves (pending pointer in, retire queue out). */
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

/* One input of a bus node: a stereo buffer times a level. */
typedef struct eng_plan_input {
  uint32_t buf;   /* a track's buffer (post-fader) or its pre-fader copy */
  float level;    /* linear: 1 for routed tracks, the send level for sends */
  uint32_t track; /* index of the source track */
  bool pre;       /* buf is the pre-fader copy */
  uint32_t delay; /* latency compensation, frames (read from the fader's history) */
} eng_plan_input;

/* An audio clip compiled for the clip player (eng_clips.c): timeline range,
 * source (the server's data, or the plan's stretched copy), gains. Sorted by
 * start. */
typedef struct eng_plan_clip {
  uint64_t start, end; /* transport frames [start, end) */
  uint64_t end_max;    /* largest end of this clip and every earlier one (search) */
  const float *frames; /* interleaved source, NULL = silent */
  uint64_t n_frames;   /* source frames */
  uint32_t n_channels; /* 1 or 2 */
  uint64_t offset;     /* source frame at start */
  uint64_t loop_len;   /* source frames of the loop, 0 = no loop */
  double rate;         /* source frames per transport frame */
  float gain;          /* linear */
  uint64_t fade_in;    /* frames */
  uint64_t fade_out;   /* frames */
} eng_plan_clip;

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
  bool bus;                              /* source is a bus node summing `inputs` */
  bool to_master;                        /* output goes to master (not to a bus) */
  uint32_t pre_buf;                      /* pre-fader copy (has pre-fader sends) or ENG_NO_BUF */
  float pre_gain;                        /* 1 if audible (mute/solo), else 0: pre-fader copy gain */
  uint32_t n_inputs;                     /* bus: entries in inputs */
  eng_plan_input *inputs;                /* bus: n_inputs, in the arena */
  uint32_t latency;                      /* frames from the plan's sources to this fader */
  uint32_t master_delay;                 /* to master: compensation delay there, frames */
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
  uint32_t master_node;    /* index of the master node */
  size_t arena_bytes;      /* size of the arena */
  void *arena;             /* one allocation: nodes, deps, buffers, events */
  size_t state_bytes;      /* node states, each its own allocation (see above) */
  uint32_t latency;        /* master's latency, frames; the click is delayed by it */
  uint32_t n_owned;        /* entries in owned */
  float **owned;           /* buffers the plan made (stretched clips), freed with it */
  void (*on_free)(void *); /* eng_plan_desc.on_free, called by eng_plan_destroy */
  void *on_free_ud;
  uint32_t n_tracks;       /* entries in tracks */
  eng_plan_track tracks[]; /* n_tracks, in description order */
};

/* --- recorded audio at compile time (eng_plan_media.c, control thread) --- */

/* Checks a device's zones (only a sampler may have some); writes a sentence
 * to why on error. Possible errors: ENG_ERR_INVALID. */
int eng__validate_zones(const eng_device_desc *dv, uint64_t track_id, char *why, size_t len);
/* Copies dv's zones to out (n_zones entries), empty samples NULLed,
 * velocity ranges and loop_end resolved. */
void eng__copy_zones(const eng_device_desc *dv, eng_zone_desc *out);
/* Checks an audio track's clips. Possible errors: ENG_ERR_INVALID. */
int eng__validate_clips(const eng_track_desc *t, char *why, size_t len);
/* Clips of t that need a stretched copy (p->owned entries). */
uint32_t eng__stretched_clips(const eng_track_desc *t);
/* Compiles t's clips into out (n_clips entries, sorted by start), stretching
 * with Rubber Band into buffers appended to p->owned. Allocates.
 * Possible errors: ENG_ERR_NOMEM. */
int eng__compile_clips(eng_plan *p, const eng_track_desc *t, eng_plan_clip *out);
/* On success: one sentence naming the zones and clips without sample data
 * (they stay silent), or nothing. */
void eng__media_warnings(const eng_plan_desc *d, char *why, size_t len);

/* --- latency compensation (eng_nodes_core.c, RT thread) --- */

/* Adds g times track t's fader output (its pre-fader copy if `pre`) as it
 * was `delay` frames ago (0..ENG_MAX_LATENCY) into L, R for the chunk. */
void eng__add_delayed(const eng_run *r, uint32_t t, bool pre, uint32_t delay, float g, float *L,
                      float *R);

#endif /* ENG_PLAN_INT_H */
