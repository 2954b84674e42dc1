/* srv_ops: the operator's port, served by CivetWeb.
 *
 * Plain HTTP only (CivetWeb 1.15 cannot do TLS against Debian's OpenSSL 3),
 * no WebSockets, no edits: it reads and never changes the studio. Routes:
 *   GET /health, GET /api/health  the server's health (from the handler)
 *   GET /metrics                  Prometheus text (from the handler)
 *   GET /ca.pem                   the studio's CA certificate, as a download
 *   GET /ca.crt                   the same in DER form, which iOS and Android
 *                                 recognise as a certificate to install
 *   GET /                         "Trust this studio": one step per platform,
 *                                 the CA's SHA-256 fingerprint, a link to the
 *                                 HTTPS studio
 *   GET /studio                   302 to https://<host>:<https_port>/
 * Anything else is 404; methods other than GET and HEAD are 405.
 *
 * The host name in the link and the redirect comes from the request's Host
 * header, accepted only when it is a plain host name, IPv4 address or
 * bracketed IPv6 address (optionally with :port); otherwise the page leaves
 * the link out and /studio answers 400.
 *
 * Threads: srv_ops_start and srv_ops_stop are called by the server's main
 * thread. Requests run on CivetWeb's worker threads (SRV_OPS_THREADS of them),
 * which call the handler concurrently: it must only read snapshots. */
#ifndef SRV_OPS_H
#define SRV_OPS_H

#include <stddef.h>

#include "server/srv_response.h"

#define SRV_OPS_THREADS 4   /* CivetWeb worker threads: at most this many requests at once */
#define SRV_OPS_ERR_LEN 256 /* a good size for srv_ops_start's ERR buffer */

typedef struct srv_ops srv_ops; /* a running operator port */

/* The server's shared route handler. Called with METHOD "GET" and PATH
 * "/api/health" or "/metrics"; OUT is zeroed before the call. Returns 0 when
 * it filled OUT (the operator port sends it and free()s OUT->body), nonzero
 * when it does not know PATH (the port answers 404 and still frees any body).
 * Runs on a CivetWeb worker thread, possibly several at once. */
typedef int (*srv_ops_handler)(void *ud, const char *method, const char *path, srv_response *out);

typedef struct srv_ops_config {
  int port;         /* TCP port; 0 = the operator port is off */
  const char *bind; /* address to listen on, e.g. "0.0.0.0", "127.0.0.1", "::"; NULL = all */
  const char
      *ca_cert_path; /* PEM served at /ca.pem; NULL or "" when an operator-given cert is used */
  int https_port;    /* the studio's HTTPS port for the link and redirect; 0 = no HTTPS */
  srv_ops_handler handler; /* for /api/health and /metrics; NULL answers them 404 */
  void *ud;                /* passed to handler */
} srv_ops_config;

/* Starts the operator port described by CFG (borrowed: only read during the
 * call). The CA certificate is read once here, so /ca.pem and the fingerprint
 * stay the same while the port runs. On success stores the running port in
 * *OUT (NULL when CFG->port is 0) and returns 0; stop it with srv_ops_stop.
 * On failure stores NULL, writes one sentence into ERR (ERR_LEN bytes, may be
 * 0), returns -501 (SRV_ERR_TLS in srv_err.h) and never calls the handler.
 * Possible errors: an invalid port or bind address; the CA file missing or
 * not a PEM certificate; the port already in use or not allowed (CivetWeb's
 * own message is included); out of memory. */
int srv_ops_start(const srv_ops_config *cfg, srv_ops **out, char *err, size_t err_len);

/* Stops accepting, waits for requests in flight (and so for handler calls) to
 * end, and frees OPS. NULL is a no-op. Not thread-safe against itself. */
void srv_ops_stop(srv_ops *ops);

#endif
