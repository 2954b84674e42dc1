// ui.js: small helpers shared by the list and the studio.

export const $ = (id) => document.getElementById(id);

// A message for the user that goes away by itself; KIND 'error' or 'info'.
// The same text again within a second and a half shows once (a double
// click that the server refuses twice, say).
const shown = new Map(); // text -> when it was last shown
export function toast(text, kind = 'error') {
  const now = Date.now();
  if (now - (shown.get(text) || 0) < 1500) return;
  shown.set(text, now);
  for (const [t, at] of shown) if (now - at > 1500) shown.delete(t);
  const el = document.createElement('div');
  el.className = `toast ${kind}`;
  el.setAttribute('role', kind === 'error' ? 'alert' : 'status');
  el.textContent = text;
  $('toasts').append(el);
  setTimeout(() => el.classList.add('out'), 6000);
  setTimeout(() => el.remove(), 6400);
}

// A JSON call to the server: the answer, or an Error whose message is the
// server's reason (its JSON body in err.body), or that it cannot be reached.
export async function callJSON(path, opts = {}) {
  let res;
  try {
    res = await fetch(path, opts);
  } catch {
    throw new Error('the server cannot be reached');
  }
  const json = await res.json().catch(() => ({}));
  if (!res.ok) {
    const err = new Error(json.reason || `${res.status} ${res.statusText}`);
    err.body = json;
    throw err;
  }
  return json;
}
export const postJSON = (path, body) =>
  callJSON(path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

// A modal dialog that asks for a name: ID ("preset": #preset-dialog,
// #preset-name, #preset-save), TITLE, TEXT under it, LABEL of the field,
// MAX length, VALUE to start from, SAVE on the button, WHAT it names (for
// "Not saved: the WHAT needs a name"). ONNAME(name) runs once it is closed.
export function askName({ id, title, text, label, max, value = '', save, what, onName }) {
  const dialog = document.createElement('dialog');
  dialog.className = 'form-dialog';
  dialog.id = `${id}-dialog`;
  dialog.setAttribute('aria-labelledby', `${id}-title`);
  dialog.innerHTML = `
    <h2 id="${id}-title"></h2>
    <p class="muted"></p>
    <form method="dialog" novalidate>
      <label for="${id}-name"></label>
      <input id="${id}-name" maxlength="${max}" autocomplete="off">
      <div class="dialog-buttons">
        <button type="button" class="cancel">Cancel</button>
        <button type="submit" class="primary" id="${id}-save"></button>
      </div>
    </form>`;
  dialog.querySelector('h2').textContent = title;
  dialog.querySelector('p').textContent = text;
  dialog.querySelector('label').textContent = label;
  dialog.querySelector('.primary').textContent = save;
  document.body.append(dialog);
  const input = dialog.querySelector('input');
  input.value = value;
  dialog.addEventListener('close', () => dialog.remove());
  dialog.querySelector('.cancel').addEventListener('click', () => dialog.close());
  dialog.querySelector('form').addEventListener('submit', (ev) => {
    ev.preventDefault();
    const name = input.value.trim();
    if (!name) return toast(`Not saved: the ${what} needs a name`);
    dialog.close();
    onName(name);
  });
  dialog.showModal();
  input.select();
}

// Writes to the page only what differs. Writing the same text, attribute,
// style or value again is not free: it invalidates style and layout (and a
// value set by script wakes the browser's form tracking), which the next
// frame then pays for; the studio re-renders on every model change.
export function setText(el, text) {
  if (el.textContent !== text) el.textContent = text;
}
export function setAttr(el, name, value) {
  if (el.getAttribute(name) !== value) el.setAttribute(name, value);
}
export function setValue(el, value) {
  if (el.value !== value) el.value = value;
}
export function setStyle(el, prop, value) {
  if (el.style.getPropertyValue(prop) !== value) el.style.setProperty(prop, value);
}

// Runs FN once the next frame has been painted (a task posted from a
// requestAnimationFrame callback runs after that frame's rendering), for
// work that must not hold up the frame showing a change. A page whose
// frames have stopped (hidden) runs it after 100 ms at the latest.
export function afterPaint(fn) {
  let done = false;
  const run = () => {
    if (done) return;
    done = true;
    clearTimeout(timer);
    fn();
  };
  const timer = setTimeout(run, 100);
  requestAnimationFrame(() => setTimeout(run, 0));
}

// A knob's vertical drag (the device rack's knobs, the mixer's sends):
// pointer down on EL calls start(), which returns where the knob is (0..1);
// every move by 2 px or more calls move(n) with the new position (DRAG_PX
// of travel for the whole range, a tenth of that with Shift), which may
// return false to end the drag there; letting go calls end(moved).
export function knobDrag(el, dragPx, { start, move, end }) {
  let drag = null;
  el.addEventListener('pointerdown', (ev) => {
    if (ev.button !== 0) return;
    ev.preventDefault();
    el.focus();
    el.setPointerCapture(ev.pointerId);
    drag = { y0: ev.clientY, n0: start(), moved: false };
  });
  el.addEventListener('pointermove', (ev) => {
    if (!drag) return;
    const dy = drag.y0 - ev.clientY;
    if (!drag.moved && Math.abs(dy) < 2) return;
    drag.moved = true;
    if (move(drag.n0 + (dy / dragPx) * (ev.shiftKey ? 0.1 : 1)) === false) drag = null;
  });
  const stop = () => {
    if (!drag) return;
    const { moved } = drag;
    drag = null;
    end(moved);
  };
  for (const type of ['pointerup', 'pointercancel', 'lostpointercapture']) el.addEventListener(type, stop);
}

// ---- The device rack's divider -------------------------------------------------------
// The divider between the upper area of the studio (the arrangement or
// session view, the mixer or the piano roll, the master) and the device
// rack below it, which spans the whole width. It is the rack's top edge: a
// separator (ARIA role "separator", focusable) whose value is the rack's
// height in CSS pixels. Drag it with a pointer, or focus it and use
// ArrowUp/ArrowDown (16 px), PageUp/PageDown (64 px), Home (smallest) and
// End (largest). The height is remembered in localStorage
// ('backline.rackHeight') and kept within what the window allows: the
// upper area keeps at least UPPER_MIN px. Nothing here touches the model.

const KEY = 'backline.rackHeight';
const RACK_MIN = 120; // px: the rack's head and one row of knobs
const UPPER_MIN = 340; // px the upper area keeps (arrangement head + lanes, mixer head + rows)
const STEP = 16;
const PAGE = 64;

// The height the rack starts at: what leaves the upper area 520 px (at
// 1280x800: the arrangement's head, ruler, tempo and signature lanes and
// three tracks' lanes, the mixer's head and three tracks; the rack then
// shows a synth's first row of knobs, the rest scrolling inside the card),
// and no more than a synth's three rows need.
function defaultHeight(studioH) {
  return Math.round(Math.min(330, Math.max(RACK_MIN, studioH - 520)));
}

export class RackDivider {
  // OPTS: divider (the separator element), panel (the rack), studio (the
  // grid both live in), onResize() (after the height changed).
  constructor(opts) {
    Object.assign(this, opts);
    let saved = NaN;
    try {
      saved = Number(localStorage.getItem(KEY));
    } catch {
      /* private mode: the default */
    }
    this.wanted = Number.isFinite(saved) && saved > 0 ? saved : null; // the user's choice, if any
    this.height = 0;
    this.listen();
    this.fit();
    addEventListener('resize', () => this.fit());
  }

  // The largest height the window allows now (reads the layout: call it
  // on a gesture or a resize, not on every model change).
  max() {
    return Math.max(RACK_MIN, this.studio.clientHeight - UPPER_MIN);
  }

  // Applies the wanted height (or the default) within the window's limits.
  fit() {
    const max = this.max();
    const h = Math.round(Math.min(max, Math.max(RACK_MIN, this.wanted ?? defaultHeight(this.studio.clientHeight))));
    const d = this.divider;
    d.setAttribute('aria-valuemin', String(RACK_MIN));
    d.setAttribute('aria-valuemax', String(max));
    if (h === this.height) return;
    this.height = h;
    this.panel.style.setProperty('--rack-h', `${h}px`);
    d.setAttribute('aria-valuenow', String(h));
    d.setAttribute('aria-valuetext', `device rack ${h} pixels high`);
    this.onResize?.();
  }

  // Sets the height the user asked for, and remembers it.
  set(h) {
    this.wanted = Math.round(Math.min(this.max(), Math.max(RACK_MIN, h)));
    try {
      localStorage.setItem(KEY, String(this.wanted));
    } catch {
      /* not remembered */
    }
    this.fit();
  }

  listen() {
    const d = this.divider;
    let drag = null;
    d.addEventListener('pointerdown', (ev) => {
      if (ev.button !== 0) return;
      ev.preventDefault();
      d.focus();
      d.setPointerCapture(ev.pointerId);
      drag = { y0: ev.clientY, h0: this.height };
      d.classList.add('dragging');
    });
    d.addEventListener('pointermove', (ev) => {
      if (drag) this.set(drag.h0 + (drag.y0 - ev.clientY)); // up: a taller rack
    });
    const end = (ev) => {
      if (!drag) return;
      drag = null;
      d.classList.remove('dragging');
      if (d.hasPointerCapture(ev.pointerId)) d.releasePointerCapture(ev.pointerId);
    };
    d.addEventListener('pointerup', end);
    d.addEventListener('pointercancel', end);
    d.addEventListener('keydown', (ev) => {
      const by = { ArrowUp: STEP, ArrowDown: -STEP, PageUp: PAGE, PageDown: -PAGE }[ev.key];
      if (by) this.set(this.height + by);
      else if (ev.key === 'Home') this.set(RACK_MIN);
      else if (ev.key === 'End') this.set(this.max());
      else return;
      ev.preventDefault();
    });
  }
}
