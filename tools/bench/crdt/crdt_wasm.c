/* crdt_wasm: exports of the bench-only wasm module (build/bench/crdt.mjs).
 *
 * Glue only: it hands crdt_work.c to bench.mjs, which times the rows (one
 * JS->wasm call per batch of 64 ops: the in-wasm loop), the per-op calls
 * (one JS->wasm call per op, arguments as plain numbers and strings copied
 * into wasm memory, as the studio's glue gets them) and the merges, and
 * reads the scripts to replay them in Yjs and Automerge. Same C and the same
 * emcc flags (BACKLINE_WASM_OPT, emmalloc) as the studio's wasm/model.wasm. */
#include "tools/bench/crdt/crdt_work.h"

#include <emscripten/emscripten.h>

#define EXPORT EMSCRIPTEN_KEEPALIVE

static char str_buf[256]; /* JS writes a string argument here */

EXPORT void bench_init(void) {
  crdt_init();
}
EXPORT char *bench_str_buf(void) {
  return str_buf;
}

/* Field F of script W: 0 n, 1 kind, 2 prop, 3 index, 4 id_hi, 5 id_lo, 6 num. */
EXPORT const void *bench_script_field(int w, int f) {
  const crdt_script *s = crdt_script_get(w);
  switch (f) {
    case 0:
      return &s->n;
    case 1:
      return s->kind;
    case 2:
      return s->prop;
    case 3:
      return s->index;
    case 4:
      return s->id_hi;
    case 5:
      return s->id_lo;
    default:
      return s->num;
  }
}

EXPORT uint32_t bench_row_batches(int row) {
  return crdt_row_batches(row);
}
EXPORT void bench_row_setup(int row, uint32_t batch) {
  crdt_row_setup(row, batch);
}
EXPORT int bench_row_run(int row, uint32_t batch) {
  return crdt_row_run(row, batch);
}

EXPORT int bench_set(uint32_t hi, uint32_t lo, int prop, double num) {
  return crdt_apply_set(hi, lo, prop, num);
}
EXPORT int bench_set_str(uint32_t hi, uint32_t lo, int prop, uint32_t len) {
  return crdt_apply_set_str(hi, lo, prop, str_buf, len);
}
EXPORT int bench_create_str(uint32_t hi, uint32_t lo, uint32_t len, uint32_t colour) {
  return crdt_apply_create_str(hi, lo, str_buf, len, colour);
}

EXPORT void bench_merge_setup(int m) {
  crdt_merge_setup(m);
}
EXPORT int bench_merge_run(int m) {
  return crdt_merge_run(m);
}
EXPORT int bench_merge_check(int m) {
  return crdt_merge_check(m);
}
EXPORT uint32_t bench_merge_tracks(int m) {
  return crdt_merge_tracks(m);
}

EXPORT int bench_bytes_set(int prop, double num) {
  return crdt_bytes_set(prop, num);
}
EXPORT int bench_bytes_create(int front) {
  return crdt_bytes_create(front);
}
EXPORT int bench_bytes_submit_overhead(void) {
  return crdt_bytes_submit_overhead();
}
EXPORT int bench_bytes_broadcast_overhead(void) {
  return crdt_bytes_broadcast_overhead();
}
EXPORT double bench_bytes_script(int w) {
  return crdt_bytes_script(w);
}
