/* mdl_err: error codes of the project model (shared/).
 *
 * 0 is success, negative is an error. The model owns the -2xx range. These
 * codes travel on the wire inside REJECT messages, so they are frozen: never
 * renumber one, only add (protocol/PROTOCOL.md lists them). Any thread. */
#ifndef MDL_ERR_H
#define MDL_ERR_H

#define MDL_ERR_MAP(X)                                                                             \
  X(MDL_OK, 0, "no error")                                                                         \
  X(MDL_ERR_NOMEM, -201, "out of memory")                                                          \
  X(MDL_ERR_INVALID, -202, "invalid argument")                                                     \
  X(MDL_ERR_NOT_FOUND, -203, "no object with that id")                                             \
  X(MDL_ERR_EXISTS, -204, "an object with that id already exists")                                 \
  X(MDL_ERR_BAD_TYPE, -205, "unknown object type")                                                 \
  X(MDL_ERR_BAD_PROP, -206, "unknown property for this object type")                               \
  X(MDL_ERR_BAD_VALUE, -207, "value has the wrong type for the property")                          \
  X(MDL_ERR_RANGE, -208, "value out of range")                                                     \
  X(MDL_ERR_FULL, -209, "limit reached")                                                           \
  X(MDL_ERR_BAD_OP, -210, "unknown operation")                                                     \
  X(MDL_ERR_FORBIDDEN, -211, "operation not allowed on this object")                               \
  X(MDL_ERR_ID_SPACE, -212, "new id is outside the sender's id space")

#define MDL_ERR_ENUM_(name, val, msg) name = val,
typedef enum { MDL_ERR_MAP(MDL_ERR_ENUM_) } mdl_err;
#undef MDL_ERR_ENUM_

/* Returns a static English sentence for any mdl_err; "unknown error" for
 * anything else. Does not allocate. */
const char *mdl_strerror(int err);

#endif
