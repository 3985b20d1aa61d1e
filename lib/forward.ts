/**
 * Inference without tfjs: a forward pass in plain TypeScript for tfjs *Sequential* layers models as
 * saved in model.json + weight files (lib/model.ts `saveModel`, tfjs `model.save`, tfjs-converter).
 *
 * Supported layers: InputLayer, Conv1D (channels last, padding "same" or "valid", any stride, dilation 1,
 * bias optional), Dense (on the last axis), BatchNormalization (last axis, inference: moving mean and
 * variance), Activation, MaxPooling1D and AveragePooling1D ("same" or "valid"), GlobalAveragePooling1D,
 * GlobalMaxPooling1D, Flatten and Dropout (identity at inference). Activations: linear, relu, relu6, elu,
 * selu, sigmoid, tanh, softmax (last axis), softplus, softsign. Weights: float32, or quantized as
 * tfjs-converter writes them (float16; uint8 and uint16 affine, value = q · scale + min). Anything else is
 * refused when the model is loaded, with a {@linkcode ModelError}.
 *
 * Data are batch-first, row-major, channels last, as tfjs holds them: `rows × inputShape`. A
 * BatchNormalization right after a Conv1D or Dense with linear activation is folded into that layer's
 * kernel and bias when the model is loaded, and an activation layer that follows is applied in the same
 * pass. Results agree with tfjs `model.predict` (cpu backend) to float32 rounding (tests/forward_test.ts).
 * @module
 */
import { ModelError } from "./errors.ts";
import { compileEmbedded, ensureMemory } from "./wasm.ts";
import type { WeightsGroup, WeightSpec } from "./model_folder.ts";

export type { WeightSpec };

/** The parts of a tfjs layers model.json that {@linkcode loadForwardModel} reads. */
export interface LayersModelJson {
  /** Keras-style topology: `{ class_name: "Sequential", config: { layers: [...] } }` (or `config: [...]`). */
  modelTopology: unknown;
  /** Weight groups; the weight files are concatenated in this order. */
  weightsManifest: WeightsGroup[];
}

/** Options of {@linkcode loadForwardModel}. */
export interface ForwardModelOptions {
  /** Fold a BatchNormalization into the Conv1D or Dense before it (same result up to float rounding,
   * one pass less). @default {true} */
  foldBatchNorm?: boolean;
  /** Run Conv1D layers whose filter count is a multiple of 4 in WebAssembly (128-bit SIMD, float32
   * accumulation as tfjs does) when available; false: always plain TypeScript (float64 accumulation).
   * @default {true} */
  wasm?: boolean;
}

/** A loaded model: pure, synchronous, reusable. */
export interface ForwardModel {
  /** Shape of one input row, without the batch axis (e.g. `[75, 16]`). */
  readonly inputShape: number[];
  /** Shape of one output row, without the batch axis (e.g. `[4]`). */
  readonly outputShape: number[];
  /** The steps run, one per layer or fused group (e.g. "conv1d_Conv1D1 Conv1D+BatchNormalization+relu"). */
  readonly steps: string[];
  /**
   * Runs the model on `rows` inputs.
   * @param input `rows × product(inputShape)` values, row-major.
   * @param rows Batch size, ≥ 0.
   * @returns `rows × product(outputShape)` values, row-major.
   * @throws {ModelError} `input.length` is not `rows × product(inputShape)`.
   */
  predict(input: Float32Array, rows: number): Float32Array;
}

const product = (shape: number[]) => shape.reduce((a, b) => a * b, 1);

// ---------------------------------------------------------------- weights

const F16_EXP = new Float32Array(32);
for (let e = 0; e < 32; e++) F16_EXP[e] = 2 ** (e - 25); // value of mantissa unit at exponent e (normal numbers)

/** The float32 value of a float16 bit pattern (exact). */
export function float16BitsToFloat32(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exp = (bits >>> 10) & 0x1f;
  const mant = bits & 0x3ff;
  if (exp === 0) return sign * mant * 2 ** -24; // zero and subnormals
  if (exp === 0x1f) return mant ? NaN : sign * Infinity;
  return sign * (1024 + mant) * F16_EXP[exp];
}

/**
 * Decodes the weights of a model.json manifest as tfjs does: each weight in manifest order from the
 * concatenated weight files, dequantized to float32.
 * @param specs The manifest's weights, in order.
 * @param data The weight files' bytes, concatenated in manifest order.
 * @returns Weight values by name.
 * @throws {ModelError} Too few bytes, a dtype other than float32 or an unknown quantization.
 */
export function decodeWeights(specs: WeightSpec[], data: Uint8Array): Map<string, Float32Array> {
  const out = new Map<string, Float32Array>();
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  let at = 0;
  for (const spec of specs) {
    const size = product(spec.shape);
    const q = spec.quantization;
    if (spec.dtype !== "float32") {
      throw new ModelError(`Cannot load model: weight ${spec.name} has dtype ${spec.dtype}, expected float32`);
    }
    const bytesPer = q ? ({ float16: 2, uint8: 1, uint16: 2 } as Record<string, number>)[q.dtype] : 4;
    if (!bytesPer) {
      throw new ModelError(`Cannot load model: weight ${spec.name} has unknown quantization ${q?.dtype}`);
    }
    if (at + size * bytesPer > data.byteLength) {
      throw new ModelError(
        `Cannot load model: weight data has ${data.byteLength} bytes, too few for weight ${spec.name}`,
      );
    }
    const values = new Float32Array(size);
    if (!q) { for (let i = 0; i < size; i++) values[i] = view.getFloat32(at + 4 * i, true); }
    else if (q.dtype === "float16") {
      for (let i = 0; i < size; i++) values[i] = float16BitsToFloat32(view.getUint16(at + 2 * i, true));
    } else {
      const { min, scale } = q;
      if (typeof min !== "number" || typeof scale !== "number") {
        throw new ModelError(`Cannot load model: weight ${spec.name} is ${q.dtype}-quantized without min and scale`);
      }
      for (let i = 0; i < size; i++) {
        const v = q.dtype === "uint8" ? data[at + i] : view.getUint16(at + 2 * i, true);
        values[i] = v * scale + min;
      }
    }
    out.set(spec.name, values);
    at += size * bytesPer;
  }
  return out;
}

// ---------------------------------------------------------------- activations

/** In-place activations over `x[from … to)`; softmax runs over consecutive groups of `last` values. */
type Activation = (x: Float32Array, last: number) => void;

const SELU_ALPHA = 1.6732632423543772848170429916717;
const SELU_SCALE = 1.0507009873554804934193349852946;

const ACTIVATIONS: Record<string, Activation | null> = {
  linear: null,
  relu: (x) => {
    for (let i = 0; i < x.length; i++) if (!(x[i] > 0)) x[i] = 0;
  },
  relu6: (x) => {
    for (let i = 0; i < x.length; i++) x[i] = x[i] > 0 ? (x[i] < 6 ? x[i] : 6) : 0;
  },
  elu: (x) => {
    for (let i = 0; i < x.length; i++) if (x[i] < 0) x[i] = Math.expm1(x[i]);
  },
  selu: (x) => {
    for (let i = 0; i < x.length; i++) x[i] = SELU_SCALE * (x[i] < 0 ? SELU_ALPHA * Math.expm1(x[i]) : x[i]);
  },
  sigmoid: (x) => {
    for (let i = 0; i < x.length; i++) x[i] = 1 / (1 + Math.exp(-x[i]));
  },
  tanh: (x) => {
    for (let i = 0; i < x.length; i++) x[i] = Math.tanh(x[i]);
  },
  softplus: (x) => {
    for (let i = 0; i < x.length; i++) {
      const v = x[i];
      x[i] = v > 0 ? v + Math.log1p(Math.exp(-v)) : Math.log1p(Math.exp(v));
    }
  },
  softsign: (x) => {
    for (let i = 0; i < x.length; i++) x[i] = x[i] / (1 + Math.abs(x[i]));
  },
  softmax: (x, last) => {
    for (let r = 0; r < x.length; r += last) {
      let max = -Infinity;
      for (let j = r; j < r + last; j++) if (x[j] > max) max = x[j];
      let sum = 0;
      for (let j = r; j < r + last; j++) {
        const e = Math.exp(x[j] - max);
        x[j] = e;
        sum += e;
      }
      for (let j = r; j < r + last; j++) x[j] /= sum;
    }
  },
};

function activation(name: unknown, layer: string): Activation | null {
  const key = name ?? "linear";
  if (typeof key !== "string" || !(key in ACTIVATIONS)) {
    throw new ModelError(
      `Cannot load model: activation ${JSON.stringify(name)} of layer ${layer} is not supported by lib/forward.ts`,
    );
  }
  return ACTIVATIONS[key];
}

// ---------------------------------------------------------------- layers

/** One step of the forward pass: `rows` inputs of `inShape` → outputs of `outShape`. */
interface Step {
  label: string;
  outShape: number[];
  run(x: Float32Array, rows: number): Float32Array;
}

interface LayerJson {
  class_name: string;
  config: Record<string, unknown>;
}

/** Conv1D or Dense as one affine map with an optional activation; BatchNormalization may be folded in. */
interface Affine {
  kind: "Conv1D" | "Dense";
  name: string;
  /** Conv1D: `[kernelSize, channelsIn, filters]`; Dense: `[1, unitsIn, units]` (row-major). */
  kernel: Float32Array;
  bias: Float32Array;
  kernelSize: number;
  channelsIn: number;
  units: number;
  stride: number;
  padding: "same" | "valid";
  activation: Activation | null;
  activationName: string;
  folded: string[];
}

function scalarOf(value: unknown, name: string, layer: string, fallback?: number): number {
  const v = Array.isArray(value) ? value : [value];
  if (v.length !== 1 || (v[0] == null && fallback === undefined)) {
    throw new ModelError(
      `Cannot load model: ${name} of layer ${layer} is ${JSON.stringify(value)}, expected one number`,
    );
  }
  const n = v[0] ?? fallback;
  if (!Number.isInteger(n) || n < 1) {
    throw new ModelError(`Cannot load model: ${name} of layer ${layer} is ${JSON.stringify(value)}`);
  }
  return n;
}

function paddingOf(value: unknown, layer: string): "same" | "valid" {
  const p = value ?? "valid";
  if (p !== "same" && p !== "valid") {
    throw new ModelError(`Cannot load model: padding "${p}" of layer ${layer} is not supported by lib/forward.ts`);
  }
  return p;
}

function channelsLast(config: Record<string, unknown>, layer: string): void {
  const format = config.data_format ?? "channels_last";
  if (format !== "channels_last") {
    throw new ModelError(
      `Cannot load model: data_format "${format}" of layer ${layer} is not supported by lib/forward.ts`,
    );
  }
}

/** Output length and left padding of a 1-D window of `size` and `stride` over `length` steps. */
function window1d(length: number, size: number, stride: number, padding: "same" | "valid") {
  if (padding === "same") {
    const out = Math.ceil(length / stride);
    return { out, padLeft: Math.floor(Math.max((out - 1) * stride + size - length, 0) / 2) };
  }
  return { out: Math.max(0, Math.ceil((length - size + 1) / stride)), padLeft: 0 };
}

/**
 * Conv1D in WebAssembly (128-bit SIMD), compiled from the text below with wabt 1.0.39 (`parseWat` with
 * `simd: true`, then `toBinary`). `conv(x, w, b, o, rows, T, C, K, F, stride, pad, To)` reads `rows` inputs of
 * T steps × C channels (f32) at byte x, the kernel `[K][C][F]` at w and the bias `[F]` at b, and writes
 * `rows × To × F` outputs at byte o: four filters at a time, out = bias + Σ over the kernel steps inside the
 * input and the channels of x · w, in float32 (two interleaved accumulators, added at the end). F must be a
 * multiple of 4.
 * ```wat
 * (module
 *   (memory (export "memory") 1)
 *   (func (export "conv")
 *     (param $x i32) (param $w i32) (param $b i32) (param $o i32) (param $rows i32) (param $T i32)
 *     (param $C i32) (param $K i32) (param $F i32) (param $stride i32) (param $pad i32) (param $To i32)
 *     (local $r i32) (local $t i32) (local $f i32) (local $t0 i32) (local $k0 i32) (local $k1 i32)
 *     (local $xr i32) (local $xp i32) (local $wp i32) (local $n i32) (local $fb i32) (local $op i32)
 *     (local $acc0 v128) (local $acc1 v128)
 *     (local.set $fb (i32.shl (local.get $F) (i32.const 2)))
 *     (local.set $op (local.get $o))
 *     (block $rowsDone (loop $rowLoop
 *       (br_if $rowsDone (i32.ge_u (local.get $r) (local.get $rows)))
 *       (local.set $xr (i32.add (local.get $x)
 *         (i32.shl (i32.mul (local.get $r) (i32.mul (local.get $T) (local.get $C))) (i32.const 2))))
 *       (local.set $t (i32.const 0))
 *       (block $stepsDone (loop $stepLoop
 *         (br_if $stepsDone (i32.ge_u (local.get $t) (local.get $To)))
 *         (local.set $t0 (i32.sub (i32.mul (local.get $t) (local.get $stride)) (local.get $pad)))
 *         (local.set $k0 (select (i32.sub (i32.const 0) (local.get $t0)) (i32.const 0)
 *           (i32.lt_s (local.get $t0) (i32.const 0))))
 *         (local.set $k1 (select (i32.sub (local.get $T) (local.get $t0)) (local.get $K)
 *           (i32.lt_s (i32.sub (local.get $T) (local.get $t0)) (local.get $K))))
 *         (local.set $f (i32.const 0))
 *         (block $filtersDone (loop $filterLoop
 *           (br_if $filtersDone (i32.ge_u (local.get $f) (local.get $F)))
 *           (local.set $acc0 (v128.load (i32.add (local.get $b) (i32.shl (local.get $f) (i32.const 2)))))
 *           (local.set $acc1 (v128.const i32x4 0 0 0 0))
 *           (local.set $xp (i32.add (local.get $xr)
 *             (i32.shl (i32.mul (i32.add (local.get $t0) (local.get $k0)) (local.get $C)) (i32.const 2))))
 *           (local.set $wp (i32.add (local.get $w)
 *             (i32.shl (i32.add (i32.mul (i32.mul (local.get $k0) (local.get $C)) (local.get $F)) (local.get $f))
 *               (i32.const 2))))
 *           (local.set $n (i32.mul (i32.sub (local.get $k1) (local.get $k0)) (local.get $C)))
 *           (block $pairsDone (loop $pairLoop
 *             (br_if $pairsDone (i32.lt_s (local.get $n) (i32.const 2)))
 *             (local.set $acc0 (f32x4.add (local.get $acc0)
 *               (f32x4.mul (v128.load32_splat (local.get $xp)) (v128.load (local.get $wp)))))
 *             (local.set $acc1 (f32x4.add (local.get $acc1)
 *               (f32x4.mul (v128.load32_splat offset=4 (local.get $xp))
 *                 (v128.load (i32.add (local.get $wp) (local.get $fb))))))
 *             (local.set $xp (i32.add (local.get $xp) (i32.const 8)))
 *             (local.set $wp (i32.add (local.get $wp) (i32.shl (local.get $fb) (i32.const 1))))
 *             (local.set $n (i32.sub (local.get $n) (i32.const 2)))
 *             (br $pairLoop)))
 *           (if (i32.gt_s (local.get $n) (i32.const 0))
 *             (then (local.set $acc0 (f32x4.add (local.get $acc0)
 *               (f32x4.mul (v128.load32_splat (local.get $xp)) (v128.load (local.get $wp)))))))
 *           (v128.store (local.get $op) (f32x4.add (local.get $acc0) (local.get $acc1)))
 *           (local.set $op (i32.add (local.get $op) (i32.const 16)))
 *           (local.set $f (i32.add (local.get $f) (i32.const 4)))
 *           (br $filterLoop)))
 *         (local.set $t (i32.add (local.get $t) (i32.const 1)))
 *         (br $stepLoop)))
 *       (local.set $r (i32.add (local.get $r) (i32.const 1)))
 *       (br $rowLoop)))))
 * ```
 */
const CONV_WASM =
  "AGFzbQEAAAABEAFgDH9/f39/f39/f39/fwADAgEABQMBAAEHEQIGbWVtb3J5AgAEY29udgAACvACAe0CAgx/AnsgCEECdCEWIAMhFwJAA0AgDCAETw0BIAAgDCAFIAZsbEECdGohEkEAIQ0CQANAIA0gC08NASANIAlsIAprIQ9BACAPa0EAIA9BAEgbIRAgBSAPayAHIAUgD2sgB0gbIRFBACEOAkADQCAOIAhPDQEgAiAOQQJ0av0ABAAhGP0MAAAAAAAAAAAAAAAAAAAAACEZIBIgDyAQaiAGbEECdGohEyABIBAgBmwgCGwgDmpBAnRqIRQgESAQayAGbCEVAkADQCAVQQJIDQEgGCAT/QkCACAU/QAEAP3mAf3kASEYIBkgE/0JAgQgFCAWav0ABAD95gH95AEhGSATQQhqIRMgFCAWQQF0aiEUIBVBAmshFQwACwsgFUEASgRAIBggE/0JAgAgFP0ABAD95gH95AEhGAsgFyAYIBn95AH9CwQAIBdBEGohFyAOQQRqIQ4MAAsLIA1BAWohDQwACwsgDEEBaiEMDAALCws=";

interface ConvExports {
  memory: WebAssembly.Memory;
  conv: (...args: number[]) => void;
}

/** The compiled {@linkcode CONV_WASM}; null where WebAssembly SIMD is unavailable; undefined until first use. */
let convModule: WebAssembly.Module | null | undefined;

/** A WebAssembly instance of one model: its Conv1D weights, then scratch space for a step's input and output. */
class WasmArena {
  readonly exports: ConvExports;
  /** First free byte after the weights. */
  top = 0;
  constructor(exports: ConvExports) {
    this.exports = exports;
  }
  /** Copies `values` in (16-byte aligned); returns their byte offset. */
  store(values: Float32Array): number {
    const at = this.top;
    this.top = at + 16 * Math.ceil((4 * values.length) / 16);
    this.ensure(this.top);
    new Float32Array(this.exports.memory.buffer, at, values.length).set(values);
    return at;
  }
  /** Makes the memory hold at least `bytes` (lib/wasm.ts `ensureMemory`). */
  ensure(bytes: number): void {
    ensureMemory(this.exports.memory, bytes);
  }
}

/** Memory every instance reserves when it is created (weights and a step's input and output: 2 MiB holds a few
 * minutes of audio), so that it does not grow in the middle of a batch (lib/wasm.ts `ensureMemory`). */
const RESERVED_BYTES = 2 << 20;

function wasmArena(): WasmArena | null {
  if (convModule === undefined) convModule = compileEmbedded(CONV_WASM);
  if (!convModule) return null;
  const arena = new WasmArena(new WebAssembly.Instance(convModule).exports as unknown as ConvExports);
  arena.ensure(RESERVED_BYTES);
  return arena;
}

function affineStep(a: Affine, inShape: number[], arena: WasmArena | null): Step {
  const { kernel, bias, kernelSize: K, channelsIn: C, units: F, stride } = a;
  const act = a.activation;
  const label = `${a.name} ${[a.kind, ...a.folded].join("+")}${
    a.activationName !== "linear" ? `+${a.activationName}` : ""
  }`;
  if (a.kind === "Dense") {
    const last = inShape.at(-1)!;
    if (last !== C) throw new ModelError(`Cannot load model: layer ${a.name} takes ${C} inputs, gets ${last}`);
    const outShape = [...inShape.slice(0, -1), F];
    return {
      label,
      outShape,
      run(x) {
        const n = x.length / C; // input vectors (rows × every axis but the last)
        const out = new Float32Array(n * F);
        const acc = new Float64Array(F);
        for (let r = 0; r < n; r++) {
          for (let f = 0; f < F; f++) acc[f] = bias[f];
          const xo = r * C;
          for (let c = 0; c < C; c++) {
            const v = x[xo + c];
            if (v === 0) continue;
            const wo = c * F;
            for (let f = 0; f < F; f++) acc[f] += v * kernel[wo + f];
          }
          for (let f = 0; f < F; f++) out[r * F + f] = acc[f];
        }
        act?.(out, F);
        return out;
      },
    };
  }
  if (inShape.length !== 2 || inShape[1] !== C) {
    throw new ModelError(
      `Cannot load model: layer ${a.name} takes [steps, ${C}] inputs, gets [${inShape.join(", ")}]`,
    );
  }
  const T = inShape[0];
  const { out: To, padLeft } = window1d(T, K, stride, a.padding);
  if (arena && F % 4 === 0) {
    const wAt = arena.store(kernel), bAt = arena.store(bias);
    return {
      label: `${label} (wasm)`,
      outShape: [To, F],
      run(x, rows) {
        const xAt = arena.top, oAt = xAt + 16 * Math.ceil((4 * x.length) / 16);
        arena.ensure(oAt + 4 * rows * To * F);
        const { memory, conv } = arena.exports;
        new Float32Array(memory.buffer, xAt, x.length).set(x);
        conv(xAt, wAt, bAt, oAt, rows, T, C, K, F, stride, padLeft, To);
        const out = new Float32Array(memory.buffer, oAt, rows * To * F).slice();
        act?.(out, F);
        return out;
      },
    };
  }
  return {
    label,
    outShape: [To, F],
    run(x, rows) {
      const out = new Float32Array(rows * To * F);
      const acc = new Float64Array(F);
      for (let r = 0; r < rows; r++) {
        const xr = r * T * C;
        for (let t = 0; t < To; t++) {
          for (let f = 0; f < F; f++) acc[f] = bias[f];
          const t0 = t * stride - padLeft;
          const k0 = Math.max(0, -t0), k1 = Math.min(K, T - t0);
          for (let k = k0; k < k1; k++) {
            const xo = xr + (t0 + k) * C, wk = k * C * F;
            for (let c = 0; c < C; c++) {
              const v = x[xo + c];
              if (v === 0) continue; // after relu, many inputs are 0
              const wo = wk + c * F;
              for (let f = 0; f < F; f++) acc[f] += v * kernel[wo + f];
            }
          }
          const oo = (r * To + t) * F;
          for (let f = 0; f < F; f++) out[oo + f] = acc[f];
        }
      }
      act?.(out, F);
      return out;
    },
  };
}

function poolStep(name: string, kind: "max" | "average", config: Record<string, unknown>, inShape: number[]): Step {
  channelsLast(config, name);
  if (inShape.length !== 2) {
    throw new ModelError(
      `Cannot load model: layer ${name} takes [steps, channels] inputs, gets [${inShape.join(", ")}]`,
    );
  }
  const [T, C] = inShape;
  const size = scalarOf(config.pool_size ?? 2, "pool_size", name);
  const stride = scalarOf(config.strides ?? null, "strides", name, size);
  const padding = paddingOf(config.padding, name);
  const { out: To, padLeft } = window1d(T, size, stride, padding);
  return {
    label: `${name} ${kind === "max" ? "MaxPooling1D" : "AveragePooling1D"}`,
    outShape: [To, C],
    run(x, rows) {
      const out = new Float32Array(rows * To * C);
      for (let r = 0; r < rows; r++) {
        for (let t = 0; t < To; t++) {
          const t0 = t * stride - padLeft;
          const a = Math.max(0, t0), b = Math.min(T, t0 + size);
          const oo = (r * To + t) * C;
          for (let c = 0; c < C; c++) {
            let v = kind === "max" ? -Infinity : 0;
            for (let s = a; s < b; s++) {
              const u = x[(r * T + s) * C + c];
              if (kind === "max") v = u > v ? u : v;
              else v += u;
            }
            out[oo + c] = kind === "max" ? v : v / (b - a);
          }
        }
      }
      return out;
    },
  };
}

function globalPoolStep(
  name: string,
  kind: "max" | "average",
  config: Record<string, unknown>,
  inShape: number[],
): Step {
  channelsLast(config, name);
  if (inShape.length !== 2) {
    throw new ModelError(
      `Cannot load model: layer ${name} takes [steps, channels] inputs, gets [${inShape.join(", ")}]`,
    );
  }
  const [T, C] = inShape;
  return {
    label: `${name} ${kind === "max" ? "GlobalMaxPooling1D" : "GlobalAveragePooling1D"}`,
    outShape: [C],
    run(x, rows) {
      const out = new Float32Array(rows * C);
      const acc = new Float64Array(C);
      for (let r = 0; r < rows; r++) {
        acc.fill(kind === "max" ? -Infinity : 0);
        for (let t = 0; t < T; t++) {
          const xo = (r * T + t) * C;
          for (let c = 0; c < C; c++) {
            if (kind === "max") acc[c] = x[xo + c] > acc[c] ? x[xo + c] : acc[c];
            else acc[c] += x[xo + c];
          }
        }
        for (let c = 0; c < C; c++) out[r * C + c] = kind === "max" ? acc[c] : acc[c] / T;
      }
      return out;
    },
  };
}

/** BatchNormalization parameters as y = x · a + b per channel. */
function batchNormAffine(
  name: string,
  config: Record<string, unknown>,
  weight: (name: string, shape: number[]) => Float32Array,
  channels: number,
  rank: number,
): { a: Float64Array; b: Float64Array } {
  const axis = config.axis ?? -1;
  const axes = Array.isArray(axis) ? axis : [axis];
  if (axes.length !== 1 || !(axes[0] === -1 || axes[0] === rank)) {
    throw new ModelError(
      `Cannot load model: BatchNormalization ${name} on axis ${
        JSON.stringify(axis)
      } is not supported by lib/forward.ts (only the last axis)`,
    );
  }
  const epsilon = typeof config.epsilon === "number" ? config.epsilon : 1e-3;
  const gamma = config.scale === false ? null : weight("gamma", [channels]);
  const beta = config.center === false ? null : weight("beta", [channels]);
  const mean = weight("moving_mean", [channels]);
  const variance = weight("moving_variance", [channels]);
  const a = new Float64Array(channels), b = new Float64Array(channels);
  for (let c = 0; c < channels; c++) {
    a[c] = (gamma ? gamma[c] : 1) / Math.sqrt(variance[c] + epsilon);
    b[c] = (beta ? beta[c] : 0) - mean[c] * a[c];
  }
  return { a, b };
}

function layersOf(topology: unknown): LayerJson[] {
  const t = topology as { class_name?: string; config?: unknown; model_config?: unknown } | null;
  const root = t && typeof t === "object" && "model_config" in t ? t.model_config as typeof t : t;
  if (!root || typeof root !== "object" || typeof root.class_name !== "string") {
    throw new ModelError("Cannot load model: modelTopology has no class_name");
  }
  if (root.class_name !== "Sequential") {
    throw new ModelError(
      `Cannot load model: model class ${root.class_name} is not supported by lib/forward.ts (only Sequential)`,
    );
  }
  const config = root.config as { layers?: unknown } | unknown[];
  const layers = Array.isArray(config) ? config : (config as { layers?: unknown })?.layers;
  if (!Array.isArray(layers) || layers.length === 0) throw new ModelError("Cannot load model: the model has no layers");
  return layers as LayerJson[];
}

/**
 * Loads a tfjs Sequential layers model for {@linkcode ForwardModel.predict} (see the module doc).
 * @param modelJson The parsed model.json.
 * @param weightData The weight files' bytes, concatenated in manifest order.
 * @throws {ModelError} An unsupported layer, activation or setting ("Cannot load model: layer X is not
 *   supported by lib/forward.ts"), a missing weight or one of the wrong shape, or no input shape.
 * @example Usage
 * ```ts
 * const json = JSON.parse(await Deno.readTextFile("models/model.json"));
 * const model = loadForwardModel(json, await Deno.readFile("models/weights.bin"));
 * const probs = model.predict(new Float32Array(2 * 75 * 16), 2);
 * assertEquals(probs.length, 2 * 4);
 * ```
 */
export function loadForwardModel(
  modelJson: LayersModelJson,
  weightData: Uint8Array,
  options: ForwardModelOptions = {},
): ForwardModel {
  const fold = options.foldBatchNorm ?? true;
  const arena = options.wasm ?? true ? wasmArena() : null;
  const layers = layersOf(modelJson?.modelTopology);
  const manifest = modelJson.weightsManifest;
  if (!Array.isArray(manifest)) throw new ModelError("Cannot load model: model.json has no weightsManifest");
  const specs = manifest.flatMap((group) => group.weights);
  const weights = decodeWeights(specs, weightData);
  const shapes = new Map(specs.map((s) => [s.name, s.shape]));
  const used = new Set<string>();
  const weightOf = (layer: string) => (name: string, shape: number[]): Float32Array => {
    const key = `${layer}/${name}`;
    const values = weights.get(key);
    if (!values) throw new ModelError(`Cannot load model: weight ${key} is missing`);
    const got = shapes.get(key)!;
    if (got.length !== shape.length || got.some((n, i) => n !== shape[i])) {
      throw new ModelError(`Cannot load model: weight ${key} has shape [${got}], expected [${shape}]`);
    }
    used.add(key);
    return values;
  };

  const first = layers[0].config ?? {};
  const batchShape = (first.batch_input_shape ?? first.batchInputShape) as (number | null)[] | undefined;
  if (!Array.isArray(batchShape) || batchShape.slice(1).some((n) => !Number.isInteger(n) || n! < 1)) {
    throw new ModelError("Cannot load model: the first layer has no fixed batch_input_shape");
  }
  const inputShape = batchShape.slice(1) as number[];
  let shape = inputShape;
  const steps: Step[] = [];
  let pending: Affine | null = null; // a Conv1D/Dense that later BatchNormalization/Activation may join
  const flush = () => {
    if (pending) {
      const step = affineStep(pending, shape, arena);
      steps.push(step);
      shape = step.outShape;
      pending = null;
    }
  };

  for (const layer of layers) {
    const kind = layer.class_name;
    const config = layer.config ?? {};
    const name = String(config.name ?? kind);
    const weight = weightOf(name);
    switch (kind) {
      case "InputLayer":
      case "Dropout":
      case "SpatialDropout1D":
        break;
      case "Conv1D":
      case "Dense": {
        flush();
        const isConv = kind === "Conv1D";
        if (isConv) {
          channelsLast(config, name);
          const dilation = scalarOf(config.dilation_rate ?? 1, "dilation_rate", name);
          if (dilation !== 1) {
            throw new ModelError(
              `Cannot load model: dilation_rate ${dilation} of layer ${name} is not supported by lib/forward.ts`,
            );
          }
          if (shape.length !== 2) {
            throw new ModelError(
              `Cannot load model: layer ${name} takes [steps, channels] inputs, gets [${shape.join(", ")}]`,
            );
          }
        }
        const units = scalarOf(isConv ? config.filters : config.units, isConv ? "filters" : "units", name);
        const K = isConv ? scalarOf(config.kernel_size, "kernel_size", name) : 1;
        const C = shape.at(-1)!;
        const kernel = Float32Array.from(weight("kernel", isConv ? [K, C, units] : [C, units]));
        const bias = config.use_bias === false ? new Float32Array(units) : Float32Array.from(weight("bias", [units]));
        const actName = String(config.activation ?? "linear");
        pending = {
          kind,
          name,
          kernel,
          bias,
          kernelSize: K,
          channelsIn: C,
          units,
          stride: isConv ? scalarOf(config.strides ?? 1, "strides", name) : 1,
          padding: isConv ? paddingOf(config.padding, name) : "valid",
          activation: activation(config.activation, name),
          activationName: actName,
          folded: [],
        };
        if (!fold || actName !== "linear") flush();
        break;
      }
      case "BatchNormalization": {
        const p = pending as Affine | null;
        const rank = (p ? [...shape.slice(0, -1), p.units] : shape).length;
        const channels = p ? p.units : shape.at(-1)!;
        const { a, b } = batchNormAffine(name, config, weight, channels, rank);
        if (p && p.folded.length === 0) {
          // y = (x·W + bias)·a + b: scale each output unit's kernel column and bias
          for (let i = 0; i < p.kernel.length; i++) p.kernel[i] *= a[i % channels];
          for (let f = 0; f < channels; f++) p.bias[f] = p.bias[f] * a[f] + b[f];
          p.folded.push("BatchNormalization");
          break;
        }
        flush();
        const C = channels;
        steps.push({
          label: `${name} BatchNormalization`,
          outShape: shape,
          run(x) {
            const out = new Float32Array(x.length);
            for (let i = 0; i < x.length; i++) out[i] = x[i] * a[i % C] + b[i % C];
            return out;
          },
        });
        break;
      }
      case "Activation": {
        const act = activation(config.activation, name);
        const p = pending as Affine | null;
        if (p && p.activationName === "linear") {
          p.activation = act;
          p.activationName = String(config.activation);
          flush();
          break;
        }
        flush();
        const last = shape.at(-1)!;
        steps.push({
          label: `${name} Activation ${config.activation}`,
          outShape: shape,
          run(x) {
            const out = x.slice();
            act?.(out, last);
            return out;
          },
        });
        break;
      }
      case "MaxPooling1D":
      case "AveragePooling1D":
      case "GlobalAveragePooling1D":
      case "GlobalMaxPooling1D": {
        flush();
        const max = kind.includes("Max") ? "max" : "average";
        const step = kind.startsWith("Global")
          ? globalPoolStep(name, max, config, shape)
          : poolStep(name, max, config, shape);
        steps.push(step);
        shape = step.outShape;
        break;
      }
      case "Flatten": {
        flush();
        shape = [product(shape)];
        break;
      }
      default:
        throw new ModelError(`Cannot load model: layer ${kind} is not supported by lib/forward.ts`);
    }
  }
  flush();
  const unused = specs.filter((s) => !used.has(s.name)).map((s) => s.name);
  if (unused.length > 0) throw new ModelError(`Cannot load model: weight ${unused[0]} belongs to no layer`);
  const inSize = product(inputShape);
  return {
    inputShape: [...inputShape],
    outputShape: [...shape],
    steps: steps.map((s) => s.label),
    predict(input, rows) {
      if (!Number.isInteger(rows) || rows < 0 || input.length !== rows * inSize) {
        throw new ModelError(
          `Cannot run model: got ${input.length} values for ${rows} rows of ${inSize} (shape [${
            inputShape.join(", ")
          }])`,
        );
      }
      let x = input;
      for (const step of steps) x = step.run(x, rows);
      return x === input ? input.slice() : x;
    },
  };
}
