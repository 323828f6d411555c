/** The per-status counters migration 002's triggers keep in `ticket_counts`, read the same way on every backend. */
import { type StatusCounts, STATUSES } from "./store.ts";

/** StatusCounts from the `status` rows of ticket_counts (`value`, `n`); All is their sum. */
export function statusCounts(
  rows: Iterable<Record<string, unknown>>,
): StatusCounts {
  const counts: StatusCounts = { All: 0, Open: 0, Pending: 0, Closed: 0 };
  for (const r of rows) {
    const status = STATUSES.find((s) => s === r.value);
    if (status) counts[status] = Number(r.n);
  }
  counts.All = STATUSES.reduce((sum, s) => sum + counts[s], 0);
  return counts;
}
