/**
 * Who else is on a ticket: "maria is viewing", "maria is writing a comment".
 *
 * Each browser's live hub reports what its tabs show (POST /presence) when
 * that changes and every few seconds while it does; a report lives for
 * PRESENCE_TTL_MS, so a closed laptop drops out by itself. Reports travel as
 * signals to every instance (memory, or LISTEN/NOTIFY on PostgreSQL), and
 * each instance keeps the board in memory and tells its streams what
 * changed. Nothing is stored.
 */
import { Hono } from "hono";
import { z } from "@hono/zod-openapi";
import type { SignalBus } from "../db/bus.ts";
import type { AppEnv } from "./context.ts";
import { HttpProblem } from "./problems.ts";

/** A browser's report is good for this long: its hub repeats it every few seconds. */
export const PRESENCE_TTL_MS = 9_000;
/** How often the board drops reports that were not repeated. */
const SWEEP_MS = 1_000;

export type PresenceState = "viewing" | "typing";

/** Who has one ticket open, and whether they are writing. */
export type Present = { user: string; state: PresenceState }[];

interface Report {
  user: string;
  browser: string;
  views: { ticket: number; state: PresenceState }[];
  expires: number;
}

const ReportBody = z.object({
  browser: z.string().regex(/^[\w-]{8,64}$/),
  views: z.array(z.object({
    ticket: z.number().int().positive(),
    state: z.enum(["viewing", "typing"]),
  })).max(50),
});

/** The presence of every ticket someone has open, kept in memory. */
export class PresenceBoard {
  #reports = new Map<string, Report>();
  #listeners = new Set<(changed: Map<number, Present>) => void>();
  #sweep: ReturnType<typeof setInterval>;

  constructor(
    readonly signals: SignalBus,
    readonly now: () => number = () => Date.now(),
  ) {
    signals.listen((payload) => this.#apply(payload));
    this.#sweep = setInterval(() => this.#expire(), SWEEP_MS);
    this.#sweep.unref();
  }

  /** Sends a browser's report to every instance (this one included). */
  report(user: string, browser: string, views: Report["views"]) {
    const r: Report = {
      user,
      browser,
      views,
      expires: this.now() + PRESENCE_TTL_MS,
    };
    return this.signals.send(JSON.stringify({ presence: r }));
  }

  /** Who is on each ticket that anyone has open. */
  snapshot(): Map<number, Present> {
    return this.#tickets(null);
  }

  /** Calls `fn` with the tickets whose presence changed, and who is on them now. */
  subscribe(fn: (changed: Map<number, Present>) => void): () => void {
    this.#listeners.add(fn);
    return () => this.#listeners.delete(fn);
  }

  /** Stops the sweep (tests, shutdown). */
  close() {
    clearInterval(this.#sweep);
  }

  #apply(payload: string) {
    let r: Report;
    try {
      r = (JSON.parse(payload) as { presence?: Report }).presence!;
      if (!r || typeof r.user !== "string" || !Array.isArray(r.views)) return;
    } catch {
      return;
    }
    const key = `${r.user}\n${r.browser}`;
    const before = this.#reports.get(key);
    if (r.views.length === 0) this.#reports.delete(key);
    else this.#reports.set(key, r);
    const touched = new Set([
      ...(before?.views ?? []).map((v) => v.ticket),
      ...r.views.map((v) => v.ticket),
    ]);
    this.#changed(touched, before, r);
  }

  #expire() {
    const now = this.now();
    const touched = new Set<number>();
    for (const [key, r] of this.#reports) {
      if (r.expires > now) continue;
      this.#reports.delete(key);
      for (const v of r.views) touched.add(v.ticket);
    }
    if (touched.size) this.#notify(this.#tickets(touched));
  }

  #changed(touched: Set<number>, before: Report | undefined, after: Report) {
    // A repeated report (the heartbeat) changes nothing anyone sees.
    const same = before &&
      JSON.stringify(before.views) === JSON.stringify(after.views);
    if (!same && touched.size) this.#notify(this.#tickets(touched));
  }

  #notify(changed: Map<number, Present>) {
    for (const fn of this.#listeners) fn(changed);
  }

  /** Who is on the given tickets (all of them for null); typing wins over viewing. */
  #tickets(only: Set<number> | null): Map<number, Present> {
    const out = new Map<number, Map<string, PresenceState>>();
    for (const t of only ?? []) out.set(t, new Map());
    const now = this.now();
    for (const r of this.#reports.values()) {
      if (r.expires <= now) continue;
      for (const v of r.views) {
        if (only && !only.has(v.ticket)) continue;
        const who = out.get(v.ticket) ?? new Map<string, PresenceState>();
        if (who.get(r.user) !== "typing") who.set(r.user, v.state);
        out.set(v.ticket, who);
      }
    }
    return new Map(
      [...out].map((
        [t, who],
      ) => [t, [...who].map(([user, state]) => ({ user, state }))]),
    );
  }
}

/** The presence as one line of JSON for the stream: `{"42": [{"user": "maria", "state": "typing"}]}`. */
export function presenceJson(m: Map<number, Present>): string {
  return JSON.stringify(Object.fromEntries(m));
}

/** POST /presence: a browser's hub says which tickets its tabs show (JSON). */
export function presence(board: PresenceBoard) {
  const app = new Hono<AppEnv>();
  app.post("/presence", async (c) => {
    let body: unknown;
    try {
      body = await c.req.json();
    } catch {
      body = null;
    }
    const parsed = ReportBody.safeParse(body);
    if (!parsed.success) {
      throw new HttpProblem({
        status: 422,
        title: "Invalid presence report",
        detail: "Send {browser, views: [{ticket, state}]}",
      });
    }
    await board.report(
      c.get("user")!.username,
      parsed.data.browser,
      parsed.data.views,
    );
    return c.body(null, 204);
  });
  return app;
}
