import assert from "node:assert/strict";
import {
  acceptKey,
  checkRequest,
  checkResponse,
  parseHead,
  UpgradeError,
  upgradeRequest,
} from "./handshake.ts";

const enc = (s: string) => new TextEncoder().encode(s);

Deno.test("handshake: the RFC 6455 accept key", async () => {
  assert.equal(await acceptKey("dGhlIHNhbXBsZSBub25jZQ=="), "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
});

const good = "GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: keep-alive, Upgrade\r\n" +
  "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n";

Deno.test("handshake: a valid request yields its key; the path's query is ignored", () => {
  assert.equal(checkRequest(parseHead(enc(good)), { path: "/ws" }), "dGhlIHNhbXBsZSBub25jZQ==");
  const q = good.replace("/ws ", "/ws?x=1 ");
  assert.equal(checkRequest(parseHead(enc(q)), { path: "/ws" }), "dGhlIHNhbXBsZSBub25jZQ==");
});

Deno.test("handshake: bad requests are refused with their HTTP status", () => {
  const cases: [string, number, RegExp][] = [
    [good.replace("/ws ", "/other "), 404, /not found/],
    [good.replace("GET", "POST"), 405, /method/],
    [
      good.replace("Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n", ""),
      400,
      /Sec-WebSocket-Key header missing/,
    ],
    [good.replace("dGhlIHNhbXBsZSBub25jZQ==", "c2hvcnQ="), 400, /16 bytes/],
    [good.replace("Upgrade: websocket\r\n", ""), 400, /Upgrade/],
    [good.replace("Sec-WebSocket-Version: 13", "Sec-WebSocket-Version: 8"), 400, /Version/],
    [good.replace("HTTP/1.1", "HTTP/2"), 400, /HTTP\/1\.1/],
  ];
  for (const [req, status, msg] of cases) {
    assert.throws(() => checkRequest(parseHead(enc(req)), { path: "/ws" }), (err: unknown) => {
      assert.ok(err instanceof UpgradeError);
      assert.equal(err.status, status);
      assert.match(err.message, msg);
      return true;
    });
  }
  assert.throws(() => parseHead(enc("garbage\r\n\r\n")), UpgradeError);
  assert.throws(() => parseHead(enc("GET / HTTP/1.1\r\nno colon here\r\n\r\n")), UpgradeError);
});

Deno.test("handshake: the client request carries host, path and extra headers; custom Host wins", () => {
  const r = upgradeRequest({ host: "a:1", path: "chat", key: "k", headers: { "X-Test": "1" } });
  assert.match(r, /^GET \/chat HTTP\/1\.1\r\n/);
  assert.match(r, /\r\nHost: a:1\r\n/);
  assert.match(r, /\r\nX-Test: 1\r\n/);
  const h = parseHead(enc(upgradeRequest({ host: "a:1", path: "/ws", key: "k", headers: { host: "b" } })));
  assert.equal(h.headers.get("host"), "b");
});

Deno.test("handshake: the client checks status and accept key", async () => {
  const ok = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
    "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n";
  await checkResponse(parseHead(enc(ok)), "dGhlIHNhbXBsZSBub25jZQ==");
  await assert.rejects(() => checkResponse(parseHead(enc(ok)), "b3RoZXIga2V5IDEyMzQ1Ng=="), /Accept/);
  await assert.rejects(
    () => checkResponse(parseHead(enc("HTTP/1.1 404 Not Found\r\n\r\n")), "x"),
    /404 Not Found/,
  );
});
