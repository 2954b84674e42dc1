// library.js: the library panel of the studio: the user library
// (GET /api/library: samples, presets, templates) and the uploaded audio
// (GET /api/assets), with search and a kind filter; uploads (a file picker
// or files dropped on the panel) through the resumable chunked API, each
// with a progress bar; audition in the browser (Web Audio, from
// GET /api/assets/ID/audio); samples dragged onto the arrangement become
// audio clips.
//
// A drop is one transaction (one undo step) through the wasm model, like
// every other edit: on an audio track, a clip of the asset at the drop
// position (snapped like clip moves); below the last track, a new audio
// track holding it. Other tracks refuse it with a toast: a clip of audio
// on an instrument track would stay silent.
//
// Nothing here talks to the WebSocket; the server's REST answers (and
// their reasons, on a refusal) are all it reads.
import { PPQ, transact } from './timeline.js';
import { postJSON, toast } from './ui.js';

const CHUNK = 192 * 1024; // bytes per PUT: under the server's 256 KiB body limit (SRV_MAX_BODY)
const RETRIES = 5; // failed chunks in a row before an upload gives up
const DRAG_TYPE = 'application/x-backline-asset';
const KINDS = [
  ['', 'All'],
  ['sample', 'Samples'],
  ['preset', 'Presets'],
  ['template', 'Templates'],
];
const TRACK_AUDIO = 1; // MDL_TRACK_AUDIO (shared/mdl_project.h)

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function el(tag, props = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(props)) {
    if (k === 'class') e.className = v;
    else if (k in e && !k.startsWith('aria')) e[k] = v;
    else e.setAttribute(k, v);
  }
  e.append(...children);
  return e;
}

function fmtSeconds(s) {
  if (!(s >= 0)) return '';
  if (s < 10) return `${s.toFixed(2)} s`;
  const m = Math.floor(s / 60);
  const r = Math.round(s - m * 60);
  return m ? `${m}:${String(r).padStart(2, '0')}` : `${Math.round(s)} s`;
}

const stem = (name) => name.replace(/\.[A-Za-z0-9]{1,5}$/, '') || name;

// An error from the server: its reason sentence when it gave one.
class ServerError extends Error {
  constructor(status, body) {
    super((body && body.reason) || `the server answered ${status}`);
    this.status = status;
    this.body = body;
  }
}

async function getJSON(url, opts) {
  const res = await fetch(url, opts);
  let body = null;
  try {
    body = await res.json();
  } catch {
    /* not JSON: the status says it */
  }
  if (!res.ok) throw new ServerError(res.status, body);
  return body;
}

// PUT one chunk with XHR (fetch reports no upload progress); ONPROGRESS(bytes sent).
function putChunk(url, blob, onprogress) {
  return new Promise((resolve, reject) => {
    const x = new XMLHttpRequest();
    x.open('PUT', url);
    x.responseType = 'json';
    x.upload.onprogress = (ev) => onprogress(ev.loaded);
    x.onload = () => (x.status >= 200 && x.status < 300 ? resolve(x.response) : reject(new ServerError(x.status, x.response)));
    x.onerror = () => reject(new ServerError(0, { reason: 'the connection failed' }));
    x.send(blob);
  });
}

export class Library {
  // OPTS: root (the panel's empty element), toggle (its button), model,
  // edit (studio.js's edit), arrangement (arrange.js), target() -> {track,
  // tick} (where the keyboard's "add" puts a sample: the selected track
  // and the playhead).
  constructor(opts) {
    Object.assign(this, opts);
    this.items = []; // library items shown
    this.asked = 0; // refresh() calls made (an older answer is dropped)
    this.assets = []; // uploaded audio shown
    this.playing = null; // {id, token, source}: the sample being auditioned
    this.buffers = new Map(); // asset id -> decoded AudioBuffer (the last few)
    this.ctx = null;
    this.analyser = null;
    this.build();
    this.dropTarget();
    this.toggle.addEventListener('click', () => this.show(this.root.hidden));
    document.addEventListener('keydown', (ev) => {
      if (ev.key !== 'b' && ev.key !== 'B') return;
      if (ev.ctrlKey || ev.metaKey || ev.altKey || ev.target.closest('input, textarea, select, [contenteditable]')) return;
      ev.preventDefault();
      this.show(this.root.hidden);
    });
  }

  // ---- The panel -------------------------------------------------------------------
  build() {
    const r = this.root;
    this.search = el('input', {
      type: 'search',
      class: 'lib-search',
      placeholder: 'Search',
      'aria-label': 'Search the library by name or tag',
      autocomplete: 'off',
    });
    this.kind = el('select', { class: 'lib-kind', 'aria-label': 'Kind of item' });
    for (const [v, n] of KINDS) this.kind.append(new Option(n, v));
    this.file = el('input', {
      type: 'file',
      accept: 'audio/*,.wav,.aif,.aiff,.flac,.ogg',
      multiple: true,
      hidden: true,
      'aria-label': 'Audio files to upload',
    });
    const upload = el('button', { class: 'chip', type: 'button', 'aria-label': 'Upload audio files' }, 'Upload…');
    upload.title = 'Upload audio files (or drop them on this panel)';
    const close = el('button', { class: 'chip lib-close', type: 'button', 'aria-label': 'Close the library' }, '✕');
    close.title = 'Close (B or Esc)';
    this.uploadList = el('ul', { class: 'lib-uploads', 'aria-label': 'Uploads' });
    this.list = el('ul', { class: 'lib-list', 'aria-label': 'Library items and uploaded audio' });
    this.status = el('p', { class: 'lib-status muted', role: 'status' });
    const head = el('div', { class: 'lib-head' }, el('h2', { id: 'lib-title' }, 'Library'), upload, close);
    const filters = el('div', { class: 'lib-filters' }, this.search, this.kind);
    const hint = el('p', { class: 'lib-hint muted' }, 'Drag a sample onto an audio track, or below the last track for a new one. Drop audio files here to upload.');
    r.setAttribute('aria-labelledby', 'lib-title');
    r.append(head, filters, this.file, this.uploadList, this.list, this.status, hint);

    upload.addEventListener('click', () => this.file.click());
    close.addEventListener('click', () => this.show(false));
    this.file.addEventListener('change', () => {
      this.uploadFiles([...this.file.files]);
      this.file.value = '';
    });
    let timer = 0;
    this.search.addEventListener('input', () => {
      clearTimeout(timer);
      timer = setTimeout(() => this.refresh(), 200);
    });
    this.kind.addEventListener('change', () => this.refresh());
    r.addEventListener('keydown', (ev) => {
      if (ev.key !== 'Escape') return;
      ev.preventDefault();
      this.show(false);
    });
    // Files dropped on the panel are uploaded.
    r.addEventListener('dragover', (ev) => {
      if (!ev.dataTransfer.types.includes('Files')) return;
      ev.preventDefault();
      ev.dataTransfer.dropEffect = 'copy';
      r.classList.add('drop');
    });
    r.addEventListener('dragleave', (ev) => {
      if (!r.contains(ev.relatedTarget)) r.classList.remove('drop');
    });
    r.addEventListener('drop', (ev) => {
      r.classList.remove('drop');
      if (!ev.dataTransfer.files.length) return;
      ev.preventDefault();
      this.uploadFiles([...ev.dataTransfer.files]);
    });
  }

  show(on) {
    this.root.hidden = !on;
    this.toggle.setAttribute('aria-pressed', String(on));
    document.body.classList.toggle('library-open', on); // wide windows make room for it (style.css)
    if (on) {
      this.refresh();
      this.search.focus();
    } else {
      this.stop();
      if (this.root.contains(document.activeElement) || document.activeElement === document.body) this.toggle.focus();
    }
  }

  // Reads the library and the assets again for the search and kind shown.
  async refresh() {
    const q = this.search.value.trim();
    const kind = this.kind.value;
    const want = ++this.asked;
    const lib = new URLSearchParams({ q, kind, limit: '200' });
    try {
      const [items, assets] = await Promise.all([
        getJSON(`/api/library?${lib}`),
        kind === '' || kind === 'sample' ? getJSON('/api/assets?limit=1000') : { assets: [] },
      ]);
      if (want !== this.asked) return; // a newer search answered first
      const words = q.toLowerCase().split(/\s+/).filter(Boolean);
      this.items = items.items;
      this.assets = assets.assets.filter((a) => words.every((w) => a.name.toLowerCase().includes(w)));
      this.status.textContent = '';
    } catch (e) {
      if (want !== this.asked) return;
      this.status.textContent = `The library could not be read: ${e.message}`;
    }
    this.render();
  }

  render() {
    const rows = [];
    for (const it of this.items) {
      const asset = it.kind === 'sample' && it.asset_id ? { id: it.asset_id, name: it.name } : null;
      rows.push(this.row(it.name, it.kind, it.tags.join(', '), asset, `item-${it.id}`, it));
    }
    for (const a of this.assets) rows.push(this.row(a.name, 'audio', fmtSeconds(a.seconds), a, `asset-${a.id}`));
    this.list.replaceChildren(...rows);
    if (!rows.length)
      this.list.append(
        el('li', { class: 'empty' }, this.search.value.trim() ? 'Nothing matches.' : 'Nothing here yet: upload some audio.'),
      );
  }

  // A preset's Apply (to the selected track's device of its kind, one undo
  // step) or a template's New (a project from it, opened here); else null.
  useButton(name, kind, item) {
    const pl = item?.payload;
    if (kind === 'preset' && pl && typeof pl.device === 'string' && pl.params && typeof pl.params === 'object') {
      const b = el('button', { class: 'lib-use chip', type: 'button', 'aria-label': `Apply preset ${name} to the selected track's ${pl.device}` }, 'Apply');
      b.title = `Apply to the selected track's ${pl.device} (one undo step)`;
      b.addEventListener('click', () => this.devices.applyToChain({ name, device: pl.device, params: pl.params }));
      return b;
    }
    if (kind === 'template') {
      const b = el('button', { class: 'lib-use chip', type: 'button', 'aria-label': `New project from template ${name}` }, 'New');
      b.title = 'A new project from this template, opened here';
      b.addEventListener('click', () => this.newFromTemplate(item));
      return b;
    }
    return null;
  }

  async newFromTemplate(item) {
    try {
      const json = await postJSON('/api/projects', { name: item.name, template: item.id });
      location.href = `/?project=${encodeURIComponent(json.id)}`;
    } catch (e) {
      toast(`No project from template "${item.name}": ${e.message}`);
    }
  }

  // One row: NAME, a KIND badge, DETAIL; a playable, draggable sample when
  // ASSET ({id, name, seconds}); ITEM: the library item, if it is one.
  row(name, kind, detail, asset, key, item = null) {
    const li = el('li', { class: 'lib-item', 'data-key': key });
    const text = el(
      'span',
      { class: 'lib-name' },
      el('b', {}, name),
      el('span', { class: 'lib-detail muted' }, [kind, detail].filter(Boolean).join(' · ')),
    );
    if (!asset) {
      li.append(el('span', { class: 'lib-badge', 'aria-hidden': 'true' }, kind[0].toUpperCase()), text);
      const use = this.useButton(name, kind, item);
      if (use) li.append(use);
      return li;
    }
    li.dataset.asset = asset.id;
    li.draggable = true;
    li.title = 'Drag onto the arrangement';
    const play = el('button', {
      class: 'lib-play',
      type: 'button',
      'aria-label': `Audition ${name}`,
      'aria-pressed': String(this.playing?.id === asset.id),
    });
    play.title = 'Audition (click again to stop)';
    play.addEventListener('click', () => this.audition(asset.id));
    const add = el('button', {
      class: 'lib-add',
      type: 'button',
      'aria-label': `Add ${name} to the selected audio track at the playhead`,
    });
    add.textContent = '+';
    add.title = 'Add at the playhead, on the selected audio track (or a new one)';
    add.addEventListener('click', () => this.addAtPlayhead(asset));
    li.append(play, text, add);
    li.addEventListener('dragstart', (ev) => {
      const data = { id: asset.id, name: stem(asset.name || name), seconds: asset.seconds };
      ev.dataTransfer.setData(DRAG_TYPE, JSON.stringify(data));
      ev.dataTransfer.setData('text/plain', name);
      ev.dataTransfer.effectAllowed = 'copy';
    });
    return li;
  }

  // ---- Uploads ---------------------------------------------------------------------
  uploadFiles(files) {
    for (const f of files) this.upload(f);
  }

  async upload(file) {
    const u = { name: file.name, size: file.size };
    u.progress = el('progress', { max: 100, value: 0, 'aria-label': `Upload of ${file.name}` });
    u.text = el('span', { class: 'lib-pct' }, '0%');
    u.row = el('li', { class: 'lib-upload', 'data-name': file.name }, el('span', { class: 'lib-name' }, file.name), u.progress, u.text);
    this.uploadList.append(u.row);
    if (this.root.hidden) this.show(true);
    const shown = (done, label) => {
      const pct = file.size ? Math.min(100, Math.floor((done / file.size) * 100)) : 100;
      u.progress.value = pct;
      u.text.textContent = label || `${pct}%`;
    };
    const finished = (ok, why) => {
      u.row.classList.add(ok ? 'done' : 'failed');
      if (!ok) {
        u.text.textContent = 'refused';
        toast(why);
      }
      setTimeout(() => u.row.remove(), ok ? 2500 : 6000);
    };
    try {
      const up = await getJSON('/api/uploads', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ name: file.name, size: file.size }),
      });
      let offset = up.received;
      let fails = 0;
      while (offset < file.size) {
        const n = Math.min(CHUNK, file.size - offset);
        try {
          const at = offset;
          const got = await putChunk(`/api/uploads/${up.id}?offset=${at}`, file.slice(at, at + n), (sent) =>
            shown(at + Math.min(sent, n)),
          );
          offset = got.received;
          fails = 0;
        } catch (e) {
          // A refusal other than a wrong offset will not change: stop.
          if (e.status >= 400 && e.status < 500 && e.status !== 409) throw e;
          if (++fails > RETRIES) throw e;
          await sleep(250 * 2 ** fails);
          // Resume where the server says it is.
          offset = (await getJSON(`/api/uploads/${up.id}`)).received;
        }
        shown(offset);
      }
      shown(file.size, 'importing…');
      const asset = await getJSON(`/api/uploads/${up.id}/finish`, { method: 'POST' });
      shown(file.size, '100%');
      u.row.dataset.asset = asset.id;
      finished(true);
      await this.refresh();
    } catch (e) {
      finished(false, e.message.includes(file.name) ? e.message : `${file.name} was not uploaded: ${e.message}`);
    }
  }

  // ---- Audition (Web Audio) ----------------------------------------------------------
  // Shows every ▶ of sample ID (a library item and the upload may both list it) as ON.
  pressed(id, on) {
    for (const b of this.list.querySelectorAll('.lib-play'))
      if (b.closest('[data-asset]').dataset.asset === id) b.setAttribute('aria-pressed', String(on));
  }

  // Plays sample ID, or stops it if it is playing; stops any other first.
  async audition(id) {
    const same = this.playing && this.playing.id === id;
    this.stop();
    if (same) return;
    if (!this.ctx) {
      this.ctx = new AudioContext();
      this.analyser = this.ctx.createAnalyser();
      this.analyser.fftSize = 2048;
      this.analyser.connect(this.ctx.destination);
    }
    const token = {};
    this.playing = { id, token, source: null };
    this.pressed(id, true);
    try {
      if (this.ctx.state === 'suspended') await this.ctx.resume();
      let buf = this.buffers.get(id);
      if (!buf) {
        const res = await fetch(`/api/assets/${id}/audio`);
        if (!res.ok) {
          let body = null;
          try {
            body = await res.json();
          } catch {
            /* the status says it */
          }
          throw new ServerError(res.status, body);
        }
        buf = await this.ctx.decodeAudioData(await res.arrayBuffer());
        this.buffers.set(id, buf);
        if (this.buffers.size > 8) this.buffers.delete(this.buffers.keys().next().value);
      }
      if (this.playing?.token !== token) return; // stopped, or another started, while loading
      const src = this.ctx.createBufferSource();
      src.buffer = buf;
      src.connect(this.analyser);
      src.onended = () => {
        if (this.playing?.source === src) this.stop();
      };
      this.playing.source = src;
      src.start();
    } catch (e) {
      if (this.playing?.token === token) this.stop();
      toast(`The sample did not play: ${e.message}`);
    }
  }

  stop() {
    const p = this.playing;
    if (!p) return;
    this.playing = null;
    this.pressed(p.id, false);
    if (p.source) {
      p.source.onended = null;
      try {
        p.source.stop();
      } catch {
        /* already ended */
      }
      p.source.disconnect();
    }
  }

  // What is playing and how loud (RMS of the last ~40 ms), for tests and meters.
  auditioning() {
    if (!this.playing || !this.playing.source) return { id: this.playing?.id || null, state: this.ctx?.state, rms: 0 };
    const a = new Float32Array(this.analyser.fftSize);
    this.analyser.getFloatTimeDomainData(a);
    const rms = Math.sqrt(a.reduce((s, v) => s + v * v, 0) / a.length);
    return { id: this.playing.id, state: this.ctx.state, rms, time: this.ctx.currentTime };
  }

  // ---- Onto the arrangement --------------------------------------------------------
  dropTarget() {
    const cv = this.arrangement.canvas;
    const ghost = el('div', { class: 'lib-ghost', hidden: true, 'aria-hidden': 'true' });
    document.body.append(ghost);
    const where = (ev) => this.arrangement.dropAt(ev.clientX, ev.clientY, ev.altKey);
    cv.addEventListener('dragover', (ev) => {
      if (!ev.dataTransfer.types.includes(DRAG_TYPE)) return;
      const at = where(ev);
      if (!at) {
        ghost.hidden = true;
        return;
      }
      ev.preventDefault();
      ev.dataTransfer.dropEffect = 'copy';
      const ok = at.below || at.kind === TRACK_AUDIO;
      ghost.hidden = false;
      ghost.classList.toggle('bad', !ok);
      ghost.style.left = `${at.x}px`;
      ghost.style.top = `${at.top}px`;
      ghost.style.height = `${at.height}px`;
      ghost.textContent = at.below ? '+ new audio track' : ok ? '' : 'not an audio track';
    });
    cv.addEventListener('dragleave', () => {
      ghost.hidden = true;
    });
    cv.addEventListener('drop', (ev) => {
      ghost.hidden = true;
      const data = ev.dataTransfer.getData(DRAG_TYPE);
      const at = data && where(ev);
      if (!at) return;
      ev.preventDefault();
      this.place(JSON.parse(data), at.below ? null : at.track, at.tick);
    });
    document.addEventListener('dragend', () => {
      ghost.hidden = true;
    });
  }

  // The keyboard's way: on the selected track if it is an audio track, else on a new one.
  addAtPlayhead(asset) {
    const { track, tick } = this.target();
    const audio = track && this.model.typeOf(track) === 'track' && this.model.get(track, 'kind') === TRACK_AUDIO;
    const data = { id: asset.id, name: stem(asset.name), seconds: asset.seconds };
    this.place(data, audio ? track : null, Math.max(0, Math.round(tick)));
  }

  // A clip of ASSET ({id, name, seconds}) at TICK on audio track TRACK, or
  // on a new audio track (TRACK null): one transaction. The clip is as long
  // as the sample at the project's tempo. Returns the clip id, or null.
  async place(asset, track, tick) {
    if (track && this.model.get(track, 'kind') !== TRACK_AUDIO) {
      toast(`${asset.name} is audio: drop it on an audio track, or below the last track for a new one`);
      return null;
    }
    let seconds = asset.seconds;
    if (!(seconds > 0)) {
      try {
        seconds = (await getJSON(`/api/assets/${asset.id}`)).seconds; // a library item names only its asset
      } catch (e) {
        toast(`${asset.name} cannot be placed: ${e.message}`);
        return null;
      }
    }
    const tempo = this.model.get('project', 'tempo') || 120;
    const length = Math.max(1, Math.round(((seconds * tempo) / 60) * PPQ));
    const id = transact(this.model, this.edit, (t) => {
      const on = track || t.create('track', 'project', { kind: TRACK_AUDIO, name: asset.name });
      return t.create('clip', on, { name: asset.name, start: tick, length, asset: asset.id });
    });
    if (id) queueMicrotask(() => this.arrangement.selectOnly(id)); // after studio.js's redraw has the clip
    return id;
  }
}
