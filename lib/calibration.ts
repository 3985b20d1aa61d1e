/**
 * Temperature scaling of class probabilities (Guo et al. 2017): p_c ∝ p_c^(1/T), i.e. the
 * log-probabilities divided by T. T > 1 softens overconfident probabilities, T < 1 sharpens
 * underconfident ones; the most probable class never changes. T is fitted by minimising the
 * negative log-likelihood on held-out (out-of-fold) probabilities.
 * @module
 */
import { ParameterError } from "./errors.ts";

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
  const n = yTrue.length;
  if (n === 0 || probabilities.length !== n * numClasses) {
    throw new ParameterError(
      `Cannot fit temperature: ${probabilities.length} probabilities for ${n} labels × ${numClasses}`,
    );
  }
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
