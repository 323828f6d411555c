/**
 * The ticket page's one timeline: comments and activity in the order they
 * happened, the newest at the bottom beside the reply box, with a switch to
 * show comments only. Each part has an id, so the page swaps just the list
 * (a new comment, a change by someone else) and never the box being typed in.
 */
import type { Comment, TicketEvent, TicketWithComments } from "../db/store.ts";
import { MAX_TEXT } from "../lib/fields.ts";
import { When } from "./ticket_card.tsx";

/** A ticket page's URL with the way back and the timeline's mode (the comments-only switch without JavaScript). */
export function threadHref(
  id: number,
  back: string,
  { commentsOnly = false, hash = "" } = {},
): string {
  const params = new URLSearchParams();
  if (back !== "/dashboard") params.set("back", back);
  if (commentsOnly) params.set("thread", "comments");
  const query = params.toString();
  return `/tickets/${id}${query ? `?${query}` : ""}${hash}`;
}

/** A textarea's text; the HTML parser drops one leading newline, so give it one to drop. */
export const textareaText = (s: string) => "\n" + s;

/** Who did something, in words: a requester's events carry `requester:<user>`. */
function actorName(actor: string): string {
  return actor.startsWith("requester:")
    ? `${actor.slice("requester:".length)} (requester)`
    : actor;
}

/** What an event did, as an activity line says it after the actor's name. */
export function describeEvent(e: TicketEvent): string {
  if (e.type === "ticket.created") return "created the ticket";
  if (e.type === "requester.revoked") return "revoked the requester link";
  if (e.type === "comment.added") {
    if (e.data.visibility !== "public") return "added an internal note";
    return e.data.from_requester ? "replied" : "replied to the requester";
  }
  const changes = (e.data.changes ?? {}) as Record<
    string,
    { from: string | null; to: string | null }
  >;
  const parts: string[] = [];
  if (changes.status) {
    parts.push(
      `changed the status from ${changes.status.from} to ${changes.status.to}`,
    );
  }
  if (changes.assignee) {
    const { from, to } = changes.assignee;
    parts.push(
      to === null
        ? `unassigned ${from}`
        : to === e.actor
        ? (from ? `took the ticket from ${from}` : "took the ticket")
        : `assigned the ticket to ${to}`,
    );
  }
  if (changes.priority) {
    parts.push(
      `changed the priority from ${changes.priority.from} to ${changes.priority.to}`,
    );
  }
  if (changes.description) parts.push("edited the description");
  return parts.join(" and ") || "updated the ticket";
}

type Item =
  | { kind: "comment"; at: string; comment: Comment }
  | { kind: "event"; at: string; event: TicketEvent };

/**
 * Comments and events in the order they happened. A comment stands in for
 * the event that added it; comments without one among `events` (imported,
 * or past the activity list's limit) are placed by their time.
 */
export function timelineItems(
  ticket: TicketWithComments,
  events: TicketEvent[],
): Item[] {
  const byId = new Map(ticket.comment_list.map((c) => [c.id, c]));
  const placed = new Set<number>();
  const items: Item[] = [];
  for (const event of events) {
    const comment = event.type === "comment.added"
      ? byId.get(Number(event.data.comment_id))
      : undefined;
    if (comment) {
      placed.add(comment.id);
      items.push({ kind: "comment", at: comment.created_at, comment });
    } else items.push({ kind: "event", at: event.created_at, event });
  }
  for (const comment of ticket.comment_list) {
    if (!placed.has(comment.id)) {
      items.push({ kind: "comment", at: comment.created_at, comment });
    }
  }
  // Stable: events of one millisecond keep their id order.
  return items.sort((a, b) => Date.parse(a.at) - Date.parse(b.at));
}

/** Which kind a comment is, in words (never colour alone). */
function CommentKind({ comment }: { comment: Comment }) {
  if (comment.from_requester) {
    return <span class="comment-kind kind-requester">Requester's reply</span>;
  }
  return comment.visibility === "public"
    ? <span class="comment-kind kind-public">Public reply</span>
    : <span class="comment-kind kind-internal">Internal note</span>;
}

function CommentItem({ comment: c, now }: { comment: Comment; now: Date }) {
  return (
    <li class={`comment comment-${c.visibility}`} id={`comment-${c.id}`}>
      <p class="comment-meta">
        <CommentKind comment={c} /> <strong>{c.author}</strong>{" "}
        <When iso={c.created_at} now={now} />
      </p>
      <div class="text">{c.body}</div>
    </li>
  );
}

function EventItem({ event: e, now }: { event: TicketEvent; now: Date }) {
  return (
    <li class="event" id={`event-${e.id}`}>
      <strong>{actorName(e.actor)}</strong> {describeEvent(e)}{" "}
      <When iso={e.created_at} now={now} />
    </li>
  );
}

/** How many comments the timeline holds (the old system's notes count as one). */
export function commentCount(ticket: TicketWithComments): number {
  return ticket.comment_list.length + (ticket.comments.trim() ? 1 : 0);
}

/** The comment count beside the timeline's heading; `oob` swaps it in by id. */
export function CommentCount(
  { ticket, oob = false }: { ticket: TicketWithComments; oob?: boolean },
) {
  const n = commentCount(ticket);
  return (
    <span
      id="comment-count"
      class="muted"
      hx-swap-oob={oob ? "true" : undefined}
    >
      ({n === 1 ? "1 comment" : `${n} comments`})
    </span>
  );
}

/**
 * The timeline's entries, oldest first: the list alone, which the page swaps
 * after a comment, a change (`oob`: beside another fragment) or a live update.
 */
export function TimelineList(
  { ticket, events, now, oob = false, announce }: {
    ticket: TicketWithComments;
    events: TicketEvent[];
    now: Date;
    /** Sent alongside another fragment: htmx swaps it in by id. */
    oob?: boolean;
    /** Said by screen readers after the swap (static/app.js), e.g. "Internal note added". */
    announce?: string;
  },
) {
  const items = timelineItems(ticket, events);
  const legacy = ticket.comments.trim();
  // The old system's notes come right after the ticket was created.
  const at = items[0]?.kind === "event" &&
      items[0].event.type === "ticket.created"
    ? 1
    : 0;
  const rendered = items.map((item) =>
    item.kind === "comment"
      ? (
        <CommentItem
          key={`comment-${item.comment.id}`}
          comment={item.comment}
          now={now}
        />
      )
      : (
        <EventItem
          key={`event-${item.event.id}`}
          event={item.event}
          now={now}
        />
      )
  );
  if (legacy) {
    rendered.splice(
      at,
      0,
      <li class="comment legacy" id="comment-legacy">
        <p class="comment-meta">
          <strong>Earlier notes</strong>{" "}
          <span class="muted">(from the old system)</span>
        </p>
        <div class="text">{legacy}</div>
      </li>,
    );
  }
  return (
    <ol
      id="timeline"
      class="comments timeline"
      hx-swap-oob={oob ? "true" : undefined}
      data-announce={announce}
    >
      {rendered}
      {commentCount(ticket) === 0 && (
        <li class="timeline-empty muted">No comments yet.</li>
      )}
    </ol>
  );
}

/** The reply box: an internal note by default, a public reply with the other button. */
export function CommentForm(
  { ticket, back, draft = "", error, oob = false }: {
    ticket: { id: number };
    back: string;
    draft?: string;
    error?: string;
    oob?: boolean;
  },
) {
  return (
    <form
      id="comment-form"
      method="post"
      action={`/tickets/${ticket.id}/comments`}
      hx-post={`/tickets/${ticket.id}/comments`}
      hx-target="#timeline"
      hx-swap="outerHTML"
      hx-swap-oob={oob ? "true" : undefined}
      class="comment-form"
    >
      <input type="hidden" name="back" value={back} />
      <label for="comment-body">Add a note or a reply</label>
      <textarea
        id="comment-body"
        name="body"
        rows={3}
        required
        maxlength={MAX_TEXT}
        aria-invalid={error ? "true" : undefined}
        aria-describedby={error ? "comment-error comment-help" : "comment-help"}
        aria-keyshortcuts="Control+Enter Meta+Enter"
      >
        {textareaText(draft)}
      </textarea>
      {error && <small id="comment-error">{error}</small>}
      <small id="comment-help">
        An internal note is for agents only. A reply is also shown to the
        requester, on their status page.{" "}
        <span class="js-only">
          Ctrl+Enter (⌘+Enter on a Mac) adds an internal note.
        </span>
      </small>
      <div role="group" class="form-actions">
        {/* First: the button a form submits by default is the private one. */}
        <button
          type="submit"
          name="visibility"
          value="internal"
          id="comment-submit"
        >
          Add internal note
        </button>
        <button
          type="submit"
          name="visibility"
          value="public"
          id="comment-reply"
          class="secondary"
        >
          Reply to requester
        </button>
      </div>
    </form>
  );
}

/**
 * The timeline with its heading, the comments-only switch (a link without
 * JavaScript, a remembered toggle with it), a line that says what arrived
 * live, and the reply box at the bottom.
 */
export function Thread(
  { ticket, events, back, now, commentsOnly = false, draft, error }: {
    ticket: TicketWithComments;
    events: TicketEvent[];
    back: string;
    now: Date;
    commentsOnly?: boolean;
    draft?: string;
    error?: string;
  },
) {
  return (
    <section
      id="thread"
      aria-labelledby="thread-title"
      class={commentsOnly ? "thread comments-only" : "thread"}
    >
      <header class="thread-header">
        <h2 id="thread-title">
          Timeline <CommentCount ticket={ticket} />
        </h2>
        <a
          href={threadHref(ticket.id, back, {
            commentsOnly: !commentsOnly,
            hash: "#thread",
          })}
          id="thread-filter"
          role="button"
          class="secondary outline thread-filter"
          aria-pressed={commentsOnly ? "true" : "false"}
        >
          Comments only
        </a>
      </header>
      <TimelineList ticket={ticket} events={events} now={now} />
      {/* What arrived live, said once (static/ticket_page.js). */}
      <p id="thread-news" class="thread-news" role="status"></p>
      <CommentForm ticket={ticket} back={back} draft={draft} error={error} />
    </section>
  );
}
