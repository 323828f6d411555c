/**
 * What the live stream sends for each committed event: the same TicketCard the
 * page renders, in LivePartials, composed once per batch and filter from the
 * ticket the event carries — the store is asked only for what the batch
 * shares (the counts) and, per filter, which tickets its search finds.
 */
import type {
  OwnerCounts,
  Status,
  TicketEvent,
  TicketStore,
  TicketSummary,
} from "../db/store.ts";
import type { AccountStore } from "../db/store.ts";
import { CountsUpdate, TicketCard } from "../views/ticket_card.tsx";
import { LiveNote, LivePartial } from "../views/live.tsx";
import { tabCounts } from "../views/triage.tsx";
import { splitUsers, viewCounts } from "../db/desk.ts";
import { showsTicket } from "../lib/live_filter.ts";
import { UNDOABLE, type UndoField } from "../lib/undo.ts";
import { MovedCard } from "../views/undo.tsx";
import { RequestReply, RequestStatusPanel } from "../views/requester_page.tsx";
import type { RequesterLinks } from "../lib/requester_token.ts";
import type { LiveComposer, SseMessage, StreamFilter } from "./events.ts";

/** A one-line summary for toasts and desktop notifications. */
export function describeEvent(e: TicketEvent, t: TicketSummary): string {
  if (e.type === "ticket.created") {
    return `New ticket #${t.id} from ${t.user_id}${
      t.product_id ? ` (${t.product_id})` : ""
    }`;
  }
  if (e.type === "comment.added") {
    if (e.data.from_requester) {
      return `${
        e.actor.replace(/^requester:/, "")
      } (requester) replied on #${t.id}`;
    }
    return e.data.visibility === "public"
      ? `${e.actor} replied to the requester on #${t.id}`
      : `${e.actor} added an internal note to #${t.id}`;
  }
  if (e.type === "requester.revoked") {
    return `${e.actor} revoked the requester link of #${t.id}`;
  }
  const changes = (e.data.changes ?? {}) as Record<
    string,
    { from: unknown; to: unknown }
  >;
  if (changes.status) {
    return `${e.actor} set #${t.id} to ${changes.status.to}`;
  }
  if (changes.assignee) {
    const to = changes.assignee.to;
    if (to === null) return `${e.actor} unassigned #${t.id}`;
    if (to === e.actor) return `${e.actor} took #${t.id}`;
    return `${e.actor} assigned #${t.id} to ${to}`;
  }
  if (changes.priority) {
    return `${e.actor} set #${t.id} to ${changes.priority.to} priority`;
  }
  return `${e.actor} edited #${t.id}`;
}

/** Markup rendered (and escaped) by our own components, safe to nest as it is. */
type Html = Awaited<ReturnType<typeof TicketCard>>;

/** What every page of a batch shares: each event's card, toast note and notification, and the counters. */
interface Shared {
  counts: OwnerCounts;
  cards: Map<number, { card: Html; note: Html; notify?: string }>;
}

/**
 * The desktop notification of an event worth one (a new ticket, a status
 * change), as one line of JSON; the browser's hub shows each once.
 */
function notification(e: TicketEvent, t: TicketSummary): string | undefined {
  const changes = (e.data.changes ?? {}) as Record<string, unknown>;
  if (e.type !== "ticket.created" && !changes.status) return undefined;
  return JSON.stringify({
    type: e.type,
    ticket: t.id,
    actor: e.actor,
    text: describeEvent(e, t),
  });
}

/**
 * Whether an event brings its ticket into the view `f`: created in it, or
 * changed from outside it to inside (its fields before are in the change).
 */
function arrives(e: TicketEvent, f: StreamFilter): boolean {
  const t = e.ticket;
  if (!t || !showsTicket(f, t)) return false;
  if (e.type === "ticket.created") return true;
  if (e.type !== "ticket.updated") return false;
  const changes = (e.data.changes ?? {}) as Record<string, { from: unknown }>;
  const before = { ...t };
  for (const field of UNDOABLE) {
    if (changes[field]) {
      Object.assign(before, { [field]: changes[field].from ?? null });
    }
  }
  return !showsTicket(f, before);
}

/** What a moved ticket's field is now, as a placeholder says it. */
function movedTo(t: TicketSummary, field: UndoField): string {
  return String(t[field] ?? "");
}

/** The field a change event moved a ticket by (status first), for a placeholder's words. */
function movedBy(e: TicketEvent): UndoField | undefined {
  const changes = (e.data.changes ?? {}) as Record<string, unknown>;
  return UNDOABLE.find((f) => f in changes);
}

/** A ticket page hears of its own ticket only, and refetches what changed itself. */
function ticketPageMessages(
  shared: Shared,
  f: StreamFilter,
  events: TicketEvent[],
) {
  return events.map((e): SseMessage | null =>
    e.ticket && e.ticket_id === f.ticket
      ? {
        event: "ticket-changed",
        data: JSON.stringify({
          id: e.id,
          actor: e.actor,
          type: e.type,
          text: describeEvent(e, e.ticket),
        }),
        note: shared.cards.get(e.id)?.notify,
      }
      : null
  );
}

/**
 * A requester's status page hears of its own ticket only, while its token is
 * the ticket's current one, and gets public things only: its public replies
 * (appended) and its status (swapped). An internal note sends nothing at all.
 */
function requesterMessages(
  links: RequesterLinks,
  token: string,
  events: TicketEvent[],
): Promise<(SseMessage | null)[]> {
  const now = new Date();
  return Promise.all(events.map(async (e): Promise<SseMessage | null> => {
    const t = e.ticket;
    if (!t || !links.matches(token, t)) return null;
    const reply = e.type === "comment.added" &&
        e.comment?.visibility === "public"
      ? e.comment
      : null;
    if (!reply && e.type !== "ticket.updated") return null;
    const parts = [
      String(LivePartial({
        target: "#request-status",
        swap: "outerHTML",
        children: await RequestStatusPanel({ ticket: t, now }),
      })),
    ];
    if (reply) {
      parts.push(String(LivePartial({
        target: "#replies",
        swap: "beforeend",
        children: await RequestReply({ reply, now }),
      })));
    }
    return { data: parts.join("") };
  }));
}

/**
 * A report hears of the changes that can move its figures: a new ticket, a
 * move of status, owner or priority, an agent's public reply; of tickets its
 * filter takes, before or after the change. The frame only names the event:
 * the page refetches its figures (static/live.js, at most every 5 seconds).
 */
function reportMessages(f: StreamFilter, events: TicketEvent[]) {
  const scope = {
    product_id: f.product_id,
    assignee: f.assignee,
    priority: f.priority,
  };
  return events.map((e): SseMessage | null => {
    const t = e.ticket;
    if (!t) return null;
    const changes = (e.data.changes ?? {}) as Record<string, { from: unknown }>;
    const counts = e.type === "ticket.created" ||
      (e.type === "ticket.updated" &&
        ["status", "assignee", "priority"].some((k) => k in changes)) ||
      (e.type === "comment.added" && e.data.visibility === "public" &&
        !e.data.from_requester);
    if (!counts) return null;
    const before = {
      ...t,
      assignee: changes.assignee
        ? changes.assignee.from as string | null
        : t.assignee,
      priority: (changes.priority?.from ?? t.priority) as typeof t.priority,
    };
    return showsTicket(scope, t) || showsTicket(scope, before)
      ? { event: "report-changed", data: String(e.id) }
      : null;
  });
}

/** Builds the stream's composer over the store; `links` checks requesters' tokens (without it, requesters hear nothing). */
export function liveComposer(
  store: TicketStore & AccountStore,
  links: RequesterLinks | null = null,
): LiveComposer<Shared> {
  return {
    async prepare(events) {
      const now = new Date();
      const [counts, people] = await Promise.all([
        store.countByOwner(),
        store.listUsers(),
      ]);
      const { disabled } = splitUsers(people);
      const cards = new Map<
        number,
        { card: Html; note: Html; notify?: string }
      >();
      for (const e of events) {
        const t = e.ticket;
        if (!t) continue;
        cards.set(e.id, {
          card: await TicketCard({
            ticket: { ...t, match: null },
            now,
            disabledOwners: disabled,
          }),
          note: await LiveNote({
            event: e,
            text: describeEvent(e, t),
            status: t.status as Status,
          }),
          notify: notification(e, t),
        });
      }
      return { cards, counts };
    },

    async compose(shared, f, events) {
      if (f.request !== undefined) {
        return links
          ? await requesterMessages(links, f.request, events)
          : events.map(() => null);
      }
      if (f.ticket !== undefined) return ticketPageMessages(shared, f, events);
      if (f.reports) return reportMessages(f, events);
      // The tab counts of this view (narrowed by a search, product or priority:
      // counted for it). The Mine count is the viewer's, found by the page
      // script in the per-owner numbers (the bytes are everyone's).
      const narrowed = f.q || f.product_id || f.priority
        ? await viewCounts(store, {
          q: f.q,
          product_prefix: f.product_id,
          priority: f.priority,
        })
        : shared.counts;
      const counts = String(
        await CountsUpdate({
          counts: tabCounts(narrowed, f, ""),
        }),
      );
      // A ticket new to this view (created, or changed into it: a Closed one
      // reopened, one given to this owner) goes on top of a newest-first list;
      // in another order its place is elsewhere, and the counts and the toast
      // say it came.
      const arriving = (f.sort ?? "newest") !== "newest"
        ? []
        : events.filter((e) => arrives(e, f)).map((e) => e.ticket_id);
      const found = f.q && arriving.length
        ? await store.searchMatches(f.q, arriving)
        : new Set(arriving);
      return events.map((e) => {
        const rendered = shared.cards.get(e.id);
        if (!rendered) return null;
        // New cards wait in #incoming: static/live.js slides them in at the top of
        // the list, or holds them behind a "N new tickets" button while the agent works.
        const card = arrives(e, f)
          ? found.has(e.ticket_id)
            ? LivePartial({
              target: "#incoming",
              swap: "afterbegin",
              children: rendered.card,
            })
            : ""
          : e.type === "ticket.created"
          ? ""
          : e.ticket && !showsTicket(f, e.ticket)
          // Moved out of this view: a line saying where, in the card's place
          // (never over the placeholder with Undo the mover's own tab shows).
          ? LivePartial({
            target: `#ticket-${e.ticket_id}:not(.moved)`,
            swap: "outerHTML",
            children: MovedCard({
              change: {
                id: e.ticket_id,
                field: movedBy(e) ?? "status",
                to: movedTo(e.ticket, movedBy(e) ?? "status"),
              },
              by: e.actor,
            }),
          })
          : LivePartial({
            target: `#ticket-${e.ticket_id}`,
            swap: "outerHTML",
            children: rendered.card,
          });
        const note = LivePartial({
          target: "#live-notes",
          swap: "beforeend",
          children: rendered.note,
        });
        return {
          data: counts + String(card) + String(note),
          note: rendered.notify,
        };
      });
    },
  };
}
