/**
 * What the dashboard asks of the store beyond single calls: the board and the
 * ticket page with their live resume points, and saving one field of a form
 * without overwriting anything the person has not seen.
 */
import {
  type ListFilter,
  NotFoundError,
  type Role,
  StaleVersionError,
  type StatusCounts,
  type TicketEvent,
  type TicketPage,
  type TicketPatch,
  type TicketStore,
  type TicketSummary,
  type TicketWithComments,
  type WebhookEndpoint,
} from "./store.ts";

/** A ticket page's data; `after` is the event id the page is current to (its live stream resumes there). */
export interface TicketView {
  after: number;
  ticket: TicketWithComments;
  events: TicketEvent[];
}

/** The ticket with its comments and activity; NotFoundError when it does not exist. */
export async function ticketView(
  store: TicketStore,
  id: number,
): Promise<TicketView> {
  // The resume point is read first: whatever happens after it is replayed.
  const after = await store.latestEventId();
  const [ticket, events] = await Promise.all([
    store.getTicket(id),
    store.ticketActivity(id),
  ]);
  if (!ticket) throw new NotFoundError(id);
  return { after, ticket, events };
}

/** One page of the board with the tab counts; `after` as in TicketView. */
export interface Board {
  after: number;
  page: TicketPage;
  counts: StatusCounts;
}

/** Reads one page of the board (newest first, before `before_id`) and the counts. */
export async function loadBoard(
  store: TicketStore,
  filter: ListFilter,
): Promise<Board> {
  // Read before the list: events after it are replayed by the stream (cards
  // already shown are replaced by id, never duplicated).
  const after = await store.latestEventId();
  const [page, counts] = await Promise.all([
    store.listTickets(filter),
    store.countByStatus(),
  ]);
  return { after, page, counts };
}

/** The disabled webhook endpoints an admin should hear of (agents hear of none). */
export async function webhookAlerts(
  store: TicketStore,
  role: Role,
): Promise<WebhookEndpoint[]> {
  if (role !== "admin") return [];
  return (await store.listWebhooks()).filter((w) => w.disabled_at !== null);
}

/** The ticket a search names by number (`#42` or `42`), when it exists. */
export async function namedTicket(
  store: TicketStore,
  q: string | undefined,
): Promise<number | undefined> {
  const m = q ? /^#?([1-9][0-9]{0,15})$/.exec(q) : null;
  if (!m) return undefined;
  const id = Number(m[1]);
  return await store.getTicket(id) ? id : undefined;
}

export type SaveOutcome =
  | { ok: true; ticket: TicketSummary }
  | { ok: false; current: TicketWithComments };

/**
 * Saves one field with an optimistic version check. If the version is stale
 * only because *another* field changed (the edited one still holds what the
 * person saw), the change overwrites nothing unseen and is applied; otherwise
 * nothing is saved and the caller shows the conflict.
 */
export async function saveField(
  store: TicketStore,
  id: number,
  patch: TicketPatch,
  opts: { version: number; seen: string; actor: string },
): Promise<SaveOutcome> {
  const key = patch.status !== undefined ? "status" : "description";
  let expectedVersion = opts.version;
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const { value } = await store.updateTicket(id, patch, {
        actor: opts.actor,
        expectedVersion,
      });
      return { ok: true, ticket: value };
    } catch (err) {
      if (!(err instanceof StaleVersionError)) throw err;
      const current = await store.getTicket(id);
      if (!current) throw new NotFoundError(id);
      if (current[key] !== opts.seen || attempt === 1) {
        return { ok: false, current };
      }
      expectedVersion = current.version;
    }
  }
  throw new Error("unreachable");
}
