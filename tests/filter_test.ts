import assert from "node:assert/strict";
import { bandpass, butterworthSos, sosFilter, sosFiltFilt } from "../lib/filter.ts";
import { ParameterError } from "../lib/errors.ts";
import { assertAllClose } from "./_helpers.ts";

// Reference coefficients from scipy 1.17.1:
//   butter(order, [lowHz, highHz], "bandpass" | "lowpass" | "highpass", fs=sampleRate, output="sos")
const SCIPY_SOS: [number, number, number, number, number[]][] = [
  [4, 25, 400, 4000, [
    0.00386951831852065,
    0.00773903663704131,
    0.00386951831852065,
    1,
    -1.1373944690867805,
    0.34806631253932974,
    1,
    2,
    1,
    1,
    -1.357182574827866,
    0.6673514474605027,
    1,
    -2,
    1,
    1,
    -1.9222078579516877,
    0.9240552662938166,
    1,
    -2,
    1,
    1,
    -1.9714420427458417,
    0.9730079650454904,
  ]],
  [2, 25, 400, 4000, [
    0.06049850763094058,
    0.12099701526188116,
    0.06049850763094058,
    1,
    -1.208239437860718,
    0.4603758117411339,
    1,
    -2,
    1,
    1,
    -1.9451741544348085,
    0.9468512183464763,
  ]],
  [3, 100, 1000, 44100, [ // a wide band: the prototype's real pole becomes two real poles
    2.3276688049856178e-04,
    4.6553376099712357e-04,
    2.3276688049856178e-04,
    1,
    -1.8730628941197083,
    8.9085248350303781e-01,
    1,
    0,
    -1,
    1,
    -1.8774324579241126,
    8.7934222583422905e-01,
    1,
    -2,
    1,
    1,
    -1.9873847327476528,
    9.8760207316885784e-01,
  ]],
  [3, 0, 100, 4000, [ // low-pass
    0.0004165461390757476,
    0.0008330922781514952,
    0.0004165461390757476,
    1,
    -0.8540806854634666,
    0,
    1,
    1,
    0,
    1,
    -1.8320767110846765,
    0.8549137777416177,
  ]],
  [2, 25, Infinity, 4000, [ // high-pass
    0.9726138984998438,
    -1.9452277969996876,
    0.9726138984998438,
    1,
    -1.9444776577670935,
    0.9459779362322813,
  ]],
];

/** |H(e^{iω})| of a cascade at frequency f, computed directly from the coefficients. */
function gainDb(sos: Float64Array, freqHz: number, sampleRate: number): number {
  const w = 2 * Math.PI * freqHz / sampleRate;
  let g = 1;
  for (let s = 0; s < sos.length; s += 6) {
    const evalPoly = (c0: number, c1: number, c2: number) => {
      const re = c0 + c1 * Math.cos(w) + c2 * Math.cos(2 * w);
      const im = -c1 * Math.sin(w) - c2 * Math.sin(2 * w);
      return Math.hypot(re, im);
    };
    g *= evalPoly(sos[s], sos[s + 1], sos[s + 2]) / evalPoly(sos[s + 3], sos[s + 4], sos[s + 5]);
  }
  return 20 * Math.log10(g);
}

function tone(freqHz: number, sampleRate: number, length: number): Float32Array {
  return Float32Array.from({ length }, (_, i) => Math.sin(2 * Math.PI * freqHz * i / sampleRate));
}

function rms(y: Float32Array, from: number, to: number): number {
  let s = 0;
  for (let i = from; i < to; i++) s += y[i] * y[i];
  return Math.sqrt(s / (to - from));
}

Deno.test("butterworthSos() matches scipy's butter(output='sos') coefficient for coefficient", () => {
  for (const [order, low, high, fs, expected] of SCIPY_SOS) {
    assertAllClose(butterworthSos(order, low, high, fs), expected, 1e-14, 1e-12);
  }
});

Deno.test("butterworthSos() has −3 dB edges, a 0 dB pass band and 24 dB/octave stop bands (order 4)", () => {
  const sos = butterworthSos(4, 25, 400, 4000);
  assert.ok(Math.abs(gainDb(sos, 25, 4000) + 3.0103) < 0.01);
  assert.ok(Math.abs(gainDb(sos, 400, 4000) + 3.0103) < 0.01);
  assert.ok(Math.abs(gainDb(sos, 100, 4000)) < 0.01); // geometric centre
  assert.ok(gainDb(sos, 5, 4000) < -50, `5 Hz: ${gainDb(sos, 5, 4000)}`);
  assert.ok(gainDb(sos, 1600, 4000) < -45, `1600 Hz: ${gainDb(sos, 1600, 4000)}`);
});

Deno.test("sosFilter() measures the designed response on tones", () => {
  const fs = 4000;
  const sos = butterworthSos(4, 25, 400, fs);
  for (const f of [10, 100, 250, 1000]) {
    const y = sosFilter(tone(f, fs, 4 * fs), sos);
    const measured = 20 * Math.log10(rms(y, 2 * fs, 4 * fs) / Math.SQRT1_2);
    assert.ok(Math.abs(measured - gainDb(sos, f, fs)) < 0.05, `${f} Hz: ${measured} vs ${gainDb(sos, f, fs)}`);
  }
});

// scipy 1.17.1 on x[n] = float32(sin(0.05n) + 0.5·sin(1.3n) + (n mod 7)/7), n < 400.
const PROBE = Float32Array.from({ length: 400 }, (_, n) => Math.sin(0.05 * n) + 0.5 * Math.sin(1.3 * n) + (n % 7) / 7);
const PROBE_AT = [0, 1, 2, 50, 133, 200, 321, 398, 399];

Deno.test("sosFilter() and sosFiltFilt() match scipy's sosfilt and sosfiltfilt", () => {
  const sos = butterworthSos(4, 25, 400, 4000);
  const causal = sosFilter(PROBE, sos);
  assertAllClose(PROBE_AT.map((i) => causal[i]), [
    0.0,
    0.0026104365830477635,
    0.019165316211839395,
    -0.5680117907272344,
    0.335369702724335,
    -0.2777093854451214,
    -0.6082666796103973,
    -0.1588322875253103,
    -0.20516998940990228,
  ], 1e-6);
  const zeroPhase = sosFiltFilt(PROBE, sos);
  assertAllClose(PROBE_AT.map((i) => zeroPhase[i]), [
    0.023970023943265306,
    0.2336236216911146,
    0.4163117679727113,
    0.4226410237194247,
    0.3546197527116579,
    -0.4619886747450441,
    -0.2361299100977099,
    0.47582850448502023,
    0.2044735533261739,
  ], 1e-6);
  const wide = sosFiltFilt(PROBE, butterworthSos(3, 100, 1000, 44100)); // a section with b2 = −1, a2 ≠ 0
  assertAllClose(PROBE_AT.map((i) => wide[i]), [
    0.25987472383794663,
    0.3438906761850219,
    0.4274893827767229,
    0.8964968486646546,
    0.27736359474241556,
    -0.6365667266926939,
    -0.16697827418018146,
    0.23935912115444619,
    0.21586259745451922,
  ], 1e-6);
});

Deno.test("bandpass() is zero-phase with the squared response by default, causal otherwise", () => {
  const fs = 4000;
  const x = tone(250, fs, 2 * fs);
  const y = bandpass({ samples: x, sampleRate: fs }).samples;
  const expectedGain = 10 ** (2 * gainDb(butterworthSos(4, 25, 400, fs), 250, fs) / 20);
  for (let i = fs / 2; i < 3 * fs / 2; i++) {
    // No phase shift: the output is the input tone scaled.
    assert.ok(Math.abs(y[i] - expectedGain * x[i]) < 1e-4, `sample ${i}: ${y[i]} vs ${expectedGain * x[i]}`);
  }
  const causal = bandpass({ samples: x, sampleRate: fs }, { zeroPhase: false }).samples;
  let maxDiff = 0;
  for (let i = fs / 2; i < 3 * fs / 2; i++) maxDiff = Math.max(maxDiff, Math.abs(causal[i] - x[i]));
  assert.ok(maxDiff > 0.1, "a causal IIR pass shifts the phase");
  const stop = bandpass({ samples: tone(1500, fs, 2 * fs), sampleRate: fs }).samples;
  assert.ok(20 * Math.log10(rms(stop, fs / 2, 3 * fs / 2) / Math.SQRT1_2) < -90); // 2 × ~48 dB
});

Deno.test("butterworthSos() and bandpass() reject bad parameters", () => {
  const cases: [() => unknown, string][] = [
    [() => butterworthSos(0, 25, 400, 4000), "Cannot design filter: order is 0"],
    [() => butterworthSos(4, 400, 25, 4000), "Cannot design filter: band 400–25 Hz"],
    [() => butterworthSos(4, 0, 3000, 4000), "Cannot design filter: band 0–3000 Hz"],
    [() => butterworthSos(4, 25, 400, 0), "Cannot design filter: sample rate is 0"],
    [() => sosFilter(new Float32Array(4), new Float64Array(5)), "Cannot filter audio: sos has 5 coefficients"],
    [() => sosFiltFilt(new Float32Array(27), butterworthSos(4, 25, 400, 4000)), "needs more than 27"],
    [() => bandpass({ samples: new Float32Array([NaN]), sampleRate: 4000 }), "Cannot filter audio: sample 0 is NaN"],
  ];
  for (const [fn, text] of cases) {
    assert.throws(fn, (e: unknown) => e instanceof ParameterError && e.message.includes(text), text);
  }
});

Deno.test("sosFilter() equals a one-section-at-a-time cascade exactly (odd and even section counts)", () => {
  let seed = 5;
  const random = () => (seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0) / 2 ** 31 - 1;
  const x = Float32Array.from({ length: 3000 }, random);
  for (const [order, low, high] of [[4, 25, 400], [3, 25, 400], [1, 100, Infinity], [3, 0, 300]] as const) {
    const sos = butterworthSos(order, low, high, 2000);
    const expected = Float64Array.from(x);
    for (let s = 0; s < sos.length / 6; s++) {
      const [b0, b1, b2, , a1, a2] = sos.subarray(6 * s, 6 * s + 6);
      let z0 = 0, z1 = 0;
      for (let i = 0; i < expected.length; i++) {
        const y = b0 * expected[i] + z0;
        z0 = b1 * expected[i] - a1 * y + z1;
        z1 = b2 * expected[i] - a2 * y;
        expected[i] = y;
      }
    }
    assert.deepEqual(sosFilter(x, sos), Float32Array.from(expected), `order ${order}, ${low}–${high} Hz`);
  }
});
