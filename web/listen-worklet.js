// listen-worklet.js: the playout end of "listen here" (an AudioWorkletProcessor).
//
// Decoded PCM arrives from listen-worker.js over a MessagePort (no main-thread
// hop): one message per Opus packet, 120 stereo frames, or a "lost" note when
// sequence numbers skipped. It plays through a small adaptive jitter buffer:
//  - start (and restart after an underrun) once `target` frames are queued,
//    dropping the oldest packets if more piled up meanwhile (the audio
//    thread may start or stall late): play starts at the target depth;
//  - an underrun raises the target by two packets (up to MAX_TARGET);
//  - after STABLE_S seconds without an underrun, if the smallest depth of
//    the last HISTORY windows still held more than SPARE frames, the excess
//    (up to MAX_SHRINK packets) is dropped from the head of the queue, one
//    packet per quantum, and the target follows: latency shrinks back;
//  - a lost packet, and the rest of a quantum that ran dry, is concealed by
//    repeating the last packet with a fading gain (halved per packet), and
//    the audio after a gap fades in over FADE_IN frames.
// Every ~250 ms it posts its figures to the page (node.port); on request it
// posts the last 0.5 s it played (left channel), for pitch checks.
// The worklet scope has no performance.now(), timers or WebCodecs (FACTS.md).

const PACKET = 120; // frames per Opus packet (2.5 ms at 48 kHz)
const START_TARGET = 8 * PACKET;
const MIN_TARGET = 3 * PACKET;
const MAX_TARGET = 80 * PACKET; // 200 ms
const SPARE = 4 * PACKET; // cushion kept above the smallest depth seen
const WINDOW_FRAMES = 24000; // 0.5 s
const HISTORY = 4; // windows whose smallest depth must all show the excess
const MAX_SHRINK = 8; // packets dropped per decision
const STABLE_S = 10; // seconds without underrun before shrinking
const FADE_IN = 48;
const CAPTURE = 24000; // 0.5 s of played samples kept for capture()
const MAX_QUEUE = 400; // packets (1 s): beyond this the oldest are dropped

class ListenProcessor extends AudioWorkletProcessor {
  constructor() {
    super();
    this.q = []; // {l, r, meta} or {conceal: true}
    this.depth = 0; // frames queued (concealment entries count as a packet)
    this.cur = null; // packet being played
    this.at = 0; // next frame of cur
    this.target = START_TARGET;
    this.playing = false;
    this.lastL = new Float32Array(PACKET);
    this.lastR = new Float32Array(PACKET);
    this.gain = 0; // concealment gain (1 right after real audio)
    this.fade = 0; // frames of fade-in left
    this.cap = new Float32Array(CAPTURE);
    this.capAt = 0;
    this.n = { packets: 0, underruns: 0, concealed: 0, lost: 0, dropped: 0, frames: 0 };
    this.lastUnderrun = -1e9;
    this.win = { frames: 0, min: Infinity, sum: 0, quanta: 0 };
    this.mins = []; // smallest depth of the last HISTORY windows
    this.toDrop = 0; // packets still to drop, one per quantum
    this.sinceReport = 0;
    this.timing = []; // [sentUs, recvEpoch, decEpoch, ctxTime] of some packets as they start playing
    this.port.onmessage = (e) => {
      const m = e.data;
      if (m.type === 'init') {
        m.port.onmessage = (ev) => this.take(ev.data);
      } else if (m.type === 'capture') {
        const out = new Float32Array(CAPTURE);
        out.set(this.cap.subarray(this.capAt));
        out.set(this.cap.subarray(0, this.capAt), CAPTURE - this.capAt);
        this.port.postMessage({ type: 'capture', samples: out }, [out.buffer]);
      }
    };
  }

  take(m) {
    if (m.type === 'lost') {
      this.n.lost += m.n;
      for (let i = 0; i < Math.min(m.n, 8); i++) this.push({ conceal: true });
    } else if (m.type === 'pcm') {
      this.push(m);
    }
  }

  push(e) {
    this.q.push(e);
    this.depth += e.conceal ? PACKET : e.l.length;
    while (this.q.length > MAX_QUEUE) this.dropOldest();
  }

  dropOldest() {
    const e = this.q.shift();
    if (!e) return;
    this.depth -= e.conceal ? PACKET : e.l.length;
    this.n.dropped++;
    this.fade = FADE_IN;
  }

  // One concealed frame: the last real packet again, fading.
  concealFrame(k) {
    const g = this.gain * (1 - 0.5 * (k / PACKET));
    return [this.lastL[k] * g, this.lastR[k] * g];
  }

  process(inputs, outputs) {
    const out = outputs[0];
    const L = out[0];
    const R = out[1] || out[0];
    const n = L.length;
    if (this.toDrop > 0 && this.q.length > 1) {
      this.dropOldest();
      this.toDrop--;
    }
    if (!this.playing && this.depth >= this.target) {
      while (this.depth - PACKET >= this.target && this.q.length > 1) this.dropOldest();
      this.playing = true;
      this.fade = FADE_IN;
    }
    if (this.playing) {
      this.win.min = Math.min(this.win.min, this.depth);
      this.win.sum += this.depth;
      this.win.quanta++;
    }
    for (let i = 0; i < n; i++) {
      let l = 0;
      let r = 0;
      if (this.playing && !this.cur) {
        this.cur = this.q.shift() || null;
        this.at = 0;
        if (!this.cur) {
          // ran dry: conceal what is left of this quantum, then rebuffer
          this.playing = false;
          this.n.underruns++;
          this.lastUnderrun = currentTime;
          this.target = Math.min(MAX_TARGET, this.target + 2 * PACKET);
          this.toDrop = 0;
          this.mins = [];
        } else if (this.cur.meta && this.n.packets % 20 === 0) {
          const m = this.cur.meta;
          this.timing.push([m.sentUs, m.recvEpoch, m.decEpoch, currentTime + i / sampleRate]);
        }
      }
      const c = this.cur;
      if (c && c.conceal) {
        [l, r] = this.concealFrame(this.at);
        if (++this.at === PACKET) {
          this.depth -= PACKET;
          this.gain *= 0.5;
          this.n.concealed++;
          this.cur = null;
          this.fade = FADE_IN;
        }
      } else if (c) {
        l = c.l[this.at];
        r = c.r[this.at];
        if (this.fade > 0) {
          const g = 1 - this.fade / FADE_IN;
          l *= g;
          r *= g;
          this.fade--;
        }
        this.lastL[this.at % PACKET] = c.l[this.at];
        this.lastR[this.at % PACKET] = c.r[this.at];
        if (++this.at === c.l.length) {
          this.depth -= c.l.length;
          this.gain = 1;
          this.n.packets++;
          this.cur = null;
        }
      } else if (this.gain > 0.01) {
        // starved: keep fading the last packet out
        const k = (this.n.frames + i) % PACKET;
        [l, r] = this.concealFrame(k);
        if (k === PACKET - 1) this.gain *= 0.5;
      }
      L[i] = l;
      if (R !== L) R[i] = r;
      this.cap[this.capAt] = l;
      this.capAt = (this.capAt + 1) % CAPTURE;
    }
    this.n.frames += n;
    this.win.frames += n;
    this.sinceReport += n;
    if (this.win.frames >= WINDOW_FRAMES) this.endWindow();
    if (this.sinceReport >= sampleRate / 4) this.report();
    return true;
  }

  // Shrinks the buffer when it held more than it needed for a whole window.
  endWindow() {
    this.mins.push(this.win.min);
    if (this.mins.length > HISTORY) this.mins.shift();
    const least = Math.min(...this.mins);
    const stable = currentTime - this.lastUnderrun > STABLE_S;
    if (stable && this.playing && this.mins.length === HISTORY && least > SPARE) {
      const k = Math.min(MAX_SHRINK, Math.floor((least - SPARE) / PACKET));
      this.toDrop = k;
      this.target = Math.max(MIN_TARGET, this.target - k * PACKET);
      this.mins = [];
    }
    this.lastWin = { min: this.win.min, avg: this.win.sum / Math.max(1, this.win.quanta) };
    this.win = { frames: 0, min: Infinity, sum: 0, quanta: 0 };
  }

  report() {
    this.sinceReport = 0;
    const ms = (f) => (f * 1000) / sampleRate;
    this.port.postMessage({
      type: 'stats',
      playing: this.playing,
      depthMs: ms(this.depth),
      avgDepthMs: this.lastWin ? ms(this.lastWin.avg) : ms(this.depth),
      minDepthMs: this.lastWin ? ms(this.lastWin.min) : 0,
      targetMs: ms(this.target),
      ...this.n,
      timing: this.timing,
      ctxTime: currentTime,
    });
    this.timing = [];
  }
}

registerProcessor('listen', ListenProcessor);
