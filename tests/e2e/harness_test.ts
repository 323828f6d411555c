/** The browser-test harness itself: startServer({ tls: true }) serves HTTPS and HTTP/2. */
import assert from "node:assert/strict";
import { startServer } from "./harness.ts";

Deno.test("startServer({ tls: true }) serves the app over HTTPS and HTTP/2 with the certificate it returns", async () => {
  const server = await startServer({ tls: true });
  const client = Deno.createHttpClient({ caCerts: [server.cert!] });
  try {
    assert.match(server.url, /^https:\/\/127\.0\.0\.1:\d+$/);
    const res = await fetch(`${server.url}/login`, { client });
    assert.equal(res.status, 200);
    assert.match(res.headers.get("content-type")!, /^text\/html/);
    assert.ok(res.headers.has("strict-transport-security"));
    await res.body?.cancel();
    const conn = await Deno.connectTls({
      hostname: "127.0.0.1",
      port: Number(new URL(server.url).port),
      caCerts: [server.cert!],
      alpnProtocols: ["h2", "http/1.1"],
    });
    try {
      assert.equal((await conn.handshake()).alpnProtocol, "h2");
    } finally {
      conn.close();
    }
  } finally {
    client.close();
    await server.stop();
  }
});

Deno.test("startServer() without tls stays plain HTTP and returns no certificate", async () => {
  const server = await startServer();
  try {
    assert.match(server.url, /^http:\/\/127\.0\.0\.1:\d+$/);
    assert.equal(server.cert, undefined);
  } finally {
    await server.stop();
  }
});
