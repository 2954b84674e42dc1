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
