/** Reading what a dashboard request asks for: its filter, ticket id, way back, and whether htmx sent it. */
import type { Context } from "hono";
import { type ListFilter, PRIORITIES, SORTS, type User } from "../db/store.ts";
import { readPageKey } from "../lib/page_key.ts";
import type { StreamFilter } from "../lib/live_filter.ts";
import {
  DEFAULT_VIEW,
  readStatusView,
  statusFilterOf,
} from "../lib/status_view.ts";
import type { DashboardFilter } from "../views/ticket_card.tsx";
import type { AppEnv } from "./context.ts";
import { localPath } from "./headers.ts";
import { HttpProblem } from "./problems.ts";
import { textProblem } from "./validation.ts";

const ID = /^[1-9][0-9]{0,15}$/;

/** True for requests made by htmx. */
export function isHtmx(c: Context): boolean {
  return c.req.header("hx-request") === "true";
}

/** An htmx request for a fragment; history restores and whole-body swaps need the full page. */
export function wantsFragment(c: Context): boolean {
  return isHtmx(c) && c.req.header("hx-request-type") !== "full" &&
    c.req.header("hx-history-restore-request") !== "true";
}

/** A positive whole number given as text, else undefined. */
export function positiveInt(value: unknown): number | undefined {
  return typeof value === "string" && ID.test(value)
    ? Number(value)
    : undefined;
}

/** The dashboard filter of the query; text with control characters is a 400. */
export function readFilter(c: Context): DashboardFilter {
  return readFilterFrom((name) => c.req.query(name));
}

/** The dashboard filter of a dashboard URL (a form's way back), read as readFilter reads a query. */
export function filterOf(url: string): DashboardFilter {
  const params = new URL(url, "http://desk.invalid").searchParams;
  return readFilterFrom((name) => params.get(name) ?? undefined);
}

function readFilterFrom(
  query: (name: string) => string | undefined,
): DashboardFilter {
  const text = (name: string, max: number) => {
    const value = query(name)?.trim().slice(0, max) || undefined;
    const problem = value && textProblem(value, false);
    if (problem) {
      throw new HttpProblem({
        status: 400,
        title: "Unusable filter",
        detail: `The ${
          name === "q" ? "search" : name
        } ${problem}: type it again without them.`,
        errors: [{ field: name, detail: problem }],
      });
    }
    return value;
  };
  const status = query("status");
  const priority = query("priority");
  const sort = query("sort");
  return {
    status: readStatusView(status),
    q: text("q", 200),
    product: text("product", 128),
    assignee: text("assignee", 64),
    priority: PRIORITIES.find((p) => p === priority),
    sort: SORTS.find((s) => s === sort),
  };
}

/**
 * The store's list filter for a dashboard filter seen by `viewer`: `@me` is
 * the viewer, `@none` nobody; `after` continues a page (`?after=`).
 */
export function listFilter(
  f: DashboardFilter,
  viewer: string,
  after?: string,
): Omit<ListFilter, "limit"> {
  const sort = f.sort ?? "newest";
  return {
    ...statusFilterOf(f.status ?? DEFAULT_VIEW),
    q: f.q,
    product_prefix: f.product,
    assignee: ownerOf(f.assignee, viewer),
    priority: f.priority,
    sort,
    after: readPageKey(after, sort),
  };
}

/** What a board shows as the live stream sees it (which tickets fit it), for `viewer`. */
export function streamFilterOf(
  f: DashboardFilter,
  viewer: string,
): StreamFilter {
  const view = f.status ?? DEFAULT_VIEW;
  return {
    status: view === "all" ? undefined : view,
    product_id: f.product,
    q: f.q,
    assignee: ownerOf(f.assignee, viewer),
    priority: f.priority,
    sort: f.sort,
  };
}

/** The owner a filter names: `@me` the viewer, `@none` nobody (null), else the name; undefined for any. */
export function ownerOf(
  assignee: string | undefined,
  viewer: string,
): string | null | undefined {
  if (assignee === "@me") return viewer;
  if (assignee === "@none") return null;
  return assignee;
}

/** The :id of the path; anything but a positive integer is a 404. */
export function ticketId(c: Context): number {
  const id = positiveInt(c.req.param("id"));
  if (id === undefined) {
    throw new HttpProblem({
      status: 404,
      title: "Not found",
      detail:
        `Nothing lives at ${c.req.path}: ticket numbers are whole numbers`,
    });
  }
  return id;
}

/** A dashboard URL to go back to, from ?back= (or a form's back) or the Referer; only our own /dashboard. */
export function backOf(c: Context, given?: unknown): string {
  const safe = (v: unknown) => {
    const path = localPath(v);
    return path && /^\/dashboard(?:\?[^#]*)?$/.test(path) ? path : null;
  };
  const fromForm = safe(given ?? c.req.query("back"));
  if (fromForm) return fromForm;
  const ref = URL.parse(c.req.header("referer") ?? "");
  if (ref && ref.origin === new URL(c.req.url).origin) {
    return safe(ref.pathname + ref.search) ?? "/dashboard";
  }
  return "/dashboard";
}

/** A ticket page's URL, keeping the dashboard filter to go back to. */
export function pageUrl(id: number, back: string, hash = ""): string {
  return `/tickets/${id}${
    back === "/dashboard" ? "" : `?back=${encodeURIComponent(back)}`
  }${hash}`;
}

/** The logged-in admin or agent (the session guard runs before every page). */
export function viewer(c: Context): Pick<User, "username" | "role"> {
  return (c as Context<AppEnv>).get("user") ?? { username: "", role: "agent" };
}

/** Sends the browser to `to`: HX-Redirect for htmx, a 303 otherwise. */
export function redirectTo(c: Context, to: string) {
  if (isHtmx(c)) return c.body(null, 200, { "HX-Redirect": to });
  return c.redirect(to, 303);
}
