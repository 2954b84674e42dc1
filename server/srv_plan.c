/* srv_plan: the project model described for the engine (see srv_plan.h). */
#include "server/srv_plan.h"
#include "server/srv_err.h"
#include "shared/mdl_device.h"
#include "shared/mdl_time.h"
#include "storage/sto_asset.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CACHE_KEEP_BYTES   (256u << 20) /* samples no plan uses are kept up to this much */
#define STRETCH_KEEP_BYTES (128u << 20) /* and stretched clips */

typedef struct sample {
  char id[STO_ASSET_ID_LEN + 1];
  float *frames;
  uint64_t n_frames;
  uint32_t channels;
  uint32_t refs; /* plans that borrow it */
  bool missing;  /* no such asset, or unreadable: clips on it stay silent */
} sample;

/* Where a device of the last plan built sits (srv_plan_device_slot). */
typedef struct dev_slot {
  mdl_id device, track;
  uint32_t slot;
} dev_slot;

struct srv_plan_ctx {
  sto_asset_store *assets;
  eng_stretch_cache *stretched; /* warped clips, so an edit does not stretch them again */
  dev_slot slots[ENG_MAX_TRACKS * (1 + ENG_MAX_EFFECTS)];
  uint32_t n_slots;
  mdl_id live_tracks[SRV_PLAN_LIVE_TRACKS]; /* played by hand: live in the plan */
  uint32_t n_live_tracks;
  sample *cache;
  size_t n, cap;
};

/* The cache entries one plan borrows; released by the engine's on_free. */
typedef struct borrow {
  srv_plan_ctx *ctx;
  uint32_t n;
  uint32_t idx[];
} borrow;

struct srv_plan_desc {
  srv_plan_ctx *ctx;
  eng_plan_desc d;
  const mdl_project *m;
  const srv_live_value *live;
  uint32_t n_live, rate;
  mdl_time_map map;
  mdl_id ids[ENG_MAX_TRACKS];
  mdl_id dev_ids[ENG_MAX_TRACKS][1 + ENG_MAX_EFFECTS]; /* each device slot's object */
  eng_track_desc tracks[ENG_MAX_TRACKS];
  eng_device_desc dev[ENG_MAX_TRACKS][1 + ENG_MAX_EFFECTS];
  eng_param_value params[ENG_MAX_TRACKS][1 + ENG_MAX_EFFECTS][MDL_DEVICE_PARAMS];
  eng_send_desc sends[ENG_MAX_TRACKS][ENG_MAX_SENDS];
  eng_note_desc *notes[ENG_MAX_TRACKS];
  uint32_t note_cap[ENG_MAX_TRACKS];
  eng_clip_desc *clips[ENG_MAX_TRACKS];
  uint32_t clip_cap[ENG_MAX_TRACKS];
  eng_zone_desc *zones[ENG_MAX_TRACKS];  /* the instrument's sample zones, if a sampler */
  eng_automation *autos[ENG_MAX_TRACKS]; /* each lane's points: malloc'd, freed with pd */
  eng_slot_desc *slots[ENG_MAX_TRACKS];  /* session clips of an instrument track */
  uint32_t slot_cap[ENG_MAX_TRACKS];
  uint32_t slot_first[ENG_MAX_TRACKS][ENG_MAX_SLOTS]; /* each slot's first note in slot_notes */
  eng_note_desc *slot_notes[ENG_MAX_TRACKS];
  eng_clip_desc *slot_clips[ENG_MAX_TRACKS]; /* an audio slot's clip, by slot index */
  uint32_t slot_clip_cap[ENG_MAX_TRACKS];
  uint32_t slot_note_cap[ENG_MAX_TRACKS], n_slot_notes[ENG_MAX_TRACKS];
  uint32_t auto_cap[ENG_MAX_TRACKS];
  eng_beat *beats; /* the metronome's beat grid (d.beats), malloc'd */
  uint32_t beat_cap;
  borrow *borrowed;
  uint32_t borrow_cap;
  bool nomem;
};

/* Makes room for one more element in *ARR (N used of *CAP, each SIZE bytes),
 * doubling from FIRST. Returns false when out of memory. */
static bool grow(void *arr, uint32_t *cap, uint32_t n, size_t size, uint32_t first) {
  void **a = arr;
  if (n < *cap) return true;
  uint32_t c = *cap ? *cap * 2 : first;
  void *b = realloc(*a, c * size);
  if (!b) return false;
  *a = b, *cap = c;
  return true;
}

/* ---- Samples ----------------------------------------------------------------- */

srv_plan_ctx *srv_plan_ctx_create(const char *assets_dir) {
  srv_plan_ctx *ctx = calloc(1, sizeof *ctx);
  if (!ctx || eng_stretch_cache_create(STRETCH_KEEP_BYTES, &ctx->stretched)) {
    free(ctx);
    return NULL;
  }
  char err[256];
  if (assets_dir && sto_asset_store_open(assets_dir, &ctx->assets, err, sizeof err))
    fprintf(stderr, "backline: audio clips will be silent: %s\n", err);
  return ctx;
}

void srv_plan_ctx_destroy(srv_plan_ctx *ctx) {
  if (!ctx) return;
  for (size_t i = 0; i < ctx->n; i++)
    free(ctx->cache[i].frames);
  free(ctx->cache);
  eng_stretch_cache_destroy(ctx->stretched);
  sto_asset_close(ctx->assets);
  free(ctx);
}

/* Frees samples no plan borrows once the cache holds more than it should. */
static void trim(srv_plan_ctx *ctx) {
  uint64_t bytes = 0;
  for (size_t i = 0; i < ctx->n; i++)
    bytes += ctx->cache[i].n_frames * ctx->cache[i].channels * sizeof(float);
  for (size_t i = 0; i < ctx->n && bytes > CACHE_KEEP_BYTES; i++) {
    sample *s = &ctx->cache[i];
    if (s->refs || !s->frames) continue;
    bytes -= s->n_frames * s->channels * sizeof(float);
    free(s->frames);
    *s = (sample){0};
    memcpy(s->id, "-", 2); /* a free slot: matches no asset id */
  }
}

static bool load(srv_plan_ctx *ctx, sample *s, uint32_t rate) {
  sto_asset_info info;
  if (!ctx->assets || sto_asset_render(ctx->assets, s->id, rate, &info, NULL, 0)) return false;
  float *f = malloc((size_t) info.frames * info.channels * sizeof *f);
  if (!f) return false;
  int64_t got = sto_asset_read_frames(ctx->assets, s->id, rate, 0, f, (size_t) info.frames);
  if (got <= 0) {
    free(f);
    return false;
  }
  s->frames = f, s->n_frames = (uint64_t) got, s->channels = info.channels;
  return true;
}

/* The cache index of asset ID at RATE, loading it on first use; -1 when out
 * of memory. A missing asset has an entry too (so it is tried once). */
static long find_sample(srv_plan_ctx *ctx, const char *id, uint32_t rate) {
  for (size_t i = 0; i < ctx->n; i++)
    if (strcmp(ctx->cache[i].id, id) == 0) return (long) i;
  if (ctx->n == ctx->cap) {
    size_t cap = ctx->cap ? ctx->cap * 2 : 16;
    sample *c = realloc(ctx->cache, cap * sizeof *c);
    if (!c) return -1;
    ctx->cache = c, ctx->cap = cap;
  }
  sample *s = &ctx->cache[ctx->n];
  *s = (sample){0};
  snprintf(s->id, sizeof s->id, "%s", id);
  s->missing = !load(ctx, s, rate);
  if (s->missing) fprintf(stderr, "backline: asset %s cannot be read: its clips stay silent\n", id);
  return (long) ctx->n++;
}

static void release(void *ud) {
  borrow *b = ud;
  if (!b) return;
  for (uint32_t i = 0; i < b->n; i++)
    b->ctx->cache[b->idx[i]].refs--;
  free(b);
}

/* Notes that the plan borrows cache entry IDX. */
static bool take(srv_plan_desc *pd, uint32_t idx) {
  borrow *b = pd->borrowed;
  if (!b || b->n == pd->borrow_cap) {
    uint32_t cap = pd->borrow_cap ? pd->borrow_cap * 2 : 16;
    borrow *nb = realloc(b, sizeof *nb + cap * sizeof nb->idx[0]);
    if (!nb) return false;
    if (!b) nb->ctx = pd->ctx, nb->n = 0;
    pd->borrowed = b = nb, pd->borrow_cap = cap;
  }
  b->idx[b->n++] = idx;
  pd->ctx->cache[idx].refs++;
  return true;
}

/* ---- Values -------------------------------------------------------------------- */

/* A number of object ID, the value being dragged if there is one. */
static double num(const srv_plan_desc *pd, mdl_id id, int prop) {
  for (uint32_t i = 0; i < pd->n_live; i++)
    if (pd->live[i].id == id && pd->live[i].prop == prop) return pd->live[i].value;
  return mdl_get_real(pd->m, id, prop);
}

static uint64_t frame_at(const srv_plan_desc *pd, int64_t tick) {
  double f = mdl_time_seconds(&pd->map, tick < 0 ? 0 : tick) * pd->rate;
  return (uint64_t) llround(f);
}

static int track_index(const srv_plan_desc *pd, mdl_id id) {
  for (uint32_t i = 0; i < pd->d.n_tracks; i++)
    if (pd->ids[i] == id) return (int) i;
  return -1;
}

/* ---- Automation ------------------------------------------------------------------ */

/* Lane L (on) of track T drives `target` (device slot and parameter index
 * for ENG_AUTO_PARAM): its points, in start order, at their frames. A lane
 * without points is left out (nothing to follow). */
static bool lane(srv_plan_desc *pd, uint32_t t, mdl_id l, uint32_t target, uint32_t slot,
                 uint32_t param) {
  const mdl_project *m = pd->m;
  eng_track_desc *td = &pd->tracks[t];
  if (!mdl_get_bool(m, l, MDL_PROP_ON) || td->n_automations >= ENG_MAX_AUTOMATIONS) return true;
  uint32_t n = mdl_children(m, l, MDL_TYPE_POINT, NULL, 0);
  if (n == 0) return true;
  if (!grow(&pd->autos[t], &pd->auto_cap[t], td->n_automations, sizeof *pd->autos[t], 8))
    return false;
  mdl_id *ids = malloc(n * sizeof *ids);
  eng_auto_point *pts = malloc(n * sizeof *pts);
  if (!ids || !pts) return free(ids), free(pts), false;
  mdl_children(m, l, MDL_TYPE_POINT, ids, n);
  for (uint32_t i = 0; i < n; i++)
    pts[i] = (eng_auto_point){.frame = frame_at(pd, mdl_get_int(m, ids[i], MDL_PROP_START)),
                              .value = (float) mdl_get_real(m, ids[i], MDL_PROP_VALUE),
                              .curve = (uint32_t) mdl_get_int(m, ids[i], MDL_PROP_CURVE),
                              .tension = (float) mdl_get_real(m, ids[i], MDL_PROP_TENSION)};
  free(ids);
  pd->autos[t][td->n_automations++] = (eng_automation){
      .target = target, .device = slot, .param_id = param, .n_points = n, .points = pts};
  td->automations = pd->autos[t];
  return true;
}

/* The level lanes of send OWNER, the track's send SLOT. */
static bool send_lanes(srv_plan_desc *pd, uint32_t t, mdl_id owner, uint32_t slot) {
  mdl_id ids[8];
  uint32_t n = mdl_children(pd->m, owner, MDL_TYPE_LANE, ids, 8);
  bool ok = true;
  for (uint32_t i = 0; i < n && i < 8 && ok; i++)
    if (mdl_get_int(pd->m, ids[i], MDL_PROP_PARAM) == MDL_PROP_LEVEL)
      ok = lane(pd, t, ids[i], ENG_AUTO_SEND, slot, 0);
  return ok;
}

/* The lanes on object OWNER (track T itself: gain and pan; or its device in
 * SLOT: a parameter index). */
static bool lanes(srv_plan_desc *pd, uint32_t t, mdl_id owner, bool device, uint32_t slot) {
  uint32_t n = mdl_children(pd->m, owner, MDL_TYPE_LANE, NULL, 0);
  if (n == 0) return true;
  mdl_id *ids = malloc(n * sizeof *ids);
  if (!ids) return false;
  mdl_children(pd->m, owner, MDL_TYPE_LANE, ids, n);
  bool ok = true;
  for (uint32_t i = 0; i < n && ok; i++) {
    int64_t param = mdl_get_int(pd->m, ids[i], MDL_PROP_PARAM);
    if (device && param >= 0 && param < MDL_DEVICE_PARAMS)
      ok = lane(pd, t, ids[i], ENG_AUTO_PARAM, slot, (uint32_t) param);
    else if (!device && (param == MDL_PROP_GAIN || param == MDL_PROP_PAN))
      ok = lane(pd, t, ids[i], param == MDL_PROP_GAIN ? ENG_AUTO_GAIN : ENG_AUTO_PAN, 0, 0);
  }
  free(ids);
  return ok;
}

/* ---- Devices -------------------------------------------------------------------- */

static void device(srv_plan_desc *pd, uint32_t t, uint32_t slot, mdl_id id) {
  const mdl_project *m = pd->m;
  int kind = (int) mdl_get_int(m, id, MDL_PROP_KIND);
  const mdl_device_desc *dd = mdl_device_describe(kind);
  eng_param_value *pv = pd->params[t][slot];
  uint32_t n = dd ? dd->n_params : 0;
  for (uint32_t i = 0; i < n; i++) {
    double v = num(pd, id, MDL_PROP_PARAM0 + (int) i);
    if (v < dd->params[i].min) v = dd->params[i].min;
    if (v > dd->params[i].max) v = dd->params[i].max;
    pv[i] = (eng_param_value){i, (float) v};
  }
  mdl_id key = (mdl_id) mdl_get_int(m, id, MDL_PROP_SIDECHAIN);
  pd->dev_ids[t][slot] = id;
  pd->dev[t][slot] = (eng_device_desc){.kind = (uint32_t) kind,
                                       .bypass = mdl_get_bool(m, id, MDL_PROP_BYPASS),
                                       .sidechain_track_id = key,
                                       .n_params = n,
                                       .params = pv};
}

/* The zones of sampler D on track T, with their assets' samples (zones
 * without an asset, or with one that cannot be read, stay out: silence). */
static bool zones(srv_plan_desc *pd, uint32_t t, mdl_id d) {
  const mdl_project *m = pd->m;
  mdl_id ids[ENG_MAX_ZONES];
  uint32_t n = mdl_children(m, d, MDL_TYPE_ZONE, ids, ENG_MAX_ZONES), k = 0;
  if (n > ENG_MAX_ZONES) n = 0; /* more than the engine plays: the sampler stays silent */
  pd->zones[t] = n ? malloc(n * sizeof *pd->zones[t]) : NULL;
  if (n && !pd->zones[t]) return false;
  for (uint32_t i = 0; i < n; i++) {
    uint32_t len;
    const char *asset = mdl_get_str(m, ids[i], MDL_PROP_ASSET, &len);
    long c = len ? find_sample(pd->ctx, asset, pd->rate) : -2;
    if (c == -1) return false;
    if (c < 0 || pd->ctx->cache[c].missing) continue;
    if (!take(pd, (uint32_t) c)) return false;
    const sample *s = &pd->ctx->cache[c];
    uint64_t ls = (uint64_t) mdl_get_int(m, ids[i], MDL_PROP_LOOP_START);
    uint64_t le = (uint64_t) mdl_get_int(m, ids[i], MDL_PROP_LOOP_END);
    bool loop =
        mdl_get_bool(m, ids[i], MDL_PROP_LOOP) && (le ? le : s->n_frames) > ls && le <= s->n_frames;
    pd->zones[t][k++] =
        (eng_zone_desc){.sample = {s->frames, s->n_frames, s->channels, pd->rate},
                        .key_lo = (uint8_t) mdl_get_int(m, ids[i], MDL_PROP_KEY_LO),
                        .key_hi = (uint8_t) mdl_get_int(m, ids[i], MDL_PROP_KEY_HI),
                        .root_key = (uint8_t) mdl_get_int(m, ids[i], MDL_PROP_PITCH),
                        .vel_lo = (uint8_t) mdl_get_int(m, ids[i], MDL_PROP_VEL_LO),
                        .vel_hi = (uint8_t) mdl_get_int(m, ids[i], MDL_PROP_VEL_HI),
                        .mode = (uint8_t) mdl_get_int(m, ids[i], MDL_PROP_MODE),
                        .gain = (float) mdl_get_real(m, ids[i], MDL_PROP_GAIN),
                        .loop = loop,
                        .loop_start = loop ? ls : 0,
                        .loop_end = loop ? le : 0};
  }
  pd->dev[t][0].n_zones = k;
  pd->dev[t][0].zones = k ? pd->zones[t] : NULL;
  return true;
}

/* The instrument (first) and effects (in chain order) of track T, and
 * their automation lanes. */
static bool devices(srv_plan_desc *pd, uint32_t t, bool instrument_ok) {
  mdl_id ids[64];
  uint32_t n = mdl_children(pd->m, pd->ids[t], MDL_TYPE_DEVICE, ids, 64), n_fx = 0;
  eng_track_desc *td = &pd->tracks[t];
  bool ok = true;
  for (uint32_t i = 0; i < n && i < 64 && ok; i++) {
    const mdl_device_desc *dd =
        mdl_device_describe((int) mdl_get_int(pd->m, ids[i], MDL_PROP_KIND));
    if (!dd) continue;
    if (dd->instrument) {
      if (!instrument_ok || td->instrument) continue;
      device(pd, t, 0, ids[i]);
      td->instrument = &pd->dev[t][0];
      ok = lanes(pd, t, ids[i], true, 0);
      if (ok && dd->kind == MDL_DEV_SAMPLER) ok = zones(pd, t, ids[i]);
    } else if (n_fx < ENG_MAX_EFFECTS) {
      device(pd, t, 1 + n_fx, ids[i]);
      ok = lanes(pd, t, ids[i], true, 1 + n_fx++);
    }
  }
  td->n_effects = n_fx;
  td->effects = n_fx ? &pd->dev[t][1] : NULL;
  return ok;
}

/* ---- Clips ---------------------------------------------------------------------- */

static bool add_note(srv_plan_desc *pd, uint32_t t, eng_note_desc note) {
  if (pd->tracks[t].n_notes >= ENG_MAX_NOTES) return true; /* the engine's limit: drop */
  if (!grow(&pd->notes[t], &pd->note_cap[t], pd->tracks[t].n_notes, sizeof note, 256)) return false;
  pd->notes[t][pd->tracks[t].n_notes++] = note;
  return true;
}

/* Groove: a note's step within the groove's grid shifts it and changes its velocity. */
static void groove(const srv_plan_desc *pd, mdl_id g, int64_t *tick, int *velocity) {
  int64_t grid = mdl_get_int(pd->m, g, MDL_PROP_GRID);
  int64_t steps = mdl_get_int(pd->m, g, MDL_PROP_STEPS);
  if (grid < 1 || steps < 1) return;
  int64_t step = (*tick + grid / 2) / grid % steps;
  *tick += (int64_t) llround(mdl_get_real(pd->m, g, MDL_PROP_SHIFT0 + (int) step) * (double) grid);
  *velocity += (int) mdl_get_int(pd->m, g, MDL_PROP_ACCENT0 + (int) step);
  if (*tick < 0) *tick = 0;
  *velocity = *velocity < 1 ? 1 : *velocity > 127 ? 127 : *velocity;
}

/* The notes of MIDI clip C on track T: content ticks from the clip's
 * start, cut at its length; a looping clip repeats [loop_start, loop_end). */
static bool midi_clip(srv_plan_desc *pd, uint32_t t, mdl_id c) {
  const mdl_project *m = pd->m;
  int64_t start = mdl_get_int(m, c, MDL_PROP_START), len = mdl_get_int(m, c, MDL_PROP_LENGTH);
  bool loop = mdl_get_bool(m, c, MDL_PROP_LOOP);
  int64_t ls = mdl_get_int(m, c, MDL_PROP_LOOP_START), le = mdl_get_int(m, c, MDL_PROP_LOOP_END);
  mdl_id g = (mdl_id) mdl_get_int(m, c, MDL_PROP_GROOVE);
  uint32_t n = mdl_children(m, c, MDL_TYPE_NOTE, NULL, 0);
  mdl_id *ids = malloc((n ? n : 1) * sizeof *ids);
  if (!ids) return false;
  mdl_children(m, c, MDL_TYPE_NOTE, ids, n);
  bool ok = true;
  int64_t period = loop ? le - ls : len;
  for (int64_t base = 0; ok && base < len && period > 0; base += period) {
    for (uint32_t i = 0; i < n && ok; i++) {
      int64_t at = mdl_get_int(m, ids[i], MDL_PROP_START),
              dur = mdl_get_int(m, ids[i], MDL_PROP_LENGTH);
      if (loop && (at < ls || at >= le)) continue;
      int64_t pos = base + at - (loop ? ls : 0);
      if (pos >= len) continue;
      if (pos + dur > len) dur = len - pos;
      int velocity = (int) mdl_get_int(m, ids[i], MDL_PROP_VELOCITY);
      if (g) groove(pd, g, &pos, &velocity);
      uint64_t f0 = frame_at(pd, start + pos), f1 = frame_at(pd, start + pos + dur);
      eng_note_desc note = {f0, f1 > f0 ? f1 - f0 : 1,
                            (uint8_t) mdl_get_int(m, ids[i], MDL_PROP_PITCH), (uint8_t) velocity};
      ok = add_note(pd, t, note);
    }
    if (!loop) break;
  }
  free(ids);
  return ok;
}

static bool add_clip(srv_plan_desc *pd, uint32_t t, eng_clip_desc clip) {
  if (pd->tracks[t].n_clips >= ENG_MAX_CLIPS) return true;
  if (!grow(&pd->clips[t], &pd->clip_cap[t], pd->tracks[t].n_clips, sizeof clip, 16)) return false;
  pd->clips[t][pd->tracks[t].n_clips++] = clip;
  return true;
}

/* Audio clip C as the engine plays it, placed at tick START: its asset's
 * samples at the engine's rate. 1: *out is filled; 0: nothing to play
 * (empty, missing, or starting past its audio); -1: out of memory. */
static int audio_desc(srv_plan_desc *pd, mdl_id c, int64_t start, eng_clip_desc *out) {
  const mdl_project *m = pd->m;
  uint32_t id_len;
  const char *asset = mdl_get_str(m, c, MDL_PROP_ASSET, &id_len);
  if (!id_len) return 0; /* an empty clip */
  long k = find_sample(pd->ctx, asset, pd->rate);
  if (k < 0) return -1;
  const sample *s = &pd->ctx->cache[k];
  if (s->missing) return 0;
  int64_t len = mdl_get_int(m, c, MDL_PROP_LENGTH);
  uint64_t f0 = frame_at(pd, start), f1 = frame_at(pd, start + len);
  uint64_t offset = (uint64_t) mdl_get_int(m, c, MDL_PROP_OFFSET);
  if (offset >= s->n_frames) return 0; /* starts past the end of its audio: silent */
  if (!take(pd, (uint32_t) k)) return -1;
  eng_clip_desc clip = {.start_frame = f0,
                        .length_frames = f1 > f0 ? f1 - f0 : 1,
                        .sample = {s->frames, s->n_frames, s->channels, pd->rate},
                        .offset_frames = offset,
                        .gain = (float) num(pd, c, MDL_PROP_GAIN)};
  uint64_t fin = frame_at(pd, start + mdl_get_int(m, c, MDL_PROP_FADE_IN)) - f0;
  uint64_t fout = f1 - frame_at(pd, start + len - mdl_get_int(m, c, MDL_PROP_FADE_OUT));
  if (fin + fout <= clip.length_frames) clip.fade_in_frames = fin, clip.fade_out_frames = fout;
  if (mdl_get_bool(m, c, MDL_PROP_LOOP)) {
    int64_t ls = mdl_get_int(m, c, MDL_PROP_LOOP_START), le = mdl_get_int(m, c, MDL_PROP_LOOP_END);
    uint64_t skip = frame_at(pd, start + ls) - f0, loop = frame_at(pd, start + le) - f0 - skip;
    if (offset + skip + loop <= s->n_frames && loop >= 1)
      clip.loop = true, clip.offset_frames = offset + skip, clip.loop_frames = loop;
  }
  double source = mdl_get_real(m, c, MDL_PROP_SOURCE_BPM);
  if (mdl_get_bool(m, c, MDL_PROP_WARP) && source > 0) {
    double ratio = source / mdl_time_bpm(&pd->map, start);
    if (ratio >= ENG_MIN_STRETCH && ratio <= ENG_MAX_STRETCH && fabs(ratio - 1) > 1e-9)
      clip.stretch = ratio;
  }
  *out = clip;
  return 1;
}

/* Audio clip C on track T, on the timeline. */
static bool audio_clip(srv_plan_desc *pd, uint32_t t, mdl_id c) {
  eng_clip_desc clip;
  int rc = audio_desc(pd, c, mdl_get_int(pd->m, c, MDL_PROP_START), &clip);
  return rc < 0 ? false : rc == 0 || add_clip(pd, t, clip);
}

/* The audio of session clip C as its slot plays it: from the loop's start
 * (when it loops) for the slot's LENGTH frames; a clip that does not loop
 * keeps its fades, a looping one plays without a break. */
static int slot_audio(srv_plan_desc *pd, mdl_id c, uint64_t length, eng_clip_desc *out) {
  int rc = audio_desc(pd, c, 0, out);
  if (rc <= 0) return rc;
  out->length_frames = length;
  if (out->loop) out->fade_in_frames = out->fade_out_frames = 0;
  if (out->fade_in_frames + out->fade_out_frames > length)
    out->fade_in_frames = out->fade_out_frames = 0;
  return 1;
}

/* Session clip C of track T: its slot (the scene's position among the
 * project's scenes), length (its loop, else all of it) and notes in frames
 * from its start (tempo map from the project's start), or on an audio
 * track its audio; the engine loops it once launched (eng_engine_launch). */
static bool session_clip(srv_plan_desc *pd, uint32_t t, mdl_id c) {
  const mdl_project *m = pd->m;
  eng_track_desc *td = &pd->tracks[t];
  mdl_id scene = (mdl_id) mdl_get_int(m, c, MDL_PROP_SCENE), scenes[ENG_MAX_SLOTS];
  uint32_t n_sc = mdl_children(m, MDL_ID_PROJECT, MDL_TYPE_SCENE, scenes, ENG_MAX_SLOTS), slot = 0;
  while (slot < n_sc && slot < ENG_MAX_SLOTS && scenes[slot] != scene)
    slot++;
  if (slot >= n_sc || slot >= ENG_MAX_SLOTS || td->n_slots >= ENG_MAX_SLOTS) return true;
  bool loop = mdl_get_bool(m, c, MDL_PROP_LOOP);
  int64_t from = loop ? mdl_get_int(m, c, MDL_PROP_LOOP_START) : 0;
  int64_t to = loop ? mdl_get_int(m, c, MDL_PROP_LOOP_END) : mdl_get_int(m, c, MDL_PROP_LENGTH);
  uint64_t length = to > from ? frame_at(pd, to - from) : 0;
  if (!length) return true;
  if (!grow(&pd->slots[t], &pd->slot_cap[t], td->n_slots, sizeof *pd->slots[t], 8)) return false;
  if (!grow(&pd->slot_clips[t], &pd->slot_clip_cap[t], td->n_slots, sizeof(eng_clip_desc), 8))
    return false;
  /* Its follow action, after its follow time (0: one pass of the clip). */
  uint32_t follow = (uint32_t) mdl_get_int(m, c, MDL_PROP_FOLLOW);
  int64_t after = mdl_get_int(m, c, MDL_PROP_FOLLOW_AFTER);
  uint64_t follow_frames = after > 0 ? frame_at(pd, after) : length;
  if (td->audio) { /* an audio clip: the slot plays its audio, it has no notes */
    int rc = slot_audio(pd, c, length, &pd->slot_clips[t][td->n_slots]);
    if (rc <= 0) return rc == 0;
    pd->slots[t][td->n_slots++] = (eng_slot_desc){.slot = slot,
                                                  .length_frames = length,
                                                  .n_clips = 1,
                                                  .follow = follow,
                                                  .follow_frames = follow_frames};
    return true;
  }
  pd->slot_first[t][td->n_slots] = pd->n_slot_notes[t];
  eng_slot_desc *sd = &pd->slots[t][td->n_slots++];
  *sd = (eng_slot_desc){
      .slot = slot, .length_frames = length, .follow = follow, .follow_frames = follow_frames};
  mdl_id g = (mdl_id) mdl_get_int(m, c, MDL_PROP_GROOVE);
  uint32_t n = mdl_children(m, c, MDL_TYPE_NOTE, NULL, 0);
  mdl_id *ids = malloc((n ? n : 1) * sizeof *ids);
  if (!ids) return false;
  mdl_children(m, c, MDL_TYPE_NOTE, ids, n);
  bool ok = true;
  for (uint32_t i = 0; i < n && ok && sd->n_notes < ENG_MAX_NOTES; i++) {
    int64_t pos = mdl_get_int(m, ids[i], MDL_PROP_START) - from;
    int64_t dur = mdl_get_int(m, ids[i], MDL_PROP_LENGTH);
    if (pos < 0 || pos >= to - from) continue;
    int velocity = (int) mdl_get_int(m, ids[i], MDL_PROP_VELOCITY);
    if (g) groove(pd, g, &pos, &velocity);
    uint64_t f0 = frame_at(pd, pos), f1 = frame_at(pd, pos + dur);
    eng_note_desc note = {f0, f1 > f0 ? f1 - f0 : 1,
                          (uint8_t) mdl_get_int(m, ids[i], MDL_PROP_PITCH), (uint8_t) velocity};
    ok = grow(&pd->slot_notes[t], &pd->slot_note_cap[t], pd->n_slot_notes[t], sizeof note, 64);
    if (ok) pd->slot_notes[t][pd->n_slot_notes[t]++] = note, sd->n_notes++;
  }
  free(ids);
  return ok;
}

/* The arrangement's clips on track T; session clips (a scene's slot)
 * become its slots. */
static bool clips(srv_plan_desc *pd, uint32_t t, bool audio) {
  uint32_t n = mdl_children(pd->m, pd->ids[t], MDL_TYPE_CLIP, NULL, 0);
  mdl_id *ids = malloc((n ? n : 1) * sizeof *ids);
  if (!ids) return false;
  mdl_children(pd->m, pd->ids[t], MDL_TYPE_CLIP, ids, n);
  bool ok = true;
  for (uint32_t i = 0; i < n && ok; i++) {
    if (mdl_get_bool(pd->m, ids[i], MDL_PROP_MUTE)) continue;
    if (mdl_get_int(pd->m, ids[i], MDL_PROP_SCENE))
      ok = session_clip(pd, t, ids[i]);
    else
      ok = audio ? audio_clip(pd, t, ids[i]) : midi_clip(pd, t, ids[i]);
  }
  free(ids);
  return ok;
}

/* ---- Beat grid ------------------------------------------------------------------- */

/* The metronome's beats from the tempo map: each beat of the meter in force
 * (a 7/8 bar has seven eighth-note beats) at the frame mdl_time gives, up to
 * the first beat at or after the map's last tempo or meter change; the
 * engine goes on from there at the last tempo in the last meter. */
static bool beat_grid(srv_plan_desc *pd) {
  const mdl_time_map *m = &pd->map;
  int64_t last = m->at[m->n - 1];
  if (m->bar_tick[m->n_meters - 1] > last) last = m->bar_tick[m->n_meters - 1];
  uint32_t n = 0;
  int64_t tick = 0, beat = MDL_PPQ;
  for (uint32_t k = 0; k < m->n_meters; k++) {
    int64_t bar_ticks = (int64_t) m->num[k] * 4 * MDL_PPQ / m->den[k];
    beat = 4 * MDL_PPQ / m->den[k];
    for (int64_t bar = m->bar[k]; k + 1 >= m->n_meters || bar < m->bar[k + 1]; bar++) {
      int64_t at = m->bar_tick[k] + (bar - m->bar[k]) * bar_ticks;
      for (uint32_t i = 0; i < m->num[k]; i++) {
        tick = at + i * beat;
        if (!grow(&pd->beats, &pd->beat_cap, n, sizeof *pd->beats, 64)) return false;
        pd->beats[n++] = (eng_beat){frame_at(pd, tick), (uint16_t) i, m->num[k]};
        if (tick >= last || n == ENG_MAX_BEATS) goto tail;
      }
    }
  }
tail:
  pd->d.n_beats = n;
  pd->d.beats = pd->beats;
  pd->d.tail_frame = mdl_time_seconds(m, tick) * pd->rate;
  pd->d.tail_beat_frames = (double) beat * 60.0 / (mdl_time_bpm(m, tick) * MDL_PPQ) * pd->rate;
  return true;
}

/* ---- Tracks --------------------------------------------------------------------- */

static bool track(srv_plan_desc *pd, uint32_t t) {
  const mdl_project *m = pd->m;
  mdl_id id = pd->ids[t];
  int kind = (int) mdl_get_int(m, id, MDL_PROP_KIND);
  eng_track_desc *td = &pd->tracks[t];
  *td = (eng_track_desc){.track_id = id,
                         .gain = (float) num(pd, id, MDL_PROP_GAIN),
                         .pan = (float) num(pd, id, MDL_PROP_PAN),
                         .mute = mdl_get_bool(m, id, MDL_PROP_MUTE),
                         .solo = mdl_get_bool(m, id, MDL_PROP_SOLO)};
  td->bus = kind == MDL_TRACK_GROUP || kind == MDL_TRACK_RETURN;
  td->audio = kind == MDL_TRACK_AUDIO;
  for (uint32_t i = 0; i < pd->ctx->n_live_tracks && kind == MDL_TRACK_INSTRUMENT; i++)
    td->live = td->live || pd->ctx->live_tracks[i] == id;
  bool ok = devices(pd, t, kind == MDL_TRACK_INSTRUMENT) && lanes(pd, t, id, false, 0);
  ok = ok && (td->bus || clips(pd, t, td->audio));
  if (!td->instrument) td->n_notes = 0; /* notes need an instrument: the test tone plays none */
  td->notes = pd->notes[t];
  td->clips = pd->clips[t];
  td->slots = pd->slots[t];
  for (uint32_t k = 0; k < td->n_slots; k++) { /* slot_notes may have moved while growing */
    eng_slot_desc *sd = &pd->slots[t][k];
    if (sd->n_clips) {
      sd->clips = &pd->slot_clips[t][k];
      continue;
    }
    sd->notes = td->instrument ? pd->slot_notes[t] + pd->slot_first[t][k] : NULL;
    if (!td->instrument) sd->n_notes = 0; /* as notes: the test tone plays none */
  }
  return ok;
}

/* Routing after every track is known: outputs, sends (and their level
 * lanes), sidechains that name tracks outside the plan fall back to master
 * or go. */
static bool routing(srv_plan_desc *pd, uint32_t t) {
  const mdl_project *m = pd->m;
  eng_track_desc *td = &pd->tracks[t];
  mdl_id out = (mdl_id) mdl_get_int(m, pd->ids[t], MDL_PROP_OUTPUT);
  if (!out && mdl_parent_of(m, pd->ids[t]) != MDL_ID_PROJECT) out = mdl_parent_of(m, pd->ids[t]);
  td->output_track_id = out && track_index(pd, out) >= 0 ? out : 0;
  mdl_id ids[ENG_MAX_SENDS];
  uint32_t n = mdl_children(m, pd->ids[t], MDL_TYPE_SEND, ids, ENG_MAX_SENDS), k = 0;
  for (uint32_t i = 0; i < n && i < ENG_MAX_SENDS; i++) {
    mdl_id to = (mdl_id) mdl_get_int(m, ids[i], MDL_PROP_TARGET);
    if (track_index(pd, to) < 0) continue;
    pd->sends[t][k] = (eng_send_desc){to, (float) num(pd, ids[i], MDL_PROP_LEVEL),
                                      mdl_get_bool(m, ids[i], MDL_PROP_PRE)};
    if (!send_lanes(pd, t, ids[i], k++)) return false;
  }
  td->n_sends = k;
  td->sends = k ? pd->sends[t] : NULL;
  for (uint32_t d = 0; d < 1 + ENG_MAX_EFFECTS; d++)
    if (pd->dev[t][d].sidechain_track_id && track_index(pd, pd->dev[t][d].sidechain_track_id) < 0)
      pd->dev[t][d].sidechain_track_id = 0;
  return true;
}

/* The master track as a bus at index T when it does more than a gain: it
 * has effects, lanes or a pan. Then every track that went to master goes
 * through it (the click does not), and the engine's master gain is 1. */
static bool master_bus(srv_plan_desc *pd, uint32_t t, bool *used) {
  const mdl_project *m = pd->m;
  mdl_id id = MDL_ID_MASTER;
  *used = false;
  if (!mdl_children(m, id, MDL_TYPE_DEVICE, NULL, 0) &&
      !mdl_children(m, id, MDL_TYPE_LANE, NULL, 0) && num(pd, id, MDL_PROP_PAN) == 0.0)
    return true;
  if (t >= ENG_MAX_TRACKS) return true; /* no room: master keeps its gain only */
  *used = true;
  pd->ids[t] = id;
  pd->d.n_tracks = t + 1;
  pd->tracks[t] = (eng_track_desc){.track_id = id,
                                   .gain = (float) num(pd, id, MDL_PROP_GAIN),
                                   .pan = (float) num(pd, id, MDL_PROP_PAN),
                                   .mute = mdl_get_bool(m, id, MDL_PROP_MUTE),
                                   .bus = true};
  return devices(pd, t, false) && lanes(pd, t, id, false, 0);
}

void srv_plan_desc_free(srv_plan_desc *pd) {
  if (!pd) return;
  for (uint32_t t = 0; t < ENG_MAX_TRACKS; t++) {
    free(pd->notes[t]), free(pd->clips[t]), free(pd->slots[t]), free(pd->slot_notes[t]);
    free(pd->slot_clips[t]);
    for (uint32_t k = 0; k < pd->tracks[t].n_automations; k++)
      free((void *) pd->autos[t][k].points);
    free(pd->autos[t]);
    free(pd->zones[t]);
  }
  free(pd->beats);
  free(pd);
}

/* Describes M; the samples it borrows are released by d.on_free, which the
 * engine calls once the plan compiled from it is freed (or not made). */
static int describe(srv_plan_ctx *ctx, const mdl_project *m, uint32_t rate,
                    const srv_live_value *live, uint32_t n_live, srv_plan_desc **out) {
  *out = NULL;
  srv_plan_desc *pd = calloc(1, sizeof *pd);
  if (!pd) return SRV_ERR_NOMEM;
  trim(ctx);
  pd->ctx = ctx, pd->m = m, pd->live = live, pd->n_live = n_live, pd->rate = rate;
  mdl_time_map_build(m, &pd->map);
  uint32_t n = mdl_tracks(m, pd->ids, ENG_MAX_TRACKS);
  pd->d.n_tracks = n > ENG_MAX_TRACKS ? ENG_MAX_TRACKS : n; /* the rest are not heard */
  bool ok = true, through_bus = false;
  for (uint32_t t = 0; t < pd->d.n_tracks && ok; t++)
    ok = track(pd, t);
  uint32_t n_plain = pd->d.n_tracks;
  ok = ok && master_bus(pd, n_plain, &through_bus);
  for (uint32_t t = 0; t < n_plain && ok; t++) {
    ok = routing(pd, t);
    if (through_bus && !pd->tracks[t].output_track_id)
      pd->tracks[t].output_track_id = MDL_ID_MASTER;
  }
  double master = through_bus ? 1.0 : num(pd, MDL_ID_MASTER, MDL_PROP_GAIN);
  uint64_t loop0 = frame_at(pd, mdl_get_int(m, MDL_ID_PROJECT, MDL_PROP_LOOP_START));
  uint64_t loop1 = frame_at(pd, mdl_get_int(m, MDL_ID_PROJECT, MDL_PROP_LOOP_END));
  pd->d = (eng_plan_desc){
      .sample_rate = rate,
      .tempo_bpm = mdl_get_real(m, MDL_ID_PROJECT, MDL_PROP_TEMPO),
      .beats_per_bar = (uint32_t) mdl_get_int(m, MDL_ID_PROJECT, MDL_PROP_TS_NUM),
      .master_gain =
          !through_bus && mdl_get_bool(m, MDL_ID_MASTER, MDL_PROP_MUTE) ? 0.0f : (float) master,
      .metronome = mdl_get_bool(m, MDL_ID_PROJECT, MDL_PROP_METRONOME),
      .n_tracks = pd->d.n_tracks,
      .tracks = pd->tracks,
      .loop = mdl_get_bool(m, MDL_ID_PROJECT, MDL_PROP_LOOP) && loop1 > loop0,
      .loop_start_frame = loop0,
      .loop_end_frame = loop1,
      .on_free = release,
      .on_free_ud = pd->borrowed,
      .stretch_cache = ctx->stretched};
  pd->borrowed = NULL; /* the plan owns the borrow from here on */
  ok = ok && beat_grid(pd);
  if (!ok) {
    release(pd->d.on_free_ud);
    srv_plan_desc_free(pd);
    return SRV_ERR_NOMEM;
  }
  *out = pd;
  return 0;
}

int srv_plan_describe(srv_plan_ctx *ctx, const mdl_project *m, uint32_t sample_rate,
                      srv_plan_desc **out, const eng_plan_desc **desc) {
  int rc = describe(ctx, m, sample_rate, NULL, 0, out);
  *desc = rc ? NULL : &(*out)->d;
  return rc;
}

int srv_plan_build(srv_plan_ctx *ctx, const mdl_project *m, uint32_t sample_rate,
                   const srv_live_value *live, uint32_t n_live, eng_plan **out, char *why,
                   size_t why_len) {
  *out = NULL;
  srv_plan_desc *pd;
  int rc = describe(ctx, m, sample_rate, live, n_live, &pd);
  if (rc) return snprintf(why, why_len, "out of memory"), rc;
  rc = eng_plan_compile(&pd->d, out, why, why_len);
  ctx->n_slots = 0;
  for (uint32_t t = 0; !rc && t < pd->d.n_tracks; t++) {
    const eng_track_desc *td = &pd->tracks[t];
    for (uint32_t s = td->instrument ? 0 : 1; s <= td->n_effects; s++)
      ctx->slots[ctx->n_slots++] = (dev_slot){pd->dev_ids[t][s], td->track_id, s};
  }
  srv_plan_desc_free(pd);
  return rc;
}

void srv_plan_live_tracks(srv_plan_ctx *ctx, const mdl_id *ids, uint32_t n) {
  ctx->n_live_tracks = n < SRV_PLAN_LIVE_TRACKS ? n : SRV_PLAN_LIVE_TRACKS;
  memcpy(ctx->live_tracks, ids, ctx->n_live_tracks * sizeof *ids);
}

bool srv_plan_device_slot(const srv_plan_ctx *ctx, mdl_id device, mdl_id *track_id,
                          uint32_t *slot) {
  for (uint32_t i = 0; i < ctx->n_slots; i++)
    if (ctx->slots[i].device == device) {
      *track_id = ctx->slots[i].track, *slot = ctx->slots[i].slot;
      return true;
    }
  return false;
}
