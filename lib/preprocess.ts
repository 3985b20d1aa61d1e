/**
 * Waveform → model input, exactly as a model's preprocessing.json defines; used identically by
 * training code (lib/cnn.ts, lib/experiments.ts) and inference (lib/infer.ts).
 *
 * The one kind, `"logmel-windows"`: resample to `targetSampleRate` → Butterworth band-pass → log-mel frames
 *   → fixed windows of `windowFrames` frames every `hopFrames` (a recording shorter than one
 *   window is repeated to fill it) → each window standardised by its own mean and standard
 *   deviation (gain-invariant). One row per window; a recording's class probabilities are the
 *   mean of its windows' probabilities (`aggregation: "mean-probability"`).
 *
 * lib/probabilities.ts turns this input into a recording's class probabilities.
 * @module
 */
import { ModelError, ParameterError } from "./errors.ts";
import { bandpass } from "./filter.ts";
import { logMelSpectrogram, type MelFilterBank, melFilterBank } from "./mel.ts";
import { resampleWaveform } from "./resample.ts";
import { stft } from "./stft.ts";
import { assertValidAudio, type Waveform } from "./types.ts";
import { CLASS_LABEL_IDS, CLASS_NAMES } from "./classes.ts";
import { type LogmelWindowsPreprocessing, type Preprocessing, PREPROCESSING_VERSION } from "./model_folder.ts";

export { PREPROCESSING_VERSION };
export type { LogmelWindowsPreprocessing, Preprocessing, PreprocessingBase, StackReference } from "./model_folder.ts";

/** Model input: `shape[0]` rows (windows or recordings), each `shape.slice(1)` values, row-major. */
export interface ModelInput {
  data: Float32Array;
  shape: number[];
  /** Where each row's window lies in the recording, in seconds: `[startS, endS]` per row. */
  windowsS?: [number, number][];
}

/** Default log-mel window parameters (2 kHz, 25–900 Hz, 16 bands, 40 ms hop, 3 s windows, 1.5 s hop). */
export function defaultLogmelPreprocessing(
  overrides: Partial<LogmelWindowsPreprocessing> = {},
): LogmelWindowsPreprocessing {
  return {
    version: PREPROCESSING_VERSION,
    kind: "logmel-windows",
    labels: [...CLASS_NAMES],
    labelIds: [...CLASS_LABEL_IDS],
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

const banks = new WeakMap<object, MelFilterBank>();

/** Features per row for a preprocessing (the model's input size). */
export function inputSize(preprocessing: Preprocessing): number {
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
 * @returns Rows first: `[windows, windowFrames, nMels]`.
 * @throws {ParameterError} Invalid or too short audio. {@link ModelError} Unknown kind.
 */
export function preprocess(wave: Waveform, preprocessing: Preprocessing): ModelInput {
  return preprocessWithSignal(wave, preprocessing).input;
}

/** {@linkcode preprocess}, and the resampled, band-passed signal the input came from. */
export function preprocessWithSignal(
  wave: Waveform,
  preprocessing: Preprocessing,
): { input: ModelInput; filtered: Waveform } {
  assertValidAudio(wave, "preprocess audio");
  const p = preprocessing;
  if (p.kind === "logmel-windows") {
    const filtered = logmelBandpassed(wave, p);
    return { input: windowsFromFrames(logmelFramesOfBandpassed(filtered, p), p), filtered };
  }
  throw new ModelError(`Cannot preprocess audio: unknown preprocessing kind "${(p as { kind: string }).kind}"`);
}
