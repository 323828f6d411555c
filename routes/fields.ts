/**
 * Validation rules of the fields people and apps send, written once with zod
 * and used by the JSON API's schemas and the dashboard's forms alike.
 */
import { z } from "@hono/zod-openapi";
import type { Context } from "hono";
import {
  PRIORITIES,
  type Priority,
  type Status,
  STATUSES,
} from "../db/store.ts";
import { MAX_TEXT, NAME, NAME_RULE } from "../lib/fields.ts";
import { plainText } from "./validation.ts";
import { HttpProblem } from "./problems.ts";

/** "is required" for a missing field, "must be a <kind>" for a wrong type. */
export function typeError(kind: string) {
  return (issue: { input?: unknown }) =>
    issue.input === undefined ? "is required" : `must be ${kind}`;
}

/** A status, in any letter case. */
export const statusField = z.string({ error: typeError("a string") })
  .transform((v, ctx) => {
    const found = STATUSES.find((s) => s.toLowerCase() === v.toLowerCase());
    if (!found) {
      ctx.addIssue({
        code: "custom",
        message: `must be one of ${STATUSES.join(", ")}`,
      });
      return z.NEVER;
    }
    return found as Status;
  })
  .openapi({ type: "string", enum: [...STATUSES], example: "Pending" });

/** A priority, in any letter case. */
export const priorityField = z.string({ error: typeError("a string") })
  .transform((v, ctx) => {
    const found = PRIORITIES.find((p) => p.toLowerCase() === v.toLowerCase());
    if (!found) {
      ctx.addIssue({
        code: "custom",
        message: `must be one of ${PRIORITIES.join(", ")}`,
      });
      return z.NEVER;
    }
    return found as Priority;
  })
  .openapi({ type: "string", enum: [...PRIORITIES], example: "High" });

/** An owner: a user's name, or null for nobody. */
export const assigneeField = z.string({
  error: typeError("a user name or null"),
})
  .regex(NAME, `must be a user name (${NAME_RULE})`)
  .nullable()
  .openapi({ type: ["string", "null"], example: "maria" });

/** A ticket's description: free text with line breaks, at most MAX_TEXT characters. */
export const descriptionField = z.string({ error: typeError("a string") })
  .max(MAX_TEXT, `must be at most ${MAX_TEXT} characters`)
  .superRefine(plainText(true));

/** A comment's text: like a description, and not empty. */
export const commentBodyField = z.string({ error: typeError("a string") })
  .trim()
  .min(1, "must not be empty")
  .max(MAX_TEXT, `must be at most ${MAX_TEXT} characters`)
  .superRefine(plainText(true));

/** A positive whole number sent as text (versions in forms). */
export const positiveIntField = z.string({ error: typeError("a number") })
  .regex(/^[1-9][0-9]{0,15}$/, "must be a positive whole number")
  .transform(Number);

/** Text a browser sends from a textarea: CRLF line ends made LF. */
export function formText<T>(field: z.ZodType<T, string>) {
  return z.string().default("").transform((v) => v.replaceAll("\r\n", "\n"))
    .pipe(field);
}

export type FormResult<T> =
  | { ok: true; value: T }
  | { ok: false; errors: Record<string, string> };

/** Reads a form body and checks it against `schema`; errors come back per field, first message each. */
export function readForm<T>(
  c: Context,
  schema: z.ZodType<T>,
): Promise<FormResult<T>> {
  return c.req.parseBody().then((body) => readFields(schema, body));
}

/** Checks a parsed form body's text fields against `schema` (files and repeated fields are left out). */
export function readFields<T>(
  schema: z.ZodType<T>,
  body: Record<string, unknown>,
): FormResult<T> {
  const fields: Record<string, string> = {};
  for (const [k, v] of Object.entries(body)) {
    if (typeof v === "string") fields[k] = v;
  }
  const parsed = schema.safeParse(fields);
  if (parsed.success) return { ok: true, value: parsed.data };
  const errors: Record<string, string> = {};
  for (const issue of parsed.error.issues) {
    const field = issue.path.map(String).join(".") || "form";
    errors[field] ??= issue.message;
  }
  return { ok: false, errors };
}

/** A refused button press has no field to show a message beside: it is a 422 notice. */
export function refused(errors: Record<string, string>): HttpProblem {
  const fields = Object.entries(errors);
  return new HttpProblem({
    status: 422,
    title: "Invalid form",
    detail: fields.map(([f, m]) => `${f} ${m}`).join("; ") +
      (errors.version ? ": reload the page and try again" : ""),
    errors: fields.map(([field, detail]) => ({ field, detail })),
  });
}
