/**
 * The fuzz mutator: malformed bodies, headers, URLs and framing, written as raw
 * HTTP/1.1 bytes (fetch refuses to send most of these).
 */
import type { Rng } from "./rng.ts";

export interface FuzzCase {
  /** What was mutated, for the report. */
  label: string;
  /** Request line and headers, one char per byte (latin1), ending with the blank line. */
  head: string;
  body: Uint8Array | null;
  /** A create route: a 201 here must mean one new ticket. */
  creates: boolean;
  /**
   * The framing is broken (a body shorter than promised, or bad chunk sizes): the
   * server may wait or close without a reply, and the client gives up.
   */
  incomplete: boolean;
}

const enc = new TextEncoder();
/** Bytes of a UTF-8 string as a latin1 string, so it can sit in `head`. */
const utf8Latin1 = (s: string) => String.fromCharCode(...enc.encode(s));

const UNICODE = [
  "ünïcødé",
  "😀🎫",
  "‮RTL‬",
  "a\u200bb\ufeff",
  "e\u0301\u0301\u0301",
  "\u0000",
  "a\u0000b",
  "\ud800",
  "\udfff\ud800",
  "\uffff",
  "\t\n\r",
  "𝕳𝖊𝖑𝖑𝖔",
  "\u2028\u2029",
];

const WRONG_TYPES: unknown[] = [
  0,
  -1,
  1.5,
  1e308,
  true,
  false,
  null,
  [],
  [null],
  [[1]],
  {},
  { a: 1 },
  "",
  " ",
  9007199254740993,
];

const LINKS = [
  "javascript:alert(1)",
  "data:text/html,<script>alert(1)</script>",
  "http://",
  "https://user:pw@example.com/x.pdf",
  "//example.com/x.pdf",
  "http://[::1]/x.pdf",
  "HTTP://EXAMPLE.COM/X.PDF",
  "  https://example.com/x.pdf  ",
  "https://ex ample.com/x.pdf",
  "http://localhost:99999/x.pdf",
  "file:///etc/passwd",
  "https://example.com/" + "a".repeat(2100),
  "https://例え.jp/ファイル.pdf",
  "https://example.com/%zz",
  "ftp://example.com/x.pdf",
  "https://example.com/\u0000.pdf",
];

const PATHS_OTHER = [
  "/",
  "/healthz",
  "/healthz?x=1",
  "/nope",
  "/static/x.css",
  "/static/../../etc/passwd",
  "/api/openapi.json",
  "/api/v2/tickets",
  "//create_ticket",
  "/create_ticket/",
  "/CREATE_TICKET",
  "/api//v1/tickets",
  "/api/v1/tickets/../tickets",
  "/%2e%2e/%2e%2e/etc/passwd",
  "/%00",
  "/%ff%fe",
  "/%",
  "/api/v1/%",
  "*",
  "http://127.0.0.1/healthz",
  "/?" + "q=".repeat(3000),
  "/" + "a".repeat(9000),
  "/api/v1/tickets/" + "9".repeat(70_000),
];

const IDS = [
  "1",
  "0",
  "-1",
  "1.5",
  "1e3",
  "0x1",
  "01",
  "9999999999999999",
  "99999999999999999999",
  "%31",
  "%00",
  "%ff",
  "%",
  "abc",
  "1%2F2",
  "1;drop",
  utf8Latin1("١"),
  "\xff\xfe",
  "",
];

const QUERIES = [
  "",
  "?limit=0",
  "?limit=-1",
  "?limit=abc",
  "?limit=1e2",
  "?limit=101",
  "?limit=100",
  "?limit=",
  "?limit=1&limit=2",
  "?limit=1.5",
  "?limit=NaN",
  "?limit=Infinity",
  "?cursor=garbage",
  "?cursor=" + btoa("b:0"),
  "?cursor=" + btoa("b:99999999999999999"),
  "?cursor=" + btoa("b:9999999999999999").replaceAll("=", ""),
  "?cursor=%ZZ",
  "?cursor=====",
  "?cursor=" + "A".repeat(5000),
  "?status=OPEN",
  "?status=weird",
  "?status=",
  "?user_id=" + "u".repeat(200),
  "?product_id=%00",
  "?&&&==&=",
  "?%00=%00",
  "?" + utf8Latin1("ünï=😀"),
  "?a[b][c]=1",
  "?status=Open&status=Closed",
];

const CONTENT_TYPES: (string | null)[] = [
  null,
  "",
  "text/plain",
  "application/json; charset=utf-16",
  "application/json\x00",
  "APPLICATION/JSON",
  "application/vnd.api+json",
  "application/merge-patch+json",
  "multipart/form-data; boundary=x",
  "application/x-www-form-urlencoded",
  "application/jsonx",
  "  application/json",
  "application/json;" + "x".repeat(5000),
  "application/json; charset=\xff",
  utf8Latin1("application/jsön"),
];

const BAD_KEYS: (string | string[])[] = [
  "",
  "has space",
  "k".repeat(300),
  "\xe9t\xe9",
  "\t",
  "x\x00y",
  ["same-a", "same-b"],
  utf8Latin1("ключ"),
  "\x7f",
];

const IF_MATCH = [
  '"abc"',
  'W/"1"',
  "*",
  '"99999999999999999999"',
  '"-1"',
  '"1", "2"',
  '"1',
  "1",
  '""',
  "\xff",
];

const METHODS = [
  "GET",
  "POST",
  "PATCH",
  "PUT",
  "DELETE",
  "OPTIONS",
  "HEAD",
  "TRACE",
  "FOO",
  "get",
  "CONNECT",
];

/** A valid create body, the starting point of most mutations. */
function baseCreate(rng: Rng): Record<string, unknown> {
  return {
    user_id: `fuzz-${rng.int(1, 1e9)}`,
    pdf_link: "https://example.com/manual.pdf",
    ...(rng.chance(0.5) ? { product_id: "P-1" } : {}),
    ...(rng.chance(0.5) ? { other_ids: ["A", "B"] } : {}),
  };
}

function nest(depth: number, open: string, close: string, inner = "1") {
  return open.repeat(depth) + inner + close.repeat(depth);
}

/** A JSON body text mutated one (or two) ways; mostly objects with a broken field. */
function mutateBody(rng: Rng, base: Record<string, unknown>): {
  label: string;
  bytes: Uint8Array;
} {
  const fields = Object.keys(base);
  const field = rng.pick([...fields, "user_id", "pdf_link", "other_ids"]);
  const obj: Record<string, unknown> = { ...base };
  const text = (label: string, s: string) => ({ label, bytes: enc.encode(s) });
  switch (rng.int(0, 17)) {
    case 0:
      return text("valid", JSON.stringify(obj));
    case 1:
      obj[field] = rng.pick(WRONG_TYPES);
      return text(
        `wrong type ${field}=${JSON.stringify(obj[field])}`,
        JSON.stringify(obj),
      );
    case 2: {
      const n = rng.pick([129, 1025, 2049, 5000, 10_001, 15_000, 20_000]);
      obj[field] = "x".repeat(n);
      return text(`huge ${field} (${n})`, JSON.stringify(obj));
    }
    case 3:
      obj[field] = `${rng.pick(UNICODE)}${String(obj[field] ?? "")}${
        rng.pick(UNICODE)
      }`;
      return text(`unicode ${field}`, JSON.stringify(obj));
    case 4:
      delete obj[field];
      return text(`missing ${field}`, JSON.stringify(obj));
    case 5:
      return text(
        "extra fields",
        JSON.stringify({
          ...obj,
          id: 1,
          status: "Closed",
          version: 99,
          extra: [1],
        })
          .replace(
            "{",
            '{"__proto__":{"polluted":1},"constructor":{"prototype":1},',
          ),
      );
    case 6: {
      const depth = rng.pick([10, 100, 1000, 5000, 7000]);
      const s = JSON.stringify({ ...obj, [field]: "@@" }).replace(
        '"@@"',
        rng.chance(0.5) ? nest(depth, "[", "]") : nest(depth, '{"a":', "}"),
      );
      return text(`deep nesting ${field} (${depth})`, s);
    }
    case 7: {
      const s = JSON.stringify(obj);
      const at = rng.int(0, s.length - 1);
      return text(`truncated at ${at}`, s.slice(0, at));
    }
    case 8: {
      const bytes = enc.encode(JSON.stringify(obj));
      const n = rng.int(1, 4);
      for (let i = 0; i < n; i++) {
        bytes[rng.int(0, bytes.length - 1)] = rng.int(0, 255);
      }
      return { label: `${n} random bytes flipped`, bytes };
    }
    case 9: {
      // Invalid UTF-8 inside a string value: lone continuation, overlong NUL, a surrogate.
      const bad = rng.pick([[0xff], [0x80], [0xc0, 0x80], [0xed, 0xa0, 0x80], [
        0xf4,
        0x90,
        0x80,
        0x80,
      ], [0xe2, 0x82]]);
      const s = JSON.stringify({ ...obj, [field]: "@@" });
      const [a, b] = s.split('"@@"') as [string, string];
      return {
        label: `invalid utf-8 in ${field}`,
        bytes: new Uint8Array([
          ...enc.encode(a + '"x'),
          ...bad,
          ...enc.encode('y"' + b),
        ]),
      };
    }
    case 10:
      return { label: "random bytes", bytes: rng.bytes(rng.int(1, 2000)) };
    case 11:
      return text(
        "non-object JSON",
        rng.pick(["[]", '"str"', "1", "null", "true", "[{}]", "{}"]),
      );
    case 12:
      return text("empty body", rng.pick(["", " ", "\n", "\u0000"]));
    case 13:
      return text(
        "duplicate keys",
        JSON.stringify(obj).replace("{", '{"user_id":5,"user_id":"dup",'),
      );
    case 14:
      return text("BOM prefix", "\ufeff" + JSON.stringify(obj));
    case 15:
      obj.pdf_link = rng.pick(LINKS);
      return text(
        `pdf_link ${String(obj.pdf_link).slice(0, 40)}`,
        JSON.stringify(obj),
      );
    case 16:
      return text(
        "numbers",
        JSON.stringify(obj).replace("{", '{"n1":1e400,"n2":-0,"n3":1E-400,')
          .replace(/"user_id":"[^"]*"/, '"user_id":1e400'),
      );
    default:
      return text(
        "huge body",
        JSON.stringify({
          ...obj,
          pad: "p".repeat(rng.pick([16_000, 17_000, 100_000])),
        }),
      );
  }
}

/**
 * Builds one fuzz case. `ticketId` names an existing ticket for PATCH and comments;
 * `apiKey`, when the server wants one, is usually sent (sometimes left out or mangled).
 */
export function fuzzCase(
  rng: Rng,
  ticketId: number,
  apiKey: string | null,
): FuzzCase {
  const headers: [string, string][] = [["Host", "127.0.0.1"]];
  if (apiKey) {
    const auth = rng.next();
    if (auth < 0.85) headers.push(["Authorization", `Bearer ${apiKey}`]);
    else if (auth < 0.95) {
      headers.push([
        "Authorization",
        rng.pick([
          "Bearer",
          "Bearer tdk_nope",
          "Basic YTpi",
          "Bearer \xff",
          `bearer  ${apiKey}`,
          "x".repeat(5000),
        ]),
      ]);
    }
  }
  let method = "GET";
  let target = "/";
  let body: Uint8Array | null = null;
  let creates = false;
  const labels: string[] = [];
  const route = rng.int(0, 9);
  if (route <= 3) {
    method = "POST";
    target = route % 2 ? "/create_ticket" : "/api/v1/tickets";
    creates = true;
    const b = mutateBody(rng, baseCreate(rng));
    body = b.bytes;
    labels.push(`create ${target}: ${b.label}`);
    headers.push(["Content-Type", "application/json"]);
    if (rng.chance(0.3)) headers.push(["Idempotency-Key", crypto.randomUUID()]);
  } else if (route === 4) {
    method = "PATCH";
    target = `/api/v1/tickets/${rng.chance(0.8) ? ticketId : rng.pick(IDS)}`;
    const b = mutateBody(rng, {
      status: rng.pick(["Open", "pending", "Closed", "closed"]),
      description: "fuzzed",
    });
    body = b.bytes;
    labels.push(`patch ${target.slice(0, 40)}: ${b.label}`);
    headers.push(["Content-Type", "application/json"]);
  } else if (route === 5) {
    method = "POST";
    target = `/api/v1/tickets/${
      rng.chance(0.8) ? ticketId : rng.pick(IDS)
    }/comments`;
    const b = mutateBody(rng, { body: "a comment", author: "fuzz" });
    body = b.bytes;
    labels.push(`comment ${target.slice(0, 40)}: ${b.label}`);
    headers.push(["Content-Type", "application/json"]);
  } else if (route === 6) {
    target = `/api/v1/tickets${rng.pick(QUERIES)}`;
    labels.push(`list ${target.slice(0, 60)}`);
  } else if (route === 7) {
    target = `/api/v1/tickets/${rng.pick(IDS)}${
      rng.chance(0.2) ? rng.pick(QUERIES) : ""
    }`;
    labels.push(`get ${target.slice(0, 60)}`);
  } else {
    target = rng.pick(PATHS_OTHER);
    method = rng.pick(METHODS);
    if (method !== "GET" && method !== "HEAD" && rng.chance(0.5)) {
      body = mutateBody(rng, baseCreate(rng)).bytes;
      headers.push(["Content-Type", "application/json"]);
    }
    labels.push(`${method} ${target.slice(0, 60)}`);
  }
  // Header and framing mutations on top (sometimes several).
  const extra = rng.int(0, 2);
  for (let i = 0; i < extra; i++) {
    switch (rng.int(0, 9)) {
      case 0: {
        const ct = rng.pick(CONTENT_TYPES);
        const at = headers.findIndex(([k]) => k === "Content-Type");
        if (at >= 0) headers.splice(at, 1);
        if (ct !== null) headers.push(["Content-Type", ct]);
        labels.push(`content-type ${JSON.stringify(ct)?.slice(0, 30)}`);
        break;
      }
      case 1: {
        const k = rng.pick(BAD_KEYS);
        for (const v of Array.isArray(k) ? k : [k]) {
          headers.push(["Idempotency-Key", v]);
        }
        labels.push(`idempotency-key ${JSON.stringify(k).slice(0, 30)}`);
        break;
      }
      case 2:
        headers.push(["If-Match", rng.pick(IF_MATCH)]);
        labels.push("if-match");
        break;
      case 3:
        headers.push([
          "X-Request-Id",
          rng.pick(["", "a b", "x".repeat(100), "\xff", "ok-id"]),
        ]);
        labels.push("x-request-id");
        break;
      case 4:
        headers.push(["X-Big", "b".repeat(rng.pick([1000, 20_000, 100_000]))]);
        labels.push("huge header");
        break;
      case 5:
        for (let h = 0; h < 150; h++) headers.push([`X-H${h}`, "v"]);
        labels.push("150 headers");
        break;
      case 6:
        method = rng.pick(METHODS);
        labels.push(`method ${method}`);
        break;
      case 7:
        headers.push([
          rng.pick(["Bad Header", "X-\x00", "", ":", "X-\xff"]),
          "v",
        ]);
        labels.push("malformed header name");
        break;
      case 8:
        target = target +
          rng.pick([
            "#frag",
            "?",
            "??",
            "?a=%",
            `?${"x".repeat(12_000)}`,
            " HTTP/1.1 extra",
          ]);
        labels.push("target suffix");
        break;
      default:
        headers.push([
          "Accept",
          rng.pick(["*/*", "text/html", "application/json", "\xff"]),
        ]);
        labels.push("accept");
    }
  }
  // Framing: usually a correct Content-Length; sometimes a wrong one or chunked.
  const framing = body === null ? "none" : rng.pick([
    "cl",
    "cl",
    "cl",
    "cl",
    "short",
    "long",
    "bad",
    "chunked",
    "bad-chunked",
    "both",
  ]);
  let payload = body;
  if (body !== null) {
    switch (framing) {
      case "cl":
        headers.push(["Content-Length", String(body.length)]);
        break;
      case "short":
        headers.push(["Content-Length", String(Math.max(0, body.length - 5))]);
        break;
      case "long":
        headers.push(["Content-Length", String(body.length + 100)]);
        break;
      case "bad":
        headers.push([
          "Content-Length",
          rng.pick(["-1", "abc", "1e3", "99999999999999999999", ""]),
        ]);
        break;
      case "chunked":
      case "both":
      case "bad-chunked": {
        headers.push(["Transfer-Encoding", "chunked"]);
        if (framing === "both") {
          headers.push(["Content-Length", String(body.length)]);
        }
        const size = framing === "bad-chunked"
          ? "zz"
          : body.length.toString(16);
        payload = new Uint8Array([
          ...enc.encode(`${size}\r\n`),
          ...body,
          ...enc.encode("\r\n0\r\n\r\n"),
        ]);
        break;
      }
    }
    labels.push(`framing ${framing}`);
  }
  const version = rng.chance(0.03)
    ? rng.pick(["HTTP/1.0", "HTTP/2.0", "HTTP/9.9", "HTTX/1.1"])
    : "HTTP/1.1";
  headers.push(["Connection", "close"]);
  const head = `${method} ${target} ${version}\r\n` +
    headers.map(([k, v]) => `${k}: ${v}\r\n`).join("") + "\r\n";
  return {
    label: labels.join("; "),
    head,
    body: payload,
    creates: creates && method === "POST",
    incomplete: framing === "long" || framing === "bad-chunked",
  };
}

/**
 * Fixed probes run before the random cases, so a known-nasty input is tried on
 * every run: NUL inside text fields (SQLite text is NUL-terminated for readers).
 */
export function probeCases(apiKey: string | null): FuzzCase[] {
  const auth = apiKey ? `Authorization: Bearer ${apiKey}\r\n` : "";
  const json = (
    method: string,
    target: string,
    body: unknown,
    creates: boolean,
  ) => {
    const bytes = enc.encode(JSON.stringify(body));
    return {
      label: `probe ${method} ${target} ${JSON.stringify(body).slice(0, 60)}`,
      head: `${method} ${target} HTTP/1.1\r\nHost: 127.0.0.1\r\n${auth}` +
        `Content-Type: application/json\r\nContent-Length: ${bytes.length}\r\nConnection: close\r\n\r\n`,
      body: bytes,
      creates,
      incomplete: false,
    };
  };
  const link = "https://example.com/manual.pdf";
  return [
    json(
      "POST",
      "/create_ticket",
      { user_id: "\u0000probe", pdf_link: link },
      true,
    ),
    json("POST", "/api/v1/tickets", {
      user_id: "probe",
      pdf_link: link,
      other_ids: "\u0000x",
    }, true),
    json("POST", "/api/v1/tickets", {
      user_id: "probe",
      pdf_link: link,
      product_id: "\u0000",
    }, true),
  ];
}

/** Control characters, one each: %00–%1F and %7F, the ones a browser never puts in a form. */
export const CONTROL_CHARS: readonly string[] = [
  ...Array.from({ length: 32 }, (_, c) => String.fromCharCode(c)),
  "\x7f",
];

/**
 * Redirect targets that leave the site, or that a lenient browser reads as
 * leaving it: scheme-relative, backslashes, a tab or newline that browsers strip
 * from URLs, a scheme, a header smuggled in with CR LF.
 */
export const OFF_SITE: readonly string[] = [
  "//evil.example",
  "/\\evil.example",
  "https://evil.example",
  "/\t/evil.example",
  "/%09/evil.example",
  "javascript:alert(1)",
  "///evil.example",
  "/\\/evil.example",
  "\\\\evil.example",
  "\\/evil.example",
  " //evil.example",
  "\t//evil.example",
  "/\n/evil.example",
  "/\r/evil.example",
  "http:evil.example",
  "/%2F%2Fevil.example",
  "/%5Cevil.example",
  "/dashboard\r\nLocation: //evil.example",
];

/**
 * The values one field gets, the likeliest to break something first, so a short
 * run still tries them on every field: a control character or a backslash inside
 * the field's own value (it still passes a check that only looks at how the
 * value starts), alternating with off-site targets; then the rest of each, and
 * for a path each control character in the path part too.
 */
export function fieldMutations(original: string): string[] {
  const base = original || "/x";
  const path = base.startsWith("/");
  // In a path's query, where a check for "/dashboard?..." still lets it through.
  const inside = (c: string) =>
    path && !base.includes("?") ? `${base}?${c}y` : `${base}${c}y`;
  const inPath = (c: string) =>
    `${base.replace(/\?.*/, "")}${c}y${base.replace(/^[^?]*/, "")}`;
  const first = [
    inside("\x01"),
    "/\t/evil.example",
    "//evil.example",
    "/\\evil.example",
    inside("\t"),
    "https://evil.example",
    inside("\n"),
    "javascript:alert(1)",
    inside("\r"),
    "/%09/evil.example",
    inside("\x00"),
    inside("\x7f"),
    inside("\\"),
  ];
  const out = [
    ...first,
    ...OFF_SITE,
    ...CONTROL_CHARS.map(inside),
    ...(path ? CONTROL_CHARS.map(inPath) : []),
    "\\",
  ];
  return [...new Set(out)].filter((v) => v !== original);
}

/**
 * Why a Location header is not a same-origin path, or null when it is one: it
 * must start with exactly one "/" (not "//" or "/\"), with no control
 * characters or whitespace anywhere.
 */
export function offSiteLocation(location: string): string | null {
  if (!location.startsWith("/")) return "does not start with /";
  if (/^\/[/\\]/.test(location)) return "starts with // or /\\";
  // deno-lint-ignore no-control-regex
  if (/[\x00-\x20\x7f]/.test(location)) {
    return "has a control character or whitespace";
  }
  return null;
}
