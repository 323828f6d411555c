/** deno task backup: a consistent copy of a SQLite database that is being written. */
import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { openSqliteStore } from "../../db/sqlite/sqlite_store.ts";
import { backupSqlite } from "../../scripts/backup.ts";
import { withTempDir } from "../fixtures.ts";

const input = (i: number) => ({
  user_id: `u${i}`,
  pdf_link: "https://example.com/a.pdf",
  product_id: `P${i % 5}`,
  other_ids: null,
});

Deno.test("a backup taken while the store writes passes integrity_check and holds a committed prefix", async () => {
  await withTempDir(async (dir) => {
    const store = await openSqliteStore({ path: `${dir}/live.db` });
    let writing = true;
    let written = 0;
    const committed = Promise.withResolvers<void>();
    const writer = (async () => {
      while (writing) {
        await Promise.all(
          Array.from(
            { length: 20 },
            () => store.createTicket(input(written++), { actor: "t" }),
          ),
        );
        committed.resolve();
      }
    })();
    try {
      // Some tickets are committed and more are on their way.
      await Promise.race([committed.promise, writer]);
      const report = await backupSqlite(`${dir}/live.db`, `${dir}/copy.db`);
      writing = false;
      await writer;
      assert.ok(report.tickets > 0, "the copy holds tickets");
      assert.ok(report.tickets <= written);
      const copy = new DatabaseSync(`${dir}/copy.db`);
      try {
        assert.equal(
          copy.prepare("PRAGMA integrity_check").get()!.integrity_check,
          "ok",
        );
        // Every ticket's event came along: one transaction, one commit's view.
        const { t, e, c } = copy.prepare(
          `SELECT (SELECT count(*) FROM tickets) AS t, (SELECT count(*) FROM events) AS e,
                  (SELECT sum(n) FROM ticket_counts WHERE dimension = 'status') AS c`,
        ).get()!;
        assert.equal(Number(t), report.tickets);
        assert.equal(Number(e), report.tickets);
        assert.equal(Number(c), report.tickets);
      } finally {
        copy.close();
      }
      await assert.rejects(
        backupSqlite(`${dir}/live.db`, `${dir}/copy.db`),
        /already exists/,
      );
    } finally {
      writing = false;
      await writer;
      await store.close();
    }
  });
});

Deno.test("deno task backup FILE copies DB_PATH and says what it copied", async () => {
  await withTempDir(async (dir) => {
    const store = await openSqliteStore({ path: `${dir}/t.db` });
    await store.createTicket(input(1), { actor: "t" });
    // Through the task, so it runs with the permissions deno.json grants.
    const config = new URL("../../deno.json", import.meta.url).pathname;
    const task = (args: string[]) =>
      new Deno.Command(Deno.execPath(), {
        args: ["task", "--quiet", "--config", config, "backup", ...args],
        env: { DB_PATH: `${dir}/t.db` },
        stdout: "piped",
        stderr: "piped",
      }).output();
    const out = await task([`${dir}/b.db`]);
    await store.close();
    const text = new TextDecoder().decode(out.stdout);
    assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
    assert.match(text, /1 tickets, \d+ bytes, integrity ok/);
    const again = await task([]);
    assert.equal(again.code, 2);
  });
});
