// record.js: recording what is played by hand, and the computer keyboard
// as a piano ("Keys").
//
// Recording: Record starts the transport (after the project's count-in, if
// it has one) and takes every note played by hand on an instrument track
// (the piano roll's keys, the computer keyboard) at the playhead; Stop (or
// Record again) writes them as one MIDI clip per track, from the bar the
// first note is in to the bar after the last one ends: one transaction, so
// one undo step for the one who recorded. Notes are timed on the page's
// playhead (the server's position plus the time since its last METERS), so
// they land within a network round trip of where they were heard.
//
// Keys: with it on, A W S E D F T G Y H U J K play a chromatic octave from C
// on the selected instrument track (Z and X shift the octave), and the
// letters do nothing else; off, they are the usual shortcuts.
const PIANO = 'awsedftgyhujk'; // C C# D D# E F F# G G# A A# B C
const VELOCITY = 100;

export class Recorder {
  // OPTS: model, edit (studio.js's edit), time (a TimeMap), tick() (the
  // playhead now, in ticks), playing() (the transport runs), start(countIn)
  // and stop() (the transport), send(track, pitch, velocity) (NOTE to the
  // server), track() (the selected instrument track, or null), toast(text),
  // onChange() (the buttons' state changed).
  constructor(opts) {
    Object.assign(this, opts);
    this.recording = false;
    this.held = new Map(); // "track:pitch" -> {track, pitch, velocity, start}
    this.take = []; // finished notes: {track, pitch, velocity, start, length}
    this.keys = false;
    this.octave = 4; // C4 = MIDI 60
    this.typed = new Map(); // key letter -> {track, pitch} sounding
  }

  // ---- Recording ------------------------------------------------------------------
  toggle() {
    if (this.recording) this.finish();
    else this.begin();
  }

  begin() {
    this.recording = true;
    this.take = [];
    this.held.clear();
    if (!this.playing()) this.start(true);
    this.onChange();
  }

  // Every note played by hand passes here (after it was sent to be heard).
  played(track, pitch, velocity) {
    if (!this.recording || !this.playing()) return;
    const at = Math.max(0, Math.round(this.tick()));
    const key = `${track}:${pitch}`;
    const open = this.held.get(key);
    if (open) this.close(key, open, at); // a key struck again while held
    if (velocity) this.held.set(key, { track, pitch, velocity, start: at });
  }

  close(key, n, at) {
    this.held.delete(key);
    this.take.push({ ...n, length: Math.max(1, at - n.start) });
  }

  finish() {
    const at = Math.max(0, Math.round(this.tick()));
    for (const [key, n] of [...this.held]) this.close(key, n, at);
    this.recording = false;
    this.stop();
    this.onChange();
    const notes = this.take;
    this.take = [];
    if (!notes.length) return this.toast('Nothing was played: no clip recorded', 'info');
    const byTrack = new Map();
    for (const n of notes) {
      if (!this.model.typeOf(n.track)) continue; // deleted meanwhile
      if (!byTrack.has(n.track)) byTrack.set(n.track, []);
      byTrack.get(n.track).push(n);
    }
    const made = this.edit(() => {
      const t = this.model.edit();
      for (const [track, list] of byTrack) {
        const first = Math.min(...list.map((n) => n.start));
        const last = Math.max(...list.map((n) => n.start + n.length));
        const from = this.time.barTick(this.time.bbt(first).bar);
        const to = this.time.barTick(this.time.bbt(Math.max(first, last - 1)).bar + 1);
        const clip = t.create('clip', track, { name: 'Recording', start: from, length: to - from });
        for (const n of list)
          t.create('note', clip, { pitch: n.pitch, velocity: n.velocity, start: n.start - from, length: n.length });
      }
      return t.commit();
    });
    if (made)
      this.toast(`Recorded ${notes.length} note${notes.length === 1 ? '' : 's'} on ${byTrack.size} track${byTrack.size === 1 ? '' : 's'}`, 'info');
  }

  // ---- The computer keyboard as a piano ---------------------------------------------
  setKeys(on) {
    if (!on) this.releaseTyped();
    this.keys = on;
    this.onChange();
  }

  // A key event while Keys is on: true when it was a piano key (handled).
  key(ev, down) {
    if (!this.keys || ev.ctrlKey || ev.metaKey || ev.altKey) return false;
    const k = ev.key.toLowerCase();
    if (k === 'z' || k === 'x') {
      if (down && !ev.repeat) {
        this.releaseTyped();
        this.octave = Math.max(0, Math.min(8, this.octave + (k === 'x' ? 1 : -1)));
        this.toast(`Keys: octave C${this.octave}`, 'info');
      }
      return true;
    }
    const i = PIANO.indexOf(k);
    if (i < 0) return false;
    if (ev.repeat) return true;
    if (down) {
      const track = this.track();
      if (!track) {
        this.toast('Keys: select an instrument track to play', 'info');
        return true;
      }
      const pitch = Math.min(127, 12 * (this.octave + 1) + i);
      this.typed.set(k, { track, pitch });
      this.hit(track, pitch, VELOCITY);
    } else {
      const n = this.typed.get(k);
      if (n) this.typed.delete(k), this.hit(n.track, n.pitch, 0);
    }
    return true;
  }

  releaseTyped() {
    for (const n of this.typed.values()) this.hit(n.track, n.pitch, 0);
    this.typed.clear();
  }

  hit(track, pitch, velocity) {
    this.send(track, pitch, velocity);
    this.played(track, pitch, velocity);
  }
}
