/**
 * Training side of the stacked classifier (lib/stack.ts): XGBoost on hand features
 * (lib/handfeatures.ts) combined with the CNN's probabilities, and the nested choice of the
 * combination's operating point (CNN weight w and logit adjustment τ) inside training folds.
 * @module
 */
import {
  applyConfidenceCalibration,
  applyTemperature,
  type ConfidenceCalibration,
  fitConfidenceCalibration,
  fitTemperature,
} from "./calibration.ts";
import { type GbdtOptions, trainGbdt } from "./gbdt.ts";
import { HAND_FEATURE_NAMES, handFeatures, MISSING_FEATURE } from "./handfeatures.ts";

import { argmaxRows, evaluate } from "./metrics.ts";
import { ParameterError } from "./errors.ts";
import { groupedStratifiedKFold } from "./splits.ts";
import {
  combineProbabilities,
  encodeTreeEnsemble,
  parseXgboostModel,
  QUALITY_REASONS,
  type QualityFile,
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
  /** Out-of-fold probabilities of the stack at the operating point chosen inside each training fold,
   * calibrated (top-label logistic) as fitted there. */
  probabilities: Float32Array;
  /** The same before calibration. */
  uncalibrated: Float32Array;
  /** The same with a temperature fitted there instead (the simpler calibration, for comparison). */
  temperatureScaled: Float32Array;
  /** Out-of-fold tree-only probabilities (τ 0). */
  treeProbabilities: Float32Array;
  /** Chosen (w, τ), inner score, calibration and temperature per outer fold. */
  chosen: { cnnWeight: number; tau: number; score: number; calibration: ConfidenceCalibration; temperature: number }[];
}

/**
 * Nested CV of the stack: per outer fold, trees are trained on the training rows; (w, τ) is
 * chosen, and then the calibration fitted, on inner out-of-fold CNN and tree
 * probabilities of the training rows only (inner folds: `groupedStratifiedKFold` with the CNN's
 * inner seed); then the test rows are scored.
 */
export async function nestedStackCv(
  inputs: NestedStackInputs,
  options: GbdtOptions = STACK_GBDT,
): Promise<NestedStackResult> {
  const { x, numFeatures, y, groups, numClasses: k, folds, cnnOuter, cnnInner } = inputs;
  const data = { x, y, numFeatures, numClasses: k };
  const n = y.length;
  const probabilities = new Float32Array(n * k), treeProbabilities = new Float32Array(n * k);
  const uncalibrated = new Float32Array(n * k), temperatureScaled = new Float32Array(n * k);
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
    const yInner = fold.train.map((i) => y[i]);
    const pick = chooseOperatingPoint(cnnInner[f].probabilities, innerTrees, yInner, prior);
    const point = { prior, cnnTau: 0, cnnWeight: pick.cnnWeight, tau: pick.tau };
    const innerStack = combineProbabilities(cnnInner[f].probabilities, innerTrees, point);
    const calibration = fitConfidenceCalibration(yInner, innerStack, k);
    const temperature = fitTemperature(yInner, innerStack, k);
    chosen.push({ ...pick, calibration, temperature });
    const { probabilities: trees } = await fitPredictTrees(data, fold.train, fold.test, options);
    const cnn = rowsOf(cnnOuter, k, fold.test);
    const p = combineProbabilities(cnn, trees, point);
    const calibrated = applyConfidenceCalibration(p, k, calibration);
    const scaled = applyTemperature(p, k, temperature);
    fold.test.forEach((i, r) => {
      uncalibrated.set(p.subarray(r * k, r * k + k), i * k);
      temperatureScaled.set(scaled.subarray(r * k, r * k + k), i * k);
      probabilities.set(calibrated.subarray(r * k, r * k + k), i * k);
      treeProbabilities.set(trees.subarray(r * k, r * k + k), i * k);
    });
  }
  return { probabilities, uncalibrated, temperatureScaled, treeProbabilities, chosen };
}

/**
 * The shipped second stage trained on all rows: trees on every recording, and (w, τ) chosen and
 * the calibration fitted on the outer out-of-fold probabilities of the CV (data the
 * final models are trained on).
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
  const point = { prior, cnnTau: 0, cnnWeight: chosen.cnnWeight, tau: chosen.tau };
  const calibration = fitConfidenceCalibration(y, combineProbabilities(cnnOuter, treeOutOfFoldProbabilities, point), k);
  const { bytes } = await fitPredictTrees({ x, y, numFeatures, numClasses: k }, all, [], options);
  const parameters: StackParameters = {
    prior,
    cnnTau: cnn.tau,
    cnnPrior: cnn.prior,
    cnnWeight: chosen.cnnWeight,
    tau: chosen.tau,
    calibration: { slope: Number(calibration.slope.toFixed(4)), intercept: Number(calibration.intercept.toFixed(4)) },
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

/** XGBoost settings of the quality model (usable heart sound vs artifact): small, it rides in stack.json. */
export const QUALITY_GBDT: GbdtOptions = {
  seed: 1,
  numRounds: 40,
  maxDepth: 2,
  learningRate: 0.15,
  subsample: 0.8,
  colsampleByTree: 0.5,
};

/**
 * Share of heart-sound recordings the quality threshold is set to flag, on out-of-fold qualities
 * (below the 5 % allowed, since a threshold read off one sample flags more elsewhere).
 */
export const QUALITY_HEART_FLAG_RATE = 0.03;

/**
 * The quality threshold that flags (quality < threshold) at most `rate` of the given heart-sound
 * qualities: the ⌊rate·n⌋-th smallest of them (0-based).
 */
export function qualityThreshold(heartQualities: ArrayLike<number>, rate = QUALITY_HEART_FLAG_RATE): number {
  if (heartQualities.length === 0) throw new ParameterError("Cannot choose quality threshold: zero heart sounds");
  const s = Float64Array.from(heartQualities).sort();
  return s[Math.min(s.length - 1, Math.floor(rate * s.length))];
}

/** Inputs of the quality model's CV: hand features of heart-sound and artifact recordings. */
export interface QualityInputs {
  /** Hand features, `n × numFeatures`. */
  x: Float32Array;
  numFeatures: number;
  /** 1 for an artifact recording, 0 for heart sound. */
  artifact: ArrayLike<number>;
  groups: ArrayLike<string>;
  /** Outer folds over these rows. */
  folds: readonly { train: number[]; test: number[] }[];
  /** Seed of the inner folds (inner fold seed = seed + 100·(f + 1)). */
  seed: number;
}

/** Probability of class 0 (usable heart sound) of each row of two-class probabilities. */
function usable(p: Float32Array): Float32Array {
  return Float32Array.from({ length: p.length / 2 }, (_, i) => p[2 * i]);
}

/**
 * Nested CV of the quality model: per outer fold, the threshold is read off inner out-of-fold
 * qualities of the training rows' heart sounds ({@linkcode qualityThreshold}), the trees are
 * trained on all training rows and the test rows scored.
 * @returns Out-of-fold quality per row, whether it is flagged, and each fold's threshold.
 */
export async function nestedQualityCv(
  inputs: QualityInputs,
  options: GbdtOptions = QUALITY_GBDT,
): Promise<{ quality: Float32Array; flagged: boolean[]; thresholds: number[] }> {
  const { x, numFeatures, artifact, groups, folds, seed } = inputs;
  const data = { x, y: artifact, numFeatures, numClasses: 2 };
  const n = artifact.length;
  const quality = new Float32Array(n), flagged = new Array<boolean>(n).fill(false), thresholds: number[] = [];
  for (const [f, fold] of folds.entries()) {
    const innerFolds = groupedStratifiedKFold(
      fold.train.map((i) => artifact[i]),
      fold.train.map((i) => groups[i]),
      5,
      seed + 100 * (f + 1),
    );
    const inner = usable(await treeOutOfFold(data, fold.train, innerFolds, options));
    const threshold = qualityThreshold(fold.train.flatMap((i, r) => (artifact[i] === 0 ? [inner[r]] : [])));
    thresholds.push(threshold);
    const q = usable((await fitPredictTrees(data, fold.train, fold.test, options)).probabilities);
    fold.test.forEach((i, r) => {
      quality[i] = q[r];
      flagged[i] = q[r] < threshold;
    });
  }
  return { quality, flagged, thresholds };
}

function quantileOf(values: number[], q: number): number {
  const s = values.toSorted((a, b) => a - b);
  const pos = q * (s.length - 1), lo = Math.floor(pos);
  return s[lo] + (s[Math.min(lo + 1, s.length - 1)] - s[lo]) * (pos - lo);
}

/**
 * The shipped quality model: trees on all rows, the threshold read off the CV's out-of-fold
 * heart-sound qualities, and the reason features' median and IQR over heart-sound rows.
 */
export async function trainQuality(
  inputs: Pick<QualityInputs, "x" | "numFeatures" | "artifact">,
  outOfFoldQuality: Float32Array,
  options: GbdtOptions = QUALITY_GBDT,
): Promise<QualityFile> {
  const { x, numFeatures: d, artifact } = inputs;
  const all = Array.from({ length: artifact.length }, (_, i) => i);
  const heart = all.filter((i) => artifact[i] === 0);
  const { bytes } = await fitPredictTrees({ x, y: artifact, numFeatures: d, numClasses: 2 }, all, [], options);
  const reasons = Object.keys(QUALITY_REASONS).map((feature) => {
    const j = HAND_FEATURE_NAMES.indexOf(feature);
    const v = heart.map((i) => x[i * d + j]).filter((value) => value !== MISSING_FEATURE);
    const median = quantileOf(v, 0.5), scale = quantileOf(v, 0.75) - quantileOf(v, 0.25);
    return { feature, median: Number(median.toPrecision(5)), scale: Number(scale.toPrecision(5)) };
  });
  return {
    trees: encodeTreeEnsemble(parseXgboostModel(bytes)),
    threshold: Number(qualityThreshold(heart.map((i) => outOfFoldQuality[i])).toPrecision(5)),
    reasons,
  };
}
