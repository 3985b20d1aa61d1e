/**
 * Signal processing core: pure functions over typed arrays, no tfjs.
 * This module only re-exports; each job lives in its own file.
 * @module
 */
export * from "./types.ts";
export * from "./errors.ts";
export * from "./wav.ts";
export * from "./stft.ts";
export * from "./features.ts";
export * from "./resample.ts";
export * from "./rng.ts";
export * from "./filter.ts";
export * from "./synth.ts";
export * from "./mel.ts";
export * from "./beats.ts";
