/* cli_http: a tiny blocking HTTP/1.1 client for the REST API, for tests and
 * benches (plain sockets to 127.0.0.1, one request per connection).
 *
 * It sends the body while it watches for the response, so a server that
 * answers early (413 to a body it will not read) is heard rather than lost
 * in a broken pipe. Responses with Content-Length, chunked encoding or
 * close-delimited bodies are understood. No TLS, no redirects, no keep-alive.
 * Stateless; any thread. */
#ifndef CLI_HTTP_H
#define CLI_HTTP_H

#include "protocol/proto_msg.h"
#include "tools/client/cli_err.h"

#include <stddef.h>
#include <stdint.h>

#define CLI_HTTP_TIMEOUT_MS 10000 /* for the whole request */

/* Sends METHOD PATH to 127.0.0.1:PORT with BODY (NUL-terminated, NULL for
 * none; sent as application/json), and waits for the response. *status gets
 * the HTTP status, *resp (if not NULL) a malloc'd NUL-terminated copy of the
 * body that the caller frees with free(). On failure *status is 0 and *resp
 * NULL. Possible errors: CLI_ERR_INVALID, CLI_ERR_CONNECT, CLI_ERR_TIMEOUT,
 * CLI_ERR_HTTP (malformed response, or the connection died before one),
 * CLI_ERR_NOMEM. */
int cli_http(int port, const char *method, const char *path, const char *body, int *status,
             char **resp);

/* Same with a body of BODY_LEN bytes (any bytes) and a timeout. */
int cli_http_ex(int port, const char *method, const char *path, const void *body, size_t body_len,
                int timeout_ms, int *status, char **resp, size_t *resp_len);

/* ---- REST conveniences (cJSON inside) ------------------------------------------ */

/* POST /api/projects {"name": NAME}; expects 201 and copies the new id into
 * id[PROTO_PROJECT_ID_MAX + 1]. Possible errors: those of cli_http, and
 * CLI_ERR_PROTOCOL (another status or an unexpected body). */
int cli_rest_create_project(int port, const char *name, char id[PROTO_PROJECT_ID_MAX + 1]);

/* GET /api/projects/ID/state; *seq and hash[17] get its figures. Same errors;
 * a 404 is CLI_ERR_PROTOCOL too (with *seq = 0 and hash = ""). */
int cli_rest_state(int port, const char *id, uint64_t *seq, char hash[17]);

/* POST /api/projects/ID/ops with JSON; on 200 *seq gets the new seq. *status
 * gets the status whatever it is; *resp as in cli_http (may be NULL).
 * Possible errors: those of cli_http; a 4xx is not an error here. */
int cli_rest_ops(int port, const char *id, const char *json, int *status, uint64_t *seq,
                 char **resp);

#endif
