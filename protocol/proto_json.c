/* proto_json: JSON transactions and model dumps through cJSON. */
#include "protocol/proto_json.h"
#include "protocol/proto_err.h"
#include "shared/mdl_err.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void proto_json_id(mdl_id id, char out[17]) {
  if (id == MDL_ID_PROJECT)
    memcpy(out, "project", 8);
  else
    snprintf(out, 17, "%llx", (unsigned long long) id);
}

mdl_id proto_json_parse_id(const char *s) {
  if (!s) return MDL_ID_NONE;
  if (strcmp(s, "project") == 0) return MDL_ID_PROJECT;
  size_t n = strlen(s);
  if (n == 0 || n > 16) return MDL_ID_NONE;
  uint64_t v = 0;
  for (size_t i = 0; i < n; i++) {
    char c = s[i];
    int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
    if (d < 0) return MDL_ID_NONE;
    v = (v << 4) | (uint64_t) d;
  }
  return v;
}

static int fail(char *err, size_t err_len, int code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static int fail(char *err, size_t err_len, int code, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(err, err_len, fmt, ap);
  va_end(ap);
  return code;
}

/* An id: hex digits, "project", or "$N" for the object op N of this
 * transaction creates. */
static mdl_id parse_ref(const char *s, const mdl_op *ops, unsigned n_ops) {
  if (s && s[0] == '$') {
    char *end;
    unsigned long k = strtoul(s + 1, &end, 10);
    if (*end || end == s + 1 || k >= n_ops || ops[k].kind != MDL_OP_CREATE) return MDL_ID_NONE;
    return ops[k].id;
  }
  return proto_json_parse_id(s);
}

/* Converts a JSON value for property PROP into an mdl_value (borrowing). */
static int to_value(const cJSON *j, int prop, mdl_value *v, char *err, size_t err_len, unsigned i,
                    const mdl_op *ops) {
  const mdl_prop_info *info = mdl_prop_describe(prop);
  memset(v, 0, sizeof *v);
  switch (info->kind) {
    case MDL_VAL_ID:
      if (cJSON_IsNull(j) || (cJSON_IsNumber(j) && j->valuedouble == 0)) {
        v->kind = MDL_VAL_INT;
        return 0;
      }
      if (!cJSON_IsString(j)) break;
      v->kind = MDL_VAL_INT;
      v->u.i = (int64_t) parse_ref(j->valuestring, ops, i);
      if (!v->u.i) break;
      return 0;
    case MDL_VAL_STR:
      if (!cJSON_IsString(j)) break;
      v->kind = MDL_VAL_STR;
      v->u.s.ptr = j->valuestring;
      v->u.s.len = (uint32_t) strlen(j->valuestring);
      return 0;
    case MDL_VAL_BOOL:
      if (!cJSON_IsBool(j)) break;
      v->kind = MDL_VAL_BOOL;
      v->u.b = cJSON_IsTrue(j);
      return 0;
    case MDL_VAL_INT:
      if (!cJSON_IsNumber(j) || j->valuedouble != floor(j->valuedouble) ||
          fabs(j->valuedouble) > 9e15)
        break;
      v->kind = MDL_VAL_INT;
      v->u.i = (int64_t) j->valuedouble;
      return 0;
    default:
      if (!cJSON_IsNumber(j) || !isfinite(j->valuedouble)) break;
      v->kind = MDL_VAL_REAL;
      v->u.r = j->valuedouble;
      return 0;
  }
  static const char *kinds[] = {"",         "an integer",          "a number", "true or false",
                                "a string", "an id string or null"};
  return fail(err, err_len, MDL_ERR_BAD_VALUE, "op %u: %s must be %s", i, info->name,
              kinds[info->kind]);
}

static const char *str_field(const cJSON *o, const char *name) {
  const cJSON *j = cJSON_GetObjectItemCaseSensitive(o, name);
  return cJSON_IsString(j) ? j->valuestring : NULL;
}

int proto_json_parse_txn(const char *json, size_t len, uint32_t origin, uint32_t *next_counter,
                         proto_scratch *s, void **tree, mdl_txn *out, char *err, size_t err_len) {
  *tree = NULL;
  memset(out, 0, sizeof *out);
  cJSON *root = cJSON_ParseWithLength(json, len);
  if (!root) return fail(err, err_len, PROTO_ERR_BAD_JSON, "the body is not valid JSON");
  *tree = root;
  const cJSON *ops = cJSON_GetObjectItemCaseSensitive(root, "ops");
  if (!cJSON_IsArray(ops))
    return fail(err, err_len, PROTO_ERR_BAD_JSON, "expected an object with an \"ops\" array");
  int n = cJSON_GetArraySize(ops);
  if (n == 0) return fail(err, err_len, PROTO_ERR_RANGE, "\"ops\" is empty");
  if (n > MDL_TXN_MAX_OPS)
    return fail(err, err_len, PROTO_ERR_TOO_BIG, "%d ops in one transaction; at most %d", n,
                MDL_TXN_MAX_OPS);
  size_t used_props = 0;
  unsigned i = 0;
  const cJSON *jo;
  cJSON_ArrayForEach(jo, ops) {
    mdl_op *op = &s->ops[i];
    memset(op, 0, sizeof *op);
    const char *kind = str_field(jo, "op");
    const char *id = str_field(jo, "id");
    if (!cJSON_IsObject(jo) || !kind)
      return fail(err, err_len, PROTO_ERR_BAD_JSON, "op %u: expected an object with \"op\"", i);
    if (strcmp(kind, "create") == 0) {
      const char *type = str_field(jo, "type");
      int t = type ? mdl_type_lookup(type, strlen(type)) : 0;
      if (!t || t == MDL_TYPE_PROJECT)
        return fail(err, err_len, MDL_ERR_BAD_TYPE, "op %u: unknown \"type\" \"%.20s\"", i,
                    type ? type : "");
      op->kind = MDL_OP_CREATE;
      op->type = (uint8_t) t;
      op->id = MDL_ID_MAKE(origin, (*next_counter)++);
      const char *parent = str_field(jo, "parent");
      if (parent && !(op->parent = parse_ref(parent, s->ops, i)))
        return fail(err, err_len, PROTO_ERR_RANGE, "op %u: \"parent\" must be an id", i);
      const cJSON *props = cJSON_GetObjectItemCaseSensitive(jo, "props");
      if (props && !cJSON_IsObject(props))
        return fail(err, err_len, PROTO_ERR_BAD_JSON, "op %u: \"props\" must be an object", i);
      op->props = &s->props[used_props];
      const cJSON *jp;
      cJSON_ArrayForEach(jp, props) {
        if (op->n_props >= MDL_CREATE_MAX_PROPS || used_props >= PROTO_MAX_PROPS)
          return fail(err, err_len, PROTO_ERR_TOO_BIG, "op %u: too many properties", i);
        int prop = mdl_prop_lookup(t, jp->string, strlen(jp->string));
        if (!prop)
          return fail(err, err_len, MDL_ERR_BAD_PROP, "op %u: a %s has no property \"%.40s\"", i,
                      mdl_type_name(t), jp->string);
        s->props[used_props].prop = (uint8_t) prop;
        int rc = to_value(jp, prop, &s->props[used_props].value, err, err_len, i, s->ops);
        if (rc) return rc;
        used_props++;
        op->n_props++;
      }
    } else if (strcmp(kind, "set") == 0 || strcmp(kind, "delete") == 0 ||
               strcmp(kind, "move") == 0) {
      op->id = parse_ref(id, s->ops, i);
      if (op->id == MDL_ID_NONE)
        return fail(err, err_len, PROTO_ERR_RANGE, "op %u: \"id\" must be an id string", i);
      if (kind[0] == 's') {
        op->kind = MDL_OP_SET;
        const char *prop = str_field(jo, "prop");
        int p = prop ? mdl_prop_lookup(0, prop, strlen(prop)) : 0;
        if (!p)
          return fail(err, err_len, MDL_ERR_BAD_PROP, "op %u: no property is called \"%.40s\"", i,
                      prop ? prop : "");
        op->prop = (uint8_t) p;
        const cJSON *val = cJSON_GetObjectItemCaseSensitive(jo, "value");
        int rc = to_value(val, p, &op->value, err, err_len, i, s->ops);
        if (rc) return rc;
      } else if (kind[0] == 'd') {
        op->kind = MDL_OP_DELETE;
      } else {
        op->kind = MDL_OP_MOVE;
        const char *parent = str_field(jo, "parent");
        if (parent && !(op->parent = parse_ref(parent, s->ops, i)))
          return fail(err, err_len, PROTO_ERR_RANGE, "op %u: \"parent\" must be an id", i);
        const cJSON *after = cJSON_GetObjectItemCaseSensitive(jo, "after");
        if (after && !cJSON_IsNull(after)) {
          op->after = parse_ref(cJSON_IsString(after) ? after->valuestring : NULL, s->ops, i);
          if (op->after == MDL_ID_NONE)
            return fail(err, err_len, PROTO_ERR_RANGE, "op %u: \"after\" must be an id or null", i);
        }
      }
    } else {
      return fail(err, err_len, MDL_ERR_BAD_OP,
                  "op %u: unknown op \"%.20s\" (create, set, move, delete)", i, kind);
    }
    i++;
  }
  out->n_ops = i;
  out->ops = s->ops;
  return 0;
}

void proto_json_free(void *tree) {
  cJSON_Delete(tree);
}

char *proto_json_project(const mdl_project *p, const char *project_id, uint64_t seq) {
  char hex[17], id[17];
  cJSON *o = cJSON_CreateObject();
  cJSON *tracks = cJSON_CreateArray();
  if (!o || !tracks) {
    cJSON_Delete(o);
    cJSON_Delete(tracks);
    return NULL;
  }
  mdl_hash_hex(mdl_project_hash(p), hex);
  cJSON_AddStringToObject(o, "id", project_id);
  cJSON_AddStringToObject(o, "name", mdl_get_str(p, MDL_ID_PROJECT, MDL_PROP_NAME, NULL));
  cJSON_AddNumberToObject(o, "tempo", mdl_get_real(p, MDL_ID_PROJECT, MDL_PROP_TEMPO));
  cJSON_AddNumberToObject(o, "ts_num", (double) mdl_get_int(p, MDL_ID_PROJECT, MDL_PROP_TS_NUM));
  cJSON_AddNumberToObject(o, "ts_den", (double) mdl_get_int(p, MDL_ID_PROJECT, MDL_PROP_TS_DEN));
  cJSON_AddBoolToObject(o, "metronome", mdl_get_bool(p, MDL_ID_PROJECT, MDL_PROP_METRONOME));
  cJSON_AddNumberToObject(o, "seq", (double) seq);
  cJSON_AddStringToObject(o, "hash", hex);
  cJSON_AddNumberToObject(o, "objects", mdl_count(p, 0));
  cJSON_AddItemToObject(o, "tracks", tracks);
  mdl_id ids[1024];
  uint32_t n = mdl_tracks(p, ids, 1024);
  for (uint32_t i = 0; i < n && i < 1024; i++) {
    cJSON *jt = cJSON_CreateObject();
    if (!jt) break;
    proto_json_id(ids[i], id);
    cJSON_AddStringToObject(jt, "id", id);
    cJSON_AddNumberToObject(jt, "kind", (double) mdl_get_int(p, ids[i], MDL_PROP_KIND));
    cJSON_AddStringToObject(jt, "name", mdl_get_str(p, ids[i], MDL_PROP_NAME, NULL));
    cJSON_AddNumberToObject(jt, "colour", (double) mdl_get_int(p, ids[i], MDL_PROP_COLOUR));
    cJSON_AddNumberToObject(jt, "gain", mdl_get_real(p, ids[i], MDL_PROP_GAIN));
    cJSON_AddNumberToObject(jt, "pan", mdl_get_real(p, ids[i], MDL_PROP_PAN));
    cJSON_AddBoolToObject(jt, "mute", mdl_get_bool(p, ids[i], MDL_PROP_MUTE));
    cJSON_AddBoolToObject(jt, "solo", mdl_get_bool(p, ids[i], MDL_PROP_SOLO));
    cJSON_AddItemToArray(tracks, jt);
  }
  char *s = cJSON_PrintUnformatted(o);
  cJSON_Delete(o);
  return s;
}
