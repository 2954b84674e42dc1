// export.js: "Export WAV…" in the studio's header. The server renders the
// project as it has stored it (POST /api/projects/ID/render, on its render
// worker) and answers with a 48 kHz stereo 24-bit WAV, which the page hands
// to the browser as a download named after the project. The request names
// the export with a random token; GET /api/projects/ID/render/TOKEN then
// gives its loudness, shown in the toast.
import { toast } from './ui.js';

// Seconds of a WAV's data chunk (RIFF, PCM), or NaN when it is not one.
export function wavSeconds(buf) {
  const v = new DataView(buf);
  const tag = (at) => String.fromCharCode(...new Uint8Array(buf, at, 4));
  if (buf.byteLength < 12 || tag(0) !== 'RIFF' || tag(8) !== 'WAVE') return NaN;
  let rate = 0;
  let frameBytes = 0;
  for (let at = 12; at + 8 <= buf.byteLength; ) {
    const size = v.getUint32(at + 4, true);
    if (tag(at) === 'fmt ') (rate = v.getUint32(at + 12, true)), (frameBytes = v.getUint16(at + 20, true));
    if (tag(at) === 'data') return rate && frameBytes ? size / frameBytes / rate : NaN;
    at += 8 + size + (size & 1);
  }
  return NaN;
}

// ", −14.2 LUFS, peak −1.0 dBTP" from the export's report, or "" when the
// server has none (it keeps the last few).
async function loudness(projectId, token) {
  try {
    const res = await fetch(`/api/projects/${encodeURIComponent(projectId)}/render/${token}`);
    if (!res.ok) return '';
    const r = await res.json();
    const db = (v) => (v === null ? '−∞' : `${v < 0 ? '−' : ''}${Math.abs(v).toFixed(1)}`);
    return `, ${db(r.loudness_lufs)} LUFS, peak ${db(r.true_peak_dbtp)} dBTP`;
  } catch {
    return '';
  }
}

// A file name from a project name: what file systems accept everywhere.
function fileName(name) {
  const base = String(name || 'backline').replace(/[\\/:*?"<>|\u0000-\u001f]+/g, ' ').trim();
  return `${base.slice(0, 80) || 'backline'}.wav`;
}

// Adds the button and its dialog to the header's transport group.
// PROJECTNAME() gives the current name; ISLIVE() says whether the server
// is reachable (an export needs it).
export function addExportButton(projectId, projectName, isLive) {
  const button = document.createElement('button');
  button.id = 'export-wav';
  button.className = 'chip';
  button.type = 'button';
  button.textContent = 'Export…';
  button.title = 'Render the song to a WAV file (48 kHz, 24-bit)';
  button.setAttribute('aria-label', 'Export WAV');

  const dialog = document.createElement('dialog');
  dialog.id = 'export-dialog';
  dialog.className = 'form-dialog';
  dialog.setAttribute('aria-labelledby', 'export-title');
  dialog.innerHTML = `
    <h2 id="export-title">Export WAV</h2>
    <p class="muted">The song as the studio has saved it, rendered offline: 48 kHz stereo, 24-bit.</p>
    <form method="dialog" id="export-form" novalidate>
      <label for="export-seconds">Length in seconds</label>
      <input id="export-seconds" type="number" min="0.1" max="600" step="any" inputmode="decimal"
             placeholder="to the end of the song" autocomplete="off">
      <div class="dialog-buttons">
        <button type="button" id="export-cancel">Cancel</button>
        <button type="submit" class="primary" id="export-go">Export</button>
      </div>
    </form>`;
  document.body.append(dialog);
  const seconds = dialog.querySelector('#export-seconds');
  dialog.querySelector('#export-cancel').addEventListener('click', () => dialog.close());

  button.addEventListener('click', () => {
    if (!isLive()) return toast('Offline: exporting a WAV needs the server');
    dialog.showModal();
  });
  dialog.querySelector('#export-form').addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const text = seconds.value.trim();
    const s = Number(text);
    if (text && !(Number.isFinite(s) && s > 0 && s <= 600))
      return toast('Not exported: the length must be more than 0 and at most 600 seconds');
    dialog.close();
    button.disabled = true;
    button.textContent = 'Rendering…';
    // The export's name, to ask for its loudness report afterwards.
    const token = [...crypto.getRandomValues(new Uint8Array(12))].map((b) => b.toString(16).padStart(2, '0')).join('');
    try {
      const res = await fetch(`/api/projects/${encodeURIComponent(projectId)}/render`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(text ? { seconds: s, token } : { token }),
      });
      if (!res.ok) {
        const json = await res.json().catch(() => ({}));
        throw new Error(json.reason || `${res.status} ${res.statusText}`);
      }
      const buf = await res.arrayBuffer();
      const length = wavSeconds(buf);
      if (!Number.isFinite(length)) throw new Error('the server did not answer with a WAV file');
      const url = URL.createObjectURL(new Blob([buf], { type: 'audio/wav' }));
      const a = document.createElement('a');
      a.href = url;
      a.download = fileName(projectName());
      document.body.append(a);
      a.click();
      a.remove();
      setTimeout(() => URL.revokeObjectURL(url), 60000);
      toast(`Exported ${a.download}: ${length.toFixed(1)} s${await loudness(projectId, token)}`, 'info');
    } catch (e) {
      toast(`Export failed: ${e.message === 'Failed to fetch' ? 'the server cannot be reached' : e.message}`);
    } finally {
      button.disabled = false;
      button.textContent = 'Export…';
    }
  });
  return button;
}
