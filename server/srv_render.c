/* srv_render: offline renders for `backline render` and the studio's
 * export, and the worker thread that runs exports (see srv_render.h). */
#include "server/srv_render.h"
#include "engine/eng_err.h"
#include "protocol/proto_msg.h"
#include "server/srv_err.h"
#include "shared/mdl_time.h"

#include <cjson/cJSON.h>
#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* ---- Rendering ---------------------------------------------------------------- */

int srv_render_project(srv_plan_ctx *plans, const mdl_project *m, const char *path,
                       const eng_render_opts *o, eng_render_report *report, char *err,
                       size_t err_len) {
  srv_plan_desc *pd = NULL;
  const eng_plan_desc *d = NULL;
  int rc = plans ? srv_plan_describe(plans, m, SRV_RENDER_RATE, &pd, &d) : SRV_ERR_NOMEM;
  if (rc) {
    if (report) memset(report, 0, sizeof *report);
    srv_set_err(err, err_len, "out of memory");
    return rc;
  }
  rc = eng_render(d, path, o, report, err, err_len); /* subnormals flushed (eng_dsp_int.h) */
  srv_plan_desc_free(pd);
  return rc;
}

double srv_render_default_seconds(const mdl_project *m) {
  mdl_time_map map; /* ~10 KB: fine on the control and main threads' stacks */
  mdl_time_map_build(m, &map);
  uint32_t n = mdl_all(m, MDL_TYPE_CLIP, NULL, 0);
  mdl_id *clips = n ? malloc(n * sizeof *clips) : NULL;
  int64_t end = -1;
  n = clips ? mdl_all(m, MDL_TYPE_CLIP, clips, n) : 0;
  for (uint32_t i = 0; i < n; i++) {
    if (mdl_type_of(m, mdl_parent_of(m, clips[i])) != MDL_TYPE_TRACK) continue; /* a slot's */
    int64_t e =
        mdl_get_int(m, clips[i], MDL_PROP_START) + mdl_get_int(m, clips[i], MDL_PROP_LENGTH);
    if (e > end) end = e;
  }
  free(clips);
  double s = end >= 0 ? mdl_time_seconds(&map, end) + SRV_RENDER_TAIL
                      : mdl_time_seconds(&map, mdl_time_bar_tick(&map, 4));
  if (!(s > 0)) s = 1.0;
  return s > SRV_RENDER_MAX_SECONDS ? SRV_RENDER_MAX_SECONDS : s;
}

/* ---- The export worker ---------------------------------------------------------- */

typedef struct job {
  struct job *next;
  uint64_t conn;
  mdl_project *model; /* owned */
  double seconds;
  char name[80];
  char project[PROTO_PROJECT_ID_MAX + 1];
  char token[33];
} job;

typedef struct report {
  char project[PROTO_PROJECT_ID_MAX + 1]; /* "" = free */
  char token[33];
  double seconds;
  eng_render_report rep;
} report;

struct srv_render {
  char data_dir[512];
  srv_sink sink;
  srv_plan_ctx *plans; /* the worker's own sample cache */
  pthread_t thread;
  pthread_mutex_t lock; /* guards the queue and stop */
  pthread_cond_t wake;
  job *head, *tail;
  size_t n_jobs; /* queued + the one running */
  bool stop;
  report reports[SRV_RENDER_REPORTS]; /* a ring, guarded by lock */
  size_t next_report;
};

static void reply_error(srv_render *r, uint64_t conn, int status, int code, const char *reason) {
  cJSON *o = cJSON_CreateObject();
  cJSON_AddNumberToObject(o, "code", code);
  cJSON_AddStringToObject(o, "reason", reason);
  char *s = cJSON_PrintUnformatted(o);
  cJSON_Delete(o);
  srv_out *out = s ? srv_out_new(SRV_OUT_HTTP, conn, s, strlen(s)) : NULL;
  free(s);
  if (!out) return;
  out->status = status;
  out->content_type = "application/json";
  r->sink.send(r->sink.ud, out);
}

/* Reads PATH whole into an answer for CONN; NULL with ERR on failure. */
static srv_out *read_answer(const char *path, uint64_t conn, char *err, size_t err_len) {
  FILE *f = fopen(path, "rb");
  struct stat st;
  srv_out *o = NULL;
  if (f && fstat(fileno(f), &st) == 0 && st.st_size > 0)
    o = srv_out_new(SRV_OUT_HTTP, conn, NULL, (size_t) st.st_size);
  if (o && fread(o->buf + SRV_OUT_PRE, 1, o->len, f) != o->len) free(o), o = NULL;
  if (!o) srv_set_err(err, err_len, "cannot read the rendered file %s: %s", path, strerror(errno));
  if (f) fclose(f);
  return o;
}

static void run_job(srv_render *r, job *j) {
  char path[700], err[600];
  snprintf(path, sizeof path, "%s/renders/export-%llu.wav", r->data_dir,
           (unsigned long long) j->conn);
  eng_render_opts o = eng_render_opts_default();
  o.seconds = j->seconds;
  o.format = ENG_RENDER_WAV;
  eng_render_report rep;
  int rc = srv_render_project(r->plans, j->model, path, &o, &rep, err, sizeof err);
  srv_out *out = rc ? NULL : read_answer(path, j->conn, err, sizeof err);
  unlink(path);
  if (!out) {
    fprintf(stderr, "backline: export of \"%s\" failed: %s\n", j->name, err);
    char why[700];
    snprintf(why, sizeof why, "the project could not be rendered: %s", err);
    /* A file that cannot be written or read back is storage's fault (507);
     * anything else is a failed render (500). */
    reply_error(r, j->conn, !rc || rc == ENG_ERR_IO ? 507 : 500, rc ? rc : SRV_ERR_STORAGE, why);
    return;
  }
  printf("export: \"%s\", %.2f s at %d Hz: %.1f LUFS integrated, true peak %.1f dBTP\n", j->name,
         j->seconds, SRV_RENDER_RATE, rep.loudness_lufs, rep.true_peak_dbtp);
  if (j->token[0]) {
    pthread_mutex_lock(&r->lock);
    report *slot = &r->reports[r->next_report++ % SRV_RENDER_REPORTS];
    memcpy(slot->project, j->project, sizeof slot->project);
    memcpy(slot->token, j->token, sizeof slot->token);
    slot->seconds = j->seconds;
    slot->rep = rep;
    pthread_mutex_unlock(&r->lock);
  }
  out->status = 200;
  out->content_type = "audio/wav";
  r->sink.send(r->sink.ud, out);
}

static void *worker_main(void *arg) {
  srv_render *r = arg;
  pthread_mutex_lock(&r->lock);
  for (;;) {
    while (!r->head && !r->stop)
      pthread_cond_wait(&r->wake, &r->lock);
    if (r->stop) break;
    job *j = r->head;
    r->head = j->next;
    if (!r->head) r->tail = NULL;
    pthread_mutex_unlock(&r->lock);
    run_job(r, j);
    mdl_project_destroy(j->model);
    free(j);
    pthread_mutex_lock(&r->lock);
    r->n_jobs--;
  }
  pthread_mutex_unlock(&r->lock);
  return NULL;
}

/* Scratch files of exports interrupted by a crash. */
static void clear_renders(const char *dir) {
  DIR *d = opendir(dir);
  struct dirent *e;
  char path[1200];
  while (d && (e = readdir(d))) {
    size_t n = strlen(e->d_name);
    if (strncmp(e->d_name, "export-", 7) != 0 || n < 4 || strcmp(e->d_name + n - 4, ".wav") != 0)
      continue;
    snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
    unlink(path);
  }
  if (d) closedir(d);
}

int srv_render_create(const char *data_dir, srv_sink sink, srv_render **out, char *err,
                      size_t err_len) {
  *out = NULL;
  srv_render *r = calloc(1, sizeof *r);
  char dir[700];
  if (!r) return srv_set_err(err, err_len, "out of memory"), SRV_ERR_NOMEM;
  snprintf(r->data_dir, sizeof r->data_dir, "%s", data_dir);
  r->sink = sink;
  snprintf(dir, sizeof dir, "%s/assets", data_dir);
  r->plans = srv_plan_ctx_create(dir);
  if (!r->plans) return free(r), srv_set_err(err, err_len, "out of memory"), SRV_ERR_NOMEM;
  snprintf(dir, sizeof dir, "%s/renders", data_dir);
  if (mkdir(dir, 0755) && errno != EEXIST) {
    srv_set_err(err, err_len, "cannot create %s: %s", dir, strerror(errno));
    srv_plan_ctx_destroy(r->plans);
    free(r);
    return SRV_ERR_STORAGE;
  }
  clear_renders(dir);
  pthread_mutex_init(&r->lock, NULL);
  pthread_cond_init(&r->wake, NULL);
  if (pthread_create(&r->thread, NULL, worker_main, r) != 0) {
    srv_set_err(err, err_len, "cannot start the render thread");
    pthread_mutex_destroy(&r->lock);
    pthread_cond_destroy(&r->wake);
    srv_plan_ctx_destroy(r->plans);
    free(r);
    return SRV_ERR_START;
  }
  *out = r;
  return 0;
}

int srv_render_submit(srv_render *r, const srv_render_request *req, mdl_project *model, char *err,
                      size_t err_len) {
  job *j = calloc(1, sizeof *j);
  if (!j) {
    mdl_project_destroy(model);
    return srv_set_err(err, err_len, "out of memory"), SRV_ERR_NOMEM;
  }
  *j = (job){.conn = req->conn, .model = model, .seconds = req->seconds};
  snprintf(j->name, sizeof j->name, "%s", req->name ? req->name : "");
  snprintf(j->project, sizeof j->project, "%s", req->project ? req->project : "");
  snprintf(j->token, sizeof j->token, "%s", req->token ? req->token : "");
  pthread_mutex_lock(&r->lock);
  if (r->n_jobs >= SRV_RENDER_QUEUE) {
    pthread_mutex_unlock(&r->lock);
    mdl_project_destroy(model);
    free(j);
    return srv_set_err(err, err_len,
                       "%d exports are already being rendered; try again when one is done",
                       SRV_RENDER_QUEUE),
           SRV_ERR_BUSY;
  }
  if (r->tail)
    r->tail->next = j;
  else
    r->head = j;
  r->tail = j;
  r->n_jobs++;
  pthread_cond_signal(&r->wake);
  pthread_mutex_unlock(&r->lock);
  return 0;
}

int srv_render_report_of(srv_render *r, const char *project, const char *token, double *seconds,
                         eng_render_report *out) {
  int rc = SRV_ERR_NO_ROUTE;
  if (!r || !token || !token[0]) return rc;
  pthread_mutex_lock(&r->lock);
  for (size_t i = 0; i < SRV_RENDER_REPORTS; i++) {
    const report *p = &r->reports[i];
    if (p->project[0] && strcmp(p->project, project) == 0 && strcmp(p->token, token) == 0) {
      *seconds = p->seconds, *out = p->rep, rc = 0;
      break;
    }
  }
  pthread_mutex_unlock(&r->lock);
  return rc;
}

void srv_render_destroy(srv_render *r) {
  if (!r) return;
  pthread_mutex_lock(&r->lock);
  r->stop = true;
  pthread_cond_signal(&r->wake);
  pthread_mutex_unlock(&r->lock);
  pthread_join(r->thread, NULL);
  while (r->head) {
    job *next = r->head->next;
    mdl_project_destroy(r->head->model);
    free(r->head);
    r->head = next;
  }
  pthread_mutex_destroy(&r->lock);
  pthread_cond_destroy(&r->wake);
  srv_plan_ctx_destroy(r->plans);
  free(r);
}
