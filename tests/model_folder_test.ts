import assert from "node:assert/strict";
import { ModelError } from "../lib/errors.ts";
import { concatBytes, readModelFolder, resolveInside } from "../lib/model_folder.ts";

const MODEL_URL = new URL("../models/model.json", import.meta.url);

/** A readFile over the shipped model folder that records every URL it was asked for. */
function recordingReader(replace: Record<string, Uint8Array> = {}) {
  const asked: string[] = [];
  const readFile = (url: URL) => {
    asked.push(url.href);
    const name = url.pathname.split("/").pop()!;
    return replace[name] ? Promise.resolve(replace[name]) : Deno.readFile(url);
  };
  return { asked, readFile };
}

Deno.test("resolveInside() resolves plain names and refuses paths that leave the folder", () => {
  const folder = new URL("file:///m/model.json");
  assert.equal(resolveInside(folder, "weights.bin").href, "file:///m/weights.bin");
  assert.equal(resolveInside(folder, "sub/a b.bin").href, "file:///m/sub/a%20b.bin");
  for (
    const bad of [
      "",
      "../x.bin",
      "a/../../x.bin",
      "/etc/passwd",
      "a\\b.bin",
      "https://x.org/w.bin",
      "file:w.bin",
      "%2e%2e/x",
    ]
  ) {
    assert.throws(() => resolveInside(folder, bad), ModelError, bad);
  }
});

Deno.test("readModelFolder() reads every member, model.json's own weights once, and stack.json", async () => {
  const { asked, readFile } = recordingReader();
  const folder = await readModelFolder(MODEL_URL, readFile);
  const members = folder.preprocessing.kind === "logmel-windows" ? folder.preprocessing.members ?? [] : [];
  assert.equal(folder.weightSets.length, Math.max(1, members.length));
  const own = await Deno.readFile(new URL("weights.bin", MODEL_URL));
  assert.deepEqual(folder.weightSets[0], own);
  for (const w of folder.weightSets) assert.equal(w.length, own.length);
  assert.equal(asked.filter((u) => u.endsWith("/weights.bin")).length, 1);
  assert.equal(new Set(asked).size, asked.length);
  assert.equal(folder.stack?.version, 1);
  assert.ok(folder.weightSpecs.length > 0);
});

Deno.test("readModelFolder() refuses a member of another size and members outside the folder", async () => {
  const pp = JSON.parse(await Deno.readTextFile(new URL("preprocessing.json", MODEL_URL)));
  if (!pp.members) return;
  const short = recordingReader({ [pp.members[1]]: new Uint8Array(10) });
  await assert.rejects(() => readModelFolder(MODEL_URL, short.readFile), /has 10 bytes of weights/);
  const escaping = recordingReader({
    "preprocessing.json": new TextEncoder().encode(JSON.stringify({ ...pp, stack: { ...pp.stack, file: "../x" } })),
  });
  await assert.rejects(() => readModelFolder(MODEL_URL, escaping.readFile), /is not a file inside the model folder/);
});

Deno.test("concatBytes() joins in order", () => {
  assert.deepEqual(concatBytes([Uint8Array.of(1, 2), new Uint8Array(0), Uint8Array.of(3)]), Uint8Array.of(1, 2, 3));
});
