/** A report's days as the URL gives them, and days in a time zone. */
import assert from "node:assert/strict";
import { readRange } from "../../lib/report_range.ts";
import {
  dayBounds,
  isTimeZone,
  localDate,
  startOfDay,
} from "../../lib/report_days.ts";

const NOW = new Date("2026-11-29T23:30:00Z");
const read = (q: Record<string, string>, zone = "UTC") =>
  readRange((n) => q[n], { zone, now: NOW });

Deno.test("readRange: the last 30 days by default, 7 or 90 when asked, ending today in the zone", () => {
  assert.deepEqual(read({}), {
    range: { from: "2026-10-31", to: "2026-11-29", range: 30 },
  });
  assert.deepEqual(read({ range: "7" }), {
    range: { from: "2026-11-23", to: "2026-11-29", range: 7 },
  });
  // 23:30 UTC is already the 30th in Paris.
  assert.deepEqual(read({ range: "90" }, "Europe/Paris"), {
    range: { from: "2026-09-02", to: "2026-11-30", range: 90 },
  });
});

Deno.test("readRange: from and to win over range; from alone runs to today", () => {
  assert.deepEqual(read({ range: "7", from: "2026-01-01", to: "2026-01-31" }), {
    range: { from: "2026-01-01", to: "2026-01-31" },
  });
  assert.deepEqual(read({ from: "2026-11-20" }), {
    range: { from: "2026-11-20", to: "2026-11-29" },
  });
  assert.deepEqual(read({ from: "2025-11-29", to: "2026-11-29" }), {
    range: { from: "2025-11-29", to: "2026-11-29" },
  }, "366 days, both ends included");
});

Deno.test("readRange refuses bad input field by field", () => {
  const errors = (q: Record<string, string>) => {
    const r = read(q);
    assert.ok("errors" in r, JSON.stringify(q));
    return r.errors.map((e) => `${e.field}: ${e.detail}`);
  };
  assert.deepEqual(errors({ range: "31" }), ["range: must be 7, 30 or 90"]);
  assert.deepEqual(errors({ range: "seven" }), ["range: must be 7, 30 or 90"]);
  assert.deepEqual(errors({ from: "2026-13-01", to: "2026-02-30" }), [
    "from: must be a date written YYYY-MM-DD, like 2026-11-01",
    "to: must be a date written YYYY-MM-DD, like 2026-11-01",
  ]);
  assert.deepEqual(errors({ to: "2026-01-01" }), ["from: is needed with to"]);
  assert.deepEqual(errors({ from: "1969-12-31", to: "1970-01-02" }), [
    "from: must be 1970-01-01 or later",
  ]);
  assert.deepEqual(errors({ from: "2026-02-02", to: "2026-02-01" }), [
    "to: must not be before from (2026-02-02)",
  ]);
  assert.deepEqual(errors({ from: "2025-11-28", to: "2026-11-29" }), [
    "to: must be at most 366 days from from (367 days asked)",
  ]);
});

Deno.test("Days in a zone: local dates, midnights, and a day that starts at 01:00", () => {
  assert.equal(
    localDate(Date.parse("2026-11-29T23:30:00Z"), "Asia/Kolkata"),
    "2026-11-30",
  );
  assert.equal(
    startOfDay("2026-11-30", "Asia/Kolkata"),
    Date.parse("2026-11-29T18:30:00Z") / 1000,
  );
  assert.equal(
    startOfDay("2026-07-01", "America/Los_Angeles"),
    Date.parse("2026-07-01T07:00:00Z") / 1000,
  );
  // Havana moved its clocks from midnight to 01:00 on 8 March 2026: that day starts at 01:00.
  assert.equal(
    localDate(
      startOfDay("2026-03-08", "America/Havana") * 1000 - 1000,
      "America/Havana",
    ),
    "2026-03-07",
  );
  assert.equal(
    localDate(
      startOfDay("2026-03-08", "America/Havana") * 1000,
      "America/Havana",
    ),
    "2026-03-08",
  );
  const { dates, bounds } = dayBounds(
    "2026-10-24",
    "2026-10-26",
    "Europe/Paris",
  );
  assert.deepEqual(dates, ["2026-10-24", "2026-10-25", "2026-10-26"]);
  assert.deepEqual(bounds.slice(1).map((b, i) => (b - bounds[i]!) / 3600), [
    24,
    25,
    24,
  ]);
  assert.equal(isTimeZone("Europe/Paris"), true);
  assert.equal(isTimeZone("Europe/Atlantis"), false);
});
