/**
 * SQLite search expands a plain prefix word to the index's own terms (an OR
 * that FTS5 reads newest-first): it must find exactly what the prefix finds,
 * including a ticket written a moment ago.
 */
import assert from "node:assert/strict";
import { openSqliteStore } from "../../db/sqlite/sqlite_store.ts";
import { Statements } from "../../db/sqlite/connection.ts";
import { ftsQuery, searchMatch } from "../../db/sqlite/reads.ts";
import type { NewTicket } from "../../db/store.ts";
import { withTempDir } from "../fixtures.ts";

function input(user_id: string, other_ids: string | null = null): NewTicket {
  return {
    user_id,
    pdf_link: "https://example.com/a.pdf",
    product_id: null,
    other_ids,
  };
}

/** Runs `fn` on a memory store (inline writer) and a file store (writer worker). */
async function eachStore(
  fn: (store: Awaited<ReturnType<typeof openSqliteStore>>) => Promise<void>,
) {
  const memory = await openSqliteStore({ path: ":memory:" });
  try {
    await fn(memory);
  } finally {
    await memory.close();
  }
  await withTempDir(async (dir) => {
    const file = await openSqliteStore({ path: `${dir}/t.db` });
    try {
      await fn(file);
    } finally {
      await file.close();
    }
  });
}

Deno.test("A prefix search finds the same tickets through the expanded terms as through the prefix itself", async () => {
  await eachStore(async (store) => {
    for (
      const words of [
        "battery",
        "batteries",
        "batt",
        "bat",
        "Battery charger",
        "crème brûlée",
        "li_wei12",
        "wei120",
      ]
    ) {
      await store.createTicket(input(words), { actor: "t" });
    }
    const stmts = new Statements(store.db);
    for (
      const q of ["bat", "batt", "BATTE", "battery ch", "wei12", "cr", "zz"]
    ) {
      const expected = stmts.get(
        "SELECT rowid AS id FROM tickets_fts WHERE tickets_fts MATCH ? ORDER BY rowid DESC",
      ).all(ftsQuery(q)!).map((r) => Number(r.id));
      const page = await store.listTickets({ q, limit: 50 });
      assert.deepEqual(page.items.map((t) => t.id), expected, q);
      const counts = await store.countMatching({ q }, 100);
      const total = counts.byOwner.reduce((n, c) => n + c.n, 0);
      assert.equal(total, expected.length, q);
    }
    assert.equal(
      searchMatch(stmts, "batt ch"),
      '("batt" OR "batteries" OR "battery") AND ("charger")',
    );
    // Not plain ASCII, or one letter: the prefix form, as before.
    assert.equal(searchMatch(stmts, "crè"), '"crè"*');
    assert.equal(searchMatch(stmts, "b"), '"b"');
  });
});

Deno.test("A search finds a ticket written after the same search ran, at once", async () => {
  await eachStore(async (store) => {
    await store.createTicket(input("battery"), { actor: "t" });
    const first = await store.listTickets({ q: "batt", limit: 50 });
    assert.equal(first.items.length, 1);
    const { ticket } = await store.createTicket(input("battleship"), {
      actor: "t",
    });
    const again = await store.listTickets({ q: "batt", limit: 50 });
    assert.deepEqual(again.items.map((t) => t.id), [
      ticket.id,
      first.items[0]!.id,
    ]);
    // A new term in an existing ticket too.
    await store.updateTicket(first.items[0]!.id, {
      description: "batter",
    }, { actor: "t" });
    const stmts = new Statements(store.db);
    assert.equal(
      searchMatch(stmts, "batte"),
      '("batter" OR "battery")',
    );
  });
});

Deno.test("A word that starts more than 16 terms keeps its prefix form", async () => {
  await eachStore(async (store) => {
    for (let i = 1; i <= 17; i++) {
      await store.createTicket(input(`zq${i}`), { actor: "t" });
    }
    const stmts = new Statements(store.db);
    assert.equal(searchMatch(stmts, "zq"), '"zq"*');
    assert.equal(
      (await store.listTickets({ q: "zq", limit: 50 })).items.length,
      17,
    );
    assert.equal(
      searchMatch(stmts, "zq1"),
      [
        "zq1",
        ...Array.from({ length: 8 }, (_, i) => `zq1${i}`),
      ].map((t) => `"${t}"`).join(" OR ").replace(/^/, "(").replace(/$/, ")"),
    );
  });
});
