/**
 * The second stage of the shipped classifier, in plain TypeScript (no wasm, no tfjs): an XGBoost
 * tree ensemble over the hand-made features of lib/handfeatures.ts, and the rule that combines its
 * probabilities with the CNN's.
 *
 * - {@linkcode parseXgboostModel} reads a booster saved by lib/gbdt.ts (`GbdtModel.toBytes()`,
 *   XGBoost's legacy binary format) into a {@linkcode TreeEnsemble}; {@linkcode encodeTreeEnsemble}
 *   / {@linkcode decodeTreeEnsemble} store it compactly in JSON (base64 typed arrays).
 * - {@linkcode predictTreeEnsemble} evaluates it as XGBoost does: per class, base score plus the
 *   leaves reached (go left when `x[feature] < threshold`, NaN takes the default branch), softmax.
 * - {@linkcode combineProbabilities}: undo the CNN's baked-in logit adjustment, mix
 *   `w · p_cnn + (1 − w) · p_trees`, then apply the stack's own logit adjustment
 *   (`∝ p · prior^−τ`), and last the calibration of the top probability (lib/calibration.ts). `w` and `τ` were chosen by nested
 *   cross-validation (scripts/train.ts), the temperature fitted on out-of-fold probabilities.
 * - Signal quality ({@linkcode assessQuality}, optional `quality` of stack.json): the probability
 *   that the recording is usable heart sound rather than an artifact (noise, talking, no heart
 *   sound), from a small two-class tree ensemble over the same features; below a threshold chosen
 *   in CV the result says "retake" with the most telling reason.
 * @module
 */
import { applyConfidenceCalibration } from "./calibration.ts";
import { ModelError, ParameterError } from "./errors.ts";
import { HAND_FEATURE_NAMES, type HandFeatureOptions, handFeatures, MISSING_FEATURE } from "./handfeatures.ts";
import type { Waveform } from "./types.ts";
import type { EncodedTreeEnsemble, QualityFile, StackFile, StackParameters } from "./model_folder.ts";

export type { EncodedTreeEnsemble, QualityFile, StackFile, StackParameters };

/** A multi-class tree ensemble (XGBoost `multi:softprob`), nodes of all trees in flat arrays. */
export interface TreeEnsemble {
  numClasses: number;
  numFeatures: number;
  /** Added to every class margin (XGBoost's `base_score`). */
  baseScore: number;
  /** Class whose margin tree t adds to. */
  treeClass: Uint8Array;
  /** Index of tree t's root in the node arrays. */
  treeRoot: Int32Array;
  /** Split feature of each node; −1 for a leaf. */
  feature: Int16Array;
  /** Left / right child, as absolute node indices (−1 for a leaf). */
  left: Int32Array;
  right: Int32Array;
  /** Missing values (NaN) go left. */
  defaultLeft: Uint8Array;
  /** Split threshold (internal node) or leaf value (leaf). */
  value: Float32Array;
}

/** Reads a booster in XGBoost's legacy binary format (as saved by ml-xgboost 1.1.2, XGBoost 0.8x). */
export function parseXgboostModel(bytes: Uint8Array): TreeEnsemble {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let pos = 0;
  const need = (n: number) => {
    if (pos + n > bytes.length) throw new ModelError(`Cannot read XGBoost model: truncated at byte ${pos}`);
  };
  const i32 = () => (need(4), pos += 4, view.getInt32(pos - 4, true));
  const f32 = () => (need(4), pos += 4, view.getFloat32(pos - 4, true));
  const str = () => {
    need(8);
    const n = Number(view.getBigUint64(pos, true));
    pos += 8;
    need(n);
    pos += n;
    return new TextDecoder().decode(bytes.subarray(pos - n, pos));
  };
  if (bytes.length >= 4 && new TextDecoder().decode(bytes.subarray(0, 4)) === "binf") pos = 4;
  // LearnerModelParam: base_score, num_feature, num_class, contain_extra_attrs, contain_eval_metrics, 29 reserved.
  const baseScore = f32(), numFeatures = i32(), numClassParam = i32();
  pos += 31 * 4;
  const objective = str(), booster = str();
  if (booster !== "gbtree") throw new ModelError(`Cannot read XGBoost model: booster is "${booster}", expected gbtree`);
  if (objective !== "multi:softprob" && objective !== "multi:softmax") {
    throw new ModelError(`Cannot read XGBoost model: objective is "${objective}", expected multi:softprob`);
  }
  // GBTreeModelParam: num_trees, num_roots, num_feature, pad, num_pbuffer (int64), num_output_group, size_leaf_vector, 32 reserved.
  const numTrees = i32();
  pos += 3 * 4 + 8;
  const numClasses = i32();
  pos += 33 * 4;
  if (numClasses !== numClassParam || numClasses < 2) {
    throw new ModelError(`Cannot read XGBoost model: ${numClasses} output groups, ${numClassParam} classes`);
  }
  const feature: number[] = [], left: number[] = [], right: number[] = [], defaultLeft: number[] = [];
  const value: number[] = [], treeRoot: number[] = [];
  for (let t = 0; t < numTrees; t++) {
    // TreeParam: num_roots, num_nodes, num_deleted, max_depth, num_feature, size_leaf_vector, 31 reserved.
    i32();
    const numNodes = i32();
    pos += 35 * 4;
    const base = feature.length;
    treeRoot.push(base);
    for (let j = 0; j < numNodes; j++) {
      i32(); // parent
      const cl = i32(), cr = i32();
      need(4);
      const sindex = view.getUint32(pos, true);
      pos += 4;
      const info = f32();
      const leaf = cl === -1;
      feature.push(leaf ? -1 : sindex & 0x7fffffff);
      left.push(leaf ? -1 : base + cl);
      right.push(leaf ? -1 : base + cr);
      defaultLeft.push(sindex >>> 31);
      value.push(info);
    }
    pos += numNodes * 16; // RTreeNodeStat: loss_chg, sum_hess, base_weight, leaf_child_cnt
  }
  const treeClass: number[] = [];
  for (let t = 0; t < numTrees; t++) treeClass.push(i32());
  return {
    numClasses,
    numFeatures,
    baseScore,
    treeClass: Uint8Array.from(treeClass),
    treeRoot: Int32Array.from(treeRoot),
    feature: Int16Array.from(feature),
    left: Int32Array.from(left),
    right: Int32Array.from(right),
    defaultLeft: Uint8Array.from(defaultLeft),
    value: Float32Array.from(value),
  };
}

/**
 * Class probabilities of rows of features, as XGBoost's `multi:softprob` predicts them.
 * @param x `n × numFeatures` row-major.
 * @returns `n × numClasses` row-major; rows sum to 1.
 */
export function predictTreeEnsemble(model: TreeEnsemble, x: Float32Array): Float32Array {
  const { numClasses: k, numFeatures: d } = model;
  if (x.length % d !== 0) {
    throw new ParameterError(`Cannot predict: ${x.length} values are not rows of ${d} features`);
  }
  const n = x.length / d;
  const out = new Float32Array(n * k);
  const margin = new Float32Array(k);
  for (let r = 0; r < n; r++) {
    margin.fill(model.baseScore);
    for (let t = 0; t < model.treeRoot.length; t++) {
      let node = model.treeRoot[t];
      while (model.feature[node] >= 0) {
        const v = x[r * d + model.feature[node]];
        const goLeft = Number.isNaN(v) ? model.defaultLeft[node] === 1 : v < model.value[node];
        node = goLeft ? model.left[node] : model.right[node];
      }
      margin[model.treeClass[t]] += model.value[node];
    }
    let max = -Infinity, sum = 0;
    for (let c = 0; c < k; c++) max = Math.max(max, margin[c]);
    for (let c = 0; c < k; c++) sum += out[r * k + c] = Math.exp(margin[c] - max);
    for (let c = 0; c < k; c++) out[r * k + c] /= sum;
  }
  return out;
}

function toBase64(a: ArrayBufferView): string {
  const b = new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
  let s = "";
  for (let i = 0; i < b.length; i += 0x8000) s += String.fromCharCode(...b.subarray(i, i + 0x8000));
  return btoa(s);
}

/** Decodes a base64 field into whole elements of `bytesPer` bytes; anything else is a ModelError. */
function fromBase64<T>(s: unknown, field: string, bytesPer: number, make: (buffer: ArrayBuffer) => T): T {
  if (typeof s !== "string") throw new ModelError(`Cannot load tree model: ${field} is not a string`);
  let bin: string;
  try {
    bin = atob(s);
  } catch {
    throw new ModelError(`Cannot load tree model: ${field} is not base64`);
  }
  if (bin.length % bytesPer !== 0) {
    throw new ModelError(`Cannot load tree model: ${field} is not whole ${bytesPer}-byte values`);
  }
  const b = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) b[i] = bin.charCodeAt(i);
  return make(b.buffer);
}

/** The `node` code of a leaf in format v3. */
const LEAF = 0xffff;

/** Encodes a tree ensemble for a JSON file (about 8 bytes of base64 per node). */
export function encodeTreeEnsemble(model: TreeEnsemble): EncodedTreeEnsemble {
  const nt = model.treeRoot.length, nn = model.feature.length;
  // A tree has at most nn nodes; more means a cycle. Its size must also fit treeSize's Uint16.
  const maxSize = Math.min(nn, 0xffff);
  const treeSize = new Uint16Array(nt), node: number[] = [], value: number[] = [];
  for (let t = 0; t < nt; t++) {
    const start = node.length, stack = [model.treeRoot[t]];
    while (stack.length > 0) {
      const i = stack.pop()!;
      if (!(i >= 0 && i < nn) || node.length - start === maxSize) {
        throw new ModelError(`Cannot encode tree model: tree ${t} has a bad child index or over ${maxSize} nodes`);
      }
      value.push(model.value[i]);
      const f = model.feature[i];
      if (f < 0) {
        node.push(LEAF);
        continue;
      }
      if (f >= 0x4000) throw new ModelError(`Cannot encode tree model: node ${i} of tree ${t} splits on feature ${f}`);
      node.push(f | (model.defaultLeft[i] ? 0x4000 : 0));
      stack.push(model.right[i], model.left[i]); // left popped first: preorder
    }
    treeSize[t] = node.length - start;
  }
  return {
    format: "xgboost-trees-v3",
    numClasses: model.numClasses,
    numFeatures: model.numFeatures,
    baseScore: model.baseScore,
    numTrees: nt,
    numNodes: node.length,
    treeClass: toBase64(model.treeClass),
    treeSize: toBase64(treeSize),
    node: toBase64(Uint16Array.from(node)),
    value: toBase64(Float32Array.from(value)),
  };
}

/**
 * Builds the nodes of tree `t` (preorder), which must be exactly `root..end − 1`.
 * Children always follow their parent, so the result has no cycles.
 */
function linkTree(
  m: TreeEnsemble,
  node: Uint16Array,
  t: number,
  root: number,
  end: number,
  bad: (what: string) => Error,
): void {
  const open: number[] = []; // splits still waiting for their right child, innermost last
  for (let i = root; i < end; i++) {
    if (i > root) {
      // After a split comes its left child; after a leaf, the right child of the innermost open split.
      if (m.feature[i - 1] >= 0) m.left[i - 1] = i;
      else if (open.length > 0) m.right[open.pop()!] = i;
      else throw bad(`tree ${t} has nodes after its last leaf`);
    }
    const code = node[i];
    if (code === LEAF) {
      m.feature[i] = -1;
      continue;
    }
    if ((code & 0x3fff) >= m.numFeatures || code & 0x8000) throw bad(`node ${i} is malformed`);
    m.feature[i] = code & 0x3fff;
    m.defaultLeft[i] = code & 0x4000 ? 1 : 0;
    open.push(i);
  }
  if (open.length > 0) throw bad(`tree ${t} ends before its splits have children`);
}

/** Decodes {@linkcode encodeTreeEnsemble}'s output, checking every array length and child. */
export function decodeTreeEnsemble(e: EncodedTreeEnsemble): TreeEnsemble {
  if (e?.format !== "xgboost-trees-v3") {
    throw new ModelError(`Cannot load tree model: format is "${e?.format}", expected xgboost-trees-v3`);
  }
  const nt = e.numTrees, nn = e.numNodes;
  const treeClass = fromBase64(e.treeClass, "treeClass", 1, (b) => new Uint8Array(b));
  const treeSize = fromBase64(e.treeSize, "treeSize", 2, (b) => new Uint16Array(b));
  const node = fromBase64(e.node, "node", 2, (b) => new Uint16Array(b));
  const value = fromBase64(e.value, "value", 4, (b) => new Float32Array(b));
  const bad = (what: string) => new ModelError(`Cannot load tree model: ${what} (${nt} trees, ${nn} nodes)`);
  if (treeClass.length !== nt || treeSize.length !== nt || node.length !== nn || value.length !== nn) {
    throw bad("array lengths differ");
  }
  const m: TreeEnsemble = {
    numClasses: e.numClasses,
    numFeatures: e.numFeatures,
    baseScore: e.baseScore,
    treeClass,
    treeRoot: new Int32Array(nt),
    feature: new Int16Array(nn),
    left: new Int32Array(nn).fill(-1),
    right: new Int32Array(nn).fill(-1),
    defaultLeft: new Uint8Array(nn),
    value,
  };
  let root = 0;
  for (let t = 0; t < nt; t++) {
    if (treeClass[t] >= m.numClasses) throw bad(`tree ${t} has class ${treeClass[t]}`);
    m.treeRoot[t] = root;
    const end = root + treeSize[t];
    if (end > nn || treeSize[t] === 0) throw bad(`tree ${t} overruns the nodes`);
    linkTree(m, node, t, root, end, bad);
    root = end;
  }
  if (root !== nn) throw bad("tree sizes do not add up");
  return m;
}

// Signal quality of a recording: the probability that it is usable heart sound rather than an
// artifact (noise, talking, no heart sound), from the same hand features and a small two-class tree
// ensemble. Below the model's threshold the result says "retake", with the most telling reason.

/** What a reason feature says when it is far on its `direction` side of typical heart sound. */
export const QUALITY_REASONS: Readonly<Record<string, { direction: 1 | -1; text: string }>> = {
  confidence: { direction: -1, text: "no clear heartbeat found" },
  flatnessMean: { direction: 1, text: "broadband noise over the heart sounds" },
  bandShare25to50: { direction: 1, text: "low-frequency rumble (movement or handling noise)" },
  centroidMeanHz: { direction: 1, text: "sound above the heart-sound range (speech or friction)" },
  crestFactorDb: { direction: 1, text: "knocks or clicks" },
};

/** A loaded quality model. */
export interface QualityModel {
  trees: TreeEnsemble;
  threshold: number;
  /** Reason features as indices into the hand features. */
  reasons: { index: number; median: number; scale: number; direction: 1 | -1; text: string }[];
}

/** What {@linkcode assessQuality} returns. */
export interface QualityAssessment {
  /** Probability that the recording is usable heart sound, in [0, 1]. */
  quality: number;
  /** True when `quality` is below the model's threshold. */
  retake: boolean;
  /** Why (the reason feature furthest from typical heart sound), when `retake`. */
  reason: string | null;
}

/** Reads a parsed `quality` entry, resolving its reason features against `featureNames`. */
export function loadQuality(file: QualityFile, featureNames: readonly string[]): QualityModel {
  const trees = decodeTreeEnsemble(file?.trees);
  if (trees.numClasses !== 2 || trees.numFeatures !== featureNames.length) {
    throw new ModelError(`Cannot load quality model: ${trees.numClasses} classes, ${trees.numFeatures} features`);
  }
  if (!(file.threshold >= 0 && file.threshold <= 1)) {
    throw new ModelError(`Cannot load quality model: threshold is ${file.threshold}, expected 0..1`);
  }
  const reasons = (file.reasons ?? []).map((r) => {
    const index = featureNames.indexOf(r.feature), known = QUALITY_REASONS[r.feature];
    if (index < 0 || !known || !(r.scale > 0)) {
      throw new ModelError(`Cannot load quality model: reason feature "${r.feature}" is unknown or has no spread`);
    }
    return { index, median: r.median, scale: r.scale, ...known };
  });
  return { trees, threshold: file.threshold, reasons };
}

/**
 * Quality of one recording from its hand features (`handFeatures(wave)`).
 * @param features The recording's hand features, in the model's feature order.
 */
export function assessQuality(model: QualityModel, features: Float32Array): QualityAssessment {
  const quality = predictTreeEnsemble(model.trees, features)[0];
  if (!(quality < model.threshold)) return { quality, retake: false, reason: null };
  let best: string | null = null, bestZ = 1; // at least one spread beyond the median
  for (const r of model.reasons) {
    const v = features[r.index];
    const z = v === MISSING_FEATURE ? (r.direction < 0 ? Infinity : -Infinity) : r.direction * (v - r.median) / r.scale;
    if (z > bestZ) [best, bestZ] = [r.text, z];
  }
  return { quality, retake: true, reason: best ?? "it does not sound like a heart-sound recording" };
}

/** Rescales each row of `p` by `f` and renormalises, in place. */
function rescaleRows(p: Float32Array, k: number, f: number[]): Float32Array {
  for (let r = 0; r < p.length / k; r++) {
    let sum = 0;
    for (let c = 0; c < k; c++) sum += p[r * k + c] *= f[c];
    for (let c = 0; c < k; c++) p[r * k + c] /= sum;
  }
  return p;
}

/**
 * Combines per-recording CNN and tree probabilities (see the module doc).
 * @param cnn `n × k` CNN probabilities (as the shipped CNN outputs them, its τ included).
 * @param trees `n × k` probabilities of {@linkcode predictTreeEnsemble}.
 * @returns `n × k` combined probabilities; rows sum to 1.
 */
export function combineProbabilities(cnn: Float32Array, trees: Float32Array, stack: StackParameters): Float32Array {
  const k = stack.prior.length;
  if (cnn.length !== trees.length || cnn.length % k !== 0) {
    throw new ParameterError(`Cannot combine probabilities: ${cnn.length} CNN and ${trees.length} tree values`);
  }
  const cnnPrior = stack.cnnPrior ?? stack.prior;
  const raw = rescaleRows(Float32Array.from(cnn), k, cnnPrior.map((q) => q ** stack.cnnTau));
  const mix = new Float32Array(cnn.length);
  for (let i = 0; i < mix.length; i++) mix[i] = stack.cnnWeight * raw[i] + (1 - stack.cnnWeight) * trees[i];
  const adjusted = rescaleRows(mix, k, stack.prior.map((q) => q ** -stack.tau));
  return stack.calibration ? applyConfidenceCalibration(adjusted, k, stack.calibration) : adjusted;
}

/** The loaded second stage: a tree ensemble over hand features and the combination rule. */
export interface Stack {
  trees: TreeEnsemble;
  parameters: StackParameters;
  /** The signal-quality model, when the file has one. */
  quality?: QualityModel | null;
}

/** Reads a parsed stack.json (lib/model_folder.ts `readModelFolder`), checking it against lib/handfeatures.ts. */
export function loadStack(file: StackFile, featureNames: readonly string[] = HAND_FEATURE_NAMES): Stack {
  if (file?.version !== 1) throw new ModelError(`Cannot load stack: version is ${file?.version}, expected 1`);
  if (file.featureNames.join() !== featureNames.join()) {
    throw new ModelError(`Cannot load stack: its ${file.featureNames.length} feature names differ from the library's`);
  }
  const cal = file.parameters?.calibration;
  if (cal !== undefined && !(Number.isFinite(cal?.slope) && Number.isFinite(cal?.intercept))) {
    throw new ModelError(
      `Cannot load stack: calibration is ${JSON.stringify(cal)}, expected a finite slope and intercept`,
    );
  }
  const trees = decodeTreeEnsemble(file.trees);
  if (trees.numFeatures !== featureNames.length || trees.numClasses !== file.parameters.prior.length) {
    throw new ModelError(`Cannot load stack: ${trees.numFeatures} tree features, ${trees.numClasses} classes`);
  }
  const quality = file.quality ? loadQuality(file.quality, featureNames) : null;
  return { trees, parameters: file.parameters, quality };
}

/**
 * The full second stage for one recording: hand features of `wave`, tree probabilities, and the
 * combination with the CNN's recording-level probabilities (mean over its windows).
 * @param wave The recording, any sample rate (the same waveform the CNN saw).
 * @param cnnProbabilities The CNN's `k` recording-level probabilities.
 * @param options Passed to `handFeatures` (e.g. heart sounds already detected in `wave`).
 * @returns `k` combined probabilities.
 */
export function stackProbabilities(
  stack: Stack,
  wave: Waveform,
  cnnProbabilities: Float32Array,
  options: HandFeatureOptions = {},
): Float32Array {
  return runStack(stack, wave, cnnProbabilities, options).probabilities;
}

/**
 * {@linkcode stackProbabilities}, plus the recording's signal quality when the stack has a quality
 * model (null otherwise); both from one computation of the hand features.
 */
export function runStack(
  stack: Stack,
  wave: Waveform,
  cnnProbabilities: Float32Array,
  options: HandFeatureOptions = {},
): { probabilities: Float32Array; quality: QualityAssessment | null } {
  const features = handFeatures(wave, options);
  const trees = predictTreeEnsemble(stack.trees, features);
  return {
    probabilities: combineProbabilities(cnnProbabilities, trees, stack.parameters),
    quality: stack.quality ? assessQuality(stack.quality, features) : null,
  };
}
