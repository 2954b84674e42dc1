/* sto_resample: speexdsp without delay and with an exact length. See sto_resample.h. */
#include "storage/sto_resample.h"
#include "storage/sto_err.h"
#include "storage/sto_int.h"

#include <speex/speex_resampler.h>
#include <stdlib.h>

struct sto_resampler {
  SpeexResamplerState *st;
  uint32_t in_rate, out_rate, channels;
  uint32_t latency; /* input frames speexdsp holds back: fed as zeros at the end */
  uint64_t n_in;    /* input frames taken so far */
  uint64_t n_out;   /* output frames written so far */
  int ended;
};

int sto_resample_create(uint32_t in_rate, uint32_t out_rate, uint32_t channels,
                        sto_resampler **out) {
  *out = NULL;
  if (!in_rate || !out_rate || !channels) return STO_ERR_INVALID;
  sto_resampler *r = sto__fault() ? NULL : calloc(1, sizeof *r);
  if (!r) return STO_ERR_NOMEM;
  int err = RESAMPLER_ERR_SUCCESS;
  r->st = speex_resampler_init(channels, in_rate, out_rate, STO_RESAMPLE_QUALITY, &err);
  if (!r->st) {
    free(r);
    return err == RESAMPLER_ERR_ALLOC_FAILED ? STO_ERR_NOMEM : STO_ERR_INVALID;
  }
  /* Without this the output starts with latency input frames of silence. */
  speex_resampler_skip_zeros(r->st);
  r->in_rate = in_rate, r->out_rate = out_rate, r->channels = channels;
  r->latency = (uint32_t) speex_resampler_get_input_latency(r->st);
  *out = r;
  return STO_OK;
}

void sto_resample_destroy(sto_resampler *r) {
  if (!r) return;
  speex_resampler_destroy(r->st);
  free(r);
}

size_t sto_resample_out_max(const sto_resampler *r, size_t n_in) {
  return (size_t) (((uint64_t) n_in + r->latency) * r->out_rate / r->in_rate) + 2;
}

/* Runs N input frames (IN NULL: zeros) into OUT, which has room for CAP. */
static size_t run(sto_resampler *r, const float *in, size_t n, float *out, size_t cap) {
  spx_uint32_t n_in = (spx_uint32_t) n, n_out = (spx_uint32_t) cap;
  speex_resampler_process_interleaved_float(r->st, in, &n_in, out, &n_out);
  return n_out;
}

size_t sto_resample_process(sto_resampler *r, const float *in, size_t n_in, int end, float *out) {
  if (r->ended) return 0;
  size_t cap = sto_resample_out_max(r, n_in);
  size_t made = run(r, in, n_in, out, cap);
  r->n_in += n_in;
  if (end) {
    made += run(r, NULL, r->latency, out + made * r->channels, cap - made);
    r->ended = 1;
    /* The outputs at input times before the end of the input: what
     * speexdsp gives fed its latency in zeros; the clamp keeps the promise. */
    uint64_t want = (r->n_in * r->out_rate + r->in_rate - 1) / r->in_rate;
    if (r->n_out + made > want) made = want > r->n_out ? (size_t) (want - r->n_out) : 0;
  }
  r->n_out += made;
  return made;
}
