/**
 * Shared set-up of the notebooks (not library code: everything the notebooks compute comes from
 * ../lib). It decides which data a notebook runs on, whether it runs in quick mode, and saves the
 * static chart images GitHub readers see.
 *
 * Environment (set by `deno task notebooks`, or by you before starting Jupyter):
 * - HEARTBEAT_DATA: the data folder (set_a/, set_b/, labels.csv). Else data/ when it holds WAV
 *   files (lib/data.ts findDataDir), else synthetic
 *   recordings written to a temporary folder in the same layout (`writeSyntheticDataset` of
 *   lib/experiments.ts, the one `deno task reproduce --quick` uses).
 * - HEARTBEAT_QUICK=1: a small subset and few epochs, for CI (a few minutes for all notebooks).
 * - HEARTBEAT_SYNTHETIC=1: use synthetic recordings even when real data is present
 *   (HEARTBEAT_SYNTHETIC_DIR: where to write them, reused when it already holds them).
 * - HEARTBEAT_IMAGES=1: write the charts passed to `show(fig, "name")` to notebooks/images/name.png.
 * @module
 */
import { findDataDir, listRecordings, type Recording } from "../lib/data.ts";
import { cachedAuditGroups, withAuditGroups } from "../lib/audit_run.ts";
import { fullPlan } from "../scripts/reproduce.ts";
import { type ExperimentResult, stratifiedSubset, writeSyntheticDataset } from "../lib/experiments.ts";
import { CLASS_NAMES } from "../lib/classes.ts";
import { barFigure, confusionFigure, display, displayTable, type PlotlyFigure, renderImages } from "../lib/plot.ts";

function env(name: string): string | undefined {
  try {
    return Deno.env.get(name);
  } catch {
    return undefined;
  }
}

/** Quick mode (CI): small subsets, few epochs. */
export const QUICK: boolean = env("HEARTBEAT_QUICK") === "1";
/** Whether `show(fig, name)` also writes notebooks/images/name.png. */
export const SAVE_IMAGES: boolean = env("HEARTBEAT_IMAGES") === "1";

/** Absolute path of the repository. */
export const REPO: string = new URL("../", import.meta.url).pathname.replace(/\/$/, "");

function hasWavs(dir: string): boolean {
  try {
    return Deno.statSync(`${dir}/set_a`).isDirectory || Deno.statSync(`${dir}/set_b`).isDirectory;
  } catch {
    return false;
  }
}

/** The data a notebook runs on. */
export interface NotebookData {
  /** Absolute folder in the set_a/ set_b/ layout. */
  dir: string;
  synthetic: boolean;
  /** One sentence for the notebook's output. */
  description: string;
}

let cached: NotebookData | undefined;

/** Picks the data folder (see the module doc); writes the synthetic set on first use if needed. */
export async function notebookData(): Promise<NotebookData> {
  if (cached) return cached;
  const real = env("HEARTBEAT_SYNTHETIC") === "1" ? undefined : findDataDir() ?? undefined;
  if (real) {
    const dir = await Deno.realPath(real);
    cached = { dir, synthetic: false, description: `real recordings from ${dir}` };
  } else {
    // The runner passes one folder for all notebooks (and removes it afterwards); else a temporary one.
    const dir = env("HEARTBEAT_SYNTHETIC_DIR") ?? await Deno.makeTempDir({ prefix: "heartbeat-synthetic-" });
    const n = hasWavs(dir)
      ? listRecordings(dir).length
      : (await writeSyntheticDataset(dir, { perClass: QUICK ? 12 : 24, seed: 7 })).length;
    cached = {
      dir,
      synthetic: true,
      description: `${n} SYNTHETIC recordings (lib/synth.ts) in ${dir}: the real data was not found, ` +
        `so the numbers below say nothing about real heart sounds`,
    };
  }
  return cached;
}

/** The feature cache `deno task reproduce` uses (HEARTBEAT_CACHE, else .cache/features in the repo). */
export const CACHE: { dir: string } = { dir: env("HEARTBEAT_CACHE") ?? `${REPO}/.cache/features` };

/** Recordings of the quick subset and epoch cap: the same as `deno task reproduce --quick`. */
export const QUICK_SUBSET = 48;
export const QUICK_EPOCHS = 3;
/** GBDT round cap of quick mode (as `deno task reproduce --quick`). */
export const QUICK_ROUNDS = 10;

/**
 * The run options `deno task reproduce` uses for one small-preset run (epoch caps, hidden units,
 * notes from its plan), or the quick-mode caps, so a notebook's run is the same run as results/<id>.json.
 */
export function reproduceOptions(
  experiment: string,
  protocol: "original" | "grouped-cv",
  rate: "native" | number = "native",
): { maxEpochs?: number; maxRounds?: number; hiddenUnits?: number[]; notes?: string[] } {
  if (QUICK) return { maxEpochs: QUICK_EPOCHS, maxRounds: QUICK_ROUNDS };
  const run = fullPlan().find((r) =>
    r.preset === "small" && r.experiment === experiment && r.protocol === protocol && r.rate === rate
  );
  return { maxEpochs: run?.maxEpochs, hiddenUnits: run?.hiddenUnits, notes: run?.notes };
}

/**
 * The four-class recordings the experiments use (artifact and unlabelled excluded), and in quick
 * mode the same seeded class-stratified subset as `deno task reproduce --quick`. The original's
 * experiments keep the original's files (challenge split "train", as `deno task reproduce` does);
 * pass ["train", "test"] for the test files' labels too.
 */
export async function experimentRecordings(
  challengeSplits: ("train" | "test")[] = ["train"],
): Promise<Recording[]> {
  const data = await notebookData();
  // the audit's groups and label-conflict rule, as `deno task reproduce` and `deno task train` use them
  const all = withAuditGroups(listRecordings(data.dir, { challengeSplits }), await cachedAuditGroups(data.dir));
  return QUICK ? stratifiedSubset(all, QUICK_SUBSET, 42) : all;
}

const pending: { figure: PlotlyFigure; path: string; width?: number; height?: number }[] = [];

/**
 * Shows a figure; with a name and HEARTBEAT_IMAGES=1, also queues it for notebooks/images/<name>.png
 * (written by {@linkcode saveImages}, once per notebook, in one Chromium run).
 */
export async function show(
  figure: PlotlyFigure,
  name?: string,
  size: { width?: number; height?: number } = {},
): Promise<void> {
  await display(figure);
  if (name && SAVE_IMAGES) pending.push({ figure, path: `${REPO}/notebooks/images/${name}.png`, ...size });
}

/** Writes the queued static images (a no-op unless HEARTBEAT_IMAGES=1). Returns the file names. */
export async function saveImages(): Promise<string[]> {
  if (pending.length === 0) return [];
  await Deno.mkdir(`${REPO}/notebooks/images`, { recursive: true });
  const written = await renderImages(pending.splice(0));
  return written.map((p) => p.slice(p.lastIndexOf("/") + 1));
}

/** Formats a number of seconds as "1.2 s" / "3 min 04 s". */
export function formatSeconds(s: number): string {
  if (s < 60) return `${s.toFixed(s < 10 ? 2 : 1)} s`;
  const m = Math.floor(s / 60);
  return `${m} min ${String(Math.round(s - 60 * m)).padStart(2, "0")} s`;
}

/** The committed result of a run (results/<id>.json written by `deno task reproduce`), if any. */
export function committedResult(id: string): ExperimentResult | undefined {
  try {
    return JSON.parse(Deno.readTextFileSync(`${REPO}/results/${id}.json`));
  } catch {
    return undefined;
  }
}

function pm(v: { mean: number; std: number }, folds: number): string {
  if (!Number.isFinite(v.mean)) return "—";
  return folds > 1 ? `${v.mean.toFixed(3)} ± ${v.std.toFixed(3)}` : v.mean.toFixed(3);
}

/** One table row of a result: mean ± std over folds (one number under the single-split protocol). */
export function resultRow(r: ExperimentResult, label?: string): Record<string, string | number> {
  const k = r.folds.length;
  return {
    run: label ?? r.id,
    recordings: r.numRecordings,
    folds: k,
    accuracy: pm(r.summary.accuracy, k),
    "balanced acc.": pm(r.summary.balancedAccuracy, k),
    "macro-F1": pm(r.summary.macroF1, k),
    "majority baseline": pm(r.summary.majorityBaseline, k),
    parameters: r.parameterCount,
    "seconds": Math.round(r.seconds),
  };
}

/**
 * Shows results: a table (with the committed results/<id>.json beside each run when it exists and
 * this is a full run), then per run the confusion matrix summed over folds and per-class recall.
 * `imagePrefix` names the static images (notebooks/images/<prefix>-<protocol>-*.png).
 */
export async function showResults(results: readonly ExperimentResult[], imagePrefix?: string): Promise<void> {
  const rows: Record<string, string | number>[] = [];
  for (const r of results) {
    rows.push(resultRow(r, `${r.id} (this notebook)`));
    const saved = QUICK ? undefined : committedResult(r.id);
    if (saved) rows.push(resultRow(saved, `${r.id} (results/)`));
  }
  await displayTable(rows);
  for (const r of results) {
    if (!r.pooled) continue;
    const name = imagePrefix ? `${imagePrefix}-${r.protocol}` : undefined;
    await show(
      confusionFigure(r.pooled.confusion, CLASS_NAMES, {
        title: `${r.experiment}, ${r.protocol}: confusion summed over ${r.folds.length} fold(s)`,
        width: 560,
        height: 420,
      }),
      name && `${name}-confusion`,
    );
  }
  await show(
    barFigure(
      [...CLASS_NAMES],
      results.filter((r) => r.pooled).map((r) => ({
        name: `${r.experiment} ${r.protocol}`,
        values: r.pooled!.perClass.map((c) => c.recall),
      })),
      { title: "Recall per class (pooled over folds)", layout: { yaxis: { title: { text: "recall" }, range: [0, 1] } } },
    ),
    imagePrefix && `${imagePrefix}-recall`,
  );
}
