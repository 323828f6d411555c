/**
 * Undo for quick changes: the offer ("Closed #132 · Undo", eight seconds in
 * the page's #undo region, key `u`), and the placeholder a card leaves when
 * a change moves its ticket out of the board's view ("#132 moved to Closed ·
 * Undo"). An Undo is a plain form posting the change back to /tickets/undo,
 * where the version check makes sure nobody changed the ticket meanwhile.
 */
import type { Child } from "hono/jsx";
import { cardId } from "./card_id.ts";
import { encodeChange, type UndoChange } from "../lib/undo.ts";

/** Which fragment an Undo answers with: a card, the ticket page's panel, or the whole board (a bulk change). */
export type UndoView = "card" | "page" | "board";

/** What a change did, as the offer says it: "Closed #132", "Took #132", "Urgent priority for #132". */
export function changeText(c: UndoChange, viewer: string): string {
  if (c.field === "status") return `${c.to} #${c.id}`;
  if (c.field === "priority") return `${c.to} priority for #${c.id}`;
  if (!c.to) return `Unassigned #${c.id}`;
  return c.to === viewer ? `Took #${c.id}` : `Gave #${c.id} to ${c.to}`;
}

/** Where a change sent a ticket, as its placeholder says it: "#132 moved to Closed". */
export function movedText(
  c: Pick<UndoChange, "id" | "field" | "to">,
): string {
  if (c.field === "status") return `#${c.id} moved to ${c.to}`;
  if (c.field === "priority") return `#${c.id} is ${c.to} priority now`;
  return c.to
    ? `#${c.id} now belongs to ${c.to}`
    : `#${c.id} is unassigned now`;
}

/** What an Undo that worked says: "#132 is Open again". */
export function undoneText(c: UndoChange): string {
  if (c.field === "status") return `Undone: #${c.id} is ${c.from} again`;
  if (c.field === "priority") {
    return `Undone: #${c.id} is ${c.from} priority again`;
  }
  return c.from
    ? `Undone: #${c.id} is back with ${c.from}`
    : `Undone: #${c.id} is unassigned again`;
}

/** The Undo button: a form posting the changes back (`u` presses the one in #undo). */
export function UndoForm(
  { changes, view, back, label = "Undo", shortcut }: {
    changes: UndoChange[];
    view: UndoView;
    back: string;
    label?: string;
    /** Set on the offer's button, which the `u` key presses. */
    shortcut?: boolean;
  },
) {
  const first = changes[0];
  if (!first) return null;
  const target = view === "board"
    ? "#board"
    : view === "page"
    ? "#ticket-status"
    : `#${cardId(first.id)}`;
  return (
    <form
      method="post"
      action="/tickets/undo"
      hx-post="/tickets/undo"
      hx-target={target}
      hx-swap="outerHTML"
      class="undo-form"
    >
      <input type="hidden" name="view" value={view} />
      <input type="hidden" name="back" value={back} />
      {changes.map((c) => (
        <input type="hidden" name="change" value={encodeChange(c)} />
      ))}
      <button
        type="submit"
        class="outline"
        data-undo={shortcut ? "" : undefined}
        aria-keyshortcuts={shortcut ? "u" : undefined}
      >
        {label}
      </button>
    </form>
  );
}

/**
 * The #undo region's content: what was done with its Undo, or what an Undo
 * did. `oob` swaps it into the page's region (its container stays, so the
 * change is announced).
 */
export function UndoOffer(
  { text, changes, view, back, oob = false }: {
    text: string;
    /** What Undo restores; none when there is nothing to undo (the outcome of an Undo). */
    changes?: UndoChange[];
    view: UndoView;
    back: string;
    oob?: boolean;
  },
) {
  const offer = (
    <div class="undo-offer" data-undo-offer>
      <span>{text}</span>
      {changes && changes.length > 0 && (
        <UndoForm changes={changes} view={view} back={back} shortcut />
      )}
      <button
        type="button"
        class="secondary outline undo-dismiss js-only"
        aria-label="Dismiss"
        data-dismiss-undo
      >
        ×
      </button>
    </div>
  );
  // Out of band, only the region's content is swapped: its live region stays and announces it.
  return oob ? <div id="undo" hx-swap-oob="innerHTML">{offer}</div> : offer;
}

/** The page's region for Undo offers (polite: the agent keeps typing). */
export function UndoRegion({ children }: { children?: Child }) {
  return (
    <div id="undo" class="undo-region" role="status" aria-live="polite">
      {children}
    </div>
  );
}

/**
 * What stays of a card whose ticket left the board's view, for a moment:
 * a line saying where it went, with Undo when the viewer moved it. Same id
 * as the card, so an Undo (or the stream) puts the card back in its place.
 */
export function MovedCard(
  { change, by, undo }: {
    change: Pick<UndoChange, "id" | "field" | "to">;
    /** Who moved it, when it was someone else (the live stream). */
    by?: string;
    /** The viewer's own change: its Undo. */
    undo?: { change: UndoChange; back: string };
  },
) {
  return (
    <article
      id={cardId(change.id)}
      class="ticket-card moved"
      tabindex={-1}
      data-ticket-id={String(change.id)}
      data-moved
    >
      <p>
        {movedText(change)}
        {by ? ` by ${by}` : ""}
      </p>
      {undo && (
        <UndoForm
          changes={[undo.change]}
          view="card"
          back={undo.back}
        />
      )}
    </article>
  );
}
