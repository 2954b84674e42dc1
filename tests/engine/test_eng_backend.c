/* test_eng_backend.c: the null backend paces the engine at real time; the
 * PortAudio backend fails cleanly on this machine (no sound card) and AUTO
 * falls back to null. */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "eng_test_util.h"
#include "engine/eng_backend.h"

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double) ts.tv_sec + ts.tv_nsec * 1e-9;
}

Test(eng_backend_null, runs_the_engine_at_real_time_and_closes_cleanly) {
  eng_track_desc t = track(1, 1.0f, 0.0f);
  eng_plan_desc d = desc_with(&t, 1, true);
  eng_engine *e = engine_with(&d, true);
  eng_backend *b = NULL;
  char msg[256];
  double t0 = now_s();
  cr_assert_eq(eng_backend_open(e, ENG_BACKEND_NULL, &b, msg, sizeof msg), ENG_OK, "%s", msg);
  cr_expect_str_eq(eng_backend_name(b), "null");
  cr_expect_str_eq(msg, "");
  usleep(200 * 1000);
  uint64_t pos = eng_engine_position(e);
  double elapsed = now_s() - t0;
  eng_backend_close(b);
  uint64_t after_close = eng_engine_position(e);
  usleep(20 * 1000);
  cr_expect_eq(eng_engine_position(e), after_close, "no processing after close");
  /* Loose bounds: the VM is noisy. Pacing means no more than real time
   * (plus one block rendered ahead), and not far less. */
  double expect = elapsed * SR;
  cr_expect_leq((double) pos, expect + 2 * 128, "pos %llu, %.0f frames of wall time",
                (unsigned long long) pos, expect);
  cr_expect_geq((double) pos, 0.6 * expect, "pos %llu, %.0f frames of wall time",
                (unsigned long long) pos, expect);
  eng_meter_frame f;
  cr_expect_eq(eng_engine_read_meters(e, &f), 1, "meters flow from the null device");
  eng_engine_destroy(e);
  expect_no_leaks();
}

Test(eng_backend_null, close_null_is_a_no_op) {
  eng_backend_close(NULL);
}

Test(eng_backend_pa, fails_cleanly_with_a_message_when_there_is_no_sound_card) {
  eng_engine *e = NULL;
  eng_config cfg = eng_config_default();
  cr_assert_eq(eng_engine_create(&cfg, &e), ENG_OK);
  eng_backend *b = (eng_backend *) 1;
  char msg[256];
  int rc = eng_backend_open(e, ENG_BACKEND_PORTAUDIO, &b, msg, sizeof msg);
  if (rc == ENG_OK) {
    eng_backend_close(b);
    eng_engine_destroy(e);
    cr_skip_test("this machine has a sound card");
  }
  cr_expect_eq(rc, ENG_ERR_NODEVICE, "rc %d (%s): %s", rc, eng_strerror(rc), msg);
  cr_expect_null(b);
  cr_expect_str_eq(msg, "no sound card (PortAudio: Device unavailable)");
  eng_engine_destroy(e);
}

Test(eng_backend_pa, probing_prints_nothing_to_stderr) {
  eng_engine *e = NULL;
  eng_config cfg = eng_config_default();
  cr_assert_eq(eng_engine_create(&cfg, &e), ENG_OK);
  char path[] = "/tmp/eng_pa_stderr_XXXXXX";
  int fd = mkstemp(path);
  cr_assert_geq(fd, 0);
  fflush(stderr);
  int saved = dup(2);
  dup2(fd, 2);
  eng_backend *b = NULL;
  int rc = eng_backend_open(e, ENG_BACKEND_PORTAUDIO, &b, NULL, 0);
  fflush(stderr);
  dup2(saved, 2);
  close(saved);
  struct stat st;
  fstat(fd, &st);
  close(fd);
  unlink(path);
  eng_backend_close(b);
  eng_engine_destroy(e);
  if (rc == ENG_OK) cr_skip_test("this machine has a sound card");
  cr_expect_eq(st.st_size, 0, "ALSA/JACK printed %lld bytes", (long long) st.st_size);
}

Test(eng_backend, auto_falls_back_to_null_and_says_why) {
  eng_engine *e = NULL;
  eng_config cfg = eng_config_default();
  cr_assert_eq(eng_engine_create(&cfg, &e), ENG_OK);
  eng_backend *b = NULL;
  char msg[256];
  cr_assert_eq(eng_backend_open(e, ENG_BACKEND_AUTO, &b, msg, sizeof msg), ENG_OK);
  if (strncmp(eng_backend_name(b), "portaudio:", 10) == 0) {
    eng_backend_close(b);
    eng_engine_destroy(e);
    cr_skip_test("this machine has a sound card");
  }
  cr_expect_str_eq(eng_backend_name(b), "null");
  cr_expect_str_eq(msg,
                   "no sound card (PortAudio: Device unavailable); playing on the null device");
  eng_backend_close(b);
  eng_engine_destroy(e);
}

Test(eng_backend, open_refuses_bad_arguments) {
  eng_backend *b = (eng_backend *) 1;
  char msg[64];
  cr_expect_eq(eng_backend_open(NULL, ENG_BACKEND_NULL, &b, msg, sizeof msg), ENG_ERR_INVALID);
  cr_expect_null(b);
  eng_engine *e = NULL;
  eng_config cfg = eng_config_default();
  cr_assert_eq(eng_engine_create(&cfg, &e), ENG_OK);
  cr_expect_eq(eng_backend_open(e, (eng_backend_kind) 42, &b, msg, sizeof msg), ENG_ERR_INVALID);
  cr_expect_null(b);
  eng_engine_destroy(e);
}
