// ui.js: small helpers shared by the list and the studio.

export const $ = (id) => document.getElementById(id);

// A message for the user that goes away by itself; KIND 'error' or 'info'.
export function toast(text, kind = 'error') {
  const el = document.createElement('div');
  el.className = `toast ${kind}`;
  el.setAttribute('role', kind === 'error' ? 'alert' : 'status');
  el.textContent = text;
  $('toasts').append(el);
  setTimeout(() => el.classList.add('out'), 6000);
  setTimeout(() => el.remove(), 6400);
}
