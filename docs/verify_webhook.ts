/**
 * Verifies a webhook from the ticket desk (Standard Webhooks, v1 signatures)
 * and returns its parsed body; throws when it is not authentic. Web Crypto
 * only: runs in Deno, Node 20+, Bun, Cloudflare Workers and browsers.
 */
export async function verifyWebhook(
  secret: string, // whsec_… as the desk showed it
  headers: Headers,
  rawBody: string, // the body exactly as received: never re-serialized JSON
  toleranceSeconds = 300,
): Promise<{ type: string; timestamp: string; data: Record<string, unknown> }> {
  const id = headers.get("webhook-id");
  const timestamp = headers.get("webhook-timestamp");
  const signatures = headers.get("webhook-signature");
  if (!id || !timestamp || !signatures) throw new Error("not a webhook");
  const age = Math.abs(Date.now() / 1000 - Number(timestamp));
  if (!(age <= toleranceSeconds)) throw new Error("timestamp out of range");
  const bytes = (b64: string) =>
    Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
  const key = await crypto.subtle.importKey(
    "raw",
    bytes(secret.replace(/^whsec_/, "")),
    { name: "HMAC", hash: "SHA-256" },
    false,
    ["verify"],
  );
  const signed = new TextEncoder().encode(`${id}.${timestamp}.${rawBody}`);
  // Several signatures, space-separated, while the desk rotates its secret.
  for (const sig of signatures.split(" ")) {
    const [version, mac] = sig.split(",");
    if (version !== "v1" || !mac) continue;
    let given;
    try {
      given = bytes(mac);
    } catch {
      continue;
    }
    // crypto.subtle.verify compares in constant time.
    if (await crypto.subtle.verify("HMAC", key, given, signed)) {
      return JSON.parse(rawBody);
    }
  }
  throw new Error("no valid signature");
}
