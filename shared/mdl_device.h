/* mdl_device: the instruments and effects a track's device chain can hold,
 * and their typed parameters (id = index, range, unit, default).
 *
 * Kind numbers and parameter tables are the engine's (engine/eng_node.h):
 * the model validates what the engine will play, and a test checks that the
 * two tables agree. Pure data; any thread. */
#ifndef MDL_DEVICE_H
#define MDL_DEVICE_H

#include <stdbool.h>
#include <stdint.h>

typedef enum {
  MDL_DEV_SYNTH = 1,
  MDL_DEV_DRUMS = 2,
  MDL_DEV_SAMPLER = 3, /* plays its zones (MDL_TYPE_ZONE children) */
  MDL_DEV_GAIN = 16,
  MDL_DEV_EQ = 17,
  MDL_DEV_COMPRESSOR = 18,
  MDL_DEV_GATE = 19,
  MDL_DEV_SATURATOR = 20,
  MDL_DEV_DELAY = 21,
  MDL_DEV_REVERB = 22,
  MDL_DEV_CHORUS = 23,
  MDL_DEV_LIMITER = 24
} mdl_device_kind;

typedef enum {
  MDL_UNIT_NONE = 0,
  MDL_UNIT_LINEAR,
  MDL_UNIT_DB,
  MDL_UNIT_HZ,
  MDL_UNIT_MS,
  MDL_UNIT_RATIO,
  MDL_UNIT_PERCENT,
  MDL_UNIT_SEMITONES,
  MDL_UNIT_CENTS,
  MDL_UNIT_OCTAVES,
  MDL_UNIT_BEATS,
  MDL_UNIT_CHOICE, /* integer index into the list after ':' in the name */
  MDL_UNIT_COUNT
} mdl_unit;

typedef struct mdl_param_desc {
  const char *name; /* snake_case; choices list their values: "wave:saw|square" */
  double min, max, def;
  uint8_t unit; /* mdl_unit */
} mdl_param_desc;

typedef struct mdl_device_desc {
  uint8_t kind;
  const char *name; /* "synth", "compressor", ... */
  bool instrument;  /* plays notes; only on instrument tracks, one per track */
  bool sidechain;   /* takes a key input (compressor, gate) */
  uint8_t n_params;
  const mdl_param_desc *params; /* parameter i is property MDL_PROP_PARAM0 + i */
} mdl_device_desc;

/* The description of device KIND, or NULL for an unknown kind. */
const mdl_device_desc *mdl_device_describe(int kind);

/* Kinds in table order: fills at most CAP, returns how many there are. */
uint32_t mdl_device_kinds(int *out, uint32_t cap);

#endif
