/**
 * The heart-sound classifier, platform-neutral (no `Deno.*`): it runs unchanged in Deno, Node.js
 * and browsers. Give it samples or WAV bytes; it returns the class, the four class probabilities and
 * the heart rate.
 *
 * ```ts
 * const classifier = await loadClassifier(); // the shipped model, loaded once per process
 * const result = classifier.classifyWav(wavBytes);
 * console.log(result.label, result.confidence, result.heartRateBpm);
 * ```
 * @module
 */
import { ModelError, ParameterError } from "./errors.ts";
import { assertValidAudio, type Waveform } from "./types.ts";
import { readWav, readWavHeader } from "./wav.ts";
import { detectHeartSoundsWithEnvelope, type Envelope, type HeartSounds } from "./beats.ts";
import { irregularRhythmFromEnvelope } from "./rhythm.ts";
import type { WindowProbabilities } from "./probabilities.ts";
import { resampleWaveform } from "./resample.ts";
import type { LayersModel } from "./model.ts";
import { fetchBytes, firstLine, type ModelIdentity, readModelFolder } from "./model_folder.ts";

export type { ModelIdentity } from "./model_folder.ts";
import type { Tf } from "./tf.ts";
import type { QualityAssessment } from "./stack.ts";

import { displayName } from "./classes.ts";
export { CLASS_NAMES, CLASSES, type ClassInfo, type ClassName, LABEL_IDS } from "./classes.ts";

/** One probability per class of the model (its `labels()`, in that order); they sum to 1. */
export type ClassProbabilities = Record<string, number>;

/** What {@linkcode HeartSoundClassifier.classify} returns for one recording. */
export interface ClassifyResult {
  /**
   * The class: one of the model's `labels()` (the shipped model's {@linkcode ClassName}s), the most probable one,
   * except that "extrastole" stands only where `irregularRhythm` finds a premature beat; otherwise the next most
   * probable class is given (a regular recording called extrastole is a false alarm).
   */
  label: string;
  /** Its label id from preprocessing.json `labelIds` (shipped model: normal 0, extrahls 1, murmur 2, extrastole 4). */
  labelId: number;
  /** Probability of `label`, in [0, 1]. */
  confidence: number;
  /** Every class's probability. */
  probabilities: ClassProbabilities;
  /** Estimated heart rate in beats per minute, or null when no heart rate could be found (or `beats: false`). */
  heartRateBpm: number | null;
  /** Onset times of the first heart sounds (S1), in seconds from the start; empty when unknown. */
  s1TimesS: number[];
  /** Onset times of the second heart sounds (S2), in seconds from the start; empty when unknown. */
  s2TimesS: number[];
  /** Length of the recording, in seconds. */
  durationS: number;
  /** Sample rate of the input, in Hz (the model resamples to its own rate). */
  sampleRate: number;
  /**
   * Signal quality: the probability that the recording is usable heart sound rather than noise,
   * talking or no heart sound, in [0, 1]; null when the model has no quality model. Below the
   * model's threshold `warnings` starts with "retake: <reason>" (the class is still given).
   */
  quality: number | null;
  /** Reasons to distrust this result ("retake: …", low confidence, very quiet recording), each saying what to do; empty
   * when none. */
  warnings: string[];
  /**
   * Where in the recording the model heard what: the first stage's class probabilities of each window it scored
   * (3 s windows every 1.5 s for the shipped model; one window for a recording shorter than that), in time order.
   * The recording's `probabilities` are their mean, combined with the second stage's when the model has one.
   */
  timeline: TimelineWindow[];
  /** Premature beats found from the heart sounds alone (lib/rhythm.ts); null with `beats: false`. */
  irregularRhythm: IrregularRhythmResult | null;
  /** The model that made this result: its name, version and content hash (the same object for every result). */
  model: ModelIdentity;
}

/** One window of {@linkcode ClassifyResult.timeline}. */
export interface TimelineWindow {
  /** Start of the window, in seconds from the start of the recording. */
  startS: number;
  /** End of the window, in seconds (at most the recording's length). */
  endS: number;
  /** The most probable class in this window (one of the model's `labels()`). */
  label: string;
  /** Every class's probability in this window. */
  probabilities: ClassProbabilities;
}

/** A result's rhythm evidence: lib/rhythm.ts `IrregularRhythm` with JSON-safe numbers and the flag. */
export interface IrregularRhythmResult {
  /** Evidence of premature beats, 0–1: 0 with none, ≥ 0.5 with at least one. */
  score: number;
  /**
   * `score` ≥ {@linkcode RHYTHM_FLAG_SCORE} on a `reliable` recording: at least one premature beat (an early beat, then
   * a compensatory pause).
   */
  flagged: boolean;
  /**
   * False when the result asks for a retake (a "retake: …" warning: poor signal, where noise peaks look like early
   * beats); `flagged` is then false whatever the score.
   */
  reliable: boolean;
  /** Every detected heart sound: its time, the cycle ending at it (null for the first sounds), early or late. */
  beats: { timeS: number; intervalS: number | null; early: boolean; late: boolean }[];
  /** Premature beats, in seconds. */
  earlyBeatTimesS: number[];
  /** The beats ending each compensatory pause, in seconds. */
  lateBeatTimesS: number[];
}

/** A rhythm score from this value up flags an irregular rhythm (one premature beat or more). */
export const RHYTHM_FLAG_SCORE = 0.5;

/** What a person should do when a result is doubtful. */
export const RETAKE_ADVICE = "record again for 10–20 s in a quiet room, stethoscope still and pressed firmly";

/** Options of {@linkcode HeartSoundClassifier.classify}. */
export interface ClassifyOptions {
  /** Also estimate the heart rate and S1/S2 times. @default {true} */
  beats?: boolean;
  /** Longest recording accepted, in seconds, > 0: longer ones are refused before any work, since the work and memory
   * grow with the length. @default {MAX_DURATION_S} (600) */
  maxDurationS?: number;
}

/** A loaded model. All methods are synchronous and free their tensors. */
export interface HeartSoundClassifier {
  /** The model.json URL the model was loaded from. */
  readonly modelUrl: string;
  /** The model's name, version and content hash, as every result carries them. */
  readonly model: ModelIdentity;
  /** Class names in the model's output order (preprocessing.json `labels`). */
  labels(): string[];
  /**
   * Classifies a mono recording.
   * @param samples Mono samples in [-1, 1], all finite; at least {@linkcode MIN_CLASSIFY_DURATION_S} seconds.
   * @param sampleRate In Hz, ≥ {@linkcode MIN_SAMPLE_RATE_HZ}; any such rate (the model's preprocessing resamples).
   * @throws {ParameterError} Empty, non-finite, silent, shorter than 0.5 s or longer than `options.maxDurationS`; a
   *   sample rate below {@linkcode MIN_SAMPLE_RATE_HZ}. {@linkcode ModelError} The model gives a non-finite probability.
   */
  classify(samples: Float32Array, sampleRate: number, options?: ClassifyOptions): ClassifyResult;
  /**
   * Decodes a WAV file (PCM 8/16/24/32-bit or float 32/64, any channel count, any rate) and classifies it.
   * The header's rate and duration are checked before any sample is decoded.
   * @throws {WavFormatError} The bytes are not a WAV we can read. {@linkcode ParameterError} As `classify`.
   */
  classifyWav(bytes: Uint8Array, options?: ClassifyOptions): ClassifyResult;
}

/** Options of {@linkcode loadClassifier}. */
export interface LoadClassifierOptions {
  /**
   * Reads one model file (model.json, its weight files, preprocessing.json) and returns its bytes.
   * Default: `fetch` (Deno and browsers; Deno's fetch also reads file: URLs). Node.js passes a reader
   * based on `fs.readFile` for file: URLs.
   */
  readFile?: (url: URL, maxBytes?: number) => Promise<Uint8Array>;
  /** What runs the model. "js" (default): lib/forward.ts, plain TypeScript, no tfjs loaded (faster start and
   * inference; tfjs Sequential models of the layer kinds it supports). "cpu" or "wasm": tfjs `model.predict` on
   * that tfjs backend (any tfjs layers model); the first tfjs classifier loaded in a process picks the backend
   * for the whole process (tfjs has one active backend); "wasm" needs @tensorflow/tfjs-backend-wasm's files and
   * falls back to "cpu". @default {"js"} */
  backend?: Backend;
}

/** What runs the model: lib/forward.ts ("js") or a tfjs backend. */
export type Backend = "js" | "cpu" | "wasm";
/** Every {@linkcode Backend}, the default first. */
export const BACKENDS: readonly Backend[] = ["js", "cpu", "wasm"];

/** Recordings shorter than this many seconds (about one heartbeat) are refused. */
export const MIN_CLASSIFY_DURATION_S = 0.5;
/** Lowest sample rate accepted, in Hz. Heart sounds and murmurs carry their energy below about 400–600 Hz (the beat
 * detector band-passes 25–400 Hz, which needs more than 800 Hz), stethoscopes record at 2–48 kHz, and the model
 * resamples to 2 kHz: a header saying less is not a heart-sound recording, and upsampling its few bytes to 2 kHz
 * would turn a small file into hours of audio to analyse. */
export const MIN_SAMPLE_RATE_HZ = 1000;
/** Default longest recording, in seconds ({@linkcode ClassifyOptions.maxDurationS}): 10 minutes, far beyond an
 * auscultation (seconds to a minute), whose samples at 44.1 kHz already take about 100 MB as float32. */
export const MAX_DURATION_S = 600;
/** A result whose confidence is below this gets a low-confidence warning. */
export const LOW_CONFIDENCE = 0.6;
/** Peak amplitude below which a recording is called very quiet (−60 dBFS). */
const QUIET_PEAK = 1e-3;

/** The shipped model: models/model.json next to lib/. */
export const DEFAULT_MODEL_URL: URL = new URL("../models/model.json", import.meta.url);

const loaded = new Map<string, Promise<HeartSoundClassifier>>();

/**
 * Loads a classifier once per model URL per process; later calls with the same URL share it.
 * @param modelUrl URL (or URL string) of a tfjs model.json with preprocessing.json beside it.
 *   Default: the shipped model, found relative to this module, so it also works when lib/ is imported by URL.
 * @throws {ModelError} The model or its preprocessing cannot be read, or its labels are not two or more distinct names.
 * @example Usage
 * ```ts
 * const classifier = await loadClassifier();
 * const rec = synthesizeHeartSound({ kind: "murmur", durationS: 5 }); // lib/synth.ts
 * const { label, probabilities } = classifier.classify(rec.samples, rec.sampleRate);
 * assertEquals(classifier.labels().includes(label), true);
 * ```
 */
export function loadClassifier(
  modelUrl: string | URL = DEFAULT_MODEL_URL,
  options: LoadClassifierOptions = {},
): Promise<HeartSoundClassifier> {
  let url: URL;
  try {
    url = new URL(modelUrl);
  } catch {
    return Promise.reject(new ModelError(`Cannot load model: "${modelUrl}" is not a URL`));
  }
  const backend = options.backend ?? "js";
  if (!BACKENDS.includes(backend)) {
    return Promise.reject(
      new ModelError(`Cannot load model: backend is "${backend}", expected ${BACKENDS.join(", ")}`),
    );
  }
  const key = `${backend} ${url.href}`;
  let promise = loaded.get(key);
  if (!promise) {
    promise = openClassifier(url, { ...options, backend });
    loaded.set(key, promise);
    promise.catch(() => loaded.delete(key)); // a failed load may be retried
  }
  return promise;
}

async function openClassifier(url: URL, options: LoadClassifierOptions): Promise<HeartSoundClassifier> {
  const engine = await openEngine(url, options.readFile ?? fetchBytes, options.backend ?? "js");
  // The class set is the model's own (preprocessing.json `labels`), e.g. a model trained on other data.
  const labels = engine.labels;
  if (labels.length < 2 || new Set(labels).size !== labels.length || labels.some((name) => name === "")) {
    throw new ModelError(`Cannot load model: labels are ${labels.join(", ")}, expected two or more distinct names`);
  }
  const labelIds = labels.map((_, i) => engine.labelIds[i] ?? i);
  const resultOf = (samples: Float32Array, sampleRate: number, opts: ClassifyOptions = {}): ClassifyResult => {
    const wave: Waveform = { samples, sampleRate };
    if (!(samples instanceof Float32Array)) throw new ParameterError("Cannot classify: samples are not a Float32Array");
    checkRecordingSize(sampleRate, samples.length / sampleRate, opts);
    const warnings = checkRecording(wave);
    const { probabilities, windows, beats, quality } = engine.run(wave, opts.beats ?? true);
    if (quality?.retake) warnings.unshift(`retake: ${quality.reason} (quality ${quality.quality.toFixed(2)})`);
    return buildResult(
      labels,
      labelIds,
      probabilities,
      windows,
      wave,
      warnings,
      beats,
      engine.identity,
      quality?.quality ?? null,
    );
  };
  return {
    modelUrl: url.href,
    model: engine.identity,
    labels: () => [...labels],
    classify: resultOf,
    classifyWav: (bytes, opts) => {
      const header = readWavHeader(bytes);
      checkRecordingSize(header.sampleRate, header.durationS, opts);
      const wav = readWav(bytes);
      return resultOf(wav.samples, wav.sampleRate, opts);
    },
  };
}

/**
 * Refuses, before any work, a recording whose sample rate is below {@linkcode MIN_SAMPLE_RATE_HZ} or whose duration
 * is above `options.maxDurationS` (default {@linkcode MAX_DURATION_S}).
 * @param sampleRate In Hz, as a WAV header or the caller gives it.
 * @param durationS Length of the recording in seconds.
 * @throws {ParameterError} One of the limits is exceeded, or `options.maxDurationS` is not a number > 0.
 */
export function checkRecordingSize(sampleRate: number, durationS: number, options: ClassifyOptions = {}): void {
  const maxDurationS = options.maxDurationS ?? MAX_DURATION_S;
  if (!(maxDurationS > 0)) {
    throw new ParameterError(`Cannot classify: maxDurationS is ${maxDurationS}, expected a number of seconds > 0`);
  }
  if (!(sampleRate >= MIN_SAMPLE_RATE_HZ) || !Number.isFinite(sampleRate)) {
    throw new ParameterError(
      `Cannot classify: sample rate is ${sampleRate} Hz, expected at least ${MIN_SAMPLE_RATE_HZ} Hz for heart sounds`,
    );
  }
  if (durationS > maxDurationS) {
    throw new ParameterError(
      `Cannot classify: the recording is ${durationS.toFixed(1)} s long, more than the limit of ${maxDurationS} s ` +
        "(raise it with --max-duration or maxDurationS)",
    );
  }
}

/** Refuses recordings the model cannot say anything about; returns warnings for doubtful ones. */
function checkRecording(wave: Waveform): string[] {
  assertValidAudio(wave, "classify"); // Float32Array, rate > 0, at least one sample, all finite
  const { samples, sampleRate } = wave;
  const durationS = samples.length / sampleRate;
  if (durationS < MIN_CLASSIFY_DURATION_S) {
    throw new ParameterError(
      `Cannot classify: the recording is ${
        durationS.toFixed(3)
      } s long, shorter than one heartbeat (${MIN_CLASSIFY_DURATION_S} s)`,
    );
  }
  const peak = peakAbs(samples);
  if (peak === 0) throw new ParameterError("Cannot classify: the recording is silent (every sample is 0)");
  const warnings: string[] = [];
  if (peak < QUIET_PEAK) {
    warnings.push(
      `very quiet recording (peak ${
        (20 * Math.log10(peak)).toFixed(0)
      } dBFS), so the result may be unreliable: ${RETAKE_ADVICE}, with the volume turned up`,
    );
  }
  return warnings;
}

/** The largest |x| of finite samples, in four independent running maxima (they overlap in the CPU). */
function peakAbs(samples: Float32Array): number {
  let m0 = 0, m1 = 0, m2 = 0, m3 = 0;
  const end4 = samples.length & ~3;
  for (let i = 0; i < end4; i += 4) {
    m0 = Math.max(m0, Math.abs(samples[i]));
    m1 = Math.max(m1, Math.abs(samples[i + 1]));
    m2 = Math.max(m2, Math.abs(samples[i + 2]));
    m3 = Math.max(m3, Math.abs(samples[i + 3]));
  }
  for (let i = end4; i < samples.length; i++) m0 = Math.max(m0, Math.abs(samples[i]));
  return Math.max(m0, m1, m2, m3);
}

/** Heart-sound timing of one recording. */
interface Beats {
  heartRateBpm: number | null;
  s1TimesS: number[];
  s2TimesS: number[];
  irregularRhythm: IrregularRhythmResult | null;
}

/** Index of the largest of `probs[from .. from + k)`, relative to `from`. */
function argmax(probs: Float32Array, from: number, k: number): number {
  let best = 0;
  for (let j = 1; j < k; j++) if (probs[from + j] > probs[from + best]) best = j;
  return best;
}

function probabilitiesAt(labels: string[], probs: Float32Array, from: number): ClassProbabilities {
  const out: ClassProbabilities = {};
  for (let k = 0; k < labels.length; k++) out[labels[k]] = probs[from + k];
  return out;
}

function timelineOf(labels: string[], windows: WindowProbabilities, durationS: number): TimelineWindow[] {
  const k = labels.length;
  return windows.windowsS.map(([startS, endS], r) => ({
    startS,
    endS: Math.min(endS, durationS),
    label: labels[argmax(windows.probabilities, r * k, k)],
    probabilities: probabilitiesAt(labels, windows.probabilities, r * k),
  }));
}

function buildResult(
  labels: string[],
  labelIds: number[],
  probs: Float32Array,
  windows: WindowProbabilities,
  wave: Waveform,
  warnings: string[],
  beats: Beats | undefined,
  model: ModelIdentity,
  quality: number | null,
): ClassifyResult {
  for (let k = 0; k < probs.length; k++) {
    if (!Number.isFinite(probs[k])) {
      throw new ModelError(
        `Cannot classify: the model gave a probability of ${probs[k]} for ${labels[k]} (its files may be damaged)`,
      );
    }
  }
  const rhythm = beats?.irregularRhythm ? gateRhythm(beats.irregularRhythm, warnings) : null;
  const best = chooseLabel(labels, probs, rhythm);
  const probabilities = probabilitiesAt(labels, probs, 0);
  const label = labels[best];
  const confidence = probs[best];
  const top = argmax(probs, 0, probs.length);
  if (top !== best) {
    warnings.push(
      `${displayName(labels[top])} is more probable (${
        probs[top].toFixed(2)
      }) but no premature beat was found, so the answer is ${displayName(label).toLowerCase()}`,
    );
  }
  if (confidence < LOW_CONFIDENCE) {
    warnings.push(
      `low confidence (${confidence.toFixed(2)}): no class is clearly more likely than the others; ${RETAKE_ADVICE}`,
    );
  }
  const durationS = wave.samples.length / wave.sampleRate;
  // A retake (poor signal quality, from the second stage) says what to do, as the other warnings do.
  for (let i = 0; i < warnings.length; i++) {
    if (warnings[i].startsWith("retake: ") && !warnings[i].includes(RETAKE_ADVICE)) {
      warnings[i] += `; ${RETAKE_ADVICE}`;
    }
  }
  return {
    label,
    labelId: labelIds[best],
    confidence,
    probabilities,
    heartRateBpm: beats?.heartRateBpm ?? null,
    s1TimesS: beats?.s1TimesS ?? [],
    s2TimesS: beats?.s2TimesS ?? [],
    durationS,
    sampleRate: wave.sampleRate,
    quality,
    warnings,
    timeline: timelineOf(labels, windows, durationS),
    irregularRhythm: rhythm,
    model,
  };
}

/**
 * The index of the class to report: the most probable, but an extrastole call needs rhythm evidence (without a
 * premature beat found, the second most probable class), since in the training data the extrastole label barely
 * follows rhythm and its calls on regular recordings cost normal recall (models/README.md, "Extrastole calls").
 */
export function chooseLabel(
  labels: readonly string[],
  probs: Float32Array,
  rhythm: IrregularRhythmResult | null,
): number {
  const best = argmax(probs, 0, probs.length);
  if (labels[best] !== "extrastole" || rhythm?.flagged || probs.length < 2) return best;
  let second = best === 0 ? 1 : 0;
  for (let k = 0; k < probs.length; k++) if (k !== best && probs[k] > probs[second]) second = k;
  return second;
}

/**
 * The rhythm evidence as a result reports it: on a recording whose warnings ask for a retake, marked unreliable and
 * not flagged (the detector's false alarms come from noisy recordings).
 */
export function gateRhythm(rhythm: IrregularRhythmResult, warnings: readonly string[]): IrregularRhythmResult {
  if (!warnings.some((w) => w.startsWith("retake: "))) return rhythm;
  return { ...rhythm, flagged: false, reliable: false };
}

/** The rhythm evidence of an envelope (lib/rhythm.ts), JSON-safe; score 0 and no beats without an envelope. */
function rhythmOf(envelope: Envelope | null): IrregularRhythmResult {
  if (!envelope) {
    return { score: 0, flagged: false, reliable: true, beats: [], earlyBeatTimesS: [], lateBeatTimesS: [] };
  }
  const r = irregularRhythmFromEnvelope(envelope);
  return {
    score: r.score,
    flagged: r.score >= RHYTHM_FLAG_SCORE,
    reliable: true,
    beats: r.beats.map((b) => ({ ...b, intervalS: Number.isFinite(b.intervalS) ? b.intervalS : null })),
    earlyBeatTimesS: r.earlyBeatTimesS,
    lateBeatTimesS: r.lateBeatTimesS,
  };
}

// ---------------------------------------------------------------- model engine

interface Engine {
  labels: string[];
  /** preprocessing.json `labelIds`, when it has them. */
  labelIds: number[];
  identity: ModelIdentity;
  /** Class probabilities of one recording (windows aggregated) and of each window, in label order, its heart sounds
   * and quality. */
  run(
    wave: Waveform,
    withBeats: boolean,
  ): { probabilities: Float32Array; windows: WindowProbabilities; beats?: Beats; quality: QualityAssessment | null };
}

/** Rate at which lib/beats.ts analyses heart sounds (its default `processingRate`), in Hz. */
const BEATS_RATE = 2000;

async function openEngine(
  url: URL,
  readFile: (url: URL, maxBytes?: number) => Promise<Uint8Array>,
  backend: Backend,
): Promise<Engine> {
  // The model code (lib/forward.ts, or tfjs) and the preprocessing code load while the model files are read.
  const tfLoading = backend === "js"
    ? undefined
    : import("./tf.ts").then(({ loadTf, loadTfForInference }) =>
      backend === "cpu" ? loadTfForInference() : loadTf({ backend, verbose: false })
    );
  tfLoading?.catch(() => {}); // awaited below; a failed import must not be an unhandled rejection meanwhile
  try {
    return await buildEngine(url, readFile, backend, tfLoading);
  } catch (error) {
    // A tfjs backend switch left running would change tfjs's one global backend under whatever the
    // caller does next (e.g. build a model on a backend still initialising): let it finish first.
    await tfLoading?.catch(() => {});
    throw error;
  }
}

async function buildEngine(
  url: URL,
  readFile: (url: URL, maxBytes?: number) => Promise<Uint8Array>,
  backend: Backend,
  tfLoading: Promise<Tf> | undefined,
): Promise<Engine> {
  const forwardLoading = backend === "js" ? import("./forward.ts") : undefined;
  const probabilitiesLoading = import("./probabilities.ts");
  const stackLoading = import("./stack.ts");
  const folder = await readModelFolder(url, readFile);
  const { preprocessing, modelJson, weightSets } = folder;
  const labels = preprocessing.labels;
  const [{ meanOfMembers, recordingAssessment }, { inputSize }] = await Promise.all([
    probabilitiesLoading,
    import("./preprocess.ts"),
  ]);
  const stack = folder.stack ? (await stackLoading).loadStack(folder.stack) : null;
  const predictors: ((input: { data: Float32Array; shape: number[] }) => Float32Array)[] = [];
  if (forwardLoading) {
    const { loadForwardModel } = await forwardLoading;
    let expected: number | undefined;
    try {
      expected = inputSize(preprocessing);
    } catch (error) {
      throw new ModelError(`Cannot load model: ${url.href}: ${firstLine(error)}`);
    }
    for (const weights of weightSets) {
      let model;
      try {
        model = loadForwardModel(
          { modelTopology: modelJson.modelTopology, weightsManifest: modelJson.weightsManifest },
          weights,
        );
      } catch (error) {
        throw new ModelError(`Cannot load model: ${url.href}: ${firstLine(error).replace(/^Cannot load model: /, "")}`);
      }
      const outputs = model.outputShape.at(-1);
      if (model.outputShape.length !== 1 || outputs !== labels.length) {
        throw new ModelError(`Cannot load model: ${url.href} has ${outputs} outputs but ${labels.length} labels`);
      }
      const size = model.inputShape.reduce((a, b) => a * b, 1);
      if (size !== expected) {
        throw new ModelError(
          `Cannot load model: ${url.href} takes inputs of [${model.inputShape}] but its preprocessing gives ${expected} values`,
        );
      }
      predictors.push((input) => model.predict(input.data, input.shape[0]));
    }
  } else {
    const tf = await tfLoading!.catch((error) => {
      throw new ModelError(`Cannot load model: tfjs (backend ${backend}) is not available: ${firstLine(error)}`);
    });
    for (const weights of weightSets) {
      let model: LayersModel;
      try {
        model = await tf.loadLayersModel({
          load: () =>
            Promise.resolve({
              modelTopology: modelJson.modelTopology,
              weightSpecs: folder.weightSpecs,
              weightData: weights.slice().buffer,
            } as never),
        });
      } catch (error) {
        throw new ModelError(`Cannot load model: ${url.href}: ${firstLine(error)}`);
      }
      const outputs = model.outputs[0].shape.at(-1);
      if (outputs !== labels.length) {
        model.dispose();
        throw new ModelError(`Cannot load model: ${url.href} has ${outputs} outputs but ${labels.length} labels`);
      }
      predictors.push((input) =>
        tf.tidy(() => {
          const out = model.predict(tf.tensor(input.data, input.shape, "float32")) as ReturnType<typeof tf.tensor>;
          return Float32Array.from(out.dataSync());
        })
      );
    }
  }
  const predict = meanOfMembers(predictors);
  const assess = (wave: Waveform, heartSounds?: HeartSounds) =>
    recordingAssessment(wave, preprocessing, predict, { stack, heartSounds });
  // When the model and the heart-sound detector both resample to the same rate (with the same default
  // filter), resample once and hand both the result: the answers are identical, the work halves. (Also without
  // beats: the model's second stage detects heart sounds for its rhythm features from the same signal.)
  const sharedRate = preprocessing.targetSampleRate === BEATS_RATE ? BEATS_RATE : undefined;
  const labelIds = Array.isArray(preprocessing.labelIds) && preprocessing.labelIds.every((x) => typeof x === "number")
    ? preprocessing.labelIds
    : [];
  return {
    labels,
    labelIds,
    identity: Object.freeze({ ...folder.identity }),
    run(wave, withBeats) {
      const resampled = sharedRate === undefined || wave.sampleRate === sharedRate
        ? wave
        : resampleWaveform(wave, sharedRate);
      if (!withBeats) return assess(resampled);
      // The sounds also feed the second stage's rhythm features (same signal), their envelope the rhythm detector.
      const { sounds, envelope } = detectHeartSoundsWithEnvelope(resampled);
      const { probabilities, quality, windows } = assess(resampled, sounds);
      const { heartRateBpm, s1TimesS, s2TimesS } = sounds;
      return {
        probabilities,
        quality,
        windows,
        beats: { heartRateBpm, s1TimesS, s2TimesS, irregularRhythm: rhythmOf(envelope) },
      };
    },
  };
}
