/* fuzz_check: the invariant checker and checked apply (see fuzz_check.h). */
#include "tests/fuzz/fuzz_check.h"
#include "protocol/proto_err.h"
#include "protocol/proto_msg.h"
#include "shared/mdl_err.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void fuzz_fail(const char *file, int line, const char *cond, const char *fmt, ...) {
  va_list ap;
  fprintf(stderr, "\n%s:%d: fuzz check failed: %s\n  ", file, line, cond);
  va_start(ap, fmt);
  vfprintf(stderr, fmt, ap);
  va_end(ap);
  fprintf(stderr, "\n");
  abort();
}

bool fuzz_utf8_ok(const void *data, size_t len) {
  const unsigned char *s = data;
  for (size_t i = 0; i < len;) {
    uint32_t c = s[i];
    size_t k;
    if (c < 0x80)
      k = 0;
    else if (c >= 0xC2 && c <= 0xDF)
      k = 1, c &= 0x1F;
    else if (c >= 0xE0 && c <= 0xEF)
      k = 2, c &= 0x0F;
    else if (c >= 0xF0 && c <= 0xF4)
      k = 3, c &= 0x07;
    else
      return false; /* continuation byte, C0/C1 lead (always overlong), or past U+10FFFF */
    if (len - i <= k) return false;
    for (size_t j = 1; j <= k; j++) {
      if ((s[i + j] & 0xC0) != 0x80) return false;
      c = (c << 6) | (s[i + j] & 0x3F);
    }
    if ((k == 2 && c < 0x800) || (k == 3 && (c < 0x10000 || c > 0x10FFFF))) return false;
    if (c >= 0xD800 && c <= 0xDFFF) return false;
    if (c < 0x20 || (c >= 0x7F && c < 0xA0)) return false;
    i += k + 1;
  }
  return true;
}

/* ---- Checker -------------------------------------------------------------- */

static char why[256];

static const char *bad(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static const char *bad(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(why, sizeof why, fmt, ap);
  va_end(ap);
  return why;
}

static const char *check_name(const char name[MDL_NAME_MAX + 1], const char *whose) {
  const char *nul = memchr(name, 0, MDL_NAME_MAX + 1);
  if (!nul) return bad("%s name is not NUL-terminated", whose);
  size_t n = (size_t) (nul - name);
  if (n < 1 || n > MDL_NAME_MAX) return bad("%s name is %zu bytes long", whose, n);
  if (!fuzz_utf8_ok(name, n)) return bad("%s name \"%s\" is not valid text", whose, name);
  return NULL;
}

/* A number against its property's range, read from the model's own table. */
static const char *check_range(int prop, double x, const char *whose) {
  const mdl_prop_info *info = mdl_prop_describe(prop);
  if (!info) return bad("property %d has no description", prop);
  if (!(x >= info->min && x <= info->max)) /* false for NaN too */
    return bad("%s %s %g is outside %g..%g", whose, info->name, x, info->min, info->max);
  return NULL;
}

/* A bool read as its byte: anything but 0 or 1 is a corrupt value (and
 * loading it as bool would be undefined). */
static const char *check_bool(const bool *b, const char *what, const char *whose) {
  unsigned char byte;
  memcpy(&byte, b, 1);
  return byte > 1 ? bad("%s %s byte is %u", whose, what, byte) : NULL;
}

static bool all_zero(const void *data, size_t len) {
  const unsigned char *b = data;
  for (size_t i = 0; i < len; i++)
    if (b[i]) return false;
  return true;
}

#define TRY(expr)                                                                                  \
  do {                                                                                             \
    const char *e_ = (expr);                                                                       \
    if (e_) return e_;                                                                             \
  } while (0)

const char *fuzz_project_check(const mdl_project *p) {
  if (p->n_tracks > MDL_TRACKS_MAX) return bad("n_tracks is %u", p->n_tracks);
  TRY(check_name(p->name, "the project"));
  TRY(check_range(MDL_PROP_TEMPO, p->tempo, "the project"));
  TRY(check_range(MDL_PROP_TS_NUM, p->ts_num, "the project"));
  TRY(check_range(MDL_PROP_TS_DEN, p->ts_den, "the project"));
  if (p->ts_den & (p->ts_den - 1)) return bad("ts_den %u is not a power of two", p->ts_den);
  TRY(check_bool(&p->metronome, "metronome", "the project"));
  for (uint32_t i = 0; i < p->n_tracks; i++) {
    const mdl_track *t = &p->tracks[i];
    char whose[32];
    snprintf(whose, sizeof whose, "track %u", i);
    if (t->id == MDL_ID_NONE || MDL_ID_CLIENT(t->id) == 0)
      return bad("%s has id %llx, without a client id", whose, (unsigned long long) t->id);
    for (uint32_t k = 0; k < i; k++)
      if (p->tracks[k].id == t->id)
        return bad("tracks %u and %u share id %llx", k, i, (unsigned long long) t->id);
    TRY(check_name(t->name, whose));
    TRY(check_range(MDL_PROP_COLOUR, t->colour, whose));
    TRY(check_range(MDL_PROP_GAIN, t->gain, whose));
    TRY(check_range(MDL_PROP_PAN, t->pan, whose));
    TRY(check_bool(&t->mute, "mute", whose));
    TRY(check_bool(&t->solo, "solo", whose));
  }
  for (uint32_t i = p->n_tracks; i < MDL_TRACKS_MAX; i++)
    if (!all_zero(&p->tracks[i], sizeof p->tracks[i]))
      return bad("unused track slot %u (n_tracks %u) is not all zero", i, p->n_tracks);

  /* The hash depends on the state only: a copy hashes the same, and so does
   * the project after a snapshot round trip, which every reachable state
   * must survive (storage keeps snapshots in that form). */
  static mdl_project copy;
  static unsigned char enc[8192], enc2[8192];
  uint64_t h = mdl_project_hash(p);
  memcpy(&copy, p, sizeof copy);
  if (mdl_project_hash(&copy) != h) return bad("a copy hashes differently");
  int n = proto_encode_project(p, enc, sizeof enc);
  if (n <= 0) return bad("proto_encode_project failed (%d)", n);
  int rc = proto_decode_project(enc, (size_t) n, &copy);
  if (rc) return bad("its snapshot does not decode (%d)", rc);
  if (mdl_project_hash(&copy) != h) return bad("the snapshot round trip changed the hash");
  int n2 = proto_encode_project(&copy, enc2, sizeof enc2);
  if (n2 != n || memcmp(enc, enc2, (size_t) n) != 0)
    return bad("the snapshot re-encodes differently");
  return NULL;
}

void fuzz_require_valid(const mdl_project *p, const char *what) {
  const char *e = fuzz_project_check(p);
  FUZZ_REQUIRE(e == NULL, "%s: %s", what, e);
}

/* ---- Seed project --------------------------------------------------------- */

void fuzz_seed_project(mdl_project *p) {
  static mdl_project seed;
  static bool made;
  if (!made) {
    mdl_project scratch;
    static const char bass[] = "Bass \xc3\xa9t\xc3\xa9"; /* "Bass été" */
    mdl_value name = {.kind = MDL_VAL_STR, .u.s = {bass, sizeof bass - 1}};
    mdl_value drums = {.kind = MDL_VAL_STR, .u.s = {"Drums", 5}};
    mdl_prop_value bass_props[] = {
        {MDL_PROP_NAME, name},
        {MDL_PROP_GAIN, {.kind = MDL_VAL_REAL, .u.r = 0.5}},
        {MDL_PROP_MUTE, {.kind = MDL_VAL_BOOL, .u.b = true}},
    };
    mdl_op ops[] = {
        {.kind = MDL_OP_CREATE,
         .type = MDL_TYPE_TRACK,
         .id = MDL_ID_MAKE(1, 1),
         .n_props = 3,
         .props = bass_props},
        {.kind = MDL_OP_CREATE, .type = MDL_TYPE_TRACK, .id = MDL_ID_MAKE(1, 2)},
        {.kind = MDL_OP_CREATE, .type = MDL_TYPE_TRACK, .id = MDL_ID_MAKE(2, 1)},
        {.kind = MDL_OP_CREATE, .type = MDL_TYPE_TRACK, .id = MDL_ID_MAKE(3, 3)},
        {.kind = MDL_OP_SET, .id = MDL_ID_MAKE(2, 1), .prop = MDL_PROP_NAME, .value = drums},
        {.kind = MDL_OP_SET,
         .id = MDL_ID_MAKE(2, 1),
         .prop = MDL_PROP_PAN,
         .value = {.kind = MDL_VAL_REAL, .u.r = -0.25}},
        {.kind = MDL_OP_SET,
         .id = MDL_ID_PROJECT,
         .prop = MDL_PROP_TEMPO,
         .value = {.kind = MDL_VAL_REAL, .u.r = 93.5}},
        {.kind = MDL_OP_SET,
         .id = MDL_ID_PROJECT,
         .prop = MDL_PROP_TS_NUM,
         .value = {.kind = MDL_VAL_INT, .u.i = 7}},
        {.kind = MDL_OP_MOVE, .id = MDL_ID_MAKE(3, 3), .after = MDL_ID_MAKE(1, 1)},
    };
    mdl_txn txn = {sizeof ops / sizeof ops[0], ops};
    mdl_project_init(&seed, "Fuzz seed");
    int rc = mdl_txn_apply(&seed, &txn, 0, &scratch, NULL);
    FUZZ_REQUIRE(rc == 0, "the seed transaction is refused (%d)", rc);
    fuzz_require_valid(&seed, "the seed project");
    made = true;
  }
  memcpy(p, &seed, sizeof *p);
}

/* ---- Checked apply -------------------------------------------------------- */

static void *heap_alloc(void *ud, size_t size) {
  (void) ud;
  return malloc(size);
}
static void heap_free(void *ud, void *ptr, size_t size) {
  (void) ud, (void) size;
  free(ptr);
}

/* Applies TXN to a copy of BEFORE and requires the outcome RC, AFTER. */
static void require_same_apply(const mdl_project *before, const mdl_txn *txn, uint32_t origin,
                               int rc, const mdl_project *after, const char *how) {
  static mdl_project again, scratch;
  memcpy(&again, before, sizeof again);
  int rc2 = mdl_txn_apply(&again, txn, origin, &scratch, NULL);
  FUZZ_REQUIRE(rc2 == rc, "%s applies with %d, the original with %d", how, rc2, rc);
  FUZZ_REQUIRE(memcmp(&again, after, sizeof again) == 0, "%s gives different bytes", how);
}

int fuzz_apply_checked(mdl_project *p, const mdl_txn *txn, uint32_t origin) {
  static mdl_project before, scratch;
  static proto_scratch ps;
  static unsigned char wire[PROTO_MAX_MSG];
  mdl_fail fail;
  memcpy(&before, p, sizeof before);
  memset(&fail, 0x5A, sizeof fail); /* a missing terminator shows */
  int rc = mdl_txn_apply(p, txn, origin, &scratch, &fail);
  if (rc) {
    FUZZ_REQUIRE(rc < 0 && strcmp(mdl_strerror(rc), "unknown error") != 0,
                 "refused with unknown code %d", rc);
    FUZZ_REQUIRE(memcmp(p, &before, sizeof before) == 0,
                 "a refused transaction changed the project (code %d, \"%.*s\")", rc,
                 (int) sizeof fail.reason, fail.reason);
    FUZZ_REQUIRE(fail.code == rc, "fail.code %d, returned %d", fail.code, rc);
    FUZZ_REQUIRE(memchr(fail.reason, 0, sizeof fail.reason) != NULL, "the reason is unterminated");
    FUZZ_REQUIRE(fail.reason[0] != '\0', "refused (code %d) without a reason", rc);
    FUZZ_REQUIRE(fail.op_index < txn->n_ops || (fail.op_index == 0 && rc == MDL_ERR_INVALID),
                 "op_index %u of %u ops", fail.op_index, txn->n_ops);
  } else {
    FUZZ_REQUIRE(fail.code == 0, "accepted, but fail.code is %d", fail.code);
    fuzz_require_valid(p, "after an accepted transaction");
  }

  /* Applying is a pure function of (project, transaction, origin): a deep
   * copy gives the same result, and so does the stored (wire) form. */
  mdl_alloc heap = {NULL, heap_alloc, heap_free};
  mdl_txn *copy = mdl_txn_clone(&heap, txn);
  FUZZ_REQUIRE(copy != NULL, "mdl_txn_clone failed");
  require_same_apply(&before, copy, origin, rc, p, "a clone (mdl_txn_clone)");
  mdl_txn_free(&heap, copy);

  int n = proto_encode_txn(txn, wire, sizeof wire);
  if (n > 0) {
    mdl_txn decoded;
    int drc = proto_decode_txn(wire, (size_t) n, &ps, &decoded);
    /* The wire decoder refuses some values (e.g. text that is not UTF-8)
     * that only apply would refuse otherwise. */
    FUZZ_REQUIRE(drc == 0 || rc != 0, "an accepted transaction does not decode (%d)", drc);
    if (drc == 0) require_same_apply(&before, &decoded, origin, rc, p, "the wire round trip");
  } else {
    FUZZ_REQUIRE(n == PROTO_ERR_NO_SPACE || n == PROTO_ERR_TOO_BIG || n == PROTO_ERR_RANGE,
                 "proto_encode_txn failed with %d", n);
    FUZZ_REQUIRE(n != PROTO_ERR_RANGE || rc != 0,
                 "an accepted transaction has no wire form (PROTO_ERR_RANGE)");
  }
  return rc;
}
