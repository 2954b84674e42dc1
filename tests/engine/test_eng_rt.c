/* test_eng_rt.c: proves eng_engine_process makes no forbidden call.
 *
 * tests/engine/CMakeLists.txt links this executable with
 * -Wl,--wrap=malloc,--wrap=free,... so every call to those functions from
 * the tests AND from libeng.a lands in a __wrap_X below. Each wrapper counts
 * the call if the calling thread is inside an "RT section" (a thread-local
 * flag the test sets around eng_engine_process), then forwards to __real_X.
 * Calls made inside shared libraries (libc itself, libm) are not seen: the
 * trap covers the engine's own code, which is what the rule is about.
 *
 * With BACKLINE_SANITIZE=ON, __real_malloc binds to ASan's malloc exactly as
 * an unwrapped call would, so the same test runs in both builds. */
#include <criterion/criterion.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>

#include "eng_test_util.h"

static _Thread_local bool in_rt;       /* set around eng_engine_process */
static atomic_int rt_violations;       /* forbidden calls seen in an RT section */
static _Atomic(const char *) last_bad; /* name of the last one, for the message */

static void seen(const char *name) {
  if (!in_rt) return;
  atomic_fetch_add(&rt_violations, 1);
  atomic_store(&last_bad, name);
}

/* The wrappers: one per symbol in ENG_RT_WRAPPED (tests/engine/CMakeLists.txt). */
void *__real_malloc(size_t n);
void *__wrap_malloc(size_t n) {
  return seen("malloc"), __real_malloc(n);
}
void __real_free(void *p);
void __wrap_free(void *p) {
  seen("free"), __real_free(p);
}
void *__real_calloc(size_t n, size_t s);
void *__wrap_calloc(size_t n, size_t s) {
  return seen("calloc"), __real_calloc(n, s);
}
void *__real_realloc(void *p, size_t n);
void *__wrap_realloc(void *p, size_t n) {
  return seen("realloc"), __real_realloc(p, n);
}
void *__real_aligned_alloc(size_t a, size_t n);
void *__wrap_aligned_alloc(size_t a, size_t n) {
  return seen("aligned_alloc"), __real_aligned_alloc(a, n);
}
int __real_posix_memalign(void **p, size_t a, size_t n);
int __wrap_posix_memalign(void **p, size_t a, size_t n) {
  return seen("posix_memalign"), __real_posix_memalign(p, a, n);
}
int __real_pthread_mutex_lock(pthread_mutex_t *m);
int __wrap_pthread_mutex_lock(pthread_mutex_t *m) {
  return seen("pthread_mutex_lock"), __real_pthread_mutex_lock(m);
}
int __real_pthread_mutex_trylock(pthread_mutex_t *m);
int __wrap_pthread_mutex_trylock(pthread_mutex_t *m) {
  return seen("pthread_mutex_trylock"), __real_pthread_mutex_trylock(m);
}
int __real_pthread_cond_wait(pthread_cond_t *c, pthread_mutex_t *m);
int __wrap_pthread_cond_wait(pthread_cond_t *c, pthread_mutex_t *m) {
  return seen("pthread_cond_wait"), __real_pthread_cond_wait(c, m);
}
ssize_t __real_write(int fd, const void *b, size_t n);
ssize_t __wrap_write(int fd, const void *b, size_t n) {
  return seen("write"), __real_write(fd, b, n);
}
FILE *__real_fopen(const char *p, const char *m);
FILE *__wrap_fopen(const char *p, const char *m) {
  return seen("fopen"), __real_fopen(p, m);
}
size_t __real_fwrite(const void *b, size_t s, size_t n, FILE *f);
size_t __wrap_fwrite(const void *b, size_t s, size_t n, FILE *f) {
  return seen("fwrite"), __real_fwrite(b, s, n, f);
}
int __wrap_printf(const char *fmt, ...) {
  seen("printf");
  va_list ap;
  va_start(ap, fmt);
  int r = vprintf(fmt, ap);
  va_end(ap);
  return r;
}
int __real_puts(const char *s);
int __wrap_puts(const char *s) {
  return seen("puts"), __real_puts(s);
}
int __real_nanosleep(const struct timespec *r, struct timespec *rem);
int __wrap_nanosleep(const struct timespec *r, struct timespec *rem) {
  return seen("nanosleep"), __real_nanosleep(r, rem);
}
int __real_clock_nanosleep(clockid_t c, int f, const struct timespec *r, struct timespec *rem);
int __wrap_clock_nanosleep(clockid_t c, int f, const struct timespec *r, struct timespec *rem) {
  return seen("clock_nanosleep"), __real_clock_nanosleep(c, f, r, rem);
}
int __real_usleep(useconds_t us);
int __wrap_usleep(useconds_t us) {
  return seen("usleep"), __real_usleep(us);
}

static void rt_process(eng_engine *e, float *buf, uint32_t frames) {
  in_rt = true;
  eng_engine_process(e, buf, frames);
  in_rt = false;
}

/* Control case: the trap must catch calls made in an RT section, and only there. */
Test(eng_rt, trap_counts_forbidden_calls_inside_the_rt_section_only) {
  atomic_store(&rt_violations, 0);
  void *volatile outside = malloc(16);
  free(outside);
  cr_assert_eq(atomic_load(&rt_violations), 0, "calls outside the section are not counted");

  pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
  in_rt = true;
  void *volatile p = malloc(16);
  free(p);
  pthread_mutex_lock(&m);
  in_rt = false;
  pthread_mutex_unlock(&m);
  cr_expect_eq(atomic_load(&rt_violations), 3, "malloc, free and pthread_mutex_lock seen");
}

Test(eng_rt, trap_sees_calls_made_inside_libeng) {
  /* eng_spsc_create allocates inside libeng.a: proves the wrap reaches the
   * library's objects, not just this file. */
  atomic_store(&rt_violations, 0);
  in_rt = true;
  eng_config cfg = eng_config_default();
  eng_engine *e = NULL;
  int rc = eng_engine_create(&cfg, &e);
  eng_engine_destroy(e);
  in_rt = false;
  cr_assert_eq(rc, ENG_OK);
  cr_expect_geq(atomic_load(&rt_violations), 8, "create/destroy allocate and free");
}

typedef struct control {
  eng_engine *e;
  atomic_bool stop;
  atomic_int plans;
  atomic_int bus_plans;
  atomic_int slot_frames;  /* meter frames showing a session clip playing */
  atomic_int count_frames; /* meter frames showing a count-in */
  float monitor[2 * 120];  /* monitor tap reads */
  useconds_t pause;        /* between rounds of the control thread */
} control;

/* Devices for the RT test: every instrument and every effect kind, notes
 * dense enough that events land inside most blocks, sidechains, a bus with
 * effects, routing and sends. */
static const eng_device_desc synth_dev = {
    .kind = ENG_NODE_SYNTH,
    .n_params = 3,
    .params = (const eng_param_value[]){{23, 3.0f}, {6, 0.2f}, {5, 0.5f}}};
static const eng_device_desc drums_dev = {.kind = ENG_NODE_DRUMS};
static const eng_device_desc all_fx[8] = {
    {.kind = ENG_NODE_EQ, .n_params = 1, .params = (const eng_param_value[]){{1, 6.0f}}},
    {.kind = ENG_NODE_COMPRESSOR},
    {.kind = ENG_NODE_GATE},
    {.kind = ENG_NODE_SATURATOR},
    {.kind = ENG_NODE_DELAY},
    {.kind = ENG_NODE_REVERB},
    {.kind = ENG_NODE_CHORUS},
    {.kind = ENG_NODE_LIMITER}};
static const eng_device_desc keyed_fx[3] = {{.kind = ENG_NODE_COMPRESSOR, .sidechain_track_id = 1},
                                            {.kind = ENG_NODE_GATE, .sidechain_track_id = 1},
                                            {.kind = ENG_NODE_GAIN}};

/* Sampler zones: pitched with a loop, a one-shot layer, one without data. */
static float rt_sample[2 * 3000];
static const eng_zone_desc rt_zones[3] = {
    {.sample = {rt_sample, 3000, 2, 44100},
     .key_hi = 127,
     .root_key = 48,
     .gain = 1.0f,
     .loop = true,
     .loop_start = 1000,
     .loop_end = 2900},
    {.sample = {rt_sample, 3000, 1, 48000},
     .key_lo = 36,
     .key_hi = 50,
     .vel_lo = 90,
     .mode = ENG_ZONE_ONE_SHOT,
     .gain = 0.5f},
    {.sample = {NULL, 0, 1, 48000}, .key_hi = 127, .gain = 1.0f}};
static const eng_device_desc sampler_dev = {.kind = ENG_NODE_SAMPLER,
                                            .n_zones = 3,
                                            .zones = rt_zones,
                                            .n_params = 2,
                                            .params =
                                                (const eng_param_value[]){{5, 2.0f}, {8, 8.0f}}};

/* Clips: looping with fades at another rate, a stretched one (Rubber Band
 * runs on the control thread at compile), one without data. */
static const eng_clip_desc rt_clips[3] = {
    {.start_frame = 100,
     .length_frames = 30000,
     .sample = {rt_sample, 3000, 2, 44100},
     .gain = 1.0f,
     .fade_in_frames = 500,
     .fade_out_frames = 700,
     .loop = true,
     .loop_frames = 2000},
    {.start_frame = 5000,
     .length_frames = 4000,
     .sample = {rt_sample, 3000, 1, 48000},
     .gain = 0.5f,
     .stretch = 1.5},
    {.start_frame = 0, .length_frames = 100000, .sample = {NULL, 0, 1, 48000}, .gain = 1.0f}};

static eng_note_desc rt_notes[400];
/* Session clips on the synth track: short loops (many passes per block run,
 * notes cut at the length) and a longer one, launched, switched and stopped
 * by the control thread with and without a quantum. */
static const eng_slot_desc rt_slots[3] = {
    {.slot = 0, .length_frames = 4000, .n_notes = 400, .notes = rt_notes},
    {.slot = 1, .length_frames = 20000, .n_notes = 400, .notes = rt_notes},
    {.slot = 2, .length_frames = 97, .n_notes = 3, .notes = rt_notes}};
static const eng_slot_desc rt_empty_slots[3] = {/* the same slots on a track without instrument */
                                                {.slot = 0, .length_frames = 4000},
                                                {.slot = 1, .length_frames = 20000},
                                                {.slot = 2, .length_frames = 97}};
static eng_send_desc rt_sends[1];

/* Automation: every curve, steps inside blocks, gain and pan of the fader,
 * SAMPLE (synth level, eq-free gain), BLOCK (cutoff, eq) and NONE (the
 * synth's wave) parameters, and one bad lane (ignored). */
static const eng_auto_point rt_curve[] = {
    {0, 0.2f, ENG_CURVE_S, 0.5f},       {3000, 0.9f, ENG_CURVE_HOLD, 0},
    {3001, 0.1f, ENG_CURVE_EXP, -0.3f}, {9000, 0.7f, ENG_CURVE_LINEAR, 0},
    {9000, 0.3f, ENG_CURVE_HOLD, 0},    {20000, 1.0f, ENG_CURVE_LINEAR, 0}};
static const eng_auto_point rt_cutoff[] = {{0, 200.0f, ENG_CURVE_EXP, 0}, {30000, 9000.0f, 0, 0}};
static const eng_auto_point rt_wave[] = {{0, 0.0f, ENG_CURVE_HOLD, 0}, {5000, 2.0f, 0, 0}};
static const eng_auto_point rt_pan[] = {{0, -1.0f, ENG_CURVE_LINEAR, 0}, {8000, 1.0f, 0, 0}};
static const eng_auto_point rt_bad[] = {{10, 0.5f, 0, 0}, {5, 0.5f, 0, 0}};
static const eng_automation rt_autos[] = {
    {ENG_AUTO_GAIN, 0, 0, 6, rt_curve},   {ENG_AUTO_PAN, 0, 0, 2, rt_pan},
    {ENG_AUTO_PARAM, 0, 7, 2, rt_cutoff}, {ENG_AUTO_PARAM, 0, 27, 6, rt_curve},
    {ENG_AUTO_PARAM, 0, 0, 2, rt_wave},   {ENG_AUTO_PARAM, 1, 2, 6, rt_curve},
    {ENG_AUTO_PARAM, 4, 1, 6, rt_curve},  {ENG_AUTO_PARAM, 6, 0, 6, rt_curve},
    {ENG_AUTO_GAIN, 0, 0, 2, rt_bad}};

static void with_devices(eng_track_desc *t, uint32_t n, uint32_t i) {
  for (uint32_t k = 0; k < 400; k++)
    rt_notes[k] = (eng_note_desc){.start_frame = 97u * k,
                                  .length_frames = 300 + 13u * k,
                                  .key = (uint8_t) (36 + k % 15),
                                  .velocity = 100};
  for (uint32_t k = 0; k < n && k < 6; k++) {
    t[k].instrument = k % 2 ? &drums_dev : k == 2 ? &sampler_dev : &synth_dev;
    t[k].notes = rt_notes;
    t[k].n_notes = 400;
    t[k].live = k == 0;
    t[k].effects = k == 1 && n > 1 ? keyed_fx : all_fx;
    t[k].n_effects = k == 1 && n > 1 ? 3 : 8;
    if (k == 0) t[k].automations = rt_autos, t[k].n_automations = 9; /* synth + all_fx */
    if (k == 0) t[k].slots = rt_slots, t[k].n_slots = 3;
    if (k != 0) t[k].automations = rt_autos, t[k].n_automations = 2; /* gain, pan */
  }
  if (n > 5) { /* track 6 becomes an audio track */
    t[5].instrument = NULL, t[5].notes = NULL, t[5].n_notes = 0, t[5].live = false;
    t[5].audio = true, t[5].clips = rt_clips, t[5].n_clips = 3;
  }
  if (n > 4) { /* track 4 becomes a bus: track 3 routed into it, track 1 sends to it */
    t[3].bus = true;
    t[3].instrument = NULL, t[3].notes = NULL, t[3].n_notes = 0, t[3].live = false;
    t[2].output_track_id = 4;
    t[0].sends = rt_sends, t[0].n_sends = 1;
    rt_sends[0] = (eng_send_desc){.bus_track_id = 4, .level = 0.5f, .pre_fader = i % 4 == 1};
  }
}

/* The control thread: allocates plans, swaps them in, queues commands,
 * collects retired plans and reads meters, all while the RT section runs.
 * Every other plan carries synths, drums and every effect kind; notes,
 * parameter changes and live notes flow too. */
static void *control_thread(void *arg) {
  control *c = arg;
  eng_track_desc t[ENG_MAX_TRACKS];
  eng_meter_frame f;
  for (uint32_t i = 0; !atomic_load(&c->stop); i++) {
    uint32_t n = 1 + i % ENG_MAX_TRACKS;
    if (i % 2) n = 1 + i % 8;
    for (uint32_t k = 0; k < n; k++) {
      t[k] = track(k + 1, 1.0f, 0.0f);
      if (k % 3 == 1) t[k].automations = rt_autos, t[k].n_automations = 2; /* test tones */
    }
    t[0].slots = rt_empty_slots, t[0].n_slots = 3;
    if (i % 2) with_devices(t, n, i);
    t[0].solo = i % 4 == 0;
    eng_plan_desc d = desc_with(t, n, i % 2 == 1);
    if (i % 3 == 0) /* a loop region, the wrap inside blocks */
      d.loop = true, d.loop_start_frame = 500 + i % 700, d.loop_end_frame = 9000 + i % 300;
    eng_plan *p = NULL;
    if (eng_plan_create(&d, &p) == ENG_OK && eng_engine_set_plan(c->e, p) == ENG_OK) {
      atomic_fetch_add(&c->plans, 1);
      if (n > 4 && i % 2) atomic_fetch_add(&c->bus_plans, 1);
    }
    (void) eng_engine_set_playing(c->e, i % 5 != 0 && i % 11 != 0); /* 11: count in, below */
    (void) eng_engine_note(c->e, 1, (uint8_t) (40 + i % 30), (uint8_t) (i % 3 ? 90 : 0));
    (void) eng_engine_set_param(c->e, 1, 1 + i % 8, 0, (i % 2) ? 200.0f : 2000.0f);
    (void) eng_engine_set_param(c->e, 1, 0, 7, 300.0f + (float) (i % 50) * 100.0f);
    if (i % 7 == 0) (void) eng_engine_locate(c->e, (i * 977u) % 30000); /* in and past loops */
    if (i % 3 == 1) (void) eng_engine_launch(c->e, 1, (i / 3) % 3, (i % 4) * 1500u);
    if (i % 13 == 0) (void) eng_engine_stop_slot(c->e, 1, (i % 2) * 2000u);
    if (i % 11 == 0) (void) eng_engine_play_count_in(c->e, 1 + i % 2);
    eng_engine_collect(c->e);
    while (eng_engine_read_meters(c->e, &f) == 1) {
      if (f.n > 1 && f.meters[1].slot != ENG_NO_SLOT) atomic_fetch_add(&c->slot_frames, 1);
      if (f.counting_in) atomic_fetch_add(&c->count_frames, 1);
    }
    /* The monitor tap is on for the whole run; this thread is its reader
     * and sometimes lets it fill, so the drop path runs too. */
    if (i % 50 != 49)
      while (eng_engine_monitor_read(c->e, c->monitor, 120, NULL) > 0) {
      }
    usleep(c->pause ? c->pause : 100);
  }
  return NULL;
}

Test(eng_rt, process_makes_no_forbidden_call_while_plans_swap_and_commands_flow) {
  for (int k = 0; k < 2 * 3000; k++)
    rt_sample[k] = (float) ((k * 7919) % 2000 - 1000) / 1000.0f;
  eng_config cfg = eng_config_default();
  control c = {0};
  cr_assert_eq(eng_engine_create(&cfg, &c.e), ENG_OK);
  atomic_init(&c.stop, false);
  eng_engine_monitor_enable(c.e, true); /* the tap runs in the RT section too */
  atomic_store(&rt_violations, 0);
  pthread_t th;
  cr_assert_eq(pthread_create(&th, NULL, control_thread, &c), 0);

  float buf[2 * 128];
  /* Run until both sides have done plenty: >= 8000 blocks and >= 300 plans. */
  for (int i = 0; i < 8000 || atomic_load(&c.plans) < 300; i++)
    rt_process(c.e, buf, i % 3 == 0 ? 128 : 61);
  atomic_store(&c.stop, true);
  pthread_join(th, NULL);

  eng_stats s;
  eng_engine_stats(c.e, &s);
  cr_expect_eq(atomic_load(&rt_violations), 0, "forbidden call in the RT path: %s",
               atomic_load(&last_bad) ? atomic_load(&last_bad) : "?");
  cr_expect_gt(s.plan_swaps, 5, "swap path exercised (%llu swaps)",
               (unsigned long long) s.plan_swaps);
  cr_expect_gt(s.meters_pushed, 5, "meter path exercised");
  cr_expect_gt(s.monitor_frames, 128 * 100, "monitor tap exercised");
  cr_expect_gt(atomic_load(&c.plans), 5);
  cr_expect_gt(atomic_load(&c.bus_plans), 5, "plans with a bus compiled");
  cr_expect_gt(atomic_load(&c.slot_frames), 5, "session clips played");
  cr_expect_gt(atomic_load(&c.count_frames), 0, "count-ins clicked");
  cr_expect_gt(s.commands_dropped + 1, 0);
  eng_engine_destroy(c.e);
}

/* The anticipative cohort (eng_cohort_int.h) on the same script: worker
 * threads render the deterministic chains ahead while plans swap and
 * commands flow, some held for the lookahead; the RT section (which starts
 * and stops the cohort, takes chains back, renders late chains inline,
 * reads the rings and wakes the workers with sem_post) still makes no
 * forbidden call. Fixed 128-frame blocks with a pause between them, as a
 * backend calls, so the workers do get ahead; slower control rounds, so
 * the transport is steady now and then. */
Test(eng_rt, anticipative_path_makes_no_forbidden_call) {
  for (int k = 0; k < 2 * 3000; k++)
    rt_sample[k] = (float) ((k * 7919) % 2000 - 1000) / 1000.0f;
  eng_config cfg = eng_config_default();
  cfg.lookahead_frames = 512;
  cfg.workers = 2;
  control c = {.pause = 3000};
  cr_assert_eq(eng_engine_create(&cfg, &c.e), ENG_OK);
  atomic_init(&c.stop, false);
  eng_engine_monitor_enable(c.e, true);
  atomic_store(&rt_violations, 0);
  pthread_t th;
  cr_assert_eq(pthread_create(&th, NULL, control_thread, &c), 0);
  float buf[2 * 128];
  eng_stats s = {0};
  for (int i = 0; i < 6000 || atomic_load(&c.plans) < 100 || s.ahead_blocks < 200; i++) {
    rt_process(c.e, buf, 128);
    usleep(i % 8 ? 20 : 200);
    eng_engine_stats(c.e, &s);
    if (i > 200000) break;
  }
  atomic_store(&c.stop, true);
  pthread_join(th, NULL);
  eng_engine_stats(c.e, &s);
  cr_expect_eq(atomic_load(&rt_violations), 0, "forbidden call in the RT path: %s",
               atomic_load(&last_bad) ? atomic_load(&last_bad) : "?");
  cr_expect_gt(s.plan_swaps, 5);
  cr_expect_geq(s.ahead_blocks, 200, "ring path exercised (%llu chain-blocks)",
                (unsigned long long) s.ahead_blocks);
  cr_expect_gt(s.ahead_rendered, 0, "workers rendered");
  cr_expect_gt(s.cohort_misses, 0, "late chains rendered inline");
  eng_engine_destroy(c.e);
}
