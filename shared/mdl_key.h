/* mdl_key: order keys (fractional indexing) for ordered siblings.
 *
 * Tracks, devices and scenes are ordered among their siblings by a key: a
 * string of base-62 digits ('0'-'9', 'A'-'Z', 'a'-'z', ASCII order) read as
 * a fraction 0.d1d2d3..., compared byte by byte; equal keys fall back to the
 * id, whose high half is the creating client, so two clients placing
 * objects at the same spot at once never collide and everyone sorts them
 * alike. A key never ends in '0', so there is always room before it.
 * Pure functions; any thread. */
#ifndef MDL_KEY_H
#define MDL_KEY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* True if S (LEN bytes) is a valid key: 1..MDL_KEY_MAX digits, not ending in '0'. */
bool mdl_key_valid(const char *s, size_t len);

/* Writes into OUT (room for MDL_KEY_MAX bytes) a key strictly between A and
 * B; A empty means "before everything", B empty "after everything". A must
 * sort before B when both are given. Returns its length, or 0 when the key
 * would be longer than MDL_KEY_MAX (the siblings then need new keys). */
uint32_t mdl_key_between(const char *a, uint32_t alen, const char *b, uint32_t blen, char *out);

/* The I-th of N evenly spread keys (I < N), for re-keying a crowded list.
 * Writes at most 5 bytes to OUT; returns the length. */
uint32_t mdl_key_spread(uint32_t i, uint32_t n, char *out);

#endif
