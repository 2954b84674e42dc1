/* bench_crdt_native: the native half of the CRDT comparison (tools/bench/crdt).
 *
 * Times our model on the workloads of crdt_work.c: per-op apply (batches of
 * 64 ops, per-op time = batch time / 64, p50 and p99 over the batches), the
 * four ways a 10,000 + 10,000-op divergence gets merged, and the wire size
 * of ops. Prints a table and writes "key value" lines to the file given by
 * --out, which bench.mjs reads to print the ratios against Yjs, Automerge
 * and the wasm build. Run by build/bench/bench_crdt (the launcher). */
#include "tools/bench/crdt/crdt_work.h"

#include "shared/mdl_project.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const char *row_names[CRDT_N_ROWS] = {"set_local", "set_remote", "append_local",
                                             "append_remote", "front_local"};
static const char *merge_names[CRDT_N_MERGES] = {"server", "after", "rebase", "reconnect"};

static double now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double) ts.tv_sec * 1e9 + (double) ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *) a, y = *(const double *) b;
  return x < y ? -1 : x > y;
}

static double pct(double *v, size_t n, double p) {
  qsort(v, n, sizeof *v, cmp_double);
  size_t i = (size_t) (p * (double) (n - 1) + 0.5);
  return v[i];
}

int main(int argc, char **argv) {
  const char *out_path = NULL;
  for (int i = 1; i + 1 < argc; i += 2)
    if (strcmp(argv[i], "--out") == 0) out_path = argv[i + 1];
  FILE *out = out_path ? fopen(out_path, "w") : NULL;
  if (out_path && !out) {
    perror(out_path);
    return 1;
  }
  crdt_init();

  printf("crdt (native): our model, per-op apply in batches of %d (p50/p99 over batches)\n",
         CRDT_BATCH);
  printf("  %-16s %8s %10s %10s\n", "row (ns/op)", "ops", "p50", "p99");
  static double t[1024];
  for (int row = 0; row < CRDT_N_ROWS; row++) {
    uint32_t nb = crdt_row_batches(row);
    for (int pass = 0; pass < 2; pass++) { /* pass 0 warms up */
      for (uint32_t b = 0; b < nb; b++) {
        crdt_row_setup(row, b);
        double t0 = now_ns();
        int rc = crdt_row_run(row, b);
        t[b] = (now_ns() - t0) / CRDT_BATCH;
        if (rc) {
          fprintf(stderr, "bench_crdt: row %s batch %u failed (%d)\n", row_names[row], b, rc);
          return 1;
        }
      }
    }
    double p50 = pct(t, nb, 0.5), p99 = pct(t, nb, 0.99);
    printf("  %-16s %8u %10.1f %10.1f\n", row_names[row], nb * CRDT_BATCH, p50, p99);
    if (out)
      fprintf(out, "native.%s.p50 %.3f\nnative.%s.p99 %.3f\n", row_names[row], p50, row_names[row],
              p99);
  }

  printf("  %-16s %8s %10s  (best of 3; rebase: 1 run)\n", "merge (ms)", "", "total");
  for (int m = 0; m < CRDT_N_MERGES; m++) {
    int reps = m == CRDT_MERGE_REBASE ? 1 : 3;
    double best = 1e300;
    for (int r = 0; r < reps; r++) {
      crdt_merge_setup(m);
      double t0 = now_ns();
      int rc = crdt_merge_run(m);
      double ms = (now_ns() - t0) / 1e6;
      int bad = crdt_merge_check(m);
      if (rc || bad) {
        fprintf(stderr, "bench_crdt: merge %s failed (rc %d, check %d)\n", merge_names[m], rc, bad);
        return 1;
      }
      if (ms < best) best = ms;
    }
    printf("  %-16s %8s %10.2f  (%u tracks after)\n", merge_names[m], "", best,
           crdt_merge_tracks(m));
    if (out) fprintf(out, "native.merge.%s %.4f\n", merge_names[m], best);
  }
  if (out) fclose(out);
  return 0;
}
