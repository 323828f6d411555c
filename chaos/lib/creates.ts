/** Idempotent creates as a careful mobile client makes them: a key per ticket, retried. */
import { send, sleep, tryJson } from "./http.ts";
import type { ServerProcess } from "./server.ts";

export const LEGACY = "/create_ticket";
export const V1 = "/api/v1/tickets";

export interface CreateOutcome {
  /** HTTP status, or 0 for a network error (no answer). */
  status: number;
  text: string;
  ticketId: number | null;
  replayed: boolean;
  contentType: string;
  retryAfter: string | null;
  error?: string;
}

/** Sends one create with an Idempotency-Key, once; a network error is status 0. */
export async function createOnce(
  server: ServerProcess,
  path: string,
  key: string,
  body: unknown,
): Promise<CreateOutcome> {
  try {
    const r = await send(server, path, {
      method: "POST",
      headers: { "idempotency-key": key },
      body,
    });
    const json = tryJson(r.text) as Record<string, unknown> | undefined;
    const id = json?.[path === LEGACY ? "ticket_id" : "id"];
    return {
      status: r.status,
      text: r.text,
      ticketId: r.status === 201 && typeof id === "number" ? id : null,
      replayed: r.headers.get("idempotent-replayed") === "true",
      contentType: r.headers.get("content-type") ?? "",
      retryAfter: r.headers.get("retry-after"),
    };
  } catch (err) {
    return {
      status: 0,
      text: "",
      ticketId: null,
      replayed: false,
      contentType: "",
      retryAfter: null,
      error: (err as Error).message,
    };
  }
}

export interface UntilFinal {
  final: CreateOutcome;
  /** Every answer before the final one (409s, and network errors or 503s when retried). */
  interim: CreateOutcome[];
}

/**
 * Sends a create until it gets a final answer: a 409 (key in flight) is retried
 * after Retry-After, capped at `maxWaitMs` to keep runs short; network errors and
 * 503s too when `retryTransient`.
 */
export async function createUntilFinal(
  server: ServerProcess,
  path: string,
  key: string,
  body: unknown,
  opts: { retryTransient?: boolean; maxAttempts?: number; maxWaitMs?: number } =
    {},
): Promise<UntilFinal> {
  const interim: CreateOutcome[] = [];
  const maxAttempts = opts.maxAttempts ?? 40;
  for (let attempt = 1;; attempt++) {
    const out = await createOnce(server, path, key, body);
    const transient = out.status === 0 || out.status === 503;
    const again = out.status === 409 || (transient && opts.retryTransient);
    if (!again || attempt >= maxAttempts) return { final: out, interim };
    interim.push(out);
    const retryAfterMs = Number(out.retryAfter ?? "0.1") * 1000;
    await sleep(Math.min(retryAfterMs || 100, opts.maxWaitMs ?? 250));
  }
}
