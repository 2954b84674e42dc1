// arrange.js: the arrangement view: tracks as lanes on a timeline in
// bars|beats, clips as blocks, markers and the loop region on the ruler, and
// the playhead. Drawn on one <canvas> from the wasm model (never from the
// server); studio.js calls changed() when the model's view changes and
// setPlayhead() every frame.
//
// Every gesture (a move, a resize, a split, a duplicate, a delete, a loop
// drag) is one transaction, so one undo step. While a drag is under way
// nothing is sent: the view draws a preview, and the release commits.
// Whether an edit is allowed (a clip on a return track, ranges, ...) is the
// model's call: a refusal comes back as a toast (studio.js's edit()).
import { clamp, CURVES, fmtValue, lanesOf, pointsOf, targetsOf, valueAt } from './automation.js';
import { levelFor, PeakCache } from './peaks.js';
import { TimeMap } from './tempo.js';
import { fitCanvas, fmtLength, hex, meterOf, PPQ, roundRect, shade, snapTo, transact } from './timeline.js';

const HEAD_W = 168; // track names column, CSS px
const RULER_H = 30;
const TEMPO_H = 26; // the tempo lane, under the ruler
const METER_H = 18; // the time-signature lane, under the tempo lane
const LANE_H = 54;
const GROUP_H = 34; // a group track's lane (its children follow, indented)
const AUTO_H = 52; // an automation lane under its track
const AUTO_PAD = 6; // its value range's margin, top and bottom
const POINT_PX = 6; // grab radius of an automation point
const TENSIONS = [
  ['Tension −1', -1],
  ['Tension −½', -0.5],
  ['Tension 0', 0],
  ['Tension +½', 0.5],
  ['Tension +1', 1],
];
const EDGE_PX = 7; // grab zone for resizing a clip's end
const DRAG_PX = 3; // a press that moves less is a click
const LONG_PRESS_MS = 550; // a touch held this long (without moving) does what a right-click does
const KIND = { audio: 1, instrument: 2, group: 3, return: 4, master: 5 };
const KIND_NAME = ['', 'audio', 'instrument', 'group', 'return', 'master'];
const MIN_PX_PER_TICK = 2 / 960; // ~8 px a 4/4 bar
const MAX_PX_PER_TICK = 400 / 960; // 400 px a quarter note
const WAVE_CACHE_PX = 4096; // a clip's waveform is kept as an image up to this width; wider ones draw what shows

export class Arrangement {
  // OPTS: canvas, model, edit (studio.js's edit: runs a SUBMIT-making
  // function, returns false on refusal), select(trackId) (presence),
  // open(clipId) (the piano roll), info (an element for the selection text).
  constructor(opts) {
    Object.assign(this, opts);
    this.pxPerTick = 80 / (4 * 960); // 80 px a 4/4 bar
    this.scrollX = 0; // ticks at the left edge of the lanes
    this.scrollY = 0; // CSS px
    this.snap = true;
    this.follow = true;
    this.selection = new Set(); // clip ids
    this.playhead = 0; // ticks
    this.playing = false;
    this.drag = null;
    this.dirty = true;
    this.lanes = [];
    this.clips = new Map();
    this.noteCache = new Map(); // clip id -> notes for the thumbnail (cleared on every change)
    this.others = []; // presence: [{name, colour, view}] of the other users
    this.viewSent = -1; // the view start last told to the others (ticks)
    this.time = new TimeMap(this.model);
    // Waveforms: peaks fetched once per asset and level; each clip's drawing
    // kept as an image until something it depends on changes.
    this.peaks = new PeakCache((asset) => {
      for (const [id, w] of this.waveCache) if (w.asset === asset) this.waveCache.delete(id);
      this.redraw();
    });
    this.waveCache = new Map(); // clip id -> {key, asset, canvas}
    // Automation: which tracks show their lanes (this page only), the target
    // picked for each track's "new lane" row, the selected point.
    this.autoOpen = new Set();
    this.autoPick = new Map(); // track id -> target key
    this.autoSel = null; // point id
    this.autoRows = [];
    this.pickers = new Map(); // track id -> <select> over its new-lane row's head
    // Touch: the fingers down (pointer id -> canvas x, y), a pinch under way, a pending long press.
    this.touches = new Map();
    this.pinch = null;
    this.longPress = null;
    this.listen();
    this.changed();
  }

  // The other users' presence (their view starts are drawn on the ruler).
  setOthers(list) {
    this.others = list;
    this.dirty = true;
  }

  // Tells the others where this view starts, once it has stopped moving.
  viewMoved() {
    const tick = Math.round(this.scrollX);
    if (tick === this.viewSent || !this.onView) return;
    clearTimeout(this.viewTimer);
    this.viewTimer = setTimeout(() => {
      this.viewSent = tick;
      this.onView(tick);
    }, 250);
  }

  // ---- The model, cached until the next change -------------------------------------
  // NOTES false: no note changed (studio.js knows from model.changes()), so
  // the thumbnails' notes are still good.
  changed(notes = true) {
    const m = this.model;
    this.meter = meterOf(m);
    const lanes = [];
    const clips = new Map();
    const autoRows = [];
    let y = 0;
    const walk = (parent, depth) => {
      for (const id of m.children(parent, 'track')) {
        const kind = m.get(id, 'kind');
        if (kind === KIND.master) continue;
        const h = kind === KIND.group ? GROUP_H : LANE_H;
        const lane = {
          id,
          kind,
          depth,
          y,
          h,
          index: lanes.length,
          name: m.get(id, 'name'),
          colour: m.get(id, 'colour'),
          mute: m.get(id, 'mute'),
          clips: [],
        };
        lanes.push(lane);
        y += h;
        if (this.autoOpen.has(id)) y = this.layoutAuto(lane, y, autoRows);
        for (const c of m.children(id, 'clip')) {
          if (m.get(c, 'scene')) continue; // a session slot, not the arrangement
          const clip = this.readClip(c, lane);
          lane.clips.push(clip);
          clips.set(c, clip);
        }
        lane.clips.sort((a, b) => a.start - b.start);
        if (kind === KIND.group) walk(id, depth + 1);
      }
    };
    walk('project', 0);
    this.lanes = lanes;
    this.autoRows = autoRows;
    this.syncPickers();
    this.contentH = y;
    this.clips = clips;
    for (const id of [...this.selection]) if (!clips.has(id)) this.selection.delete(id);
    this.markers = m
      .children('project', 'marker')
      .map((id) => ({ id, name: m.get(id, 'name'), start: m.get(id, 'start') }))
      .sort((a, b) => a.start - b.start);
    this.tempos = m
      .children('project', 'tempo')
      .map((id) => ({ id, start: m.get(id, 'start'), bpm: m.get(id, 'tempo'), ramp: m.get(id, 'ramp') }))
      .sort((a, b) => a.start - b.start);
    this.meters = m
      .children('project', 'meter')
      .map((id) => ({ id, bar: m.get(id, 'bar'), num: m.get(id, 'ts_num'), den: m.get(id, 'ts_den') }))
      .sort((a, b) => a.bar - b.bar);
    this.baseTempo = m.get('project', 'tempo');
    if (this.flagSel && !m.typeOf(this.flagSel)) this.flagSel = null;
    this.loop = {
      on: m.get('project', 'loop'),
      start: m.get('project', 'loop_start'),
      end: m.get('project', 'loop_end'),
    };
    if (notes) this.noteCache.clear();
    for (const id of this.waveCache.keys()) if (!clips.has(id)) this.waveCache.delete(id);
    // What the waveforms' time depends on: the tempo map.
    this.tempoKey = [m.get('project', 'tempo'), ...m.children('project', 'tempo').map((id) => `${m.get(id, 'start')}:${m.get(id, 'tempo')}:${m.get(id, 'ramp')}`)].join();
    this.showInfo();
    this.redraw();
  }

  // Clip C of LANE as drawn, read from the model.
  readClip(c, lane) {
    const m = this.model;
    const own = m.get(c, 'colour');
    const clip = {
      id: c,
      lane,
      track: lane.id,
      name: m.get(c, 'name'),
      own, // its own colour; 0: the lane's
      colour: own || lane.colour,
      start: m.get(c, 'start'),
      length: m.get(c, 'length'),
      loop: m.get(c, 'loop'),
      loopStart: m.get(c, 'loop_start'),
      loopEnd: m.get(c, 'loop_end'),
      mute: m.get(c, 'mute'),
      midi: lane.kind === KIND.instrument,
    };
    if (lane.kind === KIND.audio) {
      clip.asset = m.get(c, 'asset');
      clip.offset = m.get(c, 'offset');
      clip.gain = m.get(c, 'gain');
      clip.fadeIn = m.get(c, 'fade_in');
      clip.fadeOut = m.get(c, 'fade_out');
      clip.stretch = m.get(c, 'warp') ? m.get(c, 'source_bpm') : 0;
    }
    return clip;
  }

  // Only properties of the clips IDS were set (studio.js knows from
  // model.changes()): those are read again; a project of thousands of clips
  // is not. A clip that went to a session slot, or one not shown, means
  // reading everything.
  clipsChanged(ids) {
    const m = this.model;
    const lanes = new Set();
    for (const id of ids) {
      const old = this.clips.get(id);
      if (!old || m.get(id, 'scene')) return this.changed(false);
      const clip = this.readClip(id, old.lane);
      this.clips.set(id, clip);
      const list = old.lane.clips;
      list[list.indexOf(old)] = clip;
      lanes.add(old.lane);
    }
    for (const lane of lanes) lane.clips.sort((a, b) => a.start - b.start);
    this.showInfo();
    this.redraw();
  }

  // Only notes changed, in the clips HOMES (their parents, from
  // model.changes()): those clips' thumbnails are drawn again and nothing
  // is re-read. A home the arrangement does not know (a new clip) means
  // reading everything; a session slot's notes are not shown here.
  notesChanged(homes) {
    const m = this.model;
    for (const id of homes) {
      if (this.clips.has(id)) this.noteCache.delete(id);
      else if (m.typeOf(id) === 'clip' && !m.get(id, 'scene')) return this.changed(true);
    }
    this.redraw();
  }

  // Only tracks' names, colours or mutes changed (studio.js knows from
  // model.changes()): the lanes take them and nothing else is read again,
  // unless automation lanes are open (their rows are named after tracks).
  tracksChanged() {
    if (this.autoOpen.size) return this.changed(false);
    const m = this.model;
    for (const lane of this.lanes) {
      lane.name = m.get(lane.id, 'name');
      lane.colour = m.get(lane.id, 'colour');
      lane.mute = m.get(lane.id, 'mute');
      for (const c of lane.clips) c.colour = c.own || lane.colour;
    }
    this.showInfo();
    this.redraw();
  }

  // ---- Automation lanes (automation.js) ---------------------------------------------
  // The rows under track LANE from Y: one per lane it has (its own, its
  // devices', its sends'), then a row for a new lane whose target is picked
  // in a select. Appends them to ROWS; returns the y after them.
  layoutAuto(lane, y, rows) {
    const m = this.model;
    if (!this.kinds) this.kinds = new Map(m.devices().map((d) => [d.kind, d]));
    const targets = targetsOf(m, lane.id, this.kinds);
    const byKey = new Map(targets.map((t) => [t.key, t]));
    const have = new Set();
    for (const l of lanesOf(m, lane.id)) {
      const target = byKey.get(l.key);
      if (!target) continue;
      have.add(l.key);
      rows.push({ lane, laneId: l.id, on: l.on, target, points: pointsOf(m, l.id), y, h: AUTO_H });
      y += AUTO_H;
    }
    const free = targets.filter((t) => !have.has(t.key));
    if (free.length) {
      const picked = free.find((t) => t.key === this.autoPick.get(lane.id)) || free[0];
      rows.push({ lane, laneId: null, on: true, target: picked, free, points: [], y, h: AUTO_H });
      y += AUTO_H;
    }
    return y;
  }

  // One <select> per new-lane row, over its head (placed in draw()).
  syncPickers() {
    const want = new Map(this.autoRows.filter((r) => !r.laneId).map((r) => [r.lane.id, r]));
    for (const [id, sel] of this.pickers)
      if (!want.has(id)) {
        sel.remove();
        this.pickers.delete(id);
      }
    for (const [id, row] of want) {
      let sel = this.pickers.get(id);
      if (!sel) {
        sel = document.createElement('select');
        sel.className = 'ar-picker';
        sel.addEventListener('change', () => {
          this.autoPick.set(id, sel.value);
          this.changed();
        });
        this.canvas.parentElement.append(sel);
        this.pickers.set(id, sel);
      }
      sel.setAttribute('aria-label', `What a new automation lane of ${row.lane.name} automates`);
      const keys = row.free.map((t) => t.key).join();
      if (sel.dataset.keys !== keys) {
        sel.replaceChildren(...row.free.map((t) => new Option(t.name, t.key)));
        sel.dataset.keys = keys;
      }
      sel.value = row.target.key;
    }
  }

  // Shows or hides TRACK's automation lanes.
  toggleAuto(track) {
    if (this.autoOpen.has(track)) this.autoOpen.delete(track);
    else this.autoOpen.add(track);
    this.changed();
    this.onTools?.();
  }
  autoRowAt(y) {
    const cy = y - this.top + this.scrollY;
    return this.autoRows.find((r) => cy >= r.y && cy < r.y + r.h) || null;
  }
  rowTop(row) {
    return this.top + row.y - this.scrollY;
  }
  yOfValue(row, v) {
    const t = row.target;
    const f = t.max > t.min ? (v - t.min) / (t.max - t.min) : 0.5;
    return this.rowTop(row) + AUTO_PAD + (1 - f) * (row.h - 2 * AUTO_PAD);
  }
  valueOfY(row, y) {
    const t = row.target;
    const f = 1 - (y - this.rowTop(row) - AUTO_PAD) / (row.h - 2 * AUTO_PAD);
    const v = clamp(t.min + f * (t.max - t.min), t.min, t.max);
    return t.unit === 'choice' || t.unit === 'count' ? Math.round(v) : +v.toPrecision(6);
  }
  // The point of ROW under (X, Y), or null.
  pointAt(row, x, y) {
    let best = null;
    let bestD = POINT_PX + 1;
    for (const p of row.points) {
      const d = Math.hypot(this.xOf(p.start) - x, this.yOfValue(row, p.value) - y);
      if (d < bestD) (best = p), (bestD = d);
    }
    return best;
  }
  // The toggle of track LANE's automation, in its head (canvas coordinates).
  autoToggleRect(lane) {
    return { x: HEAD_W - 28, y: this.laneTop(lane) + 6, w: 22, h: 16 };
  }

  // Edits, each one transaction (one undo step).
  addPoint(row, start, value) {
    const id = this.run((t) => {
      const lane = row.laneId || t.create('lane', row.target.owner, { param: row.target.param });
      return t.create('point', lane, { start, value });
    });
    if (id) {
      this.autoSel = id;
      this.lastAdded = { id, at: performance.now() };
      this.changed();
    }
    return id;
  }
  movePoint(p, start, value) {
    if (start === p.start && value === p.value) return;
    this.run((t) => {
      if (start !== p.start) t.set(p.id, 'start', start);
      if (value !== p.value) t.set(p.id, 'value', value);
    });
  }
  deletePoint(id) {
    if (this.run((t) => t.remove(id)) !== null && this.autoSel === id) this.autoSel = null;
    this.changed();
  }
  setCurve(id, curve) {
    this.run((t) => t.set(id, 'curve', curve));
  }
  setTension(id, v) {
    this.run((t) => t.set(id, 'tension', v));
  }
  setLaneOn(row, on) {
    this.run((t) => t.set(row.laneId, 'on', on));
  }
  findPoint(id) {
    for (const row of this.autoRows) {
      const p = row.points.find((q) => q.id === id);
      if (p) return { row, p };
    }
    return null;
  }

  // Where point ID is on the page (client coordinates), or null (tests).
  pointRect(id) {
    const f = this.findPoint(id);
    if (!f) return null;
    const r = this.canvas.getBoundingClientRect();
    return { x: r.left + this.xOf(f.p.start), y: r.top + this.yOfValue(f.row, f.p.value) };
  }

  // A small menu at client (X, Y): ITEMS [{label, run, checked}]. Closes on a
  // choice, Escape, or a press elsewhere.
  menu(x, y, items) {
    this.closeMenu();
    const el = document.createElement('div');
    el.className = 'ar-menu';
    el.setAttribute('role', 'menu');
    for (const it of items) {
      const b = document.createElement('button');
      b.type = 'button';
      b.setAttribute('role', it.checked === undefined ? 'menuitem' : 'menuitemradio');
      if (it.checked !== undefined) b.setAttribute('aria-checked', String(!!it.checked));
      b.textContent = it.label;
      b.addEventListener('click', () => {
        this.closeMenu();
        it.run();
      });
      el.append(b);
    }
    document.body.append(el);
    const r = el.getBoundingClientRect();
    el.style.left = `${Math.min(x, window.innerWidth - r.width - 4)}px`;
    el.style.top = `${Math.min(y, window.innerHeight - r.height - 4)}px`;
    el.querySelector('button')?.focus();
    const away = (ev) => {
      if (ev.type === 'keydown' ? ev.key === 'Escape' : !el.contains(ev.target)) this.closeMenu();
    };
    this.menuEl = { el, away };
    setTimeout(() => {
      if (this.menuEl?.el !== el) return;
      document.addEventListener('pointerdown', away, true);
      document.addEventListener('keydown', away, true);
    });
  }
  closeMenu() {
    if (!this.menuEl) return;
    const { el, away } = this.menuEl;
    this.menuEl = null;
    document.removeEventListener('pointerdown', away, true);
    document.removeEventListener('keydown', away, true);
    el.remove();
    this.canvas.focus();
  }

  // What a right-click (or a long press) at canvas (X, Y) offers, at client (CX, CY).
  contextAt(x, y, cx, cy) {
    const f = y >= RULER_H && y < this.top && this.flagAt(x, y);
    if (f) {
      this.flagSel = f.obj.id;
      this.redraw();
      const items = [{ label: f.kind === 'tempo' ? 'Edit tempo…' : 'Edit time signature…', run: () => this.editFlag(f.kind, f.obj, f.x0 + 3, (f.y0 + f.y1) / 2) }];
      if (f.kind === 'tempo') items.push({ label: 'Ramp to the next change', checked: f.obj.ramp, run: () => this.toggleRamp(f.obj) });
      items.push({ label: 'Delete', run: () => this.deleteFlag(f.obj.id) });
      this.menu(cx, cy, items);
      return true;
    }
    const row = y >= this.top && x >= HEAD_W ? this.autoRowAt(y) : null;
    const p = row && this.pointAt(row, x, y);
    if (p) {
      this.autoSel = p.id;
      this.redraw();
      this.menu(cx, cy, [
        ...CURVES.map((label, i) => ({ label, checked: p.curve === i, run: () => this.setCurve(p.id, i) })),
        // Exponential and S-curves bend by their tension (-1 .. 1).
        ...(p.curve === 2 || p.curve === 3
          ? TENSIONS.map(([label, v]) => ({ label, checked: p.tension === v, run: () => this.setTension(p.id, v) }))
          : []),
        { label: 'Delete point', run: () => this.deletePoint(p.id) },
      ]);
      return true;
    }
    const h = y >= this.top && this.hit(x, y);
    if (h) {
      const c = h.clip;
      if (!this.selection.has(c.id)) this.selectOnly(c.id);
      const at = this.snapTick(this.tickAt(x));
      const items = [
        { label: 'Split here', run: () => this.split([c], at) },
        { label: 'Duplicate', run: () => this.duplicate() },
        { label: 'Delete', run: () => this.deleteSelected() },
      ];
      if (c.midi) items.push({ label: 'Edit notes', run: () => this.open?.(c.id) });
      this.menu(cx, cy, items);
      return true;
    }
    return false;
  }

  // Notes of a MIDI clip for its thumbnail: [start, length, pitch].
  notesOf(clip) {
    let n = this.noteCache.get(clip.id);
    if (n) return n;
    const m = this.model;
    n = m.children(clip.id, 'note').map((id) => [m.get(id, 'start'), m.get(id, 'length'), m.get(id, 'pitch')]);
    this.noteCache.set(clip.id, n);
    return n;
  }

  // ---- Geometry ------------------------------------------------------------------------
  // The lanes start below the ruler.
  get top() {
    return RULER_H + TEMPO_H + METER_H;
  }
  get width() {
    return this.canvas.clientWidth;
  }
  get grid() {
    return this.meter.beat;
  }
  xOf(t) {
    return HEAD_W + (t - this.scrollX) * this.pxPerTick;
  }
  tickAt(x) {
    return this.scrollX + (x - HEAD_W) / this.pxPerTick;
  }
  laneAt(y) {
    const cy = y - this.top + this.scrollY;
    return this.lanes.find((l) => cy >= l.y && cy < l.y + l.h) || null;
  }
  laneTop(lane) {
    return this.top + lane.y - this.scrollY;
  }
  // The clip under (X, Y) and whether the point is on its end (resize).
  hit(x, y) {
    const lane = this.laneAt(y);
    if (!lane || x < HEAD_W) return null;
    for (let i = lane.clips.length - 1; i >= 0; i--) {
      const c = lane.clips[i];
      const x0 = this.xOf(c.start);
      const x1 = this.xOf(c.start + c.length);
      if (x >= x0 && x <= x1) return { clip: c, edge: x1 - x <= Math.min(EDGE_PX, (x1 - x0) / 3) };
    }
    return null;
  }
  // Where clip ID is on the page (client coordinates): for tests and tooltips.
  rectOf(id) {
    const c = this.clips.get(id);
    if (!c) return null;
    const r = this.canvas.getBoundingClientRect();
    const x = this.xOf(c.start);
    return { x: r.left + x, y: r.top + this.laneTop(c.lane), w: c.length * this.pxPerTick, h: c.lane.h };
  }
  // The client x of tick T (tests).
  clientX(t) {
    return this.canvas.getBoundingClientRect().left + this.xOf(t);
  }
  // What a drop at client (CX, CY) lands on (library.js): {track, kind,
  // tick (snapped unless FREE), x, top, height (client px)}, with track null
  // and below set under the last lane; null on the ruler or the names.
  dropAt(cx, cy, free) {
    const r = this.canvas.getBoundingClientRect();
    const x = cx - r.left;
    const y = cy - r.top;
    if (x < HEAD_W || x > r.width || y < this.top || y > r.height) return null;
    const tick = Math.max(0, this.snapTick(this.tickAt(x), free));
    const lane = this.laneAt(y);
    const at = { tick, x: r.left + this.xOf(tick) };
    if (lane) return { ...at, track: lane.id, kind: lane.kind, top: this.laneTop(lane) + r.top, height: lane.h };
    const top = this.top + this.contentH - this.scrollY;
    return y >= top ? { ...at, track: null, below: true, top: r.top + top, height: LANE_H } : null;
  }
  // T snapped to the beat of the time signature there (unless FREE or snap is off).
  snapTick(t, free) {
    if (!this.snap || free) return Math.round(t);
    const b = this.time.bbt(Math.max(0, t));
    const bar = this.time.barTick(b.bar);
    const beat = (PPQ * 4) / b.den;
    return Math.max(0, bar + snapTo(t - bar, beat));
  }
  // The height the lanes want (studio.js sizes the panel with it).
  wantedHeight() {
    return this.top + Math.max(this.contentH, LANE_H) + 2;
  }

  // ---- View --------------------------------------------------------------------------------
  setPlayhead(ticks, playing) {
    if (Math.abs(ticks - this.playhead) < 0.5 && playing === this.playing) return;
    this.playhead = ticks;
    this.playing = playing;
    if (playing && this.follow && !this.drag) {
      const span = (this.width - HEAD_W) / this.pxPerTick;
      if (ticks < this.scrollX || ticks > this.scrollX + span * 0.92) this.scrollX = Math.max(0, ticks - span * 0.1);
    }
    this.redraw();
  }
  zoom(factor, atX) {
    const x = atX ?? HEAD_W + (this.width - HEAD_W) / 2;
    const t = this.tickAt(x);
    this.pxPerTick = Math.min(MAX_PX_PER_TICK, Math.max(MIN_PX_PER_TICK, this.pxPerTick * factor));
    this.scrollX = Math.max(0, t - (x - HEAD_W) / this.pxPerTick);
    this.redraw();
  }
  // Zoom so that the whole song (clips, markers, loop) fits.
  fit() {
    let end = this.meter.bar * 8;
    for (const c of this.clips.values()) end = Math.max(end, c.start + c.length);
    for (const mk of this.markers) end = Math.max(end, mk.start + this.meter.bar);
    end += this.meter.bar;
    this.pxPerTick = Math.min(MAX_PX_PER_TICK, Math.max(MIN_PX_PER_TICK, (this.width - HEAD_W - 8) / end));
    this.scrollX = 0;
    this.redraw();
  }
  scrollBy(dxPx, dyPx) {
    this.scrollX = Math.max(0, this.scrollX + dxPx / this.pxPerTick);
    const maxY = Math.max(0, this.contentH - (this.canvas.clientHeight - this.top));
    this.scrollY = Math.max(0, Math.min(maxY, this.scrollY + dyPx));
    this.redraw();
  }

  redraw() {
    if (this.dirty && this.frameQueued) return;
    this.dirty = true;
    if (this.frameQueued) return;
    this.frameQueued = true;
    requestAnimationFrame(() => {
      this.frameQueued = false;
      if (this.dirty) this.draw();
    });
  }

  showInfo() {
    if (!this.info) return;
    const sel = [...this.selection].map((id) => this.clips.get(id)).filter(Boolean);
    const m = this.meter;
    if (!sel.length) this.info.textContent = this.clips.size ? 'No clip selected' : 'No clips';
    else if (sel.length === 1) {
      const c = sel[0];
      this.info.textContent = `${c.name || 'Clip'} · ${c.lane.name} · at ${this.time.format(c.start)} · ${fmtLength(c.length, m)}`;
    } else this.info.textContent = `${sel.length} clips selected`;
  }

  // ---- Drawing -----------------------------------------------------------------------------
  draw() {
    this.viewMoved();
    this.dirty = false;
    const { g, w: W, h: H } = fitCanvas(this.canvas);
    const m = this.meter;
    g.fillStyle = '#12151b';
    g.fillRect(0, 0, W, H);
    const t0 = this.scrollX;
    const t1 = this.tickAt(W);

    // Lanes
    g.save();
    g.beginPath();
    g.rect(HEAD_W, this.top, W - HEAD_W, H - this.top);
    g.clip();
    for (const lane of this.lanes) {
      const y = this.laneTop(lane);
      if (y > H || y + lane.h < this.top) continue;
      g.fillStyle = lane.kind === KIND.group ? '#171b23' : lane.index % 2 ? '#151920' : '#181c24';
      if (this.selectedTrack === lane.id) g.fillStyle = '#1c2330';
      g.fillRect(HEAD_W, y, W - HEAD_W, lane.h);
    }
    for (const row of this.autoRows) {
      const y = this.rowTop(row);
      if (y > H || y + row.h < this.top) continue;
      g.fillStyle = '#10131a';
      g.fillRect(HEAD_W, y, W - HEAD_W, row.h);
    }
    // Grid: bars always, beats and 16ths when there is room.
    // Bars and beats from the meter map (mdl_time): a signature change moves every bar after it.
    const bars = this.time.bars(t0, t1);
    const barPx = (bars.length ? bars[0].num * bars[0].beat : m.bar) * this.pxPerTick;
    const every = Math.max(1, 2 ** Math.ceil(Math.log2(40 / Math.max(barPx, 1))));
    for (const b of bars) {
      if (b.bar % every) continue;
      g.fillStyle = '#2a303c';
      g.fillRect(Math.round(this.xOf(b.tick)) + 0.5, this.top, 1, H - this.top);
      if (b.beat * this.pxPerTick < 14) continue;
      g.fillStyle = '#1f242d';
      for (let i = 1; i < b.num; i++) g.fillRect(Math.round(this.xOf(b.tick + i * b.beat)) + 0.5, this.top, 1, H - this.top);
    }
    // The loop region, shaded when on.
    if (this.loop.on && this.loop.end > this.loop.start) {
      g.fillStyle = 'rgba(77,163,255,0.07)';
      const x0 = this.xOf(this.loop.start);
      g.fillRect(x0, this.top, this.xOf(this.loop.end) - x0, H - this.top);
    }
    // Marker lines.
    g.fillStyle = 'rgba(242,201,76,0.35)';
    for (const mk of this.markers) g.fillRect(Math.round(this.xOf(mk.start)), this.top, 1, H - this.top);
    // Clips (the ones being dragged are drawn at their new place, last).
    const preview = this.preview();
    for (const lane of this.lanes) {
      const y = this.laneTop(lane);
      if (y > H || y + lane.h < this.top) continue;
      for (const c of lane.clips) {
        if (c.start > t1 || c.start + c.length < t0) continue;
        if (preview && preview.has(c.id)) {
          this.drawClip(g, c, c.start, c.length, y, lane.h, 'ghost');
          continue;
        }
        this.drawClip(g, c, c.start, c.length, y, lane.h, this.selection.has(c.id) ? 'selected' : '');
      }
    }
    if (preview)
      for (const [id, p] of preview) {
        const c = this.clips.get(id);
        const lane = p.lane || c.lane;
        this.drawClip(g, c, p.start, p.length, this.laneTop(lane), lane.h, 'selected');
      }
    for (const row of this.autoRows) {
      const y = this.rowTop(row);
      if (y <= H && y + row.h >= this.top) this.drawAuto(g, row, W);
    }
    if (this.drag && this.drag.kind === 'split') {
      const x = Math.round(this.xOf(this.drag.at)) + 0.5;
      g.fillStyle = '#fff';
      g.fillRect(x, this.top, 1, H);
    }
    g.restore();

    // Ruler
    g.fillStyle = '#1a1e26';
    g.fillRect(0, 0, W, RULER_H);
    g.fillStyle = '#2a2f3a';
    g.fillRect(0, RULER_H - 1, W, 1);
    g.save();
    g.beginPath();
    g.rect(HEAD_W, 0, W - HEAD_W, RULER_H);
    g.clip();
    const labelEvery = Math.max(1, 2 ** Math.ceil(Math.log2(36 / Math.max(barPx, 1))));
    g.font = '11px ui-monospace, "DejaVu Sans Mono", monospace';
    g.textBaseline = 'middle';
    this.rulerLabels = [];
    for (const b of bars) {
      const x = Math.round(this.xOf(b.tick)) + 0.5;
      const labelled = b.bar % labelEvery === 0;
      g.fillStyle = labelled ? '#566074' : '#353c4a';
      g.fillRect(x, labelled ? 12 : 20, 1, RULER_H - (labelled ? 12 : 20));
      if (labelled) {
        g.fillStyle = '#aab3c5';
        g.fillText(String(b.bar + 1), x + 4, 11);
        this.rulerLabels.push({ bar: b.bar + 1, tick: b.tick });
      }
    }
    // Loop bar: along the ruler's bottom.
    const lp = this.drag && this.drag.kind === 'loop' ? this.drag : this.loop;
    if (lp.end > lp.start) {
      const x0 = this.xOf(lp.start);
      const x1 = this.xOf(lp.end);
      g.fillStyle = this.loop.on || lp === this.drag ? '#4da3ff' : '#3a4150';
      g.fillRect(x0, RULER_H - 6, x1 - x0, 5);
    }
    // Where the others look: a small triangle in their colour at their view's start.
    for (const o of this.others) {
      const x = Math.round(this.xOf(o.view));
      if (x < HEAD_W || x > this.canvas.clientWidth) continue;
      g.fillStyle = hex(o.colour);
      g.beginPath();
      g.moveTo(x, 0);
      g.lineTo(x + 7, 0);
      g.lineTo(x, 8);
      g.fill();
    }
    // Markers: a flag with the name.
    g.font = '600 11px system-ui, sans-serif';
    for (const mk of this.markers) {
      const x = Math.round(this.xOf(mk.start));
      const tw = g.measureText(mk.name).width + 10;
      g.fillStyle = '#f2c94c';
      g.fillRect(x, 17, 1, RULER_H - 17);
      roundRect(g, x, 15, tw, 12, 2);
      g.fill();
      g.fillStyle = '#1a1400';
      g.fillText(mk.name, x + 5, 21.5);
    }
    g.restore();
    this.drawTempoLane(g, W, t0, t1);

    // Track names column
    g.fillStyle = '#171a21';
    g.fillRect(0, 0, HEAD_W, H);
    g.save();
    g.beginPath();
    g.rect(0, this.top, HEAD_W, H - this.top);
    g.clip();
    for (const lane of this.lanes) {
      const y = this.laneTop(lane);
      if (y > H || y + lane.h < this.top) continue;
      const ind = lane.depth * 12;
      g.fillStyle = this.selectedTrack === lane.id ? '#222a38' : '#1b1f28';
      g.fillRect(0, y, HEAD_W, lane.h - 1);
      g.fillStyle = hex(lane.colour);
      g.fillRect(ind, y, 4, lane.h - 1);
      g.globalAlpha = lane.mute ? 0.45 : 1;
      g.fillStyle = '#e6e9ef';
      g.font = '600 13px system-ui, sans-serif';
      g.textBaseline = 'alphabetic';
      g.fillText(clipText(g, lane.name, HEAD_W - ind - 20), ind + 12, y + (lane.kind === KIND.group ? 21 : 23));
      if (lane.kind !== KIND.group) {
        g.fillStyle = '#8b93a3';
        g.font = '11px system-ui, sans-serif';
        g.fillText(KIND_NAME[lane.kind] + (lane.mute ? ' · muted' : ''), ind + 12, y + 40);
      }
      g.globalAlpha = 1;
      g.fillStyle = '#2a2f3a';
      g.fillRect(0, y + lane.h - 1, W, 1);
      // The automation toggle.
      const tr = this.autoToggleRect(lane);
      const open = this.autoOpen.has(lane.id);
      roundRect(g, tr.x + 0.5, tr.y + 0.5, tr.w, tr.h, 3);
      g.fillStyle = open ? '#263b57' : '#222732';
      g.fill();
      g.strokeStyle = open ? '#4da3ff' : '#353c4a';
      g.lineWidth = 1;
      g.stroke();
      g.strokeStyle = open ? '#cfe3ff' : '#8b93a3';
      g.beginPath();
      g.moveTo(tr.x + 4, tr.y + 12);
      g.lineTo(tr.x + 9, tr.y + 5);
      g.lineTo(tr.x + 13, tr.y + 10);
      g.lineTo(tr.x + 18, tr.y + 4);
      g.stroke();
    }
    for (const row of this.autoRows) {
      const y = this.rowTop(row);
      if (y > H || y + row.h < this.top) continue;
      const ind = row.lane.depth * 12 + 14;
      g.fillStyle = '#14171e';
      g.fillRect(0, y, HEAD_W, row.h - 1);
      g.fillStyle = hex(row.lane.colour);
      g.fillRect(ind - 10, y + 4, 2, row.h - 9);
      g.fillStyle = '#2a2f3a';
      g.fillRect(0, y + row.h - 1, W, 1);
      g.textBaseline = 'alphabetic';
      if (row.laneId) {
        g.globalAlpha = row.on ? 1 : 0.5;
        g.fillStyle = '#cfd5e1';
        g.font = '12px system-ui, sans-serif';
        g.fillText(clipText(g, row.target.name, HEAD_W - ind - 8), ind, y + 19);
        g.fillStyle = '#8b93a3';
        g.font = '10px system-ui, sans-serif';
        g.fillText(row.on ? 'on · click to turn off' : 'off · click to turn on', ind, y + 36);
        g.globalAlpha = 1;
      } else {
        g.fillStyle = '#8b93a3';
        g.font = '10px system-ui, sans-serif';
        g.fillText('new lane: click to add a point', ind, y + 44);
      }
    }
    g.restore();
    this.placePickers(H);
    g.fillStyle = '#2a2f3a';
    g.fillRect(HEAD_W - 1, 0, 1, H);
    g.fillStyle = '#8b93a3';
    g.font = '11px system-ui, sans-serif';
    g.textBaseline = 'middle';
    g.fillText(`${m.num}/${m.den} · ${Math.round(m.tempo * 100) / 100} BPM`, 10, RULER_H / 2);
    // The tempo and signature lanes' heads (double-click: the song's own).
    g.fillStyle = '#161a21';
    g.fillRect(0, RULER_H, HEAD_W - 1, TEMPO_H - 1);
    g.fillStyle = '#13161c';
    g.fillRect(0, RULER_H + TEMPO_H, HEAD_W - 1, METER_H - 1);
    g.fillStyle = '#8b93a3';
    g.fillText('Tempo', 10, RULER_H + TEMPO_H / 2);
    g.fillText('Signature', 10, RULER_H + TEMPO_H + METER_H / 2);

    // Playhead
    const px = Math.round(this.xOf(this.playhead)) + 0.5;
    if (px >= HEAD_W && px <= W) {
      g.fillStyle = '#ff5a5f';
      g.fillRect(px - 0.5, 0, 1.5, H);
      g.beginPath();
      g.moveTo(px - 6, 0);
      g.lineTo(px + 6, 0);
      g.lineTo(px, 8);
      g.fill();
    }
    if (!this.lanes.length) {
      g.fillStyle = '#8b93a3';
      g.font = '13px system-ui, sans-serif';
      g.fillText('No tracks yet: add one below.', HEAD_W + 16, this.top + 24);
    }
  }

  // ---- Tempo and time-signature lanes ------------------------------------------------
  // The tempo lane (the tempo over time as mdl_time has it, ramps sloping, a
  // flag per change) and the signature lane (a flag per change, at its bar).
  drawTempoLane(g, W, t0, t1) {
    const y = RULER_H;
    const my = RULER_H + TEMPO_H;
    g.fillStyle = '#161a21';
    g.fillRect(0, y, W, TEMPO_H);
    g.fillStyle = '#13161c';
    g.fillRect(0, my, W, METER_H);
    g.fillStyle = '#2a2f3a';
    g.fillRect(0, my - 1, W, 1);
    g.fillRect(0, this.top - 1, W, 1);
    g.save();
    g.beginPath();
    g.rect(HEAD_W, y, W - HEAD_W, TEMPO_H + METER_H);
    g.clip();
    // The tempo curve, scaled to the song's tempo range.
    const all = [this.baseTempo, ...this.tempos.map((tc) => tc.bpm)];
    let lo = Math.min(...all) - 5;
    let hi = Math.max(...all) + 5;
    if (hi - lo < 20) (lo -= (20 - (hi - lo)) / 2), (hi = lo + 20);
    const yOf = (bpm) => y + 4 + (1 - (bpm - lo) / (hi - lo)) * (TEMPO_H - 8);
    g.beginPath();
    for (let x = HEAD_W; x <= W + 3; x += 3) {
      const by = yOf(this.time.bpm(Math.max(0, this.tickAt(x))));
      if (x === HEAD_W) g.moveTo(x, by);
      else g.lineTo(x, by);
    }
    g.strokeStyle = '#3ecf7a';
    g.lineWidth = 1.5;
    g.stroke();
    // Flags: tempo changes and signature changes (a dragged one at its new place).
    this.flagRects = [];
    const d = this.drag && this.drag.kind === 'flag' && this.drag.moved ? this.drag : null;
    const flag = (obj, kind, tick, text, fy, fh) => {
      const x = Math.round(this.xOf(tick));
      const tw = g.measureText(text).width + 8;
      this.flagRects.push({ kind, obj, x0: x - 3, x1: x + tw, y0: fy, y1: fy + fh });
      if (x + tw < HEAD_W || x > W) return;
      const sel = this.flagSel === obj.id;
      g.fillStyle = sel ? '#ffffff' : kind === 'tempo' ? '#3ecf7a' : '#c792ea';
      g.fillRect(x, fy, 1.5, fh);
      roundRect(g, x, fy + 2, tw, fh - 4, 3);
      g.fill();
      g.fillStyle = '#0b0d12';
      g.fillText(text, x + 4, fy + fh / 2);
    };
    g.font = '600 10px system-ui, sans-serif';
    for (const tc of this.tempos) {
      const tick = d && d.obj === tc ? d.start : tc.start;
      flag(tc, 'tempo', tick, `${+tc.bpm.toFixed(2)}${tc.ramp ? ' ↗' : ''}`, y + 3, TEMPO_H - 6);
    }
    for (const mc of this.meters) {
      const tick = this.time.barTick(d && d.obj === mc ? d.bar : mc.bar);
      flag(mc, 'meter', tick, `${mc.num}/${mc.den}`, my + 1, METER_H - 2);
    }
    g.restore();
  }

  // The flag under (X, Y) in the tempo or signature lane: {kind, obj}, or null.
  flagAt(x, y) {
    for (const f of [...(this.flagRects || [])].reverse())
      if (x >= f.x0 && x <= f.x1 && y >= f.y0 && y <= f.y1) return f;
    return null;
  }
  // The bar (0-based) whose start is nearest tick T.
  nearestBar(t) {
    const b = this.time.bbt(Math.max(0, t));
    const a = this.time.barTick(b.bar);
    const n = this.time.barTick(b.bar + 1);
    return t - a > n - t ? b.bar + 1 : b.bar;
  }
  // Where flag ID (a tempo or meter change) is on the page (tests).
  flagRect(id) {
    const f = (this.flagRects || []).find((r) => r.obj.id === id);
    if (!f) return null;
    const r = this.canvas.getBoundingClientRect();
    return { x: r.left + f.x0 + 3, y: r.top + (f.y0 + f.y1) / 2, w: f.x1 - f.x0 - 3 };
  }

  // A press in the tempo or signature lane: on a flag, select and drag it;
  // elsewhere, add a change there (the tempo or signature already playing there).
  tempoPress(ev, x, y) {
    const f = this.flagAt(x, y);
    if (f) {
      this.flagSel = f.obj.id;
      this.drag = { kind: 'flag', obj: f.obj, flag: f.kind, x0: x, y0: y, start: f.obj.start, bar: f.obj.bar, moved: false };
      this.canvas.setPointerCapture(ev.pointerId);
      this.redraw();
      return;
    }
    let id = null;
    if (y < RULER_H + TEMPO_H) {
      const start = Math.max(1, this.snapTick(this.tickAt(x), ev.altKey));
      const bpm = Math.round(this.time.bpm(start) * 100) / 100;
      id = this.run((t) => t.create('tempo', 'project', { start, tempo: bpm }));
    } else {
      const bar = this.nearestBar(this.tickAt(x));
      if (bar < 1) return this.onMessage?.('The first bar takes the song’s own time signature (TS in the header); a change goes at bar 2 or later');
      const have = this.meters.find((mc) => mc.bar === bar);
      if (have) id = have.id;
      else {
        const b = this.time.bbt(this.time.barTick(bar));
        id = this.run((t) => t.create('meter', 'project', { bar, ts_num: b.num, ts_den: b.den }));
      }
    }
    if (id) {
      this.flagSel = id;
      this.lastAdded = { id, at: performance.now() };
      this.changed();
    }
  }

  // Types a new value for a tempo change, a signature change, or (OBJ null)
  // the song's own tempo or signature, in a box at canvas (X, Y).
  editFlag(kind, obj, x, y) {
    const m = this.model;
    const text =
      kind === 'tempo'
        ? String(+(obj ? obj.bpm : this.baseTempo).toFixed(2))
        : obj
          ? `${obj.num}/${obj.den}`
          : `${m.get('project', 'ts_num')}/${m.get('project', 'ts_den')}`;
    this.input(x, y, text, kind === 'tempo' ? 'Tempo (BPM)' : 'Time signature', (v) => {
      if (kind === 'tempo') {
        const bpm = Number(v);
        if (v === '' || !Number.isFinite(bpm)) return this.onMessage?.(`“${v}” is not a tempo: type a number of beats a minute (20 to 999)`);
        this.run((t) => t.set(obj ? obj.id : 'project', 'tempo', bpm));
      } else {
        const ts = /^\s*(\d+)\s*\/\s*(\d+)\s*$/.exec(v);
        if (!ts) return this.onMessage?.(`“${v}” is not a time signature: type it as 3/4, 6/8, 7/8…`);
        this.run((t) => {
          t.set(obj ? obj.id : 'project', 'ts_num', Number(ts[1]));
          t.set(obj ? obj.id : 'project', 'ts_den', Number(ts[2]));
        });
      }
    });
  }

  // A text box at canvas (X, Y) holding TEXT; Enter (or leaving it) gives
  // its text to COMMIT, Escape drops it.
  input(x, y, text, label, commit) {
    this.inputEl?.remove();
    const el = document.createElement('input');
    el.className = 'ar-edit';
    el.value = text;
    el.setAttribute('aria-label', label);
    el.style.left = `${Math.max(HEAD_W, Math.min(x, this.width - 80))}px`;
    el.style.top = `${y - 11}px`;
    this.canvas.parentElement.append(el);
    this.inputEl = el;
    let over = false;
    const done = (ok) => {
      if (over) return;
      over = true;
      el.remove();
      if (this.inputEl === el) this.inputEl = null;
      this.canvas.focus();
      if (ok && el.value.trim() !== text) commit(el.value.trim());
    };
    el.addEventListener('keydown', (ev) => {
      ev.stopPropagation();
      if (ev.key === 'Enter') done(true);
      else if (ev.key === 'Escape') done(false);
    });
    el.addEventListener('blur', () => done(true));
    el.focus();
    el.select();
  }

  deleteFlag(id) {
    this.run((t) => t.remove(id));
    if (this.flagSel === id) this.flagSel = null;
    this.changed();
  }
  toggleRamp(tc) {
    this.run((t) => t.set(tc.id, 'ramp', !tc.ramp));
  }

  // Automation row ROW: its curve as the engine plays it, and its points.
  drawAuto(g, row, W) {
    const top = this.rowTop(row);
    const d = this.drag && this.drag.kind === 'point' && this.drag.moved && this.drag.row === row ? this.drag : null;
    const pts = d
      ? row.points.map((p) => (p.id === d.p.id ? { ...p, start: d.start, value: d.value } : p)).sort((a, b) => a.start - b.start)
      : row.points;
    const colour = row.lane.colour;
    // The range's middle, faint.
    g.fillStyle = '#1b2029';
    g.fillRect(HEAD_W, Math.round(top + row.h / 2), W - HEAD_W, 1);
    if (!pts.length) return;
    g.globalAlpha = row.on ? 1 : 0.4;
    const sec = (t) => this.time.seconds(t);
    const path = new Path2D();
    const x0 = Math.max(HEAD_W, this.xOf(0));
    let first = true;
    for (let x = x0; x <= W + 2; x += 2) {
      const tick = Math.max(0, this.tickAt(x));
      // Land exactly on each point (hold steps and corners stay sharp).
      const y = this.yOfValue(row, valueAt(pts, tick, sec));
      if (first) path.moveTo(x, y), (first = false);
      else path.lineTo(x, y);
      const next = pts.find((p) => p.start > tick && this.xOf(p.start) < x + 2);
      if (next) {
        const i = pts.indexOf(next);
        const prev = pts[i - 1];
        const xp = this.xOf(next.start);
        if (prev && prev.curve === 1) path.lineTo(xp, this.yOfValue(row, prev.value));
        path.lineTo(xp, this.yOfValue(row, next.value));
      }
    }
    const fill = new Path2D(path);
    fill.lineTo(W + 2, top + row.h);
    fill.lineTo(x0, top + row.h);
    fill.closePath();
    g.fillStyle = shade(colour, -0.6);
    g.globalAlpha = row.on ? 0.5 : 0.2;
    g.fill(fill);
    g.globalAlpha = row.on ? 1 : 0.4;
    g.strokeStyle = shade(colour, 0.5);
    g.lineWidth = 1.5;
    g.stroke(path);
    for (const p of pts) {
      const x = this.xOf(p.start);
      if (x < HEAD_W - POINT_PX || x > W + POINT_PX) continue;
      const y = this.yOfValue(row, p.value);
      g.beginPath();
      g.arc(x, y, 4, 0, Math.PI * 2);
      g.fillStyle = p.id === this.autoSel ? '#ffffff' : shade(colour, 0.3);
      g.fill();
      g.strokeStyle = '#0b0d12';
      g.lineWidth = 1;
      g.stroke();
    }
    if (d) {
      g.fillStyle = '#fff';
      g.font = '11px system-ui, sans-serif';
      g.textBaseline = 'bottom';
      const x = this.xOf(d.start);
      g.fillText(`${this.time.format(d.start)} · ${fmtValue(d.value, row.target)}`, x + 8, Math.max(top + 14, this.yOfValue(row, d.value) - 4));
    }
    g.globalAlpha = 1;
  }

  // Puts each new-lane row's select over its head (hidden when scrolled away).
  placePickers(H) {
    for (const row of this.autoRows) {
      const sel = this.pickers.get(row.lane.id);
      if (!sel || row.laneId) continue;
      const y = this.rowTop(row);
      const shown = y >= this.top && y + 28 <= H;
      sel.hidden = !shown;
      if (!shown) continue;
      const ind = row.lane.depth * 12 + 12;
      sel.style.left = `${ind}px`;
      sel.style.top = `${y + 6}px`;
      sel.style.width = `${HEAD_W - ind - 8}px`;
    }
  }

  drawClip(g, c, start, length, y, h, state) {
    const x0 = this.xOf(start);
    const w = Math.max(2, length * this.pxPerTick);
    const top = y + 2;
    const ch = h - 5;
    g.globalAlpha = state === 'ghost' ? 0.3 : c.mute ? 0.5 : 1;
    roundRect(g, x0 + 0.5, top + 0.5, w - 1, ch, 4);
    g.fillStyle = shade(c.colour, -0.55);
    g.fill();
    g.lineWidth = state === 'selected' ? 2 : 1;
    g.strokeStyle = state === 'selected' ? '#ffffff' : shade(c.colour, -0.1);
    g.stroke();
    if (h >= 40) {
      // Name strip
      g.save();
      roundRect(g, x0 + 0.5, top + 0.5, w - 1, ch, 4);
      g.clip();
      g.fillStyle = shade(c.colour, -0.15);
      g.fillRect(x0, top, w, 14);
      g.fillStyle = '#fff';
      g.font = '600 11px system-ui, sans-serif';
      g.textBaseline = 'middle';
      if (w > 18) g.fillText(clipText(g, c.name || (c.midi ? 'MIDI clip' : 'Clip'), w - 8), x0 + 5, top + 7.5);
      if (c.midi && w > 6) this.drawNotes(g, c, x0, top + 16, w, ch - 18, length);
      if (c.asset && w > 2) this.drawWave(g, c, start, length, x0, top + 15, w, ch - 16);
      if (c.loop && c.loopEnd > c.loopStart) {
        // Loop seams
        g.fillStyle = 'rgba(255,255,255,0.25)';
        const len = c.loopEnd - c.loopStart;
        for (let t = c.loopEnd; t < length; t += len) {
          const x = this.xOf(start + t);
          if (x > x0 + 2) g.fillRect(Math.round(x), top + 14, 1, ch - 14);
        }
      }
      g.restore();
    }
    g.globalAlpha = 1;
  }

  // Notes of a MIDI clip, scaled into its body; a loop repeats them.
  drawNotes(g, c, x0, y0, w, h, length) {
    const notes = this.notesOf(c);
    if (!notes.length || h < 6) return;
    let lo = 127;
    let hi = 0;
    for (const n of notes) {
      lo = Math.min(lo, n[2]);
      hi = Math.max(hi, n[2]);
    }
    const span = Math.max(hi - lo + 1, 8);
    const mid = (lo + hi) / 2;
    const rowH = Math.max(1, Math.min(3, h / span));
    const yOf = (p) => y0 + h / 2 - (p - mid) * (h / span) - rowH / 2;
    g.fillStyle = shade(c.colour, 0.45);
    const left = Math.max(x0, HEAD_W);
    const right = Math.min(x0 + w, this.width);
    const draw = (offset, from, to) => {
      for (const [s, l, p] of notes) {
        if (s < from || s >= to) continue;
        const t = s + offset;
        if (t >= length) continue;
        const nx = x0 + t * this.pxPerTick;
        const nw = Math.max(1, Math.min(l, length - t) * this.pxPerTick - 1);
        if (nx > right || nx + nw < left) continue;
        g.fillRect(nx, yOf(p), nw, rowH);
      }
    };
    if (c.loop && c.loopEnd > c.loopStart) {
      draw(0, 0, c.loopEnd);
      const len = c.loopEnd - c.loopStart;
      for (let off = c.loopEnd - c.loopStart; c.loopStart + off < length; off += len) {
        if (x0 + (c.loopStart + off) * this.pxPerTick > right) break;
        draw(off, c.loopStart, c.loopEnd);
      }
    } else draw(0, 0, Infinity);
  }

  // ---- Waveforms (peaks.js) ----------------------------------------------------------
  // Where audio clip C plays its asset (as the server's plan and the engine's
  // clip player do: server/srv_plan.c audio_clip, engine/eng_clips.c): clip
  // frame f reads source frame offset + f * rate, through the loop when it
  // loops; equal-power fades; gain. Frames come from ticks through the tempo
  // map. Returns null while the asset's rate is unknown.
  wavePlan(c, start, length) {
    const info = this.peaks.info(c.asset);
    if (!info) return null;
    const sr = info.rate;
    const f0 = this.time.seconds(start) * sr;
    const frameAt = (rel) => this.time.seconds(start + rel) * sr - f0; // clip frame at REL ticks into it
    const lengthF = Math.max(1, frameAt(length));
    const rate = c.stretch > 0 ? this.time.bpm(start) / c.stretch : 1;
    let offset = c.offset;
    let loop = 0;
    if (c.loop && c.loopEnd > c.loopStart) {
      const skip = frameAt(c.loopStart);
      const len = frameAt(c.loopEnd) - skip;
      if (offset + skip + len <= info.frames && len >= 1) (offset += skip), (loop = len);
    }
    let fin = frameAt(c.fadeIn);
    let fout = lengthF - frameAt(length - c.fadeOut);
    if (fin + fout > lengthF) fin = fout = 0;
    // Frames a pixel spans, at the clip's start: it picks the peak level.
    const framesPerPx = (sr * 60 * rate) / (this.time.bpm(start) * PPQ * this.pxPerTick);
    return { sr, frames: info.frames, frameAt, lengthF, rate, offset, loop, fin, fout, level: levelFor(framesPerPx) };
  }

  // The waveform of audio clip C in its body (X0, Y0, W, H), or a placeholder
  // until its peaks have come (they are asked for here, once).
  drawWave(g, c, start, length, x0, y0, w, h) {
    if (h < 8) return;
    const plan = this.wavePlan(c, start, length);
    const peaks = plan && this.peaks.get(c.asset, plan.level);
    if (!peaks) {
      const failed = this.peaks.failed(c.asset, plan ? plan.level : 0);
      g.fillStyle = shade(c.colour, -0.4);
      g.fillRect(x0 + 2, y0 + h / 2 - 0.5, w - 4, 1);
      g.fillStyle = shade(c.colour, 0.2);
      g.font = '10px system-ui, sans-serif';
      g.textBaseline = 'middle';
      if (w > 80) g.fillText(failed ? 'no audio data' : 'loading waveform…', Math.max(x0, HEAD_W) + 6, y0 + h / 2 + 9);
      return;
    }
    // The start matters only through the tempo map (a clip's frames are seconds from its start).
    const key = [c.asset, plan.level, this.tempos.length ? start : 0, length, c.offset, c.loop, c.loopStart, c.loopEnd, c.gain, c.fadeIn, c.fadeOut, c.stretch, this.pxPerTick, h, c.colour, this.tempoKey].join();
    const colour = shade(c.colour, 0.35);
    if (w <= WAVE_CACHE_PX) {
      let cached = this.waveCache.get(c.id);
      if (!cached || cached.key !== key) {
        const dpr = window.devicePixelRatio || 1;
        const cv = document.createElement('canvas');
        cv.width = Math.max(1, Math.ceil(w));
        cv.height = Math.max(1, Math.round(h * dpr));
        const cg = cv.getContext('2d');
        cg.scale(1, dpr);
        cg.fillStyle = colour;
        this.waveColumns(cg, plan, peaks, c, 0, Math.ceil(w), 0, h);
        cached = { key, asset: c.asset, canvas: cv };
        this.waveCache.set(c.id, cached);
      }
      g.drawImage(cached.canvas, x0, y0, cached.canvas.width, h);
      return;
    }
    // Too wide to keep: draw the columns on screen only.
    const from = Math.max(0, Math.floor(HEAD_W - x0));
    const to = Math.min(Math.ceil(w), Math.ceil(this.width - x0));
    g.save();
    g.translate(x0, 0);
    g.fillStyle = colour;
    this.waveColumns(g, plan, peaks, c, from, to, y0, h);
    g.restore();
  }

  // Draws columns [FROM, TO) (pixels from the clip's start) of the waveform
  // as one bar each, between Y0 and Y0 + H.
  waveColumns(g, plan, peaks, c, from, to, y0, h) {
    const { frameAt, rate, offset, loop, fin, fout, lengthF } = plan;
    const fpp = peaks.framesPerPeak;
    const mid = y0 + h / 2;
    const half = h / 2 - 1;
    const src = (f) => offset + (loop ? (f * rate) % loop : f * rate);
    let fa = frameAt(from / this.pxPerTick);
    for (let x = from; x < to; x++) {
      const fb = frameAt((x + 1) / this.pxPerTick);
      if (fa >= lengthF) break;
      const a = src(fa);
      let b = src(Math.min(fb, lengthF));
      let lo = Infinity;
      let hi = -Infinity;
      const span = (s0, s1) => {
        const i1 = Math.min(peaks.n - 1, Math.floor(Math.max(s0, s1 - 1) / fpp));
        for (let i = Math.floor(s0 / fpp); i <= i1; i++) {
          if (peaks.min[i] < lo) lo = peaks.min[i];
          if (peaks.max[i] > hi) hi = peaks.max[i];
        }
      };
      if (a < plan.frames) {
        if (loop && b < a) {
          span(a, offset + loop);
          span(offset, b);
        } else span(a, Math.min(b, plan.frames));
      }
      if (hi >= lo) {
        const t = (fa + fb) / 2;
        let gain = c.gain;
        if (t < fin) gain *= Math.sin((Math.PI / 2) * (t / fin));
        if (lengthF - t < fout) gain *= Math.sin((Math.PI / 2) * (Math.max(0, lengthF - t) / fout));
        const top = Math.max(-1, Math.min(1, hi * gain));
        const bot = Math.max(-1, Math.min(1, lo * gain));
        g.fillRect(x, mid - top * half, 1, Math.max(1, (top - bot) * half));
      }
      fa = fb;
    }
  }

  // What audio clip ID's waveform shows now: 'loading', 'ready' or 'error' (tests).
  waveState(id) {
    const c = this.clips.get(id);
    if (!c || !c.asset) return 'none';
    const plan = this.wavePlan(c, c.start, c.length);
    if (plan && this.peaks.get(c.asset, plan.level)) return 'ready';
    return this.peaks.failed(c.asset, plan ? plan.level : 0) ? 'error' : 'loading';
  }

  // The dragged clips' new places: Map id -> {start, length, lane}, or null.
  preview() {
    const d = this.drag;
    if (!d || !d.moved || (d.kind !== 'move' && d.kind !== 'resize')) return null;
    const out = new Map();
    for (const id of d.ids) {
      const c = this.clips.get(id);
      if (!c) continue;
      if (d.kind === 'move') {
        const lane = this.lanes[Math.max(0, Math.min(this.lanes.length - 1, c.lane.index + d.dLane))];
        out.set(id, { start: Math.max(0, c.start + d.dt), length: c.length, lane });
      } else out.set(id, { start: c.start, length: Math.max(d.minLength, c.length + d.dt), lane: c.lane });
    }
    return out;
  }

  // ---- Edits (each one transaction) -------------------------------------------------------
  run(fn) {
    return transact(this.model, this.edit, fn);
  }
  selected() {
    return [...this.selection].map((id) => this.clips.get(id)).filter(Boolean);
  }

  moveClips(ids, dt, dLane) {
    const list = ids.map((id) => this.clips.get(id)).filter(Boolean);
    if (!list.length || (!dt && !dLane)) return;
    this.run((t) => {
      for (const c of list) {
        const lane = this.lanes[Math.max(0, Math.min(this.lanes.length - 1, c.lane.index + dLane))];
        if (lane.id !== c.track) t.move(c.id, lane.id, null);
        if (dt) t.set(c.id, 'start', Math.max(0, c.start + dt));
      }
    });
  }

  resizeClips(ids, dt, minLength) {
    const list = ids.map((id) => this.clips.get(id)).filter(Boolean);
    if (!list.length || !dt) return;
    this.run((t) => {
      for (const c of list) t.set(c.id, 'length', Math.max(minLength, c.length + dt));
    });
  }

  // Splits each of CLIPS that AT (ticks) falls inside; one transaction.
  split(clips, at) {
    const list = clips.filter((c) => at > c.start && at < c.start + c.length);
    if (!list.length) return false;
    const made = this.run((t) => list.map((c) => this.stageSplit(t, c, Math.round(at - c.start))));
    if (made) {
      this.selection = new Set(made);
      this.changed();
    }
    return !!made;
  }

  // Stages the split of C at REL ticks into it; returns the new clip's id.
  // The notes after the cut go to the new clip (as copies); a note across
  // the cut ends there. A looping clip's new half plays on from the
  // same point of the loop (its loop content is rotated to start there).
  stageSplit(t, c, rel) {
    const m = this.model;
    const props = { start: c.start + rel, length: c.length - rel };
    if (c.name) props.name = c.name;
    const colour = m.get(c.id, 'colour');
    if (colour) props.colour = colour;
    for (const p of ['mute', 'gain', 'groove', 'asset', 'warp', 'source_bpm']) {
      const v = m.get(c.id, p);
      if (v !== null && v !== '' && v !== false && !(p === 'gain' && v === 1) && v !== 0) props[p] = v;
    }
    const looping = c.loop && c.loopEnd > c.loopStart && rel >= c.loopStart;
    if (looping) {
      const len = c.loopEnd - c.loopStart;
      const phase = rel < c.loopEnd ? rel - c.loopStart : (rel - c.loopEnd) % len;
      Object.assign(props, { loop: true, loop_start: 0, loop_end: len });
      const id = t.create('clip', c.track, props);
      for (const n of c.midi ? m.children(c.id, 'note') : []) {
        const s = m.get(n, 'start');
        if (s < c.loopStart || s >= c.loopEnd) continue;
        const r = (((s - c.loopStart - phase) % len) + len) % len;
        t.create('note', id, {
          pitch: m.get(n, 'pitch'),
          velocity: m.get(n, 'velocity'),
          start: r,
          length: Math.min(m.get(n, 'length'), len - r),
        });
      }
      if (c.loopEnd > rel) t.set(c.id, 'loop_end', rel);
      t.set(c.id, 'length', rel);
      return id;
    }
    if (c.loop) Object.assign(props, { loop: true, loop_start: c.loopStart - rel, loop_end: c.loopEnd - rel });
    else props.loop_end = c.length - rel;
    const id = t.create('clip', c.track, props);
    for (const n of c.midi ? m.children(c.id, 'note') : []) {
      const s = m.get(n, 'start');
      const l = m.get(n, 'length');
      if (s >= rel) {
        // Not t.move(): mdl_undo_build deletes the new clip before it moves
        // notes back, so the undo of a move into a new clip is refused.
        t.remove(n);
        t.create('note', id, { pitch: m.get(n, 'pitch'), velocity: m.get(n, 'velocity'), start: s - rel, length: l });
      } else if (s + l > rel) t.set(n, 'length', rel - s);
    }
    if (!c.loop && c.loopEnd > rel) t.set(c.id, 'loop_end', rel);
    t.set(c.id, 'length', rel);
    return id;
  }

  // Copies of the selected clips right after them (the selection repeats
  // as a block); the copies become the selection.
  duplicate() {
    const list = this.selected();
    if (!list.length) return;
    const from = Math.min(...list.map((c) => c.start));
    const to = Math.max(...list.map((c) => c.start + c.length));
    const m = this.model;
    const made = this.run((t) =>
      list.map((c) => {
        const props = {};
        for (const p of [
          'name',
          'colour',
          'length',
          'mute',
          'gain',
          'loop',
          'loop_start',
          'loop_end',
          'groove',
          'asset',
          'offset',
          'fade_in',
          'fade_out',
          'warp',
          'source_bpm',
        ]) {
          const v = m.get(c.id, p);
          if (v !== null && v !== '') props[p] = v;
        }
        props.start = c.start + (to - from);
        const id = t.create('clip', c.track, props);
        for (const n of m.children(c.id, 'note'))
          t.create('note', id, {
            pitch: m.get(n, 'pitch'),
            velocity: m.get(n, 'velocity'),
            start: m.get(n, 'start'),
            length: m.get(n, 'length'),
          });
        return id;
      }),
    );
    if (made) {
      this.selection = new Set(made);
      this.changed();
    }
  }

  deleteSelected() {
    const list = this.selected();
    if (!list.length) return;
    this.run((t) => {
      for (const c of list) t.remove(c.id);
    });
    this.selection.clear();
    this.changed();
  }

  splitAtPlayhead() {
    const list = this.selected();
    const at = this.snapTick(this.playhead, true);
    if (!this.split(list.length ? list : [...this.clips.values()], at))
      this.onMessage?.('Nothing to split: put the playhead inside a clip (or Alt+click a clip)');
  }

  toggleLoop() {
    this.run((t) => t.set('project', 'loop', !this.loop.on));
  }

  setSnap(on) {
    this.snap = on;
    this.onTools?.();
  }

  selectOnly(id) {
    this.selection = new Set(id ? [id] : []);
    const c = id && this.clips.get(id);
    if (c) this.selectTrack(c.track);
    this.showInfo();
    this.redraw();
  }
  selectTrack(id) {
    this.selectedTrack = id;
    this.select?.(id);
  }

  // The clip before/after the selection (lanes top to bottom, then time).
  step(dir) {
    const all = this.lanes.flatMap((l) => l.clips);
    if (!all.length) return;
    const cur = all.findIndex((c) => this.selection.has(c.id));
    const next = cur < 0 ? (dir > 0 ? 0 : all.length - 1) : (cur + dir + all.length) % all.length;
    this.selectOnly(all[next].id);
    this.reveal(all[next]);
  }
  // Scrolls clip C into view: its start across, its lane down.
  reveal(c) {
    const span = (this.width - HEAD_W) / this.pxPerTick;
    if (c.start < this.scrollX || c.start > this.scrollX + span * 0.9)
      this.scrollX = Math.max(0, c.start - this.meter.bar);
    const lane = c.lane, seen = this.canvas.clientHeight - this.top;
    if (lane && lane.y < this.scrollY) this.scrollY = lane.y;
    else if (lane && lane.y + lane.h > this.scrollY + seen) this.scrollY = Math.max(0, lane.y + lane.h - seen);
    this.redraw();
  }

  // ---- Touch -----------------------------------------------------------------------------
  // One finger drags what a mouse would (a clip, a point, a flag) and scrolls
  // on empty lanes; two fingers pinch-zoom about their centre and pan; a
  // long press does what a right-click does.
  // A finger down at canvas (X, Y). Returns true when it starts a pinch (the
  // first finger's gesture is dropped, nothing is committed).
  touchDown(ev, x, y) {
    this.touches.set(ev.pointerId, { x, y });
    clearTimeout(this.pressTimer);
    this.longPress = null;
    if (this.touches.size >= 2) {
      this.drag = null;
      const [a, b] = [...this.touches.values()];
      const cx = (a.x + b.x) / 2;
      this.pinch = {
        d0: Math.max(20, Math.hypot(a.x - b.x, a.y - b.y)),
        ppt0: this.pxPerTick,
        tick: this.tickAt(Math.max(HEAD_W, cx)),
        cy0: (a.y + b.y) / 2,
        sy0: this.scrollY,
      };
      this.redraw();
      return true;
    }
    this.pinch = null;
    const lp = { x, y, cx: ev.clientX, cy: ev.clientY, fired: false };
    this.longPress = lp;
    this.pressTimer = setTimeout(() => {
      if (this.longPress !== lp || this.touches.size !== 1) return;
      lp.fired = true;
      this.drag = null;
      this.contextAt(lp.x, lp.y, lp.cx, lp.cy);
      this.redraw();
    }, LONG_PRESS_MS);
    return false;
  }
  // A finger moved; returns true when the pinch (or its end) took it.
  touchMove(ev, x, y) {
    if (!this.touches.has(ev.pointerId)) return false;
    this.touches.set(ev.pointerId, { x, y });
    const lp = this.longPress;
    if (lp && Math.hypot(x - lp.x, y - lp.y) > DRAG_PX * 2) {
      clearTimeout(this.pressTimer);
      this.longPress = null;
    }
    const p = this.pinch;
    if (!p) return false;
    if (this.touches.size < 2) return true; // one finger left of a pinch: nothing until both are up
    const [a, b] = [...this.touches.values()];
    const cx = Math.max(HEAD_W, (a.x + b.x) / 2);
    const d = Math.max(20, Math.hypot(a.x - b.x, a.y - b.y));
    this.pxPerTick = Math.min(MAX_PX_PER_TICK, Math.max(MIN_PX_PER_TICK, (p.ppt0 * d) / p.d0));
    // The tick that was under the fingers' centre stays under it: zoom about it, and pan with it.
    this.scrollX = Math.max(0, p.tick - (cx - HEAD_W) / this.pxPerTick);
    const maxY = Math.max(0, this.contentH - (this.canvas.clientHeight - this.top));
    this.scrollY = Math.max(0, Math.min(maxY, p.sy0 - ((a.y + b.y) / 2 - p.cy0)));
    this.redraw();
    return true;
  }
  // A finger up; returns true when the gesture is over (a pinch, a long press).
  touchUp(ev) {
    this.touches.delete(ev.pointerId);
    clearTimeout(this.pressTimer);
    const lp = this.longPress;
    this.longPress = null;
    if (this.pinch) {
      if (!this.touches.size) this.pinch = null;
      this.drag = null;
      return true;
    }
    if (lp && lp.fired) {
      this.drag = null;
      return true;
    }
    return false;
  }

  // ---- Input ----------------------------------------------------------------------------
  listen() {
    const cv = this.canvas;
    const pos = (ev) => {
      const r = cv.getBoundingClientRect();
      return [ev.clientX - r.left, ev.clientY - r.top];
    };
    cv.addEventListener('pointerdown', (ev) => {
      if (ev.button !== 0) return;
      cv.focus();
      const [x, y] = pos(ev);
      if (ev.pointerType === 'touch' && this.touchDown(ev, x, y)) return;
      if (y < RULER_H) {
        if (x < HEAD_W) return;
        const at = this.snapTick(this.tickAt(x), ev.altKey);
        this.drag = { kind: 'loop', x0: x, from: at, start: at, end: at, moved: false };
        cv.setPointerCapture(ev.pointerId);
        return;
      }
      if (y < this.top) {
        if (x >= HEAD_W) this.tempoPress(ev, x, y);
        return;
      }
      this.flagSel = null;
      const lane = this.laneAt(y);
      const row = this.autoRowAt(y);
      if (x < HEAD_W) {
        if (lane) {
          const tr = this.autoToggleRect(lane);
          if (x >= tr.x && x <= tr.x + tr.w && y >= tr.y && y <= tr.y + tr.h) return this.toggleAuto(lane.id);
          this.selectTrack(lane.id);
        } else if (row && row.laneId) this.setLaneOn(row, !row.on);
        this.redraw();
        return;
      }
      if (row) {
        // Automation: press a point to select and drag it, elsewhere to add one.
        const p = this.pointAt(row, x, y);
        if (!p) {
          this.addPoint(row, this.snapTick(this.tickAt(x), ev.altKey), this.valueOfY(row, y));
          return;
        }
        this.autoSel = p.id;
        this.drag = { kind: 'point', row, p, x0: x, y0: y, start: p.start, value: p.value, moved: false };
        cv.setPointerCapture(ev.pointerId);
        this.redraw();
        return;
      }
      this.autoSel = null;
      const h = this.hit(x, y);
      if (!h) {
        if (!ev.shiftKey) this.selectOnly(null);
        if (lane) this.selectTrack(lane.id);
        // A finger on an empty lane scrolls the view.
        if (ev.pointerType === 'touch') this.drag = { kind: 'pan', x0: x, y0: y, sx: this.scrollX, sy: this.scrollY, moved: false };
        this.redraw();
        return;
      }
      const c = h.clip;
      if (ev.altKey) {
        // Alt+click: split here (snapped unless Shift).
        this.split([c], this.snapTick(this.tickAt(x), ev.shiftKey));
        return;
      }
      if (ev.shiftKey || ev.ctrlKey || ev.metaKey) {
        if (this.selection.has(c.id)) this.selection.delete(c.id);
        else this.selection.add(c.id);
        this.showInfo();
      } else if (!this.selection.has(c.id)) this.selectOnly(c.id);
      else this.selectTrack(c.track);
      if (!this.selection.has(c.id)) return this.redraw();
      this.drag = {
        kind: h.edge ? 'resize' : 'move',
        clip: c,
        ids: [...this.selection],
        x0: x,
        y0: y,
        dt: 0,
        dLane: 0,
        moved: false,
        minLength: this.snap ? this.grid : 1,
        additive: ev.shiftKey,
      };
      cv.setPointerCapture(ev.pointerId);
      this.redraw();
    });
    cv.addEventListener('pointermove', (ev) => {
      const [x, y] = pos(ev);
      if (ev.pointerType === 'touch' && this.touchMove(ev, x, y)) return;
      const d = this.drag;
      if (!d) {
        const h = y >= this.top && this.hit(x, y);
        const row = !h && x > HEAD_W && y >= this.top && this.autoRowAt(y);
        if (y >= RULER_H && y < this.top) cv.style.cursor = x < HEAD_W ? 'default' : this.flagAt(x, y) ? 'ew-resize' : 'copy';
        else if (row) cv.style.cursor = this.pointAt(row, x, y) ? 'move' : 'crosshair';
        else cv.style.cursor = y < RULER_H && x > HEAD_W ? 'text' : h ? (h.edge ? 'ew-resize' : 'grab') : 'default';
        return;
      }
      if (!d.moved && Math.abs(x - d.x0) < DRAG_PX && Math.abs(y - (d.y0 ?? y)) < DRAG_PX) return;
      d.moved = true;
      const free = ev.altKey;
      if (d.kind === 'pan') {
        this.scrollX = Math.max(0, d.sx - (x - d.x0) / this.pxPerTick);
        const maxY = Math.max(0, this.contentH - (cv.clientHeight - this.top));
        this.scrollY = Math.max(0, Math.min(maxY, d.sy - (y - d.y0)));
      } else if (d.kind === 'flag') {
        if (d.flag === 'tempo') d.start = Math.max(1, this.snapTick(this.tickAt(x), free));
        else d.bar = Math.max(1, this.nearestBar(this.tickAt(x)));
      } else if (d.kind === 'point') {
        d.start = Math.max(0, this.snapTick(this.tickAt(x), free));
        d.value = this.valueOfY(d.row, y);
      } else if (d.kind === 'loop') {
        const at = this.snapTick(this.tickAt(x), free);
        d.start = Math.max(0, Math.min(d.from, at));
        d.end = Math.max(d.from, at);
      } else if (d.kind === 'move') {
        const raw = (x - d.x0) / this.pxPerTick;
        d.dt = Math.max(-d.clip.start, this.snapTick(d.clip.start + raw, free) - d.clip.start);
        const lane = this.laneAt(Math.max(this.top, Math.min(cv.clientHeight - 1, y)));
        d.dLane = lane ? lane.index - d.clip.lane.index : d.dLane;
        cv.style.cursor = 'grabbing';
      } else {
        const end = d.clip.start + d.clip.length + (x - d.x0) / this.pxPerTick;
        d.dt = this.snapTick(end, free) - (d.clip.start + d.clip.length);
      }
      this.redraw();
    });
    const end = (ev, cancel) => {
      if (ev.pointerType === 'touch' && this.touchUp(ev)) return this.redraw();
      const d = this.drag;
      if (!d) return;
      this.drag = null;
      if (cv.hasPointerCapture(ev.pointerId)) cv.releasePointerCapture(ev.pointerId);
      if (cancel || !d.moved) {
        if (!cancel && d.kind === 'move' && !d.additive && this.selection.size > 1) this.selectOnly(d.clip.id);
        this.redraw();
        return;
      }
      if (d.kind === 'pan') this.viewMoved();
      else if (d.kind === 'flag') {
        if (d.flag === 'tempo' && d.start !== d.obj.start) this.run((t) => t.set(d.obj.id, 'start', d.start));
        if (d.flag === 'meter' && d.bar !== d.obj.bar) this.run((t) => t.set(d.obj.id, 'bar', d.bar));
      } else if (d.kind === 'point') this.movePoint(d.p, d.start, d.value);
      else if (d.kind === 'loop') {
        if (d.end > d.start)
          this.run((t) => {
            t.set('project', 'loop_start', d.start);
            t.set('project', 'loop_end', d.end);
            if (!this.loop.on) t.set('project', 'loop', true);
          });
      } else if (d.kind === 'move') this.moveClips(d.ids, d.dt, d.dLane);
      else this.resizeClips(d.ids, d.dt, d.minLength);
      this.redraw();
    };
    cv.addEventListener('pointerup', (ev) => end(ev, false));
    cv.addEventListener('pointercancel', (ev) => end(ev, true));
    cv.addEventListener('dblclick', (ev) => {
      const [x, y] = pos(ev);
      if (y >= RULER_H && y < this.top) {
        // Double-click a change (or the lane's head: the song's own) to type its value.
        const kind = y < RULER_H + TEMPO_H ? 'tempo' : 'meter';
        if (x < HEAD_W) return this.editFlag(kind, null, HEAD_W + 4, y);
        const f = this.flagAt(x, y);
        if (f) this.editFlag(f.kind, f.obj, f.x0 + 3, (f.y0 + f.y1) / 2);
        return;
      }
      const row = x >= HEAD_W && this.autoRowAt(y);
      if (row) {
        // Double-click deletes a point (not the one this double-click's first press made).
        const p = this.pointAt(row, x, y);
        const fresh = this.lastAdded && p && this.lastAdded.id === p.id && performance.now() - this.lastAdded.at < 600;
        if (p && !fresh) this.deletePoint(p.id);
        return;
      }
      const h = this.hit(x, y);
      if (h && h.clip.midi) this.open?.(h.clip.id);
    });
    cv.addEventListener(
      'wheel',
      (ev) => {
        ev.preventDefault();
        const [x] = pos(ev);
        if (ev.ctrlKey || ev.metaKey) this.zoom(Math.exp(-ev.deltaY * 0.002), Math.max(HEAD_W, x));
        else if (ev.shiftKey) this.scrollBy(0, ev.deltaY);
        else this.scrollBy(Math.abs(ev.deltaX) > Math.abs(ev.deltaY) ? ev.deltaX : ev.deltaY, 0);
      },
      { passive: false },
    );
    cv.addEventListener('contextmenu', (ev) => {
      const [x, y] = pos(ev);
      // A long press already opened the menu (the browser may send its own contextmenu too).
      if (this.menuEl || this.touches.size) return ev.preventDefault();
      if (this.contextAt(x, y, ev.clientX, ev.clientY)) ev.preventDefault();
    });
    cv.addEventListener('keydown', (ev) => this.key(ev));
    new ResizeObserver(() => this.redraw()).observe(cv);
  }

  // Keys while the arrangement has focus (the help overlay lists them).
  key(ev) {
    const mod = ev.ctrlKey || ev.metaKey;
    const k = ev.key;
    let done = true;
    const point = this.autoSel && this.findPoint(this.autoSel);
    const flag = this.flagSel && [...this.tempos, ...this.meters].find((f) => f.id === this.flagSel);
    const arrow = k === 'ArrowLeft' || k === 'ArrowRight' ? (k === 'ArrowLeft' ? -1 : 1) : 0;
    const upDown = k === 'ArrowUp' || k === 'ArrowDown' ? (k === 'ArrowDown' ? -1 : 1) : 0;
    if (flag && arrow && !mod) {
      // A selected flag: a beat (Shift: a bar) earlier or later; a signature change a bar.
      if (flag.bpm !== undefined) {
        const to = Math.max(1, flag.start + arrow * (ev.shiftKey ? this.meter.bar : this.grid));
        if (to !== flag.start) this.run((t) => t.set(flag.id, 'start', to));
      } else if (flag.bar + arrow >= 1) this.run((t) => t.set(flag.id, 'bar', flag.bar + arrow));
    } else if (point && (arrow || upDown) && !mod) {
      // A selected point: a beat (Shift: a bar) earlier or later; up/down 1% (Shift: 10%) of the range.
      const { p, row } = point;
      const tg = row.target;
      const step = ((tg.max - tg.min) / 100) * (ev.shiftKey ? 10 : 1);
      const whole = tg.unit === 'choice' || tg.unit === 'count';
      const start = Math.max(0, p.start + arrow * (ev.shiftKey ? this.meter.bar : this.grid));
      const value = upDown ? clamp(+(p.value + upDown * (whole ? 1 : step)).toPrecision(6), tg.min, tg.max) : p.value;
      this.movePoint(p, start, value);
    } else if (flag && (k === 'Delete' || k === 'Backspace')) this.deleteFlag(flag.id);
    else if (flag && !mod && (k === 'r' || k === 'R') && flag.bpm !== undefined) this.toggleRamp(flag);
    else if (point && (k === 'Delete' || k === 'Backspace')) this.deletePoint(point.p.id);
    else if (point && !mod && (k === 'c' || k === 'C')) this.setCurve(point.p.id, (point.p.curve + 1) % CURVES.length);
    else if (k === 'Delete' || k === 'Backspace') this.deleteSelected();
    else if (mod && k.toLowerCase() === 'd') this.duplicate();
    else if (mod && k.toLowerCase() === 'a') {
      this.selection = new Set(this.clips.keys());
      this.showInfo();
      this.redraw();
    } else if (mod) done = false;
    else if (k === 's' || k === 'S') this.splitAtPlayhead();
    else if (k === 'g' || k === 'G') this.setSnap(!this.snap);
    else if (k === 'l' || k === 'L') this.toggleLoop();
    else if (k === 'f' || k === 'F') this.fit();
    else if (k === '+' || k === '=') this.zoom(1.25);
    else if (k === '-' || k === '_') this.zoom(0.8);
    else if (k === 'Enter') {
      const c = this.selected()[0];
      if (c && c.midi) this.open?.(c.id);
    } else if (k === 'Escape') {
      this.autoSel = null;
      this.flagSel = null;
      this.selectOnly(null);
    } else if ((k === 'a' || k === 'A') && this.selectedTrack) this.toggleAuto(this.selectedTrack);
    else if (k === 'Home') {
      this.scrollX = 0;
      this.redraw();
    } else if (k === '[' || k === ']') this.step(k === ']' ? 1 : -1);
    else if (k === 'ArrowLeft' || k === 'ArrowRight') {
      const sel = this.selected();
      if (!sel.length) this.scrollBy((k === 'ArrowLeft' ? -1 : 1) * 80, 0);
      else {
        const unit = ev.shiftKey ? this.meter.bar : this.snap ? this.grid : this.meter.beat / 4;
        const dt = k === 'ArrowLeft' ? -Math.min(unit, Math.min(...sel.map((c) => c.start))) : unit;
        this.moveClips(
          sel.map((c) => c.id),
          dt,
          0,
        );
      }
    } else if (k === 'ArrowUp' || k === 'ArrowDown') {
      const sel = this.selected();
      if (ev.altKey && sel.length)
        this.moveClips(
          sel.map((c) => c.id),
          0,
          k === 'ArrowUp' ? -1 : 1,
        );
      else this.step(k === 'ArrowUp' ? -1 : 1);
    } else done = false;
    if (done) {
      ev.preventDefault();
      ev.stopPropagation();
    }
  }
}

// TEXT cut to fit W px with an ellipsis.
function clipText(g, text, w) {
  if (g.measureText(text).width <= w) return text;
  let s = text;
  while (s.length > 1 && g.measureText(`${s}…`).width > w) s = s.slice(0, -1);
  return `${s}…`;
}
