/* srv_assets: the REST side of the asset store, chunked uploads, the user
 * library and project export/import, on a worker thread of its own.
 *
 * Importing audio is slow (decoding, resampling, peaks, fsyncs: about
 * 200 ms a file), so none of it runs on the control thread, which must keep
 * answering edits and relaying meters. srv_http posts every request whose
 * path srv_assets_routes() claims to srv_assets_post(); the worker handles
 * them one at a time, in arrival order, and answers through the same sink
 * as the control thread (srv_out, addressed by connection id).
 *
 * The worker owns a sto_asset_store on DATA/assets and a sto_library on
 * DATA/library.db; nothing else touches them. It never opens a project for
 * writing: an export reads a consistent copy of the committed project file
 * (sto_archive_export works while the control thread appends), and an
 * import writes a new project file and then asks the control thread to open
 * it (SRV_IN_OPEN_PROJECT), so that only the control thread owns projects.
 * The control thread answers that request itself.
 *
 * Routes (PROTOCOL.md, "Assets, uploads, library, export and import"):
 *   POST /api/uploads                      GET/DELETE /api/uploads/ID
 *   PUT  /api/uploads/ID?offset=N          POST /api/uploads/ID/finish
 *   POST /api/uploads/ID/import-project    POST /api/projects/import
 *   GET  /api/assets, /api/assets/ID, /api/assets/ID/peaks?level=N[&format=json]
 *   GET/POST /api/library, GET/PUT/DELETE /api/library/ID
 *   GET  /api/projects/ID/export
 * The query string travels in srv_in.path after a '?', each name and value
 * percent-encoded by srv_http (see srv_http.c, assets_path).
 *
 * Threads: srv_assets_routes is pure (any thread); srv_assets_post from any
 * thread; create/stop/destroy from the main thread. */
#ifndef SRV_ASSETS_H
#define SRV_ASSETS_H

#include "server/srv_control.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SRV_ASSETS_MAX_UPLOAD (512ull * 1024 * 1024) /* largest declared upload, bytes */
#define SRV_ASSETS_MAX_EXPORT (256ull * 1024 * 1024) /* largest archive sent by export (413) */

typedef struct srv_assets srv_assets;

typedef struct srv_assets_config {
  const char *data_dir;  /* DATA: assets/, library.db, projects/ (borrowed for create) */
  uint32_t project_rate; /* rate of the renditions made at import, e.g. 48000 */
  srv_control *control;  /* borrowed; receives SRV_IN_OPEN_PROJECT after an import */
} srv_assets_config;

/* True if srv_http should post a request for PATH (no query string) here
 * rather than to the control thread. Pure; any thread. */
bool srv_assets_routes(const char *path);

/* Opens DATA/assets and DATA/library.db (creating them) and starts the
 * worker. Answers go to SINK (called on the worker thread). On failure
 * *out is NULL and err holds a sentence naming the file. Possible errors:
 * SRV_ERR_START, SRV_ERR_NOMEM, SRV_ERR_STORAGE (a store or library that
 * cannot be opened, or that a newer Backline wrote). */
int srv_assets_create(const srv_assets_config *cfg, srv_sink sink, srv_assets **out, char *err,
                      size_t err_len);

/* Queues IN (a SRV_IN_HTTP request) for the worker; takes ownership. Any
 * thread; after srv_assets_stop requests are kept and freed by destroy. */
void srv_assets_post(srv_assets *a, srv_in *in);

/* Stops the worker after the request it is handling: once it returns,
 * nothing more is sent to the sink or posted to the control thread. Call it
 * before the control thread and the front are destroyed. NULL ok. */
void srv_assets_stop(srv_assets *a);

/* Stops if needed, frees queued requests and closes the store and library.
 * NULL ok. */
void srv_assets_destroy(srv_assets *a);

#endif
