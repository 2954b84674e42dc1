/* sto_resample: the sample-rate converter of asset import (sto_asset.c), a
 * thin wrapper over the speexdsp resampler (<speex/speex_resampler.h>).
 *
 * What it adds to speexdsp: no delay (output frame k sits at input time
 * k * IN / OUT; the input is taken as zero before its start and after its
 * end) and an exact length (ceil(frames * OUT / IN) frames once the input
 * ends), so the caller needs neither speexdsp's latency nor its flushing.
 *
 * Quality: speexdsp level STO_RESAMPLE_QUALITY, the lowest that is studio
 * quality at every ratio we measured (storage/README.md has the table):
 *   passband   within 0.0002 dB to 90% of the lower Nyquist, -0.0085 dB
 *              at 20 kHz for 44.1 <-> 48 kHz (libsamplerate
 *              SRC_SINC_MEDIUM: -2.1 dB at 90%, -3.3 dB at 20 kHz)
 *   stopband   tones above the lower Nyquist down by 99 dB or more
 *              (SRC_SINC_MEDIUM: 91 dB); the rest of what an in-band tone
 *              makes (images, kernel interpolation) 102 dB below it (RMS)
 *   DC         gain within 1e-5 (speexdsp does not normalise its phases)
 * Level 6 leaves tones just above the Nyquist 66 dB down and is 0.27 dB
 * down at 20 kHz; 8 is 25% slower for 0-2 dB more; 9 and 10 centre their
 * cutoff closer to the Nyquist and reject only about 60 dB there.
 *
 * Not thread-safe: one thread per sto_resampler. Not for the RT thread
 * (create allocates; process does not). */
#ifndef STO_RESAMPLE_H
#define STO_RESAMPLE_H

#include <stddef.h>
#include <stdint.h>

#define STO_RESAMPLE_QUALITY 7 /* speexdsp level, 0..10 (see above) */

typedef struct sto_resampler sto_resampler;

/* A converter from IN_RATE to OUT_RATE for CHANNELS interleaved channels.
 * On failure *out is NULL. Allocates; free with sto_resample_destroy.
 * Possible errors: STO_ERR_INVALID (a rate or channel count of 0, or a
 * ratio speexdsp refuses), STO_ERR_NOMEM. */
int sto_resample_create(uint32_t in_rate, uint32_t out_rate, uint32_t channels,
                        sto_resampler **out);
void sto_resample_destroy(sto_resampler *r); /* NULL ok */

/* Most output frames one sto_resample_process call can write for N_IN
 * input frames (END included). */
size_t sto_resample_out_max(const sto_resampler *r, size_t n_in);

/* Takes N_IN (under 2^32) interleaved input frames and writes the output frames they
 * complete to OUT (room for sto_resample_out_max(r, n_in) frames). END says
 * the input ends here: the remaining outputs are written too, up to
 * ceil(total input * OUT / IN) frames in all; later calls write nothing.
 * Returns the frames written. The output does not depend on how the input
 * is split into calls. Does not allocate. */
size_t sto_resample_process(sto_resampler *r, const float *in, size_t n_in, int end, float *out);

#endif
