/* eng_backend.c: backend selection (see eng_backend.h). */
#include "engine/eng_backend.h"
#include "engine/eng_backend_int.h"
#include "engine/eng_err.h"

#include <stdio.h>

eng_backend_config eng_backend_config_default(void) {
  eng_backend_config c = {.kind = ENG_BACKEND_AUTO, .device = NULL};
  return c;
}

int eng_backend_list_devices(eng_device_info *out, int max, int *n_found, char *msg,
                             size_t msg_len) {
  if (msg && msg_len) msg[0] = '\0';
  if (n_found) *n_found = 0;
  if (!n_found || (!out && max > 0) || max < 0) return ENG_ERR_INVALID;
  return eng__pa_list_devices(out, max, n_found, msg, msg_len);
}

int eng_backend_open(eng_engine *e, eng_backend_kind kind, eng_backend **out, char *msg,
                     size_t msg_len) {
  eng_backend_config c = eng_backend_config_default();
  c.kind = kind;
  return eng_backend_open_with(e, &c, out, msg, msg_len);
}

int eng_backend_open_with(eng_engine *e, const eng_backend_config *cfg, eng_backend **out,
                          char *msg, size_t msg_len) {
  if (msg && msg_len) msg[0] = '\0';
  if (!out) return ENG_ERR_INVALID;
  *out = NULL;
  if (!e || !cfg) return ENG_ERR_INVALID;
  const char *dev = cfg->device;
  switch (cfg->kind) {
    case ENG_BACKEND_NULL:
      return eng__backend_null_vt.open(e, dev, out, msg, msg_len);
    case ENG_BACKEND_PORTAUDIO:
      return eng__backend_pa_vt.open(e, dev, out, msg, msg_len);
    case ENG_BACKEND_AUTO: {
      char why[256];
      int rc = eng__backend_pa_vt.open(e, dev, out, why, sizeof why);
      if (rc == ENG_OK) return rc;
      rc = eng__backend_null_vt.open(e, dev, out, msg, msg_len);
      if (rc == ENG_OK && msg && msg_len)
        snprintf(msg, msg_len, "%s; playing on the null device", why);
      return rc;
    }
  }
  if (msg && msg_len) snprintf(msg, msg_len, "unknown backend kind %d", (int) cfg->kind);
  return ENG_ERR_INVALID;
}

const char *eng_backend_name(const eng_backend *b) {
  return b->name;
}

void eng_backend_close(eng_backend *b) {
  if (b) b->vt->close(b);
}
