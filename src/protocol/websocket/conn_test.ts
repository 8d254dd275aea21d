import assert from "node:assert/strict";
import { concat } from "../../core/bytes.ts";
import { duplexPair } from "../../core/pipe.ts";
import { writeTo } from "../../core/duplex.ts";
import { socketDuplex } from "../../core/socket.ts";
import { encodeFrame, Opcode, parseFrameHeader } from "./frame.ts";
import { WebSocketIO } from "./conn.ts";
import { acceptWebSocket, connectWebSocket } from "./upgrade.ts";

function random(n: number): Uint8Array {
  const out = new Uint8Array(n);
  for (let off = 0; off < n; off += 65536) crypto.getRandomValues(out.subarray(off, off + 65536));
  return out;
}

async function readAll(
  io: { read(b: Uint8Array): Promise<number | null> },
  max = 1 << 24,
): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  let total = 0;
  const buf = new Uint8Array(7000); // not a multiple of any frame size: exercises splitting
  for (;;) {
    const n = await io.read(buf);
    if (n === null) break;
    parts.push(buf.slice(0, n));
    total += n;
    if (total > max) throw new Error("too much");
  }
  return concat(parts);
}

Deno.test("websocket: upgrade over a pipe, then bytes both ways with half-close", async () => {
  const [a, b] = duplexPair();
  const [client, server] = await Promise.all([
    connectWebSocket(a, { host: "x:1", path: "/ws" }),
    acceptWebSocket(b, { path: "/ws" }),
  ]);
  const up = random(600_000);
  const down = random(300_001);
  const sending = (async () => {
    await client.direct!.write(up);
    await client.direct!.closeWrite();
  })();
  const got = await readAll(server.direct!);
  assert.deepEqual(got, up);
  // The server side may still write after reading end of stream (half-close).
  const answering = (async () => {
    await server.direct!.write(down);
    await server.direct!.closeWrite();
  })();
  assert.deepEqual(await readAll(client.direct!), down);
  await answering;
  await sending;
  client.close();
  server.close();
});

Deno.test("websocket: frames split at every byte are reassembled; pings are answered", async () => {
  const [a, b] = duplexPair();
  const ws = new WebSocketIO(a.direct!, { client: true });
  const mask = null;
  const wire = [
    encodeFrame(Opcode.BINARY, new TextEncoder().encode("hello "), mask),
    encodeFrame(Opcode.PING, new TextEncoder().encode("p1"), mask),
    encodeFrame(Opcode.BINARY, new Uint8Array(0), mask),
    encodeFrame(Opcode.TEXT, new TextEncoder().encode("world"), mask),
    encodeFrame(Opcode.CLOSE, Uint8Array.of(3, 232), mask),
    encodeFrame(Opcode.BINARY, new TextEncoder().encode("ignored after close"), mask),
  ];
  const feeding = (async () => {
    for (const f of wire) for (const byte of f) await writeTo(b, Uint8Array.of(byte));
  })();
  const text = new TextDecoder().decode(await readAll(ws));
  assert.equal(text, "hello world");
  await feeding;
  // The pong went back masked, with the ping's payload.
  const buf = new Uint8Array(64);
  const n = (await b.direct!.read(buf))!;
  const h = parseFrameHeader(buf.subarray(0, n))!;
  assert.equal(h.opcode, Opcode.PONG);
  assert.ok(h.mask);
  const payload = buf.slice(h.headerLength, h.headerLength + h.length).map((x, i) => x ^ h.mask![i & 3]);
  assert.equal(new TextDecoder().decode(payload), "p1");
  a.close();
  b.close();
});

Deno.test("websocket: a server refuses unmasked client frames, a client masked server frames", async () => {
  for (const client of [false, true]) {
    const [a, b] = duplexPair();
    const ws = new WebSocketIO(a.direct!, { client });
    await writeTo(b, encodeFrame(Opcode.BINARY, Uint8Array.of(1), client ? Uint8Array.of(1, 2, 3, 4) : null));
    await assert.rejects(() => ws.read(new Uint8Array(10)), /masked/);
    a.close();
    b.close();
  }
});

Deno.test("websocket: end of stream inside a frame is an error, between frames a clean end", async () => {
  const [a, b] = duplexPair();
  const ws = new WebSocketIO(a.direct!, { client: true });
  await writeTo(b, encodeFrame(Opcode.BINARY, Uint8Array.of(1, 2, 3)).subarray(0, 4));
  await b.direct!.closeWrite();
  const buf = new Uint8Array(10);
  assert.equal(await ws.read(buf), 2);
  await assert.rejects(() => ws.read(buf), /inside a frame/);
  const [c, d] = duplexPair();
  const ws2 = new WebSocketIO(c.direct!, { client: true });
  await d.direct!.closeWrite();
  assert.equal(await ws2.read(buf), null);
  for (const x of [a, b, c, d]) x.close();
});

Deno.test("websocket: a wrong path gets 404 and the upgrade fails on both ends", async () => {
  const [a, b] = duplexPair();
  const [c, s] = await Promise.allSettled([
    connectWebSocket(a, { host: "x", path: "/nope" }),
    acceptWebSocket(b, { path: "/ws" }),
  ]);
  assert.equal(c.status, "rejected");
  assert.match(String((c as PromiseRejectedResult).reason), /404/);
  assert.equal(s.status, "rejected");
  a.close();
  b.close();
});

Deno.test("websocket: keepalive pings go out at the interval", async () => {
  const [a, b] = duplexPair();
  const ws = new WebSocketIO(a.direct!, { client: true, pingInterval: 20 });
  // The ping timer does not keep a process alive (unref'd): hold the test's event loop open.
  const keep = setTimeout(() => {}, 5000);
  const buf = new Uint8Array(64);
  const n = (await b.direct!.read(buf))!;
  clearTimeout(keep);
  assert.equal(parseFrameHeader(buf.subarray(0, n))!.opcode, Opcode.PING);
  ws.stop();
  a.close();
  b.close();
});

Deno.test({
  name: "websocket: closing after the Close handshake reads the peer's trailing bytes first (no reset)",
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    // Over real TCP: a socket closed with unread bytes in its receive queue makes the kernel
    // send a reset and drop its unsent queue, so the peer loses the end of what we wrote.
    // Here the peer's trailer (as a TLS close_notify follows a Close frame) arrives after
    // our read ended at its Close frame, while most of our answer is still queued.
    const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    const clientConn = await Deno.connect({ hostname: "127.0.0.1", port: listener.addr.port });
    const serverConn = await listener.accept();
    listener.close();
    const [client, server] = await Promise.all([
      connectWebSocket(socketDuplex(clientConn), { host: "x:1", path: "/ws" }),
      acceptWebSocket(socketDuplex(serverConn), { path: "/ws" }),
    ]);
    const answer = random(2 << 20);
    // The client reads nothing yet: the answer waits in the server's send queue.
    const receiving = new Promise<Uint8Array>((resolve) =>
      setTimeout(() => resolve(readAll(client.direct!)), 300)
    );
    await server.direct!.write(answer);
    await server.direct!.closeWrite();
    // The client's Close frame ends the server's reading; then come trailing bytes.
    await clientConn.write(encodeFrame(Opcode.CLOSE, Uint8Array.of(3, 232), Uint8Array.of(1, 2, 3, 4)));
    assert.equal(await server.direct!.read(new Uint8Array(16)), null);
    await clientConn.write(Uint8Array.of(0x15, 0x03, 0x03, 0x00, 0x02, 0x01, 0x00));
    await new Promise((r) => setTimeout(r, 100)); // the trailer is in the server's receive queue
    server.close(); // what relay() does once both directions ended
    const got = await receiving.catch((err) => err);
    assert.ok(got instanceof Uint8Array, `the client's read failed: ${got}`);
    assert.equal(got.length, answer.length);
    assert.deepEqual(got, answer);
    await clientConn.closeWrite().catch(() => {});
    client.close();
  },
});
