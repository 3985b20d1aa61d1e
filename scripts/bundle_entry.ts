/**
 * Entry of dist/heartbeat.js (`deno task build`): lib's public API (lib/mod.ts) plus two small adapters
 * that let the same platform-neutral code load its model where `fetch` cannot:
 *
 * - Node.js: `fetch` does not read file: URLs, so `loadClassifier` reads them with `node:fs` (imported
 *   lazily, only under Node). The default model (models/ next to dist/) then works in Node too.
 * - Anywhere: {@linkcode filesReader} serves the model from bytes or objects already in memory
 *   (bundled, fetched by the app itself, from IndexedDB, ...).
 *
 * ```js
 * import { loadClassifier } from "./dist/heartbeat.js";
 * const classifier = await loadClassifier();            // models/model.json next to dist/
 * console.log(classifier.classifyWav(await readFile("a.wav")).label);
 * ```
 * @module
 */
import { ModelError } from "../lib/errors.ts";
import { fetchBytes } from "../lib/model_folder.ts";
import {
  type HeartSoundClassifier,
  loadClassifier as loadClassifierCore,
  type LoadClassifierOptions,
} from "../lib/mod.ts";

export * from "../lib/mod.ts";

/** Contents of one model file: raw bytes, text, or (for the .json files) the parsed object. */
export type ModelFileContents = Uint8Array | ArrayBuffer | string | Record<string, unknown>;

/**
 * A `readFile` for {@linkcode loadClassifier} that serves model files from memory, by file name
 * (the last path segment of the URL the model asks for).
 * @param files E.g. `{ "model.json": ..., "weights.bin": ..., "preprocessing.json": ... }`.
 * @example Usage
 * ```ts
 * const classifier = await loadClassifier("memory:/model/model.json", { readFile: filesReader(files) });
 * ```
 */
export function filesReader(files: Record<string, ModelFileContents>): (url: URL) => Promise<Uint8Array> {
  return (url) => {
    const name = decodeURIComponent(url.pathname.split("/").pop() ?? "");
    const contents = files[name];
    if (contents === undefined) {
      return Promise.reject(
        new ModelError(`Cannot load model: no file "${name}" among ${Object.keys(files).join(", ") || "no files"}`),
      );
    }
    return Promise.resolve(toBytes(contents));
  };
}

function toBytes(contents: ModelFileContents): Uint8Array {
  if (contents instanceof Uint8Array) return contents;
  if (contents instanceof ArrayBuffer) return new Uint8Array(contents);
  if (typeof contents === "string") return new TextEncoder().encode(contents);
  return new TextEncoder().encode(JSON.stringify(contents));
}

interface NodeProcess {
  versions?: { node?: string };
}

/** True under Node.js (not Deno, not a browser). */
export function isNode(): boolean {
  const proc = (globalThis as { process?: NodeProcess }).process;
  return typeof proc?.versions?.node === "string" && !("Deno" in globalThis);
}

/**
 * Reads file: URLs with node:fs and everything else with fetch. Only called under Node.js. A file is stat'ed first:
 * only a regular file of at most `maxBytes` is read (a FIFO would block, a device never end).
 */
async function nodeReadFile(url: URL, maxBytes = Infinity): Promise<Uint8Array> {
  if (url.protocol !== "file:") return await fetchBytes(url, maxBytes);
  const fsName = "node:fs/promises"; // not a literal import, so browser bundlers leave it alone
  const urlName = "node:url";
  const [{ readFile, stat }, { fileURLToPath }] = await Promise.all([
    import(fsName) as Promise<{
      readFile(path: string): Promise<Uint8Array>;
      stat(path: string): Promise<{ size: number; isFile(): boolean; isDirectory(): boolean }>;
    }>,
    import(urlName) as Promise<{ fileURLToPath(url: URL): string }>,
  ]);
  let reason: string;
  try {
    const path = fileURLToPath(url);
    const info = await stat(path);
    if (info.isDirectory()) reason = "is a directory";
    else if (!info.isFile()) reason = "not a regular file (a pipe, socket or device)";
    else if (info.size > maxBytes) reason = `has ${info.size} bytes, more than the ${maxBytes} expected`;
    else {
      const buffer = await readFile(path);
      return new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength);
    }
  } catch (error) {
    const code = (error as { code?: string }).code;
    reason = code === "ENOENT"
      ? "no such file or directory"
      : code === "EACCES" || code === "EPERM"
      ? "permission denied"
      : firstLine(error);
  }
  throw new ModelError(`Cannot load model: ${url.href}: ${reason}`);
}

function firstLine(error: unknown): string {
  return (error instanceof Error ? error.message : String(error)).split("\n")[0].trim() || "unknown error";
}

/**
 * lib's `loadClassifier`, which under Node.js also reads file: URLs (the default model included).
 * Same arguments and result; an explicit `options.readFile` wins.
 */
export function loadClassifier(
  modelUrl?: string | URL,
  options: LoadClassifierOptions = {},
): Promise<HeartSoundClassifier> {
  const readFile = options.readFile ?? (isNode() ? nodeReadFile : undefined);
  return loadClassifierCore(modelUrl, readFile ? { ...options, readFile } : options);
}
