/**
 * lib/ imported by URL with no import map, pinned to a version as the README shows: a local HTTP server
 * serves the repository under /v<version>/ (as a tag would be), and a script in a temporary folder (no
 * deno.json) imports http://127.0.0.1:<port>/v<version>/lib/infer.ts, loads the default model relative to
 * that URL and classifies a synthetic recording, naming the same model (hash) as a local import.
 */
import assert from "node:assert/strict";
import { loadClassifier } from "../lib/infer.ts";
import { synthesizeHeartSound } from "../lib/synth.ts";
import { assertAlmostEquals } from "./_helpers.ts";
import { ROOT } from "./_infer_fixtures.ts";
import { VERSION } from "../lib/version.ts";

/** Where the server puts the repository, as a tag's URL would. */
const PINNED = `/v${VERSION}`;

const CONTENT_TYPES: Record<string, string> = {
  ts: "application/typescript; charset=utf-8",
  js: "text/javascript; charset=utf-8",
  json: "application/json",
  bin: "application/octet-stream",
  wav: "audio/wav",
};

/** Serves the repository read-only; records every requested path. */
function serveRepository(requested: string[]): Deno.HttpServer<Deno.NetAddr> {
  return Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, async (request) => {
    const url = decodeURIComponent(new URL(request.url).pathname);
    if (!url.startsWith(`${PINNED}/`)) return new Response("not found", { status: 404 });
    const path = url.slice(PINNED.length);
    requested.push(path);
    if (path.includes("..")) return new Response("bad path", { status: 400 });
    try {
      const body = await Deno.readFile(`${ROOT}${path}`);
      const type = CONTENT_TYPES[path.split(".").pop() ?? ""] ?? "application/octet-stream";
      return new Response(body, { headers: { "content-type": type } });
    } catch {
      return new Response("not found", { status: 404 });
    }
  });
}

Deno.test("lib/infer.ts imported by http:// URL classifies with the default model found next to it", async () => {
  const requested: string[] = [];
  const server = serveRepository(requested);
  const dir = await Deno.makeTempDir({ prefix: "heartbeat_url_" });
  try {
    const origin = `http://127.0.0.1:${server.addr.port}${PINNED}`;
    await Deno.writeTextFile(
      `${dir}/main.ts`,
      `import { loadClassifier } from "${origin}/lib/infer.ts";
import { synthesizeHeartSound } from "${origin}/lib/synth.ts";
const rec = synthesizeHeartSound({ seed: 9, kind: "murmur", durationS: 5 });
const classifier = await loadClassifier();
const result = classifier.classify(rec.samples, rec.sampleRate);
console.log(JSON.stringify({ modelUrl: classifier.modelUrl, ...result }));
`,
    );
    const out = await new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "--no-lock",
        `--allow-net=127.0.0.1:${server.addr.port}`,
        `--allow-import=127.0.0.1:${server.addr.port}`,
        "main.ts",
      ],
      cwd: dir,
      stdout: "piped",
      stderr: "piped",
      env: { NO_COLOR: "1" },
    }).output();
    const stderr = new TextDecoder().decode(out.stderr);
    assert.equal(out.code, 0, stderr);
    const remote = JSON.parse(new TextDecoder().decode(out.stdout));
    assert.equal(remote.modelUrl, `${origin}/models/model.json`);
    assert.ok(requested.includes("/lib/infer.ts") && requested.includes("/lib/classifier.ts"));
    assert.ok(requested.includes("/models/model.json") && requested.includes("/models/preprocessing.json"));

    // the same recording classified locally gives the same answer
    const rec = synthesizeHeartSound({ seed: 9, kind: "murmur", durationS: 5 });
    const local = (await loadClassifier()).classify(rec.samples, rec.sampleRate);
    assert.equal(remote.label, local.label);
    for (const [c, p] of Object.entries(local.probabilities)) assertAlmostEquals(remote.probabilities[c], p, 1e-6, c);
    assert.equal(remote.heartRateBpm, local.heartRateBpm);
    assert.deepEqual(remote.model, local.model);
  } finally {
    await server.shutdown();
    await Deno.remove(dir, { recursive: true });
  }
});
