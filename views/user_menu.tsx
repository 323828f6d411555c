/** The header's signed-in user: name, settings for admins, and log out. */
import type { User } from "../db/store.ts";

/** Shows who is logged in, with a log-out button that works without JavaScript. */
export function UserMenu({ user }: { user: Pick<User, "username" | "role"> }) {
  return (
    <details class="dropdown user-menu">
      <summary aria-label={`Account: ${user.username}`}>
        {user.username}
      </summary>
      <ul dir="rtl">
        {user.role === "admin" && (
          <li>
            <a href="/settings">Settings</a>
          </li>
        )}
        <li>
          <form method="post" action="/logout" class="logout-form">
            <button type="submit" class="secondary outline">Log out</button>
          </form>
        </li>
      </ul>
    </details>
  );
}
