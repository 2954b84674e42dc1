/* mdl_project: the project model of the walking skeleton.
 *
 * A project (name, tempo, time signature, metronome) and its ordered tracks
 * (name, colour, gain, pan, mute, solo). The struct is plain and
 * caller-allocated: it holds fixed-capacity arrays, so copying a project is
 * one memcpy and the wasm build can hand out pointers into it. Only
 * mdl_txn_apply (mdl_op.h) changes a project after mdl_project_init.
 *
 * Pure C, no I/O: it compiles unchanged to wasm. Not thread-safe: one owner
 * at a time (the server's control thread, or the browser's main thread). */
#ifndef MDL_PROJECT_H
#define MDL_PROJECT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define MDL_SCHEMA_VERSION 1  /* bumped when the canonical form changes */
#define MDL_NAME_MAX       64 /* bytes of UTF-8, excluding the terminator */
#define MDL_TRACKS_MAX     64 /* the engine meters up to 64 tracks + master */

/* Ids never collide: the high 32 bits are the id space of the client that
 * created the object (given by the server), the low 32 bits its counter. */
typedef uint64_t mdl_id;
#define MDL_ID_NONE                  0
#define MDL_ID_PROJECT               1 /* the project object itself (id space 0) */
#define MDL_ID_MAKE(client, counter) (((uint64_t) (client) << 32) | (uint32_t) (counter))
#define MDL_ID_CLIENT(id)            ((uint32_t) ((id) >> 32))

/* Object types. On the wire: frozen. */
typedef enum { MDL_TYPE_PROJECT = 1, MDL_TYPE_TRACK = 2 } mdl_type;

/* Properties. On the wire: frozen, never renumber. */
typedef enum {
  MDL_PROP_NAME = 1,      /* project, track: string, 1..64 bytes UTF-8 */
  MDL_PROP_TEMPO = 2,     /* project: real, BPM 20..999 */
  MDL_PROP_TS_NUM = 3,    /* project: int, beats per bar 1..32 */
  MDL_PROP_TS_DEN = 4,    /* project: int, beat unit 1, 2, 4, 8, 16 or 32 */
  MDL_PROP_METRONOME = 5, /* project: bool */
  MDL_PROP_COLOUR = 6,    /* track: int, 0xRRGGBB */
  MDL_PROP_GAIN = 7,      /* track: real, linear amplitude 0..4 */
  MDL_PROP_PAN = 8,       /* track: real, -1 (left) .. +1 (right) */
  MDL_PROP_MUTE = 9,      /* track: bool */
  MDL_PROP_SOLO = 10,     /* track: bool */
  MDL_PROP_COUNT_ = 11
} mdl_prop;

typedef enum {
  MDL_VAL_NONE = 0,
  MDL_VAL_INT = 1,
  MDL_VAL_REAL = 2,
  MDL_VAL_BOOL = 3,
  MDL_VAL_STR = 4
} mdl_val_kind;

/* A value as carried by an op. Strings are borrowed (not terminated). */
typedef struct mdl_value {
  uint8_t kind; /* mdl_val_kind */
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

/* What a property is: used by validation, the JSON form and the UI. */
typedef struct mdl_prop_info {
  const char *name; /* JSON name, e.g. "gain" */
  uint8_t type;     /* mdl_type of the owning object */
  uint8_t kind;     /* mdl_val_kind */
  double min, max;  /* inclusive range; for strings, byte length */
} mdl_prop_info;

typedef struct mdl_track {
  mdl_id id;
  char name[MDL_NAME_MAX + 1]; /* NUL-terminated */
  uint32_t colour;             /* 0xRRGGBB */
  double gain;                 /* linear */
  double pan;                  /* -1..1 */
  bool mute;
  bool solo;
} mdl_track;

typedef struct mdl_project {
  char name[MDL_NAME_MAX + 1];
  double tempo;      /* BPM */
  uint8_t ts_num;    /* beats per bar */
  uint8_t ts_den;    /* beat unit */
  bool metronome;    /* click while playing */
  uint32_t n_tracks; /* tracks[0..n_tracks) in display order */
  mdl_track tracks[MDL_TRACKS_MAX];
} mdl_project;

/* ---- Lifecycle ----------------------------------------------------------- */

/* Sets *p to a new empty project called NAME (truncated to a valid UTF-8
 * prefix of at most MDL_NAME_MAX bytes; "Untitled" if empty or NULL), 120
 * BPM, 4/4, metronome on. Does not allocate. */
void mdl_project_init(mdl_project *p, const char *name);

/* Defaults for a new track with id ID. Does not allocate. */
void mdl_track_init(mdl_track *t, mdl_id id);

/* ---- Queries (do not allocate) ------------------------------------------- */

/* Index of the track with id ID, or -1. */
int mdl_project_track_index(const mdl_project *p, mdl_id id);

/* Track with id ID, or NULL. Borrowed: invalidated by the next apply. */
const mdl_track *mdl_project_track(const mdl_project *p, mdl_id id);

/* Describes property PROP, or NULL if PROP is not a property. */
const mdl_prop_info *mdl_prop_describe(int prop);

/* Finds a property of object type TYPE by its JSON name (LEN bytes);
 * returns the mdl_prop or 0. */
int mdl_prop_lookup(int type, const char *name, size_t len);

/* Reads property PROP of the object ID into *out. Strings in *out borrow
 * from the project. Possible errors: MDL_ERR_NOT_FOUND, MDL_ERR_BAD_PROP. */
int mdl_project_get(const mdl_project *p, mdl_id id, int prop, mdl_value *out);

/* Checks that S (LEN bytes) is valid UTF-8 with no control characters. */
bool mdl_utf8_valid(const char *s, size_t len);

/* ---- State hash ----------------------------------------------------------- */

/* A 64-bit hash (FNV-1a) of the project's canonical form: schema version,
 * every field in declaration order, tracks in order, reals as IEEE-754 bits
 * with -0 folded to +0. Two projects hash equal iff they are equal (up to
 * hash collisions). Identical on every platform, native and wasm. */
uint64_t mdl_project_hash(const mdl_project *p);

/* Writes the hash as 16 lowercase hex digits and a NUL into out[17]. */
void mdl_hash_hex(uint64_t hash, char out[17]);

#endif
