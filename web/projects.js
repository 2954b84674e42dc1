// projects.js: what the project list does with archives and templates.
//
// - Export: GET /api/projects/ID/export, the project with the audio its clips
//   use, saved as "NAME.backline-archive".
// - Import: the archive goes up through the chunked upload API (POST
//   /api/uploads {name, size}, then PUT /api/uploads/UP?offset=N per chunk;
//   a refused chunk is resent from the offset the server reports), then
//   POST /api/projects/import {upload} opens it as a new project.
// - Templates: POST /api/projects/ID/template {name} saves one into the
//   library; GET /api/library?kind=template lists them for "Start from".
import { askName, callJSON, postJSON, toast } from './ui.js';

const CHUNK = 192 * 1024; // under the server's 256 KiB request body limit

// The project templates in the library, newest first as the library lists them.
export async function listTemplates() {
  const { items } = await callJSON('/api/library?kind=template&limit=200');
  return items;
}

// A file name from a project name: what file systems accept everywhere.
function safeName(name, ext) {
  const base = String(name || 'backline').replace(/[\\/:*?"<>|\u0000-\u001f]+/g, ' ').trim();
  return `${base.slice(0, 80) || 'backline'}.${ext}`;
}

// Downloads project P's archive; a failure is a toast.
export async function exportArchive(p) {
  try {
    let res;
    try {
      res = await fetch(`/api/projects/${encodeURIComponent(p.id)}/export`);
    } catch {
      throw new Error('the server cannot be reached');
    }
    if (!res.ok) {
      const json = await res.json().catch(() => ({}));
      throw new Error(json.reason || `${res.status} ${res.statusText}`);
    }
    const blob = await res.blob();
    const url = URL.createObjectURL(blob);
    const a = document.createElement('a');
    a.href = url;
    a.download = safeName(p.name, 'backline-archive');
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 60000);
    toast(`Exported ${p.name} (${(blob.size / 1024).toFixed(0)} KB)`, 'info');
  } catch (e) {
    toast(`${p.name} was not exported: ${e.message}`);
  }
}

// Uploads FILE in chunks and imports it as a project; PROGRESS(sent, total)
// after each chunk. Resolves to {id, seq, hash} of the new project.
export async function importArchive(file, progress) {
  if (!file.size) throw new Error('the file is empty');
  const up = await postJSON('/api/uploads', { name: file.name, size: file.size });
  let offset = up.received || 0;
  let retried = false;
  progress(offset, file.size);
  while (offset < file.size) {
    const chunk = file.slice(offset, Math.min(offset + CHUNK, file.size));
    try {
      const st = await callJSON(`/api/uploads/${encodeURIComponent(up.id)}?offset=${offset}`, {
        method: 'PUT',
        headers: { 'content-type': 'application/octet-stream' },
        body: chunk,
      });
      offset = st.received;
      retried = false;
    } catch (e) {
      // Out of step (a lost answer): go on from what the server has, once.
      if (retried || typeof e.body?.received !== 'number') throw e;
      offset = e.body.received;
      retried = true;
    }
    progress(offset, file.size);
  }
  return postJSON('/api/projects/import', { upload: up.id });
}

// Asks for a template name (default: the project's) and saves P as a
// template; ONSAVED() after it is stored. Failures are toasts.
export function saveTemplateDialog(p, onSaved) {
  askName({
    id: 'template',
    title: 'Save as template',
    text: 'New projects can start from a copy of this one as it is now.',
    label: 'Template name',
    max: 64,
    value: p.name,
    save: 'Save template',
    what: 'template',
    onName: async (name) => {
      try {
        const t = await postJSON(`/api/projects/${encodeURIComponent(p.id)}/template`, { name });
        toast(`Saved template "${t.name}"`, 'info');
        onSaved?.(t);
      } catch (e) {
        toast(`The template was not saved: ${e.message}`);
      }
    },
  });
}
