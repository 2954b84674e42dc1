/* hash_log: the native half of the native-vs-wasm state hash test.
 *
 *   hash_log gen SEED N FILE   writes a deterministic pseudo-random log of N
 *                              transactions to FILE, prints the hash
 *   hash_log hash FILE         applies the log in FILE, prints the hash
 *
 * The log is what wasm_log_hash (wasm_exports.c) reads: repeated u32
 * little-endian length + proto txn bytes, applied with origin 0 to a fresh
 * project (mdl_project_create(a, NULL)). The transactions create tracks with
 * random initial properties, set every project and track property to random
 * in-range values (reals with full 52-bit mantissas, multi-byte UTF-8
 * names), move and delete tracks, sometimes several ops in one transaction.
 * Only transactions that apply are written. Output: "HASH APPLIED SKIPPED". */
#include "protocol/proto_msg.h"
#include "shared/mdl_libc.h"
#include "shared/mdl_op.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static uint64_t rng_state;

static uint64_t rnd(void) { /* xorshift64* */
  rng_state ^= rng_state >> 12;
  rng_state ^= rng_state << 25;
  rng_state ^= rng_state >> 27;
  return rng_state * 2685821657736338717ULL;
}

static double rnd_real(double lo, double hi) {
  return lo + (hi - lo) * ((double) (rnd() >> 11) / 9007199254740992.0);
}

static uint32_t rnd_below(uint32_t n) {
  return (uint32_t) (rnd() % n);
}

/* A random valid name of 1..20 characters, some of them multi-byte. */
static uint32_t rnd_name(char *out) {
  static const char *const parts[] = {"a", "B", "7", " ", "é", "ü", "♪", "ß", "x", "Drums", "-"};
  uint32_t len = 0, n = 1 + rnd_below(8);
  for (uint32_t i = 0; i < n; i++) {
    const char *s = parts[rnd_below(sizeof parts / sizeof parts[0])];
    memcpy(out + len, s, strlen(s));
    len += (uint32_t) strlen(s);
  }
  if (out[0] == ' ') out[0] = 'T';
  return len;
}

static mdl_value random_value(int prop, char *str) {
  mdl_value v = {.kind = mdl_prop_describe(prop)->kind};
  switch (prop) {
    case MDL_PROP_NAME:
      v.u.s.ptr = str, v.u.s.len = rnd_name(str);
      break;
    case MDL_PROP_TEMPO:
      v.u.r = rnd_real(20, 999);
      break;
    case MDL_PROP_TS_NUM:
      v.u.i = 1 + rnd_below(32);
      break;
    case MDL_PROP_TS_DEN:
      v.u.i = 1 << rnd_below(6);
      break;
    case MDL_PROP_COLOUR:
      v.u.i = rnd_below(0x1000000);
      break;
    case MDL_PROP_GAIN:
      v.u.r = rnd_below(10) == 0 ? 0.0 : rnd_real(0, 4);
      break;
    case MDL_PROP_PAN:
      v.u.r = rnd_below(10) == 0 ? -0.0 : rnd_real(-1, 1);
      break;
    default:
      v.u.b = rnd_below(2);
      break; /* metronome, mute, solo */
  }
  return v;
}

/* Fills *op with a random op against P; STR gives room for one name and
 * PROPS for create's properties. */
static void random_op(const mdl_project *p, mdl_op *op, char *str, mdl_prop_value *props,
                      uint32_t *counter) {
  static const int track_props[] = {MDL_PROP_NAME, MDL_PROP_COLOUR, MDL_PROP_GAIN,
                                    MDL_PROP_PAN,  MDL_PROP_MUTE,   MDL_PROP_SOLO};
  mdl_id tracks[64];
  uint32_t n = mdl_tracks(p, tracks, 64), pick = rnd_below(100);
  if (n > 64) n = 64;
  memset(op, 0, sizeof *op);
  if (n == 0 || (pick < 20 && n < 64)) {
    op->kind = MDL_OP_CREATE, op->type = MDL_TYPE_TRACK;
    op->id = MDL_ID_MAKE(1 + rnd_below(3), ++*counter);
    op->n_props = (uint16_t) rnd_below(4);
    for (uint16_t k = 0; k < op->n_props; k++) {
      props[k].prop = (uint8_t) track_props[rnd_below(6)];
      props[k].value = random_value(props[k].prop, str + 256 * k);
    }
    op->props = props;
  } else if (pick < 35) {
    op->kind = MDL_OP_SET, op->id = MDL_ID_PROJECT;
    op->prop = (uint8_t) (MDL_PROP_NAME + rnd_below(5)); /* name .. metronome */
    op->value = random_value(op->prop, str);
  } else if (pick < 80) {
    op->kind = MDL_OP_SET, op->id = tracks[rnd_below(n)];
    op->prop = (uint8_t) track_props[rnd_below(6)];
    op->value = random_value(op->prop, str);
  } else if (pick < 92) {
    op->kind = MDL_OP_MOVE, op->id = tracks[rnd_below(n)];
    uint32_t a = rnd_below(n + 1);
    op->after = a == n ? MDL_ID_NONE : tracks[a];
  } else {
    op->kind = MDL_OP_DELETE, op->id = tracks[rnd_below(n)];
  }
}

static int write_u32(FILE *f, uint32_t v) {
  uint8_t b[4] = {(uint8_t) v, (uint8_t) (v >> 8), (uint8_t) (v >> 16), (uint8_t) (v >> 24)};
  return fwrite(b, 1, 4, f) == 4 ? 0 : -1;
}

static const mdl_alloc heap = MDL_LIBC_ALLOC;

static int gen(uint64_t seed, long count, const char *path) {
  mdl_project *p = mdl_project_create(&heap, NULL);
  static uint8_t buf[PROTO_MAX_MSG];
  static char strs[4][16 * 256];
  static mdl_prop_value props[4][MDL_CREATE_MAX_PROPS];
  mdl_op ops[4];
  uint32_t counter = 0;
  long applied = 0, tries = 0;
  FILE *f = fopen(path, "wb");
  if (!f) return perror(path), 1;
  rng_state = seed * 0x9E3779B97F4A7C15ULL + 1;
  if (!p) return fclose(f), 1;
  while (applied < count && tries++ < count * 100) {
    mdl_txn txn = {1 + rnd_below(rnd_below(4) == 0 ? 4 : 1), ops};
    /* Draw each op against the state the earlier ops of this txn made. */
    for (uint32_t i = 0; i < txn.n_ops; i++) {
      mdl_txn before = {i, ops};
      bool tried = i > 0 && mdl_txn_try(p, &before, 0, NULL) == 0;
      random_op(p, &ops[i], strs[i], props[i], &counter);
      if (tried) mdl_txn_drop(p);
    }
    if (mdl_txn_apply(p, &txn, 0, NULL)) continue;
    int len = proto_encode_txn(&txn, buf, sizeof buf);
    if (len < 0 || write_u32(f, (uint32_t) len) ||
        fwrite(buf, 1, (size_t) len, f) != (size_t) len) {
      fclose(f);
      return fprintf(stderr, "hash_log: cannot write %s\n", path), 1;
    }
    applied++;
  }
  char hex[17];
  mdl_hash_hex(mdl_project_hash(p), hex);
  mdl_project_destroy(p);
  if (fclose(f)) return perror(path), 1;
  printf("%s %ld 0\n", hex, applied);
  return 0;
}

static int hash(const char *path) {
  mdl_project *p = mdl_project_create(&heap, NULL);
  static proto_scratch ps;
  static uint8_t buf[PROTO_MAX_MSG];
  long applied = 0, skipped = 0;
  FILE *f = fopen(path, "rb");
  if (!f || !p) return perror(path), 1;
  for (;;) {
    uint8_t b[4];
    size_t got = fread(b, 1, 4, f);
    if (got == 0) break;
    uint32_t len =
        (uint32_t) b[0] | (uint32_t) b[1] << 8 | (uint32_t) b[2] << 16 | (uint32_t) b[3] << 24;
    mdl_txn txn;
    if (got != 4 || len > sizeof buf || fread(buf, 1, len, f) != len ||
        proto_decode_txn(buf, len, &ps, &txn)) {
      fclose(f);
      mdl_project_destroy(p);
      return fprintf(stderr, "hash_log: %s is not a transaction log\n", path), 1;
    }
    if (mdl_txn_apply(p, &txn, 0, NULL))
      skipped++;
    else
      applied++;
  }
  fclose(f);
  char hex[17];
  mdl_hash_hex(mdl_project_hash(p), hex);
  mdl_project_destroy(p);
  printf("%s %ld %ld\n", hex, applied, skipped);
  return 0;
}

int main(int argc, char **argv) {
  if (argc == 5 && strcmp(argv[1], "gen") == 0)
    return gen(strtoull(argv[2], NULL, 10), strtol(argv[3], NULL, 10), argv[4]);
  if (argc == 3 && strcmp(argv[1], "hash") == 0) return hash(argv[2]);
  fprintf(stderr, "usage: hash_log gen SEED N FILE | hash_log hash FILE\n");
  return 2;
}
