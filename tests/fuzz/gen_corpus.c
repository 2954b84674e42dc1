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
#include "shared/mdl_device.h"
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
static mdl_op op_make(int type, mdl_id id, mdl_id parent, const mdl_prop_value *pv, uint16_t n) {
  mdl_op op = {.kind = MDL_OP_CREATE,
               .type = (uint8_t) type,
               .id = id,
               .parent = parent,
               .n_props = n,
               .props = pv};
  return op;
}
static mdl_op op_move(mdl_id id, mdl_id parent, mdl_id after) {
  mdl_op op = {.kind = MDL_OP_MOVE, .id = id, .parent = parent, .after = after};
  return op;
}
static mdl_op op_delete(mdl_id id) {
  mdl_op op = {.kind = MDL_OP_DELETE, .id = id};
  return op;
}

#define N(a)   (sizeof(a) / sizeof((a)[0]))
#define NEW(k) MDL_ID_MAKE(1, 100 + (k)) /* ids the corpus creates, in client 1's space */
#define PVI(p, x)                                                                                  \
  {                                                                                                \
    (p), {                                                                                         \
      .kind = MDL_VAL_INT, .u.i = (int64_t) (x)                                                    \
    }                                                                                              \
  }
#define PVR(p, x)                                                                                  \
  {                                                                                                \
    (p), {                                                                                         \
      .kind = MDL_VAL_REAL, .u.r = (x)                                                             \
    }                                                                                              \
  }
#define PVB(p, x)                                                                                  \
  {                                                                                                \
    (p), {                                                                                         \
      .kind = MDL_VAL_BOOL, .u.b = (x)                                                             \
    }                                                                                              \
  }
#define PVS(p, x)                                                                                  \
  {                                                                                                \
    (p), {                                                                                         \
      .kind = MDL_VAL_STR, .u.s = {(x), sizeof(x) - 1 }                                            \
    }                                                                                              \
  }
#define MK(t, k, parent, pv) op_make((t), NEW(k), (parent), (pv), (uint16_t) N(pv))

/* ---- Transactions ---------------------------------------------------------- */

static const mdl_prop_value vox_pv[] = {PVI(MDL_PROP_KIND, MDL_TRACK_AUDIO),
                                        PVS(MDL_PROP_NAME, "Vox"),
                                        PVR(MDL_PROP_GAIN, 0.8),
                                        PVR(MDL_PROP_PAN, -0.5),
                                        PVI(MDL_PROP_COLOUR, 0x123456),
                                        PVB(MDL_PROP_SOLO, true)};
static const mdl_prop_value bus_pv[] = {PVI(MDL_PROP_KIND, MDL_TRACK_GROUP),
                                        PVS(MDL_PROP_NAME, "Bus")};
static const mdl_prop_value lead_pv[] = {PVS(MDL_PROP_NAME, "Lead"), PVI(MDL_PROP_MONITOR, 2)};
static const mdl_prop_value drums_pv[] = {PVI(MDL_PROP_KIND, MDL_DEV_DRUMS),
                                          PVR(MDL_PROP_PARAM0 + 1, 60)};
static const mdl_prop_value eq_pv[] = {PVI(MDL_PROP_KIND, MDL_DEV_EQ),
                                       PVR(MDL_PROP_PARAM0 + 1, -6)};
static const mdl_prop_value gate_pv[] = {PVI(MDL_PROP_KIND, MDL_DEV_GATE),
                                         PVI(MDL_PROP_SIDECHAIN, FUZZ_SEED_INST)};
static const mdl_prop_value clip_pv[] = {PVI(MDL_PROP_START, 3840), PVI(MDL_PROP_LENGTH, 1920),
                                         PVI(MDL_PROP_GROOVE, FUZZ_SEED_GROOVE)};
static const mdl_prop_value note_pv[] = {PVI(MDL_PROP_PITCH, 36), PVI(MDL_PROP_VELOCITY, 127)};
static const mdl_prop_value event_pv[] = {PVI(MDL_PROP_CONTROLLER, 129),
                                          PVI(MDL_PROP_CC_VALUE, 100)};
static const mdl_prop_value send_pv[] = {PVI(MDL_PROP_TARGET, NEW(1)), PVR(MDL_PROP_LEVEL, 1)};
static const mdl_prop_value lane_pv[] = {PVI(MDL_PROP_PARAM, MDL_PROP_PAN),
                                         PVB(MDL_PROP_ON, false)};
static const mdl_prop_value point_pv[] = {PVR(MDL_PROP_VALUE, -0.5),
                                          PVI(MDL_PROP_CURVE, MDL_CURVE_S)};
static const mdl_prop_value dlane_pv[] = {PVI(MDL_PROP_PARAM, 0)};
static const mdl_prop_value dpoint_pv[] = {PVR(MDL_PROP_VALUE, 0.75), PVI(MDL_PROP_START, 480)};
static const mdl_prop_value scene_pv[] = {PVS(MDL_PROP_NAME, "Chorus"), PVR(MDL_PROP_TEMPO, 128)};
static const mdl_prop_value slot_pv[] = {PVI(MDL_PROP_SCENE, NEW(11))};
static const mdl_prop_value marker_pv[] = {PVS(MDL_PROP_NAME, "Bridge"),
                                           PVI(MDL_PROP_START, 30720)};
static const mdl_prop_value tempo_pv[] = {PVI(MDL_PROP_START, 3840), PVR(MDL_PROP_TEMPO, 60)};
static const mdl_prop_value meter_pv[] = {PVI(MDL_PROP_BAR, 4), PVI(MDL_PROP_TS_NUM, 5),
                                          PVI(MDL_PROP_TS_DEN, 16)};
static const mdl_prop_value groove_pv[] = {PVI(MDL_PROP_STEPS, 4), PVR(MDL_PROP_SHIFT0 + 3, -0.5),
                                           PVI(MDL_PROP_ACCENT0 + 15, 127)};
static const mdl_prop_value user_pv[] = {PVS(MDL_PROP_NAME, "Bo")};
static const mdl_prop_value reverb_pv[] = {PVI(MDL_PROP_KIND, MDL_DEV_REVERB)};

/* One of every type (origin 1), on the seed project's objects and each other. */
static mdl_op create_ops[22];
static mdl_op set_ops[24];
static mdl_op move_delete_ops[8];
/* Creates, then a bad value in the last op: refused as a whole. */
static mdl_op half_bad_ops[4];
/* Routing loops and broken references: each refused. */
static mdl_op loop_ops[1], loop2_ops[1], ref_ops[1], slot_ops[1];
static mdl_op fill_ops[MDL_TXN_MAX_OPS]; /* the most one transaction may hold */

static void make_txns(void) {
  const mdl_op creates[] = {
      MK(MDL_TYPE_TRACK, 0, MDL_ID_NONE, vox_pv),
      MK(MDL_TYPE_TRACK, 1, MDL_ID_NONE, bus_pv),
      MK(MDL_TYPE_TRACK, 2, NEW(1), lead_pv),
      MK(MDL_TYPE_DEVICE, 3, NEW(2), drums_pv),
      MK(MDL_TYPE_DEVICE, 4, NEW(0), eq_pv),
      MK(MDL_TYPE_DEVICE, 5, NEW(0), gate_pv),
      MK(MDL_TYPE_CLIP, 6, NEW(2), clip_pv),
      MK(MDL_TYPE_NOTE, 7, NEW(6), note_pv),
      MK(MDL_TYPE_EVENT, 8, NEW(6), event_pv),
      MK(MDL_TYPE_SEND, 9, NEW(0), send_pv),
      MK(MDL_TYPE_LANE, 10, NEW(0), lane_pv),
      MK(MDL_TYPE_SCENE, 11, MDL_ID_NONE, scene_pv),
      MK(MDL_TYPE_CLIP, 12, FUZZ_SEED_INST, slot_pv),
      MK(MDL_TYPE_POINT, 13, NEW(10), point_pv),
      MK(MDL_TYPE_MARKER, 14, MDL_ID_NONE, marker_pv),
      MK(MDL_TYPE_GROOVE, 15, MDL_ID_NONE, groove_pv),
      MK(MDL_TYPE_TEMPO, 16, MDL_ID_NONE, tempo_pv),
      MK(MDL_TYPE_METER, 17, MDL_ID_NONE, meter_pv),
      MK(MDL_TYPE_USER, 18, MDL_ID_NONE, user_pv),
      MK(MDL_TYPE_LANE, 19, NEW(3), dlane_pv),
      MK(MDL_TYPE_POINT, 20, NEW(19), dpoint_pv),
      MK(MDL_TYPE_DEVICE, 21, NEW(1), reverb_pv),
  };
  memcpy(create_ops, creates, sizeof creates);
  const mdl_op sets[] = {
      op_set(FUZZ_SEED_AUDIO, MDL_PROP_GAIN, v_real(1.5)),
      op_set(FUZZ_SEED_INST, MDL_PROP_PAN, v_real(0.75)),
      op_set(FUZZ_SEED_GROUP, MDL_PROP_NAME, v_str("Kick \xe2\x99\xaa")),
      op_set(FUZZ_SEED_RETURN, MDL_PROP_COLOUR, v_int(0xFF00FF)),
      op_set(FUZZ_SEED_AUDIO, MDL_PROP_MUTE, v_bool(false)),
      op_set(FUZZ_SEED_NESTED, MDL_PROP_OUTPUT, v_int((int64_t) FUZZ_SEED_RETURN)),
      op_set(MDL_ID_PROJECT, MDL_PROP_TEMPO, v_real(140)),
      op_set(MDL_ID_PROJECT, MDL_PROP_TS_DEN, v_int(8)),
      op_set(MDL_ID_PROJECT, MDL_PROP_METRONOME, v_bool(false)),
      op_set(MDL_ID_PROJECT, MDL_PROP_NAME, v_str("Song")),
      op_set(FUZZ_SEED_SYNTH, MDL_PROP_PARAM0 + 7, v_real(12000)),
      op_set(FUZZ_SEED_COMP, MDL_PROP_SIDECHAIN, v_int((int64_t) FUZZ_SEED_AUDIO)),
      op_set(FUZZ_SEED_DEV_POINT, MDL_PROP_VALUE, v_real(20)),
      op_set(FUZZ_SEED_POINT, MDL_PROP_TENSION, v_real(-1)),
      op_set(FUZZ_SEED_NOTE, MDL_PROP_PITCH, v_int(0)),
      op_set(FUZZ_SEED_BEND, MDL_PROP_CC_VALUE, v_int(8191)),
      op_set(FUZZ_SEED_MIDI_CLIP, MDL_PROP_LOOP_END, v_int(960)),
      op_set(FUZZ_SEED_SEND, MDL_PROP_LEVEL, v_real(4)),
      op_set(FUZZ_SEED_SCENE, MDL_PROP_QUANT, v_int(MDL_QUANT_NONE)),
      op_set(FUZZ_SEED_GROOVE, MDL_PROP_SHIFT0 + 15, v_real(0.5)),
      op_set(FUZZ_SEED_TEMPO, MDL_PROP_RAMP, v_bool(false)),
      op_set(FUZZ_SEED_METER, MDL_PROP_TS_DEN, v_int(2)),
      op_set(FUZZ_SEED_USER, MDL_PROP_COLOUR, v_int(0)),
      op_set(FUZZ_SEED_AUDIO_CLIP, MDL_PROP_ASSET, v_str("")),
  };
  memcpy(set_ops, sets, sizeof sets);
  const mdl_op moves[] = {
      op_move(FUZZ_SEED_NESTED, MDL_ID_PROJECT, FUZZ_SEED_AUDIO),
      op_move(FUZZ_SEED_INST, MDL_ID_NONE, MDL_ID_NONE),
      op_move(FUZZ_SEED_AUDIO_CLIP, FUZZ_SEED_AUDIO, MDL_ID_NONE),
      op_move(FUZZ_SEED_NOTE2, FUZZ_SEED_SLOT_CLIP, MDL_ID_NONE),
      op_move(FUZZ_SEED_COMP, FUZZ_SEED_NESTED, MDL_ID_NONE),
      op_delete(FUZZ_SEED_BEND),
      op_delete(FUZZ_SEED_GROUP),
      op_delete(FUZZ_SEED_SCENE),
  };
  memcpy(move_delete_ops, moves, sizeof moves);
  half_bad_ops[0] = create_ops[0];
  half_bad_ops[1] = op_delete(FUZZ_SEED_AUDIO);
  half_bad_ops[2] = op_make(MDL_TYPE_NOTE, NEW(30), FUZZ_SEED_MIDI_CLIP, note_pv, 2);
  half_bad_ops[3] = op_set(FUZZ_SEED_INST, MDL_PROP_GAIN, v_real(7));
  /* The group outputs to the return already. */
  loop_ops[0] = op_set(FUZZ_SEED_RETURN, MDL_PROP_OUTPUT, v_int((int64_t) FUZZ_SEED_GROUP));
  static const mdl_prop_value back_pv[] = {PVI(MDL_PROP_TARGET, FUZZ_SEED_GROUP)};
  loop2_ops[0] = op_make(MDL_TYPE_SEND, NEW(31), FUZZ_SEED_RETURN, back_pv, 1);
  ref_ops[0] = op_set(FUZZ_SEED_SEND, MDL_PROP_TARGET, v_int((int64_t) FUZZ_SEED_AUDIO));
  slot_ops[0] = op_set(FUZZ_SEED_MIDI_CLIP, MDL_PROP_SCENE, v_int((int64_t) FUZZ_SEED_SCENE));
  for (uint32_t i = 0; i < N(fill_ops); i++) {
    static mdl_prop_value pitch[128];
    pitch[i % 128] = (mdl_prop_value) PVI(MDL_PROP_PITCH, i % 128);
    fill_ops[i] = op_make(MDL_TYPE_NOTE, NEW(1000 + i), FUZZ_SEED_MIDI_CLIP, &pitch[i % 128], 1);
  }
}

static int encode_txn(const mdl_op *ops, size_t n, unsigned char *buf, size_t cap) {
  mdl_txn txn = {(uint32_t) n, ops};
  int len = proto_encode_txn(&txn, buf, cap);
  if (len <= 0) die("proto_encode_txn");
  return len;
}

/* fuzz_apply's record: u8 origin selector, u16 length, the transaction. */
static size_t add_record(unsigned char *out, size_t at, uint8_t sel, const mdl_op *ops, size_t n) {
  int len = encode_txn(ops, n, out + at + 3, 16384);
  out[at] = sel;
  out[at + 1] = (unsigned char) len;
  out[at + 2] = (unsigned char) (len >> 8);
  return at + 3 + (size_t) len;
}

static void gen_apply(void) {
  static unsigned char buf[1 << 18];
  size_t n;
  n = add_record(buf, 0, 1, create_ops, N(create_ops));
  put_file("apply", "create", buf, n);
  n = add_record(buf, 0, 0, set_ops, N(set_ops));
  put_file("apply", "set", buf, n);
  n = add_record(buf, 0, 2, move_delete_ops, N(move_delete_ops));
  put_file("apply", "move_delete", buf, n);
  n = add_record(buf, 0, 1, half_bad_ops, N(half_bad_ops));
  put_file("apply", "half_bad", buf, n);
  n = add_record(buf, 0, 3, loop_ops, 1);
  n = add_record(buf, n, 1, loop2_ops, 1);
  n = add_record(buf, n, 1, ref_ops, 1);
  n = add_record(buf, n, 1, slot_ops, 1);
  put_file("apply", "refused_refs", buf, n);
  n = add_record(buf, 0, 1, fill_ops, N(fill_ops));
  put_file("apply", "fill", buf, n);
  n = add_record(buf, 0, 1, create_ops, N(create_ops));
  n = add_record(buf, n, 3, set_ops, 4);
  n = add_record(buf, n, 1, half_bad_ops, N(half_bad_ops));
  n = add_record(buf, n, 0, move_delete_ops, N(move_delete_ops));
  n = add_record(buf, n, 0, set_ops, N(set_ops));
  n = add_record(buf, n, 0x85, create_ops, N(create_ops));
  put_file("apply", "sequence", buf, n);
  n = 0; /* one create per record: fuzz_apply reads 16 records at most */
  for (size_t i = 0; i < 16; i++)
    n = add_record(buf, n, 1, &create_ops[i], 1);
  put_file("apply", "create_each", buf, n);
  n = 0;
  for (size_t i = 0; i < 16; i++)
    n = add_record(buf, n, 0, &set_ops[i], 1);
  put_file("apply", "set_each", buf, n);
}

/* ---- Messages ----------------------------------------------------------------- */

static void put_msg(const char *name, const proto_msg *m) {
  static unsigned char buf[1 << 18];
  int n = proto_encode(m, buf, sizeof buf);
  if (n <= 0) die(name);
  put_file("proto_decode", name, buf, (size_t) n);
}

static void gen_proto_decode(const mdl_project *seed) {
  proto_msg m;
  m = (proto_msg){.type = PROTO_HELLO};
  m.u.hello = (proto_hello){PROTO_VERSION, "my-song", 7, "Ana \xc3\xb1", 6, 0x00FF88, 3};
  put_msg("hello", &m);
  m = (proto_msg){.type = PROTO_WELCOME};
  m.u.welcome =
      (proto_welcome){.version = PROTO_VERSION, .client_id = 4, .seq = 17, .snapshot = seed};
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
  m.u.presence = (proto_presence){2, "Bo", 2, 0xABCDEF, FUZZ_SEED_GROUP, 3840, true};
  put_msg("presence", &m);
  m = (proto_msg){.type = PROTO_METERS};
  m.u.meters.position = 48000;
  m.u.meters.playing = true;
  m.u.meters.n = 3;
  m.u.meters.m[0] = (proto_meter){0, 0.9f, 0.3f, -1, -1};
  m.u.meters.m[1] = (proto_meter){FUZZ_SEED_AUDIO, 0.5f, 0.1f, -1, -1};
  m.u.meters.m[2] = (proto_meter){FUZZ_SEED_INST, 0, 0, 0, -2};
  m.u.meters.lufs_momentary = -16.5f, m.u.meters.lufs_short_term = -18.0f;
  put_msg("meters", &m);
  m = (proto_msg){.type = PROTO_TRANSPORT};
  m.u.transport.command = 1;
  put_msg("transport", &m);
  m = (proto_msg){.type = PROTO_LIVE};
  m.u.live = (proto_live){0, FUZZ_SEED_SYNTH, MDL_PROP_PARAM0 + 7, v_real(440)};
  put_msg("live", &m);
  m.u.live = (proto_live){3, FUZZ_SEED_GROUP, MDL_PROP_NAME, v_str("Dr")};
  put_msg("live_name", &m);
  m = (proto_msg){.type = PROTO_LISTEN};
  m.u.listen.on = 1;
  put_msg("listen", &m);
  static const uint8_t opus[] = {0x78, 0x01, 0x02, 0x03, 0xFC, 0xFF};
  m = (proto_msg){.type = PROTO_AUDIO};
  m.u.audio = (proto_audio){7, 48000, 1700000000000000ull, opus, sizeof opus};
  put_msg("audio", &m);
  m = (proto_msg){.type = PROTO_LAUNCH};
  m.u.launch = (proto_launch){FUZZ_SEED_GROUP, 0};
  put_msg("launch", &m);
  m = (proto_msg){.type = PROTO_NOTE};
  m.u.note = (proto_note){FUZZ_SEED_SYNTH, 60, 100};
  put_msg("note", &m);
  m = (proto_msg){.type = PROTO_ENGINE};
  m.u.engine = (proto_engine){87, 2, "USB Audio \xc3\xa9", 12};
  put_msg("engine", &m);
}

/* ---- Snapshots ------------------------------------------------------------------ */

static void put_snapshot(const char *name, const mdl_project *p) {
  size_t size = proto_project_size(p);
  unsigned char *buf = malloc(size);
  if (!buf || proto_encode_project(p, buf, size) != (int) size) die(name);
  put_file("snapshot", name, buf, size);
  free(buf);
}

static void apply(mdl_project *p, const mdl_op *ops, size_t n, uint32_t origin, const char *what) {
  mdl_txn txn = {(uint32_t) n, ops};
  mdl_fail fail;
  if (mdl_txn_apply(p, &txn, origin, &fail)) {
    fprintf(stderr, "gen_corpus: %s: %s\n", what, fail.reason);
    exit(1);
  }
}

/* Generated snapshots are schema 2; the v1-* files in corpus/snapshot are
 * schema 1 (the walking skeleton), kept as they were written then. */
static void gen_snapshot(const mdl_project *seed) {
  mdl_project *p = fuzz_project_new(NULL);
  put_snapshot("empty", p);
  put_snapshot("seed", seed);
  mdl_project_copy(p, seed);
  apply(p, create_ops, N(create_ops), 1, "create");
  apply(p, set_ops, N(set_ops), 0, "set");
  put_snapshot("edited", p);
  apply(p, move_delete_ops, N(move_delete_ops), 0, "move_delete");
  apply(p, fill_ops, N(fill_ops), 1, "fill");
  put_snapshot("full", p);
  mdl_project_destroy(p);
}

/* ---- JSON transactions ---------------------------------------------------------- */

static void gen_json(void) {
  static const char *const texts[][2] = {
      {"create", "{\"ops\": [{\"op\": \"create\", \"type\": \"track\", \"props\": {\"name\": "
                 "\"Keys\", \"gain\": 0.8, \"pan\": -0.5, \"colour\": 1193046, \"mute\": false, "
                 "\"solo\": true, \"kind\": 1}}]}"},
      {"create_nested",
       "{\"ops\": [{\"op\": \"create\", \"type\": \"track\", \"props\": {\"kind\": 3}},"
       "{\"op\": \"create\", \"type\": \"track\", \"parent\": \"$0\", \"props\": {\"name\": "
       "\"In\"}},"
       "{\"op\": \"create\", \"type\": \"device\", \"parent\": \"$1\", \"props\": {\"kind\": 1, "
       "\"p7\": 900}},"
       "{\"op\": \"create\", \"type\": \"clip\", \"parent\": \"$1\", \"props\": {\"start\": 960, "
       "\"length\": 3840, \"groove\": \"200000007\"}},"
       "{\"op\": \"create\", \"type\": \"note\", \"parent\": \"$3\", \"props\": {\"pitch\": 72}},"
       "{\"op\": \"create\", \"type\": \"event\", \"parent\": \"$3\", \"props\": {\"controller\": "
       "128, \"cc_value\": -8192}},"
       "{\"op\": \"create\", \"type\": \"lane\", \"parent\": \"$2\", \"props\": {\"param\": 7}},"
       "{\"op\": \"create\", \"type\": \"point\", \"parent\": \"$6\", \"props\": {\"value\": 300, "
       "\"curve\": 2, \"tension\": 0.5}},"
       "{\"op\": \"create\", \"type\": \"send\", \"parent\": \"$1\", \"props\": {\"target\": "
       "\"300000003\", \"level\": 0.25}}]}"},
      {"create_global",
       "{\"ops\": [{\"op\": \"create\", \"type\": \"scene\", \"props\": {\"name\": \"Outro\", "
       "\"quant\": 8}},"
       "{\"op\": \"create\", \"type\": \"clip\", \"parent\": \"100000002\", \"props\": "
       "{\"scene\": \"$0\", \"follow\": 7}},"
       "{\"op\": \"create\", \"type\": \"marker\", \"props\": {\"name\": \"End\", \"cue\": true}},"
       "{\"op\": \"create\", \"type\": \"tempo\", \"props\": {\"start\": 1920, \"tempo\": 174.5, "
       "\"ramp\": true}},"
       "{\"op\": \"create\", \"type\": \"meter\", \"props\": {\"bar\": 2, \"ts_num\": 6, "
       "\"ts_den\": 8}},"
       "{\"op\": \"create\", \"type\": \"groove\", \"props\": {\"steps\": 16, \"grid\": 120, "
       "\"shift3\": 0.25, \"accent0\": 20}},"
       "{\"op\": \"create\", \"type\": \"user\", \"props\": {\"name\": \"Cy\", \"colour\": "
       "255}}]} "},
      {"set", "{\"ops\": [{\"op\": \"set\", \"id\": \"100000001\", \"prop\": \"gain\", \"value\": "
              "1.5}, {\"op\": \"set\", \"id\": \"200000001\", \"prop\": \"name\", \"value\": "
              "\"Kick \\u266a\"}, {\"op\": \"set\", \"id\": \"project\", \"prop\": \"tempo\", "
              "\"value\": 140}, {\"op\": \"set\", \"id\": \"project\", \"prop\": \"ts_den\", "
              "\"value\": 8}, {\"op\": \"set\", \"id\": \"project\", \"prop\": \"metronome\", "
              "\"value\": false}, {\"op\": \"set\", \"id\": \"100000004\", \"prop\": \"p7\", "
              "\"value\": 5000}, {\"op\": \"set\", \"id\": \"200000003\", \"prop\": \"sidechain\", "
              "\"value\": null}, {\"op\": \"set\", \"id\": \"300000006\", \"prop\": \"scene\", "
              "\"value\": 0}, {\"op\": \"set\", \"id\": \"100000009\", \"prop\": \"value\", "
              "\"value\": 3.5}]}"},
      {"move_delete", "{\"ops\": [{\"op\": \"move\", \"id\": \"200000002\", \"parent\": "
                      "\"project\", \"after\": null}, "
                      "{\"op\": \"move\", \"id\": \"100000001\", \"after\": \"300000003\"}, "
                      "{\"op\": \"move\", \"id\": \"100000006\", \"parent\": \"300000006\"}, "
                      "{\"op\": \"delete\", \"id\": \"200000001\"}, "
                      "{\"op\": \"delete\", \"id\": \"100000008\"}]}"},
      {"half_bad", "{\"ops\": [{\"op\": \"create\", \"type\": \"track\"}, {\"op\": \"delete\", "
                   "\"id\": \"100000001\"}, {\"op\": \"set\", \"id\": \"100000002\", \"prop\": "
                   "\"gain\", \"value\": 7}]}"},
      {"loop", "{\"ops\": [{\"op\": \"set\", \"id\": \"300000003\", \"prop\": \"output\", "
               "\"value\": \"200000001\"}]}"},
      {"create_set", "{\"ops\":[{\"op\":\"create\",\"type\":\"track\",\"props\":{\"name\":\"A\"}},"
                     "{\"op\":\"set\",\"id\":\"$0\",\"prop\":\"solo\",\"value\":true},"
                     "{\"op\":\"move\",\"id\":\"$0\",\"after\":\"100000002\"},"
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
  static unsigned char buf[PROTO_MAX_TXN];
  int len = encode_txn(ops, n, buf, sizeof buf);
  if (sto_project_append(sp, sto_project_last_seq(sp) + 1, origin, buf, (size_t) len))
    die("append");
}

static void gen_project_file(void) {
  char tmp[] = "/tmp/gen_corpus_XXXXXX", path[64], err[512];
  if (!mkdtemp(tmp)) die("mkdtemp");
  snprintf(path, sizeof path, "%s/p.db", tmp);
  size_t len;
  sto_project *sp;
  mdl_txn seed = fuzz_seed_txn();

  /* Schema 1, its log only: the seed project's transaction, then edits. */
  make_v1(path);
  {
    sqlite3 *db;
    static unsigned char buf[PROTO_MAX_TXN];
    sqlite3_stmt *st = NULL;
    if (sqlite3_open(path, &db) != SQLITE_OK ||
        sqlite3_prepare_v2(db, "INSERT INTO ops VALUES(?1, ?2, ?3)", -1, &st, NULL) != SQLITE_OK)
      die("v1 insert");
    const mdl_txn txns[] = {seed, {N(create_ops), create_ops}, {N(set_ops), set_ops}};
    for (int i = 0; i < 3; i++) {
      int n = proto_encode_txn(&txns[i], buf, sizeof buf);
      if (n <= 0) die("v1 encode");
      sqlite3_bind_int(st, 1, i + 1);
      sqlite3_bind_int(st, 2, i == 1);
      sqlite3_bind_blob(st, 3, buf, n, SQLITE_STATIC);
      if (sqlite3_step(st) != SQLITE_DONE) die("v1 step");
      sqlite3_reset(st);
    }
    sqlite3_finalize(st);
    sqlite3_close(db);
  }
  put_file("project_file", "schema1", slurp(path, &len), len);

  /* Upgraded to the current schema: a log with a snapshot in the middle. */
  make_v1(path);
  if (sto_project_open(path, STO_OPEN_EXISTING, &sp, err, sizeof err)) die(err);
  append(sp, 0, seed.ops, seed.n_ops);
  append(sp, 1, create_ops, N(create_ops));
  {
    mdl_project *p = fuzz_project_new(NULL);
    fuzz_seed_project(p);
    apply(p, create_ops, N(create_ops), 1, "snapshot");
    size_t size = proto_project_size(p);
    unsigned char *snap = malloc(size);
    if (!snap || proto_encode_project(p, snap, size) != (int) size ||
        sto_project_put_snapshot(sp, 2, MDL_SCHEMA_VERSION, snap, size))
      die("snapshot");
    free(snap);
    mdl_project_destroy(p);
  }
  append(sp, 0, set_ops, N(set_ops));
  append(sp, 2, move_delete_ops, N(move_delete_ops));
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
  sf_command(sf, SFC_SET_ADD_PEAK_CHUNK, NULL, SF_FALSE); /* it holds a time stamp */
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
  mdl_project *seed = fuzz_project_new(NULL);
  fuzz_seed_project(seed);
  make_txns();
  gen_apply();
  gen_proto_decode(seed);
  gen_snapshot(seed);
  gen_json();
  gen_project_file();
  gen_asset_mem();
  mdl_project_destroy(seed);
  return 0;
}
