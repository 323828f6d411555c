/**
 * The dashboard's status views: "unsolved" (Open and Pending, the default),
 * one status, or "all". The one place that says which statuses a view shows.
 */
import { type Status, STATUSES } from "../db/store.ts";

export const STATUS_VIEWS = ["unsolved", ...STATUSES, "all"] as const;
export type StatusView = typeof STATUS_VIEWS[number];

/** What a dashboard shows when its URL names no status view. */
export const DEFAULT_VIEW: StatusView = "unsolved";

/** The statuses that still need someone: what "unsolved" shows. */
export const UNSOLVED: readonly Status[] = ["Open", "Pending"];

/** The view a URL names (`?status=`), the default for anything else. */
export function readStatusView(value: string | undefined): StatusView {
  return STATUS_VIEWS.find((v) => v === value) ?? DEFAULT_VIEW;
}

/** A view as a store filter: one status, several, or none (all). */
export function statusFilterOf(
  view: StatusView | undefined,
): { status?: Status; statuses?: Status[] } {
  if (view === undefined || view === "all") return {};
  if (view === "unsolved") return { statuses: [...UNSOLVED] };
  return { status: view };
}

/** Whether a ticket with `status` belongs in the view (no view: every status). */
export function inStatusView(
  status: Status,
  view: StatusView | undefined,
): boolean {
  if (view === undefined || view === "all") return true;
  if (view === "unsolved") return UNSOLVED.includes(status);
  return status === view;
}

/** The tab label of a view. */
export function statusViewLabel(view: StatusView): string {
  return view === "unsolved" ? "Unsolved" : view === "all" ? "All" : view;
}
