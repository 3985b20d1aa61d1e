/**
 * Runs the challenge protocol of lib/challenge.ts for the original's experiments (baseline,
 * XGBoost, preprocessor 2) and the shipped model's recipe, per dataset and variant.
 * @module
 */
import {
  CHALLENGE_VARIANTS,
  type ChallengeDataset,
  challengePredictions,
  type ChallengeRecording,
  challengeSlot,
  challengeSplit,
  type ChallengeVariant,
  scoreChallenge,
} from "./challenge.ts";
import type { ChallengeAMetrics, ChallengeBMetrics } from "./challenge_metrics.ts";
import { type FeatureSet, loadFeatureSet, trainAndPredictSplit } from "./experiments.ts";
import { HeartSoundError } from "./errors.ts";
import type { PreparedRecording } from "./cnn.ts";

/** Models the protocol runs: the original's experiments and the shipped model's recipe. */
export const CHALLENGE_MODELS = ["baseline", "gbdt", "p2", "shipped"] as const;
export type ChallengeModel = (typeof CHALLENGE_MODELS)[number];

/** One model on one task and variant. */
export interface ChallengeRow {
  model: ChallengeModel;
  dataset: ChallengeDataset;
  variant: ChallengeVariant;
  /** Seed of the models and of the size-matched draw. */
  seed: number;
  status: "ok" | "not run";
  /** Training files used. */
  trainClips: number;
  /** Training files left out (leak-free: sharing a group with a test file; size-matched: not drawn). */
  removedClips: number;
  /** Test files scored. */
  testClips: number;
  metrics: ChallengeAMetrics | ChallengeBMetrics | null;
  /** Per test file: path, truth, prediction. */
  predictions: { relPath: string; truth: string; predicted: string }[];
  seconds: number;
  notes: string[];
}

/** Options of {@linkcode runChallenge}. */
export interface ChallengeRunOptions {
  models?: readonly ChallengeModel[];
  datasets?: readonly ChallengeDataset[];
  variants?: readonly ChallengeVariant[];
  /** Group of a recording for the leak-free variant. @default {patientId} */
  groupOf?: (r: ChallengeRecording, index: number) => string;
  /** Delta time of the original's features. @default {0.01} ("small") */
  deltaTimeS?: number;
  /** Seeds of the models and of the size-matched draw: every row once per seed. @default {[42]} */
  seeds?: readonly number[];
  /** Cap NN epochs / GBDT rounds (quick mode). */
  maxEpochs?: number;
  maxRounds?: number;
  /** CNN training epochs of the shipped recipe. @default {40} (lib/cnn.ts) */
  cnnEpochs?: number;
  cache?: boolean;
  progress?: boolean;
  log?: (line: string) => void;
}

/** What the shipped recipe's variants of one task share. */
interface ShippedInputs {
  recs?: PreparedRecording[];
  hand?: Float32Array;
}

/** The shipped stack's operating point (models/stack.json), kept fixed: choosing it needs nested CNN CVs. */
export const SHIPPED_OPERATING_POINT = { cnnWeight: 0.5, tau: 0.5 } as const;

/**
 * Trains and scores every model on every task and variant.
 * @param recordings From {@linkcode challengeRecordings}.
 */
export async function runChallenge(
  recordings: readonly ChallengeRecording[],
  options: ChallengeRunOptions = {},
): Promise<ChallengeRow[]> {
  const log = options.log ?? ((line: string) => console.error(line));
  const rows: ChallengeRow[] = [];
  for (const dataset of options.datasets ?? ["a", "b"] as const) {
    const seeds = options.seeds ?? [42];
    const splitsBySeed = seeds.map((seed) =>
      new Map(
        (options.variants ?? CHALLENGE_VARIANTS).map((
          v,
        ) => [v, challengeSplit(recordings, dataset, v, options.groupOf, seed)]),
      )
    );
    // every recording of the task, once: features and audio are shared by the variants and seeds
    const taskIndices = [
      ...new Set(splitsBySeed.flatMap((splits) => [...splits.values()].flatMap((s) => [...s.train, ...s.test]))),
    ].sort((x, y) => x - y);
    const task = taskIndices.map((i) => ({ ...recordings[i], classIndex: challengeSlot(recordings[i].label) }));
    const local = new Map(taskIndices.map((i, j) => [i, j]));
    const toLocal = (idx: readonly number[]) => idx.map((i) => local.get(i)!);
    let features: FeatureSet | undefined;
    const shared: ShippedInputs = {}; // audio and hand features, computed once per task
    for (const [seedIndex, seed] of seeds.entries()) {
      for (const model of options.models ?? CHALLENGE_MODELS) {
        for (const [variant, split] of splitsBySeed[seedIndex]) {
          const start = performance.now();
          const train = toLocal(split.train), test = toLocal(split.test);
          const row: ChallengeRow = {
            model,
            dataset,
            variant,
            seed,
            status: "ok",
            trainClips: train.length,
            removedClips: split.removed.length,
            testClips: test.length,
            metrics: null,
            predictions: [],
            seconds: 0,
            notes: [],
          };
          const same = variant !== "official" && split.removed.length === 0 &&
            rows.find((r) => r.dataset === dataset && r.model === model && r.variant === "official" && r.seed === seed);
          if (same) {
            // nothing to remove: the same training files, so the official row's model and predictions
            rows.push({ ...same, variant, notes: [...same.notes, "same training files as official"] });
            log(`challenge ${dataset.toUpperCase()} ${model} ${variant} seed ${seed}: as official (nothing removed)`);
            continue;
          }
          try {
            let probabilities: Float32Array;
            if (model === "shipped") {
              probabilities = await shippedRecipe(task, train, test, { ...options, seed }, shared);
              row.notes.push(
                `one CNN (seed ${seed}) + XGBoost on hand features, mixed at the shipped operating point ` +
                  `(w ${SHIPPED_OPERATING_POINT.cnnWeight}, τ ${SHIPPED_OPERATING_POINT.tau})`,
              );
            } else {
              features ??= await loadTaskFeatures(task, options);
              const r = await trainAndPredictSplit(model, features, { train, test }, {
                seed,
                maxEpochs: options.maxEpochs,
                maxRounds: options.maxRounds,
                progress: options.progress,
              });
              probabilities = r.probabilities;
              if (r.epochsRun !== undefined) row.notes.push(`${r.epochsRun} epochs`);
            }
            const predicted = challengePredictions(dataset, probabilities);
            const truth = test.map((j) => task[j].label);
            row.metrics = scoreChallenge(dataset, truth, predicted);
            row.predictions = test.map((j, r) => ({
              relPath: task[j].relPath,
              truth: truth[r],
              predicted: predicted[r],
            }));
          } catch (e) {
            if (!(e instanceof HeartSoundError)) throw e;
            row.status = "not run";
            row.notes.push(`not run: ${e.message}`);
          }
          row.seconds = (performance.now() - start) / 1000;
          rows.push(row);
          log(
            `challenge ${dataset.toUpperCase()} ${model} ${variant} seed ${seed}: ${headline(row)} (${
              row.seconds.toFixed(0)
            } s)`,
          );
        }
      }
    }
  }
  return rows;
}

/** One-line summary of a row: total precision, and Youden / DP (B) or artifact Youden / F (A). */
export function headline(row: ChallengeRow): string {
  const m = row.metrics;
  if (!m) return "not run";
  if ("artifactYouden" in m) {
    return `total precision ${m.totalPrecision.toFixed(3)}, artifact Youden ${m.artifactYouden.toFixed(3)}, F ${
      m.heartProblemF.toFixed(3)
    }`;
  }
  return `total precision ${m.totalPrecision.toFixed(3)}, accuracy ${m.accuracy.toFixed(3)}, Youden ${
    m.youden.toFixed(3)
  }, DP ${m.discriminantPower.toFixed(3)}`;
}

async function loadTaskFeatures(task: ChallengeRecording[], options: ChallengeRunOptions): Promise<FeatureSet> {
  const f = await loadFeatureSet(
    task,
    { deltaTimeS: options.deltaTimeS ?? 0.01, method: "dominant", targetRate: null },
    {
      cache: { enabled: options.cache ?? true },
      progress: options.progress,
    },
  );
  return { ...f, labels: Int32Array.from(task, (r) => r.classIndex) };
}

/**
 * The shipped model's recipe on a fixed split, kept cheap: one CNN (lib/cnn.ts defaults, raw
 * probabilities) and XGBoost on hand features, both trained on `train`, mixed by
 * {@linkcode combineProbabilities} at {@linkcode SHIPPED_OPERATING_POINT}.
 */
async function shippedRecipe(
  task: ChallengeRecording[],
  train: number[],
  test: number[],
  options: ChallengeRunOptions & { seed: number },
  shared: ShippedInputs,
): Promise<Float32Array> {
  const [
    { loadTf },
    cnn,
    { defaultLogmelPreprocessing },
    stackTrain,
    { combineProbabilities },
    { HAND_FEATURE_NAMES },
  ] = await Promise.all([
    import("./tf.ts"),
    import("./cnn.ts"),
    import("./preprocess.ts"),
    import("./stack_train.ts"),
    import("./stack.ts"),
    import("./handfeatures.ts"),
  ]);
  const tf = await loadTf();
  const p = defaultLogmelPreprocessing();
  const recs = shared.recs ??= await cnn.prepareRecordings(task, p.targetSampleRate);
  const seed = options.seed;
  const { model } = await cnn.trainCnn(tf, recs, train, p, {
    seed,
    priorCorrection: 0,
    ...(options.cnnEpochs ? { epochs: options.cnnEpochs } : {}),
  });
  let cnnProbs: Float32Array;
  try {
    cnnProbs = cnn.predictRecordings(tf, model, recs, test, p);
  } finally {
    model.dispose();
  }
  const y = recs.map((r) => r.classIndex);
  const x = shared.hand ??= stackTrain.handFeatureMatrix(recs.map((r) => r.wave));
  const trees = await stackTrain.fitPredictTrees(
    { x, y, numFeatures: HAND_FEATURE_NAMES.length, numClasses: 4 },
    train,
    test,
    { ...stackTrain.STACK_GBDT, ...(options.maxRounds ? { numRounds: options.maxRounds } : {}) },
  );
  const prior = stackTrain.classShares(y, train, 4);
  return combineProbabilities(cnnProbs, trees.probabilities, {
    prior,
    cnnTau: 0,
    cnnPrior: prior,
    cnnWeight: SHIPPED_OPERATING_POINT.cnnWeight,
    tau: SHIPPED_OPERATING_POINT.tau,
  });
}
