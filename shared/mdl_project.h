/* mdl_project: the project model of a DAW, as one store of typed objects.
 *
 * A project is a tree of objects. Each object has an id, a type, a parent
 * and the properties its type declares (mdl_schema.c): the project itself,
 * tracks (audio, instrument, group, return, master) nested in groups, clips
 * on tracks (audio or MIDI), notes and controller events in MIDI clips,
 * automation lanes and their points, devices (instruments and effects with
 * typed parameters), sends, scenes, markers, tempo and time-signature
 * changes, groove templates and users. Cross references (a send's target, a
 * track's output, a device's sidechain, a clip's scene or groove) are
 * properties that hold an id.
 *
 * Objects live in one pool per type; an id → slot map finds them. Every
 * change goes through mdl_txn_apply (mdl_op.h), which journals what it
 * changes so that a refused transaction is taken back exactly. The state
 * hash is kept up to date as objects change (a sum of per-object hashes), so
 * reading it costs nothing.
 *
 * Memory comes from the mdl_alloc the project was created with; shared/
 * calls no libc allocator, does no I/O and compiles unchanged to wasm.
 * Not thread-safe: one owner at a time (the server's control thread, or the
 * browser's main thread). */
#ifndef MDL_PROJECT_H
#define MDL_PROJECT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "shared/mdl_alloc.h"

#define MDL_SCHEMA_VERSION 2   /* bumped when the canonical form changes */
#define MDL_NAME_MAX       64  /* bytes of UTF-8 in a name */
#define MDL_KEY_MAX        48  /* bytes of an order key (see mdl_key.h) */
#define MDL_PPQ            960 /* ticks per quarter note: all musical positions are ticks */
#define MDL_DEVICE_PARAMS  32  /* parameters a device can have */
#define MDL_GROOVE_STEPS   16  /* steps a groove template can have */

/* Ids never collide: the high 32 bits are the id space of the client that
 * created the object (given by the server), the low 32 bits its counter.
 * Id space 0 holds the objects every project has from the start. */
typedef uint64_t mdl_id;
#define MDL_ID_NONE                  0
#define MDL_ID_PROJECT               1 /* the project object itself */
#define MDL_ID_MASTER                2 /* the master track */
#define MDL_ID_MAKE(client, counter) (((uint64_t) (client) << 32) | (uint32_t) (counter))
#define MDL_ID_CLIENT(id)            ((uint32_t) ((id) >> 32))

/* Object types. On the wire: frozen. */
typedef enum {
  MDL_TYPE_PROJECT = 1,
  MDL_TYPE_TRACK = 2,
  MDL_TYPE_CLIP = 3,   /* on an audio or instrument track; audio or MIDI by its track */
  MDL_TYPE_NOTE = 4,   /* in a MIDI clip */
  MDL_TYPE_EVENT = 5,  /* controller, pitch bend or pressure, in a MIDI clip */
  MDL_TYPE_LANE = 6,   /* automation of one parameter of its parent (a track or a device) */
  MDL_TYPE_POINT = 7,  /* in a lane */
  MDL_TYPE_DEVICE = 8, /* instrument or effect on a track */
  MDL_TYPE_SEND = 9,   /* from its track to a return or group track */
  MDL_TYPE_SCENE = 10,
  MDL_TYPE_MARKER = 11,
  MDL_TYPE_TEMPO = 12, /* a tempo change; the project's tempo holds at tick 0 */
  MDL_TYPE_METER = 13, /* a time-signature change at a bar */
  MDL_TYPE_GROOVE = 14,
  MDL_TYPE_USER = 15,
  MDL_TYPE_ZONE = 16, /* a sample zone of a sampler device */
  MDL_TYPE_COUNT_ = 17
} mdl_type;

/* Track kinds (MDL_PROP_KIND of a track; fixed at creation). */
typedef enum {
  MDL_TRACK_AUDIO = 1,      /* plays audio clips */
  MDL_TRACK_INSTRUMENT = 2, /* plays MIDI clips through its instrument device */
  MDL_TRACK_GROUP = 3,      /* sums the tracks nested in it and those routed to it */
  MDL_TRACK_RETURN = 4,     /* fed by sends */
  MDL_TRACK_MASTER = 5      /* the one master track, MDL_ID_MASTER */
} mdl_track_kind;

/* Properties. On the wire: frozen, never renumber. Ranges and units are in
 * mdl_schema.c and in shared/README.md. Ticks are MDL_PPQ per quarter note. */
typedef enum {
  MDL_PROP_NAME = 1,
  MDL_PROP_TEMPO = 2,
  MDL_PROP_TS_NUM = 3,
  MDL_PROP_TS_DEN = 4,
  MDL_PROP_METRONOME = 5,
  MDL_PROP_COLOUR = 6,
  MDL_PROP_GAIN = 7,
  MDL_PROP_PAN = 8,
  MDL_PROP_MUTE = 9,
  MDL_PROP_SOLO = 10,
  MDL_PROP_ORDER = 11,       /* order key among siblings (mdl_key.h) */
  MDL_PROP_KIND = 12,        /* track kind or device kind; fixed at creation */
  MDL_PROP_SAMPLE_RATE = 13, /* project, Hz */
  MDL_PROP_KEY_ROOT = 14,    /* project: 0 = C .. 11 = B */
  MDL_PROP_KEY_SCALE = 15,   /* project: mdl_scale */
  MDL_PROP_CLICK_LEVEL = 16, /* project: metronome level, linear */
  MDL_PROP_COUNT_IN = 17,    /* project: bars of count-in before recording */
  MDL_PROP_LOOP = 18,        /* project: loop region on; clip: content loops */
  MDL_PROP_LOOP_START = 19,  /* ticks */
  MDL_PROP_LOOP_END = 20,    /* ticks, after LOOP_START */
  MDL_PROP_INPUT_KIND = 21,  /* track: mdl_input */
  MDL_PROP_INPUT_CH = 22,    /* track: device channel, player or sensor number */
  MDL_PROP_ARM = 23,
  MDL_PROP_MONITOR = 24, /* track: 0 off, 1 auto, 2 in */
  MDL_PROP_OUTPUT = 25,  /* track: id of a group or return track; 0 = default */
  MDL_PROP_SOLO_SAFE = 26,
  MDL_PROP_START = 27,        /* ticks: clip, note, event, point, marker, tempo */
  MDL_PROP_LENGTH = 28,       /* ticks: clip, note */
  MDL_PROP_SCENE = 29,        /* clip: the scene of its session slot; 0 = arrangement */
  MDL_PROP_ASSET = 30,        /* audio clip: asset id, 64 hex digits (SHA-256) */
  MDL_PROP_OFFSET = 31,       /* audio clip: frames into the asset */
  MDL_PROP_FADE_IN = 32,      /* ticks */
  MDL_PROP_FADE_OUT = 33,     /* ticks */
  MDL_PROP_WARP = 34,         /* audio clip: follow the project tempo */
  MDL_PROP_SOURCE_BPM = 35,   /* audio clip: tempo the audio was played at; 0 = unknown */
  MDL_PROP_FOLLOW = 36,       /* clip: mdl_follow */
  MDL_PROP_FOLLOW_AFTER = 37, /* clip: ticks of play before the follow action */
  MDL_PROP_GROOVE = 38,       /* clip: id of a groove; 0 = none */
  MDL_PROP_PITCH = 39,        /* note: MIDI key */
  MDL_PROP_VELOCITY = 40,     /* note */
  MDL_PROP_CONTROLLER = 41,   /* event: 0..127 CC, 128 pitch bend, 129 channel pressure */
  MDL_PROP_CC_VALUE = 42,     /* event: 0..127, pitch bend -8192..8191 */
  MDL_PROP_PARAM = 43,        /* lane: the parameter (a device's parameter index,
                                 MDL_PROP_GAIN / MDL_PROP_PAN of a track, MDL_PROP_LEVEL
                                 of a send) */
  MDL_PROP_ON = 44,           /* lane: automation is read */
  MDL_PROP_VALUE = 45,        /* point: in the parameter's range */
  MDL_PROP_CURVE = 46,        /* point: mdl_curve, shape towards the next point */
  MDL_PROP_TENSION = 47,      /* point: -1..1, bends exponential and S curves */
  MDL_PROP_BYPASS = 48,       /* device */
  MDL_PROP_SIDECHAIN = 49,    /* device: id of the track keying it; 0 = none */
  MDL_PROP_TARGET = 50,       /* send: id of a return or group track */
  MDL_PROP_LEVEL = 51,        /* send: linear */
  MDL_PROP_PRE = 52,          /* send: taps before the fader */
  MDL_PROP_QUANT = 53,        /* scene: mdl_quant for launching */
  MDL_PROP_CUE = 54,          /* marker: a cue point rather than a section marker */
  MDL_PROP_BAR = 55,          /* meter: the bar (0-based) the signature starts at */
  MDL_PROP_RAMP = 56,         /* tempo: glide linearly to the next change */
  MDL_PROP_STEPS = 57,        /* groove: steps in use */
  MDL_PROP_GRID = 58,         /* groove: ticks per step */
  MDL_PROP_KEY_LO = 59,       /* zone: lowest key */
  MDL_PROP_KEY_HI = 60,       /* zone: highest key */
  MDL_PROP_VEL_LO = 61,       /* zone: lowest velocity */
  MDL_PROP_VEL_HI = 62,       /* zone: highest velocity */
  MDL_PROP_MODE = 63,         /* zone: 0 pitched, 1 one-shot */
  MDL_PROP_PARAM0 = 128,      /* device parameters 0..31: 128..159 */
  MDL_PROP_SHIFT0 = 160,      /* groove step timing 0..15: fraction of a step, 160..175 */
  MDL_PROP_ACCENT0 = 176,     /* groove step velocity offset 0..15: 176..191 */
  MDL_PROP_COUNT_ = 192
} mdl_prop;

typedef enum { MDL_INPUT_NONE = 0, MDL_INPUT_DEVICE, MDL_INPUT_PLAYER, MDL_INPUT_SENSOR } mdl_input;
typedef enum {
  MDL_FOLLOW_NONE = 0,
  MDL_FOLLOW_STOP,
  MDL_FOLLOW_AGAIN,
  MDL_FOLLOW_NEXT,
  MDL_FOLLOW_PREV,
  MDL_FOLLOW_FIRST,
  MDL_FOLLOW_LAST,
  MDL_FOLLOW_ANY,
  MDL_FOLLOW_OTHER
} mdl_follow;
typedef enum { MDL_CURVE_LINEAR = 0, MDL_CURVE_HOLD, MDL_CURVE_EXP, MDL_CURVE_S } mdl_curve;
/* Launch quantization: none, 1/16, 1/8, 1/4 (a beat), 1/2, 1 bar, 2, 4, 8 bars. */
typedef enum {
  MDL_QUANT_NONE = 0,
  MDL_QUANT_16TH,
  MDL_QUANT_8TH,
  MDL_QUANT_BEAT,
  MDL_QUANT_HALF,
  MDL_QUANT_BAR,
  MDL_QUANT_2BARS,
  MDL_QUANT_4BARS,
  MDL_QUANT_8BARS
} mdl_quant;
typedef enum {
  MDL_SCALE_MAJOR = 0,
  MDL_SCALE_MINOR,
  MDL_SCALE_DORIAN,
  MDL_SCALE_PHRYGIAN,
  MDL_SCALE_LYDIAN,
  MDL_SCALE_MIXOLYDIAN,
  MDL_SCALE_LOCRIAN,
  MDL_SCALE_CHROMATIC
} mdl_scale;

typedef enum {
  MDL_VAL_NONE = 0,
  MDL_VAL_INT = 1,
  MDL_VAL_REAL = 2,
  MDL_VAL_BOOL = 3,
  MDL_VAL_STR = 4,
  MDL_VAL_ID = 5 /* a reference; on the wire and in ops it travels as MDL_VAL_INT */
} mdl_val_kind;

/* A value as carried by an op. Strings are borrowed (not terminated). */
typedef struct mdl_value {
  uint8_t kind; /* mdl_val_kind (never MDL_VAL_ID: references are ints) */
  union {
    int64_t i;
    double r;
    bool b;
    struct {
      const char *ptr;
      uint32_t len;
    } s;
  } u;
} mdl_value;

/* What a property is: used by validation, the JSON form and the UI. The
 * range is the widest any type allows; a type's own is in mdl_schema.c, a
 * device parameter's in mdl_device.h, a point's that of its parameter. */
typedef struct mdl_prop_info {
  const char *name; /* JSON name, e.g. "gain" */
  uint8_t kind;     /* mdl_val_kind */
  double min, max;  /* inclusive range; for strings, byte length */
} mdl_prop_info;

typedef struct mdl_project mdl_project; /* opaque */

/* ---- Lifecycle ----------------------------------------------------------- */

/* A new project called NAME (the longest valid UTF-8 prefix of at most
 * MDL_NAME_MAX bytes; "Untitled" if empty or NULL): 48 kHz, 120 BPM, 4/4,
 * metronome on, and a master track. Memory comes from A, which must outlive
 * the project. Returns NULL when out of memory. */
mdl_project *mdl_project_create(const mdl_alloc *a, const char *name);
void mdl_project_destroy(mdl_project *p); /* NULL ok */

/* Makes P a new project called NAME again (as mdl_project_create), keeping
 * its memory for reuse. Returns MDL_OK or MDL_ERR_NOMEM (P is then empty but
 * valid: project and master only). */
int mdl_project_reset(mdl_project *p, const char *name);

/* Makes DST an exact copy of SRC (same objects, same hash). Allocates.
 * Returns MDL_OK or MDL_ERR_NOMEM (DST is then reset). */
int mdl_project_copy(mdl_project *dst, const mdl_project *src);

/* ---- Queries (do not allocate) ------------------------------------------- */

/* Type of object ID (an mdl_type), or 0 if there is none. */
int mdl_type_of(const mdl_project *p, mdl_id id);

/* Parent of object ID; MDL_ID_NONE for the project or a missing object. */
mdl_id mdl_parent_of(const mdl_project *p, mdl_id id);

/* Reads property PROP of object ID into *out. References read as
 * MDL_VAL_INT; strings borrow from the project until the next change.
 * Possible errors: MDL_ERR_NOT_FOUND, MDL_ERR_BAD_PROP. */
int mdl_get(const mdl_project *p, mdl_id id, int prop, mdl_value *out);

/* Shorthands: 0, false or "" when the object or property is missing. */
int64_t mdl_get_int(const mdl_project *p, mdl_id id, int prop);
double mdl_get_real(const mdl_project *p, mdl_id id, int prop);
bool mdl_get_bool(const mdl_project *p, mdl_id id, int prop);
const char *mdl_get_str(const mdl_project *p, mdl_id id, int prop, uint32_t *len);

/* The children of PARENT of type TYPE (0 = any type), in their order:
 * by order key then id for tracks, devices and scenes; by START (BAR for
 * meters) then id for timed objects; by id otherwise. Writes at most CAP
 * ids to OUT (may be NULL with CAP 0) and returns how many there are. */
uint32_t mdl_children(const mdl_project *p, mdl_id parent, int type, mdl_id *out, uint32_t cap);

/* All objects of TYPE, by id. Returns the count; writes at most CAP ids. */
uint32_t mdl_all(const mdl_project *p, int type, mdl_id *out, uint32_t cap);

/* Number of objects of TYPE (0 = all types). */
uint32_t mdl_count(const mdl_project *p, int type);

/* The tracks of the project, depth first in display order: a group's
 * tracks follow the group. Master is not included. As mdl_children. */
uint32_t mdl_tracks(const mdl_project *p, mdl_id *out, uint32_t cap);

/* Bytes of memory the project holds (pools, map, strings). */
size_t mdl_project_bytes(const mdl_project *p);

/* ---- Schema --------------------------------------------------------------- */

/* Describes property PROP, or NULL if PROP is not a property. */
const mdl_prop_info *mdl_prop_describe(int prop);

/* True if objects of TYPE have property PROP. */
bool mdl_type_has(int type, int prop);

/* "track", "clip", ... or NULL. */
const char *mdl_type_name(int type);

/* Finds a type by its name (LEN bytes); returns the mdl_type or 0. */
int mdl_type_lookup(const char *name, size_t len);

/* Finds a property of object type TYPE (0 = of any type) by its JSON name
 * (LEN bytes); returns the mdl_prop or 0. Device parameters are "p0".."p31". */
int mdl_prop_lookup(int type, const char *name, size_t len);

/* Checks that S (LEN bytes) is valid UTF-8 with no control characters. */
bool mdl_utf8_valid(const char *s, size_t len);

/* ---- State hash ----------------------------------------------------------- */

/* A 64-bit hash of the project's state: every object (type, id, parent and
 * each property in schema order, reals as IEEE-754 bits with -0 folded to
 * +0, strings by length and bytes) hashed with FNV-1a, mixed, and summed,
 * so the result does not depend on the order objects were made in; then the
 * schema version is mixed in. Two projects hash equal iff they hold the same
 * objects (up to collisions). Identical on every platform, native and wasm.
 * O(1): the sum is kept up to date by every change. */
uint64_t mdl_project_hash(const mdl_project *p);

/* Writes the hash as 16 lowercase hex digits and a NUL into out[17]. */
void mdl_hash_hex(uint64_t hash, char out[17]);

#endif
