/* eng_plan.c: compiles an eng_plan_desc into an immutable eng_plan
 * (control thread): validation, the node graph, its topological sort, one
 * arena for node states, buffers and note events. */
#include "engine/eng_plan.h"
#include "engine/eng_err.h"
#include "engine/eng_plan_int.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PI 3.14159265358979323846

/* Sound of the skeleton's voices (moved here from eng_engine.c: the plan
 * now owns the constants its nodes use). */
#define ATTACK_S    0.002 /* linear attack from 0 at the beat onset */
#define RELEASE_S   0.002 /* linear fade to exactly 0 on the frame before the next onset */
#define DECAY_TAU_S 0.15  /* exponential decay time constant */
#define NOTE_TAUS   7.0   /* the note is cut to 0 after this many taus (-61 dB) */
#define CLICK_S     0.030 /* metronome click length */
#define CLICK_TAU_S 0.005 /* click decay time constant */

#define ALIGN 64 /* arena alignment of each node state and of the buffers */

static int why_set(char *why, size_t len, int rc, const char *fmt, ...) {
  if (why && len) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, len, fmt, ap);
    va_end(ap);
  }
  return rc;
}

/* Adds a warning to `why` on success, after what is there ("; "). */
static void why_add(char *why, size_t len, const char *msg) {
  if (!why || !len) return;
  size_t at = strlen(why);
  if (at + 1 < len) snprintf(why + at, len - at, "%s%s", at ? "; " : "", msg);
}

static bool in_range_f(float x, float lo, float hi) {
  return isfinite(x) && x >= lo && x <= hi;
}

static int validate_device(const eng_device_desc *dv, bool as_instrument, uint64_t tid,
                           uint32_t slot, char *why, size_t len) {
  const char *where = as_instrument ? "instrument" : "effect";
  const eng_node_class *cls = eng__node_class(dv->kind);
  if (!cls)
    return why_set(why, len, ENG_ERR_UNKNOWN_NODE, "track %llu %s %u: unknown node kind %u",
                   (unsigned long long) tid, where, slot, dv->kind);
  if (cls->instrument != as_instrument)
    return why_set(why, len, ENG_ERR_INVALID, "track %llu %s %u: %s is %s",
                   (unsigned long long) tid, where, slot, cls->name,
                   as_instrument ? "not an instrument" : "an instrument");
  if (dv->n_params > 0 && !dv->params)
    return why_set(why, len, ENG_ERR_INVALID, "track %llu %s %u (%s): params is NULL",
                   (unsigned long long) tid, where, slot, cls->name);
  if (dv->n_params > ENG_MAX_PARAMS)
    return why_set(why, len, ENG_ERR_PARAM, "track %llu %s %u (%s): %u parameters (at most %u)",
                   (unsigned long long) tid, where, slot, cls->name, dv->n_params, ENG_MAX_PARAMS);
  for (uint32_t k = 0; k < dv->n_params; k++) {
    const eng_param_value *pv = &dv->params[k];
    if (pv->id >= cls->n_params)
      return why_set(why, len, ENG_ERR_PARAM, "track %llu %s %u (%s): unknown parameter id %u",
                     (unsigned long long) tid, where, slot, cls->name, pv->id);
    const eng_param_info *pi = &cls->params[pv->id];
    if (!in_range_f(pv->value, pi->min, pi->max))
      return why_set(why, len, ENG_ERR_PARAM,
                     "track %llu %s %u (%s): parameter %u (%s) = %g is outside %g..%g",
                     (unsigned long long) tid, where, slot, cls->name, pv->id, pi->name,
                     (double) pv->value, (double) pi->min, (double) pi->max);
  }
  if (dv->n_zones && dv->kind != ENG_NODE_SAMPLER)
    return why_set(why, len, ENG_ERR_INVALID, "track %llu %s %u (%s): only a sampler takes zones",
                   (unsigned long long) tid, where, slot, cls->name);
  if (dv->sidechain_track_id && !cls->sidechain)
    return why_set(why, len, ENG_ERR_GRAPH, "track %llu %s %u (%s) takes no sidechain",
                   (unsigned long long) tid, where, slot, cls->name);
  return ENG_OK;
}

/* Index of track `id` in d, or UINT32_MAX. */
static uint32_t index_of(const eng_plan_desc *d, uint64_t id) {
  for (uint32_t j = 0; j < d->n_tracks; j++)
    if (d->tracks[j].track_id == id) return j;
  return UINT32_MAX;
}

/* An output (id 0 = master) or a send target of track i must be a bus of
 * the plan other than track i. */
static int check_target(const eng_plan_desc *d, uint32_t i, uint64_t id, const char *what,
                        char *why, size_t len) {
  if (id == 0 && what[0] == 'o') return ENG_OK;
  uint32_t j = index_of(d, id);
  const char *bad = j == UINT32_MAX     ? "not in the plan"
                    : j == i            ? "the track itself"
                    : !d->tracks[j].bus ? "not a bus"
                                        : NULL;
  if (!bad) return ENG_OK;
  return why_set(why, len, ENG_ERR_GRAPH, "track %llu: %s to track %llu, which is %s",
                 (unsigned long long) d->tracks[i].track_id, what, (unsigned long long) id, bad);
}

/* Track-level signal graph: edge i -> j when j takes i's signal (i routed to
 * bus j, a send from i to j, or i keys a sidechain on j). Every node-level
 * dependency follows one of these edges, so the node graph has a cycle
 * exactly when this one does. */
typedef struct route_dfs {
  const eng_plan_desc *d;
  bool edge[ENG_MAX_TRACKS][ENG_MAX_TRACKS];
  uint8_t color[ENG_MAX_TRACKS]; /* 0 unseen, 1 on the stack, 2 done */
  uint32_t stack[ENG_MAX_TRACKS];
  uint32_t depth;
  uint32_t back; /* the track the cycle returns to */
} route_dfs;

static bool dfs_visit(route_dfs *s, uint32_t u) {
  s->color[u] = 1;
  s->stack[s->depth++] = u;
  for (uint32_t v = 0; v < s->d->n_tracks; v++) {
    if (!s->edge[u][v]) continue;
    if (s->color[v] == 1) {
      s->back = v;
      return true;
    }
    if (s->color[v] == 0 && dfs_visit(s, v)) return true;
  }
  s->color[u] = 2;
  s->depth--;
  return false;
}

static int find_cycle(const eng_plan_desc *d, char *why, size_t len) {
  route_dfs *s = calloc(1, sizeof *s);
  if (!s) return why_set(why, len, ENG_ERR_NOMEM, "out of memory");
  s->d = d;
  for (uint32_t i = 0; i < d->n_tracks; i++) {
    const eng_track_desc *t = &d->tracks[i];
    if (t->output_track_id) s->edge[i][index_of(d, t->output_track_id)] = true;
    for (uint32_t k = 0; k < t->n_sends; k++)
      s->edge[i][index_of(d, t->sends[k].bus_track_id)] = true;
    for (uint32_t k = 0; k < t->n_effects; k++)
      if (t->effects[k].sidechain_track_id)
        s->edge[index_of(d, t->effects[k].sidechain_track_id)][i] = true;
  }
  int rc = ENG_OK;
  for (uint32_t i = 0; i < d->n_tracks && rc == ENG_OK; i++) {
    if (s->color[i] || !dfs_visit(s, i)) continue;
    char path[512];
    size_t at = 0;
    uint32_t from = 0;
    while (s->stack[from] != s->back)
      from++;
    for (uint32_t k = from; k <= s->depth && at < sizeof path; k++) {
      uint32_t x = k < s->depth ? s->stack[k] : s->back;
      int w =
          snprintf(path + at, sizeof path - at, "%s%s %llu", k > from ? " -> " : "",
                   d->tracks[x].bus ? "bus" : "track", (unsigned long long) d->tracks[x].track_id);
      at += w > 0 ? (size_t) w : 0;
    }
    rc = why_set(why, len, ENG_ERR_GRAPH, "routing, sends and sidechains form a cycle: %s", path);
  }
  free(s);
  return rc;
}

static bool note_ok(const eng_note_desc *nd) {
  return nd->length_frames && nd->key <= 127 && nd->velocity && nd->velocity <= 127 &&
         nd->start_frame <= UINT64_MAX / 2 && nd->length_frames <= UINT64_MAX / 2;
}

/* Slot sl's audio clips as a track of its own (eng_plan_media.c's checks
 * and compilation take a track). */
static eng_track_desc slot_clips(const eng_track_desc *t, const eng_slot_desc *sl) {
  return (eng_track_desc){
      .track_id = t->track_id, .audio = true, .n_clips = sl->n_clips, .clips = sl->clips};
}

static int validate_slots(const eng_track_desc *t, char *why, size_t len) {
  unsigned long long tid = (unsigned long long) t->track_id;
  if (t->n_slots > ENG_MAX_SLOTS)
    return why_set(why, len, ENG_ERR_INVALID, "track %llu: %u slots (at most %u)", tid, t->n_slots,
                   ENG_MAX_SLOTS);
  if (t->n_slots > 0 && !t->slots)
    return why_set(why, len, ENG_ERR_INVALID, "track %llu: slots is NULL", tid);
  for (uint32_t k = 0; k < t->n_slots; k++) {
    const eng_slot_desc *sl = &t->slots[k];
    for (uint32_t j = 0; j < k; j++)
      if (t->slots[j].slot == sl->slot)
        return why_set(why, len, ENG_ERR_INVALID, "track %llu: slot %u appears twice", tid,
                       sl->slot);
    if (sl->length_frames == 0 || sl->length_frames > UINT64_MAX / 4)
      return why_set(why, len, ENG_ERR_INVALID, "track %llu slot %u: length %llu is invalid", tid,
                     sl->slot, (unsigned long long) sl->length_frames);
    if (sl->n_notes > ENG_MAX_NOTES)
      return why_set(why, len, ENG_ERR_INVALID, "track %llu slot %u: %u notes (at most %u)", tid,
                     sl->slot, sl->n_notes, ENG_MAX_NOTES);
    if (sl->n_notes > 0 && (!sl->notes || !t->instrument || t->bus))
      return why_set(why, len, ENG_ERR_INVALID, "track %llu slot %u: %s", tid, sl->slot,
                     sl->notes ? "notes but no instrument" : "notes is NULL");
    for (uint32_t i = 0; i < sl->n_notes; i++)
      if (!note_ok(&sl->notes[i]))
        return why_set(why, len, ENG_ERR_INVALID, "track %llu slot %u note %u is invalid", tid,
                       sl->slot, i);
    if (sl->follow > ENG_FOLLOW_OTHER ||
        (sl->follow && (sl->follow_frames == 0 || sl->follow_frames > UINT64_MAX / 4)))
      return why_set(why, len, ENG_ERR_INVALID,
                     "track %llu slot %u: follow action %u after %llu frames is invalid", tid,
                     sl->slot, sl->follow, (unsigned long long) sl->follow_frames);
    if (sl->n_clips && !t->audio)
      return why_set(why, len, ENG_ERR_INVALID,
                     "track %llu slot %u: audio clips need an audio track", tid, sl->slot);
    eng_track_desc clips = slot_clips(t, sl);
    char msg[200];
    if (eng__validate_clips(&clips, msg, sizeof msg))
      return why_set(why, len, ENG_ERR_INVALID, "slot %u: %s", sl->slot, msg);
  }
  return ENG_OK;
}

/* The beat grid: frames from 0, strictly increasing, places in their bars,
 * a tail that starts on the last beat. */
static int validate_beats(const eng_plan_desc *d, char *why, size_t len) {
  if (!d->n_beats) return ENG_OK;
  if (d->n_beats > ENG_MAX_BEATS)
    return why_set(why, len, ENG_ERR_INVALID, "%u beats in the grid (at most %u)", d->n_beats,
                   ENG_MAX_BEATS);
  if (!d->beats) return why_set(why, len, ENG_ERR_INVALID, "beats is NULL");
  if (d->beats[0].frame != 0)
    return why_set(why, len, ENG_ERR_INVALID, "beat 0 is at frame %llu, not 0",
                   (unsigned long long) d->beats[0].frame);
  for (uint32_t k = 0; k < d->n_beats; k++) {
    const eng_beat *b = &d->beats[k];
    if (k && b->frame <= d->beats[k - 1].frame)
      return why_set(why, len, ENG_ERR_INVALID, "beat %u is not after beat %u", k, k - 1);
    if (b->bar_beats < 1 || b->bar_beats > ENG_MAX_BEATS_PER_BAR || b->in_bar >= b->bar_beats)
      return why_set(why, len, ENG_ERR_INVALID, "beat %u: beat %u of a bar of %u", k, b->in_bar,
                     b->bar_beats);
  }
  double last = (double) d->beats[d->n_beats - 1].frame;
  if (!isfinite(d->tail_frame) || fabs(d->tail_frame - last) >= 0.5 + 1e-6 ||
      d->tail_frame >= (double) (UINT64_MAX / 4))
    return why_set(why, len, ENG_ERR_INVALID, "tail frame %g does not round to the last beat's",
                   d->tail_frame);
  if (!isfinite(d->tail_beat_frames) || d->tail_beat_frames < 1.0 ||
      d->tail_beat_frames > 60.0 / ENG_MIN_TEMPO * 32.0 * d->sample_rate)
    return why_set(why, len, ENG_ERR_INVALID, "tail beat of %g frames is out of range",
                   d->tail_beat_frames);
  return ENG_OK;
}

static int validate(const eng_plan_desc *d, char *why, size_t len) {
  if (d->sample_rate < ENG_MIN_SAMPLE_RATE || d->sample_rate > ENG_MAX_SAMPLE_RATE)
    return why_set(why, len, ENG_ERR_INVALID, "sample rate %u is out of range", d->sample_rate);
  if (!isfinite(d->tempo_bpm) || d->tempo_bpm < ENG_MIN_TEMPO || d->tempo_bpm > ENG_MAX_TEMPO)
    return why_set(why, len, ENG_ERR_INVALID, "tempo %g bpm is out of range", d->tempo_bpm);
  if (d->beats_per_bar < 1 || d->beats_per_bar > ENG_MAX_BEATS_PER_BAR)
    return why_set(why, len, ENG_ERR_INVALID, "beats per bar %u is out of range", d->beats_per_bar);
  if (!in_range_f(d->master_gain, 0.0f, ENG_MAX_GAIN))
    return why_set(why, len, ENG_ERR_INVALID, "master gain is out of range");
  if (d->n_tracks > ENG_MAX_TRACKS)
    return why_set(why, len, ENG_ERR_INVALID, "%u tracks (at most %u)", d->n_tracks,
                   ENG_MAX_TRACKS);
  if (d->n_tracks > 0 && !d->tracks) return why_set(why, len, ENG_ERR_INVALID, "tracks is NULL");
  int brc = validate_beats(d, why, len);
  if (brc) return brc;
  if (d->loop && d->loop_end_frame <= d->loop_start_frame)
    return why_set(why, len, ENG_ERR_INVALID, "loop region %llu..%llu is empty",
                   (unsigned long long) d->loop_start_frame,
                   (unsigned long long) d->loop_end_frame);
  for (uint32_t i = 0; i < d->n_tracks; i++) {
    const eng_track_desc *t = &d->tracks[i];
    unsigned long long tid = (unsigned long long) t->track_id;
    if (t->track_id == 0) /* 0 is the master meter's id */
      return why_set(why, len, ENG_ERR_INVALID, "track %u has id 0", i);
    if (!in_range_f(t->gain, 0.0f, ENG_MAX_GAIN))
      return why_set(why, len, ENG_ERR_INVALID, "track %llu: gain out of range", tid);
    if (!in_range_f(t->pan, -1.0f, 1.0f))
      return why_set(why, len, ENG_ERR_INVALID, "track %llu: pan out of range", tid);
    for (uint32_t j = 0; j < i; j++)
      if (d->tracks[j].track_id == t->track_id)
        return why_set(why, len, ENG_ERR_INVALID, "track id %llu appears twice", tid);
    int rc;
    if (t->instrument && (rc = validate_device(t->instrument, true, t->track_id, 0, why, len)))
      return rc;
    if (t->instrument && (rc = eng__validate_zones(t->instrument, t->track_id, why, len)))
      return rc;
    if ((rc = eng__validate_clips(t, why, len))) return rc;
    if (t->n_effects > ENG_MAX_EFFECTS)
      return why_set(why, len, ENG_ERR_INVALID, "track %llu: %u effects (at most %u)", tid,
                     t->n_effects, ENG_MAX_EFFECTS);
    if (t->n_effects > 0 && !t->effects)
      return why_set(why, len, ENG_ERR_INVALID, "track %llu: effects is NULL", tid);
    for (uint32_t k = 0; k < t->n_effects; k++)
      if ((rc = validate_device(&t->effects[k], false, t->track_id, k, why, len))) return rc;
    if (t->n_automations > ENG_MAX_AUTOMATIONS)
      return why_set(why, len, ENG_ERR_INVALID, "track %llu: %u automations (at most %u)", tid,
                     t->n_automations, ENG_MAX_AUTOMATIONS);
    if (t->n_automations > 0 && !t->automations)
      return why_set(why, len, ENG_ERR_INVALID, "track %llu: automations is NULL", tid);
    if (t->n_notes > 0 && !t->instrument)
      return why_set(why, len, ENG_ERR_INVALID, "track %llu: notes but no instrument", tid);
    if (t->n_notes > ENG_MAX_NOTES)
      return why_set(why, len, ENG_ERR_INVALID, "track %llu: %u notes (at most %u)", tid,
                     t->n_notes, ENG_MAX_NOTES);
    if (t->n_notes > 0 && !t->notes)
      return why_set(why, len, ENG_ERR_INVALID, "track %llu: notes is NULL", tid);
    if (t->bus && (t->instrument || t->n_notes || t->live))
      return why_set(why, len, ENG_ERR_INVALID,
                     "track %llu is a bus: it takes no instrument, notes or live input", tid);
    if ((rc = validate_slots(t, why, len))) return rc;
    if (t->n_sends > ENG_MAX_SENDS)
      return why_set(why, len, ENG_ERR_INVALID, "track %llu: %u sends (at most %u)", tid,
                     t->n_sends, ENG_MAX_SENDS);
    if (t->n_sends > 0 && !t->sends)
      return why_set(why, len, ENG_ERR_INVALID, "track %llu: sends is NULL", tid);
    for (uint32_t k = 0; k < t->n_sends; k++)
      if (!in_range_f(t->sends[k].level, 0.0f, ENG_MAX_GAIN))
        return why_set(why, len, ENG_ERR_INVALID, "track %llu send %u: level out of range", tid, k);
    for (uint32_t k = 0; k < t->n_notes; k++) {
      const eng_note_desc *nd = &t->notes[k];
      if (!note_ok(nd))
        return why_set(why, len, ENG_ERR_INVALID,
                       "track %llu note %u: key %u velocity %u length %llu is invalid", tid, k,
                       nd->key, nd->velocity, (unsigned long long) nd->length_frames);
    }
  }
  /* Sidechain sources: known and not the track itself (cycles: at sort). */
  for (uint32_t i = 0; i < d->n_tracks; i++) {
    const eng_track_desc *t = &d->tracks[i];
    for (uint32_t k = 0; k < t->n_effects; k++) {
      uint64_t sc = t->effects[k].sidechain_track_id;
      if (!sc) continue;
      bool found = false;
      for (uint32_t j = 0; j < d->n_tracks; j++)
        if (d->tracks[j].track_id == sc && j != i) found = true;
      if (!found)
        return why_set(why, len, ENG_ERR_GRAPH, "track %llu effect %u: sidechain track %llu is %s",
                       (unsigned long long) t->track_id, k, (unsigned long long) sc,
                       sc == t->track_id ? "the track itself" : "not in the plan");
    }
  }
  /* Outputs and sends: to a bus of the plan, not to the track itself. */
  for (uint32_t i = 0; i < d->n_tracks; i++) {
    const eng_track_desc *t = &d->tracks[i];
    int rc = check_target(d, i, t->output_track_id, "output", why, len);
    for (uint32_t k = 0; rc == ENG_OK && k < t->n_sends; k++) {
      rc = check_target(d, i, t->sends[k].bus_track_id, "send", why, len);
      for (uint32_t m = 0; rc == ENG_OK && m < k; m++)
        if (t->sends[m].bus_track_id == t->sends[k].bus_track_id)
          rc = why_set(why, len, ENG_ERR_GRAPH, "track %llu: two sends to bus %llu",
                       (unsigned long long) t->track_id,
                       (unsigned long long) t->sends[k].bus_track_id);
    }
    if (rc != ENG_OK) return rc;
  }
  return find_cycle(d, why, len);
}

double eng_plan_track_frequency(uint32_t index) {
  static const int steps[5] = {0, 2, 4, 7, 9}; /* major pentatonic, semitones */
  int semis = 12 * (int) ((index / 5) % 3) + steps[index % 5];
  return 220.0 * pow(2.0, semis / 12.0);
}

/* ------------------------------------------------------------------------ */
/* graph building                                                           */
/* ------------------------------------------------------------------------ */

#define MAX_NODES  (ENG_MAX_TRACKS * (ENG_MAX_EFFECTS + 2) + 2)
#define FADER_SLOT (1 + ENG_MAX_EFFECTS) /* automation slot of a track's fader (gain, pan) */

/* A node before sorting. */
typedef struct proto_node {
  const eng_node_class *cls;
  const eng_device_desc *dev; /* NULL for built-ins */
  uint32_t track, device, in, out, side;
  uint32_t n_deps;
  uint32_t deps[ENG_MAX_TRACKS + 2]; /* pre-sort indices */
} proto_node;

typedef struct builder {
  proto_node *nodes;
  uint32_t n;
} builder;

static uint32_t add_node(builder *b, const eng_node_class *cls, const eng_device_desc *dev,
                         uint32_t track, uint32_t device, uint32_t buf) {
  proto_node *pn = &b->nodes[b->n];
  memset(pn, 0, sizeof *pn);
  pn->cls = cls;
  pn->dev = dev;
  pn->track = track;
  pn->device = device;
  pn->in = pn->out = buf;
  pn->side = ENG_NO_BUF;
  return b->n++;
}

static void add_dep(proto_node *pn, uint32_t on) {
  pn->deps[pn->n_deps++] = on;
}

static int event_cmp(const void *a, const void *b) {
  const eng_plan_event *x = a, *y = b;
  if (x->frame != y->frame) return x->frame < y->frame ? -1 : 1;
  if (x->kind != y->kind) return x->kind == ENG_EV_NOTE_OFF ? -1 : 1; /* offs first */
  return (int) x->key - (int) y->key;
}

/* Whether plan note nd is still sounding when the transport reaches the
 * loop's end (its note-off is then sent on the wrap frame). */
static bool loop_cuts(const eng_plan_desc *d, const eng_note_desc *nd) {
  return nd->start_frame < d->loop_end_frame &&
         nd->start_frame + nd->length_frames >= d->loop_end_frame;
}

static int note_cmp(const void *a, const void *b) {
  const eng_plan_note *x = a, *y = b;
  return x->start != y->start ? (x->start < y->start ? -1 : 1) : (int) x->key - (int) y->key;
}

/* Session clip sd into out: the notes that start inside the loop, cut to
 * it, as sorted events (into ev) and by start (into notes). */
static void compile_slot(const eng_slot_desc *sd, eng_plan_slot *out, eng_plan_event *ev,
                         eng_plan_note *notes) {
  uint32_t n = 0;
  for (uint32_t i = 0; i < sd->n_notes; i++) {
    const eng_note_desc *nd = &sd->notes[i];
    if (nd->start_frame >= sd->length_frames) continue;
    uint64_t end = nd->start_frame + nd->length_frames;
    notes[n++] = (eng_plan_note){nd->start_frame, end < sd->length_frames ? end : sd->length_frames,
                                 nd->key};
    ev[2 * n - 2] = (eng_plan_event){nd->start_frame, ENG_EV_NOTE_ON, nd->key, nd->velocity};
    ev[2 * n - 1] = (eng_plan_event){notes[n - 1].end, ENG_EV_NOTE_OFF, nd->key, 0};
  }
  if (n) qsort(ev, 2 * n, sizeof *ev, event_cmp);
  if (n) qsort(notes, n, sizeof *notes, note_cmp);
  *out = (eng_plan_slot){.slot = sd->slot,
                         .length = sd->length_frames,
                         .n_events = 2 * n,
                         .events = ev,
                         .n_notes = n,
                         .notes = notes,
                         .follow = sd->follow,
                         .follow_frames = sd->follow ? sd->follow_frames : 0};
}

static size_t align_up(size_t n) {
  return (n + ALIGN - 1) / ALIGN * ALIGN;
}

void eng__params_init(void *state, const eng_node_class *cls, const float *values, uint32_t sr) {
  eng_pstate *ps = state;
  ps->n = cls->n_params;
  for (uint32_t i = 0; i < cls->n_params; i++) {
    const eng_param_info *pi = &cls->params[i];
    uint32_t ramp = pi->smoothing == ENG_SMOOTH_NONE ? 0 : eng_ms_to_frames(pi->smooth_ms, sr);
    eng_smooth_init(&ps->p[i], values ? values[i] : pi->def, ramp);
  }
}

/* Fills vals[] with the class defaults overridden by the description. */
static void device_values(const eng_node_class *cls, const eng_device_desc *dv, float *vals) {
  for (uint32_t i = 0; i < cls->n_params; i++)
    vals[i] = cls->params[i].def;
  for (uint32_t k = 0; dv && k < dv->n_params; k++)
    vals[dv->params[k].id] = dv->params[k].value;
}

/* heard[i]: whether track i passes solo (mute aside). With no solo, all do.
 * Otherwise: soloed tracks; tracks routed (through buses) into a soloed bus;
 * then every bus fed, by routing or a send, by a track heard so far. */
static void solo_resolve(const eng_plan_desc *d, bool *heard) {
  bool any_solo = false;
  for (uint32_t i = 0; i < d->n_tracks; i++) {
    heard[i] = d->tracks[i].solo;
    any_solo |= heard[i];
  }
  if (!any_solo) {
    for (uint32_t i = 0; i < d->n_tracks; i++)
      heard[i] = true;
    return;
  }
  bool upstream[ENG_MAX_TRACKS];
  memcpy(upstream, heard, d->n_tracks * sizeof(bool));
  /* Upstream: routed into a soloed bus, even through other buses (the walk
   * ends: outputs have no cycle, validate() checked). */
  for (uint32_t i = 0; i < d->n_tracks; i++)
    for (uint32_t j = i, hops = 0;
         !upstream[i] && d->tracks[j].output_track_id && hops < d->n_tracks; hops++) {
      j = index_of(d, d->tracks[j].output_track_id);
      if (d->tracks[j].solo) upstream[i] = true;
    }
  memcpy(heard, upstream, d->n_tracks * sizeof(bool));
  /* Downstream: a pass adds a bus or stops, so at most n passes. */
  for (bool grew = true; grew;) {
    grew = false;
    for (uint32_t i = 0; i < d->n_tracks; i++) {
      if (!heard[i]) continue;
      const eng_track_desc *t = &d->tracks[i];
      for (uint32_t k = 0; k <= t->n_sends; k++) {
        uint64_t to = k < t->n_sends ? t->sends[k].bus_track_id : t->output_track_id;
        uint32_t j = to ? index_of(d, to) : UINT32_MAX;
        if (j != UINT32_MAX && !heard[j]) heard[j] = grew = true;
      }
    }
  }
}

/* ------------------------------------------------------------------------ */
/* latency compensation                                                     */
/* ------------------------------------------------------------------------ */

static uint64_t chain_latency(const eng_plan *p, const eng_plan_track *pt) {
  uint64_t l = 0;
  for (uint32_t k = 0; k < pt->n_devices; k++)
    l += p->nodes[pt->devices[k]].latency;
  return l;
}

/* Latest arrival among a bus's inputs, given each track's latency. */
static uint64_t bus_arrival(const eng_plan_track *pt, const uint64_t *lat) {
  uint64_t in = 0;
  for (uint32_t k = 0; k < pt->n_inputs; k++)
    if (lat[pt->inputs[k].track] > in) in = lat[pt->inputs[k].track];
  return in;
}

static uint32_t delay_for(uint64_t want, uint64_t have, bool *cut) {
  uint64_t dl = want - have;
  if (dl > ENG_MAX_LATENCY) *cut = true, dl = ENG_MAX_LATENCY;
  return (uint32_t) dl;
}

/* A track's latency is the sum of its devices' (the limiter's look-ahead),
 * plus for a bus the latest arrival among its inputs. Every input of a
 * summing point (bus or master) is delayed to that latest arrival, so
 * parallel paths line up sample-exactly; the click is delayed to master's
 * latency. Routing has no cycle (validate), so n passes settle the buses.
 * Delays beyond ENG_MAX_LATENCY are cut (and said in `why`). */
static void compensate(eng_plan *p, char *why, size_t len) {
  uint64_t lat[ENG_MAX_TRACKS];
  for (uint32_t pass = 0; pass <= p->n_tracks; pass++)
    for (uint32_t i = 0; i < p->n_tracks; i++) {
      const eng_plan_track *pt = &p->tracks[i];
      lat[i] = (pt->bus ? bus_arrival(pt, lat) : 0) + chain_latency(p, pt);
    }
  bool cut = false;
  uint64_t master = 0;
  for (uint32_t i = 0; i < p->n_tracks; i++) {
    eng_plan_track *pt = &p->tracks[i];
    uint64_t in = bus_arrival(pt, lat);
    for (uint32_t k = 0; pt->bus && k < pt->n_inputs; k++)
      pt->inputs[k].delay = delay_for(in, lat[pt->inputs[k].track], &cut);
    pt->latency = lat[i] > UINT32_MAX ? UINT32_MAX : (uint32_t) lat[i];
    if (pt->to_master && lat[i] > master) master = lat[i];
  }
  for (uint32_t i = 0; i < p->n_tracks; i++)
    if (p->tracks[i].to_master) p->tracks[i].master_delay = delay_for(master, lat[i], &cut);
  p->latency = master > ENG_MAX_LATENCY ? ENG_MAX_LATENCY : (uint32_t) master;
  if (cut)
    why_set(why, len, ENG_OK, "latency compensation is cut to %u frames on some paths",
            ENG_MAX_LATENCY);
}

static int compile(const eng_plan_desc *d, eng_plan **out, char *why, size_t why_len) {
  int rc = validate(d, why, why_len);
  if (rc != ENG_OK) return rc;

  /* 1. The graph, in building order. */
  builder b = {.nodes = malloc(MAX_NODES * sizeof(proto_node)), .n = 0};
  uint32_t *order = malloc(MAX_NODES * sizeof(uint32_t));
  uint32_t *rank = malloc(MAX_NODES * sizeof(uint32_t));
  uint32_t *indeg = malloc(MAX_NODES * sizeof(uint32_t));
  bool *auto_use = calloc((size_t) ENG_MAX_TRACKS * ENG_MAX_AUTOMATIONS, sizeof(bool));
  uint32_t fader_of[ENG_MAX_TRACKS];
  if (!b.nodes || !order || !rank || !indeg || !auto_use) {
    rc = ENG_ERR_NOMEM;
    goto done;
  }
  uint32_t n_buffers = d->n_tracks;
  bool has_devices = false;
  uint32_t faders[ENG_MAX_TRACKS], src_of[ENG_MAX_TRACKS], pre_of[ENG_MAX_TRACKS];
  size_t total_inputs = 0;
  for (uint32_t i = 0; i < d->n_tracks; i++) {
    const eng_track_desc *t = &d->tracks[i];
    const eng_node_class *src = t->bus                   ? &eng__bus_class
                                : t->instrument          ? eng__node_class(t->instrument->kind)
                                : t->audio || t->n_clips ? &eng__clips_class
                                                         : &eng__tone_class;
    uint32_t prev = src_of[i] = add_node(&b, src, t->instrument, i, 0, i);
    pre_of[i] = ENG_NO_BUF;
    for (uint32_t k = 0; k < t->n_sends; k++)
      if (t->sends[k].pre_fader && pre_of[i] == ENG_NO_BUF) pre_of[i] = n_buffers++;
    total_inputs += t->n_sends + (t->output_track_id ? 1 : 0);
    for (uint32_t k = 0; k < t->n_effects; k++) {
      uint32_t e = add_node(&b, eng__node_class(t->effects[k].kind), &t->effects[k], i, 1 + k, i);
      add_dep(&b.nodes[e], prev);
      prev = e;
    }
    if (t->instrument || t->n_effects) has_devices = true;
    faders[i] = fader_of[i] = add_node(&b, &eng__fader_class, NULL, i, 0, i);
    add_dep(&b.nodes[fader_of[i]], prev);
  }
  /* Sidechain edges: the key is the source track's post-fader buffer. */
  for (uint32_t i = 0; i < b.n; i++) {
    proto_node *pn = &b.nodes[i];
    if (!pn->dev || !pn->dev->sidechain_track_id) continue;
    for (uint32_t j = 0; j < d->n_tracks; j++)
      if (d->tracks[j].track_id == pn->dev->sidechain_track_id) {
        pn->side = j;
        add_dep(pn, fader_of[j]);
      }
  }
  /* Bus edges: a bus node needs the faders of what is routed or sent to it
   * (the fader also writes the pre-fader copy). One edge per source track. */
  for (uint32_t i = 0; i < d->n_tracks; i++) {
    const eng_track_desc *t = &d->tracks[i];
    for (uint32_t k = 0; k <= t->n_sends; k++) {
      uint64_t to = k < t->n_sends ? t->sends[k].bus_track_id : t->output_track_id;
      if (!to) continue;
      proto_node *bus = &b.nodes[src_of[index_of(d, to)]];
      bool have = false;
      for (uint32_t m = 0; m < bus->n_deps; m++)
        if (bus->deps[m] == fader_of[i]) have = true;
      if (!have) add_dep(bus, fader_of[i]);
    }
  }
  uint32_t click_buf = ENG_NO_BUF;
  uint32_t master_deps_from = b.n;
  if (d->metronome) {
    click_buf = n_buffers++;
    add_node(&b, &eng__click_class, NULL, ENG_NO_TRACK, 0, click_buf);
  }
  uint32_t master = add_node(&b, &eng__master_class, NULL, ENG_NO_TRACK, 0, ENG_NO_BUF);
  if (d->metronome) add_dep(&b.nodes[master], master_deps_from);
  for (uint32_t i = 0; i < d->n_tracks; i++)
    if (!d->tracks[i].output_track_id) add_dep(&b.nodes[master], faders[i]);

  /* 2. Topological sort (Kahn), taking the lowest ready index first so a
   * graph without sidechains keeps its building order. O(n^2), n <= 642. */
  for (uint32_t i = 0; i < b.n; i++)
    indeg[i] = b.nodes[i].n_deps;
  uint32_t n_sorted = 0;
  while (n_sorted < b.n) {
    uint32_t pick = UINT32_MAX;
    for (uint32_t i = 0; i < b.n && pick == UINT32_MAX; i++)
      if (indeg[i] == 0) pick = i;
    if (pick == UINT32_MAX) {
      rc = why_set(why, why_len, ENG_ERR_GRAPH, "sidechains form a cycle");
      goto done;
    }
    indeg[pick] = UINT32_MAX; /* taken */
    rank[pick] = n_sorted;
    order[n_sorted++] = pick;
    for (uint32_t i = 0; i < b.n; i++)
      for (uint32_t k = 0; k < b.nodes[i].n_deps; k++)
        if (b.nodes[i].deps[k] == pick && indeg[i] != UINT32_MAX) indeg[i]--;
  }

  /* 3. Arena layout: nodes | deps | events | buffers. Node states are
   * allocated one by one (below), because a state can outlive its plan: the
   * RT thread hands it on to the next plan's matching node (eng_plan_int.h). */
  size_t total_deps = 0, total_events = 0, total_zones = 0, total_clips = 0;
  size_t total_autos = 0, total_points = 0;
  size_t total_cuts = 0, total_slots = 0, total_slot_notes = 0;
  uint32_t n_stretched = 0, n_bad_autos = 0;
  char bad_auto[256] = "";
  for (uint32_t i = 0; i < b.n; i++)
    total_deps += b.nodes[i].n_deps;
  for (uint32_t i = 0; i < d->n_tracks; i++) {
    const eng_track_desc *t = &d->tracks[i];
    total_events += 2 * (size_t) t->n_notes;
    total_zones += t->instrument ? t->instrument->n_zones : 0;
    total_clips += t->n_clips;
    n_stretched += eng__stretched_clips(t);
    total_slots += t->n_slots;
    for (uint32_t k = 0; k < t->n_slots; k++) {
      eng_track_desc sc = slot_clips(t, &t->slots[k]);
      total_slot_notes += t->slots[k].n_notes;
      total_clips += sc.n_clips;
      n_stretched += eng__stretched_clips(&sc);
    }
    for (uint32_t k = 0; d->loop && k < t->n_notes; k++)
      total_cuts += loop_cuts(d, &t->notes[k]);
    if (!t->n_automations) continue;
    bool *use = auto_use + (size_t) i * ENG_MAX_AUTOMATIONS;
    n_bad_autos += eng__auto_select(t, use, n_bad_autos ? NULL : bad_auto, sizeof bad_auto);
    for (uint32_t k = 0; k < t->n_automations; k++)
      if (use[k]) total_autos++, total_points += t->automations[k].n_points;
  }
  size_t off_nodes = 0;
  size_t off_deps = align_up(off_nodes + b.n * sizeof(eng_plan_node));
  size_t off_events = align_up(off_deps + total_deps * sizeof(uint32_t));
  size_t off_inputs = align_up(off_events + total_events * sizeof(eng_plan_event));
  size_t off_zones = align_up(off_inputs + total_inputs * sizeof(eng_plan_input));
  size_t off_clips = align_up(off_zones + total_zones * sizeof(eng_zone_desc));
  size_t off_autos = align_up(off_clips + total_clips * sizeof(eng_plan_clip));
  size_t off_points = align_up(off_autos + total_autos * sizeof(eng_plan_auto));
  size_t off_cuts = align_up(off_points + total_points * sizeof(eng_auto_point));
  size_t off_slots = align_up(off_cuts + total_cuts * sizeof(eng_plan_event));
  size_t off_slot_events = align_up(off_slots + total_slots * sizeof(eng_plan_slot));
  size_t off_slot_notes = align_up(off_slot_events + 2 * total_slot_notes * sizeof(eng_plan_event));
  size_t off_buffers = align_up(off_slot_notes + total_slot_notes * sizeof(eng_plan_note));
  size_t off_beats = off_buffers + (size_t) n_buffers * 2 * ENG_CHUNK * sizeof(float);
  size_t off_bars = align_up(off_beats + (size_t) d->n_beats * sizeof(eng_beat));
  size_t arena_bytes = off_bars + (size_t) d->n_beats * sizeof(uint32_t);
  size_t state_bytes = 0;

  eng_plan *p = calloc(1, sizeof *p + d->n_tracks * sizeof p->tracks[0]);
  unsigned char *arena = aligned_alloc(ALIGN, align_up(arena_bytes ? arena_bytes : 1));
  float **owned = calloc(n_stretched ? n_stretched : 1, sizeof(float *));
  struct eng_stretch_entry **shared = calloc(n_stretched ? n_stretched : 1, sizeof *shared);
  if (!p || !arena || !owned || !shared) {
    free(p);
    free(arena);
    free(owned);
    free(shared);
    rc = ENG_ERR_NOMEM;
    goto done;
  }
  memset(arena, 0, align_up(arena_bytes ? arena_bytes : 1));
  p->arena = arena;
  p->arena_bytes = arena_bytes;
  p->owned = owned;
  p->shared = shared;
  p->stretch_cache = d->stretch_cache;
  p->n_nodes = b.n;
  p->nodes = (void *) (arena + off_nodes);
  for (uint32_t s = 0; s < b.n; s++) { /* states, zeroed, before anything can fail */
    const eng_node_class *cls = b.nodes[order[s]].cls;
    size_t sz = cls->state_size ? align_up(cls->state_size(d->sample_rate)) : 0;
    if (!sz) continue;
    p->nodes[s].state = aligned_alloc(ALIGN, sz);
    if (!p->nodes[s].state) {
      eng_plan_destroy(p);
      rc = ENG_ERR_NOMEM;
      goto done;
    }
    memset(p->nodes[s].state, 0, sz);
    state_bytes += sz;
  }
  p->state_bytes = state_bytes;
  p->sample_rate = d->sample_rate;
  p->beat_frames = 60.0 / d->tempo_bpm * (double) d->sample_rate;
  p->beats_per_bar = d->beats_per_bar;
  if (d->n_beats) {
    eng_beat *beats = (void *) (arena + off_beats);
    memcpy(beats, d->beats, d->n_beats * sizeof *beats);
    uint32_t *bar_of = (void *) (arena + off_bars), bar = 0;
    for (uint32_t k = 0; k < d->n_beats; k++)
      bar_of[k] = bar += k > 0 && beats[k].in_bar == 0;
    p->bar_of = bar_of;
    p->n_beats = d->n_beats;
    p->beats = beats;
    p->tail_frame = d->tail_frame;
    p->tail_beat_frames = d->tail_beat_frames;
  }
  p->master_gain = d->master_gain;
  p->metronome = d->metronome;
  p->has_devices = has_devices;
  p->loop = d->loop;
  p->loop_start = d->loop ? d->loop_start_frame : 0;
  p->loop_end = d->loop ? d->loop_end_frame : 0;
  p->n_tracks = d->n_tracks;
  double sr = d->sample_rate;
  p->attack_frames = (uint32_t) ceil(ATTACK_S * sr);
  p->release_frames = (uint32_t) ceil(RELEASE_S * sr);
  p->note_frames = (uint64_t) (NOTE_TAUS * DECAY_TAU_S * sr);
  p->decay_per_frame = (float) (1.0 / (DECAY_TAU_S * sr));
  p->click_frames = (uint32_t) (CLICK_S * sr);
  p->click_decay_per_frame = (float) (1.0 / (CLICK_TAU_S * sr));
  p->n_buffers = n_buffers;
  p->buffers = (void *) (arena + off_buffers);
  p->click_buf = click_buf;
  p->master_buf = ENG_NO_BUF;

  /* 4. Tracks: pan law, mute/solo, routing, note events. */
  bool heard[ENG_MAX_TRACKS];
  solo_resolve(d, heard);
  eng_plan_event *ev = (void *) (arena + off_events);
  eng_plan_input *inputs = (void *) (arena + off_inputs);
  eng_zone_desc *zones = (void *) (arena + off_zones);
  eng_plan_clip *clips = (void *) (arena + off_clips);
  eng_plan_event *cuts = (void *) (arena + off_cuts);
  eng_plan_slot *slots = (void *) (arena + off_slots);
  eng_plan_event *slot_ev = (void *) (arena + off_slot_events);
  eng_plan_note *slot_notes = (void *) (arena + off_slot_notes);
  const void *items_of[ENG_MAX_TRACKS];
  uint32_t n_items_of[ENG_MAX_TRACKS];
  /* Automation: each node's lanes are contiguous (slot 0..n_effects: the
   * devices, FADER_SLOT: gain and pan), their points copied. */
  eng_plan_auto *autos = (void *) (arena + off_autos);
  eng_auto_point *points = (void *) (arena + off_points);
  eng_plan_auto *autos_of[ENG_MAX_TRACKS][2 + ENG_MAX_EFFECTS];
  uint32_t n_autos_of[ENG_MAX_TRACKS][2 + ENG_MAX_EFFECTS];
  for (uint32_t i = 0; i < d->n_tracks; i++) {
    const eng_track_desc *t = &d->tracks[i];
    const bool *use = auto_use + (size_t) i * ENG_MAX_AUTOMATIONS;
    for (uint32_t slot = 0; slot <= FADER_SLOT; slot++) {
      autos_of[i][slot] = autos;
      n_autos_of[i][slot] = 0;
      for (uint32_t k = 0; k < t->n_automations; k++) {
        const eng_automation *a = &t->automations[k];
        bool here = a->target == ENG_AUTO_PARAM  ? a->device == slot
                    : a->target == ENG_AUTO_SEND ? false /* below: on the bus's input */
                                                 : slot == FADER_SLOT;
        if (!use[k] || !here) continue;
        const eng_node_class *cls =
            a->target == ENG_AUTO_PARAM
                ? eng__node_class(slot ? t->effects[slot - 1].kind : t->instrument->kind)
                : NULL;
        memcpy(points, a->points, a->n_points * sizeof *points);
        *autos++ = (eng_plan_auto){.target = a->target,
                                   .param = a->param_id,
                                   .smoothing =
                                       cls ? cls->params[a->param_id].smoothing : ENG_SMOOTH_SAMPLE,
                                   .n_points = a->n_points,
                                   .points = points};
        points += a->n_points;
        n_autos_of[i][slot]++;
      }
    }
  }
  /* Send levels: each lane hangs off the bus input that takes the send. */
  const eng_plan_auto *send_auto[ENG_MAX_TRACKS][ENG_MAX_SENDS] = {{NULL}};
  for (uint32_t i = 0; i < d->n_tracks; i++) {
    const eng_track_desc *t = &d->tracks[i];
    const bool *use = auto_use + (size_t) i * ENG_MAX_AUTOMATIONS;
    for (uint32_t k = 0; k < t->n_automations; k++) {
      const eng_automation *a = &t->automations[k];
      if (!use[k] || a->target != ENG_AUTO_SEND) continue;
      memcpy(points, a->points, a->n_points * sizeof *points);
      *autos = (eng_plan_auto){.target = a->target,
                               .param = a->device,
                               .smoothing = ENG_SMOOTH_SAMPLE,
                               .n_points = a->n_points,
                               .points = points};
      send_auto[i][a->device] = autos++;
      points += a->n_points;
    }
  }
  for (uint32_t i = 0; i < d->n_tracks; i++) {
    const eng_track_desc *t = &d->tracks[i];
    eng_plan_track *pt = &p->tracks[i];
    bool audible = !t->mute && heard[i];
    float gain = t->gain, pan = t->pan; /* automated: the curve's value at frame 0 */
    for (uint32_t k = 0; k < n_autos_of[i][FADER_SLOT]; k++) {
      const eng_plan_auto *a = &autos_of[i][FADER_SLOT][k];
      float v = eng__auto_value(a->points, a->n_points, 0);
      if (a->target == ENG_AUTO_GAIN) gain = v;
      if (a->target == ENG_AUTO_PAN) pan = v;
    }
    pt->gain = gain;
    pt->pan = pan;
    pt->audible = audible;
    pt->bus = t->bus;
    pt->to_master = t->output_track_id == 0;
    pt->pre_buf = pre_of[i];
    pt->pre_gain = audible ? 1.0f : 0.0f;
    if (t->bus) { /* inputs: routed tracks (level 1) and sends, in track order */
      pt->inputs = inputs;
      for (uint32_t j = 0; j < d->n_tracks; j++) {
        const eng_track_desc *u = &d->tracks[j];
        if (u->output_track_id == t->track_id)
          *inputs++ = (eng_plan_input){j, 1.0f, j, false, 0, false, NULL};
        for (uint32_t k = 0; k < u->n_sends; k++) {
          bool pre = u->sends[k].pre_fader;
          const eng_plan_auto *lane = send_auto[j][k]; /* automated: its value at frame 0 */
          float level = lane ? eng__auto_value(lane->points, lane->n_points, 0) : u->sends[k].level;
          if (u->sends[k].bus_track_id == t->track_id)
            *inputs++ = (eng_plan_input){pre ? pre_of[j] : j, level, j, pre, 0, true, lane};
        }
      }
      pt->n_inputs = (uint32_t) (inputs - pt->inputs);
    }
    double l, r; /* constant-power pan (a bus: balance), eng_plan_int.h */
    eng__pan_law(pan, t->bus, &l, &r);
    pt->track_id = t->track_id;
    pt->cycles_per_frame = eng_plan_track_frequency(i) / (double) d->sample_rate;
    pt->gain_l = audible ? (float) (gain * l) : 0.0f;
    pt->gain_r = audible ? (float) (gain * r) : 0.0f;
    pt->buf = i;
    pt->has_instrument = t->instrument != NULL;
    pt->live = t->live && t->instrument;
    pt->n_devices = 1 + t->n_effects;
    pt->events = ev;
    pt->n_events = 2 * t->n_notes;
    for (uint32_t k = 0; k < t->n_notes; k++) {
      const eng_note_desc *nd = &t->notes[k];
      ev[2 * k] = (eng_plan_event){nd->start_frame, ENG_EV_NOTE_ON, nd->key, nd->velocity};
      ev[2 * k + 1] =
          (eng_plan_event){nd->start_frame + nd->length_frames, ENG_EV_NOTE_OFF, nd->key, 0};
    }
    if (pt->n_events) qsort(ev, pt->n_events, sizeof *ev, event_cmp);
    ev += pt->n_events;
    pt->cuts = cuts;
    for (uint32_t k = 0; d->loop && k < t->n_notes; k++)
      if (loop_cuts(d, &t->notes[k]))
        *cuts++ = (eng_plan_event){d->loop_end_frame, ENG_EV_NOTE_OFF, t->notes[k].key, 0};
    pt->n_cuts = (uint32_t) (cuts - pt->cuts);
    pt->slots = slots;
    pt->n_slots = t->n_slots;
    for (uint32_t k = 0; k < t->n_slots; k++) {
      eng_plan_slot *ps = slots++;
      compile_slot(&t->slots[k], ps, slot_ev, slot_notes);
      slot_ev += ps->n_events;
      slot_notes += ps->n_notes;
      eng_track_desc sc = slot_clips(t, &t->slots[k]);
      if (!sc.n_clips) continue;
      if ((rc = eng__compile_clips(p, &sc, clips)) != ENG_OK) {
        eng_plan_destroy(p);
        goto done;
      }
      ps->clips = clips;
      ps->n_clips = sc.n_clips;
      clips += sc.n_clips;
    }
    items_of[i] = NULL;
    n_items_of[i] = 0;
    if (t->instrument && t->instrument->n_zones) {
      eng__copy_zones(t->instrument, zones);
      items_of[i] = zones;
      n_items_of[i] = t->instrument->n_zones;
      zones += t->instrument->n_zones;
    }
    if (t->n_clips) {
      if ((rc = eng__compile_clips(p, t, clips)) != ENG_OK) {
        eng_plan_destroy(p);
        goto done;
      }
      items_of[i] = clips;
      n_items_of[i] = t->n_clips;
      clips += t->n_clips;
    }
  }

  /* 5. Nodes in sorted order, with deps remapped and states initialised. */
  uint32_t *deps = (void *) (arena + off_deps);
  float vals[ENG_MAX_PARAMS];
  for (uint32_t s = 0; s < b.n; s++) {
    const proto_node *pn = &b.nodes[order[s]];
    eng_plan_node *nd = &p->nodes[s];
    nd->cls = pn->cls; /* nd->state: allocated above */
    nd->in = pn->in;
    nd->out = pn->out;
    nd->side = pn->side;
    nd->track = pn->track;
    nd->device = pn->device;
    nd->bypass = pn->dev && pn->dev->bypass;
    nd->latency = pn->cls->latency && !nd->bypass ? pn->cls->latency(d->sample_rate) : 0;
    if (pn->track != ENG_NO_TRACK && pn->device == 0) {
      nd->items = items_of[pn->track];
      nd->n_items = n_items_of[pn->track];
    }
    nd->n_deps = pn->n_deps;
    nd->deps = deps;
    bool det = pn->cls->deterministic;
    if (pn->cls->instrument && p->tracks[pn->track].live) det = false;
    for (uint32_t k = 0; k < pn->n_deps; k++) {
      deps[k] = rank[pn->deps[k]];
      if (!p->nodes[deps[k]].deterministic) det = false;
    }
    nd->deterministic = det;
    deps += pn->n_deps;
    if (pn->track != ENG_NO_TRACK) {
      uint32_t slot = pn->cls == &eng__fader_class ? FADER_SLOT : pn->device;
      nd->n_autos = n_autos_of[pn->track][slot];
      nd->autos = nd->n_autos ? autos_of[pn->track][slot] : NULL;
      if (!pn->cls->n_params && pn->cls != &eng__fader_class) nd->n_autos = 0, nd->autos = NULL;
    }
    if (nd->state && pn->cls->n_params) {
      device_values(pn->cls, pn->dev, vals);
      for (uint32_t k = 0; k < nd->n_autos; k++) /* automated: the curve's value at frame 0 */
        vals[nd->autos[k].param] = eng__auto_value(nd->autos[k].points, nd->autos[k].n_points, 0);
      eng__params_init(nd->state, pn->cls, vals, d->sample_rate);
    }
    if (nd->state && pn->cls->init) pn->cls->init(nd->state, d->sample_rate, p->beat_frames);
    if (pn->cls == &eng__master_class) p->master_node = s;
    if (pn->track != ENG_NO_TRACK) {
      eng_plan_track *pt = &p->tracks[pn->track];
      if (pn->cls == &eng__fader_class)
        pt->fader = s;
      else if (pn->device == 0)
        pt->source = pt->devices[0] = s;
      else
        pt->devices[pn->device] = s;
    }
  }
  compensate(p, why, why_len);
  eng__media_warnings(d, why, why_len);
  if (n_bad_autos) {
    char msg[320];
    if (n_bad_autos == 1)
      snprintf(msg, sizeof msg, "%s: this automation is ignored", bad_auto);
    else
      snprintf(msg, sizeof msg, "%s: this automation and %u more are ignored", bad_auto,
               n_bad_autos - 1);
    why_add(why, why_len, msg);
  }
  p->on_free = d->on_free;
  p->on_free_ud = d->on_free_ud;
  *out = p;
  rc = ENG_OK;
done:
  free(b.nodes);
  free(order);
  free(rank);
  free(indeg);
  free(auto_use);
  return rc;
}

int eng_plan_compile(const eng_plan_desc *d, eng_plan **out, char *why, size_t why_len) {
  if (why && why_len) why[0] = '\0';
  if (!out) {
    if (d && d->on_free) d->on_free(d->on_free_ud);
    return why_set(why, why_len, ENG_ERR_INVALID, "no output pointer");
  }
  *out = NULL;
  if (!d) return why_set(why, why_len, ENG_ERR_INVALID, "no description");
  int rc = compile(d, out, why, why_len);
  if (rc != ENG_OK && d->on_free) d->on_free(d->on_free_ud);
  return rc;
}

int eng_plan_create(const eng_plan_desc *d, eng_plan **out) {
  return eng_plan_compile(d, out, NULL, 0);
}

void eng_plan_destroy(eng_plan *p) {
  if (!p) return;
  for (uint32_t i = 0; p->nodes && i < p->n_nodes; i++)
    free(p->nodes[i].state);
  for (uint32_t i = 0; i < p->n_owned; i++)
    free(p->owned[i]);
  free(p->owned);
  eng__release_stretched(p);
  free(p->arena);
  void (*on_free)(void *) = p->on_free;
  void *ud = p->on_free_ud;
  free(p);
  if (on_free) on_free(ud);
}

void eng_plan_get_info(const eng_plan *p, eng_plan_info *out) {
  out->n_nodes = p->n_nodes;
  out->n_buffers = p->n_buffers;
  out->n_deterministic = 0;
  for (uint32_t i = 0; i < p->n_nodes; i++)
    if (p->nodes[i].deterministic) out->n_deterministic++;
  out->state_bytes = p->arena_bytes + p->state_bytes;
  out->latency_frames = p->latency;
}

const char *eng_plan_node_name(const eng_plan *p, uint32_t i) {
  return p && i < p->n_nodes ? p->nodes[i].cls->name : NULL;
}
