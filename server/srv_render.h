/* srv_render: offline renders of a project, for `backline render` and for
 * the studio's "Export WAV" (POST /api/projects/ID/render).
 *
 * srv_render_project is the one path from a model to a file: it describes
 * the model with srv_plan and hands the description to the engine's offline
 * renderer (eng_render.h). The command line calls it directly; the control
 * thread hands each export to the render worker instead, so that a long
 * render never holds up edits, the WebSocket or the audio thread.
 *
 * The worker is one thread with a short queue. It owns a copy of each
 * model it renders (the control thread goes on editing the original), has
 * its own srv_plan context (its own sample cache, read from the asset
 * store), writes the WAV to DATA/renders, reads it back into one answer and
 * deletes the file. Answers go straight to the sink: a render is a read,
 * so it needs no group commit.
 *
 * Threads: srv_render_project and srv_render_default_seconds on any non-RT
 * thread; srv_render_create/submit/destroy on one thread (the control
 * thread), which must not be the worker. */
#ifndef SRV_RENDER_H
#define SRV_RENDER_H

#include "engine/eng_render.h"
#include "server/srv_control.h"
#include "server/srv_plan.h"
#include "shared/mdl_project.h"

#include <stddef.h>
#include <stdint.h>

#define SRV_RENDER_RATE        48000 /* every render: 48 kHz stereo, 24-bit */
#define SRV_RENDER_MAX_SECONDS 600.0 /* longest export over REST (~170 MB of WAV) */
#define SRV_RENDER_TAIL        2.0   /* seconds after the last clip: reverb and release */
#define SRV_RENDER_QUEUE       4     /* exports waiting or running at once */

/* ---- Rendering (any non-RT thread) --------------------------------------------- */

/* Renders M (borrowed during the call) with PLANS (its sample cache) to
 * PATH, as the options say, at SRV_RENDER_RATE. REPORT may be NULL.
 * On failure ERR gets one sentence and partial files may remain.
 * Possible errors: SRV_ERR_NOMEM, those of eng_render. */
int srv_render_project(srv_plan_ctx *plans, const mdl_project *m, const char *path,
                       const eng_render_opts *o, eng_render_report *report, char *err,
                       size_t err_len);

/* The length of an export when none is asked for: the end of the last
 * arrangement clip (through the tempo map) plus SRV_RENDER_TAIL, or 4 bars
 * of the project's tempo when there is no clip; at most
 * SRV_RENDER_MAX_SECONDS. Allocates (a list of clip ids, freed on return). */
double srv_render_default_seconds(const mdl_project *m);

/* ---- The export worker (control thread) ----------------------------------------- */

typedef struct srv_render srv_render;

/* Starts the worker. DATA_DIR holds assets/ (read) and renders/ (its
 * scratch files, emptied now); answers go to SINK (thread-safe).
 * Possible errors: SRV_ERR_NOMEM, SRV_ERR_START (ERR says why). */
int srv_render_create(const char *data_dir, srv_sink sink, srv_render **out, char *err,
                      size_t err_len);

/* What an export asks for. */
typedef struct srv_render_request {
  uint64_t conn;       /* who gets the answer */
  const char *project; /* the project's id (for the report) */
  const char *name;    /* its name, for the log line */
  const char *token;   /* the client's name for this export ([A-Za-z0-9_-]{1,32}), or NULL */
  double seconds;      /* length, (0, SRV_RENDER_MAX_SECONDS] */
} srv_render_request;

/* Queues an export of MODEL (owned by the worker from now on, even when
 * this fails) as REQ says (copied): answered 200 audio/wav with the file's
 * bytes, or {"code", "reason"}: 507 when the file cannot be written or
 * read back, 500 when the render fails otherwise. Returns 0, or
 * SRV_ERR_BUSY when SRV_RENDER_QUEUE exports are already waiting (ERR says
 * so). */
int srv_render_submit(srv_render *r, const srv_render_request *req, mdl_project *model, char *err,
                      size_t err_len);

/* The report of a finished export that was given TOKEN, of PROJECT: its
 * length and loudness. The worker keeps the last SRV_RENDER_REPORTS.
 * Returns 0, or SRV_ERR_NO_ROUTE when there is none (r may be NULL). */
#define SRV_RENDER_REPORTS 32
int srv_render_report_of(srv_render *r, const char *project, const char *token, double *seconds,
                         eng_render_report *out);

/* Lets the render in progress finish (its answer is still sent), drops the
 * queued ones and joins the thread. NULL ok. */
void srv_render_destroy(srv_render *r);

#endif
