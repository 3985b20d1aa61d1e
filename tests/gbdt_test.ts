import assert from "node:assert/strict";
import { trainGbdt } from "../lib/gbdt.ts";
import { gaussian, mulberry32 } from "../lib/rng.ts";
import { argmaxRows } from "../lib/metrics.ts";
import { ParameterError } from "../lib/errors.ts";
import { assertAlmostEquals } from "./_helpers.ts";

/** Three-class XOR-like problem: class = (x0 > 0) + (x1 > 0), two noise features. No linear model separates it. */
function xorData(n: number, seed: number) {
  const rng = mulberry32(seed);
  const x = new Float32Array(n * 4), y = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const a = rng() * 2 - 1, b = rng() * 2 - 1;
    x.set([a, b, gaussian(rng), gaussian(rng)], i * 4);
    y[i] = (a > 0 ? 1 : 0) + (b > 0 ? 1 : 0);
  }
  return { x, y, numFeatures: 4, numClasses: 3 };
}

Deno.test("trainGbdt() learns a non-linear 3-class problem and is reproducible per seed", async () => {
  const train = xorData(400, 1), test = xorData(300, 2);
  const model = await trainGbdt(train, { seed: 3, numRounds: 60, maxDepth: 3 });
  const p = model.predictProbabilities(test.x);
  assert.equal(p.length, 300 * 3);
  for (let i = 0; i < 300; i++) assertAlmostEquals(p[3 * i] + p[3 * i + 1] + p[3 * i + 2], 1, 1e-5);
  const pred = argmaxRows(p, 3);
  const acc = pred.filter((c, i) => c === test.y[i]).length / 300;
  assert.ok(acc > 0.93, `held-out accuracy ${acc}`);
  const again = await trainGbdt(train, { seed: 3, numRounds: 60, maxDepth: 3 });
  assert.deepEqual(again.predictProbabilities(test.x), p);
  assert.ok(model.toBytes().length > 1000);
  model.free();
  again.free();
});

Deno.test("trainGbdt() rejects a feature array that is not n × numFeatures, and NaN", async () => {
  await assert.rejects(
    () => trainGbdt({ x: new Float32Array(5), y: new Int32Array(2), numFeatures: 2, numClasses: 2 }, { seed: 1 }),
    ParameterError,
  );
  await assert.rejects(
    () => trainGbdt({ x: Float32Array.of(0, NaN), y: Int32Array.of(0, 1), numFeatures: 1, numClasses: 2 }, { seed: 1 }),
    ParameterError,
    "Cannot train GBDT: feature value 1 is NaN",
  );
});
