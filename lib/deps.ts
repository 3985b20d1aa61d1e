// Every third-party import of lib/ lives here, with a full `npm:` specifier and pinned version,
// so lib/ works when imported by URL with no import map.
// Inference imports none of them: a static npm import costs every process ~50 ms. fft.js is the tests' oracle for
// lib/fft.ts and lib/stft.ts, which reproduce its transforms bit for bit.

/** Imports an npm package when called. The specifier is passed as a variable, not a literal: Deno installs every
 * npm package it can see in a program's module graph (dynamic imports included) before running it, and then every
 * package of the lockfile, so literals here made the classifier's first run download ~90 packages it never loads. */
function importNpm<T>(specifier: string): Promise<T> {
  return import(specifier);
}
/** plotly.js browser bundle for static chart images (lib/plot.ts loads it into headless Chromium, never imports it). */
export const PLOTLY_JS_NPM = "plotly.js-dist-min@4.1.2";
/** XGBoost compiled to wasm (ml-xgboost), imported lazily: lib/gbdt.ts works around its loader under Deno. */
export const importMlXgboost = (): Promise<{ default: unknown }> => importNpm("npm:ml-xgboost@1.1.2");
/** TensorFlow.js and its wasm backend, imported lazily by lib/tf.ts (the only user). */
export const importTfjs = (): Promise<typeof import("npm:@tensorflow/tfjs@4.22.0")> =>
  importNpm("npm:@tensorflow/tfjs@4.22.0");
/** tfjs's parts, for inference without the umbrella package (lib/tf.ts `loadTfForInference`). */
export const importTfjsCore = (): Promise<typeof import("npm:@tensorflow/tfjs-core@4.22.0")> =>
  importNpm("npm:@tensorflow/tfjs-core@4.22.0");
export const importTfjsLayers = (): Promise<typeof import("npm:@tensorflow/tfjs-layers@4.22.0")> =>
  importNpm("npm:@tensorflow/tfjs-layers@4.22.0");
export const importTfjsBackendCpu = (): Promise<unknown> => importNpm("npm:@tensorflow/tfjs-backend-cpu@4.22.0");
export const importTfjsWasm = (): Promise<unknown> => importNpm("npm:@tensorflow/tfjs-backend-wasm@4.22.0");
/** tfjs types (type-only: no runtime import). */
export type { LayersModel, Tensor, Tensor4D, Variable } from "npm:@tensorflow/tfjs@4.22.0";
