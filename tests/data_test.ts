import assert from "node:assert/strict";
import {
  CLASS_NAMES,
  classCounts,
  classesOf,
  findDataDir,
  labelFromFileName,
  listRecordings,
  patientFromFileName,
  resolveDataDir,
} from "../lib/data.ts";
import { DatasetError } from "../lib/errors.ts";
import { readWav } from "../lib/wav.ts";
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

Deno.test("listRecordings() and classesOf() take any class set: folders per class, labels.csv, symlinks", () => {
  const physionet = makeTree(["abnormal/a0001.wav", "normal/a0002.wav", "abnormal/b0003.wav"]);
  const csv = makeTree(["x/1.wav", "x/2.wav", "y/3.wav"], "path,label\nx/1.wav,Quiet\nx/2.wav,loud\ny/3.wav,\n");
  const linked = Deno.makeTempDirSync({ prefix: "heartbeat-data-" });
  try {
    const recs = listRecordings(physionet);
    assert.deepEqual(recs.map((r) => [r.relPath, r.label, r.labelId, r.classIndex]), [
      ["abnormal/a0001.wav", "abnormal", -1, -1],
      ["abnormal/b0003.wav", "abnormal", -1, -1],
      ["normal/a0002.wav", "normal", 0, 0],
    ]);
    assert.deepEqual(classesOf(recs), ["abnormal", "normal"]);
    // labels.csv labels are kept as written (the dataset's own names are matched case-insensitively); empty = unlabelled
    const fromCsv = listRecordings(csv);
    assert.deepEqual(fromCsv.map((r) => r.label), ["Quiet", "loud"]);
    assert.deepEqual(classesOf(fromCsv), ["Quiet", "loud"]);
    // The dataset's classes keep their order; a subset of them stays in it.
    assert.deepEqual(classesOf([{ label: "murmur" }, { label: "normal" }, { label: "extrastole" }]), [
      "normal",
      "murmur",
      "extrastole",
    ]);
    Deno.symlinkSync(`${physionet}/abnormal`, `${linked}/abnormal`);
    assert.deepEqual(listRecordings(linked).map((r) => r.relPath), ["abnormal/a0001.wav", "abnormal/b0003.wav"]);
  } finally {
    for (const d of [physionet, csv, linked]) Deno.removeSync(d, { recursive: true });
  }
});

Deno.test("findDataDir() takes --data, else HEARTBEAT_DATA, else data/ with WAVs", () => {
  const a = makeTree(["normal/x.wav"]);
  const b = makeTree(["murmur/y.wav"]);
  const empty = Deno.makeTempDirSync({ prefix: "heartbeat-data-" });
  const saved = Deno.env.get("HEARTBEAT_DATA");
  const cwd = Deno.cwd();
  try {
    Deno.env.set("HEARTBEAT_DATA", b);
    assert.equal(findDataDir(a), a);
    assert.equal(findDataDir(), b);
    assert.equal(findDataDir(empty), null);
    Deno.env.delete("HEARTBEAT_DATA");
    Deno.mkdirSync(`${empty}/data/normal`, { recursive: true });
    Deno.writeFileSync(`${empty}/data/normal/z.wav`, new Uint8Array(4));
    Deno.chdir(empty);
    assert.equal(findDataDir(), `${Deno.cwd()}/data`);
    assert.throws(() => resolveDataDir(`${empty}/nothing`), /Cannot find dataset: .*\(--data\)/);
  } finally {
    Deno.chdir(cwd);
    if (saved === undefined) Deno.env.delete("HEARTBEAT_DATA");
    else Deno.env.set("HEARTBEAT_DATA", saved);
    for (const d of [a, b, empty]) Deno.removeSync(d, { recursive: true });
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
  "listRecordings() on the data found: every class present, counts as labels.csv, sets at their rates",
  needsData(),
  () => {
    const all = listRecordings(DATA_DIR, { includeArtifact: true, includeUnlabelled: true });
    const wavCount = (dir: string): number =>
      [...Deno.readDirSync(dir)].reduce(
        (n, e) => {
          const path = `${dir}/${e.name}`;
          if (Deno.statSync(path).isDirectory) return n + wavCount(path); // symlinked folders too
          return n + (e.name.toLowerCase().endsWith(".wav") ? 1 : 0);
        },
        0,
      );
    assert.equal(all.length, wavCount(DATA_DIR), "every .wav is listed once");
    // labels.csv labels the original's files; challenge_test_labels.csv the test files (tests/data_challenge_test.ts)
    const recs = listRecordings(DATA_DIR, { challengeSplits: ["train"] });
    const counts = classCounts(recs);
    for (const name of CLASS_NAMES) assert.ok((counts[name] ?? 0) > 0, `no ${name} recording`);
    assert.ok(recs.every((r) => r.classIndex >= 0 && r.classIndex < CLASS_NAMES.length));
    let csv = "";
    try {
      csv = Deno.readTextFileSync(`${DATA_DIR}/labels.csv`);
    } catch { /* file-name labels only */ }
    if (csv) {
      const [head, ...rows] = csv.trim().split(/\r?\n/).map((l) => l.split(","));
      const col = (name: string) => head.indexOf(name);
      const fromCsv: Record<string, number> = {};
      for (const row of rows) {
        const label = row[col("label")];
        if ((CLASS_NAMES as readonly string[]).includes(label)) fromCsv[label] = (fromCsv[label] ?? 0) + 1;
      }
      assert.deepEqual(counts, fromCsv);
    }
    // data/README.md: set_a is the iStethoscope app at 44.1 kHz, set_b the DigiScope at 4 kHz.
    for (const [set, rate] of [["a", 44100], ["b", 4000]] as const) {
      const some = all.filter((r) => r.set === set).slice(0, 5);
      assert.ok(some.length > 0, `no set_${set} recording`);
      for (const r of some) assert.equal(readWav(Deno.readFileSync(r.path)).sampleRate, rate, r.relPath);
    }
    const b = recs.filter((r) => r.set === "b");
    const patients = new Set(b.map((r) => r.patientId));
    assert.ok(
      patients.size > 1 && patients.size < b.length,
      `${patients.size} set_b patients in ${b.length} recordings`,
    );
  },
);
