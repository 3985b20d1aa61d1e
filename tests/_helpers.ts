/** Shared test helpers: tolerant comparisons and access to the real dataset when present. */
import assert from "node:assert/strict";
import { findDataDir } from "../lib/data.ts";

/** Asserts |actual − expected| ≤ tolerance. */
export function assertAlmostEquals(actual: number, expected: number, tolerance = 1e-7, message = ""): void {
  assert.ok(
    Math.abs(actual - expected) <= tolerance,
    `${message}${message ? ": " : ""}expected ${expected} ± ${tolerance}, got ${actual}`,
  );
}

/** Asserts element-wise |a − b| ≤ atol + rtol·|b| and equal lengths. */
export function assertAllClose(
  actual: ArrayLike<number>,
  expected: ArrayLike<number>,
  atol = 1e-9,
  rtol = 0,
): void {
  assert.equal(actual.length, expected.length, "lengths differ");
  for (let i = 0; i < actual.length; i++) {
    const tol = atol + rtol * Math.abs(expected[i]);
    if (!(Math.abs(actual[i] - expected[i]) <= tol)) {
      assert.fail(`element ${i}: expected ${expected[i]} ± ${tol}, got ${actual[i]}`);
    }
  }
}

/** The real data by lib/data.ts findDataDir's rule (HEARTBEAT_DATA, else data/); "" when absent. */
export const DATA_DIR: string = findDataDir() ?? "";

/** The original project's golden outputs. */
export const FIXTURES_DIR: string = new URL("../../shared/fixtures/seed-reference", import.meta.url).pathname;

function exists(path: string): boolean {
  try {
    Deno.statSync(path);
    return true;
  } catch {
    return false;
  }
}

/** True when the real dataset is present; prints a visible skip notice once per reason otherwise. */
export const HAS_DATA: boolean = exists(`${DATA_DIR}/set_a`) && exists(`${DATA_DIR}/set_b`);
export const HAS_FIXTURES: boolean = exists(`${FIXTURES_DIR}/features/index.json`);

const announced = new Set<string>();
/**
 * Options for a Deno.test that needs the real data (and, with `file`, that file of the data folder, e.g. our
 * labels.csv, which a Kaggle download lacks); logs why it is skipped when absent.
 */
export function needsData(what = "real dataset", file?: string): { ignore: boolean } {
  const ok = (what === "fixtures" ? HAS_FIXTURES && HAS_DATA : HAS_DATA) &&
    (file === undefined || exists(`${DATA_DIR}/${file}`));
  if (!ok && !announced.has(what)) {
    announced.add(what);
    console.log(
      `SKIP: ${what} not found (put the dataset in data/ or set HEARTBEAT_DATA); skipping tests that need it`,
    );
  }
  return { ignore: !ok };
}

/** The repository's root folder. */
export const REPO_ROOT: string = decodeURIComponent(new URL("..", import.meta.url).pathname).replace(/\/$/, "");

/** `git status --porcelain` of the checkout, or null outside a git clone (a test compares it before and after). */
export async function gitStatus(): Promise<string | null> {
  try {
    const out = await new Deno.Command("git", { args: ["status", "--porcelain"], cwd: REPO_ROOT, stdout: "piped" })
      .output();
    return out.success ? new TextDecoder().decode(out.stdout) : null;
  } catch {
    return null;
  }
}
