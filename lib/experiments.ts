/**
 * The original project's experiments as functions, each under two protocols, so notebooks, the
 * CLI (`deno task reproduce`) and tests run exactly the same code.
 *
 * Experiments (features → learner):
 * - `baseline`: "frequency feature + basic neural network". The original's code for it is not
 *   available; our reading: each recording's dominant-frequency sequence summarised by its mean
 *   and standard deviation (2 numbers, standard-scaled) into a tiny FCNN [8].
 * - `gbdt`: gradient boosting, real XGBoost (lib/gbdt.ts), on 35 per-recording summary features
 *   of the same sequences (mean, std, min, max, 10/25/50/75/90th percentiles of frequency and
 *   magnitude; a 16-bin histogram of the dominant frequency over 0–2 kHz and the share above 2 kHz).
 * - `p1` (preprocessor 1): the per-frame (frequency, magnitude) pairs, zero-padded at the end to
 *   the longest sequence of the fit set (longer test sequences are cut), one scale per channel;
 *   FCNN [128, 64, 32, 16].
 * - `p2` (preprocessor 2): alignment padding (lib/align.ts, fast search) to a reference (the
 *   longest fit sequence), per-position standard scaling; FCNN [16, 8] with BatchNorm, ReLU,
 *   Dropout 0.5, Adam 1e-3, ReduceLROnPlateau(patience 5, factor 0.3), 50 epochs, batch 64.
 * - `cnn`: the 1-D CNN on log-mel windows (lib/cnn.ts).
 *
 * Protocols:
 * - `original` (a): one random 80/20 split (seed 42, our PRNG: numpy's permutation cannot be
 *   matched), the test part also used as validation (LR schedule), scalers and reference fitted
 *   on ALL recordings before the split, features at native rates. Comparable to the original's
 *   numbers, and optimistic.
 * - `grouped-cv` (b): 5-fold CV stratified by class and grouped by patient; scalers, reference
 *   and padding length fitted on the training folds only; early stopping and the LR schedule on a
 *   grouped validation split carved from the training folds.
 * @module
 */
import { createAligner, longestReference, type Sequence, sequenceFromFeatures } from "./align.ts";
import { cachedFeatures, type CacheOptions, cacheStats } from "./cache.ts";
import { CLASS_NAMES, listRecordings, type Recording } from "./data.ts";
import { ParameterError } from "./errors.ts";
import { dominantFrequencyFeatures, type FrameFeatureMethod } from "./features.ts";
import { trainGbdt } from "./gbdt.ts";
import { argmaxRows, evaluate, majorityBaseline, meanStd, type Metrics, metricsFromConfusion } from "./metrics.ts";
import { patchWasmTransposedMatMul } from "./fast_matmul.ts";
import { createProgress } from "./progress.ts";
import { resample } from "./resample.ts";
import { mulberry32, shuffleInPlace } from "./rng.ts";
import { type Fold, groupedStratifiedKFold, groupedValidationSplit, randomSplit } from "./splits.ts";
import { encodeWav, readWav } from "./wav.ts";
import type { CnnTrainOptions } from "./cnn.ts";

/** Names of the experiments. */
export const EXPERIMENTS = ["baseline", "gbdt", "p1", "p2", "cnn"] as const;
export type ExperimentName = (typeof EXPERIMENTS)[number];
/** (a) the original's leaky single split, (b) the honest patient-grouped 5-fold CV. */
export type Protocol = "original" | "grouped-cv";
export const PROTOCOLS: readonly Protocol[] = ["original", "grouped-cv"];

/** The original's dataset variants. */
export interface Preset {
  name: "mini" | "small" | "main";
  /** Frame duration of the dominant-frequency feature, seconds. */
  deltaTimeS: number;
  /** Recordings kept by a seeded class-stratified draw; all when undefined. */
  subset?: number;
}
/** mini: 120 recordings of small (seeded, class-stratified); small: delta 0.01 s; main: delta 0.001 s (10× the frames). */
export const PRESETS: Readonly<Record<Preset["name"], Preset>> = {
  mini: { name: "mini", deltaTimeS: 0.01, subset: 120 },
  small: { name: "small", deltaTimeS: 0.01 },
  main: { name: "main", deltaTimeS: 0.001 },
};

/** The common sample rate of the resampled variant, Hz. At 2 kHz, delta 0.001 s would be 2 samples (< 4), so 4 kHz. */
export const COMMON_RATE_HZ = 4000;

/** Parameters the per-frame features depend on (and the cache key). */
export interface FeatureParams {
  deltaTimeS: number;
  method: FrameFeatureMethod;
  /** Resample to this rate first (Hz), or null for each file's native rate (the original). */
  targetRate: number | null;
}

/** Per-frame feature sequences of a list of recordings. */
export interface FeatureSet {
  recordings: Pick<Recording, "relPath" | "set" | "patientId" | "classIndex" | "noisy">[];
  /** Class index 0..3 per recording. */
  labels: Int32Array;
  /** Patient group per recording. */
  groups: string[];
  /** (Hz, magnitude) per frame, 2 channels. */
  sequences: Sequence[];
  /** Rate the features were computed at, Hz. */
  sampleRates: number[];
  params: FeatureParams;
  /** Wall time to load (or compute) the features, seconds. */
  loadSeconds: number;
  cacheHits: number;
}

/** Bump when feature extraction changes: part of the cache key. */
export const FEATURES_CODE_VERSION = "dominant-2/resample-kaiser-1";

/** Options of {@linkcode loadFeatureSet}. */
export interface LoadFeaturesOptions {
  cache?: CacheOptions;
  /** Show a progress bar on stderr. @default {false} */
  progress?: boolean;
}

/**
 * Reads each recording, optionally resamples it, and computes the original's per-frame
 * dominant (frequency, magnitude) features, through the on-disk cache.
 */
export async function loadFeatureSet(
  recordings: readonly Recording[],
  params: FeatureParams,
  options: LoadFeaturesOptions = {},
): Promise<FeatureSet> {
  const start = performance.now();
  const hits0 = cacheStats.hits;
  const bar = options.progress
    ? createProgress(recordings.length, `features Δ${params.deltaTimeS} ${params.targetRate ?? "native"}`)
    : undefined;
  const sequences: Sequence[] = [];
  const sampleRates: number[] = [];
  for (const r of recordings) {
    const rec = await cachedFeatures(r.path, { kind: "dominant-frequency", ...params }, (bytes) => {
      const wav = readWav(bytes);
      let samples = wav.samples, rate = wav.sampleRate;
      if (params.targetRate !== null && rate !== params.targetRate) {
        samples = resample(samples, rate, params.targetRate);
        rate = params.targetRate;
      }
      const f = dominantFrequencyFeatures(samples, rate, params.deltaTimeS, params.method);
      return { arrays: { frequencyHz: f.frequencyHz, magnitude: f.magnitude }, meta: { sampleRate: rate } };
    }, { codeVersion: FEATURES_CODE_VERSION, ...options.cache });
    sequences.push(sequenceFromFeatures(rec.arrays.frequencyHz, rec.arrays.magnitude));
    sampleRates.push(Number(rec.meta?.sampleRate));
    bar?.tick();
  }
  bar?.done(`(${cacheStats.hits - hits0} cached)`);
  return {
    recordings: recordings.map(({ relPath, set, patientId, classIndex, noisy }) => ({
      relPath,
      set,
      patientId,
      classIndex,
      noisy,
    })),
    labels: Int32Array.from(recordings, (r) => r.classIndex),
    groups: recordings.map((r) => r.patientId),
    sequences,
    sampleRates,
    params,
    loadSeconds: (performance.now() - start) / 1000,
    cacheHits: cacheStats.hits - hits0,
  };
}

/** A seeded class-stratified subset of `size` recordings (each class keeps its share, at least 2 when it has them), in input order. */
export function stratifiedSubset<T extends { classIndex: number }>(
  items: readonly T[],
  size: number,
  seed: number,
): T[] {
  if (size >= items.length) return items.slice();
  const byClass = new Map<number, number[]>();
  items.forEach((r, i) => byClass.set(r.classIndex, [...(byClass.get(r.classIndex) ?? []), i]));
  const rng = mulberry32(seed);
  const keep: number[] = [];
  for (const [, idx] of [...byClass].sort((a, b) => a[0] - b[0])) {
    const want = Math.min(idx.length, Math.max(2, Math.round(size * idx.length / items.length)));
    keep.push(...shuffleInPlace(idx.slice(), rng).slice(0, want));
  }
  return keep.sort((a, b) => a - b).map((i) => items[i]);
}

// ---------------------------------------------------------------------------------------------
// Per-recording features

function percentile(sorted: Float32Array, q: number): number {
  if (sorted.length === 0) return 0;
  const pos = q * (sorted.length - 1), lo = Math.floor(pos), hi = Math.ceil(pos);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo);
}

function channel(seq: Sequence, c: number): Float32Array {
  const n = seq.data.length / seq.channels;
  const out = new Float32Array(n);
  for (let t = 0; t < n; t++) out[t] = seq.data[t * seq.channels + c];
  return out;
}

/** The baseline's "frequency feature": mean and standard deviation of the dominant frequency, Hz. */
export function frequencyFeature(seq: Sequence): number[] {
  const { mean, std } = meanStd(Array.from(channel(seq, 0)).concat(seq.data.length ? [] : [0]));
  return [mean, std];
}

/** Number of {@linkcode summaryFeatures}. */
export const SUMMARY_FEATURE_COUNT = 35;

/** The GBDT's 35 summary features of one (Hz, magnitude) sequence (see the module doc). */
export function summaryFeatures(seq: Sequence): number[] {
  const out: number[] = [];
  for (let c = 0; c < 2; c++) {
    const v = channel(seq, c);
    const sorted = v.slice().sort();
    let sum = 0, sq = 0;
    for (const x of v) sum += x;
    const mean = v.length ? sum / v.length : 0;
    for (const x of v) sq += (x - mean) ** 2;
    out.push(mean, v.length ? Math.sqrt(sq / v.length) : 0, sorted[0] ?? 0, sorted[sorted.length - 1] ?? 0);
    for (const q of [0.1, 0.25, 0.5, 0.75, 0.9]) out.push(percentile(sorted, q));
  }
  const hist = new Array<number>(17).fill(0);
  const f = channel(seq, 0);
  for (const x of f) hist[x >= 2000 ? 16 : Math.floor(x / 125)]++;
  for (const h of hist) out.push(f.length ? h / f.length : 0);
  return out;
}

/** Rows of per-recording features for the given indices. */
function rowsOf(indices: readonly number[], fn: (i: number) => number[], numFeatures: number): Float32Array {
  const x = new Float32Array(indices.length * numFeatures);
  indices.forEach((i, r) => x.set(fn(i), r * numFeatures));
  return x;
}

/** Per-column mean and scale (std, 1 where std is 0, as scikit-learn's StandardScaler) of an n × d matrix. */
export function fitStandardScaler(x: Float32Array, numFeatures: number): { mean: Float64Array; scale: Float64Array } {
  const n = x.length / numFeatures;
  const mean = new Float64Array(numFeatures), m2 = new Float64Array(numFeatures);
  for (let i = 0; i < n; i++) for (let j = 0; j < numFeatures; j++) mean[j] += x[i * numFeatures + j];
  for (let j = 0; j < numFeatures; j++) mean[j] /= n;
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < numFeatures; j++) m2[j] += (x[i * numFeatures + j] - mean[j]) ** 2;
  }
  const scale = m2.map((v) => (v > 0 ? Math.sqrt(v / n) : 1));
  return { mean, scale };
}

/** Applies a per-column scaler in place. */
export function applyStandardScaler(
  x: Float32Array,
  scaler: { mean: Float64Array; scale: Float64Array },
): Float32Array {
  const d = scaler.mean.length;
  for (let i = 0; i < x.length; i++) {
    const j = i % d;
    x[i] = (x[i] - scaler.mean[j]) / scaler.scale[j];
  }
  return x;
}

/** End zero-padding (or cutting) of a sequence to `frames` frames; flat Float32Array of frames × channels. */
export function endPad(seq: Sequence, frames: number): Float32Array {
  const out = new Float32Array(frames * seq.channels);
  out.set(seq.data.subarray(0, Math.min(seq.data.length, out.length)));
  return out;
}

// ---------------------------------------------------------------------------------------------
// Learners

/** FCNN training settings (see lib/model.ts). */
export interface NnSettings {
  kind: "fcnn";
  hiddenUnits: number[];
  batchNorm: boolean;
  dropout: number;
  epochs: number;
  batchSize: number;
  learningRate: number;
  reduceLrOnPlateau?: { patience: number; factor: number };
  /** Early-stopping patience, epochs (protocol b only; the original stopped at `epochs`). */
  earlyStoppingPatience: number;
  classWeights?: boolean;
}

/** XGBoost settings. */
export interface GbdtSettings {
  kind: "gbdt";
  numRounds: number;
  maxDepth: number;
  learningRate: number;
}

/** What an experiment fits and trains. */
export interface ExperimentSpec {
  name: ExperimentName;
  description: string;
  features: "frequency" | "summary" | "end-pad" | "align-pad";
  learner: NnSettings | GbdtSettings;
}

/** The experiments' settings (full runs; quick mode shrinks epochs and rounds). */
export const SPECS: Readonly<Record<Exclude<ExperimentName, "cnn">, ExperimentSpec>> = {
  baseline: {
    name: "baseline",
    description: "mean/std of dominant frequency → FCNN [8]",
    features: "frequency",
    learner: {
      kind: "fcnn",
      hiddenUnits: [8],
      batchNorm: false,
      dropout: 0,
      epochs: 50,
      batchSize: 32,
      learningRate: 1e-3,
      earlyStoppingPatience: 10,
    },
  },
  gbdt: {
    name: "gbdt",
    description: "35 summary features → XGBoost (softprob, 100 rounds, depth 4)",
    features: "summary",
    learner: { kind: "gbdt", numRounds: 100, maxDepth: 4, learningRate: 0.1 },
  },
  p1: {
    name: "p1",
    description: "end-padded (Hz, mag) frames → FCNN [128,64,32,16]",
    features: "end-pad",
    learner: {
      kind: "fcnn",
      hiddenUnits: [128, 64, 32, 16],
      batchNorm: false,
      dropout: 0,
      epochs: 50,
      batchSize: 64,
      learningRate: 1e-3,
      earlyStoppingPatience: 10,
    },
  },
  p2: {
    name: "p2",
    description: "alignment-padded frames, per-position scaling → FCNN [16,8] BN, dropout 0.5",
    features: "align-pad",
    learner: {
      kind: "fcnn",
      hiddenUnits: [16, 8],
      batchNorm: true,
      dropout: 0.5,
      epochs: 50,
      batchSize: 64,
      learningRate: 1e-3,
      reduceLrOnPlateau: { patience: 5, factor: 0.3 },
      earlyStoppingPatience: 10,
    },
  },
};

// ---------------------------------------------------------------------------------------------
// Results

/** One train/test evaluation. */
export interface FoldResult {
  fold: number;
  trainSize: number;
  validationSize: number;
  testSize: number;
  metrics: Metrics;
  /** Accuracy of predicting the training majority class on this test set. */
  majorityBaseline: number;
  epochsRun?: number;
  seconds: number;
  /** Which recordings were used for what: for leakage checks (not written to results JSON). */
  audit: {
    fitIndices: number[];
    trainIndices: number[];
    validationIndices: number[];
    testIndices: number[];
    /** Recording index of the alignment reference, or −1. */
    referenceIndex: number;
    /** Input length (frames) the padding was fitted to, or 0. */
    paddedFrames: number;
  };
}

/** Mean and sample standard deviation over folds. */
export interface MeanStd {
  mean: number;
  std: number;
}

/** One experiment under one protocol, preset and rate. */
export interface ExperimentResult {
  id: string;
  experiment: ExperimentName;
  description: string;
  preset: Preset["name"];
  protocol: Protocol;
  /** "native" or the common rate in Hz. */
  rate: "native" | number;
  status: "ok" | "not run";
  notes: string[];
  numRecordings: number;
  settings: Record<string, unknown>;
  folds: FoldResult[];
  summary: {
    accuracy: MeanStd;
    balancedAccuracy: MeanStd;
    macroF1: MeanStd;
    majorityBaseline: MeanStd;
  };
  /** Metrics of the confusion matrix summed over folds (per-class precision/recall there). */
  pooled: Metrics | null;
  /** Parameters of the (last) trained model. */
  parameterCount: number;
  /** float32 weights (NN) or XGBoost binary model (GBDT), bytes. */
  modelBytes: number;
  /** Wall time of the experiment (features from cache or disk excluded), seconds. */
  seconds: number;
}

/** Options of {@linkcode runExperiment}. */
export interface RunOptions {
  protocol: Protocol;
  preset: Preset["name"];
  /** Seed of splits and models. @default {42} */
  seed?: number;
  /** Folds of protocol b. @default {5} */
  folds?: number;
  /** Cap epochs (quick mode / CI). */
  maxEpochs?: number;
  /** Cap GBDT rounds (quick mode). */
  maxRounds?: number;
  /** Replace the spec's hidden units (e.g. smaller models for big inputs). */
  hiddenUnits?: number[];
  /** Notes to carry into the result. */
  notes?: string[];
  /** Progress on stderr. */
  progress?: boolean;
  /** Use lib/fast_matmul.ts's faster transposed matMul on wasm (same results up to float rounding). @default {true} */
  fastMatMul?: boolean;
  /** Alignment offsets cache shared between runs: key `${referenceIndex}` → offsets per recording. */
  alignmentCache?: Map<string, Int32Array>;
}

function summarise(values: number[]): MeanStd {
  return meanStd(values);
}

/** The folds of a protocol: one random 80/20 split, or grouped stratified k folds. */
export function protocolFolds(
  features: Pick<FeatureSet, "labels" | "groups">,
  protocol: Protocol,
  seed = 42,
  k = 5,
): Fold[] {
  const n = features.labels.length;
  return protocol === "original"
    ? [randomSplit(n, 0.2, seed)]
    : groupedStratifiedKFold(features.labels, features.groups, k, seed);
}

/** A fitted feature transform: model inputs for any recordings, fitted on some. */
export interface FeatureDesign {
  /** Row-major inputs (indices.length × numFeatures) of the given recordings. */
  x(indices: readonly number[]): Float32Array;
  numFeatures: number;
  /** Recording index of the alignment reference (p2), else −1. */
  referenceIndex: number;
  /** Frames the inputs were padded to (p1, p2), else 0. */
  paddedFrames: number;
}

/** Options of {@linkcode fitFeatureDesign}. */
export interface FitDesignOptions extends Pick<RunOptions, "alignmentCache" | "progress"> {
  /** Indices of the recordings everything is fitted on (the training folds under protocol b). */
  fit: readonly number[];
}

/** FNV-1a hash of the recordings' paths in order, with their count: identifies a feature set's sequences. */
function recordingSetFingerprint(recordings: readonly { relPath: string }[]): string {
  let h = 0x811c9dc5;
  for (const r of recordings) {
    for (let k = 0; k < r.relPath.length; k++) h = Math.imul(h ^ r.relPath.charCodeAt(k), 0x01000193) >>> 0;
    h = Math.imul(h ^ 0x0a, 0x01000193) >>> 0;
  }
  return `${recordings.length}:${h.toString(16)}`;
}

/**
 * Fits an experiment's feature transform (scalers, padding length, alignment reference) on the
 * recordings `fit` only, and returns it.
 */
export function fitFeatureDesign(
  spec: ExperimentSpec,
  features: FeatureSet,
  options: FitDesignOptions,
): FeatureDesign {
  const fit = options.fit;
  const seqs = features.sequences;
  if (spec.features === "frequency" || spec.features === "summary") {
    const fn = spec.features === "frequency" ? frequencyFeature : summaryFeatures;
    const d = spec.features === "frequency" ? 2 : SUMMARY_FEATURE_COUNT;
    const memo = new Map<number, number[]>();
    const row = (i: number) => memo.get(i) ?? memo.set(i, fn(seqs[i])).get(i)!;
    if (spec.features === "summary") {
      return { x: (idx) => rowsOf(idx, row, d), numFeatures: d, referenceIndex: -1, paddedFrames: 0 };
    }
    const scaler = fitStandardScaler(rowsOf(fit, row, d), d);
    return {
      x: (idx) => applyStandardScaler(rowsOf(idx, row, d), scaler),
      numFeatures: d,
      referenceIndex: -1,
      paddedFrames: 0,
    };
  }
  if (spec.features === "end-pad") {
    let frames = 0;
    for (const i of fit) frames = Math.max(frames, seqs[i].data.length / 2);
    // one scale per channel over the fit set's real frames; padding stays 0
    const sum = [0, 0], sq = [0, 0];
    let count = 0;
    for (const i of fit) {
      const d = seqs[i].data;
      for (let t = 0; t < d.length; t += 2) {
        sum[0] += d[t], sum[1] += d[t + 1], sq[0] += d[t] * d[t], sq[1] += d[t + 1] * d[t + 1];
      }
      count += d.length / 2;
    }
    const mean = sum.map((s) => s / count);
    const scale = sq.map((s, c) => Math.sqrt(Math.max(s / count - mean[c] ** 2, 0)) || 1);
    return {
      x: (idx) => {
        const out = new Float32Array(idx.length * frames * 2);
        idx.forEach((i, r) => {
          const d = seqs[i].data, base = r * frames * 2, len = Math.min(d.length, frames * 2);
          for (let k = 0; k < len; k++) out[base + k] = d[k] / scale[k & 1];
        });
        return out;
      },
      numFeatures: frames * 2,
      referenceIndex: -1,
      paddedFrames: frames,
    };
  }
  // align-pad: reference = longest fit sequence (the original's choice, restricted to the fit set)
  const fitSeqs = fit.map((i) => seqs[i]);
  const reference = longestReference(fitSeqs);
  const referenceIndex = fit[fitSeqs.indexOf(reference)];
  const frames = reference.data.length / 2;
  // The offsets are per sequence of this feature set: the key names the set (all its files, in
  // order), not only the reference, since "mini" is a subset of "small" with the same frames.
  const key = `${features.params.deltaTimeS}/${features.params.targetRate}/${
    features.recordings[referenceIndex].relPath
  }/${recordingSetFingerprint(features.recordings)}`;
  let offsets = options.alignmentCache?.get(key);
  if (!offsets) {
    const aligner = createAligner(reference);
    offsets = new Int32Array(seqs.length).fill(-1);
    const bar = options.progress ? createProgress(seqs.length, `align ${frames} frames`) : undefined;
    for (let i = 0; i < seqs.length; i++) {
      offsets[i] = aligner.bestOffset(seqs[i]);
      bar?.tick();
    }
    bar?.done();
    options.alignmentCache?.set(key, offsets);
  }
  const off = offsets;
  const padded = (idx: readonly number[]) => {
    const out = new Float32Array(idx.length * frames * 2);
    idx.forEach((i, r) => {
      const d = seqs[i].data, len = Math.min(d.length, frames * 2);
      out.set(d.subarray(0, len), r * frames * 2 + off[i] * 2);
    });
    return out;
  };
  // per-position scaler fitted on the fit set, streamed to avoid a second copy
  const dim = frames * 2;
  const mean = new Float64Array(dim), m2 = new Float64Array(dim);
  for (const i of fit) {
    const d = seqs[i].data, base = off[i] * 2, len = Math.min(d.length, dim);
    for (let k = 0; k < len; k++) mean[base + k] += d[k];
  }
  for (let j = 0; j < dim; j++) mean[j] /= fit.length;
  for (const i of fit) {
    const d = seqs[i].data, base = off[i] * 2, len = Math.min(d.length, dim);
    // zeros outside [base, base+len) contribute mean² each; add them all, then correct inside
    for (let k = 0; k < len; k++) m2[base + k] += (d[k] - mean[base + k]) ** 2 - mean[base + k] ** 2;
  }
  for (let j = 0; j < dim; j++) m2[j] += fit.length * mean[j] ** 2;
  const scale = m2.map((v) => (v > 1e-12 * fit.length ? Math.sqrt(v / fit.length) : 1));
  return {
    x: (idx) => applyStandardScaler(padded(idx), { mean, scale }),
    numFeatures: dim,
    referenceIndex,
    paddedFrames: frames,
  };
}

interface Trained {
  probabilities: Float32Array;
  parameterCount: number;
  modelBytes: number;
  epochsRun?: number;
}

function classWeightsOf(y: Int32Array, k: number): number[] {
  const counts = new Array<number>(k).fill(0);
  for (const c of y) counts[c]++;
  return counts.map((n) => (n > 0 ? y.length / (k * n) : 0));
}

async function trainAndPredict(
  learner: NnSettings | GbdtSettings,
  data: { xTrain: Float32Array; yTrain: Int32Array; xVal?: Float32Array; yVal?: Int32Array; xTest: Float32Array },
  numFeatures: number,
  protocol: Protocol,
  seed: number,
  options: RunOptions,
): Promise<Trained> {
  const k = CLASS_NAMES.length;
  if (learner.kind === "gbdt") {
    const model = await trainGbdt({ x: data.xTrain, y: data.yTrain, numFeatures, numClasses: k }, {
      seed,
      numRounds: Math.min(learner.numRounds, options.maxRounds ?? Infinity),
      maxDepth: learner.maxDepth,
      learningRate: learner.learningRate,
    });
    try {
      const probabilities = model.predictProbabilities(data.xTest);
      const bytes = model.toBytes().length;
      return { probabilities, parameterCount: 0, modelBytes: bytes };
    } finally {
      model.free();
    }
  }
  const { loadTf } = await import("./tf.ts");
  const { buildFcnn, countParameters, predictProbabilities, trainClassifier } = await import("./model.ts");
  const tf = await loadTf();
  if (tf.getBackend() === "wasm" && options.fastMatMul !== false) patchWasmTransposedMatMul(tf);
  const model = buildFcnn(tf, numFeatures, k, {
    hiddenUnits: options.hiddenUnits ?? learner.hiddenUnits,
    batchNorm: learner.batchNorm,
    dropout: learner.dropout,
    seed,
  });
  try {
    const validation = data.xVal && data.yVal ? { x: data.xVal, y: data.yVal } : undefined;
    const { epochsRun } = await trainClassifier(tf, model, data.xTrain, data.yTrain, numFeatures, {
      epochs: Math.min(learner.epochs, options.maxEpochs ?? Infinity),
      batchSize: learner.batchSize,
      learningRate: learner.learningRate,
      seed,
      validation,
      classWeights: learner.classWeights ? classWeightsOf(data.yTrain, k) : undefined,
      earlyStoppingPatience: protocol === "grouped-cv" && validation ? learner.earlyStoppingPatience : undefined,
      reduceLrOnPlateau: learner.reduceLrOnPlateau,
    });
    const probabilities = predictProbabilities(tf, model, data.xTest, numFeatures);
    const parameterCount = countParameters(model);
    return { probabilities, parameterCount, modelBytes: 4 * parameterCount, epochsRun };
  } finally {
    model.dispose();
  }
}

/**
 * Runs one experiment under one protocol on loaded features.
 * @param name An experiment of {@linkcode SPECS} (the CNN runs through {@linkcode runCnnExperiment}).
 * @param features From {@linkcode loadFeatureSet}; its `params.targetRate` is the result's `rate`.
 */
export async function runExperiment(
  name: Exclude<ExperimentName, "cnn">,
  features: FeatureSet,
  options: RunOptions,
): Promise<ExperimentResult> {
  const spec = SPECS[name];
  if (!spec) throw new ParameterError(`Cannot run experiment: unknown name "${name}"`);
  const start = performance.now();
  const seed = options.seed ?? 42;
  const n = features.labels.length;
  const all = Array.from({ length: n }, (_, i) => i);
  const folds = protocolFolds(features, options.protocol, seed, options.folds ?? 5);
  const results: FoldResult[] = [];
  let parameterCount = 0, modelBytes = 0;
  const bar = options.progress && folds.length > 1 ? createProgress(folds.length, `${name} folds`) : undefined;
  let design: FeatureDesign | undefined;
  for (let f = 0; f < folds.length; f++) {
    const foldStart = performance.now();
    const { train, test } = folds[f];
    let fit: number[], fitTrain: number[], validation: number[];
    if (options.protocol === "original") {
      fit = all; // leak, as the original: scalers and reference see the test recordings
      fitTrain = train;
      validation = test; // leak, as the original: the test set drives the LR schedule
      design ??= fitFeatureDesign(spec, features, { ...options, fit });
    } else {
      fit = train;
      const split = groupedValidationSplit(train, features.labels, features.groups, 0.2, seed + f);
      fitTrain = spec.learner.kind === "gbdt" ? train : split.train; // GBDT: fixed rounds, no validation needed
      validation = spec.learner.kind === "gbdt" ? [] : split.test;
      design = fitFeatureDesign(spec, features, { ...options, fit });
    }
    const pick = (idx: number[]) => Int32Array.from(idx, (i) => features.labels[i]);
    const trained = await trainAndPredict(
      spec.learner,
      {
        xTrain: design.x(fitTrain),
        yTrain: pick(fitTrain),
        xVal: validation.length ? design.x(validation) : undefined,
        yVal: validation.length ? pick(validation) : undefined,
        xTest: design.x(test),
      },
      design.numFeatures,
      options.protocol,
      seed + f,
      options,
    );
    const yTest = pick(test);
    const pred = argmaxRows(trained.probabilities, CLASS_NAMES.length);
    parameterCount = trained.parameterCount;
    modelBytes = trained.modelBytes;
    results.push({
      fold: f,
      trainSize: fitTrain.length,
      validationSize: validation.length,
      testSize: test.length,
      metrics: evaluate(yTest, pred, CLASS_NAMES.length),
      majorityBaseline: majorityBaseline(pick(train), yTest),
      epochsRun: trained.epochsRun,
      seconds: (performance.now() - foldStart) / 1000,
      audit: {
        fitIndices: fit,
        trainIndices: fitTrain,
        validationIndices: validation,
        testIndices: test,
        referenceIndex: design.referenceIndex,
        paddedFrames: design.paddedFrames,
      },
    });
    bar?.tick(1, `acc ${results[f].metrics.accuracy.toFixed(3)}`);
  }
  bar?.done();
  const learnerSettings = { ...spec.learner } as Record<string, unknown>;
  if (options.hiddenUnits) learnerSettings.hiddenUnits = options.hiddenUnits;
  if (options.maxEpochs !== undefined && "epochs" in learnerSettings) {
    learnerSettings.epochs = Math.min(learnerSettings.epochs as number, options.maxEpochs);
  }
  if (options.maxRounds !== undefined && "numRounds" in learnerSettings) {
    learnerSettings.numRounds = Math.min(learnerSettings.numRounds as number, options.maxRounds);
  }
  return finishResult({
    experiment: name,
    description: spec.description,
    features,
    options,
    settings: { ...learnerSettings, features: spec.features, featureParams: features.params, seed },
    folds: results,
    parameterCount,
    modelBytes,
    seconds: (performance.now() - start) / 1000,
  });
}

/** Options of {@linkcode trainAndPredictSplit}. */
export type SplitRunOptions = Pick<RunOptions, "seed" | "maxEpochs" | "maxRounds" | "alignmentCache" | "progress">;

/**
 * Trains an experiment on the recordings `train` of `features` alone (scalers, padding and
 * alignment reference fitted on them; neural nets stop early on a grouped 20 % validation split
 * of them) and predicts the recordings `test`: a fixed split such as the challenge's.
 * `features.labels` may use any of the 4 class slots (e.g. artifact in a slot its data never has).
 * @returns `test.length × 4` probabilities, and the epochs run (neural nets).
 */
export async function trainAndPredictSplit(
  name: Exclude<ExperimentName, "cnn">,
  features: FeatureSet,
  split: { train: readonly number[]; test: readonly number[] },
  options: SplitRunOptions = {},
): Promise<{ probabilities: Float32Array; epochsRun?: number }> {
  const spec = SPECS[name];
  if (!spec) throw new ParameterError(`Cannot run experiment: unknown name "${name}"`);
  const seed = options.seed ?? 42;
  const train = [...split.train], test = [...split.test];
  const design = fitFeatureDesign(spec, features, { ...options, fit: train });
  const nn = spec.learner.kind !== "gbdt";
  const v = nn ? groupedValidationSplit(train, features.labels, features.groups, 0.2, seed) : { train, test: [] };
  const pick = (idx: number[]) => Int32Array.from(idx, (i) => features.labels[i]);
  const trained = await trainAndPredict(
    spec.learner,
    {
      xTrain: design.x(v.train),
      yTrain: pick(v.train),
      xVal: v.test.length ? design.x(v.test) : undefined,
      yVal: v.test.length ? pick(v.test) : undefined,
      xTest: design.x(test),
    },
    design.numFeatures,
    "grouped-cv",
    seed,
    { protocol: "grouped-cv", preset: "small", ...options },
  );
  return { probabilities: trained.probabilities, epochsRun: trained.epochsRun };
}

/** Assembles an {@linkcode ExperimentResult} from fold results (used by the CNN adapter too). */
export function finishResult(r: {
  experiment: ExperimentName;
  description: string;
  features: Pick<FeatureSet, "labels" | "params">;
  options: Pick<RunOptions, "protocol" | "preset" | "notes">;
  settings: Record<string, unknown>;
  folds: FoldResult[];
  parameterCount: number;
  modelBytes: number;
  seconds: number;
}): ExperimentResult {
  const rate = r.features.params.targetRate ?? "native";
  const k = CLASS_NAMES.length;
  const summed = Array.from({ length: k }, () => new Array<number>(k).fill(0));
  for (const f of r.folds) {
    for (let i = 0; i < k; i++) for (let j = 0; j < k; j++) summed[i][j] += f.metrics.confusion[i][j];
  }
  return {
    id: `${r.options.preset}-${r.experiment}-${r.options.protocol}-${rate}`,
    experiment: r.experiment,
    description: r.description,
    preset: r.options.preset,
    protocol: r.options.protocol,
    rate,
    status: "ok",
    notes: r.options.notes ?? [],
    numRecordings: r.features.labels.length,
    settings: r.settings,
    folds: r.folds,
    summary: {
      accuracy: summarise(r.folds.map((f) => f.metrics.accuracy)),
      balancedAccuracy: summarise(r.folds.map((f) => f.metrics.balancedAccuracy)),
      macroF1: summarise(r.folds.map((f) => f.metrics.macroF1)),
      majorityBaseline: summarise(r.folds.map((f) => f.majorityBaseline)),
    },
    pooled: metricsFromConfusion(summed),
    parameterCount: r.parameterCount,
    modelBytes: r.modelBytes,
    seconds: r.seconds,
  };
}

/** A placeholder row for an experiment that did not run (skipped, or no result file). */
export function notRunResult(
  experiment: ExperimentName,
  preset: Preset["name"],
  protocol: Protocol,
  rate: "native" | number,
  reason: string,
): ExperimentResult {
  const nan = { mean: NaN, std: NaN };
  return {
    id: `${preset}-${experiment}-${protocol}-${rate}`,
    experiment,
    description: reason,
    preset,
    protocol,
    rate,
    status: "not run",
    notes: [reason],
    numRecordings: 0,
    settings: {},
    folds: [],
    summary: { accuracy: nan, balancedAccuracy: nan, macroF1: nan, majorityBaseline: nan },
    pooled: null,
    parameterCount: 0,
    modelBytes: 0,
    seconds: 0,
  };
}

/**
 * The CNN experiment (lib/cnn.ts, loaded when first run): reads and resamples the recordings, runs
 * `crossValidateCnn` under the requested protocol, and returns an {@linkcode ExperimentResult}.
 * `quick` caps epochs and augmentation (CI).
 */
export async function runCnnExperiment(
  recordings: readonly Recording[],
  options: RunOptions & { quick?: boolean },
): Promise<ExperimentResult> {
  const [{ cnnDefaults, crossValidateCnn, prepareRecordings }, { defaultLogmelPreprocessing }, { loadTf }] =
    await Promise.all([import("./cnn.ts"), import("./preprocess.ts"), import("./tf.ts")]);
  const tf = await loadTf();
  const start = performance.now();
  const p = defaultLogmelPreprocessing();
  const recs = await prepareRecordings(recordings, p.targetSampleRate);
  const settings: Partial<CnnTrainOptions> = options.quick
    ? { epochs: Math.min(options.maxEpochs ?? 3, 3), augmentCopies: 0, patience: 2 }
    : { epochs: Math.min(options.maxEpochs ?? 40, 40) };
  const cv = await crossValidateCnn(tf, recs, {
    ...settings,
    seed: options.seed ?? 42,
    folds: options.folds ?? 5,
    protocol: options.protocol,
    verbose: false,
    onFold: options.progress
      ? (f, m) => console.error(`cnn fold ${f + 1}: accuracy ${m.accuracy.toFixed(3)}`)
      : undefined,
  });
  const labels = Int32Array.from(recs.map((r) => r.classIndex));
  return finishResult({
    experiment: "cnn",
    description: `1-D CNN on ${p.windowFrames * p.hopLength / p.targetSampleRate} s log-mel windows (${
      p.targetSampleRate / 1000
    } kHz, ${p.nMels} bands), augmentation, class weights, mean window probability`,
    features: { labels, params: { deltaTimeS: 0, method: "dominant", targetRate: p.targetSampleRate } },
    options: { protocol: options.protocol, preset: options.preset, notes: options.notes },
    settings: { ...cnnDefaults(settings), preprocessing: p },
    folds: cv.folds.map((f) => ({
      fold: f.fold,
      trainSize: f.trainSize,
      validationSize: f.validationSize,
      testSize: f.testSize,
      metrics: f.metrics,
      majorityBaseline: f.majorityBaseline,
      epochsRun: f.epochsRun,
      seconds: f.seconds,
      audit: {
        fitIndices: [],
        trainIndices: [],
        validationIndices: [],
        testIndices: f.testIndices,
        referenceIndex: -1,
        paddedFrames: 0,
      },
    })),
    parameterCount: cv.parameterCount,
    modelBytes: 4 * cv.parameterCount,
    seconds: (performance.now() - start) / 1000,
  });
}

// ---------------------------------------------------------------------------------------------
// Synthetic data for CI without the real dataset

/** Options of {@linkcode writeSyntheticDataset}. */
export interface SyntheticDatasetOptions {
  /** Recordings per class. @default {12} */
  perClass?: number;
  /** Length of each recording, seconds. @default {3} */
  durationS?: number;
  seed?: number;
}

/**
 * Writes a small synthetic dataset in the PASCAL layout (lib/synth.ts recordings as 16-bit WAV):
 * normal and murmur in both sets, extrahls only in set_a (8 kHz here, to stay small) and
 * extrastole only in set_b (4 kHz), like the real data; set_b patients hold two recordings each.
 * @returns The recordings, as {@linkcode listRecordings} lists them.
 */
export async function writeSyntheticDataset(dir: string, options: SyntheticDatasetOptions = {}): Promise<Recording[]> {
  const { synthesizeHeartSound } = await import("./synth.ts");
  const perClass = options.perClass ?? 12;
  const seed = options.seed ?? 1;
  await Deno.mkdir(`${dir}/set_a`, { recursive: true });
  await Deno.mkdir(`${dir}/set_b`, { recursive: true });
  let s = 0, patient = 100;
  for (const kind of CLASS_NAMES) {
    for (let i = 0; i < perClass; i++) {
      const inA = kind === "extrahls" || (kind !== "extrastole" && i % 2 === 0);
      const rate = inA ? 8000 : 4000;
      const rec = synthesizeHeartSound({
        kind,
        seed: seed * 1000 + s++,
        sampleRate: rate,
        durationS: options.durationS ?? 3,
        heartRateBpm: 60 + ((s * 7) % 40),
        noiseLevel: 0.03,
      });
      if (!inA && i % 2 === 0) patient++;
      const name = inA
        ? `set_a/${kind}__2011${String(100000 + s).padStart(8, "0")}.wav`
        : `set_b/${kind}__${patient}_13050${String(s).padStart(8, "0")}_${"ABCD"[i % 4]}.wav`;
      await Deno.writeFile(`${dir}/${name}`, encodeWav({ samples: rec.samples, sampleRate: rate }));
    }
  }
  return listRecordings(dir);
}
