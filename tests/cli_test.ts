/** End-to-end tests of the CLI `deno run -R lib/infer.ts`, run as a subprocess with read permission only. */
import assert from "node:assert/strict";
import { loadClassifier } from "../lib/classifier.ts";
import { VERSION } from "../lib/version.ts";
import { badWavs, ROOT, shippedModelWithoutQuality, softmax, synthWav, writeConstantModel } from "./_infer_fixtures.ts";
import { assertAlmostEquals } from "./_helpers.ts";

interface Run {
  code: number;
  stdout: string[];
  stderr: string[];
}

async function cli(args: string[], permissions: string[] = []): Promise<Run> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-R", ...permissions, `${ROOT}/lib/infer.ts`, ...args],
    cwd: ROOT,
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1" },
  }).output();
  const lines = (bytes: Uint8Array) => new TextDecoder().decode(bytes).split("\n").filter((l) => l.length > 0);
  return { code: out.code, stdout: lines(out.stdout), stderr: lines(out.stderr) };
}

function assertNoStackTrace(run: Run): void {
  for (const line of [...run.stdout, ...run.stderr]) assert.doesNotMatch(line, /^\s+at /, `stack line: ${line}`);
}

const GOOD_KEYS = [
  "confidence",
  "file",
  "heartRateBpm",
  "irregularRhythm",
  "label",
  "labelId",
  "model",
  "probabilities",
  "quality",
  "s1TimesS",
  "s2TimesS",
];
const CLASSES = ["normal", "extrahls", "murmur", "extrastole"];
const IDS: Record<string, number> = { normal: 0, extrahls: 1, murmur: 2, extrastole: 4 };

/** A folder with good WAVs (different rates, depths, channels, a subfolder) and every kind of bad one. */
async function makeInputs(): Promise<{ dir: string; good: string[]; bad: { path: string; error: RegExp }[] }> {
  const dir = await Deno.makeTempDir({ prefix: "heartbeat_cli_" });
  await Deno.mkdir(`${dir}/folder/sub`, { recursive: true });
  const good = [
    `${dir}/normal_4k16.wav`,
    `${dir}/folder/sub/murmur_44k24_stereo.wav`,
    `${dir}/folder/a_extrastole.wav`,
  ];
  await Deno.writeFile(good[0], synthWav("normal", { seed: 3 }));
  await Deno.writeFile(good[1], synthWav("murmur", { seed: 4, sampleRate: 44100, bitDepth: 24, channels: 2 }));
  await Deno.writeFile(good[2], synthWav("extrastole", { seed: 5, sampleRate: 8000, bitDepth: 32, encoding: "float" }));
  await Deno.writeTextFile(`${dir}/folder/notes.txt`, "not audio, ignored in folders");
  const bad = [];
  for (const { name, bytes, error } of badWavs()) {
    await Deno.writeFile(`${dir}/${name}`, bytes);
    bad.push({ path: `${dir}/${name}`, error });
  }
  bad.push({ path: `${dir}/missing.wav`, error: /no such file/ });
  return { dir, good, bad };
}

Deno.test("infer CLI --json classifies good files and reports bad ones in input order, exit 1", async () => {
  const { dir, good, bad } = await makeInputs();
  try {
    // good file, then every bad one interleaved, then a folder (expanded recursively, sorted)
    const args = [good[0], ...bad.map((b) => b.path), `${dir}/folder`];
    const run = await cli(["--json", ...args]);
    assert.equal(run.code, 1, run.stderr.join("\n"));
    assertNoStackTrace(run);
    const expectedFiles = [good[0], ...bad.map((b) => b.path), good[2], good[1]]; // "a_extrastole" < "sub/"
    const objects = run.stdout.map((line) => JSON.parse(line));
    assert.deepEqual(objects.map((o) => o.file), expectedFiles);
    // every failure: exactly {file, error} on stdout, and one stderr line naming the file
    assert.equal(run.stderr.length, bad.length);
    for (const [i, b] of bad.entries()) {
      const o = objects[1 + i];
      assert.deepEqual(Object.keys(o).sort(), ["error", "file"]);
      assert.match(o.error, b.error);
      assert.match(o.error, /^Cannot /);
      assert.equal(run.stderr[i], `${b.path}: ${o.error}`);
    }
    // every success: the documented shape, consistent numbers
    for (const o of [objects[0], ...objects.slice(1 + bad.length)]) {
      assert.deepEqual(Object.keys(o).filter((k) => k !== "warning").sort(), GOOD_KEYS);
      assert.deepEqual(Object.keys(o.probabilities), CLASSES);
      const probs = CLASSES.map((c) => o.probabilities[c]);
      assertAlmostEquals(probs.reduce((a, b) => a + b, 0), 1, 2e-4);
      // the top class, or the second where an extrastole call found no premature beat (lib/classifier.ts chooseLabel)
      if (o.confidence !== Math.max(...probs)) {
        assert.ok(o.probabilities.extrastole === Math.max(...probs) && !o.irregularRhythm.flagged);
      }
      assert.equal(o.probabilities[o.label], o.confidence);
      assert.equal(o.labelId, IDS[o.label]);
      assert.ok(o.heartRateBpm === null || (o.heartRateBpm > 30 && o.heartRateBpm < 250));
      assert.ok(Array.isArray(o.s1TimesS) && Array.isArray(o.s2TimesS));
      assert.ok(o.quality === null || (o.quality >= 0 && o.quality <= 1));
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("infer CLI agrees with the module API and exits 0 when every file is classified", async () => {
  const { dir, good } = await makeInputs();
  try {
    const run = await cli(["--json", ...good]);
    assert.equal(run.code, 0, run.stderr.join("\n"));
    assert.deepEqual(run.stderr, []);
    const classifier = await loadClassifier();
    for (const [i, line] of run.stdout.entries()) {
      const o = JSON.parse(line);
      const expected = classifier.classifyWav(await Deno.readFile(good[i]));
      assert.equal(o.label, expected.label);
      for (const c of CLASSES) assertAlmostEquals(o.probabilities[c], expected.probabilities[c as "normal"], 5e-5);
      if (expected.heartRateBpm !== null) assertAlmostEquals(o.heartRateBpm, expected.heartRateBpm, 0.05);
      assert.equal(o.s1TimesS.length, expected.s1TimesS.length);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("infer CLI gives the same output with a worker pool (--jobs 2) and in process (--jobs 1)", async () => {
  const { dir, good, bad } = await makeInputs();
  try {
    const args = ["--json", good[0], bad[0].path, `${dir}/folder`, bad[2].path, good[0]];
    const one = await cli(["--jobs", "1", ...args]);
    const two = await cli(["--jobs=2", ...args]);
    assert.equal(one.code, 1);
    assert.equal(two.code, 1);
    assert.equal(two.stdout.length, 5); // good[0] twice: classified once
    assert.deepEqual(two.stdout, one.stdout);
    assert.deepEqual(two.stderr, one.stderr);
    assertNoStackTrace(two);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("infer CLI --model loads another model (a constant one gives softmax of its bias)", async () => {
  const dir = await Deno.makeTempDir({ prefix: "heartbeat_cli_model_" });
  try {
    const bias = [0.2, -1, 1.5, 0.1];
    await writeConstantModel(`${dir}/constant model`, bias);
    await Deno.writeFile(`${dir}/x.wav`, synthWav("normal"));
    for (const model of [`${dir}/constant model`, `${dir}/constant model/model.json`]) {
      const run = await cli(["--json", "--model", model, `${dir}/x.wav`, `${dir}/x.wav`, "--jobs", "2"]);
      assert.equal(run.code, 0, run.stderr.join("\n"));
      const o = JSON.parse(run.stdout[0]);
      const expected = softmax(bias);
      for (const [k, c] of CLASSES.entries()) assertAlmostEquals(o.probabilities[c], expected[k], 1e-4);
      assert.equal(o.label, "murmur");
      assert.equal(o.labelId, 2);
      assert.equal(o.model.name, "unnamed"); // its preprocessing.json names no model
      assert.match(o.model.hash, /^[0-9a-f]{16}$/);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("infer CLI classifies a file given twice (directly and inside its folder) once", async () => {
  const { dir, good } = await makeInputs();
  try {
    const run = await cli(["--json", good[2], `${dir}/folder`, `${dir}/folder/../folder/a_extrastole.wav`]);
    assert.equal(run.code, 0, run.stderr.join("\n"));
    assert.deepEqual(run.stdout.map((l) => JSON.parse(l).file), [good[2], good[1]]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

/** The cells of one CSV line (RFC 4180 quoting: a warning may hold commas). */
function csvCells(line: string): string[] {
  return [...line.matchAll(/("(?:[^"]|"")*"|[^,]*)(?:,|$)/g)].slice(0, -1).map((m) =>
    m[1].startsWith('"') ? m[1].slice(1, -1).replaceAll('""', '"') : m[1]
  );
}

Deno.test("infer CLI text and --csv output: one line per file, header for CSV, errors as rows", async () => {
  const { dir, good, bad } = await makeInputs();
  try {
    const text = await cli([good[0], bad[0].path]);
    assert.equal(text.code, 1);
    assert.equal(text.stdout.length, 1);
    // Words for a person: display names and the explanation, no data set ids.
    const names = ["Normal", "Extra heart sound", "Murmur", "Extrasystole"];
    assert.match(text.stdout[0], new RegExp(`^${good[0]}: (${names.join("|")}) \\(\\d\\.\\d\\d\\), [a-z]`));
    for (const c of names) assert.match(text.stdout[0], new RegExp(`${c} \\d\\.\\d\\d`));
    assert.doesNotMatch(text.stdout[0], /\bextrahls\b|\bextrastole\b|: (normal|murmur) \(/);
    assert.match(text.stdout[0], /(\d+ bpm|heart rate not found)/);
    assert.equal(text.stderr.length, 1);

    const csv = await cli(["--csv", good[0], bad[0].path]);
    assert.equal(csv.code, 1);
    assert.equal(
      csv.stdout[0],
      "file,label,labelId,confidence,normal,extrahls,murmur,extrastole,heartRateBpm,s1TimesS,s2TimesS,quality,warning,error,model,modelVersion,modelHash",
    );
    const row = csvCells(csv.stdout[1]);
    assert.equal(row.length, 17);
    assert.equal(row[0], good[0]);
    assertAlmostEquals(row.slice(4, 8).map(Number).reduce((a, b) => a + b, 0), 1, 2e-4);
    const s1 = row[9].split(" ").map(Number);
    assert.ok(s1.length > 2 && s1.every((t, i) => t >= 0 && (i === 0 || t > s1[i - 1])), `S1 times "${row[9]}"`);
    const { name, version, hash } = (await loadClassifier()).model;
    assert.deepEqual(row.slice(14), [name, version, hash]);
    assert.match(
      csv.stdout[2],
      /^[^,]+,,,,,,,,,,,,,"Cannot read WAV: not a RIFF\/WAVE file \(starts with ""hell""\)",,,$/,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("infer CLI usage errors exit 2 with one stderr line", async (t) => {
  const cases: [string, string[], RegExp][] = [
    ["no inputs", [], /no input files/],
    ["unknown option", ["--frobnicate", "x.wav"], /unknown option --frobnicate/],
    ["two formats", ["--json", "--csv", "x.wav"], /one of --json and --csv/],
    ["--model without value", ["x.wav", "--model"], /--model needs a value/],
    ["bad --jobs", ["--jobs", "0", "x.wav"], /--jobs is "0"/],
    ["bad --backend", ["--backend=gpu", "x.wav"], /--backend is "gpu", expected js, cpu, wasm/],
    ["missing model", ["--model", "/nonexistent/model", "x.wav"], /^Cannot load model: .*nonexistent/],
    ["--report of two files", ["--report", "r.html", "x.wav", "y.wav"], /--report writes the report of one recording/],
    ["--timeline with --csv", ["--timeline", "--csv", "x.wav"], /--timeline is JSON, not CSV/],
  ];
  for (const [name, args, error] of cases) {
    await t.step(name, async () => {
      const run = await cli(args);
      assert.equal(run.code, 2);
      assert.deepEqual(run.stdout, []);
      assert.equal(run.stderr.length, 1, run.stderr.join("\n"));
      assert.match(run.stderr[0], error);
    });
  }
});

Deno.test("infer CLI --help and --demo exit 0", async () => {
  const help = await cli(["--help"]);
  assert.equal(help.code, 0);
  assert.match(help.stdout[0], /Classify heart-sound recordings/);
  assert.ok(help.stdout.some((l) => l.includes("--json")));
  const demo = await cli(["--demo", "--json"]);
  assert.equal(demo.code, 0, demo.stderr.join("\n"));
  const files = demo.stdout.map((l) => JSON.parse(l).file);
  assert.deepEqual(files, [
    "examples/synthetic_extrahls.wav",
    "examples/synthetic_extrastole.wav",
    "examples/synthetic_murmur.wav",
    "examples/synthetic_normal.wav",
  ]);
});

Deno.test("infer CLI --version prints the package version and the model's name, version and hash", async () => {
  const run = await cli(["--version"]);
  assert.equal(run.code, 0, run.stderr.join("\n"));
  const { name, version, hash } = (await loadClassifier()).model;
  assert.deepEqual(run.stdout, [`heartbeat ${VERSION}`, `model ${name} ${version} ${hash}`]);
});

Deno.test("infer CLI --json has irregularRhythm, --timeline the windows, --report an offline HTML file", async () => {
  const dir = await Deno.makeTempDir({ prefix: "heartbeat-cli-report-" });
  // Without the quality model: the shipped one asks to retake synthetic recordings and then withholds the rhythm flag.
  const model = await shippedModelWithoutQuality();
  try {
    const file = "examples/synthetic_extrastole.wav";
    const json = await cli(["--model", model, "--json", file]);
    const o = JSON.parse(json.stdout[0]);
    assert.equal(o.timeline, undefined);
    // examples/make_examples.ts plants 2 premature beats in this one.
    assert.equal(o.irregularRhythm.flagged, true);
    assert.equal(o.irregularRhythm.earlyBeatTimesS.length, 2);
    assert.equal(o.irregularRhythm.lateBeatTimesS.length, 2);
    const report = `${dir}/r.html`;
    const run = await cli(["--model", model, "--timeline", "--report", report, file], ["-W"]);
    assert.equal(run.code, 0, run.stderr.join("\n"));
    const t = JSON.parse(run.stdout[0]);
    assert.deepEqual(t.irregularRhythm, o.irregularRhythm);
    // 10 s: windows of 3 s every 1.52 s, the last one flush with the end.
    assert.deepEqual(t.timeline.map((w: { startS: number }) => w.startS), [0, 1.52, 3.04, 4.56, 6.08, 7.04]);
    assert.equal(t.timeline.at(-1).endS, 10);
    for (const w of t.timeline) assert.ok(CLASSES.includes(w.label) && Object.keys(w.probabilities).length === 4);
    const html = await Deno.readTextFile(report);
    assert.ok(html.includes("Heart-sound report: synthetic_extrastole.wav"));
    assert.ok(html.includes("Research software, not a medical device."));
    assert.equal(html.match(/data-window=/g)?.length, 6);
    assert.equal(html.match(/early beat at/g)?.length, 2);
  } finally {
    await Deno.remove(dir, { recursive: true });
    await Deno.remove(model, { recursive: true });
  }
});

Deno.test("infer CLI --demo says which examples the model gets wrong", async () => {
  const demo = await cli(["--demo"]);
  assert.equal(demo.code, 0, demo.stderr.join("\n"));
  assert.equal(demo.stdout.length, 6);
  assert.match(demo.stdout[0], /^Bundled examples: synthetic heart sounds .*not real recordings/);
  for (const line of demo.stdout.slice(1, 5)) {
    const kind = /synthetic_(\w+)\.wav: (.+?) \(/.exec(line)!;
    const right = { normal: "Normal", murmur: "Murmur", extrahls: "Extra heart sound", extrastole: "Extrasystole" }[
      kind[1]
    ] === kind[2];
    assert.equal(line.includes("the model gets this one wrong"), !right, line);
  }
  assert.match(demo.stdout[5], /^The model (recognises every example|gets \d of 4 examples right)/);
});
