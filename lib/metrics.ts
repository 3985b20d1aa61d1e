/**
 * Classification metrics: accuracy, balanced accuracy, macro-F1, per-class precision/recall/F1,
 * confusion matrix, majority-class baseline, mean ± standard deviation over folds, ROC AUC, and
 * calibration (reliability bins, expected calibration error, Brier score).
 * @module
 */
import { ParameterError } from "./errors.ts";

/** Precision, recall and F1 of one class; 0 where the ratio is 0/0 (scikit-learn's `zero_division=0`). */
export interface ClassMetrics {
  precision: number;
  recall: number;
  f1: number;
  /** True instances of the class. */
  support: number;
}

/** Metrics of one evaluation. */
export interface Metrics {
  accuracy: number;
  /** Mean recall over the classes present in yTrue (scikit-learn `balanced_accuracy_score`). */
  balancedAccuracy: number;
  /** Mean F1 over the classes present in yTrue or yPred (scikit-learn `f1_score(average="macro")` over those labels). */
  macroF1: number;
  perClass: ClassMetrics[];
  /** confusion[true][predicted], numClasses × numClasses counts. */
  confusion: number[][];
}

/** Row-sum confusion matrix: confusion[t][p] counts samples of true class t predicted as p. */
export function confusionMatrix(
  yTrue: ArrayLike<number>,
  yPred: ArrayLike<number>,
  numClasses: number,
): number[][] {
  if (yTrue.length !== yPred.length) {
    throw new ParameterError(`Cannot compute metrics: ${yTrue.length} labels but ${yPred.length} predictions`);
  }
  const m = Array.from({ length: numClasses }, () => new Array<number>(numClasses).fill(0));
  for (let i = 0; i < yTrue.length; i++) {
    const t = yTrue[i], p = yPred[i];
    if (!(Number.isInteger(t) && t >= 0 && t < numClasses && Number.isInteger(p) && p >= 0 && p < numClasses)) {
      throw new ParameterError(
        `Cannot compute metrics: sample ${i} has class ${t} → ${p}, expected 0..${numClasses - 1}`,
      );
    }
    m[t][p]++;
  }
  return m;
}

/** Metrics from a confusion matrix (e.g. one summed over folds). */
export function metricsFromConfusion(confusion: number[][]): Metrics {
  const k = confusion.length;
  let total = 0, correct = 0;
  const perClass: ClassMetrics[] = [];
  let recallSum = 0, recallCount = 0, f1Sum = 0, f1Count = 0;
  for (let c = 0; c < k; c++) {
    let support = 0, predicted = 0;
    for (let j = 0; j < k; j++) {
      support += confusion[c][j];
      predicted += confusion[j][c];
    }
    const tp = confusion[c][c];
    total += support;
    correct += tp;
    const precision = predicted > 0 ? tp / predicted : 0;
    const recall = support > 0 ? tp / support : 0;
    const f1 = precision + recall > 0 ? 2 * precision * recall / (precision + recall) : 0;
    perClass.push({ precision, recall, f1, support });
    if (support > 0) {
      recallSum += recall;
      recallCount++;
    }
    if (support > 0 || predicted > 0) {
      f1Sum += f1;
      f1Count++;
    }
  }
  if (total === 0) throw new ParameterError("Cannot compute metrics: zero samples");
  return {
    accuracy: correct / total,
    balancedAccuracy: recallCount ? recallSum / recallCount : 0,
    macroF1: f1Count ? f1Sum / f1Count : 0,
    perClass,
    confusion: confusion.map((row) => row.slice()),
  };
}

/**
 * Evaluates class predictions.
 * @param yTrue True class indices 0..numClasses−1.
 * @param yPred Predicted class indices, same length.
 * @example Usage
 * ```ts
 * const m = evaluate([0, 0, 1, 1], [0, 1, 1, 1], 2);
 * assertEquals(m.accuracy, 0.75);
 * assertEquals(m.confusion, [[1, 1], [0, 2]]);
 * ```
 */
export function evaluate(yTrue: ArrayLike<number>, yPred: ArrayLike<number>, numClasses: number): Metrics {
  return metricsFromConfusion(confusionMatrix(yTrue, yPred, numClasses));
}

/** The most frequent class of a label list (smallest index on ties). */
export function majorityClass(y: ArrayLike<number>): number {
  const counts = new Map<number, number>();
  for (let i = 0; i < y.length; i++) counts.set(y[i], (counts.get(y[i]) ?? 0) + 1);
  let best = -1, bestCount = -1;
  for (const [c, n] of [...counts].sort((a, b) => a[0] - b[0])) {
    if (n > bestCount) {
      best = c;
      bestCount = n;
    }
  }
  if (best < 0) throw new ParameterError("Cannot find majority class: zero labels");
  return best;
}

/** Accuracy of always predicting the training set's most frequent class on the test labels. */
export function majorityBaseline(yTrain: ArrayLike<number>, yTest: ArrayLike<number>): number {
  const c = majorityClass(yTrain);
  let hits = 0;
  for (let i = 0; i < yTest.length; i++) if (yTest[i] === c) hits++;
  if (yTest.length === 0) throw new ParameterError("Cannot compute majority baseline: zero test labels");
  return hits / yTest.length;
}

/** Mean and sample standard deviation (n − 1; 0 for a single value). */
export function meanStd(values: readonly number[]): { mean: number; std: number } {
  if (values.length === 0) throw new ParameterError("Cannot compute mean: zero values");
  const mean = values.reduce((s, v) => s + v, 0) / values.length;
  if (values.length === 1) return { mean, std: 0 };
  const v = values.reduce((s, x) => s + (x - mean) ** 2, 0) / (values.length - 1);
  return { mean, std: Math.sqrt(v) };
}

/** Index of the largest value of each row of an n × k row-major probability matrix. */
export function argmaxRows(probabilities: ArrayLike<number>, numClasses: number): Int32Array {
  const n = Math.floor(probabilities.length / numClasses);
  const out = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    let best = 0;
    for (let c = 1; c < numClasses; c++) {
      if (probabilities[i * numClasses + c] > probabilities[i * numClasses + best]) best = c;
    }
    out[i] = best;
  }
  return out;
}

/**
 * Area under the ROC curve of a score separating `positive` from `negative` cases: the chance
 * that a random positive scores above a random negative, ties counting one half (the
 * Mann–Whitney U statistic over n₊·n₋, computed from average ranks in O(n log n)).
 * 0.5 is no separation; 1 (or 0) is perfect. NaN scores are rejected.
 * @example Usage
 * ```ts
 * assertEquals(rocAuc([0.9, 0.8], [0.1, 0.8]), 0.875); // 3 of 4 pairs won, one tie
 * ```
 */
export function rocAuc(positive: ArrayLike<number>, negative: ArrayLike<number>): number {
  const np = positive.length, nn = negative.length;
  if (np === 0 || nn === 0) throw new ParameterError(`Cannot compute ROC AUC: ${np} positive, ${nn} negative scores`);
  const all = [...Array.from(positive, (s) => ({ s, pos: true })), ...Array.from(negative, (s) => ({ s, pos: false }))];
  if (all.some((e) => Number.isNaN(e.s))) throw new ParameterError("Cannot compute ROC AUC: a score is NaN");
  all.sort((a, b) => a.s - b.s);
  let rankSumPositive = 0;
  for (let i = 0; i < all.length;) {
    let j = i;
    while (j < all.length && all[j].s === all[i].s) j++;
    const averageRank = (i + 1 + j) / 2; // ranks i+1 … j share their mean
    for (let t = i; t < j; t++) if (all[t].pos) rankSumPositive += averageRank;
    i = j;
  }
  return (rankSumPositive - np * (np + 1) / 2) / (np * nn);
}

/** One bin of a reliability diagram (top-class confidence against accuracy). */
export interface ReliabilityBin {
  /** Confidence range of the bin: [lower, upper), the last bin including 1. */
  lower: number;
  upper: number;
  /** Samples whose top-class probability falls in the bin. */
  count: number;
  /** Mean top-class probability of those samples (NaN when empty). */
  meanConfidence: number;
  /** Share of those samples whose top class is the true class (NaN when empty). */
  accuracy: number;
}

/** Checks an `n × k` probability matrix against `n` labels; returns n. */
/**
 * Checks row-major class probabilities against their labels (n > 0 rows of `k`, labels in 0..k − 1).
 * @param action What the caller cannot do otherwise, for the message ("compute the Brier score").
 * @returns n, the number of samples. @throws {ParameterError}
 */
export function checkProbabilities(
  yTrue: ArrayLike<number>,
  probabilities: ArrayLike<number>,
  k: number,
  action: string,
): number {
  const n = yTrue.length;
  if (n === 0 || probabilities.length !== n * k) {
    throw new ParameterError(`Cannot ${action}: ${probabilities.length} probabilities for ${n} labels × ${k}`);
  }
  for (let i = 0; i < n; i++) {
    if (!(Number.isInteger(yTrue[i]) && yTrue[i] >= 0 && yTrue[i] < k)) {
      throw new ParameterError(`Cannot ${action}: sample ${i} has class ${yTrue[i]}, expected 0..${k - 1}`);
    }
  }
  return n;
}

/**
 * Reliability diagram of the top class: samples binned by their largest probability into
 * `numBins` equal-width bins over [0, 1], each with its mean confidence and accuracy (ties in
 * the top probability go to the first class, as {@linkcode argmaxRows}).
 * @param probabilities `n × numClasses` row-major.
 * @param numBins Default 10.
 */
export function reliabilityBins(
  yTrue: ArrayLike<number>,
  probabilities: ArrayLike<number>,
  numClasses: number,
  numBins = 10,
): ReliabilityBin[] {
  const n = checkProbabilities(yTrue, probabilities, numClasses, "compute reliability bins");
  const count = new Array<number>(numBins).fill(0), conf = count.slice(), hits = count.slice();
  const top = argmaxRows(probabilities, numClasses);
  for (let i = 0; i < n; i++) {
    const p = probabilities[i * numClasses + top[i]];
    const b = Math.min(numBins - 1, Math.max(0, Math.floor(p * numBins)));
    count[b]++;
    conf[b] += p;
    if (top[i] === yTrue[i]) hits[b]++;
  }
  return count.map((c, b) => ({
    lower: b / numBins,
    upper: (b + 1) / numBins,
    count: c,
    meanConfidence: c > 0 ? conf[b] / c : NaN,
    accuracy: c > 0 ? hits[b] / c : NaN,
  }));
}

/**
 * Expected calibration error of the top class: Σ_b (n_b / n) · |accuracy_b − confidence_b| over
 * {@linkcode reliabilityBins} (10 equal-width bins by default). 0 is perfectly calibrated.
 * @example Usage
 * ```ts
 * // Both samples in bin [0.9, 1) with confidence 0.9, one of them right: |0.5 − 0.9|
 * assertEquals(expectedCalibrationError([0, 1], [0.9, 0.1, 0.9, 0.1], 2).toFixed(3), "0.400");
 * ```
 */
export function expectedCalibrationError(
  yTrue: ArrayLike<number>,
  probabilities: ArrayLike<number>,
  numClasses: number,
  numBins = 10,
): number {
  let sum = 0, n = 0;
  for (const b of reliabilityBins(yTrue, probabilities, numClasses, numBins)) {
    if (b.count === 0) continue;
    sum += b.count * Math.abs(b.accuracy - b.meanConfidence);
    n += b.count;
  }
  return sum / n;
}

/**
 * Multi-class Brier score: the mean over samples of Σ_c (p_c − [c = y])², from 0 (certain and
 * right) to 2 (certain and wrong); always guessing uniformly over k classes scores 1 − 1/k.
 */
export function brierScore(yTrue: ArrayLike<number>, probabilities: ArrayLike<number>, numClasses: number): number {
  const n = checkProbabilities(yTrue, probabilities, numClasses, "compute Brier score");
  let sum = 0;
  for (let i = 0; i < n; i++) {
    for (let c = 0; c < numClasses; c++) sum += (probabilities[i * numClasses + c] - (c === yTrue[i] ? 1 : 0)) ** 2;
  }
  return sum / n;
}
