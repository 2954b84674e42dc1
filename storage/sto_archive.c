/* sto_archive: project export and import as one SQLite file. See
 * sto_archive.h for the format. */
#include "storage/sto_archive.h"
#include "shared/mdl_project.h"
#include "storage/sto_asset.h"
#include "storage/sto_err.h"
#include "storage/sto_int.h"
#include "storage/sto_project.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <openssl/evp.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define CHUNK         (1u << 20) /* bytes per chunk row */
#define ARCHIVE_MAGIC "backline-archive"

static const char archive_schema[] =
    "CREATE TABLE archive(key TEXT PRIMARY KEY, value ANY) STRICT, WITHOUT ROWID;"
    "CREATE TABLE files(n INTEGER PRIMARY KEY, kind TEXT NOT NULL CHECK(kind IN ('project',"
    " 'asset')), id TEXT NOT NULL UNIQUE, name TEXT NOT NULL, ext TEXT NOT NULL,"
    " size INTEGER NOT NULL, sha256 TEXT NOT NULL) STRICT;"
    "CREATE TABLE chunks(file INTEGER NOT NULL, n INTEGER NOT NULL, bytes BLOB NOT NULL,"
    " PRIMARY KEY(file, n)) STRICT;";

/* ---- Helpers ------------------------------------------------------------------ */

static int db_fail(sqlite3 *db, const char *path, char *err, size_t err_len) {
  return sto__fail(err, err_len, STO_ERR_IO, "%s: %s", path,
                   db ? sqlite3_errmsg(db) : "cannot open");
}

static int sys_fail(const char *what, const char *path, char *err, size_t err_len) {
  return sto__fail(err, err_len, STO_ERR_IO, "cannot %s %s: %s", what, path, strerror(errno));
}

static int step(sqlite3_stmt *s) {
  if (sto__fault()) return SQLITE_IOERR;
  return sqlite3_step(s);
}

static void dir_of(const char *path, char *out, size_t len) {
  const char *slash = strrchr(path, '/');
  if (!slash)
    snprintf(out, len, ".");
  else if (slash == path)
    snprintf(out, len, "/");
  else
    snprintf(out, len, "%.*s", (int) (slash - path), path);
}

/* A temporary name next to PATH ("PATH.TAG.tmp-XXXXXX"), created empty. */
static int make_temp(const char *path, const char *tag, char *out, size_t len) {
  int n = snprintf(out, len, "%s.%s.tmp-XXXXXX", path, tag);
  if (n < 0 || (size_t) n >= len) return errno = ENAMETOOLONG, -1;
  if (sto__fault()) return errno = EIO, out[0] = 0, -1;
  int fd = mkostemp(out, O_CLOEXEC);
  if (fd < 0) out[0] = 0;
  return fd;
}

/* Removes a temporary SQLite file and what SQLite keeps beside it. */
static void remove_db(const char *path) {
  if (!path[0]) return;
  char side[PATH_MAX + 8];
  unlink(path);
  snprintf(side, sizeof side, "%s-wal", path);
  unlink(side);
  snprintf(side, sizeof side, "%s-shm", path);
  unlink(side);
  snprintf(side, sizeof side, "%s-journal", path);
  unlink(side);
}

static void hex(const unsigned char *d, size_t n, char *out) {
  static const char digits[] = "0123456789abcdef";
  for (size_t i = 0; i < n; i++)
    out[2 * i] = digits[d[i] >> 4], out[2 * i + 1] = digits[d[i] & 15];
  out[2 * n] = 0;
}

/* ---- Export -------------------------------------------------------------------- */

/* Stores the file at PATH as file row (KIND, ID, NAME, EXT) in chunks and
 * sets SHA to its SHA-256. */
static int put_file(sqlite3 *db, const char *kind, const char *id, const char *name,
                    const char *ext, const char *path, char sha[65], char *err, size_t err_len) {
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return sys_fail("read", path, err, err_len);
  unsigned char *buf = sto__fault() ? NULL : malloc(CHUNK);
  EVP_MD_CTX *md = buf ? EVP_MD_CTX_new() : NULL;
  sqlite3_stmt *ins = NULL, *file = NULL;
  int rc = STO_OK;
  if (!md || EVP_DigestInit_ex(md, EVP_sha256(), NULL) != 1) {
    rc = sto__fail(err, err_len, STO_ERR_NOMEM, "out of memory");
    goto out;
  }
  if (sqlite3_prepare_v2(db,
                         "INSERT INTO files(kind, id, name, ext, size, sha256)"
                         " VALUES(?1, ?2, ?3, ?4, 0, '')",
                         -1, &file, NULL) != SQLITE_OK ||
      sqlite3_prepare_v2(db, "INSERT INTO chunks VALUES(?1, ?2, ?3)", -1, &ins, NULL) !=
          SQLITE_OK) {
    rc = db_fail(db, "archive", err, err_len);
    goto out;
  }
  sqlite3_bind_text(file, 1, kind, -1, SQLITE_STATIC);
  sqlite3_bind_text(file, 2, id, -1, SQLITE_STATIC);
  sqlite3_bind_text(file, 3, name, -1, SQLITE_STATIC);
  sqlite3_bind_text(file, 4, ext, -1, SQLITE_STATIC);
  if (step(file) != SQLITE_DONE) {
    rc = db_fail(db, "archive", err, err_len);
    goto out;
  }
  sqlite3_int64 file_n = sqlite3_last_insert_rowid(db);
  uint64_t size = 0;
  for (int64_t n = 0;; n++) {
    ssize_t got = 0;
    size_t have = 0;
    while (have < CHUNK && (got = read(fd, buf + have, CHUNK - have)) != 0) {
      if (got < 0 && errno == EINTR) continue;
      if (got < 0) break;
      have += (size_t) got;
    }
    if (got < 0) {
      rc = sys_fail("read", path, err, err_len);
      goto out;
    }
    if (have == 0) break;
    EVP_DigestUpdate(md, buf, have);
    size += have;
    sqlite3_reset(ins);
    sqlite3_bind_int64(ins, 1, file_n);
    sqlite3_bind_int64(ins, 2, n);
    sqlite3_bind_blob(ins, 3, buf, (int) have, SQLITE_STATIC);
    if (step(ins) != SQLITE_DONE) {
      rc = db_fail(db, "archive", err, err_len);
      goto out;
    }
    if (have < CHUNK) break;
  }
  unsigned char digest[32];
  EVP_DigestFinal_ex(md, digest, NULL);
  hex(digest, 32, sha);
  sqlite3_finalize(file);
  file = NULL;
  if (sqlite3_prepare_v2(db, "UPDATE files SET size = ?1, sha256 = ?2 WHERE n = ?3", -1, &file,
                         NULL) != SQLITE_OK) {
    rc = db_fail(db, "archive", err, err_len);
    goto out;
  }
  sqlite3_bind_int64(file, 1, (sqlite3_int64) size);
  sqlite3_bind_text(file, 2, sha, -1, SQLITE_STATIC);
  sqlite3_bind_int64(file, 3, file_n);
  if (step(file) != SQLITE_DONE) rc = db_fail(db, "archive", err, err_len);
out:
  sqlite3_finalize(ins);
  sqlite3_finalize(file);
  EVP_MD_CTX_free(md);
  free(buf);
  close(fd);
  return rc;
}

/* Copies the committed state of the project at PATH into DST (a new,
 * empty file) and returns its schema version in *SCHEMA. */
static int snapshot_project(const char *path, const char *dst, int64_t *schema, char *err,
                            size_t err_len) {
  sqlite3 *db = NULL;
  sqlite3_stmt *s = NULL;
  *schema = -1;
  if (access(path, F_OK) != 0)
    return sto__fail(err, err_len, STO_ERR_NOT_FOUND, "%s: no such project file", path);
  /* Read-write (it writes nothing) so that, if it is the last connection,
   * closing it checkpoints and removes the WAL; read-only if that fails. */
  int rc = sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL);
  if (rc != SQLITE_OK) {
    sqlite3_close(db);
    db = NULL;
    rc = sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL);
  }
  if (rc == SQLITE_OK) rc = sqlite3_busy_timeout(db, 5000);
  if (rc == SQLITE_OK)
    rc =
        sqlite3_prepare_v2(db, "SELECT value FROM meta WHERE key = 'schema_version'", -1, &s, NULL);
  if (rc == SQLITE_OK && sqlite3_step(s) == SQLITE_ROW &&
      sqlite3_column_type(s, 0) == SQLITE_INTEGER)
    *schema = sqlite3_column_int64(s, 0);
  sqlite3_finalize(s);
  int code = STO_OK;
  if (rc != SQLITE_OK || *schema < 1) {
    code = sto__fail(err, err_len, STO_ERR_NOT_PROJECT, "%s is not a Backline project", path);
  } else {
    /* VACUUM INTO reads one transaction: a consistent copy even while the
     * server goes on appending to the WAL. */
    rc = sqlite3_prepare_v2(db, "VACUUM INTO ?1", -1, &s, NULL);
    if (rc == SQLITE_OK) {
      sqlite3_bind_text(s, 1, dst, -1, SQLITE_STATIC);
      rc = step(s) == SQLITE_DONE ? SQLITE_OK : SQLITE_ERROR;
    }
    if (rc != SQLITE_OK)
      code = sto__fail(err, err_len, STO_ERR_IO, "cannot copy %s: %s", path, sqlite3_errmsg(db));
    sqlite3_finalize(s);
  }
  sqlite3_close(db);
  return code;
}

static int set_meta(sqlite3 *db, const char *key, const char *text, int64_t num) {
  sqlite3_stmt *s;
  if (sqlite3_prepare_v2(db, "INSERT INTO archive VALUES(?1, ?2)", -1, &s, NULL) != SQLITE_OK)
    return SQLITE_ERROR;
  sqlite3_bind_text(s, 1, key, -1, SQLITE_STATIC);
  if (text)
    sqlite3_bind_text(s, 2, text, -1, SQLITE_STATIC);
  else
    sqlite3_bind_int64(s, 2, num);
  int rc = step(s);
  sqlite3_finalize(s);
  return rc == SQLITE_DONE ? SQLITE_OK : SQLITE_ERROR;
}

/* The assets the clips of the project file at PATH use (distinct, in
 * *ids, malloc'd; free it). PATH is the export's own consistent copy. A
 * project from a newer Backline is exported as it is, without them. */
static int clip_assets(const char *path, char (**ids)[STO_ASSET_ID_LEN + 1], size_t *n, char *err,
                       size_t err_len) {
  *ids = NULL, *n = 0;
  sto_project *sp;
  char why[400];
  int rc = sto_project_open(path, STO_OPEN_EXISTING, &sp, why, sizeof why);
  if (rc == STO_ERR_TOO_NEW) return STO_OK; /* a copy still travels; its clips are unknown here */
  if (rc) return sto__fail(err, err_len, rc, "%s", why);
  mdl_project *m = mdl_project_create(&sto__alloc, NULL);
  uint64_t seq;
  rc = m ? sto_project_load_model(sp, m, &seq, why, sizeof why) : STO_ERR_NOMEM;
  sto_project_close(sp);
  uint32_t n_clips = rc ? 0 : mdl_count(m, MDL_TYPE_CLIP);
  mdl_id *clips = malloc((n_clips ? n_clips : 1) * sizeof *clips);
  *ids = malloc((n_clips ? n_clips : 1) * sizeof **ids);
  if (!rc && (!clips || !*ids)) rc = STO_ERR_NOMEM;
  if (!rc) mdl_all(m, MDL_TYPE_CLIP, clips, n_clips);
  for (uint32_t i = 0; !rc && i < n_clips; i++) {
    uint32_t len;
    const char *a = mdl_get_str(m, clips[i], MDL_PROP_ASSET, &len);
    bool seen = len == 0;
    for (size_t k = 0; k < *n && !seen; k++)
      seen = strcmp((*ids)[k], a) == 0;
    if (!seen) snprintf((*ids)[(*n)++], STO_ASSET_ID_LEN + 1, "%s", a);
  }
  free(clips);
  mdl_project_destroy(m);
  if (rc) {
    free(*ids), *ids = NULL, *n = 0;
    return rc == STO_ERR_NOMEM ? sto__fail(err, err_len, rc, "out of memory")
                               : sto__fail(err, err_len, rc, "%s", why);
  }
  return STO_OK;
}

int sto_archive_export(const char *project_path, sto_asset_store *store,
                       const char *const *asset_ids, size_t n_ids, const char *out_path, char *err,
                       size_t err_len) {
  if (access(out_path, F_OK) == 0)
    return sto__fail(err, err_len, STO_ERR_EXISTS, "%s already exists", out_path);
  char tmp[PATH_MAX], proj[PATH_MAX], dir[PATH_MAX];
  tmp[0] = proj[0] = 0;
  sqlite3 *db = NULL;
  int rc = STO_OK;
  char(*used)[STO_ASSET_ID_LEN + 1] = NULL; /* the clips' assets */
  size_t n_used = 0;
  /* Check the assets before doing any work. */
  for (size_t i = 0; i < n_ids; i++) {
    sto_asset_info info;
    int found = sto_asset_info_get(store, asset_ids[i], 0, &info);
    if (found)
      return sto__fail(err, err_len, found == STO_ERR_INVALID ? STO_ERR_NO_ASSET : found,
                       "%s: no asset %s in the store", project_path, asset_ids[i]);
  }
  int fd = make_temp(out_path, "proj", proj, sizeof proj);
  if (fd < 0) return sys_fail("create a temporary file for", out_path, err, err_len);
  close(fd);
  unlink(proj); /* VACUUM INTO wants a name that does not exist yet */
  int64_t schema;
  if ((rc = snapshot_project(project_path, proj, &schema, err, err_len)) != STO_OK) goto out;
  /* The assets the project's clips use go with it, whatever the caller listed. */
  if ((rc = clip_assets(proj, &used, &n_used, err, err_len)) != STO_OK) goto out;
  for (size_t i = 0; i < n_used; i++) {
    sto_asset_info info;
    if (sto_asset_info_get(store, used[i], 0, &info)) {
      rc = sto__fail(err, err_len, STO_ERR_NO_ASSET,
                     "%s: a clip uses asset %s, which is not in the store", project_path, used[i]);
      goto out;
    }
  }

  fd = make_temp(out_path, "arch", tmp, sizeof tmp);
  if (fd < 0) {
    rc = sys_fail("create a temporary file for", out_path, err, err_len);
    goto out;
  }
  close(fd);
  /* A fresh file that is renamed into place only when complete needs no
   * journal: the fsync before the rename is what makes it durable. */
  if (sqlite3_open_v2(tmp, &db, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK ||
      sto__exec(db, "PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF; BEGIN;") != SQLITE_OK ||
      sto__exec(db, archive_schema) != SQLITE_OK || set_meta(db, "format", ARCHIVE_MAGIC, 0) ||
      set_meta(db, "version", NULL, STO_ARCHIVE_VERSION) ||
      set_meta(db, "project_schema", NULL, schema) ||
      set_meta(db, "created", NULL, (int64_t) time(NULL))) {
    rc = db_fail(db, out_path, err, err_len);
    goto out;
  }
  char sha[65];
  if ((rc = put_file(db, "project", "project", "project", "backline", proj, sha, err, err_len)))
    goto out;
  for (size_t i = 0; i < n_ids + n_used; i++) {
    const char *asset = i < n_ids ? asset_ids[i] : used[i - n_ids];
    sqlite3_stmt *s;
    int dup = 0;
    if (sqlite3_prepare_v2(db, "SELECT count(*) FROM files WHERE id = ?1", -1, &s, NULL) ==
        SQLITE_OK) {
      sqlite3_bind_text(s, 1, asset, -1, SQLITE_STATIC);
      if (sqlite3_step(s) == SQLITE_ROW) dup = sqlite3_column_int(s, 0);
    }
    sqlite3_finalize(s);
    if (dup) continue;
    sto_asset_info info;
    char orig[PATH_MAX];
    if ((rc = sto_asset_info_get(store, asset, 0, &info)) != STO_OK ||
        (rc = sto_asset_original_path(store, asset, orig, sizeof orig)) != STO_OK) {
      sto__fail(err, err_len, rc, "%s: asset %s: %s", project_path, asset, sto_strerror(rc));
      goto out;
    }
    if ((rc = put_file(db, "asset", info.id, info.name, info.ext, orig, sha, err, err_len)))
      goto out;
    if (strcmp(sha, info.id) != 0) {
      rc = sto__fail(err, err_len, STO_ERR_CHECKSUM,
                     "asset %s (%s) is damaged in the store: its bytes no longer match its id",
                     info.id, info.name);
      goto out;
    }
  }
  if (sto__exec(db, "COMMIT") != SQLITE_OK) {
    rc = db_fail(db, out_path, err, err_len);
    goto out;
  }
  if (sqlite3_close(db) != SQLITE_OK) {
    rc = db_fail(db, out_path, err, err_len);
    goto out;
  }
  db = NULL;
  dir_of(out_path, dir, sizeof dir);
  if (sto__sync_path(tmp, false) != 0) {
    rc = sys_fail("sync", tmp, err, err_len);
    goto out;
  }
  /* link() instead of rename(): refuses to replace an OUT_PATH that
   * appeared meanwhile. */
  if (sto__fault() || link(tmp, out_path) != 0) {
    rc = errno == EEXIST ? sto__fail(err, err_len, STO_ERR_EXISTS, "%s already exists", out_path)
                         : sys_fail("create", out_path, err, err_len);
    goto out;
  }
  if (sto__sync_path(dir, true) != 0) {
    rc = sys_fail("sync", dir, err, err_len);
    unlink(out_path);
  }
out:
  free(used);
  if (db) sqlite3_close(db);
  remove_db(tmp);
  remove_db(proj);
  return rc;
}

/* ---- Import -------------------------------------------------------------------- */

typedef struct file_row {
  int64_t n;
  char kind[16], id[80], name[256], ext[16], sha[80];
  uint64_t size;
} file_row;

/* Streams the chunks of file row F, checking their order, size and
 * SHA-256, into FD (or nowhere if FD < 0). */
static int get_file(sqlite3 *db, const char *archive, const file_row *f, int fd, char *err,
                    size_t err_len) {
  sqlite3_stmt *s;
  if (sqlite3_prepare_v2(db, "SELECT n, bytes FROM chunks WHERE file = ?1 ORDER BY n", -1, &s,
                         NULL) != SQLITE_OK)
    return db_fail(db, archive, err, err_len);
  sqlite3_bind_int64(s, 1, f->n);
  EVP_MD_CTX *md = sto__fault() ? NULL : EVP_MD_CTX_new();
  if (!md || EVP_DigestInit_ex(md, EVP_sha256(), NULL) != 1) {
    sqlite3_finalize(s);
    EVP_MD_CTX_free(md);
    return sto__fail(err, err_len, STO_ERR_NOMEM, "out of memory");
  }
  uint64_t size = 0;
  int64_t expect = 0;
  int rc, result = STO_OK;
  while ((rc = step(s)) == SQLITE_ROW) {
    const void *bytes = sqlite3_column_blob(s, 1);
    size_t len = (size_t) sqlite3_column_bytes(s, 1);
    if (sqlite3_column_int64(s, 0) != expect++ || len > CHUNK || (len && !bytes)) {
      result = STO_ERR_CHECKSUM;
      break;
    }
    EVP_DigestUpdate(md, bytes, len);
    size += len;
    if (fd >= 0 && sto__write_all(fd, bytes, len) != 0) {
      result = sys_fail("write", f->name, err, err_len);
      break;
    }
  }
  if (!result && rc != SQLITE_DONE) result = db_fail(db, archive, err, err_len);
  sqlite3_finalize(s);
  unsigned char digest[32];
  char sha[65];
  EVP_DigestFinal_ex(md, digest, NULL);
  EVP_MD_CTX_free(md);
  hex(digest, 32, sha);
  if (!result && (size != f->size || strcmp(sha, f->sha) != 0)) result = STO_ERR_CHECKSUM;
  if (result == STO_ERR_CHECKSUM)
    sto__fail(err, err_len, result, "%s is damaged: %s %s does not match its checksum", archive,
              f->kind, f->name);
  return result;
}

/* Reads the files table into *files (caller frees). */
static int list_files(sqlite3 *db, const char *archive, file_row **files, size_t *n, char *err,
                      size_t err_len) {
  *files = NULL;
  *n = 0;
  sqlite3_stmt *s;
  if (sqlite3_prepare_v2(db, "SELECT n, kind, id, name, ext, size, sha256 FROM files ORDER BY n",
                         -1, &s, NULL) != SQLITE_OK)
    return sto__fail(err, err_len, STO_ERR_NOT_ARCHIVE, "%s is not a Backline archive", archive);
  size_t cap = 0;
  int rc, result = STO_OK;
  while ((rc = step(s)) == SQLITE_ROW) {
    if (*n == cap) {
      cap = cap ? 2 * cap : 8;
      file_row *grown = sto__fault() ? NULL : realloc(*files, cap * sizeof *grown);
      if (!grown) {
        result = sto__fail(err, err_len, STO_ERR_NOMEM, "out of memory");
        break;
      }
      *files = grown;
    }
    file_row *f = &(*files)[(*n)++];
    memset(f, 0, sizeof *f);
    f->n = sqlite3_column_int64(s, 0);
    const char *cols[] = {
        (const char *) sqlite3_column_text(s, 1), (const char *) sqlite3_column_text(s, 2),
        (const char *) sqlite3_column_text(s, 3), (const char *) sqlite3_column_text(s, 4),
        (const char *) sqlite3_column_text(s, 6)};
    for (int c = 0; c < 5; c++)
      if (!cols[c]) result = STO_ERR_NOT_ARCHIVE;
    if (result) break;
    snprintf(f->kind, sizeof f->kind, "%s", cols[0]);
    snprintf(f->id, sizeof f->id, "%s", cols[1]);
    snprintf(f->name, sizeof f->name, "%s", cols[2]);
    snprintf(f->ext, sizeof f->ext, "%s", cols[3]);
    snprintf(f->sha, sizeof f->sha, "%s", cols[4]);
    f->size = (uint64_t) sqlite3_column_int64(s, 5);
  }
  if (!result && rc != SQLITE_DONE) result = db_fail(db, archive, err, err_len);
  if (result == STO_ERR_NOT_ARCHIVE)
    sto__fail(err, err_len, result, "%s is not a Backline archive", archive);
  sqlite3_finalize(s);
  if (result) {
    free(*files);
    *files = NULL;
    *n = 0;
  }
  return result;
}

/* Opens ARCHIVE read-only and checks that it is one, of a version we read,
 * and undamaged. */
static int open_archive(const char *archive, sqlite3 **out, char *err, size_t err_len) {
  *out = NULL;
  /* An archive is written without WAL (header bytes 18 and 19 are 1).
   * Refusing anything else before SQLite opens it also means a WAL file
   * given by mistake (a live project) is not touched: SQLite would leave
   * -wal and -shm files beside it. */
  unsigned char head[100];
  int fd = open(archive, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return sys_fail("read", archive, err, err_len);
  ssize_t got = read(fd, head, sizeof head);
  close(fd);
  if (got != (ssize_t) sizeof head || memcmp(head, "SQLite format 3", 16) != 0 || head[18] != 1 ||
      head[19] != 1)
    return sto__fail(err, err_len, STO_ERR_NOT_ARCHIVE, "%s is not a Backline archive", archive);
  sqlite3 *db = NULL;
  sqlite3_stmt *s = NULL;
  int rc = sqlite3_open_v2(archive, &db, SQLITE_OPEN_READONLY, NULL);
  char format[32] = "";
  int64_t version = -1;
  if (rc == SQLITE_OK)
    rc = sqlite3_prepare_v2(db,
                            "SELECT (SELECT value FROM archive WHERE key = 'format'),"
                            " (SELECT value FROM archive WHERE key = 'version')",
                            -1, &s, NULL);
  if (rc == SQLITE_OK && sqlite3_step(s) == SQLITE_ROW) {
    const unsigned char *f = sqlite3_column_text(s, 0);
    snprintf(format, sizeof format, "%s", f ? (const char *) f : "");
    if (sqlite3_column_type(s, 1) == SQLITE_INTEGER) version = sqlite3_column_int64(s, 1);
  }
  sqlite3_finalize(s);
  int code = STO_OK;
  if (rc == SQLITE_CORRUPT) {
    code =
        sto__fail(err, err_len, STO_ERR_CHECKSUM, "%s is damaged: %s", archive, sqlite3_errmsg(db));
  } else if (rc != SQLITE_OK || strcmp(format, ARCHIVE_MAGIC) != 0 || version < 1) {
    code = sto__fail(err, err_len, STO_ERR_NOT_ARCHIVE, "%s is not a Backline archive", archive);
  } else if (version > STO_ARCHIVE_VERSION) {
    code =
        sto__fail(err, err_len, STO_ERR_TOO_NEW,
                  "%s was made by a newer Backline (archive version %lld; this one reads up to %d)",
                  archive, (long long) version, STO_ARCHIVE_VERSION);
  } else {
    /* The structure first; the checksums then cover the content. */
    char verdict[64] = "";
    if (sqlite3_prepare_v2(db, "PRAGMA quick_check", -1, &s, NULL) == SQLITE_OK &&
        step(s) == SQLITE_ROW && sqlite3_column_text(s, 0))
      snprintf(verdict, sizeof verdict, "%s", (const char *) sqlite3_column_text(s, 0));
    sqlite3_finalize(s);
    if (strcmp(verdict, "ok") != 0)
      code = sto__fail(err, err_len, STO_ERR_CHECKSUM, "%s is damaged (%s)", archive,
                       verdict[0] ? verdict : sqlite3_errmsg(db));
  }
  if (code) {
    sqlite3_close(db);
    return code;
  }
  *out = db;
  return STO_OK;
}

/* Extracts file F to a new temporary next to NEAR and returns its name in
 * TMP. */
static int extract(sqlite3 *db, const char *archive, const file_row *f, const char *near, char *tmp,
                   size_t tmp_len, char *err, size_t err_len) {
  int fd = make_temp(near, f->kind, tmp, tmp_len);
  if (fd < 0) return sys_fail("create a temporary file beside", near, err, err_len);
  int rc = get_file(db, archive, f, fd, err, err_len);
  if (!rc && (sto__fault() || fsync(fd) != 0)) rc = sys_fail("sync", tmp, err, err_len);
  close(fd);
  return rc;
}

int sto_archive_import(const char *archive_path, sto_asset_store *store, uint32_t project_rate,
                       const char *project_path, sto_archive_result *result, char *err,
                       size_t err_len) {
  memset(result, 0, sizeof *result);
  if (access(project_path, F_OK) == 0)
    return sto__fail(err, err_len, STO_ERR_EXISTS, "%s already exists", project_path);
  sqlite3 *db;
  int rc = open_archive(archive_path, &db, err, err_len);
  if (rc) return rc;
  file_row *files = NULL;
  size_t n_files = 0, n_assets = 0;
  char proj[PATH_MAX] = "", tmp[PATH_MAX] = "", dir[PATH_MAX];
  sto_project *sp = NULL;
  mdl_project *model = NULL;
  sto_archive_result got = {0};
  if ((rc = list_files(db, archive_path, &files, &n_files, err, err_len))) goto out;
  const file_row *project = NULL;
  for (size_t i = 0; i < n_files; i++) {
    const file_row *f = &files[i];
    bool is_project = !strcmp(f->kind, "project") && !strcmp(f->id, "project");
    bool is_asset =
        !strcmp(f->kind, "asset") && strlen(f->id) == STO_ASSET_ID_LEN && !strcmp(f->id, f->sha);
    if (is_project && !project)
      project = f;
    else if (is_asset)
      n_assets++;
    else {
      rc = sto__fail(err, err_len, STO_ERR_CHECKSUM, "%s is damaged: entry %s %s is not valid",
                     archive_path, f->kind, f->name);
      goto out;
    }
  }
  if (!project) {
    rc = sto__fail(err, err_len, STO_ERR_NOT_ARCHIVE,
                   "%s is not a Backline archive: it has no project", archive_path);
    goto out;
  }

  /* 1. The project: extract, then check it opens and replays. */
  if ((rc = extract(db, archive_path, project, project_path, proj, sizeof proj, err, err_len)))
    goto out;
  char why[512];
  if ((rc = sto_project_open(proj, STO_OPEN_EXISTING, &sp, why, sizeof why)) != STO_OK) {
    if (rc == STO_ERR_TOO_NEW)
      sto__fail(err, err_len, rc, "%s holds a project made by a newer Backline", archive_path);
    else if (rc == STO_ERR_NOT_PROJECT)
      sto__fail(err, err_len, rc, "%s holds a file that is not a Backline project", archive_path);
    else
      sto__fail(err, err_len, rc, "%s: %s", archive_path, why);
    goto out;
  }
  model = sto__fault() ? NULL : mdl_project_create(&sto__alloc, NULL);
  if (!model) {
    rc = sto__fail(err, err_len, STO_ERR_NOMEM, "out of memory");
    goto out;
  }
  if ((rc = sto_project_load_model(sp, model, &got.last_seq, why, sizeof why)) != STO_OK) {
    sto__fail(err, err_len, rc, "%s holds a project that does not load: %s", archive_path, why);
    goto out;
  }
  got.project_hash = mdl_project_hash(model);
  sto_project_close(sp);
  sp = NULL;

  /* 2. Every asset's checksum before storing any. */
  for (size_t i = 0; i < n_files; i++)
    if (&files[i] != project && (rc = get_file(db, archive_path, &files[i], -1, err, err_len)))
      goto out;

  /* 3. The assets into the store. */
  for (size_t i = 0; i < n_files; i++) {
    const file_row *f = &files[i];
    if (f == project) continue;
    sto_asset_info info;
    if ((rc = extract(db, archive_path, f, project_path, tmp, sizeof tmp, err, err_len)) ||
        (rc = sto_asset_import(store, tmp, f->name, project_rate, &info, err, err_len)))
      goto out;
    remove_db(tmp);
    tmp[0] = 0;
    if (strcmp(info.id, f->id) != 0) {
      rc = sto__fail(err, err_len, STO_ERR_CHECKSUM, "%s is damaged: asset %s changed",
                     archive_path, f->name);
      goto out;
    }
  }

  /* 4. The project file appears last, and never over another. */
  if (sto__fault() || link(proj, project_path) != 0) {
    rc = errno == EEXIST
             ? sto__fail(err, err_len, STO_ERR_EXISTS, "%s already exists", project_path)
             : sys_fail("create", project_path, err, err_len);
    goto out;
  }
  dir_of(project_path, dir, sizeof dir);
  if (sto__sync_path(dir, true) != 0) {
    rc = sys_fail("sync", dir, err, err_len);
    unlink(project_path);
    goto out;
  }
  got.n_assets = n_assets;
  *result = got;
out:
  sto_project_close(sp);
  mdl_project_destroy(model);
  free(files);
  sqlite3_close(db);
  remove_db(proj);
  remove_db(tmp);
  return rc;
}
