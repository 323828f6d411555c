/**
 * Static assets served from the npm packages and static/, under content-hashed
 * URLs so browsers may cache them forever (a new version is a new URL).
 */
import { Hono } from "hono";
import { createHash } from "node:crypto";
import pico from "@picocss/pico/css/pico.min.css" with { type: "text" };
import appCss from "../static/app.css" with { type: "text" };
import favicon from "../static/favicon.svg" with { type: "text" };

interface Asset {
  url: string;
  body: string;
  type: string;
}

function asset(name: string, ext: string, body: string, type: string): Asset {
  const hash = createHash("sha256").update(body).digest("hex").slice(0, 12);
  return { url: `/static/${name}.${hash}.${ext}`, body, type };
}

const CSS = "text/css; charset=utf-8";

/** Every asset by its role; views link to `.url`. */
export const ASSETS = {
  pico: asset("pico", "css", pico, CSS),
  appCss: asset("app", "css", appCss, CSS),
  favicon: asset("favicon", "svg", favicon, "image/svg+xml"),
} as const;

/** Serves the assets with immutable caching. */
export function assets() {
  const app = new Hono();
  const byUrl = new Map(Object.values(ASSETS).map((a) => [a.url, a]));
  app.get("/static/:file", (c) => {
    const a = byUrl.get(c.req.path);
    if (!a) return c.notFound();
    return c.body(a.body, 200, {
      "Content-Type": a.type,
      "Cache-Control": "public, max-age=31536000, immutable",
    });
  });
  // Browsers ask for /favicon.ico whatever the page links: answer rather than log a 404.
  app.get("/favicon.ico", (c) =>
    c.body(ASSETS.favicon.body, 200, {
      "Content-Type": ASSETS.favicon.type,
      "Cache-Control": "public, max-age=86400",
    }));
  return app;
}
