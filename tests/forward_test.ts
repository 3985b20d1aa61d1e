/** lib/forward.ts: per-layer known answers, weight decoding, and equality with tfjs `model.predict` (cpu backend). */
import assert from "node:assert/strict";
import {
  decodeWeights,
  float16BitsToFloat32,
  type LayersModelJson,
  loadForwardModel,
  type WeightSpec,
} from "../lib/forward.ts";
import { ModelError } from "../lib/errors.ts";
import { loadTf } from "../lib/tf.ts";
import { buildCnn } from "../lib/cnn.ts";
import { buildFcnn, float32ToFloat16Bits, loadModel, saveModel } from "../lib/model.ts";
import { defaultLogmelPreprocessing, preprocess } from "../lib/preprocess.ts";
import { resampleWaveform } from "../lib/resample.ts";
import { readWav } from "../lib/wav.ts";
import { mulberry32 } from "../lib/rng.ts";
import { assertAllClose, DATA_DIR, needsData } from "./_helpers.ts";

const tf = await loadTf({ backend: "cpu", verbose: false });
const ROOT = decodeURIComponent(new URL("..", import.meta.url).pathname).replace(/\/$/, "");

// ---------------------------------------------------------------- hand-written models

type Weights = Record<string, number[]>;

/** A Sequential model.json from layer [class, config, weights] triples; weights float32 in layer order. */
function handModel(
  inputShape: number[],
  layers: [string, Record<string, unknown>, Weights?][],
): { json: LayersModelJson; data: Uint8Array } {
  const specs: WeightSpec[] = [];
  const values: number[] = [];
  const topology = layers.map(([className, config, weights], i) => {
    const name = `${className.toLowerCase()}_${i}`;
    for (const [w, v] of Object.entries(weights ?? {})) {
      const shape = (config[`_${w}Shape`] as number[] | undefined) ?? [v.length];
      specs.push({ name: `${name}/${w}`, shape, dtype: "float32" });
      values.push(...v);
    }
    const clean = Object.fromEntries(Object.entries(config).filter(([k]) => !k.startsWith("_")));
    return {
      class_name: className,
      config: { name, ...(i === 0 ? { batch_input_shape: [null, ...inputShape] } : {}), ...clean },
    };
  });
  return {
    json: {
      modelTopology: { class_name: "Sequential", config: { name: "hand", layers: topology } },
      weightsManifest: [{ paths: ["weights.bin"], weights: specs }],
    },
    data: new Uint8Array(Float32Array.from(values).buffer),
  };
}

function run(inputShape: number[], layers: [string, Record<string, unknown>, Weights?][], x: number[]): number[] {
  const { json, data } = handModel(inputShape, layers);
  const rows = x.length / inputShape.reduce((a, b) => a * b, 1);
  return [...loadForwardModel(json, data).predict(Float32Array.from(x), rows)];
}

Deno.test("float16BitsToFloat32() decodes known bit patterns and inverts float32ToFloat16Bits", () => {
  const known: [number, number][] = [
    [0x0000, 0],
    [0x3c00, 1],
    [0xc000, -2],
    [0x3555, 0.333251953125],
    [0x7bff, 65504],
    [0x0001, 2 ** -24],
    [0x0400, 2 ** -14],
    [0x7c00, Infinity],
    [0xfc00, -Infinity],
  ];
  for (const [bits, value] of known) assert.equal(float16BitsToFloat32(bits), value, bits.toString(16));
  assert.ok(Number.isNaN(float16BitsToFloat32(0x7e00)));
  for (let bits = 0; bits < 0x7c00; bits += 7) {
    assert.equal(float32ToFloat16Bits(float16BitsToFloat32(bits)), bits);
    assert.equal(float32ToFloat16Bits(float16BitsToFloat32(bits | 0x8000)), bits | 0x8000);
  }
});

Deno.test("decodeWeights() reads float32, float16 and uint8/uint16 weights in manifest order", () => {
  const bytes = new Uint8Array([
    ...new Uint8Array(Float32Array.of(1.5, -2).buffer),
    ...new Uint8Array(Uint16Array.of(0x3c00, 0xc000, 0x3800).buffer),
    0,
    10,
    255,
    ...new Uint8Array(Uint16Array.of(0, 1000).buffer),
  ]);
  const specs: WeightSpec[] = [
    { name: "a", shape: [2], dtype: "float32" },
    { name: "b", shape: [3, 1], dtype: "float32", quantization: { dtype: "float16" } },
    { name: "c", shape: [3], dtype: "float32", quantization: { dtype: "uint8", min: -1, scale: 0.5 } },
    { name: "d", shape: [2], dtype: "float32", quantization: { dtype: "uint16", min: 2, scale: 0.25 } },
  ];
  const w = decodeWeights(specs, bytes);
  assert.deepEqual([...w.get("a")!], [1.5, -2]);
  assert.deepEqual([...w.get("b")!], [1, -2, 0.5]);
  assert.deepEqual([...w.get("c")!], [-1, 4, 126.5]);
  assert.deepEqual([...w.get("d")!], [2, 252]);
  assert.throws(() => decodeWeights(specs, bytes.subarray(0, 10)), ModelError, "too few for weight b");
  assert.throws(
    () => decodeWeights([{ name: "e", shape: [1], dtype: "float32", quantization: { dtype: "int4" } }], bytes),
    ModelError,
  );
  assert.throws(() => decodeWeights([{ name: "f", shape: [1], dtype: "int32" }], bytes), /dtype int32/);
});

Deno.test("loadForwardModel() Conv1D known answers: same and valid padding, strides, bias, relu", async (t) => {
  await t.step("same, kernel 3, bias, relu", () => {
    // out[t] = x[t−1]·1 + x[t]·0 + x[t+1]·(−1) + 0.5
    const conv = { filters: 1, kernel_size: [3], strides: [1], padding: "same", _kernelShape: [3, 1, 1] };
    assert.deepEqual(run([4, 1], [["Conv1D", conv, { kernel: [1, 0, -1], bias: [0.5] }]], [1, 2, 3, 4]), [
      -1.5,
      -1.5,
      -1.5,
      3.5,
    ]);
    const relu = { ...conv, activation: "relu" };
    assert.deepEqual(run([4, 1], [["Conv1D", relu, { kernel: [1, 0, -1], bias: [0.5] }]], [1, 2, 3, 4]), [
      0,
      0,
      0,
      3.5,
    ]);
  });
  await t.step("valid, kernel 2, stride 2, no bias", () => {
    const conv = {
      filters: 1,
      kernel_size: [2],
      strides: [2],
      padding: "valid",
      use_bias: false,
      _kernelShape: [2, 1, 1],
    };
    assert.deepEqual(run([5, 1], [["Conv1D", conv, { kernel: [1, 1] }]], [1, 2, 3, 4, 5]), [3, 7]);
  });
  await t.step("same, kernel 3, stride 2 (one step of padding on the left)", () => {
    const conv = {
      filters: 1,
      kernel_size: [3],
      strides: [2],
      padding: "same",
      use_bias: false,
      _kernelShape: [3, 1, 1],
    };
    assert.deepEqual(run([5, 1], [["Conv1D", conv, { kernel: [1, 1, 1] }]], [1, 2, 3, 4, 5]), [3, 9, 9]);
  });
  await t.step("two channels in, two filters, two rows", () => {
    // kernel [k=1][c][f]: f0 = c0 + c1, f1 = c0 − 2·c1
    const conv = { filters: 2, kernel_size: [1], padding: "valid", use_bias: false, _kernelShape: [1, 2, 2] };
    assert.deepEqual(run([2, 2], [["Conv1D", conv, { kernel: [1, 1, 1, -2] }]], [1, 2, 3, 4, 0, 1, -1, 0]), [
      3,
      -3,
      7,
      -5,
      1,
      -2,
      -1,
      -1,
    ]);
  });
});

Deno.test("loadForwardModel() Dense, BatchNormalization (folded and alone) and activations give known answers", () => {
  const dense = { units: 3, _kernelShape: [2, 3] };
  assert.deepEqual(run([2], [["Dense", dense, { kernel: [1, 2, 3, 4, 5, 6], bias: [0.5, 0, -1] }]], [1, 2]), [
    9.5,
    12,
    14,
  ]);
  // Dense on [steps, features] applies to the last axis of every step
  const perStep = { units: 1, use_bias: false, _kernelShape: [2, 1] };
  assert.deepEqual(run([2, 2], [["Dense", perStep, { kernel: [1, -1] }]], [5, 1, 2, 7]), [4, -5]);
  // BN: (x − 1) / sqrt(3 + 1) · 2 + 0.5
  const bn = { epsilon: 1, _gammaShape: [1] };
  const bnWeights = { gamma: [2], beta: [0.5], moving_mean: [1], moving_variance: [3] };
  assert.deepEqual(run([1], [["BatchNormalization", bn, bnWeights]], [3, 1, -1]), [2.5, 0.5, -1.5]);
  const identity = { units: 1, use_bias: false, _kernelShape: [1, 1] };
  for (const foldBatchNorm of [true, false]) {
    const { json, data } = handModel([1], [["Dense", identity, { kernel: [1] }], [
      "BatchNormalization",
      bn,
      bnWeights,
    ]]);
    const model = loadForwardModel(json, data, { foldBatchNorm });
    assert.deepEqual([...model.predict(Float32Array.of(3, 1, -1), 3)], [2.5, 0.5, -1.5]);
    assert.equal(model.steps.length, foldBatchNorm ? 1 : 2);
  }
  const noScale = { epsilon: 1, scale: false, center: false };
  assert.deepEqual(run([1], [["BatchNormalization", noScale, { moving_mean: [1], moving_variance: [3] }]], [3]), [1]);
  const act = (activation: string, x: number[]) => run([x.length], [["Activation", { activation }]], x);
  assert.deepEqual(act("softmax", [0, Math.log(3)]).map((v) => Math.round(v * 1e6) / 1e6), [0.25, 0.75]);
  assert.deepEqual(act("sigmoid", [0]), [0.5]);
  assert.deepEqual(act("relu", [-1, 2]), [0, 2]);
  assert.deepEqual(act("relu6", [-1, 2, 7]), [0, 2, 6]);
  assert.deepEqual(act("linear", [-1, 2]), [-1, 2]);
  assert.deepEqual(act("softsign", [1, -3]), [0.5, -0.75]);
  assert.deepEqual(act("elu", [-1, 2]), [Math.fround(Math.expm1(-1)), 2]);
  assert.deepEqual(act("tanh", [0.5]), [Math.fround(Math.tanh(0.5))]);
  assert.deepEqual(act("softplus", [0]), [Math.fround(Math.LN2)]);
});

Deno.test("loadForwardModel() pooling, global pooling, Flatten and Dropout give known answers", () => {
  const x = [1, 3, 2, 5, 4];
  assert.deepEqual(run([5, 1], [["MaxPooling1D", { pool_size: [2], strides: [2], padding: "valid" }]], x), [3, 5]);
  assert.deepEqual(run([5, 1], [["MaxPooling1D", { pool_size: [2], strides: null, padding: "same" }]], x), [3, 5, 4]);
  assert.deepEqual(run([5, 1], [["AveragePooling1D", { pool_size: [2], padding: "valid" }]], x), [2, 3.5]);
  assert.deepEqual(run([5, 1], [["AveragePooling1D", { pool_size: [2], padding: "same" }]], x), [2, 3.5, 4]);
  assert.deepEqual(run([5, 1], [["MaxPooling1D", { pool_size: [3], strides: [1], padding: "valid" }]], x), [3, 5, 5]);
  const steps = [1, 2, 3, -4]; // [[1, 2], [3, −4]]
  assert.deepEqual(run([2, 2], [["GlobalAveragePooling1D", {}]], steps), [2, -1]);
  assert.deepEqual(run([2, 2], [["GlobalMaxPooling1D", {}]], steps), [3, 2]);
  const flat = [["Flatten", {}], ["Dropout", { rate: 0.5 }], ["Dense", {
    units: 1,
    use_bias: false,
    _kernelShape: [4, 1],
  }, {
    kernel: [1, 10, 100, 1000],
  }]] as [string, Record<string, unknown>, Weights?][];
  assert.deepEqual(run([2, 2], flat, steps), [-3679]);
});

Deno.test("loadForwardModel() refuses unsupported layers, settings and inconsistent weights with ModelError", () => {
  const refuse = (layers: [string, Record<string, unknown>, Weights?][], pattern: RegExp, shape = [4, 1]) => {
    const { json, data } = handModel(shape, layers);
    assert.throws(
      () => loadForwardModel(json, data),
      (e: unknown) => e instanceof ModelError && pattern.test(e.message),
    );
  };
  refuse([["LSTM", { units: 2 }]], /^Cannot load model: layer LSTM is not supported by lib\/forward\.ts$/);
  refuse([["Conv1D", { filters: 1, kernel_size: [1], dilation_rate: [2], _kernelShape: [1, 1, 1] }, {
    kernel: [1],
    bias: [0],
  }]], /dilation_rate 2/);
  refuse([["Conv1D", { filters: 1, kernel_size: [1], padding: "causal", _kernelShape: [1, 1, 1] }, {
    kernel: [1],
    bias: [0],
  }]], /padding "causal"/);
  refuse([["Activation", { activation: "gelu" }]], /activation "gelu" .* not supported/);
  refuse([["Dense", { units: 2, _kernelShape: [1, 2] }, { kernel: [1, 2] }]], /weight dense_0\/bias is missing/);
  refuse([["Dense", { units: 2, _kernelShape: [2, 2] }, { kernel: [1, 2, 3, 4], bias: [0, 0] }]], /has shape \[2,2\]/);
  refuse([["Flatten", {}, { stray: [1] }]], /belongs to no layer/);
  refuse(
    [["BatchNormalization", { axis: 1 }, { gamma: [1], beta: [0], moving_mean: [0], moving_variance: [1] }]],
    /axis 1/,
  );
  const { json, data } = handModel([4, 1], [["Flatten", {}]]);
  assert.throws(
    () => loadForwardModel({ ...json, modelTopology: { class_name: "Model", config: {} } }, data),
    /model class Model is not supported/,
  );
  const model = loadForwardModel(json, data);
  assert.throws(() => model.predict(new Float32Array(5), 1), /Cannot run model: got 5 values for 1 rows of 4/);
});

// ---------------------------------------------------------------- against tfjs

type Model = ReturnType<typeof buildCnn>;

/** model.json parts and weight bytes of a tfjs model, as `model.save` writes them. */
async function artifactsOf(model: Model): Promise<{ json: LayersModelJson; data: Uint8Array }> {
  let out: { json: LayersModelJson; data: Uint8Array } | undefined;
  await model.save(tf.io.withSaveHandler((a) => {
    out = {
      json: {
        modelTopology: a.modelTopology,
        weightsManifest: [{ paths: ["weights.bin"], weights: a.weightSpecs as WeightSpec[] }],
      },
      data: new Uint8Array(a.weightData as ArrayBuffer),
    };
    return Promise.resolve({ modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: "JSON" } });
  }));
  return out!;
}

/** Random moving statistics and affine parameters for every BatchNormalization (trained-looking models). */
function randomizeBatchNorm(model: Model, seed: number): void {
  const random = mulberry32(seed);
  for (const layer of model.layers) {
    if (layer.getClassName() !== "BatchNormalization") continue;
    const names = layer.weights.map((v) => v.name);
    layer.setWeights(
      layer.getWeights().map((w, k) => {
        const name = names[k];
        const values = Float32Array.from(
          { length: w.size },
          () =>
            name.includes("variance") ? 0.2 + 2 * random() : name.includes("gamma") ? 0.5 + random() : random() - 0.5,
        );
        return tf.tensor(values, w.shape);
      }),
    );
  }
}

function randomInput(rows: number, size: number, seed: number): Float32Array {
  const random = mulberry32(seed);
  return Float32Array.from({ length: rows * size }, () => 3 * (random() - 0.5));
}

function tfPredict(model: Model, x: Float32Array, shape: number[]): Float32Array {
  return tf.tidy(() => (model.predict(tf.tensor(x, shape)) as ReturnType<typeof tf.tensor>).dataSync() as Float32Array);
}

function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  assert.equal(a.length, b.length);
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i] - b[i]));
  return worst;
}

const seq = (layers: Parameters<ReturnType<typeof tf.sequential>["add"]>[0][]) => {
  const model = tf.sequential();
  for (const layer of layers) model.add(layer);
  return model;
};
const glorot = (seed: number) => tf.initializers.glorotUniform({ seed });
const randomBias = (seed: number) => tf.initializers.randomUniform({ minval: -0.5, maxval: 0.5, seed });

/** Random models of every supported layer kind, with their input shapes. */
function randomModels(): [string, Model, number[]][] {
  return [
    [
      "buildCnn (Conv1D same, BatchNormalization, relu, MaxPooling1D, GAP, Dropout, Dense softmax)",
      buildCnn(tf, [75, 16], 4, { seed: 3 }),
      [75, 16],
    ],
    [
      "Conv1D valid stride 2 tanh, AveragePooling1D same, Flatten, Dense sigmoid",
      seq([
        tf.layers.conv1d({
          inputShape: [20, 3],
          filters: 4,
          kernelSize: 4,
          strides: 2,
          activation: "tanh",
          kernelInitializer: glorot(1),
          biasInitializer: randomBias(2),
        }),
        tf.layers.averagePooling1d({ poolSize: 3, strides: 2, padding: "same" }),
        tf.layers.flatten(),
        tf.layers.dense({
          units: 3,
          activation: "sigmoid",
          kernelInitializer: glorot(3),
          biasInitializer: randomBias(4),
        }),
      ]),
      [20, 3],
    ],
    [
      "Conv1D same stride 3 elu, MaxPooling1D same, BatchNormalization alone, GlobalMaxPooling1D, Dense softmax",
      seq([
        tf.layers.conv1d({
          inputShape: [23, 2],
          filters: 8,
          kernelSize: 5,
          strides: 3,
          padding: "same",
          activation: "elu",
          kernelInitializer: glorot(5),
          biasInitializer: randomBias(6),
        }),
        tf.layers.maxPooling1d({ poolSize: 3, strides: 2, padding: "same" }),
        tf.layers.batchNormalization({ epsilon: 0.01 }),
        tf.layers.globalMaxPooling1d({}),
        tf.layers.dense({
          units: 4,
          activation: "softmax",
          kernelInitializer: glorot(7),
          biasInitializer: randomBias(8),
        }),
      ]),
      [23, 2],
    ],
    [
      "Dense on steps relu6, Dense selu, Flatten, Dense softplus, Dense softsign, AveragePooling-free",
      seq([
        tf.layers.dense({
          inputShape: [6, 4],
          units: 5,
          activation: "relu6",
          kernelInitializer: glorot(9),
          biasInitializer: randomBias(10),
        }),
        tf.layers.dense({
          units: 3,
          activation: "selu",
          kernelInitializer: glorot(11),
          biasInitializer: randomBias(12),
        }),
        tf.layers.flatten(),
        tf.layers.dense({
          units: 7,
          activation: "softplus",
          kernelInitializer: glorot(13),
          biasInitializer: randomBias(14),
        }),
        tf.layers.dense({
          units: 2,
          activation: "softsign",
          kernelInitializer: glorot(15),
          biasInitializer: randomBias(16),
        }),
      ]),
      [6, 4],
    ],
    [
      "buildFcnn with BatchNormalization and Dropout",
      buildFcnn(tf, 10, 4, { hiddenUnits: [8, 6], batchNorm: true, dropout: 0.2, seed: 4 }),
      [10],
    ],
    [
      "InputLayer, Conv1D without bias, BatchNormalization without scale and centre, Activation sigmoid",
      (() => {
        const model = tf.sequential();
        model.add(tf.layers.inputLayer({ inputShape: [12, 2] }));
        model.add(tf.layers.conv1d({ filters: 3, kernelSize: 3, useBias: false, kernelInitializer: glorot(17) }));
        model.add(tf.layers.batchNormalization({ scale: false, center: false }));
        model.add(tf.layers.activation({ activation: "sigmoid" }));
        model.add(tf.layers.globalAveragePooling1d({}));
        return model;
      })(),
      [12, 2],
    ],
  ];
}

Deno.test("loadForwardModel() equals tfjs predict on random models of every layer kind, in wasm and TypeScript (≤ 1e-5)", async (t) => {
  for (const [i, [name, model, inputShape]] of randomModels().entries()) {
    await t.step(name, async () => {
      randomizeBatchNorm(model, 100 + i);
      const { json, data } = await artifactsOf(model);
      const size = inputShape.reduce((a, b) => a * b, 1);
      for (const rows of [1, 7]) {
        const x = randomInput(rows, size, 200 + i + rows);
        const expected = tfPredict(model, x, [rows, ...inputShape]);
        for (const foldBatchNorm of [true, false]) {
          for (const wasm of [true, false]) {
            const y = loadForwardModel(json, data, { foldBatchNorm, wasm }).predict(x, rows);
            assertAllClose(y, expected, 1e-5, 1e-5);
          }
        }
      }
      assert.deepEqual(loadForwardModel(json, data).outputShape, (model.outputs[0].shape as number[]).slice(1));
      model.dispose();
    });
  }
});

Deno.test("loadForwardModel() equals tfjs on float16- and uint8-quantized models saved by saveModel()", async () => {
  const dir = await Deno.makeTempDir({ prefix: "heartbeat_forward_" });
  try {
    for (const quantization of ["float16", "uint8"] as const) {
      const model = buildCnn(tf, [75, 16], 4, { seed: 9 });
      randomizeBatchNorm(model, 9);
      await saveModel(tf, model, `${dir}/${quantization}`, defaultLogmelPreprocessing(), { quantization });
      model.dispose();
      const json = JSON.parse(await Deno.readTextFile(`${dir}/${quantization}/model.json`));
      assert.equal(json.weightsManifest[0].weights[0].quantization.dtype, quantization);
      const forward = loadForwardModel(json, await Deno.readFile(`${dir}/${quantization}/weights.bin`));
      const loaded = await loadModel(tf, `${dir}/${quantization}`);
      const x = randomInput(5, 75 * 16, 7);
      assertAllClose(forward.predict(x, 5), tfPredict(loaded.model, x, [5, 75, 16]), 1e-5);
      loaded.model.dispose();
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

async function shipped() {
  const json = JSON.parse(await Deno.readTextFile(`${ROOT}/models/model.json`));
  const forward = loadForwardModel(json, await Deno.readFile(`${ROOT}/models/weights.bin`));
  const loaded = await loadModel(tf, `${ROOT}/models`);
  return { forward, loaded };
}

Deno.test("loadForwardModel() equals tfjs on the shipped model (probabilities ≤ 1e-5)", async () => {
  const { forward, loaded } = await shipped();
  const shape = forward.inputShape;
  assert.deepEqual(shape, (loaded.model.inputs[0].shape as number[]).slice(1));
  const size = shape.reduce((a, b) => a * b, 1);
  const x = randomInput(32, size, 5);
  const y = forward.predict(x, 32), expected = tfPredict(loaded.model, x, [32, ...shape]);
  assert.ok(maxAbsDiff(y, expected) <= 1e-5, `largest difference ${maxAbsDiff(y, expected)}`);
  assert.ok(forward.steps.some((s) => s.includes("Conv1D+BatchNormalization+relu (wasm)")), forward.steps.join("; "));
  loaded.model.dispose();
});

Deno.test("loadForwardModel() predicts the same classes as tfjs on the real recordings", needsData(), async () => {
  const { forward, loaded } = await shipped();
  const pp = loaded.preprocessing;
  let worst = 0, files = 0;
  for (const set of ["set_a", "set_b"]) {
    const names = [...Deno.readDirSync(`${DATA_DIR}/${set}`)].map((e) => e.name).filter((n) => n.endsWith(".wav"))
      .sort();
    for (const name of names) {
      const wav = readWav(Deno.readFileSync(`${DATA_DIR}/${set}/${name}`));
      const wave = resampleWaveform(wav, pp.targetSampleRate ?? wav.sampleRate);
      let input;
      try {
        input = preprocess(wave, pp);
      } catch {
        continue; // too short to classify
      }
      const rows = input.shape[0];
      const y = forward.predict(input.data, rows), expected = tfPredict(loaded.model, input.data, input.shape);
      worst = Math.max(worst, maxAbsDiff(y, expected));
      for (let r = 0; r < rows; r++) {
        const argmax = (p: Float32Array) => {
          let best = 0;
          for (let k = 1; k < 4; k++) if (p[4 * r + k] > p[4 * r + best]) best = k;
          return best;
        };
        assert.equal(argmax(y), argmax(expected), `${set}/${name} window ${r}`);
      }
      files++;
    }
  }
  assert.ok(files > 600, `${files} files`);
  assert.ok(worst <= 1e-5, `largest probability difference ${worst}`);
  loaded.model.dispose();
});
