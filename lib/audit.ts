/**
 * Data audit, as pure functions over waveforms: near-duplicate recordings (robust to a time
 * offset, a gain and the sample rate), label conflicts, copies across patients, odd files, and
 * the CV groups that keep copies together.
 *
 * Method: every recording is resampled to {@linkcode AUDIT_RATE_HZ} and band-passed to the
 * heart-sound band (25–400 Hz), which removes what the two stethoscopes' rates and DC offsets
 * change. A compact fingerprint, the log band energy per 20 ms frame, is cross-correlated for
 * every pair (FFT, normalised over the overlap) to find candidates cheaply; candidates get the
 * exact normalised cross-correlation of the band-passed waveforms over every lag (FFT), whose
 * maximum is the pair's similarity. Waveform correlation is phase-sensitive, so two different
 * recordings of the same rhythm stay low even when their envelopes line up.
 * @module
 */
import { ComplexFft } from "./fft.ts";
import { butterworthSos, sosFilter } from "./filter.ts";
import { resample } from "./resample.ts";
import type { Waveform } from "./types.ts";

/** Rate the audit compares at, Hz: above twice the band's top, below both datasets' rates. */
export const AUDIT_RATE_HZ = 2000;
/** Heart-sound band the audit compares, Hz. */
export const AUDIT_BAND_HZ: readonly [number, number] = [25, 400];
/** Decimation of the fingerprint: one value per 8 samples at {@linkcode AUDIT_RATE_HZ} (250 Hz). */
export const FINGERPRINT_HOP = 8;
/** Shortest overlap a match may have, seconds (or 80 % of the shorter recording when that is shorter). */
export const MIN_OVERLAP_S = 2;
/** Fingerprint correlation from which a pair is compared exactly (every copy of the development data scores ≥ 0.6). */
export const DEFAULT_CANDIDATE_THRESHOLD = 0.4;
/** Waveform similarity from which two recordings are copies: the valley of the similarity histogram (audit.md). */
export const DEFAULT_COPY_THRESHOLD = 0.7;
/**
 * Similarity from which a copy with another label is a label conflict (both recordings left out):
 * higher than the grouping threshold because leaving data out costs more than merging groups, and
 * the valley between the thresholds also holds chance alignments of very regular beats.
 */
export const CONFLICT_THRESHOLD = 0.8;

/** A recording prepared for comparison. */
export interface AuditSignal {
  /** Band-passed samples at {@linkcode AUDIT_RATE_HZ}, zero mean. */
  samples: Float64Array;
  /** {@linkcode fingerprintOf} the samples. */
  fingerprint: Float64Array;
}

/** Best alignment of two signals. */
export interface Alignment {
  /** Normalised cross-correlation at the best lag, over the overlap (−1 … 1). */
  similarity: number;
  /** Lag in samples: `b[i]` lines up with `a[i + lag]`. */
  lag: number;
  /** Samples in the overlap at that lag. */
  overlap: number;
}

/**
 * Resamples to {@linkcode AUDIT_RATE_HZ}, band-passes (4th-order Butterworth, 25–400 Hz), removes
 * the mean, and computes the fingerprint.
 */
export function prepareAuditSignal(wave: Waveform): AuditSignal {
  const at2k = resample(wave.samples, wave.sampleRate, AUDIT_RATE_HZ);
  const filtered = sosFilter(at2k, butterworthSos(4, AUDIT_BAND_HZ[0], AUDIT_BAND_HZ[1], AUDIT_RATE_HZ));
  const samples = Float64Array.from(filtered);
  let mean = 0;
  for (let i = 0; i < samples.length; i++) mean += samples[i];
  mean /= samples.length || 1;
  for (let i = 0; i < samples.length; i++) samples[i] -= mean;
  return { samples, fingerprint: fingerprintOf(samples) };
}

/**
 * The fingerprint: the band-passed waveform low-passed to 100 Hz and decimated by
 * {@linkcode FINGERPRINT_HOP} (to 250 Hz). It keeps the phase, so unlike an energy envelope it
 * does not make every two recordings of a similar heart rate look alike, at 1/64 of the cost of
 * the full-rate comparison.
 */
export function fingerprintOf(samples: Float64Array, hop = FINGERPRINT_HOP): Float64Array {
  const low = sosFilter(Float32Array.from(samples), butterworthSos(4, 0, AUDIT_RATE_HZ / (2.5 * hop), AUDIT_RATE_HZ));
  const out = new Float64Array(Math.max(1, Math.floor(samples.length / hop)));
  for (let f = 0; f < out.length; f++) out[f] = low[f * hop];
  return out;
}

const ffts = new Map<number, ComplexFft>();
function fftOf(size: number): ComplexFft {
  let f = ffts.get(size);
  if (!f) ffts.set(size, f = new ComplexFft(size));
  return f;
}

/** Smallest power of two ≥ n (and ≥ 2). */
export function nextPowerOfTwo(n: number): number {
  let p = 2;
  while (p < n) p *= 2;
  return p;
}

function prefixSquares(x: Float64Array): Float64Array {
  const out = new Float64Array(x.length + 1);
  for (let i = 0; i < x.length; i++) out[i + 1] = out[i] + x[i] * x[i];
  return out;
}

/** Spectrum of a real signal zero-padded to `size` complex values. */
export function spectrumOf(x: Float64Array, size: number): Float64Array {
  const data = new Float64Array(2 * size);
  for (let i = 0; i < x.length; i++) data[2 * i] = x[i];
  const out = new Float64Array(2 * size);
  fftOf(size).transform(out, data);
  return out;
}

/**
 * The lag of largest normalised correlation from a circular cross-correlation `corr` (index k ≥ 0
 * for lag k, N + k for lag k < 0, stride `stride` in an interleaved array at `offset`).
 */
function bestFromCorrelation(
  corr: Float64Array,
  stride: number,
  offset: number,
  size: number,
  sqA: Float64Array,
  sqB: Float64Array,
  minOverlap: number,
): Alignment {
  const la = sqA.length - 1, lb = sqB.length - 1;
  let best: Alignment = { similarity: 0, lag: 0, overlap: 0 };
  for (let lag = -(lb - minOverlap); lag <= la - minOverlap; lag++) {
    // b[i] ↔ a[i + lag], i in [max(0, −lag), min(lb, la − lag))
    const i0 = Math.max(0, -lag), i1 = Math.min(lb, la - lag);
    const overlap = i1 - i0;
    if (overlap < minOverlap) continue;
    const ea = sqA[i1 + lag] - sqA[i0 + lag], eb = sqB[i1] - sqB[i0];
    if (!(ea > 0 && eb > 0)) continue;
    const idx = lag >= 0 ? lag : size + lag;
    const r = corr[offset + stride * idx] / Math.sqrt(ea * eb);
    if (r > best.similarity) best = { similarity: r, lag, overlap };
  }
  if (best.similarity > 1) best.similarity = 1; // rounding of the energies' prefix sums
  return best;
}

/** The shortest overlap a match of lengths `la`, `lb` may have, in samples at `rate`. */
export function minOverlapFor(la: number, lb: number, rate: number): number {
  return Math.max(1, Math.min(Math.round(MIN_OVERLAP_S * rate), Math.floor(0.8 * Math.min(la, lb))));
}

/**
 * Exact normalised cross-correlation of two signals at every lag (FFT), normalised by the
 * energies of the overlapping parts; the best lag with at least `minOverlap` samples of overlap.
 */
export function bestAlignment(a: Float64Array, b: Float64Array, minOverlap: number): Alignment {
  const size = nextPowerOfTwo(a.length + b.length);
  // both spectra from one complex transform of a + i·b
  const data = new Float64Array(2 * size);
  for (let i = 0; i < a.length; i++) data[2 * i] = a[i];
  for (let i = 0; i < b.length; i++) data[2 * i + 1] = b[i];
  const z = new Float64Array(2 * size);
  const fft = fftOf(size);
  fft.transform(z, data);
  // A·conj(B) with A = (Z[k] + conj Z[−k]) / 2, B = (Z[k] − conj Z[−k]) / 2i
  const prod = data; // reused
  for (let k = 0; k < size; k++) {
    const m = (size - k) % size;
    const zr = z[2 * k], zi = z[2 * k + 1], wr = z[2 * m], wi = -z[2 * m + 1];
    const ar = (zr + wr) / 2, ai = (zi + wi) / 2;
    // (Z − W)/(2i) = (Zi − Wi)/2 − i (Zr − Wr)/2
    const br = (zi - wi) / 2, bi = -(zr - wr) / 2;
    prod[2 * k] = ar * br + ai * bi;
    prod[2 * k + 1] = ai * br - ar * bi;
  }
  fft.inverseTransform(z, prod);
  return bestFromCorrelation(z, 2, 0, size, prefixSquares(a), prefixSquares(b), minOverlap);
}

/** A pair of recordings by index, with the fingerprint correlation that made it a candidate. */
export interface CandidatePair {
  a: number;
  b: number;
  /** Fingerprint correlation at its best lag. */
  score: number;
}

/**
 * Every pair whose fingerprints correlate at ≥ `threshold` at some lag (overlap ≥
 * {@linkcode minOverlapFor}). Rows go from the longest fingerprint down, so a row's pairs share
 * one FFT size (twice the row's length) and the spectra of one size are computed once; two pairs
 * share one inverse transform (their correlations are real: one in the real part, one in the
 * imaginary).
 * @param onRow Called after each row, for progress.
 */
export function candidatePairs(
  fingerprints: readonly Float64Array[],
  threshold = DEFAULT_CANDIDATE_THRESHOLD,
  onRow?: () => void,
): CandidatePair[] {
  const n = fingerprints.length;
  const order = Array.from({ length: n }, (_, i) => i).sort((x, y) =>
    fingerprints[y].length - fingerprints[x].length || x - y
  );
  const squares = fingerprints.map(prefixSquares);
  const rate = AUDIT_RATE_HZ / FINGERPRINT_HOP;
  let size = 0;
  let spectra = new Map<number, Float32Array>();
  const spectrum = (i: number) => {
    let sp = spectra.get(i);
    if (!sp) spectra.set(i, sp = Float32Array.from(spectrumOf(fingerprints[i], size)));
    return sp;
  };
  const out: CandidatePair[] = [];
  let prod = new Float64Array(0), corr = new Float64Array(0);
  for (let r = 0; r < n; r++) {
    const i = order[r];
    const rowSize = nextPowerOfTwo(2 * fingerprints[i].length);
    if (rowSize !== size) {
      size = rowSize;
      spectra = new Map();
      prod = new Float64Array(2 * size);
      corr = new Float64Array(2 * size);
    }
    const fft = fftOf(size);
    const A = spectrum(i);
    for (let c = r + 1; c < n; c += 2) {
      const j = order[c], j2 = c + 1 < n ? order[c + 1] : -1;
      const B1 = spectrum(j), B2 = j2 >= 0 ? spectrum(j2) : null;
      for (let k = 0; k < 2 * size; k += 2) {
        const ar = A[k], ai = A[k + 1];
        const p1r = ar * B1[k] + ai * B1[k + 1], p1i = ai * B1[k] - ar * B1[k + 1];
        let p2r = 0, p2i = 0;
        if (B2) {
          p2r = ar * B2[k] + ai * B2[k + 1];
          p2i = ai * B2[k] - ar * B2[k + 1];
        }
        prod[k] = p1r - p2i; // P1 + i·P2
        prod[k + 1] = p1i + p2r;
      }
      fft.inverseTransform(corr, prod);
      for (const [jj, offset] of j2 >= 0 ? [[j, 0], [j2, 1]] : [[j, 0]]) {
        const la = fingerprints[i].length, lb = fingerprints[jj].length;
        const m = bestFromCorrelation(corr, 2, offset, size, squares[i], squares[jj], minOverlapFor(la, lb, rate));
        if (m.similarity >= threshold) out.push({ a: Math.min(i, jj), b: Math.max(i, jj), score: m.similarity });
      }
    }
    onRow?.();
  }
  return out.sort((x, y) => x.a - y.a || x.b - y.b);
}

/** Disjoint sets over 0..n−1. */
export class UnionFind {
  readonly #parent: Int32Array;
  constructor(n: number) {
    this.#parent = Int32Array.from({ length: n }, (_, i) => i);
  }
  /** Representative of x's set. */
  find(x: number): number {
    const p = this.#parent;
    while (p[x] !== x) {
      p[x] = p[p[x]];
      x = p[x];
    }
    return x;
  }
  /** Merges the sets of x and y. */
  union(x: number, y: number): void {
    const rx = this.find(x), ry = this.find(y);
    if (rx !== ry) this.#parent[Math.max(rx, ry)] = Math.min(rx, ry);
  }
}

/** Timestamp of a set_a file name (`normal__201106141148.wav` → minutes since 2000), or null. */
export function setATimestampMinutes(fileName: string): number | null {
  const m = /(20\d\d)(\d\d)(\d\d)(\d\d)(\d\d)(?!\d)/.exec(fileName);
  if (!m) return null;
  const [y, mo, d, h, mi] = m.slice(1).map(Number);
  return Date.UTC(y, mo - 1, d, h, mi) / 60000;
}

/** Minutes between two set_a recordings that still make one session (the data README's rule of thumb). */
export const SESSION_GAP_MIN = 5;

/** A recording as the audit's grouping sees it. */
export interface GroupingItem {
  /** Path relative to the data folder. */
  relPath: string;
  /** "a" or "b". */
  set: "a" | "b";
  /** Patient key from the file name ("b:103"; set_a files: one key each). */
  patientId: string;
}

/**
 * CV groups: union-find over set_b patient ids, set_a sessions (files whose name timestamps chain
 * with gaps ≤ {@linkcode SESSION_GAP_MIN} minutes), and the given copy pairs. A group's id is the
 * smallest patient id among its members, so groups without copies keep their patient id.
 * @returns Group id per item, in input order.
 */
export function auditGroups(
  items: readonly GroupingItem[],
  copies: readonly { a: number; b: number }[],
): string[] {
  const uf = new UnionFind(items.length);
  const byPatient = new Map<string, number>();
  items.forEach((r, i) => {
    const first = byPatient.get(r.patientId);
    if (first === undefined) byPatient.set(r.patientId, i);
    else uf.union(first, i);
  });
  const times = items
    .map((r, i) => ({ i, t: r.set === "a" ? setATimestampMinutes(r.relPath.split("/").pop()!) : null }))
    .filter((x): x is { i: number; t: number } => x.t !== null)
    .sort((x, y) => x.t - y.t);
  for (let k = 1; k < times.length; k++) {
    if (times[k].t - times[k - 1].t <= SESSION_GAP_MIN) uf.union(times[k - 1].i, times[k].i);
  }
  for (const p of copies) uf.union(p.a, p.b);
  const name = new Map<number, string>();
  items.forEach((r, i) => {
    const root = uf.find(i), cur = name.get(root);
    if (cur === undefined || r.patientId < cur) name.set(root, r.patientId);
  });
  return items.map((_, i) => name.get(uf.find(i))!);
}

/** Facts of one file for the odd-file checks. */
export interface FileFacts {
  relPath: string;
  set: "a" | "b";
  sampleRate: number;
  durationS: number;
  /** Root mean square of the raw samples. */
  rms: number;
  /** Largest |sample|. */
  peak: number;
  /** Fraction of samples within 0.1 % of full scale. */
  clippedFraction: number;
}

/** Facts of a waveform for {@linkcode oddFiles}. */
export function fileFacts(relPath: string, set: "a" | "b", wave: Waveform): FileFacts {
  const x = wave.samples;
  let sq = 0, peak = 0, clipped = 0;
  for (let i = 0; i < x.length; i++) {
    const v = Math.abs(x[i]);
    sq += v * v;
    if (v > peak) peak = v;
    if (v >= 0.999) clipped++;
  }
  return {
    relPath,
    set,
    sampleRate: wave.sampleRate,
    durationS: x.length / wave.sampleRate,
    rms: Math.sqrt(sq / Math.max(1, x.length)),
    peak,
    clippedFraction: clipped / Math.max(1, x.length),
  };
}

/** One odd file. */
export interface OddFile {
  relPath: string;
  /** "silent", "clipped", "too short", "rate" or "duration". */
  kind: string;
  /** The evidence, one line. */
  detail: string;
}

/** Shortest useful recording, seconds: two beats at 80 bpm. */
export const MIN_DURATION_S = 1.5;

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  if (s.length === 0) return NaN;
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/**
 * Files a data scientist should look at: silent (RMS < 1e-4 of full scale), clipped (> 1 % of
 * samples at full scale), too short (< {@linkcode MIN_DURATION_S} s), a sample rate other than
 * their set's most common one, or a duration over 3 times their set's median (cut clips make
 * short files common, so only "too short" flags the short side).
 */
export function oddFiles(facts: readonly FileFacts[]): OddFile[] {
  const out: OddFile[] = [];
  for (const set of ["a", "b"] as const) {
    const inSet = facts.filter((f) => f.set === set);
    if (inSet.length === 0) continue;
    const rates = new Map<number, number>();
    for (const f of inSet) rates.set(f.sampleRate, (rates.get(f.sampleRate) ?? 0) + 1);
    const usualRate = [...rates].sort((x, y) => y[1] - x[1] || x[0] - y[0])[0][0];
    const med = median(inSet.map((f) => f.durationS));
    for (const f of inSet) {
      if (f.rms < 1e-4) out.push({ relPath: f.relPath, kind: "silent", detail: `RMS ${f.rms.toExponential(1)}` });
      if (f.clippedFraction > 0.01) {
        out.push({
          relPath: f.relPath,
          kind: "clipped",
          detail: `${(100 * f.clippedFraction).toFixed(2)} % of samples at full scale`,
        });
      }
      if (f.durationS < MIN_DURATION_S) {
        out.push({ relPath: f.relPath, kind: "too short", detail: `${f.durationS.toFixed(2)} s` });
      }
      if (f.sampleRate !== usualRate) {
        out.push({ relPath: f.relPath, kind: "rate", detail: `${f.sampleRate} Hz, set_${set} is ${usualRate} Hz` });
      }
      if (f.durationS > 3 * med) {
        out.push({
          relPath: f.relPath,
          kind: "duration",
          detail: `${f.durationS.toFixed(1)} s, set_${set} median ${med.toFixed(1)} s`,
        });
      }
    }
  }
  return out.sort((x, y) => (x.relPath < y.relPath ? -1 : x.relPath > y.relPath ? 1 : 0));
}

/** Counts of values per bin of width `width` over [0, 1] (values below 0 in the first bin). */
export function histogram(values: readonly number[], width = 0.05): { from: number; to: number; count: number }[] {
  const bins = Math.round(1 / width);
  const counts = new Array<number>(bins).fill(0);
  for (const v of values) counts[Math.min(bins - 1, Math.max(0, Math.floor(v / width)))]++;
  return counts.map((count, b) => ({ from: b * width, to: (b + 1) * width, count }));
}
