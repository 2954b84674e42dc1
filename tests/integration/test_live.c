/* Values in motion (LIVE) over the wire: a device parameter being dragged is
 * heard at once without a new engine plan (it goes to the engine's parameter
 * slot), while a track's gain in motion still recompiles. The real server, a
 * C client, its meters and /metrics. */
#include "protocol/proto_msg.h"
#include "shared/mdl_device.h"
#include "tests/integration/it_wire.h"

#include <criterion/criterion.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static it_wire fx;

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
  it_start(&fx, "backline-live", "Live");
}

static void teardown(void) {
  it_stop(&fx);
}
TestSuite(live, .init = setup, .fini = teardown);

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
  it_send(&fx, &m);
}

/* Waits (up to 3 s) for the track's meter to cross LEVEL upward or
 * downward; true when it did. */
static bool meter_goes(bool up, float level) {
  for (int i = 0; i < 60; i++) {
    if (up ? peak() > level : peak() < level) return true;
    it_sleep_ms(50);
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
  unsigned long long ids[2];
  it_ops(&fx, json, ids, 2);
  cr_assert(ids[0] && ids[1], "the ids of the track and the device");
  atomic_store(&track_id, ids[0]);

  it_connect(&fx, "dragger", on_message);
  proto_msg play = {.type = PROTO_TRANSPORT};
  play.u.transport.command = 1;
  it_send(&fx, &play);
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
  it_send(&fx, &m);
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
  unsigned long long ids[3];
  it_ops(&fx, json, ids, 3);
  cr_assert(ids[0] && ids[2], "the ids of the tracks");
  atomic_store(&track_id, ids[0]);
  it_connect(&fx, "pianist", on_message);
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
  it_connect(&fx, "watcher", on_message);
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
  it_connect(&fx, "engineer", on_message);
  unsigned long long ahead0 = metric("backline_engine_ahead_blocks_total");
  cr_assert_eq(cli_http(fx.port, "POST", path, "{\"command\":\"play\"}", &status, NULL), 0);
  cr_assert_eq(status, 200);
  it_sleep_ms(2000);
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
    it_sleep_ms(100);
  cr_assert_gt(metric("backline_engine_idle_blocks_total"), idle0,
               "stopped, the reverb's tail died away and the engine idles");
}
