/* bench_model: the full model at studio scale.
 *
 * Builds a project of 100 tracks, 10,000 clips (100 per track) and
 * 1,000,000 notes (100 per clip) through ordinary transactions of 256 ops,
 * and reports the memory per note and per clip (mdl_project_bytes before
 * and after each kind), the time to build, to encode and decode a snapshot
 * of it, and its snapshot size. Prints `bench: model_*` lines; run with
 * `tools/dev bench model`, which also measures Yjs and Automerge holding
 * the same shape (model.mjs) and prints the ratios. */
#include "protocol/proto_msg.h"
#include "shared/mdl_libc.h"
#include "shared/mdl_device.h"
#include "shared/mdl_op.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define TRACKS         100
#define CLIPS_PER      100
#define NOTES_PER_CLIP 100
#define BATCH          256

static const mdl_alloc heap = MDL_LIBC_ALLOC;

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double) ts.tv_sec + (double) ts.tv_nsec / 1e9;
}

static mdl_op ops[BATCH];
static mdl_prop_value props[BATCH][4];
static uint32_t n_ops, counter = 1;

static void flush(mdl_project *p) {
  if (!n_ops) return;
  mdl_fail fail;
  if (mdl_txn_apply(p, &(mdl_txn){n_ops, ops}, 2, &fail)) {
    fprintf(stderr, "bench_model: %s\n", fail.reason);
    exit(1);
  }
  n_ops = 0;
}

static mdl_id add(mdl_project *p, int type, mdl_id parent, uint16_t n, const mdl_prop_value *pv) {
  if (n_ops == BATCH) flush(p);
  mdl_id id = MDL_ID_MAKE(2, counter++);
  memcpy(props[n_ops], pv, n * sizeof *pv);
  ops[n_ops] = (mdl_op){.kind = MDL_OP_CREATE,
                        .type = (uint8_t) type,
                        .id = id,
                        .parent = parent,
                        .n_props = n,
                        .props = props[n_ops]};
  n_ops++;
  return id;
}

static mdl_value num(int64_t x) {
  return (mdl_value){.kind = MDL_VAL_INT, .u.i = x};
}

int main(void) {
  mdl_project *p = mdl_project_create(&heap, "Big");
  static mdl_id clips[TRACKS * CLIPS_PER];
  double t0 = now_s();
  size_t b0 = mdl_project_bytes(p);
  for (int t = 0; t < TRACKS; t++) {
    mdl_prop_value synth[] = {{MDL_PROP_KIND, num(MDL_DEV_SYNTH)}};
    mdl_id track = add(p, MDL_TYPE_TRACK, MDL_ID_PROJECT, 0, NULL);
    add(p, MDL_TYPE_DEVICE, track, 1, synth);
    for (int c = 0; c < CLIPS_PER; c++) {
      mdl_prop_value clip[] = {{MDL_PROP_START, num((int64_t) c * 4 * MDL_PPQ)}};
      clips[t * CLIPS_PER + c] = add(p, MDL_TYPE_CLIP, track, 1, clip);
    }
  }
  flush(p);
  size_t b1 = mdl_project_bytes(p);
  double t1 = now_s();
  for (int k = 0; k < TRACKS * CLIPS_PER; k++)
    for (int n = 0; n < NOTES_PER_CLIP; n++) {
      mdl_prop_value note[] = {{MDL_PROP_PITCH, num(36 + (k + n) % 48)},
                               {MDL_PROP_START, num((int64_t) n * MDL_PPQ / 25)},
                               {MDL_PROP_LENGTH, num(MDL_PPQ / 8)},
                               {MDL_PROP_VELOCITY, num(64 + n % 64)}};
      add(p, MDL_TYPE_NOTE, clips[k], 4, note);
    }
  flush(p);
  double t2 = now_s();
  size_t b2 = mdl_project_bytes(p);
  uint32_t n_notes = mdl_count(p, MDL_TYPE_NOTE), n_clips = mdl_count(p, MDL_TYPE_CLIP);
  size_t size = proto_project_size(p);
  uint8_t *snap = malloc(size);
  double t3 = now_s();
  int len = proto_encode_project(p, snap, size);
  double t4 = now_s();
  mdl_project *q = mdl_project_create(&heap, NULL);
  int rc = len > 0 ? proto_decode_project(snap, (size_t) len, q) : len;
  double t5 = now_s();
  if (rc || mdl_project_hash(q) != mdl_project_hash(p)) {
    fprintf(stderr, "bench_model: the snapshot does not round trip (%d)\n", rc);
    return 1;
  }
  /* A set among a million notes: still one term of the hash. */
  mdl_id some = clips[4321];
  mdl_id kids[NOTES_PER_CLIP];
  mdl_children(p, some, MDL_TYPE_NOTE, kids, NOTES_PER_CLIP);
  double t6 = now_s();
  for (int i = 0; i < 100000; i++) {
    mdl_op op = {.kind = MDL_OP_SET,
                 .id = kids[i % NOTES_PER_CLIP],
                 .prop = MDL_PROP_VELOCITY,
                 .value = num(1 + i % 127)};
    mdl_txn_apply(p, &(mdl_txn){1, &op}, 2, NULL);
  }
  double t7 = now_s();

  double per_clip = (double) (b1 - b0) / n_clips, per_note = (double) (b2 - b1) / n_notes;
  printf("model: %d tracks, %u clips, %u notes (%u objects)\n", TRACKS, n_clips, n_notes,
         mdl_count(p, 0));
  printf("  memory        %.1f MB in all; %.1f bytes per clip (tracks and devices included), "
         "%.1f bytes per note\n",
         (double) b2 / 1e6, per_clip, per_note);
  printf(
      "  build         %.2f s for the tracks and clips, %.2f s for the notes (%.0f ns per note)\n",
      t1 - t0, t2 - t1, (t2 - t1) / n_notes * 1e9);
  printf("  snapshot      %.1f MB, encoded in %.0f ms, decoded and checked in %.0f ms\n",
         (double) len / 1e6, (t4 - t3) * 1e3, (t5 - t4) * 1e3);
  printf("  a set then    %.0f ns per op among a million notes\n", (t7 - t6) / 100000 * 1e9);
  printf("bench: model_bytes_per_note %.1f B\n", per_note);
  printf("bench: model_bytes_per_clip %.1f B\n", per_clip);
  printf("bench: model_total_mb %.1f MB\n", (double) b2 / 1e6);
  printf("bench: model_build_note_ns %.0f ns\n", (t2 - t1) / n_notes * 1e9);
  printf("bench: model_snapshot_mb %.1f MB\n", (double) len / 1e6);
  printf("bench: model_snapshot_encode_ms %.0f ms\n", (t4 - t3) * 1e3);
  printf("bench: model_snapshot_decode_ms %.0f ms\n", (t5 - t4) * 1e3);
  printf("bench: model_set_among_1m_ns %.0f ns\n", (t7 - t6) / 100000 * 1e9);
  free(snap);
  mdl_project_destroy(q);
  mdl_project_destroy(p);
  return 0;
}
