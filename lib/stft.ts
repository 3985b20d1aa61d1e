/**
 * Short-time Fourier transform matching librosa 0.10's defaults.
 * @module
 */
import { ParameterError } from "./errors.ts";
import { fftBitReversal, fftTable, fftWidth } from "./fft.ts";
import { assertValidAudio, type Waveform } from "./types.ts";

/** Magnitude spectrogram, frame-major: frame 0's bins, then frame 1's, ... */
export interface Spectrogram {
  /** |STFT|, `numFrames * numBins` values. */
  data: Float32Array;
  numFrames: number;
  /** `1 + nFft / 2`. */
  numBins: number;
  nFft: number;
  /** Samples between frame starts. */
  hopLength: number;
  /** Hz, of the signal the frames came from. */
  sampleRate: number;
}

/** Options of {@linkcode stft}. */
export interface StftOptions {
  /** FFT size in samples; a power of two ≥ 4. @default {2048} */
  nFft?: number;
  /** Samples between frames; ≥ 1. @default {nFft / 4} */
  hopLength?: number;
  /** Zero-pad `nFft / 2` samples on both sides so frame t is centred on sample t·hop (librosa `center=True, pad_mode="constant"`). @default {true} */
  center?: boolean;
  /**
   * Take magnitudes as librosa's float32 arithmetic does: each bin rounded to complex64, then
   * {@linkcode complex64Abs}; otherwise float32(√(re² + im²)) of the float64 bin. @default {false}
   */
  complex64?: boolean;
}

/**
 * True when n is a power of two ≥ 1.
 * @example Usage
 * ```ts
 * assertEquals([1, 32, 48].map(isPowerOfTwo), [true, true, false]);
 * ```
 */
export function isPowerOfTwo(n: number): boolean {
  return Number.isInteger(n) && n >= 1 && (n & (n - 1)) === 0;
}

/**
 * Periodic Hann window of length n: w[k] = 0.5 − 0.5·cos(2πk/n), as scipy `get_window("hann", n, fftbins=True)`
 * (librosa's STFT window).
 * @example Usage
 * ```ts
 * const w = hannWindow(4); // [0, 0.5, 1, 0.5] up to rounding
 * assertEquals([w.length, w[0], w[2]], [4, 0, 1]);
 * ```
 */
export function hannWindow(n: number): Float64Array {
  const w = new Float64Array(n);
  for (let k = 0; k < n; k++) w[k] = 0.5 - 0.5 * Math.cos(2 * Math.PI * k / n);
  return w;
}

/**
 * Forward FFT of real input, computing exactly what fft.js 4.0.4 `realTransform` computes
 * (the same radix-4 algorithm, the same floating-point operations in the same order, so the
 * same bits), specialised for the forward direction and typed arrays; tests/stft_test.ts checks
 * the bit-for-bit agreement.
 * @example Usage
 * ```ts
 * const fft = new RealFft(4);
 * const out = new Float64Array(8);
 * fft.transform(out, new Float64Array([0, 1, 3, 2])); // bins 0 … 2 are valid: 6, −3 + i, 0
 * assertEquals([out[0], out[2], out[3], out[4]], [6, -3, 1, 0]);
 * ```
 */
export class RealFft {
  /** Transform length, a power of two ≥ 4. */
  readonly size: number;
  readonly #table: Float64Array;
  readonly #bitrev: Int32Array;
  readonly #width: number;

  /** @param size Transform length, a power of two ≥ 4. */
  constructor(size: number) {
    if (!isPowerOfTwo(size) || size < 4) {
      throw new ParameterError(`Cannot create FFT: size is ${size}, expected a power of two ≥ 4`);
    }
    this.size = size;
    this.#table = fftTable(size);
    this.#width = fftWidth(size);
    this.#bitrev = fftBitReversal(this.#width);
  }

  /**
   * Transforms `size` real samples. Afterwards `out[2k]`, `out[2k + 1]` hold the real and
   * imaginary parts of bin k for k = 0 … size / 2 (the upper half of `out` is scratch).
   * @param out At least `2 · size` values; overwritten.
   * @param data `size` real samples; not modified.
   */
  transform(out: Float64Array, data: Float64Array): void {
    const size = 2 * this.size;
    const bitrev = this.#bitrev;
    const step = 1 << this.#width;
    const len = (size / step) << 1;
    const half = step >>> 1;
    if (len === 4) {
      for (let outOff = 0, t = 0; outOff < size; outOff += len, t++) {
        const off = bitrev[t] >>> 1;
        const evenR = data[off], oddR = data[off + half];
        out[outOff] = evenR + oddR;
        out[outOff + 1] = 0;
        out[outOff + 2] = evenR - oddR;
        out[outOff + 3] = 0;
      }
    } else {
      for (let outOff = 0, t = 0; outOff < size; outOff += len, t++) {
        const off = bitrev[t] >>> 1;
        const Ar = data[off], Br = data[off + half], Cr = data[off + 2 * half], Dr = data[off + 3 * half];
        const T0r = Ar + Cr, T1r = Ar - Cr, T2r = Br + Dr, T3r = Br - Dr;
        out[outOff] = T0r + T2r;
        out[outOff + 1] = 0;
        out[outOff + 2] = T1r;
        out[outOff + 3] = -T3r;
        out[outOff + 4] = T0r - T2r;
        out[outOff + 5] = 0;
        out[outOff + 6] = T1r;
        out[outOff + 7] = T3r;
      }
    }
    this.#stages(out, step);
  }

  /**
   * {@linkcode RealFft.transform} of the windowed frame `samples[start + k] · window[k]`,
   * k = 0 … size − 1, without copying it first (same products, so the same bits).
   * @param out At least `2 · size` values; overwritten.
   * @param samples The signal; `start ≥ 0` and `start + size ≤ samples.length`.
   * @param start Index of the frame's first sample.
   * @param window `size` window values.
   */
  transformWindowed(out: Float64Array, samples: Float32Array, start: number, window: Float64Array): void {
    const size = 2 * this.size;
    const bitrev = this.#bitrev;
    const step = 1 << this.#width;
    const len = (size / step) << 1;
    const half = step >>> 1;
    if (len === 4) {
      for (let outOff = 0, t = 0; outOff < size; outOff += len, t++) {
        const off = bitrev[t] >>> 1;
        const evenR = samples[start + off] * window[off], oddR = samples[start + off + half] * window[off + half];
        out[outOff] = evenR + oddR;
        out[outOff + 1] = 0;
        out[outOff + 2] = evenR - oddR;
        out[outOff + 3] = 0;
      }
    } else {
      for (let outOff = 0, t = 0; outOff < size; outOff += len, t++) {
        const off = bitrev[t] >>> 1;
        const Ar = samples[start + off] * window[off],
          Br = samples[start + off + half] * window[off + half],
          Cr = samples[start + off + 2 * half] * window[off + 2 * half],
          Dr = samples[start + off + 3 * half] * window[off + 3 * half];
        const T0r = Ar + Cr, T1r = Ar - Cr, T2r = Br + Dr, T3r = Br - Dr;
        out[outOff] = T0r + T2r;
        out[outOff + 1] = 0;
        out[outOff + 2] = T1r;
        out[outOff + 3] = -T3r;
        out[outOff + 4] = T0r - T2r;
        out[outOff + 5] = 0;
        out[outOff + 6] = T1r;
        out[outOff + 7] = T3r;
      }
    }
    this.#stages(out, step);
  }

  /** The radix-4 passes after the first, from fft.js `_realTransform4`. */
  #stages(out: Float64Array, step: number): void {
    const size = 2 * this.size;
    const table = this.#table;
    for (step >>= 2; step >= 2; step >>= 2) {
      const len = (size / step) << 1;
      const halfLen = len >>> 1, quarterLen = halfLen >>> 1, hquarterLen = quarterLen >>> 1;
      for (let outOff = 0; outOff < size; outOff += len) {
        for (let i = 0, k = 0; i <= hquarterLen; i += 2, k += step) {
          const A = outOff + i, B = A + quarterLen, C = B + quarterLen, D = C + quarterLen;
          const Ar = out[A], Ai = out[A + 1], Br = out[B], Bi = out[B + 1];
          const Cr = out[C], Ci = out[C + 1], Dr = out[D], Di = out[D + 1];
          const tableBr = table[k], tableBi = table[k + 1];
          const MBr = Br * tableBr - Bi * tableBi, MBi = Br * tableBi + Bi * tableBr;
          const tableCr = table[2 * k], tableCi = table[2 * k + 1];
          const MCr = Cr * tableCr - Ci * tableCi, MCi = Cr * tableCi + Ci * tableCr;
          const tableDr = table[3 * k], tableDi = table[3 * k + 1];
          const MDr = Dr * tableDr - Di * tableDi, MDi = Dr * tableDi + Di * tableDr;
          const T0r = Ar + MCr, T0i = Ai + MCi, T1r = Ar - MCr, T1i = Ai - MCi;
          const T2r = MBr + MDr, T2i = MBi + MDi, T3r = MBr - MDr, T3i = MBi - MDi;
          out[A] = T0r + T2r;
          out[A + 1] = T0i + T2i;
          out[B] = T1r + T3i;
          out[B + 1] = T1i - T3r;
          if (i === 0) {
            out[C] = T0r - T2r;
            out[C + 1] = T0i - T2i;
            continue;
          }
          if (i === hquarterLen) continue;
          // The mirrored outputs: fft.js's ST/SF values with inv = 1 (negations are exact).
          const SA = outOff + quarterLen - i, SB = outOff + halfLen - i;
          out[SA] = T1r + -T3i;
          out[SA + 1] = -T1i + -T3r;
          out[SB] = T0r + -T2r;
          out[SB + 1] = -T0i - -T2i;
        }
      }
    }
  }
}

/**
 * |re + i·im| as librosa's `np.abs` of a complex64 STFT computes it: re and im rounded to float32,
 * then numpy 1.24's AVX-512F complex64 absolute (the loop the original's reference machine ran):
 * larger · sqrt(fma(r, r, 1)) with r = smaller / larger, every step rounded to float32. It can
 * differ by an ulp from the correctly rounded magnitude, which decides near-ties between bins.
 * @example Usage
 * ```ts
 * assertEquals(complex64Abs(3, 4), 5);
 * assertEquals(complex64Abs(0, 0), 0);
 * ```
 */
export function complex64Abs(re: number, im: number): number {
  const a = Math.abs(Math.fround(re)), b = Math.abs(Math.fround(im));
  const larger = a > b ? a : b, smaller = a > b ? b : a;
  if (larger === 0 || larger === Infinity) return larger; // numpy masks 0/0 and ∞/∞ to a ratio of 0
  const r = Math.fround(smaller / larger); // float64 division rounded once more to float32 is exact rounding
  return Math.fround(Math.fround(Math.sqrt(fmaOneFloat32(r))) * larger);
}

/**
 * float32 fma(r, r, 1) for a float32 r in [0, 1]: r² is exact in float64, and 1 + r² is rounded
 * to float32 once, including the halfway cases that rounding through float64 would get wrong.
 */
function fmaOneFloat32(r: number): number {
  const p = r * r; // exact: 48 significant bits
  const s = 1 + p;
  const err = p - (s - 1); // exact remainder of the float64 sum (Fast2Sum, 1 ≥ p)
  const f = Math.fround(s);
  const d = s - f; // s ∈ [1, 2]: float32 spacing 2^−23, halfway 2^−24
  if (err !== 0 && Math.abs(d) === 2 ** -24 && (err > 0) === (d > 0)) return f + 2 * d;
  return f;
}

/**
 * Centre frequency, in Hz, of each of the `1 + nFft / 2` bins (librosa `fft_frequencies`).
 * @example Usage
 * ```ts
 * assertEquals([...fftFrequencies(4000, 8)], [0, 500, 1000, 1500, 2000]);
 * ```
 */
export function fftFrequencies(sampleRate: number, nFft: number): Float64Array {
  const f = new Float64Array(1 + nFft / 2);
  for (let k = 0; k < f.length; k++) f[k] = k * sampleRate / nFft;
  return f;
}

/** Hann windows and FFTs by size, made once: their cosine tables cost as much as a second of 2 kHz audio's STFT.
 * Both are read only. */
const framings = new Map<number, { window: Float64Array; fft: RealFft }>();

function framesFor(nFft: number): { window: Float64Array; fft: RealFft } {
  let framing = framings.get(nFft);
  if (!framing) {
    framing = { window: hannWindow(nFft), fft: new RealFft(nFft) };
    framings.set(nFft, framing);
  }
  return framing;
}

/**
 * Magnitude short-time Fourier transform of a mono waveform (librosa 0.10 `np.abs(stft(y))`).
 * @param wave Mono samples, all finite, at least one sample.
 * @param options `nFft`: power of two ≥ 4, default 2048. `hopLength`: default `nFft / 4`.
 *   `center`: default true, zero padding. `complex64`: default false, librosa's float32 magnitudes.
 * @returns `1 + nFft / 2` bins per frame; with `center`, `1 + floor(n / hopLength)` frames and
 *   frame t is centred on sample t·hopLength; without, `1 + floor((n − nFft) / hopLength)` frames.
 * @example Usage
 * ```ts
 * const spec = stft({ samples: new Float32Array(4000), sampleRate: 4000 }, { nFft: 32 });
 * assertEquals(spec.numFrames, 1 + Math.floor(4000 / 8));
 * ```
 */
export function stft(wave: Waveform, options: StftOptions = {}): Spectrogram {
  assertValidAudio(wave, "compute STFT");
  const nFft = options.nFft ?? 2048;
  const hopLength = options.hopLength ?? Math.floor(nFft / 4);
  const center = options.center ?? true;
  const complex64 = options.complex64 ?? false;
  if (!isPowerOfTwo(nFft) || nFft < 4) {
    throw new ParameterError(`Cannot compute STFT: nFft is ${nFft}, expected a power of two ≥ 4`);
  }
  if (!Number.isInteger(hopLength) || hopLength < 1) {
    throw new ParameterError(`Cannot compute STFT: hopLength is ${hopLength}, expected an integer ≥ 1`);
  }
  const x = wave.samples;
  const pad = center ? nFft / 2 : 0;
  const paddedLength = x.length + 2 * pad;
  if (paddedLength < nFft) {
    throw new ParameterError(`Cannot compute STFT: ${x.length} samples are fewer than nFft ${nFft} without centring`);
  }
  const numFrames = 1 + Math.floor((paddedLength - nFft) / hopLength);
  const numBins = 1 + nFft / 2;
  const data = new Float32Array(numFrames * numBins);
  const { window, fft } = framesFor(nFft);
  const frame = new Float64Array(nFft);
  const spectrum = new Float64Array(2 * nFft);
  for (let t = 0; t < numFrames; t++) {
    const start = t * hopLength - pad; // index into x of the frame's first sample
    if (start >= 0 && start + nFft <= x.length) fft.transformWindowed(spectrum, x, start, window);
    else {
      for (let k = 0; k < nFft; k++) {
        const i = start + k;
        frame[k] = i >= 0 && i < x.length ? x[i] * window[k] : 0;
      }
      fft.transform(spectrum, frame);
    }
    const row = t * numBins;
    for (let b = 0; b < numBins; b++) {
      const re = spectrum[2 * b], im = spectrum[2 * b + 1];
      data[row + b] = complex64 ? complex64Abs(re, im) : Math.sqrt(re * re + im * im);
    }
  }
  return { data, numFrames, numBins, nFft, hopLength, sampleRate: wave.sampleRate };
}
