import assert from "node:assert/strict";
import { loadClassifier } from "../lib/infer.ts";
import { HAND_FEATURE_NAMES } from "../lib/handfeatures.ts";
import { encodeTreeEnsemble, type StackFile, type TreeEnsemble } from "../lib/stack.ts";
import { synthesizeHeartSound } from "../lib/synth.ts";
import { encodeWav } from "../lib/wav.ts";
import { SHIPPED_MODEL_DIR } from "./_infer_fixtures.ts";
import { assertAlmostEquals } from "./_helpers.ts";

/** Two one-leaf trees: class margins 0.5 + usable and 0.5 + artifact, whatever the features. */
function constantQuality(usable: number, artifact: number): TreeEnsemble {
  return {
    numClasses: 2,
    numFeatures: HAND_FEATURE_NAMES.length,
    baseScore: 0.5,
    treeClass: Uint8Array.of(0, 1),
    treeRoot: Int32Array.of(0, 1),
    feature: Int16Array.of(-1, -1),
    left: Int32Array.of(-1, -1),
    right: Int32Array.of(-1, -1),
    defaultLeft: new Uint8Array(2),
    value: Float32Array.of(usable, artifact),
  };
}

/** The shipped model folder copied to a temporary one whose stack.json has the given quality model. */
async function modelWithQuality(trees: TreeEnsemble, threshold: number): Promise<string> {
  const dir = await Deno.makeTempDir({ prefix: "heartbeat-quality-" });
  for (const entry of Deno.readDirSync(SHIPPED_MODEL_DIR)) {
    if (entry.isFile) await Deno.copyFile(`${SHIPPED_MODEL_DIR}/${entry.name}`, `${dir}/${entry.name}`);
  }
  const stack = JSON.parse(await Deno.readTextFile(`${dir}/stack.json`)) as StackFile;
  // A reason that always applies: heart sounds' spectral flatness "centred" far below any real value.
  stack.quality = {
    trees: encodeTreeEnsemble(trees),
    threshold,
    reasons: [{ feature: "flatnessMean", median: -100, scale: 1 }],
  };
  await Deno.writeTextFile(`${dir}/stack.json`, JSON.stringify(stack));
  return dir;
}

const wav = encodeWav(synthesizeHeartSound({ kind: "normal", seed: 1, durationS: 5 }), { bitDepth: 16 });

Deno.test("classify() reports the stack's quality and says retake below its threshold, class still given", async () => {
  const low = await modelWithQuality(constantQuality(-1, 1), 0.5); // quality σ(−2)
  const high = await modelWithQuality(constantQuality(1, -1), 0.5); // quality σ(2)
  try {
    const bad = (await loadClassifier(new URL(`file://${low}/model.json`))).classifyWav(wav);
    assertAlmostEquals(bad.quality!, 1 / (1 + Math.exp(2)), 1e-6);
    assert.match(bad.warnings[0], /^retake: broadband noise over the heart sounds \(quality 0\.12\); record again /);
    // A recording to retake gives no rhythm flag (its noise peaks would look like early beats).
    assert.equal(bad.irregularRhythm?.reliable, false);
    assert.equal(bad.irregularRhythm?.flagged, false);
    assert.ok(["normal", "extrahls", "murmur", "extrastole"].includes(bad.label));
    const good = (await loadClassifier(new URL(`file://${high}/model.json`))).classifyWav(wav);
    assertAlmostEquals(good.quality!, 1 / (1 + Math.exp(-2)), 1e-6);
    assert.ok(good.warnings.every((w) => !w.startsWith("retake")));
    assert.equal(good.irregularRhythm?.reliable, true);
    assert.deepEqual(good.probabilities, bad.probabilities); // quality never changes the class probabilities
  } finally {
    await Deno.remove(low, { recursive: true });
    await Deno.remove(high, { recursive: true });
  }
});
