/**
 * The dashboard: HTML pages and htmx fragments, HTML only.
 *
 * Every action is a plain form POST answered with a 303 back to the page
 * (works without JavaScript); with htmx (HX-Request) it answers with the
 * fragment to swap instead. Forms are checked with the API's own field rules
 * (routes/fields.ts) and come back with the message beside the field.
 */
import { Hono } from "hono";
import type { Context } from "hono";
import { z } from "@hono/zod-openapi";
import {
  searchTerms,
  type Status,
  type TicketStore,
  VISIBILITIES,
} from "../db/store.ts";
import type { RequesterLinks } from "../lib/requester_token.ts";
import {
  loadBoard,
  namedTicket,
  saveField,
  type TicketView,
  ticketView,
  webhookAlerts,
} from "../db/desk.ts";
import { watchOf } from "../lib/live_filter.ts";
import { ASSETS } from "./assets.ts";
import { actorOf, type AppEnv } from "./context.ts";
import { ticketsCsv } from "./csv.ts";
import {
  commentBodyField,
  descriptionField,
  formText,
  positiveIntField,
  readForm,
  statusField,
} from "./fields.ts";
import {
  backOf,
  isHtmx,
  listFilter,
  pageUrl,
  positiveInt,
  readFilter,
  redirectTo,
  ticketId,
  viewer,
  wantsFragment,
} from "./page_request.ts";
import { HttpProblem } from "./problems.ts";
import {
  CardsPage,
  CountsUpdate,
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
  /** The requester's link, shown on the ticket page. */
  links: RequesterLinks;
}

const PAGE_SIZE = 50;

/** Stylesheets and the script (htmx, the live hub's fallback, app.js, live.js in one file) of every page. */
export const PAGE_ASSETS = {
  styles: [ASSETS.pico.url, ASSETS.appCss.url],
  scripts: [ASSETS.pageJs.url],
};

/** Every dashboard form carries the version it was rendered with, and where to go back to. */
const versioned = {
  version: positiveIntField,
  seen: z.string().default(""),
  back: z.string().optional(),
};
const StatusForm = z.object({
  ...versioned,
  status: statusField,
  view: z.enum(["card", "page"]).default("page"),
});
const DescriptionFormInput = z.object({
  ...versioned,
  description: formText(descriptionField).transform((v) => v.trim()),
});
const CommentForm = z.object({
  back: z.string().optional(),
  body: formText(commentBodyField),
  // Which button was pressed; a form without one (an old page) adds a note.
  visibility: z.enum(VISIBILITIES).default("internal"),
});

/** A refused button press has no field to show a message beside: it is a 422 notice. */
function refused(errors: Record<string, string>): HttpProblem {
  const fields = Object.entries(errors);
  return new HttpProblem({
    status: 422,
    title: "Invalid form",
    detail: fields.map(([f, m]) => `${f} ${m}`).join("; ") +
      (errors.version ? ": reload the page and try again" : ""),
    errors: fields.map(([field, detail]) => ({ field, detail })),
  });
}

function statusConflict(
  current: { id: number; status: Status },
  wanted: Status,
): string {
  return `Not changed: ticket ${current.id} was changed meanwhile and is now ${current.status}. ` +
    (current.status === wanted
      ? "That is what you wanted."
      : `Press ${wanted} again to set it anyway.`);
}

/** Builds the dashboard sub-app. */
export function dashboard({ store, links }: DashboardDeps) {
  const app = new Hono<AppEnv>();

  /** The whole ticket page (the no-JavaScript answer to every ticket form). */
  const ticketPage = (
    c: Context,
    view: TicketView,
    extra: Partial<TicketPageProps> = {},
  ) =>
    TicketPage({
      ...view,
      back: backOf(c),
      now: new Date(),
      assets: PAGE_ASSETS,
      user: viewer(c),
      requesterUrl: links.url(view.ticket),
      live: {
        watch: watchOf({ ticket: view.ticket.id }, view.after),
        worker: ASSETS.liveHub.url,
      },
      ...extra,
    });

  app.get("/", (c) => c.redirect("/dashboard", 302));

  app.get("/dashboard", async (c) => {
    const filter = readFilter(c);
    const live = c.req.query("live") === "1"; // search as you type: never jump away
    const jump = await namedTicket(store, filter.q);
    if (jump !== undefined && !live) {
      return redirectTo(
        c,
        pageUrl(jump, dashboardHref({ ...filter, q: undefined })),
      );
    }
    const before = positiveInt(c.req.query("before"));
    const board = await loadBoard(store, {
      ...listFilter(filter),
      before_id: before,
      limit: PAGE_SIZE,
    });
    const props = {
      filter,
      counts: board.counts,
      items: board.page.items,
      nextBefore: board.page.next_before_id,
      before,
      terms: searchTerms(filter.q),
      jump,
      origin: new URL(c.req.url).origin,
      now: new Date(),
      // A later page (?before=) is history: it does not take live inserts.
      live: before === undefined
        ? {
          watch: watchOf(filter, board.after),
          user: viewer(c).username,
          worker: ASSETS.liveHub.url,
        }
        : undefined,
    };
    if (!wantsFragment(c)) {
      const [products, disabledWebhooks] = await Promise.all([
        store.listProducts(100),
        webhookAlerts(store, viewer(c).role),
      ]);
      return c.html(
        DashboardPage({
          ...props,
          products,
          disabledWebhooks,
          assets: PAGE_ASSETS,
          user: viewer(c),
        }),
      );
    }
    // Typing replaces the history entry; a tab or a submitted search adds one.
    c.header(live ? "HX-Replace-Url" : "HX-Push-Url", dashboardHref(filter));
    return c.html(<BoardFragment {...props} />);
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
    const view = await ticketView(store, ticketId(c));
    return c.html(
      ticketPage(c, view, { editing: c.req.query("edit") === "description" }),
    );
  });

  app.get("/tickets/:id/description", async (c) => {
    const id = ticketId(c);
    const back = backOf(c);
    if (!isHtmx(c)) return c.redirect(pageUrl(id, back, "#description"), 303);
    const { ticket } = await ticketView(store, id);
    return c.html(<DescriptionView ticket={ticket} back={back} />);
  });

  app.get("/tickets/:id/description/edit", async (c) => {
    const id = ticketId(c);
    const back = backOf(c);
    if (!isHtmx(c)) {
      const q = new URLSearchParams({ edit: "description" });
      if (back !== "/dashboard") q.set("back", back);
      return c.redirect(`/tickets/${id}?${q}#description`, 303);
    }
    const { ticket } = await ticketView(store, id);
    return c.html(<DescriptionForm ticket={ticket} back={back} />);
  });

  app.post("/tickets/:id/status", async (c) => {
    const id = ticketId(c);
    const form = await readForm(c, StatusForm);
    if (!form.ok) throw refused(form.errors);
    const { status, version, seen, view } = form.value;
    const result = await saveField(store, id, { status }, {
      version,
      seen,
      actor: actorOf(c),
    });
    const notice = result.ok
      ? undefined
      : statusConflict(result.current, status);
    const ticket = result.ok ? result.ticket : listItemOf(result.current);
    if (!isHtmx(c)) {
      if (notice) {
        return c.html(
          ticketPage(c, await ticketView(store, id), { statusNotice: notice }),
          409,
        );
      }
      const back = backOf(c, form.value.back);
      return c.redirect(view === "card" ? back : pageUrl(id, back), 303);
    }
    const code = result.ok ? 200 : 409;
    if (view === "card") {
      const counts = await store.countByStatus();
      return c.html(
        <>
          <TicketCard ticket={ticket} now={new Date()} notice={notice} />
          <CountsUpdate counts={counts} />
        </>,
        code,
      );
    }
    const events = await store.ticketActivity(id);
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
    const form = await readForm(c, DescriptionFormInput);
    if (!form.ok && !form.errors.description) throw refused(form.errors);
    if (!form.ok) {
      const view = await ticketView(store, id);
      const draft = String((await c.req.parseBody()).description ?? "");
      const error = `The description ${form.errors.description}.`;
      if (!isHtmx(c)) {
        return c.html(
          ticketPage(c, view, {
            editing: true,
            descriptionDraft: draft,
            descriptionError: error,
          }),
          422,
        );
      }
      return c.html(
        <DescriptionForm
          ticket={view.ticket}
          back={backOf(c)}
          draft={draft}
          error={error}
        />,
        422,
      );
    }
    const { description, version, seen } = form.value;
    const back = backOf(c, form.value.back);
    const result = await saveField(store, id, { description }, {
      version,
      seen: seen.replaceAll("\r\n", "\n"),
      actor: actorOf(c),
    });
    if (!isHtmx(c) && result.ok) {
      return c.redirect(pageUrl(id, back, "#description"), 303);
    }
    const events = await store.ticketActivity(id);
    if (!result.ok) {
      const conflict = {
        mine: description,
        by: lastChangedBy(events, "description"),
      };
      if (!isHtmx(c)) {
        return c.html(
          ticketPage(c, await ticketView(store, id), { conflict }),
          409,
        );
      }
      return c.html(
        <DescriptionForm
          ticket={result.current}
          back={back}
          conflict={conflict}
        />,
        409,
      );
    }
    return c.html(
      <>
        <DescriptionView ticket={result.ticket} back={back} saved />
        <Activity events={events} now={new Date()} oob />
      </>,
    );
  });

  app.post("/tickets/:id/comments", async (c) => {
    const id = ticketId(c);
    const form = await readForm(c, CommentForm);
    const back = backOf(c, form.ok ? form.value.back : undefined);
    if (!form.ok) {
      const view = await ticketView(store, id);
      const draft = String((await c.req.parseBody()).body ?? "");
      const error = `The comment ${form.errors.body ?? "cannot be read"}.`;
      if (!isHtmx(c)) {
        return c.html(
          ticketPage(c, view, { commentError: error, commentDraft: draft }),
          422,
        );
      }
      return c.html(
        <Thread
          ticket={view.ticket}
          back={back}
          now={new Date()}
          draft={draft}
          error={error}
        />,
        422,
      );
    }
    const { visibility } = form.value;
    const { value } = await store.addComment(id, form.value.body, {
      actor: actorOf(c),
      visibility,
    });
    if (!isHtmx(c)) {
      return c.redirect(pageUrl(id, back, `#comment-${value.id}`), 303);
    }
    const { ticket, events } = await ticketView(store, id);
    return c.html(
      <>
        <Thread
          ticket={ticket}
          back={back}
          now={new Date()}
          announce={visibility === "public"
            ? "Reply sent to the requester"
            : "Internal note added"}
        />
        <Activity events={events} now={new Date()} oob />
      </>,
    );
  });

  return app;
}
