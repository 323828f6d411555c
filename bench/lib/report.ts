/** The benchmark's rows, its Markdown table and its results file. */

/** "met"/"missed" against a target; "—" when the figure has no target. */
export type Verdict = "met" | "missed" | "—" | "not yet measured";

/** One line of the table: a figure beside the baseline measured in the same run. */
export interface Row {
  scenario: string;
  metric: string;
  value: string;
  baseline: string;
  ratio: string;
  target: string;
  result: Verdict;
}

/** What a scenario hands back: its table rows and its raw figures for the JSON file. */
export interface ScenarioOutcome {
  rows: Row[];
  data: Record<string, unknown>;
  notes?: string[];
}

/** "met" when ok, else "missed". */
export function verdict(ok: boolean): Verdict {
  return ok ? "met" : "missed";
}

/** Formats a number with thousands separators. */
export function num(n: number, digits = 0): string {
  return n.toLocaleString("en-US", {
    minimumFractionDigits: digits,
    maximumFractionDigits: digits,
  });
}

/** The p-th percentile (nearest rank) of ascending values; NaN when empty. */
export function percentile(sorted: ArrayLike<number>, p: number): number {
  if (sorted.length === 0) return NaN;
  const i = Math.min(
    sorted.length - 1,
    Math.max(0, Math.ceil((p / 100) * sorted.length) - 1),
  );
  return sorted[i]!;
}

/** Formats a ratio as "0.42×". */
export function times(r: number): string {
  return `${r.toFixed(2)}×`;
}

function cell(s: string): string {
  return s.replaceAll("|", "\\|").replaceAll("\n", " ");
}

/** Renders the rows as a GitHub Markdown table. */
export function markdownTable(rows: Row[]): string {
  const head = [
    "Scenario",
    "Metric",
    "ticket desk",
    "Baseline",
    "Ratio",
    "Target",
    "Result",
  ];
  const lines = [
    `| ${head.join(" | ")} |`,
    `|${head.map((_, i) => i >= 2 && i <= 4 ? "---:" : "---").join("|")}|`,
  ];
  for (const r of rows) {
    const cells = [
      r.scenario,
      r.metric,
      r.value,
      r.baseline,
      r.ratio,
      r.target,
      r.result === "missed" ? "**missed**" : r.result,
    ];
    lines.push(`| ${cells.map(cell).join(" | ")} |`);
  }
  return lines.join("\n");
}

/** Today's date as YYYY-MM-DD (UTC), the results file's name. */
export function today(): string {
  return new Date().toISOString().slice(0, 10);
}
