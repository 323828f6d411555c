/** Scenario results and the table they are reported in. */

export interface ScenarioResult {
  scenario: string;
  runs: number;
  result: "pass" | "FAIL" | "skipped";
  details: string;
  /** Every violated expectation, most informative first (capped). */
  failures: string[];
}

const MAX_FAILURES = 200;

/** Collects failures; a scenario with none passes. */
export class Findings {
  readonly failures: string[] = [];
  /** Findings worth reporting that lose nothing (they do not fail the scenario). */
  readonly notes: string[] = [];
  #dropped = 0;

  /** Records a finding that is not a failure. */
  note(message: string): void {
    if (!this.notes.includes(message)) this.notes.push(message);
  }

  /** Records one violated expectation. */
  fail(message: string): void {
    if (this.failures.length < MAX_FAILURES) this.failures.push(message);
    else this.#dropped++;
  }

  /** Records a failure unless `ok`. */
  check(ok: boolean, message: string): void {
    if (!ok) this.fail(message);
  }

  /** Builds the result row. */
  result(scenario: string, runs: number, details: string): ScenarioResult {
    const failures = this.#dropped
      ? [...this.failures, `... and ${this.#dropped} more`]
      : [...this.failures];
    return {
      scenario,
      runs,
      result: failures.length ? "FAIL" : "pass",
      details: this.notes.length
        ? `${details}; NOTE: ${this.notes.join("; ")}`
        : details,
      failures,
    };
  }
}

/** A result for a scenario that cannot run here, with the reason. */
export function skipped(scenario: string, why: string): ScenarioResult {
  return { scenario, runs: 0, result: "skipped", details: why, failures: [] };
}

/** A result for a scenario that threw: the harness itself or the server broke. */
export function crashed(scenario: string, err: unknown): ScenarioResult {
  const message = err instanceof Error ? err.message : String(err);
  return {
    scenario,
    runs: 0,
    result: "FAIL",
    details: `scenario aborted: ${message}`,
    failures: [`scenario aborted: ${message}`],
  };
}

/** Renders the results as a plain-text table (details wrap at 90 characters). */
export function formatTable(results: readonly ScenarioResult[]): string {
  const head = ["scenario", "runs", "result", "details"];
  const rows = results.map((
    r,
  ) => [r.scenario, String(r.runs), r.result, r.details]);
  const w = [0, 1, 2].map((i) =>
    Math.max(head[i]!.length, ...rows.map((r) => r[i]!.length))
  );
  const line = (cells: string[]) =>
    cells.slice(0, 3).map((c, i) => c.padEnd(w[i]!)).join(" | ");
  const indent = " ".repeat(w[0]! + w[1]! + w[2]! + 9);
  const out = [
    `${line(head)} | details`,
    w.map((n) => "-".repeat(n)).join("-+-") + "-+-" + "-".repeat(40),
  ];
  for (const r of rows) {
    const wrapped = wrap(r[3]!, 90);
    out.push(`${line(r)} | ${wrapped[0] ?? ""}`);
    for (const more of wrapped.slice(1)) out.push(`${indent}${more}`);
  }
  return out.join("\n");
}

function wrap(text: string, width: number): string[] {
  const out: string[] = [];
  let cur = "";
  for (const word of text.split(" ")) {
    if (cur && cur.length + word.length + 1 > width) {
      out.push(cur);
      cur = word;
    } else cur = cur ? `${cur} ${word}` : word;
  }
  if (cur) out.push(cur);
  return out;
}
