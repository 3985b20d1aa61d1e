/**
 * Entry of dist/cli.js (`deno task build`), the npm package's `heartbeat` command: lib/cli.ts with a
 * Node.js {@linkcode CliHost} (node:fs, process.stdout), so `npx heartbeat file.wav` prints what
 * `deno run -R lib/infer.ts file.wav` prints. The model and examples are found next to dist/.
 * @module
 */
import { readdirSync, readFileSync, realpathSync, statSync, writeSync } from "node:fs";
import { cpus } from "node:os";
import { isAbsolute, relative, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import process from "node:process";
import { type CliHost, type CliJob, runCli } from "../lib/cli.ts";
import { ParameterError } from "../lib/errors.ts";
import { loadClassifier } from "./bundle_entry.ts";

function fileErrorText(error: unknown): string {
  const code = (error as { code?: string }).code;
  if (code === "ENOENT") return "no such file or directory";
  if (code === "EACCES" || code === "EPERM") return "permission denied";
  if (code === "EISDIR") return "is a directory";
  return (error instanceof Error ? error.message : String(error)).split("\n")[0].trim() || "unknown error";
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

function expandInputs(inputs: string[]): Promise<CliJob[]> {
  const jobs: CliJob[] = [];
  for (const input of inputs) {
    let isDirectory: boolean;
    try {
      isDirectory = statSync(input).isDirectory();
    } catch (error) {
      jobs.push({ file: input, error: `Cannot read file "${input}": ${fileErrorText(error)}` });
      continue;
    }
    if (!isDirectory) {
      jobs.push({ file: input });
      continue;
    }
    try {
      const found: string[] = [];
      walkWavs(input.replace(/[\\/]+$/, "") || "/", found);
      found.sort();
      if (found.length === 0) jobs.push({ file: input, error: `Cannot find WAV files: folder "${input}" has none` });
      for (const file of found) jobs.push({ file });
    } catch (error) {
      jobs.push({ file: input, error: `Cannot list folder "${input}": ${fileErrorText(error)}` });
    }
  }
  return Promise.resolve(jobs);
}

function readInput(path: string): Uint8Array | ParameterError {
  try {
    const buffer = readFileSync(path);
    return new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength);
  } catch (error) {
    return new ParameterError(`Cannot read file "${path}": ${fileErrorText(error)}`);
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

function writeLine(fd: number, line: string): void {
  const bytes = new TextEncoder().encode(line + "\n");
  for (let written = 0; written < bytes.length;) written += writeSync(fd, bytes, written);
}

const host: CliHost = {
  command: "heartbeat",
  stdout: (line) => writeLine(1, line),
  stderr: (line) => writeLine(2, line),
  expandInputs,
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
