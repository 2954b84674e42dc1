/* sto_take: a recorded take, written to disk while it is captured.
 *
 * The audio thread never calls this module (storage does file I/O): it
 * pushes its input into its own lock-free SPSC ring (eng_spsc), and a
 * writer thread drains that ring and hands the frames here with
 * sto_take_write. Nothing of the take is held in memory beyond one block.
 *
 * The take file is RF64 (WAV with 64-bit sizes, so a take may pass 4 GiB;
 * written as a plain WAV on close when it stays under), interleaved
 * float32, at the rate and channel count it was created with. Every
 * cfg.flush_frames frames (0.5 s by default) the header is rewritten with
 * the current length and the file is fsynced, so a crash or SIGKILL at any
 * moment leaves a file that libsndfile and other WAV readers open, holding
 * at least every frame up to the last flush, sample-exact (frames written
 * after it may be there too, beyond the length the header states).
 *
 * On sto_take_finish the file is completed and imported into the asset
 * store (sto_asset.h), which gives it an id, a rendition at the project
 * rate and peaks; the take file is then deleted. A take file left by a
 * crash is imported the same way by sto_take_recover.
 *
 * Not thread-safe: one thread (the writer) owns a sto_take. Never used
 * from the RT thread. */
#ifndef STO_TAKE_H
#define STO_TAKE_H

#include <stddef.h>
#include <stdint.h>

#define STO_TAKE_FLUSH_MS 500 /* default flush period, in frames of audio: rate / 2 */

struct sto_asset_store;
struct sto_asset_info;

typedef struct sto_take sto_take;

typedef struct sto_take_config {
  uint32_t channels;     /* 1 .. STO_ASSET_MAX_CHANNELS */
  uint32_t rate;         /* 1 .. STO_ASSET_MAX_RATE */
  uint64_t flush_frames; /* frames between flushes; 0: rate * STO_TAKE_FLUSH_MS / 1000 */
} sto_take_config;

/* A config for CHANNELS at RATE with the default flush period. */
sto_take_config sto_take_config_default(uint32_t channels, uint32_t rate);

/* ---- Recording ------------------------------------------------------------- */

/* Creates the take file at PATH, which must not exist, and makes its
 * folder entry durable. *CFG is copied. On failure nothing is left at PATH
 * and *out is NULL. Allocates; end with sto_take_finish or sto_take_discard.
 * Possible errors: STO_ERR_INVALID, STO_ERR_EXISTS, STO_ERR_IO, STO_ERR_NOMEM. */
int sto_take_create(const char *path, const sto_take_config *cfg, sto_take **out, char *err,
                    size_t err_len);

/* Appends N_FRAMES interleaved frames (FRAMES borrowed for the call), and
 * flushes whenever another flush_frames frames have been written since the
 * last flush. A sample that is not a number (NaN, infinity) is written as
 * 0 and counted (sto_take_repaired), so that one bad plug-in value does not
 * cost the take. After an error the take keeps what was flushed, and can
 * still be finished or discarded.
 * Possible errors: STO_ERR_IO (disk full, I/O error). */
int sto_take_write(sto_take *t, const float *frames, size_t n_frames, char *err, size_t err_len);

/* Rewrites the header with the current length and fsyncs the file: every
 * frame written so far survives a crash from now on. Possible errors: STO_ERR_IO. */
int sto_take_flush(sto_take *t, char *err, size_t err_len);

uint64_t sto_take_frames(const sto_take *t);   /* frames written */
uint64_t sto_take_flushed(const sto_take *t);  /* frames durable (as of the last flush) */
uint64_t sto_take_repaired(const sto_take *t); /* samples written as 0 (not numbers) */

/* ---- Ending ----------------------------------------------------------------- */

/* Completes the take file, imports it into STORE as an asset named NAME
 * (borrowed; NULL = the file's base name) with its rendition at
 * PROJECT_RATE, fills *info, and deletes the take file. Frees T whatever
 * happens. If the import fails the take file stays at its path, complete
 * and readable, and err names it (so it can be retried with
 * sto_take_recover). A take of no frames is refused (STO_ERR_NOT_AUDIO) and
 * its file removed. Possible errors: as sto_asset_import, and STO_ERR_IO. */
int sto_take_finish(sto_take *t, struct sto_asset_store *store, const char *name,
                    uint32_t project_rate, struct sto_asset_info *info, char *err, size_t err_len);

/* Closes T and deletes its file (the take is thrown away). NULL ok. */
void sto_take_discard(sto_take *t);

/* Imports the take file at PATH left by a crash (its header states the
 * frames of the last flush; anything after them is dropped) into STORE like
 * sto_take_finish, and deletes it. On failure PATH is left as it was.
 * Possible errors: STO_ERR_NOT_AUDIO (not a take, or empty), and those of
 * sto_take_finish. */
int sto_take_recover(const char *path, struct sto_asset_store *store, const char *name,
                     uint32_t project_rate, struct sto_asset_info *info, char *err, size_t err_len);

#endif
