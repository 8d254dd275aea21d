import assert from "node:assert/strict";
import { directIO, streamIO, writeHalf } from "./direct_io.ts";
import type { Duplex } from "./duplex.ts";

function pipePair(chunks: Uint8Array[]) {
  const written: Uint8Array[] = [];
  let closed = false;
  const readable = new ReadableStream<Uint8Array>({
    start(c) {
      for (const chunk of chunks) c.enqueue(chunk);
      c.close();
    },
  });
  const writable = new WritableStream<Uint8Array>({
    write(chunk) {
      written.push(chunk);
    },
    close() {
      closed = true;
    },
  });
  return { readable, writable, written, isClosed: () => closed };
}

Deno.test("streamIO: reads split a chunk across small buffers, then end", async () => {
  const p = pipePair([new Uint8Array([1, 2, 3, 4, 5]), new Uint8Array([6])]);
  const io = streamIO(p.readable, p.writable);
  const buf = new Uint8Array(2);
  const got: number[] = [];
  for (let n = await io.read(buf); n !== null; n = await io.read(buf)) got.push(...buf.subarray(0, n));
  assert.deepEqual(got, [1, 2, 3, 4, 5, 6]);
});

Deno.test("streamIO: write hands the stream a copy; closeWrite closes once and tolerates twice", async () => {
  const p = pipePair([]);
  const io = streamIO(p.readable, p.writable);
  const data = new Uint8Array([7, 8]);
  await io.write(data);
  data[0] = 0;
  assert.deepEqual([...p.written[0]], [7, 8]);
  await io.closeWrite();
  await io.closeWrite();
  assert.equal(p.isClosed(), true);
});

Deno.test("directIO: prefers the duplex's own direct path", () => {
  const direct = {
    read: () => Promise.resolve(null),
    write: () => Promise.resolve(),
    closeWrite: () => Promise.resolve(),
  };
  const p = pipePair([]);
  const d = { readable: p.readable, writable: p.writable, direct } as unknown as Duplex;
  assert.equal(directIO(d), direct);
});

Deno.test("writeHalf: the direct path while there is one, else a writer whose close tolerates twice", async () => {
  const direct = {
    read: () => Promise.resolve(null),
    write: () => Promise.resolve(),
    closeWrite: () => Promise.resolve(),
  };
  const p = pipePair([]);
  assert.equal(
    writeHalf({ readable: p.readable, writable: p.writable, direct } as unknown as Duplex),
    direct,
  );
  const half = writeHalf({ readable: p.readable, writable: p.writable } as unknown as Duplex);
  await half.write(new Uint8Array([1, 2]));
  await half.closeWrite();
  await half.closeWrite();
  assert.deepEqual([...p.written[0]], [1, 2]);
  assert.equal(p.isClosed(), true);
});
