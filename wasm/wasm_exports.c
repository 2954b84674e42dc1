/* wasm_exports: the JavaScript-facing glue of the browser's model.
 *
 * Glue only, no model rules: it owns one mdl_replica (over malloc/free), a
 * proto_scratch and two message buffers, and turns calls from web/model.js
 * into replica calls and wire messages. Everything crosses the boundary as
 * numbers: ids as a (hi, lo) pair of u32, strings as a pointer into the
 * input buffer plus a byte length, results as pointers to NUL-terminated
 * static strings (valid until the next call) or lengths of the message now
 * in the output buffer.
 *
 * The protocol: JS copies each received frame into wasm_in_buf() and calls
 * wasm_receive(len). Each local edit returns the length of a SUBMIT message
 * in wasm_out_buf() for JS to send, or a negative error whose reason
 * wasm_reason() gives. Single-threaded (the page's main thread). */
#include "protocol/proto_err.h"
#include "shared/mdl_libc.h"
#include "protocol/proto_msg.h"
#include "shared/mdl_device.h"
#include "shared/mdl_err.h"
#include "shared/mdl_replica.h"
#include "shared/mdl_time.h"

#include <emscripten/emscripten.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define EXPORT EMSCRIPTEN_KEEPALIVE

/* ---- State ---------------------------------------------------------------- */

typedef struct meters {
  double position; /* frames since the start of the song */
  int playing;
  int n;
  char ids[PROTO_MAX_METERS][17]; /* hex; "0" = master */
  float peak[PROTO_MAX_METERS], rms[PROTO_MAX_METERS];
  int16_t slot[PROTO_MAX_METERS], queued[PROTO_MAX_METERS];
  double lufs_momentary, lufs_short_term; /* the master's loudness */
} meters;

typedef struct presence {
  uint32_t client_id;
  char name[256];
  uint32_t colour;
  char selection[17];
  double view; /* ticks */
  int online;
} presence;

static mdl_replica *replica;
static proto_scratch scratch;
static uint8_t *in_buf; /* grows to the largest message received (a WELCOME can be big) */
static size_t in_cap;
static uint8_t out_buf[PROTO_MAX_MSG];
static char reason[256]; /* why the last call failed, or the last REJECT */
static int reason_code;
static uint32_t reject_local; /* local id of the last REJECT */
static meters last_meters;
static presence last_presence;
static struct {
  int dsp_permille;
  double xruns;
  char audio[256];
} last_engine; /* the last ENGINE */
static struct {
  uint32_t client_id;
  char id[17];
  int prop;
  double value;
} last_live; /* the newest LIVE received */
static char hex_buf[17];
static char last_id[17];       /* hex id of the last created track */
static proto_audio last_audio; /* the newest AUDIO; data points into in_buf */

static void set_reason(int code, const char *text) {
  reason_code = code;
  snprintf(reason, sizeof reason, "%s", text);
}

static void id_hex(mdl_id id, char out[17]) {
  snprintf(out, 17, "%llx", (unsigned long long) id);
}

static mdl_id make_id(uint32_t hi, uint32_t lo) {
  return ((uint64_t) hi << 32) | lo;
}

/* ---- What changed, for the page's views ------------------------------------ */

/* Every transaction applied to the view notes the types of the objects it
 * touched and the properties it set, so the page re-reads and redraws only
 * the views that show them (wasm_take_changes). Coarse on purpose: a view
 * told of a change it does not show only redraws for nothing. */
#define CHANGED_IDS 64 /* objects named one by one (more: the bits only) */

/* Objects named in order, a repeat of the last one not kept. */
typedef struct {
  uint32_t n;
  bool over; /* more than CHANGED_IDS: see the bits only */
  mdl_id id[CHANGED_IDS];
} id_list;

static struct {
  bool all;          /* a reset, a restore, a rejection: anything may have changed */
  uint64_t shaped;   /* bit per mdl_type: an object created, deleted or moved */
  uint64_t set;      /* bit per mdl_type: a property set */
  uint64_t props[4]; /* bit per mdl_prop: the properties set */
  id_list ids;       /* the objects set */
  id_list homes;     /* the parents of every object touched (a moved one's old and new) */
} changes;
static uint32_t changes_out[15];           /* wasm_take_changes' copy, in u32 halves for JS */
static id_list changed_ids, changed_homes; /* its copies (wasm_changed_id, wasm_changed_home) */

static void name_in(id_list *l, mdl_id id) {
  if (l->n && l->id[l->n - 1] == id) return;
  if (l->n < CHANGED_IDS)
    l->id[l->n++] = id;
  else
    l->over = true;
}

/* Notes TXN's ops; call before it applies (a deleted object's type and
 * parent are looked up while it is still there). */
static void note_txn(const mdl_txn *txn) {
  const mdl_project *p = mdl_replica_view(replica);
  for (uint32_t i = 0; i < txn->n_ops; i++) {
    const mdl_op *op = &txn->ops[i];
    int type = op->kind == MDL_OP_CREATE ? op->type : mdl_type_of(p, op->id);
    mdl_id home = op->kind == MDL_OP_CREATE ? op->parent : mdl_parent_of(p, op->id);
    for (uint32_t k = i;
         (type <= 0 || !home) && k-- > 0;) /* made earlier in the same transaction */
      if (txn->ops[k].kind == MDL_OP_CREATE && txn->ops[k].id == op->id)
        type = txn->ops[k].type, home = txn->ops[k].parent;
    if (type <= 0 || type >= 64) {
      changes.all = true;
      continue;
    }
    if (op->kind == MDL_OP_SET) {
      changes.set |= 1ull << type;
      changes.props[op->prop >> 6] |= 1ull << (op->prop & 63);
      name_in(&changes.ids, op->id);
    } else {
      changes.shaped |= 1ull << type;
    }
    name_in(&changes.homes, home);
    if (op->kind == MDL_OP_MOVE) name_in(&changes.homes, op->parent);
  }
}

/* The pending edits apply again on top of a remote transaction (a rebase). */
static void note_pending(void) {
  for (uint32_t i = 0, n = mdl_replica_n_pending(replica); i < n; i++)
    note_txn(mdl_replica_pending(replica, i, NULL));
}

/* What changed since the last call, and forgets it: 15 u32 words, {all,
 * shaped lo, hi, set lo, hi, props 0..7, n ids, n homes}: bits as above;
 * the objects set, named by wasm_changed_id(0..n ids - 1), and the parents
 * of the objects touched, by wasm_changed_home(0..n homes - 1); a count is
 * UINT32_MAX when there were too many to name. The pointer stays valid;
 * the words and the ids until the next call. */
EXPORT uint32_t *wasm_take_changes(void) {
  changed_ids = changes.ids;
  changed_homes = changes.homes;
  changes_out[13] = changes.ids.over ? UINT32_MAX : changes.ids.n;
  changes_out[14] = changes.homes.over ? UINT32_MAX : changes.homes.n;
  changes_out[0] = changes.all;
  changes_out[1] = (uint32_t) changes.shaped, changes_out[2] = (uint32_t) (changes.shaped >> 32);
  changes_out[3] = (uint32_t) changes.set, changes_out[4] = (uint32_t) (changes.set >> 32);
  for (int i = 0; i < 4; i++) {
    changes_out[5 + 2 * i] = (uint32_t) changes.props[i];
    changes_out[6 + 2 * i] = (uint32_t) (changes.props[i] >> 32);
  }
  memset(&changes, 0, sizeof changes);
  return changes_out;
}
static const char *list_id(const id_list *l, int i) {
  hex_buf[0] = 0;
  if (i >= 0 && !l->over && (uint32_t) i < l->n) id_hex(l->id[i], hex_buf);
  return hex_buf;
}
EXPORT const char *wasm_changed_id(int i) {
  return list_id(&changed_ids, i);
}
EXPORT const char *wasm_changed_home(int i) {
  return list_id(&changed_homes, i);
}

/* ---- Setup and buffers ------------------------------------------------------ */

/* Creates the replica; call once. Returns 0 or MDL_ERR_NOMEM. */
static const mdl_alloc heap = MDL_LIBC_ALLOC;

EXPORT int wasm_init(void) {
  if (replica) return 0;
  replica = mdl_replica_create(&heap);
  scratch.project = mdl_project_create(&heap, NULL);
  in_cap = PROTO_MAX_MSG;
  in_buf = malloc(in_cap);
  return replica && scratch.project && in_buf ? 0 : MDL_ERR_NOMEM;
}

/* The input buffer, made at least N bytes long (it may move: JS must take
 * the pointer again after each call). NULL when out of memory or when N is
 * larger than any message may be. */
EXPORT uint8_t *wasm_in_reserve(int n) {
  if (n < 0 || (size_t) n > PROTO_MAX_WELCOME) return NULL;
  if ((size_t) n > in_cap) {
    uint8_t *b = realloc(in_buf, (size_t) n);
    if (!b) return NULL;
    in_buf = b, in_cap = (size_t) n;
  }
  return in_buf;
}

EXPORT uint8_t *wasm_in_buf(void) {
  return in_buf;
}
EXPORT uint8_t *wasm_out_buf(void) {
  return out_buf;
}
EXPORT int wasm_buf_size(void) {
  return PROTO_MAX_MSG;
}
EXPORT const char *wasm_reason(void) {
  return reason;
}
EXPORT int wasm_reason_code(void) {
  return reason_code;
}
EXPORT uint32_t wasm_reject_local(void) {
  return reject_local;
}
EXPORT const char *wasm_strerror(int code) {
  return proto_strerror(code);
}

/* ---- Messages to the server --------------------------------------------------- */

/* HELLO for project id PROJECT (PLEN bytes) and user USER (ULEN bytes), both
 * pointers into the input buffer. Returns the message length or an error. */
EXPORT int wasm_hello(const char *project, int plen, const char *user, int ulen, uint32_t colour,
                      uint32_t want_client) {
  proto_msg m = {.type = PROTO_HELLO};
  m.u.hello.version = PROTO_VERSION;
  m.u.hello.project = project, m.u.hello.project_len = (uint32_t) plen;
  m.u.hello.user = user, m.u.hello.user_len = (uint32_t) ulen;
  m.u.hello.colour = colour & 0xFFFFFF;
  m.u.hello.want_client = want_client;
  int n = proto_encode(&m, out_buf, sizeof out_buf);
  if (n < 0) set_reason(n, proto_strerror(n));
  return n;
}

/* TRANSPORT: 1 = play, 2 = stop. Returns the message length or an error. */
EXPORT int wasm_transport(int command) {
  proto_msg m = {.type = PROTO_TRANSPORT};
  m.u.transport.command = (uint8_t) command;
  return proto_encode(&m, out_buf, sizeof out_buf);
}

/* PRESENCE: this user now has object (HI, LO) selected (0, 0 = nothing)
 * and looks at the timeline from tick VIEW. The server fills in the name
 * and colour it was told at HELLO. */
EXPORT int wasm_presence(uint32_t hi, uint32_t lo, double view) {
  proto_msg m = {.type = PROTO_PRESENCE};
  m.u.presence.client_id = mdl_replica_client_id(replica);
  m.u.presence.selection = make_id(hi, lo);
  m.u.presence.view = view > 0 ? (uint64_t) view : 0;
  m.u.presence.online = true;
  return proto_encode(&m, out_buf, sizeof out_buf);
}

/* SUBMIT for pending transaction I (0 = oldest), used to re-send the queue
 * after a reconnect. Returns the message length or an error. */
EXPORT int wasm_encode_pending(uint32_t i) {
  proto_msg m = {.type = PROTO_SUBMIT};
  const mdl_txn *txn = mdl_replica_pending(replica, i, &m.u.submit.local_id);
  if (!txn) return MDL_ERR_NOT_FOUND;
  m.u.submit.txn = *txn;
  return proto_encode(&m, out_buf, sizeof out_buf);
}

/* ---- Keeping the page's state across a reload (IndexedDB, web/offline.js) ---- */

static uint8_t *saved;
static size_t saved_len;

/* Encodes the confirmed project (the server's state as this page last
 * knew it) into a buffer of its own; returns the length (read it with
 * wasm_saved_buf) or a negative error. */
EXPORT int wasm_save_confirmed(void) {
  const mdl_project *p = mdl_replica_confirmed(replica);
  size_t need = proto_project_size(p);
  uint8_t *b = realloc(saved, need ? need : 1);
  if (!b) return set_reason(MDL_ERR_NOMEM, "out of memory"), MDL_ERR_NOMEM;
  saved = b;
  int n = proto_encode_project(p, saved, need);
  if (n < 0) return set_reason(n, proto_strerror(n)), n;
  saved_len = (size_t) n;
  return n;
}
EXPORT uint8_t *wasm_saved_buf(void) {
  return saved;
}
EXPORT uint32_t wasm_next_local(void) {
  return mdl_replica_next_local(replica);
}
EXPORT uint32_t wasm_next_counter(void) {
  return mdl_replica_next_counter(replica);
}

/* Restores a saved page: the confirmed project (LEN bytes of
 * wasm_save_confirmed's encoding, in the input buffer) as client CLIENT_ID at
 * SEQ, with numbering going on from FIRST_LOCAL (the oldest saved pending
 * edit's local id, or the next one) and NEXT_COUNTER. The saved pending
 * SUBMITs are then given back one by one with wasm_restore_pending.
 * Returns 0 or a negative error. */
EXPORT int wasm_restore(int len, uint32_t client_id, double seq, uint32_t first_local,
                        uint32_t next_counter) {
  mdl_project *p = mdl_project_create(&heap, NULL);
  if (!p) return set_reason(MDL_ERR_NOMEM, "out of memory"), MDL_ERR_NOMEM;
  int rc = proto_decode_project(in_buf, (size_t) len, p);
  if (!rc) rc = mdl_replica_reset(replica, client_id, p, (uint64_t) seq, 0);
  changes.all = true;
  mdl_project_destroy(p);
  if (rc) return set_reason(rc, "the saved project does not load"), rc;
  mdl_replica_resume(replica, first_local, next_counter);
  return 0;
}

/* One saved pending edit: the SUBMIT message (LEN bytes in the input
 * buffer) as it was sent. It applies to the view again and keeps its local
 * id if it is the next one. Returns 0 or a negative error (then it is
 * dropped: it no longer applies). */
EXPORT int wasm_restore_pending(int len) {
  proto_msg m;
  int rc = proto_decode(in_buf, (size_t) len, &scratch, &m, NULL);
  if (!rc && m.type != PROTO_SUBMIT) rc = PROTO_ERR_UNEXPECTED;
  if (rc) return set_reason(rc, proto_strerror(rc)), rc;
  mdl_replica_resume(replica, m.u.submit.local_id, 0);
  uint32_t local;
  mdl_fail fail;
  note_txn(&m.u.submit.txn);
  rc = mdl_replica_edit(replica, &m.u.submit.txn, &local, &fail);
  if (rc) set_reason(rc, fail.reason);
  return rc;
}

/* ---- Messages from the server ------------------------------------------------- */

/* Decodes the LEN-byte message in the input buffer and applies it. Returns
 * the message type, or a negative error (the connection is then out of step
 * and should be reopened; wasm_reason says why). */
EXPORT int wasm_receive(int len) {
  proto_msg m;
  int rc = proto_decode(in_buf, (size_t) len, &scratch, &m, NULL);
  if (rc) {
    set_reason(rc, proto_strerror(rc));
    return rc;
  }
  mdl_fail fail = {0};
  switch (m.type) {
    case PROTO_WELCOME:
      if (m.u.welcome.version != PROTO_VERSION) {
        set_reason(PROTO_ERR_VERSION, proto_strerror(PROTO_ERR_VERSION));
        return PROTO_ERR_VERSION;
      }
      mdl_replica_reset(replica, m.u.welcome.client_id, m.u.welcome.snapshot, m.u.welcome.seq,
                        m.u.welcome.last_local);
      changes.all = true;
      break;
    case PROTO_ACK:
      rc = mdl_replica_on_ack(replica, m.u.ack.local_id, m.u.ack.seq);
      if (rc) {
        set_reason(rc, "acknowledgement out of order");
        return rc;
      }
      break;
    case PROTO_REJECT:
      reject_local = m.u.reject.local_id;
      reason_code = m.u.reject.code;
      snprintf(reason, sizeof reason, "%.*s", (int) m.u.reject.reason_len, m.u.reject.reason);
      if (m.u.reject.local_id) (void) mdl_replica_on_reject(replica, m.u.reject.local_id);
      changes.all = true;
      break;
    case PROTO_BROADCAST:
      note_txn(&m.u.broadcast.txn);
      note_pending();
      rc = mdl_replica_on_remote(replica, m.u.broadcast.seq, &m.u.broadcast.txn, &fail);
      if (rc) {
        set_reason(rc, fail.reason);
        return rc;
      }
      break;
    case PROTO_METERS:
      last_meters.position = (double) m.u.meters.position;
      last_meters.playing = m.u.meters.playing;
      last_meters.n = m.u.meters.n;
      last_meters.lufs_momentary = m.u.meters.lufs_momentary;
      last_meters.lufs_short_term = m.u.meters.lufs_short_term;
      for (int i = 0; i < m.u.meters.n; i++) {
        id_hex(m.u.meters.m[i].track_id, last_meters.ids[i]);
        last_meters.peak[i] = m.u.meters.m[i].peak;
        last_meters.rms[i] = m.u.meters.m[i].rms;
        last_meters.slot[i] = m.u.meters.m[i].slot;
        last_meters.queued[i] = m.u.meters.m[i].queued;
      }
      break;
    case PROTO_ENGINE:
      last_engine.dsp_permille = m.u.engine.dsp_permille;
      last_engine.xruns = (double) m.u.engine.xruns;
      snprintf(last_engine.audio, sizeof last_engine.audio, "%.*s", (int) m.u.engine.audio_len,
               m.u.engine.audio);
      break;
    case PROTO_LIVE:
      last_live.client_id = m.u.live.client_id;
      id_hex(m.u.live.id, last_live.id);
      last_live.prop = m.u.live.prop;
      last_live.value = m.u.live.value.kind == MDL_VAL_REAL  ? m.u.live.value.u.r
                        : m.u.live.value.kind == MDL_VAL_INT ? (double) m.u.live.value.u.i
                                                             : (double) m.u.live.value.u.b;
      break;
    case PROTO_PRESENCE:
      last_presence.client_id = m.u.presence.client_id;
      snprintf(last_presence.name, sizeof last_presence.name, "%.*s", (int) m.u.presence.name_len,
               m.u.presence.name);
      last_presence.colour = m.u.presence.colour;
      id_hex(m.u.presence.selection, last_presence.selection);
      last_presence.view = (double) m.u.presence.view;
      last_presence.online = m.u.presence.online;
      break;
    case PROTO_AUDIO: /* listen here: JS copies the packet out before the next receive */
      last_audio = m.u.audio;
      break;
    default:
      set_reason(PROTO_ERR_UNEXPECTED, proto_strerror(PROTO_ERR_UNEXPECTED));
      return PROTO_ERR_UNEXPECTED;
  }
  return m.type;
}

/* ---- Local edits ----------------------------------------------------------------- */

/* Encodes the SUBMIT of the newest pending transaction (LOCAL_ID). */
static int encode_newest(uint32_t local_id) {
  proto_msg m = {.type = PROTO_SUBMIT};
  m.u.submit.local_id = local_id;
  m.u.submit.txn = *mdl_replica_pending(replica, mdl_replica_n_pending(replica) - 1, NULL);
  int n = proto_encode(&m, out_buf, sizeof out_buf);
  if (n < 0) set_reason(n, proto_strerror(n));
  return n;
}

/* Submits TXN as the user's edit (applied to the view at once, one undo
 * step) and encodes the SUBMIT. Returns its length, or the error with
 * wasm_reason set. */
static int submit(const mdl_txn *txn) {
  mdl_fail fail = {0};
  uint32_t local_id;
  note_txn(txn);
  int rc = mdl_replica_edit(replica, txn, &local_id, &fail);
  if (rc) {
    set_reason(rc, fail.reason[0] ? fail.reason : mdl_strerror(rc));
    return rc;
  }
  return encode_newest(local_id);
}

/* Undo / redo of this user's own edits: the SUBMIT to send, or the error
 * (MDL_ERR_NOT_FOUND: nothing to undo) with wasm_reason set. */
EXPORT int wasm_undo(int redo) {
  mdl_fail fail = {0};
  uint32_t local_id;
  int rc = redo ? mdl_replica_redo(replica, &local_id, &fail)
                : mdl_replica_undo(replica, &local_id, &fail);
  changes.all = true; /* built and applied inside the replica: not seen op by op */
  if (rc) {
    set_reason(rc, fail.reason[0] ? fail.reason : mdl_strerror(rc));
    return rc;
  }
  return encode_newest(local_id);
}

EXPORT int wasm_n_undo(void) {
  return (int) mdl_replica_n_undo(replica);
}
EXPORT int wasm_n_redo(void) {
  return (int) mdl_replica_n_redo(replica);
}

/* A value in motion (a fader being dragged): a LIVE message, checked like
 * an op but not applied to the model; the final value is a wasm_set_*. */
EXPORT int wasm_live_real(uint32_t hi, uint32_t lo, int prop, double value) {
  proto_msg m = {.type = PROTO_LIVE};
  m.u.live.id = make_id(hi, lo);
  m.u.live.prop = (uint8_t) prop;
  m.u.live.value.kind = MDL_VAL_REAL;
  m.u.live.value.u.r = value;
  const mdl_project *v = mdl_replica_view(replica);
  char why[MDL_REASON_MAX];
  int type = mdl_type_of(v, m.u.live.id);
  int rc =
      !type ? MDL_ERR_NOT_FOUND : mdl_value_check(type, prop, &m.u.live.value, why, sizeof why);
  if (rc) {
    set_reason(rc, rc == MDL_ERR_NOT_FOUND ? mdl_strerror(rc) : why);
    return rc;
  }
  return proto_encode(&m, out_buf, sizeof out_buf);
}

EXPORT uint32_t wasm_live_client(void) {
  return last_live.client_id;
}
EXPORT const char *wasm_live_id(void) {
  return last_live.id;
}
EXPORT int wasm_live_prop(void) {
  return last_live.prop;
}
EXPORT double wasm_live_value(void) {
  return last_live.value;
}

/* Creates a track at the end of the list, named NAME (NLEN bytes; 0 = the
 * model's default) with COLOUR (negative = the model's default). The new
 * id is then readable with wasm_last_id(). */
EXPORT int wasm_create_track(const char *name, int nlen, int colour) {
  mdl_prop_value props[2];
  uint16_t n = 0;
  mdl_id id = mdl_replica_new_id(replica);
  if (id == MDL_ID_NONE) {
    set_reason(MDL_ERR_INVALID, "not connected yet: no id space");
    return MDL_ERR_INVALID;
  }
  if (nlen > 0) {
    props[n].prop = MDL_PROP_NAME;
    props[n].value = (mdl_value){.kind = MDL_VAL_STR};
    props[n].value.u.s.ptr = name, props[n].value.u.s.len = (uint32_t) nlen;
    n++;
  }
  if (colour >= 0) {
    props[n].prop = MDL_PROP_COLOUR;
    props[n].value = (mdl_value){.kind = MDL_VAL_INT};
    props[n].value.u.i = colour;
    n++;
  }
  mdl_op op = {
      .kind = MDL_OP_CREATE, .type = MDL_TYPE_TRACK, .id = id, .n_props = n, .props = props};
  mdl_txn txn = {1, &op};
  int rc = submit(&txn);
  if (rc > 0) id_hex(id, last_id);
  return rc;
}

EXPORT const char *wasm_last_id(void) {
  return last_id;
}

static int set_value(uint32_t hi, uint32_t lo, int prop, mdl_value v) {
  mdl_op op = {.kind = MDL_OP_SET, .id = make_id(hi, lo), .prop = (uint8_t) prop, .value = v};
  mdl_txn txn = {1, &op};
  return submit(&txn);
}

/* Sets property PROP of object (HI, LO); the project is (0, 1). */
EXPORT int wasm_set_int(uint32_t hi, uint32_t lo, int prop, double value) {
  mdl_value v = {.kind = MDL_VAL_INT};
  v.u.i = (int64_t) value;
  return set_value(hi, lo, prop, v);
}

EXPORT int wasm_set_real(uint32_t hi, uint32_t lo, int prop, double value) {
  mdl_value v = {.kind = MDL_VAL_REAL};
  v.u.r = value;
  return set_value(hi, lo, prop, v);
}

EXPORT int wasm_set_bool(uint32_t hi, uint32_t lo, int prop, int value) {
  mdl_value v = {.kind = MDL_VAL_BOOL};
  v.u.b = value != 0;
  return set_value(hi, lo, prop, v);
}

EXPORT int wasm_set_str(uint32_t hi, uint32_t lo, int prop, const char *s, int len) {
  mdl_value v = {.kind = MDL_VAL_STR};
  v.u.s.ptr = s, v.u.s.len = (uint32_t) len;
  return set_value(hi, lo, prop, v);
}

EXPORT int wasm_delete(uint32_t hi, uint32_t lo) {
  mdl_op op = {.kind = MDL_OP_DELETE, .id = make_id(hi, lo)};
  mdl_txn txn = {1, &op};
  return submit(&txn);
}

/* Moves track (HI, LO) after track (AHI, ALO); (0, 0) = to the top. */
EXPORT int wasm_move_after(uint32_t hi, uint32_t lo, uint32_t ahi, uint32_t alo) {
  mdl_op op = {.kind = MDL_OP_MOVE, .id = make_id(hi, lo), .after = make_id(ahi, alo)};
  mdl_txn txn = {1, &op};
  return submit(&txn);
}

/* ---- The view ------------------------------------------------------------------- */

static const mdl_project *view(void) {
  return mdl_replica_view(replica);
}

/* The tracks in display order, listed again only when the view changed. */
static mdl_id tracks[1024];
static uint32_t n_tracks;
static uint64_t tracks_of = 1; /* the view hash the list was made from (1: none yet) */

static mdl_id track(int i) {
  const mdl_project *p = view();
  uint64_t h = mdl_project_hash(p);
  if (h != tracks_of) {
    n_tracks = mdl_tracks(p, tracks, 1024);
    if (n_tracks > 1024) n_tracks = 1024;
    tracks_of = h;
  }
  return i >= 0 && (uint32_t) i < n_tracks ? tracks[i] : MDL_ID_NONE;
}

EXPORT const char *wasm_project_name(void) {
  return mdl_get_str(view(), MDL_ID_PROJECT, MDL_PROP_NAME, NULL);
}
EXPORT double wasm_project_tempo(void) {
  return mdl_get_real(view(), MDL_ID_PROJECT, MDL_PROP_TEMPO);
}
EXPORT int wasm_project_ts_num(void) {
  return (int) mdl_get_int(view(), MDL_ID_PROJECT, MDL_PROP_TS_NUM);
}
EXPORT int wasm_project_ts_den(void) {
  return (int) mdl_get_int(view(), MDL_ID_PROJECT, MDL_PROP_TS_DEN);
}
EXPORT int wasm_project_metronome(void) {
  return mdl_get_bool(view(), MDL_ID_PROJECT, MDL_PROP_METRONOME);
}
EXPORT int wasm_n_tracks(void) {
  track(0);
  return (int) n_tracks;
}

EXPORT const char *wasm_track_id(int i) {
  mdl_id t = track(i);
  hex_buf[0] = 0;
  if (t) id_hex(t, hex_buf);
  return hex_buf;
}

EXPORT const char *wasm_track_name(int i) {
  return mdl_get_str(view(), track(i), MDL_PROP_NAME, NULL);
}
EXPORT int wasm_track_colour(int i) {
  return (int) mdl_get_int(view(), track(i), MDL_PROP_COLOUR);
}
EXPORT double wasm_track_gain(int i) {
  return mdl_get_real(view(), track(i), MDL_PROP_GAIN);
}
EXPORT double wasm_track_pan(int i) {
  return mdl_get_real(view(), track(i), MDL_PROP_PAN);
}
EXPORT int wasm_track_mute(int i) {
  return mdl_get_bool(view(), track(i), MDL_PROP_MUTE);
}
EXPORT int wasm_track_solo(int i) {
  return mdl_get_bool(view(), track(i), MDL_PROP_SOLO);
}

/* ---- Any object ------------------------------------------------------------------ */

static mdl_id kids[1 << 16];
static uint32_t n_kids;

/* Lists the children of (HI, LO) of TYPE (0 = any) in their order; returns
 * how many (at most 65536 are kept); read them with wasm_child_id. */
EXPORT int wasm_children(uint32_t hi, uint32_t lo, int type) {
  uint32_t n = mdl_children(view(), make_id(hi, lo), type, NULL, 0);
  n_kids = n <= (1u << 16) ? mdl_children(view(), make_id(hi, lo), type, kids, 1u << 16) : 0;
  return (int) n_kids;
}
EXPORT const char *wasm_child_id(int i) {
  hex_buf[0] = 0;
  if (i >= 0 && (uint32_t) i < n_kids) id_hex(kids[i], hex_buf);
  return hex_buf;
}
EXPORT int wasm_type_of(uint32_t hi, uint32_t lo) {
  return mdl_type_of(view(), make_id(hi, lo));
}
EXPORT const char *wasm_parent_of(uint32_t hi, uint32_t lo) {
  id_hex(mdl_parent_of(view(), make_id(hi, lo)), hex_buf);
  return hex_buf;
}
EXPORT double wasm_get_num(uint32_t hi, uint32_t lo, int prop) {
  mdl_value v;
  if (mdl_get(view(), make_id(hi, lo), prop, &v)) return 0;
  return v.kind == MDL_VAL_REAL ? v.u.r : v.kind == MDL_VAL_BOOL ? v.u.b : (double) v.u.i;
}
/* A reference property (an id) as hex; "0" = none. */
EXPORT const char *wasm_get_ref(uint32_t hi, uint32_t lo, int prop) {
  id_hex((mdl_id) mdl_get_int(view(), make_id(hi, lo), prop), hex_buf);
  return hex_buf;
}
EXPORT const char *wasm_get_str(uint32_t hi, uint32_t lo, int prop) {
  return mdl_get_str(view(), make_id(hi, lo), prop, NULL);
}
EXPORT int wasm_count(int type) {
  return (int) mdl_count(view(), type);
}
EXPORT double wasm_project_bytes(void) {
  return (double) mdl_project_bytes(view());
}

/* ---- The schema, so that JS never copies a number from C ---------------------- */

EXPORT const char *wasm_prop_name(int prop) {
  const mdl_prop_info *info = mdl_prop_describe(prop);
  return info ? info->name : "";
}
/* An mdl_val_kind (references are MDL_VAL_ID). */
EXPORT int wasm_prop_kind(int prop) {
  const mdl_prop_info *info = mdl_prop_describe(prop);
  return info ? info->kind : 0;
}
EXPORT const char *wasm_type_name(int type) {
  const char *n = mdl_type_name(type);
  return n ? n : "";
}

/* ---- Devices: kinds and their parameters (mdl_device.h) ------------------------- */

EXPORT int wasm_device_kinds(void) {
  return (int) mdl_device_kinds(NULL, 0);
}
/* The I-th kind in table order. */
EXPORT int wasm_device_kind(int i) {
  int kinds[64];
  uint32_t n = mdl_device_kinds(kinds, 64);
  return i >= 0 && (uint32_t) i < n ? kinds[i] : 0;
}
EXPORT const char *wasm_device_name(int kind) {
  const mdl_device_desc *d = mdl_device_describe(kind);
  return d ? d->name : "";
}
EXPORT int wasm_device_instrument(int kind) {
  const mdl_device_desc *d = mdl_device_describe(kind);
  return d && d->instrument;
}
EXPORT int wasm_param_count(int kind) {
  const mdl_device_desc *d = mdl_device_describe(kind);
  return d ? d->n_params : 0;
}
static const mdl_param_desc *param(int kind, int i) {
  const mdl_device_desc *d = mdl_device_describe(kind);
  return d && i >= 0 && i < d->n_params ? &d->params[i] : NULL;
}
/* "cutoff"; choices list their values: "wave:saw|square|triangle|sine". */
EXPORT const char *wasm_param_name(int kind, int i) {
  return param(kind, i) ? param(kind, i)->name : "";
}
EXPORT double wasm_param_min(int kind, int i) {
  return param(kind, i) ? param(kind, i)->min : 0;
}
EXPORT double wasm_param_max(int kind, int i) {
  return param(kind, i) ? param(kind, i)->max : 0;
}
EXPORT double wasm_param_default(int kind, int i) {
  return param(kind, i) ? param(kind, i)->def : 0;
}
/* An mdl_unit. */
EXPORT int wasm_param_unit(int kind, int i) {
  return param(kind, i) ? param(kind, i)->unit : 0;
}

/* ---- Transactions of several ops --------------------------------------------------- */
/* wasm_txn_begin, then creates (with their props), sets, deletes and moves,
 * then wasm_txn_commit: one transaction, one undo step. Strings are copied
 * in, so the input buffer may be reused between calls. */

#define STAGE_OPS   256
#define STAGE_PROPS 1024
#define STAGE_BYTES 16384

static struct {
  mdl_op ops[STAGE_OPS];
  mdl_prop_value props[STAGE_PROPS];
  char bytes[STAGE_BYTES];
  uint32_t n_ops, n_props, n_bytes;
  bool full;
} stage;

EXPORT void wasm_txn_begin(void) {
  stage.n_ops = stage.n_props = stage.n_bytes = 0;
  stage.full = false;
}

static mdl_op *stage_op(void) {
  if (stage.n_ops == STAGE_OPS) {
    stage.full = true;
    return NULL;
  }
  mdl_op *op = &stage.ops[stage.n_ops++];
  memset(op, 0, sizeof *op);
  return op;
}

static bool stage_value(mdl_value *v, int kind, double num, const char *s, int len) {
  memset(v, 0, sizeof *v);
  v->kind = (uint8_t) kind;
  if (kind == MDL_VAL_STR) {
    if (len < 0 || stage.n_bytes + (uint32_t) len > STAGE_BYTES) return stage.full = true, false;
    memcpy(stage.bytes + stage.n_bytes, s, (size_t) len);
    v->u.s.ptr = stage.bytes + stage.n_bytes, v->u.s.len = (uint32_t) len;
    stage.n_bytes += (uint32_t) len;
  } else if (kind == MDL_VAL_REAL) {
    v->u.r = num;
  } else if (kind == MDL_VAL_BOOL) {
    v->u.b = num != 0;
  } else {
    v->u.i = (int64_t) num;
  }
  return true;
}

/* Adds a create of TYPE under (PHI, PLO); returns the new id as hex ("" if
 * there is no id space yet or no room). */
EXPORT const char *wasm_txn_create(int type, uint32_t phi, uint32_t plo) {
  hex_buf[0] = 0;
  mdl_id id = mdl_replica_new_id(replica);
  mdl_op *op = id ? stage_op() : NULL;
  if (!op) return hex_buf;
  op->kind = MDL_OP_CREATE, op->type = (uint8_t) type, op->id = id, op->parent = make_id(phi, plo);
  op->props = &stage.props[stage.n_props];
  id_hex(id, hex_buf);
  return hex_buf;
}

/* A property of the create added last. KIND is an mdl_val_kind (strings: S, LEN). */
EXPORT void wasm_txn_prop(int prop, int kind, double num, const char *s, int len) {
  mdl_op *op = stage.n_ops ? &stage.ops[stage.n_ops - 1] : NULL;
  if (!op || op->kind != MDL_OP_CREATE || stage.n_props == STAGE_PROPS) {
    stage.full = true;
    return;
  }
  mdl_prop_value *pv = &stage.props[stage.n_props];
  pv->prop = (uint8_t) prop;
  if (stage_value(&pv->value, kind, num, s, len)) stage.n_props++, op->n_props++;
}

EXPORT void wasm_txn_set(uint32_t hi, uint32_t lo, int prop, int kind, double num, const char *s,
                         int len) {
  mdl_op *op = stage_op();
  if (!op) return;
  op->kind = MDL_OP_SET, op->id = make_id(hi, lo), op->prop = (uint8_t) prop;
  if (!stage_value(&op->value, kind, num, s, len)) stage.n_ops--;
}

EXPORT void wasm_txn_delete(uint32_t hi, uint32_t lo) {
  mdl_op *op = stage_op();
  if (op) op->kind = MDL_OP_DELETE, op->id = make_id(hi, lo);
}

/* Moves (HI, LO) under (PHI, PLO) ((0, 0) = where it is), after (AHI, ALO)
 * ((0, 0) = first). */
EXPORT void wasm_txn_move(uint32_t hi, uint32_t lo, uint32_t phi, uint32_t plo, uint32_t ahi,
                          uint32_t alo) {
  mdl_op *op = stage_op();
  if (!op) return;
  op->kind = MDL_OP_MOVE, op->id = make_id(hi, lo);
  op->parent = make_id(phi, plo), op->after = make_id(ahi, alo);
}

/* Applies the staged ops as one edit (an undo step); returns the length of
 * the SUBMIT to send, or a negative error (wasm_reason says why). */
EXPORT int wasm_txn_commit(void) {
  if (stage.full) {
    set_reason(MDL_ERR_FULL, "the edit is too large for one transaction");
    return MDL_ERR_FULL;
  }
  mdl_txn txn = {stage.n_ops, stage.ops};
  return submit(&txn);
}

EXPORT double wasm_seq(void) {
  return (double) mdl_replica_seq(replica);
}
EXPORT uint32_t wasm_client_id(void) {
  return mdl_replica_client_id(replica);
}
EXPORT uint32_t wasm_n_pending(void) {
  return mdl_replica_n_pending(replica);
}

EXPORT const char *wasm_hash_view(void) {
  mdl_hash_hex(mdl_project_hash(view()), hex_buf);
  return hex_buf;
}

EXPORT const char *wasm_hash_confirmed(void) {
  mdl_hash_hex(mdl_project_hash(mdl_replica_confirmed(replica)), hex_buf);
  return hex_buf;
}

/* ---- Meters and presence (from the last such message) ----------------------------- */

/* The last ENGINE: DSP load per mille, xruns, what the engine plays on. */
EXPORT int wasm_engine_dsp(void) {
  return last_engine.dsp_permille;
}
EXPORT double wasm_engine_xruns(void) {
  return last_engine.xruns;
}
EXPORT const char *wasm_engine_audio(void) {
  return last_engine.audio;
}

EXPORT double wasm_meters_position(void) {
  return last_meters.position;
}
EXPORT int wasm_meters_playing(void) {
  return last_meters.playing;
}
EXPORT double wasm_meters_lufs_m(void) {
  return last_meters.lufs_momentary;
}
EXPORT double wasm_meters_lufs_s(void) {
  return last_meters.lufs_short_term;
}
EXPORT int wasm_meters_n(void) {
  return last_meters.n;
}
EXPORT const char *wasm_meter_id(int i) {
  return i >= 0 && i < last_meters.n ? last_meters.ids[i] : "";
}
EXPORT double wasm_meter_peak(int i) {
  return i >= 0 && i < last_meters.n ? last_meters.peak[i] : 0;
}
EXPORT double wasm_meter_rms(int i) {
  return i >= 0 && i < last_meters.n ? last_meters.rms[i] : 0;
}
/* The session slot track I plays (-1 none), and the one queued (-1 none, -2 a stop). */
EXPORT int wasm_meter_slot(int i) {
  return i >= 0 && i < last_meters.n ? last_meters.slot[i] : -1;
}
EXPORT int wasm_meter_queued(int i) {
  return i >= 0 && i < last_meters.n ? last_meters.queued[i] : -1;
}

EXPORT uint32_t wasm_presence_client(void) {
  return last_presence.client_id;
}
EXPORT const char *wasm_presence_name(void) {
  return last_presence.name;
}
EXPORT uint32_t wasm_presence_colour(void) {
  return last_presence.colour;
}
EXPORT const char *wasm_presence_selection(void) {
  return last_presence.selection;
}
EXPORT double wasm_presence_view(void) {
  return last_presence.view;
}
EXPORT int wasm_presence_online(void) {
  return last_presence.online;
}

/* ---- The session view -------------------------------------------------------------- */

/* LAUNCH: clip (HI, LO) at its scene's quantization, or with clip (0, 0)
 * stop what track (THI, TLO) plays. Returns the message length. */
EXPORT int wasm_launch(uint32_t hi, uint32_t lo, uint32_t thi, uint32_t tlo) {
  proto_msg m = {.type = PROTO_LAUNCH};
  m.u.launch = (proto_launch){make_id(hi, lo), make_id(thi, tlo)};
  int n = proto_encode(&m, out_buf, sizeof out_buf);
  if (n < 0) set_reason(n, proto_strerror(n));
  return n;
}

/* NOTE: key KEY at VELOCITY (0 = release) on track (HI, LO)'s instrument,
 * now. Returns the message length. */
EXPORT int wasm_note(uint32_t hi, uint32_t lo, int key, int velocity) {
  proto_msg m = {.type = PROTO_NOTE};
  m.u.note = (proto_note){make_id(hi, lo), (uint8_t) key, (uint8_t) velocity};
  int n = key < 0 || key > 127 || velocity < 0 || velocity > 127
              ? PROTO_ERR_RANGE
              : proto_encode(&m, out_buf, sizeof out_buf);
  if (n < 0) set_reason(n, proto_strerror(n));
  return n;
}

/* ---- Listen here ------------------------------------------------------------------ */

/* LISTEN: 1 = send me the master as AUDIO, 0 = stop. Returns the length. */
EXPORT int wasm_listen(int on) {
  proto_msg m = {.type = PROTO_LISTEN};
  m.u.listen.on = on ? 1 : 0;
  return proto_encode(&m, out_buf, sizeof out_buf);
}
/* The last AUDIO received: its fields, and its Opus packet as an offset
 * into the input buffer (valid until the next wasm_receive) and a length.
 * 64-bit values come as doubles: exact up to 2^53 (frames: 5,900 years at
 * 48 kHz; microseconds since 1970: until the year 2255). */
EXPORT uint32_t wasm_audio_seq(void) {
  return last_audio.seq;
}
EXPORT double wasm_audio_position(void) {
  return (double) last_audio.position;
}
EXPORT double wasm_audio_sent_us(void) {
  return (double) last_audio.sent_us;
}
EXPORT int wasm_audio_offset(void) {
  return last_audio.data ? (int) (last_audio.data - in_buf) : 0;
}
EXPORT int wasm_audio_len(void) {
  return last_audio.len;
}

/* ---- Tempo and meter map of the view (mdl_time.h) -------------------------------- */

/* The map of the view, built again only when the view changed (its hash). */
static mdl_time_map time_map;
static uint64_t time_of = 1; /* the view hash the map was built from (1: none yet) */

static const mdl_time_map *time_map_of_view(void) {
  const mdl_project *p = view();
  uint64_t h = mdl_project_hash(p);
  if (h != time_of) {
    mdl_time_map_build(p, &time_map);
    time_of = h;
  }
  return &time_map;
}

/* Seconds from tick 0 to TICK (>= 0; between whole ticks, linear). */
EXPORT double wasm_time_seconds(double tick) {
  const mdl_time_map *m = time_map_of_view();
  if (!(tick > 0)) return 0;
  int64_t t = (int64_t) tick;
  double s = mdl_time_seconds(m, t);
  double f = tick - (double) t;
  return f > 0 ? s + f * (mdl_time_seconds(m, t + 1) - s) : s;
}
/* The tick at SECONDS (rounded down). */
EXPORT double wasm_time_tick(double seconds) {
  return seconds > 0 ? (double) mdl_time_tick(time_map_of_view(), seconds) : 0;
}
/* The tempo at TICK, in BPM. */
EXPORT double wasm_time_bpm(double tick) {
  return mdl_time_bpm(time_map_of_view(), tick > 0 ? (int64_t) tick : 0);
}
/* The tick where bar BAR (0-based) starts. */
EXPORT double wasm_time_bar_tick(double bar) {
  return (double) mdl_time_bar_tick(time_map_of_view(), bar > 0 ? (int64_t) bar : 0);
}

static struct { int beat, ticks, num, den; } last_bbt; /* the rest of the last wasm_time_bbt() */

/* The bar (0-based) at TICK; wasm_time_beat(), _beat_ticks(), _num() and
 * _den() then give the beat in it (0-based), the ticks into that beat and
 * the time signature there. */
EXPORT double wasm_time_bbt(double tick) {
  const mdl_time_map *m = time_map_of_view();
  int64_t t = tick > 0 ? (int64_t) tick : 0, bar;
  mdl_time_bbt(m, t, &bar, &last_bbt.beat, &last_bbt.ticks);
  uint32_t i = 0;
  while (i + 1 < m->n_meters && m->bar[i + 1] <= bar)
    i++;
  last_bbt.num = m->num[i], last_bbt.den = m->den[i];
  return (double) bar;
}
EXPORT int wasm_time_beat(void) {
  return last_bbt.beat;
}
EXPORT int wasm_time_beat_ticks(void) {
  return last_bbt.ticks;
}
EXPORT int wasm_time_num(void) {
  return last_bbt.num;
}
EXPORT int wasm_time_den(void) {
  return last_bbt.den;
}

/* ---- Test hook ------------------------------------------------------------------- */

/* Applies a transaction log (repeated: u32 little-endian length, then a
 * proto txn of that length) at DATA[0..LEN) to a fresh project with origin 0
 * and returns its hash as 16 hex digits, or "" if the log does not decode;
 * a transaction that does not apply is skipped and counted in
 * wasm_reason_code(). Used by tests/browser to compare with native. */
EXPORT const char *wasm_log_hash(const uint8_t *data, int len) {
  mdl_project *p = mdl_project_create(&heap, NULL);
  size_t pos = 0, n = (size_t) len;
  int skipped = 0;
  hex_buf[0] = 0;
  if (!p) return hex_buf;
  while (pos < n) {
    if (n - pos < 4) break;
    uint32_t tl = (uint32_t) data[pos] | (uint32_t) data[pos + 1] << 8 |
                  (uint32_t) data[pos + 2] << 16 | (uint32_t) data[pos + 3] << 24;
    pos += 4;
    mdl_txn txn;
    if (tl > n - pos || proto_decode_txn(data + pos, tl, &scratch, &txn)) break;
    if (mdl_txn_apply(p, &txn, 0, NULL)) skipped++;
    pos += tl;
  }
  reason_code = skipped;
  if (pos == n) mdl_hash_hex(mdl_project_hash(p), hex_buf);
  mdl_project_destroy(p);
  return hex_buf;
}
