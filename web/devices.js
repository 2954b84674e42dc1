// devices.js: the device chain of the selected track, in the mixer: its
// instrument and effects in signal order (the track's `device` children),
// each a card with a knob per parameter (a select for a choice parameter
// like "wave:saw|square|..."), a bypass toggle, move earlier/later (buttons,
// or drag a card by its title) and remove; "Add device" puts a new one at
// the end of the chain (an instrument at the start).
//
// Names, ranges, defaults and units come from the model (model.devices(),
// shared/mdl_device.c); parameter i is the device's property 'p' + i. A knob
// drag is like a fader drag (studio.js): LIVE values while it moves (heard
// and shown to the others, never stored), one set when it is let go, so one
// undo step. Keys on a focused knob: arrows (Shift: finer), Page Up/Down,
// Home/End; a double click goes back to the default. studio.js calls
// changed() when the model's view changes and showLive() with the others'
// LIVE values for devices.
//
// Presets (the ☰ menu on a card): "Save current as…" stores the device's
// parameters in the user library (POST /api/presets); the list comes from
// GET /api/presets/KIND. Applying one is an edit of this page's model: one
// transaction setting every parameter that differs, so it is one undo step,
// goes through the op log like a knob turn, and every page sees it.
import { hex } from './timeline.js';
import { askName, callJSON, knobDrag, postJSON, toast } from './ui.js';

const DRAG_PX = 200; // a vertical drag this long sweeps a knob's whole range
const ARC = 135; // degrees either side of the top
const NICE = { eq: 'EQ' };

export const kindLabel = (name) => NICE[name] || name.charAt(0).toUpperCase() + name.slice(1);
const words = (s) => {
  const w = s.replace(/_/g, ' ');
  return w.charAt(0).toUpperCase() + w.slice(1);
};
const fmtDb = (db) => `${db > 0.05 ? '+' : db < -0.05 ? '−' : ''}${Math.abs(db).toFixed(1)} dB`;

// A parameter as the page shows it: the model's {name, min, max, def, unit}
// plus a label, choices (for "name:a|b|c") and the knob's taper.
function describe(p, i) {
  const [name, list] = p.name.split(':');
  const d = { ...p, i, prop: `p${i}`, label: words(name), choices: list ? list.split('|') : null };
  // Frequencies and times that span decades turn logarithmically; ones from 0, with a cube.
  d.taper =
    p.min > 0 && p.max / p.min >= 50 ? 'log' : (p.unit === 'ms' || p.unit === 'Hz') && p.max >= 100 ? 'cube' : 'lin';
  d.step = p.unit === 'count' || p.unit === 'st' ? 1 : 0;
  return d;
}

function toNorm(d, v) {
  const x = Math.max(d.min, Math.min(d.max, v));
  if (d.max === d.min) return 0;
  if (d.taper === 'log') return Math.log(x / d.min) / Math.log(d.max / d.min);
  const n = (x - d.min) / (d.max - d.min);
  return d.taper === 'cube' ? Math.cbrt(n) : n;
}

function fromNorm(d, n) {
  n = Math.max(0, Math.min(1, n));
  let v;
  if (d.taper === 'log') v = d.min * (d.max / d.min) ** n;
  else v = d.min + (d.max - d.min) * (d.taper === 'cube' ? n * n * n : n);
  if (d.step) v = Math.round(v / d.step) * d.step;
  return Math.max(d.min, Math.min(d.max, v));
}

// A value with its unit, short enough for under a knob.
export function fmtParam(d, v) {
  if (d.choices) return d.choices[Math.round(v)] ?? String(v);
  const r = (x, n) => String(+x.toFixed(n));
  switch (d.unit) {
    case 'dB':
      return fmtDb(v);
    case 'linear':
      return v > 0.00001 ? fmtDb(20 * Math.log10(v)) : '−∞ dB';
    case 'Hz':
      return v >= 1000 ? `${r(v / 1000, v >= 10000 ? 1 : 2)} kHz` : `${r(v, v < 10 ? 2 : v < 100 ? 1 : 0)} Hz`;
    case 'ms':
      return v >= 1000 ? `${r(v / 1000, 2)} s` : `${r(v, v < 10 ? 2 : v < 100 ? 1 : 0)} ms`;
    case 'ratio':
      return d.min >= 1 ? `${r(v, 1)}:1` : `×${v.toFixed(2)}`;
    case '%':
      return `${Math.round(v)}%`;
    case 'st':
      return `${v > 0 ? '+' : ''}${Math.round(v)} st`;
    case 'cents':
      return `${v > 0 ? '+' : ''}${Math.round(v)} ct`;
    case 'oct':
      return `${v > 0 ? '+' : ''}${r(v, 2)} oct`;
    case 'beats':
      return `${r(v, 3)} beat${v === 1 ? '' : 's'}`;
    case 'count':
      return String(Math.round(v));
    default:
      return d.min === 0 && d.max === 1 ? `${Math.round(v * 100)}%` : r(v, 2);
  }
}

// An SVG arc path on a 40×40 knob from angle A0 to A1 (degrees, 0 = top).
function arc(a0, a1) {
  const pt = (a) => {
    const t = ((a - 90) * Math.PI) / 180;
    return `${(20 + 15 * Math.cos(t)).toFixed(2)} ${(20 + 15 * Math.sin(t)).toFixed(2)}`;
  };
  if (Math.abs(a1 - a0) < 0.01) return `M ${pt(a0)}`;
  return `M ${pt(a0)} A 15 15 0 ${Math.abs(a1 - a0) > 180 ? 1 : 0} ${a1 > a0 ? 1 : 0} ${pt(a1)}`;
}

// One knob: drag vertically, keys, double click = default. ONLIVE(v) while
// it moves, ONSET(v) once at the end of a gesture.
class Knob {
  constructor(d, title, onLive, onSet) {
    Object.assign(this, { d, onLive, onSet });
    this.busy = false;
    this.value = d.def;
    const el = (this.el = document.createElement('div'));
    el.className = 'knob';
    el.tabIndex = 0;
    el.setAttribute('role', 'slider');
    el.setAttribute('aria-label', `${title}: ${d.label}`);
    el.setAttribute('aria-valuemin', String(d.min));
    el.setAttribute('aria-valuemax', String(d.max));
    el.dataset.param = String(d.i);
    el.title = `${d.label} (${fmtParam(d, d.min)} to ${fmtParam(d, d.max)}); double-click: ${fmtParam(d, d.def)}`;
    // 0 (or the bottom of the range) is where the coloured arc starts.
    const zero = d.min < 0 && d.max > 0 ? toNorm(d, 0) : 0;
    this.a0 = -ARC + 2 * ARC * zero;
    el.innerHTML = `<svg viewBox="0 0 40 40" aria-hidden="true">
      <path class="k-bg" d="${arc(-ARC, ARC)}"/><path class="k-val"/><line class="k-ptr" x1="20" y1="20" x2="20" y2="8"/>
      </svg><span class="k-label"></span><output class="k-out"></output>`;
    el.querySelector('.k-label').textContent = d.label;
    this.path = el.querySelector('.k-val');
    this.ptr = el.querySelector('.k-ptr');
    this.out = el.querySelector('.k-out');
    this.listen();
  }

  // Shows V (a stored value, or a live one from someone else) unless this knob is being dragged.
  show(v, force = false) {
    if (this.busy && !force) return;
    if (v === this.shown) return; // every model change calls this: write only what moved
    this.shown = v;
    this.value = v;
    const a = -ARC + 2 * ARC * toNorm(this.d, v);
    this.path.setAttribute('d', arc(Math.min(this.a0, a), Math.max(this.a0, a)));
    this.ptr.setAttribute('transform', `rotate(${a.toFixed(1)} 20 20)`);
    const text = fmtParam(this.d, v);
    this.out.textContent = text;
    this.el.setAttribute('aria-valuenow', String(+v.toFixed(4)));
    this.el.setAttribute('aria-valuetext', text);
  }

  listen() {
    const el = this.el;
    let from = null; // the value when the drag began
    knobDrag(el, DRAG_PX, {
      start: () => {
        this.busy = true;
        from = this.value;
        return toNorm(this.d, this.value);
      },
      move: (n) => {
        const v = fromNorm(this.d, n);
        if (v === this.value) return;
        this.show(v, true);
        this.onLive(v);
      },
      end: (moved) => {
        this.busy = false;
        if (moved && this.value !== from) this.onSet(this.value);
      },
    });
    el.addEventListener('dblclick', () => {
      if (this.value !== this.d.def) this.onSet(this.d.def);
    });
    el.addEventListener('keydown', (ev) => {
      const d = this.d;
      const n = toNorm(d, this.value);
      const small = d.step ? null : ev.shiftKey ? 0.002 : 0.01;
      const by = (k) =>
        d.step ? Math.max(d.min, Math.min(d.max, this.value + k * d.step)) : fromNorm(d, n + k * small);
      const moves = {
        ArrowUp: () => by(1),
        ArrowRight: () => by(1),
        ArrowDown: () => by(-1),
        ArrowLeft: () => by(-1),
        PageUp: () => fromNorm(d, n + 0.1),
        PageDown: () => fromNorm(d, n - 0.1),
        Home: () => d.min,
        End: () => d.max,
      };
      if (!moves[ev.key]) return;
      ev.preventDefault();
      const v = moves[ev.key]();
      if (v !== this.value) this.onSet(v);
    });
  }
}

export class DeviceChain {
  // OPTS: root (the chain element), title (an element for the track's name),
  // add (the "Add device" select), model, edit (studio.js's edit),
  // live(id, prop, value) (sends a LIVE value, throttled per control).
  constructor(opts) {
    Object.assign(this, opts);
    this.track = null;
    this.key = '';
    this.cards = new Map(); // device id -> {el, knobs: Map(param index -> Knob), selects, bypass}
    this.kinds = null;
    this.dragging = null;
    this.add.addEventListener('change', () => {
      const kind = Number(this.add.value);
      this.add.value = '';
      if (kind) this.addDevice(kind);
    });
  }

  kindsList() {
    if (!this.kinds) {
      this.kinds = this.model
        .devices()
        .map((k) => ({ ...k, label: kindLabel(k.name), params: k.params.map(describe) }));
      const opt = (k) => new Option(k.label, String(k.kind));
      const group = (label, list) => {
        const g = document.createElement('optgroup');
        g.label = label;
        g.append(...list.map(opt));
        return g;
      };
      this.add.replaceChildren(
        new Option('+ Add device…', ''),
        group(
          'Instruments',
          this.kinds.filter((k) => k.instrument),
        ),
        group(
          'Effects',
          this.kinds.filter((k) => !k.instrument),
        ),
      );
    }
    return this.kinds;
  }
  kindOf(kind) {
    return this.kindsList().find((k) => k.kind === kind);
  }

  // The track whose chain is shown (null: none).
  show(track) {
    if (track === this.track) return;
    this.track = track;
    this.changed();
  }

  devicesOf(track) {
    return this.model.children(track, 'device');
  }

  changed() {
    const m = this.model;
    this.kindsList();
    if (this.track && m.typeOf(this.track) !== 'track') this.track = null;
    const t = this.track;
    const title = t ? m.get(t, 'name') : '';
    if (this.title.textContent !== title) this.title.textContent = title; // unchanged: no relayout
    this.add.disabled = !t;
    const panel = this.root.closest('.devices-panel');
    const c = t ? hex(m.get(t, 'colour')) : '';
    if (panel && panel.style.getPropertyValue('--c') !== c) panel.style.setProperty('--c', c);
    const ids = t ? this.devicesOf(t) : [];
    const key = JSON.stringify([t, ids.map((id) => [id, m.get(id, 'kind'), m.get(id, 'name')])]);
    if (key !== this.key) {
      this.key = key;
      this.build(ids);
    }
    ids.forEach((id, i) => this.update(id, i, ids.length));
  }

  build(ids) {
    const focus = document.activeElement?.closest?.('[data-k]')?.dataset.k;
    this.root.replaceChildren();
    this.cards.clear();
    // With no cards the panel takes only a line (the track list keeps the
    // room). The studio is told by a class, not by a :has() rule, which
    // would restyle it after every text that changes anywhere inside it.
    this.root.closest('.devices-panel')?.classList.toggle('no-devices', !ids.length);
    this.root.closest('.studio')?.classList.toggle('no-rack', !ids.length);
    if (!this.track) {
      this.root.append(this.note('Select a track to see its devices.'));
      return;
    }
    if (!ids.length) this.root.append(this.note('No devices on this track yet: add one with “Add device”.'));
    for (const id of ids) {
      const card = this.card(id);
      this.cards.set(id, card);
      this.root.append(card.el);
    }
    if (focus) this.root.querySelector(`[data-k="${CSS.escape(focus)}"]`)?.focus();
  }

  note(text) {
    const p = document.createElement('p');
    p.className = 'empty';
    p.textContent = text;
    return p;
  }

  card(id) {
    const m = this.model;
    const kind = this.kindOf(m.get(id, 'kind'));
    const name = m.get(id, 'name') || (kind ? kind.label : 'Device');
    const el = document.createElement('section');
    el.className = 'device';
    el.dataset.id = id;
    el.setAttribute('aria-label', `Device ${name}`);
    el.innerHTML = `<header class="dev-head" draggable="true" title="Drag to reorder">
        <button class="dev-bypass" type="button" aria-pressed="false"><svg viewBox="0 0 16 16" aria-hidden="true"><path d="M8 2v6M4.5 4.2a5 5 0 1 0 7 0"/></svg></button>
        <span class="dev-name"></span><span class="dev-kind muted"></span>
        <button class="dev-presets" type="button" aria-haspopup="menu" aria-expanded="false"><span aria-hidden="true">☰</span></button>
        <button class="dev-left" type="button"><span aria-hidden="true">◀</span></button>
        <button class="dev-right" type="button"><span aria-hidden="true">▶</span></button>
        <button class="dev-del" type="button"><span aria-hidden="true">✕</span></button>
      </header><div class="dev-params"></div>`;
    const q = (s) => el.querySelector(s);
    q('.dev-name').textContent = name;
    q('.dev-kind').textContent = kind && kind.label !== name ? kind.label : '';
    const card = {
      el,
      knobs: new Map(),
      selects: new Map(),
      bypass: q('.dev-bypass'),
      left: q('.dev-left'),
      right: q('.dev-right'),
    };
    const label = (b, text, k) => {
      b.setAttribute('aria-label', text);
      b.title = text;
      b.dataset.k = `${k}:${id}`;
    };
    label(card.bypass, `Bypass ${name}`, 'bypass');
    label(card.left, `Move ${name} earlier in the chain`, 'left');
    label(card.right, `Move ${name} later in the chain`, 'right');
    label(q('.dev-del'), `Remove ${name}`, 'del');
    label(q('.dev-presets'), `Presets of ${name}`, 'presets');
    q('.dev-presets').addEventListener('click', () => this.presetMenu(id, q('.dev-presets')));
    card.bypass.addEventListener('click', () => this.edit(() => m.set(id, 'bypass', !m.get(id, 'bypass'))));
    card.left.addEventListener('click', () => this.step(id, -1));
    card.right.addEventListener('click', () => this.step(id, 1));
    q('.dev-del').addEventListener('click', () => this.edit(() => m.remove(id)));
    this.dragTo(el, id);

    const params = q('.dev-params');
    const list = kind ? kind.params : [];
    params.style.setProperty('--cols', String(list.length <= 4 ? Math.max(list.length, 2) : list.length <= 12 ? 4 : 7));
    for (const d of list) {
      if (d.choices) {
        const wrap = document.createElement('label');
        wrap.className = 'dev-choice';
        wrap.innerHTML = '<span class="k-label"></span><select></select>';
        wrap.firstChild.textContent = d.label;
        const sel = wrap.lastChild;
        sel.dataset.k = `${d.prop}:${id}`;
        sel.dataset.param = String(d.i);
        sel.setAttribute('aria-label', `${name}: ${d.label}`);
        d.choices.forEach((c, v) => sel.append(new Option(c, String(v))));
        sel.addEventListener('change', () => this.edit(() => m.set(id, d.prop, Number(sel.value))));
        card.selects.set(d.i, sel);
        params.append(wrap);
        continue;
      }
      const knob = new Knob(
        d,
        name,
        (v) => this.live(id, d.prop, v),
        (v) => this.edit(() => m.set(id, d.prop, v)),
      );
      knob.el.dataset.k = `${d.prop}:${id}`;
      card.knobs.set(d.i, knob);
      params.append(knob.el);
    }
    return card;
  }

  // Shows device ID's stored values (the I-th of N on its track).
  update(id, i, n) {
    const card = this.cards.get(id);
    if (!card) return;
    const m = this.model;
    const bypass = m.get(id, 'bypass');
    if (card.bypass.getAttribute('aria-pressed') !== String(bypass))
      card.bypass.setAttribute('aria-pressed', String(bypass));
    card.el.classList.toggle('bypassed', bypass);
    card.left.disabled = i === 0;
    card.right.disabled = i === n - 1;
    for (const [p, knob] of card.knobs) knob.show(m.get(id, `p${p}`));
    for (const [p, sel] of card.selects)
      if (document.activeElement !== sel) sel.value = String(Math.round(m.get(id, `p${p}`)));
  }

  // Someone else moves a knob (a LIVE value): show it; the model keeps the stored value.
  showLive(l, propNumber) {
    const card = this.cards.get(l.id);
    if (!card) return;
    const knob = card.knobs.get(l.prop - propNumber('p0'));
    if (knob) knob.show(l.value);
  }

  // ---- Edits ------------------------------------------------------------------------
  addDevice(kind) {
    const k = this.kindOf(kind);
    const track = this.track;
    if (!k || !track) return null;
    let made = null;
    this.edit(() => {
      const t = this.model.edit();
      made = t.create('device', track, { kind, name: k.label });
      if (k.instrument) t.move(made, null, null); // the instrument comes first in the chain
      return t.commit();
    });
    return made;
  }

  // Moves device ID one place earlier (DIR -1) or later (+1).
  step(id, dir) {
    const ids = this.devicesOf(this.track);
    const i = ids.indexOf(id);
    const j = i + dir;
    if (i < 0 || j < 0 || j >= ids.length) return;
    const after = dir < 0 ? (j > 0 ? ids[j - 1] : null) : ids[j];
    this.edit(() => this.model.moveAfter(id, after));
  }

  // Dragging a card by its title onto another puts it before or after that one.
  dragTo(el, id) {
    const head = el.querySelector('.dev-head');
    head.addEventListener('dragstart', (ev) => {
      this.dragging = id;
      ev.dataTransfer.effectAllowed = 'move';
      ev.dataTransfer.setData('text/plain', id);
      el.classList.add('dragging');
    });
    head.addEventListener('dragend', () => {
      this.dragging = null;
      el.classList.remove('dragging');
      for (const c of this.root.querySelectorAll('.drop-before, .drop-after'))
        c.classList.remove('drop-before', 'drop-after');
    });
    const side = (ev) => {
      const r = el.getBoundingClientRect();
      return ev.clientX < r.left + r.width / 2 ? 'before' : 'after';
    };
    el.addEventListener('dragover', (ev) => {
      if (!this.dragging || this.dragging === id) return;
      ev.preventDefault();
      const s = side(ev);
      el.classList.toggle('drop-before', s === 'before');
      el.classList.toggle('drop-after', s === 'after');
    });
    el.addEventListener('dragleave', () => el.classList.remove('drop-before', 'drop-after'));
    el.addEventListener('drop', (ev) => {
      const from = this.dragging;
      if (!from || from === id) return;
      ev.preventDefault();
      el.classList.remove('drop-before', 'drop-after');
      const ids = this.devicesOf(this.track).filter((x) => x !== from);
      const at = ids.indexOf(id);
      const after = side(ev) === 'after' ? id : at > 0 ? ids[at - 1] : null;
      const was = this.devicesOf(this.track);
      const before = was.indexOf(from) > 0 ? was[was.indexOf(from) - 1] : null;
      if (after !== before) this.edit(() => this.model.moveAfter(from, after));
    });
  }

  // ---- Presets ----------------------------------------------------------------------
  // The values of device ID's parameters as the page's model has them.
  paramsOf(id) {
    const k = this.kindOf(this.model.get(id, 'kind'));
    const params = {};
    for (const d of k ? k.params : []) params[d.prop] = this.model.get(id, d.prop);
    return params;
  }

  // Opens (or closes) the presets menu of device ID under BUTTON.
  async presetMenu(id, button) {
    const open = document.querySelector('.preset-menu');
    if (open) {
      const same = open.dataset.id === id;
      this.closeMenu();
      if (same) return;
    }
    const k = this.kindOf(this.model.get(id, 'kind'));
    if (!k) return;
    const name = this.model.get(id, 'name') || k.label;
    const menu = document.createElement('div');
    menu.className = 'preset-menu';
    menu.dataset.id = id;
    menu.setAttribute('role', 'menu');
    menu.setAttribute('aria-label', `Presets of ${name}`);
    const item = (text, aria, action) => {
      const b = document.createElement('button');
      b.type = 'button';
      b.setAttribute('role', 'menuitem');
      b.textContent = text;
      if (aria) b.setAttribute('aria-label', aria);
      b.addEventListener('click', () => {
        this.closeMenu();
        action();
      });
      return b;
    };
    const status = document.createElement('p');
    status.className = 'preset-note';
    status.textContent = 'Loading presets…';
    menu.append(item('Save current as…', `Save ${name}'s settings as a preset`, () => this.savePreset(id, name, k)), status);
    // Fixed to the page, under the button (above it near the bottom), so
    // that the chain's scrolling box does not cut the list off.
    const r = button.getBoundingClientRect();
    menu.style.left = `${Math.max(8, Math.min(r.right - 200, innerWidth - 208))}px`;
    if (innerHeight - r.bottom < 220) menu.style.bottom = `${innerHeight - r.top + 4}px`;
    else menu.style.top = `${r.bottom + 4}px`;
    document.body.append(menu);
    button.setAttribute('aria-expanded', 'true');
    this.menuButton = button;
    const close = (ev) => {
      if (ev.type === 'keydown' ? ev.key === 'Escape' : !menu.contains(ev.target) && ev.target !== button) this.closeMenu();
    };
    this.menuClose = close;
    document.addEventListener('pointerdown', close, true);
    document.addEventListener('keydown', close, true);
    menu.querySelector('button').focus();
    try {
      const json = await callJSON(`/api/presets/${encodeURIComponent(k.name)}`);
      if (!menu.isConnected) return;
      const list = json.presets.sort((a, b) => a.name.localeCompare(b.name));
      status.textContent = list.length ? `${k.label} presets` : `No ${k.label} presets yet`;
      for (const p of list) menu.append(item(p.name, `Apply preset ${p.name}`, () => this.applyPreset(id, p)));
    } catch (e) {
      status.textContent = 'No presets (see the message)';
      toast(`The ${k.label} presets could not be listed: ${e.message}`);
    }
  }

  closeMenu() {
    document.querySelector('.preset-menu')?.remove();
    this.menuButton?.setAttribute('aria-expanded', 'false');
    if (this.menuClose) {
      document.removeEventListener('pointerdown', this.menuClose, true);
      document.removeEventListener('keydown', this.menuClose, true);
    }
    this.menuClose = this.menuButton = null;
  }

  // Asks for a name, then stores device ID's current parameters as a preset.
  savePreset(id, name, k) {
    askName({
      id: 'preset',
      title: 'Save preset',
      text: `The settings of ${name} (${k.label}), into your library.`,
      label: 'Preset name',
      max: 100,
      save: 'Save preset',
      what: 'preset',
      onName: async (preset) => {
        const params = this.paramsOf(id); // the values now, with this page's pending edits
        try {
          const json = await postJSON('/api/presets', { name: preset, device: k.name, params });
          toast(`Saved preset "${json.name}"`, 'info');
        } catch (e) {
          toast(`The preset was not saved: ${e.message}`);
        }
      },
    });
  }

  // Applies PRESET ({name, device, params}) to the first device of its kind
  // in the shown chain (the library panel's Apply).
  applyToChain(preset) {
    const m = this.model;
    const what = kindLabel(preset.device);
    if (!this.track) return toast(`Select a track to apply "${preset.name}" to its ${what}`);
    const id = this.devicesOf(this.track).find((d) => this.kindOf(m.get(d, 'kind'))?.name === preset.device);
    if (!id) return toast(`Preset "${preset.name}" is for ${what}: the selected track has none`);
    this.applyPreset(id, preset);
  }

  // Sets device ID's parameters to PRESET's, as one edit (one undo step).
  applyPreset(id, preset) {
    const m = this.model;
    if (m.typeOf(id) !== 'device') return toast(`Preset "${preset.name}" not applied: the device is gone`);
    const k = this.kindOf(m.get(id, 'kind'));
    if (!k || k.name !== preset.device)
      return toast(`Preset "${preset.name}" is for ${kindLabel(preset.device)}, not ${k ? k.label : 'this device'}`);
    const sets = Object.entries(preset.params).filter(([prop, v]) => k.params.some((d) => d.prop === prop) && m.get(id, prop) !== v);
    if (!sets.length) return toast(`Already set as "${preset.name}"`, 'info');
    this.edit(() => {
      const t = m.edit();
      for (const [prop, v] of sets) t.set(id, prop, v);
      return t.commit();
    });
  }
}
