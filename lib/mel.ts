/**
 * Mel spectrograms, log-mel (dB) and MFCC, following librosa 0.10's definitions.
 *
 * - Mel scale: Slaney's (librosa's default, `htk=False`): linear below 1 kHz (3 mel per 200 Hz,
 *   so 1000 Hz = 15 mel), logarithmic above (27 mel per factor 6.4). With `htk: true`:
 *   mel = 2595·log10(1 + f / 700).
 * - Filters: triangles between neighbouring points of `nMels + 2` mel-spaced frequencies from
 *   `fMinHz` to `fMaxHz`, evaluated at the FFT bin centres; with `norm: "slaney"` (librosa's
 *   default) each is scaled by 2 / (its bandwidth in Hz) so it has unit area over frequency.
 * - MFCC: DCT type II with orthonormal scaling (librosa / scipy `norm="ortho"`) of each frame's
 *   log-mel vector, first `nMfcc` coefficients, no liftering:
 *   c[k] = s_k · Σ_m x[m]·cos(π·k·(2m + 1) / (2M)), s_0 = √(1/M), s_k = √(2/M).
 * All outputs are frame-major: frame 0's values, then frame 1's, ...
 * @module
 */
import { ParameterError } from "./errors.ts";
import type { Spectrogram } from "./stft.ts";

const F_SP = 200 / 3; // Hz per mel below the break
const MIN_LOG_HZ = 1000;
const MIN_LOG_MEL = MIN_LOG_HZ / F_SP; // 15
const LOG_STEP = Math.log(6.4) / 27;

/**
 * Hertz to mel (librosa `hz_to_mel`).
 * @param hz Frequency in Hz, ≥ 0.
 * @param htk HTK formula instead of Slaney's. @default {false}
 * @example Usage
 * ```ts
 * assert(Math.abs(hzToMel(1000) - 15) < 1e-12); // 14.999999999999998, as librosa
 * ```
 */
export function hzToMel(hz: number, htk = false): number {
  if (htk) return 2595 * Math.log10(1 + hz / 700);
  return hz < MIN_LOG_HZ ? hz / F_SP : MIN_LOG_MEL + Math.log(hz / MIN_LOG_HZ) / LOG_STEP;
}

/**
 * Mel to hertz (librosa `mel_to_hz`), the inverse of {@linkcode hzToMel}.
 * @example Usage
 * ```ts
 * assert(Math.abs(melToHz(hzToMel(440)) - 440) < 1e-9);
 * ```
 */
export function melToHz(mel: number, htk = false): number {
  if (htk) return 700 * (10 ** (mel / 2595) - 1);
  return mel < MIN_LOG_MEL ? F_SP * mel : MIN_LOG_HZ * Math.exp(LOG_STEP * (mel - MIN_LOG_MEL));
}

/** Options of {@linkcode melFilterBank}. */
export interface MelFilterBankOptions {
  /** Hz, > 0. */
  sampleRate: number;
  /** FFT size of the spectrogram the bank applies to; the bank has `1 + nFft / 2` bins. */
  nFft: number;
  /** Number of mel bands, ≥ 1. @default {40} */
  nMels?: number;
  /** Lowest edge in Hz, ≥ 0. @default {0} */
  fMinHz?: number;
  /** Highest edge in Hz, in (fMinHz, sampleRate / 2]. @default {sampleRate / 2} */
  fMaxHz?: number;
  /** HTK mel formula instead of Slaney's. @default {false} */
  htk?: boolean;
  /** `"slaney"`: unit-area triangles (librosa's default); `"none"`: peak 1. @default {"slaney"} */
  norm?: "slaney" | "none";
}

/** Mel filter weights, band-major: band 0's `numBins` weights, then band 1's, ... */
export interface MelFilterBank {
  /** `nMels * numBins` weights (float32, as librosa returns them). */
  weights: Float32Array;
  nMels: number;
  /** `1 + nFft / 2`. */
  numBins: number;
  sampleRate: number;
  nFft: number;
  /** The `nMels + 2` band edge/centre frequencies in Hz: band m rises from `edgesHz[m]`, peaks at `edgesHz[m + 1]`, ends at `edgesHz[m + 2]`. */
  edgesHz: Float64Array;
  /** Per band, the first bin with a non-zero weight and one past the last (empty bands have first = last). */
  firstBin: Int32Array;
  lastBin: Int32Array;
}

/**
 * Triangular mel filters for a magnitude/power spectrogram (librosa `filters.mel`).
 * @param options `sampleRate` and `nFft` are required; see {@linkcode MelFilterBankOptions}.
 * @returns The weights plus each band's non-zero bin range. A band narrower than one FFT bin can be all
 *   zeros, as in librosa (which warns); use fewer bands or a larger nFft.
 * @example Usage
 * ```ts
 * const bank = melFilterBank({ sampleRate: 4000, nFft: 512, nMels: 40 });
 * assertEquals(bank.weights.length, 40 * 257);
 * ```
 */
export function melFilterBank(options: MelFilterBankOptions): MelFilterBank {
  const { sampleRate, nFft } = options;
  const nMels = options.nMels ?? 40;
  const fMinHz = options.fMinHz ?? 0;
  const fMaxHz = options.fMaxHz ?? sampleRate / 2;
  const htk = options.htk ?? false;
  const norm = options.norm ?? "slaney";
  if (!(sampleRate > 0) || !Number.isFinite(sampleRate)) {
    throw new ParameterError(`Cannot build mel filters: sample rate is ${sampleRate}`);
  }
  if (!Number.isInteger(nFft) || nFft < 2) throw new ParameterError(`Cannot build mel filters: nFft is ${nFft}`);
  if (!Number.isInteger(nMels) || nMels < 1) {
    throw new ParameterError(`Cannot build mel filters: nMels is ${nMels}, expected an integer ≥ 1`);
  }
  if (!(fMinHz >= 0 && fMinHz < fMaxHz && fMaxHz <= sampleRate / 2)) {
    throw new ParameterError(
      `Cannot build mel filters: band ${fMinHz}–${fMaxHz} Hz, expected 0 ≤ fMinHz < fMaxHz ≤ ${sampleRate / 2}`,
    );
  }
  if (norm !== "slaney" && norm !== "none") {
    throw new ParameterError(`Cannot build mel filters: norm is ${norm}, expected slaney or none`);
  }
  const numBins = 1 + Math.floor(nFft / 2);
  const melMin = hzToMel(fMinHz, htk), melMax = hzToMel(fMaxHz, htk);
  const edgesHz = new Float64Array(nMels + 2);
  for (let i = 0; i < nMels + 2; i++) edgesHz[i] = melToHz(melMin + (melMax - melMin) * i / (nMels + 1), htk);
  const weights = new Float32Array(nMels * numBins);
  const firstBin = new Int32Array(nMels), lastBin = new Int32Array(nMels);
  for (let m = 0; m < nMels; m++) {
    const lower = edgesHz[m], centre = edgesHz[m + 1], upper = edgesHz[m + 2];
    const enorm = norm === "slaney" ? 2 / (upper - lower) : 1;
    let first = -1, last = -1;
    for (let k = 0; k < numBins; k++) {
      const f = k * sampleRate / nFft;
      const w = Math.max(0, Math.min((f - lower) / (centre - lower), (upper - f) / (upper - centre)));
      if (w > 0) {
        weights[m * numBins + k] = w * enorm;
        if (first < 0) first = k;
        last = k;
      }
    }
    firstBin[m] = first < 0 ? 0 : first;
    lastBin[m] = first < 0 ? 0 : last + 1;
  }
  return { weights, nMels, numBins, sampleRate, nFft, edgesHz, firstBin, lastBin };
}

/** A mel spectrogram or its log, frame-major: frame 0's `nMels` bands, then frame 1's, ... */
export interface MelSpectrogram {
  /** `numFrames * nMels` values. */
  data: Float32Array;
  numFrames: number;
  nMels: number;
  /** Hz, of the signal. */
  sampleRate: number;
  hopLength: number;
  nFft: number;
  /** The exponent applied to |STFT| before the filters (2: power, 1: magnitude). */
  power: number;
}

/** Options of {@linkcode melSpectrogram}. */
export interface MelSpectrogramOptions extends Omit<MelFilterBankOptions, "sampleRate" | "nFft"> {
  /** Exponent of the magnitude before filtering: 2 for power (librosa's default), 1 for magnitude. @default {2} */
  power?: number;
  /** A bank from {@linkcode melFilterBank} to reuse (it must match the spectrogram's rate and nFft);
   * the other filter options are then ignored. */
  filterBank?: MelFilterBank;
}

/**
 * Mel spectrogram of a magnitude spectrogram (librosa `feature.melspectrogram(S=|stft|**power)`).
 * @param spec Magnitude STFT from {@linkcode stft}.
 * @param options Band layout (default 40 Slaney bands over 0 … sampleRate / 2) and `power` (default 2).
 * @example Usage
 * ```ts
 * const spec = stft({ samples: new Float32Array(4000).fill(0.1), sampleRate: 4000 }, { nFft: 256 });
 * const mel = melSpectrogram(spec, { nMels: 20 });
 * assertEquals([mel.numFrames, mel.nMels], [spec.numFrames, 20]);
 * ```
 */
export function melSpectrogram(spec: Spectrogram, options: MelSpectrogramOptions = {}): MelSpectrogram {
  const power = options.power ?? 2;
  if (!(power > 0) || !Number.isFinite(power)) {
    throw new ParameterError(`Cannot compute mel spectrogram: power is ${power}, expected a finite number > 0`);
  }
  const bank = options.filterBank ?? melFilterBank({ ...options, sampleRate: spec.sampleRate, nFft: spec.nFft });
  if (bank.numBins !== spec.numBins || bank.sampleRate !== spec.sampleRate) {
    throw new ParameterError(
      `Cannot compute mel spectrogram: filter bank has ${bank.numBins} bins at ${bank.sampleRate} Hz, spectrogram ${spec.numBins} at ${spec.sampleRate} Hz`,
    );
  }
  const { numFrames, numBins } = spec;
  const { nMels, weights, firstBin, lastBin } = bank;
  const data = new Float32Array(numFrames * nMels);
  const row = new Float64Array(numBins);
  for (let t = 0; t < numFrames; t++) {
    for (let k = 0; k < numBins; k++) {
      const a = spec.data[t * numBins + k];
      row[k] = power === 2 ? a * a : power === 1 ? a : a ** power;
    }
    for (let m = 0; m < nMels; m++) {
      let acc = 0;
      const w = m * numBins;
      for (let k = firstBin[m]; k < lastBin[m]; k++) acc += weights[w + k] * row[k];
      data[t * nMels + m] = acc;
    }
  }
  return { data, numFrames, nMels, sampleRate: spec.sampleRate, hopLength: spec.hopLength, nFft: spec.nFft, power };
}

/** Options of {@linkcode powerToDb}. */
export interface PowerToDbOptions {
  /** Reference power (0 dB), > 0. @default {1} */
  ref?: number;
  /** Floor applied to the values and to `ref` before the log, > 0. @default {1e-10} */
  amin?: number;
  /** If set, values below (max − topDb) dB are raised to it (librosa uses 80 by default; we don't clip unless asked). */
  topDb?: number;
}

/**
 * Power to decibels, librosa `power_to_db`: 10·log10(max(x, amin)) − 10·log10(max(ref, amin)),
 * then optionally clipped to `topDb` below the maximum.
 * @param values Powers (≥ 0).
 * @returns A new array of dB values.
 * @example Usage
 * ```ts
 * assertEquals([...powerToDb(new Float32Array([1, 100, 0]))], [0, 20, -100]);
 * ```
 */
export function powerToDb(values: Float32Array, options: PowerToDbOptions = {}): Float32Array {
  const ref = options.ref ?? 1, amin = options.amin ?? 1e-10, topDb = options.topDb;
  if (!(amin > 0)) throw new ParameterError(`Cannot convert to dB: amin is ${amin}, expected > 0`);
  if (!(ref > 0)) throw new ParameterError(`Cannot convert to dB: ref is ${ref}, expected > 0`);
  if (topDb !== undefined && !(topDb >= 0)) {
    throw new ParameterError(`Cannot convert to dB: topDb is ${topDb}, expected ≥ 0`);
  }
  const offset = 10 * Math.log10(Math.max(amin, ref));
  const out = new Float32Array(values.length);
  let max = -Infinity;
  for (let i = 0; i < values.length; i++) {
    out[i] = 10 * Math.log10(Math.max(amin, values[i])) - offset;
    if (out[i] > max) max = out[i];
  }
  if (topDb !== undefined) {
    const floor = max - topDb;
    for (let i = 0; i < out.length; i++) if (out[i] < floor) out[i] = floor;
  }
  return out;
}

/**
 * Log-mel spectrogram in dB: {@linkcode powerToDb} of {@linkcode melSpectrogram} (use the default `power: 2`
 * for dB of power). Accepts a mel spectrogram you already have, or a magnitude STFT.
 * @param spec A magnitude STFT, or a mel spectrogram (then only `ref`, `amin`, `topDb` apply).
 * @param options Mel options plus `ref` (default 1), `amin` (default 1e-10) and `topDb` (default: no clipping).
 * @example Usage
 * ```ts
 * const spec = stft({ samples: new Float32Array(4000), sampleRate: 4000 }, { nFft: 256 });
 * assertEquals(logMelSpectrogram(spec).data[0], -100); // silence: 10·log10(1e-10)
 * ```
 */
export function logMelSpectrogram(
  spec: Spectrogram | MelSpectrogram,
  options: MelSpectrogramOptions & PowerToDbOptions = {},
): MelSpectrogram {
  const mel = "nMels" in spec ? spec : melSpectrogram(spec, options);
  return { ...mel, data: powerToDb(mel.data, options) };
}

/** MFCCs, frame-major: frame 0's `nMfcc` coefficients, then frame 1's, ... */
export interface Mfcc {
  /** `numFrames * nMfcc` values. */
  data: Float32Array;
  numFrames: number;
  nMfcc: number;
  sampleRate: number;
  hopLength: number;
}

/** Options of {@linkcode mfcc}. */
export interface MfccOptions {
  /** Coefficients kept per frame, in 1 … nMels. @default {13} */
  nMfcc?: number;
}

/**
 * Mel-frequency cepstral coefficients: orthonormal DCT-II over the bands of each frame of a log-mel
 * spectrogram (librosa `feature.mfcc(S=log_mel, dct_type=2, norm="ortho", lifter=0)`).
 * @param logMel Output of {@linkcode logMelSpectrogram} (dB).
 * @param options `nMfcc` (default 13).
 * @example Usage
 * ```ts
 * const logMel = { data: new Float32Array([1, 1, 1, 1]), numFrames: 1, nMels: 4, sampleRate: 4000, hopLength: 1, nFft: 4, power: 2 };
 * assertEquals(mfcc(logMel, { nMfcc: 2 }).data[0], 2); // √(1/4)·(1 + 1 + 1 + 1)
 * ```
 */
export function mfcc(logMel: MelSpectrogram, options: MfccOptions = {}): Mfcc {
  const nMfcc = options.nMfcc ?? 13;
  const { numFrames, nMels, data } = logMel;
  if (!Number.isInteger(nMfcc) || nMfcc < 1 || nMfcc > nMels) {
    throw new ParameterError(`Cannot compute MFCC: nMfcc is ${nMfcc}, expected an integer in 1 … ${nMels}`);
  }
  const basis = new Float64Array(nMfcc * nMels);
  for (let k = 0; k < nMfcc; k++) {
    const s = Math.sqrt((k === 0 ? 1 : 2) / nMels);
    for (let m = 0; m < nMels; m++) basis[k * nMels + m] = s * Math.cos(Math.PI * k * (2 * m + 1) / (2 * nMels));
  }
  const out = new Float32Array(numFrames * nMfcc);
  for (let t = 0; t < numFrames; t++) {
    for (let k = 0; k < nMfcc; k++) {
      let acc = 0;
      for (let m = 0; m < nMels; m++) acc += basis[k * nMels + m] * data[t * nMels + m];
      out[t * nMfcc + k] = acc;
    }
  }
  return { data: out, numFrames, nMfcc, sampleRate: logMel.sampleRate, hopLength: logMel.hopLength };
}
