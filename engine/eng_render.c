/* eng_render.c: offline render to WAV/FLAC with libsndfile, stems through the
 * engine's tap, loudness through eng_loudness (see eng_render.h). */
#include "engine/eng_render.h"
#include "engine/eng_engine.h"
#include "engine/eng_engine_int.h"
#include "engine/eng_err.h"
#include "engine/eng_loudness.h"

#include <errno.h>
#include <math.h>
#include <sndfile.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

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

eng_render_opts eng_render_opts_default(void) {
  eng_render_opts o = {.seconds = 10.0, .format = ENG_RENDER_AUTO, .stems_dir = NULL};
  return o;
}

/* ENG_RENDER_WAV or _FLAC for `path`, or 0 if the extension is neither. */
static uint32_t format_of(const char *path) {
  const char *dot = strrchr(path, '.');
  if (dot && strchr(dot, '/')) dot = NULL;
  if (dot && strcasecmp(dot, ".wav") == 0) return ENG_RENDER_WAV;
  if (dot && strcasecmp(dot, ".flac") == 0) return ENG_RENDER_FLAC;
  return 0;
}

static SNDFILE *open_out(const char *path, uint32_t format, uint32_t sr) {
  SF_INFO info = {.samplerate = (int) sr,
                  .channels = 2,
                  .format = (format == ENG_RENDER_FLAC ? SF_FORMAT_FLAC : SF_FORMAT_WAV) |
                            SF_FORMAT_PCM_24};
  SNDFILE *sf = sf_open(path, SFM_WRITE, &info);
  if (sf) sf_command(sf, SFC_SET_CLIPPING, NULL, SF_TRUE);
  return sf;
}

/* Everything a render holds, so one function frees it on every path. */
typedef struct render_job {
  eng_engine *e;
  eng_loudness *loud;
  SNDFILE *master;
  uint32_t n_stems;
  SNDFILE **stems; /* n_stems */
  char **stem_paths;
  float *tap; /* n_stems * 2 * RENDER_BLOCK */
} render_job;

static int job_close(render_job *j, int rc, char *msg, size_t msg_len, const char *path) {
  if (j->master && sf_close(j->master) != 0 && rc == ENG_OK)
    rc = fail(ENG_ERR_IO, msg, msg_len, "render: closing %s failed", path);
  for (uint32_t i = 0; j->stems && i < j->n_stems; i++)
    if (j->stems[i] && sf_close(j->stems[i]) != 0 && rc == ENG_OK)
      rc = fail(ENG_ERR_IO, msg, msg_len, "render: closing %s failed", j->stem_paths[i]);
  for (uint32_t i = 0; j->stem_paths && i < j->n_stems; i++)
    free(j->stem_paths[i]);
  free(j->stem_paths);
  free(j->stems);
  free(j->tap);
  eng_loudness_destroy(j->loud);
  eng_engine_destroy(j->e);
  return rc;
}

static int open_stems(render_job *j, const eng_plan_desc *d, const eng_render_opts *o,
                      uint32_t format, char *msg, size_t msg_len) {
  if (mkdir(o->stems_dir, 0777) != 0 && errno != EEXIST)
    return fail(ENG_ERR_IO, msg, msg_len, "render: cannot create the stems folder %s (%s)",
                o->stems_dir, strerror(errno));
  j->n_stems = d->n_tracks;
  j->stems = calloc(d->n_tracks ? d->n_tracks : 1, sizeof *j->stems);
  j->stem_paths = calloc(d->n_tracks ? d->n_tracks : 1, sizeof *j->stem_paths);
  j->tap = calloc((size_t) (d->n_tracks ? d->n_tracks : 1) * 2 * RENDER_BLOCK, sizeof(float));
  if (!j->stems || !j->stem_paths || !j->tap)
    return fail(ENG_ERR_NOMEM, msg, msg_len, "render: out of memory");
  const char *ext = format == ENG_RENDER_FLAC ? "flac" : "wav";
  for (uint32_t i = 0; i < d->n_tracks; i++) {
    size_t len = strlen(o->stems_dir) + 48;
    j->stem_paths[i] = malloc(len);
    if (!j->stem_paths[i]) return fail(ENG_ERR_NOMEM, msg, msg_len, "render: out of memory");
    snprintf(j->stem_paths[i], len, "%s/track-%llu.%s", o->stems_dir,
             (unsigned long long) d->tracks[i].track_id, ext);
    j->stems[i] = open_out(j->stem_paths[i], format, d->sample_rate);
    if (!j->stems[i])
      return fail(ENG_ERR_IO, msg, msg_len, "render: cannot write %s (%s)", j->stem_paths[i],
                  sf_strerror(NULL));
  }
  eng__engine_set_tap(j->e, j->tap, d->n_tracks, RENDER_BLOCK);
  return ENG_OK;
}

int eng_render(const eng_plan_desc *d, const char *path, const eng_render_opts *o,
               eng_render_report *report, char *msg, size_t msg_len) {
  if (msg && msg_len) msg[0] = '\0';
  if (report) memset(report, 0, sizeof *report);
  if (!d || !path || !o)
    return fail(ENG_ERR_INVALID, msg, msg_len, "render: no description, path or options");
  if (!(o->seconds > 0.0 && o->seconds <= ENG_RENDER_MAX_SECONDS))
    return fail(ENG_ERR_INVALID, msg, msg_len, "render: length %g s is out of range", o->seconds);
  uint32_t format = o->format == ENG_RENDER_AUTO ? format_of(path) : o->format;
  if (format != ENG_RENDER_WAV && format != ENG_RENDER_FLAC)
    return fail(ENG_ERR_INVALID, msg, msg_len,
                o->format == ENG_RENDER_AUTO
                    ? "render: cannot tell the format of %s: name it .wav or .flac"
                    : "render: unknown format for %s",
                path);

  char why[256];
  eng_plan *plan = NULL;
  int rc = eng_plan_compile(d, &plan, why, sizeof why);
  if (rc != ENG_OK) return fail(rc, msg, msg_len, "render: the plan was refused: %s", why);

  render_job j = {0};
  eng_config cfg = eng_config_default();
  cfg.sample_rate = d->sample_rate;
  cfg.block_frames = RENDER_BLOCK;
  rc = eng_engine_create(&cfg, &j.e);
  if (rc != ENG_OK) {
    eng_plan_destroy(plan);
    return fail(rc, msg, msg_len, "render: cannot create the engine (%s)", eng_strerror(rc));
  }
  rc = eng_engine_set_plan(j.e, plan); /* takes the plan */
  if (rc == ENG_OK) rc = eng_engine_set_playing(j.e, true);
  if (rc != ENG_OK) {
    rc = fail(rc, msg, msg_len, "render: cannot start the engine (%s)", eng_strerror(rc));
    return job_close(&j, rc, msg, msg_len, path);
  }
  rc = eng_loudness_create(d->sample_rate, &j.loud);
  if (rc != ENG_OK) {
    rc = fail(rc, msg, msg_len, "render: cannot create the loudness meter (%s)", eng_strerror(rc));
    return job_close(&j, rc, msg, msg_len, path);
  }
  j.master = open_out(path, format, d->sample_rate);
  if (!j.master) {
    rc = fail(ENG_ERR_IO, msg, msg_len, "render: cannot write %s (%s)", path, sf_strerror(NULL));
    return job_close(&j, rc, msg, msg_len, path);
  }
  if (o->stems_dir && (rc = open_stems(&j, d, o, format, msg, msg_len)) != ENG_OK)
    return job_close(&j, rc, msg, msg_len, path);

  float buf[RENDER_BLOCK * 2];
  eng_meter_frame meters;
  uint64_t total = (uint64_t) llround(o->seconds * d->sample_rate);
  for (uint64_t done = 0; done < total && rc == ENG_OK;) {
    uint32_t n = total - done < RENDER_BLOCK ? (uint32_t) (total - done) : RENDER_BLOCK;
    eng_engine_process(j.e, buf, n);
    while (eng_engine_read_meters(j.e, &meters) == 1) {
    } /* nobody watches meters offline */
    if (eng_loudness_add(j.loud, buf, n) != ENG_OK)
      rc = fail(ENG_ERR_NOMEM, msg, msg_len, "render: out of memory while measuring loudness");
    if (rc == ENG_OK && sf_writef_float(j.master, buf, n) != (sf_count_t) n)
      rc = fail(ENG_ERR_IO, msg, msg_len, "render: writing %s failed (%s)", path,
                sf_strerror(j.master));
    for (uint32_t i = 0; rc == ENG_OK && i < j.n_stems; i++)
      if (sf_writef_float(j.stems[i], j.tap + (size_t) i * 2 * RENDER_BLOCK, n) != (sf_count_t) n)
        rc = fail(ENG_ERR_IO, msg, msg_len, "render: writing %s failed (%s)", j.stem_paths[i],
                  sf_strerror(j.stems[i]));
    done += n;
  }
  eng_loudness_result lr;
  if (rc == ENG_OK && report && eng_loudness_get(j.loud, &lr) == ENG_OK) {
    report->frames = total;
    report->n_stems = j.n_stems;
    report->loudness_lufs = lr.integrated_lufs;
    report->true_peak_dbtp = lr.true_peak_dbtp;
    report->sample_peak_dbfs = lr.sample_peak_dbfs;
  }
  rc = job_close(&j, rc, msg, msg_len, path);
  if (rc != ENG_OK && report) memset(report, 0, sizeof *report);
  return rc;
}

int eng_render_wav(const eng_plan_desc *d, const char *path, double seconds, char *msg,
                   size_t msg_len) {
  eng_render_opts o = eng_render_opts_default();
  o.seconds = seconds;
  o.format = ENG_RENDER_WAV;
  return eng_render(d, path, &o, NULL, msg, msg_len);
}
