/* proto_err: the protocol's error table (see proto_err.h). */
#include "protocol/proto_err.h"
#include "shared/mdl_err.h"

const char *proto_strerror(int err) {
  if (err <= -200 && err > -300) return mdl_strerror(err);
#define PROTO_ERR_CASE_(name, val, msg)                                                            \
  case name:                                                                                       \
    return msg;
  switch ((proto_err) err) { PROTO_ERR_MAP(PROTO_ERR_CASE_) }
#undef PROTO_ERR_CASE_
  return "unknown error";
}
