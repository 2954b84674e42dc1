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
#include "engine/eng_err.h"
#include "engine/eng_plan_int.h"
#include "engine/eng_spsc.h"

#include <math.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

_Static_assert(ATOMIC_POINTER_LOCK_FREE == 2, "plan swap needs lock-free pointer atomics");
_Static_assert(ATOMIC_LLONG_LOCK_FREE == 2, "RT counters need lock-free 64-bit atomics");

#define TWO_PI 6.283185307179586

#define COMMAND_CAPACITY 256 /* commands queued before ENG_ERR_FULL */
#define METER_CAPACITY   64  /* meter frames (~1.6 s at 25 ms) before drops */
#define RETIRE_CAPACITY  16  /* retired plans awaiting eng_engine_collect */

/* Sound of the skeleton's voices. */
#define VOICE_AMP   0.3f   /* peak of a track's tone before gain and pan */
#define ATTACK_S    0.002  /* linear attack from 0 at the beat onset */
#define RELEASE_S   0.002  /* linear fade to exactly 0 on the frame before the next onset */
#define DECAY_TAU_S 0.15   /* exponential decay time constant */
#define NOTE_TAUS   7.0    /* the note is cut to 0 after this many taus (-61 dB) */
#define CLICK_S     0.030  /* metronome click length */
#define CLICK_TAU_S 0.005  /* click decay time constant */
#define CLICK_HZ    1000.0 /* click pitch */
#define ACCENT_HZ   1500.0 /* pitch of the accented click (beat 1 of a bar) */
#define CLICK_AMP   0.25f  /* click peak */
#define ACCENT_AMP  0.5f   /* accented click peak */

typedef enum { CMD_PLAY = 1, CMD_STOP, CMD_LOCATE } cmd_kind;

typedef struct command {
  uint32_t kind;  /* cmd_kind */
  uint64_t frame; /* CMD_LOCATE target */
} command;

struct eng_engine {
  eng_config cfg;              /* as created */
  eng_spsc *commands;          /* control -> RT: command */
  eng_spsc *meters;            /* RT -> reader: eng_meter_frame */
  eng_spsc *retired;           /* RT -> control: eng_plan * */
  _Atomic(eng_plan *) pending; /* set by control, taken (exchanged to NULL) by RT */

  /* Synth constants, in frames, derived from cfg at create. */
  uint32_t attack_frames;      /* > 0 */
  uint32_t release_frames;     /* > 0 */
  uint64_t note_frames;        /* note length before the hard cut */
  float decay_per_frame;       /* 1 / (tau in frames) */
  uint32_t click_frames;       /* click length */
  float click_decay_per_frame; /* 1 / (click tau in frames) */
  uint32_t window_frames;      /* meter window */

  /* RT thread state: only eng_engine_process touches these. */
  eng_plan *plan;                 /* current plan or NULL */
  uint64_t position;              /* transport, frames */
  bool playing;                   /* transport state */
  uint32_t fade_left;             /* frames of stop fade still to render */
  uint64_t fade_pos;              /* voice position during the stop fade */
  uint32_t acc_frames;            /* frames in the current meter window */
  float acc_peak[ENG_MAX_METERS]; /* [0] master, [1 + i] track i */
  double acc_sumsq[ENG_MAX_METERS];
  eng_meter_frame frame; /* meter frame being built (kept off the RT stack) */

  /* Published by RT, read by any thread. */
  _Atomic uint64_t position_pub;
  _Atomic uint64_t n_blocks, n_frames, n_xruns, n_no_plan, n_swaps, n_deferred, n_pushed, n_dropped;
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
  int rc = eng_spsc_create(sizeof(command), COMMAND_CAPACITY, &e->commands);
  if (rc == ENG_OK) rc = eng_spsc_create(sizeof(eng_meter_frame), METER_CAPACITY, &e->meters);
  if (rc == ENG_OK) rc = eng_spsc_create(sizeof(eng_plan *), RETIRE_CAPACITY, &e->retired);
  if (rc != ENG_OK) {
    eng_engine_destroy(e);
    return rc;
  }
  double sr = cfg->sample_rate;
  e->attack_frames = (uint32_t) ceil(ATTACK_S * sr);
  e->release_frames = (uint32_t) ceil(RELEASE_S * sr);
  e->note_frames = (uint64_t) (NOTE_TAUS * DECAY_TAU_S * sr);
  e->decay_per_frame = (float) (1.0 / (DECAY_TAU_S * sr));
  e->click_frames = (uint32_t) (CLICK_S * sr);
  e->click_decay_per_frame = (float) (1.0 / (CLICK_TAU_S * sr));
  e->window_frames = (uint32_t) (sr * ENG_METER_WINDOW_MS / 1000.0);
  *out = e;
  return ENG_OK;
}

void eng_engine_destroy(eng_engine *e) {
  if (!e) return;
  if (e->retired) eng_engine_collect(e);
  eng_plan_destroy(atomic_exchange(&e->pending, NULL));
  eng_plan_destroy(e->plan);
  eng_spsc_destroy(e->commands);
  eng_spsc_destroy(e->meters);
  eng_spsc_destroy(e->retired);
  free(e);
}

eng_config eng_engine_config(const eng_engine *e) {
  return e->cfg;
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

static int push_command(eng_engine *e, uint32_t kind, uint64_t frame) {
  if (!e) return ENG_ERR_INVALID;
  command c = {.kind = kind, .frame = frame};
  return eng_spsc_push(e->commands, &c) ? ENG_OK : ENG_ERR_FULL;
}

int eng_engine_set_playing(eng_engine *e, bool playing) {
  return push_command(e, playing ? CMD_PLAY : CMD_STOP, 0);
}

int eng_engine_locate(eng_engine *e, uint64_t frame) {
  return push_command(e, CMD_LOCATE, frame);
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

/* Takes a pending plan, if any, handing the current one back for collection.
 * Only swaps when the retire queue has room, so a plan is never lost and
 * never freed here; otherwise it tries again next block. */
static void take_pending_plan(eng_engine *e) {
  if (!atomic_load_explicit(&e->pending, memory_order_relaxed)) return;
  if (e->plan && eng_spsc_write_space(e->retired) == 0) {
    bump(&e->n_deferred);
    return;
  }
  eng_plan *np = atomic_exchange_explicit(&e->pending, NULL, memory_order_acq_rel);
  if (!np) return;
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
  e->plan = np;
  if (old) eng_spsc_push(e->retired, &old); /* cannot fail: space checked above */
  bump(&e->n_swaps);
}

static void drain_commands(eng_engine *e) {
  command c;
  while (eng_spsc_pop(e->commands, &c)) {
    switch ((cmd_kind) c.kind) {
      case CMD_PLAY:
        e->playing = true;
        e->fade_left = 0;
        break;
      case CMD_STOP:
        if (e->playing) {
          e->fade_left = ENG_STOP_FADE_FRAMES;
          e->fade_pos = e->position;
        }
        e->playing = false;
        break;
      case CMD_LOCATE:
        e->position = c.frame;
        e->fade_left = 0;
        break;
    }
  }
}

/* First frame of beat k: ceil(k * beat_frames), so beats land on the exact
 * sample even when a beat is not a whole number of frames. */
static uint64_t beat_onset(const eng_plan *p, uint64_t k) {
  return (uint64_t) ceil((double) k * p->beat_frames);
}

/* Index of the beat that contains frame `pos`. */
static uint64_t beat_at(const eng_plan *p, uint64_t pos) {
  uint64_t k = (uint64_t) floor((double) pos / p->beat_frames);
  while (beat_onset(p, k + 1) <= pos)
    k++;
  while (k > 0 && beat_onset(p, k) > pos)
    k--;
  return k;
}

/* Pluck envelope at `t` frames after the onset, `to_next` (>= 1) frames
 * before the next onset: 0 at the onset, linear attack, exponential decay,
 * and a linear release reaching exactly 0 on the frame before the next
 * onset, so the retrigger never clicks. */
static float pluck_env(const eng_engine *e, uint64_t t, uint64_t to_next) {
  if (t >= e->note_frames) return 0.0f;
  float a = t < e->attack_frames ? (float) t / (float) e->attack_frames : 1.0f;
  float r = to_next <= e->release_frames ? (float) (to_next - 1) / (float) e->release_frames : 1.0f;
  return a * r * expf(-(float) t * e->decay_per_frame);
}

static float click_sample(const eng_engine *e, uint64_t t, bool accent) {
  if (t >= e->click_frames) return 0.0f;
  double cycles = (double) t * (accent ? ACCENT_HZ : CLICK_HZ) / e->cfg.sample_rate;
  float amp = accent ? ACCENT_AMP : CLICK_AMP;
  return amp * expf(-(float) t * e->click_decay_per_frame) *
         sinf((float) (TWO_PI * (cycles - floor(cycles))));
}

/* Adds `frames` frames of the plan's voices and click, starting at transport
 * position `pos`, to `out` (already zeroed), scaled by a gain ramp that starts
 * at `ramp` and moves by `ramp_step` per frame. Updates the track meters. */
static void render(eng_engine *e, const eng_plan *p, float *out, uint32_t frames, uint64_t pos,
                   float ramp, float ramp_step) {
  uint64_t k = beat_at(p, pos);
  uint64_t onset = beat_onset(p, k), next = beat_onset(p, k + 1);
  for (uint32_t n = 0; n < frames; n++, pos++, ramp += ramp_step) {
    if (pos == next) { /* a beat boundary, possibly mid-block: retrigger here */
      k++;
      onset = next;
      next = beat_onset(p, k + 1);
    }
    uint64_t t = pos - onset;
    float env = pluck_env(e, t, next - pos);
    float l = 0.0f, r = 0.0f;
    if (p->metronome) l = r = ramp * click_sample(e, t, k % p->beats_per_bar == 0);
    if (env > 0.0f) {
      for (uint32_t i = 0; i < p->n_tracks; i++) {
        const eng_plan_track *tr = &p->tracks[i];
        if (tr->gain_l == 0.0f && tr->gain_r == 0.0f) continue;
        double cycles = (double) t * tr->cycles_per_frame;
        float ph = (float) (TWO_PI * (cycles - floor(cycles)));
        float v = ramp * VOICE_AMP * env * (sinf(ph) + 0.3f * env * sinf(2.0f * ph));
        float tl = v * tr->gain_l, trr = v * tr->gain_r;
        l += tl;
        r += trr;
        float pk = fmaxf(fabsf(tl), fabsf(trr));
        if (pk > e->acc_peak[1 + i]) e->acc_peak[1 + i] = pk;
        e->acc_sumsq[1 + i] += (double) tl * tl + (double) trr * trr;
      }
    }
    out[2 * n] = l * p->master_gain;
    out[2 * n + 1] = r * p->master_gain;
  }
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
  if (e->acc_frames < e->window_frames) return;

  eng_meter_frame *f = &e->frame;
  const eng_plan *p = e->plan;
  f->position = e->position;
  f->playing = e->playing;
  f->n = 1 + (p ? p->n_tracks : 0);
  set_meter(&f->meters[0], 0, e->acc_peak[0], e->acc_sumsq[0], e->acc_frames);
  for (uint32_t i = 1; i < f->n; i++)
    set_meter(&f->meters[i], p->tracks[i - 1].track_id, e->acc_peak[i], e->acc_sumsq[i],
              e->acc_frames);
  bump(eng_spsc_push(e->meters, f) ? &e->n_pushed : &e->n_dropped);
  memset(e->acc_peak, 0, sizeof e->acc_peak);
  memset(e->acc_sumsq, 0, sizeof e->acc_sumsq);
  e->acc_frames = 0;
}

void eng_engine_process(eng_engine *e, float *out, uint32_t frames) {
  memset(out, 0, (size_t) frames * 2 * sizeof(float));
  take_pending_plan(e);
  drain_commands(e);
  const eng_plan *p = e->plan;
  if (!p) {
    bump(&e->n_no_plan);
  } else if (e->playing) {
    render(e, p, out, frames, e->position, 1.0f, 0.0f);
  } else if (e->fade_left > 0) {
    uint32_t n = frames < e->fade_left ? frames : e->fade_left;
    float step = 1.0f / ENG_STOP_FADE_FRAMES;
    render(e, p, out, n, e->fade_pos, (float) e->fade_left * step, -step);
    e->fade_pos += n;
    e->fade_left -= n;
  }
  if (e->playing) e->position += frames;
  meter_block(e, out, frames);
  atomic_store_explicit(&e->position_pub, e->position, memory_order_relaxed);
  atomic_fetch_add_explicit(&e->n_frames, frames, memory_order_relaxed);
  bump(&e->n_blocks);
}

/* ------------------------------------------------------------------------ */
/* meter reader and any thread                                              */
/* ------------------------------------------------------------------------ */

int eng_engine_read_meters(eng_engine *e, eng_meter_frame *out) {
  if (!e || !out) return ENG_ERR_INVALID;
  return eng_spsc_pop(e->meters, out) ? 1 : 0;
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
}

uint64_t eng_engine_position(const eng_engine *e) {
  return load(&e->position_pub);
}
