/* Tests of srv_ops: the operator port, spoken to over a plain loopback
 * socket. Each test makes its own CA in a fresh folder and its own port. */
#include <criterion/criterion.h>

#include <arpa/inet.h>
#include <ftw.h>
#include <netinet/in.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include "server/srv_ops.h"
#include "server/srv_tls.h"

#define HTTPS_PORT 8443

static char dir[256];
static char err[SRV_OPS_ERR_LEN];
static srv_tls_paths tls;
static srv_ops *ops;
static int port;
static atomic_int handler_calls;
static char handler_path[64];

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw) {
  (void) st, (void) flag, (void) ftw;
  return remove(path);
}

static void setup(void) {
  snprintf(dir, sizeof dir, "/tmp/backline-ops-XXXXXX");
  cr_assert_not_null(mkdtemp(dir));
  cr_assert_eq(srv_tls_ensure(dir, NULL, 0, &tls, err, sizeof err), 0, "%s", err);
  ops = NULL;
  atomic_store(&handler_calls, 0);
}

static void teardown(void) {
  srv_ops_stop(ops);
  ops = NULL;
  if (dir[0]) nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

TestSuite(srv_ops, .init = setup, .fini = teardown);

/* ---- helpers ------------------------------------------------------------ */

/* A port that was free a moment ago: CivetWeb cannot listen on port 0 and
 * report the port it got, so the test asks the kernel first. */
static int free_port(void) {
  int s = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  socklen_t len = sizeof a;
  cr_assert_eq(bind(s, (struct sockaddr *) &a, sizeof a), 0);
  cr_assert_eq(getsockname(s, (struct sockaddr *) &a, &len), 0);
  close(s);
  return ntohs(a.sin_port);
}

static int handler(void *ud, const char *method, const char *path, srv_response *out) {
  /* Runs on a CivetWeb thread, where cr_assert must not be used: a wrong
   * argument answers 404 instead, which the tests see. */
  if (ud != (void *) &handler_calls || strcmp(method, "GET") != 0) return 1;
  snprintf(handler_path, sizeof handler_path, "%s", path);
  atomic_fetch_add(&handler_calls, 1);
  const char *body;
  if (!strcmp(path, "/api/health")) {
    body = "{\"ok\":true}";
    out->content_type = "application/json";
  } else if (!strcmp(path, "/metrics")) {
    body = "backline_up 1\n";
    out->content_type = "text/plain; version=0.0.4";
  } else {
    return 1;
  }
  out->status = 200;
  out->len = strlen(body);
  out->body = malloc(out->len);
  memcpy(out->body, body, out->len);
  return 0;
}

static void start(const char *ca_path) {
  port = free_port();
  srv_ops_config cfg = {.port = port,
                        .bind = "127.0.0.1",
                        .ca_cert_path = ca_path,
                        .https_port = HTTPS_PORT,
                        .handler = handler,
                        .ud = &handler_calls};
  cr_assert_eq(srv_ops_start(&cfg, &ops, err, sizeof err), 0, "%s", err);
  cr_assert_not_null(ops);
}

typedef struct reply {
  int status;
  char head[4096]; /* status line and headers */
  char *body;      /* malloc'd, NUL-terminated */
  size_t len;
} reply;

/* Sends REQUEST as is and reads the whole answer (the request asks the
 * server to close the connection). */
static reply ask(const char *request) {
  int s = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in a = {.sin_family = AF_INET,
                          .sin_port = htons((uint16_t) port),
                          .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  struct timeval tv = {.tv_sec = 5};
  setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  cr_assert_eq(connect(s, (struct sockaddr *) &a, sizeof a), 0);
  size_t n = strlen(request);
  cr_assert_eq(send(s, request, n, MSG_NOSIGNAL), (ssize_t) n);

  size_t cap = 1 << 16, got = 0;
  char *data = malloc(cap + 1);
  ssize_t r;
  while (got < cap && (r = recv(s, data + got, cap - got, 0)) > 0)
    got += (size_t) r;
  close(s);
  data[got] = '\0';

  reply rep = {0};
  char *end = strstr(data, "\r\n\r\n");
  cr_assert_not_null(end, "no complete header in: %s", data);
  size_t head_len = (size_t) (end - data);
  cr_assert_lt(head_len, sizeof rep.head);
  memcpy(rep.head, data, head_len);
  rep.head[head_len] = '\0';
  cr_assert_eq(sscanf(data, "HTTP/1.%*d %d", &rep.status), 1, "bad status line: %s", data);
  rep.len = got - head_len - 4;
  rep.body = malloc(rep.len + 1);
  memcpy(rep.body, end + 4, rep.len);
  rep.body[rep.len] = '\0';
  free(data);
  return rep;
}

static reply get(const char *path, const char *host) {
  char req[512];
  snprintf(req, sizeof req, "GET %s HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n\r\n", path, host);
  return ask(req);
}

/* The value of header NAME (case-insensitive) in REP, or "" if absent. */
static const char *header(const reply *rep, const char *name, char *out, size_t out_len) {
  size_t n = strlen(name);
  out[0] = '\0';
  for (const char *line = strstr(rep->head, "\r\n"); line; line = strstr(line + 2, "\r\n")) {
    if (strncasecmp(line + 2, name, n) == 0 && line[2 + n] == ':') {
      const char *v = line + 3 + n;
      while (*v == ' ')
        v++;
      size_t len = strcspn(v, "\r\n");
      snprintf(out, out_len, "%.*s", (int) len, v);
      break;
    }
  }
  return out;
}

/* ---- routes ------------------------------------------------------------- */

Test(srv_ops, health_calls_the_shared_handler_and_returns_its_body) {
  start(tls.ca_cert);
  char h[256];
  reply r = get("/health", "127.0.0.1");
  cr_assert_eq(r.status, 200);
  cr_assert_str_eq(r.body, "{\"ok\":true}");
  cr_assert_str_eq(header(&r, "Content-Type", h, sizeof h), "application/json");
  cr_assert_str_eq(handler_path, "/api/health");
  free(r.body);
  r = get("/api/health", "127.0.0.1");
  cr_assert_eq(r.status, 200);
  cr_assert_str_eq(r.body, "{\"ok\":true}");
  cr_assert_eq(atomic_load(&handler_calls), 2);
  free(r.body);
}

Test(srv_ops, metrics_come_from_the_handler) {
  start(tls.ca_cert);
  reply r = get("/metrics", "127.0.0.1");
  cr_assert_eq(r.status, 200);
  cr_assert_str_eq(r.body, "backline_up 1\n");
  cr_assert_str_eq(handler_path, "/metrics");
  free(r.body);
}

Test(srv_ops, ca_pem_is_the_ca_file_as_a_download) {
  start(tls.ca_cert);
  char h[256];
  reply r = get("/ca.pem", "127.0.0.1");
  cr_assert_eq(r.status, 200);
  FILE *f = fopen(tls.ca_cert, "rb");
  char file[8192];
  size_t n = fread(file, 1, sizeof file, f);
  fclose(f);
  cr_assert_eq(r.len, n);
  cr_assert_eq(memcmp(r.body, file, n), 0);
  cr_assert_str_eq(header(&r, "Content-Type", h, sizeof h), "application/x-pem-file");
  cr_assert(strstr(header(&r, "Content-Disposition", h, sizeof h), "backline-ca.pem") != NULL);
  free(r.body);
}

Test(srv_ops, ca_crt_is_der) {
  start(tls.ca_cert);
  char h[256];
  reply r = get("/ca.crt", "127.0.0.1");
  cr_assert_eq(r.status, 200);
  cr_assert_str_eq(header(&r, "Content-Type", h, sizeof h), "application/x-x509-ca-cert");
  cr_assert_gt(r.len, 100);
  cr_assert_eq((unsigned char) r.body[0], 0x30, "DER starts with a SEQUENCE");
  free(r.body);
}

Test(srv_ops, studio_redirects_to_https_on_the_requested_host) {
  start(tls.ca_cert);
  char h[256], want[64];
  snprintf(want, sizeof want, "https://127.0.0.1:%d/", HTTPS_PORT);
  reply r = get("/studio", "127.0.0.1:1234");
  cr_assert_eq(r.status, 302);
  cr_assert_str_eq(header(&r, "Location", h, sizeof h), want);
  free(r.body);
  snprintf(want, sizeof want, "https://[::1]:%d/", HTTPS_PORT);
  r = get("/studio", "[::1]:1234");
  cr_assert_eq(r.status, 302);
  cr_assert_str_eq(header(&r, "Location", h, sizeof h), want);
  free(r.body);
}

Test(srv_ops, malicious_host_is_never_echoed) {
  start(tls.ca_cert);
  char h[256];
  reply r = get("/studio", "evil\"><script>alert(1)</script>");
  cr_assert_eq(r.status, 400);
  cr_assert_str_eq(header(&r, "Location", h, sizeof h), "");
  cr_assert_null(strstr(r.body, "<script>"));
  cr_assert_null(strstr(r.body, "evil"));
  free(r.body);
  r = get("/", "evil\"><script>alert(1)</script>");
  cr_assert_eq(r.status, 200);
  cr_assert_null(strstr(r.body, "<script>"));
  cr_assert_null(strstr(r.body, "evil"));
  free(r.body);
  r = get("/", "good.example:80/x");
  cr_assert_null(strstr(r.body, "good.example"), "a Host with a path is refused");
  free(r.body);
}

Test(srv_ops, trust_page_has_fingerprint_steps_and_studio_link) {
  start(tls.ca_cert);
  char h[256], fp[SRV_TLS_FINGERPRINT_LEN], link[80];
  cr_assert_eq(srv_tls_fingerprint(tls.ca_cert, fp, sizeof fp, err, sizeof err), 0);
  reply r = get("/", "studio.local:8080");
  cr_assert_eq(r.status, 200);
  cr_assert(strncmp(header(&r, "Content-Type", h, sizeof h), "text/html", 9) == 0);
  cr_assert(strstr(r.body, "Trust this studio") != NULL);
  cr_assert(strstr(r.body, fp) != NULL, "no fingerprint in the page");
  cr_assert(strstr(r.body, "href=\"/ca.pem\"") != NULL);
  cr_assert(strstr(r.body, "certutil -d sql:$HOME/.pki/nssdb -A -t &quot;C,,&quot; -n backline "
                           "-i backline-ca.pem") != NULL);
  cr_assert(strstr(r.body, "Android") && strstr(r.body, "iPhone") && strstr(r.body, "macOS") &&
            strstr(r.body, "Windows") && strstr(r.body, "Firefox"));
  snprintf(link, sizeof link, "href=\"https://studio.local:%d/\"", HTTPS_PORT);
  cr_assert(strstr(r.body, link) != NULL, "no studio link %s", link);
  free(r.body);
}

Test(srv_ops, post_is_refused_with_405) {
  start(tls.ca_cert);
  char h[64];
  reply r = ask("POST /health HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 2\r\n"
                "Connection: close\r\n\r\n{}");
  cr_assert_eq(r.status, 405);
  cr_assert_str_eq(header(&r, "Allow", h, sizeof h), "GET, HEAD");
  cr_assert_eq(atomic_load(&handler_calls), 0);
  free(r.body);
}

Test(srv_ops, head_sends_headers_without_body) {
  start(tls.ca_cert);
  char h[64];
  reply r = ask("HEAD /ca.pem HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n");
  cr_assert_eq(r.status, 200);
  cr_assert_eq(r.len, 0);
  cr_assert_gt(atoi(header(&r, "Content-Length", h, sizeof h)), 100);
  free(r.body);
}

Test(srv_ops, unknown_path_is_404) {
  start(tls.ca_cert);
  reply r = get("/etc/passwd", "127.0.0.1");
  cr_assert_eq(r.status, 404);
  free(r.body);
  r = get("/index.html", "127.0.0.1");
  cr_assert_eq(r.status, 404);
  free(r.body);
}

Test(srv_ops, keep_alive_serves_two_requests_on_one_connection) {
  start(tls.ca_cert);
  reply r = ask("GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
                "GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n");
  cr_assert_eq(r.status, 200);
  cr_assert(strstr(r.body, "backline_up 1") != NULL, "second answer missing: %s", r.body);
  cr_assert_eq(atomic_load(&handler_calls), 2);
  free(r.body);
}

/* ---- configurations ----------------------------------------------------- */

Test(srv_ops, given_certificate_means_no_ca_to_download) {
  start(NULL);
  reply r = get("/ca.pem", "127.0.0.1");
  cr_assert_eq(r.status, 404);
  cr_assert(strstr(r.body, "given by its operator") != NULL, "%s", r.body);
  free(r.body);
  r = get("/", "127.0.0.1");
  cr_assert_eq(r.status, 200);
  cr_assert_null(strstr(r.body, "/ca.pem"));
  free(r.body);
}

Test(srv_ops, port_zero_means_off) {
  srv_ops_config cfg = {.port = 0};
  srv_ops *o = (srv_ops *) &cfg;
  cr_assert_eq(srv_ops_start(&cfg, &o, err, sizeof err), 0);
  cr_assert_null(o);
  srv_ops_stop(NULL);
}

Test(srv_ops, busy_port_fails_with_a_clear_sentence) {
  int s = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  socklen_t len = sizeof a;
  cr_assert_eq(bind(s, (struct sockaddr *) &a, sizeof a), 0);
  cr_assert_eq(listen(s, 1), 0);
  cr_assert_eq(getsockname(s, (struct sockaddr *) &a, &len), 0);
  srv_ops_config cfg = {
      .port = ntohs(a.sin_port), .bind = "127.0.0.1", .ca_cert_path = tls.ca_cert};
  srv_ops *o = (srv_ops *) &cfg;
  cr_assert_eq(srv_ops_start(&cfg, &o, err, sizeof err), -510);
  cr_assert_null(o);
  cr_assert(strstr(err, "cannot start the operator port on 127.0.0.1:") != NULL, "%s", err);
  close(s);
}

Test(srv_ops, bad_bind_or_missing_ca_is_refused) {
  srv_ops_config cfg = {.port = free_port(), .bind = "127.0.0.1; rm", .ca_cert_path = tls.ca_cert};
  srv_ops *o;
  cr_assert_eq(srv_ops_start(&cfg, &o, err, sizeof err), -510);
  cr_assert(strstr(err, "not an IP address") != NULL, "%s", err);
  cfg.bind = "127.0.0.1";
  cfg.ca_cert_path = "/nonexistent/ca.pem";
  cr_assert_eq(srv_ops_start(&cfg, &o, err, sizeof err), -510);
  cr_assert(strstr(err, "/nonexistent/ca.pem") != NULL, "%s", err);
  cr_assert_null(o);
}
