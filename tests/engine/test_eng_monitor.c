/* test_eng_monitor.c: the monitor tap (eng_engine_monitor_enable/read): the
 * master as audio for one non-RT reader, stamped with the engine frame
 * clock, dropped and counted when the reader falls behind. */
#include <criterion/criterion.h>
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>

#include "eng_test_util.h"

/* A playing one-track engine: its master is a tone, never all zeros. */
static eng_engine *tone_engine(void) {
  static eng_track_desc t;
  t = track(1, 1.0f, 0.0f);
  eng_plan_desc d = desc_with(&t, 1, false);
  return engine_with(&d, true);
}

Test(eng_monitor, nothing_is_tapped_while_off) {
  eng_engine *e = tone_engine();
  float out[2 * 128], lr[2 * 512];
  for (int i = 0; i < 10; i++)
    eng_engine_process(e, out, 128);
  cr_expect_eq(eng_engine_monitor_read(e, lr, 512, NULL), 0);
  eng_stats s;
  eng_engine_stats(e, &s);
  cr_expect_eq(s.monitor_frames, 0);
  cr_expect_eq(s.monitor_dropped, 0);
  eng_engine_destroy(e);
}

Test(eng_monitor, reads_back_the_master_with_its_frame_clock) {
  eng_engine *e = tone_engine();
  for (int i = 0; i < 3; i++) /* the clock runs before the tap is on */
    eng_engine_process(e, (float[2 * 100]){0}, 100);
  eng_engine_monitor_enable(e, true);
  /* Blocks of odd sizes, larger and smaller than an item. */
  static const uint32_t sizes[] = {61, 128, 300, 7, 128, 500};
  float *master = calloc(2 * 2000, sizeof(float));
  uint32_t total = 0;
  for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
    eng_engine_process(e, master + 2 * total, sizes[i]);
    total += sizes[i];
  }
  float lr[2 * 120];
  float *back = calloc(2 * 2000, sizeof(float));
  uint32_t got = 0;
  uint64_t clock = 0;
  size_t n;
  while ((n = eng_engine_monitor_read(e, lr, 120, &clock)) > 0) {
    cr_assert_eq(clock, 300 + got, "frame clock of the first frame read");
    memcpy(back + 2 * got, lr, n * 2 * sizeof(float));
    got += (uint32_t) n;
  }
  cr_expect_eq(got, total);
  cr_expect_eq(memcmp(back, master, (size_t) total * 2 * sizeof(float)), 0, "bit-exact master");
  cr_expect_gt(peak(back, 0, 0, total), 0.01f, "the tone is there");
  eng_stats s;
  eng_engine_stats(e, &s);
  cr_expect_eq(s.monitor_frames, total);
  cr_expect_eq(s.monitor_dropped, 0);
  free(master);
  free(back);
  eng_engine_destroy(e);
}

Test(eng_monitor, a_full_ring_drops_and_counts_and_reads_stop_at_the_gap) {
  eng_engine *e = tone_engine();
  eng_engine_monitor_enable(e, true);
  float out[2 * 128];
  uint32_t blocks = ENG_MONITOR_CAPACITY + 10;
  for (uint32_t i = 0; i < blocks; i++)
    eng_engine_process(e, out, 128);
  eng_stats s;
  eng_engine_stats(e, &s);
  cr_expect_eq(s.monitor_frames, ENG_MONITOR_CAPACITY * 128);
  cr_expect_eq(s.monitor_dropped, 10 * 128, "the RT thread never waits");

  /* Read all but the last item, render one more block (after the gap), then
   * read: the first call ends at the gap, the next starts after it. */
  static float lr[2 * 128 * ENG_MONITOR_CAPACITY];
  uint64_t clock = 99;
  cr_expect_eq(eng_engine_monitor_read(e, lr, 128 * (ENG_MONITOR_CAPACITY - 1), &clock),
               128 * (ENG_MONITOR_CAPACITY - 1));
  cr_expect_eq(clock, 0);
  eng_engine_process(e, out, 128);
  cr_expect_eq(eng_engine_monitor_read(e, lr, 1000, &clock), 128, "stops at the gap");
  cr_expect_eq(clock, 128 * (ENG_MONITOR_CAPACITY - 1));
  cr_expect_eq(eng_engine_monitor_read(e, lr, 1000, &clock), 128);
  cr_expect_eq(clock, 128 * blocks, "after the gap");
  cr_expect_eq(eng_engine_monitor_read(e, lr, 1000, &clock), 0);

  eng_engine_monitor_enable(e, false);
  eng_engine_process(e, out, 128);
  cr_expect_eq(eng_engine_monitor_read(e, lr, 1000, &clock), 0, "off again");
  eng_engine_destroy(e);
}

typedef struct reader {
  eng_engine *e;
  atomic_bool stop;
  uint64_t frames, gaps, expect;
} reader;

static void *read_thread(void *arg) {
  reader *r = arg;
  float lr[2 * 120];
  uint64_t clock;
  for (;;) {
    bool last = atomic_load(&r->stop);
    size_t n;
    while ((n = eng_engine_monitor_read(r->e, lr, 120, &clock)) > 0) {
      if (r->frames && clock != r->expect) r->gaps++;
      r->expect = clock + n;
      r->frames += n;
    }
    if (last) return NULL;
  }
}

/* Two threads: every frame either arrives (in clock order) or is counted. */
Test(eng_monitor, a_concurrent_reader_sees_every_frame_or_its_drop) {
  eng_engine *e = tone_engine();
  eng_engine_monitor_enable(e, true);
  reader r = {.e = e};
  atomic_init(&r.stop, false);
  pthread_t th;
  cr_assert_eq(pthread_create(&th, NULL, read_thread, &r), 0);
  float out[2 * 128];
  uint64_t total = 0;
  for (int i = 0; i < 20000; i++) {
    uint32_t n = i % 3 ? 128 : 61;
    eng_engine_process(e, out, n);
    total += n;
  }
  atomic_store(&r.stop, true);
  pthread_join(th, NULL);
  eng_stats s;
  eng_engine_stats(e, &s);
  cr_expect_eq(r.frames + s.monitor_dropped, total);
  cr_expect_eq(r.frames, s.monitor_frames);
  if (s.monitor_dropped == 0) {
    cr_expect_eq(r.gaps, 0, "no drop, no gap");
    cr_expect_eq(r.expect, total, "the last frame read is the last rendered");
  } else {
    cr_expect_gt(r.gaps + (r.expect < total), 0, "a drop shows as a gap or a missing tail");
  }
  eng_engine_destroy(e);
}
