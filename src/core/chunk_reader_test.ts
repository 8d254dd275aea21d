import assert from "node:assert/strict";
import { ChunkReader } from "./chunk_reader.ts";
import { duplexPair } from "./pipe.ts";
import { streamDuplex } from "./duplex.ts";
import { UnexpectedEOF } from "./buffered_reader.ts";

function chunkSource(chunks: number[][]) {
  return streamDuplex({
    readable: ReadableStream.from(chunks.map((c) => new Uint8Array(c))),
    writable: new WritableStream(),
    close() {},
  });
}

Deno.test("ChunkReader (streams): fields straddling chunks are joined, the rest stays a view", async () => {
  const r = new ChunkReader(chunkSource([[1, 2, 3], [4, 5, 6, 7, 8, 9], [10]]));
  assert.deepEqual([...(await r.read(2))!], [1, 2]);
  assert.deepEqual([...(await r.read(3))!], [3, 4, 5]);
  assert.deepEqual([...r.take(2)!], [6, 7]);
  assert.equal(r.take(3), null);
  assert.deepEqual([...(await r.read(3))!], [8, 9, 10]);
  assert.equal(await r.read(1), null);
});

Deno.test("ChunkReader (streams): EOF in the middle of a field throws", async () => {
  const r = new ChunkReader(chunkSource([[1, 2, 3]]));
  await assert.rejects(() => r.read(5, "thing"), UnexpectedEOF);
});

Deno.test("ChunkReader (direct): returned views are never overwritten by later reads", async () => {
  const [a, b] = duplexPair();
  const r = new ChunkReader(b);
  const kept: Uint8Array[] = [];
  const writing = (async () => {
    for (let i = 0; i < 300; i++) await a.direct!.write(new Uint8Array(1000).fill(i & 0xff));
    await a.direct!.closeWrite();
  })();
  for (let i = 0; i < 300; i++) kept.push((await r.read(1000))!);
  assert.equal(await r.read(1), null);
  await writing;
  kept.forEach((v, i) => assert.ok(v.every((x) => x === (i & 0xff)), `view ${i} changed`));
  a.close();
  b.close();
});

Deno.test("ChunkReader (direct): a field larger than the read buffer", async () => {
  const [a, b] = duplexPair();
  const r = new ChunkReader(b);
  const big = new Uint8Array(70_000).map((_, i) => i & 0xff);
  const w = a.direct!.write(big);
  const got = (await r.read(70_000))!;
  await w;
  assert.deepEqual(got, big);
  a.close();
  b.close();
});
