/* Device presets over REST (srv_templates.c): saved into the user library
 * with their values checked against the device's table, listed per device
 * kind, values given back exactly. Applying one is the page's edit (tested
 * in the browser). */
#include "tools/client/cli_http.h"
#include "tools/client/cli_server.h"

#include <criterion/criterion.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

static int call(int port, const char *method, const char *path, const char *body, char **resp) {
  int status = 0;
  cr_assert_eq(cli_http(port, method, path, body, &status, resp), 0, "%s %s", method, path);
  return status;
}

Test(presets, saved_checked_listed_per_device_and_exact) {
  char root[512], data[600], err[1024], *resp = NULL;
  cr_assert_eq(cli_tempdir("backline-presets", root, sizeof root), 0);
  snprintf(data, sizeof data, "%s/data", root);
  cli_server *srv;
  cr_assert_eq(cli_server_start(cli_server_bin(BACKLINE_BIN_DEFAULT), data, &srv, err, sizeof err),
               0, "%s", err);
  int port = cli_server_port(srv);

  /* 0.1 * 3 is 0.30000000000000004: it must come back as that, not 0.3. */
  cr_assert_eq(call(port, "POST", "/api/presets",
                    "{\"name\":\"Warm\",\"device\":\"eq\",\"tags\":[\"mine\"],"
                    "\"params\":{\"p1\":0.30000000000000004,\"p04\":-3.5}}",
                    &resp),
               201, "%s", resp);
  cr_assert(strstr(resp, "\"p1\":0.30000000000000004") && strstr(resp, "\"p4\":-3.5") &&
                strstr(resp, "\"device\":\"eq\"") && strstr(resp, "\"mine\""),
            "%s", resp);
  free(resp);
  cr_assert_eq(call(port, "POST", "/api/presets",
                    "{\"name\":\"Fat\",\"device\":\"synth\",\"params\":{\"p0\":1}}", &resp),
               201, "%s", resp);
  free(resp);

  /* Listed per device kind; the library lists them too. */
  cr_assert_eq(call(port, "GET", "/api/presets/eq", NULL, &resp), 200);
  cr_assert(strstr(resp, "Warm") && !strstr(resp, "Fat"), "%s", resp);
  cr_assert(strstr(resp, "\"p1\":0.30000000000000004"), "%s", resp);
  free(resp);
  cr_assert_eq(call(port, "GET", "/api/presets/synth", NULL, &resp), 200);
  cr_assert(strstr(resp, "Fat") && !strstr(resp, "Warm"), "%s", resp);
  free(resp);
  cr_assert_eq(call(port, "GET", "/api/presets/compressor", NULL, &resp), 200);
  cr_assert(strstr(resp, "\"presets\":[]"), "%s", resp);
  free(resp);
  cr_assert_eq(call(port, "GET", "/api/library?kind=preset", NULL, &resp), 200);
  cr_assert(strstr(resp, "Warm") && strstr(resp, "Fat"), "%s", resp);
  free(resp);

  /* Bad input: a sentence, and nothing stored. */
  static const struct {
    const char *body, *reason;
  } bad[] = {
      {"{\"name\":\"X\",\"device\":\"eq\",\"params\":{\"p1\":99}}",
       "must be a number from -24 to 24"},
      {"{\"name\":\"X\",\"device\":\"eq\",\"params\":{\"p12\":1}}", "eq has parameters p0 to p11"},
      {"{\"name\":\"X\",\"device\":\"eq\",\"params\":{\"p 1\":1}}", "eq has parameters p0 to p11"},
      {"{\"name\":\"X\",\"device\":\"eq\",\"params\":{\"p1\":\"loud\"}}", "must be a number"},
      {"{\"name\":\"X\",\"device\":\"eq\",\"params\":{}}", "params must be an object"},
      {"{\"name\":\"X\",\"device\":\"wah\",\"params\":{\"p1\":1}}", "no device kind"},
      {"{\"name\":\"X\",\"params\":{\"p1\":1}}", "expected {"},
      {"{\"name\":\"\",\"device\":\"eq\",\"params\":{\"p1\":1}}", "a name needs 1 to 255 bytes"},
      {"not json", "expected {"},
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    cr_assert_eq(call(port, "POST", "/api/presets", bad[i].body, &resp), 400, "%s: %s", bad[i].body,
                 resp);
    cr_assert(strstr(resp, bad[i].reason), "%s: %s", bad[i].body, resp);
    free(resp);
  }
  cr_assert_eq(call(port, "GET", "/api/library?kind=preset", NULL, &resp), 200);
  cr_assert(!strstr(resp, "\"X\""), "a refused preset was stored: %s", resp);
  free(resp);
  cr_assert_eq(call(port, "GET", "/api/presets/wah", NULL, &resp), 404);
  free(resp);
  cr_assert_eq(call(port, "GET", "/api/presets", NULL, &resp), 405);
  free(resp);
  cr_assert_eq(call(port, "POST", "/api/presets/eq", "{}", &resp), 405);
  free(resp);
  cr_assert_eq(call(port, "GET", "/api/presets/eq/x", NULL, &resp), 404);
  free(resp);

  int status;
  cr_assert_eq(cli_server_stop(srv, SIGTERM, 10000, &status, NULL), 0);
  cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  cli_rmtree(root);
}
