/* Helpers shared by the model tests: a counting allocator that can be told
 * to fail at the Nth allocation, and op builders. */
#ifndef TEST_UTIL_H
#define TEST_UTIL_H

#include "shared/mdl_op.h"

#include <stdlib.h>
#include <string.h>

typedef struct test_heap {
  long live;     /* bytes outstanding */
  long n_allocs; /* allocations so far */
  long fail_at;  /* fail the allocation with this index; -1 = never */
} test_heap;

static inline void *th_alloc(void *ud, size_t n) {
  test_heap *h = ud;
  if (h->fail_at >= 0 && h->n_allocs++ == h->fail_at) return NULL;
  if (h->fail_at < 0) h->n_allocs++;
  h->live += (long) n;
  return malloc(n);
}

static inline void th_free(void *ud, void *p, size_t n) {
  test_heap *h = ud;
  if (p) h->live -= (long) n;
  free(p);
}

static inline mdl_alloc th_make(test_heap *h) {
  mdl_alloc a = {h, th_alloc, th_free};
  return a;
}

static inline mdl_value v_real(double r) {
  mdl_value v = {.kind = MDL_VAL_REAL};
  v.u.r = r;
  return v;
}
static inline mdl_value v_int(int64_t i) {
  mdl_value v = {.kind = MDL_VAL_INT};
  v.u.i = i;
  return v;
}
static inline mdl_value v_bool(bool b) {
  mdl_value v = {.kind = MDL_VAL_BOOL};
  v.u.b = b;
  return v;
}
static inline mdl_value v_str(const char *s) {
  mdl_value v = {.kind = MDL_VAL_STR};
  v.u.s.ptr = s;
  v.u.s.len = (uint32_t) strlen(s);
  return v;
}
static inline mdl_op op_create(mdl_id id) {
  mdl_op op = {.kind = MDL_OP_CREATE, .type = MDL_TYPE_TRACK, .id = id};
  return op;
}
static inline mdl_op op_set(mdl_id id, int prop, mdl_value v) {
  mdl_op op = {.kind = MDL_OP_SET, .id = id, .prop = (uint8_t) prop, .value = v};
  return op;
}
/* Creates object ID of TYPE under PARENT with N props from PV. */
static inline mdl_op op_make(int type, mdl_id id, mdl_id parent, uint16_t n,
                             const mdl_prop_value *pv) {
  mdl_op op = {.kind = MDL_OP_CREATE,
               .type = (uint8_t) type,
               .id = id,
               .parent = parent,
               .n_props = n,
               .props = pv};
  return op;
}
static inline mdl_op op_move_to(mdl_id id, mdl_id parent, mdl_id after) {
  mdl_op op = {.kind = MDL_OP_MOVE, .id = id, .parent = parent, .after = after};
  return op;
}
static inline mdl_op op_delete(mdl_id id) {
  mdl_op op = {.kind = MDL_OP_DELETE, .id = id};
  return op;
}
static inline mdl_op op_move(mdl_id id, mdl_id after) {
  mdl_op op = {.kind = MDL_OP_MOVE, .id = id, .after = after};
  return op;
}
#define TXN(...)                                                                                   \
  ((mdl_txn){sizeof((mdl_op[]){__VA_ARGS__}) / sizeof(mdl_op), (mdl_op[]){__VA_ARGS__}})

#endif
