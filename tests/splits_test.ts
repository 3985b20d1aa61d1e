import assert from "node:assert/strict";
import { groupedStratifiedKFold, groupedValidationSplit, randomSplit } from "../lib/splits.ts";
import { mulberry32 } from "../lib/rng.ts";
import { ParameterError } from "../lib/errors.ts";

Deno.test("randomSplit() gives ceil(20%) test indices, disjoint, covering, seeded", () => {
  const s = randomSplit(101, 0.2, 42);
  assert.equal(s.test.length, 21);
  assert.equal(s.train.length, 80);
  assert.deepEqual([...s.train, ...s.test].sort((a, b) => a - b), Array.from({ length: 101 }, (_, i) => i));
  assert.deepEqual(randomSplit(101, 0.2, 42), s);
  assert.notDeepEqual(randomSplit(101, 0.2, 43).test, s.test);
  assert.throws(() => randomSplit(10, 1.5, 1), ParameterError);
});

Deno.test("groupedStratifiedKFold() never puts one group in two folds (property test)", () => {
  const rng = mulberry32(7);
  for (let trial = 0; trial < 50; trial++) {
    const n = 20 + Math.floor(rng() * 200);
    const nGroups = 5 + Math.floor(rng() * n * 0.5);
    const groups = Array.from({ length: n }, () => `p${Math.floor(rng() * nGroups)}`);
    const labels = Array.from({ length: n }, () => Math.floor(rng() * rng() * 4));
    const k = Math.min(5, new Set(groups).size);
    const folds = groupedStratifiedKFold(labels, groups, k, trial);
    assert.equal(folds.length, k);
    const seen = new Map<string, number>();
    const covered = new Array(n).fill(0);
    folds.forEach((fold, f) => {
      for (const i of fold.test) {
        covered[i]++;
        const prev = seen.get(groups[i]);
        assert.ok(prev === undefined || prev === f, `group ${groups[i]} in folds ${prev} and ${f}`);
        seen.set(groups[i], f);
      }
      assert.equal(fold.train.length + fold.test.length, n);
      const testSet = new Set(fold.test);
      for (const i of fold.train) assert.ok(!testSet.has(i));
    });
    assert.ok(covered.every((c) => c === 1), "every sample is tested exactly once");
  }
});

Deno.test("groupedStratifiedKFold() balances classes exactly when every group is one sample", () => {
  const labels = [...new Array(80).fill(0), ...new Array(20).fill(1)];
  const groups = labels.map((_, i) => i);
  for (const fold of groupedStratifiedKFold(labels, groups, 5, 3)) {
    assert.equal(fold.test.filter((i) => labels[i] === 0).length, 16);
    assert.equal(fold.test.filter((i) => labels[i] === 1).length, 4);
  }
});

Deno.test("groupedStratifiedKFold() spreads a rare class's groups over the folds", () => {
  // 10 patients of class 1 with 2 recordings each, 90 singleton patients of class 0.
  const labels: number[] = [], groups: string[] = [];
  for (let p = 0; p < 10; p++) labels.push(1, 1), groups.push(`r${p}`, `r${p}`);
  for (let p = 0; p < 90; p++) labels.push(0), groups.push(`n${p}`);
  for (const fold of groupedStratifiedKFold(labels, groups, 5, 11)) {
    assert.equal(fold.test.filter((i) => labels[i] === 1).length, 4);
    assert.equal(fold.test.filter((i) => labels[i] === 0).length, 18);
  }
});

Deno.test("groupedStratifiedKFold() is reproducible per seed and rejects k > groups", () => {
  const labels = Array.from({ length: 60 }, (_, i) => i % 3);
  const groups = Array.from({ length: 60 }, (_, i) => Math.floor(i / 2));
  assert.deepEqual(groupedStratifiedKFold(labels, groups, 5, 1), groupedStratifiedKFold(labels, groups, 5, 1));
  assert.throws(() => groupedStratifiedKFold([0, 1], ["a", "a"], 2, 1), /Cannot make folds/);
});

Deno.test("groupedValidationSplit() returns a grouped subset of the given indices", () => {
  const labels = Array.from({ length: 100 }, (_, i) => (i % 5 === 0 ? 1 : 0));
  const groups = Array.from({ length: 100 }, (_, i) => `p${Math.floor(i / 3)}`);
  const indices = Array.from({ length: 100 }, (_, i) => i).filter((i) => i % 7 !== 0);
  const { train, test } = groupedValidationSplit(indices, labels, groups, 0.2, 5);
  assert.equal(train.length + test.length, indices.length);
  assert.ok(test.length >= 10 && test.length <= 25, `validation size ${test.length}`);
  const trainGroups = new Set(train.map((i) => groups[i]));
  for (const i of test) {
    assert.ok(indices.includes(i));
    assert.ok(!trainGroups.has(groups[i]));
  }
});
