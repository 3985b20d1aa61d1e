import assert from "node:assert/strict";
import { hzToMel, logMelSpectrogram, melFilterBank, melSpectrogram, melToHz, mfcc, powerToDb } from "../lib/mel.ts";
import { type Spectrogram, stft } from "../lib/stft.ts";
import { mulberry32 } from "../lib/rng.ts";
import { ParameterError } from "../lib/errors.ts";
import { assertAllClose, assertAlmostEquals } from "./_helpers.ts";

Deno.test("hzToMel() and melToHz() give librosa's documented values and invert each other", () => {
  // librosa docs: hz_to_mel(60) = 0.9; hz_to_mel([110, 220, 440]) = [1.65, 3.3, 6.6]. HTK: 1000 Hz ≈ 1000 mel.
  assertAlmostEquals(hzToMel(60), 0.9, 1e-12);
  assertAllClose([110, 220, 440].map((f) => hzToMel(f)), [1.65, 3.3, 6.6], 1e-12);
  assertAlmostEquals(hzToMel(1000, true), 999.9855, 1e-4);
  assertAlmostEquals(hzToMel(1000), 15, 1e-12);
  // Above 1 kHz: 27 mel per factor 6.4.
  assertAlmostEquals(hzToMel(6400) - hzToMel(1000), 27, 1e-12);
  for (const htk of [false, true]) {
    for (const f of [0, 25, 999.9, 1000, 1000.1, 4000, 22050]) {
      assertAlmostEquals(melToHz(hzToMel(f, htk), htk), f, 1e-9);
    }
  }
});

/** librosa.filters.mel written the slow way, straight from its definition (outer differences). */
function slowMelBank(sr: number, nFft: number, nMels: number, fMin: number, fMax: number, htk: boolean): number[][] {
  const melPoints = Array.from(
    { length: nMels + 2 },
    (_, i) => melToHz(hzToMel(fMin, htk) + i * (hzToMel(fMax, htk) - hzToMel(fMin, htk)) / (nMels + 1), htk),
  );
  const freqs = Array.from({ length: nFft / 2 + 1 }, (_, k) => k * sr / nFft);
  return Array.from({ length: nMels }, (_, i) =>
    freqs.map((f) => {
      const lower = -(melPoints[i] - f) / (melPoints[i + 1] - melPoints[i]);
      const upper = (melPoints[i + 2] - f) / (melPoints[i + 2] - melPoints[i + 1]);
      return Math.max(0, Math.min(lower, upper)) * 2 / (melPoints[i + 2] - melPoints[i]);
    }));
}

Deno.test("melFilterBank() matches a direct evaluation of librosa's definition", () => {
  for (
    const [sr, nFft, nMels, fMin, fMax, htk] of [[4000, 512, 40, 0, 2000, false], [44100, 2048, 64, 25, 8000, true], [
      2000,
      256,
      13,
      20,
      1000,
      false,
    ]] as const
  ) {
    const bank = melFilterBank({ sampleRate: sr, nFft, nMels, fMinHz: fMin, fMaxHz: fMax, htk });
    const slow = slowMelBank(sr, nFft, nMels, fMin, fMax, htk);
    assertAllClose(bank.weights, slow.flat(), 1e-9, 1e-6);
    for (let m = 0; m < nMels; m++) {
      for (let k = 0; k < bank.numBins; k++) {
        const inside = k >= bank.firstBin[m] && k < bank.lastBin[m];
        if (!inside) assert.equal(bank.weights[m * bank.numBins + k], 0);
      }
    }
  }
});

Deno.test("melFilterBank() has unit-area (slaney) or partition-of-unity (none) triangles", () => {
  const sr = 4000, nFft = 4096, binHz = sr / nFft;
  const slaney = melFilterBank({ sampleRate: sr, nFft, nMels: 20 });
  for (let m = 0; m < 20; m++) {
    let area = 0;
    for (let k = 0; k < slaney.numBins; k++) area += slaney.weights[m * slaney.numBins + k] * binHz;
    assertAlmostEquals(area, 1, 0.01, `band ${m}`);
  }
  const plain = melFilterBank({ sampleRate: sr, nFft, nMels: 20, norm: "none" });
  // Between the first and last centre, neighbouring triangles sum to 1.
  for (let k = 0; k < plain.numBins; k++) {
    const f = k * binHz;
    if (f < plain.edgesHz[1] || f > plain.edgesHz[20]) continue;
    let sum = 0;
    for (let m = 0; m < 20; m++) sum += plain.weights[m * plain.numBins + k];
    assertAlmostEquals(sum, 1, 1e-5, `bin ${k}`);
  }
});

function randomSpectrogram(seed: number, numFrames: number, nFft: number, sampleRate: number): Spectrogram {
  const rng = mulberry32(seed);
  const numBins = nFft / 2 + 1;
  return {
    data: Float32Array.from({ length: numFrames * numBins }, () => rng()),
    numFrames,
    numBins,
    nFft,
    hopLength: nFft / 4,
    sampleRate,
  };
}

Deno.test("melSpectrogram() is the filter bank times |S|^power, frame by frame", () => {
  const spec = randomSpectrogram(3, 7, 256, 4000);
  const slow = slowMelBank(4000, 256, 24, 0, 2000, false);
  for (const power of [1, 2, 1.5]) {
    const mel = melSpectrogram(spec, { nMels: 24, power });
    assert.equal(mel.data.length, 7 * 24);
    const expected: number[] = [];
    for (let t = 0; t < 7; t++) {
      for (let m = 0; m < 24; m++) {
        let acc = 0;
        for (let k = 0; k < spec.numBins; k++) acc += slow[m][k] * spec.data[t * spec.numBins + k] ** power;
        expected.push(acc);
      }
    }
    assertAllClose(mel.data, expected, 1e-9, 1e-5);
  }
});

Deno.test("melSpectrogram() puts a tone in the band centred on it", () => {
  const sr = 4000;
  const bank = melFilterBank({ sampleRate: sr, nFft: 1024, nMels: 30 });
  for (const m of [3, 12, 25]) {
    const f = bank.edgesHz[m + 1];
    const samples = Float32Array.from({ length: sr }, (_, i) => Math.sin(2 * Math.PI * f * i / sr));
    const mel = melSpectrogram(stft({ samples, sampleRate: sr }, { nFft: 1024 }), { filterBank: bank });
    const t = Math.floor(mel.numFrames / 2);
    const row = Array.from(mel.data.subarray(t * 30, t * 30 + 30));
    assert.equal(row.indexOf(Math.max(...row)), m, `tone at ${f} Hz`);
  }
});

Deno.test("powerToDb() and logMelSpectrogram() follow librosa power_to_db", () => {
  assertAllClose(powerToDb(new Float32Array([1, 10, 1e-3, 0, 1e-12])), [0, 10, -30, -100, -100], 1e-5);
  assertAllClose(powerToDb(new Float32Array([1, 10, 1e-3]), { ref: 10 }), [-10, 0, -40], 1e-5);
  assertAllClose(powerToDb(new Float32Array([1, 10, 1e-3]), { topDb: 20 }), [0, 10, -10], 1e-5);
  const spec = randomSpectrogram(4, 3, 128, 2000);
  const mel = melSpectrogram(spec, { nMels: 10 });
  const logMel = logMelSpectrogram(spec, { nMels: 10 });
  assertAllClose(logMel.data, Array.from(mel.data, (x) => 10 * Math.log10(Math.max(x, 1e-10))), 1e-4);
  assert.deepEqual(logMelSpectrogram(mel).data, logMel.data);
  assert.throws(() => powerToDb(new Float32Array(1), { amin: 0 }), ParameterError);
});

Deno.test("mfcc() is an orthonormal DCT-II of each frame", () => {
  const rng = mulberry32(9);
  const nMels = 16, numFrames = 5;
  const logMel = {
    data: Float32Array.from({ length: numFrames * nMels }, () => 20 * rng() - 60),
    numFrames,
    nMels,
    sampleRate: 4000,
    hopLength: 128,
    nFft: 512,
    power: 2,
  };
  const full = mfcc(logMel, { nMfcc: nMels });
  for (let t = 0; t < numFrames; t++) {
    const x = Array.from(logMel.data.subarray(t * nMels, (t + 1) * nMels));
    // Direct definition (scipy.fft.dct(x, type=2, norm="ortho")).
    const expected = x.map((_, k) =>
      Math.sqrt((k === 0 ? 1 : 2) / nMels) *
      x.reduce((acc, v, m) => acc + v * Math.cos(Math.PI * k * (2 * m + 1) / (2 * nMels)), 0)
    );
    const c = full.data.subarray(t * nMels, (t + 1) * nMels);
    assertAllClose(c, expected, 1e-3);
    // Orthonormal: energy is preserved.
    assertAlmostEquals(c.reduce((a, v) => a + v * v, 0), x.reduce((a, v) => a + v * v, 0), 1e-1);
  }
  const short = mfcc(logMel); // default 13 coefficients: the first 13 of the full transform
  assert.equal(short.nMfcc, 13);
  assertAllClose(short.data.subarray(0, 13), full.data.subarray(0, 13), 0);
  assert.throws(() => mfcc(logMel, { nMfcc: 17 }), ParameterError);
});
