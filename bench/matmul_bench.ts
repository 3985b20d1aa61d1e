/**
 * One training step of the original's preprocessor-1 network on "small" (27,868 inputs → 128 → 64
 * → 32 → 16 → 4, batch 64, Adam) on the wasm backend, with tfjs's own `BatchMatMul` and then with
 * lib/fast_matmul.ts's transposed routes, in one process; prints ms per step and the ratio.
 *
 *   deno run -A bench/matmul_bench.ts [--steps N] [--inputs N]
 * @module
 */
import { parseArgs } from "node:util";
import { loadTf } from "../lib/tf.ts";
import { buildFcnn } from "../lib/model.ts";
import { patchWasmTransposedMatMul } from "../lib/fast_matmul.ts";

const { values } = parseArgs({ args: Deno.args, options: { steps: { type: "string" }, inputs: { type: "string" } } });
const steps = Number(values.steps ?? 5);
const inputs = Number(values.inputs ?? 27868);
const tf = await loadTf({ backend: "wasm" });
if (tf.getBackend() !== "wasm") throw new Error("the wasm backend did not start");
const model = buildFcnn(tf, inputs, 4, { hiddenUnits: [128, 64, 32, 16], seed: 1 });
const optimizer = tf.train.adam(1e-3);
const x = tf.randomNormal([64, inputs], 0, 1, "float32", 1);
const y = tf.oneHot(tf.tensor1d(Array.from({ length: 64 }, (_, i) => i % 4), "int32"), 4).toFloat();
const variables = model.trainableWeights.map((w) => w.read()) as never;
const step = () => {
  const loss = optimizer.minimize(
    () => tf.losses.softmaxCrossEntropy(y, model.apply(x, { training: true }) as never) as never,
    true,
    variables,
  )!;
  loss.dataSync();
  loss.dispose();
};
const msPerStep = () => {
  step(); // warm-up
  const t0 = performance.now();
  for (let i = 0; i < steps; i++) step();
  return (performance.now() - t0) / steps;
};
const original = msPerStep();
patchWasmTransposedMatMul(tf);
const patched = msPerStep();
console.log(`p1 training step, ${inputs} inputs, batch 64, wasm (load average ${Deno.loadavg()[0].toFixed(2)}):`);
console.log(`  tfjs BatchMatMul:        ${original.toFixed(0)} ms/step`);
console.log(`  lib/fast_matmul.ts:      ${patched.toFixed(0)} ms/step (${(original / patched).toFixed(2)}× faster)`);
