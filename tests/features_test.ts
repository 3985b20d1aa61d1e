import assert from "node:assert/strict";
import { dominantFrequencyFeatures, frameFeaturesFromSpectrogram, nFftForDelta } from "../lib/features.ts";
import { type Spectrogram, stft } from "../lib/stft.ts";
import { mulberry32 } from "../lib/rng.ts";
import { readWav } from "../lib/wav.ts";
import { ParameterError } from "../lib/errors.ts";
import { assertAllClose, assertAlmostEquals, DATA_DIR, FIXTURES_DIR, needsData } from "./_helpers.ts";

Deno.test("nFftForDelta() is 2^floor(log2(int(delta · rate)))", () => {
  assert.equal(nFftForDelta(4000, 0.01), 32); // 40
  assert.equal(nFftForDelta(44100, 0.01), 256); // 441
  assert.equal(nFftForDelta(4000, 0.001), 4); // 4
  assert.equal(nFftForDelta(44100, 0.001), 32); // 44
  assert.equal(nFftForDelta(2000, 0.016), 32); // exactly 32
  assert.throws(() => nFftForDelta(4000, 0.0005), ParameterError); // 2 samples
});

/** A spectrogram with the given rows (bins per frame), at 8 Hz per bin. */
function specOf(rows: number[][]): Spectrogram {
  const numBins = rows[0].length;
  return {
    data: Float32Array.from(rows.flat()),
    numFrames: rows.length,
    numBins,
    nFft: 2 * (numBins - 1),
    hopLength: 1,
    sampleRate: 16 * (numBins - 1), // binHz = sampleRate / nFft = 8
  };
}

Deno.test("frameFeaturesFromSpectrogram() gives known answers for each method", () => {
  const spec = specOf([[1, 0, 3, 0, 0], [0, 0, 0, 0, 0], [2, 5, 5, 1, 1], [0, 0, 0, 0, 4]]);
  const dominant = frameFeaturesFromSpectrogram(spec, "dominant");
  assert.deepEqual([...dominant.frequencyHz], [16, 0, 8, 32]); // ties → first bin; silence → 0 Hz
  assert.deepEqual([...dominant.magnitude], [3, 0, 5, 4]);
  const average = frameFeaturesFromSpectrogram(spec, "average");
  // Centroid Σ f·|X| / Σ |X| with f = 0, 8, 16, 24, 32 Hz; mean magnitude over the 5 bins.
  assertAllClose(average.frequencyHz, [(16 * 3) / 4, 0, (8 * 5 + 16 * 5 + 24 + 32) / 14, 32], 1e-5);
  assertAllClose(average.magnitude, [4 / 5, 0, 14 / 5, 4 / 5], 1e-6);
  const median = frameFeaturesFromSpectrogram(spec, "median");
  // First bin where the cumulative magnitude reaches half the total; median of the bin magnitudes.
  assert.deepEqual([...median.frequencyHz], [16, 0, 8, 32]);
  assert.deepEqual([...median.magnitude], [0, 0, 2, 0]);
  const even = frameFeaturesFromSpectrogram(
    { ...specOf([[1, 2, 3]]), numBins: 2, data: new Float32Array([1, 4]) },
    "median",
  );
  assert.deepEqual([...even.magnitude], [2.5]); // mean of the two middle values
  assert.throws(
    () => frameFeaturesFromSpectrogram(spec, "mode" as "dominant"),
    (e: unknown) => e instanceof ParameterError && e.message.includes('method is "mode"'),
  );
});

Deno.test("dominantFrequencyFeatures() finds a bin-centred tone and reports the framing", () => {
  const sampleRate = 4000, nFft = 32;
  const f = 5 * sampleRate / nFft; // bin 5 = 625 Hz
  const samples = Float32Array.from({ length: sampleRate }, (_, i) => 0.5 * Math.sin(2 * Math.PI * f * i / sampleRate));
  const features = dominantFrequencyFeatures(samples, sampleRate, 0.01);
  assert.equal(features.nFft, nFft);
  assert.equal(features.hopLength, 8);
  assert.equal(features.frequencyHz.length, 1 + Math.floor(sampleRate / 8));
  for (let t = 4; t < features.frequencyHz.length - 4; t++) {
    assert.equal(features.frequencyHz[t], f);
    assertAlmostEquals(features.magnitude[t], 0.5 * nFft / 4, 1e-4);
  }
});

Deno.test("dominantFrequencyFeatures() equals the argmax of the materialised spectrogram bit for bit", () => {
  const rng = mulberry32(11);
  const signals: [string, Float32Array, number][] = [
    ["noise 4 kHz", Float32Array.from({ length: 4000 }, () => 2 * rng() - 1), 4000],
    ["noise 44.1 kHz", Float32Array.from({ length: 44100 }, () => 2 * rng() - 1), 44100],
    ["silence", new Float32Array(1000), 4000],
    ["constant", new Float32Array(1000).fill(0.25), 4000],
    [
      "16-bit quantised tones",
      Float32Array.from({ length: 8000 }, (_, i) => Math.round(8000 * Math.sin(i) + 3000 * Math.sin(3 * i)) / 32768),
      4000,
    ],
    [
      "two equal tones",
      Float32Array.from({ length: 4000 }, (_, i) => Math.cos(Math.PI * i / 4) + Math.cos(Math.PI * i / 2)),
      4000,
    ],
    ["near the float32 normal limit", Float32Array.from({ length: 4000 }, () => (2 * rng() - 1) * 1e-37), 4000],
    ["subnormal float32", Float32Array.from({ length: 4000 }, () => (2 * rng() - 1) * 1e-42), 4000],
  ];
  for (const [name, samples, sampleRate] of signals) {
    for (const delta of [0.01, 0.001]) {
      const fused = dominantFrequencyFeatures(samples, sampleRate, delta);
      const spec = stft({ samples, sampleRate }, { nFft: fused.nFft, hopLength: fused.hopLength, complex64: true });
      const plain = frameFeaturesFromSpectrogram(spec, "dominant");
      assert.deepEqual(fused.frequencyHz, plain.frequencyHz, `${name}, delta ${delta}`);
      assert.deepEqual(fused.magnitude, plain.magnitude, `${name}, delta ${delta}`);
    }
  }
});

Deno.test("dominantFrequencyFeatures() rejects non-finite samples wherever they are", () => {
  for (const method of ["dominant", "average"] as const) {
    for (const at of [0, 1, 17, 500, 998, 999]) {
      for (const bad of [NaN, Infinity, -Infinity]) {
        const samples = new Float32Array(1000).fill(0.1);
        samples[at] = bad;
        assert.throws(
          () => dominantFrequencyFeatures(samples, 4000, 0.01, method),
          (e: unknown) => e instanceof ParameterError && e.message === `Cannot compute STFT: sample ${at} is ${bad}`,
          `${method}, ${bad} at ${at}`,
        );
      }
    }
  }
  const huge = new Float32Array(64).fill(3.4e38); // finite extremes are fine
  assert.equal(dominantFrequencyFeatures(huge, 4000, 0.01).frequencyHz[4], 0);
  assert.throws(() => dominantFrequencyFeatures(new Float32Array(0), 4000, 0.01), ParameterError);
  assert.throws(() => dominantFrequencyFeatures(new Float32Array(10), NaN, 0.01), ParameterError);
});

interface Fixture {
  file: string;
  sampleRate: number;
  deltaTimeS: number;
  nFft: number;
  hop: number;
  frames: number;
  frequencyHz: number[];
  magnitude: number[];
}

for (const dir of ["features", "near-ties"]) {
  Deno.test({
    name: `dominantFrequencyFeatures() reproduces the original Python's golden features bit for bit (${dir}/)`,
    ...needsData("fixtures"),
    fn: async (t) => {
      const index: { fixture: string; file: string; frames: number; nearTieFrames?: number[] }[] = JSON.parse(
        await Deno.readTextFile(`${FIXTURES_DIR}/${dir}/index.json`),
      );
      assert.ok(index.length >= 5);
      for (const entry of index) {
        await t.step(entry.fixture, async () => {
          const fixture: Fixture = JSON.parse(await Deno.readTextFile(`${FIXTURES_DIR}/${entry.fixture}`));
          const wav = readWav(await Deno.readFile(`${DATA_DIR}/${fixture.file}`));
          assert.equal(wav.sampleRate, fixture.sampleRate);
          const ours = dominantFrequencyFeatures(wav.samples, wav.sampleRate, fixture.deltaTimeS);
          assert.equal(ours.nFft, fixture.nFft);
          assert.equal(ours.hopLength, fixture.hop);
          assert.equal(ours.frequencyHz.length, fixture.frames);
          for (const frame of entry.nearTieFrames ?? []) {
            assert.equal(ours.frequencyHz[frame], fixture.frequencyHz[frame], `near-tie frame ${frame}`);
          }
          assert.deepEqual([...ours.frequencyHz], fixture.frequencyHz);
          assert.deepEqual([...ours.magnitude], fixture.magnitude.map(Math.fround)); // the JSON holds float32 values
        });
      }
    },
  });
}
