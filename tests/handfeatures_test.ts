import assert from "node:assert/strict";
import {
  HAND_FEATURE_BAND_HZ,
  HAND_FEATURE_NAMES,
  handFeatures,
  MISSING_FEATURE,
  movingRms,
} from "../lib/handfeatures.ts";
import { bandpass } from "../lib/filter.ts";
import { synthesizeHeartSound } from "../lib/synth.ts";
import { ParameterError } from "../lib/errors.ts";
import { assertAlmostEquals } from "./_helpers.ts";

const at = (f: Float32Array, name: string) => f[HAND_FEATURE_NAMES.indexOf(name)];

Deno.test("handFeatures() returns one finite value per name", () => {
  const rec = synthesizeHeartSound({ seed: 1, sampleRate: 2000, durationS: 6, heartRateBpm: 72 });
  const f = handFeatures(rec);
  assert.equal(f.length, HAND_FEATURE_NAMES.length);
  assert.equal(new Set(HAND_FEATURE_NAMES).size, HAND_FEATURE_NAMES.length);
  for (const [i, v] of f.entries()) assert.ok(Number.isFinite(v), `${HAND_FEATURE_NAMES[i]} is ${v}`);
});

Deno.test("handFeatures() does not depend on the recording level", () => {
  const rec = synthesizeHeartSound({ seed: 2, sampleRate: 2000, durationS: 6, heartRateBpm: 80 });
  const a = handFeatures(rec);
  const b = handFeatures({ samples: rec.samples.map((v) => 0.25 * v), sampleRate: 2000 });
  for (let i = 0; i < a.length; i++) assertAlmostEquals(b[i], a[i], 1e-3 * (1 + Math.abs(a[i])), HAND_FEATURE_NAMES[i]);
});

Deno.test("handFeatures() finds the synthetic heart rate and the spectral centroid of a tone", () => {
  for (const bpm of [60, 90, 120]) {
    const rec = synthesizeHeartSound({ seed: 3, sampleRate: 4000, durationS: 8, heartRateBpm: bpm, noiseLevel: 0 });
    assertAlmostEquals(at(handFeatures(rec), "heartRateBpm"), bpm, 0.05 * bpm, `${bpm} bpm`);
  }
  // A 250 Hz tone (exactly bin 32 of a 256-point FFT at 2 kHz): every frame's centroid is 250 Hz.
  const tone = {
    samples: Float32Array.from({ length: 8000 }, (_, n) => Math.sin(2 * Math.PI * 250 * n / 2000)),
    sampleRate: 2000,
  };
  const f = handFeatures(tone);
  assertAlmostEquals(at(f, "loudFrameCentroidHz"), 250, 2);
  assertAlmostEquals(at(f, "bandShare200to300"), 1, 0.01);
});

Deno.test("handFeatures() sees systolic murmur energy and premature beats", () => {
  const opts = { sampleRate: 2000, durationS: 10, heartRateBpm: 70, noiseLevel: 0.002 };
  const normal = handFeatures(synthesizeHeartSound({ ...opts, seed: 4, kind: "normal" }));
  const murmur = handFeatures(synthesizeHeartSound({ ...opts, seed: 4, kind: "murmur" }));
  assert.ok(
    at(murmur, "systoleOverDiastoleDb") > at(normal, "systoleOverDiastoleDb") + 6,
    `systole/diastole ${at(murmur, "systoleOverDiastoleDb")} vs ${at(normal, "systoleOverDiastoleDb")} dB`,
  );
  const extra = handFeatures(synthesizeHeartSound({ ...opts, seed: 4, kind: "extrastole", prematureBeats: 2 }));
  assert.ok(
    at(extra, "intervalCv") > at(normal, "intervalCv") + 0.05,
    `${at(extra, "intervalCv")} vs ${at(normal, "intervalCv")}`,
  );
});

Deno.test("handFeatures() marks cycle features of silence missing and rejects tiny clips", () => {
  const f = handFeatures({ samples: new Float32Array(4000), sampleRate: 2000 });
  assert.equal(at(f, "cycleCount"), 0);
  assert.equal(at(f, "systoleOverS1Db"), MISSING_FEATURE);
  assert.throws(() => handFeatures({ samples: new Float32Array(8), sampleRate: 2000 }), ParameterError);
});

Deno.test("handFeatures() with the caller's 25–900 Hz band-pass gives the same bits and leaves it unchanged", () => {
  const rec = synthesizeHeartSound({ kind: "murmur", seed: 4, durationS: 4, sampleRate: 2000 });
  const expected = handFeatures(rec);
  const filtered = bandpass(rec, { lowHz: HAND_FEATURE_BAND_HZ[0], highHz: HAND_FEATURE_BAND_HZ[1] }).samples;
  const copy = filtered.slice();
  assert.deepEqual(handFeatures(rec, { bandpassed: filtered }), expected);
  assert.deepEqual(filtered, copy);
  // not the signal analysed (another rate, or another length): ignored, recomputed
  const at4k = synthesizeHeartSound({ kind: "murmur", seed: 4, durationS: 4, sampleRate: 4000 });
  assert.deepEqual(handFeatures(at4k, { bandpassed: filtered }), handFeatures(at4k));
  assert.deepEqual(handFeatures(rec, { bandpassed: filtered.subarray(1) }), expected);
  // and it is used: a different signal handed over changes the features
  assert.notDeepEqual(handFeatures(rec, { bandpassed: filtered.map((v) => -v * 0.5 + 0.01) }), expected);
});

Deno.test("movingRms() equals a direct windowed RMS, and its running sums bit for bit", () => {
  /** The general loop, clamping every window: the sums movingRms() must reproduce exactly. */
  function runningReference(x: Float32Array, width: number): Float32Array {
    const out = new Float32Array(x.length), half = width >> 1;
    let s = 0, lo = 0, hi = 0;
    for (let i = 0; i < x.length; i++) {
      const a = Math.max(0, i - half), b = Math.min(x.length, i + half + 1);
      while (hi < b) s += x[hi] * x[hi++];
      while (lo < a) s -= x[lo] * x[lo++];
      out[i] = Math.sqrt(Math.max(0, s) / (b - a));
    }
    return out;
  }
  for (const n of [1, 2, 5, 20, 40, 41, 42, 43, 44, 100, 2000]) {
    for (const width of [1, 2, 3, 40, 41]) {
      const x = Float32Array.from({ length: n }, (_, i) => Math.sin(i * 1.7) * (1 + (i % 5)));
      const got = movingRms(x, width);
      assert.deepEqual(got, runningReference(x, width), `n ${n}, width ${width}`);
      const half = width >> 1;
      for (let i = 0; i < n; i++) {
        let sum = 0, count = 0;
        for (let j = Math.max(0, i - half); j <= Math.min(n - 1, i + half); j++, count++) sum += x[j] * x[j];
        assertAlmostEquals(got[i], Math.sqrt(sum / count), 1e-5);
      }
    }
  }
});
