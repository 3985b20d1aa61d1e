/**
 * Regenerates the bundled example recordings: SYNTHETIC heart sounds (lib/synth.ts), one per class,
 * 10 s at 4 kHz, 16-bit PCM mono. They are not real recordings and not dataset audio. The shipped model
 * recognises the synthetic normal and murmur; it calls the synthetic extra heart sound and extrasystole
 * normal (the demo says so), while the rhythm check finds the extrasystole's two premature beats.
 *
 * ```sh
 * deno run -W=examples examples/make_examples.ts
 * ```
 * @module
 */
import { synthesizeHeartSound, type SynthKind } from "../lib/synth.ts";
import { encodeWav } from "../lib/wav.ts";

/** The examples: class, seed and heart rate (bpm). */
export const EXAMPLES: readonly { kind: SynthKind; seed: number; heartRateBpm: number; prematureBeats?: number }[] = [
  { kind: "normal", seed: 11, heartRateBpm: 68 },
  { kind: "murmur", seed: 12, heartRateBpm: 80 },
  { kind: "extrahls", seed: 13, heartRateBpm: 64 },
  { kind: "extrastole", seed: 14, heartRateBpm: 75, prematureBeats: 2 },
];

/** The WAV bytes of one example, as written to examples/synthetic_<kind>.wav. */
export function exampleWav(example: (typeof EXAMPLES)[number]): Uint8Array {
  const rec = synthesizeHeartSound({ ...example, sampleRate: 4000, durationS: 10 });
  return encodeWav(rec, { bitDepth: 16 });
}

if (import.meta.main) {
  for (const example of EXAMPLES) {
    const url = new URL(`synthetic_${example.kind}.wav`, import.meta.url);
    await Deno.writeFile(url, exampleWav(example));
    console.log(`wrote ${url.pathname}`);
  }
}
