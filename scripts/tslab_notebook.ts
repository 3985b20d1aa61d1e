/**
 * Executes notebooks/tslab-quickstart.ipynb headless on the tslab (Node.js) kernel with
 * `jupyter nbconvert --to notebook --execute`, after building dist/ (the notebook imports the bundle).
 * Fails when a cell errors.
 *
 * ```sh
 * scripts/setup_browser.sh                              # once: Jupyter (Debian), tslab, a kernel spec in .cache/jupyter
 * deno run -A scripts/tslab_notebook.ts                 # executes into .cache/notebooks/tslab-quickstart.ipynb
 * deno run -A scripts/tslab_notebook.ts --out DIR       # writes DIR/tslab-quickstart.ipynb instead
 * deno run -A scripts/tslab_notebook.ts --write         # regenerates the committed notebook in place
 * ```
 * @module
 */
import { HeartSoundError } from "../lib/errors.ts";
import { build } from "./build.ts";

const ROOT = decodeURIComponent(new URL("..", import.meta.url).pathname).replace(/\/$/, "");
/** The notebook this script runs. */
export const NOTEBOOK = `${ROOT}/notebooks/tslab-quickstart.ipynb`;

/** This checkout's tslab (scripts/setup_browser.sh installs it into .cache/tools). */
const TSLAB = `${ROOT}/.cache/tools/node_modules/.bin/tslab`;
/** A Jupyter data folder of this checkout, searched before the user's and the system's ones. */
const JUPYTER_PATH = `${ROOT}/.cache/jupyter`;

/**
 * Points a "tslab" kernel spec in {@linkcode JUPYTER_PATH} at this checkout's tslab, so the notebook
 * runs on it, whatever other "tslab" kernel spec the user or the system has.
 */
async function writeLocalKernelSpec(): Promise<void> {
  try {
    await Deno.stat(TSLAB);
  } catch {
    return; // no local tslab: rely on the system-wide spec
  }
  const dir = `${JUPYTER_PATH}/kernels/tslab`;
  await Deno.mkdir(dir, { recursive: true });
  const spec = {
    argv: [TSLAB, "kernel", "--config-path", "{connection_file}"],
    display_name: "TypeScript",
    language: "typescript",
  };
  await Deno.writeTextFile(`${dir}/kernel.json`, JSON.stringify(spec));
}

async function output(cmd: string, args: string[]): Promise<{ ok: boolean; text: string }> {
  try {
    const out = await new Deno.Command(cmd, {
      args,
      stdout: "piped",
      stderr: "piped",
      cwd: ROOT,
      env: { JUPYTER_PATH: [JUPYTER_PATH, Deno.env.get("JUPYTER_PATH")].filter(Boolean).join(":") },
    }).output();
    const text = new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr);
    return { ok: out.success, text };
  } catch (error) {
    return { ok: false, text: error instanceof Error ? error.message : String(error) };
  }
}

/** Why the notebook cannot run here (no Jupyter, no tslab kernel), or null when it can. */
export async function missingTools(): Promise<string | null> {
  await writeLocalKernelSpec();
  const kernels = await output("jupyter", ["kernelspec", "list"]);
  if (!kernels.ok) return "jupyter not found (scripts/setup_browser.sh installs it)";
  if (!/^\s*tslab\s/m.test(kernels.text)) return "no tslab kernel (scripts/setup_browser.sh installs tslab)";
  const nbconvert = await output("jupyter", ["nbconvert", "--version"]);
  if (!nbconvert.ok) return "jupyter nbconvert not found (scripts/setup_browser.sh installs it)";
  return null;
}

/** Options of {@linkcode runNotebook}. */
export interface RunNotebookOptions {
  /** Folder for the executed notebook; omitted: rewrite notebooks/tslab-quickstart.ipynb in place. */
  outDir?: string;
  /** Per-cell timeout, in seconds. @default {300} */
  timeoutS?: number;
  /** Build dist/ first. @default {true} */
  build?: boolean;
}

/**
 * Builds dist/ and executes the notebook; returns the path of the executed notebook.
 * @throws {HeartSoundError} Jupyter or the tslab kernel is missing, or a cell failed.
 */
export async function runNotebook(options: RunNotebookOptions = {}): Promise<string> {
  const missing = await missingTools();
  if (missing) throw new HeartSoundError(`Cannot run the tslab notebook: ${missing}`);
  if (options.build ?? true) await build();
  const name = NOTEBOOK.slice(NOTEBOOK.lastIndexOf("/") + 1);
  const args = [
    "nbconvert",
    "--to",
    "notebook",
    "--execute",
    "--ExecutePreprocessor.kernel_name=tslab",
    `--ExecutePreprocessor.timeout=${options.timeoutS ?? 300}`,
  ];
  let written = NOTEBOOK;
  if (options.outDir) {
    await Deno.mkdir(options.outDir, { recursive: true });
    args.push("--output-dir", options.outDir, "--output", name);
    written = `${options.outDir.replace(/\/$/, "")}/${name}`;
  } else {
    args.push("--inplace");
  }
  args.push(NOTEBOOK);
  const result = await output("jupyter", args);
  if (!result.ok) {
    const lines = result.text.trim().split("\n").filter((l) => !/^\s*(0\.\d+s - |\[NbConvertApp\])/.test(l));
    throw new HeartSoundError(`Cannot run the tslab notebook: ${lines.slice(-12).join("\n")}`);
  }
  // Keep the committed notebook free of run-specific metadata.
  const nb = JSON.parse(await Deno.readTextFile(written));
  for (const cell of nb.cells) {
    if (cell.metadata) delete cell.metadata.execution;
  }
  await Deno.writeTextFile(written, JSON.stringify(nb, null, 1) + "\n");
  return written;
}

if (import.meta.main) {
  // The committed notebook is only rewritten when asked for (--write).
  const i = Deno.args.indexOf("--out");
  const outDir = Deno.args.includes("--write") ? undefined : i >= 0 ? Deno.args[i + 1] : `${ROOT}/.cache/notebooks`;
  try {
    const written = await runNotebook({ outDir });
    console.log(`executed ${written.replace(`${ROOT}/`, "")}`);
  } catch (error) {
    console.error(error instanceof Error ? error.message : String(error));
    Deno.exit(1);
  }
}
