/* mdl_err: the model's error table (see mdl_err.h). */
#include "shared/mdl_err.h"

const char *mdl_strerror(int err) {
#define MDL_ERR_CASE_(name, val, msg)                                                              \
  case name:                                                                                       \
    return msg;
  switch ((mdl_err) err) { MDL_ERR_MAP(MDL_ERR_CASE_) }
#undef MDL_ERR_CASE_
  return "unknown error";
}
