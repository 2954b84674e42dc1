/* mdl_op: validation and atomic application of transactions. */
#include "shared/mdl_op.h"
#include "shared/mdl_err.h"

#include <string.h>

/* ---- Small string builder (shared/ has no stdio) -------------------------- */

typedef struct sbuf {
  char *buf;
  size_t cap, len;
} sbuf;

static void sb_str(sbuf *sb, const char *s) {
  while (*s && sb->len + 1 < sb->cap)
    sb->buf[sb->len++] = *s++;
  if (sb->cap) sb->buf[sb->len] = '\0';
}

static void sb_int(sbuf *sb, long long v) {
  char tmp[24];
  int n = 0;
  unsigned long long u = v < 0 ? 0ULL - (unsigned long long) v : (unsigned long long) v;
  do
    tmp[n++] = (char) ('0' + u % 10);
  while ((u /= 10) && n < 22);
  if (v < 0) tmp[n++] = '-';
  char out[24];
  for (int i = 0; i < n; i++)
    out[i] = tmp[n - 1 - i];
  out[n] = '\0';
  sb_str(sb, out);
}

/* Reals in reasons: integer part and up to three decimals are plenty. */
static void sb_real(sbuf *sb, double r) {
  if (r != r) {
    sb_str(sb, "NaN");
    return;
  }
  if (r > 1e15 || r < -1e15) {
    sb_str(sb, r > 0 ? "a huge number" : "a huge negative number");
    return;
  }
  if (r < 0) sb_str(sb, "-"), r = -r;
  long long whole = (long long) r;
  long long frac = (long long) ((r - (double) whole) * 1000 + 0.5);
  if (frac >= 1000) whole++, frac -= 1000;
  sb_int(sb, whole);
  if (frac) {
    char d[5] = {'.', (char) ('0' + frac / 100), (char) ('0' + frac / 10 % 10),
                 (char) ('0' + frac % 10), 0};
    for (int i = 3; i > 1 && d[i] == '0'; i--)
      d[i] = 0;
    sb_str(sb, d);
  }
}

static const char *type_name(int type) {
  return type == MDL_TYPE_PROJECT ? "project" : type == MDL_TYPE_TRACK ? "track" : "object";
}

/* ---- Validation ----------------------------------------------------------- */

int mdl_value_check(int type, int prop, const mdl_value *v, char *reason, size_t reason_len) {
  sbuf sb = {reason, reason_len, 0};
  if (reason_len) reason[0] = '\0';
  const mdl_prop_info *info = mdl_prop_describe(prop);
  if (!info || (info->type != 0 && info->type != type)) {
    sb_str(&sb, "a ");
    sb_str(&sb, type_name(type));
    sb_str(&sb, " has no property number ");
    sb_int(&sb, prop);
    return MDL_ERR_BAD_PROP;
  }
  static const char *kinds[] = {"nothing", "an integer", "a number", "true or false", "a string"};
  bool kind_ok = v->kind == info->kind || (info->kind == MDL_VAL_REAL && v->kind == MDL_VAL_INT);
  if (!kind_ok) {
    sb_str(&sb, info->name);
    sb_str(&sb, " must be ");
    sb_str(&sb, kinds[info->kind]);
    return MDL_ERR_BAD_VALUE;
  }
  double x;
  switch (info->kind) {
    case MDL_VAL_STR:
      if (v->u.s.len < info->min || v->u.s.len > info->max) {
        sb_str(&sb, info->name);
        sb_str(&sb, " must be 1 to ");
        sb_int(&sb, (long long) info->max);
        sb_str(&sb, " bytes long");
        return MDL_ERR_RANGE;
      }
      if (!mdl_utf8_valid(v->u.s.ptr, v->u.s.len)) {
        sb_str(&sb, info->name);
        sb_str(&sb, " must be UTF-8 text without control characters");
        return MDL_ERR_BAD_VALUE;
      }
      return MDL_OK;
    case MDL_VAL_BOOL:
      return MDL_OK;
    case MDL_VAL_INT:
      x = (double) v->u.i;
      break;
    default:
      x = v->kind == MDL_VAL_INT ? (double) v->u.i : v->u.r;
      break;
  }
  bool ok = x >= info->min && x <= info->max; /* false for NaN */
  if (ok && prop == MDL_PROP_TS_DEN) ok = (v->u.i & (v->u.i - 1)) == 0;
  if (!ok) {
    sb_str(&sb, info->name);
    sb_str(&sb, " ");
    sb_real(&sb, x);
    sb_str(&sb, prop == MDL_PROP_TS_DEN ? " is not 1, 2, 4, 8, 16 or 32" : " is out of range (");
    if (prop != MDL_PROP_TS_DEN) {
      sb_real(&sb, info->min);
      sb_str(&sb, " to ");
      sb_real(&sb, info->max);
      sb_str(&sb, ")");
    }
    return MDL_ERR_RANGE;
  }
  return MDL_OK;
}

/* ---- Apply ---------------------------------------------------------------- */

static double real_of(const mdl_value *v) {
  return v->kind == MDL_VAL_INT ? (double) v->u.i : v->u.r;
}

static void set_name(char dst[MDL_NAME_MAX + 1], const mdl_value *v) {
  memcpy(dst, v->u.s.ptr, v->u.s.len);
  dst[v->u.s.len] = '\0';
}

/* Stores an already checked value. */
static void store(mdl_project *p, mdl_track *t, int prop, const mdl_value *v) {
  switch (prop) {
    case MDL_PROP_NAME:
      set_name(t ? t->name : p->name, v);
      break;
    case MDL_PROP_TEMPO:
      p->tempo = real_of(v);
      break;
    case MDL_PROP_TS_NUM:
      p->ts_num = (uint8_t) v->u.i;
      break;
    case MDL_PROP_TS_DEN:
      p->ts_den = (uint8_t) v->u.i;
      break;
    case MDL_PROP_METRONOME:
      p->metronome = v->u.b;
      break;
    case MDL_PROP_COLOUR:
      t->colour = (uint32_t) v->u.i;
      break;
    case MDL_PROP_GAIN:
      t->gain = real_of(v);
      break;
    case MDL_PROP_PAN:
      t->pan = real_of(v);
      break;
    case MDL_PROP_MUTE:
      t->mute = v->u.b;
      break;
    case MDL_PROP_SOLO:
      t->solo = v->u.b;
      break;
    default:
      break;
  }
}

/* Applies one op in place; on failure writes the reason (without the op
 * prefix) and the project may be half-changed: the caller rolls back. */
static int apply_op(mdl_project *p, const mdl_op *op, uint32_t origin, sbuf *sb) {
  char why[120];
  int idx, rc;
  switch (op->kind) {
    case MDL_OP_CREATE:
      if (op->type != MDL_TYPE_TRACK) {
        sb_str(sb, "cannot create an object of type ");
        sb_int(sb, op->type);
        return MDL_ERR_BAD_TYPE;
      }
      if (op->id == MDL_ID_NONE || MDL_ID_CLIENT(op->id) == 0) {
        sb_str(sb, "the new id must be nonzero and carry a client id");
        return MDL_ERR_INVALID;
      }
      if (origin != 0 && MDL_ID_CLIENT(op->id) != origin) {
        sb_str(sb, "the new id belongs to client ");
        sb_int(sb, MDL_ID_CLIENT(op->id));
        sb_str(sb, ", not to the sender ");
        sb_int(sb, origin);
        return MDL_ERR_ID_SPACE;
      }
      if (mdl_project_track_index(p, op->id) >= 0) {
        sb_str(sb, "a track with that id already exists");
        return MDL_ERR_EXISTS;
      }
      if (p->n_tracks >= MDL_TRACKS_MAX) {
        sb_str(sb, "a project holds at most ");
        sb_int(sb, MDL_TRACKS_MAX);
        sb_str(sb, " tracks");
        return MDL_ERR_FULL;
      }
      if (op->n_props > MDL_CREATE_MAX_PROPS) {
        sb_str(sb, "too many initial properties");
        return MDL_ERR_INVALID;
      }
      {
        mdl_track *t = &p->tracks[p->n_tracks];
        mdl_track_init(t, op->id);
        for (uint16_t i = 0; i < op->n_props; i++) {
          rc = mdl_value_check(MDL_TYPE_TRACK, op->props[i].prop, &op->props[i].value, why,
                               sizeof why);
          if (rc) {
            sb_str(sb, why);
            return rc;
          }
          store(p, t, op->props[i].prop, &op->props[i].value);
        }
        p->n_tracks++;
      }
      return MDL_OK;

    case MDL_OP_SET:
      if (op->id == MDL_ID_PROJECT) {
        rc = mdl_value_check(MDL_TYPE_PROJECT, op->prop, &op->value, why, sizeof why);
        if (!rc) store(p, NULL, op->prop, &op->value);
      } else {
        idx = mdl_project_track_index(p, op->id);
        if (idx < 0) {
          sb_str(sb, "no object with that id");
          return MDL_ERR_NOT_FOUND;
        }
        rc = mdl_value_check(MDL_TYPE_TRACK, op->prop, &op->value, why, sizeof why);
        if (!rc) store(p, &p->tracks[idx], op->prop, &op->value);
      }
      if (rc) sb_str(sb, why);
      return rc;

    case MDL_OP_DELETE:
      if (op->id == MDL_ID_PROJECT) {
        sb_str(sb, "the project itself cannot be deleted this way");
        return MDL_ERR_FORBIDDEN;
      }
      idx = mdl_project_track_index(p, op->id);
      if (idx < 0) {
        sb_str(sb, "no object with that id");
        return MDL_ERR_NOT_FOUND;
      }
      memmove(&p->tracks[idx], &p->tracks[idx + 1],
              (p->n_tracks - (uint32_t) idx - 1) * sizeof p->tracks[0]);
      p->n_tracks--;
      memset(&p->tracks[p->n_tracks], 0, sizeof p->tracks[0]); /* unused slots stay zero */
      return MDL_OK;

    case MDL_OP_MOVE: {
      idx = mdl_project_track_index(p, op->id);
      if (idx < 0) {
        sb_str(sb,
               op->id == MDL_ID_PROJECT ? "the project cannot be moved" : "no object with that id");
        return op->id == MDL_ID_PROJECT ? MDL_ERR_FORBIDDEN : MDL_ERR_NOT_FOUND;
      }
      if (op->after == op->id) {
        sb_str(sb, "a track cannot be placed after itself");
        return MDL_ERR_INVALID;
      }
      if (op->after != MDL_ID_NONE && mdl_project_track_index(p, op->after) < 0) {
        sb_str(sb, "no track to place it after");
        return MDL_ERR_NOT_FOUND;
      }
      mdl_track moving = p->tracks[idx];
      memmove(&p->tracks[idx], &p->tracks[idx + 1],
              (p->n_tracks - (uint32_t) idx - 1) * sizeof p->tracks[0]);
      p->n_tracks--;
      int at = op->after == MDL_ID_NONE ? 0 : mdl_project_track_index(p, op->after) + 1;
      memmove(&p->tracks[at + 1], &p->tracks[at],
              (p->n_tracks - (uint32_t) at) * sizeof p->tracks[0]);
      p->tracks[at] = moving;
      p->n_tracks++;
      return MDL_OK;
    }
    default:
      sb_str(sb, "unknown operation ");
      sb_int(sb, op->kind);
      return MDL_ERR_BAD_OP;
  }
}

int mdl_txn_apply(mdl_project *p, const mdl_txn *txn, uint32_t origin, mdl_project *scratch,
                  mdl_fail *fail) {
  char tmp[MDL_REASON_MAX];
  sbuf sb = {fail ? fail->reason : tmp, sizeof tmp, 0};
  sb.buf[0] = '\0';
  if (fail) fail->code = MDL_OK, fail->op_index = 0;
  if (txn->n_ops == 0 || txn->n_ops > MDL_TXN_MAX_OPS) {
    sb_str(&sb, txn->n_ops ? "too many ops in one transaction (at most 256)"
                           : "a transaction needs at least one op");
    if (fail) fail->code = MDL_ERR_INVALID;
    return MDL_ERR_INVALID;
  }
  /* Copy only the part of the project that is in use. */
  size_t used = offsetof(mdl_project, tracks) + p->n_tracks * sizeof p->tracks[0];
  memcpy(scratch, p, used);
  uint32_t n_before = p->n_tracks, high = p->n_tracks;
  for (uint32_t i = 0; i < txn->n_ops; i++) {
    sbuf msg = sb;
    sb_str(&msg, "op ");
    sb_int(&msg, i);
    sb_str(&msg, ": ");
    int rc = apply_op(p, &txn->ops[i], origin, &msg);
    /* A create may have written the slot past n_tracks even when it failed. */
    if (p->n_tracks + 1 > high)
      high = p->n_tracks + 1 > MDL_TRACKS_MAX ? MDL_TRACKS_MAX : p->n_tracks + 1;
    if (rc) {
      /* Invariant: slots at and after n_tracks are all zero, so equal
       * projects are equal byte for byte. */
      memcpy(p, scratch, used);
      if (high > n_before) memset(&p->tracks[n_before], 0, (high - n_before) * sizeof p->tracks[0]);
      if (fail) fail->code = rc, fail->op_index = i;
      return rc;
    }
  }
  return MDL_OK;
}

/* ---- Deep copy ------------------------------------------------------------ */

/* Layout of a clone: [header][ops][props][string bytes]. */
typedef struct clone_hdr {
  mdl_txn txn;
  size_t size;
} clone_hdr;

static size_t str_bytes(const mdl_value *v) {
  return v->kind == MDL_VAL_STR ? v->u.s.len : 0;
}

mdl_txn *mdl_txn_clone(const mdl_alloc *a, const mdl_txn *txn) {
  size_t n_props = 0, n_str = 0;
  for (uint32_t i = 0; i < txn->n_ops; i++) {
    const mdl_op *op = &txn->ops[i];
    n_str += str_bytes(&op->value);
    if (op->kind == MDL_OP_CREATE) {
      n_props += op->n_props;
      for (uint16_t k = 0; k < op->n_props; k++)
        n_str += str_bytes(&op->props[k].value);
    }
  }
  size_t size =
      sizeof(clone_hdr) + txn->n_ops * sizeof(mdl_op) + n_props * sizeof(mdl_prop_value) + n_str;
  clone_hdr *h = a->alloc(a->ud, size);
  if (!h) return NULL;
  mdl_op *ops = (mdl_op *) (h + 1);
  mdl_prop_value *pv = (mdl_prop_value *) (ops + txn->n_ops);
  char *str = (char *) (pv + n_props);
  h->size = size;
  h->txn.n_ops = txn->n_ops;
  h->txn.ops = ops;
  for (uint32_t i = 0; i < txn->n_ops; i++) {
    ops[i] = txn->ops[i];
    if (ops[i].value.kind == MDL_VAL_STR) {
      memcpy(str, ops[i].value.u.s.ptr, ops[i].value.u.s.len);
      ops[i].value.u.s.ptr = str;
      str += ops[i].value.u.s.len;
    }
    if (ops[i].kind == MDL_OP_CREATE) {
      if (ops[i].n_props) memcpy(pv, txn->ops[i].props, ops[i].n_props * sizeof *pv);
      ops[i].props = pv;
      for (uint16_t k = 0; k < ops[i].n_props; k++, pv++) {
        if (pv->value.kind != MDL_VAL_STR) continue;
        memcpy(str, pv->value.u.s.ptr, pv->value.u.s.len);
        pv->value.u.s.ptr = str;
        str += pv->value.u.s.len;
      }
    } else {
      ops[i].n_props = 0;
      ops[i].props = NULL;
    }
  }
  return &h->txn;
}

void mdl_txn_free(const mdl_alloc *a, mdl_txn *copy) {
  if (!copy) return;
  clone_hdr *h = (clone_hdr *) copy; /* txn is the first member */
  a->free(a->ud, h, h->size);
}
