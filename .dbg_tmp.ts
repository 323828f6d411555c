import { chromium } from "playwright-core";
import { startServer } from "./tests/e2e/harness.ts";
import { hashPassword } from "./lib/passwords.ts";
const server = await startServer();
await server.store.createUser({
  username: "maria",
  passwordHash: await hashPassword("correct horse battery"),
  role: "admin",
});
const browser = await chromium.launch({
  executablePath: "/usr/bin/chromium",
  args: ["--headless", "--no-sandbox"],
});
const page =
  await (await browser.newContext({ viewport: { width: 390, height: 844 } }))
    .newPage();
await page.goto(server.url + "/login");
await page.fill("input[name=username]", "maria");
await page.fill("input[name=password]", "correct horse battery");
await Promise.all([
  page.waitForURL("**/dashboard"),
  page.click("button[type=submit]"),
]);
for (const url of ["/settings", "/settings/webhooks", "/dashboard"]) {
  await page.goto(server.url + url);
  console.log(
    url,
    await page.evaluate(
      `(scrollTo(200, 0), [scrollX, document.documentElement.scrollWidth, document.body.scrollWidth])`,
    ),
    await page.evaluate(
      `[...document.querySelectorAll('body *')].filter(e => e.getBoundingClientRect().right > innerWidth + 1 && !e.closest('.overflow-auto, .status-tabs ul')).slice(0, 8).map(e => e.tagName + '.' + e.className + '#' + e.id + ' ' + Math.round(e.getBoundingClientRect().right)).join(' | ')`,
    ),
  );
}
await browser.close();
await server.stop();
Deno.exit(0);
