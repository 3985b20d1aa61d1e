import assert from "node:assert/strict";
import { CHALLENGE_TEST_LABELS_FILE, classCounts, listRecordings, resolveDataDir } from "../lib/data.ts";
import { encodeWav } from "../lib/wav.ts";
import { DATA_DIR, needsData } from "./_helpers.ts";

/** A data folder of tiny real WAVs (so any reader, not only the listing, can open them). */
function makeFolder(files: readonly string[], extra: Record<string, string> = {}): string {
  const dir = Deno.makeTempDirSync({ prefix: "heartbeat-challenge-" });
  for (const f of files) {
    Deno.mkdirSync(`${dir}/${f.split("/").slice(0, -1).join("/") || "."}`, { recursive: true });
    const rate = f.includes("set_b") ? 4000 : 44100;
    Deno.writeFileSync(`${dir}/${f}`, encodeWav({ samples: new Float32Array(64).fill(0.25), sampleRate: rate }));
  }
  for (const [name, text] of Object.entries(extra)) Deno.writeTextFileSync(`${dir}/${name}`, text);
  return dir;
}

const KAGGLE = [
  "set_a/normal__201101070538.wav",
  "set_a/murmur__201108222238.wav",
  "set_a/Aunlabelledtest__201012172010.wav",
  "set_a/Aunlabelledtest__201101051105.wav",
  "set_b/normal__103_1305031931979_B.wav",
  "set_b/Bunlabelledtest__101_1305030823364_A.wav",
  "set_b/Bunlabelledtest__181_1308052613891_C.wav",
];
const TEST_CSV = "path,label,sheet_name\n" +
  "set_a/Aunlabelledtest__201012172010.wav,artifact,201012172010.aif\n" +
  "set_a/Aunlabelledtest__201101051105.wav,murmur,201101051105.aif\n" +
  "set_b/Bunlabelledtest__101_1305030823364_A.wav,extrastole,x.wav\n";

Deno.test("listRecordings() labels the official test files from challenge_test_labels.csv", () => {
  const dir = makeFolder(KAGGLE, { [CHALLENGE_TEST_LABELS_FILE]: TEST_CSV });
  try {
    const all = listRecordings(dir, { includeArtifact: true, includeUnlabelled: true });
    const byPath = new Map(all.map((r) => [r.relPath, r]));
    const a = byPath.get("set_a/Aunlabelledtest__201101051105.wav")!;
    assert.deepEqual([a.label, a.classIndex, a.challengeSplit, a.set], ["murmur", 2, "test", "a"]);
    const b = byPath.get("set_b/Bunlabelledtest__101_1305030823364_A.wav")!;
    assert.deepEqual([b.label, b.labelId, b.challengeSplit, b.patientId], ["extrastole", 4, "test", "b:101"]);
    // a test file missing from the sheet stays unlabelled but is still a test file
    const missing = byPath.get("set_b/Bunlabelledtest__181_1308052613891_C.wav")!;
    assert.deepEqual([missing.label, missing.challengeSplit], [null, "test"]);
    assert.equal(byPath.get("set_a/normal__201101070538.wav")!.challengeSplit, "train");
    // default listing: the four target classes from both splits
    const targets = listRecordings(dir);
    assert.ok(targets.every((r) => r.classIndex >= 0));
    assert.deepEqual(targets.map((r) => r.relPath).sort(), [
      "set_a/Aunlabelledtest__201101051105.wav",
      "set_a/murmur__201108222238.wav",
      "set_a/normal__201101070538.wav",
      "set_b/Bunlabelledtest__101_1305030823364_A.wav",
      "set_b/normal__103_1305031931979_B.wav",
    ]);
    // the original's data: labelled training files only
    const original = listRecordings(dir, {
      challengeSplits: ["train"],
      includeArtifact: true,
      includeUnlabelled: true,
    });
    assert.ok(original.length > 0 && original.every((r) => r.challengeSplit === "train" && r.label !== null));
    const testOnly = listRecordings(dir, { challengeSplits: ["test"] });
    assert.ok(testOnly.length === 2 && testOnly.every((r) => r.challengeSplit === "test"));
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("listRecordings() without challenge_test_labels.csv keeps test files unlabelled", () => {
  const dir = makeFolder(KAGGLE);
  try {
    const all = listRecordings(dir, { includeUnlabelled: true });
    const tests = all.filter((r) => r.challengeSplit === "test");
    assert.equal(tests.length, 4);
    assert.ok(tests.every((r) => r.label === null));
    assert.equal(listRecordings(dir).length, 3);
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("listRecordings() combines labels.csv with challenge_test_labels.csv", () => {
  const labels = "path,dataset,label,sublabel\n" +
    "set_a/normal__201101070538.wav,a,murmur,\n" + // labels.csv wins over the name
    "set_a/murmur__201108222238.wav,a,murmur,\n" +
    "set_a/Aunlabelledtest__201012172010.wav,a,,\n" +
    "set_a/Aunlabelledtest__201101051105.wav,a,,\n" +
    "set_b/normal__103_1305031931979_B.wav,b,normal,\n" +
    "set_b/Bunlabelledtest__101_1305030823364_A.wav,b,,\n" +
    "set_b/Bunlabelledtest__181_1308052613891_C.wav,b,,\n";
  const dir = makeFolder(KAGGLE, { "labels.csv": labels, [CHALLENGE_TEST_LABELS_FILE]: TEST_CSV });
  try {
    const recs = listRecordings(dir, { includeArtifact: true });
    const counts = classCounts(recs);
    assert.deepEqual(counts, { murmur: 3, artifact: 1, normal: 1, extrastole: 1 });
    assert.equal(recs.filter((r) => r.challengeSplit === "test").length, 3);
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("listRecordings() reads a flat DHD folder with no CSV at all", () => {
  const dir = makeFolder([
    "normal/normal__201101070538.wav",
    "extrasystole/Btraining_extrasystole_127_1306764300147_C2.wav",
    "murmur__201108222238.wav",
  ]);
  try {
    const recs = listRecordings(dir);
    assert.deepEqual(recs.map((r) => [r.label, r.challengeSplit]), [
      ["extrastole", "train"],
      ["murmur", "train"],
      ["normal", "train"],
    ]);
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test(
  "listRecordings() on the development copy: every labelled test row is a test file, the train split is the original's",
  needsData("challenge test labels", CHALLENGE_TEST_LABELS_FILE),
  () => {
    const dir = resolveDataDir(DATA_DIR);
    const all = listRecordings(dir, { includeArtifact: true, includeUnlabelled: true });
    const rows = Deno.readTextFileSync(`${dir}/${CHALLENGE_TEST_LABELS_FILE}`).trim().split("\n").slice(1)
      .map((l) => l.split(","));
    const byPath = new Map(all.map((r) => [r.relPath, r]));
    for (const [path, label] of rows) {
      const r = byPath.get(path);
      assert.ok(r, `${path} listed`);
      assert.deepEqual([r.label, r.challengeSplit], [label, "test"]);
    }
    const train = all.filter((r) => r.challengeSplit === "train");
    assert.ok(train.every((r) => r.label !== null && !/unlabelled/i.test(r.relPath)));
    const targets = listRecordings(dir);
    const originalTargets = listRecordings(dir, { challengeSplits: ["train"] });
    const testTargets = rows.filter(([, label]) => label !== "artifact").length;
    assert.equal(targets.length, originalTargets.length + testTargets);
  },
);
