/**
 * What the live stream sends for each committed event: the same TicketCard the
 * page renders, in LivePartials, composed once per batch and filter from the
 * ticket the event carries — the store is asked only for what the batch
 * shares (the counts) and, per filter, which tickets its search finds.
 */
import type {
  Status,
  StatusCounts,
  TicketEvent,
  TicketStore,
  TicketSummary,
} from "../db/store.ts";
import { CountsUpdate, TicketCard } from "../views/ticket_card.tsx";
import { LiveNote, LivePartial } from "../views/live.tsx";
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
  const changes = (e.data.changes ?? {}) as Record<string, { to: string }>;
  if (changes.status) {
    return `${e.actor} set #${t.id} to ${changes.status.to}`;
  }
  return `${e.actor} edited #${t.id}`;
}

/** Markup rendered (and escaped) by our own components, safe to nest as it is. */
type Html = Awaited<ReturnType<typeof TicketCard>>;

/** What every page of a batch shares: each event's card, toast note and notification, and the counts. */
interface Shared {
  counts: string;
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

/** Whether a ticket belongs on a dashboard showing `f` (its search is checked separately). */
function fits(t: TicketSummary, f: StreamFilter): boolean {
  return (!f.status || t.status === f.status) &&
    (!f.product_id || t.product_id === f.product_id);
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

/** Builds the stream's composer over the store; `links` checks requesters' tokens (without it, requesters hear nothing). */
export function liveComposer(
  store: TicketStore,
  links: RequesterLinks | null = null,
): LiveComposer<Shared> {
  return {
    async prepare(events) {
      const now = new Date();
      const cards = new Map<
        number,
        { card: Html; note: Html; notify?: string }
      >();
      for (const e of events) {
        const t = e.ticket;
        if (!t) continue;
        cards.set(e.id, {
          card: await TicketCard({ ticket: { ...t, match: null }, now }),
          note: await LiveNote({
            event: e,
            text: describeEvent(e, t),
            status: t.status as Status,
          }),
          notify: notification(e, t),
        });
      }
      const counts: StatusCounts = await store.countByStatus();
      return { cards, counts: String(await CountsUpdate({ counts })) };
    },

    async compose(shared, f, events) {
      if (f.request !== undefined) {
        return links
          ? await requesterMessages(links, f.request, events)
          : events.map(() => null);
      }
      if (f.ticket !== undefined) return ticketPageMessages(shared, f, events);
      const created = events.filter((e) =>
        e.type === "ticket.created" && e.ticket && fits(e.ticket, f)
      ).map((e) => e.ticket_id);
      const found = f.q && created.length
        ? await store.searchMatches(f.q, created)
        : new Set(created);
      return events.map((e) => {
        const rendered = shared.cards.get(e.id);
        if (!rendered) return null;
        // New cards wait in #incoming: static/live.js slides them in at the top of
        // the list, or holds them behind a "N new tickets" button while the agent works.
        const card = e.type === "ticket.created"
          ? found.has(e.ticket_id)
            ? LivePartial({
              target: "#incoming",
              swap: "afterbegin",
              children: rendered.card,
            })
            : ""
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
          data: shared.counts + String(card) + String(note),
          note: rendered.notify,
        };
      });
    },
  };
}
