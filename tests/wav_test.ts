import assert from "node:assert/strict";
// wavefile is only an independent writer/reader for these tests, so it stays out of lib/deps.ts.
// deno-lint-ignore no-import-prefix
import wavefile from "npm:wavefile@11.0.0";
import { encodeWav, readWav, readWavHeader } from "../lib/wav.ts";
import { ParameterError, WavFormatError } from "../lib/errors.ts";
import { mulberry32 } from "../lib/rng.ts";
import { DATA_DIR, needsData } from "./_helpers.ts";

/** Samples on the grid every bit depth represents exactly: multiples of 1/128 in [−1, 1). */
function gridSamples(length: number, seed: number): Float32Array {
  const rng = mulberry32(seed);
  const x = Float32Array.from({ length }, () => (Math.floor(rng() * 256) - 128) / 128);
  x[0] = -1;
  x[1] = 127 / 128;
  return x;
}

const FORMATS = [
  { bitDepth: 8, encoding: "pcm" },
  { bitDepth: 16, encoding: "pcm" },
  { bitDepth: 24, encoding: "pcm" },
  { bitDepth: 32, encoding: "pcm" },
  { bitDepth: 32, encoding: "float" },
  { bitDepth: 64, encoding: "float" },
] as const;

Deno.test("encodeWav() → readWav() round-trips every format and channel count exactly", async (t) => {
  for (const format of FORMATS) {
    for (const channels of [1, 2, 5]) {
      await t.step(`${format.encoding} ${format.bitDepth}-bit, ${channels} channel(s)`, () => {
        const samples = gridSamples(1001, format.bitDepth + channels); // odd length: 8-bit mono needs a pad byte
        const bytes = encodeWav({ samples, sampleRate: 4000 }, { ...format, channels });
        const wav = readWav(bytes);
        assert.deepEqual(wav.samples, samples);
        assert.equal(wav.sampleRate, 4000);
        assert.equal(wav.channels, channels);
        assert.equal(wav.bitDepth, format.bitDepth);
        assert.equal(wav.encoding, format.encoding);
        assert.equal(wav.durationS, 1001 / 4000);
        // wavefile, an independent reader, sees the same integers / floats.
        const other = new wavefile.WaveFile(bytes);
        const raw = other.getSamples(true, Float64Array) as unknown as Float64Array;
        const scale = format.encoding === "float" ? 1 : 2 ** (format.bitDepth - 1);
        const offset = format.bitDepth === 8 ? 128 : 0;
        for (let i = 0; i < 50; i++) assert.equal((raw[i * channels] - offset) / scale, samples[i]);
      });
    }
  }
});

Deno.test("encodeWav() quantises by rounding, clips, and rejects bad options", () => {
  const wav = readWav(
    encodeWav({ samples: new Float32Array([0.3, 1.5, -2, 1 / 100000, 1.5 / 32768]), sampleRate: 2000 }),
  );
  assert.deepEqual([...wav.samples], [Math.round(0.3 * 32768) / 32768, 32767 / 32768, -1, 0, 2 / 32768]);
  const bad: [() => unknown, string][] = [
    [() => encodeWav({ samples: new Float32Array(2), sampleRate: 4000.5 }), "sample rate is 4000.5"],
    [() => encodeWav({ samples: new Float32Array(2), sampleRate: 4000 }, { bitDepth: 12 as 8 }), "pcm with 12 bits"],
    [
      () => encodeWav({ samples: new Float32Array(2), sampleRate: 4000 }, { bitDepth: 16, encoding: "float" }),
      "float with 16",
    ],
    [() => encodeWav({ samples: new Float32Array(2), sampleRate: 4000 }, { channels: 0 }), "channel count is 0"],
    [() => encodeWav({ samples: new Float32Array([NaN]), sampleRate: 4000 }), "sample 0 is NaN"],
  ];
  for (const [fn, text] of bad) {
    assert.throws(
      fn,
      (e: unknown) =>
        e instanceof ParameterError && e.message.startsWith("Cannot encode WAV") && e.message.includes(text),
      text,
    );
  }
});

const WAVEFILE_DEPTHS = [
  ["8", 8, "pcm"],
  ["16", 16, "pcm"],
  ["24", 24, "pcm"],
  ["32", 32, "pcm"],
  ["32f", 32, "float"],
  [
    "64",
    64,
    "float",
  ],
] as const;

Deno.test("readWav() reads files written by wavefile (independent writer), averaging channels", async (t) => {
  for (const [code, bits, encoding] of WAVEFILE_DEPTHS) {
    for (const channels of [1, 2, 3]) {
      await t.step(`${code}, ${channels} channel(s)`, () => {
        const rng = mulberry32(bits * 10 + channels);
        const full = 2 ** (bits - 1);
        // Per channel: integers in the format's range (floats: multiples of 1/1024), different per channel.
        const perChannel = Array.from({ length: channels }, () =>
          Array.from({ length: 301 }, () => {
            const v = Math.floor(rng() * 2048) - 1024;
            return encoding === "float" ? v / 1024 : bits === 8 ? 128 + (v >> 3) : v * (full / 1024);
          }));
        const writer = new wavefile.WaveFile();
        writer.fromScratch(channels, 44100, code, channels === 1 ? perChannel[0] : perChannel);
        const wav = readWav(writer.toBuffer());
        assert.equal(wav.channels, channels);
        assert.equal(wav.bitDepth, bits);
        assert.equal(wav.encoding, encoding);
        assert.equal(wav.sampleRate, 44100);
        assert.equal(wav.samples.length, 301);
        for (let i = 0; i < 301; i++) {
          let mean = 0;
          for (const ch of perChannel) mean += encoding === "float" ? ch[i] : (ch[i] - (bits === 8 ? 128 : 0)) / full;
          assert.ok(
            Math.abs(wav.samples[i] - mean / channels) <= 3e-7,
            `sample ${i}: ${wav.samples[i]} vs ${mean / channels}`,
          );
        }
      });
    }
  }
});

interface Parts {
  riff?: string;
  wave?: string;
  tag?: number;
  channels?: number;
  sampleRate?: number;
  bitDepth?: number;
  blockAlign?: number;
  fmtSize?: number;
  subFormat?: number;
  dataBytes?: number;
  dataSizeField?: number;
  riffSizeDelta?: number;
  fmtAfterData?: boolean;
  omitFmt?: boolean;
  omitData?: boolean;
  extraChunk?: boolean;
}

/** Builds a WAV byte by byte, so each field can be set wrong on purpose. */
function buildWav(p: Parts = {}): Uint8Array {
  const channels = p.channels ?? 1, bitDepth = p.bitDepth ?? 16;
  const fmtSize = p.fmtSize ?? (p.tag === 0xfffe ? 40 : 16);
  const fmt = new Uint8Array(8 + fmtSize + (fmtSize % 2));
  const fv = new DataView(fmt.buffer);
  fmt.set([..."fmt "].map((c) => c.charCodeAt(0)));
  fv.setUint32(4, fmtSize, true);
  if (fmtSize >= 16) {
    fv.setUint16(8, p.tag ?? 1, true);
    fv.setUint16(10, channels, true);
    fv.setUint32(12, p.sampleRate ?? 4000, true);
    fv.setUint32(16, (p.sampleRate ?? 4000) * channels * bitDepth / 8, true);
    fv.setUint16(20, p.blockAlign ?? channels * bitDepth / 8, true);
    fv.setUint16(22, bitDepth, true);
  }
  if (fmtSize >= 26) fv.setUint16(32, p.subFormat ?? 1, true);
  const dataBytes = p.dataBytes ?? 8;
  const data = new Uint8Array(8 + dataBytes + (dataBytes % 2));
  data.set([..."data"].map((c) => c.charCodeAt(0)));
  new DataView(data.buffer).setUint32(4, p.dataSizeField ?? dataBytes, true);
  for (let i = 8; i < 8 + dataBytes; i++) data[i] = (i * 37) & 0x7f;
  const extra = p.extraChunk
    ? new Uint8Array([..."LIST"].map((c) => c.charCodeAt(0)).concat([3, 0, 0, 0, 1, 2, 3, 0]))
    : new Uint8Array();
  const chunks = [extra, ...(p.omitFmt ? [] : [fmt]), ...(p.omitData ? [] : [data])];
  if (p.fmtAfterData) chunks.reverse();
  const body = chunks.reduce((n, c) => n + c.length, 0);
  const out = new Uint8Array(12 + body);
  const ov = new DataView(out.buffer);
  out.set([...(p.riff ?? "RIFF")].map((c) => c.charCodeAt(0)), 0);
  ov.setUint32(4, 4 + body + (p.riffSizeDelta ?? 0), true);
  out.set([...(p.wave ?? "WAVE")].map((c) => c.charCodeAt(0)), 8);
  let at = 12;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}

Deno.test("readWav() accepts extensible headers, odd chunks and trailing bytes", () => {
  assert.equal(readWav(buildWav()).samples.length, 4);
  assert.equal(readWav(buildWav({ tag: 0xfffe, subFormat: 1, bitDepth: 24, dataBytes: 9 })).bitDepth, 24);
  assert.equal(readWav(buildWav({ tag: 0xfffe, subFormat: 3, bitDepth: 32, dataBytes: 8 })).encoding, "float");
  assert.equal(readWav(buildWav({ extraChunk: true })).samples.length, 4); // odd-sized LIST chunk with pad byte
  const padded = new Uint8Array([...buildWav(), 0, 0, 0]); // bytes past the RIFF end are ignored
  assert.equal(readWav(padded).samples.length, 4);
});

/** `bytes` with its RIFF size field and data size field set as a streaming writer leaves them. */
function withSizes(bytes: Uint8Array, riffSize: number, dataSize: number): Uint8Array {
  const out = bytes.slice();
  const view = new DataView(out.buffer);
  view.setUint32(4, riffSize, true);
  const at = readWavHeader(bytes).dataOffset - 4;
  view.setUint32(at, dataSize, true);
  return out;
}

Deno.test("readWav() reads streaming-writer files (size 0 or 0xFFFFFFFF) to the end of the file", async (t) => {
  const wave = { samples: gridSamples(101, 5), sampleRate: 4000 };
  const stereo = encodeWav(wave, { channels: 2, bitDepth: 24 });
  const expected = [...readWav(stereo).samples];
  for (const riff of [0, 0xffffffff, stereo.length - 8]) {
    for (const data of [0, 0xffffffff]) {
      await t.step(`RIFF size ${riff}, data size ${data}`, () => {
        const wav = readWav(withSizes(stereo, riff, data));
        assert.deepEqual([...wav.samples], expected);
        assert.equal(wav.durationS, 101 / 4000);
      });
    }
  }
  await t.step("RIFF size 0 with a known data size", () => {
    assert.deepEqual([...readWav(withSizes(stereo, 0, 101 * 6)).samples], expected);
  });
  await t.step("a frame cut short at the end is dropped", () => {
    const cut = withSizes(stereo, 0xffffffff, 0xffffffff).subarray(0, stereo.length - 4);
    assert.deepEqual([...readWav(cut).samples], expected.slice(0, 100));
  });
  await t.step("RIFF size 0 and no data chunk says so (not 'no fmt chunk')", () => {
    const noData = buildWav({ omitData: true });
    new DataView(noData.buffer).setUint32(4, 0, true);
    assert.throws(() => readWav(noData), /Cannot read WAV: no data chunk$/);
  });
});

Deno.test("readWavHeader() reads the format and duration from the first bytes of a file", () => {
  const bytes = encodeWav({ samples: gridSamples(8000, 6), sampleRate: 2000 }, { channels: 3 });
  const header = readWavHeader(bytes.subarray(0, 64), bytes.length);
  assert.deepEqual(header, {
    encoding: "pcm",
    channels: 3,
    sampleRate: 2000,
    bitDepth: 16,
    blockAlign: 6,
    dataOffset: 44,
    frames: 8000,
    durationS: 4,
  });
  const streaming = withSizes(bytes, 0xffffffff, 0xffffffff);
  assert.equal(readWavHeader(streaming.subarray(0, 64), bytes.length).frames, 8000);
  assert.throws(() => readWavHeader(bytes.subarray(0, 30), bytes.length), /fmt chunk ends past the first 30 bytes/);
  assert.throws(() => readWavHeader(bytes.subarray(0, 40), bytes.length), /no data chunk in the first 40 bytes/);
});

Deno.test("readWav() gives each class of bad input its WavFormatError", async (t) => {
  const cases: [string, Uint8Array | unknown, string][] = [
    ["not bytes", "RIFF", "input is not a Uint8Array"],
    ["empty", new Uint8Array(), "file is 0 bytes, too short for a RIFF header"],
    [
      "not RIFF",
      new TextEncoder().encode("ID3\x03 this is an mp3, honest"),
      'not a RIFF/WAVE file (starts with "ID3?")',
    ],
    ["RIFF but not WAVE", buildWav({ wave: "AVI " }), "not a RIFF/WAVE file"],
    ["truncated file", buildWav().subarray(0, 40), "RIFF size says 52 bytes but the file has 40 (truncated)"],
    ["chunk past the RIFF end", buildWav({ dataSizeField: 1000 }), '"data" chunk of 1000 bytes runs past the end'],
    [
      "data not whole frames",
      buildWav({ channels: 2, dataBytes: 6 }),
      "data chunk of 6 bytes is not a whole number of 4-byte frames",
    ],
    ["block align inconsistent", buildWav({ blockAlign: 3 }), "block align is 3, expected 2"],
    ["zero samples", buildWav({ dataBytes: 0 }), "the data chunk holds zero samples"],
    ["12-bit PCM", buildWav({ bitDepth: 12, blockAlign: 2 }), "format tag 1 with 12 bits per sample is not supported"],
    ["IMA ADPCM", buildWav({ tag: 0x11, bitDepth: 4, blockAlign: 256 }), "format tag 17 with 4 bits per sample"],
    ["MS ADPCM", buildWav({ tag: 2, bitDepth: 4, blockAlign: 256 }), "format tag 2 with 4 bits per sample"],
    ["16-bit float", buildWav({ tag: 3 }), "format tag 3 with 16 bits per sample"],
    ["extensible ADPCM", buildWav({ tag: 0xfffe, subFormat: 2 }), "format tag 2 with 16 bits"],
    ["short extensible fmt", buildWav({ tag: 0xfffe, fmtSize: 18 }), "extensible fmt chunk is 18 bytes"],
    ["short fmt", buildWav({ fmtSize: 14 }), "fmt chunk is 14 bytes, expected at least 16"],
    ["zero channels", buildWav({ channels: 0, blockAlign: 0 }), "channel count is 0"],
    ["zero sample rate", buildWav({ sampleRate: 0 }), "sample rate is 0"],
    ["no fmt chunk", buildWav({ omitFmt: true }), "data chunk comes before the fmt chunk"],
    ["data before fmt", buildWav({ fmtAfterData: true }), "data chunk comes before the fmt chunk"],
    ["no data chunk", buildWav({ omitData: true }), "no data chunk"],
    ["no chunks", buildWav({ omitData: true, omitFmt: true }), "no fmt chunk"],
    ["NaN float sample", encodeFloatWith(NaN), "sample 1 is NaN, expected a finite float"],
    ["infinite float sample", encodeFloatWith(Infinity), "sample 1 is Infinity"],
  ];
  for (const [name, bytes, text] of cases) {
    await t.step(name, () => {
      assert.throws(() => readWav(bytes as Uint8Array), (e: unknown) => {
        assert.ok(e instanceof WavFormatError, `${name}: got ${e}`);
        assert.equal(e.message, e.message.split("\n")[0], "one line");
        assert.ok(e.message.startsWith("Cannot read WAV: ") && e.message.includes(text), `${name}: "${e.message}"`);
        return true;
      });
    });
  }
});

/** A float32 WAV whose second sample is `value` (encodeWav refuses non-finite input, so patch the bytes). */
function encodeFloatWith(value: number): Uint8Array {
  const bytes = encodeWav({ samples: new Float32Array(3), sampleRate: 4000 }, { bitDepth: 32, encoding: "float" });
  const dataAt = bytes.length - 12; // three float32 samples end the file
  new DataView(bytes.buffer).setFloat32(dataAt + 4, value, true);
  return bytes;
}

Deno.test({
  name: "readWav() reads every real recording with the rate and duration labels.csv gives",
  ...needsData("labels.csv of the data folder", "labels.csv"),
  fn: async () => {
    const lines = (await Deno.readTextFile(`${DATA_DIR}/labels.csv`)).trim().split("\n");
    const header = lines[0].split(",");
    const col = (name: string) => header.indexOf(name);
    assert.ok(lines.length > 600);
    for (const line of lines.slice(1)) {
      const cells = line.split(",");
      const wav = readWav(await Deno.readFile(`${DATA_DIR}/${cells[col("path")]}`));
      assert.equal(wav.sampleRate, Number(cells[col("sample_rate")]), cells[0]);
      assert.ok(Math.abs(wav.durationS - Number(cells[col("duration_s")])) < 1e-4, `${cells[0]}: ${wav.durationS}`);
      assert.equal(wav.bitDepth, 16);
      assert.equal(wav.channels, 1);
      let min = Infinity, max = -Infinity;
      for (const x of wav.samples) {
        if (x < min) min = x;
        if (x > max) max = x;
      }
      assert.ok(min >= -1 && max < 1, `${cells[0]}: samples in [${min}, ${max}]`);
    }
  },
});
