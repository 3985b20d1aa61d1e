import assert from "node:assert/strict";
import { trainGbdt } from "../lib/gbdt.ts";
import { gaussian, mulberry32 } from "../lib/rng.ts";
import { ModelError } from "../lib/errors.ts";
import { HAND_FEATURE_NAMES, MISSING_FEATURE } from "../lib/handfeatures.ts";
import {
  assessQuality,
  combineProbabilities,
  decodeTreeEnsemble,
  type EncodedTreeEnsemble,
  encodeTreeEnsemble,
  loadQuality,
  parseXgboostModel,
  predictTreeEnsemble,
  QUALITY_REASONS,
  type TreeEnsemble,
} from "../lib/stack.ts";
import { assertAllClose, assertAlmostEquals } from "./_helpers.ts";

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

/** A trained booster's trees (40 rounds, depth 4, 4 classes) and held-out rows. */
async function trainedTrees(): Promise<{ trees: TreeEnsemble; test: Float32Array; expected: Float32Array }> {
  const train = data(300, 1), test = data(200, 2);
  const booster = await trainGbdt(train, { seed: 5, numRounds: 40, maxDepth: 4 });
  const expected = booster.predictProbabilities(test.x);
  const trees = parseXgboostModel(booster.toBytes());
  booster.free();
  return { trees, test: test.x, expected };
}

/** The bytes of `predictTreeEnsemble(m, x)`: equal bytes mean bit-identical predictions. */
function predictionBits(m: TreeEnsemble, x: Float32Array): Uint8Array {
  return new Uint8Array(predictTreeEnsemble(m, x).buffer);
}

function b64(a: ArrayBufferView): string {
  return btoa(String.fromCharCode(...new Uint8Array(a.buffer, a.byteOffset, a.byteLength)));
}

/** A copy of `x` with about a quarter of its values NaN (missing: the default branch). */
function withNaNs(x: Float32Array, seed: number): Float32Array {
  const rng = mulberry32(seed);
  return x.map((v) => rng() < 0.25 ? NaN : v);
}

Deno.test("encodeTreeEnsemble() round trips a trained booster with bit-identical predictions, NaN included", async () => {
  const { trees } = await trainedTrees();
  // XGBoost trained without missing values sends them all one way; mix the default branches.
  let splits = 0;
  for (let i = 0; i < trees.feature.length; i++) {
    if (trees.feature[i] >= 0 && splits++ % 3 === 0) trees.defaultLeft[i] ^= 1;
  }
  const e = encodeTreeEnsemble(trees);
  assert.equal(e.format, "xgboost-trees-v3");
  assert.equal(e.numNodes, trees.feature.length);
  const back = decodeTreeEnsemble(JSON.parse(JSON.stringify(e)));
  // Preorder: a split's left child is the next node, its right child comes after the left subtree.
  for (let i = 0; i < back.feature.length; i++) {
    if (back.feature[i] >= 0) assert.ok(back.left[i] === i + 1 && back.right[i] > i + 1, `node ${i}`);
  }
  const x = withNaNs(data(300, 3).x, 4);
  assert.deepEqual(predictionBits(back, x), predictionBits(trees, x));
  assert.deepEqual(encodeTreeEnsemble(back), e); // preorder is a fixed point
});

Deno.test("encodeTreeEnsemble() renumbers a hand-built tree into preorder, predictions unchanged", () => {
  // Tree 0, children stored out of order: x0 < 0.5 (NaN right) ? (x1 < 2 (NaN left) ? 1 : 2) : (x1 < −1 ? 3 : 4).
  // Tree 1: a single leaf for class 1.
  const m: TreeEnsemble = {
    numClasses: 2,
    numFeatures: 2,
    baseScore: 0.5,
    treeClass: Uint8Array.of(0, 1),
    treeRoot: Int32Array.of(0, 7),
    feature: Int16Array.of(0, 1, 1, -1, -1, -1, -1, -1),
    left: Int32Array.of(2, 3, 5, -1, -1, -1, -1, -1),
    right: Int32Array.of(1, 4, 6, -1, -1, -1, -1, -1),
    defaultLeft: Uint8Array.of(0, 0, 1, 0, 0, 0, 0, 0),
    value: Float32Array.of(0.5, -1, 2, 3, 4, 1, 2, 0.25),
  };
  const back = decodeTreeEnsemble(encodeTreeEnsemble(m));
  assert.deepEqual(back.treeRoot, Int32Array.of(0, 7));
  assert.deepEqual(back.feature, Int16Array.of(0, 1, -1, -1, 1, -1, -1, -1));
  assert.deepEqual(back.left, Int32Array.of(1, 2, -1, -1, 5, -1, -1, -1));
  assert.deepEqual(back.right, Int32Array.of(4, 3, -1, -1, 6, -1, -1, -1));
  assert.deepEqual(back.defaultLeft, Uint8Array.of(0, 1, 0, 0, 0, 0, 0, 0));
  assert.deepEqual(back.value, Float32Array.of(0.5, 2, 1, 2, -1, 3, 4, 0.25));
  const x = Float32Array.of(0.2, 9, 0.2, NaN, 0.7, -3, NaN, 0, 0.7, NaN, 0.5, 1, NaN, NaN);
  assert.deepEqual(predictionBits(back, x), predictionBits(m, x));
  const sig = (z: number) => 1 / (1 + Math.exp(-z)); // P(class 0) = sigmoid(margin0 − margin1)
  const p = predictTreeEnsemble(back, x);
  assertAllClose(Array.from({ length: 7 }, (_, r) => p[2 * r]), [2, 1, 3, 4, 4, 4, 4].map((v) => sig(v - 0.25)), 1e-6);
});

Deno.test("encodeTreeEnsemble() rejects features it cannot store and cyclic trees", () => {
  const m: TreeEnsemble = {
    numClasses: 2,
    numFeatures: 0x5000,
    baseScore: 0,
    treeClass: Uint8Array.of(0),
    treeRoot: Int32Array.of(0),
    feature: Int16Array.of(0x4000, -1, -1),
    left: Int32Array.of(1, -1, -1),
    right: Int32Array.of(2, -1, -1),
    defaultLeft: new Uint8Array(3),
    value: new Float32Array(3),
  };
  assert.throws(() => encodeTreeEnsemble(m), /Cannot encode tree model: .*feature 16384/);
  assert.throws(
    () => encodeTreeEnsemble({ ...m, feature: Int16Array.of(0, -1, -1), left: Int32Array.of(0, -1, -1) }),
    ModelError,
  );
  assert.throws(
    () => encodeTreeEnsemble({ ...m, feature: Int16Array.of(0, -1, -1), right: Int32Array.of(3, -1, -1) }),
    ModelError,
  );
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
  assert.throws(() => decodeTreeEnsemble({ ...e, format: "x" as "xgboost-trees-v3" }), ModelError);
});

/** Asserts that `f` throws a one-line ModelError whose message matches `pattern`. */
function assertModelError(f: () => unknown, pattern: RegExp): void {
  assert.throws(f, (err: unknown) => {
    assert.ok(err instanceof ModelError, String(err));
    assert.match(err.message, pattern);
    assert.ok(!err.message.includes("\n"), err.message);
    return true;
  });
}

Deno.test("decodeTreeEnsemble() rejects v3 trees that are not exactly consumed", () => {
  const L = 0xffff; // leaf
  /** A v3 encoding of two trees over one feature from raw arrays (numNodes from `node`). */
  const v3 = (treeSize: number[], node: number[], extra: Partial<EncodedTreeEnsemble> = {}): EncodedTreeEnsemble => ({
    format: "xgboost-trees-v3",
    numClasses: 2,
    numFeatures: 1,
    baseScore: 0.5,
    numTrees: 2,
    numNodes: node.length,
    treeClass: b64(Uint8Array.of(0, 1)),
    treeSize: b64(Uint16Array.from(treeSize)),
    node: b64(Uint16Array.from(node)),
    value: b64(new Float32Array(node.length)),
    ...extra,
  });
  const ok = decodeTreeEnsemble(v3([3, 1], [0x4000, L, L, L]));
  assert.deepEqual([...ok.left, ...ok.right], [1, -1, -1, -1, 2, -1, -1, -1]);
  assert.deepEqual(ok.defaultLeft, Uint8Array.of(1, 0, 0, 0));
  // Truncated node array: one node short, cut base64, half a node, not base64, missing.
  assertModelError(
    () => decodeTreeEnsemble(v3([3, 1], [0, L, L, L], { node: b64(Uint16Array.of(0, L, L)) })),
    /lengths/,
  );
  const e = v3([3, 1], [0, L, L, L]);
  assertModelError(() => decodeTreeEnsemble({ ...e, node: e.node.slice(0, -4) }), /lengths/);
  assertModelError(() => decodeTreeEnsemble({ ...e, node: b64(Uint8Array.of(0, 0, 0)) }), /node is not whole 2-byte/);
  assertModelError(() => decodeTreeEnsemble({ ...e, node: "#!" }), /node is not base64/);
  assertModelError(() => decodeTreeEnsemble({ ...e, node: undefined as unknown as string }), /node is not a string/);
  // A split without (both) children: inside a tree, at its end, or as a whole one-node tree.
  assertModelError(() => decodeTreeEnsemble(v3([3, 1], [0, 0, L, L])), /tree 0 ends before its splits have children/);
  assertModelError(() => decodeTreeEnsemble(v3([3, 1], [0, L, 0, L])), /tree 0 ends before/);
  assertModelError(() => decodeTreeEnsemble(v3([3, 1], [0, L, L, 0])), /tree 1 ends before/);
  // Tree sizes that do not match the structure, or the node count.
  assertModelError(() => decodeTreeEnsemble(v3([2, 2], [0, L, L, L])), /tree 0 ends before/);
  assertModelError(() => decodeTreeEnsemble(v3([4, 1], [0, L, L, L, L])), /tree 0 has nodes after its last leaf/);
  assertModelError(() => decodeTreeEnsemble(v3([1, 2], [L, L, L])), /tree 1 has nodes after its last leaf/);
  assertModelError(() => decodeTreeEnsemble(v3([3, 1], [0, L, L, L, L])), /tree sizes do not add up/);
  assertModelError(() => decodeTreeEnsemble(v3([3, 2], [0, L, L, L])), /tree 1 overruns/);
  assertModelError(() => decodeTreeEnsemble(v3([3, 0], [0, L, L, L])), /tree 1 overruns/);
  assertModelError(() => decodeTreeEnsemble({ ...v3([3, 1], [0, L, L, L]), numNodes: 5 }), /lengths/);
  // Bad codes and classes.
  assertModelError(() => decodeTreeEnsemble(v3([3, 1], [1, L, L, L])), /node 0 is malformed/);
  assertModelError(() => decodeTreeEnsemble(v3([3, 1], [0x8000, L, L, L])), /node 0 is malformed/);
  assertModelError(() => decodeTreeEnsemble(v3([3, 1], [0, L, L, L], { numClasses: 1 })), /tree 1 has class 1/);
  // Unknown formats name the accepted one.
  for (const format of ["xgboost-trees-v2", "xgboost-trees-v4", "xgboost-trees", undefined]) {
    const bad = { ...e, format } as unknown as EncodedTreeEnsemble;
    assertModelError(() => decodeTreeEnsemble(bad), /format is "[^"]*", expected xgboost-trees-v3$/);
  }
  assertModelError(() => decodeTreeEnsemble(null as unknown as EncodedTreeEnsemble), /format is "undefined"/);
});

Deno.test("the shipped trees (models/stack.json) re-encode to the same file and predict identically", async () => {
  const shipped = JSON.parse(await Deno.readTextFile(new URL("../models/stack.json", import.meta.url)));
  const trees = decodeTreeEnsemble(shipped.trees);
  const v3 = encodeTreeEnsemble(trees);
  assert.deepEqual(v3, shipped.trees);
  // Random rows around the trees' own thresholds (both sides, exact ties) with missing values.
  const d = trees.numFeatures, thresholds: number[][] = Array.from({ length: d }, () => []);
  for (let i = 0; i < trees.feature.length; i++) {
    if (trees.feature[i] >= 0) thresholds[trees.feature[i]].push(trees.value[i]);
  }
  const rng = mulberry32(11), x = new Float32Array(64 * d);
  for (let i = 0; i < x.length; i++) {
    const ts = thresholds[i % d], t = ts.length > 0 ? ts[Math.floor(rng() * ts.length)] : gaussian(rng);
    const r = rng();
    x[i] = r < 0.1 ? NaN : r < 0.2 ? -999 : r < 0.4 ? t : t + (rng() - 0.5) * (Math.abs(t) + 1e-3) * 0.01;
  }
  const expected = predictionBits(trees, x);
  assert.deepEqual(predictionBits(decodeTreeEnsemble(JSON.parse(JSON.stringify(v3))), x), expected);
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

Deno.test("combineProbabilities() applies the calibration last, keeping the class", () => {
  const prior = [0.75, 0.25];
  const cnn = Float32Array.of(0.5, 0.5), trees = Float32Array.of(0.9, 0.1);
  const point = { prior, cnnTau: 1, cnnWeight: 0.5, tau: 1 };
  // Uncalibrated (1.1, 0.7) / 1.8, top 11/18; slope 2, intercept 0: odds squared, 121 : 49.
  const p = combineProbabilities(cnn, trees, { ...point, calibration: { slope: 2, intercept: 0 } });
  assertAllClose(p, [121 / 170, 49 / 170], 1e-6);
});

Deno.test("assessQuality() flags below the threshold with the reason furthest from heart sound", () => {
  const d = HAND_FEATURE_NAMES.length;
  const f = (name: string) => HAND_FEATURE_NAMES.indexOf(name);
  // Two stumps on `flatnessMean` < 0.5: class 0 (usable) +2 / −2, class 1 −2 / +2 (base score 0.5 each).
  const model: TreeEnsemble = {
    numClasses: 2,
    numFeatures: d,
    baseScore: 0.5,
    treeClass: Uint8Array.of(0, 1),
    treeRoot: Int32Array.of(0, 3),
    feature: Int16Array.of(f("flatnessMean"), -1, -1, f("flatnessMean"), -1, -1),
    left: Int32Array.of(1, -1, -1, 4, -1, -1),
    right: Int32Array.of(2, -1, -1, 5, -1, -1),
    defaultLeft: new Uint8Array(6),
    value: Float32Array.of(0.5, 2, -2, 0.5, -2, 2),
  };
  const stack = loadQuality({
    trees: encodeTreeEnsemble(model),
    threshold: 0.5,
    reasons: [
      { feature: "flatnessMean", median: 0.2, scale: 0.1 },
      { feature: "confidence", median: 0.8, scale: 0.1 },
    ],
  }, HAND_FEATURE_NAMES);
  const x = new Float32Array(d);
  x[f("flatnessMean")] = 0.3;
  x[f("confidence")] = 0.8;
  const good = assessQuality(stack, x);
  assertAlmostEquals(good.quality, 1 / (1 + Math.exp(-4)), 1e-6); // margins 2.5 and −1.5
  assert.deepEqual([good.retake, good.reason], [false, null]);
  x[f("flatnessMean")] = 0.9; // 7 spreads above the median
  x[f("confidence")] = 0.5; // 3 spreads below
  const noisy = assessQuality(stack, x);
  assertAlmostEquals(noisy.quality, 1 / (1 + Math.exp(4)), 1e-6);
  assert.equal(noisy.retake, true);
  assert.equal(noisy.reason, QUALITY_REASONS.flatnessMean.text);
  x[f("confidence")] = MISSING_FEATURE; // no heartbeat at all beats any spread
  assert.equal(assessQuality(stack, x).reason, QUALITY_REASONS.confidence.text);
  assert.throws(
    () => loadQuality({ trees: encodeTreeEnsemble(model), threshold: 2, reasons: [] }, HAND_FEATURE_NAMES),
    /threshold is 2/,
  );
  assert.throws(
    () =>
      loadQuality({
        trees: encodeTreeEnsemble(model),
        threshold: 0.5,
        reasons: [{ feature: "nope", median: 0, scale: 1 }],
      }, HAND_FEATURE_NAMES),
    /reason feature "nope"/,
  );
});
