/**
 * Worker of the CLI's pool (lib/infer.ts `--jobs`): loads the classifier once, then classifies one WAV
 * file per message. Messages in: `{ model?: string, backend }` first, then `{ id, bytes }`. Out:
 * `{ ready: true }` or `{ loadError }` after loading, then `{ id, result }` or `{ id, error }` per file.
 * @module
 */
import type { Backend, HeartSoundClassifier } from "./classifier.ts";
import { loadClassifier } from "./infer.ts";
import { HeartSoundError } from "./errors.ts";

/** First message: which model to load. */
export interface WorkerInit {
  model?: string;
  backend: Backend;
}

/** One file to classify. */
export interface WorkerJob {
  id: number;
  bytes: Uint8Array;
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

scope.onmessage = async (event: MessageEvent) => {
  if (!classifier) {
    const init = event.data as WorkerInit;
    try {
      classifier = await loadClassifier(init.model, { backend: init.backend });
      scope.postMessage({ ready: true });
    } catch (error) {
      scope.postMessage({ loadError: message(error, "load model") });
    }
    return;
  }
  const { id, bytes } = event.data as WorkerJob;
  try {
    scope.postMessage({ id, result: classifier.classifyWav(bytes) });
  } catch (error) {
    scope.postMessage({ id, error: message(error, "classify") });
  }
};
