/** A model folder is untrusted input (issue 17): every file it names stays inside it, its JSON files are checked
 * against a schema, its sizes against the manifest, and every problem is one line from both the module API and the
 * CLI. The crafted folders are copies of the shipped model with one thing changed. */
import assert from "node:assert/strict";
import { loadClassifier as loadClassifierCore } from "../lib/classifier.ts";
import { HeartSoundError, ModelError } from "../lib/errors.ts";
import { loadClassifier } from "../lib/infer.ts";
import { denoReadFile, fetchBytes, readModelFolder, resolveInside } from "../lib/model_folder.ts";
import { checkModelJson, checkPreprocessing, checkStackFile, MAX_WEIGHT_BYTES } from "../lib/model_schema.ts";
import { ROOT, SHIPPED_MODEL_DIR } from "./_infer_fixtures.ts";

type Json = Record<string, unknown>;
const decoder = new TextDecoder();
const encoder = new TextEncoder();

/** The shipped model's files by name. */
const SHIPPED: Record<string, Uint8Array> = Object.fromEntries(
  [...Deno.readDirSync(SHIPPED_MODEL_DIR)].filter((e) => e.isFile).map((e) => [
    e.name,
    Deno.readFileSync(`${SHIPPED_MODEL_DIR}/${e.name}`),
  ]),
);
const shippedJson = (name: string): Json => JSON.parse(decoder.decode(SHIPPED[name]));

/** A copy of the shipped model folder with `files` replaced (objects are written as JSON, strings as they are). */
async function craftedFolder(files: Record<string, Json | string | Uint8Array> = {}): Promise<string> {
  const dir = await Deno.makeTempDir({ prefix: "heartbeat_model_" });
  for (const [name, bytes] of Object.entries(SHIPPED)) await Deno.writeFile(`${dir}/${name}`, bytes);
  for (const [name, contents] of Object.entries(files)) {
    const bytes = contents instanceof Uint8Array
      ? contents
      : encoder.encode(typeof contents === "string" ? contents : JSON.stringify(contents));
    await Deno.writeFile(`${dir}/${name}`, bytes);
  }
  return dir;
}

/** The one-line ModelError loading `dir` gives (module API); fails the test on a load or another error type. */
async function loadError(dir: string): Promise<string> {
  try {
    await loadClassifier(new URL(`file://${dir}/model.json`));
  } catch (error) {
    assert.ok(error instanceof ModelError, `${error?.constructor?.name}: ${error}`);
    assert.ok(!error.message.includes("\n"), error.message);
    assert.match(error.message, /^Cannot load model: /);
    return error.message;
  }
  assert.fail(`${dir} loaded`);
}

async function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-R", `${ROOT}/lib/infer.ts`, ...args],
    cwd: ROOT,
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1" },
    signal: AbortSignal.timeout(60_000),
  }).output();
  return { code: out.code, stdout: decoder.decode(out.stdout), stderr: decoder.decode(out.stderr) };
}

Deno.test("resolveInside() takes plain relative names and refuses every way out of the folder", () => {
  const folder = new URL("file:///m/model.json");
  assert.equal(resolveInside(folder, "weights.bin").href, "file:///m/weights.bin");
  assert.equal(resolveInside(folder, "group1-shard1of2.bin").href, "file:///m/group1-shard1of2.bin");
  assert.equal(resolveInside(folder, "sub/a b.bin").href, "file:///m/sub/a%20b.bin");
  const remote = new URL("https://models.example/m/v1/model.json");
  assert.equal(resolveInside(remote, "stack.json").href, "https://models.example/m/v1/stack.json");
  const bad: unknown[] = [
    "",
    "..",
    ".",
    "./w.bin",
    "../x.bin",
    "a/../../x.bin",
    "a/./b.bin",
    "/etc/passwd",
    "//evil.example/w.bin",
    "file:///etc/passwd",
    "file:w.bin",
    "https://evil.example/w.bin",
    "C:\\x.bin",
    "..\\..\\x",
    "a\\b.bin",
    "%2e%2e/x.bin",
    "%2E%2E%2Fx.bin",
    "a%5c..%5cx",
    "sub/a%20b.bin",
    "w.bin?x=1",
    "w.bin#x",
    ".hidden",
    "a//b.bin",
    "a/",
    "w\u0000.bin",
    "x".repeat(201),
    null,
    3,
    ["w.bin"],
  ];
  for (const path of bad) {
    assert.throws(
      () => resolveInside(remote, path as string),
      (e: unknown) => e instanceof ModelError && /is not a file inside the model folder/.test(e.message),
      JSON.stringify(path),
    );
  }
});

Deno.test("a model folder naming files outside it is refused, and the error shows none of their contents", async () => {
  const pp = shippedJson("preprocessing.json");
  const model = shippedJson("model.json") as { weightsManifest: { paths: string[] }[] };
  const cases: [string, Record<string, Json>, RegExp][] = [
    ["stack.file as a file: URL", {
      "preprocessing.json": { ...pp, stack: { kind: "hand-features-xgboost", file: "file:///etc/passwd" } },
    }, /stack\.file "file:\/\/\/etc\/passwd" is not a file inside/],
    [
      "a member with backslashes",
      { "preprocessing.json": { ...pp, members: ["weights.bin", "..\\..\\x"] } },
      /members\[1\] "\.\.\\\\\.\.\\\\x" is not a file inside/,
    ],
    [
      "a member with %2e%2e",
      { "preprocessing.json": { ...pp, members: ["weights.bin", "%2e%2e%2fx"] } },
      /members\[1\]/,
    ],
    ["a manifest path with ..", {
      "model.json": { ...model, weightsManifest: [{ ...model.weightsManifest[0], paths: ["../../../../etc/passwd"] }] },
    }, /weightsManifest\[0\]\.paths\[0\] "\.\.\/\.\.\/\.\.\/\.\.\/etc\/passwd" is not a file inside/],
    ["an absolute manifest path", {
      "model.json": { ...model, weightsManifest: [{ ...model.weightsManifest[0], paths: ["/etc/passwd"] }] },
    }, /paths\[0\] "\/etc\/passwd" is not a file inside/],
  ];
  for (const [what, files, error] of cases) {
    const dir = await craftedFolder(files);
    try {
      const message = await loadError(dir);
      assert.match(message, error, what);
      assert.doesNotMatch(message, /root:/, what);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  }
});

Deno.test("a file inside the folder that is not JSON is named, not quoted", async () => {
  const dir = await craftedFolder({ "stack.json": "root:x:0:0:root:/root:/bin/bash\n" });
  try {
    const message = await loadError(dir);
    assert.match(message, /stack\.json: not valid JSON$/);
    assert.doesNotMatch(message, /root:x/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

/** preprocessing.json edits and the error each gives. */
const PREPROCESSING_CASES: [string, (p: Json) => void, RegExp][] = [
  ["hopFrames 0", (p) => p.hopFrames = 0, /preprocessing\.json: hopFrames is 0, expected an integer in 5 … 10000$/],
  ["hopFrames 0.001", (p) => p.hopFrames = 0.001, /hopFrames is 0\.001, expected an integer/],
  ['hopFrames "38"', (p) => p.hopFrames = "38", /hopFrames is "38", expected an integer/],
  [
    "targetSampleRate 1e7",
    (p) => p.targetSampleRate = 1e7,
    /targetSampleRate is 10000000, expected a number in 1000 … 48000/,
  ],
  ["no bandpassHz", (p) => delete p.bandpassHz, /bandpassHz is missing, expected a list/],
  ["bandpassHz of 3", (p) => p.bandpassHz = [25, 400, 900], /bandpassHz has 3 items, expected 2/],
  ["bandpassHz reversed", (p) => p.bandpassHz = [900, 25], /bandpassHz\[1\] is 25, expected a number in 900 … 1000/],
  ["nFft not a power of two", (p) => p.nFft = 100, /nFft is 100, expected a power of two/],
  ["negative nMels", (p) => p.nMels = -16, /nMels is -16, expected an integer in 1 … 65/],
  ["hopLength 1", (p) => p.hopLength = 1, /hopLength is 1, expected an integer in 16 … 128/],
  ["fMaxHz above Nyquist", (p) => p.fMaxHz = 5000, /fMaxHz is 5000, expected a number in 25 … 1000/],
  ["labels null", (p) => p.labels = null, /labels is null, expected a list/],
  ["labelIds shorter than labels", (p) => p.labelIds = [0, 1], /labelIds has 2 items, expected 4/],
  ["a label twice", (p) => p.labels = ["a", "a", "b", "c"], /labels has a name twice/],
  ["unknown kind", (p) => p.kind = "mfcc", /kind is "mfcc", expected "logmel-windows"/],
  ["version 2", (p) => p.version = 2, /version is 2, expected an integer in 1 … 1/],
  ["members not a list", (p) => p.members = "weights.bin", /members is "weights\.bin", expected a list/],
  ["stack without file", (p) => p.stack = { kind: "hand-features-xgboost" }, /stack\.file is missing/],
];

Deno.test("checkPreprocessing() names the field and the range of each bad value", () => {
  checkPreprocessing(shippedJson("preprocessing.json"), "preprocessing.json");
  for (const [what, edit, error] of PREPROCESSING_CASES) {
    const p = shippedJson("preprocessing.json");
    edit(p);
    assert.throws(
      () => checkPreprocessing(p, "preprocessing.json"),
      (e: unknown) => e instanceof ModelError && error.test(e.message) && !e.message.includes("\n"),
      what,
    );
  }
});

Deno.test("extra fields a newer model adds pass through the schema", () => {
  const p = { ...shippedJson("preprocessing.json"), calibration: { kind: "platt", a: 1 }, quality: {} };
  checkPreprocessing(p, "preprocessing.json");
  const s = shippedJson("stack.json");
  checkStackFile({ ...s, parameters: { ...(s.parameters as Json), extrastolePolicy: "demote" } }, "stack.json", 4);
});

/** stack.json edits and the error each gives. */
const STACK_CASES: [string, (s: Json & { parameters: Json; trees: Json }) => void, RegExp][] = [
  ["featureNames null", (s) => s.featureNames = null, /stack\.json: featureNames is null, expected a list$/],
  [
    "a prior of zeros",
    (s) => s.parameters.prior = [0, 0, 0, 0],
    /parameters\.prior\[0\] is 0, expected a number in 1e-9 … 1/,
  ],
  ["a prior of 3 classes", (s) => s.parameters.prior = [0.5, 0.25, 0.25], /parameters\.prior has 3 items, expected 4/],
  [
    "a prior not summing to 1",
    (s) => s.parameters.prior = [0.5, 0.5, 0.5, 0.5],
    /parameters\.prior sums to 2\.000, expected 1/,
  ],
  ["cnnWeight 2", (s) => s.parameters.cnnWeight = 2, /parameters\.cnnWeight is 2, expected a number in 0 … 1/],
  ["negative numTrees", (s) => s.trees.numTrees = -1, /trees\.numTrees is -1/],
  [
    "numNodes disagreeing with node",
    (s) => s.trees.numNodes = 7000,
    /trees\.node has \d+ characters, expected 18668/, // 7000 Uint16 codes in base64
  ],
  ["numClasses 3", (s) => s.trees.numClasses = 3, /trees\.numClasses is 3, expected an integer in 4 … 4/],
  ["value not text", (s) => s.trees.value = [1, 2], /trees\.value is \[1,2\], expected base64 text/],
  [
    "a calibration slope of NaN's JSON",
    (s) => s.parameters.calibration = { slope: null, intercept: 0 },
    /parameters\.calibration\.slope is null, expected a number/,
  ],
  [
    "quality trees of 4 classes",
    (s) => s.quality = { trees: s.trees, threshold: 0.5, reasons: [] },
    /quality\.trees\.numClasses is 4, expected an integer in 2 … 2/,
  ],
  [
    "a quality threshold above 1",
    (s) => s.quality = { trees: { ...s.trees, numClasses: 2 }, threshold: 2, reasons: [] },
    /quality\.threshold is 2, expected a number in 0 … 1/,
  ],
  [
    "a quality reason without spread",
    (s) =>
      s.quality = {
        trees: { ...s.trees, numClasses: 2 },
        threshold: 0.5,
        reasons: [{ feature: "x", median: 0, scale: 0 }],
      },
    /quality\.reasons\[0\]\.scale is 0/,
  ],
];

Deno.test("checkStackFile() names the field and the range of each bad value", () => {
  checkStackFile(shippedJson("stack.json"), "stack.json", 4);
  for (const [what, edit, error] of STACK_CASES) {
    const s = shippedJson("stack.json") as Json & { parameters: Json; trees: Json };
    edit(s);
    assert.throws(
      () => checkStackFile(s, "stack.json", 4),
      (e: unknown) => e instanceof ModelError && error.test(e.message) && !e.message.includes("\n"),
      what,
    );
  }
});

Deno.test("checkModelJson() gives the weights' bytes, and refuses a huge declared shape before anything is read", () => {
  const model = shippedJson("model.json") as Json & { weightsManifest: { weights: Json[] }[] };
  assert.equal(checkModelJson(model, "model.json"), SHIPPED["weights.bin"].length);
  const huge = structuredClone(model);
  huge.weightsManifest[0].weights[0].shape = [1e9, 1e9];
  assert.throws(() => checkModelJson(huge, "model.json"), /shape\[0\] is 1000000000, expected an integer in 0 … /);
  huge.weightsManifest[0].weights[0].shape = [65536, 65536];
  assert.throws(
    () => checkModelJson(huge, "model.json"),
    new RegExp(`weights\\[0\\]\\.shape makes the weights larger than ${MAX_WEIGHT_BYTES} bytes`),
  );
  const bad = structuredClone(model);
  bad.weightsManifest[0].weights[1].dtype = "complex64";
  assert.throws(() => checkModelJson(bad, "model.json"), /weights\[1\]\.dtype is "complex64", expected "float32"/);
  assert.throws(() => checkModelJson({ weightsManifest: [] }, "model.json"), /modelTopology is missing/);
});

Deno.test("weight files must have the bytes the manifest's shapes need", async () => {
  const own = SHIPPED["weights.bin"];
  for (
    const [what, bytes, error] of [
      ["short", own.subarray(0, 100), /weight files have 100 bytes, its manifest's shapes need 6760/],
      ["long", new Uint8Array(own.length + 4096), /weights\.bin: has 10856 bytes, more than the 6760 expected/],
    ] as const
  ) {
    const dir = await craftedFolder({ "weights.bin": bytes });
    try {
      assert.match(await loadError(dir), error, what);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  }
});

Deno.test("a model file that is a FIFO, /dev/zero or a folder gives one line at once", async () => {
  for (
    const [what, make, error] of [
      [
        "FIFO",
        (path: string) => new Deno.Command("mkfifo", { args: [path] }).output(),
        /weights-1\.bin: not a regular file/,
      ],
      ["/dev/zero", (path: string) => Deno.symlink("/dev/zero", path), /weights-1\.bin: not a regular file/],
      ["folder", (path: string) => Deno.mkdir(path), /weights-1\.bin: is a directory/],
    ] as const
  ) {
    const dir = await craftedFolder();
    try {
      await Deno.remove(`${dir}/weights-1.bin`);
      await make(`${dir}/weights-1.bin`);
      assert.match(await loadError(dir), error, what);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  }
});

Deno.test("denoReadFile() refuses a file over maxBytes before reading it, and tells Deno's refusal from the OS's", async () => {
  const url = new URL(`file://${SHIPPED_MODEL_DIR}/stack.json`);
  await assert.rejects(() => denoReadFile(url, 1000), /stack\.json: has \d+ bytes, more than the 1000 expected/);
  assert.equal((await denoReadFile(url)).length, SHIPPED["stack.json"].length);
  // a subprocess that may read lib/ only: Deno's refusal, not the OS's
  const denied = await new Deno.Command(Deno.execPath(), {
    args: ["run", `--allow-read=${ROOT}/lib`, "-"],
    stdin: "piped",
    stdout: "piped",
    env: { NO_COLOR: "1" },
  }).spawn();
  const writer = denied.stdin.getWriter();
  await writer.write(encoder.encode(
    `import { denoReadFile } from "${ROOT}/lib/model_folder.ts";
     await denoReadFile(new URL("file://${SHIPPED_MODEL_DIR}/model.json")).catch((e) => console.log(e.constructor.name, e.message));`,
  ));
  await writer.close();
  const out = decoder.decode((await denied.output()).stdout);
  assert.match(
    out,
    /^ModelError Cannot load model: file:\/\/.*model\.json: read access not granted \(run with -R\)\n$/,
  );
});

Deno.test("fetchBytes() stops reading a response longer than maxBytes, by its length or as it streams", async () => {
  const body = new Uint8Array(10_000);
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen: () => {} },
    (request) =>
      new URL(request.url).pathname === "/sized"
        ? new Response(body)
        : new Response(ReadableStream.from([body.subarray(0, 4000), body.subarray(4000)])),
  );
  try {
    const base = `http://127.0.0.1:${server.addr.port}`;
    await assert.rejects(
      () => fetchBytes(new URL(`${base}/sized`), 1000),
      /sized: has 10000 bytes, more than the 1000/,
    );
    await assert.rejects(
      () => fetchBytes(new URL(`${base}/streamed`), 5000),
      /streamed: has 10000 bytes, more than the 5000/,
    );
    assert.equal((await fetchBytes(new URL(`${base}/streamed`), 10_000)).length, 10_000);
  } finally {
    await server.shutdown();
  }
});

Deno.test("crafted folders: loadClassifier rejects with a one-line ModelError, the CLI exits 2 with one line", async () => {
  const pp = shippedJson("preprocessing.json");
  const stack = shippedJson("stack.json") as Json & { parameters: Json };
  const cases: [Record<string, Json | string>, RegExp][] = [
    [{ "preprocessing.json": { ...pp, hopFrames: 0 } }, /hopFrames is 0/],
    [{ "preprocessing.json": { ...pp, targetSampleRate: 1e7 } }, /targetSampleRate is 10000000/],
    [{ "stack.json": { ...stack, parameters: { ...stack.parameters, prior: [0, 0, 0, 0] } } }, /prior\[0\] is 0/],
    [
      { "stack.json": decoder.decode(SHIPPED["stack.json"]).replace(/"cnnWeight":[0-9.]+/, '"cnnWeight":1e999') },
      /cnnWeight is Infinity/,
    ],
    [
      { "preprocessing.json": { ...pp, stack: { kind: "hand-features-xgboost", file: "file:///etc/passwd" } } },
      /not a file inside/,
    ],
  ];
  for (const [files, error] of cases) {
    const dir = await craftedFolder(files);
    try {
      assert.match(await loadError(dir), error);
      const run = await cli(["--model", dir, `${ROOT}/examples/synthetic_normal.wav`]);
      assert.equal(run.code, 2, run.stderr);
      assert.equal(run.stdout, "");
      assert.match(run.stderr, /^Cannot load model: [^\n]*\n$/);
      assert.match(run.stderr, error);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  }
});

/** Every way the fuzz test changes one field's value. */
const MUTATIONS: [string, (v: unknown) => unknown][] = [
  ["deleted", () => undefined],
  ["null", () => null],
  ["as a string", (v) => JSON.stringify(v)],
  ["negated", (v) => typeof v === "number" ? -v : v],
  ["zero", () => 0],
  ["fractional", (v) => typeof v === "number" ? v + 0.001 : 0.001],
  ["huge", () => 1e9],
  ["an empty list", () => []],
  ["an object", () => ({})],
];

/** Dotted paths of every field of `value` (array items too, up to a few each). */
function fieldPaths(value: unknown, prefix: string[] = []): string[][] {
  if (value === null || typeof value !== "object") return [prefix];
  const keys = Array.isArray(value) ? value.keys().take(5).map(String).toArray() : Object.keys(value);
  return [prefix, ...keys.flatMap((k) => fieldPaths((value as Json)[k], [...prefix, k]))].filter((p) => p.length > 0);
}

function withField(root: Json, path: string[], change: (v: unknown) => unknown): Json {
  const copy = structuredClone(root);
  let at = copy as Json;
  for (const key of path.slice(0, -1)) at = at[key] as Json;
  const key = path.at(-1)!;
  const value = change(at[key]);
  if (value === undefined && !Array.isArray(at)) delete at[key];
  else at[key] = value;
  return copy;
}

/** Whether the fuzz test mutates this field: all of preprocessing.json and stack.json; model.json's manifest and the
 * top of its topology (lib/forward.ts checks the layers, tests/forward_test.ts tests that). */
function fuzzed(file: string, path: string[]): boolean {
  if (file === "stack.json") return path[0] !== "featureNames" || path.length === 1; // one mutation of the names
  if (file === "model.json") return path[0] !== "modelTopology" || path.length <= 2;
  return true;
}

Deno.test("fuzz: each field of preprocessing.json, stack.json and model.json's manifest mutated loads fine or gives one ModelError line", async () => {
  const wav = await Deno.readFile(`${ROOT}/examples/synthetic_murmur.wav`);
  const files = ["preprocessing.json", "stack.json", "model.json"];
  let cases = 0, loaded = 0, slowestMs = 0;
  for (const file of files) {
    const original = shippedJson(file);
    for (const path of fieldPaths(original)) {
      if (!fuzzed(file, path)) continue;
      for (const [how, change] of MUTATIONS) {
        const mutated = encoder.encode(JSON.stringify(withField(original, path, change)));
        const readFile = (url: URL) => {
          const name = url.pathname.split("/").pop()!;
          if (name === file) return Promise.resolve(mutated);
          if (!(name in SHIPPED)) return Promise.reject(new ModelError(`Cannot load model: no ${name}`));
          return Promise.resolve(SHIPPED[name]);
        };
        const started = performance.now();
        const what = `${file} ${path.join(".")} ${how}`;
        try {
          const classifier = await loadClassifierCore(`memory:/case-${cases}/model.json`, { readFile });
          loaded++;
          try {
            classifier.classifyWav(wav);
          } catch (error) {
            assert.ok(error instanceof HeartSoundError, `${what}: classify: ${error}`);
          }
        } catch (error) {
          assert.ok(error instanceof ModelError, `${what}: ${error?.constructor?.name}: ${error}`);
          assert.ok(!error.message.includes("\n"), `${what}: ${error.message}`);
        }
        slowestMs = Math.max(slowestMs, performance.now() - started);
        cases++;
      }
    }
  }
  assert.ok(cases > 300, `${cases} cases`);
  assert.ok(loaded > 0 && loaded < cases, `${loaded} of ${cases} loaded`);
  // a generous budget: loading the shipped model takes tens of milliseconds; a hang or a huge allocation takes far longer
  assert.ok(slowestMs < 5000, `slowest case ${slowestMs.toFixed(0)} ms`);
});

Deno.test("readModelFolder() checks the shipped folder and keeps its files as they are", async () => {
  const folder = await readModelFolder(new URL(`file://${SHIPPED_MODEL_DIR}/model.json`), denoReadFile);
  assert.equal(folder.weightSets.length, 3);
  assert.equal(folder.stack?.featureNames.length, (shippedJson("stack.json").featureNames as string[]).length);
});
