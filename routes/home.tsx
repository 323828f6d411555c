/** GET /: the start page. */
import { Hono } from "hono";
import { HomePage } from "../views/home.tsx";
import { ASSETS } from "./assets.ts";

/** Builds the start-page sub-app. */
export function home() {
  const app = new Hono();
  app.get("/", (c) =>
    c.html(
      HomePage({
        styles: [ASSETS.pico.url, ASSETS.appCss.url],
        origin: new URL(c.req.url).origin,
      }),
    ));
  return app;
}
