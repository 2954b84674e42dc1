// listen-worker.js: the decoding end of "listen here" (a module Worker).
//
// The page forwards each AUDIO message (protocol/PROTOCOL.md, type 12) as
// {type: 'packet', seq, sentUs, recvEpoch, data}. This worker decodes the
// Opus packets with WebCodecs' AudioDecoder (48 kHz stereo; WebCodecs is not
// available inside an AudioWorklet) and posts the PCM straight to the
// worklet over the MessagePort it got in {type: 'init', port}:
//   {type: 'pcm', l, r (Float32Array, transferred), meta: {sentUs, recvEpoch, decEpoch}}
//   {type: 'lost', n}   when sequence numbers skipped n packets
// Epoch times are ms since 1970 (performance.timeOrigin + now()), comparable
// across the page, this worker and (on one machine) the server's sentUs.
// Errors go to the page as {type: 'error', message}.

const PACKET_US = 2500; // 120 frames at 48 kHz
const CONFIG = { codec: 'opus', sampleRate: 48000, numberOfChannels: 2 };
const MAX_DECODE_QUEUE = 40; // packets waiting in the decoder before we skip some

let port = null;
let dec = null;
let expected = null; // next seq
let index = 0; // decode order, used as the chunk timestamp
const metas = new Map();

const epoch = () => performance.timeOrigin + performance.now();

function fail(message) {
  postMessage({ type: 'error', message });
}

function output(ad) {
  const k = Math.round(ad.timestamp / PACKET_US);
  const meta = metas.get(k);
  metas.delete(k);
  const n = ad.numberOfFrames;
  if (!n || !port) {
    ad.close();
    return;
  }
  const l = new Float32Array(n);
  const r = new Float32Array(n);
  ad.copyTo(l, { planeIndex: 0, format: 'f32-planar' });
  ad.copyTo(r, { planeIndex: ad.numberOfChannels > 1 ? 1 : 0, format: 'f32-planar' });
  ad.close();
  if (meta) meta.decEpoch = epoch();
  port.postMessage({ type: 'pcm', l, r, meta }, [l.buffer, r.buffer]);
}

function open() {
  if (dec && dec.state !== 'closed') return;
  dec = new AudioDecoder({ output, error: (e) => fail(`decoder: ${e.message}`) });
  dec.configure(CONFIG);
}

function feed(m) {
  open();
  if (expected !== null && m.seq !== expected) {
    const gap = (m.seq - expected) >>> 0;
    if (gap > 0 && gap < 400 && port) port.postMessage({ type: 'lost', n: gap });
  }
  expected = (m.seq + 1) >>> 0;
  if (dec.decodeQueueSize > MAX_DECODE_QUEUE) {
    // the decoder fell behind: skip, conceal
    if (port) port.postMessage({ type: 'lost', n: 1 });
    return;
  }
  const k = index++;
  metas.set(k, { sentUs: m.sentUs, recvEpoch: m.recvEpoch, decEpoch: 0 });
  metas.delete(k - 400); // outputs that never came
  dec.decode(new EncodedAudioChunk({ type: 'key', timestamp: k * PACKET_US, data: m.data }));
}

onmessage = async (e) => {
  const m = e.data;
  try {
    if (m.type === 'init') {
      port = m.port;
      const { supported } = await AudioDecoder.isConfigSupported(CONFIG);
      if (!supported) return fail('this browser cannot decode Opus (WebCodecs)');
      open();
      postMessage({ type: 'ready' });
    } else if (m.type === 'packet') {
      feed(m);
    } else if (m.type === 'reset') {
      expected = null;
    }
  } catch (err) {
    fail(err.message || String(err));
  }
};
