// main.js: entry point. "/" shows the project list, "/?project=ID" the studio.
import { startStudio } from './studio.js';
import { $ } from './ui.js';

async function api(path, body) {
  const res = await fetch(path, body === undefined ? {} : {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body),
  });
  const json = await res.json().catch(() => ({}));
  if (!res.ok) throw new Error(json.reason || `${res.status} ${res.statusText}`);
  return json;
}

async function showList() {
  $('list-view').hidden = false;
  const ul = $('projects');
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
        li.append(a);
        ul.append(li);
      }
      if (!projects.length) ul.innerHTML = '<li class="empty">No projects yet: create one.</li>';
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

const project = new URLSearchParams(location.search).get('project');
if (project) startStudio(project);
else showList();
