import { equal, ok } from "node:assert/strict";
import { type DirectIO, IODuplex, streamDuplex } from "../core/duplex.ts";
import { relay } from "../core/relay.ts";
import { Throttle, TokenBucket } from "./bucket.ts";
import { limitDuplex } from "./limited.ts";

/** An endless source and a counting sink, as a socket's direct path. */
function fakeSocket(limit = Infinity): DirectIO & { written: number; reads: number } {
  let left = limit;
  const io = {
    written: 0,
    reads: 0,
    read(buf: Uint8Array) {
      io.reads++;
      if (left <= 0) return Promise.resolve(null);
      const n = Math.min(buf.length, left);
      left -= n;
      return Promise.resolve(n);
    },
    write(data: Uint8Array) {
      io.written += data.length;
      return Promise.resolve();
    },
    closeWrite: () => Promise.resolve(),
  };
  return io;
}

const throttle = (rate: number) => new Throttle([new TokenBucket(rate)]);

Deno.test("limited: without a throttle the connection is returned as it is", () => {
  const conn = new IODuplex(fakeSocket(), () => {});
  equal(limitDuplex(conn, null, null), conn);
});

Deno.test("limited: a socket keeps its direct path, reads are cut to one step and paced", async () => {
  const sock = fakeSocket(150_000);
  const conn = limitDuplex(new IODuplex(sock, () => {}), throttle(100_000), null);
  ok(conn.direct, "direct path kept");
  const buf = new Uint8Array(64 * 1024);
  const t0 = performance.now();
  let got = 0;
  for (let n = await conn.direct!.read(buf); n !== null; n = await conn.direct!.read(buf)) {
    ok(n <= 5000, `one step (50 ms of 100 kB/s), got ${n}`);
    got += n;
  }
  const s = (performance.now() - t0) / 1000;
  equal(got, 150_000);
  // 100 kB burst at once, the other 50 kB at 100 kB/s.
  ok(s > 0.4 && s < 0.7, `${s}s`);
});

Deno.test("limited: writes are paced and written in full, through relay's direct loop", async () => {
  const src = fakeSocket(120_000);
  const dst = fakeSocket(0);
  const client = limitDuplex(new IODuplex(dst, () => {}), null, throttle(100_000));
  const t0 = performance.now();
  const stats = await relay(client, new IODuplex(src, () => {}));
  const s = (performance.now() - t0) / 1000;
  equal(stats.outputBytes, 120_000);
  equal(dst.written, 120_000);
  ok(s > 0.15 && s < 0.4, `${s}s`);
});

Deno.test("limited: a stream duplex is paced per chunk, a datagram stays whole", async () => {
  const chunks: Uint8Array[] = [];
  const inner = streamDuplex({
    readable: new ReadableStream({
      start(c) {
        for (let i = 0; i < 3; i++) c.enqueue(new Uint8Array(4000));
        c.close();
      },
    }),
    writable: new WritableStream({ write: (c) => void chunks.push(c) }),
    close: () => {},
    datagram: true,
  });
  const conn = limitDuplex(inner, throttle(4000), throttle(4000));
  equal(conn.direct, undefined);
  equal(conn.datagram, true);
  const t0 = performance.now();
  const sizes: number[] = [];
  for await (const c of conn.readable) sizes.push(c.length);
  const s = (performance.now() - t0) / 1000;
  equal(sizes.join(), "4000,4000,4000"); // datagrams are not cut into steps
  ok(s > 1.7 && s < 2.5, `${s}s`); // burst 4000, then 8000 at 4000/s
  const w = conn.writable.getWriter();
  await w.write(new Uint8Array(100));
  await w.close();
  equal(chunks.length, 1);
});

Deno.test("limited: closing cuts a pending wait short and runs onClose once", async () => {
  let closes = 0, innerClosed = 0;
  const t = throttle(1000);
  const conn = limitDuplex(new IODuplex(fakeSocket(), () => innerClosed++), t, null, () => closes++);
  t.reserve(10_000); // ten seconds of debt
  const t0 = performance.now();
  const waited = conn.direct!.read(new Uint8Array(50)).then(() => performance.now() - t0);
  setTimeout(() => {
    conn.close();
    conn.close();
  }, 50);
  ok((await waited) < 1000);
  equal(closes, 1);
  equal(innerClosed, 1);
});
