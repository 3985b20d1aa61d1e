/**
 * The model card's identity section (models/README.md "## Identity"): the model's name, version and
 * content hash as lib/model_folder.ts reads them from the folder. scripts/train.ts writes it with the card;
 * `deno task release` checks it; `deno run -A scripts/model_card.ts [dir]` rewrites it after a hand edit of
 * the folder (e.g. a new `modelVersion` in preprocessing.json).
 * @module
 */
import { denoReadFile, type ModelIdentity, modelJsonUrl, readModelFolder } from "../lib/model_folder.ts";
import { HeartSoundError } from "../lib/errors.ts";

const HEADING = "## Identity";

/** The identity section of a card, as Markdown. */
export function identitySection(identity: ModelIdentity): string {
  return [
    HEADING,
    "",
    `- name: \`${identity.name}\``,
    `- version: \`${identity.version}\``,
    `- hash: \`${identity.hash}\` (lib/model_folder.ts \`modelHash\`: SHA-256 of every file the folder names; every result carries it as \`model.hash\`)`,
    "",
  ].join("\n");
}

/** The identity a card states, or null when it has no complete identity section. */
export function cardIdentity(card: string): ModelIdentity | null {
  const at = card.indexOf(`\n${HEADING}\n`);
  if (at < 0) return null;
  const section = card.slice(at + 1).split(/\n## /)[0];
  const field = (key: string) => new RegExp(`^- ${key}: \`([^\`]+)\``, "m").exec(section)?.[1];
  const [name, version, hash] = [field("name"), field("version"), field("hash")];
  return name && version && hash ? { name, version, hash } : null;
}

/** `card` with its identity section replaced, or inserted after the title when it has none. */
export function withIdentity(card: string, identity: ModelIdentity): string {
  const section = identitySection(identity);
  const at = card.indexOf(`\n${HEADING}\n`);
  if (at >= 0) {
    const next = card.indexOf("\n## ", at + 1 + HEADING.length);
    return card.slice(0, at + 1) + section + (next < 0 ? "" : card.slice(next));
  }
  const titleEnd = card.indexOf("\n") + 1;
  return titleEnd > 0 ? `${card.slice(0, titleEnd)}\n${section}${card.slice(titleEnd)}` : `${card}\n\n${section}`;
}

/** The identity of the model folder `dir` (holding model.json), read as the classifier reads it. */
export async function folderIdentity(dir: string): Promise<ModelIdentity> {
  return (await readModelFolder(modelJsonUrl(dir), denoReadFile)).identity;
}

/** Rewrites `dir`/README.md's identity section from the folder's files; returns the identity. */
export async function updateModelCard(dir: string): Promise<ModelIdentity> {
  const identity = await folderIdentity(dir);
  const path = `${dir}/README.md`;
  await Deno.writeTextFile(path, withIdentity(await Deno.readTextFile(path), identity));
  return identity;
}

/** Checks that `dir`/README.md states the folder's identity. @throws {HeartSoundError} when it does not. */
export async function checkModelCard(dir: string): Promise<ModelIdentity> {
  const identity = await folderIdentity(dir);
  const stated = cardIdentity(await Deno.readTextFile(`${dir}/README.md`));
  if (!stated) throw new HeartSoundError(`Cannot check the model card: ${dir}/README.md has no ${HEADING} section`);
  for (const key of ["name", "version", "hash"] as const) {
    if (stated[key] !== identity[key]) {
      throw new HeartSoundError(
        `Cannot check the model card: ${dir}/README.md states ${key} ${stated[key]}, the folder has ${
          identity[key]
        } (deno run -A scripts/model_card.ts ${dir})`,
      );
    }
  }
  return identity;
}

if (import.meta.main) {
  const dir = Deno.args[0] ?? decodeURIComponent(new URL("../models", import.meta.url).pathname);
  try {
    const { name, version, hash } = await updateModelCard(dir);
    console.log(`${dir}/README.md: ${name} ${version} ${hash}`);
  } catch (error) {
    console.error(error instanceof Error ? error.message.split("\n")[0] : String(error));
    Deno.exit(1);
  }
}
