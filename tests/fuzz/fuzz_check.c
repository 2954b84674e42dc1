/* fuzz_check: the invariant checker, seed project and checked apply (see fuzz_check.h). */
#include "tests/fuzz/fuzz_check.h"
#include "shared/mdl_libc.h"
#include "protocol/proto_err.h"
#include "protocol/proto_msg.h"
#include "shared/mdl_device.h"
#include "shared/mdl_err.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void fuzz_fail(const char *file, int line, const char *cond, const char *fmt, ...) {
  va_list ap;
  fprintf(stderr, "\n%s:%d: fuzz check failed: %s\n  ", file, line, cond);
  va_start(ap, fmt);
  vfprintf(stderr, fmt, ap);
  va_end(ap);
  fprintf(stderr, "\n");
  abort();
}

bool fuzz_utf8_ok(const void *data, size_t len) {
  const unsigned char *s = data;
  for (size_t i = 0; i < len;) {
    uint32_t c = s[i];
    size_t k;
    if (c < 0x80)
      k = 0;
    else if (c >= 0xC2 && c <= 0xDF)
      k = 1, c &= 0x1F;
    else if (c >= 0xE0 && c <= 0xEF)
      k = 2, c &= 0x0F;
    else if (c >= 0xF0 && c <= 0xF4)
      k = 3, c &= 0x07;
    else
      return false; /* continuation byte, C0/C1 lead (always overlong), or past U+10FFFF */
    if (len - i <= k) return false;
    for (size_t j = 1; j <= k; j++) {
      if ((s[i + j] & 0xC0) != 0x80) return false;
      c = (c << 6) | (s[i + j] & 0x3F);
    }
    if ((k == 2 && c < 0x800) || (k == 3 && (c < 0x10000 || c > 0x10FFFF))) return false;
    if (c >= 0xD800 && c <= 0xDFFF) return false;
    if (c < 0x20 || (c >= 0x7F && c < 0xA0)) return false;
    i += k + 1;
  }
  return true;
}

static const mdl_alloc heap = MDL_LIBC_ALLOC;

const mdl_alloc *fuzz_alloc(void) {
  return &heap;
}

mdl_project *fuzz_project_new(const char *name) {
  mdl_project *p = mdl_project_create(&heap, name);
  FUZZ_REQUIRE(p != NULL, "mdl_project_create failed");
  return p;
}

/* ---- Checker: one object at a time ----------------------------------------- */

/* What the second pass needs of an object; the rest is checked as the walk
 * gives it. */
typedef struct obj {
  mdl_id id, parent;
  uint32_t seen; /* position in the walk */
  uint8_t type;
  int64_t kind;    /* track or device kind */
  int64_t param;   /* lane: the automated parameter */
  double value;    /* point */
  int64_t refs[2]; /* track: output; send: target; device: sidechain; clip: scene, groove */
  int64_t loop[2]; /* project and clip: loop start and end */
} obj;

typedef struct checker {
  obj *objs;
  uint32_t n, cap;
  uint32_t *by_id; /* indices into objs, sorted by id */
  const char *err;
} checker;

static checker ck;
static char why[320];

static const char *bad(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static const char *bad(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(why, sizeof why, fmt, ap);
  va_end(ap);
  return why;
}

#define TRY(expr)                                                                                  \
  do {                                                                                             \
    const char *e_ = (expr);                                                                       \
    if (e_) return e_;                                                                             \
  } while (0)

static bool order_key_ok(const char *s, uint32_t len) {
  for (uint32_t i = 0; i < len; i++) {
    char c = s[i];
    if (!((c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z'))) return false;
  }
  return len > 0 && s[len - 1] != '0';
}

static bool hex64(const char *s, uint32_t len) {
  if (len != 64) return false;
  for (uint32_t i = 0; i < len; i++)
    if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f'))) return false;
  return true;
}

/* The type's own lower bound where it is tighter than the widest range
 * mdl_prop_describe gives (written down here from shared/README.md, not
 * read from mdl_schema.c). */
static double type_min(int type, int prop, double min) {
  if (prop == MDL_PROP_TEMPO && (type == MDL_TYPE_PROJECT || type == MDL_TYPE_TEMPO)) return 20;
  if (prop == MDL_PROP_START && type == MDL_TYPE_TEMPO) return 1; /* tick 0 is the project's */
  if (prop == MDL_PROP_BAR && type == MDL_TYPE_METER) return 1;   /* bar 0 is the project's */
  return min;
}

static const char *check_value(int type, mdl_id id, int prop, const mdl_value *v,
                               const mdl_device_desc *dev) {
  const mdl_prop_info *info = mdl_prop_describe(prop);
  if (!info)
    return bad("%s %llx has property %d, which has no description", mdl_type_name(type),
               (unsigned long long) id, prop);
  int want = info->kind == MDL_VAL_ID ? MDL_VAL_INT : info->kind;
  if (v->kind != want)
    return bad("%s %llx: %s reads as kind %u, not %d", mdl_type_name(type), (unsigned long long) id,
               info->name, v->kind, want);
  double min = type_min(type, prop, info->min), max = info->max, x;
  switch (v->kind) {
    case MDL_VAL_STR: {
      uint32_t len = v->u.s.len;
      if (len == 0) return NULL; /* unset: the default */
      if (!v->u.s.ptr) return bad("%s at NULL", info->name);
      if (len < info->min || len > info->max)
        return bad("%s %llx: %s is %u bytes, not %g..%g", mdl_type_name(type),
                   (unsigned long long) id, info->name, len, info->min, info->max);
      if (!fuzz_utf8_ok(v->u.s.ptr, len))
        return bad("%s %llx: %s \"%.*s\" is not valid text", mdl_type_name(type),
                   (unsigned long long) id, info->name, (int) len, v->u.s.ptr);
      if (prop == MDL_PROP_ORDER && !order_key_ok(v->u.s.ptr, len))
        return bad("%s %llx: order key \"%.*s\" is not base-62 without a trailing 0",
                   mdl_type_name(type), (unsigned long long) id, (int) len, v->u.s.ptr);
      if (prop == MDL_PROP_ASSET && !hex64(v->u.s.ptr, len))
        return bad("%s %llx: asset \"%.*s\" is not 64 hex digits", mdl_type_name(type),
                   (unsigned long long) id, (int) len, v->u.s.ptr);
      return NULL;
    }
    case MDL_VAL_BOOL: {
      unsigned char byte;
      memcpy(&byte, &v->u.b, 1);
      return byte > 1 ? bad("%s byte is %u", info->name, byte) : NULL;
    }
    case MDL_VAL_REAL:
      x = v->u.r;
      break;
    default:
      x = (double) v->u.i;
      if (info->kind == MDL_VAL_ID) return NULL; /* references: the second pass */
      break;
  }
  if (type == MDL_TYPE_DEVICE && prop >= MDL_PROP_PARAM0 &&
      prop < MDL_PROP_PARAM0 + MDL_DEVICE_PARAMS) {
    int i = prop - MDL_PROP_PARAM0;
    if (i >= dev->n_params) {
      if (x != 0)
        return bad("device %llx (%s) has %u parameters but p%d is %g", (unsigned long long) id,
                   dev->name, dev->n_params, i, x);
      return NULL;
    }
    min = dev->params[i].min, max = dev->params[i].max;
  }
  if (!(x >= min && x <= max)) /* false for NaN too */
    return bad("%s %llx: %s %g is outside %g..%g", mdl_type_name(type), (unsigned long long) id,
               info->name, x, min, max);
  if (prop == MDL_PROP_TS_DEN && (v->u.i & (v->u.i - 1)))
    return bad("%s %llx: ts_den %lld is not a power of two", mdl_type_name(type),
               (unsigned long long) id, (long long) v->u.i);
  return NULL;
}

static const char *check_walked(int type, mdl_id id, mdl_id parent, const mdl_value *vals,
                                uint32_t n, obj *o) {
  uint8_t props[128];
  if (!mdl_type_name(type)) return bad("the walk gives an object of type %d", type);
  uint32_t nf = mdl_fields(type, props, 128);
  if (nf != n || n > 128)
    return bad("a %s comes with %u values, not %u", mdl_type_name(type), n, nf);
  bool fixed = id == MDL_ID_PROJECT || id == MDL_ID_MASTER;
  if (!fixed && MDL_ID_CLIENT(id) == 0)
    return bad("%s %llx has no client id", mdl_type_name(type), (unsigned long long) id);
  if (fixed && (type != (id == MDL_ID_PROJECT ? MDL_TYPE_PROJECT : MDL_TYPE_TRACK)))
    return bad("object %llx is a %s", (unsigned long long) id, mdl_type_name(type));
  if ((type == MDL_TYPE_PROJECT) != (id == MDL_ID_PROJECT))
    return bad("a project object has id %llx", (unsigned long long) id);
  if ((id == MDL_ID_PROJECT) != (parent == MDL_ID_NONE))
    return bad("%s %llx has parent %llx", mdl_type_name(type), (unsigned long long) id,
               (unsigned long long) parent);
  o->id = id, o->parent = parent, o->type = (uint8_t) type;
  const mdl_device_desc *dev = NULL;
  for (uint32_t k = 0; k < n; k++) {
    const mdl_value *v = &vals[k];
    int64_t i = v->kind == MDL_VAL_INT ? v->u.i : 0;
    switch (props[k]) {
      case MDL_PROP_KIND:
        o->kind = i;
        if (type == MDL_TYPE_DEVICE && !(dev = mdl_device_describe((int) i)))
          return bad("device %llx has unknown kind %lld", (unsigned long long) id, (long long) i);
        if (type == MDL_TYPE_TRACK && (i < MDL_TRACK_AUDIO || i > MDL_TRACK_MASTER ||
                                       (i == MDL_TRACK_MASTER) != (id == MDL_ID_MASTER)))
          return bad("track %llx has kind %lld", (unsigned long long) id, (long long) i);
        break;
      case MDL_PROP_PARAM:
        o->param = i;
        break;
      case MDL_PROP_VALUE:
        o->value = v->u.r;
        break;
      case MDL_PROP_OUTPUT:
      case MDL_PROP_TARGET:
      case MDL_PROP_SIDECHAIN:
      case MDL_PROP_SCENE:
        o->refs[0] = i;
        break;
      case MDL_PROP_GROOVE:
        o->refs[1] = i;
        break;
      case MDL_PROP_LOOP_START:
        o->loop[0] = i;
        break;
      case MDL_PROP_LOOP_END:
        o->loop[1] = i;
        break;
      case MDL_PROP_NAME:
        if (type == MDL_TYPE_PROJECT && v->u.s.len == 0) return bad("the project has no name");
        break;
      case MDL_PROP_ORDER:
        if (v->u.s.len == 0)
          return bad("%s %llx has no order key", mdl_type_name(type), (unsigned long long) id);
        break;
      default:
        break;
    }
    TRY(check_value(type, id, props[k], v, dev));
  }
  return NULL;
}

static void on_object(void *ud, int type, mdl_id id, mdl_id parent, const mdl_value *vals,
                      uint32_t n) {
  checker *c = ud;
  if (c->err) return;
  if (c->n == c->cap) {
    uint32_t cap = c->cap ? c->cap * 2 : 256;
    obj *objs = realloc(c->objs, cap * sizeof *objs);
    uint32_t *by_id = realloc(c->by_id, cap * sizeof *by_id);
    FUZZ_REQUIRE(objs && by_id, "out of memory");
    c->objs = objs, c->by_id = by_id, c->cap = cap;
  }
  obj *o = &c->objs[c->n];
  memset(o, 0, sizeof *o);
  o->seen = c->n;
  c->err = check_walked(type, id, parent, vals, n, o);
  c->by_id[c->n] = c->n;
  c->n++;
}

/* ---- Checker: the whole project --------------------------------------------- */

static int cmp_by_id(const void *a, const void *b) {
  mdl_id x = ck.objs[*(const uint32_t *) a].id, y = ck.objs[*(const uint32_t *) b].id;
  return x < y ? -1 : x > y;
}

static const obj *find(int64_t id) {
  uint32_t lo = 0, hi = ck.n;
  while (lo < hi) {
    uint32_t mid = lo + (hi - lo) / 2;
    const obj *o = &ck.objs[ck.by_id[mid]];
    if (o->id == (mdl_id) id) return o;
    if (o->id < (mdl_id) id)
      lo = mid + 1;
    else
      hi = mid;
  }
  return NULL;
}

static int64_t track_kind(const obj *o) {
  return o && o->type == MDL_TYPE_TRACK ? o->kind : 0;
}

static const char *check_parent(const obj *o, const obj *pa) {
  int64_t pk = track_kind(pa);
  bool ok;
  switch (o->type) {
    case MDL_TYPE_PROJECT:
      return NULL;
    case MDL_TYPE_TRACK:
      ok = pa->type == MDL_TYPE_PROJECT || (pk == MDL_TRACK_GROUP && o->id != MDL_ID_MASTER);
      break;
    case MDL_TYPE_CLIP:
      ok = pk == MDL_TRACK_AUDIO || pk == MDL_TRACK_INSTRUMENT;
      break;
    case MDL_TYPE_NOTE:
    case MDL_TYPE_EVENT:
      ok = pa->type == MDL_TYPE_CLIP &&
           track_kind(find((int64_t) pa->parent)) == MDL_TRACK_INSTRUMENT;
      break;
    case MDL_TYPE_LANE:
      ok = pa->type == MDL_TYPE_TRACK || pa->type == MDL_TYPE_DEVICE;
      break;
    case MDL_TYPE_POINT:
      ok = pa->type == MDL_TYPE_LANE;
      break;
    case MDL_TYPE_DEVICE:
      ok = pa->type == MDL_TYPE_TRACK &&
           (!mdl_device_describe((int) o->kind)->instrument || pk == MDL_TRACK_INSTRUMENT);
      break;
    case MDL_TYPE_SEND:
      ok = pa->type == MDL_TYPE_TRACK && pk != MDL_TRACK_MASTER;
      break;
    default:
      ok = pa->type == MDL_TYPE_PROJECT;
      break;
  }
  return ok ? NULL
            : bad("%s %llx is in %s %llx", mdl_type_name(o->type), (unsigned long long) o->id,
                  mdl_type_name(pa->type), (unsigned long long) pa->id);
}

/* The range of parameter PARAM of OWNER (a track or a device), or false. */
static bool param_range(const obj *owner, int64_t param, double *min, double *max) {
  if (owner->type == MDL_TYPE_TRACK) {
    if (param != MDL_PROP_GAIN && param != MDL_PROP_PAN) return false;
    *min = mdl_prop_describe((int) param)->min, *max = mdl_prop_describe((int) param)->max;
    return true;
  }
  const mdl_device_desc *d = mdl_device_describe((int) owner->kind);
  if (owner->type != MDL_TYPE_DEVICE || !d || param < 0 || param >= d->n_params) return false;
  *min = d->params[param].min, *max = d->params[param].max;
  return true;
}

/* Pairs that must be unique: (parent, target) of sends, (track, scene) of
 * slotted clips, (track, 0) of instruments. */
typedef struct pair {
  mdl_id a;
  int64_t b;
  int rule;
} pair;
static pair *pairs;
static uint32_t n_pairs, cap_pairs;

static void add_pair(mdl_id a, int64_t b, int rule) {
  if (n_pairs == cap_pairs) {
    cap_pairs = cap_pairs ? cap_pairs * 2 : 64;
    pairs = realloc(pairs, cap_pairs * sizeof *pairs);
    FUZZ_REQUIRE(pairs != NULL, "out of memory");
  }
  pairs[n_pairs++] = (pair){a, b, rule};
}

static int cmp_pair(const void *x, const void *y) {
  const pair *a = x, *b = y;
  if (a->rule != b->rule) return a->rule - b->rule;
  if (a->a != b->a) return a->a < b->a ? -1 : 1;
  return a->b < b->b ? -1 : a->b > b->b;
}

static const char *check_refs(const obj *o) {
  const obj *pa = find((int64_t) o->parent);
  const obj *r0 = o->refs[0] ? find(o->refs[0]) : NULL;
  int64_t k0 = track_kind(r0);
  switch (o->type) {
    case MDL_TYPE_PROJECT:
    case MDL_TYPE_CLIP:
      if (o->loop[1] <= o->loop[0])
        return bad("%s %llx loops from %lld to %lld", mdl_type_name(o->type),
                   (unsigned long long) o->id, (long long) o->loop[0], (long long) o->loop[1]);
      if (o->type == MDL_TYPE_PROJECT) return NULL;
      if (o->refs[0] && (!r0 || r0->type != MDL_TYPE_SCENE))
        return bad("clip %llx is in the slot of scene %llx, which is not a scene",
                   (unsigned long long) o->id, (unsigned long long) o->refs[0]);
      if (o->refs[1] && (!find(o->refs[1]) || find(o->refs[1])->type != MDL_TYPE_GROOVE))
        return bad("clip %llx uses groove %llx, which is not a groove", (unsigned long long) o->id,
                   (unsigned long long) o->refs[1]);
      if (o->refs[0]) add_pair(o->parent, o->refs[0], 1);
      return NULL;
    case MDL_TYPE_TRACK:
      if (o->refs[0] &&
          ((k0 != MDL_TRACK_GROUP && k0 != MDL_TRACK_RETURN) || o->refs[0] == (int64_t) o->id))
        return bad("track %llx outputs to %llx", (unsigned long long) o->id,
                   (unsigned long long) o->refs[0]);
      return NULL;
    case MDL_TYPE_SEND:
      if ((k0 != MDL_TRACK_GROUP && k0 != MDL_TRACK_RETURN) || o->refs[0] == (int64_t) o->parent)
        return bad("send %llx goes to %llx", (unsigned long long) o->id,
                   (unsigned long long) o->refs[0]);
      add_pair(o->parent, o->refs[0], 0);
      return NULL;
    case MDL_TYPE_DEVICE: {
      const mdl_device_desc *d = mdl_device_describe((int) o->kind);
      if (o->refs[0] &&
          (!d->sidechain || !r0 || r0->type != MDL_TYPE_TRACK || o->refs[0] == (int64_t) o->parent))
        return bad("device %llx (%s) is keyed by %llx", (unsigned long long) o->id, d->name,
                   (unsigned long long) o->refs[0]);
      if (d->instrument) add_pair(o->parent, 0, 2);
      return NULL;
    }
    case MDL_TYPE_LANE: {
      double min, max;
      if (!param_range(pa, o->param, &min, &max))
        return bad("lane %llx automates parameter %lld, which its %s does not have",
                   (unsigned long long) o->id, (long long) o->param, mdl_type_name(pa->type));
      return NULL;
    }
    case MDL_TYPE_POINT: {
      const obj *owner = find((int64_t) pa->parent);
      double min, max;
      if (owner && param_range(owner, pa->param, &min, &max) &&
          !(o->value >= min && o->value <= max))
        return bad("point %llx is at %g, outside %g..%g of its parameter",
                   (unsigned long long) o->id, o->value, min, max);
      return NULL;
    }
    default:
      return NULL;
  }
}

/* Routing: a track feeds where its audio goes (its output, else its group,
 * else master) and its send targets; a sidechain's key track feeds the
 * keyed device's track. Depth-first search for a back edge. */
typedef struct edge {
  uint32_t from, to; /* indices into ck.objs */
} edge;
static edge *edges;
static uint32_t n_edges, cap_edges, *first_edge;
static uint8_t *colour;

static void add_edge(const obj *from, int64_t to_id) {
  const obj *to = find(to_id);
  if (!from || !to || to->type != MDL_TYPE_TRACK || from->type != MDL_TYPE_TRACK) return;
  if (n_edges == cap_edges) {
    cap_edges = cap_edges ? cap_edges * 2 : 64;
    edges = realloc(edges, cap_edges * sizeof *edges);
    FUZZ_REQUIRE(edges != NULL, "out of memory");
  }
  edges[n_edges++] = (edge){(uint32_t) (from - ck.objs), (uint32_t) (to - ck.objs)};
}

static int cmp_edge(const void *x, const void *y) {
  const edge *a = x, *b = y;
  return a->from != b->from ? (a->from < b->from ? -1 : 1) : (a->to > b->to) - (a->to < b->to);
}

static bool loop_from(uint32_t i) {
  if (colour[i] == 1) return true;
  if (colour[i] == 2) return false;
  colour[i] = 1;
  for (uint32_t e = first_edge[i]; e < n_edges && edges[e].from == i; e++)
    if (loop_from(edges[e].to)) return true;
  colour[i] = 2;
  return false;
}

static const char *check_routing(void) {
  n_edges = 0;
  for (uint32_t i = 0; i < ck.n; i++) {
    const obj *o = &ck.objs[i];
    if (o->type == MDL_TYPE_TRACK && o->id != MDL_ID_MASTER)
      add_edge(o, o->refs[0]                    ? o->refs[0]
                  : o->parent == MDL_ID_PROJECT ? (int64_t) MDL_ID_MASTER
                                                : (int64_t) o->parent);
    else if (o->type == MDL_TYPE_SEND)
      add_edge(find((int64_t) o->parent), o->refs[0]);
    else if (o->type == MDL_TYPE_DEVICE && o->refs[0])
      add_edge(find(o->refs[0]), (int64_t) o->parent);
  }
  if (n_edges) qsort(edges, n_edges, sizeof *edges, cmp_edge);
  first_edge = realloc(first_edge, ck.cap * sizeof *first_edge);
  colour = realloc(colour, ck.cap);
  FUZZ_REQUIRE(first_edge && colour, "out of memory");
  memset(colour, 0, ck.n);
  for (uint32_t i = 0; i < ck.n; i++)
    first_edge[i] = n_edges;
  for (uint32_t e = n_edges; e-- > 0;)
    first_edge[edges[e].from] = e;
  for (uint32_t i = 0; i < ck.n; i++)
    if (ck.objs[i].type == MDL_TYPE_TRACK && loop_from(i))
      return bad("the routing loops through track %llx", (unsigned long long) ck.objs[i].id);
  return NULL;
}

static const char *check_objects(const mdl_project *p) {
  ck.n = 0, ck.err = NULL;
  mdl_walk(p, on_object, &ck);
  if (ck.err) return ck.err;
  uint32_t count = mdl_count(p, 0);
  if (ck.n != count) return bad("the walk gives %u objects, mdl_count %u", ck.n, count);
  if (ck.n < 2 || ck.objs[0].id != MDL_ID_PROJECT)
    return bad("the walk does not start at the project");
  qsort(ck.by_id, ck.n, sizeof *ck.by_id, cmp_by_id);
  for (uint32_t i = 1; i < ck.n; i++)
    if (ck.objs[ck.by_id[i]].id == ck.objs[ck.by_id[i - 1]].id)
      return bad("id %llx is there twice", (unsigned long long) ck.objs[ck.by_id[i]].id);
  const obj *master = find(MDL_ID_MASTER);
  if (!master || master->parent != MDL_ID_PROJECT) return bad("master is missing or misplaced");
  n_pairs = 0;
  for (uint32_t i = 1; i < ck.n; i++) {
    const obj *o = &ck.objs[i], *pa = find((int64_t) o->parent);
    if (!pa)
      return bad("%s %llx has no parent %llx", mdl_type_name(o->type), (unsigned long long) o->id,
                 (unsigned long long) o->parent);
    if (pa->seen >= o->seen)
      return bad("the walk gives %s %llx before its parent", mdl_type_name(o->type),
                 (unsigned long long) o->id);
    TRY(check_parent(o, pa));
  }
  for (uint32_t i = 0; i < ck.n; i++)
    TRY(check_refs(&ck.objs[i]));
  if (n_pairs) qsort(pairs, n_pairs, sizeof *pairs, cmp_pair);
  static const char *const rules[] = {"two sends to the same track", "two clips in one slot",
                                      "two instruments"};
  for (uint32_t i = 1; i < n_pairs; i++)
    if (cmp_pair(&pairs[i - 1], &pairs[i]) == 0)
      return bad("track %llx has %s", (unsigned long long) pairs[i].a, rules[pairs[i].rule]);
  return check_routing();
}

const char *fuzz_project_check(const mdl_project *p) {
  TRY(check_objects(p));
  char reason[MDL_REASON_MAX];
  if (mdl_project_check(p, reason, sizeof reason) != MDL_OK)
    return bad("mdl_project_check: %s", reason);

  /* The hash depends on the state only: a copy hashes the same, and so does
   * the project after a snapshot round trip, which every reachable state
   * must survive (storage keeps snapshots in that form). */
  static mdl_project *copy;
  static unsigned char *enc;
  static size_t enc_cap;
  if (!copy) copy = fuzz_project_new(NULL);
  uint64_t h = mdl_project_hash(p);
  uint32_t n = mdl_count(p, 0);
  if (mdl_project_copy(copy, p) != MDL_OK) return bad("mdl_project_copy failed");
  if (mdl_project_hash(copy) != h || mdl_count(copy, 0) != n) return bad("a copy differs");
  size_t size = proto_project_size(p);
  if (size > enc_cap) {
    enc = realloc(enc, size);
    FUZZ_REQUIRE(enc != NULL, "out of memory");
    enc_cap = size;
  }
  int len = proto_encode_project(p, enc, size);
  if (len <= 0 || (size_t) len != size)
    return bad("proto_encode_project gives %d, proto_project_size %zu", len, size);
  int rc = proto_decode_project(enc, (size_t) len, copy);
  if (rc) return bad("its snapshot does not decode (%d)", rc);
  if (mdl_project_hash(copy) != h || mdl_count(copy, 0) != n)
    return bad("the snapshot round trip changed the hash or count (%u objects, then %u)", n,
               mdl_count(copy, 0));
  return NULL;
}

void fuzz_require_valid(const mdl_project *p, const char *what) {
  const char *e = fuzz_project_check(p);
  FUZZ_REQUIRE(e == NULL, "%s: %s", what, e);
}

/* ---- Seed project --------------------------------------------------------- */

#define PV(prop, k, field, x)                                                                      \
  {                                                                                                \
    (prop), {                                                                                      \
      .kind = (k), .u.field = (x)                                                                  \
    }                                                                                              \
  }
#define PV_I(prop, x) PV(prop, MDL_VAL_INT, i, (int64_t) (x))
#define PV_R(prop, x) PV(prop, MDL_VAL_REAL, r, (x))
#define PV_B(prop, x) PV(prop, MDL_VAL_BOOL, b, (x))
#define PV_S(prop, x)                                                                              \
  {                                                                                                \
    (prop), {                                                                                      \
      .kind = MDL_VAL_STR, .u.s = {(x), sizeof(x) - 1 }                                            \
    }                                                                                              \
  }
#define MAKE(t, id_, parent_, pv)                                                                  \
  {                                                                                                \
    .kind = MDL_OP_CREATE, .type = (t), .id = (id_), .parent = (parent_),                          \
    .n_props = sizeof(pv) / sizeof((pv)[0]), .props = (pv)                                         \
  }
#define SET(id_, prop_, k, field, x)                                                               \
  {                                                                                                \
    .kind = MDL_OP_SET, .id = (id_), .prop = (prop_), .value = {.kind = (k), .u.field = (x) }      \
  }

static const char asset[] = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

static const mdl_prop_value audio_pv[] = {PV_I(MDL_PROP_KIND, MDL_TRACK_AUDIO),
                                          PV_S(MDL_PROP_NAME, "Bass \xc3\xa9t\xc3\xa9"),
                                          PV_R(MDL_PROP_GAIN, 0.5), PV_B(MDL_PROP_MUTE, true)};
static const mdl_prop_value inst_pv[] = {PV_S(MDL_PROP_NAME, "Keys"),
                                         PV_I(MDL_PROP_COLOUR, 0x123456), PV_B(MDL_PROP_ARM, true)};
static const mdl_prop_value group_pv[] = {PV_I(MDL_PROP_KIND, MDL_TRACK_GROUP),
                                          PV_S(MDL_PROP_NAME, "Drums"), PV_R(MDL_PROP_PAN, -0.25)};
static const mdl_prop_value nested_pv[] = {PV_I(MDL_PROP_KIND, MDL_TRACK_AUDIO),
                                           PV_I(MDL_PROP_INPUT_KIND, MDL_INPUT_DEVICE),
                                           PV_I(MDL_PROP_INPUT_CH, 2)};
static const mdl_prop_value return_pv[] = {PV_I(MDL_PROP_KIND, MDL_TRACK_RETURN),
                                           PV_S(MDL_PROP_NAME, "Reverb")};
static const mdl_prop_value send_pv[] = {PV_I(MDL_PROP_TARGET, FUZZ_SEED_RETURN),
                                         PV_R(MDL_PROP_LEVEL, 0.3), PV_B(MDL_PROP_PRE, true)};
static const mdl_prop_value synth_pv[] = {PV_I(MDL_PROP_KIND, MDL_DEV_SYNTH),
                                          PV_R(MDL_PROP_PARAM0 + 7, 800),
                                          PV_R(MDL_PROP_PARAM0 + 0, 2)};
static const mdl_prop_value comp_pv[] = {PV_I(MDL_PROP_KIND, MDL_DEV_COMPRESSOR),
                                         PV_I(MDL_PROP_SIDECHAIN, FUZZ_SEED_INST),
                                         PV_R(MDL_PROP_PARAM0 + 1, 8)};
static const mdl_prop_value reverb_pv[] = {PV_I(MDL_PROP_KIND, MDL_DEV_REVERB),
                                           PV_B(MDL_PROP_BYPASS, true)};
static const mdl_prop_value midi_clip_pv[] = {
    PV_S(MDL_PROP_NAME, "Riff"), PV_I(MDL_PROP_LENGTH, 4 * MDL_PPQ * 4), PV_B(MDL_PROP_LOOP, true),
    PV_I(MDL_PROP_GROOVE, FUZZ_SEED_GROOVE)};
static const mdl_prop_value note_pv[] = {PV_I(MDL_PROP_PITCH, 64), PV_I(MDL_PROP_VELOCITY, 90)};
static const mdl_prop_value note2_pv[] = {PV_I(MDL_PROP_PITCH, 67), PV_I(MDL_PROP_START, 480),
                                          PV_I(MDL_PROP_LENGTH, 960)};
static const mdl_prop_value event_pv[] = {PV_I(MDL_PROP_CONTROLLER, 1),
                                          PV_I(MDL_PROP_CC_VALUE, 64)};
static const mdl_prop_value bend_pv[] = {PV_I(MDL_PROP_CONTROLLER, 128),
                                         PV_I(MDL_PROP_CC_VALUE, -4096), PV_I(MDL_PROP_START, 240)};
static const mdl_prop_value audio_clip_pv[] = {
    PV_S(MDL_PROP_ASSET, asset), PV_I(MDL_PROP_OFFSET, 4800),     PV_I(MDL_PROP_FADE_IN, 120),
    PV_B(MDL_PROP_WARP, true),   PV_R(MDL_PROP_SOURCE_BPM, 98.5), PV_I(MDL_PROP_START, 7680)};
static const mdl_prop_value lane_pv[] = {PV_I(MDL_PROP_PARAM, MDL_PROP_GAIN)};
static const mdl_prop_value point_pv[] = {PV_R(MDL_PROP_VALUE, 0.5)};
static const mdl_prop_value point2_pv[] = {PV_I(MDL_PROP_START, 960), PV_R(MDL_PROP_VALUE, 2),
                                           PV_I(MDL_PROP_CURVE, MDL_CURVE_EXP),
                                           PV_R(MDL_PROP_TENSION, 0.3)};
static const mdl_prop_value dev_lane_pv[] = {PV_I(MDL_PROP_PARAM, 7)};
static const mdl_prop_value dev_point_pv[] = {PV_R(MDL_PROP_VALUE, 1000),
                                              PV_I(MDL_PROP_START, 1920)};
static const mdl_prop_value scene_pv[] = {PV_S(MDL_PROP_NAME, "Verse"),
                                          PV_I(MDL_PROP_QUANT, MDL_QUANT_2BARS)};
static const mdl_prop_value slot_clip_pv[] = {PV_I(MDL_PROP_SCENE, FUZZ_SEED_SCENE),
                                              PV_I(MDL_PROP_FOLLOW, MDL_FOLLOW_NEXT),
                                              PV_I(MDL_PROP_FOLLOW_AFTER, 3840)};
static const mdl_prop_value groove_pv[] = {PV_S(MDL_PROP_NAME, "Swing"), PV_I(MDL_PROP_STEPS, 8),
                                           PV_I(MDL_PROP_GRID, 240), PV_R(MDL_PROP_SHIFT0 + 1, 0.2),
                                           PV_I(MDL_PROP_ACCENT0 + 2, -10)};
static const mdl_prop_value marker_pv[] = {PV_S(MDL_PROP_NAME, "Chorus"),
                                           PV_I(MDL_PROP_START, 15360), PV_B(MDL_PROP_CUE, true)};
static const mdl_prop_value tempo_pv[] = {PV_I(MDL_PROP_START, 7680), PV_R(MDL_PROP_TEMPO, 140),
                                          PV_B(MDL_PROP_RAMP, true)};
static const mdl_prop_value meter_pv[] = {PV_I(MDL_PROP_BAR, 8), PV_I(MDL_PROP_TS_NUM, 3),
                                          PV_I(MDL_PROP_TS_DEN, 8)};
static const mdl_prop_value user_pv[] = {PV_S(MDL_PROP_NAME, "Ana \xc3\xb1"),
                                         PV_I(MDL_PROP_COLOUR, 0x00FF88)};

static const mdl_op seed_ops[] = {
    MAKE(MDL_TYPE_TRACK, FUZZ_SEED_AUDIO, MDL_ID_NONE, audio_pv),
    MAKE(MDL_TYPE_TRACK, FUZZ_SEED_INST, MDL_ID_NONE, inst_pv),
    MAKE(MDL_TYPE_TRACK, FUZZ_SEED_GROUP, MDL_ID_NONE, group_pv),
    MAKE(MDL_TYPE_TRACK, FUZZ_SEED_NESTED, FUZZ_SEED_GROUP, nested_pv),
    MAKE(MDL_TYPE_SEND, FUZZ_SEED_SEND, FUZZ_SEED_INST, send_pv), /* before its target */
    MAKE(MDL_TYPE_TRACK, FUZZ_SEED_RETURN, MDL_ID_NONE, return_pv),
    MAKE(MDL_TYPE_DEVICE, FUZZ_SEED_SYNTH, FUZZ_SEED_INST, synth_pv),
    MAKE(MDL_TYPE_DEVICE, FUZZ_SEED_COMP, FUZZ_SEED_GROUP, comp_pv),
    MAKE(MDL_TYPE_DEVICE, FUZZ_SEED_REVERB, FUZZ_SEED_RETURN, reverb_pv),
    MAKE(MDL_TYPE_GROOVE, FUZZ_SEED_GROOVE, MDL_ID_NONE, groove_pv),
    MAKE(MDL_TYPE_CLIP, FUZZ_SEED_MIDI_CLIP, FUZZ_SEED_INST, midi_clip_pv),
    MAKE(MDL_TYPE_NOTE, FUZZ_SEED_NOTE, FUZZ_SEED_MIDI_CLIP, note_pv),
    MAKE(MDL_TYPE_NOTE, FUZZ_SEED_NOTE2, FUZZ_SEED_MIDI_CLIP, note2_pv),
    MAKE(MDL_TYPE_EVENT, FUZZ_SEED_EVENT, FUZZ_SEED_MIDI_CLIP, event_pv),
    MAKE(MDL_TYPE_EVENT, FUZZ_SEED_BEND, FUZZ_SEED_MIDI_CLIP, bend_pv),
    MAKE(MDL_TYPE_CLIP, FUZZ_SEED_AUDIO_CLIP, FUZZ_SEED_NESTED, audio_clip_pv),
    MAKE(MDL_TYPE_LANE, FUZZ_SEED_LANE, FUZZ_SEED_AUDIO, lane_pv),
    MAKE(MDL_TYPE_POINT, FUZZ_SEED_POINT, FUZZ_SEED_LANE, point_pv),
    MAKE(MDL_TYPE_POINT, FUZZ_SEED_POINT2, FUZZ_SEED_LANE, point2_pv),
    MAKE(MDL_TYPE_LANE, FUZZ_SEED_DEV_LANE, FUZZ_SEED_SYNTH, dev_lane_pv),
    MAKE(MDL_TYPE_POINT, FUZZ_SEED_DEV_POINT, FUZZ_SEED_DEV_LANE, dev_point_pv),
    MAKE(MDL_TYPE_SCENE, FUZZ_SEED_SCENE, MDL_ID_NONE, scene_pv),
    MAKE(MDL_TYPE_CLIP, FUZZ_SEED_SLOT_CLIP, FUZZ_SEED_INST, slot_clip_pv),
    MAKE(MDL_TYPE_MARKER, FUZZ_SEED_MARKER, MDL_ID_NONE, marker_pv),
    MAKE(MDL_TYPE_TEMPO, FUZZ_SEED_TEMPO, MDL_ID_NONE, tempo_pv),
    MAKE(MDL_TYPE_METER, FUZZ_SEED_METER, MDL_ID_NONE, meter_pv),
    MAKE(MDL_TYPE_USER, FUZZ_SEED_USER, MDL_ID_NONE, user_pv),
    SET(MDL_ID_PROJECT, MDL_PROP_TEMPO, MDL_VAL_REAL, r, 93.5),
    SET(MDL_ID_PROJECT, MDL_PROP_TS_NUM, MDL_VAL_INT, i, 7),
    SET(MDL_ID_PROJECT, MDL_PROP_KEY_ROOT, MDL_VAL_INT, i, 9),
    SET(MDL_ID_PROJECT, MDL_PROP_LOOP, MDL_VAL_BOOL, b, true),
    SET(FUZZ_SEED_GROUP, MDL_PROP_OUTPUT, MDL_VAL_INT, i, (int64_t) FUZZ_SEED_RETURN),
    {.kind = MDL_OP_MOVE, .id = FUZZ_SEED_RETURN, .after = FUZZ_SEED_AUDIO},
};

mdl_txn fuzz_seed_txn(void) {
  mdl_txn txn = {sizeof seed_ops / sizeof seed_ops[0], seed_ops};
  return txn;
}

void fuzz_seed_project(mdl_project *p) {
  static mdl_project *seed;
  if (!seed) {
    seed = fuzz_project_new("Fuzz seed");
    mdl_txn txn = fuzz_seed_txn();
    mdl_fail fail;
    int rc = mdl_txn_apply(seed, &txn, 0, &fail);
    FUZZ_REQUIRE(rc == 0, "the seed transaction is refused (%d: %s)", rc, fail.reason);
    fuzz_require_valid(seed, "the seed project");
  }
  FUZZ_REQUIRE(mdl_project_reset(p, NULL) == MDL_OK, "mdl_project_reset failed");
  FUZZ_REQUIRE(mdl_project_copy(p, seed) == MDL_OK, "mdl_project_copy failed");
}

/* ---- Checked apply -------------------------------------------------------- */

static void require_same_state(const mdl_project *a, const mdl_project *b, const char *how) {
  FUZZ_REQUIRE(mdl_project_hash(a) == mdl_project_hash(b) && mdl_count(a, 0) == mdl_count(b, 0),
               "%s gives another state (%u objects, not %u)", how, mdl_count(a, 0),
               mdl_count(b, 0));
}

/* As require_same_state, for A between mdl_txn_try and keep or drop: the
 * state is whole then too (a snapshot could be taken). */
static void require_same_tried(const mdl_project *a, const mdl_project *b, const char *how) {
  require_same_state(a, b, how);
  char reason[MDL_REASON_MAX];
  FUZZ_REQUIRE(mdl_project_check(a, reason, sizeof reason) == MDL_OK, "%s: mdl_project_check: %s",
               how, reason);
}

int fuzz_apply_checked(mdl_project *p, const mdl_txn *txn, uint32_t origin) {
  static mdl_project *before, *again;
  static proto_scratch ps;
  static unsigned char wire[PROTO_MAX_MSG];
  if (!before) before = fuzz_project_new(NULL), again = fuzz_project_new(NULL);
  FUZZ_REQUIRE(mdl_project_copy(before, p) == MDL_OK, "mdl_project_copy failed");
  require_same_state(before, p, "mdl_project_copy");
  mdl_fail fail;
  memset(&fail, 0x5A, sizeof fail); /* a missing terminator shows */
  int rc = mdl_txn_apply(p, txn, origin, &fail);
  if (rc) {
    FUZZ_REQUIRE(rc < 0 && strcmp(mdl_strerror(rc), "unknown error") != 0,
                 "refused with unknown code %d", rc);
    FUZZ_REQUIRE(memchr(fail.reason, 0, sizeof fail.reason) != NULL, "the reason is unterminated");
    require_same_state(p, before, "a refused transaction");
    char reason[MDL_REASON_MAX];
    FUZZ_REQUIRE(mdl_project_check(p, reason, sizeof reason) == MDL_OK,
                 "after a refused transaction (\"%s\"): %s", fail.reason, reason);
    FUZZ_REQUIRE(fail.code == rc, "fail.code %d, returned %d", fail.code, rc);
    FUZZ_REQUIRE(fail.reason[0] != '\0', "refused (code %d) without a reason", rc);
    FUZZ_REQUIRE(fail.op_index <= txn->n_ops, "op_index %u of %u ops", fail.op_index, txn->n_ops);
  } else {
    FUZZ_REQUIRE(fail.code == 0, "accepted, but fail.code is %d", fail.code);
    fuzz_require_valid(p, "after an accepted transaction");
  }

  /* Applying is a pure function of (project, transaction, origin): a deep
   * copy gives the same result, and so does the stored (wire) form. The
   * two-step apply (try, then drop or keep) does as apply does. */
  mdl_txn *copy = mdl_txn_clone(&heap, txn);
  FUZZ_REQUIRE(copy != NULL, "mdl_txn_clone failed");
  FUZZ_REQUIRE(mdl_project_copy(again, before) == MDL_OK, "mdl_project_copy failed");
  int rc2 = mdl_txn_try(again, copy, origin, NULL);
  mdl_txn_free(&heap, copy);
  FUZZ_REQUIRE(rc2 == rc, "a clone (mdl_txn_clone) applies with %d, the original with %d", rc2, rc);
  require_same_tried(again, p, "a clone (mdl_txn_clone) with mdl_txn_try");
  if (rc2 == 0) {
    mdl_txn_drop(again);
    require_same_state(again, before, "mdl_txn_drop");
  }

  int n = proto_encode_txn(txn, wire, sizeof wire);
  if (n > 0) {
    mdl_txn decoded;
    int drc = proto_decode_txn(wire, (size_t) n, &ps, &decoded);
    /* The wire decoder refuses some values (e.g. text that is not UTF-8)
     * that only apply would refuse otherwise. */
    FUZZ_REQUIRE(drc == 0 || rc != 0, "an accepted transaction does not decode (%d)", drc);
    if (drc == 0) {
      FUZZ_REQUIRE(mdl_project_copy(again, before) == MDL_OK, "mdl_project_copy failed");
      rc2 = mdl_txn_try(again, &decoded, origin, NULL);
      FUZZ_REQUIRE(rc2 == rc, "the wire round trip applies with %d, the original with %d", rc2, rc);
      require_same_tried(again, p, "the wire round trip with mdl_txn_try");
      if (rc2 == 0) mdl_txn_keep(again);
      require_same_state(again, p, "the wire round trip, kept");
    }
  } else {
    FUZZ_REQUIRE(n == PROTO_ERR_NO_SPACE || n == PROTO_ERR_TOO_BIG || n == PROTO_ERR_RANGE,
                 "proto_encode_txn failed with %d", n);
    FUZZ_REQUIRE(n != PROTO_ERR_RANGE || rc != 0,
                 "an accepted transaction has no wire form (PROTO_ERR_RANGE)");
  }
  return rc;
}
