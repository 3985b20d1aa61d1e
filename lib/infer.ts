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
  BACKENDS,
  type ClassifyOptions,
  type ClassifyResult,
  type HeartSoundClassifier,
  loadClassifier as loadClassifierCore,
  type LoadClassifierOptions,
} from "./classifier.ts";
import { HeartSoundError, ModelError, ParameterError } from "./errors.ts";
import { denoReadFile, modelJsonUrl } from "./model_folder.ts";

export * from "./classifier.ts";

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

/** A classification of one file: the {@linkcode ClassifyResult} plus the path it was read from. */
export interface FileClassifyResult extends ClassifyResult {
  /** The path as given. */
  file: string;
}

/**
 * Reads a WAV file and classifies it with the shipped model (loaded once per process) or `options.model`.
 * @param path A WAV file path (or file: URL). Needs read permission.
 * @throws {WavFormatError} The file is not a WAV we can read. {@linkcode ModelError} The model cannot be loaded.
 *   {@linkcode ParameterError} The file is missing, silent or too short.
 * @example Usage
 * ```ts
 * const result = await classifyFile("examples/murmur.wav");
 * console.log(result.label, result.confidence, result.heartRateBpm);
 * ```
 */
export async function classifyFile(path: string | URL, options: ClassifyFileOptions = {}): Promise<FileClassifyResult> {
  const classifier = options.classifier ?? await loadClassifier(resolveModelUrl(options.model), options);
  const bytes = await readInput(path);
  return { file: String(path), ...classifier.classifyWav(bytes, options) };
}

/** Resolves a `--model` argument: a URL, a model.json path or a folder holding model.json. */
export function resolveModelUrl(model: string | URL | undefined): URL | undefined {
  return model === undefined ? undefined : modelJsonUrl(model);
}

/** {@linkcode readInput} without waiting: the bytes, or the ParameterError (returned, not thrown). */
function readInputSync(path: string | URL): Uint8Array | ParameterError {
  try {
    return Deno.readFileSync(path);
  } catch (error) {
    return new ParameterError(`Cannot read file "${String(path)}": ${fileErrorText(error)}`);
  }
}

async function readInput(path: string | URL): Promise<Uint8Array> {
  try {
    return await Deno.readFile(path);
  } catch (error) {
    throw new ParameterError(`Cannot read file "${String(path)}": ${fileErrorText(error)}`);
  }
}

function fileErrorText(error: unknown): string {
  if (error instanceof Deno.errors.NotFound) return "no such file or directory";
  if (error instanceof Deno.errors.NotCapable || error instanceof Deno.errors.PermissionDenied) {
    return "permission denied (run with -R)";
  }
  if (error instanceof Deno.errors.IsADirectory) return "is a directory";
  return firstLine(error);
}

function firstLine(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  return text.split("\n")[0].trim() || "unknown error";
}

// ---------------------------------------------------------------- CLI

/** From this many files on, the CLI classifies in one worker per CPU core by default. */
const PARALLEL_FROM = 16;

const USAGE = `Classify heart-sound recordings (normal, extrahls, murmur, extrastole) and estimate the heart rate.

Usage: deno run -R lib/infer.ts [options] <file.wav | folder>...
       deno run -R lib/infer.ts --demo

A folder means every .wav file inside it, recursively, in sorted order.

Options:
  --json            one JSON object per line (NDJSON), in input order:
                    {"file","label","labelId","confidence","probabilities":{...},"heartRateBpm","s1TimesS","s2TimesS"}
                    or {"file","error"} for a file that cannot be classified
  --csv             CSV with a header row
  --model <m>       model folder, model.json path or URL (default: the shipped model; URLs need -N)
  --demo            classify the bundled synthetic examples (examples/*.wav)
  --jobs <n>        threads that classify: this one plus n − 1 workers (default: one per CPU core
                    from ${PARALLEL_FROM} files on, else 1)
  --backend <b>     what runs the model: js (default: lib/forward.ts, no tfjs), or tfjs on its
                    cpu or wasm backend (wasm falls back to cpu)
  -h, --help        show this help

Exit status: 0 every file classified, 1 some files failed (the rest are printed), 2 usage error.`;

/** Parsed command line of the CLI. */
export interface CliArgs {
  format: "text" | "json" | "csv";
  model?: string;
  backend: Backend;
  /** Worker threads; undefined = automatic. */
  jobs?: number;
  demo: boolean;
  help: boolean;
  inputs: string[];
}

/** Parses CLI arguments. @throws {ParameterError} on an unknown option or a missing value. */
export function parseCliArgs(args: string[]): CliArgs {
  const out: CliArgs = { format: "text", backend: "js", demo: false, help: false, inputs: [] };
  const formats = new Set<string>();
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    if (arg === "--") {
      out.inputs.push(...args.slice(i + 1));
      break;
    }
    if (arg === "-h" || arg === "--help") out.help = true;
    else if (arg === "--json" || arg === "--csv") formats.add(arg.slice(2));
    else if (arg === "--demo") out.demo = true;
    else if (["--model", "--backend", "--jobs"].some((o) => arg === o || arg.startsWith(`${o}=`))) {
      const eq = arg.indexOf("=");
      const name = eq < 0 ? arg : arg.slice(0, eq);
      const value = eq < 0 ? args[++i] : arg.slice(eq + 1);
      if (value === undefined || value === "") {
        throw new ParameterError(`Cannot parse arguments: ${name} needs a value`);
      }
      if (name === "--model") out.model = value;
      else if (name === "--backend") {
        if (!(BACKENDS as readonly string[]).includes(value)) {
          throw new ParameterError(`Cannot parse arguments: --backend is "${value}", expected ${BACKENDS.join(", ")}`);
        }
        out.backend = value as Backend;
      } else {
        const n = Number(value);
        if (!Number.isInteger(n) || n < 1 || n > 64) {
          throw new ParameterError(`Cannot parse arguments: --jobs is "${value}", expected an integer in 1 … 64`);
        }
        out.jobs = n;
      }
    } else if (arg.startsWith("-") && arg !== "-") {
      throw new ParameterError(`Cannot parse arguments: unknown option ${arg}`);
    } else out.inputs.push(arg);
  }
  if (formats.size > 1) throw new ParameterError("Cannot parse arguments: choose one of --json and --csv");
  if (formats.size === 1) out.format = [...formats][0] as "json" | "csv";
  if (!out.help && !out.demo && out.inputs.length === 0) {
    throw new ParameterError("Cannot parse arguments: no input files (see --help)");
  }
  return out;
}

/** One input expanded: a file to classify, or an error found while listing (missing path, empty folder). */
type Job = { file: string; error?: string };

/** Expands files and folders (recursively, .wav only, sorted) in input order. */
export async function expandInputs(inputs: string[]): Promise<Job[]> {
  const jobs: Job[] = [];
  for (const input of inputs) {
    let info: Deno.FileInfo;
    try {
      info = await Deno.stat(input);
    } catch (error) {
      jobs.push({ file: input, error: `Cannot read file "${input}": ${fileErrorText(error)}` });
      continue;
    }
    if (!info.isDirectory) {
      jobs.push({ file: input });
      continue;
    }
    try {
      const found: string[] = [];
      await walkWavs(input.replace(/[\\/]+$/, "") || "/", found);
      found.sort();
      if (found.length === 0) jobs.push({ file: input, error: `Cannot find WAV files: folder "${input}" has none` });
      for (const file of found) jobs.push({ file });
    } catch (error) {
      jobs.push({ file: input, error: `Cannot list folder "${input}": ${fileErrorText(error)}` });
    }
  }
  return jobs;
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

function round(x: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

/** The NDJSON object of one result (probabilities to 4 decimals, times to 1 ms). */
export function resultToJson(result: FileClassifyResult): Record<string, unknown> {
  const probabilities: Record<string, number> = {};
  for (const [name, p] of Object.entries(result.probabilities)) probabilities[name] = round(p, 4);
  const out: Record<string, unknown> = {
    file: result.file,
    label: result.label,
    labelId: result.labelId,
    confidence: round(result.confidence, 4),
    probabilities,
    heartRateBpm: result.heartRateBpm === null ? null : round(result.heartRateBpm, 1),
    s1TimesS: result.s1TimesS.map((t) => round(t, 3)),
    s2TimesS: result.s2TimesS.map((t) => round(t, 3)),
    quality: result.quality === null ? null : round(result.quality, 3),
  };
  if (result.warnings.length > 0) out.warning = result.warnings.join("; ");
  return out;
}

const CSV_COLUMNS = [
  "file",
  "label",
  "labelId",
  "confidence",
  "normal",
  "extrahls",
  "murmur",
  "extrastole",
  "heartRateBpm",
  "quality",
  "warning",
  "error",
];

function csvCell(value: unknown): string {
  const text = value === null || value === undefined ? "" : String(value);
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

function csvRow(cells: unknown[]): string {
  return cells.map(csvCell).join(",");
}

function formatResult(result: FileClassifyResult, format: CliArgs["format"]): string {
  const p = result.probabilities as Record<string, number>;
  const hr = result.heartRateBpm === null ? null : round(result.heartRateBpm, 1);
  const warning = result.warnings.join("; ");
  if (format === "json") return JSON.stringify(resultToJson(result));
  if (format === "csv") {
    return csvRow([
      result.file,
      result.label,
      result.labelId,
      round(result.confidence, 4),
      round(p.normal, 4),
      round(p.extrahls, 4),
      round(p.murmur, 4),
      round(p.extrastole, 4),
      hr,
      result.quality === null ? null : round(result.quality, 3),
      warning,
      "",
    ]);
  }
  const probs = Object.entries(p).map(([name, v]) => `${name} ${v.toFixed(2)}`).join("  ");
  const rate = hr === null ? "heart rate n/a" : `${hr.toFixed(0)} bpm`;
  return `${result.file}: ${result.label} (${result.confidence.toFixed(2)})  [${probs}]  ${rate}${
    warning ? `  warning: ${warning}` : ""
  }`;
}

function formatError(file: string, error: string, format: CliArgs["format"]): string | undefined {
  if (format === "json") return JSON.stringify({ file, error });
  if (format === "csv") return csvRow([file, ...CSV_COLUMNS.slice(1, -1).map(() => ""), error]);
  return undefined; // text: the stderr line is the report
}

/** A worker of the CLI's pool (lib/_infer_worker.ts). Its state is read from shared memory, so this thread knows
 * it without handling the worker's messages (which wait while this thread classifies). */
interface PoolWorker {
  classify(bytes: Uint8Array): Promise<ClassifyResult>;
  /** "loading", "ready" (model loaded) or "failed" (cannot load the model or crashed: left out). */
  state(): "loading" | "ready" | "failed";
  /** Files sent and not yet classified. */
  queued(): number;
  terminate(): void;
}

/** Starts a worker that loads the model once (lib/_infer_worker.ts). */
function startWorker(model: URL | undefined, backend: Backend): PoolWorker {
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
    classify(bytes) {
      const id = sent++;
      const p = Promise.withResolvers<ClassifyResult>();
      pending.set(id, p);
      worker.postMessage({ id, bytes }, [bytes.buffer as ArrayBuffer]);
      return p.promise;
    },
    state: () => crashed ? "failed" : (["loading", "ready", "failed"] as const)[Atomics.load(progress, 1)],
    queued: () => sent - Atomics.load(progress, 0),
    terminate: () => worker.terminate(),
  };
}

/** Files sent ahead to each worker: enough to keep it busy while this thread classifies one file. */
const WORKER_DEPTH = 3;

type Outcome = FileClassifyResult | { file: string; error: string };

/**
 * Classifies `jobs` on this thread and on `workers` (which may still be loading; one that fails is left out).
 * Before each file of its own, this thread tops every ready worker up to {@linkcode WORKER_DEPTH} files: a pull
 * model, so a thread that gets less CPU (other programs, a slow start) simply does fewer files. It yields to the
 * event loop between its files, so results are printed as they come.
 * @returns One promise per job, in job order; each resolves (never rejects) with the result or the error line.
 */
function classifyAll(
  jobs: Job[],
  classifier: HeartSoundClassifier,
  workers: PoolWorker[],
  errorText: (error: unknown) => string,
): { outcomes: Promise<Outcome>[]; close(): void } {
  const settle = jobs.map(() => Promise.withResolvers<Outcome>());
  let next = 0;
  /** The next job with a file to classify, or -1; jobs that failed while listing are settled on the way. */
  const take = (): number => {
    while (next < jobs.length) {
      const i = next++;
      if (!jobs[i].error) return i;
      settle[i].resolve({ file: jobs[i].file, error: jobs[i].error! });
    }
    return -1;
  };
  const done = (i: number, result: Promise<ClassifyResult>) =>
    result.then(
      (r) => settle[i].resolve({ file: jobs[i].file, ...r }),
      (error) => settle[i].resolve({ file: jobs[i].file, error: errorText(error) }),
    );
  const feed = () => {
    for (const worker of workers) {
      while (worker.state() === "ready" && worker.queued() < WORKER_DEPTH) {
        const i = take();
        if (i < 0) return;
        const bytes = readInputSync(jobs[i].file);
        done(i, bytes instanceof Error ? Promise.reject(bytes) : worker.classify(bytes));
      }
    }
  };
  // This thread: one file per turn of the event loop (a MessageChannel message, which unlike setTimeout is not
  // delayed).
  const channel = new MessageChannel();
  channel.port1.onmessage = () => {
    feed();
    const i = take();
    if (i < 0) return channel.port1.close();
    let result: Promise<ClassifyResult>;
    try {
      const bytes = readInputSync(jobs[i].file);
      result = bytes instanceof Error ? Promise.reject(bytes) : Promise.resolve(classifier.classifyWav(bytes));
    } catch (error) {
      result = Promise.reject(error); // reported as this file's error
    }
    done(i, result);
    channel.port2.postMessage(null);
  };
  channel.port2.postMessage(null);
  return {
    outcomes: settle.map((p) => p.promise),
    close: () => {
      channel.port1.close();
      for (const worker of workers) worker.terminate();
    },
  };
}

/** Runs the CLI; returns the exit code (0 all classified, 1 some failed, 2 usage error). */
export async function main(args: string[]): Promise<number> {
  const encoder = new TextEncoder();
  const stdout = (line: string) => Deno.stdout.writeSync(encoder.encode(line + "\n"));
  const stderr = (line: string) => Deno.stderr.writeSync(encoder.encode(line + "\n"));
  const errorText = (error: unknown, action: string) =>
    error instanceof HeartSoundError ? error.message : `Cannot ${action}: ${firstLine(error)}`;
  let cli: CliArgs;
  try {
    cli = parseCliArgs(args);
  } catch (error) {
    stderr(firstLine(error));
    return 2;
  }
  if (cli.help) {
    stdout(USAGE);
    return 0;
  }
  const inputs = [...cli.inputs];
  let jobs: Job[];
  let model: URL | undefined;
  try {
    if (cli.demo) inputs.unshift(...await demoFiles());
    model = resolveModelUrl(cli.model);
    jobs = await expandInputs(inputs);
  } catch (error) {
    stderr(errorText(error, "parse arguments"));
    return 2;
  }
  const files = jobs.filter((job) => !job.error).length;
  // threads that classify: this one plus size − 1 workers
  const size = Math.max(1, Math.min(cli.jobs ?? (files >= PARALLEL_FROM ? navigator.hardwareConcurrency : 1), files));
  const workers = Array.from({ length: size - 1 }, () => startWorker(model, cli.backend));
  let classifier: HeartSoundClassifier;
  try {
    classifier = await loadClassifier(model, { backend: cli.backend });
  } catch (error) {
    for (const worker of workers) worker.terminate();
    stderr(errorText(error, "load model"));
    return 2;
  }

  if (cli.format === "csv") stdout(CSV_COLUMNS.join(","));
  if (cli.demo && cli.format === "text") {
    stdout("Bundled examples: synthetic heart sounds (examples/make_examples.ts), named after the class synthesised.");
  }
  let failed = 0;
  // Results are printed in input order as they come.
  const run = classifyAll(jobs, classifier, workers, (error) => errorText(error, "classify"));
  for (const pending of run.outcomes) {
    const outcome = await pending;
    let line: string | undefined;
    if ("error" in outcome) {
      failed++;
      stderr(`${outcome.file}: ${outcome.error}`);
      line = formatError(outcome.file, outcome.error, cli.format);
    } else line = formatResult(outcome, cli.format);
    if (line !== undefined) stdout(line);
  }
  run.close();
  return failed > 0 ? 1 : 0;
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
