/* mdl_undo: records and inverse transactions (see mdl_undo.h). */
#include "shared/mdl_undo.h"
#include "shared/mdl_err.h"

#include <string.h>

/* One change. A deleted object keeps all its properties in vals[first..+n). */
typedef struct change {
  uint8_t what; /* J_CELL, J_CREATE, J_DELETE, J_PARENT */
  uint8_t type;
  uint8_t prop;   /* J_CELL */
  uint8_t n;      /* J_DELETE: properties */
  uint32_t first; /* J_CELL: before at vals[first], set_to at vals[first + 1] */
  mdl_id id;
  mdl_id parent;     /* J_DELETE, J_PARENT: where it was */
  mdl_id new_parent; /* J_PARENT: where this transaction put it */
} change;

struct mdl_undo_rec {
  uint32_t tag;
  uint32_t n, n_vals;
  size_t size;
  change *ch;
  mdl_value *vals; /* strings point into the record's tail */
};

void mdl_undo_set_tag(mdl_undo_rec *rec, uint32_t tag) {
  rec->tag = tag;
}
uint32_t mdl_undo_tag(const mdl_undo_rec *rec) {
  return rec->tag;
}

void mdl_undo_free(const mdl_alloc *a, mdl_undo_rec *rec) {
  if (rec) a->free(a->ud, rec, rec->size);
}

static bool same(const mdl_value *a, const mdl_value *b) {
  if (a->kind != b->kind) return false;
  switch (a->kind) {
    case MDL_VAL_STR:
      return a->u.s.len == b->u.s.len && memcmp(a->u.s.ptr, b->u.s.ptr, a->u.s.len) == 0;
    case MDL_VAL_REAL:
      return a->u.r == b->u.r;
    case MDL_VAL_BOOL:
      return a->u.b == b->u.b;
    default:
      return a->u.i == b->u.i;
  }
}

/* Was object H made by this transaction (entries before END)? */
static bool made_here(const mdl_journal *j, uint32_t h, uint32_t end) {
  for (uint32_t i = 0; i < end; i++)
    if (j->e[i].what == J_CREATE && j->e[i].h == h) return true;
  return false;
}

static bool seen_cell(const mdl_journal *j, uint32_t h, uint8_t cell, uint32_t end) {
  for (uint32_t i = 0; i < end; i++)
    if (j->e[i].what == J_CELL && j->e[i].h == h && j->e[i].cell == cell) return true;
  return false;
}

static bool seen_parent(const mdl_journal *j, uint32_t h, uint32_t end) {
  for (uint32_t i = 0; i < end; i++)
    if (j->e[i].what == J_PARENT && j->e[i].h == h) return true;
  return false;
}

/* Which entries become changes: sets and moves of objects that outlive the
 * transaction and were not made by it (first entry per cell), creates of
 * objects that outlive it, and deletes of objects it did not make. */
static bool wanted(const mdl_project *p, const mdl_journal *j, uint32_t i) {
  const mdl_jent *e = &j->e[i];
  bool alive = !mdl__obj(p, e->h)->dead;
  switch (e->what) {
    case J_CELL:
      return alive && !made_here(j, e->h, i) && !seen_cell(j, e->h, e->cell, i);
    case J_PARENT:
      return alive && !made_here(j, e->h, i) && !seen_parent(j, e->h, i);
    case J_CREATE:
      return alive;
    case J_DELETE:
      return !made_here(j, e->h, i);
    default:
      return false;
  }
}

static size_t str_len(const mdl_value *v) {
  return v->kind == MDL_VAL_STR ? v->u.s.len : 0;
}

static void keep_str(mdl_value *v, char **tail) {
  if (v->kind != MDL_VAL_STR || !v->u.s.len) return;
  memcpy(*tail, v->u.s.ptr, v->u.s.len);
  v->u.s.ptr = *tail;
  *tail += v->u.s.len;
}

mdl_undo_rec *mdl_undo_record(const mdl_alloc *a, const mdl_project *p, const mdl_journal *j) {
  uint32_t n = 0, n_vals = 0;
  size_t n_str = 0;
  for (uint32_t i = 0; i < j->n; i++) {
    if (!wanted(p, j, i)) continue;
    const mdl_jent *e = &j->e[i];
    const mdl_obj *o = mdl__obj(p, e->h);
    const mdl_schema *s = mdl__schema(o->type);
    n++;
    if (e->what == J_CELL) {
      mdl_value before = mdl__cell_value(&s->f[e->cell], e->old);
      mdl_value now = mdl__cell_value(&s->f[e->cell], o->c[e->cell]);
      n_vals += 2, n_str += str_len(&before) + str_len(&now);
    } else if (e->what == J_DELETE) {
      for (int k = 0; k < s->n; k++) {
        mdl_value v = mdl__cell_value(&s->f[k], o->c[k]);
        n_str += str_len(&v);
      }
      n_vals += s->n;
    }
  }
  size_t size = sizeof(mdl_undo_rec) + n * sizeof(change) + n_vals * sizeof(mdl_value) + n_str;
  mdl_undo_rec *rec = a->alloc(a->ud, size);
  if (!rec) return NULL;
  memset(rec, 0, sizeof *rec);
  rec->size = size;
  rec->ch = (change *) (rec + 1);
  rec->vals = (mdl_value *) (rec->ch + n);
  char *tail = (char *) (rec->vals + n_vals);
  for (uint32_t i = 0; i < j->n; i++) {
    if (!wanted(p, j, i)) continue;
    const mdl_jent *e = &j->e[i];
    const mdl_obj *o = mdl__obj(p, e->h);
    const mdl_schema *s = mdl__schema(o->type);
    change *c = &rec->ch[rec->n++];
    memset(c, 0, sizeof *c);
    c->what = e->what, c->type = o->type, c->id = o->id, c->parent = o->parent;
    c->first = rec->n_vals;
    if (e->what == J_CELL) {
      c->prop = s->f[e->cell].prop;
      rec->vals[rec->n_vals] = mdl__cell_value(&s->f[e->cell], e->old);
      rec->vals[rec->n_vals + 1] = mdl__cell_value(&s->f[e->cell], o->c[e->cell]);
      keep_str(&rec->vals[rec->n_vals], &tail);
      keep_str(&rec->vals[rec->n_vals + 1], &tail);
      rec->n_vals += 2;
    } else if (e->what == J_DELETE) {
      c->n = s->n;
      for (int k = 0; k < s->n; k++) {
        rec->vals[rec->n_vals] = mdl__cell_value(&s->f[k], o->c[k]);
        keep_str(&rec->vals[rec->n_vals++], &tail);
      }
    } else if (e->what == J_PARENT) {
      c->parent = (mdl_id) e->old.i;
      c->new_parent = o->parent;
    }
  }
  return rec;
}

/* ---- Building the inverse ---------------------------------------------------- */

typedef struct remap {
  mdl_id from, to;
} remap;

static mdl_id mapped(const remap *m, uint32_t n, mdl_id id) {
  for (uint32_t i = 0; i < n; i++)
    if (m[i].from == id) return m[i].to;
  return id;
}

static bool in_map(const remap *m, uint32_t n, mdl_id id) {
  for (uint32_t i = 0; i < n; i++)
    if (m[i].from == id) return true;
  return false;
}

static bool is_ref(int prop) {
  return prop == MDL_PROP_OUTPUT || prop == MDL_PROP_SIDECHAIN || prop == MDL_PROP_TARGET ||
         prop == MDL_PROP_SCENE || prop == MDL_PROP_GROOVE;
}

int mdl_undo_build(const mdl_undo_rec *rec, const mdl_project *p, uint32_t client,
                   uint32_t *counter, const mdl_alloc *a, mdl_txn **out) {
  *out = NULL;
  uint32_t n_del = 0, n_props = 0;
  for (uint32_t i = 0; i < rec->n; i++)
    if (rec->ch[i].what == J_DELETE) n_del++, n_props += rec->ch[i].n;
  size_t size = sizeof(mdl_txn) + sizeof(size_t) + rec->n * sizeof(mdl_op) +
                n_props * sizeof(mdl_prop_value) + n_del * sizeof(remap);
  /* Laid out like mdl_txn_clone's copies, so mdl_txn_free frees it. */
  struct {
    mdl_txn txn;
    size_t size;
  } *h = a->alloc(a->ud, size);
  if (!h) return MDL_ERR_NOMEM;
  h->size = size;
  mdl_op *ops = (mdl_op *) (h + 1);
  mdl_prop_value *pv = (mdl_prop_value *) (ops + rec->n);
  remap *map = (remap *) (pv + n_props);
  uint32_t n = 0, n_map = 0;

  /* Ids for the objects that come back. */
  for (uint32_t i = 0; i < rec->n; i++) {
    const change *c = &rec->ch[i];
    if (c->what != J_DELETE) continue;
    mdl_id id = c->id;
    if (MDL_ID_CLIENT(id) != client || mdl_type_of(p, id)) id = MDL_ID_MAKE(client, (*counter)++);
    map[n_map++] = (remap){c->id, id};
  }
  /* What it deleted comes back, parents first (they were deleted last). */
  for (uint32_t i = rec->n; i-- > 0;) {
    const change *c = &rec->ch[i];
    if (c->what != J_DELETE) continue;
    mdl_id parent = mapped(map, n_map, c->parent);
    if (!mdl_type_of(p, parent) && !in_map(map, n_map, c->parent)) continue; /* parent gone */
    uint8_t fields[64];
    mdl_fields(c->type, fields, 64);
    mdl_prop_value *props = pv;
    for (uint32_t k = 0; k < c->n; k++) {
      mdl_value v = rec->vals[c->first + k];
      if (v.kind == MDL_VAL_STR && !v.u.s.len) continue;
      if (is_ref(fields[k]) && v.u.i) v.u.i = (int64_t) mapped(map, n_map, (mdl_id) v.u.i);
      *pv++ = (mdl_prop_value){fields[k], v};
    }
    ops[n++] = (mdl_op){.kind = MDL_OP_CREATE,
                        .type = c->type,
                        .id = mapped(map, n_map, c->id),
                        .parent = parent,
                        .n_props = (uint16_t) (pv - props),
                        .props = props};
  }
  /* Moved objects go back where they were, if nobody moved them since. */
  for (uint32_t i = rec->n; i-- > 0;) {
    const change *c = &rec->ch[i];
    if (c->what == J_PARENT && mdl_parent_of(p, c->id) == c->new_parent &&
        mdl_type_of(p, c->parent))
      ops[n++] = (mdl_op){.kind = MDL_OP_MOVE, .id = c->id, .parent = c->parent};
  }
  /* Properties go back, unless someone else changed them since. */
  for (uint32_t i = rec->n; i-- > 0;) {
    const change *c = &rec->ch[i];
    mdl_value now;
    if (c->what != J_CELL || mdl_get(p, c->id, c->prop, &now)) continue;
    if (!same(&now, &rec->vals[c->first + 1])) continue;
    mdl_value before = rec->vals[c->first];
    if (is_ref(c->prop) && before.u.i)
      before.u.i = (int64_t) mapped(map, n_map, (mdl_id) before.u.i);
    ops[n++] = (mdl_op){.kind = MDL_OP_SET, .id = c->id, .prop = c->prop, .value = before};
  }
  /* What this transaction made goes, last: what it moved into them has left them. */
  for (uint32_t i = rec->n; i-- > 0;) {
    const change *c = &rec->ch[i];
    if (c->what == J_CREATE && mdl_type_of(p, c->id))
      ops[n++] = (mdl_op){.kind = MDL_OP_DELETE, .id = c->id};
  }
  if (!n) {
    a->free(a->ud, h, size);
    return MDL_OK;
  }
  h->txn.n_ops = n;
  h->txn.ops = ops;
  *out = &h->txn;
  return MDL_OK;
}
