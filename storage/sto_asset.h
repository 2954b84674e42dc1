/* sto_asset: the content-addressed audio asset store (DATA/assets/), and
 * chunked uploads into it.
 *
 * An asset's id is the SHA-256 of the bytes it was imported from, in
 * lowercase hex, so importing the same bytes again stores nothing new.
 * Under DIR, with AB the id's first two hex digits:
 *
 *   AB/ID.orig             the original bytes (its format and extension are in the index)
 *   AB/ID.RATE.f32         the audio converted to RATE (sto_resample.h: speexdsp)
 *   AB/ID.RATE.peaks       min/max peaks of ID.RATE.f32 at STO_PEAK_LEVELS resolutions
 *   index.db               SQLite (WAL): assets, renditions, uploads
 *   uploads/UPLOAD.part    bytes of a chunked upload received so far
 *
 * ID.RATE.f32 is a 32-byte header then the frames, interleaved float32,
 * little-endian (so the engine can mmap it):
 *   0  char[8]  "BLF32\0\1\0"   magic and format version 1
 *   8  u32      channels
 *   12 u32      rate
 *   16 u64      frames
 *   24 u64      0 (reserved)
 * ID.RATE.peaks is a header then, per level, n_peaks * channels pairs of
 * float32 (min, max), peak-major:
 *   0  char[8]  "BLPEAKS\1"
 *   8  u32      channels
 *   12 u32      n_levels (STO_PEAK_LEVELS)
 *   16 u64      frames
 *   24          n_levels * {u32 frames_per_peak, u32 0, u64 n_peaks, u64 byte_offset}
 * The last peak of a level covers the frames left over (fewer than
 * frames_per_peak).
 *
 * A rendition has exactly round(frames * rate / orig_rate) frames, so its
 * duration equals the original's to within one frame.
 *
 * Every file is written under a temporary name in its final folder,
 * fsynced, renamed into place, and the folder fsynced; the index row is
 * committed last. A failed import, at any step, leaves no file behind.
 * Files without an index row (after a crash between rename and commit)
 * are invisible and are overwritten by the next import of the same bytes.
 *
 * Not thread-safe: one thread owns a sto_asset_store. Never used from the
 * RT thread (everything here does file I/O). */
#ifndef STO_ASSET_H
#define STO_ASSET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define STO_ASSET_ID_LEN       64 /* hex digits of a SHA-256 */
#define STO_PEAK_LEVELS        4  /* peak resolutions per rendition */
#define STO_PEAK_FRAMES(level) (64u << (2u * (unsigned) (level))) /* 64, 256, 1024, 4096 */
#define STO_ASSET_MAX_CHANNELS 64
#define STO_ASSET_MAX_RATE     768000
#define STO_ASSET_LIST_LIMIT   100  /* assets per sto_asset_list page when the limit is 0 */
#define STO_ASSET_LIST_MAX     1000 /* largest page */

typedef struct sto_asset_store sto_asset_store;

typedef struct sto_asset_info {
  char id[STO_ASSET_ID_LEN + 1]; /* SHA-256 of the original bytes, lowercase hex */
  char name[256];                /* display name given at the first import */
  char ext[16];                  /* the original's usual extension: "wav", "aiff", "flac", "oga" */
  char format[96]; /* the original's format, e.g. "WAV (Microsoft), Signed 16 bit PCM" */
  uint32_t channels;
  uint32_t orig_rate;   /* the original's sample rate */
  uint64_t orig_frames; /* the original's length in frames */
  uint64_t size;        /* bytes of the original */
  double duration;      /* seconds: orig_frames / orig_rate */
  int64_t created;      /* unix seconds of the first import */
  uint32_t rate;        /* the rendition described (0: none asked for, or none at that rate) */
  uint64_t frames;      /* frames of that rendition */
  bool reused;          /* import only: nothing new was stored (same bytes, same rate) */
} sto_asset_info;

typedef struct sto_asset_peaks {
  uint32_t frames_per_peak; /* STO_PEAK_FRAMES(level) */
  uint32_t channels;
  uint64_t n_peaks;
  float *minmax; /* n_peaks * channels * 2 floats: [peak][channel]{min, max} */
} sto_asset_peaks;

/* ---- Store ---------------------------------------------------------------- */

/* Opens the store in DIR, creating DIR and its index if missing. An index
 * that a newer Backline wrote is refused (STO_ERR_TOO_NEW); err gets a
 * sentence naming the file. On failure *out is NULL. Allocates; close with
 * sto_asset_close. Possible errors: STO_ERR_IO, STO_ERR_NOMEM, STO_ERR_TOO_NEW. */
int sto_asset_store_open(const char *dir, sto_asset_store **out, char *err, size_t err_len);
void sto_asset_close(sto_asset_store *st); /* NULL ok */

/* ---- Import --------------------------------------------------------------- */

/* Imports the audio file at PATH (WAV, AIFF, FLAC, Ogg, or any other
 * format libsndfile reads) and makes its rendition at PROJECT_RATE, unless
 * both are already stored (then info->reused is set and nothing is
 * written). DISPLAY_NAME (borrowed; NULL = PATH's base name) is recorded
 * for a new asset only. Fills *info, rendition included. A file that is not
 * audio, or is truncated or corrupt, is refused with a sentence naming
 * DISPLAY_NAME and the reason, and nothing stays behind. Allocates
 * (temporarily). Possible errors: STO_ERR_INVALID, STO_ERR_NOT_AUDIO,
 * STO_ERR_TRUNCATED, STO_ERR_TOO_BIG, STO_ERR_IO, STO_ERR_NOMEM. */
int sto_asset_import(sto_asset_store *st, const char *path, const char *display_name,
                     uint32_t project_rate, sto_asset_info *info, char *err, size_t err_len);

/* The same for LEN bytes at DATA (borrowed for the call), e.g. an upload.
 * DISPLAY_NAME must not be NULL. */
int sto_asset_import_mem(sto_asset_store *st, const void *data, size_t len,
                         const char *display_name, uint32_t project_rate, sto_asset_info *info,
                         char *err, size_t err_len);

/* Makes the rendition of a stored asset at RATE if it is missing, from its
 * original. Possible errors: as sto_asset_import, and STO_ERR_NO_ASSET. */
int sto_asset_render(sto_asset_store *st, const char *id, uint32_t rate, sto_asset_info *info,
                     char *err, size_t err_len);

/* ---- Reading -------------------------------------------------------------- */

/* Fills *info for asset ID, with its rendition at RATE if there is one
 * (else info->rate and info->frames are 0; RATE 0 asks for none).
 * Possible errors: STO_ERR_NO_ASSET, STO_ERR_INVALID, STO_ERR_IO. */
int sto_asset_info_get(sto_asset_store *st, const char *id, uint32_t rate, sto_asset_info *info);

/* Lists the assets, newest first (then by id), skipping OFFSET of them and
 * returning at most LIMIT (0: STO_ASSET_LIST_LIMIT; at most
 * STO_ASSET_LIST_MAX), each with its rendition at RATE if there is one (as
 * sto_asset_info_get). *infos gets an array of *n_infos (NULL and 0 when
 * none, e.g. OFFSET past the end) that the caller frees with
 * sto_asset_infos_free; *total gets the number of assets in the store.
 * Possible errors: STO_ERR_INVALID (LIMIT over STO_ASSET_LIST_MAX),
 * STO_ERR_IO, STO_ERR_NOMEM. */
int sto_asset_list(sto_asset_store *st, uint64_t offset, uint32_t limit, uint32_t rate,
                   sto_asset_info **infos, size_t *n_infos, uint64_t *total);
void sto_asset_infos_free(sto_asset_info *infos); /* NULL ok */

/* Reads the peaks of level LEVEL (0 .. STO_PEAK_LEVELS-1) of the rendition
 * of ID at RATE into *peaks; free peaks->minmax with sto_asset_peaks_free.
 * Possible errors: STO_ERR_NO_ASSET, STO_ERR_INVALID, STO_ERR_TRUNCATED
 * (damaged peaks file), STO_ERR_IO, STO_ERR_NOMEM. */
int sto_asset_read_peaks(sto_asset_store *st, const char *id, uint32_t rate, unsigned level,
                         sto_asset_peaks *peaks);
void sto_asset_peaks_free(sto_asset_peaks *peaks); /* NULL ok; zeroes *peaks */

/* Reads up to N_FRAMES interleaved float frames from frame START of the
 * rendition of ID at RATE into OUT (caller's, N_FRAMES * channels floats).
 * Returns the number of frames read (0 at or past the end), or an error.
 * Opens the file on every call: meant for previews and offline work, not
 * for streaming. Possible errors: STO_ERR_NO_ASSET, STO_ERR_IO. */
int64_t sto_asset_read_frames(sto_asset_store *st, const char *id, uint32_t rate, uint64_t start,
                              float *out, size_t n_frames);

/* Writes the path of ID's original (ID.orig) into BUF. Does not check that
 * the asset exists. Possible errors: STO_ERR_INVALID (bad id or BUF too small). */
int sto_asset_original_path(const sto_asset_store *st, const char *id, char *buf, size_t len);

/* The last SQLite or system error message, for logs. Borrowed. */
const char *sto_asset_last_error(const sto_asset_store *st);

/* ---- Chunked uploads -------------------------------------------------------
 * An upload is identified by UPLOAD_ID (1-64 of [A-Za-z0-9_-], chosen by
 * the caller, e.g. the server from the client's request). Its bytes go to
 * uploads/UPLOAD_ID.part, each chunk fsynced before its count is recorded,
 * so an upload survives a restart and resumes from sto_upload_chunk's
 * return value. */

/* Starts upload UPLOAD_ID of TOTAL_SIZE bytes named NAME (borrowed). A
 * TOTAL_SIZE above LIMIT is refused before anything is written. Beginning
 * an upload that exists with the same size and name resumes it. Returns
 * the bytes received so far (0 for a new upload).
 * Possible errors: STO_ERR_INVALID, STO_ERR_TOO_BIG, STO_ERR_EXISTS (same
 * id, other size or name), STO_ERR_IO. */
int64_t sto_upload_begin(sto_asset_store *st, const char *upload_id, uint64_t total_size,
                         const char *name, uint64_t limit, char *err, size_t err_len);

/* Appends LEN bytes at OFFSET, which must equal the bytes received so far
 * (anything else is refused, so the client resumes from the returned
 * count). Returns the bytes received after this chunk.
 * Possible errors: STO_ERR_NO_UPLOAD, STO_ERR_OFFSET, STO_ERR_TOO_BIG
 * (past the declared size), STO_ERR_IO. */
int64_t sto_upload_chunk(sto_asset_store *st, const char *upload_id, uint64_t offset,
                         const void *data, size_t len, char *err, size_t err_len);

/* Imports a complete upload like sto_asset_import and deletes the partial.
 * An incomplete upload is refused (STO_ERR_INCOMPLETE) and kept, for
 * resuming; one whose bytes are refused as audio is deleted.
 * Possible errors: STO_ERR_NO_UPLOAD, STO_ERR_INCOMPLETE, and those of
 * sto_asset_import. */
int sto_upload_finish(sto_asset_store *st, const char *upload_id, uint32_t project_rate,
                      sto_asset_info *info, char *err, size_t err_len);

typedef struct sto_upload_status {
  char id[65];
  char name[256];
  uint64_t total, received;
  int64_t updated; /* unix seconds of the last chunk (or the begin) */
} sto_upload_status;

/* Calls CB for every upload not updated since OLDER_THAN (unix seconds;
 * INT64_MAX lists all). A nonzero return from CB stops and is returned.
 * Possible errors: STO_ERR_IO, or CB's code. */
typedef int (*sto_upload_cb)(void *ud, const sto_upload_status *up);
int sto_upload_list(sto_asset_store *st, int64_t older_than, sto_upload_cb cb, void *ud);

/* Deletes upload UPLOAD_ID and its bytes. Possible errors: STO_ERR_NO_UPLOAD, STO_ERR_IO. */
int sto_upload_remove(sto_asset_store *st, const char *upload_id);

/* The test hook sto__fault_after lives in sto_int.h. */

#endif
