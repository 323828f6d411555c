import { chromium } from "playwright-core";
import { startServer } from "./tests/e2e/harness.ts";
import { hashPassword } from "./lib/passwords.ts";

const server = await startServer();
const s = server.store;
for (const u of ["maria", "li", "sam"]) {
  await s.createUser({ username: u, passwordHash: await hashPassword("correct horse battery"), role: u === "maria" ? "admin" : "agent" });
}
const samples = [
  ["john_doe", "ROUTER-AX3", "The router drops the wifi every evening after the firmware update.", "Urgent"],
  ["maria.k", "CAM-2K", "Night mode stays black; the lens looks clean.", "High"],
  ["li_wei12", "LOCK-PRO", "The keypad beeps but the app cannot pair over bluetooth.", "Normal"],
  ["amara_o", "THERMO-S", "Schedule resets to defaults after a power cut.", "Normal"],
  ["k.tanaka", "ROUTER-AX3", "Password reset link expired before it arrived.", "Low"],
  ["sofia_r", "CAM-2K", "Refund requested: the replacement arrived damaged.", "High"],
  ["d.mueller", "LOCK-PRO", "Battery drains in two days since the last update.", "Normal"],
  ["p.singh", "THERMO-S", "Screen frozen on the welcome page.", "Normal"],
] as const;
const ids: number[] = [];
for (const [user, product, desc, priority] of samples) {
  const { ticket } = await s.createTicket({ user_id: user, pdf_link: "https://example.com/guide.pdf", product_id: product, other_ids: null, priority }, { actor: "api:mobile" });
  await s.updateTicket(ticket.id, { description: desc }, { actor: "api:mobile" });
  ids.push(ticket.id);
}
await s.updateTicket(ids[0]!, { assignee: "maria" }, { actor: "maria" });
await s.updateTicket(ids[1]!, { assignee: "li", status: "Pending" }, { actor: "li" });
await s.updateTicket(ids[3]!, { assignee: "sam" }, { actor: "sam" });
await s.updateTicket(ids[6]!, { status: "Closed", assignee: "maria" }, { actor: "maria" });
await s.addComment(ids[2]!, "Asked for the app version.", { actor: "li" });
const browser = await chromium.launch({ executablePath: "/usr/bin/chromium", args: ["--headless", "--no-sandbox"] });
const ctx = await browser.newContext({ viewport: { width: 1280, height: 800 } });
const page = await ctx.newPage();
await page.goto(server.url + "/login");
await page.fill("input[name=username]", "maria");
await page.fill("input[name=password]", "correct horse battery");
await Promise.all([page.waitForURL("**/dashboard"), page.click("button[type=submit]")]);
await page.waitForSelector("#live-status[data-state=live]", { state: "attached" });
const other = await (await browser.newContext()).newPage();
await other.goto(server.url + "/login");
await other.fill("input[name=username]", "li");
await other.fill("input[name=password]", "correct horse battery");
await Promise.all([other.waitForURL("**/dashboard"), other.click("button[type=submit]")]);
await other.goto(server.url + `/tickets/${ids[2]}`);
await page.waitForSelector(".presence-marker");
await page.check(`#ticket-${ids[4]} [data-select]`);
await page.check(`#ticket-${ids[7]} [data-select]`);
await page.evaluate("window.scrollTo(0, 0)");
await page.screenshot({ path: "docs/dashboard-desktop.png" });
await browser.close();
await server.stop();
Deno.exit(0);
