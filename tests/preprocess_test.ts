import assert from "node:assert/strict";
import { defaultLogmelPreprocessing, inputSize, preprocess, type Preprocessing } from "../lib/preprocess.ts";
import { melFilterBank } from "../lib/mel.ts";
import { ModelError, ParameterError } from "../lib/errors.ts";
import { gaussian, mulberry32 } from "../lib/rng.ts";
import { synthesizeHeartSound } from "../lib/synth.ts";
import { loadTf } from "../lib/tf.ts";
import { buildCnn } from "../lib/cnn.ts";
import { predictProbabilities, predictWaveform } from "../lib/model.ts";
import { aggregateProbabilities } from "../lib/probabilities.ts";
import { constantStack } from "./_stack_fixtures.ts";
import { assertAllClose, assertAlmostEquals } from "./_helpers.ts";

function tone(freqHz: number, sampleRate: number, durationS: number, amplitude = 0.5) {
  const n = Math.round(sampleRate * durationS);
  const rng = mulberry32(1);
  return {
    samples: Float32Array.from(
      { length: n },
      (_, i) => amplitude * Math.sin((2 * Math.PI * freqHz * i) / sampleRate) + 1e-3 * gaussian(rng),
    ),
    sampleRate,
  };
}

const P = defaultLogmelPreprocessing();

Deno.test("preprocess() logmel-windows: window count, shape and per-window standardisation", () => {
  // 10 s at 2 kHz, hop 80 (centred frames): 1 + 20000/80 = 251 frames. Window starts every 38
  // frames: 0, 38, 76, 114, 152 (152 + 75 ≤ 251), plus the last full window at 176.
  const out = preprocess(tone(150, 2000, 10), P);
  assert.deepEqual(out.shape, [6, 75, 16]);
  assert.equal(out.data.length, 6 * 75 * 16);
  assert.equal(inputSize(P), 75 * 16);
  for (let r = 0; r < 6; r++) {
    const w = out.data.subarray(r * 1200, (r + 1) * 1200);
    const mean = w.reduce((a, b) => a + b, 0) / w.length;
    const std = Math.sqrt(w.reduce((a, b) => a + (b - mean) ** 2, 0) / w.length);
    assertAlmostEquals(mean, 0, 1e-4);
    assertAlmostEquals(std, 1, 1e-4);
  }
});

Deno.test("preprocess() logmel-windows: a tone peaks in the mel band that holds its frequency", () => {
  const bank = melFilterBank({ sampleRate: 2000, nFft: 128, nMels: 16, fMinHz: 25, fMaxHz: 900 });
  for (const f of [125, 250, 500]) {
    const bin = Math.round((f * 128) / 2000);
    let expected = 0;
    for (let m = 1; m < 16; m++) {
      if (bank.weights[m * bank.numBins + bin] > bank.weights[expected * bank.numBins + bin]) expected = m;
    }
    const out = preprocess(tone(f, 2000, 4), P);
    const bands = new Float64Array(16);
    for (let t = 0; t < 75; t++) for (let m = 0; m < 16; m++) bands[m] += out.data[t * 16 + m];
    assert.equal(bands.indexOf(Math.max(...bands)), expected, `${f} Hz`);
  }
});

Deno.test("preprocess() logmel-windows: gain-invariant and rate-independent", () => {
  const rec = synthesizeHeartSound({ seed: 3, sampleRate: 4000, durationS: 6 });
  const wave = { samples: rec.samples, sampleRate: 4000 };
  const a = preprocess(wave, P);
  const quiet = preprocess({ samples: rec.samples.map((v) => v * 0.05), sampleRate: 4000 }, P);
  assertAllClose(quiet.data, a.data, 2e-3);
  const at8k = synthesizeHeartSound({ seed: 3, sampleRate: 8000, durationS: 6 });
  const b = preprocess({ samples: at8k.samples, sampleRate: 8000 }, P);
  assert.deepEqual(b.shape, a.shape);
});

Deno.test("preprocess() logmel-windows: a clip shorter than a window is repeated to fill one", () => {
  const out = preprocess(tone(200, 2000, 1), P); // 1 + 2000/80 = 26 frames
  assert.deepEqual(out.shape, [1, 75, 16]);
  assertAllClose(out.data.subarray(26 * 16, 52 * 16), out.data.subarray(0, 26 * 16), 1e-6);
});

Deno.test("preprocess() rejects bad audio and unknown kinds", () => {
  assert.throws(() => preprocess({ samples: new Float32Array(10), sampleRate: 2000 }, P), ParameterError);
  assert.throws(() => preprocess({ samples: new Float32Array([NaN, 1]), sampleRate: 2000 }, P), ParameterError);
  assert.throws(
    () => preprocess(tone(100, 2000, 1), { ...P, kind: "mystery" } as unknown as Preprocessing),
    ModelError,
  );
});

Deno.test("predictWaveform() averages the windows' probabilities and frees its tensors", async () => {
  const tf = await loadTf();
  const model = buildCnn(tf, [75, 16], 4, { seed: 1 });
  const loaded = { model, preprocessing: P as Preprocessing };
  const wave = tone(180, 2000, 8);
  const input = preprocess(wave, P);
  const rows = predictProbabilities(tf, model, input.data, 1200);
  const expected = aggregateProbabilities(rows, input.shape[0], 4);
  predictWaveform(tf, loaded, wave);
  const before = tf.memory().numTensors;
  const probs = predictWaveform(tf, loaded, wave);
  assert.equal(tf.memory().numTensors, before);
  assertAllClose(probs, expected, 1e-6);
  assertAlmostEquals(probs.reduce((a, b) => a + b, 0), 1, 1e-5);
  model.dispose();
});

Deno.test("predictWaveform() combines the CNN with a second stage when given one", async () => {
  const tf = await loadTf();
  const model = buildCnn(tf, [75, 16], 4, { seed: 2 });
  const loaded = { model, preprocessing: P as Preprocessing };
  const wave = tone(180, 2000, 8);
  const cnn = predictWaveform(tf, loaded, wave);
  const { trees, parameters, treeProbabilities } = constantStack();
  const probs = predictWaveform(tf, { ...loaded, stack: { trees, parameters } }, wave);
  assertAllClose(probs, Array.from(cnn, (p, c) => 0.5 * p + 0.5 * treeProbabilities[c]), 1e-6);
  model.dispose();
});

Deno.test("aggregateProbabilities() is the column mean", () => {
  assertAllClose(aggregateProbabilities(new Float32Array([1, 0, 0.5, 0.5, 0, 1]), 3, 2), [0.5, 0.5], 1e-7);
});
