// listen.js: "listen here", the page's side (main thread).
//
// Switching on: checks for a secure context (HTTPS, or localhost), opens an
// AudioContext at 48 kHz, loads listen-worklet.js (playout, jitter buffer,
// concealment) and starts listen-worker.js (WebCodecs Opus decoding); a
// MessageChannel links the worker straight to the worklet, so decoded audio
// never waits for the main thread. Then the studio sends LISTEN{1} and hands
// every AUDIO message to packet(), which forwards it to the worker.
//
// Latency, shown in the header: for packets as they start playing, the time
// from the server's send (sentUs, its CLOCK_REALTIME) to the speaker
// (worklet context time mapped through getOutputTimestamp, which includes
// the output latency), plus the 2.5 ms the server spends filling a packet.
// That needs the page's clock to agree with the server's (true on one
// machine, usually within a few ms with NTP); when the figure is implausible
// the page shows the part it can measure on its own clock instead: receipt
// → speaker (decode + jitter buffer + output).

const RATE = 48000;
const FRAME_MS = 2.5; // the server fills a packet before sending it
const KEEP = 400; // latency samples kept for the percentiles

const epoch = () => performance.timeOrigin + performance.now();
const pct = (xs, p) => {
  if (!xs.length) return null;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(p * s.length))];
};

// Why this page cannot listen, or '' if it can.
export function listenUnsupported() {
  if (!window.isSecureContext) return 'insecure';
  if (!window.AudioWorkletNode || !window.AudioDecoder) return 'unsupported';
  return '';
}

// Dominant pitch of SAMPLES (mono, at RATE) in Hz by normalised
// autocorrelation over its loudest 0.1 s: the first peak within 90% of the
// highest between 50 and 1000 Hz, refined by a parabola. 0 if silent.
export function pitchOf(samples, rate = RATE) {
  const win = Math.min(samples.length, Math.round(rate / 10));
  let best = 0;
  let at = 0;
  for (let s = 0; s + win <= samples.length; s += Math.round(win / 10)) {
    let e = 0;
    for (let i = 0; i < win; i++) e += samples[s + i] * samples[s + i];
    if (e > best) [best, at] = [e, s];
  }
  if (best < 1e-6) return 0;
  const x = samples.subarray(at, at + win);
  const lo = Math.floor(rate / 1000);
  const hi = Math.ceil(rate / 50);
  const r = new Float64Array(hi + 2);
  let top = 0;
  for (let lag = lo - 1; lag <= hi + 1; lag++) {
    let acc = 0;
    for (let i = 0; i + lag < win; i++) acc += x[i] * x[i + lag];
    r[lag] = acc / (win - lag);
    if (lag >= lo && lag <= hi) top = Math.max(top, r[lag]);
  }
  for (let lag = lo; lag <= hi; lag++) {
    const [a, b, c] = [r[lag - 1], r[lag], r[lag + 1]];
    if (b >= 0.9 * top && b >= a && b >= c) {
      const d = a - 2 * b + c;
      return rate / (lag + (d ? (0.5 * (a - c)) / d : 0));
    }
  }
  return 0;
}

export class Listener {
  // SEND(on) sends LISTEN; ONCHANGE() is called when the figures change.
  constructor(send, onchange) {
    this.send = send;
    this.onchange = onchange;
    this.on = false;
    this.stats = null;
    this.e2e = []; // server send -> speaker, ms
    this.local = []; // receipt -> speaker, ms
    this.decode = []; // receipt -> decoded, ms
    this.errors = [];
    this.received = 0;
  }

  async start() {
    if (this.on) return;
    const why = listenUnsupported();
    if (why) throw new Error(why);
    const ctx = new AudioContext({ sampleRate: RATE, latencyHint: 'interactive' });
    this.ctx = ctx;
    try {
      await ctx.audioWorklet.addModule('/listen-worklet.js');
      const node = new AudioWorkletNode(ctx, 'listen', {
        numberOfInputs: 0,
        numberOfOutputs: 1,
        outputChannelCount: [2],
      });
      node.connect(ctx.destination);
      const worker = new Worker('/listen-worker.js', { type: 'module' });
      const link = new MessageChannel();
      worker.postMessage({ type: 'init', port: link.port1 }, [link.port1]);
      node.port.postMessage({ type: 'init', port: link.port2 }, [link.port2]);
      worker.onmessage = (e) => {
        if (e.data.type === 'error') this.errors.push(e.data.message), this.onchange();
      };
      node.port.onmessage = (e) => this.fromWorklet(e.data);
      this.node = node;
      this.worker = worker;
      await ctx.resume();
    } catch (e) {
      this.teardown();
      throw e;
    }
    this.on = true;
    this.e2e = [];
    this.local = [];
    this.decode = [];
    this.received = 0;
    this.send(true);
    this.onchange();
  }

  stop() {
    if (!this.on) return;
    this.on = false;
    this.send(false);
    this.teardown();
    this.onchange();
  }

  teardown() {
    if (this.worker) this.worker.terminate();
    if (this.ctx) this.ctx.close().catch(() => {});
    this.worker = this.node = this.ctx = null;
    this.stats = null;
  }

  // The connection came back: ask again, and forget the old sequence.
  reconnected() {
    if (!this.on) return;
    this.worker.postMessage({ type: 'reset' });
    this.send(true);
  }

  // One AUDIO message: {seq, position, sentUs, data (Uint8Array, ours)}.
  packet(a) {
    if (!this.on) return;
    this.received++;
    this.worker.postMessage({ type: 'packet', seq: a.seq, sentUs: a.sentUs, recvEpoch: epoch(), data: a.data }, [
      a.data.buffer,
    ]);
  }

  fromWorklet(m) {
    if (m.type === 'capture') {
      const done = this.captureDone;
      this.captureDone = null;
      if (done) done(m.samples);
      return;
    }
    if (m.type !== 'stats' || !this.ctx) return;
    // Context time -> epoch ms through the output timestamp (includes output latency).
    const ts = this.ctx.getOutputTimestamp();
    const toEpoch = (t) => performance.timeOrigin + ts.performanceTime + (t - ts.contextTime) * 1000;
    const valid = ts.performanceTime > 0;
    for (const [sentUs, recvEpoch, decEpoch, ctxTime] of m.timing) {
      if (!valid) break;
      const play = toEpoch(ctxTime);
      this.e2e.push(play - sentUs / 1000 + FRAME_MS);
      this.local.push(play - recvEpoch);
      if (decEpoch) this.decode.push(decEpoch - recvEpoch);
    }
    for (const xs of [this.e2e, this.local, this.decode]) if (xs.length > KEEP) xs.splice(0, xs.length - KEEP);
    this.stats = m;
    this.onchange();
  }

  // What the header shows and tests read.
  figures() {
    const s = this.stats;
    const e2e = pct(this.e2e, 0.5);
    const local = pct(this.local, 0.5);
    const plausible = e2e !== null && e2e > 0 && e2e < 2000 && local !== null && e2e >= local - 5;
    return {
      on: this.on,
      received: this.received,
      playing: !!(s && s.playing),
      packets: s ? s.packets : 0,
      underruns: s ? s.underruns : 0,
      concealed: s ? s.concealed : 0,
      lost: s ? s.lost : 0,
      dropped: s ? s.dropped : 0,
      bufferMs: s ? s.avgDepthMs : null,
      minBufferMs: s ? s.minDepthMs : null,
      nowBufferMs: s ? s.depthMs : null,
      targetMs: s ? s.targetMs : null,
      decodeMs: pct(this.decode, 0.5),
      localMs: local,
      e2eP50: plausible ? e2e : null,
      e2eP95: plausible ? pct(this.e2e, 0.95) : null,
      outputMs: this.ctx ? (this.ctx.baseLatency + (this.ctx.outputLatency || 0)) * 1000 : null,
      latencyMs: plausible ? e2e : local,
      errors: [...this.errors],
    };
  }

  // The last 0.5 s the worklet played (left channel), as a Float32Array.
  capture() {
    return new Promise((resolve, reject) => {
      if (!this.node) return reject(new Error('not listening'));
      this.captureDone = resolve;
      this.node.port.postMessage({ type: 'capture' });
    });
  }
}
