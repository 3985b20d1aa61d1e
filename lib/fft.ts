/**
 * The complex FFT of fft.js 4.0.4 (Fedor Indutny's radix-4 `transform` and `inverseTransform`), ported operation for
 * operation to typed arrays: the same twiddle table, the same floating-point operations in the same order, so the
 * same bits (tests/fft_test.ts compares them with fft.js itself). lib/align.ts correlates with it: its error bound
 * assumes fft.js's twiddles, and with its own copy lib/ needs no npm package to classify (loading one costs a process
 * 50 ms). The real-input transform is {@linkcode RealFft} in lib/stft.ts, built on the same tables.
 * @module
 */
import { ParameterError } from "./errors.ts";

/** fft.js's twiddle table for transform length `size`: cos(πi/size), −sin(πi/size) at i, i + 1 (i even). */
export function fftTable(size: number): Float64Array {
  const table = new Float64Array(2 * size);
  for (let i = 0; i < table.length; i += 2) {
    const angle = Math.PI * i / size;
    table[i] = Math.cos(angle);
    table[i + 1] = -Math.sin(angle);
  }
  return table;
}

/** fft.js's first-pass width for length `size` (a power of two): odd log₂ size, or log₂ size − 1. */
export function fftWidth(size: number): number {
  let power = 0;
  for (let t = 1; size > t; t <<= 1) power++;
  return power % 2 === 0 ? power - 1 : power;
}

/** fft.js's base-4 digit reversal of the first pass's offsets, for {@linkcode fftWidth} `width` (for width 1, entry 1
 * is garbage, as in fft.js, and never read). */
export function fftBitReversal(width: number): Int32Array {
  const bitrev = new Int32Array(1 << width);
  for (let j = 0; j < bitrev.length; j++) {
    for (let shift = 0; shift < width; shift += 2) bitrev[j] |= ((j >>> shift) & 3) << (width - shift - 2);
  }
  return bitrev;
}

/**
 * Complex FFT of interleaved (re, im) values, bit for bit fft.js 4.0.4's `transform` (forward, e^{−2πikn/N}) and
 * `inverseTransform` (e^{+2πikn/N}, divided by N).
 * @example Usage
 * ```ts
 * const fft = new ComplexFft(4);
 * const out = new Float64Array(8);
 * fft.transform(out, new Float64Array([1, 0, 0, 0, 0, 0, 0, 0])); // an impulse: every bin is 1
 * assertEquals([...out], [1, 0, 1, 0, 1, 0, 1, 0]);
 * ```
 */
export class ComplexFft {
  /** Transform length in complex values, a power of two ≥ 2. */
  readonly size: number;
  /** fft.js's twiddle table ({@linkcode fftTable}); not to be modified. */
  readonly table: Float64Array;
  readonly #bitrev: Int32Array;
  readonly #width: number;

  /** @param size Transform length in complex values, a power of two ≥ 2. */
  constructor(size: number) {
    if (!(size >= 2) || (size & (size - 1)) !== 0) {
      throw new ParameterError(`Cannot create FFT: size is ${size}, expected a power of two ≥ 2`);
    }
    this.size = size;
    this.table = fftTable(size);
    this.#width = fftWidth(size);
    this.#bitrev = fftBitReversal(this.#width);
  }

  /**
   * Forward transform.
   * @param out `2 · size` values (re, im interleaved); overwritten. Not `data`.
   * @param data `2 · size` values; not modified.
   */
  transform(out: Float64Array, data: Float64Array): void {
    this.#transform4(out, data, 1);
  }

  /**
   * Inverse transform, divided by `size`; like fft.js, every value of `out` is divided, however long it is.
   * @param out At least `2 · size` values; overwritten. Not `data`.
   * @param data `2 · size` values; not modified.
   */
  inverseTransform(out: Float64Array, data: Float64Array): void {
    this.#transform4(out, data, -1);
    for (let i = 0; i < out.length; i++) out[i] /= this.size;
  }

  /** fft.js `_transform4` with `_singleTransform2` / `_singleTransform4` inlined; `inv` is 1 or −1. */
  #transform4(out: Float64Array, data: Float64Array, inv: number): void {
    if (out === data) throw new ParameterError("Cannot run FFT: input and output must be different arrays");
    const size = 2 * this.size;
    const width = this.#width, bitrev = this.#bitrev;
    let step = 1 << width;
    let len = (size / step) << 1;
    if (len === 4) {
      for (let outOff = 0, t = 0; outOff < size; outOff += len, t++) {
        const off = bitrev[t];
        const evenR = data[off], evenI = data[off + 1], oddR = data[off + step], oddI = data[off + step + 1];
        out[outOff] = evenR + oddR;
        out[outOff + 1] = evenI + oddI;
        out[outOff + 2] = evenR - oddR;
        out[outOff + 3] = evenI - oddI;
      }
    } else {
      const step2 = step * 2, step3 = step * 3;
      for (let outOff = 0, t = 0; outOff < size; outOff += len, t++) {
        const off = bitrev[t];
        const Ar = data[off], Ai = data[off + 1], Br = data[off + step], Bi = data[off + step + 1];
        const Cr = data[off + step2], Ci = data[off + step2 + 1], Dr = data[off + step3], Di = data[off + step3 + 1];
        const T0r = Ar + Cr, T0i = Ai + Ci, T1r = Ar - Cr, T1i = Ai - Ci;
        const T2r = Br + Dr, T2i = Bi + Di, T3r = inv * (Br - Dr), T3i = inv * (Bi - Di);
        out[outOff] = T0r + T2r;
        out[outOff + 1] = T0i + T2i;
        out[outOff + 2] = T1r + T3i;
        out[outOff + 3] = T1i - T3r;
        out[outOff + 4] = T0r - T2r;
        out[outOff + 5] = T0i - T2i;
        out[outOff + 6] = T1r - T3i;
        out[outOff + 7] = T1i + T3r;
      }
    }
    const table = this.table;
    for (step >>= 2; step >= 2; step >>= 2) {
      len = (size / step) << 1;
      const quarterLen = len >>> 2;
      for (let outOff = 0; outOff < size; outOff += len) {
        const limit = outOff + quarterLen;
        for (let i = outOff, k = 0; i < limit; i += 2, k += step) {
          const A = i, B = A + quarterLen, C = B + quarterLen, D = C + quarterLen;
          const Ar = out[A], Ai = out[A + 1], Br = out[B], Bi = out[B + 1];
          const Cr = out[C], Ci = out[C + 1], Dr = out[D], Di = out[D + 1];
          const tableBr = table[k], tableBi = inv * table[k + 1];
          const MBr = Br * tableBr - Bi * tableBi, MBi = Br * tableBi + Bi * tableBr;
          const tableCr = table[2 * k], tableCi = inv * table[2 * k + 1];
          const MCr = Cr * tableCr - Ci * tableCi, MCi = Cr * tableCi + Ci * tableCr;
          const tableDr = table[3 * k], tableDi = inv * table[3 * k + 1];
          const MDr = Dr * tableDr - Di * tableDi, MDi = Dr * tableDi + Di * tableDr;
          const T0r = Ar + MCr, T0i = Ai + MCi, T1r = Ar - MCr, T1i = Ai - MCi;
          const T2r = MBr + MDr, T2i = MBi + MDi, T3r = inv * (MBr - MDr), T3i = inv * (MBi - MDi);
          out[A] = T0r + T2r;
          out[A + 1] = T0i + T2i;
          out[B] = T1r + T3i;
          out[B + 1] = T1i - T3r;
          out[C] = T0r - T2r;
          out[C + 1] = T0i - T2i;
          out[D] = T1r - T3i;
          out[D + 1] = T1i + T3r;
        }
      }
    }
  }
}
