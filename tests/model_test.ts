import assert from "node:assert/strict";
import { loadTf } from "../lib/tf.ts";
import type { Tensor4D } from "../lib/deps.ts";
import {
  buildFcnn,
  countParameters,
  float32ToFloat16Bits,
  loadModel,
  predictProbabilities,
  saveModel,
  trainClassifier,
} from "../lib/model.ts";
import { defaultLogmelPreprocessing } from "../lib/preprocess.ts";
import { ModelError } from "../lib/errors.ts";
import { modelJsonUrl } from "../lib/model_folder.ts";
import { gaussian, mulberry32 } from "../lib/rng.ts";
import { assertAllClose } from "./_helpers.ts";

const tf = await loadTf();

/** Three Gaussian blobs in 6-D (class c has mean 2 in dimension c), n rows. */
function blobs(n: number, seed: number): { x: Float32Array; y: Int32Array } {
  const rng = mulberry32(seed);
  const x = new Float32Array(n * 6), y = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    y[i] = i % 3;
    for (let j = 0; j < 6; j++) x[i * 6 + j] = gaussian(rng) * 0.7 + (j === y[i] ? 2 : 0);
  }
  return { x, y };
}

function weightsOf(model: ReturnType<typeof buildFcnn>): Float32Array[] {
  return model.getWeights().map((w) => Float32Array.from(w.dataSync()));
}

Deno.test("loadTf() selects the wasm backend", () => {
  assert.equal(tf.getBackend(), "wasm");
});

Deno.test("wasm Conv2DBackpropFilter matches the cpu backend, and refuses stride 2", async () => {
  const x = tf.randomNormal([2, 11, 7, 3], 0, 1, "float32", 1) as Tensor4D;
  const w = tf.randomNormal([3, 2, 3, 4], 0, 1, "float32", 2) as Tensor4D;
  const grads: Float32Array[] = [];
  for (const backend of ["wasm", "cpu"]) {
    await tf.setBackend(backend);
    for (const pad of ["same", "valid"] as const) {
      const g = tf.grad((k) => tf.conv2d(x, k as typeof w, 1, pad).square().sum())(w);
      grads.push(Float32Array.from(g.dataSync()));
      g.dispose();
    }
  }
  await tf.setBackend("wasm");
  assertAllClose(grads[0], grads[2], 1e-2, 1e-4);
  assertAllClose(grads[1], grads[3], 1e-2, 1e-4);
  assert.throws(() => tf.grad((k) => tf.conv2d(x, k as typeof w, 2, "same").sum())(w), /stride 1/);
  tf.dispose([x, w]);
});

Deno.test("buildFcnn() is seeded: same seed same weights, other seed other weights", () => {
  const a = buildFcnn(tf, 6, 3, { hiddenUnits: [8, 4], batchNorm: true, dropout: 0.5, seed: 3 });
  const b = buildFcnn(tf, 6, 3, { hiddenUnits: [8, 4], batchNorm: true, dropout: 0.5, seed: 3 });
  const c = buildFcnn(tf, 6, 3, { hiddenUnits: [8, 4], batchNorm: true, dropout: 0.5, seed: 4 });
  assert.deepEqual(weightsOf(a), weightsOf(b));
  assert.notDeepEqual(weightsOf(a)[0], weightsOf(c)[0]);
  // 6·8 + 4·8 (BN) + 8·4 + 4·4 (BN) + 4·3 + 3
  assert.equal(countParameters(a), 48 + 32 + 32 + 16 + 15);
  assert.throws(() => buildFcnn(tf, 0, 3, { hiddenUnits: [4], seed: 1 }), ModelError);
  for (const m of [a, b, c]) m.dispose();
});

Deno.test("trainClassifier() is reproducible with dropout, and learns separable blobs", async () => {
  const train = blobs(240, 1), test = blobs(90, 2);
  const run = async (seed: number) => {
    const model = buildFcnn(tf, 6, 3, { hiddenUnits: [16, 8], batchNorm: true, dropout: 0.3, seed: 7 });
    const out = await trainClassifier(tf, model, train.x, train.y, 6, {
      epochs: 15,
      batchSize: 32,
      learningRate: 0.01,
      seed,
      classWeights: [1, 2, 1],
    });
    return { model, out };
  };
  const r1 = await run(11), r2 = await run(11), r3 = await run(12);
  assert.deepEqual(weightsOf(r1.model), weightsOf(r2.model));
  assert.notDeepEqual(weightsOf(r1.model), weightsOf(r3.model));
  assert.equal(r1.out.epochsRun, 15);
  assert.ok(r1.out.history.at(-1)!.loss < r1.out.history[0].loss, "loss decreases");
  const probs = predictProbabilities(tf, r1.model, test.x, 6);
  let correct = 0;
  for (let i = 0; i < test.y.length; i++) {
    const row = probs.subarray(i * 3, i * 3 + 3);
    if (row.indexOf(Math.max(...row)) === test.y[i]) correct++;
    assert.ok(Math.abs(row[0] + row[1] + row[2] - 1) < 1e-5);
  }
  assert.ok(correct / test.y.length > 0.9, `accuracy ${correct / test.y.length}`);
  for (const r of [r1, r2, r3]) r.model.dispose();
});

Deno.test("trainClassifier() early stopping restores the best epoch; ReduceLROnPlateau lowers the LR", async () => {
  const train = blobs(60, 3);
  // Labels unrelated to x: validation loss soon stops improving.
  const noise = { x: blobs(60, 4).x, y: Int32Array.from({ length: 60 }, (_, i) => (i * 7) % 3) };
  const model = buildFcnn(tf, 6, 3, { hiddenUnits: [32], seed: 1 });
  const { epochsRun, history } = await trainClassifier(tf, model, train.x, noise.y, 6, {
    epochs: 200,
    batchSize: 16,
    learningRate: 0.05,
    seed: 1,
    validation: noise,
    earlyStoppingPatience: 6,
    reduceLrOnPlateau: { patience: 2, factor: 0.5, minLr: 0.001 },
  });
  assert.ok(epochsRun < 200, `stopped after ${epochsRun}`);
  const bestEpoch = history.reduce((b, h, i) => (h.valLoss! < history[b].valLoss! ? i : b), 0);
  assert.equal(epochsRun, bestEpoch + 1 + 6);
  assert.ok(history.at(-1)!.lr < 0.05 && history.at(-1)!.lr >= 0.001);
  // The restored weights give the best validation loss.
  const probs = predictProbabilities(tf, model, noise.x, 6);
  let loss = 0;
  for (let i = 0; i < 60; i++) loss -= Math.log(Math.max(1e-7, probs[i * 3 + noise.y[i]]));
  assert.ok(Math.abs(loss / 60 - history[bestEpoch].valLoss!) < 1e-4, `${loss / 60} vs ${history[bestEpoch].valLoss}`);
  model.dispose();
});

Deno.test("predictProbabilities() frees its tensors", () => {
  const model = buildFcnn(tf, 6, 3, { hiddenUnits: [4], seed: 1 });
  const { x } = blobs(10, 1);
  predictProbabilities(tf, model, x, 6);
  const before = tf.memory().numTensors;
  for (let i = 0; i < 3; i++) predictProbabilities(tf, model, x, 6);
  assert.equal(tf.memory().numTensors, before);
  assert.throws(() => predictProbabilities(tf, model, x, 5), ModelError);
  model.dispose();
});

Deno.test("float32ToFloat16Bits() rounds to the nearest half", () => {
  const cases: [number, number][] = [
    [1, 0x3c00],
    [-2, 0xc000],
    [65504, 0x7bff],
    [1e6, 0x7c00],
    [2 ** -24, 1],
    [
      0.1,
      0x2e66,
    ],
    [0, 0],
    [2 ** -26, 0],
  ];
  for (const [v, bits] of cases) assert.equal(float32ToFloat16Bits(v), bits, `${v}`);
});

async function trainedConvModel() {
  const model = tf.sequential();
  model.add(tf.layers.conv1d({
    inputShape: [12, 3],
    filters: 4,
    kernelSize: 3,
    padding: "same",
    kernelInitializer: tf.initializers.glorotUniform({ seed: 1 }),
  }));
  model.add(tf.layers.batchNormalization({}));
  model.add(tf.layers.activation({ activation: "relu" }));
  model.add(tf.layers.globalAveragePooling1d({}));
  model.add(
    tf.layers.dense({ units: 4, activation: "softmax", kernelInitializer: tf.initializers.glorotUniform({ seed: 2 }) }),
  );
  const rng = mulberry32(5);
  const x = Float32Array.from({ length: 40 * 36 }, () => gaussian(rng));
  const y = Int32Array.from({ length: 40 }, (_, i) => i % 4);
  await trainClassifier(tf, model, x, y, 36, { epochs: 3, batchSize: 8, learningRate: 0.01, seed: 1 });
  return { model, x };
}

Deno.test("saveModel() → loadModel() gives identical predictions (path, file:// URL, http://)", async () => {
  const { model, x } = await trainedConvModel();
  const dir = await Deno.makeTempDir();
  const pre = defaultLogmelPreprocessing({ windowFrames: 12, nMels: 3 });
  const { bytes } = await saveModel(tf, model, dir, pre);
  assert.ok(bytes > 0);
  const expected = predictProbabilities(tf, model, x, 36);
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (req) => {
    const path = new URL(req.url).pathname;
    try {
      return new Response(await Deno.readFile(`${dir}${path}`));
    } catch {
      return new Response("not found", { status: 404 });
    }
  });
  try {
    const locations = [dir, `${dir}/model.json`, new URL(`file://${dir}/`), `http://127.0.0.1:${server.addr.port}/`];
    for (const location of locations) {
      const loaded = await loadModel(tf, location);
      assert.deepEqual(loaded.preprocessing, pre);
      assert.deepEqual(predictProbabilities(tf, loaded.model, x, 36), expected);
      loaded.model.dispose();
    }
    await assert.rejects(() => loadModel(tf, `http://127.0.0.1:${server.addr.port}/missing/`), ModelError);
  } finally {
    await server.shutdown();
  }
  await assert.rejects(() => loadModel(tf, `${dir}/nothing-here`), /Cannot load model/);
  model.dispose();
  await Deno.remove(dir, { recursive: true });
});

Deno.test("saveModel() writes the same model.json for the same model, however many models the process built before", async () => {
  const pre = defaultLogmelPreprocessing({ windowFrames: 12, nMels: 3 });
  const saved: string[] = [];
  for (let i = 0; i < 2; i++) {
    // the second build gets other automatic names from tfjs ("conv1d_Conv1D2", …)
    const model = buildFcnn(tf, 36, 4, { hiddenUnits: [8, 6], batchNorm: true, dropout: 0.2, seed: 3 });
    const dir = await Deno.makeTempDir();
    await saveModel(tf, model, dir, pre, { quantization: "float16" });
    saved.push(await Deno.readTextFile(`${dir}/model.json`));
    const loaded = await loadModel(tf, dir); // the renamed weights still load into the renamed layers
    const x = tf.ones([2, 36]);
    assertAllClose(
      (loaded.model.predict(x) as typeof x).dataSync(),
      (model.predict(x) as typeof x).dataSync(),
      2e-3,
    );
    tf.dispose(x);
    loaded.model.dispose();
    model.dispose();
    await Deno.remove(dir, { recursive: true });
  }
  assert.equal(saved[1], saved[0]);
  const json = JSON.parse(saved[0]);
  assert.equal(json.modelTopology.config.name, "sequential");
  assert.deepEqual(
    json.modelTopology.config.layers.map((l: { config: { name: string } }) => l.config.name).slice(0, 3),
    ["dense_1", "batch_normalization_2", "activation_3"],
  );
});

Deno.test("saveModel() quantization: float16 and uint8 weights dequantise to close predictions", async () => {
  const { model, x } = await trainedConvModel();
  const expected = predictProbabilities(tf, model, x, 36);
  const pre = defaultLogmelPreprocessing({ windowFrames: 12, nMels: 3 });
  const sizes: Record<string, number> = {};
  for (const [mode, tol] of [[null, 0], ["float16", 2e-3], ["uint8", 5e-2]] as const) {
    const dir = await Deno.makeTempDir();
    await saveModel(tf, model, dir, pre, { quantization: mode });
    sizes[String(mode)] = (await Deno.stat(`${dir}/weights.bin`)).size;
    const manifest = JSON.parse(await Deno.readTextFile(`${dir}/model.json`)).weightsManifest[0].weights;
    assert.equal(
      manifest.every((w: { quantization?: { dtype: string } }) => w.quantization?.dtype === (mode ?? undefined)),
      true,
    );
    const loaded = await loadModel(tf, dir);
    const got = predictProbabilities(tf, loaded.model, x, 36);
    assertAllClose(got, expected, tol);
    if (mode) assert.notDeepEqual(got, expected);
    loaded.model.dispose();
    await Deno.remove(dir, { recursive: true });
  }
  assert.equal(sizes.float16 * 2, sizes.null);
  assert.equal(sizes.uint8 * 4, sizes.null);
  model.dispose();
});

Deno.test("modelJsonUrl() accepts folders, model.json paths and URLs", () => {
  assert.equal(modelJsonUrl("/a/b").href, "file:///a/b/model.json");
  assert.equal(modelJsonUrl("/a/b/").href, "file:///a/b/model.json");
  assert.equal(modelJsonUrl("/a/m.json").href, "file:///a/m.json");
  assert.equal(modelJsonUrl("https://x.org/models/").href, "https://x.org/models/model.json");
  assert.equal(modelJsonUrl(new URL("file:///a%20b/")).href, "file:///a%20b/model.json");
});

Deno.test("buildCnn() has the documented layer sizes and is seeded", async () => {
  const { buildCnn } = await import("../lib/cnn.ts");
  const a = buildCnn(tf, [75, 16], 4, { seed: 5 }), b = buildCnn(tf, [75, 16], 4, { seed: 5 });
  // conv 16·12·5 + BN 4·12, conv 12·16·5 + BN 4·16, conv 16·24·3 + BN 4·24, dense 24·4 + 4
  assert.equal(countParameters(a), 960 + 48 + 960 + 64 + 1152 + 96 + 100);
  assert.deepEqual(weightsOf(a), weightsOf(b));
  assert.deepEqual(a.outputs[0].shape, [null, 4]);
  a.dispose();
  b.dispose();
});

Deno.test("augmentWaveform() is seeded and changes speed within the range", async () => {
  const { augmentWaveform } = await import("../lib/cnn.ts");
  const wave = { samples: Float32Array.from({ length: 4000 }, (_, i) => Math.sin(i / 5)), sampleRate: 2000 };
  const o = { speedRange: 0.1, noiseSnrDb: [20, 20] as [number, number] };
  const x = augmentWaveform(wave, mulberry32(3), o), y = augmentWaveform(wave, mulberry32(3), o);
  assert.deepEqual(x, y);
  for (let s = 0; s < 20; s++) {
    const z = augmentWaveform(wave, mulberry32(s), o);
    assert.equal(z.sampleRate, 2000);
    assert.ok(z.samples.length >= 4000 / 1.1 - 2 && z.samples.length <= 4000 / 0.9 + 2, `${z.samples.length}`);
  }
});

Deno.test("adjustOutputBias() by −τ·log(prior) equals reweighting probabilities by prior^−τ", async () => {
  const { adjustOutputBias, buildCnn, reweightProbabilities } = await import("../lib/cnn.ts");
  const model = buildCnn(tf, [8, 3], 4, { seed: 2 });
  const rng = mulberry32(9);
  const x = Float32Array.from({ length: 5 * 24 }, () => gaussian(rng));
  const prior = [0.6, 0.05, 0.25, 0.1], tau = 0.5;
  const expected = reweightProbabilities(predictProbabilities(tf, model, x, 24), 4, prior, tau);
  adjustOutputBias(tf, model, prior.map((q) => -tau * Math.log(q)));
  assertAllClose(predictProbabilities(tf, model, x, 24), expected, 1e-5);
  model.dispose();
});
