/* srv_assets: assets, uploads, the user library and project export/import
 * over REST, on the assets worker thread.
 *
 * Everything after srv_assets_post runs on the worker, which alone uses the
 * asset store and the library. */
#include "server/srv_assets.h"
#include "protocol/proto_msg.h"
#include "server/srv_err.h"
#include "server/srv_json.h"
#include "storage/sto_archive.h"
#include "storage/sto_asset.h"
#include "storage/sto_err.h"
#include "storage/sto_library.h"

#include <cjson/cJSON.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define STALE_UPLOAD_S (7 * 24 * 3600) /* uploads idle this long are removed at start */
#define PROJECT_ID_LEN 10              /* like srv_control's create_project */

struct srv_assets {
  char data_dir[512];
  uint32_t rate;
  srv_control *control;
  srv_sink sink;
  sto_asset_store *store;
  sto_library *lib;

  pthread_t thread;
  bool running;
  pthread_mutex_t lock; /* guards the queue and stop */
  pthread_cond_t wake;
  srv_in *head, *tail;
  bool stop;
};

/* ---- Answers ------------------------------------------------------------------ */

static void send_bytes(srv_assets *a, uint64_t conn, int status, const char *ctype,
                       const void *data, size_t len) {
  srv_out *o = srv_out_new(SRV_OUT_HTTP, conn, data, len);
  if (!o) {
    static const char oom[] = "{\"code\":-509,\"reason\":\"out of memory\"}";
    if (!(o = srv_out_new(SRV_OUT_HTTP, conn, oom, sizeof oom - 1))) return;
    status = 500, ctype = "application/json";
  }
  o->status = status;
  o->content_type = ctype;
  a->sink.send(a->sink.ud, o);
}

/* Sends O (deleted here) as JSON. */
static void send_json(srv_assets *a, uint64_t conn, int status, cJSON *o) {
  char *s = o ? cJSON_PrintUnformatted(o) : NULL;
  cJSON_Delete(o);
  if (s)
    send_bytes(a, conn, status, "application/json", s, strlen(s));
  else
    send_bytes(a, conn, 500, "application/json", "{\"code\":-509,\"reason\":\"out of memory\"}",
               38);
  free(s);
}

static cJSON *error_json(int code, const char *reason) {
  cJSON *o = cJSON_CreateObject();
  cJSON_AddNumberToObject(o, "code", code);
  cJSON_AddStringToObject(o, "reason", reason);
  return o;
}

static void send_error(srv_assets *a, uint64_t conn, int status, int code, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
static void send_error(srv_assets *a, uint64_t conn, int status, int code, const char *fmt, ...) {
  char reason[700];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(reason, sizeof reason, fmt, ap);
  va_end(ap);
  send_json(a, conn, status, error_json(code, reason));
}

/* The HTTP status for a storage or server code. */
static int status_for(int code) {
  switch (code) {
    case STO_ERR_NOT_FOUND:
    case STO_ERR_NO_ASSET:
    case STO_ERR_NO_UPLOAD:
    case STO_ERR_NO_ITEM:
    case SRV_ERR_NO_PROJECT:
    case SRV_ERR_NO_ROUTE:
      return 404;
    case SRV_ERR_METHOD:
      return 405;
    case STO_ERR_OFFSET:
    case STO_ERR_INCOMPLETE:
    case STO_ERR_EXISTS:
      return 409;
    case STO_ERR_TOO_BIG:
    case SRV_ERR_TOO_BIG:
      return 413;
    case STO_ERR_NOT_AUDIO:
    case STO_ERR_TRUNCATED:
    case STO_ERR_NOT_ARCHIVE:
    case STO_ERR_CHECKSUM:
    case STO_ERR_TOO_NEW:
    case STO_ERR_NOT_PROJECT:
      return 422;
    case STO_ERR_IO:
    case SRV_ERR_STORAGE:
      return 507;
    case STO_ERR_NOMEM:
    case SRV_ERR_NOMEM:
      return 500;
    default:
      return 400;
  }
}

/* ---- Requests ----------------------------------------------------------------- */

typedef struct req {
  srv_assets *a;
  srv_in *in;
  uint64_t conn;
  const char *method;
  char path[256];  /* without the query */
  char query[256]; /* after '?', percent-encoded; "" when none */
} req;

static bool is(const req *r, const char *method) {
  return strcmp(r->method, method) == 0;
}

static int hexval(char ch) {
  if (ch >= '0' && ch <= '9') return ch - '0';
  if (ch >= 'a' && ch <= 'f') return ch - 'a' + 10;
  if (ch >= 'A' && ch <= 'F') return ch - 'A' + 10;
  return -1;
}

/* Copies the percent-decoded range [S, E) into OUT[CAP]; false if too long. */
static bool decode(const char *s, const char *e, char *out, size_t cap) {
  size_t n = 0;
  while (s < e) {
    int ch = (unsigned char) *s++;
    if (ch == '%' && e - s >= 2 && hexval(s[0]) >= 0 && hexval(s[1]) >= 0)
      ch = hexval(s[0]) * 16 + hexval(s[1]), s += 2;
    if (n + 1 >= cap) return false;
    out[n++] = (char) ch;
  }
  out[n] = 0;
  return true;
}

/* Finds query argument NAME and decodes its value into OUT[CAP]. */
static bool arg(const req *r, const char *name, char *out, size_t cap) {
  size_t len = strlen(name);
  for (const char *p = r->query; *p;) {
    const char *end = strchr(p, '&');
    if (!end) end = p + strlen(p);
    const char *eq = memchr(p, '=', (size_t) (end - p));
    const char *name_end = eq ? eq : end;
    char key[64];
    if (decode(p, name_end, key, sizeof key) && strlen(key) == len && memcmp(key, name, len) == 0)
      return decode(eq ? eq + 1 : end, end, out, cap);
    p = *end ? end + 1 : end;
  }
  return false;
}

/* Parses a whole decimal number in [0, MAX]. */
static bool parse_u64(const char *s, uint64_t max, uint64_t *out) {
  if (!*s || strlen(s) > 19) return false;
  uint64_t v = 0;
  for (; *s; s++) {
    if (*s < '0' || *s > '9') return false;
    v = v * 10 + (uint64_t) (*s - '0');
  }
  if (v > max) return false;
  *out = v;
  return true;
}

/* The path segment after PREFIX up to the next '/' into SEG[CAP]; *rest
 * points at what follows ("" or "/..."). False if PATH is not under PREFIX
 * or the segment is empty or too long. */
static bool segment(const char *path, const char *prefix, char *seg, size_t cap,
                    const char **rest) {
  size_t n = strlen(prefix);
  if (strncmp(path, prefix, n) != 0) return false;
  const char *s = path + n, *slash = strchr(s, '/');
  size_t len = slash ? (size_t) (slash - s) : strlen(s);
  if (!len || len >= cap) return false;
  memcpy(seg, s, len);
  seg[len] = 0;
  *rest = s + len;
  return true;
}

static bool random_id(char *out, size_t len) {
  static const char alphabet[] = "abcdefghijkmnpqrstuvwxyz23456789";
  unsigned char rnd[64];
  if (len > sizeof rnd || getrandom(rnd, len, 0) != (ssize_t) len) return false;
  for (size_t i = 0; i < len; i++)
    out[i] = alphabet[rnd[i] % 32];
  out[len] = 0;
  return true;
}

static bool valid_project_id(const char *id) {
  size_t n = strlen(id);
  if (!n || n > PROTO_PROJECT_ID_MAX) return false;
  for (; *id; id++)
    if (!((*id >= 'a' && *id <= 'z') || (*id >= '0' && *id <= '9') || *id == '-' || *id == '_'))
      return false;
  return true;
}

static bool valid_asset_id(const char *id) {
  if (strlen(id) != STO_ASSET_ID_LEN) return false;
  for (; *id; id++)
    if (!((*id >= '0' && *id <= '9') || (*id >= 'a' && *id <= 'f'))) return false;
  return true;
}

/* ---- Uploads ------------------------------------------------------------------ */

typedef struct find_upload {
  const char *id;
  sto_upload_status *out;
} find_upload;

static int match_upload(void *ud, const sto_upload_status *up) {
  find_upload *f = ud;
  if (strcmp(up->id, f->id) != 0) return 0;
  *f->out = *up;
  return 1;
}

/* Fills *up for upload ID. Returns STO_OK, STO_ERR_NO_UPLOAD or STO_ERR_IO. */
static int upload_status(srv_assets *a, const char *id, sto_upload_status *up) {
  memset(up, 0, sizeof *up);
  find_upload f = {id, up};
  int rc = sto_upload_list(a->store, INT64_MAX, match_upload, &f);
  return rc == 1 ? STO_OK : rc ? rc : STO_ERR_NO_UPLOAD;
}

static cJSON *upload_json(const sto_upload_status *up) {
  cJSON *o = cJSON_CreateObject();
  cJSON_AddStringToObject(o, "id", up->id);
  cJSON_AddStringToObject(o, "name", up->name);
  cJSON_AddNumberToObject(o, "received", (double) up->received);
  cJSON_AddNumberToObject(o, "size", (double) up->total);
  return o;
}

/* 404 for an unknown upload, 409 {received, size} for an incomplete one. */
static void send_upload_error(srv_assets *a, uint64_t conn, int rc, const char *id,
                              const char *reason) {
  sto_upload_status up;
  cJSON *o = error_json(rc, reason);
  if ((rc == STO_ERR_OFFSET || rc == STO_ERR_INCOMPLETE) && upload_status(a, id, &up) == STO_OK) {
    cJSON_AddNumberToObject(o, "received", (double) up.received);
    cJSON_AddNumberToObject(o, "size", (double) up.total);
  }
  send_json(a, conn, status_for(rc), o);
}

/* POST /api/uploads {"name", "size"} */
static void upload_begin(req *r) {
  srv_assets *a = r->a;
  cJSON *body = cJSON_ParseWithLength((const char *) r->in->data, r->in->len);
  const cJSON *name = cJSON_GetObjectItemCaseSensitive(body, "name");
  const cJSON *size = cJSON_GetObjectItemCaseSensitive(body, "size");
  if (!cJSON_IsString(name) || !cJSON_IsNumber(size) || size->valuedouble < 1 ||
      size->valuedouble > 9007199254740992.0 ||
      size->valuedouble != (double) (uint64_t) size->valuedouble) {
    cJSON_Delete(body);
    send_error(a, r->conn, 400, SRV_ERR_BAD_REQUEST,
               "expected {\"name\": \"file.wav\", \"size\": bytes (a whole number above 0)}");
    return;
  }
  char id[17], err[600];
  sto_upload_status up = {0};
  int64_t got = random_id(id, 16) ? 0 : SRV_ERR_START;
  if (!got)
    got = sto_upload_begin(a->store, id, (uint64_t) size->valuedouble, name->valuestring,
                           SRV_ASSETS_MAX_UPLOAD, err, sizeof err);
  else
    snprintf(err, sizeof err, "no randomness for an upload id");
  if (got < 0) {
    cJSON_Delete(body);
    send_error(a, r->conn, got == SRV_ERR_START ? 500 : status_for((int) got), (int) got, "%s",
               err);
    return;
  }
  snprintf(up.id, sizeof up.id, "%s", id);
  snprintf(up.name, sizeof up.name, "%s", name->valuestring);
  up.total = (uint64_t) size->valuedouble;
  up.received = (uint64_t) got;
  cJSON_Delete(body);
  send_json(a, r->conn, 201, upload_json(&up));
}

/* PUT /api/uploads/ID?offset=N: the next chunk. */
static void upload_chunk(req *r, const char *id) {
  srv_assets *a = r->a;
  char off_s[32], err[600];
  uint64_t offset;
  if (!arg(r, "offset", off_s, sizeof off_s) || !parse_u64(off_s, INT64_MAX, &offset)) {
    send_error(a, r->conn, 400, SRV_ERR_BAD_REQUEST,
               "a chunk needs ?offset=N, the bytes received so far (GET /api/uploads/%s)", id);
    return;
  }
  if (r->in->len) {
    int64_t got = sto_upload_chunk(a->store, id, offset, r->in->data, r->in->len, err, sizeof err);
    if (got < 0) {
      send_upload_error(a, r->conn, (int) got, id, err);
      return;
    }
  }
  sto_upload_status up;
  int rc = upload_status(a, id, &up);
  if (rc)
    send_error(a, r->conn, status_for(rc), rc, "no upload %s", id);
  else
    send_json(a, r->conn, 200, upload_json(&up));
}

static cJSON *asset_json(const sto_asset_info *info) {
  cJSON *o = cJSON_CreateObject();
  cJSON_AddStringToObject(o, "id", info->id);
  cJSON_AddStringToObject(o, "name", info->name);
  cJSON_AddStringToObject(o, "format", info->format);
  cJSON_AddStringToObject(o, "ext", info->ext);
  cJSON_AddNumberToObject(o, "channels", info->channels);
  cJSON_AddNumberToObject(o, "rate", info->rate);
  cJSON_AddNumberToObject(o, "frames", (double) info->frames);
  cJSON_AddNumberToObject(o, "seconds", info->duration);
  cJSON_AddNumberToObject(o, "orig_rate", info->orig_rate);
  cJSON_AddNumberToObject(o, "orig_frames", (double) info->orig_frames);
  cJSON_AddNumberToObject(o, "size", (double) info->size);
  cJSON_AddNumberToObject(o, "created", (double) info->created);
  return o;
}

/* POST /api/uploads/ID/finish: import as an asset. */
static void upload_finish(req *r, const char *id) {
  srv_assets *a = r->a;
  sto_asset_info info;
  char err[600];
  int rc = sto_upload_finish(a->store, id, a->rate, &info, err, sizeof err);
  if (rc == STO_ERR_INVALID) rc = STO_ERR_NOT_AUDIO; /* refused content, e.g. 0 channels */
  if (rc) {
    send_upload_error(a, r->conn, rc, id, err);
    return;
  }
  cJSON *o = asset_json(&info);
  cJSON_AddBoolToObject(o, "reused", info.reused);
  send_json(a, r->conn, 201, o);
}

/* POST /api/uploads/ID/import-project: the upload is a project archive.
 * The new project file is written here; the control thread opens it and
 * answers (open_imported in srv_control.c). */
static void import_project(req *r, const char *upload_id) {
  srv_assets *a = r->a;
  sto_upload_status up;
  int rc = upload_status(a, upload_id, &up);
  if (rc) {
    send_error(a, r->conn, status_for(rc), rc, "no upload %s", upload_id);
    return;
  }
  if (up.received < up.total) {
    char why[400];
    snprintf(why, sizeof why, "%s is incomplete: %llu of %llu bytes received", up.name,
             (unsigned long long) up.received, (unsigned long long) up.total);
    send_upload_error(a, r->conn, STO_ERR_INCOMPLETE, upload_id, why);
    return;
  }
  char id[PROJECT_ID_LEN + 1], part[700], proj[700], trash[700], err[700];
  snprintf(part, sizeof part, "%s/assets/uploads/%s.part", a->data_dir, upload_id);
  for (int tries = 0;; tries++) {
    if (tries == 16 || !random_id(id, PROJECT_ID_LEN)) {
      send_error(a, r->conn, 500, SRV_ERR_START, "no free project id");
      return;
    }
    snprintf(proj, sizeof proj, "%s/projects/%s.backline", a->data_dir, id);
    snprintf(trash, sizeof trash, "%s/trash/%s.backline", a->data_dir, id);
    if (access(proj, F_OK) != 0 && access(trash, F_OK) != 0) break;
  }
  sto_archive_result res;
  rc = sto_archive_import(part, a->store, a->rate, proj, &res, err, sizeof err);
  if (rc) {
    /* A refused file will not become acceptable: drop it. An I/O error
     * keeps it, so the import can be retried. */
    if (status_for(rc) == 422) sto_upload_remove(a->store, upload_id);
    /* The storage message names the partial file; the client knows the name. */
    char *at = strstr(err, part);
    if (at)
      send_error(a, r->conn, status_for(rc), rc, "%.*s%.200s%.300s", (int) (at - err), err, up.name,
                 at + strlen(part));
    else
      send_error(a, r->conn, status_for(rc), rc, "%.200s was not imported: %.480s", up.name, err);
    return;
  }
  sto_upload_remove(a->store, upload_id);
  srv_in *in = srv_in_new(SRV_IN_OPEN_PROJECT, r->conn, NULL, 0);
  if (!in) {
    /* The file stays: the next start lists it. */
    send_error(a, r->conn, 500, SRV_ERR_NOMEM,
               "out of memory; the project appears after a restart");
    return;
  }
  snprintf(in->method, sizeof in->method, "POST");
  snprintf(in->path, sizeof in->path, "%s", id);
  srv_control_post(a->control, in);
}

static void on_uploads(req *r) {
  srv_assets *a = r->a;
  if (strcmp(r->path, "/api/uploads") == 0) {
    if (is(r, "POST"))
      upload_begin(r);
    else
      send_error(a, r->conn, 405, SRV_ERR_METHOD, "use POST on /api/uploads");
    return;
  }
  char id[65];
  const char *rest;
  if (!segment(r->path, "/api/uploads/", id, sizeof id, &rest)) {
    send_error(a, r->conn, 404, SRV_ERR_NO_ROUTE, "no route %s", r->path);
    return;
  }
  if (!*rest && is(r, "GET")) {
    sto_upload_status up;
    int rc = upload_status(a, id, &up);
    if (rc)
      send_error(a, r->conn, status_for(rc), rc, "no upload %s", id);
    else
      send_json(a, r->conn, 200, upload_json(&up));
  } else if (!*rest && is(r, "PUT")) {
    upload_chunk(r, id);
  } else if (!*rest && is(r, "DELETE")) {
    int rc = sto_upload_remove(a->store, id);
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "deleted", id);
    if (rc)
      cJSON_Delete(o), send_error(a, r->conn, status_for(rc), rc, "no upload %s", id);
    else
      send_json(a, r->conn, 200, o);
  } else if (strcmp(rest, "/finish") == 0 && is(r, "POST")) {
    upload_finish(r, id);
  } else if (strcmp(rest, "/import-project") == 0 && is(r, "POST")) {
    import_project(r, id);
  } else if (!*rest || strcmp(rest, "/finish") == 0 || strcmp(rest, "/import-project") == 0) {
    send_error(a, r->conn, 405, SRV_ERR_METHOD, "method %s is not allowed on %s", r->method,
               r->path);
  } else {
    send_error(a, r->conn, 404, SRV_ERR_NO_ROUTE, "no route %s", r->path);
  }
}

/* ---- Assets ------------------------------------------------------------------- */

/* GET /api/assets?offset=N&limit=M: newest first, a page at a time;
 * {"assets": [...], "total", "offset", "limit"}. */
static void asset_list(req *r) {
  srv_assets *a = r->a;
  char num[32];
  uint64_t offset = 0, limit = STO_ASSET_LIST_LIMIT;
  if ((arg(r, "offset", num, sizeof num) && !parse_u64(num, INT64_MAX, &offset)) ||
      (arg(r, "limit", num, sizeof num) &&
       (!parse_u64(num, STO_ASSET_LIST_MAX, &limit) || limit == 0))) {
    send_error(a, r->conn, 400, SRV_ERR_BAD_REQUEST, "offset is a number; limit 1 to %d",
               STO_ASSET_LIST_MAX);
    return;
  }
  sto_asset_info *infos;
  size_t n;
  uint64_t total;
  int rc = sto_asset_list(a->store, offset, (uint32_t) limit, a->rate, &infos, &n, &total);
  if (rc) {
    send_error(a, r->conn, status_for(rc), rc, "the asset index could not be read: %s",
               sto_asset_last_error(a->store));
    return;
  }
  cJSON *o = cJSON_CreateObject(), *arr = cJSON_AddArrayToObject(o, "assets");
  for (size_t i = 0; i < n; i++)
    cJSON_AddItemToArray(arr, asset_json(&infos[i]));
  sto_asset_infos_free(infos);
  cJSON_AddNumberToObject(o, "total", (double) total);
  cJSON_AddNumberToObject(o, "offset", (double) offset);
  cJSON_AddNumberToObject(o, "limit", (double) limit);
  send_json(a, r->conn, 200, o);
}

/* GET /api/assets/ID/peaks?level=N[&format=json] */
/* Writes the N low bytes of V at P, least significant first. */
static void put_le(unsigned char *p, uint64_t v, int n) {
  for (int k = 0; k < n; k++, v >>= 8)
    p[k] = (unsigned char) v;
}

static void asset_peaks(req *r, const char *id) {
  srv_assets *a = r->a;
  char s[32];
  uint64_t level = 0;
  if (arg(r, "level", s, sizeof s) && !parse_u64(s, STO_PEAK_LEVELS - 1, &level)) {
    send_error(a, r->conn, 400, SRV_ERR_BAD_REQUEST, "level must be 0 to %d", STO_PEAK_LEVELS - 1);
    return;
  }
  bool json = arg(r, "format", s, sizeof s) && strcmp(s, "json") == 0;
  sto_asset_peaks pk;
  int rc = sto_asset_read_peaks(a->store, id, a->rate, (unsigned) level, &pk);
  if (rc) {
    send_error(a, r->conn, status_for(rc), rc, "asset %s: %s", id, sto_strerror(rc));
    return;
  }
  size_t n_floats = (size_t) pk.n_peaks * pk.channels * 2;
  if (json) {
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "level", (double) level);
    cJSON_AddNumberToObject(o, "frames_per_peak", pk.frames_per_peak);
    cJSON_AddNumberToObject(o, "channels", pk.channels);
    cJSON_AddNumberToObject(o, "n_peaks", (double) pk.n_peaks);
    cJSON_AddItemToObject(o, "peaks", cJSON_CreateFloatArray(pk.minmax, (int) n_floats));
    sto_asset_peaks_free(&pk);
    send_json(a, r->conn, 200, o);
    return;
  }
  /* 16-byte header (u32 frames_per_peak, u32 channels, u64 n_peaks), then
   * the float32 pairs, all little-endian. */
  srv_out *o = srv_out_new(SRV_OUT_HTTP, r->conn, NULL, 16 + n_floats * sizeof(float));
  if (!o) {
    sto_asset_peaks_free(&pk);
    send_error(a, r->conn, 500, SRV_ERR_NOMEM, "out of memory");
    return;
  }
  unsigned char *p = o->buf + SRV_OUT_PRE;
  put_le(p, pk.frames_per_peak, 4);
  put_le(p + 4, pk.channels, 4);
  put_le(p + 8, pk.n_peaks, 8);
  for (size_t i = 0; i < n_floats; i++) {
    uint32_t bits;
    memcpy(&bits, &pk.minmax[i], 4);
    put_le(p + 16 + 4 * i, bits, 4); /* little-endian whatever the host */
  }
  sto_asset_peaks_free(&pk);
  o->status = 200;
  o->content_type = "application/octet-stream";
  a->sink.send(a->sink.ud, o);
}

/* GET /api/assets/ID/audio: the rendition at the studio's rate as a 16-bit
 * PCM WAV, for auditioning in the browser (decodeAudioData reads it
 * everywhere; the original may be a format the browser cannot). Made from
 * the original first if that rendition is missing. */
#define AUDIO_MAX_BYTES ((uint64_t) 256 << 20) /* larger answers are refused, like exports */
#define AUDIO_BLOCK     16384                  /* frames read at a time */

static void asset_audio(req *r, const char *id) {
  srv_assets *a = r->a;
  sto_asset_info info;
  char err[600];
  int rc = sto_asset_info_get(a->store, id, a->rate, &info);
  if (!rc && info.rate != a->rate)
    rc = sto_asset_render(a->store, id, a->rate, &info, err, sizeof err);
  if (rc) {
    send_error(a, r->conn, status_for(rc), rc, "asset %s: %s", id, sto_strerror(rc));
    return;
  }
  uint64_t data_len = info.frames * info.channels * 2;
  if (info.channels == 0 || data_len > AUDIO_MAX_BYTES - 44) {
    send_error(a, r->conn, 413, SRV_ERR_TOO_BIG,
               "%s is too long to audition (%.0f s; the limit is %llu MiB of 16-bit audio)",
               info.name, info.duration, (unsigned long long) (AUDIO_MAX_BYTES >> 20));
    return;
  }
  float *block = malloc((size_t) AUDIO_BLOCK * info.channels * sizeof *block);
  srv_out *o = block ? srv_out_new(SRV_OUT_HTTP, r->conn, NULL, 44 + (size_t) data_len) : NULL;
  if (!o) {
    free(block);
    send_error(a, r->conn, 500, SRV_ERR_NOMEM, "out of memory");
    return;
  }
  unsigned char *p = o->buf + SRV_OUT_PRE;
  memcpy(p, "RIFF", 4);
  put_le(p + 4, 36 + data_len, 4);
  memcpy(p + 8, "WAVEfmt ", 8);
  put_le(p + 16, 16, 4);                                       /* fmt chunk size */
  put_le(p + 20, 1, 2);                                        /* PCM */
  put_le(p + 22, info.channels, 2);                            /* channels */
  put_le(p + 24, info.rate, 4);                                /* frames per second */
  put_le(p + 28, (uint64_t) info.rate * info.channels * 2, 4); /* bytes per second */
  put_le(p + 32, info.channels * 2, 2);                        /* bytes per frame */
  put_le(p + 34, 16, 2);                                       /* bits per sample */
  memcpy(p + 36, "data", 4);
  put_le(p + 40, data_len, 4);
  unsigned char *at = p + 44;
  uint64_t done = 0;
  while (done < info.frames) {
    int64_t got = sto_asset_read_frames(a->store, id, info.rate, done, block, AUDIO_BLOCK);
    if (got <= 0) {
      free(block);
      free(o);
      rc = got < 0 ? (int) got : STO_ERR_TRUNCATED;
      send_error(a, r->conn, status_for(rc), rc, "asset %s could not be read: %s", id,
                 sto_strerror(rc));
      return;
    }
    for (size_t i = 0; i < (size_t) got * info.channels; i++) {
      float v = block[i] * 32767.0f;
      long q = lrintf(v > 32767.0f ? 32767.0f : v < -32768.0f ? -32768.0f : v);
      put_le(at, (uint64_t) (uint16_t) (int16_t) q, 2);
      at += 2;
    }
    done += (uint64_t) got;
  }
  free(block);
  o->status = 200;
  o->content_type = "audio/wav";
  a->sink.send(a->sink.ud, o);
}

static void on_assets(req *r) {
  srv_assets *a = r->a;
  if (!is(r, "GET")) {
    send_error(a, r->conn, 405, SRV_ERR_METHOD, "use GET on %s", r->path);
    return;
  }
  if (strcmp(r->path, "/api/assets") == 0) {
    asset_list(r);
    return;
  }
  char id[STO_ASSET_ID_LEN + 2];
  const char *rest;
  if (!segment(r->path, "/api/assets/", id, sizeof id, &rest) || !valid_asset_id(id) ||
      (*rest && strcmp(rest, "/peaks") != 0 && strcmp(rest, "/audio") != 0)) {
    send_error(a, r->conn, 404, SRV_ERR_NO_ROUTE, "no route %s", r->path);
    return;
  }
  if (*rest) {
    if (strcmp(rest, "/peaks") == 0)
      asset_peaks(r, id);
    else
      asset_audio(r, id);
    return;
  }
  sto_asset_info info;
  int rc = sto_asset_info_get(a->store, id, a->rate, &info);
  if (rc)
    send_error(a, r->conn, status_for(rc), rc, "no asset %s", id);
  else
    send_json(a, r->conn, 200, asset_json(&info));
}

/* ---- Library ------------------------------------------------------------------ */

static const char *const kind_names[] = {"any", "preset", "sample", "template", "groove"};

static int kind_from(const char *s) {
  if (!s) return -1;
  for (int k = 1; k <= 4; k++)
    if (strcmp(s, kind_names[k]) == 0) return k;
  if (strcmp(s, "project_template") == 0) return STO_LIBRARY_PROJECT_TEMPLATE;
  if (strcmp(s, "groove_template") == 0) return STO_LIBRARY_GROOVE_TEMPLATE;
  return -1;
}

static cJSON *item_json(const sto_library_item *it) {
  cJSON *o = cJSON_CreateObject();
  cJSON_AddNumberToObject(o, "id", (double) it->id);
  cJSON_AddStringToObject(o, "kind",
                          it->kind >= 1 && it->kind <= 4 ? kind_names[it->kind] : "unknown");
  cJSON_AddStringToObject(o, "name", it->name ? it->name : "");
  cJSON *tags = cJSON_AddArrayToObject(o, "tags");
  for (size_t i = 0; i < it->n_tags; i++)
    cJSON_AddItemToArray(tags, cJSON_CreateString(it->tags[i]));
  /* The payload as stored, when it is JSON: parsed and printed again, cJSON
   * would round a number that compares equal within an epsilon (a preset's
   * -9.599999999999998 came back as -9.6). */
  cJSON *payload = it->payload ? cJSON_Parse(it->payload) : NULL;
  cJSON_Delete(payload);
  cJSON_AddItemToObject(o, "payload", payload ? cJSON_CreateRaw(it->payload) : cJSON_CreateNull());
  if (it->asset_id[0])
    cJSON_AddStringToObject(o, "asset_id", it->asset_id);
  else
    cJSON_AddNullToObject(o, "asset_id");
  cJSON_AddNumberToObject(o, "created", (double) it->created);
  cJSON_AddNumberToObject(o, "updated", (double) it->updated);
  return o;
}

/* Reads an item from the JSON body into *it (pointers into BODY and into
 * *payload / *tags, which the caller frees). Returns 0 or fills err. */
static int item_from(const cJSON *body, sto_library_item *it, char **payload, char ***tags,
                     char *err, size_t err_len) {
  memset(it, 0, sizeof *it);
  *payload = NULL;
  *tags = NULL;
  const cJSON *kind = cJSON_GetObjectItemCaseSensitive(body, "kind");
  const cJSON *name = cJSON_GetObjectItemCaseSensitive(body, "name");
  const cJSON *tl = cJSON_GetObjectItemCaseSensitive(body, "tags");
  const cJSON *pl = cJSON_GetObjectItemCaseSensitive(body, "payload");
  const cJSON *asset = cJSON_GetObjectItemCaseSensitive(body, "asset_id");
  int k = kind_from(cJSON_GetStringValue(kind));
  if (!cJSON_IsObject(body) || k < 0 || !cJSON_IsString(name))
    return srv_set_err(err, err_len,
                       "expected {\"kind\": \"preset\", \"sample\", \"template\" or \"groove\", "
                       "\"name\": \"...\", \"tags\": [...], \"payload\": {...}, \"asset_id\": "
                       "\"...\"}"),
           SRV_ERR_BAD_REQUEST;
  if (tl && !cJSON_IsArray(tl) && !cJSON_IsNull(tl))
    return srv_set_err(err, err_len, "tags must be an array of strings"), SRV_ERR_BAD_REQUEST;
  if (asset && !cJSON_IsString(asset) && !cJSON_IsNull(asset))
    return srv_set_err(err, err_len, "asset_id must be a string"), SRV_ERR_BAD_REQUEST;
  it->kind = (sto_library_kind) k;
  it->name = name->valuestring;
  size_t n = cJSON_IsArray(tl) ? (size_t) cJSON_GetArraySize(tl) : 0;
  if (n > STO_LIBRARY_TAGS)
    return srv_set_err(err, err_len, "at most %d tags", STO_LIBRARY_TAGS), STO_ERR_INVALID;
  if (n && !(*tags = calloc(n, sizeof **tags)))
    return srv_set_err(err, err_len, "out of memory"), SRV_ERR_NOMEM;
  const cJSON *t;
  size_t i = 0;
  cJSON_ArrayForEach(t, tl) {
    if (!cJSON_IsString(t))
      return srv_set_err(err, err_len, "tags must be an array of strings"), SRV_ERR_BAD_REQUEST;
    (*tags)[i++] = t->valuestring;
  }
  it->tags = *tags;
  it->n_tags = n;
  if (pl && !cJSON_IsNull(pl) && !(it->payload = *payload = srv_json_print_exact(pl)))
    return srv_set_err(err, err_len, "out of memory"), SRV_ERR_NOMEM;
  if (cJSON_IsString(asset) && asset->valuestring[0]) {
    if (strlen(asset->valuestring) >= sizeof it->asset_id)
      return srv_set_err(err, err_len, "asset_id is not an asset id"), STO_ERR_INVALID;
    snprintf(it->asset_id, sizeof it->asset_id, "%s", asset->valuestring);
  }
  return 0;
}

/* POST /api/library and PUT /api/library/ID (ID > 0). */
static void library_write(req *r, int64_t id) {
  srv_assets *a = r->a;
  bool create = id == 0;
  cJSON *body = cJSON_ParseWithLength((const char *) r->in->data, r->in->len);
  sto_library_item it, got;
  char *payload, **tags, err[600];
  int rc = item_from(body, &it, &payload, &tags, err, sizeof err);
  sto_asset_info info;
  if (!rc && it.asset_id[0] &&
      (!valid_asset_id(it.asset_id) ||
       sto_asset_info_get(a->store, it.asset_id, 0, &info) != STO_OK))
    rc = STO_ERR_NO_ASSET,
    srv_set_err(err, sizeof err, "%s: no asset %s in this studio", it.name, it.asset_id);
  if (!rc && !create) {
    it.id = id;
    rc = sto_library_update(a->lib, &it, err, sizeof err);
  } else if (!rc) {
    rc = sto_library_add(a->lib, &it, &id, err, sizeof err);
  }
  free(payload);
  free(tags);
  cJSON_Delete(body);
  if (!rc) rc = sto_library_get(a->lib, id, &got);
  if (rc) {
    if (rc == STO_ERR_NO_ITEM) srv_set_err(err, sizeof err, "no library item %lld", (long long) id);
    send_error(a, r->conn, rc == STO_ERR_NO_ASSET ? 422 : status_for(rc), rc, "%s", err);
    return;
  }
  send_json(a, r->conn, create ? 201 : 200, item_json(&got));
  sto_library_item_clear(&got);
}

/* GET /api/library?q=&tag=&kind=&limit=&offset= */
static void library_search(req *r) {
  srv_assets *a = r->a;
  char q[256] = "", tag[STO_LIBRARY_TAG] = "", kind[32], num[32];
  sto_library_query query = {0};
  uint64_t v = 0;
  bool ok = true;
  if (arg(r, "q", q, sizeof q)) query.text = q;
  if (arg(r, "tag", tag, sizeof tag) && tag[0]) query.tag = tag;
  if (arg(r, "kind", kind, sizeof kind) && kind[0]) {
    int k = kind_from(kind);
    ok = k > 0;
    query.kind = k > 0 ? (sto_library_kind) k : STO_LIBRARY_ANY;
  }
  if (ok && arg(r, "limit", num, sizeof num)) {
    ok = parse_u64(num, 1000, &v);
    query.limit = (uint32_t) v;
  }
  if (ok && arg(r, "offset", num, sizeof num)) {
    ok = parse_u64(num, UINT32_MAX, &v);
    query.offset = (uint32_t) v;
  }
  if (!ok) {
    send_error(a, r->conn, 400, SRV_ERR_BAD_REQUEST,
               "kind is preset, sample, template or groove; limit 0..1000; offset a number");
    return;
  }
  sto_library_item *items;
  size_t n;
  int rc = sto_library_search(a->lib, &query, &items, &n);
  if (rc) {
    send_error(a, r->conn, status_for(rc), rc, "the library could not be read: %s",
               sto_library_last_error(a->lib));
    return;
  }
  cJSON *o = cJSON_CreateObject(), *arr = cJSON_AddArrayToObject(o, "items");
  for (size_t i = 0; i < n; i++)
    cJSON_AddItemToArray(arr, item_json(&items[i]));
  sto_library_items_free(items, n);
  send_json(a, r->conn, 200, o);
}

/* The file DATA/templates/NAME.backline that project template ID names in
 * its payload {"file": NAME.backline}, as srv_rest.c's save_template wrote
 * it. False for any other item. */
static bool template_file(srv_assets *a, int64_t id, char path[700]) {
  sto_library_item it;
  if (sto_library_get(a->lib, id, &it) != STO_OK) return false;
  cJSON *payload =
      it.kind == STO_LIBRARY_PROJECT_TEMPLATE && it.payload ? cJSON_Parse(it.payload) : NULL;
  const char *file = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(payload, "file"));
  size_t n = file ? strlen(file) : 0;
  char stem[80];
  bool ok = n > 9 && n < sizeof stem && strcmp(file + n - 9, ".backline") == 0;
  if (ok) snprintf(stem, sizeof stem, "%.*s", (int) (n - 9), file);
  ok = ok && valid_project_id(stem);
  if (ok) snprintf(path, 700, "%s/templates/%s", a->data_dir, file);
  cJSON_Delete(payload);
  sto_library_item_clear(&it);
  return ok;
}

static void on_library(req *r) {
  srv_assets *a = r->a;
  if (strcmp(r->path, "/api/library") == 0) {
    if (is(r, "GET"))
      library_search(r);
    else if (is(r, "POST"))
      library_write(r, 0);
    else
      send_error(a, r->conn, 405, SRV_ERR_METHOD, "use GET or POST on /api/library");
    return;
  }
  char seg[32];
  const char *rest;
  uint64_t id;
  if (!segment(r->path, "/api/library/", seg, sizeof seg, &rest) || *rest ||
      !parse_u64(seg, INT64_MAX, &id) || !id) {
    send_error(a, r->conn, 404, SRV_ERR_NO_ROUTE, "no route %s", r->path);
    return;
  }
  if (is(r, "GET")) {
    sto_library_item it;
    int rc = sto_library_get(a->lib, (int64_t) id, &it);
    if (rc) {
      send_error(a, r->conn, status_for(rc), rc, "no library item %llu", (unsigned long long) id);
      return;
    }
    send_json(a, r->conn, 200, item_json(&it));
    sto_library_item_clear(&it);
  } else if (is(r, "PUT")) {
    library_write(r, (int64_t) id);
  } else if (is(r, "DELETE")) {
    char file[700];
    bool has_file = template_file(a, (int64_t) id, file);
    int rc = sto_library_delete(a->lib, (int64_t) id);
    if (!rc && has_file) unlink(file); /* the project file of a template saved by srv_rest.c */
    if (rc) {
      send_error(a, r->conn, status_for(rc), rc, "no library item %llu", (unsigned long long) id);
      return;
    }
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "deleted", (double) id);
    send_json(a, r->conn, 200, o);
  } else {
    send_error(a, r->conn, 405, SRV_ERR_METHOD, "use GET, PUT or DELETE on %s", r->path);
  }
}

/* ---- Export ------------------------------------------------------------------- */

/* GET /api/projects/ID/export: the archive's bytes. The project file is
 * read as a consistent copy of what is committed while the control thread
 * goes on using it; the assets its clips use go with it (sto_archive_export
 * finds them in that copy). */
static void export_project(req *r, const char *id) {
  srv_assets *a = r->a;
  char proj[700], dir[600], out[800], err[700], tag[9];
  if (!valid_project_id(id)) {
    send_error(a, r->conn, 404, SRV_ERR_NO_PROJECT, "no project \"%.64s\" in this studio", id);
    return;
  }
  snprintf(proj, sizeof proj, "%s/projects/%s.backline", a->data_dir, id);
  snprintf(dir, sizeof dir, "%s/exports", a->data_dir);
  if (access(proj, F_OK) != 0) {
    send_error(a, r->conn, 404, SRV_ERR_NO_PROJECT, "no project \"%s\" in this studio", id);
    return;
  }
  if ((mkdir(dir, 0755) && errno != EEXIST) || !random_id(tag, 8)) {
    send_error(a, r->conn, 507, SRV_ERR_STORAGE, "cannot create %s: %s", dir, strerror(errno));
    return;
  }
  snprintf(out, sizeof out, "%s/%s-%s.backline-archive", dir, id, tag);
  int rc = sto_archive_export(proj, a->store, NULL, 0, out, err, sizeof err);
  if (rc) {
    send_error(a, r->conn, status_for(rc), rc, "cannot export project %s: %s", id, err);
    return;
  }
  int fd = open(out, O_RDONLY | O_CLOEXEC);
  struct stat st;
  srv_out *o = NULL;
  if (fd < 0 || fstat(fd, &st) != 0) {
    send_error(a, r->conn, 507, SRV_ERR_STORAGE, "cannot read the archive of project %s: %s", id,
               strerror(errno));
  } else if ((uint64_t) st.st_size > SRV_ASSETS_MAX_EXPORT) {
    /* Sent from memory (one copy, written in pieces by srv_http). */
    send_error(a, r->conn, 413, SRV_ERR_TOO_BIG,
               "the archive of project %s is %lld bytes, more than the %llu this server sends", id,
               (long long) st.st_size, (unsigned long long) SRV_ASSETS_MAX_EXPORT);
  } else if (!(o = srv_out_new(SRV_OUT_HTTP, r->conn, NULL, (size_t) st.st_size))) {
    send_error(a, r->conn, 500, SRV_ERR_NOMEM, "out of memory for the archive of project %s", id);
  } else {
    size_t got = 0;
    while (got < o->len) {
      ssize_t n = read(fd, o->buf + SRV_OUT_PRE + got, o->len - got);
      if (n <= 0 && !(n < 0 && errno == EINTR)) break;
      if (n > 0) got += (size_t) n;
    }
    if (got < o->len) {
      free(o);
      send_error(a, r->conn, 507, SRV_ERR_STORAGE, "cannot read the archive of project %s", id);
    } else {
      o->status = 200;
      o->content_type = "application/octet-stream";
      a->sink.send(a->sink.ud, o);
    }
  }
  if (fd >= 0) close(fd);
  unlink(out);
}

/* ---- Dispatch ----------------------------------------------------------------- */

static bool under(const char *path, const char *prefix) {
  size_t n = strlen(prefix);
  return strncmp(path, prefix, n) == 0 && (path[n] == 0 || path[n] == '/');
}

/* "/api/projects/ID/export": copies ID into id[PROTO_PROJECT_ID_MAX + 2]. */
static bool export_route(const char *path, char *id) {
  const char *rest;
  return segment(path, "/api/projects/", id, PROTO_PROJECT_ID_MAX + 2, &rest) &&
         strcmp(rest, "/export") == 0;
}

bool srv_assets_routes(const char *path) {
  char id[PROTO_PROJECT_ID_MAX + 2];
  return under(path, "/api/assets") || under(path, "/api/uploads") || under(path, "/api/library") ||
         strcmp(path, "/api/projects/import") == 0 || export_route(path, id);
}

static void handle(srv_assets *a, srv_in *in) {
  req r = {.a = a, .in = in, .conn = in->conn, .method = in->method};
  const char *q = strchr(in->path, '?');
  size_t plen = q ? (size_t) (q - in->path) : strlen(in->path);
  snprintf(r.path, sizeof r.path, "%.*s", (int) plen, in->path);
  snprintf(r.query, sizeof r.query, "%s", q ? q + 1 : "");
  char id[PROTO_PROJECT_ID_MAX + 2];
  if (under(r.path, "/api/uploads")) {
    on_uploads(&r);
  } else if (under(r.path, "/api/assets")) {
    on_assets(&r);
  } else if (under(r.path, "/api/library")) {
    on_library(&r);
  } else if (strcmp(r.path, "/api/projects/import") == 0) {
    cJSON *body = cJSON_ParseWithLength((const char *) in->data, in->len);
    const char *up = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(body, "upload"));
    if (!is(&r, "POST"))
      send_error(a, r.conn, 405, SRV_ERR_METHOD, "use POST on /api/projects/import");
    else if (!up || !up[0] || strlen(up) > 64)
      send_error(a, r.conn, 400, SRV_ERR_BAD_REQUEST,
                 "expected {\"upload\": \"ID\"}: upload the archive first (POST /api/uploads)");
    else
      import_project(&r, up);
    cJSON_Delete(body);
  } else if (export_route(r.path, id)) {
    if (is(&r, "GET"))
      export_project(&r, id);
    else
      send_error(a, r.conn, 405, SRV_ERR_METHOD, "use GET on %s", r.path);
  } else {
    send_error(a, r.conn, 404, SRV_ERR_NO_ROUTE, "no route %s", r.path);
  }
}

/* ---- The thread --------------------------------------------------------------- */

static void *worker_main(void *arg) {
  srv_assets *a = arg;
  pthread_mutex_lock(&a->lock);
  while (!a->stop) {
    if (!a->head) {
      pthread_cond_wait(&a->wake, &a->lock);
      continue;
    }
    srv_in *in = a->head;
    a->head = in->next;
    if (!a->head) a->tail = NULL;
    pthread_mutex_unlock(&a->lock);
    handle(a, in);
    free(in);
    pthread_mutex_lock(&a->lock);
  }
  pthread_mutex_unlock(&a->lock);
  return NULL;
}

void srv_assets_post(srv_assets *a, srv_in *in) {
  if (!in) return;
  in->next = NULL;
  pthread_mutex_lock(&a->lock);
  if (a->tail)
    a->tail->next = in;
  else
    a->head = in;
  a->tail = in;
  pthread_cond_signal(&a->wake);
  pthread_mutex_unlock(&a->lock);
}

static int remove_stale(void *ud, const sto_upload_status *up) {
  srv_assets *a = ud;
  if (sto_upload_remove(a->store, up->id) == STO_OK)
    fprintf(stderr, "backline: removed upload %s (%s), idle for a week\n", up->id, up->name);
  return 0;
}

/* Leftovers of exports interrupted by a crash: they are only copies. */
static void clear_exports(const char *data_dir) {
  char dir[600], path[900];
  snprintf(dir, sizeof dir, "%s/exports", data_dir);
  DIR *d = opendir(dir);
  struct dirent *e;
  while (d && (e = readdir(d)))
    if (e->d_name[0] != '.') snprintf(path, sizeof path, "%s/%s", dir, e->d_name), unlink(path);
  if (d) closedir(d);
}

int srv_assets_create(const srv_assets_config *cfg, srv_sink sink, srv_assets **out, char *err,
                      size_t err_len) {
  *out = NULL;
  srv_assets *a = calloc(1, sizeof *a);
  if (!a) return srv_set_err(err, err_len, "out of memory"), SRV_ERR_NOMEM;
  snprintf(a->data_dir, sizeof a->data_dir, "%s", cfg->data_dir);
  a->rate = cfg->project_rate ? cfg->project_rate : 48000;
  a->control = cfg->control;
  a->sink = sink;
  pthread_mutex_init(&a->lock, NULL);
  pthread_cond_init(&a->wake, NULL);
  char path[700], why[600];
  snprintf(path, sizeof path, "%s/assets", a->data_dir);
  int rc = sto_asset_store_open(path, &a->store, why, sizeof why);
  if (!rc) {
    snprintf(path, sizeof path, "%s/library.db", a->data_dir);
    rc = sto_library_open(path, &a->lib, why, sizeof why);
  }
  if (rc) {
    srv_set_err(err, err_len, "%s", why);
    srv_assets_destroy(a);
    return rc == STO_ERR_NOMEM ? SRV_ERR_NOMEM : SRV_ERR_STORAGE;
  }
  sto_upload_list(a->store, (int64_t) time(NULL) - STALE_UPLOAD_S, remove_stale, a);
  clear_exports(a->data_dir);
  if (pthread_create(&a->thread, NULL, worker_main, a) != 0) {
    srv_set_err(err, err_len, "cannot start the assets thread");
    srv_assets_destroy(a);
    return SRV_ERR_START;
  }
  a->running = true;
  *out = a;
  return 0;
}

void srv_assets_stop(srv_assets *a) {
  if (!a || !a->running) return;
  pthread_mutex_lock(&a->lock);
  a->stop = true;
  pthread_cond_signal(&a->wake);
  pthread_mutex_unlock(&a->lock);
  pthread_join(a->thread, NULL);
  a->running = false;
}

void srv_assets_destroy(srv_assets *a) {
  if (!a) return;
  srv_assets_stop(a);
  while (a->head) {
    srv_in *next = a->head->next;
    free(a->head);
    a->head = next;
  }
  sto_library_close(a->lib);
  sto_asset_close(a->store);
  pthread_mutex_destroy(&a->lock);
  pthread_cond_destroy(&a->wake);
  free(a);
}
