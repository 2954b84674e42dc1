/* srv_response: one HTTP response made by a server route handler.
 *
 * Both network fronts (libwebsockets for the studio, CivetWeb for the
 * operator port, srv_ops) call the same route handlers and send what they
 * fill in here, so no route is written twice. Plain value; any thread. */
#ifndef SRV_RESPONSE_H
#define SRV_RESPONSE_H

#include <stddef.h>

typedef struct srv_response {
  int status;               /* HTTP status, e.g. 200 */
  const char *content_type; /* borrowed, static (a literal); NULL means text/plain; charset=utf-8 */
  char *body; /* malloc'd; the caller of the handler frees it with free(); may be NULL */
  size_t len; /* bytes in body */
} srv_response;

#endif
