/* srv_listen: "listen here", the master as Opus over the studio's WebSockets.
 *
 * One encoder thread drains the engine's monitor tap (eng_engine_monitor_read),
 * cuts it into 120-sample stereo frames (2.5 ms at 48 kHz), encodes each with
 * libopus (OPUS_APPLICATION_RESTRICTED_LOWDELAY; never custom modes, see
 * shared/FACTS.md) and sends it as one AUDIO message (protocol/PROTOCOL.md,
 * type 12) to every connection in the listener set, through the same sink as
 * the control thread's answers. The messages are droppable and `realtime`:
 * srv_http drops them first for a slow client.
 *
 * The control thread owns who listens (LISTEN messages, the playing project)
 * and hands the set over with srv_listen_set. With an empty set the thread
 * sleeps on a condition variable and the engine's tap is off: no encoder work
 * and no RT copy when nobody listens.
 *
 * Threads: create/destroy from the main thread; srv_listen_set and
 * srv_listen_stats from any thread (a mutex guards the set; the RT thread
 * never sees it). The encoder thread is the engine's one monitor reader. */
#ifndef SRV_LISTEN_H
#define SRV_LISTEN_H

#include "engine/eng_engine.h"
#include "server/srv_control.h"

#include <stddef.h>
#include <stdint.h>

#define SRV_LISTEN_FRAME      120   /* samples per channel per packet: 2.5 ms at 48 kHz */
#define SRV_LISTEN_RATE       48000 /* Hz; the engine must run at this rate */
#define SRV_LISTEN_BITRATE    96000 /* bits/s, stereo */
#define SRV_LISTEN_COMPLEXITY 5     /* libopus 0..10 */
#define SRV_LISTEN_MAX_LISTENERS                                                                   \
  1024                          /* connections one set can hold (matches srv_control's clients) */
#define SRV_LISTEN_POLL_US 1000 /* encoder thread's poll of the tap while someone listens */

typedef struct srv_listen srv_listen; /* opaque */

typedef struct srv_listen_config {
  eng_engine *engine; /* borrowed: must outlive the srv_listen; runs at SRV_LISTEN_RATE */
  uint32_t bitrate;   /* bits/s, 6000..510000 */
  int complexity;     /* 0..10 */
} srv_listen_config;

typedef struct srv_listen_stats {
  uint64_t packets;   /* Opus packets encoded */
  uint64_t messages;  /* AUDIO messages handed to the sink (packets x listeners) */
  uint64_t bytes;     /* Opus payload bytes encoded */
  uint64_t errors;    /* frames libopus refused (none expected) */
  uint32_t listeners; /* connections in the current set */
  bool active;        /* the encoder is running (the set is not empty) */
} srv_listen_stats;

/* {engine, SRV_LISTEN_BITRATE, SRV_LISTEN_COMPLEXITY}. */
srv_listen_config srv_listen_config_default(eng_engine *engine);

/* Creates the encoder and starts its thread, idle until a listener is set.
 * SINK receives the AUDIO messages (any thread may call it: srv_http's is
 * thread-safe). On success *out is owned by the caller (srv_listen_destroy);
 * on failure it is NULL and ERR says why.
 * Possible errors: SRV_ERR_BAD_REQUEST (no engine, an engine not at 48 kHz,
 * bitrate or complexity out of range), SRV_ERR_START (libopus or the thread
 * refused), SRV_ERR_NOMEM. */
int srv_listen_create(const srv_listen_config *cfg, srv_sink sink, srv_listen **out, char *err,
                      size_t err_len);

/* Replaces the listener set with CONNS[0..N) (copied; N is capped at
 * SRV_LISTEN_MAX_LISTENERS). From an empty set to a non-empty one the
 * encoder switches the engine's tap on, discards what it held and starts
 * afresh; back to empty, it switches the tap off and sleeps. Any thread. */
void srv_listen_set(srv_listen *l, const uint64_t *conns, size_t n);

/* Counters; any thread. */
void srv_listen_stats_get(srv_listen *l, srv_listen_stats *out);

/* Stops the thread (the tap is switched off) and frees everything. Call
 * before the sink's owner goes away. NULL is a no-op. */
void srv_listen_destroy(srv_listen *l);

#endif /* SRV_LISTEN_H */
