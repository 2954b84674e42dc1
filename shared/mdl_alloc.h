/* mdl_alloc: the allocator the model is given.
 *
 * shared/ never calls malloc: whoever embeds the model (the server, the wasm
 * glue, a test) passes one of these. The free callback receives the size that
 * was allocated (Pd-style sized free), so arena or pool allocators fit. */
#ifndef MDL_ALLOC_H
#define MDL_ALLOC_H

#include <stddef.h>

typedef struct mdl_alloc {
  void *ud;                                       /* passed back to both callbacks */
  void *(*alloc)(void *ud, size_t size);          /* returns NULL on failure */
  void (*free)(void *ud, void *ptr, size_t size); /* ptr may be NULL */
} mdl_alloc;

#endif
