/* The model played by the engine: the demo song plus an audio clip, built
 * with ops, described by srv_plan and rendered offline. */
#include "engine/eng_render.h"
#include "server/srv_control.h"
#include "server/srv_demo.h"
#include "server/srv_plan.h"
#include "shared/mdl_device.h"
#include "shared/mdl_err.h"
#include "shared/mdl_time.h"
#include "storage/sto_asset.h"

#include <criterion/criterion.h>
#include <math.h>
#include <sndfile.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char dir[] = "/tmp/backline-plan-XXXXXX";
static char assets[80];
static mdl_project *song;

static int apply(void *ud, const mdl_txn *txn, char *err, size_t err_len) {
  mdl_fail fail;
  int rc = mdl_txn_apply(ud, txn, 1, &fail);
  if (rc) snprintf(err, err_len, "%s", fail.reason);
  return rc;
}

/* A second of 440 Hz at 44.1 kHz, imported into the asset store. */
static void import_tone(char id[STO_ASSET_ID_LEN + 1]) {
  char wav[120], err[300];
  snprintf(wav, sizeof wav, "%s/tone.wav", dir);
  SF_INFO info = {.samplerate = 44100, .channels = 1, .format = SF_FORMAT_WAV | SF_FORMAT_PCM_16};
  SNDFILE *f = sf_open(wav, SFM_WRITE, &info);
  cr_assert_not_null(f);
  float buf[44100];
  for (int i = 0; i < 44100; i++)
    buf[i] = 0.5f * sinf(2 * (float) M_PI * 440 * (float) i / 44100);
  cr_assert_eq(sf_writef_float(f, buf, 44100), 44100);
  sf_close(f);
  sto_asset_store *st;
  cr_assert_eq(sto_asset_store_open(assets, &st, err, sizeof err), 0, "%s", err);
  sto_asset_info ai;
  cr_assert_eq(sto_asset_import(st, wav, "tone.wav", 48000, &ai, err, sizeof err), 0, "%s", err);
  snprintf(id, STO_ASSET_ID_LEN + 1, "%s", ai.id);
  sto_asset_close(st);
}

static void setup(void) {
  cr_assert_not_null(mkdtemp(dir));
  snprintf(assets, sizeof assets, "%s/assets", dir);
  song = mdl_project_create(&srv__alloc, "Plan");
  char err[200];
  cr_assert_eq(srv_demo_build(1, apply, song, err, sizeof err), 0, "%s", err);
  /* An audio track whose clip (the tone) starts at bar 4 and lasts a bar. */
  char id[STO_ASSET_ID_LEN + 1];
  import_tone(id);
  mdl_prop_value audio[] = {{MDL_PROP_KIND, {.kind = MDL_VAL_INT, .u.i = MDL_TRACK_AUDIO}},
                            {MDL_PROP_NAME, {.kind = MDL_VAL_STR, .u.s = {"Tone", 4}}}};
  mdl_prop_value clip[] = {{MDL_PROP_ASSET, {.kind = MDL_VAL_STR, .u.s = {id, 64}}},
                           {MDL_PROP_START, {.kind = MDL_VAL_INT, .u.i = 4 * 4 * MDL_PPQ}},
                           {MDL_PROP_LENGTH, {.kind = MDL_VAL_INT, .u.i = 4 * MDL_PPQ}}};
  mdl_id t = MDL_ID_MAKE(1, 900), c = MDL_ID_MAKE(1, 901);
  mdl_op ops[] = {
      {.kind = MDL_OP_CREATE, .type = MDL_TYPE_TRACK, .id = t, .n_props = 2, .props = audio},
      {.kind = MDL_OP_CREATE,
       .type = MDL_TYPE_CLIP,
       .id = c,
       .parent = t,
       .n_props = 3,
       .props = clip}};
  mdl_fail fail;
  cr_assert_eq(mdl_txn_apply(song, &(mdl_txn){2, ops}, 1, &fail), 0, "%s", fail.reason);
}

static void teardown(void) {
  mdl_project_destroy(song);
  char cmd[120];
  snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
  cr_assert_eq(system(cmd), 0);
}
TestSuite(srv_plan, .init = setup, .fini = teardown);

static eng_render_report render(const char *name, const char *stems) {
  srv_plan_ctx *ctx = srv_plan_ctx_create(assets);
  srv_plan_desc *pd;
  const eng_plan_desc *d;
  cr_assert_eq(srv_plan_describe(ctx, song, 48000, &pd, &d), 0);
  cr_assert_eq(d->n_tracks, 5);
  char out[120], err[300];
  snprintf(out, sizeof out, "%s/%s", dir, name);
  eng_render_opts o = eng_render_opts_default();
  o.seconds = 12;
  o.stems_dir = stems;
  eng_render_report rep;
  cr_assert_eq(eng_render(d, out, &o, &rep, err, sizeof err), 0, "%s", err);
  srv_plan_desc_free(pd);
  srv_plan_ctx_destroy(ctx);
  return rep;
}

/* RMS of frames [from, to) of a stem (first channel). */
static double rms(const char *path, sf_count_t from, sf_count_t to) {
  SF_INFO info = {0};
  SNDFILE *f = sf_open(path, SFM_READ, &info);
  cr_assert_not_null(f, "%s", path);
  float *buf = malloc((size_t) (to - from) * (size_t) info.channels * sizeof *buf);
  sf_seek(f, from, SEEK_SET);
  sf_count_t n = sf_readf_float(f, buf, to - from);
  double sum = 0;
  for (sf_count_t i = 0; i < n; i++)
    sum += (double) buf[i * info.channels] * buf[i * info.channels];
  free(buf);
  sf_close(f);
  return n ? sqrt(sum / (double) n) : 0;
}

Test(srv_plan, the_demo_and_an_audio_clip_render_with_level_and_silence_where_expected) {
  char stems[120];
  snprintf(stems, sizeof stems, "%s/stems", dir);
  eng_render_report rep = render("song.wav", stems);
  cr_assert(rep.loudness_lufs > -30 && rep.loudness_lufs < -8, "%.1f LUFS", rep.loudness_lufs);
  cr_assert_lt(rep.true_peak_dbtp, 0, "%.1f dBTP: the demo must not clip", rep.true_peak_dbtp);
  /* The tone clip: bar 4 at 112 BPM starts at 4 * 4 * 60 / 112 s. */
  mdl_time_map map;
  mdl_time_map_build(song, &map);
  sf_count_t at = (sf_count_t) llround(mdl_time_seconds(&map, 16 * MDL_PPQ) * 48000);
  sf_count_t end = (sf_count_t) llround(mdl_time_seconds(&map, 20 * MDL_PPQ) * 48000);
  char tone[200];
  snprintf(tone, sizeof tone, "%s/track-%llu.wav", stems, (unsigned long long) MDL_ID_MAKE(1, 900));
  cr_assert_lt(rms(tone, 0, at), 1e-6, "silent before the clip");
  cr_assert_gt(rms(tone, at, end), 0.1, "the tone plays in its bar");
  cr_assert_lt(rms(tone, end + 10, end + 48000), 1e-6, "and stops after it");
  /* The drums play from the first bar; the bass too. */
  char path[200];
  for (uint32_t k = 1; k <= 2; k++) {
    snprintf(path, sizeof path, "%s/track-%llu.wav", stems, (unsigned long long) MDL_ID_MAKE(1, k));
    cr_assert_gt(rms(path, 0, 48000), 0.005, "track %u is heard in the first second", k);
  }
}

Test(srv_plan, renders_are_bit_identical) {
  render("a.wav", NULL);
  render("b.wav", NULL);
  char cmd[300];
  snprintf(cmd, sizeof cmd, "cmp -s %s/a.wav %s/b.wav", dir, dir);
  cr_assert_eq(system(cmd), 0, "two renders of the same project differ");
}

Test(srv_plan, a_missing_asset_is_silence_with_a_warning_not_a_failure) {
  mdl_id c = MDL_ID_MAKE(1, 901);
  char fake[65];
  memset(fake, 'a', 64), fake[64] = 0;
  mdl_op op = {.kind = MDL_OP_SET,
               .id = c,
               .prop = MDL_PROP_ASSET,
               .value = {.kind = MDL_VAL_STR, .u.s = {fake, 64}}};
  cr_assert_eq(mdl_txn_apply(song, &(mdl_txn){1, &op}, 1, NULL), 0);
  srv_plan_ctx *ctx = srv_plan_ctx_create(assets);
  eng_plan *plan;
  char why[300];
  cr_assert_eq(srv_plan_build(ctx, song, 48000, NULL, 0, &plan, why, sizeof why), 0, "%s", why);
  eng_plan_destroy(plan);
  srv_plan_ctx_destroy(ctx);
}

/* The model checks devices against its own table; the engine plays them by
 * its own. They must agree: kind, names, ranges, defaults. */
Test(srv_plan, the_models_device_tables_are_the_engines) {
  int kinds[64];
  uint32_t n = mdl_device_kinds(kinds, 64);
  cr_assert_gt(n, 5);
  for (uint32_t k = 0; k < n; k++) {
    const mdl_device_desc *d = mdl_device_describe(kinds[k]);
    const eng_param_info *ep;
    uint32_t en;
    cr_assert_eq(eng_node_params((uint32_t) kinds[k], &ep, &en), 0, "kind %d", kinds[k]);
    cr_assert_str_eq(d->name, eng_node_kind_name((uint32_t) kinds[k]));
    cr_assert_eq(d->instrument, eng_node_is_instrument((uint32_t) kinds[k]), "%s", d->name);
    cr_assert_eq(d->n_params, en, "%s: %u parameters, the engine has %u", d->name, d->n_params, en);
    for (uint32_t i = 0; i < en; i++) {
      cr_assert_str_eq(d->params[i].name, ep[i].name, "%s parameter %u", d->name, i);
      cr_assert_float_eq(d->params[i].min, ep[i].min, 1e-4, "%s %s min", d->name, ep[i].name);
      cr_assert_float_eq(d->params[i].max, ep[i].max, 1e-4, "%s %s max", d->name, ep[i].name);
      cr_assert_float_eq(d->params[i].def, ep[i].def, 1e-4, "%s %s default", d->name, ep[i].name);
      cr_assert_eq(d->params[i].unit, ep[i].unit, "%s %s unit", d->name, ep[i].name);
    }
  }
}
