/* REST over many connections, the way browsers and curl use them (HTTP/1.1
 * keep-alive, closed by the client after the response): the front gives
 * every finished connection's slot back. */
#include "tools/client/cli_http.h"
#include "tools/client/cli_server.h"

#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* One request on a fresh keep-alive connection; returns the status. */
static int keepalive_request(int port, const char *method, const char *path, const char *body) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t) port)};
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  cr_assert_eq(connect(fd, (struct sockaddr *) &a, sizeof a), 0);
  char req[1024];
  int n = snprintf(req, sizeof req,
                   "%s %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nContent-Length: %zu\r\n\r\n%s", method,
                   path, port, body ? strlen(body) : 0, body ? body : "");
  cr_assert_eq(write(fd, req, (size_t) n), n);
  char buf[65536];
  size_t got = 0;
  long want = -1;
  for (;;) {
    ssize_t r = read(fd, buf + got, sizeof buf - 1 - got);
    if (r <= 0) break;
    got += (size_t) r;
    buf[got] = 0;
    char *end = strstr(buf, "\r\n\r\n");
    if (!end) continue;
    char *cl = strcasestr(buf, "content-length:");
    if (cl && cl < end) want = (long) (end + 4 - buf) + strtol(cl + 15, NULL, 10);
    if (want >= 0 && (long) got >= want) break;
  }
  close(fd);
  int status = 0;
  sscanf(buf, "HTTP/1.%*d %d", &status);
  return status;
}

Test(rest, thousands_of_keepalive_connections_all_succeed) {
  char root[512], data[600], err[1024], id[80], path[200];
  cr_assert_eq(cli_tempdir("backline-rest", root, sizeof root), 0);
  snprintf(data, sizeof data, "%s/data", root);
  cli_server *srv;
  cr_assert_eq(cli_server_start(cli_server_bin(BACKLINE_BIN_DEFAULT), data, &srv, err, sizeof err),
               0, "%s", err);
  int port = cli_server_port(srv);
  cr_assert_eq(cli_rest_create_project(port, "Many", id), 0);
  snprintf(path, sizeof path, "/api/projects/%s/ops", id);
  /* More connections than the front has slots (1024): edits, reads and
   * static files. */
  for (int i = 0; i < 1500; i++) {
    char body[160];
    snprintf(body, sizeof body,
             "{\"ops\":[{\"op\":\"set\",\"id\":\"project\",\"prop\":\"tempo\",\"value\":%d}]}",
             60 + i % 100);
    int status = i % 3 == 0
                     ? keepalive_request(port, "GET", i % 2 ? "/api/health" : "/index.html", NULL)
                 : i % 3 == 1 ? keepalive_request(port, "POST", path, body)
                              : keepalive_request(port, "GET", "/api/projects", NULL);
    cr_assert_eq(status, 200, "request %d answered %d", i, status);
  }
  int status;
  cr_assert_eq(cli_server_stop(srv, SIGTERM, 5000, &status, NULL), 0);
  cli_rmtree(root);
}

#include "tools/client/cli_client.h"

/* POST with an empty body, as a button in a page sends it. */
static int post_empty(int port, const char *path, char **resp) {
  int status = 0;
  cr_assert_eq(cli_http(port, "POST", path, "", &status, resp), 0, "%s", path);
  return status;
}

Test(rest, duplicate_trash_restore_delete) {
  char root[512], data[600], err[1024], id[80], path[200], hash[17], hash2[17];
  cr_assert_eq(cli_tempdir("backline-life", root, sizeof root), 0);
  snprintf(data, sizeof data, "%s/data", root);
  cli_server *srv;
  cr_assert_eq(cli_server_start(cli_server_bin(BACKLINE_BIN_DEFAULT), data, &srv, err, sizeof err),
               0, "%s", err);
  int port = cli_server_port(srv), status;
  cr_assert_eq(cli_rest_create_project(port, "Song", id), 0);
  uint64_t seq, seq2;
  cr_assert_eq(
      cli_rest_ops(port, id,
                   "{\"ops\":[{\"op\":\"create\",\"type\":\"track\",\"props\":{\"name\":\"Bass\"}},"
                   "{\"op\":\"set\",\"id\":\"project\",\"prop\":\"tempo\",\"value\":101}]}",
                   &status, &seq, NULL),
      0);
  cr_assert_eq(status, 200);

  /* Duplicate: the same content under a new id and a "(copy)" name. */
  char *resp = NULL;
  snprintf(path, sizeof path, "/api/projects/%s/duplicate", id);
  cr_assert_eq(post_empty(port, path, &resp), 201, "%s", resp);
  char copy[80];
  cr_assert_eq(sscanf(resp, "{\"id\":\"%70[a-z0-9]\"}", copy), 1, "%s", resp);
  free(resp);
  snprintf(path, sizeof path, "/api/projects/%s", copy);
  cr_assert_eq(cli_http(port, "GET", path, NULL, &status, &resp), 0);
  cr_assert(strstr(resp, "\"name\":\"Song (copy)\"") && strstr(resp, "\"tempo\":101") &&
                strstr(resp, "\"name\":\"Bass\""),
            "%s", resp);
  free(resp);

  /* Trash: the project leaves the list, its open clients are closed. */
  cli_client *cl;
  cr_assert_eq(cli_client_connect(port, id, "Watcher", &cl, err, sizeof err), 0, "%s", err);
  cr_assert_eq(cli_rest_state(port, id, &seq, hash), 0);
  snprintf(path, sizeof path, "/api/projects/%s/trash", id);
  cr_assert_eq(post_empty(port, path, &resp), 200, "%s", resp);
  free(resp);
  cr_assert_eq(cli_client_wait_closed(cl, 5000), 0, "the client of a trashed project is closed");
  cli_client_close(cl);
  cr_assert_eq(cli_http(port, "GET", "/api/projects", NULL, &status, &resp), 0);
  cr_assert(!strstr(resp, id), "%s", resp);
  free(resp);
  cr_assert_eq(cli_http(port, "GET", "/api/trash", NULL, &status, &resp), 0);
  cr_assert(strstr(resp, id) && strstr(resp, "\"name\":\"Song\""), "%s", resp);
  free(resp);
  snprintf(path, sizeof path, "/api/projects/%s/state", id);
  cr_assert_eq(cli_http(port, "GET", path, NULL, &status, &resp), 0);
  cr_assert_eq(status, 404);
  free(resp);

  /* Restore: back with the same state. Survives a restart, too. */
  snprintf(path, sizeof path, "/api/trash/%s/restore", id);
  cr_assert_eq(post_empty(port, path, &resp), 200, "%s", resp);
  free(resp);
  cr_assert_eq(cli_rest_state(port, id, &seq2, hash2), 0);
  cr_assert(seq2 == seq && strcmp(hash, hash2) == 0);

  /* Delete for good: only from the trash. */
  snprintf(path, sizeof path, "/api/trash/%s", copy);
  cr_assert_eq(cli_http(port, "DELETE", path, NULL, &status, &resp), 0);
  cr_assert_eq(status, 404, "a project must be in the trash before it can be deleted");
  free(resp);
  snprintf(path, sizeof path, "/api/projects/%s/trash", copy);
  cr_assert_eq(post_empty(port, path, &resp), 200);
  free(resp);
  snprintf(path, sizeof path, "/api/trash/%s", copy);
  cr_assert_eq(cli_http(port, "DELETE", path, NULL, &status, &resp), 0);
  cr_assert_eq(status, 200, "%s", resp);
  free(resp);
  cr_assert_eq(cli_http(port, "GET", "/api/trash", NULL, &status, &resp), 0);
  cr_assert(!strstr(resp, copy), "%s", resp);
  free(resp);

  cr_assert_eq(cli_server_stop(srv, SIGTERM, 5000, &status, NULL), 0);
  cr_assert_eq(cli_server_start(cli_server_bin(BACKLINE_BIN_DEFAULT), data, &srv, err, sizeof err),
               0, "%s", err);
  port = cli_server_port(srv);
  cr_assert_eq(cli_rest_state(port, id, &seq2, hash2), 0);
  cr_assert(seq2 == seq && strcmp(hash, hash2) == 0, "restored project survives a restart");
  cr_assert_eq(cli_server_stop(srv, SIGTERM, 5000, &status, NULL), 0);
  cli_rmtree(root);
}
