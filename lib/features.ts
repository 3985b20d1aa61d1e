/**
 * The original project's per-frame feature (preprocessor1.py `extract_frequencies`): one
 * (frequency, magnitude) pair per STFT frame.
 * @module
 */
import { ParameterError } from "./errors.ts";
import { complex64Abs, hannWindow, RealFft, type Spectrogram, stft } from "./stft.ts";
import { assertValidAudio } from "./types.ts";

/** How a frame's spectrum becomes one (frequency, magnitude) pair. */
export type FrameFeatureMethod = "dominant" | "average" | "median";

/** Per-frame (frequency, magnitude) sequences plus the framing that produced them. */
export interface FrameFeatures {
  /** Hz, one per frame. */
  frequencyHz: Float32Array;
  /** |STFT| (librosa scaling: unnormalised FFT of the Hann-windowed frame), one per frame. */
  magnitude: Float32Array;
  sampleRate: number;
  nFft: number;
  hopLength: number;
  deltaTimeS: number;
}

/**
 * The original's frame size: nFft = 2^floor(log2(int(deltaTimeS · sampleRate))), at least 4.
 * @param sampleRate Hz.
 * @param deltaTimeS Seconds; `deltaTimeS · sampleRate` must be ≥ 4 samples.
 * @throws {ParameterError} Fewer than 4 samples per frame.
 * @example Usage
 * ```ts
 * assertEquals(nFftForDelta(44100, 0.01), 256); // int(441) → 256
 * ```
 */
export function nFftForDelta(sampleRate: number, deltaTimeS: number): number {
  const samples = Math.floor(deltaTimeS * sampleRate + 1e-9); // Python int() truncation; 1e-9 absorbs 0.01·4000 = 40.00000000000001-style noise
  if (!(samples >= 4)) {
    throw new ParameterError(
      `Cannot frame audio: deltaTimeS ${deltaTimeS} at ${sampleRate} Hz is ${samples} samples, expected ≥ 4`,
    );
  }
  return 2 ** Math.floor(Math.log2(samples));
}

/**
 * Reduces each frame of a magnitude spectrogram to one (frequency, magnitude) pair.
 * - `dominant`: the centre frequency of the largest bin and its magnitude; the first bin wins
 *   ties (numpy `argmax`), so a silent frame gives 0 Hz.
 * - `average`: the spectral centroid Σf·|X| / Σ|X| (0 Hz for a silent frame) and the mean magnitude.
 * - `median`: the spectral median, the lowest bin frequency at which the cumulative magnitude
 *   reaches half the frame's total (0 Hz for a silent frame), and the median bin magnitude.
 * @param spec A magnitude spectrogram from {@linkcode stft}.
 * @returns One frequency (Hz) and one magnitude per frame, `spec.numFrames` each.
 * @example Usage
 * ```ts
 * const spec = { data: new Float32Array([1, 0, 3]), numFrames: 1, numBins: 3, nFft: 4, hopLength: 1, sampleRate: 4000 };
 * assertEquals(frameFeaturesFromSpectrogram(spec).frequencyHz[0], 2000); // bin 2 of 4-point FFT at 4 kHz
 * ```
 */
export function frameFeaturesFromSpectrogram(
  spec: Spectrogram,
  method: FrameFeatureMethod = "dominant",
): { frequencyHz: Float32Array; magnitude: Float32Array } {
  const { data, numFrames, numBins, nFft, sampleRate } = spec;
  const binHz = sampleRate / nFft;
  const frequencyHz = new Float32Array(numFrames);
  const magnitude = new Float32Array(numFrames);
  const sorted = new Float32Array(numBins);
  for (let t = 0; t < numFrames; t++) {
    const row = t * numBins;
    if (method === "dominant") {
      let best = 0, bestValue = data[row];
      for (let b = 1; b < numBins; b++) {
        if (data[row + b] > bestValue) {
          bestValue = data[row + b];
          best = b;
        }
      }
      frequencyHz[t] = best * binHz;
      magnitude[t] = bestValue;
    } else if (method === "average") {
      let sum = 0, weighted = 0;
      for (let b = 0; b < numBins; b++) {
        sum += data[row + b];
        weighted += b * binHz * data[row + b];
      }
      frequencyHz[t] = sum > 0 ? weighted / sum : 0;
      magnitude[t] = sum / numBins;
    } else if (method === "median") {
      let sum = 0;
      for (let b = 0; b < numBins; b++) sum += data[row + b];
      let cumulative = 0, b = 0;
      if (sum > 0) {
        for (; b < numBins; b++) {
          cumulative += data[row + b];
          if (cumulative >= sum / 2) break;
        }
      }
      frequencyHz[t] = b * binHz;
      sorted.set(data.subarray(row, row + numBins));
      sorted.sort();
      const mid = numBins >> 1;
      magnitude[t] = numBins % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
    } else {
      throw new ParameterError(
        `Cannot compute frame features: method is "${method}", expected dominant, average or median`,
      );
    }
  }
  return { frequencyHz, magnitude };
}

/**
 * The original's per-frame dominant-frequency feature: STFT with nFft from
 * {@linkcode nFftForDelta}, hop nFft/4, librosa defaults otherwise (periodic Hann, centred,
 * zero padding, librosa's complex64 magnitudes), then {@linkcode frameFeaturesFromSpectrogram}.
 * The `dominant` method runs a fused loop (window, FFT, argmax per frame, no spectrogram kept)
 * that returns exactly, bit for bit, what the two-step path returns; it matches the original's
 * golden outputs, near-ties between bins included.
 * @param samples Mono samples in [-1, 1] at `sampleRate` (the original used each file's native rate).
 * @param sampleRate Hz.
 * @param deltaTimeS Frame duration target in seconds; 0.01 ("small") or 0.001 ("main") in the original.
 * @param method `dominant` (default), `average` or `median`.
 * @example Usage
 * ```ts
 * const f = dominantFrequencyFeatures(new Float32Array(4000), 4000, 0.01);
 * assertEquals(f.nFft, 32); // 2^floor(log2(40))
 * ```
 */
export function dominantFrequencyFeatures(
  samples: Float32Array,
  sampleRate: number,
  deltaTimeS = 0.01,
  method: FrameFeatureMethod = "dominant",
): FrameFeatures {
  const nFft = nFftForDelta(sampleRate, deltaTimeS);
  const hopLength = nFft / 4;
  if (method === "dominant") {
    // The fused loop finds non-finite samples itself (see dominantFused); check the rest here.
    if (!(samples instanceof Float32Array) || samples.length === 0 || !(sampleRate > 0 && sampleRate < Infinity)) {
      assertValidAudio({ samples, sampleRate }, "compute STFT");
    }
    return { ...dominantFused(samples, sampleRate, nFft, hopLength), sampleRate, nFft, hopLength, deltaTimeS };
  }
  const spec = stft({ samples, sampleRate }, { nFft, hopLength, complex64: true });
  return { ...frameFeaturesFromSpectrogram(spec, method), sampleRate, nFft, hopLength, deltaTimeS };
}

/**
 * The "dominant" feature without materialising the spectrogram: per frame, window, FFT, then
 * argmax. Gives bit for bit what `frameFeaturesFromSpectrogram(stft(..., { complex64: true }), "dominant")`
 * gives: the first maximum of the complex64 magnitudes ({@linkcode complex64Abs}), as librosa's
 * float32 arithmetic has it. Those differ from the correctly rounded magnitudes by a few float32
 * ulps at most (2^−24 relative each), so only bins whose float64 power is within 1e−5 of the
 * largest can hold that maximum, and only they are rounded the complex64 way (every bin when the
 * power is too small for float32 rounding to stay relative).
 * Finite float32 samples cannot overflow a float64 power, and a NaN or infinite sample makes bin
 * 0's power (the square of the frame's windowed sum) NaN or infinite in every frame that holds it,
 * and every sample lies in some frame; so a non-finite bin-0 power is exactly the sign of bad
 * input, and then {@linkcode assertValidAudio} names the first bad sample.
 */
function dominantFused(
  x: Float32Array,
  sampleRate: number,
  nFft: number,
  hopLength: number,
): { frequencyHz: Float32Array; magnitude: Float32Array } {
  const pad = nFft / 2;
  const numFrames = 1 + Math.floor(x.length / hopLength);
  const numBins = nFft / 2 + 1;
  const binHz = sampleRate / nFft;
  const window = hannWindow(nFft);
  const fft = new RealFft(nFft);
  const frame = new Float64Array(nFft);
  const spectrum = new Float64Array(2 * nFft);
  const power = new Float64Array(numBins);
  const frequencyHz = new Float32Array(numFrames);
  const magnitude = new Float32Array(numFrames);
  for (let t = 0; t < numFrames; t++) {
    const start = t * hopLength - pad;
    if (start >= 0 && start + nFft <= x.length) fft.transformWindowed(spectrum, x, start, window);
    else {
      for (let k = 0; k < nFft; k++) {
        const i = start + k;
        frame[k] = i >= 0 && i < x.length ? x[i] * window[k] : 0;
      }
      fft.transform(spectrum, frame);
    }
    let best = 0, bestPower = -1;
    for (let b = 0; b < numBins; b++) {
      const re = spectrum[2 * b], im = spectrum[2 * b + 1];
      const p = re * re + im * im;
      power[b] = p;
      if (p > bestPower) {
        bestPower = p;
        best = b;
      }
    }
    if (!(power[0] < Infinity)) assertValidAudio({ samples: x, sampleRate }, "compute STFT"); // throws
    // Only bins within a few float32 ulps of the largest power can reach the largest complex64 magnitude.
    const low = bestPower >= NEAR_TIE_MIN_POWER ? bestPower * (1 - 1e-5) : 0;
    let m = -1;
    for (let b = 0; b < numBins; b++) {
      if (power[b] < low) continue;
      const mb = complex64Abs(spectrum[2 * b], spectrum[2 * b + 1]);
      if (mb > m) {
        m = mb;
        best = b;
      }
    }
    frequencyHz[t] = best * binHz;
    magnitude[t] = m;
  }
  return { frequencyHz, magnitude };
}

/** Below this power a bin's float32 rounding is no longer relative to its size, so every bin is compared. */
const NEAR_TIE_MIN_POWER = 2 ** -200;
