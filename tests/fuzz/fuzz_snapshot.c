/* fuzz_snapshot: proto_decode_project (snapshots in WELCOME and in project
 * files, schema 2 and the legacy schema 1) on arbitrary bytes.
 *
 * A refusal is a known proto_err and leaves a new empty project ("Untitled":
 * project and master only). A decoded project satisfies the model checker;
 * encoded again (child order may differ from the input, so the bytes may
 * too) it decodes to the same hash and object count. */
#include "tests/fuzz/fuzz_check.h"
#include "protocol/proto_err.h"
#include "protocol/proto_msg.h"

#include <stdlib.h>
#include <string.h>

static mdl_project *project, *again, *empty;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (!project) {
    project = fuzz_project_new("Not empty");
    again = fuzz_project_new(NULL);
    empty = fuzz_project_new(NULL);
  }
  int rc = proto_decode_project(data, size, project);
  if (rc) {
    FUZZ_REQUIRE(rc < 0 && rc != PROTO_ERR_NO_SPACE &&
                     strcmp(proto_strerror(rc), "unknown error") != 0,
                 "refused with code %d", rc);
    FUZZ_REQUIRE(mdl_project_hash(project) == mdl_project_hash(empty) && mdl_count(project, 0) == 2,
                 "a refused snapshot (%d) leaves %u objects, not a new project", rc,
                 mdl_count(project, 0));
    return 0;
  }
  fuzz_require_valid(project, "a decoded snapshot");
  size_t cap = proto_project_size(project);
  unsigned char *enc = malloc(cap);
  FUZZ_REQUIRE(enc != NULL, "out of memory");
  int n = proto_encode_project(project, enc, cap);
  FUZZ_REQUIRE(n > 0 && (size_t) n == cap, "re-encoding gives %d, not %zu bytes", n, cap);
  rc = proto_decode_project(enc, (size_t) n, again);
  free(enc);
  FUZZ_REQUIRE(rc == 0, "the re-encoded snapshot does not decode (%d)", rc);
  FUZZ_REQUIRE(mdl_project_hash(again) == mdl_project_hash(project) &&
                   mdl_count(again, 0) == mdl_count(project, 0),
               "the second decode differs (%u objects, not %u)", mdl_count(again, 0),
               mdl_count(project, 0));
  return 0;
}
