/**
 * Trains the shipped default model (`deno task train`): the log-mel CNN of lib/cnn.ts.
 *
 * 1. Patient-grouped stratified 5-fold CV on the development data (float32 and quantized
 *    predictions of every fold model) → results/cnn.json.
 * 2. The final model on all development data → models/ (model.json, weights.bin,
 *    preprocessing.json) with the chosen weight quantization, and the model card models/README.md.
 *
 * Usage: deno task train [--data DIR] [--out models] [--quantization float16|uint8|none]
 *                        [--skip-cv] [--quick] [--seed 42]
 * Data folder: --data, else HEARTBEAT_DATA, else ../shared/data/heartbeat-sounds if present, else data/.
 * @module
 */
import { parseArgs } from "node:util";
import { classCounts, listRecordings, resolveDataDir } from "../lib/data.ts";
import { loadTf } from "../lib/tf.ts";
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
import { defaultLogmelPreprocessing } from "../lib/preprocess.ts";
import { meanStd } from "../lib/metrics.ts";

const CLASSES = ["normal", "extrahls", "murmur", "extrastole"];

/** The shipped configuration (lib/cnn.ts defaults plus these). */
export const SHIPPED: Partial<CnnTrainOptions> = {};
/** Logit-adjustment values also scored in CV (the accuracy / balanced-accuracy trade-off). */
const TAUS = [0, 0.25, 0.5, 0.75, 1];

function dataDir(flag: string | undefined): string {
  if (flag || Deno.env.get("HEARTBEAT_DATA")) return resolveDataDir(flag);
  const shared = new URL("../../shared/data/heartbeat-sounds", import.meta.url).pathname;
  try {
    if (Deno.statSync(shared).isDirectory) return shared;
  } catch { /* fall through */ }
  return resolveDataDir("data");
}

const f3 = (x: number) => (Number.isFinite(x) ? x.toFixed(3) : "n/a");

async function main(): Promise<void> {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      data: { type: "string" },
      out: { type: "string", default: new URL("../models", import.meta.url).pathname },
      quantization: { type: "string", default: "float16" },
      "skip-cv": { type: "boolean", default: false },
      quick: { type: "boolean", default: false },
      seed: { type: "string", default: "42" },
      help: { type: "boolean", default: false },
    },
  });
  if (values.help) {
    console.log(
      "deno task train [--data DIR] [--out models] [--quantization float16|uint8|none] [--skip-cv] [--quick] [--seed 42]",
    );
    return;
  }
  const quantization = values.quantization === "none" ? null : values.quantization as "float16" | "uint8";
  if (quantization !== null && quantization !== "float16" && quantization !== "uint8") {
    console.error(`Cannot train: --quantization is "${values.quantization}", expected float16, uint8 or none`);
    Deno.exit(2);
  }
  const seed = Number(values.seed);
  const dir = dataDir(values.data);
  const recordings = listRecordings(dir);
  console.error(`data: ${dir} (${recordings.length} labelled recordings: ${JSON.stringify(classCounts(recordings))})`);
  const tf = await loadTf();
  console.error(`tfjs backend: ${tf.getBackend()}`);
  const p = defaultLogmelPreprocessing();
  const t0 = performance.now();
  const recs = await prepareRecordings(recordings, p.targetSampleRate);
  console.error(`read + resampled to ${p.targetSampleRate} Hz in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  const settings: Partial<CnnTrainOptions> = values.quick
    ? { ...SHIPPED, epochs: 2, augmentCopies: 0, patience: 1 }
    : { ...SHIPPED };
  const resultsPath = new URL("../results/cnn.json", import.meta.url).pathname;

  let results: Record<string, unknown> | null = null;
  if (!values["skip-cv"]) {
    const cv = await crossValidateCnn(tf, recs, {
      ...settings,
      seed,
      folds: 5,
      quantizations: ["float16", "uint8"],
      extraTaus: TAUS,
      onFold: (f, m) =>
        console.error(`fold ${f + 1}/5: accuracy ${f3(m.accuracy)}, balanced ${f3(m.balancedAccuracy)}`),
    });
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
      description:
        "1-D CNN on 3 s log-mel windows (2 kHz, 25–900 Hz band-pass, 16 mel bands, 40 ms hop), training-only augmentation (speed, noise, gain, time shift), class weights and/or logit adjustment (see settings); recording = mean of its windows' probabilities",
      protocol: "patient-grouped stratified 5-fold CV (lib/splits.ts groupedStratifiedKFold, seed " + seed +
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
      perSet: {
        a: subsetMetrics(recs, cv.probabilities, (r) => r.set === "a"),
        b: subsetMetrics(recs, cv.probabilities, (r) => r.set === "b"),
      },
      deviceConfound: {
        note:
          "normal-vs-murmur accuracy within one recording device (set); a device detector would score about majorityShare",
        a: normalVsMurmurWithinSet(recs, cv.probabilities, "a"),
        b: normalVsMurmurWithinSet(recs, cv.probabilities, "b"),
      },
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
    await Deno.mkdir(new URL("../results", import.meta.url).pathname, { recursive: true });
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
  const { model, epochsRun } = await trainCnn(tf, recs, all, p, { ...settings, seed });
  const { bytes } = await saveModel(tf, model, values.out!, p, { quantization });
  const weightsBytes = (await Deno.stat(`${values.out}/weights.bin`)).size;
  const params = countParameters(model);
  model.dispose();
  console.error(
    `final model: ${params} parameters, ${epochsRun} epochs, ${bytes} bytes in ${values.out} (${
      ((performance.now() - t1) / 1000).toFixed(0)
    } s)`,
  );
  await Deno.writeTextFile(
    `${values.out}/README.md`,
    modelCard({
      results,
      params,
      bytes,
      weightsBytes,
      quantization,
      epochsRun,
      dir,
      counts: classCounts(recordings),
      train: cnnDefaults({ ...settings, seed }),
    }),
  );
}

function table(confusion: number[][]): string {
  const head = `| true \\ predicted | ${CLASSES.join(" | ")} |\n|---|${CLASSES.map(() => "---:").join("|")}|\n`;
  return head + confusion.map((row, i) => `| ${CLASSES[i]} | ${row.join(" | ")} |`).join("\n");
}

function modelCard(o: {
  results: Record<string, unknown> | null;
  params: number;
  bytes: number;
  weightsBytes: number;
  quantization: string | null;
  epochsRun: number;
  dir: string;
  counts: Record<string, number>;
  train: ReturnType<typeof cnnDefaults>;
}): string {
  // deno-lint-ignore no-explicit-any
  const r = o.results as any;
  const ms = (v: { mean: number; std: number }) => `${f3(v.mean)} ± ${f3(v.std)}`;
  const lines = [
    "# Model card: heartbeat default classifier (log-mel CNN)",
    "",
    "Classes (output order): normal (label id 0), extrahls (1), murmur (2), extrastole (4).",
    "",
    "## Model",
    `- 1-D CNN over time on log-mel windows (lib/cnn.ts \`buildCnn\`): 3 × [Conv1D → BatchNorm → ReLU] with max-pooling, global average pooling, dropout, softmax; ${o.params} parameters.`,
    "- Input (models/preprocessing.json, lib/preprocess.ts `preprocess`): resample to 2 kHz, 4th-order Butterworth band-pass 25–900 Hz, log-mel (nFft 128, hop 80 = 40 ms, 16 bands 25–900 Hz), 3 s windows (75 frames) every 38 frames, each window standardised by its own mean and std; a recording shorter than 3 s is repeated to fill one window.",
    "- A recording's probabilities are the mean of its windows' probabilities (`aggregation: \"mean-probability\"`; `classifyWaveform` in lib/preprocess.ts does it in one call).",
    `- Weights: ${o.quantization ?? "float32"} (${
      o.quantization
        ? "post-training quantization, tfjs-converter `quantization` entries, dequantised by tfjs on load"
        : "not quantized"
    }); weights.bin ${o.weightsBytes} bytes, all three files ${o.bytes} bytes.`,
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
    `- Logit adjustment after training: output bias −= ${o.train.priorCorrection} · log(class share of training windows) (probabilities ∝ p · prior^−${o.train.priorCorrection}).`,
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
      "## Cross-validated metrics",
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
      "| weights | weights.bin bytes | accuracy | balanced accuracy | predictions changed |",
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
    "- Issue 7's targets (accuracy ≥ 0.80 and balanced accuracy ≥ 0.70 under grouped CV) are not reached. Extrastole is the weakest class (most are called normal): rhythm-irregularity features from lib/beats.ts had nearly the same medians for extrastole and normal set_b recordings, so they were not added. τ = 0.5 was picked on the CV results above (best macro-F1), so those numbers are slightly optimistic.",
    "- Small data (hundreds of recordings, few patients for extrahls and extrastole); per-class recall of the rare classes is uncertain (see the confusion matrix).",
    "- Recording-device confound (see above); not validated on other stethoscopes.",
    "- Not a medical device.",
    "",
    "## Retrain",
    "```sh",
    "deno task train                      # CV → results/cnn.json, then the final model → models/",
    "deno task train --data /path/to/heartbeat-sounds --quantization uint8",
    "```",
    "",
  );
  return lines.join("\n");
}

if (import.meta.main) {
  try {
    await main();
  } catch (e) {
    console.error(e instanceof Error ? e.message.split("\n")[0] : String(e));
    Deno.exit(1);
  }
}
