/**
 * The straightforward port the feature benchmark measures against, frozen here so that
 * optimising lib/ cannot move it: WAV decoding through wavefile's generic unpacker, then the
 * first lib/stft.ts (fft.js on arrays, the whole magnitude spectrogram kept, as
 * `np.abs(librosa.stft(y))` does), then a per-frame argmax. Same numbers as lib/.
 * @module
 */
// wavefile is what a plain port would decode with; only the benchmark and tests use it.
// deno-lint-ignore no-import-prefix
import wavefile from "npm:wavefile@11.0.0";
import FFT from "npm:fft.js@4.0.4";

/** wavefile decode of a 16-bit mono file to float32 in [-1, 1) (int16 / 32768, as soundfile/librosa). */
export function baselineReadWav(bytes: Uint8Array): { samples: Float32Array; sampleRate: number } {
  const wav = new wavefile.WaveFile(bytes);
  const fmt = wav.fmt as { sampleRate: number; bitsPerSample: number; numChannels: number };
  if (fmt.bitsPerSample !== 16 || fmt.numChannels !== 1) throw new Error("baseline reads 16-bit mono only");
  const ints = wav.getSamples(false, Float64Array) as unknown as Float64Array;
  const samples = new Float32Array(ints.length);
  for (let i = 0; i < ints.length; i++) samples[i] = ints[i] / 32768;
  return { samples, sampleRate: fmt.sampleRate };
}

/** Per-frame dominant frequency (Hz) and its |STFT|, the original's feature, computed plainly. */
export function baselineDominantFeatures(
  samples: Float32Array,
  sampleRate: number,
  deltaTimeS: number,
): { frequencyHz: Float32Array; magnitude: Float32Array } {
  const nFft = 2 ** Math.floor(Math.log2(Math.floor(deltaTimeS * sampleRate + 1e-9)));
  const hopLength = nFft / 4;
  // The STFT: periodic Hann, centred with zero padding, magnitudes kept as float32.
  const window = new Float64Array(nFft);
  for (let k = 0; k < nFft; k++) window[k] = 0.5 - 0.5 * Math.cos(2 * Math.PI * k / nFft);
  const pad = nFft / 2;
  const numFrames = 1 + Math.floor(samples.length / hopLength);
  const numBins = 1 + nFft / 2;
  const data = new Float32Array(numFrames * numBins);
  const fft = new FFT(nFft);
  const frame = new Float64Array(nFft);
  const spectrum: number[] = fft.createComplexArray();
  for (let t = 0; t < numFrames; t++) {
    const start = t * hopLength - pad;
    for (let k = 0; k < nFft; k++) {
      const i = start + k;
      frame[k] = i >= 0 && i < samples.length ? samples[i] * window[k] : 0;
    }
    fft.realTransform(spectrum, frame);
    for (let b = 0; b < numBins; b++) {
      const re = spectrum[2 * b], im = spectrum[2 * b + 1];
      data[t * numBins + b] = Math.sqrt(re * re + im * im);
    }
  }
  // The feature: first maximum of each frame.
  const frequencyHz = new Float32Array(numFrames), magnitude = new Float32Array(numFrames);
  for (let t = 0; t < numFrames; t++) {
    const row = t * numBins;
    let best = 0;
    for (let b = 1; b < numBins; b++) if (data[row + b] > data[row + best]) best = b;
    frequencyHz[t] = best * sampleRate / nFft;
    magnitude[t] = data[row + best];
  }
  return { frequencyHz, magnitude };
}
