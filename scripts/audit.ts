/**
 * The data audit (`deno task audit`): near-duplicate recordings, label conflicts, set_b patients
 * copying another patient, odd files, and the CV groups that keep copies together (lib/audit.ts,
 * lib/audit_run.ts). Writes audit.md and audit.json to --out; progress on stderr.
 *
 * Usage: deno task audit [--data DIR] [--out DIR] [--threshold 0.7]
 * Data folder: --data, else HEARTBEAT_DATA, else data/. Output: --out, else .cache/audit-report/.
 * @module
 */
import { parseArgs } from "node:util";
import { resolveDataDir } from "../lib/data.ts";
import { DEFAULT_COPY_THRESHOLD } from "../lib/audit.ts";
import { auditCacheFile, auditJson, auditMarkdown, runAudit } from "../lib/audit_run.ts";
import { HeartSoundError } from "../lib/errors.ts";

const USAGE = "deno task audit [--data DIR] [--out DIR] [--threshold 0.7]";

async function main(): Promise<void> {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      data: { type: "string" },
      out: { type: "string", default: new URL("../.cache/audit-report", import.meta.url).pathname },
      threshold: { type: "string", default: String(DEFAULT_COPY_THRESHOLD) },
      help: { type: "boolean", default: false },
    },
  });
  if (values.help) {
    console.log(USAGE);
    return;
  }
  const threshold = Number(values.threshold);
  if (!(threshold > 0 && threshold <= 1)) {
    console.error(`Cannot audit: --threshold is "${values.threshold}", expected a number in (0, 1]`);
    Deno.exit(2);
  }
  const dir = resolveDataDir(values.data);
  const report = runAudit(dir, { threshold });
  await Deno.mkdir(values.out, { recursive: true });
  await Deno.writeTextFile(`${values.out}/audit.md`, auditMarkdown(report));
  await Deno.writeTextFile(`${values.out}/audit.json`, auditJson(report));
  if (threshold === DEFAULT_COPY_THRESHOLD) {
    // the experiments' and training's groups come from the same cache (lib/audit_run.ts)
    const cached = await auditCacheFile(dir);
    await Deno.mkdir(cached.slice(0, cached.lastIndexOf("/")), { recursive: true });
    await Deno.writeTextFile(cached, auditJson(report));
  }
  const groups = new Set(Object.values(report.groups)).size;
  console.log(
    `${report.files} files: ${report.pairs.length} near-duplicate pairs (similarity ≥ ${threshold}), ` +
      `${report.labelConflicts.length} label conflicts, ${report.odd.length} odd files, ${groups} groups; ` +
      `${report.seconds.total} s → ${values.out}/audit.md, audit.json`,
  );
}

if (import.meta.main) {
  try {
    await main();
  } catch (e) {
    if (!(e instanceof HeartSoundError)) throw e;
    console.error(e.message);
    Deno.exit(1);
  }
}
