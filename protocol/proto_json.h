/* proto_json: the JSON form of transactions and of the model, for REST.
 *
 * Native only (uses cJSON); the browser speaks the binary form. The JSON
 * form of a transaction is written down in PROTOCOL.md:
 *   {"ops": [{"op": "create", "type": "track", "props": {"name": "Bass"}},
 *            {"op": "set", "id": "ID", "prop": "gain", "value": 0.5},
 *            {"op": "move", "id": "ID", "after": "ID or null"},
 *            {"op": "delete", "id": "ID"}]}
 * Ids are lowercase hexadecimal strings; "project" names the project object.
 * No state; any thread. */
#ifndef PROTO_JSON_H
#define PROTO_JSON_H

#include "protocol/proto_msg.h"

/* Parses a JSON transaction of LEN bytes. New objects get ids in the id
 * space ORIGIN, counters taken from *next_counter (advanced). Ops borrow
 * strings from *tree, which the caller frees with proto_json_free after the
 * transaction is used. On failure writes one sentence into err.
 * Allocates (the parse tree). Possible errors: PROTO_ERR_BAD_JSON,
 * PROTO_ERR_RANGE, PROTO_ERR_TOO_BIG, MDL_ERR_BAD_PROP, MDL_ERR_BAD_VALUE,
 * MDL_ERR_BAD_TYPE, MDL_ERR_BAD_OP. */
int proto_json_parse_txn(const char *json, size_t len, uint32_t origin, uint32_t *next_counter,
                         proto_scratch *s, void **tree, mdl_txn *out, char *err, size_t err_len);
void proto_json_free(void *tree); /* NULL ok */

/* The whole model as JSON: {"id", "name", "tempo", "ts_num", "ts_den",
 * "metronome", "seq", "hash", "tracks": [{"id", "name", "colour", "gain",
 * "pan", "mute", "solo"}, ...]} in order. Returns a malloc'd string (free
 * with free()), or NULL when out of memory. */
char *proto_json_project(const mdl_project *p, const char *project_id, uint64_t seq);

/* Writes an id as lowercase hex ("project" for MDL_ID_PROJECT) into out[17]. */
void proto_json_id(mdl_id id, char out[17]);
/* Parses an id string; returns MDL_ID_NONE if it is not one. */
mdl_id proto_json_parse_id(const char *s);

#endif
