import assert from "node:assert/strict";
import { encodeWav, readWav, readWavHeader } from "../lib/wav.ts";
import { WavFormatError } from "../lib/errors.ts";
import { mulberry32 } from "../lib/rng.ts";
import { synthesizeHeartSound } from "../lib/synth.ts";
import { DATA_DIR, HAS_DATA } from "./_helpers.ts";
import { ROOT } from "./_infer_fixtures.ts";

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

/** Header fields (byte offset in a canonical header, width) and values that stress them: the rates below and around
 * the 1 kHz floor, channel counts and bit depths the format allows or not, sizes of streaming writers and liars. */
const HEADER_FIELDS: { name: string; at: (bytes: Uint8Array) => number; bytes: 2 | 4; values: number[] }[] = [
  { name: "RIFF size", at: () => 4, bytes: 4, values: [0, 1, 36, 0x7fffffff, 0xffffffff] },
  { name: "fmt size", at: () => 16, bytes: 4, values: [0, 14, 16, 18, 40, 0xffffffff] },
  { name: "format tag", at: () => 20, bytes: 2, values: [0, 1, 2, 3, 0xfffe, 0xffff] },
  { name: "channels", at: () => 22, bytes: 2, values: [0, 1, 2, 3, 8, 255, 65535] },
  { name: "sample rate", at: () => 24, bytes: 4, values: [0, 1, 2, 30, 999, 1000, 2000, 8000, 384000, 0xffffffff] },
  { name: "byte rate", at: () => 28, bytes: 4, values: [0, 1, 0xffffffff] },
  { name: "block align", at: () => 32, bytes: 2, values: [0, 1, 2, 3, 4, 6, 8, 65535] },
  { name: "bits per sample", at: () => 34, bytes: 2, values: [0, 1, 4, 8, 12, 16, 24, 32, 64, 65535] },
  {
    name: "data size",
    at: (bytes) => readWavHeader(bytes).dataOffset - 4,
    bytes: 4,
    values: [0, 1, 2, 3, 0x7fffffff, 0xfffffffe, 0xffffffff],
  },
];

/** One header-field rewrite of `bytes` (a new array), with what was done; the fields are where they are in
 * `canonical`, the unmutated file. */
function mutateField(
  bytes: Uint8Array,
  canonical: Uint8Array,
  rng: () => number,
): { bytes: Uint8Array; what: string } {
  const field = HEADER_FIELDS[Math.floor(rng() * HEADER_FIELDS.length)];
  const random = rng() < 0.2;
  const value = random
    ? Math.floor(rng() * 2 ** (8 * field.bytes))
    : field.values[Math.floor(rng() * field.values.length)];
  const out = bytes.slice();
  const view = new DataView(out.buffer);
  const at = field.at(canonical);
  if (at + field.bytes > out.length) return { bytes: out, what: "(too short to rewrite)" };
  if (field.bytes === 2) view.setUint16(at, value, true);
  else view.setUint32(at, value, true);
  return { bytes: out, what: `${field.name} = ${value}` };
}

Deno.test({
  name: "infer CLI on mutated WAVs gives each a result or one line, exit 0/1, within a time and memory budget",
  permissions: { read: true, write: true, run: true, env: true },
  fn: async () => {
    const rng = mulberry32(17);
    const seeds = [
      synthesizeHeartSound({ seed: 2, durationS: 6, sampleRate: 4000 }), // 48 kB, like the 1 Hz repro of issue 17
      synthesizeHeartSound({ seed: 3, durationS: 3, sampleRate: 2000, kind: "murmur" }),
    ].flatMap((wave) => [
      encodeWav(wave),
      encodeWav(wave, { bitDepth: 24, channels: 2 }),
      encodeWav(wave, { bitDepth: 32, encoding: "float" }),
      encodeWav(wave, { bitDepth: 8 }),
    ]);
    const dir = await Deno.makeTempDir({ prefix: "heartbeat_fuzz_cli_" });
    const cases: { path: string; what: string }[] = [];
    // every listed value of every field once, then random mixtures
    for (const field of HEADER_FIELDS) {
      for (const value of field.values) {
        const seed = seeds[cases.length % seeds.length];
        const bytes = seed.slice();
        const view = new DataView(bytes.buffer);
        if (field.bytes === 2) view.setUint16(field.at(seed), value, true);
        else view.setUint32(field.at(seed), value, true);
        const path = `${dir}/field_${String(cases.length).padStart(3, "0")}.wav`;
        await Deno.writeFile(path, bytes);
        cases.push({ path, what: `${field.name} = ${value}` });
      }
    }
    for (let i = 0; i < 100; i++) {
      const seed = seeds[i % seeds.length];
      let { bytes, what } = mutateField(seed, seed, rng);
      if (rng() < 0.3) {
        const second = mutateField(bytes, seed, rng);
        ({ bytes, what } = { bytes: second.bytes, what: `${what}, ${second.what}` });
      }
      if (rng() < 0.3) ({ bytes, what } = { bytes: mutate(bytes, rng), what: `${what}, bytes` });
      const path = `${dir}/case_${String(i).padStart(3, "0")}.wav`;
      await Deno.writeFile(path, bytes);
      cases.push({ path, what });
    }
    try {
      const batch = 40;
      let results = 0, errors = 0;
      for (let from = 0; from < cases.length; from += batch) {
        const part = cases.slice(from, from + batch);
        const out = await new Deno.Command(Deno.execPath(), {
          args: [
            "run",
            "-A",
            "--v8-flags=--max-old-space-size=256",
            `${ROOT}/tests/_peak_memory.ts`,
            "--json",
            "--jobs",
            "1",
            ...part.map((c) => c.path),
          ],
          stdout: "piped",
          stderr: "piped",
          env: { NO_COLOR: "1" },
          signal: AbortSignal.timeout(60_000), // budget: a hang (or minutes of work) is killed and fails below
        }).output();
        const stderr = new TextDecoder().decode(out.stderr).trim().split("\n").filter((l) => l);
        const what = `cases ${from}–${from + part.length - 1} (${part.map((c) => c.what).join("; ")})`;
        assert.ok(
          out.code === 0 || out.code === 1,
          `exit ${out.code} ${out.signal ?? ""} for ${what}: ${stderr.at(-1)}`,
        );
        const peak = stderr.at(-1)?.match(/^peak-rss-kb (\d+)$/);
        if (peak) {
          stderr.pop();
          assert.ok(Number(peak[1]) < 400_000, `peak memory ${peak[1]} kB for ${what}`);
        }
        const lines = new TextDecoder().decode(out.stdout).trim().split("\n");
        assert.equal(lines.length, part.length, what);
        lines.forEach((line, k) => {
          const row = JSON.parse(line);
          assert.equal(row.file, part[k].path);
          if ("error" in row) {
            errors++;
            assert.match(row.error, /^Cannot [^\n]+$/, `${part[k].what}: ${row.error}`);
          } else {
            results++;
            const p = Object.values(row.probabilities) as number[];
            assert.ok(p.every(Number.isFinite) && Number.isFinite(row.confidence), `${part[k].what}: ${line}`);
          }
        });
        for (const line of stderr) assert.match(line, /^\S+\.wav: Cannot [^\n]+$/, `stderr line for ${what}`);
      }
      console.log(`${results} classified, ${errors} refused with one line`);
      assert.ok(results > 10 && errors > 40, `${results} classified, ${errors} refused`);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
