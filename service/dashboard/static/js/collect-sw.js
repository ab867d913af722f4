// /collect's service worker: the page and its scripts from the cache when the network is down,
// from the network (refreshing the cache) when it is up. The API is never cached.
const CACHE = "motionlab-collect-v1";
const SHELL = [
  "/collect",
  "/static/collect.css",
  "/static/js/collect.js",
  "/static/js/collect-sensors.js",
  "/static/js/collect-queue.js",
  "/static/js/collect-live.js",
  "/static/js/collect-project.js",
];

self.addEventListener("install", (event) => {
  event.waitUntil(caches.open(CACHE).then((cache) => cache.addAll(SHELL)).then(() => self.skipWaiting()));
});

self.addEventListener("activate", (event) => event.waitUntil(self.clients.claim()));

self.addEventListener("fetch", (event) => {
  const url = new URL(event.request.url);
  if (event.request.method !== "GET" || !SHELL.includes(url.pathname)) return;
  event.respondWith(
    fetch(event.request)
      .then((response) => {
        const copy = response.clone();
        caches.open(CACHE).then((cache) => cache.put(url.pathname, copy));
        return response;
      })
      .catch(() => caches.match(url.pathname)),
  );
});
