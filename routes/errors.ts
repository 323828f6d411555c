/**
 * Errors, mapped to HTTP once per surface: problem+json for the JSON API, an
 * HTML notice or page for people. Unknown errors are logged with the request
 * id and shown as a generic 500.
 */
import type { Context, ErrorHandler } from "hono";
import { HTTPException } from "hono/http-exception";
import {
  AccountNotFoundError,
  AlreadyAssignedError,
  DuplicateNameError,
  IdempotencyMismatchError,
  NotFoundError,
  StaleVersionError,
  StorageUnavailableError,
  UnknownAssigneeError,
  WebhookNotFoundError,
} from "../db/store.ts";
import type { Logger } from "../log.ts";
import { ErrorNotice, ErrorPage } from "../views/error_page.tsx";
import { PAGE_STYLES } from "./assets.ts";
import type { AppEnv } from "./context.ts";
import { HttpProblem, problemBody, type ProblemInit } from "./problems.ts";

export type Surface = "api" | "page";

/** Maps a thrown value to a problem; null for errors nobody expected. */
export function toProblem(err: unknown, surface: Surface): ProblemInit | null {
  if (err instanceof HttpProblem) return err.init;
  if (
    err instanceof NotFoundError || err instanceof AccountNotFoundError ||
    err instanceof WebhookNotFoundError
  ) {
    return { status: 404, title: "Not found", detail: err.message };
  }
  if (err instanceof StaleVersionError) {
    return {
      // The API's If-Match precondition failed (412); a dashboard form's version
      // is part of the form, so there it is a conflict with the current state (409).
      status: surface === "api" ? 412 : 409,
      type: "/problems/stale-version",
      title: "Version is stale",
      detail: err.message,
      extra: { current_version: err.current },
    };
  }
  if (err instanceof IdempotencyMismatchError) {
    return {
      status: 422,
      type: "/problems/idempotency-key-reused",
      title: "Idempotency-Key reused",
      detail: `${err.message}; use a new key for a new ticket`,
      errors: [{
        field: "Idempotency-Key",
        detail: "was used with another body",
      }],
    };
  }
  if (err instanceof AlreadyAssignedError) {
    return {
      status: 409,
      type: "/problems/already-assigned",
      title: "Already assigned",
      detail:
        `${err.message}; send If-Match with the version you saw to reassign it anyway`,
      extra: { assignee: err.owner },
    };
  }
  if (err instanceof UnknownAssigneeError) {
    return {
      status: 422,
      type: "/problems/validation",
      title: "The request has invalid fields",
      detail: `assignee: ${err.message}`,
      errors: [{ field: "assignee", detail: "is not an active user" }],
    };
  }
  if (err instanceof DuplicateNameError) {
    return { status: 409, title: "Name taken", detail: err.message };
  }
  if (err instanceof StorageUnavailableError) {
    return {
      status: 503,
      type: "/problems/storage-unavailable",
      title: "Storage unavailable",
      detail:
        "The database cannot store anything right now; nothing was saved. Retry later.",
      headers: { "Retry-After": "5" },
    };
  }
  if (err instanceof HTTPException) {
    return {
      status: err.status,
      title: err.message || "Request refused",
      detail: err.message || `The request was refused (${err.status})`,
    };
  }
  return null;
}

/** Answers a problem as the JSON API does. */
export function respondProblem(c: Context<AppEnv>, p: ProblemInit) {
  for (const [k, v] of Object.entries(p.headers ?? {})) c.header(k, v);
  return c.body(
    JSON.stringify(problemBody(p, c.req.path, c.get("requestId") ?? "")),
    p.status as 400,
    { "Content-Type": "application/problem+json" },
  );
}

/** Answers a problem as the pages do: a notice for htmx, a page otherwise. */
export function respondPage(c: Context<AppEnv>, p: ProblemInit) {
  for (const [k, v] of Object.entries(p.headers ?? {})) c.header(k, v);
  const view = { status: p.status, title: p.title, detail: p.detail };
  if (
    c.req.header("hx-request") === "true" &&
    c.req.header("hx-history-restore-request") !== "true"
  ) {
    // htmx swaps error responses too: show the message in the page's live
    // region instead of replacing the card or form the request came from.
    c.header("HX-Retarget", "#flash");
    c.header("HX-Reswap", "innerHTML");
    return c.html(ErrorNotice(view), p.status as 400);
  }
  return c.html(
    ErrorPage({ ...view, styles: PAGE_STYLES }),
    p.status as 400,
  );
}

/** The onError of a surface: known errors as their problem, anything else a logged 500. */
export function errorHandler(
  surface: Surface,
  logger: Logger,
): ErrorHandler<AppEnv> {
  const respond = surface === "api" ? respondProblem : respondPage;
  return (err, c) => {
    const problem = toProblem(err, surface);
    if (problem) {
      if (problem.status >= 500) {
        logger.warn("request failed", {
          request_id: c.get("requestId"),
          status: problem.status,
          error: String(err),
        });
      }
      return respond(c, problem);
    }
    logger.error("unhandled error", {
      request_id: c.get("requestId"),
      path: c.req.path,
      error: String(err),
      stack: (err as Error)?.stack,
    });
    return respond(c, {
      status: 500,
      title: "Internal error",
      detail:
        `Something went wrong on our side; nothing was saved. Quote request id ${
          c.get("requestId")
        } when reporting it.`,
    });
  };
}

/** HSTS over HTTPS (directly, or behind a trusted proxy), on both surfaces. */
export function strictTransport(c: Context, https: boolean) {
  if (https) {
    c.res.headers.set(
      "Strict-Transport-Security",
      "max-age=31536000; includeSubDomains",
    );
  }
}
