/* proto_msg: encoders and checked decoders for every message. */
#include "protocol/proto_msg.h"
#include "protocol/proto_codec.h"
#include "protocol/proto_err.h"
#include "shared/mdl_err.h"

#include <string.h>

/* ---- Values and ops ------------------------------------------------------- */

/* Op kinds on the wire beyond mdl_op_kind: a create with a parent other than
 * the project, a move to a new parent (both carry the parent id). */
enum { WIRE_CREATE_IN = 5, WIRE_MOVE_TO = 6 };

static void put_value(proto_writer *w, const mdl_value *v) {
  proto_put_u8(w, v->kind);
  switch (v->kind) {
    case MDL_VAL_INT:
      proto_put_u64(w, (uint64_t) v->u.i);
      break;
    case MDL_VAL_REAL:
      proto_put_f64(w, v->u.r);
      break;
    case MDL_VAL_BOOL:
      proto_put_u8(w, v->u.b);
      break;
    case MDL_VAL_STR:
      proto_put_str(w, true, v->u.s.ptr, v->u.s.len);
      break;
    default:
      if (!w->err) w->err = PROTO_ERR_RANGE;
      break;
  }
}

static void get_value(proto_reader *r, mdl_value *v) {
  memset(v, 0, sizeof *v);
  v->kind = proto_get_u8(r);
  switch (v->kind) {
    case MDL_VAL_INT:
      v->u.i = (int64_t) proto_get_u64(r);
      break;
    case MDL_VAL_REAL:
      v->u.r = proto_get_f64(r);
      if (!r->err && !(v->u.r - v->u.r == 0)) r->err = PROTO_ERR_RANGE; /* NaN or infinity */
      break;
    case MDL_VAL_BOOL: {
      uint8_t b = proto_get_u8(r);
      if (!r->err && b > 1) r->err = PROTO_ERR_RANGE;
      v->u.b = b;
      break;
    }
    case MDL_VAL_STR:
      v->u.s.ptr = proto_get_str(r, true, &v->u.s.len);
      if (!r->err && !mdl_utf8_valid(v->u.s.ptr, v->u.s.len)) r->err = PROTO_ERR_BAD_TEXT;
      break;
    default:
      if (!r->err) r->err = PROTO_ERR_RANGE;
      break;
  }
}

static void put_txn(proto_writer *w, const mdl_txn *txn) {
  if (txn->n_ops > MDL_TXN_MAX_OPS) {
    if (!w->err) w->err = PROTO_ERR_TOO_BIG;
    return;
  }
  proto_put_u16(w, (uint16_t) txn->n_ops);
  for (uint32_t i = 0; i < txn->n_ops; i++) {
    const mdl_op *op = &txn->ops[i];
    /* A create under the project and a move that keeps the parent use the
     * version-2 encodings, so logs written before nesting still decode. */
    bool nested = op->parent != MDL_ID_NONE && op->parent != MDL_ID_PROJECT;
    bool moved = op->kind == MDL_OP_MOVE && op->parent != MDL_ID_NONE;
    uint8_t wire = op->kind == MDL_OP_CREATE && nested ? WIRE_CREATE_IN
                   : moved                             ? WIRE_MOVE_TO
                                                       : op->kind;
    proto_put_u8(w, wire);
    proto_put_u64(w, op->id);
    if (wire == WIRE_CREATE_IN || wire == WIRE_MOVE_TO) proto_put_u64(w, op->parent);
    switch (op->kind) {
      case MDL_OP_CREATE:
        proto_put_u8(w, op->type);
        proto_put_u8(w, (uint8_t) op->n_props);
        if (op->n_props > MDL_CREATE_MAX_PROPS && !w->err) w->err = PROTO_ERR_TOO_BIG;
        for (uint16_t k = 0; k < op->n_props && !w->err; k++) {
          proto_put_u8(w, op->props[k].prop);
          put_value(w, &op->props[k].value);
        }
        break;
      case MDL_OP_SET:
        proto_put_u8(w, op->prop);
        put_value(w, &op->value);
        break;
      case MDL_OP_DELETE:
        break;
      case MDL_OP_MOVE:
        proto_put_u64(w, op->after);
        break;
      default:
        if (!w->err) w->err = PROTO_ERR_RANGE;
        break;
    }
  }
}

static void get_txn(proto_reader *r, proto_scratch *s, mdl_txn *txn) {
  uint16_t n = proto_get_u16(r);
  txn->n_ops = 0;
  txn->ops = s->ops;
  if (r->err) return;
  if (n == 0 || n > MDL_TXN_MAX_OPS) {
    r->err = PROTO_ERR_RANGE;
    return;
  }
  size_t used_props = 0;
  for (uint16_t i = 0; i < n && !r->err; i++) {
    mdl_op *op = &s->ops[i];
    memset(op, 0, sizeof *op);
    op->kind = proto_get_u8(r);
    op->id = proto_get_u64(r);
    if (op->kind == WIRE_CREATE_IN || op->kind == WIRE_MOVE_TO) {
      op->parent = proto_get_u64(r);
      /* A create under the project has its own, shorter encoding: the
       * long one would not be canonical (it would re-encode differently). */
      bool top = op->kind == WIRE_CREATE_IN && op->parent == MDL_ID_PROJECT;
      op->kind = op->kind == WIRE_CREATE_IN ? MDL_OP_CREATE : MDL_OP_MOVE;
      if ((!op->parent || top) && !r->err) r->err = PROTO_ERR_RANGE;
    }
    switch (op->kind) {
      case MDL_OP_CREATE:
        op->type = proto_get_u8(r);
        op->n_props = proto_get_u8(r);
        if (op->n_props > MDL_CREATE_MAX_PROPS || used_props + op->n_props > PROTO_MAX_PROPS) {
          if (!r->err) r->err = PROTO_ERR_RANGE;
          break;
        }
        op->props = &s->props[used_props];
        for (uint16_t k = 0; k < op->n_props; k++) {
          s->props[used_props].prop = proto_get_u8(r);
          get_value(r, &s->props[used_props].value);
          used_props++;
        }
        break;
      case MDL_OP_SET:
        op->prop = proto_get_u8(r);
        get_value(r, &op->value);
        break;
      case MDL_OP_DELETE:
        break;
      case MDL_OP_MOVE:
        op->after = proto_get_u64(r);
        break;
      default:
        if (!r->err) r->err = PROTO_ERR_RANGE;
        break;
    }
  }
  txn->n_ops = n;
}

/* ---- Project snapshot ----------------------------------------------------- */

/* Version 2 (schema 2): u16 schema, u32 objects, then per object, parents
 * first: u8 type, u64 id, u64 parent, and its properties in schema order
 * (strings u16-prefixed, ints and ids u64, reals f64, bools u8). */
static void put_object(void *ud, int type, mdl_id id, mdl_id parent, const mdl_value *vals,
                       uint32_t n) {
  proto_writer *w = ud;
  proto_put_u8(w, (uint8_t) type);
  proto_put_u64(w, id);
  proto_put_u64(w, parent);
  for (uint32_t k = 0; k < n; k++) {
    const mdl_value *v = &vals[k];
    switch (v->kind) {
      case MDL_VAL_STR:
        proto_put_str(w, true, v->u.s.ptr, v->u.s.len);
        break;
      case MDL_VAL_REAL:
        proto_put_f64(w, v->u.r);
        break;
      case MDL_VAL_BOOL:
        proto_put_u8(w, v->u.b);
        break;
      default:
        proto_put_u64(w, (uint64_t) v->u.i);
        break;
    }
  }
}

static void put_project(proto_writer *w, const mdl_project *p) {
  proto_put_u16(w, MDL_SCHEMA_VERSION);
  proto_put_u32(w, mdl_count(p, 0));
  mdl_walk(p, put_object, w);
}

/* Reads one object and loads it through the model's own checks, so a
 * snapshot can never hold a state no op could make. */
static void get_object(proto_reader *r, mdl_project *p) {
  int type = proto_get_u8(r);
  mdl_id id = proto_get_u64(r), parent = proto_get_u64(r);
  uint8_t props[64];
  uint32_t n = mdl_fields(type, props, 64);
  if (r->err) return;
  if (!n) {
    r->err = PROTO_ERR_RANGE;
    return;
  }
  mdl_value vals[64];
  for (uint32_t k = 0; k < n && !r->err; k++) {
    mdl_value *v = &vals[k];
    memset(v, 0, sizeof *v);
    v->kind = mdl_prop_describe(props[k])->kind;
    switch (v->kind) {
      case MDL_VAL_STR:
        v->u.s.ptr = proto_get_str(r, true, &v->u.s.len);
        if (!r->err && !mdl_utf8_valid(v->u.s.ptr, v->u.s.len)) r->err = PROTO_ERR_BAD_TEXT;
        break;
      case MDL_VAL_REAL:
        v->u.r = proto_get_f64(r);
        break;
      case MDL_VAL_BOOL: {
        uint8_t b = proto_get_u8(r);
        if (b > 1 && !r->err) r->err = PROTO_ERR_RANGE;
        v->u.b = b;
        break;
      }
      default:
        v->kind = MDL_VAL_INT;
        v->u.i = (int64_t) proto_get_u64(r);
        break;
    }
  }
  if (!r->err && mdl_load_object(p, type, id, parent, vals, n, NULL)) r->err = PROTO_ERR_RANGE;
}

/* Schema 1 (the walking skeleton): the project's name, tempo, signature and
 * metronome, then flat tracks. They become instrument tracks in that order. */
static void get_project_v1(proto_reader *r, mdl_project *p) {
  mdl_value v[6];
  uint8_t props[] = {MDL_PROP_NAME, MDL_PROP_TEMPO, MDL_PROP_TS_NUM, MDL_PROP_TS_DEN,
                     MDL_PROP_METRONOME};
  v[0] = (mdl_value){.kind = MDL_VAL_STR};
  v[0].u.s.ptr = proto_get_str(r, false, &v[0].u.s.len);
  v[1] = (mdl_value){.kind = MDL_VAL_REAL, .u.r = proto_get_f64(r)};
  v[2] = (mdl_value){.kind = MDL_VAL_INT, .u.i = proto_get_u8(r)};
  v[3] = (mdl_value){.kind = MDL_VAL_INT, .u.i = proto_get_u8(r)};
  v[4] = (mdl_value){.kind = MDL_VAL_BOOL, .u.b = proto_get_u8(r) != 0};
  mdl_op set[5];
  for (int i = 0; i < 5; i++)
    set[i] = (mdl_op){.kind = MDL_OP_SET, .id = MDL_ID_PROJECT, .prop = props[i], .value = v[i]};
  mdl_txn t = {5, set};
  if (!r->err && mdl_txn_apply(p, &t, 0, NULL)) r->err = PROTO_ERR_RANGE;
  uint16_t n = proto_get_u16(r);
  for (uint16_t i = 0; i < n && !r->err; i++) {
    mdl_prop_value pv[6] = {{MDL_PROP_NAME, {.kind = MDL_VAL_STR}}};
    mdl_id id = proto_get_u64(r);
    pv[0].value.u.s.ptr = proto_get_str(r, false, &pv[0].value.u.s.len);
    pv[1] = (mdl_prop_value){MDL_PROP_COLOUR, {.kind = MDL_VAL_INT, .u.i = proto_get_u32(r)}};
    pv[2] = (mdl_prop_value){MDL_PROP_GAIN, {.kind = MDL_VAL_REAL, .u.r = proto_get_f64(r)}};
    pv[3] = (mdl_prop_value){MDL_PROP_PAN, {.kind = MDL_VAL_REAL, .u.r = proto_get_f64(r)}};
    pv[4] = (mdl_prop_value){MDL_PROP_MUTE, {.kind = MDL_VAL_BOOL, .u.b = proto_get_u8(r) != 0}};
    pv[5] = (mdl_prop_value){MDL_PROP_SOLO, {.kind = MDL_VAL_BOOL, .u.b = proto_get_u8(r) != 0}};
    mdl_op op = {
        .kind = MDL_OP_CREATE, .type = MDL_TYPE_TRACK, .id = id, .n_props = 6, .props = pv};
    mdl_txn one = {1, &op};
    if (!r->err && mdl_txn_apply(p, &one, 0, NULL)) r->err = PROTO_ERR_RANGE;
  }
}

/* A snapshot; one of schema 1 is upgraded only when OLD_OK (a project
 * file): a WELCOME carries the current schema, so that every message has
 * one encoding (a schema-1 snapshot re-encodes as schema 2). */
static void get_project(proto_reader *r, mdl_project *p, bool old_ok) {
  mdl_load_begin(p);
  uint16_t schema = proto_get_u16(r);
  if (schema == 1 && !old_ok && !r->err) {
    r->err = PROTO_ERR_VERSION;
  } else if (schema == 1 && !r->err) {
    get_project_v1(r, p);
  } else if (schema == MDL_SCHEMA_VERSION && !r->err) {
    uint32_t n = proto_get_u32(r);
    if (!r->err && n > (r->len - r->pos) / 17)
      r->err = PROTO_ERR_RANGE; /* 17 bytes each at least */
    for (uint32_t i = 0; i < n && !r->err; i++)
      get_object(r, p);
    /* Every object once, the project and master included. */
    if (!r->err && mdl_count(p, 0) != n) r->err = PROTO_ERR_RANGE;
    if (!r->err && mdl_load_end(p, NULL)) r->err = PROTO_ERR_RANGE;
  } else if (!r->err) {
    r->err = PROTO_ERR_VERSION;
  }
  if (r->err) mdl_project_reset(p, NULL);
}

/* ---- Messages ------------------------------------------------------------- */

/* A loudness on the wire: -200 (silence) .. 30 LUFS. */
static bool lufs_ok(float l) {
  return l >= -200.0f && l <= 30.0f;
}

int proto_encode(const proto_msg *m, void *buf, size_t cap) {
  proto_writer w;
  size_t limit = m->type == PROTO_WELCOME ? PROTO_MAX_WELCOME : PROTO_MAX_MSG;
  proto_writer_init(&w, buf, cap > limit ? limit : cap);
  proto_put_u8(&w, m->type);
  switch (m->type) {
    case PROTO_HELLO:
      proto_put_u16(&w, m->u.hello.version);
      proto_put_str(&w, false, m->u.hello.project, m->u.hello.project_len);
      proto_put_str(&w, false, m->u.hello.user, m->u.hello.user_len);
      proto_put_u32(&w, m->u.hello.colour);
      proto_put_u32(&w, m->u.hello.want_client);
      break;
    case PROTO_WELCOME:
      proto_put_u16(&w, m->u.welcome.version);
      proto_put_u32(&w, m->u.welcome.client_id);
      proto_put_u32(&w, m->u.welcome.last_local);
      proto_put_u64(&w, m->u.welcome.seq);
      put_project(&w, m->u.welcome.snapshot);
      break;
    case PROTO_SUBMIT:
      proto_put_u32(&w, m->u.submit.local_id);
      put_txn(&w, &m->u.submit.txn);
      break;
    case PROTO_ACK:
      proto_put_u32(&w, m->u.ack.local_id);
      proto_put_u64(&w, m->u.ack.seq);
      break;
    case PROTO_REJECT:
      proto_put_u32(&w, m->u.reject.local_id);
      proto_put_u16(&w, (uint16_t) m->u.reject.code);
      proto_put_str(&w, true, m->u.reject.reason, m->u.reject.reason_len);
      break;
    case PROTO_BROADCAST:
      proto_put_u64(&w, m->u.broadcast.seq);
      proto_put_u32(&w, m->u.broadcast.origin);
      put_txn(&w, &m->u.broadcast.txn);
      break;
    case PROTO_PRESENCE:
      proto_put_u32(&w, m->u.presence.client_id);
      proto_put_str(&w, false, m->u.presence.name, m->u.presence.name_len);
      proto_put_u32(&w, m->u.presence.colour);
      proto_put_u64(&w, m->u.presence.selection);
      proto_put_u64(&w, m->u.presence.view);
      proto_put_u8(&w, m->u.presence.online);
      break;
    case PROTO_METERS:
      if (m->u.meters.n > PROTO_MAX_METERS) return PROTO_ERR_TOO_BIG;
      proto_put_u64(&w, m->u.meters.position);
      proto_put_u8(&w, m->u.meters.playing);
      proto_put_u8(&w, m->u.meters.n);
      for (uint8_t i = 0; i < m->u.meters.n; i++) {
        proto_put_u64(&w, m->u.meters.m[i].track_id);
        proto_put_f32(&w, m->u.meters.m[i].peak);
        proto_put_f32(&w, m->u.meters.m[i].rms);
        proto_put_u16(&w, (uint16_t) m->u.meters.m[i].slot);
        proto_put_u16(&w, (uint16_t) m->u.meters.m[i].queued);
      }
      if (!lufs_ok(m->u.meters.lufs_momentary) || !lufs_ok(m->u.meters.lufs_short_term))
        return PROTO_ERR_RANGE;
      proto_put_f32(&w, m->u.meters.lufs_momentary);
      proto_put_f32(&w, m->u.meters.lufs_short_term);
      break;
    case PROTO_TRANSPORT:
      proto_put_u8(&w, m->u.transport.command);
      break;
    case PROTO_LIVE:
      proto_put_u32(&w, m->u.live.client_id);
      proto_put_u64(&w, m->u.live.id);
      proto_put_u8(&w, m->u.live.prop);
      put_value(&w, &m->u.live.value);
      break;
    case PROTO_LISTEN:
      if (m->u.listen.on > 1) return PROTO_ERR_RANGE;
      proto_put_u8(&w, m->u.listen.on);
      break;
    case PROTO_LAUNCH:
      if (!m->u.launch.clip && !m->u.launch.track) return PROTO_ERR_RANGE;
      proto_put_u64(&w, m->u.launch.clip);
      proto_put_u64(&w, m->u.launch.track);
      break;
    case PROTO_NOTE:
      if (!m->u.note.track || m->u.note.key > 127 || m->u.note.velocity > 127)
        return PROTO_ERR_RANGE;
      proto_put_u64(&w, m->u.note.track);
      proto_put_u8(&w, m->u.note.key);
      proto_put_u8(&w, m->u.note.velocity);
      break;
    case PROTO_ENGINE:
      if (m->u.engine.audio_len > 255) return PROTO_ERR_RANGE;
      proto_put_u16(&w, m->u.engine.dsp_permille);
      proto_put_u32(&w, m->u.engine.xruns);
      proto_put_str(&w, false, m->u.engine.audio, m->u.engine.audio_len);
      break;
    case PROTO_AUDIO:
      if (m->u.audio.len < 1 || m->u.audio.len > PROTO_MAX_AUDIO || !m->u.audio.data)
        return PROTO_ERR_RANGE;
      proto_put_u32(&w, m->u.audio.seq);
      proto_put_u64(&w, m->u.audio.position);
      proto_put_u64(&w, m->u.audio.sent_us);
      proto_put_str(&w, true, (const char *) m->u.audio.data, m->u.audio.len);
      break;
    default:
      return PROTO_ERR_UNKNOWN_TYPE;
  }
  if (w.err) return w.err == PROTO_ERR_NO_SPACE && cap >= limit ? PROTO_ERR_TOO_BIG : w.err;
  return (int) w.len;
}

static bool text_ok(proto_reader *r, const char *s, uint32_t len) {
  if (!r->err && !mdl_utf8_valid(s, len)) r->err = PROTO_ERR_BAD_TEXT;
  return !r->err;
}

int proto_decode(const void *data, size_t len, proto_scratch *s, proto_msg *m, size_t *at) {
  proto_reader r;
  memset(m, 0, sizeof *m);
  bool welcome = len > 0 && ((const uint8_t *) data)[0] == PROTO_WELCOME;
  if (len > (welcome ? PROTO_MAX_WELCOME : PROTO_MAX_MSG)) {
    if (at) *at = 0;
    return PROTO_ERR_TOO_BIG;
  }
  proto_reader_init(&r, data, len);
  m->type = proto_get_u8(&r);
  switch (m->type) {
    case PROTO_HELLO: {
      proto_hello *h = &m->u.hello;
      h->version = proto_get_u16(&r);
      h->project = proto_get_str(&r, false, &h->project_len);
      if (!r.err && (h->project_len == 0 || h->project_len > PROTO_PROJECT_ID_MAX))
        r.err = PROTO_ERR_RANGE;
      text_ok(&r, h->project, h->project_len);
      h->user = proto_get_str(&r, false, &h->user_len);
      text_ok(&r, h->user, h->user_len);
      h->colour = proto_get_u32(&r);
      if (!r.err && h->colour > 0xFFFFFF) r.err = PROTO_ERR_RANGE;
      h->want_client = proto_get_u32(&r);
      break;
    }
    case PROTO_WELCOME:
      m->u.welcome.version = proto_get_u16(&r);
      m->u.welcome.client_id = proto_get_u32(&r);
      m->u.welcome.last_local = proto_get_u32(&r);
      m->u.welcome.seq = proto_get_u64(&r);
      if (!s->project) {
        r.err = PROTO_ERR_RANGE; /* the caller gave no project to load into */
        break;
      }
      get_project(&r, s->project, false);
      m->u.welcome.snapshot = s->project;
      break;
    case PROTO_SUBMIT:
      m->u.submit.local_id = proto_get_u32(&r);
      get_txn(&r, s, &m->u.submit.txn);
      break;
    case PROTO_ACK:
      m->u.ack.local_id = proto_get_u32(&r);
      m->u.ack.seq = proto_get_u64(&r);
      break;
    case PROTO_REJECT:
      m->u.reject.local_id = proto_get_u32(&r);
      m->u.reject.code = (int16_t) proto_get_u16(&r);
      m->u.reject.reason = proto_get_str(&r, true, &m->u.reject.reason_len);
      text_ok(&r, m->u.reject.reason, m->u.reject.reason_len);
      break;
    case PROTO_BROADCAST:
      m->u.broadcast.seq = proto_get_u64(&r);
      m->u.broadcast.origin = proto_get_u32(&r);
      get_txn(&r, s, &m->u.broadcast.txn);
      break;
    case PROTO_PRESENCE: {
      proto_presence *p = &m->u.presence;
      p->client_id = proto_get_u32(&r);
      p->name = proto_get_str(&r, false, &p->name_len);
      text_ok(&r, p->name, p->name_len);
      p->colour = proto_get_u32(&r);
      p->selection = proto_get_u64(&r);
      p->view = proto_get_u64(&r);
      uint8_t online = proto_get_u8(&r);
      if (!r.err && (online > 1 || p->colour > 0xFFFFFF)) r.err = PROTO_ERR_RANGE;
      p->online = online;
      break;
    }
    case PROTO_METERS: {
      proto_meters *mt = &m->u.meters;
      mt->position = proto_get_u64(&r);
      uint8_t playing = proto_get_u8(&r);
      mt->n = proto_get_u8(&r);
      if (!r.err && (playing > 1 || mt->n > PROTO_MAX_METERS)) r.err = PROTO_ERR_RANGE;
      mt->playing = playing;
      for (uint8_t i = 0; i < mt->n && !r.err; i++) {
        mt->m[i].track_id = proto_get_u64(&r);
        mt->m[i].peak = proto_get_f32(&r);
        mt->m[i].rms = proto_get_f32(&r);
        mt->m[i].slot = (int16_t) proto_get_u16(&r);
        mt->m[i].queued = (int16_t) proto_get_u16(&r);
        if (!r.err && (mt->m[i].slot < -1 || mt->m[i].queued < -2)) r.err = PROTO_ERR_RANGE;
        if (!r.err && !(mt->m[i].peak >= 0 && mt->m[i].peak < 1e6f && mt->m[i].rms >= 0 &&
                        mt->m[i].rms < 1e6f))
          r.err = PROTO_ERR_RANGE;
      }
      mt->lufs_momentary = proto_get_f32(&r);
      mt->lufs_short_term = proto_get_f32(&r);
      if (!r.err && (!lufs_ok(mt->lufs_momentary) || !lufs_ok(mt->lufs_short_term)))
        r.err = PROTO_ERR_RANGE;
      break;
    }
    case PROTO_TRANSPORT:
      m->u.transport.command = proto_get_u8(&r);
      if (!r.err && (m->u.transport.command < 1 || m->u.transport.command > 3))
        r.err = PROTO_ERR_RANGE;
      break;
    case PROTO_LIVE:
      m->u.live.client_id = proto_get_u32(&r);
      m->u.live.id = proto_get_u64(&r);
      m->u.live.prop = proto_get_u8(&r);
      get_value(&r, &m->u.live.value);
      break;
    case PROTO_LISTEN:
      m->u.listen.on = proto_get_u8(&r);
      if (!r.err && m->u.listen.on > 1) r.err = PROTO_ERR_RANGE;
      break;
    case PROTO_LAUNCH:
      m->u.launch.clip = proto_get_u64(&r);
      m->u.launch.track = proto_get_u64(&r);
      if (!r.err && !m->u.launch.clip && !m->u.launch.track) r.err = PROTO_ERR_RANGE;
      break;
    case PROTO_NOTE:
      m->u.note.track = proto_get_u64(&r);
      m->u.note.key = proto_get_u8(&r);
      m->u.note.velocity = proto_get_u8(&r);
      if (!r.err && (!m->u.note.track || m->u.note.key > 127 || m->u.note.velocity > 127))
        r.err = PROTO_ERR_RANGE;
      break;
    case PROTO_ENGINE: {
      proto_engine *g = &m->u.engine;
      g->dsp_permille = proto_get_u16(&r);
      g->xruns = proto_get_u32(&r);
      g->audio = proto_get_str(&r, false, &g->audio_len);
      text_ok(&r, g->audio, g->audio_len);
      break;
    }
    case PROTO_AUDIO: {
      proto_audio *a = &m->u.audio;
      uint32_t n = 0;
      a->seq = proto_get_u32(&r);
      a->position = proto_get_u64(&r);
      a->sent_us = proto_get_u64(&r);
      a->data = (const uint8_t *) proto_get_str(&r, true, &n); /* u16 length, then bytes */
      if (!r.err && (n < 1 || n > PROTO_MAX_AUDIO)) r.err = PROTO_ERR_RANGE;
      a->len = (uint16_t) n;
      break;
    }
    default:
      if (!r.err) r.err = PROTO_ERR_UNKNOWN_TYPE;
      break;
  }
  proto_reader_done(&r);
  if (at) *at = r.pos;
  return r.err;
}

int proto_encode_txn(const mdl_txn *txn, void *buf, size_t cap) {
  proto_writer w;
  proto_writer_init(&w, buf, cap);
  put_txn(&w, txn);
  return w.err ? w.err : (int) w.len;
}

int proto_decode_txn(const void *data, size_t len, proto_scratch *s, mdl_txn *out) {
  proto_reader r;
  proto_reader_init(&r, data, len);
  get_txn(&r, s, out);
  proto_reader_done(&r);
  return r.err;
}

int proto_encode_project(const mdl_project *p, void *buf, size_t cap) {
  proto_writer w;
  proto_writer_init(&w, buf, cap);
  put_project(&w, p);
  return w.err ? w.err : (int) w.len;
}

int proto_decode_project(const void *data, size_t len, mdl_project *out) {
  proto_reader r;
  proto_reader_init(&r, data, len);
  get_project(&r, out, true);
  proto_reader_done(&r);
  if (r.err) mdl_project_reset(out, NULL);
  return r.err;
}

static void size_object(void *ud, int type, mdl_id id, mdl_id parent, const mdl_value *vals,
                        uint32_t n) {
  size_t *size = ud;
  (void) type, (void) id, (void) parent;
  *size += 17;
  for (uint32_t k = 0; k < n; k++)
    *size += vals[k].kind == MDL_VAL_STR    ? 2 + vals[k].u.s.len
             : vals[k].kind == MDL_VAL_BOOL ? 1
                                            : 8;
}

size_t proto_project_size(const mdl_project *p) {
  size_t size = 6;
  mdl_walk(p, size_object, &size);
  return size;
}
