/** deno task webhook: add (the secret as the last line), list with ids, remove; under the task's own permissions. */
import assert from "node:assert/strict";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { openSqliteStore } from "../../db/sqlite/sqlite_store.ts";
import { firstDelivery, withTempDir } from "../fixtures.ts";
import {
  createTestSchema,
  dropTestSchema,
  openTestPostgres,
  TEST_DATABASE_URL,
  testPostgres,
} from "../db/backends.ts";

const CONFIG = join(
  fileURLToPath(new URL("../../", import.meta.url)),
  "deno.json",
);

/** Runs `deno task webhook …` as the operator does. */
async function task(args: string[], env: Record<string, string>) {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["task", "--quiet", "--config", CONFIG, "webhook", ...args],
    env: { NO_COLOR: "1", ...env },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  const dec = new TextDecoder();
  return {
    code: out.code,
    stdout: dec.decode(out.stdout),
    stderr: dec.decode(out.stderr),
  };
}

Deno.test("webhook add prints the secret as its last line, list shows ids, remove removes; the secret signs the deliveries", async () => {
  await withTempDir(async (dir) => {
    const env = { DB_PATH: `${dir}/t.db` };
    const added = await task(
      [
        "add",
        "https://hooks.example.com/desk",
        "--events",
        "comment.public,ticket.created",
      ],
      env,
    );
    assert.equal(added.code, 0, added.stderr);
    const lines = added.stdout.trim().split("\n");
    assert.match(
      lines[0]!,
      /^Added webhook 1 for https:\/\/hooks\.example\.com\/desk \(ticket\.created,comment\.public\)/,
    );
    const secret = lines.at(-1)!;
    assert.match(secret, /^whsec_[A-Za-z0-9+/]{43}=$/);
    const list = await task(["list"], env);
    assert.equal(list.code, 0, list.stderr);
    assert.match(
      list.stdout,
      /^ {3}1 {2}https:\/\/hooks\.example\.com\/desk {2}ticket\.created,comment\.public {2}active {2}0 waiting$/m,
    );
    assert.ok(!list.stdout.includes("whsec_"));
    const store = await openSqliteStore({
      path: env.DB_PATH,
      writer: "inline",
    });
    try {
      const d = await firstDelivery(store, 1000);
      assert.deepEqual(d!.secrets, [secret]);
    } finally {
      await store.close();
    }
    const removed = await task(["remove", "1"], env);
    assert.equal(removed.code, 0, removed.stderr);
    assert.equal((await task(["list"], env)).stdout.trim(), "No webhooks yet.");
    const again = await task(["remove", "1"], env);
    assert.equal(again.code, 1);
    assert.match(again.stderr, /Cannot remove 1: Webhook 1 does not exist/);
  });
});

Deno.test("webhook add refuses bad events, a bad URL and a private address (unless WEBHOOK_ALLOW_PRIVATE=1) with exit 2, writing nothing", async () => {
  await withTempDir(async (dir) => {
    const env = { DB_PATH: `${dir}/t.db` };
    for (
      const [args, message] of [
        [
          ["add", "https://h.example.com/", "--events", "ticket.deleted"],
          /--events must list one or more of ticket\.created/,
        ],
        [
          ["add", "hooks.example.com"],
          /The URL must be an absolute http or https URL/,
        ],
        [
          ["add", "http://127.0.0.1:9000/hook"],
          /must not be the private address 127\.0\.0\.1/,
        ],
        [["remove", "abc"], /ID must be a webhook's number/],
        [["list", "--events", "ticket.created"], /--events goes only with add/],
        [["frob"], /^Usage:/],
      ] as [string[], RegExp][]
    ) {
      const r = await task(args, env);
      assert.equal(r.code, 2, `${args.join(" ")}: ${r.stderr}`);
      assert.match(r.stderr, message);
    }
    const bad = await task(["add", "http://127.0.0.1:9000/"], {
      ...env,
      WEBHOOK_ALLOW_PRIVATE: "maybe",
    });
    assert.equal(bad.code, 2);
    assert.match(
      bad.stderr,
      /^Configuration error: WEBHOOK_ALLOW_PRIVATE must be 1 or 0/,
    );
    const ok = await task(["add", "http://127.0.0.1:9000/hook"], {
      ...env,
      WEBHOOK_ALLOW_PRIVATE: "1",
    });
    assert.equal(ok.code, 0, ok.stderr);
    const list = await task(["list"], env);
    assert.equal(list.stdout.trim().split("\n").length, 1);
    assert.match(
      list.stdout,
      /ticket\.created,ticket\.updated,comment\.public/,
    );
  });
});

testPostgres("webhook add and list work on DATABASE_URL", async () => {
  const schema = await createTestSchema();
  try {
    const url = new URL(TEST_DATABASE_URL!);
    url.searchParams.set("search_path", schema);
    const env = { DATABASE_URL: url.toString() };
    const added = await task(["add", "https://hooks.example.com/pg"], env);
    assert.equal(added.code, 0, added.stderr);
    const store = await openTestPostgres(schema);
    try {
      const [w] = await store.listWebhooks();
      assert.equal(w!.url, "https://hooks.example.com/pg");
    } finally {
      await store.close();
    }
  } finally {
    await dropTestSchema(schema);
  }
});
