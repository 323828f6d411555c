/** First start: make sure someone can log in. */
import { ConfigError } from "../config.ts";
import { type AccountStore, DuplicateNameError } from "../db/store.ts";
import { hashPassword, passwordProblem } from "./passwords.ts";
import { randomPassword } from "./tokens.ts";

/** The admin a first start created, for the lines printed once the server listens. */
export interface FirstAdmin {
  username: string;
  password: string;
  /** The password came from ADMIN_PASSWORD (so it is not printed). */
  fromEnv: boolean;
}

/**
 * Creates the first admin when there is no user: from ADMIN_USER/ADMIN_PASSWORD,
 * or with a random password. Returns null when there are users already.
 * Throws ConfigError when ADMIN_PASSWORD, about to be used, breaks the password policy.
 */
export async function ensureFirstAdmin(
  store: AccountStore,
  opts: { username: string; password: string | null },
): Promise<FirstAdmin | null> {
  if (await store.countUsers() > 0) return null;
  const problem = opts.password === null
    ? null
    : passwordProblem(opts.password);
  if (problem) {
    throw new ConfigError(
      `ADMIN_PASSWORD ${problem}: it would be the first admin's password, and ` +
        `it breaks the password policy every account follows (the same as ` +
        `deno task user and the Settings page apply). Set a longer one, or ` +
        `unset it to have a random password generated and printed once.`,
    );
  }
  const password = opts.password ?? randomPassword();
  try {
    await store.createUser({
      username: opts.username,
      passwordHash: await hashPassword(password),
      role: "admin",
    });
  } catch (err) {
    // Another instance on the same database made the first admin meanwhile.
    if (err instanceof DuplicateNameError) return null;
    throw err;
  }
  return { username: opts.username, password, fromEnv: opts.password !== null };
}

/** The lines announcing the first admin; a generated password is shown only here. */
export function firstAdminLines(admin: FirstAdmin, loginUrl: string): string[] {
  if (admin.fromEnv) {
    return [
      `Created the first admin "${admin.username}" with the password from ADMIN_PASSWORD.`,
    ];
  }
  return [
    "==================================================================",
    `First start: created the admin user "${admin.username}".`,
    `  Password: ${admin.password}`,
    `  Log in at ${loginUrl} (this password is shown only once;`,
    `  change it with: deno task user passwd ${admin.username})`,
    "==================================================================",
  ];
}
