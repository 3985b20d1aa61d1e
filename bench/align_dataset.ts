/**
 * Aligns the whole development set (the 432 labelled recordings of the original's golden
 * offsets) at both of the original's settings, naive and fast side by side in one run:
 * - "small": delta 0.01 s, reference 13,934 frames; offsets checked against the original's CSV
 *   and against the naive search (run in full).
 * - "main": delta 0.001 s, reference ~111,500 frames; the naive search takes many minutes, so by
 *   default it runs on a seeded random subset of files and its full time is extrapolated from
 *   its cost per frame pair (Σ (L − l + 1)·l over all files); `--full-naive` runs it on all.
 * Features are extracted first and not timed with the alignment. The reference is the longest
 * sequence, as in the original. Wall time (performance.now) and this process's CPU time are
 * both reported, since the machine is shared.
 *
 * Usage: deno run -A bench/align_dataset.ts [--setting=small|main|both] [--naive-subset=24]
 *   [--full-naive] [--repeats=3]
 * @module
 */
import process from "node:process";
import { bestOffsetNaive, createAligner, longestReference, type Sequence, sequenceLength } from "../lib/align.ts";
import { mulberry32, shuffleInPlace } from "../lib/rng.ts";
import { featureSequence, readGoldenOffsets } from "./_align_data.ts";

interface Timing {
  wallMs: number;
  cpuMs: number;
}

function timed<T>(fn: () => T): [T, Timing] {
  const wall0 = performance.now(), cpu0 = process.cpuUsage();
  const value = fn();
  const cpu = process.cpuUsage(cpu0);
  return [value, { wallMs: performance.now() - wall0, cpuMs: (cpu.user + cpu.system) / 1000 }];
}

const fmt = (ms: number) => ms >= 10_000 ? `${(ms / 1000).toFixed(1)} s` : `${ms.toFixed(0)} ms`;

function framePairs(sequence: Sequence, reference: Sequence): number {
  const L = sequenceLength(reference), l = Math.min(sequenceLength(sequence), L);
  return l === L || l === 0 ? 0 : (L - l + 1) * l;
}

function main(args: string[]): void {
  const option = (name: string, fallback: string) =>
    args.find((a) => a.startsWith(`--${name}=`))?.split("=")[1] ?? fallback;
  const setting = option("setting", "both");
  const subsetSize = Number(option("naive-subset", "24"));
  const repeats = Number(option("repeats", "3"));
  const fullNaive = args.includes("--full-naive");
  const rows = readGoldenOffsets();
  console.log(`deno run -A bench/align_dataset.ts ${args.join(" ")}`.trim());
  console.log(`${rows.length} recordings, Deno ${Deno.version.deno}, ${navigator.hardwareConcurrency} CPUs`);

  for (const [name, delta] of [["small", 0.01], ["main", 0.001]] as const) {
    if (setting !== "both" && setting !== name) continue;
    const [sequences, extraction] = timed(() => rows.map((r) => featureSequence(r.file, delta)));
    const reference = longestReference(sequences);
    const L = sequenceLength(reference);
    console.log(
      `\n## ${name} (delta ${delta} s): reference ${rows[sequences.indexOf(reference)].file}, ${L} frames` +
        ` (feature extraction, not counted: ${fmt(extraction.wallMs)})`,
    );

    // Fast: a fresh aligner each repeat (reference preparation included); first = cold JIT.
    const fastRuns: Timing[] = [];
    let offsets: number[] = [], candidates = 0;
    for (let r = 0; r < repeats; r++) {
      const [result, t] = timed(() => {
        const aligner = createAligner(reference);
        return sequences.map((s) => aligner.search(s));
      });
      offsets = result.map((x) => x.offset);
      candidates = result.reduce((sum, x) => sum + x.candidates, 0);
      fastRuns.push(t);
    }
    const fastBest = fastRuns.reduce((a, b) => (a.wallMs <= b.wallMs ? a : b));
    console.log(
      `fast (createAligner + ${sequences.length} searches), ${repeats} runs (first = cold JIT): ` +
        fastRuns.map((t) => `${fmt(t.wallMs)} wall / ${fmt(t.cpuMs)} CPU`).join(", ") +
        `; best ${fmt(fastBest.wallMs)} wall; ${candidates} offsets re-checked exactly in all`,
    );
    if (delta === 0.01) {
      const wrong = rows.filter((r, i) => offsets[i] !== r.offset).length;
      console.log(`offsets equal to the original's CSV: ${rows.length - wrong}/${rows.length}`);
    }

    // Naive: all files, or a seeded random subset extrapolated per frame pair.
    const all = sequences.map((_, i) => i);
    const subset = fullNaive || name === "small"
      ? all
      : shuffleInPlace(all.slice(), mulberry32(2024)).slice(0, subsetSize).sort((a, b) => a - b);
    const [naiveOffsets, naive] = timed(() => subset.map((i) => bestOffsetNaive(sequences[i], reference)));
    const mismatches = subset.filter((i, k) => naiveOffsets[k] !== offsets[i]).length;
    const pairsSubset = subset.reduce((sum, i) => sum + framePairs(sequences[i], reference), 0);
    const pairsAll = all.reduce((sum, i) => sum + framePairs(sequences[i], reference), 0);
    const scale = subset.length === all.length ? 1 : pairsAll / pairsSubset;
    const naiveWall = naive.wallMs * scale, naiveCpu = naive.cpuMs * scale;
    console.log(
      `naive on ${subset.length} files (${(pairsSubset / 1e9).toFixed(2)}e9 frame pairs): ` +
        `${fmt(naive.wallMs)} wall / ${fmt(naive.cpuMs)} CPU; fast offsets equal: ${
          subset.length - mismatches
        }/${subset.length}`,
    );
    if (scale !== 1) {
      console.log(
        `naive extrapolated to all ${all.length} files (${(pairsAll / 1e9).toFixed(2)}e9 frame pairs, ` +
          `× ${scale.toFixed(2)}): ${fmt(naiveWall)} wall / ${fmt(naiveCpu)} CPU`,
      );
    }
    console.log(
      `ratio naive / fast (best fast run): ${(naiveWall / fastBest.wallMs).toFixed(0)}× wall, ` +
        `${(naiveCpu / fastBest.cpuMs).toFixed(0)}× CPU${scale !== 1 ? " (naive extrapolated)" : ""}`,
    );
  }
}

if (import.meta.main) main(Deno.args);
