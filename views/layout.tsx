/** The page shell shared by every HTML page. */
import type { Child } from "hono/jsx";
import { RELATIVE_TIME } from "./relative_time.ts";

export interface LayoutProps {
  title: string;
  /** Stylesheet URLs, content-hashed by the asset route. */
  styles: string[];
  /** Script URLs, loaded with `defer` in this order (htmx before what uses it). */
  scripts?: string[];
  /** Which nav entry is the current page. */
  current?: "dashboard" | "reports";
  /** Use the whole width of wide screens (the board), not a reading column. */
  wide?: boolean;
  /** Header slot: the live-connection indicator. */
  connection?: Child;
  /** Header slot: the signed-in user and sign-out. */
  user?: Child;
  children?: Child;
}

const KEYS: [string, string][] = [
  ["j / k", "Next / previous ticket"],
  ["Enter", "Open the focused ticket"],
  ["o / p / c", "Set the focused ticket Open / Pending / Closed"],
  ["t", "Take the focused ticket (you become its owner)"],
  ["a", "Assign the focused ticket to someone"],
  ["1 / 2 / 3 / 4", "Priority Low / Normal / High / Urgent"],
  ["x", "Select the focused ticket for a bulk change"],
  ["/", "Search"],
  [".", "Show new tickets that are waiting"],
  ["u", "Undo the last change (for 8 seconds)"],
  ["v", "Switch between cards and a list"],
  ["Esc", "In search: leave the field; again: clear it"],
  [
    "j / k",
    "On a ticket page: the next / previous ticket of the list you came from",
  ],
  [
    "Shift+O / P / C",
    "On a ticket page: set Open / Pending / Closed, then go to the next ticket",
  ],
  [
    "Ctrl+Enter",
    "In the comment box: add it as an internal note (⌘+Enter on a Mac; Reply to requester stays a button)",
  ],
  ["Esc", "In the description editor: cancel the edit"],
  ["?", "This help"],
  ["Esc", "Close this help"],
];

/** The keyboard shortcuts dialog, opened by static/app.js. */
function KeyboardHelp() {
  return (
    <dialog id="keys-help" aria-labelledby="keys-help-title">
      <article>
        <header>
          <h2 id="keys-help-title">Keyboard shortcuts</h2>
        </header>
        <table>
          <tbody>
            {KEYS.map(([key, what]) => (
              <tr>
                <th scope="row">
                  <kbd>{key}</kbd>
                </th>
                <td>{what}</td>
              </tr>
            ))}
          </tbody>
        </table>
        <p>Shortcuts are off while you type in a field.</p>
        <footer>
          <form method="dialog">
            <button type="submit" autofocus>Close</button>
          </form>
        </footer>
      </article>
    </dialog>
  );
}

/** The relative-time table, for static/app.js to keep the server's "3 minutes ago" fresh. */
const RELATIVE_TIME_JSON = JSON.stringify(RELATIVE_TIME);

// Small components so list items can take the `key` lint asks for: on an HTML
// element, Hono's precompiled JSX would print `key` as an attribute.
function Stylesheet({ href }: { href: string }) {
  return <link rel="stylesheet" href={href} />;
}

function Script({ src }: { src: string }) {
  return <script src={src} defer></script>;
}

/** Wraps a page's main content in the document shell. */
export function Layout(
  { title, styles, scripts = [], current, wide, connection, user, children }:
    LayoutProps,
) {
  const container = wide ? "container wide" : "container";
  return (
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <meta name="color-scheme" content="light dark" />
        <title>{title}</title>
        <link rel="icon" href="/favicon.ico" type="image/svg+xml" />
        {styles.map((href) => <Stylesheet key={href} href={href} />)}
        {scripts.map((src) => <Script key={src} src={src} />)}
      </head>
      <body data-relative-time={RELATIVE_TIME_JSON}>
        <a class="skip-link" href="#main">Skip to content</a>
        <header class={`${container} site-header`}>
          <nav aria-label="Main">
            <ul>
              <li>
                <a
                  href="/dashboard"
                  class="brand"
                  aria-current={current === "dashboard" ? "page" : undefined}
                >
                  <strong>Ticket desk</strong>
                </a>
              </li>
              {user && (
                <li>
                  <a
                    href="/reports"
                    aria-current={current === "reports" ? "page" : undefined}
                  >
                    Reports
                  </a>
                </li>
              )}
            </ul>
            <ul>
              {connection && <li>{connection}</li>}
              {user && <li>{user}</li>}
              {scripts.length > 0 && (
                <li>
                  <button
                    type="button"
                    class="outline secondary keys-button"
                    data-open-help
                    aria-haspopup="dialog"
                    aria-keyshortcuts="?"
                    hidden
                  >
                    Keys <kbd>?</kbd>
                  </button>
                </li>
              )}
            </ul>
          </nav>
        </header>
        <main class={container} id="main" tabindex={-1}>{children}</main>
        {/* Outcomes of background actions (errors of an htmx request) are announced here. */}
        <div
          id="flash"
          class="container flash"
          role="status"
          aria-live="polite"
        >
        </div>
        {scripts.length > 0 && <KeyboardHelp />}
      </body>
    </html>
  );
}
