/* sim_cli: runs the convergence simulation once natively and prints
 * "HASH TXNS OPS" (the same line the wasm build prints), or the failure. */
#include "tests/sim/sim_converge.h"

#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv) {
  if (argc != 4) {
    fprintf(stderr, "usage: sim_cli SEED CLIENTS OPS\n");
    return 2;
  }
  sim_result r;
  int rc = sim_converge((uint32_t) strtoul(argv[1], NULL, 10), atoi(argv[2]),
                        strtoull(argv[3], NULL, 10), &r, NULL);
  if (rc) {
    fprintf(stderr, "%s\n", r.error);
    return 1;
  }
  printf("%016llx %llu %llu\n", (unsigned long long) r.server_hash,
         (unsigned long long) r.txns_applied, (unsigned long long) r.ops_submitted);
  return 0;
}
