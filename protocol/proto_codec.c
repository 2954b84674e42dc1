/* proto_codec: little-endian primitives with sticky errors. */
#include "protocol/proto_codec.h"
#include "protocol/proto_err.h"

#include <string.h>

void proto_reader_init(proto_reader *r, const void *data, size_t len) {
  r->p = data;
  r->len = len;
  r->pos = 0;
  r->err = 0;
}

/* Returns a pointer to N readable bytes, or NULL (and sets err). */
static const uint8_t *take(proto_reader *r, size_t n) {
  if (r->err) return NULL;
  if (n > r->len - r->pos) {
    r->err = PROTO_ERR_TRUNCATED;
    return NULL;
  }
  const uint8_t *b = r->p + r->pos;
  r->pos += n;
  return b;
}

static uint64_t get_le(proto_reader *r, int n) {
  const uint8_t *b = take(r, (size_t) n);
  uint64_t v = 0;
  if (!b) return 0;
  for (int i = n - 1; i >= 0; i--)
    v = (v << 8) | b[i];
  return v;
}

uint8_t proto_get_u8(proto_reader *r) {
  return (uint8_t) get_le(r, 1);
}
uint16_t proto_get_u16(proto_reader *r) {
  return (uint16_t) get_le(r, 2);
}
uint32_t proto_get_u32(proto_reader *r) {
  return (uint32_t) get_le(r, 4);
}
uint64_t proto_get_u64(proto_reader *r) {
  return get_le(r, 8);
}

float proto_get_f32(proto_reader *r) {
  uint32_t bits = proto_get_u32(r);
  float f;
  memcpy(&f, &bits, sizeof f);
  return f;
}

double proto_get_f64(proto_reader *r) {
  uint64_t bits = proto_get_u64(r);
  double d;
  memcpy(&d, &bits, sizeof d);
  return d;
}

const char *proto_get_str(proto_reader *r, bool wide, uint32_t *len) {
  *len = wide ? proto_get_u16(r) : proto_get_u8(r);
  const uint8_t *b = take(r, *len);
  if (!b) *len = 0;
  return (const char *) b;
}

bool proto_reader_done(proto_reader *r) {
  if (!r->err && r->pos != r->len) r->err = PROTO_ERR_TRAILING;
  return r->err == 0;
}

void proto_writer_init(proto_writer *w, void *buf, size_t cap) {
  w->p = buf;
  w->cap = cap;
  w->len = 0;
  w->err = 0;
}

static uint8_t *reserve(proto_writer *w, size_t n) {
  if (w->err) return NULL;
  if (n > w->cap - w->len) {
    w->err = PROTO_ERR_NO_SPACE;
    return NULL;
  }
  uint8_t *b = w->p + w->len;
  w->len += n;
  return b;
}

static void put_le(proto_writer *w, uint64_t v, int n) {
  uint8_t *b = reserve(w, (size_t) n);
  if (!b) return;
  for (int i = 0; i < n; i++, v >>= 8)
    b[i] = (uint8_t) v;
}

void proto_put_u8(proto_writer *w, uint8_t v) {
  put_le(w, v, 1);
}
void proto_put_u16(proto_writer *w, uint16_t v) {
  put_le(w, v, 2);
}
void proto_put_u32(proto_writer *w, uint32_t v) {
  put_le(w, v, 4);
}
void proto_put_u64(proto_writer *w, uint64_t v) {
  put_le(w, v, 8);
}

void proto_put_f32(proto_writer *w, float v) {
  uint32_t bits;
  memcpy(&bits, &v, sizeof bits);
  put_le(w, bits, 4);
}

void proto_put_f64(proto_writer *w, double v) {
  uint64_t bits;
  memcpy(&bits, &v, sizeof bits);
  put_le(w, bits, 8);
}

void proto_put_str(proto_writer *w, bool wide, const char *s, size_t len) {
  if (len > (wide ? 0xFFFFu : 0xFFu)) {
    if (!w->err) w->err = PROTO_ERR_NO_SPACE;
    return;
  }
  if (wide)
    proto_put_u16(w, (uint16_t) len);
  else
    proto_put_u8(w, (uint8_t) len);
  uint8_t *b = reserve(w, len);
  if (b && len) memcpy(b, s, len);
}
