/**
 * The better model: a small 1-D CNN on log-mel windows (lib/preprocess.ts "logmel-windows"),
 * trained with augmentation and class weights, evaluated per recording (mean of its windows'
 * probabilities) under patient-grouped stratified k-fold cross-validation.
 *
 * - Input: a window of `windowFrames` log-mel frames × `nMels` bands (default 3 s × 16 bands at
 *   2 kHz), standardised per window. Conv1D over time with the bands as channels:
 *   [Conv1D(k5) → BatchNorm → ReLU → MaxPool(2)] × 2 → Conv1D(k3) → BatchNorm → ReLU →
 *   GlobalAveragePooling → Dropout → Dense softmax. Convolutions use stride 1 (see lib/tf.ts).
 * - Training-only augmentation, on the 2 kHz waveform before the log-mel: speed change
 *   (±`speedRange`, resampling, which also shifts pitch), added white noise at a random SNR,
 *   and random gain (a no-op after per-window standardisation but kept for other settings);
 *   time shift by taking training windows every `trainHopFrames` frames from a random start.
 * - Imbalance: at most `maxTrainWindows` windows per recording so long recordings do not
 *   dominate; then either class weights (n / (K · n_c))^`classWeightPower` or, by default,
 *   logit adjustment after training (`priorCorrection` τ = 0.5: probabilities ∝ p · prior^−τ,
 *   baked into the output bias so the saved model needs nothing extra at inference). Under
 *   grouped CV, τ = 0.5 gave the best macro-F1 of τ ∈ {0, 0.25, 0.5, 0.75, 1} (chosen on those
 *   CV results, so slightly optimistic) and balanced weights (power 1) a similar trade-off.
 * - Early stopping and ReduceLROnPlateau on a patient-grouped validation split carved from the
 *   training fold only.
 * @module
 */
import { bandpass } from "./filter.ts";
import { CLASS_NAMES, type Recording } from "./data.ts";
import { ModelError } from "./errors.ts";
import { evaluate, majorityBaseline, type Metrics, metricsFromConfusion } from "./metrics.ts";
import type { LayersModel } from "./model.ts";
import { countParameters, loadModel, predictProbabilities, saveModel, trainClassifier } from "./model.ts";
import {
  defaultLogmelPreprocessing,
  logmelFrames,
  type LogmelWindowsPreprocessing,
  windowsFromFrames,
} from "./preprocess.ts";
import { resampleWaveform } from "./resample.ts";
import { gaussian, mulberry32 } from "./rng.ts";
import { type Fold, groupedStratifiedKFold, groupedValidationSplit, randomSplit } from "./splits.ts";
import type { Tf } from "./tf.ts";
import type { Waveform } from "./types.ts";
import { readWav } from "./wav.ts";

/** CNN architecture. */
export interface CnnOptions {
  /** Filters of the three Conv1D layers. @default {[12, 16, 24]} */
  filters?: [number, number, number];
  /** Kernel sizes (frames) of the three Conv1D layers. @default {[5, 5, 3]} */
  kernelSizes?: [number, number, number];
  /** Dropout before the output layer. @default {0.3} */
  dropout?: number;
  seed: number;
}

/**
 * Builds the CNN for `[windowFrames, nMels]` inputs; glorot-uniform kernels with explicit seeds.
 * @returns An uncompiled LayersModel with a softmax output of `numClasses` units.
 */
export function buildCnn(tf: Tf, inputShape: [number, number], numClasses: number, options: CnnOptions): LayersModel {
  const filters = options.filters ?? [12, 16, 24];
  const kernels = options.kernelSizes ?? [5, 5, 3];
  const seeds = [0, 1, 2, 3].map((i) => options.seed * 16 + i);
  const model = tf.sequential();
  for (let i = 0; i < 3; i++) {
    model.add(tf.layers.conv1d({
      ...(i === 0 ? { inputShape } : {}),
      filters: filters[i],
      kernelSize: kernels[i],
      padding: "same",
      useBias: false,
      kernelInitializer: tf.initializers.glorotUniform({ seed: seeds[i] }),
    }));
    model.add(tf.layers.batchNormalization({}));
    model.add(tf.layers.activation({ activation: "relu" }));
    if (i < 2) model.add(tf.layers.maxPooling1d({ poolSize: 2 }));
  }
  model.add(tf.layers.globalAveragePooling1d({}));
  const dropout = options.dropout ?? 0.3;
  if (dropout > 0) model.add(tf.layers.dropout({ rate: dropout }));
  model.add(tf.layers.dense({
    units: numClasses,
    activation: "softmax",
    kernelInitializer: tf.initializers.glorotUniform({ seed: seeds[3] }),
  }));
  return model;
}

/** Training settings of the CNN. */
export interface CnnTrainOptions extends CnnOptions {
  /** @default {40} */
  epochs?: number;
  /** @default {64} */
  batchSize?: number;
  /** @default {0.005} */
  learningRate?: number;
  /** Augmented copies of each training recording (besides the original). @default {1} */
  augmentCopies?: number;
  /** Maximum relative speed change of augmented copies. @default {0.08} */
  speedRange?: number;
  /** SNR range of added white noise, dB. @default {[15, 35]} */
  noiseSnrDb?: [number, number];
  /** Frames between training windows (time-shift augmentation). @default {12} */
  trainHopFrames?: number;
  /** At most this many windows per training recording (and copy). @default {4} */
  maxTrainWindows?: number;
  /** Early-stopping patience, epochs. @default {6} */
  patience?: number;
  /** Share of the training recordings held out (grouped) for early stopping. @default {0.15} */
  validationFraction?: number;
  /** Class weights are (n / (K · n_c))^classWeightPower: 1 balanced, 0.5 softened, 0 none. @default {0} */
  classWeightPower?: number;
  /**
   * Logit adjustment τ ≥ 0 after training: the output layer's bias for class c is lowered by
   * τ · log(prior_c), with prior_c the class share of the training windows, so the model's
   * probabilities become ∝ p · prior^−τ (τ = 1 undoes the class-frequency prior; 0 leaves it).
   * @default {0.5}
   */
  priorCorrection?: number;
  /** "crossEntropy" (default) or "focal". */
  loss?: "crossEntropy" | "focal";
  /** Log epochs on stderr. */
  verbose?: boolean;
}

/** A recording at the model rate (resampled once), with its labels. */
export interface PreparedRecording {
  /** Mono samples at the preprocessing's target rate. */
  wave: Waveform;
  classIndex: number;
  /** Classes of the model being trained (the CNN's outputs); `classIndex` is below it. */
  numClasses: number;
  set: "a" | "b";
  patientId: string;
  relPath: string;
}

/**
 * Reads and resamples recordings to `targetSampleRate` (the costly, shared part of the DSP).
 * @param numClasses Classes of the model (default: the dataset's four); recordings need `classIndex` below it.
 */
export async function prepareRecordings(
  recordings: readonly Recording[],
  targetSampleRate: number,
  numClasses: number = CLASS_NAMES.length,
): Promise<PreparedRecording[]> {
  const out: PreparedRecording[] = [];
  for (const r of recordings) {
    if (r.classIndex < 0) continue;
    const wav = readWav(await Deno.readFile(r.path));
    const wave = wav.sampleRate === targetSampleRate
      ? { samples: wav.samples, sampleRate: wav.sampleRate }
      : resampleWaveform({ samples: wav.samples, sampleRate: wav.sampleRate }, targetSampleRate);
    out.push({ wave, classIndex: r.classIndex, numClasses, set: r.set, patientId: r.patientId, relPath: r.relPath });
  }
  return out;
}

/** Output classes of the model trained on `recs`. */
function classCount(recs: readonly PreparedRecording[]): number {
  return recs[0]?.numClasses ?? CLASS_NAMES.length;
}

/** A speed-changed, noisy copy of a waveform (training augmentation). */
export function augmentWaveform(
  wave: Waveform,
  rng: () => number,
  options: { speedRange: number; noiseSnrDb: [number, number] },
): Waveform {
  const speed = 1 + (2 * rng() - 1) * options.speedRange;
  // Played `speed` times faster: the same samples read as rate·speed, back at rate.
  const fast = resampleWaveform(
    { samples: wave.samples, sampleRate: Math.round(wave.sampleRate * speed) },
    wave.sampleRate,
  );
  const filtered = bandpass(fast, { lowHz: 20, highHz: Math.min(950, wave.sampleRate / 2 - 1) });
  let power = 0;
  for (const v of filtered.samples) power += v * v;
  power /= Math.max(1, filtered.samples.length);
  const [lo, hi] = options.noiseSnrDb;
  const snr = lo + (hi - lo) * rng();
  const sigma = Math.sqrt(power / 10 ** (snr / 10));
  const gain = 0.5 + rng();
  const samples = new Float32Array(fast.samples.length);
  for (let i = 0; i < samples.length; i++) samples[i] = gain * (fast.samples[i] + sigma * gaussian(rng));
  return { samples, sampleRate: wave.sampleRate };
}

/** Gathers window batches with their class and owning recording, then packs them into one {@linkcode Rows}. */
function rowsCollector() {
  const parts: Float32Array[] = [], ys: number[] = [], owners: number[] = [];
  return {
    add(windows: { data: Float32Array; shape: number[] }, classIndex: number, owner: number): void {
      parts.push(windows.data);
      for (let r = 0; r < windows.shape[0]; r++) {
        ys.push(classIndex);
        owners.push(owner);
      }
    },
    build(rowSize: number): Rows {
      const x = new Float32Array(ys.length * rowSize);
      let at = 0;
      for (const part of parts) {
        x.set(part, at);
        at += part.length;
      }
      return { x, y: Int32Array.from(ys), owner: Int32Array.from(owners) };
    },
  };
}

/** Window rows of recordings: data, labels, and the recording each row came from. */
interface Rows {
  x: Float32Array;
  y: Int32Array;
  owner: Int32Array;
}

function rowsOf(
  recs: readonly PreparedRecording[],
  indices: readonly number[],
  p: LogmelWindowsPreprocessing,
  frames: (i: number) => { data: Float32Array; numFrames: number },
): Rows {
  const rows = rowsCollector();
  for (const i of indices) {
    rows.add(windowsFromFrames(frames(i), p), recs[i].classIndex, i);
  }
  return rows.build(p.windowFrames * p.nMels);
}

/** Training rows: original + augmented copies, windows every trainHopFrames from a random start. */
function trainingRows(
  recs: readonly PreparedRecording[],
  indices: readonly number[],
  p: LogmelWindowsPreprocessing,
  o: Required<
    Pick<CnnTrainOptions, "augmentCopies" | "speedRange" | "noiseSnrDb" | "trainHopFrames" | "maxTrainWindows">
  >,
  seed: number,
  cache: Map<number, { data: Float32Array; numFrames: number }>,
): Rows {
  const rng = mulberry32(seed);
  const trainP = { ...p, hopFrames: o.trainHopFrames, maxWindows: o.maxTrainWindows };
  const rows = rowsCollector();
  for (const i of indices) {
    for (let c = 0; c <= o.augmentCopies; c++) {
      let frames: { data: Float32Array; numFrames: number };
      if (c === 0) {
        frames = cache.get(i) ?? logmelFrames(recs[i].wave, p);
        cache.set(i, frames);
      } else {
        frames = logmelFrames(augmentWaveform(recs[i].wave, rng, o), p);
      }
      // Random start offset (time shift) of the window grid.
      const shift = Math.floor(rng() * o.trainHopFrames);
      const shifted = frames.numFrames - shift >= p.windowFrames
        ? { data: frames.data.subarray(shift * p.nMels), numFrames: frames.numFrames - shift }
        : frames;
      rows.add(windowsFromFrames(shifted, trainP), recs[i].classIndex, i);
    }
  }
  return rows.build(p.windowFrames * p.nMels);
}

/** Balanced class weights n / (K · n_c) (0 for absent classes). */
export function balancedClassWeights(y: ArrayLike<number>, k: number): number[] {
  const counts = new Array(k).fill(0);
  for (let i = 0; i < y.length; i++) counts[y[i]]++;
  return counts.map((c) => (c > 0 ? y.length / (k * c) : 0));
}

/** Mean window probabilities per recording: rows grouped by `owner` → `indices.length × k`. */
function perRecording(probs: Float32Array, owner: Int32Array, indices: readonly number[], k: number): Float32Array {
  const pos = new Map(indices.map((r, j) => [r, j]));
  const sums = new Float32Array(indices.length * k), counts = new Float32Array(indices.length);
  for (let row = 0; row < owner.length; row++) {
    const j = pos.get(owner[row])!;
    counts[j]++;
    for (let c = 0; c < k; c++) sums[j * k + c] += probs[row * k + c];
  }
  for (let j = 0; j < indices.length; j++) for (let c = 0; c < k; c++) sums[j * k + c] /= counts[j] || 1;
  return sums;
}

function argmax(row: ArrayLike<number>): number {
  let b = 0;
  for (let i = 1; i < row.length; i++) if (row[i] > row[b]) b = i;
  return b;
}

/** Resolved defaults of {@linkcode CnnTrainOptions}. */
export function cnnDefaults(
  o: Partial<CnnTrainOptions> = {},
): Required<Omit<CnnTrainOptions, "filters" | "kernelSizes">> & CnnOptions {
  return {
    seed: 42,
    epochs: 40,
    batchSize: 64,
    learningRate: 0.005,
    augmentCopies: 1,
    speedRange: 0.08,
    noiseSnrDb: [15, 35],
    trainHopFrames: 12,
    maxTrainWindows: 4,
    patience: 6,
    validationFraction: 0.15,
    loss: "crossEntropy",
    classWeightPower: 0,
    priorCorrection: 0.5,
    dropout: 0.3,
    verbose: false,
    ...o,
  };
}

/**
 * Trains one CNN on `trainIndices` of `recs` (a grouped validation split of them drives early
 * stopping). Frames of un-augmented recordings are memoised in `cache`.
 */
export async function trainCnn(
  tf: Tf,
  recs: readonly PreparedRecording[],
  trainIndices: readonly number[],
  p: LogmelWindowsPreprocessing,
  options: Partial<CnnTrainOptions> = {},
  cache: Map<number, { data: Float32Array; numFrames: number }> = new Map(),
): Promise<{ model: LayersModel; epochsRun: number; validationSize: number; trainWindows: number; prior: number[] }> {
  const o = cnnDefaults(options);
  const labels = recs.map((r) => r.classIndex), groups = recs.map((r) => r.patientId);
  let fit = [...trainIndices], val: number[] = [];
  if (o.validationFraction > 0) {
    const split = groupedValidationSplit(trainIndices, labels, groups, o.validationFraction, o.seed);
    fit = split.train;
    val = split.test;
  }
  const k = classCount(recs);
  const train = trainingRows(recs, fit, p, o, o.seed, cache);
  const frames = (i: number) => {
    const f = cache.get(i) ?? logmelFrames(recs[i].wave, p);
    cache.set(i, f);
    return f;
  };
  const validation = val.length > 0 ? rowsOf(recs, val, p, frames) : null;
  const model = buildCnn(tf, [p.windowFrames, p.nMels], k, o);
  const numFeatures = p.windowFrames * p.nMels;
  const { epochsRun } = await trainClassifier(tf, model, train.x, train.y, numFeatures, {
    epochs: o.epochs,
    batchSize: o.batchSize,
    learningRate: o.learningRate,
    seed: o.seed,
    classWeights: balancedClassWeights(train.y, k).map((w) => w ** o.classWeightPower),
    loss: o.loss,
    validation: validation ? { x: validation.x, y: validation.y } : undefined,
    earlyStoppingPatience: validation ? o.patience : undefined,
    reduceLrOnPlateau: validation
      ? { patience: Math.max(2, Math.floor(o.patience / 2)), factor: 0.3, minLr: 1e-5 }
      : undefined,
    onEpoch: o.verbose
      ? (e, l) => console.error(`  epoch ${e + 1}: loss ${l.loss.toFixed(4)} val ${l.valLoss?.toFixed(4)} lr ${l.lr}`)
      : undefined,
  });
  const prior = classPriors(train.y, k);
  if (o.priorCorrection > 0) adjustOutputBias(tf, model, prior.map((q) => -o.priorCorrection * Math.log(q)));
  return { model, epochsRun, validationSize: val.length, trainWindows: train.y.length, prior };
}

/** Class shares of labels (a tiny floor keeps absent classes finite). */
export function classPriors(y: ArrayLike<number>, k: number): number[] {
  const counts = new Array(k).fill(0);
  for (let i = 0; i < y.length; i++) counts[y[i]]++;
  return counts.map((c) => Math.max(c, 0.5) / Math.max(1, y.length));
}

/** Adds `delta` to the bias of the model's last (softmax Dense) layer. */
export function adjustOutputBias(tf: Tf, model: LayersModel, delta: number[]): void {
  const last = model.layers[model.layers.length - 1];
  const [kernel, bias] = last.getWeights();
  const next = tf.tidy(() => bias.add(tf.tensor1d(delta)));
  last.setWeights([kernel, next]);
  next.dispose();
}

/** Window probabilities ∝ p · prior^−τ, renormalised per row (in place); `rows × k`. */
export function reweightProbabilities(probs: Float32Array, k: number, prior: number[], tau: number): Float32Array {
  const f = prior.map((q) => q ** -tau);
  for (let r = 0; r < probs.length / k; r++) {
    let sum = 0;
    for (let c = 0; c < k; c++) sum += probs[r * k + c] *= f[c];
    for (let c = 0; c < k; c++) probs[r * k + c] /= sum;
  }
  return probs;
}

/** Per-recording probabilities of recordings `indices` (mean over their windows). */
export function predictRecordings(
  tf: Tf,
  model: LayersModel,
  recs: readonly PreparedRecording[],
  indices: readonly number[],
  p: LogmelWindowsPreprocessing,
  cache: Map<number, { data: Float32Array; numFrames: number }> = new Map(),
  reweight?: { prior: number[]; tau: number },
): Float32Array {
  const frames = (i: number) => {
    const f = cache.get(i) ?? logmelFrames(recs[i].wave, p);
    cache.set(i, f);
    return f;
  };
  const rows = rowsOf(recs, indices, p, frames);
  const probs = predictProbabilities(tf, model, rows.x, p.windowFrames * p.nMels);
  const k = classCount(recs);
  if (reweight && reweight.tau !== 0) reweightProbabilities(probs, k, reweight.prior, reweight.tau);
  return perRecording(probs, rows.owner, indices, k);
}

/** Cross-validated predictions and metrics of the CNN. */
export interface CnnCvResult {
  /** Per-recording out-of-fold probabilities, `n × 4`, in `recs` order. */
  probabilities: Float32Array;
  /** Fold of each recording (test fold index). */
  foldOf: Int32Array;
  /** Out-of-fold probabilities of the quantized-and-reloaded fold models, per quantization. */
  quantizedProbabilities: Partial<Record<"float16" | "uint8", Float32Array>>;
  /** Out-of-fold probabilities for each of `extraTaus` (key: τ as a string). */
  tauProbabilities: Record<string, Float32Array>;
  /** Bytes of weights.bin per quantization ("float32" unquantized), of the last fold's model. */
  weightBytes: Record<string, number>;
  folds: {
    fold: number;
    trainSize: number;
    validationSize: number;
    testSize: number;
    trainWindows: number;
    epochsRun: number;
    metrics: Metrics;
    majorityBaseline: number;
    seconds: number;
    testIndices: number[];
  }[];
  parameterCount: number;
  seconds: number;
}

/** Options of {@linkcode crossValidateCnn}. */
export interface CnnCvOptions extends Partial<CnnTrainOptions> {
  /** @default {5} */
  folds?: number;
  /** "grouped-cv" (default) or "original" (one random 80/20 split, seed 42). */
  protocol?: "grouped-cv" | "original";
  /** Preprocessing to use. @default {defaultLogmelPreprocessing()} */
  preprocessing?: LogmelWindowsPreprocessing;
  /** Also score these logit-adjustment values τ (see `priorCorrection`) from the same fold models. */
  extraTaus?: number[];
  /** Also predict with each fold's model saved with these weight quantizations and reloaded. */
  quantizations?: ("float16" | "uint8")[];
  /** Called after each fold. */
  onFold?: (fold: number, metrics: Metrics) => void;
  /** Seed of the fold models' training (fold f trains with `trainSeed + f`); `seed` alone fixes the
   * folds, so members of a seed ensemble share them. @default {seed} */
  trainSeed?: number;
}

/**
 * Patient-grouped stratified k-fold CV of the CNN (everything fitted inside the training folds:
 * there is no data-fitted preprocessing; early stopping uses a grouped split of the training fold).
 */
export async function crossValidateCnn(
  tf: Tf,
  recs: readonly PreparedRecording[],
  options: CnnCvOptions = {},
): Promise<CnnCvResult> {
  const start = performance.now();
  const p = options.preprocessing ?? defaultLogmelPreprocessing();
  const k = classCount(recs);
  const labels = recs.map((r) => r.classIndex), groups = recs.map((r) => r.patientId);
  const seed = options.seed ?? 42;
  const trainSeed = options.trainSeed ?? seed;
  const folds: Fold[] = options.protocol === "original"
    ? [randomSplit(recs.length, 0.2, seed)]
    : groupedStratifiedKFold(labels, groups, options.folds ?? 5, seed);
  const probabilities = new Float32Array(recs.length * k);
  const foldOf = new Int32Array(recs.length).fill(-1);
  const cache = new Map<number, { data: Float32Array; numFrames: number }>();
  const out: CnnCvResult["folds"] = [];
  const quantizedProbabilities: CnnCvResult["quantizedProbabilities"] = {};
  const weightBytes: Record<string, number> = {};
  const tauProbabilities: Record<string, Float32Array> = {};
  let parameterCount = 0;
  for (const [f, fold] of folds.entries()) {
    const t0 = performance.now();
    const trained = await trainCnn(tf, recs, fold.train, p, { ...options, seed: trainSeed + f }, cache);
    parameterCount = countParameters(trained.model);
    const probs = predictRecordings(tf, trained.model, recs, fold.test, p, cache);
    weightBytes.float32 = 4 * parameterCount;
    for (const tau of options.extraTaus ?? []) {
      const shift = tau - cnnDefaults(options).priorCorrection; // the fold model already has its own τ
      const q = predictRecordings(tf, trained.model, recs, fold.test, p, cache, { prior: trained.prior, tau: shift });
      const all = tauProbabilities[String(tau)] ??= new Float32Array(recs.length * k);
      fold.test.forEach((i, j) => all.set(q.subarray(j * k, j * k + k), i * k));
    }
    for (const mode of options.quantizations ?? []) {
      const dir = await Deno.makeTempDir({ prefix: "cnn-quant-" });
      try {
        await saveModel(tf, trained.model, dir, p, { quantization: mode });
        weightBytes[mode] = (await Deno.stat(`${dir}/weights.bin`)).size;
        const loaded = await loadModel(tf, dir);
        const q = predictRecordings(tf, loaded.model, recs, fold.test, p, cache);
        loaded.model.dispose();
        const all = quantizedProbabilities[mode] ??= new Float32Array(recs.length * k);
        fold.test.forEach((i, j) => all.set(q.subarray(j * k, j * k + k), i * k));
      } finally {
        await Deno.remove(dir, { recursive: true });
      }
    }
    trained.model.dispose();
    const yTrue = fold.test.map((i) => labels[i]);
    const yPred = fold.test.map((_, j) => argmax(probs.subarray(j * k, j * k + k)));
    fold.test.forEach((i, j) => {
      probabilities.set(probs.subarray(j * k, j * k + k), i * k);
      foldOf[i] = f;
    });
    const metrics = evaluate(yTrue, yPred, k);
    out.push({
      fold: f,
      trainSize: fold.train.length - trained.validationSize,
      validationSize: trained.validationSize,
      testSize: fold.test.length,
      trainWindows: trained.trainWindows,
      epochsRun: trained.epochsRun,
      metrics,
      majorityBaseline: majorityBaseline(fold.train.map((i) => labels[i]), yTrue),
      seconds: (performance.now() - t0) / 1000,
      testIndices: fold.test,
    });
    options.onFold?.(f, metrics);
  }
  return {
    probabilities,
    foldOf,
    quantizedProbabilities,
    tauProbabilities,
    weightBytes,
    folds: out,
    parameterCount,
    seconds: (performance.now() - start) / 1000,
  };
}

/** Metrics of the recordings selected by `keep` (e.g. one set), from out-of-fold probabilities. */
export function subsetMetrics(
  recs: readonly PreparedRecording[],
  probabilities: Float32Array,
  keep: (r: PreparedRecording) => boolean,
): Metrics & { n: number } {
  const k = classCount(recs);
  const confusion = Array.from({ length: k }, () => new Array<number>(k).fill(0));
  let n = 0;
  recs.forEach((r, i) => {
    if (!keep(r)) return;
    confusion[r.classIndex][argmax(probabilities.subarray(i * k, i * k + k))]++;
    n++;
  });
  if (n === 0) throw new ModelError("Cannot compute metrics: no recordings in the subset");
  return { ...metricsFromConfusion(confusion), n };
}

/**
 * Device-confound check: normal-vs-murmur accuracy within one set (recordings of true class normal
 * or murmur; prediction = the larger of the two class probabilities). Both classes occur in both
 * sets, so a model that only recognised the device would score about the majority share here.
 */
export function normalVsMurmurWithinSet(
  recs: readonly PreparedRecording[],
  probabilities: Float32Array,
  set: "a" | "b",
): { n: number; accuracy: number; balancedAccuracy: number; majorityShare: number } {
  const k = classCount(recs);
  let n = 0, correct = 0, nNormal = 0, okNormal = 0, nMurmur = 0, okMurmur = 0;
  recs.forEach((r, i) => {
    if (r.set !== set || (r.classIndex !== 0 && r.classIndex !== 2)) return;
    const pred = probabilities[i * k + 2] > probabilities[i * k] ? 2 : 0;
    n++;
    if (r.classIndex === 0) {
      nNormal++;
      if (pred === 0) okNormal++;
    } else {
      nMurmur++;
      if (pred === 2) okMurmur++;
    }
    if (pred === r.classIndex) correct++;
  });
  return {
    n,
    accuracy: correct / n,
    balancedAccuracy: (okNormal / nNormal + okMurmur / nMurmur) / 2,
    majorityShare: Math.max(nNormal, nMurmur) / n,
  };
}
