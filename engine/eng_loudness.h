/* eng_loudness.h: integrated loudness (ITU-R BS.1770-4 / EBU R128, gated)
 * and true peak of a stereo signal, measured with libebur128. The offline
 * renderer (eng_render.h) feeds it the master it writes; tests feed it
 * synthetic signals.
 *
 * Calibration (BS.1770): a 1 kHz sine of peak amplitude A on BOTH channels of
 * a stereo signal reads 20*log10(A) LUFS (the K-weighting gains +0.691 dB at
 * 1 kHz and the formula subtracts 0.691; the two channels' mean squares A^2/2
 * add up to A^2). So a full-scale stereo sine reads 0.0 LUFS, one at
 * -3.01 dBFS peak reads -3.01 LUFS, and a full-scale sine in ONE channel
 * reads -3.01 LUFS (the standard's own example).
 *
 * True peak: libebur128 upsamples 4x below 96 kHz (2x below 192 kHz) with a
 * 49-tap polyphase FIR, as BS.1770-4 Annex 2 asks, so it sees the peaks
 * between samples that a sample peak misses.
 *
 * Threads: one object per thread; never on the RT thread (allocates). */
#ifndef ENG_LOUDNESS_H
#define ENG_LOUDNESS_H

#include <stddef.h>
#include <stdint.h>

typedef struct eng_loudness eng_loudness; /* opaque */

typedef struct eng_loudness_result {
  double integrated_lufs;  /* gated integrated loudness; -HUGE_VAL when silent or under 400 ms */
  double true_peak_dbtp;   /* largest true peak of the two channels; -HUGE_VAL when silent */
  double sample_peak_dbfs; /* largest |sample|, in dBFS; -HUGE_VAL when silent */
} eng_loudness_result;

/* Creates a meter for interleaved stereo at `sample_rate` Hz. On success
 * *out is owned by the caller (eng_loudness_destroy); on failure it is NULL.
 * RT-safe: no (allocates).
 * Possible errors: ENG_ERR_INVALID (out NULL, sample rate outside
 * ENG_MIN_SAMPLE_RATE..ENG_MAX_SAMPLE_RATE), ENG_ERR_NOMEM. */
int eng_loudness_create(uint32_t sample_rate, eng_loudness **out);

/* Adds `frames` interleaved stereo frames (2 * frames floats, borrowed).
 * RT-safe: no (libebur128 may grow its block list).
 * Possible errors: ENG_ERR_INVALID (NULL argument), ENG_ERR_NOMEM. */
int eng_loudness_add(eng_loudness *l, const float *frames_lr, size_t frames);

/* Fills *out with the measurements over everything added so far.
 * RT-safe: no. Possible errors: ENG_ERR_INVALID (NULL argument). */
int eng_loudness_get(eng_loudness *l, eng_loudness_result *out);

/* Frees the meter. NULL is a no-op. RT-safe: no (frees). */
void eng_loudness_destroy(eng_loudness *l);

#endif /* ENG_LOUDNESS_H */
