/* mdl_undo: records and inverse transactions (see mdl_undo.h). */
#include "shared/mdl_undo.h"
#include "shared/mdl_err.h"

#include <string.h>

#define TRACK_PROPS 6 /* the properties a re-created track gets back */

typedef struct step {
  uint8_t kind; /* the mdl_op_kind that was applied */
  uint8_t prop; /* SET: the property */
  mdl_id id;
  mdl_id before_after; /* DELETE, MOVE: the sibling it followed before (NONE = first) */
  mdl_value before;    /* SET: old value (strings in before_s) */
  mdl_value set_to;    /* SET: the value this transaction set (strings in set_s) */
  char before_s[MDL_NAME_MAX + 1];
  char set_s[MDL_NAME_MAX + 1];
  mdl_track track; /* DELETE: the track as it was */
} step;

struct mdl_undo_rec {
  uint32_t tag;
  uint32_t n;
  size_t size;
  step steps[];
};

void mdl_undo_set_tag(mdl_undo_rec *rec, uint32_t tag) {
  rec->tag = tag;
}
uint32_t mdl_undo_tag(const mdl_undo_rec *rec) {
  return rec->tag;
}

/* Copies a value; a string's bytes go to BUF so the step owns them. */
static mdl_value keep(mdl_value v, char buf[MDL_NAME_MAX + 1]) {
  if (v.kind == MDL_VAL_STR) {
    uint32_t n = v.u.s.len > MDL_NAME_MAX ? MDL_NAME_MAX : v.u.s.len;
    memcpy(buf, v.u.s.ptr, n);
    buf[n] = 0;
    v.u.s.len = n;
    v.u.s.ptr = NULL; /* re-pointed at use: the step may be copied */
  }
  return v;
}

static mdl_value use(const mdl_value *v, const char *buf) {
  mdl_value out = *v;
  if (out.kind == MDL_VAL_STR) out.u.s.ptr = buf;
  return out;
}

static bool same(const mdl_value *a, const mdl_value *b) {
  if (a->kind == MDL_VAL_STR || b->kind == MDL_VAL_STR)
    return a->kind == b->kind && a->u.s.len == b->u.s.len &&
           memcmp(a->u.s.ptr, b->u.s.ptr, a->u.s.len) == 0;
  if (a->kind == MDL_VAL_BOOL || b->kind == MDL_VAL_BOOL)
    return a->kind == b->kind && a->u.b == b->u.b;
  double x = a->kind == MDL_VAL_INT ? (double) a->u.i : a->u.r;
  double y = b->kind == MDL_VAL_INT ? (double) b->u.i : b->u.r;
  return x == y;
}

/* The id of the track before ID in P, MDL_ID_NONE if ID is first. */
static mdl_id sibling_before(const mdl_project *p, mdl_id id) {
  int i = mdl_project_track_index(p, id);
  return i > 0 ? p->tracks[i - 1].id : MDL_ID_NONE;
}

static int apply_one(mdl_project *p, const mdl_op *op, mdl_project *scratch) {
  mdl_txn t = {1, op};
  return mdl_txn_apply(p, &t, 0, scratch, NULL);
}

mdl_undo_rec *mdl_undo_record(const mdl_alloc *a, const mdl_project *p, const mdl_txn *txn,
                              mdl_project *work, mdl_project *scratch) {
  size_t size = sizeof(mdl_undo_rec) + txn->n_ops * sizeof(step);
  mdl_undo_rec *rec = a->alloc(a->ud, size);
  if (!rec) return NULL;
  memset(rec, 0, size);
  rec->size = size;
  memcpy(work, p, sizeof *work);
  for (uint32_t i = 0; i < txn->n_ops; i++) {
    const mdl_op *op = &txn->ops[i];
    step *s = &rec->steps[rec->n++];
    s->kind = op->kind;
    s->id = op->id;
    if (op->kind == MDL_OP_SET) {
      mdl_value old;
      if (mdl_project_get(work, op->id, op->prop, &old)) break;
      s->prop = op->prop;
      s->before = keep(old, s->before_s);
      s->set_to = keep(op->value, s->set_s);
    } else if (op->kind == MDL_OP_DELETE || op->kind == MDL_OP_MOVE) {
      const mdl_track *t = mdl_project_track(work, op->id);
      if (!t) break;
      s->track = *t;
      s->before_after = sibling_before(work, op->id);
    }
    if (apply_one(work, op, scratch)) break;
    if (i + 1 == txn->n_ops) return rec;
  }
  a->free(a->ud, rec, size);
  return NULL;
}

void mdl_undo_free(const mdl_alloc *a, mdl_undo_rec *rec) {
  if (rec) a->free(a->ud, rec, rec->size);
}

void mdl_undo_size(const mdl_undo_rec *rec, uint32_t *max_ops, uint32_t *max_props) {
  *max_ops = rec->n * 2; /* a re-create is create + move */
  *max_props = rec->n * TRACK_PROPS;
}

void mdl_undo_build(const mdl_undo_rec *rec, const mdl_project *p, uint32_t client, mdl_id new_id,
                    mdl_project *work, mdl_project *scratch, mdl_op *ops, mdl_prop_value *props,
                    uint32_t *n_ops) {
  uint32_t n = 0, n_props = 0;
  memcpy(work, p, sizeof *work);
  /* Each op is applied to WORK as it is made, so later checks see it. */
#define EMIT(op_)                                                                                  \
  do {                                                                                             \
    ops[n] = (op_);                                                                                \
    if (apply_one(work, &ops[n], scratch) == 0) n++;                                               \
  } while (0)
  for (uint32_t k = rec->n; k-- > 0;) {
    const step *s = &rec->steps[k];
    switch (s->kind) {
      case MDL_OP_SET: {
        mdl_value now, set_to = use(&s->set_to, s->set_s);
        /* Gone, or someone else changed it since: not ours to take back. */
        if (mdl_project_get(work, s->id, s->prop, &now) || !same(&now, &set_to)) break;
        EMIT(((mdl_op){.kind = MDL_OP_SET,
                       .id = s->id,
                       .prop = s->prop,
                       .value = use(&s->before, s->before_s)}));
        break;
      }
      case MDL_OP_CREATE:
        if (mdl_project_track(work, s->id)) EMIT(((mdl_op){.kind = MDL_OP_DELETE, .id = s->id}));
        break;
      case MDL_OP_DELETE: {
        if (mdl_project_track(work, s->id)) break; /* already back */
        mdl_id id = MDL_ID_CLIENT(s->id) == client ? s->id : new_id;
        if (id == MDL_ID_NONE || mdl_project_track(work, id)) break;
        const mdl_track *t = &s->track;
        mdl_prop_value *pv = &props[n_props];
        pv[0] = (mdl_prop_value){MDL_PROP_NAME, {.kind = MDL_VAL_STR}};
        pv[0].value.u.s.ptr = t->name, pv[0].value.u.s.len = (uint32_t) strlen(t->name);
        pv[1] = (mdl_prop_value){MDL_PROP_COLOUR, {.kind = MDL_VAL_INT, .u.i = t->colour}};
        pv[2] = (mdl_prop_value){MDL_PROP_GAIN, {.kind = MDL_VAL_REAL, .u.r = t->gain}};
        pv[3] = (mdl_prop_value){MDL_PROP_PAN, {.kind = MDL_VAL_REAL, .u.r = t->pan}};
        pv[4] = (mdl_prop_value){MDL_PROP_MUTE, {.kind = MDL_VAL_BOOL, .u.b = t->mute}};
        pv[5] = (mdl_prop_value){MDL_PROP_SOLO, {.kind = MDL_VAL_BOOL, .u.b = t->solo}};
        n_props += TRACK_PROPS;
        uint32_t before = n;
        EMIT(((mdl_op){.kind = MDL_OP_CREATE,
                       .type = MDL_TYPE_TRACK,
                       .id = id,
                       .n_props = TRACK_PROPS,
                       .props = pv}));
        if (n == before) break;
        mdl_id after = mdl_project_track(work, s->before_after) ? s->before_after : MDL_ID_NONE;
        EMIT(((mdl_op){.kind = MDL_OP_MOVE, .id = id, .after = after}));
        break;
      }
      case MDL_OP_MOVE:
        if (!mdl_project_track(work, s->id)) break;
        EMIT(((mdl_op){.kind = MDL_OP_MOVE,
                       .id = s->id,
                       .after = mdl_project_track(work, s->before_after) ? s->before_after
                                                                         : MDL_ID_NONE}));
        break;
      default:
        break;
    }
  }
#undef EMIT
  *n_ops = n;
}
