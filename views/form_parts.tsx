/** Pieces the settings and report pages share: field errors and tables that scroll on a phone. */
import type { Child } from "hono/jsx";

/** A field's message, beside it (tied to it by `invalid`). */
export function FieldError({ id, text }: { id: string; text?: string }) {
  return text ? <small id={id} class="field-error">{text}</small> : null;
}

/** The attributes that tie a field to its FieldError, when it has one. */
export function invalid(id: string, text?: string) {
  return text ? { "aria-invalid": "true", "aria-describedby": id } : {};
}

// A component, so the list can take the `key` lint asks for (see layout.tsx).
function ColumnHead({ text }: { text: string }) {
  return <th scope="col">{text}</th>;
}

/** A list (users, keys, endpoints, attempts): a table that scrolls sideways on a phone. */
export function ListTable(
  { heads, children }: { heads: string[]; children: Child },
) {
  return (
    <div class="overflow-auto">
      <table>
        <thead>
          <tr>
            {heads.map((h) => <ColumnHead key={h} text={h} />)}
          </tr>
        </thead>
        <tbody>{children}</tbody>
      </table>
    </div>
  );
}
