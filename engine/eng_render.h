/* eng_render.h: offline rendering of a plan to a WAV file, as fast as the
 * CPU allows (the `--render` path; also the engine's end-to-end test).
 *
 * Deterministic: the same description, length and build give a byte-identical
 * file (no clock, no rand, no dither).
 *
 * Threads: any non-RT thread; it creates its own private engine. */
#ifndef ENG_RENDER_H
#define ENG_RENDER_H

#include <stddef.h>

#include "engine/eng_plan.h"

#define ENG_RENDER_MAX_SECONDS (24.0 * 3600.0) /* longest render accepted */

/* Compiles `d` (borrowed during the call), plays it from frame 0 for
 * round(seconds * d->sample_rate) frames and writes a stereo 24-bit PCM WAV
 * at d->sample_rate to `path` (overwritten; samples beyond +-1 are clipped).
 * On failure a partial file may remain and `msg` (may be NULL if msg_len is 0)
 * receives one human sentence; on success msg is "".
 * RT-safe: no (allocates, file I/O).
 * Possible errors: ENG_ERR_INVALID (NULL path, seconds not in
 * (0, ENG_RENDER_MAX_SECONDS], any eng_plan_create error), ENG_ERR_NOMEM,
 * ENG_ERR_IO (libsndfile could not open or write the file). */
int eng_render_wav(const eng_plan_desc *d, const char *path, double seconds, char *msg,
                   size_t msg_len);

#endif /* ENG_RENDER_H */
