/**
 * Writes a tiny SYNTHETIC data set in the folder-per-class layout, to try `deno task train` on "your
 * own data" without downloading anything: two made-up classes, `calm` (lib/synth.ts normal heart
 * sounds) and `whoosh` (synthetic murmurs), 12 recordings each, 4 s at 2 kHz, 16-bit PCM.
 *
 * ```sh
 * deno run -W examples/make_dataset.ts /tmp/my-heart-data     # writes calm/*.wav and whoosh/*.wav
 * ```
 * @module
 */
import { synthesizeHeartSound } from "../lib/synth.ts";
import { encodeWav } from "../lib/wav.ts";

/** The made-up classes: folder name, the synthetic kind it holds, and a seed. */
export const OWN_CLASSES = [["calm", "normal", 100], ["whoosh", "murmur", 200]] as const;

/** Writes `perClass` recordings per class into `dir`/<class>/rec<i>.wav. */
export async function writeOwnDataset(dir: string, perClass = 12): Promise<void> {
  for (const [name, kind, seed] of OWN_CLASSES) {
    await Deno.mkdir(`${dir}/${name}`, { recursive: true });
    for (let i = 0; i < perClass; i++) {
      const rec = synthesizeHeartSound({
        kind,
        seed: seed + i,
        sampleRate: 2000,
        durationS: 4,
        heartRateBpm: 60 + 5 * i,
      });
      await Deno.writeFile(`${dir}/${name}/rec${i}.wav`, encodeWav(rec, { bitDepth: 16 }));
    }
  }
}

if (import.meta.main) {
  const dir = Deno.args[0];
  if (!dir) {
    console.error("Usage: deno run -W examples/make_dataset.ts <folder>");
    Deno.exit(2);
  }
  await writeOwnDataset(dir);
  console.log(`wrote ${OWN_CLASSES.map(([name]) => `${dir}/${name}/`).join(" and ")} (12 WAVs each)`);
}
