/**
 * Recording-level hand-made features for the second stage of the shipped classifier
 * (lib/stack.ts): spectral shape, MFCC statistics, loudness envelope, beat-interval rhythm and
 * heart-cycle (systole / diastole) energies. Pure TypeScript over typed arrays, no tfjs.
 *
 * The waveform is resampled to 2 kHz, band-passed 25–900 Hz and scaled to unit RMS, so no
 * feature depends on the recording level or on the original sample rate (the sample rate and
 * the duration are deliberately not features: they identify the recording device).
 * @module
 */
import { detectHeartSounds, type HeartSounds, kthSmallest, RHYTHM_FEATURE_NAMES, rhythmFeatures } from "./beats.ts";
import { ParameterError } from "./errors.ts";
import { bandpass } from "./filter.ts";
import { logMelSpectrogram, type MelFilterBank, melFilterBank, mfcc } from "./mel.ts";
import { resampleWaveform } from "./resample.ts";
import { type Spectrogram, stft } from "./stft.ts";
import { assertValidAudio, type Waveform } from "./types.ts";

/** Value of a feature that could not be computed (trees route it like any low value). */
export const MISSING_FEATURE = -999;
/** Rate all features are computed at, in Hz. */
export const HAND_FEATURE_RATE = 2000;
/** Band-pass edges in Hz (lib/filter.ts `bandpass`, 4th-order Butterworth, zero phase) before every feature. */
export const HAND_FEATURE_BAND_HZ: readonly [number, number] = [25, 900];
const N_FFT = 256;
/** STFT hop, 80 ms (frames of 128 ms overlap by a third): the spectral features are means and spreads over frames,
 * which finer hops make costlier but not better. */
const HOP = 160;
/** The loudness-envelope percentiles are read off every ENVELOPE_STEP-th envelope value (4 ms apart): the 20 ms
 * moving RMS changes little between them. */
const ENVELOPE_STEP = 8;
const N_MELS = 24;
const N_MFCC = 13;
const BAND_EDGES_HZ = [25, 50, 75, 100, 150, 200, 300, 400, 600, 900];
const MIN_SECONDS = 1;
/** Lower edge of the "high" band of the systole / diastole high-frequency shares (murmurs), in Hz. */
const HIGH_BAND_HZ = 150;

const CYCLE_NAMES = [
  "cycleCount",
  "systoleOverS1Db",
  "diastoleOverS1Db",
  "systoleOverDiastoleDb",
  "systoleHighFraction",
  "diastoleHighFraction",
  "s1OverS2Db",
  "s1OverS2DbStd",
  "systoleShareOfCycle",
  "systoleSoundFraction",
  "diastoleSoundFraction",
  "systoleOverS1DbStd",
] as const;

/** Names of the {@linkcode handFeatures} values, in order. */
export const HAND_FEATURE_NAMES: readonly string[] = [
  ...Array.from({ length: N_MELS }, (_, b) => `logmelMean${b}`),
  ...Array.from({ length: N_MELS }, (_, b) => `logmelStd${b}`),
  ...Array.from({ length: N_MFCC }, (_, c) => `mfccMean${c}`),
  ...Array.from({ length: N_MFCC }, (_, c) => `mfccStd${c}`),
  ...Array.from({ length: N_MFCC }, (_, c) => `mfccDeltaStd${c}`),
  "centroidMeanHz",
  "centroidStdHz",
  "bandwidthMeanHz",
  "flatnessMean",
  "flatnessStd",
  "rolloffMeanHz",
  "rolloffStdHz",
  "loudFrameCentroidHz",
  ...BAND_EDGES_HZ.slice(1).map((hi, i) => `bandShare${BAND_EDGES_HZ[i]}to${hi}`),
  "envelopeP10Db",
  "envelopeP90Db",
  "envelopeP99Db",
  "envelopeKurtosis",
  "crestFactorDb",
  "zeroCrossingRateHz",
  ...RHYTHM_FEATURE_NAMES,
  ...CYCLE_NAMES,
];

function meanOf(x: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < x.length; i++) s += x[i];
  return x.length ? s / x.length : NaN;
}

function stdOf(x: ArrayLike<number>): number {
  const m = meanOf(x);
  let s = 0;
  for (let i = 0; i < x.length; i++) s += (x[i] - m) ** 2;
  return x.length ? Math.sqrt(s / x.length) : NaN;
}

function quantile(x: ArrayLike<number>, q: number): number {
  if (x.length === 0) return NaN;
  return quantileOfSorted(Float64Array.from(x).sort(), q);
}

/** {@linkcode quantile} of values already sorted ascending. */
function quantileOfSorted(s: Float64Array, q: number): number {
  const pos = q * (s.length - 1), i = Math.floor(pos), f = pos - i;
  return i + 1 < s.length ? s[i] * (1 - f) + s[i + 1] * f : s[i];
}

/**
 * The same values as {@linkcode quantileOfSorted} of `x` sorted, in O(n) per quantile instead of a
 * sort (the envelope has one value per sample). Reorders `x`; no NaN in `x`.
 */
function quantileInPlace(x: Float64Array, q: number): number {
  const pos = q * (x.length - 1), i = Math.floor(pos), f = pos - i;
  const value = kthSmallest(x, i);
  if (i + 1 >= x.length) return value;
  let next = Infinity; // the (i+1)-th smallest: the least value right of i after the partition
  for (let j = i + 1; j < x.length; j++) if (x[j] < next) next = x[j];
  return value * (1 - f) + next * f;
}

function median(x: ArrayLike<number>): number {
  return quantile(x, 0.5);
}

/** Mean square of `x[from, to)` (sample indices, clipped to the array). */
function meanSquare(x: Float32Array, from: number, to: number): number {
  const a = Math.max(0, Math.floor(from)), b = Math.min(x.length, Math.ceil(to));
  if (b <= a) return NaN;
  let s = 0;
  for (let i = a; i < b; i++) s += x[i] * x[i];
  return s / (b - a);
}

/** Fraction of `env[from, to)` above `level`. */
function fractionAbove(env: Float32Array, from: number, to: number, level: number): number {
  const a = Math.max(0, Math.floor(from)), b = Math.min(env.length, Math.ceil(to));
  if (b <= a) return NaN;
  let n = 0;
  for (let i = a; i < b; i++) if (env[i] > level) n++;
  return n / (b - a);
}

const db = (ratio: number) => 10 * Math.log10(Math.max(ratio, 1e-12));

/** Moving RMS of `x` over the 2·⌊width / 2⌋ + 1 samples centred on each one (fewer at the ends), same length. */
export function movingRms(x: Float32Array, width: number): Float32Array {
  const n = x.length, out = new Float32Array(n);
  const half = width >> 1;
  // Samples whose window [i − half, i + half] lies inside the signal add one sample and drop one (no clamping);
  // the edges clamp. Both keep one running sum, in the same order as the general loop. No closure here: V8 keeps
  // variables a closure captures in memory, not in registers.
  const from = Math.min(n, half + 1), to = Math.max(from, n - half - 1);
  let s = 0, lo = 0, hi = 0; // window [lo, hi)
  for (let i = 0; i < n; i++) {
    if (i === from && to > from) {
      for (; i < to; i++) {
        s += x[i + half] * x[i + half];
        s -= x[i - half - 1] * x[i - half - 1];
        out[i] = Math.sqrt(Math.max(0, s) / (2 * half + 1));
      }
      hi = to + half; // the window of sample to − 1
      lo = to - 1 - half;
    }
    const a = Math.max(0, i - half), b = Math.min(n, i + half + 1);
    while (hi < b) s += x[hi] * x[hi++];
    while (lo < a) s -= x[lo] * x[lo++];
    out[i] = Math.sqrt(Math.max(0, s) / (b - a));
  }
  return out;
}

/** The 2 kHz, unit-RMS, band-passed signal the features are computed from (short clips repeated to 1 s). */
function prepare(wave: Waveform, bandpassed?: Float32Array): { full: Waveform; bp: Float32Array } {
  let w = wave.sampleRate === HAND_FEATURE_RATE ? wave : resampleWaveform(wave, HAND_FEATURE_RATE);
  const minLength = MIN_SECONDS * HAND_FEATURE_RATE;
  if (w.samples.length < minLength) {
    const s = new Float32Array(minLength);
    for (let i = 0; i < minLength; i++) s[i] = w.samples[i % w.samples.length];
    w = { samples: s, sampleRate: HAND_FEATURE_RATE };
  }
  const bp = bandpassed && w === wave && bandpassed.length === wave.samples.length
    ? bandpassed.slice() // scaled in place below: the caller's copy stays as it was
    : bandpass(w, { lowHz: HAND_FEATURE_BAND_HZ[0], highHz: HAND_FEATURE_BAND_HZ[1] }).samples;
  const rms = Math.sqrt(meanSquare(bp, 0, bp.length));
  if (rms > 0) { for (let i = 0; i < bp.length; i++) bp[i] /= rms; }
  return { full: w, bp };
}

/** Options of {@linkcode handFeatures}. */
export interface HandFeatureOptions {
  /** `detectHeartSounds(wave)` (default options) when the caller has it already; used only when `wave` is the
   * signal the features analyse (2 kHz, at least 1 s), else recomputed. */
  heartSounds?: HeartSounds;
  /** `bandpass(wave, { lowHz: 25, highHz: 900 }).samples` ({@linkcode HAND_FEATURE_BAND_HZ}) when the caller has it
   * already (the CNN's preprocessing filters the same 2 kHz signal the same way); used only when `wave` is the
   * signal the features analyse (2 kHz, at least 1 s), else recomputed. Not modified. */
  bandpassed?: Float32Array;
}

/**
 * Hand-made features of one recording ({@linkcode HAND_FEATURE_NAMES} order).
 * @param wave Mono waveform, any sample rate, all samples finite, at least 16 samples; clips
 *   shorter than 1 s are repeated to 1 s.
 * @param options `heartSounds`: see {@linkcode HandFeatureOptions}.
 * @returns `HAND_FEATURE_NAMES.length` finite values; {@linkcode MISSING_FEATURE} marks a missing
 *   value (e.g. cycle features when no S1–S2–S1 cycle was found; the XGBoost build rejects NaN).
 * @example Usage
 * ```ts
 * const wave = { samples: Float32Array.from({ length: 4000 }, (_, i) => Math.sin(i / 5)), sampleRate: 2000 };
 * assertEquals(handFeatures(wave).length, HAND_FEATURE_NAMES.length);
 * ```
 */
export function handFeatures(wave: Waveform, options: HandFeatureOptions = {}): Float32Array {
  assertValidAudio(wave, "compute hand features");
  if (wave.samples.length < 16) {
    throw new ParameterError(`Cannot compute hand features: ${wave.samples.length} samples, expected at least 16`);
  }
  const { full, bp } = prepare(wave, options.bandpassed);
  const out: number[] = [];
  const spec = stft({ samples: bp, sampleRate: HAND_FEATURE_RATE }, { nFft: N_FFT, hopLength: HOP });
  pushSpectralShape(out, spec);
  const frames = pushFrameSpectra(out, spec);
  const env = pushLoudness(out, bp);
  pushWaveformStatistics(out, bp);
  // Rhythm (beat intervals) and heart-cycle features from the S1/S2 positions.
  const sounds = options.heartSounds && full === wave ? options.heartSounds : detectHeartSounds(full);
  out.push(...rhythmFeatures(sounds));
  out.push(...cycleFeatures(bp, env, sounds.s1TimesS, sounds.s2TimesS, frames));
  if (out.length !== HAND_FEATURE_NAMES.length) {
    throw new ParameterError(
      `Cannot compute hand features: ${out.length} values, expected ${HAND_FEATURE_NAMES.length}`,
    );
  }
  const features = new Float32Array(out.length);
  for (let i = 0; i < out.length; i++) features[i] = Number.isFinite(out[i]) ? out[i] : MISSING_FEATURE;
  return features;
}

/** The hand features' mel filter bank (24 bands, 25–900 Hz, on 256-point frames at 2 kHz). */
const HAND_MEL_BANK: MelFilterBank = melFilterBank({
  sampleRate: HAND_FEATURE_RATE,
  nFft: N_FFT,
  nMels: N_MELS,
  fMinHz: HAND_FEATURE_BAND_HZ[0],
  fMaxHz: HAND_FEATURE_BAND_HZ[1],
});

/** Spectral shape: log-mel band means (relative to their average) and stds; MFCC means, stds and delta stds. */
function pushSpectralShape(out: number[], spec: Spectrogram): void {
  const logMel = logMelSpectrogram(spec, { filterBank: HAND_MEL_BANK, amin: 1e-10 });
  const T = logMel.numFrames;
  const bandMeans = new Float64Array(N_MELS);
  for (let b = 0; b < N_MELS; b++) {
    let s = 0;
    for (let t = 0; t < T; t++) s += logMel.data[t * N_MELS + b];
    bandMeans[b] = s / T;
  }
  const avg = meanOf(bandMeans);
  for (let b = 0; b < N_MELS; b++) out.push(bandMeans[b] - avg);
  for (let b = 0; b < N_MELS; b++) {
    let s = 0;
    for (let t = 0; t < T; t++) s += (logMel.data[t * N_MELS + b] - bandMeans[b]) ** 2;
    out.push(Math.sqrt(s / T));
  }
  const cc = mfcc(logMel, { nMfcc: N_MFCC });
  const columns = Array.from({ length: N_MFCC }, (_, c) => mfccColumn(cc.data, T, c, false));
  for (let c = 0; c < N_MFCC; c++) out.push(meanOf(columns[c]));
  for (let c = 0; c < N_MFCC; c++) out.push(stdOf(columns[c]));
  for (let c = 0; c < N_MFCC; c++) out.push(stdOf(mfccColumn(cc.data, T, c, true)));
}

/** Coefficient `c` of `T` frame-major MFCC frames over time, or its frame-to-frame differences (`delta`). */
function mfccColumn(data: Float32Array, T: number, c: number, delta: boolean): Float64Array {
  const x = new Float64Array(delta ? Math.max(0, T - 1) : T);
  for (let t = 0; t < x.length; t++) {
    x[t] = delta ? data[(t + 1) * N_MFCC + c] - data[t * N_MFCC + c] : data[t * N_MFCC + c];
  }
  return x;
}

/** Hz between STFT bins, and the first and last bin inside {@linkcode HAND_FEATURE_BAND_HZ}. */
const BIN_HZ = HAND_FEATURE_RATE / N_FFT;
const FIRST_BAND_BIN = Math.ceil(HAND_FEATURE_BAND_HZ[0] / BIN_HZ),
  LAST_BAND_BIN = Math.floor(HAND_FEATURE_BAND_HZ[1] / BIN_HZ);
/** For each STFT bin up to {@linkcode LAST_BAND_BIN}, the index of its {@linkcode BAND_EDGES_HZ} band (−1 below). */
const BAND_OF_BIN = Int32Array.from(
  { length: LAST_BAND_BIN + 1 },
  (_, k) => BAND_EDGES_HZ.findIndex((edge) => k * BIN_HZ < edge) - 1,
);

/** Per STFT frame: 25–900 Hz energy and its part at or above {@linkcode HIGH_BAND_HZ}. */
interface FrameEnergies {
  energy: Float64Array;
  highEnergy: Float64Array;
}

/** Per-frame spectral centroid, bandwidth, flatness and 85 % roll-off (power spectrum, 25–900 Hz bins), summarised;
 * the loud frames' centroid; the band shares. */
function pushFrameSpectra(out: number[], spec: Spectrogram): FrameEnergies {
  const T = spec.numFrames, nb = spec.numBins, binHz = BIN_HZ, lo = FIRST_BAND_BIN, hi = LAST_BAND_BIN;
  const centroid = new Float64Array(T), bandwidth = new Float64Array(T), flatness = new Float64Array(T);
  const rolloff = new Float64Array(T), energy = new Float64Array(T), highEnergy = new Float64Array(T);
  const highFrom = Math.ceil(HIGH_BAND_HZ / binHz);
  const bandPower = new Float64Array(BAND_EDGES_HZ.length - 1);
  const power = new Float64Array(hi + 1); // one frame's power spectrum
  for (let t = 0; t < T; t++) {
    let e = 0, ef = 0, logSum = 0, product = 1;
    for (let k = lo; k <= hi; k++) {
      const a = spec.data[t * nb + k];
      const p = a * a;
      power[k] = p;
      e += p;
      ef += p * k * binHz;
      // Σ ln(p + 1e-12) as the logarithm of products of 8 (a logarithm costs ~20 multiplications); the products stay
      // within 1e-96 … 1e90 (the signal has unit RMS), and equal the sum to ~1e-15, far below float32 resolution
      product *= p + 1e-12;
      if (((k - lo) & 7) === 7) {
        logSum += Math.log(product);
        product = 1;
      }
      const band = BAND_OF_BIN[k];
      if (band >= 0) bandPower[band] += p;
      if (k >= highFrom) highEnergy[t] += p;
    }
    logSum += Math.log(product);
    const c = e > 0 ? ef / e : 0;
    let bw = 0, acc = 0, roll = hi * binHz;
    for (let k = lo; k <= hi; k++) {
      const p = power[k], d = k * binHz - c;
      bw += p * (d * d);
      acc += p;
      if (acc >= 0.85 * e && roll === hi * binHz) roll = k * binHz;
    }
    centroid[t] = c;
    bandwidth[t] = e > 0 ? Math.sqrt(bw / e) : 0;
    flatness[t] = e > 0 ? Math.exp(logSum / (hi - lo + 1)) / (e / (hi - lo + 1)) : 1;
    rolloff[t] = roll;
    energy[t] = e;
  }
  const loudLevel = quantile(energy, 0.75);
  let lc = 0, le = 0;
  for (let t = 0; t < T; t++) {
    if (energy[t] >= loudLevel) {
      lc += centroid[t] * energy[t];
      le += energy[t];
    }
  }
  out.push(meanOf(centroid), stdOf(centroid), meanOf(bandwidth), meanOf(flatness), stdOf(flatness));
  out.push(meanOf(rolloff), stdOf(rolloff), le > 0 ? lc / le : NaN);
  const totalBand = bandPower.reduce((a, b) => a + b, 0);
  for (const p of bandPower) out.push(totalBand > 0 ? p / totalBand : NaN);
  return { energy, highEnergy };
}

/** Loudness envelope (20 ms moving RMS of the unit-RMS signal): its 10th, 90th and 99th percentiles in dB.
 * @returns The envelope. */
function pushLoudness(out: number[], bp: Float32Array): Float32Array {
  const env = movingRms(bp, Math.round(0.02 * HAND_FEATURE_RATE));
  const envDb = new Float64Array(Math.ceil(env.length / ENVELOPE_STEP));
  for (let i = 0; i < envDb.length; i++) envDb[i] = db(env[i * ENVELOPE_STEP] * env[i * ENVELOPE_STEP]);
  if (envDb.length === 0) out.push(NaN, NaN, NaN);
  else {
    out.push(quantileInPlace(envDb, 0.1), quantileInPlace(envDb, 0.9), quantileInPlace(envDb, 0.99));
  }
  return env;
}

/** Waveform statistics of the unit-RMS signal: fourth moment (kurtosis), crest factor, zero-crossing rate. */
function pushWaveformStatistics(out: number[], bp: Float32Array): void {
  let m4 = 0, peak = 0, crossings = 0;
  for (let i = 0; i < bp.length; i++) {
    const square = bp[i] * bp[i]; // exact: a float32 squared fits a float64
    m4 += square * square; // one rounding of x⁴: what V8's x ** 4 gives too, up to its rare last-bit errors
    peak = Math.max(peak, Math.abs(bp[i]));
    if (i > 0 && (bp[i] >= 0) !== (bp[i - 1] >= 0)) crossings++;
  }
  out.push(m4 / bp.length, db(peak * peak), crossings / (2 * bp.length / HAND_FEATURE_RATE));
}

/** Share of the 25–900 Hz energy at or above {@linkcode HIGH_BAND_HZ} in the STFT frames centred in samples
 * [from, to); NaN when no frame is, or they hold no energy. */
function highShare(frames: FrameEnergies, from: number, to: number): number {
  let total = 0, high = 0;
  for (let t = Math.max(0, Math.ceil(from / HOP)); t < frames.energy.length && t * HOP < to; t++) {
    total += frames.energy[t];
    high += frames.highEnergy[t];
  }
  return total > 0 ? high / total : NaN;
}

/** Systole / diastole energies per S1 → S2 → next S1 cycle, summarised by medians. */
function cycleFeatures(
  bp: Float32Array,
  env: Float32Array,
  s1: number[],
  s2: number[],
  /** Per STFT frame (hop {@linkcode HOP}, frame t centred on sample t·HOP). */
  frames: FrameEnergies,
): number[] {
  const fs = HAND_FEATURE_RATE;
  const sysS1: number[] = [], diaS1: number[] = [], sysDia: number[] = [], sysHigh: number[] = [];
  const diaHigh: number[] = [], s1s2: number[] = [], sysShare: number[] = [], sysSound: number[] = [];
  const diaSound: number[] = [];
  const half = 0.04 * fs, guard = 0.06 * fs;
  for (let k = 0; k + 1 < s1.length; k++) {
    const a = s1[k] * fs, next = s1[k + 1] * fs;
    const b2 = s2.find((t) => t * fs > a && t * fs < next);
    if (b2 === undefined) continue;
    const b = b2 * fs;
    const eS1 = meanSquare(bp, a - half, a + half), eS2 = meanSquare(bp, b - half, b + half);
    const eSys = meanSquare(bp, a + guard, b - guard), eDia = meanSquare(bp, b + guard, next - guard);
    if (!(eS1 > 0) || !(eS2 > 0) || !(eSys > 0) || !(eDia > 0)) continue;
    sysS1.push(db(eSys / eS1));
    diaS1.push(db(eDia / eS1));
    sysDia.push(db(eSys / eDia));
    sysHigh.push(highShare(frames, a + guard, b - guard));
    diaHigh.push(highShare(frames, b + guard, next - guard));
    s1s2.push(db(eS1 / eS2));
    sysShare.push((b - a) / (next - a));
    const level = 0.3 * Math.sqrt(Math.min(eS1, eS2));
    sysSound.push(fractionAbove(env, a + guard, b - guard, level));
    diaSound.push(fractionAbove(env, b + guard, next - guard, level));
  }
  return [
    sysS1.length,
    median(sysS1),
    median(diaS1),
    median(sysDia),
    median(sysHigh),
    median(diaHigh),
    median(s1s2),
    sysS1.length ? stdOf(s1s2) : NaN,
    median(sysShare),
    median(sysSound),
    median(diaSound),
    sysS1.length ? stdOf(sysS1) : NaN,
  ];
}
