/**
 * Inference speed of the shipped model.
 *
 * - `deno bench -A bench/infer_bench.ts`: warm per-recording latency (classify, classifyWav) on synthetic
 *   recordings and, when the data is present, on real ones.
 * - `deno run -A bench/infer_bench.ts [--runs N] [--data DIR]`: the numbers of issue 5, measured side by side
 *   in one run: cold CLI wall time for one file (subprocess `deno run -R lib/infer.ts file.wav`, dependencies
 *   cached) next to an empty `deno run` (Deno's own start-up); warm per-file latency; files per second over
 *   every recording in set_a and set_b (in process, and the CLI end to end as one subprocess, in process
 *   and with one worker per core: min(N, 3) runs of each, alternating, median and range), and the warm batch rate
 *   on all cores (the CLI given the folders and a copy of them: the extra files over the extra time, i.e. once start-up and JIT
 *   warm-up are paid). The machine's load average is printed: other processes slow every number.
 *   Warm numbers come with CPU time (user + system of this process) besides wall time.
 *   `--model DIR` measures another model folder instead of the shipped one.
 * - `deno run -A bench/infer_bench.ts --model-step`: only the model step, lib/forward.ts (the default "js" backend)
 *   side by side with tfjs `model.predict` (cpu backend) on the preprocessed windows of the same recordings,
 *   interleaved per file: CPU and wall time per file, their ratio, and the largest probability difference.
 *   (Also part of the full run.)
 * - `deno run -A bench/infer_bench.ts --stages`: where one recording's time goes, the steps of classifyWav() run one
 *   by one in one pass over set_a and set_b (decode, resample, CNN input, model step, heart sounds, hand features,
 *   trees): CPU time per file of each and its share.
 * - `deno run -A bench/infer_bench.ts --baseline DIR`: warm classifyWav() of this checkout side by side with another
 *   checkout at DIR (e.g. `git archive <commit> | tar -x -C DIR`), both with this checkout's model, interleaved per
 *   file in one process: wall and CPU time per file, their ratio, and the largest difference of the results.
 * @module
 */
import { cpuUsage } from "node:process";
import { DEFAULT_MODEL_URL, loadClassifier } from "../lib/classifier.ts";
import { loadForwardModel } from "../lib/forward.ts";
import { detectHeartSounds } from "../lib/beats.ts";
import { HAND_FEATURE_BAND_HZ, handFeatures } from "../lib/handfeatures.ts";
import { resampleWaveform } from "../lib/resample.ts";
import { loadStack, predictTreeEnsemble } from "../lib/stack.ts";
import { denoReadFile, readModelFolder } from "../lib/model_folder.ts";
import type { LogmelWindowsPreprocessing } from "../lib/preprocess.ts";
import { loadModel } from "../lib/model.ts";
import { logmelBandpassed, logmelFramesOfBandpassed, preprocess, windowsFromFrames } from "../lib/preprocess.ts";
import { loadTf } from "../lib/tf.ts";
import { readWav } from "../lib/wav.ts";
import { synthesizeHeartSound } from "../lib/synth.ts";
import { encodeWav } from "../lib/wav.ts";
import { findDataDir } from "../lib/data.ts";

const ROOT = decodeURIComponent(new URL("..", import.meta.url).pathname).replace(/\/$/, "");
const DATA = findDataDir() ?? "";

function listWavs(dir: string): string[] {
  const out: string[] = [];
  try {
    for (const entry of Deno.readDirSync(dir)) {
      if (entry.isFile && entry.name.toLowerCase().endsWith(".wav")) out.push(`${dir}/${entry.name}`);
    }
  } catch {
    return [];
  }
  return out.sort();
}

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

async function wallMs(args: string[]): Promise<number> {
  const t0 = performance.now();
  const out = await new Deno.Command(Deno.execPath(), { args, cwd: ROOT, stdout: "null", stderr: "piped" }).output();
  const ms = performance.now() - t0;
  if (out.code > 1) throw new Error(`deno ${args.join(" ")} failed: ${new TextDecoder().decode(out.stderr)}`);
  return ms;
}

if (!import.meta.main) {
  const classifier = await loadClassifier();
  const synthetic = synthesizeHeartSound({ seed: 1, kind: "murmur", durationS: 8 });
  const syntheticWav = encodeWav(synthetic);
  const real = [...listWavs(`${DATA}/set_a`).slice(0, 20), ...listWavs(`${DATA}/set_b`).slice(0, 20)];
  const realBytes = await Promise.all(real.map((p) => Deno.readFile(p)));
  let next = 0;

  Deno.bench("classify() 8 s synthetic at 4 kHz", { group: "warm", baseline: true }, () => {
    classifier.classify(synthetic.samples, synthetic.sampleRate);
  });
  Deno.bench("classify() without beats", { group: "warm" }, () => {
    classifier.classify(synthetic.samples, synthetic.sampleRate, { beats: false });
  });
  Deno.bench("classifyWav() 8 s synthetic WAV", { group: "warm" }, () => {
    classifier.classifyWav(syntheticWav);
  });
  if (realBytes.length > 0) {
    Deno.bench("classifyWav() real recordings (set_a and set_b, round robin)", { group: "warm" }, () => {
      classifier.classifyWav(realBytes[next++ % realBytes.length]);
    });
  }
} else if (Deno.args.includes("--stages")) {
  await stageTimes();
} else if (Deno.args.includes("--model-step")) {
  await compareModelStep();
} else if (Deno.args.includes("--baseline")) {
  await compareWithBaseline(Deno.args[Deno.args.indexOf("--baseline") + 1]);
} else {
  const runsFlag = Deno.args.indexOf("--runs");
  const runs = runsFlag >= 0 ? Number(Deno.args[runsFlag + 1]) : 7;
  // --model DIR: measure another model folder (e.g. the shipped one without its second stage)
  const modelFlag = Deno.args.indexOf("--model");
  const modelDir = modelFlag >= 0 ? Deno.realPathSync(Deno.args[modelFlag + 1]) : undefined;
  const modelArgs = modelDir ? ["--model", modelDir] : [];
  if (modelDir) console.log(`model: ${modelDir}`);
  const files = [...listWavs(`${DATA}/set_a`), ...listWavs(`${DATA}/set_b`)];
  const one = files.length > 0 ? files[0] : `${ROOT}/examples/synthetic_normal.wav`;
  console.log(`deno ${Deno.version.deno}, ${navigator.hardwareConcurrency} cores; one file: ${one}`);
  console.log(`load average (1/5/15 min) at the start: ${Deno.loadavg().map((x) => x.toFixed(1)).join(" / ")}`);

  // cold CLI, side by side with an empty deno run (interleaved so load changes hit both)
  const empty = await Deno.makeTempFile({ suffix: ".ts" });
  await Deno.writeTextFile(empty, "");
  await wallMs(["run", "-R", "lib/infer.ts", ...modelArgs, one]); // make sure dependencies are cached
  const cold: number[] = [], base: number[] = [];
  for (let i = 0; i < runs; i++) {
    base.push(await wallMs(["run", "-R", empty]));
    cold.push(await wallMs(["run", "-R", "lib/infer.ts", ...modelArgs, one]));
  }
  await Deno.remove(empty);
  console.log(
    `cold CLI, one file:        median ${median(cold).toFixed(0)} ms (min ${
      Math.min(...cold).toFixed(0)
    }) over ${runs} runs; ` +
      `empty deno run ${median(base).toFixed(0)} ms`,
  );

  // in process: load, warm per-file latency, throughput
  let t0 = performance.now();
  const classifier = await loadClassifier(modelDir ? new URL(`file://${modelDir}/model.json`) : DEFAULT_MODEL_URL);
  console.log(`loadClassifier() in process: ${(performance.now() - t0).toFixed(0)} ms (code + model)`);
  const inputs = files.length > 0 ? files : [one];
  const bytes = await Promise.all(inputs.map((p) => Deno.readFile(p)));
  for (const b of bytes.slice(0, 10)) classifier.classifyWav(b); // warm-up
  const latency: number[] = [];
  let failed = 0;
  const cpu0 = cpuUsage();
  for (const b of bytes) {
    const t = performance.now();
    try {
      classifier.classifyWav(b);
    } catch {
      failed++;
    }
    latency.push(performance.now() - t);
  }
  const cpu = cpuUsage(cpu0), cpuMs = (cpu.user + cpu.system) / 1000;
  const total = latency.reduce((a, b) => a + b, 0);
  console.log(
    `warm classifyWav():        median ${median(latency).toFixed(2)} ms, p95 ${
      [...latency].sort((a, b) => a - b)[Math.floor(0.95 * latency.length)].toFixed(2)
    } ms per file; ${
      (1000 * bytes.length / total).toFixed(0)
    } files/s over ${bytes.length} files (${failed} failed); ` +
      `CPU ${(cpuMs / bytes.length).toFixed(2)} ms per file = ${
        (1000 * bytes.length / cpuMs).toFixed(0)
      } files per CPU-second`,
  );
  t0 = performance.now();
  for (const b of bytes) {
    try {
      classifier.classifyWav(b, { beats: false });
    } catch { /* counted above */ }
  }
  console.log(
    `  of which without beats:  ${(1000 * bytes.length / (performance.now() - t0)).toFixed(0)} files/s`,
  );

  await compareModelStep(files.length > 0 ? files : [one]);

  if (files.length > 0) {
    const dirs = [`${DATA}/set_a`, `${DATA}/set_b`];
    // min(runs, 3) runs of each, alternating, so that a slow spell of the machine hits both
    const jobsTried = [1, navigator.hardwareConcurrency];
    const times = new Map<number, number[]>(jobsTried.map((jobs) => [jobs, []]));
    // Warm batch: the same CLI given set_a and set_b and a copy of them, right after the single run; the extra files
    // over the extra time is the throughput once start-up and JIT warm-up (the same in both runs) are paid. A copy,
    // since the CLI classifies a file named twice once.
    const twice: number[] = [], warm: number[] = [];
    const copyRoot = await Deno.makeTempDir({ prefix: "heartbeat-bench-" });
    const copies: string[] = [];
    for (const dir of dirs) {
      const copy = `${copyRoot}/${dir.slice(dir.lastIndexOf("/") + 1)}`;
      await Deno.mkdir(copy);
      for await (const entry of Deno.readDir(dir)) {
        if (entry.isFile && entry.name.toLowerCase().endsWith(".wav")) {
          await Deno.copyFile(`${dir}/${entry.name}`, `${copy}/${entry.name}`);
        }
      }
      copies.push(copy);
    }
    const cli = (jobs: number, folders: string[]) => [
      "run",
      "-R",
      "lib/infer.ts",
      "--json",
      "--jobs",
      String(jobs),
      ...modelArgs,
      ...folders,
    ];
    for (let run = 0; run < Math.min(runs, 3); run++) {
      for (const jobs of jobsTried) {
        const once = await wallMs(cli(jobs, dirs));
        times.get(jobs)!.push(once);
        if (jobs === navigator.hardwareConcurrency) {
          twice.push(await wallMs(cli(jobs, [...dirs, ...copies])));
          warm.push(1000 * files.length / (twice.at(-1)! - once));
        }
      }
    }
    await Deno.remove(copyRoot, { recursive: true });
    const rate = (t: number) => (1000 * files.length / t).toFixed(0);
    for (const [jobs, ms] of times) {
      console.log(
        `CLI end to end, --json --jobs ${jobs} set_a set_b: ${files.length} files in ${
          (median(ms) / 1000).toFixed(2)
        } s ` +
          `median = ${rate(median(ms))} files/s (${rate(Math.max(...ms))}–${
            rate(Math.min(...ms))
          } over ${ms.length} runs; ` +
          `cold start and JIT warm-up included)`,
      );
    }
    console.log(
      `warm batch, --jobs ${navigator.hardwareConcurrency}: ${median(warm).toFixed(0)} files/s median (${
        Math.min(...warm).toFixed(0)
      }–${Math.max(...warm).toFixed(0)} over ${warm.length} runs): ${files.length} more files (set_a set_b and a ` +
        `copy of them, ${(median(twice) / 1000).toFixed(2)} s median) over the extra time`,
    );
  } else console.log("SKIP: real dataset not found (set HEARTBEAT_DATA); throughput measured on one synthetic file");
  console.log(`load average (1/5/15 min) at the end: ${Deno.loadavg().map((x) => x.toFixed(1)).join(" / ")}`);
}

/** Warm classifyWav() of this checkout against the checkout at `dir`, interleaved per file (see the module doc). */
async function compareWithBaseline(dir: string): Promise<void> {
  const files = [...listWavs(`${DATA}/set_a`), ...listWavs(`${DATA}/set_b`)];
  if (files.length === 0) {
    console.log("SKIP: real dataset not found (set HEARTBEAT_DATA)");
    return;
  }
  const baselineModule = await import(new URL(`file://${Deno.realPathSync(dir)}/lib/classifier.ts`).href);
  const current = await loadClassifier(DEFAULT_MODEL_URL);
  const baseline = await baselineModule.loadClassifier(DEFAULT_MODEL_URL) as typeof current;
  const bytes = await Promise.all(files.map((p) => Deno.readFile(p)));
  const run = (c: typeof current, b: Uint8Array) => {
    try {
      return c.classifyWav(b);
    } catch {
      return null;
    }
  };
  for (const b of bytes.slice(0, 10)) [run(current, b), run(baseline, b)]; // warm-up
  const totals = { baseline: { wall: 0, cpu: 0 }, current: { wall: 0, cpu: 0 } };
  let worstProbability = 0, beatsDiffer = 0;
  for (const b of bytes) {
    const results: Record<string, ReturnType<typeof run>> = {};
    for (const [name, c] of [["baseline", baseline], ["current", current]] as const) {
      const c0 = cpuUsage(), t0 = performance.now();
      results[name] = run(c, b);
      totals[name].wall += performance.now() - t0;
      const used = cpuUsage(c0);
      totals[name].cpu += (used.user + used.system) / 1000;
    }
    const [x, y] = [results.baseline, results.current];
    if (x && y) {
      for (const label of Object.keys(x.probabilities)) {
        const px = (x.probabilities as Record<string, number>)[label];
        const py = (y.probabilities as Record<string, number>)[label];
        worstProbability = Math.max(worstProbability, Math.abs(px - py));
      }
      const beatsOf = (r: typeof x) => JSON.stringify([r.heartRateBpm, r.s1TimesS, r.s2TimesS]);
      if (beatsOf(x) !== beatsOf(y)) beatsDiffer++;
    } else if (x !== y) beatsDiffer++;
  }
  const n = bytes.length;
  console.log(`${n} recordings, warm classifyWav(), load ${Deno.loadavg()[0].toFixed(1)}; baseline ${dir}`);
  for (const [name, t] of Object.entries(totals)) {
    console.log(
      `  ${name.padEnd(8)}: ${(t.wall / n).toFixed(2)} ms wall (${(1000 * n / t.wall).toFixed(0)} files/s), ` +
        `${(t.cpu / n).toFixed(2)} ms CPU per file (${(1000 * n / t.cpu).toFixed(0)} files per CPU-second)`,
    );
  }
  console.log(
    `  speedup (baseline / current): wall ×${(totals.baseline.wall / totals.current.wall).toFixed(2)}, CPU ×${
      (totals.baseline.cpu / totals.current.cpu).toFixed(2)
    }; largest probability difference ${worstProbability.toExponential(1)}; beats differ on ${beatsDiffer} files`,
  );
}

/** The model step alone: lib/forward.ts against tfjs predict (cpu backend), interleaved per file (see the module doc). */
async function compareModelStep(paths?: string[]): Promise<void> {
  const files = paths ?? [...listWavs(`${DATA}/set_a`), ...listWavs(`${DATA}/set_b`)];
  if (files.length === 0) files.push(`${ROOT}/examples/synthetic_normal.wav`);
  const tf = await loadTf({ backend: "cpu", verbose: false });
  const { model, preprocessing } = await loadModel(tf, `${ROOT}/models`);
  const json = JSON.parse(await Deno.readTextFile(`${ROOT}/models/model.json`));
  const forward = loadForwardModel(json, await Deno.readFile(`${ROOT}/models/weights.bin`));
  const inputs: { data: Float32Array; shape: number[] }[] = [];
  for (const path of files) {
    try {
      inputs.push(preprocess(readWav(await Deno.readFile(path)), preprocessing));
    } catch { /* too short or unreadable: not a model-step question */ }
  }
  const runners = {
    tfjs: (x: (typeof inputs)[number]) =>
      tf.tidy(() => (model.predict(tf.tensor(x.data, x.shape)) as ReturnType<typeof tf.tensor>).dataSync()),
    forward: (x: (typeof inputs)[number]) => forward.predict(x.data, x.shape[0]),
  };
  for (const x of inputs.slice(0, 20)) [runners.tfjs(x), runners.forward(x)]; // warm-up
  const totals = { tfjs: { wall: 0, cpu: 0 }, forward: { wall: 0, cpu: 0 } };
  let worst = 0, rows = 0;
  for (const x of inputs) {
    const out: Record<string, ArrayLike<number>> = {};
    for (const name of ["tfjs", "forward"] as const) {
      const c0 = cpuUsage(), t0 = performance.now();
      out[name] = runners[name](x);
      totals[name].wall += performance.now() - t0;
      const used = cpuUsage(c0);
      totals[name].cpu += (used.user + used.system) / 1000;
    }
    for (let i = 0; i < out.tfjs.length; i++) worst = Math.max(worst, Math.abs(out.tfjs[i] - out.forward[i]));
    rows += x.shape[0];
  }
  model.dispose();
  const n = inputs.length;
  console.log(
    `model step on ${n} recordings (${(rows / n).toFixed(1)} windows each), load ${Deno.loadavg()[0].toFixed(1)}:`,
  );
  for (const [name, t] of Object.entries(totals)) {
    console.log(
      `  ${name.padEnd(8)}: ${(t.wall / n).toFixed(3)} ms wall, ${(t.cpu / n).toFixed(3)} ms CPU per recording`,
    );
  }
  console.log(
    `  forward.ts vs tfjs predict: wall ×${(totals.tfjs.wall / totals.forward.wall).toFixed(1)}, CPU ×${
      (totals.tfjs.cpu / totals.forward.cpu).toFixed(1)
    } faster; largest probability difference ${worst.toExponential(1)}`,
  );
}

/** CPU time of each step of classifyWav() over every recording, in one pass (see the module doc). */
async function stageTimes(): Promise<void> {
  const files = [...listWavs(`${DATA}/set_a`), ...listWavs(`${DATA}/set_b`)];
  if (files.length === 0) {
    console.log("SKIP: real dataset not found (set HEARTBEAT_DATA)");
    return;
  }
  const folder = await readModelFolder(new URL("../models/model.json", import.meta.url), denoReadFile);
  const pp = folder.preprocessing as LogmelWindowsPreprocessing;
  // Every CNN of a seed ensemble (preprocessing.json members), as the classifier runs them.
  const members = folder.weightSets.map((weights) => loadForwardModel(folder.modelJson, weights));
  const stack = folder.stack ? loadStack(folder.stack) : null;
  const bytes = await Promise.all(files.map((p) => Deno.readFile(p)));
  const cpu: Record<string, number> = {};
  const step = <T>(name: string, fn: () => T): T => {
    const c0 = cpuUsage();
    const out = fn();
    const used = cpuUsage(c0);
    cpu[name] = (cpu[name] ?? 0) + (used.user + used.system) / 1000;
    return out;
  };
  let done = 0;
  for (const b of bytes) {
    let wave;
    try {
      wave = step("decode WAV", () => readWav(b));
      if (wave.samples.length / wave.sampleRate < 0.5) continue;
    } catch {
      continue;
    }
    const w = wave;
    const at2k = step("resample to 2 kHz", () => w.sampleRate === 2000 ? w : resampleWaveform(w, 2000));
    const filtered = step("band-pass 25–900 Hz (shared)", () => logmelBandpassed(at2k, pp));
    const input = step(
      "CNN input (log-mel windows)",
      () => windowsFromFrames(logmelFramesOfBandpassed(filtered, pp), pp),
    );
    step(
      `model step (lib/forward.ts${members.length > 1 ? ` ×${members.length}` : ""})`,
      () => members.map((m) => m.predict(input.data, input.shape[0])),
    );
    const sounds = step("heart sounds (lib/beats.ts)", () => detectHeartSounds(at2k));
    const same = HAND_FEATURE_BAND_HZ[0] === pp.bandpassHz[0] && HAND_FEATURE_BAND_HZ[1] === pp.bandpassHz[1];
    const features = step(
      "hand features",
      () => handFeatures(at2k, { heartSounds: sounds, bandpassed: same ? filtered.samples : undefined }),
    );
    if (stack) step("trees (lib/stack.ts)", () => predictTreeEnsemble(stack.trees, features));
    done++;
  }
  const total = Object.values(cpu).reduce((a, b) => a + b, 0);
  console.log(`${done} recordings, one pass (JIT warm-up included), load ${Deno.loadavg()[0].toFixed(1)}`);
  for (const [name, ms] of Object.entries(cpu)) {
    console.log(
      `  ${name.padEnd(30)} ${(ms / done).toFixed(2).padStart(6)} ms CPU per file  ${
        (100 * ms / total).toFixed(0).padStart(3)
      } %`,
    );
  }
  console.log(`  ${"total".padEnd(30)} ${(total / done).toFixed(2).padStart(6)} ms CPU per file`);
}
