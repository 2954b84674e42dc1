/* it_wire.h: what the wire-level integration tests (session, scenes, live
 * values and notes) share: the real server in a temporary data folder with
 * one project, a C client whose messages go to the test's callback, raw
 * messages, and REST transactions that report the ids the server gave.
 * Header-only (static functions): each test file has its own fixture. */
#ifndef IT_WIRE_H
#define IT_WIRE_H

#include "protocol/proto_msg.h"
#include "tools/client/cli_client.h"
#include "tools/client/cli_http.h"
#include "tools/client/cli_server.h"

#include <criterion/criterion.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef void (*it_on_message)(void *ud, cli_client *c, const void *data, size_t len, uint64_t t_ns);

typedef struct it_wire {
  char root[512], data[600];
  cli_server *srv;
  int port;
  char project[PROTO_PROJECT_ID_MAX + 1];
  cli_client *c; /* it_connect's client, closed by it_stop */
} it_wire;

/* Starts a server in a new temporary folder (named after TAG) and creates
 * the project NAME in it. */
static void it_start(it_wire *w, const char *tag, const char *name) {
  memset(w, 0, sizeof *w);
  cr_assert_eq(cli_tempdir(tag, w->root, sizeof w->root), 0);
  snprintf(w->data, sizeof w->data, "%s/data", w->root);
  char err[1024];
  cr_assert_eq(
      cli_server_start(cli_server_bin(BACKLINE_BIN_DEFAULT), w->data, &w->srv, err, sizeof err), 0,
      "%s", err);
  w->port = cli_server_port(w->srv);
  cr_assert_eq(cli_rest_create_project(w->port, name, w->project), 0);
}

static void it_stop(it_wire *w) {
  cli_client_close(w->c);
  cli_server_stop(w->srv, SIGTERM, 5000, NULL, NULL);
  cli_rmtree(w->root);
}

static void it_sleep_ms(int ms) {
  struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
  nanosleep(&ts, NULL);
}

/* Connects w->c to the project as USER; every message goes to ON_MESSAGE. */
static void it_connect(it_wire *w, const char *user, it_on_message on_message) {
  cli_config cc = cli_config_default();
  cc.port = w->port;
  cc.project = w->project;
  cc.user = user;
  cc.events.on_message = on_message;
  char err[600];
  cr_assert_eq(cli_client_connect_cfg(&cc, &w->c, err, sizeof err), 0, "%s", err);
}

/* Sends M raw from w->c. */
static void it_send(it_wire *w, const proto_msg *m) {
  uint8_t buf[64];
  int n = proto_encode(m, buf, sizeof buf);
  cr_assert_gt(n, 0);
  cr_assert_eq(cli_client_send_raw(w->c, buf, (size_t) n), 0);
}

/* Applies the JSON transaction (POST /api/projects/ID/ops, which must
 * succeed) and fills IDS[0..N) with the ids of its ops' objects, in order
 * ("$0", "$1", ...). */
static void it_ops(it_wire *w, const char *json, unsigned long long *ids, int n) {
  int status;
  char *resp = NULL;
  cr_assert_eq(cli_rest_ops(w->port, w->project, json, &status, NULL, &resp), 0);
  cr_assert_eq(status, 200, "%s", resp);
  memset(ids, 0, (size_t) n * sizeof *ids);
  const char *at = strstr(resp, "\"ids\"");
  for (int i = 0; at && i < n; i++) {
    at = strchr(at + 1, '"');
    at = at ? strchr(at + 1, '"') : NULL;
    if (at) ids[i] = strtoull(at + 1, NULL, 16);
  }
  free(resp);
}

#endif
