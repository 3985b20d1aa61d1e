/**
 * Cost against recording length, 10 s to 2 h (synthetic heart sounds at 4 kHz): heart-sound detection
 * (`detectHeartSounds`) and, inside it, the peak picking (`envelopePeaks`) side by side with the pairwise
 * suppression it replaced (quadratic in the number of peaks). Prints milliseconds and the old/new ratio per length;
 * checks that both pickers return the same peaks.
 *
 * ```sh
 * deno run -A bench/long_recording_bench.ts [--max-s 7200]
 * ```
 * @module
 */
import assert from "node:assert/strict";
import { type Candidate, detectHeartSounds, envelopePeaks, shannonEnvelope } from "../lib/beats.ts";
import { synthesizeHeartSound } from "../lib/synth.ts";
import { pairwisePeaks } from "../tests/_beats_reference.ts";

function ms(f: () => unknown): number {
  const t0 = performance.now();
  f();
  return performance.now() - t0;
}

const maxIndex = Deno.args.indexOf("--max-s");
const maxS = maxIndex >= 0 ? Number(Deno.args[maxIndex + 1]) : 7200;
const base = synthesizeHeartSound({ seed: 1, sampleRate: 4000, durationS: 10, heartRateBpm: 75, noiseLevel: 0.05 });
console.log("length s | peaks | pairwise ms | envelopePeaks ms | ratio | detectHeartSounds ms | per minute ms");
for (const durationS of [10, 60, 600, 1800, 3600, 7200].filter((d) => d <= maxS)) {
  const samples = new Float32Array(durationS * 4000);
  for (let at = 0; at < samples.length; at += base.samples.length) {
    samples.set(base.samples.subarray(0, samples.length - at), at);
  }
  const wave = { samples, sampleRate: 4000 };
  const env = shannonEnvelope(wave);
  let oldPeaks: Candidate[] = [], newPeaks: Candidate[] = [];
  const oldMs = ms(() => oldPeaks = pairwisePeaks(env, -Infinity, 0.08));
  const newMs = ms(() => newPeaks = envelopePeaks(env, -Infinity, 0.08));
  assert.deepEqual(newPeaks, oldPeaks);
  const detectMs = ms(() => detectHeartSounds(wave));
  console.log(
    [
      durationS,
      newPeaks.length,
      oldMs.toFixed(1),
      newMs.toFixed(1),
      (oldMs / newMs).toFixed(0),
      detectMs.toFixed(0),
      (detectMs / durationS * 60).toFixed(1),
    ].join(" | "),
  );
}
