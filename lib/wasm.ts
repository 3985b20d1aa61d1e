/**
 * What the small WebAssembly kernels embedded in lib/ (lib/resample.ts, lib/forward.ts) share: compiling their
 * base64 binaries, and growing their memories without costing V8 its optimized code.
 * @module
 */

/**
 * Compiles an embedded module from base64.
 * @returns The module, or null where WebAssembly (or the SIMD instructions it uses) is unavailable: callers then
 *   fall back to JavaScript.
 */
export function compileEmbedded(base64: string): WebAssembly.Module | null {
  try {
    return new WebAssembly.Module(Uint8Array.from(atob(base64), (ch) => ch.charCodeAt(0)));
  } catch {
    return null;
  }
}

/**
 * Grows `memory` to at least `bytes`, and to twice its size or more, so that it grows a few times at most. Growing
 * detaches the memory's old ArrayBuffer, and the first detach in a V8 isolate discards every optimized function that
 * reads typed arrays (the "ArrayBufferDetaching" protector), so callers also call this once when they instantiate,
 * with what a typical recording needs, rather than grow in the middle of a batch.
 */
export function ensureMemory(memory: WebAssembly.Memory, bytes: number): void {
  const have = memory.buffer.byteLength;
  if (have < bytes) memory.grow(Math.ceil(Math.max(bytes - have, have) / 65536));
}
