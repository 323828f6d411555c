/** The chart helpers: readable durations, whole-number axes, one-sentence summaries. */
import assert from "node:assert/strict";
import {
  axisTicks,
  dailySummary,
  durationSummary,
  formatDuration,
} from "../../views/charts.tsx";
import { durationStats, percentile, percentiles } from "../../db/reports.ts";

Deno.test("formatDuration reads at a glance", () => {
  assert.equal(formatDuration(null), "—");
  assert.equal(formatDuration(42), "42 s");
  assert.equal(formatDuration(12 * 60 + 59), "12 min");
  assert.equal(formatDuration(3 * 3600), "3 h");
  assert.equal(formatDuration(3 * 3600 + 20 * 60), "3 h 20 min");
  assert.equal(formatDuration(2 * 86400 + 4 * 3600 + 59), "2 d 4 h");
});

Deno.test("axisTicks gives whole-number ticks 1, 2 or 5 × 10ⁿ apart, the top at or above the maximum", () => {
  assert.deepEqual(axisTicks(0), [0, 1]);
  assert.deepEqual(axisTicks(3), [0, 1, 2, 3]);
  assert.deepEqual(axisTicks(5), [0, 1, 2, 3, 4, 5]);
  assert.deepEqual(axisTicks(27), [0, 10, 20, 30]);
  assert.deepEqual(axisTicks(86_867), [
    0,
    20_000,
    40_000,
    60_000,
    80_000,
    100_000,
  ]);
});

Deno.test("percentiles are nearest-rank, and the histogram puts a bound's own value in the next bucket", () => {
  assert.equal(percentile([], 50), null);
  assert.equal(percentile([10], 90), 10);
  assert.equal(percentile([1, 2, 3, 4], 50), 2);
  assert.equal(percentile([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 90), 9);
  const s = durationStats([900, 899, 60, 8 * 86400]);
  assert.deepEqual(s.histogram, [2, 1, 0, 0, 0, 0, 1]);
  assert.equal(s.median, 899);
  assert.equal(
    durationSummary("first replies", s),
    "Median 14 min, 90th percentile 8 d, over 4 first replies.",
  );
  assert.equal(
    durationSummary("first replies", durationStats([])),
    "No first replies in these days.",
  );
});

Deno.test("The daily chart's sentence says the totals and the backlog's way", () => {
  assert.equal(
    dailySummary([
      { date: "2026-11-01", created: 3, closed: 1, reopened: 0, backlog: 10 },
      { date: "2026-11-02", created: 1, closed: 4, reopened: 1, backlog: 8 },
    ]),
    "4 created and 5 closed from 1 Nov to 2 Nov. The backlog went from 10 to 8, highest 10 on 1 Nov.",
  );
});

Deno.test("percentiles by selection equal those of a sorted copy, duplicates and all", () => {
  let seed = 42;
  const rnd = () => (seed = (seed * 16807) % 2147483647) / 2147483647;
  for (let round = 0; round < 200; round++) {
    const n = 1 + Math.floor(rnd() * 60);
    const values = Array.from({ length: n }, () => Math.floor(rnd() * 12));
    const sorted = [...values].sort((a, b) => a - b);
    assert.deepEqual(
      percentiles(values, [50, 90, 1, 100]),
      [50, 90, 1, 100].map((p) => percentile(sorted, p)),
      JSON.stringify(values),
    );
  }
});
