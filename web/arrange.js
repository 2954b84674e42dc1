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
import { fitCanvas, fmtBarBeat, fmtLength, hex, meterOf, roundRect, shade, snapTo, transact } from './timeline.js';

const HEAD_W = 168; // track names column, CSS px
const RULER_H = 30;
const LANE_H = 54;
const GROUP_H = 34; // a group track's lane (its children follow, indented)
const EDGE_PX = 7; // grab zone for resizing a clip's end
const DRAG_PX = 3; // a press that moves less is a click
const KIND = { audio: 1, instrument: 2, group: 3, return: 4, master: 5 };
const KIND_NAME = ['', 'audio', 'instrument', 'group', 'return', 'master'];
const MIN_PX_PER_TICK = 2 / 960; // ~8 px a 4/4 bar
const MAX_PX_PER_TICK = 400 / 960; // 400 px a quarter note

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
        for (const c of m.children(id, 'clip')) {
          if (m.get(c, 'scene')) continue; // a session slot, not the arrangement
          const clip = {
            id: c,
            lane,
            track: id,
            name: m.get(c, 'name'),
            colour: m.get(c, 'colour') || lane.colour,
            start: m.get(c, 'start'),
            length: m.get(c, 'length'),
            loop: m.get(c, 'loop'),
            loopStart: m.get(c, 'loop_start'),
            loopEnd: m.get(c, 'loop_end'),
            mute: m.get(c, 'mute'),
            midi: kind === KIND.instrument,
          };
          lane.clips.push(clip);
          clips.set(c, clip);
        }
        lane.clips.sort((a, b) => a.start - b.start);
        if (kind === KIND.group) walk(id, depth + 1);
      }
    };
    walk('project', 0);
    this.lanes = lanes;
    this.contentH = y;
    this.clips = clips;
    for (const id of [...this.selection]) if (!clips.has(id)) this.selection.delete(id);
    this.markers = m
      .children('project', 'marker')
      .map((id) => ({ id, name: m.get(id, 'name'), start: m.get(id, 'start') }))
      .sort((a, b) => a.start - b.start);
    this.loop = {
      on: m.get('project', 'loop'),
      start: m.get('project', 'loop_start'),
      end: m.get('project', 'loop_end'),
    };
    if (notes) this.noteCache.clear();
    this.showInfo();
    this.redraw();
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
    const cy = y - RULER_H + this.scrollY;
    return this.lanes.find((l) => cy >= l.y && cy < l.y + l.h) || null;
  }
  laneTop(lane) {
    return RULER_H + lane.y - this.scrollY;
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
  snapTick(t, free) {
    return this.snap && !free ? snapTo(t, this.grid) : Math.round(t);
  }
  // The height the lanes want (studio.js sizes the panel with it).
  wantedHeight() {
    return RULER_H + Math.max(this.contentH, LANE_H) + 2;
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
    const maxY = Math.max(0, this.contentH - (this.canvas.clientHeight - RULER_H));
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
      this.info.textContent = `${c.name || 'Clip'} · ${c.lane.name} · at ${fmtBarBeat(c.start, m)} · ${fmtLength(c.length, m)}`;
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
    g.rect(HEAD_W, RULER_H, W - HEAD_W, H - RULER_H);
    g.clip();
    for (const lane of this.lanes) {
      const y = this.laneTop(lane);
      if (y > H || y + lane.h < RULER_H) continue;
      g.fillStyle = lane.kind === KIND.group ? '#171b23' : lane.index % 2 ? '#151920' : '#181c24';
      if (this.selectedTrack === lane.id) g.fillStyle = '#1c2330';
      g.fillRect(HEAD_W, y, W - HEAD_W, lane.h);
    }
    // Grid: bars always, beats and 16ths when there is room.
    const barPx = m.bar * this.pxPerTick;
    const beatPx = m.beat * this.pxPerTick;
    const step = beatPx >= 14 ? m.beat : m.bar * Math.max(1, 2 ** Math.ceil(Math.log2(40 / Math.max(barPx, 1))));
    for (let t = Math.floor(t0 / step) * step; t <= t1; t += step) {
      const x = Math.round(this.xOf(t)) + 0.5;
      g.fillStyle = t % m.bar === 0 ? '#2a303c' : '#1f242d';
      g.fillRect(x, RULER_H, 1, H - RULER_H);
    }
    // The loop region, shaded when on.
    if (this.loop.on && this.loop.end > this.loop.start) {
      g.fillStyle = 'rgba(77,163,255,0.07)';
      const x0 = this.xOf(this.loop.start);
      g.fillRect(x0, RULER_H, this.xOf(this.loop.end) - x0, H - RULER_H);
    }
    // Marker lines.
    g.fillStyle = 'rgba(242,201,76,0.35)';
    for (const mk of this.markers) g.fillRect(Math.round(this.xOf(mk.start)), RULER_H, 1, H - RULER_H);
    // Clips (the ones being dragged are drawn at their new place, last).
    const preview = this.preview();
    for (const lane of this.lanes) {
      const y = this.laneTop(lane);
      if (y > H || y + lane.h < RULER_H) continue;
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
    if (this.drag && this.drag.kind === 'split') {
      const x = Math.round(this.xOf(this.drag.at)) + 0.5;
      g.fillStyle = '#fff';
      g.fillRect(x, RULER_H, 1, H);
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
    const labelEvery = m.bar * Math.max(1, 2 ** Math.ceil(Math.log2(36 / Math.max(barPx, 1))));
    g.font = '11px ui-monospace, "DejaVu Sans Mono", monospace';
    g.textBaseline = 'middle';
    for (let t = Math.floor(t0 / m.bar) * m.bar; t <= t1; t += m.bar) {
      const x = Math.round(this.xOf(t)) + 0.5;
      const labelled = t % labelEvery === 0;
      g.fillStyle = labelled ? '#566074' : '#353c4a';
      g.fillRect(x, labelled ? 12 : 20, 1, RULER_H - (labelled ? 12 : 20));
      if (labelled) {
        g.fillStyle = '#aab3c5';
        g.fillText(String(t / m.bar + 1), x + 4, 11);
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

    // Track names column
    g.fillStyle = '#171a21';
    g.fillRect(0, 0, HEAD_W, H);
    g.save();
    g.beginPath();
    g.rect(0, RULER_H, HEAD_W, H - RULER_H);
    g.clip();
    for (const lane of this.lanes) {
      const y = this.laneTop(lane);
      if (y > H || y + lane.h < RULER_H) continue;
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
    }
    g.restore();
    g.fillStyle = '#2a2f3a';
    g.fillRect(HEAD_W - 1, 0, 1, H);
    g.fillStyle = '#8b93a3';
    g.font = '11px system-ui, sans-serif';
    g.textBaseline = 'middle';
    g.fillText(`${m.num}/${m.den} · ${Math.round(m.tempo * 100) / 100} BPM`, 10, RULER_H / 2);

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
      g.fillText('No tracks yet: add one below.', HEAD_W + 16, RULER_H + 24);
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
  reveal(c) {
    const span = (this.width - HEAD_W) / this.pxPerTick;
    if (c.start < this.scrollX || c.start > this.scrollX + span * 0.9)
      this.scrollX = Math.max(0, c.start - this.meter.bar);
    this.redraw();
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
      if (y < RULER_H) {
        if (x < HEAD_W) return;
        const at = this.snapTick(this.tickAt(x), ev.altKey);
        this.drag = { kind: 'loop', x0: x, from: at, start: at, end: at, moved: false };
        cv.setPointerCapture(ev.pointerId);
        return;
      }
      const lane = this.laneAt(y);
      if (x < HEAD_W) {
        if (lane) this.selectTrack(lane.id);
        this.redraw();
        return;
      }
      const h = this.hit(x, y);
      if (!h) {
        if (!ev.shiftKey) this.selectOnly(null);
        if (lane) this.selectTrack(lane.id);
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
      const d = this.drag;
      if (!d) {
        const h = y >= RULER_H && this.hit(x, y);
        cv.style.cursor = y < RULER_H && x > HEAD_W ? 'text' : h ? (h.edge ? 'ew-resize' : 'grab') : 'default';
        return;
      }
      if (!d.moved && Math.abs(x - d.x0) < DRAG_PX && Math.abs(y - (d.y0 ?? y)) < DRAG_PX) return;
      d.moved = true;
      const free = ev.altKey;
      if (d.kind === 'loop') {
        const at = this.snapTick(this.tickAt(x), free);
        d.start = Math.max(0, Math.min(d.from, at));
        d.end = Math.max(d.from, at);
      } else if (d.kind === 'move') {
        const raw = (x - d.x0) / this.pxPerTick;
        d.dt = Math.max(-d.clip.start, this.snapTick(d.clip.start + raw, free) - d.clip.start);
        const lane = this.laneAt(Math.max(RULER_H, Math.min(cv.clientHeight - 1, y)));
        d.dLane = lane ? lane.index - d.clip.lane.index : d.dLane;
        cv.style.cursor = 'grabbing';
      } else {
        const end = d.clip.start + d.clip.length + (x - d.x0) / this.pxPerTick;
        d.dt = this.snapTick(end, free) - (d.clip.start + d.clip.length);
      }
      this.redraw();
    });
    const end = (ev, cancel) => {
      const d = this.drag;
      if (!d) return;
      this.drag = null;
      if (cv.hasPointerCapture(ev.pointerId)) cv.releasePointerCapture(ev.pointerId);
      if (cancel || !d.moved) {
        if (!cancel && d.kind === 'move' && !d.additive && this.selection.size > 1) this.selectOnly(d.clip.id);
        this.redraw();
        return;
      }
      if (d.kind === 'loop') {
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
    cv.addEventListener('keydown', (ev) => this.key(ev));
    new ResizeObserver(() => this.redraw()).observe(cv);
  }

  // Keys while the arrangement has focus (the help overlay lists them).
  key(ev) {
    const mod = ev.ctrlKey || ev.metaKey;
    const k = ev.key;
    let done = true;
    if (k === 'Delete' || k === 'Backspace') this.deleteSelected();
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
    } else if (k === 'Escape') this.selectOnly(null);
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
