/** Settings for admins: dashboard accounts and the mobile app's API keys. */
import type { Child } from "hono/jsx";
import type { ApiKey, ApiScope, User } from "../db/store.ts";
import { NAME_MAX, PASSWORD_MIN } from "../lib/fields.ts";
import { FieldError, invalid, ListTable } from "./form_parts.tsx";
import { Layout } from "./layout.tsx";
import { UserMenu } from "./user_menu.tsx";
import { SettingsNav } from "./webhook_settings_page.tsx";

export interface SettingsProps {
  styles: string[];
  me: Pick<User, "username" | "role">;
  users: User[];
  keys: ApiKey[];
  /** Open and Pending tickets per owner (a disabled user's can be handed back at once). */
  openTickets?: Record<string, number>;
  /** A one-line outcome of the last action, announced politely. */
  notice?: string;
  /** Field errors of the add-user form, by field. */
  userErrors?: Record<string, string>;
  userDraft?: { username: string; role: string };
  /** Field errors of the create-key form. */
  keyErrors?: Record<string, string>;
  /** What the create-key form held when it was refused. */
  keyDraft?: { name: string; scopes: ApiScope[] };
  /** A key just created: shown once, here, and never again. */
  newKey?: { name: string; key: string; scopes: ApiScope[] };
}

/** The scopes offered for a new key, in order, with what each allows. */
const SCOPE_CHOICES: [ApiScope, string][] = [
  ["create", "create tickets (all an app needs)"],
  ["read", "list and read tickets"],
  ["write", "change and comment on tickets (includes read)"],
];

function when(iso: string | null) {
  if (!iso) return "never";
  return <time datetime={iso}>{iso.slice(0, 16).replace("T", " ")} UTC</time>;
}

/** A form that adds a user or creates a key: a titled group of fields and its button. */
function AddForm(
  { action, id, title, button, children }: {
    action: string;
    id: string;
    title: string;
    button: string;
    children: Child;
  },
) {
  return (
    <form method="post" action={action} aria-labelledby={id}>
      <h3 id={id}>{title}</h3>
      {children}
      <button type="submit">{button}</button>
    </form>
  );
}

/** One account: disable or enable it (not yourself), and reset its password. */
function UserRow(
  { user: u, me, open }: { user: User; me: string; open: number },
) {
  return (
    <tr>
      <th scope="row">{u.username}</th>
      <td>{u.role}</td>
      <td>{u.disabled ? "Disabled" : "Active"}</td>
      <td>{when(u.created_at)}</td>
      <td class="actions">
        {open > 0 && (
          <form
            method="post"
            action={`/settings/users/${encodeURIComponent(u.username)}/release`}
          >
            <button type="submit" class="secondary outline">
              {`Unassign all of ${u.username}'s open tickets (${open})`}
            </button>
          </form>
        )}
        {u.username !== me && (
          <form
            method="post"
            action={`/settings/users/${encodeURIComponent(u.username)}/${
              u.disabled ? "enable" : "disable"
            }`}
          >
            <button type="submit" class="secondary outline">
              {u.disabled ? "Enable" : "Disable"}
              <span class="visually-hidden">{` ${u.username}`}</span>
            </button>
          </form>
        )}
        <form
          method="post"
          action={`/settings/users/${encodeURIComponent(u.username)}/password`}
          class="inline-form"
        >
          <label>
            <span class="visually-hidden">
              {`New password for ${u.username}`}
            </span>
            <input
              type="password"
              name="password"
              placeholder="New password"
              autocomplete="new-password"
              minlength={PASSWORD_MIN}
              required
            />
          </label>
          <button type="submit" class="secondary">
            Reset password
          </button>
        </form>
      </td>
    </tr>
  );
}

/** One key: its prefix, scopes and use, and a revoke button while it is live. */
function KeyRow({ apiKey: k }: { apiKey: ApiKey }) {
  return (
    <tr>
      <th scope="row">{k.name}</th>
      <td>
        <code>{k.prefix}…</code>
      </td>
      <td>{k.scopes.join(", ")}</td>
      <td>{when(k.created_at)}</td>
      <td>{when(k.last_used_at)}</td>
      <td>
        {k.revoked_at ? <span>Revoked {when(k.revoked_at)}</span> : (
          <form
            method="post"
            action={`/settings/keys/${encodeURIComponent(k.name)}/revoke`}
          >
            <button type="submit" class="secondary outline">
              Revoke<span class="visually-hidden">
                {` ${k.name}`}
              </span>
            </button>
          </form>
        )}
      </td>
    </tr>
  );
}

function UsersSection(p: SettingsProps) {
  const e = p.userErrors ?? {};
  return (
    <section aria-labelledby="users-title">
      <h2 id="users-title">Users</h2>
      <ListTable heads={["Name", "Role", "Status", "Created", "Actions"]}>
        {p.users.map((u) => (
          <UserRow
            key={u.id}
            user={u}
            me={p.me.username}
            open={p.openTickets?.[u.username] ?? 0}
          />
        ))}
      </ListTable>
      <AddForm
        action="/settings/users"
        id="add-user-title"
        title="Add a user"
        button="Add user"
      >
        <div class="form-row">
          <label>
            Username
            <input
              name="username"
              required
              maxlength={NAME_MAX}
              value={p.userDraft?.username ?? ""}
              autocomplete="off"
              {...invalid("user-username-error", e.username)}
            />
            <FieldError id="user-username-error" text={e.username} />
          </label>
          <label>
            Role
            <select name="role" {...invalid("user-role-error", e.role)}>
              <option value="agent" selected={p.userDraft?.role !== "admin"}>
                Agent (triages tickets)
              </option>
              <option value="admin" selected={p.userDraft?.role === "admin"}>
                Admin (also manages users and keys)
              </option>
            </select>
            <FieldError id="user-role-error" text={e.role} />
          </label>
          <label>
            Password
            <input
              type="password"
              name="password"
              required
              minlength={PASSWORD_MIN}
              autocomplete="new-password"
              {...invalid("user-password-error", e.password)}
            />
            <FieldError id="user-password-error" text={e.password} />
          </label>
        </div>
      </AddForm>
    </section>
  );
}

function KeysSection(p: SettingsProps) {
  const e = p.keyErrors ?? {};
  // A key for an app should only create tickets: that is the default choice.
  const picked = p.keyDraft?.scopes ?? ["create"];
  return (
    <section aria-labelledby="keys-title">
      <h2 id="keys-title">API keys</h2>
      <p>
        The mobile app sends a key as{" "}
        <code>Authorization: Bearer &lt;key&gt;</code>. Keys are stored hashed:
        a key is shown once, when it is created.
      </p>
      {p.newKey && (
        <article class="new-key" aria-labelledby="new-key-title">
          <h3 id="new-key-title">New key "{p.newKey.name}"</h3>
          <p>
            {`Scopes: ${
              p.newKey.scopes.join(", ")
            }. Copy it now; it will not be shown again.`}
          </p>
          <input
            type="text"
            readonly
            value={p.newKey.key}
            aria-label={`API key ${p.newKey.name}`}
            class="key-value"
          />
        </article>
      )}
      <ListTable
        heads={[
          "Name",
          "Key starts",
          "Scopes",
          "Created",
          "Last used",
          "Status",
        ]}
      >
        {p.keys.length === 0 && (
          <tr>
            <td colspan={6}>
              No API keys yet: create one below for the mobile app.
            </td>
          </tr>
        )}
        {p.keys.map((k) => <KeyRow key={k.id} apiKey={k} />)}
      </ListTable>
      <AddForm
        action="/settings/keys"
        id="add-key-title"
        title="Create a key"
        button="Create key"
      >
        <div class="form-row">
          <label>
            Name
            <input
              name="name"
              required
              maxlength={NAME_MAX}
              placeholder="ios-app"
              autocomplete="off"
              value={p.keyDraft?.name ?? ""}
              {...invalid("key-name-error", e.name)}
            />
            <FieldError id="key-name-error" text={e.name} />
          </label>
        </div>
        <fieldset aria-describedby={e.scopes ? "key-scopes-error" : undefined}>
          <legend>Scopes</legend>
          {SCOPE_CHOICES.map(([scope, text]) => (
            <label>
              <input
                type="checkbox"
                name="scopes"
                value={scope}
                checked={picked.includes(scope)}
              />
              <code>{scope}</code>: {text}
            </label>
          ))}
          <FieldError id="key-scopes-error" text={e.scopes} />
        </fieldset>
      </AddForm>
    </section>
  );
}

/** The settings page. */
export function SettingsPage(p: SettingsProps) {
  return (
    "<!doctype html>" +
    (
      <Layout
        title="Settings · Ticket desk"
        styles={p.styles}
        user={<UserMenu user={p.me} />}
      >
        <h1>Settings</h1>
        <SettingsNav current="accounts" />
        <p role="status" aria-live="polite" class="notice">{p.notice ?? ""}</p>
        <UsersSection {...p} />
        <KeysSection {...p} />
      </Layout>
    )
  );
}
