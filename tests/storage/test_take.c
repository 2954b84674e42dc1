/* Takes: written while recorded, readable at every flush, imported as an
 * asset on finish, recovered after a crash; refusals and failing steps
 * leave nothing half-stored. */
#include "storage/sto_asset.h"
#include "storage/sto_err.h"
#include "storage/sto_int.h"
#include "storage/sto_take.h"

#include <criterion/criterion.h>
#include <math.h>
#include <sndfile.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static char dir[64], store_dir[128], take_path[128];
static void setup(void) {
  strcpy(dir, "/tmp/backline-take-XXXXXX");
  cr_assert_not_null(mkdtemp(dir));
  snprintf(store_dir, sizeof store_dir, "%s/assets", dir);
  snprintf(take_path, sizeof take_path, "%s/take-1.wav", dir);
}
static void teardown(void) {
  sto__fault_after(0);
  char cmd[128];
  snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
  cr_assert_eq(system(cmd), 0);
}
TestSuite(sto_take, .init = setup, .fini = teardown);

/* The known signal: every sample differs from its neighbours and is exact in float32. */
static float sample(uint64_t frame, uint32_t c) {
  return (float) ((frame * 7 + c * 13) % 20011) / 20011.0f - 0.5f;
}

/* Writes frames [FROM, TO) of the signal in blocks of 333 frames. */
static void write_signal(sto_take *t, uint32_t ch, uint64_t from, uint64_t to) {
  float buf[333 * 2];
  char err[300];
  cr_assert_leq(ch, 2);
  for (uint64_t at = from; at < to;) {
    uint64_t n = to - at < 333 ? to - at : 333;
    for (uint64_t i = 0; i < n; i++)
      for (uint32_t c = 0; c < ch; c++)
        buf[i * ch + c] = sample(at + i, c);
    cr_assert_eq(sto_take_write(t, buf, (size_t) n, err, sizeof err), 0, "%s", err);
    at += n;
  }
}

/* Opens PATH with libsndfile and checks that it holds at least MIN_FRAMES
 * of the signal, every one sample-exact; returns the frames it holds. */
static uint64_t check_file(const char *path, uint32_t ch, uint32_t rate, uint64_t min_frames) {
  SF_INFO info = {0};
  SNDFILE *sf = sf_open(path, SFM_READ, &info);
  cr_assert_not_null(sf, "%s: %s", path, sf_strerror(NULL));
  cr_assert_eq(info.channels, (int) ch);
  cr_assert_eq(info.samplerate, (int) rate);
  cr_assert_geq((uint64_t) info.frames, min_frames, "%s: %lld frames, at least %llu flushed", path,
                (long long) info.frames, (unsigned long long) min_frames);
  float buf[1024 * 2];
  uint64_t at = 0;
  sf_count_t n;
  while ((n = sf_readf_float(sf, buf, 1024)) > 0) {
    for (sf_count_t i = 0; i < n; i++)
      for (uint32_t c = 0; c < ch; c++)
        cr_assert_eq(buf[i * ch + c], sample(at + (uint64_t) i, c), "frame %llu channel %u",
                     (unsigned long long) (at + (uint64_t) i), c);
    at += (uint64_t) n;
  }
  sf_close(sf);
  cr_assert_eq(at, (uint64_t) info.frames);
  return at;
}

static sto_asset_store *open_store(void) {
  sto_asset_store *st;
  char err[256];
  cr_assert_eq(sto_asset_store_open(store_dir, &st, err, sizeof err), 0, "%s", err);
  return st;
}

static sto_take *create(uint32_t ch, uint32_t rate, uint64_t flush_frames) {
  sto_take_config cfg = sto_take_config_default(ch, rate);
  cfg.flush_frames = flush_frames;
  sto_take *t;
  char err[300];
  cr_assert_eq(sto_take_create(take_path, &cfg, &t, err, sizeof err), 0, "%s", err);
  return t;
}

Test(sto_take, a_finished_take_is_an_asset_with_the_same_samples_and_peaks) {
  sto_asset_store *st = open_store();
  sto_take *t = create(2, 48000, 0);
  write_signal(t, 2, 0, 62400); /* 1.3 s */
  cr_assert_eq(sto_take_frames(t), 62400);
  cr_assert_eq(sto_take_flushed(t), 48618, "flushed at the first block past each 0.5 s");
  sto_asset_info info;
  char err[600];
  cr_assert_eq(sto_take_finish(t, st, "Vocal take 1", 48000, &info, err, sizeof err), 0, "%s", err);
  cr_assert_eq(access(take_path, F_OK), -1, "the take file is gone once the store has it");
  cr_assert_str_eq(info.name, "Vocal take 1");
  cr_assert_eq(info.channels, 2);
  cr_assert_eq(info.orig_rate, 48000);
  cr_assert_eq(info.orig_frames, 62400);
  cr_assert_eq(info.frames, 62400);
  cr_assert_str_eq(info.ext, "wav", "under 4 GiB the take is a plain WAV: %s", info.format);

  float *got = malloc(sizeof(float) * 62400 * 2);
  cr_assert_eq(sto_asset_read_frames(st, info.id, 48000, 0, got, 62400), 62400);
  for (uint64_t f = 0; f < 62400; f++)
    for (uint32_t c = 0; c < 2; c++)
      cr_assert_eq(got[f * 2 + c], sample(f, c), "frame %llu", (unsigned long long) f);
  sto_asset_peaks pk;
  cr_assert_eq(sto_asset_read_peaks(st, info.id, 48000, 0, &pk), 0);
  cr_assert_eq(pk.n_peaks, (62400 + 63) / 64);
  for (uint64_t k = 0; k < pk.n_peaks; k += 97) {
    float lo = 1, hi = -1;
    for (uint64_t f = k * 64; f < (k + 1) * 64 && f < 62400; f++)
      lo = fminf(lo, got[f * 2]), hi = fmaxf(hi, got[f * 2]);
    cr_assert_eq(pk.minmax[k * 4], lo);
    cr_assert_eq(pk.minmax[k * 4 + 1], hi);
  }
  sto_asset_peaks_free(&pk);
  free(got);
  sto_asset_close(st);
}

Test(sto_take, while_recording_the_file_holds_every_flushed_frame) {
  sto_take *t = create(2, 44100, 4410);
  uint64_t seen = check_file(take_path, 2, 44100, 0);
  cr_assert_eq(seen, 0, "a new take is an empty but valid file");
  for (uint64_t end = 10000; end <= 100000; end += 10000) {
    write_signal(t, 2, end - 10000, end);
    cr_assert_geq(sto_take_flushed(t), end - 4410);
    seen = check_file(take_path, 2, 44100, sto_take_flushed(t));
    cr_assert_eq(seen, sto_take_flushed(t), "the header states the last flush");
  }
  char err[300];
  cr_assert_eq(sto_take_flush(t, err, sizeof err), 0, "%s", err);
  cr_assert_eq(check_file(take_path, 2, 44100, 100000), 100000);
  sto_take_discard(t);
  cr_assert_eq(access(take_path, F_OK), -1);
}

Test(sto_take, samples_that_are_not_numbers_are_written_as_zero) {
  sto_asset_store *st = open_store();
  sto_take *t = create(1, 48000, 0);
  float x[4] = {0.25f, NAN, INFINITY, -0.5f};
  char err[600];
  cr_assert_eq(sto_take_write(t, x, 4, err, sizeof err), 0, "%s", err);
  cr_assert_eq(sto_take_repaired(t), 2);
  sto_asset_info info;
  cr_assert_eq(sto_take_finish(t, st, NULL, 48000, &info, err, sizeof err), 0, "%s", err);
  cr_assert_str_eq(info.name, "take-1.wav");
  float got[4];
  cr_assert_eq(sto_asset_read_frames(st, info.id, 48000, 0, got, 4), 4);
  cr_assert(got[0] == 0.25f && got[1] == 0 && got[2] == 0 && got[3] == -0.5f);
  sto_asset_close(st);
}

Test(sto_take, a_take_resampled_to_the_project_rate_keeps_its_length) {
  sto_asset_store *st = open_store();
  sto_take *t = create(1, 44100, 0);
  write_signal(t, 1, 0, 44100);
  sto_asset_info info;
  char err[600];
  cr_assert_eq(sto_take_finish(t, st, "t", 48000, &info, err, sizeof err), 0, "%s", err);
  cr_assert_eq(info.orig_frames, 44100);
  cr_assert_eq(info.frames, 48000);
  sto_asset_close(st);
}

Test(sto_take, bad_settings_an_existing_file_and_an_empty_take_are_refused) {
  sto_take_config cfg = sto_take_config_default(0, 48000);
  sto_take *t = (sto_take *) 1;
  char err[300];
  cr_assert_eq(sto_take_create(take_path, &cfg, &t, err, sizeof err), STO_ERR_INVALID);
  cr_assert_null(t);
  cr_assert(strstr(err, "channels"), "%s", err);
  cfg = sto_take_config_default(2, 0);
  cr_assert_eq(sto_take_create(take_path, &cfg, &t, err, sizeof err), STO_ERR_INVALID);
  cr_assert(strstr(err, "rate"), "%s", err);
  cr_assert_eq(access(take_path, F_OK), -1);

  FILE *f = fopen(take_path, "w");
  fputs("not mine", f);
  fclose(f);
  cfg = sto_take_config_default(2, 48000);
  cr_assert_eq(sto_take_create(take_path, &cfg, &t, err, sizeof err), STO_ERR_EXISTS);
  cr_assert(strstr(err, take_path), "%s", err);
  char *kept = NULL;
  size_t len = 0;
  f = fopen(take_path, "r");
  cr_assert_eq(getline(&kept, &len, f), 8, "someone else's file is untouched");
  fclose(f);
  free(kept);
  unlink(take_path);

  sto_asset_store *st = open_store();
  t = create(2, 48000, 0);
  sto_asset_info info;
  cr_assert_eq(sto_take_finish(t, st, "x", 48000, &info, err, sizeof err), STO_ERR_NOT_AUDIO);
  cr_assert(strstr(err, "no audio"), "%s", err);
  cr_assert_eq(access(take_path, F_OK), -1);
  sto_asset_close(st);
}

/* A child records and stops without closing anything, as a crash would. */
Test(sto_take, a_take_left_by_a_crash_is_recovered_up_to_its_last_flush) {
  pid_t pid = fork();
  if (pid == 0) {
    sto_take_config cfg = sto_take_config_default(2, 48000);
    cfg.flush_frames = 10000;
    sto_take *t;
    if (sto_take_create(take_path, &cfg, &t, NULL, 0)) _exit(1);
    float buf[2 * 500];
    for (uint64_t at = 0; at < 35000; at += 500) {
      for (uint64_t i = 0; i < 500; i++)
        buf[2 * i] = sample(at + i, 0), buf[2 * i + 1] = sample(at + i, 1);
      if (sto_take_write(t, buf, 500, NULL, 0)) _exit(2);
    }
    _exit(sto_take_flushed(t) == 30000 ? 0 : 3);
  }
  int status;
  cr_assert_eq(waitpid(pid, &status, 0), pid);
  cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0, "child: %d", status);
  cr_assert_eq(check_file(take_path, 2, 48000, 30000), 30000);

  sto_asset_store *st = open_store();
  sto_asset_info info;
  char err[600];
  cr_assert_eq(sto_take_recover(take_path, st, "Recovered", 48000, &info, err, sizeof err), 0, "%s",
               err);
  cr_assert_eq(info.orig_frames, 30000);
  cr_assert_eq(access(take_path, F_OK), -1);
  float got[2 * 100];
  cr_assert_eq(sto_asset_read_frames(st, info.id, 48000, 29900, got, 100), 100);
  for (int i = 0; i < 100; i++)
    cr_assert_eq(got[2 * i + 1], sample(29900 + (uint64_t) i, 1));
  sto_asset_close(st);
}

Test(sto_take, recovering_a_file_that_is_not_a_take_changes_nothing) {
  FILE *f = fopen(take_path, "w");
  fputs("RIFF but not really", f);
  fclose(f);
  sto_asset_store *st = open_store();
  sto_asset_info info;
  char err[600];
  cr_assert_eq(sto_take_recover(take_path, st, NULL, 48000, &info, err, sizeof err),
               STO_ERR_NOT_AUDIO);
  cr_assert(strstr(err, take_path), "%s", err);
  cr_assert_eq(access(take_path, F_OK), 0);
  sto_asset_close(st);
}

/* Each failing step of create leaves no file; each failing step of finish
 * keeps the take complete and readable where it was. */
Test(sto_take, failing_steps_leave_nothing_half_stored) {
  char err[600];
  sto_take_config cfg = sto_take_config_default(2, 48000);
  int n = 1;
  for (;; n++) {
    sto_take *t;
    sto__fault_after(n);
    int rc = sto_take_create(take_path, &cfg, &t, err, sizeof err);
    sto__fault_after(0);
    if (rc == 0) {
      sto_take_discard(t);
      break;
    }
    cr_assert_eq(access(take_path, F_OK), -1, "fault %d left %s", n, take_path);
    cr_assert(err[0]);
  }
  cr_assert_gt(n, 3, "create has several fallible steps");

  sto_asset_store *st = open_store();
  for (n = 1;; n++) {
    sto_take *t = create(2, 48000, 0);
    write_signal(t, 2, 0, 5000);
    sto_asset_info info;
    sto__fault_after(n);
    int rc = sto_take_finish(t, st, "f", 48000, &info, err, sizeof err);
    sto__fault_after(0);
    if (rc == 0) {
      cr_assert_eq(access(take_path, F_OK), -1);
      break;
    }
    cr_assert(strstr(err, take_path), "fault %d: %s", n, err);
    cr_assert_eq(check_file(take_path, 2, 48000, 5000), 5000, "fault %d", n);
    unlink(take_path);
  }
  cr_assert_gt(n, 5, "finish has several fallible steps");
  sto_asset_close(st);
}
