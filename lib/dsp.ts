/**
 * The signal-processing core: pure functions over typed arrays, no tfjs, no `Deno.*`. Each job lives
 * in its own file; this module names the ones an app or a notebook needs.
 *
 * ```ts
 * import { detectHeartSounds, readWav, resampleWaveform } from "./lib/dsp.ts";
 * const wave = resampleWaveform(readWav(bytes), 2000);
 * const { heartRateBpm, s1TimesS } = detectHeartSounds(wave);
 * ```
 * @module
 */

/** The mono signal type, and the check of its invariants every entry point runs. */
export { assertValidAudio, type Waveform } from "./types.ts";
/** Every error is a `HeartSoundError` with a one-line "Cannot <action>: <reason>" message. */
export { DatasetError, HeartSoundError, ModelError, ParameterError, WavFormatError } from "./errors.ts";
/** WAV decoding (PCM 8/16/24/32-bit, float 32/64, any channel count, mixed to mono) and 16-bit encoding. */
export { encodeWav, type EncodeWavOptions, readWav, readWavHeader, type WavAudio, type WavHeader } from "./wav.ts";
/** Short-time Fourier transform (librosa's conventions), its window and bin frequencies. */
export { fftFrequencies, hannWindow, type Spectrogram, stft, type StftOptions } from "./stft.ts";
/** Band-limited resampling to another rate. */
export { resample, type ResampleOptions, resampleWaveform } from "./resample.ts";
/** Zero-phase Butterworth band-pass. */
export { bandpass, type BandpassOptions } from "./filter.ts";
/** Mel filter bank, (log-)mel spectrogram and MFCC (librosa's conventions). */
export {
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
} from "./mel.ts";
/** The original project's per-frame dominant frequency and magnitude. */
export { dominantFrequencyFeatures, type FrameFeatureMethod, type FrameFeatures } from "./features.ts";
/** Heart rate, S1/S2 onsets and rhythm-irregularity features. */
export {
  detectHeartSounds,
  type DetectOptions,
  estimateHeartRate,
  type HeartRateEstimate,
  type HeartRateOptions,
  type HeartSounds,
  RHYTHM_FEATURE_NAMES,
  rhythmFeatures,
} from "./beats.ts";
/** Seeded synthetic heart sounds of each class, with their true S1/S2 times. */
export { synthesizeHeartSound, type SynthKind, type SynthOptions, type SynthRecording } from "./synth.ts";
