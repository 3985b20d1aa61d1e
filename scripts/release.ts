/**
 * `deno task release`: a dry run of a release. Nothing is published or tagged.
 *
 * 1. The version agrees across deno.json, package.json, lib/version.ts and the newest CHANGELOG.md section.
 * 2. The model card (models/README.md) states the shipped model's name, version and hash as the model folder has them.
 * 3. The checks and tests pass (`deno task check`, `deno task test`; skip with `--skip-tests`).
 * 4. `deno task build`, then `npm pack` into `--out` (default .cache/release/), and `deno publish --dry-run`.
 * 5. Prints the tarball's path, size and contents.
 *
 * ```sh
 * deno task release                # everything
 * deno task release --skip-tests   # versions, model card, build, pack
 * ```
 * @module
 */
import { HeartSoundError } from "../lib/errors.ts";
import { VERSION } from "../lib/version.ts";
import { UNNAMED_MODEL, UNVERSIONED_MODEL } from "../lib/model_folder.ts";
import { checkModelCard } from "./model_card.ts";

const ROOT = decodeURIComponent(new URL("..", import.meta.url).pathname).replace(/\/$/, "");

/** One disagreement found by {@linkcode checkVersions}. */
export interface VersionProblem {
  file: string;
  found: string;
}

/** The version of the newest section of a changelog (`## [x.y.z] ...`), or null when there is none. */
export function changelogVersion(text: string): string | null {
  return /^## \[(\d+\.\d+\.\d+(?:-[0-9A-Za-z.-]+)?)\]/m.exec(text)?.[1] ?? null;
}

/** Files whose version must equal `expected`: deno.json, package.json and CHANGELOG.md under `root`. */
export async function checkVersions(root: string, expected: string): Promise<VersionProblem[]> {
  const problems: VersionProblem[] = [];
  for (const file of ["deno.json", "package.json"]) {
    const found = String(JSON.parse(await Deno.readTextFile(`${root}/${file}`)).version ?? "none");
    if (found !== expected) problems.push({ file, found });
  }
  const changelog = changelogVersion(await Deno.readTextFile(`${root}/CHANGELOG.md`)) ?? "no ## [x.y.z] section";
  if (changelog !== expected) problems.push({ file: "CHANGELOG.md", found: changelog });
  return problems;
}

/** What `npm pack --json` says about the tarball. */
export interface PackResult {
  filename: string;
  /** Bytes of the .tgz. */
  size: number;
  unpackedSize: number;
  files: { path: string; size: number }[];
}

async function run(cmd: string, args: string[], options: { quiet?: boolean } = {}): Promise<string> {
  const out = await new Deno.Command(cmd, {
    args,
    cwd: ROOT,
    stdout: "piped",
    stderr: options.quiet ? "piped" : "inherit",
    stdin: "null",
  }).output();
  const stdout = new TextDecoder().decode(out.stdout);
  if (!out.success) {
    // deno test reports failures on stdout, other tools on stderr: show the end of both
    const tail = (text: string) => text.trim().split("\n").slice(-40).join("\n");
    if (options.quiet) console.error(`${tail(stdout)}\n${tail(new TextDecoder().decode(out.stderr))}`.trim());
    throw new HeartSoundError(`Cannot release: ${cmd} ${args.join(" ")} exited with ${out.code}`);
  }
  return stdout;
}

function kib(bytes: number): string {
  return `${(bytes / 1024).toFixed(1)} KiB`;
}

async function step(name: string, work: () => Promise<void>): Promise<void> {
  const started = performance.now();
  console.log(`release: ${name} ...`);
  await work();
  console.log(`release: ${name} ok (${((performance.now() - started) / 1000).toFixed(1)} s)`);
}

/** Runs the dry run; throws a HeartSoundError at the first failed step. */
export async function release(options: { skipTests?: boolean; out?: string } = {}): Promise<PackResult> {
  const out = options.out ?? `${ROOT}/.cache/release`;
  await step(`versions agree on ${VERSION}`, async () => {
    const problems = await checkVersions(ROOT, VERSION);
    if (problems.length > 0) {
      const list = problems.map((p) => `${p.file} has ${p.found}`).join(", ");
      throw new HeartSoundError(`Cannot release: lib/version.ts has ${VERSION} but ${list}`);
    }
  });
  await step("model card states the shipped model's identity", async () => {
    const { name, version, hash } = await checkModelCard(`${ROOT}/models`);
    if (name === UNNAMED_MODEL || version === UNVERSIONED_MODEL) {
      throw new HeartSoundError(
        `Cannot release: the shipped model is ${name} ${version}; set name and modelVersion in models/preprocessing.json`,
      );
    }
    console.log(`release: model ${name} ${version} ${hash}`);
  });
  if (!options.skipTests) {
    await step("deno task check", async () => void await run(Deno.execPath(), ["task", "check"]));
    await step("deno task test", async () => void await run(Deno.execPath(), ["task", "test"], { quiet: true }));
  }
  await step("build", async () => void await run(Deno.execPath(), ["run", "-A", "scripts/build.ts"]));
  let packed: PackResult | undefined;
  await step("npm pack", async () => {
    await Deno.mkdir(out, { recursive: true });
    const json = await run("npm", ["pack", "--ignore-scripts", "--json", "--pack-destination", out], { quiet: true });
    packed = (JSON.parse(json) as PackResult[])[0];
  });
  await step(
    "deno publish --dry-run",
    async () => void await run(Deno.execPath(), ["publish", "--dry-run", "--allow-dirty"], { quiet: true }),
  );
  return packed!;
}

if (import.meta.main) {
  const skipTests = Deno.args.includes("--skip-tests");
  const outAt = Deno.args.indexOf("--out");
  const out = outAt >= 0 ? Deno.args[outAt + 1] : undefined;
  try {
    const packed = await release({ skipTests, out });
    console.log(
      `\n${out ?? ".cache/release"}/${packed.filename}: ${kib(packed.size)} (unpacked ${kib(packed.unpackedSize)})`,
    );
    for (const file of packed.files.toSorted((a, b) => a.path.localeCompare(b.path))) {
      console.log(`  ${kib(file.size).padStart(10)}  ${file.path}`);
    }
    console.log(`${packed.files.length} files. Nothing was published or tagged.`);
  } catch (error) {
    console.error(error instanceof Error ? error.message.split("\n")[0] : String(error));
    Deno.exit(1);
  }
}
