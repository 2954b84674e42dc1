/* eng_backend.h: audio backends that drive eng_engine_process on their own
 * RT thread.
 *
 *  - null: a timer thread that renders one block every block_frames at real-
 *    time pace (absolute CLOCK_MONOTONIC deadlines, so no drift) and throws
 *    the audio away. Needs no sound card; the headless default.
 *  - portaudio: the default output device, stereo float, block_frames per
 *    callback. ALSA and JACK error printing is silenced before PortAudio
 *    initialises.
 *  - auto: portaudio, falling back to null with a one-sentence explanation.
 *
 * Each backend is one file (eng_backend_null.c, eng_backend_pa.c) behind a
 * small vtable (eng_backend_int.h).
 *
 * Threads: open/close on the control thread. While a backend is open its RT
 * thread calls eng_engine_process; do not call it yourself then, and close the
 * backend before eng_engine_destroy. */
#ifndef ENG_BACKEND_H
#define ENG_BACKEND_H

#include <stddef.h>

#include "engine/eng_engine.h"

typedef enum eng_backend_kind {
  ENG_BACKEND_AUTO,     /* PortAudio, else null */
  ENG_BACKEND_NULL,     /* timer-driven, no device */
  ENG_BACKEND_PORTAUDIO /* default output device */
} eng_backend_kind;

typedef struct eng_backend eng_backend; /* opaque */

/* Opens a backend of `kind` for engine `e` (borrowed: it must outlive the
 * backend) using e's sample rate and block size, and starts its RT thread.
 * On success *out is owned by the caller (free with eng_backend_close); on
 * failure *out is NULL and nothing was started.
 * `msg` (may be NULL if msg_len is 0) receives one human sentence: why the
 * open failed, or for AUTO why it fell back to null, e.g. "no sound card
 * (PortAudio: Device unavailable); playing on the null device". It is ""
 * when there is nothing to say. Never calls eng_engine_process before
 * returning success.
 * RT-safe: no (allocates, starts threads, talks to the audio system).
 * Possible errors: ENG_ERR_INVALID, ENG_ERR_NOMEM, ENG_ERR_THREAD,
 * ENG_ERR_NODEVICE (PortAudio found no usable output device),
 * ENG_ERR_BACKEND (any other PortAudio failure). */
int eng_backend_open(eng_engine *e, eng_backend_kind kind, eng_backend **out, char *msg,
                     size_t msg_len);

/* "null" or "portaudio:<device name>". Valid until eng_backend_close.
 * RT-safe: yes. */
const char *eng_backend_name(const eng_backend *b);

/* Stops the RT thread or stream, waits for it and frees the backend. After
 * it returns, eng_engine_process is no longer being called. NULL is a no-op.
 * RT-safe: no (joins a thread). */
void eng_backend_close(eng_backend *b);

#endif /* ENG_BACKEND_H */
