/** Control characters in free text: refused with a field error, never stored cut short. */
import assert from "node:assert/strict";
import {
  assertProblem,
  createTicket,
  jsonRequest,
  withApp,
} from "../fixtures.ts";

Deno.test("PATCH refuses a description holding a NUL with 422 and keeps the old text", async () => {
  await withApp(async ({ app }) => {
    const t = await createTicket(app);
    const res = await app.request(
      `/api/v1/tickets/${t.id}`,
      jsonRequest({ description: "keep\u0000lost" }, { method: "PATCH" }),
    );
    await assertProblem(res, 422, {
      errors: [{
        field: "description",
        pointer: "#/description",
        detail: "must not contain control characters (found U+0000)",
      }],
    });
    const after = await (await app.request(`/api/v1/tickets/${t.id}`)).json();
    assert.equal(after.description, "");
    assert.equal(after.version, 1);
  });
});

Deno.test("PATCH keeps line breaks and tabs in a description", async () => {
  await withApp(async ({ app }) => {
    const t = await createTicket(app);
    const text = "Line one\nLine two\r\n\tindented";
    const res = await app.request(
      `/api/v1/tickets/${t.id}`,
      jsonRequest({ description: text }, { method: "PATCH" }),
    );
    assert.equal(res.status, 200);
    assert.equal((await res.json()).description, text);
  });
});

Deno.test("POST comments refuses a body or author holding control characters", async () => {
  await withApp(async ({ app }) => {
    const t = await createTicket(app);
    for (
      const [body, field] of [
        [{ body: "a\u0000b" }, "body"],
        [{ body: "ok", author: "bot\u001b[31m" }, "author"],
      ] as const
    ) {
      const res = await app.request(
        `/api/v1/tickets/${t.id}/comments`,
        jsonRequest(body),
      );
      await assertProblem(res, 422, { fields: [field] });
    }
    const after = await (await app.request(`/api/v1/tickets/${t.id}`)).json();
    assert.deepEqual(after.comments, []);
  });
});

Deno.test("The search's own hit marks (U+E000, U+E001) are refused in text, so nobody can fake a highlight", async () => {
  await withApp(async ({ app }) => {
    const t = await createTicket(app);
    const res = await app.request(
      `/api/v1/tickets/${t.id}/comments`,
      jsonRequest({ body: "\uE001\uE000<b>marked</b>\uE001" }),
    );
    await assertProblem(res, 422, {
      errors: [{
        field: "body",
        pointer: "#/body",
        detail: "must not contain the private-use character U+E001",
      }],
    });
  });
});

Deno.test("Bidirectional controls are refused in one-line fields, with the field named", async () => {
  await withApp(async ({ app }) => {
    for (
      const ch of [
        "\u202A",
        "\u202B",
        "\u202C",
        "\u202D",
        "\u202E",
        "\u2066",
        "\u2067",
        "\u2068",
        "\u2069",
      ]
    ) {
      for (const field of ["user_id", "product_id", "other_ids"]) {
        const res = await app.request(
          "/api/v1/tickets",
          jsonRequest({
            user_id: "maria",
            pdf_link: "https://example.com/a.pdf",
            [field]: `abc${ch}gnp.exe`,
          }),
        );
        const body = await assertProblem(res, 422, { fields: [field] });
        assert.match(String(body.detail), /bidirectional control/);
      }
    }
    const list = await app.request("/api/v1/tickets?user_id=a%00b");
    await assertProblem(list, 422, { fields: ["user_id"] });
  });
});

Deno.test("Multi-line text may still carry right-to-left text and its marks", async () => {
  await withApp(async ({ app }) => {
    const t = await createTicket(app);
    const text = "مرحبا \u200F(rtl mark) and \u202Eembedded in a description";
    const res = await app.request(
      `/api/v1/tickets/${t.id}`,
      jsonRequest({ description: text }, { method: "PATCH" }),
    );
    assert.equal(res.status, 200);
    assert.equal((await res.json()).description, text);
  });
});
