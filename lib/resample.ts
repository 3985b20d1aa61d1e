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
import { ParameterError } from "./errors.ts";
import { assertValidAudio } from "./stft.ts";
import type { Waveform } from "./types.ts";

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
    const bank = polyphaseBank(d, up, taps);
    if (taps >= SIMD_MIN_TAPS && polyphaseSimd(samples, bank, taps, up, down, out)) return out;
    for (let m = 0; m < outLength; m++) {
      const num = m * down;
      const n0 = Math.floor(num / up);
      const p = num - n0 * up;
      const start = n0 - half + 1;
      out[m] = start >= 0 && start + taps <= n
        ? dotInterior(samples, start, bank, p * taps, taps)
        : dot(samples, start, bank, p * taps, taps);
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

/** Polyphase banks already built, by design: building one evaluates the kernel (a Bessel series) at every tap. */
const banks = new Map<string, Float64Array>();
/** Banks kept at most; the oldest is dropped first. */
const MAX_BANKS = 8;
/** Larger banks (in taps; 2 MB) are rebuilt per call rather than kept, so the cache stays ≤ 16 MB. */
const MAX_CACHED_TAPS = 1 << 18;

/** Polyphase bank: phase p holds h(p/up + half − 1 − j) for j = 0 … taps − 1. Cached per design. */
function polyphaseBank(d: Design, up: number, taps: number): Float64Array {
  const key = `${d.c} ${d.width} ${d.beta} ${up}`;
  let bank = banks.get(key);
  if (bank) return bank;
  const half = taps / 2;
  bank = new Float64Array(up * taps);
  for (let p = 0; p < up; p++) {
    for (let j = 0; j < taps; j++) bank[p * taps + j] = kernel(d, p / up + half - 1 - j);
  }
  if (bank.length > MAX_CACHED_TAPS) return bank;
  if (banks.size >= MAX_BANKS) banks.delete(banks.keys().next().value!);
  banks.set(key, bank);
  return bank;
}

/** {@linkcode dot} when x[start … start + taps − 1] all exist: eight partial sums (independent additions
 * pipeline; the result differs from a single running sum only by rounding). Same order as {@linkcode DOT_WASM}. */
function dotInterior(x: Float32Array, start: number, h: Float64Array, offset: number, taps: number): number {
  let a0 = 0, a1 = 0, a2 = 0, a3 = 0, a4 = 0, a5 = 0, a6 = 0, a7 = 0;
  const shift = offset - start;
  const end8 = start + (taps & ~7);
  let i = start;
  for (; i < end8; i += 8) {
    a0 += x[i] * h[i + shift];
    a1 += x[i + 1] * h[i + 1 + shift];
    a2 += x[i + 2] * h[i + 2 + shift];
    a3 += x[i + 3] * h[i + 3 + shift];
    a4 += x[i + 4] * h[i + 4 + shift];
    a5 += x[i + 5] * h[i + 5 + shift];
    a6 += x[i + 6] * h[i + 6 + shift];
    a7 += x[i + 7] * h[i + 7 + shift];
  }
  for (const end = start + taps; i < end; i++) a0 += x[i] * h[i + shift];
  return ((a0 + a1) + (a2 + a3)) + ((a4 + a5) + (a6 + a7));
}

/** Filters at least this long use the WebAssembly dot product (shorter ones are fast enough in JavaScript). */
const SIMD_MIN_TAPS = 64;
/** Outputs computed per block in {@linkcode polyphaseSimd}: bounds the input copied into WebAssembly memory. */
const SIMD_BLOCK = 2048;

/**
 * A WebAssembly (128-bit SIMD) version of {@linkcode dotInterior}, compiled from this text:
 * `dot(xp, hp, taps)` returns Σ x[j]·h[j] over f64 arrays at byte offsets xp and hp of its memory, with the
 * taps j ≡ 0 … 7 (mod 8) summed in eight separate lanes (four f64x2 accumulators, the leftover taps into
 * lane 0) and combined as ((s0 + s1) + (s2 + s3)) + ((s4 + s5) + (s6 + s7)): the same operations in the same
 * order as dotInterior, so the results are bit-identical.
 * ```wat
 * (func (export "dot") (param $xp i32) (param $hp i32) (param $taps i32) (result f64)
 *   (local $a v128) (local $b v128) (local $c v128) (local $d v128) (local $end i32) (local $s0 f64)
 *   (local.set $end (i32.add (local.get $xp) (i32.shl (i32.and (local.get $taps) (i32.const -8)) (i32.const 3))))
 *   (block $done (loop $loop
 *     (br_if $done (i32.ge_u (local.get $xp) (local.get $end)))
 *     (local.set $a (f64x2.add (local.get $a) (f64x2.mul (v128.load (local.get $xp)) (v128.load (local.get $hp)))))
 *     (local.set $b (f64x2.add (local.get $b)
 *       (f64x2.mul (v128.load offset=16 (local.get $xp)) (v128.load offset=16 (local.get $hp)))))
 *     (local.set $c (f64x2.add (local.get $c)
 *       (f64x2.mul (v128.load offset=32 (local.get $xp)) (v128.load offset=32 (local.get $hp)))))
 *     (local.set $d (f64x2.add (local.get $d)
 *       (f64x2.mul (v128.load offset=48 (local.get $xp)) (v128.load offset=48 (local.get $hp)))))
 *     (local.set $xp (i32.add (local.get $xp) (i32.const 64)))
 *     (local.set $hp (i32.add (local.get $hp) (i32.const 64)))
 *     (br $loop)))
 *   (local.set $s0 (f64x2.extract_lane 0 (local.get $a)))
 *   (local.set $taps (i32.and (local.get $taps) (i32.const 7)))
 *   (block $tail (loop $t
 *     (br_if $tail (i32.eqz (local.get $taps)))
 *     (local.set $s0 (f64.add (local.get $s0) (f64.mul (f64.load (local.get $xp)) (f64.load (local.get $hp)))))
 *     (local.set $xp (i32.add (local.get $xp) (i32.const 8)))
 *     (local.set $hp (i32.add (local.get $hp) (i32.const 8)))
 *     (local.set $taps (i32.sub (local.get $taps) (i32.const 1)))
 *     (br $t)))
 *   (f64.add
 *     (f64.add (f64.add (local.get $s0) (f64x2.extract_lane 1 (local.get $a)))
 *              (f64.add (f64x2.extract_lane 0 (local.get $b)) (f64x2.extract_lane 1 (local.get $b))))
 *     (f64.add (f64.add (f64x2.extract_lane 0 (local.get $c)) (f64x2.extract_lane 1 (local.get $c)))
 *              (f64.add (f64x2.extract_lane 0 (local.get $d)) (f64x2.extract_lane 1 (local.get $d))))))
 * ```
 * in a module that also exports its memory (1 page to start). Built with wabt 1.0.39 (`parseWat` with `simd: true`).
 */
const DOT_WASM =
  "AGFzbQEAAAABCAFgA39/fwF8AwIBAAUDAQABBxACBm1lbW9yeQIAA2RvdAAACvsBAfgBAwR7AX8BfCAAIAJBeHFBA3RqIQcCQANAIAAgB08NASADIAD9AAQAIAH9AAQA/fIB/fABIQMgBCAA/QAEECAB/QAEEP3yAf3wASEEIAUgAP0ABCAgAf0ABCD98gH98AEhBSAGIAD9AAQwIAH9AAQw/fIB/fABIQYgAEHAAGohACABQcAAaiEBDAALCyAD/SEAIQggAkEHcSECAkADQCACRQ0BIAggACsDACABKwMAoqAhCCAAQQhqIQAgAUEIaiEBIAJBAWshAgwACwsgCCAD/SEBoCAE/SEAIAT9IQGgoCAF/SEAIAX9IQGgIAb9IQAgBv0hAaCgoAs=";

interface SimdDot {
  dot: (xp: number, hp: number, taps: number) => number;
  memory: WebAssembly.Memory;
}

/** The instantiated {@linkcode DOT_WASM}; null where WebAssembly SIMD is unavailable; undefined until first use. */
let simd: SimdDot | null | undefined;

function simdDot(): SimdDot | null {
  if (simd === undefined) {
    try {
      const bytes = Uint8Array.from(atob(DOT_WASM), (ch) => ch.charCodeAt(0));
      simd = new WebAssembly.Instance(new WebAssembly.Module(bytes)).exports as unknown as SimdDot;
    } catch {
      simd = null;
    }
  }
  return simd;
}

/**
 * The polyphase loop of {@linkcode resample} with the interior dot products in WebAssembly: the bank and, one
 * block of outputs at a time, the input they need (as f64) are copied into its memory. Fills `out` and returns
 * true, or returns false (out untouched) when WebAssembly SIMD is unavailable.
 */
function polyphaseSimd(
  samples: Float32Array,
  bank: Float64Array,
  taps: number,
  up: number,
  down: number,
  out: Float32Array,
): boolean {
  const engine = simdDot();
  if (!engine) return false;
  const n = samples.length, half = taps / 2, outLength = out.length;
  const startOf = (m: number) => Math.floor(m * down / up) - half + 1;
  // largest input span of one block: its outputs' first taps plus one filter length
  const span = Math.ceil(SIMD_BLOCK * down / up) + taps + 1;
  const bytes = 8 * (bank.length + span);
  const { memory, dot: wasmDot } = engine;
  if (memory.buffer.byteLength < bytes) memory.grow(Math.ceil((bytes - memory.buffer.byteLength) / 65536));
  const heap = new Float64Array(memory.buffer);
  heap.set(bank, 0);
  const xBase = bank.length; // in f64 elements
  for (let m0 = 0; m0 < outLength; m0 += SIMD_BLOCK) {
    const m1 = Math.min(outLength, m0 + SIMD_BLOCK);
    const lo = Math.max(0, startOf(m0)), hi = Math.min(n, startOf(m1 - 1) + taps);
    if (hi > lo) heap.set(samples.subarray(lo, hi), xBase);
    for (let m = m0; m < m1; m++) {
      const num = m * down;
      const n0 = Math.floor(num / up);
      const p = num - n0 * up;
      const start = n0 - half + 1;
      out[m] = start >= 0 && start + taps <= n
        ? wasmDot(8 * (xBase + start - lo), 8 * p * taps, taps)
        : dot(samples, start, bank, p * taps, taps);
    }
  }
  return true;
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
