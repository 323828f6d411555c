/** First start: make sure someone can log in. */
import type { AccountStore } from "../db/store.ts";
import { hashPassword } from "./passwords.ts";
import { randomPassword } from "./tokens.ts";

/**
 * Creates the first admin when there is no user: from ADMIN_USER/ADMIN_PASSWORD,
 * or with a random password that is printed once. Returns what was printed.
 */
export async function ensureFirstAdmin(
  store: AccountStore,
  opts: { username: string; password: string | null; loginUrl: string },
): Promise<string[]> {
  if (await store.countUsers() > 0) return [];
  const password = opts.password ?? randomPassword();
  await store.createUser({
    username: opts.username,
    passwordHash: await hashPassword(password),
    role: "admin",
  });
  if (opts.password) {
    return [
      `Created the first admin "${opts.username}" with the password from ADMIN_PASSWORD.`,
    ];
  }
  return [
    "==================================================================",
    `First start: created the admin user "${opts.username}".`,
    `  Password: ${password}`,
    `  Log in at ${opts.loginUrl} (this password is shown only once;`,
    `  change it with: deno task user passwd ${opts.username})`,
    "==================================================================",
  ];
}
