/* srv_rest: the REST routes of the control thread (see srv_control_int.h):
 * projects, transactions in JSON, transport, and the project lifecycle
 * (duplicate, trash, restore, delete, import). Answers go out through the
 * same deferred path as WebSocket answers, after the batch's group commit.
 * Runs on the control thread only. */
#include "server/srv_control_int.h"
#include "protocol/proto_err.h"
#include "protocol/proto_json.h"
#include "server/srv_err.h"
#include "shared/mdl_err.h"
#include "server/srv_render.h"
#include "server/srv_templates.h"
#include "storage/sto_err.h"

#include <cjson/cJSON.h>
#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* ---- REST --------------------------------------------------------------------- */

static int status_for(int code) {
  if (code == SRV_ERR_NO_PROJECT || code == SRV_ERR_NO_ROUTE) return 404;
  if (code == SRV_ERR_METHOD) return 405;
  if (code == SRV_ERR_TOO_BIG || code == PROTO_ERR_TOO_BIG) return 413;
  if (code == SRV_ERR_STORAGE || code == STO_ERR_IO) return 507;
  if (code == STO_ERR_NO_ITEM) return 404;
  if (code == STO_ERR_NOT_PROJECT || code == STO_ERR_TOO_NEW || code == STO_ERR_INVALID)
    return 422;                                /* a library item that is no usable template */
  if (code <= -200 && code > -300) return 422; /* the model refused it */
  return 400;
}

static char *project_list_json(srv_control *c) {
  cJSON *o = cJSON_CreateObject(), *arr = cJSON_AddArrayToObject(o, "projects");
  for (size_t i = 0; i < c->n_projects; i++) {
    project *p = c->projects[i];
    char hex[17];
    mdl_hash_hex(mdl_project_hash(p->model), hex);
    cJSON *j = cJSON_CreateObject();
    cJSON_AddStringToObject(j, "id", p->id);
    cJSON_AddStringToObject(j, "name", mdl_get_str(p->model, MDL_ID_PROJECT, MDL_PROP_NAME, NULL));
    cJSON_AddNumberToObject(j, "seq", (double) p->seq);
    cJSON_AddStringToObject(j, "hash", hex);
    cJSON_AddNumberToObject(j, "tracks", mdl_tracks(p->model, NULL, 0));
    cJSON_AddItemToArray(arr, j);
  }
  char *s = cJSON_PrintUnformatted(o);
  cJSON_Delete(o);
  return s;
}

static char *rest_ops(srv_control *c, project *p, srv_in *in, int *status, uint64_t *seq_out) {
  char err[300];
  void *tree = NULL;
  mdl_txn txn;
  uint32_t origin = srv__take_client_id(p), counter = 1;
  if (!origin)
    return *status = 507,
           srv__json_error(SRV_ERR_STORAGE,
                           "the server could not save the edit (%s); nothing changed",
                           sto_project_last_error(p->sto));
  int rc = proto_json_parse_txn((const char *) in->data, in->len, origin, &counter, c->scratch,
                                &tree, &txn, err, sizeof err);
  if (rc) {
    proto_json_free(tree);
    atomic_fetch_add(&c->rejects, 1);
    return *status = status_for(rc), srv__json_error(rc, "%s", err);
  }
  mdl_fail fail;
  uint64_t seq;
  rc = srv__commit(c, p, &txn, origin, &fail, &seq);
  char *out;
  if (rc) {
    atomic_fetch_add(&c->rejects, 1);
    *status = status_for(rc);
    out = srv__json_error(rc, "%s", fail.reason);
  } else {
    *seq_out = seq;
    c->tag = (deferred){.role = ROLE_BROADCAST, .p = p, .seq = seq};
    srv__broadcast(c, p, 0, origin, seq, &txn);
    c->tag = (deferred){0};
    cJSON *o = cJSON_CreateObject(), *ids = cJSON_AddArrayToObject(o, "ids");
    cJSON_AddNumberToObject(o, "seq", (double) seq);
    for (uint32_t i = 0; i < txn.n_ops; i++) {
      if (txn.ops[i].kind != MDL_OP_CREATE) continue;
      char id[17];
      proto_json_id(txn.ops[i].id, id);
      cJSON_AddItemToArray(ids, cJSON_CreateString(id));
    }
    out = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    *status = 200;
  }
  proto_json_free(tree);
  return out;
}

/* ---- Export: the project rendered to a WAV ---------------------------------- */

/* A client's name for an export: [A-Za-z0-9_-]{1,32}. */
static bool valid_token(const char *t) {
  size_t n = strspn(t, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-");
  return n >= 1 && n <= 32 && !t[n];
}

/* POST /api/projects/ID/render {"seconds": S, "token": T} (both optional):
 * hands a copy of P's model to the render worker, which answers the
 * request itself (200 audio/wav). Returns 0 when queued, else an error
 * answer in *out. */
static int start_render(srv_control *c, project *p, srv_in *in, int *status, char **out) {
  char err[600], token[33] = "";
  double seconds = srv_render_default_seconds(p->model);
  cJSON *body = in->len ? cJSON_ParseWithLength((const char *) in->data, in->len) : NULL;
  const cJSON *s = cJSON_GetObjectItemCaseSensitive(body, "seconds");
  const cJSON *t = cJSON_GetObjectItemCaseSensitive(body, "token");
  int rc = 0;
  if ((in->len && !cJSON_IsObject(body)) || (s && !cJSON_IsNumber(s)) ||
      (t && (!cJSON_IsString(t) || !valid_token(t->valuestring))))
    rc = SRV_ERR_BAD_REQUEST,
    snprintf(err, sizeof err,
             "expected {\"seconds\": S (optional, 0 < S <= %.0f), \"token\": up to 32 of "
             "[A-Za-z0-9_-] (optional)}",
             SRV_RENDER_MAX_SECONDS);
  else if (s && !(s->valuedouble > 0 && s->valuedouble <= SRV_RENDER_MAX_SECONDS))
    rc = SRV_ERR_BAD_REQUEST,
    snprintf(err, sizeof err, "seconds must be more than 0 and at most %.0f, not %g",
             SRV_RENDER_MAX_SECONDS, s->valuedouble);
  else if (s)
    seconds = s->valuedouble;
  if (!rc && t) snprintf(token, sizeof token, "%s", t->valuestring);
  cJSON_Delete(body);
  if (!rc && !c->render) rc = srv_render_create(c->data_dir, c->sink, &c->render, err, sizeof err);
  mdl_project *copy = rc ? NULL : mdl_project_create(&srv__alloc, NULL);
  if (!rc && (!copy || mdl_project_copy(copy, p->model)))
    rc = SRV_ERR_NOMEM, snprintf(err, sizeof err, "out of memory");
  srv_render_request req = {.conn = in->conn,
                            .project = p->id,
                            .name = mdl_get_str(p->model, MDL_ID_PROJECT, MDL_PROP_NAME, NULL),
                            .token = token[0] ? token : NULL,
                            .seconds = seconds};
  if (!rc)
    rc = srv_render_submit(c->render, &req, copy, err, sizeof err);
  else
    mdl_project_destroy(copy);
  if (rc) {
    *status = rc == SRV_ERR_BUSY ? 503 : rc == SRV_ERR_NOMEM ? 500 : status_for(rc);
    *out = srv__json_error(rc, "%s", err);
  }
  return rc;
}

/* A figure in dB or LUFS for JSON: null for silence (-inf). */
static void add_db(cJSON *o, const char *key, double v) {
  if (isfinite(v))
    cJSON_AddNumberToObject(o, key, round(v * 100) / 100);
  else
    cJSON_AddNullToObject(o, key);
}

/* GET /api/projects/ID/render/TOKEN: the report of that finished export. */
static char *render_report(srv_control *c, project *p, const char *token, int *status) {
  double seconds;
  eng_render_report rep;
  if (!valid_token(token) || srv_render_report_of(c->render, p->id, token, &seconds, &rep))
    return *status = 404, srv__json_error(SRV_ERR_NO_ROUTE,
                                          "no finished export \"%.32s\" of this project (the "
                                          "server keeps the last %d)",
                                          token, SRV_RENDER_REPORTS);
  cJSON *o = cJSON_CreateObject();
  cJSON_AddNumberToObject(o, "seconds", seconds);
  cJSON_AddNumberToObject(o, "frames", (double) rep.frames);
  cJSON_AddNumberToObject(o, "rate", SRV_RENDER_RATE);
  cJSON_AddNumberToObject(o, "channels", 2);
  cJSON_AddNumberToObject(o, "bits", 24);
  add_db(o, "loudness_lufs", rep.loudness_lufs);
  add_db(o, "true_peak_dbtp", rep.true_peak_dbtp);
  add_db(o, "sample_peak_dbfs", rep.sample_peak_dbfs);
  char *s = cJSON_PrintUnformatted(o);
  cJSON_Delete(o);
  *status = 200;
  return s;
}

/* ---- Project lifecycle: duplicate, trash, restore, delete -------------------- */

static char *id_json(const char *key, const char *value) {
  cJSON *o = cJSON_CreateObject();
  cJSON_AddStringToObject(o, key, value);
  char *s = cJSON_PrintUnformatted(o);
  cJSON_Delete(o);
  return s;
}

static void file_paths(srv_control *c, const char *folder, const char *id, char path[700]) {
  snprintf(path, 700, "%s/%s/%s.backline", c->data_dir, folder, id);
}

/* Moves P to DATA/trash: its clients are closed, the engine lets go of it,
 * and the file keeps everything, so it can be restored. */
static int trash_project(srv_control *c, project *p, char *err, size_t err_len) {
  char from[700], to[700], dir[600];
  snprintf(dir, sizeof dir, "%s/trash", c->data_dir);
  if (mkdir(dir, 0755) && errno != EEXIST)
    return srv_set_err(err, err_len, "cannot create %s: %s", dir, strerror(errno)), SRV_ERR_STORAGE;
  srv__commit_now(c, p);
  sto_project_set_meta_int(p->sto, "trashed", (int64_t) time(NULL));
  file_paths(c, "projects", p->id, from);
  file_paths(c, "trash", p->id, to);
  for (size_t i = 0; i < MAX_CLIENTS; i++) {
    client *cl = &c->clients[i];
    if (!cl->conn || cl->proj != p) continue;
    static const char why[] = "the project was moved to the trash";
    srv_out *o = srv_out_new(SRV_OUT_CLOSE, cl->conn, why, sizeof why - 1);
    if (o) o->status = 1001, srv__emit(c, o);
    cl->proj = NULL; /* no more traffic for it; the close frees the slot */
  }
  if (c->playing == p) {
    if (c->engine) eng_engine_set_playing(c->engine, false);
    c->playing = NULL;
  }
  size_t k = 0;
  while (c->projects[k] != p)
    k++;
  memmove(&c->projects[k], &c->projects[k + 1], (c->n_projects - k - 1) * sizeof c->projects[0]);
  c->n_projects--;
  atomic_store(&c->n_projects_pub, c->n_projects);
  for (size_t i = 0; i < c->n_deferred; i++) /* committed above: nothing to take back */
    if (c->deferred[i].p == p) c->deferred[i].p = NULL;
  sto_project_close(p->sto); /* checkpoints the WAL into the file */
  p->sto = NULL;
  srv__project_free(p);
  if (rename(from, to) != 0)
    return srv_set_err(err, err_len, "cannot move %s to the trash: %s", from, strerror(errno)),
           SRV_ERR_STORAGE;
  if (!c->playing && c->n_projects) c->playing = c->projects[0], srv__update_plan(c);
  return 0;
}

static char *trash_list_json(srv_control *c) {
  char dir[600];
  snprintf(dir, sizeof dir, "%s/trash", c->data_dir);
  cJSON *o = cJSON_CreateObject(), *arr = cJSON_AddArrayToObject(o, "trash");
  DIR *d = opendir(dir);
  struct dirent *e;
  mdl_project *m = mdl_project_create(&srv__alloc, NULL);
  while (d && m && (e = readdir(d))) {
    size_t n = strlen(e->d_name);
    if (n <= 9 || strcmp(e->d_name + n - 9, ".backline") != 0 ||
        !srv__valid_project_id(e->d_name, n - 9))
      continue;
    char path[700], err[600], id[PROTO_PROJECT_ID_MAX + 1];
    snprintf(id, sizeof id, "%.*s", (int) (n - 9), e->d_name);
    file_paths(c, "trash", id, path);
    sto_project *sp;
    uint64_t seq;
    if (sto_project_open(path, STO_OPEN_EXISTING, &sp, err, sizeof err)) continue;
    if (sto_project_load_model(sp, m, &seq, err, sizeof err) == 0) {
      cJSON *j = cJSON_CreateObject();
      cJSON_AddStringToObject(j, "id", id);
      cJSON_AddStringToObject(j, "name", mdl_get_str(m, MDL_ID_PROJECT, MDL_PROP_NAME, NULL));
      cJSON_AddNumberToObject(j, "trashed", (double) sto_project_meta_int(sp, "trashed", 0));
      cJSON_AddItemToArray(arr, j);
    }
    sto_project_close(sp);
  }
  if (d) closedir(d);
  mdl_project_destroy(m);
  char *s = cJSON_PrintUnformatted(o);
  cJSON_Delete(o);
  return s;
}

/* /api/trash/ID/restore (POST) and /api/trash/ID (DELETE). */
static void on_trash(srv_control *c, srv_in *in, const char *rest) {
  const char *slash = strchr(rest, '/');
  size_t id_len = slash ? (size_t) (slash - rest) : strlen(rest);
  char id[PROTO_PROJECT_ID_MAX + 1], from[700], to[700], err[600];
  if (!srv__valid_project_id(rest, id_len)) {
    srv__http_reply(c, in->conn, 404,
                    srv__json_error(SRV_ERR_NO_PROJECT, "no such project in the trash"));
    return;
  }
  snprintf(id, sizeof id, "%.*s", (int) id_len, rest);
  file_paths(c, "trash", id, from);
  file_paths(c, "projects", id, to);
  if (access(from, F_OK) != 0) {
    srv__http_reply(c, in->conn, 404,
                    srv__json_error(SRV_ERR_NO_PROJECT, "no project \"%s\" in the trash", id));
    return;
  }
  bool restore = slash && strcmp(slash, "/restore") == 0 && strcmp(in->method, "POST") == 0;
  if (!slash && strcmp(in->method, "DELETE") == 0) {
    char side[720];
    int rc = unlink(from);
    snprintf(side, sizeof side, "%s-wal", from), unlink(side);
    snprintf(side, sizeof side, "%s-shm", from), unlink(side);
    srv__http_reply(
        c, in->conn, rc ? 507 : 200,
        rc ? srv__json_error(SRV_ERR_STORAGE, "cannot delete %s: %s", from, strerror(errno))
           : id_json("deleted", id));
    return;
  }
  if (!restore) {
    srv__http_reply(c, in->conn, 405,
                    srv__json_error(SRV_ERR_METHOD, "use POST .../restore or DELETE"));
    return;
  }
  project *p;
  if (c->n_projects >= MAX_PROJECTS || srv__find_project(c, id, strlen(id)) ||
      access(to, F_OK) == 0) {
    srv__http_reply(c, in->conn, 409,
                    srv__json_error(SRV_ERR_BUSY, "a project \"%s\" is already open", id));
    return;
  }
  if (rename(from, to) != 0 || srv__project_open(c, id, false, &p, err, sizeof err)) {
    if (access(to, F_OK) == 0) rename(to, from);
    srv__http_reply(c, in->conn, 507, srv__json_error(SRV_ERR_STORAGE, "cannot restore %s", id));
    return;
  }
  memmove(&c->projects[1], &c->projects[0], c->n_projects * sizeof c->projects[0]);
  c->projects[0] = p;
  c->n_projects++;
  atomic_store(&c->n_projects_pub, c->n_projects);
  srv__http_reply(c, in->conn, 200, id_json("id", id));
}

void srv__on_http(srv_control *c, srv_in *in) {
  const char *path = in->path;
  bool get = strcmp(in->method, "GET") == 0, post = strcmp(in->method, "POST") == 0;
  int status = 200;
  char *out = NULL;
  if (strcmp(path, "/api/projects") == 0) {
    if (get) {
      out = project_list_json(c);
    } else if (post) {
      cJSON *body = cJSON_ParseWithLength((const char *) in->data, in->len);
      const cJSON *name = cJSON_GetObjectItemCaseSensitive(body, "name");
      const cJSON *tpl = cJSON_GetObjectItemCaseSensitive(body, "template");
      char err[600];
      project *p;
      int rc = SRV_ERR_BAD_REQUEST;
      if (!cJSON_IsString(name))
        snprintf(err, sizeof err, "expected {\"name\": \"...\", \"template\": ID (optional)}");
      else if (tpl && (!cJSON_IsNumber(tpl) || tpl->valuedouble < 1 ||
                       tpl->valuedouble != (double) (int64_t) tpl->valuedouble))
        snprintf(err, sizeof err, "template must be the id of a project template in the library");
      else if (!mdl_utf8_valid(name->valuestring, strlen(name->valuestring)) ||
               !name->valuestring[0] || strlen(name->valuestring) > MDL_NAME_MAX)
        snprintf(err, sizeof err, "a project name must be 1 to %d bytes of text", MDL_NAME_MAX),
            rc = MDL_ERR_RANGE;
      else if (tpl)
        rc = srv__project_from_template(c, name->valuestring, (int64_t) tpl->valuedouble, &p, err,
                                        sizeof err);
      else
        rc = srv__create_project(c, name->valuestring, NULL, &p, err, sizeof err);
      cJSON_Delete(body);
      if (rc) {
        status = status_for(rc);
        out = srv__json_error(rc, "%s", err);
      } else {
        status = 201;
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "id", p->id);
        out = cJSON_PrintUnformatted(o);
        cJSON_Delete(o);
      }
    } else {
      status = 405, out = srv__json_error(SRV_ERR_METHOD, "use GET or POST on /api/projects");
    }
    srv__http_reply(c, in->conn, status, out);
    return;
  }
  const char *prefix = "/api/projects/";
  if (strncmp(path, prefix, strlen(prefix)) == 0) {
    const char *id = path + strlen(prefix);
    const char *rest = strchr(id, '/');
    size_t id_len = rest ? (size_t) (rest - id) : strlen(id);
    rest = rest ? rest : "";
    project *p = srv__valid_project_id(id, id_len) ? srv__find_project(c, id, id_len) : NULL;
    if (!p) {
      srv__http_reply(c, in->conn, 404,
                      srv__json_error(SRV_ERR_NO_PROJECT, "no project \"%.*s\" in this studio",
                                      (int) (id_len > 64 ? 64 : id_len), id));
      return;
    }
    if (!*rest && get) {
      out = proto_json_project(p->model, p->id, p->seq);
    } else if (strcmp(rest, "/state") == 0 && get) {
      char hex[17];
      mdl_hash_hex(mdl_project_hash(p->model), hex);
      cJSON *o = cJSON_CreateObject();
      cJSON_AddNumberToObject(o, "seq", (double) p->seq);
      cJSON_AddStringToObject(o, "hash", hex);
      out = cJSON_PrintUnformatted(o);
      cJSON_Delete(o);
    } else if (strcmp(rest, "/ops") == 0 && post) {
      uint64_t seq = 0;
      out = rest_ops(c, p, in, &status, &seq);
      if (seq) c->tag = (deferred){.role = ROLE_HTTP_OPS, .p = p, .seq = seq};
    } else if (strcmp(rest, "/duplicate") == 0 && post) {
      char name[MDL_NAME_MAX + 1], err[600];
      project *copy;
      snprintf(name, sizeof name, "%.57s (copy)",
               mdl_get_str(p->model, MDL_ID_PROJECT, MDL_PROP_NAME, NULL));
      while (!mdl_utf8_valid(name, strlen(name)))
        name[strlen(name) - 8] = 0; /* cut mid-character */
      int rc = srv__create_project(c, name, p, &copy, err, sizeof err);
      status = rc ? status_for(rc) : 201;
      out = rc ? srv__json_error(rc, "%s", err) : id_json("id", copy->id);
    } else if (strcmp(rest, "/template") == 0 && post) {
      out = srv__save_template(c, p, in, &status);
    } else if (strcmp(rest, "/render") == 0 && post) {
      if (start_render(c, p, in, &status, &out) == 0) return; /* the worker answers */
    } else if (strncmp(rest, "/render/", 8) == 0 && get) {
      out = render_report(c, p, rest + 8, &status);
    } else if (strcmp(rest, "/trash") == 0 && post) {
      char err[600];
      char id_copy[PROTO_PROJECT_ID_MAX + 1];
      snprintf(id_copy, sizeof id_copy, "%s", p->id);
      int rc = trash_project(c, p, err, sizeof err);
      status = rc ? status_for(rc) : 200;
      out = rc ? srv__json_error(rc, "%s", err) : id_json("trashed", id_copy);
    } else if (strcmp(rest, "/transport") == 0 && post) {
      cJSON *body = cJSON_ParseWithLength((const char *) in->data, in->len);
      const char *cmd = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(body, "command"));
      if (cmd && (strcmp(cmd, "play") == 0 || strcmp(cmd, "stop") == 0)) {
        srv__transport(c, p, cmd[1] == 'l');
        out = c->engine ? strdup("{\"ok\":true}")
                        : srv__json_error(SRV_ERR_START, "this server runs without audio");
        status = c->engine ? 200 : 503;
      } else {
        status = 400,
        out = srv__json_error(SRV_ERR_BAD_REQUEST, "expected {\"command\": \"play\" or \"stop\"}");
      }
      cJSON_Delete(body);
    } else if (!*rest || strcmp(rest, "/state") == 0 || strcmp(rest, "/ops") == 0 ||
               strcmp(rest, "/transport") == 0 || strcmp(rest, "/duplicate") == 0 ||
               strcmp(rest, "/trash") == 0 || strcmp(rest, "/template") == 0 ||
               strcmp(rest, "/render") == 0) {
      status = 405,
      out = srv__json_error(SRV_ERR_METHOD, "method %s is not allowed on %s", in->method, path);
    } else {
      status = 404, out = srv__json_error(SRV_ERR_NO_ROUTE, "no route %s", path);
    }
    srv__http_reply(c, in->conn, status, out);
    c->tag = (deferred){0};
    return;
  }
  if (strcmp(path, "/api/trash") == 0) {
    if (get)
      srv__http_reply(c, in->conn, 200, trash_list_json(c));
    else
      srv__http_reply(c, in->conn, 405, srv__json_error(SRV_ERR_METHOD, "use GET on /api/trash"));
    return;
  }
  if (strncmp(path, "/api/trash/", 11) == 0) {
    on_trash(c, in, path + 11);
    return;
  }
  if (strcmp(path, "/api/presets") == 0 || strncmp(path, "/api/presets/", 13) == 0) {
    srv__on_presets(c, in);
    return;
  }
  srv__http_reply(c, in->conn, 404, srv__json_error(SRV_ERR_NO_ROUTE, "no route %s", path));
}

/* ---- Imported projects (from srv_assets) ------------------------------------- */

/* srv_assets wrote DATA/projects/ID.backline from an archive (ID in
 * in->path) and posted SRV_IN_OPEN_PROJECT: open it, list it first, and
 * answer the import request 201 {"id","seq","hash"}. A file that cannot be
 * opened is removed, so that an import never leaves a project the list
 * does not show. */
void srv__open_imported(srv_control *c, srv_in *in) {
  const char *id = in->path;
  size_t id_len = strlen(id);
  char err[600];
  project *p = NULL;
  int rc;
  if (!srv__valid_project_id(id, id_len) || srv__find_project(c, id, id_len)) {
    srv__http_reply(c, in->conn, 409,
                    srv__json_error(SRV_ERR_BAD_REQUEST, "project id \"%.64s\" is in use", id));
    return;
  }
  if (c->n_projects >= MAX_PROJECTS)
    rc = SRV_ERR_BUSY,
    snprintf(err, sizeof err, "this studio holds at most %d projects", MAX_PROJECTS);
  else
    rc = srv__project_open(c, id, false, &p, err, sizeof err);
  if (rc) {
    char path[700], side[720];
    file_paths(c, "projects", id, path);
    unlink(path);
    snprintf(side, sizeof side, "%s-wal", path), unlink(side);
    snprintf(side, sizeof side, "%s-shm", path), unlink(side);
    srv__http_reply(c, in->conn, rc == SRV_ERR_BUSY ? 409 : 422, srv__json_error(rc, "%s", err));
    return;
  }
  p->created = (int64_t) time(NULL);
  sto_project_set_meta_int(p->sto, "created", p->created);
  memmove(&c->projects[1], &c->projects[0], c->n_projects * sizeof c->projects[0]);
  c->projects[0] = p;
  c->n_projects++;
  atomic_store(&c->n_projects_pub, c->n_projects);
  if (!c->playing) c->playing = p, srv__update_plan(c);
  char hex[17];
  mdl_hash_hex(mdl_project_hash(p->model), hex);
  cJSON *o = cJSON_CreateObject();
  cJSON_AddStringToObject(o, "id", p->id);
  cJSON_AddNumberToObject(o, "seq", (double) p->seq);
  cJSON_AddStringToObject(o, "hash", hex);
  srv__http_reply(c, in->conn, 201, cJSON_PrintUnformatted(o));
  cJSON_Delete(o);
}
