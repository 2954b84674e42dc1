/* sto_library: the user library in SQLite. */
#include "storage/sto_library.h"
#include "storage/sto_asset.h"
#include "storage/sto_err.h"
#include "storage/sto_int.h"

#include <sqlite3.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct sto_library {
  char path[512];
  sqlite3 *db;
  int schema;
  char last_error[256];
};

/* ---- Schema ----------------------------------------------------------------- */

/* migrations[i] takes a library from version i to i + 1. Append only; never
 * edit one that has shipped. */
static const char *const migrations[] = {
    /* 0 -> 1: items and tags. */
    "CREATE TABLE items(id INTEGER PRIMARY KEY,"
    " kind INTEGER NOT NULL CHECK(kind BETWEEN 1 AND 4),"
    " name TEXT NOT NULL CHECK(length(name) BETWEEN 1 AND 255),"
    " payload TEXT CHECK(payload IS NULL OR json_valid(payload)),"
    " asset_id TEXT NOT NULL DEFAULT '',"
    " created INTEGER NOT NULL, updated INTEGER NOT NULL) STRICT;"
    "CREATE INDEX items_by_kind ON items(kind, name COLLATE NOCASE);"
    "CREATE TABLE item_tags(item_id INTEGER NOT NULL, tag TEXT NOT NULL COLLATE NOCASE,"
    " PRIMARY KEY(item_id, tag)) STRICT, WITHOUT ROWID;"
    "CREATE INDEX item_tags_by_tag ON item_tags(tag, item_id);",
    /* 1 -> 2: a trigram full-text index of names, for substring search. */
    "CREATE VIRTUAL TABLE items_fts USING fts5(name, content='items', content_rowid='id',"
    " tokenize='trigram');"
    "INSERT INTO items_fts(items_fts) VALUES('rebuild');"
    "CREATE TRIGGER items_fts_ins AFTER INSERT ON items BEGIN"
    " INSERT INTO items_fts(rowid, name) VALUES(new.id, new.name); END;"
    "CREATE TRIGGER items_fts_del AFTER DELETE ON items BEGIN"
    " INSERT INTO items_fts(items_fts, rowid, name) VALUES('delete', old.id, old.name); END;"
    "CREATE TRIGGER items_fts_upd AFTER UPDATE OF name ON items BEGIN"
    " INSERT INTO items_fts(items_fts, rowid, name) VALUES('delete', old.id, old.name);"
    " INSERT INTO items_fts(rowid, name) VALUES(new.id, new.name); END;",
};
_Static_assert(sizeof migrations / sizeof migrations[0] == STO_LIBRARY_SCHEMA,
               "one migration per schema version");

static int migrate_to = 0; /* test hook: 0 = all */

void sto__library_migrate_to(int version) {
  migrate_to = version;
}

/* ---- Helpers ---------------------------------------------------------------- */

static int db_fail(sto_library *lib, char *err, size_t err_len) {
  snprintf(lib->last_error, sizeof lib->last_error, "%s", sqlite3_errmsg(lib->db));
  return sto__fail(err, err_len, STO_ERR_IO, "%s: %s", lib->path, lib->last_error);
}

static int step(sqlite3_stmt *s) {
  if (sto__fault()) return SQLITE_IOERR;
  return sqlite3_step(s);
}

static void rollback(sto_library *lib) {
  if (!sqlite3_get_autocommit(lib->db)) sqlite3_exec(lib->db, "ROLLBACK", 0, 0, 0);
}

static char *dup_text(const unsigned char *s) {
  if (!s) return NULL;
  size_t n = strlen((const char *) s);
  char *d = sto__fault() ? NULL : malloc(n + 1);
  if (d) memcpy(d, s, n + 1);
  return d;
}

static bool valid_asset_id(const char *id) {
  size_t n = strlen(id);
  if (n != STO_ASSET_ID_LEN) return false;
  for (size_t i = 0; i < n; i++)
    if (!((id[i] >= '0' && id[i] <= '9') || (id[i] >= 'a' && id[i] <= 'f'))) return false;
  return true;
}

/* ---- Open / close ------------------------------------------------------------- */

/* Reads the schema version: 0 for an empty file, -1 for someone else's. */
static int read_schema(sto_library *lib, int *version) {
  sqlite3_stmt *s;
  *version = -1;
  int rc = sqlite3_prepare_v2(lib->db,
                              "SELECT (SELECT count(*) FROM sqlite_schema),"
                              " (SELECT count(*) FROM sqlite_schema WHERE type = 'table'"
                              " AND name = 'schema_version')",
                              -1, &s, NULL);
  if (rc != SQLITE_OK) return rc;
  int n_objects = 0, has_version = 0;
  if ((rc = sqlite3_step(s)) == SQLITE_ROW) {
    n_objects = sqlite3_column_int(s, 0);
    has_version = sqlite3_column_int(s, 1);
    rc = SQLITE_OK;
  }
  sqlite3_finalize(s);
  if (rc != SQLITE_OK) return rc;
  if (n_objects == 0) return *version = 0, SQLITE_OK;
  if (!has_version) return SQLITE_OK;
  rc = sqlite3_prepare_v2(lib->db, "SELECT max(version) FROM schema_version", -1, &s, NULL);
  if (rc != SQLITE_OK) return rc;
  if ((rc = sqlite3_step(s)) == SQLITE_ROW) {
    if (sqlite3_column_type(s, 0) == SQLITE_INTEGER) *version = sqlite3_column_int(s, 0);
    rc = SQLITE_OK;
  }
  sqlite3_finalize(s);
  return rc;
}

/* Brings the library up to date in one transaction (so that two processes
 * opening an old library at once upgrade it once). */
static int upgrade(sto_library *lib, char *err, size_t err_len) {
  int target = migrate_to > 0 && migrate_to < STO_LIBRARY_SCHEMA ? migrate_to : STO_LIBRARY_SCHEMA;
  if (sto__exec(lib->db, "BEGIN IMMEDIATE") != SQLITE_OK) return db_fail(lib, err, err_len);
  int version, rc = read_schema(lib, &version);
  if (rc != SQLITE_OK) {
    rollback(lib);
    return db_fail(lib, err, err_len);
  }
  if (version < 0) {
    rollback(lib);
    return sto__fail(err, err_len, STO_ERR_NOT_LIBRARY, "%s is not a Backline library", lib->path);
  }
  if (version > STO_LIBRARY_SCHEMA) {
    rollback(lib);
    return sto__fail(
        err, err_len, STO_ERR_TOO_NEW,
        "%s was saved by a newer Backline (library schema %d; this one reads up to %d)", lib->path,
        version, STO_LIBRARY_SCHEMA);
  }
  if (version == 0)
    rc = sto__exec(lib->db, "CREATE TABLE schema_version(version INTEGER NOT NULL) STRICT;"
                            "INSERT INTO schema_version VALUES(0);");
  for (int v = version; rc == SQLITE_OK && v < target; v++) {
    rc = sto__exec(lib->db, migrations[v]);
    if (rc == SQLITE_OK) {
      char sql[64];
      snprintf(sql, sizeof sql, "UPDATE schema_version SET version = %d", v + 1);
      rc = sto__exec(lib->db, sql);
    }
  }
  if (rc == SQLITE_OK) rc = sto__exec(lib->db, "COMMIT");
  if (rc != SQLITE_OK) {
    int code = db_fail(lib, err, err_len);
    rollback(lib);
    return code;
  }
  lib->schema = version > target ? version : target;
  return STO_OK;
}

int sto_library_open(const char *path, sto_library **out, char *err, size_t err_len) {
  *out = NULL;
  sto_library *lib = sto__fault() ? NULL : calloc(1, sizeof *lib);
  if (!lib) return sto__fail(err, err_len, STO_ERR_NOMEM, "out of memory");
  snprintf(lib->path, sizeof lib->path, "%s", path);
  int rc = sqlite3_open_v2(path, &lib->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL);
  if (rc == SQLITE_OK) rc = sqlite3_busy_timeout(lib->db, 5000);
  if (rc == SQLITE_OK) rc = sto__exec(lib->db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;");
  int code = STO_OK;
  if (rc == SQLITE_NOTADB)
    code = sto__fail(err, err_len, STO_ERR_NOT_LIBRARY, "%s is not a Backline library", path);
  else if (rc != SQLITE_OK)
    code = sto__fail(err, err_len, STO_ERR_IO, "%s: %s", path,
                     lib->db ? sqlite3_errmsg(lib->db) : "cannot open");
  else
    code = upgrade(lib, err, err_len);
  if (code) {
    sto_library_close(lib);
    return code;
  }
  *out = lib;
  return STO_OK;
}

void sto_library_close(sto_library *lib) {
  if (!lib) return;
  sqlite3_close(lib->db);
  free(lib);
}

int sto_library_schema(sto_library *lib) {
  return lib->schema;
}

const char *sto_library_last_error(const sto_library *lib) {
  return lib->last_error;
}

/* ---- Items ----------------------------------------------------------------------- */

static int check_item(const sto_library_item *it, char *err, size_t err_len) {
  if (it->kind < STO_LIBRARY_PRESET || it->kind > STO_LIBRARY_GROOVE_TEMPLATE)
    return sto__fail(err, err_len, STO_ERR_INVALID, "library item: unknown kind %d",
                     (int) it->kind);
  size_t n = it->name ? strlen(it->name) : 0;
  if (n < 1 || n >= STO_LIBRARY_NAME)
    return sto__fail(err, err_len, STO_ERR_INVALID, "library item: a name needs 1 to %d bytes",
                     STO_LIBRARY_NAME - 1);
  if (it->n_tags > STO_LIBRARY_TAGS || (it->n_tags && !it->tags))
    return sto__fail(err, err_len, STO_ERR_INVALID, "%s: at most %d tags", it->name,
                     STO_LIBRARY_TAGS);
  for (size_t i = 0; i < it->n_tags; i++) {
    size_t t = it->tags[i] ? strlen(it->tags[i]) : 0;
    if (t < 1 || t >= STO_LIBRARY_TAG)
      return sto__fail(err, err_len, STO_ERR_INVALID, "%s: a tag needs 1 to %d bytes", it->name,
                       STO_LIBRARY_TAG - 1);
  }
  if (it->asset_id[0] && !valid_asset_id(it->asset_id))
    return sto__fail(err, err_len, STO_ERR_INVALID, "%s: %.64s is not an asset id", it->name,
                     it->asset_id);
  if (it->kind == STO_LIBRARY_SAMPLE && !it->asset_id[0])
    return sto__fail(err, err_len, STO_ERR_INVALID, "%s: a sample needs an asset id", it->name);
  if (it->kind != STO_LIBRARY_SAMPLE && !it->payload)
    return sto__fail(err, err_len, STO_ERR_INVALID, "%s: a preset or template needs a payload",
                     it->name);
  return STO_OK;
}

/* Inserts or (ID > 0) updates the row and replaces the tags, in the open
 * transaction. */
static int write_item(sto_library *lib, const sto_library_item *it, int64_t id, int64_t *out_id,
                      char *err, size_t err_len) {
  sqlite3_stmt *s;
  const char *sql = id ? "UPDATE items SET kind = ?1, name = ?2, payload = ?3, asset_id = ?4,"
                         " updated = ?5 WHERE id = ?6"
                       : "INSERT INTO items(kind, name, payload, asset_id, created, updated)"
                         " VALUES(?1, ?2, ?3, ?4, ?5, ?5)";
  if (sqlite3_prepare_v2(lib->db, sql, -1, &s, NULL) != SQLITE_OK)
    return db_fail(lib, err, err_len);
  sqlite3_bind_int(s, 1, (int) it->kind);
  sqlite3_bind_text(s, 2, it->name, -1, SQLITE_STATIC);
  if (it->payload) sqlite3_bind_text(s, 3, it->payload, -1, SQLITE_STATIC);
  sqlite3_bind_text(s, 4, it->asset_id, -1, SQLITE_STATIC);
  sqlite3_bind_int64(s, 5, (int64_t) time(NULL));
  if (id) sqlite3_bind_int64(s, 6, id);
  int rc = step(s);
  sqlite3_finalize(s);
  if (rc == SQLITE_CONSTRAINT)
    return sto__fail(err, err_len, STO_ERR_INVALID, "%s: the payload is not valid JSON", it->name);
  if (rc != SQLITE_DONE) return db_fail(lib, err, err_len);
  if (id && sqlite3_changes(lib->db) == 0)
    return sto__fail(err, err_len, STO_ERR_NO_ITEM, "no library item %lld", (long long) id);
  if (!id) id = sqlite3_last_insert_rowid(lib->db);
  if (sqlite3_prepare_v2(lib->db, "DELETE FROM item_tags WHERE item_id = ?1", -1, &s, NULL) !=
      SQLITE_OK)
    return db_fail(lib, err, err_len);
  sqlite3_bind_int64(s, 1, id);
  rc = step(s);
  sqlite3_finalize(s);
  if (rc != SQLITE_DONE) return db_fail(lib, err, err_len);
  if (sqlite3_prepare_v2(lib->db, "INSERT OR IGNORE INTO item_tags VALUES(?1, ?2)", -1, &s, NULL) !=
      SQLITE_OK)
    return db_fail(lib, err, err_len);
  for (size_t i = 0; rc == SQLITE_DONE && i < it->n_tags; i++) {
    sqlite3_reset(s);
    sqlite3_bind_int64(s, 1, id);
    sqlite3_bind_text(s, 2, it->tags[i], -1, SQLITE_STATIC);
    rc = step(s);
  }
  sqlite3_finalize(s);
  if (rc != SQLITE_DONE) return db_fail(lib, err, err_len);
  *out_id = id;
  return STO_OK;
}

static int save(sto_library *lib, const sto_library_item *it, int64_t id, int64_t *out_id,
                char *err, size_t err_len) {
  int rc = check_item(it, err, err_len);
  if (rc) return rc;
  if (sto__exec(lib->db, "BEGIN IMMEDIATE") != SQLITE_OK) return db_fail(lib, err, err_len);
  rc = write_item(lib, it, id, out_id, err, err_len);
  if (!rc && sto__exec(lib->db, "COMMIT") != SQLITE_OK) rc = db_fail(lib, err, err_len);
  if (rc) rollback(lib);
  return rc;
}

int sto_library_add(sto_library *lib, const sto_library_item *item, int64_t *id, char *err,
                    size_t err_len) {
  *id = 0;
  int64_t got = 0;
  int rc = save(lib, item, 0, &got, err, err_len);
  if (!rc) *id = got;
  return rc;
}

int sto_library_update(sto_library *lib, const sto_library_item *item, char *err, size_t err_len) {
  if (item->id <= 0)
    return sto__fail(err, err_len, STO_ERR_NO_ITEM, "no library item %lld", (long long) item->id);
  int64_t got;
  return save(lib, item, item->id, &got, err, err_len);
}

int sto_library_delete(sto_library *lib, int64_t id) {
  if (sto__exec(lib->db, "BEGIN IMMEDIATE") != SQLITE_OK) return db_fail(lib, NULL, 0);
  sqlite3_stmt *s;
  int rc = sqlite3_prepare_v2(lib->db, "DELETE FROM items WHERE id = ?1", -1, &s, NULL);
  int changed = 0;
  if (rc == SQLITE_OK) {
    sqlite3_bind_int64(s, 1, id);
    rc = step(s) == SQLITE_DONE ? SQLITE_OK : SQLITE_ERROR;
    changed = sqlite3_changes(lib->db);
  }
  sqlite3_finalize(s);
  if (rc == SQLITE_OK)
    rc = sqlite3_prepare_v2(lib->db, "DELETE FROM item_tags WHERE item_id = ?1", -1, &s, NULL);
  if (rc == SQLITE_OK) {
    sqlite3_bind_int64(s, 1, id);
    rc = step(s) == SQLITE_DONE ? SQLITE_OK : SQLITE_ERROR;
    sqlite3_finalize(s);
  }
  if (rc == SQLITE_OK) rc = sto__exec(lib->db, "COMMIT");
  if (rc != SQLITE_OK) {
    int code = db_fail(lib, NULL, 0);
    rollback(lib);
    return code;
  }
  return changed ? STO_OK : STO_ERR_NO_ITEM;
}

void sto_library_item_clear(sto_library_item *item) {
  if (!item) return;
  free(item->name);
  for (size_t i = 0; i < item->n_tags; i++)
    free(item->tags[i]);
  free(item->tags);
  free(item->payload);
  memset(item, 0, sizeof *item);
}

void sto_library_items_free(sto_library_item *items, size_t n) {
  if (!items) return;
  for (size_t i = 0; i < n; i++)
    sto_library_item_clear(&items[i]);
  free(items);
}

int sto_library_get(sto_library *lib, int64_t id, sto_library_item *out) {
  memset(out, 0, sizeof *out);
  sqlite3_stmt *s;
  if (sqlite3_prepare_v2(lib->db,
                         "SELECT kind, name, payload, asset_id, created, updated FROM items"
                         " WHERE id = ?1",
                         -1, &s, NULL) != SQLITE_OK)
    return db_fail(lib, NULL, 0);
  sqlite3_bind_int64(s, 1, id);
  int rc = step(s), result = STO_OK;
  if (rc == SQLITE_ROW) {
    out->id = id;
    out->kind = (sto_library_kind) sqlite3_column_int(s, 0);
    out->name = dup_text(sqlite3_column_text(s, 1));
    if (sqlite3_column_type(s, 2) != SQLITE_NULL) {
      out->payload = dup_text(sqlite3_column_text(s, 2));
      if (!out->payload) result = STO_ERR_NOMEM;
    }
    snprintf(out->asset_id, sizeof out->asset_id, "%s", (const char *) sqlite3_column_text(s, 3));
    out->created = sqlite3_column_int64(s, 4);
    out->updated = sqlite3_column_int64(s, 5);
    if (!out->name) result = STO_ERR_NOMEM;
  } else {
    result = rc == SQLITE_DONE ? STO_ERR_NO_ITEM : db_fail(lib, NULL, 0);
  }
  sqlite3_finalize(s);
  if (!result &&
      sqlite3_prepare_v2(lib->db, "SELECT tag FROM item_tags WHERE item_id = ?1 ORDER BY tag", -1,
                         &s, NULL) == SQLITE_OK) {
    sqlite3_bind_int64(s, 1, id);
    size_t cap = 0;
    while (!result && (rc = step(s)) == SQLITE_ROW) {
      if (out->n_tags == cap) {
        cap = cap ? 2 * cap : 4;
        char **grown = sto__fault() ? NULL : realloc(out->tags, cap * sizeof *grown);
        if (!grown) {
          result = STO_ERR_NOMEM;
          break;
        }
        out->tags = grown;
      }
      char *tag = dup_text(sqlite3_column_text(s, 0));
      if (!tag)
        result = STO_ERR_NOMEM;
      else
        out->tags[out->n_tags++] = tag;
    }
    if (!result && rc != SQLITE_DONE) result = db_fail(lib, NULL, 0);
    sqlite3_finalize(s);
  } else if (!result) {
    result = db_fail(lib, NULL, 0);
  }
  if (result) sto_library_item_clear(out);
  return result;
}

/* Characters (not bytes) of UTF-8 text. */
static size_t utf8_len(const char *s) {
  size_t n = 0;
  for (; *s; s++)
    n += ((unsigned char) *s & 0xC0) != 0x80;
  return n;
}

int sto_library_search(sto_library *lib, const sto_library_query *q, sto_library_item **items,
                       size_t *n_items) {
  *items = NULL;
  *n_items = 0;
  const char *text = q->text && *q->text ? q->text : NULL;
  bool fts = text && lib->schema >= 2 && utf8_len(text) >= 3;
  /* The pattern: a quoted FTS5 phrase, or a LIKE pattern with % _ \ escaped. */
  size_t tlen = text ? strlen(text) : 0;
  char *pattern = text ? (sto__fault() ? NULL : malloc(2 * tlen + 3)) : NULL;
  if (text && !pattern) return STO_ERR_NOMEM;
  if (text) {
    char *p = pattern;
    *p++ = fts ? '"' : '%';
    for (const char *c = text; *c; c++) {
      if (fts && *c == '"') *p++ = '"';
      if (!fts && (*c == '%' || *c == '_' || *c == '\\')) *p++ = '\\';
      *p++ = *c;
    }
    *p++ = fts ? '"' : '%';
    *p = 0;
  }
  sqlite3_stmt *s;
  int rc = sqlite3_prepare_v2(
      lib->db,
      "SELECT id FROM items i WHERE (?1 = 0 OR kind = ?1)"
      " AND (?2 IS NULL OR id IN (SELECT rowid FROM items_fts WHERE items_fts MATCH ?2))"
      " AND (?3 IS NULL OR name LIKE ?3 ESCAPE '\\')"
      " AND (?4 IS NULL OR EXISTS(SELECT 1 FROM item_tags t WHERE t.item_id = i.id AND t.tag = ?4))"
      " ORDER BY name COLLATE NOCASE, id LIMIT ?5 OFFSET ?6",
      -1, &s, NULL);
  if (rc != SQLITE_OK && lib->schema < 2) /* no items_fts yet: LIKE only */
    rc = sqlite3_prepare_v2(
        lib->db,
        "SELECT id FROM items i WHERE (?1 = 0 OR kind = ?1) AND ?2 IS NULL"
        " AND (?3 IS NULL OR name LIKE ?3 ESCAPE '\\')"
        " AND (?4 IS NULL OR EXISTS(SELECT 1 FROM item_tags t WHERE t.item_id = i.id"
        " AND t.tag = ?4)) ORDER BY name COLLATE NOCASE, id LIMIT ?5 OFFSET ?6",
        -1, &s, NULL);
  if (rc != SQLITE_OK) {
    free(pattern);
    return db_fail(lib, NULL, 0);
  }
  sqlite3_bind_int(s, 1, (int) q->kind);
  if (pattern) sqlite3_bind_text(s, fts ? 2 : 3, pattern, -1, SQLITE_STATIC);
  if (q->tag) sqlite3_bind_text(s, 4, q->tag, -1, SQLITE_STATIC);
  sqlite3_bind_int64(s, 5, q->limit ? q->limit : STO_LIBRARY_LIMIT);
  sqlite3_bind_int64(s, 6, q->offset);
  size_t cap = 0, n = 0;
  int64_t *ids = NULL;
  int result = STO_OK;
  while ((rc = step(s)) == SQLITE_ROW) {
    if (n == cap) {
      cap = cap ? 2 * cap : 16;
      int64_t *grown = sto__fault() ? NULL : realloc(ids, cap * sizeof *grown);
      if (!grown) {
        result = STO_ERR_NOMEM;
        break;
      }
      ids = grown;
    }
    ids[n++] = sqlite3_column_int64(s, 0);
  }
  if (!result && rc != SQLITE_DONE) result = db_fail(lib, NULL, 0);
  sqlite3_finalize(s);
  free(pattern);
  sto_library_item *out = NULL;
  if (!result && n) {
    out = sto__fault() ? NULL : calloc(n, sizeof *out);
    if (!out) result = STO_ERR_NOMEM;
  }
  for (size_t i = 0; !result && i < n; i++)
    result = sto_library_get(lib, ids[i], &out[i]);
  free(ids);
  if (result) {
    sto_library_items_free(out, n);
    return result;
  }
  *items = out;
  *n_items = n;
  return STO_OK;
}
