import assert from "node:assert/strict";
import { applyTemperature, fitTemperature, temperatureNll } from "../lib/calibration.ts";
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
