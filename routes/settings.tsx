/** Settings for admins: add, disable and reset users; create and revoke API keys. */
import { Hono } from "hono";
import type { Context } from "hono";
import {
  type AccountStore,
  API_SCOPES,
  type ApiScope,
  DuplicateNameError,
  type Role,
  ROLES,
  type TicketStore,
} from "../db/store.ts";
import { hashPassword, passwordProblem } from "../lib/passwords.ts";
import { newApiKey } from "../lib/tokens.ts";
import { SettingsPage, type SettingsProps } from "../views/settings_page.tsx";
import { PAGE_STYLES } from "./assets.ts";
import { actorOf, type AppEnv } from "./context.ts";
import { requireAdmin } from "./auth.tsx";
import { NAME, NAME_RULE } from "../lib/fields.ts";

/** Outcomes shown after a redirect; a code in the URL, never user text. */
const NOTICES: Record<string, string> = {
  "user-added": "User added.",
  "user-disabled": "User disabled; their sessions were ended.",
  "user-enabled": "User enabled.",
  "password-reset": "Password reset; their sessions were ended.",
  "key-revoked": "API key revoked: requests with it are refused from now on.",
  "tickets-released":
    "Their open tickets are unassigned: they are back in the Unassigned view.",
};

/** Reads the create-key form: the name and the checked scopes, with field errors. */
function readKeyForm(form: Record<string, string | File | (string | File)[]>) {
  const name = String(form.name ?? "").trim();
  const picked = [form.scopes ?? []].flat().map(String);
  const scopes: ApiScope[] = API_SCOPES.filter((s) => picked.includes(s));
  const errors: Record<string, string> = {};
  if (!NAME.test(name)) errors.name = `Name: ${NAME_RULE}.`;
  if (scopes.length === 0 || new Set(picked).size !== scopes.length) {
    errors.scopes = "Scopes: pick one or more of create, read and write.";
  }
  return { draft: { name, scopes }, errors };
}

/** Builds the settings sub-app (admins only). */
export function settings(
  { store }: { store: AccountStore & TicketStore },
) {
  const app = new Hono<AppEnv>();
  app.use("/settings", requireAdmin);
  app.use("/settings/*", requireAdmin);

  const render = async (
    c: Context<AppEnv>,
    extra: Partial<SettingsProps> = {},
    status: 200 | 409 | 422 = 200,
  ) => {
    const [users, keys, counts] = await Promise.all([
      store.listUsers(),
      store.listApiKeys(),
      store.countByOwner(),
    ]);
    const openTickets: Record<string, number> = {};
    for (const n of counts.byOwner) {
      if (n.assignee && n.status !== "Closed") {
        openTickets[n.assignee] = (openTickets[n.assignee] ?? 0) + n.n;
      }
    }
    c.header("Cache-Control", "no-store");
    return c.html(
      SettingsPage({
        styles: PAGE_STYLES,
        me: c.get("user")!,
        users,
        keys,
        openTickets,
        ...extra,
      }),
      status,
    );
  };

  app.get(
    "/settings",
    (c) => render(c, { notice: NOTICES[c.req.query("done") ?? ""] }),
  );

  app.post("/settings/users", async (c) => {
    const form = await c.req.parseBody();
    const username = String(form.username ?? "").trim();
    const role = String(form.role ?? "agent");
    const password = String(form.password ?? "");
    const errors: Record<string, string> = {};
    if (!NAME.test(username)) errors.username = `Username: ${NAME_RULE}.`;
    const pw = passwordProblem(password);
    if (pw) errors.password = `Password ${pw}.`;
    const draft = { username, role };
    if (!(ROLES as readonly string[]).includes(role)) {
      errors.role = "Pick a role.";
    }
    if (Object.keys(errors).length) {
      return render(c, { userErrors: errors, userDraft: draft }, 422);
    }
    try {
      await store.createUser({
        username,
        role: role as Role,
        passwordHash: await hashPassword(password),
      });
    } catch (err) {
      if (!(err instanceof DuplicateNameError)) throw err;
      return render(c, {
        userErrors: { username: "That username is taken." },
        userDraft: draft,
      }, 409);
    }
    return c.redirect("/settings?done=user-added", 303);
  });

  app.post("/settings/users/:name/:action{disable|enable}", async (c) => {
    const name = c.req.param("name");
    if (name.toLowerCase() === c.get("user")!.username.toLowerCase()) {
      return render(c, { notice: "You cannot disable yourself." }, 422);
    }
    const action = c.req.param("action");
    await store.setUserDisabled(name, action === "disable");
    return c.redirect(`/settings?done=user-${action}d`, 303);
  });

  app.post("/settings/users/:name/release", async (c) => {
    await store.releaseTickets(c.req.param("name"), { actor: actorOf(c) });
    return c.redirect("/settings?done=tickets-released", 303);
  });

  app.post("/settings/users/:name/password", async (c) => {
    const form = await c.req.parseBody();
    const password = String(form.password ?? "");
    const problem = passwordProblem(password);
    if (problem) {
      return render(c, { notice: `The new password ${problem}.` }, 422);
    }
    await store.setPassword(c.req.param("name"), await hashPassword(password));
    return c.redirect("/settings?done=password-reset", 303);
  });

  app.post("/settings/keys", async (c) => {
    const { draft, errors } = readKeyForm(await c.req.parseBody({ all: true }));
    if (Object.keys(errors).length) {
      return render(c, { keyErrors: errors, keyDraft: draft }, 422);
    }
    const { key, prefix, hash } = newApiKey();
    try {
      await store.createApiKey({ ...draft, prefix, hash });
    } catch (err) {
      if (!(err instanceof DuplicateNameError)) throw err;
      return render(c, {
        keyErrors: { name: "A key with that name exists." },
        keyDraft: draft,
      }, 409);
    }
    // Rendered directly (no redirect): the key must not travel in a URL.
    return render(c, {
      newKey: { ...draft, key },
      notice: `API key "${draft.name}" created.`,
    });
  });

  app.post("/settings/keys/:name/revoke", async (c) => {
    await store.revokeApiKey(c.req.param("name"));
    return c.redirect("/settings?done=key-revoked", 303);
  });
  return app;
}
