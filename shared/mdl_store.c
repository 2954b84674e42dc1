/* mdl_store: pools, the id map, journaled changes and the state hash. */
#include "shared/mdl_err.h"
#include "shared/mdl_int.h"

#include <string.h>

/* ---- Memory --------------------------------------------------------------- */

static void *grow(mdl_project *p, void *old, size_t old_size, size_t new_size) {
  void *mem = p->a.alloc(p->a.ud, new_size);
  if (!mem) return NULL;
  if (old) memcpy(mem, old, old_size);
  memset((char *) mem + old_size, 0, new_size - old_size);
  if (old) p->a.free(p->a.ud, old, old_size);
  return mem;
}

#define CHUNK_BYTES 4096

/* The size class of a string block of SIZE bytes, or -1 for the heap. */
static int str_class(size_t size) {
  return size <= 16 ? 0 : size <= 32 ? 1 : size <= 64 ? 2 : -1;
}

static void *block_new(mdl_project *p, int cls) {
  size_t size = (size_t) 16 << cls;
  if (!p->free_blocks[cls]) {
    mdl_chunk *c = p->a.alloc(p->a.ud, CHUNK_BYTES);
    if (!c) return NULL;
    c->next = p->chunks, p->chunks = c;
    p->chunk_bytes += CHUNK_BYTES;
    /* Blocks start after the chunk header, rounded up to 16 bytes. */
    for (size_t at = 16; at + size <= CHUNK_BYTES; at += size) {
      void **b = (void **) ((char *) c + at);
      *b = p->free_blocks[cls];
      p->free_blocks[cls] = b;
    }
  }
  void **b = p->free_blocks[cls];
  p->free_blocks[cls] = *b;
  return b;
}

static mdl_str *str_new(mdl_project *p, const char *s, uint32_t len) {
  if (len == 0) return NULL;
  size_t size = sizeof(mdl_str) + len + 1;
  int cls = str_class(size);
  mdl_str *m = cls >= 0 ? block_new(p, cls) : p->a.alloc(p->a.ud, size);
  if (!m) return NULL;
  m->len = len;
  memcpy(m->b, s, len);
  m->b[len] = '\0';
  if (cls < 0) p->str_bytes += size; /* blocks are counted with their chunks */
  return m;
}

static void str_free(mdl_project *p, mdl_str *s) {
  if (!s) return;
  size_t size = sizeof *s + s->len + 1;
  int cls = str_class(size);
  if (cls < 0) {
    p->str_bytes -= size;
    p->a.free(p->a.ud, s, size);
    return;
  }
  void **b = (void **) s;
  *b = p->free_blocks[cls];
  p->free_blocks[cls] = b;
}

/* ---- Records -------------------------------------------------------------- */

mdl_obj *mdl__obj(const mdl_project *p, uint32_t h) {
  const mdl_pool *pool = &p->pools[H_TYPE(h)];
  return (mdl_obj *) (pool->mem + (size_t) H_SLOT(h) * pool->rec_size);
}

static uint32_t slot_alloc(mdl_project *p, int type) {
  mdl_pool *pool = &p->pools[type];
  uint32_t slot;
  if (pool->free_head) {
    slot = pool->free_head - 1;
    mdl_obj *o = (mdl_obj *) (pool->mem + (size_t) slot * pool->rec_size);
    pool->free_head = o->next;
  } else {
    if (pool->used == 0xFFFFFF) return 0;
    if (pool->used == pool->cap) {
      uint32_t cap = pool->cap ? pool->cap * 2 : 16;
      if (cap > 0x1000000) cap = 0x1000000;
      unsigned char *mem =
          grow(p, pool->mem, (size_t) pool->cap * pool->rec_size, (size_t) cap * pool->rec_size);
      if (!mem) return 0;
      pool->mem = mem;
      pool->cap = cap;
    }
    slot = pool->used++;
  }
  pool->live++;
  return ((uint32_t) type << 24) | slot;
}

/* Frees record H and its strings; a live one stops counting as live (a
 * deleted one stopped when it was deleted). */
static void slot_free(mdl_project *p, uint32_t h) {
  mdl_pool *pool = &p->pools[H_TYPE(h)];
  mdl_obj *o = mdl__obj(p, h);
  const mdl_schema *s = mdl__schema(o->type);
  if (!o->dead) pool->live--;
  for (int k = 0; k < s->n; k++)
    if (s->f[k].kind == MDL_VAL_STR) str_free(p, o->c[k].s);
  memset(o, 0, pool->rec_size);
  o->dead = 1;
  o->next = pool->free_head;
  pool->free_head = H_SLOT(h) + 1;
}

/* ---- Id map --------------------------------------------------------------- */

static uint64_t mix64(uint64_t x) {
  x ^= x >> 30;
  x *= 0xbf58476d1ce4e5b9ULL;
  x ^= x >> 27;
  x *= 0x94d049bb133111ebULL;
  x ^= x >> 31;
  return x;
}

uint32_t mdl__find(const mdl_project *p, mdl_id id) {
  if (id == MDL_ID_NONE || id == MDL_ID_TOMB || !p->map_cap) return 0;
  uint32_t mask = p->map_cap - 1;
  for (uint32_t i = (uint32_t) mix64(id) & mask;; i = (i + 1) & mask) {
    if (p->map[i].id == id) return p->map[i].h;
    if (p->map[i].id == MDL_ID_NONE) return 0;
  }
}

static void map_put_raw(mdl_slot *map, uint32_t cap, mdl_id id, uint32_t h) {
  uint32_t mask = cap - 1;
  uint32_t i = (uint32_t) mix64(id) & mask;
  while (map[i].id != MDL_ID_NONE && map[i].id != MDL_ID_TOMB)
    i = (i + 1) & mask;
  map[i].id = id;
  map[i].h = h;
}

static int map_put(mdl_project *p, mdl_id id, uint32_t h) {
  if ((p->map_used + 1) * 4 > p->map_cap * 3) {
    uint32_t live = 0;
    for (int t = 1; t < MDL_TYPE_COUNT_; t++)
      live += p->pools[t].live;
    uint32_t cap = 64;
    while (cap * 3 < (live + 1) * 4 * 2)
      cap *= 2;
    mdl_slot *map = p->a.alloc(p->a.ud, cap * sizeof *map);
    if (!map) return MDL_ERR_NOMEM;
    memset(map, 0, cap * sizeof *map);
    for (uint32_t i = 0; i < p->map_cap; i++)
      if (p->map[i].id != MDL_ID_NONE && p->map[i].id != MDL_ID_TOMB)
        map_put_raw(map, cap, p->map[i].id, p->map[i].h);
    if (p->map) p->a.free(p->a.ud, p->map, p->map_cap * sizeof *p->map);
    p->map = map;
    p->map_cap = cap;
    p->map_used = live;
  }
  map_put_raw(p->map, p->map_cap, id, h);
  p->map_used++;
  return MDL_OK;
}

static void map_del(mdl_project *p, mdl_id id) {
  uint32_t mask = p->map_cap - 1;
  for (uint32_t i = (uint32_t) mix64(id) & mask;; i = (i + 1) & mask) {
    if (p->map[i].id == id) {
      p->map[i].id = MDL_ID_TOMB;
      return;
    }
    if (p->map[i].id == MDL_ID_NONE) return;
  }
}

/* ---- Children lists ------------------------------------------------------- */

uint32_t mdl__first(const mdl_project *p, uint32_t h) {
  return mdl__obj(p, h)->first;
}

uint32_t mdl__next(const mdl_project *p, uint32_t h) {
  return mdl__obj(p, h)->next;
}

static void link_child(mdl_project *p, uint32_t h) {
  mdl_obj *o = mdl__obj(p, h);
  uint32_t ph = mdl__find(p, o->parent);
  if (!ph) return;
  mdl_obj *par = mdl__obj(p, ph);
  o->prev = 0;
  o->next = par->first;
  if (par->first) mdl__obj(p, par->first)->prev = h;
  par->first = h;
}

static void unlink_child(mdl_project *p, uint32_t h) {
  mdl_obj *o = mdl__obj(p, h);
  if (o->prev) {
    mdl__obj(p, o->prev)->next = o->next;
  } else {
    uint32_t ph = mdl__find(p, o->parent);
    if (ph) mdl__obj(p, ph)->first = o->next;
  }
  if (o->next) mdl__obj(p, o->next)->prev = o->prev;
  o->next = o->prev = 0;
}

/* ---- Object hash ---------------------------------------------------------- */

/* An object's hash is the sum of independent terms: one for (id, type,
 * parent) and one per property (id, cell, value), each a strong 64-bit mix.
 * A set then changes the sum by one term, not by rehashing the object. */

static uint64_t str_hash(const mdl_str *s) {
  uint64_t h = 0xcbf29ce484222325ULL ^ (s ? s->len : 0);
  for (uint32_t i = 0; s && i < s->len; i++) {
    h ^= (unsigned char) s->b[i];
    h *= 0x100000001b3ULL;
  }
  return h;
}

static uint64_t cell_bits(const mdl_field *f, mdl_cell c) {
  if (f->kind == MDL_VAL_STR) return str_hash(c.s);
  if (f->kind == MDL_VAL_REAL) {
    double r = c.r == 0 ? 0 : c.r; /* fold -0 into +0 */
    uint64_t bits;
    memcpy(&bits, &r, sizeof bits);
    return bits;
  }
  return (uint64_t) c.i;
}

static uint64_t head_term(const mdl_obj *o) {
  return mix64((o->id * 0x9e3779b97f4a7c15ULL + o->type) ^ mix64(o->parent));
}

/* One mix per property: the value's bits keyed by (id, cell). */
static uint64_t cell_term(const mdl_obj *o, int k) {
  const mdl_field *f = &mdl__schema(o->type)->f[k];
  uint64_t key = o->id * 0xd6e8feb86659fd93ULL + (uint64_t) (k + 1) * 0x9e3779b97f4a7c15ULL;
  return mix64(key ^ cell_bits(f, o->c[k]));
}

uint64_t mdl__obj_hash(const mdl_obj *o) {
  uint64_t h = head_term(o);
  for (int k = 0; k < mdl__schema(o->type)->n; k++)
    h += cell_term(o, k);
  return h;
}

uint64_t mdl_project_hash(const mdl_project *p) {
  return mix64(p->sum ^ (MDL_SCHEMA_VERSION * 0x9e3779b97f4a7c15ULL));
}

void mdl_hash_hex(uint64_t hash, char out[17]) {
  static const char digits[] = "0123456789abcdef";
  for (int i = 15; i >= 0; i--, hash >>= 4)
    out[i] = digits[hash & 15];
  out[16] = '\0';
}

/* ---- Journal -------------------------------------------------------------- */

/* Makes room for one more entry before a change is made, so that a change
 * is never made without its way back. */
static int j_room(mdl_project *p) {
  mdl_journal *j = p->j;
  if (!j || j->n < j->cap) return MDL_OK;
  uint32_t cap = j->cap ? j->cap * 2 : 32;
  mdl_jent *e = grow(p, j->e, j->cap * sizeof *e, cap * sizeof *e);
  if (!e) return MDL_ERR_NOMEM;
  j->e = e;
  j->cap = cap;
  return MDL_OK;
}

static void j_push(mdl_project *p, uint8_t what, uint32_t h, int cell, mdl_cell old) {
  if (p->j) p->j->e[p->j->n++] = (mdl_jent){what, (uint8_t) cell, h, old};
}

void mdl__j_begin(mdl_project *p, mdl_journal *j) {
  j->n = 0;
  j->sum_before = p->sum;
  p->j = j;
}

void mdl__j_undo(mdl_project *p, mdl_journal *j) {
  p->unsealed = 0; /* the sum comes back whole below */
  p->j = NULL;
  p->epoch++;
  for (uint32_t i = j->n; i-- > 0;) {
    mdl_jent *e = &j->e[i];
    mdl_obj *o = mdl__obj(p, e->h);
    const mdl_schema *s = mdl__schema(H_TYPE(e->h));
    switch (e->what) {
      case J_CREATE:
        unlink_child(p, e->h);
        map_del(p, o->id);
        slot_free(p, e->h);
        break;
      case J_DELETE:
        o->dead = 0;
        p->pools[H_TYPE(e->h)].live++;
        map_put_raw(p->map, p->map_cap, o->id, e->h); /* its old place is a tombstone */
        p->map_used++;
        link_child(p, e->h);
        break;
      case J_CELL:
        if (s->f[e->cell].kind == MDL_VAL_STR) str_free(p, o->c[e->cell].s);
        o->c[e->cell] = e->old;
        break;
      case J_PARENT:
        unlink_child(p, e->h);
        o->parent = (mdl_id) e->old.i;
        link_child(p, e->h);
        break;
      default:
        break;
    }
  }
  p->sum = j->sum_before;
  j->n = 0;
}

void mdl__j_commit(mdl_project *p, mdl_journal *j) {
  mdl__seal(p);
  if (p->j == j) p->j = NULL;
  for (uint32_t i = 0; i < j->n; i++) {
    mdl_jent *e = &j->e[i];
    if (e->what == J_DELETE) {
      slot_free(p, e->h);
    } else if (e->what == J_CELL && mdl__schema(H_TYPE(e->h))->f[e->cell].kind == MDL_VAL_STR) {
      str_free(p, e->old.s);
    }
  }
  j->n = 0;
}

void mdl__j_free(mdl_project *p, mdl_journal *j) {
  if (j->e) p->a.free(p->a.ud, j->e, j->cap * sizeof *j->e);
  j->e = NULL;
  j->n = j->cap = 0;
}

/* ---- Changes -------------------------------------------------------------- */

static mdl_cell cell_default(const mdl_field *f) {
  mdl_cell c = {0};
  if (f->kind == MDL_VAL_REAL)
    c.r = f->def;
  else if (f->kind != MDL_VAL_STR)
    c.i = (int64_t) f->def;
  return c;
}

uint32_t mdl__create(mdl_project *p, int type, mdl_id id, mdl_id parent) {
  if (j_room(p)) return 0;
  uint32_t h = slot_alloc(p, type);
  if (!h) return 0;
  mdl_obj *o = mdl__obj(p, h);
  const mdl_schema *s = mdl__schema(type);
  memset(o, 0, p->pools[type].rec_size);
  o->id = id;
  o->parent = parent;
  o->type = (uint8_t) type;
  for (int k = 0; k < s->n; k++)
    o->c[k] = cell_default(&s->f[k]);
  if (map_put(p, id, h)) {
    slot_free(p, h);
    return 0;
  }
  link_child(p, h);
  mdl__seal(p);
  if (p->j)
    p->unsealed = h; /* its properties are about to be set: hash it once, after */
  else
    p->sum += mdl__obj_hash(mdl__obj(p, h));
  j_push(p, J_CREATE, h, 0, (mdl_cell){0});
  return h;
}

void mdl__seal(mdl_project *p) {
  if (!p->unsealed) return;
  p->sum += mdl__obj_hash(mdl__obj(p, p->unsealed));
  p->unsealed = 0;
}

int mdl__delete(mdl_project *p, uint32_t h) {
  mdl__seal(p);
  for (uint32_t c = mdl__first(p, h); c; c = mdl__first(p, h))
    if (mdl__delete(p, c)) return MDL_ERR_NOMEM;
  if (j_room(p)) return MDL_ERR_NOMEM;
  mdl_obj *o = mdl__obj(p, h);
  p->epoch++;
  p->sum -= mdl__obj_hash(o);
  unlink_child(p, h);
  map_del(p, o->id);
  o->dead = 1;
  p->pools[H_TYPE(h)].live--;
  if (p->j) {
    j_push(p, J_DELETE, h, 0, (mdl_cell){0});
  } else {
    slot_free(p, h);
  }
  return MDL_OK;
}

int mdl__set(mdl_project *p, uint32_t h, int cell, const mdl_value *v) {
  if (j_room(p)) return MDL_ERR_NOMEM;
  mdl_obj *o = mdl__obj(p, h);
  const mdl_field *f = &mdl__schema(o->type)->f[cell];
  mdl_cell c = {0};
  switch (f->kind) {
    case MDL_VAL_STR:
      c.s = str_new(p, v->u.s.ptr, v->u.s.len);
      if (v->u.s.len && !c.s) return MDL_ERR_NOMEM;
      break;
    case MDL_VAL_REAL:
      c.r = v->kind == MDL_VAL_INT ? (double) v->u.i : v->u.r;
      break;
    case MDL_VAL_BOOL:
      c.i = v->kind == MDL_VAL_BOOL ? v->u.b : v->u.i != 0;
      break;
    default:
      c.i = v->u.i;
      break;
  }
  o = mdl__obj(p, h);
  if (cell == mdl__schema(o->type)->order_cell) p->epoch++;
  bool hashed = h != p->unsealed;
  if (hashed) p->sum -= cell_term(o, cell);
  mdl_cell old = o->c[cell];
  o->c[cell] = c;
  if (hashed) p->sum += cell_term(o, cell);
  /* An object the journal's last entry made needs no way back per property:
   * undoing its creation frees it whole. */
  mdl_journal *j = p->j;
  bool fresh = j && j->n && j->e[j->n - 1].what == J_CREATE && j->e[j->n - 1].h == h;
  if (j && !fresh)
    j_push(p, J_CELL, h, cell, old);
  else if (f->kind == MDL_VAL_STR)
    str_free(p, old.s);
  return MDL_OK;
}

int mdl__set_parent(mdl_project *p, uint32_t h, mdl_id parent) {
  mdl__seal(p);
  if (j_room(p)) return MDL_ERR_NOMEM;
  mdl_obj *o = mdl__obj(p, h);
  mdl_cell old = {.i = (int64_t) o->parent};
  p->epoch++;
  p->sum -= head_term(o);
  unlink_child(p, h);
  o->parent = parent;
  link_child(p, h);
  p->sum += head_term(o);
  j_push(p, J_PARENT, h, 0, old);
  return MDL_OK;
}

mdl_value mdl__cell_value(const mdl_field *f, mdl_cell c) {
  mdl_value v = {0};
  switch (f->kind) {
    case MDL_VAL_STR:
      v.kind = MDL_VAL_STR;
      v.u.s.ptr = c.s ? c.s->b : "";
      v.u.s.len = c.s ? c.s->len : 0;
      break;
    case MDL_VAL_REAL:
      v.kind = MDL_VAL_REAL;
      v.u.r = c.r;
      break;
    case MDL_VAL_BOOL:
      v.kind = MDL_VAL_BOOL;
      v.u.b = c.i != 0;
      break;
    default:
      v.kind = MDL_VAL_INT;
      v.u.i = c.i;
      break;
  }
  return v;
}

/* ---- Lifecycle ------------------------------------------------------------ */

static void init_pools(mdl_project *p) {
  for (int t = 1; t < MDL_TYPE_COUNT_; t++)
    p->pools[t].rec_size =
        (uint32_t) ((sizeof(mdl_obj) + mdl__schema(t)->n * sizeof(mdl_cell) + 7) & ~(size_t) 7);
}

/* Copies the longest valid UTF-8 prefix of NAME (at most MDL_NAME_MAX bytes). */
static uint32_t name_len(const char *name) {
  size_t len = name ? strlen(name) : 0;
  if (len > MDL_NAME_MAX) len = MDL_NAME_MAX;
  while (len > 0 && !mdl_utf8_valid(name, len))
    len--;
  return (uint32_t) len;
}

static int seed(mdl_project *p, const char *name) {
  uint32_t n = name_len(name);
  mdl_value v = {.kind = MDL_VAL_STR};
  v.u.s.ptr = n ? name : "Untitled";
  v.u.s.len = n ? n : 8;
  uint32_t ph = mdl__create(p, MDL_TYPE_PROJECT, MDL_ID_PROJECT, MDL_ID_NONE);
  if (!ph || mdl__set(p, ph, mdl__cell(MDL_TYPE_PROJECT, MDL_PROP_NAME), &v)) return MDL_ERR_NOMEM;
  uint32_t mh = mdl__create(p, MDL_TYPE_TRACK, MDL_ID_MASTER, MDL_ID_PROJECT);
  if (!mh) return MDL_ERR_NOMEM;
  mdl_value kind = {.kind = MDL_VAL_INT, .u.i = MDL_TRACK_MASTER};
  mdl_value mname = {.kind = MDL_VAL_STR, .u.s = {"Master", 6}};
  mdl_value order = {.kind = MDL_VAL_STR, .u.s = {"z", 1}};
  mdl_value colour = {.kind = MDL_VAL_INT, .u.i = 0xB0B0B0};
  if (mdl__set(p, mh, mdl__cell(MDL_TYPE_TRACK, MDL_PROP_KIND), &kind) ||
      mdl__set(p, mh, mdl__cell(MDL_TYPE_TRACK, MDL_PROP_NAME), &mname) ||
      mdl__set(p, mh, mdl__cell(MDL_TYPE_TRACK, MDL_PROP_ORDER), &order) ||
      mdl__set(p, mh, mdl__cell(MDL_TYPE_TRACK, MDL_PROP_COLOUR), &colour))
    return MDL_ERR_NOMEM;
  return MDL_OK;
}

static void release(mdl_project *p) {
  for (int t = 1; t < MDL_TYPE_COUNT_; t++) {
    mdl_pool *pool = &p->pools[t];
    for (uint32_t s = 0; s < pool->used; s++) {
      mdl_obj *o = (mdl_obj *) (pool->mem + (size_t) s * pool->rec_size);
      if (o->type) {
        const mdl_schema *sc = mdl__schema(o->type);
        for (int k = 0; k < sc->n; k++)
          if (sc->f[k].kind == MDL_VAL_STR) str_free(p, o->c[k].s);
      }
    }
    if (pool->mem) p->a.free(p->a.ud, pool->mem, (size_t) pool->cap * pool->rec_size);
    memset(pool, 0, sizeof *pool);
  }
  if (p->map) p->a.free(p->a.ud, p->map, p->map_cap * sizeof *p->map);
  p->map = NULL;
  p->map_cap = p->map_used = 0;
  while (p->chunks) {
    mdl_chunk *c = p->chunks;
    p->chunks = c->next;
    p->a.free(p->a.ud, c, CHUNK_BYTES);
  }
  memset(p->free_blocks, 0, sizeof p->free_blocks);
  p->chunk_bytes = 0;
  p->sum = 0;
  p->unsealed = 0;
  p->epoch++;
  mdl__j_free(p, &p->own);
  p->j = NULL;
  init_pools(p);
}

mdl_project *mdl_project_create(const mdl_alloc *a, const char *name) {
  mdl_project *p = a->alloc(a->ud, sizeof *p);
  if (!p) return NULL;
  memset(p, 0, sizeof *p);
  p->a = *a;
  init_pools(p);
  if (seed(p, name)) {
    mdl_project_destroy(p);
    return NULL;
  }
  return p;
}

void mdl_project_destroy(mdl_project *p) {
  if (!p) return;
  release(p);
  p->a.free(p->a.ud, p, sizeof *p);
}

int mdl_project_reset(mdl_project *p, const char *name) {
  release(p);
  return seed(p, name);
}

int mdl_project_copy(mdl_project *dst, const mdl_project *src) {
  release(dst);
  for (int t = 1; t < MDL_TYPE_COUNT_; t++) {
    const mdl_pool *sp = &src->pools[t];
    mdl_pool *dp = &dst->pools[t];
    if (!sp->used) continue;
    dp->mem = dst->a.alloc(dst->a.ud, (size_t) sp->used * sp->rec_size);
    if (!dp->mem) goto nomem;
    memcpy(dp->mem, sp->mem, (size_t) sp->used * sp->rec_size);
    dp->cap = dp->used = sp->used;
    dp->free_head = sp->free_head;
    dp->live = sp->live;
    /* Strings are owned per project: copy each one. */
    const mdl_schema *sc = mdl__schema(t);
    for (uint32_t s = 0; s < dp->used; s++) {
      mdl_obj *o = (mdl_obj *) (dp->mem + (size_t) s * dp->rec_size);
      for (int k = 0; k < sc->n; k++) {
        if (sc->f[k].kind != MDL_VAL_STR || !o->c[k].s) continue;
        mdl_str *c = o->dead ? NULL : str_new(dst, o->c[k].s->b, o->c[k].s->len);
        o->c[k].s = c;
        if (!c && !o->dead) {
          /* Clear the rest so that release() frees only what was copied. */
          for (uint32_t r = s; r < dp->used; r++) {
            mdl_obj *q = (mdl_obj *) (dp->mem + (size_t) r * dp->rec_size);
            for (int m = (r == s ? k : 0); m < sc->n; m++)
              if (sc->f[m].kind == MDL_VAL_STR) q->c[m].s = NULL;
          }
          goto nomem;
        }
      }
    }
  }
  dst->map = dst->a.alloc(dst->a.ud, src->map_cap * sizeof *dst->map);
  if (!dst->map) goto nomem;
  memcpy(dst->map, src->map, src->map_cap * sizeof *dst->map);
  dst->map_cap = src->map_cap;
  dst->map_used = src->map_used;
  dst->sum = src->sum;
  dst->epoch++;
  return MDL_OK;
nomem:
  mdl_project_reset(dst, NULL);
  return MDL_ERR_NOMEM;
}

/* ---- Queries -------------------------------------------------------------- */

int mdl_type_of(const mdl_project *p, mdl_id id) {
  uint32_t h = mdl__find(p, id);
  return h ? (int) H_TYPE(h) : 0;
}

mdl_id mdl_parent_of(const mdl_project *p, mdl_id id) {
  uint32_t h = mdl__find(p, id);
  return h ? mdl__obj(p, h)->parent : MDL_ID_NONE;
}

int mdl_get(const mdl_project *p, mdl_id id, int prop, mdl_value *out) {
  memset(out, 0, sizeof *out);
  uint32_t h = mdl__find(p, id);
  if (!h) return MDL_ERR_NOT_FOUND;
  int cell = mdl__cell((int) H_TYPE(h), prop);
  if (cell < 0) return MDL_ERR_BAD_PROP;
  *out = mdl__cell_value(&mdl__schema((int) H_TYPE(h))->f[cell], mdl__obj(p, h)->c[cell]);
  return MDL_OK;
}

int64_t mdl_get_int(const mdl_project *p, mdl_id id, int prop) {
  mdl_value v;
  if (mdl_get(p, id, prop, &v)) return 0;
  return v.kind == MDL_VAL_REAL ? (int64_t) v.u.r : v.kind == MDL_VAL_BOOL ? v.u.b : v.u.i;
}

double mdl_get_real(const mdl_project *p, mdl_id id, int prop) {
  mdl_value v;
  if (mdl_get(p, id, prop, &v)) return 0;
  return v.kind == MDL_VAL_REAL ? v.u.r : (double) v.u.i;
}

bool mdl_get_bool(const mdl_project *p, mdl_id id, int prop) {
  return mdl_get_int(p, id, prop) != 0;
}

const char *mdl_get_str(const mdl_project *p, mdl_id id, int prop, uint32_t *len) {
  mdl_value v;
  if (mdl_get(p, id, prop, &v) || v.kind != MDL_VAL_STR) {
    if (len) *len = 0;
    return "";
  }
  if (len) *len = v.u.s.len;
  return v.u.s.ptr;
}

int mdl__cmp_order(const mdl_project *p, uint32_t a, uint32_t b) {
  int ca = mdl__schema((int) H_TYPE(a))->order_cell;
  const mdl_obj *oa = mdl__obj(p, a), *ob = mdl__obj(p, b);
  const mdl_str *ka = oa->c[ca].s, *kb = ob->c[ca].s;
  uint32_t la = ka ? ka->len : 0, lb = kb ? kb->len : 0;
  int c = memcmp(ka ? ka->b : "", kb ? kb->b : "", la < lb ? la : lb);
  if (!c) c = la < lb ? -1 : la > lb;
  if (!c) c = oa->id < ob->id ? -1 : oa->id > ob->id;
  return c;
}

static int64_t time_of(const mdl_project *p, uint32_t h) {
  int cell = mdl__schema((int) H_TYPE(h))->time_cell;
  return cell < 0 ? 0 : mdl__obj(p, h)->c[cell].i;
}

/* Sort order of two handles of the same parent. */
static int cmp(const mdl_project *p, uint32_t a, uint32_t b) {
  uint32_t ta = H_TYPE(a), tb = H_TYPE(b);
  if (ta != tb) return ta < tb ? -1 : 1;
  const mdl_schema *s = mdl__schema((int) ta);
  if (s->order_cell >= 0) return mdl__cmp_order(p, a, b);
  if (s->time_cell >= 0) {
    int64_t x = time_of(p, a), y = time_of(p, b);
    if (x != y) return x < y ? -1 : 1;
  }
  mdl_id ia = mdl__obj(p, a)->id, ib = mdl__obj(p, b)->id;
  return ia < ib ? -1 : ia > ib;
}

/* Heap sort of handles (no memory needed; n may be large for notes). */
static void sift(const mdl_project *p, uint32_t *v, uint32_t i, uint32_t n) {
  for (;;) {
    uint32_t l = 2 * i + 1, m = i;
    if (l < n && cmp(p, v[l], v[m]) > 0) m = l;
    if (l + 1 < n && cmp(p, v[l + 1], v[m]) > 0) m = l + 1;
    if (m == i) return;
    uint32_t t = v[i];
    v[i] = v[m];
    v[m] = t;
    i = m;
  }
}

static void sort_handles(const mdl_project *p, uint32_t *v, uint32_t n) {
  for (uint32_t i = n / 2; i-- > 0;)
    sift(p, v, i, n);
  for (uint32_t end = n; end-- > 1;) {
    uint32_t t = v[0];
    v[0] = v[end];
    v[end] = t;
    sift(p, v, 0, end);
  }
}

/* Handles and ids share OUT: ids are 8 bytes, handles 4, so handles are
 * gathered in the upper half of the buffer and turned into ids in place. */
uint32_t mdl_children(const mdl_project *p, mdl_id parent, int type, mdl_id *out, uint32_t cap) {
  uint32_t ph = mdl__find(p, parent), n = 0;
  if (!ph) return 0;
  for (uint32_t c = mdl__first(p, ph); c; c = mdl__next(p, c))
    if (!type || H_TYPE(c) == (uint32_t) type) n++;
  if (!out || cap < n) return n;
  uint32_t *hs = (uint32_t *) out + n, i = 0;
  for (uint32_t c = mdl__first(p, ph); c; c = mdl__next(p, c))
    if (!type || H_TYPE(c) == (uint32_t) type) hs[i++] = c;
  sort_handles(p, hs, n);
  for (i = 0; i < n; i++)
    out[i] = mdl__obj(p, hs[i])->id;
  return n;
}

uint32_t mdl_all(const mdl_project *p, int type, mdl_id *out, uint32_t cap) {
  if (type <= 0 || type >= MDL_TYPE_COUNT_) return 0;
  const mdl_pool *pool = &p->pools[type];
  uint32_t n = 0;
  for (uint32_t s = 0; s < pool->used; s++) {
    const mdl_obj *o = (const mdl_obj *) (pool->mem + (size_t) s * pool->rec_size);
    if (o->dead || !o->type) continue;
    if (out && n < cap) out[n] = o->id;
    n++;
  }
  if (out && n <= cap) { /* by id: insertion sort is fine for the small types this serves */
    for (uint32_t i = 1; i < n; i++)
      for (uint32_t k = i; k > 0 && out[k - 1] > out[k]; k--) {
        mdl_id t = out[k];
        out[k] = out[k - 1];
        out[k - 1] = t;
      }
  }
  return n;
}

uint32_t mdl_count(const mdl_project *p, int type) {
  if (type) return type > 0 && type < MDL_TYPE_COUNT_ ? p->pools[type].live : 0;
  uint32_t n = 0;
  for (int t = 1; t < MDL_TYPE_COUNT_; t++)
    n += p->pools[t].live;
  return n;
}

static uint32_t walk_tracks(const mdl_project *p, mdl_id parent, mdl_id *out, uint32_t cap,
                            uint32_t n, int depth) {
  mdl_id kids[256];
  uint32_t k = mdl_children(p, parent, MDL_TYPE_TRACK, kids, 256);
  for (uint32_t i = 0; i < k && i < 256; i++) {
    if (kids[i] == MDL_ID_MASTER) continue;
    if (out && n < cap) out[n] = kids[i];
    n++;
    if (depth < 16 && mdl_get_int(p, kids[i], MDL_PROP_KIND) == MDL_TRACK_GROUP)
      n = walk_tracks(p, kids[i], out, cap, n, depth + 1);
  }
  return n;
}

uint32_t mdl_tracks(const mdl_project *p, mdl_id *out, uint32_t cap) {
  return walk_tracks(p, MDL_ID_PROJECT, out, cap, 0, 0);
}

size_t mdl_project_bytes(const mdl_project *p) {
  size_t n = sizeof *p + p->map_cap * sizeof *p->map + p->chunk_bytes + p->str_bytes;
  for (int t = 1; t < MDL_TYPE_COUNT_; t++)
    n += (size_t) p->pools[t].cap * p->pools[t].rec_size;
  return n;
}
