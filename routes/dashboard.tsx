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
  type AccountStore,
  BOARD_LAYOUTS,
  type BulkOutcome,
  searchTerms,
  type Status,
  type TicketStore,
} from "../db/store.ts";
import { writePageKey } from "../lib/page_key.ts";
import { tabCounts } from "../views/triage.tsx";
import type { RequesterLinks } from "../lib/requester_token.ts";
import {
  loadBoard,
  namedTicket,
  saveField,
  type SaveOutcome,
  splitUsers,
  ticketView,
  undoChange,
  viewCounts,
  webhookAlerts,
} from "../db/desk.ts";
import { showsTicket, watchOf } from "../lib/live_filter.ts";
import { DEFAULT_VIEW } from "../lib/status_view.ts";
import {
  decodeChange,
  encodeChange,
  UNDOABLE,
  type UndoChange,
  type UndoField,
} from "../lib/undo.ts";
import {
  changeText,
  MovedCard,
  undoneText,
  UndoOffer,
} from "../views/undo.tsx";
import { ASSETS, PAGE_ASSETS } from "./assets.ts";
import { actorOf, type AppEnv } from "./context.ts";
import { ticketsCsv } from "./csv.ts";
import {
  positiveIntField,
  priorityField,
  readFields,
  readForm,
  refused,
  statusField,
} from "./fields.ts";
import { ticketPageRenderer } from "./ticket_pages.tsx";
import {
  backOf,
  filterOf,
  isHtmx,
  listFilter,
  pageUrl,
  positiveInt,
  readFilter,
  redirectTo,
  streamFilterOf,
  ticketId,
  viewer,
  wantsFragment,
} from "./page_request.ts";
import {
  CardsPage,
  CountsUpdate,
  type DashboardFilter,
  dashboardHref,
  listItemOf,
  TicketCard,
} from "../views/ticket_card.tsx";
import { BoardFragment, DashboardPage } from "../views/dashboard_page.tsx";
import { TriagePanel } from "../views/ticket_page.tsx";
import { TimelineList } from "../views/ticket_timeline.tsx";

export interface DashboardDeps {
  store: TicketStore & AccountStore;
  /** The requester's link, shown on the ticket page. */
  links: RequesterLinks;
}

const PAGE_SIZE = 50;

/** What a bulk change did (the board shows it above the cards). */
type BulkNotice = { changed: number; total: number; skipped: number[] };

/** Every dashboard form carries the version it was rendered with, and where to go back to. */
const versioned = {
  version: positiveIntField,
  seen: z.string().default(""),
  back: z.string().optional(),
};
const view = z.enum(["card", "page"]).default("page");
const StatusForm = z.object({ ...versioned, status: statusField, view });
const PriorityForm = z.object({ ...versioned, priority: priorityField, view });
const AssigneeForm = z.object({
  ...versioned,
  // "@me" (Take), "" (Unassign) or a user's name (the picker).
  assignee: z.string().regex(/^(@me|[\w.@-]{0,64})$/, "must be a user name"),
  view,
  confirm: z.string().optional().transform((v) => v === "1"),
});
const LayoutForm = z.object({
  layout: z.enum(BOARD_LAYOUTS, { message: "must be grid or list" }),
  back: z.string().optional(),
});
/** The bulk form: the cards' boxes (ids) and versions (v<id>), and what to set. */
const BulkForm = z.object({
  back: z.string().optional(),
  status: z.union([z.literal(""), statusField]).default(""),
  priority: z.union([z.literal(""), priorityField]).default(""),
  assignee: z.string().regex(
    /^(@me|@none|[\w.@-]{0,64})$/,
    "must be a user name",
  )
    .default(""),
});
/** The Undo form: the changes to put back, and which fragment to answer with. */
async function readUndoForm(c: Context) {
  const body = await c.req.parseBody({ all: true });
  const raw = [body.change ?? []].flat();
  const changes = raw.map(decodeChange).filter((
    x,
  ): x is UndoChange => x !== undefined);
  if (changes.length === 0 || changes.length !== raw.length) {
    throw refused({ change: "is not a change this desk made" });
  }
  if (changes.length > 500) {
    throw refused({ change: "undo at most 500 changes at a time" });
  }
  const view = z.enum(["card", "page", "board"]).safeParse(body.view);
  if (!view.success) throw refused({ view: "must be card, page or board" });
  const back = typeof body.back === "string" ? body.back : undefined;
  return { changes, view: view.data, back };
}

/** The changes a bulk change made to one ticket, for its Undo. */
function changesMade(
  o: Extract<BulkOutcome, { ok: true }>,
): UndoChange[] {
  return UNDOABLE.flatMap((field) => {
    const c = o.changes[field];
    return c
      ? [{
        id: o.id,
        field,
        version: o.ticket.version,
        from: String(c.from ?? ""),
        to: String(c.to ?? ""),
      }]
      : [];
  });
}

/** What a bulk change did, as its Undo offer says it: "Changed 12 tickets". */
function bulkText(changes: UndoChange[]): string {
  const n = new Set(changes.map((c) => c.id)).size;
  return n === 1 ? `Changed #${changes[0]!.id}` : `Changed ${n} tickets`;
}

/** A URL with the Undo offer of a change, for the no-JavaScript answer (no text, only the change). */
function withUndo(url: string, change: UndoChange): string {
  const [path, hash = ""] = url.split("#");
  const sep = path!.includes("?") ? "&" : "?";
  return `${path}${sep}undo=${encodeURIComponent(encodeChange(change))}${
    hash ? `#${hash}` : ""
  }`;
}

/** The Undo offer a URL carries (the no-JavaScript answer to a change): none unless every part is one. */
function undoOfUrl(c: Context): UndoChange[] | undefined {
  const raw = c.req.queries("undo") ?? [];
  const changes = raw.slice(0, 50).map(decodeChange).filter((
    x,
  ): x is UndoChange => x !== undefined);
  return changes.length > 0 && changes.length === raw.length
    ? changes
    : undefined;
}

function ownerConflict(id: number, owner: string | null): string {
  return owner
    ? `Not changed: ${owner} took ticket ${id} meanwhile.`
    : `Not changed: ticket ${id} was unassigned meanwhile.`;
}

/** Reads the bulk form: which tickets at which versions, and the one change for all. */
async function readBulkForm(c: Context, me: string) {
  const body = await c.req.parseBody({ all: true });
  const ids = [body.ids].flat().map((v) => positiveInt(v)).filter((
    v,
  ): v is number => v !== undefined);
  const form = await readFields(BulkForm, body);
  if (!form.ok) throw refused(form.errors);
  const { status, priority, assignee, back } = form.value;
  const patch = {
    ...(status ? { status } : {}),
    ...(priority ? { priority } : {}),
    ...(assignee
      ? {
        assignee: assignee === "@me"
          ? me
          : assignee === "@none"
          ? null
          : assignee,
      }
      : {}),
  };
  if (ids.length === 0) throw refused({ ids: "select at least one ticket" });
  if (ids.length > 500) {
    throw refused({ ids: "select at most 500 tickets at a time" });
  }
  if (Object.keys(patch).length === 0) {
    throw refused({ status: "choose a status, an owner or a priority to set" });
  }
  const items = [...new Set(ids)].map((id) => ({
    id,
    expectedVersion: positiveInt(body[`v${id}`]),
  }));
  return { items, patch, back };
}

/** The no-JavaScript bulk answer goes back through the URL: numbers only, never text. */
function bulkQuery(n: BulkNotice): string {
  return new URLSearchParams({
    bulk: `${n.changed}.${n.total}`,
    ...(n.skipped.length ? { skipped: n.skipped.join(".") } : {}),
  }).toString();
}

function readBulkNotice(c: Context): BulkNotice | undefined {
  const m = /^(\d{1,4})\.(\d{1,4})$/.exec(c.req.query("bulk") ?? "");
  if (!m) return undefined;
  const skipped = (c.req.query("skipped") ?? "").split(".").map((v) =>
    positiveInt(v)
  ).filter((v): v is number => v !== undefined);
  return {
    changed: Number(m[1]),
    total: Number(m[2]),
    skipped: skipped.slice(0, 500),
  };
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

  const ticketPage = ticketPageRenderer({ store, links });

  app.get("/", (c) => c.redirect("/dashboard", 302));

  /** What a board shows for `filter`, from one loadBoard (plus what the request adds). */
  const boardProps = async (
    c: Context,
    filter: DashboardFilter,
    extra: { after?: string; jump?: number; bulkNotice?: BulkNotice } = {},
  ) => {
    const me = viewer(c).username;
    const list = listFilter(filter, me, extra.after);
    const board = await loadBoard(store, { ...list, limit: PAGE_SIZE });
    const next = board.page.next && writePageKey(board.page.next, list.sort!);
    return {
      filter,
      counts: tabCounts(board.counts, {
        status: filter.status ?? DEFAULT_VIEW,
        assignee: list.assignee,
      }, me),
      items: board.page.items,
      next,
      continued: list.after !== undefined,
      cards: {
        now: new Date(),
        terms: searchTerms(filter.q),
        disabledOwners: board.disabled,
        viewer: me,
      },
      users: board.users,
      origin: new URL(c.req.url).origin,
      layout: (c as Context<AppEnv>).get("user")?.board_layout ?? "grid",
      ...extra,
      // A later page (?after=) is history: it does not take live inserts.
      live: list.after === undefined
        ? {
          watch: watchOf({ ...filter, assignee: list.assignee }, board.after),
          user: me,
          worker: ASSETS.liveHub.url,
        }
        : undefined,
    };
  };

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
    const props = await boardProps(c, filter, {
      after: c.req.query("after"),
      jump,
      bulkNotice: readBulkNotice(c),
    });
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
          undo: undoOfUrl(c),
        }),
      );
    }
    // Typing replaces the history entry; a tab or a submitted search adds one.
    c.header(live ? "HX-Replace-Url" : "HX-Push-Url", dashboardHref(filter));
    return c.html(<BoardFragment {...props} />);
  });

  /** Cards or list: remembered for the user, then the board again in that layout. */
  app.post("/dashboard/layout", async (c) => {
    const form = await readForm(c, LayoutForm);
    if (!form.ok) throw refused(form.errors);
    const user = (c as Context<AppEnv>).get("user");
    if (user) {
      const saved = await store.setBoardLayout(
        user.username,
        form.value.layout,
      );
      (c as Context<AppEnv>).set("user", saved);
    }
    const back = backOf(c, form.value.back);
    if (!isHtmx(c)) return c.redirect(back, 303);
    const props = await boardProps(c, filterOf(back));
    return c.html(<BoardFragment {...props} />);
  });

  app.get("/dashboard/cards", async (c) => {
    const filter = readFilter(c);
    const props = await boardProps(c, filter, { after: c.req.query("after") });
    return c.html(
      <CardsPage
        items={props.items}
        filter={filter}
        next={props.next}
        cards={props.cards}
      />,
    );
  });

  app.get("/tickets.csv", (c) => {
    const stamp = new Date().toISOString().slice(0, 10);
    const filter = listFilter(readFilter(c), viewer(c).username);
    return c.body(ticketsCsv(store, filter), 200, {
      "Content-Type": "text/csv; charset=utf-8",
      "Content-Disposition": `attachment; filename="tickets-${stamp}.csv"`,
      "Cache-Control": "no-store",
    });
  });

  /**
   * Answers a quick change (status, owner, priority): the card with the counts
   * of the board it is on (or, when the ticket left that board's view, a
   * placeholder saying where it went), or the ticket page's triage panel with
   * the activity; and the Undo offer for what changed. Without htmx: back to
   * the page (or the ticket page with the notice), the offer in the URL.
   */
  const triageAnswer = async (
    c: Context,
    id: number,
    answer: {
      result: SaveOutcome;
      view: "card" | "page";
      back?: string;
      notice?: string;
      confirmOwner?: { assignee: string; label: string };
      /** The change made, to offer its Undo (none when nothing changed). */
      change?: UndoChange;
      /** Set when this answers an Undo: what it says instead of an offer. */
      undone?: string;
    },
  ) => {
    const { result, view, notice, change, undone } = answer;
    const ticket = result.ok ? result.ticket : listItemOf(result.current);
    const back = backOf(c, answer.back);
    const me = viewer(c).username;
    if (!isHtmx(c)) {
      if (!notice) {
        const to = view === "card" ? back : pageUrl(id, back);
        return c.redirect(change ? withUndo(to, change) : to, 303);
      }
      return c.html(
        ticketPage(c, await ticketView(store, id), { statusNotice: notice }),
        409,
      );
    }
    const code = result.ok && !answer.confirmOwner ? 200 : 409;
    const offer = change
      ? (
        <UndoOffer
          text={changeText(change, me)}
          changes={[change]}
          view={view}
          back={back}
          oob
        />
      )
      : undone
      ? <UndoOffer text={undone} view={view} back={back} oob />
      : null;
    const { users, disabled } = splitUsers(await store.listUsers());
    if (view === "card") {
      const board = filterOf(back);
      const list = listFilter(board, me);
      const counts = tabCounts(await viewCounts(store, list), {
        status: board.status ?? DEFAULT_VIEW,
        assignee: list.assignee,
      }, me);
      const left = change && !notice &&
        !showsTicket(streamFilterOf(board, me), ticket);
      return c.html(
        <>
          {left
            ? <MovedCard change={change} undo={{ change, back }} />
            : (
              <TicketCard
                ticket={ticket}
                now={new Date()}
                notice={notice}
                confirmOwner={answer.confirmOwner}
                disabledOwners={disabled}
                viewer={me}
              />
            )}
          <CountsUpdate counts={counts} />
          {offer}
        </>,
        code,
      );
    }
    const { ticket: full, events } = await ticketView(store, id);
    return c.html(
      <>
        <TriagePanel
          ticket={ticket}
          users={users}
          notice={notice}
          confirmOwner={answer.confirmOwner}
        />
        <TimelineList ticket={full} events={events} now={new Date()} oob />
        {offer}
      </>,
      code,
    );
  };

  /** The change a saved quick change made, for its Undo (none when it changed nothing). */
  const madeChange = (
    result: SaveOutcome,
    field: UndoField,
    from: string,
  ): UndoChange | undefined => {
    if (!result.ok) return undefined;
    const to = String(result.ticket[field] ?? "");
    return to === from ? undefined : {
      id: result.ticket.id,
      field,
      version: result.ticket.version,
      from,
      to,
    };
  };

  app.post("/tickets/:id/status", async (c) => {
    const id = ticketId(c);
    const form = await readForm(c, StatusForm);
    if (!form.ok) throw refused(form.errors);
    const { status, version, seen, view, back } = form.value;
    const result = await saveField(store, id, { status }, {
      version,
      seen,
      actor: actorOf(c),
    });
    const notice = result.ok
      ? undefined
      : statusConflict(result.current, status);
    return triageAnswer(c, id, {
      result,
      view,
      back,
      notice,
      change: madeChange(result, "status", seen),
    });
  });

  app.post("/tickets/:id/priority", async (c) => {
    const id = ticketId(c);
    const form = await readForm(c, PriorityForm);
    if (!form.ok) throw refused(form.errors);
    const { priority, version, seen, view, back } = form.value;
    const result = await saveField(store, id, { priority }, {
      version,
      seen,
      actor: actorOf(c),
    });
    const notice = result.ok
      ? undefined
      : `Not changed: ticket ${id} was changed meanwhile and is now ${result.current.priority} priority.`;
    return triageAnswer(c, id, {
      result,
      view,
      back,
      notice,
      change: madeChange(result, "priority", seen),
    });
  });

  app.post("/tickets/:id/assignee", async (c) => {
    const id = ticketId(c);
    const form = await readForm(c, AssigneeForm);
    if (!form.ok) throw refused(form.errors);
    const { version, seen, view, back, confirm } = form.value;
    const me = actorOf(c);
    const assignee = form.value.assignee === "@me"
      ? me
      : form.value.assignee || null;
    // Taking a ticket from someone (or unassigning them) asks first.
    if (seen && seen !== me && seen !== assignee && !confirm) {
      const current = { ...(await ticketView(store, id)).ticket };
      const label = assignee === null
        ? `Unassign ${seen}`
        : assignee === me
        ? `Take it from ${seen}`
        : `Give it to ${assignee}`;
      return triageAnswer(c, id, {
        result: { ok: false, current },
        view,
        back,
        notice: `${seen} owns ticket ${id}.`,
        confirmOwner: { assignee: assignee ?? "", label },
      });
    }
    const result = await saveField(store, id, { assignee }, {
      version,
      seen,
      actor: me,
    });
    const notice = result.ok
      ? undefined
      : ownerConflict(result.current.id, result.current.assignee);
    return triageAnswer(c, id, {
      result,
      view,
      back,
      notice,
      change: madeChange(result, "assignee", seen),
    });
  });

  /**
   * Undo: puts each changed field back as it was, through the version check
   * (a field someone else changed meanwhile is left alone, and the answer
   * says so). One change answers like the quick change did; several (a bulk
   * change) answer with the board.
   */
  app.post("/tickets/undo", async (c) => {
    const form = await readUndoForm(c);
    const actor = actorOf(c);
    const outcomes = [];
    for (const change of form.changes) {
      outcomes.push({ change, result: await undoChange(store, change, actor) });
    }
    const first = outcomes[0]!;
    if (form.view === "board") {
      const notUndone = outcomes.filter((o) => !o.result.ok).map((o) =>
        o.change.id
      );
      const back = backOf(c, form.back);
      if (!isHtmx(c)) return c.redirect(back, 303);
      const props = await boardProps(c, filterOf(back));
      c.header("HX-Push-Url", back);
      return c.html(
        <>
          <BoardFragment {...props} />
          <UndoOffer
            text={notUndone.length
              ? `Undone, except #${
                notUndone.join(", #")
              }: changed meanwhile by someone else`
              : `Undone: ${outcomes.length} tickets are as they were`}
            view="board"
            back={back}
            oob
          />
        </>,
      );
    }
    const { change, result } = first;
    return triageAnswer(c, change.id, {
      result: result.ok ? { ok: true, ticket: result.ticket } : result.outcome,
      view: form.view,
      back: form.back,
      notice: result.ok ? undefined : result.notice,
      undone: result.ok ? undoneText(change) : undefined,
    });
  });

  app.post("/tickets/bulk", async (c) => {
    const form = await readBulkForm(c, viewer(c).username);
    const outcomes = await store.bulkUpdate(form.items, form.patch, {
      actor: actorOf(c),
      noSteal: true,
    });
    const skipped = outcomes.filter((o) => !o.ok).map((o) => o.id);
    const notice = {
      changed: outcomes.length - skipped.length,
      total: outcomes.length,
      skipped,
    };
    const back = backOf(c, form.back);
    const changes = outcomes.flatMap((o) => o.ok ? changesMade(o) : []);
    if (!isHtmx(c)) {
      // Without JavaScript the Undo goes through the URL: up to 50 changes.
      const undo = changes.length <= 50
        ? changes.map((ch) => `&undo=${encodeURIComponent(encodeChange(ch))}`)
          .join("")
        : "";
      return c.redirect(
        `${back}${back.includes("?") ? "&" : "?"}${bulkQuery(notice)}${undo}`,
        303,
      );
    }
    const props = await boardProps(c, filterOf(back), { bulkNotice: notice });
    c.header("HX-Push-Url", back);
    return c.html(
      <>
        <BoardFragment {...props} />
        {changes.length > 0 && (
          <UndoOffer
            text={bulkText(changes)}
            changes={changes}
            view="board"
            back={back}
            oob
          />
        )}
      </>,
    );
  });

  return app;
}
