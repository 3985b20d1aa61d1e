import assert from "node:assert/strict";
import { resample, resampleWaveform } from "../lib/resample.ts";
import { ParameterError } from "../lib/errors.ts";
import { readWav } from "../lib/wav.ts";
import { resample as referenceResample } from "./_resample_reference.ts";
import { DATA_DIR, needsData } from "./_helpers.ts";

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

/** The defining formula, evaluated tap by tap: y[m] = Σ_k x[k]·h(m·from/to − k) with the Kaiser-windowed sinc
 * h(x) = c·sinc(c·x)·I0(β·√(1 − (x/W)²))/I0(β) for |x| < W (c = rolloff·min(1, to/from), W = 32 / min(1, to/from)). */
function directResample(x: Float32Array, from: number, to: number): Float64Array {
  const i0 = (v: number) => {
    let sum = 1, term = 1;
    for (let k = 1; k < 300; k++) {
      term *= (v / 2) ** 2 / (k * k);
      sum += term;
    }
    return sum;
  };
  const beta = 7.857, halfWidth = 32;
  const attenuation = beta / 0.1102 + 8.7;
  const rolloff = 1 - 1.05 * (attenuation - 7.95) / (14.36 * 2 * halfWidth);
  const scale = Math.min(1, to / from), c = rolloff * scale, width = halfWidth / scale;
  const h = (v: number) => {
    if (Math.abs(v) >= width) return 0;
    const arg = Math.PI * c * v;
    return c * (arg === 0 ? 1 : Math.sin(arg) / arg) * i0(beta * Math.sqrt(1 - (v / width) ** 2)) / i0(beta);
  };
  const out = new Float64Array(Math.max(1, Math.round(x.length * to / from)));
  for (let m = 0; m < out.length; m++) {
    const t = m * from / to;
    for (let k = Math.max(0, Math.ceil(t - width)); k <= Math.min(x.length - 1, Math.floor(t + width)); k++) {
      out[m] += x[k] * h((m * from - k * to) / to); // exact numerator: the window edge is a jump of 1/I0(β)
    }
  }
  return out;
}

/** Deterministic pseudo-random generator (LCG) in [−1, 1). */
function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 31 - 1;
}

Deno.test("resample() matches the direct formula within 1e-6 (random signals, lengths and rates)", () => {
  const random = lcg(7);
  const rates: [number, number][] = [[44100, 2000], [44100, 4000], [4000, 2000], [8000, 3000], [2000, 4000], [
    4000,
    3001.5,
  ]];
  for (const [from, to] of rates) {
    for (const n of [1, 5, 300, 3000]) {
      const x = Float32Array.from({ length: n }, random);
      const y = resample(x, from, to), expected = directResample(x, from, to);
      assert.equal(y.length, expected.length);
      // the non-integer ratio interpolates a tabulated kernel: close, not to rounding
      const tolerance = Number.isInteger(to) ? 1e-6 : 1e-4;
      for (let m = 0; m < y.length; m++) {
        assert.ok(
          Math.abs(y[m] - expected[m]) <= tolerance,
          `${from}→${to}, n ${n}, m ${m}: ${y[m]} vs ${expected[m]}`,
        );
      }
    }
  }
});

Deno.test("resample() equals the float64 implementation before the speedups within 3e-7 (float32 sums)", () => {
  const random = lcg(11);
  for (const [from, to] of PAIRS) {
    for (const n of [3, 2000, 20000]) {
      const x = Float32Array.from({ length: n }, random);
      const y = resample(x, from, to), expected = referenceResample(x, from, to);
      assert.equal(y.length, expected.length);
      for (let m = 0; m < y.length; m++) assert.ok(Math.abs(y[m] - expected[m]) <= 3e-7, `${from}→${to}, m ${m}`);
    }
  }
  // repeated calls (cached filter bank) give the same output
  const x = Float32Array.from({ length: 5000 }, random);
  assert.deepEqual(resample(x, 44100, 2000), resample(x, 44100, 2000));
});

Deno.test(
  "resample() equals the float64 implementation before the speedups on real recordings within 3e-7",
  needsData(),
  () => {
    for (const set of ["set_a", "set_b"]) {
      const names = [...Deno.readDirSync(`${DATA_DIR}/${set}`)].map((e) => e.name).filter((n) => n.endsWith(".wav"))
        .sort();
      for (const name of names.filter((_, i) => i % 20 === 0)) {
        const w = readWav(Deno.readFileSync(`${DATA_DIR}/${set}/${name}`));
        for (const to of [2000, 4000]) {
          if (to === w.sampleRate) continue;
          const y = resample(w.samples, w.sampleRate, to), expected = referenceResample(w.samples, w.sampleRate, to);
          let worst = 0;
          for (let m = 0; m < y.length; m++) worst = Math.max(worst, Math.abs(y[m] - expected[m]));
          // 3e-7 of full scale is 1/100 of a 16-bit step (1/32768)
          assert.ok(worst <= 3e-7, `${name} → ${to} Hz: largest difference ${worst}`);
        }
      }
    }
  },
);

Deno.test("resample() gives bit-identical results without WebAssembly (the JavaScript fallback)", async () => {
  const x = Float32Array.from({ length: 30000 }, lcg(3));
  const code = `(globalThis).WebAssembly = undefined;
    const { resample } = await import(${JSON.stringify(new URL("../lib/resample.ts", import.meta.url).href)});
    const x = new Float32Array(await new Response(Deno.stdin.readable).arrayBuffer());
    await Deno.stdout.write(new Uint8Array(resample(x, 44100, 2000).buffer));`;
  const child = new Deno.Command(Deno.execPath(), { args: ["eval", "--ext=ts", code], stdin: "piped", stdout: "piped" })
    .spawn();
  const writer = child.stdin.getWriter();
  await writer.write(new Uint8Array(x.buffer));
  await writer.close();
  const { stdout, success } = await child.output();
  assert.ok(success);
  assert.deepEqual(new Float32Array(stdout.buffer), resample(x, 44100, 2000));
});

Deno.test("resample() refuses rate divisions above 65536 and outputs over 2^28 samples before any work", () => {
  const x = new Float32Array(48000).fill(0.1);
  assert.throws(() => resample(x, 0xffffffff, 2000), /divides the rate by more than 65536/);
  assert.throws(() => resample(x.subarray(0, 10), 1e-6, 2000), /would be 20000000000 at 2000 Hz, more than 268435456/);
  assert.throws(() => resample(x, 1, 2 ** 28), ParameterError);
});
