import assert from "node:assert/strict";
import {
  chooseOperatingPoint,
  classShares,
  nestedQualityCv,
  nestedStackCv,
  qualityThreshold,
  trainQuality,
  trainStack,
} from "../lib/stack_train.ts";
import { HAND_FEATURE_NAMES } from "../lib/handfeatures.ts";
import { assessQuality, decodeTreeEnsemble, loadQuality, predictTreeEnsemble } from "../lib/stack.ts";
import { groupedStratifiedKFold } from "../lib/splits.ts";
import { argmaxRows } from "../lib/metrics.ts";
import { gaussian, mulberry32 } from "../lib/rng.ts";

const FAST = { seed: 1, numRounds: 15, maxDepth: 2 };

const oneHot = (y: number[], k: number, value: (c: number, i: number) => number) =>
  Float32Array.from(y.flatMap((_, i) => Array.from({ length: k }, (_, c) => value(c, i))));

Deno.test("chooseOperatingPoint() picks the source that is right, first in grid order on ties", () => {
  const y = [0, 1, 2, 3, 0, 1, 2, 3, 0, 0];
  const prior = classShares(y, y.map((_, i) => i), 4);
  const right = oneHot(y, 4, (c, i) => (c === y[i] ? 1 : 0));
  const wrong = oneHot(y, 4, (c, i) => (c === (y[i] + 1) % 4 ? 1 : 0));
  assert.deepEqual(chooseOperatingPoint(wrong, right, y, prior), { cnnWeight: 0, tau: 0, score: 3 });
  // CNN right, trees wrong: w > 0.5 is needed; 0.6 is the first such weight in the grid.
  assert.deepEqual(chooseOperatingPoint(right, wrong, y, prior), { cnnWeight: 0.6, tau: 0, score: 3 });
});

Deno.test("nestedStackCv() learns from features when the CNN knows nothing, and trainStack() ships it", async () => {
  const rng = mulberry32(3);
  const n = 160, d = HAND_FEATURE_NAMES.length, k = 4;
  const y = Array.from({ length: n }, (_, i) => [0, 0, 0, 1, 2, 2, 3, 0][i % 8]);
  const groups = y.map((_, i) => `p${Math.floor(i / 2)}`);
  const x = new Float32Array(n * d);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < d; j++) x[i * d + j] = gaussian(rng);
    x[i * d + 3] = y[i] + 0.2 * gaussian(rng); // one informative feature
  }
  const folds = groupedStratifiedKFold(y, groups, 5, 42);
  const uniform = new Float32Array(n * k).fill(0.25);
  const res = await nestedStackCv({
    x,
    numFeatures: d,
    y,
    groups,
    numClasses: k,
    folds,
    cnnOuter: uniform,
    cnnInner: folds.map((f, i) => ({ probabilities: new Float32Array(f.train.length * k).fill(0.25), seed: 7 + i })),
  }, FAST);
  const acc = argmaxRows(res.probabilities, k).filter((c, i) => c === y[i]).length / n;
  assert.ok(acc > 0.9, `nested accuracy ${acc}`);
  for (const c of res.chosen) {
    assert.ok(
      c.cnnWeight < 1 && c.temperature > 0 && Number.isFinite(c.calibration.slope),
      `CNN weight ${c.cnnWeight}`,
    );
  }
  // Calibration rescales, never changes the class.
  assert.deepEqual(argmaxRows(res.probabilities, k), argmaxRows(res.uncalibrated, k));
  const { file } = await trainStack(
    { x, numFeatures: d, y, numClasses: k, cnnOuter: uniform },
    res.treeProbabilities,
    { tau: 0, prior: [0.25, 0.25, 0.25, 0.25] },
    FAST,
  );
  assert.deepEqual(file.featureNames, [...HAND_FEATURE_NAMES]);
  assert.ok(Number.isFinite(file.parameters.calibration!.slope));
  const trees = decodeTreeEnsemble(JSON.parse(JSON.stringify(file.trees)));
  const fit = argmaxRows(predictTreeEnsemble(trees, x), k).filter((c, i) => c === y[i]).length / n;
  assert.ok(fit > 0.95, `training accuracy of the shipped trees ${fit}`);
});

Deno.test("qualityThreshold() flags at most the given share of heart-sound qualities", () => {
  const q = [0.9, 0.2, 0.8, 0.7, 0.95, 0.6, 0.99, 0.85, 0.75, 0.65];
  assert.equal(qualityThreshold(q, 0.1), 0.6); // ⌊0.1·10⌋ = 1: only 0.2 lies below 0.6
  assert.equal(qualityThreshold(q, 0.05), 0.2); // none below
  assert.equal(qualityThreshold(q, 0.25), 0.65); // 0.2 and 0.6 below
  assert.throws(() => qualityThreshold([]), /zero heart sounds/);
});

Deno.test("nestedQualityCv() flags artifacts that differ in one feature, and trainQuality() ships it", async () => {
  const rng = mulberry32(5);
  const n = 200, d = HAND_FEATURE_NAMES.length;
  const artifact = Array.from({ length: n }, (_, i) => (i % 5 === 0 ? 1 : 0));
  const groups = artifact.map((_, i) => `p${Math.floor(i / 2)}`);
  const x = new Float32Array(n * d);
  const flat = HAND_FEATURE_NAMES.indexOf("flatnessMean");
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < d; j++) x[i * d + j] = gaussian(rng);
    x[i * d + flat] = artifact[i] ? 3 + gaussian(rng) * 0.3 : gaussian(rng) * 0.3;
  }
  const folds = groupedStratifiedKFold(artifact, groups, 5, 42);
  const cv = await nestedQualityCv({ x, numFeatures: d, artifact, groups, folds, seed: 42 }, FAST);
  const flagged = (a: number) =>
    artifact.filter((v, i) => v === a && cv.flagged[i]).length / artifact.filter((v) => v === a).length;
  assert.equal(flagged(1), 1);
  assert.ok(flagged(0) <= 0.05, `heart sounds flagged ${flagged(0)}`);
  const file = await trainQuality({ x, numFeatures: d, artifact }, cv.quality, FAST);
  const model = loadQuality(JSON.parse(JSON.stringify(file)), HAND_FEATURE_NAMES);
  const noisy = assessQuality(model, x.slice(0, d)); // row 0 is an artifact
  assert.equal(noisy.retake, true);
  assert.match(noisy.reason!, /broadband noise/);
  assert.equal(assessQuality(model, x.slice(d, 2 * d)).retake, false);
});
