/**
 * notebooks/tslab-quickstart.ipynb executed headless on the tslab (Node.js) kernel into a temporary
 * folder (scripts/tslab_notebook.ts). Skipped with a notice when Jupyter or the tslab kernel is missing
 * (scripts/setup_browser.sh installs both).
 */
import assert from "node:assert/strict";
import { missingTools, runNotebook } from "../scripts/tslab_notebook.ts";
import { ensureBuilt, needsNode } from "./_bundle.ts";

async function needsTslab(): Promise<{ ignore: boolean }> {
  const node = await needsNode();
  if (node.ignore) return node;
  const missing = await missingTools();
  if (missing) {
    console.log(`SKIP: ${missing}; skipping the tslab notebook test`);
    return { ignore: true };
  }
  return { ignore: false };
}

interface Output {
  output_type: string;
  name?: string;
  text?: string | string[];
  data?: Record<string, string | string[]>;
  ename?: string;
}

const join = (x: string | string[] | undefined) => Array.isArray(x) ? x.join("") : x ?? "";

Deno.test(
  "tslab-quickstart notebook classifies a recording and plots it on the tslab kernel",
  await needsTslab(),
  async () => {
    await ensureBuilt();
    const dir = await Deno.makeTempDir({ prefix: "heartbeat-tslab-" });
    try {
      const written = await runNotebook({ outDir: dir, build: false });
      const nb = JSON.parse(await Deno.readTextFile(written));
      const outputs: Output[] = nb.cells.flatMap((c: { outputs?: Output[] }) => c.outputs ?? []);
      assert.deepEqual(outputs.filter((o) => o.output_type === "error").map((o) => o.ename), []);
      const stdout = outputs.filter((o) => o.output_type === "stream" && o.name === "stdout").map((o) => join(o.text))
        .join("");
      assert.match(stdout, /classes: normal, extrahls, murmur, extrastole/);
      assert.match(stdout, /→ (normal|extrahls|murmur|extrastole) \(label id [0124]\), confidence 0\.\d{3}/);
      const svgs = outputs.filter((o) => o.data?.["image/svg+xml"]).map((o) => join(o.data!["image/svg+xml"]));
      assert.equal(svgs.length, 2, "expected the waveform and the probability chart");
      assert.match(svgs[0], /<path d="M0 /);
      // With deno on PATH (CI), the notebook compares itself with the CLI on the same file.
      if (!stdout.includes("deno CLI not available")) assert.match(stdout, /same label: true/);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
);
