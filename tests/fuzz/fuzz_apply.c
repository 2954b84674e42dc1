/* fuzz_apply: wire transactions applied to the seed project, in sequence.
 *
 * The input is a series of records, each
 *   u8 origin selector, u16 length (little-endian), that many bytes
 * (a length past the end takes the rest). Each record's bytes go through
 * proto_decode_txn; one that decodes is applied with fuzz_apply_checked to
 * the project the previous records left (starting from fuzz_seed_project),
 * with origin = selector & 3 for selectors below 0x80 (the id spaces of the
 * seed's objects, and 0 = trusted) and the selector itself above. */
#include "tests/fuzz/fuzz_check.h"
#include "protocol/proto_err.h"
#include "protocol/proto_msg.h"

#include <string.h>

#define MAX_RECORDS 16

static proto_scratch scratch;
static mdl_project *project;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (!project) project = fuzz_project_new(NULL);
  fuzz_seed_project(project);
  for (int r = 0; r < MAX_RECORDS && size >= 3; r++) {
    uint8_t sel = data[0];
    size_t len = (size_t) data[1] | (size_t) data[2] << 8;
    data += 3, size -= 3;
    if (len > size) len = size;
    uint32_t origin = sel < 0x80 ? sel & 3u : sel;
    mdl_txn txn;
    int rc = proto_decode_txn(data, len, &scratch, &txn);
    if (rc == 0)
      fuzz_apply_checked(project, &txn, origin);
    else
      FUZZ_REQUIRE(rc < 0 && strcmp(proto_strerror(rc), "unknown error") != 0,
                   "proto_decode_txn refused with code %d", rc);
    data += len, size -= len;
  }
  return 0;
}
