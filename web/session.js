// session.js: the session view: a grid of scenes (rows, the project's
// scenes in order) by tracks (columns, as in the arrangement: groups
// followed by their tracks, no master). Each cell is a track's slot in a
// scene: the clip there (a session clip: a clip whose `scene` is that
// scene; the model keeps at most one per track and scene) or an empty slot.
//
// Built as DOM (buttons and selects, so every control has keyboard focus
// and a label) from the wasm model; studio.js calls changed() when the
// model's view changes and state() with every METERS message. What plays
// and what is queued comes only from the meters (each track's `slot` and
// `queued`, the scene's index among the project's scenes), never guessed
// here: a launch the server refuses ("press play first") comes back as a
// REJECT, which studio.js shows as a toast.
//
// Gestures: a click on a clip launches it (LAUNCH at the scene's
// quantization), a double click (or the pencil) opens it in the piano roll;
// a double click (or Enter) on an empty slot of an instrument track makes a
// one-bar MIDI clip there (one transaction) and opens it. Each column has a
// stop button, each row a scene launch button (launches every clip of the
// row), a name and a quantization select.
import { hex, meterOf, transact } from './timeline.js';

const KIND = { audio: 1, instrument: 2, group: 3, return: 4, master: 5 };
// Launch quantization by scene `quant` (MDL_QUANT_* in shared/mdl_project.h, same order).
export const QUANTS = ['None', '1/16', '1/8', 'Beat', '1/2 bar', 'Bar', '2 bars', '4 bars', '8 bars'];

export class Session {
  // OPTS: root (the grid element), model, edit (studio.js's edit), launch(clipId
  // or null, trackId) (sends LAUNCH), select(trackId), open(clipId) (the piano
  // roll), info (an element for a line of status).
  constructor(opts) {
    Object.assign(this, opts);
    this.visible = false;
    this.dirty = true;
    this.key = ''; // what the grid shows, to skip rebuilding it when nothing it shows changed
    this.tracks = [];
    this.scenes = [];
    this.cells = new Map(); // "track:sceneIndex" -> cell element
    this.stops = new Map(); // track id -> stop button
    this.play = new Map(); // track id -> {slot, queued} from the meters
    this.playing = false;
    this.selectedTrack = null;
    this.root.addEventListener('focusout', () => {
      if (this.dirty) queueMicrotask(() => this.changed());
    });
  }

  show(on) {
    this.visible = on;
    if (on) this.changed();
  }

  // ---- The model ---------------------------------------------------------------------
  read() {
    const m = this.model;
    const tracks = [];
    const walk = (parent, depth) => {
      for (const id of m.children(parent, 'track')) {
        const kind = m.get(id, 'kind');
        if (kind === KIND.master) continue;
        const t = { id, kind, depth, name: m.get(id, 'name'), colour: m.get(id, 'colour'), slots: new Map() };
        for (const c of m.children(id, 'clip')) {
          const scene = m.get(c, 'scene');
          if (scene) t.slots.set(scene, { id: c, name: m.get(c, 'name'), colour: m.get(c, 'colour') || t.colour });
        }
        tracks.push(t);
        if (kind === KIND.group) walk(id, depth + 1);
      }
    };
    walk('project', 0);
    const scenes = m
      .children('project', 'scene')
      .map((id) => ({ id, name: m.get(id, 'name'), quant: m.get(id, 'quant') }));
    return { tracks, scenes };
  }

  changed() {
    this.dirty = true;
    if (!this.visible) return;
    // A scene name being typed keeps its text: the grid is rebuilt when it loses focus.
    if (this.root.contains(document.activeElement) && document.activeElement.matches('input')) return;
    const { tracks, scenes } = this.read();
    const key = JSON.stringify([tracks.map((t) => [t.id, t.kind, t.depth, t.name, t.colour, [...t.slots]]), scenes]);
    this.dirty = false;
    this.tracks = tracks;
    this.scenes = scenes;
    if (key !== this.key) {
      this.key = key;
      this.build();
    }
    this.paint();
  }

  // Rebuilds the grid; keeps keyboard focus on the same control.
  build() {
    const focus = document.activeElement?.closest?.('[data-k]')?.dataset.k;
    const root = this.root;
    const { tracks, scenes } = this;
    root.replaceChildren();
    this.cells.clear();
    this.stops.clear();
    root.style.setProperty('--cols', String(tracks.length));
    root.setAttribute('aria-rowcount', String(scenes.length + 2));
    const el = (tag, cls, text) => {
      const e = document.createElement(tag);
      if (cls) e.className = cls;
      if (text !== undefined) e.textContent = text;
      return e;
    };
    const row = () => {
      const r = el('div', 'sg-row');
      r.setAttribute('role', 'row');
      root.append(r);
      return r;
    };

    // Track names.
    const head = row();
    head.classList.add('sg-headrow');
    for (const t of tracks) {
      const h = el('button', 'sg-track', t.name);
      h.type = 'button';
      h.dataset.k = `head:${t.id}`;
      h.setAttribute('role', 'columnheader');
      h.style.setProperty('--c', hex(t.colour));
      h.style.paddingLeft = `${8 + t.depth * 10}px`;
      h.classList.toggle('selected', t.id === this.selectedTrack);
      h.title = `${t.name}: click to show its devices`;
      h.addEventListener('click', () => this.pickTrack(t.id));
      head.append(h);
    }
    const sh = el('div', 'sg-scenehead', 'Scenes');
    sh.setAttribute('role', 'columnheader');
    head.append(sh);

    if (!scenes.length) {
      const hint = el('p', 'sg-hint', 'No scenes yet: “+ Scene” adds a row of slots.');
      hint.setAttribute('role', 'row');
      root.append(hint);
    }

    // One row per scene.
    scenes.forEach((s, i) => {
      const r = row();
      for (const t of tracks) {
        const clip = t.slots.get(s.id);
        const k = `${t.id}:${i}`;
        let cell;
        if (clip) cell = this.clipCell(t, s, i, clip);
        else if (t.kind === KIND.instrument || t.kind === KIND.audio) cell = this.emptyCell(t, s, i);
        else {
          cell = el('div', 'sg-cell sg-none');
          cell.setAttribute('aria-label', `${t.name} has no slots (a ${t.kind === KIND.group ? 'group' : 'return'})`);
        }
        cell.setAttribute('role', 'gridcell');
        cell.style.setProperty('--c', hex(clip ? clip.colour : t.colour));
        this.cells.set(k, cell);
        r.append(cell);
      }
      r.append(this.sceneCell(s, i));
    });

    // Stop buttons.
    const foot = row();
    foot.classList.add('sg-footrow');
    for (const t of tracks) {
      const has = t.kind === KIND.instrument || t.kind === KIND.audio;
      const b = el('button', 'sg-stop');
      b.type = 'button';
      b.dataset.k = `stop:${t.id}`;
      b.innerHTML = '<span aria-hidden="true">■</span>';
      b.setAttribute('aria-label', `Stop ${t.name}`);
      b.title = `Stop the clip playing on ${t.name} (at the scene's quantization)`;
      b.disabled = !has;
      b.addEventListener('click', () => this.launch(null, t.id));
      this.stops.set(t.id, b);
      foot.append(b);
    }
    const all = el('button', 'sg-stopall', 'Stop all');
    all.type = 'button';
    all.dataset.k = 'stopall';
    all.setAttribute('aria-label', 'Stop every session clip');
    all.addEventListener('click', () => this.stopAll());
    foot.append(all);

    if (focus) root.querySelector(`[data-k="${CSS.escape(focus)}"]`)?.focus();
  }

  clipCell(t, s, i, clip) {
    const cell = document.createElement('div');
    cell.className = 'sg-cell sg-clip';
    cell.dataset.clip = clip.id;
    const b = document.createElement('button');
    b.type = 'button';
    b.className = 'sg-launch';
    b.dataset.k = `clip:${clip.id}`;
    b.innerHTML = '<span class="sg-tri" aria-hidden="true"></span><span class="sg-name"></span>';
    b.lastChild.textContent = clip.name;
    b.setAttribute('aria-label', `Launch ${clip.name} on ${t.name} (${s.name})`);
    b.title = `${clip.name}: click to launch, double-click to edit`;
    b.addEventListener('click', () => {
      this.pickTrack(t.id);
      this.launch(clip.id, t.id);
    });
    b.addEventListener('dblclick', () => this.open(clip.id));
    const e = document.createElement('button');
    e.type = 'button';
    e.className = 'sg-edit';
    e.dataset.k = `edit:${clip.id}`;
    e.textContent = '✎';
    e.setAttribute('aria-label', `Edit ${clip.name} in the piano roll`);
    e.title = 'Edit in the piano roll';
    e.hidden = t.kind !== KIND.instrument;
    e.addEventListener('click', () => this.open(clip.id));
    cell.append(b, e);
    return cell;
  }

  emptyCell(t, s, i) {
    const cell = document.createElement('div');
    cell.className = 'sg-cell sg-empty';
    cell.tabIndex = 0;
    cell.dataset.k = `empty:${t.id}:${s.id}`;
    cell.setAttribute(
      'aria-label',
      `Empty slot of ${t.name} in ${s.name}` +
        (t.kind === KIND.instrument ? ': double-click or Enter makes a clip' : ''),
    );
    cell.title = t.kind === KIND.instrument ? 'Double-click: a new 1-bar MIDI clip here' : 'Empty slot';
    cell.addEventListener('click', () => this.pickTrack(t.id));
    cell.addEventListener('dblclick', () => this.createClip(t, s, i));
    cell.addEventListener('keydown', (ev) => {
      if (ev.key !== 'Enter') return;
      ev.preventDefault();
      this.createClip(t, s, i);
    });
    return cell;
  }

  sceneCell(s, i) {
    const cell = document.createElement('div');
    cell.className = 'sg-scene';
    cell.setAttribute('role', 'rowheader');
    const go = document.createElement('button');
    go.type = 'button';
    go.className = 'sg-scenego';
    go.dataset.k = `scene:${s.id}`;
    go.innerHTML = '<span class="sg-tri" aria-hidden="true"></span>';
    go.setAttribute('aria-label', `Launch scene ${s.name}`);
    go.title = `Launch every clip of ${s.name}`;
    go.addEventListener('click', () => this.launchScene(i));
    const name = document.createElement('input');
    name.className = 'sg-scenename';
    name.dataset.k = `scenename:${s.id}`;
    name.maxLength = 64;
    name.autocomplete = 'off';
    name.spellcheck = false;
    name.value = s.name;
    name.setAttribute('aria-label', `Name of scene ${s.name}`);
    name.addEventListener('change', () => {
      const v = name.value.trim();
      if (v && v !== s.name) this.edit(() => this.model.set(s.id, 'name', v));
      else name.value = s.name;
    });
    name.addEventListener('keydown', (ev) => {
      if (ev.key === 'Enter') name.blur();
      if (ev.key === 'Escape') {
        name.value = s.name;
        name.blur();
      }
    });
    const q = document.createElement('select');
    q.className = 'sg-quant';
    q.dataset.k = `quant:${s.id}`;
    q.setAttribute('aria-label', `Launch quantization of ${s.name}`);
    q.title = 'Launches of this scene start on the next …';
    QUANTS.forEach((label, v) => q.append(new Option(label, String(v), false, v === s.quant)));
    q.addEventListener('change', () => this.edit(() => this.model.set(s.id, 'quant', Number(q.value))));
    const del = document.createElement('button');
    del.type = 'button';
    del.className = 'sg-scenedel';
    del.dataset.k = `scenedel:${s.id}`;
    del.textContent = '✕';
    del.setAttribute('aria-label', `Delete scene ${s.name} and its clips`);
    del.title = 'Delete the scene (and the clips in its slots)';
    del.addEventListener('click', () => this.edit(() => this.model.remove(s.id)));
    cell.append(go, name, q, del);
    return cell;
  }

  // ---- Playing state (METERS) --------------------------------------------------------
  // LIST: the meters' entries ({id, slot, queued}); PLAYING: the transport.
  state(list, playing) {
    let moved = playing !== this.playing;
    this.playing = playing;
    for (const e of list) {
      const was = this.play.get(e.id);
      if (!was || was.slot !== e.slot || was.queued !== e.queued) {
        this.play.set(e.id, { slot: e.slot, queued: e.queued });
        moved = true;
      }
    }
    if (moved && this.visible) this.paint();
  }

  // What track ID plays: {slot, queued} (slot -1: nothing; queued -1: nothing, -2: a stop).
  stateOf(id) {
    const s = this.play.get(id);
    return s && this.playing ? s : { slot: -1, queued: -1 };
  }

  paint() {
    for (const t of this.tracks) {
      const { slot, queued } = this.stateOf(t.id);
      this.scenes.forEach((s, i) => {
        const cell = this.cells.get(`${t.id}:${i}`);
        if (!cell) return;
        cell.classList.toggle('playing', slot === i);
        cell.classList.toggle('queued', queued === i);
        const b = cell.querySelector('.sg-launch');
        if (b) b.setAttribute('aria-pressed', String(slot === i));
      });
      const stop = this.stops.get(t.id);
      if (stop) {
        stop.classList.toggle('queued', queued === -2);
        stop.classList.toggle('active', slot >= 0);
      }
    }
    if (this.info) {
      const n = this.tracks.filter((t) => this.stateOf(t.id).slot >= 0).length;
      const q = this.tracks.filter((t) => this.stateOf(t.id).queued !== -1).length;
      this.info.textContent =
        `${this.scenes.length} scene${this.scenes.length === 1 ? '' : 's'}` +
        (n ? ` · ${n} playing` : '') +
        (q ? ` · ${q} queued` : '') +
        (this.playing ? '' : ' · press play to launch');
    }
  }

  // ---- Gestures ----------------------------------------------------------------------
  pickTrack(id) {
    this.select?.(id);
  }

  // Selection from elsewhere (the mixer, the arrangement): the column header shows it.
  setSelected(id) {
    if (id === this.selectedTrack) return;
    this.selectedTrack = id;
    for (const h of this.root.querySelectorAll('.sg-track'))
      h.classList.toggle('selected', h.dataset.k === `head:${id}`);
  }

  // One LAUNCH naming the scene: the server launches its clips, stops the
  // tracks with none in it and takes the scene's tempo, all on one boundary.
  launchScene(i) {
    const s = this.scenes[i];
    if (s) this.launch(s.id, null);
  }

  stopAll() {
    for (const t of this.tracks) if (t.kind === KIND.instrument || t.kind === KIND.audio) this.launch(null, t.id);
  }

  addScene() {
    const n = this.model.children('project', 'scene').length;
    return transact(this.model, this.edit, (t) => t.create('scene', 'project', { name: `Scene ${n + 1}` }));
  }

  // A one-bar MIDI clip in the slot of track T in scene S (row I), one
  // transaction; then the piano roll opens on it.
  createClip(t, s, i) {
    if (t.kind !== KIND.instrument) {
      this.onMessage?.('Audio clips come from samples: only instrument tracks get new clips here');
      return null;
    }
    const bar = meterOf(this.model).bar;
    const id = transact(this.model, this.edit, (x) =>
      x.create('clip', t.id, { name: `${t.name} ${i + 1}`, start: 0, length: bar, scene: s.id }),
    );
    if (id) this.open(id);
    return id;
  }
}
