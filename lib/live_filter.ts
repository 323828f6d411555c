/**
 * The /events URL contract, in one place: a page says what it watches with
 * watchOf (its filter's channel and resume point), and the stream reads each
 * channel back with readStreamFilter. A filter is what one page watches: a
 * dashboard's view (status, owner, priority, product, search, sort), one
 * ticket, or a report (`reports=1` with its owner, priority and product).
 */
import {
  PRIORITIES,
  type Priority,
  type Sort,
  SORTS,
  type Status,
  type TicketSummary,
} from "../db/store.ts";
import { inStatusView, STATUS_VIEWS, type StatusView } from "./status_view.ts";

/** What a page watches. */
export interface StreamFilter {
  /** A status view; none is every status. */
  status?: Exclude<StatusView, "all">;
  /** Products starting with this, in any letter case. */
  product_id?: string;
  q?: string;
  /** A user's name, or null for tickets nobody owns. */
  assignee?: string | null;
  priority?: Priority;
  sort?: Sort;
  ticket?: number;
  /**
   * A requester's status page: the token of their link (resolved to its
   * ticket, and checked, server-side). Never combined with anything else.
   */
  request?: string;
  /** The Reports page: told when its figures may have changed (with owner, priority and product only). */
  reports?: true;
}

/** A dashboard's view as its URL gives it (`@me` already resolved by the caller), or a ticket. */
export interface WatchedView {
  status?: string;
  q?: string;
  product?: string;
  assignee?: string | null;
  priority?: string;
  sort?: string;
  ticket?: number;
  request?: string;
  reports?: boolean;
}

/** The shape of a requester token (lib/requester_token.ts); whether it opens anything is checked later. */
const REQUEST_TOKEN = /^[1-9][0-9]{0,15}\.[A-Za-z0-9_-]{43}$/;

/**
 * Reads a stream's filter from a channel's parameters, or null when it names
 * something that does not exist (an unknown status, a ticket that is not a
 * number); text values are returned as given, for the caller to check. An
 * owner of `@me` is the stream's own user: resolved per stream, so streams
 * are grouped by the owner it means.
 */
export function readStreamFilter(
  q: (name: string) => string | undefined,
  viewer = "",
): StreamFilter | null {
  const f: StreamFilter = {};
  const status = q("status");
  if (status && status !== "all") {
    const known = STATUS_VIEWS.find((s) => s === status);
    if (!known || known === "all") return null;
    f.status = known;
  }
  const priority = q("priority");
  if (priority) {
    const known = PRIORITIES.find((p) => p === priority);
    if (!known) return null;
    f.priority = known;
  }
  const sort = q("sort");
  if (sort && sort !== "newest") {
    const known = SORTS.find((s) => s === sort);
    if (!known) return null;
    f.sort = known;
  }
  const owner = q("assignee");
  if (owner) {
    f.assignee = owner === "@none"
      ? null
      : owner === "@me"
      ? viewer
      : owner.slice(0, 64);
  }
  const product = q("product");
  if (product) f.product_id = product.slice(0, 128);
  const text = q("q");
  if (text) f.q = text.slice(0, 200);
  const ticket = q("ticket");
  if (ticket !== undefined) {
    if (!/^[1-9][0-9]{0,15}$/.test(ticket)) return null;
    f.ticket = Number(ticket);
  }
  if (q("reports") !== undefined) {
    // A report narrows by owner, priority and product; nothing else applies.
    if (q("reports") !== "1" || f.status || f.sort || f.q || f.ticket) {
      return null;
    }
    f.reports = true;
  }
  const request = q("request");
  if (request !== undefined) {
    // A requester's channel carries their ticket and nothing else.
    if (!REQUEST_TOKEN.test(request) || Object.keys(f).length > 0) return null;
    f.request = request;
  }
  return f;
}

function channelOf(v: WatchedView): string {
  const p = new URLSearchParams();
  if (v.reports) p.set("reports", "1");
  if (v.status && v.status !== "all") p.set("status", v.status);
  if (v.assignee !== undefined) p.set("assignee", v.assignee ?? "@none");
  if (v.priority) p.set("priority", v.priority);
  if (v.sort && v.sort !== "newest") p.set("sort", v.sort);
  if (v.product) p.set("product", v.product);
  if (v.q) p.set("q", v.q);
  if (v.ticket) p.set("ticket", String(v.ticket));
  if (v.request) p.set("request", v.request);
  return p.toString();
}

/**
 * The filter as a canonical query string (`status=Open&assignee=maria`,
 * `ticket=3`, "" for everything). It names the filter's channel on a shared
 * stream, and streams with the same one share their rendering.
 */
export function filterKey(f: StreamFilter): string {
  return channelOf({ ...f, product: f.product_id });
}

/** What a page watches on the shared stream: its filter's channel and the newest event it shows. */
export function watchOf(
  v: WatchedView,
  after: number,
): { channel: string; after: number } {
  return { channel: channelOf(v), after };
}

/**
 * Whether a ticket belongs on a dashboard showing `f`, by its status view,
 * owner, priority and product (a search is checked by the store).
 */
export function showsTicket(
  f: StreamFilter,
  t: Pick<TicketSummary, "assignee" | "priority" | "product_id"> & {
    status: Status;
  },
): boolean {
  return inStatusView(t.status, f.status) &&
    (!f.product_id ||
      (t.product_id ?? "").toLowerCase().startsWith(
        f.product_id.toLowerCase(),
      )) &&
    (f.assignee === undefined || t.assignee === f.assignee) &&
    (!f.priority || t.priority === f.priority);
}
