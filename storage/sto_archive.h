/* sto_archive: one project as a single portable file, and back.
 *
 * An archive is an SQLite file holding a consistent copy of the project
 * database (log, snapshots, settings) and the originals of the assets it
 * uses, each cut into chunks of at most 1 MiB (so no file is limited by
 * SQLite's largest blob and none is ever held whole in memory):
 *
 *   archive(key TEXT PRIMARY KEY, value)   format = 'backline-archive', version,
 *                                          project_schema, created
 *   files(n INTEGER PRIMARY KEY, kind TEXT ('project' | 'asset'), id TEXT UNIQUE,
 *         name TEXT, ext TEXT, size INTEGER, sha256 TEXT)
 *   chunks(file INTEGER, n INTEGER, bytes BLOB, PRIMARY KEY(file, n))
 *
 * An asset's id is its SHA-256, so its checksum is its name; the project
 * copy carries its own. Import checks the archive's integrity, every
 * checksum and size, and the project's schema before it writes anything
 * that counts: a foreign, damaged or newer file is refused with a sentence
 * naming it. The project file appears (renamed from a temporary) only
 * once it and all its assets are in place; assets stored before a later
 * failure stay in the store, complete, as content-addressed assets do.
 *
 * Not thread-safe; uses the asset store it is given (whose thread rules
 * apply). Never used from the RT thread. */
#ifndef STO_ARCHIVE_H
#define STO_ARCHIVE_H

#include <stddef.h>
#include <stdint.h>

#define STO_ARCHIVE_VERSION 1 /* the archive format; an archive with a higher one is refused */

struct sto_asset_store;

typedef struct sto_archive_result {
  uint64_t project_hash; /* mdl_project_hash of the imported project */
  uint64_t last_seq;     /* its last op sequence number */
  size_t n_assets;       /* assets in the archive (all now in the store) */
} sto_archive_result;

/* Writes the project at PROJECT_PATH (a sto_project file; it may be open
 * and in use: the copy is a consistent snapshot of what is committed) and
 * the originals of the N_IDS assets ASSET_IDS (borrowed; duplicates are
 * stored once) from STORE into a new archive at OUT_PATH, which must not
 * exist. Written under a temporary name, fsynced, then renamed: on failure
 * nothing is left at OUT_PATH. Allocates (temporarily).
 * Possible errors: STO_ERR_NOT_FOUND, STO_ERR_NOT_PROJECT, STO_ERR_NO_ASSET,
 * STO_ERR_CHECKSUM (a stored original no longer matches its id),
 * STO_ERR_EXISTS, STO_ERR_IO, STO_ERR_NOMEM. */
int sto_archive_export(const char *project_path, struct sto_asset_store *store,
                       const char *const *asset_ids, size_t n_ids, const char *out_path, char *err,
                       size_t err_len);

/* Imports the archive at ARCHIVE_PATH: its assets into STORE (rendered at
 * PROJECT_RATE, deduplicated as usual) and its project as a new file at
 * PROJECT_PATH, which must not exist. An older project schema is upgraded
 * as sto_project_open does. Fills *result (zeroed on failure).
 * Possible errors: STO_ERR_NOT_ARCHIVE, STO_ERR_TOO_NEW, STO_ERR_CHECKSUM,
 * STO_ERR_NOT_PROJECT, STO_ERR_EXISTS, STO_ERR_IO, STO_ERR_NOMEM, and the
 * refusals of sto_asset_import. */
int sto_archive_import(const char *archive_path, struct sto_asset_store *store,
                       uint32_t project_rate, const char *project_path, sto_archive_result *result,
                       char *err, size_t err_len);

#endif
