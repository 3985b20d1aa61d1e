/**
 * Inference speed of the shipped model.
 *
 * - `deno bench -A bench/infer_bench.ts`: warm per-recording latency (classify, classifyWav) on synthetic
 *   recordings and, when the data is present, on real ones.
 * - `deno run -A bench/infer_bench.ts [--runs N] [--data DIR]`: the numbers of issue 5, measured side by side
 *   in one run: cold CLI wall time for one file (subprocess `deno run -R lib/infer.ts file.wav`, dependencies
 *   cached) next to an empty `deno run` (Deno's own start-up); warm per-file latency; files per second over
 *   every recording in set_a and set_b (in process, and the CLI end to end as one subprocess, in process
 *   and with one worker per core). The machine's load average is printed: other processes slow every number.
 * @module
 */
import { loadClassifier } from "../lib/classifier.ts";
import { synthesizeHeartSound } from "../lib/synth.ts";
import { encodeWav } from "../lib/wav.ts";

const ROOT = decodeURIComponent(new URL("..", import.meta.url).pathname).replace(/\/$/, "");
const DATA = Deno.env.get("HEARTBEAT_DATA") ?? `${ROOT}/../shared/data/heartbeat-sounds`;

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
} else {
  const runsFlag = Deno.args.indexOf("--runs");
  const runs = runsFlag >= 0 ? Number(Deno.args[runsFlag + 1]) : 7;
  const files = [...listWavs(`${DATA}/set_a`), ...listWavs(`${DATA}/set_b`)];
  const one = files.length > 0 ? files[0] : `${ROOT}/examples/synthetic_normal.wav`;
  console.log(`deno ${Deno.version.deno}, ${navigator.hardwareConcurrency} cores; one file: ${one}`);
  console.log(`load average (1/5/15 min) at the start: ${Deno.loadavg().map((x) => x.toFixed(1)).join(" / ")}`);

  // cold CLI, side by side with an empty deno run (interleaved so load changes hit both)
  const empty = await Deno.makeTempFile({ suffix: ".ts" });
  await Deno.writeTextFile(empty, "");
  await wallMs(["run", "-R", "lib/infer.ts", one]); // make sure dependencies are cached
  const cold: number[] = [], base: number[] = [];
  for (let i = 0; i < runs; i++) {
    base.push(await wallMs(["run", "-R", empty]));
    cold.push(await wallMs(["run", "-R", "lib/infer.ts", one]));
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
  const classifier = await loadClassifier();
  console.log(`loadClassifier() in process: ${(performance.now() - t0).toFixed(0)} ms (tfjs import + model)`);
  const inputs = files.length > 0 ? files : [one];
  const bytes = await Promise.all(inputs.map((p) => Deno.readFile(p)));
  for (const b of bytes.slice(0, 10)) classifier.classifyWav(b); // warm-up
  const latency: number[] = [];
  let failed = 0;
  for (const b of bytes) {
    const t = performance.now();
    try {
      classifier.classifyWav(b);
    } catch {
      failed++;
    }
    latency.push(performance.now() - t);
  }
  const total = latency.reduce((a, b) => a + b, 0);
  console.log(
    `warm classifyWav():        median ${median(latency).toFixed(2)} ms, p95 ${
      [...latency].sort((a, b) => a - b)[Math.floor(0.95 * latency.length)].toFixed(2)
    } ms per file; ${(1000 * bytes.length / total).toFixed(0)} files/s over ${bytes.length} files (${failed} failed)`,
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

  if (files.length > 0) {
    const dirs = [`${DATA}/set_a`, `${DATA}/set_b`];
    for (const jobs of [1, navigator.hardwareConcurrency]) {
      const ms = await wallMs(["run", "-R", "lib/infer.ts", "--json", "--jobs", String(jobs), ...dirs]);
      console.log(
        `CLI end to end, --json --jobs ${jobs} set_a set_b: ${files.length} files in ${(ms / 1000).toFixed(2)} s = ${
          (1000 * files.length / ms).toFixed(0)
        } files/s (cold start included)`,
      );
    }
  } else console.log("SKIP: real dataset not found (set HEARTBEAT_DATA); throughput measured on one synthetic file");
  console.log(`load average (1/5/15 min) at the end: ${Deno.loadavg().map((x) => x.toFixed(1)).join(" / ")}`);
}
