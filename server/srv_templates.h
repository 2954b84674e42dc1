/* srv_templates: project templates and device presets, for srv_rest's
 * routes; control thread only.
 *
 * A template is a library item (sto_library.h) of kind
 * STO_LIBRARY_PROJECT_TEMPLATE whose payload {"file": "NAME.backline"} names
 * a project file in DATA/templates: a copy of a project's committed file
 * made by srv__save_template. The control thread opens its own handle on
 * DATA/library.db for each of these requests (the assets worker holds
 * another; SQLite's WAL lets them share the file). Deleting the item
 * (DELETE /api/library/ID, srv_assets.c) deletes the file. */
#ifndef SRV_TEMPLATES_H
#define SRV_TEMPLATES_H

#include "server/srv_control_int.h"

#include <stddef.h>
#include <stdint.h>

/* POST /api/projects {"name": NAME, "template": TEMPLATE_ID}: a new project
 * called NAME (listed, like srv__create_project's), a copy of the
 * template's project. Nothing stays behind when the item is missing, is not
 * a template, or its file is gone, foreign or does not replay; err says which.
 * Possible errors: STO_ERR_NO_ITEM, STO_ERR_INVALID (not a usable
 * template), STO_ERR_NOT_PROJECT, STO_ERR_TOO_NEW, and those of
 * srv__create_project. */
int srv__project_from_template(srv_control *c, const char *name, int64_t template_id, project **out,
                               char *err, size_t err_len);

/* POST /api/projects/ID/template {"name": "...", "tags": [...]}: commits
 * P's open group, copies its file to DATA/templates and adds the library
 * item. Returns the JSON answer (malloc'd) and sets *status: 201 {"id",
 * "kind", "name"}, or 400/500/507 with {"code", "reason"}; a failure
 * leaves neither file nor item. */
char *srv__save_template(srv_control *c, project *p, srv_in *in, int *status);

/* Device presets: library items of kind STO_LIBRARY_PRESET whose payload is
 * {"device": KIND NAME, "params": {"pI": value, ...}}, values within the
 * device table's ranges (mdl_device.h). Applying one is the page's edit (one
 * transaction of sets through its model), so it is that user's undo step.
 *   POST /api/presets {"name", "device", "params", "tags"}: 201 {"id",
 *     "name", "tags", "device", "params", "created"}; 400 names what is wrong.
 *   GET /api/presets/DEVICE: 200 {"device", "presets": [...]} in library
 *     order; 404 for an unknown device kind.
 * Answers IN itself (srv__http_reply). */
void srv__on_presets(srv_control *c, srv_in *in);

#endif
