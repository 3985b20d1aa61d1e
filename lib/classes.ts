/**
 * The class table: every class of the PASCAL heart-sound data set with its label id, display name
 * and a one-line plain explanation. The four target classes come first, in the class-index order
 * every model's output uses; artifact (label id 3) is a data set label, not a target class.
 * @module
 */

/** The four target classes, in class-index (model output) order. */
export const CLASS_NAMES = ["normal", "extrahls", "murmur", "extrastole"] as const;
/** A target class. */
export type ClassName = (typeof CLASS_NAMES)[number];
/** A label of the data set: the four target classes plus artifact. */
export type LabelName = ClassName | "artifact";

/** One row of {@linkcode CLASSES}. */
export interface ClassInfo {
  /** The data set's name, as in its file names. */
  name: LabelName;
  /** The original's label id (normal 0, extrahls 1, murmur 2, artifact 3, extrastole 4). */
  labelId: number;
  /** Short name for people. */
  displayName: string;
  /** What the class means, in one plain line. */
  explanation: string;
  /** A target class (a model output), or artifact. */
  target: boolean;
}

/** Every class, the targets first in class-index order, then artifact. */
export const CLASSES: readonly Readonly<ClassInfo>[] = Object.freeze(
  [
    { name: "normal", labelId: 0, displayName: "Normal", explanation: "normal heart sound", target: true },
    {
      name: "extrahls",
      labelId: 1,
      displayName: "Extra heart sound",
      explanation: "extra heart sound (S3/S4 or a click)",
      target: true,
    },
    { name: "murmur", labelId: 2, displayName: "Murmur", explanation: "murmur: whooshing between beats", target: true },
    {
      name: "extrastole",
      labelId: 4,
      displayName: "Extrasystole",
      explanation: "extrasystole: a premature beat",
      target: true,
    },
    {
      name: "artifact",
      labelId: 3,
      displayName: "Artifact",
      explanation: "artifact: noise, not a usable heart sound",
      target: false,
    },
  ] as const,
);

/** The label id of every data set label: normal 0, extrahls 1, murmur 2, artifact 3, extrastole 4. */
export const LABEL_IDS: Readonly<Record<LabelName, number>> = Object.freeze(
  Object.fromEntries(CLASSES.map((c) => [c.name, c.labelId])) as Record<LabelName, number>,
);

/** The label ids of the target classes, in class-index order (0, 1, 2, 4). */
export const CLASS_LABEL_IDS: readonly number[] = Object.freeze(CLASS_NAMES.map((name) => LABEL_IDS[name]));

/** The row of `name`, or undefined for a name that is no class. */
export function classInfo(name: string): Readonly<ClassInfo> | undefined {
  return CLASSES.find((c) => c.name === name);
}

/** A class's short name for people ("Murmur"); the dataset id itself for a class the table does not know. */
export function displayName(label: string): string {
  return classInfo(label)?.displayName ?? label;
}

/** A class's one-line explanation ("murmur: whooshing between beats"); empty for a class the table does not know. */
export function explanation(label: string): string {
  return classInfo(label)?.explanation ?? "";
}
