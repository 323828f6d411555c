/** Mapping database rows to the store's plain types, for every backend. */
import type { Comment, Status, Ticket, TicketEvent } from "./store.ts";

type Row = Record<string, unknown>;

/** Timestamps: SQLite stores ISO strings, PostgreSQL hands back Dates; the store's types carry ISO strings. */
export function iso(v: unknown): string {
  return v instanceof Date ? v.toISOString() : String(v);
}

/** Maps a `tickets` row to a Ticket. */
export function rowToTicket(r: Row): Ticket {
  return {
    id: Number(r.id),
    user_id: String(r.user_id),
    pdf_link: String(r.pdf_link),
    product_id: r.product_id == null ? null : String(r.product_id),
    other_ids: r.other_ids == null ? null : String(r.other_ids),
    status: String(r.status) as Status,
    description: String(r.description ?? ""),
    comments: String(r.comments ?? ""),
    created_at: iso(r.created_at),
    updated_at: iso(r.updated_at),
    version: Number(r.version),
  };
}

/** Maps a `comments` row to a Comment. */
export function rowToComment(r: Row): Comment {
  return {
    id: Number(r.id),
    ticket_id: Number(r.ticket_id),
    author: String(r.author),
    body: String(r.body),
    created_at: iso(r.created_at),
  };
}

/** Maps an `events` row to a TicketEvent. */
export function rowToEvent(r: Row): TicketEvent {
  return {
    id: Number(r.id),
    type: String(r.type) as TicketEvent["type"],
    ticket_id: Number(r.ticket_id),
    actor: String(r.actor),
    // SQLite stores the JSON as text; postgres.js parses json columns itself.
    data: typeof r.data === "string"
      ? JSON.parse(r.data)
      : (r.data as Record<string, unknown>) ?? {},
    created_at: iso(r.created_at),
  };
}
