// studio.js: the studio page (/?project=ID).
//
// One WebSocket to the server (binary, one message per frame, protocol/
// proto_msg.h). Every edit goes through the wasm replica first: it applies
// to the view at once and yields the SUBMIT to send; a refusal (local or
// from the server) becomes a toast with the model's reason. Server messages
// go into the replica too, and the page redraws from its view. No model
// rule is re-implemented here.
//
// Offline: the page starts from what offline.js kept in IndexedDB (the last
// confirmed state and the unsent edits), so it shows the project at once,
// even with no server (sw.js serves the page itself). Edits made offline
// wait in the replica and on disk; HELLO asks for the old client id, so
// WELCOME says which of them the server already holds, and the rest are
// sent again in order.
import { Arrangement } from './arrange.js';
import { DeviceChain } from './devices.js';
import { Listener, listenUnsupported } from './listen.js';
import { loadModel, MSG, PROPS, Refused } from './model.js';
import { Library } from './library.js';
import { KIND, MASTER, MasterStrip, Sends } from './mixer.js';
import { Keeper } from './offline.js';
import { PianoRoll } from './pianoroll.js';
import { Session } from './session.js';
import { NOTE_NAMES, SCALES } from './timeline.js';
import { $, afterPaint, RackDivider, setAttr, setStyle, setText, setValue, toast } from './ui.js';
import { addExportButton } from './export.js';
import { Recorder } from './record.js';

const RATE = 48000; // engine frames per second (meter positions)
const FLOOR_DB = -60; // bottom of the meter scale
const TOP_DB = 6;
const PALETTE = [0xe5484d, 0xf76b15, 0xffc53d, 0x46a758, 0x12a594, 0x0090ff, 0x8e4ec6, 0xd6409f];
const SEND_EVERY_MS = 33; // a dragged fader sends at most 30 live values per second
const SYNC_SETTLE_MS = 300; // the footer's sync line shows a state that has lasted this long
const METER_W = 400; // a track meter's width in its own units (its SVG viewBox)

const hex = (c) => `#${(c >>> 0).toString(16).padStart(6, '0')}`;
const toDb = (g) => (g > 0 ? 20 * Math.log10(g) : -Infinity);
const fmtDb = (g) => (g > 0.00001 ? `${toDb(g) >= 0 ? '+' : '−'}${Math.abs(toDb(g)).toFixed(1)} dB` : '−∞ dB');
const fmtPan = (p) => (Math.abs(p) < 0.005 ? 'C' : `${p < 0 ? 'L' : 'R'}${Math.round(Math.abs(p) * 100)}`);
const gainToSlider = (g) => (g <= 0.001 ? -600 : Math.max(-600, Math.min(120, Math.round(200 * Math.log10(g)))));
const sliderToGain = (v) => (v <= -600 ? 0 : Math.min(4, 10 ** (v / 200)));
const fmtTempo = (t) => String(Math.round(t * 100) / 100);

function identity() {
  try {
    const saved = JSON.parse(localStorage.getItem('backline.user') || 'null');
    if (saved && saved.name) return saved;
  } catch {
    /* a fresh identity below */
  }
  const me = {
    name: `Guest ${100 + Math.floor(Math.random() * 900)}`,
    colour: PALETTE[Math.floor(Math.random() * 8)],
  };
  try {
    localStorage.setItem('backline.user', JSON.stringify(me));
  } catch {
    /* private mode */
  }
  return me;
}

// The track meters' gradient (green to red over the meter's width), for
// url(#meter-grad): one hidden SVG in the page.
function meterDefs() {
  const svg = document.createElementNS('http://www.w3.org/2000/svg', 'svg');
  svg.setAttribute('class', 'meter-defs');
  svg.setAttribute('aria-hidden', 'true');
  svg.innerHTML = `<defs><linearGradient id="meter-grad" gradientUnits="userSpaceOnUse" x1="0" y1="0" x2="${METER_W}" y2="0">
    <stop offset="0" stop-color="#2fb36b"/><stop offset="0.72" stop-color="#9bd14b"/>
    <stop offset="0.86" stop-color="#f2c94c"/><stop offset="1" stop-color="#ef4d4d"/></linearGradient></defs>`;
  document.body.append(svg);
}

// The device rack leaves the mixer for a row of its own under the upper
// area (arrangement or session, mixer or piano roll, master), the whole
// width of the page, with a divider on its top edge (ui.js RackDivider).
function placeRack() {
  const panel = $('devices');
  const divider = document.createElement('div');
  divider.id = 'rack-divider';
  divider.className = 'rack-divider';
  divider.tabIndex = 0;
  divider.setAttribute('role', 'separator');
  divider.setAttribute('aria-orientation', 'horizontal');
  divider.setAttribute('aria-controls', 'devices');
  divider.setAttribute('aria-label', 'Height of the device rack');
  divider.title = 'Drag, or focus and use ↑ ↓, to resize the device rack';
  panel.prepend(divider);
  $('studio-view').append(panel);
  return new RackDivider({ divider, panel, studio: $('studio-view') });
}

export async function startStudio(projectId) {
  $('studio-head').hidden = false;
  $('studio-view').hidden = false;
  $('status-bar').hidden = false;
  document.title = 'Backline studio';
  const rack = placeRack();

  let model;
  try {
    model = await loadModel();
  } catch (e) {
    toast(`The model did not load: ${e.message}`);
    setConn('offline', 'model did not load');
    return;
  }
  meterDefs();
  const me = identity();
  $('me').textContent = `you: ${me.name}`;
  // The engine's status (ENGINE, twice a second): device, DSP load, xruns.
  function showEngine() {
    const g = model.engine();
    const el = $('engine');
    setText(el, `${g.audio} · DSP ${Math.round(g.dsp * 100)}% · ${g.xruns} xrun${g.xruns === 1 ? '' : 's'}`);
    setAttr(el, 'data-state', g.dsp > 0.7 || g.xruns > 0 ? 'warn' : 'ok');
  }

  // What this page kept of the project last time (offline.js).
  const keeper = await Keeper.open(projectId);
  let saved = null;
  try {
    saved = await keeper.load();
    if (saved) {
      const dropped = model.restore(saved);
      if (dropped)
        toast(
          `${dropped} saved edit${dropped > 1 ? 's' : ''} no longer applied and ${dropped > 1 ? 'were' : 'was'} dropped`,
        );
    }
  } catch (e) {
    console.warn(`offline: the saved state did not load (${e.message}); starting from the server`);
    saved = null;
    model = await loadModel(); // a clean replica: the restore may have stopped half way
  }
  keeper.attach(model, saved);

  let ws = null;
  let live = false;
  let wantClient = saved ? saved.clientId : 0;
  let retry = 0;
  let welcomed = false;
  const presence = new Map(); // client id -> {name, colour}
  const meters = new Map(); // track id ("0" = master) -> meter state
  let transport = { position: 0, playing: false, at: performance.now() };
  let verified = ''; // "seq:hash" the server confirmed over REST (the sync line's check)
  let agrees = false; // the last check found the server agreeing

  // ---- Connection ------------------------------------------------------------
  function setConn(state, text) {
    const el = $('conn');
    el.dataset.state = state;
    el.textContent = text || state;
    if (state !== 'live') $('engine').textContent = ''; // the next ENGINE says it again
  }

  // While the browser knows it is offline, no attempts (each would fail and
  // be logged); the 'online' event starts again.
  let waitingOnline = false;
  function offlineText() {
    return model.nPending() ? 'offline · edits kept on this device' : 'offline';
  }
  function connect() {
    if (ws) return;
    if (navigator.onLine === false) {
      waitingOnline = true;
      setConn('offline', offlineText());
      return;
    }
    setConn('connecting', welcomed ? 'reconnecting' : 'connecting');
    const proto = location.protocol === 'https:' ? 'wss' : 'ws';
    const sock = new WebSocket(`${proto}://${location.host}/ws`, 'backline');
    sock.binaryType = 'arraybuffer';
    ws = sock;
    sock.onopen = () => sock.send(model.hello(projectId, me.name, me.colour, wantClient));
    sock.onmessage = (ev) => {
      if (ws === sock && ev.data instanceof ArrayBuffer) onMessage(ev.data);
    };
    sock.onclose = () => lost(sock);
  }

  // The connection SOCK is gone (or given up): try again later.
  function lost(sock) {
    if (ws !== sock) return;
    ws = null;
    live = false;
    const delay = Math.min(5000, 250 * 2 ** retry++);
    setConn('offline', `${offlineText()} · reconnecting in ${Math.ceil(delay / 1000)} s`);
    presence.clear();
    renderPresence();
    setTimeout(connect, delay);
  }

  window.addEventListener('online', () => {
    if (!waitingOnline) return;
    waitingOnline = false;
    retry = 0;
    connect();
  });
  // The network is gone: say so now rather than when TCP notices.
  window.addEventListener('offline', () => {
    const sock = ws;
    if (!sock) return;
    lost(sock);
    sock.close();
  });
  // Store the confirmed state now when the page may go away.
  window.addEventListener('pagehide', () => {
    keepNow();
    keeper.flush();
  });
  document.addEventListener('visibilitychange', () => {
    if (document.visibilityState !== 'hidden') return;
    keepNow();
    keeper.flush();
  });

  // This page's own edits reach IndexedDB (offline.js) just after the frame
  // that shows them: the keeper encodes every pending edit and may
  // serialize the whole confirmed project, which would otherwise hold that
  // frame up. Whatever else touches the replica or the keeper (a message
  // from the server, pagehide, saved()) settles the deferred call first,
  // so the keeper sees the same sequence of states as if it ran at once.
  let keepQueued = false;
  function keepLater() {
    if (keepQueued) return;
    keepQueued = true;
    afterPaint(keepNow);
  }
  function keepNow() {
    if (!keepQueued) return;
    keepQueued = false;
    keeper.changed(0);
  }

  function send(msg) {
    if (live && ws && ws.readyState === WebSocket.OPEN) ws.send(msg);
  }

  function onMessage(buf) {
    keepNow();
    const type = model.receive(buf);
    if (type < 0) {
      toast(`Out of step with the server (${model.reason()}); reconnecting`);
      ws.close();
      return;
    }
    switch (type) {
      case MSG.WELCOME:
        live = welcomed = true;
        retry = 0;
        wantClient = model.clientId();
        setConn('live');
        for (const msg of model.pending()) ws.send(msg); // edits made while offline
        listener.reconnected();
        if (selected) send(model.select(selected));
        keeper.changed(type);
        changed();
        break;
      case MSG.REJECT:
        toast(`Refused by the server: ${model.reason()}`);
        keeper.changed(type);
        changed();
        break;
      case MSG.ACK:
      case MSG.BROADCAST:
        keeper.changed(type);
        changed(true);
        break;
      case MSG.METERS:
        takeMeters();
        break;
      case MSG.ENGINE:
        showEngine();
        break;
      case MSG.LIVE:
        showLive(model.lastLive());
        break;
      case MSG.AUDIO:
        listener.packet(model.audio());
        break;
      case MSG.PRESENCE: {
        const p = model.presence();
        if (p.online && p.client !== model.clientId()) presence.set(p.client, p);
        else presence.delete(p.client);
        renderPresence();
        break;
      }
    }
  }

  // ---- Edits -------------------------------------------------------------------
  // Runs FN (a model edit returning a SUBMIT), sends it, redraws. A refusal
  // shows its reason and changes nothing. Returns whether the edit applied.
  function edit(fn) {
    let ok = false;
    try {
      send(fn());
      keepLater();
      ok = true;
    } catch (e) {
      if (!(e instanceof Refused)) throw e;
      toast(`Refused: ${e.message}`);
    }
    changed();
    return ok;
  }

  // Sends the message FN makes, without an edit (LIVE values); a refusal is dropped.
  function sendOnly(fn) {
    try {
      send(fn());
    } catch (e) {
      if (!(e instanceof Refused)) throw e;
    }
  }

  // A throttled send for sliders being dragged: at most one per
  // SEND_EVERY_MS, last value wins.
  function throttled() {
    let last = 0;
    let timer = 0;
    let next = null;
    const flush = () => {
      timer = 0;
      last = performance.now();
      if (next) sendOnly(next);
      next = null;
    };
    return (fn, now = false) => {
      next = fn;
      const wait = SEND_EVERY_MS - (performance.now() - last);
      if (now || wait <= 0) {
        clearTimeout(timer);
        flush();
      } else if (!timer) timer = setTimeout(flush, wait);
    };
  }

  // ---- Rendering -------------------------------------------------------------
  // changed() after anything that may have changed the model's view (or
  // left an input showing a value the model refused); changed(true) after
  // a server message, which re-renders only if the view's hash moved: the
  // ACK of this page's own edit changes nothing on screen, and re-reading
  // the whole model then would only hold up the next frame.
  let queued = false;
  let full = false; // a queued render that must not be skipped
  let shownHash = ''; // the view hash last rendered
  function changed(fromServer = false) {
    if (!fromServer) full = true;
    if (queued) return;
    queued = true;
    queueMicrotask(() => {
      queued = false;
      const force = full;
      full = false;
      render(force);
    });
  }

  const rows = new Map(); // track id -> row elements

  function render(force = true) {
    setDisabled($('undo'), model.nUndo() === 0);
    setDisabled($('redo'), model.nRedo() === 0);
    const hash = model.hashView();
    if (!force && hash === shownHash) return renderSync();
    shownHash = hash;
    // What changed (model.changes()) decides what is read again: nothing
    // noted (the first render, or one for the page's own sake, such as an
    // input to put back) reads everything.
    const ch = model.changes();
    const all = !rendered || ch.all || (!ch.shaped.size && !ch.set.size);
    const touches = (...types) => all || types.some((t) => ch.shaped.has(t) || ch.set.has(t));
    let added = false;
    if (touches('track', 'project', 'send')) added = renderTracks(all, ch); // sends show in the rows
    // The arrangement, piano roll and session view re-read the model and
    // redraw, unless all that changed is a mixer fader or a device knob,
    // which none of them shows.
    const faders = !all && mixerOnly(ch) && !ch.set.has('device');
    if (all || !mixerOnly(ch)) {
      if (!all && trackLooksOnly(ch)) arrangement.tracksChanged();
      else if (!all && clipsOnly(ch)) arrangement.clipsChanged(ch.ids);
      else if (!all && notesOnly(ch)) {
        if (!$('piano').hidden) arrangementLater(ch.homes);
        else if (ch.homes) arrangement.notesChanged(ch.homes);
        else arrangement.changed(true);
      } else arrangement.changed(all || ch.shaped.has('note') || ch.set.has('note'));
      piano.changed();
      session.changed();
    }
    rendered = true;
    if (touches('device', 'track') && !faders) devices.changed(); // the rack shows no fader
    renderViews();
    renderSync();
    if (added) renderPresence(); // the new rows' rings
    // New rows' meters, the position in a new tempo map: one frame of the
    // meter loop. Only then: a queued animation frame makes the browser
    // wait for the display's next tick to paint this edit.
    if (added || touches('tempo', 'project')) wake();
  }

  // The header's project fields and the mixer's rows; returns whether a row
  // was added. ALL: write every row again (an input may show a value the
  // model refused); else rows whose track is unchanged are left alone, and
  // the send knobs are rebuilt only when sends, tracks or names changed (CH).
  function renderTracks(all, ch) {
    const p = model.project();
    if (!$('project-name').querySelector('input')) setText($('project-name'), p.name);
    if (document.title !== `${p.name} · Backline`) document.title = `${p.name} · Backline`;
    const tempo = $('tempo');
    if (document.activeElement !== tempo) setValue(tempo, fmtTempo(p.tempo));
    setText($('ts'), `${p.tsNum}/${p.tsDen}`);
    setAttr($('metronome'), 'aria-pressed', String(p.metronome));
    if (document.activeElement !== $('count-in')) setValue($('count-in'), String(model.get('project', 'count_in')));
    project = p;

    const list = $('tracks');
    const seen = new Set();
    let added = false;
    const returns = sends.returns(p);
    sends.prune(p);
    setStyle(list, '--sends-w', `${returns.length ? returns.length * 102 - 6 : 0}px`);
    // The knobs are labelled with their track's and return's names: a
    // rename touches its own row's, or every row's when a return was renamed.
    const sendsChanged =
      all || ch.shaped.has('send') || ch.set.has('send') || ch.shaped.has('track') || ch.props.has('kind') ||
      (ch.props.has('name') && returns.some((r) => rows.get(r.id)?.track?.name !== r.name));
    p.tracks.forEach((t, i) => {
      let row = rows.get(t.id);
      if (!row) {
        rows.set(t.id, (row = makeRow(t.id)));
        added = true;
        const m = meters.get(t.id);
        if (m) m.drawn = null; /* a new meter: draw it */
      }
      seen.add(t.id);
      updateRow(row, t, all || ch.props.has('kind'));
      if (sendsChanged || row.sendsName !== t.name) sends.update(row.sends, t, returns);
      row.sendsName = t.name;
      if (list.children[i] !== row.li) list.insertBefore(row.li, list.children[i] || null);
    });
    for (const [id, row] of rows) {
      if (!seen.has(id)) {
        row.li.remove();
        rows.delete(id);
      }
    }
    setText($('n-tracks'), p.tracks.length ? `(${p.tracks.length})` : '');
    $('no-tracks').hidden = p.tracks.length > 0;
    master.update();
    return added;
  }
  let rendered = false; // the first render reads everything
  const MIXER_PROPS = new Set(['gain', 'pan', 'solo']);
  // Whether the changes CH (model.changes()) are only sets of a track's
  // gain, pan or solo, or only sets on devices.
  function mixerOnly(ch) {
    if (ch.all || ch.shaped.size || !ch.set.size) return false;
    if (ch.set.size === 1 && ch.set.has('device')) return true;
    return ch.set.size === 1 && ch.set.has('track') && [...ch.props].every((p) => MIXER_PROPS.has(p));
  }
  // Whether CH holds only sets of tracks' names, colours, mutes (or faders).
  const LANE_PROPS = new Set(['name', 'colour', 'mute', ...MIXER_PROPS]);
  function trackLooksOnly(ch) {
    if (ch.all || ch.shaped.size || ch.set.size !== 1 || !ch.set.has('track')) return false;
    return [...ch.props].every((p) => LANE_PROPS.has(p));
  }
  // Whether CH holds only properties set on clips it names.
  function clipsOnly(ch) {
    return !ch.all && !ch.shaped.size && ch.set.size === 1 && ch.set.has('clip') && ch.ids !== null;
  }
  // Whether CH holds only notes created, deleted, moved or set.
  function notesOnly(ch) {
    return !ch.all && [...ch.shaped, ...ch.set].every((t) => t === 'note');
  }
  // Notes edited in the piano roll: its own frame shows them first; the
  // arrangement's thumbnails of the clips HOMES (null: all of them, read
  // again) follow in the frame after.
  let later = null; // {homes, all} waiting for that frame
  function arrangementLater(homes) {
    if (!later) {
      later = { homes: new Set(), all: false };
      afterPaint(() => {
        const { homes: h, all } = later;
        later = null;
        if (all) arrangement.changed(true);
        else arrangement.notesChanged(h);
      });
    }
    if (homes) for (const id of homes) later.homes.add(id);
    else later.all = true;
  }
  const setDisabled = (el, on) => {
    if (el.disabled !== on) el.disabled = on;
  };
  let project = model.project();

  // The footer's sync line. Its data- attributes follow the model at once
  // (no style depends on them); its text and colour settle SYNC_SETTLE_MS
  // after the last change, and say only what a person needs: in sync (✓
  // once the server has agreed), or how many edits wait. The sequence and
  // hashes are in its tooltip. So a routine edit repaints nothing there:
  // an ACK that repainted the footer would cost each edit a second frame,
  // and an edit landing just after any frame waits for the display's tick.
  let syncTimer = 0;
  function renderSync() {
    const el = $('sync');
    setAttr(el, 'data-seq', String(model.seq()));
    setAttr(el, 'data-hash', model.hashConfirmed());
    setAttr(el, 'data-pending', String(model.nPending()));
    clearTimeout(syncTimer);
    syncTimer = setTimeout(showSync, live ? SYNC_SETTLE_MS : 0);
    if (!model.nPending() && live) scheduleVerify();
  }
  function showSync() {
    const el = $('sync');
    const pending = model.nPending();
    setAttr(el, 'data-state', pending ? 'pending' : 'sync');
    setText(el, pending ? `${pending} edit${pending > 1 ? 's' : ''} pending` : `in sync${agrees ? ' ✓' : ''}`);
  }
  // Its tooltip, written when a pointer comes to it: a new title costs the
  // page a frame.
  function syncTitle() {
    const seq = model.seq();
    const hash = model.hashConfirmed();
    const checked = verified === `${seq}:${hash}` ? '; the server agrees' : '';
    setAttr($('sync'), 'title', `seq ${seq}, confirmed ${hash}${checked}; this page shows ${model.hashView()}`);
  }
  $('sync').addEventListener('pointerenter', syncTitle);

  // Asks the server for its state once things are quiet (once per confirmed
  // state), to show that the page agrees with it, and says so loudly if not.
  let verifyTimer = 0;
  function scheduleVerify() {
    clearTimeout(verifyTimer);
    if (verified === `${model.seq()}:${model.hashConfirmed()}`) return;
    verifyTimer = setTimeout(async () => {
      if (!live || navigator.onLine === false) return; // it would only fail (and be logged)
      try {
        const res = await fetch(`/api/projects/${encodeURIComponent(projectId)}/state`);
        if (!res.ok) return;
        const s = await res.json();
        if (s.seq !== model.seq() || model.nPending()) return; // moved on meanwhile
        agrees = s.hash === model.hashConfirmed();
        if (agrees) verified = `${s.seq}:${s.hash}`;
        else toast(`This page disagrees with the server at seq ${s.seq}; reconnecting`);
        if (!agrees && ws) ws.close();
        renderSync();
      } catch {
        /* offline: the connection state already says so */
      }
    }, 800);
  }

  function makeRow(id) {
    const li = document.createElement('li');
    li.className = 'track';
    li.dataset.id = id;
    li.addEventListener('focusin', () => select(id));
    li.addEventListener('pointerdown', () => select(id));
    li.innerHTML = `
      <span class="swatch"></span>
      <input class="colour" type="color">
      <input class="tname" maxlength="64" autocomplete="off" spellcheck="false">
      <div class="ms">
        <button class="mute" aria-pressed="false">M</button>
        <button class="solo" aria-pressed="false">S</button>
      </div>
      <label class="ctl gain"><span>Gain</span><input type="range" min="-600" max="120" step="5"><output></output></label>
      <label class="ctl pan"><span>Pan</span><input type="range" min="-100" max="100" step="1"><output></output></label>
      <div class="sends" role="group"></div>
      <svg class="meter" viewBox="0 0 ${METER_W} 18" preserveAspectRatio="none">
        <rect class="m-level" height="18" width="0" opacity="0.45" fill="url(#meter-grad)"/>
        <rect class="m-avg" height="18" width="0" fill="url(#meter-grad)"/>
        <rect class="m-hold" height="18" width="0"/>
        <rect class="m-zero" height="18" width="1.5" x="${Math.round(dbPos(1) * METER_W)}"/>
      </svg>
      <button class="del">✕</button>`;
    const q = (s) => li.querySelector(s);
    const row = {
      li,
      id,
      swatch: q('.swatch'),
      colour: q('.colour'),
      name: q('.tname'),
      mute: q('.mute'),
      solo: q('.solo'),
      gain: q('.gain input'),
      gainOut: q('.gain output'),
      pan: q('.pan input'),
      panOut: q('.pan output'),
      meter: q('.meter'),
      sends: q('.sends'),
      bars: { level: q('.m-level'), avg: q('.m-avg'), hold: q('.m-hold') },
      del: q('.del'),
      busy: new Set(),
    };
    const gainSend = throttled();
    const panSend = throttled();
    row.name.addEventListener('change', () => {
      const v = row.name.value.trim();
      if (v) edit(() => model.set(id, 'name', v));
      else changed();
    });
    row.name.addEventListener('keydown', (ev) => {
      if (ev.key === 'Enter') {
        ev.preventDefault(); // no keypress: it would lay the page out again for nothing
        row.name.blur();
      }
      if (ev.key === 'Escape') {
        row.name.value = row.track.name;
        row.name.blur();
      }
    });
    row.name.addEventListener('blur', () => changed());
    row.colour.addEventListener('change', () =>
      edit(() => model.set(id, 'colour', parseInt(row.colour.value.slice(1), 16))),
    );
    row.mute.addEventListener('click', () => edit(() => model.set(id, 'mute', !row.track.mute)));
    row.solo.addEventListener('click', () => edit(() => model.set(id, 'solo', !row.track.solo)));
    for (const [input, send, prop, conv] of [
      [row.gain, gainSend, 'gain', (v) => sliderToGain(v)],
      [row.pan, panSend, 'pan', (v) => v / 100],
    ]) {
      input.addEventListener('pointerdown', () => row.busy.add(input));
      // While it moves: LIVE values, heard and shown to others, not stored.
      input.addEventListener('input', () => {
        const v = conv(Number(input.value));
        if (prop === 'gain') row.gainOut.textContent = fmtDb(v);
        else row.panOut.textContent = fmtPan(v);
        // A key changes it in one step: its 'change' follows at once.
        if (row.busy.has(input)) send(() => model.live(id, prop, v));
      });
      // Let go: the final value is one op, one undo step.
      input.addEventListener('change', () => {
        row.busy.delete(input);
        edit(() => model.set(id, prop, conv(Number(input.value))));
      });
    }
    row.gain.addEventListener('dblclick', () => edit(() => model.set(id, 'gain', 1)));
    row.pan.addEventListener('dblclick', () => edit(() => model.set(id, 'pan', 0)));
    row.del.addEventListener('click', () => edit(() => model.remove(id)));
    return row;
  }

  // Someone else is dragging a fader: show it moving; the model (and so the
  // next render) keeps the stored value until their final op arrives.
  function showLive(l) {
    if (devices.cards.has(l.id)) devices.showLive(l, (p) => PROPS[p][0]);
    const prop = Object.keys(PROPS).find((k) => PROPS[k][0] === l.prop);
    if (sends.showLive(l, prop) || master.showLive(l, prop)) return;
    const row = rows.get(l.id);
    if (!row) return;
    if (l.prop === 7 && !row.busy.has(row.gain)) {
      row.gain.value = String(gainToSlider(l.value));
      row.gainOut.textContent = fmtDb(l.value);
    } else if (l.prop === 8 && !row.busy.has(row.pan)) {
      row.pan.value = String(Math.round(l.value * 100));
      row.panOut.textContent = fmtPan(l.value);
    }
  }

  function updateRow(row, t, all) {
    const o = row.track;
    if (!all && o && ROW_PROPS.every((k) => o[k] === t[k])) return;
    // The inputs may show a value the model refused (or one being typed).
    if (document.activeElement !== row.name) setValue(row.name, t.name);
    setValue(row.colour, hex(t.colour));
    if (!row.busy.has(row.gain)) setValue(row.gain, String(gainToSlider(t.gain)));
    setText(row.gainOut, fmtDb(t.gain));
    if (!row.busy.has(row.pan)) setValue(row.pan, String(Math.round(t.pan * 100)));
    setText(row.panOut, fmtPan(t.pan));
    row.li.classList.toggle('selected', row.id === selected);
    row.track = t;
    if (o && ROW_PROPS.every((k) => o[k] === t[k])) return; // the rest shows what it showed
    setStyle(row.li, '--c', hex(t.colour));
    setAttr(row.colour, 'aria-label', `Colour of ${t.name}`);
    setAttr(row.name, 'aria-label', `Name of track ${t.name}`);
    setAttr(row.mute, 'aria-pressed', String(t.mute));
    setAttr(row.mute, 'aria-label', `Mute ${t.name}`);
    setAttr(row.solo, 'aria-pressed', String(t.solo));
    setAttr(row.solo, 'aria-label', `Solo ${t.name}`);
    setAttr(row.gain, 'aria-label', `Gain of ${t.name}`);
    setAttr(row.gain, 'aria-valuetext', fmtDb(t.gain));
    setAttr(row.pan, 'aria-label', `Pan of ${t.name}`);
    setAttr(row.pan, 'aria-valuetext', fmtPan(t.pan));
    setAttr(row.meter, 'aria-label', `Level of ${t.name}`);
    setAttr(row.meter, 'role', 'img');
    setAttr(row.del, 'aria-label', `Delete track ${t.name}`);
    setAttr(row.sends, 'aria-label', `Sends of ${t.name}`);
    row.li.classList.toggle('return-track', model.get(t.id, 'kind') === KIND.return);
    row.li.classList.toggle('muted-track', t.mute);
  }
  const ROW_PROPS = ['name', 'colour', 'gain', 'pan', 'mute', 'solo'];

  // What this user has selected: told to the others (PRESENCE), who see a
  // ring in this user's colour around that track.
  // The selected track's devices show in the mixer; its row, the
  // arrangement lane and the session column are marked.
  let selected = null;
  function select(id) {
    if (id === selected) return;
    selected = id;
    sendOnly(() => model.select(id, Math.round(arrangement.scrollX)));
    const track = id && model.typeOf(id) === 'track' ? id : null;
    for (const row of rows.values()) row.li.classList.toggle('selected', row.id === track);
    session.setSelected(track);
    devices.show(track);
    rows.get(track)?.li.scrollIntoView({ block: 'nearest' }); // the device chain may have taken the room
  }

  function renderPresence() {
    arrangement.setOthers([...presence.values()]);
    const ul = $('presence');
    ul.replaceChildren();
    for (const p of presence.values()) {
      const li = document.createElement('li');
      li.style.setProperty('--c', hex(p.colour));
      li.textContent = p.name;
      li.title = `${p.name} is online`;
      ul.append(li);
    }
    for (const row of rows.values()) {
      const by = [...presence.values()].find((p) => p.selection === row.id);
      row.li.classList.toggle('selected-by', !!by);
      if (by) row.li.style.setProperty('--sel', hex(by.colour));
      row.li.title = by ? `${by.name} is on this track` : '';
    }
  }

  // ---- Meters and position -----------------------------------------------------
  function meterState(id) {
    let m = meters.get(id);
    if (!m) meters.set(id, (m = { peak: 0, rms: 0, level: 0, avg: 0, hold: 0, holdAt: 0 }));
    return m;
  }

  function takeMeters() {
    const { position, playing, list, lufsM, lufsS } = model.meters();
    master.loudness(lufsM, lufsS);
    if (playing || playing !== transport.playing || position !== transport.position) wake();
    transport = { position, playing, at: performance.now() };
    for (const e of list) {
      const m = meterState(e.id);
      if (m.peak !== e.peak || m.rms !== e.rms) wake();
      m.peak = e.peak;
      m.rms = e.rms;
    }
    session.state(list, playing);
    if ($('play').classList.contains('on') !== playing) $('play').classList.toggle('on', playing);
    setAttr($('play'), 'aria-pressed', String(playing));
  }

  const dbPos = (v) => {
    if (v <= 0) return 0;
    const db = 20 * Math.log10(v);
    return Math.max(0, Math.min(1, (db - FLOOR_DB) / (TOP_DB - FLOOR_DB)));
  };

  function fit(canvas) {
    const dpr = window.devicePixelRatio || 1;
    const w = Math.round(canvas.clientWidth * dpr);
    const h = Math.round(canvas.clientHeight * dpr);
    if (w && h && (canvas.width !== w || canvas.height !== h)) {
      canvas.width = w;
      canvas.height = h;
    }
    return canvas.getContext('2d');
  }

  // A track's meter is SVG, not a canvas: every canvas is a composited
  // layer of its own, and 32 of them in the track list took everything
  // drawn over them into layers too (~100 layers), which made every frame
  // that painted anything slow to layerize and commit. Its gradient is
  // defined once (meterDefs), in the meter's units.
  function drawTrackMeter(row, m) {
    const x = (v) => String(Math.round(dbPos(v) * METER_W));
    row.bars.level.setAttribute('width', x(m.level));
    row.bars.avg.setAttribute('width', x(m.avg));
    const hold = row.bars.hold;
    hold.setAttribute('width', m.hold > 0 ? '2' : '0');
    hold.setAttribute('x', String(Math.max(0, Number(x(m.hold)) - 2)));
    hold.setAttribute('class', m.hold >= 1 ? 'm-hold m-over' : 'm-hold');
  }

  // Draws one meter: rms bar, peak bar, hold line; VERTICAL for the master.
  function drawMeter(canvas, m, vertical) {
    const g = fit(canvas);
    const W = canvas.width;
    const H = canvas.height;
    const len = vertical ? H : W;
    g.fillStyle = '#15181e';
    g.fillRect(0, 0, W, H);
    const grad = vertical ? g.createLinearGradient(0, H, 0, 0) : g.createLinearGradient(0, 0, W, 0);
    grad.addColorStop(0, '#2fb36b');
    grad.addColorStop(0.72, '#9bd14b');
    grad.addColorStop(0.86, '#f2c94c');
    grad.addColorStop(1, '#ef4d4d');
    const bar = (from, to, alpha) => {
      g.globalAlpha = alpha;
      g.fillStyle = grad;
      const a = Math.round(from * len);
      const b = Math.round(to * len);
      if (vertical) g.fillRect(0, H - b, W, b - a);
      else g.fillRect(a, 0, b - a, H);
    };
    bar(0, dbPos(m.level), 0.45);
    bar(0, dbPos(m.avg), 1);
    g.globalAlpha = 1;
    if (m.hold > 0) {
      const x = Math.round(dbPos(m.hold) * len);
      g.fillStyle = m.hold >= 1 ? '#ff6b6b' : '#e8ecf2';
      if (vertical) g.fillRect(0, H - x, W, Math.max(2, Math.round(H / 180)));
      else g.fillRect(Math.max(0, x - 2), 0, 2, H);
    }
    // 0 dB tick
    g.fillStyle = 'rgba(255,255,255,0.35)';
    const z = Math.round(dbPos(1) * len);
    if (vertical) g.fillRect(0, H - z, W, 1);
    else g.fillRect(z, 0, 1, H);
  }

  // The frame loop runs only while something on screen moves (a meter
  // rising, falling or holding its peak; the position while playing). An
  // idle studio asks for no frames, so an edit is painted in the next frame
  // the browser can make: while any page keeps a requestAnimationFrame loop
  // going, its frames come only on the display's ticks, and every change
  // waits up to a whole tick (~17 ms) before it can be painted.
  let lastFrame = performance.now();
  let frameQueued = false;
  let masterDrawn = false;
  function wake() {
    if (frameQueued) return;
    frameQueued = true;
    lastFrame = performance.now(); // asleep, nothing fell: time starts now
    requestAnimationFrame(frame);
  }
  addEventListener('resize', () => {
    for (const m of meters.values()) m.drawn = null;
    masterDrawn = false;
    wake();
  });
  let positionText = '';
  let clockText = '';
  function frame(now) {
    frameQueued = false;
    const dt = Math.min(0.1, Math.max(0, now - lastFrame) / 1000);
    lastFrame = now;
    let moving = transport.playing;
    for (const [id, m] of meters) {
      // Fast attack, ~20 dB/s release; peak hold for 1.5 s.
      const fall = 10 ** ((-20 * dt) / 20);
      m.level = Math.max(m.peak, m.level * fall);
      m.avg = Math.max(m.rms, m.avg * fall);
      if (m.peak >= m.hold || now - m.holdAt > 1500) {
        m.hold = m.peak >= m.hold ? m.peak : m.hold * fall;
        if (m.peak >= m.hold) m.holdAt = now;
      }
      if (m.hold < 0.0005) m.hold = 0;
      // Below -100 dB a falling bar is gone (the scale ends at -60 dB).
      if (m.level < 0.00001) m.level = 0;
      if (m.avg < 0.00001) m.avg = 0;
      // A level held up by its input (peak) stays still until the next METERS.
      if (m.level > m.peak || m.avg > m.rms || m.hold > m.peak) moving = true;
      // Redraw only what moved by a visible amount: an idle studio paints nothing.
      const key = `${Math.round(m.level * 400)}|${Math.round(m.avg * 400)}|${Math.round(m.hold * 400)}`;
      if (key === m.drawn) continue;
      m.drawn = key;
      if (id === '0') master.draw(m);
      else {
        const row = rows.get(id);
        if (row) drawTrackMeter(row, m);
      }
    }
    if (!meters.has('0') && !masterDrawn) master.draw(meterState('0')), (masterDrawn = true);
    for (const row of rows.values())
      if (!meters.has(row.id) && !row.meterDrawn)
        drawTrackMeter(row, meterState(row.id)), (row.meterDrawn = true);
    const pos = transport.position + (transport.playing ? ((now - transport.at) / 1000) * RATE : 0);
    // Bars, beats and the playhead through the tempo and meter map (mdl_time).
    const tick = arrangement.time.tick(pos / RATE);
    const text = arrangement.time.format(tick, true);
    if (text !== positionText) $('position').textContent = positionText = text;
    const secs = Math.max(0, pos / RATE);
    const clock = `${Math.floor(secs / 60)}:${(secs % 60).toFixed(3).padStart(6, '0')}`;
    if (clock !== clockText) setText($('time'), (clockText = clock));
    arrangement.setPlayhead(tick, transport.playing);
    if (moving) {
      frameQueued = true;
      requestAnimationFrame(frame);
    }
  }

  // ---- Controls -----------------------------------------------------------------
  $('play').addEventListener('click', () => {
    if (!live) return toast('Offline: the transport needs the server');
    ws.send(model.transport(true));
  });
  $('stop').addEventListener('click', () => {
    if (recorder.recording) recorder.finish();
    else if (live) ws.send(model.transport(false));
  });
  $('record').addEventListener('click', () => {
    if (!live && !recorder.recording) return toast('Offline: recording needs the server');
    recorder.toggle();
  });
  $('keys').addEventListener('click', () => recorder.setKeys(!recorder.keys));
  // The project's name: click (or Enter on it) to rename; Enter stores it
  // (one op, one undo step), Escape keeps it.
  const pname = $('project-name');
  pname.tabIndex = 0;
  pname.setAttribute('role', 'button');
  pname.title = 'Rename the project';
  const renameProject = () => {
    if (pname.querySelector('input')) return;
    const input = document.createElement('input');
    input.type = 'text';
    input.className = 'rename';
    input.value = model.project().name;
    input.setAttribute('aria-label', 'New name of the project');
    pname.replaceChildren(input);
    input.focus();
    input.select();
    let done = false;
    const finish = (store) => {
      if (done) return;
      done = true;
      const name = input.value.trim();
      pname.textContent = model.project().name;
      if (store && name && name !== model.project().name) edit(() => model.set('project', 'name', name));
    };
    input.addEventListener('keydown', (ev) => {
      ev.stopPropagation();
      if (ev.key === 'Enter') finish(true);
      else if (ev.key === 'Escape') finish(false);
    });
    input.addEventListener('blur', () => finish(true));
  };
  pname.addEventListener('click', renameProject);
  pname.addEventListener('keydown', (ev) => ev.key === 'Enter' && ev.target === pname && renameProject());
  $('count-in').addEventListener('change', () => edit(() => model.set('project', 'count_in', Number($('count-in').value))));
  // The computer keyboard as a piano (Keys on): its letters play notes and
  // do nothing else, so this listens before the views' shortcuts do.
  const typing = (ev) => ev.target.closest?.('input, select, textarea, [contenteditable]');
  for (const [type, down] of [['keydown', true], ['keyup', false]])
    window.addEventListener(
      type,
      (ev) => {
        if (typing(ev) || document.querySelector('dialog[open]')) return;
        if (down && !recorder.keys && ev.key.toLowerCase() === 'm' && !ev.ctrlKey && !ev.metaKey && !ev.altKey) {
          ev.preventDefault();
          return recorder.setKeys(true);
        }
        if (down && recorder.keys && ev.key.toLowerCase() === 'm') {
          ev.preventDefault();
          ev.stopPropagation();
          return recorder.setKeys(false);
        }
        if (recorder.key(ev, down)) ev.preventDefault(), ev.stopPropagation();
      },
      true,
    );
  $('tempo').addEventListener('change', () => {
    const el = $('tempo');
    const v = Number(el.value);
    if (el.value.trim() === '' || !Number.isFinite(v)) toast('Refused: the tempo must be a number');
    else edit(() => model.set('project', 'tempo', v));
    el.value = fmtTempo(model.project().tempo);
  });
  $('tempo').addEventListener('keydown', (ev) => {
    if (ev.key === 'Enter') $('tempo').blur();
  });
  $('metronome').addEventListener('click', () => edit(() => model.set('project', 'metronome', !project.metronome)));
  $('add-track').addEventListener('submit', (ev) => {
    ev.preventDefault();
    const input = $('add-name');
    const name = input.value.trim() || `Track ${project.tracks.length + 1}`;
    edit(() => model.createTrack(name).msg);
    input.value = '';
  });
  $('undo').addEventListener('click', () => edit(() => model.undo()));
  $('help').addEventListener('click', () => $('shortcuts').showModal());
  $('listen').before(addExportButton(projectId, () => model.project().name, () => live));
  $('redo').addEventListener('click', () => edit(() => model.redo()));
  document.addEventListener('keydown', (ev) => {
    // Ctrl/Cmd+Z undoes, with Shift (or Ctrl+Y) redoes; text fields keep their own.
    const mod = ev.ctrlKey || ev.metaKey;
    if (mod && !ev.target.closest('input[type=text], input:not([type]), textarea')) {
      const key = ev.key.toLowerCase();
      if (key === 'z' || key === 'y') {
        ev.preventDefault();
        $(key === 'y' || ev.shiftKey ? 'redo' : 'undo').click();
        return;
      }
    }
    if (ev.key === '?' && !ev.target.closest('input, textarea')) {
      ev.preventDefault();
      $('help').click();
      return;
    }
    if (ev.code !== 'Space' || ev.target.closest('input, button, select, textarea')) return;
    ev.preventDefault();
    $(transport.playing ? 'stop' : 'play').click();
  });

  // ---- Listen here (listen.js) ----------------------------------------------------
  const listener = new Listener(
    (on) => send(model.listen(on)),
    () => renderListen(),
  );
  let listenShown = 0;
  function renderListen() {
    const f = listener.figures();
    const btn = $('listen');
    btn.setAttribute('aria-pressed', String(f.on));
    const out = $('listen-latency');
    out.hidden = !f.on;
    if (!f.on || performance.now() - listenShown < 250) return;
    listenShown = performance.now();
    const ms = (v) => (v === null ? '…' : `${Math.round(v)} ms`);
    out.textContent = f.packets ? ms(f.latencyMs) : 'waiting for audio';
    out.title =
      `buffer ${ms(f.bufferMs)} · decode ${ms(f.decodeMs)} · output ${ms(f.outputMs)}` +
      (f.e2eP50 === null
        ? ' · (clock differs from the server: network not included)'
        : ` · send→speaker p50 ${ms(f.e2eP50)}`) +
      ` · underruns ${f.underruns}, concealed ${f.concealed}`;
  }
  $('listen').addEventListener('click', async () => {
    if (listener.on) return listener.stop();
    const why = listenUnsupported();
    if (why === 'insecure') {
      const ops = `http://${location.hostname}:8090/`;
      return toast(
        'Listen here needs a secure page. Trust the studio once: open ' +
          ops +
          ' (the operator port) and follow "Trust this studio", then use the HTTPS ' +
          'studio (https://' +
          location.hostname +
          ':8443/ by default).',
      );
    }
    if (why) return toast('This browser cannot play the studio (no AudioWorklet or WebCodecs)');
    try {
      await listener.start();
      if (!live) toast('Offline: you will hear the studio once it is back', 'info');
    } catch (e) {
      toast(`Listen here did not start: ${e.message}`);
    }
  });

  // ---- Arrangement and piano roll (arrange.js, pianoroll.js) --------------------------
  const arrangement = new Arrangement({
    canvas: $('ar-canvas'),
    model,
    edit,
    info: $('ar-info'),
    select: (id) => select(id),
    open: (id) => openPiano(id),
    onMessage: (text) => toast(text, 'info'),
    onTools: () => renderViews(),
    onView: (tick) => sendOnly(() => model.select(selected, tick)),
  });
  const recorder = new Recorder({
    model,
    edit,
    time: arrangement.time,
    tick: () => {
      const pos = transport.position + (transport.playing ? ((performance.now() - transport.at) / 1000) * RATE : 0);
      return arrangement.time.tick(pos / RATE);
    },
    playing: () => transport.playing,
    start: (countIn) => live && ws.send(model.transport(true, countIn && model.get('project', 'count_in') > 0)),
    stop: () => live && ws.send(model.transport(false)),
    send: (track, pitch, velocity) => live && sendOnly(() => model.note(track, pitch, velocity)),
    track: () => (selected && model.typeOf(selected) === 'track' && model.get(selected, 'kind') === KIND.instrument ? selected : null),
    toast,
    onChange: () => {
      $('record').classList.toggle('on', recorder.recording);
      $('record').setAttribute('aria-pressed', String(recorder.recording));
      $('keys').setAttribute('aria-pressed', String(recorder.keys));
    },
  });
  const sounding = new Set(); // "track:pitch" auditioned and not yet released
  // Preview (remembered in this browser): off, the piano roll is silent.
  let preview = localStorage.getItem('backline.preview') !== 'off';
  const showPreview = () => setAttr($('pr-preview'), 'aria-pressed', String(preview));
  showPreview();
  $('pr-preview').addEventListener('click', () => {
    preview = !preview;
    localStorage.setItem('backline.preview', preview ? 'on' : 'off');
    showPreview();
  });
  const piano = new PianoRoll({
    canvas: $('pr-canvas'),
    model,
    edit,
    info: $('pr-info'),
    onClose: (why) => closePiano(why),
    // A stopped engine takes this project to play it; one playing another
    // project refuses (a toast says so).
    audition: (track, pitch, velocity) => {
      const key = `${track}:${pitch}`;
      if (velocity ? !live || !preview : !sounding.delete(key)) return;
      if (velocity) sounding.add(key);
      sendOnly(() => model.note(track, pitch, velocity));
      recorder.played(track, pitch, velocity);
    },
  });
  // ---- Session view and device chain (session.js, devices.js) ----------------------------
  const session = new Session({
    root: $('session-grid'),
    model,
    edit,
    info: $('se-info'),
    select: (id) => select(id),
    open: (id) => openPiano(id),
    onMessage: (text) => toast(text, 'info'),
    // LAUNCH a clip (or stop a track's, CLIP null); the server refuses it
    // with a reason (a REJECT, shown as a toast) when the engine does not play.
    launch: (clip, track) => {
      if (!live) return toast('Offline: launching clips needs the server');
      sendOnly(() => model.launch(clip, track));
    },
  });
  const liveSenders = new Map(); // "device:prop" -> throttled sender, one per knob
  const devices = new DeviceChain({
    root: $('dev-chain'),
    title: $('dev-track'),
    add: $('dev-add'),
    model,
    edit,
    live: (id, prop, v) => {
      const k = `${id}:${prop}`;
      if (!liveSenders.has(k)) liveSenders.set(k, throttled());
      liveSenders.get(k)(() => model.live(id, prop, v));
    },
  });
  // ---- Mixer: sends and the master strip (mixer.js) ------------------------------------
  const liveValue = (id, prop, v) => {
    const k = `${id}:${prop}`;
    if (!liveSenders.has(k)) liveSenders.set(k, throttled());
    liveSenders.get(k)(() => model.live(id, prop, v));
  };
  const sends = new Sends({ model, edit, live: liveValue });
  const master = new MasterStrip({ root: document.querySelector('aside.master'), model, edit, live: liveValue });
  // Its meter is a canvas: drawn again at its new size whenever that changes
  // (the window, the piano roll or the rack taking room), not stretched.
  new ResizeObserver(() => {
    const m = meters.get('0');
    if (m) m.drawn = null;
    masterDrawn = false;
    wake();
  }).observe(master.meter);
  {
    const add = document.createElement('button');
    add.type = 'button';
    add.id = 'add-return';
    add.className = 'chip add-return';
    add.textContent = '+ Return';
    add.setAttribute('aria-label', 'Add a return track');
    add.title = 'A return track: every track gets a send knob to it';
    add.addEventListener('click', () => sends.addReturn(project));
    $('add-track').append(add);
  }
  // ---- Library (library.js): samples, presets, templates, uploads ---------------------
  const library = new Library({
    root: $('library'),
    toggle: $('library-toggle'),
    model,
    edit,
    arrangement,
    devices,
    target: () => ({ track: selected, tick: arrangement.playhead }),
  });
  let view = 'arrange';
  function showView(which) {
    view = which;
    const on = which === 'session';
    $('tab-arrange').setAttribute('aria-selected', String(!on));
    $('tab-session').setAttribute('aria-selected', String(on));
    $('tab-arrange').tabIndex = on ? -1 : 0;
    $('tab-session').tabIndex = on ? 0 : -1;
    for (const id of ['ar-wrap', 'ar-tools', 'ar-info']) $(id).hidden = on;
    for (const id of ['session-wrap', 'se-tools', 'se-info']) $(id).hidden = !on;
    session.show(on);
    if (!on) arrangement.changed();
    renderViews();
  }
  $('tab-arrange').addEventListener('click', () => showView('arrange'));
  $('tab-session').addEventListener('click', () => showView('session'));
  for (const tab of ['tab-arrange', 'tab-session'])
    $(tab).addEventListener('keydown', (ev) => {
      if (ev.key !== 'ArrowLeft' && ev.key !== 'ArrowRight') return;
      ev.preventDefault();
      showView(view === 'session' ? 'arrange' : 'session');
      $(view === 'session' ? 'tab-session' : 'tab-arrange').focus();
    });
  $('se-add-scene').addEventListener('click', () => session.addScene());
  $('se-stop-all').addEventListener('click', () => session.stopAll());

  function openPiano(id) {
    $('mixer').hidden = true;
    $('studio-view').classList.add('piano-open'); // the rack goes with the mixer: the notes get its room
    $('piano').hidden = false;
    piano.open(id);
    renderViews();
    $('pr-canvas').focus();
  }
  function closePiano(why) {
    piano.close();
    $('piano').hidden = true;
    $('mixer').hidden = false;
    $('studio-view').classList.remove('piano-open');
    if (why) toast(why, 'info');
    $('ar-canvas').focus();
  }
  function renderViews() {
    // What the lanes need; the panel's CSS caps it to a share of what the
    // device rack leaves, and the mixer keeps the rest.
    setStyle($('ar-wrap'), 'height', `${Math.max(arrangement.wantedHeight(), 150)}px`);
    // The session grid takes what its rows need, within the same limits.
    // Measured only while it shows: reading a size lays the page out there
    // and then, in the middle of an edit.
    if (view === 'session') setStyle($('session-wrap'), 'height', `${Math.max(150, $('session-grid').scrollHeight + 2)}px`);
    setAttr($('ar-snap'), 'aria-pressed', String(arrangement.snap));
    setAttr($('ar-follow'), 'aria-pressed', String(arrangement.follow));
    setAttr($('ar-loop'), 'aria-pressed', String(!!model.get('project', 'loop')));
    const sel = arrangement.selected();
    for (const b of ['ar-duplicate', 'ar-delete']) setDisabled($(b), !sel.length);
    setDisabled($('ar-open'), !(sel.length === 1 && sel[0].midi));
    if (piano.clip) {
      const c = piano.c;
      setText($('pr-clip'), c ? `${c.name} · ${c.track}` : '');
      if (document.activeElement !== $('pr-root')) setValue($('pr-root'), String(piano.root));
      if (document.activeElement !== $('pr-scale')) setValue($('pr-scale'), String(piano.scale));
    }
  }
  $('pr-root').append(...NOTE_NAMES.map((n, i) => new Option(n, String(i))));
  $('pr-scale').append(...SCALES.map(([n], i) => new Option(n, String(i))));
  $('pr-root').addEventListener('change', () =>
    edit(() => model.set('project', 'key_root', Number($('pr-root').value))),
  );
  $('pr-scale').addEventListener('change', () =>
    edit(() => model.set('project', 'key_scale', Number($('pr-scale').value))),
  );
  $('pr-grid').addEventListener('change', () => {
    piano.grid = Number($('pr-grid').value);
    piano.redraw();
  });
  $('pr-quantize').addEventListener('click', () => piano.quantize());
  $('pr-delete').addEventListener('click', () => piano.deleteNotes(piano.selectedNotes()));
  $('pr-close').addEventListener('click', () => closePiano());
  $('ar-snap').addEventListener('click', () => arrangement.setSnap(!arrangement.snap));
  $('ar-follow').addEventListener('click', () => {
    arrangement.follow = !arrangement.follow;
    renderViews();
  });
  $('ar-zoom-in').addEventListener('click', () => arrangement.zoom(1.25));
  $('ar-zoom-out').addEventListener('click', () => arrangement.zoom(0.8));
  $('ar-fit').addEventListener('click', () => arrangement.fit());
  $('ar-split').addEventListener('click', () => arrangement.splitAtPlayhead());
  $('ar-duplicate').addEventListener('click', () => arrangement.duplicate());
  $('ar-delete').addEventListener('click', () => arrangement.deleteSelected());
  $('ar-open').addEventListener('click', () => {
    const c = arrangement.selected()[0];
    if (c && c.midi) openPiano(c.id);
  });
  $('ar-loop').addEventListener('click', () => arrangement.toggleLoop());
  // Selection changes redraw the buttons' state too.
  for (const ev of ['pointerup', 'keyup']) $('ar-canvas').addEventListener(ev, () => renderViews());
  window.addEventListener('resize', () => renderViews());

  // For tests and the curious: read-only views of what the page shows.
  window.backline = {
    model,
    project: () => model.project(),
    seq: () => model.seq(),
    hash: () => model.hashConfirmed(),
    viewHash: () => model.hashView(),
    saved: () => {
      keepNow();
      return keeper.idle(); // resolves once everything is stored in IndexedDB
    },
    pending: () => model.nPending(),
    live: () => live,
    undoSteps: () => model.nUndo(),
    redoSteps: () => model.nRedo(),
    meter: (id) => {
      const m = meters.get(id);
      return m ? { peak: m.peak, rms: m.rms, level: m.level } : null;
    },
    transport: () => ({ ...transport }),
    recorder: () => ({ recording: recorder.recording, keys: recorder.keys, held: recorder.held.size, take: recorder.take.length }),
    engine: () => ({ ...model.engine(), text: $('engine').textContent }),
    arrange: {
      view: arrangement,
      clips: () =>
        [...arrangement.clips.values()].map((c) => ({
          id: c.id,
          track: c.track,
          trackName: c.lane.name,
          name: c.name,
          start: c.start,
          length: c.length,
        })),
      rectOf: (id) => arrangement.rectOf(id),
      clientX: (t) => arrangement.clientX(t),
      selection: () => [...arrangement.selection],
    },
    piano: {
      view: piano,
      clip: () => piano.clip,
      notes: () => (piano.clip ? piano.notes.map((n) => ({ ...n })) : []),
      pointOf: (tick, pitch) => piano.pointOf(tick, pitch),
      rectOf: (id) => piano.rectOf(id),
      selection: () => [...piano.selection],
    },
    session: {
      view: session,
      show: (which) => showView(which),
      scenes: () => model.children('project', 'scene'),
      // What the grid shows for TRACK in scene row I: {clip, playing, queued}.
      cell: (track, i) => {
        const el = session.cells.get(`${track}:${i}`);
        return el
          ? {
              clip: el.dataset.clip || null,
              playing: el.classList.contains('playing'),
              queued: el.classList.contains('queued'),
            }
          : null;
      },
      state: (track) => session.stateOf(track),
    },
    devices: {
      view: devices,
      rack,
      track: () => devices.track,
      ids: () => (devices.track ? model.children(devices.track, 'device') : []),
    },
    mixer: {
      // TRACK's sends: [{id, target, level, pre}].
      sends: (track) =>
        model.children(track, 'send').map((s) => ({
          id: s,
          target: model.get(s, 'target'),
          level: model.get(s, 'level'),
          pre: model.get(s, 'pre'),
        })),
      masterGain: () => model.get(MASTER, 'gain'),
      masterMute: () => model.get(MASTER, 'mute'),
    },
    library: {
      view: library,
      auditioning: () => library.auditioning(),
    },
    listen: {
      figures: () => listener.figures(),
      capture: () => listener.capture(),
    },
  };

  render();
  wake();
  connect();
}
