/**
 * Runs the CLI (lib/infer.ts `main`) in this process, then prints its peak resident memory as the last stderr line,
 * `peak-rss-kb <n>` (Linux: /proc/self/status VmHWM; nothing elsewhere). tests/fuzz_test.ts runs it as a subprocess
 * to hold each batch of cases to a memory budget. Needs -A (Deno grants /proc/self only to -A).
 * @module
 */
import { main } from "../lib/infer.ts";

const code = await main(Deno.args);
try {
  const kb = Deno.readTextFileSync("/proc/self/status").match(/^VmHWM:\s+(\d+) kB/m)?.[1];
  if (kb) console.error(`peak-rss-kb ${kb}`);
} catch {
  // not Linux: no measurement
}
Deno.exit(code);
