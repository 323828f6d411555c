import assert from "node:assert/strict";
import { browserTest, startServer } from "./harness.ts";

browserTest(
  "the start page loads in Chromium with its stylesheets and no console errors",
  async (browser) => {
    const server = await startServer();
    try {
      const page = await browser.newPage();
      const errors: string[] = [];
      page.on("console", (m) => m.type() === "error" && errors.push(m.text()));
      page.on("pageerror", (e) => errors.push(e.message));
      const failed: string[] = [];
      page.on("response", (r) => r.status() >= 400 && failed.push(r.url()));
      const res = await page.goto(server.url + "/");
      assert.equal(res?.status(), 200);
      assert.ok(await page.locator("h1").first().isVisible());
      const sheets = await page.evaluate<number>("document.styleSheets.length");
      assert.ok(sheets >= 2, `expected Pico and app.css, got ${sheets} sheets`);
      assert.deepEqual(failed, []);
      assert.deepEqual(errors, []);
    } finally {
      await server.stop();
    }
  },
);
