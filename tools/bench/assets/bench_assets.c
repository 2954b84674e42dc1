/* bench_assets: asset import throughput against the command-line peers.
 *
 * Generates N WAV (16-bit) and N FLAC (16-bit) stereo files at 44.1 kHz,
 * SECONDS long each, all different (so nothing deduplicates), then times,
 * file by file and in the same run:
 *
 *   ours              sto_asset_import at 48 kHz: SHA-256, copy of the
 *                     original, decode, sto_resample (speexdsp level 7)
 *                     to float32, peaks, fsyncs, index row
 *   sndfile-resample  -to 48000 -c 1 (libsamplerate SRC_SINC_MEDIUM_QUALITY)
 *   sox               -e floating-point -b 32 ... rate -m 48000 (medium quality)
 *   sndfile-convert   -float32 (format conversion only: it cannot resample)
 *
 * The peers run as processes (fork/exec included in their time), as an
 * import done by calling them would. Files are read once beforehand so all
 * start from the page cache.
 *
 * Usage: bench_assets [N_PER_FORMAT (8)] [SECONDS (10)]
 * Prints per-tool MB/s (of input), files/s, p50/p99 per-file times, the
 * ratios ours/theirs (throughput; above 1 = we are faster), and lines
 * `bench: NAME VALUE UNIT`. */
#include "storage/sto_asset.h"

#include <fcntl.h>
#include <math.h>
#include <sndfile.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

#define MAX_FILES 256

typedef struct tool_run {
  const char *name;
  double seconds[MAX_FILES];
  int n;
  double total;
  int failures;
} tool_run;

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double) ts.tv_sec + ts.tv_nsec * 1e-9;
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *) a, y = *(const double *) b;
  return (x > y) - (x < y);
}

static double percentile(const tool_run *r, double p) {
  double sorted[MAX_FILES];
  memcpy(sorted, r->seconds, sizeof(double) * (size_t) r->n);
  qsort(sorted, (size_t) r->n, sizeof(double), cmp_double);
  int i = (int) ceil(p * r->n) - 1;
  return sorted[i < 0 ? 0 : i];
}

static void generate(const char *path, int format, int seconds, unsigned seed) {
  SF_INFO info = {.samplerate = 44100, .channels = 2, .format = format};
  SNDFILE *sf = sf_open(path, SFM_WRITE, &info);
  if (!sf) {
    fprintf(stderr, "%s: %s\n", path, sf_strerror(NULL));
    exit(1);
  }
  static float buf[4096 * 2];
  double f1 = 110.0 * (1 + seed % 7), f2 = 330.0 + 17.0 * seed;
  uint32_t rng = 2463534242u + seed;
  long frames = 44100L * seconds;
  for (long at = 0; at < frames; at += 4096) {
    long n = frames - at < 4096 ? frames - at : 4096;
    for (long i = 0; i < n; i++) {
      rng ^= rng << 13, rng ^= rng >> 17, rng ^= rng << 5;
      double t = (double) (at + i) / 44100, noise = (rng / 4294967296.0 - 0.5) * 0.05;
      buf[2 * i] = (float) (0.4 * sin(2 * M_PI * f1 * t) + noise);
      buf[2 * i + 1] = (float) (0.3 * sin(2 * M_PI * f2 * t) - noise);
    }
    sf_writef_float(sf, buf, n);
  }
  sf_close(sf);
}

static long file_size(const char *path) {
  struct stat sb;
  return stat(path, &sb) == 0 ? (long) sb.st_size : 0;
}

static void warm(const char *path) {
  char buf[1 << 16];
  int fd = open(path, O_RDONLY);
  if (fd < 0) return;
  while (read(fd, buf, sizeof buf) > 0) {
  }
  close(fd);
}

/* Runs ARGV quietly; returns its exit status (127 if it could not start). */
static int run(char *const argv[]) {
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
  posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
  pid_t pid;
  int rc = posix_spawnp(&pid, argv[0], &fa, NULL, argv, environ);
  posix_spawn_file_actions_destroy(&fa);
  if (rc != 0) return 127;
  int status;
  if (waitpid(pid, &status, 0) < 0) return 127;
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128;
}

static bool have(const char *tool) {
  char cmd[256];
  snprintf(cmd, sizeof cmd, "command -v %s >/dev/null 2>&1", tool);
  return system(cmd) == 0;
}

static void report(const tool_run *r, double mb, int n_files) {
  if (r->n == 0) {
    printf("%-18s  not run (tool missing)\n", r->name);
    return;
  }
  printf("%-18s  %8.1f MB/s  %7.1f files/s  p50 %7.1f ms  p99 %7.1f ms%s\n", r->name, mb / r->total,
         n_files / r->total, 1e3 * percentile(r, 0.5), 1e3 * percentile(r, 0.99),
         r->failures ? "  (some runs failed)" : "");
}

int main(int argc, char **argv) {
  int per_format = argc > 1 ? atoi(argv[1]) : 8;
  int seconds = argc > 2 ? atoi(argv[2]) : 10;
  if (per_format < 1 || 2 * per_format > MAX_FILES || seconds < 1) {
    fprintf(stderr, "usage: bench_assets [N_PER_FORMAT 1..%d] [SECONDS]\n", MAX_FILES / 2);
    return 2;
  }
  char dir[] = "/tmp/backline-bench-assets-XXXXXX";
  if (!mkdtemp(dir)) return perror("mkdtemp"), 1;
  int n_files = 2 * per_format;
  static char paths[MAX_FILES][256], out[512];
  double mb = 0;
  for (int i = 0; i < n_files; i++) {
    bool flac = i >= per_format;
    snprintf(paths[i], sizeof paths[i], "%s/in%02d.%s", dir, i, flac ? "flac" : "wav");
    generate(paths[i], flac ? SF_FORMAT_FLAC | SF_FORMAT_PCM_16 : SF_FORMAT_WAV | SF_FORMAT_PCM_16,
             seconds, (unsigned) i);
    mb += file_size(paths[i]) / 1e6;
  }
  for (int i = 0; i < n_files; i++)
    warm(paths[i]);
  printf("bench_assets: %d WAV + %d FLAC, stereo 16-bit 44.1 kHz, %d s each, %.1f MB in all;"
         " to 48 kHz float32\n",
         per_format, per_format, seconds, mb);

  enum { OURS, RESAMPLE, SOX, CONVERT, N_TOOLS };
  static tool_run runs[N_TOOLS] = {{.name = "ours"},
                                   {.name = "sndfile-resample"},
                                   {.name = "sox rate -m"},
                                   {.name = "sndfile-convert"}};

  char store_dir[300], err[512];
  snprintf(store_dir, sizeof store_dir, "%s/assets", dir);
  sto_asset_store *st;
  if (sto_asset_store_open(store_dir, &st, err, sizeof err) != 0) {
    fprintf(stderr, "%s\n", err);
    return 1;
  }
  for (int i = 0; i < n_files; i++) {
    sto_asset_info info;
    double t0 = now();
    int rc = sto_asset_import(st, paths[i], NULL, 48000, &info, err, sizeof err);
    double t = now() - t0;
    if (rc) fprintf(stderr, "ours: %s\n", err), runs[OURS].failures++;
    runs[OURS].seconds[runs[OURS].n++] = t;
    runs[OURS].total += t;
  }
  sto_asset_close(st);

  bool has_resample = have("sndfile-resample"), has_sox = have("sox"),
       has_convert = have("sndfile-convert");
  for (int i = 0; i < n_files; i++) {
    for (int tool = RESAMPLE; tool < N_TOOLS; tool++) {
      if ((tool == RESAMPLE && !has_resample) || (tool == SOX && !has_sox) ||
          (tool == CONVERT && !has_convert))
        continue;
      snprintf(out, sizeof out, "%s/out-%d-%02d.wav", dir, tool, i);
      char *resample[] = {"sndfile-resample", "-to", "48000", "-c", "1", paths[i], out, NULL};
      char *sox[] = {"sox", paths[i], "-e", "floating-point", "-b", "32",
                     out,   "rate",   "-m", "48000",          NULL};
      char *convert[] = {"sndfile-convert", "-float32", paths[i], out, NULL};
      char *const *argv_ = tool == RESAMPLE ? resample : tool == SOX ? sox : convert;
      double t0 = now();
      int rc = run(argv_);
      double t = now() - t0;
      if (rc != 0) runs[tool].failures++;
      runs[tool].seconds[runs[tool].n++] = t;
      runs[tool].total += t;
      unlink(out);
    }
  }

  printf("\n%-18s  %13s  %15s  %13s  %13s\n", "tool", "throughput", "files", "per file",
         "per file");
  for (int tool = 0; tool < N_TOOLS; tool++)
    report(&runs[tool], mb, n_files);
  printf("\nours / theirs (throughput; > 1 means ours is faster):\n");
  for (int tool = RESAMPLE; tool < N_TOOLS; tool++)
    if (runs[tool].n)
      printf("  vs %-16s %.2f%s\n", runs[tool].name, runs[tool].total / runs[OURS].total,
             tool == CONVERT ? "  (it does not resample: a floor, not a peer)" : "");
  printf("\n");

  const tool_run *o = &runs[OURS];
  printf("bench: assets_import_mb_per_s %.1f MB/s\n", mb / o->total);
  printf("bench: assets_import_files_per_s %.2f files/s\n", n_files / o->total);
  printf("bench: assets_import_p50 %.1f ms\n", 1e3 * percentile(o, 0.5));
  printf("bench: assets_import_p99 %.1f ms\n", 1e3 * percentile(o, 0.99));
  static const char *keys[N_TOOLS] = {"", "sndfile_resample", "sox", "sndfile_convert"};
  for (int tool = RESAMPLE; tool < N_TOOLS; tool++) {
    const tool_run *r = &runs[tool];
    if (!r->n) continue;
    printf("bench: %s_mb_per_s %.1f MB/s\n", keys[tool], mb / r->total);
    printf("bench: %s_p50 %.1f ms\n", keys[tool], 1e3 * percentile(r, 0.5));
    printf("bench: %s_p99 %.1f ms\n", keys[tool], 1e3 * percentile(r, 0.99));
    printf("bench: ratio_ours_vs_%s %.2f x\n", keys[tool], r->total / o->total);
  }
  char cmd[400];
  snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
  if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", dir);
  int failed = 0;
  for (int tool = 0; tool < N_TOOLS; tool++)
    failed += runs[tool].failures;
  return failed ? 1 : 0;
}
