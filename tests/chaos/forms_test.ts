/** The form fuzz's own pieces: reading forms and links, the values it tries, the Location rule. */
import assert from "node:assert/strict";
import { fieldMutations, offSiteLocation } from "../../chaos/lib/mutator.ts";
import { parseForms, parseLinks } from "../../chaos/lib/pages.ts";

Deno.test("parseForms reads hidden fields, the first submit button and the htmx variant of a form", () => {
  const html = `<form method="post" action="/tickets/7/status"
      hx-post="/tickets/7/status" hx-target="#ticket-7">
    <input type="hidden" name="version" value="3">
    <input type="hidden" name="seen" value="Open &amp; &quot;new&quot;">
    <input type="password" name="password">
    <button type="submit" name="status" value="Open">Open</button>
    <button type="submit" name="status" value="Closed">Closed</button>
  </form>
  <form method="dialog"><button>Close</button></form>
  <form action="/dashboard"><input type="search" name="q" value="cam"></form>`;
  const forms = parseForms(html, "/dashboard?status=Open");
  assert.deepEqual(
    forms.map((f) => [f.method, f.path, f.htmx, f.via]),
    [
      ["POST", "/tickets/7/status", false, "form"],
      ["POST", "/tickets/7/status", true, "form"],
      ["GET", "/dashboard", false, "form"],
    ],
  );
  assert.deepEqual(
    forms[0]!.fields.map((f) => [f.name, f.value, f.kind, f.at]),
    [
      ["version", "3", "hidden", "body"],
      ["seen", 'Open & "new"', "hidden", "body"],
      ["password", "", "password", "body"],
      ["status", "Open", "button", "body"],
    ],
  );
  assert.equal(forms[2]!.fields[0]!.at, "query");
  // The same form for another ticket has the same shape; on another page it does not.
  assert.equal(
    parseForms(html.replaceAll("/7/", "/8/"), "/dashboard")[0]!.shape,
    forms[0]!.shape,
  );
  assert.notEqual(parseForms(html, "/tickets/7")[0]!.shape, forms[0]!.shape);
});

Deno.test("parseLinks reads same-origin links, hx-get and the live stream URL that carry a query, and nothing off-site", () => {
  const html = `<a href="/dashboard?status=Open&amp;q=a">Open</a>
    <a href="https://example.com/?x=1">out</a><a href="//evil.example/?x=1">x</a>
    <a href="/tickets/2">no query</a>
    <div hx-get="/tickets/2/description?back=%2Fdashboard"></div>
    <div id="live" hx-sse:connect="/events?after=4"></div>`;
  const links = parseLinks(html, "/dashboard");
  assert.deepEqual(
    links.map((l) => [l.path, l.via, l.htmx, l.fields.map((f) => f.value)]),
    [
      ["/dashboard", "link", false, ["Open", "a"]],
      ["/tickets/2/description", "link", true, ["/dashboard"]],
      ["/events", "sse", false, ["4"]],
    ],
  );
});

Deno.test("fieldMutations tries a control character inside the value and off-site targets first, then every control character", () => {
  const values = fieldMutations("/dashboard");
  assert.deepEqual(values.slice(0, 3), [
    "/dashboard?\x01y",
    "/\t/evil.example",
    "//evil.example",
  ]);
  for (let c = 0; c < 32; c++) {
    const ch = String.fromCharCode(c);
    assert.ok(values.includes(`/dashboard?${ch}y`), `%${c.toString(16)}`);
    assert.ok(values.includes(`/dashboard${ch}y`), `%${c.toString(16)}`);
  }
  for (
    const v of [
      "/dashboard?\x7fy",
      "/\\evil.example",
      "https://evil.example",
      "/%09/evil.example",
      "javascript:alert(1)",
    ]
  ) assert.ok(values.includes(v), v);
  assert.equal(new Set(values).size, values.length);
});

Deno.test("offSiteLocation accepts a same-origin path and names what is wrong with anything else", () => {
  assert.equal(offSiteLocation("/dashboard?status=Open&q=a%20b"), null);
  assert.equal(offSiteLocation("/"), null);
  for (
    const bad of [
      "//evil.example",
      "/\\evil.example",
      "https://evil.example",
      "/\t/evil.example",
      "/dashboard?\x01",
      "/dashboard?\x7f",
      "/a b",
      "javascript:alert(1)",
      "",
    ]
  ) {
    assert.notEqual(offSiteLocation(bad), null, JSON.stringify(bad));
  }
});
