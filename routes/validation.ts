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

// Control characters have no place in these fields, and node:sqlite reads text only
// up to a NUL: "a\u0000b" would be stored and read back as "a". Refuse them (and
// lone surrogates, which cannot be stored as UTF-8) with a clear message instead.
// deno-lint-ignore no-control-regex -- matching control characters is the point
const CONTROL_ONE_LINE = /[\u0000-\u001f\u007f]|\p{Cs}/u;
const CONTROL_MULTI_LINE =
  // deno-lint-ignore no-control-regex -- matching control characters is the point
  /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]|\p{Cs}/u;

/** The marks the search puts around hits (MATCH_START / MATCH_END in db/store.ts). */
const SEARCH_MARKS = /[\uE000\uE001]/;

/**
 * Bidirectional embedding, override and isolate controls. In a one-line field
 * such as a user id they reorder what follows them on screen ("Trojan Source"):
 * `abc\u202Egnp.exe` shows as abcexe.png. Multi-line text may quote RTL text
 * with marks, so only these formatting controls are refused, in one-line fields.
 */
const BIDI_CONTROLS = /[\u202a-\u202e\u2066-\u2069]/;

/** Why a text is refused for its characters, or null when it is fine. */
export function textProblem(value: string, multiline: boolean): string | null {
  const mark = SEARCH_MARKS.exec(value);
  if (mark) {
    // Typed marks would let a commenter choose what the search highlights.
    return `must not contain the private-use character U+${
      mark[0].codePointAt(0)!.toString(16).toUpperCase()
    }`;
  }
  const bidi = multiline ? null : BIDI_CONTROLS.exec(value);
  if (bidi) {
    return `must not contain bidirectional control characters (found U+${
      bidi[0].codePointAt(0)!.toString(16).toUpperCase()
    })`;
  }
  const bad = (multiline ? CONTROL_MULTI_LINE : CONTROL_ONE_LINE).exec(value);
  if (!bad) return null;
  const code = bad[0].codePointAt(0)!.toString(16).toUpperCase().padStart(
    4,
    "0",
  );
  return `must not contain control characters (found U+${code})`;
}

/** A zod refinement refusing control characters in a text field. */
export function plainText(multiline = false) {
  return (
    value: string | null | undefined,
    ctx: { addIssue: (i: { code: "custom"; message: string }) => void },
  ) => {
    if (typeof value !== "string") return;
    const problem = textProblem(value, multiline);
    if (problem) ctx.addIssue({ code: "custom", message: problem });
  };
}
