/* Tests of srv_listen ("listen here"): a real engine on the null backend
 * plays a one-track plan; the encoder sends AUDIO messages to a sink that
 * keeps them; the test decodes them with libopus and checks sequence
 * numbers, frame clocks, the pitch of the tone and that nothing is encoded
 * (and the engine's tap is off) while nobody listens. */
#include <criterion/criterion.h>

#include <math.h>
#include <opus.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "engine/eng_backend.h"
#include "engine/eng_engine.h"
#include "engine/eng_plan.h"
#include "protocol/proto_msg.h"
#include "server/srv_listen.h"

#define MAX_KEPT 4096

typedef struct kept {
  uint64_t conn;
  proto_audio a;
  uint8_t data[PROTO_MAX_AUDIO];
} kept;

static struct {
  pthread_mutex_t lock;
  kept *msgs;
  size_t n;
  size_t bad; /* messages that were not a droppable, realtime, decodable AUDIO */
} sink_state = {.lock = PTHREAD_MUTEX_INITIALIZER};

static void sink_send(void *ud, srv_out *o) {
  (void) ud;
  proto_msg m;
  static proto_scratch *s;
  pthread_mutex_lock(&sink_state.lock);
  if (!s) s = calloc(1, sizeof *s);
  if (o->kind != SRV_OUT_WS || !o->droppable || !o->realtime ||
      proto_decode(o->buf + SRV_OUT_PRE, o->len, s, &m, NULL) || m.type != PROTO_AUDIO) {
    sink_state.bad++;
  } else if (sink_state.n < MAX_KEPT) {
    kept *k = &sink_state.msgs[sink_state.n++];
    k->conn = o->conn;
    k->a = m.u.audio;
    memcpy(k->data, m.u.audio.data, m.u.audio.len);
  }
  pthread_mutex_unlock(&sink_state.lock);
  free(o);
}

static size_t n_kept(void) {
  pthread_mutex_lock(&sink_state.lock);
  size_t n = sink_state.n;
  pthread_mutex_unlock(&sink_state.lock);
  return n;
}

/* Autocorrelation pitch of x[0..n) in Hz (first peak within 90% of the
 * highest, between 50 and 1000 Hz, parabolic refinement). */
static double pitch_hz(const float *x, size_t n, double rate) {
  size_t lo = (size_t) (rate / 1000), hi = (size_t) (rate / 50);
  double *r = calloc(hi + 2, sizeof *r), best = 0;
  for (size_t lag = lo - 1; lag <= hi + 1; lag++) {
    double acc = 0;
    for (size_t i = 0; i + lag < n; i++)
      acc += (double) x[i] * x[i + lag];
    r[lag - (lo - 1)] = acc / (double) (n - lag);
    if (lag >= lo && lag <= hi && r[lag - (lo - 1)] > best) best = r[lag - (lo - 1)];
  }
  double hz = 0;
  for (size_t lag = lo; lag <= hi; lag++) {
    double a = r[lag - lo], b = r[lag - (lo - 1)], c = r[lag + 1 - (lo - 1)];
    if (b >= 0.9 * best && b >= a && b >= c) {
      double d = a - 2 * b + c, off = d != 0 ? 0.5 * (a - c) / d : 0;
      hz = rate / ((double) lag + off);
      break;
    }
  }
  free(r);
  return hz;
}

static eng_engine *engine;
static eng_backend *backend;
static srv_listen *listen_;

static void setup(void) {
  sink_state.msgs = calloc(MAX_KEPT, sizeof(kept));
  sink_state.n = sink_state.bad = 0;
  eng_config cfg = eng_config_default();
  cr_assert_eq(eng_engine_create(&cfg, &engine), 0);
  eng_track_desc t = {.track_id = 1, .gain = 1.0f};
  eng_plan_desc d = {.sample_rate = 48000,
                     .tempo_bpm = 120,
                     .beats_per_bar = 4,
                     .master_gain = 1.0f,
                     .n_tracks = 1,
                     .tracks = &t};
  eng_plan *p;
  cr_assert_eq(eng_plan_create(&d, &p), 0);
  cr_assert_eq(eng_engine_set_plan(engine, p), 0);
  cr_assert_eq(eng_engine_set_playing(engine, true), 0);
  char msg[256];
  cr_assert_eq(eng_backend_open(engine, ENG_BACKEND_NULL, &backend, msg, sizeof msg), 0, "%s", msg);
  char err[256];
  srv_listen_config lc = srv_listen_config_default(engine);
  cr_assert_eq(srv_listen_create(&lc, (srv_sink){sink_send, NULL}, &listen_, err, sizeof err), 0,
               "%s", err);
}

static void teardown(void) {
  srv_listen_destroy(listen_);
  eng_backend_close(backend);
  eng_engine_destroy(engine);
  free(sink_state.msgs);
}

TestSuite(srv_listen, .init = setup, .fini = teardown);

Test(srv_listen, refuses_a_bad_config) {
  char err[256];
  srv_listen *l = (srv_listen *) 1;
  srv_listen_config c = srv_listen_config_default(NULL);
  cr_expect_neq(srv_listen_create(&c, (srv_sink){sink_send, NULL}, &l, err, sizeof err), 0);
  cr_expect_null(l);
  c = srv_listen_config_default(engine);
  c.complexity = 11;
  cr_expect_neq(srv_listen_create(&c, (srv_sink){sink_send, NULL}, &l, err, sizeof err), 0);
  srv_listen_destroy(NULL);
}

Test(srv_listen, idle_without_listeners_then_streams_the_tone_to_each_listener) {
  /* Nobody listens: no packet, and the engine's tap stays off. */
  usleep(200 * 1000);
  eng_stats es;
  eng_engine_stats(engine, &es);
  srv_listen_stats ls;
  srv_listen_stats_get(listen_, &ls);
  cr_expect_eq(n_kept(), 0);
  cr_expect_eq(ls.packets, 0);
  cr_expect(!ls.active);
  cr_expect_eq(es.monitor_frames, 0, "the tap is off while nobody listens");

  uint64_t conns[2] = {7, 9};
  srv_listen_set(listen_, conns, 2);
  usleep(700 * 1000);
  srv_listen_set(listen_, NULL, 0);
  usleep(50 * 1000);
  size_t n = n_kept();
  srv_listen_stats_get(listen_, &ls);
  cr_expect(!ls.active);
  usleep(100 * 1000);
  cr_expect_eq(n_kept(), n, "nothing after the last listener left");
  cr_expect_eq(sink_state.bad, 0);
  cr_expect_eq(ls.errors, 0);
  /* 700 ms at 400 packets/s, to two listeners. */
  cr_expect_gt(ls.packets, 200, "%llu packets", (unsigned long long) ls.packets);
  cr_expect_eq(ls.messages, 2 * ls.packets);

  /* Listener 7's stream: consecutive seqs and frame clocks, and the tone. */
  OpusDecoder *dec = opus_decoder_create(48000, 2, &(int){0});
  cr_assert_not_null(dec);
  float *pcm = calloc(2 * 120 * MAX_KEPT, sizeof(float)), *left = NULL;
  size_t frames = 0, k = 0;
  uint32_t seq0 = 0;
  uint64_t pos0 = 0, last_sent = 0;
  for (size_t i = 0; i < n; i++) {
    kept *m = &sink_state.msgs[i];
    if (m->conn != 7) continue;
    if (k == 0) seq0 = m->a.seq, pos0 = m->a.position;
    cr_assert_eq(m->a.seq, seq0 + k, "packet %zu: seq", k);
    cr_assert_eq(m->a.position, pos0 + 120 * k, "packet %zu: frame clock", k);
    cr_assert_geq(m->a.sent_us, last_sent);
    last_sent = m->a.sent_us;
    int got = opus_decode_float(dec, m->data, m->a.len, pcm + 2 * frames, 120, 0);
    cr_assert_eq(got, 120, "decode: %s", got < 0 ? opus_strerror(got) : "short");
    frames += 120, k++;
  }
  cr_expect_eq(k, ls.packets);
  /* The loudest 0.1 s after the decoder's 120-sample pre-skip. */
  left = calloc(frames, sizeof(float));
  for (size_t i = 0; i < frames; i++)
    left[i] = pcm[2 * i];
  size_t win = 4800, best_at = 120;
  double best = 0;
  for (size_t at = 120; at + win <= frames; at += 480) {
    double e = 0;
    for (size_t i = 0; i < win; i++)
      e += (double) left[at + i] * left[at + i];
    if (e > best) best = e, best_at = at;
  }
  cr_assert_gt(best, 0.0, "the listener heard something");
  double hz = pitch_hz(left + best_at, win, 48000), want = eng_plan_track_frequency(0);
  fprintf(stderr, "[note] listen: %zu packets, pitch %.2f Hz (tone %.2f Hz)\n", k, hz, want);
  cr_expect(fabs(hz - want) < 0.01 * want, "pitch %.2f Hz, tone %.2f Hz", hz, want);
  free(left);
  free(pcm);
  opus_decoder_destroy(dec);
}
