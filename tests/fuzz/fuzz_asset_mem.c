/* fuzz_asset_mem: arbitrary bytes imported as audio (sto_asset_import_mem,
 * the upload path) into a store in a private temporary folder (/dev/shm
 * when there is one).
 *
 * A refusal is a known sto_err with a sentence naming the upload, and
 * leaves no file behind. An import gives an id that is the SHA-256 of the
 * bytes, sane counts (1..64 channels, rate 1..768000 Hz), a rendition of
 * exactly round(frames * 48000 / orig_rate) frames whose first frames and
 * every peak level read back finite. The store is emptied every 256
 * imports so it stays small. */
#include "tests/fuzz/fuzz_check.h"
#include "storage/sto_asset.h"
#include "storage/sto_err.h"

#include <ftw.h>
#include <math.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define RATE 48000

static char dir[64];
static sto_asset_store *store;
static unsigned n_imported;
static size_t n_files;

static int count_file(const char *p, const struct stat *sb, int type, struct FTW *ftw) {
  (void) sb, (void) ftw;
  const char *base = strrchr(p, '/');
  if (type == FTW_F && strncmp(base ? base + 1 : p, "index.db", 8) != 0) n_files++;
  return 0;
}

static size_t files_in_store(void) {
  n_files = 0;
  nftw(dir, count_file, 8, FTW_PHYS);
  return n_files;
}

static int remove_one(const char *p, const struct stat *sb, int type, struct FTW *ftw) {
  (void) sb, (void) type, (void) ftw;
  return remove(p);
}

static void close_store(void) {
  sto_asset_close(store);
  store = NULL;
  nftw(dir, remove_one, 8, FTW_DEPTH | FTW_PHYS);
}

static void open_store(void) {
  char err[600];
  if (!dir[0]) atexit(close_store);
  snprintf(dir, sizeof dir, "%s/fuzz_asset_XXXXXX",
           access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp");
  FUZZ_REQUIRE(mkdtemp(dir) != NULL, "mkdtemp %s", dir);
  int rc = sto_asset_store_open(dir, &store, err, sizeof err);
  FUZZ_REQUIRE(rc == 0, "cannot open the store: %s", err);
}

static void require_sha256(const uint8_t *data, size_t size, const char *id) {
  unsigned char md[32];
  char hex[65];
  unsigned md_len = 0;
  FUZZ_REQUIRE(EVP_Digest(data, size, md, &md_len, EVP_sha256(), NULL) == 1 && md_len == 32,
               "EVP_Digest failed");
  for (int i = 0; i < 32; i++)
    snprintf(hex + 2 * i, 3, "%02x", md[i]);
  FUZZ_REQUIRE(strcmp(hex, id) == 0, "id %s, but the bytes hash to %s", id, hex);
}

static void require_readable(const sto_asset_info *info) {
  static float frames[256 * STO_ASSET_MAX_CHANNELS];
  size_t want = info->frames < 256 ? (size_t) info->frames : 256;
  int64_t got = sto_asset_read_frames(store, info->id, RATE, 0, frames, want);
  FUZZ_REQUIRE(got == (int64_t) want, "read %lld of the first %zu frames", (long long) got, want);
  for (size_t i = 0; i < want * info->channels; i++)
    FUZZ_REQUIRE(isfinite(frames[i]), "sample %zu is not finite", i);
  for (unsigned level = 0; level < STO_PEAK_LEVELS; level++) {
    sto_asset_peaks pk;
    int rc = sto_asset_read_peaks(store, info->id, RATE, level, &pk);
    FUZZ_REQUIRE(rc == 0, "peaks level %u: %d", level, rc);
    uint64_t fpp = STO_PEAK_FRAMES(level);
    FUZZ_REQUIRE(pk.frames_per_peak == fpp && pk.channels == info->channels &&
                     pk.n_peaks == (info->frames + fpp - 1) / fpp,
                 "peaks level %u: %llu peaks of %u frames for %llu frames", level,
                 (unsigned long long) pk.n_peaks, pk.frames_per_peak,
                 (unsigned long long) info->frames);
    for (uint64_t i = 0; i < pk.n_peaks * pk.channels; i++)
      FUZZ_REQUIRE(isfinite(pk.minmax[2 * i]) && pk.minmax[2 * i] <= pk.minmax[2 * i + 1],
                   "peak %llu is not a finite min <= max", (unsigned long long) i);
    sto_asset_peaks_free(&pk);
  }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (!store) open_store();
  size_t before = files_in_store();
  sto_asset_info info;
  char err[700];
  memset(err, 0x5A, sizeof err);
  int rc = sto_asset_import_mem(store, data, size, "fuzz.wav", RATE, &info, err, sizeof err);
  if (rc) {
    FUZZ_REQUIRE(rc < 0 && strcmp(sto_strerror(rc), "unknown error") != 0, "unknown code %d", rc);
    FUZZ_REQUIRE(memchr(err, 0, sizeof err) != NULL && strstr(err, "fuzz.wav") != NULL,
                 "refused (%d) without a sentence naming the upload", rc);
    size_t after = files_in_store();
    FUZZ_REQUIRE(after == before, "a refused import (%s) left %zu files behind", err,
                 after - before);
    return 0;
  }
  require_sha256(data, size, info.id);
  FUZZ_REQUIRE(info.size == size, "size %llu of %zu bytes", (unsigned long long) info.size, size);
  FUZZ_REQUIRE(info.channels >= 1 && info.channels <= STO_ASSET_MAX_CHANNELS, "%u channels",
               info.channels);
  FUZZ_REQUIRE(info.orig_rate >= 1 && info.orig_rate <= STO_ASSET_MAX_RATE, "rate %u",
               info.orig_rate);
  FUZZ_REQUIRE(info.rate == RATE, "rendition at %u Hz", info.rate);
  /* round(frames x rate / orig_rate), but never less than one frame: a
   * sound shorter than one output frame still becomes one frame. */
  double exact = (double) info.orig_frames * RATE / info.orig_rate;
  if (exact < 1) exact = 1;
  FUZZ_REQUIRE(fabs((double) info.frames - exact) <= 0.5 + 1e-9,
               "%llu frames at %u Hz became %llu at %u Hz", (unsigned long long) info.orig_frames,
               info.orig_rate, (unsigned long long) info.frames, RATE);
  require_readable(&info);
  if (++n_imported % 256 == 0) {
    close_store();
    open_store();
  }
  return 0;
}
