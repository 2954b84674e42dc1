/* eng_backend.h: audio backends that drive eng_engine_process on their own
 * RT thread.
 *
 *  - null: a timer thread that renders one block every block_frames at real-
 *    time pace (absolute CLOCK_MONOTONIC deadlines, so no drift) and throws
 *    the audio away. Needs no sound card; the headless default.
 *  - portaudio: an output device (the default one, or one chosen by index or
 *    name, see eng_backend_list_devices), stereo float, block_frames per
 *    callback (the buffer size is the engine's eng_config.block_frames).
 *    Output underflows PortAudio reports count as xruns (eng_stats.xruns).
 *    ALSA and JACK error printing is silenced before PortAudio initialises.
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

#include <stdbool.h>
#include <stddef.h>

#include "engine/eng_engine.h"

typedef enum eng_backend_kind {
  ENG_BACKEND_AUTO,     /* PortAudio, else null */
  ENG_BACKEND_NULL,     /* timer-driven, no device */
  ENG_BACKEND_PORTAUDIO /* default output device */
} eng_backend_kind;

typedef struct eng_backend eng_backend; /* opaque */

#define ENG_DEVICE_NAME_MAX 128 /* bytes of eng_device_info.name, including the NUL */

/* One audio device as PortAudio lists it. */
typedef struct eng_device_info {
  int index;                      /* PortAudio's index: what --device N names */
  char name[ENG_DEVICE_NAME_MAX]; /* host API's device name, truncated to fit */
  int in_channels;                /* most input channels */
  int out_channels;               /* most output channels (0: cannot play) */
  double default_rate;            /* Hz */
  bool is_default;                /* the default output device */
} eng_device_info;

/* How to open a backend. Start from eng_backend_config_default(). */
typedef struct eng_backend_config {
  eng_backend_kind kind; /* AUTO by default */
  const char *device;    /* PortAudio device: NULL or "" = the default output; digits = an
                            index from eng_backend_list_devices; else a name: the device so
                            named, else the one whose name contains it (any case). Borrowed
                            during open. Ignored by the null backend. */
} eng_backend_config;

/* {AUTO, default device}. RT-safe: yes. */
eng_backend_config eng_backend_config_default(void);

/* Lists PortAudio's devices into out (at most `max` entries, in index
 * order) and sets *n_found to how many there are (may exceed max; 0 on a
 * machine without a sound card). Initialises PortAudio for the call (quietly,
 * as open does) and terminates it again. On failure *n_found is 0 and `msg`
 * (may be NULL if msg_len is 0) gets one sentence.
 * RT-safe: no (talks to the audio system). Control thread, not while a
 * PortAudio backend is being opened or closed on another thread.
 * Possible errors: ENG_ERR_INVALID (n_found NULL, or out NULL with max > 0),
 * ENG_ERR_BACKEND (PortAudio did not initialise). */
int eng_backend_list_devices(eng_device_info *out, int max, int *n_found, char *msg,
                             size_t msg_len);

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

/* As eng_backend_open with cfg->kind, on the device cfg->device names. A
 * device that does not exist, cannot play stereo, or a name that matches
 * none or several is ENG_ERR_NODEVICE for PORTAUDIO, and for AUTO a fall
 * back to null with the reason ("no output device matches \"USB\" (0
 * devices, see backline --list-devices); playing on the null device").
 * RT-safe: no. Possible errors: as eng_backend_open. */
int eng_backend_open_with(eng_engine *e, const eng_backend_config *cfg, eng_backend **out,
                          char *msg, size_t msg_len);

/* "null" or "portaudio:<device name>". Valid until eng_backend_close.
 * RT-safe: yes. */
const char *eng_backend_name(const eng_backend *b);

/* Stops the RT thread or stream, waits for it and frees the backend. After
 * it returns, eng_engine_process is no longer being called. NULL is a no-op.
 * RT-safe: no (joins a thread). */
void eng_backend_close(eng_backend *b);

#endif /* ENG_BACKEND_H */
