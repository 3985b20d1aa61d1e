/** Version agreement that `deno task release` checks, on this repository and on a folder with a mismatch. */
import assert from "node:assert/strict";
import { changelogVersion, checkVersions } from "../scripts/release.ts";
import { VERSION } from "../lib/version.ts";
import { ROOT } from "./_bundle.ts";

Deno.test("changelogVersion reads the newest section's version", () => {
  assert.equal(
    changelogVersion("# Changelog\n\nintro\n\n## [1.2.3] - Unreleased\n\n## [1.2.2] - 2026-01-01\n"),
    "1.2.3",
  );
  assert.equal(changelogVersion("## [2.0.0-rc.1]\n"), "2.0.0-rc.1");
  assert.equal(changelogVersion("# Changelog\n### [1.0.0]\n"), null);
});

Deno.test("checkVersions: this repository agrees on lib/version.ts's version", async () => {
  assert.deepEqual(await checkVersions(ROOT, VERSION), []);
});

Deno.test("checkVersions names every file that disagrees", async () => {
  const dir = await Deno.makeTempDir({ prefix: "heartbeat-release-" });
  try {
    await Deno.writeTextFile(`${dir}/deno.json`, JSON.stringify({ version: "1.0.0" }));
    await Deno.writeTextFile(`${dir}/package.json`, JSON.stringify({ version: "0.9.0" }));
    await Deno.writeTextFile(`${dir}/CHANGELOG.md`, "# Changelog\n\n## [0.9.0]\n");
    assert.deepEqual(await checkVersions(dir, "1.0.0"), [
      { file: "package.json", found: "0.9.0" },
      { file: "CHANGELOG.md", found: "0.9.0" },
    ]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
