import assert from "node:assert/strict";
import {
  CLASS_NAMES,
  classCounts,
  labelFromFileName,
  listRecordings,
  patientFromFileName,
  resolveDataDir,
} from "../lib/data.ts";
import { DatasetError } from "../lib/errors.ts";
import { DATA_DIR, needsData } from "./_helpers.ts";

const FILES = [
  "set_a/normal__201101070538.wav",
  "set_a/extrahls__201101160808.wav",
  "set_a/artifact__201105040918.wav",
  "set_a/Aunlabelledtest__201012172010.wav",
  "set_b/normal__103_1305031931979_B.wav",
  "set_b/normal_noisynormal_103_1305031931979_C.wav",
  "set_b/murmur_noisymurmur_135_1306428972976_A.wav",
  "set_b/extrastole__127_1306764300147_C2.wav",
  "set_b/Bunlabelledtest__101_1305030823364_A.wav",
];

function makeTree(files: string[], csv?: string): string {
  const dir = Deno.makeTempDirSync({ prefix: "heartbeat-data-" });
  for (const f of files) {
    Deno.mkdirSync(`${dir}/${f.split("/").slice(0, -1).join("/")}`, { recursive: true });
    Deno.writeFileSync(`${dir}/${f}`, new Uint8Array(4)); // listing never reads the audio
  }
  if (csv) Deno.writeTextFileSync(`${dir}/labels.csv`, csv);
  return dir;
}

Deno.test("labelFromFileName() and patientFromFileName() read the PASCAL/Kaggle names", () => {
  assert.equal(labelFromFileName("normal__201101070538.wav"), "normal");
  assert.equal(labelFromFileName("murmur_noisymurmur_135_1306428972976_A.wav"), "murmur");
  assert.equal(labelFromFileName("Btraining_extrasystole_127_1306764300147_C2.wav"), "extrastole");
  assert.equal(labelFromFileName("Bunlabelledtest__101_1305030823364_A.wav"), null);
  assert.equal(patientFromFileName("normal__103_1305031931979_B.wav"), "103");
  assert.equal(patientFromFileName("murmur_noisymurmur_135_1306428972976_A.wav"), "135");
  assert.equal(patientFromFileName("normal__201101070538.wav"), null);
});

Deno.test("listRecordings() labels by file name, excludes artifact and unlabelled by default", () => {
  const dir = makeTree(FILES);
  try {
    const recs = listRecordings(dir);
    assert.deepEqual(recs.map((r) => r.relPath), [
      "set_a/extrahls__201101160808.wav",
      "set_a/normal__201101070538.wav",
      "set_b/extrastole__127_1306764300147_C2.wav",
      "set_b/murmur_noisymurmur_135_1306428972976_A.wav",
      "set_b/normal__103_1305031931979_B.wav",
      "set_b/normal_noisynormal_103_1305031931979_C.wav",
    ]);
    const byName = Object.fromEntries(recs.map((r) => [r.relPath.split("/")[1], r]));
    const ex = byName["extrastole__127_1306764300147_C2.wav"];
    assert.deepEqual([ex.set, ex.label, ex.labelId, ex.classIndex, ex.patientId, ex.noisy], [
      "b",
      "extrastole",
      4,
      3,
      "b:127",
      false,
    ]);
    assert.equal(ex.path, `${dir}/set_b/extrastole__127_1306764300147_C2.wav`);
    const noisy = byName["normal_noisynormal_103_1305031931979_C.wav"];
    assert.deepEqual([noisy.noisy, noisy.patientId], [true, "b:103"]);
    const a = byName["extrahls__201101160808.wav"];
    assert.deepEqual([a.set, a.labelId, a.classIndex, a.patientId], ["a", 1, 1, "a:extrahls__201101160808"]);
    const all = listRecordings(dir, { includeArtifact: true, includeUnlabelled: true });
    assert.equal(all.length, FILES.length);
    const art = all.find((r) => r.label === "artifact")!;
    assert.deepEqual([art.labelId, art.classIndex], [3, -1]);
    const unl = all.find((r) => r.relPath.startsWith("set_b/Bunl"))!;
    assert.deepEqual([unl.label, unl.labelId, unl.patientId], [null, -1, "b:101"]);
    assert.equal(listRecordings(dir, { sets: ["a"] }).length, 2);
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("listRecordings() prefers labels.csv over the file name", () => {
  const csv = "path,dataset,label,sublabel,sample_rate,duration_s,md5\n" +
    "set_a/normal__201101070538.wav,a,murmur,,44100,1,x\n" +
    "set_b/normal__103_1305031931979_B.wav,b,,,4000,1,x\n";
  const dir = makeTree(FILES.slice(0, 1).concat(FILES[4]), csv);
  try {
    const recs = listRecordings(dir, { includeUnlabelled: true });
    assert.deepEqual(recs.map((r) => r.label), ["murmur", null]);
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("listRecordings() reads a DHD-style folder per class", () => {
  const dir = makeTree([
    "extrastole/extrastole__127_1306764300147_C2.wav",
    "normal/normal__201101070538.wav",
    "murmur/201108011112.wav", // class only from the folder
  ]);
  try {
    const recs = listRecordings(dir);
    assert.deepEqual(recs.map((r) => [r.label, r.set, r.patientId]), [
      ["extrastole", "b", "b:127"],
      ["murmur", "a", "a:201108011112"],
      ["normal", "a", "a:normal__201101070538"],
    ]);
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("listRecordings() and resolveDataDir() throw DatasetError for a missing folder", () => {
  assert.throws(() => listRecordings("/nonexistent/heartbeat"), DatasetError);
  assert.throws(
    () => resolveDataDir("/nonexistent/heartbeat"),
    /Cannot find dataset: "\/nonexistent\/heartbeat" \(--data\)/,
  );
});

Deno.test(
  "listRecordings() on the development copy: labels agree with the names, set_b patients group files",
  needsData(),
  () => {
    const dir = resolveDataDir(DATA_DIR);
    const recs = listRecordings(dir);
    assert.ok(recs.length > 0);
    assert.ok(recs.every((r) => r.classIndex >= 0 && r.classIndex < CLASS_NAMES.length));
    // every original (train) file's class is its name's prefix; only test files get labels from the sheet
    for (const r of recs) {
      if (r.challengeSplit === "train") {
        assert.equal(r.label, labelFromFileName(r.relPath.split("/").pop()!), r.relPath);
      }
    }
    assert.ok(Object.keys(classCounts(recs)).every((k) => (CLASS_NAMES as readonly string[]).includes(k)));
    const setB = recs.filter((r) => r.set === "b");
    const patients = new Set(setB.map((r) => r.patientId));
    assert.ok(patients.size < setB.length, `${patients.size} set_b patients for ${setB.length} files`);
    const wavs = [...Deno.readDirSync(`${dir}/set_a`), ...Deno.readDirSync(`${dir}/set_b`)]
      .filter((e) => e.name.endsWith(".wav")).length;
    assert.equal(listRecordings(dir, { includeArtifact: true, includeUnlabelled: true }).length, wavs);
  },
);
