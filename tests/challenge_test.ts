import assert from "node:assert/strict";
import {
  challengeLabelOfSlot,
  challengePredictions,
  type ChallengeRecording,
  challengeRecordings,
  challengeSlot,
  challengeSplit,
} from "../lib/challenge.ts";
import { DatasetError, ParameterError } from "../lib/errors.ts";
import { DATA_DIR, needsData } from "./_helpers.ts";

function rec(relPath: string, label: string, split: "train" | "test", patientId: string): ChallengeRecording {
  const set = relPath.startsWith("set_a") ? "a" : "b";
  return {
    path: `/data/${relPath}`,
    relPath,
    set,
    label: label as ChallengeRecording["label"],
    labelId: -1,
    classIndex: -1,
    patientId,
    noisy: false,
    challengeSplit: split,
  };
}

const RECS: ChallengeRecording[] = [
  rec("set_a/normal__1.wav", "normal", "train", "a:normal__1"),
  rec("set_a/artifact__2.wav", "artifact", "train", "a:artifact__2"),
  rec("set_a/Aunlabelledtest__3.wav", "murmur", "test", "a:Aunlabelledtest__3"),
  rec("set_b/normal__10_1_A.wav", "normal", "train", "10"),
  rec("set_b/murmur__10_2_B.wav", "murmur", "train", "10"),
  rec("set_b/extrastole__11_3_A.wav", "extrastole", "train", "11"),
  rec("set_b/Bunlabelledtest__10_4_C.wav", "normal", "test", "10"),
  rec("set_b/Bunlabelledtest__12_5_C.wav", "extrastole", "test", "12"),
];

Deno.test("challengeSplit() keeps every training file (official) or drops the test patients' ones (leak-free)", () => {
  assert.deepEqual(challengeSplit(RECS, "b", "official"), { train: [3, 4, 5], test: [6, 7], removed: [] });
  // patient 10 has both training files and a test file: both training files go
  assert.deepEqual(challengeSplit(RECS, "b", "leak-free"), { train: [5], test: [6, 7], removed: [3, 4] });
  assert.deepEqual(challengeSplit(RECS, "a", "official"), { train: [0, 1], test: [2], removed: [] });
  assert.deepEqual(challengeSplit(RECS, "a", "leak-free"), { train: [0, 1], test: [2], removed: [] });
  // a coarser grouping (e.g. an audit's copies) is honoured: group every set_a file together
  const groupOf = (r: ChallengeRecording) => (r.set === "a" ? "all-a" : r.patientId);
  // size-matched: leak-free keeps one extrastole and nothing else, so one extrastole is drawn from all
  assert.deepEqual(challengeSplit(RECS, "b", "size-matched"), { train: [5], test: [6, 7], removed: [3, 4] });
  assert.deepEqual(challengeSplit(RECS, "a", "leak-free", groupOf), { train: [], test: [2], removed: [0, 1] });
});

Deno.test("challengeSlot() puts artifact in extrastole's slot, and challengePredictions() argmaxes over the dataset's classes", () => {
  assert.deepEqual(["normal", "extrahls", "murmur", "extrastole", "artifact"].map(challengeSlot), [0, 1, 2, 3, 3]);
  assert.equal(challengeLabelOfSlot("a", 3), "artifact");
  assert.equal(challengeLabelOfSlot("b", 3), "extrastole");
  assert.throws(() => challengeSlot("unknown"), ParameterError);
  // slot 1 (extrahls) is the largest in row 0, but Dataset B has no extrahls: murmur wins there
  const p = Float32Array.from([0.1, 0.5, 0.3, 0.1, 0.2, 0.1, 0.1, 0.6]);
  assert.deepEqual(challengePredictions("b", p), ["murmur", "extrastole"]);
  assert.deepEqual(challengePredictions("a", p), ["extrahls", "artifact"]);
  // ties go to the first class in slot order
  assert.deepEqual(challengePredictions("b", Float32Array.from([0.25, 0.25, 0.25, 0.25])), ["normal"]);
});

Deno.test("challengeRecordings() rejects a folder without challenge_test_labels.csv", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.mkdir(`${dir}/set_a`);
    await Deno.writeFile(`${dir}/set_a/normal__1.wav`, new Uint8Array(0));
    assert.throws(() => challengeRecordings(dir), DatasetError);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test({
  name: "challengeRecordings() finds the official test files of the development copy (52 of A, 152 of B)",
  ...needsData("real dataset", "challenge_test_labels.csv"),
  fn: () => {
    const recs = challengeRecordings(DATA_DIR);
    const a = challengeSplit(recs, "a", "official"), b = challengeSplit(recs, "b", "official");
    assert.equal(a.test.length, 52);
    assert.equal(b.test.length, 152);
    const count = (idx: number[], label: string) => idx.filter((i) => recs[i].label === label).length;
    assert.deepEqual(["normal", "murmur", "extrahls", "artifact"].map((c) => count(a.test, c)), [14, 14, 8, 16]);
    assert.ok(a.train.every((i) => recs[i].set === "a" && recs[i].challengeSplit === "train"));
    const leakFree = challengeSplit(recs, "b", "leak-free");
    const testPatients = new Set(b.test.map((i) => recs[i].patientId));
    assert.ok(leakFree.train.every((i) => !testPatients.has(recs[i].patientId)));
    assert.equal(leakFree.train.length + leakFree.removed.length, b.train.length);
    const matched = challengeSplit(recs, "b", "size-matched");
    for (const c of ["normal", "murmur", "extrastole"]) assert.equal(count(matched.train, c), count(leakFree.train, c));
    assert.ok(matched.train.some((i) => testPatients.has(recs[i].patientId))); // drawn with the test patients
    assert.deepEqual(challengeSplit(recs, "b", "size-matched").train, matched.train); // seeded
  },
});
