/**
 * TensorFlow.js setup: the only module that imports tfjs and picks its backend.
 *
 * tfjs is loaded lazily (dynamic `import()` of full `npm:` specifiers, so this works when lib/
 * is imported by URL with no import map), once per process. The default backend is "wasm"
 * (`@tensorflow/tfjs-backend-wasm`, its .wasm files read from the npm package next to its JS;
 * needs read permission only). If wasm cannot start, the "cpu" backend is used and one line
 * says so on stderr.
 *
 * The wasm backend of tfjs 4.22.0 has no `Conv2DBackpropFilter` kernel, so convolutional
 * models could not be trained on it. {@linkcode loadTf} registers one that runs the backend's
 * own `Conv3DBackpropFilterV2` kernel on the same buffers viewed with a depth of 1, for stride 1
 * only (tested against the cpu backend in tests/model_test.ts); use pooling to downsample.
 * @module
 */
import { importTfjs, importTfjsBackendCpu, importTfjsCore, importTfjsLayers, importTfjsWasm } from "./deps.ts";
import { ModelError } from "./errors.ts";

/** The tfjs namespace (`npm:@tensorflow/tfjs@4.22.0`). */
export type Tf = Awaited<ReturnType<typeof importTfjs>>;

/** Options of {@linkcode loadTf}. */
export interface LoadTfOptions {
  /** Backend to select. "wasm" falls back to "cpu" (with a log line) when it cannot start.
   * @default {"wasm"} */
  backend?: "wasm" | "cpu";
  /** Print the fallback notice on stderr. @default {true} */
  verbose?: boolean;
}

let tfPromise: Promise<Tf> | undefined;
let wasmRegistered = false;
const selected = new Set<string>();
let wasmFailed = false;

async function importTf(): Promise<Tf> {
  tfPromise ??= importTfjs();
  return await tfPromise;
}

/**
 * Loads tfjs (once per process) and selects a backend.
 * @param options `backend`: "wasm" (default) or "cpu".
 * @returns The tfjs namespace with the backend ready; `tf.getBackend()` names the one in use.
 * @example Usage
 * ```ts
 * const tf = await loadTf({ backend: "cpu" });
 * assertEquals(tf.getBackend(), "cpu");
 * ```
 */
export async function loadTf(options: LoadTfOptions = {}): Promise<Tf> {
  const backend = options.backend ?? "wasm";
  const verbose = options.verbose ?? true;
  const tf = await importTf();
  if (backend !== "wasm" && backend !== "cpu") {
    throw new ModelError(`Cannot load tfjs: backend is "${backend}", expected wasm or cpu`);
  }
  if (selected.has(backend) && tf.getBackend() === backend) return tf;
  if (backend === "wasm" && !wasmFailed) {
    let error = "";
    try {
      await importTfjsWasm();
      registerMissingWasmKernels(tf);
      if (await tf.setBackend("wasm")) {
        await tf.ready();
        selected.add("wasm");
        return tf;
      }
      error = "backend initialisation failed (is read permission granted for the npm cache?)";
    } catch (e) {
      error = e instanceof Error ? e.message : String(e);
    }
    wasmFailed = true;
    if (verbose) console.error(`tfjs: wasm backend unavailable (${error.split("\n")[0]}); using the cpu backend`);
  }
  if (!(await tf.setBackend("cpu"))) throw new ModelError("Cannot load tfjs: the cpu backend did not start");
  await tf.ready();
  // Silence the one-time "install tfjs-node" banner of the cpu backend; it does not apply to Deno.
  (tf.backend() as unknown as { firstUse?: boolean }).firstUse = false;
  selected.add("cpu");
  return tf;
}

let inferencePromise: Promise<Tf> | undefined;

/**
 * tfjs for running layers models on the cpu backend, imported from its parts (@tensorflow/tfjs-core,
 * -layers, -backend-cpu) rather than the umbrella package, which also loads tfjs-converter, tfjs-data
 * and the webgl backend: about 40 % less import time, most of a CLI's cold start (bench/infer_bench.ts).
 * Same versions and module instances as {@linkcode loadTf}; if the umbrella is already loaded, it is
 * returned as it is (its backend unchanged). Loaded once per process. Used by lib/classifier.ts.
 * @returns tfjs-core's API plus tfjs-layers' (`loadLayersModel`, `layers`, ...), with the cpu backend set.
 */
export function loadTfForInference(): Promise<Tf> {
  if (tfPromise) return tfPromise; // the umbrella is loaded already (e.g. training): use it, backend unchanged
  inferencePromise ??= (async () => {
    const [core, layers] = await Promise.all([
      importTfjsCore(),
      importTfjsLayers(),
      importTfjsBackendCpu(),
    ]);
    const tf = { ...core, ...layers } as unknown as Tf;
    if (!(await tf.setBackend("cpu"))) throw new ModelError("Cannot load tfjs: the cpu backend did not start");
    await tf.ready();
    (tf.backend() as unknown as { firstUse?: boolean }).firstUse = false; // no "install tfjs-node" banner
    return tf;
  })();
  return inferencePromise;
}

interface TensorInfoLike {
  dataId: object;
  shape: number[];
  dtype: string;
}

/** Registers `Conv2DBackpropFilter` for wasm via `Conv3DBackpropFilterV2` with depth 1. */
function registerMissingWasmKernels(tf: Tf): void {
  if (wasmRegistered) return;
  wasmRegistered = true;
  const kernels = tf.getKernelsForBackend("wasm").map((k) => k.kernelName);
  if (kernels.includes("Conv2DBackpropFilter") || !kernels.includes("Conv3DBackpropFilterV2")) return;
  const conv3d = tf.getKernel("Conv3DBackpropFilterV2", "wasm")!;
  tf.registerKernel({
    kernelName: "Conv2DBackpropFilter",
    backendName: "wasm",
    kernelFunc: ({ inputs, backend, attrs }) => {
      const x = inputs.x as unknown as TensorInfoLike;
      const dy = inputs.dy as unknown as TensorInfoLike;
      const { strides, pad, dataFormat, dimRoundingMode, filterShape } = attrs as unknown as {
        strides: number | [number, number];
        pad: "same" | "valid" | number;
        dataFormat: string;
        dimRoundingMode?: string;
        filterShape: [number, number, number, number];
      };
      const [sh, sw] = typeof strides === "number" ? [strides, strides] : strides;
      // Stride > 1 gives wrong gradients through Conv3DBackpropFilterV2 (checked against finite
      // differences), so only stride 1 is offered; downsample with pooling layers instead.
      if (dataFormat !== "NHWC" || dimRoundingMode != null || typeof pad !== "string" || sh !== 1 || sw !== 1) {
        throw new ModelError(
          `Cannot compute conv2d filter gradient on wasm: only NHWC, stride 1 and "same" or "valid" padding are supported`,
        );
      }
      const [b, h, w, c] = x.shape;
      const [, oh, ow, f] = dy.shape;
      const out = conv3d.kernelFunc({
        inputs: {
          x: { dataId: x.dataId, shape: [b, 1, h, w, c], dtype: x.dtype },
          dy: { dataId: dy.dataId, shape: [b, 1, oh, ow, f], dtype: dy.dtype },
        } as never,
        backend,
        attrs: { strides: [1, sh, sw], pad, filterShape: [1, ...filterShape] } as never,
      }) as unknown as TensorInfoLike;
      return { dataId: out.dataId, shape: [...filterShape], dtype: out.dtype } as never;
    },
  });
}
