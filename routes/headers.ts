/**
 * Values that reach response headers, and the paths we send browsers to.
 *
 * Deno's HTTP layer panics (and the process exits) on a header value with a
 * control character, so every header of every response passes headerValue
 * once, on its way out (app.ts). Redirect targets taken from the request
 * (`next`, `back`) must also be same-site paths as a browser would read them.
 */

const UNSAFE = /[^\x20-\x7e]/g;

function percentEncode(ch: string): string {
  try {
    return encodeURIComponent(ch);
  } catch {
    return "%EF%BF%BD"; // a lone surrogate: U+FFFD's bytes
  }
}

/** Makes a string safe as a header value: space and visible ASCII pass, anything else is percent-encoded. */
export function headerValue(value: string): string {
  return value.replace(UNSAFE, percentEncode);
}

/** Passes every header of a response through headerValue; returns the response (new if its headers were frozen). */
export function safeHeaders(res: Response): Response {
  let bad: [string, string][] | null = null;
  for (const [name, value] of res.headers) {
    UNSAFE.lastIndex = 0;
    if (UNSAFE.test(value)) (bad ??= []).push([name, value]);
  }
  if (!bad) return res;
  try {
    for (const [name] of bad) {
      // Set-Cookie may repeat: rebuild every line of it.
      const lines = name === "set-cookie"
        ? res.headers.getSetCookie()
        : [res.headers.get(name)!];
      res.headers.delete(name);
      for (const l of lines) res.headers.append(name, headerValue(l));
    }
    return res;
  } catch {
    // Immutable headers (a Response.redirect, a fetched response): copy them.
    const headers = new Headers();
    for (const [n, v] of res.headers) headers.append(n, headerValue(v));
    return new Response(res.body, {
      status: res.status,
      statusText: res.statusText,
      headers,
    });
  }
}

const CONTROL_OR_SPACE =
  // deno-lint-ignore no-control-regex -- control characters are what it refuses
  /[\u0000-\u0020\u007f-\u00a0\u1680\u2000-\u200f\u2028-\u202f\u205f-\u2069\u3000\ufeff]/;
const BASE = "http://desk.invalid";

/**
 * The path itself when `value` is a same-site path, else null.
 *
 * Judged as a browser reads a URL: it drops tabs and newlines and reads `\`
 * as `/`, so `/\t/evil.example` and `/\evil.example` both mean
 * `//evil.example`, another site. Whitespace and control characters are
 * refused outright, and so is anything that is not one leading `/` followed
 * by a non-slash.
 */
export function localPath(value: unknown): string | null {
  if (typeof value !== "string" || value.length === 0 || value.length > 2048) {
    return null;
  }
  if (CONTROL_OR_SPACE.test(value)) return null;
  const read = value.replace(/[\t\n\r]/g, "").replaceAll("\\", "/");
  if (!/^\/(?!\/)/.test(read)) return null;
  const url = URL.parse(read, BASE);
  return url && url.origin === BASE ? value : null;
}
