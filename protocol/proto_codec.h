/* proto_codec: bounds-checked little-endian reader and writer.
 *
 * Every decoder in protocol/ reads through proto_reader, which never reads
 * past the end: the first short read sets a sticky error and every later
 * read returns zero, so a decoder checks once at the end. Writers are the
 * same: an overflow sets a sticky error instead of writing past the end.
 * No allocation, no state beyond the struct; any thread. */
#ifndef PROTO_CODEC_H
#define PROTO_CODEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct proto_reader {
  const uint8_t *p;
  size_t len, pos;
  int err; /* 0 or the first proto_err */
} proto_reader;

typedef struct proto_writer {
  uint8_t *p;
  size_t cap, len;
  int err; /* 0 or PROTO_ERR_NO_SPACE */
} proto_writer;

void proto_reader_init(proto_reader *r, const void *data, size_t len);
uint8_t proto_get_u8(proto_reader *r);
uint16_t proto_get_u16(proto_reader *r);
uint32_t proto_get_u32(proto_reader *r);
uint64_t proto_get_u64(proto_reader *r);
float proto_get_f32(proto_reader *r);
double proto_get_f64(proto_reader *r);
/* A length-prefixed byte string (u8 or u16 length, chosen by WIDE); the
 * result borrows from the reader's buffer and is not NUL-terminated. */
const char *proto_get_str(proto_reader *r, bool wide, uint32_t *len);
/* True if the whole buffer was consumed without error; otherwise sets err
 * (PROTO_ERR_TRAILING if bytes are left). */
bool proto_reader_done(proto_reader *r);

void proto_writer_init(proto_writer *w, void *buf, size_t cap);
void proto_put_u8(proto_writer *w, uint8_t v);
void proto_put_u16(proto_writer *w, uint16_t v);
void proto_put_u32(proto_writer *w, uint32_t v);
void proto_put_u64(proto_writer *w, uint64_t v);
void proto_put_f32(proto_writer *w, float v);
void proto_put_f64(proto_writer *w, double v);
/* Writes LEN bytes of S with a u8 (WIDE false, LEN <= 255) or u16 length. */
void proto_put_str(proto_writer *w, bool wide, const char *s, size_t len);

#endif
