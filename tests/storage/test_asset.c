/* Asset store: import of each format, dedupe, resampling, peaks, refusal of
 * bad files, faults leaving nothing behind, and chunked uploads. */
#include "storage/sto_asset.h"
#include "storage/sto_int.h"
#include "storage/sto_err.h"

#include <criterion/criterion.h>
#include <ftw.h>
#include <math.h>
#include <sndfile.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char dir[64], store_dir[128];
static void setup(void) {
  strcpy(dir, "/tmp/backline-asset-XXXXXX");
  cr_assert_not_null(mkdtemp(dir));
  snprintf(store_dir, sizeof store_dir, "%s/assets", dir);
}
static void teardown(void) {
  sto__fault_after(0);
  char cmd[128];
  snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
  cr_assert_eq(system(cmd), 0);
}
TestSuite(sto_asset, .init = setup, .fini = teardown);

/* Writes FRAMES frames of a sine at FREQ (channel c at FREQ * (c + 1)). */
static void write_sine(const char *path, int format, int rate, int channels, long frames,
                       double freq, double amp) {
  SF_INFO info = {.samplerate = rate, .channels = channels, .format = format};
  SNDFILE *sf = sf_open(path, SFM_WRITE, &info);
  cr_assert_not_null(sf, "%s: %s", path, sf_strerror(NULL));
  float buf[1024 * 8];
  for (long at = 0; at < frames;) {
    long n = frames - at < 1024 ? frames - at : 1024;
    for (long i = 0; i < n; i++)
      for (int c = 0; c < channels; c++)
        buf[i * channels + c] = (float) (amp * sin(2 * M_PI * freq * (c + 1) * (at + i) / rate));
    cr_assert_eq(sf_writef_float(sf, buf, n), n);
    at += n;
  }
  sf_close(sf);
}

static void path_in(char *out, size_t len, const char *name) {
  snprintf(out, len, "%s/%s", dir, name);
}

/* Regular files under the store other than its index. */
static int n_stray;
static int count_file(const char *path, const struct stat *sb, int type, struct FTW *ftw) {
  (void) sb, (void) ftw;
  if (type == FTW_F && !strstr(path, "/index.db")) n_stray++;
  return 0;
}
static int store_files(void) {
  n_stray = 0;
  cr_assert_eq(nftw(store_dir, count_file, 16, FTW_PHYS), 0);
  return n_stray;
}

static sto_asset_store *open_store(void) {
  sto_asset_store *st;
  char err[256];
  cr_assert_eq(sto_asset_store_open(store_dir, &st, err, sizeof err), 0, "%s", err);
  return st;
}

Test(sto_asset, imports_wav_aiff_flac_and_ogg) {
  static const struct {
    const char *file;
    int format;
    const char *ext;
  } cases[] = {
      {"a.wav", SF_FORMAT_WAV | SF_FORMAT_PCM_16, "wav"},
      {"a.aiff", SF_FORMAT_AIFF | SF_FORMAT_PCM_24, "aiff"},
      {"a.flac", SF_FORMAT_FLAC | SF_FORMAT_PCM_16, "flac"},
      {"a.ogg", SF_FORMAT_OGG | SF_FORMAT_VORBIS, "oga"},
  };
  sto_asset_store *st = open_store();
  char err[256], path[256];
  for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
    path_in(path, sizeof path, cases[k].file);
    write_sine(path, cases[k].format, 44100, 2, 44100 + 17 * (long) k, 440, 0.5);
    sto_asset_info info;
    cr_assert_eq(sto_asset_import(st, path, NULL, 48000, &info, err, sizeof err), 0, "%s", err);
    cr_assert_eq(strlen(info.id), STO_ASSET_ID_LEN);
    cr_assert_str_eq(info.name, cases[k].file);
    cr_assert_str_eq(info.ext, cases[k].ext);
    cr_assert_eq(info.channels, 2);
    cr_assert_eq(info.orig_rate, 44100);
    cr_assert_eq(info.orig_frames, 44100 + 17 * k);
    cr_assert_eq(info.rate, 48000);
    cr_assert_eq(info.frames, ((44100 + 17 * k) * 48000 + 22050) / 44100);
    cr_assert_not(info.reused);
    struct stat sb;
    cr_assert_eq(stat(path, &sb), 0);
    cr_assert_eq(info.size, (uint64_t) sb.st_size);
    char orig[512];
    cr_assert_eq(sto_asset_original_path(st, info.id, orig, sizeof orig), 0);
    cr_assert_eq(stat(orig, &sb), 0, "%s", orig);
    cr_assert_eq(info.size, (uint64_t) sb.st_size);
    sto_asset_info again;
    cr_assert_eq(sto_asset_info_get(st, info.id, 48000, &again), 0);
    cr_assert_str_eq(again.format, info.format);
    cr_assert_eq(again.frames, info.frames);
  }
  cr_assert_eq(store_files(), 4 * 3);
  sto_asset_close(st);
}

Test(sto_asset, identical_bytes_are_stored_once) {
  char err[256], path[256], copy[256];
  path_in(path, sizeof path, "one.wav");
  path_in(copy, sizeof copy, "two.wav");
  write_sine(path, SF_FORMAT_WAV | SF_FORMAT_PCM_16, 44100, 1, 10000, 300, 0.3);
  char cmd[600];
  snprintf(cmd, sizeof cmd, "cp %s %s", path, copy);
  cr_assert_eq(system(cmd), 0);
  sto_asset_store *st = open_store();
  sto_asset_info a, b, c;
  cr_assert_eq(sto_asset_import(st, path, "one", 48000, &a, err, sizeof err), 0, "%s", err);
  int n = store_files();
  cr_assert_eq(sto_asset_import(st, copy, "two", 48000, &b, err, sizeof err), 0, "%s", err);
  cr_assert_str_eq(a.id, b.id);
  cr_assert(b.reused);
  cr_assert_str_eq(b.name, "one", "the first name stays");
  cr_assert_eq(store_files(), n);

  FILE *f = fopen(path, "rb");
  static unsigned char bytes[1 << 16];
  size_t len = fread(bytes, 1, sizeof bytes, f);
  fclose(f);
  cr_assert_eq(sto_asset_import_mem(st, bytes, len, "mem", 48000, &c, err, sizeof err), 0, "%s",
               err);
  cr_assert_str_eq(c.id, a.id);
  cr_assert(c.reused);
  cr_assert_eq(store_files(), n);

  /* Another project rate adds a rendition, not an asset. */
  cr_assert_eq(sto_asset_import(st, copy, NULL, 96000, &c, err, sizeof err), 0, "%s", err);
  cr_assert_not(c.reused);
  cr_assert_eq(c.frames, 10000u * 96000 / 44100 + 1);
  cr_assert_eq(store_files(), n + 2);
  cr_assert_eq(sto_asset_render(st, a.id, 96000, &c, err, sizeof err), 0);
  cr_assert(c.reused);
  cr_assert_eq(sto_asset_render(st, a.id, 22050, &c, err, sizeof err), 0, "%s", err);
  cr_assert_eq(c.frames, 5000);
  cr_assert_eq(store_files(), n + 4);
  sto_asset_close(st);

  st = open_store(); /* the index survives a reopen */
  cr_assert_eq(sto_asset_info_get(st, a.id, 22050, &c), 0);
  cr_assert_eq(c.frames, 5000);
  cr_assert_eq(sto_asset_info_get(st, a.id, 12345, &c), 0);
  cr_assert_eq(c.rate, 0);
  char missing[STO_ASSET_ID_LEN + 1];
  memset(missing, 'e', STO_ASSET_ID_LEN);
  missing[STO_ASSET_ID_LEN] = 0;
  cr_assert_eq(sto_asset_info_get(st, missing, 0, &c), STO_ERR_NO_ASSET);
  cr_assert_eq(sto_asset_info_get(st, "../../etc/passwd", 0, &c), STO_ERR_INVALID);
  sto_asset_close(st);
}

/* Upward zero crossings of channel 0 between frames FROM and TO. */
static int crossings(const float *x, uint32_t ch, uint64_t from, uint64_t to) {
  int n = 0;
  for (uint64_t i = from + 1; i < to; i++)
    if (x[(i - 1) * ch] < 0 && x[i * ch] >= 0) n++;
  return n;
}

Test(sto_asset, resampling_keeps_frequency_and_duration) {
  char err[256], path[256];
  path_in(path, sizeof path, "sine.wav");
  const long frames = 3 * 44100 + 7;
  write_sine(path, SF_FORMAT_WAV | SF_FORMAT_FLOAT, 44100, 2, frames, 1000, 0.5);
  sto_asset_store *st = open_store();
  sto_asset_info info;
  cr_assert_eq(sto_asset_import(st, path, NULL, 48000, &info, err, sizeof err), 0, "%s", err);
  double want = (double) frames * 48000 / 44100;
  cr_assert_leq(fabs((double) info.frames - want), 1.0, "%llu frames for %f",
                (unsigned long long) info.frames, want);
  float *x = malloc(sizeof(float) * 2 * (info.frames + 10));
  cr_assert_eq(sto_asset_read_frames(st, info.id, 48000, 0, x, info.frames + 10),
               (int64_t) info.frames);
  /* 2 s in the middle: 2000 cycles of channel 0 (1 kHz), 4000 of channel 1. */
  int n = crossings(x, 2, 24000, 24000 + 96000);
  cr_assert(n >= 1999 && n <= 2001, "%d crossings", n);
  int n1 = crossings(x + 1, 2, 24000, 24000 + 96000);
  cr_assert(n1 >= 3999 && n1 <= 4001, "%d crossings", n1);
  float peak = 0;
  for (uint64_t i = 1000; i < info.frames - 1000; i++)
    peak = fmaxf(peak, fabsf(x[2 * i]));
  cr_assert(peak > 0.49f && peak < 0.51f, "amplitude %f", peak);
  /* A read from the middle matches the whole. */
  float part[64];
  cr_assert_eq(sto_asset_read_frames(st, info.id, 48000, 5000, part, 32), 32);
  cr_assert_eq(memcmp(part, x + 2 * 5000, sizeof part), 0);
  cr_assert_eq(sto_asset_read_frames(st, info.id, 48000, info.frames, part, 32), 0);
  cr_assert_eq(sto_asset_read_frames(st, info.id, 44100, 0, part, 32), STO_ERR_NO_ASSET);
  free(x);
  sto_asset_close(st);
}

Test(sto_asset, peaks_match_a_direct_scan) {
  char err[256], path[256];
  path_in(path, sizeof path, "p.flac");
  write_sine(path, SF_FORMAT_FLAC | SF_FORMAT_PCM_24, 44100, 3, 100003, 97, 0.8);
  sto_asset_store *st = open_store();
  sto_asset_info info;
  cr_assert_eq(sto_asset_import(st, path, NULL, 48000, &info, err, sizeof err), 0, "%s", err);
  uint32_t ch = info.channels;
  float *x = malloc(sizeof(float) * ch * info.frames);
  cr_assert_eq(sto_asset_read_frames(st, info.id, 48000, 0, x, info.frames), (int64_t) info.frames);
  for (unsigned level = 0; level < STO_PEAK_LEVELS; level++) {
    sto_asset_peaks pk;
    cr_assert_eq(sto_asset_read_peaks(st, info.id, 48000, level, &pk), 0);
    uint32_t fpp = STO_PEAK_FRAMES(level);
    cr_assert_eq(pk.frames_per_peak, fpp);
    cr_assert_eq(pk.channels, ch);
    cr_assert_eq(pk.n_peaks, (info.frames + fpp - 1) / fpp);
    for (uint64_t k = 0; k < pk.n_peaks; k++) {
      for (uint32_t c = 0; c < ch; c++) {
        float lo = INFINITY, hi = -INFINITY;
        for (uint64_t f = k * fpp; f < (k + 1) * fpp && f < info.frames; f++)
          lo = fminf(lo, x[f * ch + c]), hi = fmaxf(hi, x[f * ch + c]);
        cr_assert_eq(pk.minmax[(k * ch + c) * 2], lo, "level %u peak %llu", level,
                     (unsigned long long) k);
        cr_assert_eq(pk.minmax[(k * ch + c) * 2 + 1], hi);
      }
    }
    sto_asset_peaks_free(&pk);
    cr_assert_null(pk.minmax);
  }
  sto_asset_peaks pk;
  cr_assert_eq(sto_asset_read_peaks(st, info.id, 48000, STO_PEAK_LEVELS, &pk), STO_ERR_INVALID);
  free(x);
  sto_asset_close(st);
}

Test(sto_asset, non_audio_and_truncated_files_are_refused_leaving_nothing) {
  char err[256], path[256], cut[256], cmd[1024];
  sto_asset_store *st = open_store();
  sto_asset_info info;
  path_in(path, sizeof path, "notes.txt");
  FILE *f = fopen(path, "w");
  fputs("this is a shopping list, not a song\n", f);
  fclose(f);
  cr_assert_eq(sto_asset_import(st, path, NULL, 48000, &info, err, sizeof err), STO_ERR_NOT_AUDIO);
  cr_assert(strstr(err, "notes.txt") && strstr(err, "not an audio file"), "%s", err);
  cr_assert_eq(info.id[0], 0);
  cr_assert_eq(sto_asset_import_mem(st, "", 0, "empty.wav", 48000, &info, err, sizeof err),
               STO_ERR_NOT_AUDIO);
  cr_assert(strstr(err, "empty.wav"), "%s", err);

  static const struct {
    const char *file;
    int format;
  } cases[] = {{"t.wav", SF_FORMAT_WAV | SF_FORMAT_PCM_16},
               {"t.aiff", SF_FORMAT_AIFF | SF_FORMAT_PCM_16},
               {"t.flac", SF_FORMAT_FLAC | SF_FORMAT_PCM_16},
               {"t.ogg", SF_FORMAT_OGG | SF_FORMAT_VORBIS}};
  for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
    path_in(path, sizeof path, cases[k].file);
    snprintf(cut, sizeof cut, "%s/cut-%s", dir, cases[k].file);
    write_sine(path, cases[k].format, 44100, 2, 88200, 440, 0.5);
    snprintf(cmd, sizeof cmd, "head -c $(( $(stat -c %%s %s) * 2 / 3 )) %s > %s", path, path, cut);
    cr_assert_eq(system(cmd), 0);
    int rc = sto_asset_import(st, cut, NULL, 48000, &info, err, sizeof err);
    cr_assert(rc == STO_ERR_TRUNCATED || rc == STO_ERR_NOT_AUDIO, "%s: %d %s", cut, rc, err);
    cr_assert(strstr(err, "cut-"), "%s", err);
  }
  /* Garbage after a valid header. */
  path_in(path, sizeof path, "g.flac");
  write_sine(path, SF_FORMAT_FLAC | SF_FORMAT_PCM_16, 44100, 1, 44100, 440, 0.5);
  f = fopen(path, "r+b");
  fseek(f, 2000, SEEK_SET);
  for (int i = 0; i < 5000; i++)
    fputc(i * 7919 % 251, f);
  fclose(f);
  int rc = sto_asset_import(st, path, NULL, 48000, &info, err, sizeof err);
  cr_assert(rc == STO_ERR_TRUNCATED || rc == STO_ERR_NOT_AUDIO, "%d %s", rc, err);
  cr_assert_eq(store_files(), 0, "nothing half-stored");
  sto_asset_close(st);
}

Test(sto_asset, every_failing_step_leaves_nothing_behind) {
  char err[256], path[256];
  path_in(path, sizeof path, "f.wav");
  write_sine(path, SF_FORMAT_WAV | SF_FORMAT_PCM_16, 44100, 2, 20000, 440, 0.5);
  sto_asset_store *st = open_store();
  sto_asset_info info;
  long n;
  for (n = 1; n < 10000; n++) {
    sto__fault_after(n);
    int rc = sto_asset_import(st, path, NULL, 48000, &info, err, sizeof err);
    sto__fault_after(0);
    if (rc == 0) break;
    cr_assert_lt(rc, 0);
    cr_assert_eq(store_files(), 0, "fault %ld (%s) left files", n, err);
    cr_assert_eq(info.id[0], 0, "a failed import zeroes its info");
  }
  cr_assert_gt(n, 10, "the faults hit only %ld steps", n);
  cr_assert_eq(store_files(), 3);
  char id[STO_ASSET_ID_LEN + 1];
  strcpy(id, info.id);
  /* A new rendition of a stored asset: failures must not touch the asset. */
  for (n = 1; n < 10000; n++) {
    sto__fault_after(n);
    int rc = sto_asset_render(st, id, 32000, &info, err, sizeof err);
    sto__fault_after(0);
    if (rc == 0) break;
    cr_assert_eq(store_files(), 3, "fault %ld (%s)", n, err);
    cr_assert_eq(sto_asset_info_get(st, id, 48000, &info), 0);
    cr_assert_eq(info.rate, 48000);
  }
  cr_assert_eq(store_files(), 5);
  sto_asset_close(st);
  /* The store opens under faults too, or fails cleanly. */
  for (n = 1; n < 100; n++) {
    sto__fault_after(n);
    int rc = sto_asset_store_open(store_dir, &st, err, sizeof err);
    sto__fault_after(0);
    if (rc == 0) break;
    cr_assert_null(st);
  }
  sto_asset_close(st);
}

/* ---- Uploads ------------------------------------------------------------------ */

static unsigned char *read_file(const char *path, size_t *len) {
  FILE *f = fopen(path, "rb");
  cr_assert_not_null(f);
  fseek(f, 0, SEEK_END);
  *len = (size_t) ftell(f);
  fseek(f, 0, SEEK_SET);
  unsigned char *b = malloc(*len);
  cr_assert_eq(fread(b, 1, *len, f), *len);
  fclose(f);
  return b;
}

static int count_up(void *ud, const sto_upload_status *up) {
  (void) up;
  ++*(int *) ud;
  return 0;
}

Test(sto_asset, upload_in_chunks_resumes_after_reopen) {
  char err[256], path[256];
  path_in(path, sizeof path, "u.wav");
  write_sine(path, SF_FORMAT_WAV | SF_FORMAT_PCM_16, 44100, 2, 30000, 440, 0.5);
  size_t len;
  unsigned char *bytes = read_file(path, &len);
  sto_asset_store *st = open_store();
  cr_assert_eq(sto_upload_begin(st, "up-1", len, "u.wav", 1 << 20, err, sizeof err), 0, "%s", err);
  size_t half = len / 2;
  cr_assert_eq(sto_upload_chunk(st, "up-1", 0, bytes, 1000, err, sizeof err), 1000);
  cr_assert_eq(sto_upload_chunk(st, "up-1", 1000, bytes + 1000, half - 1000, err, sizeof err),
               (int64_t) half);
  sto_asset_close(st);

  st = open_store(); /* e.g. the server restarted */
  int n = 0;
  cr_assert_eq(sto_upload_list(st, INT64_MAX, count_up, &n), 0);
  cr_assert_eq(n, 1);
  int64_t at = sto_upload_begin(st, "up-1", len, "u.wav", 1 << 20, err, sizeof err);
  cr_assert_eq(at, (int64_t) half, "resume from what was received");
  sto_asset_info info;
  cr_assert_eq(sto_upload_finish(st, "up-1", 48000, &info, err, sizeof err), STO_ERR_INCOMPLETE);
  cr_assert(strstr(err, "u.wav") && strstr(err, "incomplete"), "%s", err);
  cr_assert_eq(
      sto_upload_chunk(st, "up-1", (uint64_t) at, bytes + at, len - (size_t) at, err, sizeof err),
      (int64_t) len);
  cr_assert_eq(sto_upload_finish(st, "up-1", 48000, &info, err, sizeof err), 0, "%s", err);
  cr_assert_str_eq(info.name, "u.wav");
  cr_assert_eq(info.size, len);
  sto_asset_info direct;
  cr_assert_eq(sto_asset_import(st, path, NULL, 48000, &direct, err, sizeof err), 0);
  cr_assert_str_eq(direct.id, info.id, "same bytes, same id");
  cr_assert(direct.reused);
  n = 0;
  cr_assert_eq(sto_upload_list(st, INT64_MAX, count_up, &n), 0);
  cr_assert_eq(n, 0, "the partial is gone");
  cr_assert_eq(sto_upload_chunk(st, "up-1", 0, bytes, 10, err, sizeof err), STO_ERR_NO_UPLOAD);
  cr_assert_eq(store_files(), 3);
  free(bytes);
  sto_asset_close(st);
}

Test(sto_asset, upload_refuses_wrong_offsets_oversize_and_bad_bytes) {
  char err[256];
  unsigned char junk[4096];
  for (size_t i = 0; i < sizeof junk; i++)
    junk[i] = (unsigned char) (i * 31);
  sto_asset_store *st = open_store();
  cr_assert_eq(sto_upload_begin(st, "big", 5000, "big.wav", 4096, err, sizeof err),
               STO_ERR_TOO_BIG);
  cr_assert(strstr(err, "big.wav") && strstr(err, "limit"), "%s", err);
  cr_assert_eq(store_files(), 0, "refused before writing");
  cr_assert_eq(sto_upload_begin(st, "../evil", 10, "x", 4096, err, sizeof err), STO_ERR_INVALID);

  cr_assert_eq(sto_upload_begin(st, "u2", 3000, "junk.wav", 4096, err, sizeof err), 0);
  cr_assert_eq(sto_upload_begin(st, "u2", 2000, "junk.wav", 4096, err, sizeof err), STO_ERR_EXISTS);
  cr_assert_eq(sto_upload_chunk(st, "u2", 0, junk, 1000, err, sizeof err), 1000);
  cr_assert_eq(sto_upload_chunk(st, "u2", 2000, junk, 1000, err, sizeof err), STO_ERR_OFFSET);
  cr_assert(strstr(err, "1000"), "%s", err);
  cr_assert_eq(sto_upload_chunk(st, "u2", 0, junk, 1000, err, sizeof err), STO_ERR_OFFSET,
               "a chunk sent twice is refused");
  cr_assert_eq(sto_upload_chunk(st, "u2", 1000, junk, 2001, err, sizeof err), STO_ERR_TOO_BIG);
  cr_assert_eq(sto_upload_chunk(st, "u2", 1000, junk, 2000, err, sizeof err), 3000);
  sto_asset_info info;
  cr_assert_eq(sto_upload_finish(st, "u2", 48000, &info, err, sizeof err), STO_ERR_NOT_AUDIO);
  cr_assert(strstr(err, "junk.wav"), "%s", err);
  cr_assert_eq(sto_upload_finish(st, "u2", 48000, &info, err, sizeof err), STO_ERR_NO_UPLOAD,
               "refused bytes are deleted");
  cr_assert_eq(store_files(), 0);

  /* A complete upload of a truncated file. */
  char path[256];
  path_in(path, sizeof path, "t.wav");
  write_sine(path, SF_FORMAT_WAV | SF_FORMAT_PCM_16, 44100, 1, 4000, 440, 0.5);
  size_t len;
  unsigned char *bytes = read_file(path, &len);
  cr_assert_eq(sto_upload_begin(st, "u3", len / 2, "t.wav", 1 << 20, err, sizeof err), 0);
  cr_assert_eq(sto_upload_chunk(st, "u3", 0, bytes, len / 2, err, sizeof err), (int64_t) (len / 2));
  cr_assert_eq(sto_upload_finish(st, "u3", 48000, &info, err, sizeof err), STO_ERR_TRUNCATED);
  cr_assert(strstr(err, "t.wav") && strstr(err, "truncated"), "%s", err);
  cr_assert_eq(store_files(), 0);

  /* Stale partials are listed and removed. */
  cr_assert_eq(sto_upload_begin(st, "old", 100, "old.wav", 4096, err, sizeof err), 0);
  cr_assert_eq(sto_upload_chunk(st, "old", 0, junk, 50, err, sizeof err), 50);
  int n = 0;
  cr_assert_eq(sto_upload_list(st, 0, count_up, &n), 0);
  cr_assert_eq(n, 0, "nothing is older than 1970");
  cr_assert_eq(sto_upload_list(st, INT64_MAX, count_up, &n), 0);
  cr_assert_eq(n, 1);
  cr_assert_eq(sto_upload_remove(st, "old"), 0);
  cr_assert_eq(sto_upload_remove(st, "old"), STO_ERR_NO_UPLOAD);
  cr_assert_eq(store_files(), 0);
  free(bytes);
  sto_asset_close(st);
}

/* Sets asset ID's creation time in the index, as if imported at T. */
static void set_created(const char *id, int64_t t) {
  char path[256], sql[200];
  snprintf(path, sizeof path, "%s/index.db", store_dir);
  sqlite3 *db;
  cr_assert_eq(sqlite3_open(path, &db), SQLITE_OK);
  snprintf(sql, sizeof sql, "UPDATE assets SET created = %lld WHERE id = '%s'", (long long) t, id);
  cr_assert_eq(sqlite3_exec(db, sql, 0, 0, 0), SQLITE_OK);
  sqlite3_close(db);
}

Test(sto_asset, list_pages_through_every_asset_newest_first) {
  sto_asset_store *st = open_store();
  char ids[5][STO_ASSET_ID_LEN + 1], path[256], err[256];
  for (int i = 0; i < 5; i++) {
    char name[32];
    snprintf(name, sizeof name, "s%d.wav", i);
    path_in(path, sizeof path, name);
    write_sine(path, SF_FORMAT_WAV | SF_FORMAT_PCM_16, 44100, 1, 4410, 100.0 * (i + 1), 0.5);
    sto_asset_info info;
    cr_assert_eq(sto_asset_import(st, path, NULL, i == 2 ? 44100 : 48000, &info, err, sizeof err),
                 0, "%s", err);
    snprintf(ids[i], sizeof ids[i], "%s", info.id);
    set_created(info.id, 1000 + i); /* s4 is the newest */
  }
  sto_asset_info *page;
  size_t n;
  uint64_t total;
  int seen = 0;
  for (uint64_t offset = 0; offset < 6; offset += 2) {
    cr_assert_eq(sto_asset_list(st, offset, 2, 48000, &page, &n, &total), 0);
    cr_assert_eq(total, 5);
    cr_assert_eq(n, offset < 4 ? 2 : 1);
    for (size_t k = 0; k < n; k++, seen++) {
      int want = 4 - seen;
      cr_assert_str_eq(page[k].id, ids[want], "position %d", seen);
      cr_assert_eq(page[k].created, 1000 + want);
      cr_assert_eq(page[k].orig_frames, 4410);
      cr_assert_eq(page[k].frames, want == 2 ? 0 : 4800, "no rendition at 48 kHz for s2");
      cr_assert_eq(page[k].rate, want == 2 ? 0 : 48000);
    }
    sto_asset_infos_free(page);
  }
  cr_assert_eq(seen, 5);
  cr_assert_eq(sto_asset_list(st, 5, 2, 48000, &page, &n, &total), 0);
  cr_assert(page == NULL && n == 0 && total == 5, "past the end: an empty page");
  cr_assert_eq(sto_asset_list(st, 0, 0, 0, &page, &n, &total), 0);
  cr_assert_eq(n, 5, "limit 0 is the default page");
  cr_assert_eq(page[0].rate, 0, "rate 0 asks for no rendition");
  sto_asset_infos_free(page);
  cr_assert_eq(sto_asset_list(st, 0, STO_ASSET_LIST_MAX + 1, 48000, &page, &n, &total),
               STO_ERR_INVALID);
  cr_assert_null(page);
  sto_asset_close(st);
}

Test(sto_asset, list_of_an_empty_store_is_empty) {
  sto_asset_store *st = open_store();
  sto_asset_info *page = (sto_asset_info *) 1;
  size_t n = 9;
  uint64_t total = 9;
  cr_assert_eq(sto_asset_list(st, 0, 10, 48000, &page, &n, &total), 0);
  cr_assert(page == NULL && n == 0 && total == 0);
  sto_asset_close(st);
}
