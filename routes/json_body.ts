/** Reads a JSON request body with the API's limits: 413, 415 and 400 come from here. */
import type { MiddlewareHandler } from "hono";
import { bodyLimit } from "hono/body-limit";
import { HttpProblem } from "./problems.ts";

/** The API's body limit: a ticket is a few hundred bytes; 16 KiB is generous. */
export const API_BODY_LIMIT = 16 * 1024;

const JSON_TYPE = /^application\/(?:[\w.+-]+\+)?json\s*(?:;|$)/i;

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
  // RFC 9110 allows space before ";": normalise it, since the validator behind us does not.
  const tidy = type.replace(/\s+;/g, ";").trim();
  if (tidy !== type) c.req.raw.headers.set("content-type", tidy);
  let text: string;
  try {
    text = await c.req.text();
  } catch (err) {
    if (err instanceof HttpProblem) throw err; // the size limit
    // The client went away (or lied about Content-Length) mid-body: its fault, not ours.
    throw new HttpProblem({
      status: 400,
      title: "Body incomplete",
      detail: "The request body ended before it was complete",
    });
  }
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
