import assert from "node:assert/strict";
import { writeTo } from "../core/duplex.ts";
import { Socks5Connector, socks5ConnectorOptions } from "./socks5.ts";
import { quietLog as log, recorder, toHex } from "../../tests/_recorder.ts";

const enc = new TextEncoder();
const dec = new TextDecoder();
const make = (auth?: { username: string; password: string }) =>
  new Socks5Connector(
    { path: "t", nodeAddr: "127.0.0.1:1", metadata: {}, auth, log },
    socks5ConnectorOptions.parse({}, "t"),
  );

// Bytes captured from real gost 3.2.6 (socks5 connector). We never offer gost's private TLS
// methods, so the offer is the one gost sends with notls=true (socks5-connector-notls).
Deno.test("socks5 connector: notls offer 05 01 00, CONNECT with IPv4 ATYP (pipelined)", async () => {
  const rec = recorder();
  const conn = await rec.dial();
  const peer = await rec.accept();
  const dP = make().connect(conn, "tcp", "127.0.0.1:17332", { log });
  assert.equal(toHex(await peer.read(13)), "050100" + "050100017f000001" + "43b4");
  await peer.write("0500" + "05000001" + "7f000001" + "43b5");
  const d = await dP;
  await writeTo(d, enc.encode("hi"));
  assert.equal(dec.decode((await peer.read(15)).subarray(13)), "hi");
  d.close();
  peer.conn.close();
  rec.close();
});

Deno.test("socks5 connector: user/pass sub-negotiation 01 04 user 04 pass (socks5-connector-userpass)", async () => {
  const rec = recorder();
  const conn = await rec.dial();
  const peer = await rec.accept();
  const dP = make({ username: "user", password: "pass" }).connect(conn, "tcp", "127.0.0.1:17312", { log });
  assert.equal(toHex(await peer.read(4)), "05020002");
  await peer.write("0502");
  assert.equal(toHex((await peer.read(21)).subarray(4)), "0104757365720470617373" + "050100017f00000143a0");
  await peer.write("0100" + "05000001000000000000");
  (await dP).close();
  peer.conn.close();
  rec.close();
});

Deno.test("socks5 connector, UDP: 0xF3 with 0.0.0.0:0 then RSV=len|FF frames (socks5-connector-udp)", async () => {
  const rec = recorder();
  const conn = await rec.dial();
  const peer = await rec.accept();
  const dP = make().connect(conn, "udp", "127.0.0.1:17342", { log });
  assert.equal(toHex(await peer.read(13)), "050100" + "05f30001000000000000");
  await peer.write("0500" + "05000001000000000000");
  const d = await dP;
  await d.writable.getWriter().write(enc.encode("hello"));
  assert.equal(toHex((await peer.read(28)).subarray(13)), "0005ff017f000001" + "43be" + "68656c6c6f");
  await peer.write("0005ff017f00000143be776f726c64");
  assert.equal(dec.decode((await d.readable.getReader().read()).value), "world");
  d.close();
  peer.conn.close();
  rec.close();
});

Deno.test("socks5 connector: a failure reply names the reason", async () => {
  const rec = recorder();
  const conn = await rec.dial();
  const peer = await rec.accept();
  const dP = make().connect(conn, "tcp", "127.0.0.1:9", { log });
  await peer.read(13);
  await peer.write("0500" + "05050001000000000000");
  await assert.rejects(dP, /connection refused/);
  peer.conn.close();
  rec.close();
});
