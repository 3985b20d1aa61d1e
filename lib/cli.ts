/**
 * The command-line tool, platform-neutral (no `Deno.*`, no `node:*`): argument parsing, the output formats
 * (text, NDJSON, CSV) and the loop that classifies files in input order. Deno (lib/infer.ts) and Node.js
 * (scripts/cli_entry.ts, the npm package's `heartbeat` command) each supply a {@linkcode CliHost} with their
 * file system, so both print the same lines for the same files.
 * @module
 */
import {
  type Backend,
  BACKENDS,
  checkRecordingSize,
  type ClassifyOptions,
  type ClassifyResult,
  type HeartSoundClassifier,
  MAX_DURATION_S,
} from "./classifier.ts";
import { HeartSoundError, ParameterError } from "./errors.ts";
import { displayName, explanation } from "./classes.ts";
import { htmlReport } from "./html_report.ts";
import { readWav, readWavHeader } from "./wav.ts";
import { VERSION } from "./version.ts";

/** From this many files on, the CLI classifies in one worker per CPU core by default. */
export const PARALLEL_FROM = 16;

/** The help text; `command` is how the user starts the tool (e.g. `deno run -R lib/infer.ts`, `heartbeat`). */
export function usage(command: string): string {
  return `Classify heart-sound recordings (shipped model: normal, extrahls, murmur, extrastole; a model trained
with --model has its own classes) and estimate the heart rate.

Usage: ${command} [options] <file.wav | folder>...
       ${command} --demo

A folder means every .wav file inside it, recursively, in sorted order; a file named twice is classified once.

Options:
  --json            one JSON object per line (NDJSON), in input order:
                    {"file","label","labelId","confidence","probabilities":{...},"heartRateBpm","s1TimesS","s2TimesS",
                     "quality","irregularRhythm":{"score","flagged","reliable","earlyBeatTimesS","lateBeatTimesS"},
                     "warning"?,"model":{"name","version","hash"}} or {"file","error"} for a file that cannot be
                     classified; quality: probability the recording is usable heart sound (null without a quality
                     model); warning starts with "retake: <reason>" when it is low
  --timeline        also each 3 s window's class and probabilities in the JSON:
                    "timeline":[{"startS","endS","label","probabilities"}] (implies --json)
  --report <out>    write a one-file HTML report of the recording (one input file): waveform with
                    S1/S2 and early beats, timeline, class, heart rate, warnings, model; opens offline
  --csv             CSV with a header row: file,label,labelId,confidence, one column per class,
                    heartRateBpm,s1TimesS,s2TimesS (seconds, space-separated),quality,warning,error,
                    model,modelVersion,modelHash
  --model <m>       model folder, model.json path or URL (default: the shipped model; URLs need -N under Deno)
  --demo            classify the bundled synthetic examples (examples/*.wav)
  --jobs <n>        threads that classify: this one plus n − 1 workers (default: one per CPU core
                    from ${PARALLEL_FROM} files on, else 1; at most one per core; Node.js classifies on
                    one thread)
  --max-duration <s>
                    longest recording classified, in seconds (default ${MAX_DURATION_S}); longer files
                    are refused before they are read
  --backend <b>     what runs the model: js (default: lib/forward.ts, no tfjs), or tfjs on its
                    cpu or wasm backend (wasm falls back to cpu)
  --version         print the package version, then "model <name> <version> <hash>" of the model
  -h, --help        show this help

Exit status: 0 every file classified, 1 some files failed (the rest are printed), 2 usage error or a
model that cannot be loaded.`;
}

/** Parsed command line of the CLI. */
export interface CliArgs {
  format: "text" | "json" | "csv";
  model?: string;
  backend: Backend;
  /** Worker threads; undefined = automatic. */
  jobs?: number;
  /** Longest recording, in seconds; undefined = {@linkcode MAX_DURATION_S}. */
  maxDurationS?: number;
  demo: boolean;
  help: boolean;
  version: boolean;
  inputs: string[];
  /** Add each window's probabilities to the JSON (`--timeline`). */
  timeline: boolean;
  /** Where to write the HTML report (`--report`). */
  report?: string;
}

/** Parses CLI arguments. @throws {ParameterError} on an unknown option or a missing value. */
export function parseCliArgs(args: string[]): CliArgs {
  const out: CliArgs = {
    format: "text",
    backend: "js",
    demo: false,
    help: false,
    version: false,
    inputs: [],
    timeline: false,
  };
  const formats = new Set<string>();
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    if (arg === "--") {
      out.inputs.push(...args.slice(i + 1));
      break;
    }
    if (arg === "-h" || arg === "--help") out.help = true;
    else if (arg === "--version") out.version = true;
    else if (arg === "--json" || arg === "--csv") formats.add(arg.slice(2));
    else if (arg === "--demo") out.demo = true;
    else if (arg === "--timeline") out.timeline = true;
    else if (
      ["--model", "--backend", "--jobs", "--max-duration", "--report"].some((o) => arg === o || arg.startsWith(`${o}=`))
    ) {
      const eq = arg.indexOf("=");
      const name = eq < 0 ? arg : arg.slice(0, eq);
      const value = eq < 0 ? args[++i] : arg.slice(eq + 1);
      if (value === undefined || value === "") {
        throw new ParameterError(`Cannot parse arguments: ${name} needs a value`);
      }
      if (name === "--model") out.model = value;
      else if (name === "--report") out.report = value;
      else if (name === "--max-duration") {
        const seconds = Number(value);
        if (!(seconds > 0) || !Number.isFinite(seconds)) {
          throw new ParameterError(`Cannot parse arguments: --max-duration is "${value}", expected seconds > 0`);
        }
        out.maxDurationS = seconds;
      } else if (name === "--backend") {
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
  if (out.timeline) {
    if (out.format === "csv") throw new ParameterError("Cannot parse arguments: --timeline is JSON, not CSV");
    out.format = "json";
  }
  if (out.report !== undefined && !out.help && !out.version && (out.demo || out.inputs.length !== 1)) {
    throw new ParameterError("Cannot parse arguments: --report writes the report of one recording: give one file");
  }
  if (!out.help && !out.version && !out.demo && out.inputs.length === 0) {
    throw new ParameterError("Cannot parse arguments: no input files (see --help)");
  }
  return out;
}

/** One input expanded: a file to classify, or an error found while listing (missing path, empty folder). */
export interface CliJob {
  file: string;
  error?: string;
}

/** A classification of one file: the {@linkcode ClassifyResult} plus the path it was read from. */
export interface FileClassifyResult extends ClassifyResult {
  /** The path as given. */
  file: string;
}

/** A worker thread that loads the model once and classifies WAV bytes (Deno: lib/_infer_worker.ts). */
export interface CliWorker {
  classify(bytes: Uint8Array, options: ClassifyOptions): Promise<ClassifyResult>;
  /** "loading", "ready" (model loaded) or "failed" (cannot load the model or crashed: left out). */
  state(): "loading" | "ready" | "failed";
  /** Files sent and not yet classified. */
  queued(): number;
  terminate(): void;
}

/** What the CLI needs from its platform. Paths are strings as the user typed them. */
export interface CliHost {
  /** How the user starts the tool, for the help text. */
  command: string;
  /** Writes one line (a newline is added) to standard output. */
  stdout(line: string): void;
  /** Writes one line (a newline is added) to standard error. */
  stderr(line: string): void;
  /**
   * What kind of path the user gave: "folder", "file" (a regular file) or why it is neither (e.g. "not a regular
   * file (a pipe, socket or device)"). @throws when it cannot be examined (the error goes through `fileErrorText`)
   */
  pathKind(path: string): Promise<string>;
  /** Every .wav file below a folder, recursively (symlinked folders are not followed), in any order. @throws */
  listWavs(folder: string): Promise<string[]>;
  /** The one-line text of a file-system error (no such file, permission denied, …). */
  fileErrorText(error: unknown): string;
  /** The path with links resolved, so a file named twice by different paths is seen once; the path itself when
   * that fails (the read reports the error). */
  canonicalPath(path: string): string;
  /**
   * A recording's bytes, or the error (returned, not thrown) when it cannot be read: only regular files (a pipe or
   * device would block or never end), and a file whose header {@linkcode recordingBytes} refuses is not read on.
   */
  readInput(path: string, options: ClassifyOptions): Uint8Array | HeartSoundError;
  /** Resolves a `--model` argument (folder, model.json path or URL). @throws {HeartSoundError} */
  resolveModel(model: string | undefined): URL | undefined;
  loadClassifier(model: URL | undefined, backend: Backend): Promise<HeartSoundClassifier>;
  /** The bundled example recordings (`--demo`). @throws {HeartSoundError} when there are none. */
  demoFiles(): Promise<string[]>;
  /** Starts a worker thread; absent where the CLI classifies on one thread only. */
  startWorker?(model: URL | undefined, backend: Backend): CliWorker;
  /** Threads the automatic `--jobs` may use. */
  cpuCount: number;
  /** Writes a text file (`--report`). @throws {HeartSoundError} when it cannot. */
  writeTextFile(path: string, text: string): Promise<void>;
}

/**
 * A file name in double quotes, as it can be printed to a terminal: escaped JSON-style when it holds anything but
 * printable characters (control characters, ANSI escapes, line breaks, bidirectional overrides), so a name cannot
 * forge an output line or recolour the terminal.
 */
export function quoteName(name: string): string {
  // deno-lint-ignore no-control-regex -- control characters are exactly what must be found
  const unsafe = /[\x00-\x1f\x7f-\x9f\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069"]/;
  if (!unsafe.test(name)) return `"${name}"`;
  return JSON.stringify(name).replace(
    /[\x7f-\x9f\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`,
  );
}

/** {@linkcode quoteName} without the quotes when none are needed: how the text output shows a file. */
export function shownName(name: string): string {
  const quoted = quoteName(name);
  return quoted === `"${name}"` ? name : quoted;
}

/** Bytes of a recording read whole when it is this small; from larger files this much is read first, for the header. */
export const HEAD_BYTES = 1 << 20;
/** Bytes a WAV file may hold besides its samples and header (metadata chunks after the data). */
export const OTHER_CHUNKS_BYTES = 1 << 20;

/**
 * A large recording's bytes, read only if its header allows (sample rate, `options.maxDurationS`) and the file is not
 * much bigger than its audio: the platform-neutral half of {@linkcode CliHost.readInput}.
 * @param name How errors name the file, e.g. `Cannot read file "x.wav"`.
 * @param size The file's size in bytes (more than {@linkcode HEAD_BYTES}).
 * @param head The file's first {@linkcode HEAD_BYTES} bytes.
 * @param readRest Reads up to that many bytes that follow `head`.
 * @throws {HeartSoundError} The header is not a WAV's, or the recording or file is too large.
 */
export function recordingBytes(
  name: string,
  size: number,
  head: Uint8Array,
  readRest: (length: number) => Uint8Array,
  options: ClassifyOptions,
): Uint8Array {
  const header = readWavHeader(head, size);
  checkRecordingSize(header.sampleRate, header.durationS, options);
  const needed = header.dataOffset + header.frames * header.blockAlign + OTHER_CHUNKS_BYTES;
  if (size > needed) {
    throw new ParameterError(
      `${name}: it has ${size} bytes, more than its ${header.durationS.toFixed(1)} s of audio need ` +
        `with ${OTHER_CHUNKS_BYTES} bytes of other chunks`,
    );
  }
  const bytes = new Uint8Array(size);
  bytes.set(head);
  const rest = readRest(size - head.length);
  bytes.set(rest, head.length);
  return bytes.subarray(0, head.length + rest.length);
}

/** Expands files and folders (every .wav inside a folder, recursively, sorted) in input order. */
export async function expandInputs(
  inputs: string[],
  host: Pick<CliHost, "pathKind" | "listWavs" | "fileErrorText">,
): Promise<CliJob[]> {
  const jobs: CliJob[] = [];
  for (const input of inputs) {
    let kind: string;
    try {
      kind = await host.pathKind(input);
    } catch (error) {
      jobs.push({ file: input, error: `Cannot read file ${quoteName(input)}: ${host.fileErrorText(error)}` });
      continue;
    }
    if (kind !== "folder") {
      jobs.push(
        kind === "file" ? { file: input } : { file: input, error: `Cannot read file ${quoteName(input)}: ${kind}` },
      );
      continue;
    }
    try {
      const found = (await host.listWavs(input.replace(/[\\/]+$/, "") || "/")).sort();
      if (found.length === 0) {
        jobs.push({ file: input, error: `Cannot find WAV files: folder ${quoteName(input)} has none` });
      }
      for (const file of found) jobs.push({ file });
    } catch (error) {
      jobs.push({ file: input, error: `Cannot list folder ${quoteName(input)}: ${host.fileErrorText(error)}` });
    }
  }
  return jobs;
}

/** The jobs without a file named again (directly and inside a folder, or by another path): each is classified once. */
function withoutRepeats(jobs: CliJob[], host: CliHost): CliJob[] {
  const seen = new Set<string>();
  return jobs.filter((job) => {
    if (job.error) return true;
    const key = host.canonicalPath(job.file);
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

function round(x: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

function firstLine(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  return text.split("\n")[0].trim() || "unknown error";
}

function roundProbabilities(p: Record<string, number>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [name, v] of Object.entries(p)) out[name] = round(v, 4);
  return out;
}

/**
 * The NDJSON object of one result (probabilities to 4 decimals, times to 1 ms; the model last); with `timeline`,
 * each window's class and probabilities too.
 */
export function resultToJson(
  result: FileClassifyResult,
  options: { timeline?: boolean } = {},
): Record<string, unknown> {
  const probabilities = roundProbabilities(result.probabilities);
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
  const rhythm = result.irregularRhythm;
  out.irregularRhythm = rhythm && {
    score: round(rhythm.score, 3),
    flagged: rhythm.flagged,
    reliable: rhythm.reliable,
    earlyBeatTimesS: rhythm.earlyBeatTimesS.map((t) => round(t, 3)),
    lateBeatTimesS: rhythm.lateBeatTimesS.map((t) => round(t, 3)),
  };
  if (options.timeline) {
    out.timeline = result.timeline.map((w) => ({
      startS: round(w.startS, 3),
      endS: round(w.endS, 3),
      label: w.label,
      probabilities: roundProbabilities(w.probabilities),
    }));
  }
  if (result.warnings.length > 0) out.warning = result.warnings.join("; ");
  out.model = { name: result.model.name, version: result.model.version, hash: result.model.hash };
  return out;
}

/** The CSV header: one probability column per class of the model. */
function csvColumns(labels: readonly string[]): string[] {
  return [
    "file",
    "label",
    "labelId",
    "confidence",
    ...labels,
    "heartRateBpm",
    "s1TimesS",
    "s2TimesS",
    "quality",
    "warning",
    "error",
    "model",
    "modelVersion",
    "modelHash",
  ];
}

function csvCell(value: unknown): string {
  const text = value === null || value === undefined ? "" : String(value);
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

function csvRow(cells: unknown[]): string {
  return cells.map(csvCell).join(",");
}

function formatResult(
  result: FileClassifyResult,
  format: CliArgs["format"],
  labels: readonly string[],
  timeline = false,
): string {
  const p = result.probabilities as Record<string, number>;
  const hr = result.heartRateBpm === null ? null : round(result.heartRateBpm, 1);
  const warning = result.warnings.join("; ");
  if (format === "json") return JSON.stringify(resultToJson(result, { timeline }));
  if (format === "csv") {
    return csvRow([
      result.file,
      result.label,
      result.labelId,
      round(result.confidence, 4),
      ...labels.map((name) => round(p[name], 4)),
      hr,
      result.s1TimesS.map((t) => round(t, 3)).join(" "),
      result.s2TimesS.map((t) => round(t, 3)).join(" "),
      result.quality === null ? null : round(result.quality, 3),
      warning,
      "",
      result.model.name,
      result.model.version,
      result.model.hash,
    ]);
  }
  // For a person: display names and explanations (lib/classes.ts); the data set's ids are in --json and --csv.
  const probs = Object.entries(p).map(([name, v]) => `${displayName(name)} ${v.toFixed(2)}`).join(", ");
  const rate = hr === null ? "heart rate not found" : `${hr.toFixed(0)} bpm`;
  const early = result.irregularRhythm?.flagged ? result.irregularRhythm.earlyBeatTimesS : [];
  const rhythm = early.length > 0
    ? `, premature beat${early.length === 1 ? "" : "s"} at ${early.map((t) => `${t.toFixed(1)} s`).join(", ")}`
    : "";
  const meaning = explanation(result.label);
  return `${shownName(result.file)}: ${displayName(result.label)} (${result.confidence.toFixed(2)})${
    meaning ? `, ${meaning}` : ""
  }; ${rate}${rhythm}  [${probs}]${warning ? `  warning: ${warning}` : ""}`;
}

function formatError(
  file: string,
  error: string,
  format: CliArgs["format"],
  labels: readonly string[],
): string | undefined {
  if (format === "json") return JSON.stringify({ file, error });
  if (format === "csv") return csvRow([file, ...csvColumns(labels).slice(1, -4).map(() => ""), error, "", "", ""]);
  return undefined; // text: the stderr line is the report
}

interface Deferred<T> {
  promise: Promise<T>;
  resolve(value: T): void;
}

/** `Promise.withResolvers`, which Node.js 20 lacks. */
function deferred<T>(): Deferred<T> {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
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
  jobs: CliJob[],
  classifier: HeartSoundClassifier,
  workers: CliWorker[],
  host: CliHost,
  errorText: (error: unknown) => string,
  options: ClassifyOptions,
): { outcomes: Promise<Outcome>[]; close(): void } {
  const settle = jobs.map(() => deferred<Outcome>());
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
        const bytes = host.readInput(jobs[i].file, options);
        done(i, bytes instanceof Error ? Promise.reject(bytes) : worker.classify(bytes, options));
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
      const bytes = host.readInput(jobs[i].file, options);
      result = bytes instanceof Error ? Promise.reject(bytes) : Promise.resolve(classifier.classifyWav(bytes, options));
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
export async function runCli(args: string[], host: CliHost): Promise<number> {
  const errorText = (error: unknown, action: string) =>
    error instanceof HeartSoundError ? error.message : `Cannot ${action}: ${firstLine(error)}`;
  let cli: CliArgs;
  try {
    cli = parseCliArgs(args);
  } catch (error) {
    host.stderr(firstLine(error));
    return 2;
  }
  if (cli.help) {
    host.stdout(usage(host.command));
    return 0;
  }
  const inputs = [...cli.inputs];
  let jobs: CliJob[];
  let model: URL | undefined;
  try {
    if (cli.demo) inputs.unshift(...await host.demoFiles());
    model = host.resolveModel(cli.model);
    jobs = withoutRepeats(await expandInputs(inputs, host), host);
  } catch (error) {
    host.stderr(errorText(error, "parse arguments"));
    return 2;
  }
  const files = jobs.filter((job) => !job.error).length;
  // threads that classify: this one plus size − 1 workers
  const cores = host.cpuCount;
  if (cli.jobs !== undefined && cli.jobs > cores && host.startWorker) {
    // more threads than cores only time-share them, each holding its own model and buffers
    host.stderr(`Note: --jobs ${cli.jobs} lowered to ${cores}, the number of CPU cores`);
  }
  const wanted = cli.jobs ?? (files >= PARALLEL_FROM ? cores : 1);
  const size = host.startWorker && !cli.version ? Math.max(1, Math.min(wanted, cores, files)) : 1;
  const workers = Array.from({ length: size - 1 }, () => host.startWorker!(model, cli.backend));
  let classifier: HeartSoundClassifier;
  try {
    classifier = await host.loadClassifier(model, cli.backend);
  } catch (error) {
    for (const worker of workers) worker.terminate();
    host.stderr(errorText(error, "load model"));
    return 2;
  }
  if (cli.version) {
    const { name, version, hash } = classifier.model;
    host.stdout(`heartbeat ${VERSION}\nmodel ${name} ${version} ${hash}`);
    return 0;
  }

  const labels = classifier.labels();
  if (cli.format === "csv") host.stdout(csvColumns(labels).join(","));
  const demoSet = new Set(cli.demo && cli.format === "text" ? await host.demoFiles() : []);
  if (demoSet.size > 0) {
    host.stdout(
      "Bundled examples: synthetic heart sounds (examples/make_examples.ts, not real recordings), one per class, " +
        "named after the class synthesised.",
    );
  }
  const demoWrong: string[] = [];
  let failed = 0;
  // Results are printed in input order as they come.
  const options: ClassifyOptions = { maxDurationS: cli.maxDurationS };
  const run = classifyAll(jobs, classifier, workers, host, (error) => errorText(error, "classify"), options);
  for (const pending of run.outcomes) {
    const outcome = await pending;
    let line: string | undefined;
    if ("error" in outcome) {
      failed++;
      host.stderr(`${shownName(outcome.file)}: ${outcome.error}`);
      line = formatError(outcome.file, outcome.error, cli.format, labels);
    } else {
      line = formatResult(outcome, cli.format, labels, cli.timeline);
      const synthesised = demoSet.has(outcome.file) ? /synthetic_(\w+)\.wav$/.exec(outcome.file)?.[1] : undefined;
      if (synthesised && synthesised !== outcome.label) {
        line += `  <- synthesised as ${displayName(synthesised)}: the model gets this one wrong`;
        demoWrong.push(displayName(synthesised));
      }
      if (cli.report !== undefined) {
        try {
          await writeReport(cli.report, outcome, host, options);
        } catch (error) {
          failed++;
          host.stderr(errorText(error, "write report"));
        }
      }
    }
    if (line !== undefined) host.stdout(line);
  }
  run.close();
  if (demoSet.size > 0) {
    host.stdout(
      demoWrong.length === 0
        ? "The model recognises every example."
        : `The model gets ${
          demoSet.size - demoWrong.length
        } of ${demoSet.size} examples right; it misses the synthetic ${
          demoWrong.join(" and ")
        } (simpler than real recordings of them).`,
    );
  }
  return failed > 0 ? 1 : 0;
}

/** Writes the HTML report of one classified file (lib/html_report.ts), with its waveform. */
async function writeReport(
  path: string,
  result: FileClassifyResult,
  host: CliHost,
  options: ClassifyOptions,
): Promise<void> {
  const bytes = host.readInput(result.file, options);
  if (bytes instanceof Error) throw bytes;
  const name = result.file.split(/[\\/]/).pop() || result.file;
  const createdAt = new Date().toISOString().replace(/\.\d+Z$/, "Z");
  await host.writeTextFile(path, htmlReport(result, readWav(bytes), { fileName: name, createdAt }));
}
