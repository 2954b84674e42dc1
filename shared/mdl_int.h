/* mdl_int: the object store behind mdl_project (shared/ only).
 *
 * Objects of one type live in one pool of fixed-size records: a header and
 * the cells the type's schema declares, 8 bytes each. A handle names a
 * record: the type in the high 8 bits, the slot in the low 24. Each parent
 * keeps an unordered, doubly linked list of its children (queries sort).
 * An open-addressing map finds a handle by id.
 *
 * Every change is journaled (mdl_journal): a refused transaction is undone
 * entry by entry, newest first; an accepted one is committed, which frees
 * what the journal kept alive (deleted records, replaced strings). Journals
 * nest strictly: only the newest may be undone. */
#ifndef MDL_INT_H
#define MDL_INT_H

#include "shared/mdl_project.h"

typedef struct mdl_str {
  uint32_t len;
  char b[]; /* len bytes and a NUL */
} mdl_str;

typedef union mdl_cell {
  int64_t i;
  double r;
  mdl_str *s; /* NULL = "" */
} mdl_cell;

typedef struct mdl_obj {
  mdl_id id;
  mdl_id parent;
  uint32_t first, next, prev; /* children list; a free record's next is the free list */
  uint8_t type;
  uint8_t dead;
  mdl_cell c[]; /* one per schema entry */
} mdl_obj;

typedef struct mdl_pool {
  unsigned char *mem;
  uint32_t rec_size, used, cap; /* slots [0, used) have been handed out */
  uint32_t free_head;           /* 1 + slot of the first free record, 0 = none */
  uint32_t live;
} mdl_pool;

typedef struct mdl_slot {
  mdl_id id; /* 0 = empty, MDL_ID_TOMB = deleted */
  uint32_t h;
} mdl_slot;
#define MDL_ID_TOMB UINT64_MAX

enum { J_CREATE = 1, J_DELETE, J_CELL, J_PARENT };

typedef struct mdl_jent {
  uint8_t what;
  uint8_t cell;
  uint32_t h;
  mdl_cell old; /* J_CELL: the old cell; J_PARENT: old parent id in .i */
} mdl_jent;

typedef struct mdl_journal {
  mdl_jent *e;
  uint32_t n, cap;
  uint64_t sum_before; /* the hash sum when the journal began */
} mdl_journal;

/* The first or last of a parent's ordered children, remembered so that an
 * append or an insert at the front costs one comparison, not a scan. Valid
 * while 'epoch' equals the project's: any other change of order (a key set,
 * a delete, a move, an undo) moves the project's epoch on. */
typedef struct mdl_end {
  uint64_t epoch;
  uint32_t parent, h; /* handles */
  uint8_t type, last; /* last: the last child, else the first */
} mdl_end;
#define MDL_ENDS 64

/* Small strings (names, order keys) come from chunks of fixed-size blocks,
 * one free list per size class, instead of one allocation each. */
#define MDL_STR_CLASSES 3 /* blocks of 16, 32 and 64 bytes */
typedef struct mdl_chunk {
  struct mdl_chunk *next;
} mdl_chunk;

struct mdl_project {
  mdl_alloc a;
  void *free_blocks[MDL_STR_CLASSES];
  mdl_chunk *chunks;
  size_t chunk_bytes;
  uint64_t epoch;
  mdl_end ends[MDL_ENDS];
  mdl_pool pools[MDL_TYPE_COUNT_];
  mdl_slot *map;
  uint32_t map_cap, map_used; /* used counts tombstones too */
  uint64_t sum;               /* sum of the live objects' hashes */
  size_t str_bytes;
  mdl_journal *j;     /* where changes are recorded now; NULL = nowhere (loading) */
  mdl_journal own;    /* the journal of mdl_txn_apply */
  bool routing_dirty; /* set by changes that may make a routing cycle */
  uint32_t unsealed;  /* an object being made, not in the hash sum yet (mdl__seal) */
};

/* ---- Schema (mdl_schema.c) ----------------------------------------------- */

typedef struct mdl_field {
  uint8_t prop;
  uint8_t kind; /* mdl_val_kind, MDL_VAL_ID for references */
  double min, max, def;
} mdl_field;

typedef struct mdl_schema {
  const char *name;
  uint8_t n;
  const mdl_field *f;
  int8_t order_cell; /* the ORDER cell: siblings sort by key; -1 = none */
  int8_t time_cell;  /* the START (meters: BAR) cell: siblings sort by it; -1 = none */
} mdl_schema;

const mdl_schema *mdl__schema(int type);
/* The cell index of PROP in TYPE's records, or -1. */
int mdl__cell(int type, int prop);

/* ---- Store (mdl_store.c) ------------------------------------------------- */

#define H_TYPE(h) ((h) >> 24)
#define H_SLOT(h) ((h) &0xFFFFFFu)

mdl_obj *mdl__obj(const mdl_project *p, uint32_t h);
uint32_t mdl__find(const mdl_project *p, mdl_id id); /* 0 = none */

/* A new live object with default cells, linked under PARENT (which must
 * exist), journaled. Returns its handle or 0 when out of memory. */
uint32_t mdl__create(mdl_project *p, int type, mdl_id id, mdl_id parent);
/* Adds the object mdl__create made last to the hash sum, once its first
 * properties are set (they are then not hashed one by one). */
void mdl__seal(mdl_project *p);
/* Deletes H and everything under it, journaled. */
int mdl__delete(mdl_project *p, uint32_t h);
/* Sets cell CELL of H from an already checked value, journaled. Strings are
 * copied. Returns MDL_OK or MDL_ERR_NOMEM. */
int mdl__set(mdl_project *p, uint32_t h, int cell, const mdl_value *v);
int mdl__set_parent(mdl_project *p, uint32_t h, mdl_id parent);

/* Journals: begin records into J; undo takes every change back (newest
 * first); commit frees what J kept. Either ends the journal. */
void mdl__j_begin(mdl_project *p, mdl_journal *j);
void mdl__j_undo(mdl_project *p, mdl_journal *j);
void mdl__j_commit(mdl_project *p, mdl_journal *j);
void mdl__j_free(mdl_project *p, mdl_journal *j); /* after undo or commit */

/* The value in a cell, as an op would carry it. */
mdl_value mdl__cell_value(const mdl_field *f, mdl_cell c);

/* Iterates the children of H: for (c = first(H); c; c = next(c)). */
uint32_t mdl__first(const mdl_project *p, uint32_t h);
uint32_t mdl__next(const mdl_project *p, uint32_t h);

/* The hash of one object (FNV-1a over its canonical form, mixed). */
uint64_t mdl__obj_hash(const mdl_obj *o);

/* As mdl_txn_apply, but the changes stay in J (begun here): on success the
 * caller later undoes or commits J; on failure J is already undone. */
struct mdl_txn;
struct mdl_fail;
int mdl__txn_apply_keep(mdl_project *p, const struct mdl_txn *txn, uint32_t origin, mdl_journal *j,
                        struct mdl_fail *fail);

/* Order keys of ordered siblings. */
int mdl__cmp_order(const mdl_project *p, uint32_t a, uint32_t b);

#endif
