/**
 * Train/test splits: the original's single random 80/20 split, and k-fold cross-validation
 * stratified by class and grouped by patient (no patient in two folds).
 * @module
 */
import { ParameterError } from "./errors.ts";
import { mulberry32, shuffleInPlace } from "./rng.ts";

/** Indices of one split. */
export interface Fold {
  train: number[];
  test: number[];
}

/**
 * The original's protocol (a): `train_test_split(X, y, test_size=0.2, random_state=42)`, i.e. a
 * random permutation whose first ceil(n·testFraction) entries are the test set. The permutation
 * comes from our seeded mulberry32 Fisher–Yates shuffle; numpy's Mersenne-Twister permutation
 * cannot be matched, so seed 42 here gives a different (equally random) split than the original's.
 * Both lists are sorted ascending.
 * @param n Number of samples, ≥ 2.
 * @param testFraction In (0, 1).
 * @param seed Any number.
 */
export function randomSplit(n: number, testFraction = 0.2, seed = 42): Fold {
  if (!(Number.isInteger(n) && n >= 2)) throw new ParameterError(`Cannot split: n is ${n}, expected an integer ≥ 2`);
  if (!(testFraction > 0 && testFraction < 1)) {
    throw new ParameterError(`Cannot split: testFraction is ${testFraction}, expected a value in (0, 1)`);
  }
  const nTest = Math.min(n - 1, Math.max(1, Math.ceil(testFraction * n)));
  const perm = shuffleInPlace(Array.from({ length: n }, (_, i) => i), mulberry32(seed));
  return {
    test: perm.slice(0, nTest).sort((a, b) => a - b),
    train: perm.slice(nTest).sort((a, b) => a - b),
  };
}

/**
 * k folds stratified by class and grouped: every group (patient) lies in exactly one test fold,
 * and each fold's class proportions are as close to the whole set's as the groups allow.
 *
 * Algorithm (as scikit-learn's `StratifiedGroupKFold(shuffle=True)`): groups are shuffled with
 * the seed, then stably sorted by the standard deviation of their class counts, largest first
 * (big single-class groups are placed while there is room to balance them); each group goes to
 * the fold that minimises the mean over classes of the standard deviation, across folds, of the
 * fraction of that class's samples in each fold; ties go to the fold with fewer samples, then
 * the lower fold index.
 * @param labels Class index of each sample (any integers).
 * @param groups Group key of each sample (e.g. patient id), same length.
 * @param k Number of folds, 2 ≤ k ≤ number of groups.
 * @param seed Shuffle seed.
 * @returns k folds; `test` lists are disjoint and cover 0..n−1; `train` is the complement; sorted ascending.
 */
export function groupedStratifiedKFold(
  labels: ArrayLike<number>,
  groups: ArrayLike<string | number>,
  k = 5,
  seed = 42,
): Fold[] {
  const n = labels.length;
  if (groups.length !== n) {
    throw new ParameterError(`Cannot make folds: ${n} labels but ${groups.length} group keys`);
  }
  const classes = [...new Set(Array.from(labels))].sort((a, b) => a - b);
  const classIndex = new Map(classes.map((c, i) => [c, i]));
  const groupMembers = new Map<string | number, number[]>();
  for (let i = 0; i < n; i++) {
    const g = groups[i];
    const list = groupMembers.get(g);
    if (list) list.push(i);
    else groupMembers.set(g, [i]);
  }
  const groupKeys = [...groupMembers.keys()];
  if (!(Number.isInteger(k) && k >= 2 && k <= groupKeys.length)) {
    throw new ParameterError(`Cannot make folds: k is ${k}, expected an integer in 2..${groupKeys.length} (groups)`);
  }
  const nc = classes.length;
  const groupCounts = new Map<string | number, number[]>();
  for (const g of groupKeys) {
    const counts = new Array<number>(nc).fill(0);
    for (const i of groupMembers.get(g)!) counts[classIndex.get(labels[i])!]++;
    groupCounts.set(g, counts);
  }
  const classTotals = new Array<number>(nc).fill(0);
  for (let i = 0; i < n; i++) classTotals[classIndex.get(labels[i])!]++;
  const std = (xs: number[]) => {
    const m = xs.reduce((s, x) => s + x, 0) / xs.length;
    return Math.sqrt(xs.reduce((s, x) => s + (x - m) ** 2, 0) / xs.length);
  };
  const order = shuffleInPlace(groupKeys.slice(), mulberry32(seed));
  const spread = new Map(order.map((g) => [g, std(groupCounts.get(g)!)]));
  order.sort((a, b) => spread.get(b)! - spread.get(a)!); // Array.prototype.sort is stable
  const foldCounts = Array.from({ length: k }, () => new Array<number>(nc).fill(0));
  const foldSizes = new Array<number>(k).fill(0);
  const foldGroups: (string | number)[][] = Array.from({ length: k }, () => []);
  const fractions = new Array<number>(k);
  for (const g of order) {
    const counts = groupCounts.get(g)!;
    let bestFold = 0, bestScore = Infinity;
    for (let f = 0; f < k; f++) {
      let score = 0;
      for (let c = 0; c < nc; c++) {
        for (let h = 0; h < k; h++) foldCounts[h][c] += h === f ? counts[c] : 0;
        for (let h = 0; h < k; h++) fractions[h] = foldCounts[h][c] / classTotals[c];
        score += std(fractions);
        foldCounts[f][c] -= counts[c];
      }
      score /= nc;
      const better = score < bestScore - 1e-12 ||
        (Math.abs(score - bestScore) <= 1e-12 && foldSizes[f] < foldSizes[bestFold]);
      if (better) {
        bestScore = score;
        bestFold = f;
      }
    }
    for (let c = 0; c < nc; c++) foldCounts[bestFold][c] += counts[c];
    foldSizes[bestFold] += groupMembers.get(g)!.length;
    foldGroups[bestFold].push(g);
  }
  return foldGroups.map((gs) => {
    const inTest = new Uint8Array(n);
    for (const g of gs) for (const i of groupMembers.get(g)!) inTest[i] = 1;
    const train: number[] = [], test: number[] = [];
    for (let i = 0; i < n; i++) (inTest[i] ? test : train).push(i);
    return { train, test };
  });
}

/**
 * Carves a grouped, stratified validation set out of training indices (for early stopping and
 * learning-rate scheduling without touching the test fold): one fold of
 * {@linkcode groupedStratifiedKFold} with k = round(1 / fraction) over `indices`.
 * @param indices Training indices into `labels` / `groups`.
 * @param fraction Wanted validation share, in (0, 0.5]. @default {0.2}
 * @returns `train` and `test` (= validation) as subsets of `indices`, sorted.
 */
export function groupedValidationSplit(
  indices: readonly number[],
  labels: ArrayLike<number>,
  groups: ArrayLike<string | number>,
  fraction = 0.2,
  seed = 42,
): Fold {
  const subLabels = indices.map((i) => labels[i]);
  const subGroups = indices.map((i) => groups[i]);
  const nGroups = new Set(subGroups).size;
  const k = Math.min(nGroups, Math.max(2, Math.round(1 / fraction)));
  const fold = groupedStratifiedKFold(subLabels, subGroups, k, seed)[0];
  return { train: fold.train.map((j) => indices[j]), test: fold.test.map((j) => indices[j]) };
}
