/** Read queries, run on the main thread's own connection (WAL lets them run beside the writer). */
import type { Statements } from "./connection.ts";
import type {
  ListFilter,
  TicketEvent,
  TicketPage,
  TicketWithComments,
} from "../store.ts";
import { rowToComment, rowToEvent, rowToTicket } from "./rows.ts";

/** Returns one ticket with its comments, oldest comment first, or null. */
export function getTicket(
  stmts: Statements,
  id: number,
): TicketWithComments | null {
  const row = stmts.get("SELECT * FROM tickets WHERE id = ?").get(id);
  if (!row) return null;
  const comments = stmts.get(
    "SELECT * FROM comments WHERE ticket_id = ? ORDER BY id",
  ).all(id).map(rowToComment);
  return { ...rowToTicket(row), comment_list: comments };
}

/** Lists tickets newest first; keyset on id, so page N costs what page 1 costs. */
export function listTickets(stmts: Statements, f: ListFilter): TicketPage {
  const where: string[] = [];
  const args: (string | number)[] = [];
  // Fixed fragments only (never user text in SQL): at most 16 distinct statements get cached.
  if (f.status !== undefined) (where.push("status = ?"), args.push(f.status));
  if (f.user_id !== undefined) {
    where.push("user_id = ?"), args.push(f.user_id);
  }
  if (f.product_id !== undefined) {
    where.push("product_id = ?"), args.push(f.product_id);
  }
  if (f.before_id !== undefined) {
    where.push("id < ?"), args.push(f.before_id);
  }
  const sql = `SELECT * FROM tickets${
    where.length ? " WHERE " + where.join(" AND ") : ""
  } ORDER BY id DESC LIMIT ?`;
  const rows = stmts.get(sql).all(...args, f.limit + 1);
  const more = rows.length > f.limit;
  const items = rows.slice(0, f.limit).map(rowToTicket);
  return {
    items,
    next_before_id: more ? items[items.length - 1]!.id : null,
  };
}

/** Lists events after an id, oldest first. */
export function eventsAfter(
  stmts: Statements,
  afterId: number,
  limit: number,
): TicketEvent[] {
  return stmts.get("SELECT * FROM events WHERE id > ? ORDER BY id LIMIT ?")
    .all(afterId, limit).map(rowToEvent);
}
