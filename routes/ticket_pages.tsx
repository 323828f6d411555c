/**
 * The ticket page: the ticket with its timeline, its description editor, the
 * comment form, the way to the previous and next ticket of the list it was
 * opened from, and the fragments a live update swaps. Plain forms answered
 * with a 303 (or the page with the message beside the field); with htmx, the
 * fragment to swap.
 */
import { Hono } from "hono";
import type { Context } from "hono";
import { z } from "@hono/zod-openapi";
import {
  type AccountStore,
  type PageKey,
  type TicketStore,
  type TicketSummary,
  VISIBILITIES,
} from "../db/store.ts";
import type { RequesterLinks } from "../lib/requester_token.ts";
import { saveField, type TicketView, ticketView } from "../db/desk.ts";
import { watchOf } from "../lib/live_filter.ts";
import { readPageKey, writePageKey } from "../lib/page_key.ts";
import { decodeChange } from "../lib/undo.ts";
import { ASSETS, PAGE_ASSETS } from "./assets.ts";
import { actorOf, type AppEnv } from "./context.ts";
import {
  commentBodyField,
  descriptionField,
  formText,
  positiveIntField,
  readForm,
  refused,
} from "./fields.ts";
import {
  backOf,
  filterOf,
  isHtmx,
  listFilter,
  pageUrl,
  ticketId,
  viewer,
} from "./page_request.ts";
import {
  DescriptionForm,
  DescriptionView,
  lastChangedBy,
  TicketDetails,
  type TicketNavLinks,
  TicketPage,
  type TicketPageProps,
  TriagePanel,
} from "../views/ticket_page.tsx";
import {
  CommentCount,
  CommentForm,
  TimelineList,
} from "../views/ticket_timeline.tsx";
import { RequesterLinkPanel } from "../views/requester_page.tsx";

export interface TicketPagesDeps {
  store: TicketStore & AccountStore;
  /** The requester's link, shown on the ticket page. */
  links: RequesterLinks;
}

const DescriptionFormInput = z.object({
  version: positiveIntField,
  seen: z.string().default(""),
  back: z.string().optional(),
  description: formText(descriptionField).transform((v) => v.trim()),
});
const CommentInput = z.object({
  back: z.string().optional(),
  body: formText(commentBodyField),
  // Which button was pressed; a form without one (an old page) adds a note.
  visibility: z.enum(VISIBILITIES).default("internal"),
});

/** Where a ticket stands in a list sorted by `sort`. */
function keyOf(t: TicketSummary | TicketView["ticket"]): PageKey {
  return { id: t.id, priority: t.priority, updated_at: t.updated_at };
}

/**
 * The previous and next ticket of the list the page was opened from (the
 * dashboard URL in `back`), as links that keep `back`. Each carries `at`, the
 * ticket's place in that list when the link was made: a ticket changed on
 * its own page moves in an activity or priority order, and the way on still
 * starts from where the agent found it.
 */
async function neighbourLinks(
  store: TicketStore,
  c: Context,
  ticket: TicketView["ticket"],
  back: string,
): Promise<TicketNavLinks> {
  let list;
  try {
    list = listFilter(filterOf(back), viewer(c).username);
  } catch {
    return { prev: null, next: null }; // a way back no list can be read from
  }
  const sort = list.sort ?? "newest";
  const given = readPageKey(c.req.query("at"), sort);
  const key = given?.id === ticket.id ? given : keyOf(ticket);
  const thread = c.req.query("thread") === "comments";
  const [next, prev] = await Promise.all([
    store.listTickets({ ...list, after: key, before: undefined, limit: 1 }),
    store.listTickets({ ...list, after: undefined, before: key, limit: 1 }),
  ]);
  const href = (t: TicketSummary | undefined) => {
    if (!t) return null;
    const q = new URLSearchParams();
    if (back !== "/dashboard") q.set("back", back);
    q.set("at", writePageKey(keyOf(t), sort));
    if (thread) q.set("thread", "comments");
    return `/tickets/${t.id}?${q}`;
  };
  return { prev: href(prev.items[0]), next: href(next.items[0]) };
}

/** Renders the whole ticket page for a request (also the no-JavaScript answer to every ticket form). */
export function ticketPageRenderer(
  { store, links }: Pick<TicketPagesDeps, "store" | "links">,
) {
  return async (
    c: Context,
    view: TicketView,
    extra: Partial<TicketPageProps> = {},
  ) => {
    const back = backOf(c);
    return await TicketPage({
      ...view,
      back,
      now: new Date(),
      assets: PAGE_ASSETS,
      user: viewer(c),
      requesterUrl: links.url(view.ticket),
      live: {
        watch: watchOf({ ticket: view.ticket.id }, view.after),
        worker: ASSETS.liveHub.url,
      },
      nav: await neighbourLinks(store, c, view.ticket, back),
      commentsOnly: c.req.query("thread") === "comments",
      ...extra,
    });
  };
}

/** Builds the ticket page sub-app. */
export function ticketPages({ store, links }: TicketPagesDeps) {
  const app = new Hono<AppEnv>();
  const ticketPage = ticketPageRenderer({ store, links });

  app.get("/tickets/:id", async (c) => {
    const view = await ticketView(store, ticketId(c));
    return c.html(
      ticketPage(c, view, {
        editing: c.req.query("edit") === "description",
        undo: decodeChange(c.req.query("undo")),
      }),
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
    const { ticket, events } = await ticketView(store, id);
    // `compare`: a draft begun on an older text (kept in the browser) is
    // reopened as after a conflict, the current text beside it; the page
    // puts the draft in "Your version".
    const conflict = c.req.query("compare") === "1"
      ? { mine: "", by: lastChangedBy(events, "description") }
      : undefined;
    return c.html(
      <DescriptionForm
        ticket={ticket}
        back={back}
        {...(conflict ? { conflict } : {})}
      />,
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
    const view = await ticketView(store, id);
    if (!result.ok) {
      const conflict = {
        mine: description,
        by: lastChangedBy(view.events, "description"),
      };
      if (!isHtmx(c)) return c.html(ticketPage(c, view, { conflict }), 409);
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
        <TimelineList
          ticket={view.ticket}
          events={view.events}
          now={new Date()}
          oob
        />
      </>,
    );
  });

  app.post("/tickets/:id/comments", async (c) => {
    const id = ticketId(c);
    const form = await readForm(c, CommentInput);
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
        <>
          <TimelineList
            ticket={view.ticket}
            events={view.events}
            now={new Date()}
          />
          <CommentForm
            ticket={view.ticket}
            back={back}
            draft={draft}
            error={error}
            oob
          />
        </>,
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
    // The list and a fresh, empty box; the rest of the page stays as it is.
    return c.html(
      <>
        <TimelineList
          ticket={ticket}
          events={events}
          now={new Date()}
          announce={visibility === "public"
            ? "Reply sent to the requester"
            : "Internal note added"}
        />
        <CommentCount ticket={ticket} oob />
        <CommentForm ticket={ticket} back={back} oob />
      </>,
    );
  });

  // What a live update swaps (static/ticket_page.js picks what is not being
  // edited): the timeline, its count, the status panel, the description, the
  // details and the requester's link, each under its id.
  app.get("/tickets/:id/latest", async (c) => {
    const id = ticketId(c);
    const back = backOf(c);
    if (!isHtmx(c)) return c.redirect(pageUrl(id, back), 303);
    const { ticket, events, users } = await ticketView(store, id);
    const now = new Date();
    return c.html(
      <>
        <TimelineList ticket={ticket} events={events} now={now} />
        <CommentCount ticket={ticket} />
        <TriagePanel ticket={ticket} users={users} />
        <DescriptionView ticket={ticket} back={back} />
        <TicketDetails ticket={ticket} now={now} />
        <RequesterLinkPanel ticketId={id} url={links.url(ticket)} />
      </>,
    );
  });

  return app;
}
