import assert from "node:assert/strict";
import { complex64Abs, fftFrequencies, hannWindow, RealFft, stft } from "../lib/stft.ts";
import { assertValidAudio } from "../lib/types.ts";
import FFT from "npm:fft.js@4.0.4";
import { mulberry32 } from "../lib/rng.ts";
import { ParameterError } from "../lib/errors.ts";
import { assertAllClose, assertAlmostEquals } from "./_helpers.ts";

/** |DFT| of x, bins 0 … n/2, by the O(n²) definition in float64. */
function naiveDftMagnitude(x: ArrayLike<number>): number[] {
  const n = x.length;
  return Array.from({ length: n / 2 + 1 }, (_, k) => {
    let re = 0, im = 0;
    for (let j = 0; j < n; j++) {
      re += x[j] * Math.cos(2 * Math.PI * k * j / n);
      im -= x[j] * Math.sin(2 * Math.PI * k * j / n);
    }
    return Math.hypot(re, im);
  });
}

function randomSignal(seed: number, length: number): Float32Array {
  const rng = mulberry32(seed);
  return Float32Array.from({ length }, () => 2 * rng() - 1);
}

Deno.test("stft() puts a bin-centred sine in its bin", () => {
  for (const [nFft, bin, sampleRate] of [[512, 40, 2000], [32, 3, 4000], [256, 100, 44100]]) {
    const f = bin * sampleRate / nFft;
    const samples = Float32Array.from({ length: 8 * nFft }, (_, i) => Math.sin(2 * Math.PI * f * i / sampleRate));
    const spec = stft({ samples, sampleRate }, { nFft });
    for (let t = 4; t < spec.numFrames - 4; t++) { // frames clear of the zero padding
      const row = Array.from(spec.data.subarray(t * spec.numBins, (t + 1) * spec.numBins));
      assert.equal(row.indexOf(Math.max(...row)), bin);
      // A Hann-windowed unit sine peaks at nFft/4 and leaks only into the two neighbours.
      assertAlmostEquals(row[bin], nFft / 4, 1e-3 * nFft);
      assertAlmostEquals(row[bin + 2] ?? 0, 0, 1e-3 * nFft);
    }
  }
});

Deno.test("stft() frame count is 1 + floor(n / hop) centred, 1 + floor((n − nFft) / hop) otherwise", () => {
  for (const n of [1, 31, 32, 33, 100, 4000, 4001]) {
    for (const [nFft, hop] of [[32, 8], [32, 5], [4, 1], [64, 64]]) {
      const wave = { samples: new Float32Array(n), sampleRate: 4000 };
      const spec = stft(wave, { nFft, hopLength: hop });
      assert.equal(spec.numFrames, 1 + Math.floor(n / hop), `n ${n}, nFft ${nFft}, hop ${hop}`);
      assert.equal(spec.data.length, spec.numFrames * (nFft / 2 + 1));
      if (n >= nFft) {
        assert.equal(stft(wave, { nFft, hopLength: hop, center: false }).numFrames, 1 + Math.floor((n - nFft) / hop));
      }
    }
  }
});

Deno.test("stft() gives a value computed by hand", () => {
  // x = [1, 2, 3, 4], periodic Hann(4) = [0, 0.5, 1, 0.5] → [0, 1, 3, 2];
  // X0 = 6, X1 = 0 − i − 3 + 2i = −3 + i (|X1| = √10), X2 = 0 − 1 + 3 − 2 = 0.
  const spec = stft({ samples: new Float32Array([1, 2, 3, 4]), sampleRate: 4 }, {
    nFft: 4,
    hopLength: 1,
    center: false,
  });
  assert.equal(spec.numFrames, 1);
  assertAllClose(spec.data, [6, Math.sqrt(10), 0], 1e-6);
  assertAllClose(hannWindow(4), [0, 0.5, 1, 0.5], 1e-15);
  assertAllClose(fftFrequencies(4000, 8), [0, 500, 1000, 1500, 2000], 0);
});

Deno.test("stft() matches a naive DFT of each zero-padded, windowed frame", () => {
  const x = randomSignal(1, 300);
  const nFft = 64, hop = 16;
  const spec = stft({ samples: x, sampleRate: 1000 }, { nFft, hopLength: hop });
  const window = hannWindow(nFft);
  const padded = new Float64Array(x.length + nFft);
  padded.set(x, nFft / 2);
  for (let t = 0; t < spec.numFrames; t++) {
    const frame = Array.from({ length: nFft }, (_, k) => padded[t * hop + k] * window[k]);
    assertAllClose(spec.data.subarray(t * spec.numBins, (t + 1) * spec.numBins), naiveDftMagnitude(frame), 1e-5, 1e-5);
  }
});

Deno.test("stft() satisfies Parseval's theorem per frame", () => {
  const x = randomSignal(2, 2048);
  const nFft = 256;
  const spec = stft({ samples: x, sampleRate: 4000 }, { nFft, center: false });
  const window = hannWindow(nFft);
  for (let t = 0; t < spec.numFrames; t++) {
    let timeEnergy = 0;
    for (let k = 0; k < nFft; k++) timeEnergy += (x[t * spec.hopLength + k] * window[k]) ** 2;
    // One-sided spectrum: bins 1 … nFft/2 − 1 stand for two bins each.
    let freqEnergy = 0;
    for (let b = 0; b < spec.numBins; b++) {
      const m = spec.data[t * spec.numBins + b];
      freqEnergy += (b === 0 || b === nFft / 2 ? 1 : 2) * m * m;
    }
    assertAlmostEquals(freqEnergy / nFft, timeEnergy, 1e-5 * timeEnergy, `frame ${t}`);
  }
});

Deno.test("stft() and assertValidAudio() reject bad input with ParameterError", () => {
  const cases: [() => unknown, string][] = [
    [() => stft({ samples: new Float32Array(10), sampleRate: 4000 }, { nFft: 24 }), "nFft is 24"],
    [() => stft({ samples: new Float32Array(10), sampleRate: 4000 }, { nFft: 8, hopLength: 0 }), "hopLength is 0"],
    [() => stft({ samples: new Float32Array(4), sampleRate: 4000 }, { nFft: 8, center: false }), "fewer than nFft"],
    [() => stft({ samples: new Float32Array(0), sampleRate: 4000 }), "zero samples"],
    [() => assertValidAudio({ samples: new Float32Array([0, Infinity]), sampleRate: 1 }), "sample 1 is Infinity"],
    [() => assertValidAudio({ samples: new Float32Array(1), sampleRate: NaN }), "sample rate is NaN"],
    [() => assertValidAudio({ samples: [0] as unknown as Float32Array, sampleRate: 1 }), "not a Float32Array"],
  ];
  for (const [fn, text] of cases) {
    assert.throws(fn, (e: unknown) => e instanceof ParameterError && e.message.includes(text), text);
  }
});

Deno.test("assertValidAudio() names the first non-finite sample at any position, and passes finite extremes", () => {
  const finite = [0, -0, 1, -1, 3.4e38, -3.4e38, 1e-45, -1e-45];
  for (let n = 1; n <= 11; n++) {
    const ok = Float32Array.from({ length: n }, (_, i) => finite[i % finite.length]);
    assertValidAudio({ samples: ok, sampleRate: 1 });
    for (let at = 0; at < n; at++) {
      for (const bad of [NaN, Infinity, -Infinity]) {
        const x = ok.slice();
        x[at] = bad;
        if (at + 2 < n) x[at + 2] = NaN; // a later bad sample is not the one named
        assert.throws(
          () => assertValidAudio({ samples: x, sampleRate: 1 }),
          (e: unknown) => e instanceof ParameterError && e.message.endsWith(`sample ${at} is ${bad}`),
          `length ${n}, ${bad} at ${at}`,
        );
      }
    }
  }
});

Deno.test("RealFft gives fft.js's realTransform bit for bit", () => {
  for (let size = 4; size <= 4096; size *= 2) {
    const x = Float64Array.from(randomSignal(size, size), (v, i) => v * (1 + (i % 3)));
    const reference = new FFT(size);
    const expected: number[] = reference.createComplexArray();
    reference.realTransform(expected, x);
    const out = new Float64Array(2 * size);
    new RealFft(size).transform(out, x);
    for (let k = 0; k < size + 2; k++) assert.equal(out[k], expected[k], `size ${size}, value ${k}`);
  }
  assert.throws(() => new RealFft(2), ParameterError);
  assert.throws(() => new RealFft(12), ParameterError);
});

Deno.test("RealFft.transformWindowed() equals transform() of the windowed frame bit for bit", () => {
  for (const size of [4, 8, 32, 256, 2048]) {
    const x = randomSignal(size + 1, 3 * size);
    const window = hannWindow(size);
    const fft = new RealFft(size);
    for (const start of [0, 1, size, 2 * size]) {
      const frame = Float64Array.from({ length: size }, (_, k) => x[start + k] * window[k]);
      const expected = new Float64Array(2 * size), out = new Float64Array(2 * size);
      fft.transform(expected, frame);
      fft.transformWindowed(out, x, start, window);
      assert.deepEqual(out.subarray(0, size + 2), expected.subarray(0, size + 2), `size ${size}, start ${start}`);
    }
  }
});

Deno.test("complex64Abs() gives numpy's AVX-512 complex64 |z| on the Pythagorean near-ties of the real data", () => {
  const q = 2 ** -16; // 16-bit samples × Hann(4) weights are integers times 2^−16
  // |168 + 70i| = 182 and |52 + 165i| = 173 exactly; the float32 ratio path lands one ulp below / above,
  // which is why the original picks bin 2 (|X2| = 182) and bin 1 (over |X0| = 173) in those frames.
  assert.equal(complex64Abs(168 * q, 70 * q), (182 - 2 ** -16) * q); // one float32 ulp below 182
  assert.equal(complex64Abs(-52 * q, -165 * q), (173 + 2 ** -16) * q); // one float32 ulp above 173
  assert.equal(complex64Abs(3, 4), 5);
  assert.equal(complex64Abs(-2.5, 0), 2.5);
  assert.equal(complex64Abs(0, 0), 0);
  assert.equal(complex64Abs(1 + 2 ** -30, 0), 1); // components are rounded to float32 first
  assert.equal(complex64Abs(Infinity, Infinity), Infinity);
  const rng = mulberry32(5);
  for (let i = 0; i < 10000; i++) {
    const re = Math.fround(2 * rng() - 1), im = Math.fround((2 * rng() - 1) * 2 ** (-20 * rng()));
    const exact = Math.hypot(re, im), got = complex64Abs(re, im);
    assert.equal(got, Math.fround(got));
    assert.ok(Math.abs(got - exact) <= 4 * 2 ** -24 * exact, `${re}, ${im}`);
  }
});

Deno.test("stft() with complex64 differs from the float64 magnitudes by float32 ulps only", () => {
  const rng = mulberry32(8);
  const wave = { samples: Float32Array.from({ length: 2000 }, () => 2 * rng() - 1), sampleRate: 2000 };
  const plain = stft(wave, { nFft: 64 }), c64 = stft(wave, { nFft: 64, complex64: true });
  let differ = 0;
  for (let i = 0; i < plain.data.length; i++) {
    assertAlmostEquals(c64.data[i], plain.data[i], 4 * 2 ** -24 * plain.data[i] + 1e-30);
    if (c64.data[i] !== plain.data[i]) differ++;
  }
  assert.ok(differ > 0); // the option does change bits
});
