/* Export over REST (POST /api/projects/ID/render): the real server renders
 * a project offline on its render worker and answers with the WAV, the
 * same bytes `backline render` writes for the same state. */
#include "shared/mdl_device.h"
#include "tools/client/cli_http.h"
#include "tools/client/cli_server.h"

#include <criterion/criterion.h>
#include <math.h>
#include <signal.h>
#include <sndfile.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

static void write_file(const char *path, const void *data, size_t len) {
  FILE *f = fopen(path, "wb");
  cr_assert_not_null(f, "%s", path);
  cr_assert_eq(fwrite(data, 1, len, f), len);
  fclose(f);
}

/* Frames, rate, channels, bit depth and peak of the WAV at PATH. */
static double wav_peak(const char *path, sf_count_t *frames, int *rate, int *channels,
                       int *format) {
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
  *format = info.format;
  sf_close(f);
  return peak;
}

/* The number after "KEY": in JSON, or NAN. */
static double json_num(const char *json, const char *key) {
  char pat[80];
  snprintf(pat, sizeof pat, "\"%s\":", key);
  const char *p = json ? strstr(json, pat) : NULL;
  return p ? strtod(p + strlen(pat), NULL) : NAN;
}

static int post(int port, const char *path, const char *body, char **resp, size_t *len) {
  int status = 0;
  cr_assert_eq(
      cli_http_ex(port, "POST", path, body, body ? strlen(body) : 0, 30000, &status, resp, len), 0,
      "POST %s", path);
  return status;
}

Test(render, export_answers_the_wav_the_cli_would_write) {
  char root[512], data[600], err[1024], id[80], path[200], wav[700], cli_wav[700], cmd[4096];
  cr_assert_eq(cli_tempdir("backline-render", root, sizeof root), 0);
  snprintf(data, sizeof data, "%s/data", root);
  cli_server *srv;
  cr_assert_eq(cli_server_start(cli_server_bin(BACKLINE_BIN_DEFAULT), data, &srv, err, sizeof err),
               0, "%s", err);
  int port = cli_server_port(srv);
  cr_assert_eq(cli_rest_create_project(port, "Export me", id), 0);

  /* A synth track with one arrangement clip from beat 4 to beat 8 at 120
   * BPM: the song ends at 4 s, so the default export is 4 s + 2 s of tail. */
  char json[1400];
  snprintf(json, sizeof json,
           "{\"ops\":[{\"op\":\"create\",\"type\":\"track\",\"props\":{\"name\":\"Keys\"}},"
           "{\"op\":\"create\",\"type\":\"device\",\"parent\":\"$0\",\"props\":{\"kind\":%d}},"
           "{\"op\":\"create\",\"type\":\"clip\",\"parent\":\"$0\",\"props\":{\"start\":3840,"
           "\"length\":3840}},"
           "{\"op\":\"create\",\"type\":\"note\",\"parent\":\"$2\",\"props\":{\"start\":0,"
           "\"length\":1900}},"
           "{\"op\":\"create\",\"type\":\"note\",\"parent\":\"$2\",\"props\":{\"start\":1920,"
           "\"length\":1900}},"
           "{\"op\":\"set\",\"id\":\"project\",\"prop\":\"tempo\",\"value\":120},"
           "{\"op\":\"set\",\"id\":\"project\",\"prop\":\"metronome\",\"value\":false}]}",
           MDL_DEV_SYNTH);
  int status;
  char *resp = NULL;
  size_t len = 0;
  cr_assert_eq(cli_rest_ops(port, id, json, &status, NULL, &resp), 0);
  cr_assert_eq(status, 200, "%s", resp);
  free(resp);

  snprintf(path, sizeof path, "/api/projects/%s/render", id);
  cr_assert_eq(post(port, path, NULL, &resp, &len), 200, "%.300s", resp);
  snprintf(wav, sizeof wav, "%s/default.wav", root);
  write_file(wav, resp, len);
  free(resp);
  sf_count_t frames;
  int rate, channels, format;
  double peak = wav_peak(wav, &frames, &rate, &channels, &format);
  cr_assert_eq(frames, 6 * 48000, "the song's end plus the tail");
  cr_assert_eq(rate, 48000);
  cr_assert_eq(channels, 2);
  cr_assert_eq(format, SF_FORMAT_WAV | SF_FORMAT_PCM_24);
  cr_assert_gt(peak, 0.01, "the export is silent");

  /* An explicit length; the server renders while it goes on taking edits. */
  cr_assert_eq(post(port, path, "{\"seconds\":2.5,\"token\":\"short-1\"}", &resp, &len), 200,
               "%.300s", resp);
  snprintf(wav, sizeof wav, "%s/short.wav", root);
  write_file(wav, resp, len);
  free(resp);
  wav_peak(wav, &frames, &rate, &channels, &format);
  cr_assert_eq(frames, 120000);

  /* Its report: length and loudness, under the client's token. */
  char report_path[300], *report = NULL;
  snprintf(report_path, sizeof report_path, "%s/short-1", path);
  int status_r;
  cr_assert_eq(cli_http(port, "GET", report_path, NULL, &status_r, &report), 0);
  cr_assert_eq(status_r, 200, "%s", report);
  cr_assert(strstr(report, "\"frames\":120000") && strstr(report, "\"rate\":48000") &&
                strstr(report, "\"channels\":2") && strstr(report, "\"bits\":24"),
            "%s", report);
  snprintf(report_path, sizeof report_path, "%s/nosuch", path);
  cr_assert_eq(cli_http(port, "GET", report_path, NULL, &status_r, &resp), 0);
  cr_assert_eq(status_r, 404, "%s", resp);
  cr_assert(strstr(resp, "no finished export"), "%s", resp);
  free(resp);
  cr_assert_eq(post(port, path, "{\"token\":\"a b\"}", &resp, &len), 400);
  free(resp);

  /* Bad requests say why; an unknown project is 404. */
  cr_assert_eq(post(port, path, "{\"seconds\":0}", &resp, &len), 400);
  cr_assert(strstr(resp, "seconds must be more than 0"), "%s", resp);
  free(resp);
  cr_assert_eq(post(port, path, "{\"seconds\":\"long\"}", &resp, &len), 400);
  cr_assert(strstr(resp, "(optional, 0 < S <= 600)"), "%s", resp);
  free(resp);
  cr_assert_eq(post(port, path, "[1,2", &resp, &len), 400);
  free(resp);
  cr_assert_eq(post(port, "/api/projects/nosuch/render", NULL, &resp, &len), 404);
  cr_assert(strstr(resp, "nosuch") && strstr(resp, "in this studio"), "%s", resp);
  free(resp);
  cr_assert_eq(cli_http(port, "GET", path, NULL, &status, &resp), 0);
  cr_assert_eq(status, 405, "%s", resp);
  free(resp);

  /* A render that cannot write its file is 507 with the reason; the next
   * one works again. (A file where DATA/renders should be: even root
   * cannot write below it.) */
  snprintf(cmd, sizeof cmd, "rm -rf '%s/renders' && touch '%s/renders'", data, data);
  cr_assert_eq(system(cmd), 0);
  cr_assert_eq(post(port, path, "{\"seconds\":1}", &resp, &len), 507, "%.300s", resp);
  cr_assert(strstr(resp, "the project could not be rendered"), "%s", resp);
  free(resp);
  snprintf(cmd, sizeof cmd, "rm '%s/renders' && mkdir '%s/renders'", data, data);
  cr_assert_eq(system(cmd), 0);
  cr_assert_eq(post(port, path, "{\"seconds\":1}", &resp, &len), 200, "%.300s", resp);
  free(resp);

  /* The CLI renders the stored project to the same bytes. */
  cr_assert_eq(cli_server_stop(srv, SIGTERM, 10000, &status, NULL), 0);
  cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  snprintf(cli_wav, sizeof cli_wav, "%s/cli.wav", root);
  snprintf(cmd, sizeof cmd, "'%s' render --data '%s' %s '%s' --seconds 2.5 2>&1",
           cli_server_bin(BACKLINE_BIN_DEFAULT), data, id, cli_wav);
  FILE *pipe = popen(cmd, "r");
  cr_assert_not_null(pipe);
  char printed[4096];
  size_t got = fread(printed, 1, sizeof printed - 1, pipe);
  printed[got] = 0;
  cr_assert_eq(pclose(pipe), 0, "%s", printed);
  /* The report says what the CLI prints. */
  double lufs, tp, r_lufs = json_num(report, "loudness_lufs"),
                   r_tp = json_num(report, "true_peak_dbtp");
  const char *line = strstr(printed, "loudness: ");
  cr_assert(line &&
                sscanf(line, "loudness: %lf LUFS integrated, true peak %lf dBTP", &lufs, &tp) == 2,
            "%s", printed);
  cr_assert(fabs(r_lufs - lufs) < 0.051 && fabs(r_tp - tp) < 0.051, "report %s, CLI %s", report,
            line);
  free(report);
  snprintf(cmd, sizeof cmd, "cmp -s '%s' '%s'", wav, cli_wav);
  cr_assert_eq(system(cmd), 0, "the export and the CLI's render differ");
  snprintf(cmd, sizeof cmd, "test -d '%s/renders' && test -z \"$(ls -A '%s/renders')\"", data,
           data);
  cr_assert_eq(system(cmd), 0, "the worker left scratch files in DATA/renders");
  cli_rmtree(root);
}
