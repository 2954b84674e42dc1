/* eng_render.h: offline rendering of a plan to audio files, as fast as the
 * CPU allows (`backline render`; also the engine's end-to-end test).
 *
 * Writes the master and, optionally, one stem per track (the track's
 * post-fader output, before master gain; the click is only in the master; a
 * bus's stem holds what was routed and sent to it, so stems sum to the master
 * only when every track goes to master),
 * as 24-bit PCM WAV or FLAC through libsndfile, and reports the master's
 * integrated loudness and true peak (eng_loudness.h).
 *
 * Deterministic: the same description, length, format and build give
 * byte-identical files (no clock, no rand, no dither; libsndfile writes no
 * date into either format).
 *
 * Threads: any non-RT thread; it creates its own private engine. */
#ifndef ENG_RENDER_H
#define ENG_RENDER_H

#include <stddef.h>
#include <stdint.h>

#include "engine/eng_plan.h"

#define ENG_RENDER_MAX_SECONDS (24.0 * 3600.0) /* longest render accepted */

typedef enum eng_render_format {
  ENG_RENDER_AUTO = 0, /* from the master path's extension: .wav or .flac (any case) */
  ENG_RENDER_WAV = 1,  /* RIFF WAV, 24-bit PCM */
  ENG_RENDER_FLAC = 2, /* FLAC, 24-bit */
} eng_render_format;

/* Options; start from eng_render_opts_default() so new fields keep a default. */
typedef struct eng_render_opts {
  double seconds;        /* length, (0, ENG_RENDER_MAX_SECONDS]; rounded to whole frames */
  uint32_t format;       /* eng_render_format, for the master and the stems */
  const char *stems_dir; /* NULL: master only; else "<dir>/track-<id>.<ext>" per track
                            (the directory is created if missing; files overwritten) */
} eng_render_opts;

typedef struct eng_render_report {
  uint64_t frames;         /* frames written to each file */
  uint32_t n_stems;        /* stem files written */
  double loudness_lufs;    /* master, integrated, gated; -HUGE_VAL when silent */
  double true_peak_dbtp;   /* master, both channels, 4x oversampled; -HUGE_VAL when silent */
  double sample_peak_dbfs; /* master, largest |sample|; -HUGE_VAL when silent */
} eng_render_report;

/* {seconds 10, ENG_RENDER_AUTO, no stems}. RT-safe: yes. */
eng_render_opts eng_render_opts_default(void);

/* Compiles `d` (borrowed during the call), plays it from frame 0 for
 * round(o->seconds * d->sample_rate) frames and writes a stereo file at
 * d->sample_rate to `path` (overwritten; samples beyond +-1 are clipped in
 * the file, but loudness and peaks are measured before clipping, so a true
 * peak above 0 dBTP says the file clipped), plus stems if o->stems_dir is
 * set. `report` may be NULL; on failure it is zeroed. On failure partial
 * files may remain and `msg` (may be NULL if msg_len is 0) receives one
 * human sentence; on success msg is "".
 * RT-safe: no (allocates, file I/O).
 * Possible errors: ENG_ERR_INVALID (NULL path or options, seconds out of
 * range, format unknown, AUTO with an extension other than .wav/.flac, any
 * eng_plan_create error: msg names it), ENG_ERR_NOMEM, ENG_ERR_IO
 * (libsndfile could not open or write a file, the stems directory cannot be
 * created). */
int eng_render(const eng_plan_desc *d, const char *path, const eng_render_opts *o,
               eng_render_report *report, char *msg, size_t msg_len);

/* eng_render with {seconds, ENG_RENDER_WAV, no stems} and no report: a
 * 24-bit WAV whatever the extension. Kept for callers of the first API.
 * RT-safe: no. Possible errors: as eng_render. */
int eng_render_wav(const eng_plan_desc *d, const char *path, double seconds, char *msg,
                   size_t msg_len);

#endif /* ENG_RENDER_H */
