import assert from "node:assert/strict";
import {
  applyStandardScaler,
  endPad,
  type FeatureSet,
  fitFeatureDesign,
  fitStandardScaler,
  loadFeatureSet,
  protocolFolds,
  runExperiment,
  SPECS,
  stratifiedSubset,
  summaryFeatures,
  writeSyntheticDataset,
} from "../lib/experiments.ts";
import { bestOffsetNaive, type Sequence } from "../lib/align.ts";
import { mulberry32 } from "../lib/rng.ts";
import { assertAllClose, assertAlmostEquals } from "./_helpers.ts";

const seq = (pairs: number[][]): Sequence => ({ data: Float32Array.from(pairs.flat()), channels: 2 });

Deno.test("summaryFeatures() gives known statistics, percentiles and the frequency histogram", () => {
  const f = summaryFeatures(seq([[100, 1], [300, 2], [2500, 3], [100, 4]]));
  assert.equal(f.length, 35);
  const hzMean = 750, hzStd = Math.sqrt((650 ** 2 + 450 ** 2 + 1750 ** 2 + 650 ** 2) / 4);
  assertAllClose(f.slice(0, 9), [hzMean, hzStd, 100, 2500, 100, 100, 200, 850, 1840], 1e-3);
  assertAllClose(f.slice(9, 13), [2.5, Math.sqrt(1.25), 1, 4], 1e-6);
  const hist = f.slice(18); // 16 bins of 125 Hz over 0–2 kHz, then the share ≥ 2 kHz
  assertAllClose(hist, [0.5, 0, 0.25, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0.25], 1e-9);
});

Deno.test("fitStandardScaler() matches hand-computed means and scales; constant columns get scale 1", () => {
  const x = Float32Array.from([1, 5, 3, 5, 5, 5]); // 3 rows × 2 columns
  const s = fitStandardScaler(x, 2);
  assertAllClose(s.mean, [3, 5], 1e-12);
  assertAllClose(s.scale, [Math.sqrt(8 / 3), 1], 1e-12);
  assertAllClose(applyStandardScaler(x.slice(), s), [-2 / Math.sqrt(8 / 3), 0, 0, 0, 2 / Math.sqrt(8 / 3), 0], 1e-6);
});

Deno.test("endPad() pads with zeros at the end and cuts longer sequences", () => {
  assert.deepEqual([...endPad(seq([[1, 2], [3, 4]]), 3)], [1, 2, 3, 4, 0, 0]);
  assert.deepEqual([...endPad(seq([[1, 2], [3, 4]]), 1)], [1, 2]);
});

Deno.test("stratifiedSubset() keeps class shares, is seeded and keeps input order", () => {
  const items = Array.from({ length: 100 }, (_, i) => ({ classIndex: i < 70 ? 0 : i < 90 ? 2 : i < 97 ? 3 : 1, i }));
  const sub = stratifiedSubset(items, 20, 42);
  const count = (c: number) => sub.filter((r) => r.classIndex === c).length;
  assert.deepEqual([count(0), count(1), count(2), count(3)], [14, 2, 4, 2]);
  assert.deepEqual(sub, stratifiedSubset(items, 20, 42));
  assert.ok(sub.every((r, k) => k === 0 || sub[k - 1].i < r.i));
});

/** A FeatureSet of random sequences, without audio, for transform tests. */
function randomFeatureSet(n: number, seed: number): FeatureSet {
  const rng = mulberry32(seed);
  const sequences: Sequence[] = [];
  for (let i = 0; i < n; i++) {
    const frames = 5 + Math.floor(rng() * 40);
    sequences.push({
      data: Float32Array.from({ length: 2 * frames }, (_, k) => (k % 2 ? rng() : 100 + 900 * rng())),
      channels: 2,
    });
  }
  const labels = Int32Array.from({ length: n }, (_, i) => [0, 0, 0, 2, 2, 1, 3][i % 7]);
  const groups = Array.from({ length: n }, (_, i) => `p${Math.floor(i / 2)}`);
  return {
    recordings: Array.from({ length: n }, (_, i) => ({
      relPath: `r${i}.wav`,
      set: "b",
      patientId: groups[i],
      classIndex: labels[i],
      noisy: false,
    })),
    labels,
    groups,
    sequences,
    sampleRates: new Array(n).fill(4000),
    params: { deltaTimeS: 0.01, method: "dominant", targetRate: null },
    loadSeconds: 0,
    cacheHits: 0,
  };
}

Deno.test("fitFeatureDesign() p2: naive alignment, reference and per-position scaler from the fit set only", () => {
  const fs = randomFeatureSet(40, 3);
  const fit = Array.from({ length: 40 }, (_, i) => i).filter((i) => i % 4 !== 0);
  const design = fitFeatureDesign(SPECS.p2, fs, { fit });
  const lengths = fit.map((i) => fs.sequences[i].data.length / 2);
  const refIndex = fit[lengths.indexOf(Math.max(...lengths))];
  assert.equal(design.referenceIndex, refIndex);
  assert.equal(design.paddedFrames, Math.max(...lengths));
  // independent computation: naive offsets, padded matrix, column scaler over fit rows
  const frames = design.paddedFrames, d = 2 * frames;
  const padded = (i: number) => {
    const row = new Float32Array(d);
    const s = fs.sequences[i];
    const cut = { data: s.data.subarray(0, Math.min(s.data.length, d)), channels: 2 };
    row.set(cut.data, 2 * bestOffsetNaive(cut, fs.sequences[refIndex]));
    return row;
  };
  const fitRows = new Float32Array(fit.length * d);
  fit.forEach((i, r) => fitRows.set(padded(i), r * d));
  const scaler = fitStandardScaler(fitRows, d);
  const test = [0, 4, 8];
  const expected = new Float32Array(test.length * d);
  test.forEach((i, r) => expected.set(padded(i), r * d));
  applyStandardScaler(expected, scaler);
  assertAllClose(design.x(test), expected, 1e-3, 1e-4);
});

Deno.test("fitFeatureDesign() p2: a shared alignment cache never hands one feature set another set's offsets", () => {
  // "mini" is a subset of "small" with the same frames and, often, the same longest reference file.
  const full = randomFeatureSet(40, 5);
  const longest = full.sequences.reduce((b, s, i) => (s.data.length > full.sequences[b].data.length ? i : b), 0);
  const keep = Array.from({ length: 40 }, (_, i) => i).filter((i) => i % 3 !== 1 || i === longest);
  const subset = {
    ...full,
    recordings: keep.map((i) => full.recordings[i]),
    labels: Int32Array.from(keep, (i) => full.labels[i]),
    groups: keep.map((i) => full.groups[i]),
    sequences: keep.map((i) => full.sequences[i]),
    sampleRates: keep.map(() => 4000),
  };
  const all = (fs: typeof full) => Array.from({ length: fs.labels.length }, (_, i) => i);
  const alignmentCache = new Map<string, Int32Array>();
  fitFeatureDesign(SPECS.p2, subset, { fit: all(subset), alignmentCache }); // fills the cache first
  const cached = fitFeatureDesign(SPECS.p2, full, { fit: all(full), alignmentCache });
  const fresh = fitFeatureDesign(SPECS.p2, full, { fit: all(full) });
  assert.equal(cached.referenceIndex, fresh.referenceIndex);
  assert.deepEqual(cached.x(all(full)), fresh.x(all(full)));
});

Deno.test("fitFeatureDesign() p1: pads to the longest fit sequence, scales per channel", () => {
  const fs = randomFeatureSet(12, 5);
  const design = fitFeatureDesign(SPECS.p1, fs, { fit: [0, 1, 2] });
  const frames = Math.max(...[0, 1, 2].map((i) => fs.sequences[i].data.length / 2));
  assert.equal(design.numFeatures, 2 * frames);
  const row = design.x([3]);
  assert.equal(row.length, 2 * frames);
  const raw = fs.sequences[3].data;
  // ratios between same-channel values are preserved by a per-channel scale
  assertAlmostEquals(row[0] / row[2], raw[0] / raw[2], 1e-4);
});

Deno.test("runExperiment() gbdt under grouped-cv fits on training folds only (audit)", async () => {
  const fs = randomFeatureSet(60, 9);
  const result = await runExperiment("gbdt", fs, { protocol: "grouped-cv", preset: "small", maxRounds: 5 });
  assert.equal(result.folds.length, 5);
  const tested = new Set<number>();
  for (const f of result.folds) {
    const test = new Set(f.audit.testIndices);
    for (const i of f.audit.fitIndices) assert.ok(!test.has(i), `fit index ${i} is in the test fold`);
    const testGroups = new Set(f.audit.testIndices.map((i) => fs.groups[i]));
    for (const i of f.audit.trainIndices) assert.ok(!testGroups.has(fs.groups[i]));
    f.audit.testIndices.forEach((i) => tested.add(i));
    assert.ok(f.metrics.accuracy >= 0 && f.metrics.accuracy <= 1);
  }
  assert.equal(tested.size, 60);
  assert.equal(result.pooled!.confusion.flat().reduce((a, b) => a + b, 0), 60);
  assert.ok(result.modelBytes > 0);
});

Deno.test("protocolFolds() original is one 80/20 split over all recordings", () => {
  const fs = randomFeatureSet(50, 1);
  const [fold, ...rest] = protocolFolds(fs, "original", 42);
  assert.equal(rest.length, 0);
  assert.deepEqual([fold.train.length, fold.test.length], [40, 10]);
});

Deno.test("loadFeatureSet() reads synthetic WAVs through the cache with the original's framing", async () => {
  const dir = await Deno.makeTempDir({ prefix: "heartbeat-exp-" });
  try {
    const recs = await writeSyntheticDataset(`${dir}/data`, { perClass: 2, durationS: 1, seed: 3 });
    assert.equal(recs.length, 8);
    const cache = { dir: `${dir}/cache` };
    const params = { deltaTimeS: 0.01, method: "dominant" as const, targetRate: null };
    const first = await loadFeatureSet(recs, params, { cache });
    assert.equal(first.cacheHits, 0);
    const second = await loadFeatureSet(recs, params, { cache });
    assert.equal(second.cacheHits, 8);
    assert.deepEqual(second.sequences, first.sequences);
    recs.forEach((r, i) => {
      const rate = r.set === "a" ? 8000 : 4000; // writeSyntheticDataset's rates
      const hop = (rate === 8000 ? 64 : 32) / 4; // nFft = 2^floor(log2(0.01 · rate))
      assert.equal(first.sampleRates[i], rate);
      assert.equal(first.sequences[i].data.length / 2, 1 + Math.floor(rate / hop));
    });
    const resampled = await loadFeatureSet(recs, { ...params, targetRate: 4000 }, { cache });
    assert.ok(resampled.sampleRates.every((r) => r === 4000));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("reproduce --quick runs every experiment end to end on synthetic data without test-set leakage", async () => {
  const { reproduce } = await import("../scripts/reproduce.ts");
  const out = await Deno.makeTempDir({ prefix: "heartbeat-reproduce-" });
  const cacheDir = `${out}/cache`;
  Deno.env.set("HEARTBEAT_CACHE", cacheDir);
  try {
    const logs: string[] = [];
    const { results, dataSource } = await reproduce({
      quick: true,
      synthetic: true,
      outDir: out,
      quickEpochs: 2,
      jobs: 1,
      log: (l) => logs.push(l),
    });
    assert.match(dataSource, /^synthetic/);
    assert.deepEqual(
      results.map((r) => `${r.experiment}/${r.protocol}`),
      ["baseline", "gbdt", "p1", "p2", "cnn"].flatMap((e) => [`${e}/original`, `${e}/grouped-cv`]),
    );
    for (const r of results) {
      if (r.status !== "ok") {
        assert.equal(r.experiment, "cnn", `${r.id} did not run: ${r.notes.join("; ")}`);
        continue;
      }
      assert.equal(r.folds.length, r.protocol === "original" ? 1 : 5, r.id);
      for (const key of ["accuracy", "balancedAccuracy", "macroF1", "majorityBaseline"] as const) {
        assert.ok(r.summary[key].mean >= 0 && r.summary[key].mean <= 1, `${r.id} ${key}`);
      }
      const k = r.pooled!.confusion;
      assert.deepEqual([k.length, k[0].length], [4, 4]);
      assert.equal(k.flat().reduce((a, b) => a + b, 0), r.folds.reduce((s, f) => s + f.testSize, 0));
      if (r.experiment === "cnn") continue;
      for (const f of r.folds) {
        const test = new Set(f.audit.testIndices);
        for (const i of [...f.audit.trainIndices, ...f.audit.validationIndices]) {
          assert.ok(!test.has(i) || r.protocol === "original" && f.audit.validationIndices.includes(i), `${r.id}`);
        }
        if (r.protocol === "grouped-cv") {
          for (const i of f.audit.fitIndices) assert.ok(!test.has(i), `${r.id}: fitted on test recording ${i}`);
          if (r.experiment === "p2") {
            assert.ok(f.audit.fitIndices.includes(f.audit.referenceIndex), `${r.id}: reference not from training`);
          }
        } else {
          // protocol (a) reproduces the original's leak on purpose: scalers and reference see every recording
          assert.equal(f.audit.fitIndices.length, r.numRecordings);
        }
      }
    }
    const readme = await Deno.readTextFile(`${out}/README.md`);
    assert.match(readme, /\| p2 \| small \| grouped-cv \| native \| 48 \| \d\.\d{3} ± \d\.\d{3} \|/);
    const saved = JSON.parse(await Deno.readTextFile(`${out}/small-gbdt-grouped-cv-native.json`));
    assert.equal(saved.folds.length, 5);
    assert.equal(saved.folds[0].audit, undefined);
    assert.ok(logs.some((l) => l.startsWith("total wall time")));
  } finally {
    Deno.env.delete("HEARTBEAT_CACHE");
    await Deno.remove(out, { recursive: true });
  }
});

Deno.test("shardPlan() balances by earlier run times, covers every run once, keeps plan order", async () => {
  const { fullPlan, runId, shardPlan } = await import("../scripts/reproduce.ts");
  const plan = fullPlan();
  // made-up times: one long run, the rest one second each
  const seconds = Object.fromEntries(plan.map((run, i) => [runId(run), i === 3 ? plan.length : 1]));
  const shards = shardPlan(plan, 2, seconds);
  const ids = shards.flat().map(runId);
  assert.deepEqual([...ids].sort(), plan.map(runId).sort());
  const load = (shard: typeof plan) => shard.reduce((sum, run) => sum + (run.skip ? 0 : seconds[runId(run)]), 0);
  const skipped = plan.filter((run) => run.skip).length;
  // the long run alone on one shard, everything else on the other (optimal for these times)
  assert.ok(shards.some((shard) => shard.length === 1 && runId(shard[0]) === runId(plan[3])));
  assert.ok(Math.abs(load(shards[0]) - load(shards[1])) <= 1 + skipped);
  for (const shard of shards) {
    const positions = shard.map((run) => plan.indexOf(run));
    assert.deepEqual(positions, [...positions].sort((a, b) => a - b));
  }
});

Deno.test("fullPlan() adds uncapped p1/p2 runs on main with their own ids, and challenge JSON keeps ±Infinity", async () => {
  const { fullPlan, parseFinite, runId, stringifyFinite } = await import("../scripts/reproduce.ts");
  const full = fullPlan().filter((run) => run.full);
  assert.deepEqual(full.map(runId).sort(), [
    "main-p1-grouped-cv-native-full",
    "main-p1-original-native-full",
    "main-p2-grouped-cv-native-full",
    "main-p2-original-native-full",
  ]);
  assert.ok(full.every((run) => run.maxEpochs === undefined));
  const capped = fullPlan().filter((run) => run.preset === "main" && run.experiment === "p1" && !run.full);
  assert.ok(capped.every((run) => run.maxEpochs === 3));
  const doc = { dp: Infinity, low: -Infinity, none: NaN, x: 0.5 };
  const text = stringifyFinite(doc);
  assert.ok(text.includes('"Infinity"'));
  const back = parseFinite<typeof doc>(text);
  assert.equal(back.dp, Infinity);
  assert.equal(back.low, -Infinity);
  assert.ok(Number.isNaN(back.none));
  assert.equal(back.x, 0.5);
});
