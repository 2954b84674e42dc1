// timeline.js: musical time and drawing helpers shared by the arrangement
// (arrange.js) and the piano roll (pianoroll.js).
//
// Positions are model ticks, 960 per quarter note (MDL_PPQ in
// shared/mdl_project.h). meterOf() reads the song's own (first) tempo and
// time signature; the arrangement's ruler, grid and playhead follow the whole
// tempo and meter map through tempo.js (the wasm model's mdl_time).

export const PPQ = 960; // must match MDL_PPQ (shared/mdl_project.h)

// Scale steps by key_scale (MDL_SCALE_* in shared/mdl_project.h, same order).
export const SCALES = [
  ['Major', [0, 2, 4, 5, 7, 9, 11]],
  ['Minor', [0, 2, 3, 5, 7, 8, 10]],
  ['Dorian', [0, 2, 3, 5, 7, 9, 10]],
  ['Phrygian', [0, 1, 3, 5, 7, 8, 10]],
  ['Lydian', [0, 2, 4, 6, 7, 9, 11]],
  ['Mixolydian', [0, 2, 4, 5, 7, 9, 10]],
  ['Locrian', [0, 1, 3, 5, 6, 8, 10]],
  ['Chromatic', [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]],
];
export const NOTE_NAMES = ['C', 'C♯', 'D', 'D♯', 'E', 'F', 'F♯', 'G', 'G♯', 'A', 'A♯', 'B'];
export const noteName = (p) => `${NOTE_NAMES[p % 12]}${Math.floor(p / 12) - 1}`;
export const isBlackKey = (p) => [1, 3, 6, 8, 10].includes(p % 12);

export const hex = (c) => `#${(c >>> 0).toString(16).padStart(6, '0')}`;

// The colour C (0xRRGGBB) mixed toward white (F > 0) or black (F < 0).
export function shade(c, f) {
  const ch = [(c >> 16) & 255, (c >> 8) & 255, c & 255].map((v) =>
    Math.round(f >= 0 ? v + (255 - v) * f : v * (1 + f)),
  );
  return `rgb(${ch[0]},${ch[1]},${ch[2]})`;
}

// The project's meter, read from the model: ticks per beat and per bar.
export function meterOf(model) {
  const num = model.get('project', 'ts_num') || 4;
  const den = model.get('project', 'ts_den') || 4;
  const beat = Math.round((PPQ * 4) / den);
  return { num, den, beat, bar: beat * num, tempo: model.get('project', 'tempo') || 120 };
}

// "bar.beat" (1-based) or "bar.beat.sixteenth" with SIXTEENTHS.
export function fmtBarBeat(ticks, m, sixteenths = false) {
  const t = Math.max(0, Math.round(ticks));
  const bar = Math.floor(t / m.bar) + 1;
  const beat = Math.floor((t % m.bar) / m.beat) + 1;
  if (!sixteenths) return `${bar}.${beat}`;
  return `${bar}.${beat}.${Math.floor((t % m.beat) / (PPQ / 4)) + 1}`;
}

// A length in ticks as "bars.beats" ("2 bars", "3 beats", "1 bar 2 beats").
export function fmtLength(ticks, m) {
  const bars = Math.floor(ticks / m.bar);
  const beats = (ticks - bars * m.bar) / m.beat;
  const parts = [];
  if (bars) parts.push(`${bars} bar${bars > 1 ? 's' : ''}`);
  if (beats) parts.push(`${+beats.toFixed(2)} beat${beats !== 1 ? 's' : ''}`);
  return parts.join(' ') || '0';
}

export const snapTo = (t, grid) => Math.round(t / grid) * grid;

// Sizes CANVAS's backing store to its CSS box at the device pixel ratio;
// returns the 2D context scaled so that drawing is in CSS pixels.
export function fitCanvas(canvas) {
  const dpr = window.devicePixelRatio || 1;
  const w = Math.max(1, Math.round(canvas.clientWidth * dpr));
  const h = Math.max(1, Math.round(canvas.clientHeight * dpr));
  if (canvas.width !== w || canvas.height !== h) {
    canvas.width = w;
    canvas.height = h;
  }
  const g = canvas.getContext('2d');
  g.setTransform(dpr, 0, 0, dpr, 0, 0);
  return { g, w: canvas.clientWidth, h: canvas.clientHeight };
}

// A rectangle with rounded corners of radius R, as a path.
export function roundRect(g, x, y, w, h, r) {
  r = Math.max(0, Math.min(r, w / 2, h / 2));
  g.beginPath();
  g.moveTo(x + r, y);
  g.arcTo(x + w, y, x + w, y + h, r);
  g.arcTo(x + w, y + h, x, y + h, r);
  g.arcTo(x, y + h, x, y, r);
  g.arcTo(x, y, x + w, y, r);
  g.closePath();
}

// Runs one edit as one transaction (one undo step): FN(t) stages ops on t
// (model.edit()); the commit's SUBMIT goes through SEND (studio.js's edit(),
// which shows a refusal as a toast and returns false). Returns what FN
// returned, or null when the model refused. Callers check that there is
// something to do first: FN must stage at least one op.
export function transact(model, send, fn) {
  let result = null;
  const ok = send(() => {
    const t = model.edit();
    result = fn(t);
    return t.commit();
  });
  return ok ? result : null;
}
