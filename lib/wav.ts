/**
 * WAV decoding (RIFF/WAVE bytes → mono Float32Array in [-1, 1]) and encoding.
 *
 * We parse the RIFF chunks ourselves rather than through wavefile: a strict parser gives a
 * precise one-line error for every kind of broken file, and a direct typed-array decode is
 * faster than wavefile's generic unpacking. wavefile is still used, as an independent implementation, to write the
 * files that the round-trip tests read back (tests/wav_test.ts).
 * @module
 */
import { ParameterError, WavFormatError } from "./errors.ts";
import { assertValidAudio, type Waveform } from "./types.ts";

/** A decoded WAV file, averaged to mono. */
export interface WavAudio extends Waveform {
  /** Channels in the file (the samples are their mean). */
  channels: number;
  /** Bits per sample in the file: 8, 16, 24, 32 or 64. */
  bitDepth: number;
  /** Sample encoding in the file. */
  encoding: "pcm" | "float";
  /** Length in seconds. */
  durationS: number;
}

const WAVE_FORMAT_PCM = 1;
const WAVE_FORMAT_IEEE_FLOAT = 3;
const WAVE_FORMAT_EXTENSIBLE = 0xfffe;

function fourCC(bytes: Uint8Array, at: number): string {
  return String.fromCharCode(bytes[at], bytes[at + 1], bytes[at + 2], bytes[at + 3]);
}

interface FormatChunk {
  encoding: "pcm" | "float";
  channels: number;
  sampleRate: number;
  bitDepth: number;
  blockAlign: number;
}

function parseFormat(view: DataView, at: number, size: number): FormatChunk {
  if (size < 16) throw new WavFormatError(`Cannot read WAV: fmt chunk is ${size} bytes, expected at least 16`);
  let tag = view.getUint16(at, true);
  const channels = view.getUint16(at + 2, true);
  const sampleRate = view.getUint32(at + 4, true);
  const blockAlign = view.getUint16(at + 12, true);
  const bitDepth = view.getUint16(at + 14, true);
  if (tag === WAVE_FORMAT_EXTENSIBLE) {
    if (size < 26) throw new WavFormatError(`Cannot read WAV: extensible fmt chunk is ${size} bytes, expected 40`);
    tag = view.getUint16(at + 24, true); // first two bytes of the SubFormat GUID
  }
  let encoding: "pcm" | "float";
  if (tag === WAVE_FORMAT_PCM && [8, 16, 24, 32].includes(bitDepth)) encoding = "pcm";
  else if (tag === WAVE_FORMAT_IEEE_FLOAT && (bitDepth === 32 || bitDepth === 64)) encoding = "float";
  else {
    throw new WavFormatError(
      `Cannot read WAV: format tag ${tag} with ${bitDepth} bits per sample is not supported, expected PCM 8/16/24/32 or float 32/64`,
    );
  }
  if (channels < 1) throw new WavFormatError(`Cannot read WAV: channel count is ${channels}`);
  if (sampleRate < 1) throw new WavFormatError(`Cannot read WAV: sample rate is ${sampleRate}`);
  if (blockAlign !== channels * bitDepth / 8) {
    throw new WavFormatError(
      `Cannot read WAV: block align is ${blockAlign}, expected ${
        channels * bitDepth / 8
      } for ${channels} channel(s) of ${bitDepth} bits`,
    );
  }
  return { encoding, channels, sampleRate, bitDepth, blockAlign };
}

/** Decodes interleaved frames to their per-frame channel mean, scaled to [-1, 1]
 * the way librosa/soundfile do: int16 / 32768, (uint8 - 128) / 128, int24 / 2^23, int32 / 2^31.
 * Several channels are summed in float64 and divided once, so identical channels give back
 * exactly the samples of one. */
function decodeSamples(bytes: Uint8Array, at: number, frames: number, fmt: FormatChunk): Float32Array {
  const out = new Float32Array(frames);
  const { channels, bitDepth, encoding } = fmt;
  const view = new DataView(bytes.buffer, bytes.byteOffset + at, frames * fmt.blockAlign);
  const n = frames * channels;
  const sum: Float32Array | Float64Array = channels === 1 ? out : new Float64Array(frames);
  if (encoding === "pcm" && bitDepth === 16 && channels === 1 && (bytes.byteOffset + at) % 2 === 0) {
    const ints = new Int16Array(bytes.buffer, bytes.byteOffset + at, n); // WAV is little-endian, like every platform we run on
    for (let i = 0; i < frames; i++) out[i] = ints[i] / 32768;
    return out;
  }
  if (encoding === "pcm" && bitDepth === 16) {
    for (let i = 0; i < n; i++) sum[(i / channels) | 0] += view.getInt16(2 * i, true) / 32768;
  } else if (encoding === "pcm" && bitDepth === 8) {
    for (let i = 0; i < n; i++) sum[(i / channels) | 0] += (view.getUint8(i) - 128) / 128;
  } else if (encoding === "pcm" && bitDepth === 24) {
    for (let i = 0; i < n; i++) {
      const b = 3 * i;
      const v = view.getUint8(b) | (view.getUint8(b + 1) << 8) | (view.getInt8(b + 2) << 16);
      sum[(i / channels) | 0] += v / 8388608;
    }
  } else if (encoding === "pcm") {
    for (let i = 0; i < n; i++) sum[(i / channels) | 0] += view.getInt32(4 * i, true) / 2147483648;
  } else if (bitDepth === 32) {
    for (let i = 0; i < n; i++) sum[(i / channels) | 0] += view.getFloat32(4 * i, true);
  } else {
    for (let i = 0; i < n; i++) sum[(i / channels) | 0] += view.getFloat64(8 * i, true);
  }
  if (channels > 1) { for (let i = 0; i < frames; i++) out[i] = sum[i] / channels; }
  if (encoding === "float") {
    for (let i = 0; i < frames; i++) {
      if (!Number.isFinite(out[i])) {
        throw new WavFormatError(`Cannot read WAV: sample ${i} is ${out[i]}, expected a finite float`);
      }
    }
  }
  return out;
}

/** What a WAV header says: the format and where the samples are. */
export interface WavHeader {
  /** Sample encoding. */
  encoding: "pcm" | "float";
  /** Channels per frame. */
  channels: number;
  /** Frames per second, in Hz (as the header says; ≥ 1). */
  sampleRate: number;
  /** Bits per sample: 8, 16, 24, 32 or 64. */
  bitDepth: number;
  /** Bytes per frame. */
  blockAlign: number;
  /** Byte offset of the first frame in the file. */
  dataOffset: number;
  /** Whole frames in the data chunk (≥ 0). */
  frames: number;
  /** `frames / sampleRate`, in seconds. */
  durationS: number;
}

/** A RIFF or data size field that streaming writers leave when they cannot seek back: the chunk runs to the end. */
function isUnknownSize(size: number): boolean {
  return size === 0 || size === 0xffffffff;
}

/**
 * Parses a RIFF/WAVE header without decoding samples, so a caller can check the format and duration
 * before reading or decoding a large file.
 * A RIFF or data size of 0 or 0xFFFFFFFF (left by recorders that write while recording) means "to the end of the
 * file", as soundfile and ffmpeg read it; an unknown-size data chunk ends at the last whole frame.
 * @param bytes The file, or its first bytes (enough to hold the fmt chunk and the data chunk's header).
 * @param fileSize Length of the whole file in bytes, ≥ `bytes.length`. @default {bytes.length}
 * @throws {WavFormatError} As {@linkcode readWav}, except for problems in the samples themselves.
 */
export function readWavHeader(bytes: Uint8Array, fileSize: number = bytes.length): WavHeader {
  if (!(bytes instanceof Uint8Array)) throw new WavFormatError("Cannot read WAV: input is not a Uint8Array");
  if (bytes.length < 12) {
    throw new WavFormatError(`Cannot read WAV: file is ${bytes.length} bytes, too short for a RIFF header`);
  }
  if (fourCC(bytes, 0) !== "RIFF" || fourCC(bytes, 8) !== "WAVE") {
    throw new WavFormatError(
      `Cannot read WAV: not a RIFF/WAVE file (starts with "${fourCC(bytes, 0).replace(/[^\x20-\x7e]/g, "?")}")`,
    );
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const riffSize = view.getUint32(4, true);
  const riffEnd = isUnknownSize(riffSize) ? fileSize : 8 + riffSize;
  if (riffEnd > fileSize) {
    throw new WavFormatError(
      `Cannot read WAV: RIFF size says ${riffEnd} bytes but the file has ${fileSize} (truncated)`,
    );
  }
  let fmt: FormatChunk | undefined;
  let at = 12;
  while (at + 8 <= riffEnd) {
    if (at + 8 > bytes.length) break; // the header goes on past the bytes we were given
    const id = fourCC(bytes, at);
    const size = view.getUint32(at + 4, true);
    const body = at + 8;
    if (id === "data") {
      if (!fmt) throw new WavFormatError("Cannot read WAV: data chunk comes before the fmt chunk");
      let frames: number;
      if (isUnknownSize(size)) frames = Math.floor((riffEnd - body) / fmt.blockAlign);
      else {
        if (body + size > riffEnd) {
          throw new WavFormatError(
            `Cannot read WAV: "data" chunk of ${size} bytes runs past the end of the file (truncated)`,
          );
        }
        if (size % fmt.blockAlign !== 0) {
          throw new WavFormatError(
            `Cannot read WAV: data chunk of ${size} bytes is not a whole number of ${fmt.blockAlign}-byte frames`,
          );
        }
        frames = size / fmt.blockAlign;
      }
      return { ...fmt, dataOffset: body, frames, durationS: frames / fmt.sampleRate };
    }
    if (body + size > riffEnd) {
      throw new WavFormatError(
        `Cannot read WAV: "${
          id.replace(/[^\x20-\x7e]/g, "?")
        }" chunk of ${size} bytes runs past the end of the file (truncated)`,
      );
    }
    if (id === "fmt ") {
      if (body + size > bytes.length) {
        throw new WavFormatError(`Cannot read WAV: the fmt chunk ends past the first ${bytes.length} bytes`);
      }
      fmt = parseFormat(view, body, size);
    }
    at = body + size + (size % 2); // chunks are padded to an even length
  }
  if (at + 8 <= riffEnd) {
    throw new WavFormatError(`Cannot read WAV: no data chunk in the first ${bytes.length} bytes`);
  }
  throw new WavFormatError(fmt ? "Cannot read WAV: no data chunk" : "Cannot read WAV: no fmt chunk");
}

/**
 * Reads a RIFF/WAVE file and averages its channels to mono.
 * Files from streaming writers (RIFF or data size 0 or 0xFFFFFFFF) are read to the end, see {@linkcode readWavHeader}.
 * @param bytes The whole file.
 * @returns Samples in [-1, 1] (float files are passed through unscaled), with the file's facts.
 * @throws {WavFormatError} Not RIFF/WAVE; a chunk size that runs past the end of the file or
 *   disagrees with the format; no fmt or data chunk; zero samples; an unsupported encoding; a
 *   float sample that is NaN or infinite (or overflows float32 when averaged).
 * @example Usage
 * ```ts
 * const bytes = encodeWav({ samples: new Float32Array([0, 0.5, -0.25]), sampleRate: 4000 }, { channels: 2 });
 * const wav = readWav(bytes); // e.g. await Deno.readFile("data/set_a/normal__201101070538.wav")
 * assertEquals([wav.channels, wav.durationS, ...wav.samples], [2, 0.00075, 0, 0.5, -0.25]);
 * ```
 */
export function readWav(bytes: Uint8Array): WavAudio {
  const header = readWavHeader(bytes);
  if (header.frames === 0) throw new WavFormatError("Cannot read WAV: the data chunk holds zero samples");
  const samples = decodeSamples(bytes, header.dataOffset, header.frames, header);
  return {
    samples,
    sampleRate: header.sampleRate,
    channels: header.channels,
    bitDepth: header.bitDepth,
    encoding: header.encoding,
    durationS: header.durationS,
  };
}

/** Options of {@linkcode encodeWav}. */
export interface EncodeWavOptions {
  /** Bits per sample: 8, 16, 24 or 32 for PCM; 32 or 64 for float. @default {16} (64 implies float) */
  bitDepth?: 8 | 16 | 24 | 32 | 64;
  /** Sample encoding. @default {"pcm"}, or `"float"` when `bitDepth` is 64 */
  encoding?: "pcm" | "float";
  /** Channels to write, each a copy of the mono samples; an integer in 1 … 64. @default {1} */
  channels?: number;
}

/**
 * Writes a mono waveform as a RIFF/WAVE file, the inverse of {@linkcode readWav}.
 * PCM quantises with the reader's scaling (round(x·2^(bits−1)), 8-bit offset by 128), clipping
 * to the integer range, so samples that are multiples of 2^−(bits−1) in [−1, 1) survive a round
 * trip exactly; float 32 is exact for Float32Array input, and so is float 64.
 * Float files get an 18-byte fmt chunk and a fact chunk, as the WAV spec asks of non-PCM data.
 * @param wave Mono samples (finite) and an integer sample rate in 1 … 2^32 − 1 Hz.
 * @throws {ParameterError} Bad samples, rate, bit depth, encoding or channel count.
 * @example Usage
 * ```ts
 * const wave = { samples: new Float32Array([0, 0.5, -0.5]), sampleRate: 4000 };
 * const back = readWav(encodeWav(wave, { bitDepth: 24 }));
 * assertEquals([...back.samples], [0, 0.5, -0.5]);
 * ```
 */
export function encodeWav(wave: Waveform, options: EncodeWavOptions = {}): Uint8Array {
  assertValidAudio(wave, "encode WAV");
  const bitDepth = options.bitDepth ?? 16;
  const encoding = options.encoding ?? (bitDepth === 64 ? "float" : "pcm");
  const channels = options.channels ?? 1;
  const { samples, sampleRate } = wave;
  if (!Number.isInteger(sampleRate) || sampleRate > 0xffffffff) {
    throw new ParameterError(
      `Cannot encode WAV: sample rate is ${sampleRate}, expected an integer in 1 … 4294967295 Hz`,
    );
  }
  const pcm = encoding === "pcm" && [8, 16, 24, 32].includes(bitDepth);
  const float = encoding === "float" && (bitDepth === 32 || bitDepth === 64);
  if (!pcm && !float) {
    throw new ParameterError(
      `Cannot encode WAV: ${encoding} with ${bitDepth} bits per sample, expected PCM 8/16/24/32 or float 32/64`,
    );
  }
  if (!Number.isInteger(channels) || channels < 1 || channels > 64) {
    throw new ParameterError(`Cannot encode WAV: channel count is ${channels}, expected an integer in 1 … 64`);
  }
  const bytesPerSample = bitDepth / 8;
  const blockAlign = channels * bytesPerSample;
  const dataSize = samples.length * blockAlign;
  if (dataSize > 0xffffffff - 100) throw new ParameterError(`Cannot encode WAV: ${dataSize} data bytes exceed 4 GiB`);
  const fmtSize = float ? 18 : 16;
  const factSize = float ? 12 : 0;
  const pad = dataSize % 2;
  const total = 12 + 8 + fmtSize + factSize + 8 + dataSize + pad;
  const bytes = new Uint8Array(total);
  const view = new DataView(bytes.buffer);
  const writeId = (at: number, id: string) => {
    for (let i = 0; i < 4; i++) bytes[at + i] = id.charCodeAt(i);
  };
  writeId(0, "RIFF");
  view.setUint32(4, total - 8, true);
  writeId(8, "WAVE");
  writeId(12, "fmt ");
  view.setUint32(16, fmtSize, true);
  view.setUint16(20, float ? WAVE_FORMAT_IEEE_FLOAT : WAVE_FORMAT_PCM, true);
  view.setUint16(22, channels, true);
  view.setUint32(24, sampleRate, true);
  view.setUint32(28, sampleRate * blockAlign, true);
  view.setUint16(32, blockAlign, true);
  view.setUint16(34, bitDepth, true);
  let at = 36;
  if (float) {
    view.setUint16(at, 0, true); // cbSize
    at += 2;
    writeId(at, "fact");
    view.setUint32(at + 4, 4, true);
    view.setUint32(at + 8, samples.length, true);
    at += 12;
  }
  writeId(at, "data");
  view.setUint32(at + 4, dataSize, true);
  at += 8;
  const full = 2 ** (bitDepth - 1);
  const quantise = (x: number) => Math.min(full - 1, Math.max(-full, Math.round(x * full)));
  for (let i = 0; i < samples.length; i++) {
    const x = samples[i];
    for (let c = 0; c < channels; c++, at += bytesPerSample) {
      if (float) {
        if (bitDepth === 32) view.setFloat32(at, x, true);
        else view.setFloat64(at, x, true);
      } else if (bitDepth === 8) view.setUint8(at, quantise(x) + 128);
      else if (bitDepth === 16) view.setInt16(at, quantise(x), true);
      else if (bitDepth === 32) view.setInt32(at, quantise(x), true);
      else {
        const v = quantise(x);
        view.setUint8(at, v & 0xff);
        view.setUint8(at + 1, (v >> 8) & 0xff);
        view.setInt8(at + 2, v >> 16);
      }
    }
  }
  return bytes;
}
