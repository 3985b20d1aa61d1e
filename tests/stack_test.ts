import assert from "node:assert/strict";
import { trainGbdt } from "../lib/gbdt.ts";
import { gaussian, mulberry32 } from "../lib/rng.ts";
import { ModelError } from "../lib/errors.ts";
import {
  combineProbabilities,
  decodeTreeEnsemble,
  encodeTreeEnsemble,
  parseXgboostModel,
  predictTreeEnsemble,
  type TreeEnsemble,
} from "../lib/stack.ts";
import { assertAllClose } from "./_helpers.ts";

function data(n: number, seed: number) {
  const rng = mulberry32(seed);
  const x = new Float32Array(n * 5), y = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const a = rng() * 2 - 1, b = rng() * 2 - 1;
    x.set([a, b, gaussian(rng), gaussian(rng), rng() < 0.5 ? -999 : rng()], i * 5);
    y[i] = (a > 0 ? 1 : 0) + (b > 0.3 ? 2 : 0);
  }
  return { x, y, numFeatures: 5, numClasses: 4 };
}

Deno.test("predictTreeEnsemble() equals XGBoost's own predictions, also after encode/decode", async () => {
  const train = data(300, 1), test = data(200, 2);
  const booster = await trainGbdt(train, { seed: 5, numRounds: 40, maxDepth: 4 });
  const expected = booster.predictProbabilities(test.x);
  const trees = parseXgboostModel(booster.toBytes());
  booster.free();
  assert.equal(trees.numClasses, 4);
  assert.equal(trees.numFeatures, 5);
  assert.equal(trees.treeRoot.length, 40 * 4);
  assertAllClose(predictTreeEnsemble(trees, test.x), expected, 1e-6);
  const json = JSON.parse(JSON.stringify(encodeTreeEnsemble(trees)));
  assertAllClose(predictTreeEnsemble(decodeTreeEnsemble(json), test.x), expected, 1e-6);
});

Deno.test("predictTreeEnsemble() follows splits, default branches and adds the base score", () => {
  // One tree per class; class 0's tree: x0 < 0.5 → 1 else (x1 < 2 → 2, else 3); NaN in x0 goes right.
  const m: TreeEnsemble = {
    numClasses: 2,
    numFeatures: 2,
    baseScore: 0.5,
    treeClass: Uint8Array.of(0, 1),
    treeRoot: Int32Array.of(0, 5),
    feature: Int16Array.of(0, -1, 1, -1, -1, -1),
    left: Int32Array.of(1, -1, 3, -1, -1, -1),
    right: Int32Array.of(2, -1, 4, -1, -1, -1),
    defaultLeft: Uint8Array.of(0, 0, 1, 0, 0, 0),
    value: Float32Array.of(0.5, 1, 2, 2, 3, 0),
  };
  const sig = (z: number) => 1 / (1 + Math.exp(-z)); // P(class 0) = sigmoid(margin0 − margin1)
  const p = predictTreeEnsemble(m, Float32Array.of(0.2, 9, 0.5, 1, 0.7, 2, NaN, 5, 0.9, NaN));
  assertAllClose(Array.from({ length: 5 }, (_, r) => p[2 * r]), [1, 2, 3, 3, 2].map(sig), 1e-6);
  assert.throws(() => predictTreeEnsemble(m, new Float32Array(3)), /Cannot predict/);
});

Deno.test("decodeTreeEnsemble() rejects inconsistent files", () => {
  const m: TreeEnsemble = {
    numClasses: 2,
    numFeatures: 1,
    baseScore: 0.5,
    treeClass: Uint8Array.of(0, 1),
    treeRoot: Int32Array.of(0, 3),
    feature: Int16Array.of(0, -1, -1, -1),
    left: Int32Array.of(1, -1, -1, -1),
    right: Int32Array.of(2, -1, -1, -1),
    defaultLeft: new Uint8Array(4),
    value: Float32Array.of(0, 1, 2, 0),
  };
  const e = encodeTreeEnsemble(m);
  assert.deepEqual(decodeTreeEnsemble(e).left, m.left);
  assert.throws(() => decodeTreeEnsemble({ ...e, numNodes: 5 }), ModelError);
  assert.throws(() => decodeTreeEnsemble({ ...e, numFeatures: 0 }), ModelError);
  assert.throws(() => decodeTreeEnsemble({ ...e, format: "x" as "xgboost-trees-v2" }), ModelError);
});

Deno.test("combineProbabilities() undoes the CNN's τ, mixes, and applies its own τ", () => {
  const prior = [0.75, 0.25];
  const cnn = Float32Array.of(0.5, 0.5), trees = Float32Array.of(0.9, 0.1);
  // CNN raw ∝ 0.5·0.75^1, 0.5·0.25^1 = (0.75, 0.25); mix ½: (0.825, 0.175); τ 1: ∝ (1.1, 0.7).
  const p = combineProbabilities(cnn, trees, { prior, cnnTau: 1, cnnWeight: 0.5, tau: 1 });
  assertAllClose(p, [1.1 / 1.8, 0.7 / 1.8], 1e-6);
  assertAllClose(combineProbabilities(cnn, trees, { prior, cnnTau: 0, cnnWeight: 0, tau: 0 }), trees, 1e-7);
  assert.throws(() => combineProbabilities(cnn, Float32Array.of(1), { prior, cnnTau: 0, cnnWeight: 0, tau: 0 }));
});
