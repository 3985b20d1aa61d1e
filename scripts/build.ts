/**
 * `deno task build`: bundles lib's public API (lib/mod.ts, through the small Node/bytes adapters in
 * scripts/bundle_entry.ts) into one ES module for Node.js and browsers, with its types, and builds the
 * web page's script.
 *
 * Outputs (dist/ is not committed; CI and tests build it):
 * - dist/heartbeat.js (+ .map): ES module without tfjs (the model runs in lib/forward.ts), no imports
 *   left but lazy `node:fs` for file: URLs under Node (and the unresolved lazy imports of
 *   {@linkcode NOT_BUNDLED}). `import { loadClassifier } from "./dist/heartbeat.js"`.
 * - dist/heartbeat.d.ts and dist/types/: declarations (`// @ts-self-types` points Deno at them).
 * - dist/app.js: web/app.ts, importing ./heartbeat.js.
 * - dist/worker.js: web/worker.ts, the page's classification worker, importing ./heartbeat.js.
 * - dist/cli.js: the Node.js command line (scripts/cli_entry.ts), self-contained so that its errors are the
 *   classes it checks with `instanceof`; the npm package's `bin`.
 * - dist/build-info.json: sizes (raw and gzip) of every output.
 *
 * How npm packages are bundled without a package.json: `deno info --json` lists every npm package of
 * the module graph with its folder in Deno's cache (the exact versions the Deno CLI runs, from
 * deno.lock); we link them into .cache/build/node_modules and let esbuild resolve `npm:` specifiers
 * there. So the bundle runs the very same code, at the very same versions, as `deno run lib/infer.ts`.
 * @module
 */
// Build-time tools only (never imported by lib/, so not in lib/deps.ts).
// deno-lint-ignore no-import-prefix
import * as esbuild from "npm:esbuild@0.28.2";
// deno-lint-ignore no-import-prefix
import ts from "npm:typescript@5.9.3";
import { HeartSoundError } from "../lib/errors.ts";

const ROOT = decodeURIComponent(new URL("..", import.meta.url).pathname).replace(/\/$/, "");

/** Files the build writes, relative to the repository root. */
export const OUTPUTS = {
  bundle: "dist/heartbeat.js",
  types: "dist/heartbeat.d.ts",
  app: "dist/app.js",
  worker: "dist/worker.js",
  cli: "dist/cli.js",
  info: "dist/build-info.json",
} as const;

/** Entry of the library bundle: lib/mod.ts plus the Node.js and bytes adapters. */
export const BUNDLE_ENTRY = "scripts/bundle_entry.ts";
/** Entry of the npm package's `heartbeat` command (Node.js). */
export const CLI_ENTRY = "scripts/cli_entry.ts";
/** Entry of the page's script. */
export const APP_ENTRY = "web/app.ts";
/** Entry of the page's classification worker. */
export const WORKER_ENTRY = "web/worker.ts";

/**
 * npm packages that lib/ imports only lazily for training, experiments or the optional tfjs backends, and
 * that the classifier never loads by default: their dynamic `import("npm:...")` calls are left in the bundle
 * unresolved instead of pulling megabytes of code in. tfjs is one of them: the classifier runs its model
 * with lib/forward.ts (backend "js"); in the bundle, `backend: "cpu"` or `"wasm"` fails with a ModelError.
 */
export const NOT_BUNDLED = [
  "ml-xgboost",
  "plotly.js-dist-min",
  "@tensorflow/tfjs",
  "@tensorflow/tfjs-core",
  "@tensorflow/tfjs-layers",
  "@tensorflow/tfjs-backend-cpu",
  "@tensorflow/tfjs-backend-wasm",
];

/** Size of one output file. */
export interface OutputSize {
  /** Path relative to the repository root. */
  path: string;
  /** Bytes on disk. */
  bytes: number;
  /** Bytes after gzip (default level), as a web server would send it. */
  gzipBytes: number;
}

/** What {@linkcode build} did. */
export interface BuildResult {
  outputs: OutputSize[];
  /** npm packages bundled, as name@version. */
  packages: string[];
  /** Wall time of the whole build, in milliseconds. */
  elapsedMs: number;
}

/** Options of {@linkcode build}. */
export interface BuildOptions {
  /** Minify the outputs. @default {true} */
  minify?: boolean;
  /** Also emit dist/heartbeat.d.ts and dist/types/. @default {true} */
  declarations?: boolean;
  /** Prints progress lines to stderr. @default {false} */
  verbose?: boolean;
}

interface NpmPackage {
  name: string;
  version: string;
  dependencies: string[];
  localPath: string;
}

interface DenoInfo {
  modules: { specifier: string; local?: string }[];
  redirects: Record<string, string>;
  npmPackages: Record<string, NpmPackage>;
}

async function denoInfo(entries: string[]): Promise<DenoInfo[]> {
  // `deno info` lists npm packages but does not download them; `deno cache` does (dynamic imports too).
  const cached = await new Deno.Command(Deno.execPath(), {
    args: ["cache", ...entries],
    cwd: ROOT,
    stdout: "null",
    stderr: "piped",
  }).output();
  if (!cached.success) {
    throw new HeartSoundError(`Cannot build: deno cache failed: ${new TextDecoder().decode(cached.stderr).trim()}`);
  }
  return await Promise.all(entries.map(async (entry) => {
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["info", "--json", entry],
      cwd: ROOT,
      stdout: "piped",
      stderr: "piped",
    }).output();
    if (!out.success) {
      throw new HeartSoundError(
        `Cannot build: deno info ${entry} failed: ${new TextDecoder().decode(out.stderr).trim()}`,
      );
    }
    return JSON.parse(new TextDecoder().decode(out.stdout)) as DenoInfo;
  }));
}

/** Parses `npm:@scope/name@1.2.3/sub/path` into its parts. */
export function parseNpmSpecifier(specifier: string): { name: string; version: string; subpath: string } | null {
  const m = /^npm:\/?((?:@[^/@]+\/)?[^/@]+)(?:@([^/]+))?(\/.*)?$/.exec(specifier);
  if (!m) return null;
  return { name: m[1], version: m[2] ?? "", subpath: m[3] ?? "" };
}

/**
 * Links every npm package of the graphs into `dir/node_modules` (one version per name: the one lib
 * asks for directly, else the newest), so that esbuild and TypeScript resolve them the Node way.
 */
async function linkPackages(dir: string, infos: DenoInfo[], log: (s: string) => void): Promise<string[]> {
  const direct = new Map<string, string>(); // name → version asked for by an npm: specifier
  const byName = new Map<string, NpmPackage[]>();
  for (const info of infos) {
    for (const target of Object.values(info.redirects)) {
      const p = parseNpmSpecifier(target);
      if (p && p.version) direct.set(p.name, p.version);
    }
    for (const pkg of Object.values(info.npmPackages)) {
      const list = byName.get(pkg.name) ?? [];
      if (!list.some((q) => q.version === pkg.version)) list.push(pkg);
      byName.set(pkg.name, list);
    }
  }
  await Deno.remove(`${dir}/node_modules`, { recursive: true }).catch(() => {});
  const linked: string[] = [];
  for (const [name, versions] of byName) {
    let pick = versions.find((p) => p.version === direct.get(name));
    if (!pick) pick = versions.toSorted((a, b) => compareVersions(b.version, a.version))[0];
    if (versions.length > 1 && !name.startsWith("@types/")) {
      log(`build: ${name} is needed at ${versions.map((p) => p.version).join(", ")}; linking ${pick.version}`);
    }
    try {
      await Deno.stat(`${pick.localPath}/package.json`);
    } catch {
      // Listed from deno.lock but never downloaded (e.g. another platform's optional esbuild binary);
      // if the bundle needed it, esbuild reports it as unresolved.
      log(`build: ${name}@${pick.version} is not in Deno's cache; not linked`);
      continue;
    }
    const link = `${dir}/node_modules/${name}`;
    await Deno.mkdir(link.slice(0, link.lastIndexOf("/")), { recursive: true });
    await Deno.symlink(pick.localPath, link);
    linked.push(`${name}@${pick.version}`);
  }
  return linked.sort();
}

function compareVersions(a: string, b: string): number {
  const pa = a.split(/[.-]/).map((x) => Number(x));
  const pb = b.split(/[.-]/).map((x) => Number(x));
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const d = (pa[i] || 0) - (pb[i] || 0);
    if (d !== 0) return d;
  }
  return 0;
}

function denoNpmPlugin(nodeModulesParent: string): esbuild.Plugin {
  return {
    name: "deno-npm",
    setup(b) {
      b.onResolve({ filter: /^npm:/ }, async (args) => {
        const p = parseNpmSpecifier(args.path);
        if (!p) return { errors: [{ text: `Cannot bundle: bad npm specifier "${args.path}"` }] };
        if (NOT_BUNDLED.includes(p.name)) return { path: args.path, external: true };
        const result = await b.resolve(`${p.name}${p.subpath}`, { kind: args.kind, resolveDir: nodeModulesParent });
        if (result.errors.length > 0) return { errors: result.errors };
        return { path: result.path, sideEffects: result.sideEffects };
      });
      b.onResolve({ filter: /^node:/ }, (args) => ({ path: args.path, external: true }));
    },
  };
}

/** In web/app.ts, the library is imported from source for type checking; the page loads the bundle. */
function appPlugin(): esbuild.Plugin {
  const entry = `${ROOT}/${BUNDLE_ENTRY}`;
  return {
    name: "app-uses-bundle",
    setup(b) {
      b.onResolve({ filter: /bundle_entry\.ts$/ }, (args) => {
        const resolved = new URL(args.path, `file://${args.resolveDir}/`).pathname;
        if (resolved !== entry) return undefined;
        return { path: "./heartbeat.js", external: true };
      });
    },
  };
}

async function gzipSize(bytes: Uint8Array): Promise<number> {
  const stream = new Blob([bytes as Uint8Array<ArrayBuffer>]).stream().pipeThrough(new CompressionStream("gzip"));
  return (await new Response(stream).arrayBuffer()).byteLength;
}

/** Rewrites the specifiers of an emitted declaration file so Node and tsc resolve them. */
export function rewriteDeclarationSpecifiers(text: string): string {
  return text.replace(
    /((?:from|import)\s*\(?\s*)(["'])([^"']+)\2/g,
    (whole, lead: string, quote: string, spec: string) => {
      if (/^\.\.?\//.test(spec)) return `${lead}${quote}${spec.replace(/\.ts$/, ".js")}${quote}`;
      const p = parseNpmSpecifier(spec);
      if (p) return `${lead}${quote}${p.name}${p.subpath}${quote}`;
      return whole;
    },
  );
}

/** Emits declarations for the bundle entry and everything it imports into dist/types/, via the TypeScript API. */
function emitDeclarations(nodeModulesParent: string, log: (s: string) => void): string[] {
  const options: ts.CompilerOptions = {
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.ESNext,
    moduleResolution: ts.ModuleResolutionKind.Bundler,
    allowImportingTsExtensions: true,
    declaration: true,
    emitDeclarationOnly: true,
    noCheck: true,
    skipLibCheck: true,
    strict: true,
    lib: ["lib.es2022.d.ts", "lib.dom.d.ts", "lib.dom.iterable.d.ts"],
    types: [],
    rootDir: ROOT,
    outDir: `${ROOT}/dist/types`,
  };
  const host = ts.createCompilerHost(options);
  const anchor = `${nodeModulesParent}/index.ts`;
  host.resolveModuleNameLiterals = (literals, containingFile, _redirect, opts) =>
    literals.map((literal) => {
      const p = parseNpmSpecifier(literal.text);
      const name = p ? `${p.name}${p.subpath}` : literal.text;
      return ts.resolveModuleName(name, p ? anchor : containingFile, opts, host);
    });
  const written: string[] = [];
  host.writeFile = (fileName, text) => {
    Deno.mkdirSync(fileName.slice(0, fileName.lastIndexOf("/")), { recursive: true });
    Deno.writeTextFileSync(fileName, rewriteDeclarationSpecifiers(text));
    // Declarations import each other as "./x.js" (what tsc and Node expect). Deno resolves specifiers
    // exactly, so each x.d.ts gets an empty x.js whose @ts-self-types points Deno back at x.d.ts.
    const base = fileName.slice(fileName.lastIndexOf("/") + 1).replace(/\.d\.ts$/, "");
    Deno.writeTextFileSync(fileName.replace(/\.d\.ts$/, ".js"), `// @ts-self-types="./${base}.d.ts"\n`);
    written.push(fileName);
  };
  const program = ts.createProgram([`${ROOT}/${BUNDLE_ENTRY}`], options, host);
  const result = program.emit();
  for (const d of result.diagnostics) {
    log(`build: declarations: ${ts.flattenDiagnosticMessageText(d.messageText, "\n").split("\n")[0]}`);
  }
  return written;
}

/** Builds dist/: the library bundle, its declarations and the page's script. */
export async function build(options: BuildOptions = {}): Promise<BuildResult> {
  const started = performance.now();
  const log = options.verbose ? (s: string) => console.error(s) : () => {};
  const minify = options.minify ?? true;
  const work = `${ROOT}/.cache/build`;
  await Deno.mkdir(work, { recursive: true });
  const infos = await denoInfo([BUNDLE_ENTRY, APP_ENTRY, WORKER_ENTRY, CLI_ENTRY]);
  const packages = await linkPackages(work, infos, log);
  log(`build: ${packages.length} npm packages linked from Deno's cache`);

  await Deno.remove(`${ROOT}/dist`, { recursive: true }).catch(() => {});
  const common: esbuild.BuildOptions = {
    bundle: true,
    format: "esm",
    platform: "browser",
    target: "es2022",
    minify,
    sourcemap: "linked",
    legalComments: "eof",
    preserveSymlinks: true,
    logLevel: "warning",
  };
  try {
    await esbuild.build({
      ...common,
      entryPoints: [`${ROOT}/${BUNDLE_ENTRY}`],
      outfile: `${ROOT}/${OUTPUTS.bundle}`,
      banner: { js: `// @ts-self-types="./heartbeat.d.ts"` },
      plugins: [denoNpmPlugin(work)],
    });
    await esbuild.build({
      ...common,
      entryPoints: [`${ROOT}/${APP_ENTRY}`],
      outfile: `${ROOT}/${OUTPUTS.app}`,
      plugins: [appPlugin(), denoNpmPlugin(work)],
    });
    await esbuild.build({
      ...common,
      entryPoints: [`${ROOT}/${WORKER_ENTRY}`],
      outfile: `${ROOT}/${OUTPUTS.worker}`,
      plugins: [appPlugin(), denoNpmPlugin(work)],
    });
    await esbuild.build({
      ...common,
      platform: "node",
      sourcemap: false,
      entryPoints: [`${ROOT}/${CLI_ENTRY}`],
      outfile: `${ROOT}/${OUTPUTS.cli}`,
      banner: { js: "#!/usr/bin/env node" },
      plugins: [denoNpmPlugin(work)],
    });
  } catch (error) {
    const failure = error as { errors?: esbuild.Message[] };
    const first = failure.errors?.[0];
    const where = first?.location ? ` (${first.location.file}:${first.location.line})` : "";
    throw new HeartSoundError(`Cannot build: ${first ? first.text + where : String(error)}`);
  } finally {
    await esbuild.stop();
  }
  if (options.declarations ?? true) {
    const written = emitDeclarations(work, log);
    const entryDts = `./types/${BUNDLE_ENTRY.replace(/\.ts$/, ".js")}`;
    await Deno.writeTextFile(
      `${ROOT}/${OUTPUTS.types}`,
      `// Types of heartbeat.js; the declarations of each source module are in ./types/.\nexport * from "${entryDts}";\n`,
    );
    log(`build: ${written.length} declaration files`);
  }

  const outputs: OutputSize[] = [];
  for (const path of [OUTPUTS.bundle, OUTPUTS.app, OUTPUTS.worker, OUTPUTS.cli]) {
    const bytes = await Deno.readFile(`${ROOT}/${path}`);
    outputs.push({ path, bytes: bytes.length, gzipBytes: await gzipSize(bytes) });
  }
  const result: BuildResult = { outputs, packages, elapsedMs: performance.now() - started };
  await Deno.writeTextFile(`${ROOT}/${OUTPUTS.info}`, JSON.stringify(result, null, 2) + "\n");
  return result;
}

function kib(bytes: number): string {
  return `${(bytes / 1024).toFixed(1)} KiB`;
}

if (import.meta.main) {
  const verbose = Deno.args.includes("--verbose");
  const minify = !Deno.args.includes("--no-minify");
  try {
    const result = await build({ verbose, minify });
    for (const o of result.outputs) console.log(`${o.path}  ${kib(o.bytes)}  (gzip ${kib(o.gzipBytes)})`);
    console.log(`built in ${(result.elapsedMs / 1000).toFixed(1)} s`);
  } catch (error) {
    console.error(error instanceof Error ? error.message : String(error));
    Deno.exit(1);
  }
}
