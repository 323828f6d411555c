/**
 * What the dashboard asks of the store beyond single calls: the board and the
 * ticket page with their live resume points, and saving one field of a form
 * without overwriting anything the person has not seen.
 */
import {
  NotFoundError,
  type Role,
  StaleVersionError,
  UnknownAssigneeError,
  type WebhookEndpoint,
} from "./store.ts";
import type { UndoChange } from "../lib/undo.ts";
import type {
  AccountStore,
  ListFilter,
  OwnerCounts,
  TicketEvent,
  TicketPage,
  TicketPatch,
  TicketStore,
  TicketSummary,
  TicketWithComments,
  User,
} from "./store.ts";

/** A ticket page's data; `after` is the event id the page is current to (its live stream resumes there). */
export interface TicketView {
  after: number;
  ticket: TicketWithComments;
  events: TicketEvent[];
  /** Active users, to assign the ticket to. */
  users: string[];
}

/** The ticket with its comments, activity and the people to assign it to; NotFoundError when it does not exist. */
export async function ticketView(
  store: TicketStore & AccountStore,
  id: number,
): Promise<TicketView> {
  // The resume point is read first: whatever happens after it is replayed.
  const after = await store.latestEventId();
  const [ticket, events, people] = await Promise.all([
    store.getTicket(id),
    store.ticketActivity(id),
    store.listUsers(),
  ]);
  if (!ticket) throw new NotFoundError(id);
  return { after, ticket, events, users: splitUsers(people).users };
}

/** One page of the board with the counters of its tabs and the people; `after` as in TicketView. */
export interface Board {
  after: number;
  page: TicketPage;
  counts: OwnerCounts & { capped?: boolean };
  /** Active users (to assign to), and the disabled ones (whose tickets say so). */
  users: string[];
  disabled: Set<string>;
}

/** Reads one page of the board in its sort, the per-(status, owner) counters and the users. */
export async function loadBoard(
  store: TicketStore & AccountStore,
  filter: ListFilter,
): Promise<Board> {
  // Read before the list: events after it are replayed by the stream (cards
  // already shown are replaced by id, never duplicated).
  const after = await store.latestEventId();
  const [page, counts, people] = await Promise.all([
    store.listTickets(filter),
    viewCounts(store, filter),
    store.listUsers(),
  ]);
  return { after, page, counts, ...splitUsers(people) };
}

/** Counting stops here for a narrowed view: the tabs then say "10,000+". */
export const COUNT_CAP = 10_000;

/**
 * The per-(status, owner) counts behind a board's tabs: the kept counters,
 * or, when a search, product or priority narrows the board, a count of what
 * it matches (up to COUNT_CAP), so the tabs tell what the board shows.
 */
export function viewCounts(
  store: TicketStore,
  f: Pick<ListFilter, "q" | "product_prefix" | "priority">,
): Promise<OwnerCounts & { capped?: boolean }> {
  const narrowed = Boolean(f.q?.trim()) || f.product_prefix !== undefined ||
    f.priority !== undefined;
  return narrowed
    ? store.countMatching(
      { q: f.q, product_prefix: f.product_prefix, priority: f.priority },
      COUNT_CAP,
    )
    : store.countByOwner();
}

/** Active users' names, and the set of disabled ones. */
export function splitUsers(people: User[]) {
  return {
    users: people.filter((u) => !u.disabled).map((u) => u.username),
    disabled: new Set(people.filter((u) => u.disabled).map((u) => u.username)),
  };
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
  const key = (Object.keys(patch) as (keyof TicketPatch)[])
    .find((k) => patch[k] !== undefined) ?? "status";
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
      if (String(current[key] ?? "") !== opts.seen || attempt === 1) {
        return { ok: false, current };
      }
      expectedVersion = current.version;
    }
  }
  throw new Error("unreachable");
}

/** What an Undo did: the ticket as it is again, or why it was left alone. */
export type UndoOutcome =
  | { ok: true; ticket: TicketSummary }
  | {
    ok: false;
    outcome: { ok: false; current: TicketWithComments };
    notice: string;
  };

/**
 * Puts one field back as it was before `change`, if it still holds what the
 * change set (saveField's check): a later change by someone else stays.
 */
export async function undoChange(
  store: TicketStore,
  change: UndoChange,
  actor: string,
): Promise<UndoOutcome> {
  const patch: TicketPatch = change.field === "assignee"
    ? { assignee: change.from || null }
    : { [change.field]: change.from };
  const refuse = async (notice: string): Promise<UndoOutcome> => {
    const current = await store.getTicket(change.id);
    if (!current) throw new NotFoundError(change.id);
    return { ok: false, outcome: { ok: false, current }, notice };
  };
  try {
    const result = await saveField(store, change.id, patch, {
      version: change.version,
      seen: change.to,
      actor,
    });
    if (result.ok) return { ok: true, ticket: result.ticket };
    const now = String(result.current[change.field] ?? "") || "nobody";
    return {
      ok: false,
      outcome: result,
      notice: `Not undone: ticket ${change.id} was changed meanwhile (its ${
        change.field === "assignee" ? "owner" : change.field
      } is now ${now}).`,
    };
  } catch (err) {
    if (!(err instanceof UnknownAssigneeError)) throw err;
    return refuse(
      `Not undone: ${change.from} can no longer own tickets (disabled or gone).`,
    );
  }
}
