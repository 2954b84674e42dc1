// sw.js: the service worker that lets the studio page load with no server.
//
// It keeps a copy of the app shell (the page, its scripts and stylesheet,
// and the wasm model). Network first: while the studio is reachable every
// request goes to it (so a new build is picked up at once) and refreshes
// the copy; when it is not, the copy answers. The API (/api/), the
// WebSocket (/ws) and anything not GET are never touched: edits made
// offline wait in IndexedDB (offline.js), not here.
//
// Registered by main.js with scope "/" (it must be served from the root).

const CACHE = 'backline-shell-v1';
// Everything index.html, main.js and the modules they import load. A file
// missing here still works online and is cached the first time it loads.
const SHELL = [
  '/',
  '/style.css',
  '/main.js',
  '/studio.js',
  '/model.js',
  '/offline.js',
  '/ui.js',
  '/listen.js',
  '/listen-worker.js',
  '/listen-worklet.js',
  '/arrange.js',
  '/pianoroll.js',
  '/timeline.js',
  '/tempo.js',
  '/peaks.js',
  '/automation.js',
  '/session.js',
  '/devices.js',
  '/mixer.js',
  '/library.js',
  '/export.js',
  '/record.js',
  '/projects.js',
  '/wasm/model.mjs',
  '/wasm/model.wasm',
];

self.addEventListener('install', (ev) => {
  ev.waitUntil(
    caches
      .open(CACHE)
      .then((c) => c.addAll(SHELL))
      .then(() => self.skipWaiting()),
  );
});

self.addEventListener('activate', (ev) => {
  ev.waitUntil(
    caches
      .keys()
      .then((keys) => Promise.all(keys.filter((k) => k !== CACHE).map((k) => caches.delete(k))))
      .then(() => self.clients.claim()),
  );
});

// The shell's cache key: every page of the app ("/", "/?project=ID",
// "/index.html") is the same document.
function shellKey(req, url) {
  if (req.mode === 'navigate' || url.pathname === '/index.html') return '/';
  return url.pathname;
}

self.addEventListener('fetch', (ev) => {
  const req = ev.request;
  if (req.method !== 'GET') return;
  const url = new URL(req.url);
  if (url.origin !== self.location.origin) return;
  if (url.pathname.startsWith('/api/') || url.pathname === '/ws') return;
  if (url.pathname === '/sw.js') return;
  const key = shellKey(req, url);
  ev.respondWith(
    fetch(req)
      .then((res) => {
        if (res.ok && res.type === 'basic') {
          const copy = res.clone();
          ev.waitUntil(caches.open(CACHE).then((c) => c.put(key, copy)));
        }
        return res;
      })
      .catch(async () => {
        const hit = await caches.match(key);
        return hit || Response.error();
      }),
  );
});
