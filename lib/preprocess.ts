/**
 * Waveform → model input, exactly as a model's preprocessing.json defines; used identically by
 * training code (lib/cnn.ts, lib/experiments.ts) and inference (lib/infer.ts).
 *
 * Kinds:
 * - `"frame-features"`: the original's preprocessor 2. Per-frame (dominant frequency, magnitude)
 *   pairs ({@linkcode dominantFrequencyFeatures}) → cut or aligned-and-zero-padded onto the stored
 *   reference (lib/align.ts, `"both"`) → per-position standard scaling. One row per recording.
 * - `"logmel-windows"`: resample to `targetSampleRate` → Butterworth band-pass → log-mel frames
 *   → fixed windows of `windowFrames` frames every `hopFrames` (a recording shorter than one
 *   window is repeated to fill it) → each window standardised by its own mean and standard
 *   deviation (gain-invariant). One row per window; a recording's class probabilities are the
 *   mean of its windows' probabilities (`aggregation: "mean-probability"`).
 *
 * For app developers: {@linkcode classifyWaveform} is the one call from a waveform to class
 * probabilities for a model from {@linkcode loadModel}.
 * @module
 */
import { createAligner, sequenceFromFeatures } from "./align.ts";
import type { Aligner, Sequence } from "./align.ts";
import { ModelError, ParameterError } from "./errors.ts";
import { dominantFrequencyFeatures, type FrameFeatureMethod } from "./features.ts";
import { bandpass } from "./filter.ts";
import { logMelSpectrogram, type MelFilterBank, melFilterBank } from "./mel.ts";
import { resampleWaveform } from "./resample.ts";
import { assertValidAudio, stft } from "./stft.ts";
import type { Waveform } from "./types.ts";
import { classifyWithStack, type Stack } from "./stack.ts";
import { HAND_FEATURE_BAND_HZ, HAND_FEATURE_RATE } from "./handfeatures.ts";
import type { HeartSounds } from "./beats.ts";
import type { LayersModel } from "./model.ts";
import type { Tf } from "./tf.ts";

/** Version of the preprocessing.json format written by this module. */
export const PREPROCESSING_VERSION = 1;

/** Class names in model output order, and their dataset label ids. */
export const LABELS = ["normal", "extrahls", "murmur", "extrastole"] as const;
export const LABEL_IDS = [0, 1, 2, 4] as const;

/** Fields every preprocessing.json has. */
export interface PreprocessingBase {
  /** {@linkcode PREPROCESSING_VERSION}. */
  version: number;
  /** Class names in model output order. */
  labels: string[];
  /** Dataset label id of each output (normal 0, extrahls 1, murmur 2, extrastole 4). */
  labelIds: number[];
  /** How window rows become one recording's probabilities: mean of the rows' probabilities, or a single row. */
  aggregation: "mean-probability" | "single";
  /** Rate the audio is resampled to first, Hz; null keeps each file's native rate. */
  targetSampleRate: number | null;
}

/** The original's preprocessor 2 (alignment padding + per-position scaling). */
export interface FrameFeaturesPreprocessing extends PreprocessingBase {
  kind: "frame-features";
  aggregation: "single";
  /** Frame duration target, s (0.01 "small", 0.001 "main"). */
  deltaTimeS: number;
  method: FrameFeatureMethod;
  /** Alignment reference, frame-major (Hz, magnitude) pairs; its length fixes the input size. */
  reference: number[];
  /** Values per frame in `reference` (2). */
  channels: number;
  /** Per-position means and scales (length = reference length), applied as (x − mean) / scale. */
  means: number[];
  scales: number[];
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
   * quantization, of a CNN trained with another seed; the model's window probabilities are their mean
   * ({@linkcode meanOfMembers}). Absent: model.json's weights alone.
   */
  members?: string[];
}

/** preprocessing.json's pointer to a second stage (lib/stack.ts `loadStack`, `classifyWithStack`). */
export interface StackReference {
  /** "hand-features-xgboost": XGBoost trees over lib/handfeatures.ts features, mixed with the CNN. */
  kind: "hand-features-xgboost";
  /** The stack file, relative to preprocessing.json (a lib/stack.ts `StackFile`). */
  file: string;
}

/** A model's preprocessing.json. */
export type Preprocessing = FrameFeaturesPreprocessing | LogmelWindowsPreprocessing;

/** Model input: `shape[0]` rows (windows or recordings), each `shape.slice(1)` values, row-major. */
export interface ModelInput {
  data: Float32Array;
  shape: number[];
  /** Where each row's window lies in the recording, in seconds ("logmel-windows" only): `[startS, endS]` per row. */
  windowsS?: [number, number][];
}

/** Default log-mel window parameters (2 kHz, 25–900 Hz, 16 bands, 40 ms hop, 3 s windows, 1.5 s hop). */
export function defaultLogmelPreprocessing(
  overrides: Partial<LogmelWindowsPreprocessing> = {},
): LogmelWindowsPreprocessing {
  return {
    version: PREPROCESSING_VERSION,
    kind: "logmel-windows",
    labels: [...LABELS],
    labelIds: [...LABEL_IDS],
    aggregation: "mean-probability",
    targetSampleRate: 2000,
    bandpassHz: [25, 900],
    nFft: 128,
    hopLength: 80,
    nMels: 16,
    fMinHz: 25,
    fMaxHz: 900,
    windowFrames: 75,
    hopFrames: 38,
    maxWindows: 0,
    ...overrides,
  };
}

const aligners = new WeakMap<object, Aligner>();
const banks = new WeakMap<object, MelFilterBank>();

/** Features per row for a preprocessing (the model's input size). */
export function inputSize(preprocessing: Preprocessing): number {
  if (preprocessing.kind === "frame-features") return preprocessing.reference.length;
  if (preprocessing.kind === "logmel-windows") return preprocessing.windowFrames * preprocessing.nMels;
  throw new ModelError(
    `Cannot preprocess audio: unknown preprocessing kind "${(preprocessing as { kind: string }).kind}"`,
  );
}

/** Log-mel frames of a whole recording (resampled, band-passed), frame-major `numFrames × nMels`. */
export function logmelFrames(
  wave: Waveform,
  p: LogmelWindowsPreprocessing,
): { data: Float32Array; numFrames: number } {
  return logmelFramesOfBandpassed(logmelBandpassed(wave, p), p);
}

/** The first steps of {@linkcode logmelFrames}: resampled to `targetSampleRate` and band-passed. */
export function logmelBandpassed(wave: Waveform, p: LogmelWindowsPreprocessing): Waveform {
  const w = wave.sampleRate === p.targetSampleRate ? wave : resampleWaveform(wave, p.targetSampleRate);
  const minLength = 6 * 4 + 3 + 1;
  if (w.samples.length < Math.max(minLength, p.nFft)) {
    throw new ParameterError(
      `Cannot preprocess audio: ${wave.samples.length} samples at ${wave.sampleRate} Hz is too short`,
    );
  }
  return bandpass(w, { lowHz: p.bandpassHz[0], highHz: p.bandpassHz[1] });
}

/** The rest of {@linkcode logmelFrames}: STFT → mel bands → dB, of {@linkcode logmelBandpassed}'s output. */
export function logmelFramesOfBandpassed(
  w: Waveform,
  p: LogmelWindowsPreprocessing,
): { data: Float32Array; numFrames: number } {
  const spec = stft(w, { nFft: p.nFft, hopLength: p.hopLength });
  let bank = banks.get(p);
  if (!bank) {
    bank = melFilterBank({
      sampleRate: p.targetSampleRate,
      nFft: p.nFft,
      nMels: p.nMels,
      fMinHz: p.fMinHz,
      fMaxHz: p.fMaxHz,
    });
    banks.set(p, bank);
  }
  const mel = logMelSpectrogram(spec, { filterBank: bank, amin: 1e-10 });
  return { data: mel.data, numFrames: mel.numFrames };
}

/** Cuts frame-major log-mel frames into standardised windows (see the module doc). */
export function windowsFromFrames(
  frames: { data: Float32Array; numFrames: number },
  p: LogmelWindowsPreprocessing,
): ModelInput {
  const { nMels, windowFrames: wf, hopFrames } = p;
  let { data, numFrames } = frames;
  const frameS = p.hopLength / p.targetSampleRate;
  const recordingS = numFrames * frameS; // a short recording's one window is the recording itself
  if (numFrames < wf) {
    const tiled = new Float32Array(wf * nMels);
    for (let t = 0; t < wf; t++) {
      tiled.set(data.subarray((t % numFrames) * nMels, (t % numFrames + 1) * nMels), t * nMels);
    }
    data = tiled;
    numFrames = wf;
  }
  let starts: number[] = [];
  for (let s = 0; s + wf <= numFrames; s += hopFrames) starts.push(s);
  const last = numFrames - wf;
  if (starts.at(-1)! < last && last - starts.at(-1)! >= hopFrames / 2) starts.push(last);
  if (p.maxWindows > 0 && starts.length > p.maxWindows) {
    const m = p.maxWindows;
    starts = Array.from({ length: m }, (_, i) => starts[Math.round((i * (starts.length - 1)) / Math.max(1, m - 1))]);
  }
  const size = wf * nMels;
  const out = new Float32Array(starts.length * size);
  for (let r = 0; r < starts.length; r++) {
    const from = starts[r] * nMels, to = from + size;
    let mean = 0;
    for (let i = from; i < to; i++) mean += data[i];
    mean /= size;
    let variance = 0;
    for (let i = from; i < to; i++) {
      const d = data[i] - mean;
      variance += d * d;
    }
    const scale = Math.sqrt(variance / size) || 1;
    for (let i = 0; i < size; i++) out[r * size + i] = (data[from + i] - mean) / scale;
  }
  const windowsS = starts.map((st): [number, number] => [st * frameS, Math.min(recordingS, (st + wf) * frameS)]);
  return { data: out, shape: [starts.length, wf, nMels], windowsS };
}

/**
 * Turns a waveform into model input as `preprocessing` defines (see the module doc).
 * @param wave Mono samples (any rate), all finite.
 * @returns Rows first: `[windows, windowFrames, nMels]` for "logmel-windows",
 *   `[1, referenceLength]` for "frame-features".
 * @throws {ParameterError} Invalid or too short audio. {@link ModelError} Unknown kind.
 */
export function preprocess(wave: Waveform, preprocessing: Preprocessing): ModelInput {
  return preprocessKeepingSignal(wave, preprocessing).input;
}

/** {@linkcode preprocess}, and for "logmel-windows" also the resampled, band-passed signal the input came from. */
function preprocessKeepingSignal(
  wave: Waveform,
  preprocessing: Preprocessing,
): { input: ModelInput; filtered?: Waveform } {
  assertValidAudio(wave, "preprocess audio");
  const p = preprocessing;
  if (p.kind === "logmel-windows") {
    const filtered = logmelBandpassed(wave, p);
    return { input: windowsFromFrames(logmelFramesOfBandpassed(filtered, p), p), filtered };
  }
  if (p.kind === "frame-features") {
    const w = p.targetSampleRate == null || p.targetSampleRate === wave.sampleRate
      ? wave
      : resampleWaveform(wave, p.targetSampleRate);
    const f = dominantFrequencyFeatures(w.samples, w.sampleRate, p.deltaTimeS, p.method);
    let aligner = aligners.get(p);
    if (!aligner) {
      const reference: Sequence = { data: Float32Array.from(p.reference), channels: p.channels };
      aligner = createAligner(reference);
      aligners.set(p, aligner);
    }
    const padded = aligner.alignAndPad(sequenceFromFeatures(f.frequencyHz, f.magnitude), "both").padded.data;
    const out = new Float32Array(padded.length);
    for (let i = 0; i < out.length; i++) out[i] = (padded[i] - p.means[i]) / (p.scales[i] || 1);
    return { input: { data: out, shape: [1, out.length] } };
  }
  throw new ModelError(`Cannot preprocess audio: unknown preprocessing kind "${(p as { kind: string }).kind}"`);
}

/** Mean of `rows` probability rows (`rows × k`, row-major) → k probabilities. */
export function aggregateProbabilities(probabilities: Float32Array, rows: number, k: number): Float32Array {
  const out = new Float32Array(k);
  if (rows === 0) return out;
  for (let r = 0; r < rows; r++) for (let j = 0; j < k; j++) out[j] += probabilities[r * k + j];
  for (let j = 0; j < k; j++) out[j] /= rows;
  return out;
}

/**
 * The weight files of a seed ensemble's members (preprocessing.json `members`), checked: a
 * non-empty list of distinct relative file names. `null` for a model of one CNN.
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
 * The weights of every CNN of a model: model.json's own (`own`, already read from `own.paths`) for a
 * single CNN, else each seed-ensemble member's file (preprocessing.json `members`, relative to
 * `modelUrl`), checked to have model.json's layout (its byte length). A member naming model.json's
 * own weight file reuses those bytes instead of reading them again.
 * @throws {ModelError} `members` is malformed or a member's size differs; `readFile`'s errors as they are.
 */
export async function readMemberWeights(
  preprocessing: Preprocessing,
  modelUrl: URL,
  own: { paths: readonly string[]; weights: Uint8Array },
  readFile: (url: URL) => Promise<Uint8Array>,
): Promise<Uint8Array[]> {
  let files: string[] | null;
  try {
    files = memberWeightFiles(preprocessing);
  } catch (error) {
    throw new ModelError(`${(error as Error).message} (${modelUrl.href})`);
  }
  if (!files) return [own.weights];
  const ownUrl = own.paths.length === 1 ? new URL(own.paths[0], modelUrl).href : null;
  return await Promise.all(files.map(async (file) => {
    const url = new URL(file, modelUrl);
    const bytes = url.href === ownUrl ? own.weights : await readFile(url);
    if (bytes.length !== own.weights.length) {
      throw new ModelError(
        `Cannot load model: member ${file} of ${modelUrl.href} has ${bytes.length} bytes of weights, model.json's layout ${own.weights.length}`,
      );
    }
    return bytes;
  }));
}

/**
 * A seed ensemble's prediction: the mean of its members' `rows × k` probabilities, row by row
 * (so a recording's mean over windows equals the mean of the members' recording probabilities).
 * One member is returned as is.
 */
export function meanOfMembers(
  members: readonly ((input: ModelInput) => Float32Array)[],
): (input: ModelInput) => Float32Array {
  if (members.length === 1) return members[0];
  return (input) => {
    const sum = Float32Array.from(members[0](input));
    for (let m = 1; m < members.length; m++) {
      const probs = members[m](input);
      if (probs.length !== sum.length) {
        throw new ModelError(`Cannot classify audio: ensemble members gave ${sum.length} and ${probs.length} outputs`);
      }
      for (let i = 0; i < sum.length; i++) sum[i] += probs[i];
    }
    for (let i = 0; i < sum.length; i++) sum[i] /= members.length;
    return sum;
  };
}

/** Options of {@linkcode classifyWithModel}. */
export interface ClassifyWithModelOptions {
  /** The second stage, when the model has one (lib/stack.ts `loadStackFor`). */
  stack?: Stack | null;
  /** `detectHeartSounds(wave)` when the caller has it already (the second stage's rhythm features). */
  heartSounds?: HeartSounds;
}

/**
 * One recording → class probabilities (in `preprocessing.labels` order) with any model runner:
 * {@linkcode preprocess}, `predict` every row, then aggregate as `preprocessing.aggregation` says
 * (mean of the windows' probabilities). With `options.stack` (for a preprocessing.json with a
 * `stack` entry), those CNN probabilities are then combined with the second stage's
 * (`classifyWithStack`).
 * @param predict Rows → `rows × labels` probabilities (tfjs `model.predict`, or lib/forward.ts).
 * @throws {ModelError} The model's output does not have one probability per row and label.
 */
export function classifyWithModel(
  wave: Waveform,
  preprocessing: Preprocessing,
  predict: (input: ModelInput) => Float32Array,
  options: ClassifyWithModelOptions = {},
): Float32Array {
  return classifyWithModelWindows(wave, preprocessing, predict, options).probabilities;
}

/** The model's probabilities for each window of one recording, before they are averaged. */
export interface WindowProbabilities {
  /** `[startS, endS]` of each window, in seconds from the start of the recording. */
  windowsS: [number, number][];
  /** `windows × labels` probabilities, row-major, in `preprocessing.labels` order. */
  probabilities: Float32Array;
}

/**
 * {@linkcode classifyWithModel}, also returning the first stage's probabilities of each window (the timeline of a
 * result); a "frame-features" model has one window, the whole recording.
 */
export function classifyWithModelWindows(
  wave: Waveform,
  preprocessing: Preprocessing,
  predict: (input: ModelInput) => Float32Array,
  options: ClassifyWithModelOptions = {},
): { probabilities: Float32Array; windows: WindowProbabilities } {
  const p = preprocessing;
  const { input, filtered } = preprocessKeepingSignal(wave, p);
  // The second stage's hand features start with the same filter on the same signal: hand it over.
  const sameFilter = p.kind === "logmel-windows" && p.targetSampleRate === HAND_FEATURE_RATE &&
    wave.sampleRate === HAND_FEATURE_RATE && p.bandpassHz[0] === HAND_FEATURE_BAND_HZ[0] &&
    p.bandpassHz[1] === HAND_FEATURE_BAND_HZ[1];
  const bandpassed = sameFilter ? filtered?.samples : undefined;
  const rows = input.shape[0];
  const k = p.labels.length;
  const probs = predict(input);
  if (probs.length !== rows * k || input.data.length === 0) {
    throw new ModelError(`Cannot classify audio: model gave ${probs.length} outputs for ${rows} rows of ${k} classes`);
  }
  const cnn = aggregateProbabilities(probs, rows, k);
  const probabilities = options.stack
    ? classifyWithStack(options.stack, wave, cnn, { heartSounds: options.heartSounds, bandpassed })
    : cnn;
  const windowsS = input.windowsS ?? [[0, wave.samples.length / wave.sampleRate]];
  return { probabilities, windows: { windowsS, probabilities: probs } };
}

/**
 * {@linkcode classifyWithModel} with a tfjs model loaded by {@linkcode loadModel}. Frees its tensors.
 * @param tf From {@linkcode loadTf}.
 * @param loaded From {@linkcode loadModel} (a seed ensemble's `members` are averaged), plus the
 *   second stage if the model has one.
 */
export function classifyWaveform(
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
  return classifyWithModel(wave, loaded.preprocessing, meanOfMembers(predictors), { stack: loaded.stack });
}
