/**
 * Alignment padding (the original's preprocessor 2, `align_and_pad_sequence`): a per-frame
 * feature sequence is slid along a longer reference sequence, placed at the offset with the
 * smallest Euclidean distance, and zero-padded to the reference's length.
 *
 * Two searches with identical results are exported: {@linkcode bestOffsetNaive}, the
 * original's brute force (O((L−l+1)·l)), and {@linkcode bestOffsetFast} /
 * {@linkcode createAligner}, which expand ‖c−w‖² = ‖c‖² + ‖w‖² − 2·c·w, take the window
 * energies ‖w‖² from double-double prefix sums and the cross-correlations c·w by FFT (fft.js, as ported to lib/fft.ts),
 * then re-check every offset that rounding could make the winner with the naive distance (see
 * "Tolerance" below), so that the fast offset is always the naive one.
 *
 * Reference choice: the original used the longest sequence of the whole dataset (training and
 * test together, a leak). {@linkcode longestReference}, {@linkcode medoidReference} and
 * {@linkcode meanTemplate} build a reference from the sequences they are given; pass training
 * sequences only.
 * @module
 */
import { ComplexFft } from "./fft.ts";
import { ParameterError } from "./errors.ts";

/** Frame-major multi-channel sequence: frame 0's channels, then frame 1's, ...
 * Its length in frames is `data.length / channels`. */
export interface Sequence {
  data: Float32Array | Float64Array;
  /** Values per frame, an integer ≥ 1 (2 for the original's (Hz, magnitude) pairs). */
  channels: number;
}

/** Where the zeros go in {@linkcode alignAndPad}:
 * - `both`: the sequence starts at the best offset, zeros before and after (the original's default);
 * - `front`: all zeros before, the sequence at the end (the original's `'front'`: `front_pad = total_pad`);
 * - `back`: all zeros after, the sequence at the start (the original's `'back'`). */
export type PadMode = "both" | "front" | "back";

/** A sequence padded to the reference's length, and the frame at which it starts in it. */
export interface AlignResult {
  /** Same channels and array type as the input sequence, the reference's length in frames. */
  padded: Sequence;
  /** First frame of the (possibly cut) sequence inside `padded`, in 0..L−l. */
  offset: number;
}

/** Details of one fast search, for benchmarks and tests. */
export interface AlignSearch {
  /** The best offset (identical to {@linkcode bestOffsetNaive}). */
  offset: number;
  /** Squared Euclidean distance at `offset`, computed like the naive search (float64). */
  distance: number;
  /** Offsets re-checked with the naive distance (0 when no search was needed). */
  candidates: number;
  /** FFT size used (0 when no search was needed). */
  fftSize: number;
  /** Reference blocks correlated (overlap-save blocks of `fftSize`; 1 = one FFT over all). */
  blocks: number;
}

/** Options of {@linkcode createAligner} and {@linkcode bestOffsetFast}. */
export interface AlignerOptions {
  /** Force this FFT size (a power of two ≥ 4): at least the reference length gives one
   * transform of everything, smaller sizes give partitioned blocks of half the size. By default
   * each sequence length gets the size with the lowest estimated cost. */
  fftSize?: number;
}

/** A reference prepared once (prefix energies, FFTs of its blocks) for aligning many sequences. */
export interface Aligner {
  /** The reference, as given. */
  readonly reference: Sequence;
  /** Same result as {@linkcode bestOffsetNaive}(sequence, reference). */
  bestOffset(sequence: Sequence): number;
  /** The search with its details. */
  search(sequence: Sequence): AlignSearch;
  /** Same result as {@linkcode alignAndPad}(sequence, reference, mode). */
  alignAndPad(sequence: Sequence, mode?: PadMode): AlignResult;
}

function assertValidSequence(s: Sequence, what: string): void {
  if (!s || !(s.data instanceof Float32Array || s.data instanceof Float64Array)) {
    throw new ParameterError(`Cannot align sequences: ${what} data is not a Float32Array or Float64Array`);
  }
  if (!Number.isInteger(s.channels) || s.channels < 1) {
    throw new ParameterError(`Cannot align sequences: ${what} has ${s.channels} channels, expected an integer ≥ 1`);
  }
  if (s.data.length % s.channels !== 0) {
    throw new ParameterError(
      `Cannot align sequences: ${what} has ${s.data.length} values, not a multiple of ${s.channels} channels`,
    );
  }
  const d = s.data;
  for (let i = 0; i < d.length; i++) {
    if (!Number.isFinite(d[i])) {
      throw new ParameterError(`Cannot align sequences: ${what} value ${i} is ${d[i]}`);
    }
  }
}

function assertSameChannels(sequence: Sequence, reference: Sequence): void {
  if (sequence.channels !== reference.channels) {
    throw new ParameterError(
      `Cannot align sequences: sequence has ${sequence.channels} channels, reference has ${reference.channels}`,
    );
  }
}

/**
 * The original's feature sequence: one (frequency, magnitude) pair per frame, 2 channels.
 * @param frequencyHz Hz, one per frame.
 * @param magnitude One per frame, same length as `frequencyHz`.
 * @example Usage
 * ```ts
 * const s = sequenceFromFeatures(new Float32Array([100, 200]), new Float32Array([1, 2]));
 * assertEquals([...s.data], [100, 1, 200, 2]);
 * ```
 */
export function sequenceFromFeatures(frequencyHz: Float32Array, magnitude: Float32Array): Sequence {
  if (frequencyHz.length !== magnitude.length) {
    throw new ParameterError(
      `Cannot build sequence: ${frequencyHz.length} frequencies but ${magnitude.length} magnitudes`,
    );
  }
  const data = new Float32Array(2 * frequencyHz.length);
  for (let t = 0; t < frequencyHz.length; t++) {
    data[2 * t] = frequencyHz[t];
    data[2 * t + 1] = magnitude[t];
  }
  return { data, channels: 2 };
}

/** Length of a sequence in frames. */
export function sequenceLength(s: Sequence): number {
  return Math.floor(s.data.length / s.channels);
}

/** Squared distance between the first `values` values of the sequence and the reference from
 * value `offset`, in float64 with four interleaved partial sums (so that the loop is not bound
 * by the latency of one accumulator; any order of summing m non-negative terms stays within the
 * γ_{m+2} bound used below). The naive search and the fast search's re-check share it. */
function windowDistance(seq: ArrayLike<number>, ref: ArrayLike<number>, offset: number, values: number): number {
  let a0 = 0, a1 = 0, a2 = 0, a3 = 0;
  let k = 0;
  for (; k + 4 <= values; k += 4) {
    const d0 = seq[k] - ref[offset + k];
    const d1 = seq[k + 1] - ref[offset + k + 1];
    const d2 = seq[k + 2] - ref[offset + k + 2];
    const d3 = seq[k + 3] - ref[offset + k + 3];
    a0 += d0 * d0;
    a1 += d1 * d1;
    a2 += d2 * d2;
    a3 += d3 * d3;
  }
  for (; k < values; k++) {
    const d = seq[k] - ref[offset + k];
    a0 += d * d;
  }
  return (a0 + a1) + (a2 + a3);
}

/**
 * The original's brute-force search: the offset i in 0..L−l minimising the Euclidean distance
 * (summed over channels, float64) between the sequence and reference frames [i, i+l); the
 * first minimum wins (distances compared after the square root, as the original's
 * `np.linalg.norm(...) < min`). Equal lengths give 0; a sequence longer than the reference is
 * cut to its first L frames and gives 0; an empty sequence gives 0.
 * @example Usage
 * ```ts
 * const ref = { data: new Float64Array([0, 0, 5, 7, 0]), channels: 1 };
 * assertEquals(bestOffsetNaive({ data: new Float64Array([5, 7]), channels: 1 }, ref), 2);
 * ```
 */
export function bestOffsetNaive(sequence: Sequence, reference: Sequence): number {
  assertValidSequence(sequence, "sequence");
  assertValidSequence(reference, "reference");
  assertSameChannels(sequence, reference);
  const ch = reference.channels;
  const L = sequenceLength(reference);
  const l = Math.min(sequenceLength(sequence), L);
  if (l === L || l === 0) return 0;
  const seq = sequence.data, ref = reference.data;
  let best = 0, bestDistance = Infinity;
  for (let i = 0; i <= L - l; i++) {
    const distance = Math.sqrt(windowDistance(seq, ref, i * ch, l * ch));
    if (distance < bestDistance) {
      bestDistance = distance;
      best = i;
    }
  }
  return best;
}

const U = 2 ** -53; // unit roundoff of float64
const gamma = (n: number) => (n * U) / (1 - n * U);

/** One FFT size with the reference's blocks and scratch buffers.
 * Partitioned (n < L, or forced): block b holds reference frames [b·S, b·S + n), S = n/2; the
 * sequence is cut into chunks of S frames, and output block b (offsets b·S .. b·S + S − 1) is
 * the inverse FFT of Σ_q H_{b+q}·conj(X_q) (uniformly partitioned overlap-save).
 * Single (n ≥ L): one block with the whole reference, one chunk with the whole sequence. */
interface Plan {
  n: number;
  fft: ComplexFft;
  /** Size n/2, for the inverse: only the real part of the correlation is needed. */
  half: ComplexFft;
  /** cos, sin of 2πf/n for f < n/2. */
  twiddle: Float64Array;
  single: boolean;
  /** S: frames between block starts, and frames per sequence chunk (partitioned). */
  stride: number;
  /** Per block, per channel pair: the block's complex spectrum (2n values); on first use. */
  spectra: (Float64Array[] | undefined)[];
  /** Per block: Σ|v| and √Σv² over the block's reference values (upper bounds). */
  norm1: Float64Array;
  norm2: Float64Array;
  /** Scratch: per chunk, per pair, the sequence chunk's spectrum. */
  chunkSpectra: Float64Array[][];
  packed: Float64Array;
  product: Float64Array;
  /** n/2 complex values = the n real correlations, in order. */
  result: Float64Array;
}

/*
 * Tolerance (why the fast offset equals the naive one).
 * Notation: c the sequence (l frames), w_i the reference window at offset i, C = ‖c‖²,
 * s_i = ‖w_i‖² − 2·c·w_i = D_i − C where D_i = ‖c − w_i‖² exactly; ŝ_i the fast score; d̂_i
 * the naive float64 distance. u = 2^-53, γ_n = nu/(1−nu).
 * 1. Energies: squares rounded (≤ u relative; exact for float32 data), prefix sums kept as
 *    double-double (TwoSum, error ≤ L²u²·P, P = total reference energy), the window difference
 *    by TwoSum: |Ê_i − ‖w_i‖²| ≤ 3u‖w_i‖² + 4L²u²P.
 * 2. Correlation z = c·w by FFT of size N: forward FFTs of the packed sequence chunks x_q and
 *    reference blocks h, products Σ_q Ĥ·conj(X̂_q) (one chunk and block when N ≥ L), inverse
 *    FFT. Higham (Accuracy and Stability of Numerical Algorithms, Thm 24.2): a computed
 *    radix-2 FFT has ‖ŷ − y‖₂ ≤ ε‖y‖₂, ε = log₂N·η/(1 − log₂N·η), η = μ + γ₄(√2 + μ), μ the
 *    twiddle error. fft.js takes twiddles from Math.cos/sin of πi/N (μ ≤ 8u) and uses radix-4
 *    stages; we double η for that. With ‖X‖₂ = √N‖x‖₂, ‖X‖∞ ≤ ‖x‖₁ (same for h), Parseval,
 *    the complex product error ≤ √2γ₂|a||b| and γ_{q·p} for summing q chunks × p channel
 *    pairs, every entry of the correlation vector of an output block satisfies
 *    ‖ẑ − z‖₂ ≤ E_z = 1.01·[(2ε_N + 2√2(ε_{N/2} + γ₁₀ + μ + γ₂) + γ_{q·p})·M
 *    + ε_N²√N·Σ_q‖x_q‖₂·max‖h‖₂], M = max(‖x‖₁·max‖h‖₂, Σ_q‖x_q‖₂·max‖h‖₁), maxima over
 *    the blocks used, ℓ1 norms summing |v| over all values (≥ the complex moduli). The inverse
 *    is done at half size (only the real part is needed): Z is formed from four entries of P̂
 *    with ≤ 10 roundings and one twiddle, |Z[f]| ≤ Σ of those four moduli, so ‖Z‖₂ ≤ 4‖P̂‖₂
 *    and the inverse adds ≤ 2√2(ε_{N/2} + γ₁₀ + μ)‖P̂‖₂/√N, with ‖P̂‖₂/√N ≤ M (1 + tiny).
 *    Every entry obeys |ẑ_j − z_j| ≤ ‖ẑ − z‖₂.
 * 3. ŝ_i = Ê_i − 2ẑ_i adds u(Ê_i + 2|ẑ_i|): |ŝ_i − s_i| ≤ e_i = Ê-error + 2E_z + u(Ê_i + 2|ẑ_i|).
 * 4. Naive: each term (c−w)² has relative error ≤ γ₃, summing m = l·channels non-negative
 *    terms in any order ≤ γ_{m−1}, so |d̂_i − D_i| ≤ γ_{m+2}D_i. The naive compares √d̂;
 *    equal rounded roots can hide a difference of ≤ 4u·d̂.
 * Let U = min_j(ŝ_j + e_j) ≥ s_j (at some j) and i* the naive winner (d̂_{i*} ≤ d̂_j up to the
 * root ties). Then ŝ_{i*} − e_{i*} ≤ s_{i*} = D_{i*} − C ≤ D_j − C + (γ_{m+2}(D_j + D_{i*}) +
 * 4u·d̂_j) ≤ U + T with T = 1.01·(2γ_{m+2} + 4u)(U + C)(1 + 3γ_{m+2}). So every offset with
 * ŝ_i − e_i ≤ U + T (plus 8u(|ŝ_i| + |U|) for rounding of this test) is re-checked with the
 * naive distance in index order, first minimum of √d̂ winning: i* is among them, and any
 * offset the naive search would prefer to it is, too. Bounds are worst-case: in practice a
 * handful of offsets are re-checked, and the bound exceeds the observed score errors about
 * 2,000-fold on random and real data (exact ties, e.g. a zero sequence on a silent stretch, are
 * all re-checked and cost what the naive search costs for them).
 */
const MU = 8 * U;
const ETA = 2 * (MU + gamma(4) * (Math.SQRT2 + MU));

function fftEpsilon(n: number): number {
  const k = Math.log2(n) * ETA;
  return k / (1 - k);
}

/**
 * Prepares a reference for aligning many sequences: prefix energies now, FFTs of its blocks
 * per FFT size on first use. The FFT size is chosen per sequence length by an estimated cost
 * (transforms plus spectrum products): one transform of size ≥ L, or a uniformly partitioned
 * overlap-save (sequence chunks and reference blocks of S frames, FFT size 2S), which keeps
 * the transforms cache-sized.
 * @param reference The reference sequence (any length, any channels, finite values).
 * @param options `fftSize`: force one FFT size (power of two) instead of the per-length choice.
 * @example Usage
 * ```ts
 * const ref = { data: Float64Array.from({ length: 100 }, (_, i) => Math.sin(i)), channels: 1 };
 * const aligner = createAligner(ref);
 * assertEquals(aligner.bestOffset({ data: ref.data.slice(30, 50), channels: 1 }), 30);
 * ```
 */
export function createAligner(reference: Sequence, options: AlignerOptions = {}): Aligner {
  return new FftAligner(reference, options, false);
}

/** Relative cost of one fft.js transform of size n (measured on our machines: per n·log₂n it
 * grows by ~1.6× from 16,384 to 131,072 points as the arrays leave the cache). */
function fftCost(n: number): number {
  const k = n <= 16384 ? 1 : n <= 32768 ? 1.1 : n <= 65536 ? 1.2 : n <= 131072 ? 1.6 : 1.8;
  return n * Math.log2(n) * k;
}
/** Cost of one complex multiply-add of two spectra's entries, in the units of fftCost. */
const MAC_COST = 2;
/** Smallest partitioned block stride, in frames. */
const MIN_STRIDE = 64;
/** Cost of creating an fft.js instance, per point (its trigonometric table), in fftCost units. */
const SETUP_COST = 140;

class FftAligner implements Aligner {
  readonly reference: Sequence;
  readonly #ch: number;
  readonly #pairs: number;
  readonly #length: number;
  readonly #energyHi: Float64Array;
  readonly #energyLo: Float64Array;
  readonly #energyBound: number;
  readonly #plans = new Map<number, Plan>();
  readonly #forcedSize: number | undefined;
  readonly #oneShot: boolean;
  #scores = new Float64Array(0);
  #errors = new Float64Array(0);

  constructor(reference: Sequence, options: AlignerOptions, oneShot: boolean) {
    assertValidSequence(reference, "reference");
    const { fftSize } = options;
    if (fftSize !== undefined && !(Number.isInteger(fftSize) && fftSize >= 4 && (fftSize & (fftSize - 1)) === 0)) {
      throw new ParameterError(`Cannot create aligner: fftSize is ${fftSize}, expected a power of two ≥ 4`);
    }
    this.reference = reference;
    this.#forcedSize = fftSize;
    this.#oneShot = oneShot;
    const ch = this.#ch = reference.channels;
    this.#pairs = Math.ceil(ch / 2);
    const L = this.#length = sequenceLength(reference);
    // Double-double prefix sums of the per-frame energies: hi + lo is Σ squares up to ~L²u²·P.
    const hi = this.#energyHi = new Float64Array(L + 1);
    const lo = this.#energyLo = new Float64Array(L + 1);
    const d = reference.data;
    let h = 0, l = 0;
    for (let t = 0; t < L; t++) {
      for (let c = 0; c < ch; c++) {
        const q = d[t * ch + c] * d[t * ch + c];
        const s = h + q;
        const bb = s - h;
        l += (h - (s - bb)) + (q - bb); // TwoSum error
        h = s;
      }
      hi[t + 1] = h;
      lo[t + 1] = l;
    }
    const n = L * ch;
    this.#energyBound = 4 * (n * U) * (n * U) * (h + Math.abs(l));
  }

  bestOffset(sequence: Sequence): number {
    return this.search(sequence).offset;
  }

  alignAndPad(sequence: Sequence, mode: PadMode = "both"): AlignResult {
    if (mode !== "both" && mode !== "front" && mode !== "back") {
      throw new ParameterError(`Cannot align sequences: pad mode is "${mode}", expected both, front or back`);
    }
    if (mode === "both") return padAt(sequence, this.reference, this.search(sequence).offset);
    assertValidSequence(sequence, "sequence");
    assertSameChannels(sequence, this.reference);
    const L = this.#length;
    const l = Math.min(sequenceLength(sequence), L);
    return padAt(sequence, this.reference, mode === "front" ? L - l : 0);
  }

  search(sequence: Sequence): AlignSearch {
    assertValidSequence(sequence, "sequence");
    assertSameChannels(sequence, this.reference);
    const ch = this.#ch, L = this.#length, pairs = this.#pairs;
    const l = Math.min(sequenceLength(sequence), L);
    const seq = sequence.data, ref = this.reference.data;
    if (l === L || l === 0) {
      return { offset: 0, distance: windowDistance(seq, ref, 0, l * ch), candidates: 0, fftSize: 0, blocks: 0 };
    }
    const m = l * ch; // values compared per offset
    let energy = 0, norm1 = 0;
    for (let k = 0; k < m; k++) {
      energy += seq[k] * seq[k];
      norm1 += Math.abs(seq[k]);
    }
    norm1 *= 1 + gamma(m);
    const offsets = L - l + 1;
    const plan = this.#plan(l);
    const { n, fft, single, stride, packed, product, result } = plan;
    const chunk = single ? l : stride; // frames per sequence chunk
    const chunks = Math.ceil(l / chunk);
    const blocks = single ? 1 : Math.floor((L - l) / stride) + 1;
    const perBlock = single ? offsets : stride;
    if (this.#scores.length < offsets) {
      this.#scores = new Float64Array(offsets);
      this.#errors = new Float64Array(offsets);
    }
    const scores = this.#scores, errors = this.#errors;
    // Forward FFT of each chunk, channels packed in pairs as real + imaginary parts.
    while (plan.chunkSpectra.length < chunks) {
      plan.chunkSpectra.push(Array.from({ length: pairs }, () => new Float64Array(2 * n)));
    }
    let chunkNorm2Sum = 0; // Σ_q ‖x_q‖₂
    for (let q = 0; q < chunks; q++) {
      const t0 = q * chunk, t1 = Math.min(t0 + chunk, l);
      let e = 0;
      for (let p = 0; p < pairs; p++) {
        const c0 = 2 * p, c1 = 2 * p + 1;
        packed.fill(0, c1 < ch ? 2 * (t1 - t0) : 0);
        for (let t = t0; t < t1; t++) {
          const v0 = seq[t * ch + c0];
          packed[2 * (t - t0)] = v0;
          e += v0 * v0;
          if (c1 < ch) {
            const v1 = seq[t * ch + c1];
            packed[2 * (t - t0) + 1] = v1;
            e += v1 * v1;
          }
        }
        fft.transform(plan.chunkSpectra[q][p], packed);
      }
      chunkNorm2Sum += Math.sqrt(e * (1 + gamma((t1 - t0) * ch + 1)));
    }
    chunkNorm2Sum *= 1 + gamma(chunks + 1);
    const eps = fftEpsilon(n);
    const productError = 2 * eps + 2 * Math.SQRT2 * (fftEpsilon(n / 2) + gamma(10) + MU + gamma(2)) +
      gamma(chunks * pairs);
    const { half, twiddle } = plan;
    const mid = n / 2;
    const hiE = this.#energyHi, loE = this.#energyLo, energyBound = this.#energyBound;
    for (let b = 0; b < blocks; b++) {
      // Σ over chunks and pairs of H_{b+q}·conj(X_q); the real part of its inverse FFT is
      // Σ_channels Σ_k c_k·w_{i+k} for the block's offsets i.
      let h1 = 0, h2 = 0;
      for (let q = 0; q < chunks; q++) {
        const spectra = this.#blockSpectra(plan, b + q);
        h1 = Math.max(h1, plan.norm1[b + q]);
        h2 = Math.max(h2, plan.norm2[b + q]);
        for (let p = 0; p < pairs; p++) {
          const H = spectra[p], X = plan.chunkSpectra[q][p];
          if (q === 0 && p === 0) {
            for (let f = 0; f < 2 * n; f += 2) {
              const hr = H[f], hm = H[f + 1], xr = X[f], xm = X[f + 1];
              product[f] = hr * xr + hm * xm;
              product[f + 1] = hm * xr - hr * xm;
            }
          } else {
            for (let f = 0; f < 2 * n; f += 2) {
              const hr = H[f], hm = H[f + 1], xr = X[f], xm = X[f + 1];
              product[f] += hr * xr + hm * xm;
              product[f + 1] += hm * xr - hr * xm;
            }
          }
        }
      }
      // Real part of the inverse FFT of P with a half-size inverse: with Y the Hermitian part
      // of P, y[2s] + i·y[2s+1] = IFFT_{n/2}(Z)[s] / 2, Z[f] = (Y[f] + Y[f+n/2]) +
      // i·e^{2πif/n}·(Y[f] − Y[f+n/2]); the 1/2 goes into Z (exact).
      for (let f = 0; f < mid; f++) {
        const f1 = f === 0 ? 0 : 2 * (n - f), f2 = 2 * (f + mid), f3 = 2 * (mid - f), f0 = 2 * f;
        const aR = product[f0] + product[f1], aI = product[f0 + 1] - product[f1 + 1]; // 2·Y[f]
        const bR = product[f2] + product[f3], bI = product[f2 + 1] - product[f3 + 1]; // 2·Y[f+n/2]
        const dR = aR - bR, dI = aI - bI, cos = twiddle[f0], sin = twiddle[f0 + 1];
        const tR = dR * cos - dI * sin, tI = dR * sin + dI * cos;
        packed[f0] = 0.25 * (aR + bR - tI);
        packed[f0 + 1] = 0.25 * (aI + bI + tR);
      }
      half.inverseTransform(result, packed.subarray(0, n));
      const mBound = Math.max(norm1 * h2, chunkNorm2Sum * h1);
      const corrError = 1.01 * (productError * mBound + eps * eps * Math.sqrt(n) * chunkNorm2Sum * h2);
      const start = b * stride;
      const end = Math.min(start + perBlock, offsets);
      for (let i = start; i < end; i++) {
        const z = result[i - start];
        // Window energy: difference of the double-double prefix sums, hi parts by TwoSum.
        const a = hiE[i + l], c = -hiE[i];
        const s = a + c;
        const bb = s - a;
        const e = (a - (s - bb)) + (c - bb);
        const w = s + (e + (loE[i + l] - loE[i]));
        scores[i] = w - 2 * z;
        errors[i] = 3 * U * w + energyBound + 2 * corrError + U * (w + 2 * Math.abs(z));
      }
    }
    let upper = Infinity;
    for (let i = 0; i < offsets; i++) {
      const v = scores[i] + errors[i];
      if (v < upper) upper = v;
    }
    const gm = gamma(m + 2);
    const tol = 1.01 * (2 * gm + 4 * U) * Math.max(0, upper + energy * (1 + gamma(m + 1))) * (1 + 3 * gm);
    let best = -1, bestDistance = Infinity, bestSquared = Infinity, candidates = 0;
    for (let i = 0; i < offsets; i++) {
      const s = scores[i];
      if (s - errors[i] <= upper + tol + 8 * U * (Math.abs(s) + Math.abs(upper))) {
        candidates++;
        const squared = windowDistance(seq, ref, i * ch, m);
        const distance = Math.sqrt(squared);
        if (distance < bestDistance) {
          bestDistance = distance;
          bestSquared = squared;
          best = i;
        }
      }
    }
    return { offset: best, distance: bestSquared, candidates, fftSize: n, blocks };
  }

  /** The plan with the lowest estimated cost for a sequence of l frames (1 ≤ l < L). */
  #plan(l: number): Plan {
    const L = this.#length, pairs = this.#pairs;
    const top = 2 ** Math.ceil(Math.log2(Math.max(L, 4)));
    let bestN = top, bestSingle = true;
    if (this.#forcedSize !== undefined) {
      bestN = this.#forcedSize;
      bestSingle = bestN >= L;
    } else {
      // Building a plan: its reference blocks' FFTs, and (one-shot only, an aligner keeps its
      // plans) fft.js's tables for sizes n and n/2.
      const built = (n: number, single: boolean) => !this.#oneShot && this.#plans.has(single ? -n : n);
      const setup = (n: number) => (this.#oneShot ? 1.5 * n * SETUP_COST : 0);
      const inverseCost = (n: number) => fftCost(n / 2) + n * MAC_COST; // half-size inverse + unpacking
      let bestCost = pairs * fftCost(top) + inverseCost(top) + pairs * top * MAC_COST +
        (built(top, true) ? 0 : pairs * fftCost(top) + setup(top));
      for (let n = 2 * MIN_STRIDE; n < top; n *= 2) {
        const s = n / 2;
        const chunks = Math.ceil(l / s), blocks = Math.floor((L - l) / s) + 1;
        const cost = chunks * pairs * fftCost(n) + blocks * inverseCost(n) + blocks * chunks * pairs * n * MAC_COST +
          (built(n, false) ? 0 : (blocks + chunks - 1) * pairs * fftCost(n) + setup(n));
        if (cost < bestCost) {
          bestCost = cost;
          bestN = n;
          bestSingle = false;
        }
      }
    }
    const key = bestSingle ? -bestN : bestN;
    let plan = this.#plans.get(key);
    if (!plan) {
      const n = bestN;
      const stride = bestSingle ? n : n / 2;
      const blocks = bestSingle ? 1 : Math.ceil(L / stride);
      const fft = new ComplexFft(n);
      // fft.js's table holds cos(πi/n), −sin(πi/n) at i, i + 1 (i even): e^{2πif/n} for f < n/2.
      const table = fft.table;
      const twiddle = new Float64Array(n);
      for (let f = 0; f < n / 2; f++) {
        twiddle[2 * f] = table[2 * f];
        twiddle[2 * f + 1] = -table[2 * f + 1];
      }
      plan = {
        n,
        fft,
        half: new ComplexFft(n / 2),
        twiddle,
        single: bestSingle,
        stride,
        spectra: new Array(blocks).fill(undefined),
        norm1: new Float64Array(blocks),
        norm2: new Float64Array(blocks),
        chunkSpectra: [],
        packed: new Float64Array(2 * n),
        product: new Float64Array(2 * n),
        result: new Float64Array(n),
      };
      this.#plans.set(key, plan);
    }
    return plan;
  }

  #blockSpectra(plan: Plan, b: number): Float64Array[] {
    const cached = plan.spectra[b];
    if (cached) return cached;
    const { n, fft, stride, packed } = plan;
    const ch = this.#ch, L = this.#length, ref = this.reference.data;
    const start = b * stride;
    const end = Math.min(start + n, L);
    const spectra: Float64Array[] = [];
    let n1 = 0, n2 = 0;
    for (let p = 0; p < this.#pairs; p++) {
      packed.fill(0);
      const c0 = 2 * p, c1 = 2 * p + 1;
      for (let t = start; t < end; t++) {
        const v0 = ref[t * ch + c0];
        packed[2 * (t - start)] = v0;
        n1 += Math.abs(v0);
        n2 += v0 * v0;
        if (c1 < ch) {
          const v1 = ref[t * ch + c1];
          packed[2 * (t - start) + 1] = v1;
          n1 += Math.abs(v1);
          n2 += v1 * v1;
        }
      }
      const spectrum = new Float64Array(2 * n);
      fft.transform(spectrum, packed);
      spectra.push(spectrum);
    }
    const values = Math.max(0, end - start) * ch;
    plan.norm1[b] = n1 * (1 + gamma(values));
    plan.norm2[b] = Math.sqrt(n2 * (1 + gamma(values + 1)));
    plan.spectra[b] = spectra;
    return spectra;
  }
}

function padAt(sequence: Sequence, reference: Sequence, offset: number): AlignResult {
  const ch = reference.channels;
  const L = sequenceLength(reference);
  const l = Math.min(sequenceLength(sequence), L);
  const data = sequence.data instanceof Float64Array ? new Float64Array(L * ch) : new Float32Array(L * ch);
  data.set(sequence.data.subarray(0, l * ch), offset * ch);
  return { padded: { data, channels: ch }, offset };
}

/**
 * The fast search (FFT cross-correlation, exact re-check of near-ties); always the same offset
 * as {@linkcode bestOffsetNaive}. For many sequences against one reference, use
 * {@linkcode createAligner}, which reuses the reference's transforms.
 * @example Usage
 * ```ts
 * const ref = { data: new Float64Array([0, 0, 5, 7, 0]), channels: 1 };
 * assertEquals(bestOffsetFast({ data: new Float64Array([5, 7]), channels: 1 }, ref), 2);
 * ```
 */
export function bestOffsetFast(sequence: Sequence, reference: Sequence, options: AlignerOptions = {}): number {
  return new FftAligner(reference, options, true).bestOffset(sequence);
}

/** The best offset of `sequence` in `reference`: {@linkcode bestOffsetFast}. */
export function bestOffset(sequence: Sequence, reference: Sequence): number {
  return bestOffsetFast(sequence, reference);
}

/**
 * The original's alignment padding: the sequence (cut to the reference's length if longer)
 * placed in a zero sequence of the reference's length.
 * @param mode `both` (default): at the best offset; `front`: at the end (zeros in front);
 *   `back`: at the start (zeros behind). See {@linkcode PadMode}.
 * @example Usage
 * ```ts
 * const ref = { data: new Float64Array([0, 0, 5, 7, 0]), channels: 1 };
 * const { padded, offset } = alignAndPad({ data: new Float64Array([5, 7]), channels: 1 }, ref);
 * assertEquals([offset, [...padded.data]], [2, [0, 0, 5, 7, 0]]);
 * ```
 */
export function alignAndPad(sequence: Sequence, reference: Sequence, mode: PadMode = "both"): AlignResult {
  return new FftAligner(reference, {}, true).alignAndPad(sequence, mode);
}

function assertNonEmptySet(sequences: Sequence[], action: string): void {
  if (!Array.isArray(sequences) || sequences.length === 0) {
    throw new ParameterError(`Cannot ${action}: no sequences given`);
  }
  for (let i = 0; i < sequences.length; i++) {
    assertValidSequence(sequences[i], `sequence ${i}`);
    assertSameChannels(sequences[i], sequences[0]);
  }
}

/**
 * The original's reference: the longest sequence (the first one on ties), returned as is (not
 * copied). Pass training sequences only.
 * @example Usage
 * ```ts
 * const a = { data: new Float32Array(4), channels: 2 }, b = { data: new Float32Array(6), channels: 2 };
 * assertEquals(longestReference([a, b]), b);
 * ```
 */
export function longestReference(sequences: Sequence[]): Sequence {
  assertNonEmptySet(sequences, "choose reference");
  let best = sequences[0];
  for (const s of sequences) if (sequenceLength(s) > sequenceLength(best)) best = s;
  return best;
}

/** Options of {@linkcode medoidReference}. */
export interface MedoidOptions {
  /** How many of the longest sequences are candidates (length order, input order on ties).
   * Integer ≥ 1. @default {5} */
  candidates?: number;
}

/**
 * A medoid reference: among the `candidates` longest sequences, the one to which all the given
 * sequences align best, i.e. with the smallest mean over the sequences of the per-frame
 * squared distance at the best offset (‖c − w‖² / l, a sequence longer than the candidate
 * being cut to it; the candidate itself scores 0). The first candidate wins ties. Restricting
 * candidates to the longest keeps the reference long enough that few sequences are cut.
 * Returned as is (not copied). Pass training sequences only.
 * @example Usage
 * ```ts
 * const s = (xs: number[]) => ({ data: Float64Array.from(xs), channels: 1 });
 * const odd = s([9, 9, 9, 9]), typical = s([0, 1, 2, 0]);
 * assertEquals(medoidReference([odd, typical, s([1, 2]), s([0, 1, 2])], { candidates: 2 }), typical);
 * ```
 */
export function medoidReference(sequences: Sequence[], options: MedoidOptions = {}): Sequence {
  assertNonEmptySet(sequences, "choose medoid reference");
  const k = options.candidates ?? 5;
  if (!Number.isInteger(k) || k < 1) {
    throw new ParameterError(`Cannot choose medoid reference: candidates is ${k}, expected an integer ≥ 1`);
  }
  const order = sequences.map((_, i) => i).sort((a, b) =>
    sequenceLength(sequences[b]) - sequenceLength(sequences[a]) || a - b
  );
  let best = sequences[order[0]], bestScore = Infinity;
  for (const c of order.slice(0, k)) {
    const aligner = createAligner(sequences[c]);
    let total = 0;
    for (const s of sequences) {
      const l = Math.min(sequenceLength(s), sequenceLength(sequences[c]));
      if (l > 0) total += aligner.search(s).distance / l;
    }
    const score = total / sequences.length;
    if (score < bestScore) {
      bestScore = score;
      best = sequences[c];
    }
  }
  return best;
}

/** Options of {@linkcode meanTemplate}. */
export interface MeanTemplateOptions {
  /** Most align-and-average rounds; stops earlier once no offset changes. Integer ≥ 1. @default {5} */
  iterations?: number;
}

/**
 * A mean template: start from the longest sequence; each round, align every sequence to the
 * current template ({@linkcode bestOffsetFast} semantics, longer ones cut) and replace each
 * template frame by the mean of the sequence frames placed on it (frames no sequence covers
 * keep their value, zero padding is not averaged in). Stops after `iterations` rounds or when
 * the offsets repeat. Result: Float64Array data, the longest sequence's length. Pass training
 * sequences only.
 * @example Usage
 * ```ts
 * const s = (xs: number[]) => ({ data: Float64Array.from(xs), channels: 1 });
 * const t = meanTemplate([s([0, 2, 4, 0]), s([4, 2])], { iterations: 1 });
 * assertEquals([...t.data], [0, 2, 4, 1]); // [4, 2] fits best at offset 2 of [0, 2, 4, 0]
 * ```
 */
export function meanTemplate(sequences: Sequence[], options: MeanTemplateOptions = {}): Sequence {
  assertNonEmptySet(sequences, "build mean template");
  const iterations = options.iterations ?? 5;
  if (!Number.isInteger(iterations) || iterations < 1) {
    throw new ParameterError(`Cannot build mean template: iterations is ${iterations}, expected an integer ≥ 1`);
  }
  const first = longestReference(sequences);
  const ch = first.channels;
  const L = sequenceLength(first);
  let template: Sequence = { data: Float64Array.from(first.data), channels: ch };
  let previous: number[] | undefined;
  for (let round = 0; round < iterations; round++) {
    const aligner = createAligner(template);
    const offsets = sequences.map((s) => aligner.bestOffset(s));
    if (previous && offsets.every((o, i) => o === previous![i])) break;
    previous = offsets;
    const sum = new Float64Array(L * ch);
    const count = new Float64Array(L);
    sequences.forEach((s, i) => {
      const l = Math.min(sequenceLength(s), L);
      const o = offsets[i];
      for (let t = 0; t < l; t++) {
        count[o + t]++;
        for (let c = 0; c < ch; c++) sum[(o + t) * ch + c] += s.data[t * ch + c];
      }
    });
    const data = new Float64Array(L * ch);
    for (let t = 0; t < L; t++) {
      for (let c = 0; c < ch; c++) {
        data[t * ch + c] = count[t] > 0 ? sum[t * ch + c] / count[t] : template.data[t * ch + c];
      }
    }
    template = { data, channels: ch };
  }
  return template;
}
