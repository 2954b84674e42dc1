/* srv_http: the studio's network front on libwebsockets.
 *
 * One event-driven service thread serves the studio over HTTP and, when a
 * certificate is given, HTTPS: static files from web/ and the wasm build,
 * REST under /api (posted to the control thread, or for assets, uploads,
 * library, export and import to srv_assets; answered asynchronously),
 * and the WebSocket endpoint /ws (subprotocol "backline"). Sizes are checked
 * before anything is allocated: a WebSocket message may not exceed
 * PROTO_MAX_MSG, a request body SRV_MAX_BODY.
 *
 * srv_http_create/destroy from the main thread; the sink it provides to the
 * control thread (srv_http_sink) is safe from any thread. */
#ifndef SRV_HTTP_H
#define SRV_HTTP_H

#include "server/srv_assets.h"
#include "server/srv_control.h"

typedef struct srv_http srv_http;

typedef struct srv_http_config {
  const char *bind; /* interface address, NULL = all */
  int port;         /* plain HTTP port, 0 = off */
  int https_port;   /* HTTPS port, 0 = off */
  const char *cert; /* PEM paths for HTTPS */
  const char *key;
  const char *web_dir;  /* static files */
  const char *wasm_dir; /* model.mjs and model.wasm, served under /wasm/ */
} srv_http_config;

/* Creates the context and listening sockets (so a busy port fails here,
 * with a sentence in err). The service thread starts with srv_http_start,
 * once the control thread exists. Possible errors: SRV_ERR_START. */
int srv_http_create(const srv_http_config *cfg, srv_http **out, char *err, size_t err_len);
/* The sink for srv_control_create. */
srv_sink srv_http_sink(srv_http *h);
/* Sends the requests that srv_assets_routes() claims (assets, uploads,
 * library, project export and import) to ASSETS (borrowed; must outlive the
 * service thread) instead of the control thread. Call before
 * srv_http_start. Their query string is appended to srv_in.path after '?',
 * names and values percent-encoded. An export answered 200 is sent with
 * Content-Disposition: attachment; filename="ID.backline-archive". */
void srv_http_set_assets(srv_http *h, srv_assets *assets);
/* Starts serving; requests go to CONTROL. Possible errors: SRV_ERR_START. */
int srv_http_start(srv_http *h, srv_control *control);
/* Stops the service thread and closes every connection. NULL ok. */
void srv_http_destroy(srv_http *h);

#endif
