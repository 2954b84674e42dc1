/* cli_server: runs the real `backline` binary as a child process, for the
 * integration tests and the benches.
 *
 * cli_server_start picks a free loopback port, starts
 *   BIN --data DIR --port N --https-port 0 --ops-port 0 --headless
 * with stdout and stderr appended to DIR.log (next to DIR, not inside it),
 * and waits until GET /api/health answers 200. A port lost to a race is
 * retried with another. Also: temporary folders and their removal.
 *
 * One cli_server per child; use it from one thread at a time. */
#ifndef CLI_SERVER_H
#define CLI_SERVER_H

#include "tools/client/cli_err.h"

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#define CLI_SERVER_START_MS 15000 /* time allowed to answer /api/health */

typedef struct cli_server cli_server;

/* The server binary: $BACKLINE_BIN if set, else FALLBACK. Borrowed. */
const char *cli_server_bin(const char *fallback);

/* Starts BIN on DATA_DIR (created by the server if missing) and waits for
 * health. On success *out is the running server; release it with
 * cli_server_stop. On failure *out is NULL, the child (if any) is killed, and
 * err gets one sentence (and the tail of the log). Possible errors:
 * CLI_ERR_INVALID, CLI_ERR_NOMEM, CLI_ERR_SPAWN, CLI_ERR_TIMEOUT. */
int cli_server_start(const char *bin, const char *data_dir, cli_server **out, char *err,
                     size_t err_len);

int cli_server_port(const cli_server *s);
pid_t cli_server_pid(const cli_server *s);
const char *cli_server_log(const cli_server *s); /* path of the log; borrowed */

/* True while the child has not exited (reaps it if it has; the status is
 * then kept for cli_server_stop). */
bool cli_server_alive(cli_server *s);

/* Sends SIG (SIGTERM, SIGINT...) and waits up to TIMEOUT_MS for the child to
 * exit; past that, SIGKILL. *status (if not NULL) gets the waitpid status,
 * *elapsed_ms (if not NULL) how long the exit took. Frees S. Returns 0 if the
 * child exited by itself in time, CLI_ERR_TIMEOUT if it had to be killed.
 * NULL ok (returns 0). */
int cli_server_stop(cli_server *s, int sig, int timeout_ms, int *status, int *elapsed_ms);

/* Makes a fresh folder under $TMPDIR (or /tmp) named PREFIX-XXXXXX; copies its
 * path into out[cap]. Possible errors: CLI_ERR_SPAWN. */
int cli_tempdir(const char *prefix, char *out, size_t cap);

/* Removes PATH and everything below it. Best effort. */
void cli_rmtree(const char *path);

#endif
