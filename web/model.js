// model.js: the page's handle on the wasm model (wasm/wasm_exports.c).
//
// Thin: it moves bytes and strings across the boundary and names the
// property numbers of shared/mdl_project.h. Every model rule (ranges, ids,
// ordering, rebase) lives in the C model; a refused edit comes back as a
// Refused error carrying the model's own reason.

// Property numbers and value kinds, and object types, read from the model
// itself when it loads (shared/mdl_schema.c is the only table).
export const PROPS = {};
export const TYPES = {};
const KINDS = ['', 'int', 'real', 'bool', 'str', 'ref'];
// Message types: must match proto_type in protocol/proto_msg.h.
export const MSG = {
  WELCOME: 2,
  ACK: 4,
  REJECT: 5,
  BROADCAST: 6,
  PRESENCE: 7,
  METERS: 8,
  LIVE: 10,
  AUDIO: 12,
  ENGINE: 15,
};

export class Refused extends Error {
  constructor(code, reason) {
    super(reason);
    this.code = code;
  }
}

const enc = new TextEncoder();

// The local id of a SUBMIT message (its type byte, then a u32 little-endian; protocol/PROTOCOL.md).
export const localOf = (msg) => new DataView(msg.buffer, msg.byteOffset, msg.byteLength).getUint32(1, true);

// "project" -> (0, 1); a hex id -> [hi, lo] u32 halves.
function idPair(id) {
  if (id === 'project') return [0, 1];
  if (!id) return [0, 0];
  const h = id.padStart(16, '0');
  return [parseInt(h.slice(0, 8), 16) >>> 0, parseInt(h.slice(8), 16) >>> 0];
}

function refNumber(id) {
  const [hi, lo] = idPair(id || '');
  return hi * 4294967296 + lo; /* exact: ids stay below 2^53 in practice (client ids are small) */
}

// Stages ops in the wasm model; commit() applies them as one edit.
class Edit {
  constructor(model) {
    this.model = model;
    model.m._wasm_txn_begin();
  }
  value(prop, value) {
    const [num, kind] = PROPS[prop];
    const k = KINDS.indexOf(kind);
    if (kind === 'str') {
      const [[p, l]] = this.model.put(String(value));
      return [num, k, 0, p, l];
    }
    if (kind === 'ref') return [num, 1, refNumber(value), 0, 0];
    return [num, k, kind === 'bool' ? (value ? 1 : 0) : Number(value), 0, 0];
  }
  create(type, parent, props = {}) {
    const m = this.model.m;
    const id = this.model.str(m._wasm_txn_create(TYPES[type], ...idPair(parent || 'project')));
    for (const [prop, v] of Object.entries(props)) m._wasm_txn_prop(...this.value(prop, v));
    return id;
  }
  set(id, prop, value) {
    const [num, k, x, p, l] = this.value(prop, value);
    this.model.m._wasm_txn_set(...idPair(id), num, k, x, p, l);
    return this;
  }
  remove(id) {
    this.model.m._wasm_txn_delete(...idPair(id));
    return this;
  }
  move(id, parent, after) {
    this.model.m._wasm_txn_move(...idPair(id), ...idPair(parent), ...idPair(after));
    return this;
  }
  commit() {
    return this.model.out(this.model.m._wasm_txn_commit());
  }
}

export async function loadModel() {
  const { default: createModel } = await import('/wasm/model.mjs');
  const m = await createModel();
  if (m._wasm_init() !== 0) throw new Error('model: out of memory');
  for (let p = 1; p < 256; p++) {
    const name = m.UTF8ToString(m._wasm_prop_name(p));
    if (name) PROPS[name] = [p, KINDS[m._wasm_prop_kind(p)]];
  }
  for (let t = 1; t < 64; t++) {
    const name = m.UTF8ToString(m._wasm_type_name(t));
    if (name) TYPES[name] = t;
  }
  return new Model(m);
}

class Model {
  constructor(m) {
    this.m = m;
    this.outPtr = m._wasm_out_buf();
  }

  str(ptr) {
    return this.m.UTF8ToString(ptr);
  }

  // Writes strings one after another into the input buffer; returns
  // [ptr, len] for each.
  put(...strs) {
    let at = this.m._wasm_in_buf();
    return strs.map((s) => {
      const b = enc.encode(s);
      this.m.HEAPU8.set(b, at);
      const r = [at, b.length];
      at += b.length;
      return r;
    });
  }

  // The message now in the output buffer (a copy), or a Refused error.
  out(n) {
    if (n < 0) throw new Refused(this.m._wasm_reason_code(), this.str(this.m._wasm_reason()));
    return this.m.HEAPU8.slice(this.outPtr, this.outPtr + n);
  }

  // ---- Messages
  hello(project, user, colour, wantClient) {
    const [[pp, pl], [up, ul]] = this.put(project, user);
    return this.out(this.m._wasm_hello(pp, pl, up, ul, colour, wantClient >>> 0));
  }
  // TRANSPORT: play (after the project's count-in with COUNTIN) or stop.
  transport(play, countIn = false) {
    return this.out(this.m._wasm_transport(play ? (countIn ? 3 : 1) : 2));
  }
  // PRESENCE: what this user has selected (a track id, or null).
  // PRESENCE: what this user has selected (an id, or null) and where their
  // view of the timeline starts (ticks).
  select(id, view = 0) {
    return this.out(this.m._wasm_presence(...(id ? idPair(id) : [0, 0]), view));
  }
  // Listen here: LISTEN{on}; audio() reads the AUDIO message just received
  // (its Opus packet copied out of the wasm heap).
  // The session view: LAUNCH a clip in a scene's slot, or stop a track's (clip null).
  launch(clip, track) {
    return this.out(this.m._wasm_launch(...idPair(clip), ...idPair(track)));
  }
  // NOTE: a key played by hand on TRACK's instrument (velocity 0 releases it).
  note(track, key, velocity) {
    return this.out(this.m._wasm_note(...idPair(track), key, velocity));
  }
  listen(on) {
    return this.out(this.m._wasm_listen(on ? 1 : 0));
  }
  audio() {
    const m = this.m;
    const at = m._wasm_in_buf() + m._wasm_audio_offset();
    return {
      seq: m._wasm_audio_seq() >>> 0,
      position: m._wasm_audio_position(),
      sentUs: m._wasm_audio_sent_us(),
      data: m.HEAPU8.slice(at, at + m._wasm_audio_len()),
    };
  }
  pending() {
    const list = [];
    for (let i = 0, n = this.m._wasm_n_pending(); i < n; i++) list.push(this.out(this.m._wasm_encode_pending(i)));
    return list;
  }
  // ---- Keeping the page across a reload (web/offline.js stores these)
  // The confirmed project (the server's state as this page last knew it), encoded.
  savedConfirmed() {
    const n = this.m._wasm_save_confirmed();
    if (n < 0) throw new Refused(this.m._wasm_reason_code(), this.reason());
    const at = this.m._wasm_saved_buf();
    return this.m.HEAPU8.slice(at, at + n);
  }
  nextLocal() {
    return this.m._wasm_next_local() >>> 0;
  }
  nextCounter() {
    return this.m._wasm_next_counter() >>> 0;
  }
  // Copies BYTES into the input buffer; returns their length (or throws).
  input(bytes) {
    const at = this.m._wasm_in_reserve(bytes.length);
    if (!at) throw new Refused(-304, 'the saved state is too large');
    this.m.HEAPU8.set(bytes, at);
    return bytes.length;
  }
  // Restores what offline.js saved: {confirmed, clientId, seq, nextLocal,
  // nextCounter, pending: [SUBMIT bytes]}. The pending edits go back on
  // the view (and the undo list) in order, with their old local ids; one
  // that no longer applies is dropped. Returns how many were dropped.
  restore(s) {
    const m = this.m;
    const first = s.pending.length ? localOf(s.pending[0]) : s.nextLocal;
    if (m._wasm_restore(this.input(s.confirmed), s.clientId, s.seq, first, s.nextCounter) < 0)
      throw new Refused(m._wasm_reason_code(), this.reason());
    let dropped = 0;
    for (const msg of s.pending) if (m._wasm_restore_pending(this.input(msg)) < 0) dropped++;
    return dropped;
  }

  // Applies one received frame; returns its type, or a negative error
  // (then this.reason() says why and the connection should be reopened).
  receive(buf) {
    const b = new Uint8Array(buf);
    const at = this.m._wasm_in_reserve(b.length);
    if (!at) return -304;
    this.m.HEAPU8.set(b, at);
    return this.m._wasm_receive(b.length);
  }
  reason() {
    return this.str(this.m._wasm_reason());
  }
  reasonCode() {
    return this.m._wasm_reason_code();
  }
  rejectedLocal() {
    return this.m._wasm_reject_local();
  }

  // ---- Local edits: each returns the SUBMIT to send, or throws Refused.
  createTrack(name, colour = -1) {
    const [[p, l]] = this.put(name || '');
    const msg = this.out(this.m._wasm_create_track(p, l, colour));
    return { msg, id: this.str(this.m._wasm_last_id()) };
  }
  set(id, prop, value) {
    const [num, kind] = PROPS[prop];
    const [hi, lo] = idPair(id);
    const m = this.m;
    let n;
    if (kind === 'str') {
      const [[p, l]] = this.put(String(value));
      n = m._wasm_set_str(hi, lo, num, p, l);
    } else if (kind === 'real') n = m._wasm_set_real(hi, lo, num, Number(value));
    else if (kind === 'int') n = m._wasm_set_int(hi, lo, num, Math.trunc(Number(value)));
    else if (kind === 'ref') n = m._wasm_set_int(hi, lo, num, refNumber(value));
    else n = m._wasm_set_bool(hi, lo, num, value ? 1 : 0);
    return this.out(n);
  }
  remove(id) {
    return this.out(this.m._wasm_delete(...idPair(id)));
  }
  // This user's own edits only; each returns the SUBMIT to send.
  undo() {
    return this.out(this.m._wasm_undo(0));
  }
  redo() {
    return this.out(this.m._wasm_undo(1));
  }
  nUndo() {
    return this.m._wasm_n_undo();
  }
  nRedo() {
    return this.m._wasm_n_redo();
  }
  // A value in motion (LIVE message): heard and shown to others at once,
  // never stored; the final value is an ordinary set().
  live(id, prop, value) {
    const [num] = PROPS[prop];
    return this.out(this.m._wasm_live_real(...idPair(id), num, Number(value)));
  }
  lastLive() {
    const m = this.m;
    return {
      client: m._wasm_live_client(),
      id: this.str(m._wasm_live_id()),
      prop: m._wasm_live_prop(),
      value: m._wasm_live_value(),
    };
  }
  moveAfter(id, after) {
    return this.out(this.m._wasm_move_after(...idPair(id), ...idPair(after)));
  }

  // ---- Any object
  // Ids of PARENT's children of TYPE (a name from TYPES, or all), in order.
  children(parent, type) {
    const m = this.m;
    const n = m._wasm_children(...idPair(parent), type ? TYPES[type] : 0);
    const ids = [];
    for (let i = 0; i < n; i++) ids.push(this.str(m._wasm_child_id(i)));
    return ids;
  }
  typeOf(id) {
    const t = this.m._wasm_type_of(...idPair(id));
    return Object.keys(TYPES).find((k) => TYPES[k] === t) || null;
  }
  parentOf(id) {
    return this.str(this.m._wasm_parent_of(...idPair(id)));
  }
  // Property PROP (a name) of ID: a number, a boolean, a string, or an id.
  get(id, prop) {
    const [num, kind] = PROPS[prop];
    const m = this.m;
    if (kind === 'str') return this.str(m._wasm_get_str(...idPair(id), num));
    if (kind === 'ref') {
      const r = this.str(m._wasm_get_ref(...idPair(id), num));
      return r === '0' ? null : r;
    }
    const v = m._wasm_get_num(...idPair(id), num);
    return kind === 'bool' ? v !== 0 : v;
  }
  // The instruments and effects there are, each with its parameters
  // ({name, min, max, def, unit}; parameter i is property 'p' + i).
  devices() {
    const m = this.m;
    const UNITS = ['', 'linear', 'dB', 'Hz', 'ms', 'ratio', '%', 'st', 'cents', 'oct', 'beats', 'choice', 'count'];
    const list = [];
    for (let i = 0, n = m._wasm_device_kinds(); i < n; i++) {
      const kind = m._wasm_device_kind(i);
      const params = [];
      for (let p = 0, np = m._wasm_param_count(kind); p < np; p++)
        params.push({
          name: this.str(m._wasm_param_name(kind, p)),
          min: m._wasm_param_min(kind, p),
          max: m._wasm_param_max(kind, p),
          def: m._wasm_param_default(kind, p),
          unit: UNITS[m._wasm_param_unit(kind, p)] || '',
        });
      list.push({
        kind,
        name: this.str(m._wasm_device_name(kind)),
        instrument: !!m._wasm_device_instrument(kind),
        params,
      });
    }
    return list;
  }
  count(type) {
    return this.m._wasm_count(type ? TYPES[type] : 0);
  }
  // One transaction of several ops: const t = model.edit(); const id =
  // t.create('clip', track, {start: 0}); t.set(id, 'name', 'Verse');
  // t.commit() returns the SUBMIT to send (one undo step), or throws Refused.
  edit() {
    return new Edit(this);
  }

  // ---- The view
  project() {
    const m = this.m;
    const tracks = [];
    for (let i = 0, n = m._wasm_n_tracks(); i < n; i++) {
      tracks.push({
        id: this.str(m._wasm_track_id(i)),
        name: this.str(m._wasm_track_name(i)),
        colour: m._wasm_track_colour(i),
        gain: m._wasm_track_gain(i),
        pan: m._wasm_track_pan(i),
        mute: !!m._wasm_track_mute(i),
        solo: !!m._wasm_track_solo(i),
      });
    }
    return {
      name: this.str(m._wasm_project_name()),
      tempo: m._wasm_project_tempo(),
      tsNum: m._wasm_project_ts_num(),
      tsDen: m._wasm_project_ts_den(),
      metronome: !!m._wasm_project_metronome(),
      tracks,
    };
  }
  // What changed in the view since the last call (and forgets it):
  // {all, shaped, set, props, ids, homes}: all = anything may have (a
  // reset, a rejection, an undo); shaped = names of the types with an
  // object created, deleted or moved; set = those with a property set;
  // props = the names of the properties set; ids = the objects set, homes
  // = the parents of every object touched (Sets, or null when there were
  // too many to name). For skipping views that show none of it, and
  // re-reading only what was touched (wasm_take_changes).
  changes() {
    const m = this.m;
    const w = new Uint32Array(m.HEAPU8.buffer, m._wasm_take_changes(), 15);
    const named = (n, at) => {
      if (n === 0xffffffff) return null;
      const out = new Set();
      for (let i = 0; i < n; i++) out.add(this.str(at(i)));
      return out;
    };
    const ids = named(w[13], (i) => m._wasm_changed_id(i));
    const homes = named(w[14], (i) => m._wasm_changed_home(i));
    const bits = (lo, hi, names) => {
      const out = new Set();
      for (const [name, n] of names) if ((n < 32 ? lo >>> n : hi >>> (n - 32)) & 1) out.add(name);
      return out;
    };
    const types = Object.entries(TYPES);
    const props = Object.entries(PROPS).map(([name, [n]]) => [name, n]);
    const set = new Set();
    for (const [name, n] of props) if ((w[5 + 2 * (n >> 6) + ((n & 63) >> 5)] >>> (n & 31)) & 1) set.add(name);
    return { all: w[0] !== 0, shaped: bits(w[1], w[2], types), set: bits(w[3], w[4], types), props: set, ids, homes };
  }
  seq() {
    return this.m._wasm_seq();
  }
  clientId() {
    return this.m._wasm_client_id();
  }
  nPending() {
    return this.m._wasm_n_pending();
  }
  hashView() {
    return this.str(this.m._wasm_hash_view());
  }
  hashConfirmed() {
    return this.str(this.m._wasm_hash_confirmed());
  }

  // The last ENGINE: the server's DSP load (0..1+), xruns and audio device.
  engine() {
    const m = this.m;
    return { dsp: m._wasm_engine_dsp() / 1000, xruns: m._wasm_engine_xruns(), audio: this.str(m._wasm_engine_audio()) };
  }
  meters() {
    const m = this.m;
    const list = [];
    for (let i = 0, n = m._wasm_meters_n(); i < n; i++)
      list.push({
        id: this.str(m._wasm_meter_id(i)),
        peak: m._wasm_meter_peak(i),
        rms: m._wasm_meter_rms(i),
        slot: m._wasm_meter_slot(i),
        queued: m._wasm_meter_queued(i),
      });
    return {
      position: m._wasm_meters_position(),
      playing: !!m._wasm_meters_playing(),
      list,
      lufsM: m._wasm_meters_lufs_m(), // the master's loudness, LUFS (-200: silence)
      lufsS: m._wasm_meters_lufs_s(),
    };
  }
  presence() {
    const m = this.m;
    return {
      client: m._wasm_presence_client(),
      name: this.str(m._wasm_presence_name()),
      colour: m._wasm_presence_colour(),
      online: !!m._wasm_presence_online(),
      selection: this.str(m._wasm_presence_selection()),
      view: m._wasm_presence_view(),
    };
  }
}
