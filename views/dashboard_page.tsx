/** The dashboard page: search and filters above the board of ticket cards. */
import type { ProductCount, User, WebhookEndpoint } from "../db/store.ts";
import { WebhookAlert } from "./webhook_settings_page.tsx";
import { Layout } from "./layout.tsx";
import { LiveDock, LiveIndicator } from "./live.tsx";
import { UserMenu } from "./user_menu.tsx";
import { Board, type BoardProps, StatusField } from "./ticket_card.tsx";

export interface PageAssets {
  styles: string[];
  scripts: string[];
}

export interface DashboardPageProps extends BoardProps {
  assets: PageAssets;
  products: ProductCount[];
  user: Pick<User, "username" | "role">;
  /** For admins: webhook endpoints that were disabled, and why. */
  disabledWebhooks?: WebhookEndpoint[];
}

/** The search form: works as a plain GET form; htmx swaps just the board. */
function Filters(
  { filter, products }: Pick<DashboardPageProps, "filter" | "products">,
) {
  return (
    <form
      id="filters"
      method="get"
      action="/dashboard"
      hx-get="/dashboard"
      hx-target="#board"
      hx-swap="outerHTML"
      hx-push-url="true"
      hx-trigger="submit, change from:#product"
      class="filters"
    >
      <StatusField status={filter.status} />
      <div class="filter-search">
        <label for="q">Search</label>
        <input
          type="search"
          id="q"
          name="q"
          value={filter.q ?? ""}
          placeholder="Words, IDs or #ticket"
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
        <small id="q-help">
          Finds word starts in users, products, IDs, descriptions and comments.
          #42 opens ticket 42.
        </small>
      </div>
      <div class="filter-product">
        <label for="product">Product</label>
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
      <div class="filter-submit">
        <button type="submit">Filter</button>
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
        <LiveDock />
      </Layout>
    )
  );
}

/** The board alone, for htmx, with the search form's status kept in step. */
export function BoardFragment(p: BoardProps) {
  return (
    <>
      <Board {...p} />
      <StatusField status={p.filter.status} oob />
    </>
  );
}
