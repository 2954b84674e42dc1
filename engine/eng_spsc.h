/* eng_spsc.h: bounded lock-free single-producer single-consumer queue of
 * fixed-size items.
 *
 * The engine uses three of these: commands in (control -> RT), meter frames
 * out (RT -> one reader) and retired plans out (RT -> control). Exactly ONE
 * thread may push and exactly ONE thread may pop at any time; they may be the
 * same thread. Items are copied in and out with memcpy. Synchronisation is
 * C11 <stdatomic.h> acquire/release on two free-running indices; capacity is
 * a power of two, so index wrap is a mask.
 *
 * Not guaranteed: FIFO across more than one producer or consumer (use a lock
 * or one queue per producer), or any ordering with other queues. */
#ifndef ENG_SPSC_H
#define ENG_SPSC_H

#include <stdbool.h>
#include <stddef.h>

#define ENG_SPSC_MAX_ITEM (64 * 1024) /* largest item_size accepted, bytes */

typedef struct eng_spsc eng_spsc;

/* --- lifetime (control thread) --- */

/* Creates an empty queue that holds up to `capacity` items of `item_size`
 * bytes. On success *out is owned by the caller: free it with
 * eng_spsc_destroy. On failure *out is NULL.
 * RT-safe: no (allocates).
 * Possible errors: ENG_ERR_INVALID (capacity not a power of two >= 2, item_size
 * 0 or > ENG_SPSC_MAX_ITEM, out NULL), ENG_ERR_NOMEM. */
int eng_spsc_create(size_t item_size, size_t capacity, eng_spsc **out);

/* Frees the queue and any items still in it (items are plain bytes: anything
 * they point to is the caller's business). NULL is a no-op. No thread may be
 * using the queue.
 * RT-safe: no (frees). */
void eng_spsc_destroy(eng_spsc *q);

/* --- producer thread only --- */

/* Copies item_size bytes from `item` into the queue. Returns true if pushed,
 * false (and copies nothing) if the queue is full.
 * RT-safe: yes (wait-free). */
bool eng_spsc_push(eng_spsc *q, const void *item);

/* Number of items that can be pushed right now. Only the producer may call
 * it; the answer can only grow until the producer pushes again.
 * RT-safe: yes. */
size_t eng_spsc_write_space(const eng_spsc *q);

/* --- consumer thread only --- */

/* Copies the oldest item into `item` and removes it. Returns true if an item
 * was popped, false (and leaves `item` untouched) if the queue is empty.
 * RT-safe: yes (wait-free). */
bool eng_spsc_pop(eng_spsc *q, void *item);

/* Number of items that can be popped right now. Only the consumer may call
 * it; the answer can only grow until the consumer pops again.
 * RT-safe: yes. */
size_t eng_spsc_read_space(const eng_spsc *q);

/* --- any thread --- */

/* Capacity given at creation. RT-safe: yes. */
size_t eng_spsc_capacity(const eng_spsc *q);

#endif /* ENG_SPSC_H */
