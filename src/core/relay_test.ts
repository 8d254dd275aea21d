import assert from "node:assert/strict";
import { type Duplex, streamDuplex } from "./duplex.ts";
import { Logger } from "./log.ts";
import { relay, relayRecorded } from "./relay.ts";
import type { ConnRecord } from "./types.ts";
import { socketDuplex } from "./socket.ts";
import { tcpPair as socketPair } from "../../tests/_helpers.ts";

async function readAll(c: Deno.Conn): Promise<Uint8Array> {
  const parts: number[] = [];
  const buf = new Uint8Array(65536);
  for (;;) {
    const n = await c.read(buf);
    if (n === null) return new Uint8Array(parts);
    for (let i = 0; i < n; i++) parts.push(buf[i]);
  }
}

/** A duplex forced onto the Web Streams path (no direct access). */
function streamsOnly(conn: Deno.TcpConn): Duplex {
  const d = socketDuplex(conn);
  return streamDuplex({ readable: d.readable, writable: d.writable, close: () => d.close() });
}

for (const mode of ["direct", "streams"] as const) {
  Deno.test(`relay (${mode}): bytes intact both ways and half-close carried through`, async () => {
    const [client, clientSide] = await socketPair();
    const [targetSide, target] = await socketPair();
    const a = mode === "direct" ? socketDuplex(clientSide) : streamsOnly(clientSide);
    const b = mode === "direct" ? socketDuplex(targetSide) : streamsOnly(targetSide);
    const done = relay(a, b);
    const payload = new Uint8Array(1_000_000).map((_, i) => i * 7);
    // The client sends everything and half-closes; the target answers only after EOF.
    const clientWrite = (async () => {
      let off = 0;
      while (off < payload.length) off += await client.write(payload.subarray(off));
      await client.closeWrite();
    })();
    const atTarget = await readAll(target);
    assert.deepEqual(atTarget, payload);
    const answer = new TextEncoder().encode("the whole answer after the client's EOF");
    await target.write(answer);
    await target.closeWrite();
    assert.deepEqual(await readAll(client), answer);
    await clientWrite;
    const stats = await done;
    assert.equal(stats.inputBytes, payload.length);
    assert.equal(stats.outputBytes, answer.length);
    client.close();
    target.close();
  });
}

Deno.test("relay: when one side fails both are closed", async () => {
  const [client, clientSide] = await socketPair();
  const [targetSide, target] = await socketPair();
  const a = socketDuplex(clientSide);
  const b = socketDuplex(targetSide);
  const done = relay(a, b);
  await client.write(new Uint8Array([1, 2, 3]));
  const buf = new Uint8Array(3);
  await target.read(buf);
  // The target goes away entirely; the client keeps writing, so the relay's write toward the
  // target fails (connection reset) and both sides must be closed, ending the client too.
  target.close();
  const writer = (async () => {
    try {
      for (let i = 0; i < 1000; i++) {
        await client.write(new Uint8Array(1024));
        await new Promise((r) => setTimeout(r, 2));
      }
    } catch {
      // expected: the relay closed the client side
    }
  })();
  const rest = await readAll(client).catch(() => new Uint8Array());
  assert.equal(rest.length, 0);
  await done;
  await writer;
  assert.equal(a.closed, true);
  assert.equal(b.closed, true);
  client.close();
});

Deno.test("relay: an abort signal closes both sides", async () => {
  const [client, clientSide] = await socketPair();
  const [targetSide, target] = await socketPair();
  const ac = new AbortController();
  const done = relay(socketDuplex(clientSide), socketDuplex(targetSide), { signal: ac.signal });
  ac.abort();
  await done;
  assert.equal((await readAll(client).catch(() => new Uint8Array())).length, 0);
  client.close();
  target.close();
});

Deno.test("relayRecorded: the byte counts land in the handler's log record", async () => {
  const [client, clientSide] = await socketPair();
  const [targetSide, target] = await socketPair();
  const ctx = {
    log: new Logger({ level: "error", format: "json", sink: () => {} }),
    record: {} as ConnRecord,
    signal: new AbortController().signal,
  };
  const running = relayRecorded(socketDuplex(clientSide), socketDuplex(targetSide), ctx);
  await client.write(new Uint8Array(5));
  await client.closeWrite();
  assert.equal((await readAll(target)).length, 5);
  await target.write(new Uint8Array(3));
  await target.closeWrite();
  assert.equal((await readAll(client)).length, 3);
  const stats = await running;
  assert.deepEqual(ctx.record, { inputBytes: 5, outputBytes: 3 });
  assert.deepEqual(stats, { inputBytes: 5, outputBytes: 3 });
  client.close();
  target.close();
});

Deno.test("ChunkPump: small reads are copied out of one reused buffer, full reads grow it", async () => {
  const { ChunkPump, MIN_READ, MAX_READ } = await import("./duplex.ts");
  const sizes = [10, 10, MIN_READ, MIN_READ * 4, MIN_READ * 16, MAX_READ, MAX_READ, 3];
  const seen: number[] = [];
  const pump = new ChunkPump({
    read(buf) {
      const n = sizes.shift();
      if (n === undefined) return Promise.resolve(null);
      seen.push(buf.length);
      buf.fill(7, 0, Math.min(n, buf.length));
      return Promise.resolve(Math.min(n, buf.length));
    },
    write: () => Promise.resolve(),
    closeWrite: () => Promise.resolve(),
  });
  const chunks: Uint8Array[] = [];
  for (let c = await pump.next(); c; c = await pump.next()) chunks.push(c);
  assert.deepEqual(seen, [
    MIN_READ,
    MIN_READ,
    MIN_READ,
    MIN_READ * 4,
    MIN_READ * 16,
    MAX_READ,
    MAX_READ,
    MAX_READ,
  ]);
  assert.equal(
    chunks[0].buffer === chunks[1].buffer,
    false,
    "small chunks are copies, not views of the reused buffer",
  );
  assert.equal(chunks[0].buffer.byteLength, 10);
  assert.deepEqual(chunks.map((c) => c.length), [
    10,
    10,
    MIN_READ,
    MIN_READ * 4,
    MIN_READ * 16,
    MAX_READ,
    MAX_READ,
    3,
  ]);
});

Deno.test("copy (socket to socket): the buffer grows while reads fill it, to RELAY_MAX_READ, and shrinks when quiet", async () => {
  const { MIN_READ, IODuplex } = await import("./duplex.ts");
  const { copy, RELAY_MAX_READ } = await import("./relay.ts");
  // Bytes each read delivers (capped by the buffer offered): a burst, then a quiet spell, then a burst.
  const script = [1e9, 1e9, 1e9, 1e9, 1e9, 1e9, 100, 20_000, 5, 5, 5, 5, 5, 1e9, 3];
  const offered: number[] = [];
  let written = 0;
  const src = new IODuplex({
    read(buf) {
      const n = script.shift();
      if (n === undefined) return Promise.resolve(null);
      offered.push(buf.length);
      return Promise.resolve(Math.min(n, buf.length));
    },
    write: () => Promise.resolve(),
    closeWrite: () => Promise.resolve(),
  }, () => {});
  const dst = new IODuplex({
    read: () => Promise.resolve(null),
    write: (b) => {
      written += b.length;
      return Promise.resolve();
    },
    closeWrite: () => Promise.resolve(),
  }, () => {});
  let counted = 0;
  await copy(src, dst, (n) => counted += n);
  const K = MIN_READ;
  assert.equal(RELAY_MAX_READ, 256 * K);
  assert.deepEqual(offered, [
    K,
    4 * K,
    16 * K,
    64 * K,
    256 * K,
    256 * K, // grows ×4 while full, capped
    256 * K,
    256 * K, // a small read, then a mid-size one: no shrinking yet
    256 * K,
    256 * K,
    256 * K,
    256 * K, // four small reads in a row…
    K, // …give the buffer back
    K,
    4 * K, // and it grows again
  ]);
  assert.equal(written, counted);
});

Deno.test("relay (direct): pooled read buffers carry nothing from one connection into the next", async () => {
  // Each connection's bytes are distinct and shorter than the last, so a buffer handed on with
  // stale bytes beyond what its reads wrote would show them.
  for (let i = 0; i < 8; i++) {
    const [client, clientSide] = await socketPair();
    const [targetSide, target] = await socketPair();
    const done = relay(socketDuplex(clientSide), socketDuplex(targetSide));
    const payload = new Uint8Array(3000 - i * 300).fill(65 + i);
    await client.write(payload);
    await client.closeWrite();
    assert.deepEqual(await readAll(target), payload, `connection ${i}`);
    await target.write(payload.subarray(0, 10));
    await target.closeWrite();
    assert.deepEqual(await readAll(client), payload.subarray(0, 10));
    await done;
    client.close();
    target.close();
  }
});
