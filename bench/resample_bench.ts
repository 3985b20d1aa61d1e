/**
 * Resampling speed, the current lib/resample.ts side by side with the implementation before the speedups
 * (tests/_resample_reference.ts), in one process: wall and CPU time per recording, their ratio, and the
 * largest output difference. Runs on the set_a recordings (44.1 kHz → 2 kHz, what inference does) when the
 * data is present, else on a synthetic 9 s recording.
 *
 * ```sh
 * deno run -A bench/resample_bench.ts [--files N] [--rounds R]
 * ```
 * @module
 */
import { cpuUsage } from "node:process";
import { resample } from "../lib/resample.ts";
import { synthesizeHeartSound } from "../lib/synth.ts";
import { readWav } from "../lib/wav.ts";
import { resample as referenceResample } from "../tests/_resample_reference.ts";
import { findDataDir } from "../lib/data.ts";

/** The real data by lib/data.ts findDataDir's rule (HEARTBEAT_DATA, else data/); "" when absent. */
const DATA_DIR: string = findDataDir() ?? "";

function flag(name: string, fallback: number): number {
  const i = Deno.args.indexOf(name);
  return i >= 0 ? Number(Deno.args[i + 1]) : fallback;
}

/** Wall and CPU (user + system) milliseconds of `fn`. */
function measure(fn: () => void): { wall: number; cpu: number } {
  const c0 = cpuUsage(), t0 = performance.now();
  fn();
  const wall = performance.now() - t0, c = cpuUsage(c0);
  return { wall, cpu: (c.user + c.system) / 1000 };
}

const maxFiles = flag("--files", 40), rounds = flag("--rounds", 3), toRate = 2000;
const fromRate = 44100;
let inputs: Float32Array[] = [];
try {
  const names = [...Deno.readDirSync(`${DATA_DIR}/set_a`)].map((e) => e.name).filter((n) => n.endsWith(".wav")).sort();
  for (const name of names.slice(0, maxFiles)) {
    const w = readWav(Deno.readFileSync(`${DATA_DIR}/set_a/${name}`));
    if (w.sampleRate === fromRate) inputs.push(w.samples);
  }
} catch {
  console.log(`SKIP: ${DATA_DIR} not found; using one synthetic recording`);
}
if (inputs.length === 0) {
  const s = synthesizeHeartSound({ seed: 1, sampleRate: 4000, durationS: 9, heartRateBpm: 75, noiseLevel: 0.05 });
  inputs = [referenceResample(s.samples, 4000, fromRate)];
}
console.log(
  `${inputs.length} recordings at ${fromRate} Hz → ${toRate} Hz, ${rounds} rounds, load ${Deno.loadavg()[0]}`,
);

let maxDiff = 0;
for (const x of inputs) {
  const a = resample(x, fromRate, toRate), b = referenceResample(x, fromRate, toRate);
  for (let i = 0; i < a.length; i++) maxDiff = Math.max(maxDiff, Math.abs(a[i] - b[i]));
}
const totals = { reference: { wall: 0, cpu: 0 }, current: { wall: 0, cpu: 0 } };
for (let r = 0; r < rounds; r++) {
  // interleaved per recording, so load changes hit both alike
  for (const x of inputs) {
    for (const [name, fn] of [["reference", referenceResample], ["current", resample]] as const) {
      const m = measure(() => fn(x, fromRate, toRate));
      totals[name].wall += m.wall;
      totals[name].cpu += m.cpu;
    }
  }
}
const per = (v: number) => (v / (rounds * inputs.length)).toFixed(2);
for (const [name, t] of Object.entries(totals)) {
  console.log(`${name.padEnd(9)}: ${per(t.wall)} ms wall, ${per(t.cpu)} ms CPU per recording`);
}
console.log(
  `speedup (reference / current): wall ×${(totals.reference.wall / totals.current.wall).toFixed(2)}, CPU ×${
    (totals.reference.cpu / totals.current.cpu).toFixed(2)
  }; largest output difference ${maxDiff.toExponential(2)}`,
);
