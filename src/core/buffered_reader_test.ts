import assert from "node:assert/strict";
import { BufferedReader, prependIO, TooLong, UnexpectedEOF } from "./buffered_reader.ts";
import { connIO, tcpConnOf } from "./socket.ts";
import { tcpPair } from "../../tests/_helpers.ts";
import { type DirectIO, type Duplex, IODuplex, streamDuplex } from "./duplex.ts";

const enc = new TextEncoder();
const dec = new TextDecoder();

/** A direct-I/O duplex that yields `chunks` one read at a time. */
function directFrom(chunks: string[]): IODuplex {
  const queue = chunks.map((c) => enc.encode(c));
  const io: DirectIO = {
    read(buf) {
      const c = queue.shift();
      if (!c) return Promise.resolve(null);
      const n = Math.min(c.length, buf.length);
      buf.set(c.subarray(0, n));
      if (n < c.length) queue.unshift(c.subarray(n));
      return Promise.resolve(n);
    },
    write: () => Promise.resolve(),
    closeWrite: () => Promise.resolve(),
  };
  return new IODuplex(io, () => {});
}

function streamFrom(chunks: string[]): Duplex {
  return streamDuplex({
    readable: ReadableStream.from(chunks.map((c) => enc.encode(c))),
    writable: new WritableStream(),
    close: () => {},
  });
}

async function drain(d: Duplex): Promise<string> {
  let out = "";
  for await (const c of d.readable) out += dec.decode(c);
  return out;
}

for (const [kind, make] of [["direct", directFrom], ["stream", streamFrom]] as const) {
  Deno.test(`BufferedReader (${kind}): fields across read boundaries, then the rest in order`, async () => {
    const r = new BufferedReader(make(["CON", "NECT x HTTP/1.1\r\n", "Host: x\r\n\r\nbody-", "rest"]));
    const head = await r.readUntil(enc.encode("\r\n\r\n"), 1024);
    assert.equal(dec.decode(head), "CONNECT x HTTP/1.1\r\nHost: x\r\n\r\n");
    assert.equal(dec.decode(await r.readExact(2)), "bo");
    const d = r.release();
    assert.equal(await drain(d), "dy-rest");
  });

  Deno.test(`BufferedReader (${kind}): EOF and bounds are errors that say so`, async () => {
    await assert.rejects(new BufferedReader(make(["ab"])).readExact(3, "greeting"), UnexpectedEOF);
    await assert.rejects(
      new BufferedReader(make(["x".repeat(100)])).readUntil(enc.encode("\n"), 50),
      TooLong,
    );
  });
}

Deno.test("BufferedReader keeps direct access after a handshake", async () => {
  const src = directFrom(["\x05\x01\x00", "payload"]);
  const r = new BufferedReader(src);
  assert.deepEqual([...await r.readExact(3)], [5, 1, 0]);
  const d = r.release();
  assert.ok(d.direct, "no stream layer was added");
  assert.strictEqual(d, src, "nothing over-read: the same duplex comes back");
});

Deno.test("BufferedReader reuses its buffer over a long stream of small fields", async () => {
  // 11-byte fields arriving in 1009-byte reads: a refill almost always finds a partial field in
  // the buffer (the two only line up every 11,099 bytes), so the buffer must compact in place
  // rather than double on every refill.
  const field = "abcdefghi\r\n";
  const all = field.repeat(50_000);
  const chunks = Array.from(
    { length: Math.ceil(all.length / 1009) },
    (_, i) => all.slice(i * 1009, i * 1009 + 1009),
  );
  const r = new BufferedReader(directFrom(chunks));
  for (let i = 0; i < 50_000; i++) assert.equal(dec.decode(await r.readUntil(enc.encode("\r\n"), 64)), field);
  assert.ok(r.capacity <= 8192, `capacity ${r.capacity}`);
});

Deno.test("prependIO: its socket shows through for writing at once, for reading once the prefix is read", async () => {
  const [a, b] = await tcpPair();
  try {
    const raw = connIO(b);
    assert.equal(tcpConnOf(raw, "read"), b);
    const io = prependIO(raw, new Uint8Array([1, 2, 3]));
    assert.equal(tcpConnOf(io, "write"), b);
    assert.equal(tcpConnOf(io, "read"), undefined, "the prefix is still to be read");
    const buf = new Uint8Array(2);
    assert.equal(await io.read(buf), 2);
    assert.equal(tcpConnOf(io, "read"), undefined);
    assert.equal(await io.read(buf), 1);
    assert.equal(tcpConnOf(io, "read"), b);
    // Nothing that wraps the socket without declaring itself shows it.
    assert.equal(
      tcpConnOf({ read: (x) => raw.read(x), write: raw.write, closeWrite: raw.closeWrite }, "read"),
      undefined,
    );
  } finally {
    a.close();
    b.close();
  }
});
