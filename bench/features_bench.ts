/**
 * Dominant-frequency features (delta 0.01 s, each file at its native rate, reading and WAV
 * decoding included) for the 432 labelled development recordings of the four target classes
 * (labels.csv rows labelled normal, murmur, extrahls or extrastole; 2,818 s of audio), three ways,
 * side by side in one run:
 * - baseline: a plain port (bench/_features_baseline.ts: wavefile decoding, fft.js, the whole
 *   magnitude spectrogram, then argmax), single-threaded;
 * - lib: `readWav` + `dominantFrequencyFeatures` from lib/, single-threaded;
 * - lib × N workers: the same in a pool of Workers, one file per job (bench/_feature_pool.ts).
 * It checks that the three give identical features for every file, then reports wall time,
 * audio seconds per wall second and each ratio to the baseline. For reference, the original's
 * librosa code took 36 s for this set (78× real time) on this kind of machine.
 * Without the dataset it runs on synthetic recordings instead (and says so).
 *
 * ```sh
 * deno run -A bench/features_bench.ts [--rounds=3] [--workers=2]   # script: interleaved rounds, ratios
 * deno bench -A bench/features_bench.ts                            # the same three as Deno.bench cases
 * ```
 * @module
 */
import process from "node:process";
import { encodeWav, readWav } from "../lib/wav.ts";
import { dominantFrequencyFeatures } from "../lib/features.ts";
import { synthesizeHeartSound } from "../lib/synth.ts";
import { CLASS_NAMES } from "../lib/classes.ts";
import { baselineDominantFeatures, baselineReadWav } from "./_features_baseline.ts";
import { createFeaturePool, type FileFeatures } from "./_feature_pool.ts";
import { findDataDir } from "../lib/data.ts";

/** The real data by lib/data.ts findDataDir's rule (HEARTBEAT_DATA, else data/); "" when absent. */
const DATA_DIR: string = findDataDir() ?? "";
const TARGET_LABELS = new Set<string>(CLASS_NAMES);
const DELTA_S = 0.01;

/** The 432 development recordings, or 24 synthetic ones (12 at 44.1 kHz, 12 at 4 kHz, 9 s) in a temp dir. */
async function benchmarkFiles(): Promise<{ paths: string[]; source: string }> {
  try {
    const lines = (await Deno.readTextFile(`${DATA_DIR}/labels.csv`)).trim().split("\n");
    const header = lines[0].split(",");
    const path = header.indexOf("path"), label = header.indexOf("label");
    const paths = lines.slice(1).map((l) => l.split(",")).filter((c) => TARGET_LABELS.has(c[label])).map((c) =>
      `${DATA_DIR}/${c[path]}`
    );
    return { paths, source: `${paths.length} labelled development recordings in ${DATA_DIR}` };
  } catch {
    const dir = await Deno.makeTempDir({ prefix: "features_bench_" });
    const kinds = ["normal", "murmur", "extrahls", "extrastole"] as const;
    const paths: string[] = [];
    for (let i = 0; i < 24; i++) {
      const sampleRate = i % 2 ? 4000 : 44100;
      const rec = synthesizeHeartSound({ seed: i, kind: kinds[i % 4], sampleRate, durationS: 9 });
      const path = `${dir}/synthetic_${i}.wav`;
      await Deno.writeFile(path, encodeWav({ samples: rec.samples, sampleRate }));
      paths.push(path);
    }
    return { paths, source: `SKIP real data (not found at ${DATA_DIR}): 24 synthetic 9 s recordings instead` };
  }
}

function runBaseline(paths: string[]): FileFeatures[] {
  return paths.map((path) => {
    const wav = baselineReadWav(Deno.readFileSync(path));
    return {
      ...baselineDominantFeatures(wav.samples, wav.sampleRate, DELTA_S),
      durationS: wav.samples.length / wav.sampleRate,
    };
  });
}

function runLib(paths: string[]): FileFeatures[] {
  return paths.map((path) => {
    const wav = readWav(Deno.readFileSync(path));
    const f = dominantFrequencyFeatures(wav.samples, wav.sampleRate, DELTA_S);
    return { frequencyHz: f.frequencyHz, magnitude: f.magnitude, durationS: wav.durationS };
  });
}

function sameBits(a: Float32Array, b: Float32Array): boolean {
  if (a.length !== b.length) return false;
  const x = new Uint32Array(a.buffer, a.byteOffset, a.length), y = new Uint32Array(b.buffer, b.byteOffset, b.length);
  for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return false;
  return true;
}

/** Throws unless every file's features agree bit for bit. */
function assertIdentical(name: string, ours: FileFeatures[], reference: FileFeatures[], paths: string[]): void {
  for (let i = 0; i < paths.length; i++) {
    if (
      !sameBits(ours[i].frequencyHz, reference[i].frequencyHz) || !sameBits(ours[i].magnitude, reference[i].magnitude)
    ) {
      throw new Error(`${name} differs from the baseline on ${paths[i]}`);
    }
  }
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function main(args: string[]): Promise<void> {
  const option = (name: string, fallback: number) => {
    const arg = args.find((a) => a.startsWith(`--${name}=`));
    return arg ? Number(arg.split("=")[1]) : fallback;
  };
  const rounds = option("rounds", 3), workers = option("workers", 2);
  const { paths, source } = await benchmarkFiles();
  console.log(source);
  const t0 = performance.now();
  const pool = await createFeaturePool(workers);
  const poolStartMs = performance.now() - t0;
  try {
    // Warm-up (JIT, page cache), and the identity check.
    const reference = runBaseline(paths);
    assertIdentical("lib", runLib(paths), reference, paths);
    assertIdentical(`lib × ${workers} workers`, await pool.featuresForFiles(paths, DELTA_S), reference, paths);
    const audioS = reference.reduce((s, f) => s + f.durationS, 0);
    console.log(
      `${audioS.toFixed(1)} s of audio; features identical (bit for bit) in all three for all ${paths.length} files`,
    );
    const runs: [string, string, () => unknown][] = [
      ["baseline", "baseline (plain port)", () => runBaseline(paths)],
      ["lib", "lib, 1 thread", () => runLib(paths)],
      ["pool", `lib, ${workers} workers`, () => pool.featuresForFiles(paths, DELTA_S)],
    ];
    const wall: Record<string, number[]> = {}, cpu: Record<string, number[]> = {};
    for (let r = 0; r < rounds; r++) { // interleaved, so that load from other processes hits all three alike
      for (const [key, , run] of runs) {
        const c0 = process.cpuUsage(), t0 = performance.now();
        await run();
        const c = process.cpuUsage(c0);
        (wall[key] ??= []).push((performance.now() - t0) / 1000);
        (cpu[key] ??= []).push((c.user + c.system) / 1e6);
      }
    }
    console.log(
      `median of ${rounds} interleaved rounds; wall = elapsed, cpu = CPU time of all threads ` +
        `(worker start-up, once: ${poolStartMs.toFixed(0)} ms, not included):`,
    );
    const baseWall = median(wall.baseline), baseCpu = median(cpu.baseline);
    for (const [key, name] of runs) {
      const w = median(wall[key]), c = median(cpu[key]);
      console.log(
        `  ${name.padEnd(22)} wall ${w.toFixed(3)} s ${(audioS / w).toFixed(0).padStart(5)}× real time ` +
          `${(baseWall / w).toFixed(2).padStart(6)}× baseline | cpu ${c.toFixed(3)} s ${
            (baseCpu / c).toFixed(2)
          }× baseline` +
          ` | wall rounds ${wall[key].map((x) => x.toFixed(3)).join(", ")}`,
      );
    }
    console.log(`  (the original librosa code: 36 s for this set, 78× real time)`);
  } finally {
    pool.close();
  }
}

if (import.meta.main) {
  await main(Deno.args);
} else {
  const { paths, source } = await benchmarkFiles();
  console.log(source);
  const pool = await createFeaturePool(2);
  globalThis.addEventListener("unload", () => pool.close());
  const group = "dominant features, all files";
  Deno.bench("baseline (plain port), 1 thread", { group, baseline: true, n: 3, warmup: 1 }, () => {
    runBaseline(paths);
  });
  Deno.bench("lib, 1 thread", { group, n: 5, warmup: 1 }, () => {
    runLib(paths);
  });
  Deno.bench("lib, 2 workers", { group, n: 5, warmup: 1 }, async () => {
    await pool.featuresForFiles(paths, DELTA_S);
  });
}
