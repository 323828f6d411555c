import { chromium } from "playwright-core";
import { startServer } from "./tests/e2e/harness.ts";
import { hashPassword } from "./lib/passwords.ts";
const server = await startServer();
await server.store.createUser({
  username: "maria",
  passwordHash: await hashPassword("correct horse battery"),
  role: "admin",
});
for (let i = 0; i < 3; i++) {
  await server.store.createTicket({
    user_id: "a" + i,
    pdf_link: "https://e.com/a.pdf",
    product_id: null,
    other_ids: null,
  }, { actor: "x" });
}
const browser = await chromium.launch({
  executablePath: "/usr/bin/chromium",
  args: ["--headless", "--no-sandbox"],
});
const page = await (await browser.newContext()).newPage();
page.on("console", (m) => console.log("console:", m.type(), m.text()));
page.on("pageerror", (e) => console.log("pageerror:", e.message));
await page.goto(server.url + "/login");
await page.fill("input[name=username]", "maria");
await page.fill("input[name=password]", "correct horse battery");
await Promise.all([
  page.waitForURL("**/dashboard"),
  page.click("button[type=submit]"),
]);
await page.waitForSelector("#live-status[data-state=live]", {
  state: "attached",
});
await page.click("#ticket-3-set-closed");
await new Promise((r) => setTimeout(r, 1500));
console.log(await page.evaluate(`document.getElementById('undo').outerHTML`));
console.log(
  await page.evaluate(
    `document.getElementById('ticket-3').outerHTML.slice(0,300)`,
  ),
);
await browser.close();
await server.stop();
Deno.exit(0);
