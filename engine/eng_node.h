/* eng_node.h: the devices a plan can contain (instruments and effects), their
 * typed parameters, and the plain descriptions the server fills in.
 *
 * A track in an eng_plan_desc (eng_plan.h) may name an instrument
 * (eng_device_desc with an instrument kind) and a chain of up to
 * ENG_MAX_EFFECTS effects. A track without an instrument keeps the walking
 * skeleton's test-tone voice. eng_plan_create compiles the devices into nodes
 * of the plan's graph; each node's state (voices, delay lines, filters) is
 * sized and allocated there, never on the RT thread.
 *
 * Parameters are identified by (kind, id). Ids are stable numbers: never
 * renumber them, add new ones at the end of a kind's table. Every parameter
 * has a range, a default, a unit and a smoothing: values set while playing
 * (eng_engine_set_param) glide to the new value over smooth_ms, per sample or
 * per control block of ENG_CONTROL_FRAMES frames, so automation does not
 * zipper. ENG_SMOOTH_NONE parameters (choices, counts) switch at once.
 *
 * Threads: everything here is pure, reads static tables and is RT-safe. */
#ifndef ENG_NODE_H
#define ENG_NODE_H

#include <stdbool.h>
#include <stdint.h>

#define ENG_MAX_EFFECTS    8     /* effects per track */
#define ENG_MAX_PARAMS     32    /* parameters per node kind */
#define ENG_CONTROL_FRAMES 16    /* frames between control-rate (per-block) updates */
#define ENG_SYNTH_VOICES   64    /* largest synth polyphony (voices pre-sized per synth) */
#define ENG_MAX_NOTES      65536 /* note events per track in a plan */
#define ENG_SAMPLER_VOICES 32    /* largest sampler polyphony (voices pre-sized per sampler) */
#define ENG_MAX_ZONES      128   /* zones per sampler */

/* Node kinds a device description may name. Values are stable (they will be
 * stored by the server). 0 is not a kind: an unknown kind is refused by
 * eng_plan_create with ENG_ERR_UNKNOWN_NODE. */
typedef enum eng_node_kind {
  ENG_NODE_SYNTH = 1,       /* instrument: polyphonic subtractive synth */
  ENG_NODE_DRUMS = 2,       /* instrument: drum synth (GM keys, see below) */
  ENG_NODE_SAMPLER = 3,     /* instrument: multi-sample zones (eng_zone_desc) */
  ENG_NODE_GAIN = 16,       /* effect: gain (linear) */
  ENG_NODE_EQ = 17,         /* effect: 4-band parametric EQ (RBJ biquads) */
  ENG_NODE_COMPRESSOR = 18, /* effect: feed-forward compressor, optional sidechain */
  ENG_NODE_GATE = 19,       /* effect: noise gate, optional sidechain */
  ENG_NODE_SATURATOR = 20,  /* effect: tanh saturation */
  ENG_NODE_DELAY = 21,      /* effect: tempo-synced stereo delay */
  ENG_NODE_REVERB = 22,     /* effect: Freeverb-style reverb */
  ENG_NODE_CHORUS = 23,     /* effect: stereo chorus */
  ENG_NODE_LIMITER = 24,    /* effect: look-ahead brickwall limiter */
} eng_node_kind;

/* Drum synth keys (General MIDI numbers). Other keys are ignored. */
#define ENG_DRUM_KICK     36
#define ENG_DRUM_SNARE    38
#define ENG_DRUM_CLAP     39
#define ENG_DRUM_HAT      42 /* closed hat; chokes the open hat */
#define ENG_DRUM_TOM_LOW  45
#define ENG_DRUM_OPEN_HAT 46
#define ENG_DRUM_TOM_MID  47
#define ENG_DRUM_TOM_HIGH 50

typedef enum eng_unit {
  ENG_UNIT_NONE = 0,  /* plain number */
  ENG_UNIT_LINEAR,    /* linear amplitude factor */
  ENG_UNIT_DB,        /* decibels */
  ENG_UNIT_HZ,        /* hertz */
  ENG_UNIT_MS,        /* milliseconds */
  ENG_UNIT_RATIO,     /* n:1 */
  ENG_UNIT_PERCENT,   /* 0..100 */
  ENG_UNIT_SEMITONES, /* equal-tempered semitones */
  ENG_UNIT_CENTS,     /* 1/100 semitone */
  ENG_UNIT_OCTAVES,   /* octaves */
  ENG_UNIT_BEATS,     /* beats at the plan's tempo */
  ENG_UNIT_CHOICE,    /* integer index into a list named in the parameter's name */
  ENG_UNIT_COUNT,     /* integer count */
} eng_unit;

typedef enum eng_smoothing {
  ENG_SMOOTH_NONE = 0, /* applied at once (choices, counts) */
  ENG_SMOOTH_SAMPLE,   /* linear ramp, a new value every sample */
  ENG_SMOOTH_BLOCK,    /* same ramp, read every ENG_CONTROL_FRAMES frames (filter coefficients) */
} eng_smoothing;

typedef struct eng_param_info {
  uint32_t id;        /* stable id within the kind */
  const char *name;   /* short snake_case name; choices list their values: "wave:saw|square|..." */
  float min, max;     /* inclusive range; values outside are refused */
  float def;          /* default when a description does not set it */
  uint32_t unit;      /* eng_unit */
  uint32_t smoothing; /* eng_smoothing */
  float smooth_ms;    /* ramp length for SAMPLE/BLOCK smoothing */
} eng_param_info;

/* One parameter value in a device description. */
typedef struct eng_param_value {
  uint32_t id; /* eng_param_info.id of the device's kind */
  float value; /* within [min, max] */
} eng_param_value;

/* Audio the server hands in (decoded from a library asset): float PCM,
 * interleaved. The engine never copies or frees it: the plan compiled from
 * the description BORROWS `frames` until that plan is freed, and tells the
 * owner through eng_plan_desc.on_free (eng_plan.h). frames NULL or
 * n_frames 0 is not an error: whatever plays it is silent, and
 * eng_plan_compile says so in its `why`. */
typedef struct eng_sample {
  const float *frames;  /* n_frames * n_channels floats, interleaved; may be NULL */
  uint64_t n_frames;    /* frames (per channel) */
  uint32_t n_channels;  /* 1 (played on both sides) or 2; ignored when frames is NULL */
  uint32_t sample_rate; /* Hz of the data, ENG_MIN..ENG_MAX_SAMPLE_RATE (eng_plan.h); played
                           resampled if it differs from the plan's */
} eng_sample;

/* How a sampler zone answers notes. */
typedef enum eng_zone_mode {
  ENG_ZONE_PITCHED = 0,  /* pitch follows the key (root_key plays the sample as recorded);
                            note-off starts the release; may loop while sounding */
  ENG_ZONE_ONE_SHOT = 1, /* every key plays the sample as recorded (tune still applies), to its
                            end; note-off is ignored (drum hits) */
} eng_zone_mode;

/* One zone of an ENG_NODE_SAMPLER: which notes play which sample, how. A
 * note plays every zone whose key and velocity ranges contain it (layers),
 * one voice per zone. */
typedef struct eng_zone_desc {
  eng_sample sample;   /* borrowed until the plan is freed (see eng_sample) */
  uint8_t key_lo;      /* lowest key, 0..127 */
  uint8_t key_hi;      /* highest key, key_lo..127 */
  uint8_t root_key;    /* pitched: the key that plays the sample at its own pitch */
  uint8_t vel_lo;      /* lowest velocity, 1..127 (0 is read as 1) */
  uint8_t vel_hi;      /* highest velocity, vel_lo..127 (0 is read as 127) */
  uint8_t mode;        /* eng_zone_mode */
  float gain;          /* linear, 0..ENG_MAX_GAIN (eng_plan.h) */
  bool loop;           /* pitched only: after reaching loop_end, play on from loop_start until
                          the voice ends (through the release too) */
  uint64_t loop_start; /* first frame of the loop */
  uint64_t loop_end;   /* frame after the loop, loop_start < loop_end <= n_frames; 0 = n_frames */
} eng_zone_desc;

/* An instrument or effect as the server describes it. */
typedef struct eng_device_desc {
  uint32_t kind;               /* eng_node_kind; an instrument kind only as a track's instrument */
  bool bypass;                 /* effects: audio passes unchanged (state still allocated) */
  uint64_t sidechain_track_id; /* compressor/gate: key from that track's post-fader output;
                                  0 = the effect's own input */
  uint32_t n_params;           /* entries in params */
  const eng_param_value *params; /* borrowed during eng_plan_create; unset ids keep defaults */
  uint32_t n_zones;              /* sampler: 0..ENG_MAX_ZONES; other kinds: 0 */
  const eng_zone_desc *zones;    /* n_zones; the array is read during eng_plan_create only, the
                                    sample data is borrowed longer (eng_sample) */
} eng_device_desc;

/* A note for a track's instrument, in transport frames. Played when the
 * transport passes start_frame (sample-accurately, mid-block if need be),
 * released length_frames later. */
typedef struct eng_note_desc {
  uint64_t start_frame;   /* transport frame of the note-on */
  uint64_t length_frames; /* >= 1; note-off at start_frame + length_frames */
  uint8_t key;            /* MIDI key 0..127 (69 = A4 = 440 Hz) */
  uint8_t velocity;       /* 1..127 */
} eng_note_desc;

/* The parameter table of `kind`: *out points to a static array of *n
 * entries, in id order (entry i has id i). Returns ENG_OK, or
 * ENG_ERR_UNKNOWN_NODE (out and n set to NULL and 0).
 * RT-safe: yes. */
int eng_node_params(uint32_t kind, const eng_param_info **out, uint32_t *n);

/* "synth", "compressor", ... or NULL for an unknown kind. RT-safe: yes. */
const char *eng_node_kind_name(uint32_t kind);

/* True for kinds that make sound from notes (ENG_NODE_SYNTH, ENG_NODE_DRUMS).
 * RT-safe: yes. */
bool eng_node_is_instrument(uint32_t kind);

#endif /* ENG_NODE_H */
