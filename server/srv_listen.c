/* srv_listen: the encoder thread of "listen here" (see srv_listen.h).
 *
 * Loop: while the listener set is empty, wait on `wake` with the engine's tap
 * off. Otherwise read the tap into a 120-frame buffer, encode every full
 * frame, send one AUDIO message per listener, and poll again after
 * SRV_LISTEN_POLL_US. The tap holds ~340 ms, so a late wake-up only delays
 * packets; if the thread stalls longer, the engine drops and counts. */
#include "server/srv_listen.h"
#include "protocol/proto_msg.h"
#include "server/srv_err.h"

#include <errno.h>
#include <opus.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MAX_PACKET 1275 /* = PROTO_MAX_AUDIO */
#define MSG_BYTES  (23 + MAX_PACKET)

_Static_assert(MAX_PACKET == PROTO_MAX_AUDIO, "one Opus packet per AUDIO message");

struct srv_listen {
  eng_engine *engine;
  srv_sink sink;
  OpusEncoder *enc; /* encoder thread only (after create) */
  pthread_t thread;
  bool started;

  pthread_mutex_t lock; /* guards the fields up to `stop` */
  pthread_cond_t wake;
  uint64_t conns[SRV_LISTEN_MAX_LISTENERS];
  size_t n_conns;
  uint64_t generation; /* bumped by every srv_listen_set */
  bool stop;

  /* Encoder thread only. */
  uint64_t mine[SRV_LISTEN_MAX_LISTENERS]; /* its copy of the set */
  size_t n_mine;
  uint64_t mine_gen;
  float pcm[2 * SRV_LISTEN_FRAME]; /* the frame being filled */
  size_t acc;                      /* frames in pcm */
  uint64_t first_clock;            /* engine frame clock of pcm's first frame */
  uint32_t seq;                    /* next packet number */
  unsigned char packet[MAX_PACKET];
  unsigned char msg[MSG_BYTES];

  atomic_uint_fast64_t n_packets, n_messages, n_bytes, n_errors;
  atomic_uint n_listeners;
  atomic_bool active;
};

srv_listen_config srv_listen_config_default(eng_engine *engine) {
  return (srv_listen_config){engine, SRV_LISTEN_BITRATE, SRV_LISTEN_COMPLEXITY};
}

static uint64_t realtime_us(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (uint64_t) ts.tv_sec * 1000000u + (uint64_t) ts.tv_nsec / 1000u;
}

/* Encodes the full frame in l->pcm and sends it to every listener. */
static void send_frame(srv_listen *l) {
  int len = opus_encode_float(l->enc, l->pcm, SRV_LISTEN_FRAME, l->packet, MAX_PACKET);
  uint32_t seq = l->seq++; /* a refused frame leaves a gap, as a lost one would */
  if (len < 1) {
    atomic_fetch_add(&l->n_errors, 1);
    return;
  }
  atomic_fetch_add(&l->n_packets, 1);
  atomic_fetch_add(&l->n_bytes, (uint64_t) len);
  proto_msg m = {.type = PROTO_AUDIO};
  m.u.audio = (proto_audio){seq, l->first_clock, realtime_us(), l->packet, (uint16_t) len};
  int n = proto_encode(&m, l->msg, sizeof l->msg);
  if (n < 0) {
    atomic_fetch_add(&l->n_errors, 1);
    return;
  }
  for (size_t i = 0; i < l->n_mine; i++) {
    srv_out *o = srv_out_new(SRV_OUT_WS, l->mine[i], l->msg, (size_t) n);
    if (!o) continue; /* out of memory: this listener misses a packet */
    o->droppable = true;
    o->realtime = true;
    l->sink.send(l->sink.ud, o);
    atomic_fetch_add(&l->n_messages, 1);
  }
}

/* Reads everything the tap holds and sends each full frame. */
static void pump(srv_listen *l) {
  for (;;) {
    uint64_t clock = 0;
    size_t got =
        eng_engine_monitor_read(l->engine, l->pcm + 2 * l->acc, SRV_LISTEN_FRAME - l->acc, &clock);
    if (!got) return;
    /* After a gap (the tap dropped frames) the frame simply continues: the
     * listener hears a click either way, and position stays honest for the
     * frame's first sample. */
    if (l->acc == 0) l->first_clock = clock;
    l->acc += got;
    if (l->acc == SRV_LISTEN_FRAME) {
      send_frame(l);
      l->acc = 0;
    }
  }
}

/* Empties the tap without encoding (stale audio from before a pause). */
static void discard_tap(srv_listen *l) {
  while (eng_engine_monitor_read(l->engine, l->pcm, SRV_LISTEN_FRAME, NULL) > 0) {
  }
  l->acc = 0;
}

static void *encoder_main(void *arg) {
  srv_listen *l = arg;
  bool active = false;
  pthread_mutex_lock(&l->lock);
  while (!l->stop) {
    if (l->n_conns == 0) {
      if (active) {
        eng_engine_monitor_enable(l->engine, false);
        active = false;
        atomic_store(&l->active, false);
      }
      pthread_cond_wait(&l->wake, &l->lock);
      continue;
    }
    if (l->mine_gen != l->generation) {
      memcpy(l->mine, l->conns, l->n_conns * sizeof l->conns[0]);
      l->n_mine = l->n_conns;
      l->mine_gen = l->generation;
    }
    pthread_mutex_unlock(&l->lock);
    if (!active) {
      discard_tap(l);
      opus_encoder_ctl(l->enc, OPUS_RESET_STATE);
      eng_engine_monitor_enable(l->engine, true);
      active = true;
      atomic_store(&l->active, true);
    }
    pump(l);
    struct timespec ts = {0, SRV_LISTEN_POLL_US * 1000L};
    while (clock_nanosleep(CLOCK_MONOTONIC, 0, &ts, &ts) == EINTR) {
    }
    pthread_mutex_lock(&l->lock);
  }
  pthread_mutex_unlock(&l->lock);
  if (active) eng_engine_monitor_enable(l->engine, false);
  atomic_store(&l->active, false);
  return NULL;
}

int srv_listen_create(const srv_listen_config *cfg, srv_sink sink, srv_listen **out, char *err,
                      size_t err_len) {
  *out = NULL;
  if (!cfg || !cfg->engine || eng_engine_config(cfg->engine).sample_rate != SRV_LISTEN_RATE ||
      cfg->bitrate < 6000 || cfg->bitrate > 510000 || cfg->complexity < 0 || cfg->complexity > 10) {
    snprintf(err, err_len, "listen here needs a 48 kHz engine, 6-510 kbit/s, complexity 0-10");
    return SRV_ERR_BAD_REQUEST;
  }
  srv_listen *l = calloc(1, sizeof *l);
  if (!l) return snprintf(err, err_len, "out of memory"), SRV_ERR_NOMEM;
  l->engine = cfg->engine;
  l->sink = sink;
  pthread_mutex_init(&l->lock, NULL);
  pthread_cond_init(&l->wake, NULL);
  int oe = OPUS_OK;
  l->enc = opus_encoder_create(SRV_LISTEN_RATE, 2, OPUS_APPLICATION_RESTRICTED_LOWDELAY, &oe);
  if (!l->enc || oe != OPUS_OK ||
      opus_encoder_ctl(l->enc, OPUS_SET_BITRATE((opus_int32) cfg->bitrate)) != OPUS_OK ||
      opus_encoder_ctl(l->enc, OPUS_SET_COMPLEXITY(cfg->complexity)) != OPUS_OK) {
    snprintf(err, err_len, "libopus: %s", opus_strerror(oe != OPUS_OK ? oe : OPUS_BAD_ARG));
    srv_listen_destroy(l);
    return SRV_ERR_START;
  }
  if (pthread_create(&l->thread, NULL, encoder_main, l) != 0) {
    snprintf(err, err_len, "cannot start the listen-here encoder thread");
    srv_listen_destroy(l);
    return SRV_ERR_START;
  }
  l->started = true;
  *out = l;
  return 0;
}

void srv_listen_set(srv_listen *l, const uint64_t *conns, size_t n) {
  if (n > SRV_LISTEN_MAX_LISTENERS) n = SRV_LISTEN_MAX_LISTENERS;
  pthread_mutex_lock(&l->lock);
  if (n) memcpy(l->conns, conns, n * sizeof conns[0]);
  l->n_conns = n;
  l->generation++;
  pthread_cond_signal(&l->wake);
  pthread_mutex_unlock(&l->lock);
  atomic_store(&l->n_listeners, (unsigned) n);
}

void srv_listen_stats_get(srv_listen *l, srv_listen_stats *out) {
  out->packets = atomic_load(&l->n_packets);
  out->messages = atomic_load(&l->n_messages);
  out->bytes = atomic_load(&l->n_bytes);
  out->errors = atomic_load(&l->n_errors);
  out->listeners = atomic_load(&l->n_listeners);
  out->active = atomic_load(&l->active);
}

void srv_listen_destroy(srv_listen *l) {
  if (!l) return;
  if (l->started) {
    pthread_mutex_lock(&l->lock);
    l->stop = true;
    pthread_cond_signal(&l->wake);
    pthread_mutex_unlock(&l->lock);
    pthread_join(l->thread, NULL);
  }
  if (l->enc) opus_encoder_destroy(l->enc);
  pthread_mutex_destroy(&l->lock);
  pthread_cond_destroy(&l->wake);
  free(l);
}
