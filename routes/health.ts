/** GET /healthz: liveness and a real round trip through both database connections. */
import { Hono } from "hono";
import type { TicketStore } from "../db/store.ts";
import { HttpProblem } from "./problems.ts";

/** Builds the health sub-app. */
export function health({ store }: { store: TicketStore }) {
  const app = new Hono();
  app.get("/healthz", async (c) => {
    const h = await store.health();
    if (!h.ok) {
      throw new HttpProblem({
        status: 503,
        title: "Database unavailable",
        detail: `The ${h.backend} database is not answering: ${
          h.detail.error ?? "unknown error"
        }`,
        headers: { "Retry-After": "5" },
      });
    }
    c.header("Cache-Control", "no-store");
    return c.json({
      status: "ok",
      database: { backend: h.backend, ...h.detail },
    });
  });
  return app;
}
