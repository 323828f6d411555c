/**
 * A ticket and a comment as the JSON API shows them. One shape for the API's
 * answers and the webhooks' payloads, so an app reads both with one parser.
 */
import type { Comment, Ticket } from "../db/store.ts";

/** The public shape of a ticket (no legacy comments text, no token version). */
export function ticketJson(t: Ticket) {
  return {
    id: t.id,
    user_id: t.user_id,
    pdf_link: t.pdf_link,
    product_id: t.product_id,
    other_ids: t.other_ids,
    status: t.status,
    description: t.description,
    // Answers stored for idempotent replay before owners existed lack these.
    assignee: t.assignee ?? null,
    priority: t.priority ?? "Normal",
    created_at: t.created_at,
    updated_at: t.updated_at,
    version: t.version,
    // Absent from tickets stored by an idempotent create before they existed.
    first_response_at: t.first_response_at ?? null,
    resolved_at: t.resolved_at ?? null,
    reopened_count: t.reopened_count ?? 0,
  };
}

/** The public shape of a comment. */
export function commentJson(c: Comment) {
  return {
    id: c.id,
    author: c.author,
    body: c.body,
    visibility: c.visibility,
    from_requester: c.from_requester,
    created_at: c.created_at,
  };
}
