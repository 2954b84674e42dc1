/* fuzz_proto_decode: proto_decode on arbitrary bytes.
 *
 * A message is refused with a known proto_err and an offset inside the
 * input, or it decodes; then every string in it is text by fuzz_utf8_ok,
 * a WELCOME's snapshot satisfies the model checker, and encoding it gives
 * back the input byte for byte (the wire form is canonical), which decodes
 * again to the same bytes. A WELCOME is the exception: its snapshot may
 * list children in another order, so it must re-encode to as many bytes
 * and decode again to the same header, hash and object count. Also
 * compares mdl_utf8_valid with fuzz_utf8_ok on the raw input. */
#include "tests/fuzz/fuzz_check.h"
#include "protocol/proto_err.h"
#include "protocol/proto_msg.h"

#include <stdlib.h>
#include <string.h>

static proto_scratch scratch1, scratch2;
static unsigned char *enc1, *enc2;
static size_t enc_cap;

static void require_text(const char *s, uint32_t len, const char *what) {
  FUZZ_REQUIRE(len == 0 || s != NULL, "%s: %u bytes at NULL", what, len);
  FUZZ_REQUIRE(fuzz_utf8_ok(s, len), "%s (%u bytes) decoded but is not valid text", what, len);
}

static void require_txn_text(const mdl_txn *txn) {
  for (uint32_t i = 0; i < txn->n_ops; i++) {
    const mdl_op *op = &txn->ops[i];
    if (op->value.kind == MDL_VAL_STR)
      require_text(op->value.u.s.ptr, op->value.u.s.len, "a set value");
    for (uint16_t k = 0; op->kind == MDL_OP_CREATE && k < op->n_props; k++)
      if (op->props[k].value.kind == MDL_VAL_STR)
        require_text(op->props[k].value.u.s.ptr, op->props[k].value.u.s.len, "a create value");
  }
}

static void require_decoded_ok(const proto_msg *m) {
  switch (m->type) {
    case PROTO_HELLO:
      require_text(m->u.hello.project, m->u.hello.project_len, "hello.project");
      require_text(m->u.hello.user, m->u.hello.user_len, "hello.user");
      break;
    case PROTO_WELCOME:
      fuzz_require_valid(m->u.welcome.snapshot, "a decoded WELCOME snapshot");
      break;
    case PROTO_SUBMIT:
      require_txn_text(&m->u.submit.txn);
      break;
    case PROTO_BROADCAST:
      require_txn_text(&m->u.broadcast.txn);
      break;
    case PROTO_REJECT:
      require_text(m->u.reject.reason, m->u.reject.reason_len, "reject.reason");
      break;
    case PROTO_PRESENCE:
      require_text(m->u.presence.name, m->u.presence.name_len, "presence.name");
      break;
    default:
      break;
  }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (!scratch1.project) {
    scratch1.project = fuzz_project_new(NULL);
    scratch2.project = fuzz_project_new(NULL);
  }
  if (enc_cap < size || enc_cap < PROTO_MAX_MSG) {
    enc_cap = size > PROTO_MAX_MSG ? size : PROTO_MAX_MSG;
    enc1 = realloc(enc1, enc_cap), enc2 = realloc(enc2, enc_cap);
    FUZZ_REQUIRE(enc1 && enc2, "out of memory");
  }
  FUZZ_REQUIRE(mdl_utf8_valid((const char *) data, size) == fuzz_utf8_ok(data, size),
               "mdl_utf8_valid says %d for %zu bytes", mdl_utf8_valid((const char *) data, size),
               size);
  proto_msg m;
  size_t at = (size_t) -1;
  int rc = proto_decode(data, size, &scratch1, &m, &at);
  if (rc) {
    FUZZ_REQUIRE(rc < 0 && rc != PROTO_ERR_NO_SPACE &&
                     strcmp(proto_strerror(rc), "unknown error") != 0,
                 "refused with code %d", rc);
    FUZZ_REQUIRE(at <= size, "error offset %zu past the %zu-byte input", at, size);
    return 0;
  }
  FUZZ_REQUIRE(at == size, "decoded %zu of %zu bytes", at, size);
  require_decoded_ok(&m);

  int n = proto_encode(&m, enc1, enc_cap);
  FUZZ_REQUIRE(n > 0, "a decoded message (type %u) does not encode (%d)", m.type, n);
  bool welcome = m.type == PROTO_WELCOME;
  FUZZ_REQUIRE((size_t) n == size && (welcome || memcmp(enc1, data, size) == 0),
               "type %u: re-encoding gives %d bytes, not the %zu decoded", m.type, n, size);

  proto_msg m2;
  rc = proto_decode(enc1, (size_t) n, &scratch2, &m2, NULL);
  FUZZ_REQUIRE(rc == 0 && m2.type == m.type, "the re-encoded message does not decode (%d)", rc);
  if (welcome) {
    const proto_welcome *a = &m.u.welcome, *b = &m2.u.welcome;
    FUZZ_REQUIRE(a->version == b->version && a->client_id == b->client_id &&
                     a->last_local == b->last_local && a->seq == b->seq,
                 "a WELCOME's header changes in a round trip");
    FUZZ_REQUIRE(mdl_project_hash(a->snapshot) == mdl_project_hash(b->snapshot) &&
                     mdl_count(a->snapshot, 0) == mdl_count(b->snapshot, 0),
                 "a WELCOME's snapshot changes in a round trip");
    return 0;
  }
  int n2 = proto_encode(&m2, enc2, enc_cap);
  FUZZ_REQUIRE(n2 == n && memcmp(enc1, enc2, (size_t) n) == 0, "the second round trip differs");
  return 0;
}
