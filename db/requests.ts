/**
 * The requester's side of a ticket, for their link: what they may see, and
 * their reply. A token that is malformed, names no ticket or is not the
 * ticket's current one (revoked) finds nothing, and all three look the same.
 */
import type { RequesterLinks } from "../lib/requester_token.ts";
import {
  NotFoundError,
  type RequesterReplyResult,
  type RequestView,
  type TicketStore,
} from "./store.ts";

/** The request a token opens, or null. */
export async function openRequest(
  store: TicketStore,
  links: RequesterLinks,
  token: string,
): Promise<RequestView | null> {
  const id = links.ticketIdOf(token);
  if (id === null) return null;
  const view = await store.requestView(id);
  return view && links.matches(token, view.ticket) ? view : null;
}

/** Adds the requester's reply through their token; null when the token opens nothing (or was revoked meanwhile). */
export async function replyAsRequester(
  store: TicketStore,
  links: RequesterLinks,
  token: string,
  body: string,
): Promise<RequesterReplyResult | null> {
  const id = links.ticketIdOf(token);
  const ticket = id === null ? null : await store.getTicket(id);
  if (!ticket || !links.matches(token, ticket)) return null;
  try {
    return await store.addRequesterReply(ticket.id, body, {
      tokenVersion: ticket.token_version,
    });
  } catch (err) {
    if (err instanceof NotFoundError) return null;
    throw err;
  }
}
