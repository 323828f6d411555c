/**
 * Posts realistic sample tickets to a running server, like the mobile app does.
 *
 *   deno task demo [--url http://127.0.0.1:8000] [--count 10] [--key KEY]
 *
 * The API key comes from --key or TICKETS_API_KEY; without one the server must
 * allow anonymous creates (ALLOW_ANONYMOUS_CREATE=1).
 */
import { parseArgs } from "node:util";
import { SAMPLE_USERS as USERS } from "../lib/sample_data.ts";

const PRODUCTS = [
  "PROD123",
  "ROUTER-AX3",
  "CAM-2K",
  "THERMO-S",
  "LOCK-PRO",
  null,
];
const GUIDES = [
  "https://example.com/guides/quick-start.pdf",
  "https://example.com/guides/wifi-setup.pdf",
  "https://example.com/manuals/reset-procedure.pdf",
  "https://docs.example.org/product-guide-v2.pdf",
];

/** One sample ticket, varied by its index. */
export function sampleTicket(i: number) {
  const product = PRODUCTS[i % PRODUCTS.length];
  return {
    user_id: USERS[i % USERS.length],
    pdf_link: GUIDES[i % GUIDES.length],
    ...(product ? { product_id: product } : {}),
    ...(i % 3 === 0
      ? { other_ids: [`ORDER-${1000 + i}`, `DEVICE-${i % 7}`] }
      : {}),
  };
}

async function main() {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      url: { type: "string", default: "http://127.0.0.1:8000" },
      count: { type: "string", default: "10" },
      key: { type: "string" },
    },
  });
  const base = values.url.replace(/\/+$/, "");
  const count = Number(values.count);
  if (!Number.isInteger(count) || count < 1 || count > 100_000) {
    console.error("--count must be a whole number from 1 to 100000");
    Deno.exit(2);
  }
  const apiKey = values.key ?? Deno.env.get("TICKETS_API_KEY");
  const auth: Record<string, string> = apiKey
    ? { Authorization: `Bearer ${apiKey}` }
    : {};
  console.log(`Posting ${count} sample tickets to ${base}/create_ticket`);
  const ids: number[] = [];
  for (let i = 0; i < count; i++) {
    const body = JSON.stringify(sampleTicket(i));
    // One key per ticket: if a post is retried, the server creates it once.
    const key = crypto.randomUUID();
    let res: Response | undefined;
    for (let attempt = 1; attempt <= 3; attempt++) {
      try {
        res = await fetch(`${base}/create_ticket`, {
          method: "POST",
          headers: {
            "Content-Type": "application/json",
            "Idempotency-Key": key,
            ...auth,
          },
          body,
        });
        if (res.status !== 409 && res.status < 500) break;
        await res.body?.cancel();
      } catch (err) {
        if (attempt === 3) {
          console.error(`Cannot reach ${base}: ${(err as Error).message}`);
          console.error(
            "Is the server running? Start it with: deno task start",
          );
          Deno.exit(1);
        }
      }
      await new Promise((r) => setTimeout(r, 200 * attempt));
    }
    const payload = await res!.json();
    if (res!.status === 401) {
      console.error(
        "The server wants an API key: create one with `deno task apikey create demo`,",
      );
      console.error("then run: deno task demo --key <the key>");
      Deno.exit(1);
    }
    if (res!.status !== 201) {
      console.error(
        `Ticket ${i + 1} refused (${res!.status}): ${
          payload.detail ?? JSON.stringify(payload)
        }`,
      );
      Deno.exit(1);
    }
    ids.push(payload.ticket_id);
    console.log(`  [${i + 1}/${count}] created ticket #${payload.ticket_id}`);
  }
  console.log(
    `Done: created ${ids.length} tickets (ids ${ids[0]}..${ids.at(-1)}).`,
  );
}

if (import.meta.main) await main();
