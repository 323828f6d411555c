/**
 * The requester's status page, `/r/{token}`: no account, the link is the key.
 * Mounted before the session guard, after the CSRF guard: its reply form posts
 * to our own origin (in a browser or an app's web view alike), so the Origin
 * check passes for it and fails for anyone else's page. Also the agent's side
 * of the link: revoking it from the ticket page.
 */
import { type Context, Hono } from "hono";
import { z } from "@hono/zod-openapi";
import type { TicketStore } from "../db/store.ts";
import { openRequest, replyAsRequester } from "../db/requests.ts";
import type { RequesterLinks } from "../lib/requester_token.ts";
import type { RateLimiter } from "../lib/rate_limit.ts";
import {
  RequesterLinkPanel,
  RequesterPage,
  type RequesterPageProps,
  RequestNotFoundPage,
} from "../views/requester_page.tsx";
import { TimelineList } from "../views/ticket_timeline.tsx";
import { ASSETS, PAGE_STYLES } from "./assets.ts";
import { actorOf, type AppEnv } from "./context.ts";
import { commentBodyField, formText, readForm } from "./fields.ts";
import { isHtmx, ticketId } from "./page_request.ts";
import { HttpProblem } from "./problems.ts";

export interface RequesterPagesDeps {
  store: TicketStore;
  links: RequesterLinks;
  replyLimit: RateLimiter;
}

const STYLES = PAGE_STYLES;
const ASSETS_OF_PAGE = {
  styles: STYLES,
  scripts: [ASSETS.pageJs.url],
  worker: ASSETS.liveHub.url,
};

const ReplyForm = z.object({ body: formText(commentBodyField) });

/** The page for a link that opens nothing: a plain 404, the same for every reason. */
function notFound(c: Context<AppEnv>) {
  c.header("Cache-Control", "no-store");
  return c.html(RequestNotFoundPage({ styles: STYLES }), 404);
}

/** The status page, or it again with the reply box's draft and message (422, 429). */
async function page(
  c: Context<AppEnv>,
  deps: RequesterPagesDeps,
  extra: Partial<RequesterPageProps> = {},
  status: 200 | 422 | 429 = 200,
) {
  const token = c.req.param("token")!;
  const view = await openRequest(deps.store, deps.links, token);
  if (!view) return notFound(c);
  // The URL is the key: no cache may keep the page, no search engine list it.
  c.header("Cache-Control", "no-store");
  c.header("X-Robots-Tag", "noindex");
  return c.html(
    RequesterPage({
      ...view,
      token,
      now: new Date(),
      assets: ASSETS_OF_PAGE,
      ...extra,
    }),
    status,
  );
}

/** GET and POST /r/{token}: public, before the session guard. */
export function requesterPages(deps: RequesterPagesDeps) {
  const app = new Hono<AppEnv>();

  app.get(
    "/r/:token",
    (c) => page(c, deps, { sent: c.req.query("sent") === "1" }),
  );

  app.post("/r/:token", async (c) => {
    const token = c.req.param("token");
    const form = await readForm(c, ReplyForm);
    if (!form.ok) {
      const draft = String((await c.req.parseBody()).body ?? "");
      const error = `Your reply ${form.errors.body ?? "cannot be read"}.`;
      return page(c, deps, { draft, error }, 422);
    }
    if (deps.links.ticketIdOf(token) === null) return notFound(c);
    const d = deps.replyLimit.take(token);
    if (!d.allowed) {
      c.header("Retry-After", String(d.retryAfterSeconds));
      const error =
        `You have sent many replies in a short time: wait ${d.retryAfterSeconds} seconds, then send this one.`;
      return page(c, deps, { draft: form.value.body, error }, 429);
    }
    const done = await replyAsRequester(
      deps.store,
      deps.links,
      token,
      form.value.body,
    );
    if (!done) return notFound(c);
    return c.redirect(`/r/${token}?sent=1#reply-${done.value.id}`, 303);
  });
  return app;
}

/** POST /tickets/{id}/requester-link/revoke: for agents, behind the session guard. */
export function requesterLinkRoutes(deps: RequesterPagesDeps) {
  const app = new Hono<AppEnv>();
  app.post("/tickets/:id/requester-link/revoke", async (c) => {
    const id = ticketId(c);
    const { value } = await deps.store.revokeRequesterLink(id, {
      actor: actorOf(c),
    });
    if (!isHtmx(c)) return c.redirect(`/tickets/${id}#requester-link`, 303);
    const [ticket, events] = await Promise.all([
      deps.store.getTicket(id),
      deps.store.ticketActivity(id),
    ]);
    return c.html(
      <>
        <RequesterLinkPanel
          ticketId={id}
          url={deps.links.url(value)}
          notice="Link revoked: the old one no longer works. Send the requester this new one."
        />
        {ticket && (
          <TimelineList ticket={ticket} events={events} now={new Date()} oob />
        )}
      </>,
    );
  });
  app.all("/tickets/:id/requester-link/revoke", () => {
    throw new HttpProblem({
      status: 405,
      title: "Method not allowed",
      detail: "Revoke the link with the button on the ticket page.",
      headers: { Allow: "POST" },
    });
  });
  return app;
}
