/**
 * The schema of a model folder's JSON files (model.json, preprocessing.json, stack.json), checked when a model is
 * loaded: a model folder may come from anywhere, so every field the code reads is checked for type and range before
 * it sizes an allocation or a loop. Each problem is one line, "Cannot load model: <file>: <field> <problem>".
 * Fields the code does not read pass unchecked, so a newer model's extra fields still load.
 * @module
 */
import { ModelError } from "./errors.ts";

/** The lowest model rate: heart sounds and murmurs reach 400–600 Hz. */
const MIN_MODEL_RATE_HZ = 1000;
/** The highest model rate: a stethoscope's 48 kHz (higher only multiplies the work). */
const MAX_MODEL_RATE_HZ = 48000;
/** Bytes all of a CNN's weights may take (the shipped CNN's take about 7 kB). */
export const MAX_WEIGHT_BYTES = 256 << 20;
/** Bytes a model folder's JSON file may have (the shipped stack.json has 60 kB). */
export const MAX_JSON_BYTES = 64 << 20;
/** Bytes per stored value of each weight dtype (a quantization's dtype, else the weight's). */
const DTYPE_BYTES: Readonly<Record<string, number>> = {
  float32: 4,
  int32: 4,
  bool: 1,
  float16: 2,
  uint8: 1,
  uint16: 2,
};

type Json = Record<string, unknown>;

/** A value as an error shows it: JSON, cut short. */
function shown(value: unknown): string {
  const text = value === undefined ? "missing" : typeof value === "number"
    ? String(value) // JSON would show Infinity (a parsed 1e999) as null
    : JSON.stringify(value) ?? String(value);
  return text.length > 40 ? `${text.slice(0, 37)}...` : text;
}

/** Checks of one file's fields; `fail` throws the one-line ModelError. */
class Fields {
  constructor(readonly file: string) {}

  fail(field: string, problem: string): never {
    throw new ModelError(`Cannot load model: ${this.file}: ${field} ${problem}`);
  }

  expected(field: string, value: unknown, what: string): never {
    return this.fail(field, `is ${shown(value)}, expected ${what}`);
  }

  object(value: unknown, field: string): Json {
    if (value === null || typeof value !== "object" || Array.isArray(value)) this.expected(field, value, "an object");
    return value as Json;
  }

  /** A finite number in [min, max] (an integer when `integer`). */
  number(value: unknown, field: string, min: number, max: number, integer = false): number {
    const ok = typeof value === "number" && Number.isFinite(value) && value >= min && value <= max &&
      (!integer || Number.isInteger(value));
    if (!ok) this.expected(field, value, `${integer ? "an integer" : "a number"} in ${min} … ${max}`);
    return value as number;
  }

  string(value: unknown, field: string, maxLength = 100): string {
    if (typeof value !== "string" || value === "" || value.length > maxLength) {
      this.expected(field, value, `a non-empty string of at most ${maxLength} characters`);
    }
    return value as string;
  }

  oneOf<T extends string>(value: unknown, field: string, choices: readonly T[]): T {
    if (!choices.includes(value as T)) this.expected(field, value, choices.map((c) => JSON.stringify(c)).join(" or "));
    return value as T;
  }

  /** An array of `min` … `max` items (exactly `min` when `max` is omitted). */
  array(value: unknown, field: string, min: number, max = min): unknown[] {
    if (!Array.isArray(value)) this.expected(field, value, "a list");
    const list = value as unknown[];
    if (list.length < min || list.length > max) {
      this.fail(field, `has ${list.length} items, expected ${min === max ? min : `${min} … ${max}`}`);
    }
    return list;
  }

  /** A class distribution: `length` positive numbers summing to 1. */
  distribution(value: unknown, field: string, length: number): number[] {
    const list = this.array(value, field, length).map((p, i) => this.number(p, `${field}[${i}]`, 1e-9, 1));
    const sum = list.reduce((a, b) => a + b, 0);
    if (Math.abs(sum - 1) > 1e-3) this.fail(field, `sums to ${sum.toPrecision(4)}, expected 1`);
    return list;
  }
}

/**
 * Checks preprocessing.json (lib/model_folder.ts `Preprocessing`): the kind, labels, and the log-mel and window
 * sizes within ranges that bound the work per second of audio.
 * @param file How errors name the file.
 * @throws {ModelError} The first problem found.
 */
export function checkPreprocessing(value: unknown, file: string): void {
  const f = new Fields(file);
  const p = f.object(value, "the file");
  f.number(p.version, "version", 1, 1, true);
  f.oneOf(p.kind, "kind", ["logmel-windows"]);
  const labels = f.array(p.labels, "labels", 2, 256).map((l, i) => f.string(l, `labels[${i}]`));
  if (new Set(labels).size !== labels.length) f.fail("labels", "has a name twice");
  if (p.labelIds !== undefined) {
    const ids = f.array(p.labelIds, "labelIds", labels.length).map((id, i) =>
      f.number(id, `labelIds[${i}]`, 0, 1e6, true)
    );
    if (new Set(ids).size !== ids.length) f.fail("labelIds", "has an id twice");
  }
  if (p.aggregation !== undefined) f.oneOf(p.aggregation, "aggregation", ["mean-probability"]);
  if (p.name !== undefined) f.string(p.name, "name");
  if (p.modelVersion !== undefined) f.string(p.modelVersion, "modelVersion");
  const rate = f.number(p.targetSampleRate, "targetSampleRate", MIN_MODEL_RATE_HZ, MAX_MODEL_RATE_HZ);
  const nyquist = rate / 2;
  const band = f.array(p.bandpassHz, "bandpassHz", 2);
  const low = f.number(band[0], "bandpassHz[0]", 1, nyquist);
  f.number(band[1], "bandpassHz[1]", low, nyquist);
  if (!(band[1] as number > low)) f.fail("bandpassHz", "must have its low edge below its high edge");
  const nFft = f.number(p.nFft, "nFft", 4, 8192, true);
  if ((nFft & (nFft - 1)) !== 0) f.expected("nFft", nFft, "a power of two");
  // overlap of at most 7/8 keeps the frames per second of audio within 8 per FFT length
  f.number(p.hopLength, "hopLength", Math.max(1, Math.ceil(nFft / 8)), nFft, true);
  f.number(p.nMels, "nMels", 1, Math.min(256, nFft / 2 + 1), true);
  const fMin = f.number(p.fMinHz, "fMinHz", 0, nyquist);
  f.number(p.fMaxHz, "fMaxHz", fMin, nyquist);
  if (!((p.fMaxHz as number) > fMin)) f.fail("fMaxHz", "must be above fMinHz");
  const windowFrames = f.number(p.windowFrames, "windowFrames", 1, 10000, true);
  // windows overlapping by at most 15/16 keep the CNN's work within 16 passes over the recording
  f.number(p.hopFrames, "hopFrames", Math.max(1, Math.ceil(windowFrames / 16)), 10000, true);
  f.number(p.maxWindows, "maxWindows", 0, 1e6, true);
  if (p.members !== undefined) {
    const members = f.array(p.members, "members", 1, 64).map((m, i) => f.string(m, `members[${i}]`, 200));
    if (new Set(members).size !== members.length) f.fail("members", "has a file twice");
  }
  if (p.stack !== undefined) {
    const stack = f.object(p.stack, "stack");
    f.oneOf(stack.kind, "stack.kind", ["hand-features-xgboost"]);
    f.string(stack.file, "stack.file", 200);
  }
}

/**
 * Checks model.json's manifest (every tensor's shape, dtype and quantization) and returns the bytes its weights
 * take, so that the weight files' sizes are checked before a tensor is allocated.
 * @throws {ModelError} The first problem found, or weights over {@linkcode MAX_WEIGHT_BYTES}.
 */
export function checkModelJson(value: unknown, file: string): number {
  const f = new Fields(file);
  const m = f.object(value, "the file");
  f.object(m.modelTopology, "modelTopology");
  let bytes = 0;
  f.array(m.weightsManifest, "weightsManifest", 1, 1000).forEach((g, i) => {
    const group = f.object(g, `weightsManifest[${i}]`);
    f.array(group.paths, `weightsManifest[${i}].paths`, 1, 1000)
      .forEach((path, j) => f.string(path, `weightsManifest[${i}].paths[${j}]`, 200));
    f.array(group.weights, `weightsManifest[${i}].weights`, 0, 100000).forEach((w, j) => {
      const field = `weightsManifest[${i}].weights[${j}]`;
      const spec = f.object(w, field);
      f.string(spec.name, `${field}.name`, 200);
      const dtype = f.oneOf(spec.dtype, `${field}.dtype`, ["float32", "int32", "bool"]);
      let stored: string = dtype;
      if (spec.quantization !== undefined) {
        const q = f.object(spec.quantization, `${field}.quantization`);
        stored = f.oneOf(q.dtype, `${field}.quantization.dtype`, ["float16", "uint8", "uint16"]);
        if (stored !== "float16") {
          f.number(q.min, `${field}.quantization.min`, -Number.MAX_VALUE, Number.MAX_VALUE);
          f.number(q.scale, `${field}.quantization.scale`, -Number.MAX_VALUE, Number.MAX_VALUE);
        }
      }
      let count = 1;
      f.array(spec.shape, `${field}.shape`, 0, 8).forEach((d, k) => {
        count *= f.number(d, `${field}.shape[${k}]`, 0, MAX_WEIGHT_BYTES, true);
      });
      bytes += count * DTYPE_BYTES[stored];
      if (bytes > MAX_WEIGHT_BYTES) f.fail(`${field}.shape`, `makes the weights larger than ${MAX_WEIGHT_BYTES} bytes`);
    });
  });
  return bytes;
}

/** Characters of base64 text that encode `bytes` bytes. */
function base64Length(bytes: number): number {
  return 4 * Math.ceil(bytes / 3);
}

/**
 * Checks stack.json (lib/model_folder.ts `StackFile`): the mixing parameters against the model's class count, and
 * the tree arrays' declared counts against their encoded lengths, before anything is decoded.
 * @param classes The model's class count (preprocessing.json `labels`).
 * @throws {ModelError} The first problem found.
 */
export function checkStackFile(value: unknown, file: string, classes: number): void {
  const f = new Fields(file);
  const s = f.object(value, "the file");
  f.number(s.version, "version", 1, 1, true);
  const names = f.array(s.featureNames, "featureNames", 1, 10000).map((n, i) => f.string(n, `featureNames[${i}]`));
  const p = f.object(s.parameters, "parameters");
  f.distribution(p.prior, "parameters.prior", classes);
  if (p.cnnPrior !== undefined) f.distribution(p.cnnPrior, "parameters.cnnPrior", classes);
  f.number(p.cnnTau, "parameters.cnnTau", -10, 10);
  f.number(p.tau, "parameters.tau", -10, 10);
  f.number(p.cnnWeight, "parameters.cnnWeight", 0, 1);
  if (p.calibration !== undefined) {
    const c = f.object(p.calibration, "parameters.calibration");
    f.number(c.slope, "parameters.calibration.slope", -100, 100);
    f.number(c.intercept, "parameters.calibration.intercept", -100, 100);
  }
  checkTrees(f, s.trees, "trees", classes, names.length);
  if (s.quality !== undefined) {
    const q = f.object(s.quality, "quality");
    checkTrees(f, q.trees, "quality.trees", 2, names.length);
    f.number(q.threshold, "quality.threshold", 0, 1);
    f.array(q.reasons, "quality.reasons", 0, 100).forEach((value, i) => {
      const r = f.object(value, `quality.reasons[${i}]`);
      f.string(r.feature, `quality.reasons[${i}].feature`);
      f.number(r.median, `quality.reasons[${i}].median`, -1e9, 1e9);
      f.number(r.scale, `quality.reasons[${i}].scale`, 1e-12, 1e9);
    });
  }
}

/** Checks an encoded tree ensemble's counts against `classes`, `features` and its base64 lengths. */
function checkTrees(f: Fields, value: unknown, field: string, classes: number, features: number): void {
  const t = f.object(value, field);
  f.oneOf(t.format, `${field}.format`, ["xgboost-trees-v3"]);
  f.number(t.numClasses, `${field}.numClasses`, classes, classes, true);
  f.number(t.numFeatures, `${field}.numFeatures`, features, features, true);
  f.number(t.baseScore, `${field}.baseScore`, -1e6, 1e6);
  const trees = f.number(t.numTrees, `${field}.numTrees`, 1, 1e6, true);
  const nodes = f.number(t.numNodes, `${field}.numNodes`, trees, 1e7, true);
  const arrays = [["treeClass", trees], ["treeSize", 2 * trees], ["node", 2 * nodes], ["value", 4 * nodes]] as const;
  for (const [name, bytes] of arrays) {
    const text = t[name];
    if (typeof text !== "string") f.expected(`${field}.${name}`, text, "base64 text");
    if ((text as string).length !== base64Length(bytes)) {
      f.fail(
        `${field}.${name}`,
        `has ${(text as string).length} characters, expected ${base64Length(bytes)} for its count`,
      );
    }
  }
}
