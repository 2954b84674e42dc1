/* A take survives SIGKILL: a child records a known signal (flushing every
 * 0.1 s of audio and telling the parent, through a pipe, how many frames
 * each flush made durable); the parent kills it at a random moment. The
 * file must open, hold at least the frames of the last flush reported, all
 * sample-exact, and be recovered into the asset store. */
#include "storage/sto_asset.h"
#include "storage/sto_take.h"
#include "tools/client/cli_server.h"

#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sndfile.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define RATE     48000
#define CHANNELS 2
#define BLOCK    480 /* frames per write: 10 ms, as a writer thread drains them */
#define FLUSH    4800
#define CYCLES   8

static float sample(uint64_t frame, uint32_t c) {
  return (float) ((frame * 7 + c * 13) % 20011) / 20011.0f - 0.5f;
}

/* The child: records until killed, reporting each flush on FD. */
static void record(const char *path, int fd) {
  sto_take_config cfg = sto_take_config_default(CHANNELS, RATE);
  cfg.flush_frames = FLUSH;
  sto_take *t;
  if (sto_take_create(path, &cfg, &t, NULL, 0)) _exit(1);
  float buf[BLOCK * CHANNELS];
  uint64_t reported = 0;
  for (uint64_t at = 0;; at += BLOCK) {
    for (uint64_t i = 0; i < BLOCK; i++)
      for (uint32_t c = 0; c < CHANNELS; c++)
        buf[i * CHANNELS + c] = sample(at + i, c);
    if (sto_take_write(t, buf, BLOCK, NULL, 0)) _exit(2);
    uint64_t flushed = sto_take_flushed(t);
    if (flushed != reported && write(fd, &flushed, sizeof flushed) != sizeof flushed) _exit(3);
    reported = flushed;
    usleep(1000); /* ~10x real time: many flushes, a file of a few MB */
  }
}

/* Reads the flush reports from FD until at least N_WANTED arrived (or the
 * pipe closes, when N_WANTED is 0); returns the largest. */
static uint64_t read_reports(int fd, int n_wanted, uint64_t largest) {
  for (int n = 0; n_wanted == 0 || n < n_wanted; n++) {
    uint64_t v;
    ssize_t got = read(fd, &v, sizeof v);
    if (got < 0 && errno == EINTR) continue;
    if (got != (ssize_t) sizeof v) break;
    if (v > largest) largest = v;
  }
  return largest;
}

/* Checks the killed take at PATH; returns the frames it holds. */
static uint64_t check_take(const char *path, uint64_t flushed) {
  SF_INFO info = {0};
  SNDFILE *sf = sf_open(path, SFM_READ, &info);
  cr_assert_not_null(sf, "the killed take does not open: %s", sf_strerror(NULL));
  cr_assert_eq(info.channels, CHANNELS);
  cr_assert_eq(info.samplerate, RATE);
  cr_assert_geq((uint64_t) info.frames, flushed, "%lld frames in the file, %llu were flushed",
                (long long) info.frames, (unsigned long long) flushed);
  static float buf[4096 * CHANNELS];
  uint64_t at = 0;
  sf_count_t n;
  while ((n = sf_readf_float(sf, buf, 4096)) > 0) {
    for (sf_count_t i = 0; i < n * CHANNELS; i++)
      cr_assert_eq(buf[i], sample(at + (uint64_t) i / CHANNELS, (uint32_t) i % CHANNELS),
                   "frame %llu differs", (unsigned long long) (at + (uint64_t) i / CHANNELS));
    at += (uint64_t) n;
  }
  sf_close(sf);
  cr_assert_eq(at, (uint64_t) info.frames, "the stated frames all read back");
  return at;
}

Test(reliability, a_take_killed_mid_recording_keeps_every_flushed_frame) {
  char root[512], path[600], store_dir[600], err[600];
  cr_assert_eq(cli_tempdir("backline-take-kill", root, sizeof root), 0);
  snprintf(store_dir, sizeof store_dir, "%s/assets", root);
  sto_asset_store *st;
  cr_assert_eq(sto_asset_store_open(store_dir, &st, err, sizeof err), 0, "%s", err);
  unsigned seed = (unsigned) time(NULL);
  srand(seed);
  for (int cycle = 0; cycle < CYCLES; cycle++) {
    snprintf(path, sizeof path, "%s/take-%d.wav", root, cycle);
    int fds[2];
    cr_assert_eq(pipe(fds), 0);
    pid_t pid = fork();
    cr_assert_geq(pid, 0);
    if (pid == 0) {
      close(fds[0]);
      record(path, fds[1]);
    }
    close(fds[1]);
    /* Some flushes, then a random moment within the next ~0.1 s. */
    uint64_t flushed = read_reports(fds[0], 3 + rand() % 8, 0);
    usleep((useconds_t) (rand() % 12000));
    cr_assert_eq(kill(pid, SIGKILL), 0);
    int status;
    cr_assert_eq(waitpid(pid, &status, 0), pid);
    cr_assert(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL,
              "the child stopped by itself (status %d)", status);
    flushed = read_reports(fds[0], 0, flushed); /* reports sent before the kill */
    close(fds[0]);
    cr_assert_gt(flushed, 0);
    uint64_t held = check_take(path, flushed);

    sto_asset_info info;
    cr_assert_eq(sto_take_recover(path, st, NULL, RATE, &info, err, sizeof err), 0, "%s", err);
    cr_assert_eq(info.orig_frames, held);
    cr_assert_eq(access(path, F_OK), -1);
    fprintf(stderr, "[note] take kill %d: %llu frames flushed, %llu in the file (seed %u)\n", cycle,
            (unsigned long long) flushed, (unsigned long long) held, seed);
  }
  sto_asset_close(st);
  cli_rmtree(root);
}
