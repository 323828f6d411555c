/** The pieces of a page that make it live: the stream, its status, and what it delivers. */
import type { Child } from "hono/jsx";
import type { Status, TicketEvent } from "../db/store.ts";
import { UndoRegion } from "./undo.tsx";

/**
 * What this page watches on the browser's shared live connection: its filter's
 * channel and the newest event it already shows (static/live.js reads these
 * and hands them to the hub, static/live_hub.js, in a SharedWorker at `worker`).
 */
export interface LiveStreamProps {
  watch: { channel: string; after: number };
  user: string;
  /** The URL of the hub's script, for the SharedWorker. */
  worker: string;
  /** On a ticket page, its ticket (notifications about it are shown there). */
  ticket?: number;
  /** The SharedWorker's name: pages that must never share a stream use another hub. */
  hub?: string;
}

/** The hidden element that holds LiveStreamProps for static/live.js; what the stream delivers lands on it. */
export function LiveStream(
  { watch, user, worker, ticket, hub }: LiveStreamProps,
) {
  return (
    <div
      id="live"
      hidden
      data-channel={watch.channel}
      data-after={String(watch.after)}
      data-user={user}
      data-worker={worker}
      data-ticket={ticket ? String(ticket) : undefined}
      data-hub={hub}
    >
    </div>
  );
}

/** The header's connection indicator and the notification switch; static/live.js keeps them true. */
export function LiveIndicator() {
  return (
    <>
      <span
        id="live-status"
        class="live-status"
        data-state="connecting"
        role="status"
        aria-live="polite"
      >
        Connecting…
      </span>
      <button
        type="button"
        id="notify"
        class="outline secondary notify-button"
        hidden
      >
        Notify me
      </button>
    </>
  );
}

/** Page-wide live pieces: where event notes land, the toasts they become, and the Undo region (with an offer from the URL, without JavaScript). */
export function LiveDock({ undo }: { undo?: Child }) {
  return (
    <>
      <UndoRegion>{undo}</UndoRegion>
      <div id="live-notes" hidden></div>
      <div
        id="toasts"
        class="toasts"
        role="log"
        aria-live="polite"
        aria-label="Updates"
      >
      </div>
    </>
  );
}

/** A note about one event, read by static/live.js for its toast. */
export function LiveNote(
  { event, text, status }: { event: TicketEvent; text: string; status: Status },
) {
  return (
    <p
      class="live-note"
      data-event-id={String(event.id)}
      data-type={event.type}
      data-ticket={String(event.ticket_id)}
      data-actor={event.actor}
      data-status={status}
    >
      {text}
    </p>
  );
}

/** Content the live stream delivers for htmx to swap into `target` (an `<hx-partial>`). */
export function LivePartial(
  { target, swap, children }: {
    target: string;
    swap: string;
    children?: Child;
  },
) {
  return <hx-partial hx-target={target} hx-swap={swap}>{children}</hx-partial>;
}
