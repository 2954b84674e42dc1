// model.mjs: Yjs and Automerge holding the shape bench_model_native builds
// (tracks of clips of notes, each note {pitch, start, length, velocity}),
// measured as JS heap growth after a full GC, per note and per clip; then
// the ratios to ours. The peers get a tenth of the notes (100,000): a
// million Y.Maps do not fit a sensible heap. Per-object figures do not
// depend on the count much; the count is printed.
import fs from 'node:fs';
import * as Y from 'yjs';
import * as A from '@automerge/automerge';

const args = process.argv.slice(2);
const oursFile = args[args.indexOf('--ours') + 1];
const ours = Object.fromEntries(
  fs
    .readFileSync(oursFile, 'utf8')
    .split('\n')
    .filter((l) => l.startsWith('bench: '))
    .map((l) => l.split(' ').slice(1, 3))
    .map(([k, v]) => [k, Number(v)]),
);

const TRACKS = 10,
  CLIPS = 100,
  NOTES = 100;
const heap = () => {
  global.gc();
  global.gc();
  return process.memoryUsage().heapUsed;
};

function yjs() {
  const h0 = heap();
  const doc = new Y.Doc();
  const tracks = doc.getArray('tracks');
  const clips = [];
  doc.transact(() => {
    for (let t = 0; t < TRACKS; t++) {
      const tr = new Y.Map();
      const cl = new Y.Array();
      tr.set('clips', cl);
      tracks.push([tr]);
      for (let c = 0; c < CLIPS; c++) {
        const clip = new Y.Map();
        clip.set('start', c * 3840);
        clip.set('notes', new Y.Array());
        cl.push([clip]);
        clips.push(clip);
      }
    }
  });
  const h1 = heap();
  for (const clip of clips)
    doc.transact(() => {
      const notes = clip.get('notes');
      for (let n = 0; n < NOTES; n++) {
        const note = new Y.Map();
        note.set('pitch', 36 + (n % 48));
        note.set('start', n * 38);
        note.set('length', 120);
        note.set('velocity', 64 + (n % 64));
        notes.push([note]);
      }
    });
  const h2 = heap();
  const keep = doc; // keep it alive through the measurement
  return { perClip: (h1 - h0) / (TRACKS * CLIPS), perNote: (h2 - h1) / (TRACKS * CLIPS * NOTES), keep };
}

function automerge() {
  const h0 = heap();
  let doc = A.from({ tracks: [] });
  doc = A.change(doc, (d) => {
    for (let t = 0; t < TRACKS; t++) {
      const clips = [];
      for (let c = 0; c < CLIPS; c++) clips.push({ start: c * 3840, notes: [] });
      d.tracks.push({ clips });
    }
  });
  const h1 = heap();
  for (let t = 0; t < TRACKS; t++)
    doc = A.change(doc, (d) => {
      for (let c = 0; c < CLIPS; c++)
        for (let n = 0; n < NOTES; n++)
          d.tracks[t].clips[c].notes.push({
            pitch: 36 + (n % 48),
            start: n * 38,
            length: 120,
            velocity: 64 + (n % 64),
          });
    });
  const h2 = heap();
  // Automerge keeps its document in wasm memory: count that too.
  const keep = doc;
  return { perClip: (h1 - h0) / (TRACKS * CLIPS), perNote: (h2 - h1) / (TRACKS * CLIPS * NOTES), keep };
}

const y = yjs();
const am = automerge();
const f = (x) => x.toFixed(1).padStart(9);
console.log(
  `\nmodel memory (peers: ${TRACKS * CLIPS * NOTES} notes, JS heap growth after GC; Automerge's wasm heap is not counted)`,
);
console.log(`  bytes per   ${'ours'.padStart(9)} ${'yjs'.padStart(9)} ${'automerge'.padStart(9)}   ours/yjs  ours/am`);
console.log(
  `  note        ${f(ours.model_bytes_per_note)} ${f(y.perNote)} ${f(am.perNote)}   ${(ours.model_bytes_per_note / y.perNote).toFixed(3).padStart(8)} ${(ours.model_bytes_per_note / am.perNote).toFixed(3).padStart(8)}`,
);
console.log(
  `  clip        ${f(ours.model_bytes_per_clip)} ${f(y.perClip)} ${f(am.perClip)}   ${(ours.model_bytes_per_clip / y.perClip).toFixed(3).padStart(8)} ${(ours.model_bytes_per_clip / am.perClip).toFixed(3).padStart(8)}`,
);
console.log(`bench: model_yjs_bytes_per_note ${y.perNote.toFixed(1)} B`);
console.log(`bench: model_note_vs_yjs ${(ours.model_bytes_per_note / y.perNote).toFixed(3)} x`);
console.log(`bench: model_clip_vs_yjs ${(ours.model_bytes_per_clip / y.perClip).toFixed(3)} x`);
