/** GET /problems/{slug}: the documentation behind each problem `type` the API returns. */
import { Hono } from "hono";
import {
  type ProblemType,
  ProblemTypePage,
} from "../views/problem_type_page.tsx";
import { PAGE_STYLES } from "./assets.ts";

/** Every problem type the API uses (its `type` is /problems/<key>). */
export const PROBLEM_TYPES: Record<string, ProblemType> = {
  validation: {
    title: "The request has invalid fields",
    status: 422,
    meaning:
      "One or more fields break the rules of the API. The `errors` array names each field (with a JSON Pointer into your body) and says what is wrong with it. Nothing was written.",
    fix:
      "Correct the fields listed in `errors` and send the request again. Unknown fields are ignored, so only the named ones matter.",
  },
  "idempotency-in-flight": {
    title: "Request in flight",
    status: 409,
    meaning:
      "A request with the same Idempotency-Key is still being processed. Creating a second ticket for it could make a duplicate, so this one was not run.",
    fix:
      "Wait for the Retry-After seconds and send the same request again with the same key: you will get the first request's answer.",
  },
  "idempotency-key-reused": {
    title: "Idempotency-Key reused",
    status: 422,
    meaning:
      "This Idempotency-Key was used within the last 24 hours with a different body. A key stands for one ticket.",
    fix:
      "Use a new key (a UUID) for every new ticket, and reuse a key only to retry exactly the same request.",
  },
  "already-assigned": {
    title: "Already assigned",
    status: 409,
    meaning:
      "The change would take the ticket from the person who owns it, and it did not say which version of the ticket it was based on. Nothing was written. `assignee` names the current owner.",
    fix:
      "GET the ticket, decide whether to reassign it, and send the change again with If-Match set to its ETag (or ask the owner).",
  },
  "stale-version": {
    title: "Version is stale",
    status: 412,
    meaning:
      "The If-Match header names a version of the ticket that is no longer current: someone changed it after you read it. Nothing was written. `current_version` says what the version is now.",
    fix:
      "GET the ticket again, check that your change still makes sense, and send it with the new ETag as If-Match.",
  },
  "insufficient-scope": {
    title: "Insufficient scope",
    status: 403,
    meaning:
      "The API key is valid but lacks the scope this request needs. `required_scope` names it: `create` to create tickets, `read` to list and get them, `write` to change and comment on them (`write` includes `read`). Nothing was read or written.",
    fix:
      "Use a key that has the scope. An admin creates one in Settings or with `deno task apikey create NAME --scopes create,read`; a key's scopes cannot be widened, so revoke the old key once the app uses the new one.",
  },
  "storage-unavailable": {
    title: "Storage unavailable",
    status: 503,
    meaning:
      "The database cannot store anything right now (for example the disk is full or read-only). Nothing was saved, and nothing was acknowledged that was not stored.",
    fix:
      "Retry after the Retry-After seconds, with the same Idempotency-Key so that a retry can never make a duplicate. Operators: see /healthz and the server log.",
  },
};

/** Builds the public problem-type pages. */
export function problemTypes() {
  const app = new Hono();
  app.get("/problems/:slug", (c) => {
    const slug = c.req.param("slug");
    // Own keys only: "constructor" or "toString" are not problem types.
    if (!Object.hasOwn(PROBLEM_TYPES, slug)) return c.notFound();
    const type = PROBLEM_TYPES[slug]!;
    c.header("Cache-Control", "public, max-age=86400");
    return c.html(
      ProblemTypePage({
        slug,
        type,
        styles: PAGE_STYLES,
      }),
    );
  });
  return app;
}
