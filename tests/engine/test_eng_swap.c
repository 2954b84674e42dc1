/* test_eng_swap.c: plan swaps while another thread runs eng_engine_process.
 * Run under ASan (BACKLINE_SANITIZE=ON): a plan freed while the RT thread
 * still reads it is a use-after-free report; a plan never freed is a leak. */
#include <criterion/criterion.h>
#include <pthread.h>
#include <stdatomic.h>
#include <unistd.h>

#include "eng_test_util.h"

typedef struct rt_loop {
  eng_engine *e;
  atomic_bool stop;
  uint64_t blocks;
} rt_loop;

static void *rt_thread(void *arg) {
  rt_loop *rt = arg;
  float buf[2 * 64];
  while (!atomic_load(&rt->stop)) {
    eng_engine_process(rt->e, buf, 64);
    rt->blocks++;
  }
  return NULL;
}

/* A description whose track count and ids vary with i. */
static eng_plan *plan_number(uint32_t i, eng_track_desc *t) {
  uint32_t n = i % (ENG_MAX_TRACKS + 1);
  for (uint32_t k = 0; k < n; k++)
    t[k] = track(1 + (k + i) % 1000, 0.5f, (float) k / ENG_MAX_TRACKS);
  eng_plan_desc d = desc_with(t, n, i % 2 == 0);
  d.tempo_bpm = 60.0 + i % 200;
  eng_plan *p = NULL;
  char why[300] = "";
  cr_assert_eq(eng_plan_compile(&d, &p, why, sizeof why), ENG_OK, "%u tracks: %s", n, why);
  return p;
}

Test(eng_engine_swap, many_plan_swaps_under_a_running_rt_thread_free_every_plan) {
  eng_config cfg = eng_config_default();
  rt_loop rt = {0};
  cr_assert_eq(eng_engine_create(&cfg, &rt.e), ENG_OK);
  atomic_init(&rt.stop, false);
  cr_assert_eq(eng_engine_set_playing(rt.e, true), ENG_OK);
  pthread_t th;
  cr_assert_eq(pthread_create(&th, NULL, rt_thread, &rt), 0);

  eng_track_desc t[ENG_MAX_TRACKS];
  eng_meter_frame f;
  for (uint32_t i = 0; i < 3000; i++) {
    cr_assert_eq(eng_engine_set_plan(rt.e, plan_number(i, t)), ENG_OK);
    if (i % 3 == 0) eng_engine_collect(rt.e);
    if (i % 50 == 0) (void) eng_engine_set_playing(rt.e, i % 100 == 0);
    if (i % 70 == 0) (void) eng_engine_locate(rt.e, i * 1000u);
    while (eng_engine_read_meters(rt.e, &f) == 1)
      for (uint32_t k = 0; k < f.n; k++)
        cr_assert_leq(f.meters[k].rms, f.meters[k].peak);
    if (i % 2 == 0) usleep(50); /* let the RT thread take some plans, skip others */
  }
  atomic_store(&rt.stop, true);
  pthread_join(th, NULL);

  eng_stats s;
  eng_engine_stats(rt.e, &s);
  cr_expect_gt(s.plan_swaps, 100, "the RT thread took %llu plans in %llu blocks",
               (unsigned long long) s.plan_swaps, (unsigned long long) rt.blocks);
  cr_expect_leq(s.plan_swaps, 3000);
  eng_engine_collect(rt.e);
  eng_engine_destroy(rt.e); /* frees the current plan */
  expect_no_leaks();
}

Test(eng_engine_swap, destroy_frees_pending_and_retired_plans) {
  eng_config cfg = eng_config_default();
  eng_engine *e = NULL;
  cr_assert_eq(eng_engine_create(&cfg, &e), ENG_OK);
  eng_track_desc t[ENG_MAX_TRACKS];
  float buf[2 * 128];
  cr_assert_eq(eng_engine_set_plan(e, plan_number(1, t)), ENG_OK);
  eng_engine_process(e, buf, 128); /* current */
  cr_assert_eq(eng_engine_set_plan(e, plan_number(2, t)), ENG_OK);
  eng_engine_process(e, buf, 128); /* plan 1 retired, not collected */
  cr_assert_eq(eng_engine_set_plan(e, plan_number(3, t)), ENG_OK); /* collects plan 1 */
  cr_assert_eq(eng_engine_set_plan(e, plan_number(4, t)), ENG_OK); /* frees unseen plan 3 */
  eng_stats s;
  eng_engine_stats(e, &s);
  cr_expect_eq(s.plan_swaps, 2);
  eng_engine_destroy(e); /* current plan 2 and pending plan 4 */
  expect_no_leaks();
}
