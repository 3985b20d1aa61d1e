/**
 * Worker of the CLI's pool (lib/infer.ts `--jobs`): loads the classifier once, then classifies one WAV
 * file per message. Messages in: `{ model?: string, backend, progress }` first, then `{ id, bytes }`. Out:
 * `{ ready: true }` or `{ loadError }` after loading, then `{ id, result }` or `{ id, error }` per file.
 * `progress` (shared memory) lets the CLI's thread see the worker's state without waiting for its messages:
 * `progress[0]` counts the files done, `progress[1]` is 1 once the model is loaded (2 if that failed).
 * @module
 */
import type { Backend, ClassifyOptions, HeartSoundClassifier } from "./classifier.ts";
import { loadClassifier } from "./infer.ts";
import { HeartSoundError } from "./errors.ts";

/** First message: which model to load. */
export interface WorkerInit {
  model?: string;
  backend: Backend;
  /** Two Int32 on a SharedArrayBuffer: files done, and 0 loading / 1 ready / 2 failed. */
  progress: Int32Array;
}

/** One file to classify. */
export interface WorkerJob {
  id: number;
  bytes: Uint8Array;
  options?: ClassifyOptions;
}

function message(error: unknown, action: string): string {
  if (error instanceof HeartSoundError) return error.message;
  const text = (error instanceof Error ? error.message : String(error)).split("\n")[0].trim();
  return `Cannot ${action}: ${text || "unknown error"}`;
}

const scope = self as unknown as {
  onmessage: ((event: MessageEvent) => void) | null;
  postMessage(message: unknown): void;
};
let classifier: HeartSoundClassifier | undefined;
let progress: Int32Array | undefined;

scope.onmessage = async (event: MessageEvent) => {
  if (!classifier) {
    const init = event.data as WorkerInit;
    progress = init.progress;
    try {
      classifier = await loadClassifier(init.model, { backend: init.backend });
      Atomics.store(progress, 1, 1);
      scope.postMessage({ ready: true });
    } catch (error) {
      Atomics.store(progress, 1, 2);
      scope.postMessage({ loadError: message(error, "load model") });
    }
    return;
  }
  const { id, bytes, options } = event.data as WorkerJob;
  let answer;
  try {
    answer = { id, result: classifier.classifyWav(bytes, options) };
  } catch (error) {
    answer = { id, error: message(error, "classify") };
  }
  Atomics.add(progress!, 0, 1);
  scope.postMessage(answer);
};
