/**
 * End-to-end test of the web page in a real browser: serves web/ + dist/ + models/ on 127.0.0.1, drives
 * Debian's headless Chromium with playwright-core (tests/web_e2e_driver.mjs, under Node.js), loads a
 * synthetic WAV through the file input and checks the page's answer against the Deno CLI's for the same
 * file; checks the timeline strip and the early-beat marks against the module's result, the screen-reader texts,
 * the error for a file that is not audio, the downloaded report (self-contained, opened offline), and runs the axe-core
 * accessibility audit on the page and on the report (no serious or critical violation); then records from a fake
 * microphone, and classifies once more offline (server stopped, service worker cache). Saves .cache/artifacts/web.png (and docs/web.png with UPDATE_SCREENSHOT=1) and
 * .cache/artifacts/web-timing.json. Skipped with a notice when Chromium or playwright-core is missing
 * (scripts/setup_browser.sh installs both).
 */
import assert from "node:assert/strict";
import { serveStatic } from "../scripts/serve.ts";
import { assertAlmostEquals } from "./_helpers.ts";
import { loadClassifier } from "../lib/classifier.ts";
import { encodeWav } from "../lib/wav.ts";
import { synthesizeHeartSound } from "../lib/synth.ts";
import { NOT_A_MEDICAL_DEVICE } from "../lib/html_report.ts";
import { displayName } from "../lib/classes.ts";
import { cliClassify, ensureBuilt, needsBrowser, ROOT, writeSyntheticWav } from "./_bundle.ts";
import { shippedModelWithoutQuality } from "./_infer_fixtures.ts";

interface PageResult {
  state: string | null;
  label: string | null;
  labelText: string;
  labelId: number | null;
  probabilities: Record<string, number>;
  heartRate: string;
  pageMs: number;
  wallMs: number;
  error: string | null;
  status: string;
  fileChosen: string;
  timeline: [number, number, string][];
  earlyBeats: number[];
  stripLabels: string[];
  earlyMarks: number;
  s1Marks: number;
  figureRole: string | null;
  figureLabel: string;
  tableHeaders: number;
  emptyLists: string[];
}

interface AxeViolation {
  id: string;
  impact: string | null;
  help: string;
  nodes: number;
  target?: string;
}

interface DriverReport {
  consoleErrors: string[];
  modelReadyMs: number;
  modelState: string;
  pageModelMs: number;
  first: PageResult;
  second: PageResult;
  microphone?: PageResult;
  offline: PageResult;
  serverReachableOffline: boolean;
  axePage: AxeViolation[];
  axeDark: AxeViolation[];
  irregular: PageResult;
  reportName: string;
  reportRequests: string[];
  reportEarlyMarks: number;
  reportWindows: number;
  axeReport: AxeViolation[];
  notAudioError: string;
  lowRateError: string;
  axeError: AxeViolation[];
}

/** axe-core violations that block use: impact serious or critical. */
function blocking(violations: AxeViolation[]): AxeViolation[] {
  return violations.filter((v) => v.impact === "serious" || v.impact === "critical");
}

const ARTIFACTS = `${ROOT}/.cache/artifacts`;

/** Runs the driver; stops the server when it asks; returns its final JSON report. */
async function drive(args: string[], stopServer: () => Promise<void>): Promise<DriverReport> {
  const child = new Deno.Command("node", {
    args: [`${ROOT}/tests/web_e2e_driver.mjs`, ...args],
    cwd: ROOT,
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const stderr = new Response(child.stderr).text();
  const writer = child.stdin.getWriter();
  let last = "";
  let buffer = "";
  for await (const chunk of child.stdout.pipeThrough(new TextDecoderStream())) {
    buffer += chunk;
    let newline: number;
    while ((newline = buffer.indexOf("\n")) >= 0) {
      const line = buffer.slice(0, newline).trim();
      buffer = buffer.slice(newline + 1);
      if (!line) continue;
      if (line.includes('"phase":"stop-server"')) {
        await stopServer();
        await writer.write(new TextEncoder().encode("go\n"));
        await writer.close();
      } else {
        last = line;
      }
    }
  }
  if (buffer.trim()) last = buffer.trim();
  await writer.close().catch(() => {});
  const status = await child.status;
  const errText = await stderr;
  assert.equal(status.code, 0, `the browser driver failed: ${errText.trim().split("\n").slice(-8).join("\n")}`);
  return JSON.parse(last) as DriverReport;
}

Deno.test(
  "web page in headless Chromium gives the CLI's answer for a synthetic WAV, also offline",
  await needsBrowser(),
  async () => {
    await ensureBuilt();
    await Deno.mkdir(ARTIFACTS, { recursive: true });
    const dir = await Deno.makeTempDir({ prefix: "heartbeat-web-" });
    const controller = new AbortController();
    let stopped = false;
    const lateRequests: string[] = [];
    // The shipped model without its quality model: the real one asks to retake synthetic recordings and then
    // withholds the rhythm marks this test checks. Probabilities and classes are the same.
    const model = await shippedModelWithoutQuality();
    const server = serveStatic({
      port: 0,
      modelDir: model,
      signal: controller.signal,
      onRequest: (request) => {
        if (stopped) lateRequests.push(request.url);
      },
    });
    const stopServer = async () => {
      if (stopped) return;
      stopped = true;
      controller.abort();
      // A graceful shutdown waits for the browser's keep-alive connections; don't wait for them long.
      await Promise.race([server.finished, new Promise((resolve) => setTimeout(resolve, 2000))]);
    };
    try {
      const wav = await writeSyntheticWav(dir, { kind: "murmur", seed: 7 });
      const micWav = await writeSyntheticWav(dir, { kind: "normal", seed: 11, sampleRate: 48000, durationS: 8 });
      // An irregular rhythm: two premature beats that the rhythm detector finds (checked below against the module).
      const irregular = synthesizeHeartSound({ seed: 3, kind: "extrastole", durationS: 12, prematureBeats: 2 });
      const irregularWav = `${dir}/irregular.wav`;
      await Deno.writeFile(irregularWav, encodeWav(irregular, { bitDepth: 16 }));
      const reportPath = `${dir}/report.html`;
      const [expected] = await cliClassify([wav]);
      assert.equal(expected.error, undefined, `CLI failed: ${expected.error}`);
      const classifier = await loadClassifier(new URL(`file://${model}/model.json`));
      const expectedFull = classifier.classifyWav(await Deno.readFile(wav));
      const expectedIrregular = classifier.classifyWav(await Deno.readFile(irregularWav));
      const screenshot = `${ARTIFACTS}/web.png`;
      const report = await drive([server.pageUrl, wav, screenshot, micWav, irregularWav, reportPath], stopServer);

      assert.equal(report.modelState, "ready");
      for (
        const [name, result] of [["first", report.first], ["warm", report.second], ["offline", report.offline]] as const
      ) {
        assert.equal(result.error, null, `${name}: the page showed an error`);
        assert.equal(result.state, "done", name);
        assert.equal(result.label, expected.label, `${name}: page says ${result.label}, CLI says ${expected.label}`);
        assert.equal(result.labelText, displayName(expected.label!));
        assert.equal(result.labelId, expected.labelId);
        for (const [cls, p] of Object.entries(expected.probabilities!)) {
          assertAlmostEquals(result.probabilities[cls], p, 1e-4, `${name}: ${cls} probability`);
        }
      }
      // Timeline: the strip has one rectangle per window, coloured by the module's winning class.
      const first = report.first;
      assert.deepEqual(first.timeline, expectedFull.timeline.map((w) => [w.startS, w.endS, w.label]));
      assert.deepEqual(first.stripLabels, expectedFull.timeline.map((w) => w.label));
      assert.ok(first.stripLabels.length >= 3, `a 6 s recording has 3 windows, the strip shows ${first.stripLabels}`);
      assert.equal(first.s1Marks, expectedFull.s1TimesS.length);
      assert.deepEqual(report.irregular.earlyBeats, expectedIrregular.irregularRhythm!.earlyBeatTimesS);
      assert.ok(report.irregular.earlyMarks >= 1, "no early beat marked for the planted premature beats");
      assert.equal(report.irregular.earlyMarks, expectedIrregular.irregularRhythm!.earlyBeatTimesS.length);
      // Screen readers: the result (class, confidence, heart rate) is announced; the figure is an image with a text.
      assert.match(first.status, new RegExp(`${displayName(expected.label!)}, confidence \\d+ %, heart rate \\d+`));
      assert.equal(first.figureRole, "img");
      assert.match(first.figureLabel, /^Waveform of synthetic-murmur-7\.wav, 6\.0 s long, .*Timeline of 3 windows/);
      assert.equal(first.tableHeaders, 3 + 4, "probability table: 3 column headers and one row header per class");
      assert.deepEqual(first.emptyLists, []);
      assert.equal(first.fileChosen, "Classified: synthetic-murmur-7.wav");
      assert.match(
        report.notAudioError,
        /^Cannot read "notes\.txt": it is not a WAV file or audio this browser can decode\. Choose .*WAV/,
      );
      assert.match(
        report.lowRateError,
        /^Cannot classify "low-rate\.wav": sample rate is 500 Hz, expected at least 1000 Hz/,
      );
      // The downloaded report: self-contained, the same figure, the disclaimer; it loads nothing.
      assert.equal(report.reportName, "irregular-report.html");
      const html = await Deno.readTextFile(reportPath);
      assert.ok(html.includes(NOT_A_MEDICAL_DEVICE));
      assert.ok(html.includes(`Heart-sound report: irregular.wav`));
      const { name: modelName, version, hash } = expectedIrregular.model;
      assert.ok(
        html.includes(`Model: ${modelName} version ${version}, hash <code>${hash}</code>`),
        "no model identity",
      );
      assert.deepEqual(report.reportRequests, []);
      assert.equal(report.reportWindows, expectedIrregular.timeline.length);
      assert.equal(report.reportEarlyMarks, report.irregular.earlyMarks);
      // Accessibility audit (axe-core): no serious or critical violation on the page (light and dark colours), its
      // error state, or the report.
      const audits: [string, AxeViolation[]][] = [
        ["page", report.axePage],
        ["page, dark colours", report.axeDark],
        ["error state", report.axeError],
        ["report", report.axeReport],
      ];
      for (const [where, violations] of audits) {
        assert.deepEqual(blocking(violations), [], `axe-core, ${where}: ${JSON.stringify(blocking(violations))}`);
      }
      console.log(
        `axe-core violations (any impact): ${audits.map(([where, v]) => `${where} ${v.length}`).join(", ")} ${
          JSON.stringify(audits.flatMap(([, v]) => v.map((x) => `${x.id} (${x.impact})`)))
        }`,
      );
      assert.deepEqual(lateRequests, [], "the offline classification reached the server");
      assert.equal(report.serverReachableOffline, false, "the server still answered after it was stopped");
      assert.ok(report.microphone, "no microphone result");
      assert.equal(report.microphone.error, null, `microphone: ${report.microphone.error}`);
      assert.equal(report.microphone.state, "done");
      assert.ok(["normal", "extrahls", "murmur", "extrastole"].includes(report.microphone.label ?? ""));
      assert.deepEqual(report.consoleErrors, []);
      assert.ok((await Deno.stat(screenshot)).size > 10_000, "screenshot is missing or empty");

      const timing = {
        modelReadyMs: Math.round(report.modelReadyMs),
        firstFileToResultMs: Math.round(report.first.wallMs),
        firstFileToResultPageMs: Math.round(report.first.pageMs),
        warmFileToResultMs: Math.round(report.second.wallMs),
        warmFileToResultPageMs: Math.round(report.second.pageMs),
        offlineFileToResultMs: Math.round(report.offline.wallMs),
      };
      await Deno.writeTextFile(`${ARTIFACTS}/web-timing.json`, JSON.stringify(timing, null, 2) + "\n");
      console.log(
        `web page: model ready ${timing.modelReadyMs} ms after navigation; file chosen → result ` +
          `${timing.firstFileToResultMs} ms first, ${timing.warmFileToResultMs} ms warm (median of 5; page's own clock ` +
          `${timing.firstFileToResultPageMs} / ${timing.warmFileToResultPageMs} ms); screenshot ${screenshot}`,
      );
      if (Deno.env.get("UPDATE_SCREENSHOT") === "1") {
        await Deno.mkdir(`${ROOT}/docs`, { recursive: true });
        await Deno.copyFile(screenshot, `${ROOT}/docs/web.png`);
      }
    } finally {
      await stopServer();
      await server.finished;
      await Deno.remove(dir, { recursive: true });
      await Deno.remove(model, { recursive: true });
    }
  },
);
