/**
 * axe-core in the page under test, for the browser tests' accessibility
 * checks. The page's context must bypass the CSP (axe is injected inline).
 */
import axeSource from "npm:axe-core@4.14.1/axe.min.js" with { type: "text" };
import type { Page } from "./playwright.ts";

export interface Violation {
  id: string;
  impact: string | null;
  help: string;
  nodes: { target: string; summary: string }[];
}

/** What axe-core finds on the page as it is now (axe is injected once per document). */
export async function axe(page: Page): Promise<Violation[]> {
  if (!(await page.evaluate<boolean>("typeof window.axe === 'object'"))) {
    await page.addScriptTag({ content: axeSource });
  }
  return await page.evaluate<Violation[]>(`
    axe.run(document, { resultTypes: ["violations"] }).then((r) =>
      r.violations.map((v) => ({
        id: v.id,
        impact: v.impact,
        help: v.help,
        nodes: v.nodes.map((n) => ({
          target: n.target.join(" "),
          summary: (n.failureSummary ?? "").replace(/\\s+/g, " "),
        })),
      }))
    )`);
}

/** The serious and critical violations, a line each: what, and where. */
export async function seriousViolations(page: Page): Promise<string[]> {
  return (await axe(page))
    .filter((v) => v.impact === "serious" || v.impact === "critical")
    .map((v) =>
      `${v.id}: ${v.help} — ${v.nodes.map((n) => n.target).join(", ")}`
    );
}
