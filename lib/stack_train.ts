/**
 * Training side of the stacked classifier (lib/stack.ts): XGBoost on hand features
 * (lib/handfeatures.ts) combined with the CNN's probabilities, and the nested choice of the
 * combination's operating point (CNN weight w and logit adjustment τ) inside training folds.
 * @module
 */
import { type GbdtOptions, trainGbdt } from "./gbdt.ts";
import { HAND_FEATURE_NAMES, handFeatures } from "./handfeatures.ts";
import { argmaxRows, evaluate } from "./metrics.ts";
import { ParameterError } from "./errors.ts";
import { groupedStratifiedKFold } from "./splits.ts";
import {
  combineProbabilities,
  encodeTreeEnsemble,
  parseXgboostModel,
  type StackFile,
  type StackParameters,
} from "./stack.ts";
import type { Waveform } from "./types.ts";

/** XGBoost settings of the shipped second stage. */
export const STACK_GBDT: GbdtOptions = {
  seed: 1,
  numRounds: 150,
  maxDepth: 3,
  learningRate: 0.05,
  subsample: 0.8,
  colsampleByTree: 0.5,
};

/** CNN weights w and logit adjustments τ searched by {@linkcode chooseOperatingPoint}. */
export const STACK_GRID = {
  cnnWeights: [0, 0.25, 0.4, 0.5, 0.6, 0.75, 1],
  taus: [0, 0.25, 0.5, 0.75, 1, 1.25],
};

/** Hand features of many recordings, `n × HAND_FEATURE_NAMES.length` row-major. */
export function handFeatureMatrix(waves: readonly Waveform[]): Float32Array {
  const d = HAND_FEATURE_NAMES.length;
  const x = new Float32Array(waves.length * d);
  waves.forEach((w, i) => x.set(handFeatures(w), i * d));
  return x;
}

function rowsOf(x: Float32Array, d: number, idx: readonly number[]): Float32Array {
  const out = new Float32Array(idx.length * d);
  idx.forEach((i, r) => out.set(x.subarray(i * d, (i + 1) * d), r * d));
  return out;
}

/** Class shares of `y[idx]` (k classes). */
export function classShares(y: ArrayLike<number>, idx: readonly number[], k: number): number[] {
  const c = new Array<number>(k).fill(0);
  for (const i of idx) c[y[i]]++;
  return c.map((v) => Math.max(v, 1e-3) / idx.length);
}

/**
 * Trains XGBoost on rows `train` and predicts rows `test`.
 * @returns `test.length × k` probabilities, and the booster's bytes when `keepBytes`.
 */
export async function fitPredictTrees(
  data: { x: Float32Array; y: ArrayLike<number>; numFeatures: number; numClasses: number },
  train: readonly number[],
  test: readonly number[],
  options: GbdtOptions = STACK_GBDT,
): Promise<{ probabilities: Float32Array; bytes: Uint8Array }> {
  const { x, y, numFeatures: d, numClasses: k } = data;
  const model = await trainGbdt(
    { x: rowsOf(x, d, train), y: Int32Array.from(train, (i) => y[i]), numFeatures: d, numClasses: k },
    options,
  );
  try {
    return { probabilities: model.predictProbabilities(rowsOf(x, d, test)), bytes: model.toBytes() };
  } finally {
    model.free();
  }
}

/** Out-of-fold tree probabilities over `folds` of the rows `indices` (n × k, in `indices` order). */
export async function treeOutOfFold(
  data: { x: Float32Array; y: ArrayLike<number>; numFeatures: number; numClasses: number },
  indices: readonly number[],
  folds: readonly { train: number[]; test: number[] }[],
  options: GbdtOptions = STACK_GBDT,
): Promise<Float32Array> {
  const k = data.numClasses;
  const out = new Float32Array(indices.length * k);
  for (const f of folds) {
    const { probabilities } = await fitPredictTrees(
      data,
      f.train.map((j) => indices[j]),
      f.test.map((j) => indices[j]),
      options,
    );
    f.test.forEach((j, r) => out.set(probabilities.subarray(r * k, r * k + k), j * k));
  }
  return out;
}

/**
 * The selection objective: accuracy + 2 · balanced accuracy. Balanced accuracy counts double
 * because accuracy alone rewards calling everything normal (64.6 % of the data). Of the seven
 * objectives compared under nested CV (results/cnn.json `stack.objectivesTried`), this one and
 * "best balanced accuracy with accuracy ≥ majority share + 0.05" kept both numbers up.
 */
export function operatingPointScore(yTrue: ArrayLike<number>, probabilities: Float32Array, k: number): number {
  const m = evaluate(yTrue, argmaxRows(probabilities, k), k);
  return m.accuracy + 2 * m.balancedAccuracy;
}

/**
 * Picks the combination (CNN weight w, τ) with the best {@linkcode operatingPointScore} on
 * out-of-fold probabilities of training data (raw CNN probabilities: τ 0 baked in).
 * Ties keep the first in grid order (smaller w, then smaller τ).
 */
export function chooseOperatingPoint(
  cnn: Float32Array,
  trees: Float32Array,
  yTrue: ArrayLike<number>,
  prior: number[],
  grid = STACK_GRID,
): { cnnWeight: number; tau: number; score: number } {
  const k = prior.length;
  if (cnn.length !== trees.length || cnn.length !== yTrue.length * k) {
    throw new ParameterError(
      `Cannot choose operating point: ${cnn.length} CNN, ${trees.length} tree values, ${yTrue.length} labels`,
    );
  }
  let best = { cnnWeight: NaN, tau: NaN, score: -Infinity };
  for (const cnnWeight of grid.cnnWeights) {
    for (const tau of grid.taus) {
      const p = combineProbabilities(cnn, trees, { prior, cnnTau: 0, cnnWeight, tau });
      const score = operatingPointScore(yTrue, p, k);
      if (score > best.score) best = { cnnWeight, tau, score };
    }
  }
  return best;
}

/** Inputs of {@linkcode nestedStackCv}. */
export interface NestedStackInputs {
  /** Hand features, `n × numFeatures`. */
  x: Float32Array;
  numFeatures: number;
  y: ArrayLike<number>;
  groups: ArrayLike<string>;
  numClasses: number;
  /** Outer folds (the same the CNN was cross-validated on). */
  folds: readonly { train: number[]; test: number[] }[];
  /** Raw (τ 0) out-of-fold CNN probabilities of the outer CV, `n × k`. */
  cnnOuter: Float32Array;
  /** Per outer fold: raw out-of-fold CNN probabilities of an inner CV on its training rows
   * (`train.length × k`, in `folds[f].train` order) and that inner CV's seed (its folds). */
  cnnInner: { probabilities: Float32Array; seed: number }[];
}

/** Result of {@linkcode nestedStackCv}. */
export interface NestedStackResult {
  /** Out-of-fold probabilities of the stack at the operating point chosen inside each training fold. */
  probabilities: Float32Array;
  /** Out-of-fold tree-only probabilities (τ 0). */
  treeProbabilities: Float32Array;
  /** Chosen (w, τ) and inner score per outer fold. */
  chosen: { cnnWeight: number; tau: number; score: number }[];
}

/**
 * Nested CV of the stack: per outer fold, trees are trained on the training rows; (w, τ) is
 * chosen on inner out-of-fold CNN and tree probabilities of the training rows only (inner folds:
 * `groupedStratifiedKFold` with the CNN's inner seed); then the test rows are scored.
 */
export async function nestedStackCv(
  inputs: NestedStackInputs,
  options: GbdtOptions = STACK_GBDT,
): Promise<NestedStackResult> {
  const { x, numFeatures, y, groups, numClasses: k, folds, cnnOuter, cnnInner } = inputs;
  const data = { x, y, numFeatures, numClasses: k };
  const n = y.length;
  const probabilities = new Float32Array(n * k), treeProbabilities = new Float32Array(n * k);
  const chosen: NestedStackResult["chosen"] = [];
  for (const [f, fold] of folds.entries()) {
    const prior = classShares(y, fold.train, k);
    const innerFolds = groupedStratifiedKFold(
      fold.train.map((i) => y[i]),
      fold.train.map((i) => groups[i]),
      5,
      cnnInner[f].seed,
    );
    const innerTrees = await treeOutOfFold(data, fold.train, innerFolds, options);
    const pick = chooseOperatingPoint(cnnInner[f].probabilities, innerTrees, fold.train.map((i) => y[i]), prior);
    chosen.push(pick);
    const { probabilities: trees } = await fitPredictTrees(data, fold.train, fold.test, options);
    const cnn = rowsOf(cnnOuter, k, fold.test);
    const p = combineProbabilities(cnn, trees, { prior, cnnTau: 0, cnnWeight: pick.cnnWeight, tau: pick.tau });
    fold.test.forEach((i, r) => {
      probabilities.set(p.subarray(r * k, r * k + k), i * k);
      treeProbabilities.set(trees.subarray(r * k, r * k + k), i * k);
    });
  }
  return { probabilities, treeProbabilities, chosen };
}

/**
 * The shipped second stage trained on all rows: trees on every recording, and (w, τ) chosen on
 * the outer out-of-fold probabilities of the CV (data the final models are trained on).
 * @param cnn The final CNN's baked-in adjustment: its τ and the prior it used.
 */
export async function trainStack(
  inputs: Pick<NestedStackInputs, "x" | "numFeatures" | "y" | "numClasses" | "cnnOuter">,
  treeOutOfFoldProbabilities: Float32Array,
  cnn: { tau: number; prior: number[] },
  options: GbdtOptions = STACK_GBDT,
): Promise<{ file: StackFile; chosen: { cnnWeight: number; tau: number; score: number } }> {
  const { x, numFeatures, y, numClasses: k, cnnOuter } = inputs;
  const all = Array.from({ length: y.length }, (_, i) => i);
  const prior = classShares(y, all, k);
  const chosen = chooseOperatingPoint(cnnOuter, treeOutOfFoldProbabilities, y, prior);
  const { bytes } = await fitPredictTrees({ x, y, numFeatures, numClasses: k }, all, [], options);
  const parameters: StackParameters = {
    prior,
    cnnTau: cnn.tau,
    cnnPrior: cnn.prior,
    cnnWeight: chosen.cnnWeight,
    tau: chosen.tau,
  };
  return {
    file: {
      version: 1,
      featureNames: [...HAND_FEATURE_NAMES],
      parameters,
      trees: encodeTreeEnsemble(parseXgboostModel(bytes)),
    },
    chosen,
  };
}
