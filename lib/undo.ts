/** Undo's data: the change a quick change made, written into forms and URLs and read back checked. */
import { PRIORITIES, STATUSES } from "../db/store.ts";

/** The fields a quick change sets, and so the ones Undo restores. */
export const UNDOABLE = ["status", "priority", "assignee"] as const;
export type UndoField = typeof UNDOABLE[number];

/** One change as made: `version` is the ticket's version right after it ("" is nobody for an owner). */
export interface UndoChange {
  id: number;
  field: UndoField;
  version: number;
  from: string;
  to: string;
}

/** A change as one form value or URL parameter: `132:status:7:Open:Closed`. */
export function encodeChange(c: UndoChange): string {
  return `${c.id}:${c.field}:${c.version}:${c.from}:${c.to}`;
}

const CHANGE =
  /^([1-9][0-9]{0,15}):(status|priority|assignee):([1-9][0-9]{0,15}):([\w.@-]{0,64}):([\w.@-]{0,64})$/;

/** Values a field can be put back to ("" for an owner is nobody). */
function restorable(field: UndoField, value: string): boolean {
  if (field === "status") return STATUSES.some((s) => s === value);
  if (field === "priority") return PRIORITIES.some((p) => p === value);
  return true;
}

/** Reads a change written by encodeChange; undefined when it is not one. */
export function decodeChange(text: unknown): UndoChange | undefined {
  const m = typeof text === "string" ? CHANGE.exec(text) : null;
  if (!m) return undefined;
  const change = {
    id: Number(m[1]),
    field: m[2] as UndoField,
    version: Number(m[3]),
    from: m[4]!,
    to: m[5]!,
  };
  return restorable(change.field, change.from) ? change : undefined;
}
