import assert from "node:assert/strict";
import { CLASS_LABEL_IDS, CLASS_NAMES, CLASSES, classInfo, LABEL_IDS } from "../lib/classes.ts";

Deno.test("CLASSES lists the four targets in class-index order with the original's label ids, then artifact 3", () => {
  assert.deepEqual(CLASSES.map((c) => [c.name, c.labelId, c.target]), [
    ["normal", 0, true],
    ["extrahls", 1, true],
    ["murmur", 2, true],
    ["extrastole", 4, true],
    ["artifact", 3, false],
  ]);
  assert.deepEqual([...CLASS_NAMES], CLASSES.filter((c) => c.target).map((c) => c.name));
  assert.deepEqual([...CLASS_LABEL_IDS], [0, 1, 2, 4]);
  assert.equal(LABEL_IDS.artifact, 3);
  for (const c of CLASSES) assert.ok(c.displayName && c.explanation && !c.explanation.includes("\n"), c.name);
  assert.equal(classInfo("murmur")?.displayName, "Murmur");
  assert.equal(classInfo("noise"), undefined);
});
