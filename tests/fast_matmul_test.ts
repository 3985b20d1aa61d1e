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
  const grad = () => tf.grad((v) => tf.sum(tf.square(tf.matMul(a, v))))(w);
  // reference: the same products through the original wasm kernel, computed before patching
  const expected = [...tf.matMul(a, b, true, false).dataSync()];
  const expectedPlain = [...tf.matMul(a, w).dataSync()];
  const expectedGrad = [...grad().dataSync()];
  assert.ok(patchWasmTransposedMatMul(tf));
  assert.ok(patchWasmTransposedMatMul(tf)); // idempotent
  const before = tf.memory().numTensors;
  assertAllClose(tf.tidy(() => tf.matMul(a, b, true, false).dataSync()), expected, 1e-4, 1e-5);
  assertAllClose(tf.tidy(() => tf.matMul(a, w).dataSync()), expectedPlain, 1e-5, 1e-5);
  assertAllClose(tf.tidy(() => grad().dataSync()), expectedGrad, 1e-4, 1e-5);
  assert.equal(tf.memory().numTensors, before);
  const backend = tf.backend() as unknown as { dataIdMap: { numDataIds(): number } };
  const ids = backend.dataIdMap.numDataIds();
  for (let i = 0; i < 3; i++) tf.tidy(() => void tf.matMul(a, b, true, false).dataSync());
  assert.equal(backend.dataIdMap.numDataIds(), ids, "no wasm buffers leak");
  tf.dispose([a, b, w]);
});
