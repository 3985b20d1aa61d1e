/**
 * Latency of heart-rate and S1/S2 detection per recording, and how it splits into stages.
 * Synthetic 9 s recordings at the two dataset rates (set_a 44.1 kHz, set_b 4 kHz), plus one real
 * set_a recording when the data is present. Read the ratios within a group (same run, same machine).
 *
 * ```sh
 * deno bench -A bench/beats_bench.ts
 * ```
 *
 * `deno run -A bench/beats_bench.ts [--rounds R]` instead runs {@linkcode detectHeartSounds} over every real recording
 * side by side with the implementation before the speedups (tests/_beats_reference.ts), in one process: it checks
 * that every result is identical, both on the raw recordings and on the 2 kHz audio the classifier hands it, and
 * prints wall and CPU time per recording and their ratio.
 * @module
 */
import { detectHeartSounds, estimateHeartRate, shannonEnvelope } from "../lib/beats.ts";
import { resample } from "../lib/resample.ts";
import { synthesizeHeartSound } from "../lib/synth.ts";
import { readWav } from "../lib/wav.ts";
import type { Waveform } from "../lib/types.ts";

import { cpuUsage } from "node:process";
import { detectHeartSounds as referenceDetect } from "../tests/_beats_reference.ts";
import { findDataDir } from "../lib/data.ts";

/** The real data by lib/data.ts findDataDir's rule (HEARTBEAT_DATA, else data/); "" when absent. */
const DATA_DIR: string = findDataDir() ?? "";

if (import.meta.main) {
  await compareWithReference();
  Deno.exit(0);
}

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

/** Wall and CPU (user + system) milliseconds of `fn`. */
function measure(fn: () => void): { wall: number; cpu: number } {
  const c0 = cpuUsage(), t0 = performance.now();
  fn();
  const wall = performance.now() - t0, c = cpuUsage(c0);
  return { wall, cpu: (c.user + c.system) / 1000 };
}

async function compareWithReference(): Promise<void> {
  const i = Deno.args.indexOf("--rounds");
  const rounds = i >= 0 ? Number(Deno.args[i + 1]) : 1;
  const waves: Waveform[] = [];
  for (const set of ["set_a", "set_b"]) {
    let names: string[];
    try {
      names = [...Deno.readDirSync(`${DATA_DIR}/${set}`)].map((e) => e.name).filter((n) => n.endsWith(".wav")).sort();
    } catch {
      console.log(`SKIP: ${DATA_DIR} not found`);
      return;
    }
    for (const name of names) waves.push(readWav(await Deno.readFile(`${DATA_DIR}/${set}/${name}`)));
  }
  // what the classifier hands detectHeartSounds: the recording resampled to 2 kHz once
  const at2k = waves.map((w) => ({ samples: resample(w.samples, w.sampleRate, 2000), sampleRate: 2000 }));
  let differing = 0;
  for (const [k, w] of waves.entries()) {
    const same = JSON.stringify(detectHeartSounds(w)) === JSON.stringify(referenceDetect(w)) &&
      JSON.stringify(detectHeartSounds(at2k[k])) === JSON.stringify(referenceDetect(at2k[k]));
    if (!same) differing++;
  }
  console.log(`${waves.length} recordings: ${differing} results differ from the reference (raw and 2 kHz input)`);
  const totals = { reference: { wall: 0, cpu: 0 }, current: { wall: 0, cpu: 0 } };
  for (let r = 0; r < rounds; r++) {
    for (const w of at2k) { // interleaved, so load changes hit both alike
      for (const [name, fn] of [["reference", referenceDetect], ["current", detectHeartSounds]] as const) {
        const m = measure(() => fn(w));
        totals[name].wall += m.wall;
        totals[name].cpu += m.cpu;
      }
    }
  }
  const per = (v: number) => (v / (rounds * at2k.length)).toFixed(2);
  console.log(`detectHeartSounds on 2 kHz audio, ${rounds} round(s), load ${Deno.loadavg()[0].toFixed(1)}:`);
  for (const [name, t] of Object.entries(totals)) {
    console.log(`  ${name.padEnd(9)}: ${per(t.wall)} ms wall, ${per(t.cpu)} ms CPU per recording`);
  }
  console.log(
    `  speedup (reference / current): wall ×${(totals.reference.wall / totals.current.wall).toFixed(2)}, CPU ×${
      (totals.reference.cpu / totals.current.cpu).toFixed(2)
    }`,
  );
}
