/**
 * Short-time Fourier transform matching librosa 0.10's defaults.
 * @module
 */
import { FFT } from "./deps.ts";
import { ParameterError } from "./errors.ts";
import type { Waveform } from "./types.ts";

/** Magnitude spectrogram, frame-major: frame 0's bins, then frame 1's, ... */
export interface Spectrogram {
  /** |STFT|, `numFrames * numBins` values. */
  data: Float32Array;
  numFrames: number;
  /** `1 + nFft / 2`. */
  numBins: number;
  nFft: number;
  /** Samples between frame starts. */
  hopLength: number;
  /** Hz, of the signal the frames came from. */
  sampleRate: number;
}

/** Options of {@linkcode stft}. */
export interface StftOptions {
  /** FFT size in samples; a power of two ≥ 4. @default {2048} */
  nFft?: number;
  /** Samples between frames; ≥ 1. @default {nFft / 4} */
  hopLength?: number;
  /** Zero-pad `nFft / 2` samples on both sides so frame t is centred on sample t·hop (librosa `center=True, pad_mode="constant"`). @default {true} */
  center?: boolean;
}

/** Checks the invariants every DSP entry point relies on: a positive sample rate and finite samples. */
export function assertValidAudio(wave: Waveform, action = "process audio"): void {
  if (!(wave.samples instanceof Float32Array)) {
    throw new ParameterError(`Cannot ${action}: samples are not a Float32Array`);
  }
  if (!(wave.sampleRate > 0) || !Number.isFinite(wave.sampleRate)) {
    throw new ParameterError(`Cannot ${action}: sample rate is ${wave.sampleRate}`);
  }
  if (wave.samples.length === 0) throw new ParameterError(`Cannot ${action}: zero samples`);
  const samples = wave.samples;
  for (let i = 0; i < samples.length; i++) {
    if (!Number.isFinite(samples[i])) throw new ParameterError(`Cannot ${action}: sample ${i} is ${samples[i]}`);
  }
}

/** True when n is a power of two ≥ 1. */
export function isPowerOfTwo(n: number): boolean {
  return Number.isInteger(n) && n >= 1 && (n & (n - 1)) === 0;
}

/** Periodic Hann window of length n: w[k] = 0.5 − 0.5·cos(2πk/n), as scipy `get_window("hann", n, fftbins=True)`. */
export function hannWindow(n: number): Float64Array {
  const w = new Float64Array(n);
  for (let k = 0; k < n; k++) w[k] = 0.5 - 0.5 * Math.cos(2 * Math.PI * k / n);
  return w;
}

/** Centre frequency, in Hz, of each of the `1 + nFft / 2` bins (librosa `fft_frequencies`). */
export function fftFrequencies(sampleRate: number, nFft: number): Float64Array {
  const f = new Float64Array(1 + nFft / 2);
  for (let k = 0; k < f.length; k++) f[k] = k * sampleRate / nFft;
  return f;
}

/**
 * Magnitude short-time Fourier transform of a mono waveform (librosa 0.10 `np.abs(stft(y))`).
 * @param wave Mono samples, all finite, at least one sample.
 * @param options `nFft`: power of two ≥ 4, default 2048. `hopLength`: default `nFft / 4`.
 *   `center`: default true, zero padding.
 * @returns `1 + nFft / 2` bins per frame; with `center`, `1 + floor(n / hopLength)` frames and
 *   frame t is centred on sample t·hopLength; without, `1 + floor((n − nFft) / hopLength)` frames.
 * @example Usage
 * ```ts
 * const spec = stft({ samples: new Float32Array(4000), sampleRate: 4000 }, { nFft: 32 });
 * assertEquals(spec.numFrames, 1 + Math.floor(4000 / 8));
 * ```
 */
export function stft(wave: Waveform, options: StftOptions = {}): Spectrogram {
  assertValidAudio(wave, "compute STFT");
  const nFft = options.nFft ?? 2048;
  const hopLength = options.hopLength ?? Math.floor(nFft / 4);
  const center = options.center ?? true;
  if (!isPowerOfTwo(nFft) || nFft < 4) {
    throw new ParameterError(`Cannot compute STFT: nFft is ${nFft}, expected a power of two ≥ 4`);
  }
  if (!Number.isInteger(hopLength) || hopLength < 1) {
    throw new ParameterError(`Cannot compute STFT: hopLength is ${hopLength}, expected an integer ≥ 1`);
  }
  const x = wave.samples;
  const pad = center ? nFft / 2 : 0;
  const paddedLength = x.length + 2 * pad;
  if (paddedLength < nFft) {
    throw new ParameterError(`Cannot compute STFT: ${x.length} samples are fewer than nFft ${nFft} without centring`);
  }
  const numFrames = 1 + Math.floor((paddedLength - nFft) / hopLength);
  const numBins = 1 + nFft / 2;
  const data = new Float32Array(numFrames * numBins);
  const window = hannWindow(nFft);
  const fft = new FFT(nFft);
  const frame = new Float64Array(nFft);
  const spectrum: number[] = fft.createComplexArray();
  for (let t = 0; t < numFrames; t++) {
    const start = t * hopLength - pad; // index into x of the frame's first sample
    if (start >= 0 && start + nFft <= x.length) {
      for (let k = 0; k < nFft; k++) frame[k] = x[start + k] * window[k];
    } else {
      for (let k = 0; k < nFft; k++) {
        const i = start + k;
        frame[k] = i >= 0 && i < x.length ? x[i] * window[k] : 0;
      }
    }
    fft.realTransform(spectrum, frame);
    const row = t * numBins;
    for (let b = 0; b < numBins; b++) {
      const re = spectrum[2 * b], im = spectrum[2 * b + 1];
      data[row + b] = Math.sqrt(re * re + im * im);
    }
  }
  return { data, numFrames, numBins, nFft, hopLength, sampleRate: wave.sampleRate };
}
