/* eng_cohort.c: the anticipative cohort (eng_cohort_int.h): worker threads
 * that render the deterministic chains of the plan ahead of the RT thread,
 * and the RT side's lock-free hand-over.
 *
 * A worker renders a chain in the RT thread's own blocks (`grid` frames,
 * cut at the loop's end as play_span cuts them, then in chunks of
 * ENG_CHUNK), with the transport predicted from where anticipation started:
 * playing on, wrapping at the loop's end. The events (the plan's notes, the
 * loop's cut note-offs after a wrap) and automation are functions of the
 * position, so the chain's samples are the very ones the RT thread would
 * have computed: bit for bit (tests/engine/test_eng_cohort.c). Anything the
 * prediction does not know (stop, locate, a plan, a parameter of an
 * anticipated device) is held by the RT thread until the lookahead has
 * passed (eng_engine.c), so the prediction is never wrong. */
#include "engine/eng_cohort_int.h"
#include "engine/eng_err.h"

#include <sched.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------------------ */
/* workers                                                                  */
/* ------------------------------------------------------------------------ */

/* The chunk's events of an anticipated chain's instrument, as chunk_events
 * (eng_engine.c) gives them for such a track: the loop's cut note-offs after
 * a wrap, then the plan's notes in the chunk (no all-off, no live notes, no
 * session clips: those keep a track out of the cohort or are held). */
static uint32_t chain_events(eng_co_worker *w, const eng_plan_track *tr, const eng_run *r,
                             bool wrapped) {
  uint32_t n = 0;
  for (uint32_t i = 0; wrapped && i < tr->n_cuts; i++) {
    if (n == ENG_MAX_EVENTS) {
      atomic_fetch_add_explicit(w->co->ev_dropped, 1, memory_order_relaxed);
      continue;
    }
    w->events[n++] = (eng_event){0, ENG_EV_NOTE_OFF, tr->cuts[i].key, 0};
  }
  uint64_t end = r->start + r->n;
  for (uint32_t i = eng__first_event_at(tr->events, tr->n_events, r->start);
       i < tr->n_events && tr->events[i].frame < end; i++) {
    const eng_plan_event *pe = &tr->events[i];
    if (n == ENG_MAX_EVENTS) {
      atomic_fetch_add_explicit(w->co->ev_dropped, 1, memory_order_relaxed);
      continue;
    }
    w->events[n++] =
        (eng_event){(uint32_t) (pe->frame - r->start), pe->kind, pe->key, pe->velocity};
  }
  return n;
}

/* Runs track t's chain over n transport frames from `pos` (one piece of a
 * block, as run_plan does) and writes its output to the ring from session
 * frame x. */
static void run_chain(eng_co_worker *w, const eng_plan *p, uint32_t t, uint64_t pos, uint32_t n,
                      bool *wrapped, uint64_t x) {
  eng_cohort *c = w->co;
  const eng_plan_track *tr = &p->tracks[t];
  eng_run r = {.plan = p,
               .buffers = w->buffers,
               .out = w->out,
               .ramp_step = 0.0f,
               .acc_peak = w->acc_peak,
               .acc_sumsq = w->acc_sumsq};
  float *ring_l = c->rings + (size_t) t * 2 * c->ring, *ring_r = ring_l + c->ring;
  for (uint32_t done = 0; done < n; done += r.n) {
    r.n = n - done < ENG_CHUNK ? n - done : ENG_CHUNK;
    r.start = pos + done;
    r.t_frames = r.n;
    r.ramp = 1.0f;
    for (uint32_t i = 0; i < tr->n_devices; i++) {
      eng_plan_node *nd = &p->nodes[tr->devices[i]];
      if (nd->bypass) continue;
      r.events = w->events;
      r.n_events = nd->cls->instrument ? chain_events(w, tr, &r, *wrapped) : 0;
      bool lanes = nd->n_autos && nd->cls->n_params;
      if (lanes) eng__auto_begin(nd, &r, w->lanes);
      nd->cls->process(nd, &r);
      if (lanes) eng__auto_end(nd);
    }
    *wrapped = false;
    const float *L = eng__buf(&r, tr->buf), *R = L + ENG_CHUNK;
    uint32_t mask = c->ring - 1;
    for (uint32_t k = 0; k < r.n; k++) {
      uint32_t at = (uint32_t) ((x + done + k) & mask);
      ring_l[at] = L[k];
      ring_r[at] = R[k];
    }
  }
}

/* Renders track t's chain for the RT block [d, d + grid): the transport
 * there follows from (x0, pos0) by playing on and wrapping at the loop's
 * end; the block is cut at the loop's end as play_span cuts it. */
static void render_block(eng_co_worker *w, const eng_plan *p, uint32_t t, uint64_t d, uint32_t grid,
                         uint64_t x0, uint64_t pos0) {
  uint64_t pos, since = d - x0;
  bool wrapped = false;
  if (!(p->loop && pos0 < p->loop_end) || since < p->loop_end - pos0) {
    pos = pos0 + since;
  } else {
    uint64_t k = (since - (p->loop_end - pos0)) % (p->loop_end - p->loop_start);
    pos = p->loop_start + k;
    wrapped = k == 0;
  }
  for (uint32_t done = 0; done < grid;) {
    uint32_t n = grid - done;
    bool looping = p->loop && pos < p->loop_end;
    if (looping && p->loop_end - pos < n) n = (uint32_t) (p->loop_end - pos);
    run_chain(w, p, t, pos, n, &wrapped, d + done);
    pos += n;
    done += n;
    if (looping && pos == p->loop_end) {
      pos = p->loop_start;
      wrapped = true;
    }
  }
}

/* Renders one block of the chain furthest behind, if any may be rendered.
 * Returns false when there is nothing to do. */
static bool work_once(eng_co_worker *w) {
  eng_cohort *c = w->co;
  uint64_t gen = atomic_load(&c->gen);
  uint64_t limit = atomic_load(&c->limit);
  if (!limit) return false;
  const eng_plan *p = atomic_load_explicit(&c->plan, memory_order_relaxed);
  uint64_t mask[ENG_CO_MASK_WORDS];
  for (uint32_t i = 0; i < ENG_CO_MASK_WORDS; i++)
    mask[i] = atomic_load_explicit(&c->mask[i], memory_order_relaxed);
  uint64_t x0 = atomic_load_explicit(&c->x0, memory_order_relaxed);
  uint64_t pos0 = atomic_load_explicit(&c->pos0, memory_order_relaxed);
  uint32_t grid = atomic_load_explicit(&c->grid, memory_order_relaxed);
  uint64_t consumed = atomic_load_explicit(&c->consumed, memory_order_acquire);
  uint64_t horizon = consumed + c->lookahead < limit ? consumed + c->lookahead : limit;
  uint32_t best = ENG_MAX_TRACKS;
  uint64_t best_d = 0, best_at = UINT64_MAX;
  for (uint32_t t = 0; t < ENG_MAX_TRACKS; t++) {
    if (!eng__co_has(mask, t)) continue;
    eng_co_chain *ch = &c->chains[t];
    uint64_t d = atomic_load_explicit(&ch->done, memory_order_acquire);
    if (atomic_load_explicit(&ch->claimed, memory_order_relaxed) != d) continue;
    uint64_t at = d < consumed ? consumed : d; /* behind (a gap): start where the RT is */
    if (at < x0 || at + grid > horizon || at >= best_at) continue;
    best = t, best_d = d, best_at = at;
  }
  if (best == ENG_MAX_TRACKS) return false;
  eng_co_chain *ch = &c->chains[best];
  uint64_t expect = best_d, end = best_at + grid;
  if (!atomic_compare_exchange_strong(&ch->claimed, &expect, end)) return true;
  /* Claimed. The job may have changed since it was read: then give it back. */
  if (atomic_load(&c->gen) != gen || end > atomic_load(&c->limit)) {
    atomic_store(&ch->claimed, best_d);
    return true;
  }
  render_block(w, p, best, best_at, grid, x0, pos0);
  atomic_fetch_add_explicit(&c->n_rendered, 1, memory_order_relaxed);
  atomic_store_explicit(&ch->done, end, memory_order_release);
  return true;
}

static void *worker_main(void *arg) {
  eng_co_worker *w = arg;
  eng_cohort *c = w->co;
  (void) eng__flush_subnormals(); /* as the RT thread renders: same bits */
  while (!atomic_load(&c->stop)) {
    if (work_once(w)) continue;
    atomic_fetch_add(&c->sleeping, 1);
    if (!work_once(w)) /* recheck after announcing sleep: a post may have been skipped */
      while (sem_wait(&c->wake) != 0) {
      }
    atomic_fetch_sub(&c->sleeping, 1);
  }
  return NULL;
}

/* ------------------------------------------------------------------------ */
/* lifetime (control thread)                                                */
/* ------------------------------------------------------------------------ */

int eng__cohort_create(uint32_t lookahead, uint32_t workers, _Atomic uint64_t *ev_dropped,
                       eng_cohort **out) {
  *out = NULL;
  if (lookahead < 1 || lookahead > ENG_MAX_LOOKAHEAD || workers < 1 || workers > ENG_MAX_WORKERS)
    return ENG_ERR_INVALID;
  eng_cohort *c = calloc(1, sizeof *c + workers * sizeof(eng_co_worker));
  if (!c) return ENG_ERR_NOMEM;
  c->lookahead = lookahead;
  c->ring = ENG_CHUNK;
  while (c->ring < lookahead + ENG_CHUNK)
    c->ring *= 2;
  c->ev_dropped = ev_dropped;
  c->rings = calloc((size_t) ENG_MAX_TRACKS * 2 * c->ring, sizeof(float));
  c->n_alloc = workers;
  bool ok = c->rings && (c->sem_ok = sem_init(&c->wake, 0, 0) == 0);
  for (uint32_t i = 0; ok && i < workers; i++) {
    c->workers[i].co = c;
    c->workers[i].buffers = calloc((size_t) ENG_CO_MAX_BUFFERS * 2 * ENG_CHUNK, sizeof(float));
    ok = c->workers[i].buffers != NULL;
  }
  for (uint32_t t = 0; t < ENG_MAX_TRACKS; t++) {
    atomic_init(&c->chains[t].done, 0);
    atomic_init(&c->chains[t].claimed, ENG_CO_LOCKED);
  }
  atomic_init(&c->limit, 0);
  atomic_init(&c->stop, false);
  for (uint32_t i = 0; ok && i < workers; i++) {
    ok = pthread_create(&c->workers[i].thread, NULL, worker_main, &c->workers[i]) == 0;
    if (ok) c->n_workers++;
  }
  if (!ok) {
    eng__cohort_destroy(c);
    return ENG_ERR_NOMEM;
  }
  *out = c;
  return ENG_OK;
}

void eng__cohort_destroy(eng_cohort *c) {
  if (!c) return;
  atomic_store(&c->stop, true);
  for (uint32_t i = 0; i < c->n_workers; i++)
    sem_post(&c->wake);
  for (uint32_t i = 0; i < c->n_workers; i++)
    pthread_join(c->workers[i].thread, NULL);
  for (uint32_t i = 0; i < c->n_alloc; i++)
    free(c->workers[i].buffers);
  if (c->sem_ok) sem_destroy(&c->wake);
  free(c->rings);
  free(c);
}

/* ------------------------------------------------------------------------ */
/* RT thread                                                                */
/* ------------------------------------------------------------------------ */

bool eng__cohort_eligible(const eng_plan *p, uint32_t t) {
  const eng_plan_track *tr = &p->tracks[t];
  if (tr->bus || !tr->has_instrument || tr->live || tr->n_slots) return false;
  for (uint32_t i = 0; i < tr->n_devices; i++) {
    const eng_plan_node *nd = &p->nodes[tr->devices[i]];
    if (!nd->deterministic || nd->side != ENG_NO_BUF) return false;
  }
  return true;
}

static void wake(eng_cohort *c) {
  if (atomic_load_explicit(&c->sleeping, memory_order_relaxed) > 0) sem_post(&c->wake);
}

bool eng__cohort_start(eng_cohort *c, const eng_plan *p, uint64_t x, uint64_t pos, uint32_t grid) {
  if (c->active || p->n_nodes > ENG_CO_MAX_NODES || p->n_buffers > ENG_CO_MAX_BUFFERS ||
      grid > c->lookahead)
    return false;
  uint64_t mask[ENG_CO_MASK_WORDS] = {0}, any = 0;
  for (uint32_t t = 0; t < p->n_tracks; t++)
    if (eng__cohort_eligible(p, t)) mask[t / 64] |= (uint64_t) 1 << (t % 64), any = 1;
  if (!any) return false;
  memset(c->role, ENG_CO_NONE, p->n_nodes);
  for (uint32_t t = 0; t < p->n_tracks; t++) {
    if (!eng__co_has(mask, t)) continue;
    const eng_plan_track *tr = &p->tracks[t];
    c->role[tr->devices[0]] = ENG_CO_SOURCE;
    for (uint32_t i = 1; i < tr->n_devices; i++)
      c->role[tr->devices[i]] = ENG_CO_EFFECT;
  }
  atomic_store_explicit(&c->plan, p, memory_order_relaxed);
  atomic_store_explicit(&c->x0, x, memory_order_relaxed);
  atomic_store_explicit(&c->pos0, pos, memory_order_relaxed);
  atomic_store_explicit(&c->grid, grid, memory_order_relaxed);
  for (uint32_t i = 0; i < ENG_CO_MASK_WORDS; i++)
    atomic_store_explicit(&c->mask[i], mask[i], memory_order_relaxed);
  atomic_store_explicit(&c->consumed, x, memory_order_relaxed);
  atomic_fetch_add(&c->gen, 1); /* publishes the job (seq_cst) */
  for (uint32_t t = 0; t < p->n_tracks; t++) {
    if (!eng__co_has(mask, t)) continue;
    c->chains[t].inline_now = false;
    atomic_store_explicit(&c->chains[t].done, x, memory_order_relaxed);
    atomic_store(&c->chains[t].claimed, x); /* unlocks the chain */
  }
  atomic_store(&c->limit, UINT64_MAX);
  memcpy(c->rt_mask, mask, sizeof mask);
  c->active = true;
  wake(c);
  return true;
}

void eng__cohort_limit(eng_cohort *c, uint64_t at) {
  if (at < atomic_load_explicit(&c->limit, memory_order_relaxed)) atomic_store(&c->limit, at);
}

bool eng__cohort_stop(eng_cohort *c) {
  for (uint32_t t = 0; t < ENG_MAX_TRACKS; t++) {
    if (!eng__co_has(c->rt_mask, t)) continue;
    eng_co_chain *ch = &c->chains[t];
    uint64_t d = atomic_load_explicit(&ch->done, memory_order_acquire);
    if (atomic_compare_exchange_strong(&ch->claimed, &d, ENG_CO_LOCKED)) continue;
    for (uint32_t u = 0; u < t; u++) /* a worker is busy with t: give back what was taken */
      if (eng__co_has(c->rt_mask, u))
        atomic_store(&c->chains[u].claimed, atomic_load(&c->chains[u].done));
    return false;
  }
  atomic_store(&c->limit, 0);
  atomic_fetch_add(&c->gen, 1);
  c->active = false;
  memset(c->rt_mask, 0, sizeof c->rt_mask);
  return true;
}

void eng__cohort_begin(eng_cohort *c, uint64_t x, uint32_t n) {
  for (uint32_t t = 0; t < ENG_MAX_TRACKS; t++) {
    if (!eng__co_has(c->rt_mask, t)) continue;
    eng_co_chain *ch = &c->chains[t];
    uint64_t d = atomic_load_explicit(&ch->done, memory_order_acquire), expect = d;
    ch->inline_now = false;
    ch->inline_from = UINT64_MAX;
    ch->avail = d > x ? (d < x + n ? d : x + n) : x;
    if (d >= x + n) {
      atomic_fetch_add_explicit(&c->n_ahead, 1, memory_order_relaxed);
    } else if (atomic_compare_exchange_strong(&ch->claimed, &expect, x + n)) {
      ch->inline_now = true; /* late but free: the rest is rendered here */
      ch->inline_from = ch->avail;
      atomic_fetch_add_explicit(&c->n_misses, 1, memory_order_relaxed);
    } else { /* a worker is on it: what is there, zeros after */
      atomic_fetch_add_explicit(&c->n_misses, 1, memory_order_relaxed);
      atomic_fetch_add_explicit(&c->n_gaps, x + n - ch->avail, memory_order_relaxed);
    }
  }
}

void eng__cohort_read(eng_cohort *c, uint32_t t, uint64_t x, uint32_t n, float *L, float *R) {
  const float *ring_l = c->rings + (size_t) t * 2 * c->ring, *ring_r = ring_l + c->ring;
  uint64_t avail = c->chains[t].avail;
  uint32_t have = avail > x ? (avail - x < n ? (uint32_t) (avail - x) : n) : 0;
  uint32_t mask = c->ring - 1;
  for (uint32_t k = 0; k < have; k++) {
    uint32_t at = (uint32_t) ((x + k) & mask);
    L[k] = ring_l[at];
    R[k] = ring_r[at];
  }
  for (uint32_t k = have; k < n; k++)
    L[k] = R[k] = 0.0f;
}

void eng__cohort_end(eng_cohort *c, uint64_t x_end) {
  for (uint32_t t = 0; t < ENG_MAX_TRACKS; t++) {
    if (!eng__co_has(c->rt_mask, t) || !c->chains[t].inline_now) continue;
    c->chains[t].inline_now = false;
    atomic_store_explicit(&c->chains[t].done, x_end, memory_order_release);
  }
  atomic_store_explicit(&c->consumed, x_end, memory_order_release);
  wake(c);
}

/* ------------------------------------------------------------------------ */
/* tests                                                                    */
/* ------------------------------------------------------------------------ */

void eng__cohort_settle(eng_cohort *c) {
  if (!c || !c->active) return;
  for (;;) {
    uint64_t limit = atomic_load(&c->limit), consumed = atomic_load(&c->consumed);
    uint64_t horizon = consumed + c->lookahead < limit ? consumed + c->lookahead : limit;
    uint32_t grid = atomic_load(&c->grid);
    bool settled = true;
    for (uint32_t t = 0; t < ENG_MAX_TRACKS && settled; t++) {
      if (!eng__co_has(c->rt_mask, t)) continue;
      uint64_t d = atomic_load(&c->chains[t].done);
      uint64_t at = d < consumed ? consumed : d;
      settled = atomic_load(&c->chains[t].claimed) == d && at + grid > horizon;
    }
    if (settled) return;
    sched_yield();
  }
}
