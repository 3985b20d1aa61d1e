import assert from "node:assert/strict";
import { shannonEnvelope } from "../lib/beats.ts";
import { ParameterError } from "../lib/errors.ts";
import { irregularRhythm, irregularRhythmFromEnvelope } from "../lib/rhythm.ts";
import { synthesizeHeartSound } from "../lib/synth.ts";

const wave = (r: { samples: Float32Array; sampleRate: number }) => ({ samples: r.samples, sampleRate: r.sampleRate });

Deno.test("irregularRhythm() finds each planted premature beat within ±50 ms, at 50–150 bpm", () => {
  for (const [seed, bpm] of [[1, 50], [2, 72], [3, 100], [4, 125], [5, 150]]) {
    const rec = synthesizeHeartSound({ seed, kind: "extrastole", heartRateBpm: bpm, durationS: 15, prematureBeats: 2 });
    const truth = rec.prematureBeatIndices.map((i) => rec.s1TimesS[i]);
    assert.equal(truth.length, 2);
    const out = irregularRhythm(wave(rec));
    assert.equal(out.earlyBeatTimesS.length, 2, `${bpm} bpm: found ${out.earlyBeatTimesS} for ${truth}`);
    for (const [i, t] of truth.entries()) {
      assert.ok(Math.abs(out.earlyBeatTimesS[i] - t) <= 0.05, `${bpm} bpm: ${out.earlyBeatTimesS[i]} against ${t}`);
      // The late beat ends the compensatory pause: the planted beat after the premature one.
      const next = rec.s1TimesS[rec.prematureBeatIndices[i] + 1];
      assert.ok(
        Math.abs(out.lateBeatTimesS[i] - next) <= 0.05,
        `${bpm} bpm: late ${out.lateBeatTimesS[i]} against ${next}`,
      );
    }
    assert.ok(out.score >= 0.5, `${bpm} bpm: score ${out.score}`);
    assert.ok(out.beats.some((b) => b.early) && out.beats.some((b) => b.late));
  }
});

Deno.test("irregularRhythm() gives a regular rhythm score 0 and finds every sound", () => {
  for (const [seed, bpm] of [[11, 50], [12, 60], [14, 72]]) {
    const rec = synthesizeHeartSound({ seed, heartRateBpm: bpm, durationS: 15, noiseLevel: 0.1 });
    const out = irregularRhythm(wave(rec));
    assert.equal(out.score, 0);
    assert.deepEqual(out.earlyBeatTimesS, []);
    // S1 and S2 are > 200 ms (the refractory period) apart at these rates: one detected sound per planted sound (but one cut by the end),
    // each within 50 ms.
    const planted = [...rec.s1TimesS, ...rec.s2TimesS].filter((t) => t < 15 - 0.05).sort((a, b) => a - b);
    assert.equal(out.beats.length, planted.length);
    for (const [i, b] of out.beats.entries()) assert.ok(Math.abs(b.timeS - planted[i]) <= 0.05);
    assert.ok(out.beats.every((b) => !b.early && !b.late));
  }
});

Deno.test("irregularRhythm() raises no alarm on sinus arrhythmia (intervals swinging ±10 % per breath)", () => {
  let alarms = 0, minutes = 0;
  for (let seed = 0; seed < 10; seed++) {
    const rec = synthesizeHeartSound({
      seed: 100 + seed,
      heartRateBpm: 60 + 8 * seed,
      durationS: 20,
      sinusArrhythmiaDepth: 0.1,
      sinusArrhythmiaPhase: seed,
    });
    alarms += irregularRhythm(wave(rec)).earlyBeatTimesS.length;
    minutes += 20 / 60;
  }
  assert.ok(alarms / minutes <= 0.5, `${alarms} alarms in ${minutes} min`);
});

Deno.test("irregularRhythmFromEnvelope() equals irregularRhythm() on the same envelope; silence and short clips give 0", () => {
  const rec = synthesizeHeartSound({ seed: 7, kind: "extrastole", durationS: 10 });
  assert.deepEqual(irregularRhythmFromEnvelope(shannonEnvelope(wave(rec))), irregularRhythm(wave(rec)));
  const silent = irregularRhythm({ samples: new Float32Array(8000), sampleRate: 4000 });
  assert.deepEqual(silent, { score: 0, beats: [], earlyBeatTimesS: [], lateBeatTimesS: [] });
  assert.equal(irregularRhythm({ samples: new Float32Array(100), sampleRate: 4000 }).score, 0);
  assert.throws(() => irregularRhythm(wave(rec), { deviation: 0 }), ParameterError);
  assert.throws(() => irregularRhythm(wave(rec), { refractoryS: -1 }), ParameterError);
});

Deno.test("synthesizeHeartSound() sinus arrhythmia modulates the beat interval; prematurity sets the early beat", () => {
  const steady = synthesizeHeartSound({ seed: 3, heartRateBpm: 60, durationS: 30, heartRateVariability: 0 });
  const swinging = synthesizeHeartSound({
    seed: 3,
    heartRateBpm: 60,
    durationS: 30,
    heartRateVariability: 0,
    sinusArrhythmiaDepth: 0.2,
    sinusArrhythmiaPeriodS: 5,
  });
  const intervals = (t: number[]) => t.slice(1).map((x, i) => x - t[i]);
  assert.ok(intervals(steady.s1TimesS).every((d) => Math.abs(d - 1) < 1e-9));
  const swing = intervals(swinging.s1TimesS);
  // Each interval is the period scaled by 1 + 0.2·sin(2π t / 5) at the beat that starts it.
  for (const [i, d] of swing.entries()) {
    assert.ok(Math.abs(d - (1 + 0.2 * Math.sin(2 * Math.PI * swinging.s1TimesS[i] / 5))) < 1e-9);
  }
  // Without the option the recording is unchanged.
  assert.deepEqual(synthesizeHeartSound({ seed: 3, sinusArrhythmiaDepth: 0 }), synthesizeHeartSound({ seed: 3 }));
  const early = synthesizeHeartSound({
    seed: 9,
    kind: "extrastole",
    heartRateVariability: 0,
    heartRateBpm: 60,
    prematurity: [0.5, 0.5],
  });
  for (const i of early.prematureBeatIndices) {
    assert.ok(Math.abs(early.s1TimesS[i] - early.s1TimesS[i - 1] - 0.5) < 1e-9);
  }
  assert.throws(() => synthesizeHeartSound({ prematurity: [0.2, 0.5] }), ParameterError);
  assert.throws(() => synthesizeHeartSound({ sinusArrhythmiaDepth: 0.6 }), ParameterError);
});
