/* sim_wasm: the convergence simulation's entry point in the wasm build
 * (tests only): the same line as sim_cli, or the failure. */
#include "tests/sim/sim_converge.h"

#include <emscripten.h>
#include <stdio.h>

static char line[320];

EMSCRIPTEN_KEEPALIVE const char *sim_run(uint32_t seed, int clients, uint32_t ops) {
  sim_result r;
  if (sim_converge(seed, clients, ops, &r, NULL))
    snprintf(line, sizeof line, "FAIL %s", r.error);
  else
    snprintf(line, sizeof line, "%016llx %llu %llu", (unsigned long long) r.server_hash,
             (unsigned long long) r.txns_applied, (unsigned long long) r.ops_submitted);
  return line;
}
