/* srv_json: JSON numbers that come back exactly as they went in.
 *
 * cJSON prints a number with 15 significant digits whenever that reads back
 * within an epsilon of it, so -9.599999999999998 prints as -9.6: a preset
 * saved and read again would move by an ulp. These print the shortest of
 * 15..17 digits that reads back to the same double. Any thread. */
#ifndef SRV_JSON_H
#define SRV_JSON_H

#include <cjson/cJSON.h>

/* A raw cJSON number item for V (NULL when out of memory). */
cJSON *srv_json_exact_number(double v);

/* V printed unformatted with every number exact; malloc'd, NULL when out of memory. */
char *srv_json_print_exact(const cJSON *v);

#endif
