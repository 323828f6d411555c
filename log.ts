/** Structured JSON logs, one line per record, buffered so logging never costs a syscall per request. */

export const LOG_LEVELS = ["debug", "info", "warn", "error", "silent"] as const;
export type LogLevel = typeof LOG_LEVELS[number];

export interface Logger {
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
  /** Writes out anything buffered. */
  flush(): void;
}

const encoder = new TextEncoder();

/** Creates a logger that writes JSON lines to stdout (stderr for errors) at or above `level`. */
export function createLogger(level: LogLevel): Logger {
  const min = LOG_LEVELS.indexOf(level);
  let lines: string[] = [];
  let scheduled = false;
  const flush = () => {
    scheduled = false;
    if (lines.length === 0) return;
    const chunk = encoder.encode(lines.join(""));
    lines = [];
    let off = 0;
    while (off < chunk.length) {
      off += Deno.stdout.writeSync(chunk.subarray(off));
    }
  };
  const write = (
    lvl: LogLevel,
    msg: string,
    fields?: Record<string, unknown>,
  ) => {
    if (LOG_LEVELS.indexOf(lvl) < min) return;
    const line = JSON.stringify({
      time: new Date().toISOString(),
      level: lvl,
      msg,
      ...fields,
    }) + "\n";
    if (lvl === "error") {
      flush();
      Deno.stderr.writeSync(encoder.encode(line));
      return;
    }
    lines.push(line);
    // Under load, many requests finish in one turn of the event loop: one write for all.
    if (!scheduled) {
      scheduled = true;
      setTimeout(flush, 0);
    }
  };
  return {
    debug: (m, f) => write("debug", m, f),
    info: (m, f) => write("info", m, f),
    warn: (m, f) => write("warn", m, f),
    error: (m, f) => write("error", m, f),
    flush,
  };
}
