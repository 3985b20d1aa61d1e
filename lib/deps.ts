// Every third-party import of lib/ lives here, with a full `npm:` specifier and pinned version,
// so lib/ works when imported by URL with no import map.
// Inference imports none of them: a static npm import costs every process ~50 ms. fft.js is the tests' oracle for
// lib/fft.ts and lib/stft.ts, which reproduce its transforms bit for bit.
/** plotly.js browser bundle for static chart images (lib/plot.ts loads it into headless Chromium, never imports it). */
export const PLOTLY_JS_NPM = "plotly.js-dist-min@4.1.2";
/** XGBoost compiled to wasm (ml-xgboost), imported lazily: lib/gbdt.ts works around its loader under Deno. */
export const importMlXgboost = (): Promise<{ default: unknown }> => import(String("npm:ml-xgboost@1.1.2"));
/** TensorFlow.js and its wasm backend, imported lazily by lib/tf.ts (the only user). */
export const importTfjs = (): Promise<typeof import("npm:@tensorflow/tfjs@4.22.0")> =>
  import(String("npm:@tensorflow/tfjs@4.22.0"));
/** tfjs's parts, for inference without the umbrella package (lib/tf.ts `loadTfForInference`). */
export const importTfjsCore = (): Promise<typeof import("npm:@tensorflow/tfjs-core@4.22.0")> =>
  import(String("npm:@tensorflow/tfjs-core@4.22.0"));
export const importTfjsLayers = (): Promise<typeof import("npm:@tensorflow/tfjs-layers@4.22.0")> =>
  import(String("npm:@tensorflow/tfjs-layers@4.22.0"));
export const importTfjsBackendCpu = (): Promise<unknown> => import(String("npm:@tensorflow/tfjs-backend-cpu@4.22.0"));
export const importTfjsWasm = (): Promise<unknown> => import(String("npm:@tensorflow/tfjs-backend-wasm@4.22.0"));
/** tfjs types (type-only: no runtime import). */
export type { LayersModel, Tensor, Tensor4D, Variable } from "npm:@tensorflow/tfjs@4.22.0";
