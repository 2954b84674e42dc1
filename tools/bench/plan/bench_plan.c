/* bench_plan: what an edit costs the control thread before it is heard:
 * srv_plan_build of a 16-track project (the demo song, eleven synth tracks
 * with effects and a clip of notes each, and an audio track whose 10 s
 * stereo clip is warped from 100 to 120 BPM by Rubber Band).
 *
 * "cached" is the server's way: one srv_plan_ctx for the session, so the
 * stretched clip is kept in its eng_stretch_cache and reused by every plan.
 * "anew" is the reference: the same description compiled without the
 * cache, so the clip is stretched at every compile (what the server did
 * before the cache; samples stay loaded in both).
 * Prints p50/p99 in milliseconds and the ratio cached/anew. */
#include "server/srv_control.h"
#include "server/srv_demo.h"
#include "server/srv_plan.h"
#include "shared/mdl_device.h"
#include "shared/mdl_err.h"
#include "storage/sto_asset.h"

#include <math.h>
#include <sndfile.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define RATE 48000

static int apply(void *ud, const mdl_txn *txn, char *err, size_t err_len) {
  mdl_fail fail;
  int rc = mdl_txn_apply(ud, txn, 1, &fail);
  if (rc) snprintf(err, err_len, "%s", fail.reason);
  return rc;
}

static void die(const char *what, const char *why) {
  fprintf(stderr, "bench_plan: %s: %s\n", what, why);
  exit(1);
}

static double now_ms(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double) t.tv_sec * 1e3 + (double) t.tv_nsec / 1e6;
}

static int cmp(const void *a, const void *b) {
  double x = *(const double *) a, y = *(const double *) b;
  return x < y ? -1 : x > y;
}

static double pct(double *v, int n, double p) {
  qsort(v, (size_t) n, sizeof *v, cmp);
  int i = (int) ceil(p * n) - 1;
  return v[i < 0 ? 0 : i];
}

/* 10 s of stereo chords at 44.1 kHz, imported into the store at DIR. */
static void import_audio(const char *dir, const char *assets, char id[STO_ASSET_ID_LEN + 1]) {
  char wav[300], err[300];
  snprintf(wav, sizeof wav, "%s/loop.wav", dir);
  SF_INFO info = {.samplerate = 44100, .channels = 2, .format = SF_FORMAT_WAV | SF_FORMAT_PCM_16};
  SNDFILE *f = sf_open(wav, SFM_WRITE, &info);
  if (!f) die("cannot write", wav);
  static float buf[2 * 441000];
  for (int i = 0; i < 441000; i++) {
    double t = i / 44100.0;
    buf[2 * i] = (float) (0.3 * sin(2 * M_PI * 220 * t) + 0.2 * sin(2 * M_PI * 277.2 * t));
    buf[2 * i + 1] = (float) (0.3 * sin(2 * M_PI * 330 * t) * exp(-fmod(t, 0.5) * 4));
  }
  sf_writef_float(f, buf, 441000);
  sf_close(f);
  sto_asset_store *st;
  sto_asset_info ai;
  if (sto_asset_store_open(assets, &st, err, sizeof err)) die("asset store", err);
  if (sto_asset_import(st, wav, "loop.wav", RATE, &ai, err, sizeof err)) die("import", err);
  snprintf(id, STO_ASSET_ID_LEN + 1, "%s", ai.id);
  sto_asset_close(st);
}

#define V_INT(x)                                                                                   \
  { .kind = MDL_VAL_INT, .u.i = (x) }
#define V_REAL(x)                                                                                  \
  { .kind = MDL_VAL_REAL, .u.r = (x) }

static void build_song(mdl_project *song, const char *asset) {
  char err[200];
  mdl_fail fail;
  if (srv_demo_build(1, apply, song, err, sizeof err)) die("demo", err);
  uint32_t seq = 1000;
  for (int k = 0; k < 11; k++) { /* synth -> EQ -> compressor, a bar of eighths */
    mdl_id t = MDL_ID_MAKE(1, seq++), s = MDL_ID_MAKE(1, seq++), q = MDL_ID_MAKE(1, seq++),
           cp = MDL_ID_MAKE(1, seq++), c = MDL_ID_MAKE(1, seq++);
    mdl_prop_value synth[] = {{MDL_PROP_KIND, V_INT(MDL_DEV_SYNTH)}};
    mdl_prop_value eq[] = {{MDL_PROP_KIND, V_INT(MDL_DEV_EQ)}};
    mdl_prop_value comp[] = {{MDL_PROP_KIND, V_INT(MDL_DEV_COMPRESSOR)}};
    mdl_prop_value clip[] = {{MDL_PROP_START, V_INT(0)}, {MDL_PROP_LENGTH, V_INT(16 * MDL_PPQ)}};
    mdl_op ops[5 + 32] = {{.kind = MDL_OP_CREATE, .type = MDL_TYPE_TRACK, .id = t},
                          {.kind = MDL_OP_CREATE,
                           .type = MDL_TYPE_DEVICE,
                           .id = s,
                           .parent = t,
                           .n_props = 1,
                           .props = synth},
                          {.kind = MDL_OP_CREATE,
                           .type = MDL_TYPE_DEVICE,
                           .id = q,
                           .parent = t,
                           .n_props = 1,
                           .props = eq},
                          {.kind = MDL_OP_CREATE,
                           .type = MDL_TYPE_DEVICE,
                           .id = cp,
                           .parent = t,
                           .n_props = 1,
                           .props = comp},
                          {.kind = MDL_OP_CREATE,
                           .type = MDL_TYPE_CLIP,
                           .id = c,
                           .parent = t,
                           .n_props = 2,
                           .props = clip}};
    mdl_prop_value notes[32][2];
    for (int n = 0; n < 32; n++) {
      notes[n][0] = (mdl_prop_value){MDL_PROP_START, V_INT(n * MDL_PPQ / 2)};
      notes[n][1] = (mdl_prop_value){MDL_PROP_PITCH, V_INT(48 + (n * 7 + k) % 24)};
      ops[5 + n] = (mdl_op){.kind = MDL_OP_CREATE,
                            .type = MDL_TYPE_NOTE,
                            .id = MDL_ID_MAKE(1, seq++),
                            .parent = c,
                            .n_props = 2,
                            .props = notes[n]};
    }
    if (mdl_txn_apply(song, &(mdl_txn){37, ops}, 1, &fail)) die("synth track", fail.reason);
  }
  mdl_prop_value audio[] = {{MDL_PROP_KIND, V_INT(MDL_TRACK_AUDIO)}};
  mdl_prop_value clip[] = {{MDL_PROP_ASSET, {.kind = MDL_VAL_STR, .u.s = {asset, 64}}},
                           {MDL_PROP_START, V_INT(0)},
                           {MDL_PROP_LENGTH, V_INT(16 * 4 * MDL_PPQ)},
                           {MDL_PROP_WARP, {.kind = MDL_VAL_BOOL, .u.b = true}},
                           {MDL_PROP_SOURCE_BPM, V_REAL(100)}};
  mdl_id t = MDL_ID_MAKE(1, seq++);
  mdl_op ops[] = {
      {.kind = MDL_OP_CREATE, .type = MDL_TYPE_TRACK, .id = t, .n_props = 1, .props = audio},
      {.kind = MDL_OP_CREATE,
       .type = MDL_TYPE_CLIP,
       .id = MDL_ID_MAKE(1, seq++),
       .parent = t,
       .n_props = 5,
       .props = clip},
      {.kind = MDL_OP_SET, .id = MDL_ID_PROJECT, .prop = MDL_PROP_TEMPO, .value = V_REAL(120)}};
  if (mdl_txn_apply(song, &(mdl_txn){3, ops}, 1, &fail)) die("audio track", fail.reason);
}

/* One build as the server does it; its time in ms. */
static double build(srv_plan_ctx *ctx, const mdl_project *song) {
  eng_plan *plan;
  char why[300] = "";
  double t0 = now_ms();
  int rc = srv_plan_build(ctx, song, RATE, NULL, 0, &plan, why, sizeof why);
  double ms = now_ms() - t0;
  if (rc) die("build", why);
  eng_plan_destroy(plan);
  return ms;
}

/* The same, compiled without the stretch cache; its time in ms. */
static double build_anew(srv_plan_ctx *ctx, const mdl_project *song) {
  eng_plan *plan;
  char why[300] = "";
  double t0 = now_ms();
  srv_plan_desc *pd;
  const eng_plan_desc *d;
  if (srv_plan_describe(ctx, song, RATE, &pd, &d)) die("describe", "out of memory");
  eng_plan_desc nocache = *d;
  nocache.stretch_cache = NULL;
  int rc = eng_plan_compile(&nocache, &plan, why, sizeof why);
  srv_plan_desc_free(pd);
  double ms = now_ms() - t0;
  if (rc) die("build", why);
  eng_plan_destroy(plan);
  return ms;
}

int main(int argc, char **argv) {
  int n_cached = argc > 1 ? atoi(argv[1]) : 200, n_anew = argc > 2 ? atoi(argv[2]) : 8;
  char dir[] = "/tmp/bench-plan-XXXXXX", assets[64], id[STO_ASSET_ID_LEN + 1];
  if (!mkdtemp(dir)) die("mkdtemp", dir);
  snprintf(assets, sizeof assets, "%s/assets", dir);
  import_audio(dir, assets, id);
  mdl_project *song = mdl_project_create(&srv__alloc, "Bench");
  build_song(song, id);
  uint32_t n_tracks = mdl_tracks(song, NULL, 0);

  srv_plan_ctx *ctx = srv_plan_ctx_create(assets);
  build(ctx, song); /* warm: samples loaded, clip stretched */
  double *cached = malloc((size_t) n_cached * sizeof *cached);
  double *anew = malloc((size_t) n_anew * sizeof *anew);
  for (int i = 0; i < n_cached; i++)
    cached[i] = build(ctx, song);
  for (int i = 0; i < n_anew; i++)
    anew[i] = build_anew(ctx, song);
  srv_plan_ctx_destroy(ctx);
  double c50 = pct(cached, n_cached, 0.5), c99 = pct(cached, n_cached, 0.99);
  double a50 = pct(anew, n_anew, 0.5), a99 = pct(anew, n_anew, 0.99);
  printf("plan build, %u tracks, one 10 s stereo clip warped 100 -> 120 BPM\n", n_tracks);
  printf("%-34s %10s %10s %6s\n", "", "p50 ms", "p99 ms", "runs");
  printf("%-34s %10.3f %10.3f %6d\n", "cached (the server)", c50, c99, n_cached);
  printf("%-34s %10.3f %10.3f %6d\n", "stretched anew (reference)", a50, a99, n_anew);
  printf("ratio cached/anew p50 %.4f\n", c50 / a50);
  printf("bench: plan_build_p50 %.3f ms\n", c50);
  printf("bench: plan_build_p99 %.3f ms\n", c99);
  printf("bench: plan_build_anew_p50 %.3f ms\n", a50);
  printf("bench: plan_build_ratio %.4f\n", c50 / a50);
  free(cached);
  free(anew);
  mdl_project_destroy(song);
  char cmd[120];
  snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
  return system(cmd) ? 1 : 0;
}
