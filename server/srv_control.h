/* srv_control: the control thread, the only owner of the project models.
 *
 * Network threads never touch a model: they post srv_in requests (a
 * WebSocket opened, a message arrived, an HTTP request with its body, a
 * socket closed) and the control thread answers through the sink with
 * srv_out messages addressed by connection id. The control thread applies
 * transactions, gives them sequence numbers, persists them (storage/)
 * before acknowledging, broadcasts them, compiles engine plans from the
 * playing project and relays the engine's meters.
 *
 * Threads: srv_control_post and srv_control_stats are safe from any
 * thread; create/destroy from the main thread. */
#ifndef SRV_CONTROL_H
#define SRV_CONTROL_H

#include "engine/eng_engine.h"
#include "engine/eng_plan.h"
#include "server/srv_response.h"
#include "shared/mdl_project.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SRV_OUT_PRE  16           /* headroom before payloads; >= LWS_PRE (checked in srv_http.c) */
#define SRV_MAX_BODY (256 * 1024) /* largest REST request body, bytes */

typedef enum {
  SRV_IN_WS_OPEN = 1,  /* a WebSocket connection was established */
  SRV_IN_WS_CLOSE,     /* it closed */
  SRV_IN_WS_MSG,       /* one complete binary message */
  SRV_IN_HTTP,         /* a REST request (method, path, body) */
  SRV_IN_OPEN_PROJECT, /* srv_assets imported DATA/projects/PATH.backline (path = the new id):
                          open it and answer CONN's import request */
} srv_in_kind;

/* A request to the control thread; one allocation, owned by whoever holds
 * it (srv_control_post takes it). */
typedef struct srv_in {
  struct srv_in *next;  /* private: queue link */
  uint8_t kind;         /* srv_in_kind */
  uint64_t conn;        /* connection id given by the front */
  char method[8];       /* HTTP only: "GET", "POST", ... */
  char path[256];       /* HTTP only */
  size_t len;           /* bytes in data */
  unsigned char data[]; /* message or body */
} srv_in;

typedef enum {
  SRV_OUT_WS = 1, /* a binary WebSocket message */
  SRV_OUT_HTTP,   /* a complete HTTP response */
  SRV_OUT_CLOSE,  /* close the WebSocket with status (data: reason) */
} srv_out_kind;

/* An answer from the control thread; one allocation (free with free()). */
typedef struct srv_out {
  struct srv_out *next; /* queue link, free for the sink to use */
  uint8_t kind;         /* srv_out_kind */
  bool droppable;       /* meters: may be dropped for a slow client */
  bool realtime;        /* AUDIO (srv_listen): dropped sooner for a slow client */
  uint64_t conn;
  int status;               /* HTTP status, or WebSocket close code */
  const char *content_type; /* HTTP: static string */
  size_t len;
  unsigned char buf[]; /* SRV_OUT_PRE bytes of headroom, then len bytes */
} srv_out;

/* Allocates an answer with LEN bytes of payload (copied from DATA if not
 * NULL) after SRV_OUT_PRE bytes of headroom; NULL when out of memory. */
srv_out *srv_out_new(srv_out_kind kind, uint64_t conn, const void *data, size_t len);

/* Where answers go; called on the control thread; takes ownership of OUT. */
typedef struct srv_sink {
  void (*send)(void *ud, srv_out *out);
  void *ud;
} srv_sink;

typedef struct srv_control srv_control;

typedef struct srv_control_config {
  const char *data_dir;       /* projects live in DATA_DIR/projects/ID.backline */
  eng_engine *engine;         /* borrowed; may be NULL (no audio) */
  const char *audio_name;     /* for health: "null", "portaudio:..." */
  struct srv_listen *listen;  /* borrowed, may be NULL: who listens goes there (srv_listen.h) */
  struct srv_plan_ctx *plans; /* borrowed, may be NULL (no engine): outlives the engine's plans */
} srv_control_config;

/* Read-only figures for health and metrics; any thread. */
typedef struct srv_stats {
  uint64_t uptime_s, clients, projects, ops, rejects, xruns, meters_dropped, monitor_dropped;
  uint64_t listeners, listen_packets, listen_bytes; /* Listen here */
  uint64_t plans;                                   /* engine plans compiled */
  uint64_t live_params; /* values in motion sent straight to an engine parameter, no plan */
  uint64_t blocks_idle, ahead_blocks, cohort_misses, cohort_gap_frames; /* eng_stats */
  uint64_t dsp_permille; /* time the audio thread spends rendering, per mille of real time */
  char audio[96];
} srv_stats;

/* Opens every project in DATA_DIR/projects (creating the folder and a
 * default project when there is none) and starts the control thread.
 * Possible errors: SRV_ERR_START, SRV_ERR_STORAGE (err says which file). */
int srv_control_create(const srv_control_config *cfg, srv_sink sink, srv_control **out, char *err,
                       size_t err_len);
/* Stops the thread: after it returns the control thread sends nothing more,
 * and requests posted later are discarded by destroy. NULL ok. */
void srv_control_stop(srv_control *c);
/* Stops the thread if needed and closes every project. NULL ok. */
void srv_control_destroy(srv_control *c);

/* Queues IN for the control thread; takes ownership. Any thread. */
void srv_control_post(srv_control *c, srv_in *in);
/* Allocates a request with LEN bytes of data (copied from DATA if not NULL). */
srv_in *srv_in_new(srv_in_kind kind, uint64_t conn, const void *data, size_t len);

void srv_control_stats(srv_control *c, srv_stats *out);

/* Answers the read-only routes shared by both ports: GET /api/health and
 * GET /metrics. Returns 0 when it produced *out, -1 for other paths. Any
 * thread. Matches srv_ops_handler. */
int srv_control_readonly(void *c, const char *method, const char *path, srv_response *out);

/* malloc and free, for the models the server holds. */
extern const mdl_alloc srv__alloc;

#endif
