/* sto_take: recorded takes written as they are captured. See sto_take.h. */
#include "storage/sto_take.h"
#include "storage/sto_asset.h"
#include "storage/sto_err.h"
#include "storage/sto_int.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <sndfile.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define BLOCK_FRAMES 4096 /* frames copied (and repaired) per libsndfile write */

struct sto_take {
  char path[PATH_MAX];
  int fd; /* owned; libsndfile writes through it but does not close it */
  SNDFILE *sf;
  sto_take_config cfg;
  uint64_t frames, flushed, repaired;
  float *block; /* BLOCK_FRAMES * channels */
};

sto_take_config sto_take_config_default(uint32_t channels, uint32_t rate) {
  return (sto_take_config){.channels = channels, .rate = rate, .flush_frames = 0};
}

/* ---- Helpers ------------------------------------------------------------------ */

/* fsyncs the folder holding PATH, so that its entry (or its removal) is durable. */
static int sync_parent(const char *path) {
  char dir[PATH_MAX];
  snprintf(dir, sizeof dir, "%s", path);
  char *slash = strrchr(dir, '/');
  if (!slash) return sto__sync_path(".", true);
  if (slash == dir)
    slash[1] = 0;
  else
    *slash = 0;
  return sto__sync_path(dir, true);
}

static const char *base_name(const char *path) {
  const char *slash = strrchr(path, '/');
  return slash ? slash + 1 : path;
}

static void take_free(sto_take *t) {
  if (t->sf) sf_close(t->sf);
  if (t->fd >= 0) close(t->fd);
  free(t->block);
  free(t);
}

/* ---- Recording ------------------------------------------------------------------ */

static int check_config(const sto_take_config *cfg, char *err, size_t err_len) {
  if (cfg->channels < 1 || cfg->channels > STO_ASSET_MAX_CHANNELS)
    return sto__fail(err, err_len, STO_ERR_INVALID, "a take has 1 to %d channels, not %u",
                     STO_ASSET_MAX_CHANNELS, cfg->channels);
  if (cfg->rate < 1 || cfg->rate > STO_ASSET_MAX_RATE)
    return sto__fail(err, err_len, STO_ERR_INVALID, "a take's rate is 1 to %d Hz, not %u",
                     STO_ASSET_MAX_RATE, cfg->rate);
  return STO_OK;
}

/* Opens libsndfile on T's fd: RF64 float32, no PEAK chunk (it would be
 * rescanned on every write), plain WAV on close if the take stays small. */
static int open_writer(sto_take *t) {
  SF_INFO info = {.samplerate = (int) t->cfg.rate,
                  .channels = (int) t->cfg.channels,
                  .format = SF_FORMAT_RF64 | SF_FORMAT_FLOAT};
  t->sf = sto__fault() ? NULL : sf_open_fd(t->fd, SFM_WRITE, &info, SF_FALSE);
  if (!t->sf) return -1;
  sf_command(t->sf, SFC_SET_ADD_PEAK_CHUNK, NULL, SF_FALSE);
  sf_command(t->sf, SFC_RF64_AUTO_DOWNGRADE, NULL, SF_TRUE);
  return 0;
}

int sto_take_create(const char *path, const sto_take_config *cfg, sto_take **out, char *err,
                    size_t err_len) {
  *out = NULL;
  int rc = check_config(cfg, err, err_len);
  if (rc) return rc;
  if (strlen(path) >= PATH_MAX)
    return sto__fail(err, err_len, STO_ERR_INVALID, "%s: path too long for a take", path);
  sto_take *t = sto__fault() ? NULL : calloc(1, sizeof *t);
  float *block = sto__fault() ? NULL : malloc(sizeof(float) * BLOCK_FRAMES * cfg->channels);
  if (!t || !block) {
    free(t);
    free(block);
    return sto__fail(err, err_len, STO_ERR_NOMEM, "%s: out of memory", path);
  }
  snprintf(t->path, sizeof t->path, "%s", path);
  t->cfg = *cfg;
  if (!t->cfg.flush_frames) t->cfg.flush_frames = (uint64_t) cfg->rate * STO_TAKE_FLUSH_MS / 1000;
  if (!t->cfg.flush_frames) t->cfg.flush_frames = 1;
  t->block = block;
  t->fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (t->fd < 0) {
    rc = sto__fail(err, err_len, errno == EEXIST ? STO_ERR_EXISTS : STO_ERR_IO,
                   "cannot create the take %s: %s", path, strerror(errno));
    take_free(t);
    return rc;
  }
  /* A header (of no frames) is on disk before the first frame is. */
  if (open_writer(t) != 0 || sto_take_flush(t, NULL, 0) != 0 || sync_parent(path) != 0) {
    rc = sto__fail(err, err_len, STO_ERR_IO, "cannot start the take %s: %s", path,
                   t->sf ? strerror(errno) : sf_strerror(NULL));
    take_free(t);
    unlink(path);
    return rc;
  }
  *out = t;
  return STO_OK;
}

/* Copies N frames into T's block, writing NaN and infinities as 0. */
static const float *repaired_block(sto_take *t, const float *frames, size_t n) {
  size_t n_samples = n * t->cfg.channels;
  memcpy(t->block, frames, n_samples * sizeof(float));
  for (size_t i = 0; i < n_samples; i++)
    if (!isfinite(t->block[i])) t->block[i] = 0, t->repaired++;
  return t->block;
}

int sto_take_write(sto_take *t, const float *frames, size_t n_frames, char *err, size_t err_len) {
  while (n_frames) {
    size_t n = n_frames < BLOCK_FRAMES ? n_frames : BLOCK_FRAMES;
    const float *block = repaired_block(t, frames, n);
    sf_count_t wrote = sto__fault() ? 0 : sf_writef_float(t->sf, block, (sf_count_t) n);
    if (wrote > 0) t->frames += (uint64_t) wrote;
    if (wrote != (sf_count_t) n)
      return sto__fail(err, err_len, STO_ERR_IO,
                       "cannot write the take %s (%s); everything up to %.1f s is kept", t->path,
                       sf_error(t->sf) ? sf_strerror(t->sf) : "I/O error",
                       (double) t->flushed / t->cfg.rate);
    frames += n * t->cfg.channels;
    n_frames -= n;
    if (t->frames - t->flushed >= t->cfg.flush_frames) {
      int rc = sto_take_flush(t, err, err_len);
      if (rc) return rc;
    }
  }
  return STO_OK;
}

int sto_take_flush(sto_take *t, char *err, size_t err_len) {
  /* libsndfile takes the length for the header from the file's size. */
  sf_command(t->sf, SFC_UPDATE_HEADER_NOW, NULL, 0);
  if (sf_error(t->sf) || sto__sync_fd(t->fd) != 0)
    return sto__fail(err, err_len, STO_ERR_IO, "cannot save the take %s: %s", t->path,
                     sf_error(t->sf) ? sf_strerror(t->sf) : strerror(errno));
  t->flushed = t->frames;
  return STO_OK;
}

uint64_t sto_take_frames(const sto_take *t) {
  return t->frames;
}

uint64_t sto_take_flushed(const sto_take *t) {
  return t->flushed;
}

uint64_t sto_take_repaired(const sto_take *t) {
  return t->repaired;
}

/* ---- Ending ---------------------------------------------------------------------- */

void sto_take_discard(sto_take *t) {
  if (!t) return;
  char path[PATH_MAX];
  snprintf(path, sizeof path, "%s", t->path);
  take_free(t);
  unlink(path);
  sync_parent(path);
}

/* Completes T's file: the final header, then fsync. */
static int complete(sto_take *t, char *err, size_t err_len) {
  int bad = sf_close(t->sf);
  t->sf = NULL;
  if (bad || sto__sync_fd(t->fd) != 0)
    return sto__fail(err, err_len, STO_ERR_IO, "cannot complete the take %s: %s", t->path,
                     bad ? sf_error_number(bad) : strerror(errno));
  return STO_OK;
}

/* Imports the completed take file at PATH and deletes it; on failure PATH stays. */
static int import_file(const char *path, struct sto_asset_store *store, const char *name,
                       uint32_t project_rate, struct sto_asset_info *info, char *err,
                       size_t err_len) {
  int rc = sto_asset_import(store, path, name, project_rate, info, err, err_len);
  if (rc) return rc;
  unlink(path); /* the store holds its own copy now */
  sync_parent(path);
  return STO_OK;
}

int sto_take_finish(sto_take *t, struct sto_asset_store *store, const char *name,
                    uint32_t project_rate, struct sto_asset_info *info, char *err, size_t err_len) {
  memset(info, 0, sizeof *info);
  if (t->frames == 0) {
    int rc = sto__fail(err, err_len, STO_ERR_NOT_AUDIO, "the take %s holds no audio", t->path);
    sto_take_discard(t);
    return rc;
  }
  char path[PATH_MAX], why[600];
  snprintf(path, sizeof path, "%s", t->path);
  int rc = complete(t, err, err_len);
  take_free(t);
  if (rc) return rc;
  rc = import_file(path, store, name ? name : base_name(path), project_rate, info, why, sizeof why);
  if (rc) return sto__fail(err, err_len, rc, "%s (the take is kept at %s)", why, path);
  return STO_OK;
}

/* Copies the frames SF's header states into the new take T. */
static int copy_frames(SNDFILE *sf, sto_take *t, char *err, size_t err_len) {
  float *buf = sto__fault() ? NULL : malloc(sizeof(float) * BLOCK_FRAMES * t->cfg.channels);
  if (!buf) return sto__fail(err, err_len, STO_ERR_NOMEM, "out of memory");
  int rc = STO_OK;
  sf_count_t n;
  while (!rc && (n = sf_readf_float(sf, buf, BLOCK_FRAMES)) > 0)
    rc = sto_take_write(t, buf, (size_t) n, err, err_len);
  free(buf);
  return rc;
}

int sto_take_recover(const char *path, struct sto_asset_store *store, const char *name,
                     uint32_t project_rate, struct sto_asset_info *info, char *err,
                     size_t err_len) {
  memset(info, 0, sizeof *info);
  SF_INFO in = {0};
  SNDFILE *sf = sf_open(path, SFM_READ, &in);
  if (!sf)
    return sto__fail(err, err_len, STO_ERR_NOT_AUDIO, "%s is not a take Backline can read (%s)",
                     path, sf_strerror(NULL));
  if (in.frames <= 0) {
    sf_close(sf);
    return sto__fail(err, err_len, STO_ERR_NOT_AUDIO, "the take %s holds no audio", path);
  }
  /* A fresh copy of exactly the stated frames: whatever the crash left
   * after the last flush is not part of the take. */
  char copy[PATH_MAX + 16];
  snprintf(copy, sizeof copy, "%s.recover", path);
  unlink(copy); /* an earlier recovery that failed */
  sto_take_config cfg = sto_take_config_default((uint32_t) in.channels, (uint32_t) in.samplerate);
  cfg.flush_frames = UINT64_MAX; /* one fsync, at the end */
  sto_take *t;
  int rc = sto_take_create(copy, &cfg, &t, err, err_len);
  if (!rc) rc = copy_frames(sf, t, err, err_len);
  sf_close(sf);
  if (!rc) rc = complete(t, err, err_len);
  if (t) take_free(t);
  if (!rc)
    rc = import_file(copy, store, name ? name : base_name(path), project_rate, info, err, err_len);
  if (rc) {
    unlink(copy);
    return rc;
  }
  unlink(path);
  sync_parent(path);
  return STO_OK;
}
