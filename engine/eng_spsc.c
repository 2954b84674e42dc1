/* eng_spsc.c: lock-free SPSC queue (see eng_spsc.h).
 *
 * Invariant: 0 <= head - tail <= capacity, with head and tail free-running
 * size_t counters (unsigned wrap is well defined). The producer owns head,
 * the consumer owns tail. The producer publishes an item with a release
 * store of head after writing the slot; the consumer reads head with
 * acquire before reading the slot, and releases the slot with a release
 * store of tail, which the producer reads with acquire before reusing it. */
#include "engine/eng_spsc.h"
#include "engine/eng_err.h"

#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

_Static_assert(ATOMIC_LONG_LOCK_FREE == 2 || ATOMIC_LLONG_LOCK_FREE == 2,
               "the SPSC indices must be lock-free atomics");

#define CACHE_LINE 64

struct eng_spsc {
  _Atomic size_t head;                    /* next slot to write; producer stores */
  char pad0[CACHE_LINE - sizeof(size_t)]; /* keep head and tail on separate lines */
  _Atomic size_t tail;                    /* next slot to read; consumer stores */
  char pad1[CACHE_LINE - sizeof(size_t)]; /* ... and away from the read-only fields */
  size_t mask;                            /* capacity - 1 */
  size_t item_size;                       /* bytes per item */
  unsigned char *items;                   /* capacity * item_size bytes */
};

int eng_spsc_create(size_t item_size, size_t capacity, eng_spsc **out) {
  if (!out) return ENG_ERR_INVALID;
  *out = NULL;
  if (item_size == 0 || item_size > ENG_SPSC_MAX_ITEM) return ENG_ERR_INVALID;
  if (capacity < 2 || (capacity & (capacity - 1)) != 0) return ENG_ERR_INVALID;
  if (capacity > SIZE_MAX / item_size) return ENG_ERR_INVALID;
  eng_spsc *q = calloc(1, sizeof *q);
  if (!q) return ENG_ERR_NOMEM;
  q->items = calloc(capacity, item_size);
  if (!q->items) {
    free(q);
    return ENG_ERR_NOMEM;
  }
  atomic_init(&q->head, 0);
  atomic_init(&q->tail, 0);
  q->mask = capacity - 1;
  q->item_size = item_size;
  *out = q;
  return ENG_OK;
}

void eng_spsc_destroy(eng_spsc *q) {
  if (!q) return;
  free(q->items);
  free(q);
}

bool eng_spsc_push(eng_spsc *q, const void *item) {
  size_t head = atomic_load_explicit(&q->head, memory_order_relaxed);
  size_t tail = atomic_load_explicit(&q->tail, memory_order_acquire);
  if (head - tail > q->mask) return false; /* full: head - tail == capacity */
  memcpy(q->items + (head & q->mask) * q->item_size, item, q->item_size);
  atomic_store_explicit(&q->head, head + 1, memory_order_release);
  return true;
}

size_t eng_spsc_write_space(const eng_spsc *q) {
  size_t head = atomic_load_explicit(&q->head, memory_order_relaxed);
  size_t tail = atomic_load_explicit(&q->tail, memory_order_acquire);
  return q->mask + 1 - (head - tail);
}

bool eng_spsc_pop(eng_spsc *q, void *item) {
  size_t tail = atomic_load_explicit(&q->tail, memory_order_relaxed);
  size_t head = atomic_load_explicit(&q->head, memory_order_acquire);
  if (head == tail) return false;
  memcpy(item, q->items + (tail & q->mask) * q->item_size, q->item_size);
  atomic_store_explicit(&q->tail, tail + 1, memory_order_release);
  return true;
}

size_t eng_spsc_read_space(const eng_spsc *q) {
  size_t tail = atomic_load_explicit(&q->tail, memory_order_relaxed);
  size_t head = atomic_load_explicit(&q->head, memory_order_acquire);
  return head - tail;
}

size_t eng_spsc_capacity(const eng_spsc *q) {
  return q->mask + 1;
}
