/**
 * Where a webhook may go. Server-side request forgery guard: an endpoint's URL
 * is someone's text, and the server would POST to whatever it names, inside
 * the network it runs in. Unless WEBHOOK_ALLOW_PRIVATE=1, an address that is
 * private, loopback, link-local, unique-local, multicast or otherwise not on
 * the public internet is refused: in the URL itself (when the endpoint is
 * added) and in what its host name resolves to (A and AAAA, before every
 * attempt).
 *
 * The limit, stated plainly: fetch resolves the name again when it connects,
 * so a DNS server that answers a public address to the check and a private one
 * a moment later (DNS rebinding) gets past it. Deno's fetch cannot be told
 * which address to connect to. Where that matters, let the server reach the
 * internet only through an egress proxy or firewall that refuses private
 * ranges (e.g. Stripe's smokescreen).
 */

/** Why a URL cannot be an endpoint (syntax, scheme, credentials, a private literal address), or null. */
export function endpointUrlProblem(
  value: string,
  allowPrivate: boolean,
): string | null {
  if (value === "") return "must not be empty";
  if (value.length > 2048) return "must be at most 2048 characters";
  const url = URL.parse(value);
  if (!url || !/^https?:\/\//i.test(value)) {
    return "must be an absolute http or https URL";
  }
  if (url.username || url.password) return "must not contain credentials";
  if (url.hash) return "must not have a #fragment";
  if (/[\p{Cc}\s]/u.test(value)) {
    return "must not contain spaces or control characters";
  }
  if (!allowPrivate) {
    const host = bareHost(url.hostname);
    if (isLocalName(host)) {
      return `must not name ${host}: webhooks go to public addresses only (WEBHOOK_ALLOW_PRIVATE=1 allows private ones)`;
    }
    if (isIpLiteral(host) && isNonPublic(host)) {
      return `must not be the private address ${host}: webhooks go to public addresses only (WEBHOOK_ALLOW_PRIVATE=1 allows private ones)`;
    }
  }
  return null;
}

export type Resolver = (
  host: string,
  type: "A" | "AAAA",
) => Promise<string[]>;

/**
 * Why the server must not send to `url` now, or null. A host that resolves to
 * nothing is a connection problem (thrown), not a refusal.
 */
export async function destinationProblem(
  url: string,
  opts: { allowPrivate: boolean; resolve?: Resolver },
): Promise<string | null> {
  if (opts.allowPrivate) return null;
  const host = bareHost(new URL(url).hostname);
  const refuse = (addr: string) =>
    `refused: ${host} is ${
      addr === host ? "" : `${addr}, `
    }not a public address (WEBHOOK_ALLOW_PRIVATE=1 allows it)`;
  if (isLocalName(host)) return refuse(host);
  if (isIpLiteral(host)) return isNonPublic(host) ? refuse(host) : null;
  const resolve = opts.resolve ?? ((h, t) => Deno.resolveDns(h, t));
  const answers = await Promise.allSettled([
    resolve(host, "A"),
    resolve(host, "AAAA"),
  ]);
  const addrs = answers.flatMap((a) => a.status === "fulfilled" ? a.value : []);
  if (addrs.length === 0) {
    const err = answers.find((a) => a.status === "rejected");
    throw new Error(
      `cannot resolve ${host}${
        err ? `: ${(err as PromiseRejectedResult).reason?.message ?? ""}` : ""
      }`,
    );
  }
  const bad = addrs.find(isNonPublic);
  return bad ? refuse(bad) : null;
}

/** A URL's hostname without IPv6 brackets, lower case. */
function bareHost(hostname: string): string {
  return hostname.replace(/^\[|\]$/g, "").toLowerCase();
}

function isLocalName(host: string): boolean {
  return host === "localhost" || host.endsWith(".localhost");
}

function isIpLiteral(host: string): boolean {
  return parseIpv4(host) !== null || parseIpv6(host) !== null;
}

/** Whether an address is anything but a public unicast one. */
export function isNonPublic(addr: string): boolean {
  const v4 = parseIpv4(addr);
  if (v4) return nonPublicV4(v4);
  const v6 = parseIpv6(addr);
  if (!v6) return true; // not an address we understand: refuse
  return nonPublicV6(v6);
}

function parseIpv4(s: string): number[] | null {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(s);
  if (!m) return null;
  const parts = m.slice(1).map(Number);
  return parts.every((n) => n <= 255) ? parts : null;
}

/** Special-purpose IPv4 ranges (RFC 6890 and friends): none reaches the public internet. */
const V4_RANGES: [number[], number][] = [
  [[0, 0, 0, 0], 8], // "this network"
  [[10, 0, 0, 0], 8], // private
  [[100, 64, 0, 0], 10], // carrier-grade NAT
  [[127, 0, 0, 0], 8], // loopback
  [[169, 254, 0, 0], 16], // link-local (cloud metadata lives here)
  [[172, 16, 0, 0], 12], // private
  [[192, 0, 0, 0], 24], // protocol assignments
  [[192, 0, 2, 0], 24], // documentation
  [[192, 88, 99, 0], 24], // 6to4 relay
  [[192, 168, 0, 0], 16], // private
  [[198, 18, 0, 0], 15], // benchmarking
  [[198, 51, 100, 0], 24], // documentation
  [[203, 0, 113, 0], 24], // documentation
  [[224, 0, 0, 0], 4], // multicast
  [[240, 0, 0, 0], 4], // reserved, broadcast
];

function v4Number(p: number[]): number {
  return ((p[0]! << 24) >>> 0) + (p[1]! << 16) + (p[2]! << 8) + p[3]!;
}

function nonPublicV4(p: number[]): boolean {
  const n = v4Number(p);
  return V4_RANGES.some(([base, bits]) => {
    const mask = bits === 0 ? 0 : (~0 << (32 - bits)) >>> 0;
    return ((n & mask) >>> 0) === ((v4Number(base) & mask) >>> 0);
  });
}

/** Parses an IPv6 address (with an embedded IPv4 tail, or a zone) into eight 16-bit groups. */
function parseIpv6(s: string): number[] | null {
  if (!s.includes(":")) return null;
  let text = s.replace(/%.*$/, "");
  let tail: number[] = [];
  const m = /^(.*:)(\d{1,3}(?:\.\d{1,3}){3})$/.exec(text);
  if (m) {
    const p = parseIpv4(m[2]!);
    if (!p) return null;
    tail = [(p[0]! << 8) | p[1]!, (p[2]! << 8) | p[3]!];
    text = m[1]!.endsWith("::") ? m[1]! : m[1]!.slice(0, -1);
  }
  const halves = text.split("::");
  if (halves.length > 2) return null;
  const parts = (x: string) => x === "" ? [] : x.split(":");
  const head = parts(halves[0]!);
  const rest = halves.length === 2 ? parts(halves[1]!) : [];
  const missing = 8 - tail.length - head.length - rest.length;
  if (halves.length === 1 ? missing !== 0 : missing < 1) return null;
  const hex = [
    ...head,
    ...Array(halves.length === 2 ? missing : 0).fill("0"),
    ...rest,
  ];
  if (hex.some((h) => !/^[0-9a-f]{1,4}$/i.test(h))) return null;
  return [...hex.map((h) => parseInt(h, 16)), ...tail];
}

function nonPublicV6(g: number[]): boolean {
  const zeroUpTo = (n: number) => g.slice(0, n).every((x) => x === 0);
  if (zeroUpTo(8)) return true; // ::
  if (zeroUpTo(7) && g[7] === 1) return true; // ::1
  const v4At = (
    i: number,
  ) => [g[i]! >> 8, g[i]! & 0xff, g[i + 1]! >> 8, g[i + 1]! & 0xff];
  if (zeroUpTo(5) && g[5] === 0xffff) return nonPublicV4(v4At(6)); // ::ffff:a.b.c.d
  if (zeroUpTo(6)) return true; // ::a.b.c.d (deprecated IPv4-compatible)
  if (g[0] === 0x64 && g[1] === 0xff9b && g.slice(2, 6).every((x) => x === 0)) {
    return nonPublicV4(v4At(6)); // NAT64
  }
  if (g[0] === 0x2002) return nonPublicV4(v4At(1)); // 6to4
  const first = g[0]!;
  return (first & 0xfe00) === 0xfc00 || // unique local fc00::/7
    (first & 0xffc0) === 0xfe80 || // link-local fe80::/10
    (first & 0xffc0) === 0xfec0 || // site-local (deprecated)
    (first & 0xff00) === 0xff00 || // multicast
    (first === 0x2001 && g[1] === 0x0db8) || // documentation
    (first === 0x0100 && g[1] === 0 && g[2] === 0 && g[3] === 0); // discard 100::/64
}
