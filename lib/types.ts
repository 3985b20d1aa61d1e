/**
 * The mono signal every DSP function takes, and the one check of its invariants.
 * @module
 */
import { ParameterError } from "./errors.ts";

/** A mono signal with its sample rate. Samples are nominally in [-1, 1]. */
export interface Waveform {
  samples: Float32Array;
  /** Samples per second, in Hz. */
  sampleRate: number;
}

/**
 * Checks the invariants every DSP entry point relies on: samples in a Float32Array, at least one,
 * all finite, and a finite sample rate > 0.
 * @param action Words for the error message, "Cannot <action>: …". @default {"process audio"}
 * @throws {ParameterError} The first broken invariant, e.g. "Cannot compute STFT: sample 3 is NaN".
 * @example Usage
 * ```ts
 * assertThrows(() => assertValidAudio({ samples: new Float32Array([0, NaN]), sampleRate: 4000 }), ParameterError);
 * ```
 */
export function assertValidAudio(wave: Waveform, action = "process audio"): void {
  if (!(wave.samples instanceof Float32Array)) {
    throw new ParameterError(`Cannot ${action}: samples are not a Float32Array`);
  }
  if (!(wave.sampleRate > 0) || !Number.isFinite(wave.sampleRate)) {
    throw new ParameterError(`Cannot ${action}: sample rate is ${wave.sampleRate}`);
  }
  if (wave.samples.length === 0) throw new ParameterError(`Cannot ${action}: the recording has zero samples`);
  const samples = wave.samples;
  // x·0 is 0 for every finite x and NaN for ±Infinity and NaN: branch-free sums find whether any sample
  // is bad, and only then is the first one looked for.
  let p0 = 0, p1 = 0, p2 = 0, p3 = 0; // four independent sums: the additions overlap in the CPU
  const end4 = samples.length & ~3;
  for (let i = 0; i < end4; i += 4) {
    p0 += samples[i] * 0;
    p1 += samples[i + 1] * 0;
    p2 += samples[i + 2] * 0;
    p3 += samples[i + 3] * 0;
  }
  for (let i = end4; i < samples.length; i++) p0 += samples[i] * 0;
  if (p0 + p1 + p2 + p3 === 0) return;
  for (let i = 0; i < samples.length; i++) {
    if (!Number.isFinite(samples[i])) throw new ParameterError(`Cannot ${action}: sample ${i} is ${samples[i]}`);
  }
}
