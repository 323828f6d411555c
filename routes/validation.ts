/** Turning zod issues into the API's per-field errors. */
import type { FieldError } from "./problems.ts";

interface Issue {
  path: PropertyKey[];
  message: string;
}

/** Maps zod issues to field errors; body fields also get a JSON Pointer. */
export function issuesToFieldErrors(
  issues: readonly Issue[],
  target: string,
): FieldError[] {
  const seen = new Set<string>();
  const out: FieldError[] = [];
  for (const issue of issues) {
    const path = issue.path.map(String);
    const field = path.join(".") || "(body)";
    if (seen.has(field)) continue; // one message per field reads better than three
    seen.add(field);
    out.push({
      field,
      ...(target === "json"
        ? {
          pointer: "#/" +
            path.map((p) => p.replaceAll("~", "~0").replaceAll("/", "~1")).join(
              "/",
            ),
        }
        : {}),
      detail: issue.message,
    });
  }
  return out;
}
