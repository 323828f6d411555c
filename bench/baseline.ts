/**
 * The benchmark baseline: a bare Deno.serve handler that does what the cheapest
 * possible ticket desk would do with the same requests — parse the JSON body and
 * answer 201 with a small JSON — without storing anything. Every figure the
 * harness reports is set beside this server's, measured in the same run.
 *
 * Run: PORT=8001 deno run --allow-net --allow-env=PORT bench/baseline.ts
 */

const port = Number(Deno.env.get("PORT") ?? "8001");
let nextId = 1;

// The read scenario's baseline answer: a page of 50 ticket-shaped objects,
// serialized per request as the real list endpoint does.
const page = Array.from({ length: 50 }, (_, i) => ({
  id: 50 - i,
  user_id: `bench_user_${i}`,
  pdf_link: `https://example.com/guides/${i}.pdf`,
  product_id: `PROD${i}`,
  other_ids: `ORDER-${i}, DEVICE-7`,
  status: "Open",
  description: "",
  created_at: "2026-01-01T00:00:00.000Z",
  updated_at: "2026-01-01T00:00:00.000Z",
  version: 1,
}));

/** Answers like the app's routes do, with none of their work. */
async function handle(req: Request): Promise<Response> {
  const path = new URL(req.url).pathname;
  if (req.method === "POST") {
    const body = await req.json();
    if (body === null || typeof body !== "object") {
      return Response.json({ success: false }, { status: 400 });
    }
    return Response.json({
      success: true,
      ticket_id: nextId++,
      message: "Ticket created successfully",
    }, { status: 201 });
  }
  if (path === "/api/v1/tickets") {
    return Response.json({ items: page, next_cursor: null });
  }
  return Response.json({ status: "ok" });
}

Deno.serve({
  hostname: "127.0.0.1",
  port,
  onListen: ({ port }) =>
    console.log(JSON.stringify({ msg: "listening", port })),
}, handle);
