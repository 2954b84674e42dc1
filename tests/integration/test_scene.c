/* A scene launched over the wire (LAUNCH with the scene's id): every track's
 * clip in it launches, a track with nothing in it stops, and a scene with a
 * tempo sets the project's tempo as an edit every client receives. The real
 * server, a C client, and the meters it receives. */
#include "protocol/proto_msg.h"
#include "shared/mdl_device.h"
#include "shared/mdl_project.h"
#include "tests/integration/it_wire.h"

#include <criterion/criterion.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static it_wire fx;

static _Atomic uint64_t keys_id, bass_id;
static _Atomic int keys_slot = -3, bass_slot = -3; /* what the meters last said */

static void on_message(void *ud, cli_client *c, const void *data, size_t len, uint64_t t_ns) {
  (void) ud, (void) c, (void) t_ns;
  static proto_scratch s; /* the client's service thread only */
  proto_msg m;
  if (((const uint8_t *) data)[0] != PROTO_METERS || proto_decode(data, len, &s, &m, NULL)) return;
  for (int i = 0; i < m.u.meters.n; i++) {
    if (m.u.meters.m[i].track_id == atomic_load(&keys_id))
      atomic_store(&keys_slot, m.u.meters.m[i].slot);
    if (m.u.meters.m[i].track_id == atomic_load(&bass_id))
      atomic_store(&bass_slot, m.u.meters.m[i].slot);
  }
}

static void setup(void) {
  it_start(&fx, "backline-scene", "Scenes");
}

static void teardown(void) {
  it_stop(&fx);
}
TestSuite(scene, .init = setup, .fini = teardown);

/* Waits up to 3 s for the meters to say keys plays K and bass plays B. */
static bool slots_become(int k, int b) {
  for (int i = 0; i < 300; i++) {
    if (atomic_load(&keys_slot) == k && atomic_load(&bass_slot) == b) return true;
    it_sleep_ms(10);
  }
  return false;
}

/* The project's tempo as this client's confirmed copy has it. */
static double tempo(void) {
  mdl_project *p = mdl_project_create(&cli_heap, NULL);
  cr_assert_eq(cli_client_confirmed(fx.c, p, NULL), 0);
  double t = mdl_get_real(p, MDL_ID_PROJECT, MDL_PROP_TEMPO);
  mdl_project_destroy(p);
  return t;
}

Test(scene, a_scene_launches_its_clips_stops_the_rest_and_sets_its_tempo) {
  /* Keys has clips in scenes A and B, bass in A only; B has a tempo. */
  char json[2000];
  snprintf(json, sizeof json,
           "{\"ops\":[{\"op\":\"create\",\"type\":\"track\",\"props\":{\"name\":\"Keys\"}},"
           "{\"op\":\"create\",\"type\":\"device\",\"parent\":\"$0\",\"props\":{\"kind\":%d}},"
           "{\"op\":\"create\",\"type\":\"track\",\"props\":{\"name\":\"Bass\"}},"
           "{\"op\":\"create\",\"type\":\"device\",\"parent\":\"$2\",\"props\":{\"kind\":%d}},"
           "{\"op\":\"create\",\"type\":\"scene\",\"props\":{\"name\":\"A\",\"quant\":%d}},"
           "{\"op\":\"create\",\"type\":\"scene\",\"props\":{\"name\":\"B\",\"quant\":%d,"
           "\"tempo\":150}},"
           "{\"op\":\"create\",\"type\":\"clip\",\"parent\":\"$0\",\"props\":{\"scene\":\"$4\"}},"
           "{\"op\":\"create\",\"type\":\"clip\",\"parent\":\"$0\",\"props\":{\"scene\":\"$5\"}},"
           "{\"op\":\"create\",\"type\":\"clip\",\"parent\":\"$2\",\"props\":{\"scene\":\"$4\"}},"
           "{\"op\":\"create\",\"type\":\"note\",\"parent\":\"$6\",\"props\":{}},"
           "{\"op\":\"create\",\"type\":\"note\",\"parent\":\"$7\",\"props\":{}},"
           "{\"op\":\"create\",\"type\":\"note\",\"parent\":\"$8\",\"props\":{}},"
           "{\"op\":\"set\",\"id\":\"project\",\"prop\":\"metronome\",\"value\":false}]}",
           MDL_DEV_SYNTH, MDL_DEV_SYNTH, MDL_QUANT_BEAT, MDL_QUANT_BEAT);
  unsigned long long ids[13];
  it_ops(&fx, json, ids, 13);
  cr_assert(ids[0] && ids[2] && ids[4] && ids[5], "the ids of the tracks and scenes");
  atomic_store(&keys_id, ids[0]);
  atomic_store(&bass_id, ids[2]);

  it_connect(&fx, "launcher", on_message);
  proto_msg play = {.type = PROTO_TRANSPORT};
  play.u.transport.command = 1;
  it_send(&fx, &play);
  cr_assert(slots_become(-1, -1), "nothing plays before a launch");
  cr_assert_float_eq(tempo(), 120.0, 1e-9);

  proto_msg launch = {.type = PROTO_LAUNCH};
  launch.u.launch = (proto_launch){ids[4], 0}; /* scene A */
  it_send(&fx, &launch);
  cr_assert(slots_become(0, 0), "scene A: both tracks play slot 0 (keys %d, bass %d)",
            atomic_load(&keys_slot), atomic_load(&bass_slot));
  cr_expect_float_eq(tempo(), 120.0, 1e-9, "a scene without a tempo leaves it");

  launch.u.launch = (proto_launch){ids[5], 0}; /* scene B */
  it_send(&fx, &launch);
  cr_assert(slots_become(1, -1), "scene B: keys plays slot 1, bass stops (keys %d, bass %d)",
            atomic_load(&keys_slot), atomic_load(&bass_slot));
  cr_assert_eq(cli_client_wait_idle(fx.c, 5000), 0);
  cr_expect_float_eq(tempo(), 150.0, 1e-9, "scene B's tempo is the project's now");
}
