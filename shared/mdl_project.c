/* mdl_project: model structs, property table, queries and the state hash. */
#include "shared/mdl_project.h"
#include "shared/mdl_err.h"

#include <string.h>

/* Indexed by mdl_prop; the entries must match the enum in mdl_project.h. */
static const mdl_prop_info props[MDL_PROP_COUNT_] = {
    [MDL_PROP_NAME] = {"name", 0, MDL_VAL_STR, 1, MDL_NAME_MAX},
    [MDL_PROP_TEMPO] = {"tempo", MDL_TYPE_PROJECT, MDL_VAL_REAL, 20, 999},
    [MDL_PROP_TS_NUM] = {"ts_num", MDL_TYPE_PROJECT, MDL_VAL_INT, 1, 32},
    [MDL_PROP_TS_DEN] = {"ts_den", MDL_TYPE_PROJECT, MDL_VAL_INT, 1, 32},
    [MDL_PROP_METRONOME] = {"metronome", MDL_TYPE_PROJECT, MDL_VAL_BOOL, 0, 1},
    [MDL_PROP_COLOUR] = {"colour", MDL_TYPE_TRACK, MDL_VAL_INT, 0, 0xFFFFFF},
    [MDL_PROP_GAIN] = {"gain", MDL_TYPE_TRACK, MDL_VAL_REAL, 0, 4},
    [MDL_PROP_PAN] = {"pan", MDL_TYPE_TRACK, MDL_VAL_REAL, -1, 1},
    [MDL_PROP_MUTE] = {"mute", MDL_TYPE_TRACK, MDL_VAL_BOOL, 0, 1},
    [MDL_PROP_SOLO] = {"solo", MDL_TYPE_TRACK, MDL_VAL_BOOL, 0, 1},
};

/* A palette that reads well on a dark background; new tracks cycle it. */
static const uint32_t palette[8] = {0xE5484D, 0xF76B15, 0xFFC53D, 0x46A758,
                                    0x12A594, 0x0090FF, 0x8E4EC6, 0xD6409F};

bool mdl_utf8_valid(const char *s, size_t len) {
  const unsigned char *u = (const unsigned char *) s;
  size_t i = 0;
  while (i < len) {
    unsigned c = u[i];
    size_t n;
    uint32_t cp;
    if (c < 0x80) {
      if (c < 0x20 || c == 0x7F) return false;
      i++;
      continue;
    } else if ((c & 0xE0) == 0xC0) {
      n = 1, cp = c & 0x1F;
    } else if ((c & 0xF0) == 0xE0) {
      n = 2, cp = c & 0x0F;
    } else if ((c & 0xF8) == 0xF0) {
      n = 3, cp = c & 0x07;
    } else {
      return false;
    }
    if (i + n >= len) return false; /* truncated sequence */
    for (size_t k = 1; k <= n; k++) {
      if ((u[i + k] & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (u[i + k] & 0x3F);
    }
    /* Refuse overlong forms, surrogates and values past U+10FFFF. */
    static const uint32_t min_cp[4] = {0, 0x80, 0x800, 0x10000};
    if (cp < min_cp[n] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
    if (cp >= 0x80 && cp < 0xA0) return false; /* C1 controls */
    i += n + 1;
  }
  return true;
}

/* Copies the longest valid UTF-8 prefix of SRC (at most MDL_NAME_MAX bytes)
 * into DST, NUL-terminated; returns its length. */
static size_t copy_name(char dst[MDL_NAME_MAX + 1], const char *src, size_t len) {
  if (len > MDL_NAME_MAX) len = MDL_NAME_MAX;
  while (len > 0 && !mdl_utf8_valid(src, len))
    len--;
  memcpy(dst, src, len);
  dst[len] = '\0';
  return len;
}

void mdl_project_init(mdl_project *p, const char *name) {
  memset(p, 0, sizeof *p);
  if (!name || copy_name(p->name, name, strlen(name)) == 0) memcpy(p->name, "Untitled", 9);
  p->tempo = 120.0;
  p->ts_num = 4;
  p->ts_den = 4;
  p->metronome = true;
}

void mdl_track_init(mdl_track *t, mdl_id id) {
  memset(t, 0, sizeof *t);
  t->id = id;
  memcpy(t->name, "Track", 6);
  t->colour = palette[(uint32_t) id % 8];
  t->gain = 1.0;
}

int mdl_project_track_index(const mdl_project *p, mdl_id id) {
  for (uint32_t i = 0; i < p->n_tracks; i++)
    if (p->tracks[i].id == id) return (int) i;
  return -1;
}

const mdl_track *mdl_project_track(const mdl_project *p, mdl_id id) {
  int i = mdl_project_track_index(p, id);
  return i < 0 ? NULL : &p->tracks[i];
}

const mdl_prop_info *mdl_prop_describe(int prop) {
  if (prop <= 0 || prop >= MDL_PROP_COUNT_) return NULL;
  return &props[prop];
}

int mdl_prop_lookup(int type, const char *name, size_t len) {
  for (int i = 1; i < MDL_PROP_COUNT_; i++) {
    if ((props[i].type == 0 || props[i].type == type) && strlen(props[i].name) == len &&
        memcmp(props[i].name, name, len) == 0)
      return i;
  }
  return 0;
}

static mdl_value str_value(const char *s) {
  mdl_value v = {.kind = MDL_VAL_STR};
  v.u.s.ptr = s;
  v.u.s.len = (uint32_t) strlen(s);
  return v;
}

int mdl_project_get(const mdl_project *p, mdl_id id, int prop, mdl_value *out) {
  memset(out, 0, sizeof *out);
  if (id == MDL_ID_PROJECT) {
    switch (prop) {
      case MDL_PROP_NAME:
        *out = str_value(p->name);
        return MDL_OK;
      case MDL_PROP_TEMPO:
        out->kind = MDL_VAL_REAL, out->u.r = p->tempo;
        return MDL_OK;
      case MDL_PROP_TS_NUM:
        out->kind = MDL_VAL_INT, out->u.i = p->ts_num;
        return MDL_OK;
      case MDL_PROP_TS_DEN:
        out->kind = MDL_VAL_INT, out->u.i = p->ts_den;
        return MDL_OK;
      case MDL_PROP_METRONOME:
        out->kind = MDL_VAL_BOOL, out->u.b = p->metronome;
        return MDL_OK;
      default:
        return MDL_ERR_BAD_PROP;
    }
  }
  const mdl_track *t = mdl_project_track(p, id);
  if (!t) return MDL_ERR_NOT_FOUND;
  switch (prop) {
    case MDL_PROP_NAME:
      *out = str_value(t->name);
      return MDL_OK;
    case MDL_PROP_COLOUR:
      out->kind = MDL_VAL_INT, out->u.i = t->colour;
      return MDL_OK;
    case MDL_PROP_GAIN:
      out->kind = MDL_VAL_REAL, out->u.r = t->gain;
      return MDL_OK;
    case MDL_PROP_PAN:
      out->kind = MDL_VAL_REAL, out->u.r = t->pan;
      return MDL_OK;
    case MDL_PROP_MUTE:
      out->kind = MDL_VAL_BOOL, out->u.b = t->mute;
      return MDL_OK;
    case MDL_PROP_SOLO:
      out->kind = MDL_VAL_BOOL, out->u.b = t->solo;
      return MDL_OK;
    default:
      return MDL_ERR_BAD_PROP;
  }
}

/* ---- State hash ---------------------------------------------------------- */

typedef struct hasher {
  uint64_t h;
} hasher;

static void h_bytes(hasher *hs, const void *data, size_t len) {
  const unsigned char *b = data;
  for (size_t i = 0; i < len; i++) {
    hs->h ^= b[i];
    hs->h *= 0x100000001b3ULL;
  }
}

/* Integers are fed little-endian byte by byte, so the hash does not depend on
 * the host's byte order. */
static void h_u64(hasher *hs, uint64_t v) {
  unsigned char b[8];
  for (int i = 0; i < 8; i++)
    b[i] = (unsigned char) (v >> (8 * i));
  h_bytes(hs, b, 8);
}

static void h_real(hasher *hs, double r) {
  uint64_t bits;
  if (r == 0) r = 0; /* fold -0 into +0 */
  memcpy(&bits, &r, sizeof bits);
  h_u64(hs, bits);
}

static void h_str(hasher *hs, const char *s) {
  size_t n = strlen(s);
  h_u64(hs, n);
  h_bytes(hs, s, n);
}

uint64_t mdl_project_hash(const mdl_project *p) {
  hasher hs = {0xcbf29ce484222325ULL};
  h_u64(&hs, MDL_SCHEMA_VERSION);
  h_str(&hs, p->name);
  h_real(&hs, p->tempo);
  h_u64(&hs, p->ts_num);
  h_u64(&hs, p->ts_den);
  h_u64(&hs, p->metronome);
  h_u64(&hs, p->n_tracks);
  for (uint32_t i = 0; i < p->n_tracks; i++) {
    const mdl_track *t = &p->tracks[i];
    h_u64(&hs, t->id);
    h_str(&hs, t->name);
    h_u64(&hs, t->colour);
    h_real(&hs, t->gain);
    h_real(&hs, t->pan);
    h_u64(&hs, t->mute);
    h_u64(&hs, t->solo);
  }
  return hs.h;
}

void mdl_hash_hex(uint64_t hash, char out[17]) {
  static const char digits[] = "0123456789abcdef";
  for (int i = 15; i >= 0; i--, hash >>= 4)
    out[i] = digits[hash & 15];
  out[16] = '\0';
}
