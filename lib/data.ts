/**
 * Dataset listing: the PASCAL CHSC2011 / Kaggle "Heartbeat Sounds" layout (set_a/, set_b/,
 * optional labels.csv) and the Kaggle "Dangerous Heartbeat Dataset" (DHD) repackaging, which
 * keeps the on-disk file names but may put them in one folder per class.
 *
 * Labels: labels.csv when present (its `label` column; empty = unlabelled), else the file-name
 * prefix before the first `_` (`normal__103_…` → normal), else the name of the parent folder when
 * that is a class name (DHD's per-class folders). Kaggle CSV prefixes `Atraining_` / `Btraining_`
 * are stripped before reading the class.
 *
 * Challenge test labels: the `Aunlabelledtest__*` / `Bunlabelledtest__*` files are the PASCAL
 * challenge's official test sets; when the folder holds `challenge_test_labels.csv` (path, label),
 * their labels come from it. Every recording records its {@linkcode ChallengeSplit}, so the
 * original's experiments can keep the original's labelled files (`challengeSplits: ["train"]`)
 * while the model and new experiments use both.
 *
 * Patient ids: set_b names carry one (`normal__103_1305031931979_B.wav` → "103";
 * `normal_noisynormal_258_…` → "258"), so several recordings can share a patient and splits must
 * group them. set_a names hold only a timestamp and no patient information: each set_a file is
 * its own group ("a:" + its name without `.wav`). This can only under-group set_a, never leak
 * across set_b patients.
 * @module
 */
import { CLASS_LABEL_IDS, CLASS_NAMES, classInfo, LABEL_IDS, type LabelName } from "./classes.ts";
import { DatasetError } from "./errors.ts";

export { CLASS_LABEL_IDS, CLASS_NAMES, type LabelName };

/** The challenge's split of a file: "train" = labelled in the original release, "test" = official test file. */
export type ChallengeSplit = "train" | "test";

/** File of the test files' labels inside a data folder (path,label[,sheet_name]). */
export const CHALLENGE_TEST_LABELS_FILE = "challenge_test_labels.csv";

/** One audio file of the dataset. */
export interface Recording {
  /** Absolute path of the WAV file. */
  path: string;
  /** Path relative to the data folder with `/` separators, e.g. "set_a/normal__201101070538.wav". */
  relPath: string;
  /** Source: "a" (iStethoscope phone app, 44.1 kHz) or "b" (DigiScope clinic, 4 kHz). */
  set: "a" | "b";
  /** Class (one of {@linkcode LabelName} for this dataset; any name for another data set), or null if unlabelled. */
  label: string | null;
  /** The original's label id: normal 0, extrahls 1, murmur 2, artifact 3, extrastole 4; −1 unlabelled. */
  labelId: number;
  /** Index into {@linkcode CLASS_NAMES} (0..3); −1 for artifact and unlabelled. */
  classIndex: number;
  /** Grouping key for splits: "b:<patient number>" for set_b, "a:<file name>" for set_a (no patient info). */
  patientId: string;
  /** The challenge's "noisy" sublabel (set_b `normal_noisynormal_…`, `murmur_noisymurmur_…`). */
  noisy: boolean;
  /** "test" for the challenge's official test files (`*unlabelledtest*` names or rows of challenge_test_labels.csv), else "train". */
  challengeSplit: ChallengeSplit;
}

/** Options of {@linkcode listRecordings}. */
export interface ListRecordingsOptions {
  /** Include artifact recordings (classIndex −1). @default {false} */
  includeArtifact?: boolean;
  /** Include unlabelled recordings (label null). @default {false} */
  includeUnlabelled?: boolean;
  /** Only these sets. @default {["a", "b"]} */
  sets?: ("a" | "b")[];
  /** Only these challenge splits; ["train"] gives the original's files (no official test file). @default {["train", "test"]} */
  challengeSplits?: ChallengeSplit[];
}

function isLabel(name: string): name is LabelName {
  return classInfo(name) !== undefined;
}

/** Class name from a file name: the part before the first `_`, after an `Atraining_`/`Btraining_` prefix; DHD's
 * "extrasystole" spelling maps to extrastole. Returns null for unlabelled test files and unknown prefixes. */
export function labelFromFileName(fileName: string): LabelName | null {
  const base = fileName.replace(/^[AB]training_/, "");
  let prefix = base.split("_")[0].toLowerCase();
  if (prefix === "extrasystole") prefix = "extrastole";
  if (prefix === "extrahs") prefix = "extrahls";
  return isLabel(prefix) ? prefix : null;
}

/** Patient number of a set_b file name (`normal__103_…`, `murmur_noisymurmur_135_…`), or null. */
export function patientFromFileName(fileName: string): string | null {
  const m = /^[A-Za-z]+_(?:[A-Za-z]*)_(\d+)_\d+/.exec(fileName.replace(/^[AB]training_/, ""));
  return m ? m[1] : null;
}

function parseCsv(text: string): Record<string, string>[] {
  const lines = text.split(/\r?\n/).filter((l) => l.trim() !== "");
  if (lines.length === 0) return [];
  const header = lines[0].split(",").map((h) => h.trim());
  return lines.slice(1).map((line) => {
    const cells = line.split(",");
    return Object.fromEntries(header.map((h, i) => [h, (cells[i] ?? "").trim()]));
  });
}

function walkWavs(dir: string, rel = ""): string[] {
  const out: string[] = [];
  const entries = [...Deno.readDirSync(dir)].sort((x, y) => (x.name < y.name ? -1 : x.name > y.name ? 1 : 0));
  for (const e of entries) {
    if (e.name.startsWith(".")) continue;
    const r = rel ? `${rel}/${e.name}` : e.name;
    let { isDirectory, isFile } = e;
    if (e.isSymlink) {
      // e.g. data/set_a linked to a download elsewhere
      try {
        ({ isDirectory, isFile } = Deno.statSync(`${dir}/${e.name}`));
      } catch {
        continue; // a dangling link
      }
    }
    if (isDirectory) out.push(...walkWavs(`${dir}/${e.name}`, r));
    else if (isFile && e.name.toLowerCase().endsWith(".wav")) out.push(r);
  }
  return out;
}

function absolute(path: string): string {
  const p = path.startsWith("/") ? path : `${Deno.cwd()}/${path}`;
  return p.replace(/\/+$/, "").replace(/\/\.\//g, "/");
}

/**
 * Lists the recordings of a data folder, sorted by relative path (a stable order, so seeded
 * splits are reproducible).
 * @param dataDir Folder with set_a/ and set_b/ (and optionally labels.csv), or a DHD folder.
 * @param options Artifact and unlabelled files are excluded unless asked for.
 * @throws {DatasetError} The folder is missing or holds no WAV files.
 */
export function listRecordings(dataDir: string, options: ListRecordingsOptions = {}): Recording[] {
  const root = absolute(dataDir);
  let stat: Deno.FileInfo;
  try {
    stat = Deno.statSync(root);
  } catch {
    throw new DatasetError(`Cannot list recordings: data folder "${dataDir}" does not exist`);
  }
  if (!stat.isDirectory) throw new DatasetError(`Cannot list recordings: "${dataDir}" is not a folder`);
  const csvLabels = new Map<string, { label: string; sublabel: string; dataset: string }>();
  try {
    for (const row of parseCsv(Deno.readTextFileSync(`${root}/labels.csv`))) {
      if (row.path) csvLabels.set(row.path, { label: row.label, sublabel: row.sublabel ?? "", dataset: row.dataset });
    }
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  }
  const testLabels = new Map<string, string>();
  try {
    for (const row of parseCsv(Deno.readTextFileSync(`${root}/${CHALLENGE_TEST_LABELS_FILE}`))) {
      if (row.path) testLabels.set(row.path, row.label ?? "");
    }
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  }
  const splits = options.challengeSplits ?? ["train", "test"];
  const files = walkWavs(root);
  if (files.length === 0) throw new DatasetError(`Cannot list recordings: no .wav files under "${dataDir}"`);
  const sets = options.sets ?? ["a", "b"];
  const out: Recording[] = [];
  for (const relPath of files) {
    const parts = relPath.split("/");
    const name = parts[parts.length - 1];
    const stem = name.replace(/\.wav$/i, "");
    const csv = csvLabels.get(relPath);
    let label: string | null;
    if (csv) label = csv.label === "" ? null : isLabel(csv.label.toLowerCase()) ? csv.label.toLowerCase() : csv.label;
    else {
      label = labelFromFileName(name);
      // A folder per class: any folder name is a class, except the dataset's set_a/set_b folders.
      const parent = parts.length > 1 ? parts[parts.length - 2] : "";
      if (label === null && parent && !/unlabel/i.test(name) && !/^set_?[ab]$/i.test(parent)) {
        label = isLabel(parent.toLowerCase()) ? parent.toLowerCase() : parent;
      }
    }
    const testLabel = testLabels.get(relPath);
    const challengeSplit: ChallengeSplit = testLabel !== undefined || /unlabelledtest/i.test(name) ? "test" : "train";
    if (!splits.includes(challengeSplit)) continue;
    if (label === null && testLabel !== undefined && isLabel(testLabel)) label = testLabel;
    const patient = patientFromFileName(name);
    let set: "a" | "b";
    if (csv?.dataset === "a" || csv?.dataset === "b") set = csv.dataset;
    else if (parts.some((p) => /^set_?a$/i.test(p)) || /^A(training|unlabelled)/.test(name)) set = "a";
    else if (parts.some((p) => /^set_?b$/i.test(p)) || /^B(training|unlabelled)/.test(name)) set = "b";
    else set = patient !== null ? "b" : "a"; // DHD flat folders: only set_b names carry a patient number
    if (!sets.includes(set)) continue;
    if (label === null && !options.includeUnlabelled) continue;
    if (label === "artifact" && !options.includeArtifact) continue;
    const noisy = csv ? /noisy/.test(csv.sublabel) : /noisy/i.test(name);
    out.push({
      path: `${root}/${relPath}`,
      relPath,
      set,
      label,
      labelId: label !== null && isLabel(label) ? LABEL_IDS[label] : -1,
      classIndex: label === null ? -1 : (CLASS_NAMES as readonly string[]).indexOf(label),
      patientId: set === "b" && patient !== null ? `b:${patient}` : `${set}:${stem}`,
      noisy,
      challengeSplit,
    });
  }
  return out;
}

/** The repository's data/ folder (a file: path), or null when lib/ is imported from elsewhere. */
function repoDataDir(): string | null {
  const url = new URL("../data", import.meta.url);
  return url.protocol === "file:" ? decodeURIComponent(url.pathname) : null;
}

function hasWavs(dir: string): boolean {
  try {
    return Deno.statSync(dir).isDirectory && walkWavs(dir).length > 0;
  } catch {
    return false;
  }
}

/**
 * The data folder by the one rule every command, test, bench and notebook uses: the `--data`
 * flag value, else the HEARTBEAT_DATA environment variable, else data/ (in the current folder,
 * then in the repository). Returns an absolute path, or null when the chosen folder holds no
 * .wav files (the default data/ only counts when it does).
 */
export function findDataDir(flag?: string): string | null {
  const chosen = flag || envDataDir();
  if (chosen) return hasWavs(absolute(chosen)) ? absolute(chosen) : null;
  for (const dir of [absolute("data"), repoDataDir()]) if (dir && hasWavs(dir)) return dir;
  return null;
}

function envDataDir(): string | undefined {
  try {
    return Deno.env.get("HEARTBEAT_DATA") || undefined;
  } catch {
    return undefined; // no --allow-env
  }
}

/**
 * The data folder by {@linkcode findDataDir}'s rule (`--data`, HEARTBEAT_DATA, data/).
 * @throws {DatasetError} The chosen folder holds no .wav files.
 */
export function resolveDataDir(flag?: string): string {
  const dir = findDataDir(flag);
  if (dir) return dir;
  const env = envDataDir();
  const what = flag ? `"${flag}" (--data)` : env ? `"${env}" (HEARTBEAT_DATA)` : `"data/"`;
  throw new DatasetError(`Cannot find dataset: ${what} has no .wav files; pass --data DIR or set HEARTBEAT_DATA`);
}

/** Counts of recordings per class name (null → "unlabelled"). */
export function classCounts(recordings: readonly Recording[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const r of recordings) {
    const k = r.label ?? "unlabelled";
    counts[k] = (counts[k] ?? 0) + 1;
  }
  return counts;
}

/**
 * The classes of a labelled data set, in model output order: the dataset's four classes in
 * {@linkcode CLASS_NAMES} order when the labels are among them, else every label sorted by name
 * (artifact counts as a class only when it is not one of the four's data set).
 */
export function classesOf(recordings: readonly Pick<Recording, "label">[]): string[] {
  const found = new Set<string>();
  for (const r of recordings) if (r.label !== null) found.add(r.label);
  const standard = CLASS_NAMES.filter((c) => found.has(c));
  const others = [...found].filter((c) => !(CLASS_NAMES as readonly string[]).includes(c));
  if (others.length === 0 || (others.length === 1 && others[0] === "artifact" && standard.length > 0)) {
    return CLASS_NAMES.filter((c) => found.has(c));
  }
  return [...found].sort();
}
