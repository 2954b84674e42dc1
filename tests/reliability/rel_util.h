/* rel_util: small helpers shared by the reliability tests (tests only).
 *
 * A fixture owns a temporary root with DATA = ROOT/data inside, the running
 * server (if any) and the id of the project under test. Every helper
 * asserts (Criterion) on failure, so a test reads as its story. One thread. */
#ifndef REL_UTIL_H
#define REL_UTIL_H

#include "protocol/proto_msg.h"
#include "tools/client/cli_server.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define REL_WAIT_MS 20000 /* generous: the server may run under ASan */

/* What a test observed, on stderr (cr_log_info leaks in Criterion 2.4.1's runner). */
#define rel_note(...) (fprintf(stderr, "[note] " __VA_ARGS__), fputc('\n', stderr))

typedef struct rel_fixture {
  char root[512], data[600];
  char project[PROTO_PROJECT_ID_MAX + 1];
  char path[800]; /* DATA/projects/PROJECT.backline */
  cli_server *srv;
  int port;
} rel_fixture;

/* Makes ROOT (prefix PREFIX) and sets DATA; starts nothing. */
void rel_init(rel_fixture *f, const char *prefix);
/* Stops the server (SIGKILL: it is a test) and removes ROOT. */
void rel_deinit(rel_fixture *f);

/* Starts the server on DATA and waits for /api/health. */
void rel_start(rel_fixture *f);
/* Starts it and returns the cli_server_start code instead of asserting. */
int rel_try_start(rel_fixture *f, char *err, size_t err_len);
/* Stops it with SIG and asserts it died of (SIGKILL) or exited 0 on (other) it. */
void rel_stop(rel_fixture *f, int sig);

/* Creates a project named NAME through REST and sets project and path. */
void rel_create_project(rel_fixture *f, const char *name);

/* GET /api/projects/PROJECT/state. */
void rel_state(rel_fixture *f, uint64_t *seq, uint64_t *hash);

/* The whole file at PATH as a malloc'd NUL-terminated string (*len its
 * size if not NULL); NULL if it cannot be read. */
char *rel_slurp(const char *path, size_t *len);
/* Size of PATH in bytes, 0 if missing. */
long long rel_file_size(const char *path);
/* Writes LEN bytes to PATH (replacing it). */
void rel_write(const char *path, const void *data, size_t len);
/* Number of lines in the text TEXT containing NEEDLE. */
int rel_count_lines(const char *text, const char *needle);

#endif
