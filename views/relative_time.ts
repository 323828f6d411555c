/**
 * Relative times ("3 minutes ago"). The server writes them into the page, and
 * the page carries this table (Layout puts it on <body>) for static/app.js to
 * keep them fresh: one table, one set of words.
 */

/**
 * The locale, the units largest first with their length in seconds, and what
 * is said under a minute; `age` is the compact form of how long a ticket has
 * waited ("3 h").
 */
export const RELATIVE_TIME: {
  locale: string;
  units: [Intl.RelativeTimeFormatUnit, number][];
  justNow: string;
  age: { units: [string, number][]; under: string };
} = {
  locale: "en",
  units: [
    ["year", 365 * 86400],
    ["month", 30 * 86400],
    ["week", 7 * 86400],
    ["day", 86400],
    ["hour", 3600],
    ["minute", 60],
  ],
  justNow: "just now",
  age: {
    units: [["d", 86400], ["h", 3600], ["min", 60]],
    under: "<1 min",
  },
};

const FORMAT = new Intl.RelativeTimeFormat(RELATIVE_TIME.locale, {
  numeric: "auto",
});

/** "3 minutes ago" for an ISO time seen from `now`. */
export function relativeTime(iso: string, now: Date): string {
  const seconds = (Date.parse(iso) - now.getTime()) / 1000;
  for (const [unit, size] of RELATIVE_TIME.units) {
    if (Math.abs(seconds) >= size) {
      return FORMAT.format(Math.round(seconds / size), unit);
    }
  }
  return RELATIVE_TIME.justNow;
}

/** How long from `fromIso` to `now`, compactly: "3 h", "12 d", "<1 min". */
export function ageText(fromIso: string, now: Date): string {
  const seconds = (now.getTime() - Date.parse(fromIso)) / 1000;
  for (const [unit, size] of RELATIVE_TIME.age.units) {
    if (seconds >= size) return `${Math.floor(seconds / size)} ${unit}`;
  }
  return RELATIVE_TIME.age.under;
}
