/** The dashboard page: search and filters above the board of ticket cards. */
import type { ProductCount, User, WebhookEndpoint } from "../db/store.ts";
import { WebhookAlert } from "./webhook_settings_page.tsx";
import { Layout } from "./layout.tsx";
import { LiveDock, LiveIndicator } from "./live.tsx";
import { UserMenu } from "./user_menu.tsx";
import {
  Board,
  type BoardProps,
  dashboardHref,
  ViewFields,
} from "./ticket_card.tsx";
import { changeText, UndoOffer } from "./undo.tsx";
import type { UndoChange } from "../lib/undo.ts";
import { Choice } from "./triage.tsx";
import { PRIORITIES, type Sort } from "../db/store.ts";

const SORT_LABELS: [Sort, string][] = [
  ["newest", "Newest first"],
  ["oldest", "Oldest first"],
  ["activity", "Recent activity"],
  ["priority", "Urgent first"],
];

export interface PageAssets {
  styles: string[];
  scripts: string[];
}

export interface DashboardPageProps extends BoardProps {
  assets: PageAssets;
  /** An Undo offer carried by the URL (the no-JavaScript answer to a quick or bulk change). */
  undo?: UndoChange[];
  products: ProductCount[];
  user: Pick<User, "username" | "role">;
  /** For admins: webhook endpoints that were disabled, and why. */
  disabledWebhooks?: WebhookEndpoint[];
}

/**
 * The search form: works as a plain GET form; htmx swaps just the board. One
 * row on a desktop; on a phone the product, priority and order sit behind a
 * "Filters" button (static/app.js; without JavaScript they show).
 */
function Filters(
  { filter, products }: Pick<DashboardPageProps, "filter" | "products">,
) {
  const narrowed = Boolean(filter.product || filter.priority || filter.sort);
  return (
    <form
      id="filters"
      method="get"
      action="/dashboard"
      hx-get="/dashboard"
      hx-target="#board"
      hx-swap="outerHTML"
      hx-push-url="true"
      hx-trigger="submit, change from:#product, change from:#priority, change from:#sort"
      class="filters"
    >
      <ViewFields filter={filter} />
      <div class="filter-search">
        <label for="q" class="visually-hidden">Search</label>
        <input
          type="search"
          id="q"
          name="q"
          value={filter.q ?? ""}
          placeholder="Search words, IDs or #ticket"
          autocomplete="off"
          aria-keyshortcuts="/"
          aria-describedby="q-help"
          hx-get="/dashboard?live=1"
          hx-include="#filters"
          hx-trigger="input changed delay:300ms"
          hx-target="#board"
          hx-swap="outerHTML"
          hx-sync="this:replace"
        />
        <small id="q-help" class="visually-hidden">
          Finds word starts in users, products, IDs, descriptions and comments.
          #42 opens ticket 42. Enter shows the results; Escape leaves the field,
          a second Escape clears it.
        </small>
        <button
          type="button"
          class="secondary outline filters-toggle"
          aria-expanded="false"
          aria-controls="more-filters"
          data-filters-toggle
          hidden
        >
          Filters{narrowed ? " (on)" : ""}
        </button>
      </div>
      <div id="more-filters" class="more-filters">
        <div class="filter-product">
          <label for="product" class="visually-hidden">Product</label>
          <input
            type="search"
            id="product"
            name="product"
            list="product-list"
            value={filter.product ?? ""}
            placeholder="Any product"
            autocomplete="off"
          />
          <datalist id="product-list">
            {products.map((p) => (
              <option value={p.product_id}>
                {`${p.tickets} tickets`}
              </option>
            ))}
          </datalist>
        </div>
        <div class="filter-priority">
          <label for="priority" class="visually-hidden">Priority</label>
          <select id="priority" name="priority">
            <option value="" selected={!filter.priority}>Any priority</option>
            {PRIORITIES.map((p) => (
              <Choice key={p} value={p} selected={filter.priority === p}>
                {p}
              </Choice>
            ))}
          </select>
        </div>
        <div class="filter-sort">
          <label for="sort" class="visually-hidden">Order</label>
          <select id="sort" name="sort">
            {SORT_LABELS.map(([value, label]) => (
              <Choice
                key={value}
                value={value}
                selected={(filter.sort ?? "newest") === value}
              >
                {label}
              </Choice>
            ))}
          </select>
        </div>
        <div class="filter-submit">
          <button type="submit">Filter</button>
        </div>
      </div>
    </form>
  );
}

/** The whole dashboard page. */
export function DashboardPage(p: DashboardPageProps) {
  return (
    "<!doctype html>" +
    (
      <Layout
        title={p.filter.q
          ? `“${p.filter.q}” · Ticket desk`
          : "Dashboard · Ticket desk"}
        styles={p.assets.styles}
        scripts={p.assets.scripts}
        current="dashboard"
        wide
        connection={<LiveIndicator />}
        user={<UserMenu user={p.user} />}
      >
        <h1 class="visually-hidden">Dashboard</h1>
        <WebhookAlert disabled={p.disabledWebhooks ?? []} />
        {/* <search> is the landmark; Pico would draw [role=search] as one pill. */}
        <search>
          <Filters filter={p.filter} products={p.products} />
        </search>
        <Board {...p} />
        <AssignDialog users={p.users} />
        <LiveDock
          undo={p.undo && (
            <UndoOffer
              text={p.undo.length === 1
                ? changeText(p.undo[0]!, p.user.username)
                : `Changed ${new Set(p.undo.map((u) => u.id)).size} tickets`}
              changes={p.undo}
              view={p.undo.length === 1 ? "card" : "board"}
              back={dashboardHref(p.filter)}
            />
          )}
        />
      </Layout>
    )
  );
}

/** The board alone, for htmx, with the search form's view fields kept in step. */
export function BoardFragment(p: BoardProps) {
  return (
    <>
      <Board {...p} />
      <ViewFields filter={p.filter} oob />
    </>
  );
}

/**
 * The owner picker the `a` key opens for the focused card (static/app.js
 * points its form at that ticket). Without JavaScript each ticket page has
 * the same picker.
 */
function AssignDialog({ users }: { users: string[] }) {
  return (
    <dialog id="assign-dialog" aria-labelledby="assign-title">
      <article>
        <header>
          <h2 id="assign-title">Assign ticket</h2>
        </header>
        <form method="post" id="assign-form" hx-swap="outerHTML">
          <input type="hidden" name="version" value="" />
          <input type="hidden" name="seen" value="" />
          <input type="hidden" name="view" value="card" />
          <label for="assign-to">Owner</label>
          <select id="assign-to" name="assignee" autofocus>
            <option value="">Unassigned</option>
            {users.map((u) => <Choice key={u} value={u}>{u}</Choice>)}
          </select>
          <footer>
            <button type="submit">Assign</button>{" "}
            <button type="button" class="secondary" data-close-dialog>
              Cancel
            </button>
          </footer>
        </form>
      </article>
    </dialog>
  );
}
