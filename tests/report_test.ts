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
