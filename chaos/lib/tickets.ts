/** Ticket bodies with the fields the server should store, and the rules a stored ticket obeys. */
import type { Rng } from "./rng.ts";

/** The stored form of a create body (after the API's trimming and joining). */
export interface StoredFields {
  user_id: string;
  pdf_link: string;
  product_id: string | null;
  other_ids: string | null;
}

export interface TicketCase {
  body: Record<string, unknown>;
  expected: StoredFields;
}

/**
 * A valid create body whose user_id is `marker` (unique per key, so tickets can be
 * counted per key), with the optional fields in every accepted shape.
 */
export function ticketBody(rng: Rng, marker: string): TicketCase {
  const pdf = `https://example.com/docs/${encodeURIComponent(marker)}.pdf`;
  const body: Record<string, unknown> = { user_id: marker, pdf_link: pdf };
  const expected: StoredFields = {
    user_id: marker,
    pdf_link: pdf,
    product_id: null,
    other_ids: null,
  };
  switch (rng.int(0, 4)) {
    case 0:
      break;
    case 1:
      body.product_id = null;
      break;
    case 2:
      body.product_id = "";
      break;
    case 3:
      body.product_id = ` PROD-${rng.int(1, 999)} `;
      expected.product_id = String(body.product_id).trim();
      break;
    case 4: {
      const n = rng.int(1, 1_000_000);
      body.product_id = n;
      expected.product_id = String(n);
      break;
    }
  }
  switch (rng.int(0, 3)) {
    case 0:
      break;
    case 1:
      body.other_ids = "ORDER-1, DEVICE-2";
      expected.other_ids = "ORDER-1, DEVICE-2";
      break;
    case 2:
      body.other_ids = [" A-1 ", "", 42, "ünï-çødé"];
      expected.other_ids = "A-1, 42, ünï-çødé";
      break;
    case 3:
      body.other_ids = [];
      break;
  }
  return { body, expected };
}

/** Compares a stored row with what was sent; returns the differing fields. */
export function fieldDiff(
  row: Record<string, unknown>,
  expected: StoredFields,
): string[] {
  const out: string[] = [];
  for (const k of ["user_id", "pdf_link", "product_id", "other_ids"] as const) {
    const got = row[k] ?? null;
    if (got !== expected[k]) {
      out.push(
        `${k}: stored ${JSON.stringify(got)}, sent ${
          JSON.stringify(expected[k])
        }`,
      );
    }
  }
  return out;
}

const STATUSES = ["Open", "Pending", "Closed"];
const ISO = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;

/** The API's validation rules, restated independently: why a stored ticket breaks them. */
export function ticketRuleBreaks(row: Record<string, unknown>): string[] {
  const out: string[] = [];
  const text = (k: string) => typeof row[k] === "string" ? row[k] : null;
  const userId = text("user_id");
  if (userId === null || userId.trim() === "" || userId.length > 128) {
    out.push(`user_id ${JSON.stringify(row.user_id)}`);
  } else if (userId !== userId.trim()) out.push("user_id is not trimmed");
  const link = text("pdf_link");
  const url = link === null ? null : URL.parse(link);
  if (
    link === null || link.length > 2048 || !url ||
    !["http:", "https:"].includes(url.protocol) || !url.hostname ||
    url.username || url.password
  ) {
    out.push(`pdf_link ${JSON.stringify(row.pdf_link)?.slice(0, 80)}`);
  }
  for (const [k, max] of [["product_id", 128], ["other_ids", 1024]] as const) {
    const v = row[k];
    if (v === null || v === undefined) continue;
    if (typeof v !== "string" || v.trim() === "" || v.length > max) {
      out.push(`${k} ${JSON.stringify(v).slice(0, 80)}`);
    }
  }
  if (!STATUSES.includes(String(row.status))) out.push(`status ${row.status}`);
  const description = text("description");
  if (description === null || description.length > 10_000) {
    out.push("description");
  }
  if (!(Number(row.version) >= 1)) out.push(`version ${row.version}`);
  for (const k of ["created_at", "updated_at"]) {
    if (!ISO.test(String(row[k]))) out.push(`${k} ${row[k]}`);
  }
  return out;
}
