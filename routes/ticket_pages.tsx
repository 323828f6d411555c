/**
 * The ticket page: the ticket with its thread and activity, its description
 * editor, and the comment form. Plain forms answered with a 303 (or the page
 * with the message beside the field); with htmx, the fragment to swap.
 */
import { Hono } from "hono";
import type { Context } from "hono";
import { z } from "@hono/zod-openapi";
import {
  type AccountStore,
  type TicketStore,
  VISIBILITIES,
} from "../db/store.ts";
import type { RequesterLinks } from "../lib/requester_token.ts";
import { saveField, type TicketView, ticketView } from "../db/desk.ts";
import { watchOf } from "../lib/live_filter.ts";
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
import { backOf, isHtmx, pageUrl, ticketId, viewer } from "./page_request.ts";
import {
  Activity,
  DescriptionForm,
  DescriptionView,
  lastChangedBy,
  Thread,
  TicketPage,
  type TicketPageProps,
} from "../views/ticket_page.tsx";

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
const CommentForm = z.object({
  back: z.string().optional(),
  body: formText(commentBodyField),
  // Which button was pressed; a form without one (an old page) adds a note.
  visibility: z.enum(VISIBILITIES).default("internal"),
});

/** Renders the whole ticket page for a request (also the no-JavaScript answer to every ticket form). */
export function ticketPageRenderer({ links }: Pick<TicketPagesDeps, "links">) {
  return (
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
}

/** Builds the ticket page sub-app. */
export function ticketPages({ store, links }: TicketPagesDeps) {
  const app = new Hono<AppEnv>();
  const ticketPage = ticketPageRenderer({ links });

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
    const { ticket } = await ticketView(store, id);
    return c.html(<DescriptionForm ticket={ticket} back={back} />);
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
