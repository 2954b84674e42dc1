/* eng_backend_null.c: the null backend, a timer thread that paces
 * eng_engine_process at real time without a sound card.
 *
 * Deadlines are absolute (clock_nanosleep with TIMER_ABSTIME on
 * CLOCK_MONOTONIC) and computed from the total number of frames rendered, so
 * rounding never accumulates into drift. If the thread falls more than
 * MAX_LATE_BLOCKS behind (a stalled VM, a debugger), it counts one xrun and
 * re-anchors the clock instead of bursting to catch up. */
#include "engine/eng_backend_int.h"
#include "engine/eng_err.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#define NS_PER_S        1000000000ull
#define MAX_LATE_BLOCKS 4 /* blocks behind the clock before re-anchoring */

typedef struct null_backend {
  eng_backend base; /* must be first */
  pthread_t thread; /* the RT thread */
  atomic_bool stop; /* set by close */
  float *buf;       /* 2 * block_frames floats, discarded */
} null_backend;

static uint64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t) ts.tv_sec * NS_PER_S + (uint64_t) ts.tv_nsec;
}

/* Duration of `frames` frames in ns, exact to the ns, without overflow. */
static uint64_t frames_to_ns(uint64_t frames, uint32_t rate) {
  return frames / rate * NS_PER_S + frames % rate * NS_PER_S / rate;
}

static void *run(void *arg) {
  null_backend *b = arg;
  eng_engine *e = b->base.engine;
  eng_config cfg = eng_engine_config(e);
  uint64_t period = frames_to_ns(cfg.block_frames, cfg.sample_rate);
  uint64_t base_ns = now_ns(), frames = 0;
  while (!atomic_load_explicit(&b->stop, memory_order_acquire)) {
    eng_engine_process(e, b->buf, cfg.block_frames);
    frames += cfg.block_frames;
    uint64_t deadline = base_ns + frames_to_ns(frames, cfg.sample_rate);
    uint64_t now = now_ns();
    if (now > deadline + MAX_LATE_BLOCKS * period) {
      eng_engine_count_xrun(e);
      base_ns = now;
      frames = 0;
      continue;
    }
    struct timespec ts = {.tv_sec = (time_t) (deadline / NS_PER_S),
                          .tv_nsec = (long) (deadline % NS_PER_S)};
    while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR) {
    }
  }
  return NULL;
}

static int null_open(eng_engine *e, const char *device, eng_backend **out, char *msg,
                     size_t msg_len) {
  (void) device; /* no devices here */
  null_backend *b = calloc(1, sizeof *b);
  if (!b) return ENG_ERR_NOMEM;
  b->buf = calloc((size_t) eng_engine_config(e).block_frames * 2, sizeof(float));
  if (!b->buf) {
    free(b);
    return ENG_ERR_NOMEM;
  }
  b->base.vt = &eng__backend_null_vt;
  b->base.engine = e;
  snprintf(b->base.name, sizeof b->base.name, "null");
  atomic_init(&b->stop, false);
  int err = pthread_create(&b->thread, NULL, run, b);
  if (err) {
    if (msg && msg_len)
      snprintf(msg, msg_len, "cannot start the null audio thread (error %d)", err);
    free(b->buf);
    free(b);
    return ENG_ERR_THREAD;
  }
  *out = &b->base;
  return ENG_OK;
}

static void null_close(eng_backend *base) {
  null_backend *b = (null_backend *) base;
  atomic_store_explicit(&b->stop, true, memory_order_release);
  pthread_join(b->thread, NULL);
  free(b->buf);
  free(b);
}

const eng_backend_vt eng__backend_null_vt = {.open = null_open, .close = null_close};
