import assert from "node:assert/strict";
import { gateRhythm, loadClassifier } from "../lib/classifier.ts";
import {
  escapeHtml,
  figureDescription,
  htmlReport,
  NOT_A_MEDICAL_DEVICE,
  type ReportResult,
  timelineRuns,
} from "../lib/html_report.ts";
import { defaultLogmelPreprocessing } from "../lib/preprocess.ts";
import { recordingAssessment } from "../lib/probabilities.ts";
import { irregularRhythm } from "../lib/rhythm.ts";
import { resampleWaveform } from "../lib/resample.ts";
import { synthesizeHeartSound } from "../lib/synth.ts";
import { assertAlmostEquals } from "./_helpers.ts";
import { shippedModelWithoutQuality } from "./_infer_fixtures.ts";

function fakeResult(overrides: Partial<ReportResult> = {}): ReportResult {
  const p = (normal: number, murmur: number) => ({ normal, extrahls: 0, murmur, extrastole: 1 - normal - murmur });
  return {
    label: "murmur",
    labelId: 2,
    confidence: 0.7,
    probabilities: p(0.2, 0.7),
    heartRateBpm: 72.4,
    s1TimesS: [0.5, 1.3],
    s2TimesS: [0.8, 1.6],
    durationS: 6,
    sampleRate: 4000,
    warnings: [],
    timeline: [
      { startS: 0, endS: 3, label: "normal", probabilities: p(0.6, 0.3) },
      { startS: 1.5, endS: 4.5, label: "murmur", probabilities: p(0.2, 0.7) },
      { startS: 3, endS: 6, label: "murmur", probabilities: p(0.1, 0.8) },
    ],
    irregularRhythm: {
      score: 1,
      flagged: true,
      reliable: true,
      beats: [],
      earlyBeatTimesS: [2.25, 4.5],
      lateBeatTimesS: [3, 5.5],
    },
    ...overrides,
  };
}

Deno.test("escapeHtml escapes the five HTML metacharacters", () => {
  assert.equal(escapeHtml(`<a href="x">'&'</a>`), "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;");
});

Deno.test("timelineRuns merges consecutive windows of one class", () => {
  assert.deepEqual(timelineRuns(fakeResult()), [["normal", 0, 3], ["murmur", 1.5, 6]]);
});

Deno.test("figureDescription names the sounds, the timeline runs and the early beats", () => {
  assert.equal(
    figureDescription(fakeResult(), "a.wav"),
    "Waveform of a.wav, 6.0 s long, with 2 first (S1) and 2 second (S2) heart sounds marked. " +
      "Timeline of 3 windows: Normal from 0.0 to 3.0 s, Murmur from 1.5 to 6.0 s. Early beats at 2.3 s and 4.5 s.",
  );
});

Deno.test("htmlReport is one self-contained, escaped document with the figure, classes and disclaimer", () => {
  const wave = { samples: new Float32Array(24000).map((_, i) => Math.sin(i / 10)), sampleRate: 4000 };
  const html = htmlReport(
    fakeResult({ warnings: ["low <confidence>"], model: { name: "m<1>", version: "5", hash: "0123abcd" } }),
    wave,
    { fileName: `<script>alert("x")</script>.wav` },
  );
  assert.ok(html.startsWith("<!doctype html>"));
  assert.ok(!/<script/i.test(html), "an unescaped script tag");
  assert.ok(html.includes("&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;.wav"));
  assert.ok(
    html.includes("low &lt;confidence&gt;") && html.includes("m&lt;1&gt; version 5") && html.includes("0123abcd"),
  );
  // Nothing to fetch: the only URL is the SVG namespace.
  assert.deepEqual(html.match(/https?:\/\/[^"\s]*/g), ["http://www.w3.org/2000/svg"]);
  assert.ok(!/\b(src|href)=|url\(|@import/.test(html));
  assert.ok(html.includes(NOT_A_MEDICAL_DEVICE));
  assert.ok(html.includes("Murmur") && html.includes("murmur: whooshing between beats"));
  assert.ok(html.includes("72 beats per minute"));
  assert.ok(html.includes("2 premature beats at 2.3 s and 4.5 s"));
  assert.equal(html.match(/data-window=/g)?.length, 3);
  assert.deepEqual([...html.matchAll(/data-label="(\w+)"/g)].map((m) => m[1]), ["normal", "murmur", "murmur"]);
  assert.equal(html.match(/early beat at/g)?.length, 2);
  assert.equal(html.match(/<line /g)?.length, 4); // 2 S1 + 2 S2
  assert.ok(/<path class="wave" d="M/.test(html));
  assert.ok(html.includes('role="img"'));
  assert.ok(htmlReport(fakeResult({ irregularRhythm: null, model: undefined }), null).includes("Heart-sound report"));
});

Deno.test("recordingAssessment gives each window's times and probabilities; their mean is the recording's", () => {
  const p = defaultLogmelPreprocessing();
  const wave = {
    samples: synthesizeHeartSound({ seed: 1, sampleRate: 2000, durationS: 10 }).samples,
    sampleRate: 2000,
  };
  // 251 frames of 40 ms: windows of 75 frames start every 38 frames, plus one flush with the end (frame 176).
  const predict = (input: { shape: number[] }) => {
    const rows = input.shape[0];
    const out = new Float32Array(rows * 4);
    for (let r = 0; r < rows; r++) out.set([r / 10, 0.1, 0.2, 0.7 - r / 10], r * 4);
    return out;
  };
  const { probabilities, windows } = recordingAssessment(wave, p, predict);
  const starts = [0, 38, 76, 114, 152, 176];
  assert.equal(windows.windowsS.length, starts.length);
  windows.windowsS.forEach(([a, b], i) => {
    assertAlmostEquals(a, starts[i] * 0.04, 1e-9);
    assertAlmostEquals(b, Math.min(251, starts[i] + 75) * 0.04, 1e-9);
  });
  assertAlmostEquals(probabilities[0], (0 + 1 + 2 + 3 + 4 + 5) / 60, 1e-6);
  assertAlmostEquals(windows.probabilities[5 * 4], 0.5, 1e-6);
});

Deno.test("classify result: timeline covers the recording, rhythm equals irregularRhythm of the 2 kHz signal", async () => {
  // Without the quality model, which asks to retake synthetic recordings and then withholds the rhythm flag.
  const model = await shippedModelWithoutQuality();
  const classifier = await loadClassifier(new URL(`file://${model}/model.json`));
  await Deno.remove(model, { recursive: true });
  const rec = synthesizeHeartSound({ seed: 3, kind: "extrastole", durationS: 12, prematureBeats: 2, sampleRate: 4000 });
  const result = classifier.classify(rec.samples, rec.sampleRate);
  assert.equal(result.timeline[0].startS, 0);
  assertAlmostEquals(result.timeline.at(-1)!.endS, 12, 1e-9);
  for (const w of result.timeline) {
    const best = Object.entries(w.probabilities).sort((a, b) => b[1] - a[1])[0][0];
    assert.equal(w.label, best);
    assertAlmostEquals(Object.values(w.probabilities).reduce((a, b) => a + b, 0), 1, 1e-4);
  }
  const expected = irregularRhythm(resampleWaveform({ samples: rec.samples, sampleRate: rec.sampleRate }, 2000));
  assert.ok(result.irregularRhythm);
  assert.equal(result.irregularRhythm.score, expected.score);
  assert.deepEqual(result.irregularRhythm.earlyBeatTimesS, expected.earlyBeatTimesS);
  assert.equal(result.irregularRhythm.flagged, expected.score >= 0.5);
  assert.ok(result.irregularRhythm.earlyBeatTimesS.length >= 1, "the planted premature beats were not found");
  assert.equal(classifier.classify(rec.samples, rec.sampleRate, { beats: false }).irregularRhythm, null);
});

Deno.test("gateRhythm: a recording to retake gets no rhythm flag and no early-beat marks", () => {
  const rhythm = fakeResult().irregularRhythm!;
  assert.equal(gateRhythm(rhythm, ["low confidence (0.40): ..."]), rhythm);
  const gated = gateRhythm(rhythm, ["retake: no heart sound found (quality 0.10)"]);
  assert.deepEqual({ ...gated, flagged: true, reliable: true }, rhythm);
  assert.equal(gated.flagged, false);
  assert.equal(gated.reliable, false);
  const html = htmlReport(fakeResult({ irregularRhythm: gated }), null);
  assert.ok(html.includes("Rhythm: not assessed"));
  assert.equal(html.match(/early beat at/g), null);
});
