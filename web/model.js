// model.js: the page's handle on the wasm model (wasm/wasm_exports.c).
//
// Thin: it moves bytes and strings across the boundary and names the
// property numbers of shared/mdl_project.h. Every model rule (ranges, ids,
// ordering, rebase) lives in the C model; a refused edit comes back as a
// Refused error carrying the model's own reason.

// Property numbers and value kinds: must match mdl_prop in shared/mdl_project.h.
export const PROPS = {
  name: [1, 'str'],
  tempo: [2, 'real'],
  ts_num: [3, 'int'],
  ts_den: [4, 'int'],
  metronome: [5, 'bool'],
  colour: [6, 'int'],
  gain: [7, 'real'],
  pan: [8, 'real'],
  mute: [9, 'bool'],
  solo: [10, 'bool'],
};
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
};

export class Refused extends Error {
  constructor(code, reason) {
    super(reason);
    this.code = code;
  }
}

const enc = new TextEncoder();

// "project" -> (0, 1); a hex id -> [hi, lo] u32 halves.
function idPair(id) {
  if (id === 'project') return [0, 1];
  if (!id) return [0, 0];
  const h = id.padStart(16, '0');
  return [parseInt(h.slice(0, 8), 16) >>> 0, parseInt(h.slice(8), 16) >>> 0];
}

export async function loadModel() {
  const { default: createModel } = await import('/wasm/model.mjs');
  const m = await createModel();
  if (m._wasm_init() !== 0) throw new Error('model: out of memory');
  return new Model(m);
}

class Model {
  constructor(m) {
    this.m = m;
    this.inPtr = m._wasm_in_buf();
    this.outPtr = m._wasm_out_buf();
    this.size = m._wasm_buf_size();
  }

  str(ptr) {
    return this.m.UTF8ToString(ptr);
  }

  // Writes strings one after another into the input buffer; returns
  // [ptr, len] for each.
  put(...strs) {
    let at = this.inPtr;
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
  transport(play) {
    return this.out(this.m._wasm_transport(play ? 1 : 2));
  }
  // PRESENCE: what this user has selected (a track id, or null).
  select(id) {
    return this.out(this.m._wasm_presence(...(id ? idPair(id) : [0, 0])));
  }
  // Listen here: LISTEN{on}; audio() reads the AUDIO message just received
  // (its Opus packet copied out of the wasm heap).
  listen(on) {
    return this.out(this.m._wasm_listen(on ? 1 : 0));
  }
  audio() {
    const m = this.m;
    const at = this.inPtr + m._wasm_audio_offset();
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
  // Applies one received frame; returns its type, or a negative error
  // (then this.reason() says why and the connection should be reopened).
  receive(buf) {
    const b = new Uint8Array(buf);
    if (b.length > this.size) return -304;
    this.m.HEAPU8.set(b, this.inPtr);
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

  meters() {
    const m = this.m;
    const list = [];
    for (let i = 0, n = m._wasm_meters_n(); i < n; i++)
      list.push({
        id: this.str(m._wasm_meter_id(i)),
        peak: m._wasm_meter_peak(i),
        rms: m._wasm_meter_rms(i),
      });
    return { position: m._wasm_meters_position(), playing: !!m._wasm_meters_playing(), list };
  }
  presence() {
    const m = this.m;
    return {
      client: m._wasm_presence_client(),
      name: this.str(m._wasm_presence_name()),
      colour: m._wasm_presence_colour(),
      online: !!m._wasm_presence_online(),
      selection: this.str(m._wasm_presence_selection()),
    };
  }
}
