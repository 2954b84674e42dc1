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

/* ---- device listing and choice (PortAudio; no sound card here) ---- */

Test(eng_backend_pa, lists_the_devices_portaudio_sees_the_same_way_twice) {
  eng_device_info devs[64];
  int n = -1, again = -1;
  char msg[256];
  cr_assert_eq(eng_backend_list_devices(devs, 64, &n, msg, sizeof msg), ENG_OK, "%s", msg);
  cr_assert_eq(eng_backend_list_devices(NULL, 0, &again, msg, sizeof msg), ENG_OK, "%s", msg);
  cr_expect_eq(n, again, "count only: %d, listed: %d", again, n);
  cr_expect_geq(n, 0);
  int defaults = 0;
  for (int i = 0; i < n && i < 64; i++) {
    cr_expect_eq(devs[i].index, i);
    cr_expect_neq(devs[i].name[0], '\0', "device %d has a name", i);
    cr_expect_geq(devs[i].out_channels, 0);
    cr_expect_geq(devs[i].in_channels, 0);
    defaults += devs[i].is_default;
  }
  cr_expect_leq(defaults, 1, "at most one default output");
}

Test(eng_backend_pa, list_refuses_bad_arguments) {
  int n = 7;
  cr_expect_eq(eng_backend_list_devices(NULL, 4, &n, NULL, 0), ENG_ERR_INVALID);
  cr_expect_eq(n, 0);
  cr_expect_eq(eng_backend_list_devices(NULL, 0, NULL, NULL, 0), ENG_ERR_INVALID);
}

/* Opens `kind` on `device`; returns rc, message in msg, backend name in name. */
static int open_on(eng_backend_kind kind, const char *device, char *msg, size_t len, char *name) {
  eng_engine *e = NULL;
  eng_config cfg = eng_config_default();
  cr_assert_eq(eng_engine_create(&cfg, &e), ENG_OK);
  eng_backend_config bc = eng_backend_config_default();
  bc.kind = kind;
  bc.device = device;
  eng_backend *b = NULL;
  int rc = eng_backend_open_with(e, &bc, &b, msg, len);
  name[0] = '\0';
  if (b) snprintf(name, 64, "%s", eng_backend_name(b));
  cr_expect(rc == ENG_OK || b == NULL, "no backend on failure");
  eng_backend_close(b);
  eng_engine_destroy(e);
  return rc;
}

static int device_count(void) {
  int n = 0;
  cr_assert_eq(eng_backend_list_devices(NULL, 0, &n, NULL, 0), ENG_OK);
  return n;
}

Test(eng_backend_pa, an_unknown_device_index_or_name_is_refused_with_a_sentence) {
  char msg[256], name[64], want[256];
  int n = device_count();
  cr_expect_eq(open_on(ENG_BACKEND_PORTAUDIO, "12345", msg, sizeof msg, name), ENG_ERR_NODEVICE);
  snprintf(want, sizeof want, "no output device 12345 (%d devices, see backline --list-devices)",
           n);
  cr_expect_str_eq(msg, want);
  cr_expect_eq(open_on(ENG_BACKEND_PORTAUDIO, "No Such Card", msg, sizeof msg, name),
               ENG_ERR_NODEVICE);
  snprintf(want, sizeof want,
           "no output device matches \"No Such Card\" (%d devices, see backline --list-devices)",
           n);
  cr_expect_str_eq(msg, want);
}

Test(eng_backend, auto_with_a_missing_device_fails_over_to_null_with_one_message) {
  char msg[256], name[64], want[256];
  int n = device_count();
  cr_assert_eq(open_on(ENG_BACKEND_AUTO, "No Such Card", msg, sizeof msg, name), ENG_OK);
  cr_expect_str_eq(name, "null");
  snprintf(want, sizeof want,
           "no output device matches \"No Such Card\" (%d devices, see backline --list-devices); "
           "playing on the null device",
           n);
  cr_expect_str_eq(msg, want);
}

Test(eng_backend, the_null_device_ignores_a_device_name) {
  char msg[256], name[64];
  cr_expect_eq(open_on(ENG_BACKEND_NULL, "anything", msg, sizeof msg, name), ENG_OK);
  cr_expect_str_eq(name, "null");
  cr_expect_str_eq(msg, "");
}

Test(eng_backend, xruns_a_backend_counts_show_in_the_stats) {
  eng_engine *e = NULL;
  eng_config cfg = eng_config_default();
  cr_assert_eq(eng_engine_create(&cfg, &e), ENG_OK);
  eng_engine_count_xrun(e);
  eng_engine_count_xrun(e);
  eng_stats s;
  eng_engine_stats(e, &s);
  cr_expect_eq(s.xruns, 2);
  eng_engine_destroy(e);
}
