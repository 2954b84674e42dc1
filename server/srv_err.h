/* srv_err: error codes of server/ (the -5xx range). Codes that reach a
 * client (REST "code" fields) are frozen; PROTOCOL.md lists them. */
#ifndef SRV_ERR_H
#define SRV_ERR_H

#include <stddef.h>

#define SRV_ERR_MAP(X)                                                                             \
  X(SRV_OK, 0, "no error")                                                                         \
  X(SRV_ERR_TLS, -501, "the TLS certificate could not be prepared")                                \
  X(SRV_ERR_NO_PROJECT, -502, "no such project")                                                   \
  X(SRV_ERR_BAD_REQUEST, -503, "bad request")                                                      \
  X(SRV_ERR_STORAGE, -504, "the project could not be saved")                                       \
  X(SRV_ERR_TOO_BIG, -505, "request body too large")                                               \
  X(SRV_ERR_NO_ROUTE, -506, "no such route")                                                       \
  X(SRV_ERR_METHOD, -507, "method not allowed")                                                    \
  X(SRV_ERR_BUSY, -508, "server busy")                                                             \
  X(SRV_ERR_NOMEM, -509, "out of memory")                                                          \
  X(SRV_ERR_START, -510, "the server could not start")

#define SRV_ERR_ENUM_(name, val, msg) name = val,
typedef enum { SRV_ERR_MAP(SRV_ERR_ENUM_) } srv_err;
#undef SRV_ERR_ENUM_

/* A sentence for any code of any folder (mdl -2xx, proto -3xx, sto -4xx,
 * srv -5xx, eng -1xx). */
const char *srv_strerror(int err);

/* Formats one sentence into ERR (ERR_LEN bytes, NUL-terminated); does
 * nothing when ERR is NULL or ERR_LEN is 0. Any thread. */
void srv_set_err(char *err, size_t err_len, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif
