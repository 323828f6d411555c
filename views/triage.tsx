/**
 * Team triage on a card and a ticket page: who owns it (Take, Unassign, the
 * picker), its priority, the box that selects it for a bulk change, and the
 * owner tabs with their counts.
 */
import type { Child } from "hono/jsx";
import {
  type OwnerCounts,
  PRIORITIES,
  type Priority,
  STATUSES,
  type Ticket,
} from "../db/store.ts";
import { inStatusView, type StatusView } from "../lib/status_view.ts";

/**
 * One <option>. (A component, so lists of them can take the `key` the linter
 * asks for: on an HTML element, precompiled JSX would print it as an attribute.)
 */
export function Choice(
  { value, selected = false, children }: {
    value: string;
    selected?: boolean;
    children?: string;
  },
) {
  return <option value={value} selected={selected}>{children}</option>;
}

/** The priority as text with a quiet colour (never colour alone). */
export function PriorityBadge({ priority }: { priority: Priority }) {
  return (
    <span class={`priority priority-${priority.toLowerCase()}`}>
      <span class="visually-hidden">Priority</span> {priority}
    </span>
  );
}

/** Who owns a ticket; a disabled user's tickets say so until someone takes them. */
export function Owner(
  { assignee, disabled }: { assignee: string | null; disabled: boolean },
) {
  if (!assignee) return <span class="owner owner-none">Unassigned</span>;
  return (
    <span class="owner" data-owner={assignee}>
      {assignee}
      {disabled && <span class="owner-disabled">(disabled)</span>}
    </span>
  );
}

/**
 * A form that posts to `action` and, with htmx, swaps `target` for the
 * answer; without JavaScript the browser posts it and is sent back.
 */
export function SwapForm(
  { action, target, class: cls, label, children, trigger }: {
    action: string;
    target: string;
    class?: string;
    label?: string;
    /** What submits it with htmx, when not the submit event (a select's change). */
    trigger?: string;
    children?: Child;
  },
) {
  return (
    <form
      method="post"
      action={action}
      hx-post={action}
      hx-trigger={trigger}
      hx-target={target}
      hx-swap="outerHTML"
      class={cls}
      aria-label={label}
    >
      {children}
    </form>
  );
}

/** Which fragment an owner or priority POST answers with. */
export type TriageView = "card" | "page";

function Versioned(
  { ticket, seen, view }: {
    ticket: Pick<Ticket, "version">;
    seen: string;
    view: TriageView;
  },
) {
  return (
    <>
      <input type="hidden" name="version" value={String(ticket.version)} />
      <input type="hidden" name="seen" value={seen} />
      <input type="hidden" name="view" value={view} />
    </>
  );
}

/**
 * Take (the viewer becomes the owner) and Unassign. Both are on every card:
 * the card is the same for every viewer, and the page marks the viewer's own
 * cards `.mine` (CSS then shows the button that fits); without JavaScript
 * both stay, and both work.
 */
export function OwnerButtons(
  { ticket, view, target }: {
    ticket: Pick<Ticket, "id" | "version" | "assignee">;
    view: TriageView;
    /** The element the answer replaces. */
    target: string;
  },
) {
  const action = `/tickets/${ticket.id}/assignee`;
  const seen = ticket.assignee ?? "";
  return (
    <div class="owner-buttons">
      <SwapForm action={action} target={target} class="owner-take">
        <Versioned ticket={ticket} seen={seen} view={view} />
        <input type="hidden" name="assignee" value="@me" />
        <button
          type="submit"
          class="outline"
          data-key="t"
          aria-label={`Take ticket ${ticket.id}`}
        >
          Take
        </button>
      </SwapForm>
      {ticket.assignee && (
        <SwapForm action={action} target={target} class="owner-release">
          <Versioned ticket={ticket} seen={seen} view={view} />
          <input type="hidden" name="assignee" value="" />
          <button
            type="submit"
            class="outline secondary"
            aria-label={`Unassign ticket ${ticket.id}`}
          >
            Unassign
          </button>
        </SwapForm>
      )}
    </div>
  );
}

/** The picker: any active user, or nobody; works as a plain form. */
export function AssigneePicker(
  { ticket, users, view, target, idPrefix }: {
    ticket: Pick<Ticket, "id" | "version" | "assignee">;
    users: string[];
    view: TriageView;
    target: string;
    idPrefix: string;
  },
) {
  const action = `/tickets/${ticket.id}/assignee`;
  const id = `${idPrefix}-assignee`;
  return (
    <SwapForm action={action} target={target} class="assignee-picker">
      <Versioned ticket={ticket} seen={ticket.assignee ?? ""} view={view} />
      <label for={id}>Owner</label>
      <div role="group">
        <select id={id} name="assignee" data-picker>
          <option value="" selected={!ticket.assignee}>Unassigned</option>
          {users.map((u) => (
            <Choice key={u} value={u} selected={u === ticket.assignee}>
              {u}
            </Choice>
          ))}
        </select>
        <button type="submit" class="secondary">Assign</button>
      </div>
    </SwapForm>
  );
}

/** Four buttons, like the status ones (keys 1–4 press them). */
export function PriorityButtons(
  { ticket, view, target, idPrefix }: {
    ticket: Pick<Ticket, "id" | "version" | "priority">;
    view: TriageView;
    target: string;
    idPrefix: string;
  },
) {
  const action = `/tickets/${ticket.id}/priority`;
  return (
    <SwapForm
      action={action}
      target={target}
      class="priority-buttons"
      label={`Set the priority of ticket ${ticket.id}`}
    >
      <Versioned ticket={ticket} seen={ticket.priority} view={view} />
      <div role="group">
        {PRIORITIES.map((p, i) => (
          <button
            type="submit"
            name="priority"
            value={p}
            id={`${idPrefix}-priority-${p.toLowerCase()}`}
            aria-pressed={p === ticket.priority ? "true" : "false"}
            class={p === ticket.priority ? "" : "outline secondary"}
            data-key={String(i + 1)}
          >
            {p}
          </button>
        ))}
      </div>
    </SwapForm>
  );
}

/**
 * The box that selects a card for the bulk form (`form="bulk"`: it belongs to
 * the form at the top of the board, so it works without JavaScript), with
 * the version the change must be based on.
 */
export function SelectBox(
  { ticket }: { ticket: Pick<Ticket, "id" | "version"> },
) {
  return (
    <label class="select-box">
      <input
        type="checkbox"
        name="ids"
        value={String(ticket.id)}
        form="bulk"
        data-select
        data-key="x"
      />
      <span class="visually-hidden">Select ticket {ticket.id}</span>
      <input
        type="hidden"
        name={`v${ticket.id}`}
        value={String(ticket.version)}
        form="bulk"
      />
    </label>
  );
}

/** The counts of a board: status tabs inside its owner view, owner tabs inside its status view. */
export interface TabCounts {
  status: Record<StatusView, number>;
  owner: { all: number; none: number; mine: number };
  /** Per owner name ("" for nobody), inside the status view: the page script finds "Mine" in it. */
  byOwner: Record<string, number>;
  /** The counts stopped at a cap (a broad search): each is "at least". */
  capped?: boolean;
}

/**
 * Works the tab counts out of per-(status, owner) counters. `view` is the
 * board's status view and owner view (a name, null for Unassigned,
 * undefined for All).
 */
export function tabCounts(
  counts: OwnerCounts & { capped?: boolean },
  view: { status?: StatusView; assignee?: string | null },
  viewer: string,
): TabCounts {
  const status: Record<StatusView, number> = {
    unsolved: 0,
    Open: 0,
    Pending: 0,
    Closed: 0,
    all: 0,
  };
  const byOwner: Record<string, number> = {};
  for (const c of counts.byOwner) {
    if (view.assignee === undefined || c.assignee === view.assignee) {
      status[c.status] += c.n;
      status.all += c.n;
      if (inStatusView(c.status, "unsolved")) status.unsolved += c.n;
    }
    if (inStatusView(c.status, view.status)) {
      const k = c.assignee ?? "";
      byOwner[k] = (byOwner[k] ?? 0) + c.n;
    }
  }
  const all = Object.values(byOwner).reduce((a, b) => a + b, 0);
  return {
    status,
    owner: { all, none: byOwner[""] ?? 0, mine: byOwner[viewer] ?? 0 },
    byOwner,
    capped: counts.capped,
  };
}

/** The owner tabs' labels and their `assignee` values. */
export const OWNER_TABS: [string, string | undefined][] = [
  ["All", undefined],
  ["Mine", "@me"],
  ["Unassigned", "@none"],
];

/** The key of a count element of the owner tabs. */
export const ownerCountId = (label: string) =>
  `owner-count-${label.toLowerCase()}`;

export { STATUSES };
