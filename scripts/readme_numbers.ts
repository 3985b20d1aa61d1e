/**
 * The numbers README.md quotes, read from the files the scripts that measured them wrote:
 * results/cnn.json (`deno task train`), results/*.json (`deno task reproduce`), results/beats.json
 * (`scripts/score_beats.ts --out results/beats.json`), the model folder's size, and dist/build-info.json
 * (`deno task build`). tests/readme_test.ts checks that README.md quotes each of them as printed.
 *
 * ```sh
 * deno run -R scripts/readme_numbers.ts          # one "name: value" line per number
 * ```
 * @module
 */

const ROOT = decodeURIComponent(new URL("..", import.meta.url).pathname).replace(/\/$/, "");

/** One quoted number: where it comes from, and the text README.md shows. */
export interface ReadmeNumber {
  name: string;
  text: string;
}

const f3 = (x: number) => x.toFixed(3);
const pair = (m: { accuracy: number; balancedAccuracy: number }) => `${f3(m.accuracy)} / ${f3(m.balancedAccuracy)}`;
const meanPair = (s: { accuracy: { mean: number }; balancedAccuracy: { mean: number } }) =>
  `${f3(s.accuracy.mean)} / ${f3(s.balancedAccuracy.mean)}`;

function readJson(path: string): Record<string, unknown> | null {
  try {
    return JSON.parse(Deno.readTextFileSync(`${ROOT}/${path}`));
  } catch {
    return null;
  }
}

/** The README's numbers; dist/ numbers only when dist/build-info.json exists (after `deno task build`). */
export function readmeNumbers(): ReadmeNumber[] {
  // deno-lint-ignore no-explicit-any
  const cnn = readJson("results/cnn.json") as any;
  const out: ReadmeNumber[] = [];
  const add = (name: string, text: string) => out.push({ name, text });
  if (cnn) {
    const st = cnn.stack;
    add("recordings", String(cnn.numRecordings));
    add("stack before the extrastole rule, nested CV, pooled", pair(st.pooled));
    add("majority class", f3(cnn.summary.majorityBaseline.mean));
    add("CNN ensemble alone, pooled", pair(cnn.pooled));
    for (const m of st.singleMembers ?? []) {
      add(`stack with the CNN of seed ${m.trainSeed} alone`, pair(m));
      if (m.member === 0) add("one CNN (seed 42) alone, pooled", pair(m.cnnAlone));
    }
    const names: string[] = cnn.settings?.preprocessing?.labels ?? ["normal", "extrahls", "murmur", "extrastole"];
    add(
      "stack recall per class",
      names.map((c, i) => `${c} ${f3(st.pooled.perClass[i].recall)}`).join(", "),
    );
    // What the classifier answers: an extrastole call stands only with a premature beat (lib/classifier.ts).
    const ruled = st.extrastolePolicy?.demoteWithoutRhythm;
    if (ruled) {
      add("shipped (extrastole rule), nested CV, pooled", pair(ruled));
      add("shipped macro-F1", f3(ruled.macroF1));
      add("shipped recall per class", names.map((c) => `${c} ${f3(ruled.recall[c])}`).join(", "));
    }
    if (st.calibration) {
      add(
        "expected calibration error, before → after",
        `${f3(st.calibration.ece.before)} → ${f3(st.calibration.ece.after)}`,
      );
      add("Brier score, before → after", `${f3(st.calibration.brier.before)} → ${f3(st.calibration.brier.after)}`);
    }
    if (st.quality?.artifactFlagged !== undefined) {
      const share = (x: number | { mean: number }) => `${Math.round(100 * (typeof x === "number" ? x : x.mean))} %`;
      add("retake: artifacts flagged", share(st.quality.artifactFlagged));
      add("retake: heart-sound recordings flagged", share(st.quality.heartSoundFlagged));
    }
  }
  for (
    const [name, id] of [
      ["preprocessor 2, grouped CV", "small-p2-grouped-cv-native"],
      ["preprocessor 2, original protocol", "small-p2-original-native"],
      ["XGBoost, grouped CV", "small-gbdt-grouped-cv-native"],
      ["XGBoost, original protocol", "small-gbdt-original-native"],
    ]
  ) {
    // deno-lint-ignore no-explicit-any
    const r = readJson(`results/${id}.json`) as any;
    if (r) add(name, meanPair(r.summary));
  }
  // deno-lint-ignore no-explicit-any
  const beats = readJson("results/beats.json") as any;
  if (beats) {
    const a = beats.summary.all;
    add("sounds found within ±50 ms (any label)", `${Math.round(100 * a.anyLabelHitRate)} %`);
    add("sounds found with the right S1/S2 label", `${Math.round(100 * a.hitRate)} %`);
    add("median location error", `${Math.round(a.medianAbsErrorMs)} ms`);
    add(
      "heart rate within 5 bpm",
      `${Math.round(beats.summary.heartRate.within5Bpm * beats.summary.recordings)} of ${beats.summary.recordings}`,
    );
  }
  let modelBytes = 0;
  for (const entry of Deno.readDirSync(`${ROOT}/models`)) {
    if (entry.isFile && /\.(json|bin)$/.test(entry.name)) {
      modelBytes += Deno.statSync(`${ROOT}/models/${entry.name}`).size;
    }
  }
  add("shipped model size", `${(modelBytes / 1000).toFixed(1)} kB`);
  // deno-lint-ignore no-explicit-any
  const build = readJson("dist/build-info.json") as any;
  const bundle = build?.outputs?.find((o: { path: string }) => o.path === "dist/heartbeat.js");
  if (bundle) {
    add("bundle size", `${(bundle.bytes / 1024).toFixed(0)} KiB (${(bundle.gzipBytes / 1024).toFixed(0)} KiB gzip)`);
  }
  return out;
}

if (import.meta.main) {
  for (const { name, text } of readmeNumbers()) console.log(`${name}: ${text}`);
}
