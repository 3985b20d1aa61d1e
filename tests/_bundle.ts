/** Helpers of the bundle and web-page tests: build dist/ once, find Node and Chromium, make WAVs, ask the CLI. */
import { encodeWav } from "../lib/wav.ts";
import { synthesizeHeartSound, type SynthKind } from "../lib/synth.ts";

/** The repository root, as a path. */
export const ROOT: string = decodeURIComponent(new URL("..", import.meta.url).pathname).replace(/\/$/, "");
/** playwright-core and tslab live here (scripts/setup_browser.sh). */
export const TOOLS_DIR = `${ROOT}/.cache/tools`;
/** Debian's Chromium. */
export const CHROMIUM = Deno.env.get("CHROMIUM") ?? "/usr/bin/chromium";

function exists(path: string): boolean {
  try {
    Deno.statSync(path);
    return true;
  } catch {
    return false;
  }
}

async function run(cmd: string, args: string[], cwd = ROOT): Promise<{ code: number; stdout: string; stderr: string }> {
  const out = await new Deno.Command(cmd, { args, cwd, stdout: "piped", stderr: "piped", stdin: "null" }).output();
  return {
    code: out.code,
    stdout: new TextDecoder().decode(out.stdout),
    stderr: new TextDecoder().decode(out.stderr),
  };
}

let nodeVersion: number | null | undefined;
/** Major version of `node` on PATH, or null when there is none. */
export async function nodeMajorVersion(): Promise<number | null> {
  if (nodeVersion !== undefined) return nodeVersion;
  try {
    const { code, stdout } = await run("node", ["--version"]);
    nodeVersion = code === 0 ? Number(/^v(\d+)/.exec(stdout.trim())?.[1] ?? NaN) : null;
  } catch {
    nodeVersion = null;
  }
  return nodeVersion;
}

const announced = new Set<string>();
function skip(reason: string): { ignore: true } {
  if (!announced.has(reason)) {
    announced.add(reason);
    console.log(`SKIP: ${reason}`);
  }
  return { ignore: true };
}

/** Options for a Deno.test that needs Node.js ≥ 20; prints a visible skip notice otherwise. */
export async function needsNode(): Promise<{ ignore: boolean }> {
  const major = await nodeMajorVersion();
  if (major === null || !(major >= 20)) {
    return skip(`Node.js >= 20 not found (found ${major ?? "none"}); skipping the bundle tests`);
  }
  return { ignore: false };
}

/** Options for a Deno.test that needs Chromium and playwright-core (scripts/setup_browser.sh). */
export async function needsBrowser(): Promise<{ ignore: boolean }> {
  const node = await needsNode();
  if (node.ignore) return node;
  if (!exists(CHROMIUM)) return skip(`${CHROMIUM} not found; run scripts/setup_browser.sh to run the web page test`);
  if (!exists(`${TOOLS_DIR}/node_modules/playwright-core/package.json`)) {
    return skip("playwright-core not in .cache/tools; run scripts/setup_browser.sh to run the web page test");
  }
  return { ignore: false };
}

function newestMtime(path: string): number {
  let newest = 0;
  let info: Deno.FileInfo;
  try {
    info = Deno.statSync(path);
  } catch {
    return 0;
  }
  if (info.isFile) return info.mtime?.getTime() ?? 0;
  for (const entry of Deno.readDirSync(path)) newest = Math.max(newest, newestMtime(`${path}/${entry.name}`));
  return newest;
}

/** Inputs of the build: when any is newer than dist/build-info.json, {@linkcode ensureBuilt} rebuilds. */
const BUILD_INPUTS = [
  "lib",
  "scripts/build.ts",
  "scripts/bundle_entry.ts",
  "scripts/cli_entry.ts",
  "web/app.ts",
  "web/worker.ts",
  "deno.lock",
];

/** Builds dist/ unless it is newer than every input of the build; returns the build's size report. */
export async function ensureBuilt(): Promise<{ outputs: { path: string; bytes: number; gzipBytes: number }[] }> {
  const info = `${ROOT}/dist/build-info.json`;
  const builtAt = newestMtime(info);
  const inputsAt = Math.max(...BUILD_INPUTS.map((p) => newestMtime(`${ROOT}/${p}`)));
  if (builtAt === 0 || builtAt < inputsAt) {
    const { code, stdout, stderr } = await run(Deno.execPath(), ["run", "-A", "scripts/build.ts"]);
    if (code !== 0) throw new Error(`Cannot build dist/: ${stderr.trim() || stdout.trim()}`);
  }
  return JSON.parse(await Deno.readTextFile(info));
}

/** Writes a seeded synthetic recording as a 16-bit WAV and returns its path. */
export async function writeSyntheticWav(
  dir: string,
  options: { kind?: SynthKind; seed?: number; sampleRate?: number; durationS?: number } = {},
): Promise<string> {
  const kind = options.kind ?? "murmur";
  const seed = options.seed ?? 7;
  const rec = synthesizeHeartSound({
    kind,
    seed,
    sampleRate: options.sampleRate ?? 4000,
    durationS: options.durationS ?? 6,
  });
  const path = `${dir}/synthetic-${kind}-${seed}.wav`;
  await Deno.writeFile(path, encodeWav({ samples: rec.samples, sampleRate: rec.sampleRate }, { bitDepth: 16 }));
  return path;
}

/** One NDJSON line of `deno run -R lib/infer.ts --json`. */
export interface CliResult {
  file: string;
  label?: string;
  labelId?: number;
  confidence?: number;
  probabilities?: Record<string, number>;
  error?: string;
}

/** Classifies files with the Deno CLI (a subprocess), as a user would. */
export async function cliClassify(paths: string[]): Promise<CliResult[]> {
  const { code, stdout, stderr } = await run(Deno.execPath(), ["run", "-R", "lib/infer.ts", "--json", ...paths]);
  if (code !== 0 && code !== 1) throw new Error(`Cannot run the CLI (exit ${code}): ${stderr.trim()}`);
  return stdout.trim().split("\n").filter((l) => l).map((l) => JSON.parse(l));
}

/** Runs `node --input-type=module -e <source>` in the repository root and parses its last stdout line as JSON. */
export async function runNodeModule(source: string, args: string[] = []): Promise<unknown> {
  const { code, stdout, stderr } = await run("node", ["--input-type=module", "-e", source, "--", ...args]);
  if (code !== 0) throw new Error(`node exited with ${code}: ${stderr.trim().split("\n").slice(-5).join(" | ")}`);
  const lines = stdout.trim().split("\n");
  return JSON.parse(lines[lines.length - 1]);
}
