/**
 * The public API of heartbeat, platform-neutral (no `Deno.*`; Node.js and browsers get it bundled as
 * dist/heartbeat.js): the classifier (lib/classifier.ts) and the signal-processing core (lib/dsp.ts:
 * WAV reading and writing, STFT, resampling, filters, mel/MFCC, heart rate and S1/S2, synthetic
 * heart sounds), with their types and errors. Deno programs that also want `classifyFile` and the CLI
 * import lib/infer.ts instead.
 *
 * ```ts
 * import { loadClassifier } from "./lib/mod.ts";
 * const classifier = await loadClassifier();
 * const { label, confidence, heartRateBpm } = classifier.classifyWav(wavBytes);
 * ```
 * @module
 */
export * from "./dsp.ts";
export * from "./classifier.ts";
