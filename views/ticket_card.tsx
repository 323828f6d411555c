/**
 * The dashboard's pieces: TicketCard (the one component the page, the
 * quick-status POST and the live stream all render), the card grid, the status
 * tabs and the empty states.
 */
import type { Child } from "hono/jsx";
import { cardId } from "./card_id.ts";
import { LiveStream, type LiveStreamProps } from "./live.tsx";
import { ageText, relativeTime } from "./relative_time.ts";
import {
  Choice,
  Owner,
  OWNER_TABS,
  OwnerButtons,
  ownerCountId,
  PriorityBadge,
  SelectBox,
  SwapForm,
  type TabCounts,
} from "./triage.tsx";
import {
  BOARD_LAYOUTS,
  type BoardLayout,
  MATCH_END,
  MATCH_START,
  PRIORITIES,
  type Priority,
  type Sort,
  type Status,
  STATUSES,
  type TicketListItem,
  type TicketSummary,
  type TicketWithComments,
} from "../db/store.ts";
import {
  DEFAULT_VIEW,
  STATUS_VIEWS,
  type StatusView,
  statusViewLabel,
} from "../lib/status_view.ts";

/** What the dashboard shows; it lives in the URL (?status=&q=&product=&assignee=&priority=&sort=). */
export interface DashboardFilter {
  /** The status view; unsolved (Open and Pending) when absent. */
  status?: StatusView;
  q?: string;
  product?: string;
  /** `@me`, `@none` or a user's name (`@`, because `me` is a valid user name). */
  assignee?: string;
  priority?: Priority;
  /** Newest first when absent. */
  sort?: Sort;
}

/** The dashboard URL of a filter, with only the parameters that are set. */
export function dashboardHref(
  f: DashboardFilter,
  path = "/dashboard",
  extra: Record<string, string> = {},
): string {
  const params = new URLSearchParams();
  if (f.status && f.status !== DEFAULT_VIEW) params.set("status", f.status);
  if (f.assignee) params.set("assignee", f.assignee);
  if (f.priority) params.set("priority", f.priority);
  if (f.sort && f.sort !== "newest") params.set("sort", f.sort);
  if (f.q) params.set("q", f.q);
  if (f.product) params.set("product", f.product);
  for (const [k, v] of Object.entries(extra)) params.set(k, v);
  const query = params.toString();
  return query ? `${path}?${query}` : path;
}

export { cardId };

/** An exact UTC time for title attributes: 2026-11-25 12:14 UTC. */
export function exactTime(iso: string): string {
  return iso.slice(0, 16).replace("T", " ") + " UTC";
}

/** A <time> showing the relative time, the exact one on hover and to assistive tech. */
export function When({ iso, now }: { iso: string; now: Date }) {
  return (
    <time datetime={iso} title={exactTime(iso)} data-relative>
      {relativeTime(iso, now)}
    </time>
  );
}

/** A ticket read on its own in the shape a list query returns, to render its card. */
export function listItemOf(t: TicketWithComments): TicketListItem {
  const { comment_list, ...ticket } = t;
  const legacy = t.comments.trim() ? 1 : 0;
  return {
    ...ticket,
    comment_count: comment_list.length + legacy,
    match: null,
  };
}

/** The status as text plus colour (never colour alone). */
export function StatusBadge({ status }: { status: Status }) {
  return (
    <span class={`badge badge-${status.toLowerCase()}`}>
      <span aria-hidden="true" class="badge-dot"></span>
      {status}
    </span>
  );
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

/** Wraps every word-start occurrence of a search term in <mark>; text stays escaped by JSX. */
export function Highlight({ text, terms }: { text: string; terms: string[] }) {
  if (terms.length === 0 || text === "") return <>{text}</>;
  const re = new RegExp(
    `(?<![\\p{L}\\p{N}])(?:${terms.map(escapeRegExp).join("|")})`,
    "giu",
  );
  const parts: Child[] = [];
  let last = 0;
  for (const m of text.matchAll(re)) {
    if (m[0] === "") continue;
    parts.push(text.slice(last, m.index), <mark>{m[0]}</mark>);
    last = m.index + m[0].length;
  }
  parts.push(text.slice(last));
  return <>{parts}</>;
}

/** Renders an excerpt the store marked with MATCH_START/MATCH_END as text and <mark>s. */
export function MarkedExcerpt({ text }: { text: string }) {
  const parts: Child[] = [];
  for (const [i, piece] of text.split(MATCH_START).entries()) {
    if (i === 0) {
      parts.push(piece.replaceAll(MATCH_END, ""));
      continue;
    }
    const end = piece.indexOf(MATCH_END);
    if (end < 0) parts.push(piece);
    else parts.push(<mark>{piece.slice(0, end)}</mark>, piece.slice(end + 1));
  }
  return <>{parts}</>;
}

const EXCERPT = 180;

/** The part of a description to show: its start, or the window around the first hit. */
export function excerpt(text: string, terms: string[]): string {
  const flat = text.replace(/\s+/g, " ").trim();
  if (flat.length <= EXCERPT) return flat;
  const lower = flat.toLowerCase();
  const hit = terms.map((t) => lower.indexOf(t.toLowerCase()))
    .filter((i) => i >= 0).sort((a, b) => a - b)[0];
  if (hit === undefined || hit < EXCERPT - 40) {
    return flat.slice(0, EXCERPT - 1).trimEnd() + "…";
  }
  const start = Math.max(0, hit - 60);
  return "…" + flat.slice(start, start + EXCERPT - 2).trim() + "…";
}

/** True for links the dashboard may render as clickable: absolute http(s) only. */
export function isWebLink(href: string): boolean {
  const url = URL.parse(href);
  return url !== null &&
    (url.protocol === "http:" || url.protocol === "https:");
}

/** A ticket's PDF link: new tab, no referrer, no follow; plain text if not http(s). */
export function PdfLink({ href, label }: { href: string; label: Child }) {
  if (!isWebLink(href)) {
    return <span title={href}>{label} (unsafe link hidden)</span>;
  }
  return (
    <a href={href} target="_blank" rel="noopener noreferrer nofollow">
      {label}
      <span class="visually-hidden">(opens in a new tab)</span>
    </a>
  );
}

/** The three status buttons posting to /tickets/:id/status, as a form that works without JS. */
export function StatusButtons(
  { ticket, view, idPrefix }: {
    ticket: { id: number; status: Status; version: number };
    /** Which fragment the POST answers with: the card or the ticket page's status panel. */
    view: "card" | "page";
    idPrefix: string;
    back?: string;
  },
) {
  const target = view === "card" ? `#${cardId(ticket.id)}` : `#${idPrefix}`;
  return (
    <form
      method="post"
      action={`/tickets/${ticket.id}/status`}
      hx-post={`/tickets/${ticket.id}/status`}
      hx-target={target}
      hx-swap="outerHTML"
      class="status-buttons"
      aria-label={`Set the status of ticket ${ticket.id}`}
    >
      <input type="hidden" name="version" value={String(ticket.version)} />
      <input type="hidden" name="seen" value={ticket.status} />
      <input type="hidden" name="view" value={view} />
      <div role="group">
        {STATUSES.map((s) => (
          <button
            type="submit"
            name="status"
            value={s}
            id={`${idPrefix}-set-${s.toLowerCase()}`}
            aria-pressed={s === ticket.status ? "true" : "false"}
            class={`status-button status-${s.toLowerCase()}${
              s === ticket.status ? "" : " outline secondary"
            }`}
            data-status-key={s[0]!.toLowerCase()}
          >
            {s}
          </button>
        ))}
      </div>
    </form>
  );
}

export interface TicketCardProps {
  /** A listed ticket (with its search excerpt), or one read on its own. */
  ticket: TicketSummary & { match?: string | null };
  now: Date;
  /** Search words to highlight (none in the live stream). */
  terms?: string[];
  /** A message about this card, e.g. after a conflicting quick change. */
  notice?: string;
  /** Asks before taking a ticket from its owner: the confirming button's owner value. */
  confirmOwner?: { assignee: string; label: string };
  /** Owners who are disabled (their tickets say so until someone takes them). */
  disabledOwners?: ReadonlySet<string>;
  /** The viewer, when the card is rendered for one (a page, not the stream): marks their own cards. */
  viewer?: string;
}

/** How long a ticket has waited: still waiting (kept fresh by the page script), or how long it took to close. */
export function Waited({ ticket: t, now }: {
  ticket: Pick<
    TicketSummary,
    "status" | "created_at" | "resolved_at" | "updated_at"
  >;
  now: Date;
}) {
  if (t.status === "Closed") {
    const closed = t.resolved_at ?? t.updated_at;
    return (
      <span class="waited" title={`Created ${exactTime(t.created_at)}`}>
        <span class="waited-word">closed after</span>{" "}
        {ageText(t.created_at, new Date(closed))}
      </span>
    );
  }
  return (
    <span class="waited" title={`Waiting since ${exactTime(t.created_at)}`}>
      <span class="waited-word">waiting</span>{" "}
      <time datetime={t.created_at} data-age>
        {ageText(t.created_at, now)}
      </time>
    </span>
  );
}

/**
 * One ticket on the dashboard. Same markup for page, quick action and
 * stream, and for both layouts: the board's container (a card grid or a
 * list of rows) lays it out. The only per-viewer touch is the `mine` class,
 * which the page script also sets on cards that arrive over the stream.
 */
export function TicketCard(
  {
    ticket: t,
    now,
    terms = [],
    notice,
    confirmOwner,
    disabledOwners,
    viewer,
  }: TicketCardProps,
) {
  const id = cardId(t.id);
  const comments = t.comment_count === 1
    ? "1 comment"
    : `${t.comment_count} comments`;
  const mine = viewer !== undefined && t.assignee === viewer;
  return (
    <article
      id={id}
      class={`ticket-card status-${t.status.toLowerCase()} priority-${t.priority.toLowerCase()}${
        mine ? " mine" : ""
      }`}
      tabindex={-1}
      aria-labelledby={`${id}-title`}
      data-ticket-id={String(t.id)}
      data-owner={t.assignee ?? ""}
    >
      <header>
        <SelectBox ticket={t} />
        <h3 id={`${id}-title`}>
          <a href={`/tickets/${t.id}`} class="ticket-link" data-open>
            <span class="visually-hidden">Ticket</span> #{t.id}
          </a>
        </h3>
        <StatusBadge status={t.status} />
        <PriorityBadge priority={t.priority} />
      </header>
      {notice && !confirmOwner && <p class="notice" role="alert">{notice}</p>}
      {notice && confirmOwner && (
        <div class="notice" role="alert">
          <p>{notice}</p>
          {
            <form
              method="post"
              action={`/tickets/${t.id}/assignee`}
              hx-post={`/tickets/${t.id}/assignee`}
              hx-target={`#${id}`}
              hx-swap="outerHTML"
            >
              <input type="hidden" name="version" value={String(t.version)} />
              <input type="hidden" name="seen" value={t.assignee ?? ""} />
              <input type="hidden" name="view" value="card" />
              <input type="hidden" name="confirm" value="1" />
              <input
                type="hidden"
                name="assignee"
                value={confirmOwner.assignee}
              />
              <button type="submit" data-swap-focus>
                {confirmOwner.label}
              </button>
            </form>
          }
        </div>
      )}
      {/* The labels are for assistive tech: on screen, the place and style say what each is. */}
      <dl class="ticket-ids">
        <dt class="visually-hidden">Owner</dt>
        <dd class="card-owner">
          <Owner
            assignee={t.assignee}
            disabled={Boolean(t.assignee && disabledOwners?.has(t.assignee))}
          />
        </dd>
        <dt class="visually-hidden">User</dt>
        <dd class="card-user">
          <Highlight text={t.user_id} terms={terms} />
        </dd>
        <dt class="visually-hidden">Product</dt>
        <dd class="card-product">
          {t.product_id
            ? <Highlight text={t.product_id} terms={terms} />
            : <span class="muted">no product</span>}
        </dd>
        {t.other_ids && (
          <>
            <dt class="visually-hidden">Other IDs</dt>
            <dd class="card-other">
              <Highlight text={t.other_ids} terms={terms} />
            </dd>
          </>
        )}
      </dl>
      <p class="excerpt">
        {t.description
          ? <Highlight text={excerpt(t.description, terms)} terms={terms} />
          : <em class="muted">No description yet</em>}
      </p>
      {t.match && (
        <p class="match">
          <span class="muted">In comments:</span>{" "}
          <MarkedExcerpt text={t.match} />
        </p>
      )}
      <p class="meta">
        <Waited ticket={t} now={now} />
        <span class="sep" aria-hidden="true">·</span>
        <span class="active">
          <span class="active-word">active</span>{" "}
          <When iso={t.updated_at} now={now} />
        </span>
        <span class="sep" aria-hidden="true">·</span>
        <span class="card-pdf">
          <PdfLink href={t.pdf_link} label="PDF" />
        </span>
        <span class="sep" aria-hidden="true">·</span>
        <span class="card-comments">{comments}</span>
      </p>
      <footer>
        <StatusButtons ticket={t} view="card" idPrefix={id} />
        <div class="card-triage">
          <OwnerButtons ticket={t} view="card" target={`#${id}`} />
          <PrioritySelect ticket={t} idPrefix={id} />
        </div>
      </footer>
    </article>
  );
}

/** A card's priority: a select that saves on change (with htmx) or with its button. */
function PrioritySelect(
  { ticket, idPrefix }: {
    ticket: Pick<TicketSummary, "id" | "version" | "priority">;
    idPrefix: string;
  },
) {
  const action = `/tickets/${ticket.id}/priority`;
  const id = `${idPrefix}-priority`;
  return (
    <SwapForm
      action={action}
      target={`#${cardId(ticket.id)}`}
      trigger="change"
      class="priority-select"
    >
      <input type="hidden" name="version" value={String(ticket.version)} />
      <input type="hidden" name="seen" value={ticket.priority} />
      <input type="hidden" name="view" value="card" />
      <label for={id} class="visually-hidden">
        Priority of ticket {ticket.id}
      </label>
      <select id={id} name="priority" data-priority-select>
        {PRIORITIES.map((p) => (
          <Choice key={p} value={p} selected={p === ticket.priority}>
            {p}
          </Choice>
        ))}
      </select>
      <button type="submit" class="secondary outline no-js">Set</button>
    </SwapForm>
  );
}

/** A count as a tab shows it: 1,234, or "10,000+" when counting stopped at a cap. */
export function countText(n: number, capped = false): string {
  return `${n.toLocaleString("en")}${capped ? "+" : ""}`;
}

function TabCount(
  { id, label, n, capped, oob = false, data }: {
    id: string;
    label: string;
    n: number;
    capped?: boolean;
    oob?: boolean;
    data?: Record<string, number>;
  },
) {
  return (
    <span
      class="count"
      id={id}
      data-count={label}
      hx-swap-oob={oob ? "true" : undefined}
      data-by-owner={data ? JSON.stringify(data) : undefined}
      data-capped={capped ? "" : undefined}
      title={capped ? "At least this many: counting stopped there" : undefined}
    >
      {countText(n, capped)}
    </span>
  );
}

const statusCountId = (view: StatusView) => `count-${view.toLowerCase()}`;

/**
 * The tab counts alone, swapped in by id next to a card whose status or owner
 * changed. The Mine count is the viewer's own: the page script reads it from
 * the per-owner numbers the All count carries (the stream's bytes are the
 * same for every viewer).
 */
export function CountsUpdate({ counts }: { counts: TabCounts }) {
  return (
    <>
      {STATUS_VIEWS.map((view) => (
        <TabCount
          key={view}
          id={statusCountId(view)}
          label={statusViewLabel(view)}
          n={counts.status[view]}
          capped={counts.capped}
          oob
        />
      ))}
      <TabCount
        id={ownerCountId("All")}
        label="Owner: All"
        n={counts.owner.all}
        capped={counts.capped}
        oob
        data={counts.byOwner}
      />
      <TabCount
        id={ownerCountId("Unassigned")}
        label="Owner: Unassigned"
        n={counts.owner.none}
        capped={counts.capped}
        oob
      />
    </>
  );
}

function TabLink(
  { href, id, current, status, children }: {
    href: string;
    id: string;
    current: boolean;
    /** A status tab's view, for its colour. */
    status?: StatusView;
    children?: Child;
  },
) {
  return (
    <li class={status ? `tab-${status.toLowerCase()}` : undefined}>
      <a
        href={href}
        hx-get={href}
        hx-target="#board"
        hx-swap="outerHTML"
        hx-push-url="true"
        id={id}
        aria-current={current ? "page" : undefined}
      >
        {children}
      </a>
    </li>
  );
}

/** The status tabs and the owner tabs, each a link holding the rest of the filter, with live counts. */
export function StatusTabs(
  { filter, counts }: { filter: DashboardFilter; counts: TabCounts },
) {
  const current = filter.status ?? DEFAULT_VIEW;
  const owners: Record<string, number> = {
    All: counts.owner.all,
    Mine: counts.owner.mine,
    Unassigned: counts.owner.none,
  };
  return (
    <div class="board-tabs">
      <nav aria-label="Status" class="status-tabs">
        <ul>
          {STATUS_VIEWS.map((view) => (
            <TabLink
              href={dashboardHref({ ...filter, status: view })}
              id={`tab-${view.toLowerCase()}`}
              current={current === view}
              status={view}
            >
              {statusViewLabel(view)}{" "}
              <TabCount
                id={statusCountId(view)}
                label={statusViewLabel(view)}
                n={counts.status[view]}
                capped={counts.capped}
              />
            </TabLink>
          ))}
        </ul>
      </nav>
      <nav aria-label="Owner" class="status-tabs owner-tabs">
        <ul>
          {OWNER_TABS.map(([label, assignee]) => (
            <TabLink
              href={dashboardHref({ ...filter, assignee })}
              id={`owner-tab-${label.toLowerCase()}`}
              current={filter.assignee === assignee}
            >
              {label}{" "}
              <TabCount
                id={ownerCountId(label)}
                label={`Owner: ${label}`}
                n={owners[label]!}
                capped={counts.capped}
                data={label === "All" ? counts.byOwner : undefined}
              />
            </TabLink>
          ))}
          <TabLink
            href={dashboardHref({
              ...filter,
              assignee: "@none",
              sort: "oldest",
            })}
            id="owner-tab-queue"
            current={filter.assignee === "@none" && filter.sort === "oldest"}
          >
            Unassigned, oldest first
          </TabLink>
        </ul>
      </nav>
    </div>
  );
}

/** The "more" cell at the end of the grid: loads the next page when scrolled into view. */
export function MoreCards(
  { filter, next }: { filter: DashboardFilter; next: string | null },
) {
  if (next === null) {
    return <p id="more" class="more muted">That is every ticket.</p>;
  }
  return (
    <div id="more" class="more">
      <a
        href={dashboardHref(filter, "/dashboard", { after: next })}
        hx-get={dashboardHref(filter, "/dashboard/cards", { after: next })}
        hx-trigger="revealed, click"
        hx-target="#more"
        hx-swap="outerHTML"
        role="button"
        class="secondary outline"
      >
        Load more
      </a>
    </div>
  );
}

/** What every card of a board shares: the clock, search words, disabled owners and the viewer. */
export interface CardContext {
  now: Date;
  terms: string[];
  disabledOwners: ReadonlySet<string>;
  viewer: string;
}

/** Cards of one page followed by the next "more" cell: what /dashboard/cards returns. */
export function CardsPage(
  { items, filter, next, cards }: {
    items: TicketListItem[];
    filter: DashboardFilter;
    /** Where the next page starts (`?after=`), or null on the last page. */
    next: string | null;
    cards: CardContext;
  },
) {
  return (
    <>
      {items.map((t) => <TicketCard key={t.id} ticket={t} {...cards} />)}
      <MoreCards filter={filter} next={next} />
    </>
  );
}

/**
 * The search form's hidden view fields (status, owner, sort). A board
 * fragment carries them out of band, so a search after a tab click keeps the
 * tab's view.
 */
export function ViewFields(
  { filter, oob = false }: { filter: DashboardFilter; oob?: boolean },
) {
  return (
    <span id="view-fields" hx-swap-oob={oob ? "true" : undefined}>
      <input type="hidden" name="status" value={filter.status ?? ""} />
      <input type="hidden" name="assignee" value={filter.assignee ?? ""} />
    </span>
  );
}

/** What to do when there is nothing to show. */
export function EmptyState(
  { filter, origin, total }: {
    filter: DashboardFilter;
    origin: string;
    total: number;
  },
) {
  // The counts of a narrowed board are of what it matches: only an
  // unnarrowed one knows the desk is empty.
  const narrowed = filter.assignee || filter.q || filter.product ||
    filter.priority;
  if (total === 0 && !narrowed) {
    const curl = `curl -X POST ${origin}/create_ticket \\
  -H "Authorization: Bearer $KEY" \\
  -H "Content-Type: application/json" \\
  -d '{"user_id": "john_doe", "pdf_link": "https://example.com/guide.pdf"}'`;
    return (
      <article class="empty" id="empty">
        <h2>No tickets yet</h2>
        <p>
          Tickets arrive from the mobile app through{" "}
          <code>POST /create_ticket</code>. To file one yourself, create an API
          key (in <a href="/settings">Settings</a>, or with{" "}
          <code>deno task apikey create mobile</code>), put it in{" "}
          <code>KEY</code> and run:
        </p>
        <pre><code>{curl}</code></pre>
        <p>
          It appears here as soon as it is created. See the{" "}
          <a href="/api/openapi.json">API description</a> for every field.
        </p>
      </article>
    );
  }
  const owner = filter.assignee === "@me"
    ? "of yours"
    : filter.assignee === "@none"
    ? "without an owner"
    : filter.assignee && `owned by ${filter.assignee}`;
  const view = filter.status ?? DEFAULT_VIEW;
  const what = [
    view !== "all" && view !== "unsolved" && `with status ${view}`,
    owner,
    filter.priority && `of ${filter.priority} priority`,
    filter.product && `for product ${filter.product}`,
    filter.q && `matching “${filter.q}”`,
  ].filter(Boolean).join(", ");
  return (
    <article class="empty" id="empty">
      <h2>No {view === "unsolved" ? "unsolved " : ""}tickets {what}</h2>
      <p>
        {view === "unsolved" && !what && "Nothing is waiting for anyone. "}
        {filter.q
          ? "Search matches the start of words in user, product and other IDs, descriptions and comments. Try fewer or shorter words, or "
          : "Try "}
        <a href={dashboardHref({ status: "all" })}>showing every ticket</a>.
      </p>
    </article>
  );
}

/** The bulk change: the cards' boxes belong to this form, so it works without JavaScript. */
export function BulkBar(
  { users, back }: { users: string[]; back: string },
) {
  return (
    <form
      id="bulk"
      method="post"
      action="/tickets/bulk"
      hx-post="/tickets/bulk"
      hx-target="#board"
      hx-swap="outerHTML"
      class="bulk-bar"
      aria-labelledby="bulk-title"
    >
      <input type="hidden" name="back" value={back} />
      <h3 id="bulk-title" class="visually-hidden">Change selected tickets</h3>
      <label class="select-all">
        <input type="checkbox" id="select-all" data-select-all />
        Select all <span class="visually-hidden">on this page</span>
      </label>
      <span id="bulk-count" class="muted" aria-live="polite"></span>
      <span class="bulk-controls">
        <label>
          <span class="visually-hidden">New status</span>
          <select name="status" id="bulk-status">
            <option value="">Status…</option>
            {STATUSES.map((s) => <Choice key={s} value={s}>{s}</Choice>)}
          </select>
        </label>
        <label>
          <span class="visually-hidden">New owner</span>
          <select name="assignee" id="bulk-assignee">
            <option value="">Owner…</option>
            <option value="@me">Me</option>
            <option value="@none">Nobody (unassign)</option>
            {users.map((u) => <Choice key={u} value={u}>{u}</Choice>)}
          </select>
        </label>
        <label>
          <span class="visually-hidden">New priority</span>
          <select name="priority" id="bulk-priority">
            <option value="">Priority…</option>
            {PRIORITIES.map((p) => <Choice key={p} value={p}>{p}</Choice>)}
          </select>
        </label>
        <button type="submit" class="secondary">Apply to selected</button>
      </span>
    </form>
  );
}

export interface BoardProps {
  filter: DashboardFilter;
  counts: TabCounts;
  items: TicketListItem[];
  /** Where the next page starts (`?after=`), or null on the last page. */
  next: string | null;
  /** Set when this page continues an earlier one (no-JS "Load more"). */
  continued?: boolean;
  cards: CardContext;
  /** Active users, for the bulk owner choice. */
  users: string[];
  /** What the last bulk change did, to show above the cards. */
  bulkNotice?: { changed: number; total: number; skipped: number[] };
  /** A ticket the search names by number (#123), offered as a jump. */
  jump?: number;
  origin: string;
  /** What this board watches live (its filter's channel and resume point), the viewer, and the hub's script. */
  live?: LiveStreamProps;
  /** Cards in a grid (the default) or one row per ticket: the viewer's choice. */
  layout?: BoardLayout;
}

/** How the summary names the first page of each order. */
const SORT_WORD: Record<Sort, string> = {
  newest: "newest",
  oldest: "oldest",
  priority: "most urgent",
  activity: "most recently active",
};

/** What a bulk change did, with links to the tickets it skipped. */
function BulkNotice(
  { notice }: { notice: NonNullable<BoardProps["bulkNotice"]> },
) {
  const skipped = notice.skipped.length;
  return (
    <div
      class="notice bulk-notice"
      role="status"
      data-announce={skipped ? "" : undefined}
    >
      {skipped === 0
        ? <p>Changed {notice.changed} of {notice.total} tickets.</p>
        : (
          <p>
            {skipped} of {notice.total} {skipped === 1 ? "was" : "were"}{" "}
            changed meanwhile and left as they are — review{" "}
            {skipped === 1 ? "it" : "them"}: {notice.skipped.map((id, i) => (
              <>
                {i > 0 && ", "}
                <a href={`/tickets/${id}`}>#{id}</a>
              </>
            ))}
            . The other {notice.changed} changed.
          </p>
        )}
    </div>
  );
}

/**
 * "Showing the newest 12+ tickets." The element carries both forms of the
 * sentence: static/live.js fills them in as live cards arrive ("+" while more
 * can load), so the words are written only here.
 */
function BoardSummary(
  { shown, more, next, sort = "newest" }: {
    shown: number;
    more: boolean;
    next: boolean;
    sort?: Sort;
  },
) {
  const which = next ? "next" : SORT_WORD[sort];
  const one = `Showing the ${which} 1 ticket.`;
  const many = `Showing the ${which} {n} tickets.`;
  return (
    <p
      id="board-summary"
      class="muted"
      aria-live="polite"
      data-one={one}
      data-many={many}
    >
      {shown === 0
        ? "No tickets to show."
        : shown === 1 && !more
        ? one
        : many.replace("{n}", `${shown}${more ? "+" : ""}`)}
    </p>
  );
}

/** Tabs, summary and grid: the part of the dashboard a filter change replaces. */
export function Board(p: BoardProps) {
  const shown = p.items.length;
  const layout = p.layout ?? "grid";
  const here = dashboardHref(p.filter);
  return (
    <section id="board" aria-labelledby="board-title">
      <h2 id="board-title" class="visually-hidden">Tickets</h2>
      <StatusTabs filter={p.filter} counts={p.counts} />
      <div class="board-bar">
        <BoardSummary
          shown={shown}
          more={p.next !== null}
          next={Boolean(p.continued)}
          sort={p.filter.sort}
        />
        {shown > 0 && <BulkBar users={p.users} back={here} />}
        <p class="board-links">
          {p.continued && (
            <>
              <a href={here}>Back to the first page</a>
              {" · "}
            </>
          )}
          <a href={dashboardHref(p.filter, "/tickets.csv")} download>
            Export CSV
          </a>
        </p>
        <LayoutSwitch layout={layout} back={here} />
      </div>
      {p.bulkNotice && <BulkNotice notice={p.bulkNotice} />}
      {p.jump !== undefined && (
        <p class="jump">
          <a href={`/tickets/${p.jump}`}>Go to ticket #{p.jump}</a>
        </p>
      )}
      {p.live && (
        <>
          <LiveStream {...p.live} />
          <div id="incoming" hidden></div>
          <button
            type="button"
            id="new-tickets"
            class="new-tickets"
            aria-keyshortcuts="."
            hidden
          >
            Show new tickets
          </button>
        </>
      )}
      {shown === 0 && (
        <EmptyState
          filter={p.filter}
          origin={p.origin}
          total={p.counts.status.all}
        />
      )}
      {layout === "list" && shown > 0 && <ListHead />}
      {/* Always present, so live cards have somewhere to go on an empty board. */}
      <div
        id="cards"
        class={layout === "list" ? "ticket-list" : "card-grid"}
        data-layout={layout}
      >
        {shown > 0 && (
          <CardsPage
            items={p.items}
            filter={p.filter}
            next={p.next}
            cards={p.cards}
          />
        )}
      </div>
    </section>
  );
}

/** The list's column names (for the eye: each row's cells carry their own labels for assistive tech). */
function ListHead() {
  return (
    <div class="list-head" aria-hidden="true">
      <span class="col-select"></span>
      <span class="col-id">#</span>
      <span class="col-status">Status</span>
      <span class="col-priority">Priority</span>
      <span class="col-owner">Owner</span>
      <span class="col-user">User</span>
      <span class="col-product">Product</span>
      <span class="col-excerpt">Description</span>
      <span class="col-waited">Waited</span>
      <span class="col-active">Activity</span>
    </div>
  );
}

/** Cards or list: each user's choice, remembered on the server (a plain form). */
function LayoutSwitch(
  { layout, back }: { layout: BoardLayout; back: string },
) {
  return (
    <form
      method="post"
      action="/dashboard/layout"
      hx-post="/dashboard/layout"
      hx-target="#board"
      hx-swap="outerHTML"
      class="layout-switch"
      aria-label="Show tickets as"
    >
      <input type="hidden" name="back" value={back} />
      <div role="group">
        {BOARD_LAYOUTS.map((l) => (
          <button
            type="submit"
            name="layout"
            value={l}
            aria-pressed={l === layout ? "true" : "false"}
            class={l === layout ? "" : "outline secondary"}
            aria-keyshortcuts="v"
            data-layout-button={l}
          >
            {l === "grid" ? "Cards" : "List"}
          </button>
        ))}
      </div>
    </form>
  );
}
