// Reference for tests and benches: lib/resample.ts as of commit 94960fa (before the speedups), unchanged except
// for import paths. tests/resample_test.ts checks the current implementation against it.
/**
 * Band-limited resampling with a Kaiser-windowed sinc low-pass filter.
 *
 * Output sample m lies at input time m·fromRate/toRate (in input samples), so the first output
 * sample coincides with the first input sample; samples outside the input count as zero.
 * The low-pass cutoff is placed so that the filter's stop band starts at the lower of the two
 * Nyquist frequencies: by default everything at or above the new Nyquist is attenuated by
 * ≥ 60 dB (the default design targets about 80 dB), and the pass band is flat (±0.01 dB) up to
 * about 0.84 of that Nyquist.
 * @module
 */
import { ParameterError } from "../lib/errors.ts";
import { assertValidAudio } from "../lib/types.ts";
import type { Waveform } from "../lib/types.ts";

/** Options of {@linkcode resample}. */
export interface ResampleOptions {
  /** Half-length of the filter in zero crossings of the lower rate's sinc; ≥ 2. Longer is
   * sharper and slower (cost grows linearly). @default {32} */
  halfWidth?: number;
  /** Kaiser window β; larger means more stop-band attenuation and a wider transition. β = 7.86 designs
   * about 80 dB (Kaiser: A ≈ β / 0.1102 + 8.7). @default {7.857} */
  kaiserBeta?: number;
  /** Cutoff (−6 dB point) as a fraction of the lower Nyquist, in (0, 1]. The default is the largest value
   * whose transition band ends at the lower Nyquist, from Kaiser's width formula with a 5 % margin. */
  rolloff?: number;
}

/** Zeroth-order modified Bessel function of the first kind, by its power series. */
function besselI0(x: number): number {
  let sum = 1, term = 1;
  const q = x * x / 4;
  for (let k = 1; k < 200; k++) {
    term *= q / (k * k);
    sum += term;
    if (term < sum * 1e-17) break;
  }
  return sum;
}

function gcd(a: number, b: number): number {
  while (b) [a, b] = [b, a % b];
  return a;
}

interface Design {
  /** Cutoff times the scale, in cycles per input sample times 2: h(x) = c·sinc(c·x)·w(x / width). */
  c: number;
  /** Half-length of the kernel in input samples. */
  width: number;
  beta: number;
  i0Beta: number;
}

function design(fromRate: number, toRate: number, options: ResampleOptions): Design {
  const halfWidth = options.halfWidth ?? 32;
  const beta = options.kaiserBeta ?? 7.857;
  if (!(halfWidth >= 2) || !Number.isFinite(halfWidth)) {
    throw new ParameterError(`Cannot resample audio: halfWidth is ${halfWidth}, expected a number ≥ 2`);
  }
  if (!(beta >= 0) || !Number.isFinite(beta)) {
    throw new ParameterError(`Cannot resample audio: kaiserBeta is ${beta}, expected a finite number ≥ 0`);
  }
  // Kaiser: a window of length N (in low-rate samples, N = 2·halfWidth) reaching A dB has a
  // transition width of (A − 7.95) / (14.36·N) cycles per low-rate sample.
  const attenuationDb = beta > 0 ? beta / 0.1102 + 8.7 : 21;
  const transition = 1.05 * (attenuationDb - 7.95) / (14.36 * 2 * halfWidth);
  const rolloff = options.rolloff ?? Math.max(0.05, 1 - transition);
  if (!(rolloff > 0 && rolloff <= 1)) {
    throw new ParameterError(`Cannot resample audio: rolloff is ${rolloff}, expected a number in (0, 1]`);
  }
  const scale = Math.min(1, toRate / fromRate);
  return { c: rolloff * scale, width: halfWidth / scale, beta, i0Beta: besselI0(beta) };
}

/** The continuous kernel at x input samples from the output instant. */
function kernel(d: Design, x: number): number {
  const r = x / d.width;
  if (r <= -1 || r >= 1) return 0;
  const window = besselI0(d.beta * Math.sqrt(1 - r * r)) / d.i0Beta;
  const arg = Math.PI * d.c * x;
  const sinc = arg === 0 ? 1 : Math.sin(arg) / arg;
  return d.c * sinc * window;
}

/** Largest table of per-phase taps we precompute (in taps) before falling back to a finely sampled kernel. */
const MAX_PHASE_TAPS = 1 << 22;
/** Kernel table density, in points per unit of c·x (per zero crossing of the low-rate sinc). */
const TABLE_DENSITY = 4096;

/**
 * Resamples a mono signal from one rate to another with an anti-aliasing windowed-sinc filter.
 * Works for any pair of positive rates: integer rates use an exact polyphase filter bank
 * (44100 → 4000 has 40 phases); other ratios interpolate a densely tabulated kernel.
 * @param samples Mono samples, all finite, at least one.
 * @param fromRate Input rate in Hz, > 0.
 * @param toRate Output rate in Hz, > 0.
 * @param options Filter design; see {@linkcode ResampleOptions}.
 * @returns `round(samples.length · toRate / fromRate)` samples (at least 1) at `toRate`; a copy when
 *   the rates are equal.
 * @example Usage
 * ```ts
 * const y = resample(new Float32Array(44100), 44100, 4000);
 * assertEquals(y.length, 4000);
 * ```
 */
export function resample(
  samples: Float32Array,
  fromRate: number,
  toRate: number,
  options: ResampleOptions = {},
): Float32Array {
  assertValidAudio({ samples, sampleRate: fromRate }, "resample audio");
  if (!(toRate > 0) || !Number.isFinite(toRate)) {
    throw new ParameterError(`Cannot resample audio: target rate is ${toRate}, expected a finite number > 0`);
  }
  if (fromRate === toRate) return samples.slice();
  const n = samples.length;
  const outLength = Math.max(1, Math.round(n * toRate / fromRate));
  const d = design(fromRate, toRate, options);
  const taps = 2 * Math.ceil(d.width); // input samples n0 − K + 1 … n0 + K around t = n0 + frac
  const half = taps / 2;
  const out = new Float32Array(outLength);

  let up = 0, down = 0; // output instant m lies at input time m·down/up when rational
  if (Number.isInteger(fromRate) && Number.isInteger(toRate)) {
    const g = gcd(fromRate, toRate);
    up = toRate / g;
    down = fromRate / g;
    if (up * taps > MAX_PHASE_TAPS || outLength * down > Number.MAX_SAFE_INTEGER) up = 0;
  }

  if (up > 0) {
    // Polyphase bank: phase p holds h(p/up + half − 1 − j) for j = 0 … taps − 1.
    const bank = new Float64Array(up * taps);
    for (let p = 0; p < up; p++) {
      for (let j = 0; j < taps; j++) bank[p * taps + j] = kernel(d, p / up + half - 1 - j);
    }
    for (let m = 0; m < outLength; m++) {
      const num = m * down;
      const n0 = Math.floor(num / up);
      const p = num - n0 * up;
      out[m] = dot(samples, n0 - half + 1, bank, p * taps, taps);
    }
    return out;
  }

  // Any other ratio: linear interpolation in a table of h over u = c·x ∈ [0, c·width].
  const uMax = d.c * d.width;
  const tableLength = Math.ceil(uMax * TABLE_DENSITY) + 2;
  const table = new Float64Array(tableLength);
  for (let i = 0; i < tableLength; i++) table[i] = kernel(d, i / TABLE_DENSITY / d.c);
  const coefficients = new Float64Array(taps);
  const step = fromRate / toRate;
  for (let m = 0; m < outLength; m++) {
    const t = m * step;
    const n0 = Math.floor(t);
    const frac = t - n0;
    for (let j = 0; j < taps; j++) {
      const pos = Math.abs(frac + half - 1 - j) * d.c * TABLE_DENSITY;
      const i = Math.floor(pos);
      coefficients[j] = i + 1 < tableLength ? table[i] + (pos - i) * (table[i + 1] - table[i]) : 0;
    }
    out[m] = dot(samples, n0 - half + 1, coefficients, 0, taps);
  }
  return out;
}

/** Σ_j x[start + j]·h[offset + j] over the j where x is defined (zero outside). */
function dot(x: Float32Array, start: number, h: Float64Array, offset: number, taps: number): number {
  const j0 = Math.max(0, -start);
  const j1 = Math.min(taps, x.length - start);
  let acc = 0;
  for (let j = j0; j < j1; j++) acc += x[start + j] * h[offset + j];
  return acc;
}

/**
 * {@linkcode resample} for a {@linkcode Waveform}.
 * @param wave Mono waveform, all samples finite.
 * @param toRate Output rate in Hz, > 0.
 * @example Usage
 * ```ts
 * const y = resampleWaveform({ samples: new Float32Array(4000), sampleRate: 4000 }, 2000);
 * assertEquals([y.samples.length, y.sampleRate], [2000, 2000]);
 * ```
 */
export function resampleWaveform(wave: Waveform, toRate: number, options: ResampleOptions = {}): Waveform {
  return { samples: resample(wave.samples, wave.sampleRate, toRate, options), sampleRate: toRate };
}
