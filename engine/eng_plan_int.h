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

/* First index in ev[0..n) (sorted by frame) whose frame is >= f: a binary
 * search, no cursor, so locate and loops need none and the result is a
 * function of f. */
static inline uint32_t eng__first_event_at(const eng_plan_event *ev, uint32_t n, uint64_t f) {
  uint32_t lo = 0, hi = n;
  while (lo < hi) {
    uint32_t mid = lo + (hi - lo) / 2;
    if (ev[mid].frame < f)
      lo = mid + 1;
    else
      hi = mid;
  }
  return lo;
}

/* One input of a bus node: a stereo buffer times a level. */
typedef struct eng_plan_input {
  uint32_t buf;   /* a track's buffer (post-fader) or its pre-fader copy */
  float level;    /* linear: 1 for routed tracks, the send level for sends */
  uint32_t track; /* index of the source track */
  bool pre;       /* buf is the pre-fader copy */
  uint32_t delay; /* latency compensation, frames (read from the fader's history) */
  bool send;      /* a send (else the track is routed here) */
  const struct eng_plan_auto *lane; /* send level automation, or NULL (level: its frame 0) */
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

/* An automation lane compiled (eng_auto.c): checked, points copied into the
 * arena. Hung off the node it drives: a device node (its parameter `param`)
 * or the track's fader (gain, pan). */
typedef struct eng_plan_auto {
  uint32_t target;              /* eng_auto_target */
  uint32_t param;               /* ENG_AUTO_PARAM: parameter id of the node's class */
  uint32_t smoothing;           /* eng_smoothing of the target (gain, pan: SAMPLE) */
  uint32_t n_points;            /* >= 1 */
  const eng_auto_point *points; /* sorted by frame, in the arena */
} eng_plan_auto;

/* A session clip compiled (eng_slot_desc): note events relative to the
 * clip's start, sorted as eng_plan_event (offs first), note-offs cut to
 * [1, length]; and the notes by start, for the note-offs owed when the clip
 * stops mid-note. In the arena. */
typedef struct eng_plan_note {
  uint64_t start, end; /* relative frames, start < end <= length */
  uint8_t key;
} eng_plan_note;

typedef struct eng_plan_slot {
  uint32_t slot;          /* slot number (eng_slot_desc.slot) */
  uint64_t length;        /* loop length, frames, >= 1 */
  uint32_t n_events;      /* 2 * n_notes */
  eng_plan_event *events; /* relative frames 0..length, sorted */
  uint32_t n_notes;       /* notes kept (start < length) */
  eng_plan_note *notes;   /* sorted by start */
  uint32_t n_clips;       /* audio clips, frames relative to the clip's start */
  eng_plan_clip *clips;   /* n_clips, sorted by start, in the arena */
  uint32_t follow;        /* eng_follow */
  uint64_t follow_frames; /* follow: frames of play before it */
} eng_plan_slot;

/* What a track's session clip is doing (RT thread; eng_engine.c moves it
 * on, the clip player reads it), in session-clock frames (frames played:
 * locates and loop wraps do not move it). */
typedef struct eng_slot_play {
  int32_t cur;     /* slot number playing, ENG_NO_SLOT if none */
  uint64_t anchor; /* clock frame where cur started (it repeats from there) */
  bool pending;    /* a launch or stop waits for `at` */
  int32_t next;    /* pending: the slot to play from `at`, ENG_NO_SLOT to stop */
  uint64_t at;     /* pending: clock frame of the switch */
} eng_slot_play;

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
  float gain, pan;                       /* the description's (at frame 0 if automated) */
  bool audible;                          /* not muted, passes solo */
  uint32_t n_cuts;                       /* loop: plan notes sounding at loop_end */
  eng_plan_event *cuts;                  /* n_cuts note-offs, sent on the wrap frame */
  uint32_t n_slots;                      /* session clips */
  eng_plan_slot *slots;                  /* n_slots, in the arena */
} eng_plan_track;

struct eng_plan {
  uint32_t sample_rate;    /* Hz */
  double beat_frames;      /* frames per beat = 60 / bpm * sample_rate (not rounded) */
  uint32_t beats_per_bar;  /* accent period of the click (no beat grid) */
  uint32_t n_beats;        /* beat grid (eng_plan_desc.beats); 0 = every beat_frames */
  const eng_beat *beats;   /* n_beats, in the arena */
  const uint32_t *bar_of;  /* n_beats: each listed beat\'s bar number, from 0; in the arena */
  double tail_frame;       /* exact frame of beats[n_beats - 1] */
  double tail_beat_frames; /* frames per beat after it */
  float master_gain;       /* linear */
  bool metronome;          /* click on/off */
  bool has_devices;        /* any instrument or effect: run the graph even when stopped */
  bool loop;               /* loop region on (loop_end > loop_start) */
  uint64_t loop_start;     /* frames */
  uint64_t loop_end;       /* frames */

  /* Test-tone constants, in frames, derived from sample_rate. */
  uint32_t attack_frames;      /* > 0 */
  uint32_t release_frames;     /* > 0 */
  uint64_t note_frames;        /* note length before the hard cut */
  float decay_per_frame;       /* 1 / (tau in frames) */
  uint32_t click_frames;       /* click length */
  float click_decay_per_frame; /* 1 / (click tau in frames) */

  uint32_t n_nodes;                  /* nodes, in execution (topological) order */
  eng_plan_node *nodes;              /* in the arena */
  uint32_t n_buffers;                /* stereo buffers of ENG_CHUNK frames */
  float *buffers;                    /* n_buffers * 2 * ENG_CHUNK floats, in the arena */
  uint32_t click_buf;                /* click buffer, ENG_NO_BUF without metronome */
  uint32_t master_buf;               /* master bus buffer */
  uint32_t master_node;              /* index of the master node */
  size_t arena_bytes;                /* size of the arena */
  void *arena;                       /* one allocation: nodes, deps, buffers, events */
  size_t state_bytes;                /* node states, each its own allocation (see above) */
  uint32_t latency;                  /* master's latency, frames; the click is delayed by it */
  uint32_t n_owned;                  /* entries in owned */
  float **owned;                     /* buffers the plan made (stretched clips), freed with it */
  eng_stretch_cache *stretch_cache;  /* where the shared entries come from, or NULL */
  uint32_t n_shared;                 /* entries in shared */
  struct eng_stretch_entry **shared; /* stretched clips held in stretch_cache, released with it */
  void (*on_free)(void *);           /* eng_plan_desc.on_free, called by eng_plan_destroy */
  void *on_free_ud;
  uint32_t n_tracks;       /* entries in tracks */
  eng_plan_track tracks[]; /* n_tracks, in description order */
};

/* Slot `slot` of track index t of p, or NULL. RT-safe. */
const eng_plan_slot *eng__find_slot(const eng_plan *p, uint32_t t, int32_t slot);
/* After st's slot started (cur, anchor just set): queues its follow
 * action, if it has one and nothing else is queued. RT-safe. */
void eng__follow(const eng_plan *p, uint32_t t, eng_slot_play *st);

/* --- recorded audio at compile time (eng_plan_media.c, control thread) --- */

/* Checks a device's zones (only a sampler may have some); writes a sentence
 * to why on error. Possible errors: ENG_ERR_INVALID. */
int eng__validate_zones(const eng_device_desc *dv, uint64_t track_id, char *why, size_t len);
/* Copies dv's zones to out (n_zones entries), empty samples NULLed,
 * velocity ranges and loop_end resolved. */
void eng__copy_zones(const eng_device_desc *dv, eng_zone_desc *out);
/* Checks an audio track's clips. Possible errors: ENG_ERR_INVALID. */
int eng__validate_clips(const eng_track_desc *t, char *why, size_t len);
/* Clips of t that need a stretched copy (p->owned or p->shared entries). */
uint32_t eng__stretched_clips(const eng_track_desc *t);
/* Compiles t's clips into out (n_clips entries, sorted by start), stretching
 * with Rubber Band into buffers appended to p->owned, or taken from (and
 * added to) p->stretch_cache and appended to p->shared. Allocates.
 * Possible errors: ENG_ERR_NOMEM. */
int eng__compile_clips(eng_plan *p, const eng_track_desc *t, eng_plan_clip *out);
/* Gives back p's shared stretched clips (eng_plan_destroy). */
void eng__release_stretched(eng_plan *p);
/* On success: one sentence naming the zones and clips without sample data
 * (they stay silent), or nothing. */
void eng__media_warnings(const eng_plan_desc *d, char *why, size_t len);

/* The pan law (eng_plan.h): constant power, computed in double and snapped
 * so that hard left or right gives an exact 0 on the other side (cos(pi/2)
 * is not 0 in floating point); a bus carries stereo: balance, unity at
 * centre. Shared by the compiler and the fader's pan automation. */
static inline void eng__pan_law(float pan, bool bus, double *l, double *r) {
  double theta = ((double) pan + 1.0) * ENG_PI / 4.0;
  *l = cos(theta), *r = sin(theta);
  if (fabs(*l) < 1e-9) *l = 0.0;
  if (fabs(*r) < 1e-9) *r = 0.0;
  if (bus) {
    *l = pan > 0.0f ? 1.0 - pan : 1.0;
    *r = pan < 0.0f ? 1.0 + pan : 1.0;
  }
}

/* --- automation (eng_auto.c) --- */

/* Marks which of track t's lanes are usable (use[k], t->n_automations
 * entries): the target exists on the track, the points are sorted, finite
 * and in range, and no earlier usable lane has the same target. Returns how
 * many are not, and writes the first one's sentence to `first` ("track 7
 * automation 2 (effect 1 (eq) parameter 3 (mid1_freq)): point 4 = 30000 is
 * outside 20..20000"). Control thread; t's devices are already valid. */
uint32_t eng__auto_select(const eng_track_desc *t, bool *use, char *first, size_t len);
/* The curve's value at transport frame f (eng_plan.h). Pure, RT-safe. */
float eng__auto_value(const eng_auto_point *pts, uint32_t n, uint64_t f);
/* The curve over the chunk of r: vals[k] the raw value at frame k (the
 * transport's position, held after r->t_frames, or r->start when stopped),
 * bit k of jumps[] set where the curve steps (hold, equal frames), *prev the
 * value one frame before (equal to vals[0]'s position when stopped): a
 * smoother whose target differs from it is off the curve (locate, swap,
 * eng_engine_set_param) and glides back. RT-safe. */
void eng__auto_eval(const eng_plan_auto *a, const eng_run *r, float *vals,
                    uint64_t jumps[ENG_CHUNK / 64], float *prev);
/* Device node nd: evaluates its automations over r's chunk and lends the
 * smoothed values to the parameters' smoothers (eng_smooth_lane_begin);
 * `scratch` holds nd->n_autos lanes of ENG_CHUNK floats. RT-safe. */
void eng__auto_begin(eng_plan_node *nd, const eng_run *r, float (*scratch)[ENG_CHUNK]);
/* Takes the lanes back after nd's process. RT-safe. */
void eng__auto_end(eng_plan_node *nd);

/* --- count-in (eng_nodes_core.c, RT thread) --- */

/* The count-in before playing from transport frame `pos`: `bars` bars in
 * the meter in force at pos, at the beat length there (a ramp: the length
 * of the beat pos is in). Frames it lasts: ceil(bars * beats * length). */
uint64_t eng__count_in_frames(const struct eng_plan *p, uint64_t pos, uint32_t bars);
/* Adds times `gain` the click of that count (beats counted from its first
 * frame, accented on each bar's first beat), over frames [from, from + n)
 * of the count, to both channels of the interleaved `out`. Pure function of
 * the count and pos. */
void eng__click_add(const struct eng_plan *p, uint64_t pos, uint64_t from, uint32_t n, float gain,
                    float *out);

/* The first frame at or after pos that starts a bar whose number is a
 * multiple of `bars` (bars > 0), else a beat whose place in its bar is a
 * multiple of `beats` (eng_engine_launch_grid). RT-safe, bounded. */
uint64_t eng__grid_next(const struct eng_plan *p, uint64_t pos, uint32_t beats, uint32_t bars);

/* --- latency compensation (eng_nodes_core.c, RT thread) --- */

/* Adds track t's fader output (its pre-fader copy if `pre`) as it was
 * `delay` frames ago (0..ENG_MAX_LATENCY) into L, R for the chunk, times
 * *gc, or times gn[n] per frame if gn is not NULL. */
void eng__add_delayed(const eng_run *r, uint32_t t, bool pre, uint32_t delay, const float *gc,
                      const float *gn, float *L, float *R);

#endif /* ENG_PLAN_INT_H */
