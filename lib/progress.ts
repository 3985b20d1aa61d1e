/**
 * A small progress reporter on stderr: a redrawn bar when stderr is a terminal, otherwise a
 * plain line at most every `intervalMs` (and at the end), so CI logs stay short.
 * @module
 */

/** Options of {@linkcode createProgress}. */
export interface ProgressOptions {
  /** Minimum milliseconds between non-terminal lines. @default {5000} */
  intervalMs?: number;
  /** Print nothing at all. @default {false} */
  silent?: boolean;
  /** Force terminal (true) or line (false) mode. @default {Deno.stderr.isTerminal()} */
  terminal?: boolean;
  /** Where text goes. @default {writes to stderr} */
  write?: (text: string) => void;
}

/** A running progress report. */
export interface Progress {
  /** Advances by n steps (default 1), with an optional note shown after the bar. */
  tick(n?: number, note?: string): void;
  /** Ends the report with a final line giving the elapsed time. */
  done(note?: string): void;
}

function formatSeconds(s: number): string {
  return s < 60 ? `${s.toFixed(1)} s` : `${Math.floor(s / 60)} min ${Math.round(s % 60)} s`;
}

/**
 * Starts a progress report of `total` steps.
 * @example Usage
 * ```ts
 * const lines: string[] = [];
 * const p = createProgress(2, "features", { terminal: false, write: (t) => lines.push(t) });
 * p.tick(); p.tick(); p.done();
 * assert(lines.at(-1)!.startsWith("features: 2/2"));
 * ```
 */
export function createProgress(total: number, label: string, options: ProgressOptions = {}): Progress {
  const encoder = new TextEncoder();
  const write = options.write ?? ((text: string) => Deno.stderr.writeSync(encoder.encode(text)));
  let terminal = options.terminal;
  if (terminal === undefined) {
    try {
      terminal = Deno.stderr.isTerminal();
    } catch {
      terminal = false;
    }
  }
  const interval = options.intervalMs ?? 5000;
  const start = performance.now();
  let count = 0, lastLine = start;
  const render = (note = "", final = false) => {
    if (options.silent) return;
    const elapsed = (performance.now() - start) / 1000;
    const frac = total > 0 ? Math.min(1, count / total) : 1;
    const eta = frac > 0 && !final ? ` eta ${formatSeconds(elapsed / frac - elapsed)}` : "";
    const tail = `${count}/${total} ${formatSeconds(elapsed)}${eta}${note ? ` ${note}` : ""}`;
    if (terminal) {
      const width = 24, filled = Math.round(frac * width);
      write(`\r\x1b[2K${label} [${"#".repeat(filled)}${"-".repeat(width - filled)}] ${tail}${final ? "\n" : ""}`);
    } else {
      write(`${label}: ${tail}\n`);
    }
  };
  return {
    tick(n = 1, note = "") {
      count += n;
      const now = performance.now();
      if (terminal || now - lastLine >= interval) {
        lastLine = now;
        render(note);
      }
    },
    done(note = "") {
      render(note, true);
    },
  };
}
