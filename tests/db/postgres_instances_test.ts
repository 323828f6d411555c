/**
 * Two app instances on different ports over one PostgreSQL database, through
 * real HTTP: live events cross instances, a client that moves from one to the
 * other with Last-Event-ID misses nothing and sees nothing twice, and
 * idempotent creates spread over both make one ticket per key.
 */
import assert from "node:assert/strict";
import { createApp } from "../../app.ts";
import { createMemoryBus } from "../../db/bus.ts";
import type { PostgresStore } from "../../db/postgres/postgres_store.ts";
import { createLogger } from "../../log.ts";
import { hashPassword } from "../../lib/passwords.ts";
import { newApiKey } from "../../lib/tokens.ts";
import { readSse, type SseFrame } from "../sse_client.ts";
import { jsonRequest, sampleTicket, sessionCookieOf } from "../fixtures.ts";
import {
  createTestSchema,
  dropTestSchema,
  openTestPostgres,
  testPostgres,
} from "./backends.ts";

/** Both instances must share the session secret, as a real deployment does. */
const SECRET_KEY = "two-instances-secret-0123456789abcdef012345";
const PASSWORD = "correct horse battery staple";
const WAIT = 10_000;

interface Instance {
  url: string;
  store: PostgresStore;
  stop(): Promise<void>;
}

async function startInstance(schema: string): Promise<Instance> {
  const bus = createMemoryBus();
  const store = await openTestPostgres(schema, bus);
  const stopping = new AbortController();
  const app = createApp({
    store,
    bus,
    signal: stopping.signal,
    config: { logLevel: "silent", secretKey: SECRET_KEY },
    logger: createLogger("silent"),
  });
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen: () => {} },
    app.fetch,
  );
  return {
    url: `http://127.0.0.1:${server.addr.port}`,
    store,
    async stop() {
      stopping.abort();
      await server.shutdown();
      await store.close();
    },
  };
}

interface Cluster {
  a: Instance;
  b: Instance;
  cookie: string;
  apiKey: string;
}

/** Two instances on one fresh schema, an admin session and an API key; all removed afterwards. */
async function withTwoInstances(fn: (c: Cluster) => Promise<void>) {
  const schema = await createTestSchema();
  // The first migrates; the second then finds nothing to do.
  const a = await startInstance(schema);
  const b = await startInstance(schema);
  try {
    await a.store.createUser({
      username: "admin",
      passwordHash: await hashPassword(PASSWORD),
      role: "admin",
    });
    const { key, prefix, hash } = newApiKey();
    await a.store.createApiKey({ name: "mobile", prefix, hash });
    const login = await fetch(`${a.url}/login`, {
      method: "POST",
      redirect: "manual",
      headers: {
        "Content-Type": "application/x-www-form-urlencoded",
        Origin: a.url,
      },
      body: new URLSearchParams({ username: "admin", password: PASSWORD }),
    });
    await login.body?.cancel();
    assert.equal(login.status, 303);
    const cookie = sessionCookieOf(login);
    assert.ok(cookie);
    await fn({ a, b, cookie, apiKey: key });
  } finally {
    await a.stop();
    await b.stop();
    await dropTestSchema(schema);
  }
}

/** A live stream: read frames with ids one by one, each read bounded in time. */
class Stream {
  #it: AsyncGenerator<SseFrame>;
  #controller = new AbortController();
  private constructor(res: Response, readonly ctl: AbortController) {
    this.#it = readSse(res);
    this.#controller = ctl;
  }

  static async open(
    base: string,
    cookie: string,
    lastEventId?: number,
  ): Promise<Stream> {
    const ctl = new AbortController();
    const headers: Record<string, string> = { Cookie: cookie };
    if (lastEventId !== undefined) headers["Last-Event-ID"] = `${lastEventId}`;
    const res = await fetch(`${base}/events`, { headers, signal: ctl.signal });
    assert.equal(res.status, 200);
    assert.match(res.headers.get("content-type") ?? "", /^text\/event-stream/);
    const s = new Stream(res, ctl);
    const hello = await s.#next();
    assert.equal(hello?.event, "hello");
    return s;
  }

  async #next(ms = WAIT): Promise<SseFrame | null> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const r = await Promise.race([
      this.#it.next(),
      new Promise<null>((res) => timer = setTimeout(() => res(null), ms)),
    ]);
    clearTimeout(timer);
    return r === null || r.done ? null : r.value;
  }

  /** The ids of the next `n` event frames (comments and frames without id skipped). */
  async ids(n: number): Promise<number[]> {
    const out: number[] = [];
    while (out.length < n) {
      const f = await this.#next();
      if (f === null) {
        assert.fail(`expected ${n} events, got ${JSON.stringify(out)}`);
      }
      if (f.id !== undefined && f.id !== "") out.push(Number(f.id));
    }
    return out;
  }

  /** Drops the connection, as a browser that loses its server does. */
  async close() {
    this.#controller.abort();
    await this.#it.return(undefined).catch(() => {});
  }
}

async function create(base: string, apiKey: string, user_id: string) {
  const res = await fetch(
    `${base}/api/v1/tickets`,
    jsonRequest(sampleTicket({ user_id }), {
      headers: { Authorization: `Bearer ${apiKey}` },
    }),
  );
  assert.equal(res.status, 201, await res.clone().text());
  return (await res.json()).id as number;
}

testPostgres(
  "a ticket created on instance A reaches a live client on instance B",
  async () => {
    await withTwoInstances(async ({ a, b, cookie, apiKey }) => {
      const onB = await Stream.open(b.url, cookie);
      try {
        await create(a.url, apiKey, "from-a");
        const [id] = await onB.ids(1);
        const [event] = await b.store.eventsAfter(id! - 1, 1);
        assert.equal(event?.type, "ticket.created");
      } finally {
        await onB.close();
      }
    });
  },
);

testPostgres(
  "a client that loses A and reconnects to B with Last-Event-ID gets every missed event once, in order",
  async () => {
    await withTwoInstances(async ({ a, b, cookie, apiKey }) => {
      const onA = await Stream.open(a.url, cookie);
      await create(a.url, apiKey, "one");
      await create(b.url, apiKey, "two");
      const seen = await onA.ids(2);
      await onA.close();
      // Written while the client is away, on both instances.
      await create(a.url, apiKey, "three");
      await create(b.url, apiKey, "four");
      await create(a.url, apiKey, "five");
      const onB = await Stream.open(b.url, cookie, seen.at(-1));
      try {
        const missed = await onB.ids(3);
        await create(a.url, apiKey, "six");
        const next = await onB.ids(1);
        const all = (await b.store.eventsAfter(0, 100)).map((e) => e.id);
        assert.deepEqual([...seen, ...missed, ...next], all);
        assert.equal(all.length, 6);
      } finally {
        await onB.close();
      }
    });
  },
);

testPostgres(
  "concurrent idempotent creates spread over both instances make exactly one ticket per key",
  async () => {
    await withTwoInstances(async ({ a, b, apiKey }) => {
      const keys = Array.from({ length: 8 }, (_, i) => `key-${i}`);
      const responses = await Promise.all(
        keys.flatMap((key) =>
          [a, b, a, b].map(async (inst) => {
            // One instance answers 409 "in flight" to a second request with a
            // key it is still processing; the client retries, as the API says.
            for (let attempt = 0;; attempt++) {
              const res = await fetch(
                `${inst.url}/create_ticket`,
                jsonRequest(sampleTicket({ user_id: key }), {
                  headers: {
                    Authorization: `Bearer ${apiKey}`,
                    "Idempotency-Key": key,
                  },
                }),
              );
              if (res.status === 409 && attempt < 50) {
                await res.body?.cancel();
                await new Promise((r) => setTimeout(r, 20));
                continue;
              }
              assert.equal(res.status, 201, await res.clone().text());
              return { key, id: (await res.json()).ticket_id as number };
            }
          })
        ),
      );
      for (const key of keys) {
        const ids = new Set(
          responses.filter((r) => r.key === key).map((r) => r.id),
        );
        assert.equal(ids.size, 1, `${key}: ${[...ids]}`);
      }
      assert.equal((await a.store.countByStatus()).All, keys.length);
      const page = await b.store.listTickets({ limit: 100 });
      assert.deepEqual(
        page.items.map((t) => t.user_id).sort(),
        [...keys].sort(),
      );
    });
  },
);
