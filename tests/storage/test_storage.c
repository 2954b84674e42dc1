/* Storage: durable append, replay to the same hash, refusal of foreign files. */
#include "../shared/test_util.h"
#include "protocol/proto_msg.h"
#include "shared/mdl_libc.h"
#include "storage/sto_err.h"
#include "storage/sto_project.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static char dir[64], path[128];
static void setup(void) {
  strcpy(dir, "/tmp/backline-sto-XXXXXX");
  cr_assert_not_null(mkdtemp(dir));
  snprintf(path, sizeof path, "%s/p.backline", dir);
}
static void teardown(void) {
  char cmd[128];
  snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
  cr_assert_eq(system(cmd), 0);
}
TestSuite(sto_project, .init = setup, .fini = teardown);

static const mdl_alloc heap = MDL_LIBC_ALLOC;

typedef struct replay_ctx {
  mdl_project *p;
  proto_scratch *s;
  uint64_t last;
} replay_ctx;

static int apply_cb(void *ud, uint64_t seq, uint32_t origin, const void *data, size_t len) {
  replay_ctx *c = ud;
  mdl_txn t;
  cr_assert_eq(seq, c->last + 1);
  c->last = seq;
  cr_assert_eq(proto_decode_txn(data, len, c->s, &t), 0);
  return mdl_txn_apply(c->p, &t, origin, NULL);
}

Test(sto_project, append_then_reopen_replays_to_same_hash) {
  char err[256];
  sto_project *sp;
  cr_assert_eq(sto_project_open(path, STO_OPEN_CREATE, &sp, err, sizeof err), 0, "%s", err);
  mdl_project *live = mdl_project_create(&heap, NULL);
  uint8_t buf[4096];
  for (uint32_t i = 1; i <= 150; i++) {
    mdl_op op = i % 3 == 1
                    ? op_create(MDL_ID_MAKE(2, i))
                    : op_set(MDL_ID_MAKE(2, i - (i - 1) % 3), MDL_PROP_GAIN, v_real(i / 100.0));
    mdl_txn t = {1, &op};
    cr_assert_eq(mdl_txn_apply(live, &t, 2, NULL), 0);
    int n = proto_encode_txn(&t, buf, sizeof buf);
    cr_assert_gt(n, 0);
    cr_assert_eq(sto_project_append(sp, i, 2, buf, (size_t) n), 0);
  }
  cr_assert_eq(sto_project_append(sp, 500, 2, buf, 3), STO_ERR_SEQ);
  cr_assert_eq(sto_project_set_meta_int(sp, "next_client", 17), 0);
  sto_project_close(sp);

  cr_assert_eq(sto_project_open(path, STO_OPEN_EXISTING, &sp, err, sizeof err), 0, "%s", err);
  cr_assert_eq(sto_project_last_seq(sp), 150);
  cr_assert_eq(sto_project_meta_int(sp, "next_client", 0), 17);
  replay_ctx *c = calloc(1, sizeof *c);
  c->s = calloc(1, sizeof *c->s);
  c->p = mdl_project_create(&heap, NULL);
  cr_assert_eq(sto_project_replay(sp, 0, apply_cb, c), 0);
  cr_assert_eq(c->last, 150);
  cr_assert_eq(mdl_project_hash(c->p), mdl_project_hash(live));
  c->last = 100;
  mdl_project_reset(c->p, NULL);
  cr_assert_neq(sto_project_replay(sp, 100, apply_cb, c), 0, "a suffix alone does not apply");
  mdl_project_destroy(c->p);
  mdl_project_destroy(live);
  free(c->s);
  free(c);
  sto_project_close(sp);
}

Test(sto_project, foreign_files_are_refused_with_a_clear_message) {
  char err[256];
  sto_project *sp;
  cr_assert_eq(sto_project_open(path, STO_OPEN_EXISTING, &sp, err, sizeof err), STO_ERR_NOT_FOUND);
  cr_assert_null(sp);
  FILE *f = fopen(path, "w");
  fputs("this is not a database, it is a shopping list\n", f);
  fclose(f);
  cr_assert_eq(sto_project_open(path, STO_OPEN_EXISTING, &sp, err, sizeof err),
               STO_ERR_NOT_PROJECT);
  cr_assert(strstr(err, "is not a Backline project"), "%s", err);
  unlink(path);
  char cmd[256];
  snprintf(cmd, sizeof cmd, "sqlite3 %s 'CREATE TABLE t(x)'", path);
  if (system(cmd) == 0) {
    cr_assert_eq(sto_project_open(path, STO_OPEN_CREATE, &sp, err, sizeof err), STO_ERR_NOT_PROJECT,
                 "%s", err);
  }
}

Test(sto_project, newer_schema_is_refused) {
  char err[256];
  sto_project *sp;
  cr_assert_eq(sto_project_open(path, STO_OPEN_CREATE, &sp, err, sizeof err), 0);
  cr_assert_eq(sto_project_set_meta_int(sp, "schema_version", STO_SCHEMA_VERSION + 1), 0);
  sto_project_close(sp);
  cr_assert_eq(sto_project_open(path, STO_OPEN_EXISTING, &sp, err, sizeof err), STO_ERR_TOO_NEW);
  cr_assert(strstr(err, "newer Backline"), "%s", err);
}

Test(sto_project, group_commit_stores_all_or_nothing) {
  char err[256];
  sto_project *sp;
  cr_assert_eq(sto_project_open(path, STO_OPEN_CREATE, &sp, err, sizeof err), 0, "%s", err);
  uint8_t buf[256];
  mdl_op op = op_create(MDL_ID_MAKE(2, 1));
  mdl_txn t = {1, &op};
  int n = proto_encode_txn(&t, buf, sizeof buf);
  cr_assert_eq(sto_project_begin(sp), 0);
  for (uint64_t s = 1; s <= 10; s++)
    cr_assert_eq(sto_project_append(sp, s, 2, buf, (size_t) n), 0);
  cr_assert_eq(sto_project_commit(sp), 0);
  cr_assert_eq(sto_project_begin(sp), 0);
  for (uint64_t s = 11; s <= 15; s++)
    cr_assert_eq(sto_project_append(sp, s, 2, buf, (size_t) n), 0);
  cr_assert_eq(sto_project_last_seq(sp), 15);
  sto_project_rollback(sp);
  cr_assert_eq(sto_project_last_seq(sp), 10);
  cr_assert_eq(sto_project_append(sp, 11, 2, buf, (size_t) n), 0, "appends go on after a rollback");
  sto_project_close(sp);
  cr_assert_eq(sto_project_open(path, STO_OPEN_EXISTING, &sp, err, sizeof err), 0, "%s", err);
  cr_assert_eq(sto_project_last_seq(sp), 11);
  sto_project_close(sp);
}

/* Appends N one-op transactions (create, then gain sets) from seq FIRST. */
static void append_some(sto_project *sp, mdl_project *live, uint64_t first, uint64_t n) {
  uint8_t buf[256];
  for (uint64_t s = first; s < first + n; s++) {
    mdl_op op = s == 1 ? op_create(MDL_ID_MAKE(2, 1))
                       : op_set(MDL_ID_MAKE(2, 1), MDL_PROP_GAIN, v_real((double) (s % 400) / 100));
    mdl_txn t = {1, &op};
    cr_assert_eq(mdl_txn_apply(live, &t, 2, NULL), 0);
    int len = proto_encode_txn(&t, buf, sizeof buf);
    cr_assert_eq(sto_project_append(sp, s, 2, buf, (size_t) len), 0);
  }
}

Test(sto_project, version_1_file_is_upgraded_and_keeps_its_log) {
  char cmd[512], err[256];
  snprintf(cmd, sizeof cmd,
           "sqlite3 %s \"CREATE TABLE meta(key TEXT PRIMARY KEY, value ANY) STRICT, WITHOUT ROWID;"
           "CREATE TABLE ops(seq INTEGER PRIMARY KEY, origin INTEGER NOT NULL, txn BLOB NOT NULL) "
           "STRICT;"
           "INSERT INTO meta VALUES('schema_version', 1);\"",
           path);
  cr_assert_eq(system(cmd), 0);
  sto_project *sp;
  cr_assert_eq(sto_project_open(path, STO_OPEN_EXISTING, &sp, err, sizeof err), 0, "%s", err);
  cr_assert_eq(sto_project_meta_int(sp, "schema_version", 0), STO_SCHEMA_VERSION);
  mdl_project *live = mdl_project_create(&heap, NULL), *loaded = mdl_project_create(&heap, NULL);
  append_some(sp, live, 1, 20);
  uint8_t state[8192];
  int n = proto_encode_project(live, state, sizeof state);
  cr_assert_eq(sto_project_put_snapshot(sp, 20, MDL_SCHEMA_VERSION, state, (size_t) n), 0,
               "the snapshots table exists after the upgrade");
  uint64_t seq;
  cr_assert_eq(sto_project_load_model(sp, loaded, &seq, err, sizeof err), 0, "%s", err);
  cr_assert_eq(seq, 20);
  cr_assert_eq(mdl_project_hash(loaded), mdl_project_hash(live));
  mdl_project_destroy(live);
  mdl_project_destroy(loaded);
  sto_project_close(sp);
}

Test(sto_project, load_starts_from_snapshot_and_compaction_keeps_the_state) {
  char err[256];
  sto_project *sp;
  cr_assert_eq(sto_project_open(path, STO_OPEN_CREATE, &sp, err, sizeof err), 0, "%s", err);
  mdl_project *live = mdl_project_create(&heap, NULL), *loaded = mdl_project_create(&heap, NULL);
  append_some(sp, live, 1, 500);
  uint8_t state[8192];
  int n = proto_encode_project(live, state, sizeof state);
  cr_assert_eq(sto_project_put_snapshot(sp, 500, MDL_SCHEMA_VERSION, state, (size_t) n), 0);
  cr_assert_eq(sto_project_put_snapshot(sp, 501, MDL_SCHEMA_VERSION, state, (size_t) n),
               STO_ERR_SEQ);
  append_some(sp, live, 501, 100);
  cr_assert_eq(sto_project_compact(sp, 550), 0);
  sto_project_close(sp);
  cr_assert_eq(sto_project_open(path, STO_OPEN_EXISTING, &sp, err, sizeof err), 0, "%s", err);
  uint64_t seq;
  cr_assert_eq(sto_project_load_model(sp, loaded, &seq, err, sizeof err), 0, "%s", err);
  cr_assert_eq(seq, 600);
  cr_assert_eq(mdl_project_hash(loaded), mdl_project_hash(live));
  mdl_project_destroy(live);
  mdl_project_destroy(loaded);
  /* The log before the snapshot is gone; after it, intact. */
  char cmd[256];
  snprintf(cmd, sizeof cmd, "test $(sqlite3 %s 'SELECT min(seq) FROM ops') = 501", path);
  cr_assert_eq(system(cmd), 0, "compaction stops at the newest snapshot");
  sto_project_close(sp);
}

Test(sto_project, snapshot_that_does_not_decode_falls_back_to_full_replay) {
  char err[256];
  sto_project *sp;
  cr_assert_eq(sto_project_open(path, STO_OPEN_CREATE, &sp, err, sizeof err), 0, "%s", err);
  mdl_project *live = mdl_project_create(&heap, NULL), *loaded = mdl_project_create(&heap, NULL);
  append_some(sp, live, 1, 50);
  cr_assert_eq(sto_project_put_snapshot(sp, 40, MDL_SCHEMA_VERSION, "garbage", 7), 0);
  uint64_t seq;
  cr_assert_eq(sto_project_load_model(sp, loaded, &seq, err, sizeof err), 0, "%s", err);
  cr_assert_eq(seq, 50);
  cr_assert_eq(mdl_project_hash(loaded), mdl_project_hash(live));
  mdl_project_destroy(live);
  mdl_project_destroy(loaded);
  sto_project_close(sp);
}
