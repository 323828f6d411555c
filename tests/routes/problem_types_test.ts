import assert from "node:assert/strict";
import { PROBLEM_TYPES } from "../../routes/problem_types.tsx";
import { withApp } from "../fixtures.ts";

Deno.test("every problem type the code returns has a public page at its URI", async () => {
  // The types the source actually uses, found in the source itself.
  const used = new Set<string>();
  for (const dir of ["routes", "."]) {
    for (
      const entry of Deno.readDirSync(new URL(`../../${dir}`, import.meta.url))
    ) {
      if (!/\.(ts|tsx)$/.test(entry.name)) continue;
      const text = Deno.readTextFileSync(
        new URL(`../../${dir}/${entry.name}`, import.meta.url),
      );
      for (const m of text.matchAll(/"\/problems\/([a-z-]+)"/g)) {
        used.add(m[1]!);
      }
    }
  }
  assert.ok(used.size >= 5, [...used].join(", "));
  await withApp(async ({ rawApp }) => {
    for (const slug of used) {
      assert.ok(PROBLEM_TYPES[slug], `documented: ${slug}`);
      const res = await rawApp.request(`/problems/${slug}`);
      assert.equal(res.status, 200, slug);
      assert.match(res.headers.get("content-type") ?? "", /^text\/html/);
      const html = await res.text();
      assert.ok(html.includes(PROBLEM_TYPES[slug]!.title), slug);
      assert.match(html, new RegExp(`HTTP ${PROBLEM_TYPES[slug]!.status}`));
    }
    const missing = await rawApp.request("/problems/no-such-thing");
    assert.equal(missing.status, 404);
    await missing.body?.cancel();
  });
});

Deno.test("names inherited from Object are not problem types: 404, not an 'undefined' page", async () => {
  await withApp(async ({ rawApp }) => {
    for (
      const slug of [
        "constructor",
        "toString",
        "valueOf",
        "hasOwnProperty",
        "__proto__",
        "isPrototypeOf",
      ]
    ) {
      const res = await rawApp.request(`/problems/${slug}`);
      const text = await res.text();
      assert.equal(res.status, 404, slug);
      assert.doesNotMatch(text, /undefined/, slug);
      assert.equal(res.headers.get("cache-control"), null, slug);
    }
  });
});
