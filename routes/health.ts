/**
 * GET /healthz: liveness and a real round trip through both database
 * connections. Anyone gets `{"status":"ok"}` or a generic 503; the database
 * details (settings, commit counters, the database's own error text) go only
 * to a logged-in admin or an API key with `read`.
 */
import { type Context, Hono } from "hono";
import type { AccountStore, StoreHealth, TicketStore } from "../db/store.ts";
import {
  type AuthDeps,
  keyAllows,
  requestApiKey,
  sessionUser,
} from "./auth.tsx";
import { HttpProblem } from "./problems.ts";

export interface HealthDeps extends AuthDeps {
  store: TicketStore & AccountStore;
}

/**
 * Whether the caller may see the details: an API key with `read` or an admin's
 * session. Anyone else, a wrong key included, gets the public answer and no 401:
 * uptime checks send no credentials. /healthz is mounted before the API and
 * session middleware, so it looks both up itself. A caller that cannot be
 * checked (the database is down) counts as anonymous.
 */
async function mayReadDetails(c: Context, deps: HealthDeps): Promise<boolean> {
  try {
    const key = await requestApiKey(c, deps.store);
    if (key && keyAllows(key, "read")) return true;
    return (await sessionUser(c, deps))?.role === "admin";
  } catch {
    return false;
  }
}

/** The 503: the database's own error for those who may see details, else a generic one. */
function unavailable(h: StoreHealth, detailed: boolean): HttpProblem {
  const headers = { "Cache-Control": "no-store", "Retry-After": "5" };
  return new HttpProblem(
    detailed
      ? {
        status: 503,
        title: "Database unavailable",
        detail: `The ${h.backend} database is not answering: ${
          h.detail.error ?? "unknown error"
        }`,
        headers,
      }
      : {
        status: 503,
        title: "Service unavailable",
        detail: "The service cannot reach its database. Retry later.",
        headers,
      },
  );
}

/** Builds the health sub-app. */
export function health(deps: HealthDeps) {
  const app = new Hono();
  app.get("/healthz", async (c) => {
    const h = await deps.store.health();
    const detailed = await mayReadDetails(c, deps);
    if (!h.ok) {
      // The error text stays in the log for operators, whoever asked.
      deps.logger.warn("health check failed", {
        backend: h.backend,
        error: h.detail.error ?? "unknown error",
      });
      throw unavailable(h, detailed);
    }
    c.header("Cache-Control", "no-store");
    if (!detailed) return c.json({ status: "ok" });
    return c.json({
      status: "ok",
      database: { backend: h.backend, ...h.detail },
    });
  });
  return app;
}
