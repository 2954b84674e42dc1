/* srv_control_int: implementation details of the control thread, shared by
 * srv_control.c (the thread, projects, the op log path, WebSocket messages)
 * and srv_rest.c (REST routes and the project lifecycle); these may change.
 * The public API is srv_control.h. Everything here runs on the control
 * thread unless it says otherwise. */
#ifndef SRV_CONTROL_INT_H
#define SRV_CONTROL_INT_H

#include "server/srv_control.h"
#include "server/srv_plan.h"
#include "protocol/proto_msg.h"
#include "storage/sto_project.h"

#include <pthread.h>
#include <stdatomic.h>
#include <time.h>

#define MAX_PROJECTS         256
#define MAX_CLIENTS          1024
#define SNAPSHOT_EVERY       256   /* ops between welcome snapshots (in memory) */
#define STORE_SNAPSHOT_EVERY 1000  /* ops between snapshots stored in the project file */
#define KEEP_OPS             10000 /* ops kept in the file behind the newest snapshot */
#define METER_PERIOD_MS      50    /* meters to clients at 20 Hz */
#define SERVER_ORIGIN        1     /* id space of objects the server makes itself */
#define FIRST_CLIENT         2

#define LIVE_MAX          32 /* values in motion at once, per project */
#define AUDITION_MAX      8  /* tracks played by hand (NOTE) at once */
#define AUDITION_LINGER_S 10 /* a track stays live this long after its last note */

typedef struct project {
  char id[PROTO_PROJECT_ID_MAX + 1];
  sto_project *sto;
  uint64_t seq;
  mdl_project *model;
  srv_live_value live[LIVE_MAX]; /* values being dragged right now: the engine plays them */
  uint32_t n_live;
  uint32_t next_client; /* next id space to hand out (persisted) */
  int64_t created;      /* unix time, for listing newest first */
  bool in_group;        /* appends of this batch wait for one commit */
  uint64_t stored_snap; /* seq of the newest snapshot in the file (or at open) */
} project;

/* What an answer is about, so that a failed group commit can take it back:
 * an ACK becomes a REJECT, a BROADCAST is dropped, a REST success becomes an
 * error, and a WELCOME (whose catch-up may hold the lost transactions)
 * becomes a close that makes the client reconnect. */
enum { ROLE_NONE, ROLE_ACK, ROLE_BROADCAST, ROLE_HTTP_OPS, ROLE_WELCOME };

typedef struct deferred {
  srv_out *out;
  project *p;   /* the project the answer depends on, or NULL */
  uint64_t seq; /* the transaction it reports */
  uint32_t local_id;
  uint8_t role;
} deferred;

typedef struct client {
  uint64_t conn; /* 0 = free slot */
  project *proj; /* NULL until HELLO */
  uint32_t client_id;
  uint32_t colour;
  uint64_t selection;
  uint64_t view; /* presence: where this user looks on the timeline (ticks) */
  char name[65];
  bool listening;    /* said LISTEN{1}: hears the master while its project plays */
  mdl_id note_track; /* the track this client plays by hand (NOTE), and the keys it holds */
  uint64_t held[2];
} client;

/* A track played by hand: live in the plan (its notes heard at once) until
 * AUDITION_LINGER_S after its last note. */
typedef struct audition {
  mdl_id track;
  time_t last;
} audition;

struct srv_control {
  char data_dir[512];
  struct srv_plan_ctx *plans; /* borrowed (srv_main owns it) */
  struct srv_render *render;  /* the export worker (srv_render.h), started by the first export */
  char plan_warning[300];     /* the last compile's warning, so it is logged once */
  srv_sink sink;
  eng_engine *engine;
  pthread_t thread;
  bool running;

  pthread_mutex_t lock; /* guards the inbox only */
  pthread_cond_t wake;
  srv_in *in_head, *in_tail;
  bool stop;

  project *projects[MAX_PROJECTS];
  size_t n_projects;
  client clients[MAX_CLIENTS];
  project *playing;    /* the project whose plan the engine runs */
  bool engine_playing; /* its transport runs (from the latest meters) */
  audition auditions[AUDITION_MAX];
  uint32_t n_auditions;
  proto_scratch *scratch;
  unsigned char *msg; /* encode buffer, PROTO_MAX_MSG */
  struct timespec last_meters;
  /* The last METERS sent (an unchanged one is sent again only after 1 s). */
  unsigned char meters_last[1 + 8 + 2 + PROTO_MAX_METERS * 20 + 8];
  size_t meters_len;
  struct timespec meters_sent;

  /* Answers of the batch being handled: sent only after its group commit. */
  deferred *deferred;
  size_t n_deferred, cap_deferred;
  deferred tag; /* applied to answers emitted now (out unused) */

  /* Listen here: the set last handed to srv_listen (sync_listeners). */
  struct srv_listen *listen;
  uint64_t listeners[MAX_CLIENTS];
  size_t n_listeners;

  /* Figures for health/metrics, read from other threads. */
  time_t started;
  uint64_t load_busy_ns, load_frames; /* eng_stats at the last DSP load reading */
  atomic_uint_fast64_t dsp_permille;  /* audio thread's share of real time, last 0.5 s */
  atomic_uint_fast64_t n_clients, n_projects_pub, ops, rejects, xruns, meters_dropped,
      monitor_dropped, plans_made, live_params, blocks_idle, ahead_blocks, cohort_misses,
      cohort_gap_frames;
  char audio[96];
};

/* ---- Shared by srv_control.c and srv_rest.c ----------------------------------- */

/* Answers: queued until the batch's group commit, then sent in order. */
void srv__emit(srv_control *c, srv_out *o);
/* A JSON answer to a REST request; takes JSON (malloc'd; NULL = out of memory). */
void srv__http_reply(srv_control *c, uint64_t conn, int status, char *json);
/* {"code": CODE, "reason": "..."}, malloc'd. */
char *srv__json_error(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Projects: ids are [a-z0-9_-]{1,64}; the registry is c->projects. */
bool srv__valid_project_id(const char *id, size_t len);
project *srv__find_project(srv_control *c, const char *id, size_t len);
int srv__project_open(srv_control *c, const char *id, bool create, project **out, char *err,
                      size_t err_len);
void srv__project_free(project *p);
/* A new project called NAME: empty, or a copy of SOURCE's file. */
int srv__create_project(srv_control *c, const char *name, project *source, project **out, char *err,
                        size_t err_len);
/* A fresh id space, persisted before use; 0 if it cannot be saved. */
uint32_t srv__take_client_id(project *p);

/* The op log path: try TXN on a copy, append it to P's open group. */
int srv__commit(srv_control *c, project *p, const mdl_txn *txn, uint32_t origin, mdl_fail *fail,
                uint64_t *seq);
/* Commits P's open group now (before its file is copied or moved). */
void srv__commit_now(srv_control *c, project *p);
/* Sends an accepted transaction to every client of P but ORIGIN_CONN. */
void srv__broadcast(srv_control *c, project *p, uint64_t origin_conn, uint32_t origin, uint64_t seq,
                    const mdl_txn *txn);

/* The engine: recompile the playing project's plan; play or stop P. */
void srv__update_plan(srv_control *c);
void srv__transport(srv_control *c, project *p, bool play);
/* Play after BARS bars of count-in (0: at once), or stop. */
void srv__transport_count_in(srv_control *c, project *p, bool play, uint32_t bars);

/* srv_rest.c: a REST request, and a project file srv_assets imported. */
void srv__on_http(srv_control *c, srv_in *in);
void srv__open_imported(srv_control *c, srv_in *in);

#endif
