/* sto_resample: the sample-rate converter of asset import (sto_asset.c).
 *
 * A polyphase windowed-sinc FIR for rational ratios OUT/IN = L/M (reduced):
 * every output sample is one dot product of the input around its position
 * with one of L precomputed phases, so the cost is TAPS multiply-adds per
 * sample and channel, with no per-sample kernel interpolation (what makes
 * libsamplerate's sinc converters slow). The kernel is a Kaiser-windowed
 * sinc (beta 10.06) designed for:
 *   passband   flat to 0.45 * min(IN, OUT) (90% of the lower Nyquist),
 *              ripple under 0.0001 dB
 *   stopband   attenuation of at least 100 dB from 0.5 * min(IN, OUT)
 * the same bandwidth as libsamplerate's SRC_SINC_MEDIUM_QUALITY and a
 * deeper stopband than its 97 dB. Each phase sums to exactly 1 (no DC gain
 * error). Output sample k sits at input time k * IN / OUT: no delay, the
 * input is taken as zero before its start and after its end.
 *
 * Ratios whose table would exceed STO_RESAMPLE_MAX_TABLE coefficients
 * (huge L, e.g. 44100 -> 47999) are not handled: sto_resample_create
 * returns STO_ERR_INVALID and the caller uses libsamplerate instead.
 *
 * Not thread-safe: one thread per sto_resampler. Not for the RT thread
 * (create allocates; process is allocation-free). */
#ifndef STO_RESAMPLE_H
#define STO_RESAMPLE_H

#include <stddef.h>
#include <stdint.h>

#define STO_RESAMPLE_MAX_TABLE (1u << 20) /* phases * taps, floats (4 MiB) */
#define STO_RESAMPLE_BLOCK     8192       /* most input frames per sto_resample_process call */

typedef struct sto_resampler sto_resampler;

/* A converter from IN_RATE to OUT_RATE for CHANNELS interleaved channels.
 * On failure *out is NULL. Allocates; free with sto_resample_destroy.
 * Possible errors: STO_ERR_INVALID (a rate or channel count of 0, or a ratio
 * this converter does not take), STO_ERR_NOMEM. */
int sto_resample_create(uint32_t in_rate, uint32_t out_rate, uint32_t channels,
                        sto_resampler **out);
void sto_resample_destroy(sto_resampler *r); /* NULL ok */

/* Most output frames one call can produce from N_IN input frames. */
size_t sto_resample_out_max(const sto_resampler *r, size_t n_in);

/* Takes N_IN (at most STO_RESAMPLE_BLOCK) interleaved input frames and
 * writes the output frames they complete to OUT (room for
 * sto_resample_out_max(r, n_in) frames). END says the input ends here: the
 * remaining outputs, up to the input's last frame, are written too (the
 * caller stops at the length it wants). Returns the frames written.
 * Does not allocate. */
size_t sto_resample_process(sto_resampler *r, const float *in, size_t n_in, int end, float *out);

#endif
