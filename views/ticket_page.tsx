/** The ticket page: fields, status, description edited in place, comment thread, activity. */
import type {
  Comment,
  Ticket,
  TicketEvent,
  TicketWithComments,
  User,
} from "../db/store.ts";
import { LiveDock, LiveIndicator, LiveStream } from "./live.tsx";
import { RequesterLinkPanel } from "./requester_page.tsx";
import { UserMenu } from "./user_menu.tsx";
import type { PageAssets } from "./dashboard_page.tsx";
import { Layout } from "./layout.tsx";
import { changeText, UndoOffer } from "./undo.tsx";
import type { UndoChange } from "../lib/undo.ts";
import {
  AssigneePicker,
  Owner,
  OwnerButtons,
  PriorityBadge,
  PriorityButtons,
} from "./triage.tsx";
import { MAX_TEXT } from "../lib/fields.ts";
import {
  exactTime,
  PdfLink,
  StatusBadge,
  StatusButtons,
  When,
} from "./ticket_card.tsx";

/** Where a ticket page's forms send a browser without JavaScript, keeping the dashboard filter. */
function pageHref(
  id: number,
  back: string,
  { edit = false, hash = "" } = {},
): string {
  const params = new URLSearchParams();
  if (edit) params.set("edit", "description");
  if (back !== "/dashboard") params.set("back", back);
  const query = params.toString();
  return `/tickets/${id}${query ? `?${query}` : ""}${hash}`;
}

/** A textarea's text; the HTML parser drops one leading newline, so give it one to drop. */
const textareaText = (s: string) => "\n" + s;

function BackField({ back }: { back: string }) {
  return <input type="hidden" name="back" value={back} />;
}

/**
 * Status, owner and priority, with their buttons; a refused change shows
 * what the ticket is now (and, before taking a ticket from someone, asks).
 */
export function TriagePanel(
  { ticket, users, notice, confirmOwner }: {
    ticket: Ticket;
    /** Active users, for the owner picker. */
    users: string[];
    notice?: string;
    confirmOwner?: { assignee: string; label: string };
  },
) {
  return (
    <section
      id="ticket-status"
      aria-labelledby="ticket-status-title"
      class="status-panel"
      data-owner={ticket.assignee ?? ""}
    >
      <h2 id="ticket-status-title">
        Status <StatusBadge status={ticket.status} />
      </h2>
      {notice && (
        <div class="notice" role="alert">
          <p>{notice}</p>
          {confirmOwner && (
            <form method="post" action={`/tickets/${ticket.id}/assignee`}>
              <input
                type="hidden"
                name="version"
                value={String(ticket.version)}
              />
              <input type="hidden" name="seen" value={ticket.assignee ?? ""} />
              <input type="hidden" name="view" value="page" />
              <input type="hidden" name="confirm" value="1" />
              <input
                type="hidden"
                name="assignee"
                value={confirmOwner.assignee}
              />
              <button
                type="submit"
                hx-post={`/tickets/${ticket.id}/assignee`}
                hx-target="#ticket-status"
                hx-swap="outerHTML"
                data-swap-focus
              >
                {confirmOwner.label}
              </button>
            </form>
          )}
        </div>
      )}
      <StatusButtons ticket={ticket} view="page" idPrefix="ticket-status" />
      <h3>
        Owner <Owner assignee={ticket.assignee} disabled={false} />
      </h3>
      <OwnerButtons ticket={ticket} view="page" target="#ticket-status" />
      <AssigneePicker
        ticket={ticket}
        users={users}
        view="page"
        target="#ticket-status"
        idPrefix="ticket-status"
      />
      <h3>
        Priority <PriorityBadge priority={ticket.priority} />
      </h3>
      <PriorityButtons
        ticket={ticket}
        view="page"
        target="#ticket-status"
        idPrefix="ticket-status"
      />
    </section>
  );
}

/** A link's htmx attributes to swap the description panel: its editor, or back to the text. */
function swapDescription(id: number, back: string, to: "edit" | "view") {
  return {
    "hx-get": `/tickets/${id}/description${to === "edit" ? "/edit" : ""}?back=${
      encodeURIComponent(back)
    }`,
    "hx-target": "#description",
    "hx-swap": "outerHTML",
    role: "button",
    class: "secondary outline",
  };
}

/** The description as text, with the button that swaps in the editor. */
export function DescriptionView(
  { ticket, back, saved = false }: {
    ticket: Ticket;
    back: string;
    saved?: boolean;
  },
) {
  return (
    <section id="description" aria-labelledby="description-title">
      <h2 id="description-title">Description</h2>
      {saved && <p class="saved" role="status">Saved.</p>}
      {ticket.description
        ? <div class="text">{ticket.description}</div>
        : <p class="muted">No description yet.</p>}
      <a
        href={pageHref(ticket.id, back, { edit: true, hash: "#description" })}
        {...swapDescription(ticket.id, back, "edit")}
        id="description-edit"
        data-swap-focus
      >
        {ticket.description ? "Edit description" : "Add a description"}
      </a>
    </section>
  );
}

export interface DescriptionFormProps {
  ticket: Ticket;
  back: string;
  /** The text in the box: the admin's own when re-showing it. */
  draft?: string;
  /** Set when the save was refused because someone changed the description meanwhile. */
  conflict?: { mine: string; by: string | null };
  error?: string;
}

/** The description editor; after a conflict it shows the current text beside the admin's. */
export function DescriptionForm(
  { ticket, back, draft, conflict, error }: DescriptionFormProps,
) {
  const value = conflict?.mine ?? draft ?? ticket.description;
  return (
    <form
      id="description"
      method="post"
      action={`/tickets/${ticket.id}/description`}
      hx-post={`/tickets/${ticket.id}/description`}
      hx-target="this"
      hx-swap="outerHTML"
      class={conflict ? "conflict" : undefined}
      aria-labelledby="description-title"
    >
      <h2 id="description-title">Description</h2>
      {conflict && (
        <div role="alert" class="notice">
          <p>
            <strong>
              Not saved: the description changed while you were editing
            </strong>
            {conflict.by ? ` (by ${conflict.by})` : ""}. Compare, then save
            yours over it or discard yours.
          </p>
          <h3>Current description</h3>
          <div class="text current">
            {ticket.description || <em>(empty)</em>}
          </div>
        </div>
      )}
      <input type="hidden" name="version" value={String(ticket.version)} />
      <input type="hidden" name="seen" value={ticket.description} />
      <BackField back={back} />
      <label for="description-text">
        {conflict ? "Your version" : "Description"}
      </label>
      <textarea
        id="description-text"
        name="description"
        rows={8}
        maxlength={MAX_TEXT}
        autofocus
        aria-invalid={error ? "true" : undefined}
        aria-describedby={error ? "description-error" : undefined}
      >
        {textareaText(value)}
      </textarea>
      {error && <small id="description-error">{error}</small>}
      <div role="group" class="form-actions">
        <button type="submit">{conflict ? "Save mine over it" : "Save"}</button>
        <a
          href={pageHref(ticket.id, back, { hash: "#description" })}
          {...swapDescription(ticket.id, back, "view")}
        >
          {conflict ? "Discard mine" : "Cancel"}
        </a>
      </div>
    </form>
  );
}

/** The comment thread (legacy text first) and the form that appends to it. */
export function Thread(
  { ticket, back, now, draft = "", error, announce }: {
    ticket: TicketWithComments;
    back: string;
    now: Date;
    draft?: string;
    error?: string;
    /** Said by screen readers after the swap (static/app.js), e.g. "Comment added". */
    announce?: string;
  },
) {
  const legacy = ticket.comments.trim();
  const n = ticket.comment_list.length + (legacy ? 1 : 0);
  return (
    <section
      id="thread"
      aria-labelledby="thread-title"
      data-announce={announce}
    >
      <h2 id="thread-title">
        Comments <span class="muted">({n})</span>
      </h2>
      {n === 0 ? <p class="muted">No comments yet.</p> : (
        <ol class="comments">
          {legacy && (
            <li class="comment legacy" id="comment-legacy">
              <p class="comment-meta">
                <strong>Earlier notes</strong>{" "}
                <span class="muted">(from the old system)</span>
              </p>
              <div class="text">{legacy}</div>
            </li>
          )}
          {ticket.comment_list.map((c) => (
            <li
              class={`comment comment-${c.visibility}`}
              id={`comment-${c.id}`}
            >
              <p class="comment-meta">
                <CommentKind comment={c} /> <strong>{c.author}</strong>{" "}
                <When iso={c.created_at} now={now} />
              </p>
              <div class="text">{c.body}</div>
            </li>
          ))}
        </ol>
      )}
      <form
        method="post"
        action={`/tickets/${ticket.id}/comments`}
        hx-post={`/tickets/${ticket.id}/comments`}
        hx-target="#thread"
        hx-swap="outerHTML"
        class="comment-form"
      >
        <BackField back={back} />
        <label for="comment-body">Add a note or a reply</label>
        <textarea
          id="comment-body"
          name="body"
          rows={3}
          required
          maxlength={MAX_TEXT}
          aria-invalid={error ? "true" : undefined}
          aria-describedby={error
            ? "comment-error comment-help"
            : "comment-help"}
        >
          {textareaText(draft)}
        </textarea>
        {error && <small id="comment-error">{error}</small>}
        <small id="comment-help">
          An internal note is for agents only. A reply is also shown to the
          requester, on their status page.
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
    </section>
  );
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

function describeEvent(e: TicketEvent): string {
  if (e.type === "ticket.created") return "created the ticket";
  if (e.type === "requester.revoked") return "revoked the requester link";
  if (e.type === "comment.added") {
    if (e.data.visibility !== "public") return "added an internal note";
    return e.data.from_requester
      ? "replied (the requester)"
      : "replied to the requester";
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

/** Who did what and when, from the events table. */
export function Activity(
  { events, now, oob = false }: {
    events: TicketEvent[];
    now: Date;
    /** Sent alongside another fragment: htmx swaps it in by id. */
    oob?: boolean;
  },
) {
  return (
    <section
      id="activity"
      aria-labelledby="activity-title"
      hx-swap-oob={oob ? "true" : undefined}
    >
      <h2 id="activity-title">Activity</h2>
      <ol class="activity">
        {[...events].reverse().map((e) => (
          <li>
            <strong>{e.actor}</strong> {describeEvent(e)}{" "}
            <When iso={e.created_at} now={now} />
          </li>
        ))}
      </ol>
    </section>
  );
}

/** The last actor who changed a field, for conflict messages. */
export function lastChangedBy(
  events: TicketEvent[],
  field: "status" | "description",
): string | null {
  for (let i = events.length - 1; i >= 0; i--) {
    const e = events[i]!;
    const changes = e.data.changes as Record<string, unknown> | undefined;
    if (e.type === "ticket.updated" && changes?.[field]) return e.actor;
  }
  return null;
}

export interface TicketPageProps {
  ticket: TicketWithComments;
  events: TicketEvent[];
  back: string;
  now: Date;
  assets: PageAssets;
  /** Open the description editor (the no-JS path to editing). */
  editing?: boolean;
  /** A refused description save, shown as a conflict (no-JS path). */
  conflict?: DescriptionFormProps["conflict"];
  /** A refused status change (no-JS path). */
  statusNotice?: string;
  /** A refused description, shown in the editor with the message beside it (no-JS path). */
  descriptionDraft?: string;
  descriptionError?: string;
  /** A refused comment, kept in the box with the message beside it (no-JS path). */
  commentDraft?: string;
  commentError?: string;
  user: Pick<User, "username" | "role">;
  /** Active users, for the owner picker. */
  users: string[];
  /** The requester's status page, shown with the button that revokes it. */
  requesterUrl?: string;
  /** What this page watches live (the ticket's channel and resume point), and the hub's script. */
  live: { watch: { channel: string; after: number }; worker: string };
  /** An Undo offer carried by the URL (the no-JavaScript answer to a quick change). */
  undo?: UndoChange;
}

/** The whole ticket page. */
export function TicketPage(p: TicketPageProps) {
  const t = p.ticket;
  const editor = p.editing || p.conflict || p.descriptionError;
  return (
    "<!doctype html>" +
    (
      <Layout
        title={`#${t.id} ${t.user_id} · Ticket desk`}
        styles={p.assets.styles}
        scripts={p.assets.scripts}
        connection={<LiveIndicator />}
        user={<UserMenu user={p.user} />}
      >
        <LiveStream
          watch={p.live.watch}
          worker={p.live.worker}
          user={p.user.username}
          ticket={t.id}
        />
        <p class="back">
          <a href={p.back} id="back-link">← Back to tickets</a>
        </p>
        {/* Who else has this ticket open (static/live.js keeps it true). */}
        <p id="presence" class="presence" role="status" aria-live="polite"></p>
        <hgroup>
          <h1>Ticket #{t.id}</h1>
          <p>
            From <strong>{t.user_id}</strong>, created{" "}
            <When iso={t.created_at} now={p.now} />
          </p>
        </hgroup>
        <div class="ticket-layout">
          <div class="ticket-main">
            {editor
              ? (
                <DescriptionForm
                  ticket={t}
                  back={p.back}
                  draft={p.descriptionDraft}
                  error={p.descriptionError}
                  {...(p.conflict ? { conflict: p.conflict } : {})}
                />
              )
              : <DescriptionView ticket={t} back={p.back} />}
            <Thread
              ticket={t}
              back={p.back}
              now={p.now}
              draft={p.commentDraft}
              error={p.commentError}
            />
          </div>
          <aside class="ticket-side" aria-label="Details">
            <TriagePanel ticket={t} users={p.users} notice={p.statusNotice} />
            <section aria-labelledby="fields-title">
              <h2 id="fields-title">Details</h2>
              <dl class="fields">
                <dt>User</dt>
                <dd>{t.user_id}</dd>
                <dt>Product</dt>
                <dd>{t.product_id ?? "—"}</dd>
                <dt>Other IDs</dt>
                <dd>{t.other_ids ?? "—"}</dd>
                <dt>PDF</dt>
                <dd class="pdf">
                  <PdfLink href={t.pdf_link} label={t.pdf_link} />
                </dd>
                <dt>Created</dt>
                <dd>{exactTime(t.created_at)}</dd>
                <dt>Updated</dt>
                <dd>
                  <When iso={t.updated_at} now={p.now} />
                </dd>
              </dl>
            </section>
            {p.requesterUrl && (
              <RequesterLinkPanel ticketId={t.id} url={p.requesterUrl} />
            )}
            <Activity events={p.events} now={p.now} />
          </aside>
        </div>
        <LiveDock
          undo={p.undo && (
            <UndoOffer
              text={changeText(p.undo, p.user.username)}
              changes={[p.undo]}
              view="page"
              back={p.back}
            />
          )}
        />
      </Layout>
    )
  );
}
