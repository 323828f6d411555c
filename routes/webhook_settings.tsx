/** Settings → Webhooks (admins only): add, rotate, enable and remove endpoints; the delivery log and resend. */
import { type Context, Hono } from "hono";
import {
  type TicketStore,
  WEBHOOK_EVENTS,
  type WebhookEndpoint,
  type WebhookEventType,
} from "../db/store.ts";
import { endpointUrlProblem } from "../lib/webhooks/destination.ts";
import { newWebhookSecret } from "../lib/webhooks/signature.ts";
import {
  WebhookLogPage,
  WebhooksPage,
  type WebhooksPageProps,
} from "../views/webhook_settings_page.tsx";
import { PAGE_STYLES } from "./assets.ts";
import type { AppEnv } from "./context.ts";
import { requireAdmin } from "./auth.tsx";
import { positiveInt } from "./page_request.ts";
import { HttpProblem } from "./problems.ts";

export interface WebhookSettingsDeps {
  store: TicketStore;
  config: { webhookAllowPrivate: boolean };
}

const STYLES = PAGE_STYLES;
/** After a rotation the old secret still signs (beside the new one) this long. */
const KEEP_OLD_SECRET_MS = 24 * 60 * 60 * 1000;
/** The delivery log shows this many attempts (as many as are kept). */
const LOG_SIZE = 1000;

/** Outcomes shown after a redirect; a code in the URL, never user text. */
const NOTICES: Record<string, string> = {
  enabled: "Webhook enabled: what waited is being sent, in order.",
  removed: "Webhook removed, with its deliveries and log.",
  resent: "Queued to be sent again now.",
};

/** Reads the add form: the URL and the checked events, with field errors. */
function readWebhookForm(
  form: Record<string, string | File | (string | File)[]>,
  allowPrivate: boolean,
) {
  const url = String(form.url ?? "").trim();
  const picked = [form.events ?? []].flat().map(String);
  const events: WebhookEventType[] = WEBHOOK_EVENTS.filter((e) =>
    picked.includes(e)
  );
  const errors: Record<string, string> = {};
  const problem = endpointUrlProblem(url, allowPrivate);
  if (problem) errors.url = `The URL ${problem}.`;
  if (events.length === 0 || new Set(picked).size !== events.length) {
    errors.events = `Pick one or more of ${WEBHOOK_EVENTS.join(", ")}.`;
  }
  return { draft: { url, events }, errors };
}

/** The :id of the path; anything but a positive integer is a 404. */
function webhookId(c: Context): number {
  const id = positiveInt(c.req.param("id"));
  if (id === undefined) {
    throw new HttpProblem({
      status: 404,
      title: "Not found",
      detail: "Webhook ids are whole numbers",
    });
  }
  return id;
}

/** Builds the webhook settings sub-app. */
export function webhookSettings({ store, config }: WebhookSettingsDeps) {
  const app = new Hono<AppEnv>();
  app.use("/settings/webhooks", requireAdmin);
  app.use("/settings/webhooks/*", requireAdmin);

  const render = async (
    c: Context<AppEnv>,
    extra: Partial<WebhooksPageProps> = {},
    status: 200 | 422 = 200,
  ) => {
    c.header("Cache-Control", "no-store");
    return c.html(
      WebhooksPage({
        styles: STYLES,
        me: c.get("user")!,
        webhooks: await store.listWebhooks(),
        ...extra,
      }),
      status,
    );
  };
  /** A secret is rendered once, in this answer: never in a URL or a redirect. */
  const showSecret = (
    c: Context<AppEnv>,
    endpoint: WebhookEndpoint,
    value: string,
    notice: string,
  ) => render(c, { secret: { endpoint, value }, notice });

  app.get(
    "/settings/webhooks",
    (c) => render(c, { notice: NOTICES[c.req.query("done") ?? ""] }),
  );

  app.post("/settings/webhooks", async (c) => {
    const { draft, errors } = readWebhookForm(
      await c.req.parseBody({ all: true }),
      config.webhookAllowPrivate,
    );
    if (Object.keys(errors).length) return render(c, { errors, draft }, 422);
    const secret = newWebhookSecret();
    const w = await store.createWebhook({ ...draft, secret });
    return showSecret(c, w, secret, `Webhook ${w.id} added.`);
  });

  app.post("/settings/webhooks/:id/rotate", async (c) => {
    const secret = newWebhookSecret();
    const keepOldUntil = new Date(Date.now() + KEEP_OLD_SECRET_MS);
    const w = await store.rotateWebhookSecret(
      webhookId(c),
      secret,
      keepOldUntil.toISOString(),
    );
    return showSecret(
      c,
      w,
      secret,
      "New secret made. For 24 hours every webhook carries a signature with the old one too, so receivers can switch without losing any.",
    );
  });

  app.post("/settings/webhooks/:id/enable", async (c) => {
    await store.enableWebhook(webhookId(c));
    return c.redirect("/settings/webhooks?done=enabled", 303);
  });

  app.post("/settings/webhooks/:id/remove", async (c) => {
    await store.removeWebhook(webhookId(c));
    return c.redirect("/settings/webhooks?done=removed", 303);
  });

  app.get("/settings/webhooks/:id", async (c) => {
    const id = webhookId(c);
    const webhook = await store.getWebhook(id);
    if (!webhook) throw notFound(id);
    c.header("Cache-Control", "no-store");
    return c.html(WebhookLogPage({
      styles: STYLES,
      me: c.get("user")!,
      webhook,
      attempts: await store.webhookAttempts(id, LOG_SIZE),
      notice: NOTICES[c.req.query("done") ?? ""],
    }));
  });

  app.post(
    "/settings/webhooks/:id/deliveries/:delivery/resend",
    async (c) => {
      const id = webhookId(c);
      const delivery = positiveInt(c.req.param("delivery"));
      if (delivery === undefined) throw notFound(id);
      await store.resendDelivery(id, delivery);
      return c.redirect(`/settings/webhooks/${id}?done=resent`, 303);
    },
  );
  return app;
}

function notFound(id: number) {
  return new HttpProblem({
    status: 404,
    title: "Not found",
    detail: `Webhook ${id} does not exist`,
  });
}
