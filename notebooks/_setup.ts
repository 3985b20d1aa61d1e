/**
 * Shared set-up of the notebooks (not library code: everything the notebooks compute comes from
 * ../lib). It decides which data a notebook runs on, whether it runs in quick mode, and saves the
 * static chart images GitHub readers see.
 *
 * Environment (set by `deno task notebooks`, or by you before starting Jupyter):
 * - HEARTBEAT_DATA: the data folder (set_a/, set_b/, labels.csv). Else data/ in the repo when it
 *   holds WAV files, else ../shared/data/heartbeat-sounds beside the repo, else synthetic
 *   recordings written to a temporary folder in the same layout (lib/synth.ts).
 * - HEARTBEAT_QUICK=1: a small subset and few epochs, for CI (a few minutes for all notebooks).
 * - HEARTBEAT_SYNTHETIC=1: use synthetic recordings even when real data is present.
 * - HEARTBEAT_IMAGES=1: write the charts passed to `show(fig, "name")` to notebooks/images/name.png.
 * @module
 */
import { type Recording } from "../lib/data.ts";
import { display, type PlotlyFigure, renderImages } from "../lib/plot.ts";
import { mulberry32, shuffleInPlace } from "../lib/rng.ts";
import { encodeWav } from "../lib/wav.ts";

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

const REPO = new URL("../", import.meta.url).pathname.replace(/\/$/, "");

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
  const candidates = [env("HEARTBEAT_DATA"), `${REPO}/data`, `${REPO}/../shared/data/heartbeat-sounds`];
  const real = env("HEARTBEAT_SYNTHETIC") === "1" ? undefined : candidates.find((d) => d && hasWavs(d));
  if (real) {
    const dir = await Deno.realPath(real);
    cached = { dir, synthetic: false, description: `real recordings from ${dir}` };
  } else {
    const dir = `${await Deno.makeTempDir({ prefix: "heartbeat-synthetic-" })}`;
    const n = await writeSyntheticDataset(dir, { perClass: QUICK ? 6 : 20 });
    cached = {
      dir,
      synthetic: true,
      description: `${n} SYNTHETIC recordings (lib/synth.ts) in ${dir}: the real data was not found, ` +
        `so the numbers below say nothing about real heart sounds`,
    };
  }
  return cached;
}

/** Options of {@linkcode writeSyntheticDataset}. */
export interface SyntheticDatasetOptions {
  /** Recordings per (set, class) pair. @default {20} */
  perClass?: number;
  /** @default {1} */
  seed?: number;
}

/**
 * Writes synthetic recordings in the dataset's layout, with its device confound: set_a (44.1 kHz)
 * has normal, murmur and extrahls; set_b (4 kHz, patient ids in the names) has normal, murmur and
 * extrastole. Returns the number of files written.
 */
export async function writeSyntheticDataset(dir: string, options: SyntheticDatasetOptions = {}): Promise<number> {
  const { synthesizeHeartSound } = await import("../lib/synth.ts");
  const perClass = options.perClass ?? 20;
  const rng = mulberry32(options.seed ?? 1);
  const plan: { set: "a" | "b"; kind: "normal" | "murmur" | "extrahls" | "extrastole"; rate: number }[] = [
    { set: "a", kind: "normal", rate: 44100 },
    { set: "a", kind: "murmur", rate: 44100 },
    { set: "a", kind: "extrahls", rate: 44100 },
    { set: "b", kind: "normal", rate: 4000 },
    { set: "b", kind: "murmur", rate: 4000 },
    { set: "b", kind: "extrastole", rate: 4000 },
  ];
  await Deno.mkdir(`${dir}/set_a`, { recursive: true });
  await Deno.mkdir(`${dir}/set_b`, { recursive: true });
  let count = 0;
  for (const { set, kind, rate } of plan) {
    for (let i = 0; i < perClass; i++) {
      const durationS = set === "a" ? 3 + 6 * rng() : 2 + 8 * rng();
      const rec = synthesizeHeartSound({
        seed: 1000 * count + 7,
        kind,
        sampleRate: rate,
        durationS: Math.round(durationS * 100) / 100,
        heartRateBpm: 55 + 50 * rng(),
        noiseLevel: set === "a" ? 0.01 + 0.03 * rng() : 0.03 + 0.08 * rng(),
      });
      const stamp = 201101010000 + count * 37;
      const name = set === "a"
        ? `${kind}__${stamp}.wav`
        : `${kind}__${100 + Math.floor(i / 2)}_${1306000000000 + count}_${"ABCD"[i % 4]}.wav`; // two per patient
      await Deno.writeFile(`${dir}/set_${set}/${name}`, encodeWav({ samples: rec.samples, sampleRate: rate }));
      count++;
    }
  }
  return count;
}

/**
 * A class-stratified subset: at most `perClass` recordings of each (set, label) pair, chosen with a
 * seeded shuffle, in the input's order. Used in quick mode only.
 */
export function stratifiedSubset(recordings: readonly Recording[], perClass: number, seed = 42): Recording[] {
  const byKey = new Map<string, number[]>();
  recordings.forEach((r, i) => {
    const key = `${r.set}/${r.label}`;
    if (!byKey.has(key)) byKey.set(key, []);
    byKey.get(key)!.push(i);
  });
  const rng = mulberry32(seed);
  const keep = new Set<number>();
  for (const key of [...byKey.keys()].sort()) {
    const idx = byKey.get(key)!;
    shuffleInPlace(idx, rng);
    for (const i of idx.slice(0, perClass)) keep.add(i);
  }
  return recordings.filter((_, i) => keep.has(i));
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
