import assert from "node:assert/strict";
import { chooseLabel, type IrregularRhythmResult } from "../lib/classifier.ts";

const LABELS = ["normal", "extrahls", "murmur", "extrastole"];

function rhythm(flagged: boolean): IrregularRhythmResult {
  return { score: flagged ? 0.8 : 0.1, flagged, reliable: true, beats: [], earlyBeatTimesS: [], lateBeatTimesS: [] };
}

Deno.test("chooseLabel() gives the most probable class when it is not extrastole", () => {
  assert.equal(chooseLabel(LABELS, new Float32Array([0.2, 0.1, 0.6, 0.1]), rhythm(false)), 2);
  assert.equal(chooseLabel(LABELS, new Float32Array([0.7, 0.1, 0.1, 0.1]), null), 0);
});

Deno.test("chooseLabel() keeps an extrastole call only with a premature beat found", () => {
  const probs = new Float32Array([0.3, 0.05, 0.15, 0.5]);
  assert.equal(chooseLabel(LABELS, probs, rhythm(true)), 3);
  assert.equal(chooseLabel(LABELS, probs, rhythm(false)), 0, "regular rhythm: the second most probable class");
  assert.equal(chooseLabel(LABELS, probs, null), 0, "no rhythm evidence: the second most probable class");
  assert.equal(chooseLabel(LABELS, new Float32Array([0.1, 0.05, 0.35, 0.5]), rhythm(false)), 2);
});

Deno.test("chooseLabel() leaves models without an extrastole class alone", () => {
  assert.equal(chooseLabel(["calm", "whoosh"], new Float32Array([0.4, 0.6]), null), 1);
});
