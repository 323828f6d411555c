/** Reads a JSON request body with the API's limits: 413, 415 and 400 come from here. */
import type { MiddlewareHandler } from "hono";
import { bodyLimit } from "hono/body-limit";
import { HttpProblem } from "./problems.ts";

/** The API's body limit: a ticket is a few hundred bytes; 16 KiB is generous. */
export const API_BODY_LIMIT = 16 * 1024;

/** application/json or any +json type, with any parameters (RFC 9110 media type). */
const JSON_TYPE = /^\s*application\/(?:[\w.+-]+\+)?json\s*(?:;|$)/i;
/** A charset parameter, quoted or not; JSON is UTF-8 (RFC 8259), so only that one is read. */
const CHARSET = /;\s*charset\s*=\s*"?([^";\s]*)"?/i;
const UTF8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: false });

const limit = bodyLimit({
  maxSize: API_BODY_LIMIT,
  onError: () => {
    throw new HttpProblem({
      status: 413,
      title: "Body too large",
      detail: `The request body must be at most ${API_BODY_LIMIT} bytes`,
    });
  },
});

const parse: MiddlewareHandler = async (c, next) => {
  const type = c.req.header("content-type") ?? "";
  if (!JSON_TYPE.test(type)) {
    throw new HttpProblem({
      status: 415,
      title: "Unsupported media type",
      detail: type
        ? `Send the body as application/json, not ${type.split(";")[0]}`
        : "Send the body as application/json (the Content-Type header is missing)",
      headers: { "Accept-Patch": "application/json" },
    });
  }
  const charset = CHARSET.exec(type)?.[1]?.toLowerCase();
  if (charset !== undefined && charset !== "utf-8" && charset !== "utf8") {
    throw new HttpProblem({
      status: 415,
      title: "Unsupported charset",
      detail: `JSON must be sent as UTF-8, not ${charset}`,
    });
  }
  const encoding = c.req.header("content-encoding")?.trim().toLowerCase();
  if (encoding && encoding !== "identity") {
    // Reading compressed bytes as if they were JSON would only mislead.
    throw new HttpProblem({
      status: 415,
      title: "Unsupported content encoding",
      detail:
        `The body is sent with Content-Encoding ${encoding}, which this API does not decode; send it uncompressed`,
      headers: { "Accept-Encoding": "identity" },
    });
  }
  let bytes: ArrayBuffer;
  try {
    bytes = await c.req.arrayBuffer();
  } catch (err) {
    if (err instanceof HttpProblem) throw err; // the size limit
    // The client went away (or lied about Content-Length) mid-body: its fault, not ours.
    throw new HttpProblem({
      status: 400,
      title: "Body incomplete",
      detail: "The request body ended before it was complete",
    });
  }
  let text: string;
  try {
    text = UTF8.decode(bytes);
  } catch {
    // Decoding leniently would store U+FFFD in place of the client's bytes.
    throw new HttpProblem({
      status: 400,
      title: "Body is not UTF-8",
      detail: "The request body is not valid UTF-8; send JSON encoded as UTF-8",
    });
  }
  // The validators behind us check the media type more strictly than RFC 9110
  // (no space before ";", no quoted charset) and read the body again. A real
  // request's headers are immutable, so hand them a request that says what was
  // checked here, carrying the decoded text.
  const raw = c.req.raw;
  const headers = new Headers(raw.headers);
  headers.set("content-type", type.split(";")[0]!.trim().toLowerCase());
  headers.delete("content-encoding");
  c.req.raw = new Request(raw.url, {
    method: raw.method,
    headers,
    body: text,
  });
  // (Hono types the cache entry as the value, but stores and awaits a promise.)
  (c.req.bodyCache as Record<string, unknown>).text = Promise.resolve(text);
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new HttpProblem({
      status: 400,
      title: "Body is not JSON",
      detail: text.trim() === ""
        ? "The request body is empty; send a JSON object"
        : `The request body is not valid JSON: ${(err as Error).message}`,
    });
  }
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    throw new HttpProblem({
      status: 400,
      title: "Body is not a JSON object",
      detail: "The request body must be a JSON object",
    });
  }
  await next();
};

/** Enforces the size limit, the JSON content type and well-formed JSON, in that order. */
export const jsonBody: MiddlewareHandler[] = [limit, parse];
