/**
 * Gradient-boosted decision trees: real XGBoost (the C++ library compiled to wasm, npm
 * ml-xgboost 1.1.2) with a softmax multi-class objective.
 *
 * ml-xgboost aborts at import under Deno as packaged: its emscripten pre-JS picks the wasm path
 * with `typeof self === "undefined"` (true in Node, false in Deno, which defines `self`), so in
 * Deno it asks for a relative "xgboost.wasm" and the instantiation fails. {@linkcode loadXgboost}
 * hides `self` (and `WebAssembly.instantiateStreaming`, which cannot take a file path) while the
 * module evaluates, so the loader takes its Node path: an absolute path next to the script, read
 * with node:fs. Both globals are restored before the promise resolves.
 * @module
 */
import { importMlXgboost } from "./deps.ts";
import { ModelError, ParameterError } from "./errors.ts";

/** Options of {@linkcode trainGbdt}. XGBoost names in camelCase. */
export interface GbdtOptions {
  /** Boosting rounds (trees per class). @default {100} */
  numRounds?: number;
  /** Maximum tree depth. @default {4} */
  maxDepth?: number;
  /** Shrinkage `eta`, in (0, 1]. @default {0.1} */
  learningRate?: number;
  /** Row subsample per tree, in (0, 1]. @default {0.8} */
  subsample?: number;
  /** Column subsample per tree, in (0, 1]. @default {0.8} */
  colsampleByTree?: number;
  /** Minimum hessian sum in a leaf. @default {1} */
  minChildWeight?: number;
  /** L2 regularisation on leaf weights. @default {1} */
  lambda?: number;
  /** XGBoost's random seed. */
  seed: number;
}

/** A trained booster. */
export interface GbdtModel {
  numClasses: number;
  numFeatures: number;
  /** n × numClasses probabilities, row-major. */
  predictProbabilities(x: Float32Array): Float32Array;
  /** The booster in XGBoost's binary model format. */
  toBytes(): Uint8Array;
  /** Frees the wasm-side memory (it is not garbage collected). */
  free(): void;
}

interface XgbInstance {
  train(x: number[][], y: number[]): void;
  predict(x: number[][]): number[][] | number[];
  toJSON(): { model: number[] };
  free(): void;
}
type XgbClass = new (options: Record<string, unknown>) => XgbInstance;

let loading: Promise<XgbClass> | undefined;

/** Loads the XGBoost wasm module once per process. */
export function loadXgboost(): Promise<XgbClass> {
  loading ??= (async () => {
    const g = globalThis as Record<string, unknown>;
    const selfDesc = Object.getOwnPropertyDescriptor(globalThis, "self");
    const wasm = WebAssembly as unknown as Record<string, unknown>;
    const streaming = wasm.instantiateStreaming;
    try {
      delete g.self;
      wasm.instantiateStreaming = undefined;
      const mod = await importMlXgboost();
      return await (mod.default as Promise<XgbClass>);
    } catch (e) {
      throw new ModelError(`Cannot load XGBoost wasm: ${e instanceof Error ? e.message : String(e)}`);
    } finally {
      if (selfDesc) Object.defineProperty(globalThis, "self", selfDesc);
      wasm.instantiateStreaming = streaming;
    }
  })();
  return loading;
}

function rows(x: Float32Array, numFeatures: number): number[][] {
  const n = x.length / numFeatures;
  return Array.from({ length: n }, (_, i) => Array.from(x.subarray(i * numFeatures, (i + 1) * numFeatures)));
}

/**
 * Trains an XGBoost `multi:softprob` booster.
 * @param x n × numFeatures row-major features, all finite (this XGBoost build aborts the process on
 *   NaN, so NaN is rejected here: encode missing values as a sentinel such as −999).
 * @param y Class indices 0..numClasses−1, length n.
 */
export async function trainGbdt(
  data: { x: Float32Array; y: Int32Array; numFeatures: number; numClasses: number },
  options: GbdtOptions,
): Promise<GbdtModel> {
  const { x, y, numFeatures, numClasses } = data;
  if (!(numFeatures >= 1) || x.length !== y.length * numFeatures || y.length === 0) {
    throw new ParameterError(`Cannot train GBDT: ${x.length} values for ${y.length} rows of ${numFeatures} features`);
  }
  if (!(numClasses >= 2)) throw new ParameterError(`Cannot train GBDT: numClasses is ${numClasses}, expected ≥ 2`);
  const bad = x.findIndex((v) => !Number.isFinite(v));
  if (bad >= 0) throw new ParameterError(`Cannot train GBDT: feature value ${bad} is ${x[bad]}, expected finite`);
  const XGBoost = await loadXgboost();
  const booster = new XGBoost({
    booster: "gbtree",
    objective: "multi:softprob",
    num_class: numClasses,
    max_depth: options.maxDepth ?? 4,
    eta: options.learningRate ?? 0.1,
    subsample: options.subsample ?? 0.8,
    colsample_bytree: options.colsampleByTree ?? 0.8,
    min_child_weight: options.minChildWeight ?? 1,
    lambda: options.lambda ?? 1,
    seed: options.seed,
    silent: 1,
    iterations: options.numRounds ?? 100,
  });
  booster.train(rows(x, numFeatures), Array.from(y));
  return {
    numClasses,
    numFeatures,
    predictProbabilities(xs: Float32Array): Float32Array {
      const n = xs.length / numFeatures;
      if (!Number.isInteger(n)) {
        throw new ParameterError(`Cannot predict: ${xs.length} values are not rows of ${numFeatures} features`);
      }
      const badAt = xs.findIndex((v) => !Number.isFinite(v));
      if (badAt >= 0) {
        throw new ParameterError(`Cannot predict: feature value ${badAt} is ${xs[badAt]}, expected finite`);
      }
      const out = new Float32Array(n * numClasses);
      if (n === 0) return out;
      const preds = booster.predict(rows(xs, numFeatures)) as number[][];
      for (let i = 0; i < n; i++) for (let c = 0; c < numClasses; c++) out[i * numClasses + c] = preds[i][c];
      return out;
    },
    toBytes: () => Uint8Array.from(booster.toJSON().model, (b) => b & 0xff),
    free: () => booster.free(),
  };
}
