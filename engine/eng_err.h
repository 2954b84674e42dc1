/* eng_err.h: error codes of the engine folder (eng_*).
 *
 * Every eng_ function that can fail returns an int: 0 on success, a negative
 * ENG_ERR_* code on failure. The engine owns the -1xx range (STYLE.md §4), so
 * any int can be routed to the right folder's strerror. Codes never change
 * value once released; add new ones at the end.
 *
 * Threads: everything here is pure and RT-safe. */
#ifndef ENG_ERR_H
#define ENG_ERR_H

/* X(name, value, message) */
#define ENG_ERR_MAP(X)                                                                             \
  X(ENG_OK, 0, "no error")                                                                         \
  X(ENG_ERR_NOMEM, -101, "out of memory")                                                          \
  X(ENG_ERR_INVALID, -102, "invalid argument")                                                     \
  X(ENG_ERR_FULL, -103, "queue full")                                                              \
  X(ENG_ERR_NODEVICE, -104, "no audio device")                                                     \
  X(ENG_ERR_BACKEND, -105, "audio backend error")                                                  \
  X(ENG_ERR_THREAD, -106, "cannot start thread")                                                   \
  X(ENG_ERR_IO, -107, "file input/output error")                                                   \
  X(ENG_ERR_UNKNOWN_NODE, -108, "unknown node kind")                                               \
  X(ENG_ERR_PARAM, -109, "unknown parameter or value out of range")                                \
  X(ENG_ERR_GRAPH, -110, "invalid graph (unknown routing, send or sidechain target, or a cycle)")

#define ENG_ERR_ENUM_(name, val, msg) name = val,
typedef enum { ENG_ERR_MAP(ENG_ERR_ENUM_) } eng_err;
#undef ENG_ERR_ENUM_

/* Returns a static, human-readable sentence fragment for an ENG_* code, or
 * "unknown engine error" for any other value. Never returns NULL.
 * RT-safe: yes. */
const char *eng_strerror(int err);

#endif /* ENG_ERR_H */
