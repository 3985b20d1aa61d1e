// Drives the web page in Debian's headless Chromium through playwright-core (Node.js), for
// tests/web_e2e_test.ts. Not a test file itself: the Deno test serves the page, runs this script and
// checks what it prints (one JSON object on stdout).
//
//   node tests/web_e2e_driver.mjs <pageUrl> <wavPath> <screenshotPath> [micWavPath [irregularWavPath reportPath]]
//
// Besides classifying, it reads the timeline strip and the early-beat marks, the screen-reader texts, the error for
// a file that is not audio, downloads the report (reportPath) and opens it offline, and runs axe-core
// (.cache/tools/node_modules/axe-core) on the page with a result and on the report.
//
// Protocol: after the online checks it prints {"phase":"stop-server"} and waits for a line on stdin
// (the caller stops the HTTP server, then answers); its last stdout line is the JSON report.
//
// playwright-core is resolved from .cache/tools (scripts/setup_browser.sh) or PLAYWRIGHT_CORE.
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";

const [pageUrl, wavPath, screenshotPath, micWavPath, irregularWavPath, reportPath] = process.argv.slice(2);
if (!pageUrl || !wavPath || !screenshotPath) {
  console.error("Usage: node tests/web_e2e_driver.mjs <pageUrl> <wavPath> <screenshotPath> [micWavPath]");
  process.exit(2);
}

const toolsDir = fileURLToPath(new URL("../.cache/tools/", import.meta.url));
const require = createRequire(toolsDir);
const { chromium } = require(process.env.PLAYWRIGHT_CORE ?? "playwright-core");
const AXE_SOURCE = (await import("node:fs")).readFileSync(require.resolve("axe-core/axe.min.js"), "utf8");

/** A mono 16-bit PCM WAV of a 50 Hz sine: `frames` samples at `sampleRate` Hz. */
function pcm16Wav(sampleRate, frames) {
  const b = Buffer.alloc(44 + 2 * frames);
  b.write("RIFF", 0);
  b.writeUInt32LE(36 + 2 * frames, 4);
  b.write("WAVEfmt ", 8);
  b.writeUInt32LE(16, 16);
  b.writeUInt16LE(1, 20); // PCM
  b.writeUInt16LE(1, 22); // mono
  b.writeUInt32LE(sampleRate, 24);
  b.writeUInt32LE(2 * sampleRate, 28);
  b.writeUInt16LE(2, 32);
  b.writeUInt16LE(16, 34);
  b.write("data", 36);
  b.writeUInt32LE(2 * frames, 40);
  for (let i = 0; i < frames; i++) {
    b.writeInt16LE(Math.round(8000 * Math.sin((2 * Math.PI * 50 * i) / sampleRate)), 44 + 2 * i);
  }
  return b;
}

/** Runs axe-core in the page (injected through evaluate, so a Content-Security-Policy does not stop it). */
async function audit(page) {
  await page.evaluate(AXE_SOURCE);
  return await page.evaluate(async () => {
    const results = await globalThis.axe.run(document, { resultTypes: ["violations"] });
    return results.violations.map((v) => ({
      id: v.id,
      impact: v.impact,
      help: v.help,
      nodes: v.nodes.length,
      target: v.nodes[0]?.target.join(" "),
    }));
  });
}

const CHROMIUM_ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-background-networking",
  "--disable-component-update",
  "--no-first-run",
  "--disable-sync",
  "--disable-quic",
];
const TIMEOUT_MS = 120_000;

/** Resolves with the next line on stdin. */
function readLine() {
  return new Promise((resolve) => {
    let text = "";
    const onData = (chunk) => {
      text += chunk;
      if (!text.includes("\n")) return;
      process.stdin.off("data", onData);
      process.stdin.destroy(); // or the open pipe would keep Node running
      resolve(text.slice(0, text.indexOf("\n")));
    };
    process.stdin.setEncoding("utf8");
    process.stdin.on("data", onData);
    process.stdin.resume();
  });
}

/** Reads what the page shows about the last classification. */
async function readResult(page) {
  return await page.evaluate(() => {
    const section = document.getElementById("result");
    const rows = [...document.querySelectorAll("#probabilities tr")];
    return {
      state: section.dataset.state ?? null,
      label: section.dataset.label ?? null,
      labelText: document.getElementById("label").textContent,
      labelId: section.dataset.labelId === undefined ? null : Number(section.dataset.labelId),
      probabilities: Object.fromEntries(rows.map((r) => [r.dataset.label, Number(r.dataset.probability)])),
      heartRate: document.getElementById("bpm").textContent,
      pageMs: Number(document.getElementById("timing").dataset.ms),
      error: document.getElementById("error").hidden ? null : document.getElementById("error").textContent,
      status: document.getElementById("status").textContent,
      fileChosen: document.getElementById("file-chosen").textContent,
      timeline: JSON.parse(section.dataset.timeline ?? "[]"),
      earlyBeats: JSON.parse(section.dataset.earlyBeats ?? "[]"),
      stripLabels: [...document.querySelectorAll("#figure rect[data-window]")].map((r) => r.dataset.label),
      earlyMarks: document.querySelectorAll("#figure .early path").length,
      s1Marks: document.querySelectorAll("#figure .s1 line").length,
      figureRole: document.querySelector("#figure svg")?.getAttribute("role") ?? null,
      figureLabel: document.querySelector("#figure svg")?.getAttribute("aria-label") ?? "",
      tableHeaders: document.querySelectorAll("#probabilities th").length,
      emptyLists: [...document.querySelectorAll("ul, ol")].filter((l) =>
        l.children.length === 0 && !l.closest("[hidden]")
      )
        .map((l) => l.id),
    };
  });
}

/** Chooses the file and waits for the result; returns the result with the wall time seen from here. */
async function classifyThroughInput(page, path) {
  await page.evaluate(() => {
    document.getElementById("result").dataset.state = "waiting";
  });
  const started = performance.now();
  await page.setInputFiles("#file", path);
  await page.waitForSelector('#result[data-state="done"], #result[data-state="error"]', {
    state: "attached",
    timeout: TIMEOUT_MS,
  });
  const wallMs = performance.now() - started;
  return { ...(await readResult(page)), wallMs };
}

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
  headless: true,
  args: micWavPath
    ? [
      ...CHROMIUM_ARGS,
      "--use-fake-ui-for-media-stream",
      "--use-fake-device-for-media-stream",
      `--use-file-for-fake-audio-capture=${micWavPath}`,
    ]
    : CHROMIUM_ARGS,
});
const report = { consoleErrors: [] };
try {
  const context = await browser.newContext({ viewport: { width: 1000, height: 1000 }, deviceScaleFactor: 1 });
  const page = await context.newPage();
  page.on("console", (msg) => {
    if (msg.type() === "error") report.consoleErrors.push(msg.text());
  });
  page.on("pageerror", (error) => report.consoleErrors.push(String(error)));

  const loadStarted = performance.now();
  await page.goto(pageUrl);
  await page.waitForSelector('body[data-model="ready"], body[data-model="error"]', {
    state: "attached",
    timeout: TIMEOUT_MS,
  });
  report.modelReadyMs = performance.now() - loadStarted;
  report.modelState = await page.evaluate(() => document.body.dataset.model);
  report.pageModelMs = await page.evaluate(() => Number(document.body.dataset.modelMs));

  report.first = await classifyThroughInput(page, wavPath);
  // Warm: the time a user sees for every file after the first (median of five).
  const warm = [];
  for (let i = 0; i < 5; i++) warm.push(await classifyThroughInput(page, wavPath));
  const median = (xs) => xs.toSorted((a, b) => a - b)[Math.floor(xs.length / 2)];
  report.second = {
    ...warm[warm.length - 1],
    wallMs: median(warm.map((r) => r.wallMs)),
    pageMs: median(warm.map((r) => r.pageMs)),
  };
  report.axePage = await audit(page);
  await page.emulateMedia({ colorScheme: "dark" }); // the page's dark colours must keep their contrast too
  report.axeDark = await audit(page);
  await page.emulateMedia({ colorScheme: "light" });

  if (!irregularWavPath) await page.screenshot({ path: screenshotPath, fullPage: true });
  if (irregularWavPath) {
    report.irregular = await classifyThroughInput(page, irregularWavPath);
    await page.screenshot({ path: screenshotPath, fullPage: true }); // early beats marked
    const [download] = await Promise.all([page.waitForEvent("download"), page.click("#download-report")]);
    report.reportName = download.suggestedFilename();
    await download.saveAs(reportPath);
    // The report alone, offline: it must render with no request at all and pass the same audit.
    const reportPage = await context.newPage();
    const requests = [];
    reportPage.on("request", (request) => requests.push(request.url()));
    await reportPage.goto(`file://${reportPath}`);
    report.reportRequests = requests.filter((url) => !url.startsWith("file://"));
    report.reportEarlyMarks = await reportPage.evaluate(() => document.querySelectorAll(".early path").length);
    report.reportWindows = await reportPage.evaluate(() => document.querySelectorAll("rect[data-window]").length);
    report.axeReport = await audit(reportPage);
    await reportPage.close();
    // A file that is not audio: the error names it and says what is expected.
    await page.evaluate(() => {
      document.getElementById("result").dataset.state = "waiting";
    });
    await page.setInputFiles("#file", {
      name: "notes.txt",
      mimeType: "text/plain",
      buffer: Buffer.from("not a recording\n"),
    });
    await page.waitForSelector('#result[data-state="error"]', { state: "attached", timeout: TIMEOUT_MS });
    report.notAudioError = await page.evaluate(() => document.getElementById("error").textContent);
    // The CLI's limits hold in the page's worker: a 500 Hz recording is refused, naming the file.
    await page.evaluate(() => {
      document.getElementById("result").dataset.state = "waiting";
    });
    await page.setInputFiles("#file", { name: "low-rate.wav", mimeType: "audio/wav", buffer: pcm16Wav(500, 1000) });
    await page.waitForSelector('#result[data-state="error"]', { state: "attached", timeout: TIMEOUT_MS });
    report.lowRateError = await page.evaluate(() => document.getElementById("error").textContent);
    report.axeError = await audit(page);
  }

  if (micWavPath) {
    // The fake microphone plays micWavPath; record about 4 s and classify.
    await page.click("#record");
    await page.waitForTimeout(4000);
    await page.evaluate(() => {
      document.getElementById("result").dataset.state = "waiting";
    });
    await page.click("#record");
    await page.waitForSelector('#result[data-state="done"], #result[data-state="error"]', {
      state: "attached",
      timeout: TIMEOUT_MS,
    });
    report.microphone = await readResult(page);
  }

  // Offline: once the service worker is active, ask the caller to stop the server (a line on stdout,
  // answered by a line on stdin), then reload and classify again from the service worker's cache.
  await page.waitForSelector('body[data-offline="ready"]', { state: "attached", timeout: TIMEOUT_MS });
  console.log(JSON.stringify({ phase: "stop-server" }));
  await readLine();
  report.serverReachableOffline = await fetch(pageUrl).then(() => true, () => false);
  await context.setOffline(true);
  await page.reload();
  await page.waitForSelector('body[data-model="ready"], body[data-model="error"]', {
    state: "attached",
    timeout: TIMEOUT_MS,
  });
  report.offline = await classifyThroughInput(page, wavPath);
} finally {
  await browser.close();
}
console.log(JSON.stringify(report));
