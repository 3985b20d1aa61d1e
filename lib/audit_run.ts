/**
 * The data audit of a folder (reads the WAVs, runs lib/audit.ts, renders audit.md and
 * audit.json), and the audit's CV groups for the experiments, cached under .cache/audit/ keyed by
 * the folder's file list, sizes and labels, so a changed folder is audited again.
 * @module
 */
import {
  AUDIT_RATE_HZ,
  auditGroups,
  bestAlignment,
  candidatePairs,
  CONFLICT_THRESHOLD,
  DEFAULT_CANDIDATE_THRESHOLD,
  DEFAULT_COPY_THRESHOLD,
  type FileFacts,
  fileFacts,
  histogram,
  minOverlapFor,
  type OddFile,
  oddFiles,
  prepareAuditSignal,
  SESSION_GAP_MIN,
} from "./audit.ts";
import { sha256Hex } from "./cache.ts";
import { listRecordings, type Recording } from "./data.ts";
import { HeartSoundError } from "./errors.ts";
import { createProgress } from "./progress.ts";
import { readWav } from "./wav.ts";

/** One near-duplicate pair (paths relative to the data folder). */
export interface AuditPair {
  a: string;
  b: string;
  /** Normalised cross-correlation at the best lag, band-passed at 2 kHz. */
  similarity: number;
  /** `b` starts this many seconds into `a` (negative: `a` starts into `b`). */
  lagS: number;
  /** Seconds of overlap at that lag. */
  overlapS: number;
  labelA: string | null;
  labelB: string | null;
}

/** The audit's result; `pairs` holds every exactly compared candidate at or above the copy threshold. */
export interface AuditReport {
  dataDir: string;
  files: number;
  threshold: number;
  candidateThreshold: number;
  /** Every pair compared exactly (candidates), for the histogram. */
  candidates: AuditPair[];
  pairs: AuditPair[];
  groups: Record<string, string>;
  labelConflicts: { a: string; b: string; labelA: string; labelB: string; similarity: number }[];
  /** set_b patients with recordings that copy another patient's. */
  patientCopies: { patient: string; other: string; pairs: number; recordings: number }[];
  odd: OddFile[];
  unreadable: { relPath: string; error: string }[];
  /** Histogram of the coarse fingerprint correlation over all pairs. */
  fingerprintHistogram: { from: number; to: number; count: number }[];
  /** Histogram of the exact similarity over the candidates. */
  similarityHistogram: { from: number; to: number; count: number }[];
  seconds: { read: number; candidates: number; exact: number; total: number };
}

/** Options of {@linkcode runAudit}. */
export interface RunAuditOptions {
  /** Copy threshold. @default {DEFAULT_COPY_THRESHOLD} */
  threshold?: number;
  /** Print progress on stderr. @default {true} */
  progress?: boolean;
}

/** Audits every WAV of a data folder (labelled or not, artifact included). */
export function runAudit(dataDir: string, options: RunAuditOptions = {}): AuditReport {
  const t0 = performance.now();
  const threshold = options.threshold ?? DEFAULT_COPY_THRESHOLD;
  const silent = options.progress === false;
  const recs = listRecordings(dataDir, { includeArtifact: true, includeUnlabelled: true });
  const read = createProgress(recs.length, "audit: reading", { silent });
  const ok: Recording[] = [], signals = [], facts: FileFacts[] = [];
  const unreadable: { relPath: string; error: string }[] = [];
  for (const r of recs) {
    try {
      const wave = readWav(Deno.readFileSync(r.path));
      facts.push(fileFacts(r.relPath, r.set, wave));
      signals.push(prepareAuditSignal(wave));
      ok.push(r);
    } catch (e) {
      if (!(e instanceof HeartSoundError)) throw e;
      unreadable.push({ relPath: r.relPath, error: e.message });
    }
    read.tick();
  }
  read.done();
  const t1 = performance.now();
  const coarse = createProgress(ok.length, "audit: fingerprints", { silent });
  const all = candidatePairs(signals.map((s) => s.fingerprint), -1, () => coarse.tick());
  coarse.done();
  const fingerprintHistogram = histogram(all.map((p) => p.score));
  const cands = all.filter((p) => p.score >= DEFAULT_CANDIDATE_THRESHOLD);
  const t2 = performance.now();
  const exact = createProgress(cands.length, "audit: exact NCC", { silent });
  const candidates: AuditPair[] = [];
  const copyIdx: { a: number; b: number }[] = [];
  for (const c of cands) {
    const a = signals[c.a].samples, b = signals[c.b].samples;
    const m = bestAlignment(a, b, minOverlapFor(a.length, b.length, AUDIT_RATE_HZ));
    const pair: AuditPair = {
      a: ok[c.a].relPath,
      b: ok[c.b].relPath,
      similarity: round(m.similarity, 5),
      lagS: round(m.lag / AUDIT_RATE_HZ, 4),
      overlapS: round(m.overlap / AUDIT_RATE_HZ, 2),
      labelA: ok[c.a].label,
      labelB: ok[c.b].label,
    };
    candidates.push(pair);
    if (m.similarity >= threshold) copyIdx.push(c);
    exact.tick();
  }
  exact.done();
  const t3 = performance.now();
  const pairs = candidates.filter((p) => p.similarity >= threshold).sort((x, y) => y.similarity - x.similarity);
  const groupIds = auditGroups(ok, copyIdx);
  const groups: Record<string, string> = {};
  ok.forEach((r, i) => groups[r.relPath] = groupIds[i]);
  for (const u of unreadable) groups[u.relPath] = `unreadable:${u.relPath}`;
  const labelConflicts = pairs
    .filter((p) =>
      p.similarity >= CONFLICT_THRESHOLD && p.labelA !== null && p.labelB !== null && p.labelA !== p.labelB
    )
    .map((p) => ({ a: p.a, b: p.b, labelA: p.labelA!, labelB: p.labelB!, similarity: p.similarity }));
  const byPath = new Map(ok.map((r) => [r.relPath, r]));
  const patientPairs = new Map<string, Set<string>>();
  for (const p of pairs) {
    const ra = byPath.get(p.a)!, rb = byPath.get(p.b)!;
    if (ra.set !== "b" || rb.set !== "b" || ra.patientId === rb.patientId) continue;
    for (const [x, y] of [[ra, rb], [rb, ra]]) {
      const key = `${x.patientId}|${y.patientId}`;
      if (!patientPairs.has(key)) patientPairs.set(key, new Set());
      patientPairs.get(key)!.add(x.relPath);
    }
  }
  const perPatient = new Map<string, number>();
  for (const r of ok) perPatient.set(r.patientId, (perPatient.get(r.patientId) ?? 0) + 1);
  const patientCopies = [...patientPairs].map(([key, set]) => {
    const [patient, other] = key.split("|");
    return { patient, other, pairs: set.size, recordings: perPatient.get(patient) ?? 0 };
  }).sort((x, y) => (x.patient < y.patient ? -1 : x.patient > y.patient ? 1 : x.other < y.other ? -1 : 1));
  return {
    dataDir,
    files: recs.length,
    threshold,
    candidateThreshold: DEFAULT_CANDIDATE_THRESHOLD,
    candidates,
    pairs,
    groups,
    labelConflicts,
    patientCopies,
    odd: oddFiles(facts),
    unreadable,
    fingerprintHistogram,
    similarityHistogram: histogram(candidates.map((p) => p.similarity)),
    seconds: {
      read: round((t1 - t0) / 1000, 1),
      candidates: round((t2 - t1) / 1000, 1),
      exact: round((t3 - t2) / 1000, 1),
      total: round((t3 - t0) / 1000, 1),
    },
  };
}

function round(x: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

/** audit.json: pairs, groups, label conflicts and the rest of the report. */
export function auditJson(report: AuditReport): string {
  const { candidates: _candidates, ...rest } = report;
  return JSON.stringify(rest, null, 1) + "\n";
}

/** A bar of log-scaled length, so the copies' mode near 1 shows next to the bulk. */
function bar(count: number, max: number, width = 40): string {
  if (count === 0) return "";
  return "#".repeat(Math.max(1, Math.round(width * Math.log1p(count) / Math.log1p(max))));
}

function histogramTable(bins: { from: number; to: number; count: number }[], title: string): string[] {
  const max = Math.max(1, ...bins.map((b) => b.count));
  return [
    `| ${title} | pairs | (log scale) |`,
    "|---|---:|---|",
    ...bins.map((b) => `| ${b.from.toFixed(2)}–${b.to.toFixed(2)} | ${b.count} | \`${bar(b.count, max)}\` |`),
  ];
}

/** audit.md: a readable report, each finding with its evidence. */
export function auditMarkdown(report: AuditReport): string {
  const n = Object.keys(report.groups).length;
  const groupSizes = new Map<string, number>();
  for (const g of Object.values(report.groups)) groupSizes.set(g, (groupSizes.get(g) ?? 0) + 1);
  const exactBins = report.similarityHistogram.filter((b) => b.to > report.candidateThreshold - 0.2);
  const lines = [
    "# Data audit",
    "",
    `Data: \`${report.dataDir}\`, ${report.files} WAV files. Run time ${report.seconds.total} s ` +
    `(reading and preparing ${report.seconds.read} s, fingerprints of all pairs ${report.seconds.candidates} s, ` +
    `exact comparisons ${report.seconds.exact} s).`,
    "",
    "## Summary",
    "",
    `- Near-duplicate pairs (similarity ≥ ${report.threshold}): **${report.pairs.length}**`,
    `- Label conflicts (a copy with another label, similarity ≥ ${CONFLICT_THRESHOLD}): **${report.labelConflicts.length}**`,
    `- set_b patients with copies of another patient's recordings: **${
      new Set(report.patientCopies.map((p) => p.patient)).size
    }**`,
    `- Odd files: **${report.odd.length}**; unreadable: **${report.unreadable.length}**`,
    `- CV groups: **${groupSizes.size}** for ${n} files (largest ${Math.max(0, ...groupSizes.values())} files)`,
    "",
    "## Method",
    "",
    "Every file is resampled to 2 kHz and band-passed to 25–400 Hz (4th-order Butterworth), so the two",
    "datasets' sample rates (44.1 and 4 kHz), DC offsets and gains do not matter. A fingerprint, the",
    "same signal low-passed to 100 Hz at 250 Hz, is cross-correlated for every pair (FFT, normalised by",
    "the energy of the overlapping parts, overlap ≥ 2 s or 80 % of the shorter file); pairs whose",
    `fingerprints reach ${report.candidateThreshold} are compared exactly: the normalised cross-correlation of`,
    "the 2 kHz band-passed waveforms at every lag (FFT), whose maximum is the pair's **similarity** and",
    "whose lag is **lag s** (the second file starts that many seconds into the first). Waveform",
    "correlation keeps the phase, so different recordings of a similar rhythm stay low.",
    "",
    "## Similarity histogram and threshold",
    "",
    "Fingerprint correlation of all pairs:",
    "",
    ...histogramTable(report.fingerprintHistogram, "fingerprint r"),
    "",
    "Exact similarity of the candidates:",
    "",
    ...histogramTable(exactBins, "similarity"),
    "",
    `Threshold ${report.threshold}: different recordings form a bulk that falls off steeply below it`,
    "(chance alignments of short overlaps and of recordings of one session); copies form a second mode",
    "near 1. The threshold sits in the valley between them; a pair just above it is a partial copy",
    "(check its overlap), and for CV groups merging a false pair only costs some freedom in the folds.",
    "Copies between two 44.1 kHz files rarely sit a whole number of 2 kHz samples apart, so their",
    "similarity tops out near 0.97 rather than 1 (the 400 Hz edge of the band loses up to a quarter turn).",
    "",
    "## Rules",
    "",
    `- **Groups**: union-find over set_b patient ids, set_a sessions (name timestamps chained with gaps ≤ ${SESSION_GAP_MIN}`,
    "  minutes: the data README's \"minutes apart\"), and the near-duplicate pairs. A group's id is its",
    "  smallest patient id. Grouped splits keep a group in one fold, so no copy of a training recording is scored.",
    `- **Label conflicts**: a pair ≥ ${CONFLICT_THRESHOLD} (a clear copy) with two labels: both recordings are left out`,
    "  of training and scoring (neither label can be trusted). Below that, pairs only join groups: leaving",
    "  data out costs more, and the valley also holds chance alignments of very regular beats.",
    "",
  ];
  if (report.labelConflicts.length) {
    lines.push("## Label conflicts", "", "| similarity | a | label | b | label |", "|---:|---|---|---|---|");
    for (const c of report.labelConflicts) {
      lines.push(`| ${c.similarity.toFixed(4)} | \`${c.a}\` | ${c.labelA} | \`${c.b}\` | ${c.labelB} |`);
    }
    lines.push("");
  }
  if (report.patientCopies.length) {
    lines.push(
      "## set_b patients with copies of another patient's recordings",
      "",
      "| patient | recordings | copied in patient | of its recordings with a copy there |",
      "|---|---:|---|---:|",
    );
    for (const p of report.patientCopies) {
      lines.push(`| ${p.patient} | ${p.recordings} | ${p.other} | ${p.pairs} |`);
    }
    lines.push("");
  }
  lines.push(
    "## Near-duplicate pairs",
    "",
    "| similarity | lag s | overlap s | a | label a | b | label b |",
    "|---:|---:|---:|---|---|---|---|",
  );
  for (const p of report.pairs) {
    lines.push(
      `| ${p.similarity.toFixed(4)} | ${p.lagS.toFixed(3)} | ${p.overlapS.toFixed(1)} | \`${p.a}\` | ${
        p.labelA ?? "—"
      } | \`${p.b}\` | ${p.labelB ?? "—"} |`,
    );
  }
  lines.push("");
  lines.push("## Odd files", "");
  if (report.odd.length === 0 && report.unreadable.length === 0) lines.push("None.");
  else {
    lines.push("| file | finding | evidence |", "|---|---|---|");
    for (const o of report.odd) lines.push(`| \`${o.relPath}\` | ${o.kind} | ${o.detail} |`);
    for (const u of report.unreadable) lines.push(`| \`${u.relPath}\` | unreadable | ${u.error} |`);
  }
  lines.push("");
  const multi = [...groupSizes].filter(([, k]) => k > 1).sort((x, y) => y[1] - x[1]);
  lines.push("## Groups with more than one file", "", "| group | files |", "|---|---:|");
  for (const [g, k] of multi) lines.push(`| ${g} | ${k} |`);
  lines.push("");
  return lines.join("\n");
}

/** What the experiments need of an audit. */
export interface AuditGroups {
  /** Group id per relative path. */
  groups: Record<string, string>;
  /** Paths in a label conflict: left out of training and scoring. */
  conflicted: Set<string>;
}

/** The cache file of a data folder's audit: keyed by the file names, sizes and labels, and the threshold. */
export async function auditCacheFile(dataDir: string, cacheDir?: string): Promise<string> {
  const recs = listRecordings(dataDir, { includeArtifact: true, includeUnlabelled: true });
  const fingerprint = recs.map((r) => `${r.relPath}:${Deno.statSync(r.path).size}:${r.label}`).join("\n");
  const key = (await sha256Hex(`audit v3 ${DEFAULT_COPY_THRESHOLD} ${CONFLICT_THRESHOLD}\n${fingerprint}`)).slice(
    0,
    16,
  );
  return `${cacheDir ?? new URL("../.cache/audit", import.meta.url).pathname}/${key}.json`;
}

/** audit.json as read back: the report without its candidate list. */
export type SavedAudit = Omit<AuditReport, "candidates">;

/**
 * The audit of a data folder, from .cache/audit/ when the folder (file names, sizes, labels) is
 * unchanged, else by running the audit (under two minutes on the development copy) and caching
 * it; `deno task audit` fills the same cache.
 */
export async function cachedAudit(
  dataDir: string,
  options: { cacheDir?: string; progress?: boolean } = {},
): Promise<SavedAudit> {
  const file = await auditCacheFile(dataDir, options.cacheDir);
  try {
    return JSON.parse(await Deno.readTextFile(file));
  } catch {
    const report = runAudit(dataDir, { progress: options.progress });
    await Deno.mkdir(file.slice(0, file.lastIndexOf("/")), { recursive: true });
    await Deno.writeTextFile(file, auditJson(report));
    return JSON.parse(auditJson(report));
  }
}

/** The audit's groups and label conflicts for a data folder ({@linkcode cachedAudit}). */
export async function cachedAuditGroups(
  dataDir: string,
  options: { cacheDir?: string; progress?: boolean } = {},
): Promise<AuditGroups> {
  const saved = await cachedAudit(dataDir, options);
  return { groups: saved.groups, conflicted: new Set(saved.labelConflicts.flatMap((c) => [c.a, c.b])) };
}

/**
 * The recordings the experiments and training use: label conflicts left out (neither label can be
 * trusted, and a copy in another fold would score a contradiction), and `patientId`, the
 * splits' grouping key, replaced by the audit's group so that copies share a fold.
 */
export function withAuditGroups<T extends { relPath: string; patientId: string }>(
  recordings: readonly T[],
  audit: AuditGroups,
): T[] {
  return recordings
    .filter((r) => !audit.conflicted.has(r.relPath))
    .map((r) => ({ ...r, patientId: audit.groups[r.relPath] ?? r.patientId }));
}
