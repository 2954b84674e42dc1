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
  /* A sampler playing the tone as a pitched zone (root A4), an octave up
   * in bar 6 only. */
  mdl_prop_value sampler[] = {{MDL_PROP_KIND, {.kind = MDL_VAL_INT, .u.i = MDL_DEV_SAMPLER}}};
  mdl_prop_value zone[] = {{MDL_PROP_ASSET, {.kind = MDL_VAL_STR, .u.s = {id, 64}}},
                           {MDL_PROP_PITCH, {.kind = MDL_VAL_INT, .u.i = 69}}};
  mdl_prop_value mclip[] = {{MDL_PROP_START, {.kind = MDL_VAL_INT, .u.i = 5 * 4 * MDL_PPQ}},
                            {MDL_PROP_LENGTH, {.kind = MDL_VAL_INT, .u.i = 4 * MDL_PPQ}}};
  mdl_prop_value note[] = {{MDL_PROP_PITCH, {.kind = MDL_VAL_INT, .u.i = 81}},
                           {MDL_PROP_LENGTH, {.kind = MDL_VAL_INT, .u.i = 2 * MDL_PPQ}}};
  mdl_id st = MDL_ID_MAKE(1, 970), sd = MDL_ID_MAKE(1, 971), sc = MDL_ID_MAKE(1, 973);
  mdl_op more[] = {{.kind = MDL_OP_CREATE, .type = MDL_TYPE_TRACK, .id = st},
                   {.kind = MDL_OP_CREATE,
                    .type = MDL_TYPE_DEVICE,
                    .id = sd,
                    .parent = st,
                    .n_props = 1,
                    .props = sampler},
                   {.kind = MDL_OP_CREATE,
                    .type = MDL_TYPE_ZONE,
                    .id = MDL_ID_MAKE(1, 972),
                    .parent = sd,
                    .n_props = 2,
                    .props = zone},
                   {.kind = MDL_OP_CREATE,
                    .type = MDL_TYPE_CLIP,
                    .id = sc,
                    .parent = st,
                    .n_props = 2,
                    .props = mclip},
                   {.kind = MDL_OP_CREATE,
                    .type = MDL_TYPE_NOTE,
                    .id = MDL_ID_MAKE(1, 974),
                    .parent = sc,
                    .n_props = 2,
                    .props = note}};
  cr_assert_eq(mdl_txn_apply(song, &(mdl_txn){5, more}, 1, &fail), 0, "%s", fail.reason);
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
  cr_assert_eq(d->n_tracks, 6);
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

/* Sign changes of the first channel over frames [from, to). */
static double zero_crossings(const char *path, sf_count_t from, sf_count_t to) {
  SF_INFO info = {0};
  SNDFILE *f = sf_open(path, SFM_READ, &info);
  cr_assert_not_null(f, "%s", path);
  float *buf = malloc((size_t) (to - from) * (size_t) info.channels * sizeof *buf);
  sf_seek(f, from, SEEK_SET);
  sf_count_t n = sf_readf_float(f, buf, to - from);
  double z = 0;
  for (sf_count_t i = 1; i < n; i++)
    z += (buf[(i - 1) * info.channels] < 0) != (buf[i * info.channels] < 0);
  free(buf);
  sf_close(f);
  return z;
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
  /* The sampler: silent until bar 5, then the tone an octave up (880 Hz). */
  snprintf(tone, sizeof tone, "%s/track-%llu.wav", stems, (unsigned long long) MDL_ID_MAKE(1, 970));
  sf_count_t s0 = (sf_count_t) llround(mdl_time_seconds(&map, 20 * MDL_PPQ) * 48000);
  cr_assert_lt(rms(tone, 0, s0), 1e-6, "the sampler is silent before its clip");
  cr_assert_gt(rms(tone, s0 + 480, s0 + 12480), 0.05, "the sampler plays its zone");
  /* The one-second tone lasts half a second an octave up: count within it. */
  double hz = zero_crossings(tone, s0 + 480, s0 + 12480) / 2.0 / (12000.0 / 48000);
  cr_assert(fabs(hz - 880) < 15, "the zone plays an octave up: %.1f Hz", hz);
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

/* RMS of frames [from, to) of the tone track's stem after a render. */
static double tone_rms(const char *stems, sf_count_t from, sf_count_t to) {
  char path[200];
  snprintf(path, sizeof path, "%s/track-%llu.wav", stems, (unsigned long long) MDL_ID_MAKE(1, 900));
  return rms(path, from, to);
}

/* A lane on the tone track's gain: 0 at the clip's start (bar 4), rising in
 * a line to 1 two beats later (the tone lasts a second). The stem's level
 * follows it; an off lane is not read. */
Test(srv_plan, a_gain_lane_under_a_track_shapes_its_level) {
  char plain[120], shaped[120];
  snprintf(plain, sizeof plain, "%s/plain", dir);
  snprintf(shaped, sizeof shaped, "%s/shaped", dir);
  render("plain.wav", plain);
  mdl_id t = MDL_ID_MAKE(1, 900), l = MDL_ID_MAKE(1, 910);
  int64_t bar4 = 16 * MDL_PPQ, bar5 = bar4 + 2 * MDL_PPQ;
  mdl_prop_value lane[] = {{MDL_PROP_PARAM, {.kind = MDL_VAL_INT, .u.i = MDL_PROP_GAIN}}};
  mdl_prop_value p0[] = {{MDL_PROP_START, {.kind = MDL_VAL_INT, .u.i = bar4}},
                         {MDL_PROP_VALUE, {.kind = MDL_VAL_REAL, .u.r = 0.0}},
                         {MDL_PROP_CURVE, {.kind = MDL_VAL_INT, .u.i = MDL_CURVE_LINEAR}}};
  mdl_prop_value p1[] = {{MDL_PROP_START, {.kind = MDL_VAL_INT, .u.i = bar5}},
                         {MDL_PROP_VALUE, {.kind = MDL_VAL_REAL, .u.r = 1.0}}};
  mdl_op ops[] = {{.kind = MDL_OP_CREATE,
                   .type = MDL_TYPE_LANE,
                   .id = l,
                   .parent = t,
                   .n_props = 1,
                   .props = lane},
                  {.kind = MDL_OP_CREATE,
                   .type = MDL_TYPE_POINT,
                   .id = MDL_ID_MAKE(1, 911),
                   .parent = l,
                   .n_props = 3,
                   .props = p0},
                  {.kind = MDL_OP_CREATE,
                   .type = MDL_TYPE_POINT,
                   .id = MDL_ID_MAKE(1, 912),
                   .parent = l,
                   .n_props = 2,
                   .props = p1}};
  mdl_fail fail;
  cr_assert_eq(mdl_txn_apply(song, &(mdl_txn){3, ops}, 1, &fail), 0, "%s", fail.reason);
  srv_plan_ctx *ctx = srv_plan_ctx_create(assets);
  srv_plan_desc *pd;
  const eng_plan_desc *d;
  cr_assert_eq(srv_plan_describe(ctx, song, 48000, &pd, &d), 0);
  const eng_track_desc *td = NULL;
  for (uint32_t i = 0; i < d->n_tracks; i++)
    if (d->tracks[i].track_id == t) td = &d->tracks[i];
  cr_assert_not_null(td);
  cr_assert_eq(td->n_automations, 1);
  cr_expect_eq(td->automations[0].target, ENG_AUTO_GAIN);
  cr_assert_eq(td->automations[0].n_points, 2);
  mdl_time_map map;
  mdl_time_map_build(song, &map);
  sf_count_t at = (sf_count_t) llround(mdl_time_seconds(&map, bar4) * 48000);
  sf_count_t end = (sf_count_t) llround(mdl_time_seconds(&map, bar5) * 48000);
  cr_expect_eq(td->automations[0].points[0].frame, (uint64_t) at, "ticks become frames");
  cr_expect_eq(td->automations[0].points[1].frame, (uint64_t) end);
  d->on_free(d->on_free_ud); /* no plan made from it: let go of its samples */
  srv_plan_desc_free(pd);
  srv_plan_ctx_destroy(ctx);

  render("shaped.wav", shaped);
  /* Short windows across the bar: the level is the plain one times the gain
   * at the window's centre (a line from 0 to 1: the mean over a short window
   * is the centre's value). */
  sf_count_t w = 2400;
  for (int q = 1; q <= 7; q += 2) {
    sf_count_t c = at + (end - at) * q / 8;
    double want = (double) (c - at) / (double) (end - at);
    double got = tone_rms(shaped, c - w / 2, c + w / 2) / tone_rms(plain, c - w / 2, c + w / 2);
    cr_expect(fabs(got - want) < 0.01, "%d/8 into the bar: level ratio %.4f, want %.4f", q, got,
              want);
  }
  cr_expect_lt(tone_rms(shaped, at, at + 480), 0.01 * tone_rms(plain, at, at + 480),
               "silent as the lane starts at 0");

  /* Switched off, the lane is not read: the plain level comes back. */
  mdl_op off = {.kind = MDL_OP_SET,
                .id = l,
                .prop = MDL_PROP_ON,
                .value = {.kind = MDL_VAL_BOOL, .u.b = false}};
  cr_assert_eq(mdl_txn_apply(song, &(mdl_txn){1, &off}, 1, NULL), 0);
  render("off.wav", shaped);
  sf_count_t c = at + (end - at) / 8;
  cr_expect(fabs(tone_rms(shaped, c - w / 2, c + w / 2) / tone_rms(plain, c - w / 2, c + w / 2) -
                 1.0) < 1e-6,
            "an off lane leaves the gain alone");
}

/* Lanes under devices drive their parameter: the instrument is device 0,
 * effects 1 + i in chain order; a track lane on another property is not a
 * gain or pan lane and is left out. The demo's own lane (the bass synth's
 * cutoff sweep) comes first. */
Test(srv_plan, lanes_under_devices_automate_their_parameters) {
  mdl_id bass = MDL_ID_MAKE(1, 2), devs[4];
  cr_assert_eq(mdl_children(song, bass, MDL_TYPE_DEVICE, devs, 4), 2);        /* synth, eq */
  mdl_prop_value cut[] = {{MDL_PROP_PARAM, {.kind = MDL_VAL_INT, .u.i = 8}}}; /* resonance */
  mdl_prop_value eqg[] = {{MDL_PROP_PARAM, {.kind = MDL_VAL_INT, .u.i = 1}}};
  mdl_prop_value pan[] = {{MDL_PROP_PARAM, {.kind = MDL_VAL_INT, .u.i = MDL_PROP_PAN}}};
  mdl_prop_value pt0[] = {{MDL_PROP_START, {.kind = MDL_VAL_INT, .u.i = MDL_PPQ}},
                          {MDL_PROP_VALUE, {.kind = MDL_VAL_REAL, .u.r = 0.3}},
                          {MDL_PROP_CURVE, {.kind = MDL_VAL_INT, .u.i = MDL_CURVE_S}},
                          {MDL_PROP_TENSION, {.kind = MDL_VAL_REAL, .u.r = 0.5}}};
  mdl_prop_value pt1[] = {{MDL_PROP_START, {.kind = MDL_VAL_INT, .u.i = 0}},
                          {MDL_PROP_VALUE, {.kind = MDL_VAL_REAL, .u.r = 2.0}}};
  mdl_prop_value pt2[] = {{MDL_PROP_START, {.kind = MDL_VAL_INT, .u.i = 0}},
                          {MDL_PROP_VALUE, {.kind = MDL_VAL_REAL, .u.r = -0.5}}};
  mdl_id l0 = MDL_ID_MAKE(1, 920), l1 = MDL_ID_MAKE(1, 921), l2 = MDL_ID_MAKE(1, 922);
  mdl_op ops[] = {{.kind = MDL_OP_CREATE,
                   .type = MDL_TYPE_LANE,
                   .id = l0,
                   .parent = devs[0],
                   .n_props = 1,
                   .props = cut},
                  {.kind = MDL_OP_CREATE,
                   .type = MDL_TYPE_POINT,
                   .id = MDL_ID_MAKE(1, 923),
                   .parent = l0,
                   .n_props = 4,
                   .props = pt0},
                  {.kind = MDL_OP_CREATE,
                   .type = MDL_TYPE_LANE,
                   .id = l1,
                   .parent = devs[1],
                   .n_props = 1,
                   .props = eqg},
                  {.kind = MDL_OP_CREATE,
                   .type = MDL_TYPE_POINT,
                   .id = MDL_ID_MAKE(1, 924),
                   .parent = l1,
                   .n_props = 2,
                   .props = pt1},
                  {.kind = MDL_OP_CREATE,
                   .type = MDL_TYPE_LANE,
                   .id = l2,
                   .parent = bass,
                   .n_props = 1,
                   .props = pan},
                  {.kind = MDL_OP_CREATE,
                   .type = MDL_TYPE_POINT,
                   .id = MDL_ID_MAKE(1, 925),
                   .parent = l2,
                   .n_props = 2,
                   .props = pt2}};
  mdl_fail fail;
  cr_assert_eq(mdl_txn_apply(song, &(mdl_txn){6, ops}, 1, &fail), 0, "%s", fail.reason);
  srv_plan_ctx *ctx = srv_plan_ctx_create(assets);
  srv_plan_desc *pd;
  const eng_plan_desc *d;
  cr_assert_eq(srv_plan_describe(ctx, song, 48000, &pd, &d), 0);
  const eng_track_desc *td = NULL;
  for (uint32_t i = 0; i < d->n_tracks; i++)
    if (d->tracks[i].track_id == bass) td = &d->tracks[i];
  cr_assert_not_null(td);
  cr_assert_eq(td->n_automations, 4);
  const eng_automation *a = td->automations + 1;
  cr_expect(td->automations[0].param_id == 7 && td->automations[0].n_points == 2, "the sweep");
  cr_expect(a[0].target == ENG_AUTO_PARAM && a[0].device == 0 && a[0].param_id == 8, "resonance");
  cr_expect_eq(a[0].points[0].curve, ENG_CURVE_S);
  cr_expect_float_eq(a[0].points[0].tension, 0.5f, 1e-6);
  cr_expect_float_eq(a[0].points[0].value, 0.3f, 1e-6);
  cr_expect_eq(a[0].points[0].frame, (uint64_t) llround(60.0 / 112 * 48000), "one beat at 112");
  cr_expect(a[1].target == ENG_AUTO_PARAM && a[1].device == 1 && a[1].param_id == 1, "eq");
  cr_expect(a[2].target == ENG_AUTO_PAN, "the track's pan");
  eng_plan *plan;
  char why[300];
  cr_expect_eq(eng_plan_compile(d, &plan, why, sizeof why), 0, "%s", why);
  cr_expect_null(strstr(why, "automation"), "every lane is usable: %s", why);
  eng_plan_destroy(plan);
  srv_plan_desc_free(pd);
  srv_plan_ctx_destroy(ctx);
}
