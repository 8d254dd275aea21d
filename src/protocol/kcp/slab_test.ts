import assert from "node:assert/strict";
import { Slab, SLAB_BLOCK } from "./slab.ts";

Deno.test("kcp slab: views never overlap, stay 8-byte aligned, and a full block starts a new one", () => {
  const slab = new Slab();
  const views: Uint8Array[] = [];
  for (let i = 0; i < 100; i++) {
    const v = slab.take(1 + (i * 131) % 1500);
    assert.equal(v.byteOffset % 8, 0);
    v.fill(i);
    views.push(v);
  }
  views.forEach((v, i) => assert.ok(v.every((b) => b === i), `view ${i} was overwritten`));
  const blocks = new Set(views.map((v) => v.buffer));
  assert.ok(blocks.size > 1 && blocks.size < 20);
  for (const v of views) assert.equal(v.buffer.byteLength, SLAB_BLOCK);
});

Deno.test("kcp slab: reserve/commit keeps only what was used; copy and oversized takes", () => {
  const slab = new Slab();
  const room = slab.reserve(2048);
  assert.equal(room.length, 2048);
  room.set([1, 2, 3]);
  slab.commit(3);
  const next = slab.take(8);
  assert.equal(next.byteOffset, room.byteOffset + 8);
  assert.deepEqual(room.subarray(0, 3), new Uint8Array([1, 2, 3]));
  const c = slab.copy(new Uint8Array([9, 8, 7]));
  assert.deepEqual(c, new Uint8Array([9, 8, 7]));
  assert.equal(slab.take(SLAB_BLOCK + 1).length, SLAB_BLOCK + 1);
  assert.throws(() => slab.reserve(SLAB_BLOCK + 1), RangeError);
});
