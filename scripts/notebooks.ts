/**
 * `deno task notebooks`: executes the notebooks headless on Deno's Jupyter kernel with
 * `jupyter nbconvert --to notebook --execute`, fails when a cell errors, and keeps the written
 * notebooks small (plotly arrays on one line, no timing metadata, at most 2 MB each).
 *
 * ```sh
 * scripts/setup_jupyter.sh                      # once: Jupyter (Debian packages) + `deno jupyter --install`
 * deno task notebooks                           # full run, notebooks rewritten in place, images re-rendered
 * deno task notebooks --quick                   # CI: small subset, outputs to .cache/notebooks/
 * deno task notebooks --quick 00 03             # only the notebooks whose names contain "00" or "03"
 * HEARTBEAT_DATA=/path deno task notebooks      # another data folder (else data/)
 * ```
 * Options: `--quick` (or HEARTBEAT_QUICK=1), `--synthetic` (ignore real data), `--data DIR`,
 * `--out DIR` / `--inplace` (default: in place for full runs, .cache/notebooks/ for quick runs),
 * `--images` / `--no-images` (static PNGs in notebooks/images; default: on for full in-place runs
 * when Chromium is installed), `--timeout SECONDS` per cell (default 1800).
 * Runs every notebooks/*.ipynb whose kernel is "deno".
 * @module
 */
import { HeartSoundError } from "../lib/errors.ts";
import { findChromium } from "../lib/plot.ts";

const ROOT = new URL("../", import.meta.url).pathname.replace(/\/$/, "");
const NOTEBOOK_DIR = `${ROOT}/notebooks`;
/** Largest notebook we commit, in bytes. */
export const MAX_NOTEBOOK_BYTES = 2 * 1024 * 1024;

/** Parsed command line of {@linkcode main}. */
export interface RunnerOptions {
  quick: boolean;
  synthetic: boolean;
  data?: string;
  outDir?: string;
  images: boolean;
  timeoutS: number;
  filters: string[];
}

/** Reads the command line; unknown flags are an error. */
export function parseArgs(args: readonly string[], env: (name: string) => string | undefined): RunnerOptions {
  let quick = env("HEARTBEAT_QUICK") === "1";
  let synthetic = env("HEARTBEAT_SYNTHETIC") === "1";
  let data: string | undefined, outDir: string | undefined, inplace = false;
  let images: boolean | undefined;
  let timeoutS = 1800;
  const filters: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    const value = () => {
      const v = args[++i];
      if (v === undefined) throw new HeartSoundError(`Cannot run notebooks: ${a} needs a value`);
      return v;
    };
    if (a === "--quick") quick = true;
    else if (a === "--synthetic") synthetic = true;
    else if (a === "--data") data = value();
    else if (a === "--out") outDir = value();
    else if (a === "--inplace") inplace = true;
    else if (a === "--images") images = true;
    else if (a === "--no-images") images = false;
    else if (a === "--timeout") timeoutS = Number(value());
    else if (a.startsWith("-")) throw new HeartSoundError(`Cannot run notebooks: unknown option ${a}`);
    else filters.push(a);
  }
  if (!(timeoutS > 0)) {
    throw new HeartSoundError(`Cannot run notebooks: --timeout is ${timeoutS}, expected seconds > 0`);
  }
  if (!inplace && !outDir && quick) outDir = `${ROOT}/.cache/notebooks`;
  return { quick, synthetic, data, outDir, images: images ?? (!outDir && !quick), timeoutS, filters };
}

/** The notebooks to run: notebooks/*.ipynb with the Deno kernel, sorted, filtered by name substrings. */
export function selectNotebooks(dir: string, filters: readonly string[]): string[] {
  const names: string[] = [];
  for (const entry of Deno.readDirSync(dir)) {
    if (!entry.isFile || !entry.name.endsWith(".ipynb")) continue;
    const nb = JSON.parse(Deno.readTextFileSync(`${dir}/${entry.name}`));
    if (nb.metadata?.kernelspec?.name !== "deno") continue;
    if (filters.length && !filters.some((f) => entry.name.includes(f))) continue;
    names.push(entry.name);
  }
  return names.sort();
}

/**
 * Serialises a notebook the way nbformat does (sorted keys, indent 1, non-ASCII kept) except that
 * arrays of numbers are written on one line: a plotly trace then costs a few bytes per point instead
 * of a line per number.
 */
export function compactNotebookJson(value: unknown): string {
  const write = (v: unknown, indent: string): string => {
    if (Array.isArray(v)) {
      if (v.length === 0) return "[]";
      if (v.every((x) => typeof x === "number" || x === null || typeof x === "boolean")) return JSON.stringify(v);
      const inner = indent + " ";
      return `[\n${v.map((x) => inner + write(x, inner)).join(",\n")}\n${indent}]`;
    }
    if (v !== null && typeof v === "object") {
      const keys = Object.keys(v).sort();
      if (keys.length === 0) return "{}";
      const inner = indent + " ";
      const obj = v as Record<string, unknown>;
      return `{\n${keys.map((k) => `${inner}${JSON.stringify(k)}: ${write(obj[k], inner)}`).join(",\n")}\n${indent}}`;
    }
    return JSON.stringify(v) ?? "null";
  };
  return write(value, "") + "\n";
}

/** Cell errors recorded in an executed notebook, as "cell N: ename: evalue" lines. */
export function notebookErrors(
  nb: { cells: { outputs?: { output_type: string; ename?: string; evalue?: string }[] }[] },
): string[] {
  const errors: string[] = [];
  nb.cells.forEach((cell, i) => {
    for (const o of cell.outputs ?? []) {
      if (o.output_type === "error") errors.push(`cell ${i}: ${o.ename}: ${(o.evalue ?? "").split("\n")[0]}`);
    }
  });
  return errors;
}

async function commandOk(cmd: string, args: string[]): Promise<string | undefined> {
  try {
    const out = await new Deno.Command(cmd, { args, stdout: "piped", stderr: "piped" }).output();
    return out.success ? new TextDecoder().decode(out.stdout) : undefined;
  } catch {
    return undefined;
  }
}

async function main(args: string[]): Promise<void> {
  const options = parseArgs(args, (name) => Deno.env.get(name));
  const kernels = await commandOk("jupyter", ["kernelspec", "list"]);
  if (kernels === undefined) {
    throw new HeartSoundError("Cannot run notebooks: jupyter not found; run scripts/setup_jupyter.sh");
  }
  if (!/^\s*deno\s/m.test(kernels)) {
    throw new HeartSoundError(
      "Cannot run notebooks: no Deno kernel; run `deno jupyter --install` (scripts/setup_jupyter.sh)",
    );
  }
  if (options.images && !findChromium()) {
    console.error(
      "notebooks: Chromium not found, static images are not re-rendered (scripts/setup_jupyter.sh --chromium)",
    );
    options.images = false;
  }
  const names = selectNotebooks(NOTEBOOK_DIR, options.filters);
  if (names.length === 0) throw new HeartSoundError(`Cannot run notebooks: none match ${options.filters.join(", ")}`);
  if (options.outDir) await Deno.mkdir(options.outDir, { recursive: true });
  const env: Record<string, string> = {
    HEARTBEAT_QUICK: options.quick ? "1" : "0",
    HEARTBEAT_SYNTHETIC: options.synthetic ? "1" : "0",
    HEARTBEAT_IMAGES: options.images ? "1" : "0",
    PYDEVD_DISABLE_FILE_VALIDATION: "1",
    NO_COLOR: "1",
  };
  if (options.data) env.HEARTBEAT_DATA = options.data;
  // One synthetic data set for all notebooks (written by the first that needs it), removed at the end.
  const syntheticDir = await Deno.makeTempDir({ prefix: "heartbeat-synthetic-" });
  env.HEARTBEAT_SYNTHETIC_DIR = syntheticDir;
  console.log(
    `notebooks: ${names.length} to run (${options.quick ? "quick" : "full"} mode${
      options.synthetic ? ", synthetic data" : ""
    }${options.images ? ", rendering images" : ""}) → ${options.outDir ?? "in place"}`,
  );
  const failures: string[] = [];
  const start = performance.now();
  for (const name of names) {
    const t0 = performance.now();
    const target = options.outDir ? ["--output-dir", options.outDir, "--output", name] : ["--inplace"];
    const run = await new Deno.Command("jupyter", {
      args: [
        "nbconvert",
        "--to",
        "notebook",
        "--execute",
        `--ExecutePreprocessor.timeout=${options.timeoutS}`,
        "--ExecutePreprocessor.record_timing=False",
        // outputs that reach Jupyter after the cell's reply (a loaded machine) are kept, not dropped
        "--ExecutePreprocessor.iopub_timeout=120",
        "--ExecutePreprocessor.raise_on_iopub_timeout=True",
        ...target,
        `${NOTEBOOK_DIR}/${name}`,
      ],
      cwd: NOTEBOOK_DIR,
      env,
      stdout: "piped",
      stderr: "piped",
    }).output();
    const seconds = (performance.now() - t0) / 1000;
    const written = `${options.outDir ?? NOTEBOOK_DIR}/${name}`;
    if (!run.success) {
      const log = new TextDecoder().decode(run.stderr).split("\n").filter((l) =>
        !/Debugger|frozen|PYDEVD|^\s*$/.test(l)
      );
      console.error(`FAIL ${name} (${seconds.toFixed(1)} s)\n${log.slice(-25).join("\n")}`);
      failures.push(name);
      continue;
    }
    const nb = JSON.parse(await Deno.readTextFile(written));
    const errors = notebookErrors(nb);
    const text = compactNotebookJson(nb);
    await Deno.writeTextFile(written, text);
    const bytes = new TextEncoder().encode(text).length;
    if (errors.length) failures.push(name);
    if (bytes > MAX_NOTEBOOK_BYTES) failures.push(`${name} (${(bytes / 1e6).toFixed(2)} MB > 2 MB)`);
    console.log(
      `${errors.length || bytes > MAX_NOTEBOOK_BYTES ? "FAIL" : "ok  "} ${name}  ${seconds.toFixed(1)} s  ${
        (bytes / 1024).toFixed(0)
      } KB${errors.length ? "\n  " + errors.join("\n  ") : ""}`,
    );
  }
  await Deno.remove(syntheticDir, { recursive: true }).catch(() => {});
  console.log(`notebooks: ${((performance.now() - start) / 1000).toFixed(1)} s in all`);
  if (failures.length) throw new HeartSoundError(`Cannot run notebooks: ${failures.join(", ")} failed`);
}

if (import.meta.main) {
  try {
    await main(Deno.args);
  } catch (e) {
    if (e instanceof HeartSoundError) {
      console.error(e.message);
      Deno.exit(1);
    }
    throw e;
  }
}
