/* sto_project: one project = one SQLite file (WAL) holding its op log.
 *
 *   meta(key TEXT PRIMARY KEY, value)      schema version, project id, counters
 *   ops(seq INTEGER PRIMARY KEY, origin INTEGER, txn BLOB)
 *   snapshots(seq INTEGER PRIMARY KEY, schema INTEGER, state BLOB)   (since schema 2)
 *   clients(client INTEGER PRIMARY KEY, last_local INTEGER)           (since schema 3)
 *
 * A transaction is stored in its wire encoding (proto_encode_txn) under its
 * sequence number, and sto_project_append returns only once it is durable
 * (synchronous=FULL): the server acknowledges after that, never before.
 * Reopening a project and replaying the log reaches the same state hash.
 *
 * Not thread-safe: one thread (the server's control thread) owns a
 * sto_project. Never used from the RT thread. */
#ifndef STO_PROJECT_H
#define STO_PROJECT_H

#include <stddef.h>
#include <stdint.h>

#define STO_SCHEMA_VERSION 3 /* see the migrations in sto_project.c */

typedef struct sto_project sto_project;

typedef enum { STO_OPEN_EXISTING = 0, STO_OPEN_CREATE = 1 } sto_open_mode;

/* Opens (or with STO_OPEN_CREATE, creates) the project database at PATH.
 * A file that is not SQLite or has no Backline schema is refused
 * (STO_ERR_NOT_PROJECT), a newer schema too (STO_ERR_TOO_NEW); err gets a
 * sentence naming the file. On failure *out is NULL. Allocates.
 * Possible errors: STO_ERR_IO, STO_ERR_NOT_PROJECT, STO_ERR_TOO_NEW, STO_ERR_NOT_FOUND. */
int sto_project_open(const char *path, sto_open_mode mode, sto_project **out, char *err,
                     size_t err_len);
void sto_project_close(sto_project *sp); /* NULL ok */

/* Appends one transaction at SEQ (must be last_seq + 1), durably.
 * Possible errors: STO_ERR_SEQ, STO_ERR_IO. */
int sto_project_append(sto_project *sp, uint64_t seq, uint32_t origin, const void *txn, size_t len);

/* Group commit: appends between sto_project_begin and sto_project_commit go
 * into one SQLite transaction, made durable by the commit (one fsync for
 * the whole group). Until the commit returns none of them may be
 * acknowledged. If the commit fails, or sto_project_rollback is called,
 * none of them is stored and last_seq returns to its value at begin.
 * Possible errors: STO_ERR_IO. */
int sto_project_begin(sto_project *sp);
int sto_project_commit(sto_project *sp);
void sto_project_rollback(sto_project *sp);

/* Calls CB for every stored transaction with seq > AFTER, in order. CB's
 * data is borrowed for the call. A nonzero return from CB stops the replay
 * and is returned. Possible errors: STO_ERR_IO, or CB's code. */
typedef int (*sto_replay_cb)(void *ud, uint64_t seq, uint32_t origin, const void *txn, size_t len);
int sto_project_replay(sto_project *sp, uint64_t after, sto_replay_cb cb, void *ud);

uint64_t sto_project_last_seq(const sto_project *sp);

/* Small integer settings kept with the project (e.g. "next_client"). A
 * missing key reads as DEFAULT. Possible errors: STO_ERR_IO. */
int64_t sto_project_meta_int(sto_project *sp, const char *key, int64_t def);
int sto_project_set_meta_int(sto_project *sp, const char *key, int64_t value);

/* Records that the newest transaction of id space CLIENT is its local
 * number LOCAL_ID; written in the same group as the transaction, so the
 * two are durable together. Possible errors: STO_ERR_IO. */
int sto_project_note_local(sto_project *sp, uint32_t client, uint32_t local_id);
/* The newest local number recorded for CLIENT, 0 if none. */
uint32_t sto_project_last_local(sto_project *sp, uint32_t client);

/* Stores STATE (a proto_encode_project encoding of the model after SEQ, in
 * model schema SCHEMA) so that loading starts there instead of at the
 * beginning. Durable on return. Possible errors: STO_ERR_SEQ (SEQ is past
 * the log), STO_ERR_IO. */
int sto_project_put_snapshot(sto_project *sp, uint64_t seq, int schema, const void *state,
                             size_t len);

/* Deletes the log before BEFORE (never past the newest snapshot, which
 * keeps the state those ops made) and the snapshots it makes useless.
 * Possible errors: STO_ERR_IO. */
int sto_project_compact(sto_project *sp, uint64_t before);

/* Writes a consistent copy of the whole project file (log, snapshots,
 * settings; committed data only) to DST_PATH, which must not exist. On
 * failure nothing is left at DST_PATH and err says why. Allocates.
 * Possible errors: STO_ERR_IO. */
int sto_project_copy(sto_project *sp, const char *dst_path, char *err, size_t err_len);

/* Rebuilds the model into *model (initialised here): from the newest
 * snapshot of the current model schema, then the log after it (the whole
 * log if there is no usable snapshot), and sets *seq to the last sequence
 * number. A log that does not replay is refused with a
 * sentence naming the file and the first bad sequence number. Allocates
 * (temporarily). Possible errors: STO_ERR_IO, STO_ERR_NOT_PROJECT, STO_ERR_NOMEM. */
struct mdl_project;
int sto_project_load_model(sto_project *sp, struct mdl_project *model, uint64_t *seq, char *err,
                           size_t err_len);

/* The last SQLite error message, for logs. Borrowed. */
const char *sto_project_last_error(const sto_project *sp);

#endif
