import assert from "node:assert/strict";
import { renderResultsMarkdown, shippedModelSummary } from "../lib/report.ts";

const ms = (mean: number, std = 0.01) => ({ mean, std });
const perClass = (recalls: number[]) => recalls.map((recall) => ({ recall }));

Deno.test("shippedModelSummary() prefers the stacked model's nested CV, else the CNN's", () => {
  const cnn = {
    protocol: "grouped 5-fold",
    description: "CNN",
    summary: { accuracy: ms(0.6), balancedAccuracy: ms(0.5), macroF1: ms(0.4) },
    pooled: { perClass: perClass([0.9, 0.1, 0.5, 0.2]) },
  };
  const alone = shippedModelSummary(cnn)!;
  assert.equal(alone.accuracy.mean, 0.6);
  assert.deepEqual(alone.recall, [0.9, 0.1, 0.5, 0.2]);
  assert.equal(alone.protocol, "grouped 5-fold");
  const stacked = shippedModelSummary({
    ...cnn,
    stack: {
      description: "stack",
      summary: { accuracy: ms(0.73), balancedAccuracy: ms(0.64), macroF1: ms(0.57) },
      pooled: { perClass: perClass([0.8, 1, 0.7, 0.1]) },
    },
  })!;
  assert.equal(stacked.description, "stack");
  assert.equal(stacked.balancedAccuracy.mean, 0.64);
  assert.match(stacked.protocol, /nested/);
  assert.equal(shippedModelSummary({ protocol: "x" }), undefined);
});

Deno.test("renderResultsMarkdown() adds the shipped model's row when given", () => {
  const shipped = shippedModelSummary({
    protocol: "grouped 5-fold",
    description: "CNN",
    summary: { accuracy: ms(0.6123), balancedAccuracy: ms(0.5), macroF1: ms(0.4) },
    pooled: { perClass: perClass([0.9, 0.1, 0.5, 0.2]) },
  });
  const withRow = renderResultsMarkdown([], { shipped });
  assert.match(
    withRow,
    /\| shipped default \(models\/\) \| 0\.612 ± 0\.010 \| 0\.500 ± 0\.010 \| 0\.400 ± 0\.010 \| 0\.90 \/ 0\.10 \/ 0\.50 \/ 0\.20 \|/,
  );
  assert.doesNotMatch(renderResultsMarkdown([], {}), /shipped default/);
});

Deno.test("renderChallenge() puts the variants side by side and splits the leak from the smaller training set", async () => {
  const { renderChallenge } = await import("../lib/report.ts");
  const { challengeMetricsB } = await import("../lib/challenge_metrics.ts");
  const truth = ["normal", "normal", "murmur", "extrastole"];
  const row = (variant: "official" | "size-matched" | "leak-free", predicted: string[]) => ({
    model: "gbdt" as const,
    dataset: "b" as const,
    variant,
    seed: 42,
    status: "ok" as const,
    trainClips: variant === "official" ? 10 : 4,
    removedClips: variant === "official" ? 0 : 6,
    testClips: 4,
    metrics: challengeMetricsB(truth, predicted),
    predictions: truth.map((t, i) => ({ relPath: `set_b/${i}.wav`, truth: t, predicted: predicted[i] })),
    seconds: 1,
    notes: [],
  });
  const lines = renderChallenge({
    groups: "patients",
    rows: [
      row("official", ["normal", "normal", "murmur", "extrastole"]), // Youden 1
      row("size-matched", ["normal", "normal", "murmur", "normal"]), // Se 0.5, Sp 1: Youden 0.5
      row("leak-free", ["normal", "murmur", "normal", "normal"]), // Se 0, Sp 0.5: Youden −0.5
    ],
  });
  const text = lines.join("\n");
  assert.ok(text.includes("| gbdt | leak-free | 4 |"));
  assert.ok(text.includes("leak-free removes 6 of 10 training files"));
  // official → size-matched → leak-free: the leak is 0.5 − (−0.5), the smaller set 1 − 0.5
  assert.ok(text.includes("Youden 1.000 → 0.500 → -0.500 (leak +1.000, size +0.500)"), text);
  assert.ok(text.includes("| +∞ |")); // DP at Sp = 1, unbanded
});
