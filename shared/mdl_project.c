/* mdl_project: text checks shared by the model and the protocol. */
#include "shared/mdl_project.h"

bool mdl_utf8_valid(const char *s, size_t len) {
  const unsigned char *u = (const unsigned char *) s;
  size_t i = 0;
  while (i < len) {
    unsigned c = u[i];
    size_t n;
    uint32_t cp;
    if (c < 0x80) {
      if (c < 0x20 || c == 0x7F) return false;
      i++;
      continue;
    } else if ((c & 0xE0) == 0xC0) {
      n = 1, cp = c & 0x1F;
    } else if ((c & 0xF0) == 0xE0) {
      n = 2, cp = c & 0x0F;
    } else if ((c & 0xF8) == 0xF0) {
      n = 3, cp = c & 0x07;
    } else {
      return false;
    }
    if (i + n >= len) return false; /* truncated sequence */
    for (size_t k = 1; k <= n; k++) {
      if ((u[i + k] & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (u[i + k] & 0x3F);
    }
    /* Refuse overlong forms, surrogates and values past U+10FFFF. */
    static const uint32_t min_cp[4] = {0, 0x80, 0x800, 0x10000};
    if (cp < min_cp[n] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
    if (cp >= 0x80 && cp < 0xA0) return false; /* C1 controls */
    i += n + 1;
  }
  return true;
}
