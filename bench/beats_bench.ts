/**
 * Latency of heart-rate and S1/S2 detection per recording, and how it splits into stages.
 * Synthetic 9 s recordings at the two dataset rates (set_a 44.1 kHz, set_b 4 kHz), plus one real
 * set_a recording when the data is present. Read the ratios within a group (same run, same machine).
 *
 * ```sh
 * deno bench -A bench/beats_bench.ts
 * ```
 * @module
 */
import { detectHeartSounds, estimateHeartRate, shannonEnvelope } from "../lib/beats.ts";
import { resample } from "../lib/resample.ts";
import { synthesizeHeartSound } from "../lib/synth.ts";
import { readWav } from "../lib/wav.ts";
import type { Waveform } from "../lib/types.ts";

const DATA_DIR: string = Deno.env.get("HEARTBEAT_DATA") ??
  new URL("../../shared/data/heartbeat-sounds", import.meta.url).pathname;

const synth4k = synthesizeHeartSound({ seed: 1, sampleRate: 4000, durationS: 9, heartRateBpm: 75, noiseLevel: 0.05 });
const synth44k: Waveform = { samples: resample(synth4k.samples, 4000, 44100), sampleRate: 44100 };
const env4k = shannonEnvelope(synth4k);

for (const [name, wave] of [["9 s at 4 kHz", synth4k], ["9 s at 44.1 kHz", synth44k]] as const) {
  Deno.bench(`detectHeartSounds, ${name}`, { group: name, baseline: true }, () => {
    detectHeartSounds(wave);
  });
  Deno.bench(`shannonEnvelope (resample + band-pass + energy), ${name}`, { group: name }, () => {
    shannonEnvelope(wave);
  });
}

Deno.bench("estimateHeartRate + segmentation on a ready envelope, 9 s", { group: "9 s at 4 kHz" }, () => {
  estimateHeartRate(env4k);
});

let real: Waveform | null = null;
try {
  real = readWav(Deno.readFileSync(`${DATA_DIR}/set_a/normal__201105011626.wav`));
} catch {
  console.log(`SKIP: ${DATA_DIR} not found; real-recording benchmark left out`);
}
if (real) {
  const wave = real;
  Deno.bench("detectHeartSounds, real set_a recording (9 s, 44.1 kHz, 128 bpm)", () => {
    detectHeartSounds(wave);
  });
}
