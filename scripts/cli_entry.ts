/**
 * Entry of dist/cli.js (`deno task build`), the npm package's `heartbeat` command: lib/cli.ts with a
 * Node.js {@linkcode CliHost} (node:fs, process.stdout), so `npx heartbeat file.wav` prints what
 * `deno run -R lib/infer.ts file.wav` prints. The model and examples are found next to dist/.
 * @module
 */
import {
  closeSync,
  constants as fsConstants,
  fstatSync,
  openSync,
  readdirSync,
  readSync,
  realpathSync,
  type Stats,
  statSync,
  writeFileSync,
  writeSync,
} from "node:fs";
import { cpus } from "node:os";
import { isAbsolute, relative, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import process from "node:process";
import type { ClassifyOptions } from "../lib/classifier.ts";
import { type CliHost, HEAD_BYTES, quoteName, recordingBytes, runCli } from "../lib/cli.ts";
import { HeartSoundError, ParameterError } from "../lib/errors.ts";
import { loadClassifier } from "./bundle_entry.ts";

function fileErrorText(error: unknown): string {
  const code = (error as { code?: string }).code;
  if (code === "ENOENT") return "no such file or directory";
  if (code === "EACCES" || code === "EPERM") return "permission denied";
  if (code === "EISDIR") return "is a directory";
  return (error instanceof Error ? error.message : String(error)).split("\n")[0].trim() || "unknown error";
}

/** Why `info` is not a regular file, or null when it is. */
function notRegularFileText(info: Stats): string | null {
  if (info.isFile()) return null;
  return info.isDirectory() ? "is a directory" : "not a regular file (a pipe, socket or device)";
}

function walkWavs(dir: string, out: string[]): void {
  const base = dir === "/" ? "" : dir;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = `${base}/${entry.name}`;
    let isDir = entry.isDirectory();
    let isFile = entry.isFile();
    if (entry.isSymbolicLink()) {
      try {
        isFile = statSync(path).isFile(); // symlinked folders are not followed (no cycles)
      } catch {
        continue;
      }
      isDir = false;
    }
    if (isDir) walkWavs(path, out);
    else if (isFile && entry.name.toLowerCase().endsWith(".wav")) out.push(path);
  }
}

const pathKind = (path: string): Promise<string> => {
  const info = statSync(path);
  return Promise.resolve(info.isDirectory() ? "folder" : notRegularFileText(info) ?? "file");
};

const listWavs = (dir: string): Promise<string[]> => {
  const found: string[] = [];
  walkWavs(dir, found);
  return Promise.resolve(found);
};

/** Up to `length` bytes from the open file's current position (fewer at its end). */
function readAtMost(fd: number, length: number): Uint8Array {
  const out = new Uint8Array(length);
  let at = 0;
  while (at < length) {
    const n = readSync(fd, out, at, length - at, null);
    if (n === 0) break;
    at += n;
  }
  return out.subarray(0, at);
}

/**
 * A recording's bytes when it is a regular file its header allows (lib/cli.ts `recordingBytes`); opened without
 * blocking and checked with fstat, so a FIFO is refused instead of waited on.
 */
function readInput(path: string, options: ClassifyOptions): Uint8Array | HeartSoundError {
  const name = `Cannot read file ${quoteName(path)}`;
  let fd: number | undefined;
  try {
    fd = openSync(path, fsConstants.O_RDONLY | (fsConstants.O_NONBLOCK ?? 0));
    const info = fstatSync(fd);
    const notRegular = notRegularFileText(info);
    if (notRegular) return new ParameterError(`${name}: ${notRegular}`);
    const opened = fd;
    if (info.size <= HEAD_BYTES) return readAtMost(opened, info.size);
    return recordingBytes(name, info.size, readAtMost(opened, HEAD_BYTES), (n) => readAtMost(opened, n), options);
  } catch (error) {
    if (error instanceof HeartSoundError) return error;
    return new ParameterError(`${name}: ${fileErrorText(error)}`);
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/** A `--model` argument as a URL: a URL, a model.json path or a folder holding model.json. */
function resolveModel(model: string | undefined): URL | undefined {
  if (model === undefined) return undefined;
  const isUrl = /^[a-z][a-z0-9+.-]+:\/\//i.test(model) || model.startsWith("file:");
  const url = isUrl ? new URL(model) : pathToFileURL(resolve(model));
  if (url.pathname.endsWith(".json")) return url;
  return new URL(url.pathname.endsWith("/") ? "model.json" : `${url.pathname.split("/").pop()}/model.json`, url);
}

function demoFiles(): Promise<string[]> {
  const folder = fileURLToPath(new URL("../examples/", import.meta.url));
  let names: string[];
  try {
    names = readdirSync(folder).filter((name) => name.endsWith(".wav")).sort();
  } catch {
    return Promise.reject(new ParameterError(`Cannot run the demo: no examples in ${folder}`));
  }
  // relative to the working folder when inside it, as the Deno CLI shows them
  const shown = relative(process.cwd(), folder);
  const prefix = isAbsolute(shown) || shown.startsWith("..") ? folder : shown ? `${shown}/` : "";
  return Promise.resolve(names.map((name) => `${prefix}${name}`));
}

/** Sleeps this thread (a few milliseconds while a non-blocking stdout's reader catches up). */
const sleeper = new Int32Array(new SharedArrayBuffer(4));

/** Writes a whole line: a write may take part of it, and a non-blocking output refuses (EAGAIN) while its reader is
 * behind, so wait and retry instead of failing mid-batch. */
function writeLine(fd: number, line: string): void {
  const bytes = new TextEncoder().encode(line + "\n");
  let waitMs = 1;
  for (let written = 0; written < bytes.length;) {
    try {
      written += writeSync(fd, bytes, written);
      waitMs = 1;
    } catch (error) {
      if ((error as { code?: string }).code !== "EAGAIN") throw error;
      Atomics.wait(sleeper, 0, 0, waitMs);
      waitMs = Math.min(2 * waitMs, 50);
    }
  }
}

const host: CliHost = {
  command: "heartbeat",
  stdout: (line) => writeLine(1, line),
  stderr: (line) => writeLine(2, line),
  pathKind,
  listWavs,
  fileErrorText,
  canonicalPath(path) {
    try {
      return realpathSync(path);
    } catch {
      return path;
    }
  },
  readInput,
  resolveModel,
  loadClassifier: (model, backend) => loadClassifier(model, { backend }),
  demoFiles,
  cpuCount: cpus().length,
  writeTextFile(path, text) {
    try {
      writeFileSync(path, text);
      return Promise.resolve();
    } catch (error) {
      return Promise.reject(new ParameterError(`Cannot write file "${path}": ${fileErrorText(error)}`));
    }
  },
};

let code: number;
try {
  code = await runCli(process.argv.slice(2), host);
} catch (error) {
  // e.g. stdout closed early (`| head`): end quietly; anything else: one line, no stack trace
  if ((error as { code?: string }).code !== "EPIPE") {
    const text = (error instanceof Error ? error.message : String(error)).split("\n")[0];
    process.stderr.write(`Cannot classify: ${text}\n`);
  }
  code = 1;
}
process.exit(code);
