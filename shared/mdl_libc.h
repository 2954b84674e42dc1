/* mdl_libc: malloc and free as an mdl_alloc, for whoever embeds the model
 * (the server, storage, the wasm glue, tools and tests).
 *
 * shared/ itself never includes this header: the model takes memory only
 * through the mdl_alloc it is given (STYLE section 7; wasm/linkcheck.cmake
 * checks the library). Usage: static const mdl_alloc heap = MDL_LIBC_ALLOC; */
#ifndef MDL_LIBC_H
#define MDL_LIBC_H

#include "shared/mdl_alloc.h"

#include <stdlib.h>

static inline void *mdl_libc_alloc_(void *ud, size_t size) {
  (void) ud;
  return malloc(size);
}

static inline void mdl_libc_free_(void *ud, void *ptr, size_t size) {
  (void) ud, (void) size;
  free(ptr);
}

#define MDL_LIBC_ALLOC                                                                             \
  { NULL, mdl_libc_alloc_, mdl_libc_free_ }

#endif
