/* eng_cohort_int.h: the anticipative cohort, implementation details of
 * eng_engine which may change; the public switch is eng_config.lookahead_frames.
 * Used by eng_engine.c (the RT side) and eng_cohort.c (the workers).
 *
 * While the transport plays steadily, worker threads render the
 * deterministic chains of the plan (a track's instrument and effects, up to
 * the fader) ahead of the playhead into one ring per track; the RT thread
 * runs the rest (live tracks, faders, buses, master, meters) and copies the
 * chains' audio out of the rings. Which chains: tracks that are not buses,
 * have an instrument, are not `live`, have no session clips, and whose
 * devices are all deterministic and take no sidechain.
 *
 * Ownership of a chain's node states, without locks: per chain two counters
 * in session-clock frames, `done` (everything before it is rendered) and
 * `claimed` (== done when nobody is rendering; else the end of the block
 * being rendered; CO_LOCKED when the RT thread holds the chain). A renderer
 * (worker, or the RT thread when the ring is late) takes a block by a CAS of
 * `claimed` from `done`, renders, then publishes `done` (release). So one
 * renderer at a time touches a chain's states, and the RT thread never
 * waits: when the ring is late and the chain is free it renders the block
 * itself (cohort_misses); when a worker is still busy with it, that part of
 * the block is zeros (cohort_gaps, overload only).
 *
 * Threads: eng__cohort_create/destroy on the control thread; every other
 * function here on the RT thread; the workers run inside eng_cohort.c. */
#ifndef ENG_COHORT_INT_H
#define ENG_COHORT_INT_H

#include <pthread.h>
#include <semaphore.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "engine/eng_plan_int.h"

#define ENG_MAX_LOOKAHEAD 16384      /* largest eng_config.lookahead_frames */
#define ENG_MAX_WORKERS   8          /* largest eng_config.workers */
#define ENG_CO_LOCKED     UINT64_MAX /* `claimed` of a chain the RT thread holds */
#define ENG_CO_MAX_BUFFERS                                                                         \
  (2 * ENG_MAX_TRACKS + 2) /* a worker's buffer pool, in stereo buffers                            \
                            */
#define ENG_CO_MAX_NODES  (ENG_MAX_TRACKS * (ENG_MAX_EFFECTS + 2) + 2)
#define ENG_CO_MASK_WORDS ((ENG_MAX_TRACKS + 63) / 64) /* a bit per track */

typedef enum { ENG_CO_NONE, ENG_CO_SOURCE, ENG_CO_EFFECT } eng_co_role;

typedef struct eng_co_chain {
  _Atomic uint64_t done;    /* frames [.., done) of the session clock are in the ring */
  _Atomic uint64_t claimed; /* == done: free; else being rendered, or CO_LOCKED */
  uint64_t avail;           /* RT, this block: frames before this are taken from the ring */
  uint64_t inline_from;     /* RT, this block: frames from this on are rendered inline
                               (UINT64_MAX: none) */
  bool inline_now;          /* RT, this block: the RT thread holds the chain (inline_from set) */
} eng_co_chain;

typedef struct eng_cohort eng_cohort;

typedef struct eng_co_worker {
  eng_cohort *co;
  pthread_t thread;
  float *buffers;                         /* ENG_CO_MAX_BUFFERS stereo chunks */
  eng_event events[ENG_MAX_EVENTS];       /* one node's events */
  float lanes[ENG_MAX_PARAMS][ENG_CHUNK]; /* automation scratch */
  float out[2 * ENG_CHUNK];               /* r.out (chains never write it) */
  float acc_peak[ENG_MAX_METERS];         /* r.acc_* (chains never write them) */
  double acc_sumsq[ENG_MAX_METERS];
} eng_co_worker;

struct eng_cohort {
  uint32_t lookahead;           /* frames rendered ahead of the RT thread */
  uint32_t ring;                /* ring frames per track (power of two > lookahead + ENG_CHUNK) */
  uint32_t n_workers;           /* threads started */
  uint32_t n_alloc;             /* entries in workers[] */
  bool sem_ok;                  /* wake was initialised */
  float *rings;                 /* ENG_MAX_TRACKS * 2 * ring: track t's L then R */
  _Atomic uint64_t *ev_dropped; /* the engine's events_dropped counter */

  /* The job, written by the RT thread only while every chain is CO_LOCKED. */
  _Atomic(const eng_plan *) plan;
  _Atomic uint64_t x0, pos0; /* session frame where anticipation starts, transport there */
  _Atomic uint32_t grid;     /* block frames: the RT thread's blocks, rendered the same way */
  _Atomic uint64_t mask[ENG_CO_MASK_WORDS]; /* bit t: track t's chain is anticipated */
  _Atomic uint64_t gen;                     /* bumped at every job change */
  _Atomic uint64_t limit;    /* workers render only frames before this; 0 = inactive */
  _Atomic uint64_t consumed; /* RT: frames of the session clock it has output */
  _Atomic bool stop;         /* destroy: workers leave */
  _Atomic int sleeping;      /* workers waiting on `wake` */
  sem_t wake;

  eng_co_chain chains[ENG_MAX_TRACKS];
  /* RT thread only */
  bool active;                                /* a job is running (limit != 0) */
  uint8_t role[ENG_CO_MAX_NODES];             /* eng_co_role of each node of the job's plan */
  uint64_t rt_mask[ENG_CO_MASK_WORDS];        /* copy of mask */
  _Atomic uint64_t n_ahead, n_misses, n_gaps; /* published stats (chain-blocks, frames) */
  _Atomic uint64_t n_rendered;                /* chain-blocks the workers rendered */
  eng_co_worker workers[];
};

/* Starts `workers` (1..ENG_MAX_WORKERS) threads rendering up to `lookahead`
 * (1..ENG_MAX_LOOKAHEAD) frames ahead; `ev_dropped` is where they count
 * dropped events. RT-safe: no (allocates, starts threads).
 * Possible errors: ENG_ERR_INVALID, ENG_ERR_NOMEM. */
int eng__cohort_create(uint32_t lookahead, uint32_t workers, _Atomic uint64_t *ev_dropped,
                       eng_cohort **out);
/* Stops and joins the workers, frees. NULL is a no-op. RT-safe: no. */
void eng__cohort_destroy(eng_cohort *c);

/* Track t of p can be anticipated. RT-safe: yes. */
bool eng__cohort_eligible(const eng_plan *p, uint32_t t);
/* Starts anticipating p's eligible chains from session frame x, transport
 * position pos, playing steadily in blocks of `grid` frames. Returns false
 * (and stays inactive) if p has no eligible chain. Call only when inactive.
 * RT-safe: yes (atomics, one sem_post). */
bool eng__cohort_start(eng_cohort *c, const eng_plan *p, uint64_t x, uint64_t pos, uint32_t grid);
/* Tells the workers to render nothing at or after session frame `at`.
 * RT-safe: yes. */
void eng__cohort_limit(eng_cohort *c, uint64_t at);
/* Takes every chain back (CAS to CO_LOCKED); true when all are held and the
 * cohort is inactive, false when a worker is still busy with one (nothing
 * changed: try again next block). RT-safe: yes, never waits. */
bool eng__cohort_stop(eng_cohort *c);
/* Decides, per chain, how the block [x, x + n) gets its audio: from the
 * ring up to `avail`, then rendered inline from `inline_from` when the chain
 * is free (late, or a block of another size ending past what was rendered),
 * else zeros (a worker is still on it). RT-safe: yes. */
void eng__cohort_begin(eng_cohort *c, uint64_t x, uint32_t n);
/* Copies chain t's frames [x, x + n) from its ring into L, R; zeros past
 * what is there. RT-safe: yes. */
void eng__cohort_read(eng_cohort *c, uint32_t t, uint64_t x, uint32_t n, float *L, float *R);
/* Ends the block [.., x_end): publishes the inline renders and the
 * consumed position, wakes a sleeping worker (sem_post: no lock, a futex
 * wake only when one sleeps). RT-safe: yes. */
void eng__cohort_end(eng_cohort *c, uint64_t x_end);

/* Tests: waits (yielding) until the workers have rendered all they may
 * before the RT thread's next block, so a test sees the ring path every
 * block. Returns at once when the cohort is inactive. Call between two
 * eng_engine_process calls, on the thread that makes them. RT-safe: no. */
void eng__cohort_settle(eng_cohort *c);

/* Whether bit T of a track mask (ENG_CO_MASK_WORDS words) is set. */
static inline bool eng__co_has(const uint64_t *mask, uint32_t t) {
  return mask[t / 64] >> (t % 64) & 1;
}

#endif /* ENG_COHORT_INT_H */
