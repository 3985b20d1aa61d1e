/// <reference lib="webworker" />
/**
 * The web page's classification worker (built into dist/worker.js by `deno task build`): the model loads and runs
 * here, off the page's thread, so that no recording can freeze the page; the page stops this worker (and starts a
 * new one) when the user moves on while it is busy. Same lib/ code and limits (lib/classifier.ts `checkRecordingSize`:
 * sample rate, duration) as the CLI, through dist/heartbeat.js.
 *
 * Messages in: {@linkcode WorkerRequest}; out: {@linkcode WorkerReply}.
 * @module
 */
import {
  checkRecordingSize,
  type ClassifyResult,
  type HeartSoundClassifier,
  loadClassifier,
  readWav,
  readWavHeader,
} from "../scripts/bundle_entry.ts";

/** What the page asks. */
export type WorkerRequest =
  | { type: "load"; modelUrl: string }
  | { type: "classify"; id: number; bytes?: ArrayBuffer; samples?: Float32Array; sampleRate?: number };

/** What the worker answers: `samples` are the decoded recording (for the waveform), transferred. */
export type WorkerReply =
  | { type: "ready"; labels: string[]; ms: number }
  | { type: "result"; id: number; result: ClassifyResult; samples: Float32Array; sampleRate: number; ms: number }
  | { type: "error"; id: number | null; message: string };

const scope = self as unknown as DedicatedWorkerGlobalScope;
let classifier: Promise<HeartSoundClassifier> | null = null;

function firstLine(error: unknown): string {
  return (error instanceof Error ? error.message : String(error)).split("\n")[0];
}

function reply(message: WorkerReply, transfer: Transferable[] = []): void {
  scope.postMessage(message, transfer);
}

scope.onmessage = async (event: MessageEvent<WorkerRequest>) => {
  const request = event.data;
  if (request.type === "load") {
    const started = performance.now();
    classifier ??= loadClassifier(new URL(request.modelUrl));
    try {
      const model = await classifier;
      reply({ type: "ready", labels: model.labels(), ms: performance.now() - started });
    } catch (error) {
      reply({ type: "error", id: null, message: firstLine(error) });
    }
    return;
  }
  const started = performance.now();
  try {
    if (!classifier) throw new Error("Cannot classify: the model is not loaded");
    const model = await classifier;
    let samples: Float32Array, sampleRate: number;
    if (request.bytes) {
      // The CLI's limits (sample rate, duration) from the header, before the samples are decoded.
      const bytes = new Uint8Array(request.bytes);
      const header = readWavHeader(bytes);
      checkRecordingSize(header.sampleRate, header.durationS);
      const wav = readWav(bytes);
      samples = wav.samples;
      sampleRate = wav.sampleRate;
    } else {
      samples = request.samples!;
      sampleRate = request.sampleRate!;
    }
    const result = model.classify(samples, sampleRate);
    const ms = performance.now() - started;
    reply({ type: "result", id: request.id, result, samples, sampleRate, ms }, [samples.buffer]);
  } catch (error) {
    reply({ type: "error", id: request.id, message: firstLine(error) });
  }
};
