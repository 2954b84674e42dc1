/* eng_err.c: eng_strerror, generated from the ENG_ERR_MAP table. */
#include "engine/eng_err.h"

const char *eng_strerror(int err) {
#define ENG_ERR_CASE_(name, val, msg)                                                              \
  case name:                                                                                       \
    return msg;
  switch ((eng_err) err) { ENG_ERR_MAP(ENG_ERR_CASE_) }
#undef ENG_ERR_CASE_
  return "unknown engine error";
}
