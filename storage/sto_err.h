/* sto_err: error codes of storage/ (the -4xx range). The SQLite result code
 * and message behind a failure are kept for logs: sto_project_last_error. */
#ifndef STO_ERR_H
#define STO_ERR_H

#define STO_ERR_MAP(X)                                                                             \
  X(STO_OK, 0, "no error")                                                                         \
  X(STO_ERR_IO, -401, "the project database could not be read or written")                         \
  X(STO_ERR_NOT_PROJECT, -402, "the file is not a Backline project")                               \
  X(STO_ERR_TOO_NEW, -403, "the project was made by a newer Backline")                             \
  X(STO_ERR_SEQ, -404, "sequence numbers out of order")                                            \
  X(STO_ERR_NOMEM, -405, "out of memory")                                                          \
  X(STO_ERR_NOT_FOUND, -406, "no such project")

#define STO_ERR_ENUM_(name, val, msg) name = val,
typedef enum { STO_ERR_MAP(STO_ERR_ENUM_) } sto_err;
#undef STO_ERR_ENUM_

const char *sto_strerror(int err);

#endif
