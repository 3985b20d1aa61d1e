/**
 * Classify heart-sound WAV files from Deno: `classifyFile(path)` plus the command-line tool.
 *
 * ```sh
 * deno run -R lib/infer.ts recording.wav more/recordings/      # one line per file
 * deno run -R lib/infer.ts --json a.wav b.wav                   # NDJSON, in input order
 * ```
 *
 * The platform-neutral core (no `Deno.*`) is lib/classifier.ts; this module re-exports it and adds
 * what needs Deno: reading files and folders, and the CLI.
 * @module
 */
import {
  type Backend,
  type ClassifyOptions,
  type ClassifyResult,
  type HeartSoundClassifier,
  loadClassifier as loadClassifierCore,
  type LoadClassifierOptions,
} from "./classifier.ts";
import {
  type CliHost,
  type CliWorker,
  type FileClassifyResult,
  HEAD_BYTES,
  quoteName,
  recordingBytes,
  runCli,
} from "./cli.ts";
import { fileErrorText, firstLine, notRegularFileText, readAtMost } from "./deno_files.ts";
import { HeartSoundError, ModelError, ParameterError } from "./errors.ts";
import { denoReadFile, modelJsonUrl } from "./model_folder.ts";

export * from "./classifier.ts";
export { type CliArgs, type FileClassifyResult, parseCliArgs, quoteName, resultToJson, shownName } from "./cli.ts";
export { fileErrorText } from "./deno_files.ts";

/**
 * {@linkcode loadClassifierCore} (lib/classifier.ts) with a Deno file reader as the default `readFile`:
 * file: URLs are read with `Deno.readFile` (no fetch machinery to start: a faster cold start), others
 * fetched. Same memoisation: one load per model URL per process.
 */
export function loadClassifier(
  modelUrl?: string | URL,
  options: LoadClassifierOptions = {},
): Promise<HeartSoundClassifier> {
  return loadClassifierCore(modelUrl, { readFile: denoReadFile, ...options });
}

/** Options of {@linkcode classifyFile}. */
export interface ClassifyFileOptions extends ClassifyOptions, LoadClassifierOptions {
  /** Model folder, model.json path or URL; default: the shipped model (models/model.json next to lib/). */
  model?: string | URL;
  /** An already loaded classifier to use instead of `model`. */
  classifier?: HeartSoundClassifier;
}

/**
 * Reads a WAV file and classifies it with the shipped model (loaded once per process) or `options.model`.
 * @param path A WAV file path (or file: URL) of a regular file. Needs read permission. Its header is checked (sample
 *   rate, `options.maxDurationS`) before the rest of the file is read.
 * @throws {WavFormatError} The file is not a WAV we can read. {@linkcode ModelError} The model cannot be loaded.
 *   {@linkcode ParameterError} The file is missing or not a regular file, silent, too short or too long.
 * @example Usage
 * ```ts
 * const result = await classifyFile("examples/murmur.wav");
 * console.log(result.label, result.confidence, result.heartRateBpm);
 * ```
 */
export async function classifyFile(path: string | URL, options: ClassifyFileOptions = {}): Promise<FileClassifyResult> {
  const classifier = options.classifier ?? await loadClassifier(resolveModelUrl(options.model), options);
  const bytes = readRecording(path, options);
  if (bytes instanceof Error) throw bytes;
  return { file: String(path), ...classifier.classifyWav(bytes, options) };
}

/** Resolves a `--model` argument: a URL, a model.json path or a folder holding model.json. */
export function resolveModelUrl(model: string | URL | undefined): URL | undefined {
  return model === undefined ? undefined : modelJsonUrl(model);
}

/**
 * Reads a recording whole, if it is a regular file and its header allows (sample rate, `options.maxDurationS`):
 * pipes and devices would block or never end, and a long file is refused before its samples are read.
 * @returns The bytes, or the error (returned, not thrown: the CLI reports it as that file's line).
 */
function readRecording(path: string | URL, options: ClassifyOptions): Uint8Array | HeartSoundError {
  const name = `Cannot read file ${quoteName(String(path))}`;
  let file: Deno.FsFile | undefined;
  try {
    const info = Deno.statSync(path);
    const notRegular = notRegularFileText(info);
    if (notRegular) return new ParameterError(`${name}: ${notRegular}`);
    if (info.size <= HEAD_BYTES) return Deno.readFileSync(path);
    const opened = file = Deno.openSync(path);
    return recordingBytes(name, info.size, readAtMost(opened, HEAD_BYTES), (n) => readAtMost(opened, n), options);
  } catch (error) {
    if (error instanceof HeartSoundError) return error;
    return new ParameterError(`${name}: ${fileErrorText(error)}`);
  } finally {
    file?.close();
  }
}

/** Sleeps this thread (a few milliseconds while a non-blocking stdout's reader catches up). */
const sleeper = new Int32Array(new SharedArrayBuffer(4));

/**
 * Writes all of `bytes`: a write may take only part of them, and a non-blocking output (one the caller set
 * O_NONBLOCK on, e.g. a pipe shared with another program) refuses writes while its reader is behind, so wait and
 * retry instead of failing mid-batch.
 */
export function writeAll(out: { writeSync(p: Uint8Array): number }, bytes: Uint8Array): void {
  let at = 0;
  let waitMs = 1;
  while (at < bytes.length) {
    try {
      at += out.writeSync(bytes.subarray(at));
      waitMs = 1;
    } catch (error) {
      if (!(error instanceof Deno.errors.WouldBlock)) throw error;
      Atomics.wait(sleeper, 0, 0, waitMs);
      waitMs = Math.min(2 * waitMs, 50);
    }
  }
}

// ---------------------------------------------------------------- CLI

/** The CLI's {@linkcode CliHost.pathKind}: "folder", "file" or why the path is neither. */
async function pathKind(path: string): Promise<string> {
  const info = await Deno.stat(path);
  return info.isDirectory ? "folder" : notRegularFileText(info) ?? "file";
}

/** Every .wav file below `dir`, recursively. */
async function listWavs(dir: string): Promise<string[]> {
  const found: string[] = [];
  await walkWavs(dir, found);
  return found;
}

async function walkWavs(dir: string, out: string[]): Promise<void> {
  const base = dir === "/" ? "" : dir;
  for await (const entry of Deno.readDir(dir)) {
    const path = `${base}/${entry.name}`;
    let isDir = entry.isDirectory;
    let isFile = entry.isFile;
    if (entry.isSymlink) {
      try {
        const info = await Deno.stat(path);
        isFile = info.isFile; // symlinked folders are not followed (no cycles)
      } catch {
        continue;
      }
      isDir = false;
    }
    if (isDir) await walkWavs(path, out);
    else if (isFile && entry.name.toLowerCase().endsWith(".wav")) out.push(path);
  }
}

/** Starts a worker that loads the model once (lib/_infer_worker.ts). */
function startWorker(model: URL | undefined, backend: Backend): CliWorker {
  const worker = new Worker(new URL("./_infer_worker.ts", import.meta.url), { type: "module" });
  const progress = new Int32Array(new SharedArrayBuffer(8)); // files done; 0 loading, 1 ready, 2 failed
  const pending = new Map<number, PromiseWithResolvers<ClassifyResult>>();
  let sent = 0, crashed = false;
  worker.onerror = (event) => {
    event.preventDefault();
    crashed = true;
    const error = new ModelError(`Cannot classify: worker failed: ${event.message}`);
    for (const p of pending.values()) p.reject(error);
    pending.clear();
  };
  worker.onmessage = (event: MessageEvent) => {
    const data = event.data;
    if (data.ready || data.loadError) return;
    const p = pending.get(data.id)!;
    pending.delete(data.id);
    if (data.error) p.reject(new ParameterError(data.error));
    else p.resolve(data.result);
  };
  worker.postMessage({ model: model?.href, backend, progress });
  return {
    classify(bytes, options) {
      const id = sent++;
      const p = Promise.withResolvers<ClassifyResult>();
      pending.set(id, p);
      worker.postMessage({ id, bytes, options }, [bytes.buffer as ArrayBuffer]);
      return p.promise;
    },
    state: () => crashed ? "failed" : (["loading", "ready", "failed"] as const)[Atomics.load(progress, 1)],
    queued: () => sent - Atomics.load(progress, 0),
    terminate: () => worker.terminate(),
  };
}

/** The bundled synthetic example recordings (examples/*.wav next to lib/), as paths relative to the working folder when inside it. */
async function demoFiles(): Promise<string[]> {
  const dir = new URL("../examples/", import.meta.url);
  if (dir.protocol !== "file:") {
    throw new ParameterError("Cannot run the demo: examples are only available from a local checkout");
  }
  const folder = decodeURIComponent(dir.pathname);
  const names: string[] = [];
  for await (const entry of Deno.readDir(dir)) if (entry.isFile && entry.name.endsWith(".wav")) names.push(entry.name);
  names.sort();
  const cwd = Deno.cwd().replaceAll("\\", "/").replace(/\/?$/, "/");
  const shown = folder.startsWith(cwd) ? folder.slice(cwd.length) : folder;
  return names.map((name) => `${shown}${name}`);
}

/** The CLI's {@linkcode CliHost} under Deno: Deno's file system, stdout/stderr and workers. */
export function denoCliHost(): CliHost {
  const encoder = new TextEncoder();
  return {
    command: "deno run -R lib/infer.ts",
    stdout: (line) => writeAll(Deno.stdout, encoder.encode(line + "\n")),
    stderr: (line) => writeAll(Deno.stderr, encoder.encode(line + "\n")),
    pathKind,
    listWavs,
    fileErrorText,
    canonicalPath(path) {
      try {
        return Deno.realPathSync(path);
      } catch {
        return path;
      }
    },
    readInput: readRecording,
    resolveModel: resolveModelUrl,
    loadClassifier: (model, backend) => loadClassifier(model, { backend }),
    demoFiles,
    startWorker,
    cpuCount: navigator.hardwareConcurrency,
    async writeTextFile(path, text) {
      try {
        await Deno.writeTextFile(path, text);
      } catch (error) {
        throw new ParameterError(`Cannot write file "${path}": ${fileErrorText(error)}`);
      }
    },
  };
}

/** Runs the CLI; returns the exit code (0 all classified, 1 some failed, 2 usage error). */
export function main(args: string[]): Promise<number> {
  return runCli(args, denoCliHost());
}

if (import.meta.main) {
  let code: number;
  try {
    code = await main(Deno.args);
  } catch (error) {
    // e.g. stdout closed early (`| head`): end quietly; anything else: one line, no stack trace
    if (!(error instanceof Deno.errors.BrokenPipe)) console.error(`Cannot classify: ${firstLine(error)}`);
    code = 1;
  }
  Deno.exit(code);
}
