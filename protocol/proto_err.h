/* proto_err: error codes of the wire protocol (protocol/).
 *
 * The protocol owns the -3xx range. Codes travel in REJECT messages and are
 * frozen (PROTOCOL.md lists them): never renumber, only add. Any thread. */
#ifndef PROTO_ERR_H
#define PROTO_ERR_H

#define PROTO_ERR_MAP(X)                                                                           \
  X(PROTO_OK, 0, "no error")                                                                       \
  X(PROTO_ERR_TRUNCATED, -301, "message ends too early")                                           \
  X(PROTO_ERR_TRAILING, -302, "bytes left over after the message")                                 \
  X(PROTO_ERR_UNKNOWN_TYPE, -303, "unknown message type")                                          \
  X(PROTO_ERR_TOO_BIG, -304, "message too big")                                                    \
  X(PROTO_ERR_VERSION, -305, "unsupported protocol version")                                       \
  X(PROTO_ERR_RANGE, -306, "field out of range")                                                   \
  X(PROTO_ERR_BAD_TEXT, -307, "text is not valid UTF-8")                                           \
  X(PROTO_ERR_NO_SPACE, -308, "output buffer too small")                                           \
  X(PROTO_ERR_BAD_JSON, -309, "malformed JSON")                                                    \
  X(PROTO_ERR_UNEXPECTED, -310, "message not expected at this point")

#define PROTO_ERR_ENUM_(name, val, msg) name = val,
typedef enum { PROTO_ERR_MAP(PROTO_ERR_ENUM_) } proto_err;
#undef PROTO_ERR_ENUM_

/* A static English sentence for any proto_err; for -2xx codes it defers to
 * mdl_strerror, so every code a REJECT carries has a text. */
const char *proto_strerror(int err);

#endif
