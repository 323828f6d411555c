/** Requester links: derived, never stored; revoked by a new version; checked in constant time. */
import assert from "node:assert/strict";
import { requesterLinks } from "../../lib/requester_token.ts";

const SECRET = "token-test-secret-0123456789abcdef0123";

Deno.test("A ticket's token is <id>.<43 base64url characters>, the same every time for the same id and version", () => {
  const links = requesterLinks(SECRET, null);
  const t = links.token({ id: 42, token_version: 1 });
  assert.match(t, /^42\.[A-Za-z0-9_-]{43}$/);
  assert.equal(links.token({ id: 42, token_version: 1 }), t);
  assert.equal(links.url({ id: 42, token_version: 1 }), `/r/${t}`);
  assert.equal(
    requesterLinks(SECRET, "https://desk.example.com").url({
      id: 42,
      token_version: 1,
    }),
    `https://desk.example.com/r/${t}`,
  );
  assert.equal(links.ticketIdOf(t), 42);
});

Deno.test("A token matches only its ticket at its version, under its secret", () => {
  const links = requesterLinks(SECRET, null);
  const t = links.token({ id: 42, token_version: 1 });
  assert.equal(links.matches(t, { id: 42, token_version: 1 }), true);
  assert.equal(links.matches(t, { id: 42, token_version: 2 }), false);
  assert.equal(links.matches(t, { id: 43, token_version: 1 }), false);
  const other = requesterLinks(`${SECRET}x`, null);
  assert.equal(other.matches(t, { id: 42, token_version: 1 }), false);
  // The id in clear cannot be swapped onto another ticket's mac.
  const mac = t.split(".")[1];
  assert.equal(links.matches(`43.${mac}`, { id: 43, token_version: 1 }), false);
});

Deno.test("Anything but a token names no ticket", () => {
  const links = requesterLinks(SECRET, null);
  for (
    const bad of [
      "",
      "42",
      "42.",
      "0.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
      "042.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
      "42.AAAA",
      "42.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
      "42.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA.x",
      "../42.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
    ]
  ) {
    assert.equal(links.ticketIdOf(bad), null, bad);
    assert.equal(links.matches(bad, { id: 42, token_version: 1 }), false, bad);
  }
});
