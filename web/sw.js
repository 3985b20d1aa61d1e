// Service worker of the heartbeat page: after one visit online, the page, its script, the bundle
// and the model all come from the cache when the network is gone.
// Strategy: network first (so a rebuilt bundle or retrained model shows up at once), falling back to
// the cache; every successful same-origin GET refreshes the cache.
/// <reference lib="webworker" />
const CACHE = "heartbeat-v2";

/** Files the page needs, relative to this script (web/). Model weight files are added from model.json, a second
 * stage's file and a seed ensemble's other weight files from preprocessing.json. */
const SHELL = [
  "./",
  "./index.html",
  "./style.css",
  "./manifest.webmanifest",
  "./icon.svg",
  "./icon-192.png",
  "./icon-512.png",
  "./recorder-worklet.js",
  "./worker.js",
  "../dist/app.js",
  "../dist/worker.js",
  "../dist/heartbeat.js",
  "../models/model.json",
  "../models/preprocessing.json",
];

async function precache() {
  const cache = await caches.open(CACHE);
  await cache.addAll(SHELL);
  // The weight files are named in model.json's weightsManifest.
  const modelUrl = new URL("../models/model.json", self.location.href);
  const manifest = await (await cache.match(modelUrl)).json();
  const weights = (manifest.weightsManifest ?? []).flatMap((group) =>
    group.paths.map((p) => new URL(p, modelUrl).href)
  );
  await cache.addAll(weights);
  // A second stage (models/stack.json) and a seed ensemble's other weight files, when preprocessing.json names them.
  const ppUrl = new URL("../models/preprocessing.json", self.location.href);
  const { stack, members } = await (await cache.match(ppUrl)).json();
  if (stack?.file) await cache.add(new URL(stack.file, ppUrl).href);
  const memberUrls = (members ?? []).map((file) => new URL(file, modelUrl).href).filter((url) =>
    !weights.includes(url)
  );
  await cache.addAll(memberUrls);
}

self.addEventListener("install", (event) => {
  event.waitUntil(precache().then(() => self.skipWaiting()));
});

self.addEventListener("activate", (event) => {
  event.waitUntil((async () => {
    for (const key of await caches.keys()) if (key !== CACHE) await caches.delete(key);
    await self.clients.claim();
  })());
});

self.addEventListener("fetch", (event) => {
  const request = event.request;
  if (request.method !== "GET" || new URL(request.url).origin !== self.location.origin) return;
  event.respondWith((async () => {
    try {
      const response = await fetch(request);
      if (response.ok) {
        const copy = response.clone();
        event.waitUntil(caches.open(CACHE).then((cache) => cache.put(request, copy)));
      }
      return response;
    } catch (error) {
      const cached = await caches.match(request, { ignoreSearch: true });
      if (cached) return cached;
      throw error;
    }
  })());
});
