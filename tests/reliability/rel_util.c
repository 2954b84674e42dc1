/* rel_util: fixture and file helpers for the reliability tests. */
#include "tests/reliability/rel_util.h"
#include "tools/client/cli_http.h"

#include <criterion/criterion.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>

void rel_init(rel_fixture *f, const char *prefix) {
  memset(f, 0, sizeof *f);
  cr_assert_eq(cli_tempdir(prefix, f->root, sizeof f->root), 0);
  snprintf(f->data, sizeof f->data, "%s/data", f->root);
}

void rel_deinit(rel_fixture *f) {
  if (f->srv) cli_server_stop(f->srv, SIGKILL, 5000, NULL, NULL);
  f->srv = NULL;
  if (f->root[0] && !getenv("BACKLINE_KEEP_TMP")) cli_rmtree(f->root);
}

int rel_try_start(rel_fixture *f, char *err, size_t err_len) {
  int rc = cli_server_start(cli_server_bin(BACKLINE_BIN_DEFAULT), f->data, &f->srv, err, err_len);
  f->port = rc ? 0 : cli_server_port(f->srv);
  return rc;
}

void rel_start(rel_fixture *f) {
  char err[1024];
  int rc = rel_try_start(f, err, sizeof err);
  cr_assert_eq(rc, 0, "server start: %s (%s)", err, cli_strerror(rc));
}

void rel_stop(rel_fixture *f, int sig) {
  int status = 0;
  cli_server_stop(f->srv, sig, 5000, &status, NULL);
  f->srv = NULL;
  if (sig == SIGKILL)
    cr_assert(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL, "server status %#x", status);
  else
    cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0, "server status %#x", status);
}

void rel_create_project(rel_fixture *f, const char *name) {
  int rc = cli_rest_create_project(f->port, name, f->project);
  cr_assert_eq(rc, 0, "create project: %s", cli_strerror(rc));
  snprintf(f->path, sizeof f->path, "%s/projects/%s.backline", f->data, f->project);
}

void rel_state(rel_fixture *f, uint64_t *seq, uint64_t *hash) {
  char hex[17];
  int rc = cli_rest_state(f->port, f->project, seq, hex);
  cr_assert_eq(rc, 0, "GET state: %s", cli_strerror(rc));
  *hash = strtoull(hex, NULL, 16);
}

char *rel_slurp(const char *path, size_t *len) {
  FILE *in = fopen(path, "rb");
  if (!in) return NULL;
  size_t cap = 4096, n = 0, got;
  char *buf = malloc(cap + 1);
  while (buf && (got = fread(buf + n, 1, cap - n, in)) > 0) {
    n += got;
    if (n == cap) {
      char *more = realloc(buf, cap * 2 + 1);
      if (!more) free(buf);
      buf = more, cap *= 2;
    }
  }
  fclose(in);
  if (!buf) return NULL;
  buf[n] = 0;
  if (len) *len = n;
  return buf;
}

long long rel_file_size(const char *path) {
  struct stat st;
  return stat(path, &st) == 0 ? (long long) st.st_size : 0;
}

void rel_write(const char *path, const void *data, size_t len) {
  FILE *out = fopen(path, "wb");
  cr_assert(out, "cannot write %s", path);
  cr_assert_eq(fwrite(data, 1, len, out), len);
  cr_assert_eq(fclose(out), 0);
}

int rel_count_lines(const char *text, const char *needle) {
  int n = 0;
  for (const char *line = text; line && *line;) {
    const char *end = strchr(line, '\n');
    size_t len = end ? (size_t) (end - line) : strlen(line);
    const char *hit = strstr(line, needle);
    if (hit && hit + strlen(needle) <= line + len) n++;
    line = end ? end + 1 : NULL;
  }
  return n;
}
