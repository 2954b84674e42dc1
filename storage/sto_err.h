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
  X(STO_ERR_NOT_FOUND, -406, "no such project")                                                    \
  X(STO_ERR_INVALID, -407, "invalid argument")                                                     \
  X(STO_ERR_NOT_AUDIO, -408, "the file is not audio that Backline can read")                       \
  X(STO_ERR_TRUNCATED, -409, "the file is truncated or corrupt")                                   \
  X(STO_ERR_TOO_BIG, -410, "size limit exceeded")                                                  \
  X(STO_ERR_OFFSET, -411, "chunk offset does not match the bytes received so far")                 \
  X(STO_ERR_INCOMPLETE, -412, "the upload is not complete")                                        \
  X(STO_ERR_NO_ASSET, -413, "no such asset")                                                       \
  X(STO_ERR_NO_UPLOAD, -414, "no such upload")                                                     \
  X(STO_ERR_NO_ITEM, -415, "no such library item")                                                 \
  X(STO_ERR_EXISTS, -416, "already exists")                                                        \
  X(STO_ERR_NOT_ARCHIVE, -417, "the file is not a Backline archive")                               \
  X(STO_ERR_CHECKSUM, -418, "checksum mismatch: the data is corrupt")                              \
  X(STO_ERR_NOT_LIBRARY, -419, "the file is not a Backline library")

#define STO_ERR_ENUM_(name, val, msg) name = val,
typedef enum { STO_ERR_MAP(STO_ERR_ENUM_) } sto_err;
#undef STO_ERR_ENUM_

const char *sto_strerror(int err);

#endif
