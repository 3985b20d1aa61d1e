/**
 * The PASCAL Classifying Heart Sounds Challenge 2011 protocol: train on the challenge's training
 * files (the originally labelled ones, artifact included for Dataset A), predict its official
 * test files, score with the official metrics (lib/challenge_metrics.ts), one task per dataset.
 *
 * Two variants of the training set:
 * - **official**: every training file, as the challenge had it. In Dataset B most test patients
 *   also have training recordings, so a model can recognise the patient rather than the sound.
 * - **leak-free**: training files that share a group with any test file are removed (the caller's
 *   groups: by default `patientId`; `deno task reproduce --challenge` passes the audit's, which
 *   join set_b patients, set_a sessions and near-duplicate copies).
 * - **size-matched**: the control that separates the leak from the smaller training set: as many
 *   training files of each class as leak-free keeps, drawn at random (seeded) from all training
 *   files, test patients included.
 *
 * Class slots: models here have the 4 outputs of {@linkcode CLASS_NAMES}; Dataset A has no
 * extrastole, so artifact takes extrastole's slot there, and Dataset B leaves the extrahls slot
 * empty. Predictions take the argmax over the dataset's own classes only.
 * @module
 */
import {
  CHALLENGE_A_CLASSES,
  CHALLENGE_B_CLASSES,
  type ChallengeAMetrics,
  type ChallengeBMetrics,
  challengeMetricsA,
  challengeMetricsB,
} from "./challenge_metrics.ts";
import { CHALLENGE_TEST_LABELS_FILE, CLASS_NAMES, listRecordings, type Recording } from "./data.ts";
import { DatasetError, ParameterError } from "./errors.ts";
import { mulberry32, shuffleInPlace } from "./rng.ts";

/** One challenge task: Dataset A (set_a, with artifact) or B (set_b). */
export type ChallengeDataset = "a" | "b";
/** Training-set variant, see the module doc. */
export type ChallengeVariant = "official" | "size-matched" | "leak-free";
export const CHALLENGE_VARIANTS: readonly ChallengeVariant[] = ["official", "size-matched", "leak-free"];

/** A labelled recording (artifact included), with its challenge split from lib/data.ts. */
export interface ChallengeRecording extends Recording {
  /** Class name (normal, murmur, extrahls, extrastole or artifact). */
  label: NonNullable<Recording["label"]>;
}

/** The dataset's class names, in the official sheet's order. */
export function challengeClasses(dataset: ChallengeDataset): readonly string[] {
  return dataset === "a" ? CHALLENGE_A_CLASSES : CHALLENGE_B_CLASSES;
}

/**
 * Output slot (0..3) of a class name: its {@linkcode CLASS_NAMES} index, and 3 for artifact
 * (extrastole's slot, which Dataset A never uses).
 */
export function challengeSlot(label: string): number {
  if (label === "artifact") return 3;
  const i = (CLASS_NAMES as readonly string[]).indexOf(label);
  if (i < 0) throw new ParameterError(`Cannot map class: "${label}" is not a challenge class`);
  return i;
}

/** Class name of a slot in a dataset (inverse of {@linkcode challengeSlot}). */
export function challengeLabelOfSlot(dataset: ChallengeDataset, slot: number): string {
  return dataset === "a" && slot === 3 ? "artifact" : CLASS_NAMES[slot];
}

/**
 * Predicted class names from `n × 4` slot probabilities: the most probable of the dataset's own
 * classes (first on ties).
 */
export function challengePredictions(dataset: ChallengeDataset, probabilities: Float32Array): string[] {
  const slots = challengeClasses(dataset).map(challengeSlot).sort((x, y) => x - y);
  const out: string[] = [];
  for (let r = 0; r < probabilities.length / 4; r++) {
    let best = slots[0];
    for (const s of slots) if (probabilities[r * 4 + s] > probabilities[r * 4 + best]) best = s;
    out.push(challengeLabelOfSlot(dataset, best));
  }
  return out;
}

/** Training and test recordings of one task and variant (indices into the list given). */
export interface ChallengeSplitIndices {
  train: number[];
  test: number[];
  /** Training files left out: sharing a group with a test file (leak-free), or not drawn (size-matched). */
  removed: number[];
}

/**
 * The task's training and test files.
 * @param recordings From {@linkcode challengeRecordings}.
 * @param groupOf Group of a recording (copies and one patient's files share one). @default {patientId}
 * @param seed Of the size-matched draw. @default {42}
 */
export function challengeSplit(
  recordings: readonly ChallengeRecording[],
  dataset: ChallengeDataset,
  variant: ChallengeVariant,
  groupOf: (r: ChallengeRecording, index: number) => string = (r) => r.patientId,
  seed = 42,
): ChallengeSplitIndices {
  const classes = challengeClasses(dataset);
  const inTask = (r: ChallengeRecording) => r.set === dataset && classes.includes(r.label);
  const test: number[] = [], candidates: number[] = [];
  recordings.forEach((r, i) => {
    if (!inTask(r)) return;
    (r.challengeSplit === "test" ? test : candidates).push(i);
  });
  if (variant === "official") return { train: candidates, test, removed: [] };
  const testGroups = new Set(test.map((i) => groupOf(recordings[i], i)));
  const train: number[] = [], removed: number[] = [];
  for (const i of candidates) (testGroups.has(groupOf(recordings[i], i)) ? removed : train).push(i);
  if (variant === "leak-free") return { train, test, removed };
  // size-matched: leak-free's count of each class, drawn from every training file
  const rng = mulberry32(seed);
  const drawn: number[] = [];
  for (const label of classes) {
    const pool = shuffleInPlace(candidates.filter((i) => recordings[i].label === label), rng);
    drawn.push(...pool.slice(0, train.filter((i) => recordings[i].label === label).length));
  }
  drawn.sort((x, y) => x - y);
  const kept = new Set(drawn);
  return { train: drawn, test, removed: candidates.filter((i) => !kept.has(i)) };
}

/** Official metrics of a task's predictions. */
export function scoreChallenge(
  dataset: ChallengeDataset,
  truth: readonly string[],
  predicted: readonly string[],
): ChallengeAMetrics | ChallengeBMetrics {
  return dataset === "a" ? challengeMetricsA(truth, predicted) : challengeMetricsB(truth, predicted);
}

/**
 * Every labelled recording of a data folder with its challenge split ({@linkcode listRecordings}):
 * the originally labelled files (artifact included) as "train", and the official test files that
 * `challenge_test_labels.csv` labels as "test" (test files it does not list are left out).
 * @throws {DatasetError} The folder has no `challenge_test_labels.csv` (no labelled test file).
 */
export function challengeRecordings(dataDir: string): ChallengeRecording[] {
  const recs = listRecordings(dataDir, { includeArtifact: true }).filter((r): r is ChallengeRecording =>
    r.label !== null
  );
  if (!recs.some((r) => r.challengeSplit === "test")) {
    throw new DatasetError(
      `Cannot run the challenge protocol: no labelled test file (${CHALLENGE_TEST_LABELS_FILE} not found in ${dataDir})`,
    );
  }
  return recs;
}
