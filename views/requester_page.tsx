/**
 * The requester's side: the status page a person opens from the app (no
 * account; the link is the key), and the panel on the agent's ticket page that
 * shows and revokes that link. The status page shows public things only:
 * status, times and public replies, never an internal note or a desk name.
 */
import type { Child } from "hono/jsx";
import type { Comment, Ticket } from "../db/store.ts";
import { MAX_TEXT } from "../lib/fields.ts";
import { LiveStream } from "./live.tsx";
import { exactTime, StatusBadge, When } from "./ticket_card.tsx";

/** What the status page's head and live stream need. */
export interface RequesterAssets {
  styles: string[];
  scripts: string[];
  /** The live hub's script (a SharedWorker of its own, never the agents'). */
  worker: string;
}

/** The SharedWorker name of the requester's hub: a browser never mixes it with an agent's stream. */
export const REQUESTER_HUB = "ticket-desk-requester";

// Small components so list items can take the `key` lint asks for (see layout.tsx).
function Stylesheet({ href }: { href: string }) {
  return <link rel="stylesheet" href={href} />;
}

function Script({ src }: { src: string }) {
  return <script src={src} defer></script>;
}

function RequesterLayout(
  { title, styles, scripts = [], children }: {
    title: string;
    styles: string[];
    scripts?: string[];
    children?: Child;
  },
) {
  return (
    "<!doctype html>" +
    (
      <html lang="en">
        <head>
          <meta charset="utf-8" />
          <meta
            name="viewport"
            content="width=device-width, initial-scale=1"
          />
          <meta name="color-scheme" content="light dark" />
          <meta name="robots" content="noindex" />
          <title>{title}</title>
          <link rel="icon" href="/favicon.ico" type="image/svg+xml" />
          {styles.map((href) => <Stylesheet key={href} href={href} />)}
          {scripts.map((src) => <Script key={src} src={src} />)}
        </head>
        <body class="requester">
          <main class="container" id="main">{children}</main>
        </body>
      </html>
    )
  );
}

/** The request's status and times; swapped whole when it changes. */
export function RequestStatusPanel(
  { ticket, now }: { ticket: Ticket; now: Date },
) {
  return (
    <section id="request-status" aria-labelledby="request-status-title">
      <h2 id="request-status-title">
        Status <StatusBadge status={ticket.status} />
      </h2>
      <p role="status" aria-live="polite">
        {STATUS_TEXT[ticket.status]}
      </p>
      <dl class="fields">
        <dt>Opened</dt>
        <dd>
          <time datetime={ticket.created_at}>
            {exactTime(ticket.created_at)}
          </time>
        </dd>
        <dt>Last update</dt>
        <dd>
          <When iso={ticket.updated_at} now={now} />
        </dd>
      </dl>
    </section>
  );
}

const STATUS_TEXT: Record<Ticket["status"], string> = {
  Open: "Your request is open: the support team will answer here.",
  Pending: "The support team is working on your request.",
  Closed: "Your request is closed. Reply below if you still need help.",
};

/** One public reply, as the requester sees it: from "Support" or from "You". */
export function RequestReply({ reply, now }: { reply: Comment; now: Date }) {
  const mine = reply.from_requester;
  return (
    <li
      class={`reply ${mine ? "reply-mine" : "reply-support"}`}
      id={`reply-${reply.id}`}
    >
      <p class="comment-meta">
        <strong>{mine ? "You" : "Support team"}</strong>{" "}
        <When iso={reply.created_at} now={now} />
      </p>
      <div class="text">{reply.body}</div>
    </li>
  );
}

export interface RequesterPageProps {
  ticket: Ticket;
  replies: Comment[];
  token: string;
  now: Date;
  assets: RequesterAssets;
  /** The newest event the page shows: its live stream resumes there. */
  after: number;
  draft?: string;
  error?: string;
  /** Shown once after a reply was sent (no-JavaScript path). */
  sent?: boolean;
}

/** The requester's status page: status, public replies, a reply box; live, and complete without JavaScript. */
export function RequesterPage(p: RequesterPageProps) {
  const t = p.ticket;
  return RequesterLayout({
    title: `Request #${t.id} · Support`,
    styles: p.assets.styles,
    scripts: p.assets.scripts,
    children: (
      <>
        <LiveStream
          watch={{ channel: `request=${p.token}`, after: p.after }}
          user=""
          worker={p.assets.worker}
          hub={REQUESTER_HUB}
        />
        <hgroup>
          <h1>Your request #{t.id}</h1>
          <p>
            This page updates by itself.{" "}
            <span
              id="live-status"
              class="live-status"
              data-state="connecting"
              role="status"
              aria-live="polite"
            >
              Connecting…
            </span>
          </p>
        </hgroup>
        <RequestStatusPanel ticket={t} now={p.now} />
        <section id="request-thread" aria-labelledby="request-thread-title">
          <h2 id="request-thread-title">Replies</h2>
          <ol class="comments replies" id="replies" aria-live="polite">
            {p.replies.map((r) => (
              <RequestReply key={r.id} reply={r} now={p.now} />
            ))}
          </ol>
          <p class="muted no-replies">No replies yet.</p>
          <form
            method="post"
            action={`/r/${p.token}`}
            class="comment-form"
            id="reply-form"
          >
            {p.sent && <p class="saved" role="status">Reply sent.</p>}
            <label for="reply-body">Your reply</label>
            <textarea
              id="reply-body"
              name="body"
              rows={4}
              required
              maxlength={MAX_TEXT}
              aria-invalid={p.error ? "true" : undefined}
              aria-describedby={p.error ? "reply-error" : "reply-help"}
            >
              {"\n" + (p.draft ?? "")}
            </textarea>
            {p.error
              ? <small id="reply-error">{p.error}</small>
              : (
                <small id="reply-help">
                  {t.status === "Closed"
                    ? "Replying opens your request again."
                    : "The support team sees your reply at once."}
                </small>
              )}
            <button type="submit" id="reply-submit">Send reply</button>
          </form>
        </section>
      </>
    ),
  });
}

/** The page for a link that opens nothing: unknown, mistyped or revoked look alike. */
export function RequestNotFoundPage({ styles }: { styles: string[] }) {
  return RequesterLayout({
    title: "Not found · Support",
    styles,
    children: (
      <article>
        <h1>This link does not work</h1>
        <p>
          It may be mistyped, or the support team has replaced it. Open your
          request again from the app, or ask the support team for a new link.
        </p>
      </article>
    ),
  });
}

/** On the agent's ticket page: the requester's link, and the button that revokes it. */
export function RequesterLinkPanel(
  { ticketId, url, notice }: { ticketId: number; url: string; notice?: string },
) {
  return (
    <section
      id="requester-link"
      aria-labelledby="requester-link-title"
      class="requester-link"
    >
      <h2 id="requester-link-title">Requester's status page</h2>
      {notice && <p class="saved" role="status">{notice}</p>}
      <p>
        The requester sees the status and public replies here, and can reply:
      </p>
      <input
        type="text"
        readonly
        value={url}
        aria-label="Link to the requester's status page"
        class="key-value"
        id="requester-url"
      />
      <form
        method="post"
        action={`/tickets/${ticketId}/requester-link/revoke`}
        hx-post={`/tickets/${ticketId}/requester-link/revoke`}
        hx-target="#requester-link"
        hx-swap="outerHTML"
        hx-confirm="Revoke this link? The requester's page stops working until they get the new link."
      >
        <button
          type="submit"
          class="secondary outline"
          id="requester-link-revoke"
        >
          Revoke link
        </button>
      </form>
    </section>
  );
}
