/** Who else is on a ticket: the board's rules, its route, and presence across instances. */
import assert from "node:assert/strict";
import { createMemorySignals } from "../../db/bus.ts";
import {
  PRESENCE_TTL_MS,
  PresenceBoard,
  presenceJson,
} from "../../routes/presence.ts";
import { addUser, logIn, withApp } from "../fixtures.ts";
import { testPostgres } from "../db/backends.ts";
import {
  createTestSchema,
  dropTestSchema,
  openTestPostgres,
} from "../db/backends.ts";
import { createMemoryBus } from "../../db/bus.ts";

function clock() {
  let t = 1_000_000;
  return { now: () => t, advance: (ms: number) => (t += ms) };
}

Deno.test("The board says who views and who writes, typing winning, and forgets a browser that stops reporting", async () => {
  const c = clock();
  const board = new PresenceBoard(createMemorySignals(), c.now);
  const seen: string[] = [];
  board.subscribe((changed) => seen.push(presenceJson(changed)));
  try {
    await board.report("maria", "browser-aaaa", [{
      ticket: 7,
      state: "viewing",
    }]);
    await board.report("li", "browser-bbbb", [{ ticket: 7, state: "typing" }]);
    // Two tabs of one browser: the writing one counts.
    await board.report("maria", "browser-aaaa", [
      { ticket: 7, state: "viewing" },
      { ticket: 8, state: "typing" },
    ]);
    assert.deepEqual(
      presenceJson(board.snapshot()),
      JSON.stringify({
        7: [{ user: "maria", state: "viewing" }, {
          user: "li",
          state: "typing",
        }],
        8: [{ user: "maria", state: "typing" }],
      }),
    );
    const before = seen.length;
    // The heartbeat repeats what is known: nobody is told anything.
    await board.report("li", "browser-bbbb", [{ ticket: 7, state: "typing" }]);
    assert.equal(seen.length, before);
    // maria's laptop sleeps: her report runs out; li keeps reporting.
    c.advance(PRESENCE_TTL_MS - 1000);
    await board.report("li", "browser-bbbb", [{ ticket: 7, state: "typing" }]);
    c.advance(2000);
    // (The sweep runs every second; call it through a report of nothing.)
    await board.report("nobody", "browser-cccc", []);
    assert.deepEqual(
      presenceJson(board.snapshot()),
      JSON.stringify({
        7: [{ user: "li", state: "typing" }],
      }),
    );
    await board.report("li", "browser-bbbb", []);
    assert.deepEqual(presenceJson(board.snapshot()), "{}");
    assert.equal(seen.at(-1), JSON.stringify({ 7: [] }));
  } finally {
    board.close();
  }
});

Deno.test("POST /presence takes a logged-in browser's report and refuses a malformed one", async () => {
  await withApp(async (h) => {
    await addUser(h.store, "maria");
    const cookie = await logIn(h.rawApp, "maria");
    const send = (body: unknown) =>
      h.rawApp.request("/presence", {
        method: "POST",
        headers: { Cookie: cookie, "Content-Type": "application/json" },
        body: JSON.stringify(body),
      });
    const ok = await send({
      browser: "0b4e7a8c-1d2f",
      views: [{ ticket: 3, state: "viewing" }],
    });
    assert.equal(ok.status, 204);
    for (
      const bad of [
        {},
        { browser: "x", views: [] },
        { browser: "0b4e7a8c-1d2f", views: [{ ticket: -1, state: "viewing" }] },
        { browser: "0b4e7a8c-1d2f", views: [{ ticket: 1, state: "sleeping" }] },
      ]
    ) {
      const res = await send(bad);
      assert.equal(res.status, 422, JSON.stringify(bad));
      await res.body?.cancel();
    }
    const anonymous = await h.rawApp.request("/presence", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: "{}",
    });
    assert.notEqual(anonymous.status, 204);
    await anonymous.body?.cancel();
  });
});

testPostgres(
  "presence reported to one instance reaches the board of another",
  async () => {
    const schema = await createTestSchema();
    const a = await openTestPostgres(schema, createMemoryBus());
    const b = await openTestPostgres(schema, createMemoryBus());
    const boardA = new PresenceBoard(a.signals!);
    const boardB = new PresenceBoard(b.signals!);
    try {
      const heard = new Promise<string>((resolve) =>
        boardB.subscribe((changed) => resolve(presenceJson(changed)))
      );
      // A hears its own report back on the same channel: it applies it then.
      const heardByA = new Promise<void>((resolve) =>
        boardA.subscribe(() => resolve())
      );
      await boardA.report("maria", "browser-aaaa", [{
        ticket: 5,
        state: "typing",
      }]);
      assert.equal(
        await heard,
        JSON.stringify({ 5: [{ user: "maria", state: "typing" }] }),
      );
      await heardByA;
      assert.deepEqual(
        presenceJson(boardB.snapshot()),
        presenceJson(boardA.snapshot()),
      );
    } finally {
      boardA.close();
      boardB.close();
      await a.close();
      await b.close();
      await dropTestSchema(schema);
    }
  },
);
