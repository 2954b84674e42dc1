// pianoroll.js: the notes of one MIDI clip on a pitch × time grid, with a
// velocity lane under it. Drawn on one <canvas> from the wasm model;
// studio.js opens it on a clip (double click in the arrangement) and calls
// changed() when the model's view changes.
//
// Gestures, each one transaction (one undo step): click (or drag) on an
// empty cell draws a note; drag a note to move it, its end to resize it;
// drag a bar of the velocity lane; Shift+drag on empty space selects with a
// box; right click deletes a note. Keys: Delete, Q (quantize), arrows
// (transpose, move), Ctrl+A, Escape. Note times are ticks from the clip's
// start; the model checks every value (a refusal comes back as a toast).
import {
  PPQ,
  SCALES,
  fitCanvas,
  fmtBarBeat,
  isBlackKey,
  meterOf,
  noteName,
  roundRect,
  shade,
  snapTo,
  transact,
} from './timeline.js';

const KEYS_W = 56; // the keyboard on the left
const RULER_H = 22;
const VEL_H = 76; // the velocity lane at the bottom
const VEL_GAP = 6;
const EDGE_PX = 6;
const DRAG_PX = 3;

export class PianoRoll {
  // OPTS: canvas, model, edit (studio.js's edit), info (element), onClose,
  // audition(track, pitch, velocity) (optional: plays a key on the track's
  // instrument, velocity 0 releases it).
  constructor(opts) {
    Object.assign(this, opts);
    this.clip = null;
    this.rowH = 12;
    this.pxPerTick = 0.1;
    this.scrollX = 0;
    this.scrollY = 0;
    this.grid = PPQ / 4; // a 16th
    this.selection = new Set();
    this.drag = null;
    this.velocity = 100; // of the next note drawn: the last one touched
    this.sounding = null; // the pitch being auditioned
    this.listen();
  }

  // Audition: the key under the pointer sounds on the clip's track while
  // the pointer is down (a glide to another key ends the first).
  hear(pitch) {
    if (pitch === this.sounding || !this.audition || !this.clip) return;
    this.hush();
    this.sounding = pitch;
    this.audition(this.model.parentOf(this.clip), pitch, this.velocity);
  }
  hush() {
    if (this.sounding === null) return;
    this.audition(this.model.parentOf(this.clip), this.sounding, 0);
    this.sounding = null;
  }

  open(clipId) {
    this.clip = clipId;
    this.selection.clear();
    this.loaded = false;
    this.changed();
  }
  close() {
    if (this.clip) this.hush();
    this.clip = null;
    this.drag = null;
  }

  changed() {
    if (!this.clip) return;
    const m = this.model;
    if (!m.typeOf(this.clip)) {
      // Deleted (here or by someone else).
      this.clip = null;
      this.onClose?.('The clip was deleted');
      return;
    }
    this.meter = meterOf(m);
    this.root = m.get('project', 'key_root');
    this.scale = m.get('project', 'key_scale');
    const track = m.parentOf(this.clip);
    this.c = {
      name: m.get(this.clip, 'name') || 'MIDI clip',
      track: m.get(track, 'name'),
      colour: m.get(this.clip, 'colour') || m.get(track, 'colour'),
      start: m.get(this.clip, 'start'),
      length: m.get(this.clip, 'length'),
      loop: m.get(this.clip, 'loop'),
      loopStart: m.get(this.clip, 'loop_start'),
      loopEnd: m.get(this.clip, 'loop_end'),
    };
    this.notes = m.children(this.clip, 'note').map((id) => ({
      id,
      pitch: m.get(id, 'pitch'),
      start: m.get(id, 'start'),
      length: m.get(id, 'length'),
      velocity: m.get(id, 'velocity'),
    }));
    this.notes.sort((a, b) => a.start - b.start || a.pitch - b.pitch);
    const ids = new Set(this.notes.map((n) => n.id));
    for (const id of [...this.selection]) if (!ids.has(id)) this.selection.delete(id);
    if (!this.loaded) {
      this.loaded = true;
      this.frame();
    }
    this.showInfo();
    this.redraw();
  }

  // Zoom to the clip's length and centre its notes.
  frame() {
    const w = Math.max(200, this.canvas.clientWidth - KEYS_W - 8);
    const span = Math.max(this.c.length, ...this.notes.map((n) => n.start + n.length), this.meter.bar);
    this.pxPerTick = w / span;
    this.scrollX = 0;
    const ps = this.notes.map((n) => n.pitch);
    const mid = ps.length ? (Math.min(...ps) + Math.max(...ps)) / 2 : 60;
    this.scrollY = Math.max(0, (127 - mid) * this.rowH - this.gridH() / 2);
  }

  // ---- Geometry --------------------------------------------------------------------------
  gridH() {
    return Math.max(40, this.canvas.clientHeight - RULER_H - VEL_H - VEL_GAP);
  }
  xOf(t) {
    return KEYS_W + (t - this.scrollX) * this.pxPerTick;
  }
  tickAt(x) {
    return this.scrollX + (x - KEYS_W) / this.pxPerTick;
  }
  yOf(pitch) {
    return RULER_H + (127 - pitch) * this.rowH - this.scrollY;
  }
  pitchAt(y) {
    return Math.max(0, Math.min(127, 127 - Math.floor((y - RULER_H + this.scrollY) / this.rowH)));
  }
  velTop() {
    return RULER_H + this.gridH() + VEL_GAP;
  }
  hit(x, y) {
    const p = this.pitchAt(y);
    for (let i = this.notes.length - 1; i >= 0; i--) {
      const n = this.notes[i];
      if (n.pitch !== p) continue;
      const x0 = this.xOf(n.start);
      const x1 = this.xOf(n.start + n.length);
      if (x >= x0 && x <= x1) return { note: n, edge: x1 - x <= Math.min(EDGE_PX, (x1 - x0) / 3) };
    }
    return null;
  }
  velHit(x) {
    let best = null;
    let bd = 7;
    for (const n of this.notes) {
      const d = Math.abs(this.xOf(n.start) + 2 - x);
      if (d < bd || (d === bd && this.selection.has(n.id))) [best, bd] = [n, d];
    }
    return best;
  }
  // Client coordinates of the middle of (TICK, PITCH), and a note's rectangle (tests).
  pointOf(tick, pitch) {
    const r = this.canvas.getBoundingClientRect();
    return { x: r.left + this.xOf(tick), y: r.top + this.yOf(pitch) + this.rowH / 2 };
  }
  rectOf(id) {
    const n = this.notes.find((x) => x.id === id);
    if (!n) return null;
    const r = this.canvas.getBoundingClientRect();
    return { x: r.left + this.xOf(n.start), y: r.top + this.yOf(n.pitch), w: n.length * this.pxPerTick, h: this.rowH };
  }
  snapTick(t, free) {
    return free ? Math.round(t) : snapTo(t, this.grid);
  }
  inScale(p) {
    const steps = (SCALES[this.scale] || SCALES[0])[1];
    return steps.includes((((p - this.root) % 12) + 12) % 12);
  }

  showInfo() {
    if (!this.info) return;
    const sel = this.notes.filter((n) => this.selection.has(n.id));
    const m = this.meter;
    if (sel.length === 1) {
      const n = sel[0];
      this.info.textContent = `${noteName(n.pitch)} · at ${fmtBarBeat(this.c.start + n.start, m, true)} · ${
        n.length
      } ticks · velocity ${n.velocity}`;
    } else if (sel.length) this.info.textContent = `${sel.length} notes selected`;
    else this.info.textContent = `${this.notes.length} note${this.notes.length === 1 ? '' : 's'}`;
  }

  redraw() {
    if (this.frameQueued) return;
    this.frameQueued = true;
    requestAnimationFrame(() => {
      this.frameQueued = false;
      if (this.clip && this.canvas.clientWidth) this.draw();
    });
  }

  // ---- Drawing ------------------------------------------------------------------------------
  draw() {
    const { g, w: W, h: H } = fitCanvas(this.canvas);
    const m = this.meter;
    const GH = this.gridH();
    const gy1 = RULER_H + GH;
    g.fillStyle = '#12151b';
    g.fillRect(0, 0, W, H);
    const t0 = this.tickAt(KEYS_W);
    const t1 = this.tickAt(W);

    // Rows: scale notes lighter, the root tinted, black keys darker.
    g.save();
    g.beginPath();
    g.rect(KEYS_W, RULER_H, W - KEYS_W, GH);
    g.clip();
    const pTop = this.pitchAt(RULER_H);
    const pBot = this.pitchAt(gy1 - 1);
    for (let p = pBot; p <= pTop; p++) {
      const y = this.yOf(p);
      const rel = (((p - this.root) % 12) + 12) % 12;
      g.fillStyle =
        rel === 0 && this.scale !== 7 ? '#1f2a3a' : this.inScale(p) ? '#1b2029' : isBlackKey(p) ? '#111319' : '#15181e';
      g.fillRect(KEYS_W, y, W - KEYS_W, this.rowH);
      g.fillStyle = p % 12 === 0 ? '#2b3240' : '#191d25';
      g.fillRect(KEYS_W, y + this.rowH - 1, W - KEYS_W, 1);
    }
    // Beyond the clip's end (or loop end): dimmed.
    const endT = this.c.loop && this.c.loopEnd > this.c.loopStart ? this.c.loopEnd : this.c.length;
    g.fillStyle = 'rgba(0,0,0,0.35)';
    g.fillRect(this.xOf(endT), RULER_H, W, GH);
    this.drawGrid(g, t0, t1, RULER_H, gy1);

    // Notes (dragged ones at their preview place).
    const pv = this.preview();
    for (const n of this.notes) {
      const p = pv && pv.get(n.id);
      if (p) this.drawNote(g, n, n.start, n.length, n.pitch, 'ghost');
      else this.drawNote(g, n, n.start, n.length, n.pitch, this.selection.has(n.id) ? 'sel' : '');
    }
    if (pv) for (const [id, p] of pv) this.drawNote(g, p.note || { id }, p.start, p.length, p.pitch, 'sel');
    const d = this.drag;
    if (d && d.kind === 'box' && d.moved) {
      g.strokeStyle = '#4da3ff';
      g.fillStyle = 'rgba(77,163,255,0.12)';
      const [x0, y0, x1, y1] = [Math.min(d.x0, d.x), Math.min(d.y0, d.y), Math.max(d.x0, d.x), Math.max(d.y0, d.y)];
      g.fillRect(x0, y0, x1 - x0, y1 - y0);
      g.strokeRect(x0 + 0.5, y0 + 0.5, x1 - x0, y1 - y0);
    }
    g.restore();

    // Velocity lane
    const vy = this.velTop();
    g.fillStyle = '#161a21';
    g.fillRect(0, vy - VEL_GAP, W, VEL_GAP);
    g.fillStyle = '#14171d';
    g.fillRect(KEYS_W, vy, W - KEYS_W, H - vy);
    g.save();
    g.beginPath();
    g.rect(KEYS_W, vy, W - KEYS_W, H - vy);
    g.clip();
    this.drawGrid(g, t0, t1, vy, H);
    const vh = H - vy - 6;
    for (const n of this.notes) {
      const x = this.xOf(n.start);
      if (x < KEYS_W - 6 || x > W) continue;
      const v = d && d.kind === 'vel' && d.ids.includes(n.id) ? d.value : n.velocity;
      const h = (v / 127) * vh;
      const sel = this.selection.has(n.id);
      g.fillStyle = sel ? '#ffffff' : shade(this.c.colour, 0.2);
      g.fillRect(x, H - 3 - h, 4, h);
      g.beginPath();
      g.arc(x + 2, H - 3 - h, 3, 0, Math.PI * 2);
      g.fill();
    }
    g.restore();
    g.fillStyle = '#171a21';
    g.fillRect(0, vy, KEYS_W, H - vy);
    g.fillStyle = '#8b93a3';
    g.font = '11px system-ui, sans-serif';
    g.textBaseline = 'middle';
    g.fillText('Velocity', 6, vy + 12);

    // Keyboard
    g.save();
    g.beginPath();
    g.rect(0, RULER_H, KEYS_W, GH);
    g.clip();
    for (let p = pBot; p <= pTop; p++) {
      const y = this.yOf(p);
      const black = isBlackKey(p);
      g.fillStyle = black ? '#23262d' : this.inScale(p) ? '#dfe4ec' : '#b9bfca';
      g.fillRect(0, y, black ? KEYS_W * 0.62 : KEYS_W, this.rowH - 1);
      if (black) {
        g.fillStyle = this.inScale(p) ? '#4a5568' : '#23262d';
        g.fillRect(KEYS_W * 0.62, y, KEYS_W * 0.38, this.rowH - 1);
      }
      if (p % 12 === 0 || (this.rowH >= 12 && p % 12 === this.root && this.scale !== 7)) {
        g.fillStyle = black ? '#e6e9ef' : '#1a1d24';
        g.font = '600 9px system-ui, sans-serif';
        g.fillText(noteName(p), KEYS_W - 26, y + this.rowH / 2);
      }
    }
    g.restore();
    g.fillStyle = '#2a2f3a';
    g.fillRect(KEYS_W - 1, RULER_H, 1, H - RULER_H);

    // Ruler: bars|beats of the song (the clip's start is its first bar).
    g.fillStyle = '#1a1e26';
    g.fillRect(0, 0, W, RULER_H);
    g.save();
    g.beginPath();
    g.rect(KEYS_W, 0, W - KEYS_W, RULER_H);
    g.clip();
    g.font = '11px ui-monospace, "DejaVu Sans Mono", monospace';
    const beatPx = m.beat * this.pxPerTick;
    const every = beatPx >= 40 ? m.beat : m.bar;
    const first = Math.floor((this.c.start + t0) / every) * every - this.c.start;
    for (let t = first; t <= t1; t += every) {
      const x = Math.round(this.xOf(t)) + 0.5;
      const abs = this.c.start + t;
      const barLine = abs % m.bar === 0;
      g.fillStyle = barLine ? '#566074' : '#3a4150';
      g.fillRect(x, barLine ? 8 : 14, 1, RULER_H);
      if (barLine || beatPx >= 40) {
        g.fillStyle = barLine ? '#aab3c5' : '#6f7889';
        g.fillText(fmtBarBeat(abs, m), x + 4, 10);
      }
    }
    if (this.c.loop && this.c.loopEnd > this.c.loopStart) {
      g.fillStyle = '#4da3ff';
      const x0 = this.xOf(this.c.loopStart);
      g.fillRect(x0, RULER_H - 4, this.xOf(this.c.loopEnd) - x0, 3);
    }
    g.restore();
    g.fillStyle = '#8b93a3';
    g.font = '10px system-ui, sans-serif';
    g.fillText(`1/${Math.round((PPQ * 4) / this.grid)}`, 8, RULER_H / 2);
    g.fillStyle = '#2a2f3a';
    g.fillRect(0, RULER_H - 1, W, 1);
  }

  drawGrid(g, t0, t1, y0, y1) {
    const m = this.meter;
    const px = this.grid * this.pxPerTick;
    const step = px >= 6 ? this.grid : px * 4 >= 6 ? this.grid * 4 : m.bar;
    for (let t = Math.max(0, Math.floor(t0 / step) * step); t <= t1; t += step) {
      const abs = this.c.start + t;
      const x = Math.round(this.xOf(t)) + 0.5;
      g.fillStyle = abs % m.bar === 0 ? '#394152' : abs % m.beat === 0 ? '#272d38' : '#1d222a';
      g.fillRect(x, y0, 1, y1 - y0);
    }
  }

  drawNote(g, n, start, length, pitch, state) {
    const x = this.xOf(start);
    const y = this.yOf(pitch);
    const w = Math.max(3, length * this.pxPerTick - 1);
    g.globalAlpha = state === 'ghost' ? 0.3 : 1;
    roundRect(g, x + 0.5, y + 1, w, this.rowH - 2, 2);
    const v = (n.velocity ?? 100) / 127;
    g.fillStyle = state === 'sel' ? shade(this.c.colour, 0.55) : shade(this.c.colour, -0.35 + 0.45 * v);
    g.fill();
    g.strokeStyle = state === 'sel' ? '#ffffff' : shade(this.c.colour, -0.6);
    g.lineWidth = 1;
    g.stroke();
    g.globalAlpha = 1;
  }

  // The dragged notes' new places: Map id -> {note, start, length, pitch}.
  preview() {
    const d = this.drag;
    if (!d || !d.moved) return null;
    const out = new Map();
    if (d.kind === 'draw') {
      out.set('new', {
        note: { id: 'new', velocity: this.velocity },
        start: d.start,
        length: d.length,
        pitch: d.pitch,
      });
      return out;
    }
    if (d.kind !== 'move' && d.kind !== 'resize') return null;
    for (const n of this.notes) {
      if (!d.ids.includes(n.id)) continue;
      if (d.kind === 'move')
        out.set(n.id, {
          note: n,
          start: Math.max(0, n.start + d.dt),
          length: n.length,
          pitch: Math.max(0, Math.min(127, n.pitch + d.dp)),
        });
      else out.set(n.id, { note: n, start: n.start, length: Math.max(d.minLength, n.length + d.dt), pitch: n.pitch });
    }
    return out;
  }

  // ---- Edits (each one transaction) ---------------------------------------------------------
  run(fn) {
    return transact(this.model, this.edit, fn);
  }
  selectedNotes() {
    return this.notes.filter((n) => this.selection.has(n.id));
  }
  addNote(pitch, start, length) {
    const id = this.run((t) => t.create('note', this.clip, { pitch, start, length, velocity: this.velocity }));
    if (id) this.selection = new Set([id]);
    this.changed();
    return id;
  }
  moveNotes(list, dt, dp) {
    if (!list.length || (!dt && !dp)) return;
    this.run((t) => {
      for (const n of list) {
        if (dt) t.set(n.id, 'start', Math.max(0, n.start + dt));
        if (dp) t.set(n.id, 'pitch', Math.max(0, Math.min(127, n.pitch + dp)));
      }
    });
  }
  resizeNotes(list, dt, minLength) {
    if (!list.length || !dt) return;
    this.run((t) => {
      for (const n of list) t.set(n.id, 'length', Math.max(minLength, n.length + dt));
    });
  }
  setVelocity(ids, v) {
    const list = this.notes.filter((n) => ids.includes(n.id) && n.velocity !== v);
    if (!list.length) return;
    this.velocity = v;
    this.run((t) => {
      for (const n of list) t.set(n.id, 'velocity', v);
    });
  }
  deleteNotes(list) {
    if (!list.length) return;
    this.run((t) => {
      for (const n of list) t.remove(n.id);
    });
    this.selection.clear();
    this.changed();
  }
  // Starts of the selected notes (all notes if none is selected) to the grid.
  quantize() {
    const list = (this.selection.size ? this.selectedNotes() : this.notes).filter(
      (n) => snapTo(n.start, this.grid) !== n.start,
    );
    if (!list.length) return 0;
    this.run((t) => {
      for (const n of list) t.set(n.id, 'start', Math.max(0, snapTo(n.start, this.grid)));
    });
    return list.length;
  }

  // ---- Input ------------------------------------------------------------------------------
  listen() {
    const cv = this.canvas;
    const pos = (ev) => {
      const r = cv.getBoundingClientRect();
      return [ev.clientX - r.left, ev.clientY - r.top];
    };
    cv.addEventListener('contextmenu', (ev) => {
      ev.preventDefault();
      const [x, y] = pos(ev);
      const h = y >= RULER_H && y < RULER_H + this.gridH() && x >= KEYS_W && this.hit(x, y);
      if (h) this.deleteNotes(this.selection.has(h.note.id) ? this.selectedNotes() : [h.note]);
    });
    cv.addEventListener('pointerdown', (ev) => {
      if (ev.button !== 0 || !this.clip) return;
      cv.focus();
      const [x, y] = pos(ev);
      if (y < RULER_H) return;
      if (x < KEYS_W) {
        if (y >= RULER_H + this.gridH()) return;
        this.drag = { kind: 'keys', moved: true, x0: x, y0: y };
        this.hear(this.pitchAt(y));
        cv.setPointerCapture(ev.pointerId);
        return;
      }
      if (y >= this.velTop()) {
        const n = this.velHit(x);
        if (!n) return;
        const ids = this.selection.has(n.id) ? [...this.selection] : [n.id];
        this.drag = { kind: 'vel', ids, value: n.velocity, moved: true, x0: x, y0: y };
        this.velFrom(y);
        cv.setPointerCapture(ev.pointerId);
        this.redraw();
        return;
      }
      if (y >= RULER_H + this.gridH()) return;
      const h = this.hit(x, y);
      if (!h) {
        if (ev.shiftKey) {
          this.drag = { kind: 'box', x0: x, y0: y, x, y, moved: false };
        } else {
          this.selection.clear();
          const start = Math.max(0, Math.floor(this.tickAt(x) / this.grid) * this.grid);
          const s = ev.altKey ? Math.max(0, Math.round(this.tickAt(x))) : start;
          this.drag = { kind: 'draw', x0: x, y0: y, start: s, length: this.grid, pitch: this.pitchAt(y), moved: true };
          this.hear(this.drag.pitch);
        }
        cv.setPointerCapture(ev.pointerId);
        this.showInfo();
        this.redraw();
        return;
      }
      const n = h.note;
      this.velocity = n.velocity;
      this.hear(n.pitch);
      if (ev.shiftKey || ev.ctrlKey || ev.metaKey) {
        if (this.selection.has(n.id)) this.selection.delete(n.id);
        else this.selection.add(n.id);
      } else if (!this.selection.has(n.id)) this.selection = new Set([n.id]);
      this.showInfo();
      if (!this.selection.has(n.id)) return this.redraw();
      this.drag = {
        kind: h.edge ? 'resize' : 'move',
        note: n,
        ids: [...this.selection],
        x0: x,
        y0: y,
        dt: 0,
        dp: 0,
        moved: false,
        minLength: this.grid,
        additive: ev.shiftKey,
      };
      cv.setPointerCapture(ev.pointerId);
      this.redraw();
    });
    cv.addEventListener('pointermove', (ev) => {
      const [x, y] = pos(ev);
      const d = this.drag;
      if (!d) {
        const h = x >= KEYS_W && y >= RULER_H && y < RULER_H + this.gridH() && this.hit(x, y);
        cv.style.cursor = h ? (h.edge ? 'ew-resize' : 'grab') : y >= this.velTop() ? 'ns-resize' : 'crosshair';
        return;
      }
      if (d.kind === 'keys') return this.hear(this.pitchAt(Math.min(y, RULER_H + this.gridH() - 1)));
      if (!d.moved && Math.abs(x - d.x0) < DRAG_PX && Math.abs(y - d.y0) < DRAG_PX) return;
      d.moved = true;
      const free = ev.altKey;
      if (d.kind === 'vel') this.velFrom(y);
      else if (d.kind === 'box') [d.x, d.y] = [x, y];
      else if (d.kind === 'draw') {
        const end = this.snapTick(this.tickAt(x), free);
        d.length = Math.max(free ? 1 : this.grid, end - d.start);
      } else if (d.kind === 'move') {
        const raw = (x - d.x0) / this.pxPerTick;
        d.dt = Math.max(-d.note.start, this.snapTick(d.note.start + raw, free) - d.note.start);
        d.dp = this.pitchAt(y) - d.note.pitch;
        this.hear(d.note.pitch + d.dp);
        cv.style.cursor = 'grabbing';
      } else {
        const end = d.note.start + d.note.length + (x - d.x0) / this.pxPerTick;
        d.minLength = free ? 1 : this.grid;
        d.dt = this.snapTick(end, free) - (d.note.start + d.note.length);
      }
      this.redraw();
    });
    const end = (ev, cancel) => {
      const d = this.drag;
      if (!d) return;
      this.drag = null;
      this.hush();
      if (cv.hasPointerCapture(ev.pointerId)) cv.releasePointerCapture(ev.pointerId);
      if (cancel || d.kind === 'keys') return this.redraw();
      if (d.kind === 'draw') this.addNote(d.pitch, d.start, d.length);
      else if (d.kind === 'vel') this.setVelocity(d.ids, d.value);
      else if (d.kind === 'box') {
        if (d.moved) {
          const [t0, t1] = [this.tickAt(Math.min(d.x0, d.x)), this.tickAt(Math.max(d.x0, d.x))];
          const [p0, p1] = [this.pitchAt(Math.max(d.y0, d.y)), this.pitchAt(Math.min(d.y0, d.y))];
          for (const n of this.notes)
            if (n.start < t1 && n.start + n.length > t0 && n.pitch >= p0 && n.pitch <= p1) this.selection.add(n.id);
        }
        this.showInfo();
      } else if (!d.moved) {
        if (d.kind === 'move' && !d.additive && this.selection.size > 1) this.selection = new Set([d.note.id]);
        this.showInfo();
      } else if (d.kind === 'move')
        this.moveNotes(
          this.notes.filter((n) => d.ids.includes(n.id)),
          d.dt,
          d.dp,
        );
      else
        this.resizeNotes(
          this.notes.filter((n) => d.ids.includes(n.id)),
          d.dt,
          d.minLength,
        );
      this.redraw();
    };
    cv.addEventListener('pointerup', (ev) => end(ev, false));
    cv.addEventListener('pointercancel', (ev) => end(ev, true));
    cv.addEventListener(
      'wheel',
      (ev) => {
        ev.preventDefault();
        const [x] = pos(ev);
        if (ev.ctrlKey || ev.metaKey) {
          const t = this.tickAt(Math.max(KEYS_W, x));
          this.pxPerTick = Math.min(2, Math.max(0.005, this.pxPerTick * Math.exp(-ev.deltaY * 0.002)));
          this.scrollX = Math.max(0, t - (Math.max(KEYS_W, x) - KEYS_W) / this.pxPerTick);
        } else if (ev.shiftKey || Math.abs(ev.deltaX) > Math.abs(ev.deltaY))
          this.scrollX = Math.max(0, this.scrollX + (ev.deltaX || ev.deltaY) / this.pxPerTick);
        else this.scrollPitch(ev.deltaY);
        this.redraw();
      },
      { passive: false },
    );
    cv.addEventListener('keydown', (ev) => this.key(ev));
    new ResizeObserver(() => this.redraw()).observe(cv);
  }

  scrollPitch(dy) {
    this.scrollY = Math.max(0, Math.min(128 * this.rowH - this.gridH(), this.scrollY + dy));
  }

  velFrom(y) {
    const vh = this.canvas.clientHeight - this.velTop() - 6;
    const v = Math.round(((this.canvas.clientHeight - 3 - y) / vh) * 127);
    this.drag.value = Math.max(1, Math.min(127, v));
  }

  key(ev) {
    const k = ev.key;
    const mod = ev.ctrlKey || ev.metaKey;
    const sel = this.selectedNotes();
    let done = true;
    if (k === 'Delete' || k === 'Backspace') this.deleteNotes(sel);
    else if (mod && k.toLowerCase() === 'a') {
      this.selection = new Set(this.notes.map((n) => n.id));
      this.showInfo();
      this.redraw();
    } else if (mod) done = false;
    else if (k === 'q' || k === 'Q') this.quantize();
    else if (k === 'Escape') {
      if (this.selection.size) {
        this.selection.clear();
        this.showInfo();
        this.redraw();
      } else this.onClose?.();
    } else if ((k === 'ArrowUp' || k === 'ArrowDown') && sel.length)
      this.moveNotes(sel, 0, (k === 'ArrowUp' ? 1 : -1) * (ev.shiftKey ? 12 : 1));
    else if ((k === 'ArrowLeft' || k === 'ArrowRight') && sel.length) {
      const unit = ev.shiftKey ? this.meter.bar : this.grid;
      const dt = k === 'ArrowLeft' ? -Math.min(unit, Math.min(...sel.map((n) => n.start))) : unit;
      this.moveNotes(sel, dt, 0);
    } else if (k === 'ArrowUp' || k === 'ArrowDown') {
      this.scrollPitch((k === 'ArrowUp' ? -3 : 3) * this.rowH);
      this.redraw();
    } else done = false;
    if (done) {
      ev.preventDefault();
      ev.stopPropagation();
    }
  }
}
