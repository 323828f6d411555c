/**
 * What the live stream sends for each committed event: the same TicketCard the
 * page renders, wrapped in htmx 4 `<hx-partial>`s, composed once per filter.
 */
import type {
  Status,
  TicketEvent,
  TicketListItem,
  TicketStore,
} from "../db/store.ts";
import { CountsUpdate, listItemOf, TicketCard } from "../views/ticket_card.tsx";
import { LiveNote } from "../views/live.tsx";
import type { ComposeMessage, StreamFilter } from "./events.ts";

/** Whether a ticket belongs on a page showing `f` (the same query the page ran). */
async function matches(
  store: TicketStore,
  t: TicketListItem,
  f: StreamFilter,
): Promise<boolean> {
  if (f.status && t.status !== f.status) return false;
  if (f.product_id && t.product_id !== f.product_id) return false;
  if (!f.q) return true;
  const page = await store.listTickets({
    q: f.q,
    before_id: t.id + 1,
    limit: 1,
  });
  return page.items[0]?.id === t.id;
}

function partial(target: string, swap: string, html: string): string {
  return `<hx-partial hx-target="${target}" hx-swap="${swap}">${html}</hx-partial>`;
}

/** A one-line summary for toasts and desktop notifications. */
function describe(e: TicketEvent, t: TicketListItem): string {
  if (e.type === "ticket.created") {
    return `New ticket #${t.id} from ${t.user_id}${
      t.product_id ? ` (${t.product_id})` : ""
    }`;
  }
  if (e.type === "comment.added") return `${e.actor} commented on #${t.id}`;
  const changes = (e.data.changes ?? {}) as Record<string, { to: string }>;
  if (changes.status) {
    return `${e.actor} set #${t.id} to ${changes.status.to}`;
  }
  return `${e.actor} edited #${t.id}`;
}

/** Builds the stream's composer over the store. */
export function liveComposer(store: TicketStore): ComposeMessage {
  return async (e, f) => {
    // A ticket page only cares about its own ticket.
    if (f.ticket !== undefined && f.ticket !== e.ticket_id) return null;
    const full = await store.getTicket(e.ticket_id);
    if (!full) return null;
    const t = listItemOf(full);
    const note = LiveNote({
      event: e,
      text: describe(e, t),
      status: t.status as Status,
    });
    if (f.ticket !== undefined) {
      // A ticket page: it refetches what changed itself, unless the admin is editing.
      return {
        event: "ticket-changed",
        data: JSON.stringify({
          id: e.id,
          actor: e.actor,
          type: e.type,
          text: describe(e, t),
        }),
      };
    }
    const now = new Date();
    const card = String(await TicketCard({ ticket: t, now }));
    // Just the four numbers (out of band, by id): a frame goes to every open tab.
    const counts = String(
      await CountsUpdate({ counts: await store.countByStatus() }),
    );
    const parts = [counts];
    if (e.type === "ticket.created") {
      // New cards wait in #incoming: static/app.js slides them in at the top of the
      // list, or holds them behind a "N new tickets" button while the admin works.
      if (await matches(store, t, f)) {
        parts.push(partial("#incoming", "afterbegin", card));
      }
    } else {
      parts.push(partial(`#ticket-${t.id}`, "outerHTML", card));
    }
    parts.push(partial("#live-notes", "beforeend", String(await note)));
    return { data: parts.join("") };
  };
}
