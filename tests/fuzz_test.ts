import assert from "node:assert/strict";
import { encodeWav, readWav } from "../lib/wav.ts";
import { WavFormatError } from "../lib/errors.ts";
import { mulberry32 } from "../lib/rng.ts";
import { synthesizeHeartSound } from "../lib/synth.ts";
import { DATA_DIR, HAS_DATA } from "./_helpers.ts";

/** Seed files: the smallest real recordings of each set when the data is present, plus synthetic
 * WAVs of every format (so the test runs without the data, and covers formats the data lacks). */
async function seedFiles(): Promise<{ name: string; bytes: Uint8Array }[]> {
  const seeds: { name: string; bytes: Uint8Array }[] = [];
  const wave = { samples: synthesizeHeartSound({ seed: 1, durationS: 0.05 }).samples, sampleRate: 4000 };
  for (
    const [bitDepth, encoding] of [[8, "pcm"], [16, "pcm"], [24, "pcm"], [32, "pcm"], [32, "float"], [
      64,
      "float",
    ]] as const
  ) {
    for (const channels of [1, 2]) {
      seeds.push({
        name: `synthetic ${encoding}${bitDepth}×${channels}`,
        bytes: encodeWav(wave, { bitDepth, encoding, channels }),
      });
    }
  }
  if (HAS_DATA) {
    for (const set of ["set_a", "set_b"]) {
      const files: { path: string; size: number }[] = [];
      for (const entry of Deno.readDirSync(`${DATA_DIR}/${set}`)) {
        if (!entry.name.endsWith(".wav")) continue;
        const path = `${DATA_DIR}/${set}/${entry.name}`;
        files.push({ path, size: Deno.statSync(path).size });
      }
      files.sort((a, b) => a.size - b.size || a.path.localeCompare(b.path));
      for (const f of files.slice(0, 3)) {
        seeds.push({ name: f.path.slice(DATA_DIR.length + 1), bytes: await Deno.readFile(f.path) });
      }
    }
  } else {
    console.log("SKIP: real dataset not found; fuzzing synthetic WAVs only");
  }
  return seeds;
}

/** One random mutation of `bytes` (a new array): bit flips, byte overwrites, truncation,
 * size-field rewrites, insertions or deletions; mostly in the header, where parsing happens. */
function mutate(bytes: Uint8Array, rng: () => number): Uint8Array {
  const pick = (n: number) => Math.floor(rng() * n);
  const headerPos = () => (rng() < 0.8 ? pick(Math.min(80, bytes.length)) : pick(bytes.length));
  const kind = pick(6);
  if (kind === 0) { // truncate
    return bytes.slice(0, pick(bytes.length + 1));
  }
  if (kind === 1) { // insert 1–8 random bytes
    const at = headerPos(), extra = Uint8Array.from({ length: 1 + pick(8) }, () => pick(256));
    const out = new Uint8Array(bytes.length + extra.length);
    out.set(bytes.subarray(0, at));
    out.set(extra, at);
    out.set(bytes.subarray(at), at + extra.length);
    return out;
  }
  if (kind === 2) { // delete 1–8 bytes
    const at = headerPos();
    const rest = bytes.subarray(at + 1 + pick(8));
    const out = new Uint8Array(at + rest.length);
    out.set(bytes.subarray(0, at));
    out.set(rest, at);
    return out;
  }
  const out = bytes.slice();
  if (kind === 3) { // rewrite a 32-bit little-endian field (RIFF/chunk sizes, rate, ...) with an edge or random value
    const at = 4 * pick(Math.min(20, out.length >> 2));
    const values = [0, 1, 2, 0x7fffffff, 0xffffffff, out.length, out.length - 8, out.length + 1, pick(2 ** 32)];
    new DataView(out.buffer).setUint32(at, values[pick(values.length)], true);
  } else if (kind === 4) { // rewrite a 16-bit field (format tag, channels, block align, bits)
    const at = 2 * pick(Math.min(40, out.length >> 1));
    const values = [0, 1, 2, 3, 4, 8, 12, 16, 24, 32, 64, 0xfffe, 0xffff, pick(65536)];
    new DataView(out.buffer).setUint16(at, values[pick(values.length)], true);
  } else { // flip 1–4 bits / overwrite bytes
    for (let k = 1 + pick(4); k > 0; k--) {
      const at = headerPos();
      out[at] = rng() < 0.5 ? out[at] ^ (1 << pick(8)) : pick(256);
    }
  }
  return out;
}

Deno.test("readWav() on thousands of mutated WAVs returns finite samples or throws WavFormatError", async () => {
  const seeds = await seedFiles();
  const rng = mulberry32(20261126);
  let accepted = 0, rejected = 0;
  const messages = new Set<string>();
  const rounds = 5000;
  for (let i = 0; i < rounds; i++) {
    const seed = seeds[i % seeds.length];
    let bytes = mutate(seed.bytes, rng);
    if (rng() < 0.3) bytes = mutate(bytes, rng); // sometimes two mutations
    let wav;
    try {
      wav = readWav(bytes);
    } catch (e) {
      if (!(e instanceof WavFormatError)) {
        assert.fail(`round ${i} (${seed.name}): ${e instanceof Error ? `${e.name}: ${e.message}` : e}`);
      }
      assert.ok(e.message.startsWith("Cannot read WAV: ") && !e.message.includes("\n"), e.message);
      messages.add(e.message.replace(/-?\d+(\.\d+)?/g, "#").replace(/"[^"]*"/g, '"…"'));
      rejected++;
      continue;
    }
    accepted++;
    assert.ok(wav.samples instanceof Float32Array && wav.samples.length >= 1, `round ${i}: no samples`);
    for (let j = 0; j < wav.samples.length; j++) {
      if (!Number.isFinite(wav.samples[j])) assert.fail(`round ${i} (${seed.name}): sample ${j} is ${wav.samples[j]}`);
    }
    assert.ok(wav.sampleRate >= 1 && wav.channels >= 1 && wav.durationS > 0 && Number.isFinite(wav.durationS));
  }
  // The mutations must exercise both outcomes and many distinct error paths.
  assert.ok(accepted > rounds / 20, `only ${accepted} mutated files were readable`);
  assert.ok(rejected > rounds / 4, `only ${rejected} mutated files were rejected`);
  console.log(`${accepted} readable, ${rejected} rejected with ${messages.size} distinct messages`);
  assert.ok(messages.size >= 10, `only ${messages.size} distinct errors: ${[...messages].join(" | ")}`);
});
