/* gen_corpus: writes the seed corpora of the fuzz targets, a few valid
 * inputs each, made with Backline's own encoders.
 *
 *   build/fuzz/gen_corpus tests/fuzz/corpus
 *
 * writes a folder DIR/NAME of files for every target NAME (`tools/fuzz
 * corpus` runs it; the committed corpus is its output). Deterministic, so running it
 * again changes nothing in git. */
#include "tests/fuzz/fuzz_check.h"
#include "protocol/proto_msg.h"
#include "storage/sto_project.h"

#include <errno.h>
#include <sndfile.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char *root;

static void die(const char *what) {
  fprintf(stderr, "gen_corpus: %s\n", what);
  exit(1);
}

static void put_file(const char *target, const char *name, const void *data, size_t len) {
  char path[1024];
  snprintf(path, sizeof path, "%s/%s", root, target);
  if (mkdir(path, 0777) != 0 && errno != EEXIST) die(path);
  snprintf(path, sizeof path, "%s/%s/%s", root, target, name);
  FILE *f = fopen(path, "wb");
  if (!f || fwrite(data, 1, len, f) != len || fclose(f) != 0) die(path);
}

static mdl_value v_str(const char *s) {
  mdl_value v = {.kind = MDL_VAL_STR, .u.s = {s, (uint32_t) strlen(s)}};
  return v;
}
static mdl_value v_real(double r) {
  mdl_value v = {.kind = MDL_VAL_REAL, .u.r = r};
  return v;
}
static mdl_value v_int(int64_t i) {
  mdl_value v = {.kind = MDL_VAL_INT, .u.i = i};
  return v;
}
static mdl_value v_bool(bool b) {
  mdl_value v = {.kind = MDL_VAL_BOOL, .u.b = b};
  return v;
}
static mdl_op op_set(mdl_id id, int prop, mdl_value v) {
  mdl_op op = {.kind = MDL_OP_SET, .id = id, .prop = (uint8_t) prop, .value = v};
  return op;
}

#define N(a) (sizeof(a) / sizeof((a)[0]))
#define T1   MDL_ID_MAKE(1, 1) /* tracks of fuzz_seed_project */
#define T2   MDL_ID_MAKE(1, 2)
#define T3   MDL_ID_MAKE(2, 1)
#define T4   MDL_ID_MAKE(3, 3)

/* ---- Transactions ---------------------------------------------------------- */

static const mdl_prop_value keys_props[] = {
    {MDL_PROP_NAME, {.kind = MDL_VAL_STR, .u.s = {"Keys", 4}}},
    {MDL_PROP_GAIN, {.kind = MDL_VAL_REAL, .u.r = 0.8}},
    {MDL_PROP_PAN, {.kind = MDL_VAL_REAL, .u.r = -0.5}},
    {MDL_PROP_COLOUR, {.kind = MDL_VAL_INT, .u.i = 0x123456}},
    {MDL_PROP_SOLO, {.kind = MDL_VAL_BOOL, .u.b = true}},
};
static const mdl_op create_ops[] = {
    {.kind = MDL_OP_CREATE,
     .type = MDL_TYPE_TRACK,
     .id = MDL_ID_MAKE(1, 9),
     .n_props = 5,
     .props = keys_props},
};
static mdl_op set_ops[10];
static const mdl_op move_delete_ops[] = {
    {.kind = MDL_OP_MOVE, .id = T2, .after = MDL_ID_NONE},
    {.kind = MDL_OP_MOVE, .id = T1, .after = T4},
    {.kind = MDL_OP_DELETE, .id = T3},
};
/* Creates, then a bad value in the last op: refused as a whole. */
static mdl_op half_bad_ops[4];
static mdl_op fill_ops[61]; /* 60 new tracks (64 in all), then one too many */

static void make_txns(void) {
  mdl_op sets[] = {
      op_set(T1, MDL_PROP_GAIN, v_real(1.5)),
      op_set(T2, MDL_PROP_PAN, v_real(0.75)),
      op_set(T3, MDL_PROP_NAME, v_str("Kick \xe2\x99\xaa")),
      op_set(T4, MDL_PROP_COLOUR, v_int(0xFF00FF)),
      op_set(T1, MDL_PROP_MUTE, v_bool(false)),
      op_set(T2, MDL_PROP_SOLO, v_bool(true)),
      op_set(MDL_ID_PROJECT, MDL_PROP_TEMPO, v_int(140)),
      op_set(MDL_ID_PROJECT, MDL_PROP_TS_DEN, v_int(8)),
      op_set(MDL_ID_PROJECT, MDL_PROP_METRONOME, v_bool(false)),
      op_set(MDL_ID_PROJECT, MDL_PROP_NAME, v_str("Song")),
  };
  memcpy(set_ops, sets, sizeof sets);
  half_bad_ops[0] = create_ops[0];
  half_bad_ops[1] = (mdl_op){.kind = MDL_OP_DELETE, .id = T1};
  half_bad_ops[2] =
      (mdl_op){.kind = MDL_OP_CREATE, .type = MDL_TYPE_TRACK, .id = MDL_ID_MAKE(1, 10)};
  half_bad_ops[3] = op_set(T2, MDL_PROP_GAIN, v_real(7));
  for (uint32_t i = 0; i < N(fill_ops); i++)
    fill_ops[i] =
        (mdl_op){.kind = MDL_OP_CREATE, .type = MDL_TYPE_TRACK, .id = MDL_ID_MAKE(1, 100 + i)};
}

static int encode_txn(const mdl_op *ops, size_t n, unsigned char *buf, size_t cap) {
  mdl_txn txn = {(uint32_t) n, ops};
  int len = proto_encode_txn(&txn, buf, cap);
  if (len <= 0) die("proto_encode_txn");
  return len;
}

/* fuzz_apply's record: u8 origin selector, u16 length, the transaction. */
static size_t add_record(unsigned char *out, size_t at, uint8_t sel, const mdl_op *ops, size_t n) {
  int len = encode_txn(ops, n, out + at + 3, 8192);
  out[at] = sel;
  out[at + 1] = (unsigned char) len;
  out[at + 2] = (unsigned char) (len >> 8);
  return at + 3 + (size_t) len;
}

static void gen_apply(void) {
  static unsigned char buf[65536];
  size_t n;
  n = add_record(buf, 0, 1, create_ops, N(create_ops));
  put_file("apply", "create", buf, n);
  n = add_record(buf, 0, 0, set_ops, N(set_ops));
  put_file("apply", "set", buf, n);
  n = add_record(buf, 0, 2, move_delete_ops, N(move_delete_ops));
  put_file("apply", "move_delete", buf, n);
  n = add_record(buf, 0, 1, half_bad_ops, N(half_bad_ops));
  put_file("apply", "half_bad", buf, n);
  n = add_record(buf, 0, 1, fill_ops, N(fill_ops) - 1);
  n = add_record(buf, n, 1, fill_ops + 60, 1);
  put_file("apply", "fill", buf, n);
  n = add_record(buf, 0, 1, create_ops, N(create_ops));
  n = add_record(buf, n, 3, set_ops, 4);
  n = add_record(buf, n, 1, half_bad_ops, N(half_bad_ops));
  n = add_record(buf, n, 0, move_delete_ops, N(move_delete_ops));
  n = add_record(buf, n, 0x85, create_ops, N(create_ops));
  put_file("apply", "sequence", buf, n);
}

/* ---- Messages ----------------------------------------------------------------- */

static void put_msg(const char *name, const proto_msg *m) {
  static unsigned char buf[PROTO_MAX_MSG];
  int n = proto_encode(m, buf, sizeof buf);
  if (n <= 0) die(name);
  put_file("proto_decode", name, buf, (size_t) n);
}

static void gen_proto_decode(const mdl_project *seed) {
  proto_msg m;
  m = (proto_msg){.type = PROTO_HELLO};
  m.u.hello = (proto_hello){1, "my-song", 7, "Ana \xc3\xb1", 6, 0x00FF88, 3};
  put_msg("hello", &m);
  m = (proto_msg){.type = PROTO_WELCOME};
  m.u.welcome = (proto_welcome){.version = 1, .client_id = 4, .seq = 17, .snapshot = seed};
  put_msg("welcome", &m);
  m = (proto_msg){.type = PROTO_SUBMIT};
  m.u.submit = (proto_submit){5, {N(create_ops), create_ops}};
  put_msg("submit_create", &m);
  m.u.submit = (proto_submit){6, {N(set_ops), set_ops}};
  put_msg("submit_set", &m);
  m = (proto_msg){.type = PROTO_ACK};
  m.u.ack = (proto_ack){5, 18};
  put_msg("ack", &m);
  m = (proto_msg){.type = PROTO_REJECT};
  m.u.reject = (proto_reject){6, -208, "op 0: gain 7 is out of range (0 to 4)", 37};
  put_msg("reject", &m);
  m = (proto_msg){.type = PROTO_BROADCAST};
  m.u.broadcast = (proto_broadcast){19, 2, {N(move_delete_ops), move_delete_ops}};
  put_msg("broadcast", &m);
  m = (proto_msg){.type = PROTO_PRESENCE};
  m.u.presence = (proto_presence){2, "Bo", 2, 0xABCDEF, T3, true};
  put_msg("presence", &m);
  m = (proto_msg){.type = PROTO_METERS};
  m.u.meters.position = 48000;
  m.u.meters.playing = true;
  m.u.meters.n = 3;
  m.u.meters.m[0] = (proto_meter){0, 0.9f, 0.3f};
  m.u.meters.m[1] = (proto_meter){T1, 0.5f, 0.1f};
  m.u.meters.m[2] = (proto_meter){T2, 0, 0};
  put_msg("meters", &m);
  m = (proto_msg){.type = PROTO_TRANSPORT};
  m.u.transport.command = 1;
  put_msg("transport", &m);
}

/* ---- Snapshots ------------------------------------------------------------------ */

static void put_snapshot(const char *name, const mdl_project *p) {
  static unsigned char buf[16384];
  int n = proto_encode_project(p, buf, sizeof buf);
  if (n <= 0) die(name);
  put_file("snapshot", name, buf, (size_t) n);
}

static void full_project(mdl_project *p) {
  mdl_project scratch;
  fuzz_seed_project(p);
  mdl_txn txn = {60, fill_ops};
  if (mdl_txn_apply(p, &txn, 0, &scratch, NULL)) die("fill");
}

static void gen_snapshot(const mdl_project *seed) {
  mdl_project p;
  mdl_project_init(&p, NULL);
  put_snapshot("empty", &p);
  put_snapshot("seed", seed);
  full_project(&p);
  put_snapshot("full", &p);
}

/* ---- JSON transactions ---------------------------------------------------------- */

static void gen_json(void) {
  static const char *const texts[][2] = {
      {"create", "{\"ops\": [{\"op\": \"create\", \"type\": \"track\", \"props\": {\"name\": "
                 "\"Keys\", \"gain\": 0.8, \"pan\": -0.5, \"colour\": 1193046, \"mute\": false, "
                 "\"solo\": true}}]}"},
      {"set", "{\"ops\": [{\"op\": \"set\", \"id\": \"100000001\", \"prop\": \"gain\", \"value\": "
              "1.5}, {\"op\": \"set\", \"id\": \"200000001\", \"prop\": \"name\", \"value\": "
              "\"Kick \\u266a\"}, {\"op\": \"set\", \"id\": \"project\", \"prop\": \"tempo\", "
              "\"value\": 140}, {\"op\": \"set\", \"id\": \"project\", \"prop\": \"ts_den\", "
              "\"value\": 8}, {\"op\": \"set\", \"id\": \"project\", \"prop\": \"metronome\", "
              "\"value\": false}]}"},
      {"move_delete", "{\"ops\": [{\"op\": \"move\", \"id\": \"100000002\", \"after\": null}, "
                      "{\"op\": \"move\", \"id\": \"100000001\", \"after\": \"300000003\"}, "
                      "{\"op\": \"delete\", \"id\": \"200000001\"}]}"},
      {"half_bad", "{\"ops\": [{\"op\": \"create\", \"type\": \"track\"}, {\"op\": \"delete\", "
                   "\"id\": \"100000001\"}, {\"op\": \"set\", \"id\": \"100000002\", \"prop\": "
                   "\"gain\", \"value\": 7}]}"},
      {"create_set", "{\"ops\":[{\"op\":\"create\",\"type\":\"track\",\"props\":{\"name\":\"A\"}},"
                     "{\"op\":\"set\",\"id\":\"100000000\",\"prop\":\"solo\",\"value\":true},"
                     "{\"op\":\"set\",\"id\":\"300000003\",\"prop\":\"colour\",\"value\":0}]}"},
  };
  for (size_t i = 0; i < N(texts); i++)
    put_file("json_txn", texts[i][0], texts[i][1], strlen(texts[i][1]));
}

/* ---- Project files -------------------------------------------------------------- */

static unsigned char *slurp(const char *path, size_t *len) {
  FILE *f = fopen(path, "rb");
  if (!f) die(path);
  static unsigned char buf[1 << 20];
  *len = fread(buf, 1, sizeof buf, f);
  fclose(f);
  return buf;
}

/* A schema-1 file with 512-byte pages (a small seed), as the first
 * Backline wrote it; opening it with sto_project_open upgrades it. */
static void make_v1(const char *path) {
  sqlite3 *db;
  unlink(path);
  if (sqlite3_open(path, &db) != SQLITE_OK ||
      sqlite3_exec(db,
                   "PRAGMA page_size=512;"
                   "CREATE TABLE meta(key TEXT PRIMARY KEY, value ANY) STRICT, WITHOUT ROWID;"
                   "CREATE TABLE ops(seq INTEGER PRIMARY KEY, origin INTEGER NOT NULL,"
                   " txn BLOB NOT NULL) STRICT;"
                   "INSERT INTO meta VALUES('schema_version', 1);",
                   0, 0, 0) != SQLITE_OK)
    die("make_v1");
  sqlite3_close(db);
}

static void append(sto_project *sp, uint32_t origin, const mdl_op *ops, size_t n) {
  unsigned char buf[8192];
  int len = encode_txn(ops, n, buf, sizeof buf);
  if (sto_project_append(sp, sto_project_last_seq(sp) + 1, origin, buf, (size_t) len))
    die("append");
}

static void gen_project_file(const mdl_project *seed) {
  char tmp[] = "/tmp/gen_corpus_XXXXXX", path[64], err[512];
  if (!mkdtemp(tmp)) die("mkdtemp");
  snprintf(path, sizeof path, "%s/p.db", tmp);
  size_t len;
  sto_project *sp;

  /* Schema 1, its log only (the seed project's transaction, then edits). */
  make_v1(path);
  {
    sqlite3 *db;
    unsigned char buf[8192];
    mdl_op ops[] = {create_ops[0], set_ops[9]};
    int n = encode_txn(ops, N(ops), buf, sizeof buf);
    sqlite3_stmt *st = NULL;
    if (sqlite3_open(path, &db) != SQLITE_OK ||
        sqlite3_prepare_v2(db, "INSERT INTO ops VALUES(1, 1, ?1)", -1, &st, NULL) != SQLITE_OK)
      die("v1 insert");
    sqlite3_bind_blob(st, 1, buf, n, SQLITE_STATIC);
    if (sqlite3_step(st) != SQLITE_DONE) die("v1 step");
    sqlite3_finalize(st);
    sqlite3_close(db);
  }
  put_file("project_file", "schema1", slurp(path, &len), len);

  /* Upgraded to the current schema: a log with a snapshot in the middle. */
  make_v1(path);
  if (sto_project_open(path, STO_OPEN_EXISTING, &sp, err, sizeof err)) die(err);
  append(sp, 1, create_ops, N(create_ops));
  append(sp, 0, set_ops, N(set_ops));
  {
    mdl_project p, scratch;
    unsigned char snap[8192];
    mdl_project_init(&p, NULL);
    mdl_txn t1 = {N(create_ops), create_ops}, t2 = {N(set_ops), set_ops};
    (void) seed;
    if (mdl_txn_apply(&p, &t1, 1, &scratch, NULL)) die("snapshot t1");
    int rc2 = mdl_txn_apply(&p, &t2, 0, &scratch, NULL); /* refers to seed ids: may be refused */
    (void) rc2;
    int n = proto_encode_project(&p, snap, sizeof snap);
    if (n <= 0 || sto_project_put_snapshot(sp, 1, MDL_SCHEMA_VERSION, snap, (size_t) n))
      die("snapshot");
  }
  append(sp, 2, move_delete_ops, 1);
  sto_project_close(sp);
  put_file("project_file", "upgraded_snapshot", slurp(path, &len), len);
  unlink(path);
  rmdir(tmp);
}

/* ---- Audio ------------------------------------------------------------------------ */

static void put_audio(const char *name, int format, int channels, int rate, sf_count_t frames) {
  char path[] = "/tmp/gen_corpus_audio_XXXXXX";
  int fd = mkstemp(path);
  if (fd < 0) die("mkstemp");
  close(fd);
  SF_INFO info = {.samplerate = rate, .channels = channels, .format = format};
  SNDFILE *sf = sf_open(path, SFM_WRITE, &info);
  if (!sf) die(sf_strerror(NULL));
  float buf[2 * 64];
  for (sf_count_t i = 0; i < frames; i++)
    for (int c = 0; c < channels; c++)
      buf[i * channels + c] = (float) ((i * 7 + c * 3) % 17 - 8) / 10.0f;
  if (sf_writef_float(sf, buf, frames) != frames) die("sf_writef_float");
  sf_close(sf);
  size_t len;
  put_file("asset_mem", name, slurp(path, &len), len);
  unlink(path);
}

static void gen_asset_mem(void) {
  put_audio("wav16_mono_8k.wav", SF_FORMAT_WAV | SF_FORMAT_PCM_16, 1, 8000, 40);
  put_audio("wavf32_stereo_44k.wav", SF_FORMAT_WAV | SF_FORMAT_FLOAT, 2, 44100, 24);
  put_audio("aiff24_stereo_48k.aiff", SF_FORMAT_AIFF | SF_FORMAT_PCM_24, 2, 48000, 20);
  put_audio("flac16_mono_22k.flac", SF_FORMAT_FLAC | SF_FORMAT_PCM_16, 1, 22050, 64);
}

int main(int argc, char **argv) {
  if (argc != 2) die("usage: gen_corpus DIR");
  root = argv[1];
  if (mkdir(root, 0777) != 0 && errno != EEXIST) die(root);
  mdl_project seed;
  fuzz_seed_project(&seed);
  make_txns();
  gen_apply();
  gen_proto_decode(&seed);
  gen_snapshot(&seed);
  gen_json();
  gen_project_file(&seed);
  gen_asset_mem();
  return 0;
}
