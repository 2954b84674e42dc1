// bench.mjs: the studio page against the performance budgets of issue 7,
// measured in headless Chromium against the real server.
//
//   node tools/bench/web/bench.mjs --bin build/backline --wasm build/wasm [options]
//
// Run by build/bench/bench_web (generated from bench_web.sh.in). Starts the
// server (--headless, a temporary data folder, --port, default 19980),
// makes the projects over REST, drives Debian's /usr/bin/chromium through
// playwright-core and prints a table, then `bench: web_* VALUE UNIT` lines.
//
//   load    navigation start -> the studio is interactive: the WebSocket is
//           live (WELCOME), the mixer shows every track of the project and
//           the arrangement has all its clips; then the next frame after
//           that (requestAnimationFrame + a message posted from it, which
//           runs once the frame has been painted on the main thread).
//           Each load is cold: a new browser context (empty HTTP cache,
//           no service worker, no IndexedDB).
//   bytes   JS + wasm + CSS the page loads (from its network log), raw and
//           gzip -9 (node's zlib), against 500 kB compressed.
//   play    requestAnimationFrame intervals, and each frame's main-thread
//           work (rAF time -> a message posted from rAF runs), while a
//           32-track project (a synth and a MIDI clip on each track) plays
//           with its meters; also the same project open and stopped.
//   scroll  the same while a 2,000-clip arrangement is scrolled and zoomed
//           with real wheel events (CDP Input, Ctrl for zoom, Shift for
//           vertical), one every ~16 ms; and the arrangement's draw() times.
//   edit    an input event (its timeStamp) to the view holding the model's
//           new state, and to the frame showing it painted: a fader
//           (ArrowLeft/Right on a track's gain: model edit -> mixer DOM), a
//           clip move (ArrowLeft/Right on a selected clip: model edit ->
//           arrangement canvas), a note drawn in the piano roll (a click on
//           an empty cell, from its pointerup: model edit -> piano roll
//           canvas; heard, then with Preview off) and a rename (Enter in a
//           track's name field: model edit -> the lane's name on the
//           arrangement canvas); and the clip move in the 2,000-clip song.
//   refs    in the same run: rAF intervals of a blank page (headless
//           Chromium's 60 Hz virtual vsync and the VM's noise), and key ->
//           paint on a bare page, with and without a running rAF loop.
//
// Options: --port N, --loads N (20), --play-s S (10), --scroll-s S (8),
// --edits N (100), --only load,bytes,play,scroll,edit (comma list),
// --chromium PATH, --keep (keep the data folder), --web DIR (serve the
// pages from DIR: another checkout's web/, to compare before and after).
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import { chromium } from 'playwright-core';

// ---- Options -----------------------------------------------------------------------
const argv = process.argv.slice(2);
const opt = (name, def) => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 ? argv[i + 1] : def;
};
const BIN = path.resolve(opt('bin', 'build/backline'));
const WASM = path.resolve(opt('wasm', path.join(path.dirname(BIN), 'wasm')));
const PORT = Number(opt('port', 19980));
const BASE = `http://127.0.0.1:${PORT}`;
const N_LOADS = Number(opt('loads', 20));
const PLAY_S = Number(opt('play-s', 10));
const SCROLL_S = Number(opt('scroll-s', 8));
const N_EDITS = Number(opt('edits', 100));
const ONLY = new Set(opt('only', 'load,bytes,play,scroll,edit').split(','));
const CHROMIUM = opt('chromium', process.env.CHROMIUM || '/usr/bin/chromium');
const KEEP = argv.includes('--keep');
const WEB = opt('web', null);
const ARGS = ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
  '--disable-sync', '--no-first-run', '--autoplay-policy=no-user-gesture-required'];
const VIEWPORT = { width: 1280, height: 800 };

// Budgets (issue 7, "Performance budgets").
const BUDGET = { loadMs: 1000, gzipKB: 500, frameMs: 16.7, editMs: 16 };

// The shapes measured.
const PLAY_TRACKS = 32;
const PLAY_NOTES = 32; // quarter notes in an 8-bar clip per track
const SCROLL_TRACKS = 40;
const SCROLL_CLIPS = 50; // per track: 2,000 clips
const SCROLL_NOTES = 4; // per clip (the clips draw note thumbnails)
const PPQ = 960;
const BAR = 4 * PPQ;

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const say = (s) => process.stderr.write(`bench_web: ${s}\n`);

// Nearest-rank percentile of a sorted copy.
function pct(xs, p) {
  if (!xs.length) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))];
}
const stats = (xs) => ({ n: xs.length, p50: pct(xs, 50), p95: pct(xs, 95), p99: pct(xs, 99), max: pct(xs, 100) });

// ---- Server --------------------------------------------------------------------------
let server = null;
let serverLog = '';
const DATA = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-web-'));

async function api(p, body) {
  const opts = body === undefined ? {} : {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body),
  };
  let res;
  for (let attempt = 0; !res; attempt++) {
    try {
      res = await fetch(BASE + p, opts);
    } catch (e) {
      // A kept-alive connection the server closed while idle: try once more.
      if (attempt === 0) continue;
      throw new Error(`${p}: ${e.message}`);
    }
  }
  const text = await res.text();
  if (!res.ok) throw new Error(`${p}: ${res.status} ${text}`);
  return JSON.parse(text);
}

async function startServer() {
  if (!fs.existsSync(BIN)) throw new Error(`no server binary at ${BIN} (tools/dev build)`);
  const proc = spawn(BIN, ['--data', DATA, '--port', String(PORT), '--https-port', '0', '--ops-port', '0',
    '--headless', '--wasm', WASM, ...(WEB ? ['--web', path.resolve(WEB)] : [])], { stdio: ['ignore', 'pipe', 'pipe'] });
  server = proc;
  proc.stdout.on('data', (d) => { serverLog += d; });
  proc.stderr.on('data', (d) => { serverLog += d; });
  proc.done = new Promise((resolve) => proc.on('exit', (code, sig) => {
    proc.exited = true;
    serverLog += `\n[server exited: ${code ?? sig}]\n`;
    resolve();
  }));
  for (let i = 0; i < 100 && !proc.exited; i++) {
    try {
      return await api('/api/health');
    } catch { /* not up yet */ }
    await sleep(100);
  }
  throw new Error(`the server did not come up on ${BASE}:\n${serverLog}`);
}

async function stopServer() {
  const proc = server;
  server = null;
  if (!proc || proc.exited) return;
  proc.kill('SIGTERM');
  const timer = setTimeout(() => proc.kill('SIGKILL'), 5000);
  await proc.done;
  clearTimeout(timer);
}

// ---- Projects (REST) ---------------------------------------------------------------------
// 32 instrument tracks, each with a synth and an 8-bar looping MIDI clip of
// quarter notes (a different pitch per track), so every meter moves.
async function makePlayProject() {
  const { id } = await api('/api/projects', { name: 'Bench: 32 tracks playing' });
  for (let t = 0; t < PLAY_TRACKS; t++) {
    const ops = [
      { op: 'create', type: 'track', props: { name: `Synth ${t + 1}`, kind: 2, gain: 0.25 } },
      { op: 'create', type: 'device', parent: '$0', props: { kind: 1 } },
      { op: 'create', type: 'clip', parent: '$0', props: { name: `Line ${t + 1}`, start: 0, length: 8 * BAR } },
    ];
    for (let n = 0; n < PLAY_NOTES; n++)
      ops.push({ op: 'create', type: 'note', parent: '$2',
        props: { pitch: 36 + ((t * 5 + n * 7) % 48), start: n * PPQ, length: PPQ / 2, velocity: 100 } });
    await api(`/api/projects/${id}/ops`, { ops });
  }
  return id;
}

// 40 tracks x 50 two-bar clips (with a gap of two bars), 4 notes each.
async function makeScrollProject() {
  const { id } = await api('/api/projects', { name: 'Bench: 2,000 clips' });
  for (let t = 0; t < SCROLL_TRACKS; t++) {
    const ops = [{ op: 'create', type: 'track', props: { name: `Lane ${t + 1}`, kind: 2 } }];
    for (let c = 0; c < SCROLL_CLIPS; c++) {
      const clip = `$${ops.length}`;
      ops.push({ op: 'create', type: 'clip', parent: '$0', props: { name: `C${t + 1}.${c + 1}`, start: (c * 4 + (t % 4)) * BAR, length: 2 * BAR } });
      for (let n = 0; n < SCROLL_NOTES; n++)
        ops.push({ op: 'create', type: 'note', parent: clip, props: { pitch: 48 + ((t + c + n * 3) % 24), start: n * 2 * PPQ, length: PPQ } });
    }
    await api(`/api/projects/${id}/ops`, { ops });
  }
  return id;
}

// ---- In-page helpers (installed before any page script) ----------------------------------------
// window.__bench: the readiness mark for loads, a frame recorder and edit timing.
function pageInit({ tracks, clips }) {
  const b = (window.__bench = { ready: null, shown: null, frames: null, edits: [], edit: null });
  // After-paint: a message posted from a rAF callback runs once that
  // frame's main-thread work (style, layout, paint, commit) is done.
  const ch = new MessageChannel();
  let afterPaint = [];
  ch.port1.onmessage = () => {
    const now = performance.now();
    const fns = afterPaint;
    afterPaint = [];
    for (const fn of fns) fn(now);
  };
  b.nextPaint = (fn) => requestAnimationFrame(() => {
    afterPaint.push(fn);
    ch.port2.postMessage(0);
  });
  b.whenPainted = (fn) => {
    afterPaint.push(fn);
    ch.port2.postMessage(0);
  };
  // Interactive: live, every track in the mixer, every clip in the arrangement.
  const isReady = () => {
    const bl = window.backline;
    if (!bl || !bl.live()) return false;
    if (document.querySelectorAll('#tracks li.track').length !== tracks) return false;
    return bl.arrange.clips().length === clips;
  };
  const mo = new MutationObserver(() => {
    if (b.ready !== null || !isReady()) return;
    b.ready = performance.now();
    mo.disconnect();
    b.nextPaint((t) => { b.shown = t; });
  });
  document.addEventListener('DOMContentLoaded', () =>
    mo.observe(document.body, { subtree: true, childList: true, attributes: true, characterData: true }));
  // Frame recorder: rAF callback times (performance.now() inside the callback
  // and the frame timestamp rAF passes).
  b.startFrames = () => {
    const f = (b.frames = { ts: [], work: [], long: 0, on: true });
    const tick = (ts) => {
      if (!f.on) return;
      f.ts.push(ts);
      // The frame's main-thread work: from its start (the rAF time) to
      // the end of its rendering update (style, layout, paint, commit).
      b.whenPainted((t) => f.work.push(t - ts));
      requestAnimationFrame(tick);
    };
    requestAnimationFrame(tick);
    try {
      f.po = new PerformanceObserver((l) => { f.long += l.getEntries().length; });
      f.po.observe({ type: 'longtask' });
    } catch { /* no longtask entries */ }
  };
  b.stopFrames = () => {
    const f = b.frames;
    f.on = false;
    if (f.po) f.po.disconnect();
    return { ts: f.ts, work: f.work, long: f.long };
  };
}

// The studio's arrangement: counts and times its draws, and tells the
// edit timing when it took a model change (wraps the instance's draw and
// changed; web/ is not changed).
function wrapDraw() {
  const b = window.__bench;
  b.draws = [];
  const wrap = (v, record) => {
    const draw = v.draw;
    v.draw = function wrappedDraw(...a) {
      const t = performance.now();
      const r = draw.apply(this, a);
      if (record) b.draws.push(performance.now() - t);
      if (b.onDraw) b.onDraw();
      return r;
    };
    const changed = v.changed;
    v.changed = function wrappedChanged(...a) {
      const r = changed.apply(this, a);
      if (b.onChanged) b.onChanged();
      return r;
    };
  };
  wrap(window.backline.arrange.view, true);
  wrap(window.backline.piano.view, false);
}

// ---- Browser ---------------------------------------------------------------------------------
let browser;
const errors = [];

async function newPage(shape) {
  const context = await browser.newContext({ viewport: VIEWPORT });
  const page = await context.newPage();
  page.on('console', (m) => { if (m.type() === 'error') errors.push(`console: ${m.text()}`); });
  page.on('pageerror', (e) => errors.push(`page error: ${e.message}`));
  page.on('response', (r) => { if (r.status() >= 400) errors.push(`HTTP ${r.status()}: ${r.url()}`); });
  await page.addInitScript(pageInit, shape);
  return { context, page };
}

async function openStudio(id, shape) {
  const { context, page } = await newPage(shape);
  await page.goto(`${BASE}/?project=${id}`);
  await page.waitForFunction(() => window.__bench.shown !== null, null, { timeout: 30000 });
  return { context, page };
}

// Records frames for MS milliseconds while DRIVE runs (if any); returns
// the intervals between rAF callbacks (ms).
async function recordFrames(page, ms, drive) {
  await page.evaluate(() => window.__bench.startFrames());
  const t0 = Date.now();
  if (drive) await drive(t0 + ms);
  const left = t0 + ms - Date.now();
  if (left > 0) await sleep(left);
  const f = await page.evaluate(() => window.__bench.stopFrames());
  const d = [];
  for (let i = 1; i < f.ts.length; i++) d.push(f.ts[i] - f.ts[i - 1]);
  return { intervals: d, work: f.work, frames: f.ts.length, seconds: (f.ts[f.ts.length - 1] - f.ts[0]) / 1000, long: f.long };
}

// A blank page on the server's origin, served by Playwright (not the
// server), with no favicon request.
async function blankPage() {
  const { context, page } = await newPage({ tracks: 0, clips: 0 });
  await page.route(`${BASE}/__blank`, (r) => r.fulfill({
    contentType: 'text/html', body: '<!doctype html><link rel="icon" href="data:,"><body></body>',
  }));
  await page.goto(`${BASE}/__blank`);
  return { context, page };
}

// ---- 0. Reference: a blank page's frames ------------------------------------------------------------
async function benchIdle() {
  const { context, page } = await blankPage();
  await sleep(500);
  const r = await recordFrames(page, 4000);
  await context.close();
  return r;
}

// ---- 1 + 2. Cold loads and bytes --------------------------------------------------------------------
async function benchLoads(id) {
  const loads = [];
  let files = null;
  for (let i = 0; i < N_LOADS; i++) {
    const { context, page } = await newPage({ tracks: PLAY_TRACKS, clips: PLAY_TRACKS });
    const responses = [];
    if (i === 0) page.on('response', (r) => responses.push(r));
    await page.goto(`${BASE}/?project=${id}`);
    await page.waitForFunction(() => window.__bench.shown !== null, null, { timeout: 30000 });
    const t = await page.evaluate(() => {
      const nav = performance.getEntriesByType('navigation')[0];
      const paint = Object.fromEntries(performance.getEntriesByType('paint').map((e) => [e.name, e.startTime]));
      return {
        ttfb: nav.responseStart,
        dcl: nav.domContentLoadedEventEnd,
        load: nav.loadEventEnd,
        fcp: paint['first-contentful-paint'] ?? NaN,
        ready: window.__bench.ready,
        shown: window.__bench.shown,
      };
    });
    loads.push(t);
    if (i === 0) files = await collectFiles(responses);
    await context.close();
  }
  return { loads, files };
}

// The page's own loads (not the service worker's precache), their bodies
// as delivered (decoded) and gzip -9 of each.
async function collectFiles(responses) {
  const files = [];
  for (const r of responses) {
    const u = new URL(r.url());
    if (u.origin !== BASE || u.pathname.startsWith('/api/') || u.pathname === '/ws') continue;
    let body;
    try {
      body = await r.body();
    } catch {
      continue; // a redirect or an aborted load
    }
    const ext = path.extname(u.pathname).toLowerCase();
    const kind = ext === '.wasm' ? 'wasm' : ext === '.css' ? 'css' : ext === '.js' || ext === '.mjs' ? 'js' : 'other';
    files.push({
      path: u.pathname,
      kind,
      raw: body.length,
      gzip: zlib.gzipSync(body, { level: 9 }).length,
      encoding: r.headers()['content-encoding'] || 'identity',
    });
  }
  return files;
}

// ---- 3. Playing 32 tracks with meters ---------------------------------------------------------------------
async function benchPlay(id) {
  const { context, page } = await openStudio(id, { tracks: PLAY_TRACKS, clips: PLAY_TRACKS });
  await sleep(1000);
  await page.click('#play');
  await page.waitForFunction(() => window.backline.transport().playing, null, { timeout: 5000 });
  await page.waitForFunction(() => (window.backline.meter('0')?.peak ?? 0) > 0.001, null, { timeout: 5000 });
  await sleep(500);
  const r = await recordFrames(page, PLAY_S * 1000);
  r.lit = await page.evaluate(() => window.backline.project().tracks.filter((t) => (window.backline.meter(t.id)?.level ?? 0) > 0.001).length);
  await page.click('#stop');
  await context.close();
  return r;
}

// ---- 4. Scrolling and zooming 2,000 clips ------------------------------------------------------------------
async function benchScroll(id) {
  const n = SCROLL_TRACKS * SCROLL_CLIPS;
  const { context, page } = await openStudio(id, { tracks: SCROLL_TRACKS, clips: n });
  await page.evaluate(wrapDraw);
  await page.evaluate(() => window.backline.arrange.view.fit());
  const box = await page.locator('#ar-canvas').boundingBox();
  await page.mouse.move(box.x + box.width * 0.6, box.y + box.height * 0.6);
  await sleep(500);
  await page.evaluate(() => { window.__bench.draws = []; });
  // One wheel event every ~16 ms, sent through CDP without waiting for
  // each to be handled (Playwright's mouse.wheel waits ~3 frames per
  // event), at most 4 in flight: 1 s phases of right, zoom in, down,
  // right, zoom out, up, left, ... (Ctrl: zoom at the pointer, Shift: vertical).
  const cdp = await context.newCDPSession(page);
  const x = box.x + box.width * 0.6;
  const y = box.y + box.height * 0.6;
  const CTRL = 2;
  const SHIFT = 8;
  const phases = [
    [0, 120, 0], [CTRL, 0, -60], [SHIFT, 0, 40], [0, 0, 90],
    [CTRL, 0, 60], [SHIFT, 0, -40], [0, -120, 0], [0, 0, -90],
  ];
  let events = 0;
  let inFlight = 0;
  const drive = async (until) => {
    const t0 = Date.now();
    let next = t0;
    while (Date.now() < until) {
      const [modifiers, deltaX, deltaY] = phases[Math.floor((Date.now() - t0) / 1000) % phases.length];
      if (inFlight < 4) {
        inFlight++;
        events++;
        cdp.send('Input.dispatchMouseEvent', { type: 'mouseWheel', x, y, deltaX, deltaY, modifiers })
          .finally(() => { inFlight--; });
      }
      next += 16;
      const left = next - Date.now();
      if (left > 0) await sleep(left);
    }
    while (inFlight > 0) await sleep(5);
  };
  const r = await recordFrames(page, SCROLL_S * 1000, drive);
  r.events = events;
  r.draws = await page.evaluate(() => window.__bench.draws);
  await context.close();
  return r;
}

// ---- 5. Local edit to the painted frame --------------------------------------------------------------------
// The page side of one measured key press. A capture listener notes the
// event time and the state before; the studio's own handlers then run in
// the same task. "view" is when the view holds the model's new state (the
// mixer row's DOM, or the arrangement's cache of the model); "paint" is
// when the frame showing it has been painted on the main thread.
// KIND: fader, clip, or ref (a bare page: a key handler that sets a text).
function armEdit(kind) {
  const b = window.__bench;
  const bl = window.backline;
  b.edit = new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${kind}: no change seen`)), 3000);
    let t0 = 0;
    let view = 0;
    const viewed = () => {
      if (!view) view = performance.now();
    };
    const painted = (t1) => {
      clearTimeout(timer);
      if (!view) return reject(new Error(`${kind}: painted before the view changed`));
      resolve({ view: view - t0, paint: t1 - t0 });
    };
    const watch = (el, attr, changedNow) => {
      const mo = new MutationObserver(() => {
        if (!changedNow()) return;
        mo.disconnect();
        viewed();
      });
      mo.observe(el, attr ? { attributes: true, attributeFilter: [attr] } : { childList: true, characterData: true, subtree: true });
    };
    const onKey = (ev) => {
      document.removeEventListener(kind === 'note' ? 'pointerup' : 'keydown', onKey, true);
      t0 = ev.timeStamp;
      if (kind === 'fader') {
        const track = bl.project().tracks[0];
        const input = document.querySelector(`#tracks li.track[data-id="${track.id}"] .gain input`);
        const before = input.getAttribute('aria-valuetext');
        // aria-valuetext is written from the model only (updateRow).
        watch(input, 'aria-valuetext', () => input.getAttribute('aria-valuetext') !== before);
        b.nextPaint(painted);
      } else if (kind === 'clip' || kind === 'note' || kind === 'rename') {
        let moved;
        if (kind === 'clip') {
          const clip = bl.arrange.selection()[0];
          const before = bl.model.get(clip, 'start');
          moved = () => bl.arrange.view.clips.get(clip)?.start !== before;
        } else if (kind === 'note') {
          const before = bl.piano.notes().length;
          moved = () => bl.piano.notes().length > before;
        } else {
          const want = ev.target.value.trim();
          moved = () => bl.arrange.view.lanes[0].name === want; // each take has a new name
        }
        b.onChanged = () => {
          if (!moved()) return;
          b.onChanged = null;
          viewed();
        };
        b.onDraw = () => {
          if (!moved()) return; // a draw for something else
          b.onDraw = null;
          b.whenPainted(painted);
        };
      } else {
        const out = document.getElementById('ref-out');
        const before = out.textContent;
        watch(out, null, () => out.textContent !== before);
        b.nextPaint(painted);
      }
    };
    document.addEventListener(kind === 'note' ? 'pointerup' : 'keydown', onKey, true);
  });
}

// KEYS: the keys pressed in turn; or ACT(i), which makes the i-th edit's
// input event, after PREP(i) has set it up (unmeasured). A person's hands
// are slower than the harness: the Enter after typing a name comes 100-200
// ms after the last letter, a key is held 40-90 ms and a click 60-120 ms.
// Without those pauses the edit would land in the frame the set-up asked
// for, or its key's release be handled inside the edit's own frame, and
// measure the harness rather than the edit.
const handPause = (lo, hi) => lo + Math.random() * (hi - lo);
async function measureEdits(page, kind, keys, act = null, prep = null) {
  const out = [];
  for (let i = 0; i < N_EDITS; i++) {
    if (prep) {
      await prep(i);
      await sleep(handPause(100, 200));
    }
    await page.evaluate(armEdit, kind);
    if (act) await act(i);
    else await page.keyboard.press(keys[i % 2], { delay: handPause(40, 90) });
    out.push(await page.evaluate(() => window.__bench.edit));
    await sleep(30 + Math.random() * 60); // land at different phases of the frame
  }
  return { view: out.map((x) => x.view), paint: out.map((x) => x.paint) };
}

async function benchEdits(id, bigId) {
  const res = {};
  // The reference: a bare page whose key handler sets a text.
  {
    const { context, page } = await blankPage();
    await page.evaluate(() => {
      document.body.innerHTML = '<input id="ref-in"><output id="ref-out">0</output>';
      const out = document.getElementById('ref-out');
      document.getElementById('ref-in').addEventListener('keydown', (ev) => {
        out.textContent = `${ev.key} ${Number(out.textContent.split(' ').pop() || 0) + 1}`;
      });
    });
    await page.focus('#ref-in');
    await sleep(300);
    res.ref = await measureEdits(page, 'ref', ['ArrowLeft', 'ArrowRight']);
    // The same with an empty requestAnimationFrame loop running (as the
    // studio's meter loop always is): the page then paints on the vsync
    // ticks only, where an idle page gets a frame at once.
    await page.evaluate(() => {
      const loop = () => requestAnimationFrame(loop);
      loop();
    });
    await sleep(300);
    res.refRaf = await measureEdits(page, 'ref', ['ArrowLeft', 'ArrowRight']);
    await context.close();
  }
  const { context, page } = await openStudio(id, { tracks: PLAY_TRACKS, clips: PLAY_TRACKS });
  await page.evaluate(wrapDraw);
  await sleep(500);
  // Its frames while nothing plays (the edits below land on these).
  res.still = await recordFrames(page, 3000);
  // Fader: the first track's gain, by keyboard (input + change: one op).
  await page.locator('#tracks li.track').first().locator('.gain input').focus();
  res.fader = await measureEdits(page, 'fader', ['ArrowLeft', 'ArrowRight']);
  // Clip: select the first clip, focus the arrangement, move it a beat.
  await page.evaluate(() => {
    const v = window.backline.arrange.view;
    v.selectOnly(window.backline.arrange.clips()[0].id);
    v.canvas.focus();
  });
  res.clip = await measureEdits(page, 'clip', ['ArrowRight', 'ArrowLeft']);
  // Rename: the first track's name field, a new name typed (not measured), Enter.
  const name = page.locator('#tracks li.track').first().locator('.tname');
  res.rename = await measureEdits(page, 'rename', null, () => page.keyboard.press('Enter', { delay: handPause(40, 90) }), async (i) => {
    await name.focus();
    await name.fill(`Synth 1 take ${i + 1}`);
  });
  // Note: the first clip in the piano roll, a click on an empty cell (a
  // new one each time: a sixteenth later, on the next of the rows shown).
  await page.evaluate(() => window.backline.arrange.view.open(window.backline.arrange.clips()[0].id));
  await page.waitForFunction(() => window.backline.piano.clip() !== null);
  await sleep(300);
  let cell = null;
  const drawNotes = (from) => measureEdits(page, 'note', null, () => page.mouse.click(cell.x, cell.y, { delay: handPause(60, 120) }), async (i) => {
    cell = await page.evaluate((i) => {
      const pr = window.backline.piano;
      const v = pr.view;
      // The rows on screen: the grid ends a gap above the velocity lane.
      const top = v.pitchAt(v.velTop() - v.gridH());
      const rows = Math.max(1, Math.min(8, Math.floor(v.gridH() / v.rowH) - 2));
      for (let k = i; ; k++) {
        // A sixteenth further right each time, in the clip's first 3 bars
        // (on screen), then again a row lower.
        const pitch = top - 1 - ((k + Math.floor(k / 48)) % rows);
        const tick = 240 * (k % 48);
        if (pr.notes().some((n) => n.pitch === pitch && n.start < tick + 240 && n.start + n.length > tick)) continue;
        return pr.pointOf(tick + 120, pitch);
      }
    }, from + i);
  });
  // Each note sounds (Preview) while the button is held, and the meters
  // show it: the page animates, so the frames come on the display's ticks
  // (as in the rAF-loop reference). Then the same with Preview off.
  res.note = await drawNotes(0);
  await page.locator('#pr-preview').click();
  await sleep(2500); // the meters fall and stop
  res.noteQuiet = await drawNotes(N_EDITS);
  await context.close();
  // A clip moved by key in the 2,000-clip arrangement: what an edit costs
  // in a big song (the views re-read only what the edit set).
  {
    const big = await openStudio(bigId, { tracks: SCROLL_TRACKS, clips: SCROLL_TRACKS * SCROLL_CLIPS });
    await big.page.evaluate(wrapDraw);
    await big.page.evaluate(() => {
      const v = window.backline.arrange.view;
      v.selectOnly(window.backline.arrange.clips()[0].id);
      v.canvas.focus();
    });
    await sleep(500);
    res.bigClip = await measureEdits(big.page, 'clip', ['ArrowRight', 'ArrowLeft']);
    await big.context.close();
  }
  return res;
}

// ---- Report -------------------------------------------------------------------------------------------
const lines = [];
const bench = (name, v, unit) => lines.push(`bench: web_${name} ${Number.isFinite(v) ? v.toFixed(v < 10 ? 2 : 1) : 'nan'} ${unit}`);
const f = (x, w = 8) => (x == null || !Number.isFinite(x) ? '-' : x >= 100 ? x.toFixed(0) : x.toFixed(1)).padStart(w);
const verdict = (v, budget) => (Number.isFinite(v) ? (v <= budget ? 'met' : 'MISSED') : '-');

// A frame interval is a multiple of the 60 Hz vsync (16.67 ms, timer
// jitter gives 16.6-16.8): an interval under 1.25 vsyncs is one frame,
// so p95 under that meets "p95 frame time under 16.7 ms".
const VSYNC = 1000 / 60;
const frameVerdict = (p95) => (Number.isFinite(p95) ? (p95 < 1.25 * VSYNC ? 'met' : 'MISSED') : '-');

function frameRow(label, r) {
  const s = stats(r.intervals);
  const w = stats(r.work);
  const dropped = r.intervals.filter((x) => x > 1.5 * VSYNC).length;
  console.log(`     ${label.padEnd(28)} ${[s.p50, s.p95, s.p99, s.max].map((x) => f(x, 7)).join(' ')} | ${[w.p50, w.p95, w.p99].map((x) => f(x, 6)).join(' ')} | ` +
    `${(r.frames / r.seconds).toFixed(1).padStart(5)} ${String(dropped).padStart(5)} ${String(r.long).padStart(5)}   ${frameVerdict(s.p95)}`);
  return { interval: s, work: w };
}

async function main() {
  const health = await startServer();
  say(`server ${health.version} on ${BASE}, data ${DATA}`);
  const t0 = Date.now();
  const playId = await makePlayProject();
  const scrollId = ONLY.has('scroll') || ONLY.has('edit') ? await makeScrollProject() : null;
  say(`projects made over REST in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ARGS });
  const version = browser.version();
  const res = {};
  const loadBefore = os.loadavg()[0];
  say('idle reference');
  res.idle = await benchIdle();
  if (ONLY.has('load') || ONLY.has('bytes')) {
    say(`${N_LOADS} cold loads`);
    res.loads = await benchLoads(playId);
  }
  if (ONLY.has('play')) {
    say(`playing ${PLAY_TRACKS} tracks for ${PLAY_S} s`);
    res.play = await benchPlay(playId);
  }
  if (ONLY.has('scroll')) {
    say(`scrolling and zooming ${SCROLL_TRACKS * SCROLL_CLIPS} clips for ${SCROLL_S} s`);
    res.scroll = await benchScroll(scrollId);
  }
  if (ONLY.has('edit')) {
    say(`${N_EDITS} each of fader, clip, rename and note edits`);
    res.edits = await benchEdits(playId, scrollId);
  }
  await browser.close();
  browser = null;

  console.log(`\nweb: the studio page in headless Chromium ${version} (playwright-core, ${VIEWPORT.width}x${VIEWPORT.height}, --disable-gpu),`);
  console.log(`  server ${health.version} --headless on ${BASE} (its engine plays on the null device in the same VM).`);
  console.log(`  This VM has ${os.cpus().length} shared cores: the server, its engine and Chromium compete for them`);
  console.log(`  (1-minute load average ${loadBefore.toFixed(2)} before the run, ${os.loadavg()[0].toFixed(2)} after: other work on the VM skews the tails).`);
  console.log('  Headless Chromium ticks a 60 Hz virtual vsync, so a frame interval is a multiple of ~16.7 ms;');
  console.log('  percentiles only, over many samples; single runs vary by a frame or more.\n');

  if (res.loads) {
    const L = res.loads.loads;
    const col = (k) => L.map((x) => x[k]);
    const shown = stats(col('shown'));
    console.log(`  1. cold load of the 32-track project (${L.length} loads, each in a new context: empty cache, no service worker), ms from navigation start:`);
    console.log(`     ${''.padEnd(30)} ${['p50', 'p95', 'p99', 'max'].map((x) => x.padStart(8)).join(' ')}`);
    for (const [k, label] of [['ttfb', 'first byte of the page'], ['fcp', 'first contentful paint'], ['dcl', 'DOMContentLoaded end'],
      ['load', 'load event end'], ['ready', 'live + tracks + clips in DOM'], ['shown', 'that frame painted']]) {
      const s = stats(col(k));
      console.log(`     ${label.padEnd(30)} ${f(s.p50)} ${f(s.p95)} ${f(s.p99)} ${f(s.max)}`);
    }
    console.log(`     budget: interactive under ${BUDGET.loadMs} ms: p99 ${f(shown.p99, 0)} ms, ${verdict(shown.p99, BUDGET.loadMs)}\n`);
    bench('load_p50', shown.p50, 'ms');
    bench('load_p99', shown.p99, 'ms');
  }
  if (res.loads && res.loads.files) {
    const F = res.loads.files;
    console.log('  2. bytes the page loads (its network log; gzip -9 by node zlib; "sent" = the server\'s Content-Encoding):');
    console.log(`     ${'file'.padEnd(30)} ${'kind'.padEnd(5)} ${'raw B'.padStart(9)} ${'gzip B'.padStart(9)}  sent`);
    for (const x of F) console.log(`     ${x.path.padEnd(30)} ${x.kind.padEnd(5)} ${String(x.raw).padStart(9)} ${String(x.gzip).padStart(9)}  ${x.encoding}`);
    const sum = (k, kinds) => F.filter((x) => kinds.includes(x.kind)).reduce((a, x) => a + x[k], 0);
    const code = ['js', 'wasm', 'css'];
    const raw = sum('raw', code);
    const gz = sum('gzip', code);
    for (const k of code) console.log(`     ${`total ${k}`.padEnd(30)} ${''.padEnd(5)} ${String(sum('raw', [k])).padStart(9)} ${String(sum('gzip', [k])).padStart(9)}`);
    console.log(`     ${'total JS + wasm + CSS'.padEnd(30)} ${''.padEnd(5)} ${String(raw).padStart(9)} ${String(gz).padStart(9)}`);
    console.log(`     budget: under ${BUDGET.gzipKB} kB compressed: ${(gz / 1000).toFixed(1)} kB, ${verdict(gz / 1000, BUDGET.gzipKB)}` +
      ' (the service worker also precaches the listen-here files, not counted: the page does not load them)\n');
    bench('bytes_raw', raw / 1000, 'kB');
    bench('bytes_gzip', gz / 1000, 'kB');
  }
  console.log('  3-4. frames: interval between requestAnimationFrame callbacks, and the frame\'s main-thread work');
  console.log('       (rAF time -> a message posted from rAF runs: input, rAF callbacks, style, layout, paint, and');
  console.log('       any task queued ahead of it, so an upper bound), ms:');
  console.log(`     ${''.padEnd(28)} ${['p50', 'p95', 'p99', 'max'].map((x) => x.padStart(7)).join(' ')} | ${['work50', 'p95', 'p99'].map((x) => x.padStart(6)).join(' ')} | ` +
    `${'fps'.padStart(5)} ${'>25ms'.padStart(5)} ${'long'.padStart(5)}`);
  const idle = frameRow('idle blank page (reference)', res.idle);
  bench('idle_frame_p95', idle.interval.p95, 'ms');
  if (res.edits) {
    const s = frameRow(`open ${PLAY_TRACKS} tracks, stopped`, res.edits.still);
    bench('still_work_p95', s.work.p95, 'ms');
  }
  if (res.play) {
    const s = frameRow(`playing ${PLAY_TRACKS} tracks + meters`, res.play);
    console.log(`     (${res.play.lit}/${PLAY_TRACKS} track meters lit at the end)`);
    bench('play_frame_p50', s.interval.p50, 'ms');
    bench('play_frame_p95', s.interval.p95, 'ms');
    bench('play_frame_p99', s.interval.p99, 'ms');
    bench('play_work_p95', s.work.p95, 'ms');
  }
  if (res.scroll) {
    const s = frameRow(`scroll+zoom ${SCROLL_TRACKS * SCROLL_CLIPS} clips`, res.scroll);
    const d = stats(res.scroll.draws);
    console.log(`     (${res.scroll.events} wheel events; ${d.n} arrangement draws, draw() p50 ${f(d.p50, 0)} ms, p95 ${f(d.p95, 0)} ms, max ${f(d.max, 0)} ms)`);
    bench('scroll_frame_p50', s.interval.p50, 'ms');
    bench('scroll_frame_p95', s.interval.p95, 'ms');
    bench('scroll_frame_p99', s.interval.p99, 'ms');
    bench('scroll_work_p95', s.work.p95, 'ms');
    bench('scroll_draw_p95', d.p95, 'ms');
  }
  console.log(`     budget: p95 frame time under ${BUDGET.frameMs} ms (60 fps): intervals are whole vsyncs, so p95 under`);
  console.log(`     ${(1.25 * VSYNC).toFixed(1)} ms (one vsync, timer jitter included) is met; ">25ms" counts dropped frames.\n`);
  if (res.edits) {
    console.log('  5. local edit: input event (its timeStamp) -> the view holds the model\'s new state -> that frame painted, ms:');
    console.log(`     ${''.padEnd(30)} ${['view p50', 'p95', 'paint p50', 'p95', 'p99', 'max'].map((x) => x.padStart(9)).join(' ')}`);
    for (const [k, label] of [['ref', 'bare page, text (reference)'], ['refRaf', 'the same + a rAF loop (ref.)'],
      ['fader', 'fader key (mixer DOM)'], ['clip', 'clip move key (canvas)'], ['bigClip', 'the same, 2,000 clips'],
      ['note', 'note drawn, heard (piano roll)'], ['noteQuiet', 'note drawn, Preview off'], ['rename', 'rename, Enter (canvas)']]) {
      const v = stats(res.edits[k].view);
      const s = stats(res.edits[k].paint);
      console.log(`     ${label.padEnd(30)} ${[v.p50, v.p95, s.p50, s.p95, s.p99, s.max].map((x) => f(x, 9)).join(' ')}  n=${s.n}` +
        (k.startsWith('ref') ? '' : `   p50 ${verdict(s.p50, BUDGET.editMs)}, p95 ${verdict(s.p95, BUDGET.editMs)}`));
      if (k.startsWith('ref')) continue;
      bench(`edit_${k}_view_p95`, v.p95, 'ms');
      bench(`edit_${k}_p50`, s.p50, 'ms');
      bench(`edit_${k}_p95`, s.p95, 'ms');
    }
    console.log(`     budget: under ${BUDGET.editMs} ms. With a rAF loop running, a key lands anywhere in a 16.7 ms frame and its`);
    console.log('     change waits for the next vsync tick (the second reference row); an idle page paints at once.\n');
  }
  if (errors.length) {
    console.log(`  page errors (${errors.length}):`);
    for (const e of errors.slice(0, 10)) console.log(`     ${e}`);
    console.log('');
  }
  for (const l of lines) console.log(l);
}

let rc = 0;
try {
  await main();
} catch (e) {
  console.error(`bench_web: ${e.stack || e}`);
  if (serverLog) console.error(serverLog.split('\n').slice(-20).join('\n'));
  rc = 1;
} finally {
  if (browser) await browser.close().catch(() => {});
  await stopServer();
  if (!KEEP) fs.rmSync(DATA, { recursive: true, force: true });
}
process.exit(rc);
