/* eng_backend_pa.c: the PortAudio backend, default output device, stereo
 * float32, block_frames per callback; the callback is the RT thread.
 *
 * PortAudio's ALSA and JACK host APIs print dozens of lines to stderr when
 * probing a machine without a sound card. The handlers of libasound and
 * libjack are replaced by no-ops before Pa_Initialize (process-wide, and left
 * in place: the server reports audio problems itself). */
#include "engine/eng_backend_int.h"
#include "engine/eng_err.h"

#include <alsa/asoundlib.h>
#include <jack/jack.h>
#include <portaudio.h>
#include <stdio.h>
#include <stdlib.h>

typedef struct pa_backend {
  eng_backend base; /* must be first */
  PaStream *stream; /* open and started */
} pa_backend;

static void alsa_quiet(const char *file, int line, const char *function, int err, const char *fmt,
                       ...) {
  (void) file, (void) line, (void) function, (void) err, (void) fmt;
}

static void jack_quiet(const char *text) {
  (void) text;
}

static void silence_audio_libs(void) {
  snd_lib_error_set_handler(alsa_quiet);
  jack_set_error_function(jack_quiet);
  jack_set_info_function(jack_quiet);
}

static int callback(const void *in, void *out, unsigned long frames,
                    const PaStreamCallbackTimeInfo *time, PaStreamCallbackFlags flags, void *ud) {
  (void) in, (void) time;
  pa_backend *b = ud;
  if (flags & paOutputUnderflow) eng_engine_count_xrun(b->base.engine);
  eng_engine_process(b->base.engine, out, (uint32_t) frames);
  return paContinue;
}

static int pa_open(eng_engine *e, eng_backend **out, char *msg, size_t msg_len) {
  eng_config cfg = eng_engine_config(e);
  silence_audio_libs();
  PaError err = Pa_Initialize();
  if (err != paNoError) {
    if (msg && msg_len)
      snprintf(msg, msg_len, "PortAudio did not initialise (%s)", Pa_GetErrorText(err));
    return ENG_ERR_BACKEND;
  }
  pa_backend *b = calloc(1, sizeof *b);
  if (!b) {
    Pa_Terminate();
    return ENG_ERR_NOMEM;
  }
  b->base.vt = &eng__backend_pa_vt;
  b->base.engine = e;
  err = Pa_OpenDefaultStream(&b->stream, 0, 2, paFloat32, cfg.sample_rate, cfg.block_frames,
                             callback, b);
  if (err != paNoError) {
    bool nodev = err == paDeviceUnavailable || err == paInvalidDevice || Pa_GetDeviceCount() <= 0;
    if (msg && msg_len)
      snprintf(msg, msg_len,
               nodev ? "no sound card (PortAudio: %s)"
                     : "PortAudio could not open the default output (%s)",
               Pa_GetErrorText(err));
    free(b);
    Pa_Terminate();
    return nodev ? ENG_ERR_NODEVICE : ENG_ERR_BACKEND;
  }
  const PaDeviceInfo *info = Pa_GetDeviceInfo(Pa_GetDefaultOutputDevice());
  snprintf(b->base.name, sizeof b->base.name, "portaudio:%s", info ? info->name : "default");
  err = Pa_StartStream(b->stream);
  if (err != paNoError) {
    if (msg && msg_len)
      snprintf(msg, msg_len, "PortAudio could not start %s (%s)", b->base.name,
               Pa_GetErrorText(err));
    Pa_CloseStream(b->stream);
    free(b);
    Pa_Terminate();
    return ENG_ERR_BACKEND;
  }
  *out = &b->base;
  return ENG_OK;
}

static void pa_close(eng_backend *base) {
  pa_backend *b = (pa_backend *) base;
  Pa_StopStream(b->stream); /* waits for the callback to return */
  Pa_CloseStream(b->stream);
  free(b);
  Pa_Terminate();
}

const eng_backend_vt eng__backend_pa_vt = {.open = pa_open, .close = pa_close};
