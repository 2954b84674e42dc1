/* User library: items round-trip, search by name and tag, migrations,
 * refusal of foreign and newer files, faults. */
#include "storage/sto_asset.h"
#include "storage/sto_int.h"
#include "storage/sto_err.h"
#include "storage/sto_library.h"

#include <criterion/criterion.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char dir[64], path[128];
static void setup(void) {
  strcpy(dir, "/tmp/backline-lib-XXXXXX");
  cr_assert_not_null(mkdtemp(dir));
  snprintf(path, sizeof path, "%s/library.db", dir);
}
static void teardown(void) {
  sto__fault_after(0);
  sto__library_migrate_to(0);
  char cmd[128];
  snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
  cr_assert_eq(system(cmd), 0);
}
TestSuite(sto_library, .init = setup, .fini = teardown);

static const char sample_id[] = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

static sto_library *open_lib(void) {
  sto_library *lib;
  char err[256];
  cr_assert_eq(sto_library_open(path, &lib, err, sizeof err), 0, "%s", err);
  return lib;
}

static int64_t add(sto_library *lib, sto_library_kind kind, const char *name, const char *tags) {
  char *tag_list[8], buf[256];
  size_t n = 0;
  snprintf(buf, sizeof buf, "%s", tags ? tags : "");
  for (char *t = strtok(buf, ","); t && n < 8; t = strtok(NULL, ","))
    tag_list[n++] = t;
  sto_library_item it = {.kind = kind, .name = (char *) name, .tags = tag_list, .n_tags = n};
  if (kind == STO_LIBRARY_SAMPLE)
    strcpy(it.asset_id, sample_id);
  else
    it.payload = "{\"gain\": 0.5}";
  int64_t id;
  char err[256];
  cr_assert_eq(sto_library_add(lib, &it, &id, err, sizeof err), 0, "%s", err);
  cr_assert_gt(id, 0);
  return id;
}

static size_t search(sto_library *lib, sto_library_kind kind, const char *text, const char *tag,
                     const char *first) {
  sto_library_query q = {.kind = kind, .text = text, .tag = tag};
  sto_library_item *items;
  size_t n;
  cr_assert_eq(sto_library_search(lib, &q, &items, &n), 0);
  if (first) {
    cr_assert_gt(n, 0, "no match for %s", text);
    cr_assert_str_eq(items[0].name, first);
  }
  sto_library_items_free(items, n);
  return n;
}

Test(sto_library, items_round_trip_through_add_get_update_delete) {
  sto_library *lib = open_lib();
  cr_assert_eq(sto_library_schema(lib), STO_LIBRARY_SCHEMA);
  int64_t id = add(lib, STO_LIBRARY_PRESET, "Warm Pad", "pad,synth,pad");
  sto_library_item it;
  cr_assert_eq(sto_library_get(lib, id, &it), 0);
  cr_assert_eq(it.kind, STO_LIBRARY_PRESET);
  cr_assert_str_eq(it.name, "Warm Pad");
  cr_assert_str_eq(it.payload, "{\"gain\": 0.5}");
  cr_assert_eq(it.n_tags, 2, "duplicate tags merge");
  cr_assert_str_eq(it.tags[0], "pad");
  cr_assert_str_eq(it.tags[1], "synth");
  cr_assert_str_eq(it.asset_id, "");
  cr_assert_gt(it.created, 0);
  int64_t created = it.created;

  char *tags[] = {"keys"};
  sto_library_item upd = {.id = id,
                          .kind = STO_LIBRARY_PRESET,
                          .name = "Warm Keys",
                          .tags = tags,
                          .n_tags = 1,
                          .payload = "[1, 2, 3]"};
  char err[256];
  cr_assert_eq(sto_library_update(lib, &upd, err, sizeof err), 0, "%s", err);
  sto_library_item_clear(&it);
  cr_assert_eq(sto_library_get(lib, id, &it), 0);
  cr_assert_str_eq(it.name, "Warm Keys");
  cr_assert_str_eq(it.payload, "[1, 2, 3]");
  cr_assert_eq(it.n_tags, 1);
  cr_assert_str_eq(it.tags[0], "keys");
  cr_assert_eq(it.created, created);
  sto_library_item_clear(&it);
  cr_assert_null(it.name);

  upd.id = id + 100;
  cr_assert_eq(sto_library_update(lib, &upd, err, sizeof err), STO_ERR_NO_ITEM);
  cr_assert_eq(sto_library_delete(lib, id), 0);
  cr_assert_eq(sto_library_delete(lib, id), STO_ERR_NO_ITEM);
  cr_assert_eq(sto_library_get(lib, id, &it), STO_ERR_NO_ITEM);
  cr_assert_eq(search(lib, STO_LIBRARY_ANY, NULL, "keys", NULL), 0, "tags went with the item");
  sto_library_close(lib);
}

Test(sto_library, bad_items_are_refused_with_a_reason) {
  sto_library *lib = open_lib();
  char err[256];
  int64_t id;
  sto_library_item it = {.kind = STO_LIBRARY_PRESET, .name = "Broken", .payload = "{not json"};
  cr_assert_eq(sto_library_add(lib, &it, &id, err, sizeof err), STO_ERR_INVALID);
  cr_assert(strstr(err, "Broken") && strstr(err, "JSON"), "%s", err);
  cr_assert_eq(id, 0);
  it.payload = NULL;
  cr_assert_eq(sto_library_add(lib, &it, &id, err, sizeof err), STO_ERR_INVALID);
  it.kind = STO_LIBRARY_SAMPLE;
  cr_assert_eq(sto_library_add(lib, &it, &id, err, sizeof err), STO_ERR_INVALID);
  cr_assert(strstr(err, "asset id"), "%s", err);
  strcpy(it.asset_id, "../../etc/passwd");
  cr_assert_eq(sto_library_add(lib, &it, &id, err, sizeof err), STO_ERR_INVALID);
  strcpy(it.asset_id, sample_id);
  it.name = "";
  cr_assert_eq(sto_library_add(lib, &it, &id, err, sizeof err), STO_ERR_INVALID);
  it.name = "ok";
  it.kind = (sto_library_kind) 9;
  cr_assert_eq(sto_library_add(lib, &it, &id, err, sizeof err), STO_ERR_INVALID);
  char *empty[] = {""};
  it.kind = STO_LIBRARY_SAMPLE, it.tags = empty, it.n_tags = 1;
  cr_assert_eq(sto_library_add(lib, &it, &id, err, sizeof err), STO_ERR_INVALID);
  cr_assert_eq(search(lib, STO_LIBRARY_ANY, NULL, NULL, NULL), 0);
  sto_library_close(lib);
}

Test(sto_library, search_by_name_substring_tag_and_kind) {
  sto_library *lib = open_lib();
  add(lib, STO_LIBRARY_PRESET, "Warm Pad", "pad,synth");
  add(lib, STO_LIBRARY_PRESET, "Cold Pad", "pad");
  add(lib, STO_LIBRARY_SAMPLE, "Kick 808", "drums,kick");
  add(lib, STO_LIBRARY_SAMPLE, "Snare 909", "drums");
  add(lib, STO_LIBRARY_GROOVE_TEMPLATE, "Swing 58%", "groove");
  add(lib, STO_LIBRARY_PROJECT_TEMPLATE, "Band \"Live\"", NULL);
  add(lib, STO_LIBRARY_PRESET, "Café Strings", "strings");

  cr_assert_eq(search(lib, STO_LIBRARY_ANY, "pad", NULL, "Cold Pad"), 2, "case-insensitive");
  cr_assert_eq(search(lib, STO_LIBRARY_ANY, "ARM P", NULL, "Warm Pad"), 1, "mid-word");
  cr_assert_eq(search(lib, STO_LIBRARY_ANY, "80", NULL, "Kick 808"), 1, "short: LIKE");
  cr_assert_eq(search(lib, STO_LIBRARY_ANY, "8%", NULL, "Swing 58%"), 1, "% is literal");
  cr_assert_eq(search(lib, STO_LIBRARY_ANY, "\"Live\"", NULL, "Band \"Live\""), 1);
  cr_assert_eq(search(lib, STO_LIBRARY_ANY, "afé", NULL, "Café Strings"), 1, "UTF-8");
  cr_assert_eq(search(lib, STO_LIBRARY_ANY, "zzz", NULL, NULL), 0);
  cr_assert_eq(search(lib, STO_LIBRARY_ANY, NULL, "drums", "Kick 808"), 2);
  cr_assert_eq(search(lib, STO_LIBRARY_ANY, NULL, "DRUMS", NULL), 2, "tags ignore case");
  cr_assert_eq(search(lib, STO_LIBRARY_ANY, "909", "drums", "Snare 909"), 1);
  cr_assert_eq(search(lib, STO_LIBRARY_ANY, "909", "pad", NULL), 0);
  cr_assert_eq(search(lib, STO_LIBRARY_PRESET, NULL, NULL, "Café Strings"), 3);
  cr_assert_eq(search(lib, STO_LIBRARY_SAMPLE, "pad", NULL, NULL), 0);
  cr_assert_eq(search(lib, STO_LIBRARY_ANY, NULL, NULL, "Band \"Live\""), 7);

  sto_library_query q = {.limit = 2, .offset = 2};
  sto_library_item *items;
  size_t n;
  cr_assert_eq(sto_library_search(lib, &q, &items, &n), 0);
  cr_assert_eq(n, 2);
  cr_assert_str_eq(items[0].name, "Cold Pad");
  cr_assert_str_eq(items[1].name, "Kick 808");
  cr_assert_eq(items[1].n_tags, 2);
  cr_assert_str_eq(items[1].asset_id, sample_id);
  sto_library_items_free(items, n);

  /* Renames reach the name index. */
  sto_library_item it;
  cr_assert_eq(sto_library_get(lib, 1, &it), 0);
  sto_library_item upd = it;
  upd.name = "Hot Pad";
  char err[256];
  cr_assert_eq(sto_library_update(lib, &upd, err, sizeof err), 0, "%s", err);
  sto_library_item_clear(&it);
  cr_assert_eq(search(lib, STO_LIBRARY_ANY, "warm", NULL, NULL), 0);
  cr_assert_eq(search(lib, STO_LIBRARY_ANY, "hot p", NULL, "Hot Pad"), 1);
  sto_library_close(lib);
}

Test(sto_library, an_old_library_is_upgraded_on_open) {
  sto__library_migrate_to(1);
  sto_library *lib = open_lib();
  cr_assert_eq(sto_library_schema(lib), 1);
  add(lib, STO_LIBRARY_PRESET, "Vintage Organ", "keys");
  cr_assert_eq(search(lib, STO_LIBRARY_ANY, "organ", NULL, "Vintage Organ"), 1, "LIKE at v1");
  sto_library_close(lib);
  sto__library_migrate_to(0);
  lib = open_lib();
  cr_assert_eq(sto_library_schema(lib), 2);
  cr_assert_eq(search(lib, STO_LIBRARY_ANY, "organ", NULL, "Vintage Organ"), 1,
               "items from v1 are in the new index");
  add(lib, STO_LIBRARY_PRESET, "Organ Bass", NULL);
  cr_assert_eq(search(lib, STO_LIBRARY_ANY, "organ", NULL, "Organ Bass"), 2);
  sto_library_close(lib);
}

Test(sto_library, newer_and_foreign_files_are_refused) {
  sto_library *lib = open_lib();
  sto_library_close(lib);
  sqlite3 *db;
  cr_assert_eq(sqlite3_open(path, &db), SQLITE_OK);
  cr_assert_eq(sqlite3_exec(db, "UPDATE schema_version SET version = 99", 0, 0, 0), SQLITE_OK);
  sqlite3_close(db);
  char err[256];
  cr_assert_eq(sto_library_open(path, &lib, err, sizeof err), STO_ERR_TOO_NEW);
  cr_assert_null(lib);
  cr_assert(strstr(err, path) && strstr(err, "newer Backline") && strstr(err, "99"), "%s", err);

  remove(path);
  FILE *f = fopen(path, "w");
  fputs("a shopping list, not a database, but long enough to look like one? no.\n", f);
  fclose(f);
  cr_assert_eq(sto_library_open(path, &lib, err, sizeof err), STO_ERR_NOT_LIBRARY);
  cr_assert(strstr(err, "is not a Backline library"), "%s", err);

  remove(path);
  cr_assert_eq(sqlite3_open(path, &db), SQLITE_OK);
  cr_assert_eq(sqlite3_exec(db, "CREATE TABLE songs(x)", 0, 0, 0), SQLITE_OK);
  sqlite3_close(db);
  cr_assert_eq(sto_library_open(path, &lib, err, sizeof err), STO_ERR_NOT_LIBRARY);
  cr_assert(strstr(err, "is not a Backline library"), "%s", err);
}

Test(sto_library, failing_steps_leave_no_half_item) {
  sto_library *lib = open_lib();
  char *tags[] = {"a", "b", "c"};
  sto_library_item it = {
      .kind = STO_LIBRARY_PRESET, .name = "Faulty", .tags = tags, .n_tags = 3, .payload = "{}"};
  char err[256];
  int64_t id;
  long n;
  for (n = 1; n < 1000; n++) {
    sto__fault_after(n);
    int rc = sto_library_add(lib, &it, &id, err, sizeof err);
    sto__fault_after(0);
    if (rc == 0) break;
    cr_assert_eq(id, 0);
    cr_assert_eq(search(lib, STO_LIBRARY_ANY, NULL, NULL, NULL), 0, "fault %ld", n);
    cr_assert_eq(search(lib, STO_LIBRARY_ANY, NULL, "a", NULL), 0, "fault %ld", n);
  }
  cr_assert_gt(n, 4);
  for (n = 1; n < 1000; n++) {
    sto_library_query q = {0};
    sto_library_item *items;
    size_t count;
    sto__fault_after(n);
    int rc = sto_library_search(lib, &q, &items, &count);
    sto__fault_after(0);
    if (rc == 0) {
      cr_assert_eq(count, 1);
      cr_assert_eq(items[0].n_tags, 3);
      sto_library_items_free(items, count);
      break;
    }
    cr_assert_null(items);
    cr_assert_eq(count, 0);
  }
  sto_library_close(lib);
  for (n = 1; n < 1000; n++) {
    sto__fault_after(n);
    int rc = sto_library_open(path, &lib, err, sizeof err);
    sto__fault_after(0);
    if (rc == 0) break;
    cr_assert_null(lib);
  }
  cr_assert_eq(search(lib, STO_LIBRARY_ANY, "faulty", "b", "Faulty"), 1);
  sto_library_close(lib);
}
