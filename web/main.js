// main.js: entry point. "/" shows the project list, "/?project=ID" the studio.
import { startStudio } from './studio.js';
import { $ } from './ui.js';

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
        li.append(
          a,
          button('Duplicate', `Duplicate ${p.name}`, () => api(`/api/projects/${p.id}/duplicate`, {})),
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
  $('new-project').addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const name = $('new-name').value.trim();
    if (!name) return;
    try {
      const { id } = await api('/api/projects', { name });
      location.href = `/?project=${encodeURIComponent(id)}`;
    } catch (e) {
      $('list-error').textContent = `Not created: ${e.message}`;
    }
  });
  await fill();
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
