// peaks.js: waveform overviews of audio assets, from the server's peak data
// (GET /api/assets/ID/peaks?level=N; storage/sto_asset.h, server/srv_assets.c).
//
// Each level holds one (min, max) pair per channel for every
// frames_per_peak frames of the asset's rendition at the server's rate:
// 64, 256, 1024 or 4096 frames (levels 0..3). A level is fetched once per
// asset and kept; the asset's rate comes from GET /api/assets/ID. get()
// never waits: it answers null while the data is on its way, and calls
// onReady(asset) when it has come, so the view draws a placeholder first and
// the waveform on its next frame. The server's refusal (no such asset) is
// final; a connection that fails is tried again after 5 s, doubling to a
// minute, so waveforms come back with the server.

export const PEAK_LEVELS = 4; // must match STO_PEAK_LEVELS (storage/sto_asset.h)
export const peakFrames = (level) => 64 << (2 * level); // STO_PEAK_FRAMES
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

// The coarsest level that still gives at least one peak per pixel when a
// pixel spans FRAMES_PER_PX frames.
export function levelFor(framesPerPx) {
  let level = 0;
  while (level + 1 < PEAK_LEVELS && peakFrames(level + 1) <= framesPerPx) level++;
  return level;
}

// Parses the binary answer: a 16-byte header (u32 frames_per_peak, u32
// channels, u64 n_peaks, little-endian), then n_peaks * channels float32
// (min, max) pairs, little-endian.
export function parsePeaks(buf) {
  if (buf.byteLength < 16) throw new Error('peak data shorter than its header');
  const v = new DataView(buf);
  const framesPerPeak = v.getUint32(0, true);
  const channels = v.getUint32(4, true);
  const n = Number(v.getBigUint64(8, true));
  const count = n * channels * 2;
  if (!channels || buf.byteLength !== 16 + count * 4) throw new Error('peak data of the wrong length');
  let data;
  if (LITTLE_ENDIAN) data = new Float32Array(buf, 16, count);
  else {
    data = new Float32Array(count);
    for (let i = 0; i < count; i++) data[i] = v.getFloat32(16 + 4 * i, true);
  }
  // One (min, max) per peak over all channels: the overview is drawn mono.
  const min = new Float32Array(n);
  const max = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    let lo = Infinity;
    let hi = -Infinity;
    for (let c = 0; c < channels; c++) {
      lo = Math.min(lo, data[(i * channels + c) * 2]);
      hi = Math.max(hi, data[(i * channels + c) * 2 + 1]);
    }
    min[i] = lo;
    max[i] = hi;
  }
  return { framesPerPeak, channels, n, min, max };
}

export class PeakCache {
  // ONREADY(asset): called when a level or an asset's details arrive (or fail).
  constructor(onReady, base = '') {
    this.onReady = onReady;
    this.base = base;
    this.levels = new Map(); // "asset:level" -> {state: 'loading'|'ready'|'error', peaks, error}
    this.assets = new Map(); // asset -> {state, rate, frames, error}
    this.requests = 0; // fetches made (tests read it: once per asset and level)
    this.backoff = new Map(); // asset -> the last wait before trying again (ms)
  }

  // The asset's {rate, frames}, or null while unknown (a fetch starts) or when it failed.
  info(asset) {
    let a = this.assets.get(asset);
    if (!a || this.retry(a)) {
      a = { state: 'loading' };
      this.assets.set(asset, a);
      this.load(a, asset, `/api/assets/${asset}`, (r) => r.json().then((j) => ({ rate: j.rate, frames: j.frames })));
    }
    return a.state === 'ready' ? a : null;
  }

  // Level LEVEL of ASSET's peaks ({framesPerPeak, n, min, max}), or null while
  // it is loading (a fetch starts the first time) or when it failed.
  get(asset, level) {
    const key = `${asset}:${level}`;
    let e = this.levels.get(key);
    if (!e || this.retry(e)) {
      e = { state: 'loading' };
      this.levels.set(key, e);
      this.load(e, asset, `/api/assets/${asset}/peaks?level=${level}`, (r) =>
        r.arrayBuffer().then((buf) => ({ peaks: parsePeaks(buf) })),
      );
    }
    return e.state === 'ready' ? e.peaks : null;
  }

  // Fetches URL into entry E (READ turns the response into its fields). The
  // server's refusal (no such asset) is final; a failed connection is tried
  // again after a while (5 s, doubling to a minute), with a redraw then.
  load(e, asset, url, read) {
    this.requests++;
    fetch(this.base + url)
      .then((r) =>
        r.ok ? read(r) : r.json().then((j) => Promise.reject(Object.assign(new Error(j.reason || r.statusText), { final: true }))),
      )
      .then((fields) => {
        Object.assign(e, { state: 'ready' }, fields);
        this.backoff.delete(asset);
      })
      .catch((err) => {
        Object.assign(e, { state: 'error', error: err.message });
        if (err.final || err instanceof SyntaxError || /peak data/.test(err.message)) return;
        const wait = Math.min(60000, (this.backoff.get(asset) || 2500) * 2);
        this.backoff.set(asset, wait);
        e.retryAt = performance.now() + wait;
        setTimeout(() => this.onReady(asset), wait);
      })
      .finally(() => this.onReady(asset));
  }
  retry(e) {
    return e.state === 'error' && e.retryAt !== undefined && performance.now() >= e.retryAt;
  }

  // Whether ASSET (details or any level) could not be loaded: the view says so.
  failed(asset, level) {
    const a = this.assets.get(asset);
    const e = this.levels.get(`${asset}:${level}`);
    return (a && a.state === 'error') || (e && e.state === 'error') ? (a && a.error) || e.error : null;
  }
}
