import assert from "node:assert/strict";
import {
  barFigure,
  confusionFigure,
  decimate,
  display,
  findChromium,
  histogramFigure,
  jupyterApi,
  lineFigure,
  plotlyBundle,
  type PlotlyFigure,
  renderImages,
  spectrogramFigure,
  stackFigures,
  tableBundle,
  toPlotlyJson,
} from "../lib/plot.ts";
import { ParameterError } from "../lib/errors.ts";
import { stft } from "../lib/stft.ts";
import { mulberry32 } from "../lib/rng.ts";
import { compactNotebookJson, notebookErrors, parseArgs } from "../scripts/notebooks.ts";

Deno.test("decimate() returns short series whole, with x from the sample rate", () => {
  const { x, y } = decimate(new Float32Array([1, -2, 3]), { sampleRate: 4 });
  assert.deepEqual(y, [1, -2, 3]);
  assert.deepEqual(x, [0, 0.25, 0.5]);
});

Deno.test("decimate() keeps each bucket's min and max in time order", () => {
  const rng = mulberry32(3);
  const n = 10_007, maxPoints = 200;
  const y = Float64Array.from({ length: n }, () => rng() * 2 - 1);
  y[4321] = 5; // a spike must survive
  y[777] = -7;
  const out = decimate(y, { maxPoints });
  assert.ok(out.y.length <= maxPoints && out.y.length === out.x.length);
  assert.ok(out.y.includes(5) && out.y.includes(-7));
  for (let i = 1; i < out.x.length; i++) assert.ok(out.x[i] > out.x[i - 1], "x ascending");
  // Reference: the min and max of every bucket, computed independently.
  const buckets = maxPoints / 2;
  const expected: number[] = [];
  for (let b = 0; b < buckets; b++) {
    const slice = Array.from(y.subarray(Math.floor(b * n / buckets), Math.floor((b + 1) * n / buckets)));
    const lo = slice.indexOf(Math.min(...slice)), hi = slice.indexOf(Math.max(...slice));
    expected.push(...(lo < hi ? [slice[lo], slice[hi]] : [slice[hi], slice[lo]]));
  }
  assert.deepEqual(out.y, expected);
});

Deno.test("decimate() rejects bad options", () => {
  assert.throws(() => decimate([1, 2, 3], { maxPoints: 1 }), ParameterError);
  assert.throws(() => decimate([1, 2, 3], { x: [1, 2] }), /Cannot decimate series: 2 x values for 3 y values/);
});

Deno.test("toPlotlyJson() turns typed arrays into arrays, rounds and nulls non-finite numbers", () => {
  const fig: PlotlyFigure = { data: [{ type: "scatter", y: new Float32Array([1 / 3, NaN, 2, 12345.678]) }] };
  const json = toPlotlyJson(fig);
  assert.deepEqual(json.data[0].y, [0.3333, null, 2, 12350]);
  assert.deepEqual(toPlotlyJson(fig, { digits: 2 }).data[0].y, [0.33, null, 2, 12000]);
});

Deno.test("plotlyBundle() and display() give the plotly MIME bundle outside a kernel", async () => {
  assert.equal(jupyterApi(), undefined);
  const fig = lineFigure([{ y: [1, 2, 3], name: "a" }], { title: "T", xTitle: "s" });
  const bundle = await display(fig);
  assert.deepEqual(bundle, plotlyBundle(fig));
  const json = bundle["application/vnd.plotly.v1+json"] as PlotlyFigure;
  assert.deepEqual(json.data[0].y, [1, 2, 3]);
  assert.equal((json.layout!.title as { text: string }).text, "T");
  assert.equal(bundle["text/plain"], "<plotly T: 1 trace(s) (scatter)>");
});

Deno.test("lineFigure() decimates every series", () => {
  const fig = lineFigure([{ y: new Float32Array(50_000) }, { y: [1, 2] }], { maxPoints: 500 });
  assert.ok((fig.data[0].y as number[]).length <= 500);
  assert.equal((fig.data[1].y as number[]).length, 2);
});

Deno.test("spectrogramFigure() pools to the cell limits and peaks at the tone's frequency", () => {
  const sampleRate = 4000, nFft = 256, freq = 40 * sampleRate / nFft; // exactly bin 40 = 625 Hz
  const samples = Float32Array.from({ length: 8000 }, (_, i) => Math.sin(2 * Math.PI * freq * i / sampleRate));
  const spec = stft({ samples, sampleRate }, { nFft, hopLength: 16 });
  const fig = spectrogramFigure(spec, { maxFrames: 100, maxBins: 129, maxHz: 1000 });
  const trace = fig.data[0];
  const z = trace.z as number[][], y = trace.y as number[];
  assert.ok(z[0].length <= 100);
  assert.equal(y.length, Math.floor(1000 / (sampleRate / nFft)) + 1); // bins 0..64, unpooled
  let best = 0;
  for (let r = 0; r < z.length; r++) if (z[r][250 % z[0].length] > z[best][250 % z[0].length]) best = r;
  assert.equal(y[best], freq);
  assert.equal(Math.max(...z.flat()), 0); // dB relative to the peak
  assert.ok(Math.min(...z.flat()) >= -80);
});

Deno.test("confusionFigure() colours row shares, writes counts and reverses the y axis", () => {
  const fig = confusionFigure([[3, 1], [0, 4]], ["a", "b"]);
  const trace = fig.data[0];
  assert.deepEqual(trace.z, [[0.75, 0.25], [0, 1]]);
  assert.deepEqual(trace.text, [["3", "1"], ["0", "4"]]);
  assert.equal((fig.layout!.yaxis as { autorange: string }).autorange, "reversed");
  assert.throws(() => confusionFigure([[1, 2]], ["a", "b"]), /Cannot build confusion chart/);
});

Deno.test("barFigure() and histogramFigure() build grouped traces", () => {
  const bars = barFigure(["x", "y"], [{ name: "s", values: [1, 2], errors: [0.1, 0.2] }]);
  assert.deepEqual(bars.data[0].error_y, { type: "data", array: [0.1, 0.2], visible: true });
  assert.throws(() => barFigure(["x"], [{ values: [1, 2] }]), ParameterError);
  const hist = histogramFigure([{ values: [1, 2] }, { values: [3] }], { binSize: 0.5 });
  assert.deepEqual(hist.data[1].xbins, { start: 0, size: 0.5 });
  assert.equal(hist.layout!.barmode, "overlay");
});

Deno.test("stackFigures() gives each panel its own y axis on a shared x axis", () => {
  const a = lineFigure([{ y: [1, 2] }], { title: "A", yTitle: "ya" });
  const b = lineFigure([{ y: [3, 4] }], { title: "B", xTitle: "t" });
  const fig = stackFigures([a, b]);
  assert.deepEqual(fig.data.map((t) => [t.xaxis, t.yaxis]), [["x", "y"], ["x", "y2"]]);
  const [d1, d2] = [
    (fig.layout!.yaxis as { domain: number[] }).domain,
    (fig.layout!.yaxis2 as { domain: number[] }).domain,
  ];
  assert.ok(d1[0] > d2[1], "panel 1 above panel 2");
  assert.equal((fig.layout!.xaxis as { anchor: string }).anchor, "y2");
  assert.deepEqual((fig.layout!.annotations as { text: string }[]).map((a) => a.text), ["A", "B"]);
});

Deno.test("tableBundle() aligns plain text and escapes HTML", () => {
  const t = tableBundle([{ name: "<a>", v: 0.12345 }, { name: "b", v: 10 }, { name: "c", v: NaN }], { decimals: 2 });
  assert.equal(t["text/plain"], "name  v\n<a>   0.12\nb     10\nc     —");
  assert.ok(t["text/html"].includes("<td>&lt;a&gt;</td><td>0.12</td>"));
});

Deno.test("compactNotebookJson() round-trips with sorted keys and one-line number arrays", () => {
  const nb = {
    nbformat: 4,
    cells: [{ source: ["a\n", "b"], outputs: [{ data: { y: [1, 2.5, null] } }] }],
    metadata: {},
  };
  const text = compactNotebookJson(nb);
  assert.deepEqual(JSON.parse(text), nb);
  assert.ok(text.includes('"y": [1,2.5,null]'));
  assert.ok(
    text.indexOf('"cells"') < text.indexOf('"metadata"') && text.indexOf('"metadata"') < text.indexOf('"nbformat"'),
  );
  assert.ok(text.includes('   "source": [\n    "a\\n",\n    "b"\n   ]'));
});

Deno.test("notebookErrors() lists error outputs", () => {
  const nb = {
    cells: [{ outputs: [{ output_type: "stream" }] }, {
      outputs: [{ output_type: "error", ename: "TypeError", evalue: "x is not\na function" }],
    }],
  };
  assert.deepEqual(notebookErrors(nb), ["cell 1: TypeError: x is not"]);
});

Deno.test("parseArgs() writes quick runs aside and full runs in place", () => {
  const none = () => undefined;
  const quick = parseArgs(["--quick", "00"], none);
  assert.ok(quick.quick && quick.outDir!.endsWith("/.cache/notebooks") && !quick.images);
  assert.deepEqual(quick.filters, ["00"]);
  const full = parseArgs([], none);
  assert.ok(!full.quick && full.outDir === undefined && full.images);
  assert.ok(parseArgs([], (n) => n === "HEARTBEAT_QUICK" ? "1" : undefined).quick);
  assert.throws(() => parseArgs(["--bogus"], none), /unknown option --bogus/);
});

Deno.test({
  name: "renderImages() writes a PNG of the requested size",
  ignore: findChromium() === undefined,
  fn: async () => {
    const dir = await Deno.makeTempDir();
    try {
      const path = `${dir}/fig.png`;
      await renderImages([{ figure: barFigure(["a", "b"], [{ values: [1, 2] }]), path, width: 320, height: 200 }]);
      const png = await Deno.readFile(path);
      assert.deepEqual([...png.subarray(0, 8)], [137, 80, 78, 71, 13, 10, 26, 10]);
      const view = new DataView(png.buffer, png.byteOffset);
      assert.deepEqual([view.getUint32(16), view.getUint32(20)], [320, 200]); // IHDR width, height
      await assert.rejects(renderImages([{ figure: { data: [] }, path: `${dir}/x.jpg` }]), ParameterError);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
