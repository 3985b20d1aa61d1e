/**
 * An optional pool of Workers that computes the dominant-frequency features of many WAV files in
 * parallel, one file per job, handed out as workers become free. lib/ stays single-threaded and
 * pure; this is how the benchmark uses the second core.
 * @module
 */

/** Features of one file, as lib/features.ts computes them. */
export interface FileFeatures {
  frequencyHz: Float32Array;
  magnitude: Float32Array;
  durationS: number;
}

/** A running pool; `close()` terminates its workers. */
export interface FeaturePool {
  /** Number of workers. */
  size: number;
  /** Features of each file, in the order given. Rejects on the first file that fails. */
  featuresForFiles(paths: string[], deltaTimeS: number): Promise<FileFeatures[]>;
  close(): void;
}

/** Starts `size` workers (≥ 1) and waits until each has loaded its module. */
export async function createFeaturePool(size: number): Promise<FeaturePool> {
  const url = new URL("./_features_worker.ts", import.meta.url);
  const workers = Array.from({ length: size }, () => new Worker(url, { type: "module" }));
  // A job that fails (empty path) answers once the module is loaded: a cheap readiness probe.
  await Promise.all(workers.map((w) =>
    new Promise<void>((resolve) => {
      w.onmessage = () => resolve();
      w.postMessage({ id: -1, path: "", deltaTimeS: 0.01 });
    })
  ));
  return {
    size,
    featuresForFiles(paths, deltaTimeS) {
      return new Promise((resolve, reject) => {
        const results: FileFeatures[] = new Array(paths.length);
        let next = 0, done = 0, failed = false;
        const feed = (w: Worker) => {
          if (next < paths.length) w.postMessage({ id: next, path: paths[next++], deltaTimeS });
        };
        for (const w of workers) {
          w.onmessage = (e: MessageEvent) => {
            const { id, error, ...features } = e.data;
            if (failed) return;
            if (error) {
              failed = true;
              reject(new Error(`Cannot compute features of ${paths[id]}: ${error}`));
              return;
            }
            results[id] = features as FileFeatures;
            if (++done === paths.length) resolve(results);
            else feed(w);
          };
          feed(w);
        }
        if (paths.length === 0) resolve(results);
      });
    },
    close() {
      for (const w of workers) w.terminate();
    },
  };
}
