/**
 * Reads the forms and links out of the app's own HTML, as a browser would submit
 * and follow them: enough of HTML for pages we render ourselves (quoted
 * attributes, no nested forms), not a general parser.
 */

/** One name=value pair a form or link sends. */
export interface Field {
  name: string;
  value: string;
  /** Where it came from: "hidden", "button", "select", "text", "query"... */
  kind: string;
  /** Sent in the URL's query or in the form body. */
  at: "query" | "body";
}

/** Something on a page that makes a request: a form (plain or htmx) or a link. */
export interface Target {
  /** The page it was found on. */
  page: string;
  method: "GET" | "POST";
  /** The path alone: the query is in `fields`. */
  path: string;
  fields: Field[];
  /** Sent as htmx sends it (HX-Request: true), from an hx-get/hx-post attribute. */
  htmx: boolean;
  /** The same form or link on any page, whatever ticket id it names. */
  shape: string;
  /** How the target was found, for the report: `form`, `link`, `sse`. */
  via: string;
}

const ENTITIES: Record<string, string> = {
  amp: "&",
  lt: "<",
  gt: ">",
  quot: '"',
  apos: "'",
  "#39": "'",
  "#x27": "'",
};

function decode(s: string): string {
  return s.replace(/&(#x[0-9a-f]+|#[0-9]+|[a-z]+);/gi, (m, e: string) => {
    const named = ENTITIES[e.toLowerCase()];
    if (named) return named;
    if (e[0] !== "#") return m;
    const code = e[1] === "x" || e[1] === "X"
      ? parseInt(e.slice(2), 16)
      : parseInt(e.slice(1), 10);
    return Number.isFinite(code) ? String.fromCodePoint(code) : m;
  });
}

/** The attributes of one start tag's inside (`<input type="hidden" ...>` → map). */
export function attributes(inside: string): Map<string, string> {
  const out = new Map<string, string>();
  const re = /([^\s=/>"']+)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>"']+)))?/g;
  for (const m of inside.matchAll(re)) {
    const name = m[1]!.toLowerCase();
    if (!out.has(name)) out.set(name, decode(m[2] ?? m[3] ?? m[4] ?? ""));
  }
  return out;
}

const generic = (path: string) => path.replace(/\/\d+(?=\/|$)/g, "/N");

/** The same request from the same kind of page, whatever ticket it names. */
export function shapeOf(
  method: string,
  path: string,
  names: string[],
  opts: { htmx: boolean; page: string },
): string {
  const from = generic(new URL(opts.page, "http://desk.invalid").pathname);
  return `${method} ${generic(path)}${opts.htmx ? " htmx" : ""} (${
    [...new Set(names)].sort().join(",")
  }) on ${from}`;
}

/** The fields a form submits when its first submit button is pressed. */
function formFields(body: string, at: Field["at"]): Field[] {
  const fields: Field[] = [];
  let button: Field | null = null;
  const tags =
    /<(input|button|select|textarea)\b([^>]*)>(?:([\s\S]*?)<\/\1>)?/gi;
  for (const m of body.matchAll(tags)) {
    const tag = m[1]!.toLowerCase();
    const a = attributes(m[2]!);
    const name = a.get("name");
    if (!name || a.has("disabled")) continue;
    if (tag === "input") {
      const type = (a.get("type") ?? "text").toLowerCase();
      if (type === "submit" || type === "image") {
        button ??= { name, value: a.get("value") ?? "", kind: "button", at };
      } else if (type === "checkbox" || type === "radio") {
        if (a.has("checked")) {
          fields.push({ name, value: a.get("value") ?? "on", kind: type, at });
        }
      } else if (type !== "file") {
        fields.push({ name, value: a.get("value") ?? "", kind: type, at });
      }
    } else if (tag === "button") {
      if ((a.get("type") ?? "submit").toLowerCase() === "submit") {
        button ??= { name, value: a.get("value") ?? "", kind: "button", at };
      }
    } else if (tag === "textarea") {
      fields.push({ name, value: decode(m[3] ?? ""), kind: "textarea", at });
    } else {
      const options = [...(m[3] ?? "").matchAll(/<option\b([^>]*)>/gi)]
        .map((o) => attributes(o[1]!));
      const chosen = options.find((o) => o.has("selected")) ?? options[0];
      fields.push({
        name,
        value: chosen?.get("value") ?? "",
        kind: "select",
        at,
      });
    }
  }
  if (button) fields.push(button);
  return fields;
}

function queryFields(search: string): Field[] {
  return [...new URLSearchParams(search)].map(([name, value]) => ({
    name,
    value,
    kind: "query",
    at: "query",
  }));
}

/** A same-origin path (not `//host`), as the app's pages link to. */
function localUrl(href: string, page: string): URL | null {
  if (!href.startsWith("/") || href.startsWith("//")) return null;
  const url = URL.parse(href, new URL(page, "http://desk.invalid"));
  return url?.origin === "http://desk.invalid" ? url : null;
}

/** Every form on the page, plain and (where it has hx-get/hx-post) as htmx sends it. */
export function parseForms(html: string, page: string): Target[] {
  const out: Target[] = [];
  for (const m of html.matchAll(/<form\b([^>]*)>([\s\S]*?)<\/form>/gi)) {
    const a = attributes(m[1]!);
    const method = (a.get("method") ?? "get").toUpperCase();
    if (method === "DIALOG") continue;
    const variants: [string, string | undefined, boolean][] = [
      [method, a.get("action") ?? page, false],
      ["GET", a.get("hx-get"), true],
      ["POST", a.get("hx-post"), true],
    ];
    for (const [verb, action, htmx] of variants) {
      if (action === undefined) continue;
      const url = localUrl(action, page);
      if (!url || (verb !== "GET" && verb !== "POST")) continue;
      // A GET form's action query is replaced by its fields, as browsers do.
      const all = verb === "GET"
        ? formFields(m[2]!, "query")
        : [...queryFields(url.search), ...formFields(m[2]!, "body")];
      out.push({
        page,
        method: verb,
        path: url.pathname,
        fields: all,
        htmx,
        shape: shapeOf(verb, url.pathname, all.map((f) => f.name), {
          htmx,
          page,
        }),
        via: "form",
      });
    }
  }
  return out;
}

/** Every same-origin link, hx-get and live-stream URL on the page that carries a query. */
export function parseLinks(html: string, page: string): Target[] {
  const out: Target[] = [];
  for (const m of html.matchAll(/<[a-z][a-z0-9-]*\b([^>]*)>/gi)) {
    const a = attributes(m[1]!);
    const found: [string | undefined, boolean, string][] = [
      [a.get("href"), false, "link"],
      [a.get("hx-get"), true, "link"],
      [a.get("hx-sse:connect"), false, "sse"],
    ];
    for (const [href, htmx, via] of found) {
      if (href === undefined || !href.includes("?")) continue;
      const url = localUrl(href, page);
      if (!url || url.pathname.startsWith("/static/")) continue;
      const fields = queryFields(url.search);
      out.push({
        page,
        method: "GET",
        path: url.pathname,
        fields,
        htmx,
        shape: shapeOf("GET", url.pathname, fields.map((f) => f.name), {
          htmx,
          page,
        }),
        via,
      });
    }
  }
  return out;
}
