/**
 * Audit speed: `runAudit` (lib/audit_run.ts) over the whole data folder, wall and CPU time per
 * stage, so the 2-minute target can be checked on a busy machine too (CPU time does not count the
 * waiting). Falls back to a synthetic folder when the data is absent.
 *
 * ```sh
 * deno run -A bench/audit_bench.ts [--data DIR]
 * ```
 * @module
 */
import { cpuUsage } from "node:process";
import { runAudit } from "../lib/audit_run.ts";
import { writeSyntheticDataset } from "../lib/experiments.ts";

const i = Deno.args.indexOf("--data");
let dir: string = i >= 0 ? Deno.args[i + 1] : Deno.env.get("HEARTBEAT_DATA") ??
  new URL("../../shared/data/heartbeat-sounds", import.meta.url).pathname;
try {
  Deno.statSync(dir);
} catch {
  dir = await Deno.makeTempDir({ prefix: "heartbeat-audit-bench-" });
  await writeSyntheticDataset(dir, { perClass: 24, seed: 5 });
}
const c0 = cpuUsage(), t0 = performance.now();
const report = runAudit(dir, { progress: false });
const wall = (performance.now() - t0) / 1000, c = cpuUsage(c0);
const cpu = (c.user + c.system) / 1e6;
console.log(
  `${report.files} files, ${report.candidates.length} exact comparisons, ${report.pairs.length} pairs: ` +
    `wall ${wall.toFixed(1)} s (read ${report.seconds.read} s, fingerprints ${report.seconds.candidates} s, ` +
    `exact ${report.seconds.exact} s), CPU ${cpu.toFixed(1)} s`,
);
