import assert from "node:assert/strict";
import { loadTf } from "../lib/tf.ts";
import { patchWasmTransposedMatMul, TRANSPOSED_ROUTE_MIN_COLUMNS } from "../lib/fast_matmul.ts";
import { assertAllClose } from "./_helpers.ts";

Deno.test("patchWasmTransposedMatMul() keeps matMul results and dense-layer gradients, frees its temporaries", async () => {
  const tf = await loadTf({ verbose: false });
  if (tf.getBackend() !== "wasm") {
    console.log("SKIP: wasm backend unavailable");
    return;
  }
  const cols = TRANSPOSED_ROUTE_MIN_COLUMNS + 37;
  const a = tf.randomNormal([9, cols], 0, 1, "float32", 1), b = tf.randomNormal([9, 5], 0, 1, "float32", 2);
  const w = tf.variable(tf.randomNormal([cols, 5], 0, 0.1, "float32", 3));
  const dy = tf.randomNormal([9, 5], 0, 1, "float32", 4);
  // A dense layer: tfjs-layers reaches the kernel with rank-3 operands (batch 1), as in training.
  const dense = tf.layers.dense({ units: 5, inputShape: [cols], kernelInitializer: "glorotUniform" });
  dense.apply(tf.input({ shape: [cols] }));
  const layerGrads = () => {
    const { value, grads } = tf.variableGrads(() => tf.sum(tf.square(dense.apply(a) as never)) as never);
    const values = Object.keys(grads).sort().flatMap((k) => [...grads[k].dataSync()]);
    tf.dispose([value, ...Object.values(grads)]);
    return values;
  };
  const grad = () => tf.grad((v) => tf.sum(tf.square(tf.matMul(a, v))))(w);
  const products = () =>
    [
      tf.matMul(a, b, true, false), // aᵀ·b, large a (kernel gradient)
      tf.matMul(dy, w, false, true), // a·bᵀ, large b (input gradient)
      tf.matMul(a, w), // plain: not rerouted
    ].map((t) => [...t.dataSync()]);
  // reference: the same products through the original wasm kernel, computed before patching
  const expected = tf.tidy(products);
  const expectedGrad = [...grad().dataSync()];
  const expectedLayer = layerGrads();
  assert.ok(patchWasmTransposedMatMul(tf));
  assert.ok(patchWasmTransposedMatMul(tf)); // idempotent
  const before = tf.memory().numTensors;
  tf.tidy(products).forEach((got, i) => assertAllClose(got, expected[i], 1e-4, 1e-5));
  assertAllClose(tf.tidy(() => grad().dataSync()), expectedGrad, 1e-4, 1e-5);
  assertAllClose(layerGrads(), expectedLayer, 1e-4, 1e-5);
  assert.equal(tf.memory().numTensors, before);
  const backend = tf.backend() as unknown as { dataIdMap: { numDataIds(): number } };
  const ids = backend.dataIdMap.numDataIds();
  for (let i = 0; i < 3; i++) tf.tidy(() => void products());
  assert.equal(backend.dataIdMap.numDataIds(), ids, "no wasm buffers leak");
  tf.dispose([a, b, w, dy]);
});

Deno.test("patchWasmTransposedMatMul() routes large transposed operands around the original kernel", async () => {
  const tf = await loadTf({ verbose: false });
  if (tf.getBackend() !== "wasm") {
    console.log("SKIP: wasm backend unavailable");
    return;
  }
  patchWasmTransposedMatMul(tf);
  // The routes call the wasm Transpose kernel; count its calls per product.
  const transpose = tf.getKernel("Transpose", "wasm")!;
  let calls = 0;
  tf.unregisterKernel("Transpose", "wasm");
  tf.registerKernel({ ...transpose, kernelFunc: (args) => (calls++, transpose.kernelFunc(args)) });
  try {
    const big = TRANSPOSED_ROUTE_MIN_COLUMNS;
    const count = (f: () => unknown) => {
      calls = 0;
      tf.tidy(() => void f());
      return calls;
    };
    const x = tf.ones([4, big]), dy = tf.ones([4, 3]), w = tf.ones([big, 3]);
    assert.equal(count(() => tf.matMul(x, dy, true, false)), 2, "aᵀ·b: bᵀ and the result");
    assert.equal(count(() => tf.matMul(dy, w, false, true)), 1, "a·bᵀ: bᵀ");
    assert.equal(count(() => tf.matMul(x, w)), 0, "plain product untouched");
    assert.equal(count(() => tf.matMul(tf.ones([4, 8]), tf.ones([4, 3]), true, false)), 0, "small operands untouched");
    tf.dispose([x, dy, w]);
  } finally {
    tf.unregisterKernel("Transpose", "wasm");
    tf.registerKernel(transpose);
  }
});
