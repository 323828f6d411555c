/**
 * Scenario 2: 1,000 live dashboards connected (200 with --quick). Measures how
 * fast events reach every client (201 of the create → frame at the client) under
 * a paced create load, then create throughput under wrk with the clients still
 * connected, against scenario 1's.
 */
import type { BenchContext, SharedServer } from "./context.ts";
import { type CreateRun, measureCreate, ms, rps } from "./create_load.ts";
import { LiveClient, type SseFrame, ticketIdOf } from "./sse_clients.ts";
import { login } from "./session.ts";
import { cpuSeconds, readMemory, toMib } from "./memory.ts";
import { runWrk } from "./wrk.ts";
import {
  num,
  percentile,
  type Row,
  type ScenarioOutcome,
  times,
  verdict,
} from "./report.ts";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface PacedCreate {
  ticketId: number;
  /** performance.now() when the request was sent. */
  sent: number;
  /** performance.now() when the 201 arrived. */
  at: number;
}

/** Posts `count` creates, one every 1000/`perSecond` ms (not waiting on each other). */
async function pacedCreates(
  app: SharedServer,
  opts: { perSecond: number; count: number; tag: string },
): Promise<{ created: PacedCreate[]; failed: string[] }> {
  const created: PacedCreate[] = [];
  const failed: string[] = [];
  const t0 = performance.now();
  const one = async (i: number) => {
    const delay = t0 + (i * 1000) / opts.perSecond - performance.now();
    if (delay > 0) await sleep(delay);
    const sent = performance.now();
    try {
      const res = await fetch(`${app.server.url}/create_ticket`, {
        method: "POST",
        headers: {
          "content-type": "application/json",
          "idempotency-key": `sse-${opts.tag}-${i}`,
          ...(app.apiKey ? { authorization: `Bearer ${app.apiKey}` } : {}),
        },
        body: JSON.stringify({
          user_id: `sse_user_${i}`,
          pdf_link: `https://example.com/guides/${i}.pdf`,
          product_id: "PROD-SSE",
          other_ids: [`ORDER-${i}`],
        }),
      });
      const at = performance.now();
      const body = await res.json();
      if (res.status === 201 && typeof body.ticket_id === "number") {
        created.push({ ticketId: body.ticket_id, sent, at });
      } else failed.push(`${res.status}`);
    } catch (err) {
      failed.push((err as Error).message);
    }
  };
  await Promise.all(Array.from({ length: opts.count }, (_, i) => one(i)));
  return { created, failed };
}

/** Percentiles of unsorted values. */
function summary(values: number[]) {
  const sorted = Float64Array.from(values).sort();
  return {
    p50: percentile(sorted, 50),
    p90: percentile(sorted, 90),
    p99: percentile(sorted, 99),
    max: sorted.at(-1) ?? NaN,
  };
}

/** Waits until `done()` or `timeoutMs`; true when done. */
async function until(done: () => boolean, timeoutMs: number) {
  const deadline = performance.now() + timeoutMs;
  while (!done()) {
    if (performance.now() > deadline) return false;
    await sleep(25);
  }
  return true;
}

/** Scenario 2: delivery delay and create throughput with many SSE clients connected. */
export async function sseScenario(ctx: BenchContext): Promise<ScenarioOutcome> {
  const s1 = ctx.outcomes.get("1")?.data as { app: CreateRun } | undefined;
  if (!s1) throw new Error("scenario 2 compares with scenario 1: run it first");
  const { opts } = ctx;
  const clientCount = opts.quick ? 200 : 1000;
  const pace = 20;
  const measuredS = opts.quick ? 3 : 5;
  const dbPath = `${opts.tmpDir}/sse.db`;
  ctx.log(`  starting a server of its own (DB_PATH=${dbPath}) …`);
  const app = await ctx.dedicatedApp(dbPath, { apiKey: true });
  const clients: LiveClient[] = [];
  try {
    const cookie = await login(app.server.url, dbPath);
    // The create path warm, as in scenario 1, before any client is connected.
    if (opts.warmupS > 0) {
      ctx.log(`  warm-up ${opts.warmupS} s of creates …`);
      await runWrk({
        url: `${app.server.url}/create_ticket`,
        mode: "create",
        connections: opts.createConnections,
        threads: 1,
        durationS: opts.warmupS,
        runId: `${crypto.randomUUID()}-warm`,
        apiKey: app.apiKey,
      });
    }
    const rssBefore = readMemory(app.server.pid);

    // Receipt times per ticket, only while a measured phase collects them.
    let collect: ((f: SseFrame) => void) | null = null;
    for (let i = 0; i < clientCount; i++) {
      clients.push(
        new LiveClient({
          port: app.server.port,
          path: "/events",
          cookie,
          onFrame: (f) => collect?.(f),
        }),
      );
    }
    const tc = performance.now();
    // Connected in waves of 100 so the accept queue never overflows; they stay
    // open together (each has its response head and `hello` before we go on).
    for (let i = 0; i < clients.length; i += 100) {
      await Promise.all(clients.slice(i, i + 100).map((c) => c.start()));
    }
    const allHello = await until(
      () => clients.every((c) => c.frames > 0),
      10_000,
    );
    const connectS = (performance.now() - tc) / 1000;
    const connected = clients.filter((c) => c.frames > 0).length;
    const rssConnected = readMemory(app.server.pid);
    ctx.log(
      `  ${connected}/${clientCount} clients connected in ${
        connectS.toFixed(1)
      } s; server RSS ${num(toMib(rssBefore?.rssKib ?? 0), 1)} → ${
        num(toMib(rssConnected?.rssKib ?? 0), 1)
      } MiB`,
    );
    if (!allHello) {
      throw new Error(
        `only ${connected} of ${clientCount} SSE clients got their first frame within 10 s`,
      );
    }

    // (b) Delivery delay: a paced creator, every frame timestamped at every client.
    const receipts = new Map<number, number[]>();
    const record = (f: SseFrame) => {
      const t = ticketIdOf(f.data);
      if (t === null) return;
      let r = receipts.get(t);
      if (!r) receipts.set(t, r = []);
      r.push(f.at);
    };
    ctx.log(`  ${pace} creates/s for 1 s unmeasured, then ${measuredS} s …`);
    collect = record;
    const warm = await pacedCreates(app, {
      perSecond: pace,
      count: pace,
      tag: `${crypto.randomUUID()}-w`,
    });
    const warmLast = Math.max(...warm.created.map((c) => c.ticketId));
    await until(
      () => (receipts.get(warmLast)?.length ?? 0) >= clientCount,
      10_000,
    );
    receipts.clear();
    const paced = await pacedCreates(app, {
      perSecond: pace,
      count: pace * measuredS,
      tag: crypto.randomUUID(),
    });
    const everyone = () =>
      paced.created.every((c) =>
        (receipts.get(c.ticketId)?.length ?? 0) >= clientCount
      );
    await until(everyone, 10_000);
    collect = null;
    const delays: number[] = [];
    const fromSend: number[] = [];
    let early = 0;
    for (const c of paced.created) {
      for (const at of receipts.get(c.ticketId) ?? []) {
        if (at < c.at) early++;
        delays.push(Math.max(0, at - c.at));
        fromSend.push(at - c.sent);
      }
    }
    const delay = summary(delays);
    const sendDelay = summary(fromSend);
    const expected = paced.created.length * clientCount;
    ctx.log(
      `  delivery 201 → client: p50 ${ms(delay.p50)}, p99 ${
        ms(delay.p99)
      }, max ${ms(delay.max)} (request sent → client: p50 ${
        ms(sendDelay.p50)
      }, p99 ${ms(sendDelay.p99)}); ${num(delays.length)}/${
        num(expected)
      } deliveries; ${paced.failed.length} failed creates`,
    );

    // (a) Create throughput with the clients connected (warm already: no warm-up).
    const sum = (f: (c: LiveClient) => number) =>
      clients.reduce((n, c) => n + f(c), 0);
    const before = {
      reconnects: sum((c) => c.reconnects),
      frames: sum((c) => c.frames),
      bytes: sum((c) => c.bytes),
      serverCpu: cpuSeconds(app.server.pid) ?? 0,
      serverMain: cpuSeconds(app.server.pid, { mainThread: true }) ?? 0,
      harnessCpu: cpuSeconds("self") ?? 0,
    };
    const run = (await measureCreate(ctx, app, { warmup: false })).create;
    const reconnects = sum((c) => c.reconnects) - before.reconnects;
    const load = {
      seconds: run.wrk.durationS,
      frames: sum((c) => c.frames) - before.frames,
      bytes: sum((c) => c.bytes) - before.bytes,
      server_cpu_s: (cpuSeconds(app.server.pid) ?? 0) - before.serverCpu,
      server_main_thread_cpu_s:
        (cpuSeconds(app.server.pid, { mainThread: true }) ?? 0) -
        before.serverMain,
      harness_cpu_s: (cpuSeconds("self") ?? 0) - before.harnessCpu,
    };
    const peak = app.memory();
    ctx.log(
      `  during the load: ${num(load.frames)} frames (${
        num(load.bytes / Math.max(1, load.frames))
      } B each) to the clients; CPU server ${
        load.server_cpu_s.toFixed(1)
      } s (main thread ${
        load.server_main_thread_cpu_s.toFixed(1)
      } s), harness ${load.harness_cpu_s.toFixed(1)} s in ${
        load.seconds.toFixed(1)
      } s; streams ended by the server: ${reconnects}; peak RSS ${
        num(toMib(peak.hwmKib), 1)
      } MiB`,
    );

    const ratio = run.wrk.reqPerS / s1.app.wrk.reqPerS;
    const s = `2 · ${num(clientCount)} SSE clients`;
    const rows: Row[] = [
      {
        scenario: s,
        metric: "clients connected at once (GET /events, one session)",
        value: `${num(connected)} in ${connectS.toFixed(1)} s`,
        baseline: "—",
        ratio: "—",
        target: `${num(clientCount)}`,
        result: verdict(connected === clientCount),
      },
      {
        scenario: s,
        metric: "create throughput with the clients connected",
        value: rps(run.wrk.reqPerS),
        baseline: `${rps(s1.app.wrk.reqPerS)} (scenario 1)`,
        ratio: times(ratio),
        target: "≥ 0.70× scenario 1",
        result: verdict(ratio >= 0.7),
      },
      {
        scenario: s,
        metric: "create latency p99 with the clients connected",
        value: ms(run.wrk.latencyMs.p99),
        baseline: `${ms(s1.app.wrk.latencyMs.p99)} (scenario 1)`,
        ratio: times(run.wrk.latencyMs.p99 / s1.app.wrk.latencyMs.p99),
        target: "—",
        result: "—",
      },
      {
        scenario: s,
        metric:
          `delivery delay, create's 201 → frame at every client, p50 / p99 (max); ${pace} creates/s for ${measuredS} s`,
        value: `${ms(delay.p50)} / ${ms(delay.p99)} (${ms(delay.max)})`,
        baseline: "—",
        ratio: "—",
        target: "p99 ≤ 250 ms",
        result: verdict(delay.p99 <= 250),
      },
      {
        scenario: s,
        metric:
          "the same from the create request being sent (create latency included), p50 / p99 (max)",
        value: `${ms(sendDelay.p50)} / ${ms(sendDelay.p99)} (${
          ms(sendDelay.max)
        })`,
        baseline: "—",
        ratio: "—",
        target: "—",
        result: "—",
      },
      {
        scenario: s,
        metric: "paced events delivered to every client",
        value: `${num(delays.length)} / ${num(expected)}`,
        baseline: "—",
        ratio: "—",
        target: "all",
        result: verdict(
          delays.length === expected && paced.failed.length === 0,
        ),
      },
      {
        scenario: s,
        metric:
          "streams the server ended during the create load (slow-client drops; clients reconnect with Last-Event-ID)",
        value: num(reconnects),
        baseline: "—",
        ratio: "—",
        target: "—",
        result: "—",
      },
    ];
    return {
      rows,
      data: {
        clients: clientCount,
        connected,
        connect_s: connectS,
        rss_before_clients_kib: rssBefore,
        rss_clients_connected_kib: rssConnected,
        peak_kib: peak,
        delivery_ms: delay,
        request_to_client_ms: sendDelay,
        deliveries: { received: delays.length, expected, early },
        paced: {
          per_second: pace,
          seconds: measuredS,
          created: paced.created.length,
          failed: paced.failed,
        },
        create: run,
        ratio_to_s1: ratio,
        reconnects_during_load: reconnects,
        during_create_load: load,
      },
      notes: [
        `Scenario 2: ${
          num(clientCount)
        } clients on raw TCP sockets in the harness process (bench/lib/sse_clients.ts), all with one session cookie and no filter, ` +
        `so every event goes to every client; the harness, wrk and the server share the same ${navigator.hardwareConcurrency} cores. ` +
        `Delivery delay runs from the moment the harness read a create's 201 to the read that completed the frame at each client, both in the harness's event loop; ` +
        `${
          num(early)
        } frames arrived before the 201 was read and count as 0 ms. Clients the server drops reconnect after its retry hint with Last-Event-ID, as EventSource does.`,
      ],
    };
  } finally {
    await Promise.all(clients.map((c) => c.stop()));
    await app.server.stop();
  }
}
