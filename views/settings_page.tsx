/** Settings for admins: dashboard accounts and the mobile app's API keys. */
import type { ApiKey, ApiScope, User } from "../db/store.ts";
import { Layout } from "./layout.tsx";
import { UserMenu } from "./user_menu.tsx";
import { SettingsNav } from "./webhook_settings_page.tsx";

export interface SettingsProps {
  styles: string[];
  me: Pick<User, "username" | "role">;
  users: User[];
  keys: ApiKey[];
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

function FieldError({ id, text }: { id: string; text?: string }) {
  return text ? <small id={id} class="field-error">{text}</small> : null;
}

function UsersSection(p: SettingsProps) {
  const e = p.userErrors ?? {};
  return (
    <section aria-labelledby="users-title">
      <h2 id="users-title">Users</h2>
      <div class="overflow-auto">
        <table>
          <thead>
            <tr>
              <th scope="col">Name</th>
              <th scope="col">Role</th>
              <th scope="col">Status</th>
              <th scope="col">Created</th>
              <th scope="col">Actions</th>
            </tr>
          </thead>
          <tbody>
            {p.users.map((u) => (
              <tr key={u.id}>
                <th scope="row">{u.username}</th>
                <td>{u.role}</td>
                <td>{u.disabled ? "Disabled" : "Active"}</td>
                <td>{when(u.created_at)}</td>
                <td class="actions">
                  {u.username !== p.me.username && (
                    <form
                      method="post"
                      action={`/settings/users/${
                        encodeURIComponent(u.username)
                      }/${u.disabled ? "enable" : "disable"}`}
                    >
                      <button type="submit" class="secondary outline">
                        {u.disabled ? "Enable" : "Disable"}
                        <span class="visually-hidden">{` ${u.username}`}</span>
                      </button>
                    </form>
                  )}
                  <form
                    method="post"
                    action={`/settings/users/${
                      encodeURIComponent(u.username)
                    }/password`}
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
                        minlength={10}
                        required
                      />
                    </label>
                    <button type="submit" class="secondary">
                      Reset password
                    </button>
                  </form>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      <form
        method="post"
        action="/settings/users"
        aria-labelledby="add-user-title"
      >
        <h3 id="add-user-title">Add a user</h3>
        <div class="form-row">
          <label>
            Username
            <input
              name="username"
              required
              maxlength={64}
              value={p.userDraft?.username ?? ""}
              autocomplete="off"
              aria-invalid={e.username ? "true" : undefined}
              aria-describedby={e.username ? "user-username-error" : undefined}
            />
            <FieldError id="user-username-error" text={e.username} />
          </label>
          <label>
            Role
            <select
              name="role"
              aria-invalid={e.role ? "true" : undefined}
              aria-describedby={e.role ? "user-role-error" : undefined}
            >
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
              minlength={10}
              autocomplete="new-password"
              aria-invalid={e.password ? "true" : undefined}
              aria-describedby={e.password ? "user-password-error" : undefined}
            />
            <FieldError id="user-password-error" text={e.password} />
          </label>
        </div>
        <button type="submit">Add user</button>
      </form>
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
      <div class="overflow-auto">
        <table>
          <thead>
            <tr>
              <th scope="col">Name</th>
              <th scope="col">Key starts</th>
              <th scope="col">Scopes</th>
              <th scope="col">Created</th>
              <th scope="col">Last used</th>
              <th scope="col">Status</th>
            </tr>
          </thead>
          <tbody>
            {p.keys.length === 0 && (
              <tr>
                <td colspan={6}>
                  No API keys yet: create one below for the mobile app.
                </td>
              </tr>
            )}
            {p.keys.map((k) => (
              <tr key={k.id}>
                <th scope="row">{k.name}</th>
                <td>
                  <code>{k.prefix}…</code>
                </td>
                <td>{k.scopes.join(", ")}</td>
                <td>{when(k.created_at)}</td>
                <td>{when(k.last_used_at)}</td>
                <td>
                  {k.revoked_at
                    ? <span>Revoked {when(k.revoked_at)}</span>
                    : (
                      <form
                        method="post"
                        action={`/settings/keys/${
                          encodeURIComponent(k.name)
                        }/revoke`}
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
            ))}
          </tbody>
        </table>
      </div>
      <form
        method="post"
        action="/settings/keys"
        aria-labelledby="add-key-title"
      >
        <h3 id="add-key-title">Create a key</h3>
        <div class="form-row">
          <label>
            Name
            <input
              name="name"
              required
              maxlength={64}
              placeholder="ios-app"
              autocomplete="off"
              value={p.keyDraft?.name ?? ""}
              aria-invalid={e.name ? "true" : undefined}
              aria-describedby={e.name ? "key-name-error" : undefined}
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
        <button type="submit">Create key</button>
      </form>
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
