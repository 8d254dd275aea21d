import assert from "node:assert/strict";
import { HttpConnector, httpConnectorOptions } from "./http.ts";
import { hex, quietLog as log, recorder, toHex } from "../../tests/_recorder.ts";

const make = (auth?: { username: string; password: string }) =>
  new HttpConnector(
    { path: "t", nodeAddr: "127.0.0.1:1", metadata: {}, auth, log },
    httpConnectorOptions.parse({}, "t"),
  );
const OK = "485454502f312e312032303020436f6e6e656374696f6e2065737461626c69736865640d0a0d0a";

// Exact request bytes captured from gost 3.2.6 (its http connector capture).
const VECTORS = {
  auth:
    "434f4e4e454354203132372e302e302e313a313734303220485454502f312e310d0a486f73743a203132372e302e302e313a31373430320d0a557365722d4167656e743a20476f2d687474702d636c69656e742f312e310d0a50726f78792d417574686f72697a6174696f6e3a2042617369632064584e6c636a707759584e7a0d0a50726f78792d436f6e6e656374696f6e3a206b6565702d616c6976650d0a0d0a",
  udp:
    "434f4e4e454354203132372e302e302e313a313734333220485454502f312e310d0a486f73743a203132372e302e302e313a31373433320d0a557365722d4167656e743a20476f2d687474702d636c69656e742f312e310d0a50726f78792d436f6e6e656374696f6e3a206b6565702d616c6976650d0a582d476f73742d50726f746f636f6c3a207564700d0a0d0a",
};

Deno.test("http connector: CONNECT bytes with Proxy-Authorization (http-connector-connect-auth)", async () => {
  const rec = recorder();
  const conn = await rec.dial();
  const peer = await rec.accept();
  const dP = make({ username: "user", password: "pass" }).connect(conn, "tcp", "127.0.0.1:17402", { log });
  assert.equal(toHex(await peer.read(hex(VECTORS.auth).length)), VECTORS.auth);
  await peer.write(OK);
  (await dP).close();
  peer.conn.close();
  rec.close();
});

Deno.test("http connector: X-Gost-Protocol udp, then SOCKS5-style frames (http-connector-udp)", async () => {
  const rec = recorder();
  const conn = await rec.dial();
  const peer = await rec.accept();
  const dP = make().connect(conn, "udp", "127.0.0.1:17432", { log });
  const n = hex(VECTORS.udp).length;
  assert.equal(toHex(await peer.read(n)), VECTORS.udp);
  await peer.write(OK);
  const d = await dP;
  await d.writable.getWriter().write(new TextEncoder().encode("hello"));
  assert.equal(toHex((await peer.read(n + 15)).subarray(n)), "0005ff017f000001441868656c6c6f");
  await peer.write("0005ff017f00000143be776f726c64");
  assert.equal(new TextDecoder().decode((await d.readable.getReader().read()).value), "world");
  d.close();
  peer.conn.close();
  rec.close();
});

Deno.test("http connector: 407 is an error naming the status", async () => {
  const rec = recorder();
  const conn = await rec.dial();
  const peer = await rec.accept();
  const dP = make({ username: "user", password: "pass" }).connect(conn, "tcp", "127.0.0.1:17422", { log });
  await peer.read(100);
  await peer.write(
    "485454502f312e31203430372050726f78792041757468656e7469636174696f6e2052657175697265640d0a50726f78792d41757468656e7469636174653a204261736963207265616c6d3d2278220d0a436f6e74656e742d4c656e6774683a20300d0a0d0a",
  );
  await assert.rejects(dP, /407 Proxy Authentication Required/);
  peer.conn.close();
  rec.close();
});
