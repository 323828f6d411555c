/** Where a sorted list continues: written into URLs and API cursors, read back checked. */
import { type PageKey, PRIORITIES, type Sort } from "../db/store.ts";

/**
 * The key as text: `1234` (newest and oldest), `3.1234` (priority, then id),
 * `1732870000000.1234` (last activity in milliseconds, then id).
 */
export function writePageKey(key: PageKey, sort: Sort): string {
  if (sort === "priority") {
    return `${PRIORITIES.indexOf(key.priority ?? "Normal")}.${key.id}`;
  }
  if (sort === "activity") {
    return `${Date.parse(key.updated_at ?? "") || 0}.${key.id}`;
  }
  return String(key.id);
}

const ID = "([1-9][0-9]{0,15})";

/** Reads a key written by writePageKey for `sort`; undefined when it is not one. */
export function readPageKey(
  text: string | undefined,
  sort: Sort,
): PageKey | undefined {
  if (text === undefined) return undefined;
  if (sort === "priority") {
    const m = new RegExp(`^([0-3])\\.${ID}$`).exec(text);
    return m
      ? { id: Number(m[2]), priority: PRIORITIES[Number(m[1])] }
      : undefined;
  }
  if (sort === "activity") {
    const m = new RegExp(`^([0-9]{1,15})\\.${ID}$`).exec(text);
    const at = m ? new Date(Number(m[1])) : null;
    return m && at && !isNaN(at.getTime())
      ? { id: Number(m[2]), updated_at: at.toISOString() }
      : undefined;
  }
  const m = new RegExp(`^${ID}$`).exec(text);
  return m ? { id: Number(m[1]) } : undefined;
}
