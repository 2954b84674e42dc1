/* The randomized convergence test, natively: 8 clients, 10,000+ ops of every
 * kind, random interleavings, lost connections, offline batches; every
 * client, the server and a replay of the log agree. The log then goes
 * through a real project file and loads to the same hash. */
#include "tests/sim/sim_converge.h"
#include "protocol/proto_msg.h"
#include "shared/mdl_alloc.h"
#include "storage/sto_int.h"
#include "storage/sto_project.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

Test(sim_converge, eight_clients_ten_thousand_ops_converge_for_many_seeds) {
  uint64_t seeds = 0, disconnects = 0, deduped = 0, rejects = 0, objects = 0;
  for (uint32_t seed = 1; seed <= 6; seed++, seeds++) {
    sim_result r;
    int rc = sim_converge(seed * 7919, 8, 10000, &r, NULL);
    cr_assert_eq(rc, 0, "%s (reproduce: build/tests/sim_cli %u 8 10000)", r.error, seed * 7919);
    cr_assert_geq(r.ops_submitted, 10000);
    disconnects += r.disconnects, deduped += r.deduped, rejects += r.rejects;
    objects += r.objects;
  }
  /* The schedule must really have exercised what it claims to. */
  cr_assert_gt(disconnects, 0, "no connection was lost with messages in flight");
  cr_assert_gt(deduped, 0, "no lost ack was covered by WELCOME's last local id");
  cr_assert_gt(rejects, 0, "no conflict was refused");
  fprintf(stderr,
          "[note] %llu seeds: %llu lost connections, %llu edits not sent twice, %llu conflicts, "
          "%llu objects at the end\n",
          (unsigned long long) seeds, (unsigned long long) disconnects,
          (unsigned long long) deduped, (unsigned long long) rejects, (unsigned long long) objects);
}

Test(sim_converge, the_log_through_a_project_file_loads_to_the_same_hash) {
  sim_result r;
  uint8_t *log;
  cr_assert_eq(sim_converge(424242, 8, 10000, &r, &log), 0, "%s", r.error);
  char dir[] = "/tmp/backline-sim-XXXXXX", path[80], err[600];
  cr_assert_not_null(mkdtemp(dir));
  snprintf(path, sizeof path, "%s/p.backline", dir);
  sto_project *sp;
  cr_assert_eq(sto_project_open(path, STO_OPEN_CREATE, &sp, err, sizeof err), 0, "%s", err);
  /* The simulation's project starts named "Sim": the stored log starts with that op. */
  mdl_op name = {.kind = MDL_OP_SET, .id = MDL_ID_PROJECT, .prop = MDL_PROP_NAME};
  name.value.kind = MDL_VAL_STR, name.value.u.s.ptr = "Sim", name.value.u.s.len = 3;
  mdl_txn t = {1, &name};
  uint8_t buf[64];
  int n = proto_encode_txn(&t, buf, sizeof buf);
  cr_assert_eq(sto_project_begin(sp), 0);
  cr_assert_eq(sto_project_append(sp, 1, 0, buf, (size_t) n), 0);
  uint64_t seq = 1;
  for (size_t at = 0; at < r.log_bytes;) {
    uint32_t hdr[2];
    memcpy(hdr, log + at, 8);
    cr_assert_eq(sto_project_append(sp, ++seq, hdr[1], log + at + 8, hdr[0]), 0);
    at += 8 + hdr[0];
  }
  cr_assert_eq(sto_project_commit(sp), 0);
  sto_project_close(sp);
  cr_assert_eq(sto_project_open(path, STO_OPEN_EXISTING, &sp, err, sizeof err), 0, "%s", err);
  mdl_project *m = mdl_project_create(&sto__alloc, NULL);
  cr_assert_eq(sto_project_load_model(sp, m, &seq, err, sizeof err), 0, "%s", err);
  cr_assert_eq(seq, r.txns_applied + 1);
  cr_assert_eq(mdl_project_hash(m), r.server_hash);
  mdl_project_destroy(m);
  free(log);
  sto_project_close(sp);
  char cmd[160];
  snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
  cr_assert_eq(system(cmd), 0);
}
