/**
 * A faster `BatchMatMul` for tfjs's wasm backend when the first operand is transposed.
 *
 * Training a dense layer computes its kernel gradient as dW = xᵀ·dy with x of batch × inputs.
 * With tens of thousands of inputs (the original's padded sequences: 27,868 values per recording
 * on "small", 222,938 on "main") the wasm backend's `matMul(x, dy, transposeA = true)` is about
 * 5× slower than the equivalent (dyᵀ·x)ᵀ, which transposes only the small operand and the
 * result. {@linkcode patchWasmTransposedMatMul} re-registers `BatchMatMul` for "wasm" so that
 * rank-2 products with `transposeA` and a large first operand take that route (same values up
 * to float32 summation order); every other call goes to the original kernel.
 * @module
 */
import type { Tf } from "./tf.ts";

interface TensorInfoLike {
  dataId: object;
  shape: number[];
  dtype: string;
}

const patched = new WeakSet<object>();

/** Smallest column count of the first operand for which the transposed route is used. */
export const TRANSPOSED_ROUTE_MIN_COLUMNS = 2048;

/**
 * Re-registers the wasm `BatchMatMul` kernel with the transposed route (idempotent per tfjs
 * instance). Returns true when the patch is active.
 */
export function patchWasmTransposedMatMul(tf: Tf): boolean {
  if (patched.has(tf)) return true;
  const original = tf.getKernel("BatchMatMul", "wasm");
  const transpose = tf.getKernel("Transpose", "wasm");
  if (!original || !transpose) return false;
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
      if (
        !transposeA || transposeB || a.shape.length !== 2 || b.shape.length !== 2 ||
        a.shape[1] < TRANSPOSED_ROUTE_MIN_COLUMNS || a.dtype !== "float32" || b.dtype !== "float32"
      ) {
        return original.kernelFunc(args);
      }
      // aᵀ·b = (bᵀ·a)ᵀ
      const bT = transpose.kernelFunc({
        inputs: { x: b } as never,
        backend,
        attrs: { perm: [1, 0] } as never,
      }) as unknown as TensorInfoLike;
      const cT = original.kernelFunc({
        inputs: { a: bT, b: a } as never,
        backend,
        attrs: { ...attrs, transposeA: false, transposeB: false } as never,
      }) as unknown as TensorInfoLike;
      const c = transpose.kernelFunc({ inputs: { x: cT } as never, backend, attrs: { perm: [1, 0] } as never });
      const dispose = (backend as unknown as { disposeData(id: object): void }).disposeData.bind(backend);
      dispose(bT.dataId);
      dispose(cT.dataId);
      return c;
    },
  });
  patched.add(tf);
  return true;
}
