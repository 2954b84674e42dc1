/* sto_library: the user library shared by all projects (DATA/library.db,
 * SQLite in WAL mode, synchronous=FULL).
 *
 * An item is a preset, a sample, a project template or a groove template,
 * with a name, tags, and either a JSON payload or an asset id (a sample's
 * audio lives in the asset store, sto_asset.h) or both.
 *
 *   schema_version(version)                      one row: the schema below
 *   items(id, kind, name, payload, asset_id, created, updated)
 *   item_tags(item_id, tag)                      tags compare case-insensitively
 *   items_fts                                    FTS5 trigram index of names (schema 2)
 *
 * Opening an older library upgrades it in one transaction; a newer one is
 * refused with a sentence naming the file.
 *
 * Not thread-safe: one thread owns a sto_library (open one per thread;
 * SQLite's WAL lets them share the file). Never used from the RT thread. */
#ifndef STO_LIBRARY_H
#define STO_LIBRARY_H

#include <stddef.h>
#include <stdint.h>

#define STO_LIBRARY_SCHEMA 2   /* see the migrations in sto_library.c */
#define STO_LIBRARY_NAME   256 /* longest name, in bytes, NUL excluded: 255 */
#define STO_LIBRARY_TAG    64  /* longest tag: 63 bytes */
#define STO_LIBRARY_TAGS   32  /* most tags on one item */
#define STO_LIBRARY_LIMIT  100 /* results of a search with limit 0 */

typedef struct sto_library sto_library;

typedef enum {
  STO_LIBRARY_ANY = 0, /* queries only */
  STO_LIBRARY_PRESET = 1,
  STO_LIBRARY_SAMPLE = 2,
  STO_LIBRARY_PROJECT_TEMPLATE = 3,
  STO_LIBRARY_GROOVE_TEMPLATE = 4
} sto_library_kind;

/* As input (add, update) its pointers are borrowed for the call. As output
 * (get, search) they belong to the item: free with sto_library_item_clear. */
typedef struct sto_library_item {
  int64_t id; /* assigned by sto_library_add */
  sto_library_kind kind;
  char *name;  /* required, 1 .. STO_LIBRARY_NAME-1 bytes */
  char **tags; /* n_tags tags, each 1 .. STO_LIBRARY_TAG-1 bytes; duplicates merge */
  size_t n_tags;
  char *payload;            /* JSON text, or NULL */
  char asset_id[65];        /* sto_asset id, or "" (a sample must have one) */
  int64_t created, updated; /* unix seconds; set by the library */
} sto_library_item;

typedef struct sto_library_query {
  sto_library_kind kind; /* STO_LIBRARY_ANY: all kinds */
  const char *text;      /* substring of the name, case-insensitive; NULL or "": any */
  const char *tag;       /* items with this tag (case-insensitive); NULL: any */
  uint32_t limit;        /* at most this many (0: STO_LIBRARY_LIMIT) */
  uint32_t offset;       /* skip this many first (paging) */
} sto_library_query;

/* ---- Open / close --------------------------------------------------------- */

/* Opens the library at PATH, creating it if missing and upgrading an older
 * schema. A file that is not a Backline library is refused
 * (STO_ERR_NOT_LIBRARY), a newer schema too (STO_ERR_TOO_NEW); err gets a
 * sentence naming the file. On failure *out is NULL. Allocates.
 * Possible errors: STO_ERR_IO, STO_ERR_NOMEM, STO_ERR_NOT_LIBRARY, STO_ERR_TOO_NEW. */
int sto_library_open(const char *path, sto_library **out, char *err, size_t err_len);
void sto_library_close(sto_library *lib); /* NULL ok */

/* The schema version of the open library (STO_LIBRARY_SCHEMA after open). */
int sto_library_schema(sto_library *lib);

/* ---- Items ---------------------------------------------------------------- */

/* Adds ITEM (borrowed; its id, created and updated are ignored) and sets
 * *id. Durable on return. A bad kind, name, tag, asset id or payload that
 * is not JSON is refused with a sentence saying which.
 * Possible errors: STO_ERR_INVALID, STO_ERR_IO. */
int sto_library_add(sto_library *lib, const sto_library_item *item, int64_t *id, char *err,
                    size_t err_len);

/* Replaces kind, name, tags, payload and asset id of item ITEM->id.
 * Possible errors: STO_ERR_NO_ITEM, STO_ERR_INVALID, STO_ERR_IO. */
int sto_library_update(sto_library *lib, const sto_library_item *item, char *err, size_t err_len);

/* Deletes item ID and its tags. Possible errors: STO_ERR_NO_ITEM, STO_ERR_IO. */
int sto_library_delete(sto_library *lib, int64_t id);

/* Fills *out with item ID (zeroed on failure); the caller frees it with
 * sto_library_item_clear. Possible errors: STO_ERR_NO_ITEM, STO_ERR_IO, STO_ERR_NOMEM. */
int sto_library_get(sto_library *lib, int64_t id, sto_library_item *out);

/* Finds the items matching every condition of *Q, ordered by name, and sets
 * *items to an array of *n_items of them (NULL and 0 when none), which the
 * caller frees with sto_library_items_free. Name search uses the FTS5
 * trigram index for 3 characters or more and LIKE below that.
 * Possible errors: STO_ERR_IO, STO_ERR_NOMEM. */
int sto_library_search(sto_library *lib, const sto_library_query *q, sto_library_item **items,
                       size_t *n_items);

void sto_library_item_clear(sto_library_item *item);            /* NULL ok; zeroes it */
void sto_library_items_free(sto_library_item *items, size_t n); /* NULL ok */

/* The last SQLite error message, for logs. Borrowed. */
const char *sto_library_last_error(const sto_library *lib);

/* ---- Test hook -------------------------------------------------------------
 * Makes sto_library_open migrate only up to schema VERSION (0: all), so
 * that tests can make an old library and watch it being upgraded. */
void sto__library_migrate_to(int version);

#endif
