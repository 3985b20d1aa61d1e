/**
 * The model folder format, read and written in one place (platform-neutral except
 * {@linkcode writeModelFolder}, which needs `Deno`):
 *
 * - model.json: a tfjs layers model (`modelTopology`, `weightsManifest`), its weights in the files
 *   the manifest names, concatenated in manifest order ({@linkcode WeightSpec} gives each tensor's layout).
 * - preprocessing.json: how a waveform becomes model input ({@linkcode Preprocessing}), the class
 *   labels, and optional pointers to seed-ensemble `members` (weight files in model.json's layout)
 *   and a second `stack` (stack.json, {@linkcode StackFile}).
 *
 * Every file a folder names is resolved by {@linkcode resolveInside}, so that checks on file
 * references live in one function.
 * @module
 */
import { fileErrorText, notRegularFileText } from "./deno_files.ts";
import { ModelError } from "./errors.ts";
import { checkModelJson, checkPreprocessing, checkStackFile, MAX_JSON_BYTES } from "./model_schema.ts";
import { sha256Hex } from "./sha256.ts";

/**
 * Reads one file of a model folder by URL and returns its bytes. `maxBytes`: the most the file may have; a reader
 * should refuse a larger file before reading it (readModelFolder checks the sizes it got either way).
 */
export type ReadFile = (url: URL, maxBytes?: number) => Promise<Uint8Array>;

/** One tensor of a weights manifest (tfjs-converter conventions). */
export interface WeightSpec {
  /** `<layer name>/<weight name>`, e.g. "conv1d_1/kernel". */
  name: string;
  shape: number[];
  /** "float32", "int32" or "bool" (lib/forward.ts reads "float32" only). */
  dtype: string;
  /** Stored form: float16, or uint8/uint16 with value = q · scale + min. Absent: as `dtype`. */
  quantization?: { dtype: string; min?: number; scale?: number };
}

/** One group of model.json's `weightsManifest`: weight files, and the tensors they hold in order. */
export interface WeightsGroup {
  paths: string[];
  weights: WeightSpec[];
}

/** A tfjs layers-format model.json. */
export interface ModelJson {
  format?: string;
  generatedBy?: string;
  convertedBy?: string;
  modelTopology: Record<string, unknown>;
  weightsManifest: WeightsGroup[];
}

/** Version of the preprocessing.json format. */
export const PREPROCESSING_VERSION = 1;

/** Fields every preprocessing.json has. */
export interface PreprocessingBase {
  /** {@linkcode PREPROCESSING_VERSION}. */
  version: number;
  /** Class names in model output order. */
  labels: string[];
  /** Dataset label id of each output (normal 0, extrahls 1, murmur 2, extrastole 4). */
  labelIds: number[];
  /** How window rows become one recording's probabilities: the mean of the rows' probabilities. */
  aggregation: "mean-probability";
  /** Rate the audio is resampled to first, Hz; null keeps each file's native rate. */
  targetSampleRate: number | null;
  /** The model's name, shown in every result ({@linkcode ModelIdentity}); default {@linkcode UNNAMED_MODEL}. */
  name?: string;
  /** The model's own version (not the format's `version`); default {@linkcode UNVERSIONED_MODEL}. */
  modelVersion?: string;
}

/** Log-mel windows for the CNN. */
export interface LogmelWindowsPreprocessing extends PreprocessingBase {
  kind: "logmel-windows";
  aggregation: "mean-probability";
  targetSampleRate: number;
  /** Band-pass edges, Hz (4th-order Butterworth, zero phase). */
  bandpassHz: [number, number];
  nFft: number;
  hopLength: number;
  nMels: number;
  fMinHz: number;
  fMaxHz: number;
  /** Frames per window (the model's time axis). */
  windowFrames: number;
  /** Frames between window starts. */
  hopFrames: number;
  /** At most this many windows per recording (evenly spread); 0 = all. */
  maxWindows: number;
  /** A second stage to combine with the CNN's recording probabilities (lib/stack.ts). */
  stack?: StackReference;
  /**
   * A seed ensemble: the weight files of its CNNs (relative to model.json; the first is the one
   * model.json's weightsManifest names). Every file holds the same weights, in model.json's layout and
   * quantization, of a CNN trained with another seed; the model's window probabilities are their mean.
   * Absent: model.json's weights alone.
   */
  members?: string[];
}

/** preprocessing.json's pointer to a second stage (lib/stack.ts). */
export interface StackReference {
  /** "hand-features-xgboost": XGBoost trees over lib/handfeatures.ts features, mixed with the CNN. */
  kind: "hand-features-xgboost";
  /** The stack file, relative to preprocessing.json ({@linkcode StackFile}). */
  file: string;
}

/** A model's preprocessing.json. */
export type Preprocessing = LogmelWindowsPreprocessing;

/** How the CNN's and the trees' probabilities are combined (the `stack` entry of preprocessing.json). */
export interface StackParameters {
  /** Class shares of the training data, in output order (the prior of the logit adjustments). */
  prior: number[];
  /** The logit adjustment τ already baked into the CNN's output bias (undone before mixing). */
  cnnTau: number;
  /** The prior that adjustment used (the CNN's training-window class shares); default `prior`. */
  cnnPrior?: number[];
  /** Weight of the CNN in the mix, in [0, 1]; the trees get 1 − w. */
  cnnWeight: number;
  /** Logit adjustment applied to the mix: probabilities ∝ p · prior^−τ. */
  tau: number;
  /**
   * Calibration applied last (lib/calibration.ts top-label logistic: the top probability c becomes
   * σ(slope · logit(c) + intercept), the others share the rest), fitted on out-of-fold probabilities
   * so that confidence matches accuracy; absent = none. Never changes the class.
   */
  calibration?: { slope: number; intercept: number };
}

/**
 * A tree ensemble (lib/stack.ts `TreeEnsemble`) as JSON: typed arrays as little-endian base64, 6 bytes per node.
 * Each tree's nodes are stored in preorder (node, its left subtree, its right subtree), so the
 * structure is implied by which nodes are leaves; `node` and `value` follow that order.
 */
export interface EncodedTreeEnsemble {
  format: "xgboost-trees-v3";
  numClasses: number;
  numFeatures: number;
  baseScore: number;
  numTrees: number;
  numNodes: number;
  /** Uint8 per tree: its class. */
  treeClass: string;
  /** Uint16 per tree: its node count. */
  treeSize: string;
  /**
   * Uint16 per node in preorder: `feature | 0x4000·defaultLeft` for a split, 0xFFFF for a
   * leaf; a split's left child is the next node, its right child the node after its left subtree.
   */
  node: string;
  /** Float32 per node (in `node`'s order): threshold or leaf value. */
  value: string;
}

/** The quality model as stored (models/stack.json `quality`). */
export interface QualityFile {
  /** Two classes: 0 usable heart sound, 1 artifact. */
  trees: EncodedTreeEnsemble;
  /** Quality below this (probability of usable heart sound) gives a "retake" warning; chosen in CV. */
  threshold: number;
  /** Per reason feature (a key of lib/stack.ts `QUALITY_REASONS`): median and spread (IQR) over heart-sound recordings. */
  reasons: { feature: string; median: number; scale: number }[];
}

/** The second stage's file (models/stack.json). */
export interface StackFile {
  version: 1;
  /** Names of the hand features, in order (must equal lib/handfeatures.ts HAND_FEATURE_NAMES). */
  featureNames: string[];
  parameters: StackParameters;
  trees: EncodedTreeEnsemble;
  /** Signal quality (usable heart sound vs artifact) from the same features; optional. */
  quality?: QualityFile;
}

/** Which model made a result: preprocessing.json's `name` and `modelVersion`, and a hash of the folder's files. */
export interface ModelIdentity {
  /** E.g. "heartbeat-default"; {@linkcode UNNAMED_MODEL} when preprocessing.json has no `name`. */
  name: string;
  /** E.g. "5"; {@linkcode UNVERSIONED_MODEL} when preprocessing.json has no `modelVersion`. */
  version: string;
  /** {@linkcode modelHash} of every file the model folder names: 16 hex digits. */
  hash: string;
}

/** {@linkcode ModelIdentity.name} of a model whose preprocessing.json names none. */
export const UNNAMED_MODEL = "unnamed";
/** {@linkcode ModelIdentity.version} of a model whose preprocessing.json gives none. */
export const UNVERSIONED_MODEL = "unversioned";

/**
 * Content hash of a model folder: SHA-256 over its files in code-unit order of their paths (relative to
 * model.json), each as `path \n byteLength \n bytes`, truncated to its first 16 hex digits (64 bits). Any
 * change to any file, or to which files there are, changes it.
 * @param files Relative path → contents, every file the folder names (model.json, preprocessing.json, the
 *   weight files, seed-ensemble members, stack.json).
 */
export function modelHash(files: ReadonlyMap<string, Uint8Array>): string {
  const encoder = new TextEncoder();
  const parts: Uint8Array[] = [];
  for (const path of [...files.keys()].sort()) {
    const bytes = files.get(path)!;
    parts.push(encoder.encode(`${path}\n${bytes.length}\n`), bytes);
  }
  return sha256Hex(concatBytes(parts)).slice(0, 16);
}

function identityText(preprocessing: Preprocessing, key: "name" | "modelVersion", fallback: string): string {
  const value: unknown = preprocessing[key];
  if (value === undefined) return fallback;
  if (typeof value !== "string" || value.trim() === "" || value.length > 100) {
    throw new ModelError(`Cannot load model: preprocessing.json "${key}" must be a short non-empty string`);
  }
  return value;
}

/** Everything a model folder holds, read and checked by {@linkcode readModelFolder}. */
export interface ModelFolder {
  /** URL of model.json (the folder's files resolve against it). */
  modelUrl: URL;
  /** The model's name, version and content hash. */
  identity: ModelIdentity;
  modelJson: ModelJson;
  /** The tensors of the weight files, in order (every group's `weights`, concatenated). */
  weightSpecs: WeightSpec[];
  preprocessing: Preprocessing;
  /** The weights of each CNN: model.json's own for one CNN, else one per seed-ensemble member. */
  weightSets: Uint8Array[];
  /** The parsed stack.json when preprocessing.json points to one, else null. */
  stack: StackFile | null;
}

/** A relative path a model folder may name: "/"-separated names of letters, digits, "_", "-", "+", inner dots and
 * spaces; none starts with a dot (so no ".." or "."). */
const INSIDE_PATH = /^(?!.*(?:^|\/)\.)[\w+-][\w+. -]*(?:\/[\w+-][\w+. -]*)*$/;

/**
 * The URL of `relativePath` inside the folder of `folderUrl` (a URL of a file in the folder): a folder may come
 * from anywhere, so what it names must stay in it. Only plain names pass (see {@linkcode INSIDE_PATH}): no URL,
 * no absolute path, no ".." or "." segment, no backslash (file: URLs read it as "/"), no "%" (an encoded "." or
 * "\\"), no "?" or "#"; and the URL made must have the folder's origin and path as its prefix.
 * @param field How errors name where the path came from, e.g. `preprocessing.json: members[1]`.
 * @throws {ModelError} The path does not name a file inside the folder (the error does not read it).
 */
export function resolveInside(folderUrl: URL, relativePath: unknown, field = "a file name"): URL {
  const folder = new URL(".", folderUrl);
  const url = typeof relativePath === "string" && relativePath.length <= 200 && INSIDE_PATH.test(relativePath)
    ? new URL(relativePath, folder)
    : null;
  if (url === null || url.origin !== folder.origin || !url.pathname.startsWith(folder.pathname) || url.search) {
    const shown = JSON.stringify(relativePath) ?? String(relativePath);
    throw new ModelError(
      `Cannot load model: ${field} ${shown.length > 80 ? `${shown.slice(0, 77)}...` : shown} is not a file inside ` +
        `the model folder ${folder.href}`,
    );
  }
  return url;
}

/**
 * A path, file: URL or http(s):// URL of a model folder (or of its model.json) → URL of model.json.
 * Relative paths resolve against the working directory (Deno only); backslashes and drive letters are
 * read as Windows paths.
 */
export function modelJsonUrl(location: string | URL): URL {
  let url: URL;
  if (location instanceof URL) url = new URL(location.href);
  else if (/^[a-z][a-z0-9+.-]+:\/\//i.test(location) || location.startsWith("file:")) url = new URL(location);
  else url = pathToFileUrl(location);
  if (!url.pathname.endsWith(".json")) {
    url.pathname = url.pathname.endsWith("/") ? `${url.pathname}model.json` : `${url.pathname}/model.json`;
  }
  return url;
}

function pathToFileUrl(path: string): URL {
  let absolute = path;
  if (!/^([a-z]:)?[\\/]/i.test(path)) {
    const cwd = (globalThis as { Deno?: { cwd(): string } }).Deno?.cwd();
    if (cwd === undefined) {
      throw new ModelError(`Cannot load model: "${path}" is a relative path and there is no working directory`);
    }
    absolute = `${cwd}/${path}`;
  }
  const normalised = absolute.replaceAll("\\", "/");
  return new URL(
    `file://${normalised.startsWith("/") ? "" : "/"}${
      encodeURI(normalised).replaceAll("#", "%23").replaceAll("?", "%3F")
    }`,
  );
}

/** The error of a model file larger than `maxBytes`. */
function tooLarge(url: URL, size: number, maxBytes: number): ModelError {
  return new ModelError(`Cannot load model: ${url.href}: has ${size} bytes, more than the ${maxBytes} expected`);
}

/**
 * The default {@linkcode ReadFile}: `fetch` (Deno's also reads file: URLs), failures as one-line ModelErrors. A
 * response longer than `maxBytes` (by its Content-Length, or as it streams) is refused before it is all read.
 */
export async function fetchBytes(url: URL, maxBytes = Infinity): Promise<Uint8Array> {
  let response: Response;
  try {
    response = await fetch(url);
  } catch (error) {
    throw new ModelError(`Cannot load model: ${url.href}: ${firstLine(error)}`);
  }
  if (!response.ok) {
    await response.body?.cancel();
    throw new ModelError(`Cannot load model: ${url.href}: HTTP ${response.status}`);
  }
  const declared = Number(response.headers.get("content-length") ?? NaN);
  if (declared > maxBytes) {
    await response.body?.cancel();
    throw tooLarge(url, declared, maxBytes);
  }
  if (!response.body) return new Uint8Array(0);
  const parts: Uint8Array[] = [];
  let size = 0;
  try {
    for await (const part of response.body) {
      size += part.length;
      if (size > maxBytes) throw tooLarge(url, size, maxBytes);
      parts.push(part);
    }
  } catch (error) {
    if (error instanceof ModelError) throw error;
    throw new ModelError(`Cannot load model: ${url.href}: ${firstLine(error)}`);
  }
  return concatBytes(parts);
}

/**
 * A {@linkcode ReadFile} for Deno: file: URLs with `Deno.readFile` (no fetch machinery to start), others fetched.
 * A file is stat'ed first: only a regular file of at most `maxBytes` is read (a FIFO would block, a device never
 * end).
 */
export async function denoReadFile(url: URL, maxBytes = Infinity): Promise<Uint8Array> {
  if (url.protocol !== "file:") return await fetchBytes(url, maxBytes);
  try {
    const info = await Deno.stat(url);
    const notRegular = notRegularFileText(info);
    if (notRegular) throw new ModelError(`Cannot load model: ${url.href}: ${notRegular}`);
    if (info.size > maxBytes) throw tooLarge(url, info.size, maxBytes);
    return await Deno.readFile(url);
  } catch (error) {
    if (error instanceof ModelError) throw error;
    throw new ModelError(`Cannot load model: ${url.href}: ${fileErrorText(error)}`);
  }
}

/** The first line of an error's message, for one-line ModelErrors. */
export function firstLine(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  return text.split("\n")[0].trim() || "unknown error";
}

/** `parts` end to end in one new array. */
export function concatBytes(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, part) => n + part.length, 0));
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}

/** The JSON object in `bytes`; an error names the file but quotes none of it (it may not be a model file at all). */
function parseJsonObject(bytes: Uint8Array, url: URL): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(new TextDecoder().decode(bytes));
  } catch {
    throw new ModelError(`Cannot load model: ${url.href}: not valid JSON`);
  }
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    throw new ModelError(`Cannot load model: ${url.href}: not a JSON object`);
  }
  return value as Record<string, unknown>;
}

async function readJson(url: URL, readFile: ReadFile): Promise<Record<string, unknown>> {
  const bytes = await readFile(url, MAX_JSON_BYTES);
  if (bytes.length > MAX_JSON_BYTES) throw tooLarge(url, bytes.length, MAX_JSON_BYTES);
  return parseJsonObject(bytes, url);
}

/**
 * The seed-ensemble members' weight files (preprocessing.json `members`), checked: a non-empty list of
 * distinct file names. `null` for a model of one CNN.
 * @throws {ModelError} `members` is present but malformed.
 */
export function memberWeightFiles(preprocessing: Preprocessing): string[] | null {
  const members = (preprocessing as { members?: unknown }).members;
  if (members === undefined) return null;
  if (
    !Array.isArray(members) || members.length === 0 ||
    !members.every((m) => typeof m === "string" && m !== "" && !m.includes("/")) ||
    new Set(members).size !== members.length
  ) {
    throw new ModelError(
      `Cannot load model: preprocessing.json "members" must be a list of distinct file names, got ${
        JSON.stringify(members)
      }`,
    );
  }
  return members;
}

/**
 * Reads and checks a model folder: model.json and preprocessing.json, then (at once) the weight files,
 * the seed-ensemble members' files and stack.json. A member naming model.json's own weight file reuses
 * those bytes.
 * @param modelUrl URL of model.json.
 * @param readFile Reads one file; its errors pass through as they are.
 * @throws {ModelError} A file is not JSON, model.json is not a layers model, preprocessing.json has no
 *   labels, `members` is malformed or a member's size differs from model.json's layout, a file reference
 *   leaves the folder.
 */
export async function readModelFolder(modelUrl: URL, readFile: ReadFile = fetchBytes): Promise<ModelFolder> {
  // every file read, by path relative to model.json, for the content hash
  const folderHref = new URL(".", modelUrl).href;
  const files = new Map<string, Uint8Array>();
  const readAndKeep: ReadFile = async (url, maxBytes) => {
    const bytes = await readFile(url, maxBytes);
    files.set(url.href.startsWith(folderHref) ? url.href.slice(folderHref.length) : url.href, bytes);
    return bytes;
  };
  const ppUrl = resolveInside(modelUrl, "preprocessing.json");
  // read at once; of two failures, model.json's is reported (the one the user named)
  const reads = await Promise.allSettled([readJson(modelUrl, readAndKeep), readJson(ppUrl, readAndKeep)]);
  for (const read of reads) if (read.status === "rejected") throw read.reason;
  const [modelJson, ppJson] = reads.map((read) => (read as PromiseFulfilledResult<Record<string, unknown>>).value);
  checkPreprocessing(ppJson, ppUrl.href);
  const preprocessing = ppJson as unknown as Preprocessing;
  const weightBytes = checkModelJson(modelJson, modelUrl.href);
  const manifest = modelJson.weightsManifest as WeightsGroup[];
  const ref = (preprocessing as { stack?: StackReference }).stack;
  const stackLoading = ref
    ? readStackFile(ref, ppUrl, readAndKeep, preprocessing.labels.length)
    : Promise.resolve(null);
  stackLoading.catch(() => {}); // awaited below
  let members: string[] | null;
  try {
    members = memberWeightFiles(preprocessing);
  } catch (error) {
    throw new ModelError(`${(error as Error).message} (${modelUrl.href})`);
  }
  const ownUrls = manifest.flatMap((group, i) =>
    group.paths.map((path, j) => resolveInside(modelUrl, path, `${modelUrl.href}: weightsManifest[${i}].paths[${j}]`))
  );
  const memberUrls = (members ?? []).map((file, i) => resolveInside(modelUrl, file, `${ppUrl.href}: members[${i}]`));
  const ownHref = ownUrls.length === 1 ? ownUrls[0].href : null;
  const [own, ...others] = await Promise.all([
    Promise.all(ownUrls.map((url) => readAndKeep(url, weightBytes))).then(concatBytes),
    ...memberUrls.map((url) => url.href === ownHref ? Promise.resolve(null) : readAndKeep(url, weightBytes)),
  ]);
  if (own.length !== weightBytes) {
    throw new ModelError(
      `Cannot load model: ${modelUrl.href}: its weight files have ${own.length} bytes, its manifest's shapes need ` +
        `${weightBytes}`,
    );
  }
  const weightSets = members === null ? [own] : others.map((bytes, m) => {
    const weights = bytes ?? own;
    if (weights.length !== own.length) {
      throw new ModelError(
        `Cannot load model: member ${
          members![m]
        } of ${modelUrl.href} has ${weights.length} bytes of weights, model.json's layout ${own.length}`,
      );
    }
    return weights;
  });
  const stack = await stackLoading;
  const identity: ModelIdentity = {
    name: identityText(preprocessing, "name", UNNAMED_MODEL),
    version: identityText(preprocessing, "modelVersion", UNVERSIONED_MODEL),
    hash: modelHash(files),
  };
  return {
    modelUrl,
    identity,
    modelJson: modelJson as unknown as ModelJson,
    weightSpecs: manifest.flatMap((group) => group.weights),
    preprocessing,
    weightSets,
    stack,
  };
}

async function readStackFile(ref: StackReference, ppUrl: URL, readFile: ReadFile, classes: number): Promise<StackFile> {
  const url = resolveInside(ppUrl, ref.file, `${ppUrl.href}: stack.file`);
  const stack = await readJson(url, readFile);
  checkStackFile(stack, url.href, classes);
  return stack as unknown as StackFile;
}

/** What {@linkcode writeModelFolder} writes. */
export interface ModelFolderContents {
  modelJson: ModelJson;
  /** The weights model.json's manifest names (one file, weights.bin). */
  weights: Uint8Array;
  preprocessing: Preprocessing;
}

/**
 * Writes model.json, weights.bin and preprocessing.json into `dir` (created if needed). model.json's
 * manifest must name weights.bin alone.
 * @returns Total bytes written.
 */
export async function writeModelFolder(dir: string, contents: ModelFolderContents): Promise<number> {
  const paths = contents.modelJson.weightsManifest.flatMap((group) => group.paths);
  if (paths.length !== 1 || paths[0] !== "weights.bin") {
    throw new ModelError(`Cannot save model: the manifest names ${paths.join(", ")}, expected weights.bin`);
  }
  const json = new TextEncoder().encode(JSON.stringify(contents.modelJson));
  const pre = new TextEncoder().encode(JSON.stringify(contents.preprocessing, null, 1) + "\n");
  await Deno.mkdir(dir, { recursive: true });
  await Deno.writeFile(`${dir}/model.json`, json);
  await Deno.writeFile(`${dir}/weights.bin`, contents.weights);
  await Deno.writeFile(`${dir}/preprocessing.json`, pre);
  return json.length + contents.weights.length + pre.length;
}

/**
 * Writes a seed ensemble's extra members as weights-1.bin, weights-2.bin, … into `dir` (beside
 * member 0's model folder), and removes member files beyond these. The caller checks each member
 * has model.json's layout.
 * @returns Bytes written.
 */
export async function writeMemberWeights(dir: string, members: readonly Uint8Array[]): Promise<number> {
  let bytes = 0;
  for (const [j, weights] of members.entries()) {
    await Deno.writeFile(`${dir}/weights-${j + 1}.bin`, weights);
    bytes += weights.length;
  }
  for (const entry of Deno.readDirSync(dir)) {
    const m = /^weights-(\d+)\.bin$/.exec(entry.name);
    if (m && Number(m[1]) > members.length) await Deno.remove(`${dir}/${entry.name}`);
  }
  return bytes;
}
