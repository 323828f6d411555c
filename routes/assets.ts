/**
 * Static assets served from the npm packages and static/, under content-hashed
 * URLs so browsers may cache them forever (a new version is a new URL).
 */
import { Hono } from "hono";
import { createHash } from "node:crypto";
import { gzipSync } from "node:zlib";
import pico from "@picocss/pico/css/pico.min.css" with { type: "text" };
import htmx from "htmx.org/dist/htmx.min.js" with { type: "text" };
import appCss from "../static/app.css" with { type: "text" };
import appJs from "../static/app.js" with { type: "text" };
import liveJs from "../static/live.js" with { type: "text" };
import liveHub from "../static/live_hub.js" with { type: "text" };
import ticketPageJs from "../static/ticket_page.js" with { type: "text" };
import favicon from "../static/favicon.svg" with { type: "text" };

interface Asset {
  url: string;
  body: string;
  /** Compressed once at start-up rather than on every request. */
  gzip: Uint8Array<ArrayBuffer>;
  type: string;
}

function asset(name: string, ext: string, body: string, type: string): Asset {
  // The packages' source maps are not served: drop the comment pointing at them.
  body = body.replace(/\n\/\/# sourceMappingURL=\S+\s*$/, "\n");
  const hash = createHash("sha256").update(body).digest("hex").slice(0, 12);
  return {
    url: `/static/${name}.${hash}.${ext}`,
    body,
    gzip: new Uint8Array(gzipSync(body, { level: 9 })),
    type,
  };
}

const CSS = "text/css; charset=utf-8";
const JS = "text/javascript; charset=utf-8";

const noSourceMap = (js: string) =>
  js.replace(/\n\/\/# sourceMappingURL=\S+\s*$/, "\n");

/**
 * The page's scripts as ONE file, in order: htmx, the live hub (run in the
 * page only where SharedWorker is missing), app.js, live.js and
 * ticket_page.js. As separate
 * deferred files, htmx (which starts itself on a timer once the document is
 * interactive) could start before the others had arrived. Concatenating is
 * not a build step: it happens here, at start-up, from the npm package and
 * static/.
 */
const pageJs = [htmx, liveHub, appJs, liveJs, ticketPageJs].map(noSourceMap)
  .join(";\n");

/** Every asset by its role; views link to `.url`. */
export const ASSETS = {
  pico: asset("pico", "css", pico, CSS),
  appCss: asset("app", "css", appCss, CSS),
  pageJs: asset("desk", "js", pageJs, JS),
  /** The browser's shared live connection, run as a SharedWorker. */
  liveHub: asset("live_hub", "js", liveHub, JS),
  favicon: asset("favicon", "svg", favicon, "image/svg+xml"),
} as const;

/** Serves the assets with immutable caching. */
export function assets() {
  const app = new Hono();
  const byUrl = new Map(Object.values(ASSETS).map((a) => [a.url, a]));
  app.get("/static/:file", (c) => {
    const a = byUrl.get(c.req.path);
    if (!a) return c.notFound();
    const headers = {
      "Content-Type": a.type,
      "Cache-Control": "public, max-age=31536000, immutable",
      "Vary": "Accept-Encoding",
    };
    if (/\bgzip\b/i.test(c.req.header("accept-encoding") ?? "")) {
      return c.body(a.gzip, 200, { ...headers, "Content-Encoding": "gzip" });
    }
    return c.body(a.body, 200, headers);
  });
  // Browsers ask for /favicon.ico whatever the page links: answer rather than log a 404.
  app.get("/favicon.ico", (c) =>
    c.body(ASSETS.favicon.body, 200, {
      "Content-Type": ASSETS.favicon.type,
      "Cache-Control": "public, max-age=86400",
    }));
  return app;
}

/** Every page's stylesheets: Pico, then ours. */
export const PAGE_STYLES = [ASSETS.pico.url, ASSETS.appCss.url];

/** Stylesheets and the script (htmx, the live hub's fallback, app.js, live.js, ticket_page.js in one file) of the desk's pages. */
export const PAGE_ASSETS = {
  styles: PAGE_STYLES,
  scripts: [ASSETS.pageJs.url],
};
