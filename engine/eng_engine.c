/* eng_engine.c: transport, plan execution and meters (see eng_engine.h).
 *
 * Data flow:
 *   control --commands (SPSC)--> RT --meter frames (SPSC)--> meter reader
 *   control --pending plan (atomic pointer)--> RT --retired plans (SPSC)--> control
 *
 * The test-tone voices are stateless: a voice's output is a pure function of
 * the transport position (frames since the current beat's onset), so locate,
 * plan swaps and offline renders need no voice state and are deterministic. */
#include "engine/eng_engine.h"
#include "engine/eng_cohort_int.h"
#include "engine/eng_engine_int.h"
#include "engine/eng_err.h"
#include "engine/eng_plan_int.h"
#include "engine/eng_spsc.h"

#include <math.h>
#include <stdatomic.h>
#include <time.h>
#include <stdlib.h>
#include <string.h>

_Static_assert(ATOMIC_POINTER_LOCK_FREE == 2, "plan swap needs lock-free pointer atomics");
_Static_assert(ATOMIC_LLONG_LOCK_FREE == 2, "RT counters need lock-free 64-bit atomics");

#define COMMAND_CAPACITY 256 /* commands queued before ENG_ERR_FULL */
#define METER_CAPACITY   64  /* meter frames (~1.6 s at 25 ms) before drops */
#define RETIRE_CAPACITY  16  /* retired plans awaiting eng_engine_collect */

#define MAX_LIVE 256 /* live note events held for the next block */

typedef enum {
  CMD_PLAY = 1,
  CMD_STOP,
  CMD_LOCATE,
  CMD_NOTE,
  CMD_PARAM,
  CMD_COUNT_IN,
  CMD_LAUNCH,
  CMD_STOP_SLOT
} cmd_kind;

typedef struct command {
  uint32_t kind;     /* cmd_kind */
  uint64_t frame;    /* CMD_LOCATE target; CMD_LAUNCH, CMD_STOP_SLOT: quantum */
  uint64_t track_id; /* CMD_NOTE, CMD_PARAM, CMD_LAUNCH, CMD_STOP_SLOT */
  uint32_t device;   /* CMD_PARAM: 0 = source, 1 + i = effect i */
  uint32_t id;       /* CMD_PARAM: parameter id; CMD_NOTE: key; CMD_LAUNCH: slot; CMD_COUNT_IN:
                        bars */
  float value;       /* CMD_PARAM: value; CMD_NOTE: velocity (0 = note-off) */
} command;

/* One monitor ring item: a piece of one block's master. */
typedef struct monitor_item {
  uint64_t clock;                         /* engine frame clock of lr's first frame */
  uint32_t frames;                        /* valid frames in lr */
  float lr[2 * ENG_MONITOR_CHUNK_FRAMES]; /* interleaved stereo */
} monitor_item;

typedef struct live_note {
  uint32_t track; /* index in the current plan */
  uint8_t key, velocity;
} live_note;

/* The session clip of one track (RT thread): what plays and what is queued,
 * in session-clock frames (eng_engine.clock); the clip player reads it. */
typedef eng_slot_play slot_state;

struct eng_engine {
  eng_config cfg;              /* as created */
  eng_spsc *commands;          /* control -> RT: command */
  eng_spsc *meters;            /* RT -> reader: eng_meter_frame */
  eng_spsc *retired;           /* RT -> control: eng_plan * */
  eng_spsc *monitor;           /* RT -> monitor reader: monitor_item */
  atomic_bool monitor_on;      /* set by any thread, read by RT */
  _Atomic(eng_plan *) pending; /* set by control, taken (exchanged to NULL) by RT */

  uint32_t window_frames; /* meter window */
  const eng_plan *latest; /* control thread only: the last plan set (validation) */

  /* RT thread state: only eng_engine_process touches these. */
  eng_plan *plan;                 /* current plan or NULL */
  uint64_t position;              /* transport, frames */
  bool playing;                   /* transport state */
  uint32_t fade_left;             /* frames of stop fade still to render */
  uint64_t fade_pos;              /* voice position during the stop fade */
  uint32_t acc_frames;            /* frames in the current meter window */
  eng_kmeter kmeter;              /* the master's live loudness */
  float acc_peak[ENG_MAX_METERS]; /* [0] master, [1 + i] track i */
  double acc_sumsq[ENG_MAX_METERS];
  eng_meter_frame frame; /* meter frame being built (kept off the RT stack) */
  monitor_item mon_rt;   /* monitor item being built (kept off the RT stack) */
  bool all_off;          /* release every instrument note at the next chunk (stop, locate) */
  bool wrapped;          /* the loop wrapped: send the plan's cut note-offs at the next chunk */
  uint64_t clock;        /* session clock: frames played; never wraps, locates or rewinds */
  uint64_t count_left;   /* count-in frames still to click before the transport starts */
  uint64_t count_at;     /* count-in frames already clicked */
  slot_state slots[ENG_MAX_TRACKS];     /* session clips, by track index of the current plan */
  slot_state slots_tmp[ENG_MAX_TRACKS]; /* scratch for a plan swap (off the RT stack) */
  uint32_t n_live;                      /* entries in live */
  live_note live[MAX_LIVE];             /* live notes for the next chunk */
  eng_event events[ENG_MAX_EVENTS];     /* one node's events for one chunk */
  float auto_lanes[ENG_MAX_PARAMS][ENG_CHUNK]; /* one node's automation values for one chunk */
  float *tap;                                  /* stem tap (eng__engine_set_tap) or NULL */
  uint32_t tap_tracks;                         /* tracks in tap */
  uint32_t tap_stride;                         /* frames per track in tap */
  bool watch;                                  /* stopped: run_plan notes whether any node sounds */
  bool loud;                      /* watch: some node's output reached ENG_QUIET_LEVEL */
  uint64_t quiet;                 /* stopped frames in a row with every node silent */
  uint64_t quiet_need;            /* quiet frames before idling (the plan's window) */
  eng_cohort *co;                 /* anticipative cohort, NULL if off */
  uint64_t blk_x;                 /* session frame (n_frames) of the block's start */
  bool holding;                   /* cohort: commands or a plan wait for apply_at */
  uint64_t apply_at;              /* cohort: session frame to apply them at */
  uint32_t n_held;                /* entries in held */
  command held[COMMAND_CAPACITY]; /* cohort: commands held until apply_at */

  /* Monitor reader state: only eng_engine_monitor_read touches these. */
  monitor_item mon_item; /* the item being read */
  uint32_t mon_at;       /* frames of mon_item already read */

  /* Published by RT, read by any thread. */
  _Atomic uint64_t position_pub;
  _Atomic uint64_t n_blocks, n_frames, n_xruns, n_no_plan, n_swaps, n_deferred, n_pushed, n_dropped;
  _Atomic uint64_t n_ev_dropped, n_cmd_dropped;
  _Atomic uint64_t n_mon_frames, n_mon_dropped;
  _Atomic uint64_t n_idle;
  _Atomic uint64_t
      n_busy_ns; /* time inside eng_engine_process (CLOCK_MONOTONIC, vDSO: no syscall) */
};

/* ------------------------------------------------------------------------ */
/* lifetime                                                                 */
/* ------------------------------------------------------------------------ */

eng_config eng_config_default(void) {
  eng_config c = {.sample_rate = ENG_DEFAULT_SAMPLE_RATE, .block_frames = ENG_DEFAULT_BLOCK_FRAMES};
  return c;
}

int eng_engine_create(const eng_config *cfg, eng_engine **out) {
  if (!out) return ENG_ERR_INVALID;
  *out = NULL;
  if (!cfg) return ENG_ERR_INVALID;
  if (cfg->sample_rate < ENG_MIN_SAMPLE_RATE || cfg->sample_rate > ENG_MAX_SAMPLE_RATE)
    return ENG_ERR_INVALID;
  if (cfg->block_frames < 1 || cfg->block_frames > ENG_MAX_BLOCK_FRAMES) return ENG_ERR_INVALID;

  eng_engine *e = calloc(1, sizeof *e);
  if (!e) return ENG_ERR_NOMEM;
  e->cfg = *cfg;
  atomic_init(&e->pending, NULL);
  atomic_init(&e->monitor_on, false);
  int rc = eng_spsc_create(sizeof(command), COMMAND_CAPACITY, &e->commands);
  if (rc == ENG_OK) rc = eng_spsc_create(sizeof(eng_meter_frame), METER_CAPACITY, &e->meters);
  if (rc == ENG_OK) rc = eng_spsc_create(sizeof(eng_plan *), RETIRE_CAPACITY, &e->retired);
  if (rc == ENG_OK) rc = eng_spsc_create(sizeof(monitor_item), ENG_MONITOR_CAPACITY, &e->monitor);
  if (rc == ENG_OK && cfg->lookahead_frames)
    rc = eng__cohort_create(cfg->lookahead_frames, cfg->workers ? cfg->workers : 1,
                            &e->n_ev_dropped, &e->co);
  if (rc != ENG_OK) {
    eng_engine_destroy(e);
    return rc;
  }
  for (uint32_t i = 0; i < ENG_MAX_TRACKS; i++)
    e->slots[i] = (slot_state){.cur = ENG_NO_SLOT, .next = ENG_NO_SLOT};
  double sr = cfg->sample_rate;
  e->window_frames = (uint32_t) (sr * ENG_METER_WINDOW_MS / 1000.0);
  eng__kmeter_init(&e->kmeter, (uint32_t) sr);
  *out = e;
  return ENG_OK;
}

void eng_engine_destroy(eng_engine *e) {
  if (!e) return;
  eng__cohort_destroy(e->co);
  if (e->retired) eng_engine_collect(e);
  eng_plan_destroy(atomic_exchange(&e->pending, NULL));
  eng_plan_destroy(e->plan);
  eng_spsc_destroy(e->commands);
  eng_spsc_destroy(e->meters);
  eng_spsc_destroy(e->retired);
  eng_spsc_destroy(e->monitor);
  free(e);
}

eng_config eng_engine_config(const eng_engine *e) {
  return e->cfg;
}

void eng__engine_settle(eng_engine *e) {
  eng__cohort_settle(e->co);
}

void eng__engine_set_tap(eng_engine *e, float *tap, uint32_t n_tracks, uint32_t stride_frames) {
  e->tap = tap;
  e->tap_tracks = tap ? n_tracks : 0;
  e->tap_stride = stride_frames;
}

/* ------------------------------------------------------------------------ */
/* control thread                                                           */
/* ------------------------------------------------------------------------ */

int eng_engine_set_plan(eng_engine *e, eng_plan *p) {
  if (!e || !p) {
    eng_plan_destroy(p);
    return ENG_ERR_INVALID;
  }
  if (p->sample_rate != e->cfg.sample_rate) {
    eng_plan_destroy(p);
    return ENG_ERR_INVALID;
  }
  eng_engine_collect(e);
  e->latest = p;
  /* Whoever exchanges a pointer out of `pending` owns it: if the RT thread
   * had not taken the previous plan yet, it never will, so free it here. */
  eng_plan *unseen = atomic_exchange_explicit(&e->pending, p, memory_order_acq_rel);
  eng_plan_destroy(unseen);
  return ENG_OK;
}

void eng_engine_collect(eng_engine *e) {
  eng_plan *p;
  while (eng_spsc_pop(e->retired, &p))
    eng_plan_destroy(p);
}

static int push(eng_engine *e, const command *c) {
  return eng_spsc_push(e->commands, c) ? ENG_OK : ENG_ERR_FULL;
}

static int push_command(eng_engine *e, uint32_t kind, uint64_t frame) {
  if (!e) return ENG_ERR_INVALID;
  command c = {.kind = kind, .frame = frame};
  return push(e, &c);
}

/* Track index of `id` in plan p, or UINT32_MAX. */
static uint32_t track_index(const eng_plan *p, uint64_t id) {
  for (uint32_t i = 0; p && i < p->n_tracks; i++)
    if (p->tracks[i].track_id == id) return i;
  return UINT32_MAX;
}

/* Node of (track, device) in p, or NULL. */
static eng_plan_node *device_node(const eng_plan *p, uint64_t track_id, uint32_t device) {
  uint32_t t = track_index(p, track_id);
  if (t == UINT32_MAX || device >= p->tracks[t].n_devices) return NULL;
  eng_plan_node *nd = &p->nodes[p->tracks[t].devices[device]];
  return nd->cls->n_params ? nd : NULL;
}

int eng_engine_set_param(eng_engine *e, uint64_t track_id, uint32_t device, uint32_t param_id,
                         float value) {
  if (!e) return ENG_ERR_INVALID;
  const eng_plan_node *nd = device_node(e->latest, track_id, device);
  if (!nd) return ENG_ERR_INVALID;
  if (param_id >= nd->cls->n_params) return ENG_ERR_PARAM;
  const eng_param_info *pi = &nd->cls->params[param_id];
  if (!(isfinite(value) && value >= pi->min && value <= pi->max)) return ENG_ERR_PARAM;
  command c = {
      .kind = CMD_PARAM, .track_id = track_id, .device = device, .id = param_id, .value = value};
  return push(e, &c);
}

int eng_engine_note(eng_engine *e, uint64_t track_id, uint8_t key, uint8_t velocity) {
  if (!e || key > 127 || velocity > 127) return ENG_ERR_INVALID;
  uint32_t t = track_index(e->latest, track_id);
  if (t == UINT32_MAX || !e->latest->tracks[t].live) return ENG_ERR_INVALID;
  command c = {.kind = CMD_NOTE, .track_id = track_id, .id = key, .value = velocity};
  return push(e, &c);
}

int eng_engine_set_playing(eng_engine *e, bool playing) {
  return push_command(e, playing ? CMD_PLAY : CMD_STOP, 0);
}

int eng_engine_locate(eng_engine *e, uint64_t frame) {
  return push_command(e, CMD_LOCATE, frame);
}

int eng_engine_play_count_in(eng_engine *e, uint32_t bars) {
  if (!e || bars > ENG_MAX_COUNT_IN_BARS) return ENG_ERR_INVALID;
  command c = {.kind = CMD_COUNT_IN, .id = bars};
  return push(e, &c);
}

/* Slot `slot` of track index t of plan p, or NULL. */
static const eng_plan_slot *find_slot(const eng_plan *p, uint32_t t, int32_t slot) {
  const eng_plan_track *tr = &p->tracks[t];
  for (uint32_t k = 0; slot >= 0 && k < tr->n_slots; k++)
    if (tr->slots[k].slot == (uint32_t) slot) return &tr->slots[k];
  return NULL;
}

int eng_engine_launch(eng_engine *e, uint64_t track_id, uint32_t slot, uint64_t quant_frames) {
  if (!e || slot > INT32_MAX) return ENG_ERR_INVALID;
  uint32_t t = track_index(e->latest, track_id);
  if (t == UINT32_MAX || !find_slot(e->latest, t, (int32_t) slot)) return ENG_ERR_INVALID;
  command c = {.kind = CMD_LAUNCH, .track_id = track_id, .id = slot, .frame = quant_frames};
  return push(e, &c);
}

int eng_engine_launch_grid(eng_engine *e, uint64_t track_id, int32_t slot, uint32_t beats,
                           uint32_t bars) {
  if (!e || (!beats && !bars) || beats > ENG_MAX_BEATS_PER_BAR || bars > 8) return ENG_ERR_INVALID;
  uint32_t t = track_index(e->latest, track_id);
  if (t == UINT32_MAX || (slot != ENG_NO_SLOT && !find_slot(e->latest, t, slot)))
    return ENG_ERR_INVALID;
  command c = {.kind = slot == ENG_NO_SLOT ? CMD_STOP_SLOT : CMD_LAUNCH,
               .track_id = track_id,
               .id = (uint32_t) slot,
               .device = bars ? 0 : beats,
               .value = (float) bars}; /* device / value: a grid quantum (frame unused) */
  return push(e, &c);
}

int eng_engine_stop_slot(eng_engine *e, uint64_t track_id, uint64_t quant_frames) {
  if (!e || track_index(e->latest, track_id) == UINT32_MAX) return ENG_ERR_INVALID;
  command c = {.kind = CMD_STOP_SLOT, .track_id = track_id, .frame = quant_frames};
  return push(e, &c);
}

/* ------------------------------------------------------------------------ */
/* RT thread                                                                */
/* ------------------------------------------------------------------------ */

static void bump(_Atomic uint64_t *counter) {
  atomic_fetch_add_explicit(counter, 1, memory_order_relaxed);
}

void eng_engine_count_xrun(eng_engine *e) {
  bump(&e->n_xruns);
}

/* Hands the running state of node `from` (outgoing plan) on to node `to`
 * (incoming plan) if they are the same class, and gives `from` the fresh
 * state in exchange, so each plan still frees exactly the states its nodes
 * hold. The incoming description's parameter values become glide targets. */
static void carry_state(eng_plan_node *from, eng_plan_node *to) {
  if (from->cls != to->cls || !from->state || !to->state) return;
  void *fresh = to->state;
  to->state = from->state;
  from->state = fresh;
  eng_pstate *kept = to->state;
  const eng_pstate *want = fresh;
  for (uint32_t k = 0; k < to->cls->n_params; k++) {
    bool automated = false; /* the curve takes it from where it is (eng__auto_begin) */
    for (uint32_t j = 0; j < to->n_autos; j++)
      automated |= to->autos[j].param == k;
    if (!automated && kept->p[k].target != want->p[k].target)
      eng_smooth_set(&kept->p[k], want->p[k].target);
  }
  if (to->cls->adopt) to->cls->adopt(to->state, fresh);
}

/* State carry-over at a swap (eng_plan_int.h): devices matched by (track id,
 * device index, class), faders by track id, and the master. No allocation,
 * no lock: pointer exchanges only, O(tracks^2 + nodes). */
static void carry_states(eng_plan *old, eng_plan *np) {
  for (uint32_t i = 0; i < np->n_tracks; i++) {
    const eng_plan_track *nt = &np->tracks[i];
    uint32_t j = i < old->n_tracks && old->tracks[i].track_id == nt->track_id
                     ? i
                     : track_index(old, nt->track_id);
    if (j == UINT32_MAX) continue;
    const eng_plan_track *ot = &old->tracks[j];
    for (uint32_t dv = 0; dv < nt->n_devices && dv < ot->n_devices; dv++)
      carry_state(&old->nodes[ot->devices[dv]], &np->nodes[nt->devices[dv]]);
    carry_state(&old->nodes[ot->fader], &np->nodes[nt->fader]);
  }
  carry_state(&old->nodes[old->master_node], &np->nodes[np->master_node]);
}

/* Session clips follow their track (by id) into plan np; a slot np no
 * longer has stops (or, queued, becomes a queued stop). */
static void remap_slots(eng_engine *e, const eng_plan *old, const eng_plan *np) {
  for (uint32_t i = 0; i < ENG_MAX_TRACKS; i++) {
    slot_state *st = &e->slots_tmp[i];
    uint32_t j = i < np->n_tracks ? track_index(old, np->tracks[i].track_id) : UINT32_MAX;
    *st = j != UINT32_MAX ? e->slots[j] : (slot_state){.cur = ENG_NO_SLOT, .next = ENG_NO_SLOT};
    if (j == UINT32_MAX) continue;
    if (!find_slot(np, i, st->cur)) st->cur = ENG_NO_SLOT;
    if (!find_slot(np, i, st->next)) st->next = ENG_NO_SLOT;
  }
  memcpy(e->slots, e->slots_tmp, sizeof e->slots);
}

/* Takes a pending plan, if any, handing the current one back for collection.
 * Only swaps when the retire queue has room, so a plan is never lost and
 * never freed here; otherwise it tries again next block. */
static bool take_pending_plan(eng_engine *e) {
  if (!atomic_load_explicit(&e->pending, memory_order_relaxed)) return false;
  if (e->plan && eng_spsc_write_space(e->retired) == 0) {
    bump(&e->n_deferred);
    return false;
  }
  eng_plan *np = atomic_exchange_explicit(&e->pending, NULL, memory_order_acq_rel);
  if (!np) return false;
  eng_plan *old = e->plan;
  /* Keep a track's meter window across the swap only if the same track is
   * in the same slot; otherwise start that slot afresh. */
  for (uint32_t i = 0; i < ENG_MAX_TRACKS; i++) {
    bool same = old && i < old->n_tracks && i < np->n_tracks &&
                old->tracks[i].track_id == np->tracks[i].track_id;
    if (!same) {
      e->acc_peak[1 + i] = 0.0f;
      e->acc_sumsq[1 + i] = 0.0;
    }
  }
  if (old) carry_states(old, np);
  remap_slots(e, old, np);
  e->plan = np;
  if (old) eng_spsc_push(e->retired, &old); /* cannot fail: space checked above */
  bump(&e->n_swaps);
  uint32_t hidden_ms = 0; /* the idle window: ENG_QUIET_MS, plus what a delay line may hide */
  for (uint32_t i = 0; i < np->n_nodes; i++)
    if (np->nodes[i].cls->hidden_ms > hidden_ms) hidden_ms = np->nodes[i].cls->hidden_ms;
  e->quiet_need = (uint64_t) (ENG_QUIET_MS + hidden_ms) * np->sample_rate / 1000;
  return true;
}

static void apply_command(eng_engine *e, command c) {
  {
    switch ((cmd_kind) c.kind) {
      case CMD_PLAY:
        e->playing = true;
        e->fade_left = 0;
        e->count_left = 0;
        break;
      case CMD_COUNT_IN:
        if (e->playing) break; /* already playing: nothing to count in */
        if (!e->plan || c.id == 0) {
          e->playing = true;
          e->fade_left = 0;
          e->count_left = 0;
          break;
        }
        e->count_left = eng__count_in_frames(e->plan, e->position, c.id);
        e->count_at = 0;
        break;
      case CMD_STOP:
        if (e->playing) {
          e->fade_left = ENG_STOP_FADE_FRAMES;
          e->fade_pos = e->position;
          e->all_off = true;
        }
        e->playing = false;
        e->count_left = 0;
        for (uint32_t i = 0; i < ENG_MAX_TRACKS; i++) /* stopping stops the session clips */
          e->slots[i] = (slot_state){.cur = ENG_NO_SLOT, .next = ENG_NO_SLOT};
        break;
      case CMD_LAUNCH:
      case CMD_STOP_SLOT: {
        uint32_t t = track_index(e->plan, c.track_id);
        int32_t next = c.kind == CMD_LAUNCH ? (int32_t) c.id : ENG_NO_SLOT;
        if (t == UINT32_MAX || (next != ENG_NO_SLOT && !find_slot(e->plan, t, next))) {
          bump(&e->n_cmd_dropped);
          break;
        }
        /* The next multiple of the quantum on the transport (now if on one),
         * counted on the session clock from here. */
        uint64_t q = c.frame, wait = q ? (q - e->position % q) % q : 0;
        if (c.device || c.value > 0.0f) /* eng_engine_launch_grid */
          wait = eng__grid_next(e->plan, e->position, c.device, (uint32_t) c.value) - e->position;
        slot_state *st = &e->slots[t];
        st->pending = true;
        st->next = next;
        st->at = e->clock + wait;
        break;
      }
      case CMD_LOCATE:
        e->position = c.frame;
        e->fade_left = 0;
        e->all_off = true;
        break;
      case CMD_NOTE: {
        uint32_t t = track_index(e->plan, c.track_id);
        if (t == UINT32_MAX || !e->plan->tracks[t].live || e->n_live == MAX_LIVE) {
          bump(&e->n_cmd_dropped);
          break;
        }
        e->live[e->n_live++] = (live_note){t, (uint8_t) c.id, (uint8_t) c.value};
        break;
      }
      case CMD_PARAM: {
        eng_plan_node *nd = device_node(e->plan, c.track_id, c.device);
        if (!nd || c.id >= nd->cls->n_params || c.value < nd->cls->params[c.id].min ||
            c.value > nd->cls->params[c.id].max) {
          bump(&e->n_cmd_dropped); /* the plan changed since the call was checked */
          break;
        }
        eng__param_set(nd->state, c.id, c.value);
        break;
      }
    }
  }
}

/* Applies the queued commands; returns how many there were. */
static uint32_t drain_commands(eng_engine *e) {
  command c;
  uint32_t n = 0;
  for (; eng_spsc_pop(e->commands, &c); n++)
    apply_command(e, c);
  return n;
}

/* While the cohort renders ahead, whatever would make its prediction wrong
 * waits until the lookahead has passed: stop, locate, a parameter of an
 * anticipated device, a new plan. The rest (live notes, parameters of
 * live-cohort devices, launches) applies now. */
static bool holds(const eng_engine *e, const command *c) {
  if (c->kind == CMD_STOP || c->kind == CMD_LOCATE) return true;
  if (c->kind != CMD_PARAM) return false;
  const eng_plan_node *nd = device_node(e->plan, c->track_id, c->device);
  return nd && eng__co_has(e->co->rt_mask, nd->track);
}

/* Commands and plans while the cohort is active (block at session frame x):
 * held ones wait for x >= apply_at and for every chain to be back in the
 * RT thread's hands; then they apply, in order, and the cohort is off until
 * the transport is steady again. Returns whether anything arrived. */
static bool cohort_commands(eng_engine *e, uint64_t x, uint32_t frames) {
  bool woke = false;
  command c;
  while (e->n_held < COMMAND_CAPACITY && eng_spsc_pop(e->commands, &c)) {
    woke = true;
    if (e->n_held || holds(e, &c))
      e->held[e->n_held++] = c; /* after a held one, keep the order */
    else
      apply_command(e, c);
  }
  uint32_t grid = atomic_load_explicit(&e->co->grid, memory_order_relaxed);
  if (!e->holding &&
      (e->n_held || frames != grid || atomic_load_explicit(&e->pending, memory_order_relaxed))) {
    e->holding = true; /* the ring holds up to a lookahead: use it, render no more */
    e->apply_at = x + e->co->lookahead;
  }
  if (!e->holding) return woke;
  eng__cohort_limit(e->co, e->apply_at);
  if (x < e->apply_at || !eng__cohort_stop(e->co)) return woke;
  e->holding = false;
  for (uint32_t i = 0; i < e->n_held; i++)
    apply_command(e, e->held[i]);
  e->n_held = 0;
  woke |= take_pending_plan(e);
  woke |= drain_commands(e) > 0;
  return true;
}

static uint32_t add_event(eng_engine *e, uint32_t n, eng_event ev) {
  if (n == ENG_MAX_EVENTS) {
    bump(&e->n_ev_dropped);
    return n;
  }
  e->events[n] = ev;
  return n + 1;
}

/* Events of session clip sl started at clock frame A and stopping at S
 * (UINT64_MAX: not stopping), over the chunk's clock frames [a, b):
 * note-ons at clock frames in [A, S), note-offs in (A, S], then at S the
 * note-offs of the notes it cuts short. Offsets relative to a. */
static uint32_t slot_events(eng_engine *e, uint32_t n, const eng_plan_slot *sl, uint64_t A,
                            uint64_t S, uint64_t a, uint64_t b) {
  uint64_t L = sl->length, lo = a > A ? a : A;
  uint64_t hi = S < b ? S + 1 : b; /* offs up to S inclusive */
  if (lo >= hi) return n;
  uint64_t k0 = (lo - A) / L, k1 = (hi - 1 - A) / L;
  if (k0) k0--; /* a note-off at the end of the previous pass lands on this one's start */
  for (uint64_t k = k0; k <= k1; k++) {
    uint64_t ps = A + k * L;
    for (uint32_t i = eng__first_event_at(sl->events, sl->n_events, lo > ps ? lo - ps : 0);
         i < sl->n_events && ps + sl->events[i].frame < hi; i++) {
      const eng_plan_event *pe = &sl->events[i];
      uint64_t f = ps + pe->frame;
      if (pe->kind == ENG_EV_NOTE_ON && f >= S) continue;
      n = add_event(e, n, (eng_event){(uint32_t) (f - a), pe->kind, pe->key, pe->velocity});
    }
  }
  if (S >= a && S < b && S > A) { /* cut at S: notes sounding across it */
    uint64_t rel = (S - A) % L;
    for (uint32_t i = 0; i < sl->n_notes && sl->notes[i].start < rel; i++)
      if (sl->notes[i].end > rel)
        n = add_event(e, n, (eng_event){(uint32_t) (S - a), ENG_EV_NOTE_OFF, sl->notes[i].key, 0});
  }
  return n;
}

/* The session clip events of track index t over the chunk's clock frames
 * [a, a + len): the playing slot until a queued switch, then the next one
 * from the switch. Reads the state only (commit_slots moves it on). */
static uint32_t chunk_slot_events(eng_engine *e, const eng_plan *p, uint32_t t, uint64_t a,
                                  uint32_t len, uint32_t n) {
  const slot_state *st = &e->slots[t];
  uint64_t b = a + len;
  bool switching = st->pending && st->at < b;
  const eng_plan_slot *sl = find_slot(p, t, st->cur);
  if (sl) n = slot_events(e, n, sl, st->anchor, switching ? st->at : UINT64_MAX, a, b);
  if (switching && (sl = find_slot(p, t, st->next)) != NULL)
    n = slot_events(e, n, sl, st->at, UINT64_MAX, a, b);
  return n;
}

/* Queued switches whose frame falls before clock frame b take effect. */
static void commit_slots(eng_engine *e, const eng_plan *p, uint64_t b) {
  for (uint32_t t = 0; t < p->n_tracks; t++) {
    slot_state *st = &e->slots[t];
    if (!st->pending || st->at >= b) continue;
    st->cur = st->next;
    st->anchor = st->at;
    st->pending = false;
    st->next = ENG_NO_SLOT;
    eng__follow(p, t, st); /* its follow action, if any, is queued from here */
  }
}

/* Collects the note events of instrument node `nd` for the chunk
 * [r->start, r->start + r->n) (session clock frame `clock`): all-off, the
 * loop's cut note-offs after a wrap, live notes (offset 0), then the plan's
 * notes whose frame falls in the chunk and the session clip's, while
 * playing; sorted by offset (stable: offs before ons at one frame). */
static uint32_t chunk_events(eng_engine *e, const eng_plan *p, const eng_plan_node *nd,
                             const eng_run *r, bool playing, uint64_t clock) {
  uint32_t n = 0;
  const eng_plan_track *tr = &p->tracks[nd->track];
  if (e->all_off) e->events[n++] = (eng_event){0, ENG_EV_ALL_OFF, 0, 0};
  for (uint32_t i = 0; playing && e->wrapped && i < tr->n_cuts; i++)
    n = add_event(e, n, (eng_event){0, ENG_EV_NOTE_OFF, tr->cuts[i].key, 0});
  for (uint32_t i = 0; i < e->n_live && n < ENG_MAX_EVENTS; i++)
    if (e->live[i].track == nd->track)
      e->events[n++] = (eng_event){0, e->live[i].velocity ? ENG_EV_NOTE_ON : ENG_EV_NOTE_OFF,
                                   e->live[i].key, e->live[i].velocity};
  if (!playing) return n;
  uint64_t end = r->start + r->n;
  for (uint32_t i = eng__first_event_at(tr->events, tr->n_events, r->start);
       i < tr->n_events && tr->events[i].frame < end; i++) {
    const eng_plan_event *pe = &tr->events[i];
    n = add_event(e, n,
                  (eng_event){(uint32_t) (pe->frame - r->start), pe->kind, pe->key, pe->velocity});
  }
  uint32_t before = n;
  if (tr->n_slots) n = chunk_slot_events(e, p, nd->track, clock, r->n, n);
  if (n > before) /* merge: insertion sort by offset, stable */
    for (uint32_t i = 1; i < n; i++) {
      eng_event x = e->events[i];
      uint32_t j = i;
      for (; j > 0 && e->events[j - 1].offset > x.offset; j--)
        e->events[j] = e->events[j - 1];
      e->events[j] = x;
    }
  return n;
}

/* Whether a stereo buffer's first n frames reach ENG_QUIET_LEVEL. */
static bool sounds(const float *L, uint32_t n) {
  float peak = 0.0f;
  for (uint32_t k = 0; k < n; k++)
    peak = fmaxf(peak, fmaxf(fabsf(L[k]), fabsf(L[ENG_CHUNK + k])));
  return peak >= ENG_QUIET_LEVEL;
}

/* Anticipated track t's chain for the chunk of r (session frame cx): the
 * ring's audio, and when the RT thread renders the rest of the block itself
 * from inside this chunk (inline_from), the chain's devices over that part
 * as a sub-run: buffers shifted to the split frame, the plan's notes there
 * (a chain of the cohort gets no other events; cut note-offs went with the
 * chunk's first frame, rendered ahead). */
static void ahead_chunk(eng_engine *e, const eng_plan *p, uint32_t t, const eng_run *r,
                        uint64_t cx) {
  const eng_plan_track *tr = &p->tracks[t];
  float *L = eng__buf(r, tr->buf);
  uint64_t from = e->co->chains[t].inline_from;
  uint32_t k = from < cx + r->n ? (uint32_t) (from - cx) : r->n;
  eng__cohort_read(e->co, t, cx, k, L, L + ENG_CHUNK);
  if (k == r->n) return;
  eng_run sub = *r;
  sub.buffers = r->buffers + k;
  sub.out = r->out + 2 * (size_t) k;
  sub.start = r->start + k;
  sub.n = r->n - k;
  sub.t_frames = r->t_frames > k ? r->t_frames - k : 0;
  for (uint32_t j = 0; j < k && j < r->t_frames; j++)
    sub.ramp += sub.ramp_step;
  for (uint32_t i = 0; i < tr->n_devices; i++) {
    eng_plan_node *nd = &p->nodes[tr->devices[i]];
    if (nd->bypass) continue;
    sub.events = e->events;
    sub.n_events = 0;
    uint64_t end = sub.start + sub.n;
    for (uint32_t j = eng__first_event_at(tr->events, tr->n_events, sub.start);
         nd->cls->instrument && sub.t_frames && j < tr->n_events && tr->events[j].frame < end;
         j++) {
      const eng_plan_event *pe = &tr->events[j];
      sub.n_events = add_event(
          e, sub.n_events,
          (eng_event){(uint32_t) (pe->frame - sub.start), pe->kind, pe->key, pe->velocity});
    }
    bool lanes = nd->n_autos && nd->cls->n_params;
    if (lanes) eng__auto_begin(nd, &sub, e->auto_lanes);
    nd->cls->process(nd, &sub);
    if (lanes) eng__auto_end(nd);
  }
}

/* Runs the plan's sorted nodes over `frames` frames in chunks of at most
 * ENG_CHUNK, writing interleaved stereo to `out` (frame `at` of the block,
 * for the stem tap). The transport drives the first t_total frames from
 * position tpos (session clock `clock`) with the gain ramp (stop fade). */
static void run_plan(eng_engine *e, const eng_plan *p, float *out, uint32_t frames, uint64_t tpos,
                     uint32_t t_total, float ramp, float ramp_step, bool playing, uint32_t at,
                     uint64_t clock) {
  eng_run r = {.plan = p,
               .buffers = p->buffers,
               .ramp_step = ramp_step,
               .acc_peak = e->acc_peak,
               .acc_sumsq = e->acc_sumsq,
               .slots = e->slots};
  for (uint32_t done = 0; done < frames; done += r.n) {
    r.n = frames - done < ENG_CHUNK ? frames - done : ENG_CHUNK;
    r.start = tpos + done;
    r.clock = clock + done;
    r.t_frames = t_total > done ? (t_total - done < r.n ? t_total - done : r.n) : 0;
    r.ramp = ramp;
    r.out = out + 2 * (size_t) done;
    bool ahead = e->co && e->co->active;
    for (uint32_t i = 0; i < p->n_nodes; i++) {
      eng_plan_node *nd = &p->nodes[i];
      uint64_t cx = e->blk_x + at + done; /* session frame of the chunk */
      if (ahead && e->co->role[i] && e->co->chains[nd->track].inline_from > cx) {
        if (e->co->role[i] == ENG_CO_SOURCE) ahead_chunk(e, p, nd->track, &r, cx);
        continue; /* effects: done with the source (ahead_chunk) */
      }
      if (nd->bypass) continue; /* effects work in place: bypass passes the buffer on */
      r.events = e->events;
      r.n_events = nd->cls->instrument ? chunk_events(e, p, nd, &r, playing, clock + done) : 0;
      bool lanes = nd->n_autos && nd->cls->n_params; /* the fader reads its own */
      if (lanes) eng__auto_begin(nd, &r, e->auto_lanes);
      nd->cls->process(nd, &r);
      if (lanes) eng__auto_end(nd);
      if (e->watch && !e->loud && nd->out != ENG_NO_BUF)
        e->loud = sounds(eng__buf(&r, nd->out), r.n);
    }
    e->all_off = false;
    e->wrapped = false;
    e->n_live = 0;
    if (playing) commit_slots(e, p, clock + done + r.n);
    for (uint32_t t = 0; e->tap && t < p->n_tracks && t < e->tap_tracks; t++) {
      const float *L = eng__buf(&r, p->tracks[t].buf), *R = L + ENG_CHUNK;
      float *o = e->tap + (size_t) t * 2 * e->tap_stride + 2 * ((size_t) at + done);
      for (uint32_t k = 0; k < r.n; k++) {
        o[2 * k] = L[k];
        o[2 * k + 1] = R[k];
      }
    }
    for (uint32_t k = 0; k < r.t_frames; k++) /* same float steps as the nodes took */
      ramp += ramp_step;
  }
}

/* Plays `frames` frames from the transport position into `out` (frame `at`
 * of the block), wrapping at the loop's end on the exact frame: the span is
 * cut there and goes on from the loop's start. Advances the position and
 * the session clock. */
static void play_span(eng_engine *e, const eng_plan *p, float *out, uint32_t frames, uint32_t at) {
  for (uint32_t done = 0; done < frames;) {
    uint32_t n = frames - done;
    bool looping = p->loop && e->position < p->loop_end;
    if (looping && p->loop_end - e->position < n) n = (uint32_t) (p->loop_end - e->position);
    run_plan(e, p, out + 2 * (size_t) done, n, e->position, n, 1.0f, 0.0f, true, at + done,
             e->clock);
    e->position += n;
    e->clock += n;
    done += n;
    if (looping && e->position == p->loop_end) {
      e->position = p->loop_start;
      e->wrapped = true;
    }
  }
}

/* Renders `frames` stopped frames (frame `at` of the block): the stop fade,
 * or instruments and effects ringing on. */
static void stopped_span(eng_engine *e, const eng_plan *p, float *out, uint32_t frames,
                         uint32_t at) {
  if (e->fade_left > 0) {
    uint32_t n = frames < e->fade_left ? frames : e->fade_left;
    float step = 1.0f / ENG_STOP_FADE_FRAMES;
    run_plan(e, p, out, p->has_devices ? frames : n, e->fade_pos, n, (float) e->fade_left * step,
             -step, false, at, 0);
    e->fade_pos += n;
    e->fade_left -= n;
  } else if (p->has_devices) { /* stopped: instruments and effects still ring */
    e->watch = true;
    e->loud = false;
    run_plan(e, p, out, frames, e->position, 0, 1.0f, 0.0f, false, at, 0);
    e->watch = false;
    e->quiet = e->loud ? 0 : e->quiet + frames;
  }
}

/* The count-in's part of a block: the stopped plan plus the click of the
 * count (delayed by the plan's latency, as the metronome is, and times the
 * master gain); the transport starts on the frame after its last. Returns
 * the frames it took. */
static uint32_t count_in_span(eng_engine *e, const eng_plan *p, float *out, uint32_t frames) {
  uint32_t n = frames < e->count_left ? frames : (uint32_t) e->count_left;
  stopped_span(e, p, out, n, 0);
  uint64_t c = e->count_at, lat = p->latency;
  uint32_t skip = c < lat ? (lat - c < n ? (uint32_t) (lat - c) : n) : 0;
  if (skip < n)
    eng__click_add(p, e->position, c + skip - lat, n - skip, p->master_gain, out + 2 * skip);
  e->count_at += n;
  e->count_left -= n;
  if (e->count_left == 0) {
    e->playing = true;
    e->fade_left = 0;
  }
  return n;
}

static void set_meter(eng_meter *m, uint64_t id, float peak, double sumsq, uint32_t frames) {
  float rms = (float) sqrt(sumsq / (2.0 * frames));
  m->track_id = id;
  m->peak = peak;
  m->rms = rms < peak ? rms : peak; /* equal up to rounding; keep the invariant exact */
}

/* Adds the block to the master meter and pushes a frame when the window is
 * complete. */
static void meter_block(eng_engine *e, const float *out, uint32_t frames) {
  float peak = e->acc_peak[0];
  double sumsq = 0.0;
  for (uint32_t i = 0; i < 2 * frames; i++) {
    float a = fabsf(out[i]);
    if (a > peak) peak = a;
    sumsq += (double) out[i] * out[i];
  }
  e->acc_peak[0] = peak;
  e->acc_sumsq[0] += sumsq;
  e->acc_frames += frames;
  eng__kmeter_add(&e->kmeter, out, frames);
  if (e->acc_frames < e->window_frames) return;

  eng_meter_frame *f = &e->frame;
  const eng_plan *p = e->plan;
  f->position = e->position;
  f->lufs_momentary = eng__kmeter_momentary(&e->kmeter);
  f->lufs_short_term = eng__kmeter_short_term(&e->kmeter);
  f->playing = e->playing;
  f->counting_in = e->count_left > 0;
  f->n = 1 + (p ? p->n_tracks : 0);
  set_meter(&f->meters[0], 0, e->acc_peak[0], e->acc_sumsq[0], e->acc_frames);
  f->meters[0].slot = f->meters[0].queued = ENG_NO_SLOT;
  for (uint32_t i = 1; i < f->n; i++) {
    const slot_state *st = &e->slots[i - 1];
    set_meter(&f->meters[i], p->tracks[i - 1].track_id, e->acc_peak[i], e->acc_sumsq[i],
              e->acc_frames);
    f->meters[i].slot = st->cur;
    f->meters[i].queued = !st->pending              ? ENG_NO_SLOT
                          : st->next == ENG_NO_SLOT ? ENG_SLOT_STOP
                                                    : st->next;
  }
  bump(eng_spsc_push(e->meters, f) ? &e->n_pushed : &e->n_dropped);
  memset(e->acc_peak, 0, sizeof e->acc_peak);
  memset(e->acc_sumsq, 0, sizeof e->acc_sumsq);
  e->acc_frames = 0;
}

/* Copies the block's master into the monitor ring in items of at most
 * ENG_MONITOR_CHUNK_FRAMES; when the ring is full, drops the rest of the
 * block and counts it. The item is built in place: no stack copy of 1 kB. */
static void monitor_block(eng_engine *e, const float *out, uint32_t frames, uint64_t clock) {
  if (!atomic_load_explicit(&e->monitor_on, memory_order_relaxed)) return;
  for (uint32_t done = 0; done < frames;) {
    uint32_t n =
        frames - done < ENG_MONITOR_CHUNK_FRAMES ? frames - done : ENG_MONITOR_CHUNK_FRAMES;
    monitor_item *it = &e->mon_rt;
    it->clock = clock + done;
    it->frames = n;
    memcpy(it->lr, out + 2 * (size_t) done, (size_t) n * 2 * sizeof(float));
    if (!eng_spsc_push(e->monitor, it)) {
      atomic_fetch_add_explicit(&e->n_mon_dropped, frames - done, memory_order_relaxed);
      return;
    }
    atomic_fetch_add_explicit(&e->n_mon_frames, n, memory_order_relaxed);
    done += n;
  }
}

void eng_engine_process(eng_engine *e, float *out, uint32_t frames) {
  struct timespec t0, t1;
  clock_gettime(CLOCK_MONOTONIC, &t0);
  unsigned int fp = eng__flush_subnormals();
  memset(out, 0, (size_t) frames * 2 * sizeof(float));
  for (uint32_t t = 0; e->tap && t < e->tap_tracks; t++)
    memset(e->tap + (size_t) t * 2 * e->tap_stride, 0, (size_t) frames * 2 * sizeof(float));
  uint64_t x = e->blk_x = atomic_load_explicit(&e->n_frames, memory_order_relaxed);
  bool woke;
  if (e->co && e->co->active) {
    woke = cohort_commands(e, x, frames);
  } else {
    woke = take_pending_plan(e);
    woke |= drain_commands(e) > 0;
  }
  const eng_plan *p = e->plan;
  if (e->co && e->co->active) eng__cohort_begin(e->co, x, frames);
  if (woke || e->playing || e->count_left || e->fade_left) e->quiet = 0;
  if (p && !e->cfg.no_idle_skip && e->quiet >= e->quiet_need) {
    bump(&e->n_idle); /* stopped and silent: zeros, nothing to run until something arrives */
  } else if (!p) {
    bump(&e->n_no_plan);
    e->n_live = 0;
    if (e->playing) e->position += frames;
  } else {
    uint32_t at = e->count_left ? count_in_span(e, p, out, frames) : 0;
    if (at < frames && e->playing)
      play_span(e, p, out + 2 * (size_t) at, frames - at, at);
    else if (at < frames)
      stopped_span(e, p, out + 2 * (size_t) at, frames - at, at);
  }
  if (e->co && e->co->active)
    eng__cohort_end(e->co, x + frames);
  else if (e->co && p && e->playing && !e->count_left && !e->fade_left && !e->all_off &&
           !e->wrapped && !atomic_load_explicit(&e->pending, memory_order_relaxed))
    eng__cohort_start(e->co, p, x + frames, e->position, frames); /* steady: render ahead */
  meter_block(e, out, frames);
  monitor_block(e, out, frames, x);
  atomic_store_explicit(&e->position_pub, e->position, memory_order_relaxed);
  atomic_fetch_add_explicit(&e->n_frames, frames, memory_order_relaxed);
  bump(&e->n_blocks);
  clock_gettime(CLOCK_MONOTONIC, &t1);
  atomic_fetch_add_explicit(
      &e->n_busy_ns,
      (uint64_t) ((t1.tv_sec - t0.tv_sec) * 1000000000LL + (t1.tv_nsec - t0.tv_nsec)),
      memory_order_relaxed);
  eng__restore_fp(fp);
}

/* ------------------------------------------------------------------------ */
/* meter reader and any thread                                              */
/* ------------------------------------------------------------------------ */

int eng_engine_read_meters(eng_engine *e, eng_meter_frame *out) {
  if (!e || !out) return ENG_ERR_INVALID;
  return eng_spsc_pop(e->meters, out) ? 1 : 0;
}

void eng_engine_monitor_enable(eng_engine *e, bool on) {
  atomic_store_explicit(&e->monitor_on, on, memory_order_relaxed);
}

size_t eng_engine_monitor_read(eng_engine *e, float *lr, size_t max_frames, uint64_t *clock) {
  size_t got = 0;
  uint64_t first = 0;
  while (got < max_frames) {
    monitor_item *it = &e->mon_item;
    if (e->mon_at == it->frames) { /* this item is used up: take the next one */
      if (!eng_spsc_pop(e->monitor, it)) {
        it->frames = e->mon_at = 0;
        break;
      }
      e->mon_at = 0;
      if (got && it->clock != first + got) break; /* a gap: the next call starts after it */
    }
    if (!got) first = it->clock + e->mon_at;
    size_t n = it->frames - e->mon_at;
    if (n > max_frames - got) n = max_frames - got;
    memcpy(lr + 2 * got, it->lr + 2 * (size_t) e->mon_at, n * 2 * sizeof(float));
    e->mon_at += (uint32_t) n;
    got += n;
  }
  if (got && clock) *clock = first;
  return got;
}

static uint64_t load(const _Atomic uint64_t *counter) {
  return atomic_load_explicit(counter, memory_order_relaxed);
}

void eng_engine_stats(const eng_engine *e, eng_stats *out) {
  out->blocks = load(&e->n_blocks);
  out->frames = load(&e->n_frames);
  out->xruns = load(&e->n_xruns);
  out->blocks_without_plan = load(&e->n_no_plan);
  out->plan_swaps = load(&e->n_swaps);
  out->plans_deferred = load(&e->n_deferred);
  out->meters_pushed = load(&e->n_pushed);
  out->meters_dropped = load(&e->n_dropped);
  out->events_dropped = load(&e->n_ev_dropped);
  out->commands_dropped = load(&e->n_cmd_dropped);
  out->monitor_frames = load(&e->n_mon_frames);
  out->monitor_dropped = load(&e->n_mon_dropped);
  out->blocks_idle = load(&e->n_idle);
  out->busy_ns = load(&e->n_busy_ns);
  if (e->co) {
    out->ahead_blocks = load(&e->co->n_ahead);
    out->ahead_rendered = load(&e->co->n_rendered);
    out->cohort_misses = load(&e->co->n_misses);
    out->cohort_gap_frames = load(&e->co->n_gaps);
  } else {
    out->ahead_blocks = out->ahead_rendered = out->cohort_misses = out->cohort_gap_frames = 0;
  }
}

uint64_t eng_engine_position(const eng_engine *e) {
  return load(&e->position_pub);
}
