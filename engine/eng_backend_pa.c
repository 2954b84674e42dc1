/* eng_backend_pa.c: the PortAudio backend: the default output device or
 * one chosen by index or name, stereo float32, block_frames per callback;
 * the callback is the RT thread. Also lists the devices.
 *
 * PortAudio's ALSA and JACK host APIs print dozens of lines to stderr when
 * probing a machine without a sound card. The handlers of libasound and
 * libjack are replaced by no-ops before Pa_Initialize (process-wide, and left
 * in place: the server reports audio problems itself). */
#include "engine/eng_backend_int.h"
#include "engine/eng_err.h"

#include <alsa/asoundlib.h>
#include <jack/jack.h>
#include <ctype.h>
#include <portaudio.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

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

static void say(char *msg, size_t len, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void say(char *msg, size_t len, const char *fmt, ...) {
  if (!msg || !len) return;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, len, fmt, ap);
  va_end(ap);
}

/* Pa_Initialize with ALSA and JACK kept quiet. */
static int pa_start(char *msg, size_t len) {
  silence_audio_libs();
  PaError err = Pa_Initialize();
  if (err == paNoError) return ENG_OK;
  say(msg, len, "PortAudio did not initialise (%s)", Pa_GetErrorText(err));
  return ENG_ERR_BACKEND;
}

/* ------------------------------------------------------------------------ */
/* devices                                                                  */
/* ------------------------------------------------------------------------ */

static void device_info(PaDeviceIndex i, eng_device_info *o) {
  const PaDeviceInfo *d = Pa_GetDeviceInfo(i);
  memset(o, 0, sizeof *o);
  o->index = i;
  if (!d) return;
  snprintf(o->name, sizeof o->name, "%s", d->name ? d->name : "");
  o->in_channels = d->maxInputChannels;
  o->out_channels = d->maxOutputChannels;
  o->default_rate = d->defaultSampleRate;
  o->is_default = i == Pa_GetDefaultOutputDevice();
}

int eng__pa_list_devices(eng_device_info *out, int max, int *n_found, char *msg, size_t msg_len) {
  int rc = pa_start(msg, msg_len);
  if (rc != ENG_OK) return rc;
  int n = Pa_GetDeviceCount();
  if (n < 0) n = 0;
  for (int i = 0; i < n && i < max; i++)
    device_info(i, &out[i]);
  *n_found = n;
  Pa_Terminate();
  return ENG_OK;
}

static bool contains_nocase(const char *hay, const char *needle) {
  size_t n = strlen(needle);
  for (; *hay; hay++)
    if (strncasecmp(hay, needle, n) == 0) return true;
  return false;
}

static bool all_digits(const char *s) {
  for (; *s; s++)
    if (!isdigit((unsigned char) *s)) return false;
  return true;
}

/* The device `spec` names (eng_backend_config.device), or paNoDevice with
 * one sentence in msg. */
static PaDeviceIndex find_device(const char *spec, char *msg, size_t len) {
  int n = Pa_GetDeviceCount();
  if (!spec || !*spec) {
    PaDeviceIndex d = Pa_GetDefaultOutputDevice();
    if (d == paNoDevice)
      say(msg, len, "no sound card (PortAudio: %s)", Pa_GetErrorText(paDeviceUnavailable));
    return d;
  }
  if (all_digits(spec)) {
    long i = strlen(spec) < 9 ? strtol(spec, NULL, 10) : -1;
    if (i >= 0 && i < n) return (PaDeviceIndex) i;
    say(msg, len, "no output device %s (%d devices, see backline --list-devices)", spec, n);
    return paNoDevice;
  }
  PaDeviceIndex found = paNoDevice;
  int matches = 0;
  for (PaDeviceIndex i = 0; i < n; i++) {
    const PaDeviceInfo *d = Pa_GetDeviceInfo(i);
    if (!d || !d->name || d->maxOutputChannels < 1) continue;
    if (strcmp(d->name, spec) == 0) return i;
    if (contains_nocase(d->name, spec)) found = i, matches++;
  }
  if (matches == 1) return found;
  if (matches == 0)
    say(msg, len, "no output device matches \"%s\" (%d devices, see backline --list-devices)", spec,
        n);
  else
    say(msg, len, "\"%s\" matches %d output devices; name one (see backline --list-devices)", spec,
        matches);
  return paNoDevice;
}

/* ------------------------------------------------------------------------ */
/* open and close                                                           */
/* ------------------------------------------------------------------------ */

/* Opens and starts a stereo stream on device d; fills b->base.name. */
static int open_stream(pa_backend *b, PaDeviceIndex d, const eng_config *cfg, char *msg,
                       size_t len) {
  const PaDeviceInfo *info = Pa_GetDeviceInfo(d);
  if (!info || info->maxOutputChannels < 2) {
    say(msg, len, "device %d (%s) cannot play stereo", d, info ? info->name : "?");
    return ENG_ERR_NODEVICE;
  }
  snprintf(b->base.name, sizeof b->base.name, "portaudio:%s", info->name);
  PaStreamParameters op = {.device = d,
                           .channelCount = 2,
                           .sampleFormat = paFloat32,
                           .suggestedLatency = info->defaultLowOutputLatency};
  PaError err = Pa_OpenStream(&b->stream, NULL, &op, cfg->sample_rate, cfg->block_frames, paNoFlag,
                              callback, b);
  if (err != paNoError) {
    say(msg, len, "PortAudio could not open %s at %u Hz, %u frames (%s)", b->base.name,
        cfg->sample_rate, cfg->block_frames, Pa_GetErrorText(err));
    return err == paDeviceUnavailable ? ENG_ERR_NODEVICE : ENG_ERR_BACKEND;
  }
  err = Pa_StartStream(b->stream);
  if (err != paNoError) {
    say(msg, len, "PortAudio could not start %s (%s)", b->base.name, Pa_GetErrorText(err));
    Pa_CloseStream(b->stream);
    return ENG_ERR_BACKEND;
  }
  return ENG_OK;
}

static int pa_open(eng_engine *e, const char *device, eng_backend **out, char *msg,
                   size_t msg_len) {
  eng_config cfg = eng_engine_config(e);
  int rc = pa_start(msg, msg_len);
  if (rc != ENG_OK) return rc;
  PaDeviceIndex d = find_device(device, msg, msg_len);
  pa_backend *b = d == paNoDevice ? NULL : calloc(1, sizeof *b);
  rc = d == paNoDevice ? ENG_ERR_NODEVICE : !b ? ENG_ERR_NOMEM : ENG_OK;
  if (rc == ENG_OK) {
    b->base.vt = &eng__backend_pa_vt;
    b->base.engine = e;
    rc = open_stream(b, d, &cfg, msg, msg_len);
  }
  if (rc != ENG_OK) {
    free(b);
    Pa_Terminate();
    return rc;
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
