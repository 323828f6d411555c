/**
 * The /events URL contract, in one place: the page that opens a stream
 * builds its URL with liveUrl, and the stream reads it back with
 * readStreamFilter. A filter is what one page watches: a dashboard's status,
 * product and search, or one ticket.
 */
import { type Status, STATUSES } from "../db/store.ts";

/** What a page watches. */
export interface StreamFilter {
  status?: Status;
  product_id?: string;
  q?: string;
  ticket?: number;
  /**
   * A requester's status page: the token of their link (resolved to its
   * ticket, and checked, server-side). Never combined with anything else.
   */
  request?: string;
}

/** The shape of a requester token (lib/requester_token.ts); whether it opens anything is checked later. */
const REQUEST_TOKEN = /^[1-9][0-9]{0,15}\.[A-Za-z0-9_-]{43}$/;

/** Builds the stream URL for a page: its filter, and the newest event it already shows. */
export function liveUrl(
  f: { status?: string; q?: string; product?: string; ticket?: number },
  after: number,
): string {
  const p = new URLSearchParams();
  if (f.status) p.set("status", f.status);
  if (f.q) p.set("q", f.q);
  if (f.product) p.set("product", f.product);
  if (f.ticket) p.set("ticket", String(f.ticket));
  p.set("after", String(after));
  return `/events?${p}`;
}

/**
 * Reads a stream's filter from its URL, or null when it names something that
 * does not exist (an unknown status, a ticket that is not a number); text
 * values are returned as given, for the caller to check.
 */
export function readStreamFilter(
  q: (name: string) => string | undefined,
): StreamFilter | null {
  const f: StreamFilter = {};
  const status = q("status");
  if (status) {
    const known = STATUSES.find((s) => s === status);
    if (!known) return null;
    f.status = known;
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
  const request = q("request");
  if (request !== undefined) {
    // A requester's channel carries their ticket and nothing else.
    if (!REQUEST_TOKEN.test(request) || Object.keys(f).length > 0) return null;
    f.request = request;
  }
  return f;
}

/**
 * The filter as a canonical query string (`status=Open&q=wifi`, `ticket=3`,
 * "" for everything). It names the filter's channel on a shared stream, and
 * streams with the same one share their rendering.
 */
export function filterKey(f: StreamFilter): string {
  const p = new URLSearchParams();
  if (f.status) p.set("status", f.status);
  if (f.product_id) p.set("product", f.product_id);
  if (f.q) p.set("q", f.q);
  if (f.ticket) p.set("ticket", String(f.ticket));
  if (f.request) p.set("request", f.request);
  return p.toString();
}

/** What a page watches on the shared stream: its filter's channel and the newest event it shows. */
export function watchOf(
  f: { status?: string; q?: string; product?: string; ticket?: number },
  after: number,
): { channel: string; after: number } {
  const p = new URLSearchParams();
  if (f.status) p.set("status", f.status);
  if (f.product) p.set("product", f.product);
  if (f.q) p.set("q", f.q);
  if (f.ticket) p.set("ticket", String(f.ticket));
  return { channel: p.toString(), after };
}
