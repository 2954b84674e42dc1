/* cli_err: error texts. */
#include "tools/client/cli_err.h"
#include "protocol/proto_err.h"

const char *cli_strerror(int err) {
#define CLI_ERR_CASE_(name, val, msg)                                                              \
  case name:                                                                                       \
    return msg;
  switch ((cli_err) err) { CLI_ERR_MAP(CLI_ERR_CASE_) }
#undef CLI_ERR_CASE_
  return proto_strerror(err);
}
