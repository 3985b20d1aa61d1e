/**
 * A one-file HTML report of one classified recording, for a person (a health worker sending it to a doctor): the
 * waveform with its S1/S2 and early-beat marks and the timeline strip (inline SVG), the class in plain words with
 * every class's probability, the heart rate, the rhythm finding, the warnings, the model's identity, and the line
 * "Research software, not a medical device.". It has no scripts and loads nothing, so it opens offline anywhere.
 *
 * Pure: result (+ samples) in, string out; every string that reaches the HTML is escaped. The CLI's `--report` and
 * the web page's "Download report" both call {@linkcode htmlReport}; the page also shows {@linkcode reportFigureSvg}.
 * @module
 */
import type { ClassifyResult } from "./classifier.ts";
import { displayName, explanation } from "./classes.ts";

/** The result fields a report reads; `model` when the classifier gives its identity. */
export type ReportResult =
  & Pick<
    ClassifyResult,
    | "label"
    | "labelId"
    | "confidence"
    | "probabilities"
    | "heartRateBpm"
    | "s1TimesS"
    | "s2TimesS"
    | "durationS"
    | "sampleRate"
    | "warnings"
    | "timeline"
    | "irregularRhythm"
  >
  & { model?: { name: string; version: string; hash: string } };

/** Mono samples of the recording, for the waveform; any rate. */
export interface ReportWave {
  samples: Float32Array;
  sampleRate: number;
}

/** Options of {@linkcode htmlReport}. */
export interface HtmlReportOptions {
  /** Name of the recording (a file name), shown as the title. @default {"recording"} */
  fileName?: string;
  /** When the report was made, shown as is (e.g. an ISO date); omitted when absent (keeps the function pure). */
  createdAt?: string;
}

/** The line every report and the page carry. */
export const NOT_A_MEDICAL_DEVICE = "Research software, not a medical device.";

/** Colour of each class in the timeline strip (colour-blind-safe; other classes are grey). */
export const CLASS_COLOURS: Readonly<Record<string, string>> = {
  normal: "#1b7837",
  extrahls: "#762a83",
  murmur: "#e08214",
  extrastole: "#2166ac",
};
const OTHER_COLOUR = "#777777";
const S1_COLOUR = "#b3261e";
const S2_COLOUR = "#1a5fb4";

/** The colour of a class in the timeline strip. */
export function classColour(label: string): string {
  return CLASS_COLOURS[label] ?? OTHER_COLOUR;
}

/** Escapes text for HTML content and attribute values. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]!);
}

function seconds(t: number): string {
  return `${t.toFixed(1)} s`;
}

function percent(p: number): string {
  return `${(p * 100).toFixed(0)} %`;
}

/** Consecutive timeline windows with the same winning class, merged: `[label, startS, endS]`. */
export function timelineRuns(result: Pick<ReportResult, "timeline">): [string, number, number][] {
  const runs: [string, number, number][] = [];
  for (const w of result.timeline) {
    const last = runs.at(-1);
    if (last && last[0] === w.label && w.startS <= last[2]) last[2] = Math.max(last[2], w.endS);
    else runs.push([w.label, w.startS, w.endS]);
  }
  return runs;
}

/** Times as "3.2 s, 7.9 s and 9.1 s". */
function listTimes(times: number[]): string {
  const parts = times.map(seconds);
  return parts.length <= 1 ? parts.join("") : `${parts.slice(0, -1).join(", ")} and ${parts.at(-1)}`;
}

/** One sentence: class in plain words, confidence and heart rate (what a screen reader announces). */
export function resultSentence(result: ReportResult, fileName: string): string {
  const rate = result.heartRateBpm === null
    ? "heart rate not found"
    : `heart rate ${Math.round(result.heartRateBpm)} beats per minute`;
  return `${fileName}: ${displayName(result.label)}, confidence ${percent(result.confidence)}, ${rate}.`;
}

/** The rhythm finding in words, or null without rhythm evidence. */
export function rhythmSentence(result: Pick<ReportResult, "irregularRhythm">): string | null {
  const r = result.irregularRhythm;
  if (!r) return null;
  if (!r.reliable) return "Rhythm: not assessed (the recording is too poor for it).";
  if (!r.flagged) return "Rhythm: no premature beat found.";
  const n = r.earlyBeatTimesS.length;
  return `Rhythm: irregular, ${n === 1 ? "a premature beat" : `${n} premature beats`} at ${
    listTimes(r.earlyBeatTimesS)
  } (listen there).`;
}

/** The early beats a report marks: none when the rhythm evidence is unreliable (a recording to retake). */
export function earlyBeats(result: Pick<ReportResult, "irregularRhythm">): number[] {
  const r = result.irregularRhythm;
  return r && r.reliable ? r.earlyBeatTimesS : [];
}

/** The figure's text alternative: what the waveform and the timeline strip show. */
export function figureDescription(result: ReportResult, fileName: string): string {
  const parts = [
    `Waveform of ${fileName}, ${
      seconds(result.durationS)
    } long, with ${result.s1TimesS.length} first (S1) and ${result.s2TimesS.length} second (S2) heart sounds marked.`,
  ];
  const runs = timelineRuns(result);
  if (runs.length > 0) {
    parts.push(
      `Timeline of ${result.timeline.length} window${result.timeline.length === 1 ? "" : "s"}: ${
        runs.map(([label, a, b]) => `${displayName(label)} from ${a.toFixed(1)} to ${seconds(b)}`).join(", ")
      }.`,
    );
  }
  const early = earlyBeats(result);
  if (early.length > 0) parts.push(`Early beats at ${listTimes(early)}.`);
  return parts.join(" ");
}

/** Options of {@linkcode reportFigureSvg}. */
export interface FigureOptions {
  /** Width of the drawing in SVG units (it scales to its container). @default {1000} */
  width?: number;
  /** Text alternative; @default {@linkcode figureDescription} with `fileName`. */
  description?: string;
  /** Name of the recording for the default description. @default {"the recording"} */
  fileName?: string;
}

const WAVE_H = 120;
const STRIP_H = 22;
const AXIS_H = 18;
const MARK_H = 12;

/**
 * The report's figure as an SVG element string (`role="img"` with the text alternative as `aria-label` and
 * `<title>`): early-beat marks on top, the waveform with S1 (red) and S2 (blue) lines, the timeline strip coloured by
 * each window's winning class (`data-window`, `data-label` on each rectangle), and a time axis.
 * @param wave The recording's samples; null draws the marks and the strip without a waveform.
 */
export function reportFigureSvg(result: ReportResult, wave: ReportWave | null, options: FigureOptions = {}): string {
  const width = options.width ?? 1000;
  const durationS = result.durationS > 0 ? result.durationS : 1;
  const x = (t: number) => (Math.min(Math.max(t, 0), durationS) / durationS) * width;
  const waveTop = MARK_H, stripTop = MARK_H + WAVE_H + 4, axisTop = stripTop + STRIP_H;
  const height = axisTop + AXIS_H;
  const description = options.description ?? figureDescription(result, options.fileName ?? "the recording");
  const out: string[] = [];
  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" class="figure" viewBox="0 0 ${width} ${height}" role="img" aria-label="${
      escapeHtml(description)
    }" preserveAspectRatio="none"><title>${escapeHtml(description)}</title>`,
  );
  const lines = (times: number[], colour: string, kind: string) => {
    if (times.length === 0) return;
    out.push(`<g class="${kind}" stroke="${colour}" stroke-opacity="0.55" stroke-width="2">`);
    for (const t of times) {
      const px = x(t).toFixed(1);
      out.push(`<line x1="${px}" x2="${px}" y1="${waveTop}" y2="${waveTop + WAVE_H}"/>`);
    }
    out.push("</g>");
  };
  lines(result.s1TimesS, S1_COLOUR, "s1");
  lines(result.s2TimesS, S2_COLOUR, "s2");
  if (wave && wave.samples.length > 0) out.push(wavePath(wave, width, waveTop));
  const early = earlyBeats(result);
  if (early.length > 0) {
    out.push(`<g class="early" fill="#000000">`);
    for (const t of early) {
      const px = x(t);
      out.push(
        `<path d="M${(px - 6).toFixed(1)} 0H${(px + 6).toFixed(1)}L${px.toFixed(1)} ${
          MARK_H - 1
        }Z"><title>early beat at ${seconds(t)}</title></path>`,
      );
    }
    out.push("</g>");
  }
  out.push(`<g class="timeline">`);
  result.timeline.forEach((w, i) => {
    const x0 = x(w.startS), x1 = x(w.endS);
    // Windows overlap by half: each draws from its start to the next one's start, so every moment has one colour.
    const next = result.timeline[i + 1];
    const right = next && next.startS < w.endS ? x(next.startS) : x1;
    out.push(
      `<rect data-window="${i}" data-label="${escapeHtml(w.label)}" x="${x0.toFixed(1)}" y="${stripTop}" width="${
        Math.max(1, right - x0).toFixed(1)
      }" height="${STRIP_H}" fill="${classColour(w.label)}"><title>${w.startS.toFixed(1)}–${seconds(w.endS)}: ${
        escapeHtml(displayName(w.label))
      } ${percent(w.probabilities[w.label] ?? 0)}</title></rect>`,
    );
  });
  out.push("</g>");
  const step = durationS > 40 ? 10 : durationS > 12 ? 2 : 1;
  out.push(`<g class="axis" font-size="12" fill="#444444" font-family="sans-serif">`);
  for (let t = 0; t <= durationS + 1e-9; t += step) {
    const px = x(t);
    const anchor = t === 0 ? "start" : px > width - 20 ? "end" : "middle";
    out.push(`<text x="${px.toFixed(1)}" y="${axisTop + 13}" text-anchor="${anchor}">${t.toFixed(0)} s</text>`);
  }
  out.push("</g></svg>");
  return out.join("");
}

/** The waveform as one path of per-column min–max strokes. */
function wavePath(wave: ReportWave, width: number, top: number): string {
  const { samples } = wave;
  let peak = 0;
  for (let i = 0; i < samples.length; i++) peak = Math.max(peak, Math.abs(samples[i]));
  const scale = peak > 0 ? (WAVE_H / 2 - 1) / peak : 0;
  const mid = top + WAVE_H / 2;
  const columns = Math.min(width, samples.length);
  const perColumn = samples.length / columns;
  const d: string[] = [];
  for (let c = 0; c < columns; c++) {
    const start = Math.floor(c * perColumn), end = Math.max(start + 1, Math.floor((c + 1) * perColumn));
    let lo = Infinity, hi = -Infinity;
    for (let i = start; i < end && i < samples.length; i++) {
      if (samples[i] < lo) lo = samples[i];
      if (samples[i] > hi) hi = samples[i];
    }
    const px = ((c + 0.5) * width / columns).toFixed(1);
    const y0 = mid - hi * scale, y1 = Math.max(mid - lo * scale, y0 + 0.5);
    d.push(`M${px} ${y0.toFixed(1)}V${y1.toFixed(1)}`);
  }
  return `<path class="wave" d="${d.join("")}" stroke="#1d1b1e" stroke-width="${
    Math.max(1, width / columns).toFixed(1)
  }" fill="none"/>`;
}

const STYLE =
  `body{font-family:system-ui,sans-serif;color:#1d1b1e;background:#fff;max-width:60rem;margin:0 auto;padding:1rem;line-height:1.45}
h1{font-size:1.3rem;margin:0 0 .25rem}h2{font-size:1.05rem;margin:1.25rem 0 .4rem}
.headline{font-size:1.6rem;font-weight:700;margin:.2rem 0}.muted{color:#555}
.figure{width:100%;height:auto;border:1px solid #ccc;border-radius:4px}
table{border-collapse:collapse;margin:.3rem 0}th,td{padding:.2rem .6rem;text-align:left;border-bottom:1px solid #ddd}
td.num{text-align:right;font-variant-numeric:tabular-nums}.swatch{display:inline-block;width:.9em;height:.9em;vertical-align:-.1em;margin-right:.3em;border-radius:2px}
.warnings li{color:#8a1c13}.disclaimer{font-weight:700;border-top:1px solid #ccc;padding-top:.6rem;margin-top:1.5rem}
code{font-size:.9em}`;

/**
 * The whole report: a complete HTML document, no scripts, no external resources (see the module doc).
 * @param result A classifier result (lib/classifier.ts), with `model` when known.
 * @param wave The recording's samples for the waveform; null leaves the waveform out.
 */
export function htmlReport(result: ReportResult, wave: ReportWave | null, options: HtmlReportOptions = {}): string {
  const fileName = options.fileName ?? "recording";
  const e = escapeHtml;
  const rows = Object.entries(result.probabilities)
    .sort((a, b) => b[1] - a[1])
    .map(([name, p]) =>
      `<tr${name === result.label ? ' class="best"' : ""}><th scope="row"><span class="swatch" style="background:${
        classColour(name)
      }"></span>${e(displayName(name))}</th><td>${e(explanation(name))}</td><td class="num">${
        (p * 100).toFixed(1)
      } %</td></tr>`
    ).join("");
  const rate = result.heartRateBpm === null ? "not found" : `${Math.round(result.heartRateBpm)} beats per minute`;
  const rhythm = rhythmSentence(result);
  const warnings = result.warnings.length > 0
    ? `<h2>Warnings</h2><ul class="warnings">${result.warnings.map((w) => `<li>${e(w)}</li>`).join("")}</ul>`
    : "";
  const windows = result.timeline.map((w) =>
    `<tr><td class="num">${w.startS.toFixed(1)}–${w.endS.toFixed(1)} s</td><td>${e(displayName(w.label))}</td>${
      Object.keys(result.probabilities).map((name) =>
        `<td class="num">${percent((w.probabilities as Record<string, number>)[name] ?? 0)}</td>`
      )
        .join("")
    }</tr>`
  ).join("");
  const windowHeader = Object.keys(result.probabilities).map((name) => `<th scope="col">${e(displayName(name))}</th>`)
    .join("");
  const model = result.model
    ? `<li>Model: ${e(result.model.name)} version ${e(result.model.version)}, hash <code>${
      e(result.model.hash)
    }</code></li>`
    : "";
  const created = options.createdAt ? `<li>Made: ${e(options.createdAt)}</li>` : "";
  const legend = [
    `<span class="swatch" style="background:${S1_COLOUR}"></span>S1`,
    `<span class="swatch" style="background:${S2_COLOUR}"></span>S2`,
    "▼ early beat",
    ...Object.keys(result.probabilities).map((name) =>
      `<span class="swatch" style="background:${classColour(name)}"></span>${e(displayName(name))}`
    ),
  ].join(" &nbsp; ");
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Heart-sound report: ${e(fileName)}</title>
<style>${STYLE}</style>
</head>
<body>
<main>
<h1>Heart-sound report: ${e(fileName)}</h1>
<p class="headline">${e(displayName(result.label))} <span class="muted">(${percent(result.confidence)})</span></p>
<p>${e(explanation(result.label))}</p>
<p>Heart rate: <strong>${rate}</strong>.${rhythm ? ` ${e(rhythm)}` : ""}</p>
${warnings}
<h2>Recording</h2>
${reportFigureSvg(result, wave, { fileName })}
<p class="muted">${legend}. The strip under the waveform shows the most likely class in each ${
    result.timeline.length > 1 ? "3 s window" : "window"
  }.</p>
<h2>Class probabilities</h2>
<table><thead><tr><th scope="col">Class</th><th scope="col">Meaning</th><th scope="col">Probability</th></tr></thead><tbody>${rows}</tbody></table>
<details><summary>Details</summary>
<table><caption>Probabilities per window</caption><thead><tr><th scope="col">Time</th><th scope="col">Most likely</th>${windowHeader}</tr></thead><tbody>${windows}</tbody></table>
<ul>
<li>Class id (data set): <code>${e(result.label)}</code>, label id ${result.labelId}</li>
<li>Length ${
    seconds(result.durationS)
  } at ${result.sampleRate} Hz; ${result.s1TimesS.length} S1 and ${result.s2TimesS.length} S2 sounds detected</li>
${
    result.irregularRhythm
      ? `<li>Rhythm score ${result.irregularRhythm.score.toFixed(2)} (0: regular, ≥ 0.5: premature beat)</li>`
      : ""
  }
${model}${created}
</ul>
</details>
<p class="disclaimer">${NOT_A_MEDICAL_DEVICE} The classes are those of the PASCAL Classifying Heart Sounds Challenge 2011; ask a clinician about any finding.</p>
</main>
</body>
</html>
`;
}
