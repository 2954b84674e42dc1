/* bench_engine_idle.c: CPU of a stopped engine. A 16-track project (each a
 * synth + EQ + compressor + reverb strip playing chords) runs on the null
 * device at 128 frames / 48 kHz: 1 s of play, stop, TAIL_S seconds for the
 * reverb tails to ring out, then the process's CPU time (getrusage, user +
 * system) over MEASURE_S seconds of wall time, stopped. Twice: with the
 * graph kept running while stopped (eng_config.no_idle_skip, as before the
 * idle skip) and with the idle skip. Prints `bench:` lines.
 *
 * Usage: bench_engine_idle [measure_seconds] (default 10). */
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <time.h>

#include "engine/eng_backend.h"
#include "engine/eng_engine.h"
#include "engine/eng_err.h"

#define SRATE  48000
#define TRACKS 16
#define TAIL_S 8

static const eng_param_value synth_p[] = {{5, 0.4f}, {23, 2.0f}, {26, 8.0f}};
static const eng_param_value eq_p[] = {{1, 3.0f}, {4, -4.0f}, {10, 2.0f}};
static const eng_param_value comp_p[] = {{0, -18.0f}, {1, 3.0f}};
static const eng_param_value rev_p[] = {{3, 0.2f}};

static double cpu_s(void) {
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  return (double) ru.ru_utime.tv_sec + ru.ru_utime.tv_usec * 1e-6 + (double) ru.ru_stime.tv_sec +
         ru.ru_stime.tv_usec * 1e-6;
}

static void sleep_s(double s) {
  struct timespec ts = {(time_t) s, (long) ((s - (double) (time_t) s) * 1e9)};
  while (nanosleep(&ts, &ts) != 0) {
  }
}

/* Runs the script; returns the stopped CPU share of one core (0..1), or -1. */
static double stopped_cpu(bool no_idle_skip, double measure_s, uint64_t *idle_blocks) {
  eng_device_desc syn = {.kind = ENG_NODE_SYNTH, .n_params = 3, .params = synth_p};
  eng_device_desc fx[3] = {{.kind = ENG_NODE_EQ, .n_params = 3, .params = eq_p},
                           {.kind = ENG_NODE_COMPRESSOR, .n_params = 2, .params = comp_p},
                           {.kind = ENG_NODE_REVERB, .n_params = 1, .params = rev_p}};
  static eng_note_desc notes[8];
  for (int i = 0; i < 8; i++) /* two 4-note chords in the first second */
    notes[i] =
        (eng_note_desc){(uint64_t) (i / 4) * 24000, 19200, (uint8_t) (48 + (i % 4) * 4), 100};
  eng_track_desc t[TRACKS];
  for (int i = 0; i < TRACKS; i++)
    t[i] = (eng_track_desc){.track_id = (uint64_t) i + 1,
                            .gain = 0.1f,
                            .instrument = &syn,
                            .n_effects = 3,
                            .effects = fx,
                            .n_notes = 8,
                            .notes = notes};
  eng_plan_desc d = {.sample_rate = SRATE,
                     .tempo_bpm = 120,
                     .beats_per_bar = 4,
                     .master_gain = 1.0f,
                     .n_tracks = TRACKS,
                     .tracks = t};
  eng_config cfg = eng_config_default();
  cfg.no_idle_skip = no_idle_skip;
  eng_engine *e = NULL;
  eng_plan *p = NULL;
  eng_backend *b = NULL;
  char why[256] = "";
  if (eng_engine_create(&cfg, &e) || eng_plan_compile(&d, &p, why, sizeof why) ||
      eng_engine_set_plan(e, p) || eng_backend_open(e, ENG_BACKEND_NULL, &b, why, sizeof why)) {
    fprintf(stderr, "bench_engine_idle: cannot start the engine: %s\n", why);
    eng_engine_destroy(e);
    return -1;
  }
  eng_engine_set_playing(e, true);
  sleep_s(1.0);
  eng_engine_set_playing(e, false);
  sleep_s(TAIL_S);
  eng_meter_frame mf;
  while (eng_engine_read_meters(e, &mf) == 1) {
  }
  double c0 = cpu_s();
  sleep_s(measure_s);
  double used = cpu_s() - c0;
  eng_stats st;
  eng_engine_stats(e, &st);
  *idle_blocks = st.blocks_idle;
  eng_backend_close(b);
  eng_engine_destroy(e);
  return used / measure_s;
}

int main(int argc, char **argv) {
  double measure = argc > 1 ? atof(argv[1]) : 10.0;
  if (!(measure > 0)) {
    fprintf(stderr, "usage: bench_engine_idle [measure_seconds > 0]\n");
    return 2;
  }
  uint64_t idle_before = 0, idle_after = 0;
  double before = stopped_cpu(true, measure, &idle_before);
  double after = stopped_cpu(false, measure, &idle_after);
  if (before < 0 || after < 0) return 1;
  printf("stopped 16-track project (synth + EQ + compressor + reverb each), null device, "
         "128 frames @ 48 kHz, %.0f s after the tails:\n",
         measure);
  printf("  graph kept running: %6.3f %% of a core\n", 100 * before);
  printf("  idle skip:          %6.3f %% of a core (%llu blocks idle)\n", 100 * after,
         (unsigned long long) idle_after);
  printf("bench: idle_cpu_graph_running %.3f %%\n", 100 * before);
  printf("bench: idle_cpu_idle_skip %.3f %%\n", 100 * after);
  printf("bench: idle_cpu_ratio %.3f ratio\n", after > 0 ? before / after : 0.0);
  return 0;
}
