/** The pieces of a page that make it live: the stream, its status, and what it delivers. */
import type { Child } from "hono/jsx";
import type { Status, TicketEvent } from "../db/store.ts";

/**
 * The element holding the stream. Its messages are only `<hx-partial>`s (swap
 * none for the rest), so an error body can never land in the page. htmx does not
 * retry a failed first connect: static/app.js fires `desk:reconnect` for that.
 */
export function LiveStream({ url, user }: { url: string; user: string }) {
  return (
    <div
      id="live"
      hidden
      data-user={user}
      {...{
        "hx-sse:connect": url,
        "hx-trigger": "load, desk:reconnect",
        "hx-swap": "none",
        // Keep streaming in a background tab: that is when notifications and
        // the unseen count in the title matter.
        "hx-config": "sse.pauseOnBackground:false",
      }}
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

/** Page-wide live pieces: where event notes land, and the toasts they become. */
export function LiveDock() {
  return (
    <>
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

/** A note about one event, read by static/app.js for toasts, notifications and the title count. */
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
