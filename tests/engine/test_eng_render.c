/* test_eng_render.c: offline render to WAV. */
#include <criterion/criterion.h>
#include <sndfile.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "eng_test_util.h"
#include "engine/eng_render.h"

static eng_plan_desc song(eng_track_desc *t) {
  for (uint32_t i = 0; i < 5; i++)
    t[i] = track(i + 1, 0.8f, -0.8f + 0.4f * (float) i);
  eng_plan_desc d = desc_with(t, 5, true);
  d.tempo_bpm = 132.0;
  d.beats_per_bar = 3;
  d.master_gain = 0.7f;
  return d;
}

static char *slurp(const char *path, long *len) {
  FILE *f = fopen(path, "rb");
  cr_assert_not_null(f, "%s", path);
  fseek(f, 0, SEEK_END);
  *len = ftell(f);
  fseek(f, 0, SEEK_SET);
  char *buf = malloc((size_t) *len);
  cr_assert_eq(fread(buf, 1, (size_t) *len, f), (size_t) *len);
  fclose(f);
  return buf;
}

Test(eng_render, writes_a_wav_libsndfile_reads_back_and_renders_byte_identically) {
  eng_track_desc t[5];
  eng_plan_desc d = song(t);
  char a[64], b[64], msg[256];
  snprintf(a, sizeof a, "/tmp/eng_render_a_%d.wav", (int) getpid());
  snprintf(b, sizeof b, "/tmp/eng_render_b_%d.wav", (int) getpid());
  cr_assert_eq(eng_render_wav(&d, a, 2.5, msg, sizeof msg), ENG_OK, "%s", msg);
  cr_expect_str_eq(msg, "");
  cr_assert_eq(eng_render_wav(&d, b, 2.5, msg, sizeof msg), ENG_OK, "%s", msg);

  SF_INFO info = {0};
  SNDFILE *sf = sf_open(a, SFM_READ, &info);
  cr_assert_not_null(sf, "%s", sf_strerror(NULL));
  cr_expect_eq(info.frames, 120000);
  cr_expect_eq(info.samplerate, 48000);
  cr_expect_eq(info.channels, 2);
  cr_expect_eq(info.format, SF_FORMAT_WAV | SF_FORMAT_PCM_24);
  float *buf = calloc(120000 * 2, sizeof(float));
  cr_assert_eq(sf_readf_float(sf, buf, 120000), 120000);
  sf_close(sf);
  cr_expect_gt(peak(buf, 0, 0, 120000), 0.1f);
  cr_expect_gt(peak(buf, 1, 0, 120000), 0.1f);
  free(buf);

  long la, lb;
  char *da = slurp(a, &la), *db = slurp(b, &lb);
  cr_expect_eq(la, lb);
  cr_expect(la == lb && memcmp(da, db, (size_t) la) == 0, "two renders differ");
  free(da), free(db);
  unlink(a), unlink(b);
  expect_no_leaks();
}

Test(eng_render, refuses_bad_arguments_with_a_message) {
  eng_track_desc t[5];
  eng_plan_desc d = song(t);
  char msg[256];
  cr_expect_eq(eng_render_wav(&d, "/tmp/x.wav", 0.0, msg, sizeof msg), ENG_ERR_INVALID);
  cr_expect_neq(msg[0], '\0');
  cr_expect_eq(eng_render_wav(&d, "/nonexistent-dir/x.wav", 1.0, msg, sizeof msg), ENG_ERR_IO);
  cr_expect(strstr(msg, "/nonexistent-dir/x.wav") != NULL, "%s", msg);
  d.tempo_bpm = 5.0;
  cr_expect_eq(eng_render_wav(&d, "/tmp/x.wav", 1.0, msg, sizeof msg), ENG_ERR_INVALID);
  cr_expect(strstr(msg, "plan") != NULL, "%s", msg);
}
