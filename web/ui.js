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
