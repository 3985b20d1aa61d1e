import assert from "node:assert/strict";
import {
  alignAndPad,
  bestOffset,
  bestOffsetFast,
  bestOffsetNaive,
  createAligner,
  longestReference,
  meanTemplate,
  medoidReference,
  type Sequence,
  sequenceFromFeatures,
  sequenceLength,
} from "../lib/align.ts";
import { ParameterError } from "../lib/errors.ts";
import { dominantFrequencyFeatures } from "../lib/features.ts";
import { mulberry32 } from "../lib/rng.ts";
import { readWav } from "../lib/wav.ts";
import { DATA_DIR, FIXTURES_DIR, needsData } from "./_helpers.ts";

const seq = (values: number[], channels = 1): Sequence => ({ data: Float64Array.from(values), channels });

/** Independent brute force for integer-valued data (all arithmetic exact): channel-major sums,
 * compared as squared distances, first minimum wins. */
function exactBestOffset(sequence: Sequence, reference: Sequence): number {
  const ch = reference.channels, L = sequenceLength(reference);
  const l = Math.min(sequenceLength(sequence), L);
  let best = 0, bestDistance = Infinity;
  for (let i = 0; i + l <= L; i++) {
    let distance = 0;
    for (let c = 0; c < ch; c++) {
      for (let t = 0; t < l; t++) distance += (sequence.data[t * ch + c] - reference.data[(i + t) * ch + c]) ** 2;
    }
    if (distance < bestDistance) [best, bestDistance] = [i, distance];
  }
  return best;
}

Deno.test("sequenceFromFeatures() interleaves frequency and magnitude per frame", () => {
  const s = sequenceFromFeatures(new Float32Array([100, 200, 300]), new Float32Array([1.5, 2.5, 3.5]));
  assert.equal(s.channels, 2);
  assert.deepEqual([...s.data], [100, 1.5, 200, 2.5, 300, 3.5]);
  assert.equal(sequenceLength(s), 3);
  assert.throws(() => sequenceFromFeatures(new Float32Array(2), new Float32Array(3)), ParameterError);
});

Deno.test("bestOffsetNaive() and bestOffsetFast() give hand-computed offsets", () => {
  const ref = seq([0, 0, 5, 7, 0, 1]);
  const cases: [number[], number][] = [
    [[5, 7], 2], // exact copy
    [[4, 8], 2], // nearest: (1, 1) at offset 2
    [[0, 0], 0],
    [[0, 1], 4],
    [[7, 0, 1], 3],
  ];
  for (const [values, expected] of cases) {
    assert.equal(bestOffsetNaive(seq(values), ref), expected, `naive ${values}`);
    assert.equal(bestOffsetFast(seq(values), ref), expected, `fast ${values}`);
    assert.equal(bestOffset(seq(values), ref), expected, `bestOffset ${values}`);
  }
});

Deno.test("bestOffset() finds a copied window of a random reference at its true offset", () => {
  const rng = mulberry32(11);
  const L = 3000, ch = 2;
  const ref: Sequence = { data: Float32Array.from({ length: L * ch }, () => rng() * 1000), channels: ch };
  const aligner = createAligner(ref);
  for (const [start, length] of [[0, 10], [137, 500], [1999, 1001], [2500, 499], [5, 2990]]) {
    const window: Sequence = { data: ref.data.slice(start * ch, (start + length) * ch), channels: ch };
    assert.equal(aligner.bestOffset(window), start, `window ${start}+${length}`);
    assert.equal(bestOffsetNaive(window, ref), start);
  }
});

Deno.test("bestOffsetNaive() matches an exact brute force on integer data, first minimum on ties", () => {
  const rng = mulberry32(5);
  for (let k = 0; k < 200; k++) {
    const ch = 1 + Math.floor(rng() * 3);
    const L = 1 + Math.floor(rng() * 60);
    const l = Math.floor(rng() * (L + 3));
    const ref = seq(Array.from({ length: L * ch }, () => Math.floor(rng() * 3)), ch);
    const s = seq(Array.from({ length: l * ch }, () => Math.floor(rng() * 3)), ch);
    assert.equal(bestOffsetNaive(s, ref), exactBestOffset(s, ref), `case ${k}`);
  }
});

type Generator = (rng: () => number, n: number) => number[];
const GENERATORS: Record<string, Generator> = {
  uniform: (rng, n) => Array.from({ length: n }, () => rng() * 200 - 50),
  smallIntegers: (rng, n) => Array.from({ length: n }, () => Math.floor(rng() * 3)),
  constant: (rng, n) => new Array(n).fill(Math.floor(rng() * 3)),
  zero: (_, n) => new Array(n).fill(0),
  // large common offset: ‖w‖² − 2c·w cancels catastrophically, near-ties everywhere
  largeOffset: (rng, n) => Array.from({ length: n }, () => 1e6 + rng() * 1e-3),
  spiky: (rng, n) => Array.from({ length: n }, () => (rng() < 0.05 ? rng() * 1e4 : rng())),
};

Deno.test("bestOffsetFast() equals bestOffsetNaive() on hundreds of random cases", async (t) => {
  for (const [name, generate] of Object.entries(GENERATORS)) {
    await t.step(name, () => {
      const rng = mulberry32(name.length * 1000 + 7);
      for (let k = 0; k < 80; k++) {
        const ch = 1 + Math.floor(rng() * 4);
        const L = 1 + Math.floor(rng() * 500);
        const l = Math.floor(rng() * (L + 10));
        const refKind = rng() < 0.3 ? GENERATORS.smallIntegers : GENERATORS.uniform;
        const ref = seq(name === "largeOffset" ? generate(rng, L * ch) : refKind(rng, L * ch), ch);
        const s = seq(generate(rng, l * ch), ch);
        const expected = bestOffsetNaive(s, ref);
        assert.equal(bestOffsetFast(s, ref), expected, `case ${k}: L ${L}, l ${l}, ${ch} channels`);
        const forced = 2 ** (2 + Math.floor(rng() * 10));
        assert.equal(createAligner(ref, { fftSize: forced }).bestOffset(s), expected, `case ${k}, fftSize ${forced}`);
      }
    });
  }
});

Deno.test("bestOffsetFast() resolves exact ties like the naive search", () => {
  const periodic = seq(Array.from({ length: 60 }, (_, i) => [1, 2, 3][i % 3]));
  assert.equal(bestOffsetFast(seq([1, 2, 3]), periodic), 0);
  assert.equal(bestOffsetFast(seq([2, 3, 1]), periodic), 1);
  assert.equal(bestOffsetFast(seq([3, 1, 2, 3]), periodic), 2);
  // a zero sequence ties on every zero window of the reference: the first one wins
  const silentMiddle = seq([5, 5, 0, 0, 0, 0, 0, 5, 0, 0, 0]);
  assert.equal(bestOffsetFast(seq([0, 0, 0]), silentMiddle), 2);
  assert.equal(bestOffsetNaive(seq([0, 0, 0]), silentMiddle), 2);
  // all-zero reference: every offset ties
  assert.equal(bestOffsetFast(seq([0, 0]), seq(new Array(50).fill(0))), 0);
  assert.equal(bestOffsetFast(seq([1, 1]), seq(new Array(50).fill(0))), 0);
  // symmetric: [1] is as far from 0 as from 2: offsets 0 and 1 tie, 0 wins
  assert.equal(bestOffsetFast(seq([1]), seq([0, 2])), 0);
});

Deno.test("bestOffset() sums the distance over channels", () => {
  // channel 0 alone fits best at offset 0, channel 1 alone at offset 2; channel 1 dominates
  const ref = seq([0, 0, 9, 0, 9, 100], 2); // frames (0,0) (9,0) (9,100)
  const s = seq([0, 100], 2);
  assert.equal(bestOffsetNaive(s, ref), 2);
  assert.equal(bestOffsetFast(s, ref), 2);
  assert.equal(bestOffsetFast(seq([0], 1), seq([0, 9, 9])), 0);
  assert.equal(bestOffsetFast(seq([100], 1), seq([0, 0, 100])), 2);
  // 5 channels (three channel pairs, the last one half empty)
  const rng = mulberry32(3);
  const ref5: Sequence = { data: Float64Array.from({ length: 400 * 5 }, () => rng()), channels: 5 };
  const window: Sequence = { data: ref5.data.slice(123 * 5, 223 * 5), channels: 5 };
  assert.equal(bestOffsetFast(window, ref5), 123);
});

Deno.test("bestOffset() handles equal, longer and empty sequences", () => {
  const ref = seq([1, 2, 3, 4]);
  assert.equal(bestOffsetFast(seq([9, 9, 9, 9]), ref), 0);
  assert.equal(bestOffsetFast(seq([3, 4, 5, 6, 1, 2, 3, 4]), ref), 0); // cut to [3, 4, 5, 6]
  assert.equal(bestOffsetNaive(seq([3, 4, 5, 6, 1, 2, 3, 4]), ref), 0);
  assert.equal(bestOffsetFast(seq([]), ref), 0);
  assert.equal(bestOffsetFast(seq([]), seq([])), 0);
});

Deno.test("alignAndPad() pads with zeros in each mode", () => {
  const ref = seq([0, 0, 5, 7, 0, 1]);
  const s: Sequence = { data: new Float32Array([5, 7]), channels: 1 };
  const both = alignAndPad(s, ref);
  assert.equal(both.offset, 2);
  assert.ok(both.padded.data instanceof Float32Array);
  assert.deepEqual([...both.padded.data], [0, 0, 5, 7, 0, 0]);
  const front = alignAndPad(s, ref, "front");
  assert.deepEqual([front.offset, [...front.padded.data]], [4, [0, 0, 0, 0, 5, 7]]);
  const back = alignAndPad(s, ref, "back");
  assert.deepEqual([back.offset, [...back.padded.data]], [0, [5, 7, 0, 0, 0, 0]]);
  // two channels: frames stay together
  const ref2 = seq([0, 0, 1, 1, 8, 9, 0, 0], 2);
  const padded = createAligner(ref2).alignAndPad(seq([8, 9], 2));
  assert.deepEqual([padded.offset, [...padded.padded.data], padded.padded.channels], [2, [0, 0, 0, 0, 8, 9, 0, 0], 2]);
});

Deno.test("alignAndPad() cuts a sequence longer than the reference to its first frames", () => {
  const ref = seq([1, 2, 3], 1);
  for (const mode of ["both", "front", "back"] as const) {
    const { padded, offset } = alignAndPad(seq([7, 8, 9, 10, 11]), ref, mode);
    assert.deepEqual([offset, [...padded.data]], [0, [7, 8, 9]], mode);
  }
  const same = alignAndPad(seq([4, 5, 6]), ref);
  assert.deepEqual([same.offset, [...same.padded.data]], [0, [4, 5, 6]]);
});

Deno.test("alignAndPad() and bestOffset() reject invalid input", () => {
  const ref = seq([1, 2, 3, 4], 2);
  assert.throws(() => bestOffsetFast(seq([1, 2], 1), ref), ParameterError, "Cannot align sequences");
  assert.throws(() => bestOffsetNaive(seq([1, NaN], 2), ref), /Cannot align sequences: sequence value 1 is NaN/);
  assert.throws(() => bestOffsetFast(seq([1, 2, 3], 2), ref), ParameterError);
  assert.throws(() => alignAndPad(seq([1, 2], 2), ref, "middle" as "both"), /pad mode is "middle"/);
  assert.throws(() => createAligner(ref, { fftSize: 48 }), /fftSize is 48/);
  assert.throws(() => bestOffsetFast({ data: [1, 2] as unknown as Float64Array, channels: 1 }, ref), ParameterError);
});

Deno.test("createAligner() gives naive offsets at realistic sizes (reference 14,000 frames)", () => {
  const rng = mulberry32(21);
  const L = 14000;
  // (Hz, magnitude)-like: frequencies on a bin grid, magnitudes float32, a slow rhythm
  const ref: Sequence = {
    data: Float32Array.from(
      { length: 2 * L },
      (_, k) => k % 2 ? rng() * 5 * (1 + Math.sin(k / 300)) : 125 * Math.floor(rng() * 8),
    ),
    channels: 2,
  };
  const aligner = createAligner(ref);
  for (const l of [500, 4000, 13000]) {
    const s: Sequence = {
      data: Float32Array.from({ length: 2 * l }, (_, k) => k % 2 ? rng() * 5 : 125 * Math.floor(rng() * 8)),
      channels: 2,
    };
    assert.equal(aligner.bestOffset(s), bestOffsetNaive(s, ref), `l ${l}`);
  }
});

Deno.test("longestReference() returns the first longest sequence", () => {
  const a = seq([1, 2]), b = seq([1, 2, 3]), c = seq([4, 5, 6]);
  assert.equal(longestReference([a, b, c]), b);
  assert.throws(() => longestReference([]), /Cannot choose reference: no sequences given/);
  assert.throws(() => longestReference([a, seq([1, 2], 2)]), ParameterError);
});

Deno.test("medoidReference() picks the candidate the others align to best", () => {
  const odd = seq([9, 9, 9, 9]), typical = seq([0, 1, 2, 0]);
  const others = [seq([1, 2]), seq([0, 1, 2]), seq([1, 2, 0])];
  assert.equal(medoidReference([odd, typical, ...others], { candidates: 2 }), typical);
  assert.equal(medoidReference([odd, typical, ...others], { candidates: 1 }), odd);
  // a shorter candidate can win: [1, 1, 1, 1] scores (0 + 64 + 64) / 3, [9, 9] scores (64 + 0 + 0) / 3
  const nines = seq([9, 9]);
  assert.equal(medoidReference([seq([1, 1, 1, 1]), seq([9]), nines], { candidates: 3 }), nines);
  // ties go to the longer candidate (all distances 0)
  assert.equal(medoidReference([odd, seq([9]), seq([9, 9])], { candidates: 3 }), odd);
  assert.throws(() => medoidReference([odd], { candidates: 0 }), /candidates is 0/);
});

Deno.test("meanTemplate() averages aligned sequences frame by frame", () => {
  // [4, 2] fits at offset 2 of [0, 2, 4, 0]: frames 2 and 3 become (4+4)/2, (0+2)/2
  const t = meanTemplate([seq([0, 2, 4, 0]), seq([4, 2])], { iterations: 1 });
  assert.deepEqual([...t.data], [0, 2, 4, 1]);
  // identical sequences: the template is the sequence itself
  const x = seq([3, 1, 4, 1, 5, 9], 2);
  assert.deepEqual([...meanTemplate([x, x, x]).data], [...x.data]);
  // a copied window does not change a template (average of equal frames)
  const window = seq([4, 1, 5, 9], 2);
  assert.deepEqual([...meanTemplate([x, window]).data], [...x.data]);
  assert.throws(() => meanTemplate([x], { iterations: 0 }), /iterations is 0/);
});

Deno.test("createAligner() reproduces the original's offsets for all 432 recordings", needsData("fixtures"), () => {
  const csv = Deno.readTextFileSync(`${FIXTURES_DIR}/alignment-offsets-delta0.01.csv`).trim().split("\n").slice(1);
  const rows = csv.map((line) => line.split(","));
  assert.equal(rows.length, 432);
  const sequences = rows.map(([file]) => {
    const wave = readWav(Deno.readFileSync(`${DATA_DIR}/${file}`));
    const f = dominantFrequencyFeatures(wave.samples, wave.sampleRate, 0.01);
    return sequenceFromFeatures(f.frequencyHz, f.magnitude);
  });
  const reference = longestReference(sequences);
  assert.equal(rows[sequences.indexOf(reference)][0], "set_b/normal_noisynormal_258_1309352253234_A.wav");
  assert.equal(sequenceLength(reference), 13934);
  const aligner = createAligner(reference);
  const wrong = rows.filter(([file, , length, offset], i) => {
    assert.equal(sequenceLength(sequences[i]), Number(length), file);
    return aligner.bestOffset(sequences[i]) !== Number(offset);
  });
  assert.deepEqual(wrong.map(([file]) => file), []);
  // the naive search agrees on a few of them
  for (const i of [1, 100, 250, 431]) assert.equal(bestOffsetNaive(sequences[i], reference), Number(rows[i][3]));
});
