// main.js: entry point. "/" shows the project list, "/?project=ID" the studio.
import { startStudio } from './studio.js';
import { $, toast } from './ui.js';
import { exportArchive, importArchive, listTemplates, saveTemplateDialog } from './projects.js';

async function api(path, body, method) {
  const res = await fetch(
    path,
    method
      ? { method }
      : body === undefined
        ? {}
        : {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify(body),
          },
  );
  const json = await res.json().catch(() => ({}));
  if (!res.ok) throw new Error(json.reason || `${res.status} ${res.statusText}`);
  return json;
}

async function showList() {
  $('list-view').hidden = false;
  const ul = $('projects');
  // A small action button; after the action the lists are drawn again.
  const button = (label, aria, action) => {
    const b = document.createElement('button');
    b.type = 'button';
    b.textContent = label;
    b.setAttribute('aria-label', aria);
    b.addEventListener('click', async () => {
      b.disabled = true;
      try {
        await action();
        $('list-error').textContent = '';
      } catch (e) {
        $('list-error').textContent = `${label} failed: ${e.message}`;
      }
      await fill();
    });
    return b;
  };
  // Rename in place: the name becomes a field; Enter stores it (one op
  // through REST, as any edit), Escape or leaving the field keeps the old one.
  const renameInline = (li, a, p) => {
    const input = document.createElement('input');
    input.type = 'text';
    input.value = p.name;
    input.className = 'rename';
    input.setAttribute('aria-label', `New name of ${p.name}`);
    a.replaceWith(input);
    input.focus();
    input.select();
    let done = false;
    const finish = async (store) => {
      if (done) return;
      done = true;
      const name = input.value.trim();
      if (store && name && name !== p.name) {
        try {
          await api(`/api/projects/${p.id}/ops`, { ops: [{ op: 'set', id: 'project', prop: 'name', value: name }] });
          $('list-error').textContent = '';
        } catch (e) {
          $('list-error').textContent = `Rename failed: ${e.message}`;
        }
      }
      await fill();
    };
    input.addEventListener('keydown', (ev) => {
      if (ev.key === 'Enter') finish(true);
      else if (ev.key === 'Escape') finish(false);
    });
    input.addEventListener('blur', () => finish(false));
  };
  const fill = async () => {
    try {
      const { projects } = await api('/api/projects');
      ul.replaceChildren();
      for (const p of projects) {
        const li = document.createElement('li');
        const a = document.createElement('a');
        a.href = `/?project=${encodeURIComponent(p.id)}`;
        a.className = 'project';
        a.innerHTML = '<span class="pname"></span><span class="pmeta"></span>';
        a.firstChild.textContent = p.name;
        const n = typeof p.tracks === 'number' ? `${p.tracks} track${p.tracks === 1 ? '' : 's'} · ` : '';
        a.lastChild.textContent = `${n}seq ${p.seq} · ${String(p.hash).slice(0, 8)}`;
        a.setAttribute('aria-label', `Open project ${p.name}`);
        const exp = document.createElement('button');
        exp.type = 'button';
        exp.textContent = 'Export';
        exp.setAttribute('aria-label', `Export ${p.name} as an archive`);
        exp.addEventListener('click', async () => {
          exp.disabled = true;
          await exportArchive(p);
          exp.disabled = false;
        });
        const tpl = document.createElement('button');
        tpl.type = 'button';
        tpl.textContent = 'Save as template';
        tpl.setAttribute('aria-label', `Save ${p.name} as a template`);
        tpl.addEventListener('click', () => saveTemplateDialog(p, () => fillTemplates()));
        const ren = document.createElement('button');
        ren.type = 'button';
        ren.textContent = 'Rename';
        ren.setAttribute('aria-label', `Rename ${p.name}`);
        ren.addEventListener('click', () => renameInline(li, a, p));
        li.append(
          a,
          ren,
          button('Duplicate', `Duplicate ${p.name}`, () => api(`/api/projects/${p.id}/duplicate`, {})),
          tpl,
          exp,
          button('Trash', `Move ${p.name} to the trash`, () => api(`/api/projects/${p.id}/trash`, {})),
        );
        ul.append(li);
      }
      if (!projects.length) ul.innerHTML = '<li class="empty">No projects yet: create one.</li>';
      const { trash } = await api('/api/trash');
      $('trash-panel').hidden = !trash.length;
      $('trash').replaceChildren(
        ...trash.map((p) => {
          const li = document.createElement('li');
          const name = document.createElement('span');
          name.className = 'pname';
          name.textContent = p.name;
          li.append(
            name,
            button('Restore', `Restore ${p.name}`, () => api(`/api/trash/${p.id}/restore`, {})),
            button('Delete', `Delete ${p.name} for good`, () => api(`/api/trash/${p.id}`, undefined, 'DELETE')),
          );
          return li;
        }),
      );
    } catch (e) {
      ul.innerHTML = '<li class="empty">Cannot reach the server.</li>';
      $('list-error').textContent = e.message;
    }
  };
  // "Start from": an empty project or a template from the library.
  const from = document.createElement('select');
  from.id = 'new-template';
  from.setAttribute('aria-label', 'Start from');
  const fromLabel = document.createElement('label');
  fromLabel.htmlFor = 'new-template';
  fromLabel.textContent = 'Start from';
  $('new-project').querySelector('button[type=submit]').before(fromLabel, from);
  const fillTemplates = async () => {
    const keep = from.value;
    const empty = new Option('An empty project', '');
    try {
      const items = await listTemplates();
      from.replaceChildren(empty, ...items.map((t) => new Option(`Template: ${t.name}`, String(t.id))));
      if ([...from.options].some((o) => o.value === keep)) from.value = keep;
    } catch (e) {
      from.replaceChildren(empty);
      toast(`The templates could not be listed: ${e.message}`);
    }
  };
  $('new-project').addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const name = $('new-name').value.trim();
    if (!name) return;
    try {
      const body = from.value ? { name, template: Number(from.value) } : { name };
      const { id } = await api('/api/projects', body);
      location.href = `/?project=${encodeURIComponent(id)}`;
    } catch (e) {
      $('list-error').textContent = `Not created: ${e.message}`;
      toast(`Not created: ${e.message}`);
    }
  });
  // Import: an archive (from Export) uploaded in chunks, with progress.
  const imp = document.createElement('section');
  imp.className = 'panel import';
  imp.innerHTML = `<h2>Import</h2>
    <p class="muted">A project archive made with Export (<code>.backline-archive</code>), with its audio.</p>
    <input id="import-file" type="file" accept=".backline-archive,application/octet-stream" hidden>
    <button type="button" id="import-btn">Import archive…</button>
    <div id="import-progress" class="import-progress" hidden>
      <progress id="import-bar" max="1" value="0"></progress>
      <output id="import-text" aria-live="polite"></output>
    </div>`;
  $('new-project').closest('section').after(imp);
  $('import-btn').addEventListener('click', () => $('import-file').click());
  $('import-file').addEventListener('change', async () => {
    const file = $('import-file').files[0];
    $('import-file').value = '';
    if (!file) return;
    $('import-btn').disabled = true;
    $('import-progress').hidden = false;
    const show = (text, frac) => {
      $('import-text').textContent = text;
      $('import-bar').value = frac;
    };
    try {
      const { id } = await importArchive(file, (sent, total) =>
        show(`Uploading ${file.name}: ${Math.floor((100 * sent) / total)} %`, sent / total),
      );
      show(`Imported ${file.name}`, 1);
      await fill();
      const li = [...ul.querySelectorAll('a.project')].find((a) => a.href.endsWith(`?project=${id}`));
      if (li) li.closest('li').classList.add('fresh');
      toast(`Imported ${file.name}`, 'info');
    } catch (e) {
      show(`Not imported: ${e.message}`, 0);
      toast(`${file.name} was not imported: ${e.message}`);
    } finally {
      $('import-btn').disabled = false;
    }
  });
  await Promise.all([fill(), fillTemplates()]);
  document.body.dataset.ready = '1';
}

// The service worker keeps the app shell, so the studio loads with no server
// (sw.js). Only secure contexts have it (localhost, HTTPS); elsewhere the
// page simply needs the server to load.
if ('serviceWorker' in navigator) {
  navigator.serviceWorker.register('/sw.js', { scope: '/' }).catch((e) => {
    console.warn(`offline: no service worker (${e.message})`);
  });
}

const project = new URLSearchParams(location.search).get('project');
if (project) startStudio(project);
else showList();
