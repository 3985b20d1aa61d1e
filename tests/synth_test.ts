import assert from "node:assert/strict";
import { SYNTH_LABEL_IDS, synthesizeHeartSound, type SynthKind } from "../lib/synth.ts";
import { gaussian, mulberry32, shuffleInPlace } from "../lib/rng.ts";
import { butterworthSos, sosFiltFilt } from "../lib/filter.ts";
import { ParameterError } from "../lib/errors.ts";

Deno.test("mulberry32() reproduces the reference sequence and stays in [0, 1)", () => {
  // Reference: the widely used JS one-liner (a = a + 0x6D2B79F5 | 0; t = Math.imul(a ^ a >>> 15, 1 | a); ...).
  const reference = (seed: number) => {
    let a = seed | 0;
    return () => {
      a = a + 0x6D2B79F5 | 0;
      let t = Math.imul(a ^ a >>> 15, 1 | a);
      t = t + Math.imul(t ^ t >>> 7, 61 | t) ^ t;
      return ((t ^ t >>> 14) >>> 0) / 4294967296;
    };
  };
  for (const seed of [0, 1, 42, 2 ** 31 + 5, 123456789]) {
    const ours = mulberry32(seed), theirs = reference(seed);
    for (let i = 0; i < 1000; i++) {
      const x = ours();
      assert.equal(x, theirs());
      assert.ok(x >= 0 && x < 1);
    }
  }
  assert.throws(() => mulberry32(NaN), ParameterError);
});

Deno.test("gaussian() has mean 0 and variance 1; shuffleInPlace() permutes uniformly", () => {
  const rng = mulberry32(5);
  let sum = 0, sumSq = 0;
  const n = 200_000;
  for (let i = 0; i < n; i++) {
    const z = gaussian(rng);
    sum += z;
    sumSq += z * z;
  }
  assert.ok(Math.abs(sum / n) < 0.01, `mean ${sum / n}`);
  assert.ok(Math.abs(sumSq / n - 1) < 0.01, `variance ${sumSq / n}`);
  // Each of the 6 orders of 3 items comes up about 1/6 of the time.
  const counts = new Map<string, number>();
  for (let i = 0; i < 60_000; i++) {
    const key = shuffleInPlace(["a", "b", "c"], rng).join("");
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  assert.equal(counts.size, 6);
  for (const [key, c] of counts) assert.ok(Math.abs(c - 10_000) < 400, `${key}: ${c}`);
});

const KINDS: SynthKind[] = ["normal", "murmur", "extrahls", "extrastole"];

/** RMS of x over [fromS, toS). */
function rmsBetween(x: Float32Array, sampleRate: number, fromS: number, toS: number): number {
  const a = Math.max(0, Math.round(fromS * sampleRate)), b = Math.min(x.length, Math.round(toS * sampleRate));
  let s = 0;
  for (let i = a; i < b; i++) s += x[i] * x[i];
  return Math.sqrt(s / Math.max(1, b - a));
}

Deno.test("synthesizeHeartSound() is deterministic per seed and sized as asked", () => {
  for (const kind of KINDS) {
    const a = synthesizeHeartSound({ seed: 7, kind, durationS: 3, sampleRate: 2000 });
    const b = synthesizeHeartSound({ seed: 7, kind, durationS: 3, sampleRate: 2000 });
    const c = synthesizeHeartSound({ seed: 8, kind, durationS: 3, sampleRate: 2000 });
    assert.deepEqual(a, b);
    assert.notDeepEqual(a.samples, c.samples);
    assert.equal(a.samples.length, 6000);
    assert.equal(a.label, kind);
    assert.equal(a.labelId, SYNTH_LABEL_IDS[kind]);
    let peak = 0;
    for (const x of a.samples) peak = Math.max(peak, Math.abs(x));
    assert.ok(Math.abs(peak - 0.5) < 1e-6, `peak ${peak}`);
  }
});

Deno.test("synthesizeHeartSound() places S1 at the heart rate and S2 0.3 cycles later", () => {
  for (const heartRateBpm of [50, 72, 120]) {
    const rec = synthesizeHeartSound({ seed: 1, heartRateBpm, durationS: 20, heartRateVariability: 0 });
    const period = 60 / heartRateBpm;
    const s1 = rec.s1TimesS;
    assert.ok(Math.abs(s1.length - 20 / period) <= 1, `${s1.length} beats`);
    for (let i = 1; i < s1.length; i++) assert.ok(Math.abs(s1[i] - s1[i - 1] - period) < 1e-9);
    for (let i = 0; i < rec.s2TimesS.length; i++) assert.ok(Math.abs(rec.s2TimesS[i] - s1[i] - 0.3 * period) < 1e-9);
    // The sounds are where the times say: the 50 ms after each S1 onset is far louder than the mid-diastole.
    for (const t of s1.slice(0, -1)) {
      const sound = rmsBetween(rec.samples, rec.sampleRate, t, t + 0.05);
      const quiet = rmsBetween(rec.samples, rec.sampleRate, t + 0.55 * period, t + 0.55 * period + 0.05);
      assert.ok(sound > 10 * quiet, `S1 at ${t}: ${sound} vs ${quiet}`);
    }
  }
});

Deno.test("synthesizeHeartSound() makes the four classes differ as documented", () => {
  const fs = 4000;
  const highBand = butterworthSos(4, 150, 400, fs);
  for (let seed = 0; seed < 5; seed++) {
    const rec = Object.fromEntries(KINDS.map((kind) => [kind, synthesizeHeartSound({ seed, kind, sampleRate: fs })]));
    // murmur: 150–400 Hz energy inside systole, relative to the S1 energy.
    const systolicRatio = (r: typeof rec.normal) => {
      const y = sosFiltFilt(r.samples, highBand);
      let ratio = 0;
      for (let i = 0; i < r.s2TimesS.length; i++) {
        const s1 = r.s1TimesS[i], s2 = r.s2TimesS[i];
        ratio += rmsBetween(y, fs, s1 + 0.07, s2 - 0.01) / rmsBetween(r.samples, fs, s1, s1 + 0.05);
      }
      return ratio / r.s2TimesS.length;
    };
    assert.ok(systolicRatio(rec.murmur) > 5 * systolicRatio(rec.normal), `seed ${seed}: murmur`);
    // extrahls: a sound at each extra time, where the normal recording is quiet.
    assert.ok(rec.extrahls.extraTimesS.length >= 5);
    for (const t of rec.extrahls.extraTimesS) {
      const extra = rmsBetween(rec.extrahls.samples, fs, t, t + 0.04);
      assert.ok(extra > 8 * rmsBetween(rec.normal.samples, fs, t, t + 0.04), `seed ${seed}: extra sound at ${t}`);
    }
    // extrastole: a short interval followed by a long one; normal stays regular.
    const intervals = (times: number[]) => times.slice(1).map((t, i) => t - times[i]);
    const extra = rec.extrastole;
    assert.ok(extra.prematureBeatIndices.length >= 1);
    for (const i of extra.prematureBeatIndices) {
      const before = extra.s1TimesS[i] - extra.s1TimesS[i - 1], after = extra.s1TimesS[i + 1] - extra.s1TimesS[i];
      assert.ok(before < 0.75 * (60 / 72) && after > 1.2 * (60 / 72), `seed ${seed}: beat ${i}: ${before}, ${after}`);
    }
    for (const d of intervals(rec.normal.s1TimesS)) assert.ok(Math.abs(d - 60 / 72) < 0.15 * (60 / 72));
    assert.equal(rec.normal.extraTimesS.length + rec.normal.prematureBeatIndices.length, 0);
  }
});

Deno.test("synthesizeHeartSound() rejects bad options", () => {
  const cases: [Parameters<typeof synthesizeHeartSound>[0], string][] = [
    [{ sampleRate: 500 }, "sampleRate is 500"],
    [{ durationS: 0 }, "durationS is 0"],
    [{ heartRateBpm: 400 }, "heartRateBpm is 400"],
    [{ kind: "artifact" as SynthKind }, "kind is artifact"],
    [{ noiseLevel: -1 }, "noiseLevel is -1"],
    [{ prematureBeats: 0, kind: "extrastole" }, "prematureBeats is 0"],
  ];
  for (const [options, text] of cases) {
    assert.throws(
      () => synthesizeHeartSound(options),
      (e: unknown) =>
        e instanceof ParameterError && e.message.startsWith(`Cannot synthesize heart sound: ${text}, expected`),
      text,
    );
  }
});
