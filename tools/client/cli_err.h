/* cli_err: error codes of the test and bench client (tools/client/).
 *
 * The client owns the -8xx range. Functions in tools/client return 0, a
 * negative cli_err, or an error passed through from the layer below (an
 * mdl_err -2xx from the local replica, a proto_err -3xx from an encoder);
 * cli_strerror names all of them. Any thread. */
#ifndef CLI_ERR_H
#define CLI_ERR_H

#define CLI_ERR_MAP(X)                                                                             \
  X(CLI_OK, 0, "no error")                                                                         \
  X(CLI_ERR_NOMEM, -801, "out of memory")                                                          \
  X(CLI_ERR_INVALID, -802, "invalid argument")                                                     \
  X(CLI_ERR_CONNECT, -803, "could not connect")                                                    \
  X(CLI_ERR_TIMEOUT, -804, "timed out")                                                            \
  X(CLI_ERR_CLOSED, -805, "the connection is closed")                                              \
  X(CLI_ERR_PROTOCOL, -806, "the server broke the protocol")                                       \
  X(CLI_ERR_OUT_OF_STEP, -807, "the replica is out of step with the server")                       \
  X(CLI_ERR_HTTP, -808, "HTTP request failed")                                                     \
  X(CLI_ERR_SPAWN, -809, "could not start the server")

#define CLI_ERR_ENUM_(name, val, msg) name = val,
typedef enum { CLI_ERR_MAP(CLI_ERR_ENUM_) } cli_err;
#undef CLI_ERR_ENUM_

/* A static English sentence for a cli_err, or (through proto_strerror) for
 * an mdl_err or proto_err. */
const char *cli_strerror(int err);

#endif
