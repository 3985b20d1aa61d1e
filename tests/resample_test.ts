import assert from "node:assert/strict";
import { resample, resampleWaveform } from "../lib/resample.ts";
import { ParameterError } from "../lib/errors.ts";

/** Asserts fn throws an instance of `type` whose message contains `text` (or matches it). */
function assertThrowsWith(fn: () => unknown, type: new (...args: never[]) => Error, text: string | RegExp): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof type, `expected ${type.name}, got ${e}`);
    if (typeof text === "string") assert.ok(e.message.includes(text), `message "${e.message}" lacks "${text}"`);
    else assert.match(e.message, text);
    return true;
  });
}

function tone(freqHz: number, sampleRate: number, length: number, phase = 0.3): Float32Array {
  return Float32Array.from({ length }, (_, i) => Math.sin(2 * Math.PI * freqHz * i / sampleRate + phase));
}

/** RMS of y, leaving out `skip` samples at both ends (the filter's edge transients). */
function rms(y: Float32Array, skip: number): number {
  let sum = 0;
  for (let i = skip; i < y.length - skip; i++) sum += y[i] * y[i];
  return Math.sqrt(sum / (y.length - 2 * skip));
}

const PAIRS: [number, number][] = [[44100, 4000], [44100, 2000], [4000, 2000], [4000, 3001.5], [2000, 4000], [
  4000,
  44100,
]];

Deno.test("resample() returns round(n · to / from) samples", () => {
  for (const [from, to] of PAIRS) {
    for (const n of [1, 7, 1000, 44101]) {
      assert.equal(
        resample(new Float32Array(n), from, to).length,
        Math.max(1, Math.round(n * to / from)),
        `${from}→${to}`,
      );
    }
  }
});

Deno.test("resample() keeps a tone's frequency, phase and amplitude", () => {
  for (const [from, to] of PAIRS) {
    const f = 0.3 * Math.min(from, to); // 0.6 of the lower Nyquist
    const y = resample(tone(f, from, from), from, to);
    const expected = tone(f, to, y.length); // output sample m is at time m / to
    let worst = 0;
    for (let m = Math.ceil(0.05 * to); m < y.length - Math.ceil(0.05 * to); m++) {
      worst = Math.max(worst, Math.abs(y[m] - expected[m]));
    }
    assert.ok(worst < 1e-3, `${from}→${to}: max error ${worst}`);
  }
});

Deno.test("resample() attenuates everything at or above the new Nyquist by ≥ 60 dB", () => {
  for (const [from, to] of PAIRS.filter(([a, b]) => b < a)) {
    const nyquist = to / 2;
    for (const ratio of [1, 1.001, 1.01, 1.05, 1.3, 2, 4.5]) {
      const f = ratio * nyquist;
      if (f >= from / 2) continue;
      const y = resample(tone(f, from, from), from, to);
      const db = 20 * Math.log10(rms(y, Math.ceil(0.05 * to)) / Math.SQRT1_2);
      assert.ok(db <= -60, `${from}→${to}, ${f} Hz: ${db.toFixed(1)} dB`);
    }
  }
});

Deno.test("resample() keeps the pass band flat to 0.8 of the new Nyquist", () => {
  for (const [from, to] of PAIRS) {
    for (const ratio of [0.05, 0.4, 0.8]) {
      const f = ratio * Math.min(from, to) / 2;
      const y = resample(tone(f, from, from), from, to);
      const db = 20 * Math.log10(rms(y, Math.ceil(0.05 * to)) / Math.SQRT1_2);
      assert.ok(Math.abs(db) < 0.01, `${from}→${to}, ${f} Hz: ${db.toFixed(4)} dB`);
    }
  }
});

Deno.test("resample() returns a copy for equal rates and rejects bad rates", () => {
  const x = tone(50, 4000, 100);
  const y = resample(x, 4000, 4000);
  assert.deepEqual(y, x);
  assert.notEqual(y, x);
  assertThrowsWith(() => resample(x, 4000, 0), ParameterError, "Cannot resample audio: target rate is 0");
  assertThrowsWith(() => resample(x, -1, 2000), ParameterError, "Cannot resample audio: sample rate is -1");
  assertThrowsWith(() => resample(new Float32Array([0, NaN]), 4000, 2000), ParameterError, /sample 1 is NaN/);
  assertThrowsWith(() => resample(x, 4000, 2000, { rolloff: 1.5 }), ParameterError, /rolloff is 1.5/);
});

Deno.test("resampleWaveform() carries the new rate", () => {
  const y = resampleWaveform({ samples: new Float32Array(4410), sampleRate: 44100 }, 4000);
  assert.equal(y.sampleRate, 4000);
  assert.equal(y.samples.length, 400);
});
