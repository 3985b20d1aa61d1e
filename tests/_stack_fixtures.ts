/** A second stage (lib/stack.ts) with a known answer, shared by the preprocess and inference tests. */
import { HAND_FEATURE_NAMES } from "../lib/handfeatures.ts";
import type { StackParameters, TreeEnsemble } from "../lib/stack.ts";

/**
 * One single-leaf tree per class, margins 0, 0, ln 2, 0: tree probabilities 0.2, 0.2, 0.4, 0.2
 * whatever the hand features; mixed half and half with the CNN, no prior correction. So a
 * recording's stacked probabilities are 0.5 · cnn + 0.5 · `treeProbabilities`.
 */
export function constantStack(): { trees: TreeEnsemble; parameters: StackParameters; treeProbabilities: number[] } {
  return {
    trees: {
      numClasses: 4,
      numFeatures: HAND_FEATURE_NAMES.length,
      baseScore: 0.5,
      treeClass: Uint8Array.of(0, 1, 2, 3),
      treeRoot: Int32Array.of(0, 1, 2, 3),
      feature: Int16Array.of(-1, -1, -1, -1),
      left: Int32Array.of(-1, -1, -1, -1),
      right: Int32Array.of(-1, -1, -1, -1),
      defaultLeft: new Uint8Array(4),
      value: Float32Array.of(0, 0, Math.LN2, 0),
    },
    parameters: { prior: [0.25, 0.25, 0.25, 0.25], cnnTau: 0, cnnWeight: 0.5, tau: 0 },
    treeProbabilities: [0.2, 0.2, 0.4, 0.2],
  };
}
