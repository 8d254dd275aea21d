import assert from "node:assert/strict";
import { writeTo } from "../core/duplex.ts";
import { RelayConnector, relayConnectorOptions } from "./relay.ts";
import { quietLog as log, recorder, toHex } from "../../tests/_recorder.ts";

const enc = new TextEncoder();
const dec = new TextDecoder();
const auth = { username: "user", password: "pass" };
const connector = (nodelay: boolean, withAuth = true) =>
  new RelayConnector(
    { path: "t", nodeAddr: "127.0.0.1:1", metadata: {}, auth: withAuth ? auth : undefined, log },
    { ...relayConnectorOptions.parse({}, "t"), nodelay },
  );

async function readChunk(d: { readable: ReadableStream<Uint8Array> }): Promise<string> {
  const r = d.readable.getReader();
  const x = await r.read();
  r.releaseLock();
  return dec.decode(x.value);
}

// Behaviour and bytes captured from real gost 3.2.6 (relay connector and server).
Deno.test("relay connector, nodelay=false: nothing sent before data, then header+payload in one write (relay-connector-tcp-nodelay-default)", async () => {
  const rec = recorder();
  const conn = await rec.dial();
  const peer = await rec.accept();
  const d = await connector(false).connect(conn, "tcp", "127.0.0.1:17102", { log });
  assert.equal((await peer.read(1, 200)).length, 0);
  await writeTo(d, enc.encode("hello"));
  const got = await peer.read(32);
  assert.equal(toHex(got), "0101001701000a04757365720470617373020007017f00000142ce68656c6c6f");
  await peer.write("01000000776f726c64");
  assert.equal(await readChunk(d), "world");
  d.close();
  peer.conn.close();
  rec.close();
});

Deno.test("relay connector, nodelay=true: header alone at connect; coalesced response keeps the extra bytes", async () => {
  const rec = recorder();
  const conn = await rec.dial();
  const peerP = rec.accept();
  const dP = connector(true).connect(conn, "tcp", "127.0.0.1:17122", { log });
  const peer = await peerP;
  assert.equal(toHex(await peer.read(27)), "0101001701000a04757365720470617373020007017f00000142e2");
  await peer.write("01000000776f726c64");
  const d = await dP;
  assert.equal(await readChunk(d), "world");
  d.close();
  peer.conn.close();
  rec.close();
});

Deno.test("relay connector: a refusal (0x02) fails the first read with a clear error", async () => {
  const rec = recorder();
  const conn = await rec.dial();
  const peer = await rec.accept();
  const d = await connector(false).connect(conn, "tcp", "127.0.0.1:17132", { log });
  await writeTo(d, enc.encode("hello"));
  await peer.read(32);
  await peer.write("01020000");
  await assert.rejects(readChunk(d), /Unauthorized/);
  d.close();
  peer.conn.close();
  rec.close();
});

Deno.test("relay connector, UDP: [Network][Addr] with CMD 0x81, first datagram appended, LEN framing (relay-connector-udp)", async () => {
  const rec = recorder();
  const conn = await rec.dial();
  const peer = await rec.accept();
  const d = await connector(false, false).connect(conn, "udp", "127.0.0.1:17152", { log });
  assert.equal(d.datagram, true);
  const w = d.writable.getWriter();
  await w.write(enc.encode("hello"));
  assert.equal(toHex(await peer.read(26)), "0181000f0400020001020007017f0000014300000568656c6c6f");
  await peer.write("010000000005776f726c64");
  const r = d.readable.getReader();
  assert.equal(dec.decode((await r.read()).value), "world");
  await w.write(enc.encode("second"));
  assert.equal(toHex((await peer.read(34)).subarray(26)), "00067365636f6e64");
  d.close();
  peer.conn.close();
  rec.close();
});
