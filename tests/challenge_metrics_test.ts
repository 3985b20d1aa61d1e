import assert from "node:assert/strict";
import {
  challengeMetricsA,
  challengeMetricsB,
  discriminantPower,
  discriminantPowerBand,
} from "../lib/challenge_metrics.ts";
import { ParameterError } from "../lib/errors.ts";
import { assertAlmostEquals } from "./_helpers.ts";

/** Clips from a confusion matrix given as rows of [true class, predicted class, count]. */
function clips(rows: [string, string, number][]): { truth: string[]; predicted: string[] } {
  const truth: string[] = [], predicted: string[] = [];
  for (const [t, p, n] of rows) for (let i = 0; i < n; i++) truth.push(t), predicted.push(p);
  return { truth, predicted };
}

Deno.test("challengeMetricsA() matches a hand-computed sheet with extrahls never predicted", () => {
  // rows true N, M, E, A; columns predicted N, M, E, A:
  // N [2 1 0 0], M [1 2 0 0], E [2 0 0 0], A [1 0 0 1]
  const { truth, predicted } = clips([
    ["normal", "normal", 2],
    ["normal", "murmur", 1],
    ["murmur", "normal", 1],
    ["murmur", "murmur", 2],
    ["extrahls", "normal", 2],
    ["artifact", "normal", 1],
    ["artifact", "artifact", 1],
  ]);
  const m = challengeMetricsA(truth, predicted);
  assert.deepEqual(m.confusion, [[2, 1, 0, 0], [1, 2, 0, 0], [2, 0, 0, 0], [1, 0, 0, 1]]);
  assert.equal(m.clips, 10);
  assertAlmostEquals(m.precision.normal, 2 / 6, 1e-12);
  assertAlmostEquals(m.precision.murmur, 2 / 3, 1e-12);
  assert.equal(m.precision.extrahls, 0); // never predicted: 0, not NaN
  assert.equal(m.precision.artifact, 1);
  assertAlmostEquals(m.totalPrecision, 2, 1e-12);
  assertAlmostEquals(m.artifactSensitivity, 1 / 2, 1e-12);
  assertAlmostEquals(m.artifactSpecificity, 4 / 8, 1e-12); // exact class: 2 normals + 2 murmurs + 0 extrahls of 8
  assertAlmostEquals(m.artifactYouden, 0, 1e-12);
  assertAlmostEquals(m.heartProblemSensitivity, 2 / 5, 1e-12);
  assertAlmostEquals(m.heartProblemPrecision, 2 / 3, 1e-12);
  // The sheet's F: 0.81·0.4·(2/3) / (0.81·(2/3) + 0.4) = 0.216 / 0.94.
  assertAlmostEquals(m.heartProblemF, 0.216 / 0.94, 1e-12);
});

Deno.test("challengeMetricsA() counts a murmur called extra sound as no detection", () => {
  const m = challengeMetricsA(["murmur", "extrahls", "normal", "artifact"], [
    "extrahls",
    "murmur",
    "normal",
    "artifact",
  ]);
  assert.equal(m.heartProblemSensitivity, 0);
  assert.equal(m.heartProblemPrecision, 0);
  assert.equal(m.heartProblemF, 0); // 0/0 → 0
  assertAlmostEquals(m.artifactSpecificity, 1 / 3, 1e-12);
  assert.equal(m.artifactSensitivity, 1);
  assertAlmostEquals(m.artifactYouden, 1 / 3, 1e-12);
});

Deno.test("challengeMetricsB() matches a hand-computed sheet with Sp = 1 (DP +∞)", () => {
  // N [4 0 0], M [1 1 0], E [0 1 1]
  const { truth, predicted } = clips([
    ["normal", "normal", 4],
    ["murmur", "normal", 1],
    ["murmur", "murmur", 1],
    ["extrastole", "murmur", 1],
    ["extrastole", "extrastole", 1],
  ]);
  const m = challengeMetricsB(truth, predicted);
  assert.deepEqual(m.confusion, [[4, 0, 0], [1, 1, 0], [0, 1, 1]]);
  assertAlmostEquals(m.precision.normal, 4 / 5, 1e-12);
  assertAlmostEquals(m.precision.murmur, 1 / 2, 1e-12);
  assert.equal(m.precision.extrastole, 1);
  assertAlmostEquals(m.totalPrecision, 2.3, 1e-12);
  assertAlmostEquals(m.accuracy, 6 / 8, 1e-12);
  assertAlmostEquals(m.heartProblemSensitivity, 2 / 4, 1e-12);
  assert.equal(m.heartProblemSpecificity, 1);
  assertAlmostEquals(m.youden, 0.5, 1e-12);
  assert.equal(m.discriminantPower, Infinity);
  assert.equal(m.discriminantPowerBand, null); // Sp = 1 is a degenerate operating point, not a "good" test
});

Deno.test("challengeMetricsB() gives precision 0 to a class never predicted and DP −∞ at Se = 0", () => {
  const m = challengeMetricsB(["normal", "normal", "murmur", "extrastole"], ["normal", "murmur", "normal", "normal"]);
  assert.equal(m.precision.extrastole, 0);
  assert.equal(m.precision.murmur, 0);
  assertAlmostEquals(m.precision.normal, 1 / 3, 1e-12);
  assert.equal(m.heartProblemSensitivity, 0);
  assertAlmostEquals(m.heartProblemSpecificity, 0.5, 1e-12);
  assertAlmostEquals(m.youden, -0.5, 1e-12);
  assert.equal(m.discriminantPower, -Infinity);
  assert.equal(m.discriminantPowerBand, null);
});

Deno.test("discriminantPower() matches the formula by hand and its bands", () => {
  // (√3/π)·(log10 4 + log10 9) at Se 0.8, Sp 0.9.
  assertAlmostEquals(discriminantPower(0.8, 0.9), 0.5513288954217921 * Math.log10(36), 1e-12);
  assertAlmostEquals(discriminantPower(0.8, 0.9), 0.8580, 1e-4);
  assert.equal(discriminantPower(0.5, 0.5), 0);
  assert.ok(Number.isNaN(discriminantPower(1, 0)));
  assert.deepEqual([-0.5, 0.99, 1, 1.99, 2, 2.99, 3, -Infinity, Infinity, NaN].map(discriminantPowerBand), [
    "poor",
    "poor",
    "limited",
    "limited",
    "fair",
    "fair",
    "good",
    null,
    null,
    null,
  ]);
});

Deno.test("challengeMetricsA/B() reject unknown classes, mismatched lengths and no clips", () => {
  assert.throws(() => challengeMetricsA(["normal"], ["extrastole"]), ParameterError);
  assert.throws(() => challengeMetricsB(["normal"], ["artifact"]), ParameterError);
  assert.throws(() => challengeMetricsB(["normal"], []), ParameterError);
  assert.throws(() => challengeMetricsA([], []), ParameterError);
});
