/** CSV export of tickets: streamed page by page, safe to open in a spreadsheet. */
import type { ListFilter, PageKey, TicketStore } from "../db/store.ts";

const COLUMNS = [
  "id",
  "status",
  "priority",
  "assignee",
  "user_id",
  "product_id",
  "other_ids",
  "pdf_link",
  "description",
  "comment_count",
  "created_at",
  "updated_at",
] as const;

/** Rows fetched per query: large enough to be quick, small enough to start streaming at once. */
const CHUNK = 500;

/**
 * One CSV cell. Text a spreadsheet would run as a formula gets a leading '
 * (OWASP "CSV injection"): one starting with = + - @, a tab or a carriage
 * return, also after leading whitespace or invisible format characters
 * (spreadsheets skip "\n=…" and "\u200B=…" to the formula).
 */
export function csvCell(value: string | number | null): string {
  let s = value === null ? "" : String(value);
  const visible = s.replace(/^[\s\p{Cf}]+/u, "");
  if (/^[=+\-@\t\r]/.test(s) || /^[=+\-@]/.test(visible)) s = "'" + s;
  return /[",\r\n]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s;
}

/** One CSV line, CRLF-terminated as RFC 4180 says. */
export function csvRow(cells: (string | number | null)[]): string {
  return cells.map(csvCell).join(",") + "\r\n";
}

/** Streams every ticket matching the filter, newest first, with a header row. */
export function ticketsCsv(
  store: TicketStore,
  filter: Omit<ListFilter, "limit" | "after">,
): ReadableStream<Uint8Array> {
  const encoder = new TextEncoder();
  let after: PageKey | undefined;
  let started = false;
  return new ReadableStream({
    async pull(controller) {
      if (!started) {
        started = true;
        controller.enqueue(encoder.encode(csvRow([...COLUMNS])));
      }
      const page = await store.listTickets({
        ...filter,
        after,
        limit: CHUNK,
      });
      const text = page.items.map((t) => csvRow(COLUMNS.map((col) => t[col])))
        .join("");
      if (text) controller.enqueue(encoder.encode(text));
      if (page.next === null) controller.close();
      else after = page.next;
    },
  });
}
