/* sto_asset: content-addressed asset store. See sto_asset.h for the layout
 * on disk and the durability rules. */
#include "storage/sto_asset.h"
#include "storage/sto_err.h"
#include "storage/sto_int.h"
#include "storage/sto_resample.h"

#include <errno.h>
#include <math.h>
#include <fcntl.h>
#include <limits.h>
#include <openssl/evp.h>
#include <sndfile.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "sto_asset writes its float files in host order, which must be little-endian"
#endif

#define F32_MAGIC     "BLF32\0\1\0"
#define PEAKS_MAGIC   "BLPEAKS\1"
#define F32_HEADER    32
#define PEAKS_HEADER  (24 + STO_PEAK_LEVELS * 24)
#define IO_CHUNK      (1u << 20) /* bytes per read when hashing or copying */
#define DECODE_FRAMES 8192       /* frames per libsndfile read */
#define MAX_FRAMES    (1ull << 40)
#define INDEX_VERSION 1
#define UPLOAD_ID_MAX 64
#define NAME_MAX_LEN  256 /* sizeof sto_upload_status.name and sto_asset_info.name */

struct sto_asset_store {
  char dir[PATH_MAX - 128]; /* leaves room for "/ab/ID.RATE.peaks.tmp-XXXXXX" */
  sqlite3 *db;
  char last_error[256];
};

/* ---- Fault injection (tests) ----------------------------------------------- */

static void *xmalloc(size_t n) {
  if (sto__fault()) return NULL;
  return malloc(n ? n : 1);
}

static void *xcalloc(size_t n, size_t size) {
  if (sto__fault()) return NULL;
  return calloc(n ? n : 1, size ? size : 1);
}

/* ---- Small helpers ----------------------------------------------------------- */

/* snprintf without the compiler's truncation warnings (store paths are
 * bounded by the length check in sto_asset_store_open). */
static void pathf(char *out, size_t len, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(out, len, fmt, ap);
  va_end(ap);
}

static int db_fail(sto_asset_store *st, char *err, size_t err_len, const char *what) {
  snprintf(st->last_error, sizeof st->last_error, "%s", sqlite3_errmsg(st->db));
  return sto__fail(err, err_len, STO_ERR_IO, "%s: %s/index.db: %s", what, st->dir, st->last_error);
}

static int sys_fail(sto_asset_store *st, char *err, size_t err_len, const char *what,
                    const char *path) {
  const char *why = strerror(errno);
  pathf(st->last_error, sizeof st->last_error, "%s %s: %s", what, path, why);
  return sto__fail(err, err_len, STO_ERR_IO, "cannot %s %s: %s", what, path, why);
}

static int rename_file(const char *from, const char *to) {
  if (sto__fault()) return errno = EIO, -1;
  return rename(from, to);
}

/* Creates DIR if missing and makes its entry durable in its parent. */
static int make_dir(const char *dir) {
  if (mkdir(dir, 0755) == 0) {
    char parent[PATH_MAX];
    snprintf(parent, sizeof parent, "%s", dir);
    char *slash = strrchr(parent, '/');
    if (slash && slash != parent)
      *slash = 0;
    else
      snprintf(parent, sizeof parent, "%s", slash ? "/" : ".");
    return sto__sync_path(parent, true);
  }
  return errno == EEXIST ? 0 : -1;
}

static bool valid_id(const char *id) {
  if (!id || strlen(id) != STO_ASSET_ID_LEN) return false;
  for (const char *c = id; *c; c++)
    if (!((*c >= '0' && *c <= '9') || (*c >= 'a' && *c <= 'f'))) return false;
  return true;
}

static void hex(const unsigned char *d, size_t n, char *out) {
  static const char digits[] = "0123456789abcdef";
  for (size_t i = 0; i < n; i++)
    out[2 * i] = digits[d[i] >> 4], out[2 * i + 1] = digits[d[i] & 15];
  out[2 * n] = 0;
}

static int step_done(sqlite3_stmt *s) {
  if (sto__fault()) return SQLITE_IOERR;
  return sqlite3_step(s);
}

/* ---- Store -------------------------------------------------------------------- */

static const char index_schema[] =
    "CREATE TABLE IF NOT EXISTS assets(id TEXT PRIMARY KEY, name TEXT NOT NULL,"
    " ext TEXT NOT NULL, format TEXT NOT NULL, channels INTEGER NOT NULL, rate INTEGER NOT NULL,"
    " frames INTEGER NOT NULL, size INTEGER NOT NULL, created INTEGER NOT NULL) STRICT,"
    " WITHOUT ROWID;"
    "CREATE TABLE IF NOT EXISTS renditions(id TEXT NOT NULL, rate INTEGER NOT NULL,"
    " frames INTEGER NOT NULL, PRIMARY KEY(id, rate)) STRICT, WITHOUT ROWID;"
    "CREATE TABLE IF NOT EXISTS uploads(id TEXT PRIMARY KEY, name TEXT NOT NULL,"
    " total INTEGER NOT NULL, received INTEGER NOT NULL, updated INTEGER NOT NULL) STRICT,"
    " WITHOUT ROWID;"
    "PRAGMA user_version = 1;";

int sto_asset_store_open(const char *dir, sto_asset_store **out, char *err, size_t err_len) {
  *out = NULL;
  sto_asset_store *st = xcalloc(1, sizeof *st);
  if (!st) return sto__fail(err, err_len, STO_ERR_NOMEM, "out of memory");
  if (strlen(dir) >= sizeof st->dir) {
    free(st);
    return sto__fail(err, err_len, STO_ERR_INVALID, "%s: path too long for an asset store", dir);
  }
  snprintf(st->dir, sizeof st->dir, "%s", dir);
  char path[PATH_MAX];
  snprintf(path, sizeof path, "%s/uploads", dir);
  if (make_dir(dir) != 0 || make_dir(path) != 0) {
    int rc = sys_fail(st, err, err_len, "create", path);
    free(st);
    return rc;
  }
  snprintf(path, sizeof path, "%s/index.db", dir);
  int rc = sqlite3_open_v2(path, &st->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL);
  if (rc == SQLITE_OK) rc = sqlite3_busy_timeout(st->db, 5000);
  if (rc == SQLITE_OK) rc = sto__exec(st->db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;");
  int version = -1;
  sqlite3_stmt *s = NULL;
  if (rc == SQLITE_OK) rc = sqlite3_prepare_v2(st->db, "PRAGMA user_version", -1, &s, NULL);
  if (rc == SQLITE_OK && sqlite3_step(s) == SQLITE_ROW) version = sqlite3_column_int(s, 0);
  sqlite3_finalize(s);
  if (rc == SQLITE_OK && version > INDEX_VERSION) {
    sto__fail(err, err_len, STO_ERR_TOO_NEW,
              "%s was written by a newer Backline (index version %d; this one reads up to %d)",
              path, version, INDEX_VERSION);
    sto_asset_close(st);
    return STO_ERR_TOO_NEW;
  }
  if (rc == SQLITE_OK && version < INDEX_VERSION) rc = sto__exec(st->db, index_schema);
  /* For sto_asset_list; not part of the versioned schema, so an older
   * Backline still opens the index (and ignores it). */
  if (rc == SQLITE_OK)
    rc = sto__exec(st->db, "CREATE INDEX IF NOT EXISTS assets_newest ON assets(created DESC, id)");
  if (rc != SQLITE_OK) {
    sto__fail(err, err_len, STO_ERR_IO, "%s: %s", path,
              st->db ? sqlite3_errmsg(st->db) : "cannot open");
    sto_asset_close(st);
    return STO_ERR_IO;
  }
  *out = st;
  return STO_OK;
}

void sto_asset_close(sto_asset_store *st) {
  if (!st) return;
  sqlite3_close(st->db);
  free(st);
}

const char *sto_asset_last_error(const sto_asset_store *st) {
  return st->last_error;
}

int sto_asset_original_path(const sto_asset_store *st, const char *id, char *buf, size_t len) {
  if (!valid_id(id)) return STO_ERR_INVALID;
  int n = snprintf(buf, len, "%s/%.2s/%s.orig", st->dir, id, id);
  return n < 0 || (size_t) n >= len ? STO_ERR_INVALID : STO_OK;
}

/* ---- Index -------------------------------------------------------------------- */

#define INFO_COLUMNS                                                                               \
  "a.id, name, ext, format, channels, a.rate, a.frames, size, created,"                            \
  " (SELECT frames FROM renditions r WHERE r.id = a.id AND r.rate = ?1)"

/* Fills INFO from a row of INFO_COLUMNS; the rendition at RATE if any. */
static void row_info(sqlite3_stmt *s, uint32_t rate, sto_asset_info *info) {
  memset(info, 0, sizeof *info);
  snprintf(info->id, sizeof info->id, "%s", (const char *) sqlite3_column_text(s, 0));
  snprintf(info->name, sizeof info->name, "%s", (const char *) sqlite3_column_text(s, 1));
  snprintf(info->ext, sizeof info->ext, "%s", (const char *) sqlite3_column_text(s, 2));
  snprintf(info->format, sizeof info->format, "%s", (const char *) sqlite3_column_text(s, 3));
  info->channels = (uint32_t) sqlite3_column_int64(s, 4);
  info->orig_rate = (uint32_t) sqlite3_column_int64(s, 5);
  info->orig_frames = (uint64_t) sqlite3_column_int64(s, 6);
  info->size = (uint64_t) sqlite3_column_int64(s, 7);
  info->created = sqlite3_column_int64(s, 8);
  info->duration = info->orig_rate ? (double) info->orig_frames / info->orig_rate : 0;
  if (rate && sqlite3_column_type(s, 9) == SQLITE_INTEGER) {
    info->rate = rate;
    info->frames = (uint64_t) sqlite3_column_int64(s, 9);
  }
}

/* Fills INFO from the index. Returns STO_OK, STO_ERR_NO_ASSET or STO_ERR_IO. */
static int lookup(sto_asset_store *st, const char *id, uint32_t rate, sto_asset_info *info) {
  memset(info, 0, sizeof *info);
  sqlite3_stmt *s;
  if (sqlite3_prepare_v2(st->db, "SELECT " INFO_COLUMNS " FROM assets a WHERE a.id = ?2", -1, &s,
                         NULL) != SQLITE_OK)
    return db_fail(st, NULL, 0, "lookup");
  sqlite3_bind_int64(s, 1, rate);
  sqlite3_bind_text(s, 2, id, -1, SQLITE_STATIC);
  int rc = sqlite3_step(s), result = STO_ERR_NO_ASSET;
  if (rc == SQLITE_ROW) {
    row_info(s, rate, info);
    result = STO_OK;
  } else if (rc != SQLITE_DONE) {
    result = db_fail(st, NULL, 0, "lookup");
  }
  sqlite3_finalize(s);
  return result;
}

static int count_assets(sto_asset_store *st, uint64_t *total) {
  sqlite3_stmt *s;
  *total = 0;
  if (sqlite3_prepare_v2(st->db, "SELECT count(*) FROM assets", -1, &s, NULL) != SQLITE_OK)
    return db_fail(st, NULL, 0, "list");
  int rc = sqlite3_step(s);
  if (rc == SQLITE_ROW) *total = (uint64_t) sqlite3_column_int64(s, 0);
  sqlite3_finalize(s);
  return rc == SQLITE_ROW ? STO_OK : db_fail(st, NULL, 0, "list");
}

int sto_asset_list(sto_asset_store *st, uint64_t offset, uint32_t limit, uint32_t rate,
                   sto_asset_info **infos, size_t *n_infos, uint64_t *total) {
  *infos = NULL, *n_infos = 0, *total = 0;
  if (limit == 0) limit = STO_ASSET_LIST_LIMIT;
  if (limit > STO_ASSET_LIST_MAX || offset > INT64_MAX) return STO_ERR_INVALID;
  int rc = count_assets(st, total);
  if (rc) return rc;
  uint64_t left = offset < *total ? *total - offset : 0;
  size_t cap = left < limit ? (size_t) left : limit;
  if (cap == 0) return STO_OK;
  sto_asset_info *out = xcalloc(cap, sizeof *out);
  sqlite3_stmt *s = NULL;
  if (!out) return STO_ERR_NOMEM;
  if (sqlite3_prepare_v2(st->db,
                         "SELECT " INFO_COLUMNS " FROM assets a"
                         " ORDER BY created DESC, a.id LIMIT ?2 OFFSET ?3",
                         -1, &s, NULL) != SQLITE_OK) {
    free(out);
    return db_fail(st, NULL, 0, "list");
  }
  sqlite3_bind_int64(s, 1, rate);
  sqlite3_bind_int64(s, 2, (sqlite3_int64) cap);
  sqlite3_bind_int64(s, 3, (sqlite3_int64) offset);
  size_t n = 0;
  while (n < cap && (rc = sqlite3_step(s)) == SQLITE_ROW)
    row_info(s, rate, &out[n++]);
  rc = n == cap || rc == SQLITE_DONE ? STO_OK : db_fail(st, NULL, 0, "list");
  sqlite3_finalize(s);
  if (rc) {
    free(out);
    return rc;
  }
  *infos = out, *n_infos = n;
  return STO_OK;
}

void sto_asset_infos_free(sto_asset_info *infos) {
  free(infos);
}

int sto_asset_info_get(sto_asset_store *st, const char *id, uint32_t rate, sto_asset_info *info) {
  memset(info, 0, sizeof *info);
  if (!valid_id(id)) return STO_ERR_INVALID;
  return lookup(st, id, rate, info);
}

/* Records a new asset (if NEW_ASSET) and its rendition, in one transaction. */
static int commit_rows(sto_asset_store *st, const sto_asset_info *in, bool new_asset, char *err,
                       size_t err_len) {
  if (sto__exec(st->db, "BEGIN IMMEDIATE") != SQLITE_OK) return db_fail(st, err, err_len, "index");
  sqlite3_stmt *s = NULL;
  int rc = SQLITE_OK;
  if (new_asset) {
    rc = sqlite3_prepare_v2(st->db,
                            "INSERT OR REPLACE INTO assets VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7,"
                            " ?8, ?9)",
                            -1, &s, NULL);
    if (rc == SQLITE_OK) {
      sqlite3_bind_text(s, 1, in->id, -1, SQLITE_STATIC);
      sqlite3_bind_text(s, 2, in->name, -1, SQLITE_STATIC);
      sqlite3_bind_text(s, 3, in->ext, -1, SQLITE_STATIC);
      sqlite3_bind_text(s, 4, in->format, -1, SQLITE_STATIC);
      sqlite3_bind_int64(s, 5, in->channels);
      sqlite3_bind_int64(s, 6, in->orig_rate);
      sqlite3_bind_int64(s, 7, (sqlite3_int64) in->orig_frames);
      sqlite3_bind_int64(s, 8, (sqlite3_int64) in->size);
      sqlite3_bind_int64(s, 9, in->created);
      rc = step_done(s) == SQLITE_DONE ? SQLITE_OK : SQLITE_ERROR;
    }
    sqlite3_finalize(s);
    s = NULL;
  }
  if (rc == SQLITE_OK)
    rc = sqlite3_prepare_v2(st->db, "INSERT OR REPLACE INTO renditions VALUES(?1, ?2, ?3)", -1, &s,
                            NULL);
  if (rc == SQLITE_OK) {
    sqlite3_bind_text(s, 1, in->id, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 2, in->rate);
    sqlite3_bind_int64(s, 3, (sqlite3_int64) in->frames);
    rc = step_done(s) == SQLITE_DONE ? SQLITE_OK : SQLITE_ERROR;
  }
  sqlite3_finalize(s);
  if (rc == SQLITE_OK) rc = sto__exec(st->db, "COMMIT");
  if (rc != SQLITE_OK) {
    int code = db_fail(st, err, err_len, "index");
    if (!sqlite3_get_autocommit(st->db)) sqlite3_exec(st->db, "ROLLBACK", 0, 0, 0);
    return code;
  }
  return STO_OK;
}

/* ---- Decoding, resampling, peaks ------------------------------------------------ */

/* What the decoder found out about the original. */
typedef struct orig_meta {
  char ext[16], format[96];
  uint32_t channels, rate;
  uint64_t frames;
} orig_meta;

/* Buffers and files of one rendition being written. */
typedef struct render_job {
  int fd;          /* the .f32 temp */
  uint32_t ch;     /* channels */
  uint64_t target; /* frames the rendition must have */
  uint64_t made;   /* frames written so far */
  float *peaks[STO_PEAK_LEVELS];
  uint64_t n_peaks[STO_PEAK_LEVELS];
  uint64_t cap0; /* level-0 peaks allocated so far: grows with the audio that
                  * really decodes, never from what a header claims */
} render_job;

static void format_name(int format, char *out, size_t len, char *ext, size_t ext_len) {
  SF_FORMAT_INFO major = {.format = format & SF_FORMAT_TYPEMASK};
  SF_FORMAT_INFO sub = {.format = format & SF_FORMAT_SUBMASK};
  bool has_major = sf_command(NULL, SFC_GET_FORMAT_INFO, &major, sizeof major) == 0;
  bool has_sub = sf_command(NULL, SFC_GET_FORMAT_INFO, &sub, sizeof sub) == 0;
  snprintf(out, len, "%s%s%s", has_major ? major.name : "unknown", has_sub ? ", " : "",
           has_sub ? sub.name : "");
  snprintf(ext, ext_len, "%s", has_major && major.extension ? major.extension : "bin");
}

/* libsndfile opens a WAV or AIFF cut short and reads what is there; its
 * log says so with "(should be N)" after the size of the audio chunk. */
static bool log_says_truncated(SNDFILE *sf) {
  char log[8192];
  sf_command(sf, SFC_GET_LOG_INFO, log, sizeof log);
  for (char *line = log; line && *line;) {
    char *next = strchr(line, '\n');
    if (next) *next++ = 0;
    const char *p = line;
    while (*p == ' ')
      p++;
    bool audio_chunk = !strncmp(p, "data ", 5) || !strncmp(p, "SSND ", 5);
    const char *should = strstr(p, "(should be ");
    if (audio_chunk && should) {
      const char *colon = strchr(p, ':');
      unsigned long long said = colon ? strtoull(colon + 1, NULL, 10) : 0;
      unsigned long long is = strtoull(should + 11, NULL, 10);
      /* 0 and 0xFFFFFFFF are the placeholders of streaming writers. */
      if (said > is && said != 0xFFFFFFFFull) return true;
    }
    if (strstr(p, "> file length")) return true;
    line = next;
  }
  return false;
}

static int emit(render_job *j, const float *frames, uint64_t n) {
  if (n > j->target - j->made) n = j->target - j->made;
  uint32_t ch = j->ch;
  uint64_t need = n ? (j->made + n - 1) / STO_PEAK_FRAMES(0) + 1 : 0;
  if (need > j->cap0) {
    uint64_t cap = j->cap0 ? j->cap0 * 2 : 1024;
    if (cap < need) cap = need;
    if (cap > j->n_peaks[0]) cap = j->n_peaks[0];
    float *grown =
        sto__fault() ? NULL : realloc(j->peaks[0], (size_t) (cap * ch * 2) * sizeof(float));
    if (!grown) return errno = ENOMEM, -1;
    j->peaks[0] = grown;
    j->cap0 = cap;
  }
  float *pk = j->peaks[0];
  for (uint64_t f = 0; f < n; f++) {
    uint64_t at = j->made + f;
    float *p = pk + (at / STO_PEAK_FRAMES(0)) * ch * 2;
    const float *x = frames + f * ch;
    if (at % STO_PEAK_FRAMES(0) == 0) {
      for (uint32_t c = 0; c < ch; c++)
        p[2 * c] = p[2 * c + 1] = x[c];
    } else {
      for (uint32_t c = 0; c < ch; c++) {
        if (x[c] < p[2 * c]) p[2 * c] = x[c];
        if (x[c] > p[2 * c + 1]) p[2 * c + 1] = x[c];
      }
    }
  }
  if (n && sto__write_all(j->fd, frames, (size_t) n * ch * sizeof(float)) != 0) return -1;
  j->made += n;
  return 0;
}

/* Level L's peak k is the min/max over level L-1's peaks 4k .. 4k+3. */
static void build_levels(render_job *j) {
  uint32_t ch = j->ch;
  for (int l = 1; l < STO_PEAK_LEVELS; l++) {
    for (uint64_t k = 0; k < j->n_peaks[l]; k++) {
      float *dst = j->peaks[l] + k * ch * 2;
      uint64_t first = 4 * k, last = first + 4 < j->n_peaks[l - 1] ? first + 4 : j->n_peaks[l - 1];
      for (uint64_t q = first; q < last; q++) {
        const float *src = j->peaks[l - 1] + q * ch * 2;
        for (uint32_t c = 0; c < ch; c++) {
          if (q == first || src[2 * c] < dst[2 * c]) dst[2 * c] = src[2 * c];
          if (q == first || src[2 * c + 1] > dst[2 * c + 1]) dst[2 * c + 1] = src[2 * c + 1];
        }
      }
    }
  }
}

static int write_peaks(render_job *j, int fd) {
  unsigned char h[PEAKS_HEADER] = {0};
  memcpy(h, PEAKS_MAGIC, 8);
  uint32_t n_levels = STO_PEAK_LEVELS;
  memcpy(h + 8, &j->ch, 4);
  memcpy(h + 12, &n_levels, 4);
  memcpy(h + 16, &j->target, 8);
  uint64_t off = PEAKS_HEADER;
  for (int l = 0; l < STO_PEAK_LEVELS; l++) {
    uint32_t fpp = STO_PEAK_FRAMES(l);
    memcpy(h + 24 + 24 * l, &fpp, 4);
    memcpy(h + 24 + 24 * l + 8, &j->n_peaks[l], 8);
    memcpy(h + 24 + 24 * l + 16, &off, 8);
    off += j->n_peaks[l] * j->ch * 2 * sizeof(float);
  }
  if (sto__write_all(fd, h, sizeof h) != 0) return -1;
  for (int l = 0; l < STO_PEAK_LEVELS; l++)
    if (sto__write_all(fd, j->peaks[l], (size_t) (j->n_peaks[l] * j->ch * 2 * sizeof(float))) != 0)
      return -1;
  return 0;
}

/* Decodes SRC (LABEL in messages), writes its rendition at RATE to the open
 * temps F32_FD and PEAKS_FD (fsynced), and fills *META and *FRAMES. */
static int render(sto_asset_store *st, const char *src, const char *label, uint32_t rate,
                  int f32_fd, int peaks_fd, orig_meta *meta, uint64_t *frames, char *err,
                  size_t err_len) {
  SF_INFO sfi = {0};
  SNDFILE *sf = sf_open(src, SFM_READ, &sfi);
  if (!sf)
    return sto__fail(err, err_len, STO_ERR_NOT_AUDIO,
                     "%s is not an audio file Backline can read (%s)", label, sf_strerror(NULL));
  int rc = STO_OK;
  render_job j = {.fd = f32_fd, .ch = (uint32_t) sfi.channels};
  float *in = NULL, *out = NULL;
  sto_resampler *conv = NULL; /* NULL: the rates are the same */
  memset(meta, 0, sizeof *meta);
  format_name(sfi.format, meta->format, sizeof meta->format, meta->ext, sizeof meta->ext);
  meta->channels = (uint32_t) sfi.channels;
  meta->rate = (uint32_t) sfi.samplerate;
  meta->frames = (uint64_t) sfi.frames;
  if (sfi.channels < 1 || sfi.channels > STO_ASSET_MAX_CHANNELS) {
    rc = sto__fail(err, err_len, STO_ERR_NOT_AUDIO, "%s has %d channels; Backline takes 1 to %d",
                   label, sfi.channels, STO_ASSET_MAX_CHANNELS);
  } else if (sfi.samplerate < 1 || sfi.samplerate > STO_ASSET_MAX_RATE) {
    rc = sto__fail(err, err_len, STO_ERR_NOT_AUDIO,
                   "%s has a sample rate of %d Hz; Backline takes 1 to %d", label, sfi.samplerate,
                   STO_ASSET_MAX_RATE);
  } else if (sfi.frames <= 0) {
    rc = sto__fail(err, err_len, STO_ERR_NOT_AUDIO, "%s contains no audio", label);
  } else if (sfi.frames == SF_COUNT_MAX) {
    rc = sto__fail(err, err_len, STO_ERR_TRUNCATED,
                   "%s is truncated or corrupt: its length cannot be determined", label);
  } else if ((uint64_t) sfi.frames >= MAX_FRAMES) {
    rc = sto__fail(err, err_len, STO_ERR_TOO_BIG, "%s is too long", label);
  } else if ((double) rate / sfi.samplerate > 256 || (double) sfi.samplerate / rate > 256) {
    rc = sto__fail(err, err_len, STO_ERR_INVALID, "%s: cannot convert %d Hz to %u Hz", label,
                   sfi.samplerate, rate);
  } else if (log_says_truncated(sf)) {
    rc = sto__fail(err, err_len, STO_ERR_TRUNCATED,
                   "%s is truncated: its header promises more audio than the file holds", label);
  }
  if (rc) goto done;

  uint32_t ch = j.ch;
  uint64_t in_frames = (uint64_t) sfi.frames;
  j.target = (in_frames * rate + (uint64_t) sfi.samplerate / 2) / (uint64_t) sfi.samplerate;
  if (j.target == 0) j.target = 1;
  for (int l = 0; l < STO_PEAK_LEVELS; l++)
    j.n_peaks[l] = (j.target + STO_PEAK_FRAMES(l) - 1) / STO_PEAK_FRAMES(l);
  double ratio = (double) rate / sfi.samplerate;
  size_t out_cap = (size_t) (DECODE_FRAMES * ratio) + 64;
  if (rate != (uint32_t) sfi.samplerate) {
    rc = sto_resample_create((uint32_t) sfi.samplerate, rate, ch, &conv);
    if (rc == STO_ERR_INVALID) {
      rc = sto__fail(err, err_len, rc, "%s: cannot convert %d Hz to %u Hz", label, sfi.samplerate,
                     rate);
      goto done;
    }
    if (conv && sto_resample_out_max(conv, DECODE_FRAMES) > out_cap)
      out_cap = sto_resample_out_max(conv, DECODE_FRAMES);
  }
  in = xmalloc(sizeof(float) * DECODE_FRAMES * ch);
  out = xmalloc(sizeof(float) * out_cap * ch);
  if (!in || !out) rc = STO_ERR_NOMEM;
  if (rc) {
    sto__fail(err, err_len, rc, "%s: out of memory", label);
    goto done;
  }

  unsigned char header[F32_HEADER] = {0};
  memcpy(header, F32_MAGIC, 8);
  memcpy(header + 8, &ch, 4);
  memcpy(header + 12, &rate, 4);
  memcpy(header + 16, &j.target, 8);
  if (sto__write_all(f32_fd, header, sizeof header) != 0) goto io_error;

  uint64_t got = 0;
  bool eof = false;
  while (!eof && j.made < j.target) {
    sf_count_t n = sf_readf_float(sf, in, DECODE_FRAMES);
    if (n < 0) n = 0;
    if (n < DECODE_FRAMES) eof = true;
    for (sf_count_t i = 0; i < n * (sf_count_t) ch; i++) {
      if (isfinite(in[i])) continue;
      rc = sto__fail(err, err_len, STO_ERR_NOT_AUDIO,
                     "%s is corrupt: it holds samples that are not numbers (NaN or infinity)",
                     label);
      goto done;
    }
    got += (uint64_t) n;
    if (!conv) {
      if (emit(&j, in, (uint64_t) n) != 0) goto io_error;
      continue;
    }
    size_t made = sto_resample_process(conv, in, (size_t) n, eof, out);
    if (emit(&j, out, made) != 0) goto io_error;
  }
  if (got < in_frames) {
    rc = sto__fail(err, err_len, STO_ERR_TRUNCATED,
                   "%s is truncated or corrupt: it promises %llu frames but only %llu decode",
                   label, (unsigned long long) in_frames, (unsigned long long) got);
    goto done;
  }
  if (sf_error(sf)) {
    rc = sto__fail(err, err_len, STO_ERR_TRUNCATED, "%s is corrupt: %s", label, sf_strerror(sf));
    goto done;
  }
  memset(out, 0, sizeof(float) * out_cap * ch);
  while (j.made < j.target) {
    uint64_t pad = j.target - j.made < out_cap ? j.target - j.made : out_cap;
    if (emit(&j, out, pad) != 0) goto io_error;
  }
  /* The audio is all there: now the coarser levels, sized by what decoded. */
  for (int l = 1; l < STO_PEAK_LEVELS; l++) {
    j.peaks[l] = xcalloc((size_t) (j.n_peaks[l] * ch * 2), sizeof(float));
    if (!j.peaks[l]) {
      rc = sto__fail(err, err_len, STO_ERR_NOMEM, "%s: out of memory", label);
      goto done;
    }
  }
  build_levels(&j);
  if (write_peaks(&j, peaks_fd) != 0 || sto__sync_fd(f32_fd) != 0 || sto__sync_fd(peaks_fd) != 0)
    goto io_error;
  *frames = j.target;
  goto done;

io_error:
  rc = sys_fail(st, err, err_len, "write the rendition of", label);
done:
  for (int l = 0; l < STO_PEAK_LEVELS; l++)
    free(j.peaks[l]);
  free(in);
  free(out);
  sto_resample_destroy(conv);
  sf_close(sf);
  return rc;
}

/* ---- Import --------------------------------------------------------------------- */

enum { T_ORIG, T_F32, T_PEAKS, N_FILES };

/* The files of one import: temporaries, and their final names. */
typedef struct import_job {
  char tmp[N_FILES][PATH_MAX];
  char fin[N_FILES][PATH_MAX];
  bool renamed[N_FILES]; /* moved into place by this import */
  int fds[N_FILES];
} import_job;

static void job_init(import_job *j) {
  memset(j, 0, sizeof *j);
  for (int i = 0; i < N_FILES; i++)
    j->fds[i] = -1;
}

/* Removes whatever the import left: open temps, and renamed files. */
static void job_cleanup(import_job *j) {
  for (int i = 0; i < N_FILES; i++) {
    if (j->fds[i] >= 0) close(j->fds[i]);
    j->fds[i] = -1;
    if (j->tmp[i][0]) unlink(j->tmp[i]);
    if (j->renamed[i]) unlink(j->fin[i]);
    j->tmp[i][0] = 0;
    j->renamed[i] = false;
  }
}

static int open_temp(import_job *j, int which) {
  pathf(j->tmp[which], sizeof j->tmp[which], "%s.tmp-XXXXXX", j->fin[which]);
  if (sto__fault()) {
    j->tmp[which][0] = 0;
    return errno = EIO, -1;
  }
  j->fds[which] = mkostemp(j->tmp[which], O_CLOEXEC);
  if (j->fds[which] < 0) j->tmp[which][0] = 0;
  return j->fds[which] < 0 ? -1 : 0;
}

/* Where the import's bytes come from: a file or memory. */
typedef struct source {
  const char *path; /* or NULL */
  const unsigned char *data;
  size_t len;
} source;

/* Hashes SRC, or copies it to FD (when FD >= 0) while hashing. */
static int hash_source(const source *src, int fd, char id[STO_ASSET_ID_LEN + 1], uint64_t *size) {
  EVP_MD_CTX *md = sto__fault() ? NULL : EVP_MD_CTX_new();
  if (!md) return errno = ENOMEM, -1;
  int rc = EVP_DigestInit_ex(md, EVP_sha256(), NULL) == 1 ? 0 : (errno = EIO, -1);
  *size = 0;
  if (!src->path) {
    if (!rc && EVP_DigestUpdate(md, src->data, src->len) != 1) rc = (errno = EIO, -1);
    if (!rc && fd >= 0) rc = sto__write_all(fd, src->data, src->len);
    *size = src->len;
  } else {
    int in = rc ? -1 : open(src->path, O_RDONLY | O_CLOEXEC);
    unsigned char *buf = in < 0 ? NULL : xmalloc(IO_CHUNK);
    if (in < 0 || !buf) rc = -1;
    while (!rc) {
      ssize_t n = read(in, buf, IO_CHUNK);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) {
        rc = n < 0 ? -1 : 0;
        break;
      }
      *size += (uint64_t) n;
      if (EVP_DigestUpdate(md, buf, (size_t) n) != 1) rc = (errno = EIO, -1);
      if (!rc && fd >= 0) rc = sto__write_all(fd, buf, (size_t) n);
    }
    int saved = errno;
    free(buf);
    if (in >= 0) close(in);
    errno = saved;
  }
  unsigned char digest[32];
  unsigned int n_digest = 0;
  if (!rc && EVP_DigestFinal_ex(md, digest, &n_digest) != 1) rc = (errno = EIO, -1);
  EVP_MD_CTX_free(md);
  if (!rc) hex(digest, 32, id);
  return rc;
}

static const char *base_name(const char *path) {
  const char *slash = strrchr(path, '/');
  return slash ? slash + 1 : path;
}

/* Makes the rendition of asset ID at RATE; when NEW_ASSET, first stores the
 * original from SRC. Everything goes to temps, then is renamed into place,
 * then the index is committed; on failure all of it is removed. */
static int store_asset(sto_asset_store *st, const source *src, const char *id, bool new_asset,
                       const char *label, uint32_t rate, sto_asset_info *info, char *err,
                       size_t err_len) {
  import_job *j = xmalloc(sizeof *j);
  if (!j) return sto__fail(err, err_len, STO_ERR_NOMEM, "%s: out of memory", label);
  job_init(j);
  char shard[PATH_MAX];
  snprintf(shard, sizeof shard, "%s/%.2s", st->dir, id);
  pathf(j->fin[T_ORIG], PATH_MAX, "%s/%s.orig", shard, id);
  pathf(j->fin[T_F32], PATH_MAX, "%s/%s.%u.f32", shard, id, rate);
  pathf(j->fin[T_PEAKS], PATH_MAX, "%s/%s.%u.peaks", shard, id, rate);
  int rc = STO_OK;
  sto_asset_info fresh;
  memset(&fresh, 0, sizeof fresh);
  orig_meta meta;
  uint64_t frames = 0;

  if (make_dir(shard) != 0) {
    rc = sys_fail(st, err, err_len, "create", shard);
    goto out;
  }
  if (new_asset) {
    char check[STO_ASSET_ID_LEN + 1];
    if (open_temp(j, T_ORIG) != 0 || hash_source(src, j->fds[T_ORIG], check, &fresh.size) != 0 ||
        sto__sync_fd(j->fds[T_ORIG]) != 0) {
      rc = sys_fail(st, err, err_len, "store the original of", label);
      goto out;
    }
    if (strcmp(check, id) != 0) {
      rc = sto__fail(err, err_len, STO_ERR_IO, "%s changed while it was being imported", label);
      goto out;
    }
  }
  if (open_temp(j, T_F32) != 0 || open_temp(j, T_PEAKS) != 0) {
    rc = sys_fail(st, err, err_len, "create a temporary file in", shard);
    goto out;
  }
  rc = render(st, new_asset ? j->tmp[T_ORIG] : j->fin[T_ORIG], label, rate, j->fds[T_F32],
              j->fds[T_PEAKS], &meta, &frames, err, err_len);
  if (rc) goto out;
  for (int i = new_asset ? T_ORIG : T_F32; i < N_FILES; i++) {
    close(j->fds[i]);
    j->fds[i] = -1;
  }
  /* The original goes last: until it is in place, the asset does not exist. */
  for (int i = N_FILES - 1; i >= (new_asset ? T_ORIG : T_F32); i--) {
    if (rename_file(j->tmp[i], j->fin[i]) != 0) {
      rc = sys_fail(st, err, err_len, "rename", j->tmp[i]);
      goto out;
    }
    j->tmp[i][0] = 0;
    j->renamed[i] = true;
  }
  if (sto__sync_path(shard, true) != 0) {
    rc = sys_fail(st, err, err_len, "sync", shard);
    goto out;
  }
  if (new_asset) {
    snprintf(fresh.id, sizeof fresh.id, "%s", id);
    snprintf(fresh.name, sizeof fresh.name, "%s", label);
    snprintf(fresh.ext, sizeof fresh.ext, "%s", meta.ext);
    snprintf(fresh.format, sizeof fresh.format, "%s", meta.format);
    fresh.channels = meta.channels;
    fresh.orig_rate = meta.rate;
    fresh.orig_frames = meta.frames;
    fresh.created = (int64_t) time(NULL);
  } else if ((rc = lookup(st, id, 0, &fresh)) != STO_OK) {
    sto__fail(err, err_len, rc, "%s: %s", label, sto_strerror(rc));
    goto out;
  }
  fresh.rate = rate;
  fresh.frames = frames;
  rc = commit_rows(st, &fresh, new_asset, err, err_len);
  if (!rc) {
    memset(j->renamed, 0, sizeof j->renamed); /* they are the asset's now */
    fresh.duration = fresh.orig_rate ? (double) fresh.orig_frames / fresh.orig_rate : 0;
    *info = fresh;
  }
out:
  job_cleanup(j);
  free(j);
  return rc;
}

static int import_source(sto_asset_store *st, const source *src, const char *label, uint32_t rate,
                         sto_asset_info *info, char *err, size_t err_len) {
  memset(info, 0, sizeof *info);
  if (rate < 1 || rate > STO_ASSET_MAX_RATE)
    return sto__fail(err, err_len, STO_ERR_INVALID, "%s: project rate %u Hz is out of range", label,
                     rate);
  char id[STO_ASSET_ID_LEN + 1];
  uint64_t size;
  if (hash_source(src, -1, id, &size) != 0) {
    if (errno == ENOMEM) return sto__fail(err, err_len, STO_ERR_NOMEM, "%s: out of memory", label);
    return sys_fail(st, err, err_len, "read", src->path ? src->path : label);
  }
  int rc = lookup(st, id, rate, info);
  if (rc == STO_OK && info->rate == rate) {
    info->reused = true;
    return STO_OK;
  }
  if (rc != STO_OK && rc != STO_ERR_NO_ASSET)
    return sto__fail(err, err_len, rc, "%s: %s", label, st->last_error);
  rc = store_asset(st, src, id, rc == STO_ERR_NO_ASSET, label, rate, info, err, err_len);
  if (rc) memset(info, 0, sizeof *info);
  return rc;
}

int sto_asset_import(sto_asset_store *st, const char *path, const char *display_name,
                     uint32_t project_rate, sto_asset_info *info, char *err, size_t err_len) {
  source src = {.path = path};
  const char *label = display_name ? display_name : base_name(path);
  return import_source(st, &src, label, project_rate, info, err, err_len);
}

int sto_asset_import_mem(sto_asset_store *st, const void *data, size_t len,
                         const char *display_name, uint32_t project_rate, sto_asset_info *info,
                         char *err, size_t err_len) {
  source src = {.data = data, .len = len};
  return import_source(st, &src, display_name ? display_name : "upload", project_rate, info, err,
                       err_len);
}

int sto_asset_render(sto_asset_store *st, const char *id, uint32_t rate, sto_asset_info *info,
                     char *err, size_t err_len) {
  memset(info, 0, sizeof *info);
  if (!valid_id(id)) return sto__fail(err, err_len, STO_ERR_INVALID, "%s is not an asset id", id);
  if (rate < 1 || rate > STO_ASSET_MAX_RATE)
    return sto__fail(err, err_len, STO_ERR_INVALID, "rate %u Hz is out of range", rate);
  int rc = lookup(st, id, rate, info);
  if (rc) return sto__fail(err, err_len, rc, "asset %s: %s", id, sto_strerror(rc));
  if (info->rate == rate) {
    info->reused = true;
    return STO_OK;
  }
  char label[256];
  snprintf(label, sizeof label, "%s", info->name);
  rc = store_asset(st, NULL, id, false, label, rate, info, err, err_len);
  if (rc) memset(info, 0, sizeof *info);
  return rc;
}

/* ---- Reading --------------------------------------------------------------------- */

static int open_rendition(sto_asset_store *st, const char *id, uint32_t rate, const char *kind) {
  if (!valid_id(id)) return errno = EINVAL, -1;
  char path[PATH_MAX];
  snprintf(path, sizeof path, "%s/%.2s/%s.%u.%s", st->dir, id, id, rate, kind);
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) pathf(st->last_error, sizeof st->last_error, "%s: %s", path, strerror(errno));
  return fd;
}

static int read_at(int fd, void *buf, size_t len, uint64_t off) {
  char *p = buf;
  while (len) {
    ssize_t n = pread(fd, p, len, (off_t) off);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return -1;
    p += n, len -= (size_t) n, off += (uint64_t) n;
  }
  return 0;
}

int sto_asset_read_peaks(sto_asset_store *st, const char *id, uint32_t rate, unsigned level,
                         sto_asset_peaks *peaks) {
  memset(peaks, 0, sizeof *peaks);
  if (level >= STO_PEAK_LEVELS || !valid_id(id)) return STO_ERR_INVALID;
  int fd = open_rendition(st, id, rate, "peaks");
  if (fd < 0) return errno == ENOENT ? STO_ERR_NO_ASSET : STO_ERR_IO;
  unsigned char h[PEAKS_HEADER];
  int rc = STO_OK;
  struct stat sb;
  uint32_t ch = 0, n_levels = 0, fpp = 0;
  uint64_t n = 0, off = 0;
  if (fstat(fd, &sb) != 0 || read_at(fd, h, sizeof h, 0) != 0) {
    rc = STO_ERR_TRUNCATED;
  } else {
    memcpy(&ch, h + 8, 4);
    memcpy(&n_levels, h + 12, 4);
    memcpy(&fpp, h + 24 + 24 * level, 4);
    memcpy(&n, h + 24 + 24 * level + 8, 8);
    memcpy(&off, h + 24 + 24 * level + 16, 8);
    if (memcmp(h, PEAKS_MAGIC, 8) != 0 || n_levels != STO_PEAK_LEVELS || ch < 1 ||
        ch > STO_ASSET_MAX_CHANNELS || fpp != STO_PEAK_FRAMES(level) || n > (uint64_t) sb.st_size ||
        off + n * ch * 2 * sizeof(float) > (uint64_t) sb.st_size)
      rc = STO_ERR_TRUNCATED;
  }
  float *buf = NULL;
  if (!rc && !(buf = xmalloc((size_t) (n * ch * 2 * sizeof(float))))) rc = STO_ERR_NOMEM;
  if (!rc && read_at(fd, buf, (size_t) (n * ch * 2 * sizeof(float)), off) != 0)
    rc = STO_ERR_TRUNCATED;
  close(fd);
  if (rc) {
    free(buf);
    return rc;
  }
  peaks->frames_per_peak = fpp;
  peaks->channels = ch;
  peaks->n_peaks = n;
  peaks->minmax = buf;
  return STO_OK;
}

void sto_asset_peaks_free(sto_asset_peaks *peaks) {
  if (!peaks) return;
  free(peaks->minmax);
  memset(peaks, 0, sizeof *peaks);
}

int64_t sto_asset_read_frames(sto_asset_store *st, const char *id, uint32_t rate, uint64_t start,
                              float *out, size_t n_frames) {
  if (!valid_id(id)) return STO_ERR_INVALID;
  int fd = open_rendition(st, id, rate, "f32");
  if (fd < 0) return errno == ENOENT ? STO_ERR_NO_ASSET : STO_ERR_IO;
  unsigned char h[F32_HEADER];
  uint32_t ch = 0;
  uint64_t frames = 0;
  int64_t result = STO_ERR_IO;
  if (read_at(fd, h, sizeof h, 0) == 0 && memcmp(h, F32_MAGIC, 8) == 0) {
    memcpy(&ch, h + 8, 4);
    memcpy(&frames, h + 16, 8);
    uint64_t n = start >= frames ? 0 : frames - start;
    if (n > n_frames) n = n_frames;
    if (ch >= 1 && ch <= STO_ASSET_MAX_CHANNELS &&
        (n == 0 || read_at(fd, out, (size_t) (n * ch * sizeof(float)),
                           F32_HEADER + start * ch * sizeof(float)) == 0))
      result = (int64_t) n;
  }
  close(fd);
  return result;
}

/* ---- Chunked uploads ------------------------------------------------------------- */

static bool valid_upload_id(const char *id) {
  size_t n = id ? strlen(id) : 0;
  if (n < 1 || n > UPLOAD_ID_MAX) return false;
  for (const char *c = id; *c; c++)
    if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9') ||
          *c == '_' || *c == '-'))
      return false;
  return true;
}

static void part_path(const sto_asset_store *st, const char *id, char *out, size_t len) {
  snprintf(out, len, "%s/uploads/%s.part", st->dir, id);
}

/* Reads upload ID's row. Returns STO_OK, STO_ERR_NO_UPLOAD or STO_ERR_IO. */
static int upload_row(sto_asset_store *st, const char *id, sto_upload_status *up) {
  memset(up, 0, sizeof *up);
  sqlite3_stmt *s;
  if (sqlite3_prepare_v2(st->db, "SELECT name, total, received, updated FROM uploads WHERE id = ?1",
                         -1, &s, NULL) != SQLITE_OK)
    return db_fail(st, NULL, 0, "upload");
  sqlite3_bind_text(s, 1, id, -1, SQLITE_STATIC);
  int rc = sqlite3_step(s), result = STO_ERR_NO_UPLOAD;
  if (rc == SQLITE_ROW) {
    snprintf(up->id, sizeof up->id, "%s", id);
    snprintf(up->name, sizeof up->name, "%s", (const char *) sqlite3_column_text(s, 0));
    up->total = (uint64_t) sqlite3_column_int64(s, 1);
    up->received = (uint64_t) sqlite3_column_int64(s, 2);
    up->updated = sqlite3_column_int64(s, 3);
    result = STO_OK;
  } else if (rc != SQLITE_DONE) {
    result = db_fail(st, NULL, 0, "upload");
  }
  sqlite3_finalize(s);
  return result;
}

static int upload_write_row(sto_asset_store *st, const sto_upload_status *up) {
  sqlite3_stmt *s;
  if (sqlite3_prepare_v2(st->db, "INSERT OR REPLACE INTO uploads VALUES(?1, ?2, ?3, ?4, ?5)", -1,
                         &s, NULL) != SQLITE_OK)
    return db_fail(st, NULL, 0, "upload");
  sqlite3_bind_text(s, 1, up->id, -1, SQLITE_STATIC);
  sqlite3_bind_text(s, 2, up->name, -1, SQLITE_STATIC);
  sqlite3_bind_int64(s, 3, (sqlite3_int64) up->total);
  sqlite3_bind_int64(s, 4, (sqlite3_int64) up->received);
  sqlite3_bind_int64(s, 5, up->updated);
  int rc = step_done(s);
  sqlite3_finalize(s);
  return rc == SQLITE_DONE ? STO_OK : db_fail(st, NULL, 0, "upload");
}

int64_t sto_upload_begin(sto_asset_store *st, const char *upload_id, uint64_t total_size,
                         const char *name, uint64_t limit, char *err, size_t err_len) {
  if (!valid_upload_id(upload_id))
    return sto__fail(err, err_len, STO_ERR_INVALID, "upload id must be 1-%d of A-Z a-z 0-9 _ -",
                     UPLOAD_ID_MAX);
  if (!name || !*name || strlen(name) >= NAME_MAX_LEN)
    return sto__fail(err, err_len, STO_ERR_INVALID, "upload %s needs a name under 256 bytes",
                     upload_id);
  if (total_size > limit)
    return sto__fail(err, err_len, STO_ERR_TOO_BIG,
                     "%s is %llu bytes, over the limit of %llu bytes for an upload", name,
                     (unsigned long long) total_size, (unsigned long long) limit);
  if (total_size == 0 || total_size > INT64_MAX)
    return sto__fail(err, err_len, STO_ERR_INVALID, "%s: an upload needs a size", name);
  sto_upload_status up;
  int rc = upload_row(st, upload_id, &up);
  if (rc == STO_OK) {
    if (up.total == total_size && !strcmp(up.name, name)) return (int64_t) up.received;
    return sto__fail(err, err_len, STO_ERR_EXISTS,
                     "upload %s is already in use for %s (%llu bytes)", upload_id, up.name,
                     (unsigned long long) up.total);
  }
  if (rc != STO_ERR_NO_UPLOAD) return sto__fail(err, err_len, rc, "upload: %s", st->last_error);
  char path[PATH_MAX];
  part_path(st, upload_id, path, sizeof path);
  int fd =
      sto__fault() ? (errno = EIO, -1) : open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return sys_fail(st, err, err_len, "create", path);
  char dir[PATH_MAX];
  snprintf(dir, sizeof dir, "%s/uploads", st->dir);
  int io = sto__sync_fd(fd);
  close(fd);
  if (io == 0) io = sto__sync_path(dir, true);
  if (io != 0) {
    rc = sys_fail(st, err, err_len, "create", path);
    unlink(path);
    return rc;
  }
  snprintf(up.id, sizeof up.id, "%s", upload_id);
  snprintf(up.name, sizeof up.name, "%s", name);
  up.total = total_size;
  up.received = 0;
  up.updated = (int64_t) time(NULL);
  if ((rc = upload_write_row(st, &up)) != STO_OK) {
    unlink(path);
    return sto__fail(err, err_len, rc, "upload %s: %s", upload_id, st->last_error);
  }
  return 0;
}

int64_t sto_upload_chunk(sto_asset_store *st, const char *upload_id, uint64_t offset,
                         const void *data, size_t len, char *err, size_t err_len) {
  if (!valid_upload_id(upload_id))
    return sto__fail(err, err_len, STO_ERR_NO_UPLOAD, "no upload %s", upload_id ? upload_id : "");
  sto_upload_status up;
  int rc = upload_row(st, upload_id, &up);
  if (rc == STO_ERR_NO_UPLOAD) return sto__fail(err, err_len, rc, "no upload %s", upload_id);
  if (rc) return sto__fail(err, err_len, rc, "upload %s: %s", upload_id, st->last_error);
  if (offset != up.received)
    return sto__fail(err, err_len, STO_ERR_OFFSET,
                     "%s: chunk at byte %llu, but %llu bytes have been received; resend from there",
                     up.name, (unsigned long long) offset, (unsigned long long) up.received);
  if (len > up.total - up.received)
    return sto__fail(err, err_len, STO_ERR_TOO_BIG, "%s: chunk goes past the declared size of %llu",
                     up.name, (unsigned long long) up.total);
  char path[PATH_MAX];
  part_path(st, upload_id, path, sizeof path);
  int fd = open(path, O_WRONLY | O_CLOEXEC);
  if (fd < 0) return sys_fail(st, err, err_len, "open", path);
  /* Bytes past the recorded count were never acknowledged: drop them. */
  int io = ftruncate(fd, (off_t) up.received);
  if (io == 0 && lseek(fd, (off_t) up.received, SEEK_SET) < 0) io = -1;
  if (io == 0) io = sto__write_all(fd, data, len);
  if (io == 0) io = sto__sync_fd(fd);
  if (io != 0) {
    rc = sys_fail(st, err, err_len, "write", path); /* the next chunk truncates the tail */
    close(fd);
    return rc;
  }
  close(fd);
  up.received += len;
  up.updated = (int64_t) time(NULL);
  if ((rc = upload_write_row(st, &up)) != STO_OK)
    return sto__fail(err, err_len, rc, "upload %s: %s", upload_id, st->last_error);
  return (int64_t) up.received;
}

int sto_upload_remove(sto_asset_store *st, const char *upload_id) {
  if (!valid_upload_id(upload_id)) return STO_ERR_NO_UPLOAD;
  sto_upload_status up;
  int rc = upload_row(st, upload_id, &up);
  if (rc) return rc;
  sqlite3_stmt *s;
  if (sqlite3_prepare_v2(st->db, "DELETE FROM uploads WHERE id = ?1", -1, &s, NULL) != SQLITE_OK)
    return db_fail(st, NULL, 0, "upload");
  sqlite3_bind_text(s, 1, upload_id, -1, SQLITE_STATIC);
  rc = step_done(s);
  sqlite3_finalize(s);
  if (rc != SQLITE_DONE) return db_fail(st, NULL, 0, "upload");
  char path[PATH_MAX];
  part_path(st, upload_id, path, sizeof path);
  unlink(path);
  return STO_OK;
}

int sto_upload_finish(sto_asset_store *st, const char *upload_id, uint32_t project_rate,
                      sto_asset_info *info, char *err, size_t err_len) {
  memset(info, 0, sizeof *info);
  if (!valid_upload_id(upload_id))
    return sto__fail(err, err_len, STO_ERR_NO_UPLOAD, "no upload %s", upload_id ? upload_id : "");
  sto_upload_status up;
  int rc = upload_row(st, upload_id, &up);
  if (rc == STO_ERR_NO_UPLOAD) return sto__fail(err, err_len, rc, "no upload %s", upload_id);
  if (rc) return sto__fail(err, err_len, rc, "upload %s: %s", upload_id, st->last_error);
  if (up.received < up.total)
    return sto__fail(err, err_len, STO_ERR_INCOMPLETE,
                     "%s is incomplete: %llu of %llu bytes received", up.name,
                     (unsigned long long) up.received, (unsigned long long) up.total);
  char path[PATH_MAX];
  part_path(st, upload_id, path, sizeof path);
  rc = sto_asset_import(st, path, up.name, project_rate, info, err, err_len);
  bool refused = rc == STO_ERR_NOT_AUDIO || rc == STO_ERR_TRUNCATED || rc == STO_ERR_INVALID ||
                 rc == STO_ERR_TOO_BIG;
  /* If the removal fails, the partial is only a stale upload, listed and removable later. */
  if (rc == STO_OK || refused) sto_upload_remove(st, upload_id);
  return rc;
}

int sto_upload_list(sto_asset_store *st, int64_t older_than, sto_upload_cb cb, void *ud) {
  sqlite3_stmt *s;
  if (sqlite3_prepare_v2(st->db,
                         "SELECT id, name, total, received, updated FROM uploads"
                         " WHERE updated < ?1 ORDER BY updated, id",
                         -1, &s, NULL) != SQLITE_OK)
    return db_fail(st, NULL, 0, "upload");
  sqlite3_bind_int64(s, 1, older_than);
  int rc, result = STO_OK;
  while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
    sto_upload_status up;
    memset(&up, 0, sizeof up);
    snprintf(up.id, sizeof up.id, "%s", (const char *) sqlite3_column_text(s, 0));
    snprintf(up.name, sizeof up.name, "%s", (const char *) sqlite3_column_text(s, 1));
    up.total = (uint64_t) sqlite3_column_int64(s, 2);
    up.received = (uint64_t) sqlite3_column_int64(s, 3);
    up.updated = sqlite3_column_int64(s, 4);
    if ((result = cb(ud, &up)) != 0) break;
  }
  if (!result && rc != SQLITE_DONE) result = db_fail(st, NULL, 0, "upload");
  sqlite3_finalize(s);
  return result;
}
