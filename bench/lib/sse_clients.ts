/**
 * Many live-stream clients in one process, on raw TCP: each writes its own
 * HTTP/1.1 GET /events and parses the chunked text/event-stream itself.
 *
 * Why not fetch: a reader per client through fetch's body stream costs several
 * times the CPU per frame, and on a 2-core machine that CPU is taken from the
 * server being measured. Raw sockets also let a frame be timestamped on the read
 * that completed it, and let a test cut a connection at any byte (chaos/lib/sse.ts).
 */

/** One complete SSE message as the client parsed it. */
export interface SseFrame {
  /** The `id:` field, or null (the `hello` message, comments are not frames). */
  id: number | null;
  event: string | null;
  data: string;
  /** The `retry:` field (reconnect delay in ms), or null. */
  retry: number | null;
  /** performance.now() when the read that completed the frame returned. */
  at: number;
}

export interface SseClientOptions {
  port: number;
  /** Path and query, e.g. "/events" or "/events?after=0". */
  path: string;
  /** The Cookie header (a logged-in session). */
  cookie: string;
  /** Sent as Last-Event-ID when set. */
  lastEventId?: number | null;
  /** Called for every complete frame, in arrival order. */
  onFrame: (frame: SseFrame) => void;
}

/** Why a connection ended. */
export type EndReason = "closed by client" | "ended by server" | string;

const encoder = new TextEncoder();
const CRLF = [13, 10];
const CRLF2 = [13, 10, 13, 10];

function indexOfSeq(buf: Uint8Array, seq: number[], from: number): number {
  outer: for (let i = from; i + seq.length <= buf.length; i++) {
    for (let j = 0; j < seq.length; j++) {
      if (buf[i + j] !== seq[j]) continue outer;
    }
    return i;
  }
  return -1;
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  if (a.length === 0) return b;
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

/** Splits an SSE message block into its fields (data lines joined by "\n"). */
export function parseSseBlock(
  block: string,
  at: number,
): SseFrame | null {
  let id: number | null = null;
  let event: string | null = null;
  let retry: number | null = null;
  const data: string[] = [];
  let any = false;
  for (const line of block.split("\n")) {
    if (line === "" || line.startsWith(":")) continue;
    const colon = line.indexOf(":");
    const name = colon < 0 ? line : line.slice(0, colon);
    let value = colon < 0 ? "" : line.slice(colon + 1);
    if (value.startsWith(" ")) value = value.slice(1);
    any = true;
    if (name === "id") id = /^\d+$/.test(value) ? Number(value) : null;
    else if (name === "event") event = value;
    else if (name === "data") data.push(value);
    else if (name === "retry" && /^\d+$/.test(value)) retry = Number(value);
  }
  return any ? { id, event, data: data.join("\n"), retry, at } : null;
}

/**
 * One connection to GET /events. `ready` resolves once the response head says
 * 200 (rejects otherwise); `ended` resolves with the reason the stream stopped.
 */
export class SseConnection {
  readonly ready: Promise<void>;
  readonly ended: Promise<EndReason>;
  /** Bytes read from the socket, response head included. */
  bytes = 0;
  #conn: Deno.TcpConn | null = null;
  #closedByUs = false;
  #text = "";
  #decoder = new TextDecoder();
  #resync = false;

  constructor(readonly opts: SseClientOptions) {
    let resolveReady!: () => void;
    let rejectReady!: (err: Error) => void;
    this.ready = new Promise((res, rej) => {
      resolveReady = res;
      rejectReady = rej;
    });
    // A rejection nobody awaits (the caller only watches `ended`) is not an error.
    this.ready.catch(() => {});
    this.ended = this.#run(resolveReady, rejectReady);
  }

  /** Cuts the TCP connection at once, wherever the stream is (a forced drop). */
  close(): void {
    this.#closedByUs = true;
    try {
      this.#conn?.close();
    } catch { /* closed already */ }
  }

  async #run(
    ready: () => void,
    fail: (err: Error) => void,
  ): Promise<EndReason> {
    const { port, path, cookie, lastEventId } = this.opts;
    let head = true;
    let pending: Uint8Array = new Uint8Array(0);
    // Chunked transfer decoding: a size line, that many bytes, then CRLF.
    let state: "size" | "data" | "crlf" = "size";
    let left = 0;
    let reason: EndReason = "ended by server";
    try {
      this.#conn = await Deno.connect({ hostname: "127.0.0.1", port });
      if (this.#closedByUs) throw new Error("closed before connecting");
      const request = `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\n` +
        `Accept: text/event-stream\r\nCache-Control: no-cache\r\n` +
        `Cookie: ${cookie}\r\n` +
        (lastEventId != null ? `Last-Event-ID: ${lastEventId}\r\n` : "") +
        "\r\n";
      const bytes = encoder.encode(request);
      for (let off = 0; off < bytes.length;) {
        off += await this.#conn.write(bytes.subarray(off));
      }
      const buf = new Uint8Array(16 * 1024);
      while (true) {
        const n = await this.#conn.read(buf);
        if (n === null) break;
        const at = performance.now();
        this.bytes += n;
        pending = concat(pending, buf.slice(0, n));
        let off = 0;
        if (head) {
          const end = indexOfSeq(pending, CRLF2, 0);
          if (end < 0) continue;
          const text = new TextDecoder().decode(pending.subarray(0, end));
          const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(text)?.[1] ?? 0);
          if (status !== 200) {
            throw new Error(`GET ${path} answered ${status || text}`);
          }
          if (!/\r\ntransfer-encoding: *chunked/i.test(text)) {
            throw new Error(`GET ${path}: expected a chunked stream`);
          }
          head = false;
          ready();
          off = end + 4;
        }
        while (true) {
          if (state === "size") {
            const eol = indexOfSeq(pending, CRLF, off);
            if (eol < 0) break;
            const size = parseInt(
              String.fromCharCode(...pending.subarray(off, eol)),
              16,
            );
            off = eol + 2;
            if (!(size > 0)) return "ended by server";
            left = size;
            state = "data";
          } else if (state === "data") {
            const take = Math.min(left, pending.length - off);
            if (take === 0) break;
            this.#feed(pending.subarray(off, off + take), at);
            off += take;
            left -= take;
            if (left === 0) state = "crlf";
          } else {
            if (pending.length - off < 2) break;
            off += 2;
            state = "size";
          }
        }
        pending = pending.slice(off);
      }
    } catch (err) {
      reason = this.#closedByUs
        ? "closed by client"
        : `error: ${(err as Error).message}`;
      if (head) fail(err as Error);
      return reason;
    } finally {
      this.close();
    }
    if (head) {
      fail(new Error(`GET ${path}: connection closed before a response`));
    }
    return this.#closedByUs ? "closed by client" : reason;
  }

  /**
   * While true, the bytes are read off the socket (and counted) but not
   * decoded into frames: the create-throughput phase of scenario 2 needs no
   * timestamps, and parsing a thousand streams in the harness takes CPU from
   * the server it shares the cores with. Turned off, parsing resumes at the
   * next frame boundary.
   */
  skipParsing = false;

  #feed(bytes: Uint8Array, at: number) {
    if (this.skipParsing) {
      this.#text = "";
      this.#decoder = new TextDecoder();
      this.#resync = true;
      return;
    }
    if (this.#resync) {
      // Parsing resumes where a frame starts: after a blank line.
      const text = this.#decoder.decode(bytes, { stream: true });
      const start = text.indexOf("\n\n");
      if (start < 0) return;
      this.#resync = false;
      this.#text = text.slice(start + 2);
      bytes = new Uint8Array(0);
    }
    this.#text += this.#decoder.decode(bytes, { stream: true });
    let end: number;
    while ((end = this.#text.indexOf("\n\n")) >= 0) {
      const block = this.#text.slice(0, end);
      this.#text = this.#text.slice(end + 2);
      const frame = parseSseBlock(block, at);
      if (frame) this.opts.onFrame(frame);
    }
  }
}

/** The ticket a frame is about: the card's `id="ticket-<n>"`, else any `ticket-<n>`. */
export function ticketIdOf(data: string): number | null {
  const m = /id="ticket-(\d+)"/.exec(data) ?? /ticket-(\d+)/.exec(data);
  return m ? Number(m[1]) : null;
}

/**
 * A browser-like client: follows the stream, and when the server ends it (a
 * slow client is dropped, a restart) reconnects after the `retry:` delay with
 * Last-Event-ID, as EventSource does.
 */
export class LiveClient {
  lastId: number | null;
  frames = 0;
  /** Times the server ended the stream and the client came back. */
  reconnects = 0;
  /** Bytes read on earlier connections (see `bytes`). */
  #bytesBefore = 0;
  /** The last reason a connection ended (for error messages). */
  lastEnd: EndReason | null = null;
  #conn: SseConnection | null = null;
  #stopped = false;
  #retryMs = 1000;
  #loop: Promise<void> | null = null;
  #skip = false;

  constructor(
    readonly opts: {
      port: number;
      path: string;
      cookie: string;
      lastEventId?: number | null;
      onFrame?: (frame: SseFrame) => void;
    },
  ) {
    this.lastId = opts.lastEventId ?? null;
  }

  /** Connects; resolves once the first response head said 200. */
  async start(): Promise<void> {
    const first = this.#open();
    await first.ready;
    this.#loop = this.#follow(first);
  }

  /** Reads without parsing (see SseConnection.skipParsing), on this and later connections. */
  set skipParsing(on: boolean) {
    this.#skip = on;
    if (this.#conn) this.#conn.skipParsing = on;
  }

  /** Bytes read over all this client's connections. */
  get bytes(): number {
    return this.#bytesBefore + (this.#conn?.bytes ?? 0);
  }

  #open(): SseConnection {
    this.#bytesBefore += this.#conn?.bytes ?? 0;
    const conn = new SseConnection({
      port: this.opts.port,
      path: this.opts.path,
      cookie: this.opts.cookie,
      lastEventId: this.lastId,
      onFrame: (f) => {
        this.frames++;
        if (f.id !== null) this.lastId = f.id;
        if (f.retry !== null) this.#retryMs = f.retry;
        this.opts.onFrame?.(f);
      },
    });
    conn.skipParsing = this.#skip;
    this.#conn = conn;
    return conn;
  }

  async #follow(conn: SseConnection): Promise<void> {
    while (!this.#stopped) {
      this.lastEnd = await conn.ended;
      if (this.#stopped) return;
      this.reconnects++;
      // EventSource waits the server's retry hint; a little jitter spreads a herd.
      await new Promise((r) =>
        setTimeout(r, this.#retryMs * (0.5 + Math.random()))
      );
      if (this.#stopped) return;
      conn = this.#open();
    }
  }

  /** Closes the connection and stops reconnecting. */
  async stop(): Promise<void> {
    this.#stopped = true;
    this.#conn?.close();
    await this.#loop;
  }
}
