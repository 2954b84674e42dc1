/* Assets, chunked uploads, the user library and project export/import over
 * REST, against the real server (srv_assets on its worker thread). */
#include "tools/client/cli_http.h"
#include "tools/client/cli_server.h"

#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <dirent.h>
#include <math.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

/* ---- Helpers ------------------------------------------------------------------- */

typedef struct studio {
  char root[512], data[600];
  cli_server *srv;
  int port;
} studio;

static void studio_start(studio *s) {
  char err[1024];
  cr_assert_eq(
      cli_server_start(cli_server_bin(BACKLINE_BIN_DEFAULT), s->data, &s->srv, err, sizeof err), 0,
      "%s", err);
  s->port = cli_server_port(s->srv);
}

static void studio_open(studio *s, const char *prefix) {
  cr_assert_eq(cli_tempdir(prefix, s->root, sizeof s->root), 0);
  snprintf(s->data, sizeof s->data, "%s/data", s->root);
  studio_start(s);
}

static void studio_stop(studio *s) {
  int status;
  cr_assert_eq(cli_server_stop(s->srv, SIGTERM, 10000, &status, NULL), 0);
  cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0, "server exit status %d", status);
  s->srv = NULL;
}

/* One request; returns the status, *resp (freed by the caller) the body. */
static int req(studio *s, const char *method, const char *path, const void *body, size_t len,
               char **resp, size_t *resp_len) {
  int status = 0;
  cr_assert_eq(cli_http_ex(s->port, method, path, body, len, 20000, &status, resp, resp_len), 0,
               "%s %s", method, path);
  return status;
}

static int req_json(studio *s, const char *method, const char *path, const char *json,
                    char **resp) {
  return req(s, method, path, json, json ? strlen(json) : 0, resp, NULL);
}

/* Reads the string value of "KEY":"..." in JSON into out[cap]. */
static bool json_str(const char *json, const char *key, char *out, size_t cap) {
  char pat[80];
  snprintf(pat, sizeof pat, "\"%s\":\"", key);
  const char *p = json ? strstr(json, pat) : NULL;
  if (!p) return false;
  p += strlen(pat);
  const char *e = strchr(p, '"');
  if (!e || (size_t) (e - p) >= cap) return false;
  snprintf(out, cap, "%.*s", (int) (e - p), p);
  return true;
}

/* The number after "KEY": in JSON, or -1. */
static double json_num(const char *json, const char *key) {
  char pat[80];
  snprintf(pat, sizeof pat, "\"%s\":", key);
  const char *p = json ? strstr(json, pat) : NULL;
  return p ? strtod(p + strlen(pat), NULL) : -1;
}

/* A 16-bit PCM mono WAV of FRAMES frames at RATE: a 441 Hz sine at half
 * scale. *len gets its size; free() it. DECLARED (0: FRAMES) is the frame
 * count its header promises. */
static unsigned char *make_wav(uint32_t rate, uint32_t frames, uint32_t declared, size_t *len) {
  uint32_t data = frames * 2, promised = (declared ? declared : frames) * 2;
  unsigned char *w = malloc(44 + data);
  cr_assert_not_null(w);
  memcpy(w, "RIFF", 4);
  uint32_t v = 36 + promised;
  memcpy(w + 4, &v, 4);
  memcpy(w + 8, "WAVEfmt ", 8);
  uint32_t fmt_len = 16, byte_rate = rate * 2;
  uint16_t pcm = 1, ch = 1, align = 2, bits = 16;
  memcpy(w + 16, &fmt_len, 4);
  memcpy(w + 20, &pcm, 2);
  memcpy(w + 22, &ch, 2);
  memcpy(w + 24, &rate, 4);
  memcpy(w + 28, &byte_rate, 4);
  memcpy(w + 32, &align, 2);
  memcpy(w + 34, &bits, 2);
  memcpy(w + 36, "data", 4);
  memcpy(w + 40, &promised, 4);
  for (uint32_t i = 0; i < frames; i++) {
    int16_t s = (int16_t) lrint(16384.0 * sin(2 * M_PI * 441.0 * i / rate));
    memcpy(w + 44 + 2 * i, &s, 2);
  }
  *len = 44 + data;
  return w;
}

/* POST /api/uploads; expects 201 and copies the upload id into id[65]. */
static void begin_upload(studio *s, const char *name, size_t size, char id[65]) {
  char body[300], *resp = NULL;
  snprintf(body, sizeof body, "{\"name\":\"%s\",\"size\":%zu}", name, size);
  cr_assert_eq(req_json(s, "POST", "/api/uploads", body, &resp), 201, "%s", resp);
  cr_assert(json_str(resp, "id", id, 65), "%s", resp);
  cr_assert_eq(json_num(resp, "received"), 0, "%s", resp);
  free(resp);
}

/* PUT one chunk; returns the status; *received gets the count answered. */
static int put_chunk(studio *s, const char *id, size_t offset, const void *data, size_t len,
                     double *received) {
  char path[200], *resp = NULL;
  snprintf(path, sizeof path, "/api/uploads/%s?offset=%zu", id, offset);
  int status = req(s, "PUT", path, data, len, &resp, NULL);
  if (received) *received = json_num(resp, "received");
  free(resp);
  return status;
}

/* Uploads DATA in chunks of at most CHUNK bytes; returns the upload id. */
static void upload_all(studio *s, const char *name, const void *data, size_t len, size_t chunk,
                       char id[65]) {
  begin_upload(s, name, len, id);
  for (size_t at = 0; at < len; at += chunk) {
    size_t n = len - at < chunk ? len - at : chunk;
    double got;
    cr_assert_eq(put_chunk(s, id, at, (const unsigned char *) data + at, n, &got), 200);
    cr_assert_eq(got, (double) (at + n));
  }
}

/* Sends the headers of a PUT with Content-Length LEN but only HALF of the
 * body, then drops the connection: an upload cut off mid-chunk. */
static void put_cut_off(int port, const char *id, size_t offset, const void *data, size_t len,
                        size_t half) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t) port)};
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  cr_assert_eq(connect(fd, (struct sockaddr *) &a, sizeof a), 0);
  char head[300];
  int n = snprintf(head, sizeof head,
                   "PUT /api/uploads/%s?offset=%zu HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                   "Content-Length: %zu\r\n\r\n",
                   id, offset, len);
  cr_assert_eq(write(fd, head, (size_t) n), n);
  cr_assert_eq(write(fd, data, half), (ssize_t) half);
  usleep(100 * 1000);
  close(fd);
}

/* GET PATH on a raw connection; copies the response headers into hdr[cap]. */
static int get_headers(int port, const char *path, char *hdr, size_t cap) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t) port)};
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  cr_assert_eq(connect(fd, (struct sockaddr *) &a, sizeof a), 0);
  char rq[300];
  int n = snprintf(rq, sizeof rq, "GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n",
                   path);
  cr_assert_eq(write(fd, rq, (size_t) n), n);
  size_t got = 0;
  ssize_t r;
  while (got + 1 < cap && (r = read(fd, hdr + got, cap - 1 - got)) > 0) {
    got += (size_t) r;
    hdr[got] = 0;
    if (strstr(hdr, "\r\n\r\n")) break;
  }
  hdr[got] = 0;
  close(fd);
  char *end = strstr(hdr, "\r\n\r\n");
  if (end) *end = 0;
  int status = 0;
  sscanf(hdr, "HTTP/1.%*d %d", &status);
  return status;
}

static size_t count_files(const char *dir) {
  DIR *d = opendir(dir);
  size_t n = 0;
  struct dirent *e;
  while (d && (e = readdir(d)))
    if (e->d_name[0] != '.') n++;
  if (d) closedir(d);
  return n;
}

/* ---- Uploads and assets --------------------------------------------------------- */

Test(assets, chunked_upload_survives_a_cut_and_a_restart_then_imports_with_peaks) {
  studio s;
  studio_open(&s, "backline-assets");
  /* 15 s at 22050 Hz: 661,544 bytes in 3 chunks (each under the 256 KiB body limit). */
  size_t len;
  unsigned char *wav = make_wav(22050, 22050 * 15, 0, &len);
  size_t c1 = 220000, c2 = 220000;
  char id[65], path[200], *resp = NULL;
  begin_upload(&s, "sine.wav", len, id);
  double got;
  cr_assert_eq(put_chunk(&s, id, 0, wav, c1, &got), 200);
  cr_assert_eq(got, c1);

  /* The second chunk is cut off halfway: nothing of it counts. */
  put_cut_off(s.port, id, c1, wav + c1, c2, c2 / 2);
  snprintf(path, sizeof path, "/api/uploads/%s", id);
  cr_assert_eq(req_json(&s, "GET", path, NULL, &resp), 200, "%s", resp);
  cr_assert_eq(json_num(resp, "received"), c1, "%s", resp);
  cr_assert_eq(json_num(resp, "size"), len, "%s", resp);
  free(resp);

  /* The upload survives a restart; the client asks where to resume. */
  studio_stop(&s);
  studio_start(&s);
  cr_assert_eq(req_json(&s, "GET", path, NULL, &resp), 200, "%s", resp);
  cr_assert_eq(json_num(resp, "received"), c1, "%s", resp);
  free(resp);

  /* A chunk at the wrong offset: 409 with the offset to resume from. */
  snprintf(path, sizeof path, "/api/uploads/%s?offset=%zu", id, c1 + c2);
  cr_assert_eq(req(&s, "PUT", path, wav + c1 + c2, len - c1 - c2, &resp, NULL), 409, "%s", resp);
  cr_assert(strstr(resp, "\"code\":-411"), "%s", resp);
  cr_assert_eq(json_num(resp, "received"), c1, "%s", resp);
  free(resp);
  /* A chunk without an offset is a bad request; finishing early is refused. */
  snprintf(path, sizeof path, "/api/uploads/%s", id);
  cr_assert_eq(req(&s, "PUT", path, wav + c1, 10, &resp, NULL), 400, "%s", resp);
  free(resp);
  snprintf(path, sizeof path, "/api/uploads/%s/finish", id);
  cr_assert_eq(req_json(&s, "POST", path, "", &resp), 409, "%s", resp);
  cr_assert(strstr(resp, "\"code\":-412") && strstr(resp, "incomplete"), "%s", resp);
  free(resp);

  cr_assert_eq(put_chunk(&s, id, c1, wav + c1, c2, &got), 200);
  cr_assert_eq(put_chunk(&s, id, c1 + c2, wav + c1 + c2, len - c1 - c2, &got), 200);
  cr_assert_eq(got, len);

  /* Finish: converted to 48 kHz, 15 s = 720,000 frames. */
  cr_assert_eq(req_json(&s, "POST", path, "", &resp), 201, "%s", resp);
  char asset[65];
  cr_assert(json_str(resp, "id", asset, sizeof asset) && strlen(asset) == 64, "%s", resp);
  cr_assert(strstr(resp, "\"name\":\"sine.wav\""), "%s", resp);
  cr_assert_eq(json_num(resp, "channels"), 1, "%s", resp);
  cr_assert_eq(json_num(resp, "rate"), 48000, "%s", resp);
  cr_assert_eq(json_num(resp, "frames"), 720000, "%s", resp);
  cr_assert_eq(json_num(resp, "orig_rate"), 22050, "%s", resp);
  cr_assert_float_eq(json_num(resp, "seconds"), 15.0, 1e-6, "%s", resp);
  free(resp);
  /* The upload is gone; the asset is listed and described. */
  cr_assert_eq(req_json(&s, "POST", path, "", &resp), 404, "%s", resp);
  free(resp);
  cr_assert_eq(req_json(&s, "GET", "/api/assets", NULL, &resp), 200);
  cr_assert(strstr(resp, asset), "%s", resp);
  free(resp);
  snprintf(path, sizeof path, "/api/assets/%s", asset);
  cr_assert_eq(req_json(&s, "GET", path, NULL, &resp), 200);
  cr_assert_eq(json_num(resp, "frames"), 720000, "%s", resp);
  free(resp);

  /* Peaks, binary: 16-byte header then min/max float pairs. Level 0 is
   * 11,250 peaks of 64 frames: 90,016 bytes, written in pieces. */
  size_t n;
  snprintf(path, sizeof path, "/api/assets/%s/peaks?level=0", asset);
  cr_assert_eq(req(&s, "GET", path, NULL, 0, &resp, &n), 200);
  uint32_t fpp, ch;
  uint64_t n_peaks;
  memcpy(&fpp, resp, 4), memcpy(&ch, resp + 4, 4), memcpy(&n_peaks, resp + 8, 8);
  cr_assert_eq(fpp, 64);
  cr_assert_eq(ch, 1);
  cr_assert_eq(n_peaks, 11250);
  cr_assert_eq(n, 16 + 11250 * 8);
  float lo = 0, hi = 0, mm[2];
  for (uint64_t i = 0; i < n_peaks; i++) {
    memcpy(mm, resp + 16 + i * 8, 8);
    cr_assert(mm[0] <= mm[1]);
    lo = mm[0] < lo ? mm[0] : lo, hi = mm[1] > hi ? mm[1] : hi;
  }
  cr_assert(lo < -0.49f && lo > -0.51f && hi > 0.49f && hi < 0.51f, "%f %f", (double) lo,
            (double) hi); /* a half-scale sine */
  free(resp);
  snprintf(path, sizeof path, "/api/assets/%s/peaks?level=3&format=json", asset);
  cr_assert_eq(req_json(&s, "GET", path, NULL, &resp), 200);
  cr_assert_eq(json_num(resp, "frames_per_peak"), 4096, "%s", resp);
  cr_assert_eq(json_num(resp, "n_peaks"), 176, "%s", resp); /* ceil(720000 / 4096) */
  free(resp);
  snprintf(path, sizeof path, "/api/assets/%s/peaks?level=4", asset);
  cr_assert_eq(req_json(&s, "GET", path, NULL, &resp), 400, "%s", resp);
  free(resp);

  /* The same bytes again: the same asset, nothing new stored. */
  upload_all(&s, "again.wav", wav, len, 250000, id);
  snprintf(path, sizeof path, "/api/uploads/%s/finish", id);
  cr_assert_eq(req_json(&s, "POST", path, "", &resp), 201, "%s", resp);
  cr_assert(strstr(resp, asset) && strstr(resp, "\"reused\":true"), "%s", resp);
  free(resp);
  free(wav);
  studio_stop(&s);
  cli_rmtree(s.root);
}

Test(assets, refused_uploads_say_why_and_leave_nothing) {
  studio s;
  studio_open(&s, "backline-refuse");
  char id[65], path[200], dir[700], *resp = NULL;

  /* Not audio. */
  static const char text[] = "these are my lyrics, not a sound\n";
  upload_all(&s, "lyrics.txt", text, sizeof text - 1, 10, id);
  snprintf(path, sizeof path, "/api/uploads/%s/finish", id);
  cr_assert_eq(req_json(&s, "POST", path, "", &resp), 422, "%s", resp);
  cr_assert(strstr(resp, "\"code\":-408") && strstr(resp, "lyrics.txt") &&
                strstr(resp, "not an audio file"),
            "%s", resp);
  free(resp);
  snprintf(path, sizeof path, "/api/uploads/%s", id);
  cr_assert_eq(req_json(&s, "GET", path, NULL, &resp), 404, "%s", resp);
  free(resp);

  /* Truncated: the header promises 10 s, the file holds 1 s. */
  size_t len;
  unsigned char *wav = make_wav(44100, 44100, 441000, &len);
  upload_all(&s, "cut.wav", wav, len, 60000, id);
  free(wav);
  snprintf(path, sizeof path, "/api/uploads/%s/finish", id);
  cr_assert_eq(req_json(&s, "POST", path, "", &resp), 422, "%s", resp);
  cr_assert(strstr(resp, "\"code\":-409") && strstr(resp, "cut.wav is truncated"), "%s", resp);
  free(resp);

  /* Too big, refused from the declared size before anything is written. */
  cr_assert_eq(
      req_json(&s, "POST", "/api/uploads", "{\"name\":\"huge.wav\",\"size\":600000000}", &resp),
      413, "%s", resp);
  cr_assert(strstr(resp, "\"code\":-410") && strstr(resp, "huge.wav"), "%s", resp);
  free(resp);
  cr_assert_eq(req_json(&s, "POST", "/api/uploads", "{\"name\":\"x.wav\"}", &resp), 400, "%s",
               resp);
  free(resp);

  /* Nothing stayed: no asset listed, no partial file. */
  cr_assert_eq(req_json(&s, "GET", "/api/assets", NULL, &resp), 200);
  cr_assert_str_eq(resp, "{\"assets\":[],\"total\":0,\"offset\":0,\"limit\":100}");
  free(resp);
  snprintf(dir, sizeof dir, "%s/assets/uploads", s.data);
  cr_assert_eq(count_files(dir), 0);

  /* Unknown things are 404, wrong methods 405. */
  cr_assert_eq(req_json(&s, "GET", "/api/uploads/nope", NULL, &resp), 404, "%s", resp);
  free(resp);
  cr_assert_eq(
      req_json(&s, "GET",
               "/api/assets/0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", NULL,
               &resp),
      404, "%s", resp);
  cr_assert(strstr(resp, "\"code\":-413"), "%s", resp);
  free(resp);
  cr_assert_eq(req_json(&s, "DELETE", "/api/assets", NULL, &resp), 405, "%s", resp);
  free(resp);
  studio_stop(&s);
  cli_rmtree(s.root);
}

/* ---- Library ------------------------------------------------------------------- */

Test(assets, library_add_search_update_delete) {
  studio s;
  studio_open(&s, "backline-library");
  char *resp = NULL, id1[32], path[200];
  cr_assert_eq(req_json(&s, "POST", "/api/library",
                        "{\"kind\":\"preset\",\"name\":\"Warm Pad\",\"tags\":[\"pad\",\"Soft\"],"
                        "\"payload\":{\"cutoff\":800}}",
                        &resp),
               201, "%s", resp);
  snprintf(id1, sizeof id1, "%d", (int) json_num(resp, "id"));
  cr_assert(strstr(resp, "\"payload\":{\"cutoff\":800}"), "%s", resp);
  free(resp);
  cr_assert_eq(req_json(&s, "POST", "/api/library",
                        "{\"kind\":\"groove\",\"name\":\"Swing 58\",\"tags\":[\"swing\"],"
                        "\"payload\":{\"amount\":0.58}}",
                        &resp),
               201, "%s", resp);
  free(resp);
  /* Numbers come back exactly (cJSON alone prints -9.599999999999998 as -9.6). */
  cr_assert_eq(req_json(&s, "POST", "/api/library",
                        "{\"kind\":\"preset\",\"name\":\"Exact\",\"payload\":{\"device\":\"eq\","
                        "\"params\":{\"p4\":-9.599999999999998,\"p1\":14.399999999999991},"
                        "\"list\":[0.1,1e-300,null,\"x\"]}}",
                        &resp),
               201, "%s", resp);
  cr_assert(strstr(resp, "\"p4\":-9.599999999999998") &&
                strstr(resp, "\"p1\":14.399999999999991") &&
                strstr(resp, "\"list\":[0.1,1e-300,null,\"x\"]"),
            "%s", resp);
  free(resp);
  cr_assert_eq(req_json(&s, "GET", "/api/library?q=exact", NULL, &resp), 200);
  cr_assert(strstr(resp, "\"p4\":-9.599999999999998"), "%s", resp);
  free(resp);
  cr_assert_eq(req_json(&s, "POST", "/api/library",
                        "{\"kind\":\"template\",\"name\":\"Band demo\",\"payload\":{\"tracks\":4}}",
                        &resp),
               201, "%s", resp);
  free(resp);
  /* A sample needs an asset that exists. */
  cr_assert_eq(req_json(&s, "POST", "/api/library",
                        "{\"kind\":\"sample\",\"name\":\"Kick\",\"asset_id\":"
                        "\"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\"}",
                        &resp),
               422, "%s", resp);
  free(resp);
  cr_assert_eq(req_json(&s, "POST", "/api/library", "{\"kind\":\"synth\",\"name\":\"x\"}", &resp),
               400, "%s", resp);
  free(resp);

  /* Search: by name (case-insensitive, words with spaces), tag, kind. */
  cr_assert_eq(req_json(&s, "GET", "/api/library?q=warm%20p", NULL, &resp), 200);
  cr_assert(strstr(resp, "Warm Pad") && !strstr(resp, "Swing"), "%s", resp);
  free(resp);
  cr_assert_eq(req_json(&s, "GET", "/api/library?tag=SOFT", NULL, &resp), 200);
  cr_assert(strstr(resp, "Warm Pad") && !strstr(resp, "Band"), "%s", resp);
  free(resp);
  cr_assert_eq(req_json(&s, "GET", "/api/library?kind=groove", NULL, &resp), 200);
  cr_assert(strstr(resp, "Swing 58") && !strstr(resp, "Warm"), "%s", resp);
  free(resp);
  cr_assert_eq(req_json(&s, "GET", "/api/library?q=a%26b", NULL, &resp), 200);
  cr_assert_str_eq(resp, "{\"items\":[]}");
  free(resp);
  cr_assert_eq(req_json(&s, "GET", "/api/library?kind=synth", NULL, &resp), 400, "%s", resp);
  free(resp);

  /* Update, get, delete. */
  snprintf(path, sizeof path, "/api/library/%s", id1);
  cr_assert_eq(req_json(&s, "PUT", path,
                        "{\"kind\":\"preset\",\"name\":\"Warmer Pad\",\"tags\":[\"pad\"],"
                        "\"payload\":{\"cutoff\":900}}",
                        &resp),
               200, "%s", resp);
  free(resp);
  cr_assert_eq(req_json(&s, "GET", path, NULL, &resp), 200);
  cr_assert(strstr(resp, "Warmer Pad") && strstr(resp, "900") && !strstr(resp, "Soft"), "%s", resp);
  free(resp);
  cr_assert_eq(req_json(&s, "DELETE", path, NULL, &resp), 200, "%s", resp);
  free(resp);
  cr_assert_eq(req_json(&s, "GET", path, NULL, &resp), 404, "%s", resp);
  cr_assert(strstr(resp, "\"code\":-415"), "%s", resp);
  free(resp);
  cr_assert_eq(req_json(&s, "GET", "/api/library", NULL, &resp), 200);
  cr_assert(!strstr(resp, "Warm") && strstr(resp, "Swing") && strstr(resp, "Band"), "%s", resp);
  free(resp);
  studio_stop(&s);
  cli_rmtree(s.root);
}

/* The names of the assets in a list answer, in order, joined by spaces. */
static void names_in(const char *json, char *out, size_t cap) {
  out[0] = 0;
  for (const char *p = json; (p = strstr(p, "\"name\":\"")); p++) {
    const char *v = p + 8, *e = strchr(v, '"');
    snprintf(out + strlen(out), cap - strlen(out), "%s%.*s", out[0] ? " " : "", (int) (e - v), v);
  }
}

Test(assets, asset_list_pages_with_offset_and_limit) {
  studio s;
  studio_open(&s, "backline-asset-pages");
  char up[65], path[200], names[200], *resp = NULL;
  for (uint32_t i = 0; i < 5; i++) {
    char name[32];
    size_t len;
    unsigned char *wav = make_wav(8000, 800 + i, 0, &len); /* all different bytes */
    snprintf(name, sizeof name, "a%u.wav", i);
    upload_all(&s, name, wav, len, len, up);
    free(wav);
    snprintf(path, sizeof path, "/api/uploads/%s/finish", up);
    cr_assert_eq(req_json(&s, "POST", path, "", &resp), 201, "%s", resp);
    free(resp);
  }
  /* Pages of two cover every asset once, newest first within a second,
   * then by id: compare against one page of all. */
  char all[200], paged[600] = "";
  cr_assert_eq(req_json(&s, "GET", "/api/assets", NULL, &resp), 200);
  cr_assert_eq(json_num(resp, "total"), 5, "%s", resp);
  cr_assert_eq(json_num(resp, "limit"), 100, "%s", resp);
  names_in(resp, all, sizeof all);
  free(resp);
  for (int offset = 0; offset < 6; offset += 2) {
    snprintf(path, sizeof path, "/api/assets?offset=%d&limit=2", offset);
    cr_assert_eq(req_json(&s, "GET", path, NULL, &resp), 200, "%s", resp);
    cr_assert_eq(json_num(resp, "total"), 5, "%s", resp);
    cr_assert_eq(json_num(resp, "offset"), offset, "%s", resp);
    names_in(resp, names, sizeof names);
    if (names[0])
      snprintf(paged + strlen(paged), sizeof paged - strlen(paged), "%s%s", paged[0] ? " " : "",
               names);
    free(resp);
  }
  cr_assert_str_eq(paged, all);
  for (int i = 0; i < 5; i++) {
    char want[8];
    snprintf(want, sizeof want, "a%d.wav", i);
    cr_assert(strstr(all, want), "%s missing from %s", want, all);
  }
  cr_assert_eq(req_json(&s, "GET", "/api/assets?offset=9&limit=2", NULL, &resp), 200);
  cr_assert(strstr(resp, "\"assets\":[]") && json_num(resp, "total") == 5, "%s", resp);
  free(resp);
  static const char *const bad[] = {"/api/assets?limit=0", "/api/assets?limit=1001",
                                    "/api/assets?offset=-1", "/api/assets?limit=ten"};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    cr_assert_eq(req_json(&s, "GET", bad[i], NULL, &resp), 400, "%s: %s", bad[i], resp);
    cr_assert(strstr(resp, "limit 1 to 1000"), "%s", resp);
    free(resp);
  }
  studio_stop(&s);
  cli_rmtree(s.root);
}

/* The rendition as a 16-bit WAV for auditioning: 1 s of a half-scale 441 Hz
 * sine at 24 kHz comes back at the studio's 48 kHz, still a half-scale 441 Hz
 * sine. */
Test(assets, audio_is_the_rendition_as_a_16_bit_wav) {
  studio s;
  studio_open(&s, "backline-asset-audio");
  char up[65], path[200], asset[65], hdr[2048], *resp = NULL;
  size_t len, n;
  unsigned char *wav = make_wav(24000, 24000, 0, &len);
  upload_all(&s, "tone.wav", wav, len, len, up);
  free(wav);
  snprintf(path, sizeof path, "/api/uploads/%s/finish", up);
  cr_assert_eq(req_json(&s, "POST", path, "", &resp), 201, "%s", resp);
  cr_assert(json_str(resp, "id", asset, sizeof asset), "%s", resp);
  free(resp);

  snprintf(path, sizeof path, "/api/assets/%s/audio", asset);
  cr_assert_eq(req(&s, "GET", path, NULL, 0, &resp, &n), 200);
  cr_assert_eq(n, 44 + 48000 * 2);
  uint32_t riff_len, fmt_len, rate, byte_rate, data_len;
  uint16_t format, channels, align, bits;
  cr_assert(memcmp(resp, "RIFF", 4) == 0 && memcmp(resp + 8, "WAVEfmt ", 8) == 0 &&
            memcmp(resp + 36, "data", 4) == 0);
  memcpy(&riff_len, resp + 4, 4), memcpy(&fmt_len, resp + 16, 4);
  memcpy(&format, resp + 20, 2), memcpy(&channels, resp + 22, 2), memcpy(&rate, resp + 24, 4);
  memcpy(&byte_rate, resp + 28, 4), memcpy(&align, resp + 32, 2), memcpy(&bits, resp + 34, 2);
  memcpy(&data_len, resp + 40, 4);
  cr_assert_eq(riff_len, n - 8);
  cr_assert_eq(fmt_len, 16);
  cr_assert_eq(format, 1);
  cr_assert_eq(channels, 1);
  cr_assert_eq(rate, 48000);
  cr_assert_eq(byte_rate, 96000);
  cr_assert_eq(align, 2);
  cr_assert_eq(bits, 16);
  cr_assert_eq(data_len, 96000);
  int lo = 0, hi = 0, crossings = 0, prev = 0;
  for (size_t i = 0; i < 48000; i++) {
    int16_t v;
    memcpy(&v, resp + 44 + 2 * i, 2);
    lo = v < lo ? v : lo, hi = v > hi ? v : hi;
    if (i > 100 && i < 47900 && (prev < 0) != (v < 0)) crossings++; /* away from the edges */
    prev = v;
  }
  cr_assert(lo < -16000 && lo > -16700 && hi > 16000 && hi < 16700, "%d %d", lo, hi);
  cr_assert(crossings > 860 && crossings < 885, "%d zero crossings", crossings); /* 2 x 441 */
  free(resp);
  cr_assert_eq(get_headers(s.port, path, hdr, sizeof hdr), 200);
  cr_assert(strcasestr(hdr, "content-type: audio/wav"), "%s", hdr);

  /* An unknown asset is 404, another method 405, another route 404. */
  cr_assert_eq(
      req_json(&s, "GET",
               "/api/assets/0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef/audio",
               NULL, &resp),
      404, "%s", resp);
  cr_assert(strstr(resp, "\"code\":-413"), "%s", resp);
  free(resp);
  cr_assert_eq(req_json(&s, "POST", path, "", &resp), 405, "%s", resp);
  free(resp);
  snprintf(path, sizeof path, "/api/assets/%s/audio.mp3", asset);
  cr_assert_eq(req_json(&s, "GET", path, NULL, &resp), 404, "%s", resp);
  free(resp);
  studio_stop(&s);
  cli_rmtree(s.root);
}

/* ---- Export and import ------------------------------------------------------------ */

static int project_count(studio *s) {
  char *resp = NULL;
  cr_assert_eq(req_json(s, "GET", "/api/projects", NULL, &resp), 200);
  int n = 0;
  for (const char *p = resp; (p = strstr(p, "\"id\":")); p++)
    n++;
  free(resp);
  return n;
}

Test(assets, export_then_import_gives_the_same_state) {
  studio s;
  studio_open(&s, "backline-export");
  char id[80], path[200], *resp = NULL;
  cr_assert_eq(cli_rest_create_project(s.port, "Export me", id), 0);
  int status;
  uint64_t seq;
  cr_assert_eq(
      cli_rest_ops(s.port, id,
                   "{\"ops\":[{\"op\":\"create\",\"type\":\"track\",\"props\":{\"name\":\"Bass\","
                   "\"gain\":0.5}},{\"op\":\"create\",\"type\":\"track\",\"props\":{\"name\":"
                   "\"Keys\",\"pan\":-0.25}},{\"op\":\"set\",\"id\":\"project\",\"prop\":\"tempo\","
                   "\"value\":97}]}",
                   &status, &seq, NULL),
      0);
  cr_assert_eq(status, 200);
  cr_assert_eq(cli_rest_ops(s.port, id,
                            "{\"ops\":[{\"op\":\"set\",\"id\":\"project\",\"prop\":\"ts_num\","
                            "\"value\":7}]}",
                            &status, &seq, NULL),
               0);
  uint64_t seq1, seq2;
  char hash1[17], hash2[17];
  cr_assert_eq(cli_rest_state(s.port, id, &seq1, hash1), 0);

  /* Export: an SQLite archive, sent as a download. */
  size_t len;
  snprintf(path, sizeof path, "/api/projects/%s/export", id);
  cr_assert_eq(req(&s, "GET", path, NULL, 0, &resp, &len), 200);
  cr_assert(len > 1024 && memcmp(resp, "SQLite format 3", 15) == 0);
  char *archive = resp;
  char hdr[2048];
  cr_assert_eq(get_headers(s.port, path, hdr, sizeof hdr), 200);
  cr_assert(strcasestr(hdr, "content-type: application/octet-stream"), "%s", hdr);
  char want[160];
  snprintf(want, sizeof want, "content-disposition: attachment; filename=\"%s.backline-archive\"",
           id);
  cr_assert(strcasestr(hdr, want), "%s", hdr);
  cr_assert_eq(req_json(&s, "GET", "/api/projects/nosuch/export", NULL, &resp), 404, "%s", resp);
  free(resp);

  /* Import through a chunked upload: a new id, the same state. */
  int before = project_count(&s);
  char up[65], copy[80];
  upload_all(&s, "song.backline-archive", archive, len, len / 3 + 1, up);
  snprintf(path, sizeof path, "/api/uploads/%s/import-project", up);
  cr_assert_eq(req_json(&s, "POST", path, "", &resp), 201, "%s", resp);
  cr_assert(json_str(resp, "id", copy, sizeof copy), "%s", resp);
  cr_assert_str_neq(copy, id);
  cr_assert(strstr(resp, hash1), "%s", resp);
  free(resp);
  cr_assert_eq(cli_rest_state(s.port, copy, &seq2, hash2), 0);
  cr_assert_str_eq(hash2, hash1);
  cr_assert_eq(seq2, seq1);
  cr_assert_eq(project_count(&s), before + 1);
  /* It is a project like any other: it takes edits. */
  cr_assert_eq(cli_rest_ops(s.port, copy,
                            "{\"ops\":[{\"op\":\"set\",\"id\":\"project\",\"prop\":\"tempo\","
                            "\"value\":120}]}",
                            &status, &seq, NULL),
               0);
  cr_assert_eq(status, 200);
  cr_assert_eq(seq, seq1 + 1);

  /* The alias route, with the upload in one piece. */
  upload_all(&s, "again.backline-archive", archive, len, 256 * 1024, up);
  char body[120];
  snprintf(body, sizeof body, "{\"upload\":\"%s\"}", up);
  cr_assert_eq(req_json(&s, "POST", "/api/projects/import", body, &resp), 201, "%s", resp);
  cr_assert(strstr(resp, hash1), "%s", resp);
  free(resp);
  int after = project_count(&s);

  /* Corrupt: bytes in the middle overwritten. */
  char *bad = malloc(len);
  memcpy(bad, archive, len);
  memset(bad + len / 2, 0x5a, 4096);
  upload_all(&s, "damaged.backline-archive", bad, len, 100000, up);
  snprintf(path, sizeof path, "/api/uploads/%s/import-project", up);
  cr_assert_eq(req_json(&s, "POST", path, "", &resp), 422, "%s", resp);
  cr_assert(strstr(resp, "damaged.backline-archive") &&
                (strstr(resp, "\"code\":-418") || strstr(resp, "\"code\":-417")),
            "%s", resp);
  cr_assert(!strstr(resp, "/uploads/"), "the reason names the upload, not a server path: %s", resp);
  free(resp);
  /* Foreign: an audio file is not an archive. */
  size_t wlen;
  unsigned char *wav = make_wav(8000, 8000, 0, &wlen);
  upload_all(&s, "tune.wav", wav, wlen, 100000, up);
  free(wav);
  snprintf(body, sizeof body, "{\"upload\":\"%s\"}", up);
  cr_assert_eq(req_json(&s, "POST", "/api/projects/import", body, &resp), 422, "%s", resp);
  cr_assert(strstr(resp, "\"code\":-417") && strstr(resp, "tune.wav"), "%s", resp);
  free(resp);
  /* An incomplete upload is not imported. */
  begin_upload(&s, "half.backline-archive", len, up);
  cr_assert_eq(put_chunk(&s, up, 0, archive, len / 2, NULL), 200);
  snprintf(path, sizeof path, "/api/uploads/%s/import-project", up);
  cr_assert_eq(req_json(&s, "POST", path, "", &resp), 409, "%s", resp);
  free(resp);
  cr_assert_eq(project_count(&s), after);
  char dir[700];
  snprintf(dir, sizeof dir, "%s/exports", s.data);
  cr_assert_eq(count_files(dir), 0);

  /* After a restart the imported project is still there, unchanged. */
  studio_stop(&s);
  studio_start(&s);
  cr_assert_eq(project_count(&s), after);
  char hash3[17];
  cr_assert_eq(cli_rest_state(s.port, copy, &seq2, hash3), 0);
  cr_assert_eq(seq2, seq1 + 1);
  free(bad);
  free(archive);
  studio_stop(&s);
  cli_rmtree(s.root);
}

/* ---- Project templates ------------------------------------------------------------ */

Test(assets, project_from_template_copies_its_state_under_a_new_name) {
  studio s;
  studio_open(&s, "backline-template");
  char id[80], path[200], body[200], tid[32], made[80], *resp = NULL;
  cr_assert_eq(cli_rest_create_project(s.port, "Band setup", id), 0);
  int status;
  uint64_t seq;
  cr_assert_eq(
      cli_rest_ops(s.port, id,
                   "{\"ops\":[{\"op\":\"create\",\"type\":\"track\",\"props\":{\"name\":\"Bass\","
                   "\"gain\":0.5}},{\"op\":\"set\",\"id\":\"project\",\"prop\":\"tempo\","
                   "\"value\":97}]}",
                   &status, &seq, NULL),
      0);
  cr_assert_eq(status, 200);

  /* Save as template: a library item of kind template. */
  snprintf(path, sizeof path, "/api/projects/%s/template", id);
  cr_assert_eq(req_json(&s, "POST", path, "{\"name\":\"Four piece\",\"tags\":[\"band\"]}", &resp),
               201, "%s", resp);
  snprintf(tid, sizeof tid, "%d", (int) json_num(resp, "id"));
  free(resp);
  cr_assert_eq(req_json(&s, "GET", "/api/library?kind=template&tag=BAND", NULL, &resp), 200);
  cr_assert(strstr(resp, "Four piece"), "%s", resp);
  free(resp);
  /* Later edits of the source are not in the template. */
  cr_assert_eq(cli_rest_ops(s.port, id,
                            "{\"ops\":[{\"op\":\"create\",\"type\":\"track\",\"props\":{"
                            "\"name\":\"Cowbell\"}}]}",
                            &status, &seq, NULL),
               0);

  /* Create from it: the template's state, the new name. */
  int before = project_count(&s);
  snprintf(body, sizeof body, "{\"name\":\"Gig at the Roxy\",\"template\":%s}", tid);
  cr_assert_eq(req_json(&s, "POST", "/api/projects", body, &resp), 201, "%s", resp);
  cr_assert(json_str(resp, "id", made, sizeof made), "%s", resp);
  free(resp);
  cr_assert_str_neq(made, id);
  cr_assert_eq(project_count(&s), before + 1);
  snprintf(path, sizeof path, "/api/projects/%s", made);
  cr_assert_eq(req_json(&s, "GET", path, NULL, &resp), 200);
  cr_assert(strstr(resp, "Gig at the Roxy") && strstr(resp, "Bass") && strstr(resp, "97"), "%s",
            resp);
  cr_assert(!strstr(resp, "Cowbell") && !strstr(resp, "Band setup"), "%s", resp);
  free(resp);
  /* A second project from the same template is another copy. */
  snprintf(body, sizeof body, "{\"name\":\"Gig 2\",\"template\":%s}", tid);
  cr_assert_eq(req_json(&s, "POST", "/api/projects", body, &resp), 201, "%s", resp);
  free(resp);
  /* The new project takes edits. */
  cr_assert_eq(cli_rest_ops(s.port, made,
                            "{\"ops\":[{\"op\":\"set\",\"id\":\"project\",\"prop\":\"tempo\","
                            "\"value\":120}]}",
                            &status, &seq, NULL),
               0);
  cr_assert_eq(status, 200);

  /* Refusals: clear, and no project made. */
  char projects_dir[700];
  snprintf(projects_dir, sizeof projects_dir, "%s/projects", s.data);
  size_t n_files = count_files(projects_dir);
  before = project_count(&s);
  cr_assert_eq(req_json(&s, "POST", "/api/projects", "{\"name\":\"x\",\"template\":9999}", &resp),
               404, "%s", resp);
  cr_assert(strstr(resp, "no project template 9999"), "%s", resp);
  free(resp);
  cr_assert_eq(req_json(&s, "POST", "/api/projects", "{\"name\":\"x\",\"template\":\"a\"}", &resp),
               400, "%s", resp);
  free(resp);
  cr_assert_eq(req_json(&s, "POST", "/api/library",
                        "{\"kind\":\"preset\",\"name\":\"Pad\",\"payload\":{\"file\":\"x\"}}",
                        &resp),
               201, "%s", resp);
  snprintf(body, sizeof body, "{\"name\":\"x\",\"template\":%d}", (int) json_num(resp, "id"));
  free(resp);
  cr_assert_eq(req_json(&s, "POST", "/api/projects", body, &resp), 422, "%s", resp);
  cr_assert(strstr(resp, "is a preset, not a project template"), "%s", resp);
  free(resp);
  /* A template item without a project file (made by hand), or naming one
   * outside the templates folder. */
  cr_assert_eq(req_json(&s, "POST", "/api/library",
                        "{\"kind\":\"template\",\"name\":\"Sneaky\",\"payload\":{\"file\":"
                        "\"../projects/x.backline\"}}",
                        &resp),
               201, "%s", resp);
  snprintf(body, sizeof body, "{\"name\":\"x\",\"template\":%d}", (int) json_num(resp, "id"));
  free(resp);
  cr_assert_eq(req_json(&s, "POST", "/api/projects", body, &resp), 422, "%s", resp);
  cr_assert(strstr(resp, "holds no project"), "%s", resp);
  free(resp);
  /* A template whose file is not a project. */
  char tdir[700], fake[800];
  snprintf(tdir, sizeof tdir, "%s/templates", s.data);
  snprintf(fake, sizeof fake, "%s/junk.backline", tdir);
  FILE *f = fopen(fake, "w");
  fputs("this is not a database, just text long enough to be looked at by SQLite", f);
  fclose(f);
  cr_assert_eq(req_json(&s, "POST", "/api/library",
                        "{\"kind\":\"template\",\"name\":\"Junk\",\"payload\":{\"file\":"
                        "\"junk.backline\"}}",
                        &resp),
               201, "%s", resp);
  snprintf(body, sizeof body, "{\"name\":\"x\",\"template\":%d}", (int) json_num(resp, "id"));
  free(resp);
  cr_assert_eq(req_json(&s, "POST", "/api/projects", body, &resp), 422, "%s", resp);
  cr_assert(strstr(resp, "junk.backline"), "%s", resp);
  free(resp);
  cr_assert_eq(project_count(&s), before);
  cr_assert_eq(count_files(projects_dir), n_files, "a refused template leaves no project file");
  snprintf(path, sizeof path, "/api/projects/%s/template", id);
  cr_assert_eq(req_json(&s, "POST", path, "{\"tags\":[]}", &resp), 400, "%s", resp);
  free(resp);
  cr_assert_eq(req_json(&s, "POST", path, "{\"name\":\"\"}", &resp), 400, "%s", resp);
  free(resp);
  cr_assert_eq(req_json(&s, "POST", "/api/projects/nosuch/template", "{\"name\":\"t\"}", &resp),
               404, "%s", resp);
  free(resp);
  cr_assert_eq(count_files(tdir), 2, "the saved template and the junk file, nothing half-made");

  /* Projects made from templates survive a restart with their names. */
  studio_stop(&s);
  studio_start(&s);
  snprintf(path, sizeof path, "/api/projects/%s", made);
  cr_assert_eq(req_json(&s, "GET", path, NULL, &resp), 200);
  cr_assert(strstr(resp, "Gig at the Roxy") && strstr(resp, "120"), "%s", resp);
  free(resp);

  /* Deleting the template removes its file; it can no longer be used. */
  snprintf(path, sizeof path, "/api/library/%s", tid);
  cr_assert_eq(req_json(&s, "DELETE", path, NULL, &resp), 200, "%s", resp);
  free(resp);
  cr_assert_eq(count_files(tdir), 1);
  snprintf(body, sizeof body, "{\"name\":\"late\",\"template\":%s}", tid);
  cr_assert_eq(req_json(&s, "POST", "/api/projects", body, &resp), 404, "%s", resp);
  free(resp);
  studio_stop(&s);
  cli_rmtree(s.root);
}
