/**
 * The official metrics of the PASCAL Classifying Heart Sounds Challenge 2011, as the organisers'
 * evaluation sheet computes them (its cell formulas, not the textbook definitions). "Correct"
 * means the exact class: a murmur called extra sound is not a detected heart problem.
 * Denominators come from the clips scored, so a subset of the official test set (our data lacks
 * the clips held back for independent evaluation) is scored on the same footing.
 * @module
 */
import { ParameterError } from "./errors.ts";

/** Dataset A's classes, in the sheet's order. */
export const CHALLENGE_A_CLASSES = ["normal", "murmur", "extrahls", "artifact"] as const;
/** Dataset B's classes, in the sheet's order. */
export const CHALLENGE_B_CLASSES = ["normal", "murmur", "extrastole"] as const;

/** Class name of Dataset A. */
export type ChallengeAClass = typeof CHALLENGE_A_CLASSES[number];
/** Class name of Dataset B. */
export type ChallengeBClass = typeof CHALLENGE_B_CLASSES[number];

/** Official Dataset A metrics. */
export interface ChallengeAMetrics {
  /** Clips scored. */
  clips: number;
  /** correct / predicted as the class, per class in {@linkcode CHALLENGE_A_CLASSES} order; 0 when never predicted. */
  precision: Record<ChallengeAClass, number>;
  /** Sum of the four precisions, in [0, 4]. */
  totalPrecision: number;
  /** Artifact Se − (1 − Sp): Se = correct artifacts / artifacts, Sp = correct non-artifacts (exact class) / non-artifacts. */
  artifactYouden: number;
  artifactSensitivity: number;
  artifactSpecificity: number;
  /** The sheet's heart-problem F = 0.81·Se·P / (0.81·P + Se); 0 when Se and P are both 0. */
  heartProblemF: number;
  /** (correct murmurs + correct extra sounds) / (murmurs + extra sounds). */
  heartProblemSensitivity: number;
  /** (correct murmurs + correct extra sounds) / clips predicted murmur or extra sound; 0 when none. */
  heartProblemPrecision: number;
  /** confusion[true][predicted] in {@linkcode CHALLENGE_A_CLASSES} order. */
  confusion: number[][];
}

/** Discriminant-power band of the challenge's documentation. */
export type DiscriminantPowerBand = "poor" | "limited" | "fair" | "good";

/** Official Dataset B metrics. */
export interface ChallengeBMetrics {
  /** Clips scored. */
  clips: number;
  /** correct / predicted as the class, per class; 0 when never predicted. */
  precision: Record<ChallengeBClass, number>;
  /** Sum of the three precisions, in [0, 3]. */
  totalPrecision: number;
  /** Correct clips / clips. */
  accuracy: number;
  /** (correct murmurs + correct extrastoles) / (murmurs + extrastoles). */
  heartProblemSensitivity: number;
  /** Correct normals / normals. */
  heartProblemSpecificity: number;
  /** Se − (1 − Sp). */
  youden: number;
  /**
   * (√3/π)·(log10(Se/(1−Se)) + log10(Sp/(1−Sp))). Infinite when Se or Sp is exactly 1 (+∞) or 0 (−∞),
   * as the formula gives, and NaN when one is 1 and the other 0: a degenerate operating point (e.g.
   * every clip called normal), not a strong test, so it gets no band.
   */
  discriminantPower: number;
  /** poor < 1 ≤ limited < 2 ≤ fair < 3 ≤ good; null when DP is not finite. */
  discriminantPowerBand: DiscriminantPowerBand | null;
  /** confusion[true][predicted] in {@linkcode CHALLENGE_B_CLASSES} order. */
  confusion: number[][];
}

function confusionOf<C extends string>(
  classes: readonly C[],
  truth: readonly string[],
  predicted: readonly string[],
  dataset: string,
): number[][] {
  if (truth.length !== predicted.length) {
    throw new ParameterError(
      `Cannot score Dataset ${dataset}: ${truth.length} labels but ${predicted.length} predictions`,
    );
  }
  if (truth.length === 0) throw new ParameterError(`Cannot score Dataset ${dataset}: no clips`);
  const m = classes.map(() => new Array<number>(classes.length).fill(0));
  for (let i = 0; i < truth.length; i++) {
    const t = classes.indexOf(truth[i] as C), p = classes.indexOf(predicted[i] as C);
    if (t < 0 || p < 0) {
      throw new ParameterError(
        `Cannot score Dataset ${dataset}: clip ${i} is ${truth[i]} → ${predicted[i]}, expected ${classes.join(", ")}`,
      );
    }
    m[t][p]++;
  }
  return m;
}

/** a / b, or 0 when b is 0 (the sheet's IFERROR(…, 0)). */
function ratio(a: number, b: number): number {
  return b === 0 ? 0 : a / b;
}

function columnSum(m: number[][], c: number): number {
  return m.reduce((s, row) => s + row[c], 0);
}

function rowSum(m: number[][], c: number): number {
  return m[c].reduce((s, x) => s + x, 0);
}

/**
 * Scores Dataset A predictions with the official metrics.
 * @param truth True class of each clip: normal, murmur, extrahls or artifact.
 * @param predicted Predicted class of each clip, same names.
 * @throws {ParameterError} Lengths differ, no clips, or a name outside the four classes.
 * @example Usage
 * ```ts
 * const m = challengeMetricsA(["normal", "murmur", "artifact"], ["normal", "normal", "artifact"]);
 * assertEquals(m.precision.normal, 0.5);
 * ```
 */
export function challengeMetricsA(truth: readonly string[], predicted: readonly string[]): ChallengeAMetrics {
  const m = confusionOf(CHALLENGE_A_CLASSES, truth, predicted, "A");
  const [normal, murmur, extrahls, artifact] = [0, 1, 2, 3];
  const precisionOf = (c: number) => ratio(m[c][c], columnSum(m, c));
  const precision = {
    normal: precisionOf(normal),
    murmur: precisionOf(murmur),
    extrahls: precisionOf(extrahls),
    artifact: precisionOf(artifact),
  };
  const artifacts = rowSum(m, artifact);
  const nonArtifacts = truth.length - artifacts;
  const artifactSensitivity = ratio(m[artifact][artifact], artifacts);
  const artifactSpecificity = ratio(m[normal][normal] + m[murmur][murmur] + m[extrahls][extrahls], nonArtifacts);
  const problemsCorrect = m[murmur][murmur] + m[extrahls][extrahls];
  const heartProblemSensitivity = ratio(problemsCorrect, rowSum(m, murmur) + rowSum(m, extrahls));
  const heartProblemPrecision = ratio(problemsCorrect, columnSum(m, murmur) + columnSum(m, extrahls));
  const se = heartProblemSensitivity, p = heartProblemPrecision;
  return {
    clips: truth.length,
    precision,
    totalPrecision: precision.normal + precision.murmur + precision.extrahls + precision.artifact,
    artifactYouden: artifactSensitivity - (1 - artifactSpecificity),
    artifactSensitivity,
    artifactSpecificity,
    heartProblemF: ratio(0.81 * se * p, 0.81 * p + se),
    heartProblemSensitivity,
    heartProblemPrecision,
    confusion: m,
  };
}

/**
 * The challenge's discriminant power (√3/π)·(log10(Se/(1−Se)) + log10(Sp/(1−Sp))).
 * Se or Sp of 1 gives +∞ and of 0 gives −∞ (the log of an infinite or zero odds); one of each gives NaN.
 * @example Usage
 * ```ts
 * assertEquals(discriminantPower(0.5, 0.5), 0);
 * assertEquals(discriminantPower(1, 0.5), Infinity);
 * ```
 */
export function discriminantPower(sensitivity: number, specificity: number): number {
  const logOdds = (x: number) => Math.log10(x) - Math.log10(1 - x);
  return (Math.sqrt(3) / Math.PI) * (logOdds(sensitivity) + logOdds(specificity));
}

/**
 * The challenge's reading of a discriminant power: poor < 1, limited < 2, fair < 3, good otherwise;
 * null when it is not finite (Se or Sp of 0 or 1: the formula's limit says nothing about the test).
 */
export function discriminantPowerBand(dp: number): DiscriminantPowerBand | null {
  if (!Number.isFinite(dp)) return null;
  return dp < 1 ? "poor" : dp < 2 ? "limited" : dp < 3 ? "fair" : "good";
}

/**
 * Scores Dataset B predictions with the official metrics.
 * @param truth True class of each clip: normal, murmur or extrastole.
 * @param predicted Predicted class of each clip, same names.
 * @throws {ParameterError} Lengths differ, no clips, or a name outside the three classes.
 * @example Usage
 * ```ts
 * const m = challengeMetricsB(["normal", "murmur"], ["normal", "normal"]);
 * assertEquals([m.accuracy, m.heartProblemSensitivity, m.heartProblemSpecificity], [0.5, 0, 1]);
 * ```
 */
export function challengeMetricsB(truth: readonly string[], predicted: readonly string[]): ChallengeBMetrics {
  const m = confusionOf(CHALLENGE_B_CLASSES, truth, predicted, "B");
  const [normal, murmur, extrastole] = [0, 1, 2];
  const precisionOf = (c: number) => ratio(m[c][c], columnSum(m, c));
  const precision = { normal: precisionOf(normal), murmur: precisionOf(murmur), extrastole: precisionOf(extrastole) };
  const se = ratio(m[murmur][murmur] + m[extrastole][extrastole], rowSum(m, murmur) + rowSum(m, extrastole));
  const sp = ratio(m[normal][normal], rowSum(m, normal));
  const dp = discriminantPower(se, sp);
  return {
    clips: truth.length,
    precision,
    totalPrecision: precision.normal + precision.murmur + precision.extrastole,
    accuracy: (m[normal][normal] + m[murmur][murmur] + m[extrastole][extrastole]) / truth.length,
    heartProblemSensitivity: se,
    heartProblemSpecificity: sp,
    youden: se - (1 - sp),
    discriminantPower: dp,
    discriminantPowerBand: discriminantPowerBand(dp),
    confusion: m,
  };
}
