/** Webhook signatures, the private-address guard and the retry policy. */
import assert from "node:assert/strict";
import {
  newWebhookSecret,
  signature,
  webhookHeaders,
} from "../../lib/webhooks/signature.ts";
import {
  destinationProblem,
  endpointUrlProblem,
  isNonPublic,
} from "../../lib/webhooks/destination.ts";
import { nextStep, retryAfterSeconds } from "../../lib/webhooks/retry.ts";
import { DEFAULT_CONFIG } from "../../config.ts";
import { verifyWebhook } from "../../docs/verify_webhook.ts";

Deno.test("signature matches the Standard Webhooks reference libraries' test vector", () => {
  // From the standard-webhooks libraries' own tests.
  assert.equal(
    signature(
      "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
      "msg_p5jXN8AQM9LWM0D4loKWxJek",
      1614265330,
      '{"test": 2432232314}',
    ),
    "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=",
  );
});

Deno.test("A new secret is whsec_ and the base64 of 32 random bytes", () => {
  const s = newWebhookSecret();
  assert.match(s, /^whsec_[A-Za-z0-9+/]{43}=$/);
  assert.equal(atob(s.slice(6)).length, 32);
  assert.notEqual(newWebhookSecret(), s);
});

Deno.test("The README's verification example accepts the desk's signatures, with either secret during a rotation, and refuses anything else", async () => {
  const secret = newWebhookSecret();
  const old = newWebhookSecret();
  const body =
    '{"type":"ticket.created","timestamp":"2026-12-01T00:00:00.000Z","data":{"ticket":{"id":1}}}';
  const now = Math.floor(Date.now() / 1000);
  const headers = new Headers(
    webhookHeaders([secret, old], "msg_abc", now, body),
  );
  assert.match(
    headers.get("webhook-signature")!,
    /^v1,[A-Za-z0-9+/]{43}= v1,[A-Za-z0-9+/]{43}=$/,
  );
  assert.deepEqual(
    await verifyWebhook(secret, headers, body),
    JSON.parse(body),
  );
  assert.deepEqual(await verifyWebhook(old, headers, body), JSON.parse(body));
  const refused = async (
    s: string,
    h: Headers,
    b: string,
    message: string,
  ) => await assert.rejects(() => verifyWebhook(s, h, b), { message });
  await refused(newWebhookSecret(), headers, body, "no valid signature");
  await refused(
    secret,
    headers,
    body.replace("1}", "2}"),
    "no valid signature",
  );
  const late = new Headers(
    webhookHeaders([secret], "msg_abc", now - 600, body),
  );
  await refused(secret, late, body, "timestamp out of range");
  const other = new Headers(headers);
  other.set("webhook-id", "msg_other");
  await refused(secret, other, body, "no valid signature");
  const garbled = new Headers(headers);
  garbled.set("webhook-signature", "v1,@@@ v2,abc v1a,xyz");
  await refused(secret, garbled, body, "no valid signature");
  await refused(secret, new Headers(), body, "not a webhook");
});

Deno.test("The README quotes docs/verify_webhook.ts exactly, so the example that runs here is the one people copy", async () => {
  const root = new URL("../../", import.meta.url);
  const code = await Deno.readTextFile(new URL("docs/verify_webhook.ts", root));
  const readme = await Deno.readTextFile(new URL("README.md", root));
  assert.ok(
    readme.includes("```ts\n" + code + "```"),
    "README.md should quote docs/verify_webhook.ts in a ts code block",
  );
});

Deno.test("Addresses that are not public unicast are refused: private, loopback, link-local, unique-local, multicast, mapped and reserved", () => {
  for (
    const addr of [
      "0.0.0.0",
      "10.1.2.3",
      "100.64.0.1",
      "127.0.0.1",
      "127.255.255.254",
      "169.254.169.254",
      "172.16.0.1",
      "172.31.255.255",
      "192.168.1.1",
      "198.18.0.1",
      "224.0.0.1",
      "239.255.255.250",
      "255.255.255.255",
      "::",
      "::1",
      "fc00::1",
      "fd12:3456::1",
      "fe80::1",
      "fe80::1%eth0",
      "ff02::1",
      "::ffff:127.0.0.1",
      "::ffff:10.0.0.1",
      "::ffff:7f00:1",
      "64:ff9b::a00:1",
      "2002:a00:1::",
      "2001:db8::1",
      "::127.0.0.1",
      "not an address",
    ]
  ) assert.equal(isNonPublic(addr), true, addr);
  for (
    const addr of [
      "8.8.8.8",
      "93.184.215.14",
      "172.32.0.1",
      "192.169.0.1",
      "2606:4700:4700::1111",
      "2a00:1450:4001:80e::200e",
      "::ffff:8.8.8.8",
      "64:ff9b::808:808",
    ]
  ) assert.equal(isNonPublic(addr), false, addr);
});

Deno.test("An endpoint URL is an absolute http(s) URL without credentials, and no private literal address unless allowed", () => {
  assert.equal(
    endpointUrlProblem("https://hooks.example.com/desk?x=1", false),
    null,
  );
  assert.equal(endpointUrlProblem("http://127.0.0.1:9000/hook", true), null);
  const problems: [string, string][] = [
    ["", "must not be empty"],
    ["hooks.example.com", "must be an absolute http or https URL"],
    ["ftp://hooks.example.com/", "must be an absolute http or https URL"],
    ["https://u:p@hooks.example.com/", "must not contain credentials"],
    ["https://hooks.example.com/#x", "must not have a #fragment"],
    [
      `https://hooks.example.com/${"a".repeat(2048)}`,
      "must be at most 2048 characters",
    ],
  ];
  for (const [url, problem] of problems) {
    assert.equal(endpointUrlProblem(url, false), problem, url);
  }
  for (
    const url of [
      "http://127.0.0.1:9000/hook",
      "http://[::1]/hook",
      "http://localhost:8000/",
      "http://169.254.169.254/latest/meta-data",
      "http://2130706433/", // 127.0.0.1 as a number: URL normalizes it
      "http://10.0.0.5/",
    ]
  ) {
    assert.match(
      endpointUrlProblem(url, false) ?? "",
      /webhooks go to public addresses only \(WEBHOOK_ALLOW_PRIVATE=1 allows private ones\)$/,
      url,
    );
  }
});

Deno.test("Before each attempt, a host name resolving (A or AAAA) to a private address is refused, and one resolving to nothing cannot be reached", async () => {
  const dns =
    (table: Record<string, string[]>) => (host: string, type: "A" | "AAAA") => {
      const v = table[`${host} ${type}`];
      return v ? Promise.resolve(v) : Promise.reject(new Error("NXDOMAIN"));
    };
  const resolve = dns({
    "public.example A": ["93.184.215.14"],
    "public.example AAAA": ["2606:2800:21f:cb07:6820:80da:af6b:8b2c"],
    "inside.example A": ["10.0.0.7"],
    "sneaky.example A": ["93.184.215.14"],
    "sneaky.example AAAA": ["fd00::7"],
  });
  const opts = { allowPrivate: false, resolve };
  assert.equal(
    await destinationProblem("https://public.example/hook", opts),
    null,
  );
  assert.equal(
    await destinationProblem("https://inside.example/hook", opts),
    "refused: inside.example is 10.0.0.7, not a public address (WEBHOOK_ALLOW_PRIVATE=1 allows it)",
  );
  assert.match(
    (await destinationProblem("https://sneaky.example/", opts))!,
    /^refused: sneaky\.example is fd00::7/,
  );
  assert.equal(
    await destinationProblem("http://127.0.0.1:8000/", opts),
    "refused: 127.0.0.1 is not a public address (WEBHOOK_ALLOW_PRIVATE=1 allows it)",
  );
  await assert.rejects(
    () => destinationProblem("https://nowhere.example/", opts),
    /^Error: cannot resolve nowhere\.example/,
  );
  assert.equal(
    await destinationProblem("http://127.0.0.1:8000/", {
      allowPrivate: true,
      resolve,
    }),
    null,
  );
});

const SCHEDULE = DEFAULT_CONFIG.webhookRetrySchedule;
const NOW = new Date("2026-12-01T00:00:00.000Z");
const at = (r: { next_attempt_at?: string }) =>
  (Date.parse(r.next_attempt_at!) - NOW.getTime()) / 1000;

Deno.test("2xx is delivered; other 4xx are final; 410 also disables the endpoint", () => {
  assert.deepEqual(
    nextStep(1, SCHEDULE, { status: 204, error: null, durationMs: 5 }, NOW),
    { status_code: 204, duration_ms: 5, error: null, outcome: "delivered" },
  );
  for (const status of [400, 401, 403, 404, 413, 422]) {
    const r = nextStep(
      1,
      SCHEDULE,
      { status, error: null, durationMs: 5 },
      NOW,
    );
    assert.equal(r.outcome, "failed", String(status));
    assert.equal(r.error, `HTTP ${status}`);
    assert.equal(r.disable_reason, undefined);
  }
  const gone = nextStep(3, SCHEDULE, {
    status: 410,
    error: null,
    durationMs: 5,
  }, NOW);
  assert.equal(gone.outcome, "failed");
  assert.match(gone.disable_reason!, /410 Gone/);
});

Deno.test("Timeouts, connection errors, redirects, 408, 429 and 5xx are retried on the schedule with ±20% jitter", () => {
  for (
    const status of [null, 301, 302, 307, 408, 429, 500, 502, 503, 504]
  ) {
    for (const [attempt, wait] of [[1, 5], [2, 300], [7, 36000]] as const) {
      const low = nextStep(
        attempt,
        SCHEDULE,
        {
          status,
          error: status === null ? "timed out after 10 s" : null,
          durationMs: 10_000,
        },
        NOW,
        () => 0,
      );
      const high = nextStep(
        attempt,
        SCHEDULE,
        {
          status,
          error: null,
          durationMs: 1,
        },
        NOW,
        () => 1,
      );
      assert.equal(low.outcome, "retry", `${status}`);
      assert.equal(at(low), wait * 0.8);
      assert.equal(at(high), wait * 1.2);
    }
  }
});

Deno.test("A 429 or 503 waits at least what Retry-After asks (seconds or a date, a day at most)", () => {
  const r = (status: number, retryAfter: string) =>
    at(
      nextStep(
        1,
        SCHEDULE,
        { status, error: null, retryAfter, durationMs: 1 },
        NOW,
        () => 0.5,
      ),
    );
  assert.equal(r(429, "120"), 120);
  assert.equal(r(503, "Tue, 01 Dec 2026 00:10:00 GMT"), 600);
  assert.equal(r(429, "1"), 5, "never sooner than the schedule");
  assert.equal(r(503, "99999999"), 86400);
  assert.equal(r(500, "120"), 5, "only 429 and 503 are asked to wait");
  assert.equal(retryAfterSeconds("soon", NOW), null);
});

Deno.test("When the last scheduled attempt fails, the delivery fails and the endpoint is disabled, saying why", () => {
  const last = nextStep(SCHEDULE.length, SCHEDULE, {
    status: 503,
    error: null,
    durationMs: 3,
  }, NOW);
  assert.equal(last.outcome, "failed");
  assert.equal(
    last.disable_reason,
    "Every attempt failed: 8 over 28 h; the last one: HTTP 503.",
  );
});
