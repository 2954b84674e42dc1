/* srv_templates: project templates and device presets over REST, on the
 * control thread (see srv_templates.h). */
#include "server/srv_templates.h"
#include "server/srv_json.h"
#include "server/srv_err.h"
#include "shared/mdl_device.h"
#include "storage/sto_err.h"
#include "storage/sto_library.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

static int status_for(int code) {
  switch (code) {
    case SRV_ERR_NOMEM:
      return 500;
    case SRV_ERR_STORAGE:
    case STO_ERR_IO:
      return 507;
    default:
      return 400;
  }
}

#define TEMPLATE_FILE_KEY "file"

static int open_library(srv_control *c, sto_library **lib, char *err, size_t err_len) {
  char path[700];
  snprintf(path, sizeof path, "%s/library.db", c->data_dir);
  int rc = sto_library_open(path, lib, err, err_len);
  return rc == STO_ERR_NOMEM ? SRV_ERR_NOMEM : rc ? SRV_ERR_STORAGE : 0;
}

/* The path of ITEM's template file, or an error naming the item. */
static int template_path(srv_control *c, const sto_library_item *item, char path[700], char *err,
                         size_t err_len) {
  static const char *const kinds[] = {"", "preset", "sample", "project template", "groove"};
  if (item->kind != STO_LIBRARY_PROJECT_TEMPLATE)
    return srv_set_err(err, err_len, "library item %lld (%s) is a %s, not a project template",
                       (long long) item->id, item->name, kinds[item->kind % 5]),
           STO_ERR_INVALID;
  cJSON *payload = item->payload ? cJSON_Parse(item->payload) : NULL;
  const char *file =
      cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(payload, TEMPLATE_FILE_KEY));
  size_t n = file ? strlen(file) : 0;
  bool ok = n > 9 && strcmp(file + n - 9, ".backline") == 0 && srv__valid_project_id(file, n - 9);
  if (ok) snprintf(path, 700, "%s/templates/%s", c->data_dir, file);
  cJSON_Delete(payload);
  if (!ok)
    return srv_set_err(err, err_len,
                       "project template %lld (%s) holds no project: save one with POST "
                       "/api/projects/ID/template",
                       (long long) item->id, item->name),
           STO_ERR_INVALID;
  return 0;
}

/* A new project called NAME, a copy of template TEMPLATE_ID's project.
 * Nothing is left behind if the template is missing, foreign or does not
 * replay (srv__create_project removes its copy). */
int srv__project_from_template(srv_control *c, const char *name, int64_t template_id, project **out,
                               char *err, size_t err_len) {
  sto_library *lib;
  sto_library_item item;
  char path[700];
  int rc = open_library(c, &lib, err, err_len);
  if (rc) return rc;
  rc = sto_library_get(lib, template_id, &item);
  sto_library_close(lib);
  if (rc == STO_ERR_NO_ITEM)
    return srv_set_err(err, err_len, "no project template %lld in the library",
                       (long long) template_id),
           rc;
  if (rc) return srv_set_err(err, err_len, "the library could not be read"), SRV_ERR_STORAGE;
  rc = template_path(c, &item, path, err, err_len);
  sto_library_item_clear(&item);
  if (rc) return rc;
  /* srv__create_project copies the file of its source project, and uses
   * nothing else of it: a project that holds only the template's file. */
  project *source = calloc(1, sizeof *source);
  if (!source) return srv_set_err(err, err_len, "out of memory"), SRV_ERR_NOMEM;
  rc = sto_project_open(path, STO_OPEN_EXISTING, &source->sto, err, err_len);
  if (rc == STO_ERR_NOT_FOUND)
    srv_set_err(err, err_len, "project template %lld has lost its file %s", (long long) template_id,
                path);
  if (!rc) rc = srv__create_project(c, name, source, out, err, err_len);
  sto_project_close(source->sto);
  free(source);
  return rc == STO_ERR_NOT_FOUND ? STO_ERR_INVALID : rc;
}

/* Reads {"name": "...", "tags": [...]} for a template; 0 or fills err. */
static int template_request(const cJSON *body, const char **name, char ***tags, size_t *n_tags,
                            char *err, size_t err_len) {
  const cJSON *nm = cJSON_GetObjectItemCaseSensitive(body, "name");
  const cJSON *tl = cJSON_GetObjectItemCaseSensitive(body, "tags"), *t;
  *tags = NULL, *n_tags = 0;
  if (!cJSON_IsString(nm) || (tl && !cJSON_IsArray(tl)))
    return srv_set_err(err, err_len, "expected {\"name\": \"...\", \"tags\": [\"...\"]}"),
           SRV_ERR_BAD_REQUEST;
  *name = nm->valuestring;
  size_t n = tl ? (size_t) cJSON_GetArraySize(tl) : 0;
  if (n && !(*tags = calloc(n, sizeof **tags)))
    return srv_set_err(err, err_len, "out of memory"), SRV_ERR_NOMEM;
  cJSON_ArrayForEach(t, tl) {
    if (!cJSON_IsString(t))
      return srv_set_err(err, err_len, "tags must be an array of strings"), SRV_ERR_BAD_REQUEST;
    (*tags)[(*n_tags)++] = t->valuestring;
  }
  return 0;
}

/* Copies P's committed file to DATA/templates/FILE and adds the library
 * item naming it; *item_id gets its id. On failure nothing stays. */
static int store_template(srv_control *c, project *p, const sto_library_item *it, int64_t *item_id,
                          char *err, size_t err_len) {
  static const char alphabet[] = "abcdefghijkmnpqrstuvwxyz23456789";
  unsigned char rnd[10];
  char dir[600], file[32], path[700], payload[64];
  snprintf(dir, sizeof dir, "%s/templates", c->data_dir);
  if (mkdir(dir, 0755) && errno != EEXIST)
    return srv_set_err(err, err_len, "cannot create %s: %s", dir, strerror(errno)), SRV_ERR_STORAGE;
  if (getrandom(rnd, sizeof rnd, 0) != (ssize_t) sizeof rnd)
    return srv_set_err(err, err_len, "no randomness"), SRV_ERR_START;
  for (size_t i = 0; i < sizeof rnd; i++)
    file[i] = alphabet[rnd[i] % 32];
  snprintf(file + sizeof rnd, sizeof file - sizeof rnd, ".backline");
  snprintf(path, sizeof path, "%s/%s", dir, file);
  srv__commit_now(c, p);
  if (sto_project_copy(p->sto, path, err, err_len)) return SRV_ERR_STORAGE;
  snprintf(payload, sizeof payload, "{\"%s\":\"%s\"}", TEMPLATE_FILE_KEY, file);
  sto_library_item item = *it;
  item.payload = payload;
  sto_library *lib;
  int rc = open_library(c, &lib, err, err_len);
  if (!rc) rc = sto_library_add(lib, &item, item_id, err, err_len);
  sto_library_close(lib);
  if (rc) unlink(path);
  return rc;
}

/* POST /api/projects/ID/template {"name", "tags"}: 201 {"id", "kind", "name"}. */
char *srv__save_template(srv_control *c, project *p, srv_in *in, int *status) {
  cJSON *body = cJSON_ParseWithLength((const char *) in->data, in->len);
  sto_library_item it = {.kind = STO_LIBRARY_PROJECT_TEMPLATE};
  char err[600], *out;
  const char *name = NULL;
  int64_t item_id = 0;
  int rc = template_request(body, &name, &it.tags, &it.n_tags, err, sizeof err);
  it.name = (char *) name;
  if (!rc) rc = store_template(c, p, &it, &item_id, err, sizeof err);
  if (rc) {
    *status = status_for(rc);
    out = srv__json_error(rc, "%s", err);
  } else {
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "id", (double) item_id);
    cJSON_AddStringToObject(o, "kind", "template");
    cJSON_AddStringToObject(o, "name", name);
    out = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    *status = 201;
  }
  free(it.tags);
  cJSON_Delete(body);
  return out;
}

/* ---- Device presets ----------------------------------------------------------- */

#define PRESET_PAGE 500 /* library items read at once when listing */

/* The device kind called NAME ("eq"), or NULL. */
static const mdl_device_desc *device_named(const char *name) {
  int kinds[64];
  uint32_t n = mdl_device_kinds(kinds, 64);
  for (uint32_t i = 0; i < n && i < 64; i++) {
    const mdl_device_desc *d = mdl_device_describe(kinds[i]);
    if (d && name && strcmp(d->name, name) == 0) return d;
  }
  return NULL;
}

/* The payload of a preset for D: {"device": NAME, "params": {"pI": V, ...}}
 * from PARAMS (an object of "pI": number), checked against D's table. A
 * parameter left out keeps its value when the preset is applied. Returns
 * the JSON text (malloc'd) or NULL with ERR. */
static char *preset_payload(const mdl_device_desc *d, const cJSON *params, char *err,
                            size_t err_len) {
  if (!cJSON_IsObject(params) || !params->child)
    return srv_set_err(err, err_len, "params must be an object of \"pN\": value, not empty"), NULL;
  cJSON *o = cJSON_CreateObject(), *out = cJSON_AddObjectToObject(o, "params");
  cJSON_AddStringToObject(o, "device", d->name);
  const cJSON *p;
  cJSON_ArrayForEach(p, params) {
    char *end;
    long i = p->string && p->string[0] == 'p' ? strtol(p->string + 1, &end, 10) : -1;
    if (i < 0 || i >= d->n_params || *end || p->string[1] < '0' || p->string[1] > '9')
      return cJSON_Delete(o),
             srv_set_err(err, err_len, "%s has parameters p0 to p%d, not \"%.40s\"", d->name,
                         d->n_params - 1, p->string ? p->string : ""),
             NULL;
    const mdl_param_desc *pd = &d->params[i];
    if (!cJSON_IsNumber(p) || !isfinite(p->valuedouble) || p->valuedouble < pd->min ||
        p->valuedouble > pd->max)
      return cJSON_Delete(o),
             srv_set_err(err, err_len, "%s's %s (p%ld) must be a number from %g to %g", d->name,
                         pd->name, i, pd->min, pd->max),
             NULL;
    char key[8];
    snprintf(key, sizeof key, "p%ld", i); /* "p01" is stored as "p1" */
    cJSON_DeleteItemFromObjectCaseSensitive(out, key);
    cJSON_AddItemToObject(out, key, srv_json_exact_number(p->valuedouble));
  }
  char *s = cJSON_PrintUnformatted(o);
  cJSON_Delete(o);
  if (!s) srv_set_err(err, err_len, "out of memory");
  return s;
}

static cJSON *preset_json(const sto_library_item *it, cJSON *payload) {
  cJSON *o = cJSON_CreateObject(), *tags = cJSON_CreateArray();
  cJSON_AddNumberToObject(o, "id", (double) it->id);
  cJSON_AddStringToObject(o, "name", it->name);
  for (size_t i = 0; i < it->n_tags; i++)
    cJSON_AddItemToArray(tags, cJSON_CreateString(it->tags[i]));
  cJSON_AddItemToObject(o, "tags", tags);
  cJSON_AddStringToObject(o, "device",
                          cJSON_GetStringValue(cJSON_GetObjectItem(payload, "device")));
  cJSON *params = cJSON_AddObjectToObject(o, "params"), *p;
  cJSON_ArrayForEach(p, cJSON_GetObjectItem(payload, "params")) {
    if (cJSON_IsNumber(p))
      cJSON_AddItemToObject(params, p->string, srv_json_exact_number(p->valuedouble));
  }
  cJSON_AddNumberToObject(o, "created", (double) it->created);
  return o;
}

/* POST /api/presets {"name", "device", "params", "tags"}: 201 and the preset. */
static char *save_preset(srv_control *c, srv_in *in, int *status) {
  cJSON *body = cJSON_ParseWithLength((const char *) in->data, in->len);
  const cJSON *dev = cJSON_GetObjectItemCaseSensitive(body, "device");
  const mdl_device_desc *d = device_named(cJSON_GetStringValue(dev));
  sto_library_item it = {.kind = STO_LIBRARY_PRESET};
  const char *name = NULL;
  char err[600], *payload = NULL, *out = NULL;
  int64_t id = 0;
  int rc = template_request(body, &name, &it.tags, &it.n_tags, err, sizeof err);
  if (!rc && !cJSON_IsString(dev))
    rc = SRV_ERR_BAD_REQUEST, srv_set_err(err, sizeof err,
                                          "expected {\"name\": \"...\", \"device\": \"eq\", "
                                          "\"params\": {\"p0\": value, ...}, \"tags\": [...]}");
  else if (!rc && !d)
    rc = SRV_ERR_BAD_REQUEST,
    srv_set_err(err, sizeof err, "no device kind \"%.40s\"", dev->valuestring);
  if (!rc && !(payload = preset_payload(d, cJSON_GetObjectItemCaseSensitive(body, "params"), err,
                                        sizeof err)))
    rc = SRV_ERR_BAD_REQUEST;
  sto_library *lib = NULL;
  it.name = (char *) name;
  it.payload = payload;
  if (!rc) rc = open_library(c, &lib, err, sizeof err);
  if (!rc) rc = sto_library_add(lib, &it, &id, err, sizeof err);
  sto_library_item got = {0};
  if (!rc) rc = sto_library_get(lib, id, &got);
  sto_library_close(lib);
  if (rc) {
    *status = rc == STO_ERR_INVALID ? 400 : status_for(rc);
    out = srv__json_error(rc, "the preset was not saved: %s", err);
  } else {
    cJSON *pl = cJSON_Parse(got.payload);
    cJSON *o = preset_json(&got, pl);
    out = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    cJSON_Delete(pl);
    *status = 201;
  }
  sto_library_item_clear(&got);
  free(payload);
  free(it.tags);
  cJSON_Delete(body);
  return out;
}

/* GET /api/presets/DEVICE: {"device", "presets": [...]}, by name. */
static char *list_presets(srv_control *c, const char *device, int *status) {
  const mdl_device_desc *d = device_named(device);
  char err[600];
  if (!d)
    return *status = 404, srv__json_error(SRV_ERR_NO_ROUTE, "no device kind \"%.40s\"", device);
  sto_library *lib;
  int rc = open_library(c, &lib, err, sizeof err);
  if (rc) return *status = status_for(rc), srv__json_error(rc, "%s", err);
  cJSON *o = cJSON_CreateObject(), *arr = cJSON_AddArrayToObject(o, "presets");
  cJSON_AddStringToObject(o, "device", d->name);
  for (uint32_t offset = 0;; offset += PRESET_PAGE) {
    sto_library_query q = {.kind = STO_LIBRARY_PRESET, .limit = PRESET_PAGE, .offset = offset};
    sto_library_item *items;
    size_t n;
    if ((rc = sto_library_search(lib, &q, &items, &n))) break;
    for (size_t i = 0; i < n; i++) {
      cJSON *pl = items[i].payload ? cJSON_Parse(items[i].payload) : NULL;
      const char *dev = cJSON_GetStringValue(cJSON_GetObjectItem(pl, "device"));
      if (dev && strcmp(dev, d->name) == 0 && cJSON_IsObject(cJSON_GetObjectItem(pl, "params")))
        cJSON_AddItemToArray(arr, preset_json(&items[i], pl));
      cJSON_Delete(pl);
    }
    sto_library_items_free(items, n);
    if (n < PRESET_PAGE) break;
  }
  if (rc) {
    snprintf(err, sizeof err, "the library could not be read: %s", sto_library_last_error(lib));
    sto_library_close(lib);
    cJSON_Delete(o);
    return *status = 507, srv__json_error(SRV_ERR_STORAGE, "%s", err);
  }
  sto_library_close(lib);
  char *s = cJSON_PrintUnformatted(o);
  cJSON_Delete(o);
  *status = 200;
  return s;
}

void srv__on_presets(srv_control *c, srv_in *in) {
  const char *rest = in->path + strlen("/api/presets");
  bool get = strcmp(in->method, "GET") == 0, post = strcmp(in->method, "POST") == 0;
  int status = 405;
  char *out;
  if (!*rest && post)
    out = save_preset(c, in, &status);
  else if (rest[0] == '/' && rest[1] && !strchr(rest + 1, '/') && get)
    out = list_presets(c, rest + 1, &status);
  else if (!*rest)
    out = srv__json_error(SRV_ERR_METHOD, "use POST on /api/presets");
  else if (rest[0] == '/' && rest[1] && !strchr(rest + 1, '/'))
    out = srv__json_error(SRV_ERR_METHOD, "use GET on /api/presets/DEVICE");
  else
    status = 404, out = srv__json_error(SRV_ERR_NO_ROUTE, "no route %s", in->path);
  srv__http_reply(c, in->conn, status, out);
}
