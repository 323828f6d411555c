/** Settings → Webhooks for admins: endpoints, their secrets (shown once), the delivery log; and the dashboard's alert. */
import {
  DEFAULT_WEBHOOK_EVENTS,
  type DeliveryAttempt,
  type User,
  WEBHOOK_EVENTS,
  type WebhookEndpoint,
  type WebhookEventType,
} from "../db/store.ts";
import { FieldError, ListTable } from "./form_parts.tsx";
import { Layout } from "./layout.tsx";
import { UserMenu } from "./user_menu.tsx";

/** What each event type means, for the checkboxes. */
const EVENT_TEXT: Record<WebhookEventType, string> = {
  "ticket.created": "a ticket is created",
  "ticket.updated": "a ticket's status or description changes",
  "comment.public": "a public reply is added (by an agent or the requester)",
  "comment.internal": "an internal note is added (agents' eyes only)",
};

export interface WebhooksPageProps {
  styles: string[];
  me: Pick<User, "username" | "role">;
  webhooks: WebhookEndpoint[];
  notice?: string;
  /** Field errors of the add form, by field. */
  errors?: Record<string, string>;
  draft?: { url: string; events: WebhookEventType[] };
  /** A secret just made (new endpoint or rotation): shown once, here. */
  secret?: { endpoint: WebhookEndpoint; value: string };
}

function when(iso: string) {
  return <time datetime={iso}>{iso.slice(0, 19).replace("T", " ")} UTC</time>;
}

/** The settings pages' own navigation. */
export function SettingsNav({ current }: { current: "accounts" | "webhooks" }) {
  return (
    <nav aria-label="Settings" class="settings-nav">
      <ul>
        <li>
          <a
            href="/settings"
            aria-current={current === "accounts" ? "page" : undefined}
          >
            Users and API keys
          </a>
        </li>
        <li>
          <a
            href="/settings/webhooks"
            aria-current={current === "webhooks" ? "page" : undefined}
          >
            Webhooks
          </a>
        </li>
      </ul>
    </nav>
  );
}

function Status({ w }: { w: WebhookEndpoint }) {
  if (!w.disabled_at) return <span>Active</span>;
  return (
    <span>
      <strong>Disabled</strong> {when(w.disabled_at)}: {w.disabled_reason}
    </span>
  );
}

function EndpointRow({ w }: { w: WebhookEndpoint }) {
  const base = `/settings/webhooks/${w.id}`;
  return (
    <tr>
      <td>{w.id}</td>
      <th scope="row" class="webhook-url">{w.url}</th>
      <td>{w.events.join(", ")}</td>
      <td>
        <Status w={w} />
      </td>
      <td>{w.pending}</td>
      <td class="actions">
        <a href={base}>
          Delivery log<span class="visually-hidden">{` of ${w.url}`}</span>
        </a>
        {w.disabled_at && (
          <form method="post" action={`${base}/enable`}>
            <button type="submit">
              Enable<span class="visually-hidden">{` ${w.url}`}</span>
            </button>
          </form>
        )}
        <form method="post" action={`${base}/rotate`}>
          <button type="submit" class="secondary outline">
            Rotate secret<span class="visually-hidden">{` of ${w.url}`}</span>
          </button>
        </form>
        <form method="post" action={`${base}/remove`}>
          <button type="submit" class="secondary outline">
            Remove<span class="visually-hidden">{` ${w.url}`}</span>
          </button>
        </form>
      </td>
    </tr>
  );
}

/** The endpoints and the form that adds one. */
export function WebhooksPage(p: WebhooksPageProps) {
  const e = p.errors ?? {};
  const picked: readonly WebhookEventType[] = p.draft?.events ??
    DEFAULT_WEBHOOK_EVENTS;
  return (
    "<!doctype html>" +
    (
      <Layout
        title="Webhooks · Settings · Ticket desk"
        styles={p.styles}
        user={<UserMenu user={p.me} />}
      >
        <h1>Webhooks</h1>
        <SettingsNav current="webhooks" />
        <p role="status" aria-live="polite" class="notice">{p.notice ?? ""}</p>
        <p>
          The desk POSTs each change to these URLs, signed per{" "}
          <a href="https://www.standardwebhooks.com/">Standard Webhooks</a>{" "}
          (<code>webhook-id</code>, <code>webhook-timestamp</code>,{" "}
          <code>webhook-signature</code>). A failed delivery is tried again for
          about 28 hours; then the endpoint is disabled.
        </p>
        {p.secret && (
          <article class="new-key" aria-labelledby="new-secret-title">
            <h2 id="new-secret-title">Secret of {p.secret.endpoint.url}</h2>
            <p>
              Copy it now; it will not be shown again. Receivers verify each
              webhook's signature with it.
            </p>
            <input
              type="text"
              readonly
              value={p.secret.value}
              aria-label={`Signing secret of ${p.secret.endpoint.url}`}
              class="key-value"
              id="webhook-secret"
            />
          </article>
        )}
        <section aria-labelledby="endpoints-title">
          <h2 id="endpoints-title">Endpoints</h2>
          <ListTable
            heads={["Id", "URL", "Events", "Status", "Waiting", "Actions"]}
          >
            {p.webhooks.length === 0 && (
              <tr>
                <td colspan={6}>No webhooks yet: add one below.</td>
              </tr>
            )}
            {p.webhooks.map((w) => <EndpointRow key={w.id} w={w} />)}
          </ListTable>
        </section>
        <form
          method="post"
          action="/settings/webhooks"
          aria-labelledby="add-webhook-title"
        >
          <h2 id="add-webhook-title">Add an endpoint</h2>
          <label>
            URL
            <input
              type="url"
              name="url"
              required
              maxlength={2048}
              placeholder="https://app.example.com/hooks/desk"
              autocomplete="off"
              value={p.draft?.url ?? ""}
              aria-invalid={e.url ? "true" : undefined}
              aria-describedby={e.url ? "webhook-url-error" : undefined}
            />
            <FieldError id="webhook-url-error" text={e.url} />
          </label>
          <fieldset
            aria-describedby={e.events ? "webhook-events-error" : undefined}
          >
            <legend>Send when</legend>
            {WEBHOOK_EVENTS.map((type) => (
              <label>
                <input
                  type="checkbox"
                  name="events"
                  value={type}
                  checked={picked.includes(type)}
                />
                <code>{type}</code>: {EVENT_TEXT[type]}
              </label>
            ))}
            <FieldError id="webhook-events-error" text={e.events} />
          </fieldset>
          <button type="submit">Add endpoint</button>
        </form>
      </Layout>
    )
  );
}

export interface WebhookLogProps {
  styles: string[];
  me: Pick<User, "username" | "role">;
  webhook: WebhookEndpoint;
  attempts: DeliveryAttempt[];
  notice?: string;
}

const OUTCOME_TEXT: Record<DeliveryAttempt["outcome"], string> = {
  delivered: "Delivered",
  retry: "Failed, will retry",
  failed: "Failed",
};

/** One endpoint's last 1,000 attempts, newest first, each with "Resend". */
export function WebhookLogPage(p: WebhookLogProps) {
  const w = p.webhook;
  return (
    "<!doctype html>" +
    (
      <Layout
        title={`Webhook ${w.id} · Settings · Ticket desk`}
        styles={p.styles}
        user={<UserMenu user={p.me} />}
      >
        <p class="back">
          <a href="/settings/webhooks">← All webhooks</a>
        </p>
        <h1>Delivery log</h1>
        <p class="webhook-url">
          <code>{w.url}</code> · <Status w={w} /> · {w.pending} waiting
        </p>
        <p role="status" aria-live="polite" class="notice">{p.notice ?? ""}</p>
        <p>The last 1,000 attempts, newest first.</p>
        <ListTable
          heads={[
            "Time",
            "Event",
            "Ticket",
            "Outcome",
            "Status",
            "Duration",
            "Error",
            "Actions",
          ]}
        >
          {p.attempts.length === 0 && (
            <tr>
              <td colspan={8}>No attempts yet.</td>
            </tr>
          )}
          {p.attempts.map((a) => (
            <tr key={a.id}>
              <td>{when(a.attempted_at)}</td>
              <td>
                <code>{a.type}</code>
              </td>
              <td>
                <a href={`/tickets/${a.ticket_id}`}>#{a.ticket_id}</a>
              </td>
              <td>{OUTCOME_TEXT[a.outcome]}</td>
              <td>{a.status_code ?? "—"}</td>
              <td>{`${a.duration_ms} ms`}</td>
              <td class="webhook-error">{a.error ?? ""}</td>
              <td>
                <form
                  method="post"
                  action={`/settings/webhooks/${w.id}/deliveries/${a.delivery_id}/resend`}
                >
                  <button type="submit" class="secondary outline">
                    Resend<span class="visually-hidden">
                      {` ${a.type} of ticket ${a.ticket_id} (${a.msg_id})`}
                    </span>
                  </button>
                </form>
              </td>
            </tr>
          ))}
        </ListTable>
      </Layout>
    )
  );
}

/** For admins, on the dashboard: which endpoints are disabled, and why. */
export function WebhookAlert({ disabled }: { disabled: WebhookEndpoint[] }) {
  if (disabled.length === 0) return null;
  return (
    <aside
      class="webhook-alert"
      aria-labelledby="webhook-alert-title"
      id="webhook-alert"
    >
      <p id="webhook-alert-title">
        <strong>
          {disabled.length === 1
            ? "A webhook is disabled"
            : `${disabled.length} webhooks are disabled`}
        </strong>{" "}
        — nothing is sent to {disabled.length === 1 ? "it" : "them"}{" "}
        until enabled again in{" "}
        <a href="/settings/webhooks">Settings → Webhooks</a>.
      </p>
      <ul>
        {disabled.map((w) => (
          <li key={w.id}>
            <code>{w.url}</code>: {w.disabled_reason}
          </li>
        ))}
      </ul>
    </aside>
  );
}
