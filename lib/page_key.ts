/** Where a sorted list continues: written into URLs and API cursors, read back checked. */
import { type PageKey, PRIORITIES, type Sort } from "../db/store.ts";

/** The key as text: `1234` (newest and oldest), `3.1234` (priority, then id). */
export function writePageKey(key: PageKey, sort: Sort): string {
  return sort === "priority"
    ? `${PRIORITIES.indexOf(key.priority ?? "Normal")}.${key.id}`
    : String(key.id);
}

/** Reads a key written by writePageKey for `sort`; undefined when it is not one. */
export function readPageKey(
  text: string | undefined,
  sort: Sort,
): PageKey | undefined {
  if (text === undefined) return undefined;
  const m = sort === "priority"
    ? /^([0-3])\.([1-9][0-9]{0,15})$/.exec(text)
    : /^()([1-9][0-9]{0,15})$/.exec(text);
  if (!m) return undefined;
  return sort === "priority"
    ? { id: Number(m[2]), priority: PRIORITIES[Number(m[1])] }
    : { id: Number(m[2]) };
}
