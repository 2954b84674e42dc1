// mixer.js: the parts of the mixer beyond a track row's own fader and pan
// (studio.js): the sends of every track to the project's return tracks,
// "+ Return", and the master strip (fader, mute, meter with a scale and a
// peak-hold readout).
//
// Sends. A track row shows one knob per return track, in the returns'
// order (a return's own slot stays empty, so the columns line up). A knob
// shows the track's send to that return (type `send` under the track:
// target, level 0..4 linear, pre), or −∞ when there is none. A drag is
// like a fader drag: LIVE values while it moves (heard and shown to the
// others, never stored), one op when it is let go (one undo step). The
// first move of a knob whose send does not exist yet creates it at −∞ (one
// transaction: send with target and level), so what follows is heard; the
// release then sets the final level (undoing it shows −∞ again; the undo
// after that removes the send). Letting go at −∞ (the bottom), Delete
// or Backspace on a focused knob removes the send: a send at −∞ does
// nothing, so none is kept. The pre/post chip toggles the pre-fader tap of
// an existing send. The model refuses what would make a loop (a return
// sending to a return that feeds it); the refusal is a toast, like any.
//
// Master. The master track (id 2) is not a row: its gain is the strip's
// vertical fader (LIVE while dragged, one op on release), its mute the M
// button. The meter is the master's METERS entry (track id 0): peak (pale),
// RMS (solid), 1.5 s peak hold (line and readout, red at 0 dB and above),
// drawn at display rate by studio.js's frame loop. The engine reports one
// peak and one RMS over both channels, so the meter has one bar.
import { $, knobDrag, setAttr, setText, setValue } from './ui.js';

export const KIND = { audio: 1, instrument: 2, group: 3, return: 4, master: 5 };
export const MASTER = '2'; // MDL_ID_MASTER as the page spells ids
const DRAG_PX = 160; // a vertical drag this long sweeps a send knob's whole range
const ARC = 135; // degrees either side of the top
const FLOOR_DB = -60; // bottom of the meter scale (must match studio.js)
const TOP_DB = 6;

// Levels as fader positions: tenths of a dB from −60 dB (−600 = −∞) to +12 dB.
export const gainToSlider = (g) => (g <= 0.001 ? -600 : Math.max(-600, Math.min(120, Math.round(200 * Math.log10(g)))));
export const sliderToGain = (v) => (v <= -600 ? 0 : Math.min(4, 10 ** (v / 200)));
const toDb = (g) => (g > 0 ? 20 * Math.log10(g) : -Infinity);
export const fmtDb = (g, unit = true) =>
  (g > 0.00001 ? `${toDb(g) >= 0.05 ? '+' : toDb(g) <= -0.05 ? '−' : ''}${Math.abs(toDb(g)).toFixed(1)}` : '−∞') +
  (unit ? ' dB' : '');

// An SVG arc path on a 40×40 knob from angle A0 to A1 (degrees, 0 = top).
function arc(a0, a1) {
  const pt = (a) => {
    const t = ((a - 90) * Math.PI) / 180;
    return `${(20 + 15 * Math.cos(t)).toFixed(2)} ${(20 + 15 * Math.sin(t)).toFixed(2)}`;
  };
  if (Math.abs(a1 - a0) < 0.01) return `M ${pt(a0)}`;
  return `M ${pt(a0)} A 15 15 0 ${Math.abs(a1 - a0) > 180 ? 1 : 0} ${a1 > a0 ? 1 : 0} ${pt(a1)}`;
}

const norm = (g) => (gainToSlider(g) + 600) / 720;
const fromNorm = (n) => sliderToGain(Math.round(Math.max(0, Math.min(1, n)) * 720 - 600));

// ---- Sends -----------------------------------------------------------------------

// One send knob of TRACK to the return RET, with its pre/post chip.
class SendKnob {
  constructor(sends, track, ret) {
    Object.assign(this, { sends, track, ret });
    this.send = null; // the send object's id, once it exists
    this.level = 0;
    this.busy = false;
    const el = (this.el = document.createElement('div'));
    el.className = 'send';
    el.dataset.target = ret;
    el.innerHTML = `<div class="s-knob" role="slider" tabindex="0" aria-valuemin="0" aria-valuemax="4">
      <svg viewBox="0 0 40 40" aria-hidden="true"><path class="k-bg" d="${arc(-ARC, ARC)}"/><path class="k-val"/>
      <line class="k-ptr" x1="20" y1="20" x2="20" y2="7"/></svg></div>
      <span class="s-name"></span><output class="s-db"></output>
      <button class="s-pre" aria-pressed="false">pre</button>`;
    this.knob = el.querySelector('.s-knob');
    this.path = el.querySelector('.k-val');
    this.ptr = el.querySelector('.k-ptr');
    this.name = el.querySelector('.s-name');
    this.out = el.querySelector('.s-db');
    this.pre = el.querySelector('.s-pre');
    this.listen();
  }

  // Names and state from the model: the send (or none), the return's name.
  update(send, trackName, retName) {
    this.send = send;
    const m = this.sends.model;
    const pre = send ? m.get(send, 'pre') : false;
    this.el.classList.toggle('none', !send);
    this.name.textContent = retName;
    const what = `Send from ${trackName} to ${retName}`;
    this.knob.setAttribute('aria-label', what);
    this.knob.title = `${what}: drag up/down (Shift: finer), arrows; double-click: 0 dB; Delete or the bottom: no send`;
    this.pre.setAttribute('aria-label', `Pre-fader send from ${trackName} to ${retName}`);
    this.pre.title = send ? 'Pre-fader: the send taps before the track fader' : 'Turn the send up first';
    this.pre.setAttribute('aria-pressed', String(pre));
    this.pre.disabled = !send;
    this.show(send ? m.get(send, 'level') : 0);
  }

  // Shows level G (stored, or someone's live value) unless this knob is being dragged.
  show(g, force = false) {
    if (this.busy && !force) return;
    this.level = g;
    const a = -ARC + 2 * ARC * norm(g);
    this.path.setAttribute('d', arc(-ARC, a));
    this.ptr.setAttribute('transform', `rotate(${a.toFixed(1)} 20 20)`);
    this.out.textContent = fmtDb(g, false);
    this.knob.setAttribute('aria-valuenow', String(+g.toFixed(4)));
    this.knob.setAttribute('aria-valuetext', fmtDb(g));
  }

  // Stores level G: creates the send (one transaction with its target and
  // level), sets its level, or removes it at −∞. One op, one undo step.
  commit(g) {
    const { model, edit } = this.sends;
    if (!this.send) {
      if (g <= 0) return this.show(0, true);
      edit(() => {
        const t = model.edit();
        t.create('send', this.track, { target: this.ret, level: g });
        return t.commit();
      });
    } else if (g <= 0) edit(() => model.remove(this.send));
    else if (g !== model.get(this.send, 'level')) edit(() => model.set(this.send, 'level', g));
    else this.show(g, true);
  }

  listen() {
    const k = this.knob;
    knobDrag(k, DRAG_PX, {
      start: () => {
        this.busy = true;
        return norm(this.level);
      },
      move: (n) => {
        const g = fromNorm(n);
        if (g === this.level) return true;
        this.show(g, true);
        // The first move of a send not there yet makes it at −∞, so the drag
        // is heard and undoing the release shows −∞ again.
        if (!this.send && g > 0) {
          const { model, edit } = this.sends;
          let made = null;
          const ok = edit(() => {
            const t = model.edit();
            made = t.create('send', this.track, { target: this.ret, level: 0 });
            return t.commit();
          });
          if (!ok) {
            this.busy = false;
            this.show(0, true);
            return false;
          }
          this.send = made;
        }
        if (this.send) this.sends.live(this.send, 'level', g);
        return true;
      },
      end: (moved) => {
        this.busy = false;
        if (moved) this.commit(this.level);
      },
    });
    k.addEventListener('dblclick', () => this.commit(1));
    k.addEventListener('keydown', (ev) => {
      const v = gainToSlider(this.level);
      const step = ev.shiftKey ? 1 : 10; // tenths of a dB
      const moves = {
        ArrowUp: () => sliderToGain(Math.max(-590, v + step)),
        ArrowRight: () => sliderToGain(Math.max(-590, v + step)),
        ArrowDown: () => sliderToGain(v - step),
        ArrowLeft: () => sliderToGain(v - step),
        PageUp: () => sliderToGain(Math.max(-590, v + 60)),
        PageDown: () => sliderToGain(v - 60),
        Home: () => 0,
        End: () => 4,
        Delete: () => 0,
        Backspace: () => 0,
      };
      if (!moves[ev.key]) return;
      ev.preventDefault();
      this.commit(moves[ev.key]());
    });
    this.pre.addEventListener('click', () => {
      const { model, edit } = this.sends;
      if (this.send) edit(() => model.set(this.send, 'pre', !model.get(this.send, 'pre')));
    });
  }
}

// The sends of every row. EDIT(fn) runs a model edit (a toast on refusal),
// LIVE(id, prop, v) sends a throttled LIVE value.
export class Sends {
  constructor({ model, edit, live }) {
    Object.assign(this, { model, edit, live });
    this.knobs = new Map(); // "track:return" -> SendKnob
    this.bySend = new Map(); // send id -> SendKnob
  }

  // The return tracks of the project view P, in order.
  returns(p) {
    return p.tracks.filter((t) => this.model.get(t.id, 'kind') === KIND.return);
  }

  // Fills EL (a row's sends cell) for track T: a knob per return in RETURNS.
  update(el, t, returns) {
    const m = this.model;
    const byTarget = new Map();
    for (const s of m.children(t.id, 'send')) byTarget.set(m.get(s, 'target'), s);
    const want = [];
    for (const r of returns) {
      if (r.id === t.id) {
        let gap = el.querySelector(':scope > .send-gap');
        if (!gap) ((gap = document.createElement('span')), (gap.className = 'send-gap'));
        want.push(gap);
        continue;
      }
      const key = `${t.id}:${r.id}`;
      let k = this.knobs.get(key);
      if (!k) this.knobs.set(key, (k = new SendKnob(this, t.id, r.id)));
      if (k.send) this.bySend.delete(k.send);
      k.update(byTarget.get(r.id) || null, t.name, r.name);
      if (k.send) this.bySend.set(k.send, k);
      want.push(k.el);
    }
    want.forEach((node, i) => {
      if (el.children[i] !== node) el.insertBefore(node, el.children[i] || null);
    });
    while (el.children.length > want.length) el.lastElementChild.remove();
  }

  // Forgets the knobs of tracks and returns no longer in the view P.
  prune(p) {
    const ids = new Set(p.tracks.map((t) => t.id));
    for (const [key, k] of this.knobs) {
      if (ids.has(k.track) && ids.has(k.ret)) continue;
      this.knobs.delete(key);
      if (k.send) this.bySend.delete(k.send);
    }
  }

  // Someone else moves a send (a LIVE level): the knob follows. True if it was a send's.
  showLive(l, propName) {
    const k = this.bySend.get(l.id);
    if (!k || propName !== 'level') return false;
    k.show(l.value);
    return true;
  }

  // "+ Return": a return track named after the next free letter. One undo step.
  addReturn(p) {
    const names = new Set(p.tracks.map((t) => t.name));
    let i = 0;
    while (names.has(`Return ${String.fromCharCode(65 + (i % 26))}${i >= 26 ? Math.floor(i / 26) : ''}`)) i++;
    const name = `Return ${String.fromCharCode(65 + (i % 26))}${i >= 26 ? Math.floor(i / 26) : ''}`;
    return this.edit(() => {
      const t = this.model.edit();
      t.create('track', 'project', { kind: KIND.return, name });
      return t.commit();
    });
  }
}

// ---- Master strip ----------------------------------------------------------------

const dbPos = (v) => (v <= 0 ? 0 : Math.max(0, Math.min(1, (toDb(v) - FLOOR_DB) / (TOP_DB - FLOOR_DB))));
const SCALE = [6, 0, -6, -12, -18, -24, -36, -48];

// The MASTER panel (ROOT): mute, a vertical fader and the meter with its scale.
export class MasterStrip {
  constructor({ root, model, edit, live }) {
    Object.assign(this, { root, model, edit, live });
    this.busy = false;
    root.classList.add('master-strip');
    const meter = $('master-meter');
    const readout = $('master-db');
    root.replaceChildren();
    root.innerHTML = `<h2>Master</h2>
      <button class="m-mute mute" aria-pressed="false" aria-label="Mute the master" title="Mute the master">M</button>
      <div class="m-body">
        <input class="m-fader" type="range" min="-600" max="120" step="5" aria-label="Master gain"
          title="Master gain: drag, arrows; double-click: 0 dB">
        <div class="m-meter"></div>
      </div>
      <output class="m-gain" aria-label="Master gain in dB"></output>
      <output class="m-lufs" aria-label="Master loudness, momentary and short-term"
        title="Loudness of the master in LUFS (ITU-R BS.1770 / EBU R128): momentary (M, 400 ms) and short-term (S, 3 s)"></output>`;
    root.querySelector('.m-meter').append(meter);
    meter.removeAttribute('width');
    meter.removeAttribute('height');
    readout.setAttribute('aria-label', 'Master peak hold');
    readout.title = 'Peak hold (1.5 s); red at 0 dB and above';
    root.querySelector('.m-meter').append(readout);
    this.meter = meter;
    this.readout = readout;
    this.mute = root.querySelector('.m-mute');
    this.fader = root.querySelector('.m-fader');
    this.gainOut = root.querySelector('.m-gain');
    this.lufsOut = root.querySelector('.m-lufs');
    this.loudness(-200, -200);
    const f = this.fader;
    f.addEventListener('pointerdown', () => (this.busy = true));
    f.addEventListener('input', () => {
      const g = sliderToGain(Number(f.value));
      this.gainOut.textContent = fmtDb(g);
      this.live(MASTER, 'gain', g);
    });
    f.addEventListener('change', () => {
      this.busy = false;
      this.edit(() => this.model.set(MASTER, 'gain', sliderToGain(Number(f.value))));
    });
    f.addEventListener('dblclick', () => this.edit(() => this.model.set(MASTER, 'gain', 1)));
    this.mute.addEventListener('click', () =>
      this.edit(() => this.model.set(MASTER, 'mute', !this.model.get(MASTER, 'mute'))),
    );
  }

  // The master's loudness (LUFS; -200 = silence) from METERS.
  loudness(momentary, shortTerm) {
    const f = (l) => (l <= -70 ? '−∞' : l.toFixed(1).replace('-', '−'));
    const text = `M ${f(momentary)}\nS ${f(shortTerm)}`;
    if (text !== this.lufsText) this.lufsOut.textContent = this.lufsText = text;
  }

  // The master's gain and mute from the model.
  update() {
    const g = this.model.get(MASTER, 'gain');
    const muted = this.model.get(MASTER, 'mute');
    if (!this.busy) setValue(this.fader, String(gainToSlider(g)));
    setAttr(this.fader, 'aria-valuetext', fmtDb(g));
    setText(this.gainOut, fmtDb(g));
    setAttr(this.mute, 'aria-pressed', String(muted));
    this.root.classList.toggle('muted-master', muted);
  }

  // Someone else drags the master fader. True if the LIVE value was the master's.
  showLive(l, propName) {
    if (l.id !== MASTER || propName !== 'gain') return false;
    if (!this.busy) this.fader.value = String(gainToSlider(l.value));
    this.gainOut.textContent = fmtDb(l.value);
    return true;
  }

  // Draws meter state M ({level, avg, hold}: peak and RMS with their release, peak hold).
  draw(m) {
    const c = this.meter;
    const dpr = window.devicePixelRatio || 1;
    const w = Math.round(c.clientWidth * dpr);
    const h = Math.round(c.clientHeight * dpr);
    if (!w || !h) return;
    if (c.width !== w || c.height !== h) ((c.width = w), (c.height = h));
    const g = c.getContext('2d');
    const barW = Math.round(14 * dpr);
    const top = Math.round(6 * dpr);
    const len = h - 2 * top;
    const y = (v) => top + len - Math.round(v * len);
    g.clearRect(0, 0, w, h);
    g.fillStyle = '#15181e';
    g.fillRect(0, top, barW, len);
    const grad = g.createLinearGradient(0, top + len, 0, top);
    grad.addColorStop(0, '#2fb36b');
    grad.addColorStop(0.72, '#9bd14b');
    grad.addColorStop(0.86, '#f2c94c');
    grad.addColorStop(1, '#ef4d4d');
    g.fillStyle = grad;
    g.globalAlpha = 0.45;
    g.fillRect(0, y(dbPos(m.level)), barW, top + len - y(dbPos(m.level)));
    g.globalAlpha = 1;
    g.fillRect(0, y(dbPos(m.avg)), barW, top + len - y(dbPos(m.avg)));
    if (m.hold > 0) {
      g.fillStyle = m.hold >= 1 ? '#ff6b6b' : '#e8ecf2';
      g.fillRect(0, y(dbPos(m.hold)) - dpr, barW, Math.max(2, Math.round(2 * dpr)));
    }
    // The scale: a tick and its dB on the right of the bar.
    g.font = `${Math.round(9 * dpr)}px ui-monospace, "DejaVu Sans Mono", monospace`;
    g.textBaseline = 'middle';
    // On a short meter, a label too close to the last one drawn is left out
    // (0 dB always stays): ticks only, never text over text.
    let lastY = -Infinity;
    for (const db of SCALE) {
      const yy = y((db - FLOOR_DB) / (TOP_DB - FLOOR_DB));
      g.fillStyle = db === 0 ? 'rgba(255,255,255,0.5)' : 'rgba(0,0,0,0.45)';
      g.fillRect(0, yy, barW, Math.max(1, Math.round(dpr)));
      if (db !== 0 && yy - lastY < 11 * dpr) continue;
      if (db === 0 && yy - lastY < 11 * dpr) g.clearRect(barW + 1, lastY - 6 * dpr, w - barW, 12 * dpr);
      g.fillStyle = db === 0 ? '#e6e9ef' : '#8b93a3';
      g.fillText(db > 0 ? `+${db}` : db === 0 ? '0' : `−${-db}`, barW + Math.round(4 * dpr), yy);
      lastY = yy;
    }
    this.readout.textContent = m.hold > 0.00001 ? fmtDb(m.hold, false) : '−∞';
    this.readout.classList.toggle('clip', m.hold >= 1);
  }
}
