/**
 * Cost of the rhythm check per recording against the heart-sound detection the classifier already runs: a
 * synthetic 10 s extrastole recording at 2 kHz (the rate the classifier hands both). Read the ratios within the group.
 *
 * ```sh
 * deno bench -A bench/rhythm_bench.ts
 * ```
 * @module
 */
import { detectHeartSounds, shannonEnvelope } from "../lib/beats.ts";
import { irregularRhythm, irregularRhythmFromEnvelope } from "../lib/rhythm.ts";
import { synthesizeHeartSound } from "../lib/synth.ts";

const wave = synthesizeHeartSound({ seed: 1, sampleRate: 2000, durationS: 10, kind: "extrastole", noiseLevel: 0.05 });
const env = shannonEnvelope(wave);
const group = "10 s at 2 kHz";

Deno.bench("detectHeartSounds (already run by the classifier)", { group, baseline: true }, () => {
  detectHeartSounds(wave);
});
Deno.bench("irregularRhythmFromEnvelope (the envelope shared)", { group }, () => {
  irregularRhythmFromEnvelope(env);
});
Deno.bench("irregularRhythm (its own envelope)", { group }, () => {
  irregularRhythm(wave);
});
Deno.bench("shannonEnvelope", { group }, () => {
  shannonEnvelope(wave);
});
