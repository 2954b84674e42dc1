/* srv_templates: project templates over REST, on the control thread (see
 * srv_templates.h). */
#include "server/srv_templates.h"
#include "server/srv_err.h"
#include "storage/sto_err.h"
#include "storage/sto_library.h"

#include <cjson/cJSON.h>
#include <errno.h>
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
