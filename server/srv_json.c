/* srv_json: exact JSON numbers (see srv_json.h). */
#include "server/srv_json.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>

cJSON *srv_json_exact_number(double v) {
  char buf[40];
  for (int digits = 15; digits <= 17; digits++) {
    snprintf(buf, sizeof buf, "%.*g", digits, v);
    if (strtod(buf, NULL) == v) break;
  }
  return cJSON_CreateRaw(buf);
}

/* A copy of V whose numbers are raw exact ones; NULL when out of memory. */
static cJSON *exact_copy(const cJSON *v) {
  if (cJSON_IsNumber(v)) return srv_json_exact_number(v->valuedouble);
  if (!cJSON_IsArray(v) && !cJSON_IsObject(v)) return cJSON_Duplicate(v, 1);
  cJSON *out = cJSON_IsArray(v) ? cJSON_CreateArray() : cJSON_CreateObject();
  const cJSON *item;
  cJSON_ArrayForEach(item, v) {
    cJSON *copy = out ? exact_copy(item) : NULL;
    bool added = copy && (cJSON_IsArray(v) ? cJSON_AddItemToArray(out, copy)
                                           : cJSON_AddItemToObject(out, item->string, copy));
    if (!added) {
      cJSON_Delete(copy);
      cJSON_Delete(out);
      return NULL;
    }
  }
  return out;
}

char *srv_json_print_exact(const cJSON *v) {
  cJSON *copy = exact_copy(v);
  char *s = copy ? cJSON_PrintUnformatted(copy) : NULL;
  cJSON_Delete(copy);
  return s;
}
