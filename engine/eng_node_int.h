/* eng_node_int.h: the node interface of the plan graph. Implementation
 * details which may change; the public API is in eng_node.h and eng_plan.h.
 * Shared by eng_plan.c (compiles nodes), eng_engine.c (runs them), the node
 * files (eng_nodes_core.c, eng_synth.c, eng_drums.c, eng_fx.c) and tests.
 *
 * A node is {class, state, buffers}. The class is a static table: parameter
 * table, state size for a sample rate, init, process, adopt. The state is
 * allocated by eng_plan_create on the control thread and may be handed on
 * to the next plan at a swap (eng_plan_int.h); process runs on the RT thread
 * and touches only the state and the buffers. */
#ifndef ENG_NODE_INT_H
#define ENG_NODE_INT_H

#include <stddef.h>
#include <stdint.h>

#include "engine/eng_dsp_int.h"
#include "engine/eng_node.h"

#define ENG_CHUNK      256        /* frames per graph run; process splits longer blocks */
#define ENG_NO_BUF     UINT32_MAX /* no buffer */
#define ENG_NO_TRACK   UINT32_MAX /* node belongs to no track (click, master) */
#define ENG_MAX_EVENTS 256        /* note events per node per chunk; more are dropped and counted */

/* A note event for an instrument, inside the current chunk. */
typedef enum { ENG_EV_NOTE_ON = 1, ENG_EV_NOTE_OFF, ENG_EV_ALL_OFF } eng_event_kind;
typedef struct eng_event {
  uint32_t offset;  /* frame within the chunk, 0..n-1 */
  uint8_t kind;     /* eng_event_kind */
  uint8_t key;      /* MIDI key */
  uint8_t velocity; /* 1..127 for note-on */
} eng_event;

struct eng_plan;

/* Everything a node's process step sees: a time range and its buffers. */
typedef struct eng_run {
  const struct eng_plan *plan; /* the plan being run */
  float *buffers;              /* the plan's buffer pool: buffer b is channels L, R of ENG_CHUNK */
  float *out;                  /* interleaved stereo output of this chunk (master writes it) */
  uint64_t start;              /* transport frame of the chunk's first frame */
  uint32_t n;                  /* frames in this chunk, 1..ENG_CHUNK */
  uint32_t t_frames;           /* frames of this chunk driven by the transport (0 when stopped) */
  float ramp, ramp_step;       /* stop fade of transport-driven sources (1, 0 while playing) */
  const eng_event *events;     /* events of the node being run, offsets ascending */
  uint32_t n_events;           /* entries in events */
  float *acc_peak;             /* meter accumulators: [1 + track] */
  double *acc_sumsq;           /* idem */
  uint64_t clock;              /* session clock of the chunk's first frame */
  const struct eng_slot_play *slots; /* session clips by track index (eng_plan_int.h), or NULL */
} eng_run;

/* The parameter block at the start of every device node's state: the
 * framework sets targets there (init, eng_engine_set_param); nodes read the
 * smoothed values. */
typedef struct eng_pstate {
  eng_smooth p[ENG_MAX_PARAMS];
  uint32_t n; /* parameters in use */
} eng_pstate;

typedef struct eng_plan_node eng_plan_node;

typedef struct eng_node_class {
  uint32_t kind;                /* eng_node_kind, or 0 for built-in nodes */
  const char *name;             /* "synth", "tone", ... */
  const eng_param_info *params; /* n_params entries, id i at index i */
  uint32_t n_params;
  bool instrument;    /* takes note events */
  bool sidechain;     /* may take a sidechain key */
  bool deterministic; /* output is a function of the time range and inputs only */
  uint32_t hidden_ms; /* how long its output may stay silent while its state still holds sound
                         (a delay line's longest time): the idle check waits that much more */
  /* Bytes of state for a sample rate (pre-sizing). */
  size_t (*state_size)(uint32_t sample_rate);
  /* Initialises zeroed state after the framework filled the eng_pstate.
   * Control thread; may not allocate. NULL if nothing to do. */
  void (*init)(void *state, uint32_t sample_rate, double beat_frames);
  /* Frames of delay the node adds to its signal at sample rate sr (the
   * limiter's look-ahead), for latency compensation. NULL = 0. */
  uint32_t (*latency)(uint32_t sample_rate);
  /* Renders r->n frames. RT thread. */
  void (*process)(eng_plan_node *node, eng_run *r);
  /* After a plan swap handed this running state on to the new plan's node
   * (eng_plan_int.h) and set its parameter targets: refresh whatever the
   * class derived at init from the plan rather than from its parameters
   * (delay: the tempo), or from parameters outside the smoothing path (EQ
   * coefficients). `fresh` is the new plan's freshly initialised state of the
   * same class. RT thread, must not allocate. NULL if nothing to do. */
  void (*adopt)(void *state, const void *fresh);
} eng_node_class;

struct eng_plan_node {
  const eng_node_class *cls; /* never NULL */
  void *state;               /* cls->state_size bytes in the plan's arena, or NULL */
  uint32_t in;               /* input buffer (effects: in == out, processed in place) */
  uint32_t out;              /* output buffer */
  uint32_t side;             /* sidechain key buffer or ENG_NO_BUF */
  uint32_t track;            /* track index or ENG_NO_TRACK */
  uint32_t device;           /* 0 = track source (instrument/tone), 1 + i = effect i, else 0 */
  bool bypass;               /* effects: skip processing */
  bool deterministic;        /* class flag closed over dependencies (cohort scheduling) */
  uint32_t latency;          /* frames this node delays its signal by (limiter look-ahead) */
  uint32_t n_items;          /* entries in items */
  const void *items;         /* per-plan device data in the arena: sampler eng_zone_desc,
                                clip player eng_plan_clip; NULL for other nodes */
  uint32_t n_autos;          /* automation lanes driving this node (params; fader: gain, pan) */
  const struct eng_plan_auto *autos; /* n_autos, in the plan's arena; NULL if none */
  uint32_t n_deps;                   /* nodes that must run before this one */
  const uint32_t *deps;              /* n_deps indices into the plan's node array (all smaller) */
};

/* Class of a device kind, or NULL. */
const eng_node_class *eng__node_class(uint32_t kind);

/* Built-in classes (eng_nodes_core.c). */
extern const eng_node_class eng__tone_class, eng__click_class, eng__fader_class, eng__master_class,
    eng__bus_class;
/* Device classes. */
extern const eng_node_class eng__synth_class, eng__drums_class, eng__sampler_class,
    eng__clips_class, eng__gain_class, eng__eq_class, eng__comp_class, eng__gate_class,
    eng__sat_class, eng__delay_class, eng__reverb_class, eng__chorus_class, eng__limiter_class;

/* Fills the eng_pstate at the start of `state` from the class's defaults and
 * `values` (validated), with ramps for sample rate sr. */
void eng__params_init(void *state, const eng_node_class *cls, const float *values, uint32_t sr);

/* Sets a parameter's target (RT thread, from eng_engine_set_param). */
static inline void eng__param_set(void *state, uint32_t id, float v) {
  eng_smooth_set(&((eng_pstate *) state)->p[id], v);
}

/* Buffer b's left channel (right = left + ENG_CHUNK). */
static inline float *eng__buf(const eng_run *r, uint32_t b) {
  return r->buffers + (size_t) b * 2 * ENG_CHUNK;
}

/* Tests and benchmarks: true makes the synth run its SSE2 (x86-64 baseline)
 * kernel even where the CPU has AVX2, to compare the two. Set it on the
 * control thread while no engine is running. */
extern bool eng__synth_baseline_only;

/* --- stand-alone node use, for tests and the benchmark (control thread) --- */

/* A single device node outside any plan: state allocated here, buffers
 * given per call. Not for the RT thread (allocates). Possible errors as
 * eng_plan_create for one device. */
typedef struct eng_solo_node {
  eng_plan_node node;
  float buf[2 * ENG_CHUNK];  /* in/out buffer */
  float side[2 * ENG_CHUNK]; /* sidechain buffer */
  float scratch_out[2 * ENG_CHUNK];
} eng_solo_node;
int eng__solo_create(const eng_device_desc *d, uint32_t sample_rate, double tempo_bpm,
                     eng_solo_node **out);
void eng__solo_destroy(eng_solo_node *s);
/* Runs n <= ENG_CHUNK frames over s->buf (planar L, R) with the given events. */
void eng__solo_process(eng_solo_node *s, uint32_t n, const eng_event *ev, uint32_t n_ev,
                       bool use_side);

#endif /* ENG_NODE_INT_H */
