/** HTTP helpers for chaos scenarios: fetch with a timeout, a concurrency pool, raw TCP requests. */
import type { ServerProcess } from "./server.ts";

export interface Reply {
  status: number;
  headers: Headers;
  text: string;
}

/** Sends one request through the server's own client; throws on a network error. */
export async function send(
  server: ServerProcess,
  path: string,
  init: { method?: string; headers?: Record<string, string>; body?: unknown } =
    {},
  timeoutMs = 15_000,
): Promise<Reply> {
  const headers: Record<string, string> = {
    ...(server.apiKey ? { authorization: `Bearer ${server.apiKey}` } : {}),
    ...init.headers,
  };
  let body: string | undefined;
  if (init.body !== undefined) {
    body = typeof init.body === "string"
      ? init.body
      : JSON.stringify(init.body);
    headers["content-type"] ??= "application/json";
  }
  const res = await fetch(server.base + path, {
    method: init.method ?? (body === undefined ? "GET" : "POST"),
    headers,
    body,
    client: server.client,
    signal: AbortSignal.timeout(timeoutMs),
  });
  return { status: res.status, headers: res.headers, text: await res.text() };
}

/** Parses JSON, or returns undefined. */
export function tryJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** Runs `fn` over `items` with at most `concurrency` at once. */
export async function pool<T>(
  items: readonly T[],
  concurrency: number,
  fn: (item: T, index: number) => Promise<void>,
): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      await fn(items[i]!, i);
    }
  };
  await Promise.all(
    Array.from({ length: Math.min(concurrency, items.length) }, worker),
  );
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export interface RawReply {
  /** The status code, or 0 when the server closed without a response. */
  status: number;
  headers: Map<string, string>;
  body: string;
  /** Set when no complete response arrived (timeout, reset). */
  error?: string;
}

const latin1 = (s: string) => Uint8Array.from(s, (ch) => ch.charCodeAt(0));

/**
 * Writes raw bytes to the server and reads the response until it closes the
 * connection: the only way to send what fetch refuses (bad header bytes, broken
 * framing, invalid request lines).
 */
export async function rawRequest(
  port: number,
  head: string,
  body: Uint8Array | null,
  timeoutMs = 10_000,
): Promise<RawReply> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  const timer = setTimeout(() => {
    try {
      conn.close();
    } catch { /* closed already */ }
  }, timeoutMs);
  const chunks: Uint8Array[] = [];
  let error: string | undefined;
  try {
    const bytes = body ? concat([latin1(head), body]) : latin1(head);
    try {
      for (let off = 0; off < bytes.length;) {
        off += await conn.write(bytes.subarray(off));
      }
      // No half-close (closeWrite): the server treats EOF as the client leaving
      // and drops the response. A request promising more body than it sends
      // simply times out here, like a client that gives up.
    } catch (err) {
      // The server may answer (e.g. 431) and close before it read everything.
      error = `write: ${(err as Error).message}`;
    }
    const buf = new Uint8Array(64 * 1024);
    while (true) {
      const n = await conn.read(buf);
      if (n === null) break;
      chunks.push(buf.slice(0, n));
    }
  } catch (err) {
    error = (err as Error).name === "BadResource"
      ? `timeout after ${timeoutMs} ms`
      : `read: ${(err as Error).message}`;
  } finally {
    clearTimeout(timer);
    try {
      conn.close();
    } catch { /* closed by the timer */ }
  }
  return parseRawResponse(concat(chunks), error);
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let off = 0;
  for (const p of parts) (out.set(p, off), off += p.length);
  return out;
}

function parseRawResponse(bytes: Uint8Array, error?: string): RawReply {
  const text = new TextDecoder().decode(bytes);
  const headers = new Map<string, string>();
  const m = /^HTTP\/\d(?:\.\d)? (\d{3})/.exec(text);
  if (!m) {
    return { status: 0, headers, body: "", error: error ?? "no response" };
  }
  const split = text.indexOf("\r\n\r\n");
  const headText = split < 0 ? text : text.slice(0, split);
  for (const line of headText.split("\r\n").slice(1)) {
    const colon = line.indexOf(":");
    if (colon > 0) {
      headers.set(
        line.slice(0, colon).trim().toLowerCase(),
        line.slice(colon + 1).trim(),
      );
    }
  }
  let body = split < 0 ? "" : text.slice(split + 4);
  if (headers.get("transfer-encoding")?.includes("chunked")) {
    body = dechunk(body);
  }
  const reply: RawReply = { status: Number(m[1]), headers, body };
  if (error && split < 0) reply.error = error;
  return reply;
}

function dechunk(text: string): string {
  let out = "";
  let i = 0;
  while (i < text.length) {
    const eol = text.indexOf("\r\n", i);
    if (eol < 0) break;
    const size = parseInt(text.slice(i, eol), 16);
    if (!(size > 0)) break;
    // Sizes count bytes, the text is decoded: fine for the ASCII JSON we read.
    out += text.slice(eol + 2, eol + 2 + size);
    i = eol + 2 + size + 2;
  }
  return out;
}
