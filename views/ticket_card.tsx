/**
 * The dashboard's pieces: TicketCard (the one component the page, the
 * quick-status POST and the live stream all render), the card grid, the status
 * tabs and the empty states.
 */
import type { Child } from "hono/jsx";
import { LiveStream, type LiveStreamProps } from "./live.tsx";
import { relativeTime } from "./relative_time.ts";
import {
  MATCH_END,
  MATCH_START,
  type Status,
  type StatusCounts,
  STATUSES,
  type TicketListItem,
  type TicketSummary,
  type TicketWithComments,
} from "../db/store.ts";

/** What the dashboard shows; it lives in the URL (?status=&q=&product=). */
export interface DashboardFilter {
  status?: Status;
  q?: string;
  product?: string;
}

/** The dashboard URL of a filter, with only the parameters that are set. */
export function dashboardHref(
  f: DashboardFilter,
  path = "/dashboard",
  extra: Record<string, string> = {},
): string {
  const params = new URLSearchParams();
  if (f.status) params.set("status", f.status);
  if (f.q) params.set("q", f.q);
  if (f.product) params.set("product", f.product);
  for (const [k, v] of Object.entries(extra)) params.set(k, v);
  const query = params.toString();
  return query ? `${path}?${query}` : path;
}

/** Element id of a ticket's card: stable across page, quick action and stream. */
export const cardId = (id: number) => `ticket-${id}`;

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
            class={s === ticket.status ? "" : "outline secondary"}
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
}

/** One ticket on the dashboard. Same markup for page, quick action and stream. */
export function TicketCard(
  { ticket: t, now, terms = [], notice }: TicketCardProps,
) {
  const id = cardId(t.id);
  const comments = t.comment_count === 1
    ? "1 comment"
    : `${t.comment_count} comments`;
  return (
    <article
      id={id}
      class={`ticket-card status-${t.status.toLowerCase()}`}
      tabindex={-1}
      aria-labelledby={`${id}-title`}
      data-ticket-id={String(t.id)}
    >
      <header>
        <h3 id={`${id}-title`}>
          <a href={`/tickets/${t.id}`} class="ticket-link" data-open>
            <span class="visually-hidden">Ticket</span> #{t.id}
          </a>
        </h3>
        <StatusBadge status={t.status} />
      </header>
      {notice && <p class="notice" role="alert">{notice}</p>}
      <dl class="ticket-ids">
        <dt>User</dt>
        <dd>
          <Highlight text={t.user_id} terms={terms} />
        </dd>
        <dt>Product</dt>
        <dd>
          {t.product_id ? <Highlight text={t.product_id} terms={terms} /> : "—"}
        </dd>
        {t.other_ids && (
          <>
            <dt>Other IDs</dt>
            <dd>
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
        <When iso={t.created_at} now={now} />
        <span aria-hidden="true">·</span>
        <PdfLink href={t.pdf_link} label="PDF" />
        <span aria-hidden="true">·</span>
        <span>{comments}</span>
      </p>
      <footer>
        <StatusButtons ticket={t} view="card" idPrefix={id} />
      </footer>
    </article>
  );
}

function TabCount(
  { label, n, oob = false }: { label: string; n: number; oob?: boolean },
) {
  return (
    <span
      class="count"
      id={`count-${label.toLowerCase()}`}
      data-count={label}
      hx-swap-oob={oob ? "true" : undefined}
    >
      {n}
    </span>
  );
}

/** The tab counts alone, swapped in by id next to a card whose status changed. */
export function CountsUpdate({ counts }: { counts: StatusCounts }) {
  return (
    <>
      {(["All", ...STATUSES] as const).map((label) => (
        <TabCount key={label} label={label} n={counts[label]} oob />
      ))}
    </>
  );
}

/** The status tabs, each a link holding the rest of the filter, with live counts. */
export function StatusTabs(
  { filter, counts }: { filter: DashboardFilter; counts: StatusCounts },
) {
  const tabs: [Status | undefined, string, number][] = [
    [undefined, "All", counts.All],
    ...STATUSES.map((s): [Status, string, number] => [s, s, counts[s]]),
  ];
  return (
    <nav aria-label="Status" class="status-tabs">
      <ul>
        {tabs.map(([status, label, n]) => {
          const href = dashboardHref({ ...filter, status });
          return (
            <li>
              <a
                href={href}
                hx-get={href}
                hx-target="#board"
                hx-swap="outerHTML"
                hx-push-url="true"
                id={`tab-${label.toLowerCase()}`}
                aria-current={filter.status === status ? "page" : undefined}
              >
                {label} <TabCount label={label} n={n} />
              </a>
            </li>
          );
        })}
      </ul>
    </nav>
  );
}

/** The "more" cell at the end of the grid: loads the next page when scrolled into view. */
export function MoreCards(
  { filter, before }: { filter: DashboardFilter; before: number | null },
) {
  if (before === null) {
    return <p id="more" class="more muted">That is every ticket.</p>;
  }
  const next = String(before);
  return (
    <div id="more" class="more">
      <a
        href={dashboardHref(filter, "/dashboard", { before: next })}
        hx-get={dashboardHref(filter, "/dashboard/cards", { before: next })}
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

/** Cards of one page followed by the next "more" cell: what /dashboard/cards returns. */
export function CardsPage(
  { items, filter, before, terms, now }: {
    items: TicketListItem[];
    filter: DashboardFilter;
    before: number | null;
    terms: string[];
    now: Date;
  },
) {
  return (
    <>
      {items.map((t) => (
        <TicketCard key={t.id} ticket={t} now={now} terms={terms} />
      ))}
      <MoreCards filter={filter} before={before} />
    </>
  );
}

/**
 * The search form's status field. A board fragment carries it out of band, so
 * a search after a tab click keeps the tab's status.
 */
export function StatusField(
  { status, oob = false }: { status?: Status; oob?: boolean },
) {
  return (
    <input
      type="hidden"
      id="filter-status"
      name="status"
      value={status ?? ""}
      hx-swap-oob={oob ? "true" : undefined}
    />
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
  if (total === 0) {
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
  const what = [
    filter.status && `with status ${filter.status}`,
    filter.product && `for product ${filter.product}`,
    filter.q && `matching “${filter.q}”`,
  ].filter(Boolean).join(", ");
  return (
    <article class="empty" id="empty">
      <h2>No tickets {what}</h2>
      <p>
        {filter.q
          ? "Search matches the start of words in user, product and other IDs, descriptions and comments. Try fewer or shorter words, or "
          : "Try "}
        <a href="/dashboard">showing every ticket</a>.
      </p>
    </article>
  );
}

export interface BoardProps {
  filter: DashboardFilter;
  counts: StatusCounts;
  items: TicketListItem[];
  nextBefore: number | null;
  /** Set when this page continues an earlier one (no-JS "Load more"). */
  before?: number;
  terms: string[];
  /** A ticket the search names by number (#123), offered as a jump. */
  jump?: number;
  origin: string;
  now: Date;
  /** What this board watches live (its filter's channel and resume point), the viewer, and the hub's script. */
  live?: LiveStreamProps;
}

/**
 * "Showing the newest 12+ tickets." The element carries both forms of the
 * sentence: static/live.js fills them in as live cards arrive ("+" while more
 * can load), so the words are written only here.
 */
function BoardSummary(
  { shown, more, next }: { shown: number; more: boolean; next: boolean },
) {
  const one = `Showing the ${next ? "next" : "newest"} 1 ticket.`;
  const many = `Showing the ${next ? "next" : "newest"} {n} tickets.`;
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
  return (
    <section id="board" aria-labelledby="board-title">
      <h2 id="board-title" class="visually-hidden">Tickets</h2>
      <StatusTabs filter={p.filter} counts={p.counts} />
      <div class="board-bar">
        <BoardSummary
          shown={shown}
          more={p.nextBefore !== null}
          next={Boolean(p.before)}
        />
        <p>
          {p.before && (
            <>
              <a href={dashboardHref(p.filter)}>Back to the newest</a>
              {" · "}
            </>
          )}
          <a href={dashboardHref(p.filter, "/tickets.csv")} download>
            Export CSV
          </a>
        </p>
      </div>
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
          total={p.counts.All}
        />
      )}
      {/* Always present, so live cards have somewhere to go on an empty board. */}
      <div id="cards" class="card-grid">
        {shown > 0 && (
          <CardsPage
            items={p.items}
            filter={p.filter}
            before={p.nextBefore}
            terms={p.terms}
            now={p.now}
          />
        )}
      </div>
    </section>
  );
}
