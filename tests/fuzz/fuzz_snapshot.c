/* fuzz_snapshot: proto_decode_project (snapshots in WELCOME and in project
 * files) on arbitrary bytes. A refusal is a known proto_err; a decoded
 * project satisfies the model checker and re-encodes to the input bytes. */
#include "tests/fuzz/fuzz_check.h"
#include "protocol/proto_err.h"
#include "protocol/proto_msg.h"

#include <string.h>

static mdl_project project;
static unsigned char enc[16384];

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  int rc = proto_decode_project(data, size, &project);
  if (rc) {
    FUZZ_REQUIRE(rc < 0 && rc != PROTO_ERR_NO_SPACE &&
                     strcmp(proto_strerror(rc), "unknown error") != 0,
                 "refused with code %d", rc);
    return 0;
  }
  fuzz_require_valid(&project, "a decoded snapshot");
  int n = proto_encode_project(&project, enc, sizeof enc);
  FUZZ_REQUIRE(n > 0 && (size_t) n == size && memcmp(enc, data, size) == 0,
               "re-encoding gives %d bytes, not the %zu decoded", n, size);
  return 0;
}
