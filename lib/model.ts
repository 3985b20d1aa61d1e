/**
 * Model builders, seeded training, prediction, and save/load in the standard tfjs layers format
 * (model.json + weights.bin, plus preprocessing.json next to them).
 *
 * Models work on flat row-major feature arrays: `x` holds n rows of `numFeatures` values, reshaped
 * to the model's input shape; `y` holds class indices 0..K−1 (0 normal, 1 extrahls, 2 murmur,
 * 3 extrastole; preprocessing.json maps them to label ids 0, 1, 2, 4).
 *
 * {@linkcode predictWaveform} turns one waveform into class probabilities with a model loaded by
 * {@linkcode loadModel}; the model folder's format is lib/model_folder.ts's.
 * @module
 */
import type { LayersModel, Tensor, Variable } from "./deps.ts";
import { ModelError } from "./errors.ts";
import { mulberry32, shuffleInPlace } from "./rng.ts";
import type { Tf } from "./tf.ts";
import {
  concatBytes,
  denoReadFile,
  modelJsonUrl,
  type Preprocessing,
  readModelFolder,
  type WeightSpec,
  writeModelFolder,
} from "./model_folder.ts";
import type { ModelInput } from "./preprocess.ts";
import { meanOfMembers, recordingProbabilities } from "./probabilities.ts";
import type { Stack } from "./stack.ts";
import type { Waveform } from "./types.ts";

export type { LayersModel, WeightSpec };

/** Architecture of a fully connected network (the original project's models). */
export interface FcnnOptions {
  /** Units of each hidden Dense layer, e.g. [128, 64, 32, 16] (original preprocessor 1) or [16, 8] (preprocessor 2). */
  hiddenUnits: number[];
  /** Dense → BatchNorm → ReLU → Dropout, as the original's preprocessor 2. @default {false} */
  batchNorm?: boolean;
  /** Dropout rate after each hidden layer, in [0, 1). @default {0} */
  dropout?: number;
  /** Seed of the glorot-uniform initialisers (layer i uses seed + i). */
  seed: number;
}

/**
 * A fully connected classifier: hidden Dense layers (ReLU; optionally BatchNorm before the
 * activation, Dropout after), then a softmax Dense layer of `numClasses` units. Weights are
 * glorot-uniform with explicit seeds, biases zero, so the same seed gives the same weights.
 * @param tf From {@linkcode loadTf}.
 * @param inputSize Features per row, ≥ 1.
 * @param numClasses Output classes, ≥ 2.
 */
export function buildFcnn(tf: Tf, inputSize: number, numClasses: number, options: FcnnOptions): LayersModel {
  if (!(Number.isInteger(inputSize) && inputSize >= 1)) {
    throw new ModelError(`Cannot build model: input size is ${inputSize}, expected an integer ≥ 1`);
  }
  if (!(Number.isInteger(numClasses) && numClasses >= 2)) {
    throw new ModelError(`Cannot build model: ${numClasses} classes, expected an integer ≥ 2`);
  }
  const dropout = options.dropout ?? 0;
  if (!(dropout >= 0 && dropout < 1)) {
    throw new ModelError(`Cannot build model: dropout is ${dropout}, expected [0, 1)`);
  }
  if (options.hiddenUnits.some((u) => !(Number.isInteger(u) && u >= 1))) {
    throw new ModelError(`Cannot build model: hidden units are [${options.hiddenUnits}], expected integers ≥ 1`);
  }
  const model = tf.sequential();
  let seed = options.seed;
  options.hiddenUnits.forEach((units, i) => {
    model.add(tf.layers.dense({
      ...(i === 0 ? { inputShape: [inputSize] } : {}),
      units,
      useBias: !options.batchNorm,
      kernelInitializer: tf.initializers.glorotUniform({ seed: seed++ }),
      biasInitializer: "zeros",
    }));
    if (options.batchNorm) model.add(tf.layers.batchNormalization({}));
    model.add(tf.layers.activation({ activation: "relu" }));
    if (dropout > 0) model.add(tf.layers.dropout({ rate: dropout }));
  });
  model.add(tf.layers.dense({
    ...(options.hiddenUnits.length === 0 ? { inputShape: [inputSize] } : {}),
    units: numClasses,
    activation: "softmax",
    kernelInitializer: tf.initializers.glorotUniform({ seed: seed++ }),
    biasInitializer: "zeros",
  }));
  return model;
}

/** Per-epoch training record. */
export interface EpochLog {
  /** Mean (class-weighted) training loss over the epoch's batches. */
  loss: number;
  /** (Class-weighted) loss on `validation`, when given. */
  valLoss?: number;
  /** Learning rate used in this epoch. */
  lr: number;
}

/** Options of {@linkcode trainClassifier}. */
export interface TrainOptions {
  /** Maximum number of passes over the data, ≥ 1. */
  epochs: number;
  /** Rows per gradient step, ≥ 1 (the last batch of an epoch may be smaller). */
  batchSize: number;
  /** Adam learning rate, > 0. */
  learningRate: number;
  /** Seeds the per-epoch shuffles, dropout masks and augmentation. */
  seed: number;
  /** Loss weight of each class index (length K); e.g. n / (K · count) for balanced weighting. */
  classWeights?: number[];
  /** Loss: cross-entropy (default) or focal loss with `focalGamma`. */
  loss?: "crossEntropy" | "focal";
  /** Focal-loss exponent γ ≥ 0. @default {2} */
  focalGamma?: number;
  /** Rows carved from the TRAINING data by the caller; drives early stopping and the LR schedule. */
  validation?: { x: Float32Array; y: Int32Array };
  /** Stop after this many epochs without a lower validation loss, restoring the best weights. */
  earlyStoppingPatience?: number;
  /** Multiply the LR by `factor` after `patience` epochs without a lower validation loss (Keras' ReduceLROnPlateau, min_delta 1e-4, cooldown 0). */
  reduceLrOnPlateau?: { patience: number; factor: number; minLr?: number };
  /**
   * Training-only augmentation: called on each batch's rows (a copy, row-major, `rows × numFeatures`)
   * before the gradient step; may change values in place. `rng` is seeded from `seed`.
   */
  augment?: (batch: Float32Array, rows: number, rng: () => number) => void;
  /** Called after each epoch. */
  onEpoch?: (epoch: number, logs: EpochLog) => void;
}

function inputShapeOf(model: LayersModel, numFeatures: number, action: string): number[] {
  const shape = model.inputs[0].shape.slice(1) as (number | null)[];
  if (shape.some((d) => d == null)) throw new ModelError(`Cannot ${action}: model input shape [${shape}] is not fixed`);
  const size = (shape as number[]).reduce((a, b) => a * b, 1);
  if (size !== numFeatures) {
    throw new ModelError(`Cannot ${action}: model takes ${size} features per row, got numFeatures ${numFeatures}`);
  }
  return shape as number[];
}

function checkRows(x: Float32Array, y: Int32Array, numFeatures: number, k: number, what: string): void {
  if (x.length !== y.length * numFeatures) {
    throw new ModelError(`Cannot train model: ${what} x has ${x.length} values, expected ${y.length} × ${numFeatures}`);
  }
  for (let i = 0; i < y.length; i++) {
    if (!(Number.isInteger(y[i]) && y[i] >= 0 && y[i] < k)) {
      throw new ModelError(`Cannot train model: ${what} label ${i} is ${y[i]}, expected 0..${k - 1}`);
    }
  }
}

/**
 * Trains a softmax classifier with Adam in a seeded loop of gradient steps (no `fit`): each epoch
 * shuffles the rows with a PRNG seeded from `seed` and the epoch. Dropout masks draw from tfjs'
 * unseeded generator, which reads `Math.random`; during training `Math.random` is replaced by a
 * seeded generator (and restored afterwards), so two runs with the same seed give identical
 * weights. The loss is (class-weighted) cross-entropy or focal loss, averaged over the batch.
 * With `validation`, early stopping and ReduceLROnPlateau watch the validation loss (with the
 * same class weights), and early stopping restores the best epoch's weights.
 * @param x n × numFeatures, row-major.
 * @param y n class indices 0..K−1.
 */
export async function trainClassifier(
  tf: Tf,
  model: LayersModel,
  x: Float32Array,
  y: Int32Array,
  numFeatures: number,
  options: TrainOptions,
): Promise<{ epochsRun: number; history: EpochLog[] }> {
  const shape = inputShapeOf(model, numFeatures, "train model");
  const k = model.outputs[0].shape[1] as number;
  checkRows(x, y, numFeatures, k, "training");
  if (options.validation) checkRows(options.validation.x, options.validation.y, numFeatures, k, "validation");
  const n = y.length;
  if (n === 0) throw new ModelError("Cannot train model: no training rows");
  if (!(options.batchSize >= 1 && options.epochs >= 1 && options.learningRate > 0)) {
    throw new ModelError(
      `Cannot train model: epochs ${options.epochs}, batch size ${options.batchSize}, learning rate ${options.learningRate}`,
    );
  }
  const weights = options.classWeights ?? new Array(k).fill(1);
  if (weights.length !== k || weights.some((w) => !(w >= 0))) {
    throw new ModelError(`Cannot train model: class weights [${weights}], expected ${k} values ≥ 0`);
  }
  const gamma = options.loss === "focal" ? options.focalGamma ?? 2 : 0;
  const classWeights = tf.tensor1d(weights, "float32");
  const lossOf = (probs: Tensor, labels: Tensor): Tensor =>
    tf.tidy(() => {
      const oneHot = tf.oneHot(labels as never, k).toFloat();
      const p = tf.sum(tf.mul(tf.clipByValue(probs, 1e-7, 1 - 1e-7), oneHot), 1);
      const w = tf.sum(tf.mul(oneHot, classWeights), 1);
      let perRow = tf.mul(w, tf.neg(tf.log(p)));
      if (gamma > 0) perRow = tf.mul(perRow, tf.pow(tf.sub(1, p), gamma));
      return tf.mean(perRow);
    });
  const variables = model.trainableWeights.map((w) => w.read() as Variable);
  const optimizer = tf.train.adam(options.learningRate);
  const rng = mulberry32(options.seed);
  const augmentRng = mulberry32((options.seed ^ 0x5bd1e995) >>> 0);
  const originalRandom = Math.random;
  Math.random = mulberry32((options.seed ^ 0x9e3779b9) >>> 0);
  const history: EpochLog[] = [];
  let lr = options.learningRate;
  let best = Infinity, bestWeights: Tensor[] | null = null, sinceBest = 0, sincePlateau = 0, plateauBest = Infinity;
  const order = Int32Array.from({ length: n }, (_, i) => i);
  const batch = new Float32Array(Math.min(options.batchSize, n) * numFeatures);
  try {
    for (let epoch = 0; epoch < options.epochs; epoch++) {
      shuffleInPlace(order, rng);
      let lossSum = 0;
      for (let start = 0; start < n; start += options.batchSize) {
        const rows = Math.min(options.batchSize, n - start);
        const xb = batch.subarray(0, rows * numFeatures);
        const yb = new Int32Array(rows);
        for (let r = 0; r < rows; r++) {
          const i = order[start + r];
          xb.set(x.subarray(i * numFeatures, (i + 1) * numFeatures), r * numFeatures);
          yb[r] = y[i];
        }
        options.augment?.(xb, rows, augmentRng);
        const xt = tf.tensor(xb, [rows, ...shape], "float32");
        const yt = tf.tensor1d(yb, "int32");
        const loss = optimizer.minimize(
          () => lossOf(model.apply(xt, { training: true }) as Tensor, yt) as never,
          true,
          variables,
        );
        lossSum += (await loss!.data())[0] * rows;
        tf.dispose([xt, yt, loss!]);
        await Promise.resolve();
      }
      const log: EpochLog = { loss: lossSum / n, lr };
      if (options.validation && options.validation.y.length > 0) {
        const { x: vx, y: vy } = options.validation;
        log.valLoss = tf.tidy(() => {
          const probs = model.predict(tf.tensor(vx, [vy.length, ...shape], "float32")) as Tensor;
          return lossOf(probs, tf.tensor1d(vy, "int32")).dataSync()[0];
        });
      }
      history.push(log);
      options.onEpoch?.(epoch, log);
      if (log.valLoss === undefined) continue;
      // Early stopping (best weights kept in memory).
      if (options.earlyStoppingPatience !== undefined) {
        if (log.valLoss < best) {
          best = log.valLoss;
          sinceBest = 0;
          if (bestWeights) tf.dispose(bestWeights);
          bestWeights = model.getWeights().map((w) => tf.keep(w.clone()));
        } else if (++sinceBest >= options.earlyStoppingPatience) {
          break;
        }
      }
      if (options.reduceLrOnPlateau) {
        const { patience, factor, minLr = 0 } = options.reduceLrOnPlateau;
        if (log.valLoss < plateauBest - 1e-4) {
          plateauBest = log.valLoss;
          sincePlateau = 0;
        } else if (++sincePlateau >= patience) {
          lr = Math.max(lr * factor, minLr);
          (optimizer as unknown as { learningRate: number }).learningRate = lr;
          sincePlateau = 0;
        }
      }
    }
    if (bestWeights) model.setWeights(bestWeights);
  } finally {
    Math.random = originalRandom;
    if (bestWeights) tf.dispose(bestWeights);
    optimizer.dispose();
    classWeights.dispose();
  }
  return { epochsRun: history.length, history };
}

/**
 * Class probabilities of each row (inference mode: no dropout, BatchNorm moving statistics).
 * Frees every tensor it makes.
 * @param x n × numFeatures, row-major.
 * @returns n × K probabilities, row-major.
 */
export function predictProbabilities(tf: Tf, model: LayersModel, x: Float32Array, numFeatures: number): Float32Array {
  const shape = inputShapeOf(model, numFeatures, "run model");
  if (x.length % numFeatures !== 0) {
    throw new ModelError(`Cannot run model: ${x.length} values is not a multiple of ${numFeatures} features`);
  }
  const n = x.length / numFeatures;
  const k = model.outputs[0].shape[1] as number;
  if (n === 0) return new Float32Array(0);
  return tf.tidy(() => {
    const out = model.predict(tf.tensor(x, [n, ...shape], "float32"), { batchSize: 256 }) as Tensor;
    const data = out.dataSync() as Float32Array;
    if (data.length !== n * k) throw new ModelError(`Cannot run model: got ${data.length} outputs, expected ${n * k}`);
    return Float32Array.from(data);
  });
}

/** Number of weights (trainable and not, e.g. BatchNorm statistics) in the model. */
export function countParameters(model: LayersModel): number {
  return model.countParams();
}

// ---------------------------------------------------------------------------------------------
// Save / load

/** Options of {@linkcode saveModel}. */
export interface SaveOptions {
  /** Post-training weight quantization, stored with tfjs-converter `quantization` entries that tfjs dequantises on load: "float16" (half precision) or "uint8" (affine per tensor: value ≈ min + q · scale). @default {null} */
  quantization?: "float16" | "uint8" | null;
}

/** Nearest float16 bit pattern of a float32 (round half to even; overflow to ±Inf). */
export function float32ToFloat16Bits(value: number): number {
  const f32 = new Float32Array(1);
  const u32 = new Uint32Array(f32.buffer);
  f32[0] = value;
  const x = u32[0];
  const sign = (x >>> 16) & 0x8000;
  const exp = (x >>> 23) & 0xff;
  let mant = x & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 : 0);
  let e = exp - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00;
  if (e <= 0) {
    if (e < -10) return sign;
    mant |= 0x800000;
    const shift = 14 - e;
    let half = mant >>> shift;
    const rest = mant & ((1 << shift) - 1), mid = 1 << (shift - 1);
    if (rest > mid || (rest === mid && (half & 1))) half++;
    return sign | half;
  }
  let half = (e << 10) | (mant >>> 13);
  const rest = mant & 0x1fff;
  if (rest > 0x1000 || (rest === 0x1000 && (half & 1))) half++;
  e = half >>> 10;
  return sign | half;
}

function quantize(
  values: Float32Array,
  mode: "float16" | "uint8",
): { bytes: Uint8Array; spec: WeightSpec["quantization"] } {
  if (mode === "float16") {
    const out = new Uint16Array(values.length);
    for (let i = 0; i < values.length; i++) out[i] = float32ToFloat16Bits(values[i]);
    return { bytes: new Uint8Array(out.buffer), spec: { dtype: "float16" } };
  }
  let min = Infinity, max = -Infinity;
  for (const v of values) {
    if (v < min) min = v;
    if (v > max) max = v;
  }
  if (values.length === 0) min = max = 0;
  const scale = max > min ? (max - min) / 255 : 1;
  const out = new Uint8Array(values.length);
  for (let i = 0; i < values.length; i++) out[i] = Math.min(255, Math.max(0, Math.round((values[i] - min) / scale)));
  return { bytes: out, spec: { dtype: "uint8", min, scale } };
}

/**
 * Saves `model` to `dir` in the tfjs layers format — model.json (topology + weights manifest) and
 * weights.bin — and writes `preprocessing` as preprocessing.json beside them. Creates `dir`.
 * @returns Total bytes of the three files.
 */
export async function saveModel(
  tf: Tf,
  model: LayersModel,
  dir: string,
  preprocessing: Preprocessing,
  options: SaveOptions = {},
): Promise<{ bytes: number }> {
  const mode = options.quantization ?? null;
  if (mode !== null && mode !== "float16" && mode !== "uint8") {
    throw new ModelError(`Cannot save model: quantization is "${mode}", expected float16, uint8 or null`);
  }
  let bytes = 0;
  await model.save(tf.io.withSaveHandler(async (artifacts) => {
    const specs = artifacts.weightSpecs as WeightSpec[];
    const data = artifacts.weightData instanceof ArrayBuffer
      ? new Uint8Array(artifacts.weightData)
      : new Uint8Array(await new Blob(artifacts.weightData as ArrayBuffer[]).arrayBuffer());
    const parts: Uint8Array[] = [];
    const outSpecs: WeightSpec[] = [];
    let offset = 0;
    for (const spec of specs) {
      const size = spec.shape.reduce((a, b) => a * b, 1);
      const raw = data.slice(offset, offset + 4 * size);
      offset += 4 * size;
      if (mode && spec.dtype === "float32") {
        const q = quantize(new Float32Array(raw.buffer), mode);
        parts.push(q.bytes);
        outSpecs.push({ ...spec, quantization: q.spec });
      } else {
        parts.push(raw);
        outSpecs.push({ ...spec });
      }
    }
    const weights = concatBytes(parts);
    const named = canonicalLayerNames(artifacts.modelTopology as Record<string, unknown>, outSpecs);
    bytes = await writeModelFolder(dir, {
      modelJson: {
        format: "layers-model",
        generatedBy: `TensorFlow.js tfjs-layers v${tf.version.tfjs}`,
        convertedBy: `heartbeat lib/model.ts${mode ? ` (${mode} weight quantization)` : ""}`,
        modelTopology: named.topology,
        weightsManifest: [{ paths: ["weights.bin"], weights: named.specs }],
      },
      weights,
      preprocessing,
    });
    return {
      modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: "JSON", weightDataBytes: weights.length },
    };
  }));
  return { bytes };
}

/**
 * A Sequential topology with its layers named by position and class ("conv1d_1", "batch_normalization_2", …) and
 * the model named "sequential", and the weight specs renamed to match. tfjs names layers from process-wide counters
 * ("conv1d_Conv1D91" after 90 earlier ones), so without this the same training wrote a different model.json
 * depending on how many models the process had built before. Other topologies are returned as they are.
 */
export function canonicalLayerNames(
  topology: Record<string, unknown>,
  specs: WeightSpec[],
): { topology: Record<string, unknown>; specs: WeightSpec[] } {
  const config = topology.config as { name?: string; layers?: { class_name: string; config: { name: string } }[] };
  if (topology.class_name !== "Sequential" || !Array.isArray(config?.layers)) return { topology, specs };
  const renamed = new Map<string, string>();
  const layers = config.layers.map((layer, i) => {
    const name = `${layer.class_name.replace(/([a-z])([A-Z])/g, "$1_$2").toLowerCase()}_${i + 1}`;
    renamed.set(layer.config.name, name);
    return { ...layer, config: { ...layer.config, name } };
  });
  const specsOut = specs.map((spec) => {
    const slash = spec.name.indexOf("/");
    const layer = renamed.get(spec.name.slice(0, slash));
    return layer === undefined ? spec : { ...spec, name: layer + spec.name.slice(slash) };
  });
  return { topology: { ...topology, config: { ...config, name: "sequential", layers } }, specs: specsOut };
}

/**
 * Loads a model saved by {@linkcode saveModel} (or any tfjs layers model with a preprocessing.json
 * beside it). Quantized weights (float16, uint8) are dequantised by tfjs' weight decoder.
 * @param location Folder or model.json as a plain path, file:// URL or http(s):// URL.
 * @throws {ModelError} A file is missing or unreadable, or outputs and labels disagree.
 */
export async function loadModel(
  tf: Tf,
  location: string | URL,
): Promise<{ model: LayersModel; members?: LayersModel[]; preprocessing: Preprocessing }> {
  const url = modelJsonUrl(location);
  const { modelJson, weightSpecs, preprocessing, weightSets } = await readModelFolder(url, denoReadFile);
  const members: LayersModel[] = [];
  try {
    for (const weights of weightSets) {
      members.push(
        await tf.loadLayersModel(tf.io.fromMemory({
          modelTopology: modelJson.modelTopology,
          weightSpecs: weightSpecs as never,
          weightData: weights.slice().buffer,
        })),
      );
    }
  } catch (e) {
    for (const m of members) m.dispose();
    throw new ModelError(`Cannot load model: ${url.href}: ${e instanceof Error ? e.message.split("\n")[0] : e}`);
  }
  const model = members[0];
  const outputs = model.outputs[0].shape.at(-1);
  const labels = (preprocessing as { labels?: unknown }).labels;
  if (!Array.isArray(labels) || labels.length !== outputs) {
    for (const m of members) m.dispose();
    throw new ModelError(
      `Cannot load model: ${url.href} has ${outputs} outputs but preprocessing.json lists ${
        Array.isArray(labels) ? labels.length : "no"
      } labels`,
    );
  }
  return (preprocessing as { members?: unknown }).members
    ? { model, members, preprocessing }
    : { model, preprocessing };
}

/**
 * A recording's class probabilities (lib/probabilities.ts `recordingProbabilities`) from a tfjs model
 * loaded by {@linkcode loadModel}. Frees its tensors.
 * @param tf From {@linkcode loadTf}.
 * @param loaded From {@linkcode loadModel} (a seed ensemble's `members` are averaged), plus the
 *   second stage if the model has one.
 */
export function predictWaveform(
  tf: Tf,
  loaded: { model: LayersModel; members?: LayersModel[]; preprocessing: Preprocessing; stack?: Stack | null },
  wave: Waveform,
): Float32Array {
  const predictors = (loaded.members ?? [loaded.model]).map((model) => (input: ModelInput) =>
    tf.tidy(() => {
      const out = model.predict(tf.tensor(input.data, input.shape, "float32")) as ReturnType<Tf["tensor"]>;
      return Float32Array.from(out.dataSync());
    })
  );
  return recordingProbabilities(wave, loaded.preprocessing, meanOfMembers(predictors), { stack: loaded.stack });
}
