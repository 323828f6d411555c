/**
 * Resident memory of a process, from /proc/<pid>/status (Linux only). The bench
 * reads the server's own pid: the deno process running main.ts, spawned without
 * launchers, which is what deploy/ticket-desk.service runs in production.
 */

export interface MemorySample {
  /** Resident set size now, KiB. */
  rssKib: number;
  /** Peak resident set size since the process started ("high water mark"), KiB. */
  hwmKib: number;
}

/** Reads VmRSS and VmHWM of a process; null when it is gone or /proc is absent. */
export function readMemory(pid: number): MemorySample | null {
  let text: string;
  try {
    text = Deno.readTextFileSync(`/proc/${pid}/status`);
  } catch {
    return null;
  }
  const field = (name: string) => {
    const m = new RegExp(`^${name}:\\s+(\\d+) kB`, "m").exec(text);
    return m ? Number(m[1]) : 0;
  };
  return { rssKib: field("VmRSS"), hwmKib: field("VmHWM") };
}

/** Samples a process's memory while it runs; `stop()` returns the peak seen. */
export function sampleMemory(pid: number, everyMs = 250) {
  let peak: MemorySample = { rssKib: 0, hwmKib: 0 };
  const take = () => {
    const s = readMemory(pid);
    if (!s) return;
    peak = {
      rssKib: Math.max(peak.rssKib, s.rssKib),
      hwmKib: Math.max(peak.hwmKib, s.hwmKib),
    };
  };
  take();
  const timer = setInterval(take, everyMs);
  return {
    /** The highest VmRSS sampled so far and the latest VmHWM, read now. */
    peak(): MemorySample {
      take();
      return peak;
    },
    /** Stops sampling and returns the peak. */
    stop(): MemorySample {
      take();
      clearInterval(timer);
      return peak;
    },
  };
}

/** KiB to MiB, one decimal. */
export function toMib(kib: number): number {
  return Math.round(kib / 1024 * 10) / 10;
}

/**
 * CPU time (user + system) a process has used so far, in seconds, or with
 * `mainThread` only its main thread's (where a Deno server runs JavaScript);
 * null when it is gone.
 */
export function cpuSeconds(
  pid: number | "self",
  opts: { mainThread?: boolean } = {},
): number | null {
  let text: string;
  try {
    text = Deno.readTextFileSync(
      opts.mainThread ? `/proc/${pid}/task/${pid}/stat` : `/proc/${pid}/stat`,
    );
  } catch {
    return null;
  }
  // Fields after the parenthesised command name; utime and stime are 14th and 15th.
  const fields = text.slice(text.lastIndexOf(")") + 2).split(" ");
  const ticks = Number(fields[11]) + Number(fields[12]);
  return ticks / 100; // USER_HZ is 100 on Linux
}
