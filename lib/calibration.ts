/**
 * Calibration of class probabilities, fitted on held-out (out-of-fold) probabilities; neither
 * method changes the most probable class.
 *
 * - Top-label logistic calibration (what the shipped stack uses): the probability of the top
 *   class c becomes σ(a · logit(c) + b), fitted by logistic regression of "top class is right" on
 *   logit(c) (Platt scaling of the confidence); the other classes share the rest in their old
 *   proportions. Two parameters can flatten or steepen the confidence–accuracy curve, which a
 *   temperature cannot.
 * - Temperature scaling (Guo et al. 2017): p_c ∝ p_c^(1/T), i.e. the log-probabilities divided by
 *   T; T > 1 softens, T < 1 sharpens. Fitted by minimising the negative log-likelihood.
 * @module
 */
import { ParameterError } from "./errors.ts";
import { checkProbabilities } from "./metrics.ts";

/** Smallest probability taken into a logarithm (keeps a confident miss finite). */
const FLOOR = 1e-7;
/** Temperatures searched by {@linkcode fitTemperature}, as a range of log T. */
const LOG_T_RANGE: readonly [number, number] = [Math.log(0.05), Math.log(20)];

/**
 * Rescales each row of `n × numClasses` probabilities by temperature `temperature`.
 * @param temperature > 0; 1 returns a copy.
 * @returns New `n × numClasses` probabilities; rows sum to 1.
 * @example Usage
 * ```ts
 * const p = applyTemperature(Float32Array.of(0.8, 0.2), 2, 0.5); // 0.8² : 0.2² = 16 : 1
 * assertEquals(p[0].toFixed(4), (16 / 17).toFixed(4));
 * ```
 */
export function applyTemperature(
  probabilities: ArrayLike<number>,
  numClasses: number,
  temperature: number,
): Float32Array {
  if (!(temperature > 0) || !Number.isFinite(temperature)) {
    throw new ParameterError(`Cannot apply temperature: ${temperature} is not a positive number`);
  }
  if (probabilities.length % numClasses !== 0) {
    throw new ParameterError(`Cannot apply temperature: ${probabilities.length} values are not rows of ${numClasses}`);
  }
  const out = new Float32Array(probabilities.length);
  const logs = new Float64Array(numClasses);
  for (let r = 0; r < probabilities.length; r += numClasses) {
    let max = -Infinity;
    for (let c = 0; c < numClasses; c++) {
      const p = probabilities[r + c];
      logs[c] = p > 0 ? Math.log(p) / temperature : -Infinity;
      if (logs[c] > max) max = logs[c];
    }
    let sum = 0;
    for (let c = 0; c < numClasses; c++) sum += logs[c] = Math.exp(logs[c] - max);
    for (let c = 0; c < numClasses; c++) out[r + c] = logs[c] / sum;
  }
  return out;
}

/**
 * Mean negative log-likelihood of the true classes after temperature scaling (probabilities
 * floored at 1e-7 before the logarithm).
 */
export function temperatureNll(
  yTrue: ArrayLike<number>,
  probabilities: ArrayLike<number>,
  numClasses: number,
  temperature: number,
): number {
  const n = checkProbabilities(yTrue, probabilities, numClasses, "fit temperature");
  let nll = 0;
  for (let i = 0; i < n; i++) {
    let max = -Infinity;
    for (let c = 0; c < numClasses; c++) {
      max = Math.max(max, Math.log(Math.max(probabilities[i * numClasses + c], FLOOR)) / temperature);
    }
    let sum = 0;
    for (let c = 0; c < numClasses; c++) {
      sum += Math.exp(Math.log(Math.max(probabilities[i * numClasses + c], FLOOR)) / temperature - max);
    }
    const own = Math.log(Math.max(probabilities[i * numClasses + yTrue[i]], FLOOR)) / temperature - max;
    nll -= own - Math.log(sum);
  }
  return nll / n;
}

/**
 * The temperature with the lowest {@linkcode temperatureNll} on held-out probabilities and their
 * labels: golden-section search over log T in [log 0.05, log 20] (the likelihood is unimodal in
 * 1/T), to a relative precision of about 1e-4.
 * @param probabilities `n × numClasses` row-major, e.g. out-of-fold probabilities.
 */
export function fitTemperature(yTrue: ArrayLike<number>, probabilities: ArrayLike<number>, numClasses: number): number {
  const f = (logT: number) => temperatureNll(yTrue, probabilities, numClasses, Math.exp(logT));
  const g = (Math.sqrt(5) - 1) / 2;
  let [a, b] = LOG_T_RANGE;
  let c = b - g * (b - a), d = a + g * (b - a);
  let fc = f(c), fd = f(d);
  while (b - a > 1e-4) {
    if (fc <= fd) {
      b = d;
      d = c;
      fd = fc;
      c = b - g * (b - a);
      fc = f(c);
    } else {
      a = c;
      c = d;
      fc = fd;
      d = a + g * (b - a);
      fd = f(d);
    }
  }
  return Math.exp((a + b) / 2);
}

/** Parameters of the top-label logistic calibration: confidence c → σ(slope · logit(c) + intercept). */
export interface ConfidenceCalibration {
  slope: number;
  intercept: number;
}

function logit(p: number): number {
  const c = Math.min(Math.max(p, FLOOR), 1 - FLOOR);
  return Math.log(c / (1 - c));
}

/** Index and value of the largest and second-largest entries of row r (first largest on ties). */
function topTwo(p: ArrayLike<number>, r: number, k: number): { top: number; c: number; second: number } {
  let top = 0;
  for (let j = 1; j < k; j++) if (p[r + j] > p[r + top]) top = j;
  let second = 0;
  for (let j = 0; j < k; j++) if (j !== top) second = Math.max(second, p[r + j]);
  return { top, c: p[r + top], second };
}

/**
 * Fits {@linkcode ConfidenceCalibration} on held-out probabilities: logistic regression (Newton's
 * method, a 1e-6 ridge so that perfectly separated data stays finite) of whether the top class is
 * the true class on the logit of the top probability.
 * @param probabilities `n × numClasses` row-major, e.g. out-of-fold probabilities.
 */
export function fitConfidenceCalibration(
  yTrue: ArrayLike<number>,
  probabilities: ArrayLike<number>,
  numClasses: number,
): ConfidenceCalibration {
  const n = checkProbabilities(yTrue, probabilities, numClasses, "fit calibration");
  const z = new Float64Array(n), hit = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const { top, c } = topTwo(probabilities, i * numClasses, numClasses);
    z[i] = logit(c);
    hit[i] = top === yTrue[i] ? 1 : 0;
  }
  const ridge = 1e-6;
  let a = 1, b = 0;
  for (let iter = 0; iter < 100; iter++) {
    // Gradient and Hessian of the mean negative log-likelihood (+ ridge on a − 1 and b).
    let ga = ridge * (a - 1), gb = ridge * b, haa = ridge, hab = 0, hbb = ridge;
    for (let i = 0; i < n; i++) {
      const q = 1 / (1 + Math.exp(-(a * z[i] + b))), w = q * (1 - q), e = q - hit[i];
      ga += e * z[i] / n;
      gb += e / n;
      haa += w * z[i] * z[i] / n;
      hab += w * z[i] / n;
      hbb += w / n;
    }
    const det = haa * hbb - hab * hab;
    const da = (hbb * ga - hab * gb) / det, db = (haa * gb - hab * ga) / det;
    a -= da;
    b -= db;
    if (Math.abs(da) + Math.abs(db) < 1e-12) break;
  }
  return { slope: a, intercept: b };
}

/**
 * Applies {@linkcode ConfidenceCalibration} to each row: the top class's probability becomes
 * σ(slope · logit(c) + intercept) (raised where needed so that it stays the top class), the other
 * classes are rescaled to share the rest in their old proportions (equally if they were all 0).
 * @returns New `n × numClasses` probabilities; rows sum to 1.
 */
export function applyConfidenceCalibration(
  probabilities: ArrayLike<number>,
  numClasses: number,
  calibration: ConfidenceCalibration,
): Float32Array {
  const { slope, intercept } = calibration;
  if (!Number.isFinite(slope) || !Number.isFinite(intercept)) {
    throw new ParameterError(`Cannot calibrate: slope ${slope}, intercept ${intercept}`);
  }
  if (probabilities.length % numClasses !== 0) {
    throw new ParameterError(`Cannot calibrate: ${probabilities.length} values are not rows of ${numClasses}`);
  }
  const k = numClasses, out = new Float32Array(probabilities.length);
  for (let r = 0; r < probabilities.length; r += k) {
    const { top, c, second } = topTwo(probabilities, r, k);
    const rest = 1 - c;
    // The top class stays on top: c' ≥ second · (1 − c') / rest, i.e. c' ≥ second / (rest + second).
    const lowest = rest > 0 ? second / (rest + second) : 1 / k;
    const calibrated = Math.max(1 / (1 + Math.exp(-(slope * logit(c) + intercept))), lowest);
    for (let j = 0; j < k; j++) {
      out[r + j] = j === top
        ? calibrated
        : rest > 0
        ? probabilities[r + j] * (1 - calibrated) / rest
        : (1 - calibrated) / (k - 1);
    }
  }
  return out;
}
