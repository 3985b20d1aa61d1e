/**
 * How much of the grouped-CV numbers' optimism the copies explain: the original's baseline and
 * gradient-boosting experiments (small preset, native rate, grouped 5-fold CV, seed 42) on all
 * labelled recordings (both challenge splits), with the old groups (set_b patient ids, each set_a
 * file alone) against the audit's groups, on the same recordings; then with the audit's
 * label-conflict rule (both copies left out) as the experiments now run.
 *
 * Usage: deno run -A scripts/optimism.ts [--data DIR] [--experiments baseline,gbdt] [--json FILE]
 * Prints a Markdown table on stdout.
 * @module
 */
import { parseArgs } from "node:util";
import { listRecordings, type Recording, resolveDataDir } from "../lib/data.ts";
import { cachedAuditGroups, withAuditGroups } from "../lib/audit_run.ts";
import { type ExperimentResult, loadFeatureSet, PRESETS, runExperiment } from "../lib/experiments.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    data: { type: "string" },
    experiments: { type: "string", default: "baseline,gbdt" },
    json: { type: "string" },
  },
});
const dir = resolveDataDir(values.data);
const all = listRecordings(dir);
const audit = await cachedAuditGroups(dir, { progress: true });
const regrouped = withAuditGroups(all, { groups: audit.groups, conflicted: new Set() });
const cleaned = withAuditGroups(all, audit);
const variants: { name: string; recs: Recording[] }[] = [
  { name: "old groups (patient ids; set_a file by file)", recs: all },
  { name: "audit groups (copies and sessions together)", recs: regrouped },
  { name: "audit groups, label conflicts left out", recs: cleaned },
];
const params = { deltaTimeS: PRESETS.small.deltaTimeS, method: "dominant" as const, targetRate: null };
const rows: string[] = [];
const out: Record<string, unknown>[] = [];
for (const experiment of values.experiments.split(",") as ("baseline" | "gbdt")[]) {
  for (const v of variants) {
    const features = await loadFeatureSet(v.recs, params, { progress: true });
    const r: ExperimentResult = await runExperiment(experiment, features, {
      protocol: "grouped-cv",
      preset: "small",
      seed: 42,
      progress: true,
    });
    const s = r.summary;
    const groups = new Set(v.recs.map((x) => x.patientId)).size;
    const f = (m: { mean: number; std: number }) => `${m.mean.toFixed(3)} ± ${m.std.toFixed(3)}`;
    rows.push(
      `| ${experiment} | ${v.name} | ${v.recs.length} | ${groups} | ${f(s.accuracy)} | ${f(s.balancedAccuracy)} | ${
        f(s.macroF1)
      } |`,
    );
    out.push({ experiment, variant: v.name, recordings: v.recs.length, groups, summary: s, pooled: r.pooled });
    console.error(rows.at(-1));
  }
}
console.log(
  [
    "| experiment | grouping | recordings | groups | accuracy | balanced accuracy | macro F1 |",
    "|---|---|---:|---:|---:|---:|---:|",
    ...rows,
  ].join("\n"),
);
if (values.json) await Deno.writeTextFile(values.json, JSON.stringify(out, null, 1) + "\n");
