// The page's classification worker (web/worker.ts, built into dist/worker.js), started from this folder so that the
// service worker, whose scope is web/, also serves the worker's own requests (bundle, model) when offline.
import "../dist/worker.js";
