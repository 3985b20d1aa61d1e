/**
 * Naive vs fast alignment search at realistic sizes: a 14,000-frame reference of (Hz, magnitude)
 * pairs (like the "small" setting's 13,934) and sequences of 500 … 13,000 frames, seeded
 * synthetic data. `fast (aligner)` reuses one {@linkcode createAligner} (the dataset case),
 * `fast (one-shot)` prepares the reference for every call. Each group's baseline is the naive
 * search, so `deno bench` prints the ratios measured side by side.
 *
 * Usage: deno bench -A bench/align_bench.ts
 * @module
 */
import { bestOffsetFast, bestOffsetNaive, createAligner, type Sequence } from "../lib/align.ts";
import { mulberry32 } from "../lib/rng.ts";

const REFERENCE_FRAMES = 14_000;
const LENGTHS = [500, 2_000, 7_000, 13_000];

/** Dominant-frequency-like frames: Hz on a 125 Hz bin grid, float32 magnitudes with a slow beat. */
function synthetic(frames: number, rng: () => number): Sequence {
  const data = new Float32Array(2 * frames);
  for (let t = 0; t < frames; t++) {
    const beat = 1 + Math.sin((2 * Math.PI * t) / 120);
    data[2 * t] = 125 * Math.floor(rng() * 4 * beat);
    data[2 * t + 1] = rng() * 3 * beat;
  }
  return { data, channels: 2 };
}

const rng = mulberry32(2024);
const reference = synthetic(REFERENCE_FRAMES, rng);
const aligner = createAligner(reference);
for (const length of LENGTHS) {
  const sequence = synthetic(length, rng);
  const expected = bestOffsetNaive(sequence, reference);
  const check = (offset: number) => {
    if (offset !== expected) throw new Error(`fast offset ${offset} differs from naive ${expected}`);
  };
  const group = `l=${length}`;
  Deno.bench({
    name: `naive, reference ${REFERENCE_FRAMES}, sequence ${length}`,
    group,
    baseline: true,
    n: 5,
    warmup: 1,
    fn: () => check(bestOffsetNaive(sequence, reference)),
  });
  Deno.bench({
    name: `fast (aligner), sequence ${length}`,
    group,
    fn: () => check(aligner.bestOffset(sequence)),
  });
  Deno.bench({
    name: `fast (one-shot), sequence ${length}`,
    group,
    fn: () => check(bestOffsetFast(sequence, reference)),
  });
}
