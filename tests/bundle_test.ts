/**
 * dist/heartbeat.js (`deno task build`) used from Node.js 20 in a subprocess, compared with the Deno CLI
 * on the same files. Skipped with a notice when Node.js ≥ 20 is missing.
 */
import assert from "node:assert/strict";
import { serveStatic } from "../scripts/serve.ts";
import { assertAlmostEquals } from "./_helpers.ts";
import { cliClassify, ensureBuilt, needsNode, ROOT, runNodeModule, writeSyntheticWav } from "./_bundle.ts";

interface NodeAnswer {
  label: string;
  labelId: number;
  confidence: number;
  probabilities: Record<string, number>;
  heartRateBpm: number | null;
}

interface NodeReport {
  labels: string[];
  byDefault: NodeAnswer[];
  byHttp: NodeAnswer[];
  byBytes: NodeAnswer[];
  badWav: { name: string; message: string };
  missingModel: { name: string; message: string };
  tfjsBackend: { name: string; message: string };
}

/** Runs in Node: the bundle with the default model (file: URL), over HTTP and from bytes. */
const NODE_SCRIPT = `
import { readFile } from "node:fs/promises";
import { loadClassifier, filesReader } from "./dist/heartbeat.js";
const [httpModelUrl, ...wavs] = process.argv.slice(1);
const pick = (r) => ({ label: r.label, labelId: r.labelId, confidence: r.confidence,
  probabilities: r.probabilities, heartRateBpm: r.heartRateBpm });
const classifyAll = async (c) => { const out = []; for (const w of wavs) out.push(pick(c.classifyWav(await readFile(w)))); return out; };
const byDefault = await loadClassifier();
const byHttp = await loadClassifier(httpModelUrl);
const model = JSON.parse(await readFile("models/model.json", "utf8"));
const files = { "model.json": model, "preprocessing.json": await readFile("models/preprocessing.json") };
for (const group of model.weightsManifest) for (const p of group.paths) files[p] = await readFile("models/" + p);
const { stack: stackRef, members } = JSON.parse(await readFile("models/preprocessing.json", "utf8"));
if (stackRef) files[stackRef.file] = await readFile("models/" + stackRef.file);
for (const m of members ?? []) files[m] = await readFile("models/" + m);
const byBytes = await loadClassifier("memory:/heartbeat/model.json", { readFile: filesReader(files) });
const error = (e) => ({ name: e.name, message: e.message });
let badWav, missingModel;
try { byDefault.classifyWav(new Uint8Array([82, 73, 70, 70, 1, 2, 3])); } catch (e) { badWav = error(e); }
try { await loadClassifier("file:///nonexistent/heartbeat/model.json"); } catch (e) { missingModel = error(e); }
let tfjsBackend; // tfjs is not bundled: the model runs in lib/forward.ts
try { await loadClassifier(undefined, { backend: "cpu" }); } catch (e) { tfjsBackend = error(e); }
console.log(JSON.stringify({ labels: byDefault.labels(), byDefault: await classifyAll(byDefault),
  byHttp: await classifyAll(byHttp), byBytes: await classifyAll(byBytes), badWav, missingModel, tfjsBackend }));
`;

Deno.test(
  "dist/heartbeat.js in Node.js classifies synthetic WAVs as the Deno CLI does",
  await needsNode(),
  async () => {
    await ensureBuilt();
    const dir = await Deno.makeTempDir({ prefix: "heartbeat-bundle-" });
    const controller = new AbortController();
    const server = serveStatic({ port: 0, signal: controller.signal });
    try {
      const wavs = [
        await writeSyntheticWav(dir, { kind: "murmur", seed: 7 }),
        await writeSyntheticWav(dir, { kind: "normal", seed: 3, sampleRate: 44100, durationS: 5 }),
      ];
      const cli = await cliClassify(wavs);
      const report = await runNodeModule(NODE_SCRIPT, [
        `http://127.0.0.1:${server.port}/models/model.json`,
        ...wavs,
      ]) as NodeReport;
      assert.deepEqual(report.labels, ["normal", "extrahls", "murmur", "extrastole"]);
      for (
        const [name, answers] of [["default", report.byDefault], ["http", report.byHttp], ["bytes", report.byBytes]]
      ) {
        assert.equal((answers as NodeAnswer[]).length, wavs.length);
        (answers as NodeAnswer[]).forEach((answer, i) => {
          const expected = cli[i];
          assert.equal(expected.error, undefined, `CLI failed on ${wavs[i]}: ${expected.error}`);
          assert.equal(answer.label, expected.label, `${name} model, ${wavs[i]}`);
          assert.equal(answer.labelId, expected.labelId);
          for (const [cls, p] of Object.entries(expected.probabilities!)) {
            // The CLI prints rounded probabilities; the bundle runs the same code, so only rounding separates them.
            assertAlmostEquals(answer.probabilities[cls], p, 1e-4, `${name} ${cls} probability`);
          }
        });
      }
      assert.equal(report.badWav.name, "WavFormatError");
      assert.match(report.badWav.message, /^Cannot read WAV/);
      assert.equal(report.missingModel.name, "ModelError");
      assert.match(
        report.missingModel.message,
        /^Cannot load model: file:\/\/\/nonexistent\/heartbeat\/model\.json: no such file/,
      );
      assert.equal(report.tfjsBackend.name, "ModelError");
      assert.match(report.tfjsBackend.message, /^Cannot load model: tfjs \(backend cpu\) is not available/);
      assert.doesNotMatch(await Deno.readTextFile(`${ROOT}/dist/heartbeat.js`), /_tfengine/, "tfjs is not bundled");
    } finally {
      controller.abort();
      await server.finished;
      await Deno.remove(dir, { recursive: true });
    }
  },
);

Deno.test("dist/heartbeat.d.ts gives the bundle's API its types", await needsNode(), async () => {
  await ensureBuilt();
  const dir = await Deno.makeTempDir({ prefix: "heartbeat-types-" });
  try {
    const consumer = `${dir}/consumer.ts`;
    const bundleUrl = new URL("dist/heartbeat.js", `file://${ROOT}/`).href;
    await Deno.writeTextFile(
      consumer,
      `import { type ClassifyResult, filesReader, loadClassifier } from "${bundleUrl}";
const classifier = await loadClassifier(undefined, { readFile: filesReader({}) });
const result: ClassifyResult = classifier.classify(new Float32Array(4000), 4000);
const label: string = result.label; // one of classifier.labels(): the model's own classes
// @ts-expect-error: a label is not a number; if the types were missing (any), this line would not be an error
const wrong: number = result.label;
// @ts-expect-error: classify takes samples and a sample rate
classifier.classify("a.wav");
console.log(label, wrong);
`,
    );
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["check", consumer],
      cwd: dir,
      stdout: "piped",
      stderr: "piped",
    })
      .output();
    assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("web/app.ts type-checks against lib's API (the build only strips types)", async () => {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["check", "web/app.ts"],
    cwd: ROOT,
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
});
