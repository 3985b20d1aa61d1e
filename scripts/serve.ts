/**
 * Static server for the web page: serves web/, dist/ and models/ of the repository on 127.0.0.1,
 * with the layout the page expects (web/index.html loads ../dist/app.js and ../models/model.json).
 *
 * ```sh
 * deno task build && deno task serve            # http://127.0.0.1:8000/web/
 * deno run -R -N scripts/serve.ts --port 0      # any free port; the URL is printed
 * deno task serve --model /tmp/my-model         # the page with another model folder as models/
 * ```
 *
 * No server-side logic: every file is sent as it is on disk, so any static host (GitHub Pages, a
 * phone's local web server, `npx serve`) that keeps these three folders side by side works too.
 * Being a server on the user's machine, it answers only requests addressed to localhost (a web page elsewhere cannot
 * reach it through DNS rebinding), serves no file that a symlink places outside its folders, and sends a content
 * security policy and `nosniff` with every response.
 * @module
 */
import { ParameterError } from "../lib/errors.ts";

/** Folders of the repository that are served; anything else is 404. */
export const SERVED_FOLDERS: readonly string[] = ["web", "dist", "models"];

/** MIME types by file extension (lower case, without the dot). */
export const MIME_TYPES: Readonly<Record<string, string>> = {
  html: "text/html; charset=utf-8",
  js: "text/javascript; charset=utf-8",
  mjs: "text/javascript; charset=utf-8",
  map: "application/json; charset=utf-8",
  css: "text/css; charset=utf-8",
  json: "application/json; charset=utf-8",
  webmanifest: "application/manifest+json; charset=utf-8",
  bin: "application/octet-stream",
  wasm: "application/wasm",
  wav: "audio/wav",
  png: "image/png",
  svg: "image/svg+xml",
  ico: "image/x-icon",
  txt: "text/plain; charset=utf-8",
  md: "text/markdown; charset=utf-8",
  ts: "text/plain; charset=utf-8",
};

/** The page's content security policy: its own scripts, styles, model files and wasm (the resampler and forward
 * kernels are compiled from bytes, hence 'wasm-unsafe-eval'); recordings as blob: URLs; nothing inline, no frames. */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self' 'wasm-unsafe-eval'",
  "worker-src 'self'",
  "style-src 'self'",
  "img-src 'self' data: blob:",
  "media-src 'self' blob:",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join("; ");

/** Headers sent with every response. */
const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  "content-security-policy": CONTENT_SECURITY_POLICY,
  "x-content-type-options": "nosniff",
  "referrer-policy": "no-referrer",
};

/** True when a Host header names this machine's loopback (localhost, 127.0.0.1, [::1]), with any port. */
export function isLocalHost(host: string | null): boolean {
  if (host === null) return false;
  const name = host.toLowerCase().replace(/:\d+$/, "");
  return name === "localhost" || name === "127.0.0.1" || name === "[::1]";
}

/** Options of {@linkcode serveStatic}. */
export interface ServeOptions {
  /** TCP port on 127.0.0.1; 0 picks a free one. @default {8000} */
  port?: number;
  /** Repository root whose {@linkcode SERVED_FOLDERS} are served. @default the folder above scripts/ */
  root?: string | URL;
  /** A model folder served as /models/ instead of the repository's (e.g. one `deno task train --out` wrote). */
  modelDir?: string;
  /** Called once the server listens, with the page's URL. */
  onListen?: (pageUrl: string) => void;
  /** Stops the server when aborted. */
  signal?: AbortSignal;
  /** Called with every request the server answers (tests use it to see that nothing reached the network). */
  onRequest?: (request: Request) => void;
}

/** A running static server. */
export interface StaticServer {
  /** Port it listens on. */
  port: number;
  /** URL of the web page, e.g. `http://127.0.0.1:8000/web/`. */
  pageUrl: string;
  /** Resolves when the server has stopped. */
  finished: Promise<void>;
  /** Stops the server. */
  shutdown(): Promise<void>;
}

/** The MIME type for a path by its extension; `application/octet-stream` when unknown. */
export function mimeType(path: string): string {
  const dot = path.lastIndexOf(".");
  const ext = dot < 0 ? "" : path.slice(dot + 1).toLowerCase();
  return MIME_TYPES[ext] ?? "application/octet-stream";
}

/** Maps a request path to a file path under `root`, or null when it is outside the served folders. */
export function resolveRequestPath(root: string, pathname: string): string | null {
  let decoded: string;
  try {
    decoded = decodeURIComponent(pathname);
  } catch {
    return null;
  }
  const parts = decoded.split("/").filter((p) => p !== "" && p !== ".");
  if (parts.some((p) => p === ".." || p.includes("\\") || p.includes("\0"))) return null;
  if (parts.length === 0 || !SERVED_FOLDERS.includes(parts[0])) return null;
  if (pathname.endsWith("/") || parts.length === 1) parts.push("index.html");
  return `${root.replace(/\/$/, "")}/${parts.join("/")}`;
}

/** The real (symlink-free) path of `path` when it lies inside the real path of `folder`, else null. */
async function containedRealPath(folder: string, path: string): Promise<string | null> {
  try {
    const [real, realFolder] = await Promise.all([Deno.realPath(path), Deno.realPath(folder)]);
    return real.startsWith(`${realFolder}/`) ? real : null;
  } catch {
    return null;
  }
}

async function respond(root: string, request: Request, modelDir?: string): Promise<Response> {
  const response = await respondTo(root, request, modelDir);
  const headers = new Headers(response.headers); // a redirect's own headers are immutable
  for (const [name, value] of Object.entries(SECURITY_HEADERS)) headers.set(name, value);
  return new Response(response.body, { status: response.status, headers });
}

async function respondTo(root: string, request: Request, modelDir?: string): Promise<Response> {
  if (!isLocalHost(request.headers.get("host"))) {
    return new Response("Misdirected request: this server answers only localhost\n", { status: 421 });
  }
  if (request.method !== "GET" && request.method !== "HEAD") {
    return new Response("Method not allowed\n", { status: 405, headers: { allow: "GET, HEAD" } });
  }
  const url = new URL(request.url);
  if (url.pathname === "/" || url.pathname === "/index.html") return Response.redirect(new URL("/web/", url), 302);
  if (url.pathname === "/web") return Response.redirect(new URL("/web/", url), 301);
  let requested = resolveRequestPath(root, url.pathname);
  if (requested === null) return new Response("Not found\n", { status: 404 });
  const base = root.replace(/\/$/, "");
  let folder = `${base}/${requested.slice(base.length + 1).split("/")[0]}`;
  if (modelDir && requested.startsWith(`${base}/models/`)) {
    folder = modelDir.replace(/\/$/, "");
    requested = `${folder}/${requested.slice(`${base}/models/`.length)}`;
  }
  const path = await containedRealPath(folder, requested);
  if (path === null) return new Response("Not found\n", { status: 404 });
  let file: Deno.FsFile;
  try {
    file = await Deno.open(path, { read: true });
  } catch {
    return new Response("Not found\n", { status: 404 });
  }
  const info = await file.stat();
  if (!info.isFile) {
    file.close();
    return new Response("Not found\n", { status: 404 });
  }
  const headers = new Headers({
    "content-type": mimeType(path),
    "content-length": String(info.size),
    // The service worker keeps its own cache; the server asks browsers to revalidate so rebuilds show up.
    "cache-control": "no-cache",
  });
  if (request.method === "HEAD") {
    file.close();
    return new Response(null, { headers });
  }
  return new Response(file.readable, { headers });
}

/**
 * Serves the page on 127.0.0.1 until `options.signal` aborts or `shutdown()` is called.
 * @throws {ParameterError} `port` is not an integer in 0..65535.
 */
export function serveStatic(options: ServeOptions = {}): StaticServer {
  const port = options.port ?? 8000;
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new ParameterError(`Cannot serve: port is ${port}, expected an integer in 0..65535`);
  }
  const rootUrl = options.root ?? new URL("..", import.meta.url);
  const root = rootUrl instanceof URL || rootUrl.startsWith("file:")
    ? decodeURIComponent(new URL(rootUrl).pathname)
    : rootUrl;
  let pageUrl = "";
  const server = Deno.serve({
    hostname: "127.0.0.1",
    port,
    signal: options.signal,
    onListen: (addr) => {
      pageUrl = `http://127.0.0.1:${addr.port}/web/`;
      options.onListen?.(pageUrl);
    },
  }, (request) => {
    options.onRequest?.(request);
    return respond(root, request, options.modelDir);
  });
  const actualPort = server.addr.port;
  pageUrl = `http://127.0.0.1:${actualPort}/web/`;
  return { port: actualPort, pageUrl, finished: server.finished, shutdown: () => server.shutdown() };
}

async function main(args: string[]): Promise<number> {
  let port = 8000;
  let modelDir: string | undefined;
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    if (arg === "--help" || arg === "-h") {
      console.log(
        "Usage: deno task serve [--port N] [--model DIR]   (serves web/, dist/, models/ or DIR as models/, on 127.0.0.1)",
      );
      return 0;
    } else if (arg === "--model" && i + 1 < args.length) {
      modelDir = args[++i];
    } else if (arg === "--port" && i + 1 < args.length) {
      port = Number(args[++i]);
    } else if (arg.startsWith("--port=")) {
      port = Number(arg.slice("--port=".length));
    } else {
      console.error(`Cannot serve: unknown argument "${arg}" (try --help)`);
      return 2;
    }
  }
  try {
    await Deno.stat(new URL("../dist/app.js", import.meta.url));
  } catch {
    console.error("serve: dist/app.js is missing; run `deno task build` first (the page will not work without it)");
  }
  try {
    if (modelDir !== undefined && !(await Deno.stat(`${modelDir}/model.json`).catch(() => null))?.isFile) {
      console.error(`Cannot serve: "${modelDir}" has no model.json`);
      return 2;
    }
    const server = serveStatic({
      port,
      modelDir,
      onListen: (url) => console.log(`Serving the heartbeat page at ${url}`),
    });
    await server.finished;
    return 0;
  } catch (error) {
    console.error(error instanceof Error ? error.message : String(error));
    return 2;
  }
}

if (import.meta.main) Deno.exit(await main(Deno.args));
