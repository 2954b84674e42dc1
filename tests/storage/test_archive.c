/* Archives: a project and its assets out to one file and back to the same
 * state hash; foreign, damaged and newer files refused; faults leave
 * nothing. */
#include "../shared/test_util.h"
#include "protocol/proto_msg.h"
#include "shared/mdl_project.h"
#include "storage/sto_archive.h"
#include "storage/sto_asset.h"
#include "storage/sto_int.h"
#include "storage/sto_err.h"
#include "storage/sto_project.h"

#include <criterion/criterion.h>
#include <ftw.h>
#include <math.h>
#include <sndfile.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char dir[64], projects[128], project[160], archive[160], imported[160], store_a[128],
    store_b[128];
static void setup(void) {
  strcpy(dir, "/tmp/backline-arch-XXXXXX");
  cr_assert_not_null(mkdtemp(dir));
  snprintf(projects, sizeof projects, "%s/projects", dir);
  cr_assert_eq(mkdir(projects, 0755), 0);
  snprintf(project, sizeof project, "%s/p1.backline", projects);
  snprintf(imported, sizeof imported, "%s/p2.backline", projects);
  snprintf(archive, sizeof archive, "%s/p1.backline-archive", dir);
  snprintf(store_a, sizeof store_a, "%s/assets-a", dir);
  snprintf(store_b, sizeof store_b, "%s/assets-b", dir);
}
static void teardown(void) {
  sto__fault_after(0);
  char cmd[128];
  snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
  cr_assert_eq(system(cmd), 0);
}
TestSuite(sto_archive, .init = setup, .fini = teardown);

static int n_found;
static int count_one(const char *path, const struct stat *sb, int type, struct FTW *ftw) {
  (void) sb, (void) ftw;
  if (type == FTW_F && !strstr(path, "/index.db")) n_found++;
  return 0;
}
/* Regular files under PATH, asset indexes aside. */
static int files_under(const char *path) {
  n_found = 0;
  if (access(path, F_OK) != 0) return 0;
  cr_assert_eq(nftw(path, count_one, 16, FTW_PHYS), 0);
  return n_found;
}

/* Makes a project of N_OPS transactions and leaves it open (WAL live). */
static sto_project *make_project(int n_ops, uint64_t *hash) {
  char err[256];
  sto_project *sp;
  cr_assert_eq(sto_project_open(project, STO_OPEN_CREATE, &sp, err, sizeof err), 0, "%s", err);
  mdl_project *live = mdl_project_create(&sto__alloc, NULL);
  uint8_t buf[4096];
  for (uint32_t i = 1; i <= (uint32_t) n_ops; i++) {
    mdl_op op = i % 3 == 1
                    ? op_create(MDL_ID_MAKE(2, i))
                    : op_set(MDL_ID_MAKE(2, i - (i - 1) % 3), MDL_PROP_GAIN, v_real(i / 100.0));
    mdl_txn t = {1, &op};
    cr_assert_eq(mdl_txn_apply(live, &t, 2, NULL), 0);
    int n = proto_encode_txn(&t, buf, sizeof buf);
    cr_assert_gt(n, 0);
    cr_assert_eq(sto_project_append(sp, i, 2, buf, (size_t) n), 0);
  }
  *hash = mdl_project_hash(live);
  mdl_project_destroy(live);
  return sp;
}

static void write_tone(const char *path, int format, double freq) {
  SF_INFO info = {.samplerate = 44100, .channels = 1, .format = format};
  SNDFILE *sf = sf_open(path, SFM_WRITE, &info);
  cr_assert_not_null(sf);
  static float buf[22050];
  for (int i = 0; i < 22050; i++)
    buf[i] = (float) (0.4 * sin(2 * M_PI * freq * i / 44100));
  cr_assert_eq(sf_writef_float(sf, buf, 22050), 22050);
  sf_close(sf);
}

/* Two assets in store A; their ids in ids[2][65]. */
static sto_asset_store *make_assets(char ids[2][65]) {
  char err[256], path[256];
  sto_asset_store *st;
  cr_assert_eq(sto_asset_store_open(store_a, &st, err, sizeof err), 0, "%s", err);
  sto_asset_info info;
  snprintf(path, sizeof path, "%s/kick.wav", dir);
  write_tone(path, SF_FORMAT_WAV | SF_FORMAT_PCM_16, 60);
  cr_assert_eq(sto_asset_import(st, path, NULL, 48000, &info, err, sizeof err), 0, "%s", err);
  strcpy(ids[0], info.id);
  snprintf(path, sizeof path, "%s/pad.flac", dir);
  write_tone(path, SF_FORMAT_FLAC | SF_FORMAT_PCM_24, 220);
  cr_assert_eq(sto_asset_import(st, path, "Pad", 48000, &info, err, sizeof err), 0, "%s", err);
  strcpy(ids[1], info.id);
  return st;
}

static sto_asset_store *open_b(void) {
  char err[256];
  sto_asset_store *st;
  cr_assert_eq(sto_asset_store_open(store_b, &st, err, sizeof err), 0, "%s", err);
  return st;
}

Test(sto_archive, export_then_import_gives_the_same_project_and_assets) {
  char err[256], ids[2][65];
  uint64_t hash;
  sto_project *sp = make_project(150, &hash);
  sto_asset_store *a = make_assets(ids);
  const char *list[] = {ids[0], ids[1], ids[0]};
  /* Exported while the project is open, its WAL not checkpointed. */
  cr_assert_eq(sto_archive_export(project, a, list, 3, archive, err, sizeof err), 0, "%s", err);
  cr_assert_eq(sto_archive_export(project, a, list, 3, archive, err, sizeof err), STO_ERR_EXISTS);
  uint8_t buf[64];
  mdl_op op = op_create(MDL_ID_MAKE(2, 1000));
  mdl_txn t = {1, &op};
  int n = proto_encode_txn(&t, buf, sizeof buf);
  cr_assert_eq(sto_project_append(sp, 151, 2, buf, (size_t) n), 0, "the project goes on");
  sto_project_close(sp);
  cr_assert_eq(files_under(projects), 1, "no temporaries left");

  sto_asset_store *b = open_b();
  sto_archive_result res;
  cr_assert_eq(sto_archive_import(archive, b, 48000, imported, &res, err, sizeof err), 0, "%s",
               err);
  cr_assert_eq(res.project_hash, hash);
  cr_assert_eq(res.last_seq, 150, "the archive holds what was committed when it was made");
  cr_assert_eq(res.n_assets, 2);
  cr_assert_eq(sto_project_open(imported, STO_OPEN_EXISTING, &sp, err, sizeof err), 0, "%s", err);
  mdl_project *loaded = mdl_project_create(&sto__alloc, NULL);
  uint64_t seq;
  cr_assert_eq(sto_project_load_model(sp, loaded, &seq, err, sizeof err), 0, "%s", err);
  cr_assert_eq(seq, 150);
  cr_assert_eq(mdl_project_hash(loaded), hash);
  mdl_project_destroy(loaded);
  sto_project_close(sp);
  for (int i = 0; i < 2; i++) {
    sto_asset_info ia, ib;
    cr_assert_eq(sto_asset_info_get(a, ids[i], 48000, &ia), 0);
    cr_assert_eq(sto_asset_info_get(b, ids[i], 48000, &ib), 0);
    cr_assert_str_eq(ia.name, ib.name);
    cr_assert_str_eq(ia.ext, ib.ext);
    cr_assert_eq(ia.frames, ib.frames);
  }
  cr_assert_eq(files_under(store_b), 6);
  cr_assert_eq(files_under(projects), 2);

  /* Again, elsewhere: the assets are reused, the target is not overwritten. */
  cr_assert_eq(sto_archive_import(archive, b, 48000, imported, &res, err, sizeof err),
               STO_ERR_EXISTS);
  char third[200];
  snprintf(third, sizeof third, "%s/p3.backline", projects);
  cr_assert_eq(sto_archive_import(archive, b, 48000, third, &res, err, sizeof err), 0, "%s", err);
  cr_assert_eq(res.project_hash, hash);
  cr_assert_eq(files_under(store_b), 6);
  sto_asset_close(a);
  sto_asset_close(b);
}

Test(sto_archive, export_refuses_missing_inputs) {
  char err[256], ids[2][65];
  uint64_t hash;
  sto_asset_store *a = make_assets(ids);
  const char *list[] = {ids[0]};
  cr_assert_eq(sto_archive_export(project, a, list, 1, archive, err, sizeof err),
               STO_ERR_NOT_FOUND);
  sto_project *sp = make_project(5, &hash);
  sto_project_close(sp);
  char missing[65];
  memset(missing, 'a', 64);
  missing[64] = 0;
  const char *bad[] = {ids[0], missing};
  cr_assert_eq(sto_archive_export(project, a, bad, 2, archive, err, sizeof err), STO_ERR_NO_ASSET);
  cr_assert(strstr(err, missing), "%s", err);
  char notes[200];
  snprintf(notes, sizeof notes, "%s/notes.txt", dir);
  FILE *f = fopen(notes, "w");
  fputs("not a project\n", f);
  fclose(f);
  cr_assert_eq(sto_archive_export(notes, a, list, 1, archive, err, sizeof err),
               STO_ERR_NOT_PROJECT);
  cr_assert(strstr(err, "notes.txt"), "%s", err);
  /* A damaged original is caught on the way out. */
  char orig[512];
  cr_assert_eq(sto_asset_original_path(a, ids[0], orig, sizeof orig), 0);
  f = fopen(orig, "r+b");
  fseek(f, 100, SEEK_SET);
  fputc(0x55, f);
  fclose(f);
  cr_assert_eq(sto_archive_export(project, a, list, 1, archive, err, sizeof err), STO_ERR_CHECKSUM);
  cr_assert_eq(access(archive, F_OK), -1);
  cr_assert_eq(files_under(dir) - files_under(store_a), 4, "p1, notes and the two tones");
  sto_asset_close(a);
}

/* Runs SQL on the archive file. */
static void tamper(const char *sql) {
  sqlite3 *db;
  cr_assert_eq(sqlite3_open(archive, &db), SQLITE_OK);
  cr_assert_eq(sqlite3_exec(db, sql, 0, 0, 0), SQLITE_OK, "%s", sqlite3_errmsg(db));
  sqlite3_close(db);
}

static void copy_file(const char *from, const char *to) {
  char cmd[600];
  snprintf(cmd, sizeof cmd, "cp %s %s", from, to);
  cr_assert_eq(system(cmd), 0);
}

Test(sto_archive, foreign_damaged_and_newer_archives_are_refused) {
  char err[256], ids[2][65], good[200];
  uint64_t hash;
  sto_project *sp = make_project(50, &hash);
  sto_project_close(sp);
  sto_asset_store *a = make_assets(ids);
  const char *list[] = {ids[0], ids[1]};
  cr_assert_eq(sto_archive_export(project, a, list, 2, archive, err, sizeof err), 0, "%s", err);
  snprintf(good, sizeof good, "%s/good.copy", dir);
  copy_file(archive, good);
  sto_asset_store *b = open_b();
  sto_archive_result res;

  /* Not an archive at all, or another SQLite file. */
  char notes[200];
  snprintf(notes, sizeof notes, "%s/notes.txt", dir);
  FILE *f = fopen(notes, "w");
  fputs("a shopping list, certainly not an archive\n", f);
  fclose(f);
  cr_assert_eq(sto_archive_import(notes, b, 48000, imported, &res, err, sizeof err),
               STO_ERR_NOT_ARCHIVE);
  cr_assert(strstr(err, "notes.txt") && strstr(err, "not a Backline archive"), "%s", err);
  cr_assert_eq(sto_archive_import(project, b, 48000, imported, &res, err, sizeof err),
               STO_ERR_NOT_ARCHIVE, "a project is not an archive");

  /* One asset byte changed. */
  tamper("UPDATE chunks SET bytes = CAST(X'00' || substr(bytes, 2) AS BLOB) WHERE file = 3"
         " AND n = 0");
  cr_assert_eq(sto_archive_import(archive, b, 48000, imported, &res, err, sizeof err),
               STO_ERR_CHECKSUM);
  cr_assert(strstr(err, "damaged") && strstr(err, "Pad"), "%s", err);
  cr_assert_eq(res.project_hash, 0);

  /* The project's bytes changed. */
  copy_file(good, archive);
  tamper("UPDATE chunks SET bytes = CAST(bytes || X'00' AS BLOB) WHERE file = 1 AND n = 0");
  cr_assert_eq(sto_archive_import(archive, b, 48000, imported, &res, err, sizeof err),
               STO_ERR_CHECKSUM);

  /* A chunk missing. */
  copy_file(good, archive);
  tamper("DELETE FROM chunks WHERE file = 2");
  cr_assert_eq(sto_archive_import(archive, b, 48000, imported, &res, err, sizeof err),
               STO_ERR_CHECKSUM);

  /* A newer archive format. */
  copy_file(good, archive);
  tamper("UPDATE archive SET value = 99 WHERE key = 'version'");
  cr_assert_eq(sto_archive_import(archive, b, 48000, imported, &res, err, sizeof err),
               STO_ERR_TOO_NEW);
  cr_assert(strstr(err, "newer Backline"), "%s", err);

  /* Bytes of the file overwritten, and the file cut short. */
  copy_file(good, archive);
  char cmd[600];
  snprintf(cmd, sizeof cmd,
           "dd if=/dev/urandom of=%s bs=1 seek=$(( $(stat -c %%s %s) / 2 )) count=3000"
           " conv=notrunc status=none",
           archive, archive);
  cr_assert_eq(system(cmd), 0);
  int rc = sto_archive_import(archive, b, 48000, imported, &res, err, sizeof err);
  cr_assert(rc == STO_ERR_CHECKSUM || rc == STO_ERR_NOT_ARCHIVE, "%d %s", rc, err);
  snprintf(cmd, sizeof cmd, "head -c 20000 %s > %s", good, archive);
  cr_assert_eq(system(cmd), 0);
  rc = sto_archive_import(archive, b, 48000, imported, &res, err, sizeof err);
  cr_assert(rc == STO_ERR_CHECKSUM || rc == STO_ERR_NOT_ARCHIVE, "%d %s", rc, err);

  cr_assert_eq(files_under(store_b), 0, "nothing stored from a bad archive");
  cr_assert_eq(files_under(projects), 1, "only the original project");
  sto_asset_close(a);
  sto_asset_close(b);
}

Test(sto_archive, a_newer_project_inside_is_refused) {
  char err[256], ids[2][65];
  uint64_t hash;
  sto_project *sp = make_project(5, &hash);
  cr_assert_eq(sto_project_set_meta_int(sp, "schema_version", 99), 0);
  sto_project_close(sp);
  sto_asset_store *a = make_assets(ids);
  const char *list[] = {ids[0]};
  cr_assert_eq(sto_archive_export(project, a, list, 1, archive, err, sizeof err), 0, "%s", err);
  sto_asset_store *b = open_b();
  sto_archive_result res;
  cr_assert_eq(sto_archive_import(archive, b, 48000, imported, &res, err, sizeof err),
               STO_ERR_TOO_NEW);
  cr_assert(strstr(err, "newer Backline"), "%s", err);
  cr_assert_eq(files_under(store_b), 0);
  cr_assert_eq(files_under(projects), 1);
  sto_asset_close(a);
  sto_asset_close(b);
}

Test(sto_archive, failing_steps_leave_nothing_behind) {
  char err[256], ids[2][65];
  uint64_t hash;
  sto_project *sp = make_project(40, &hash);
  sto_asset_store *a = make_assets(ids);
  const char *list[] = {ids[0], ids[1]};
  long n;
  for (n = 1; n < 10000; n++) {
    sto__fault_after(n);
    int rc = sto_archive_export(project, a, list, 2, archive, err, sizeof err);
    sto__fault_after(0);
    if (rc == 0) break;
    cr_assert_eq(access(archive, F_OK), -1, "fault %ld: %s", n, err);
    cr_assert_eq(files_under(dir) - files_under(store_a) - files_under(projects), 2,
                 "fault %ld left a temporary (%s)", n, err);
  }
  cr_assert_gt(n, 10);
  sto_project_close(sp);
  sto_asset_store *b = open_b();
  sto_archive_result res;
  for (n = 1; n < 10000; n++) {
    sto__fault_after(n);
    int rc = sto_archive_import(archive, b, 48000, imported, &res, err, sizeof err);
    sto__fault_after(0);
    if (rc == 0) break;
    cr_assert_eq(res.project_hash, 0);
    cr_assert_eq(access(imported, F_OK), -1, "fault %ld: %s", n, err);
    cr_assert_eq(files_under(projects), 1, "fault %ld left a temporary (%s)", n, err);
    cr_assert_eq(files_under(store_b) % 3, 0, "assets are whole or absent");
  }
  cr_assert_gt(n, 10);
  cr_assert_eq(res.project_hash, hash);
  sto_asset_close(a);
  sto_asset_close(b);
}

/* The assets the project's clips use go into the archive without being
 * listed; a clip whose asset is missing stops the export with a reason. */
Test(sto_archive, the_clips_assets_go_with_the_project) {
  char err[256], ids[2][65];
  uint64_t hash;
  sto_project *sp = make_project(3, &hash);
  sto_asset_store *a = make_assets(ids);
  mdl_prop_value audio[] = {{MDL_PROP_KIND, v_int(MDL_TRACK_AUDIO)}};
  mdl_prop_value clip[] = {{MDL_PROP_ASSET, v_str(ids[1])}};
  mdl_txn t = TXN(op_make(MDL_TYPE_TRACK, MDL_ID_MAKE(2, 50), 0, 1, audio),
                  op_make(MDL_TYPE_CLIP, MDL_ID_MAKE(2, 51), MDL_ID_MAKE(2, 50), 1, clip),
                  op_make(MDL_TYPE_CLIP, MDL_ID_MAKE(2, 52), MDL_ID_MAKE(2, 50), 1, clip));
  uint8_t buf[512];
  int n = proto_encode_txn(&t, buf, sizeof buf);
  cr_assert_eq(sto_project_append(sp, 4, 2, buf, (size_t) n), 0);
  cr_assert_eq(sto_archive_export(project, a, NULL, 0, archive, err, sizeof err), 0, "%s", err);
  sto_asset_store *b = open_b();
  sto_archive_result res;
  cr_assert_eq(sto_archive_import(archive, b, 48000, imported, &res, err, sizeof err), 0, "%s",
               err);
  cr_assert_eq(res.n_assets, 1, "one asset, used by two clips");
  sto_asset_info info;
  cr_assert_eq(sto_asset_info_get(b, ids[1], 48000, &info), 0, "the pad came along");
  cr_assert_neq(sto_asset_info_get(b, ids[0], 48000, &info), 0, "the kick is used by no clip");
  /* A clip on an asset the store does not have. */
  char missing[65];
  memset(missing, 'e', 64), missing[64] = 0;
  mdl_txn t2 = TXN(op_set(MDL_ID_MAKE(2, 52), MDL_PROP_ASSET, v_str(missing)));
  n = proto_encode_txn(&t2, buf, sizeof buf);
  cr_assert_eq(sto_project_append(sp, 5, 2, buf, (size_t) n), 0);
  char again[200];
  snprintf(again, sizeof again, "%s/again.backline-archive", dir);
  cr_assert_eq(sto_archive_export(project, a, NULL, 0, again, err, sizeof err), STO_ERR_NO_ASSET);
  cr_assert(strstr(err, "a clip uses asset eeee"), "%s", err);
  cr_assert_eq(access(again, F_OK), -1, "nothing half-written");
  sto_project_close(sp);
  sto_asset_close(a);
  sto_asset_close(b);
}
