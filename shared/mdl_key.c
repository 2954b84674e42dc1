/* mdl_key: fractional order keys (see mdl_key.h). */
#include "shared/mdl_key.h"
#include "shared/mdl_project.h"

static const char digits[] = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

static int value_of(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'A' && c <= 'Z') return c - 'A' + 10;
  if (c >= 'a' && c <= 'z') return c - 'a' + 36;
  return -1;
}

bool mdl_key_valid(const char *s, size_t len) {
  if (len == 0 || len > MDL_KEY_MAX || s[len - 1] == '0') return false;
  for (size_t i = 0; i < len; i++)
    if (value_of(s[i]) < 0) return false;
  return true;
}

/* Digit by digit: copy the common prefix; at the first place where B's digit
 * is more than one above A's, take the middle and stop; where it is just one
 * above, keep A's digit and from then on only A bounds us from below. */
uint32_t mdl_key_between(const char *a, uint32_t alen, const char *b, uint32_t blen, char *out) {
  bool b_open = blen == 0;
  for (uint32_t i = 0; i < MDL_KEY_MAX; i++) {
    int da = i < alen ? value_of(a[i]) : 0;
    int db = b_open ? 62 : i < blen ? value_of(b[i]) : 0;
    if (da == db) {
      out[i] = digits[da];
      continue;
    }
    if (db - da > 1) {
      out[i] = digits[(da + db) / 2];
      return i + 1;
    }
    out[i] = digits[da];
    b_open = true;
  }
  return 0;
}

uint32_t mdl_key_spread(uint32_t i, uint32_t n, char *out) {
  /* Four digits hold 62^4 = 14.7 million places. */
  uint64_t span = 62ULL * 62 * 62 * 62;
  uint64_t v = (uint64_t) (i + 1) * span / ((uint64_t) n + 1);
  uint32_t len = 4;
  for (int k = 3; k >= 0; k--, v /= 62)
    out[k] = digits[v % 62];
  while (len > 1 && out[len - 1] == '0')
    len--;
  return len;
}
