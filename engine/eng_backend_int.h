/* eng_backend_int.h: implementation details of the backends which may
 * change; the public API is in eng_backend.h. Each backend file fills one
 * eng_backend_vt and embeds struct eng_backend first in its own struct. */
#ifndef ENG_BACKEND_INT_H
#define ENG_BACKEND_INT_H

#include "engine/eng_backend.h"

#define ENG_BACKEND_NAME_MAX 128 /* bytes, including the NUL */

typedef struct eng_backend_vt {
  /* Opens and starts on `device` (NULL/"" = default; see eng_backend_config);
   * on failure writes one sentence into msg. */
  int (*open)(eng_engine *e, const char *device, eng_backend **out, char *msg, size_t msg_len);
  /* Stops, joins and frees. */
  void (*close)(eng_backend *b);
} eng_backend_vt;

struct eng_backend {
  const eng_backend_vt *vt;        /* which backend */
  eng_engine *engine;              /* borrowed */
  char name[ENG_BACKEND_NAME_MAX]; /* eng_backend_name */
};

extern const eng_backend_vt eng__backend_null_vt; /* eng_backend_null.c */
extern const eng_backend_vt eng__backend_pa_vt;   /* eng_backend_pa.c */

/* PortAudio's device list (eng_backend_pa.c); see eng_backend_list_devices. */
int eng__pa_list_devices(eng_device_info *out, int max, int *n_found, char *msg, size_t msg_len);

#endif /* ENG_BACKEND_INT_H */
