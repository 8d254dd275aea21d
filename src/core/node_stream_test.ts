import assert from "node:assert/strict";
import { SOURCE_END, toNodeStream } from "./node_stream.ts";
import { streamDuplex } from "./duplex.ts";

Deno.test("toNodeStream: reads the duplex in order, sees the first chunk, writes through, ends", async () => {
  const written: number[] = [];
  let writeClosed = false;
  const d = streamDuplex({
    readable: new ReadableStream<Uint8Array>({
      start(c) {
        c.enqueue(new Uint8Array([1, 2]));
        c.enqueue(new Uint8Array(0));
        c.enqueue(new Uint8Array([3]));
        c.close();
      },
    }),
    writable: new WritableStream<Uint8Array>({
      write(chunk) {
        written.push(...chunk);
      },
      close() {
        writeClosed = true;
      },
    }),
    close: () => {},
    local: "",
    remote: "",
  });
  let first: number[] = [];
  const s = toNodeStream(d, { allowHalfOpen: true, onFirstChunk: (c) => first = [...c] });
  let sawSourceEnd = false;
  s.once(SOURCE_END, () => sawSourceEnd = true);
  await new Promise<void>((resolve, reject) =>
    s.write(new Uint8Array([9]), (e) => e ? reject(e) : resolve())
  );
  await new Promise<void>((resolve) => s.end(() => resolve()));
  assert.deepEqual(written, [9]);
  assert.equal(writeClosed, true);
  const got: number[] = [];
  for await (const chunk of s) got.push(...chunk); // the iterator destroys the stream at the end
  assert.deepEqual(got, [1, 2, 3]);
  assert.deepEqual(first, [1, 2]);
  assert.equal(sawSourceEnd, true);
});
