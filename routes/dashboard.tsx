/**
 * The admin dashboard: HTML pages and htmx fragments, HTML only.
 *
 * Every action is a plain form POST answered with a 303 back to the page
 * (works without JavaScript); with htmx (HX-Request) it answers with the
 * fragment to swap instead. Errors are mapped to HTML once, in app.ts.
 */
import { Hono } from "hono";
import type { Context } from "hono";
import {
  type ListFilter,
  NotFoundError,
  searchTerms,
  StaleVersionError,
  type Status,
  STATUSES,
  type Ticket,
  type TicketPatch,
  type TicketStore,
  type TicketWithComments,
  type User,
} from "../db/store.ts";
import { liveUrl } from "../lib/live_filter.ts";
import { ASSETS } from "./assets.ts";
import { actorOf, type AppEnv } from "./context.ts";
import { ticketsCsv } from "./csv.ts";
import { HttpProblem } from "./problems.ts";
import { textProblem } from "./validation.ts";
import { localPath } from "./headers.ts";
import {
  CardsPage,
  CountsUpdate,
  type DashboardFilter,
  dashboardHref,
  listItemOf,
  TicketCard,
} from "../views/ticket_card.tsx";
import { BoardFragment, DashboardPage } from "../views/dashboard_page.tsx";
import {
  Activity,
  DescriptionForm,
  DescriptionView,
  lastChangedBy,
  StatusPanel,
  Thread,
  TicketPage,
  type TicketPageProps,
} from "../views/ticket_page.tsx";

export interface DashboardDeps {
  store: TicketStore;
}

const PAGE_SIZE = 50;
const MAX_TEXT = 10_000;

/** Stylesheets and the script (htmx, its SSE extension, app.js, live.js in one file) of every page. */
export const PAGE_ASSETS = {
  styles: [ASSETS.pico.url, ASSETS.appCss.url],
  scripts: [ASSETS.pageJs.url],
};

const ID = /^[1-9][0-9]{0,15}$/;

/** True for requests made by htmx. */
function isHtmx(c: Context): boolean {
  return c.req.header("hx-request") === "true";
}

/** An htmx request for a fragment; history restores and whole-body swaps need the full page. */
function wantsFragment(c: Context): boolean {
  return isHtmx(c) && c.req.header("hx-request-type") !== "full" &&
    c.req.header("hx-history-restore-request") !== "true";
}

function parseStatus(value: unknown): Status | undefined {
  return STATUSES.find((s) => s === value);
}

function readFilter(c: Context): DashboardFilter {
  const text = (name: string, max: number) => {
    const value = c.req.query(name)?.trim().slice(0, max) || undefined;
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
  return {
    status: parseStatus(c.req.query("status")),
    q: text("q", 200),
    product: text("product", 128),
  };
}

function listFilter(f: DashboardFilter): Omit<ListFilter, "limit"> {
  return { status: f.status, q: f.q, product_id: f.product };
}

function positiveInt(value: unknown): number | undefined {
  return typeof value === "string" && ID.test(value)
    ? Number(value)
    : undefined;
}

/** The :id of the path; anything but a positive integer is a 404. */
function ticketId(c: Context): number {
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

/** A search for `#42` or `42` names ticket 42. */
function ticketNumber(q: string | undefined): number | undefined {
  const m = q ? /^#?([1-9][0-9]{0,15})$/.exec(q) : null;
  return m ? Number(m[1]) : undefined;
}

/** A dashboard URL to go back to, from ?back= or the Referer; only our own /dashboard. */
function backOf(c: Context, given?: unknown): string {
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

function pageUrl(id: number, back: string, hash = ""): string {
  return `/tickets/${id}${
    back === "/dashboard" ? "" : `?back=${encodeURIComponent(back)}`
  }${hash}`;
}

/** The logged-in admin or agent (the session guard runs before every page). */
function viewer(c: Context): Pick<User, "username" | "role"> {
  return (c as Context<AppEnv>).get("user") ?? { username: "", role: "agent" };
}

/** A form field as text ("" when absent or a file). */
function field(form: Record<string, unknown>, name: string): string {
  const v = form[name];
  return typeof v === "string" ? v : "";
}

/** The version the form was rendered with; every dashboard form carries one. */
function formVersion(form: Record<string, unknown>): number {
  const v = positiveInt(field(form, "version"));
  if (v === undefined) {
    throw new HttpProblem({
      status: 422,
      title: "Missing version",
      detail:
        "The form did not say which version of the ticket it edits; reload the page and try again",
    });
  }
  return v;
}

async function mustGet(store: TicketStore, id: number) {
  const t = await store.getTicket(id);
  if (!t) throw new NotFoundError(id);
  return t;
}

type SaveOutcome =
  | { ok: true; ticket: Ticket }
  | { ok: false; current: TicketWithComments };

/**
 * Saves one field with an optimistic version check. If the version is stale
 * only because *another* field changed (the edited one still holds what the
 * admin saw), the change overwrites nothing unseen and is applied; otherwise
 * nothing is saved and the caller shows the conflict.
 */
async function saveField(
  store: TicketStore,
  id: number,
  patch: TicketPatch,
  opts: { version: number; seen: string; actor: string },
): Promise<SaveOutcome> {
  const key = patch.status !== undefined ? "status" : "description";
  let expectedVersion = opts.version;
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const { value } = await store.updateTicket(id, patch, {
        actor: opts.actor,
        expectedVersion,
      });
      return { ok: true, ticket: value };
    } catch (err) {
      if (!(err instanceof StaleVersionError)) throw err;
      const current = await mustGet(store, id);
      if (current[key] !== opts.seen || attempt === 1) {
        return { ok: false, current };
      }
      expectedVersion = current.version;
    }
  }
  throw new Error("unreachable");
}

/** Builds the dashboard sub-app. */
export function dashboard({ store }: DashboardDeps) {
  const app = new Hono<AppEnv>();

  const ticketPage = async (
    c: Context,
    id: number,
    extra: Partial<TicketPageProps> = {},
  ) => {
    // The resume point is read first: whatever happens after it is replayed.
    const after = await store.latestEventId();
    const [ticket, events] = await Promise.all([
      mustGet(store, id),
      store.ticketActivity(id),
    ]);
    return TicketPage({
      ticket,
      events,
      back: backOf(c),
      now: new Date(),
      assets: PAGE_ASSETS,
      user: viewer(c),
      liveUrl: liveUrl({ ticket: id }, after),
      ...extra,
    });
  };

  app.get("/", (c) => c.redirect("/dashboard", 302));

  app.get("/dashboard", async (c) => {
    const filter = readFilter(c);
    const live = c.req.query("live") === "1";
    const number = ticketNumber(filter.q);
    const jump = number !== undefined && await store.getTicket(number)
      ? number
      : undefined;
    if (jump !== undefined && !live) {
      const to = pageUrl(jump, dashboardHref({ ...filter, q: undefined }));
      if (isHtmx(c)) return c.body(null, 200, { "HX-Redirect": to });
      return c.redirect(to, 303);
    }
    const before = positiveInt(c.req.query("before"));
    // Read before the list: events after it are replayed by the stream (cards
    // already shown are replaced by id, never duplicated).
    const after = await store.latestEventId();
    const [page, counts] = await Promise.all([
      store.listTickets({
        ...listFilter(filter),
        before_id: before,
        limit: PAGE_SIZE,
      }),
      store.countByStatus(),
    ]);
    const props = {
      filter,
      counts,
      items: page.items,
      nextBefore: page.next_before_id,
      before,
      terms: searchTerms(filter.q),
      jump,
      origin: new URL(c.req.url).origin,
      now: new Date(),
      // A later page (?before=) is history: it does not take live inserts.
      live: before === undefined
        ? { url: liveUrl(filter, after), user: viewer(c).username }
        : undefined,
    };
    if (wantsFragment(c)) {
      // Typing replaces the history entry; a tab or a submitted search adds one.
      c.header(live ? "HX-Replace-Url" : "HX-Push-Url", dashboardHref(filter));
      return c.html(<BoardFragment {...props} />);
    }
    const products = await store.listProducts(100);
    return c.html(
      DashboardPage({
        ...props,
        products,
        assets: PAGE_ASSETS,
        user: viewer(c),
      }),
    );
  });

  app.get("/dashboard/cards", async (c) => {
    const filter = readFilter(c);
    const page = await store.listTickets({
      ...listFilter(filter),
      before_id: positiveInt(c.req.query("before")),
      limit: PAGE_SIZE,
    });
    return c.html(
      <CardsPage
        items={page.items}
        filter={filter}
        before={page.next_before_id}
        terms={searchTerms(filter.q)}
        now={new Date()}
      />,
    );
  });

  app.get("/tickets.csv", (c) => {
    const stamp = new Date().toISOString().slice(0, 10);
    return c.body(ticketsCsv(store, listFilter(readFilter(c))), 200, {
      "Content-Type": "text/csv; charset=utf-8",
      "Content-Disposition": `attachment; filename="tickets-${stamp}.csv"`,
      "Cache-Control": "no-store",
    });
  });

  app.get("/tickets/:id", async (c) => {
    const id = ticketId(c);
    const editing = c.req.query("edit") === "description";
    return c.html(await ticketPage(c, id, { editing }));
  });

  app.get("/tickets/:id/description", async (c) => {
    const id = ticketId(c);
    const back = backOf(c);
    if (!isHtmx(c)) return c.redirect(pageUrl(id, back, "#description"), 303);
    return c.html(
      <DescriptionView ticket={await mustGet(store, id)} back={back} />,
    );
  });

  app.get("/tickets/:id/description/edit", async (c) => {
    const id = ticketId(c);
    const back = backOf(c);
    if (!isHtmx(c)) {
      const q = new URLSearchParams({ edit: "description" });
      if (back !== "/dashboard") q.set("back", back);
      return c.redirect(`/tickets/${id}?${q}#description`, 303);
    }
    return c.html(
      <DescriptionForm ticket={await mustGet(store, id)} back={back} />,
    );
  });

  app.post("/tickets/:id/status", async (c) => {
    const id = ticketId(c);
    const form = await c.req.parseBody();
    const status = parseStatus(field(form, "status"));
    if (!status) {
      throw invalid("status", `must be one of ${STATUSES.join(", ")}`);
    }
    const result = await saveField(store, id, { status }, {
      version: formVersion(form),
      seen: field(form, "seen"),
      actor: actorOf(c),
    });
    const notice = result.ok
      ? undefined
      : statusConflict(result.current, status);
    const code = result.ok ? 200 : 409;
    if (!isHtmx(c)) {
      if (notice) {
        return c.html(await ticketPage(c, id, { statusNotice: notice }), 409);
      }
      const back = backOf(c, form.back);
      return c.redirect(
        field(form, "view") === "card" ? back : pageUrl(id, back),
        303,
      );
    }
    const [ticket, events] = await Promise.all([
      mustGet(store, id),
      store.ticketActivity(id),
    ]);
    if (field(form, "view") === "card") {
      const counts = await store.countByStatus();
      return c.html(
        <>
          <TicketCard
            ticket={listItemOf(ticket)}
            now={new Date()}
            notice={notice}
          />
          <CountsUpdate counts={counts} />
        </>,
        code,
      );
    }
    return c.html(
      <>
        <StatusPanel ticket={ticket} notice={notice} />
        <Activity events={events} now={new Date()} oob />
      </>,
      code,
    );
  });

  app.post("/tickets/:id/description", async (c) => {
    const id = ticketId(c);
    const form = await c.req.parseBody();
    const description = field(form, "description").replaceAll("\r\n", "\n")
      .trim();
    if (description.length > MAX_TEXT) {
      throw invalid("description", `must be at most ${MAX_TEXT} characters`);
    }
    const unprintable = textProblem(description, true);
    if (unprintable) throw invalid("description", unprintable);
    const back = backOf(c, form.back);
    const result = await saveField(store, id, { description }, {
      version: formVersion(form),
      seen: field(form, "seen").replaceAll("\r\n", "\n"),
      actor: actorOf(c),
    });
    const events = await store.ticketActivity(id);
    if (!result.ok) {
      const conflict = {
        mine: description,
        by: lastChangedBy(events, "description"),
      };
      if (!isHtmx(c)) return c.html(await ticketPage(c, id, { conflict }), 409);
      return c.html(
        <DescriptionForm
          ticket={result.current}
          back={back}
          conflict={conflict}
        />,
        409,
      );
    }
    if (!isHtmx(c)) return c.redirect(pageUrl(id, back, "#description"), 303);
    return c.html(
      <>
        <DescriptionView ticket={result.ticket} back={back} saved />
        <Activity events={events} now={new Date()} oob />
      </>,
    );
  });

  app.post("/tickets/:id/comments", async (c) => {
    const id = ticketId(c);
    const form = await c.req.parseBody();
    const body = field(form, "body").replaceAll("\r\n", "\n").trim();
    const back = backOf(c, form.back);
    const unprintable = textProblem(body, true);
    const error = body === ""
      ? "Write something first: the comment is empty."
      : body.length > MAX_TEXT
      ? `Too long: at most ${MAX_TEXT} characters.`
      : unprintable
      ? `The comment ${unprintable}.`
      : undefined;
    if (error) {
      if (!isHtmx(c)) {
        return c.html(await ticketPage(c, id, { commentError: error }), 422);
      }
      const ticket = await mustGet(store, id);
      return c.html(
        <Thread
          ticket={ticket}
          back={back}
          now={new Date()}
          draft={body}
          error={error}
        />,
        422,
      );
    }
    const { value } = await store.addComment(id, body, { actor: actorOf(c) });
    if (!isHtmx(c)) {
      return c.redirect(pageUrl(id, back, `#comment-${value.id}`), 303);
    }
    const [ticket, events] = await Promise.all([
      mustGet(store, id),
      store.ticketActivity(id),
    ]);
    return c.html(
      <>
        <Thread
          ticket={ticket}
          back={back}
          now={new Date()}
          announce="Comment added"
        />
        <Activity events={events} now={new Date()} oob />
      </>,
    );
  });

  return app;
}

function invalid(name: string, detail: string): HttpProblem {
  return new HttpProblem({
    status: 422,
    title: "Invalid form",
    detail: `${name} ${detail}`,
    errors: [{ field: name, detail }],
  });
}

function statusConflict(current: Ticket, wanted: Status): string {
  return `Not changed: ticket ${current.id} was changed meanwhile and is now ${current.status}. ` +
    (current.status === wanted
      ? "That is what you wanted."
      : `Press ${wanted} again to set it anyway.`);
}
