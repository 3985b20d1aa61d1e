/**
 * Band-limited resampling with a Kaiser-windowed sinc low-pass filter.
 *
 * Output sample m lies at input time m·fromRate/toRate (in input samples), so the first output
 * sample coincides with the first input sample; samples outside the input count as zero.
 * The low-pass cutoff is placed so that the filter's stop band starts at the lower of the two
 * Nyquist frequencies: by default everything at or above the new Nyquist is attenuated by
 * ≥ 60 dB (the default design targets about 80 dB), and the pass band is flat (±0.01 dB) up to
 * about 0.84 of that Nyquist.
 *
 * Integer rates (every WAV) use a polyphase filter bank in float32, in WebAssembly SIMD where available and
 * bit-identical JavaScript elsewhere: within 3e-7 of full scale of the float64 sums (1/100 of a 16-bit step), at half
 * the cost. Other ratios interpolate a tabulated kernel in float64.
 * @module
 */
import { ParameterError } from "./errors.ts";
import { assertValidAudio, type Waveform } from "./types.ts";
import { compileEmbedded, ensureMemory } from "./wasm.ts";

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

/** Largest rate division: the anti-aliasing filter spans this many input samples per output sample, so its cost
 * grows with the ratio (MHz to Hz is no audio conversion). */
const MAX_DOWN_RATIO = 65536;
/** Most output samples (1 GiB as float32): beyond it the output is an upsampling mistake, not audio to analyse. */
const MAX_OUTPUT_LENGTH = 2 ** 28;

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
 * @throws {ParameterError} Bad samples or rates; `fromRate / toRate` above 65536; more than 2^28 output samples.
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
  if (fromRate / toRate > MAX_DOWN_RATIO) {
    throw new ParameterError(
      `Cannot resample audio: ${fromRate} Hz to ${toRate} Hz divides the rate by more than ${MAX_DOWN_RATIO}`,
    );
  }
  if (outLength > MAX_OUTPUT_LENGTH) {
    throw new ParameterError(
      `Cannot resample audio: ${n} samples at ${fromRate} Hz would be ${outLength} at ${toRate} Hz, more than ${MAX_OUTPUT_LENGTH}`,
    );
  }
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
    polyphase(samples, polyphaseBank(d, up, taps), taps, up, down, out);
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

/** Taps of every phase are padded with zeros to a multiple of this (the lanes of {@linkcode DOTS_WASM}). */
const LANES = 16;

/** Polyphase banks already built, by design: building one evaluates the kernel (a Bessel series) at every tap. */
const banks = new Map<string, Float32Array>();
/** Banks kept at most; the oldest is dropped first. */
const MAX_BANKS = 8;
/** Larger banks (in taps; 1 MB) are rebuilt per call rather than kept, so the cache stays ≤ 8 MB. */
const MAX_CACHED_TAPS = 1 << 18;

/**
 * Polyphase bank in float32: phase p holds h(p/up + half − 1 − j) for j = 0 … taps − 1, then zeros up to a
 * multiple of {@linkcode LANES} (`paddedTaps`). Cached per design.
 */
function polyphaseBank(d: Design, up: number, taps: number): Float32Array {
  const key = `${d.c} ${d.width} ${d.beta} ${up}`;
  let bank = banks.get(key);
  if (bank) return bank;
  const half = taps / 2, padded = paddedTaps(taps);
  bank = new Float32Array(up * padded);
  for (let p = 0; p < up; p++) {
    for (let j = 0; j < taps; j++) bank[p * padded + j] = kernel(d, p / up + half - 1 - j);
  }
  if (bank.length > MAX_CACHED_TAPS) return bank;
  if (banks.size >= MAX_BANKS) banks.delete(banks.keys().next().value!);
  banks.set(key, bank);
  return bank;
}

const paddedTaps = (taps: number) => Math.ceil(taps / LANES) * LANES;

/** Outputs computed per block in {@linkcode polyphase}: bounds the input copied per block. */
const BLOCK = 256;

/**
 * WebAssembly (128-bit SIMD) dot products in float32 for {@linkcode polyphase}, compiled from the text below with
 * wabt 1.0.39 (`parseWat` with `simd: true`, then `toBinary`). `dots(xp, xStride, hp, taps, op, oStride, count)`
 * writes `count` results as f32 at byte op, op + oStride, …: result i is Σ_j x[j]·h[j] over the f32 arrays at byte
 * offsets xp + i·xStride and hp, `taps` a multiple of 16 (in a polyphase filter, outputs m, m + up, m + 2·up, …
 * share a phase, and their inputs start `down` samples apart). Tap j goes to lane j mod 16 (four f32x4
 * accumulators a, b, c, d); the lanes are combined as (a + b) + (c + d), then (l0 + l1) + (l2 + l3).
 * {@linkcode dotsJs} does the same operations in the same order in JavaScript. Results are computed two at a time
 * (accumulators e, f, g, k for the second), so each load of taps serves two outputs with the same bits; an odd
 * `count` ends with one result alone.
 *
 * Float32 rather than float64: twice the taps per instruction. The
 * results differ from a float64 sum by less than 3e-7 of full scale (1/100 of a 16-bit step; tests/resample_test.ts).
 * ```wat
 * (module
 *   (memory (export "memory") 1)
 *   (func (export "dots")
 *     (param $xp i32) (param $xStride i32) (param $hp i32) (param $taps i32) (param $op i32) (param $oStride i32)
 *     (param $count i32)
 *     (local $x i32) (local $y i32) (local $h i32) (local $end i32) (local $t v128)
 *     (local $a v128) (local $b v128) (local $c v128) (local $d v128)
 *     (local $e v128) (local $f v128) (local $g v128) (local $k v128)
 *     (block $done (loop $next
 *       (br_if $done (i32.eqz (local.get $count)))
 *       (local.set $x (local.get $xp))
 *       (local.set $y (i32.add (local.get $xp) (local.get $xStride)))
 *       (local.set $h (local.get $hp))
 *       (local.set $end (i32.add (local.get $hp) (i32.shl (local.get $taps) (i32.const 2))))
 *       (local.set $a (v128.const i32x4 0 0 0 0))
 *       (local.set $b (v128.const i32x4 0 0 0 0))
 *       (local.set $c (v128.const i32x4 0 0 0 0))
 *       (local.set $d (v128.const i32x4 0 0 0 0))
 *       (local.set $e (v128.const i32x4 0 0 0 0))
 *       (local.set $f (v128.const i32x4 0 0 0 0))
 *       (local.set $g (v128.const i32x4 0 0 0 0))
 *       (local.set $k (v128.const i32x4 0 0 0 0))
 *       (if (i32.ge_u (local.get $count) (i32.const 2))
 *         (then
 *           (block $pairDone (loop $pair
 *             (br_if $pairDone (i32.ge_u (local.get $h) (local.get $end)))
 *             (local.set $t (v128.load (local.get $h)))
 *             (local.set $a (f32x4.add (local.get $a) (f32x4.mul (v128.load (local.get $x)) (local.get $t))))
 *             (local.set $e (f32x4.add (local.get $e) (f32x4.mul (v128.load (local.get $y)) (local.get $t))))
 *             (local.set $t (v128.load offset=16 (local.get $h)))
 *             (local.set $b (f32x4.add (local.get $b) (f32x4.mul (v128.load offset=16 (local.get $x)) (local.get $t))))
 *             (local.set $f (f32x4.add (local.get $f) (f32x4.mul (v128.load offset=16 (local.get $y)) (local.get $t))))
 *             (local.set $t (v128.load offset=32 (local.get $h)))
 *             (local.set $c (f32x4.add (local.get $c) (f32x4.mul (v128.load offset=32 (local.get $x)) (local.get $t))))
 *             (local.set $g (f32x4.add (local.get $g) (f32x4.mul (v128.load offset=32 (local.get $y)) (local.get $t))))
 *             (local.set $t (v128.load offset=48 (local.get $h)))
 *             (local.set $d (f32x4.add (local.get $d) (f32x4.mul (v128.load offset=48 (local.get $x)) (local.get $t))))
 *             (local.set $k (f32x4.add (local.get $k) (f32x4.mul (v128.load offset=48 (local.get $y)) (local.get $t))))
 *             (local.set $x (i32.add (local.get $x) (i32.const 64)))
 *             (local.set $y (i32.add (local.get $y) (i32.const 64)))
 *             (local.set $h (i32.add (local.get $h) (i32.const 64)))
 *             (br $pair)))
 *           (local.set $e (f32x4.add (f32x4.add (local.get $e) (local.get $f)) (f32x4.add (local.get $g) (local.get $k))))
 *           (f32.store (i32.add (local.get $op) (local.get $oStride))
 *             (f32.add (f32.add (f32x4.extract_lane 0 (local.get $e)) (f32x4.extract_lane 1 (local.get $e)))
 *                      (f32.add (f32x4.extract_lane 2 (local.get $e)) (f32x4.extract_lane 3 (local.get $e)))))
 *           (local.set $count (i32.sub (local.get $count) (i32.const 2))))
 *         (else
 *           (block $dotDone (loop $dot
 *             (br_if $dotDone (i32.ge_u (local.get $h) (local.get $end)))
 *             (local.set $a (f32x4.add (local.get $a) (f32x4.mul (v128.load (local.get $x)) (v128.load (local.get $h)))))
 *             (local.set $b (f32x4.add (local.get $b)
 *               (f32x4.mul (v128.load offset=16 (local.get $x)) (v128.load offset=16 (local.get $h)))))
 *             (local.set $c (f32x4.add (local.get $c)
 *               (f32x4.mul (v128.load offset=32 (local.get $x)) (v128.load offset=32 (local.get $h)))))
 *             (local.set $d (f32x4.add (local.get $d)
 *               (f32x4.mul (v128.load offset=48 (local.get $x)) (v128.load offset=48 (local.get $h)))))
 *             (local.set $x (i32.add (local.get $x) (i32.const 64)))
 *             (local.set $h (i32.add (local.get $h) (i32.const 64)))
 *             (br $dot)))
 *           (local.set $count (i32.sub (local.get $count) (i32.const 1)))))
 *       (local.set $a (f32x4.add (f32x4.add (local.get $a) (local.get $b)) (f32x4.add (local.get $c) (local.get $d))))
 *       (f32.store (local.get $op)
 *         (f32.add (f32.add (f32x4.extract_lane 0 (local.get $a)) (f32x4.extract_lane 1 (local.get $a)))
 *                  (f32.add (f32x4.extract_lane 2 (local.get $a)) (f32x4.extract_lane 3 (local.get $a)))))
 *       (local.set $xp (i32.add (local.get $xp) (i32.shl (local.get $xStride) (i32.const 1))))
 *       (local.set $op (i32.add (local.get $op) (i32.shl (local.get $oStride) (i32.const 1))))
 *       (br $next))))
 * )
 * ```
 */
const DOTS_WASM =
  "AGFzbQEAAAABCwFgB39/f39/f38AAwIBAAUDAQABBxECBm1lbW9yeQIABGRvdHMAAAqpBQGmBQIEfwl7AkADQCAGRQ0BIAAhByAAIAFqIQggAiEJIAIgA0ECdGohCv0MAAAAAAAAAAAAAAAAAAAAACEM/QwAAAAAAAAAAAAAAAAAAAAAIQ39DAAAAAAAAAAAAAAAAAAAAAAhDv0MAAAAAAAAAAAAAAAAAAAAACEP/QwAAAAAAAAAAAAAAAAAAAAAIRD9DAAAAAAAAAAAAAAAAAAAAAAhEf0MAAAAAAAAAAAAAAAAAAAAACES/QwAAAAAAAAAAAAAAAAAAAAAIRMgBkECTwRAAkADQCAJIApPDQEgCf0ABAAhCyAMIAf9AAQAIAv95gH95AEhDCAQIAj9AAQAIAv95gH95AEhECAJ/QAEECELIA0gB/0ABBAgC/3mAf3kASENIBEgCP0ABBAgC/3mAf3kASERIAn9AAQgIQsgDiAH/QAEICAL/eYB/eQBIQ4gEiAI/QAEICAL/eYB/eQBIRIgCf0ABDAhCyAPIAf9AAQwIAv95gH95AEhDyATIAj9AAQwIAv95gH95AEhEyAHQcAAaiEHIAhBwABqIQggCUHAAGohCQwACwsgECAR/eQBIBIgE/3kAf3kASEQIAQgBWogEP0fACAQ/R8BkiAQ/R8CIBD9HwOSkjgCACAGQQJrIQYFAkADQCAJIApPDQEgDCAH/QAEACAJ/QAEAP3mAf3kASEMIA0gB/0ABBAgCf0ABBD95gH95AEhDSAOIAf9AAQgIAn9AAQg/eYB/eQBIQ4gDyAH/QAEMCAJ/QAEMP3mAf3kASEPIAdBwABqIQcgCUHAAGohCQwACwsgBkEBayEGCyAMIA395AEgDiAP/eQB/eQBIQwgBCAM/R8AIAz9HwGSIAz9HwIgDP0fA5KSOAIAIAAgAUEBdGohACAEIAVBAXRqIQQMAAsLCw==";

interface Dots {
  dots: (xp: number, xStride: number, hp: number, taps: number, op: number, oStride: number, count: number) => void;
  memory: WebAssembly.Memory;
}

/** Memory reserved on instantiation (1 MiB: the 44.1 → 2 kHz bank is 114 kB), so that it rarely grows later
 * (lib/wasm.ts `ensureMemory`). */
const RESERVED_BYTES = 1 << 20;

/** The instantiated {@linkcode DOTS_WASM}; null where WebAssembly SIMD is unavailable; undefined until first use. */
let wasmDots: Dots | null | undefined;

function simdDots(): Dots | null {
  if (wasmDots === undefined) {
    const module = compileEmbedded(DOTS_WASM);
    try {
      wasmDots = module && new WebAssembly.Instance(module).exports as unknown as Dots;
      if (wasmDots) ensureMemory(wasmDots.memory, RESERVED_BYTES);
    } catch {
      wasmDots = null; // e.g. no memory to reserve: the JavaScript fallback gives the same bits
    }
  }
  return wasmDots;
}

/**
 * {@linkcode DOTS_WASM}'s `dots` in JavaScript, bit for bit (indices in elements, not bytes): products and sums are
 * rounded to float32 as WebAssembly's f32 operations round them (a float32 sum computed in float64 and then rounded
 * is the correctly rounded float32 sum: 53 ≥ 2·24 + 2 bits).
 */
function dotsJs(
  memory: Float32Array,
  x: number,
  xStride: number,
  h: number,
  taps: number,
  o: number,
  oStride: number,
  count: number,
): void {
  const lane = new Float32Array(LANES); // a = lanes 0–3, b = 4–7, c = 8–11, d = 12–15
  const f = Math.fround;
  for (let i = 0; i < count; i++, x += xStride, o += oStride) {
    lane.fill(0);
    for (let j = 0; j < taps; j += LANES) {
      for (let l = 0; l < LANES; l++) lane[l] += f(memory[x + j + l] * memory[h + j + l]);
    }
    const s0 = f(f(lane[0] + lane[4]) + f(lane[8] + lane[12])), s1 = f(f(lane[1] + lane[5]) + f(lane[9] + lane[13]));
    const s2 = f(f(lane[2] + lane[6]) + f(lane[10] + lane[14])), s3 = f(f(lane[3] + lane[7]) + f(lane[11] + lane[15]));
    memory[o] = f(s0 + s1) + f(s2 + s3);
  }
}

/**
 * The polyphase filter: out[m] = Σ_j x[start(m) + j] · bank[phase(m)][j], with x zero outside the input. The bank is
 * copied once into WebAssembly memory (or a plain array where WebAssembly SIMD is unavailable: same bits); then, one
 * block of outputs at a time, the input the block needs (zero-padded at the ends), and each phase's outputs of the
 * block in one call.
 */
function polyphase(
  samples: Float32Array,
  bank: Float32Array,
  taps: number,
  up: number,
  down: number,
  out: Float32Array,
): void {
  const n = samples.length, half = taps / 2, padded = paddedTaps(taps);
  const startOf = (m: number) => Math.floor(m * down / up) - half + 1; // input index of output m's first tap
  // memory layout, in f32 elements: bank | one block's input | one block's outputs
  const span = Math.ceil(BLOCK * down / up) + padded + 1;
  const xBase = bank.length, oBase = xBase + span, size = oBase + BLOCK;
  const engine = simdDots();
  let memory: Float32Array;
  if (engine) {
    ensureMemory(engine.memory, 4 * size);
    memory = new Float32Array(engine.memory.buffer, 0, size);
  } else memory = new Float32Array(size);
  memory.set(bank, 0);
  for (let m0 = 0; m0 < out.length; m0 += BLOCK) {
    const m1 = Math.min(out.length, m0 + BLOCK);
    const lo = startOf(m0), hi = startOf(m1 - 1) + padded; // block input x[lo, hi)
    const from = Math.max(0, lo), to = Math.min(n, hi);
    memory.fill(0, xBase, xBase + (hi - lo));
    if (to > from) memory.set(samples.subarray(from, to), xBase + from - lo);
    for (let m = m0; m < Math.min(m1, m0 + up); m++) {
      const start = startOf(m), p = m * down - (start + half - 1) * up; // m·down = (start + half − 1)·up + p
      const count = Math.ceil((m1 - m) / up), x = xBase + start - lo, o = oBase + m - m0;
      if (engine) engine.dots(4 * x, 4 * down, 4 * p * padded, padded, 4 * o, 4 * up, count);
      else dotsJs(memory, x, down, p * padded, padded, o, up, count);
    }
    out.set(memory.subarray(oBase, oBase + m1 - m0), m0);
  }
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
