/**
 * Trains the shipped default model (`deno task train`): the log-mel CNN of lib/cnn.ts.
 *
 * 1. Patient-grouped stratified 5-fold CV of the CNN on the development data (float32 and
 *    quantized predictions of every fold model).
 * 2. The stacked classifier (lib/stack_train.ts): XGBoost on hand features mixed with the CNN;
 *    its operating point (CNN weight, τ) is chosen inside each outer training fold on inner-CV
 *    out-of-fold probabilities (an inner 5-fold CNN CV per outer fold, cached in
 *    .cache/train/ because it is the slow part: 25 more CNN trainings) → results/cnn.json.
 * 3. The final models on all development data → models/ (model.json, weights.bin,
 *    preprocessing.json with a `stack` entry, stack.json) with the chosen weight quantization,
 *    and the model card models/README.md.
 *
 * Usage: deno task train [--data DIR] [--out models] [--quantization float16|uint8|none]
 *                        [--skip-cv] [--quick] [--seed 42] [--members 3] [--folds 5]
 *                        [--name heartbeat-default] [--model-version V]
 * Every output goes under --out: the model folder, its README.md (model card) and, with --out
 * given, the CV results as cv.json; without --out it regenerates the shipped models/ and
 * results/cnn.json. The classes are the data's labels (lib/data.ts classesOf): the dataset's four,
 * or any other set (labels.csv, one folder per class); preprocessing.json records them.
 * --name and --model-version go into preprocessing.json (`name`, `modelVersion`) and so into every result;
 * without --model-version the model is "unversioned".
 * --skip-cv ships the CNN alone (the stack needs the CV's out-of-fold probabilities); --quick
 * (CI) trains 2 epochs and replaces the inner CNN CVs by the outer probabilities.
 * Data folder: --data, else HEARTBEAT_DATA, else data/ (lib/data.ts findDataDir).
 * @module
 */
import { writeMemberWeights } from "../lib/model_folder.ts";
import { updateModelCard } from "./model_card.ts";
import { parseArgs } from "node:util";
import { canonicalJson, sha256Hex } from "../lib/cache.ts";
import { classCounts, classesOf, listRecordings, resolveDataDir } from "../lib/data.ts";
import { CLASS_LABEL_IDS, CLASS_NAMES } from "../lib/classes.ts";
import { cachedAuditGroups, withAuditGroups } from "../lib/audit_run.ts";
import { loadTf } from "../lib/tf.ts";
import type { LayersModel } from "../lib/deps.ts";
import { countParameters, saveModel } from "../lib/model.ts";
import {
  cnnDefaults,
  type CnnTrainOptions,
  crossValidateCnn,
  normalVsMurmurWithinSet,
  prepareRecordings,
  subsetMetrics,
  trainCnn,
} from "../lib/cnn.ts";
import { defaultLogmelPreprocessing, type LogmelWindowsPreprocessing } from "../lib/preprocess.ts";
import {
  argmaxRows,
  brierScore,
  evaluate,
  expectedCalibrationError,
  meanStd,
  reliabilityBins,
  rocAuc,
} from "../lib/metrics.ts";
import { LOW_CONFIDENCE } from "../lib/classifier.ts";
import { readWav } from "../lib/wav.ts";
import { resampleWaveform } from "../lib/resample.ts";
import type { Waveform } from "../lib/types.ts";
import { mulberry32 } from "../lib/rng.ts";
import { irregularRhythm } from "../lib/rhythm.ts";
import { HAND_FEATURE_NAMES, MISSING_FEATURE } from "../lib/handfeatures.ts";
import { RHYTHM_FEATURE_NAMES } from "../lib/beats.ts";
import { groupedStratifiedKFold } from "../lib/splits.ts";
import {
  classShares,
  handFeatureMatrix,
  nestedQualityCv,
  nestedStackCv,
  type NestedStackResult,
  QUALITY_GBDT,
  QUALITY_HEART_FLAG_RATE,
  STACK_GBDT,
  STACK_GRID,
  trainQuality,
  trainStack,
} from "../lib/stack_train.ts";
import { combineProbabilities } from "../lib/stack.ts";

/** The dataset's classes, for the shipped model's card (another class set gets customModelCard). */
const CLASSES: readonly string[] = CLASS_NAMES;

/** The shipped configuration (lib/cnn.ts defaults plus these). */
export const SHIPPED: Partial<CnnTrainOptions> = {};
/**
 * CNNs in the shipped seed ensemble (the same recipe, training seeds seed + 1000·m): one CNN's CV
 * result moves by several points with its seed alone (results/cnn.json `stack.singleMembers`), and the
 * mean of three is both steadier and better on average.
 */
export const CNN_MEMBERS = 3;
/** The shipped CNN keeps raw probabilities (τ 0): the stack applies its own logit adjustment. */
const FINAL_CNN: Partial<CnnTrainOptions> = { priorCorrection: 0 };
/** Logit-adjustment values also scored in CV (the accuracy / balanced-accuracy trade-off). */
const TAUS = [0, 0.25, 0.5, 0.75, 1];

const f3 = (x: number) => (Number.isFinite(x) ? x.toFixed(3) : "n/a");
const ms = (v: { mean: number; std: number }) => `${f3(v.mean)} ± ${f3(v.std)}`;

async function main(): Promise<void> {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      data: { type: "string" },
      out: { type: "string" },
      folds: { type: "string", default: "5" },
      quantization: { type: "string", default: "float16" },
      "skip-cv": { type: "boolean", default: false },
      quick: { type: "boolean", default: false },
      seed: { type: "string", default: "42" },
      members: { type: "string", default: String(CNN_MEMBERS) },
      name: { type: "string", default: "heartbeat-default" },
      "model-version": { type: "string" },
      help: { type: "boolean", default: false },
    },
  });
  if (values.help) {
    console.log(
      "deno task train [--data DIR] [--out DIR] [--quantization float16|uint8|none] [--skip-cv] [--quick] [--seed 42] [--members 3] [--folds 5] [--name heartbeat-default] [--model-version V]\n" +
        "Writes the model folder (and cv.json, README.md) to --out; without --out, regenerates models/ and results/cnn.json.",
    );
    return;
  }
  const quantization = values.quantization === "none" ? null : values.quantization as "float16" | "uint8";
  if (quantization !== null && quantization !== "float16" && quantization !== "uint8") {
    console.error(`Cannot train: --quantization is "${values.quantization}", expected float16, uint8 or none`);
    Deno.exit(2);
  }
  const seed = Number(values.seed);
  const members = Number(values.members);
  if (!Number.isInteger(members) || members < 1 || members > 9) {
    console.error(`Cannot train: --members is "${values.members}", expected a whole number from 1 to 9`);
    Deno.exit(2);
  }
  if (members > 1 && quantization === "uint8") {
    // uint8 stores a scale per tensor in model.json, which the members share: it fits one member only.
    console.error("Cannot train: --quantization uint8 needs --members 1 (the members share model.json's layout)");
    Deno.exit(2);
  }
  const folds = Number(values.folds);
  if (!Number.isInteger(folds) || folds < 2) {
    console.error(`Cannot train: --folds is "${values.folds}", expected a whole number ≥ 2`);
    Deno.exit(2);
  }
  const outDir = values.out ?? new URL("../models", import.meta.url).pathname;
  const dir = resolveDataDir(values.data);
  // the audit's groups keep copies in one fold; label conflicts are left out (lib/audit_run.ts)
  const found = listRecordings(dir);
  const audit = await cachedAuditGroups(dir);
  const listed = withAuditGroups(found, audit);
  const classes = classesOf(listed);
  if (classes.length < 2) {
    console.error(`Cannot train: the data has ${classes.length} class (${classes.join(", ")}), expected at least 2`);
    Deno.exit(2);
  }
  // The dataset's own four classes get the full report (per set, device check, separability).
  const standard = classes.join() === CLASS_NAMES.join();
  const known = (c: string) => (CLASS_NAMES as readonly string[]).indexOf(c);
  const recordings = listed.map((r) => ({ ...r, classIndex: classes.indexOf(r.label!) }));
  console.error(`data: ${dir} (${recordings.length} labelled recordings: ${JSON.stringify(classCounts(recordings))})`);
  console.error(
    `audit: ${found.length - listed.length} recordings in label conflicts left out; ` +
      `${new Set(recordings.map((r) => r.patientId)).size} CV groups`,
  );
  const tf = await loadTf();
  console.error(`tfjs backend: ${tf.getBackend()}`);
  const p: LogmelWindowsPreprocessing = {
    ...defaultLogmelPreprocessing(),
    labels: classes,
    // The dataset's label ids when every class is one of its four (normal 0, …, extrastole 4), else the index.
    labelIds: classes.every((c) => known(c) >= 0)
      ? classes.map((c) => CLASS_LABEL_IDS[known(c)])
      : classes.map((_, i) => i),
  };
  const t0 = performance.now();
  const recs = await prepareRecordings(recordings, p.targetSampleRate, classes.length);
  console.error(`read + resampled to ${p.targetSampleRate} Hz in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  const settings: Partial<CnnTrainOptions> = values.quick
    ? { ...SHIPPED, epochs: 2, augmentCopies: 0, patience: 1 }
    : { ...SHIPPED };
  const resultsPath = values.out ? `${outDir}/cv.json` : new URL("../results/cnn.json", import.meta.url).pathname;

  let results: Record<string, unknown> | null = null;
  let stackState: StackState | null = null;
  if (!values["skip-cv"]) {
    // One CV per seed-ensemble member: the same folds (seed), another training seed.
    const memberCvs: Cv[] = [];
    for (let m = 0; m < members; m++) {
      memberCvs.push(
        await cachedOuterCv(recs, p, settings, seed, m, folds, () =>
          crossValidateCnn(tf, recs, {
            ...settings,
            preprocessing: p,
            seed,
            trainSeed: seed + memberSeedOffset(m),
            folds,
            quantizations: ["float16", "uint8"],
            extraTaus: TAUS,
            onFold: (f, metrics) =>
              console.error(
                `member ${m + 1}/${members}, fold ${f + 1}/${folds}: accuracy ${f3(metrics.accuracy)}, balanced ${
                  f3(metrics.balancedAccuracy)
                }`,
              ),
          })),
      );
    }
    const cv = ensembleCv(recs, memberCvs);
    const pooled = subsetMetrics(recs, cv.probabilities, () => true);
    const quant = Object.fromEntries(
      Object.entries(cv.quantizedProbabilities).map(([mode, probs]) => {
        const m = subsetMetrics(recs, probs!, () => true);
        let changed = 0;
        for (let i = 0; i < recs.length; i++) {
          const a = probs!.subarray(i * 4, i * 4 + 4), b = cv.probabilities.subarray(i * 4, i * 4 + 4);
          if (a.indexOf(Math.max(...a)) !== b.indexOf(Math.max(...b))) changed++;
        }
        return [mode, {
          accuracy: m.accuracy,
          balancedAccuracy: m.balancedAccuracy,
          macroF1: m.macroF1,
          changedPredictions: changed,
          weightBytes: cv.weightBytes[mode],
        }];
      }),
    );
    const summary = (key: "accuracy" | "balancedAccuracy" | "macroF1") => meanStd(cv.folds.map((f) => f.metrics[key]));
    results = {
      experiment: "cnn",
      description: `${members > 1 ? `Seed ensemble of ${members} ` : ""}1-D CNN${
        members > 1 ? "s" : ""
      } on 3 s log-mel windows (2 kHz, 25–900 Hz band-pass, 16 mel bands, 40 ms hop), training-only augmentation (speed, noise, gain, time shift), class weights and/or logit adjustment (see settings); recording = mean of its windows' probabilities${
        members > 1 ? ", averaged over the CNNs (training seeds seed + 1000·m, the same folds)" : ""
      }`,
      protocol: `patient-grouped stratified ${folds}-fold CV (lib/splits.ts groupedStratifiedKFold, seed ` + seed +
        "); early stopping on a grouped 15 % validation split of each training fold",
      dataDir: dir,
      numRecordings: recs.length,
      classCounts: classCounts(recordings),
      settings: { ...cnnDefaults({ ...settings, seed }), preprocessing: p },
      summary: {
        accuracy: summary("accuracy"),
        balancedAccuracy: summary("balancedAccuracy"),
        macroF1: summary("macroF1"),
        majorityBaseline: meanStd(cv.folds.map((f) => f.majorityBaseline)),
      },
      pooled,
      classes,
      perSet: standard
        ? {
          a: subsetMetrics(recs, cv.probabilities, (r) => r.set === "a"),
          b: subsetMetrics(recs, cv.probabilities, (r) => r.set === "b"),
        }
        : null,
      deviceConfound: standard
        ? {
          note:
            "normal-vs-murmur accuracy within one recording device (set); a device detector would score about majorityShare",
          a: normalVsMurmurWithinSet(recs, cv.probabilities, "a"),
          b: normalVsMurmurWithinSet(recs, cv.probabilities, "b"),
        }
        : null,
      priorCorrectionTradeoff: Object.entries(cv.tauProbabilities).map(([tau, probs]) => {
        const m = subsetMetrics(recs, probs, () => true);
        return { tau: Number(tau), accuracy: m.accuracy, balancedAccuracy: m.balancedAccuracy, macroF1: m.macroF1 };
      }),
      quantization: {
        float32: {
          accuracy: pooled.accuracy,
          balancedAccuracy: pooled.balancedAccuracy,
          macroF1: pooled.macroF1,
          weightBytes: cv.weightBytes.float32,
        },
        ...quant,
      },
      folds: cv.folds.map(({ testIndices: _, ...f }) => f),
      parameterCount: cv.parameterCount,
      seconds: cv.seconds,
      backend: tf.getBackend(),
    };
    // The stack: hand-feature trees + CNN, operating point chosen by nested CV.
    const artifacts = await prepareArtifacts(dir, p.targetSampleRate, audit);
    console.error(`artifact recordings (quality model): ${artifacts.length}`);
    const stack = await stackCv(tf, recs, cv, memberCvs, settings, seed, values.quick!, standard, artifacts);
    results.stack = stack.results;
    results.description =
      `Stacked classifier: XGBoost on hand-made recording features (lib/handfeatures.ts) mixed with ${
        members > 1 ? `a seed ensemble of ${members} 1-D CNNs` : "a 1-D CNN"
      } on 3 s log-mel windows (2 kHz, 25–900 Hz band-pass, 16 mel bands, 40 ms hop, training-only augmentation); CNN weight and logit adjustment chosen by nested CV inside the training folds. \`stack\` holds the shipped classifier's CV metrics; the top-level metrics are the CNN${
        members > 1 ? " ensemble" : ""
      } alone`;
    stackState = stack.final;
    await Deno.mkdir(resultsPath.slice(0, resultsPath.lastIndexOf("/")), { recursive: true });
    await Deno.writeTextFile(resultsPath, JSON.stringify(results, null, 1) + "\n");
    console.error(
      `CV: accuracy ${f3(pooled.accuracy)}, balanced ${f3(pooled.balancedAccuracy)} in ${
        cv.seconds.toFixed(0)
      } s → ${resultsPath}`,
    );
  } else {
    try {
      results = JSON.parse(await Deno.readTextFile(resultsPath));
    } catch {
      results = null;
    }
  }

  const t1 = performance.now();
  const all = recs.map((_, i) => i);
  const finals = [];
  for (let m = 0; m < members; m++) {
    finals.push(await trainCnn(tf, recs, all, p, { ...settings, ...FINAL_CNN, seed: seed + memberSeedOffset(m) }));
  }
  const { model, epochsRun, prior: cnnPrior } = finals[0];
  const memberFiles = finals.map((_, m) => (m === 0 ? "weights.bin" : `weights-${m}.bin`));
  const identity = { name: values.name, ...(values["model-version"] ? { modelVersion: values["model-version"] } : {}) };
  let shippedP: LogmelWindowsPreprocessing = { ...p, ...identity, ...(members > 1 ? { members: memberFiles } : {}) };
  if (stackState) {
    const { file, chosen } = await trainStack(
      { ...stackState.inputs, cnnOuter: stackState.cnnOuter },
      stackState.treeOutOfFold,
      { tau: FINAL_CNN.priorCorrection!, prior: cnnPrior },
    );
    const q = stackState.quality;
    if (q.artifact.some((a) => a === 1)) file.quality = await trainQuality(q, q.outOfFold);
    await Deno.mkdir(outDir, { recursive: true });
    await Deno.writeTextFile(`${outDir}/stack.json`, JSON.stringify(file) + "\n");
    shippedP = { ...shippedP, stack: { kind: "hand-features-xgboost", file: "stack.json" } };
    console.error(
      `stack: CNN weight ${chosen.cnnWeight}, τ ${chosen.tau}, calibration ${
        JSON.stringify(file.parameters.calibration)
      }${
        file.quality ? `, quality threshold ${file.quality.threshold}` : ""
      } (chosen on the outer CV) → ${outDir}/stack.json`,
    );
    if (results) {
      (results.stack as Record<string, unknown>).shipped = {
        ...file.parameters,
        selectionScore: chosen.score,
        ...(file.quality ? { qualityThreshold: file.quality.threshold } : {}),
      };
    }
    if (results) await Deno.writeTextFile(resultsPath, JSON.stringify(results, null, 1) + "\n");
  } else {
    console.error("no stack: --skip-cv ships the CNN alone (the stack needs the CV's out-of-fold probabilities)");
    try {
      await Deno.remove(`${outDir}/stack.json`);
    } catch { /* none */ }
  }
  const { bytes: cnnBytes } = await saveModel(tf, model, outDir, shippedP, { quantization });
  const memberBytes = await saveMemberWeights(tf, finals.slice(1).map((f) => f.model), outDir, p, quantization);
  const bytes = cnnBytes + memberBytes + (stackState ? (await Deno.stat(`${outDir}/stack.json`)).size : 0);
  const weightsBytes = (await Deno.stat(`${outDir}/weights.bin`)).size;
  const params = countParameters(model);
  for (const f of finals) f.model.dispose();
  console.error(
    `final model: ${params} parameters, ${epochsRun} epochs, ${bytes} bytes in ${outDir} (${
      ((performance.now() - t1) / 1000).toFixed(0)
    } s)`,
  );
  await Deno.writeTextFile(
    `${outDir}/README.md`,
    (standard ? modelCard : customModelCard)({
      results,
      stacked: stackState !== null,
      params,
      bytes,
      weightsBytes,
      quantization,
      epochsRun,
      dir,
      counts: classCounts(recordings),
      train: cnnDefaults({ ...settings, ...(stackState ? FINAL_CNN : {}), seed }),
      memberSeeds: finals.map((_, m) => seed + memberSeedOffset(m)),
      classes,
    }),
  );
  const written = await updateModelCard(outDir);
  console.log(`model identity: ${written.name} ${written.version} ${written.hash} (in ${outDir}/README.md)`);
}

/**
 * Saves seed-ensemble members 1, 2, … as weights-1.bin, weights-2.bin, … in `dir` (beside
 * member 0's model.json), after checking that each has model.json's weight layout; removes the
 * files of members a previous run had beyond these.
 * @returns Bytes written.
 */
async function saveMemberWeights(
  tf: Awaited<ReturnType<typeof loadTf>>,
  models: LayersModel[],
  dir: string,
  p: LogmelWindowsPreprocessing,
  quantization: "float16" | "uint8" | null,
): Promise<number> {
  type Manifest = { weightsManifest: { weights: { shape: number[]; dtype: string; quantization?: unknown }[] }[] };
  const layout = (json: Manifest) =>
    JSON.stringify(json.weightsManifest[0].weights.map((w) => [w.shape, w.dtype, w.quantization]));
  const shipped = layout(JSON.parse(await Deno.readTextFile(`${dir}/model.json`)));
  const weights: Uint8Array[] = [];
  for (const [j, model] of models.entries()) {
    const tmp = await Deno.makeTempDir({ prefix: "heartbeat-member-" });
    try {
      await saveModel(tf, model, tmp, p, { quantization });
      if (layout(JSON.parse(await Deno.readTextFile(`${tmp}/model.json`))) !== shipped) {
        throw new Error(`member ${j + 1}'s weights are not in model.json's layout`);
      }
      weights.push(await Deno.readFile(`${tmp}/weights.bin`));
    } finally {
      await Deno.remove(tmp, { recursive: true });
    }
  }
  return await writeMemberWeights(dir, weights);
}

/** What the final stack needs from the CV: the hand features and out-of-fold probabilities. */
interface StackState {
  inputs: { x: Float32Array; numFeatures: number; y: number[]; numClasses: number };
  /** Raw (τ 0) outer out-of-fold CNN probabilities. */
  cnnOuter: Float32Array;
  /** Outer out-of-fold tree probabilities. */
  treeOutOfFold: Float32Array;
  /** Hand features of heart-sound and artifact recordings, artifact flags, out-of-fold quality. */
  quality: { x: Float32Array; numFeatures: number; artifact: number[]; outOfFold: Float32Array };
}

/** An artifact recording (noise, talking, no heart sound) at the model rate, for the quality model. */
interface ArtifactRecording {
  wave: Waveform;
  relPath: string;
  patientId: string;
}

/**
 * Reads and resamples the data folder's artifact recordings, grouped as the audit says (a copy of
 * an artifact shares its fold), label conflicts left out.
 */
async function prepareArtifacts(
  dir: string,
  targetSampleRate: number,
  audit: Awaited<ReturnType<typeof cachedAuditGroups>>,
): Promise<ArtifactRecording[]> {
  const out: ArtifactRecording[] = [];
  for (const r of withAuditGroups(listRecordings(dir, { includeArtifact: true }), audit)) {
    if (r.label !== "artifact") continue;
    const wav = readWav(await Deno.readFile(r.path));
    const wave = { samples: wav.samples, sampleRate: wav.sampleRate };
    out.push({
      wave: wav.sampleRate === targetSampleRate ? wave : resampleWaveform(wave, targetSampleRate),
      relPath: r.relPath,
      patientId: r.patientId,
    });
  }
  return out;
}

/**
 * Calibration of the nested CV's probabilities before and after the calibration fitted inside each
 * training fold (and, for comparison, a temperature fitted there): expected calibration error (10
 * bins, top class), Brier score, reliability bins, the low-confidence warning (top probability <
 * LOW_CONFIDENCE) as a detector of errors, and the ECE that perfectly calibrated probabilities with
 * the same confidences would show on this many recordings (its sampling floor).
 */
function calibrationReport(y: number[], nested: NestedStackResult, k: number) {
  const before = nested.uncalibrated, after = nested.probabilities, scaled = nested.temperatureScaled;
  const warning = (p: Float32Array, threshold = LOW_CONFIDENCE) => {
    const top = argmaxRows(p, k);
    let flagged = 0, flaggedErrors = 0, errors = 0;
    y.forEach((t, i) => {
      const wrong = top[i] !== t, low = p[i * k + top[i]] < threshold;
      if (wrong) errors++;
      if (low) flagged++;
      if (low && wrong) flaggedErrors++;
    });
    return {
      flagged: flagged / y.length,
      precision: flagged > 0 ? flaggedErrors / flagged : 0,
      recall: errors > 0 ? flaggedErrors / errors : 0,
    };
  };
  const meanConfidence = (p: Float32Array) => {
    const top = argmaxRows(p, k);
    return y.reduce((s, _, i) => s + p[i * k + top[i]], 0) / y.length;
  };
  // Sampling floor: labels drawn so that each top class is right with exactly its calibrated probability.
  const rng = mulberry32(7), top = argmaxRows(after, k), floors: number[] = [];
  for (let rep = 0; rep < 200; rep++) {
    const drawn = y.map((_, i) => (rng() < after[i * k + top[i]] ? top[i] : (top[i] + 1) % k));
    floors.push(expectedCalibrationError(drawn, after, k));
  }
  return {
    note:
      "nested CV: calibration (top-label logistic, lib/calibration.ts) fitted per outer fold on inner out-of-fold stack probabilities of its training rows; temperature: the same with a temperature instead (not shipped); ECE over 10 equal-width bins of the top-class probability; Brier = mean Σ_c (p_c − [c = y])²; eceFloor: ECE of labels drawn from the calibrated probabilities themselves (200 draws), what a perfectly calibrated model would show on this many recordings",
    perFold: nested.chosen.map((c) => ({ calibration: c.calibration, temperature: c.temperature })),
    ece: {
      before: expectedCalibrationError(y, before, k),
      after: expectedCalibrationError(y, after, k),
      temperature: expectedCalibrationError(y, scaled, k),
    },
    brier: { before: brierScore(y, before, k), after: brierScore(y, after, k), temperature: brierScore(y, scaled, k) },
    eceFloor: meanStd(floors),
    meanConfidence: {
      before: meanConfidence(before),
      after: meanConfidence(after),
      temperature: meanConfidence(scaled),
    },
    accuracy: evaluate(y, argmaxRows(after, k), k).accuracy,
    reliability: { before: reliabilityBins(y, before, k), after: reliabilityBins(y, after, k) },
    lowConfidenceWarning: {
      threshold: LOW_CONFIDENCE,
      before: warning(before),
      after: warning(after),
      afterAtThresholds: [0.5, 0.6, 0.65, 0.7, 0.8].map((threshold) => ({ threshold, ...warning(after, threshold) })),
    },
  };
}

/** Class index of extrastole (a rhythm event the labels barely follow: docs/rhythm.md). */
const EXTRASTOLE = 3;
/** lib/rhythm.ts score from which a recording has a premature beat (fixed on synthetic data). */
const RHYTHM_FLAG = 0.5;

/**
 * Top class of each row, with extrastole replaced by the second most likely class where `keep`
 * (default: nowhere) does not say otherwise.
 */
export function demoteExtrastole(probabilities: Float32Array, k: number, keep?: (i: number) => boolean): Int32Array {
  const top = argmaxRows(probabilities, k);
  for (let i = 0; i < top.length; i++) {
    if (top[i] !== EXTRASTOLE || keep?.(i)) continue;
    let best = -1;
    for (let c = 0; c < k; c++) {
      if (c !== EXTRASTOLE && (best < 0 || probabilities[i * k + c] > probabilities[i * k + best])) best = c;
    }
    top[i] = best;
  }
  return top;
}

/**
 * The nested CV's predictions as they are and with every extrastole call demoted to the second
 * most likely class (the rule for a recording without rhythm evidence: a regular recording called
 * extrastole is a false alarm that costs normal recall).
 */
function extrastolePolicyReport(y: number[], probabilities: Float32Array, rhythmScores: number[]) {
  const k = CLASSES.length;
  const summary = (pred: Int32Array) => {
    const m = evaluate(y, pred, k);
    return {
      accuracy: m.accuracy,
      balancedAccuracy: m.balancedAccuracy,
      macroF1: m.macroF1,
      recall: Object.fromEntries(CLASSES.map((c, i) => [c, m.perClass[i].recall])),
      extrastoleCalls: pred.filter((c) => c === EXTRASTOLE).length,
      normalsCalledExtrastole: y.filter((t, i) => t === 0 && pred[i] === EXTRASTOLE).length,
    };
  };
  return {
    note:
      "pooled nested out-of-fold predictions: as the stack gives them (keep); with every extrastole call replaced by the second most likely class (demote); and replaced only where lib/rhythm.ts irregularRhythm finds no premature beat, score < 0.5 (demoteWithoutRhythm, what the classifier does); rhythmFlagged: share of each class with score ≥ 0.5",
    keep: summary(argmaxRows(probabilities, k)),
    demote: summary(demoteExtrastole(probabilities, k)),
    // Issue 18's rule 1c: an extrastole call stands only where lib/rhythm.ts finds a premature beat (score ≥ 0.5).
    demoteWithoutRhythm: summary(demoteExtrastole(probabilities, k, (i) => rhythmScores[i] >= RHYTHM_FLAG)),
    rhythmFlagged: Object.fromEntries(
      CLASSES.map((c, ci) => {
        const idx = y.flatMap((t, i) => (t === ci ? [i] : []));
        return [c, idx.filter((i) => rhythmScores[i] >= RHYTHM_FLAG).length / Math.max(1, idx.length)];
      }),
    ),
  };
}

/**
 * Nested CV of the quality model (usable heart sound vs artifact) over the heart-sound recordings
 * and the artifacts: grouped stratified 5-fold (seed), threshold chosen inside each training fold.
 */
async function qualityCv(
  recs: Prepared,
  xHeart: Float32Array,
  artifacts: ArtifactRecording[],
  seed: number,
  standard: boolean,
) {
  const d = HAND_FEATURE_NAMES.length;
  const x = new Float32Array((recs.length + artifacts.length) * d);
  x.set(xHeart);
  x.set(handFeatureMatrix(artifacts.map((a) => a.wave)), recs.length * d);
  const artifact = [...recs.map(() => 0), ...artifacts.map(() => 1)];
  const groups = [...recs.map((r) => r.patientId), ...artifacts.map((a) => a.patientId)];
  const empty = { x, numFeatures: d, artifact, outOfFold: new Float32Array(artifact.length).fill(1) };
  if (artifacts.length < 5) {
    return { report: { note: `only ${artifacts.length} artifact recordings: no quality model` }, final: empty };
  }
  const folds = groupedStratifiedKFold(artifact, groups, 5, seed);
  const cv = await nestedQualityCv({ x, numFeatures: d, artifact, groups, folds, seed });
  const rate = (keep: (i: number) => boolean) => {
    const idx = artifact.flatMap((_, i) => (keep(i) ? [i] : []));
    return idx.filter((i) => cv.flagged[i]).length / idx.length;
  };
  const heart = artifact.flatMap((a, i) => (a === 0 ? [i] : [])), art = artifact.flatMap((a, i) => (a ? [i] : []));
  return {
    report: {
      note:
        `XGBoost (${QUALITY_GBDT.numRounds} rounds, depth ${QUALITY_GBDT.maxDepth}) on the hand features, usable heart sound vs artifact; grouped stratified 5-fold CV (seed ${seed}); per outer fold the threshold flags ${QUALITY_HEART_FLAG_RATE} of the heart sounds in an inner 5-fold CV of its training rows; flagged = quality below it`,
      gbdt: QUALITY_GBDT,
      artifacts: art.length,
      heartSounds: heart.length,
      artifactFlagged: rate((i) => artifact[i] === 1),
      heartSoundFlagged: rate((i) => artifact[i] === 0),
      heartSoundFlaggedPerClass: standard && Object.fromEntries(
        CLASSES.map((c, ci) => [c, rate((i) => artifact[i] === 0 && recs[i].classIndex === ci)]),
      ),
      heartSoundFlaggedPerSet: {
        a: rate((i) => i < recs.length && recs[i].set === "a"),
        b: rate((i) => i < recs.length && recs[i].set === "b"),
      },
      rocAuc: rocAuc(heart.map((i) => cv.quality[i]), art.map((i) => cv.quality[i])),
      thresholds: cv.thresholds,
    },
    final: { ...empty, outOfFold: cv.quality },
  };
}

type Cv = Awaited<ReturnType<typeof crossValidateCnn>>;
type Prepared = Awaited<ReturnType<typeof prepareRecordings>>;

/** Seed of the inner CNN CV inside outer fold f (it also fixes the inner folds). */
const innerSeed = (seed: number, f: number) => seed + 100 * (f + 1);

/** Training-seed offset of seed-ensemble member m (member 0 trains with the seed itself). */
export const memberSeedOffset = (m: number) => 1000 * m;

/** Where {@linkcode innerCnnProbabilities} caches its result: .cache/train/, named by a hash of every input. */
export async function innerCnnCachePath(
  recs: Prepared,
  folds: { train: number[]; test: number[] }[],
  settings: Partial<CnnTrainOptions>,
  seed: number,
  member = 0,
): Promise<string> {
  const key = await sha256Hex(canonicalJson({
    v: 2, // 2: float32 resampling (lib/resample.ts); the inputs differ from v1's by ≤ 1.2e-7
    settings: cnnDefaults({ ...settings, seed }),
    preprocessing: defaultLogmelPreprocessing(),
    recordings: recs.map((r) => [r.relPath, r.classIndex, r.patientId]),
    folds: folds.map((f) => f.train),
    seeds: folds.map((_, f) => innerSeed(seed, f)),
    // Member 0's key has no offset, so caches written before seed ensembles stay valid.
    ...(member > 0 ? { trainSeedOffset: memberSeedOffset(member) } : {}),
  }));
  return new URL(`../.cache/train/cnn-inner-${key.slice(0, 16)}.json`, import.meta.url).pathname;
}

/**
 * The outer CNN CV of seed-ensemble member m, cached in .cache/train/ by every input (as the inner
 * CVs are), so that work on the later stages (stack, calibration, quality) does not retrain it.
 */
async function cachedOuterCv(
  recs: Prepared,
  preprocessing: LogmelWindowsPreprocessing,
  settings: Partial<CnnTrainOptions>,
  seed: number,
  member: number,
  folds: number,
  run: () => Promise<Cv>,
): Promise<Cv> {
  const key = await sha256Hex(canonicalJson({
    v: 1,
    settings: cnnDefaults({ ...settings, seed }),
    preprocessing,
    folds,
    recordings: recs.map((r) => [r.relPath, r.classIndex, r.patientId]),
    trainSeed: seed + memberSeedOffset(member),
    quantizations: ["float16", "uint8"],
    taus: TAUS,
  }));
  const path = new URL(`../.cache/train/cnn-outer-${key.slice(0, 16)}.json`, import.meta.url).pathname;
  const arrays = (o: Record<string, Float32Array | undefined>) =>
    Object.fromEntries(Object.entries(o).map(([k, v]) => [k, v ? Array.from(v) : v]));
  const typed = (o: Record<string, number[]>) =>
    Object.fromEntries(Object.entries(o).map(([k, v]) => [k, Float32Array.from(v)]));
  try {
    const c = JSON.parse(await Deno.readTextFile(path));
    console.error(`outer CNN CV (member ${member}): cached ${path}`);
    return {
      ...c,
      probabilities: Float32Array.from(c.probabilities),
      foldOf: Int32Array.from(c.foldOf),
      quantizedProbabilities: typed(c.quantizedProbabilities),
      tauProbabilities: typed(c.tauProbabilities),
    };
  } catch { /* compute */ }
  const cv = await run();
  await Deno.mkdir(new URL("../.cache/train", import.meta.url).pathname, { recursive: true });
  await Deno.writeTextFile(
    path,
    JSON.stringify({
      ...cv,
      probabilities: Array.from(cv.probabilities),
      foldOf: Array.from(cv.foldOf),
      quantizedProbabilities: arrays(cv.quantizedProbabilities),
      tauProbabilities: arrays(cv.tauProbabilities),
    }),
  );
  return cv;
}

/** Inner CNN CVs (raw τ 0 out-of-fold probabilities per outer fold), cached on disk by their inputs. */
export async function innerCnnProbabilities(
  tf: Awaited<ReturnType<typeof loadTf>>,
  recs: Prepared,
  folds: { train: number[]; test: number[] }[],
  settings: Partial<CnnTrainOptions>,
  seed: number,
  member = 0,
): Promise<Float32Array[]> {
  const path = await innerCnnCachePath(recs, folds, settings, seed, member);
  try {
    const cached = JSON.parse(await Deno.readTextFile(path)) as number[][];
    console.error(`inner CNN CVs: cached ${path}`);
    return cached.map((a) => Float32Array.from(a));
  } catch { /* compute */ }
  const out: Float32Array[] = [];
  for (const [f, fold] of folds.entries()) {
    const sub = fold.train.map((i) => recs[i]);
    const s = innerSeed(seed, f);
    const cv = await crossValidateCnn(tf, sub, {
      ...settings,
      seed: s,
      trainSeed: s + memberSeedOffset(member),
      folds: 5,
      extraTaus: [0],
    });
    out.push(cv.tauProbabilities["0"]);
    console.error(`inner CNN CV ${f + 1}/${folds.length} (member ${member}): ${cv.seconds.toFixed(0)} s`);
  }
  await Deno.mkdir(new URL("../.cache/train", import.meta.url).pathname, { recursive: true });
  await Deno.writeTextFile(path, JSON.stringify(out.map((a) => Array.from(a))));
  return out;
}

/** Nested CV of the stacked classifier; its results entry and what the final stack needs. */
async function stackCv(
  tf: Awaited<ReturnType<typeof loadTf>>,
  recs: Prepared,
  cv: Cv,
  memberCvs: Cv[],
  settings: Partial<CnnTrainOptions>,
  seed: number,
  quick: boolean,
  standard: boolean,
  artifacts: ArtifactRecording[],
): Promise<{ results: Record<string, unknown>; final: StackState }> {
  const t0 = performance.now();
  const k = recs[0].numClasses;
  const y = recs.map((r) => r.classIndex), groups = recs.map((r) => r.patientId);
  const folds = groupedStratifiedKFold(y, groups, cv.folds.length, seed);
  const x = handFeatureMatrix(recs.map((r) => r.wave));
  console.error(
    `hand features: ${HAND_FEATURE_NAMES.length} per recording in ${((performance.now() - t0) / 1000).toFixed(1)} s`,
  );
  const cnnOuter = cv.tauProbabilities["0"];
  // Inner CVs per member (the ensemble's inner probabilities are their mean, as its outer ones are).
  const memberInner: Float32Array[][] = [];
  for (const [m, memberCv] of memberCvs.entries()) {
    const outer = memberCv.tauProbabilities["0"];
    memberInner.push(
      quick
        ? folds.map((f) => Float32Array.from(f.train.flatMap((i) => Array.from(outer.subarray(i * k, i * k + k)))))
        : await innerCnnProbabilities(tf, recs, folds, settings, seed, m),
    );
  }
  const inner = folds.map((_, f) => meanArrays(memberInner.map((perFold) => perFold[f])));
  const nestedInputs = (outer: Float32Array, innerProbabilities: Float32Array[]) => ({
    x,
    numFeatures: HAND_FEATURE_NAMES.length,
    y,
    groups,
    numClasses: k,
    folds,
    cnnOuter: outer,
    cnnInner: innerProbabilities.map((probabilities, f) => ({ probabilities, seed: innerSeed(seed, f) })),
  });
  const nested = await nestedStackCv(nestedInputs(cnnOuter, inner));
  // The same stack with each member's CNN alone: how much one training seed moves the result.
  const singleMembers = [];
  if (memberCvs.length > 1) {
    for (const [m, memberCv] of memberCvs.entries()) {
      const single = await nestedStackCv(nestedInputs(memberCv.tauProbabilities["0"], memberInner[m]));
      const metrics = subsetMetrics(recs, single.probabilities, () => true);
      const cnnAlone = subsetMetrics(recs, memberCv.probabilities, () => true);
      singleMembers.push({
        member: m,
        trainSeed: seed + memberSeedOffset(m),
        accuracy: metrics.accuracy,
        balancedAccuracy: metrics.balancedAccuracy,
        macroF1: metrics.macroF1,
        recall: metrics.perClass.map((c) => c.recall),
        // This member's CNN alone (τ 0.5, pooled), e.g. for notebook 06, which cross-validates member 0.
        cnnAlone: { accuracy: cnnAlone.accuracy, balancedAccuracy: cnnAlone.balancedAccuracy },
      });
    }
  }
  const probs = nested.probabilities;
  const foldMetrics = folds.map((f) => evaluate(f.test.map((i) => y[i]), argmaxRows(rowsAt(probs, k, f.test), k), k));
  const summary = (key: "accuracy" | "balancedAccuracy" | "macroF1") => meanStd(foldMetrics.map((m) => m[key]));
  const pooled = subsetMetrics(recs, probs, () => true);
  // The fixed grid on the outer CV (not nested: the trade-off curve, for the model card).
  const grid = STACK_GRID.cnnWeights.flatMap((cnnWeight) =>
    STACK_GRID.taus.map((tau) => {
      const parts = folds.map((f) =>
        combineProbabilities(rowsAt(cnnOuter, k, f.test), rowsAt(nested.treeProbabilities, k, f.test), {
          prior: classShares(y, f.train, k),
          cnnTau: 0,
          cnnWeight,
          tau,
        })
      );
      const all = new Float32Array(recs.length * k);
      folds.forEach((f, j) => f.test.forEach((i, r) => all.set(parts[j].subarray(r * k, r * k + k), i * k)));
      const m = subsetMetrics(recs, all, () => true);
      return { cnnWeight, tau, accuracy: m.accuracy, balancedAccuracy: m.balancedAccuracy, macroF1: m.macroF1 };
    })
  );
  const trees = subsetMetrics(recs, nested.treeProbabilities, () => true);
  const calibration = calibrationReport(y, nested, k);
  const quality = await qualityCv(recs, x, artifacts, seed, standard);
  const extrastolePolicy = standard
    ? extrastolePolicyReport(y, probs, recs.map((r) => irregularRhythm(r.wave).score))
    : undefined;
  console.error(
    `calibration (nested): ECE ${f3(calibration.ece.before)} → ${f3(calibration.ece.after)}, Brier ${
      f3(calibration.brier.before)
    } → ${f3(calibration.brier.after)}; quality: artifacts flagged ${
      f3(quality.report.artifactFlagged ?? NaN)
    }, heart sounds ${f3(quality.report.heartSoundFlagged ?? NaN)}`,
  );
  console.error(
    `stack (nested): accuracy ${f3(pooled.accuracy)}, balanced ${f3(pooled.balancedAccuracy)}; chosen ${
      nested.chosen.map((c) => `w ${c.cnnWeight} τ ${c.tau}`).join(", ")
    }`,
  );
  return {
    results: {
      description:
        "XGBoost on hand features (lib/handfeatures.ts) mixed with the CNN (the mean of the seed ensemble's CNNs when there are several): p ∝ (w·p_cnn + (1−w)·p_trees) · prior^−τ; (w, τ) chosen per outer fold by accuracy + 2 · balanced accuracy on inner 5-fold out-of-fold probabilities of its training rows (inner CNN CV with seed + 100·(fold+1))",
      gbdt: STACK_GBDT,
      grid: STACK_GRID,
      numFeatures: HAND_FEATURE_NAMES.length,
      featureNames: HAND_FEATURE_NAMES,
      innerCnnCv: quick ? "skipped (--quick: outer CNN probabilities stand in, optimistic)" : "5-fold per outer fold",
      chosen: nested.chosen,
      summary: {
        accuracy: summary("accuracy"),
        balancedAccuracy: summary("balancedAccuracy"),
        macroF1: summary("macroF1"),
      },
      pooled,
      perSet: standard
        ? { a: subsetMetrics(recs, probs, (r) => r.set === "a"), b: subsetMetrics(recs, probs, (r) => r.set === "b") }
        : null,
      deviceConfound: standard
        ? { a: normalVsMurmurWithinSet(recs, probs, "a"), b: normalVsMurmurWithinSet(recs, probs, "b") }
        : null,
      treesOnly: {
        accuracy: trees.accuracy,
        balancedAccuracy: trees.balancedAccuracy,
        macroF1: trees.macroF1,
        perClass: trees.perClass,
      },
      outerGrid: grid,
      separability: standard
        ? separability(recs, x, { cnn: cnnOuter, trees: nested.treeProbabilities, stack: probs })
        : null,
      singleMembers,
      calibration,
      quality: quality.report,
      extrastolePolicy,
      seconds: (performance.now() - t0) / 1000,
    },
    final: {
      inputs: { x, numFeatures: HAND_FEATURE_NAMES.length, y, numClasses: k },
      cnnOuter,
      treeOutOfFold: nested.treeProbabilities,
      quality: quality.final,
    },
  };
}

/**
 * How well each stage separates a class from normal within set b (one device, so the device
 * cannot help): ROC AUC of its out-of-fold probability of the class, and of single hand features
 * (the best ones, and the beat-interval rhythm features; direction-free: max(AUC, 1 − AUC)).
 */
function separability(
  recs: Prepared,
  x: Float32Array,
  stages: Record<string, Float32Array>,
): Record<string, unknown> {
  const k = CLASSES.length, d = HAND_FEATURE_NAMES.length;
  const inB = (c: number) => recs.flatMap((r, i) => (r.set === "b" && r.classIndex === c ? [i] : []));
  const normal = inB(0);
  const out: Record<string, unknown> = {
    note:
      "ROC AUC within set b against normal (0.5 = no separation); features: max(AUC, 1 − AUC), missing values (recordings without heart cycles) left out",
  };
  for (const c of [2, 3]) {
    const cases = inB(c);
    const stageAuc = Object.fromEntries(
      Object.entries(stages).map((
        [name, p],
      ) => [name, rocAuc(cases.map((i) => p[i * k + c]), normal.map((i) => p[i * k + c]))]),
    );
    const features = HAND_FEATURE_NAMES.flatMap((name, j) => {
      const values = (idx: number[]) => idx.map((i) => x[i * d + j]).filter((v) => v !== MISSING_FEATURE);
      const [pos, neg] = [values(cases), values(normal)];
      if (pos.length === 0 || neg.length === 0) return [];
      const a = rocAuc(pos, neg);
      return [{ name, auc: Math.max(a, 1 - a) }];
    }).toSorted((a, b) => b.auc - a.auc);
    out[CLASSES[c]] = {
      n: cases.length,
      normals: normal.length,
      stages: stageAuc,
      bestFeatures: features.slice(0, 5),
      rhythmFeatures: features.filter((f) => (RHYTHM_FEATURE_NAMES as readonly string[]).includes(f.name)),
    };
  }
  return out;
}

/** Element-wise mean of equally long arrays. */
function meanArrays(arrays: readonly Float32Array[]): Float32Array {
  const out = new Float32Array(arrays[0].length);
  for (const a of arrays) for (let i = 0; i < out.length; i++) out[i] += a[i];
  for (let i = 0; i < out.length; i++) out[i] /= arrays.length;
  return out;
}

/**
 * The seed ensemble's CV from its members' (same folds): probabilities are the members' means, and
 * the fold metrics are recomputed from them; sizes and times add up.
 */
function ensembleCv(recs: Prepared, memberCvs: Cv[]): Cv {
  if (memberCvs.length === 1) return memberCvs[0];
  const k = recs[0].numClasses;
  const [first] = memberCvs;
  const mean = (pick: (cv: Cv) => Float32Array | undefined) => {
    const parts = memberCvs.map(pick);
    return parts.every((p) => p !== undefined) ? meanArrays(parts as Float32Array[]) : undefined;
  };
  const probabilities = mean((c) => c.probabilities)!;
  const labels = recs.map((r) => r.classIndex);
  return {
    probabilities,
    foldOf: first.foldOf,
    quantizedProbabilities: Object.fromEntries(
      Object.keys(first.quantizedProbabilities).map((mode) => [
        mode,
        mean((c) => c.quantizedProbabilities[mode as "float16" | "uint8"]),
      ]),
    ),
    tauProbabilities: Object.fromEntries(
      Object.keys(first.tauProbabilities).map((tau) => [tau, mean((c) => c.tauProbabilities[tau])!]),
    ),
    weightBytes: Object.fromEntries(
      Object.entries(first.weightBytes).map(([mode, bytes]) => [mode, bytes * memberCvs.length]),
    ),
    folds: first.folds.map((f, j) => ({
      ...f,
      epochsRun: Math.round(memberCvs.reduce((s, c) => s + c.folds[j].epochsRun, 0) / memberCvs.length),
      metrics: evaluate(
        f.testIndices.map((i) => labels[i]),
        argmaxRows(rowsAt(probabilities, k, f.testIndices), k),
        k,
      ),
      seconds: memberCvs.reduce((s, c) => s + c.folds[j].seconds, 0),
    })),
    parameterCount: first.parameterCount * memberCvs.length,
    seconds: memberCvs.reduce((s, c) => s + c.seconds, 0),
  };
}

function rowsAt(p: Float32Array, k: number, idx: readonly number[]): Float32Array {
  const out = new Float32Array(idx.length * k);
  idx.forEach((i, r) => out.set(p.subarray(i * k, i * k + k), r * k));
  return out;
}

// deno-lint-ignore no-explicit-any
function stackModelLines(st: any): string[] {
  const sh = st.shipped;
  return [
    `- Second stage (lib/stack.ts, models/stack.json, pointed to by preprocessing.json \`stack\`): XGBoost (${st.gbdt.numRounds} rounds × 4 classes, depth ${st.gbdt.maxDepth}, eta ${st.gbdt.learningRate}) over ${st.numFeatures} hand-made features of the recording (lib/handfeatures.ts: log-mel band means/stds, MFCC means/stds/delta stds, spectral centroid/bandwidth/flatness/roll-off, band-energy shares, loudness-envelope percentiles, kurtosis, crest factor, zero-crossing rate, the beat-interval rhythm features of lib/beats.ts, and per-cycle systole/diastole energies, high-frequency shares and S1/S2 ratios; computed at 2 kHz after a 25–900 Hz band-pass and unit-RMS scaling: no sample rate, duration or level). Evaluated in plain TypeScript (equal to XGBoost's own predictions, tests/stack_test.ts).`,
    sh
      ? `- Combination (lib/stack.ts \`combineProbabilities\`): p ∝ (w · p_cnn + (1 − w) · p_trees) · prior^−τ with w = ${sh.cnnWeight}, τ = ${sh.tau}, prior = class shares of the training data (${
        sh.prior.map((q: number) => q.toFixed(3)).join(", ")
      }); (w, τ) chosen by accuracy + 2 · balanced accuracy on the CV's out-of-fold probabilities.`
      : "- Combination: see results/cnn.json `stack`.",
    "- One call for a recording: `stackProbabilities(loadStack(stackJson), wave, cnnProbabilities)` (lib/stack.ts), where `cnnProbabilities` is the CNN's mean window probabilities.",
  ];
}

// deno-lint-ignore no-explicit-any
function stackMetricLines(st: any): string[] {
  const c = (x: { cnnWeight: number; tau: number }) => `(w ${x.cnnWeight}, τ ${x.tau})`;
  return [
    "## Cross-validated metrics of the shipped classifier (nested)",
    "Protocol: patient-grouped stratified 5-fold CV (seed 42), the same folds as the CNN below. Inside every outer training fold: an inner grouped 5-fold CV of both the CNN and the trees gives out-of-fold probabilities of the training rows, on which (w, τ) is chosen (accuracy + 2 · balanced accuracy); then the CNN (outer fold model) and trees trained on the whole training fold score the test fold. No choice is made on test folds.",
    `Chosen per outer fold: ${st.chosen.map(c).join(", ")}. ${
      st.innerCnnCv === "5-fold per outer fold" ? "" : `Inner CNN CV: ${st.innerCnnCv}.`
    }`,
    "",
    "| metric | mean ± std over folds | pooled |",
    "|---|---|---:|",
    `| accuracy | ${ms(st.summary.accuracy)} | ${f3(st.pooled.accuracy)} |`,
    `| balanced accuracy | ${ms(st.summary.balancedAccuracy)} | ${f3(st.pooled.balancedAccuracy)} |`,
    `| macro-F1 | ${ms(st.summary.macroF1)} | ${f3(st.pooled.macroF1)} |`,
    "",
    `Per-class recall: ${CLASSES.map((cl, i) => `${cl} ${f3(st.pooled.perClass[i].recall)}`).join(", ")}.`,
    "",
    ...(st.extrastolePolicy?.demoteWithoutRhythm
      ? [
        `**What the classifier answers.** An extrastole call stands only where lib/rhythm.ts finds a premature beat; otherwise the result gives the second most likely class (lib/classifier.ts \`chooseLabel\`, see "Extrastole calls"). On the same nested predictions that gives accuracy ${
          f3(st.extrastolePolicy.demoteWithoutRhythm.accuracy)
        }, balanced accuracy ${f3(st.extrastolePolicy.demoteWithoutRhythm.balancedAccuracy)}, macro-F1 ${
          f3(st.extrastolePolicy.demoteWithoutRhythm.macroF1)
        }; recall ${
          CLASSES.map((cl) => `${cl} ${f3(st.extrastolePolicy.demoteWithoutRhythm.recall[cl])}`).join(", ")
        }. The tables below are the stack's own argmax.`,
        "",
      ]
      : []),
    ...confusionAndDeviceLines(st),
    "",
    `Device-confound check (normal vs murmur within one set; a device detector would score the majority share with balanced accuracy 0.5): set a accuracy ${
      f3(st.deviceConfound.a.accuracy)
    } (balanced ${f3(st.deviceConfound.a.balancedAccuracy)}, n ${st.deviceConfound.a.n}, majority share ${
      f3(st.deviceConfound.a.majorityShare)
    }), set b ${f3(st.deviceConfound.b.accuracy)} (balanced ${
      f3(st.deviceConfound.b.balancedAccuracy)
    }, n ${st.deviceConfound.b.n}, majority share ${f3(st.deviceConfound.b.majorityShare)}).`,
    "",
    ...separabilityLines(st.separability),
    ...(st.singleMembers?.length > 1
      ? [
        `One training seed moves these numbers by several points: the same nested CV with each member's CNN alone gives ${
          // deno-lint-ignore no-explicit-any
          st.singleMembers.map((m: any) => `${f3(m.accuracy)} / ${f3(m.balancedAccuracy)} (seed ${m.trainSeed})`).join(
            ", ",
          )} (accuracy / balanced accuracy), against ${f3(st.pooled.accuracy)} / ${
          f3(st.pooled.balancedAccuracy)
        } for their mean, which ships.`,
        "",
      ]
      : []),
    `Trees alone (τ 0): accuracy ${f3(st.treesOnly.accuracy)}, balanced accuracy ${
      f3(st.treesOnly.balancedAccuracy)
    }, macro-F1 ${f3(st.treesOnly.macroF1)}.`,
    "",
    "Trade-off (not nested: the same outer fold models at fixed (w, τ), accuracy / balanced accuracy):",
    "",
    `| w \\ τ | ${st.grid.taus.join(" | ")} |`,
    `|---|${st.grid.taus.map(() => "---:").join("|")}|`,
    ...st.grid.cnnWeights.map((w: number) =>
      `| ${w} | ${
        st.grid.taus.map((t: number) => {
          const g = st.outerGrid.find((x: { cnnWeight: number; tau: number }) => x.cnnWeight === w && x.tau === t);
          return `${f3(g.accuracy)} / ${f3(g.balancedAccuracy)}`;
        }).join(" | ")
      } |`
    ),
    "",
    "Quantization: the CNN's float16 weights are checked below (fold models reloaded); the trees are stored exactly (float32 thresholds and leaves).",
    "",
    ...calibrationLines(st.calibration, st.shipped),
    ...qualityLines(st.quality, st.shipped),
    ...extrastoleLines(st.extrastolePolicy),
    "### Every variant tried (grouped 5-fold CV, pooled accuracy / balanced accuracy)",
    "",
    ...VARIANTS_TRIED.map((v) => `- ${v}`),
    "",
  ];
}

/** The model card's calibration section (empty for results written before it existed). */
// deno-lint-ignore no-explicit-any
function calibrationLines(c: any, shipped: any): string[] {
  if (!c) return [];
  const w = c.lowConfidenceWarning;
  const pr = (x: { precision: number; recall: number; flagged: number }) =>
    `precision ${f3(x.precision)}, recall ${f3(x.recall)} (${f3(x.flagged)} of recordings warned)`;
  // deno-lint-ignore no-explicit-any
  const bins = (list: any[]) => list.filter((b) => b.count > 0);
  return [
    "### Calibration",
    `The stack's top probability c is recalibrated last (lib/calibration.ts, top-label logistic: c → σ(a · logit(c) + b), the other classes share the rest in their old proportions; the class never changes)${
      shipped?.calibration
        ? `, a = ${shipped.calibration.slope}, b = ${shipped.calibration.intercept} in the shipped model (stack.json \`parameters.calibration\`)`
        : ""
    }, fitted by logistic regression of "the top class is right" on out-of-fold probabilities. Nested: inside every outer training fold, (a, b) is fitted on the inner out-of-fold stack probabilities at that fold's (w, τ) (per fold: ${
      c.perFold.map((p: { calibration: { slope: number; intercept: number } }) =>
        `(${f2(p.calibration.slope)}, ${f2(p.calibration.intercept)})`
      ).join(", ")
    }); the test fold is scored with it. A temperature (p ∝ p^(1/T)) fitted the same way is shown for comparison (one factor for every class: it cannot both raise the confidence of normal calls and lower that of the rare classes the logit adjustment pushes up).`,
    "",
    "| pooled nested CV | before | temperature | shipped (top-label logistic) |",
    "|---|---:|---:|---:|",
    `| expected calibration error (10 bins, top class) | ${f3(c.ece.before)} | ${f3(c.ece.temperature)} | ${
      f3(c.ece.after)
    } |`,
    `| Brier score (Σ over classes, 0–2) | ${f3(c.brier.before)} | ${f3(c.brier.temperature)} | ${f3(c.brier.after)} |`,
    `| mean confidence (accuracy ${f3(c.accuracy)}) | ${f3(c.meanConfidence.before)} | ${
      f3(c.meanConfidence.temperature)
    } | ${f3(c.meanConfidence.after)} |`,
    "",
    `For scale: perfectly calibrated probabilities with the same confidences would show an ECE of ${
      f3(c.eceFloor.mean)
    } ± ${f3(c.eceFloor.std)} on ${
      c.reliability.after.reduce((s: number, b: { count: number }) => s + b.count, 0)
    } recordings (labels drawn from the calibrated probabilities): the sampling floor of the ECE goal.`,
    "",
    `Reliability (after calibration; confidence bin: n, mean confidence → accuracy): ${
      bins(c.reliability.after).map((b) =>
        `${b.lower.toFixed(1)}–${b.upper.toFixed(1)}: ${b.count}, ${f2(b.meanConfidence)} → ${f2(b.accuracy)}`
      ).join("; ")
    }.`,
    "",
    `The low-confidence warning (top probability < ${LOW_CONFIDENCE} in the shipped classifier; the first figures are at ${w.threshold}) as a detector of wrong answers: before calibration ${
      pr(w.before)
    }; after ${
      pr(w.after)
    }. Calibrated, a recording below confidence x is right about x of the time, so the warning's threshold says how sure is sure enough; after calibration, warning below ${
      (w.afterAtThresholds ?? []).map((t: { threshold: number; precision: number; recall: number; flagged: number }) =>
        `${t.threshold}: ${pr(t)}`
      ).join("; ")
    }.`,
    "",
  ];
}

/** The model card's signal-quality section. */
// deno-lint-ignore no-explicit-any
function qualityLines(q: any, shipped: any): string[] {
  if (!q || q.artifactFlagged === undefined) return q?.note ? ["### Signal quality", q.note, ""] : [];
  return [
    '### Signal quality ("retake")',
    `\`quality\` is the probability that a recording is usable heart sound rather than an artifact (noise, talking, no heart sound): XGBoost (${q.gbdt.numRounds} rounds × 2 classes, depth ${q.gbdt.maxDepth}) over the same hand features, trained on ${q.heartSounds} heart-sound and ${q.artifacts} artifact recordings (stack.json \`quality\`). Below the threshold${
      shipped?.qualityThreshold !== undefined ? ` (${shipped.qualityThreshold} in the shipped model)` : ""
    } the result carries the warning "retake: <reason>" (the reason: the most atypical of beat-detector confidence, spectral flatness, low-frequency share, spectral centroid, crest factor, against the heart-sound recordings' median and IQR); the class is still given.`,
    `Nested grouped 5-fold CV: inside every outer training fold the threshold flags ${QUALITY_HEART_FLAG_RATE} of the heart sounds in an inner 5-fold CV (per fold: ${
      q.thresholds.map((t: number) => t.toFixed(3)).join(", ")
    }). Out of fold, **${f3(q.artifactFlagged)} of the artifact recordings are flagged and ${
      f3(q.heartSoundFlagged)
    } of the heart-sound recordings** (${
      CLASSES.map((c) => `${c} ${f3(q.heartSoundFlaggedPerClass[c])}`).join(", ")
    }; set a ${f3(q.heartSoundFlaggedPerSet.a)}, set b ${f3(q.heartSoundFlaggedPerSet.b)}); ROC AUC ${f3(q.rocAuc)}.`,
    "",
  ];
}

/** The model card's extrastole-policy comparison. */
// deno-lint-ignore no-explicit-any
function extrastoleLines(e: any): string[] {
  if (!e) return [];
  // deno-lint-ignore no-explicit-any
  const row = (name: string, x: any) =>
    `| ${name} | ${f3(x.accuracy)} | ${f3(x.balancedAccuracy)} | ${
      CLASSES.map((c) => f3(x.recall[c])).join(" | ")
    } | ${x.extrastoleCalls} | ${x.normalsCalledExtrastole} |`;
  return [
    "### Extrastole calls",
    `Extrastole is a rhythm event that these labels barely follow (see the next section; lib/rhythm.ts flags a premature beat in ${
      e.rhythmFlagged
        ? `${f3(e.rhythmFlagged.extrastole)} of the extrastole and ${
          f3(e.rhythmFlagged.normal)
        } of the normal recordings`
        : "few recordings"
    }). The same nested out-of-fold predictions with an extrastole call replaced by the second most likely class where the rhythm detector finds no premature beat (what the classifier does), and everywhere:`,
    "",
    `| predictions | accuracy | balanced accuracy | ${
      CLASSES.map((c) => `recall ${c}`).join(" | ")
    } | extrastole calls | normals called extrastole |`,
    `|---|---:|---:|${CLASSES.map(() => "---:").join("|")}|---:|---:|`,
    row("as the stack gives them", e.keep),
    ...(e.demoteWithoutRhythm
      ? [row("demoted unless lib/rhythm.ts finds a premature beat (shipped)", e.demoteWithoutRhythm)]
      : []),
    row("extrastole demoted", e.demote),
    "",
    ...(e.rhythmFlagged
      ? [
        "### Extrastole and rhythm: what the labels allow",
        `lib/rhythm.ts finds planted premature beats in synthetic recordings (F1 0.85 at ±50 ms over 50–150 bpm and four noise levels; scripts/rhythm_eval.ts), yet it flags a premature beat in ${
          f3(e.rhythmFlagged.extrastole)
        } of the extrastole recordings here and in ${
          f3(e.rhythmFlagged.normal)
        } of the normal ones. If p of one class and q of the other show ectopy, a perfect rhythm feature reaches a ROC AUC of at most 0.5 + (p − q)/2: ${
          f3(0.5 + (e.rhythmFlagged.extrastole - e.rhythmFlagged.normal) / 2)
        } by the detector's shares. By eye (docs/rhythm.md: 20 plotted set_b recordings, and an earlier blinded rating of 115 with a within-patient AUC of 0.58), 10–40 % of the extrastole recordings show ectopy and 0–10 % of the normals, a ceiling of about 0.50–0.70. So extrastole recall is to be judged against that ceiling: features that cannot see rhythm cannot do better, and chasing extrastole recall with them costs normal recall.`,
        "",
      ]
      : []),
  ];
}

/** The separability table of the model card (empty for results written before it existed). */
// deno-lint-ignore no-explicit-any
function separabilityLines(sep: any): string[] {
  if (!sep) return [];
  const classes = ["murmur", "extrastole"].filter((c) => sep[c]);
  const stages = Object.keys(sep[classes[0]].stages);
  // deno-lint-ignore no-explicit-any
  const features = (list: any[]) => list.map((f) => `${f.name} ${f2(f.auc)}`).join(", ");
  return [
    "What each part can tell apart, without the device: ROC AUC against normal within set b (clinical stethoscope), from out-of-fold probabilities; 0.5 is no separation, 1 perfect.",
    "",
    `| set b, against normal | n | ${stages.join(" | ")} | best single hand features |`,
    `|---|---:|${stages.map(() => "---:").join("|")}|---|`,
    ...classes.map((c) =>
      `| ${c} | ${sep[c].n} | ${stages.map((s) => f2(sep[c].stages[s])).join(" | ")} | ${
        features(sep[c].bestFeatures)
      } |`
    ),
    "",
    `The beat-interval rhythm features, meant for extrastole (a premature beat), separate it from normal with AUC ${
      features(sep.extrastole.rhythmFeatures)
    }.`,
    "",
  ];
}

const f2 = (x: number) => x.toFixed(2);

/** The experiment log behind this model (scratch runs, same folds; see the report of issue 7). */
const VARIANTS_TRIED: string[] = [
  "CNN alone (the previous default, 3380 parameters): τ 0 0.734 / 0.473; τ 0.5 0.646 / 0.625 (τ picked on the same CV); τ 0.75 0.595 / 0.660.",
  "Trees alone on the 130 hand features, τ chosen by inner CV (accuracy + balanced accuracy): 0.736 / 0.533 (fixed τ 0: 0.757 / 0.489; τ 0.75: 0.711 / 0.594). Extrastole recall 0.",
  "Trees, rare classes oversampled to balance: 0.711 / 0.538; oversampled half-way (power 0.5): 0.706 / 0.570.",
  "Trees, depth 2 × 300 rounds instead of depth 3 × 150: 0.701 / 0.535.",
  "Trees on the 104 spectral features only (no rhythm or cycle features): 0.674 / 0.496.",
  "Trees + 6 envelope-peak rhythm features (peak-interval CV, shortest/longest over median, short share, envelope periodicity): 0.715 / 0.532, no gain, dropped.",
  "Stack, (w, τ) chosen by nested CV, by objective: accuracy + balanced accuracy 0.743 / 0.619 (the first one tried); macro-F1 0.734 / 0.620; balanced accuracy 0.595 / 0.656; accuracy + 2 · balanced accuracy 0.729 / 0.638 (shipped); min(accuracy, balanced accuracy) 0.644 / 0.658; best balanced accuracy with accuracy ≥ majority share 0.648 / 0.654; with accuracy ≥ majority share + 0.05 0.725 / 0.638. The objective was picked after seeing these outer results (a second-level choice the nesting does not cover).",
  "Stack with a finer grid (w in steps of 0.1, τ in steps of 0.125), accuracy + 2 · balanced accuracy, nested: 0.711 / 0.628 (worse than the coarse grid).",
  "Stack with the trees trained on half-way oversampled rare classes, nested: 0.644 / 0.664 (accuracy lost).",
  "Not nested, for scale: the best grid points read off the test folds (the trade-off table above) reach 0.759 / 0.640 (w 0.4, τ 0.5) or 0.741 / 0.657 (w 0.6, τ 0.5); with the float64 CNN 0.750 / 0.631 or 0.678 / 0.672.",
  "Retrained after resampling moved to float32 (lib/resample.ts; every input within 1.2e-7 of before): the CNN's CV moved from 0.646 / 0.625 to 0.653 / 0.631 and, with the same hand features, the nested stack from 0.729 / 0.638 to 0.729 / 0.621. That is training noise (a different path through SGD), and a measure of how far apart two equally good runs land; the variants above were measured with the float64 CNN.",
  "Hand features at half the cost (STFT hop 40 ms instead of 20 ms, loudness-envelope percentiles from every 8th value, systole / diastole high-frequency shares from the STFT frames instead of a second 150–900 Hz band-pass; the model before this one): nested 0.734 / 0.624, against 0.729 / 0.621 for the previous features with the same CNN.",
  "Heart-sound detector with a 20 ms systole grid instead of 10 ms (detection a quarter faster; the S1/S2 and heart-rate scores on set_a_timing unchanged, 34 of 669 recordings labelled slightly differently): nested 0.713 / 0.625. Not shipped: the speed is not worth 2 points of accuracy.",
  "The same plus hand features on the CNN's own spectrogram (nFft 128, 16 mel bands, 114 features; shared with the CNN, so free at inference): nested 0.706 / 0.613. Not shipped.",
  "Hand-feature STFT hop 80 ms instead of 40 ms (0.6 ms less per recording at inference, a third of the hand features' cost; shipped): nested 0.743 / 0.651 (macro-F1 0.582), against 0.734 / 0.624 (0.555) with the same CNN; the trees alone fell from 0.762 / 0.492 to 0.741 / 0.450. Tried for speed; the gain is within the spread of two equally good runs (see the float32 retraining above).",
  "A third member, softmax regression on the standardised hand features (L2, plain or class-balanced sample weights), weights of the three members and τ chosen by the same nested CV: 0.729 / 0.628 (plain, L2 0.1) and 0.697 / 0.639 (balanced), both below the two-member stack. Alone, the balanced regression with strong L2 finds half the extrastoles (0.537 / 0.656, extrastole recall 0.53) by calling half the normal recordings something else. Not shipped.",
  "Local-periodicity features for extrastole (correlation of the loudness envelope with itself one cycle later, in sliding windows: minimum, 10th percentile, mean, share below 0.3; spread of the locally best lag): ROC AUC 0.46–0.55 for extrastole against normal within set b. Not added.",
  "Calibration (1-CNN stack, 432 recordings, nested): temperature 0.131 → 0.097 ECE (0.124 even with the best temperature read off the test folds); per-predicted-class temperatures 0.106; vector scaling (per-class weight and bias on the log-probabilities) 0.060 but balanced accuracy 0.651 → 0.545 (it undoes the logit adjustment); top-label logistic 0.059 with the class unchanged (shipped).",
  "Quality model (usable heart sound vs artifact, 668 recordings incl. the challenge test labels, grouped 5-fold): 40 rounds depth 2 (shipped) 0.979 of artifacts / 0.026 of heart sounds flagged; 80 rounds the same; depth 3 0.979 / 0.026; 20 rounds eta 0.3 0.979 / 0.031 at half the size.",
  "Extrastole calls (1-CNN stack, nested): kept 0.743 / 0.651 (normal recall 0.846, extrastole 0.111, 12 normals called extrastole); demoted unless lib/rhythm.ts finds a premature beat 0.752 / 0.630 (normal 0.875; the 4 calls left were all normals); all demoted 0.762 / 0.634 (normal 0.889). (w, τ) chosen with the demotion inside the inner CV: 0.725 / 0.627 (worse).",
];

const STACK_LIMITATIONS = [
  "- Issue 7's targets (accuracy ≥ 0.80 and balanced accuracy ≥ 0.70 under grouped CV) are not reached at one operating point (see the trade-off table). Extrastole stays the weakest class: a premature beat in a noisy set_b recording is rarely found by the beat detector, so its rhythm features barely differ from normal recordings.",
  "- The selection of (w, τ) is nested, but the hand features, the tree settings and the selection objective were chosen after comparing CV results on the same development data (see the variants above): a mild optimism that the nesting does not remove.",
  "- set a's normal recordings are mostly called extrahls or murmur (normal recall in set a is low, see the per-set table in results/cnn.json `stack.perSet.a.perClass`): 25 normal phone recordings against 15 extrahls and 27 murmur is too little to learn what a normal phone recording sounds like.",
  "- Extrahls recall is high but rests on 15 recordings from set a only, and extrastole (set b only) is rarely found: the device confound can still inflate the rare-class numbers; the within-set normal-vs-murmur check above is the device-free evidence.",
];

/** A CV result's pooled confusion matrix and per-recording-device table, as model-card lines. */
// deno-lint-ignore no-explicit-any
function confusionAndDeviceLines(r: any): string[] {
  return [
    "Confusion matrix (pooled out-of-fold predictions):",
    "",
    table(r.pooled.confusion),
    "",
    "Per recording device:",
    "",
    "| set | n | accuracy | balanced accuracy |",
    "|---|---:|---:|---:|",
    `| a (phone app) | ${r.perSet.a.n} | ${f3(r.perSet.a.accuracy)} | ${f3(r.perSet.a.balancedAccuracy)} |`,
    `| b (clinical) | ${r.perSet.b.n} | ${f3(r.perSet.b.accuracy)} | ${f3(r.perSet.b.balancedAccuracy)} |`,
  ];
}

function table(confusion: number[][]): string {
  const head = `| true \\ predicted | ${CLASSES.join(" | ")} |\n|---|${CLASSES.map(() => "---:").join("|")}|\n`;
  return head + confusion.map((row, i) => `| ${CLASSES[i]} | ${row.join(" | ")} |`).join("\n");
}

function modelCard(o: {
  results: Record<string, unknown> | null;
  /** True when models/ has the second stage (stack.json). */
  stacked: boolean;
  params: number;
  bytes: number;
  weightsBytes: number;
  quantization: string | null;
  epochsRun: number;
  dir: string;
  counts: Record<string, number>;
  train: ReturnType<typeof cnnDefaults>;
  /** Training seeds of the seed ensemble's CNNs (one for a single CNN). */
  memberSeeds: number[];
  /** Class names in output order. */
  classes: string[];
}): string {
  // deno-lint-ignore no-explicit-any
  const r = o.results as any;
  const lines = [
    r?.stack && o.stacked
      ? "# Model card: heartbeat default classifier (hand-feature trees + log-mel CNN, stacked)"
      : "# Model card: heartbeat default classifier (log-mel CNN)",
    "",
    "Classes (output order): normal (label id 0), extrahls (1), murmur (2), extrastole (4).",
    "",
    "## Model",
    o.memberSeeds.length > 1
      ? `- A seed ensemble of ${o.memberSeeds.length} 1-D CNNs over time on log-mel windows (lib/cnn.ts \`buildCnn\`): 3 × [Conv1D → BatchNorm → ReLU] with max-pooling, global average pooling, dropout, softmax; ${o.params} parameters each. The same recipe trained with seeds ${
        o.memberSeeds.join(", ")
      }; preprocessing.json \`members\` lists their weight files, each in model.json's architecture and weight layout.`
      : `- 1-D CNN over time on log-mel windows (lib/cnn.ts \`buildCnn\`): 3 × [Conv1D → BatchNorm → ReLU] with max-pooling, global average pooling, dropout, softmax; ${o.params} parameters.`,
    "- Input (models/preprocessing.json, lib/preprocess.ts `preprocess`): resample to 2 kHz, 4th-order Butterworth band-pass 25–900 Hz, log-mel (nFft 128, hop 80 = 40 ms, 16 bands 25–900 Hz), 3 s windows (75 frames) every 38 frames, each window standardised by its own mean and std; a recording shorter than 3 s is repeated to fill one window.",
    `- A recording's probabilities are the mean of its windows' probabilities (\`aggregation: "mean-probability"\`${
      o.memberSeeds.length > 1 ? ", averaged over the members" : ""
    }; \`predictWaveform\` in lib/model.ts does it in one call).`,
    ...(r?.stack && o.stacked ? stackModelLines(r.stack) : []),
    `- Weights: ${o.quantization ?? "float32"} (${
      o.quantization
        ? "post-training quantization, tfjs-converter `quantization` entries, dequantised on load by lib/forward.ts or tfjs"
        : "not quantized"
    }); ${
      o.memberSeeds.length > 1
        ? `${o.memberSeeds.length} weight files of ${o.weightsBytes} bytes`
        : `weights.bin ${o.weightsBytes} bytes`
    }, all model files ${o.bytes} bytes.`,
    "",
    "## Data",
    `- Development copy of the PASCAL CHSC2011 / Kaggle Heartbeat Sounds data (set_a phone app 44.1 kHz, set_b clinical stethoscope 4 kHz): ${
      JSON.stringify(o.counts)
    } labelled recordings (artifact and unlabelled excluded). About 20 % of each class (whole patients) is held back by the dataset maintainers for independent evaluation and was never used here.`,
    `- The shipped model is trained on all of it (${o.epochsRun} epochs; early stopping on a patient-grouped 15 % validation split).`,
    "",
    "## Training",
    `- Adam (lr ${o.train.learningRate}, ReduceLROnPlateau ×0.3), batch ${o.train.batchSize}, up to ${o.train.epochs} epochs (early stopping patience ${o.train.patience}), class weights (n / (K · n_c))^${o.train.classWeightPower} over training windows, at most ${o.train.maxTrainWindows} windows per recording and augmented copy (${o.train.augmentCopies} augmented cop${
      o.train.augmentCopies === 1 ? "y" : "ies"
    } per recording).`,
    o.train.priorCorrection > 0
      ? `- Logit adjustment after training: output bias −= ${o.train.priorCorrection} · log(class share of training windows) (probabilities ∝ p · prior^−${o.train.priorCorrection}).`
      : "- No logit adjustment in the shipped CNN (raw probabilities): the stack applies its own (see above). The CNN-alone CV numbers below are at τ = 0.5, as the CNN used to ship.",
    `- Training-only augmentation: speed change ±${
      Math.round(o.train.speedRange * 100)
    } % (resampling), white noise at ${o.train.noiseSnrDb[0]}–${
      o.train.noiseSnrDb[1]
    } dB SNR, random gain, random time shift of the window grid.`,
    "- Seeded (weights, shuffles, dropout, augmentation): the same command gives the same model.",
    "",
  ];
  if (r) {
    const q = r.quantization;
    lines.push(
      ...(r.stack && o.stacked ? stackMetricLines(r.stack) : []),
      r.stack && o.stacked
        ? `## First stage alone: the CNN${
          o.memberSeeds.length > 1 ? ` ensemble (mean of ${o.memberSeeds.length})` : ""
        }`
        : "## Cross-validated metrics",
      `Protocol: ${r.protocol}. ${r.numRecordings} recordings; CV took ${
        Math.round(r.seconds)
      } s (backend ${r.backend}).`,
      "",
      "| metric | mean ± std over folds |",
      "|---|---|",
      `| accuracy | ${ms(r.summary.accuracy)} |`,
      `| balanced accuracy | ${ms(r.summary.balancedAccuracy)} |`,
      `| macro-F1 | ${ms(r.summary.macroF1)} |`,
      `| majority-class baseline | ${ms(r.summary.majorityBaseline)} |`,
      "",
      `Pooled over folds: accuracy ${f3(r.pooled.accuracy)}, balanced accuracy ${
        f3(r.pooled.balancedAccuracy)
      }, macro-F1 ${f3(r.pooled.macroF1)}. Per-class recall: ${
        CLASSES.map((c, i) => `${c} ${f3(r.pooled.perClass[i].recall)}`).join(", ")
      }.`,
      "",
      ...confusionAndDeviceLines(r),
      "",
      `Device-confound check: extrahls occurs only in set a and extrastole only in set b, so a model could learn the device. Normal vs murmur exist in both sets; within set a the model separates them with accuracy ${
        f3(r.deviceConfound.a.accuracy)
      } (balanced ${f3(r.deviceConfound.a.balancedAccuracy)}, n ${r.deviceConfound.a.n}, majority share ${
        f3(r.deviceConfound.a.majorityShare)
      }), within set b ${f3(r.deviceConfound.b.accuracy)} (balanced ${
        f3(r.deviceConfound.b.balancedAccuracy)
      }, n ${r.deviceConfound.b.n}, majority share ${
        f3(r.deviceConfound.b.majorityShare)
      }). A device detector would score the majority share with balanced accuracy 0.5.`,
      "",
      "Quantization (every fold model saved quantized, reloaded, and re-scored on its test fold):",
      "",
      "| weights | weight bytes (all members) | accuracy | balanced accuracy | predictions changed |",
      "|---|---:|---:|---:|---:|",
      `| float32 | ${q.float32.weightBytes} | ${f3(q.float32.accuracy)} | ${f3(q.float32.balancedAccuracy)} | – |`,
      ...["float16", "uint8"].filter((m) => q[m]).map((m) =>
        `| ${m} | ${q[m].weightBytes} | ${f3(q[m].accuracy)} | ${f3(q[m].balancedAccuracy)} | ${
          q[m].changedPredictions
        } |`
      ),
      "",
      "Operating points: the same fold models with other logit adjustments τ (probabilities ∝ p · prior^−τ), pooled out-of-fold:",
      "",
      "| τ | accuracy | balanced accuracy | macro-F1 |",
      "|---:|---:|---:|---:|",
      ...(r.priorCorrectionTradeoff ?? []).map((
        t: { tau: number; accuracy: number; balancedAccuracy: number; macroF1: number },
      ) => `| ${t.tau} | ${f3(t.accuracy)} | ${f3(t.balancedAccuracy)} | ${f3(t.macroF1)} |`),
      "",
      "For reference: the original project's best reported model reached ~73.7 % on a random split that was also used for validation; a careful Python pipeline reached about 0.70 accuracy / 0.48 balanced accuracy under the same grouped protocol.",
      "",
    );
  } else {
    lines.push("## Cross-validated metrics", "", "Not available (trained with --skip-cv and no results/cnn.json).", "");
  }
  lines.push(
    "## Limitations",
    ...(r?.stack && o.stacked ? STACK_LIMITATIONS : [
      "- Issue 7's targets (accuracy ≥ 0.80 and balanced accuracy ≥ 0.70 under grouped CV) are not reached. Extrastole is the weakest class (most are called normal). τ = 0.5 was picked on the CV results above (best macro-F1), so those numbers are slightly optimistic.",
    ]),
    "- Small data (hundreds of recordings, few patients for extrahls and extrastole); per-class recall of the rare classes is uncertain (see the confusion matrix).",
    "- Recording-device confound (see above); not validated on other stethoscopes.",
    "- Not a medical device.",
    "",
    "## Retrain",
    "```sh",
    "deno task train                      # CV → results/cnn.json, then the final model → models/",
    "deno task train --data /path/to/heartbeat-sounds --members 1 --quantization uint8   # one CNN, 8-bit",
    "```",
    "",
  );
  return lines.join("\n");
}

/** The model card of a model trained on another class set: data, classes, CV metrics, files. */
function customModelCard(o: Parameters<typeof modelCard>[0]): string {
  // deno-lint-ignore no-explicit-any
  const r = o.results as any;
  const st = r?.stack && o.stacked ? r.stack : null;
  const metrics = st ?? r;
  const lines = [
    `# Model card: heartbeat classifier for ${o.classes.join(", ")}`,
    "",
    `Trained by \`deno task train\` (scripts/train.ts) on ${o.dir}: ${
      Object.entries(o.counts).map(([c, n]) => `${c} ${n}`).join(", ")
    } recordings. Classes (output order, preprocessing.json \`labels\`): ${o.classes.join(", ")}.`,
    "",
    `- ${o.memberSeeds.length} log-mel CNN(s) of ${o.params} parameters (seeds ${
      o.memberSeeds.join(", ")
    }), ${o.epochsRun} epochs${
      st ? ", plus the second stage (stack.json: XGBoost over hand features, mixed with the CNN)" : ""
    }; ${o.quantization ?? "float32"} weights, ${o.bytes} bytes.`,
  ];
  if (metrics) {
    lines.push(
      "",
      `Cross-validated (${r.protocol}${st?.innerCnnCv?.startsWith("skipped") ? `; ${st.innerCnnCv}` : ""}):`,
      "",
      `- accuracy ${f3(metrics.pooled.accuracy)}, balanced accuracy ${f3(metrics.pooled.balancedAccuracy)}, macro-F1 ${
        f3(metrics.pooled.macroF1)
      } (pooled over folds); majority class ${ms(r.summary.majorityBaseline)}`,
      `- recall: ${o.classes.map((c, i) => `${c} ${f3(metrics.pooled.perClass[i].recall)}`).join(", ")}`,
    );
  } else lines.push("", "Not cross-validated (--skip-cv).");
  lines.push(
    "",
    "Use: `deno run -R lib/infer.ts --model <this folder> file.wav`, or `loadClassifier(<folder>/model.json)`.",
  );
  return lines.join("\n") + "\n";
}

if (import.meta.main) {
  try {
    await main();
  } catch (e) {
    console.error(e instanceof Error ? e.message.split("\n")[0] : String(e));
    Deno.exit(1);
  }
}
