/* srv_err: the server's error table, and routing of any code to its folder. */
#include "server/srv_err.h"
#include "engine/eng_err.h"
#include "protocol/proto_err.h"
#include "storage/sto_err.h"

#include <stdarg.h>
#include <stdio.h>

const char *srv_strerror(int err) {
  if (err <= -100 && err > -200) return eng_strerror(err);
  if (err <= -200 && err > -400) return proto_strerror(err); /* covers mdl too */
  if (err <= -400 && err > -500) return sto_strerror(err);
#define SRV_ERR_CASE_(name, val, msg)                                                              \
  case name:                                                                                       \
    return msg;
  switch ((srv_err) err) { SRV_ERR_MAP(SRV_ERR_CASE_) }
#undef SRV_ERR_CASE_
  return "unknown error";
}

void srv_set_err(char *err, size_t err_len, const char *fmt, ...) {
  if (!err || err_len == 0) return;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(err, err_len, fmt, ap);
  va_end(ap);
}
