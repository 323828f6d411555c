/** ensureFirstAdmin: someone can log in after a first start, under the same password policy as everyone. */
import assert from "node:assert/strict";
import { ConfigError } from "../../config.ts";
import { openSqliteStore } from "../../db/sqlite/sqlite_store.ts";
import { ensureFirstAdmin, firstAdminLines } from "../../lib/first_admin.ts";
import { verifyPassword } from "../../lib/passwords.ts";

async function withStore(
  fn: (store: Awaited<ReturnType<typeof openSqliteStore>>) => Promise<void>,
) {
  const store = await openSqliteStore({ path: ":memory:" });
  try {
    await fn(store);
  } finally {
    await store.close();
  }
}

Deno.test("ensureFirstAdmin refuses an ADMIN_PASSWORD that breaks the password policy and creates nobody", async () => {
  await withStore(async (store) => {
    for (const password of ["a", "123456789", "x".repeat(1025)]) {
      await assert.rejects(
        ensureFirstAdmin(store, { username: "admin", password }),
        (err: Error) => {
          assert.ok(err instanceof ConfigError);
          assert.match(
            err.message,
            /^ADMIN_PASSWORD must be at (least 10|most 1024) characters: .*password policy/,
          );
          if (password.length > 1) {
            assert.ok(
              !err.message.includes(password),
              "the password is not echoed",
            );
          }
          return true;
        },
      );
    }
    assert.equal(await store.countUsers(), 0);
  });
});

Deno.test("ensureFirstAdmin creates the admin from ADMIN_PASSWORD and says so without printing it", async () => {
  await withStore(async (store) => {
    const password = "a long enough password";
    const admin = await ensureFirstAdmin(store, { username: "boss", password });
    assert.ok(admin);
    const found = await store.findUserForLogin("boss");
    assert.equal(found?.user.role, "admin");
    assert.ok(await verifyPassword(password, found!.passwordHash));
    const lines = firstAdminLines(admin, "http://x/login");
    assert.deepEqual(lines, [
      'Created the first admin "boss" with the password from ADMIN_PASSWORD.',
    ]);
  });
});

Deno.test("ensureFirstAdmin with users present does nothing, even with a short ADMIN_PASSWORD", async () => {
  await withStore(async (store) => {
    await store.createUser({
      username: "bob",
      passwordHash: "x",
      role: "admin",
    });
    assert.equal(
      await ensureFirstAdmin(store, { username: "admin", password: "a" }),
      null,
    );
    assert.equal(await store.countUsers(), 1);
  });
});

Deno.test("ensureFirstAdmin without ADMIN_PASSWORD generates one that passes the policy and prints it once", async () => {
  await withStore(async (store) => {
    const admin = await ensureFirstAdmin(store, {
      username: "admin",
      password: null,
    });
    assert.ok(admin);
    const lines = firstAdminLines(admin, "http://127.0.0.1:8000/login");
    assert.ok(lines.includes(`  Password: ${admin.password}`));
    assert.ok(lines.some((l) => l.includes("http://127.0.0.1:8000/login")));
    const found = await store.findUserForLogin("admin");
    assert.ok(await verifyPassword(admin.password, found!.passwordHash));
  });
});
