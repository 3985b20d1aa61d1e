/** scripts/serve.ts (the page's static server) and the pure helpers of scripts/build.ts. */
import assert from "node:assert/strict";
import { CONTENT_SECURITY_POLICY, isLocalHost, mimeType, resolveRequestPath, serveStatic } from "../scripts/serve.ts";
import { parseNpmSpecifier, rewriteDeclarationSpecifiers } from "../scripts/build.ts";
import { ParameterError } from "../lib/errors.ts";

Deno.test("mimeType() gives the types the page and the service worker need", () => {
  assert.equal(mimeType("/web/index.html"), "text/html; charset=utf-8");
  assert.equal(mimeType("/dist/heartbeat.js"), "text/javascript; charset=utf-8");
  assert.equal(mimeType("/web/manifest.webmanifest"), "application/manifest+json; charset=utf-8");
  assert.equal(mimeType("/models/weights.bin"), "application/octet-stream");
  assert.equal(mimeType("/models/model.JSON"), "application/json; charset=utf-8");
  assert.equal(mimeType("/web/icon.svg"), "image/svg+xml");
  assert.equal(mimeType("/x/noext"), "application/octet-stream");
});

Deno.test("resolveRequestPath() serves only web/, dist/ and models/, never outside the root", () => {
  assert.equal(resolveRequestPath("/r", "/web/"), "/r/web/index.html");
  assert.equal(resolveRequestPath("/r/", "/web/app.js"), "/r/web/app.js");
  assert.equal(resolveRequestPath("/r", "/models/model.json"), "/r/models/model.json");
  assert.equal(resolveRequestPath("/r", "/dist/a%20b.js"), "/r/dist/a b.js");
  for (
    const bad of ["/", "/lib/wav.ts", "/web/../lib/wav.ts", "/web/%2e%2e/deno.json", "/.git/config", "/web/%E0%A4%A"]
  ) {
    assert.equal(resolveRequestPath("/r", bad), null, bad);
  }
});

Deno.test("serveStatic() sends files with their MIME type and 404s the rest", async () => {
  const controller = new AbortController();
  const server = serveStatic({ port: 0, signal: controller.signal });
  try {
    const base = `http://127.0.0.1:${server.port}`;
    const page = await fetch(`${base}/web/`);
    assert.equal(page.status, 200);
    assert.equal(page.headers.get("content-type"), "text/html; charset=utf-8");
    assert.match(await page.text(), /<input id="file" type="file"/);
    const manifest = await fetch(`${base}/web/manifest.webmanifest`);
    assert.equal(manifest.headers.get("content-type"), "application/manifest+json; charset=utf-8");
    assert.equal((await manifest.json()).short_name, "heartbeat");
    const root = await fetch(`${base}/`, { redirect: "manual" });
    await root.body?.cancel();
    assert.equal(root.status, 302);
    assert.equal(new URL(root.headers.get("location")!).pathname, "/web/");
    for (const path of ["/lib/wav.ts", "/web/nope.js", "/web/..%2F..%2Fdeno.json"]) {
      const response = await fetch(`${base}${path}`);
      await response.body?.cancel();
      assert.equal(response.status, 404, path);
    }
    const post = await fetch(`${base}/web/`, { method: "POST" });
    await post.body?.cancel();
    assert.equal(post.status, 405);
  } finally {
    controller.abort();
    await server.finished;
  }
});

Deno.test("serveStatic() rejects a port outside 0..65535", () => {
  assert.throws(() => serveStatic({ port: 70000 }), ParameterError);
});

Deno.test("parseNpmSpecifier() splits scoped and plain specifiers", () => {
  assert.deepEqual(parseNpmSpecifier("npm:@tensorflow/tfjs@4.22.0"), {
    name: "@tensorflow/tfjs",
    version: "4.22.0",
    subpath: "",
  });
  assert.deepEqual(parseNpmSpecifier("npm:/fft.js@4.0.4/lib/fft.js"), {
    name: "fft.js",
    version: "4.0.4",
    subpath: "/lib/fft.js",
  });
  assert.deepEqual(parseNpmSpecifier("npm:seedrandom"), { name: "seedrandom", version: "", subpath: "" });
  assert.equal(parseNpmSpecifier("./wav.ts"), null);
});

Deno.test("rewriteDeclarationSpecifiers() points .d.ts imports at .js and npm packages by name", () => {
  const dts = `import type { Waveform } from "./types.ts";
export * from "../lib/classifier.ts";
export { default as FFT } from "npm:fft.js@4.0.4";
type T = import("./wav.ts").WavAudio;`;
  assert.equal(
    rewriteDeclarationSpecifiers(dts),
    `import type { Waveform } from "./types.js";
export * from "../lib/classifier.js";
export { default as FFT } from "fft.js";
type T = import("./wav.js").WavAudio;`,
  );
});

/** Status of a GET /web/ sent over a raw connection with the given Host header (fetch sets its own). */
async function rawStatus(port: number, host: string): Promise<number> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  try {
    await conn.write(new TextEncoder().encode(`GET /web/ HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`));
    const buffer = new Uint8Array(64);
    const n = await conn.read(buffer);
    return Number(new TextDecoder().decode(buffer.subarray(0, n ?? 0)).split(" ")[1]);
  } finally {
    conn.close();
  }
}

Deno.test("serveStatic() answers only localhost, sends CSP and nosniff, and follows no symlink out of its folders", async () => {
  const root = await Deno.makeTempDir({ prefix: "heartbeat_serve_" });
  const outside = await Deno.makeTempDir({ prefix: "heartbeat_outside_" });
  await Deno.mkdir(`${root}/web`);
  await Deno.writeTextFile(`${root}/web/index.html`, "<p>page</p>");
  await Deno.writeTextFile(`${outside}/secret.txt`, "secret");
  await Deno.mkdir(`${outside}/models`);
  await Deno.writeTextFile(`${outside}/models/model.json`, "{}");
  await Deno.symlink(`${outside}/secret.txt`, `${root}/web/secret.txt`);
  await Deno.symlink(outside, `${root}/web/out`);
  await Deno.symlink(`${root}/web/index.html`, `${root}/web/alias.html`);
  await Deno.symlink(`${outside}/models`, `${root}/models`); // a served folder that is itself a link is fine
  const controller = new AbortController();
  const server = serveStatic({ port: 0, root, signal: controller.signal });
  const base = `http://127.0.0.1:${server.port}`;
  const get = async (path: string) => {
    const response = await fetch(`${base}${path}`, { redirect: "manual" });
    return { response, text: await response.text() };
  };
  try {
    for (const path of ["/web/", "/web/alias.html", "/models/model.json"]) {
      const { response } = await get(path);
      assert.equal(response.status, 200, path);
      assert.equal(response.headers.get("x-content-type-options"), "nosniff");
      assert.equal(response.headers.get("content-security-policy"), CONTENT_SECURITY_POLICY);
    }
    for (const path of ["/web/secret.txt", "/web/out/secret.txt"]) {
      const { response, text } = await get(path);
      assert.equal(response.status, 404, path);
      assert.doesNotMatch(text, /secret/);
      assert.equal(response.headers.get("x-content-type-options"), "nosniff");
    }
    const redirect = await get("/");
    assert.equal(redirect.response.status, 302);
    assert.equal(redirect.response.headers.get("content-security-policy"), CONTENT_SECURITY_POLICY);
    for (const host of [`localhost:${server.port}`, `[::1]:${server.port}`, "127.0.0.1"]) {
      assert.equal(await rawStatus(server.port, host), 200, host);
    }
    for (const host of ["evil.example", `evil.example:${server.port}`, "127.0.0.1.evil.example"]) {
      assert.equal(await rawStatus(server.port, host), 421, host);
    }
  } finally {
    controller.abort();
    await server.finished;
    await Deno.remove(root, { recursive: true });
    await Deno.remove(outside, { recursive: true });
  }
});

Deno.test("serveStatic({ modelDir }) serves that folder as /models/ and no symlink out of it", async () => {
  const root = await Deno.makeTempDir({ prefix: "heartbeat_serve_" });
  const modelDir = await Deno.makeTempDir({ prefix: "heartbeat_model_dir_" });
  await Deno.writeTextFile(`${modelDir}/model.json`, '{"own": true}');
  await Deno.writeTextFile(`${root}/secret.txt`, "secret");
  await Deno.symlink(`${root}/secret.txt`, `${modelDir}/weights.bin`);
  const controller = new AbortController();
  const server = serveStatic({ port: 0, root, modelDir, signal: controller.signal });
  try {
    const own = await fetch(`http://127.0.0.1:${server.port}/models/model.json`);
    assert.equal(own.status, 200);
    assert.deepEqual(await own.json(), { own: true });
    const link = await fetch(`http://127.0.0.1:${server.port}/models/weights.bin`);
    assert.equal(link.status, 404);
    assert.doesNotMatch(await link.text(), /secret/);
  } finally {
    controller.abort();
    await server.finished;
    await Deno.remove(root, { recursive: true });
    await Deno.remove(modelDir, { recursive: true });
  }
});

Deno.test("isLocalHost() accepts only loopback names", () => {
  for (const host of ["localhost", "LOCALHOST:8000", "127.0.0.1:1", "[::1]:8000"]) assert.ok(isLocalHost(host), host);
  for (const host of [null, "", "example.com", "127.0.0.2", "localhost.example.com", "[::2]"]) {
    assert.ok(!isLocalHost(host), String(host));
  }
});
