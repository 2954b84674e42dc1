/* crash_load: a load generator that remembers every acknowledgement, for the
 * reliability tests (tests/reliability) and the end-to-end append bench.
 *
 * A load is N WebSocket clients (cli_client) and optionally one REST
 * writer, all editing one project of a running server as fast as they may:
 * each WebSocket client keeps up to max_pending transactions in flight, the
 * REST writer posts one at a time. Every transaction the server acknowledges
 * (an ACK, or a REST 200 with its seq) goes into a crash_ledger together with
 * its stored form, so that a check can later prove it is in the log
 * (crash_check). Unacknowledged transactions are forgotten: a kill may or may
 * not have stored them, and both are allowed.
 *
 * The load runs until crash_load_stop, or until the server goes away (a
 * SIGKILL): the workers then notice closed connections and idle. Transactions
 * are random but always valid against the client's view: creates of tracks
 * while there are fewer than CRASH_TRACKS_TARGET, then sets of gain, pan,
 * name, mute and colour, moves, and now and then a delete (which may make
 * another client's edit be refused: refusals are counted, never ledgered).
 *
 * Threads: crash_load_* from one thread (the test's); the load's own threads
 * are internal. A ledger is guarded by its own lock and may be read once the
 * loads that feed it have stopped. Not RT; allocates. */
#ifndef CRASH_LOAD_H
#define CRASH_LOAD_H

#include "protocol/proto_msg.h"

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CRASH_MAX_CLIENTS   32 /* WebSocket clients in one load */
#define CRASH_TRACKS_TARGET 12 /* clients create tracks until the view has this many */

/* ---- The ledger of acknowledged transactions ----------------------------------------- */

typedef struct crash_ack {
  uint64_t seq;        /* the number the server gave it */
  uint32_t origin;     /* WebSocket: the client id; REST: 0 (not known to the client) */
  bool rest;           /* DATA is the JSON body that was posted, not the wire encoding */
  uint32_t len;        /* bytes in DATA */
  unsigned char *data; /* owned by the ledger */
  uint64_t latency_ns; /* submit -> acknowledgement */
} crash_ack;

typedef struct crash_ledger {
  pthread_mutex_t lock;
  crash_ack *acks; /* in arrival order; crash_ledger_sort orders them by seq */
  size_t n_acks, cap;
  uint64_t max_seq; /* highest acknowledged seq */
  uint64_t n_rejects, n_local_refused, n_rest_errors;
} crash_ledger;

void crash_ledger_init(crash_ledger *l);
void crash_ledger_deinit(crash_ledger *l); /* frees every entry */

/* Adds one acknowledgement; DATA is copied. Returns false if out of memory. */
bool crash_ledger_add(crash_ledger *l, const crash_ack *a, const void *data);

/* Orders the entries by seq (stable for the checks). Call with no load running. */
void crash_ledger_sort(crash_ledger *l);

/* ---- The load -------------------------------------------------------------------------- */

typedef struct crash_load crash_load;

typedef struct crash_load_config {
  int port;                               /* the server's HTTP/WebSocket port */
  char project[PROTO_PROJECT_ID_MAX + 1]; /* the project to edit */
  int n_clients;                          /* WebSocket clients, 0..CRASH_MAX_CLIENTS */
  bool rest;                              /* also one REST writer */
  int max_pending;                        /* per client; 1 = closed loop (default 16) */
  unsigned seed;                          /* for the random edits */
  int connect_ms;                         /* per client connect, default 5000 */
} crash_load_config;

crash_load_config crash_load_config_default(void);

/* The last figures a WebSocket client had when the load stopped. */
typedef struct crash_client_end {
  uint32_t client_id;
  uint64_t seq;  /* confirmed seq */
  uint64_t hash; /* mdl_project_hash of the confirmed state at seq */
  bool out_of_step;
} crash_client_end;

/* Connects the clients (all of them, or fails), then starts the workers;
 * acknowledgements go into LEDGER (borrowed: it must outlive the load). On
 * failure *out is NULL, nothing runs and err gets a sentence. Possible
 * errors: those of cli_client_connect_cfg, CLI_ERR_NOMEM, CLI_ERR_INVALID. */
int crash_load_start(const crash_load_config *cfg, crash_ledger *ledger, crash_load **out,
                     char *err, size_t err_len);

/* How many acknowledgements this load has received so far. */
uint64_t crash_load_acks(crash_load *l);

/* Stops submitting and joins the workers. If WAIT_MS > 0, first waits up to
 * that long for each client to become idle (live server) or closed (killed
 * server), so that every ACK that was sent has been received and ledgered.
 * Fills ends[n_clients] (if not NULL) with each client's final figures,
 * closes the clients and frees L. NULL ok. */
void crash_load_stop(crash_load *l, int wait_ms, crash_client_end *ends);

#endif
