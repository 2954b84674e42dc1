/* srv_ops: the operator's port, served by CivetWeb. See srv_ops.h.
 *
 * Every request goes through CivetWeb's begin_request callback, which answers
 * it completely (no document_root, no request handlers, no WebSockets). The
 * CA certificate is loaded once at start; after that the srv_ops object is
 * read-only, so the worker threads share it without locks. */
#include "server/srv_ops.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <civetweb.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "server/srv_err.h"
#include "server/srv_tls.h"

#define CA_FILE_MAX (1 << 20) /* a CA certificate file larger than this is not one */
#define HOST_MAX    256       /* host part of a Host header: 253-char name or [IPv6] */
#define TEXT_PLAIN  "text/plain; charset=utf-8"
#define CSP_HTML                                                                                   \
  "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'; "           \
  "frame-ancestors 'none'"

struct srv_ops {
  struct mg_context *ctx;  /* the running CivetWeb server */
  srv_ops_handler handler; /* see srv_ops_config */
  void *ud;
  int https_port; /* 0 = the studio has no HTTPS */
  char *ca_pem;   /* the CA file's bytes; NULL with a given cert */
  size_t ca_pem_len;
  unsigned char *ca_der; /* the same certificate, DER */
  size_t ca_der_len;
  char fingerprint[SRV_TLS_FINGERPRINT_LEN]; /* SHA-256 of the CA, "AB:CD:..." */
};

/* ------------------------------------------------------------------------ */
/* a growable text buffer for the page                                      */
/* ------------------------------------------------------------------------ */

typedef struct buf {
  char *p;
  size_t len, cap;
  int oom; /* set once an append failed; later appends do nothing */
} buf;

static void bput(buf *b, const char *s, size_t n) {
  if (b->oom) return;
  if (b->len + n + 1 > b->cap) {
    size_t cap = b->cap ? b->cap : 4096;
    while (b->len + n + 1 > cap)
      cap *= 2;
    char *p = realloc(b->p, cap);
    if (!p) {
      b->oom = 1;
      return;
    }
    b->p = p;
    b->cap = cap;
  }
  memcpy(b->p + b->len, s, n);
  b->len += n;
  b->p[b->len] = '\0';
}

static void bstr(buf *b, const char *s) {
  bput(b, s, strlen(s));
}

static void bprintf(buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void bprintf(buf *b, const char *fmt, ...) {
  char tmp[1024];
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
  va_end(ap);
  if (n < 0 || (size_t) n >= sizeof tmp) {
    b->oom = 1; /* only short formatted pieces go through here */
    return;
  }
  bput(b, tmp, (size_t) n);
}

/* Appends S with &, <, >, " and ' escaped for HTML text and attributes. */
static void bhtml(buf *b, const char *s) {
  for (; *s; s++) {
    switch (*s) {
      case '&':
        bstr(b, "&amp;");
        break;
      case '<':
        bstr(b, "&lt;");
        break;
      case '>':
        bstr(b, "&gt;");
        break;
      case '"':
        bstr(b, "&quot;");
        break;
      case '\'':
        bstr(b, "&#39;");
        break;
      default:
        bput(b, s, 1);
    }
  }
}

/* ------------------------------------------------------------------------ */
/* responses                                                                */
/* ------------------------------------------------------------------------ */

/* Sends one complete response. HDRS is NULL or name/value pairs ending with
 * NULL. With HEAD set the body is left out (its length is still announced). */
static int reply(struct mg_connection *c, int head, int status, const char *ctype, const void *body,
                 size_t len, const char *const *hdrs) {
  char n[32];
  snprintf(n, sizeof n, "%zu", len);
  mg_response_header_start(c, status);
  mg_response_header_add(c, "Content-Type", ctype ? ctype : TEXT_PLAIN, -1);
  mg_response_header_add(c, "Content-Length", n, -1);
  mg_response_header_add(c, "Cache-Control", "no-store", -1);
  mg_response_header_add(c, "X-Content-Type-Options", "nosniff", -1);
  for (; hdrs && hdrs[0]; hdrs += 2)
    mg_response_header_add(c, hdrs[0], hdrs[1], -1);
  mg_response_header_send(c);
  if (!head && len) mg_write(c, body, len);
  return status;
}

static int reply_text(struct mg_connection *c, int head, int status, const char *text) {
  return reply(c, head, status, TEXT_PLAIN, text, strlen(text), NULL);
}

/* /api/health and /metrics: whatever the server's shared handler answers. */
static int reply_from_handler(struct mg_connection *c, int head, const srv_ops *ops,
                              const char *path) {
  srv_response r = {0};
  if (!ops->handler || ops->handler(ops->ud, "GET", path, &r) != 0) {
    free(r.body);
    return reply_text(c, head, 404, "not found\n");
  }
  int status = r.status >= 100 && r.status <= 599 ? r.status : 500;
  reply(c, head, status, r.content_type, r.body, r.body ? r.len : 0, NULL);
  free(r.body);
  return status;
}

/* ------------------------------------------------------------------------ */
/* the Host header                                                          */
/* ------------------------------------------------------------------------ */

/* Copies the host part of a Host header ("name", "1.2.3.4", "[::1]", each
 * optionally followed by ":port") into OUT, brackets kept. Returns 0 only
 * when the whole header has that shape, so what is copied is safe to put
 * into a URL or a page. */
static int host_of(const char *h, char *out, size_t out_len) {
  if (!h) return -1;
  const char *rest;
  size_t n;
  if (h[0] == '[') {
    const char *end = strchr(h, ']');
    if (!end || end - h < 3) return -1;
    for (const char *p = h + 1; p < end; p++)
      if (!isxdigit((unsigned char) *p) && *p != ':' && *p != '.') return -1;
    n = (size_t) (end - h) + 1;
  } else {
    n = strcspn(h, ":");
    if (n == 0 || n > 253) return -1;
    for (size_t i = 0; i < n; i++)
      if (!isalnum((unsigned char) h[i]) && h[i] != '-' && h[i] != '.') return -1;
  }
  rest = h + n;
  if (*rest) {
    size_t digits = strspn(rest + 1, "0123456789");
    if (rest[0] != ':' || digits == 0 || digits > 5 || rest[1 + digits] != '\0') return -1;
  }
  if (n >= out_len) return -1;
  memcpy(out, h, n);
  out[n] = '\0';
  return 0;
}

/* ------------------------------------------------------------------------ */
/* routes                                                                   */
/* ------------------------------------------------------------------------ */

static int route_studio(struct mg_connection *c, int head, const srv_ops *ops) {
  char host[HOST_MAX], url[HOST_MAX + 32];
  if (!ops->https_port)
    return reply_text(c, head, 404,
                      "This studio serves no HTTPS port, so there is nothing to "
                      "redirect to.\n");
  if (host_of(mg_get_header(c, "Host"), host, sizeof host) != 0) {
    char text[160];
    snprintf(text, sizeof text,
             "The request's Host header is missing or not a host name; open "
             "https://<this machine's address>:%d/ instead.\n",
             ops->https_port);
    return reply_text(c, head, 400, text);
  }
  snprintf(url, sizeof url, "https://%s:%d/", host, ops->https_port);
  char text[sizeof url + 16];
  snprintf(text, sizeof text, "Moved to %s\n", url);
  const char *hdrs[] = {"Location", url, NULL};
  return reply(c, head, 302, TEXT_PLAIN, text, strlen(text), hdrs);
}

static int route_ca(struct mg_connection *c, int head, const srv_ops *ops, int der) {
  if (!ops->ca_pem)
    return reply_text(c, head, 404,
                      "This studio uses a certificate given by its operator, not a CA of its "
                      "own, so there is no CA certificate to download: devices that trust the "
                      "issuer of that certificate need no step.\n");
  if (der) {
    const char *hdrs[] = {"Content-Disposition", "attachment; filename=\"backline-ca.crt\"", NULL};
    return reply(c, head, 200, "application/x-x509-ca-cert", ops->ca_der, ops->ca_der_len, hdrs);
  }
  const char *hdrs[] = {"Content-Disposition", "attachment; filename=\"backline-ca.pem\"", NULL};
  return reply(c, head, 200, "application/x-pem-file", ops->ca_pem, ops->ca_pem_len, hdrs);
}

static const char page_head[] =
    "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
    "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
    "<title>Trust this studio - Backline</title>\n"
    "<style>body{font:16px/1.5 system-ui,sans-serif;max-width:42rem;margin:1rem auto;"
    "padding:0 1rem}pre,code{background:#f2f2f2;border-radius:4px}pre{padding:.5rem;"
    "white-space:pre-wrap;word-break:break-all}h2{font-size:1.1rem;margin:1.4rem 0 .3rem}"
    ".fp{font-family:monospace;word-break:break-all}.go{font-size:1.2rem}</style>\n"
    "</head><body>\n<h1>Trust this studio</h1>\n";

static const char page_steps[] =
    "<p>The studio runs over HTTPS because browsers give microphones, audio worklets and "
    "motion sensors only to secure pages. Its certificate comes from this studio's own "
    "certificate authority (CA). Trust that CA once on each device; it keeps working when the "
    "studio's addresses change.</p>\n"
    "<p class=\"go\"><a href=\"/ca.pem\" download=\"backline-ca.pem\">"
    "Download the CA certificate (backline-ca.pem)</a></p>\n"
    "<h2>Android</h2><p>Download <a href=\"/ca.crt\">backline-ca.crt</a>, then Settings &rarr; "
    "Security &rarr; Encryption &amp; credentials &rarr; Install a certificate &rarr; CA "
    "certificate, and pick the file.</p>\n"
    "<h2>iPhone and iPad</h2><p>In Safari open <a href=\"/ca.crt\">backline-ca.crt</a> and allow "
    "the download; install the profile in Settings &rarr; General &rarr; VPN &amp; Device "
    "Management; then turn it on in Settings &rarr; General &rarr; About &rarr; Certificate "
    "Trust Settings.</p>\n"
    "<h2>macOS</h2><p>In Terminal, in the download folder:</p>\n"
    "<pre>sudo security add-trusted-cert -d -r trustRoot -k /Library/Keychains/System.keychain "
    "backline-ca.pem</pre>\n"
    "<h2>Windows</h2><p>In a command prompt, in the download folder (Chrome and Edge use this "
    "store):</p>\n<pre>certutil -user -addstore Root backline-ca.pem</pre>\n"
    "<h2>Linux: Chromium and Chrome</h2><p>With the package libnss3-tools, then restart the "
    "browser:</p>\n"
    "<pre>certutil -d sql:$HOME/.pki/nssdb -A -t &quot;C,,&quot; -n backline -i "
    "backline-ca.pem</pre>\n"
    "<h2>Firefox</h2><p>Settings &rarr; Privacy &amp; Security &rarr; Certificates &rarr; View "
    "Certificates &rarr; Authorities &rarr; Import, pick backline-ca.pem and tick &ldquo;Trust "
    "this CA to identify websites&rdquo;.</p>\n";

static int route_index(struct mg_connection *c, int head, const srv_ops *ops) {
  char host[HOST_MAX];
  int have_host = host_of(mg_get_header(c, "Host"), host, sizeof host) == 0;
  buf b = {0};

  bstr(&b, page_head);
  if (ops->ca_pem) {
    bstr(&b, page_steps);
    bstr(&b, "<h2>Check the fingerprint</h2><p>The CA's SHA-256 fingerprint must be:</p>\n"
             "<p class=\"fp\">");
    bhtml(&b, ops->fingerprint);
    bstr(&b, "</p>\n<p>On the studio machine the operator sees it with "
             "<code>openssl x509 -noout -fingerprint -sha256 -in tls/ca.pem</code> in the data "
             "folder.</p>\n");
  } else {
    bstr(&b, "<p>This studio uses a certificate given by its operator, so there is nothing to "
             "install: devices that trust its issuer open the studio directly.</p>\n");
  }
  if (!ops->https_port) {
    bstr(&b, "<p>This studio serves no HTTPS port yet.</p>\n");
  } else if (have_host) {
    bstr(&b, "<h2>Then</h2>\n<p class=\"go\"><a href=\"https://");
    bhtml(&b, host);
    bprintf(&b, ":%d/\">Open the studio: https://", ops->https_port);
    bhtml(&b, host);
    bprintf(&b, ":%d/</a></p>\n", ops->https_port);
  } else {
    bprintf(&b, "<h2>Then</h2>\n<p>Open https://&lt;this machine's address&gt;:%d/</p>\n",
            ops->https_port);
  }
  bstr(&b, "</body></html>\n");

  int status;
  if (b.oom) {
    status = reply_text(c, head, 500, "out of memory\n");
  } else {
    const char *hdrs[] = {"Content-Security-Policy", CSP_HTML, NULL};
    status = reply(c, head, 200, "text/html; charset=utf-8", b.p, b.len, hdrs);
  }
  free(b.p);
  return status;
}

/* CivetWeb's begin_request: answers every request; returns its status. */
static int on_request(struct mg_connection *c) {
  const struct mg_request_info *ri = mg_get_request_info(c);
  const srv_ops *ops = ri->user_data;
  const char *path = ri->local_uri ? ri->local_uri : "";
  int head = strcmp(ri->request_method, "HEAD") == 0;

  if (!head && strcmp(ri->request_method, "GET") != 0) {
    const char *hdrs[] = {"Allow", "GET, HEAD", NULL};
    const char *text = "method not allowed: the operator port only answers GET\n";
    return reply(c, 0, 405, TEXT_PLAIN, text, strlen(text), hdrs);
  }
  if (!strcmp(path, "/health") || !strcmp(path, "/api/health"))
    return reply_from_handler(c, head, ops, "/api/health");
  if (!strcmp(path, "/metrics")) return reply_from_handler(c, head, ops, "/metrics");
  if (!strcmp(path, "/ca.pem")) return route_ca(c, head, ops, 0);
  if (!strcmp(path, "/ca.crt")) return route_ca(c, head, ops, 1);
  if (!strcmp(path, "/studio")) return route_studio(c, head, ops);
  if (!strcmp(path, "/")) return route_index(c, head, ops);
  return reply_text(c, head, 404, "not found\n");
}

/* ------------------------------------------------------------------------ */
/* start and stop                                                           */
/* ------------------------------------------------------------------------ */

/* Reads the CA certificate file into OPS: its bytes, DER and fingerprint. */
static int load_ca(srv_ops *ops, const char *path, char *err, size_t err_len) {
  FILE *f = fopen(path, "rb");
  if (!f) {
    srv_set_err(err, err_len, "cannot read the CA certificate %s", path);
    return -1;
  }
  char *data = malloc(CA_FILE_MAX);
  size_t n = data ? fread(data, 1, CA_FILE_MAX, f) : 0;
  fclose(f);
  if (!data || n == 0 || n == CA_FILE_MAX) {
    srv_set_err(err, err_len, "cannot read the CA certificate %s (empty, too large or no memory)",
                path);
    free(data);
    return -1;
  }
  ops->ca_pem = data;
  ops->ca_pem_len = n;

  BIO *bio = BIO_new_mem_buf(data, (int) n);
  X509 *x = bio ? PEM_read_bio_X509(bio, NULL, NULL, NULL) : NULL;
  int der_len = x ? i2d_X509(x, &ops->ca_der) : -1;
  X509_free(x);
  BIO_free(bio);
  ERR_clear_error();
  if (der_len <= 0) {
    srv_set_err(err, err_len, "the CA certificate %s is not a PEM certificate", path);
    return -1;
  }
  ops->ca_der_len = (size_t) der_len;
  return srv_tls_fingerprint(path, ops->fingerprint, sizeof ops->fingerprint, err, err_len) ? -1
                                                                                            : 0;
}

static void ops_free(srv_ops *ops) {
  free(ops->ca_pem);
  OPENSSL_free(ops->ca_der);
  free(ops);
}

int srv_ops_start(const srv_ops_config *cfg, srv_ops **out, char *err, size_t err_len) {
  if (out) *out = NULL;
  if (!cfg || !out) {
    srv_set_err(err, err_len, "srv_ops_start was called without a config or result");
    return SRV_ERR_START;
  }
  if (cfg->port == 0) return 0;
  if (cfg->port < 0 || cfg->port > 65535 || cfg->https_port < 0 || cfg->https_port > 65535) {
    srv_set_err(err, err_len, "operator port %d or HTTPS port %d is not a TCP port number",
                cfg->port, cfg->https_port);
    return SRV_ERR_START;
  }

  /* CivetWeb's listening_ports: "port", "1.2.3.4:port" or "[::1]:port". */
  char listen[80];
  const char *bind = cfg->bind ? cfg->bind : "";
  int v6 = strchr(bind, ':') != NULL;
  if (strlen(bind) > 45 || strspn(bind, "0123456789abcdefABCDEF.:") != strlen(bind)) {
    srv_set_err(err, err_len, "operator port bind address \"%.60s\" is not an IP address", bind);
    return SRV_ERR_START;
  }
  if (v6 && !mg_check_feature(MG_FEATURES_IPV6)) {
    srv_set_err(err, err_len, "this CivetWeb was built without IPv6, so it cannot bind to %s",
                bind);
    return SRV_ERR_START;
  }
  if (!*bind)
    snprintf(listen, sizeof listen, "%d", cfg->port);
  else
    snprintf(listen, sizeof listen, v6 ? "[%s]:%d" : "%s:%d", bind, cfg->port);

  srv_ops *ops = calloc(1, sizeof *ops);
  if (!ops) {
    srv_set_err(err, err_len, "out of memory starting the operator port");
    return SRV_ERR_START;
  }
  ops->handler = cfg->handler;
  ops->ud = cfg->ud;
  ops->https_port = cfg->https_port;
  if (cfg->ca_cert_path && cfg->ca_cert_path[0] &&
      load_ca(ops, cfg->ca_cert_path, err, err_len) != 0) {
    ops_free(ops);
    return SRV_ERR_START;
  }

  char threads[16];
  snprintf(threads, sizeof threads, "%d", SRV_OPS_THREADS);
  const char *options[] = {
      "listening_ports",   listen, "num_threads",        threads, "tcp_nodelay", "1",
      "enable_keep_alive", "yes",  "request_timeout_ms", "10000", NULL};
  struct mg_callbacks callbacks;
  memset(&callbacks, 0, sizeof callbacks);
  callbacks.begin_request = on_request;
  struct mg_init_data init = {
      .callbacks = &callbacks, .user_data = ops, .configuration_options = options};
  char civet_err[256] = "";
  unsigned civet_code = 0;
  struct mg_error_data error = {
      .code = &civet_code, .text = civet_err, .text_buffer_size = sizeof civet_err};
  ops->ctx = mg_start2(&init, &error);
  if (!ops->ctx) {
    srv_set_err(err, err_len, "cannot start the operator port on %s: %s", listen,
                civet_err[0] ? civet_err : "CivetWeb gave no reason");
    ops_free(ops);
    return SRV_ERR_START;
  }
  *out = ops;
  return 0;
}

void srv_ops_stop(srv_ops *ops) {
  if (!ops) return;
  mg_stop(ops->ctx);
  ops_free(ops);
}
