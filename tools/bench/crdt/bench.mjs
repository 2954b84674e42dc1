// bench.mjs: our model against Yjs and Automerge, side by side in one run.
//
//   node tools/bench/crdt/bench.mjs --native FILE --wasm build/bench/crdt.mjs
//
// Run by build/bench/bench_crdt after bench_crdt_native has written FILE.
// Every workload comes out of the bench wasm module (crdt_work.c), so the
// native program, the wasm build, Yjs and Automerge replay the same logical
// edits. Per-op rows are timed in batches of 64 ops (per-op = batch / 64;
// p50 and p99 over batches). Ratios are ours/theirs: below 1 means we take
// less time (or fewer bytes). Prints `bench: crdt_* VALUE UNIT` lines last.
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { performance } from 'node:perf_hooks';
import * as Y from 'yjs';
import * as A from '@automerge/automerge';

const args = Object.fromEntries(process.argv.slice(2).reduce((acc, a, i, all) =>
  (a.startsWith('--') ? [...acc, [a.slice(2), all[i + 1]]] : acc), []));
const BATCH = 64;
const ROWS = ['set_local', 'set_remote', 'append_local', 'append_remote', 'front_local'];
const MERGES = ['server', 'after', 'rebase', 'reconnect'];
const S_SET = 0, S_APPEND = 1, S_FRONT = 2, S_A = 3, S_B = 4;
const SET = 1, CREATE = 2, DELETE = 3, CREATE_FRONT = 4;
const P_NAME = 1, P_COLOUR = 6, P_GAIN = 7, P_PAN = 8, P_MUTE = 9, P_SOLO = 10;
const KEY = { [P_NAME]: 'name', [P_COLOUR]: 'colour', [P_GAIN]: 'gain', [P_PAN]: 'pan', [P_MUTE]: 'mute', [P_SOLO]: 'solo' };
const PEER_BATCHES = { yjs: 256, automerge: 40 }; // Automerge is slow enough that 40 x 64 ops are plenty
const lines = [];
const bench = (name, v, unit) => lines.push(`bench: crdt_${name} ${Number.isFinite(v) ? v.toFixed(v < 10 ? 3 : 1) : 'nan'} ${unit}`);

function stats(v) {
  const s = [...v].sort((a, b) => a - b);
  const at = (p) => s[Math.round(p * (s.length - 1))];
  return { p50: at(0.5), p99: at(0.99), n: s.length * BATCH };
}
const colourOf = (num) => (Math.imul(num >>> 0, 2654435761 | 0) >>> 0) & 0xffffff;
const valueOf = (prop, num) => (prop === P_NAME ? `Take ${num}` : prop === P_MUTE || prop === P_SOLO ? num !== 0 : num);

// ---- Native results (written by bench_crdt_native) --------------------------
const native = {};
for (const l of fs.readFileSync(args.native, 'utf8').split('\n')) {
  const [k, v] = l.split(' ');
  if (k) native[k] = Number(v);
}

// ---- The bench wasm module ---------------------------------------------------
const mjs = path.resolve(args.wasm);
globalThis.require = createRequire(mjs); // Emscripten 3.1.6's node path needs these
globalThis.__dirname = path.dirname(mjs);
const { default: createBench } = await import(mjs);
const m = await createBench({ wasmBinary: fs.readFileSync(mjs.replace(/\.mjs$/, '.wasm')) });
m._bench_init();

function script(w) {
  const f = (i) => m._bench_script_field(w, i);
  const n = m.HEAPU32[f(0) >> 2];
  const u32 = (i) => new Uint32Array(m.HEAPU8.buffer, f(i), n).slice();
  const s = {
    n, kind: m.HEAPU8.slice(f(1), f(1) + n), prop: m.HEAPU8.slice(f(2), f(2) + n),
    index: u32(3), hi: u32(4), lo: u32(5), num: new Float64Array(m.HEAPU8.buffer, f(6), n).slice(),
  };
  // What each peer gets, made before any timing: keys, values, names.
  s.key = Array.from(s.prop, (p) => KEY[p]);
  s.val = Array.from(s.num, (x, i) => valueOf(s.prop[i], x));
  s.amVal = s.val.map((v) => (typeof v === 'string' ? new A.ImmutableString(v) : v));
  s.name = Array.from(s.num, (x) => `Track ${x}`);
  s.colour = Array.from(s.num, (x) => colourOf(x));
  return s;
}
const scripts = [S_SET, S_APPEND, S_FRONT, S_A, S_B].map(script);

// ---- Ours in wasm --------------------------------------------------------------
function wasmLoop(row) {
  const nb = m._bench_row_batches(row), t = [];
  for (let pass = 0; pass < 2; pass++) {
    t.length = 0;
    for (let b = 0; b < nb; b++) {
      m._bench_row_setup(row, b);
      const t0 = performance.now();
      const rc = m._bench_row_run(row, b);
      t.push((performance.now() - t0) * 1e6 / BATCH);
      if (rc) throw new Error(`wasm row ${ROWS[row]} failed: ${rc}`);
    }
  }
  return stats(t);
}

// One JS->wasm call per op; strings are encoded into wasm memory inside the timing.
function wasmCalls(row) {
  const s = scripts[row === 0 ? S_SET : S_APPEND], enc = new TextEncoder(), buf = m._bench_str_buf();
  const nb = m._bench_row_batches(row), t = [];
  for (let pass = 0; pass < 2; pass++) {
    t.length = 0;
    for (let b = 0; b < nb; b++) {
      m._bench_row_setup(row, b);
      const heap = m.HEAPU8;
      let rc = 0;
      const t0 = performance.now();
      for (let i = b * BATCH; i < (b + 1) * BATCH; i++) {
        if (row === 0) {
          if (s.prop[i] === P_NAME) {
            const { written } = enc.encodeInto(s.val[i], heap.subarray(buf, buf + 256));
            rc |= m._bench_set_str(s.hi[i], s.lo[i], P_NAME, written);
          } else {
            rc |= m._bench_set(s.hi[i], s.lo[i], s.prop[i], s.num[i]);
          }
        } else {
          const { written } = enc.encodeInto(s.name[i], heap.subarray(buf, buf + 256));
          rc |= m._bench_create_str(s.hi[i], s.lo[i], written, s.colour[i]);
        }
      }
      t.push((performance.now() - t0) * 1e6 / BATCH);
      if (rc) throw new Error(`wasm per-op ${ROWS[row]} failed: ${rc}`);
    }
  }
  return stats(t);
}

// ---- Yjs ---------------------------------------------------------------------------
function yMap(name, colour) {
  const t = new Y.Map();
  t.set('name', name);
  t.set('colour', colour);
  return t;
}
function yBase() {
  const d = new Y.Doc(), arr = d.getArray('tracks');
  d.transact(() => { for (let k = 1; k <= 16; k++) arr.push([yMap(`Track ${k}`, colourOf(k))]); });
  return d;
}
function yEdit(arr, s, i) {
  switch (s.kind[i]) {
    case SET: arr.get(s.index[i]).set(s.key[i], s.val[i]); break;
    case CREATE: arr.push([yMap(s.name[i], s.colour[i])]); break;
    case CREATE_FRONT: arr.insert(0, [yMap(s.name[i], s.colour[i])]); break;
    case DELETE: arr.delete(s.index[i], 1); break;
  }
}
const yBaseUpdate = Y.encodeStateAsUpdate(yBase());

function yRow(row) {
  const s = scripts[row <= 1 ? S_SET : row === 4 ? S_FRONT : S_APPEND], remote = row === 1 || row === 3;
  const nb = PEER_BATCHES.yjs, t = [], bytes = [];
  const fresh = () => { const d = new Y.Doc(); if (row <= 1) Y.applyUpdate(d, yBaseUpdate); return d; };
  for (let pass = 0; pass < 2; pass++) {
    t.length = 0;
    let doc = fresh();
    for (let b = 0; b < nb; b++) {
      if (row >= 2) doc = fresh(); // lists of 64, as ours
      if (!remote) {
        const arr = doc.getArray('tracks');
        const t0 = performance.now();
        for (let i = b * BATCH; i < (b + 1) * BATCH; i++) yEdit(arr, s, i);
        t.push((performance.now() - t0) * 1e6 / BATCH);
        continue;
      }
      // Remote: the updates another doc emitted for the same ops, applied one by one.
      const src = new Y.Doc();
      Y.applyUpdate(src, Y.encodeStateAsUpdate(doc));
      const ups = [];
      src.on('update', (u) => ups.push(u));
      const arr = src.getArray('tracks');
      for (let i = b * BATCH; i < (b + 1) * BATCH; i++) yEdit(arr, s, i);
      for (const u of ups) bytes.push(u.length);
      const t0 = performance.now();
      for (const u of ups) Y.applyUpdate(doc, u);
      t.push((performance.now() - t0) * 1e6 / BATCH);
      if (ups.length !== BATCH) throw new Error(`yjs: ${ups.length} updates for ${BATCH} ops`);
    }
  }
  return { ...stats(t), bytes };
}

// ---- Automerge ---------------------------------------------------------------------
function amTrack(name, colour) { return { name: new A.ImmutableString(name), colour }; }
function amEdit(doc, s, i) {
  switch (s.kind[i]) {
    case SET: return A.change(doc, (d) => { d.tracks[s.index[i]][s.key[i]] = s.amVal[i]; });
    case CREATE: return A.change(doc, (d) => { d.tracks.push(amTrack(s.name[i], s.colour[i])); });
    case CREATE_FRONT: return A.change(doc, (d) => { d.tracks.insertAt(0, amTrack(s.name[i], s.colour[i])); });
    default: return A.change(doc, (d) => { d.tracks.deleteAt(s.index[i]); });
  }
}
const amBaseBytes = A.save(A.from({ tracks: Array.from({ length: 16 }, (_, k) => amTrack(`Track ${k + 1}`, colourOf(k + 1))) }));
const amEmptyBytes = A.save(A.from({ tracks: [] }));

function amRow(row) {
  const s = scripts[row <= 1 ? S_SET : row === 4 ? S_FRONT : S_APPEND], remote = row === 1 || row === 3;
  const nb = PEER_BATCHES.automerge, t = [], bytes = [];
  const fresh = () => A.load(row <= 1 ? amBaseBytes : amEmptyBytes);
  for (let pass = 0; pass < 2; pass++) {
    t.length = 0;
    let doc = fresh(), src = fresh();
    for (let b = 0; b < nb; b++) {
      if (row >= 2) doc = fresh(), src = fresh();
      if (!remote) {
        const t0 = performance.now();
        for (let i = b * BATCH; i < (b + 1) * BATCH; i++) doc = amEdit(doc, s, i);
        t.push((performance.now() - t0) * 1e6 / BATCH);
        continue;
      }
      const changes = [];
      for (let i = b * BATCH; i < (b + 1) * BATCH; i++) {
        src = amEdit(src, s, i);
        changes.push(A.getLastLocalChange(src));
      }
      for (const c of changes) bytes.push(c.length);
      const t0 = performance.now();
      for (const c of changes) [doc] = A.applyChanges(doc, [c]);
      t.push((performance.now() - t0) * 1e6 / BATCH);
    }
  }
  return { ...stats(t), bytes };
}

// ---- Run the rows ------------------------------------------------------------------
const started = performance.now();
const res = {};
for (let row = 0; row < ROWS.length; row++) {
  const r = ROWS[row];
  res[r] = {
    native: { p50: native[`native.${r}.p50`], p99: native[`native.${r}.p99`] },
    wasm_loop: wasmLoop(row),
    wasm_call: row === 0 || row === 2 ? wasmCalls(row) : null,
    yjs: yRow(row),
    automerge: amRow(row),
  };
}

// ---- Merges --------------------------------------------------------------------------
function yHistory(w) {
  const d = new Y.Doc();
  Y.applyUpdate(d, yBaseUpdate);
  const s = scripts[w], arr = d.getArray('tracks');
  let bytes = 0;
  d.on('update', (u) => { bytes += u.length; });
  for (let i = 0; i < s.n; i++) yEdit(arr, s, i);
  return { d, bytes };
}
function amHistory(w) {
  let d = A.load(amBaseBytes);
  const s = scripts[w];
  let bytes = 0;
  for (let i = 0; i < s.n; i++) {
    d = amEdit(d, s, i);
    bytes += A.getLastLocalChange(d).length;
  }
  return { d, bytes };
}
const merge = { native: {}, wasm: {} };
for (let k = 0; k < MERGES.length; k++) {
  merge.native[MERGES[k]] = native[`native.merge.${MERGES[k]}`];
  if (MERGES[k] === 'rebase' && !args['wasm-rebase']) { merge.wasm.rebase = null; continue; } // ~45 s in wasm
  let best = Infinity;
  for (let rep = 0; rep < (MERGES[k] === 'rebase' ? 1 : 3); rep++) {
    m._bench_merge_setup(k);
    const t0 = performance.now();
    const rc = m._bench_merge_run(k);
    best = Math.min(best, performance.now() - t0);
    const bad = m._bench_merge_check(k);
    if (rc || bad) throw new Error(`wasm merge ${MERGES[k]}: rc ${rc}, check ${bad}`);
  }
  merge.wasm[MERGES[k]] = best;
}
const ourTracks = m._bench_merge_tracks(0);
{
  let best = Infinity, diffMs = Infinity, tracks = 0, a, b;
  for (let rep = 0; rep < 3; rep++) {
    a = yHistory(S_A), b = yHistory(S_B);
    const t1 = performance.now();
    const diff = Y.encodeStateAsUpdate(b.d, Y.encodeStateVector(a.d));
    diffMs = Math.min(diffMs, performance.now() - t1);
    const t0 = performance.now();
    Y.applyUpdate(a.d, diff);
    best = Math.min(best, performance.now() - t0);
    tracks = a.d.getArray('tracks').length;
  }
  Y.applyUpdate(b.d, Y.encodeStateAsUpdate(a.d, Y.encodeStateVector(b.d)));
  // Map keys come out in insertion order, which differs between replicas: compare sorted.
  const canon = (d) => JSON.stringify(d.getArray('tracks').toJSON().map((t) => Object.entries(t).sort()));
  const same = canon(a.d) === canon(b.d);
  merge.yjs = { ms: best, diffMs, tracks, same, bytesA: a.bytes };
}
{
  const a = amHistory(S_A), b = amHistory(S_B);
  const t0 = performance.now();
  const merged = A.merge(a.d, b.d);
  const ms = performance.now() - t0;
  merge.automerge = { ms, tracks: merged.tracks.length, bytesA: a.bytes };
}

// ---- Bytes on the wire --------------------------------------------------------------------
const bytes = {};
{
  const ours = {
    set_gain: m._bench_bytes_set(P_GAIN, 0.5), set_mute: m._bench_bytes_set(P_MUTE, 1),
    set_colour: m._bench_bytes_set(P_COLOUR, 0x336699), set_name: m._bench_bytes_set(P_NAME, 123),
    create: m._bench_bytes_create(0), create_front: m._bench_bytes_create(1),
    set_mean: m._bench_bytes_script(S_SET) / scripts[S_SET].n, merge_mean: m._bench_bytes_script(S_A) / scripts[S_A].n,
  };
  const yOne = (fn, base = true) => {
    const d = new Y.Doc();
    if (base) Y.applyUpdate(d, yBaseUpdate);
    let n = 0;
    d.on('update', (u) => { n += u.length; });
    fn(d.getArray('tracks'));
    return n;
  };
  const yjs = {
    set_gain: yOne((arr) => arr.get(0).set('gain', 0.5)), set_mute: yOne((arr) => arr.get(0).set('mute', true)),
    set_colour: yOne((arr) => arr.get(0).set('colour', 0x336699)), set_name: yOne((arr) => arr.get(0).set('name', 'Take 123')),
    create: yOne((arr) => arr.push([yMap('Track 1', colourOf(1))]), false),
    create_front: yOne((arr) => arr.insert(0, [yMap('Track 1', colourOf(1))])),
    set_mean: res.set_remote.yjs.bytes.reduce((x, y) => x + y, 0) / res.set_remote.yjs.bytes.length,
    merge_mean: merge.yjs.bytesA / scripts[S_A].n,
  };
  const amOne = (fn, from = amBaseBytes) => A.getLastLocalChange(A.change(A.load(from), fn)).length;
  const automerge = {
    set_gain: amOne((d) => { d.tracks[0].gain = 0.5; }), set_mute: amOne((d) => { d.tracks[0].mute = true; }),
    set_colour: amOne((d) => { d.tracks[0].colour = 0x336699; }),
    set_name: amOne((d) => { d.tracks[0].name = new A.ImmutableString('Take 123'); }),
    create: amOne((d) => { d.tracks.push(amTrack('Track 1', colourOf(1))); }, amEmptyBytes),
    create_front: amOne((d) => { d.tracks.insertAt(0, amTrack('Track 1', colourOf(1))); }),
    set_mean: res.set_remote.automerge.bytes.reduce((x, y) => x + y, 0) / res.set_remote.automerge.bytes.length,
    merge_mean: merge.automerge.bytesA / scripts[S_A].n,
  };
  Object.assign(bytes, { ours, yjs, automerge });
}
const seconds = (performance.now() - started) / 1000;

// ---- Report ---------------------------------------------------------------------------------
const f = (x, w = 9) => (x == null ? '-' : x >= 100 ? x.toFixed(0) : x >= 10 ? x.toFixed(1) : x.toFixed(2)).padStart(w);
const ratio = (a, b) => (a == null || b == null ? null : a / b);
const version = (pkg) => JSON.parse(fs.readFileSync(path.join(process.cwd(), 'node_modules', pkg, 'package.json'), 'utf8')).version;
console.log(`\ncrdt: our model (native, wasm under node ${process.version}) against yjs ${version('yjs')} and @automerge/automerge ${version('@automerge/automerge')}`);
console.log('  per-op apply, ns/op (batches of 64 ops, per-op = batch / 64):');
console.log('    native     C, mdl_txn_apply (local) / proto_decode_txn + mdl_replica_on_remote (remote)');
console.log("    wasm loop  the same C compiled with emcc (the flags the studio's model.wasm is built with), looping inside wasm (one JS call per 64 ops)");
console.log('    wasm call  one JS->wasm call per op, arguments as numbers, strings encoded into wasm memory');
console.log('    yjs        Y.Array of Y.Map: map.set / array.push|insert (local), Y.applyUpdate of each op\'s update (remote)');
console.log('    automerge  one A.change per op (local), A.applyChanges of each op\'s change (remote)\n');
console.log(`  ${'row'.padEnd(14)} ${'stat'.padEnd(4)} ${['native', 'wasm loop', 'wasm call', 'yjs', 'automerge'].map((x) => x.padStart(9)).join(' ')}   ${['nat/yjs', 'loop/yjs', 'call/yjs', 'nat/am', 'call/am'].map((x) => x.padStart(8)).join(' ')}`);
for (const r of ROWS) {
  const x = res[r];
  for (const st of ['p50', 'p99']) {
    const call = x.wasm_call?.[st] ?? null;
    const rs = [ratio(x.native[st], x.yjs[st]), ratio(x.wasm_loop[st], x.yjs[st]), ratio(call, x.yjs[st]),
      ratio(x.native[st], x.automerge[st]), ratio(call ?? x.wasm_loop[st], x.automerge[st])];
    console.log(`  ${(st === 'p50' ? r : '').padEnd(14)} ${st.padEnd(4)} ${[x.native[st], x.wasm_loop[st], call, x.yjs[st], x.automerge[st]].map((v) => f(v)).join(' ')}   ${rs.map((v) => f(v, 8)).join(' ')}`);
    for (const [impl, v] of [['native', x.native[st]], ['wasm_loop', x.wasm_loop[st]], ['wasm_call', call], ['yjs', x.yjs[st]], ['automerge', x.automerge[st]]])
      if (v != null) bench(`${r}_${impl}_${st}`, v, 'ns');
  }
  bench(`${r}_native_vs_yjs_p50`, ratio(x.native.p50, x.yjs.p50), 'x');
  bench(`${r}_wasm_loop_vs_yjs_p50`, ratio(x.wasm_loop.p50, x.yjs.p50), 'x');
  if (x.wasm_call) bench(`${r}_wasm_call_vs_yjs_p50`, ratio(x.wasm_call.p50, x.yjs.p50), 'x');
  bench(`${r}_native_vs_automerge_p50`, ratio(x.native.p50, x.automerge.p50), 'x');
  bench(`${r}_wasm_loop_vs_automerge_p50`, ratio(x.wasm_loop.p50, x.automerge.p50), 'x');
}
console.log(`  (ops per row: native and wasm ${res.set_local.wasm_loop.n}, yjs ${res.set_local.yjs.n}, automerge ${res.set_local.automerge.n}; the call column is measured for set_local and append_local only)`);
console.log('  issue 4 targets (p50, local apply): native <= 0.1 x yjs, wasm <= 0.333 x yjs:');
for (const r of ['set_local', 'append_local', 'front_local']) {
  const x = res[r], nat = x.native.p50 / x.yjs.p50, w = (x.wasm_call ?? x.wasm_loop).p50 / x.yjs.p50;
  console.log(`    ${r.padEnd(13)} native ${f(nat, 5)} x ${nat <= 0.1 ? 'met' : 'MISSED'};  wasm (${x.wasm_call ? 'per-op call' : 'loop'}) ${f(w, 5)} x ${w <= 1 / 3 ? 'met' : 'MISSED'}`);
}

console.log('\n  bytes per op on the wire (ours: proto_encode_txn; SUBMIT adds ' + m._bench_bytes_submit_overhead() +
  ', BROADCAST ' + m._bench_bytes_broadcast_overhead() + '; yjs: v1 update event; automerge: the change)');
console.log(`  ${'op'.padEnd(26)} ${['ours', 'yjs', 'automerge'].map((x) => x.padStart(9)).join(' ')}   ${['ours/yjs', 'ours/am'].map((x) => x.padStart(8)).join(' ')}`);
const byteRows = [['set_gain', 'set gain (real)'], ['set_mute', 'set mute (bool)'], ['set_colour', 'set colour (int)'],
  ['set_name', 'set name "Take 123"'], ['create', 'create (name, colour)'], ['create_front', 'create at the front'],
  ['set_mean', 'mean of the set workload'], ['merge_mean', 'mean of client A history']];
for (const [k, label] of byteRows) {
  const o = bytes.ours[k], y = bytes.yjs[k], a = bytes.automerge[k];
  console.log(`  ${label.padEnd(26)} ${[o, y, a].map((v) => f(v)).join(' ')}   ${[o / y, o / a].map((v) => f(v, 8)).join(' ')}`);
  bench(`bytes_${k}_ours`, o, 'B');
  bench(`bytes_${k}_yjs`, y, 'B');
  bench(`bytes_${k}_automerge`, a, 'B');
  bench(`bytes_${k}_vs_yjs`, o / y, 'x');
}

console.log(`\n  merging two divergent 10,000-op histories (base: 16 tracks; ${ourTracks} tracks after, yjs ${merge.yjs.tracks}, automerge ${merge.automerge.tracks}), ms:`);
const mergeDesc = {
  server: 'server orders B after A: decode + apply B\'s 10,000 onto base + A',
  after: 'client A, nothing pending: decode + on_remote for B\'s 10,000',
  rebase: 'client A with 4,096 pending: on_remote x 10,000 (each rebases 4,096), then 4,096 acks',
  reconnect: 'A offline, 4,096 pending: snapshot + reset (1 rebase) + server applies them + 4,096 acks',
};
console.log(`  ${'ours'.padEnd(12)} ${'native'.padStart(9)} ${'wasm'.padStart(9)}   ${'nat/yjs'.padStart(8)} ${'nat/am'.padStart(8)} ${'wasm/yjs'.padStart(8)}`);
for (const k of MERGES) {
  const n = merge.native[k], w = merge.wasm[k];
  console.log(`  ${k.padEnd(12)} ${f(n)} ${f(w)}   ${[n / merge.yjs.ms, n / merge.automerge.ms, w == null ? null : w / merge.yjs.ms].map((v) => f(v, 8)).join(' ')}   ${mergeDesc[k]}`);
  bench(`merge_${k}_native`, n, 'ms');
  if (w != null) bench(`merge_${k}_wasm`, w, 'ms');
  bench(`merge_${k}_native_vs_yjs`, n / merge.yjs.ms, 'x');
}
if (merge.wasm.rebase == null) console.log('  (wasm rebase not run: it takes ~45 s, about 16x the native figure; --wasm-rebase 1 runs it)');
console.log(`  yjs          Y.applyUpdate of B's diff into A: ${f(merge.yjs.ms)} ms (computing the diff: ${f(merge.yjs.diffMs)} ms; both docs equal after: ${merge.yjs.same})`);
console.log(`  automerge    A.merge(A, B): ${f(merge.automerge.ms)} ms`);
bench('merge_yjs', merge.yjs.ms, 'ms');
bench('merge_automerge', merge.automerge.ms, 'ms');
if (ourTracks !== merge.yjs.tracks || ourTracks !== merge.automerge.tracks || !merge.yjs.same)
  console.log('  WARNING: the peers did not reach the same number of tracks as ours');
console.log(`  (node part took ${seconds.toFixed(1)} s)\n`);
for (const l of lines) console.log(l);
