/**
 * A report's days as a URL gives them: `range=7|30|90` (the last N days,
 * today included) or `from` and `to` (YYYY-MM-DD, both included), in the
 * configured time zone. Shared by the Reports page and the JSON API, which
 * refuse the same inputs with the same per-field messages.
 */
import { addDays, daysBetween, isDate, localDate } from "./report_days.ts";

export const RANGES = [7, 30, 90] as const;
export type RangeDays = typeof RANGES[number];

/** The range a report shows when the URL names none. */
export const DEFAULT_RANGE: RangeDays = 30;
/** The most days one report may span. */
export const MAX_DAYS = 366;

/** The days of a report: the inclusive local dates, and the `range` it was asked as (absent for from/to). */
export interface ReportRange {
  from: string;
  to: string;
  range?: RangeDays;
}

export interface RangeError {
  field: "range" | "from" | "to";
  detail: string;
}

/**
 * Reads the range from query parameters: `from` and `to` when given (`from`
 * alone runs to today), else `range`, else the last 30 days. Returns the
 * range, or the errors per field.
 */
export function readRange(
  query: (name: "range" | "from" | "to") => string | undefined,
  opts: { zone: string; now: Date },
): { range: ReportRange } | { errors: RangeError[] } {
  const today = localDate(opts.now.getTime(), opts.zone);
  const from = query("from")?.trim() || undefined;
  const to = query("to")?.trim() || undefined;
  const errors: RangeError[] = [];
  if (from !== undefined || to !== undefined) {
    const date = (field: "from" | "to", v: string | undefined) => {
      if (v === undefined) return;
      if (!isDate(v)) {
        errors.push({
          field,
          detail: "must be a date written YYYY-MM-DD, like 2026-11-01",
        });
      } else if (v < "1970-01-01") {
        errors.push({ field, detail: "must be 1970-01-01 or later" });
      }
    };
    if (from === undefined) {
      errors.push({ field: "from", detail: "is needed with to" });
    }
    date("from", from);
    date("to", to);
    if (errors.length) return { errors };
    const end = to ?? (today < from! ? from! : today);
    if (end < from!) {
      errors.push({ field: "to", detail: `must not be before from (${from})` });
    } else if (daysBetween(from!, end) > MAX_DAYS) {
      errors.push({
        field: "to",
        detail: `must be at most ${MAX_DAYS} days from from (${
          daysBetween(from!, end)
        } days asked)`,
      });
    }
    return errors.length ? { errors } : { range: { from: from!, to: end } };
  }
  const asked = query("range")?.trim() || undefined;
  const days = asked === undefined
    ? DEFAULT_RANGE
    : RANGES.find((r) => String(r) === asked);
  if (days === undefined) {
    return {
      errors: [{
        field: "range",
        detail: `must be ${RANGES.join(", ").replace(/, (\d+)$/, " or $1")}`,
      }],
    };
  }
  return { range: { from: addDays(today, 1 - days), to: today, range: days } };
}
