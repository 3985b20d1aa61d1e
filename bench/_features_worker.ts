/**
 * Worker of bench/_feature_pool.ts: reads, decodes and featurises one WAV file per message.
 * Message in: `{ id, path, deltaTimeS }`. Message out: `{ id, frequencyHz, magnitude, durationS }`
 * (buffers transferred) or `{ id, error }`.
 * @module
 */
import { readWav } from "../lib/wav.ts";
import { dominantFrequencyFeatures } from "../lib/features.ts";

interface Job {
  id: number;
  path: string;
  deltaTimeS: number;
}

const scope = self as unknown as {
  onmessage: ((e: MessageEvent<Job>) => void) | null;
  postMessage(message: unknown, transfer?: Transferable[]): void;
};

scope.onmessage = (e: MessageEvent<Job>) => {
  const { id, path, deltaTimeS } = e.data;
  try {
    const wav = readWav(Deno.readFileSync(path));
    const f = dominantFrequencyFeatures(wav.samples, wav.sampleRate, deltaTimeS);
    scope.postMessage({ id, frequencyHz: f.frequencyHz, magnitude: f.magnitude, durationS: wav.durationS }, [
      f.frequencyHz.buffer as ArrayBuffer,
      f.magnitude.buffer as ArrayBuffer,
    ]);
  } catch (error) {
    scope.postMessage({ id, error: error instanceof Error ? `${error.name}: ${error.message}` : String(error) });
  }
};
