/* sto_project: the op log in SQLite. */
#include "storage/sto_project.h"
#include "storage/sto_err.h"
#include "protocol/proto_msg.h"

#include <sqlite3.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct sto_project {
  char path[512];
  sqlite3 *db;
  sqlite3_stmt *append;
  uint64_t last_seq;
  uint64_t seq_at_begin; /* last_seq when the open group began */
  bool in_group;
  bool group_lost; /* SQLite rolled the open group back itself (e.g. disk full) */
  char last_error[256];
};

const char *sto_strerror(int err) {
#define STO_ERR_CASE_(name, val, msg)                                                              \
  case name:                                                                                       \
    return msg;
  switch ((sto_err) err) { STO_ERR_MAP(STO_ERR_CASE_) }
#undef STO_ERR_CASE_
  return "unknown error";
}

static int io_fail(sto_project *sp, int code) {
  snprintf(sp->last_error, sizeof sp->last_error, "%s", sqlite3_errmsg(sp->db));
  return code;
}

/* Version 1, as the first Backline wrote it. A new file starts here and is
 * brought up to date by the same migrations as an old one, so both end up
 * identical. */
static const char schema_v1[] =
    "CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value ANY) STRICT, WITHOUT ROWID;"
    "CREATE TABLE IF NOT EXISTS ops(seq INTEGER PRIMARY KEY, origin INTEGER NOT NULL,"
    " txn BLOB NOT NULL) STRICT;";

/* migrations[i] takes a file from version i + 1 to i + 2. Append only; a
 * released step is never edited. STO_SCHEMA_VERSION must equal the number
 * of steps + 1. */
static const char *const migrations[] = {
    /* 1 -> 2: snapshots of the model, so that opening does not replay the
     * whole log. */
    "CREATE TABLE snapshots(seq INTEGER PRIMARY KEY, schema INTEGER NOT NULL,"
    " state BLOB NOT NULL) STRICT;",
    /* 2 -> 3: the newest submit of each id space the log holds, so that a
     * client whose ack was lost does not send the same edit twice. */
    "CREATE TABLE clients(client INTEGER PRIMARY KEY, last_local INTEGER NOT NULL) STRICT;",
};
_Static_assert(sizeof migrations / sizeof migrations[0] == STO_SCHEMA_VERSION - 1,
               "one migration per schema version");

/* Upgrades an open file from FROM to STO_SCHEMA_VERSION in one transaction. */
static int migrate(sto_project *sp, int64_t from) {
  if (sqlite3_exec(sp->db, "BEGIN IMMEDIATE", 0, 0, 0) != SQLITE_OK) return SQLITE_ERROR;
  int rc = SQLITE_OK;
  /* FROM >= 1 (checked by the caller): step i takes version i + 1 to i + 2. */
  for (size_t i = (size_t) (from - 1);
       rc == SQLITE_OK && i < sizeof migrations / sizeof *migrations; i++)
    rc = sqlite3_exec(sp->db, migrations[i], 0, 0, 0);
  if (rc == SQLITE_OK) {
    char sql[96];
    snprintf(sql, sizeof sql, "UPDATE meta SET value = %d WHERE key = 'schema_version'",
             STO_SCHEMA_VERSION);
    rc = sqlite3_exec(sp->db, sql, 0, 0, 0);
  }
  if (rc == SQLITE_OK) rc = sqlite3_exec(sp->db, "COMMIT", 0, 0, 0);
  if (rc != SQLITE_OK) {
    snprintf(sp->last_error, sizeof sp->last_error, "upgrade from schema %lld: %s",
             (long long) from, sqlite3_errmsg(sp->db));
    sqlite3_exec(sp->db, "ROLLBACK", 0, 0, 0);
  }
  return rc;
}

int sto_project_open(const char *path, sto_open_mode mode, sto_project **out, char *err,
                     size_t err_len) {
  *out = NULL;
  struct stat st_file;
  if (mode == STO_OPEN_EXISTING && stat(path, &st_file) != 0) {
    snprintf(err, err_len, "%s: no such project file", path);
    return STO_ERR_NOT_FOUND;
  }
  if (mode == STO_OPEN_EXISTING && st_file.st_size == 0) {
    snprintf(err, err_len, "%s is not a Backline project (it is empty)", path);
    return STO_ERR_NOT_PROJECT;
  }
  sto_project *sp = calloc(1, sizeof *sp);
  if (!sp) {
    snprintf(err, err_len, "out of memory");
    return STO_ERR_NOMEM;
  }
  snprintf(sp->path, sizeof sp->path, "%s", path);
  int flags = SQLITE_OPEN_READWRITE | (mode == STO_OPEN_CREATE ? SQLITE_OPEN_CREATE : 0);
  int rc = sqlite3_open_v2(path, &sp->db, flags, NULL);
  int code = STO_ERR_IO;
  if (rc == SQLITE_OK) rc = sqlite3_extended_result_codes(sp->db, 1);
  /* Is it empty (new), ours, or something else? Only reads until we know:
   * a file that is not a project is left exactly as it was. */
  int n_tables = -1;
  sqlite3_stmt *st = NULL;
  if (rc == SQLITE_OK)
    rc = sqlite3_prepare_v2(sp->db, "SELECT count(*) FROM sqlite_schema", -1, &st, NULL);
  if (rc == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW) n_tables = sqlite3_column_int(st, 0);
  sqlite3_finalize(st);
  if (rc == SQLITE_NOTADB) code = STO_ERR_NOT_PROJECT;
  if (rc == SQLITE_OK && n_tables == 0) {
    if (mode != STO_OPEN_CREATE) {
      code = STO_ERR_NOT_PROJECT, rc = SQLITE_ERROR;
    } else {
      rc = sqlite3_exec(sp->db, "PRAGMA journal_mode=WAL", 0, 0, 0);
      if (rc == SQLITE_OK) rc = sqlite3_exec(sp->db, schema_v1, 0, 0, 0);
      if (rc == SQLITE_OK)
        rc = sqlite3_exec(sp->db, "INSERT INTO meta VALUES('schema_version', 1)", 0, 0, 0);
    }
  }
  if (rc == SQLITE_OK) {
    int64_t version = sto_project_meta_int(sp, "schema_version", -1);
    if (version < 1)
      code = STO_ERR_NOT_PROJECT, rc = SQLITE_ERROR;
    else if (version > STO_SCHEMA_VERSION)
      code = STO_ERR_TOO_NEW, rc = SQLITE_ERROR;
  }
  /* Its tables must have our columns, and the log numbers must run without
   * gaps, all checked by reading before anything is written. */
  if (rc == SQLITE_OK) {
    int64_t version = sto_project_meta_int(sp, "schema_version", -1);
    static const char *const shapes[] = {"SELECT seq, origin, txn FROM ops LIMIT 0",
                                         "SELECT seq, schema, state FROM snapshots LIMIT 0",
                                         "SELECT client, last_local FROM clients LIMIT 0"};
    for (int64_t k = 0; rc == SQLITE_OK && k < version && k < 3; k++) {
      if (sqlite3_prepare_v2(sp->db, shapes[k], -1, &st, NULL) != SQLITE_OK)
        code = STO_ERR_NOT_PROJECT, rc = SQLITE_ERROR;
      sqlite3_finalize(st);
    }
    if (rc == SQLITE_OK &&
        sqlite3_prepare_v2(sp->db, "SELECT min(seq), max(seq), count(*) FROM ops", -1, &st, NULL) ==
            SQLITE_OK) {
      if (sqlite3_step(st) == SQLITE_ROW) {
        int64_t lo = sqlite3_column_int64(st, 0), hi = sqlite3_column_int64(st, 1),
                n = sqlite3_column_int64(st, 2);
        if (n > 0 && (lo < 1 || hi - lo + 1 != n)) {
          snprintf(sp->last_error, sizeof sp->last_error,
                   "its op log is damaged (sequence numbers %lld to %lld in %lld rows)",
                   (long long) lo, (long long) hi, (long long) n);
          code = STO_ERR_NOT_PROJECT, rc = SQLITE_ERROR;
        }
      }
      sqlite3_finalize(st);
    }
  }
  /* Ours: from here on it may be written. */
  if (rc == SQLITE_OK)
    rc = sqlite3_exec(sp->db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;", 0, 0, 0);
  if (rc == SQLITE_OK) {
    int64_t version = sto_project_meta_int(sp, "schema_version", -1);
    if (version < STO_SCHEMA_VERSION && migrate(sp, version) != SQLITE_OK)
      code = STO_ERR_IO, rc = SQLITE_ERROR;
  }
  if (rc == SQLITE_OK)
    rc = sqlite3_prepare_v2(sp->db, "INSERT INTO ops(seq, origin, txn) VALUES(?1, ?2, ?3)", -1,
                            &sp->append, NULL);
  if (rc == SQLITE_OK) rc = sqlite3_prepare_v2(sp->db, "SELECT max(seq) FROM ops", -1, &st, NULL);
  if (rc == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW)
    sp->last_seq = (uint64_t) sqlite3_column_int64(st, 0);
  if (rc == SQLITE_OK) sqlite3_finalize(st);
  if (rc != SQLITE_OK) {
    if (code == STO_ERR_NOT_PROJECT && sp->last_error[0])
      snprintf(err, err_len, "%s is not a usable Backline project: %s", path, sp->last_error);
    else if (code == STO_ERR_NOT_PROJECT)
      snprintf(err, err_len, "%s is not a Backline project", path);
    else if (code == STO_ERR_TOO_NEW)
      snprintf(err, err_len,
               "%s was saved by a newer Backline (schema %lld; this one reads up to %d)", path,
               (long long) sto_project_meta_int(sp, "schema_version", 0), STO_SCHEMA_VERSION);
    else if (sp->last_error[0])
      snprintf(err, err_len, "%s: %s", path, sp->last_error);
    else
      snprintf(err, err_len, "%s: %s", path, sp->db ? sqlite3_errmsg(sp->db) : "cannot open");
    sto_project_close(sp);
    return code;
  }
  *out = sp;
  return STO_OK;
}

void sto_project_close(sto_project *sp) {
  if (!sp) return;
  sqlite3_finalize(sp->append);
  sqlite3_close(sp->db);
  free(sp);
}

int sto_project_append(sto_project *sp, uint64_t seq, uint32_t origin, const void *txn,
                       size_t len) {
  if (sp->group_lost) return STO_ERR_IO; /* the group is gone: the commit will say so */
  if (seq != sp->last_seq + 1) {
    snprintf(sp->last_error, sizeof sp->last_error, "append of seq %llu after %llu",
             (unsigned long long) seq, (unsigned long long) sp->last_seq);
    return STO_ERR_SEQ;
  }
  sqlite3_reset(sp->append);
  sqlite3_bind_int64(sp->append, 1, (sqlite3_int64) seq);
  sqlite3_bind_int64(sp->append, 2, origin);
  sqlite3_bind_blob(sp->append, 3, txn, (int) len, SQLITE_STATIC);
  int rc = sqlite3_step(sp->append);
  sqlite3_clear_bindings(sp->append);
  sqlite3_reset(sp->append);
  if (rc != SQLITE_DONE) {
    /* On some errors (SQLITE_FULL, SQLITE_IOERR) SQLite rolls back the whole
     * transaction: the group's earlier appends are gone too. */
    if (sp->in_group && sqlite3_get_autocommit(sp->db)) sp->group_lost = true;
    return io_fail(sp, STO_ERR_IO);
  }
  sp->last_seq = seq;
  return STO_OK;
}

int sto_project_begin(sto_project *sp) {
  if (sp->in_group) return STO_OK;
  if (sqlite3_exec(sp->db, "BEGIN IMMEDIATE", 0, 0, 0) != SQLITE_OK) return io_fail(sp, STO_ERR_IO);
  sp->in_group = true;
  sp->seq_at_begin = sp->last_seq;
  return STO_OK;
}

int sto_project_commit(sto_project *sp) {
  if (!sp->in_group) return STO_OK;
  if (sp->group_lost || sqlite3_exec(sp->db, "COMMIT", 0, 0, 0) != SQLITE_OK) {
    int rc = io_fail(sp, STO_ERR_IO);
    sto_project_rollback(sp);
    return rc;
  }
  sp->in_group = false;
  return STO_OK;
}

void sto_project_rollback(sto_project *sp) {
  if (!sp->in_group) return;
  if (!sqlite3_get_autocommit(sp->db)) sqlite3_exec(sp->db, "ROLLBACK", 0, 0, 0);
  sp->in_group = false;
  sp->group_lost = false;
  sp->last_seq = sp->seq_at_begin;
}

int sto_project_replay(sto_project *sp, uint64_t after, sto_replay_cb cb, void *ud) {
  sqlite3_stmt *st;
  if (sqlite3_prepare_v2(sp->db, "SELECT seq, origin, txn FROM ops WHERE seq > ?1 ORDER BY seq", -1,
                         &st, NULL) != SQLITE_OK)
    return io_fail(sp, STO_ERR_IO);
  sqlite3_bind_int64(st, 1, (sqlite3_int64) after);
  int rc, result = STO_OK;
  while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
    result = cb(ud, (uint64_t) sqlite3_column_int64(st, 0), (uint32_t) sqlite3_column_int64(st, 1),
                sqlite3_column_blob(st, 2), (size_t) sqlite3_column_bytes(st, 2));
    if (result) break;
  }
  if (!result && rc != SQLITE_DONE) result = io_fail(sp, STO_ERR_IO);
  sqlite3_finalize(st);
  return result;
}

uint64_t sto_project_last_seq(const sto_project *sp) {
  return sp->last_seq;
}

int64_t sto_project_meta_int(sto_project *sp, const char *key, int64_t def) {
  sqlite3_stmt *st;
  int64_t v = def;
  if (sqlite3_prepare_v2(sp->db, "SELECT value FROM meta WHERE key = ?1", -1, &st, NULL) !=
      SQLITE_OK)
    return def;
  sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
  if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_type(st, 0) == SQLITE_INTEGER)
    v = sqlite3_column_int64(st, 0);
  sqlite3_finalize(st);
  return v;
}

int sto_project_set_meta_int(sto_project *sp, const char *key, int64_t value) {
  sqlite3_stmt *st;
  if (sqlite3_prepare_v2(sp->db, "INSERT OR REPLACE INTO meta(key, value) VALUES(?1, ?2)", -1, &st,
                         NULL) != SQLITE_OK)
    return io_fail(sp, STO_ERR_IO);
  sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
  sqlite3_bind_int64(st, 2, value);
  int rc = sqlite3_step(st);
  sqlite3_finalize(st);
  return rc == SQLITE_DONE ? STO_OK : io_fail(sp, STO_ERR_IO);
}

const char *sto_project_last_error(const sto_project *sp) {
  return sp->last_error;
}

typedef struct load_ctx {
  mdl_project *model;
  proto_scratch s;
  uint64_t seq;
  int why; /* the decode or apply error */
} load_ctx;

static int load_one(void *ud, uint64_t seq, uint32_t origin, const void *data, size_t len) {
  load_ctx *l = ud;
  mdl_txn txn;
  int rc = proto_decode_txn(data, len, &l->s, &txn);
  if (!rc) rc = mdl_txn_apply(l->model, &txn, origin, NULL);
  if (rc) return l->why = rc, STO_ERR_NOT_PROJECT;
  if (seq != l->seq + 1) return l->why = STO_ERR_SEQ, STO_ERR_NOT_PROJECT;
  l->seq = seq;
  return 0;
}

int sto_project_put_snapshot(sto_project *sp, uint64_t seq, int schema, const void *state,
                             size_t len) {
  sqlite3_stmt *st;
  if (seq > sp->last_seq ||
      sqlite3_prepare_v2(sp->db,
                         "INSERT OR REPLACE INTO snapshots(seq, schema, state) VALUES(?1, ?2, ?3)",
                         -1, &st, NULL) != SQLITE_OK)
    return seq > sp->last_seq ? STO_ERR_SEQ : io_fail(sp, STO_ERR_IO);
  sqlite3_bind_int64(st, 1, (sqlite3_int64) seq);
  sqlite3_bind_int(st, 2, schema);
  sqlite3_bind_blob(st, 3, state, (int) len, SQLITE_STATIC);
  int rc = sqlite3_step(st);
  sqlite3_finalize(st);
  return rc == SQLITE_DONE ? STO_OK : io_fail(sp, STO_ERR_IO);
}

int sto_project_compact(sto_project *sp, uint64_t before) {
  /* Only history that a stored snapshot covers may go. */
  sqlite3_stmt *st;
  uint64_t covered = 0;
  if (sqlite3_prepare_v2(sp->db, "SELECT max(seq) FROM snapshots", -1, &st, NULL) != SQLITE_OK)
    return io_fail(sp, STO_ERR_IO);
  if (sqlite3_step(st) == SQLITE_ROW) covered = (uint64_t) sqlite3_column_int64(st, 0);
  sqlite3_finalize(st);
  if (before > covered + 1) before = covered + 1;
  char sql[160];
  snprintf(sql, sizeof sql,
           "DELETE FROM ops WHERE seq < %llu; DELETE FROM snapshots WHERE seq < "
           "(SELECT max(seq) FROM snapshots WHERE seq < %llu);",
           (unsigned long long) before, (unsigned long long) before);
  return sqlite3_exec(sp->db, sql, 0, 0, 0) == SQLITE_OK ? STO_OK : io_fail(sp, STO_ERR_IO);
}

/* Starts L from the newest usable snapshot; returns its seq (0 = none). */
static uint64_t from_snapshot(sto_project *sp, load_ctx *l) {
  sqlite3_stmt *st;
  uint64_t seq = 0;
  if (sqlite3_prepare_v2(sp->db,
                         "SELECT seq, state FROM snapshots WHERE schema <= ?1 AND seq <= ?2"
                         " ORDER BY seq DESC",
                         -1, &st, NULL) != SQLITE_OK)
    return 0;
  sqlite3_bind_int(st, 1, MDL_SCHEMA_VERSION);
  sqlite3_bind_int64(st, 2, (sqlite3_int64) sp->last_seq);
  while (sqlite3_step(st) == SQLITE_ROW) {
    if (proto_decode_project(sqlite3_column_blob(st, 1), (size_t) sqlite3_column_bytes(st, 1),
                             l->model) == 0) {
      seq = (uint64_t) sqlite3_column_int64(st, 0);
      break;
    }
  }
  sqlite3_finalize(st);
  return seq;
}

int sto_project_load_model(sto_project *sp, mdl_project *model, uint64_t *seq, char *err,
                           size_t err_len) {
  load_ctx *l = calloc(1, sizeof *l);
  *seq = 0;
  mdl_project_reset(model, NULL);
  if (!l) return snprintf(err, err_len, "out of memory"), STO_ERR_NOMEM;
  l->model = model;
  l->seq = from_snapshot(sp, l);
  int rc = sto_project_replay(sp, l->seq, load_one, l);
  if (rc && l->seq) {
    /* A snapshot that does not fit its log: replay the whole log instead. */
    mdl_project_reset(model, NULL);
    l->seq = 0;
    rc = sto_project_replay(sp, 0, load_one, l);
  }
  if (!rc && l->seq != sp->last_seq) {
    rc = STO_ERR_NOT_PROJECT;
    snprintf(err, err_len, "%s: its op log stops at seq %llu but holds up to %llu", sp->path,
             (unsigned long long) l->seq, (unsigned long long) sp->last_seq);
  } else if (rc == STO_ERR_IO)
    snprintf(err, err_len, "%s: %s", sp->path, sp->last_error);
  else if (rc)
    snprintf(err, err_len, "%s: its op log does not replay at seq %llu (error %d)", sp->path,
             (unsigned long long) l->seq + 1, l->why);
  if (rc)
    mdl_project_reset(model, NULL);
  else
    *seq = l->seq;
  free(l);
  return rc;
}

int sto_project_copy(sto_project *sp, const char *dst_path, char *err, size_t err_len) {
  if (access(dst_path, F_OK) == 0) {
    snprintf(err, err_len, "%s already exists", dst_path);
    return STO_ERR_IO;
  }
  sqlite3 *dst = NULL;
  int rc = sqlite3_open_v2(dst_path, &dst, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL);
  sqlite3_backup *b = rc == SQLITE_OK ? sqlite3_backup_init(dst, "main", sp->db, "main") : NULL;
  if (b) {
    rc = sqlite3_backup_step(b, -1);
    rc = sqlite3_backup_finish(b) == SQLITE_OK && rc == SQLITE_DONE ? SQLITE_OK : SQLITE_ERROR;
  } else {
    rc = SQLITE_ERROR;
  }
  if (rc != SQLITE_OK)
    snprintf(err, err_len, "cannot copy %s to %s: %s", sp->path, dst_path,
             dst ? sqlite3_errmsg(dst) : "cannot open");
  sqlite3_close(dst);
  if (rc != SQLITE_OK) {
    unlink(dst_path);
    return STO_ERR_IO;
  }
  return STO_OK;
}

int sto_project_note_local(sto_project *sp, uint32_t client, uint32_t local_id) {
  sqlite3_stmt *st;
  if (sqlite3_prepare_v2(sp->db,
                         "INSERT OR REPLACE INTO clients(client, last_local) VALUES(?1, ?2)", -1,
                         &st, NULL) != SQLITE_OK)
    return io_fail(sp, STO_ERR_IO);
  sqlite3_bind_int64(st, 1, client);
  sqlite3_bind_int64(st, 2, local_id);
  int rc = sqlite3_step(st);
  sqlite3_finalize(st);
  return rc == SQLITE_DONE ? STO_OK : io_fail(sp, STO_ERR_IO);
}

uint32_t sto_project_last_local(sto_project *sp, uint32_t client) {
  sqlite3_stmt *st;
  uint32_t v = 0;
  if (sqlite3_prepare_v2(sp->db, "SELECT last_local FROM clients WHERE client = ?1", -1, &st,
                         NULL) != SQLITE_OK)
    return 0;
  sqlite3_bind_int64(st, 1, client);
  if (sqlite3_step(st) == SQLITE_ROW) v = (uint32_t) sqlite3_column_int64(st, 0);
  sqlite3_finalize(st);
  return v;
}
