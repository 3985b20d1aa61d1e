/**
 * Rebuilds the results table: every experiment of lib/experiments.ts under both protocols, for
 * the presets mini / small / main, at native rates and (some) at the common 4 kHz rate.
 *
 *   deno task reproduce [--data DIR] [--quick] [--preset mini,small,main] [--only baseline,gbdt,p1,p2,cnn]
 *                       [--out DIR] [--no-cache] [--synthetic] [--jobs N] [--render] [--full] [--challenge]
 *
 * The full run uses 2 worker processes (--jobs, default 2; 1 in --quick), each running a share of
 * the plan balanced by estimated cost; the parent then renders the table from their JSON files.
 *
 * Writes <out>/<id>.json per run, <out>/index.json and <out>/README.md (the table). --quick runs a
 * small subset with few epochs (CI): on the real data when it is found, else on synthetic
 * recordings (lib/synth.ts); its default output folder is .cache/results-quick/, so it never
 * overwrites the committed results/.
 *
 * --full runs p1 and p2 on "main" uncapped (50 epochs; rows `main-p1-…-full`), which the default
 * run caps for time, and keeps every other row's earlier result; a default run keeps the uncapped
 * rows it finds in the output folder.
 *
 * --challenge runs the PASCAL 2011 challenge protocol instead (lib/challenge.ts: official test
 * files, official metrics, official and leak-free training sets) → <out>/challenge.json, then
 * re-renders README.md from the result files as --render does.
 * @module
 */
import { parseArgs } from "node:util";
import { listRecordings, type Recording, resolveDataDir } from "../lib/data.ts";
import { cachedAuditGroups, withAuditGroups } from "../lib/audit_run.ts";
import { HeartSoundError } from "../lib/errors.ts";
import {
  COMMON_RATE_HZ,
  type ExperimentName,
  type ExperimentResult,
  EXPERIMENTS,
  type FeatureSet,
  loadFeatureSet,
  notRunResult,
  type Preset,
  PRESETS,
  type Protocol,
  PROTOCOLS,
  runCnnExperiment,
  runExperiment,
  stratifiedSubset,
  writeSyntheticDataset,
} from "../lib/experiments.ts";
import {
  type ChallengeDocument,
  renderResultsMarkdown,
  type ShippedModelSummary,
  shippedModelSummary,
} from "../lib/report.ts";

/** One planned run. */
export interface PlannedRun {
  preset: Preset["name"];
  experiment: ExperimentName;
  protocol: Protocol;
  rate: "native" | number;
  /** Replace the spec's hidden units; explained in `notes`. */
  hiddenUnits?: number[];
  maxEpochs?: number;
  notes?: string[];
  /** Do not run; emit a "not run" row with this reason. */
  skip?: string;
  /** Position in the whole plan (set by reproduce; orders the table when shards run in parallel). */
  index?: number;
  /** An uncapped run of `--full` (id suffix "-full"); without --full its earlier result is kept. */
  full?: boolean;
  /** Keep the earlier result file instead of running (set by reproduce: the runs --full does not do, or the reverse). */
  keep?: boolean;
}

/** Epoch caps of the full run, set by the 15-minute budget on 2 cores (tfjs wasm, single-threaded). */
export const EPOCH_CAPS = { p1: 10, p1Main: 3, p2Main: 10, cnn: 15 } as const;

/**
 * The full plan: baseline, GBDT, preprocessor 1 and 2 under both protocols at native rates for
 * every preset; baseline, GBDT and p2 on small also at the common 4 kHz rate; the CNN on small.
 * Caps, stated in each run's notes and the table: p1 ≤ 10 epochs (every Adam step updates its
 * 3.6M-parameter first layer); on main p1 (28.5M parameters) ≤ 3 epochs;
 * p2 on main ≤ 10 epochs; the CNN ≤ 15 epochs, grouped CV only (it is not the original's model).
 */
export function fullPlan(): PlannedRun[] {
  const plan: PlannedRun[] = [];
  const base: ExperimentName[] = ["baseline", "gbdt", "p1", "p2"];
  for (const preset of ["mini", "small", "main"] as const) {
    for (const experiment of base) {
      for (const protocol of PROTOCOLS) {
        const run: PlannedRun = { preset, experiment, protocol, rate: "native" };
        if (experiment === "p1") {
          run.maxEpochs = preset === "main" ? EPOCH_CAPS.p1Main : EPOCH_CAPS.p1;
          run.notes = [`epochs capped at ${run.maxEpochs} (time budget; original setting unknown)`];
        }
        if (experiment === "p2" && preset === "main") {
          run.maxEpochs = EPOCH_CAPS.p2Main;
          run.notes = [`epochs capped at ${EPOCH_CAPS.p2Main} of 50 (time budget)`];
        }
        plan.push(run);
        if (preset === "main" && (experiment === "p1" || experiment === "p2")) {
          plan.push({ ...run, maxEpochs: undefined, full: true, notes: ["uncapped: 50 epochs (--full)"] });
        }
        if (preset === "small" && experiment !== "p1") plan.push({ ...run, rate: COMMON_RATE_HZ });
      }
    }
  }
  // The CNN is ours, not the original's: only the honest protocol (issue 7).
  plan.push({
    preset: "small",
    experiment: "cnn",
    protocol: "grouped-cv",
    rate: 2000,
    maxEpochs: EPOCH_CAPS.cnn,
    notes: [`epochs capped at ${EPOCH_CAPS.cnn} of 40 (time budget)`],
  });
  return plan;
}

/** Quick plan (CI): every experiment, both protocols, native rate, one preset. */
export function quickPlan(preset: Preset["name"]): PlannedRun[] {
  const plan: PlannedRun[] = [];
  for (const experiment of EXPERIMENTS) {
    for (const protocol of PROTOCOLS) {
      plan.push({ preset, experiment, protocol, rate: experiment === "cnn" ? 2000 : "native" });
    }
  }
  return plan;
}

/** Options of {@linkcode reproduce}. */
export interface ReproduceOptions {
  /** Data folder (resolved like --data); synthetic data is used when absent and `quick`. */
  dataDir?: string;
  quick?: boolean;
  /** Use synthetic recordings (lib/synth.ts) even when real data is present. @default {false} */
  synthetic?: boolean;
  presets?: Preset["name"][];
  only?: ExperimentName[];
  outDir?: string;
  cache?: boolean;
  progress?: boolean;
  /** Recordings of the quick subset. @default {48} */
  quickSize?: number;
  /** Epoch cap of quick mode. @default {3} */
  quickEpochs?: number;
  /** Log lines (default: console.error). */
  log?: (line: string) => void;
  /** Parallel worker processes for the full run (each takes a share of the plan). @default {1} */
  jobs?: number;
  /** Run nothing: render README.md and index.json from the plan's JSON files already in `outDir`
   * (missing runs become "not run" rows). */
  renderOnly?: boolean;
  /** Run only share k of n of the plan (k in 0..n−1) and write its JSON files; used by `jobs`. */
  shard?: { index: number; count: number };
  /** Run only the uncapped runs of the plan (p1/p2 on main, 50 epochs), keeping the others' results. @default {false} */
  full?: boolean;
  /** Run the challenge protocol (lib/challenge.ts) → `<outDir>/challenge.json`, then render as `renderOnly`. */
  challenge?: boolean;
}

/** Id of a run's result (its JSON file name without .json). */
export function runId(run: PlannedRun): string {
  return `${run.preset}-${run.experiment}-${run.protocol}-${run.rate}${run.full ? "-full" : ""}`;
}

/**
 * Rough cost of a run in seconds, to balance the shards when no earlier timing exists: measured on
 * 2 cores for "small" under the original protocol, times the preset (p1 on main: 8× the inputs at
 * 3 of 10 epochs), times 3.5 for 5-fold CV (smaller training sets, plus early stopping).
 */
export function estimatedCost(run: PlannedRun): number {
  const small = { baseline: 2, gbdt: 1, p1: 27, p2: 22, cnn: 40 }[run.experiment];
  const preset = run.experiment === "p1" && run.preset === "main" ? 2.4 : { mini: 0.3, small: 1, main: 2 }[run.preset];
  const epochs = run.full && run.experiment === "p1" ? 50 / EPOCH_CAPS.p1Main : run.full ? 50 / EPOCH_CAPS.p2Main : 1;
  return small * (run.experiment === "cnn" ? 1 : preset) * (run.protocol === "original" ? 1 : 3.5) * epochs;
}

/**
 * Splits a plan into `count` shards of similar cost (longest first, greedy); keeps plan order
 * inside a shard. A run's cost is its time in `seconds` (by run id, e.g. from the result files of
 * an earlier run) when known, else {@linkcode estimatedCost}.
 */
export function shardPlan(plan: PlannedRun[], count: number, seconds: Record<string, number> = {}): PlannedRun[][] {
  const cost = (run: PlannedRun) => run.skip ? 0 : seconds[runId(run)] ?? estimatedCost(run);
  const loads = new Array<number>(count).fill(0);
  const owner = new Array<number>(plan.length);
  const order = plan.map((_, i) => i).sort((a, b) => cost(plan[b]) - cost(plan[a]) || a - b);
  for (const i of order) {
    const k = loads.indexOf(Math.min(...loads));
    owner[i] = k;
    loads[k] += cost(plan[i]);
  }
  return loads.map((_, k) => plan.filter((_, i) => owner[i] === k));
}

/** Seconds per run id from the result files in `dir` (runs of an earlier reproduce), for {@linkcode shardPlan}. */
export async function earlierRunSeconds(plan: PlannedRun[], dir: string): Promise<Record<string, number>> {
  const seconds: Record<string, number> = {};
  for (const run of plan) {
    try {
      const { seconds: s } = JSON.parse(await Deno.readTextFile(`${dir}/${runId(run)}.json`)) as { seconds?: number };
      if (typeof s === "number" && s > 0) seconds[runId(run)] = s;
    } catch {
      // no earlier result: estimatedCost
    }
  }
  return seconds;
}

/** The shipped model's CV summary from results/cnn.json (written by `deno task train`), if present. */
async function readShippedSummary(): Promise<ShippedModelSummary | undefined> {
  try {
    return shippedModelSummary(JSON.parse(await Deno.readTextFile(new URL("../results/cnn.json", import.meta.url))));
  } catch {
    return undefined;
  }
}

/** Result of {@linkcode reproduce}. */
export interface ReproduceSummary {
  results: ExperimentResult[];
  dataSource: string;
  seconds: number;
  outDir: string;
}

/** Runs the plan and writes the results; the library entry of `deno task reproduce`. */
export async function reproduce(options: ReproduceOptions = {}): Promise<ReproduceSummary> {
  const start = performance.now();
  const log = options.log ?? ((line: string) => console.error(line));
  const quick = options.quick ?? false;
  let recordings: Recording[];
  let dataSource: string;
  let dataDir: string;
  try {
    if (options.synthetic) throw new HeartSoundError("Cannot use real data: synthetic data asked for");
    const dir = resolveDataDir(options.dataDir);
    recordings = listRecordings(dir);
    dataSource = dir;
    dataDir = dir;
  } catch (e) {
    if (!(quick || options.synthetic) || !(e instanceof HeartSoundError) || (options.dataDir && !options.synthetic)) {
      throw e;
    }
    // quick mode (CI) without data: synthetic recordings
    const dir = await Deno.makeTempDir({ prefix: "heartbeat-synth-" });
    recordings = await writeSyntheticDataset(dir, { perClass: 12, seed: 7 });
    dataSource = `synthetic (lib/synth.ts, ${recordings.length} recordings in ${dir})`;
    dataDir = dir;
  }
  // every grouped split uses the audit's groups (copies share a fold); label conflicts are left out
  const listed = recordings.length;
  // the original protocol reproduces the original's run as it was: all its files, its own (random) split
  const asListed = recordings;
  recordings = withAuditGroups(recordings, await cachedAuditGroups(dataDir, { progress: options.progress === true }));
  log(
    `data: ${dataSource} (${recordings.length} recordings; ${listed - recordings.length} in label conflicts left out)`,
  );
  const presets = options.presets ?? (quick ? ["small"] : ["mini", "small", "main"]);
  let plan = quick ? presets.flatMap((p) => quickPlan(p)) : fullPlan().filter((r) => presets.includes(r.preset));
  if (options.only) plan = plan.filter((r) => options.only!.includes(r.experiment));
  // --full runs only the uncapped runs, a default run all others; each keeps the other kind's earlier results
  plan = plan.map((r, index) => {
    const keep = !quick && !r.full !== !options.full;
    return { ...r, index, keep, skip: keep ? `not run: ${r.full ? "needs --full" : "no result file"}` : r.skip };
  });
  const outDir = options.outDir ?? (quick ? ".cache/results-quick" : "results");
  await Deno.mkdir(outDir, { recursive: true });

  if (options.challenge) {
    const challengeStart = performance.now();
    const { runChallenge } = await import("../lib/challenge_run.ts");
    const { challengeRecordings } = await import("../lib/challenge.ts");
    // the audit's groups (set_b patients, set_a sessions, copies): a test file's copies leave training too
    const audit = await cachedAuditGroups(dataDir, { progress: options.progress === true });
    const challengeRecs = challengeRecordings(dataDir).map((r) => ({
      ...r,
      patientId: audit.groups[r.relPath] ?? r.patientId,
    }));
    const rows = await runChallenge(challengeRecs, {
      progress: options.progress,
      cache: options.cache,
      maxEpochs: quick ? (options.quickEpochs ?? 3) : undefined,
      maxRounds: quick ? 10 : undefined,
      cnnEpochs: quick ? (options.quickEpochs ?? 3) : undefined,
      seeds: quick ? [42] : CHALLENGE_SEEDS,
      log,
    });
    const doc: ChallengeDocument = {
      generated: new Date().toISOString(),
      command: `deno task reproduce ${Deno.args.join(" ")}`.trim(),
      totalSeconds: (performance.now() - challengeStart) / 1000,
      groups: CHALLENGE_GROUPS,
      rows,
    };
    await Deno.writeTextFile(`${outDir}/challenge.json`, stringifyFinite(doc) + "\n");
  }
  if (options.renderOnly || options.challenge) {
    const results: ExperimentResult[] = [];
    for (const run of plan) {
      const id = runId(run);
      try {
        results.push(
          JSON.parse(
            await Deno.readTextFile(`${outDir}/${id}.json`),
            (key, v) => (v === null && (key === "mean" || key === "std") ? NaN : v),
          ),
        );
      } catch {
        const missing = notRunResult(run.experiment, run.preset, run.protocol, run.rate, "not run: no result file");
        results.push({ ...missing, id });
      }
    }
    return await finish(results);
  }
  if ((options.jobs ?? 1) > 1 && !options.shard) {
    const jobs = options.jobs!;
    log(`running ${plan.length} runs in ${jobs} processes`);
    // The shards balance their work by the times of the previous full run (results/, or outDir);
    // written once here so every worker computes the same split while outDir fills up.
    const seconds: Record<string, number> = {};
    for (const dir of new Set(["results", outDir])) Object.assign(seconds, await earlierRunSeconds(plan, dir));
    await Deno.writeTextFile(`${outDir}/.shard-costs.json`, JSON.stringify(seconds));
    const children = Array.from({ length: jobs }, (_, k) => {
      const args = ["run", "-A", new URL(import.meta.url).pathname, "--shard", `${k}/${jobs}`, "--out", outDir];
      if (options.dataDir) args.push("--data", options.dataDir);
      if (quick) args.push("--quick");
      if (options.synthetic) args.push("--synthetic");
      if (options.presets) args.push("--preset", options.presets.join(","));
      if (options.only) args.push("--only", options.only.join(","));
      if (options.cache === false) args.push("--no-cache");
      if (options.full) args.push("--full");
      return new Deno.Command(Deno.execPath(), { args, stdout: "inherit", stderr: "inherit" }).spawn();
    });
    const statuses = await Promise.all(children.map((c) => c.status));
    const failed = statuses.findIndex((st) => !st.success);
    if (failed >= 0) {
      throw new HeartSoundError(`Cannot finish reproduce: worker ${failed} exited with ${statuses[failed].code}`);
    }
    const ids = new Map<number, string>();
    for (let k = 0; k < jobs; k++) {
      const manifest = JSON.parse(await Deno.readTextFile(`${outDir}/.shard-${k}.json`)) as [number, string][];
      for (const [index, id] of manifest) ids.set(index, id);
    }
    const results: ExperimentResult[] = [];
    for (let i = 0; i < plan.length; i++) {
      results.push(
        JSON.parse(
          await Deno.readTextFile(`${outDir}/${ids.get(i)}.json`),
          (key, v) => (v === null && (key === "mean" || key === "std") ? NaN : v),
        ),
      );
    }
    for (let k = 0; k < jobs; k++) await Deno.remove(`${outDir}/.shard-${k}.json`);
    await Deno.remove(`${outDir}/.shard-costs.json`);
    return await finish(results);
  }
  if (options.shard) {
    let seconds: Record<string, number> = {};
    try {
      seconds = JSON.parse(await Deno.readTextFile(`${outDir}/.shard-costs.json`));
    } catch {
      // started by hand: balance by estimatedCost
    }
    plan = shardPlan(plan, options.shard.count, seconds)[options.shard.index];
  }

  const manifest: [number, string][] = [];
  const featureCache = new Map<string, FeatureSet>();
  const alignmentCache = new Map<string, Int32Array>();
  const results: ExperimentResult[] = [];
  for (const run of plan) {
    const preset = PRESETS[run.preset];
    // the original's experiments keep the original's files; the CNN (ours) also learns from the test files' labels
    let recs = run.experiment === "cnn"
      ? recordings
      : (run.protocol === "original" ? asListed : recordings).filter((r) => r.challengeSplit === "train");
    if (quick) recs = stratifiedSubset(recs, options.quickSize ?? 48, 42);
    else if (preset.subset) recs = stratifiedSubset(recs, preset.subset, 42);
    const common = {
      protocol: run.protocol,
      preset: run.preset,
      seed: 42,
      maxEpochs: quick ? (options.quickEpochs ?? 3) : run.maxEpochs,
      maxRounds: quick ? 10 : undefined,
      hiddenUnits: run.hiddenUnits,
      notes: [
        ...(run.notes ?? []),
        ...(quick ? [`quick: ${recs.length} recordings, ≤ ${options.quickEpochs ?? 3} epochs`] : []),
      ],
      progress: options.progress,
      alignmentCache,
    };
    let result: ExperimentResult;
    const label = `${run.preset} ${run.experiment} ${run.protocol} ${run.rate}`;
    try {
      if (run.keep) {
        result = await earlierResult(outDir, run) ??
          notRunResult(run.experiment, run.preset, run.protocol, run.rate, run.skip!);
        result.id = runId(run);
      } else if (run.skip) {
        result = notRunResult(run.experiment, run.preset, run.protocol, run.rate, run.skip);
      } else if (run.experiment === "cnn") {
        result = await runCnnExperiment(recs, { ...common, quick });
      } else {
        const targetRate = run.rate === "native" ? null : run.rate;
        const key = `${preset.name}/${preset.deltaTimeS}/${targetRate}/${recs.length}`;
        let features = featureCache.get(key);
        if (!features) {
          // keep one preset's features in memory at a time (main is ~100 MB per rate)
          for (const k of [...featureCache.keys()]) if (!k.startsWith(`${preset.name}/`)) featureCache.delete(k);
          features = await loadFeatureSet(recs, { deltaTimeS: preset.deltaTimeS, method: "dominant", targetRate }, {
            cache: { enabled: options.cache ?? true },
            progress: options.progress,
          });
          featureCache.set(key, features);
          log(`features ${key}: ${features.loadSeconds.toFixed(1)} s (${features.cacheHits} from cache)`);
        }
        result = await runExperiment(run.experiment, features, common);
        if (run.full) result.id = runId(run);
      }
    } catch (e) {
      if (!(e instanceof HeartSoundError)) throw e;
      result = notRunResult(run.experiment, run.preset, run.protocol, run.rate, `not run: ${e.message}`);
    }
    results.push(result);
    manifest.push([run.index!, result.id]);
    const s = result.summary;
    log(
      `${label}: acc ${s.accuracy.mean.toFixed(3)} ± ${s.accuracy.std.toFixed(3)}, bal ${
        s.balancedAccuracy.mean.toFixed(3)
      }, F1 ${s.macroF1.mean.toFixed(3)}, ${result.seconds.toFixed(1)} s`,
    );
    if (!run.keep) {
      await Deno.writeTextFile(`${outDir}/${result.id}.json`, JSON.stringify(stripAudit(result), null, 1) + "\n");
    }
  }
  if (options.shard) {
    await Deno.writeTextFile(`${outDir}/.shard-${options.shard.index}.json`, JSON.stringify(manifest));
    return { results, dataSource, seconds: (performance.now() - start) / 1000, outDir };
  }
  return await finish(results);

  async function finish(results: ExperimentResult[]): Promise<ReproduceSummary> {
    const seconds = (performance.now() - start) / 1000;
    const meta = {
      generated: new Date().toISOString(),
      command: `deno task reproduce ${Deno.args.join(" ")}`.trim(),
      dataSource: dataSource.startsWith("synthetic") ? "synthetic" : dataSource.replace(/^.*\/(shared\/)/, "../$1"),
      quick,
      totalSeconds: options.renderOnly || options.challenge ? await previousTotalSeconds(outDir) : seconds,
      cpus: navigator.hardwareConcurrency,
      shipped: quick ? undefined : await readShippedSummary(),
      challenge: await readChallenge(outDir),
    };
    await Deno.writeTextFile(
      `${outDir}/index.json`,
      JSON.stringify({ ...meta, results: results.map((r) => ({ ...r, folds: undefined })) }, null, 1) +
        "\n",
    );
    await Deno.writeTextFile(`${outDir}/README.md`, renderResultsMarkdown(results, meta));
    log(`total wall time: ${seconds.toFixed(1)} s; wrote ${outDir}/README.md`);
    return { results, dataSource, seconds, outDir };
  }
}

/** Seeds of --challenge: every model and size-matched draw three times (one CNN's result moves with its seed). */
const CHALLENGE_SEEDS = [42, 1042, 2042];

/** Where --challenge's leak-free variant gets its groups. */
const CHALLENGE_GROUPS =
  "the audit's (lib/audit_run.ts: set_b patients, set_a recording sessions, near-duplicate copies); label conflicts are kept, as the challenge had them";

/** JSON with ±Infinity and NaN kept as strings (discriminant power is infinite at Se or Sp of 1). */
export function stringifyFinite(value: unknown): string {
  return JSON.stringify(value, (_k, v) => (typeof v === "number" && !Number.isFinite(v) ? String(v) : v), 1);
}

/** Parses JSON written by {@linkcode stringifyFinite}. */
export function parseFinite<T>(text: string): T {
  return JSON.parse(
    text,
    (_k, v) => (v === "Infinity" ? Infinity : v === "-Infinity" ? -Infinity : v === "NaN" ? NaN : v),
  ) as T;
}

/** results/challenge.json of an earlier --challenge run, if any. */
async function readChallenge(outDir: string): Promise<ChallengeDocument | undefined> {
  try {
    return parseFinite<ChallengeDocument>(await Deno.readTextFile(`${outDir}/challenge.json`));
  } catch {
    return undefined;
  }
}

/** The result file of an earlier run of `run` in `outDir`, if any. */
async function earlierResult(outDir: string, run: PlannedRun): Promise<ExperimentResult | undefined> {
  try {
    return JSON.parse(
      await Deno.readTextFile(`${outDir}/${runId(run)}.json`),
      (key, v) => (v === null && (key === "mean" || key === "std") ? NaN : v),
    );
  } catch {
    return undefined;
  }
}

/** The total wall time of the run that wrote `<outDir>/index.json`, if any (kept by --render). */
async function previousTotalSeconds(outDir: string): Promise<number | undefined> {
  try {
    const v = JSON.parse(await Deno.readTextFile(`${outDir}/index.json`)).totalSeconds;
    return typeof v === "number" ? v : undefined;
  } catch {
    return undefined;
  }
}

function stripAudit(r: ExperimentResult): Record<string, unknown> {
  return {
    ...r,
    folds: r.folds.map(({ audit, ...f }) => ({
      ...f,
      referenceIndex: audit.referenceIndex,
      paddedFrames: audit.paddedFrames,
    })),
  };
}

async function main(args: string[]): Promise<void> {
  const { values } = parseArgs({
    args,
    options: {
      data: { type: "string" },
      quick: { type: "boolean", default: false },
      synthetic: { type: "boolean", default: false },
      jobs: { type: "string" },
      render: { type: "boolean", default: false },
      shard: { type: "string" },
      preset: { type: "string" },
      only: { type: "string" },
      out: { type: "string" },
      "no-cache": { type: "boolean", default: false },
      full: { type: "boolean", default: false },
      challenge: { type: "boolean", default: false },
      help: { type: "boolean", default: false },
    },
  });
  if (values.help) {
    console.log(
      "deno task reproduce [--data DIR] [--quick] [--preset mini,small,main] [--only baseline,gbdt,p1,p2,cnn] [--out DIR] [--no-cache] [--synthetic] [--jobs N] [--render] [--full] [--challenge]",
    );
    return;
  }
  const presets = values.preset?.split(",").map((p) => p.trim()) as Preset["name"][] | undefined;
  for (const p of presets ?? []) {
    if (!(p in PRESETS)) {
      throw new HeartSoundError(`Cannot run reproduce: unknown preset "${p}", expected mini, small or main`);
    }
  }
  const only = values.only?.split(",").map((p) => p.trim()) as ExperimentName[] | undefined;
  for (const e of only ?? []) {
    if (!EXPERIMENTS.includes(e)) {
      throw new HeartSoundError(`Cannot run reproduce: unknown experiment "${e}", expected ${EXPERIMENTS.join(", ")}`);
    }
  }
  await reproduce({
    dataDir: values.data,
    quick: values.quick,
    synthetic: values.synthetic,
    renderOnly: values.render,
    jobs: values.jobs ? Number(values.jobs) : (values.quick ? 1 : 2),
    shard: values.shard
      ? { index: Number(values.shard.split("/")[0]), count: Number(values.shard.split("/")[1]) }
      : undefined,
    presets,
    only,
    outDir: values.out,
    cache: !values["no-cache"],
    progress: true,
    full: values.full,
    challenge: values.challenge,
  });
}

if (import.meta.main) {
  try {
    await main(Deno.args);
  } catch (e) {
    if (e instanceof HeartSoundError) {
      console.error(e.message);
      Deno.exit(1);
    }
    throw e;
  }
}
