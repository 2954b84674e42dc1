/* eng_render.c: offline render to WAV with libsndfile (see eng_render.h). */
#include "engine/eng_render.h"
#include "engine/eng_engine.h"
#include "engine/eng_err.h"

#include <math.h>
#include <sndfile.h>
#include <stdarg.h>
#include <stdio.h>

#define RENDER_BLOCK 1024 /* frames per process call; any size works */

static int fail(int rc, char *msg, size_t msg_len, const char *fmt, ...) {
  if (msg && msg_len) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, msg_len, fmt, ap);
    va_end(ap);
  }
  return rc;
}

int eng_render_wav(const eng_plan_desc *d, const char *path, double seconds, char *msg,
                   size_t msg_len) {
  if (msg && msg_len) msg[0] = '\0';
  if (!d || !path) return fail(ENG_ERR_INVALID, msg, msg_len, "render: no description or path");
  if (!(seconds > 0.0 && seconds <= ENG_RENDER_MAX_SECONDS))
    return fail(ENG_ERR_INVALID, msg, msg_len, "render: length %g s is out of range", seconds);

  eng_plan *plan = NULL;
  int rc = eng_plan_create(d, &plan);
  if (rc != ENG_OK)
    return fail(rc, msg, msg_len, "render: the plan was refused (%s)", eng_strerror(rc));

  eng_config cfg = eng_config_default();
  cfg.sample_rate = d->sample_rate;
  cfg.block_frames = RENDER_BLOCK;
  eng_engine *e = NULL;
  rc = eng_engine_create(&cfg, &e);
  if (rc != ENG_OK) {
    eng_plan_destroy(plan);
    return fail(rc, msg, msg_len, "render: cannot create the engine (%s)", eng_strerror(rc));
  }
  rc = eng_engine_set_plan(e, plan); /* takes the plan */
  if (rc == ENG_OK) rc = eng_engine_set_playing(e, true);
  if (rc != ENG_OK) {
    eng_engine_destroy(e);
    return fail(rc, msg, msg_len, "render: cannot start the engine (%s)", eng_strerror(rc));
  }

  SF_INFO info = {.samplerate = (int) d->sample_rate,
                  .channels = 2,
                  .format = SF_FORMAT_WAV | SF_FORMAT_PCM_24};
  SNDFILE *sf = sf_open(path, SFM_WRITE, &info);
  if (!sf) {
    rc = fail(ENG_ERR_IO, msg, msg_len, "render: cannot write %s (%s)", path, sf_strerror(NULL));
    eng_engine_destroy(e);
    return rc;
  }
  sf_command(sf, SFC_SET_CLIPPING, NULL, SF_TRUE);

  float buf[RENDER_BLOCK * 2];
  eng_meter_frame meters;
  uint64_t total = (uint64_t) llround(seconds * d->sample_rate);
  for (uint64_t done = 0; done < total && rc == ENG_OK;) {
    uint32_t n = total - done < RENDER_BLOCK ? (uint32_t) (total - done) : RENDER_BLOCK;
    eng_engine_process(e, buf, n);
    while (eng_engine_read_meters(e, &meters) == 1) {
    } /* nobody watches meters offline */
    if (sf_writef_float(sf, buf, n) != (sf_count_t) n)
      rc = fail(ENG_ERR_IO, msg, msg_len, "render: writing %s failed (%s)", path, sf_strerror(sf));
    done += n;
  }
  if (sf_close(sf) != 0 && rc == ENG_OK)
    rc = fail(ENG_ERR_IO, msg, msg_len, "render: closing %s failed", path);
  eng_engine_destroy(e);
  return rc;
}
