/**
 * Validates lib/rhythm.ts where the truth is known (synthetic recordings), then reports it on the real labels.
 *
 *   deno run -R -W scripts/rhythm_eval.ts [--seeds 12] [--real DATA_DIR] [--plots OUT_DIR] [--json OUT.json]
 *     [--refractory 0.2] [--deviation 0.15] [--floor 0.35] [--not-isolated] [--no-synth] [--predictions CLI.ndjson]
 *
 * Synthetic: lib/synth.ts recordings of 20 s at 50–150 bpm and four noise levels; regular rhythm, sinus arrhythmia
 * (intervals swinging ±10 % and ±20 % over a 4 s breathing cycle) and extrastole (two premature beats at 0.55–0.7 of
 * the interval, each followed by a full compensatory pause). Detection F1 counts a found early beat within ±50 ms of a
 * planted premature S1 (sound centres lie 10–20 ms after the planted onsets); false alarms per minute count early beats
 * found in recordings without any.
 *
 * Real (with --real): set_b extrastole against normal, from labels.csv plus challenge_test_labels.csv; ROC AUC of the
 * score overall and within patients that have both labels (each extrastole recording against each normal one of the
 * same patient), and the share of each class flagged (score ≥ 0.5, the threshold the synthetic runs fix). --plots
 * --predictions (with --real) takes `lib/infer.ts --json` output and counts what issue 18's rule 1c (an extrastole
 * call on a regular recording becomes the next class) changes. --plots writes PNG envelopes with the detected sounds (early red, late blue) of a sample of recordings, for a look by eye.
 * @module
 */
import { parseArgs } from "node:util";
import { deflateSync } from "node:zlib";
import { patientFromFileName } from "../lib/data.ts";
import { shannonEnvelope } from "../lib/beats.ts";
import { rocAuc } from "../lib/metrics.ts";
import { irregularRhythm, irregularRhythmFromEnvelope, type RhythmOptions } from "../lib/rhythm.ts";
import { mulberry32 } from "../lib/rng.ts";
import { synthesizeHeartSound, type SynthOptions } from "../lib/synth.ts";
import { readWav } from "../lib/wav.ts";

const TOLERANCE_S = 0.05;
const FLAG = 0.5;

/** Found times matched one-to-one to true times within the tolerance, greedily in time order. */
export function matchEvents(found: number[], truth: number[], toleranceS = TOLERANCE_S): number {
  const used = new Set<number>();
  let hits = 0;
  for (const t of truth) {
    let best = -1;
    for (let i = 0; i < found.length; i++) {
      if (used.has(i) || Math.abs(found[i] - t) > toleranceS) continue;
      if (best < 0 || Math.abs(found[i] - t) < Math.abs(found[best] - t)) best = i;
    }
    if (best >= 0) {
      used.add(best);
      hits++;
    }
  }
  return hits;
}

interface Cell {
  condition: string;
  bpm: number;
  noise: number;
  recordings: number;
  truePositives: number;
  planted: number;
  found: number;
  minutes: number;
  flagged: number;
  meanScore: number;
}

function synthetic(seeds: number, options: RhythmOptions): Cell[] {
  const conditions: { name: string; synth: SynthOptions }[] = [
    { name: "regular", synth: { kind: "normal" } },
    { name: "sinus arrhythmia ±10 %", synth: { kind: "normal", sinusArrhythmiaDepth: 0.1 } },
    { name: "sinus arrhythmia ±20 %", synth: { kind: "normal", sinusArrhythmiaDepth: 0.2 } },
    { name: "extrastole", synth: { kind: "extrastole", prematureBeats: 2 } },
  ];
  const cells: Cell[] = [];
  for (const c of conditions) {
    for (const bpm of [50, 75, 100, 125, 150]) {
      for (const noise of [0.02, 0.1, 0.2, 0.4]) {
        const cell: Cell = {
          condition: c.name,
          bpm,
          noise,
          recordings: 0,
          truePositives: 0,
          planted: 0,
          found: 0,
          minutes: 0,
          flagged: 0,
          meanScore: 0,
        };
        for (let s = 0; s < seeds; s++) {
          const seed = 1000 * bpm + 7919 * s + Math.round(100 * noise);
          const rec = synthesizeHeartSound({
            ...c.synth,
            seed,
            heartRateBpm: bpm,
            noiseLevel: noise,
            durationS: 20,
            sinusArrhythmiaPhase: 2 * Math.PI * mulberry32(seed)(),
          });
          const out = irregularRhythm({ samples: rec.samples, sampleRate: rec.sampleRate }, options);
          const truth = rec.prematureBeatIndices.map((i) => rec.s1TimesS[i]);
          cell.recordings++;
          cell.planted += truth.length;
          cell.found += out.earlyBeatTimesS.length;
          cell.truePositives += matchEvents(out.earlyBeatTimesS, truth);
          cell.minutes += rec.samples.length / rec.sampleRate / 60;
          cell.flagged += out.score >= FLAG ? 1 : 0;
          cell.meanScore += out.score / seeds;
        }
        cells.push(cell);
      }
    }
  }
  return cells;
}

function summarise(cells: Cell[], by: (c: Cell) => string) {
  const groups = new Map<string, Cell[]>();
  for (const c of cells) groups.set(by(c), [...(groups.get(by(c)) ?? []), c]);
  return [...groups].map(([key, cs]) => {
    const sum = (f: (c: Cell) => number) => cs.reduce((a, c) => a + f(c), 0);
    const tp = sum((c) => c.truePositives), planted = sum((c) => c.planted), found = sum((c) => c.found);
    const recall = planted ? tp / planted : NaN, precision = found ? tp / found : NaN;
    return {
      key,
      recordings: sum((c) => c.recordings),
      f1: planted ? (2 * tp) / (planted + found) : NaN,
      recall,
      precision,
      falsePerMinute: planted ? (found - tp) / sum((c) => c.minutes) : found / sum((c) => c.minutes),
      flagged: sum((c) => c.flagged) / sum((c) => c.recordings),
    };
  });
}

function parseCsv(text: string): Record<string, string>[] {
  const lines = text.split(/\r?\n/).filter((l) => l.trim() !== "");
  const header = lines[0].split(",");
  return lines.slice(1).map((l) => {
    const cells = l.split(",");
    return Object.fromEntries(header.map((h, i) => [h, cells[i] ?? ""]));
  });
}

interface RealRecording {
  path: string;
  label: "normal" | "extrastole";
  patient: string;
  score: number;
  early: number;
  durationS: number;
}

const CRC_TABLE = Uint32Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});

function crc32(bytes: Uint8Array): number {
  let c = 0xffffffff;
  for (const b of bytes) c = CRC_TABLE[(c ^ b) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

/** An RGB image as PNG bytes (no dependency: stored rows, zlib-deflated). */
function encodePng(rgb: Uint8Array, width: number, height: number): Uint8Array {
  const raw = new Uint8Array(height * (3 * width + 1));
  for (let y = 0; y < height; y++) raw.set(rgb.subarray(3 * width * y, 3 * width * (y + 1)), y * (3 * width + 1) + 1);
  const chunk = (type: string, data: Uint8Array) => {
    const out = new Uint8Array(12 + data.length);
    const view = new DataView(out.buffer);
    view.setUint32(0, data.length);
    out.set(new TextEncoder().encode(type), 4);
    out.set(data, 8);
    view.setUint32(8 + data.length, crc32(out.subarray(4, 8 + data.length)));
    return out;
  };
  const header = new Uint8Array(13);
  new DataView(header.buffer).setUint32(0, width);
  new DataView(header.buffer).setUint32(4, height);
  header.set([8, 2, 0, 0, 0], 8);
  const parts = [
    Uint8Array.of(137, 80, 78, 71, 13, 10, 26, 10),
    chunk("IHDR", header),
    chunk("IDAT", new Uint8Array(deflateSync(raw))),
    chunk("IEND", new Uint8Array(0)),
  ];
  const png = new Uint8Array(parts.reduce((a, p) => a + p.length, 0));
  let at = 0;
  for (const p of parts) png.set(p, (at += p.length) - p.length);
  return png;
}

/** The envelope (green), detected sounds (grey; early red, late blue) and premature beats (red squares on top). */
function plotPng(env: ReturnType<typeof shannonEnvelope>, options: RhythmOptions): Uint8Array {
  const out = irregularRhythmFromEnvelope(env, options);
  const w = 1200, h = 160, durationS = env.values.length / env.rate;
  const rgb = new Uint8Array(3 * w * h).fill(255);
  const put = (x: number, y: number, c: number[]) => {
    if (x >= 0 && x < w && y >= 0 && y < h) rgb.set(c, 3 * (w * y + x));
  };
  const x = (t: number) => Math.round((t / durationS) * (w - 1));
  for (let s = 0; s <= durationS; s++) for (let y = h - 6; y < h; y++) put(x(s), y, [0, 0, 0]);
  for (const b of out.beats) {
    const c = b.early ? [230, 0, 0] : b.late ? [0, 0, 230] : [170, 170, 170];
    for (let y = 12; y < h; y++) if (b.early || b.late || y % 4 < 2) put(x(b.timeS), y, c);
  }
  for (const t of out.earlyBeatTimesS) {
    for (let dy = 0; dy < 9; dy++) for (let dx = -4; dx <= 4; dx++) put(x(t) + dx, dy, [230, 0, 0]);
  }
  let lo = Infinity, hi = -Infinity;
  for (const v of env.values) [lo, hi] = [Math.min(lo, v), Math.max(hi, v)];
  const y = (v: number) => Math.round(h - 8 - ((v - lo) / (hi - lo || 1)) * (h - 24));
  let prev = y(env.values[0]);
  for (let k = 1; k < env.values.length; k++) {
    const cur = y(env.values[k]);
    for (let yy = Math.min(prev, cur); yy <= Math.max(prev, cur); yy++) put(x(k / env.rate), yy, [0, 140, 0]);
    prev = cur;
  }
  return encodePng(rgb, w, h);
}

function real(dataDir: string, options: RhythmOptions, plotsDir?: string) {
  const rows = [
    ...parseCsv(Deno.readTextFileSync(`${dataDir}/labels.csv`)),
    ...parseCsv(Deno.readTextFileSync(`${dataDir}/challenge_test_labels.csv`)),
  ].filter((r) => r.path.startsWith("set_b/") && (r.label === "normal" || r.label === "extrastole"));
  const recs: RealRecording[] = [];
  let elapsedMs = 0, audioS = 0;
  for (const r of rows) {
    const wav = readWav(Deno.readFileSync(`${dataDir}/${r.path}`));
    const t0 = performance.now();
    const out = irregularRhythm(wav, options);
    elapsedMs += performance.now() - t0;
    audioS += wav.samples.length / wav.sampleRate;
    recs.push({
      path: r.path,
      label: r.label as RealRecording["label"],
      patient: patientFromFileName(r.path.split("/")[1]) ?? r.path,
      score: out.score,
      early: out.earlyBeatTimesS.length,
      durationS: wav.samples.length / wav.sampleRate,
    });
  }
  const pos = recs.filter((r) => r.label === "extrastole"), neg = recs.filter((r) => r.label === "normal");
  let pairs = 0, wins = 0;
  const patients = new Set(pos.map((r) => r.patient).filter((p) => neg.some((n) => n.patient === p)));
  for (const p of pos) {
    for (const q of neg) {
      if (p.patient !== q.patient) continue;
      pairs++;
      wins += p.score > q.score ? 1 : p.score === q.score ? 0.5 : 0;
    }
  }
  const flaggedShare = (rs: RealRecording[]) => rs.filter((r) => r.score >= FLAG).length / rs.length;
  const p = flaggedShare(pos), q = flaggedShare(neg);
  const report = {
    extrastole: pos.length,
    normal: neg.length,
    rocAuc: rocAuc(pos.map((r) => r.score), neg.map((r) => r.score)),
    rocAucEarlyPerMinute: rocAuc(pos.map((r) => r.early / r.durationS), neg.map((r) => r.early / r.durationS)),
    pairedPatients: patients.size,
    pairs,
    pairedAuc: pairs ? wins / pairs : NaN,
    extrastoleFlagged: p,
    normalFlagged: q,
    aucAllowedByFlags: 0.5 + (p - q) / 2,
    msPer10s: (elapsedMs / audioS) * 10,
  };
  if (plotsDir) {
    Deno.mkdirSync(plotsDir, { recursive: true });
    // A fixed sample: 10 of each class from the paired patients and elsewhere, seeded.
    const rng = mulberry32(18);
    const pick = (rs: RealRecording[], k: number) => rs.toSorted(() => rng() - 0.5).slice(0, k);
    const sample = [...pick(pos, 10), ...pick(neg, 10)];
    for (const [i, r] of sample.entries()) {
      const wav = readWav(Deno.readFileSync(`${dataDir}/${r.path}`));
      const png = plotPng(shannonEnvelope(wav), options);
      Deno.writeFileSync(`${plotsDir}/${String(i).padStart(2, "0")}_${r.label}.png`, png);
    }
    Deno.writeTextFileSync(`${plotsDir}/sample.json`, JSON.stringify(sample, null, 1));
  }
  return { report, recordings: recs };
}

/**
 * Issue 18 item 1c on the CLI's predictions (`lib/infer.ts --json` output, NDJSON) of recordings in `recordings`:
 * per true class, how many are called extrastole, and how many after the rule "an extrastole call on a regular
 * recording (score < 0.5) becomes the next most likely class".
 */
function ruleOneC(predictionsPath: string, recordings: RealRecording[]) {
  const byName = new Map(recordings.map((r) => [r.path.split("/").pop()!, r]));
  const rows: { truth: string; called: string; after: string; score: number }[] = [];
  for (const line of Deno.readTextFileSync(predictionsPath).split("\n")) {
    if (!line.trim()) continue;
    const p = JSON.parse(line) as { file: string; label: string; probabilities: Record<string, number> };
    const r = byName.get(p.file.split("/").pop()!);
    if (!r) continue;
    const ranked = Object.entries(p.probabilities).sort((a, b) => b[1] - a[1]).map(([k]) => k);
    const after = ranked[0] === "extrastole" && r.score < FLAG ? ranked[1] : ranked[0];
    rows.push({ truth: r.label, called: ranked[0], after, score: r.score });
  }
  return (["normal", "extrastole"] as const).map((truth) => {
    const rs = rows.filter((r) => r.truth === truth);
    return {
      truth,
      recordings: rs.length,
      rhythmFlagged: rs.filter((r) => r.score >= FLAG).length,
      calledExtrastole: rs.filter((r) => r.called === "extrastole").length,
      calledExtrastoleAfterRule: rs.filter((r) => r.after === "extrastole").length,
      correct: rs.filter((r) => r.called === truth).length,
      correctAfterRule: rs.filter((r) => r.after === truth).length,
    };
  });
}

if (import.meta.main) {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      seeds: { type: "string", default: "12" },
      real: { type: "string" },
      plots: { type: "string" },
      json: { type: "string" },
      refractory: { type: "string" },
      deviation: { type: "string" },
      floor: { type: "string" },
      "not-isolated": { type: "boolean", default: false },
      "no-synth": { type: "boolean", default: false },
      predictions: { type: "string" },
    },
  });
  const num = (s?: string) => (s === undefined ? undefined : Number(s));
  const options: RhythmOptions = {
    refractoryS: num(values.refractory),
    deviation: num(values.deviation),
    peakFloor: num(values.floor),
    isolated: !values["not-isolated"],
  };
  const result: Record<string, unknown> = { options };
  if (!values["no-synth"]) {
    const cells = synthetic(Number(values.seeds), options);
    const byCondition = summarise(cells, (c) => c.condition);
    const byRate = summarise(cells, (c) => `${c.condition} @ ${c.bpm} bpm`);
    const byNoise = summarise(cells, (c) => `${c.condition} @ noise ${c.noise}`);
    console.table(byCondition);
    console.table(byRate);
    console.table(byNoise);
    const byCell = summarise(cells, (c) => `${c.condition} @ ${c.bpm} bpm, noise ${c.noise}`);
    Object.assign(result, { byCondition, byRate, byNoise, byCell });
  }
  if (values.real) {
    const { report, recordings } = real(values.real, options, values.plots);
    console.table([report]);
    Object.assign(result, { real: report, recordings });
  }
  if (values.real && values.predictions) {
    const rule = ruleOneC(values.predictions, result.recordings as RealRecording[]);
    console.table(rule);
    Object.assign(result, { ruleOneC: rule });
  }
  if (values.json) Deno.writeTextFileSync(values.json, JSON.stringify(result, null, 1) + "\n");
}
