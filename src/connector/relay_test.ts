import assert from "node:assert/strict";
import { writeTo } from "../core/duplex.ts";
import { RelayConnector, relayConnectorOptions } from "./relay.ts";
import { quietLog as log, recorder, toHex } from "../../tests/_recorder.ts";

const enc = new TextEncoder();
const dec = new TextDecoder();
const auth = { username: "user", password: "pass" };
const connector = (nodelay: boolean, withAuth = true, headerDelay?: string) =>
  new RelayConnector(
    { path: "t", nodeAddr: "127.0.0.1:1", metadata: {}, auth: withAuth ? auth : undefined, log },
    { ...relayConnectorOptions.parse(headerDelay === undefined ? {} : { headerDelay }, "t"), nodelay },
  );
const HEADER = "0101001701000a04757365720470617373020007017f000001";

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

Deno.test("relay connector, nodelay=false: a reading client's first write still carries the header", async () => {
  const rec = recorder();
  const conn = await rec.dial();
  const peer = await rec.accept();
  const d = await connector(false).connect(conn, "tcp", "127.0.0.1:17102", { log });
  const r = d.readable.getReader();
  const first = r.read();
  await writeTo(d, enc.encode("hello"));
  assert.equal(toHex(await peer.read(32)), HEADER + "42ce68656c6c6f");
  await peer.write("01000000776f726c64");
  assert.equal(dec.decode((await first).value), "world");
  d.close();
  peer.conn.close();
  rec.close();
});

// Unlike gost, which would wait for the client's first byte for ever.
Deno.test("relay connector, nodelay=false: a client that only reads gets its request sent alone after headerDelay (server-first protocols)", async () => {
  const rec = recorder();
  const conn = await rec.dial();
  const peer = await rec.accept();
  const d = await connector(false, true, "150ms").connect(conn, "tcp", "127.0.0.1:17102", { log });
  const t0 = performance.now();
  const banner = readChunk(d);
  assert.equal(toHex(await peer.read(27)), HEADER + "42ce");
  const waited = performance.now() - t0;
  assert.ok(waited >= 140 && waited < 1500, `request sent after ${waited.toFixed(0)} ms`);
  await peer.write("01000000" + toHex(enc.encode("220 banner\r\n")));
  assert.equal(await banner, "220 banner\r\n");
  // Later writes follow the request as they are.
  await writeTo(d, enc.encode("QUIT"));
  assert.equal(dec.decode((await peer.read(31)).subarray(27)), "QUIT");
  d.close();
  peer.conn.close();
  rec.close();
});

// Unlike gost, which waits for the response before it forwards any data: a server holding
// its OK until the target speaks would deadlock a client-first protocol.
Deno.test("relay connector, nodelay=true: data goes through before the response has come", async () => {
  const rec = recorder();
  const conn = await rec.dial();
  const peerP = rec.accept();
  const d = await connector(true).connect(conn, "tcp", "127.0.0.1:17122", { log });
  const peer = await peerP;
  await writeTo(d, enc.encode("GET"));
  assert.equal(toHex(await peer.read(30)), HEADER + "42e2" + "474554");
  await peer.write("01000000776f726c64");
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

Deno.test("relay connector, UDP nodelay=true: header at connect, a datagram before the response", async () => {
  const rec = recorder();
  const conn = await rec.dial();
  const peerP = rec.accept();
  const d = await connector(true, false).connect(conn, "udp", "127.0.0.1:17152", { log });
  const peer = await peerP;
  const w = d.writable.getWriter();
  await w.write(enc.encode("hello"));
  assert.equal(toHex(await peer.read(26)), "0181000f0400020001020007017f0000014300000568656c6c6f");
  await peer.write("010000000005776f726c64");
  const r = d.readable.getReader();
  assert.equal(dec.decode((await r.read()).value), "world");
  d.close();
  peer.conn.close();
  rec.close();
});
