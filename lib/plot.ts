/**
 * Small plotly.js helpers for the notebooks: build figure JSON, decimate long series so notebooks
 * stay small, show a figure through the Deno Jupyter kernel (MIME `application/vnd.plotly.v1+json`),
 * and render figures to PNG with headless Chromium and plotly.js-dist-min (for readers on GitHub,
 * where plotly outputs do not render).
 *
 * Nothing here touches `Deno.jupyter` at import time, so the module also imports in tests and
 * scripts outside a kernel; {@linkcode display} then returns the bundle without showing it.
 * @module
 */
import { PLOTLY_JS_NPM } from "./deps.ts";
import { HeartSoundError, ParameterError } from "./errors.ts";
import type { Spectrogram } from "./stft.ts";

/** One plotly trace (`{ type: "scatter", x, y, ... }`); see plotly.js's figure reference. */
export type PlotlyTrace = Record<string, unknown>;

/** A plotly figure: traces plus layout (and optional config). */
export interface PlotlyFigure {
  data: PlotlyTrace[];
  layout?: Record<string, unknown>;
  config?: Record<string, unknown>;
}

/** A static image could not be rendered (no Chromium, plotly.js not fetchable, or a page error). */
export class RenderError extends HeartSoundError {
  override name = "RenderError";
}

/** Options of {@linkcode decimate}. */
export interface DecimateOptions {
  /** Most points to return; ≥ 2. Series at most this long are returned whole. @default {2000} */
  maxPoints?: number;
  /** x value of each point; same length as y. @default {index / sampleRate, or the index} */
  x?: ArrayLike<number>;
  /** When `x` is absent, x = index / sampleRate (seconds). */
  sampleRate?: number;
}

/**
 * Min–max decimation of a series for plotting: the points are cut into `maxPoints / 2` equal
 * buckets and each bucket keeps its smallest and largest value, in time order. Peaks survive
 * (unlike taking every k-th point), so a decimated waveform looks like the full one.
 * @param y The values.
 * @returns At most `maxPoints` points (x ascending if x was), as plain arrays ready for JSON.
 * @example Usage
 * ```ts
 * const { x, y } = decimate(new Float32Array(100_000), { maxPoints: 1000 });
 * assertEquals(y.length <= 1000 && x.length === y.length, true);
 * ```
 */
export function decimate(y: ArrayLike<number>, options: DecimateOptions = {}): { x: number[]; y: number[] } {
  const maxPoints = options.maxPoints ?? 2000;
  if (!(Number.isInteger(maxPoints) && maxPoints >= 2)) {
    throw new ParameterError(`Cannot decimate series: maxPoints is ${maxPoints}, expected an integer ≥ 2`);
  }
  const n = y.length;
  if (options.x && options.x.length !== n) {
    throw new ParameterError(`Cannot decimate series: ${options.x.length} x values for ${n} y values`);
  }
  const sr = options.sampleRate;
  if (sr !== undefined && !(sr > 0)) throw new ParameterError(`Cannot decimate series: sampleRate is ${sr}`);
  const xAt = options.x ? (i: number) => options.x![i] : sr ? (i: number) => i / sr : (i: number) => i;
  if (n <= maxPoints) return { x: Array.from({ length: n }, (_, i) => xAt(i)), y: Array.from(y) };
  const buckets = Math.floor(maxPoints / 2);
  const xs: number[] = [], ys: number[] = [];
  for (let b = 0; b < buckets; b++) {
    const start = Math.floor(b * n / buckets), end = Math.floor((b + 1) * n / buckets);
    let lo = start, hi = start;
    for (let i = start + 1; i < end; i++) {
      if (y[i] < y[lo]) lo = i;
      if (y[i] > y[hi]) hi = i;
    }
    const first = Math.min(lo, hi), second = Math.max(lo, hi);
    xs.push(xAt(first));
    ys.push(y[first]);
    if (second !== first) {
      xs.push(xAt(second));
      ys.push(y[second]);
    }
  }
  return { x: xs, y: ys };
}

/** Layout options shared by the figure builders. */
export interface FigureOptions {
  title?: string;
  xTitle?: string;
  yTitle?: string;
  /** Pixels; the notebook frontends use it, and so does {@linkcode renderImages} by default. @default {380} */
  height?: number;
  /** Pixels; unset lets notebook frontends use the cell width. */
  width?: number;
  /** Extra layout fields, merged last. */
  layout?: Record<string, unknown>;
}

function baseLayout(options: FigureOptions): Record<string, unknown> {
  return {
    ...(options.title ? { title: { text: options.title } } : {}),
    xaxis: { title: { text: options.xTitle ?? "" } },
    yaxis: { title: { text: options.yTitle ?? "" } },
    height: options.height ?? 380,
    ...(options.width ? { width: options.width } : {}),
    margin: { l: 60, r: 20, t: options.title ? 50 : 20, b: 50 },
    ...options.layout,
  };
}

/** One line of {@linkcode lineFigure}. */
export interface LineSeries {
  y: ArrayLike<number>;
  /** x values; else index / sampleRate, else the index. */
  x?: ArrayLike<number>;
  sampleRate?: number;
  name?: string;
  /** plotly `mode`. @default {"lines"} */
  mode?: "lines" | "markers" | "lines+markers";
  /** Extra trace fields (line colour, yaxis, ...). */
  trace?: PlotlyTrace;
}

/** Options of {@linkcode lineFigure}. */
export interface LineFigureOptions extends FigureOptions {
  /** Points kept per series by {@linkcode decimate}. @default {2000} */
  maxPoints?: number;
}

/** A line chart of one or more series, each decimated to `maxPoints`. */
export function lineFigure(series: readonly LineSeries[], options: LineFigureOptions = {}): PlotlyFigure {
  const data = series.map((s) => {
    const { x, y } = decimate(s.y, { maxPoints: options.maxPoints, x: s.x, sampleRate: s.sampleRate });
    return { type: "scatter", mode: s.mode ?? "lines", x, y, ...(s.name ? { name: s.name } : {}), ...s.trace };
  });
  return { data, layout: baseLayout(options) };
}

/** One group of bars of {@linkcode barFigure}. */
export interface BarSeries {
  name?: string;
  values: readonly number[];
  /** Error bars (e.g. std over folds), one per value. */
  errors?: readonly number[];
  trace?: PlotlyTrace;
}

/** A grouped bar chart: one bar per category per series. */
export function barFigure(
  categories: readonly string[],
  series: readonly BarSeries[],
  options: FigureOptions = {},
): PlotlyFigure {
  for (const s of series) {
    if (s.values.length !== categories.length) {
      throw new ParameterError(
        `Cannot build bar chart: series "${
          s.name ?? ""
        }" has ${s.values.length} values for ${categories.length} categories`,
      );
    }
  }
  const data = series.map((s) => ({
    type: "bar",
    x: [...categories],
    y: [...s.values],
    ...(s.name ? { name: s.name } : {}),
    ...(s.errors ? { error_y: { type: "data", array: [...s.errors], visible: true } } : {}),
    ...s.trace,
  }));
  return { data, layout: { ...baseLayout(options), barmode: "group" } };
}

/** One distribution of {@linkcode histogramFigure}. */
export interface HistogramSeries {
  name?: string;
  values: ArrayLike<number>;
  trace?: PlotlyTrace;
}

/** Options of {@linkcode histogramFigure}. */
export interface HistogramOptions extends FigureOptions {
  /** Bin width in x units; else plotly picks the bins. */
  binSize?: number;
  /** Start of the first bin. @default {0 when binSize is set} */
  binStart?: number;
  /** `overlay` (semi-transparent) or `stack`. @default {"overlay"} */
  barmode?: "overlay" | "stack";
}

/** Histograms of one or more distributions on shared bins. */
export function histogramFigure(series: readonly HistogramSeries[], options: HistogramOptions = {}): PlotlyFigure {
  const barmode = options.barmode ?? "overlay";
  const data = series.map((s) => ({
    type: "histogram",
    x: Array.from(s.values),
    ...(s.name ? { name: s.name } : {}),
    ...(barmode === "overlay" && series.length > 1 ? { opacity: 0.6 } : {}),
    ...(options.binSize ? { xbins: { start: options.binStart ?? 0, size: options.binSize } } : {}),
    ...s.trace,
  }));
  return { data, layout: { ...baseLayout({ yTitle: "count", ...options }), barmode } };
}

/** Options of {@linkcode heatmapFigure}. */
export interface HeatmapOptions extends FigureOptions {
  /** Column coordinates (length = columns of z). */
  x?: readonly (number | string)[];
  /** Row coordinates (length = rows of z). */
  y?: readonly (number | string)[];
  /** plotly colorscale: a name or [position 0–1, colour] stops. @default {"Viridis"} */
  colorscale?: string | [number, string][];
  /** Text drawn in each cell (same shape as z), e.g. counts of a confusion matrix. */
  text?: readonly (readonly string[])[];
  zMin?: number;
  zMax?: number;
  colorbarTitle?: string;
}

/** A heatmap of z[row][column] (row = y, column = x). */
export function heatmapFigure(z: readonly (readonly number[])[], options: HeatmapOptions = {}): PlotlyFigure {
  const trace: PlotlyTrace = {
    type: "heatmap",
    z: z.map((row) => [...row]),
    colorscale: options.colorscale ?? "Viridis",
    ...(options.x ? { x: [...options.x] } : {}),
    ...(options.y ? { y: [...options.y] } : {}),
    ...(options.zMin !== undefined ? { zmin: options.zMin } : {}),
    ...(options.zMax !== undefined ? { zmax: options.zMax } : {}),
    ...(options.colorbarTitle ? { colorbar: { title: { text: options.colorbarTitle } } } : {}),
  };
  if (options.text) {
    trace.text = options.text.map((row) => [...row]);
    trace.texttemplate = "%{text}";
    trace.hovertemplate = "%{y} → %{x}: %{text}<extra></extra>";
  }
  return { data: [trace], layout: baseLayout(options) };
}

/** Options of {@linkcode spectrogramFigure}. */
export interface SpectrogramFigureOptions extends FigureOptions {
  /** Most time columns; frames are max-pooled down to it. @default {300} */
  maxFrames?: number;
  /** Highest frequency shown, in Hz. @default {sampleRate / 2} */
  maxHz?: number;
  /** Most frequency rows; bins are max-pooled down to it. @default {64} */
  maxBins?: number;
  /** Show 20·log10(|X| / max), rounded to whole dB and clipped at `dbRange` below the peak, else the magnitude. @default {true} */
  db?: boolean;
  /** dB below the peak shown when `db`. @default {80} */
  dbRange?: number;
}

/**
 * A spectrogram heatmap (time on x in seconds, frequency on y in Hz). Frames and bins are
 * max-pooled to at most `maxFrames` × `maxBins` cells so the figure stays small (≈ 80 KB in a notebook).
 */
export function spectrogramFigure(spec: Spectrogram, options: SpectrogramFigureOptions = {}): PlotlyFigure {
  const { data, numFrames, numBins, nFft, hopLength, sampleRate } = spec;
  const binHz = sampleRate / nFft;
  const maxHz = Math.min(options.maxHz ?? sampleRate / 2, sampleRate / 2);
  const usedBins = Math.min(numBins, Math.floor(maxHz / binHz) + 1);
  const tStep = Math.max(1, Math.ceil(numFrames / (options.maxFrames ?? 300)));
  const fStep = Math.max(1, Math.ceil(usedBins / (options.maxBins ?? 64)));
  const cols = Math.ceil(numFrames / tStep), rows = Math.ceil(usedBins / fStep);
  let peak = 0;
  for (let i = 0; i < data.length; i++) if (data[i] > peak) peak = data[i];
  const db = options.db ?? true, range = options.dbRange ?? 80;
  const z: number[][] = Array.from({ length: rows }, () => new Array<number>(cols).fill(0));
  for (let c = 0; c < cols; c++) {
    for (let r = 0; r < rows; r++) {
      let m = 0;
      for (let t = c * tStep; t < Math.min(numFrames, (c + 1) * tStep); t++) {
        for (let b = r * fStep; b < Math.min(usedBins, (r + 1) * fStep); b++) m = Math.max(m, data[t * numBins + b]);
      }
      z[r][c] = db ? Math.max(-range, Math.round(20 * Math.log10(Math.max(m, 1e-12) / Math.max(peak, 1e-12)))) : m;
    }
  }
  const x = Array.from({ length: cols }, (_, c) => c * tStep * hopLength / sampleRate);
  const y = Array.from({ length: rows }, (_, r) => r * fStep * binHz);
  return heatmapFigure(z, {
    xTitle: "time (s)",
    yTitle: "frequency (Hz)",
    colorbarTitle: db ? "dB" : "|X|",
    ...options,
    x,
    y,
  });
}

/** Options of {@linkcode confusionFigure}. */
export interface ConfusionFigureOptions extends FigureOptions {
  /** Colour by the share of each true class (row) instead of counts; cells still show counts. @default {true} */
  normalizeRows?: boolean;
}

/** A confusion matrix heatmap: rows = true class (top to bottom), columns = predicted class. */
export function confusionFigure(
  confusion: readonly (readonly number[])[],
  labels: readonly string[],
  options: ConfusionFigureOptions = {},
): PlotlyFigure {
  if (confusion.length !== labels.length || confusion.some((row) => row.length !== labels.length)) {
    throw new ParameterError(`Cannot build confusion chart: matrix is not ${labels.length} × ${labels.length}`);
  }
  const normalize = options.normalizeRows ?? true;
  const z = confusion.map((row) => {
    const sum = row.reduce((a, b) => a + b, 0);
    return row.map((v) => normalize ? (sum > 0 ? v / sum : 0) : v);
  });
  const text = confusion.map((row) => row.map((v) => `${Math.round(v * 100) / 100}`));
  const fig = heatmapFigure(z, {
    xTitle: "predicted",
    yTitle: "true",
    colorscale: [[0, "#f7fbff"], [0.5, "#6baed6"], [1, "#08306b"]],
    zMin: 0,
    layout: { margin: { l: 90, r: 20, t: 50, b: 50 } },
    ...(normalize ? { zMax: 1, colorbarTitle: "row share" } : {}),
    ...options,
    x: labels,
    y: labels,
    text,
  });
  const layout = fig.layout!;
  layout.yaxis = { ...(layout.yaxis as object), autorange: "reversed" };
  return fig;
}

/** Options of {@linkcode stackFigures}. */
export interface StackOptions extends FigureOptions {
  /** Share one x axis (zoom together). @default {true} */
  sharedX?: boolean;
  /** Vertical gap between panels, as a fraction of the height. @default {0.08} */
  gap?: number;
}

/**
 * Stacks figures vertically into one (panels top to bottom, equal heights), keeping each panel's
 * axis titles; heatmap colour bars are moved beside their panel. Titles of the parts become
 * panel annotations.
 */
export function stackFigures(figures: readonly PlotlyFigure[], options: StackOptions = {}): PlotlyFigure {
  const n = figures.length;
  if (n === 0) throw new ParameterError("Cannot stack figures: no figures");
  const gap = options.gap ?? 0.08;
  const shared = options.sharedX ?? true;
  const panel = (1 - gap * (n - 1)) / n;
  const data: PlotlyTrace[] = [];
  const layout: Record<string, unknown> = {
    ...baseLayout({ height: 260 * n, ...options }),
    showlegend: false,
    annotations: [] as unknown[],
  };
  figures.forEach((fig, i) => {
    const top = 1 - i * (panel + gap), bottom = top - panel;
    const xName = shared ? "x" : `x${i === 0 ? "" : i + 1}`;
    const yName = `y${i === 0 ? "" : i + 1}`;
    for (const t of fig.data) {
      const trace: PlotlyTrace = { ...t, xaxis: xName, yaxis: yName };
      if (t.type === "heatmap") {
        trace.colorbar = {
          ...(t.colorbar as object | undefined),
          y: (top + bottom) / 2,
          len: panel,
          yanchor: "middle",
        };
      }
      data.push(trace);
    }
    const fx = (fig.layout?.xaxis ?? {}) as Record<string, unknown>;
    const fy = (fig.layout?.yaxis ?? {}) as Record<string, unknown>;
    layout[`yaxis${i === 0 ? "" : i + 1}`] = { ...fy, domain: [Math.max(0, bottom), top], anchor: xName };
    if (!shared || i === n - 1) {
      layout[`xaxis${shared || i === 0 ? "" : i + 1}`] = {
        ...fx,
        anchor: shared ? `y${n === 1 ? "" : n}` : yName,
        ...(shared ? {} : { domain: [0, 1] }),
      };
    }
    const title = (fig.layout?.title as { text?: string } | undefined)?.text;
    if (title) {
      (layout.annotations as unknown[]).push({
        text: title,
        showarrow: false,
        xref: "paper",
        yref: "paper",
        x: 0,
        xanchor: "left",
        y: top,
        yanchor: "bottom",
        font: { size: 13 },
      });
    }
  });
  return { data, layout };
}

/** Options of {@linkcode toPlotlyJson}. */
export interface CompactOptions {
  /** Significant digits kept for non-integer numbers. @default {4} */
  digits?: number;
}

/**
 * The figure as plain JSON: typed arrays become arrays, non-finite numbers become null, and
 * non-integers are rounded to `digits` significant digits (this alone halves the size of a notebook).
 */
export function toPlotlyJson(figure: PlotlyFigure, options: CompactOptions = {}): PlotlyFigure {
  const digits = options.digits ?? 4;
  const text = JSON.stringify(figure, (_key, value) => {
    if (ArrayBuffer.isView(value) && !(value instanceof DataView)) return Array.from(value as unknown as number[]);
    if (typeof value === "number") {
      if (!Number.isFinite(value)) return null;
      return Number.isInteger(value) ? value : Number(value.toPrecision(digits));
    }
    return value;
  });
  return JSON.parse(text);
}

/** A Jupyter MIME bundle for the figure: the plotly JSON plus a one-line text/plain fallback. */
export function plotlyBundle(figure: PlotlyFigure, options: CompactOptions = {}): Record<string, unknown> {
  const json = toPlotlyJson(figure, options);
  const title = (json.layout?.title as { text?: string } | undefined)?.text ?? "figure";
  const traces = json.data.map((t) => t.type ?? "scatter").join(", ");
  return {
    "application/vnd.plotly.v1+json": json,
    "text/plain": `<plotly ${title}: ${json.data.length} trace(s) (${traces})>`,
  };
}

interface JupyterApi {
  display(obj: unknown, options?: { raw?: boolean }): Promise<void>;
}

/** `Deno.jupyter` when running inside the Deno kernel, else undefined (never throws). */
export function jupyterApi(): JupyterApi | undefined {
  try {
    const d = (globalThis as { Deno?: { jupyter?: JupyterApi } }).Deno;
    const j = d?.jupyter;
    return j && typeof j.display === "function" ? j : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Shows a figure in the notebook (inside the Deno kernel); elsewhere it does nothing.
 * @returns The MIME bundle that was (or would have been) displayed.
 */
export async function display(figure: PlotlyFigure, options: CompactOptions = {}): Promise<Record<string, unknown>> {
  const bundle = plotlyBundle(figure, options);
  const jupyter = jupyterApi();
  if (jupyter) await jupyter.display(bundle, { raw: true });
  return bundle;
}

function escapeHtml(s: string): string {
  return s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}

/** Options of {@linkcode tableBundle}. */
export interface TableOptions {
  /** Digits after the decimal point for non-integer numbers. @default {3} */
  decimals?: number;
  /** Columns to show, in order. @default {the keys of the first row} */
  columns?: readonly string[];
}

/** An HTML + plain-text table (a MIME bundle) of rows of records; GitHub renders the HTML. */
export function tableBundle(
  rows: readonly Record<string, unknown>[],
  options: TableOptions = {},
): Record<string, string> {
  const columns = options.columns ?? (rows.length ? Object.keys(rows[0]) : []);
  const decimals = options.decimals ?? 3;
  const cell = (v: unknown): string =>
    typeof v === "number" && !Number.isFinite(v)
      ? "—"
      : typeof v === "number" && !Number.isInteger(v)
      ? v.toFixed(decimals)
      : v === undefined || v === null
      ? ""
      : String(v);
  const cells = rows.map((r) => columns.map((c) => cell(r[c])));
  const widths = columns.map((c, j) => Math.max(c.length, ...cells.map((row) => row[j].length)));
  const line = (values: readonly string[]) => values.map((v, j) => v.padEnd(widths[j])).join("  ").trimEnd();
  const plain = [line(columns), ...cells.map(line)].join("\n");
  const html = `<table><thead><tr>${columns.map((c) => `<th>${escapeHtml(c)}</th>`).join("")}</tr></thead><tbody>${
    cells.map((row) => `<tr>${row.map((v) => `<td>${escapeHtml(v)}</td>`).join("")}</tr>`).join("")
  }</tbody></table>`;
  return { "text/html": html, "text/plain": plain };
}

/** Shows a table in the notebook (inside the Deno kernel), else prints its plain-text form. */
export async function displayTable(
  rows: readonly Record<string, unknown>[],
  options: TableOptions = {},
): Promise<void> {
  const bundle = tableBundle(rows, options);
  const jupyter = jupyterApi();
  if (jupyter) await jupyter.display(bundle, { raw: true });
  else console.log(bundle["text/plain"]);
}

/** Finds a Chromium/Chrome binary: the CHROMIUM environment variable, else the usual Debian/Ubuntu paths. */
export function findChromium(): string | undefined {
  const candidates = [
    Deno.env.get("CHROMIUM"),
    "/usr/bin/chromium",
    "/usr/bin/chromium-browser",
    "/usr/bin/google-chrome",
  ];
  for (const c of candidates) {
    if (!c) continue;
    try {
      if (Deno.statSync(c).isFile) return c;
    } catch {
      // try the next one
    }
  }
  return undefined;
}

let plotlyPath: string | undefined;

/** Local path of plotly.min.js from the pinned npm package (fetched into Deno's cache on first use). */
export async function plotlyJsPath(): Promise<string> {
  if (plotlyPath) return plotlyPath;
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["info", "--json", `npm:${PLOTLY_JS_NPM}`],
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (!out.success) {
    throw new RenderError(`Cannot fetch plotly.js: deno info npm:${PLOTLY_JS_NPM} failed`);
  }
  const info = JSON.parse(new TextDecoder().decode(out.stdout)) as {
    npmPackages?: Record<string, { localPath?: string }>;
  };
  const name = PLOTLY_JS_NPM.slice(0, PLOTLY_JS_NPM.lastIndexOf("@"));
  const local = Object.entries(info.npmPackages ?? {}).find(([key]) => key.startsWith(`${name}@`))?.[1].localPath;
  if (!local) throw new RenderError(`Cannot fetch plotly.js: no local path for npm:${PLOTLY_JS_NPM}`);
  plotlyPath = `${local}/plotly.min.js`;
  return plotlyPath;
}

/** One figure to render by {@linkcode renderImages}. */
export interface ImageJob {
  figure: PlotlyFigure;
  /** Output file; `.png` or `.svg`. */
  path: string;
  /** Pixels. @default {figure's layout width, else 900} */
  width?: number;
  /** Pixels. @default {figure's layout height, else 380} */
  height?: number;
}

/** Options of {@linkcode renderImages}. */
export interface RenderOptions {
  /** Chromium binary. @default {findChromium()} */
  chromium?: string;
  /** Give up after this long, in milliseconds. @default {60000} */
  timeoutMs?: number;
  /** PNG pixel ratio (2 = sharp on high-DPI screens, 4× the bytes). @default {1} */
  scale?: number;
}

/**
 * Renders figures to PNG/SVG files with one headless Chromium run: the page loads plotly.js and
 * calls `Plotly.toImage` for each figure; the images come back through `--dump-dom`.
 * @returns The paths written, in order.
 * @throws {RenderError} No Chromium, plotly.js not fetchable, a timeout, or a figure plotly rejects.
 */
export async function renderImages(jobs: readonly ImageJob[], options: RenderOptions = {}): Promise<string[]> {
  if (jobs.length === 0) return [];
  const chromium = options.chromium ?? findChromium();
  if (!chromium) {
    throw new RenderError("Cannot render chart: no Chromium found (apt-get install chromium or set CHROMIUM)");
  }
  for (const job of jobs) {
    if (!/\.(png|svg)$/i.test(job.path)) {
      throw new ParameterError(`Cannot render chart: "${job.path}" must end in .png or .svg`);
    }
  }
  const plotly = await plotlyJsPath();
  const dir = await Deno.makeTempDir({ prefix: "heartbeat-plot-" });
  try {
    const specs = jobs.map((job) => {
      const fig = toPlotlyJson(job.figure);
      const layout = fig.layout ?? {};
      const width = job.width ?? (layout.width as number | undefined) ?? 900;
      const height = job.height ?? (layout.height as number | undefined) ?? 380;
      fig.layout = { ...layout, width, height };
      const format = job.path.toLowerCase().endsWith(".svg") ? "svg" : "png";
      return { fig, width, height, format };
    });
    const page = `<!doctype html><html><head><meta charset="utf-8">
<script src="file://${plotly}"></script></head><body><div id="out"></div><script>
const specs = ${JSON.stringify(specs).replace(/</g, "\\u003c")};
const out = document.getElementById("out");
(async () => {
  for (let i = 0; i < specs.length; i++) {
    const s = specs[i];
    try {
      const url = await Plotly.toImage(s.fig, { format: s.format, width: s.width, height: s.height, scale: ${
      options.scale ?? 1
    } });
      const pre = document.createElement("pre"); pre.textContent = "IMG" + i + "=" + url; out.appendChild(pre);
    } catch (e) {
      const pre = document.createElement("pre"); pre.textContent = "ERR" + i + "=" + String(e).replace(/\\s+/g, " "); out.appendChild(pre);
    }
  }
})();
</script></body></html>`;
    await Deno.writeTextFile(`${dir}/page.html`, page);
    const command = new Deno.Command(chromium, {
      args: [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--no-first-run",
        "--disable-sync",
        "--allow-file-access-from-files",
        `--user-data-dir=${dir}/profile`,
        `--virtual-time-budget=${options.timeoutMs ?? 60000}`,
        "--dump-dom",
        `file://${dir}/page.html`,
      ],
      stdout: "piped",
      stderr: "null",
      signal: AbortSignal.timeout((options.timeoutMs ?? 60000) + 30000),
    });
    let dom: string;
    try {
      dom = new TextDecoder().decode((await command.output()).stdout);
    } catch (e) {
      throw new RenderError(`Cannot render chart: ${chromium} failed (${(e as Error).message.split("\n")[0]})`);
    }
    const written: string[] = [];
    for (let i = 0; i < jobs.length; i++) {
      const err = new RegExp(`ERR${i}=([^<]*)`).exec(dom);
      if (err) throw new RenderError(`Cannot render chart "${jobs[i].path}": ${err[1].slice(0, 200)}`);
      const m = new RegExp(`IMG${i}=data:image/(png|svg\\+xml)([^,]*),([^<]*)`).exec(dom);
      if (!m) throw new RenderError(`Cannot render chart "${jobs[i].path}": Chromium returned no image`);
      const bytes = m[2].includes("base64")
        ? decodeBase64(m[3])
        : new TextEncoder().encode(decodeURIComponent(unescapeHtml(m[3])));
      await Deno.writeFile(jobs[i].path, bytes);
      written.push(jobs[i].path);
    }
    return written;
  } finally {
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
}

function unescapeHtml(s: string): string {
  return s.replace(/&lt;/g, "<").replace(/&gt;/g, ">").replace(/&quot;/g, '"').replace(/&amp;/g, "&");
}

function decodeBase64(b64: string): Uint8Array {
  const bin = atob(b64.trim());
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}
