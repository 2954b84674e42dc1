/* Values in motion (LIVE) over the wire: a device parameter being dragged is
 * heard at once without a new engine plan (it goes to the engine's parameter
 * slot), while a track's gain in motion still recompiles. The real server, a
 * C client, its meters and /metrics. */
#include "protocol/proto_msg.h"
#include "shared/mdl_device.h"
#include "tools/client/cli_client.h"
#include "tools/client/cli_http.h"
#include "tools/client/cli_server.h"

#include <criterion/criterion.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static struct {
  char root[512], data[600];
  cli_server *srv;
  int port;
  char project[PROTO_PROJECT_ID_MAX + 1];
  cli_client *c;
} fx;

static _Atomic uint64_t track_id;
static _Atomic uint32_t last_peak; /* the track's latest meter peak, as float bits */
static _Atomic int engines;        /* ENGINE messages received */
static _Atomic int dsp_permille;   /* the last one's DSP load */

static void on_message(void *ud, cli_client *c, const void *data, size_t len, uint64_t t_ns) {
  (void) ud, (void) c, (void) t_ns;
  static proto_scratch s; /* the client's service thread only */
  proto_msg m;
  if (((const uint8_t *) data)[0] == PROTO_ENGINE && !proto_decode(data, len, &s, &m, NULL)) {
    atomic_store(&dsp_permille, m.u.engine.dsp_permille);
    atomic_fetch_add(&engines, 1);
    return;
  }
  if (((const uint8_t *) data)[0] != PROTO_METERS || proto_decode(data, len, &s, &m, NULL)) return;
  for (int i = 0; i < m.u.meters.n; i++)
    if (m.u.meters.m[i].track_id == atomic_load(&track_id)) {
      uint32_t bits;
      memcpy(&bits, &m.u.meters.m[i].peak, sizeof bits);
      atomic_store(&last_peak, bits);
    }
}

static float peak(void) {
  uint32_t bits = atomic_load(&last_peak);
  float f;
  memcpy(&f, &bits, sizeof f);
  return f;
}

static void setup(void) {
  memset(&fx, 0, sizeof fx);
  cr_assert_eq(cli_tempdir("backline-live", fx.root, sizeof fx.root), 0);
  snprintf(fx.data, sizeof fx.data, "%s/data", fx.root);
  char err[1024];
  cr_assert_eq(
      cli_server_start(cli_server_bin(BACKLINE_BIN_DEFAULT), fx.data, &fx.srv, err, sizeof err), 0,
      "%s", err);
  fx.port = cli_server_port(fx.srv);
  cr_assert_eq(cli_rest_create_project(fx.port, "Live", fx.project), 0);
}

static void teardown(void) {
  cli_client_close(fx.c);
  cli_server_stop(fx.srv, SIGTERM, 5000, NULL, NULL);
  cli_rmtree(fx.root);
}
TestSuite(live, .init = setup, .fini = teardown);

static void sleep_ms(int ms) {
  struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
  nanosleep(&ts, NULL);
}

static void send(const proto_msg *m) {
  uint8_t buf[64];
  int n = proto_encode(m, buf, sizeof buf);
  cr_assert_gt(n, 0);
  cr_assert_eq(cli_client_send_raw(fx.c, buf, (size_t) n), 0);
}

/* A /metrics counter. */
static unsigned long long metric(const char *name) {
  int status;
  char *body = NULL;
  cr_assert_eq(cli_http(fx.port, "GET", "/metrics", NULL, &status, &body), 0);
  cr_assert_eq(status, 200);
  char key[96];
  snprintf(key, sizeof key, "\n%s ", name);
  const char *at = strstr(body, key);
  cr_assert(at, "no %s in /metrics", name);
  unsigned long long v = strtoull(at + strlen(key), NULL, 10);
  free(body);
  return v;
}

static void live(mdl_id id, int prop, double v) {
  proto_msg m = {.type = PROTO_LIVE};
  m.u.live = (proto_live){0, id, (uint8_t) prop, {.kind = MDL_VAL_REAL, .u.r = v}};
  send(&m);
}

/* Waits (up to 3 s) for the track's meter to cross LEVEL upward or
 * downward; true when it did. */
static bool meter_goes(bool up, float level) {
  for (int i = 0; i < 60; i++) {
    if (up ? peak() > level : peak() < level) return true;
    sleep_ms(50);
  }
  return false;
}

Test(live, a_device_parameter_in_motion_is_heard_without_a_new_plan) {
  /* A track with a gain effect: its source is the test tone. */
  char json[600];
  snprintf(json, sizeof json,
           "{\"ops\":[{\"op\":\"create\",\"type\":\"track\",\"props\":{\"name\":\"Tone\"}},"
           "{\"op\":\"create\",\"type\":\"device\",\"parent\":\"$0\",\"props\":{\"kind\":%d}},"
           "{\"op\":\"set\",\"id\":\"project\",\"prop\":\"metronome\",\"value\":false}]}",
           MDL_DEV_GAIN);
  int status;
  char *resp = NULL;
  cr_assert_eq(cli_rest_ops(fx.port, fx.project, json, &status, NULL, &resp), 0);
  cr_assert_eq(status, 200, "%s", resp);
  unsigned long long ids[2] = {0};
  const char *at = strstr(resp, "\"ids\"");
  for (int i = 0; at && i < 2; i++) {
    at = strchr(at + 1, '"');
    at = at ? strchr(at + 1, '"') : NULL;
    if (at) ids[i] = strtoull(at + 1, NULL, 16);
  }
  free(resp);
  cr_assert(ids[0] && ids[1], "the ids of the track and the device");
  atomic_store(&track_id, ids[0]);

  cli_config cc = cli_config_default();
  cc.port = fx.port;
  cc.project = fx.project;
  cc.user = "dragger";
  cc.events.on_message = on_message;
  char err[600];
  cr_assert_eq(cli_client_connect_cfg(&cc, &fx.c, err, sizeof err), 0, "%s", err);
  proto_msg play = {.type = PROTO_TRANSPORT};
  play.u.transport.command = 1;
  send(&play);
  cr_assert(meter_goes(true, 0.05f), "the tone plays (peak %g)", (double) peak());

  unsigned long long plans = metric("backline_engine_plans_total");
  unsigned long long lives = metric("backline_live_params_total");
  for (int i = 1; i <= 20; i++) /* a drag down to silence */
    live(ids[1], MDL_PROP_PARAM0, 1.0 - i / 20.0);
  cr_assert(meter_goes(false, 1e-4f), "dragged to 0, the track is silent (peak %g)",
            (double) peak());
  cr_assert_eq(metric("backline_live_params_total"), lives + 20, "every value went straight");
  cr_assert_eq(metric("backline_engine_plans_total"), plans, "no plan was compiled for them");
  live(ids[1], MDL_PROP_PARAM0, 1.0);
  cr_assert(meter_goes(true, 0.05f), "dragged back up, it sounds (peak %g)", (double) peak());
  /* A value out of the parameter's range is refused, and nothing moves. */
  live(ids[1], MDL_PROP_PARAM0, 9.0);
  cr_assert_eq(cli_client_wait_rejects(fx.c, 1, 5000), 0);
  cli_reject r;
  cr_assert(cli_client_last_reject(fx.c, &r));
  cr_assert(strstr(r.reason, "4"), "the reason gives the range: %s", r.reason);
  cr_assert_eq(metric("backline_live_params_total"), lives + 21);
  /* A track's gain in motion takes a new plan (the fader glides to it). */
  live(ids[0], MDL_PROP_GAIN, 0.0);
  cr_assert(meter_goes(false, 1e-4f), "the track's gain at 0 silences it");
  cr_assert_eq(metric("backline_engine_plans_total"), plans + 1);
}

static void note(mdl_id track, int key, int velocity) {
  proto_msg m = {.type = PROTO_NOTE};
  m.u.note = (proto_note){track, (uint8_t) key, (uint8_t) velocity};
  send(&m);
}

Test(live, a_note_played_by_hand_sounds_at_once_while_stopped) {
  /* A synth track without notes, and an audio track (no instrument). */
  char json[600];
  snprintf(json, sizeof json,
           "{\"ops\":[{\"op\":\"create\",\"type\":\"track\",\"props\":{\"name\":\"Keys\"}},"
           "{\"op\":\"create\",\"type\":\"device\",\"parent\":\"$0\",\"props\":{\"kind\":%d}},"
           "{\"op\":\"create\",\"type\":\"track\",\"props\":{\"name\":\"Audio\",\"kind\":%d}},"
           "{\"op\":\"set\",\"id\":\"project\",\"prop\":\"metronome\",\"value\":false}]}",
           MDL_DEV_SYNTH, MDL_TRACK_AUDIO);
  int status;
  char *resp = NULL;
  cr_assert_eq(cli_rest_ops(fx.port, fx.project, json, &status, NULL, &resp), 0);
  cr_assert_eq(status, 200, "%s", resp);
  unsigned long long ids[3] = {0};
  const char *at = strstr(resp, "\"ids\"");
  for (int i = 0; at && i < 3; i++) {
    at = strchr(at + 1, '"');
    at = at ? strchr(at + 1, '"') : NULL;
    if (at) ids[i] = strtoull(at + 1, NULL, 16);
  }
  free(resp);
  cr_assert(ids[0] && ids[2], "the ids of the tracks");
  atomic_store(&track_id, ids[0]);
  cli_config cc = cli_config_default();
  cc.port = fx.port;
  cc.project = fx.project;
  cc.user = "pianist";
  cc.events.on_message = on_message;
  char err[600];
  cr_assert_eq(cli_client_connect_cfg(&cc, &fx.c, err, sizeof err), 0, "%s", err);
  /* The engine holds the studio's first project, stopped: a note played
   * here makes this one the engine's, with the track live (one plan). */
  cli_reject r;
  unsigned long long plans = metric("backline_engine_plans_total");
  note(ids[0], 60, 100);
  cr_assert(meter_goes(true, 0.01f), "the note sounds while stopped (peak %g)", (double) peak());
  note(ids[0], 64, 100);
  note(ids[0], 67, 100);
  note(ids[0], 60, 0);
  note(ids[0], 64, 0);
  note(ids[0], 67, 0);
  cr_assert(meter_goes(false, 1e-4f), "released, it dies away (peak %g)", (double) peak());
  cr_assert_eq(metric("backline_engine_plans_total"), plans + 1,
               "one plan made the track live; the notes took none");
  /* A track without an instrument: refused, with a reason. */
  note(ids[2], 60, 100);
  cr_assert_eq(cli_client_wait_rejects(fx.c, 1, 5000), 0);
  cr_assert(cli_client_last_reject(fx.c, &r));
  cr_assert(strstr(r.reason, "no instrument"), "%s", r.reason);
  /* A note left held when the page goes is released. */
  note(ids[0], 72, 100);
  cr_assert(meter_goes(true, 0.01f), "held");
  cli_client_close(fx.c);
  fx.c = NULL;
  cli_client *watch;
  cc.user = "watcher";
  cr_assert_eq(cli_client_connect_cfg(&cc, &watch, err, sizeof err), 0, "%s", err);
  fx.c = watch;
  cr_assert(meter_goes(false, 1e-4f), "the note of a page that left is released");
}

/* The studio's demo song, played: its tracks (no live input) are rendered
 * ahead by the anticipative cohort's worker and taken ready-made by the
 * audio thread; stopped and silent, the engine idles. */
Test(live, the_cohort_renders_the_demo_ahead_and_a_silent_stop_idles) {
  int status;
  char *body = NULL;
  cr_assert_eq(cli_http(fx.port, "GET", "/api/projects", NULL, &status, &body), 0);
  const char *at = strstr(body, "\"First session\"");
  cr_assert(at, "the demo song is in the list: %s", body);
  /* {"id":"...","name":"First session",...}: the id before the name. */
  const char *id = at;
  while (id > body && strncmp(id, "\"id\":\"", 6) != 0)
    id--;
  char demo[PROTO_PROJECT_ID_MAX + 1] = "";
  sscanf(id + 6, "%64[^\"]", demo);
  free(body);
  cr_assert(demo[0]);
  char path[160];
  snprintf(path, sizeof path, "/api/projects/%s/transport", demo);
  cli_config cc = cli_config_default();
  cc.port = fx.port;
  cc.project = fx.project;
  cc.user = "engineer";
  cc.events.on_message = on_message;
  char err[600];
  cr_assert_eq(cli_client_connect_cfg(&cc, &fx.c, err, sizeof err), 0, "%s", err);
  unsigned long long ahead0 = metric("backline_engine_ahead_blocks_total");
  cr_assert_eq(cli_http(fx.port, "POST", path, "{\"command\":\"play\"}", &status, NULL), 0);
  cr_assert_eq(status, 200);
  sleep_ms(2000);
  unsigned long long ahead = metric("backline_engine_ahead_blocks_total") - ahead0;
  fprintf(
      stderr,
      "[note] 2 s of the demo: %llu track blocks from the cohort, %llu misses, %llu gap frames\n",
      ahead, metric("backline_engine_cohort_misses_total"),
      metric("backline_engine_cohort_gap_frames_total"));
  cr_assert_gt(ahead, 100, "the cohort rendered ahead: %llu blocks", ahead);
  /* Every client hears how the engine does, twice a second. */
  int n = atomic_load(&engines), load = atomic_load(&dsp_permille);
  cr_assert_geq(n, 2, "ENGINE messages in 2 s: %d", n);
  cr_assert(load > 0 && load < 1000, "the DSP load of the demo on the null device: %d per mille",
            load);
  fprintf(stderr, "[note] DSP load playing the demo: %d per mille\n", load);
  cr_assert_eq(cli_http(fx.port, "POST", path, "{\"command\":\"stop\"}", &status, NULL), 0);
  unsigned long long idle0 = metric("backline_engine_idle_blocks_total");
  for (int i = 0; i < 100 && metric("backline_engine_idle_blocks_total") == idle0; i++)
    sleep_ms(100);
  cr_assert_gt(metric("backline_engine_idle_blocks_total"), idle0,
               "stopped, the reverb's tail died away and the engine idles");
}
