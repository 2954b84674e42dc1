/* Protocol: round trips, and refusal of truncated, oversized and garbage input. */
#include "../shared/test_util.h"
#include "protocol/proto_err.h"
#include "protocol/proto_json.h"
#include "protocol/proto_msg.h"
#include "shared/mdl_err.h"

#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>

static proto_scratch *S;
static uint8_t buf[PROTO_MAX_MSG];
static test_heap heap = {0, 0, -1};
static mdl_alloc al;
static void setup(void) {
  al = th_make(&heap);
  S = calloc(1, sizeof *S);
  S->project = mdl_project_create(&al, NULL);
}
static void teardown(void) {
  mdl_project_destroy(S->project);
  free(S);
  cr_assert_eq(heap.live, 0);
}
TestSuite(proto_msg, .init = setup, .fini = teardown);
TestSuite(proto_json, .init = setup, .fini = teardown);

static const mdl_id A = MDL_ID_MAKE(3, 1);

static mdl_txn sample_txn(void) {
  static mdl_prop_value pv[2];
  static mdl_op ops[4];
  pv[0] = (mdl_prop_value){MDL_PROP_NAME, v_str("Drums é")};
  pv[1] = (mdl_prop_value){MDL_PROP_SOLO, v_bool(true)};
  ops[0] = op_create(A);
  ops[0].n_props = 2, ops[0].props = pv;
  ops[1] = op_set(A, MDL_PROP_GAIN, v_real(0.75));
  ops[2] = op_move(A, MDL_ID_NONE);
  ops[3] = op_set(MDL_ID_PROJECT, MDL_PROP_TS_NUM, v_int(3));
  return (mdl_txn){4, ops};
}

Test(proto_msg, submit_round_trips_and_applies_identically) {
  proto_msg m = {.type = PROTO_SUBMIT};
  m.u.submit.local_id = 42;
  m.u.submit.txn = sample_txn();
  int n = proto_encode(&m, buf, sizeof buf);
  cr_assert_gt(n, 0);
  proto_msg d;
  cr_assert_eq(proto_decode(buf, (size_t) n, S, &d, NULL), 0);
  cr_assert_eq(d.type, PROTO_SUBMIT);
  cr_assert_eq(d.u.submit.local_id, 42);
  mdl_project *p1 = mdl_project_create(&al, "x"), *p2 = mdl_project_create(&al, "x");
  cr_assert_eq(mdl_txn_apply(p1, &m.u.submit.txn, 3, NULL), 0);
  cr_assert_eq(mdl_txn_apply(p2, &d.u.submit.txn, 3, NULL), 0);
  cr_assert_eq(mdl_project_hash(p1), mdl_project_hash(p2));
  cr_assert_str_eq(mdl_get_str(p2, A, MDL_PROP_NAME, NULL), "Drums é");
  mdl_project_destroy(p1);
  mdl_project_destroy(p2);
}

Test(proto_msg, every_message_type_round_trips) {
  mdl_project *p = mdl_project_create(&al, "Snap");
  mdl_txn t = sample_txn();
  cr_assert_eq(mdl_txn_apply(p, &t, 3, NULL), 0);
  proto_msg ms[13] = {0};
  ms[0].type = PROTO_HELLO;
  ms[0].u.hello = (proto_hello){PROTO_VERSION, "abc", 3, "Ann", 3, 0x123456, 7};
  ms[1].type = PROTO_WELCOME;
  ms[1].u.welcome = (proto_welcome){PROTO_VERSION, 7, 3, 99, p};
  ms[2].type = PROTO_ACK;
  ms[2].u.ack = (proto_ack){5, 1ULL << 40};
  ms[3].type = PROTO_REJECT;
  ms[3].u.reject = (proto_reject){5, MDL_ERR_RANGE, "gain 7 is out of range", 22};
  ms[4].type = PROTO_BROADCAST;
  ms[4].u.broadcast = (proto_broadcast){100, 3, t};
  ms[5].type = PROTO_PRESENCE;
  ms[5].u.presence = (proto_presence){7, "Ann", 3, 0xff00ff, A, 7680, true};
  ms[6].type = PROTO_METERS;
  ms[6].u.meters.position = 48000;
  ms[6].u.meters.playing = true;
  ms[6].u.meters.n = 2;
  ms[6].u.meters.m[0] = (proto_meter){0, 0.5f, 0.25f, -1, -1};
  ms[6].u.meters.m[1] = (proto_meter){A, 1.5f, 0.75f, 2, -2};
  ms[6].u.meters.lufs_momentary = -14.25f;
  ms[6].u.meters.lufs_short_term = -200.0f;
  ms[7].type = PROTO_TRANSPORT;
  ms[7].u.transport.command = 1;
  ms[8].type = PROTO_SUBMIT;
  ms[8].u.submit = (proto_submit){1, t};
  ms[9].type = PROTO_LIVE;
  ms[9].u.live = (proto_live){7, A, MDL_PROP_GAIN, v_real(0.33)};
  ms[10].type = PROTO_LAUNCH;
  ms[10].u.launch = (proto_launch){MDL_ID_MAKE(3, 9), A};
  ms[11].type = PROTO_NOTE;
  ms[11].u.note = (proto_note){A, 127, 0};
  ms[12].type = PROTO_ENGINE;
  ms[12].u.engine = (proto_engine){123, 0xfffffff0u, "null device", 11};
  for (int i = 0; i < 13; i++) {
    int n = proto_encode(&ms[i], buf, sizeof buf);
    cr_assert_gt(n, 0, "encode type %d", ms[i].type);
    proto_msg d;
    cr_assert_eq(proto_decode(buf, (size_t) n, S, &d, NULL), 0, "decode type %d", ms[i].type);
    /* Re-encoding the decoded message gives the same bytes. */
    static uint8_t again[PROTO_MAX_MSG];
    cr_assert_eq(proto_encode(&d, again, sizeof again), n);
    cr_assert_eq(memcmp(buf, again, (size_t) n), 0, "type %d", ms[i].type);
  }
  proto_msg d;
  int n = proto_encode(&ms[1], buf, sizeof buf);
  cr_assert_eq(proto_decode(buf, (size_t) n, S, &d, NULL), 0);
  cr_assert_eq(mdl_project_hash(d.u.welcome.snapshot), mdl_project_hash(p));
  mdl_project_destroy(p);
}

/* A project with one of everything survives a snapshot round trip. */
Test(proto_msg, a_full_project_round_trips_as_a_snapshot) {
  mdl_project *p = mdl_project_create(&al, "Full");
  const mdl_id T = MDL_ID_MAKE(3, 1), R = MDL_ID_MAKE(3, 2), D = MDL_ID_MAKE(3, 3),
               C = MDL_ID_MAKE(3, 4), N = MDL_ID_MAKE(3, 5), L = MDL_ID_MAKE(3, 6),
               P = MDL_ID_MAKE(3, 7), S1 = MDL_ID_MAKE(3, 8), SC = MDL_ID_MAKE(3, 9),
               G = MDL_ID_MAKE(3, 10);
  mdl_prop_value ret[] = {{MDL_PROP_KIND, v_int(4)}, {MDL_PROP_NAME, v_str("Reverb")}};
  mdl_prop_value dev[] = {{MDL_PROP_KIND, v_int(1)}, {MDL_PROP_PARAM0 + 7, v_real(440)}};
  mdl_prop_value clip[] = {{MDL_PROP_SCENE, v_int((int64_t) SC)},
                           {MDL_PROP_GROOVE, v_int((int64_t) G)}};
  mdl_prop_value send[] = {{MDL_PROP_TARGET, v_int((int64_t) R)}, {MDL_PROP_PRE, v_bool(true)}};
  mdl_prop_value lane[] = {{MDL_PROP_PARAM, v_int(7)}};
  mdl_prop_value pt[] = {{MDL_PROP_VALUE, v_real(1000)}, {MDL_PROP_CURVE, v_int(2)}};
  mdl_txn t = TXN(op_make(MDL_TYPE_TRACK, T, 0, 0, NULL), op_make(MDL_TYPE_TRACK, R, 0, 2, ret),
                  op_make(MDL_TYPE_DEVICE, D, T, 2, dev), op_make(MDL_TYPE_SCENE, SC, 0, 0, NULL),
                  op_make(MDL_TYPE_GROOVE, G, 0, 0, NULL), op_make(MDL_TYPE_CLIP, C, T, 2, clip),
                  op_make(MDL_TYPE_NOTE, N, C, 0, NULL), op_make(MDL_TYPE_LANE, L, D, 1, lane),
                  op_make(MDL_TYPE_POINT, P, L, 2, pt), op_make(MDL_TYPE_SEND, S1, T, 2, send));
  cr_assert_eq(mdl_txn_apply(p, &t, 3, NULL), 0);
  size_t size = proto_project_size(p);
  uint8_t *snap = malloc(size);
  cr_assert_eq(proto_encode_project(p, snap, size), (int) size);
  mdl_project *q = mdl_project_create(&al, NULL);
  cr_assert_eq(proto_decode_project(snap, size, q), 0);
  cr_assert_eq(mdl_project_hash(q), mdl_project_hash(p));
  cr_assert_eq(mdl_count(q, 0), mdl_count(p, 0));
  /* Any cut is refused and leaves an empty project. */
  for (size_t cut = 0; cut < size; cut += 7) {
    cr_assert_neq(proto_decode_project(snap, cut, q), 0);
    cr_assert_eq(mdl_count(q, 0), 2);
  }
  free(snap);
  mdl_project_destroy(p);
  mdl_project_destroy(q);
}

Test(proto_msg, every_truncation_and_extension_is_refused) {
  proto_msg m = {.type = PROTO_BROADCAST};
  m.u.broadcast = (proto_broadcast){1, 3, sample_txn()};
  int n = proto_encode(&m, buf, sizeof buf);
  proto_msg d;
  for (int cut = 0; cut < n; cut++)
    cr_assert_eq(proto_decode(buf, (size_t) cut, S, &d, NULL), PROTO_ERR_TRUNCATED, "cut at %d",
                 cut);
  buf[n] = 0;
  cr_assert_eq(proto_decode(buf, (size_t) n + 1, S, &d, NULL), PROTO_ERR_TRAILING);
}

Test(proto_msg, garbage_is_refused_with_a_code_never_a_crash) {
  proto_msg d;
  uint8_t unknown[] = {77, 1, 2};
  cr_assert_eq(proto_decode(unknown, sizeof unknown, S, &d, NULL), PROTO_ERR_UNKNOWN_TYPE);
  cr_assert_eq(proto_decode(buf, PROTO_MAX_MSG + 1, S, &d, NULL), PROTO_ERR_TOO_BIG);
  /* Zero ops, too many ops, a bad value kind, a NaN, bad UTF-8. */
  uint8_t zero_ops[] = {PROTO_SUBMIT, 1, 0, 0, 0, 0, 0};
  cr_assert_eq(proto_decode(zero_ops, sizeof zero_ops, S, &d, NULL), PROTO_ERR_RANGE);
  uint8_t many_ops[] = {PROTO_SUBMIT, 1, 0, 0, 0, 0xff, 0xff};
  cr_assert_eq(proto_decode(many_ops, sizeof many_ops, S, &d, NULL), PROTO_ERR_RANGE);
  uint8_t bad_kind[] = {PROTO_SUBMIT, 1, 0, 0, 0, 1, 0, MDL_OP_SET, 1, 0, 0, 0, 3, 0, 0, 0, 7, 9};
  cr_assert_eq(proto_decode(bad_kind, sizeof bad_kind, S, &d, NULL), PROTO_ERR_RANGE);
  uint8_t nan[] = {PROTO_SUBMIT, 1, 0, 0, 0, 1, 0, MDL_OP_SET, 1,   0, 0, 0, 3, 0, 0, 0, 7,
                   MDL_VAL_REAL, 0, 0, 0, 0, 0, 0, 0xf8,       0x7f};
  cr_assert_eq(proto_decode(nan, sizeof nan, S, &d, NULL), PROTO_ERR_RANGE);
  uint8_t bad_text[] = {PROTO_SUBMIT, 1, 0, 0,    0,   1, 0, MDL_OP_SET, 1, 0, 0, 0, 3, 0, 0, 0, 1,
                        MDL_VAL_STR,  2, 0, 0xc3, 0x28};
  cr_assert_eq(proto_decode(bad_text, sizeof bad_text, S, &d, NULL), PROTO_ERR_BAD_TEXT);
  /* Random bytes: always a clean verdict. */
  unsigned seed = 7;
  for (int i = 0; i < 20000; i++) {
    size_t len = (seed = seed * 1103515245u + 12345u) % 64;
    for (size_t k = 0; k < len; k++)
      buf[k] = (uint8_t) ((seed = seed * 1103515245u + 12345u) >> 16);
    if (len) buf[0] = (uint8_t) (1 + buf[0] % 12);
    int rc = proto_decode(buf, len, S, &d, NULL);
    cr_assert(rc == 0 || (rc <= -301 && rc >= -310), "%d", rc);
  }
}

/* ---- Listen here: LISTEN (11) and AUDIO (12) ---- */

Test(proto_msg, listen_and_audio_round_trip_and_refuse_bad_input) {
  static const uint8_t opus[5] = {0xfc, 1, 2, 3, 0xff};
  proto_msg ms[3] = {{.type = PROTO_LISTEN}, {.type = PROTO_LISTEN}, {.type = PROTO_AUDIO}};
  ms[0].u.listen.on = 1;
  ms[2].u.audio = (proto_audio){0xfffffffe, 1ULL << 40, 1764000000123456ULL, opus, 5};
  proto_msg d;
  for (int i = 0; i < 3; i++) {
    int n = proto_encode(&ms[i], buf, sizeof buf);
    cr_assert_gt(n, 0, "encode %d", i);
    cr_assert_eq(proto_decode(buf, (size_t) n, S, &d, NULL), 0, "decode %d", i);
    static uint8_t again[PROTO_MAX_MSG];
    cr_assert_eq(proto_encode(&d, again, sizeof again), n);
    cr_assert_eq(memcmp(buf, again, (size_t) n), 0, "message %d", i);
    for (int cut = 0; cut < n; cut++) /* every truncation */
      cr_assert_eq(proto_decode(buf, (size_t) cut, S, &d, NULL), PROTO_ERR_TRUNCATED,
                   "message %d cut at %d", i, cut);
    buf[n] = 0;
    cr_assert_eq(proto_decode(buf, (size_t) n + 1, S, &d, NULL), PROTO_ERR_TRAILING);
  }
  /* The layout PROTOCOL.md gives: 1 + 4 + 8 + 8 + 2 + len bytes. */
  int n = proto_encode(&ms[2], buf, sizeof buf);
  cr_assert_eq(n, 23 + 5);
  cr_assert_eq(proto_decode(buf, (size_t) n, S, &d, NULL), 0);
  cr_expect_eq(d.u.audio.seq, 0xfffffffe);
  cr_expect_eq(d.u.audio.position, 1ULL << 40);
  cr_expect_eq(d.u.audio.sent_us, 1764000000123456ULL);
  cr_expect_eq(d.u.audio.len, 5);
  cr_expect_eq(memcmp(d.u.audio.data, opus, 5), 0);
  cr_expect_eq(d.u.audio.data, buf + 23, "borrowed from the input");

  /* Ranges: listen is 0 or 1; a packet has 1..PROTO_MAX_AUDIO bytes. */
  uint8_t listen2[] = {PROTO_LISTEN, 2};
  cr_expect_eq(proto_decode(listen2, sizeof listen2, S, &d, NULL), PROTO_ERR_RANGE);
  buf[21] = 0, buf[22] = 0; /* length 0 */
  cr_expect_eq(proto_decode(buf, 23, S, &d, NULL), PROTO_ERR_RANGE);
  static uint8_t big[23 + PROTO_MAX_AUDIO + 1];
  memcpy(big, buf, 21);
  big[21] = (uint8_t) ((PROTO_MAX_AUDIO + 1) & 0xff),
  big[22] = (uint8_t) ((PROTO_MAX_AUDIO + 1) >> 8);
  cr_expect_eq(proto_decode(big, sizeof big, S, &d, NULL), PROTO_ERR_RANGE);
  big[21] = (uint8_t) (PROTO_MAX_AUDIO & 0xff), big[22] = (uint8_t) (PROTO_MAX_AUDIO >> 8);
  cr_expect_eq(proto_decode(big, sizeof big - 1, S, &d, NULL), 0, "the largest packet");
  big[21] = 0xff, big[22] = 0xff; /* announces more than there is */
  cr_expect_eq(proto_decode(big, sizeof big, S, &d, NULL), PROTO_ERR_TRUNCATED);

  /* Encoders refuse what decoders would. */
  proto_msg bad = {.type = PROTO_LISTEN};
  bad.u.listen.on = 3;
  cr_expect_eq(proto_encode(&bad, buf, sizeof buf), PROTO_ERR_RANGE);
  bad = (proto_msg){.type = PROTO_AUDIO};
  bad.u.audio = (proto_audio){1, 0, 0, opus, 0};
  cr_expect_eq(proto_encode(&bad, buf, sizeof buf), PROTO_ERR_RANGE);
  bad.u.audio.len = PROTO_MAX_AUDIO + 1;
  cr_expect_eq(proto_encode(&bad, buf, sizeof buf), PROTO_ERR_RANGE);
  bad.u.audio.len = 5;
  cr_expect_eq(proto_encode(&bad, buf, 20), PROTO_ERR_NO_SPACE);
}

/* NOTE: 1 + 8 + 1 + 1 bytes; track 0, a key or velocity above 127 are
 * refused by both sides; every cut is truncated. */
Test(proto_msg, note_round_trips_and_refuses_bad_input) {
  proto_msg m = {.type = PROTO_NOTE}, d;
  m.u.note = (proto_note){MDL_ID_MAKE(3, 9), 60, 100};
  int n = proto_encode(&m, buf, sizeof buf);
  cr_assert_eq(n, 11);
  cr_assert_eq(proto_decode(buf, 11, S, &d, NULL), 0);
  cr_expect_eq(d.u.note.track, MDL_ID_MAKE(3, 9));
  cr_expect_eq(d.u.note.key, 60);
  cr_expect_eq(d.u.note.velocity, 100);
  for (int cut = 0; cut < n; cut++)
    cr_assert_eq(proto_decode(buf, (size_t) cut, S, &d, NULL), PROTO_ERR_TRUNCATED);
  buf[9] = 128;
  cr_expect_eq(proto_decode(buf, 11, S, &d, NULL), PROTO_ERR_RANGE, "key 128");
  buf[9] = 60, buf[10] = 200;
  cr_expect_eq(proto_decode(buf, 11, S, &d, NULL), PROTO_ERR_RANGE, "velocity 200");
  memset(buf + 1, 0, 8), buf[10] = 0;
  cr_expect_eq(proto_decode(buf, 11, S, &d, NULL), PROTO_ERR_RANGE, "track 0");
  m.u.note.key = 128;
  cr_expect_eq(proto_encode(&m, buf, sizeof buf), PROTO_ERR_RANGE);
  m.u.note = (proto_note){0, 60, 0};
  cr_expect_eq(proto_encode(&m, buf, sizeof buf), PROTO_ERR_RANGE);
}

/* METERS ends with the master's loudness: a value outside -200..30 LUFS (or
 * not a number) is refused by both sides. */
Test(proto_msg, meters_carry_the_loudness_and_refuse_it_out_of_range) {
  proto_msg m = {.type = PROTO_METERS}, d;
  m.u.meters.n = 1;
  m.u.meters.m[0] = (proto_meter){0, 0.5f, 0.25f, -1, -1};
  m.u.meters.lufs_momentary = -23.0f, m.u.meters.lufs_short_term = -24.5f;
  int n = proto_encode(&m, buf, sizeof buf);
  cr_assert_eq(n, 1 + 8 + 1 + 1 + 20 + 8);
  cr_assert_eq(proto_decode(buf, (size_t) n, S, &d, NULL), 0);
  cr_expect_eq(d.u.meters.lufs_momentary, -23.0f);
  cr_expect_eq(d.u.meters.lufs_short_term, -24.5f);
  float bad = 31.0f;
  memcpy(buf + n - 8, &bad, 4); /* little-endian on the wire, as on this machine */
  cr_expect_eq(proto_decode(buf, (size_t) n, S, &d, NULL), PROTO_ERR_RANGE);
  bad = NAN;
  memcpy(buf + n - 4, &bad, 4);
  cr_expect_eq(proto_decode(buf, (size_t) n, S, &d, NULL), PROTO_ERR_RANGE);
  m.u.meters.lufs_momentary = -201.0f;
  cr_expect_eq(proto_encode(&m, buf, sizeof buf), PROTO_ERR_RANGE);
}

Test(proto_msg, snapshot_with_out_of_range_values_is_refused) {
  mdl_project *p = mdl_project_create(&al, "x");
  int n = proto_encode_project(p, buf, sizeof buf);
  cr_assert_gt(n, 0);
  /* The project's tempo is its third value (after name and sample rate). */
  double tempo = 5000; /* impossible through ops */
  size_t at = 2 + 4 + 17 + 2 + 1 + 8;
  memcpy(buf + at, &tempo, 8);
  cr_assert_eq(proto_decode_project(buf, (size_t) n, p), PROTO_ERR_RANGE);
  mdl_project_destroy(p);
}

/* A create under the project has one encoding; the long form that names
 * the project as parent is refused, so the wire form stays canonical
 * (found by fuzz_proto_decode). */
Test(proto_msg, create_naming_the_project_as_parent_is_refused) {
  const mdl_id parent = MDL_ID_MAKE(3, 0x77);
  mdl_op op = op_create(A);
  op.parent = parent;
  proto_msg m = {.type = PROTO_SUBMIT};
  m.u.submit.txn = (mdl_txn){1, &op};
  int n = proto_encode(&m, buf, sizeof buf);
  cr_assert_gt(n, 0);
  proto_msg d;
  cr_assert_eq(proto_decode(buf, (size_t) n, S, &d, NULL), 0);
  cr_assert_eq(d.u.submit.txn.ops[0].parent, parent);

  uint8_t le[8], project[8] = {MDL_ID_PROJECT};
  for (int i = 0; i < 8; i++)
    le[i] = (uint8_t) (parent >> (8 * i));
  uint8_t *at = memmem(buf, (size_t) n, le, 8);
  cr_assert_not_null(at);
  memcpy(at, project, 8);
  cr_assert_eq(proto_decode(buf, (size_t) n, S, &d, NULL), PROTO_ERR_RANGE);

  op.parent = MDL_ID_PROJECT; /* encoded the short way, and round trips */
  int short_n = proto_encode(&m, buf, sizeof buf);
  cr_assert_eq(short_n, n - 8);
  cr_assert_eq(proto_decode(buf, (size_t) short_n, S, &d, NULL), 0);
}

/* A WELCOME carries the current schema: a schema-1 snapshot (which a
 * project file may hold, and which re-encodes as schema 2) is refused in a
 * WELCOME, so every message has one encoding; the same snapshot as a file
 * is upgraded. Found by fuzz_proto_decode (regress-welcome-schema-1). */
Test(proto_msg, a_welcome_with_a_schema_1_snapshot_is_refused) {
  static const uint8_t welcome[] = {0x02, 0x31, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
                                    0x00, 0x11, 0x00, 0x00, 0x02, 0x00, 0x00, 0xf2, 0x8e, 0x01,
                                    0x00, 0x02, 0x65, 0x64, 0x00, 0x00, 0x00, 0x00, 0x00, 0x60,
                                    0x57, 0x40, 0x05, 0x04, 0x00, 0x00, 0x00};
  proto_msg d;
  cr_assert_eq(proto_decode(welcome, sizeof welcome, S, &d, NULL), PROTO_ERR_VERSION);
  mdl_project *p = mdl_project_create(&al, NULL);
  cr_assert_eq(proto_decode_project(welcome + 19, sizeof welcome - 19, p), 0,
               "a project file of schema 1 still opens");
  uint32_t len;
  const char *name = mdl_get_str(p, MDL_ID_PROJECT, MDL_PROP_NAME, &len);
  cr_expect(len == 2 && memcmp(name, "ed", 2) == 0, "the schema-1 name: %.*s", (int) len, name);
  mdl_project_destroy(p);
}

Test(proto_msg, encode_refuses_small_buffers) {
  proto_msg m = {.type = PROTO_SUBMIT};
  m.u.submit.txn = sample_txn();
  cr_assert_eq(proto_encode(&m, buf, 10), PROTO_ERR_NO_SPACE);
}

Test(proto_json, transaction_parses_and_assigns_ids_in_senders_space) {
  const char *j =
      "{\"ops\":[{\"op\":\"create\",\"type\":\"track\",\"props\":{\"name\":\"Bass\",\"gain\":0.5}},"
      "{\"op\":\"set\",\"id\":\"project\",\"prop\":\"tempo\",\"value\":128},"
      "{\"op\":\"move\",\"id\":\"300000001\",\"after\":null},"
      "{\"op\":\"delete\",\"id\":\"300000001\"}]}";
  void *tree;
  mdl_txn t;
  char err[200];
  uint32_t counter = 5;
  cr_assert_eq(proto_json_parse_txn(j, strlen(j), 3, &counter, S, &tree, &t, err, sizeof err), 0,
               "%s", err);
  cr_assert_eq(t.n_ops, 4);
  cr_assert_eq(t.ops[0].id, MDL_ID_MAKE(3, 5));
  cr_assert_eq(counter, 6);
  cr_assert_eq(t.ops[1].id, MDL_ID_PROJECT);
  cr_assert_eq(t.ops[1].value.kind, MDL_VAL_REAL);
  cr_assert_eq(t.ops[2].id, MDL_ID_MAKE(3, 1));
  proto_json_free(tree);
}

Test(proto_json, bad_transactions_say_what_was_wrong) {
  const char *cases[][2] = {
      {"{\"ops\":[", "the body is not valid JSON"},
      {"[]", "expected an object with an \"ops\" array"},
      {"{\"ops\":[]}", "\"ops\" is empty"},
      {"{\"ops\":[{\"op\":\"fly\"}]}", "op 0: unknown op \"fly\" (create, set, move, delete)"},
      {"{\"ops\":[{\"op\":\"set\",\"id\":\"zz\",\"prop\":\"gain\",\"value\":1}]}",
       "op 0: \"id\" must be an id string"},
      {"{\"ops\":[{\"op\":\"set\",\"id\":\"5\",\"prop\":\"volume\",\"value\":1}]}",
       "op 0: no property is called \"volume\""},
      {"{\"ops\":[{\"op\":\"set\",\"id\":\"5\",\"prop\":\"mute\",\"value\":1}]}",
       "op 0: mute must be true or false"},
      {"{\"ops\":[{\"op\":\"set\",\"id\":\"project\",\"prop\":\"ts_num\",\"value\":2.5}]}",
       "op 0: ts_num must be an integer"},
      {"{\"ops\":[{\"op\":\"create\",\"type\":\"bus\"}]}", "op 0: unknown \"type\" \"bus\""},
      {"{\"ops\":[{\"op\":\"create\",\"type\":\"note\",\"parent\":\"$3\"}]}",
       "op 0: \"parent\" must be an id"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    void *tree;
    mdl_txn t;
    char err[200] = "";
    uint32_t counter = 1;
    cr_assert_neq(proto_json_parse_txn(cases[i][0], strlen(cases[i][0]), 3, &counter, S, &tree, &t,
                                       err, sizeof err),
                  0);
    cr_assert_str_eq(err, cases[i][1]);
    proto_json_free(tree);
  }
}

Test(proto_json, project_dump_lists_tracks_in_order_with_hash) {
  mdl_project *p = mdl_project_create(&al, "Dump");
  mdl_txn t = sample_txn();
  cr_assert_eq(mdl_txn_apply(p, &t, 3, NULL), 0);
  char *s = proto_json_project(p, "abc", 4);
  cr_assert_not_null(s);
  cr_assert(strstr(s, "\"tracks\":[{\"id\":\"300000001\",\"kind\":2,\"name\":\"Drums é\""), "%s",
            s);
  char hex[17];
  mdl_hash_hex(mdl_project_hash(p), hex);
  mdl_project_destroy(p);
  cr_assert(strstr(s, hex));
  free(s);
  char id[17];
  proto_json_id(MDL_ID_PROJECT, id);
  cr_assert_str_eq(id, "project");
  cr_assert_eq(proto_json_parse_id("300000001"), A);
  cr_assert_eq(proto_json_parse_id("12345678901234567"), MDL_ID_NONE);
}
