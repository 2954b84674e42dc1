/* The session view over the wire: a clip in a scene's slot is silent until a
 * LAUNCH, plays from the next quantization boundary, and stops on the next
 * after a stop; TRANSPORT 3 counts in. The real server, a C client, and the
 * meters it receives. */
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
static _Atomic int loud; /* meters with the track above -40 dBFS */
static _Atomic int quiet;
static _Atomic int slot = -3; /* the slot the meters last said the track plays */

static void on_message(void *ud, cli_client *c, const void *data, size_t len, uint64_t t_ns) {
  (void) ud, (void) c, (void) t_ns;
  static proto_scratch s; /* the client's service thread only */
  proto_msg m;
  if (((const uint8_t *) data)[0] != PROTO_METERS || proto_decode(data, len, &s, &m, NULL)) return;
  for (int i = 0; i < m.u.meters.n; i++)
    if (m.u.meters.m[i].track_id == atomic_load(&track_id)) {
      atomic_fetch_add(m.u.meters.m[i].peak > 0.01f ? &loud : &quiet, 1);
      atomic_store(&slot, m.u.meters.m[i].slot);
    }
}

static void setup(void) {
  it_start(&fx, "backline-sess", "Session");
}

static void teardown(void) {
  it_stop(&fx);
}
TestSuite(session, .init = setup, .fini = teardown);

/* Meters over the next MS milliseconds: how many heard the track. */
static int heard(int ms) {
  atomic_store(&loud, 0), atomic_store(&quiet, 0);
  it_sleep_ms(ms);
  return atomic_load(&loud);
}

Test(session, a_launched_clip_plays_from_its_boundary_and_stops_on_the_next) {
  /* A synth track with a clip in scene 1's slot: four quarter notes a bar;
   * the scene launches on the beat (120 BPM: 0.5 s). No arrangement clip. */
  char json[1400];
  snprintf(json, sizeof json,
           "{\"ops\":[{\"op\":\"create\",\"type\":\"track\",\"props\":{\"name\":\"Keys\"}},"
           "{\"op\":\"create\",\"type\":\"device\",\"parent\":\"$0\",\"props\":{\"kind\":%d}},"
           "{\"op\":\"create\",\"type\":\"scene\",\"props\":{\"quant\":%d}},"
           "{\"op\":\"create\",\"type\":\"clip\",\"parent\":\"$0\",\"props\":{\"scene\":\"$2\","
           "\"length\":3840,\"loop_end\":3840}},"
           "{\"op\":\"create\",\"type\":\"note\",\"parent\":\"$3\",\"props\":{\"start\":0,"
           "\"length\":900}},"
           "{\"op\":\"create\",\"type\":\"note\",\"parent\":\"$3\",\"props\":{\"start\":960,"
           "\"length\":900}},"
           "{\"op\":\"create\",\"type\":\"note\",\"parent\":\"$3\",\"props\":{\"start\":1920,"
           "\"length\":900}},"
           "{\"op\":\"create\",\"type\":\"note\",\"parent\":\"$3\",\"props\":{\"start\":2880,"
           "\"length\":900}},"
           "{\"op\":\"set\",\"id\":\"project\",\"prop\":\"metronome\",\"value\":false}]}",
           MDL_DEV_SYNTH, MDL_QUANT_BEAT);
  /* The ids the server gave: track first, clip fourth. */
  unsigned long long ids[9];
  it_ops(&fx, json, ids, 9);
  cr_assert(ids[0] && ids[3], "the ids of the track and the clip");
  atomic_store(&track_id, ids[0]);

  it_connect(&fx, "launcher", on_message);

  proto_msg play = {.type = PROTO_TRANSPORT};
  play.u.transport.command = 1;
  it_send(&fx, &play);
  cr_assert_eq(heard(1200), 0, "a session clip is silent until launched");
  proto_msg launch = {.type = PROTO_LAUNCH};
  launch.u.launch = (proto_launch){ids[3], 0};
  it_send(&fx, &launch);
  cr_assert_gt(heard(1500), 3, "launched, it plays (quantized to the next beat)");
  cr_assert_eq(atomic_load(&slot), 0, "the meters say the track plays slot 0");
  proto_msg stop = {.type = PROTO_LAUNCH};
  stop.u.launch = (proto_launch){0, ids[0]};
  it_send(&fx, &stop);
  /* The stop lands on the next beat of the engine's clock, which a loaded
   * machine (sanitizers, tests in parallel) may run late against the wall
   * clock: wait for the meters to say the slot stopped, then the release. */
  for (int i = 0; i < 100 && atomic_load(&slot) != -1; i++)
    it_sleep_ms(100);
  it_sleep_ms(800);
  cr_assert_eq(heard(1000), 0, "stopped on the next beat, it stays silent");
  cr_assert_eq(atomic_load(&slot), -1, "and the meters say so");
  /* A launch of something that is not a clip in a slot is refused with a reason. */
  launch.u.launch = (proto_launch){ids[0], 0};
  it_send(&fx, &launch);
  cr_assert_eq(cli_client_wait_rejects(fx.c, 1, 10000), 0);
  cli_reject r;
  cr_assert(cli_client_last_reject(fx.c, &r));
  cr_assert(strstr(r.reason, "not a clip in a scene's slot"), "%s", r.reason);
}
