/* proto_msg: encoders and checked decoders for every message. */
#include "protocol/proto_msg.h"
#include "protocol/proto_codec.h"
#include "protocol/proto_err.h"
#include "shared/mdl_err.h"

#include <string.h>

/* ---- Values and ops ------------------------------------------------------- */

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
    proto_put_u8(w, op->kind);
    proto_put_u64(w, op->id);
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

static void put_project(proto_writer *w, const mdl_project *p) {
  proto_put_u16(w, MDL_SCHEMA_VERSION);
  proto_put_str(w, false, p->name, strlen(p->name));
  proto_put_f64(w, p->tempo);
  proto_put_u8(w, p->ts_num);
  proto_put_u8(w, p->ts_den);
  proto_put_u8(w, p->metronome);
  proto_put_u16(w, (uint16_t) p->n_tracks);
  for (uint32_t i = 0; i < p->n_tracks; i++) {
    const mdl_track *t = &p->tracks[i];
    proto_put_u64(w, t->id);
    proto_put_str(w, false, t->name, strlen(t->name));
    proto_put_u32(w, t->colour);
    proto_put_f64(w, t->gain);
    proto_put_f64(w, t->pan);
    proto_put_u8(w, t->mute);
    proto_put_u8(w, t->solo);
  }
}

/* Reads a property value of the given kind and checks it with the model's
 * own rules, so a snapshot can never hold a state no op could make. */
static void get_checked(proto_reader *r, int type, int prop, mdl_value *v) {
  const mdl_prop_info *info = mdl_prop_describe(prop);
  memset(v, 0, sizeof *v);
  v->kind = info->kind;
  switch (info->kind) {
    case MDL_VAL_STR:
      v->u.s.ptr = proto_get_str(r, false, &v->u.s.len);
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
      v->u.i = prop == MDL_PROP_COLOUR ? proto_get_u32(r) : proto_get_u8(r);
      break;
  }
  char why[8];
  if (!r->err && mdl_value_check(type, prop, v, why, sizeof why)) r->err = PROTO_ERR_RANGE;
}

static void get_project(proto_reader *r, mdl_project *p) {
  mdl_value v;
  mdl_project_init(p, NULL);
  if (proto_get_u16(r) != MDL_SCHEMA_VERSION && !r->err) r->err = PROTO_ERR_VERSION;
  get_checked(r, MDL_TYPE_PROJECT, MDL_PROP_NAME, &v);
  if (!r->err) memcpy(p->name, v.u.s.ptr, v.u.s.len), p->name[v.u.s.len] = 0;
  get_checked(r, MDL_TYPE_PROJECT, MDL_PROP_TEMPO, &v);
  p->tempo = v.u.r;
  get_checked(r, MDL_TYPE_PROJECT, MDL_PROP_TS_NUM, &v);
  p->ts_num = (uint8_t) v.u.i;
  get_checked(r, MDL_TYPE_PROJECT, MDL_PROP_TS_DEN, &v);
  p->ts_den = (uint8_t) v.u.i;
  get_checked(r, MDL_TYPE_PROJECT, MDL_PROP_METRONOME, &v);
  p->metronome = v.u.b;
  uint16_t n = proto_get_u16(r);
  if (n > MDL_TRACKS_MAX && !r->err) r->err = PROTO_ERR_RANGE;
  for (uint16_t i = 0; i < n && !r->err; i++) {
    mdl_track *t = &p->tracks[i];
    mdl_track_init(t, proto_get_u64(r));
    if (!r->err && (MDL_ID_CLIENT(t->id) == 0 || mdl_project_track_index(p, t->id) >= 0))
      r->err = PROTO_ERR_RANGE; /* ids are nonzero and unique */
    get_checked(r, MDL_TYPE_TRACK, MDL_PROP_NAME, &v);
    if (!r->err) memcpy(t->name, v.u.s.ptr, v.u.s.len), t->name[v.u.s.len] = 0;
    get_checked(r, MDL_TYPE_TRACK, MDL_PROP_COLOUR, &v);
    t->colour = (uint32_t) v.u.i;
    get_checked(r, MDL_TYPE_TRACK, MDL_PROP_GAIN, &v);
    t->gain = v.u.r;
    get_checked(r, MDL_TYPE_TRACK, MDL_PROP_PAN, &v);
    t->pan = v.u.r;
    get_checked(r, MDL_TYPE_TRACK, MDL_PROP_MUTE, &v);
    t->mute = v.u.b;
    get_checked(r, MDL_TYPE_TRACK, MDL_PROP_SOLO, &v);
    t->solo = v.u.b;
    if (!r->err) p->n_tracks = i + 1u;
  }
  if (r->err) mdl_project_init(p, NULL);
}

/* ---- Messages ------------------------------------------------------------- */

int proto_encode(const proto_msg *m, void *buf, size_t cap) {
  proto_writer w;
  proto_writer_init(&w, buf, cap > PROTO_MAX_MSG ? PROTO_MAX_MSG : cap);
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
      }
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
  if (w.err) return w.err == PROTO_ERR_NO_SPACE && cap >= PROTO_MAX_MSG ? PROTO_ERR_TOO_BIG : w.err;
  return (int) w.len;
}

static bool text_ok(proto_reader *r, const char *s, uint32_t len) {
  if (!r->err && !mdl_utf8_valid(s, len)) r->err = PROTO_ERR_BAD_TEXT;
  return !r->err;
}

int proto_decode(const void *data, size_t len, proto_scratch *s, proto_msg *m, size_t *at) {
  proto_reader r;
  memset(m, 0, sizeof *m);
  if (len > PROTO_MAX_MSG) {
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
      get_project(&r, &s->project);
      m->u.welcome.snapshot = &s->project;
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
        if (!r.err && !(mt->m[i].peak >= 0 && mt->m[i].peak < 1e6f && mt->m[i].rms >= 0 &&
                        mt->m[i].rms < 1e6f))
          r.err = PROTO_ERR_RANGE;
      }
      break;
    }
    case PROTO_TRANSPORT:
      m->u.transport.command = proto_get_u8(&r);
      if (!r.err && (m->u.transport.command < 1 || m->u.transport.command > 2))
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
  get_project(&r, out);
  proto_reader_done(&r);
  if (r.err) mdl_project_init(out, NULL);
  return r.err;
}
