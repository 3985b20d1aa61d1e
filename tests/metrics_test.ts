import assert from "node:assert/strict";
import {
  argmaxRows,
  brierScore,
  evaluate,
  expectedCalibrationError,
  majorityBaseline,
  majorityClass,
  meanStd,
  metricsFromConfusion,
  reliabilityBins,
  rocAuc,
} from "../lib/metrics.ts";
import { ParameterError } from "../lib/errors.ts";
import { assertAlmostEquals } from "./_helpers.ts";

Deno.test("evaluate() matches hand-computed confusion, precision, recall and F1", () => {
  // true 0,0,0,1,1,2 → predicted 0,0,1,1,2,2; class 3 absent from both.
  const m = evaluate([0, 0, 0, 1, 1, 2], Int32Array.from([0, 0, 1, 1, 2, 2]), 4);
  assert.deepEqual(m.confusion, [[2, 1, 0, 0], [0, 1, 1, 0], [0, 0, 1, 0], [0, 0, 0, 0]]);
  assertAlmostEquals(m.accuracy, 4 / 6, 1e-12);
  assertAlmostEquals(m.perClass[0].precision, 1, 1e-12);
  assertAlmostEquals(m.perClass[0].recall, 2 / 3, 1e-12);
  assertAlmostEquals(m.perClass[0].f1, 0.8, 1e-12);
  assertAlmostEquals(m.perClass[1].f1, 0.5, 1e-12);
  assertAlmostEquals(m.perClass[2].precision, 0.5, 1e-12);
  assertAlmostEquals(m.perClass[2].f1, 2 / 3, 1e-12);
  assert.deepEqual(m.perClass.map((c) => c.support), [3, 2, 1, 0]);
  // Absent class 3 is left out of the macro averages (scikit-learn over present labels).
  assertAlmostEquals(m.balancedAccuracy, (2 / 3 + 1 / 2 + 1) / 3, 1e-12);
  assertAlmostEquals(m.macroF1, (0.8 + 0.5 + 2 / 3) / 3, 1e-12);
});

Deno.test("evaluate() counts a predicted-only class as F1 0 in macro-F1 and a never-predicted class as precision 0", () => {
  const m = evaluate([0, 0, 0, 0], [0, 0, 0, 1], 2);
  assertAlmostEquals(m.perClass[0].f1, 2 * 1 * 0.75 / 1.75, 1e-12);
  assert.equal(m.perClass[1].precision, 0);
  assertAlmostEquals(m.macroF1, (2 * 0.75 / 1.75 + 0) / 2, 1e-12);
  assertAlmostEquals(m.balancedAccuracy, 0.75, 1e-12);
});

Deno.test("metricsFromConfusion() of a summed confusion equals evaluate() of the concatenated folds", () => {
  const a = evaluate([0, 1, 1, 2], [0, 1, 0, 2], 3), b = evaluate([2, 2, 0], [1, 2, 0], 3);
  const summed = a.confusion.map((row, i) => row.map((v, j) => v + b.confusion[i][j]));
  assert.deepEqual(metricsFromConfusion(summed), evaluate([0, 1, 1, 2, 2, 2, 0], [0, 1, 0, 2, 1, 2, 0], 3));
});

Deno.test("evaluate() rejects mismatched lengths and out-of-range classes", () => {
  assert.throws(() => evaluate([0, 1], [0], 2), ParameterError);
  assert.throws(() => evaluate([0, 2], [0, 1], 2), /Cannot compute metrics: sample 1/);
});

Deno.test("majorityBaseline() predicts the training majority on the test labels", () => {
  assert.equal(majorityClass([2, 1, 1, 2, 0]), 1); // tie 1/2 → smaller index
  assertAlmostEquals(majorityBaseline([0, 0, 1], [0, 1, 1, 1]), 0.25, 1e-12);
});

Deno.test("meanStd() gives the mean and sample standard deviation", () => {
  const { mean, std } = meanStd([2, 4, 4, 4, 5, 5, 7, 9]);
  assertAlmostEquals(mean, 5, 1e-12);
  assertAlmostEquals(std, Math.sqrt(32 / 7), 1e-12);
  assert.deepEqual(meanStd([3]), { mean: 3, std: 0 });
  assert.throws(() => meanStd([]), ParameterError);
});

Deno.test("argmaxRows() picks the first largest probability per row", () => {
  assert.deepEqual([...argmaxRows([0.1, 0.7, 0.2, 0.5, 0.5, 0], 3)], [1, 0]);
});

Deno.test("rocAuc() equals the pairwise win rate (ties one half) of a slow reference", () => {
  const pairwise = (p: number[], n: number[]) => {
    let wins = 0;
    for (const a of p) for (const b of n) wins += a > b ? 1 : a === b ? 0.5 : 0;
    return wins / (p.length * n.length);
  };
  assert.equal(rocAuc([3, 4], [1, 2]), 1);
  assert.equal(rocAuc([1, 2], [3, 4]), 0);
  assert.equal(rocAuc([1, 1], [1]), 0.5);
  let seed = 7;
  const rand = () => (seed = (seed * 16807) % 2147483647) / 2147483647;
  for (let trial = 0; trial < 50; trial++) {
    // Values on a coarse grid, so that ties within and across the groups are common.
    const p = Array.from({ length: 1 + Math.floor(rand() * 20) }, () => Math.floor(rand() * 6) + 1);
    const n = Array.from({ length: 1 + Math.floor(rand() * 20) }, () => Math.floor(rand() * 6));
    assertAlmostEquals(rocAuc(p, n), pairwise(p, n), 1e-12);
  }
});

Deno.test("rocAuc() rejects an empty group and NaN scores", () => {
  assert.throws(() => rocAuc([], [1]), ParameterError);
  assert.throws(() => rocAuc([NaN], [1]), ParameterError);
});

Deno.test("reliabilityBins() and expectedCalibrationError() match hand-computed bins", () => {
  // Top probabilities 0.95 (right), 0.95 (wrong), 0.72 (right), 0.55 (wrong), 1 (right, last bin).
  const p = [0.95, 0.05, 0.05, 0.95, 0.72, 0.28, 0.45, 0.55, 1, 0];
  const y = [0, 0, 0, 0, 0];
  const bins = reliabilityBins(y, p, 2);
  assert.equal(bins.length, 10);
  assert.deepEqual(bins.map((b) => b.count), [0, 0, 0, 0, 0, 1, 0, 1, 0, 3]);
  assertAlmostEquals(bins[9].meanConfidence, (0.95 + 0.95 + 1) / 3, 1e-12);
  assertAlmostEquals(bins[9].accuracy, 2 / 3, 1e-12);
  assert.equal(bins[7].accuracy, 1);
  assert.equal(bins[5].accuracy, 0);
  assert.ok(Number.isNaN(bins[0].meanConfidence));
  assertAlmostEquals(bins[3].lower, 0.3, 1e-12);
  // (3·|2/3 − 2.9/3| + 1·|1 − 0.72| + 1·|0 − 0.55|) / 5
  const ece = (3 * Math.abs(2 / 3 - 2.9 / 3) + 0.28 + 0.55) / 5;
  assertAlmostEquals(expectedCalibrationError(y, p, 2), ece, 1e-12);
  // With 2 bins: [0, 0.5) empty, [0.5, 1] all five: |3/5 − mean confidence|.
  assertAlmostEquals(expectedCalibrationError(y, p, 2, 2), Math.abs(0.6 - (0.95 + 0.95 + 0.72 + 0.55 + 1) / 5), 1e-12);
});

Deno.test("expectedCalibrationError() is 0 when confidence equals accuracy in every bin", () => {
  // Four samples at 0.75 confidence, three right.
  const p = [0.75, 0.25, 0.75, 0.25, 0.75, 0.25, 0.25, 0.75];
  assertAlmostEquals(expectedCalibrationError([0, 0, 0, 0], p, 2), 0, 1e-12);
});

Deno.test("brierScore() matches hand-computed values and its known extremes", () => {
  // (0.7−1)² + 0.2² + 0.1² = 0.14; (0.5)² + (0.5−1)² + 0 = 0.5 → mean 0.32
  assertAlmostEquals(brierScore([0, 1], [0.7, 0.2, 0.1, 0.5, 0.5, 0], 3), 0.32, 1e-12);
  assert.equal(brierScore([0], [1, 0, 0], 3), 0);
  assert.equal(brierScore([1], [1, 0, 0], 3), 2);
  assertAlmostEquals(brierScore([2], [0.25, 0.25, 0.25, 0.25], 4), 0.75, 1e-12);
  assert.throws(() => brierScore([0, 1], [0.5, 0.5], 2), /Cannot compute Brier score/);
  assert.throws(() => expectedCalibrationError([3], [0.5, 0.5], 2), /class 3/);
});
