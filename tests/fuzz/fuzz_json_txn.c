/* fuzz_json_txn: JSON transactions (the REST form) on arbitrary text.
 *
 * proto_json_parse_txn must refuse with a known code and a non-empty
 * sentence, or give a transaction that is then applied to the seed project
 * with fuzz_apply_checked (which also checks that its stored wire form
 * applies the same way). The origin (1..3) and the first id counter come
 * from the input's length: 1 for every fifth length, so that creates then
 * collide with the seed's ids, else 101..104. */
#include "tests/fuzz/fuzz_check.h"
#include "protocol/proto_err.h"
#include "protocol/proto_json.h"
#include "shared/mdl_err.h"

#include <string.h>

static proto_scratch scratch;
static mdl_project *project;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  uint32_t origin = 1 + (uint32_t) (size % 3), counter = size % 5 ? 100 + (uint32_t) (size % 5) : 1;
  void *tree = (void *) 1;
  mdl_txn txn;
  char err[300];
  memset(err, 0x5A, sizeof err);
  int rc = proto_json_parse_txn((const char *) data, size, origin, &counter, &scratch, &tree, &txn,
                                err, sizeof err);
  if (rc) {
    FUZZ_REQUIRE(rc < 0 && strcmp(proto_strerror(rc), "unknown error") != 0, "refused with code %d",
                 rc);
    FUZZ_REQUIRE(memchr(err, 0, sizeof err) != NULL && err[0] != '\0',
                 "refused (%d) without a sentence", rc);
  } else {
    FUZZ_REQUIRE(tree != NULL && txn.n_ops >= 1 && txn.n_ops <= MDL_TXN_MAX_OPS,
                 "accepted with %u ops", txn.n_ops);
    if (!project) project = fuzz_project_new(NULL);
    fuzz_seed_project(project);
    fuzz_apply_checked(project, &txn, origin);
  }
  proto_json_free(tree);
  return 0;
}
