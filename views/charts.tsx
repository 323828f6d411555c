/**
 * Charts drawn on the server as inline SVG: no chart library, no script.
 * Each is a <figure> with a title, a sentence saying what it shows, the
 * drawing (an image to assistive technology, named by the title and the
 * sentence) and the same figures as a table. Colours come from app.css, so
 * the charts follow light and dark mode and print on white.
 */
import type { Child } from "hono/jsx";
import {
  DURATION_BUCKETS,
  type DurationStats,
  type ReportDay,
} from "../db/reports.ts";

const MONTHS = [
  "Jan",
  "Feb",
  "Mar",
  "Apr",
  "May",
  "Jun",
  "Jul",
  "Aug",
  "Sep",
  "Oct",
  "Nov",
  "Dec",
];

/** "3 Nov" for 2026-11-03. */
export function shortDate(date: string): string {
  return `${Number(date.slice(8, 10))} ${MONTHS[Number(date.slice(5, 7)) - 1]}`;
}

/** A duration in words a person reads at a glance: 45 s, 12 min, 3 h 20 min, 2 d 4 h. */
export function formatDuration(seconds: number | null): string {
  if (seconds === null) return "—";
  const s = Math.round(seconds);
  if (s < 60) return `${s} s`;
  const min = Math.floor(s / 60);
  if (min < 60) return `${min} min`;
  const h = Math.floor(min / 60);
  if (h < 24) return min % 60 ? `${h} h ${min % 60} min` : `${h} h`;
  const d = Math.floor(h / 24);
  return h % 24 ? `${d} d ${h % 24} h` : `${d} d`;
}

/**
 * An axis for counts up to `max`: whole-number ticks 1, 2 or 5 × 10ⁿ apart,
 * at most five of them above zero, the top one at or above `max`.
 */
export function axisTicks(max: number): number[] {
  const rough = Math.max(max, 1) / 5;
  const pow = 10 ** Math.floor(Math.log10(rough));
  const step = Math.max(
    1,
    [1, 2, 5, 10].map((s) => s * pow).find((s) => s >= rough) ?? 10 * pow,
  );
  const top = Math.max(step, Math.ceil(max / step) * step);
  return Array.from({ length: top / step + 1 }, (_, i) => i * step);
}

const num = (n: number) => n.toLocaleString("en-US");

/** A chart's frame: the summary as its caption, the SVG, a legend and the data table (the page gives the heading). */
function ChartFigure(
  { id, summary, legend, table, children }: {
    id: string;
    summary: string;
    legend?: Child;
    table: Child;
    children?: Child;
  },
) {
  return (
    <figure class="chart" id={id}>
      <figcaption class="chart-summary" id={`${id}-summary`}>
        {summary}
      </figcaption>
      {children}
      {legend}
      <details class="chart-data">
        <summary>Table of these figures</summary>
        {table}
      </details>
    </figure>
  );
}

function Swatch({ kind, children }: { kind: string; children: string }) {
  return (
    <li>
      <span class={`swatch swatch-${kind}`} aria-hidden="true"></span>
      {children}
    </li>
  );
}

/** What the daily chart says in one sentence. */
export function dailySummary(days: ReportDay[]): string {
  if (days.length === 0) return "No days.";
  const created = days.reduce((n, d) => n + d.created, 0);
  const closed = days.reduce((n, d) => n + d.closed, 0);
  const peak = days.reduce((a, d) => d.backlog > a.backlog ? d : a, days[0]!);
  return `${num(created)} created and ${num(closed)} closed from ${
    shortDate(days[0]!.date)
  } to ${shortDate(days.at(-1)!.date)}. The backlog went from ${
    num(days[0]!.backlog)
  } to ${num(days.at(-1)!.backlog)}, highest ${num(peak.backlog)} on ${
    shortDate(peak.date)
  }.`;
}

/**
 * Tickets created and closed per day as bars, the backlog (Open and Pending
 * at the end of the day) as a line over them, on its own scale (right).
 */
export function DailyChart({ id, days }: { id: string; days: ReportDay[] }) {
  const W = 720, H = 260;
  const left = 44, right = 52, top = 12, bottom = 30;
  const plotW = W - left - right, plotH = H - top - bottom;
  const n = Math.max(days.length, 1);
  const band = plotW / n;
  const bar = Math.max(band * 0.38, 0.8);
  const counts = axisTicks(
    Math.max(0, ...days.map((d) => Math.max(d.created, d.closed))),
  );
  const backlogs = axisTicks(Math.max(0, ...days.map((d) => d.backlog)));
  const yMax = counts.at(-1)!;
  const bMax = backlogs.at(-1)!;
  const y = (v: number) => top + plotH - (v / yMax) * plotH;
  const yb = (v: number) => top + plotH - (v / bMax) * plotH;
  const labelEvery = Math.ceil(n / 8);
  const line = days.map((d, i) =>
    `${(left + band * (i + 0.5)).toFixed(1)},${yb(d.backlog).toFixed(1)}`
  ).join(" ");
  const summary = dailySummary(days);
  return (
    <ChartFigure
      id={id}
      summary={summary}
      legend={
        <ul class="chart-legend">
          <Swatch kind="created">Created</Swatch>
          <Swatch kind="closed">Closed</Swatch>
          <Swatch kind="backlog">
            Backlog at the end of the day (right scale)
          </Swatch>
        </ul>
      }
      table={
        <table class="striped">
          <thead>
            <tr>
              <th scope="col">Day</th>
              <th scope="col">Created</th>
              <th scope="col">Closed</th>
              <th scope="col">Reopened</th>
              <th scope="col">Backlog</th>
            </tr>
          </thead>
          <tbody>
            {days.map((d) => (
              <tr data-date={d.date}>
                <th scope="row">{d.date}</th>
                <td data-col="created">{num(d.created)}</td>
                <td data-col="closed">{num(d.closed)}</td>
                <td data-col="reopened">{num(d.reopened)}</td>
                <td data-col="backlog">{num(d.backlog)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      }
    >
      <svg
        class="chart-svg"
        viewBox={`0 0 ${W} ${H}`}
        role="img"
        aria-labelledby={`${id}-svg-title ${id}-svg-desc`}
        preserveAspectRatio="xMidYMid meet"
      >
        <title id={`${id}-svg-title`}>
          Created and closed per day, with the backlog
        </title>
        <desc id={`${id}-svg-desc`}>{summary}</desc>
        {counts.map((t) => (
          <g class="chart-grid">
            <line x1={left} x2={W - right} y1={y(t)} y2={y(t)} />
            <text x={left - 6} y={y(t) + 4} text-anchor="end">{num(t)}</text>
          </g>
        ))}
        {backlogs.map((t) => (
          <text
            class="chart-axis axis-backlog"
            x={W - right + 6}
            y={yb(t) + 4}
            text-anchor="start"
          >
            {num(t)}
          </text>
        ))}
        {days.map((d, i) => {
          const x = left + band * i + (band - 2 * bar) / 2;
          return (
            <g data-date={d.date}>
              <title>
                {`${
                  shortDate(d.date)
                }: ${d.created} created, ${d.closed} closed, backlog ${d.backlog}`}
              </title>
              <rect
                class="bar-created"
                x={x.toFixed(1)}
                y={y(d.created).toFixed(1)}
                width={bar.toFixed(1)}
                height={(top + plotH - y(d.created)).toFixed(1)}
              />
              <rect
                class="bar-closed"
                x={(x + bar).toFixed(1)}
                y={y(d.closed).toFixed(1)}
                width={bar.toFixed(1)}
                height={(top + plotH - y(d.closed)).toFixed(1)}
              />
              {i % labelEvery === 0 && (
                <text
                  class="chart-axis"
                  x={(left + band * (i + 0.5)).toFixed(1)}
                  y={H - 10}
                  text-anchor="middle"
                >
                  {shortDate(d.date)}
                </text>
              )}
            </g>
          );
        })}
        <polyline class="line-backlog" points={line} />
      </svg>
    </ChartFigure>
  );
}

/** What a distribution says in one sentence. */
export function durationSummary(what: string, s: DurationStats): string {
  if (s.count === 0) return `No ${what} in these days.`;
  return `Median ${formatDuration(s.median)}, 90th percentile ${
    formatDuration(s.p90)
  }, over ${num(s.count)} ${what}.`;
}

/** How durations spread over DURATION_BUCKETS, as horizontal bars. */
export function DistributionChart(
  { id, title, what, stats }: {
    id: string;
    title: string;
    /** What is counted, plural: "first replies". */
    what: string;
    stats: DurationStats;
  },
) {
  const W = 360, row = 24, labelW = 110, countW = 48;
  const H = row * DURATION_BUCKETS.length + 4;
  const max = Math.max(1, ...stats.histogram);
  const summary = durationSummary(what, stats);
  return (
    <ChartFigure
      id={id}
      summary={summary}
      table={
        <table class="striped">
          <thead>
            <tr>
              <th scope="col">Time</th>
              <th scope="col">Tickets</th>
            </tr>
          </thead>
          <tbody>
            {DURATION_BUCKETS.map((b, i) => (
              <tr>
                <th scope="row">{b.label}</th>
                <td>{num(stats.histogram[i] ?? 0)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      }
    >
      <svg
        class="chart-svg chart-small"
        viewBox={`0 0 ${W} ${H}`}
        role="img"
        aria-labelledby={`${id}-svg-title ${id}-svg-desc`}
      >
        <title id={`${id}-svg-title`}>{title}</title>
        <desc id={`${id}-svg-desc`}>{summary}</desc>
        {DURATION_BUCKETS.map((b, i) => {
          const count = stats.histogram[i] ?? 0;
          const width = ((W - labelW - countW) * count) / max;
          const yy = i * row + 2;
          return (
            <g>
              <text
                class="chart-axis"
                x={labelW - 6}
                y={yy + 16}
                text-anchor="end"
              >
                {b.label}
              </text>
              <rect
                class="bar-duration"
                x={labelW}
                y={yy + 3}
                width={width.toFixed(1)}
                height={row - 6}
              />
              <text class="chart-axis" x={labelW + width + 4} y={yy + 16}>
                {num(count)}
              </text>
            </g>
          );
        })}
      </svg>
    </ChartFigure>
  );
}
