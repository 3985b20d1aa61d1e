/** The model's identity (lib/model_folder.ts): name and version from preprocessing.json, a content hash of every file. */
import assert from "node:assert/strict";
import { ModelError } from "../lib/errors.ts";
import { loadClassifier } from "../lib/infer.ts";
import {
  denoReadFile,
  modelHash,
  modelJsonUrl,
  readModelFolder,
  UNNAMED_MODEL,
  UNVERSIONED_MODEL,
} from "../lib/model_folder.ts";
import { synthesizeHeartSound } from "../lib/synth.ts";
import { checkModelCard } from "../scripts/model_card.ts";
import { cliClassify, ROOT } from "./_bundle.ts";

const MODEL_URL = modelJsonUrl(`${ROOT}/models`);

async function sha256Prefix(bytes: Uint8Array): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes as Uint8Array<ArrayBuffer>));
  return Array.from(digest, (b) => b.toString(16).padStart(2, "0")).join("").slice(0, 16);
}

/** The shipped model's files, by name, with `edit` applied to one of them. */
function editedReader(name: string | null, edit: (bytes: Uint8Array) => Uint8Array) {
  return async (url: URL): Promise<Uint8Array> => {
    const bytes = await denoReadFile(url);
    return url.pathname.endsWith(`/${name}`) ? edit(bytes.slice()) : bytes;
  };
}

Deno.test("modelHash is SHA-256 of path, length and bytes of each file in path order, 16 hex digits", async () => {
  const enc = (s: string) => new TextEncoder().encode(s);
  const files = new Map([["weights.bin", enc("\u0001\u0002")], ["model.json", enc("{}")]]);
  const expected = await sha256Prefix(enc("model.json\n2\n{}weights.bin\n2\n\u0001\u0002"));
  assert.equal(modelHash(files), expected);
  assert.equal(modelHash(new Map([...files].reverse())), expected, "insertion order does not matter");
  assert.notEqual(modelHash(new Map([["model.json", enc("{}")]])), expected, "a file more or less changes it");
});

Deno.test("the shipped model's identity is on its card, in every result and in the CLI's JSON", async () => {
  const folder = await readModelFolder(MODEL_URL, denoReadFile);
  assert.equal(folder.identity.name, "heartbeat-default");
  assert.match(folder.identity.hash, /^[0-9a-f]{16}$/);
  assert.deepEqual(await checkModelCard(`${ROOT}/models`), folder.identity);

  const classifier = await loadClassifier();
  assert.deepEqual(classifier.model, folder.identity);
  const rec = synthesizeHeartSound({ kind: "normal", seed: 3, durationS: 4 });
  assert.deepEqual(classifier.classify(rec.samples, rec.sampleRate).model, folder.identity);

  const [line] = await cliClassify([`${ROOT}/examples/synthetic_normal.wav`]);
  assert.deepEqual((line as unknown as { model: unknown }).model, folder.identity);
});

Deno.test("changing any file of the model folder changes the hash", async () => {
  const original = (await readModelFolder(MODEL_URL, denoReadFile)).identity.hash;
  const preprocessing = JSON.parse(await Deno.readTextFile(`${ROOT}/models/preprocessing.json`));
  const model = JSON.parse(await Deno.readTextFile(`${ROOT}/models/model.json`));
  const names = [
    "model.json",
    "preprocessing.json",
    ...model.weightsManifest.flatMap((group: { paths: string[] }) => group.paths),
    ...preprocessing.members,
    preprocessing.stack.file,
  ];
  const hashes = new Set([original]);
  for (const name of new Set(names)) {
    // JSON stays valid with a trailing space; a weight file keeps its size with one bit flipped
    const edit = name.endsWith(".json")
      ? (b: Uint8Array) => Uint8Array.of(...b, 0x20)
      : (b: Uint8Array) => (b[b.length - 1] ^= 1, b);
    const { hash } = (await readModelFolder(MODEL_URL, editedReader(name, edit))).identity;
    assert.ok(!hashes.has(hash), `editing ${name} gives a new hash`);
    hashes.add(hash);
  }
  assert.equal(hashes.size, new Set(names).size + 1);
});

Deno.test("a model without name or modelVersion is unnamed and unversioned; a malformed one is refused", async () => {
  const rewrite = (change: (p: Record<string, unknown>) => void) =>
    editedReader("preprocessing.json", (bytes) => {
      const p = JSON.parse(new TextDecoder().decode(bytes));
      change(p);
      return new TextEncoder().encode(JSON.stringify(p));
    });
  const bare = await readModelFolder(MODEL_URL, rewrite((p) => (delete p.name, delete p.modelVersion)));
  assert.equal(bare.identity.name, UNNAMED_MODEL);
  assert.equal(bare.identity.version, UNVERSIONED_MODEL);
  await assert.rejects(
    readModelFolder(MODEL_URL, rewrite((p) => (p.modelVersion = 5))),
    (e: Error) => e instanceof ModelError && /modelVersion is 5, expected a non-empty string/.test(e.message),
  );
});
