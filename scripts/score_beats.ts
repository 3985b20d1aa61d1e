/**
 * Scores {@linkcode detectHeartSounds} against the expert S1/S2 annotations of
 * `set_a_timing.csv` (PASCAL CHSC2011 segmentation task: 18 set_a normal recordings, sound
 * positions as sample indices at 44.1 kHz) and prints a table; `--out FILE` also writes the scores as JSON
 * (results/beats.json is regenerated with `--out results/beats.json`).
 *
 * ```sh
 * deno run -R -E scripts/score_beats.ts [--data DIR] [--tolerance-ms 50]
 * deno run -R -W=results -E scripts/score_beats.ts --out results/beats.json
 * ```
 *
 * Data folder: `--data`, else HEARTBEAT_DATA, else data/ (lib/data.ts findDataDir). Metrics:
 * - location error: each annotated S1 (S2) is matched to the nearest detected S1 (S2); mean and
 *   median absolute error in ms over all annotated sounds (a recording with no detection of that
 *   kind counts every annotation of it as missed and leaves it out of the error);
 * - hit rate: fraction of annotated sounds whose nearest same-kind detection is within the
 *   tolerance (±50 ms); `anyLabelHitRate` ignores the S1/S2 label (localisation only);
 * - false detections: detections inside the annotated span (first annotation − tolerance to last
 *   + tolerance; the annotations do not always cover the whole clip) with no same-kind annotation
 *   within the tolerance (`anyLabelFalseDetections`: not near an annotation of either kind);
 * - heart rate: against 60 / median annotated S1→S1 interval.
 * @module
 */
import { parseArgs } from "node:util";
import { detectHeartSounds, type DetectOptions } from "../lib/beats.ts";
import { DatasetError, HeartSoundError } from "../lib/errors.ts";
import { readWav } from "../lib/wav.ts";
import { resolveDataDir } from "../lib/data.ts";

/** Sample rate of the annotation positions, in Hz. */
export const ANNOTATION_RATE = 44100;

/** Annotated S1 and S2 centres of one recording, in seconds. */
export interface BeatAnnotation {
  file: string;
  s1TimesS: number[];
  s2TimesS: number[];
}

/** Parses set_a_timing.csv (`fname,cycle,sound,location`) into per-file S1/S2 times, in file order. */
export function parseTimingCsv(text: string): BeatAnnotation[] {
  const lines = text.trim().split(/\r?\n/);
  const header = lines[0].split(",").map((s) => s.trim());
  const [iFile, iSound, iLoc] = ["fname", "sound", "location"].map((h) => header.indexOf(h));
  if (iFile < 0 || iSound < 0 || iLoc < 0) {
    throw new DatasetError(`Cannot read timing CSV: header is "${lines[0]}", expected fname,cycle,sound,location`);
  }
  const byFile = new Map<string, BeatAnnotation>();
  for (const [n, line] of lines.slice(1).entries()) {
    const cells = line.split(",");
    const loc = Number(cells[iLoc]);
    const sound = cells[iSound]?.trim();
    if (!Number.isFinite(loc) || (sound !== "S1" && sound !== "S2")) {
      throw new DatasetError(`Cannot read timing CSV: line ${n + 2} is "${line}"`);
    }
    const file = cells[iFile].trim();
    if (!byFile.has(file)) byFile.set(file, { file, s1TimesS: [], s2TimesS: [] });
    const a = byFile.get(file)!;
    (sound === "S1" ? a.s1TimesS : a.s2TimesS).push(loc / ANNOTATION_RATE);
  }
  for (const a of byFile.values()) {
    a.s1TimesS.sort((p, q) => p - q);
    a.s2TimesS.sort((p, q) => p - q);
  }
  return [...byFile.values()];
}

function median(x: number[]): number {
  if (x.length === 0) return NaN;
  const s = x.toSorted((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

function nearest(sorted: number[], t: number): number {
  let best = Infinity;
  for (const v of sorted) if (Math.abs(v - t) < Math.abs(best - t)) best = v;
  return best;
}

/** Matching counts of one sound kind in one recording. */
export interface KindScore {
  annotated: number;
  hits: number;
  /** Absolute errors (s) of the annotations that have a same-kind detection. */
  errorsS: number[];
  detectedInSpan: number;
  falseDetections: number;
  /** False detections that are not within the tolerance of an annotation of the other kind either. */
  anyLabelFalseDetections: number;
  anyLabelHits: number;
}

/** Scores detections of one kind against annotations of that kind (see the module doc). */
export function scoreKind(
  annotated: number[],
  detected: number[],
  other: { annotated: number[]; detected: number[] },
  span: [number, number],
  toleranceS: number,
): KindScore {
  const errorsS: number[] = [];
  let hits = 0, anyLabelHits = 0;
  const allDetected = [...detected, ...other.detected];
  for (const t of annotated) {
    const e = Math.abs(nearest(detected, t) - t);
    if (Number.isFinite(e)) errorsS.push(e);
    if (e <= toleranceS) hits++;
    if (Math.abs(nearest(allDetected, t) - t) <= toleranceS) anyLabelHits++;
  }
  const inSpan = detected.filter((t) => t >= span[0] - toleranceS && t <= span[1] + toleranceS);
  const unmatched = inSpan.filter((t) => !(Math.abs(nearest(annotated, t) - t) <= toleranceS));
  const anyLabelFalseDetections = unmatched.filter((t) => !(Math.abs(nearest(other.annotated, t) - t) <= toleranceS))
    .length;
  return {
    annotated: annotated.length,
    hits,
    errorsS,
    detectedInSpan: inSpan.length,
    falseDetections: unmatched.length,
    anyLabelFalseDetections,
    anyLabelHits,
  };
}

/** One recording's result. */
export interface FileScore {
  file: string;
  durationS: number;
  heartRateBpm: number | null;
  annotatedBpm: number;
  confidence: number;
  s1: KindScore;
  s2: KindScore;
  latencyMs: number;
}

/** Options of {@linkcode scoreBeats}. */
export interface ScoreBeatsOptions {
  /** Match tolerance in seconds. @default {0.05} */
  toleranceS?: number;
  /** Passed to {@linkcode detectHeartSounds}. */
  detect?: DetectOptions;
}

/** Runs the detector on every annotated recording in `dataDir`. */
export function scoreBeats(dataDir: string, options: ScoreBeatsOptions = {}): FileScore[] {
  const toleranceS = options.toleranceS ?? 0.05;
  let text: string;
  try {
    text = Deno.readTextFileSync(`${dataDir}/set_a_timing.csv`);
  } catch {
    throw new DatasetError(`Cannot score beats: "${dataDir}/set_a_timing.csv" not found; pass --data DIR`);
  }
  const out: FileScore[] = [];
  for (const ann of parseTimingCsv(text)) {
    const wave = readWav(Deno.readFileSync(`${dataDir}/${ann.file}`));
    const t0 = performance.now();
    const det = detectHeartSounds(wave, options.detect);
    const latencyMs = performance.now() - t0;
    const all = [...ann.s1TimesS, ...ann.s2TimesS];
    const span: [number, number] = [Math.min(...all), Math.max(...all)];
    const intervals = ann.s1TimesS.slice(1).map((t, i) => t - ann.s1TimesS[i]);
    out.push({
      file: ann.file,
      durationS: wave.durationS,
      heartRateBpm: det.heartRateBpm,
      annotatedBpm: 60 / median(intervals),
      confidence: det.confidence,
      s1: scoreKind(ann.s1TimesS, det.s1TimesS, { annotated: ann.s2TimesS, detected: det.s2TimesS }, span, toleranceS),
      s2: scoreKind(ann.s2TimesS, det.s2TimesS, { annotated: ann.s1TimesS, detected: det.s1TimesS }, span, toleranceS),
      latencyMs,
    });
  }
  return out;
}

function summarise(rows: FileScore[], kind: "s1" | "s2" | "both") {
  const ks = rows.flatMap((r) => kind === "both" ? [r.s1, r.s2] : [r[kind]]);
  const sum = (f: (k: KindScore) => number) => ks.reduce((a, k) => a + f(k), 0);
  const errors = ks.flatMap((k) => k.errorsS);
  const annotated = sum((k) => k.annotated);
  return {
    annotated,
    hitRate: sum((k) => k.hits) / annotated,
    anyLabelHitRate: sum((k) => k.anyLabelHits) / annotated,
    meanAbsErrorMs: 1000 * errors.reduce((a, b) => a + b, 0) / errors.length,
    medianAbsErrorMs: 1000 * median(errors),
    falseDetections: sum((k) => k.falseDetections),
    anyLabelFalseDetections: sum((k) => k.anyLabelFalseDetections),
    detectedInSpan: sum((k) => k.detectedInSpan),
  };
}

const round = (x: number, d = 3) => Number.isFinite(x) ? Math.round(x * 10 ** d) / 10 ** d : null;

async function main(args: string[]): Promise<void> {
  const { values } = parseArgs({
    args,
    options: { data: { type: "string" }, out: { type: "string" }, "tolerance-ms": { type: "string" } },
  });
  const dataDir = resolveDataDir(values.data);
  const toleranceS = Number(values["tolerance-ms"] ?? 50) / 1000;
  const rows = scoreBeats(dataDir, { toleranceS });

  console.log("file                          bpm  ann.bpm  S1 hit  S2 hit  S1 err  S2 err  false  ms");
  for (const r of rows) {
    const pct = (k: KindScore) => `${k.hits}/${k.annotated}`.padStart(6);
    const err = (k: KindScore) =>
      (1000 * k.errorsS.reduce((a, b) => a + b, 0) / k.errorsS.length).toFixed(0).padStart(6);
    console.log(
      `${r.file.replace("set_a/", "").padEnd(28)} ${(r.heartRateBpm?.toFixed(1) ?? "-").padStart(5)}  ${
        r.annotatedBpm.toFixed(1).padStart(6)
      }  ${pct(r.s1)}  ${pct(r.s2)}  ${err(r.s1)}  ${err(r.s2)}  ${
        String(r.s1.falseDetections + r.s2.falseDetections).padStart(5)
      }  ${r.latencyMs.toFixed(0).padStart(3)}`,
    );
  }
  const bpmErrors = rows.map((r) => r.heartRateBpm === null ? Infinity : Math.abs(r.heartRateBpm - r.annotatedBpm));
  const summary = {
    recordings: rows.length,
    toleranceMs: toleranceS * 1000,
    s1: summarise(rows, "s1"),
    s2: summarise(rows, "s2"),
    all: summarise(rows, "both"),
    heartRate: {
      meanAbsErrorBpm: bpmErrors.reduce((a, b) => a + b, 0) / rows.length,
      medianAbsErrorBpm: median(bpmErrors),
      within5Bpm: bpmErrors.filter((e) => e <= 5).length / rows.length,
      within10Percent: rows.filter((r, i) => bpmErrors[i] <= 0.1 * r.annotatedBpm).length / rows.length,
    },
    meanLatencyMs: rows.reduce((a, r) => a + r.latencyMs, 0) / rows.length,
  };
  for (const [name, s] of [["S1", summary.s1], ["S2", summary.s2], ["all", summary.all]] as const) {
    console.log(
      `${name.padEnd(3)}: hit ±${summary.toleranceMs} ms ${(100 * s.hitRate).toFixed(1)}% (any label ${
        (100 * s.anyLabelHitRate).toFixed(1)
      }%), MAE ${s.meanAbsErrorMs.toFixed(1)} ms, median ${
        s.medianAbsErrorMs.toFixed(1)
      } ms, false ${s.falseDetections}/${s.detectedInSpan} (not near any annotation: ${s.anyLabelFalseDetections})`,
    );
  }
  const hr = summary.heartRate;
  console.log(
    `heart rate: MAE ${hr.meanAbsErrorBpm.toFixed(2)} bpm, median ${
      hr.medianAbsErrorBpm.toFixed(2)
    } bpm, within 5 bpm ${(100 * hr.within5Bpm).toFixed(0)}%, within 10% ${(100 * hr.within10Percent).toFixed(0)}%`,
  );
  const json = {
    description: "detectHeartSounds vs set_a_timing.csv expert S1/S2 annotations (see scripts/score_beats.ts)",
    command: "deno run -R -W=results -E scripts/score_beats.ts --out results/beats.json",
    summary: JSON.parse(JSON.stringify(summary, (_k, v) => typeof v === "number" ? round(v) : v)),
    files: rows.map((r) => ({
      file: r.file,
      heartRateBpm: round(r.heartRateBpm ?? NaN, 2),
      annotatedBpm: round(r.annotatedBpm, 2),
      confidence: round(r.confidence),
      s1: {
        annotated: r.s1.annotated,
        hits: r.s1.hits,
        falseDetections: r.s1.falseDetections,
        meanAbsErrorMs: round(1000 * r.s1.errorsS.reduce((a, b) => a + b, 0) / r.s1.errorsS.length, 1),
      },
      s2: {
        annotated: r.s2.annotated,
        hits: r.s2.hits,
        falseDetections: r.s2.falseDetections,
        meanAbsErrorMs: round(1000 * r.s2.errorsS.reduce((a, b) => a + b, 0) / r.s2.errorsS.length, 1),
      },
    })),
  };
  if (values.out === undefined) return;
  const outPath = values.out;
  const slash = outPath.lastIndexOf("/");
  if (slash > 0) await Deno.mkdir(outPath.slice(0, slash), { recursive: true });
  await Deno.writeTextFile(outPath, JSON.stringify(json, null, 2) + "\n");
  console.log(`wrote ${outPath}`);
}

if (import.meta.main) {
  try {
    await main(Deno.args);
  } catch (e) {
    if (!(e instanceof HeartSoundError)) throw e;
    console.error(e.message);
    Deno.exit(1);
  }
}
