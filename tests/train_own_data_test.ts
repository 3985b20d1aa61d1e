/**
 * "Train on your own data" end to end: `deno task train --quick` on a tiny synthetic data set with one
 * folder per class and two made-up classes, into a temporary folder; the result classifies through
 * `--model` and `loadClassifier`. Also checks that these commands leave the checkout unchanged
 * (`git status --porcelain`): outputs go where `--out` says.
 */
import assert from "node:assert/strict";
import { loadClassifier } from "../lib/classifier.ts";
import { writeOwnDataset } from "../examples/make_dataset.ts";
import { gitStatus, needsData } from "./_helpers.ts";

const ROOT = decodeURIComponent(new URL("..", import.meta.url).pathname).replace(/\/$/, "");

async function run(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const out = await new Deno.Command(Deno.execPath(), {
    args,
    cwd: ROOT,
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1" },
  }).output();
  const text = (b: Uint8Array) => new TextDecoder().decode(b);
  return { code: out.code, stdout: text(out.stdout), stderr: text(out.stderr) };
}

Deno.test("train --quick on a folder per class with made-up classes, then classify with the result", async () => {
  const before = await gitStatus();
  const tmp = await Deno.makeTempDir({ prefix: "heartbeat-own-" });
  try {
    await writeOwnDataset(`${tmp}/data`, 12);
    const train = await run([
      "run",
      "-A",
      "scripts/train.ts",
      "--data",
      `${tmp}/data`,
      "--out",
      `${tmp}/model`,
      "--quick",
      "--members",
      "1",
      "--folds",
      "2",
    ]);
    assert.equal(train.code, 0, train.stderr);
    const files = [...Deno.readDirSync(`${tmp}/model`)].map((e) => e.name).sort();
    assert.deepEqual(files, ["README.md", "cv.json", "model.json", "preprocessing.json", "stack.json", "weights.bin"]);
    const pp = JSON.parse(await Deno.readTextFile(`${tmp}/model/preprocessing.json`));
    assert.deepEqual([pp.labels, pp.labelIds], [["calm", "whoosh"], [0, 1]]);
    const cv = JSON.parse(await Deno.readTextFile(`${tmp}/model/cv.json`));
    assert.deepEqual(cv.classes, ["calm", "whoosh"]);
    assert.deepEqual(cv.classCounts, { calm: 12, whoosh: 12 });

    const classifier = await loadClassifier(new URL(`file://${tmp}/model/model.json`));
    assert.deepEqual(classifier.labels(), ["calm", "whoosh"]);
    const result = classifier.classifyWav(await Deno.readFile(`${tmp}/data/whoosh/rec3.wav`));
    assert.deepEqual(Object.keys(result.probabilities), ["calm", "whoosh"]);
    assert.ok(Math.abs(result.probabilities.calm + result.probabilities.whoosh - 1) < 1e-5);
    assert.equal(result.labelId, result.label === "calm" ? 0 : 1);

    const cli = await run([
      "run",
      "-R",
      "lib/infer.ts",
      "--csv",
      "--model",
      `${tmp}/model`,
      `${tmp}/data/calm/rec1.wav`,
    ]);
    assert.equal(cli.code, 0, cli.stderr);
    const [header, row] = cli.stdout.trim().split("\n");
    assert.equal(
      header,
      "file,label,labelId,confidence,calm,whoosh,heartRateBpm,s1TimesS,s2TimesS,quality,warning,error,model,modelVersion,modelHash",
    );
    assert.match(row, /,(calm|whoosh),[01],/);
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
  assert.equal(await gitStatus(), before, "training with --out changed files in the checkout");
});

Deno.test(
  "score_beats without --out prints its table and writes nothing",
  needsData("set_a_timing.csv of the data folder", "set_a_timing.csv"),
  async () => {
    const before = await gitStatus();
    const out = await run(["run", "-R", "-E", "scripts/score_beats.ts"]);
    assert.equal(out.code, 0, out.stderr);
    assert.match(out.stdout, /heart rate: MAE/);
    assert.doesNotMatch(out.stdout, /wrote /);
    assert.equal(await gitStatus(), before);
  },
);
