/**
 * The npm package as a new user gets it: `npm pack` of this repository, installed into an empty Node.js
 * project in a temporary folder (offline: the package has no dependencies), then used from code
 * (`import { loadClassifier } from "heartbeat"`), from TypeScript (its types resolve) and from `npx heartbeat`.
 * Skipped with a notice when Node.js ≥ 20 or npm is missing.
 */
import assert from "node:assert/strict";
import { VERSION } from "../lib/version.ts";
import { cliClassify, ensureBuilt, needsNode, ROOT } from "./_bundle.ts";

interface Ran {
  code: number;
  stdout: string;
  stderr: string;
}

async function run(cmd: string, args: string[], cwd: string): Promise<Ran> {
  const out = await new Deno.Command(cmd, { args, cwd, stdout: "piped", stderr: "piped", stdin: "null" }).output();
  return { code: out.code, stdout: new TextDecoder().decode(out.stdout), stderr: new TextDecoder().decode(out.stderr) };
}

async function ok(cmd: string, args: string[], cwd: string): Promise<string> {
  const r = await run(cmd, args, cwd);
  if (r.code !== 0) throw new Error(`${cmd} ${args.join(" ")} exited with ${r.code}: ${(r.stderr || r.stdout).trim()}`);
  return r.stdout;
}

async function needsNpm(): Promise<{ ignore: boolean }> {
  const node = await needsNode();
  if (node.ignore) return node;
  try {
    if ((await run("npm", ["--version"], ROOT)).code === 0) return { ignore: false };
  } catch { /* not on PATH */ }
  console.log("SKIP: npm not found; skipping the npm package test");
  return { ignore: true };
}

/** Uses the package as its README says, from an ES module. */
const USE_FROM_CODE = `
import { readFile } from "node:fs/promises";
import { loadClassifier } from "heartbeat";
const classifier = await loadClassifier();
const r = classifier.classifyWav(await readFile(process.argv[2]));
console.log(JSON.stringify({ label: r.label, probabilities: r.probabilities, model: r.model }));
`;

/** Type-checks against the package's declarations; the @ts-expect-error line fails if they are missing (any). */
const USE_FROM_TYPESCRIPT = `
import { type ClassifyResult, type HeartSoundClassifier, loadClassifier } from "heartbeat";
const classifier: HeartSoundClassifier = await loadClassifier();
const result: ClassifyResult = classifier.classify(new Float32Array(4000), 4000);
const rate: number | null = result.heartRateBpm;
const hash: string = result.model.hash;
// @ts-expect-error a label is a class name, not a number
const wrong: number = result.label;
console.log(rate, hash, wrong);
`;

const TSCONFIG = {
  compilerOptions: { target: "ES2022", module: "NodeNext", moduleResolution: "NodeNext", strict: true, noEmit: true },
  files: ["index.ts"],
};

Deno.test(
  "npm pack gives a package that installs, imports, type-checks and runs as npx heartbeat",
  await needsNpm(),
  async () => {
    await ensureBuilt();
    const dir = await Deno.makeTempDir({ prefix: "heartbeat-package-" });
    try {
      // pack: the bundle, its types, the CLI and the model; no sources, no source maps
      const packed = JSON.parse(
        await ok("npm", ["pack", "--ignore-scripts", "--json", "--pack-destination", dir], ROOT),
      );
      const { filename, files, size } = packed[0] as { filename: string; files: { path: string }[]; size: number };
      assert.equal(filename, `heartbeat-${VERSION}.tgz`);
      const paths = files.map((f) => f.path);
      const preprocessing = JSON.parse(await Deno.readTextFile(`${ROOT}/models/preprocessing.json`));
      const modelFiles = [
        "model.json",
        "preprocessing.json",
        ...(preprocessing.members ?? []),
        preprocessing.stack?.file,
      ]
        .filter((name) => name);
      for (const path of ["dist/heartbeat.js", "dist/heartbeat.d.ts", "dist/cli.js", "package.json"]) {
        assert.ok(paths.includes(path), `${path} is in the package`);
      }
      for (const name of modelFiles) assert.ok(paths.includes(`models/${name}`), `models/${name} is in the package`);
      assert.deepEqual(paths.filter((p) => p.endsWith(".map") || p.startsWith("lib/") || p.startsWith("tests/")), []);
      console.log(`${filename}: ${(size / 1024).toFixed(1)} KiB, ${paths.length} files`);

      // an empty Node.js project installs it (offline: no dependencies to fetch)
      const app = `${dir}/app`;
      await Deno.mkdir(app);
      await Deno.writeTextFile(`${app}/package.json`, JSON.stringify({ name: "app", private: true, type: "module" }));
      await ok("npm", ["install", "--offline", "--no-audit", "--no-fund", `../${filename}`], app);

      const wav = "node_modules/heartbeat/examples/synthetic_murmur.wav";
      const [expected] = await cliClassify([`${ROOT}/examples/synthetic_murmur.wav`]);

      // from code
      await Deno.writeTextFile(`${app}/index.mjs`, USE_FROM_CODE);
      const fromCode = JSON.parse(await ok("node", ["index.mjs", wav], app));
      assert.equal(fromCode.label, expected.label);
      assert.deepEqual(fromCode.model, (expected as unknown as { model: unknown }).model, "the same model, by hash");
      for (const [name, p] of Object.entries(expected.probabilities!)) {
        assert.ok(
          Math.abs(fromCode.probabilities[name] - p) < 1e-4,
          `${name}: ${fromCode.probabilities[name]} vs ${p}`,
        );
      }

      // from npx: the Deno CLI's line for the same file, path aside
      const line = JSON.parse(await ok("npx", ["--no-install", "heartbeat", "--json", wav], app));
      assert.deepEqual({ ...line, file: undefined }, { ...expected, file: undefined });
      const { name, version, hash } = fromCode.model;
      const versions = await ok("npx", ["--no-install", "heartbeat", "--version"], app);
      assert.equal(versions, `heartbeat ${VERSION}\nmodel ${name} ${version} ${hash}\n`);
      const usage = await run("npx", ["--no-install", "heartbeat", "--no-such-flag"], app);
      assert.equal(usage.code, 2);
      assert.equal(usage.stderr.trim(), "Cannot parse arguments: unknown option --no-such-flag");

      // from TypeScript: tsc 5.9 (the build's, from Deno's cache) resolves the types through package.json exports
      await Deno.writeTextFile(`${app}/index.ts`, USE_FROM_TYPESCRIPT);
      await Deno.writeTextFile(`${app}/tsconfig.json`, JSON.stringify(TSCONFIG));
      const tsc = await run(
        Deno.execPath(),
        ["run", "-A", "--no-config", "npm:typescript@5.9.3/bin/tsc", "-p", "."],
        app,
      );
      assert.equal(tsc.stdout.trim() + tsc.stderr.trim(), "", "tsc reports no errors");
      assert.equal(tsc.code, 0);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
);
