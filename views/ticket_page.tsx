/** The ticket page: fields, status, description edited in place, the timeline, and the way to the next ticket. */
import type {
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
import { textareaText, Thread } from "./ticket_timeline.tsx";

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
          id="description-cancel"
          aria-keyshortcuts="Escape"
        >
          {conflict ? "Discard mine" : "Cancel"}
        </a>
      </div>
    </form>
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

/** Where "← Previous ticket" and "Next ticket →" go in the list the page was opened from; null at its ends. */
export interface TicketNavLinks {
  prev: string | null;
  next: string | null;
}

/**
 * The way through the list the ticket was opened from, as plain links (`k`
 * and `j` follow them, or the board's own order when it has one), and what
 * stands at an end of the list instead.
 */
export function TicketNav({ nav }: { nav: TicketNavLinks }) {
  return (
    <nav class="ticket-nav" aria-label="Tickets in this list">
      {nav.prev
        ? (
          <a href={nav.prev} id="ticket-prev" rel="prev" aria-keyshortcuts="k">
            ← Previous ticket
          </a>
        )
        : <span class="muted" id="ticket-prev">First in this list</span>}
      {nav.next
        ? (
          <a href={nav.next} id="ticket-next" rel="next" aria-keyshortcuts="j">
            Next ticket →
          </a>
        )
        : <span class="muted" id="ticket-next">Last in this list</span>}
      {/* Said when j or k finds no ticket that way (static/ticket_page.js). */}
      <span id="ticket-nav-status" class="nav-status" role="status"></span>
    </nav>
  );
}

/** The ticket's fields; its id lets a live update swap it. */
export function TicketDetails(
  { ticket: t, now }: { ticket: Ticket; now: Date },
) {
  return (
    <section id="ticket-details" aria-labelledby="fields-title">
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
          <When iso={t.updated_at} now={now} />
        </dd>
      </dl>
    </section>
  );
}

export interface TicketPageProps {
  ticket: TicketWithComments;
  events: TicketEvent[];
  back: string;
  now: Date;
  assets: PageAssets;
  /** The previous and next ticket of the list in `back`. */
  nav: TicketNavLinks;
  /** Show the timeline's comments only (`?thread=comments`). */
  commentsOnly?: boolean;
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

/** The Undo offer a page carries in its URL; one for another ticket (Shift+C moved on from it) is a plain form, which lands back on that ticket. */
function PageUndo(
  { undo, ticket, user, back }: {
    undo: UndoChange;
    ticket: number;
    user: string;
    back: string;
  },
) {
  const offer = (
    <UndoOffer
      text={changeText(undo, user)}
      changes={[undo]}
      view="page"
      back={back}
    />
  );
  // Swapped with htmx, its answer would put the other ticket's panel here.
  return undo.id === ticket ? offer : <div hx-ignore>{offer}</div>;
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
        <div class="ticket-top">
          <p class="back">
            <a href={p.back} id="back-link">← Back to tickets</a>
          </p>
          <TicketNav nav={p.nav} />
        </div>
        {/* Who else has this ticket open (static/live.js keeps it true). */}
        <p id="presence" class="presence" role="status" aria-live="polite"></p>
        <hgroup>
          <h1>Ticket #{t.id}</h1>
          <p>
            From <strong>{t.user_id}</strong>, created{" "}
            <When iso={t.created_at} now={p.now} />
          </p>
        </hgroup>
        {/* The status panel comes first: on a phone it is the first thing under the title. */}
        <div class="ticket-layout" data-ticket-id={String(t.id)}>
          <TriagePanel ticket={t} users={p.users} notice={p.statusNotice} />
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
              events={p.events}
              back={p.back}
              now={p.now}
              commentsOnly={p.commentsOnly}
              draft={p.commentDraft}
              error={p.commentError}
            />
          </div>
          <aside class="ticket-side" aria-label="Details">
            <TicketDetails ticket={t} now={p.now} />
            {p.requesterUrl && (
              <RequesterLinkPanel ticketId={t.id} url={p.requesterUrl} />
            )}
          </aside>
        </div>
        <LiveDock
          undo={p.undo && (
            <PageUndo
              undo={p.undo}
              ticket={t.id}
              user={p.user.username}
              back={p.back}
            />
          )}
        />
      </Layout>
    )
  );
}
