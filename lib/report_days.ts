/**
 * Calendar days in a time zone (REPORT_TIME_ZONE), for reports: which local
 * date an instant falls on, and the instant each local date starts, daylight
 * saving time included (a day may last 23 or 25 hours, or start at 01:00).
 */

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(zone: string): Intl.DateTimeFormat {
  let f = formatters.get(zone);
  if (!f) {
    f = new Intl.DateTimeFormat("en-US", {
      timeZone: zone,
      hourCycle: "h23",
      year: "numeric",
      month: "2-digit",
      day: "2-digit",
      hour: "2-digit",
      minute: "2-digit",
      second: "2-digit",
    });
    formatters.set(zone, f);
  }
  return f;
}

/** Whether `zone` is a time zone this runtime knows (an IANA name such as Europe/Paris, or UTC). */
export function isTimeZone(zone: string): boolean {
  if (zone.trim() === "") return false;
  try {
    formatter(zone);
    return true;
  } catch {
    return false;
  }
}

/** The wall-clock fields of an instant in `zone`. */
function wallClock(ms: number, zone: string) {
  const out: Record<string, number> = {};
  for (const p of formatter(zone).formatToParts(ms)) {
    if (p.type !== "literal") out[p.type] = Number(p.value);
  }
  return out as Record<
    "year" | "month" | "day" | "hour" | "minute" | "second",
    number
  >;
}

const pad = (n: number, w = 2) => String(n).padStart(w, "0");

/** The local date (YYYY-MM-DD) of an instant in `zone`. */
export function localDate(ms: number, zone: string): string {
  const w = wallClock(ms, zone);
  return `${pad(w.year, 4)}-${pad(w.month)}-${pad(w.day)}`;
}

/** `date` (YYYY-MM-DD) moved by `n` calendar days. */
export function addDays(date: string, n: number): string {
  const [y, m, d] = date.split("-").map(Number) as [number, number, number];
  return new Date(Date.UTC(y, m - 1, d + n)).toISOString().slice(0, 10);
}

/** Calendar days from `from` to `to`, both included (1 for the same day). */
export function daysBetween(from: string, to: string): number {
  return Math.round((Date.parse(to) - Date.parse(from)) / 86_400_000) + 1;
}

/** Whether `s` is a real calendar date written YYYY-MM-DD. */
export function isDate(s: string): boolean {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(s)) return false;
  const t = Date.parse(`${s}T00:00:00Z`);
  return !Number.isNaN(t) && new Date(t).toISOString().slice(0, 10) === s;
}

/** The first second (Unix time) of local date `date` in `zone`. */
export function startOfDay(date: string, zone: string): number {
  const midnight = Date.parse(`${date}T00:00:00Z`);
  // Local midnight is midnight UTC less the zone's offset at that instant;
  // the offset is read twice, as it may change between the two guesses.
  const offset = (ms: number) => {
    const w = wallClock(ms, zone);
    return Date.UTC(w.year, w.month - 1, w.day, w.hour, w.minute, w.second) -
      Math.floor(ms / 1000) * 1000;
  };
  let t = midnight - offset(midnight);
  t = midnight - offset(t);
  const s = Math.floor(t / 1000);
  if (
    localDate(s * 1000, zone) === date &&
    localDate(s * 1000 - 1000, zone) < date
  ) {
    return s;
  }
  // The clocks jumped over midnight (the day starts at 01:00, say): the first
  // second whose local date is `date`, found between UTC−15 h and UTC+15 h.
  let lo = Math.floor((midnight - 15 * 3_600_000) / 1000);
  let hi = Math.floor((midnight + 15 * 3_600_000) / 1000);
  while (lo < hi) {
    const mid = Math.floor((lo + hi) / 2);
    if (localDate(mid * 1000, zone) < date) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** The local dates from `from` to `to` (inclusive) and their boundaries: each day's first second, then the end of the last. */
export function dayBounds(
  from: string,
  to: string,
  zone: string,
): { dates: string[]; bounds: number[] } {
  const dates: string[] = [];
  for (let d = from; d <= to; d = addDays(d, 1)) dates.push(d);
  const bounds = [...dates, addDays(to, 1)].map((d) => startOfDay(d, zone));
  return { dates, bounds };
}

/**
 * Adds each instant (Unix seconds) to the count of the day it falls in:
 * `counts[i]` for bounds[i] <= t < bounds[i + 1]; instants outside are left.
 */
export function countInDays(
  bounds: readonly number[],
  instants: Iterable<number>,
  counts: number[],
): void {
  const last = bounds.length - 1;
  for (const t of instants) {
    if (t < bounds[0]! || t >= bounds[last]!) continue;
    let lo = 0;
    let hi = last - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (bounds[mid]! <= t) lo = mid;
      else hi = mid - 1;
    }
    counts[lo]!++;
  }
}
