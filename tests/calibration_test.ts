import assert from "node:assert/strict";
import {
  applyConfidenceCalibration,
  applyTemperature,
  fitConfidenceCalibration,
  fitTemperature,
  temperatureNll,
} from "../lib/calibration.ts";
import { ParameterError } from "../lib/errors.ts";
import { assertAlmostEquals } from "./_helpers.ts";

Deno.test("applyTemperature() raises probabilities to 1/T and renormalises", () => {
  const p = applyTemperature([0.8, 0.2, 0.5, 0.5, 1, 0], 2, 0.5);
  assertAlmostEquals(p[0], 16 / 17, 1e-6); // 0.8² : 0.2²
  assertAlmostEquals(p[2], 0.5, 1e-7);
  assert.deepEqual([...p.subarray(4)], [1, 0]); // a zero stays zero
  const q = applyTemperature([0.7, 0.2, 0.1], 3, 2); // √0.7 : √0.2 : √0.1
  const s = Math.sqrt(0.7) + Math.sqrt(0.2) + Math.sqrt(0.1);
  assertAlmostEquals(q[1], Math.sqrt(0.2) / s, 1e-6);
  assert.deepEqual([...applyTemperature([0.25, 0.75], 2, 1)], [0.25, 0.75]);
  assert.throws(() => applyTemperature([0.5, 0.5], 2, 0), ParameterError);
  assert.throws(() => applyTemperature([0.5, 0.5, 1], 2, 1), /not rows of 2/);
});

Deno.test("fitTemperature() finds the temperature that matches confidence to the hit rate", () => {
  // Every sample says (0.8, 0.2) and 64 % are class 0: the best T makes 0.8^(1/T) / (0.8^(1/T) + 0.2^(1/T))
  // equal 0.64, i.e. 0.25^(1/T) = 0.36 / 0.64.
  const n = 100, y = Array.from({ length: n }, (_, i) => (i < 64 ? 0 : 1));
  const p = Array.from({ length: n }, () => [0.8, 0.2]).flat();
  const expected = Math.log(0.25) / Math.log(0.36 / 0.64);
  const t = fitTemperature(y, p, 2);
  assertAlmostEquals(t, expected, 1e-3);
  assertAlmostEquals(applyTemperature([0.8, 0.2], 2, t)[0], 0.64, 1e-4);
  // Underconfident (0.6 said, 90 % right): T < 1 sharpens.
  const y2 = Array.from({ length: 10 }, (_, i) => (i < 9 ? 0 : 1));
  const t2 = fitTemperature(y2, Array.from({ length: 10 }, () => [0.6, 0.4]).flat(), 2);
  assertAlmostEquals(t2, Math.log(1.5) / Math.log(9), 1e-3);
});

Deno.test("temperatureNll() is the mean −log p of the true class", () => {
  assertAlmostEquals(temperatureNll([0, 1], [0.8, 0.2, 0.5, 0.5], 2, 1), -(Math.log(0.8) + Math.log(0.5)) / 2, 1e-12);
  assert.throws(() => temperatureNll([0], [0.5, 0.5, 0.5], 2, 1), /Cannot fit temperature/);
});

Deno.test("fitConfidenceCalibration() matches two confidence levels to their hit rates exactly", () => {
  // 10 rows say 0.5 and 6 are right; 10 say 0.8 and 9 are right. Two levels, two parameters: the fit is exact,
  // σ(a · logit(0.5) + b) = 0.6 and σ(a · logit(0.8) + b) = 0.9.
  const y: number[] = [], p: number[] = [];
  for (let i = 0; i < 10; i++) y.push(i < 6 ? 0 : 1), p.push(0.5, 0.3, 0.2);
  for (let i = 0; i < 10; i++) y.push(i < 9 ? 0 : 2), p.push(0.8, 0.15, 0.05);
  const logit = (q: number) => Math.log(q / (1 - q));
  const { slope, intercept } = fitConfidenceCalibration(y, p, 3);
  assertAlmostEquals(intercept, logit(0.6), 1e-4);
  assertAlmostEquals(slope, (logit(0.9) - logit(0.6)) / logit(0.8), 1e-4);
  const q = applyConfidenceCalibration([0.5, 0.3, 0.2, 0.8, 0.15, 0.05], 3, { slope, intercept });
  assertAlmostEquals(q[0], 0.6, 1e-4);
  assertAlmostEquals(q[1], 0.4 * 0.6, 1e-4); // the rest (0.4) in the old proportions 0.3 : 0.2
  assertAlmostEquals(q[3], 0.9, 1e-4);
  assertAlmostEquals(q[4], 0.1 * 0.75, 1e-4);
});

Deno.test("applyConfidenceCalibration() keeps the top class on top and rows summing to 1", () => {
  // A steep downward map would push 0.4 below its runner-up 0.35; it stops where they tie.
  const q = applyConfidenceCalibration([0.4, 0.35, 0.25, 1, 0, 0], 3, { slope: 1, intercept: -3 });
  assert.ok(q[0] >= q[1] - 1e-7, `${q[0]} < ${q[1]}`);
  assertAlmostEquals(q[0] + q[1] + q[2], 1, 1e-6);
  assertAlmostEquals(q[1] / q[2], 0.35 / 0.25, 1e-5);
  // All the mass on one class: the rest is shared equally.
  assertAlmostEquals(q[4], q[5], 1e-7);
  assertAlmostEquals(q[3] + q[4] + q[5], 1, 1e-6);
  assert.deepEqual(
    Array.from(applyConfidenceCalibration([0.7, 0.3], 2, { slope: 1, intercept: 0 }), (v) => v.toFixed(6)),
    ["0.700000", "0.300000"],
  );
  assert.throws(() => applyConfidenceCalibration([0.5, 0.5], 2, { slope: NaN, intercept: 0 }), ParameterError);
});
