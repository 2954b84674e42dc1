/* mdl_op: validation and atomic application of transactions. */
#include "shared/mdl_op.h"
#include "shared/mdl_device.h"
#include "shared/mdl_err.h"
#include "shared/mdl_int.h"
#include "shared/mdl_key.h"

#include <string.h>

/* ---- Small string builder (shared/ has no stdio) -------------------------- */

typedef struct sbuf {
  char *buf;
  size_t cap, len;
} sbuf;

static void sb_str(sbuf *sb, const char *s) {
  while (*s && sb->len + 1 < sb->cap)
    sb->buf[sb->len++] = *s++;
  if (sb->cap) sb->buf[sb->len] = '\0';
}

static void sb_int(sbuf *sb, long long v) {
  char tmp[24];
  int n = 0;
  unsigned long long u = v < 0 ? 0ULL - (unsigned long long) v : (unsigned long long) v;
  do
    tmp[n++] = (char) ('0' + u % 10);
  while ((u /= 10) && n < 22);
  if (v < 0) tmp[n++] = '-';
  char out[24];
  for (int i = 0; i < n; i++)
    out[i] = tmp[n - 1 - i];
  out[n] = '\0';
  sb_str(sb, out);
}

/* Reals in reasons: integer part and up to three decimals are plenty. */
static void sb_real(sbuf *sb, double r) {
  if (r != r) {
    sb_str(sb, "NaN");
    return;
  }
  if (r > 1e15 || r < -1e15) {
    sb_str(sb, r > 0 ? "a huge number" : "a huge negative number");
    return;
  }
  if (r < 0) sb_str(sb, "-"), r = -r;
  long long whole = (long long) r;
  long long frac = (long long) ((r - (double) whole) * 1000 + 0.5);
  if (frac >= 1000) whole++, frac -= 1000;
  sb_int(sb, whole);
  if (frac) {
    char d[5] = {'.', (char) ('0' + frac / 100), (char) ('0' + frac / 10 % 10),
                 (char) ('0' + frac % 10), 0};
    for (int i = 3; i > 1 && d[i] == '0'; i--)
      d[i] = 0;
    sb_str(sb, d);
  }
}

/* ---- Values ---------------------------------------------------------------- */

static bool is_hex64(const char *s, uint32_t len) {
  if (len != 64) return false;
  for (uint32_t i = 0; i < len; i++)
    if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f'))) return false;
  return true;
}

static const char *kind_words[] = {"nothing",       "an integer", "a number",
                                   "true or false", "a string",   "an object id"};

/* Checks V against a field's kind and the range [MIN, MAX]. */
static int check_field(const mdl_field *f, int prop, double min, double max, const mdl_value *v,
                       sbuf *sb) {
  const mdl_prop_info *info = mdl_prop_describe(prop);
  uint8_t want = f->kind == MDL_VAL_ID ? MDL_VAL_INT : f->kind;
  bool kind_ok = v->kind == want || (want == MDL_VAL_REAL && v->kind == MDL_VAL_INT);
  if (!kind_ok) {
    sb_str(sb, info->name);
    sb_str(sb, " must be ");
    sb_str(sb, kind_words[f->kind]);
    return MDL_ERR_BAD_VALUE;
  }
  if (f->kind == MDL_VAL_BOOL || f->kind == MDL_VAL_ID) return MDL_OK;
  if (f->kind == MDL_VAL_STR) {
    const char *s = v->u.s.ptr;
    uint32_t n = v->u.s.len;
    if (n < min || n > max) {
      sb_str(sb, info->name);
      sb_str(sb, min > 0 ? " must be 1 to " : " must be at most ");
      sb_int(sb, (long long) max);
      sb_str(sb, " bytes long");
      return MDL_ERR_RANGE;
    }
    if (!mdl_utf8_valid(s, n)) {
      sb_str(sb, info->name);
      sb_str(sb, " must be UTF-8 text without control characters");
      return MDL_ERR_BAD_VALUE;
    }
    if (prop == MDL_PROP_ORDER && !mdl_key_valid(s, n)) {
      sb_str(sb, "an order key is made of the digits 0-9, A-Z, a-z and does not end in 0");
      return MDL_ERR_BAD_VALUE;
    }
    if (prop == MDL_PROP_ASSET && n && !is_hex64(s, n)) {
      sb_str(sb, "an asset id is 64 lowercase hex digits");
      return MDL_ERR_BAD_VALUE;
    }
    return MDL_OK;
  }
  double x = v->kind == MDL_VAL_INT ? (double) v->u.i : v->u.r;
  bool ok = x >= min && x <= max; /* false for NaN */
  if (ok && prop == MDL_PROP_TS_DEN) ok = (v->u.i & (v->u.i - 1)) == 0;
  if (ok && prop == MDL_PROP_TEMPO && x != 0 && x < 20) ok = false; /* a scene's 0 = none */
  if (!ok) {
    sb_str(sb, info->name);
    sb_str(sb, " ");
    sb_real(sb, x);
    if (prop == MDL_PROP_TS_DEN) {
      sb_str(sb, " is not 1, 2, 4, 8, 16 or 32");
    } else {
      sb_str(sb, " is out of range (");
      sb_real(sb, min);
      sb_str(sb, " to ");
      sb_real(sb, max);
      sb_str(sb, ")");
    }
    return MDL_ERR_RANGE;
  }
  return MDL_OK;
}

static const mdl_field *field_of(int type, int prop) {
  int cell = mdl__cell(type, prop);
  return cell < 0 ? NULL : &mdl__schema(type)->f[cell];
}

int mdl_value_check(int type, int prop, const mdl_value *v, char *reason, size_t reason_len) {
  sbuf sb = {reason, reason_len, 0};
  if (reason_len) reason[0] = '\0';
  const mdl_field *f = field_of(type, prop);
  if (!f) {
    sb_str(&sb, "a ");
    sb_str(&sb, mdl_type_name(type) ? mdl_type_name(type) : "object");
    sb_str(&sb, " has no property number ");
    sb_int(&sb, prop);
    return MDL_ERR_BAD_PROP;
  }
  return check_field(f, prop, f->min, f->max, v, &sb);
}

/* ---- Looking at objects ---------------------------------------------------- */

static int64_t cell_i(const mdl_project *p, uint32_t h, int prop) {
  return mdl__obj(p, h)->c[mdl__cell((int) H_TYPE(h), prop)].i;
}

static int track_kind(const mdl_project *p, uint32_t h) {
  return h && H_TYPE(h) == MDL_TYPE_TRACK ? (int) cell_i(p, h, MDL_PROP_KIND) : 0;
}

/* The range of parameter PARAM of the object a lane automates. */
static bool param_range(const mdl_project *p, uint32_t owner, int64_t param, double *min,
                        double *max) {
  if (H_TYPE(owner) == MDL_TYPE_TRACK || H_TYPE(owner) == MDL_TYPE_SEND) {
    bool ok = H_TYPE(owner) == MDL_TYPE_SEND ? param == MDL_PROP_LEVEL
                                             : param == MDL_PROP_GAIN || param == MDL_PROP_PAN;
    if (!ok) return false;
    const mdl_field *f = field_of((int) H_TYPE(owner), (int) param);
    *min = f->min, *max = f->max;
    return true;
  }
  const mdl_device_desc *d = mdl_device_describe((int) cell_i(p, owner, MDL_PROP_KIND));
  if (!d || param < 0 || param >= d->n_params) return false;
  *min = d->params[param].min, *max = d->params[param].max;
  return true;
}

/* The range of PROP on object H: the field's, a device's parameter table,
 * or the automated parameter's for a point. */
static bool range_of(const mdl_project *p, uint32_t h, int prop, const mdl_field *f, double *min,
                     double *max) {
  *min = f->min, *max = f->max;
  int type = (int) H_TYPE(h);
  if (type == MDL_TYPE_DEVICE && prop >= MDL_PROP_PARAM0 &&
      prop < MDL_PROP_PARAM0 + MDL_DEVICE_PARAMS) {
    const mdl_device_desc *d = mdl_device_describe((int) cell_i(p, h, MDL_PROP_KIND));
    int i = prop - MDL_PROP_PARAM0;
    if (!d || i >= d->n_params) return false;
    *min = d->params[i].min, *max = d->params[i].max;
  } else if (type == MDL_TYPE_POINT && prop == MDL_PROP_VALUE) {
    uint32_t lane = mdl__find(p, mdl__obj(p, h)->parent);
    uint32_t owner = lane ? mdl__find(p, mdl__obj(p, lane)->parent) : 0;
    return owner && param_range(p, owner, cell_i(p, lane, MDL_PROP_PARAM), min, max);
  }
  return true;
}

int mdl_value_check_on(const mdl_project *p, mdl_id id, int prop, const mdl_value *v, char *reason,
                       size_t reason_len) {
  sbuf sb = {reason, reason_len, 0};
  if (reason_len) reason[0] = '\0';
  uint32_t h = mdl__find(p, id);
  if (!h) {
    sb_str(&sb, "no object with that id");
    return MDL_ERR_NOT_FOUND;
  }
  int type = (int) H_TYPE(h);
  int rc = mdl_value_check(type, prop, v, reason, reason_len);
  if (rc) return rc;
  double min, max;
  if (!range_of(p, h, prop, field_of(type, prop), &min, &max)) {
    sb_str(&sb, "this object has no such parameter");
    return MDL_ERR_BAD_PROP;
  }
  return check_field(field_of(type, prop), prop, min, max, v, &sb);
}

/* ---- Parents ----------------------------------------------------------------- */

/* May an object of TYPE (and KIND, for tracks and devices) live under PH? */
static bool parent_ok(const mdl_project *p, int type, int64_t kind, uint32_t ph, sbuf *sb) {
  int pt = (int) H_TYPE(ph), tk = track_kind(p, ph);
  bool ok;
  switch (type) {
    case MDL_TYPE_TRACK:
      ok = pt == MDL_TYPE_PROJECT || tk == MDL_TRACK_GROUP;
      if (!ok) sb_str(sb, "a track goes in the project or in a group track");
      return ok;
    case MDL_TYPE_CLIP:
      ok = tk == MDL_TRACK_AUDIO || tk == MDL_TRACK_INSTRUMENT;
      if (!ok) sb_str(sb, "a clip goes on an audio or instrument track");
      return ok;
    case MDL_TYPE_NOTE:
    case MDL_TYPE_EVENT:
      ok = pt == MDL_TYPE_CLIP &&
           track_kind(p, mdl__find(p, mdl__obj(p, ph)->parent)) == MDL_TRACK_INSTRUMENT;
      if (!ok) sb_str(sb, "notes and MIDI events go in a clip on an instrument track");
      return ok;
    case MDL_TYPE_LANE:
      ok = pt == MDL_TYPE_TRACK || pt == MDL_TYPE_DEVICE || pt == MDL_TYPE_SEND;
      if (!ok) sb_str(sb, "an automation lane goes on a track, a device or a send");
      return ok;
    case MDL_TYPE_POINT:
      ok = pt == MDL_TYPE_LANE;
      if (!ok) sb_str(sb, "an automation point goes in a lane");
      return ok;
    case MDL_TYPE_ZONE:
      ok = pt == MDL_TYPE_DEVICE && cell_i(p, ph, MDL_PROP_KIND) == MDL_DEV_SAMPLER;
      if (!ok) sb_str(sb, "a sample zone goes in a sampler");
      return ok;
    case MDL_TYPE_DEVICE: {
      const mdl_device_desc *d = mdl_device_describe((int) kind);
      ok = pt == MDL_TYPE_TRACK && (!d->instrument || tk == MDL_TRACK_INSTRUMENT);
      if (!ok)
        sb_str(sb, pt == MDL_TYPE_TRACK ? "an instrument goes on an instrument track"
                                        : "a device goes on a track");
      return ok;
    }
    case MDL_TYPE_SEND:
      ok = pt == MDL_TYPE_TRACK && tk != MDL_TRACK_MASTER;
      if (!ok) sb_str(sb, "a send goes on a track other than master");
      return ok;
    default:
      ok = pt == MDL_TYPE_PROJECT;
      if (!ok) {
        sb_str(sb, "a ");
        sb_str(sb, mdl_type_name(type));
        sb_str(sb, " belongs to the project");
      }
      return ok;
  }
}

/* ---- Order keys ---------------------------------------------------------------- */

static uint32_t siblings(const mdl_project *p, uint32_t ph, int type, uint32_t skip, uint32_t *out,
                         uint32_t cap) {
  uint32_t n = 0;
  for (uint32_t c = mdl__first(p, ph); c; c = mdl__next(p, c))
    if (H_TYPE(c) == (uint32_t) type && c != skip && mdl__obj(p, c)->id != MDL_ID_MASTER && n < cap)
      out[n++] = c;
  /* Insertion sort: ordered siblings are few (tracks, devices, scenes). */
  for (uint32_t i = 1; i < n; i++)
    for (uint32_t k = i; k > 0 && mdl__cmp_order(p, out[k - 1], out[k]) > 0; k--) {
      uint32_t t = out[k];
      out[k] = out[k - 1];
      out[k - 1] = t;
    }
  return n;
}

static const mdl_str *key_of(const mdl_project *p, uint32_t h) {
  return mdl__obj(p, h)->c[mdl__schema((int) H_TYPE(h))->order_cell].s;
}

static int set_key(mdl_project *p, uint32_t h, const char *k, uint32_t n) {
  mdl_value v = {.kind = MDL_VAL_STR, .u.s = {k, n}};
  return mdl__set(p, h, mdl__schema((int) H_TYPE(h))->order_cell, &v);
}

#define SIBLINGS_MAX 1024

/* Gives H (a child of PH) the key right after AFTER (0 = first). */
static int place_after(mdl_project *p, uint32_t h, uint32_t ph, uint32_t after, sbuf *sb) {
  uint32_t sib[SIBLINGS_MAX];
  uint32_t n = siblings(p, ph, (int) H_TYPE(h), h, sib, SIBLINGS_MAX);
  if (n >= SIBLINGS_MAX) {
    sb_str(sb, "too many siblings to order (at most 1023)");
    return MDL_ERR_FULL;
  }
  for (int attempt = 0; attempt < 2; attempt++) {
    uint32_t at = 0;
    if (after) {
      while (at < n && sib[at] != after)
        at++;
      if (at == n) {
        sb_str(sb, "the object to place it after is not among its new siblings");
        return MDL_ERR_NOT_FOUND;
      }
      at++;
    }
    const mdl_str *a = at > 0 ? key_of(p, sib[at - 1]) : NULL;
    const mdl_str *b = at < n ? key_of(p, sib[at]) : NULL;
    char key[MDL_KEY_MAX];
    uint32_t len =
        mdl_key_between(a ? a->b : "", a ? a->len : 0, b ? b->b : "", b ? b->len : 0, key);
    /* Equal neighbouring keys (made concurrently) leave no room between
     * them: then, as when a key would grow too long, re-key the siblings. */
    if (len) return set_key(p, h, key, len);
    for (uint32_t i = 0; i < n; i++) {
      uint32_t kn = mdl_key_spread(i, n, key);
      if (set_key(p, sib[i], key, kn)) return MDL_ERR_NOMEM;
    }
  }
  sb_str(sb, "no order key fits");
  return MDL_ERR_FULL;
}

static uint32_t first_sibling(const mdl_project *p, uint32_t ph, int type, uint32_t skip) {
  uint32_t first = 0;
  for (uint32_t c = mdl__first(p, ph); c; c = mdl__next(p, c))
    if (H_TYPE(c) == (uint32_t) type && c != skip && mdl__obj(p, c)->id != MDL_ID_MASTER &&
        (!first || mdl__cmp_order(p, c, first) < 0))
      first = c;
  return first;
}

static uint32_t last_sibling(const mdl_project *p, uint32_t ph, int type, uint32_t skip) {
  uint32_t last = 0;
  for (uint32_t c = mdl__first(p, ph); c; c = mdl__next(p, c))
    if (H_TYPE(c) == (uint32_t) type && c != skip && mdl__obj(p, c)->id != MDL_ID_MASTER &&
        (!last || mdl__cmp_order(p, c, last) > 0))
      last = c;
  return last;
}

static mdl_end *end_slot(mdl_project *p, uint32_t ph, int type, bool last) {
  return &p->ends[(ph * 2654435761u + (uint32_t) type * 31u + last) % MDL_ENDS];
}

/* The remembered first or last child of PH of TYPE, or 0 if not known. */
static uint32_t end_of(mdl_project *p, uint32_t ph, int type, bool last) {
  mdl_end *e = end_slot(p, ph, type, last);
  bool hit = e->epoch == p->epoch && e->parent == ph && e->type == type && e->last == last;
  return hit ? e->h : 0;
}

static void remember_end(mdl_project *p, uint32_t ph, int type, bool last, uint32_t h) {
  *end_slot(p, ph, type, last) = (mdl_end){p->epoch, ph, h, (uint8_t) type, last};
}

/* Gives the new object H the key after its last sibling (a plain append):
 * one comparison when the last is remembered, one pass otherwise; the
 * general place_after when that key would be too long. */
static int append(mdl_project *p, uint32_t h, uint32_t ph, sbuf *sb) {
  int type = (int) H_TYPE(h);
  uint32_t last = end_of(p, ph, type, true);
  if (!last || last == h) last = last_sibling(p, ph, type, h); /* H itself may be remembered */
  const mdl_str *a = last ? key_of(p, last) : NULL;
  char key[MDL_KEY_MAX];
  uint32_t len = mdl_key_between(a ? a->b : "", a ? a->len : 0, "", 0, key);
  if (!len) return place_after(p, h, ph, last, sb);
  uint32_t first = end_of(p, ph, type, false);
  int rc = set_key(p, h, key, len);
  if (rc) return rc;
  remember_end(p, ph, type, true, h); /* it sorts after every sibling: the new last */
  if (first && first != h) remember_end(p, ph, type, false, first);
  return MDL_OK;
}

/* Puts H before its first sibling, as append does after the last. */
static int prepend(mdl_project *p, uint32_t h, uint32_t ph, sbuf *sb) {
  int type = (int) H_TYPE(h);
  uint32_t first = end_of(p, ph, type, false);
  if (!first || first == h) first = first_sibling(p, ph, type, h);
  if (!first) return append(p, h, ph, sb);
  const mdl_str *b = key_of(p, first);
  char key[MDL_KEY_MAX];
  uint32_t len = mdl_key_between("", 0, b ? b->b : "", b ? b->len : 0, key);
  if (!len || first == h) return place_after(p, h, ph, 0, sb);
  uint32_t last = end_of(p, ph, type, true);
  int rc = set_key(p, h, key, len);
  if (rc) return rc;
  remember_end(p, ph, type, false, h);
  if (last && last != h) remember_end(p, ph, type, true, last);
  return MDL_OK;
}

/* ---- Apply ------------------------------------------------------------------- */

/* Sets PROP of H to V after every check; CREATING allows the kind. */
static int set_prop(mdl_project *p, uint32_t h, int prop, const mdl_value *v, bool creating,
                    sbuf *sb) {
  int type = (int) H_TYPE(h);
  const mdl_field *f = field_of(type, prop);
  if (!f) {
    sb_str(sb, "a ");
    sb_str(sb, mdl_type_name(type));
    sb_str(sb, " has no property number ");
    sb_int(sb, prop);
    return MDL_ERR_BAD_PROP;
  }
  if (!creating && (prop == MDL_PROP_KIND || (type == MDL_TYPE_LANE && prop == MDL_PROP_PARAM))) {
    sb_str(sb, prop == MDL_PROP_KIND ? "the kind is fixed when the object is made"
                                     : "a lane's parameter is fixed when the lane is made");
    return MDL_ERR_FORBIDDEN;
  }
  if (mdl__obj(p, h)->id == MDL_ID_MASTER && prop != MDL_PROP_GAIN && prop != MDL_PROP_PAN &&
      prop != MDL_PROP_MUTE && prop != MDL_PROP_NAME && prop != MDL_PROP_COLOUR &&
      prop != MDL_PROP_KIND) {
    sb_str(sb, "master has only a name, a colour, gain, pan and mute");
    return MDL_ERR_FORBIDDEN;
  }
  double min, max;
  if (!range_of(p, h, prop, f, &min, &max)) {
    sb_str(sb, type == MDL_TYPE_POINT ? "the lane automates no parameter with a range"
                                      : "this device has no parameter number ");
    if (type != MDL_TYPE_POINT) sb_int(sb, prop - MDL_PROP_PARAM0);
    return MDL_ERR_BAD_PROP;
  }
  int rc = check_field(f, prop, min, max, v, sb);
  if (rc) return rc;
  if (f->kind == MDL_VAL_ID || (type == MDL_TYPE_TRACK && prop == MDL_PROP_OUTPUT))
    p->routing_dirty = true;
  if (mdl__set(p, h, (int) (f - mdl__schema(type)->f), v)) {
    sb_str(sb, "out of memory");
    return MDL_ERR_NOMEM;
  }
  return MDL_OK;
}

/* The kind a create gives (0 if none). */
static int64_t create_kind(const mdl_op *op) {
  for (uint16_t i = 0; i < op->n_props; i++)
    if (op->props[i].prop == MDL_PROP_KIND && op->props[i].value.kind == MDL_VAL_INT)
      return op->props[i].value.u.i;
  return 0;
}

static int check_new_id(const mdl_project *p, const mdl_op *op, uint32_t origin, sbuf *sb) {
  if (op->id == MDL_ID_NONE || MDL_ID_CLIENT(op->id) == 0 || op->id == MDL_ID_TOMB) {
    sb_str(sb, "the new id must carry a client id");
    return MDL_ERR_INVALID;
  }
  if (origin != 0 && MDL_ID_CLIENT(op->id) != origin) {
    sb_str(sb, "the new id belongs to client ");
    sb_int(sb, MDL_ID_CLIENT(op->id));
    sb_str(sb, ", not to the sender ");
    sb_int(sb, origin);
    return MDL_ERR_ID_SPACE;
  }
  if (mdl__find(p, op->id)) {
    sb_str(sb, "an object with that id already exists");
    return MDL_ERR_EXISTS;
  }
  return MDL_OK;
}

static int check_kind(int type, int64_t kind, sbuf *sb) {
  if (type == MDL_TYPE_TRACK && kind == MDL_TRACK_MASTER) {
    sb_str(sb, "a project has one master track, made with it");
    return MDL_ERR_FORBIDDEN;
  }
  if (type == MDL_TYPE_DEVICE && !mdl_device_describe((int) kind)) {
    sb_str(sb, kind ? "unknown device kind " : "a device needs a kind");
    if (kind) sb_int(sb, kind);
    return MDL_ERR_BAD_VALUE;
  }
  return MDL_OK;
}

/* A new device starts with its kind's parameter defaults. */
static int device_defaults(mdl_project *p, uint32_t h, sbuf *sb) {
  const mdl_device_desc *d = mdl_device_describe((int) cell_i(p, h, MDL_PROP_KIND));
  for (int i = 0; i < d->n_params; i++) {
    mdl_value v = {.kind = MDL_VAL_REAL, .u.r = d->params[i].def};
    if (mdl__set(p, h, mdl__cell(MDL_TYPE_DEVICE, MDL_PROP_PARAM0 + i), &v)) {
      sb_str(sb, "out of memory");
      return MDL_ERR_NOMEM;
    }
  }
  return MDL_OK;
}

/* A new track takes a colour from a palette that reads well on a dark
 * background, by its id, so tracks made one after another differ (and every
 * replica picks the same one). A colour given with the create wins. */
static int track_colour(mdl_project *p, uint32_t h, sbuf *sb) {
  static const uint32_t palette[8] = {0xE5484D, 0xF76B15, 0xFFC53D, 0x46A758,
                                      0x12A594, 0x0090FF, 0x8E4EC6, 0xD6409F};
  mdl_value v = {.kind = MDL_VAL_INT, .u.i = palette[(uint32_t) mdl__obj(p, h)->id % 8]};
  if (mdl__set(p, h, mdl__cell(MDL_TYPE_TRACK, MDL_PROP_COLOUR), &v)) {
    sb_str(sb, "out of memory");
    return MDL_ERR_NOMEM;
  }
  return MDL_OK;
}

/* A new point starts at its parameter's default (a track's gain 1, pan 0). */
static int point_default(mdl_project *p, uint32_t h, sbuf *sb) {
  uint32_t lane = mdl__find(p, mdl__obj(p, h)->parent);
  uint32_t owner = mdl__find(p, mdl__obj(p, lane)->parent);
  int64_t param = cell_i(p, lane, MDL_PROP_PARAM);
  double def = param == MDL_PROP_GAIN ? 1 : 0;
  const mdl_device_desc *d = H_TYPE(owner) == MDL_TYPE_DEVICE
                                 ? mdl_device_describe((int) cell_i(p, owner, MDL_PROP_KIND))
                                 : NULL;
  if (d && param >= 0 && param < d->n_params) def = d->params[param].def;
  mdl_value v = {.kind = MDL_VAL_REAL, .u.r = def};
  if (mdl__set(p, h, mdl__cell(MDL_TYPE_POINT, MDL_PROP_VALUE), &v)) {
    sb_str(sb, "out of memory");
    return MDL_ERR_NOMEM;
  }
  return MDL_OK;
}

static int op_create(mdl_project *p, const mdl_op *op, uint32_t origin, sbuf *sb) {
  int type = op->type;
  if (type <= MDL_TYPE_PROJECT || type >= MDL_TYPE_COUNT_) {
    sb_str(sb, "cannot create an object of type ");
    sb_int(sb, type);
    return MDL_ERR_BAD_TYPE;
  }
  int rc = check_new_id(p, op, origin, sb);
  if (rc) return rc;
  if (op->n_props > MDL_CREATE_MAX_PROPS) {
    sb_str(sb, "too many initial properties");
    return MDL_ERR_INVALID;
  }
  int64_t kind = type == MDL_TYPE_TRACK ? MDL_TRACK_INSTRUMENT : create_kind(op);
  if (type == MDL_TYPE_TRACK && create_kind(op)) kind = create_kind(op);
  if ((rc = check_kind(type, kind, sb))) return rc;
  mdl_id parent = op->parent ? op->parent : MDL_ID_PROJECT;
  uint32_t ph = mdl__find(p, parent);
  if (!ph) {
    sb_str(sb, "no parent object with that id");
    return MDL_ERR_NOT_FOUND;
  }
  if (!parent_ok(p, type, kind, ph, sb)) return MDL_ERR_INVALID;
  uint32_t h = mdl__create(p, type, op->id, parent);
  if (!h) {
    sb_str(sb, "out of memory");
    return MDL_ERR_NOMEM;
  }
  bool keyed = false;
  /* The kind first: device parameter ranges depend on it. */
  if (mdl_type_has(type, MDL_PROP_KIND)) {
    mdl_value kv = {.kind = MDL_VAL_INT, .u.i = kind};
    if ((rc = set_prop(p, h, MDL_PROP_KIND, &kv, true, sb))) return rc;
  }
  if (type == MDL_TYPE_DEVICE && (rc = device_defaults(p, h, sb))) return rc;
  if (type == MDL_TYPE_TRACK && (rc = track_colour(p, h, sb))) return rc;
  if (type == MDL_TYPE_POINT && (rc = point_default(p, h, sb))) return rc;
  for (uint16_t i = 0; i < op->n_props; i++) {
    if (op->props[i].prop == MDL_PROP_KIND) continue;
    if ((rc = set_prop(p, h, op->props[i].prop, &op->props[i].value, true, sb))) return rc;
    keyed |= op->props[i].prop == MDL_PROP_ORDER;
  }
  /* A new object has no route into it yet, so it closes no loop unless its
   * own references do (set_prop marks those). */
  if (!keyed && mdl__schema(type)->order_cell >= 0) return append(p, h, ph, sb);
  return MDL_OK;
}

/* Ids of the types other objects refer to. */
static bool referable(int type) {
  return type == MDL_TYPE_TRACK || type == MDL_TYPE_SCENE || type == MDL_TYPE_GROOVE;
}

/* After a delete: what referred to a deleted object lets go of it (a send
 * to a deleted track and a clip in a deleted scene's slot go too). */
static int drop_dangling(mdl_project *p) {
  static const struct {
    uint8_t type, prop;
  } refs[] = {{MDL_TYPE_TRACK, MDL_PROP_OUTPUT},
              {MDL_TYPE_DEVICE, MDL_PROP_SIDECHAIN},
              {MDL_TYPE_SEND, MDL_PROP_TARGET},
              {MDL_TYPE_CLIP, MDL_PROP_SCENE},
              {MDL_TYPE_CLIP, MDL_PROP_GROOVE}};
  for (size_t r = 0; r < sizeof refs / sizeof refs[0]; r++) {
    mdl_pool *pool = &p->pools[refs[r].type];
    int cell = mdl__cell(refs[r].type, refs[r].prop);
    for (uint32_t s = 0; s < pool->used; s++) {
      uint32_t h = ((uint32_t) refs[r].type << 24) | s;
      mdl_obj *o = mdl__obj(p, h);
      if (o->dead || !o->type || !o->c[cell].i || mdl__find(p, (mdl_id) o->c[cell].i)) continue;
      bool goes = refs[r].type == MDL_TYPE_SEND || refs[r].prop == MDL_PROP_SCENE;
      mdl_value zero = {.kind = MDL_VAL_INT, .u.i = 0};
      int rc = goes ? mdl__delete(p, h) : mdl__set(p, h, cell, &zero);
      if (rc) return rc;
    }
  }
  return MDL_OK;
}

static bool holds_referable(const mdl_project *p, uint32_t h) {
  if (referable((int) H_TYPE(h))) return true;
  for (uint32_t c = mdl__first(p, h); c; c = mdl__next(p, c))
    if (H_TYPE(c) == MDL_TYPE_TRACK) return true;
  return false;
}

static int op_delete(mdl_project *p, const mdl_op *op, sbuf *sb) {
  if (op->id == MDL_ID_PROJECT || op->id == MDL_ID_MASTER) {
    sb_str(sb, op->id == MDL_ID_PROJECT ? "the project itself cannot be deleted this way"
                                        : "the master track cannot be deleted");
    return MDL_ERR_FORBIDDEN;
  }
  uint32_t h = mdl__find(p, op->id);
  if (!h) {
    sb_str(sb, "no object with that id");
    return MDL_ERR_NOT_FOUND;
  }
  bool refs = holds_referable(p, h); /* a delete opens no routing loop: no check */
  int rc = mdl__delete(p, h);
  if (!rc && refs) rc = drop_dangling(p);
  if (rc) sb_str(sb, "out of memory");
  return rc;
}

/* True if A is B or lies under B. */
static bool within(const mdl_project *p, mdl_id a, mdl_id b) {
  for (int depth = 0; a && depth < 64; depth++) {
    if (a == b) return true;
    a = mdl_parent_of(p, a);
  }
  return false;
}

static int op_move(mdl_project *p, const mdl_op *op, sbuf *sb) {
  uint32_t h = mdl__find(p, op->id);
  if (!h || op->id == MDL_ID_PROJECT || op->id == MDL_ID_MASTER) {
    sb_str(sb, !h ? "no object with that id" : "the project and master stay where they are");
    return h ? MDL_ERR_FORBIDDEN : MDL_ERR_NOT_FOUND;
  }
  int type = (int) H_TYPE(h);
  mdl_id parent = op->parent ? op->parent : mdl__obj(p, h)->parent;
  uint32_t ph = mdl__find(p, parent);
  if (!ph) {
    sb_str(sb, "no parent object with that id");
    return MDL_ERR_NOT_FOUND;
  }
  int64_t kind = mdl_type_has(type, MDL_PROP_KIND) ? cell_i(p, h, MDL_PROP_KIND) : 0;
  if (!parent_ok(p, type, kind, ph, sb)) return MDL_ERR_INVALID;
  if (type == MDL_TYPE_LANE && parent != mdl__obj(p, h)->parent) {
    sb_str(sb, "a lane stays with the parameter it automates");
    return MDL_ERR_INVALID;
  }
  if (within(p, parent, op->id)) {
    sb_str(sb, "an object cannot go inside itself");
    return MDL_ERR_INVALID;
  }
  if (type == MDL_TYPE_CLIP && mdl__first(p, h) && track_kind(p, ph) != MDL_TRACK_INSTRUMENT) {
    sb_str(sb, "a clip with notes stays on an instrument track");
    return MDL_ERR_INVALID;
  }
  if (parent != mdl__obj(p, h)->parent) {
    if (mdl__set_parent(p, h, parent)) {
      sb_str(sb, "out of memory");
      return MDL_ERR_NOMEM;
    }
    p->routing_dirty = true;
  }
  if (mdl__schema(type)->order_cell < 0) {
    if (!op->after) return MDL_OK;
    sb_str(sb, "only tracks, devices and scenes have an order");
    return MDL_ERR_INVALID;
  }
  if (op->after == op->id) {
    sb_str(sb, "an object cannot be placed after itself");
    return MDL_ERR_INVALID;
  }
  uint32_t ah = 0;
  if (op->after && !(ah = mdl__find(p, op->after))) {
    sb_str(sb, "no object to place it after");
    return MDL_ERR_NOT_FOUND;
  }
  return ah ? place_after(p, h, ph, ah, sb) : prepend(p, h, ph, sb);
}

static int op_set(mdl_project *p, const mdl_op *op, sbuf *sb) {
  uint32_t h = mdl__find(p, op->id);
  if (!h) {
    sb_str(sb, "no object with that id");
    return MDL_ERR_NOT_FOUND;
  }
  return set_prop(p, h, op->prop, &op->value, false, sb);
}

static int apply_op(mdl_project *p, const mdl_op *op, uint32_t origin, sbuf *sb) {
  switch (op->kind) {
    case MDL_OP_CREATE:
      return op_create(p, op, origin, sb);
    case MDL_OP_SET:
      return op_set(p, op, sb);
    case MDL_OP_DELETE:
      return op_delete(p, op, sb);
    case MDL_OP_MOVE:
      return op_move(p, op, sb);
    default:
      sb_str(sb, "unknown operation ");
      sb_int(sb, op->kind);
      return MDL_ERR_BAD_OP;
  }
}

/* ---- Whole-transaction checks ------------------------------------------------ */

static bool ref_is(const mdl_project *p, int64_t id, int type) {
  uint32_t h = mdl__find(p, (mdl_id) id);
  return h && H_TYPE(h) == (uint32_t) type;
}

/* The references and sibling rules of one object. */
static int check_object(const mdl_project *p, uint32_t h, sbuf *sb) {
  const mdl_obj *o = mdl__obj(p, h);
  uint32_t ph = mdl__find(p, o->parent);
  switch (H_TYPE(h)) {
    case MDL_TYPE_PROJECT:
      if (cell_i(p, h, MDL_PROP_LOOP_END) <= cell_i(p, h, MDL_PROP_LOOP_START)) {
        sb_str(sb, "the loop must end after it starts");
        return MDL_ERR_RANGE;
      }
      return MDL_OK;
    case MDL_TYPE_TRACK: {
      int64_t out = cell_i(p, h, MDL_PROP_OUTPUT);
      int k = track_kind(p, mdl__find(p, (mdl_id) out));
      if (out && (out == (int64_t) o->id || (k != MDL_TRACK_GROUP && k != MDL_TRACK_RETURN))) {
        sb_str(sb, "a track's output must be a group or return track other than itself");
        return MDL_ERR_INVALID;
      }
      return MDL_OK;
    }
    case MDL_TYPE_SEND: {
      int64_t to = cell_i(p, h, MDL_PROP_TARGET);
      int k = track_kind(p, mdl__find(p, (mdl_id) to));
      if ((k != MDL_TRACK_RETURN && k != MDL_TRACK_GROUP) || to == (int64_t) o->parent) {
        sb_str(sb, to ? "a send goes to a return or group track other than its own"
                      : "a send needs a target track");
        return MDL_ERR_INVALID;
      }
      for (uint32_t c = mdl__first(p, ph); c; c = mdl__next(p, c))
        if (c != h && H_TYPE(c) == MDL_TYPE_SEND && cell_i(p, c, MDL_PROP_TARGET) == to) {
          sb_str(sb, "the track already sends to that track");
          return MDL_ERR_EXISTS;
        }
      return MDL_OK;
    }
    case MDL_TYPE_DEVICE: {
      int64_t sc = cell_i(p, h, MDL_PROP_SIDECHAIN);
      const mdl_device_desc *d = mdl_device_describe((int) cell_i(p, h, MDL_PROP_KIND));
      if (sc && (!d->sidechain || !ref_is(p, sc, MDL_TYPE_TRACK) || sc == (int64_t) o->parent)) {
        sb_str(sb, d->sidechain ? "a sidechain comes from another track"
                                : "this device takes no sidechain");
        return MDL_ERR_INVALID;
      }
      if (d->instrument)
        for (uint32_t c = mdl__first(p, ph); c; c = mdl__next(p, c))
          if (c != h && H_TYPE(c) == MDL_TYPE_DEVICE &&
              mdl_device_describe((int) cell_i(p, c, MDL_PROP_KIND))->instrument) {
            sb_str(sb, "a track has one instrument");
            return MDL_ERR_EXISTS;
          }
      return MDL_OK;
    }
    case MDL_TYPE_CLIP: {
      int64_t scene = cell_i(p, h, MDL_PROP_SCENE), groove = cell_i(p, h, MDL_PROP_GROOVE);
      if (scene && !ref_is(p, scene, MDL_TYPE_SCENE)) {
        sb_str(sb, "no scene with that id");
        return MDL_ERR_NOT_FOUND;
      }
      if (groove && !ref_is(p, groove, MDL_TYPE_GROOVE)) {
        sb_str(sb, "no groove with that id");
        return MDL_ERR_NOT_FOUND;
      }
      if (cell_i(p, h, MDL_PROP_LOOP_END) <= cell_i(p, h, MDL_PROP_LOOP_START)) {
        sb_str(sb, "a clip's loop must end after it starts");
        return MDL_ERR_RANGE;
      }
      if (scene)
        for (uint32_t c = mdl__first(p, ph); c; c = mdl__next(p, c))
          if (c != h && H_TYPE(c) == MDL_TYPE_CLIP && cell_i(p, c, MDL_PROP_SCENE) == scene) {
            sb_str(sb, "that slot already holds a clip");
            return MDL_ERR_EXISTS;
          }
      return MDL_OK;
    }
    case MDL_TYPE_ZONE:
      if (cell_i(p, h, MDL_PROP_KEY_LO) > cell_i(p, h, MDL_PROP_KEY_HI) ||
          cell_i(p, h, MDL_PROP_VEL_LO) > cell_i(p, h, MDL_PROP_VEL_HI)) {
        sb_str(sb, "a zone's lowest key and velocity are at most its highest");
        return MDL_ERR_RANGE;
      }
      if (cell_i(p, h, MDL_PROP_LOOP_END) &&
          cell_i(p, h, MDL_PROP_LOOP_END) <= cell_i(p, h, MDL_PROP_LOOP_START)) {
        sb_str(sb, "a zone's loop must end after it starts");
        return MDL_ERR_RANGE;
      }
      return MDL_OK;
    case MDL_TYPE_POINT: {
      double min, max, x = mdl__obj(p, h)->c[mdl__cell(MDL_TYPE_POINT, MDL_PROP_VALUE)].r;
      if (range_of(p, h, MDL_PROP_VALUE, field_of(MDL_TYPE_POINT, MDL_PROP_VALUE), &min, &max) &&
          !(x >= min && x <= max)) {
        sb_str(sb, "a point's value must be in its parameter's range");
        return MDL_ERR_RANGE;
      }
      return MDL_OK;
    }
    case MDL_TYPE_LANE: {
      double min, max;
      if (!param_range(p, ph, cell_i(p, h, MDL_PROP_PARAM), &min, &max)) {
        sb_str(sb, "the lane's parameter is not one its track, device or send has");
        return MDL_ERR_BAD_PROP;
      }
      return MDL_OK;
    }
    default:
      return MDL_OK;
  }
}

/* Where a track's audio goes: its output, else its group, else master. */
static mdl_id dest_of(const mdl_project *p, uint32_t h) {
  int64_t out = cell_i(p, h, MDL_PROP_OUTPUT);
  if (out) return (mdl_id) out;
  mdl_id parent = mdl__obj(p, h)->parent;
  return parent == MDL_ID_PROJECT ? MDL_ID_MASTER : parent;
}

enum { WHITE, GREY, BLACK };

/* Depth-first search over "feeds" edges: a track feeds its destination and
 * its send targets; a sidechain key track feeds the keyed track. */
static bool cycle_from(const mdl_project *p, uint32_t h, uint8_t *colour, uint32_t *index,
                       int depth) {
  uint32_t me = index[H_SLOT(h)];
  if (colour[me] == GREY) return true;
  if (depth > 4096) return true; /* deeper than any real routing: refuse, to be safe */
  if (colour[me] == BLACK) return false;
  colour[me] = GREY;
  mdl_id next[2 + 64];
  uint32_t n = 0;
  if (mdl__obj(p, h)->id != MDL_ID_MASTER) next[n++] = dest_of(p, h);
  for (uint32_t c = mdl__first(p, h); c && n < 64; c = mdl__next(p, c))
    if (H_TYPE(c) == MDL_TYPE_SEND) next[n++] = (mdl_id) cell_i(p, c, MDL_PROP_TARGET);
  for (uint32_t i = 0; i < n; i++) {
    uint32_t t = mdl__find(p, next[i]);
    if (t && H_TYPE(t) == MDL_TYPE_TRACK && cycle_from(p, t, colour, index, depth + 1)) return true;
  }
  /* Tracks keyed by this one: found by scanning devices (few). */
  const mdl_pool *dev = &p->pools[MDL_TYPE_DEVICE];
  for (uint32_t s = 0; s < dev->used; s++) {
    uint32_t d = ((uint32_t) MDL_TYPE_DEVICE << 24) | s;
    const mdl_obj *o = mdl__obj(p, d);
    if (o->dead || !o->type || cell_i(p, d, MDL_PROP_SIDECHAIN) != (int64_t) mdl__obj(p, h)->id)
      continue;
    uint32_t t = mdl__find(p, o->parent);
    if (t && cycle_from(p, t, colour, index, depth + 1)) return true;
  }
  colour[me] = BLACK;
  return false;
}

#define ROUTE_STACK 256 /* track slots checked without allocating */

/* True if the routing has a loop. Large projects take their marks from the
 * project's allocator; if that fails the check errs on the safe side. */
static bool routing_cycle(const mdl_project *p) {
  const mdl_pool *tracks = &p->pools[MDL_TYPE_TRACK];
  uint8_t small_colour[ROUTE_STACK];
  uint32_t small_index[ROUTE_STACK];
  uint8_t *colour = small_colour;
  uint32_t *index = small_index;
  size_t n = tracks->used;
  if (n > ROUTE_STACK) {
    colour = p->a.alloc(p->a.ud, n);
    index = p->a.alloc(p->a.ud, n * sizeof *index);
    if (!colour || !index) {
      if (colour) p->a.free(p->a.ud, colour, n);
      if (index) p->a.free(p->a.ud, index, n * sizeof *index);
      return true;
    }
  }
  for (uint32_t s = 0; s < n; s++)
    index[s] = s, colour[s] = WHITE;
  bool loop = false;
  for (uint32_t s = 0; s < n && !loop; s++) {
    uint32_t h = ((uint32_t) MDL_TYPE_TRACK << 24) | s;
    const mdl_obj *o = mdl__obj(p, h);
    loop = !o->dead && o->type && cycle_from(p, h, colour, index, 0);
  }
  if (colour != small_colour) {
    p->a.free(p->a.ud, colour, n);
    p->a.free(p->a.ud, index, n * sizeof *index);
  }
  return loop;
}

/* True if a change of cell CELL of an object of TYPE can break a rule
 * check_object checks (references, loops, ranges that depend on others). */
static bool checked_cell(int type, int cell) {
  const mdl_field *f = &mdl__schema(type)->f[cell];
  return f->kind == MDL_VAL_ID || f->prop == MDL_PROP_LOOP_START || f->prop == MDL_PROP_LOOP_END ||
         f->prop == MDL_PROP_KEY_LO || f->prop == MDL_PROP_KEY_HI || f->prop == MDL_PROP_VEL_LO ||
         f->prop == MDL_PROP_VEL_HI || f->prop == MDL_PROP_VALUE || f->prop == MDL_PROP_PARAM ||
         f->prop == MDL_PROP_KIND;
}

/* Checks every object the journal made, moved or changed in a way that
 * matters, since entry FROM. */
static int check_touched(mdl_project *p, const mdl_journal *j, uint32_t from, sbuf *sb) {
  uint32_t last = 0; /* the object checked last: a run of changes to one object is checked once */
  for (uint32_t i = from; i < j->n; i++) {
    const mdl_jent *e = &j->e[i];
    uint32_t h = e->h;
    const mdl_obj *o = mdl__obj(p, h);
    if (e->what == J_DELETE || o->dead) continue;
    if (e->what == J_CELL && !checked_cell(o->type, e->cell)) continue;
    if (h == last) continue;
    last = h;
    int rc = check_object(p, h, sb);
    if (rc) return rc;
    /* A new send or moved clip also concerns its siblings: checked above. */
  }
  if (p->routing_dirty && routing_cycle(p)) {
    sb_str(sb, "the routing would make a loop (outputs, sends and sidechains)");
    return MDL_ERR_INVALID;
  }
  return MDL_OK;
}

/* ---- Transactions ---------------------------------------------------------------- */

static int run_txn(mdl_project *p, const mdl_txn *txn, uint32_t origin, mdl_journal *j, sbuf *out,
                   mdl_fail *fail) {
  if (fail) fail->code = MDL_OK, fail->op_index = 0;
  if (txn->n_ops == 0 || txn->n_ops > MDL_TXN_MAX_OPS) {
    sb_str(out, txn->n_ops ? "too many ops in one transaction (at most 256)"
                           : "a transaction needs at least one op");
    if (fail) fail->code = MDL_ERR_INVALID;
    return MDL_ERR_INVALID;
  }
  mdl__j_begin(p, j);
  p->routing_dirty = false;
  int rc = MDL_OK;
  uint32_t i;
  char why[MDL_REASON_MAX];
  for (i = 0; i < txn->n_ops && !rc; i++) {
    sbuf wsb = {why, sizeof why, 0};
    rc = apply_op(p, &txn->ops[i], origin, &wsb);
    mdl__seal(p);
    if (rc) { /* the reason, prefixed with the op, only when there is one */
      sbuf msg = *out;
      sb_str(&msg, "op ");
      sb_int(&msg, i);
      sb_str(&msg, ": ");
      why[sizeof why - 1] = '\0';
      sb_str(&msg, wsb.len ? why : "refused");
    }
  }
  if (!rc) {
    sbuf wsb = {why, sizeof why, 0};
    rc = check_touched(p, j, 0, &wsb);
    if (rc) { /* reported as the transaction as a whole: op_index = n_ops */
      i = txn->n_ops + 1;
      sbuf msg = *out;
      sb_str(&msg, "transaction: ");
      sb_str(&msg, why);
    }
  }
  p->j = NULL;
  if (rc) {
    mdl__j_undo(p, j);
    if (fail) fail->code = rc, fail->op_index = i - 1;
  }
  return rc;
}

int mdl_txn_apply(mdl_project *p, const mdl_txn *txn, uint32_t origin, mdl_fail *fail) {
  char tmp[MDL_REASON_MAX];
  sbuf sb = {fail ? fail->reason : tmp, MDL_REASON_MAX, 0};
  sb.buf[0] = '\0';
  int rc = run_txn(p, txn, origin, &p->own, &sb, fail);
  if (!rc) mdl__j_commit(p, &p->own);
  return rc;
}

int mdl_txn_try(mdl_project *p, const mdl_txn *txn, uint32_t origin, mdl_fail *fail) {
  return mdl__txn_apply_keep(p, txn, origin, &p->own, fail);
}

void mdl_txn_keep(mdl_project *p) {
  mdl__j_commit(p, &p->own);
}

void mdl_txn_drop(mdl_project *p) {
  mdl__j_undo(p, &p->own);
}

int mdl__txn_apply_keep(mdl_project *p, const mdl_txn *txn, uint32_t origin, mdl_journal *j,
                        mdl_fail *fail) {
  char tmp[MDL_REASON_MAX];
  sbuf sb = {fail ? fail->reason : tmp, MDL_REASON_MAX, 0};
  sb.buf[0] = '\0';
  return run_txn(p, txn, origin, j, &sb, fail);
}

/* ---- Whole states ------------------------------------------------------------------ */

typedef struct walker {
  const mdl_project *p;
  mdl_walk_fn fn;
  void *ud;
} walker;

static void walk_obj(walker *w, uint32_t h, int depth) {
  const mdl_obj *o = mdl__obj(w->p, h);
  const mdl_schema *s = mdl__schema(o->type);
  mdl_value vals[64];
  for (int k = 0; k < s->n; k++)
    vals[k] = mdl__cell_value(&s->f[k], o->c[k]);
  w->fn(w->ud, o->type, o->id, o->parent, vals, s->n);
  if (depth > 64) return;
  /* Master first among the project's children: it exists before any load. */
  for (uint32_t c = mdl__first(w->p, h); c; c = mdl__next(w->p, c))
    if (mdl__obj(w->p, c)->id == MDL_ID_MASTER) walk_obj(w, c, depth + 1);
  for (uint32_t c = mdl__first(w->p, h); c; c = mdl__next(w->p, c))
    if (mdl__obj(w->p, c)->id != MDL_ID_MASTER) walk_obj(w, c, depth + 1);
}

void mdl_walk(const mdl_project *p, mdl_walk_fn fn, void *ud) {
  walker w = {p, fn, ud};
  uint32_t h = mdl__find(p, MDL_ID_PROJECT);
  if (h) walk_obj(&w, h, 0);
}

uint32_t mdl_fields(int type, uint8_t *props, uint32_t cap) {
  const mdl_schema *s = mdl__schema(type);
  if (!s) return 0;
  for (uint32_t k = 0; k < s->n && k < cap; k++)
    props[k] = s->f[k].prop;
  return s->n;
}

void mdl_load_begin(mdl_project *p) {
  mdl_project_reset(p, NULL);
  p->j = NULL;
}

static int load_fail(mdl_project *p, int rc, mdl_fail *fail, const char *why) {
  if (fail) {
    sbuf sb = {fail->reason, MDL_REASON_MAX, 0};
    sb_str(&sb, why);
    fail->code = rc;
    fail->op_index = 0;
  }
  mdl_project_reset(p, NULL);
  return rc;
}

/* True if V is what cell K of H holds already (defaults need no set). */
static bool same_as_cell(const mdl_project *p, uint32_t h, uint32_t k, const mdl_value *v) {
  const mdl_field *f = &mdl__schema((int) H_TYPE(h))->f[k];
  mdl_value c = mdl__cell_value(f, mdl__obj(p, h)->c[k]);
  if (c.kind != v->kind) return false;
  switch (c.kind) {
    case MDL_VAL_STR:
      return c.u.s.len == v->u.s.len && memcmp(c.u.s.ptr, v->u.s.ptr, c.u.s.len) == 0;
    case MDL_VAL_REAL:
      return c.u.r == v->u.r;
    case MDL_VAL_BOOL:
      return c.u.b == v->u.b;
    default:
      return c.u.i == v->u.i;
  }
}

int mdl_load_object(mdl_project *p, int type, mdl_id id, mdl_id parent, const mdl_value *vals,
                    uint32_t n, mdl_fail *fail) {
  char why[MDL_REASON_MAX];
  sbuf sb = {why, sizeof why, 0};
  why[0] = '\0';
  const mdl_schema *s = mdl__schema(type);
  if (!s || n != s->n) return load_fail(p, MDL_ERR_BAD_TYPE, fail, "unknown object type");
  uint32_t h = mdl__find(p, id);
  bool fixed = id == MDL_ID_PROJECT || id == MDL_ID_MASTER;
  if (fixed != (h != 0) || (fixed && (int) H_TYPE(h) != type) ||
      (fixed && mdl__obj(p, h)->parent != parent))
    return load_fail(p, MDL_ERR_EXISTS, fail, "an object is there twice or out of place");
  if (!fixed) {
    mdl_prop_value pv[64];
    for (uint32_t k = 0; k < n; k++)
      pv[k].prop = s->f[k].prop, pv[k].value = vals[k];
    /* A create with every property: empty strings are defaults, not values. */
    uint32_t m = 0;
    for (uint32_t k = 0; k < n; k++)
      if (!(vals[k].kind == MDL_VAL_STR && vals[k].u.s.len == 0)) pv[m++] = pv[k];
    mdl_op op = {.kind = MDL_OP_CREATE,
                 .type = (uint8_t) type,
                 .id = id,
                 .parent = parent,
                 .n_props = (uint16_t) m,
                 .props = pv};
    int rc = MDL_ERR_INVALID;
    if (m <= 64) {
      /* Create checks without the per-transaction property limit. */
      rc = check_new_id(p, &op, 0, &sb);
      int64_t kind = create_kind(&op);
      if (!rc) rc = check_kind(type, kind, &sb);
      uint32_t ph = mdl__find(p, parent);
      if (!rc && !ph) rc = MDL_ERR_NOT_FOUND, sb_str(&sb, "a parent is missing");
      if (!rc && !parent_ok(p, type, kind, ph, &sb)) rc = MDL_ERR_INVALID;
      if (!rc && !(h = mdl__create(p, type, id, parent))) rc = MDL_ERR_NOMEM;
    }
    if (rc) return load_fail(p, rc, fail, why);
    if (mdl_type_has(type, MDL_PROP_KIND)) {
      mdl_value kv = {.kind = MDL_VAL_INT, .u.i = create_kind(&op)};
      int rc2 = set_prop(p, h, MDL_PROP_KIND, &kv, true, &sb);
      if (rc2) return load_fail(p, rc2, fail, why);
    }
  }
  for (uint32_t k = 0; k < n; k++) {
    if (s->f[k].prop == MDL_PROP_KIND || same_as_cell(p, h, k, &vals[k])) continue;
    int rc = set_prop(p, h, s->f[k].prop, &vals[k], true, &sb);
    if (rc) return load_fail(p, rc, fail, why);
  }
  return MDL_OK;
}

int mdl_load_end(mdl_project *p, mdl_fail *fail) {
  char why[MDL_REASON_MAX];
  int rc = mdl_project_check(p, why, sizeof why);
  return rc ? load_fail(p, rc, fail, why) : MDL_OK;
}

int mdl_project_check(const mdl_project *p, char *reason, size_t reason_len) {
  sbuf sb = {reason, reason_len, 0};
  if (reason_len) reason[0] = '\0';
  uint64_t sum = 0;
  uint32_t live = 0;
  for (int t = 1; t < MDL_TYPE_COUNT_; t++) {
    const mdl_pool *pool = &p->pools[t];
    for (uint32_t s = 0; s < pool->used; s++) {
      uint32_t h = ((uint32_t) t << 24) | s;
      const mdl_obj *o = mdl__obj(p, h);
      if (o->dead || !o->type) continue;
      live++;
      sum += mdl__obj_hash(o);
      if (mdl__find(p, o->id) != h) {
        sb_str(&sb, "an object is missing from the id map");
        return MDL_ERR_INVALID;
      }
      if (o->id != MDL_ID_PROJECT) {
        uint32_t ph = mdl__find(p, o->parent);
        const mdl_schema *sc = mdl__schema(t);
        int64_t kind = mdl_type_has(t, MDL_PROP_KIND) ? cell_i(p, h, MDL_PROP_KIND) : 0;
        if (!ph || (o->id != MDL_ID_MASTER && !parent_ok(p, t, kind, ph, &sb))) {
          if (!ph) sb_str(&sb, "an object's parent is missing");
          return MDL_ERR_INVALID;
        }
        for (int k = 0; k < sc->n; k++) {
          double min, max;
          mdl_value v = mdl__cell_value(&sc->f[k], o->c[k]);
          if (sc->f[k].kind == MDL_VAL_STR && v.u.s.len == 0) continue;
          if (!range_of(p, h, sc->f[k].prop, &sc->f[k], &min, &max)) continue;
          if (check_field(&sc->f[k], sc->f[k].prop, min, max, &v, &sb)) return MDL_ERR_INVALID;
        }
      }
      int oc = mdl__schema(t)->order_cell;
      if (oc >= 0 && !o->c[oc].s) {
        sb_str(&sb, "an ordered object has no order key");
        return MDL_ERR_INVALID;
      }
      int rc = check_object(p, h, &sb);
      if (rc) return MDL_ERR_INVALID;
    }
  }
  if (live != mdl_count(p, 0) || sum != p->sum) {
    sb_str(&sb, "the kept hash or counts disagree with a recount");
    return MDL_ERR_INVALID;
  }
  if (routing_cycle(p)) {
    sb_str(&sb, "the routing makes a loop");
    return MDL_ERR_INVALID;
  }
  return MDL_OK;
}

/* ---- Deep copy ------------------------------------------------------------ */

/* Layout of a clone: [header][ops][props][string bytes]. */
typedef struct clone_hdr {
  mdl_txn txn;
  size_t size;
} clone_hdr;

static size_t str_bytes(const mdl_value *v) {
  return v->kind == MDL_VAL_STR ? v->u.s.len : 0;
}

mdl_txn *mdl_txn_clone(const mdl_alloc *a, const mdl_txn *txn) {
  size_t n_props = 0, n_str = 0;
  for (uint32_t i = 0; i < txn->n_ops; i++) {
    const mdl_op *op = &txn->ops[i];
    n_str += str_bytes(&op->value);
    if (op->kind == MDL_OP_CREATE) {
      n_props += op->n_props;
      for (uint16_t k = 0; k < op->n_props; k++)
        n_str += str_bytes(&op->props[k].value);
    }
  }
  size_t size =
      sizeof(clone_hdr) + txn->n_ops * sizeof(mdl_op) + n_props * sizeof(mdl_prop_value) + n_str;
  clone_hdr *h = a->alloc(a->ud, size);
  if (!h) return NULL;
  mdl_op *ops = (mdl_op *) (h + 1);
  mdl_prop_value *pv = (mdl_prop_value *) (ops + txn->n_ops);
  char *str = (char *) (pv + n_props);
  h->size = size;
  h->txn.n_ops = txn->n_ops;
  h->txn.ops = ops;
  for (uint32_t i = 0; i < txn->n_ops; i++) {
    ops[i] = txn->ops[i];
    if (ops[i].value.kind == MDL_VAL_STR) {
      memcpy(str, ops[i].value.u.s.ptr, ops[i].value.u.s.len);
      ops[i].value.u.s.ptr = str;
      str += ops[i].value.u.s.len;
    }
    if (ops[i].kind == MDL_OP_CREATE) {
      if (ops[i].n_props) memcpy(pv, txn->ops[i].props, ops[i].n_props * sizeof *pv);
      ops[i].props = pv;
      for (uint16_t k = 0; k < ops[i].n_props; k++, pv++) {
        if (pv->value.kind != MDL_VAL_STR) continue;
        memcpy(str, pv->value.u.s.ptr, pv->value.u.s.len);
        pv->value.u.s.ptr = str;
        str += pv->value.u.s.len;
      }
    } else {
      ops[i].n_props = 0;
      ops[i].props = NULL;
    }
  }
  return &h->txn;
}

void mdl_txn_free(const mdl_alloc *a, mdl_txn *copy) {
  if (!copy) return;
  clone_hdr *h = (clone_hdr *) copy; /* txn is the first member */
  a->free(a->ud, h, h->size);
}
