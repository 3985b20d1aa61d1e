import assert from "node:assert/strict";
import { cachedFeatures, cacheStats, canonicalJson, decodeEntry, encodeEntry, sha256Hex } from "../lib/cache.ts";
import { createProgress } from "../lib/progress.ts";

Deno.test("sha256Hex() matches the FIPS 180-2 'abc' test vector", async () => {
  assert.equal(await sha256Hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
});

Deno.test("canonicalJson() sorts keys at every level and keeps array order", () => {
  assert.equal(canonicalJson({ b: 1, a: { d: [3, 1], c: null }, e: undefined }), '{"a":{"c":null,"d":[3,1]},"b":1}');
  assert.equal(canonicalJson({ x: 1, y: 2 }), canonicalJson({ y: 2, x: 1 }));
});

Deno.test("encodeEntry() / decodeEntry() round-trip arrays and meta bit for bit", () => {
  const a = Float32Array.from([1.5, -0, NaN, 3.4028234663852886e38, 1e-45]);
  const bytes = encodeEntry({
    arrays: { freq: a, mag: new Float32Array(0), x: Float32Array.of(7) },
    meta: { sr: 4000 },
  }, {
    key: "k",
  });
  const { record, header } = decodeEntry(bytes);
  assert.equal(header.key, "k");
  assert.deepEqual(record.meta, { sr: 4000 });
  assert.deepEqual(new Uint8Array(record.arrays.freq.buffer), new Uint8Array(a.buffer));
  assert.equal(record.arrays.mag.length, 0);
  assert.deepEqual([...record.arrays.x], [7]);
  assert.equal(bytes.length % 4, 0);
  assert.throws(() => decodeEntry(bytes.subarray(0, bytes.length - 4)), /truncated/);
});

Deno.test("cachedFeatures() computes once, then hits; a changed file, parameter or version misses", async () => {
  const dir = Deno.makeTempDirSync({ prefix: "heartbeat-cache-" });
  try {
    const wav = `${dir}/x.wav`;
    Deno.writeFileSync(wav, Uint8Array.of(1, 2, 3));
    let calls = 0;
    const compute = (bytes: Uint8Array) => {
      calls++;
      return { arrays: { v: Float32Array.from(bytes, (b) => b * 0.5) }, meta: { n: bytes.length } };
    };
    const opts = { dir: `${dir}/cache` };
    const first = await cachedFeatures(wav, { delta: 0.01, rate: null }, compute, opts);
    const hitsBefore = cacheStats.hits;
    const second = await cachedFeatures(wav, { rate: null, delta: 0.01 }, compute, opts); // key order irrelevant
    assert.equal(calls, 1);
    assert.equal(cacheStats.hits, hitsBefore + 1);
    assert.deepEqual([...second.arrays.v], [0.5, 1, 1.5]);
    assert.deepEqual(second, first);
    await cachedFeatures(wav, { delta: 0.001, rate: null }, compute, opts);
    assert.equal(calls, 2);
    await cachedFeatures(wav, { delta: 0.01, rate: null }, compute, { ...opts, codeVersion: "2" });
    assert.equal(calls, 3);
    Deno.writeFileSync(wav, Uint8Array.of(1, 2, 4));
    const changed = await cachedFeatures(wav, { delta: 0.01, rate: null }, compute, opts);
    assert.equal(calls, 4);
    assert.deepEqual([...changed.arrays.v], [0.5, 1, 2]);
    await cachedFeatures(wav, { delta: 0.01, rate: null }, compute, { ...opts, enabled: false });
    assert.equal(calls, 5);
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("createProgress() prints throttled lines when not a terminal and a final line", () => {
  const lines: string[] = [];
  const p = createProgress(4, "features", { terminal: false, intervalMs: 1e9, write: (t) => lines.push(t) });
  for (let i = 0; i < 4; i++) p.tick();
  p.done("cache 4 hits");
  assert.equal(lines.length, 1);
  assert.match(lines[0], /^features: 4\/4 \d+\.\d s cache 4 hits\n$/);
  const bar: string[] = [];
  const q = createProgress(2, "fold", { terminal: true, write: (t) => bar.push(t) });
  q.tick();
  assert.ok(bar[0].startsWith(`\r\x1b[2Kfold [${"#".repeat(12)}${"-".repeat(12)}] 1/2`), bar[0]);
});
