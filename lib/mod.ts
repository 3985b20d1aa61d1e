/**
 * The public API of heartbeat, platform-neutral (no `Deno.*`; Node.js and browsers get it bundled as
 * dist/heartbeat.js): the classifier (lib/classifier.ts), the class table (lib/classes.ts) and the
 * signal-processing core (lib/dsp.ts), with their types and errors. Deno programs that also want
 * `classifyFile` and the CLI import lib/infer.ts instead.
 *
 * ```ts
 * import { loadClassifier } from "./lib/mod.ts";
 * const classifier = await loadClassifier();
 * const { label, confidence, heartRateBpm } = classifier.classifyWav(wavBytes);
 * ```
 * @module
 */

/** Load a model once (`loadClassifier`), then `classify(samples, sampleRate)` or `classifyWav(bytes)`. */
export {
  type Backend,
  BACKENDS,
  checkRecordingSize,
  type ClassifyOptions,
  type ClassifyResult,
  type ClassProbabilities,
  DEFAULT_MODEL_URL,
  type HeartSoundClassifier,
  type IrregularRhythmResult,
  loadClassifier,
  type LoadClassifierOptions,
  LOW_CONFIDENCE,
  MAX_DURATION_S,
  MIN_CLASSIFY_DURATION_S,
  MIN_SAMPLE_RATE_HZ,
  type ModelIdentity,
  RETAKE_ADVICE,
  RHYTHM_FLAG_SCORE,
  type TimelineWindow,
} from "./classifier.ts";
/** This release's version (semver); every result's `model` says which model made it. */
export { VERSION } from "./version.ts";
/** The one-file HTML report of a result (what the CLI's `--report` and the page's "Download report" write). */
export {
  htmlReport,
  type HtmlReportOptions,
  NOT_A_MEDICAL_DEVICE,
  reportFigureSvg,
  type ReportResult,
  type ReportWave,
} from "./html_report.ts";
/** Premature beats without a period prior (the `irregularRhythm` of a result). */
export { type IrregularRhythm, irregularRhythm, type RhythmBeat, type RhythmOptions } from "./rhythm.ts";
/** The classes: names in model output order, label ids, display names and one-line explanations. */
export {
  CLASS_NAMES,
  CLASSES,
  type ClassInfo,
  classInfo,
  type ClassName,
  displayName,
  explanation,
  LABEL_IDS,
} from "./classes.ts";
/** The signal-processing core (lib/dsp.ts): WAV, STFT, resampling, filters, mel/MFCC, heart sounds, synthesis. */
export {
  assertValidAudio,
  bandpass,
  type BandpassOptions,
  DatasetError,
  detectHeartSounds,
  type DetectOptions,
  dominantFrequencyFeatures,
  encodeWav,
  type EncodeWavOptions,
  estimateHeartRate,
  fftFrequencies,
  type FrameFeatureMethod,
  type FrameFeatures,
  hannWindow,
  type HeartRateEstimate,
  type HeartRateOptions,
  HeartSoundError,
  type HeartSounds,
  logMelSpectrogram,
  type MelFilterBank,
  melFilterBank,
  type MelFilterBankOptions,
  type MelSpectrogram,
  melSpectrogram,
  type MelSpectrogramOptions,
  type Mfcc,
  mfcc,
  type MfccOptions,
  ModelError,
  ParameterError,
  readWav,
  readWavHeader,
  resample,
  type ResampleOptions,
  resampleWaveform,
  RHYTHM_FEATURE_NAMES,
  rhythmFeatures,
  type Spectrogram,
  stft,
  type StftOptions,
  synthesizeHeartSound,
  type SynthKind,
  type SynthOptions,
  type SynthRecording,
  type WavAudio,
  type Waveform,
  WavFormatError,
  type WavHeader,
} from "./dsp.ts";
