/* srv_plan: what the engine plays, described from the project model.
 *
 * The control thread calls srv_plan_build after every change that is heard;
 * it reads the model (tracks in display order, their devices and
 * parameters, sends and routing, the arrangement's MIDI and audio clips,
 * through the tempo map) and compiles an eng_plan. Audio clips need their
 * asset's samples: they are read from the asset store once, at the
 * engine's rate, and kept in a cache that the plans borrow from (a plan
 * lets go of them when the engine frees it: eng_plan_desc.on_free).
 *
 * Session clips (in scenes' slots) go into the plan as slots the engine
 * launches on command (LAUNCH); automation lanes as breakpoint curves;
 * sampler zones with their assets' samples. Not played yet: tempo changes
 * for the metronome (notes, clips and automation follow the tempo map; the
 * click keeps the project's base tempo), scene tempos and follow actions,
 * audio clips in session slots.
 *
 * Threads: the control thread (or `backline render`), one context each. */
#ifndef SRV_PLAN_H
#define SRV_PLAN_H

#include "engine/eng_plan.h"
#include "shared/mdl_project.h"

typedef struct srv_plan_ctx srv_plan_ctx;

/* A value being dragged, heard before it is stored (LIVE messages). */
typedef struct srv_live_value {
  mdl_id id;
  uint8_t prop;
  double value;
} srv_live_value;

/* A context that reads samples from the asset store in ASSETS_DIR (NULL:
 * audio clips stay silent). Returns NULL when out of memory. */
srv_plan_ctx *srv_plan_ctx_create(const char *assets_dir);
/* Frees the context and its sample cache. Plans built from it must have
 * been freed first. NULL ok. */
void srv_plan_ctx_destroy(srv_plan_ctx *ctx);

/* Describes M (with the N_LIVE values in motion LIVE overriding the stored
 * ones) and compiles it at SAMPLE_RATE. On success *out is the new plan
 * (free with eng_plan_destroy or hand to the engine); WHY may hold a
 * warning (e.g. a clip whose asset is missing plays silence). On failure
 * *out is NULL and WHY says what was wrong. Possible errors: those of
 * eng_plan_compile, SRV_ERR_NOMEM. */
int srv_plan_build(srv_plan_ctx *ctx, const mdl_project *m, uint32_t sample_rate,
                   const srv_live_value *live, uint32_t n_live, eng_plan **out, char *why,
                   size_t why_len);

/* The instrument tracks (at most SRV_PLAN_LIVE_TRACKS of IDS) that later
 * plans built from CTX mark live, so that eng_engine_note plays them (notes
 * played by hand); the set replaces the previous one. */
#define SRV_PLAN_LIVE_TRACKS 8
void srv_plan_live_tracks(srv_plan_ctx *ctx, const mdl_id *ids, uint32_t n);

/* Where device object DEVICE plays in the plan the last successful
 * srv_plan_build made from CTX: its track and its slot (0 = instrument,
 * 1 + i = effect i), as eng_engine_set_param takes them. False when that
 * plan does not play it (bypassed devices are in the plan; devices past the
 * engine's limits are not). */
bool srv_plan_device_slot(const srv_plan_ctx *ctx, mdl_id device, mdl_id *track_id, uint32_t *slot);

/* Describes M into *out for an offline render; the description and its
 * arrays stay valid until srv_plan_desc_free. Returns 0 or SRV_ERR_NOMEM. */
typedef struct srv_plan_desc srv_plan_desc;
int srv_plan_describe(srv_plan_ctx *ctx, const mdl_project *m, uint32_t sample_rate,
                      srv_plan_desc **out, const eng_plan_desc **desc);
void srv_plan_desc_free(srv_plan_desc *d); /* NULL ok */

#endif
