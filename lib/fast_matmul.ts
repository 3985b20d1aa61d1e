/**
 * A faster `BatchMatMul` for tfjs's wasm backend when one operand is a large transposed matrix.
 *
 * Training a dense layer with tens of thousands of inputs (the original's padded sequences: 27,868
 * values per recording on "small", 222,938 on "main") computes, per step, the kernel gradient
 * dW = xᵀ·dy (`transposeA`) and the input gradient dx = dy·Wᵀ (`transposeB`, computed by tfjs even
 * for the first layer). The wasm backend of tfjs 4.22 runs both about 10× slower than a plain
 * product (its inner loop strides through the transposed operand; bench/model_bench.ts), so
 * {@linkcode patchWasmTransposedMatMul} re-registers `BatchMatMul` for "wasm" with two routes for
 * products without batching (rank 2, or rank 3 with batch 1, which is how `tf.matMul` reaches the
 * kernel):
 * - aᵀ·b with a large first operand = (bᵀ·a)ᵀ: transposes only the small operand and the result;
 * - a·bᵀ with a large second operand: transposes b once, then a plain product.
 * Values are the same up to float32 summation order; every other call goes to the original kernel.
 * @module
 */
import type { Tf } from "./tf.ts";

interface TensorInfoLike {
  dataId: object;
  shape: number[];
  dtype: string;
}

const patched = new WeakSet<object>();

/** Smallest size of the large operand's long side for which a transposed route is used. */
export const TRANSPOSED_ROUTE_MIN_COLUMNS = 2048;

/** True for a float32 matrix without batching: rank 2, or rank 3 with a batch of 1. */
function isMatrix(t: TensorInfoLike): boolean {
  return t.dtype === "float32" && (t.shape.length === 2 || (t.shape.length === 3 && t.shape[0] === 1));
}

/**
 * Re-registers the wasm `BatchMatMul` kernel with the transposed routes (idempotent per tfjs
 * instance). Returns true when the patch is active.
 */
export function patchWasmTransposedMatMul(tf: Tf): boolean {
  if (patched.has(tf)) return true;
  const original = tf.getKernel("BatchMatMul", "wasm");
  if (!original || !tf.getKernel("Transpose", "wasm")) return false;
  tf.unregisterKernel("BatchMatMul", "wasm");
  tf.registerKernel({
    kernelName: "BatchMatMul",
    backendName: "wasm",
    setupFunc: original.setupFunc,
    disposeFunc: original.disposeFunc,
    kernelFunc: (args) => {
      const { inputs, backend, attrs } = args;
      const a = inputs.a as unknown as TensorInfoLike;
      const b = inputs.b as unknown as TensorInfoLike;
      const { transposeA, transposeB } = attrs as unknown as { transposeA: boolean; transposeB: boolean };
      const routeA = transposeA && !transposeB && a.shape.at(-1)! >= TRANSPOSED_ROUTE_MIN_COLUMNS;
      const routeB = transposeB && !transposeA && b.shape.at(-2)! >= TRANSPOSED_ROUTE_MIN_COLUMNS;
      if (!(routeA || routeB) || !isMatrix(a) || !isMatrix(b) || a.shape.length !== b.shape.length) {
        return original.kernelFunc(args);
      }
      const perm = a.shape.length === 2 ? [1, 0] : [0, 2, 1];
      const transpose = tf.getKernel("Transpose", "wasm")!; // looked up per call: tests count its calls
      const swap = (x: TensorInfoLike) =>
        transpose.kernelFunc({
          inputs: { x } as never,
          backend,
          attrs: { perm } as never,
        }) as unknown as TensorInfoLike;
      const matMul = (x: TensorInfoLike, y: TensorInfoLike) =>
        original.kernelFunc({
          inputs: { a: x, b: y } as never,
          backend,
          attrs: { ...attrs, transposeA: false, transposeB: false } as never,
        }) as unknown as TensorInfoLike;
      const dispose = (backend as unknown as { disposeData(id: object): void }).disposeData.bind(backend);
      if (routeA) {
        // aᵀ·b = (bᵀ·a)ᵀ
        const bT = swap(b);
        const cT = matMul(bT, a);
        const c = swap(cT);
        dispose(bT.dataId);
        dispose(cT.dataId);
        return c as never;
      }
      // a·bᵀ with bᵀ materialised
      const bT = swap(b);
      const c = matMul(a, bT);
      dispose(bT.dataId);
      return c as never;
    },
  });
  patched.add(tf);
  return true;
}
