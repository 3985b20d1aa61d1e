/**
 * A recording's class probabilities from any model runner: preprocess (lib/preprocess.ts), predict
 * every row, aggregate the rows, average a seed ensemble's members, and combine with the second
 * stage (lib/stack.ts) when the model has one. tfjs and lib/forward.ts both plug in as `predict`.
 * @module
 */
import { ModelError } from "./errors.ts";
import type { Waveform } from "./types.ts";
import type { Preprocessing } from "./model_folder.ts";
import { type ModelInput, preprocessWithSignal } from "./preprocess.ts";
import { type QualityAssessment, runStack, type Stack } from "./stack.ts";
import { HAND_FEATURE_BAND_HZ, HAND_FEATURE_RATE } from "./handfeatures.ts";
import type { HeartSounds } from "./beats.ts";

/** Mean of `rows` probability rows (`rows × k`, row-major) → k probabilities. */
export function aggregateProbabilities(probabilities: Float32Array, rows: number, k: number): Float32Array {
  const out = new Float32Array(k);
  if (rows === 0) return out;
  for (let r = 0; r < rows; r++) for (let j = 0; j < k; j++) out[j] += probabilities[r * k + j];
  for (let j = 0; j < k; j++) out[j] /= rows;
  return out;
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

/** Options of {@linkcode recordingProbabilities}. */
export interface RecordingProbabilitiesOptions {
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
 * (lib/stack.ts `stackProbabilities`).
 * @param predict Rows → `rows × labels` probabilities (tfjs `model.predict`, or lib/forward.ts).
 * @throws {ModelError} The model's output does not have one probability per row and label.
 */
export function recordingProbabilities(
  wave: Waveform,
  preprocessing: Preprocessing,
  predict: (input: ModelInput) => Float32Array,
  options: RecordingProbabilitiesOptions = {},
): Float32Array {
  return recordingAssessment(wave, preprocessing, predict, options).probabilities;
}

/** The model's probabilities for each window of one recording, before they are averaged. */
export interface WindowProbabilities {
  /** `[startS, endS]` of each window, in seconds from the start of the recording. */
  windowsS: [number, number][];
  /** `windows × labels` probabilities, row-major, in `preprocessing.labels` order. */
  probabilities: Float32Array;
}

/**
 * {@linkcode recordingProbabilities}, plus the recording's signal quality when the second stage has a quality model
 * (lib/stack.ts `assessQuality`; null otherwise), and the first stage's probabilities of each window (the timeline of
 * a result).
 */
export function recordingAssessment(
  wave: Waveform,
  preprocessing: Preprocessing,
  predict: (input: ModelInput) => Float32Array,
  options: RecordingProbabilitiesOptions = {},
): { probabilities: Float32Array; quality: QualityAssessment | null; windows: WindowProbabilities } {
  const p = preprocessing;
  const { input, filtered } = preprocessWithSignal(wave, p);
  // The second stage's hand features start with the same filter on the same signal: hand it over.
  const sameFilter = p.kind === "logmel-windows" && p.targetSampleRate === HAND_FEATURE_RATE &&
    wave.sampleRate === HAND_FEATURE_RATE && p.bandpassHz[0] === HAND_FEATURE_BAND_HZ[0] &&
    p.bandpassHz[1] === HAND_FEATURE_BAND_HZ[1];
  const bandpassed = sameFilter ? filtered.samples : undefined;
  const rows = input.shape[0];
  const k = p.labels.length;
  const probs = predict(input);
  if (probs.length !== rows * k || input.data.length === 0) {
    throw new ModelError(`Cannot classify audio: model gave ${probs.length} outputs for ${rows} rows of ${k} classes`);
  }
  const cnn = aggregateProbabilities(probs, rows, k);
  const windowsS = input.windowsS ?? [[0, wave.samples.length / wave.sampleRate]];
  const windows = { windowsS, probabilities: probs };
  return options.stack
    ? { ...runStack(options.stack, wave, cnn, { heartSounds: options.heartSounds, bandpassed }), windows }
    : { probabilities: cnn, quality: null, windows };
}
