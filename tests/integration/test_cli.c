/* The command line users and scripts rely on: option checking and
 * `backline render` of a project the real server stored. */
#include "tools/client/cli_http.h"
#include "tools/client/cli_server.h"

#include <criterion/criterion.h>
#include <signal.h>
#include <sndfile.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

/* Runs BIN with ARGS through the shell; returns its exit status and its
 * stdout+stderr in out. */
static int run(const char *args, char *out, size_t cap) {
  char cmd[8192];
  snprintf(cmd, sizeof cmd, "'%s' %s 2>&1", cli_server_bin(BACKLINE_BIN_DEFAULT), args);
  FILE *p = popen(cmd, "r");
  cr_assert_not_null(p);
  size_t n = fread(out, 1, cap - 1, p);
  out[n] = 0;
  int status = pclose(p);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

Test(cli, bad_options_are_refused_with_a_message) {
  char out[4096];
  cr_assert_eq(run("--bogus", out, sizeof out), 2);
  cr_assert(strstr(out, "unknown option \"--bogus\""), "%s", out);
  cr_assert_eq(run("--port 99999", out, sizeof out), 2);
  cr_assert(strstr(out, "--port needs a port number from 0 to 65535"), "%s", out);
  cr_assert_eq(run("--data", out, sizeof out), 2);
  cr_assert(strstr(out, "--data needs a value"), "%s", out);
  cr_assert_eq(run("--cert /tmp/x.pem", out, sizeof out), 2);
  cr_assert_eq(run("--help", out, sizeof out), 0);
}

static double peak_of(const char *path, sf_count_t *frames, int *rate, int *channels) {
  SF_INFO info = {0};
  SNDFILE *f = sf_open(path, SFM_READ, &info);
  cr_assert_not_null(f, "%s: %s", path, sf_strerror(NULL));
  float buf[4096];
  double peak = 0;
  sf_count_t n;
  while ((n = sf_read_float(f, buf, 4096)) > 0)
    for (sf_count_t i = 0; i < n; i++)
      if (buf[i] > peak) peak = buf[i];
  *frames = info.frames, *rate = info.samplerate, *channels = info.channels;
  sf_close(f);
  return peak;
}

static bool same_file(const char *a, const char *b) {
  char cmd[2048];
  snprintf(cmd, sizeof cmd, "cmp -s '%s' '%s'", a, b);
  return system(cmd) == 0;
}

Test(cli, render_plays_a_stored_project_offline_and_deterministically) {
  char root[512], data[600], out[4096], args[4096], wav1[700], wav2[700], id[80];
  cr_assert_eq(cli_tempdir("backline-cli", root, sizeof root), 0);
  snprintf(data, sizeof data, "%s/data", root);
  cli_server *srv;
  char err[1024];
  cr_assert_eq(cli_server_start(cli_server_bin(BACKLINE_BIN_DEFAULT), data, &srv, err, sizeof err),
               0, "%s", err);
  int port = cli_server_port(srv);
  cr_assert_eq(cli_rest_create_project(port, "Render me", id), 0);
  int status;
  char *resp = NULL;
  char path[200];
  snprintf(path, sizeof path, "/api/projects/%s/ops", id);
  cr_assert_eq(
      cli_http(port, "POST", path,
               "{\"ops\":[{\"op\":\"create\",\"type\":\"track\",\"props\":{\"name\":\"A\",\"gain\":"
               "0.5}},"
               "{\"op\":\"create\",\"type\":\"track\",\"props\":{\"name\":\"B\",\"pan\":-1}},"
               "{\"op\":\"set\",\"id\":\"project\",\"prop\":\"tempo\",\"value\":90}]}",
               &status, &resp),
      0);
  cr_assert_eq(status, 200, "%s", resp ? resp : "");
  free(resp);
  cr_assert_eq(cli_server_stop(srv, SIGTERM, 5000, &status, NULL), 0);

  snprintf(wav1, sizeof wav1, "%s/one.wav", root);
  snprintf(wav2, sizeof wav2, "%s/two.wav", root);
  snprintf(args, sizeof args, "render --data '%s' %s '%s' --seconds 2", data, id, wav1);
  cr_assert_eq(run(args, out, sizeof out), 0, "%s", out);
  cr_assert(strstr(out, "\"Render me\" (2 tracks, 90.0 BPM"), "%s", out);
  /* The same project named by its file this time. */
  snprintf(args, sizeof args, "render '%s/projects/%s.backline' '%s' --seconds 2", data, id, wav2);
  cr_assert_eq(run(args, out, sizeof out), 0, "%s", out);
  sf_count_t frames;
  int rate, channels;
  double peak = peak_of(wav1, &frames, &rate, &channels);
  cr_assert_eq(frames, 96000);
  cr_assert_eq(rate, 48000);
  cr_assert_eq(channels, 2);
  cr_assert_gt(peak, 0.01, "the render is silent");
  cr_assert(same_file(wav1, wav2), "two renders of one project differ");

  snprintf(args, sizeof args, "render --data '%s' nosuch '%s' --seconds 2", data, wav1);
  cr_assert_eq(run(args, out, sizeof out), 1);
  cr_assert(strstr(out, "no such project file"), "%s", out);
  snprintf(args, sizeof args, "render '%s' '%s' --seconds 2", wav2, wav1);
  cr_assert_eq(run(args, out, sizeof out), 1);
  cr_assert(strstr(out, "is not a Backline project"), "%s", out);
  snprintf(args, sizeof args, "render --data '%s' %s '%s' --seconds -3", data, id, wav1);
  cr_assert_eq(run(args, out, sizeof out), 2);
  cli_rmtree(root);
}
