/* cli_client: a Backline WebSocket client for tests and benches.
 *
 * One client is one connection to ws://127.0.0.1:PORT/ws (subprotocol
 * "backline"), with its own small libwebsockets context and service thread
 * (a few hundred kB and one thread each: 16 clients are cheap). It sends HELLO,
 * keeps the project in an mdl_replica (confirmed + pending, rebased on the
 * server's order) and handles WELCOME, ACK, REJECT and BROADCAST; PRESENCE
 * and METERS are counted. The API below is the test's side of it.
 *
 * Threads: every cli_client_* function may be called from any thread except
 * the client's own service thread (where the callbacks run), and several
 * threads may use one client at once: state is guarded by the client's lock.
 * Exceptions: cli_client_close must be the last call on a client, from a
 * thread other than its service thread; cli_client_submit and friends may
 * also be called from inside a callback (they only queue and wake the
 * service thread).
 *
 * Raw mode (cli_config.raw): no HELLO and no decoding; every message that
 * arrives goes to on_message. The bench uses it for a plain WebSocket echo
 * reference. Most calls then fail with CLI_ERR_INVALID.
 *
 * Not guaranteed: delivery after the connection closed (submits then fail
 * with CLI_ERR_CLOSED); no reconnect. */
#ifndef CLI_CLIENT_H
#define CLI_CLIENT_H

#include "shared/mdl_op.h"
#include "shared/mdl_project.h"
#include "tools/client/cli_err.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CLI_REASON_MAX         256         /* bytes kept of a REJECT reason, with its NUL */
#define CLI_REJECTS_KEPT       64          /* the last REJECTs are kept for inspection */
#define CLI_CONNECT_MS         5000        /* default time allowed for connect + WELCOME */
#define CLI_RAW_MAX_IN         65536       /* raw mode: longest message accepted */
#define CLI_LOCAL_ID_UNCHECKED 0x40000000u /* first local id of cli_client_submit_unchecked */

typedef struct cli_client cli_client;

/* Monotonic clock (CLOCK_MONOTONIC) in nanoseconds: the time base of every
 * timestamp the client reports. */
uint64_t cli_now_ns(void);

/* ---- Configuration ----------------------------------------------------------- */

/* Callbacks, all optional, all called on the client's service thread without
 * the client's lock held, after the replica was updated; T_NS is the arrival
 * time (cli_now_ns). They must not block for long and must not call
 * cli_client_close. */
typedef struct cli_events {
  void *ud; /* passed back to every callback */
  void (*on_ack)(void *ud, cli_client *c, uint32_t local_id, uint64_t seq, uint64_t t_ns);
  void (*on_reject)(void *ud, cli_client *c, uint32_t local_id, int code, const char *reason,
                    uint64_t t_ns);
  void (*on_broadcast)(void *ud, cli_client *c, uint64_t seq, uint32_t origin, uint64_t t_ns);
  /* Every message as it arrived, before decoding (raw mode: the only one). */
  void (*on_message)(void *ud, cli_client *c, const void *data, size_t len, uint64_t t_ns);
} cli_events;

typedef struct cli_config {
  const char *host;        /* default "127.0.0.1" */
  int port;                /* required */
  const char *path;        /* default "/ws" */
  const char *subprotocol; /* default "backline" */
  const char *project;     /* project id for HELLO (required unless raw) */
  const char *user;        /* user name for HELLO, default "cli" */
  uint32_t colour;         /* 0xRRGGBB for HELLO */
  int timeout_ms;          /* connect + WELCOME, default CLI_CONNECT_MS */
  bool raw;                /* no HELLO, no decoding (see above) */
  cli_events events;
} cli_config;

/* All defaults; set port and project before use. */
cli_config cli_config_default(void);

/* ---- Lifecycle ------------------------------------------------------------- */

/* Connects, sends HELLO and waits up to cfg->timeout_ms for WELCOME (raw
 * mode: for the WebSocket to open). The strings in CFG are copied. On
 * success *out is the new client: the caller must release it with
 * cli_client_close. On failure *out is NULL and err (if not NULL) gets one
 * sentence. Possible errors: CLI_ERR_INVALID, CLI_ERR_NOMEM, CLI_ERR_CONNECT
 * (refused, or closed before WELCOME: err then holds the close code/reason or
 * the REJECT the server sent), CLI_ERR_TIMEOUT, CLI_ERR_PROTOCOL. */
int cli_client_connect_cfg(const cli_config *cfg, cli_client **out, char *err, size_t err_len);

/* Shorthand: defaults with PORT, PROJECT and user NAME. */
int cli_client_connect(int port, const char *project, const char *name, cli_client **out, char *err,
                       size_t err_len);

/* Closes the connection, stops the service thread and frees everything. No
 * callback runs after it returns. NULL ok. */
void cli_client_close(cli_client *c);

/* ---- Editing ----------------------------------------------------------------- */

/* A fresh object id in this client's id space (from the WELCOME's client
 * id). MDL_ID_NONE in raw mode. */
mdl_id cli_client_new_id(cli_client *c);

/* Applies TXN to the replica's view, queues it as pending and sends SUBMIT;
 * does not wait. *local_id (if not NULL) gets the number its ACK or REJECT
 * will carry. TXN is copied: the caller may reuse it at once. On failure
 * nothing is sent and *fail (if not NULL) says why when the model refused.
 * Possible errors: any mdl_err the local apply returns (the view refused
 * it), MDL_ERR_FULL (too much pending), CLI_ERR_CLOSED, CLI_ERR_INVALID (raw
 * mode, NULL txn), CLI_ERR_NOMEM, PROTO_ERR_TOO_BIG. */
int cli_client_submit(cli_client *c, const mdl_txn *txn, uint32_t *local_id, mdl_fail *fail);

/* Sends SUBMIT for TXN without touching the replica, for tests of what the
 * server refuses (missing objects, values out of range, foreign ids). It
 * carries a local id from CLI_LOCAL_ID_UNCHECKED up, returned in *local_id.
 * The server is expected to REJECT it; if it ACKs it instead, the replica is
 * out of step (cli_client_stats().out_of_step is set). Possible errors:
 * CLI_ERR_CLOSED, CLI_ERR_INVALID, CLI_ERR_NOMEM, PROTO_ERR_TOO_BIG,
 * PROTO_ERR_RANGE (not encodable). */
int cli_client_submit_unchecked(cli_client *c, const mdl_txn *txn, uint32_t *local_id);

/* Sends LEN bytes as one binary WebSocket message, whatever they are (bad
 * input tests; raw mode). Copied. Possible errors: CLI_ERR_CLOSED,
 * CLI_ERR_NOMEM, CLI_ERR_INVALID. */
int cli_client_send_raw(cli_client *c, const void *data, size_t len);

/* One-op conveniences over cli_client_submit (same errors). Create puts the
 * new id in *id. */
int cli_client_create_track(cli_client *c, const char *name, mdl_id *id, uint32_t *local_id);
int cli_client_set_real(cli_client *c, mdl_id id, int prop, double v, uint32_t *local_id);
int cli_client_set_bool(cli_client *c, mdl_id id, int prop, bool v, uint32_t *local_id);
int cli_client_set_name(cli_client *c, mdl_id id, const char *name, uint32_t *local_id);
int cli_client_delete(cli_client *c, mdl_id id, uint32_t *local_id);
int cli_client_move(cli_client *c, mdl_id id, mdl_id after, uint32_t *local_id);

/* ---- Waiting (timeouts in milliseconds) ------------------------------------ */

/* When a wait for an ACK, BROADCAST or REJECT returns, the callbacks for the
 * message that satisfied it have returned too (what they recorded is
 * visible to the waiting thread). */

/* Until no transaction is pending (every submit acked or rejected).
 * Possible errors: CLI_ERR_TIMEOUT, CLI_ERR_CLOSED (with work pending),
 * CLI_ERR_OUT_OF_STEP. */
int cli_client_wait_idle(cli_client *c, int timeout_ms);

/* Until the confirmed state has reached sequence number SEQ. Same errors. */
int cli_client_wait_seq(cli_client *c, uint64_t seq, int timeout_ms);

/* Until at least N REJECTs have arrived in total (cli_stats.n_rejects).
 * Possible errors: CLI_ERR_TIMEOUT, CLI_ERR_CLOSED. */
int cli_client_wait_rejects(cli_client *c, uint64_t n, int timeout_ms);

/* Until at least N messages have arrived in total (cli_stats.n_messages);
 * in raw mode on_message has run for each of them. Possible errors:
 * CLI_ERR_TIMEOUT, CLI_ERR_CLOSED. */
int cli_client_wait_messages(cli_client *c, uint64_t n, int timeout_ms);

/* Until the connection is closed. Possible errors: CLI_ERR_TIMEOUT. */
int cli_client_wait_closed(cli_client *c, int timeout_ms);

/* ---- Queries (each takes the client's lock; copies out) -------------------- */

typedef struct cli_reject {
  uint32_t local_id; /* 0: not about a submit */
  int code;          /* mdl_err or proto_err */
  char reason[CLI_REASON_MAX];
  uint64_t t_ns;
} cli_reject;

typedef struct cli_stats {
  uint32_t client_id;   /* from WELCOME */
  uint64_t welcome_seq; /* the WELCOME snapshot's seq (catch-up BROADCASTs follow it) */
  uint64_t seq;         /* confirmed sequence number */
  uint32_t n_pending;   /* submitted, neither acked nor rejected */
  uint64_t n_submitted; /* SUBMITs sent through cli_client_submit */
  uint64_t n_welcome, n_acks, n_rejects, n_broadcasts, n_presence, n_meters;
  uint64_t n_messages;    /* every message received */
  uint64_t n_unexpected;  /* decodable, but not a type a server sends */
  uint64_t n_undecodable; /* the server sent bytes proto_decode refused */
  uint64_t n_seq_gaps;    /* an ACK/BROADCAST seq that was not last + 1 */
  int out_of_step;        /* first replica error on ack/broadcast, 0 if none */
  bool welcomed;          /* WELCOME seen */
  bool closed;            /* the connection is gone */
  int close_code;         /* peer's close status (1000, 1009...), 0 if none */
  char close_reason[128]; /* peer's close reason or the connection error */
} cli_stats;

cli_stats cli_client_stats(cli_client *c);

/* Copies the last REJECT into *out; returns false if none has arrived. */
bool cli_client_last_reject(cli_client *c, cli_reject *out);
/* The REJECT for LOCAL_ID among the last CLI_REJECTS_KEPT; false if none. */
bool cli_client_find_reject(cli_client *c, uint32_t local_id, cli_reject *out);

/* The server-confirmed project and its seq, and the view (confirmed +
 * pending), copied into OUT (made with mdl_project_create, e.g. from
 * cli_heap). Returns 0 or MDL_ERR_NOMEM. */
int cli_client_confirmed(cli_client *c, mdl_project *out, uint64_t *seq);
int cli_client_view(cli_client *c, mdl_project *out);

/* malloc and free as an mdl_alloc, for projects handed to the calls above. */
extern const mdl_alloc cli_heap;

/* mdl_project_hash of the confirmed project; *seq (if not NULL) gets its seq
 * read under the same lock. */
uint64_t cli_client_hash(cli_client *c, uint64_t *seq);
/* Same, as 16 hex digits (mdl_hash_hex). */
void cli_client_hash_hex(cli_client *c, char out[17], uint64_t *seq);

#endif
