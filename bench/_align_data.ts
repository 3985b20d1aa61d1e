/**
 * Shared by the alignment benchmarks: the 432 labelled development recordings listed in the
 * original's golden offsets, read at their native rate and reduced to (Hz, magnitude) sequences.
 * @module
 */
import { readWav } from "../lib/wav.ts";
import { dominantFrequencyFeatures } from "../lib/features.ts";
import { type Sequence, sequenceFromFeatures } from "../lib/align.ts";
import { findDataDir } from "../lib/data.ts";

/** The real data by lib/data.ts findDataDir's rule (HEARTBEAT_DATA, else data/); "" when absent. */
export const DATA_DIR: string = findDataDir() ?? "";
/** The original project's golden outputs. */
export const GOLDEN_OFFSETS_CSV: string = new URL(
  "../../shared/fixtures/seed-reference/alignment-offsets-delta0.01.csv",
  import.meta.url,
).pathname;

/** One row of the golden CSV: file under DATA_DIR, label, frames at delta 0.01, original offset. */
export interface GoldenRow {
  file: string;
  label: string;
  sequenceLength: number;
  offset: number;
}

/** Reads the original's offsets (432 rows, the reference first). */
export function readGoldenOffsets(path = GOLDEN_OFFSETS_CSV): GoldenRow[] {
  const lines = Deno.readTextFileSync(path).trim().split("\n").slice(1);
  return lines.map((line) => {
    const [file, label, n, offset] = line.split(",");
    return { file, label, sequenceLength: Number(n), offset: Number(offset) };
  });
}

/** The original's feature sequence of one file at `deltaTimeS` (native sample rate). */
export function featureSequence(file: string, deltaTimeS: number, dataDir = DATA_DIR): Sequence {
  const wave = readWav(Deno.readFileSync(`${dataDir}/${file}`));
  const f = dominantFrequencyFeatures(wave.samples, wave.sampleRate, deltaTimeS);
  return sequenceFromFeatures(f.frequencyHz, f.magnitude);
}
